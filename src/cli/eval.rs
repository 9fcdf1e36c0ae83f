//! `lexsearch eval`: index a labelled document set if needed, run every query in each mode,
//! print the metric tables, and optionally write a run file for the reference scorer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::eval::{CharOffsets, KS, Query, Retrieved, RunLine, Table, evaluate, load_queries};
use crate::indexer::{IndexOptions, build_index};
use crate::search::pinpoint::{Candidates, PinpointSettings};
use crate::search::{Hit, Mode, SearchRequest, Searcher};

use super::{ChunkArgs, FusionArgs, ModeArg, ModelArgs, default_model_dir, load_model};

/// Arguments of `lexsearch eval`.
#[derive(Debug, Args)]
pub(super) struct EvalArgs {
    /// Labelled queries, JSON Lines: {"id", "query", "relevant": [{"file", "start", "end"}]}.
    queries: PathBuf,
    /// The documents folder the queries' `file` fields are relative to.
    #[arg(long, value_name = "DIR")]
    docs: PathBuf,
    /// Where to keep the index (default: a folder in the cache, one per document set and settings).
    #[arg(long, value_name = "PATH")]
    index: Option<PathBuf>,
    #[command(flatten)]
    backend: super::BackendArgs,
    /// Only queries marked `in_mini` (LegalBench-RAG-mini); the corpus is then restricted to
    /// mini_docs.txt beside the queries file when it exists (override with --files).
    #[arg(long)]
    only_mini: bool,
    /// Index only the files listed in this file (one path relative to --docs a line).
    #[arg(long, value_name = "FILE")]
    files: Option<PathBuf>,
    /// Mode(s) to evaluate (default: keyword, semantic and hybrid).
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
    /// Results per query.
    #[arg(short, default_value_t = 64)]
    k: usize,
    /// Write the run of the hybrid mode (or --mode) here, in eval_retrieval.py's format.
    #[arg(long, value_name = "FILE")]
    run: Option<PathBuf>,
    #[command(flatten)]
    chunking: ChunkArgs,
    #[command(flatten)]
    fusion: FusionArgs,
    #[command(flatten)]
    pub(super) model: ModelArgs,
    /// Print the tables as JSON.
    #[arg(long)]
    json: bool,
    /// Do not score pinpoints (the sentence or clause of each of the best 4 hits that best
    /// answers the query; span metrics at 1 and 4).
    #[arg(long)]
    no_pinpoint: bool,
    /// Also score pinpoints under every setting of the grid in docs/quality.md, in the last
    /// mode: `keyword` (the default) compares clauses and sentences, adjacent pairs, and term
    /// rarity among the index's chunks or among the candidates; `all` adds the semantic
    /// weights, which embed every sentence of the best hits (minutes, not seconds).
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "keyword", value_name = "GRID")]
    pinpoint_sweep: Option<SweepGrid>,
    /// Write, for each query of the last mode, its best 10 hits with their segments and the
    /// query terms each segment holds, and both arms' own rankings (JSON Lines, code point
    /// offsets), for offline analysis of pinpoints and fusion.
    #[arg(long, value_name = "FILE")]
    dump_hits: Option<PathBuf>,
}

/// Which pinpoint settings `--pinpoint-sweep` compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SweepGrid {
    /// Keyword evidence only: segmentation, pairs, term rarity.
    Keyword,
    /// The keyword grid and the semantic weights.
    All,
}

#[derive(Serialize)]
struct EvalOutput {
    queries: usize,
    documents: u64,
    chunks: u64,
    settings: serde_json::Value,
    modes: BTreeMap<&'static str, Table>,
    /// Span metrics of the pinpoints of each mode's best 4 hits (a hit without one counts
    /// with its whole chunk).
    pinpoints: BTreeMap<&'static str, Table>,
    /// The same under each setting of `--pinpoint-sweep`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pinpoint_sweep: BTreeMap<String, Table>,
    /// Wall time of each search (query embedding included, pinpoints not), by mode.
    search_latency: BTreeMap<&'static str, crate::bench::Latency>,
}

/// How many of the best hits eval pinpoints: enough for the span metrics at 1 and 4 (those at
/// 16 and 64 would mix pinpoints and chunks).
const EVAL_PINPOINT_HITS: usize = 4;

