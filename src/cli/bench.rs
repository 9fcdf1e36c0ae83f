//! `lexsearch bench`: encoder throughput (chunks/s, GFLOP/s against the CPU's peak), query
//! latency and vector-graph recall. Reports numbers; never passes or fails on them.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use serde::Serialize;

use crate::bench::{CpuInfo, ExactTop, Latency, bert_flops, cpu_info, dot, exact_top};
use crate::embed::Embedder;
use crate::index::vector::VectorIndex;
use crate::ingest::chunk::TokenSpans;
use crate::ingest::extract::{DEFAULT_MAX_FILE_BYTES, extract};
use crate::ingest::walk::walk;
use crate::library::Library;
use crate::search::glob::PathFilter;
use crate::search::{Mode, SearchRequest, Searcher};

use super::{ModelArgs, default_model_dir, load_model};

/// Arguments of `lexsearch bench`.
#[derive(Debug, Args)]
pub(super) struct BenchArgs {
    /// Folder of documents whose text is cut into the benchmark's chunks.
    #[arg(long, value_name = "DIR")]
    corpus: PathBuf,
    /// A small, fast run for CI (16 chunks of 128 tokens, one batch size, few queries).
    #[arg(long)]
    quick: bool,
    /// Number of chunks to embed.
    #[arg(long)]
    chunks: Option<usize>,
    /// Tokens per chunk, special tokens included.
    #[arg(long)]
    tokens: Option<usize>,
    /// Batch sizes to try, comma-separated.
    #[arg(long, value_delimiter = ',')]
    batch_sizes: Option<Vec<usize>>,
    /// Write the chunk texts here (JSON Lines), for scripts/bench-python.
    #[arg(long, value_name = "FILE")]
    write_texts: Option<PathBuf>,
    /// Also measure query latency and graph recall on this index.
    #[arg(long, value_name = "PATH")]
    index: Option<PathBuf>,
    /// First build the --index (a new path) from the real index SRC, grown to --grow-to
    /// chunks: SRC's documents copied under new ids, each copied chunk with a generated
    /// vector near its real one (docs/benchmarks.md). For million-chunk latency runs.
    #[arg(long, value_name = "SRC", requires_all = ["index", "grow_to"])]
    grow_from: Option<PathBuf>,
    /// Chunks in the grown index (with --grow-from).
    #[arg(long, value_name = "N", requires = "grow_from")]
    grow_to: Option<usize>,
    /// Also build graphs of the --index's vectors with these parameters (M:EF_CONSTRUCTION,
    /// comma-separated, e.g. 8:100,16:200,32:200) and measure each one's build time and
    /// recall curve. Indexes always use 16:200.
    #[arg(long, value_delimiter = ',', value_name = "M:EF", requires = "index")]
    graph_params: Vec<String>,
    /// Also measure the latency of searches of the --index narrowed to the files this path
    /// pattern keeps (`search --path`), in each mode; repeat for several patterns.
    #[arg(long = "path", value_name = "GLOB", requires = "index")]
    paths: Vec<String>,
    /// Also measure the latency reranking adds to a hybrid search on the --index, with this
    /// cross-encoder folder, for each --rerank-top.
    #[arg(long, value_name = "DIR", requires = "index")]
    rerank: Option<PathBuf>,
    /// Numbers of fused hits to rerank, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "N",
        default_value = "10,30,50"
    )]
    rerank_top: Vec<usize>,
    #[command(flatten)]
    pub(super) model: ModelArgs,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Throughput {
    batch_size: usize,
    seconds: f64,
    chunks_per_second: f64,
    gflops: f64,
    percent_of_peak: f64,
    /// For `--precision int8`: the same GFLOP/s against the int8 peak.
    #[serde(skip_serializing_if = "Option::is_none")]
    percent_of_int8_peak: Option<f64>,
}

#[derive(Serialize)]
struct GraphTrial {
    max_connections: usize,
    ef_construction: usize,
    build_seconds: f64,
    file_mb: f64,
    recall: Vec<Recall>,
}

#[derive(Serialize)]
struct Recall {
    ef: usize,
    recall_at_10: f64,
    latency: Latency,
}

/// How the benchmark's vectors compare with the exact CPU f32 encoder's.
#[derive(Serialize)]
struct Agreement {
    chunks: usize,
    worst_cosine: f32,
    mean_cosine: f32,
}

