//! Retrieval evaluation on labelled legal queries.
//!
//! The query format is the one of `../shared/eval` (LegalBench-RAG and sets like it): one JSON
//! object a line, `{"id", "query", "relevant": [{"file", "start", "end"}], "subset"?,
//! "in_mini"?}`, with `start`/`end` half-open Unicode code point offsets in `file` (relative to
//! the documents folder). Metrics follow the LegalBench-RAG definitions, as implemented by
//! `eval_retrieval.py` beside the data, so that both agree on the same run:
//!
//! - span precision@k: characters of the top-k results that fall in a gold span, over all
//!   characters of the top-k results;
//! - span recall@k: characters of the gold spans covered by the top-k results (merged per file),
//!   over all gold characters;
//! - document metrics on files ranked by first appearance: recall@k, nDCG@10, MRR@10.
//!
//! Scores are averaged per group (`subset`), and the `ALL` row is the mean of the group means.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Cut-offs for span and document metrics.
pub const KS: [usize; 4] = [1, 4, 16, 64];

/// A labelled span.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Gold {
    /// File, relative to the documents folder.
    pub file: String,
    /// Start, in Unicode code points (absent for document-level labels).
    pub start: Option<usize>,
    /// End (exclusive), in Unicode code points.
    pub end: Option<usize>,
}

/// A labelled query.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Query {
    /// Query id.
    pub id: String,
    /// Query text.
    pub query: String,
    /// Group the query belongs to (its `subset` or `task`), for per-group tables.
    #[serde(default, alias = "task")]
    pub subset: Option<String>,
    /// Whether the query belongs to the LegalBench-RAG-mini selection.
    #[serde(default)]
    pub in_mini: bool,
    /// Relevant spans or files.
    pub relevant: Vec<Gold>,
}

/// One retrieved result, in the run-file format (code point offsets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retrieved {
    /// File, relative to the documents folder.
    pub file: String,
    /// Start, in Unicode code points.
    pub start: usize,
    /// End (exclusive), in Unicode code points.
    pub end: usize,
}

/// One line of a run file: a query's results, best first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLine {
    /// Query id.
    pub id: String,
    /// Results, best first.
    pub results: Vec<Retrieved>,
}

/// Reads a queries file (JSON Lines).
pub fn load_queries(path: &Path) -> Result<Vec<Query>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| {
                Error::InvalidSetting(format!(
                    "{} line {}: not a query: {e}; each line is one JSON object, \
                     {{\"id\", \"query\", \"relevant\": [{{\"file\", \"start\", \"end\"}}]}} \
                     (LegalBench-RAG's format)",
                    path.display(),
                    i + 1
                ))
            })
        })
        .collect()
}

fn overlap(a: usize, b: usize, c: usize, d: usize) -> usize {
    b.min(d).saturating_sub(a.max(c))
}