/// The pinpoint settings `--pinpoint-sweep` compares.
fn sweep_grid(grid: SweepGrid) -> Vec<PinpointSettings> {
    let row = |clauses, index_rarity, skip_headings, pairs, semantic_weight| PinpointSettings {
        hits: EVAL_PINPOINT_HITS,
        semantic_weight,
        pairs,
        clauses,
        index_rarity,
        skip_headings,
    };
    let mut out = Vec::new();
    for pairs in [false, true] {
        // Each change of the defaults alone, and with the others.
        for (clauses, index_rarity, skip_headings) in [
            (false, false, false),
            (true, false, false),
            (true, true, false),
            (true, false, true),
            (false, true, true),
            (true, true, true),
        ] {
            out.push(row(clauses, index_rarity, skip_headings, pairs, 0.0));
        }
        // The semantic weights on sentences, terms weighed among the candidates (rows p3 to
        // p14 of docs/quality.md): each segmentation embedded is another batch per query.
        if grid == SweepGrid::All {
            for w in [0.3, 0.5, 0.7, 0.85, 1.0] {
                out.push(row(false, false, false, pairs, w));
            }
        }
    }
    out
}

fn setting_name(s: &PinpointSettings) -> String {
    format!(
        "w={:.2}{}{}{}{}",
        s.semantic_weight,
        if s.pairs { " pairs" } else { "" },
        if s.clauses { " clauses" } else { "" },
        if s.index_rarity { " index-rarity" } else { "" },
        if s.skip_headings {
            " skip-headings"
        } else {
            ""
        }
    )
}