/// The latency reranking adds to a hybrid search of 10 hits.
#[derive(Serialize)]
struct RerankLatency {
    /// Fused hits re-scored.
    top: usize,
    /// Mean number of tokens in a (query, chunk) pair, special tokens included.
    mean_pair_tokens: f64,
    /// Time spent reranking (`rerank_elapsed`).
    rerank: Latency,
    /// The whole search, reranking included.
    search: Latency,
}

/// Searches narrowed to the files of one path pattern.
#[derive(Serialize)]
struct PathLatency {
    /// The pattern (`--path`).
    pattern: String,
    /// Indexed files it keeps.
    files: usize,
    /// The first search, which also finds the files the pattern keeps (once per searcher and
    /// pattern).
    first_ms: f64,
    /// Each mode's latency after that.
    latency: Vec<(String, Latency)>,
}

#[derive(Serialize)]
struct Report {
    cpu: CpuInfo,
    /// `cpu`, `cuda` or `metal`.
    device: String,
    /// `f32`, `f16`, `bf16` or `int8`.
    precision: String,
    model: String,
    chunks: usize,
    tokens_per_chunk: usize,
    gflop_per_chunk: f64,
    embedding: Vec<Throughput>,
    index_open_ms: Option<f64>,
    resident_mb_after_open: Option<f64>,
    /// Resident memory after the latency runs: what the searches paged in.
    resident_mb_after_queries: Option<f64>,
    index_chunks: Option<u64>,
    /// How the measured index was grown, when it was (--grow-from).
    grown: Option<crate::bench::Grown>,
    /// Seconds spent growing it.
    grow_seconds: Option<f64>,
    /// Against the CPU in f32, when the run used another device or precision.
    agreement: Option<Agreement>,
    query_latency: Vec<(String, Latency)>,
    /// Searches narrowed by --path, one pattern at a time.
    path_latency: Vec<PathLatency>,
    /// The reranker measured (--rerank).
    reranker: Option<crate::embed::RerankerInfo>,
    rerank_latency: Vec<RerankLatency>,
    graph_recall: Vec<Recall>,
    graph_trials: Vec<GraphTrial>,
}

/// Questions a lawyer might ask, for latency runs.
const QUERIES: &[&str] = &[
    "can the landlord keep my deposit",
    "termination for convenience notice period",
    "limitation of liability cap",
    "who owns the intellectual property created under the agreement",
    "governing law and venue",
    "non-compete duration and territory",
    "confidential information exclusions",
    "indemnification for third party claims",
    "late payment interest",
    "assignment without consent",
    "data breach notification deadline",
    "force majeure events",
    "42 U.S.C. § 1983",
    "Section 7.2(a)",
    "warranty disclaimer merchantability",
    "arbitration and class action waiver",
    "security deposit returned within thirty days",
    "severance pay on termination without cause",
    "audit rights of the processor",
    "return or destruction of materials",
];

fn resident_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

