//! `lexsearch rerank --model DIR QUERY`: cross-encoder scores for passages on standard input.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use serde_json::Value;

use crate::embed::{CrossEncoder, DeviceSpec};

use super::{Outcome, parse_device};

/// Passages scored per call to the model, so that output starts before all input is read.
const PASSAGES_PER_ROUND: usize = 64;

/// Arguments of `lexsearch rerank`.
#[derive(Debug, Args)]
#[command(
    after_help = "Standard input: one passage per line, as a JSON object with a \"text\" \
string ({\"text\": \"...\"}), a JSON string, or plain text (blank lines are skipped). \
Standard output: one JSON line per passage, in input order: {\"index\": 0, \"score\": 0.93} \
(docs/json.md). The scores are what sentence-transformers' CrossEncoder.predict gives."
)]
pub(super) struct RerankCmdArgs {
    /// The query the passages are scored against.
    query: String,
    /// The cross-encoder folder (sentence-transformers CrossEncoder layout, e.g.
    /// cross-encoder/ms-marco-MiniLM-L6-v2), or ORG/NAME of one pulled by `lexsearch model pull`.
    #[arg(long, value_name = "DIR", value_parser = super::parse_model)]
    model: PathBuf,
    /// Where to run it: cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    pub(super) device: DeviceSpec,
    /// Pairs per forward pass (default 8 on the CPU, 64 on a GPU).
    #[arg(long, value_name = "N", value_parser = super::at_least_one)]
    batch_size: Option<usize>,
}

#[derive(Serialize)]
struct Scored {
    index: usize,
    score: f32,
}

/// A passage from one line of input: `{"text": ...}`, a JSON string, or the line itself.
/// `None` for a blank line.
fn passage(line: &str, number: usize) -> anyhow::Result<Option<String>> {
    let line = line.trim_end_matches(['\r', '\n']);
    let trimmed = line.trim_start();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.starts_with('{') {
        let v: Value = serde_json::from_str(trimmed)
            .with_context(|| format!("standard input line {number} is not valid JSON"))?;
        return match v.get("text").and_then(Value::as_str) {
            Some(t) => Ok(Some(t.to_string())),
            None => anyhow::bail!(
                "standard input line {number}: a JSON object needs a \"text\" string, e.g. {{\"text\": \"...\"}}"
            ),
        };
    }
    if trimmed.starts_with('"') {
        let s: String = serde_json::from_str(trimmed).with_context(|| {
            format!(
                "standard input line {number} starts with a quote but is not a JSON string; \
                 send it as {{\"text\": ...}} to keep the quote"
            )
        })?;
        return Ok(Some(s));
    }
    Ok(Some(line.to_string()))
}

pub(super) fn run(args: RerankCmdArgs) -> anyhow::Result<Outcome> {
    anyhow::ensure!(
        !args.query.trim().is_empty(),
        "empty query: give the question the passages are scored against"
    );
    let mut model = CrossEncoder::load(&args.model, args.device)?;
    if let Some(n) = args.batch_size {
        model.set_batch_size(n);
    }
    let stdin = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    let mut pending: Vec<String> = Vec::new();
    let mut next = 0;
    let mut flush =
        |pending: &mut Vec<String>, out: &mut std::io::StdoutLock| -> anyhow::Result<()> {
            let texts: Vec<&str> = pending.iter().map(String::as_str).collect();
            for score in model.score(&args.query, &texts)? {
                serde_json::to_writer(&mut *out, &Scored { index: next, score })?;
                writeln!(out)?;
                next += 1;
            }
            out.flush()?;
            pending.clear();
            Ok(())
        };
    for (i, line) in stdin.lines().enumerate() {
        let line = line.context("reading standard input")?;
        if let Some(p) = passage(&line, i + 1)? {
            pending.push(p);
        }
        if pending.len() == PASSAGES_PER_ROUND {
            flush(&mut pending, &mut out)?;
        }
    }
    if !pending.is_empty() {
        flush(&mut pending, &mut out)?;
    }
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passages_are_read_as_json_objects_json_strings_or_plain_lines() {
        let p = |l: &str| passage(l, 1).unwrap();
        assert_eq!(p(r#"{"text": "a \"b\""}"#).as_deref(), Some("a \"b\""));
        assert_eq!(p(r#""line\nbreak""#).as_deref(), Some("line\nbreak"));
        assert_eq!(
            p("plain text: {not json}\r\n").as_deref(),
            Some("plain text: {not json}")
        );
        assert_eq!(p("   "), None);
        let err = passage(r#"{"body": "x"}"#, 7).unwrap_err().to_string();
        assert!(err.contains("line 7") && err.contains("\"text\""), "{err}");
    }
}