pub(super) fn run(args: EvalArgs) -> anyhow::Result<super::Outcome> {
    let mut queries = load_queries(&args.queries)?;
    if args.only_mini {
        queries.retain(|q| q.in_mini);
    }
    anyhow::ensure!(
        !queries.is_empty(),
        "no queries to evaluate in {}",
        args.queries.display()
    );
    let files_list = args.files.clone().or_else(|| {
        let mini = args.queries.with_file_name("mini_docs.txt");
        (args.only_mini && mini.is_file()).then_some(mini)
    });
    let only_files: Option<HashSet<PathBuf>> = match &files_list {
        Some(f) => Some(
            std::fs::read_to_string(f)
                .with_context(|| format!("reading the file list {}", f.display()))?
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(PathBuf::from)
                .collect(),
        ),
        None => None,
    };

    let model_dir = args.model.model.clone().unwrap_or_else(default_model_dir);
    let embedder = load_model(&model_dir, &args.model, args.model.precision)?;
    // The flags, else the defaults for the model (no index to keep settings from).
    let chunker = args
        .chunking
        .request()
        .resolve(Path::new(""), None, embedder.info(), true)?
        .chunker;
    let docs = std::fs::canonicalize(&args.docs)
        .with_context(|| format!("documents folder {}", args.docs.display()))?;
    let index_dir = match &args.index {
        Some(p) => p.clone(),
        None => {
            // One cached index per document set and settings, so repeated runs are instant.
            let mut key = blake3::Hasher::new();
            key.update(docs.to_string_lossy().as_bytes());
            let mut listed: Vec<String> = only_files
                .iter()
                .flatten()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            listed.sort();
            key.update(listed.join("\n").as_bytes());
            key.update(
                format!(
                    "{chunker:?}{}{}",
                    args.chunking.no_context,
                    embedder.info().fingerprint
                )
                .as_bytes(),
            );
            let cache = default_model_dir()
                .parent()
                .and_then(Path::parent)
                .map(Path::to_path_buf);
            cache
                .unwrap_or_else(|| PathBuf::from("."))
                .join("eval")
                .join(&key.finalize().to_hex()[..16])
        }
    };
    let mut opts = IndexOptions::new(&docs);
    opts.index_dir = index_dir.clone();
    opts.settings = crate::library::SettingsRequest {
        chunk_tokens: Some(chunker.target_tokens),
        chunk_overlap: Some(chunker.overlap_tokens),
        context_in_embedding: Some(!args.chunking.no_context),
    };
    opts.only_files = only_files;
    opts.backend = args.backend.backend.clone();
    opts.backend_token = args.backend.token()?;
    // Settings are part of the cache key, so the cached index is updated, not rebuilt, and a
    // second eval of the same set waits for one already indexing it.
    opts.wait = true;
    // The graph is built one vector at a time in document order, so that two evaluations of
    // the same set give the same numbers (parallel insertion varies them by about ±0.01).
    opts.exact_graph = true;
    if !args.json {
        eprintln!(
            "indexing {} into {} ...",
            docs.display(),
            args.backend
                .backend
                .clone()
                .unwrap_or_else(|| index_dir.display().to_string())
        );
    }
    let mut progress = super::output::IndexProgress::new(
        !args.json && std::io::IsTerminal::is_terminal(&std::io::stderr()),
    );
    // Ctrl-C while the set is indexed keeps the vectors computed so far, as `index` does.
    progress.stop_on_interrupt()?;
    let report = match build_index(&opts, &embedder, &progress) {
        Err(crate::Error::Cancelled) => {
            progress.finish();
            eprintln!(
                "interrupted while indexing the set: nothing was evaluated; the vectors of the \
                 {} chunks done so far are kept, and the next `lexsearch eval` goes on from them",
                progress.chunks()
            );
            return Ok(super::Outcome::Interrupted);
        }
        r => r?,
    };
    progress.finish();
    progress.indexing_over();
    if !args.json {
        eprintln!(
            "{} documents, {} chunks ({} embedded, {} reused) in {:.1} s",
            report.files_indexed,
            report.chunks,
            report.chunks_embedded,
            report.chunks_reused,
            report.seconds
        );
    }
    let searcher = match args.backend.remote_searcher()? {
        Some(s) => s,
        None => Searcher::open(&index_dir)?,
    };
    let modes: Vec<Mode> = match args.mode {
        Some(ModeArg::Hybrid) => vec![Mode::Hybrid],
        Some(ModeArg::Keyword) => vec![Mode::Keyword],
        Some(ModeArg::Semantic) => vec![Mode::Semantic],
        None => vec![Mode::Keyword, Mode::Semantic, Mode::Hybrid],
    };
    let fusion = args.fusion.fusion();
    let run_mode = modes.last().copied().unwrap_or(Mode::Hybrid);
    let mut offsets: HashMap<String, CharOffsets> = HashMap::new();
    let mut output = EvalOutput {
        queries: queries.len(),
        documents: searcher.manifest().documents,
        chunks: searcher.manifest().chunks,
        settings: serde_json::json!({
            "chunker": chunker, "context_in_embedding": !args.chunking.no_context, "fusion": fusion,
            "over_fetch": args.fusion.over_fetch, "name_weight": args.fusion.name_weight, "k": args.k, "model": embedder.info().name,
        }),
        modes: BTreeMap::new(),
        pinpoints: BTreeMap::new(),
        pinpoint_sweep: BTreeMap::new(),
        search_latency: BTreeMap::new(),
    };
    let mut dump = match &args.dump_hits {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => None,
    };
    for mode in modes {
        let bar = if args.json {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(queries.len() as u64)
        };
        bar.set_style(
            ProgressStyle::with_template("{msg:9} [{bar:30}] {pos}/{len} queries  ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(mode.name());
        let mut run: HashMap<String, Vec<Retrieved>> = HashMap::new();
        let mut pin_run: HashMap<String, Vec<Retrieved>> = HashMap::new();
        let sweep = if let Some(grid) = args.pinpoint_sweep
            && mode == run_mode
        {
            sweep_grid(grid)
        } else {
            Vec::new()
        };
        let mut sweep_runs: Vec<HashMap<String, Vec<Retrieved>>> =
            vec![HashMap::new(); sweep.len()];
        let mut timings = Vec::with_capacity(queries.len());
        for q in &queries {
            let req = SearchRequest {
                query: q.query.clone(),
                k: args.k,
                mode,
                fusion,
                over_fetch: args.fusion.over_fetch,
                name_weight: args.fusion.name_weight,
                snippet_chars: 0,
                // Pinpoints are chosen below, from candidates gathered once per query.
                pinpoint: PinpointSettings {
                    hits: 0,
                    ..PinpointSettings::default()
                },
                rerank: None,
                paths: Default::default(),
                max_per_file: None,
                // The protocol ranks chunks: a copy in another file is another span.
                collapse_copies: false,
                like: None,
            };
            let results = searcher.search(&req, Some(&embedder))?;
            timings.push(results.elapsed);
            let mut out = Vec::with_capacity(results.hits.len());
            for h in &results.hits {
                let conv = char_offsets(&mut offsets, h)?;
                out.push(Retrieved {
                    start: conv.char_at(h.start_byte),
                    end: conv.char_at(h.end_byte),
                    file: h.file.clone(),
                });
            }
            run.insert(q.id.clone(), out);
            if mode == run_mode
                && let Some(w) = dump.as_mut()
            {
                let line = dump_line(&searcher, &embedder, &req, q, &results.hits, &mut offsets)?;
                serde_json::to_writer(&mut *w, &line)?;
                writeln!(w)?;
            }
            if !args.no_pinpoint {
                // As `search` does: the query's embedding only where the mode embeds it.
                let (qv, model) = if mode.needs_model() {
                    (Some(embedder.embed_query(&q.query)?), Some(&embedder))
                } else {
                    (None, None)
                };
                let default = PinpointSettings {
                    hits: EVAL_PINPOINT_HITS,
                    ..PinpointSettings::default()
                };
                let rarity = searcher.term_rarity(&q.query)?;
                // Candidates gathered once per segmentation, rarity, and need of embeddings.
                let key =
                    |s: &PinpointSettings| (s.clauses, s.index_rarity, s.semantic_weight > 0.0);
                let mut gathered: Vec<((bool, bool, bool), Candidates)> = Vec::new();
                for s in std::iter::once(&default).chain(&sweep) {
                    if !gathered.iter().any(|(k, _)| *k == key(s)) {
                        let c = Candidates::gather(
                            &results.hits,
                            &q.query,
                            qv.as_deref(),
                            model,
                            rarity.as_ref(),
                            s,
                        )?;
                        gathered.push((key(s), c));
                    }
                }
                let mut pinpointed = |s: &PinpointSettings| -> anyhow::Result<Vec<Retrieved>> {
                    let cands = &gathered
                        .iter()
                        .find(|(k, _)| *k == key(s))
                        .expect("gathered")
                        .1;
                    let chosen = cands.choose(&results.hits, s);
                    let mut out = Vec::with_capacity(chosen.len());
                    for (h, p) in results.hits.iter().zip(chosen) {
                        let conv = char_offsets(&mut offsets, h)?;
                        let (a, b) =
                            p.map_or((h.start_byte, h.end_byte), |p| (p.start_byte, p.end_byte));
                        out.push(Retrieved {
                            start: conv.char_at(a),
                            end: conv.char_at(b),
                            file: h.file.clone(),
                        });
                    }
                    Ok(out)
                };
                pin_run.insert(q.id.clone(), pinpointed(&default)?);
                for (s, r) in sweep.iter().zip(&mut sweep_runs) {
                    r.insert(q.id.clone(), pinpointed(s)?);
                }
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        if mode == run_mode
            && let Some(path) = &args.run
        {
            write_run(path, &queries, &run)?;
        }
        output.modes.insert(mode.name(), evaluate(&queries, &run));
        let latency = crate::bench::Latency::of(&timings);
        if !args.json {
            eprintln!(
                "{}: {} searches, median {:.1} ms, p95 {:.1} ms",
                mode.name(),
                latency.n,
                latency.p50_ms,
                latency.p95_ms
            );
        }
        output.search_latency.insert(mode.name(), latency);
        if !args.no_pinpoint {
            output
                .pinpoints
                .insert(mode.name(), evaluate(&queries, &pin_run));
        }
        for (s, r) in sweep.iter().zip(&sweep_runs) {
            output
                .pinpoint_sweep
                .insert(setting_name(s), evaluate(&queries, r));
        }
    }
    if let Some(mut w) = dump {
        w.flush()?;
    }
    if args.json {
        super::output::print_json(&output)?;
    } else {
        print_tables(&output)?;
    }
    Ok(super::Outcome::Ok)
}

/// One line of `--dump-hits`: the query, its best 10 hits with their segments (clauses and
/// sentences) and the query terms in each (with their token positions), and each arm's own
/// ranking with scores.
fn dump_line(
    searcher: &Searcher,
    embedder: &crate::embed::Embedder,
    req: &SearchRequest,
    q: &Query,
    hits: &[Hit],
    offsets: &mut HashMap<String, CharOffsets>,
) -> anyhow::Result<serde_json::Value> {
    use crate::index::keyword::{analyze, stemmed_analyzer};
    use crate::ingest::segment::segments;
    let mut analyzer = stemmed_analyzer();
    let query_terms: Vec<String> = analyze(&mut analyzer, &q.query)
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| !crate::search::snippet::STOP.contains(&t.as_str()))
        .collect();
    let mut out_hits = Vec::new();
    for h in hits.iter().take(10) {
        let conv = char_offsets(offsets, h)?;
        let seg_json = |clauses: bool, analyzer: &mut tantivy::tokenizer::TextAnalyzer| {
            segments(&h.text, clauses)
                .into_iter()
                .map(|r| {
                    let toks = analyze(analyzer, &h.text[r.clone()]);
                    let matched: Vec<(String, usize)> = toks
                        .iter()
                        .enumerate()
                        .filter(|(_, (t, _))| query_terms.contains(t))
                        .map(|(i, (t, _))| (t.clone(), i))
                        .collect();
                    serde_json::json!({
                        "start": conv.char_at(h.start_byte + r.start),
                        "end": conv.char_at(h.start_byte + r.end),
                        "tokens": toks.len(),
                        "matched": matched,
                        "text": &h.text[r],
                    })
                })
                .collect::<Vec<_>>()
        };
        out_hits.push(serde_json::json!({
            "file": h.file,
            "start": conv.char_at(h.start_byte),
            "end": conv.char_at(h.end_byte),
            "score": h.score,
            "keyword": h.keyword,
            "semantic": h.semantic,
            "named": h.named,
            "clauses": seg_json(true, &mut analyzer),
            "sentences": seg_json(false, &mut analyzer),
        }));
    }
    let mut arms = serde_json::Map::new();
    for mode in [Mode::Keyword, Mode::Semantic] {
        let single = SearchRequest {
            mode,
            k: req.k.saturating_mul(req.over_fetch.max(1)),
            ..req.clone()
        };
        let found = searcher.search(&single, Some(embedder))?;
        let mut list = Vec::new();
        for h in &found.hits {
            let conv = char_offsets(offsets, h)?;
            list.push(serde_json::json!([
                h.file,
                conv.char_at(h.start_byte),
                conv.char_at(h.end_byte),
                h.score
            ]));
        }
        arms.insert(mode.name().to_string(), list.into());
    }
    Ok(serde_json::json!({
        "id": q.id,
        "subset": q.subset,
        "query": q.query,
        "query_terms": query_terms,
        "hits": out_hits,
        "arms": arms,
    }))
}

/// The code point offsets of a hit's file, read once.
fn char_offsets<'a>(
    offsets: &'a mut HashMap<String, CharOffsets>,
    h: &Hit,
) -> anyhow::Result<&'a CharOffsets> {
    if !offsets.contains_key(&h.file) {
        let text = std::fs::read_to_string(&h.path)
            .with_context(|| format!("reading {}", h.path.display()))?;
        offsets.insert(h.file.clone(), CharOffsets::new(&text));
    }
    Ok(&offsets[&h.file])
}

fn write_run(
    path: &Path,
    queries: &[Query],
    run: &HashMap<String, Vec<Retrieved>>,
) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    for q in queries {
        let line = RunLine {
            id: q.id.clone(),
            results: run.get(&q.id).cloned().unwrap_or_default(),
        };
        serde_json::to_writer(&mut f, &line)?;
        writeln!(f)?;
    }
    f.flush()?;
    Ok(())
}

