//! `lexsearch embed`: texts on standard input, one JSON line per text with its vector, from
//! the same encoder (model, prompts, pipeline) an index uses.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use serde_json::Value;

use super::{ModelArgs, Outcome, default_model_dir, load_model};

/// Texts read and embedded together (the encoder batches them further).
const CHUNK: usize = 64;

#[derive(Debug, Args)]
pub(super) struct EmbedArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Embed the texts as queries (with the model's query prompt) instead of as documents
    /// (with its document prompt, as the index does).
    #[arg(long, conflicts_with = "no_prompt")]
    query: bool,
    /// Embed the texts exactly as given, without the model's prompts.
    #[arg(long)]
    no_prompt: bool,
}

impl EmbedArgs {
    /// The model options (for choosing the thread layout before anything runs).
    pub(super) fn model(&self) -> &ModelArgs {
        &self.model
    }
}

/// One output line (docs/json.md).
#[derive(Serialize)]
struct Line<'a> {
    /// 0-based number of the text in the input (blank lines are not texts).
    index: usize,
    /// The input's `id`, when it was a JSON object with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Value>,
    /// Tokens the model saw, special tokens included.
    tokens: usize,
    /// Whether the text was cut at the model's max_seq_length.
    truncated: bool,
    /// The L2-normalised vector.
    vector: &'a [f32],
}

/// One input text: its words and, for a JSON object, its `id`.
#[derive(Debug)]
struct Input {
    text: String,
    id: Option<Value>,
}

/// A line of input: `{"text": ..., "id": ...}`, a JSON string, or plain text. `None` for a
/// blank line.
fn parse_line(line: &str, number: usize) -> anyhow::Result<Option<Input>> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let trimmed = line.trim_start();
    if trimmed.trim_end().is_empty() {
        return Ok(None);
    }
    if trimmed.starts_with('{') {
        let v: Value = serde_json::from_str(trimmed)
            .with_context(|| format!("input line {number} starts with {{ but is not JSON"))?;
        let text = v
            .get("text")
            .and_then(Value::as_str)
            .with_context(|| {
                format!("input line {number} is a JSON object without a \"text\" string")
            })?
            .to_string();
        return Ok(Some(Input {
            text,
            id: v.get("id").cloned(),
        }));
    }
    if trimmed.starts_with('"')
        && let Ok(text) = serde_json::from_str::<String>(trimmed)
    {
        return Ok(Some(Input { text, id: None }));
    }
    Ok(Some(Input {
        text: line.to_string(),
        id: None,
    }))
}

pub(super) fn run(args: EmbedArgs) -> anyhow::Result<Outcome> {
    let dir: PathBuf = args.model.model.clone().unwrap_or_else(default_model_dir);
    let embedder = load_model(&dir, &args.model, args.model.precision)?;
    let prompt = if args.no_prompt {
        ""
    } else if args.query {
        embedder.files().query_prompt.as_str()
    } else {
        embedder.document_prompt()
    };
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut pending: Vec<Input> = Vec::with_capacity(CHUNK);
    let mut index = 0;
    let flush =
        |pending: &mut Vec<Input>, index: &mut usize, out: &mut dyn Write| -> anyhow::Result<()> {
            let texts: Vec<String> = pending
                .iter()
                .map(|i| format!("{prompt}{}", i.text))
                .collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let tokenized = embedder.tokenize(&refs)?;
            let vectors = embedder.embed_tokenized(&tokenized)?;
            let counts = tokenized.token_counts();
            for ((input, vector), &(tokens, truncated)) in pending.iter().zip(&vectors).zip(&counts)
            {
                serde_json::to_writer(
                    &mut *out,
                    &Line {
                        index: *index,
                        id: input.id.as_ref(),
                        tokens,
                        truncated,
                        vector,
                    },
                )?;
                writeln!(out)?;
                *index += 1;
            }
            out.flush()?;
            pending.clear();
            Ok(())
        };
    for (n, line) in stdin.lines().enumerate() {
        let line = line.context("reading standard input")?;
        if let Some(input) = parse_line(&line, n + 1)? {
            pending.push(input);
        }
        if pending.len() == CHUNK {
            flush(&mut pending, &mut index, &mut out)?;
        }
    }
    if !pending.is_empty() {
        flush(&mut pending, &mut index, &mut out)?;
    }
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn input_lines_may_be_objects_strings_or_plain_text() {
        let o = parse_line(r#"{"text": "a \"b\"", "id": 7}"#, 1)
            .unwrap()
            .unwrap();
        assert_eq!((o.text.as_str(), o.id), ("a \"b\"", Some(Value::from(7))));
        let s = parse_line(r#""line\nbreak""#, 2).unwrap().unwrap();
        assert_eq!(s.text, "line\nbreak");
        let p = parse_line("plain \"quoted\" text\r", 3).unwrap().unwrap();
        assert_eq!(p.text, "plain \"quoted\" text");
        assert!(parse_line("   ", 4).unwrap().is_none());
        let err = parse_line(r#"{"txt": "x"}"#, 5).unwrap_err().to_string();
        assert!(err.contains("line 5") && err.contains("\"text\""), "{err}");
    }
}