fn merge(mut v: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    v.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Span precision and recall of the top `k` results (LegalBench-RAG definitions).
pub fn span_scores(gold: &[(String, usize, usize)], results: &[Retrieved], k: usize) -> (f64, f64) {
    let top = &results[..results.len().min(k)];
    let retrieved: usize = top.iter().map(|r| r.end.saturating_sub(r.start)).sum();
    let mut relevant_retrieved = 0;
    for r in top {
        for (f, s, e) in gold {
            if *f == r.file {
                relevant_retrieved += overlap(r.start, r.end, *s, *e);
            }
        }
    }
    let mut by_file: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
    for r in top {
        by_file.entry(&r.file).or_default().push((r.start, r.end));
    }
    let merged: HashMap<&str, Vec<(usize, usize)>> =
        by_file.into_iter().map(|(f, v)| (f, merge(v))).collect();
    let mut covered = 0;
    for (f, s, e) in gold {
        for &(a, b) in merged.get(f.as_str()).map_or(&[][..], |v| v.as_slice()) {
            covered += overlap(a, b, *s, *e);
        }
    }
    let gold_len: usize = gold.iter().map(|(_, s, e)| e - s).sum();
    let p = if retrieved > 0 {
        relevant_retrieved as f64 / retrieved as f64
    } else {
        0.0
    };
    let r = if gold_len > 0 {
        covered as f64 / gold_len as f64
    } else {
        0.0
    };
    (p, r)
}

/// Document-level metrics: files ranked by first appearance, binary relevance.
pub fn doc_scores(relevant: &HashSet<&str>, results: &[Retrieved]) -> BTreeMap<String, f64> {
    let mut ranking: Vec<&str> = Vec::new();
    for r in results {
        if !ranking.contains(&r.file.as_str()) {
            ranking.push(&r.file);
        }
    }
    let hits: Vec<f64> = ranking
        .iter()
        .map(|f| f64::from(u8::from(relevant.contains(f))))
        .collect();
    let mut out = BTreeMap::new();
    let dcg: f64 = hits
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, h)| h / (i as f64 + 2.0).log2())
        .sum();
    let idcg: f64 = (0..relevant.len().min(10))
        .map(|i| 1.0 / (i as f64 + 2.0).log2())
        .sum();
    out.insert(
        "nDCG@10".to_string(),
        if idcg > 0.0 { dcg / idcg } else { 0.0 },
    );
    let mrr = hits
        .iter()
        .take(10)
        .position(|&h| h > 0.0)
        .map_or(0.0, |i| 1.0 / (i as f64 + 1.0));
    out.insert("MRR@10".to_string(), mrr);
    for k in KS {
        let found: f64 = hits.iter().take(k).sum();
        out.insert(format!("doc_R@{k}"), found / relevant.len().max(1) as f64);
    }
    out
}

/// Metric tables: group name (and `ALL`) → metric → mean, plus query counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Table {
    /// Mean of each metric per group; `ALL` is the mean of the group means.
    pub groups: BTreeMap<String, BTreeMap<String, f64>>,
    /// Queries per group.
    pub queries: BTreeMap<String, usize>,
}

/// Scores a run against the queries. Queries without results score 0.
pub fn evaluate(queries: &[Query], run: &HashMap<String, Vec<Retrieved>>) -> Table {
    let mut sums: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let empty = Vec::new();
    for q in queries {
        let group = q.subset.clone().unwrap_or_else(|| "all".into());
        *counts.entry(group.clone()).or_default() += 1;
        let sum = sums.entry(group).or_default();
        let results = run.get(&q.id).unwrap_or(&empty);
        let gold: Vec<(String, usize, usize)> = q
            .relevant
            .iter()
            .filter_map(|g| Some((g.file.clone(), g.start?, g.end?)))
            .collect();
        if !gold.is_empty() {
            for k in KS {
                let (p, r) = span_scores(&gold, results, k);
                *sum.entry(format!("span_P@{k}")).or_default() += p;
                *sum.entry(format!("span_R@{k}")).or_default() += r;
            }
        }
        let relevant: HashSet<&str> = q.relevant.iter().map(|g| g.file.as_str()).collect();
        if !relevant.is_empty() {
            for (m, v) in doc_scores(&relevant, results) {
                *sum.entry(m).or_default() += v;
            }
        }
    }
    let mut table = Table::default();
    for (g, s) in &sums {
        let n = counts[g] as f64;
        table.groups.insert(
            g.clone(),
            s.iter().map(|(m, v)| (m.clone(), v / n)).collect(),
        );
        table.queries.insert(g.clone(), counts[g]);
    }
    if table.groups.len() > 1 {
        let metrics: HashSet<String> = table
            .groups
            .values()
            .flat_map(|m| m.keys().cloned())
            .collect();
        let n = table.groups.len() as f64;
        let all = metrics
            .into_iter()
            .map(|m| {
                let mean = table
                    .groups
                    .values()
                    .map(|g| g.get(&m).copied().unwrap_or(0.0))
                    .sum::<f64>()
                    / n;
                (m, mean)
            })
            .collect();
        table.groups.insert("ALL".into(), all);
        table.queries.insert("ALL".into(), counts.values().sum());
    }
    table
}

/// Converts byte offsets of a text into code point offsets.
#[derive(Debug, Clone)]
pub struct CharOffsets {
    /// Byte offset of every char boundary, in order, plus the text length.
    boundaries: Vec<usize>,
}