pub(super) fn run(args: BenchArgs) -> anyhow::Result<super::Outcome> {
    // A malformed --graph-params is refused before any work.
    let graph_params = args
        .graph_params
        .iter()
        .map(|spec| parse_graph_params(spec))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let model_dir = args.model.model.clone().unwrap_or_else(default_model_dir);
    let mut embedder = load_model(&model_dir, &args.model, args.model.precision)?;
    let tokens = args.tokens.unwrap_or(if args.quick { 128 } else { 256 });
    let n = args.chunks.unwrap_or(if args.quick { 16 } else { 64 });
    let on_cpu = embedder.device().is_cpu();
    let batch_sizes = args
        .batch_sizes
        .clone()
        .unwrap_or_else(|| match (args.quick, on_cpu) {
            (true, _) => vec![embedder.batch_size()],
            (false, true) => vec![1, 8, 16, 32],
            (false, false) => vec![32, 64, 128, 256, 512],
        });

    // Chunks of exactly `tokens` tokens (with [CLS] and [SEP]) cut from the corpus.
    let window = tokens.saturating_sub(2).max(1);
    let mut texts: Vec<String> = Vec::new();
    let walked = walk(&args.corpus, &[], false);
    'files: for f in &walked.files {
        let Ok(x) = extract(f, DEFAULT_MAX_FILE_BYTES) else {
            continue;
        };
        let spans = embedder.token_spans(&x.text);
        for w in spans.chunks_exact(window) {
            texts.push(x.text[w[0].start..w[window - 1].end].to_string());
            if texts.len() == n {
                break 'files;
            }
        }
    }
    anyhow::ensure!(
        !texts.is_empty(),
        "{} holds no text for a chunk of {tokens} tokens; give a larger --corpus",
        args.corpus.display(),
    );
    // A small corpus is cycled: the same texts again cost the encoder the same work.
    let distinct = texts.len();
    if distinct < n {
        eprintln!(
            "note: {} holds {distinct} chunks of {tokens} tokens; repeating them to make {n}",
            args.corpus.display()
        );
        texts = texts.iter().cycle().take(n).cloned().collect();
    }
    if let Some(path) = &args.write_texts {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        );
        for t in &texts {
            serde_json::to_writer(&mut f, t)?;
            writeln!(f)?;
        }
    }
    let cpu = cpu_info();
    let intermediate = embedder.files().config.intermediate_size;
    let flops = bert_flops(embedder.info(), intermediate, tokens);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    // Warm-up: a GPU compiles its kernels and sizes its memory pool on first use.
    let warm = if on_cpu { 4 } else { refs.len().min(512) };
    let reference = embedder.embed(&refs[..warm])?;
    let mut embedding = Vec::new();
    for &b in &batch_sizes {
        embedder.set_batch_size(b);
        let t = Instant::now();
        embedder.embed(&refs)?;
        let s = t.elapsed().as_secs_f64();
        let gflops = n as f64 * flops / s / 1e9;
        embedding.push(Throughput {
            batch_size: b,
            seconds: s,
            chunks_per_second: n as f64 / s,
            gflops,
            percent_of_peak: if on_cpu && cpu.peak_gflops > 0.0 {
                100.0 * gflops / cpu.peak_gflops
            } else {
                0.0
            },
            percent_of_int8_peak: (embedder.int8_isa().is_some() && cpu.int8_peak_gops > 0.0)
                .then(|| 100.0 * gflops / cpu.int8_peak_gops),
        });
    }
    let default_batch = batch_sizes.first().copied().unwrap_or(8);
    embedder.set_batch_size(default_batch);
    let agreement = if on_cpu && embedder.precision_name() == "f32" {
        None
    } else {
        Some(agreement(&model_dir, &refs[..warm.min(64)], &reference)?)
    };

    let mut report = Report {
        cpu,
        device: crate::embed::device_name(embedder.device()).to_string(),
        precision: embedder.precision_name().to_string(),
        model: embedder.info().name.clone(),
        chunks: n,
        tokens_per_chunk: tokens,
        gflop_per_chunk: flops / 1e9,
        embedding,
        index_open_ms: None,
        resident_mb_after_open: None,
        resident_mb_after_queries: None,
        index_chunks: None,
        grown: None,
        grow_seconds: None,
        agreement,
        query_latency: Vec::new(),
        path_latency: Vec::new(),
        reranker: None,
        rerank_latency: Vec::new(),
        graph_recall: Vec::new(),
        graph_trials: Vec::new(),
    };
    if let (Some(index), Some(source), Some(n)) = (&args.index, &args.grow_from, args.grow_to) {
        let t = Instant::now();
        let stage = |s: &str| eprintln!("growing {}: {s}", index.display());
        report.grown = Some(crate::bench::grow_index(source, index, n, &stage)?);
        report.grow_seconds = Some(t.elapsed().as_secs_f64());
    }
    if let Some(index) = &args.index {
        let t = Instant::now();
        let searcher = Searcher::open(index)?;
        report.index_open_ms = Some(t.elapsed().as_secs_f64() * 1000.0);
        report.resident_mb_after_open = resident_mb();
        report.index_chunks = Some(searcher.manifest().chunks);
        let rounds = if args.quick { 1 } else { 5 };
        report.query_latency =
            mode_latencies(&searcher, &embedder, rounds, &PathFilter::default())?;
        for pattern in &args.paths {
            // A searcher of its own, so that each first search finds its files.
            let searcher = Searcher::open(index)?;
            let paths = PathFilter::new([pattern]);
            let mut req = bench_request(QUERIES[0], 10);
            req.paths = paths.clone();
            let t = Instant::now();
            let first = searcher.search(&req, Some(&embedder))?;
            let first_ms = t.elapsed().as_secs_f64() * 1000.0;
            let latency = mode_latencies(&searcher, &embedder, rounds, &paths)?;
            report.path_latency.push(PathLatency {
                pattern: pattern.clone(),
                files: first.files_in_scope.unwrap_or(0),
                first_ms,
                latency,
            });
        }
        if let Some(dir) = &args.rerank {
            let (info, latency) = rerank_latency(&searcher, &embedder, dir, &args)?;
            report.reranker = Some(info);
            report.rerank_latency = latency;
        }
        report.resident_mb_after_queries = resident_mb();
        drop(searcher);
        // Recall of the graph against exact search, with the catalog's vectors.
        let library = Library::at(index);
        let snapshot = library.snapshot()?;
        let (paths, live) = (snapshot.paths(), snapshot.manifest().chunks);
        let dim = embedder.info().dim;
        let graph = VectorIndex::open_for_search(&paths.vectors(), dim, live)?;
        let catalog = library.read_catalog(paths)?;
        let vectors: Vec<(u64, Vec<f32>)> = catalog
            .vectors()?
            .into_iter()
            .map(|(id, v)| (id.0, v))
            .collect();
        drop(catalog);
        let mut queries: Vec<Vec<f32>> = QUERIES
            .iter()
            .map(|q| embedder.embed_query(q))
            .collect::<Result<_, _>>()?;
        let step = (vectors.len() / 180).max(1);
        queries.extend(
            vectors
                .iter()
                .step_by(step)
                .take(180)
                .map(|(_, v)| v.clone()),
        );
        let truth: Vec<ExactTop> = queries.iter().map(|q| exact_top(&vectors, q, 10)).collect();
        report.graph_recall = recall_curve(&graph, &queries, &truth, &vectors);
        drop(graph);
        for &params in &graph_params {
            let ids: Vec<(crate::ChunkId, Vec<f32>)> = vectors
                .iter()
                .map(|(id, v)| (crate::ChunkId(*id), v.clone()))
                .collect();
            let dir = std::env::temp_dir().join(format!(
                "lexsearch-graph-{}-{}-{}",
                std::process::id(),
                params.max_connections,
                params.ef_construction
            ));
            let t = Instant::now();
            VectorIndex::build_with(dim, &ids, params).dump(&dir)?;
            let build_seconds = t.elapsed().as_secs_f64();
            drop(ids);
            let file_mb = std::fs::metadata(crate::index::flat::path_in(&dir))
                .map_or(0.0, |m| m.len() as f64 / 1e6);
            let trial = VectorIndex::open_for_search(&dir, dim, vectors.len() as u64)?;
            report.graph_trials.push(GraphTrial {
                max_connections: params.max_connections,
                ef_construction: params.ef_construction,
                build_seconds,
                file_mb,
                recall: recall_curve(&trial, &queries, &truth, &vectors),
            });
            drop(trial);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    if args.json {
        super::output::print_json(&report)?;
    } else {
        print_report(&report)?;
    }
    Ok(super::Outcome::Ok)
}

fn print_curve(w: &mut impl Write, curve: &[Recall]) -> std::io::Result<()> {
    for rc in curve {
        writeln!(
            w,
            "  graph ef {:>4}: recall@10 {:.3}  p50 {:.3} ms  p99 {:.3} ms",
            rc.ef, rc.recall_at_10, rc.latency.p50_ms, rc.latency.p99_ms
        )?;
    }
    Ok(())
}

/// A search of `k` hits for a latency run: the search `lexsearch search --each-copy` runs, each
/// copy of a text its own hit. A grown index holds every text once per replica, which would
/// otherwise make every search gather hundreds of copies, which a real folder seldom has
/// (what collapsing copies costs is in docs/benchmarks.md, "Copies of a passage").
fn bench_request(query: &str, k: usize) -> SearchRequest {
    SearchRequest {
        collapse_copies: false,
        ..SearchRequest::new(query, k)
    }
}

/// The latency of each mode's searches (10 hits) of [`QUERIES`], `rounds` times over,
/// narrowed to `paths`.
fn mode_latencies(
    searcher: &Searcher,
    embedder: &Embedder,
    rounds: usize,
    paths: &PathFilter,
) -> anyhow::Result<Vec<(String, Latency)>> {
    let mut out = Vec::new();
    for mode in [Mode::Keyword, Mode::Semantic, Mode::Hybrid] {
        let mut samples = Vec::new();
        for _ in 0..rounds {
            for q in QUERIES {
                let mut req = bench_request(q, 10);
                req.mode = mode;
                req.paths = paths.clone();
                let t = Instant::now();
                searcher.search(&req, Some(embedder))?;
                samples.push(t.elapsed());
            }
        }
        out.push((mode.name().to_string(), Latency::of(&samples)));
    }
    Ok(out)
}

/// One line per search mode: its latency percentiles.
fn write_mode_latencies(w: &mut impl Write, rows: &[(String, Latency)]) -> std::io::Result<()> {
    for (mode, l) in rows {
        writeln!(
            w,
            "  {mode:<8} p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  ({} queries)",
            l.p50_ms, l.p95_ms, l.p99_ms, l.n
        )?;
    }
    Ok(())
}

/// Recall@10 of `graph` against `truth` (exact top 10 of each query, among `vectors`) and
/// search latency, at each ef of the curve in docs/benchmarks.md. A hit as similar as the
/// tenth exact one counts as found: copies of a text share a vector, and which of them the
/// exact top 10 lists is arbitrary.
fn recall_curve(
    graph: &VectorIndex,
    queries: &[Vec<f32>],
    truth: &[ExactTop],
    vectors: &[(u64, Vec<f32>)],
) -> Vec<Recall> {
    let by_id: std::collections::HashMap<u64, &[f32]> =
        vectors.iter().map(|(id, v)| (*id, v.as_slice())).collect();
    [16, 32, 64, 128, 256, 512, 1024]
        .into_iter()
        .map(|ef| {
            let mut found = 0;
            let mut total = 0;
            let mut samples: Vec<Duration> = Vec::new();
            for (q, t) in queries.iter().zip(truth) {
                let start = Instant::now();
                let hits = graph.search_with_ef(q, 10, ef);
                samples.push(start.elapsed());
                found += hits
                    .iter()
                    .filter(|h| {
                        let id = h.chunk_id.0;
                        by_id.get(&id).is_some_and(|v| t.holds(id, dot(q, v)))
                    })
                    .count();
                total += t.ids.len();
            }
            Recall {
                ef,
                recall_at_10: found as f64 / total.max(1) as f64,
                latency: Latency::of(&samples),
            }
        })
        .collect()
}

/// `M:EF_CONSTRUCTION`, as `--graph-params` takes it.
fn parse_graph_params(spec: &str) -> anyhow::Result<crate::index::vector::GraphParams> {
    let parsed = spec.split_once(':').and_then(|(m, ef)| {
        Some(crate::index::vector::GraphParams {
            max_connections: m.trim().parse().ok()?,
            ef_construction: ef.trim().parse().ok()?,
        })
    });
    match parsed {
        Some(p) if (1..=256).contains(&p.max_connections) && p.ef_construction >= 1 => Ok(p),
        _ => anyhow::bail!(
            "--graph-params takes M:EF_CONSTRUCTION pairs such as 16:200 (M from 1 to 256), not {spec:?}"
        ),
    }
}

/// Compares `vectors` (of `texts`, from the benchmarked encoder) with the CPU f32 encoder's.
fn agreement(
    model_dir: &std::path::Path,
    texts: &[&str],
    vectors: &[Vec<f32>],
) -> anyhow::Result<Agreement> {
    let exact = crate::embed::Embedder::load(model_dir, crate::embed::DeviceSpec::Cpu)?;
    let expected = exact.embed(texts)?;
    let cos: Vec<f32> = expected
        .iter()
        .zip(vectors)
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>())
        .collect();
    Ok(Agreement {
        chunks: cos.len(),
        worst_cosine: cos.iter().copied().fold(f32::INFINITY, f32::min),
        mean_cosine: cos.iter().sum::<f32>() / cos.len().max(1) as f32,
    })
}