fn print_tables(out: &EvalOutput) -> anyhow::Result<()> {
    let mut w = std::io::stdout().lock();
    writeln!(
        w,
        "{} queries, {} documents, {} chunks; settings {}",
        out.queries, out.documents, out.chunks, out.settings
    )?;
    let mut cols: Vec<String> = Vec::new();
    for k in KS {
        cols.push(format!("span_P@{k}"));
    }
    for k in KS {
        cols.push(format!("span_R@{k}"));
    }
    for k in KS {
        cols.push(format!("doc_R@{k}"));
    }
    cols.extend(["nDCG@10".into(), "MRR@10".into()]);
    let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
    for (mode, table) in &out.modes {
        write_table(&mut w, &format!("{mode} (percent)"), table, &cols)?;
    }
    let pin_cols = ["span_P@1", "span_P@4", "span_R@1", "span_R@4"];
    let mut pin_tables: Vec<(String, &Table)> = out
        .pinpoints
        .iter()
        .map(|(m, t)| {
            (
                format!("{m} pinpoints (best {EVAL_PINPOINT_HITS} hits, percent)"),
                t,
            )
        })
        .collect();
    pin_tables.extend(
        out.pinpoint_sweep
            .iter()
            .map(|(s, t)| (format!("pinpoints, {s}"), t)),
    );
    for (title, table) in pin_tables {
        write_table(&mut w, &title, table, &pin_cols)?;
    }
    Ok(())
}

/// One table of metrics: a row per group, the columns `cols` in percent.
fn write_table(
    w: &mut impl Write,
    title: &str,
    table: &Table,
    cols: &[&str],
) -> std::io::Result<()> {
    writeln!(w, "\n== {title}")?;
    write!(w, "{:<14}{:>7}", "group", "queries")?;
    for c in cols {
        write!(w, "{:>10}", c.replace("span_", ""))?;
    }
    writeln!(w)?;
    for (group, metrics) in &table.groups {
        write!(
            w,
            "{group:<14}{:>7}",
            table.queries.get(group).copied().unwrap_or(0)
        )?;
        for c in cols {
            match metrics.get(*c) {
                Some(v) => write!(w, "{:>10.2}", v * 100.0)?,
                None => write!(w, "{:>10}", "-")?,
            }
        }
        writeln!(w)?;
    }
    Ok(())
}