impl CharOffsets {
    /// Indexes the char boundaries of `text`.
    pub fn new(text: &str) -> Self {
        let mut boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        boundaries.push(text.len());
        CharOffsets { boundaries }
    }

    /// The code point offset of byte offset `byte` (the next boundary if inside a char).
    pub fn char_at(&self, byte: usize) -> usize {
        self.boundaries.partition_point(|&b| b < byte)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(file: &str, start: usize, end: usize) -> Retrieved {
        Retrieved {
            file: file.into(),
            start,
            end,
        }
    }

    #[test]
    fn a_line_that_is_not_a_query_is_named_with_the_format_expected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.jsonl");
        let good = r#"{"id": "a", "query": "term", "relevant": [{"file": "x.txt", "start": 0, "end": 4}]}"#;
        std::fs::write(&path, format!("{good}\n\n{{\"bad\": 1}}\n")).unwrap();
        let err = load_queries(&path).unwrap_err().to_string();
        assert!(err.contains("q.jsonl line 3: not a query"), "{err}");
        assert!(err.contains("missing field `id`"), "{err}");
        assert!(err.contains(r#"{"id", "query", "relevant""#), "{err}");
        std::fs::write(&path, format!("{good}\n")).unwrap();
        assert_eq!(load_queries(&path).unwrap().len(), 1);
    }

    #[test]
    fn span_metrics_match_hand_computed_values() {
        let gold = vec![("a.txt".to_string(), 10, 20)];
        // top-1: 0..15 overlaps 5 of its 15 chars; covers 5 of 10 gold chars.
        let results = vec![r("a.txt", 0, 15), r("a.txt", 12, 30), r("b.txt", 0, 100)];
        let (p, rc) = span_scores(&gold, &results, 1);
        assert!((p - 5.0 / 15.0).abs() < 1e-12 && (rc - 0.5).abs() < 1e-12);
        // top-2: overlaps 5 + 8 of 33 chars; merged 0..30 covers all 10 gold chars.
        let (p, rc) = span_scores(&gold, &results, 2);
        assert!((p - 13.0 / 33.0).abs() < 1e-12 && (rc - 1.0).abs() < 1e-12);
        let (p, rc) = span_scores(&gold, &[], 4);
        assert_eq!((p, rc), (0.0, 0.0));
    }

    #[test]
    fn document_metrics_rank_files_by_first_appearance() {
        let rel: HashSet<&str> = ["b.txt"].into_iter().collect();
        let results = vec![r("a.txt", 0, 1), r("a.txt", 2, 3), r("b.txt", 0, 1)];
        let d = doc_scores(&rel, &results);
        assert!((d["MRR@10"] - 0.5).abs() < 1e-12);
        assert!((d["nDCG@10"] - 1.0 / 3f64.log2()).abs() < 1e-12);
        assert_eq!(d["doc_R@1"], 0.0);
        assert_eq!(d["doc_R@4"], 1.0);
    }

    #[test]
    fn all_is_the_mean_of_group_means() {
        let q = |id: &str, group: &str| Query {
            id: id.into(),
            query: String::new(),
            subset: Some(group.into()),
            in_mini: false,
            relevant: vec![Gold {
                file: "a.txt".into(),
                start: Some(0),
                end: Some(10),
            }],
        };
        let queries = vec![q("1", "x"), q("2", "x"), q("3", "y")];
        let run: HashMap<String, Vec<Retrieved>> = [
            ("1".to_string(), vec![r("a.txt", 0, 10)]),
            ("3".to_string(), vec![r("a.txt", 0, 10)]),
        ]
        .into();
        let t = evaluate(&queries, &run);
        assert_eq!(t.groups["x"]["span_R@1"], 0.5);
        assert_eq!(t.groups["y"]["span_R@1"], 1.0);
        assert_eq!(t.groups["ALL"]["span_R@1"], 0.75);
        assert_eq!(t.queries["ALL"], 3);
    }

    #[test]
    fn byte_offsets_convert_to_code_points() {
        let c = CharOffsets::new("a§b€c");
        assert_eq!([0, 1, 3, 4, 7, 8].map(|b| c.char_at(b)), [0, 1, 2, 3, 4, 5]);
    }
}