/// Hybrid searches of 10 hits with each number of reranked hits: what reranking takes.
fn rerank_latency(
    searcher: &Searcher,
    embedder: &crate::Embedder,
    dir: &std::path::Path,
    args: &BenchArgs,
) -> anyhow::Result<(crate::embed::RerankerInfo, Vec<RerankLatency>)> {
    let model = std::sync::Arc::new(crate::embed::CrossEncoder::load(dir, args.model.device)?);
    let info = model.info().clone();
    let mut out = Vec::new();
    for &top in &args.rerank_top {
        let (mut rerank, mut search, mut pair_tokens, mut pairs) = (Vec::new(), Vec::new(), 0, 0);
        // The first query once more, first, warms caches and is not counted.
        for (i, q) in QUERIES[..1].iter().chain(QUERIES).enumerate() {
            let mut req = bench_request(q, 10);
            req.rerank = Some(crate::search::rerank::Rerank {
                model: model.clone(),
                top,
            });
            let t = Instant::now();
            let results = searcher.search(&req, Some(embedder))?;
            let elapsed = t.elapsed();
            if i == 0 {
                continue;
            }
            search.push(elapsed);
            rerank.push(results.rerank_elapsed.unwrap_or_default());
            // The candidates' sizes: the best `top` fused hits, found without reranking.
            let mut fused = bench_request(q, top.max(1));
            fused.pinpoint.hits = 0;
            for h in searcher.search(&fused, Some(embedder))?.hits {
                pairs += 1;
                pair_tokens += model.pair_len(q, &h.text)?;
            }
        }
        out.push(RerankLatency {
            top,
            mean_pair_tokens: pair_tokens as f64 / pairs.max(1) as f64,
            rerank: Latency::of(&rerank),
            search: Latency::of(&search),
        });
    }
    Ok((info, out))
}

fn print_report(r: &Report) -> anyhow::Result<()> {
    let mut w = std::io::stdout().lock();
    writeln!(
        w,
        "cpu: {} ({} threads, {:.0} MHz; peak {:.0} GFLOP/s = threads x clock x {} FLOP/cycle, {})",
        r.cpu.model,
        r.cpu.threads,
        r.cpu.mhz,
        r.cpu.peak_gflops,
        r.cpu.flops_per_cycle,
        r.cpu.basis
    )?;
    writeln!(
        w,
        "instruction sets: f32 products {}, int8 products {} (int8 peak {:.0} GOP/s)",
        r.cpu.f32_isa, r.cpu.int8_isa, r.cpu.int8_peak_gops
    )?;
    writeln!(
        w,
        "embedding {} chunks of {} tokens with {} on {} in {} ({:.2} GFLOP each):",
        r.chunks, r.tokens_per_chunk, r.model, r.device, r.precision, r.gflop_per_chunk
    )?;
    for t in &r.embedding {
        write!(
            w,
            "  batch {:>3}: {:>8.2} chunks/s  {:>7.1} GFLOP/s",
            t.batch_size, t.chunks_per_second, t.gflops
        )?;
        if r.device == "cpu" {
            write!(w, "  {:>5.1} % of peak", t.percent_of_peak)?;
            if let Some(p) = t.percent_of_int8_peak {
                write!(w, " ({p:.1} % of the int8 peak)")?;
            }
        }
        writeln!(w)?;
    }
    if let Some(a) = &r.agreement {
        writeln!(
            w,
            "  against the CPU in f32 ({} chunks): worst cosine {:.6}, mean {:.6}",
            a.chunks, a.worst_cosine, a.mean_cosine
        )?;
    }
    if let (Some(g), Some(s)) = (&r.grown, r.grow_seconds) {
        writeln!(
            w,
            "grown in {s:.0} s to {} chunks in {} documents ({} real vectors, the rest generated)",
            g.chunks, g.documents, g.real_chunks
        )?;
    }
    if let (Some(open), Some(n)) = (r.index_open_ms, r.index_chunks) {
        writeln!(
            w,
            "index of {n} chunks opened in {open:.1} ms; resident memory {:.0} MB, {:.0} MB after the searches",
            r.resident_mb_after_open.unwrap_or(0.0),
            r.resident_mb_after_queries.unwrap_or(0.0)
        )?;
        writeln!(
            w,
            "searches of 10 hits, each copy of a text its own hit (as search --each-copy):"
        )?;
        write_mode_latencies(&mut w, &r.query_latency)?;
        for p in &r.path_latency {
            writeln!(
                w,
                "narrowed to --path {} ({} files; first search {:.1} ms, which finds them):",
                p.pattern, p.files, p.first_ms
            )?;
            write_mode_latencies(&mut w, &p.latency)?;
        }
        if let Some(info) = &r.reranker {
            writeln!(
                w,
                "reranking with {} ({} layers, hidden {}), hybrid searches of 10 hits:",
                info.name, info.layers, info.hidden
            )?;
            for l in &r.rerank_latency {
                writeln!(
                    w,
                    "  top {:>3}: reranking p50 {:>8.1} ms  p95 {:>8.1} ms; whole search p50 {:>8.1} ms  ({} queries, {:.0} tokens a pair)",
                    l.top,
                    l.rerank.p50_ms,
                    l.rerank.p95_ms,
                    l.search.p50_ms,
                    l.rerank.n,
                    l.mean_pair_tokens
                )?;
            }
        }
        print_curve(&mut w, &r.graph_recall)?;
        for g in &r.graph_trials {
            writeln!(
                w,
                "graph M {} ef_construction {}: built in {:.1} s, graph.flat {:.0} MB",
                g.max_connections, g.ef_construction, g.build_seconds, g.file_mb
            )?;
            print_curve(&mut w, &g.recall)?;
        }
    }
    Ok(())
}
