//! The command-line front end: clap arguments, converted once into library settings.
//!
//! Exit codes, for scripts: 0 success (hits found, everything indexed), 1 no hits,
//! 2 error (or files skipped while indexing), 130 stopped by Ctrl-C before it finished.

mod bench;
mod embed;
mod eval;
mod generate;
mod interrupt;
#[cfg(feature = "mcp")]
mod mcp;
mod output;
mod pull;
mod rerank;
mod show;
mod watch;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::embed::{DeviceSpec, Embedder, ModelFiles, Precision};
use crate::indexer::{IndexOptions, build_index};
use crate::library::{Library, SettingsRequest, find_index, locate_index};
use crate::search::documents::Documents;
use crate::search::fusion::Fusion;
use crate::search::glob::PathFilter;
use crate::search::pinpoint::PinpointSettings;
use crate::search::rerank::DEFAULT_RERANK_TOP;
use crate::search::{Mode, PassageAt, SearchRequest, Searcher};

/// Local, private, hybrid semantic search for legal documents.
///
/// Index a folder once with `lexsearch index DIR`, then search it from anywhere inside it with
/// `lexsearch search "QUERY"`. Nothing leaves this machine.
#[derive(Debug, Parser)]
#[command(name = "lexsearch", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// Without a command: the TUI inside an indexed folder, else this help.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Index a folder of documents (PDF, Word, WordPerfect, OpenDocument, RTF, spreadsheets, presentations, e-mail, calendars, contacts, text).
    ///
    /// E-mail (`.eml`, `.msg`), mailboxes (`.mbox`, Maildir folders) and Outlook data files
    /// (`.pst`, `.ost`, read by libpst's `readpst`: `apt install pst-utils`) give a document
    /// per message (`inbox.mbox#0003.eml`, `archive.pst#0003.eml`) and per attachment, and an
    /// Outlook data file one per calendar item and contact (`archive.pst#0001.ics`,
    /// `archive.pst#0001.vcf`). Calendars (`.ics`) and address books (`.vcf`) give a section
    /// per event, task or contact.
    ///
    /// Hidden files and folders are skipped, as are the `~$name.docx` owner files Office
    /// keeps beside an open document and whatever the folder's `.lexsearchignore` names, one
    /// pattern a line in gitignore's syntax (`drafts/`, `*.bak.docx`, `!keep.txt`, `/old`).
    /// A later run removes from the index what the file then leaves out.
    ///
    /// A later run reads only the files that changed. Ctrl-C stops a run within seconds,
    /// keeping the vectors computed so far for the next run (which goes on from them); the
    /// index stays as it was until a run completes.
    Index(IndexArgs),
    /// Search an index: keyword, semantic or hybrid.
    Search(SearchArgs),
    /// Print an indexed document's text at a place a hit names (the section holding a line,
    /// a numbered section, lines, a page, or all of it), or its outline, as the index read it.
    ///
    /// `lexsearch show leases/a.txt:71` prints the clause of that hit whole, from its
    /// heading to the next; `lexsearch show leases/a.txt --section 7.1` section 7.1;
    /// `lexsearch show brief.pdf#page=12` the text of page 12, as extracted for the index
    /// (also from DOCX, HTML, e-mail); `lexsearch show --outline contract.pdf` its articles
    /// and sections with their lines and pages.
    Show(show::ShowArgs),
    /// Inspect embedding models.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Embed texts from standard input (JSON lines {"text": ...}, JSON strings or plain
    /// lines): one JSON line per text with its vector, from the same encoder as the index.
    Embed(embed::EmbedArgs),
    /// Measure retrieval quality on labelled queries (LegalBench-RAG format).
    Eval(eval::EvalArgs),
    /// Show an index: folder, model, documents, chunks, tombstones, size, last update.
    Status(MaintainArgs),
    /// Check that catalog, keyword index and vector graph agree (--repair rebuilds them).
    Verify(VerifyArgs),
    /// Rebuild the vector graph without tombstones and with the vectors added since it was
    /// written (also done automatically once tombstones pass 20 %).
    Compact(MaintainArgs),
    /// Index a folder, then keep the index current as files change, until Ctrl-C.
    ///
    /// An update's new vectors wait beside the vector graph, searched exactly, until 8,192
    /// have gathered; the update that would pass that loads the graph from disk, inserts them
    /// and writes it anew. With `--keep-graph` the graph stays in memory between updates
    /// (about 1 GB at 200,000 chunks, 3.8 GB at a million, with the default model; loaded in
    /// the background after the first index), so that no update loads it.
    Watch(watch::WatchArgs),
    /// Measure encoder throughput, query latency and graph recall (see docs/benchmarks.md).
    Bench(bench::BenchArgs),
    /// Full-screen search as you type (the default inside an indexed folder).
    Tui(TuiArgs),
    /// Score passages on standard input against a query with a cross-encoder (reranker).
    Rerank(rerank::RerankCmdArgs),
    /// Serve the index to AI assistants over MCP (stdio, or streamable HTTP with --http).
    #[cfg(feature = "mcp")]
    Mcp(mcp::McpArgs),
    /// Write shell completions or manual pages (`lexsearch generate complete-bash`,
    /// `lexsearch generate man --dir ~/.local/share/man/man1`).
    Generate(generate::GenerateArgs),
}

#[derive(Debug, Args)]
struct MaintainArgs {
    /// The indexed folder (default: this one): its index is FOLDER/.lexsearch, or the
    /// nearest .lexsearch above it.
    #[arg(value_name = "FOLDER", conflicts_with = "index")]
    folder: Option<PathBuf>,
    /// The index: its folder, or the folder indexed (default: .lexsearch in this folder or
    /// the nearest one above).
    #[arg(long, value_name = "PATH")]
    index: Option<PathBuf>,
    #[command(flatten)]
    backend: BackendArgs,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

impl MaintainArgs {
    /// The index folder the arguments name, as a full path (which `status` prints).
    fn index_dir(&self) -> anyhow::Result<PathBuf> {
        let dir = match &self.folder {
            Some(folder) => {
                anyhow::ensure!(
                    folder.is_dir(),
                    "{} is not a folder: name the indexed folder, or pass --index PATH",
                    folder.display()
                );
                find_index(folder)?
            }
            None => locate_index(self.index.as_deref(), Path::new("."))?,
        };
        Ok(std::path::absolute(&dir).unwrap_or(dir))
    }
}

#[derive(Debug, Args)]
struct VerifyArgs {
    #[command(flatten)]
    common: MaintainArgs,
    /// Rebuild the keyword index and vector graph from the catalog if they disagree with it.
    #[arg(long)]
    repair: bool,
}

/// `status` and `verify` of a remote index: what its recorded manifest says and what the
/// server holds.
#[derive(Debug, serde::Serialize)]
struct RemoteStatus {
    /// `milvus://HOST:PORT/COLLECTION`.
    backend: String,
    /// The model that embedded the chunks.
    model: String,
    /// Its fingerprint.
    model_fingerprint: String,
    /// The indexed folder, on the machine that indexed it.
    root: PathBuf,
    /// Documents, as committed.
    documents: u64,
    /// Chunks, as committed.
    chunks: u64,
    /// Chunks the server holds now.
    chunks_stored: u64,
    /// The generation last committed.
    generation: u64,
    /// Whether the server holds exactly the committed number of chunks.
    consistent: bool,
}

fn remote_status(searcher: &Searcher) -> anyhow::Result<RemoteStatus> {
    let remote = searcher
        .remote()
        .context("a remote status needs --backend")?;
    let m = searcher.manifest();
    let chunks_stored = remote.count()?;
    Ok(RemoteStatus {
        backend: remote.name().to_string(),
        model: m.model.name.clone(),
        model_fingerprint: m.model.fingerprint.clone(),
        root: m.root.clone(),
        documents: m.documents,
        chunks: m.chunks,
        chunks_stored,
        generation: m.generation,
        consistent: chunks_stored == m.chunks,
    })
}

/// `verify --backend`: the collection against the local catalog of what was sent to it.
fn verify_remote(args: &MaintainArgs, searcher: &Searcher) -> anyhow::Result<Outcome> {
    let remote = searcher
        .remote()
        .context("a remote verification needs --backend")?;
    let url = crate::index::remote::RemoteUrl::parse(remote.name())?;
    let index = args.index_dir().with_context(|| {
        format!(
            "verify --backend compares {} with the local catalog of what was sent to it: \
             run it in the indexed folder, or name that folder",
            remote.name()
        )
    })?;
    let catalog = url.catalog_dir(&index);
    let v = crate::maintain::verify_remote(&catalog, remote.as_ref()).with_context(|| {
        format!(
            "reading the catalog of what was sent, {}",
            catalog.display()
        )
    })?;
    if args.json {
        output::print_json(&v)?;
    } else {
        let ids = |ids: &[u64], n: usize| {
            let list: Vec<String> = ids.iter().map(u64::to_string).collect();
            format!(
                "{}{}",
                list.join(", "),
                if n > ids.len() { ", ..." } else { "" }
            )
        };
        println!(
            "{}\n  catalog {}\n  {} chunks sent, {} stored",
            v.backend,
            v.catalog.display(),
            v.chunks_local,
            v.chunks_stored
        );
        for (what, n, list) in [
            ("missing from the collection", v.missing, &v.missing_ids),
            (
                "in the collection but not the catalog",
                v.extra,
                &v.extra_ids,
            ),
            ("different from the catalog", v.different, &v.different_ids),
        ] {
            if n > 0 {
                println!("  {n} chunks {what}: {}", ids(list, n));
            }
        }
        if v.consistent {
            println!("  every chunk matches");
        } else {
            println!(
                "  run `lexsearch index DIR --backend {}` again to resend them (or --rebuild)",
                v.backend
            );
        }
    }
    Ok(if v.consistent {
        Outcome::Ok
    } else {
        Outcome::Partial
    })
}

/// Where the search arms live: the local index, or a Milvus collection (`index`, `search`,
/// `eval`, `status`).
#[derive(Debug, Args, Default)]
struct BackendArgs {
    /// Keep the chunks and search them in a Milvus collection instead of the local index:
    /// milvus://HOST:PORT/COLLECTION (a build with --features milvus; docs/scale.md). The
    /// catalog of what was sent stays in the local index folder.
    #[arg(long, value_name = "URL")]
    backend: Option<String>,
    /// File holding the Milvus token (user:password or an API key); default: the MILVUS_TOKEN
    /// environment variable.
    #[arg(long, value_name = "FILE", requires = "backend")]
    milvus_token_file: Option<PathBuf>,
    /// Where a hybrid search of the backend fuses its arms: client (each arm fetched from
    /// Milvus and fused by lexsearch, exactly as for a local index) or server (Milvus's own
    /// hybrid search with its RRF or weighted ranker; docs/quality.md). Default: client.
    #[arg(long, value_enum, value_name = "WHERE", requires = "backend")]
    remote_fusion: Option<RemoteFusionArg>,
}

/// `--remote-fusion`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
enum RemoteFusionArg {
    /// lexsearch fuses the arms fetched from the server.
    #[default]
    Client,
    /// The server's own hybrid search.
    Server,
}

impl BackendArgs {
    /// The token: the file's first line, else `MILVUS_TOKEN`.
    fn token(&self) -> anyhow::Result<Option<String>> {
        if let Some(file) = &self.milvus_token_file {
            let text = std::fs::read_to_string(file).with_context(|| {
                format!(
                    "reading the Milvus token from {} (pass a readable file, or set MILVUS_TOKEN)",
                    file.display()
                )
            })?;
            return Ok(text.lines().next().map(|l| l.trim().to_string()));
        }
        Ok(std::env::var("MILVUS_TOKEN").ok().filter(|t| !t.is_empty()))
    }

    /// The remote index named, if any.
    fn spec(&self) -> anyhow::Result<Option<crate::index::remote::RemoteSpec>> {
        let Some(url) = &self.backend else {
            return Ok(None);
        };
        let fusion = match self.remote_fusion.unwrap_or_default() {
            RemoteFusionArg::Client => crate::index::remote::RemoteFusion::Client,
            RemoteFusionArg::Server => crate::index::remote::RemoteFusion::Server,
        };
        Ok(Some(crate::index::remote::RemoteSpec {
            url: url.clone(),
            token: self.token()?,
            fusion,
        }))
    }

    /// A searcher over the remote index, when one is named.
    fn remote_searcher(&self) -> anyhow::Result<Option<Searcher>> {
        match self.spec()? {
            Some(spec) => Ok(Some(Searcher::open_backend(&spec)?)),
            None => Ok(None),
        }
    }
}

/// The model a search uses: `--model`, else the one that built the index when it is on this
/// machine, else the default model (the searcher refuses a model other than the index's).
/// What a failed load of an index's model says first: for the model the index was built with,
/// when its folder is not on this machine, which model that is and where else it was looked for.
fn not_here(args: &ModelArgs, built: &crate::embed::ModelInfo, dir: &Path) -> String {
    if args.model.is_some() || built.dir == dir {
        return format!("loading the model {}", dir.display());
    }
    format!(
        "the index was built with the model {} from {}, which is not on this machine, nor \
         under that name in its model cache {} (give its folder with --model DIR, or fetch it \
         into the cache: `lexsearch model pull ORG/NAME` for a hub model)",
        built.name,
        built.dir.display(),
        crate::embed::model_cache_dir().display()
    )
}

fn search_model_dir(args: &ModelArgs, searcher: &Searcher) -> PathBuf {
    (args.model.clone())
        .unwrap_or_else(|| crate::embed::index_model_dir(&searcher.manifest().model))
}

#[derive(Debug, Args)]
struct ModelArgs {
    /// Model folder (Hugging Face sentence-transformers layout), or ORG/NAME of a model fetched
    /// by `lexsearch model pull`. Default: the index's own model when searching, else the
    /// cached all-MiniLM-L6-v2 fetched by scripts/fetch-model.
    #[arg(long, env = "LEXSEARCH_MODEL_DIR", value_name = "DIR", value_parser = parse_model)]
    model: Option<PathBuf>,
    /// Where to run the encoder: cpu, cuda, cuda:N or auto (a GPU when this build and
    /// machine have one, else the CPU; the summary says which).
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    device: DeviceSpec,
    /// Number format of the encoder: auto (f32 on the CPU, f16 on a GPU), f32, f16, bf16, or
    /// int8 (CPU, BERT-family models: 2.1-2.9x f32 with AVX-512 VNNI or AVX-VNNI, 2.6-3.2x
    /// with AMX, about 1.5x with AVX2 alone; its quality cost is in docs/quality.md).
    #[arg(long, default_value = "auto", value_parser = parse_precision)]
    precision: Precision,
    /// Texts per forward pass (default 8 on the CPU, and in int8 at most 512 tokens: two
    /// chunks of 256; 256 on a GPU).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    batch_size: Option<usize>,
}

/// `--model`: a folder, or a pulled hub model's folder in the cache.
fn parse_model(s: &str) -> Result<PathBuf, String> {
    Ok(crate::embed::resolve_model_arg(Path::new(s)))
}

/// Cross-encoder reranking of the best fused hits (`search`, `tui`, `mcp`).
#[derive(Debug, Args)]
struct RerankArgs {
    /// Re-score the best fused hits with this cross-encoder folder (sentence-transformers
    /// CrossEncoder layout, e.g. cross-encoder/ms-marco-MiniLM-L6-v2) and order them by its
    /// score; it runs on --device. ORG/NAME finds a folder pulled by `lexsearch model pull`.
    #[arg(long, value_name = "DIR", value_parser = parse_model)]
    rerank: Option<PathBuf>,
    /// How many of the best fused hits the reranker re-scores; the hits after them keep
    /// their fused order (docs/benchmarks.md has the cost of each).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_RERANK_TOP, requires = "rerank")]
    rerank_top: usize,
}

impl RerankArgs {
    /// The reranker asked for, loaded, with its number of hits.
    fn load(&self, device: DeviceSpec) -> anyhow::Result<Option<crate::search::rerank::Rerank>> {
        let Some(dir) = &self.rerank else {
            return Ok(None);
        };
        let model = crate::embed::CrossEncoder::load(dir, device)?;
        Ok(Some(crate::search::rerank::Rerank {
            model: std::sync::Arc::new(model),
            top: self.rerank_top,
        }))
    }
}

/// A count that must be at least 1 (`--batch-size`, `--over-fetch`).
pub(crate) fn at_least_one(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{e}: give a whole number of at least 1")),
    }
}

fn parse_precision(s: &str) -> Result<Precision, String> {
    s.parse()
}

fn parse_device(s: &str) -> Result<DeviceSpec, String> {
    s.parse()
}

/// `--ocr`: when to read PDF pages by OCR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OcrArg {
    /// Pages without a text layer, when Tesseract is installed.
    Auto,
    /// Every page.
    Always,
    /// None.
    Never,
}

impl From<OcrArg> for crate::ingest::ocr::OcrMode {
    fn from(a: OcrArg) -> Self {
        match a {
            OcrArg::Auto => Self::Auto,
            OcrArg::Always => Self::Always,
            OcrArg::Never => Self::Never,
        }
    }
}

#[derive(Debug, Args)]
struct IndexArgs {
    /// The folder to index.
    dir: PathBuf,
    /// Where to keep the index (default DIR/.lexsearch). Needed for read-only folders.
    #[arg(long, value_name = "PATH")]
    index: Option<PathBuf>,
    #[command(flatten)]
    backend: BackendArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Rebuild from scratch, even with another model or other chunking settings. Without it,
    /// a run keeps the model and settings the index was built with, and refuses others.
    #[arg(long)]
    rebuild: bool,
    /// If another process is updating the index, wait for it to finish instead of refusing.
    #[arg(long)]
    wait: bool,
    #[command(flatten)]
    chunking: ChunkArgs,
    /// Skip files larger than this: bytes, or with a unit (`500MB`, `1.5GB`, `800k`; units of
    /// 1,024). Default 200MB.
    #[arg(
        long,
        default_value_t = crate::ingest::extract::DEFAULT_MAX_FILE_BYTES,
        value_name = "SIZE",
        value_parser = parse_size,
        hide_default_value = true
    )]
    max_file_size: u64,
    /// Threads that extract and chunk files (default: 1 when embedding on the CPU, whose
    /// cores the encoder needs; all cores but one with a GPU).
    #[arg(long, value_name = "N")]
    extract_threads: Option<usize>,
    /// OCR of PDF pages with Tesseract: `auto` reads pages without a text layer when
    /// Tesseract is installed, `always` reads every page, `never` none.
    #[arg(long, value_enum, default_value_t = OcrArg::Auto)]
    ocr: OcrArg,
    /// Languages of scanned pages, as Tesseract names them, joined by `+` (`eng`, `deu`,
    /// `eng+fra`; `tesseract --list-langs` shows those installed). Default: those the index
    /// was built with, else `eng`. Changing them reads again the pages read in others.
    #[arg(long, env = "LEXSEARCH_OCR_LANG", value_name = "LANGS", value_parser = parse_ocr_lang)]
    ocr_lang: Option<String>,
    /// Follow symbolic links that lead out of the folder (links inside it are always
    /// followed); `--follow-links=false` stops. Default: as the index was last built, else
    /// not: such links are listed as skipped.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    follow_links: Option<bool>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// List what would be indexed and what would be skipped (with reasons), without loading
    /// the model or writing an index.
    #[arg(long)]
    dry_run: bool,
}

/// `--max-file-size`: a number of bytes, or of kilobytes, megabytes or gigabytes (`k`, `kb`,
/// `kib`, `m`, `mb`, `mib`, `g`, `gb`, `gib`, any case, units of 1,024, as the 200 MB default).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim().to_ascii_lowercase());
    let scale: u64 = match unit.as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => 0,
    };
    match number.parse::<f64>() {
        // At least a byte: `0.2` (bytes, no unit) would be a limit that refuses every file.
        Ok(n) if scale > 0 && n.is_finite() && (n * scale as f64).round() >= 1.0 => {
            Ok((n * scale as f64).round() as u64)
        }
        _ => Err(format!(
            "{s:?} is not a size: give bytes or a number with a unit, such as `500MB`, \
             `1.5GB` or `800k`"
        )),
    }
}

/// `--ocr-lang`: Tesseract language codes (letters, digits, `_`) joined by `+`.
fn parse_ocr_lang(s: &str) -> Result<String, String> {
    let valid = |code: &str| {
        !code.is_empty() && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if s.split('+').all(valid) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not a list of Tesseract languages: give codes such as `eng`, `deu` or \
             `chi_sim`, joined by `+` (`tesseract --list-langs` shows those installed)"
        ))
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    Hybrid,
    Keyword,
    Semantic,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FusionArg {
    /// Reciprocal rank fusion.
    Rrf,
    /// Normalised-score convex combination (see --alpha).
    Weighted,
}

/// How documents are cut into chunks and what is embedded with them (`index` and `eval`).
#[derive(Debug, Args)]
struct ChunkArgs {
    /// Largest chunk, in model tokens [default: 200, or less for models with shorter inputs].
    #[arg(long, value_name = "TOKENS")]
    chunk_tokens: Option<usize>,
    /// Overlap between windows of one long paragraph, in tokens [default: 32].
    #[arg(long, value_name = "TOKENS")]
    chunk_overlap: Option<usize>,
    /// Embed chunk text alone, without the document title and heading breadcrumb.
    #[arg(long)]
    no_context: bool,
}

impl ChunkArgs {
    /// The settings asked for; those not given keep the index's own (or the defaults, scaled
    /// to the model's input length, for a new index).
    fn request(&self) -> SettingsRequest {
        SettingsRequest {
            chunk_tokens: self.chunk_tokens,
            chunk_overlap: self.chunk_overlap,
            context_in_embedding: self.no_context.then_some(false),
        }
    }
}

/// The model an index run (`index`, `watch`) uses, loaded: `--model`, else the one the index
/// at `index_dir` was built with ([`crate::embed::index_model_dir`]), else the default model
/// (also for a `rebuild`, which may change models); at `--precision`, or else the index's own
/// (an int8 index stays int8: [`Precision::for_index`]).
fn load_index_model(args: &ModelArgs, index_dir: &Path, rebuild: bool) -> anyhow::Result<Embedder> {
    let built = Library::at(index_dir).manifest().ok().map(|m| m.model);
    let dir = (args.model.clone())
        .or_else(|| built.as_ref().map(crate::embed::index_model_dir))
        .unwrap_or_else(default_model_dir);
    let precision = match &built {
        Some(m) if !rebuild => args.precision.for_index(&m.fingerprint),
        _ => args.precision,
    };
    load_model(&dir, args, precision).with_context(|| match &built {
        Some(m) if !rebuild => not_here(args, m, &dir),
        _ => format!("loading the model {}", dir.display()),
    })
}

/// How hybrid search fuses its two arms (shared by `search` and `eval`).
#[derive(Debug, Args)]
struct FusionArgs {
    /// How hybrid mode fuses the two rankings.
    #[arg(long, value_enum, default_value_t = FusionArg::Weighted)]
    fusion: FusionArg,
    /// RRF damping constant.
    #[arg(long, default_value_t = crate::search::fusion::DEFAULT_RRF_K)]
    rrf_k: f32,
    /// Weight of the keyword arm in RRF, relative to the semantic arm.
    #[arg(long, default_value_t = crate::search::fusion::DEFAULT_KEYWORD_WEIGHT, value_name = "W")]
    keyword_weight: f32,
    /// Weight of the semantic arm for --fusion weighted, in [0, 1]; queries with a citation
    /// (§ 1983, 7.2(a)) use at most 0.5.
    #[arg(long, default_value_t = crate::search::fusion::DEFAULT_ALPHA)]
    alpha: f32,
    /// Each arm fetches this many times k candidates before fusion (k counted as 64 when
    /// less, so that a small -k gives the first hits of a large one).
    #[arg(long, default_value_t = 4, value_name = "FACTOR", value_parser = at_least_one)]
    over_fetch: usize,
    /// How much hybrid mode favours hits from a document whose file name the query names
    /// ("Consider Keep's privacy policy"), relative to the best fused score (0 turns it off).
    #[arg(long, default_value_t = crate::search::fusion::DEFAULT_NAME_WEIGHT, value_name = "W")]
    name_weight: f32,
}

impl FusionArgs {
    fn fusion(&self) -> Fusion {
        match self.fusion {
            FusionArg::Rrf => Fusion::Rrf {
                k: self.rrf_k,
                keyword_weight: self.keyword_weight,
            },
            FusionArg::Weighted => Fusion::Weighted { alpha: self.alpha },
        }
    }
}

/// When to colour output.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

#[derive(Debug, Args)]
struct SearchArgs {
    /// What to look for: words, a question, a citation; chunks holding a "quoted phrase"
    /// exactly rank first, and a paragraph cited by its labels (`§ 42-3505.01(c-1)`,
    /// `Section 7.2(a)`) first of all, pinpointed, where its section's title or heading names
    /// the number. A word or quoted phrase starting with + must be in every hit
    /// (`+arbitration`, `+"force majeure"`), one starting with - in none (`-mutual`): matched
    /// as the keyword search matches words, so `-terminate` also leaves out "termination".
    /// In capitals, as Lexis and Westlaw write them: `lease AND assignment` (or `&`) is
    /// `+lease +assignment`, `termination NOT convenience` (`BUT NOT`, `AND NOT`, Westlaw's
    /// `%`) is `termination -convenience`, and `OR` only goes (any word may match); a query all in
    /// capitals (`SHALL NOT BE LIABLE`) is text, and so is a `NOT` a sentence stresses
    /// (`does NOT pay`, `agrees NOT to compete`). Brackets beside one of these make a group,
    /// any of whose words or phrases will do: `(breach OR default) w/5 notice`,
    /// `cure AND (notice OR demand)`, `NOT (sublease OR assignment)` (words in a group are
    /// joined by OR, `or`, `|` or spaces alone; groups do not nest); beside AND, a group may
    /// also hold conditions that must all hold (`lease AND (late w/3 fee)`), pairs in
    /// brackets joined by OR are any of them (`(late w/3 fee) OR (late w/3 charge)`), and a
    /// pair in brackets beside a connector holds, a word of it that close to the other side
    /// (`(breach /s warranty) /p notice`); one after NOT or `-` is left out (`lease NOT (late
    /// w/3 fee)`).
    /// `breach w/5 warranty` (or Westlaw's `/5`): the two words at most 5 positions apart, in
    /// either order;
    /// `breach /s warranty`: in one sentence; `breach /p warranty`: in one paragraph;
    /// `breach pre/5 warranty` (or `+5`): "breach" first; `breach +s warranty`, `+p`: "breach"
    /// first in
    /// one sentence, one paragraph; a side may be a quoted phrase (`"due process" /s "equal
    /// protection"`). `indemnif! not w/5 negligen!` (Lexis; also `not /s`, `not /p`):
    /// "indemnif!" at least once without "negligen!" that close. `atleast3(indemnif!)`
    /// (Lexis): chunks holding the word or root three times or more (a phrase too:
    /// `atleast2("hold harmless")`).
    /// `heading:termination`, `heading:"events of default"`: only passages under a heading
    /// (or in a document whose title or file name) holds those words; `-heading:definitions`
    /// leaves those out. `define:"Event of Default"`: the passages that define the term
    /// (`"X" means`, `(the "X")`, `is an "X"`), pinpointed at the definition.
    /// `negligen!`: any word that begins so (negligence, negligent); `wom*n`: one character
    /// for each star (two letters at least before the first `!` or `*`); also in a quoted
    /// phrase (`+"breach of contract!"`).
    /// `sent:2020-03`: only e-mails sent that day, month or year, and their attachments;
    /// also `sent:2019-11..2020-02-15`, `sent:2021..`, `sent:>=2020-06`, `sent:<2021`.
    /// `from:ann@firm.example`, `from:"Ann Lee"`, `to:client.example`: only e-mails whose
    /// From, or To or Cc, holds those words; `folder:"Sent Items"`: only e-mails in a folder
    /// so named (of an Outlook data file or a Maildir); `-from:`, `-to:`, `-folder:`,
    /// `-sent:`: leave such e-mails out. `like:leases/a.txt:27`: passages like the one at that
    /// place (as --like)
    #[arg(required_unless_present_any = ["queries", "like"], allow_hyphen_values = true)]
    query: Option<String>,
    /// Passages like the one at FILE:LINE instead of like a query: the clauses of other
    /// documents (and of the same one) closest in meaning to that passage, e.g. `--like
    /// leases/a.txt:27` (the place a hit prints; FILE as a hit names it, from the indexed
    /// folder, or its full path). A semantic search with the passage's own vector; the
    /// passage and the chunks overlapping it are left out. A QUERY beside it may only add
    /// conditions (`-termination`, `+"governing law"`, `sent:2020`); with --path,
    /// --max-per-file, -k as usual.
    #[arg(long, value_name = "FILE:LINE", conflicts_with = "queries")]
    like: Option<String>,
    /// Run every query of FILE (one a line; `-`: standard input) with one model load and
    /// print one line of JSON each (the `--json` document, or `{"query", "error"}` for one
    /// that cannot run, which makes the exit status 2 once all have run).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["query", "files_with_matches", "explain"])]
    queries: Option<PathBuf>,
    /// The index: its folder, or the folder indexed (default: .lexsearch in this folder or
    /// the nearest one above).
    #[arg(long, value_name = "PATH")]
    index: Option<PathBuf>,
    #[command(flatten)]
    backend: BackendArgs,
    /// Keyword (BM25), semantic (embeddings) or both fused.
    #[arg(long, value_enum, default_value_t = ModeArg::Hybrid)]
    mode: ModeArg,
    /// Number of hits (also `-n`, `--limit`).
    #[arg(short, short_alias = 'n', long = "limit", default_value_t = 10)]
    k: usize,
    /// Search only files whose path (from the indexed folder) matches this pattern, e.g.
    /// `leases/*`, `*.pdf`, `2024/*nda*`: `*` matches any characters (slashes too), `?` one;
    /// a pattern without wildcards matches anywhere in the path (`lease`), one without `/`
    /// also the file name alone. Case-insensitive. A path from the current folder (`./2024`,
    /// `../nda.md`, `.`, a full path) keeps the files under it. Repeat it for files matching
    /// any of several. Both arms rank only those files' chunks, so the best k of them come back
    /// however many other files the index holds.
    #[arg(long = "path", value_name = "GLOB")]
    paths: Vec<String>,
    /// At most N hits from one file: with 1, the k best files, each by its best chunk
    /// ("which of my NDAs allow disclosure to affiliates?"). The arms fetch deeper for it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_per_file: Option<u32>,
    /// Print only the paths of the k best files, one a line, best first (each file by its
    /// best chunk, as with --max-per-file 1; an e-mail for its attachments), for scripts:
    /// `lexsearch search -l "non-compete covenant" | xargs -d '\n' ls -l`.
    #[arg(short = 'l', long, conflicts_with_all = ["json", "explain", "max_per_file"])]
    files_with_matches: bool,
    /// List chunks of exactly the same text in other files (a template in every matter
    /// folder, an attachment sent many times) as hits of their own. By default they are
    /// collapsed into the best of them, which names their places ("also in ..."; `copies` in
    /// the JSON), so that the k hits are k different passages, and each arm looks past the
    /// copies so that they do not push the passage down; this flag searches as before that.
    #[arg(long)]
    each_copy: bool,
    /// Show N lines of the document before and after what each hit cites (its pinpoint,
    /// else its passage), numbered, as `grep -C` does: `83:` marks the cited lines, `81-`
    /// the others (`context` in the JSON). The document is read again as the index read it;
    /// one changed since shows the indexed passage alone, and says so.
    #[arg(
        short = 'C',
        long = "context",
        value_name = "N",
        conflicts_with = "files_with_matches"
    )]
    context: Option<u32>,
    /// Show N lines before what each hit cites (as -C, before only; overrides -C there).
    #[arg(
        short = 'B',
        long = "before-context",
        value_name = "N",
        conflicts_with = "files_with_matches"
    )]
    before_context: Option<u32>,
    /// Show N lines after what each hit cites (as -C, after only; overrides -C there).
    #[arg(
        short = 'A',
        long = "after-context",
        value_name = "N",
        conflicts_with = "files_with_matches"
    )]
    after_context: Option<u32>,
    #[command(flatten)]
    fusion: FusionArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    rerank: RerankArgs,
    /// Print hits as JSON (schema in docs/json.md).
    #[arg(long)]
    json: bool,
    /// Show why each hit ranked: each arm's rank and score (and the reranker's).
    #[arg(long)]
    explain: bool,
    /// Do not look for each hit's pinpoint (the sentence or clause that best answers the
    /// query); saves the time of embedding the best hits' sentences.
    #[arg(long)]
    no_pinpoint: bool,
    /// Weight of embedding similarity against keyword evidence when choosing pinpoints, in
    /// [0, 1]; 0 scores by keywords alone and embeds nothing (fastest; docs/quality.md).
    #[arg(long, value_name = "W", default_value_t = PinpointSettings::default().semantic_weight)]
    pinpoint_weight: f32,
    /// Colour output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Args)]
struct TuiArgs {
    /// The index: its folder, or the folder indexed (default: .lexsearch in this folder or
    /// the nearest one above).
    #[arg(long, value_name = "PATH")]
    index: Option<PathBuf>,
    /// The mode to start in (Tab switches).
    #[arg(long, value_enum, default_value_t = ModeArg::Hybrid)]
    mode: ModeArg,
    /// Hits per search (the path filter narrows these; also `-n`, `--limit`).
    #[arg(short, short_alias = 'n', long = "limit", default_value_t = crate::tui::app::DEFAULT_K)]
    k: usize,
    #[command(flatten)]
    model: ModelArgs,
    /// Ctrl-R turns reranking off and on again.
    #[command(flatten)]
    rerank: RerankArgs,
    #[command(flatten)]
    backend: BackendArgs,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Hybrid => Mode::Hybrid,
            ModeArg::Keyword => Mode::Keyword,
            ModeArg::Semantic => Mode::Semantic,
        }
    }
}

#[derive(Debug, Subcommand)]
enum ModelCommand {
    /// Diagnose a model folder: files, architecture, tokenizer, pooling, and a test embedding.
    Check {
        /// The model folder, or ORG/NAME of a pulled model (default: $LEXSEARCH_MODEL_DIR, as
        /// for the other commands, else the cached all-MiniLM-L6-v2).
        #[arg(env = "LEXSEARCH_MODEL_DIR", value_parser = parse_model)]
        dir: Option<PathBuf>,
        /// Where to run the test embedding.
        #[arg(long, default_value = "cpu", value_parser = parse_device)]
        device: DeviceSpec,
        /// Print the diagnosis as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the models in the model cache: the default one, those `model pull` fetched (the
    /// name each takes as --model or --rerank), and pulls that were interrupted.
    List {
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Download a model from the Hugging Face hub (or the server in HF_ENDPOINT) into the model
    /// cache, resumably and checked against the hub's checksums; `--model ORG/NAME` then finds
    /// it. Only config, tokenizer, safetensors weights and sentence-transformers modules are
    /// fetched. A gated or private model needs an access token in HF_TOKEN.
    Pull {
        /// The model, as ORG/NAME (e.g. sentence-transformers/all-MiniLM-L6-v2).
        name: String,
        /// A branch, tag or commit.
        #[arg(long, default_value = "main")]
        revision: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub use crate::embed::default_model_dir;

/// What a command found, for the exit code.
enum Outcome {
    Ok,
    NoHits,
    Partial,
    /// Ctrl-C (or SIGTERM) stopped the run before it finished; it said what was kept.
    Interrupted,
}

/// Splits `-k5` and `-k=5` into `-k 5` before parsing: a query may begin with a hyphen
/// (`-termination notice`), and clap then reads a short option with its value attached as
/// the query (clap-rs/clap#6018). Nothing after `--` is touched.
fn split_attached_k(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut options = true;
    for arg in args {
        if options && arg == "--" {
            options = false;
        }
        let value = arg
            .to_str()
            .and_then(|a| a.strip_prefix("-k"))
            .map(|v| v.strip_prefix('=').unwrap_or(v))
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()));
        match value {
            Some(v) if options => {
                out.push(OsString::from("-k"));
                out.push(OsString::from(v));
            }
            _ => out.push(arg),
        }
    }
    out
}

/// Runs the CLI and maps the result to an exit code (0 ok, 1 no hits, 2 error).
///
/// `release_freed_memory` gives the memory the allocator holds free back to the system: a
/// long-lived command (`watch`) calls it after work that freed much (a vector graph loaded and
/// dropped), so that its resident memory falls back while it waits.
pub fn main(release_freed_memory: fn()) -> ExitCode {
    let _ = RELEASE_FREED_MEMORY.set(release_freed_memory);
    // Parsing starts no thread, so the environment may still be changed after it.
    let cli = Cli::parse_from(split_attached_k(std::env::args_os()));
    if !cli.encodes_off_the_cpu() {
        prefer_batch_parallelism();
    }
    // A parser crashing on one file is reported as that file's skip reason, not on stderr.
    crate::ingest::isolate::quiet_isolated_panics();
    match run(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::NoHits) => ExitCode::from(1),
        Ok(Outcome::Partial) => ExitCode::from(2),
        Ok(Outcome::Interrupted) => ExitCode::from(interrupt::INTERRUPTED),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// What [`main`] was given to release the allocator's free memory.
static RELEASE_FREED_MEMORY: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Gives the memory the allocator holds free back to the system (nothing when [`main`] was
/// given no way to).
fn release_freed_memory() {
    if let Some(release) = RELEASE_FREED_MEMORY.get() {
        release();
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    let pipe = Some(std::io::ErrorKind::BrokenPipe);
    err.chain().any(|e| {
        // serde_json's error of a failed write does not name the I/O error as its source.
        e.downcast_ref::<std::io::Error>().map(std::io::Error::kind) == pipe
            || e.downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == pipe
    })
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let Some(command) = cli.command else {
        return no_command();
    };
    match command {
        Command::Index(args) => index(args),
        Command::Search(args) => search(args),
        Command::Show(args) => show::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Status(args) => maintain(args, "status", false),
        Command::Verify(args) => maintain(args.common, "verify", args.repair),
        Command::Compact(args) => maintain(args, "compact", false),
        Command::Watch(args) => watch::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Model(ModelCommand::Check { dir, device, json }) => {
            let dir = dir.unwrap_or_else(default_model_dir);
            output::model_check(&dir, device, json)
        }
        Command::Model(ModelCommand::Pull {
            name,
            revision,
            json,
        }) => pull::run(&name, &revision, json),
        Command::Model(ModelCommand::List { json }) => {
            output::model_list(&crate::embed::model_cache_dir(), json)
        }
        Command::Tui(args) => tui(args),
        Command::Embed(args) => embed::run(args),
        Command::Rerank(args) => rerank::run(args),
        #[cfg(feature = "mcp")]
        Command::Mcp(args) => mcp::run(args),
        Command::Generate(args) => generate::run(args),
    }
}

/// `lexsearch` alone: the TUI inside an indexed folder on a terminal, else the help (exit 2).
fn no_command() -> anyhow::Result<Outcome> {
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let found = find_index(Path::new("."));
    if interactive && found.is_ok() {
        // `lexsearch tui` with every default, environment included.
        if let Some(Command::Tui(args)) = Cli::try_parse_from(["lexsearch", "tui"])?.command {
            return tui(args);
        }
    }
    // In a folder of matters, the indexed ones below are what the user may have meant.
    if let Err(e @ crate::error::Error::NoIndex { below, .. }) = &found
        && !below.is_empty()
    {
        eprintln!("error: {e}\n");
    }
    eprintln!("{}", <Cli as clap::CommandFactory>::command().render_help());
    Ok(Outcome::Partial)
}

fn tui(args: TuiArgs) -> anyhow::Result<Outcome> {
    if let Some(searcher) = args.backend.remote_searcher()? {
        let settings = crate::tui::Settings {
            rerank: args.rerank.load(args.model.device)?,
            // The model that built the collection is often not on this machine's path.
            model_dir: Some(search_model_dir(&args.model, &searcher)),
            device: args.model.device,
            mode: args.mode.into(),
            k: args.k,
            indexed_below: Vec::new(),
        };
        crate::tui::run(Some(searcher), settings)?;
        return Ok(Outcome::Ok);
    }
    let found = locate_index(args.index.as_deref(), Path::new("."));
    let searcher = match &found {
        Ok(dir) => {
            Some(Searcher::open(dir).with_context(|| format!("opening index {}", dir.display()))?)
        }
        // The screen says how to build one; the error is printed once it is gone.
        Err(_) => None,
    };
    let indexed_below = match &found {
        Err(crate::error::Error::NoIndex { below, .. }) => below.clone(),
        _ => Vec::new(),
    };
    let settings = crate::tui::Settings {
        rerank: args.rerank.load(args.model.device)?,
        model_dir: args.model.model,
        device: args.model.device,
        mode: args.mode.into(),
        k: args.k,
        indexed_below,
    };
    crate::tui::run(searcher, settings)?;
    found?;
    Ok(Outcome::Ok)
}

impl Cli {
    /// Whether the command may run the encoder on a GPU. The host's cores then go to
    /// tokenising, extracting and writing, in rayon's global pool.
    fn encodes_off_the_cpu(&self) -> bool {
        let device = match &self.command {
            Some(Command::Index(a)) => a.model.device,
            Some(Command::Search(a)) => a.model.device,
            Some(Command::Eval(a)) => a.model.device,
            Some(Command::Watch(a)) => a.model.device,
            Some(Command::Bench(a)) => a.model.device,
            Some(Command::Tui(a)) => a.model.device,
            Some(Command::Embed(a)) => a.model().device,
            Some(Command::Rerank(a)) => a.device,
            #[cfg(feature = "mcp")]
            Some(Command::Mcp(a)) => a.model.device,
            Some(Command::Model(ModelCommand::Check { device, .. })) => *device,
            Some(
                Command::Status(_)
                | Command::Verify(_)
                | Command::Compact(_)
                | Command::Generate(_)
                | Command::Show(_)
                | Command::Model(ModelCommand::Pull { .. } | ModelCommand::List { .. }),
            )
            | None => DeviceSpec::Cpu,
        };
        match device {
            DeviceSpec::Cpu => false,
            DeviceSpec::Cuda(_) => true,
            // Without the feature, `auto` is the CPU. With it, the GPU is probed later, after
            // threads may exist; a fallback to the CPU then embeds without batch parallelism.
            DeviceSpec::Auto => cfg!(feature = "cuda"),
        }
    }
}

/// One thread per matrix product in candle (`RAYON_NUM_THREADS=1`, unless the user set it):
/// many texts then run as whole batches side by side on all cores, 30 % faster than
/// splitting every product on two cores, and a single query is faster too (its products are
/// too small to split well). Measured in docs/benchmarks.md. Not for GPU runs.
fn prefer_batch_parallelism() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // SAFETY: called in `main` before this process starts any thread (only argument
        // parsing has run), so nothing reads or writes the environment concurrently.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("RAYON_NUM_THREADS", "1");
        }
    }
}

/// Loads the model in `precision` (the user's `--precision`, or an index's own: see
/// [`Precision::for_index`]).
fn load_model(dir: &Path, args: &ModelArgs, precision: Precision) -> anyhow::Result<Embedder> {
    let mut embedder = Embedder::load_with(dir, args.device, precision)?;
    if let Some(n) = args.batch_size {
        embedder.set_batch_size(n);
    }
    for w in &embedder.files().warnings {
        eprintln!("warning: {w}");
    }
    Ok(embedder)
}

/// Refuses a folder to index or watch that is not there, and an index path that is a file,
/// before the model loads.
fn require_folder(dir: &Path, index: &Path, doing: &str) -> anyhow::Result<()> {
    crate::indexer::folder_to_index(dir)
        .map(drop)
        .with_context(|| format!("{doing} {}", dir.display()))?;
    if index.is_file() {
        return Err(anyhow::Error::new(crate::Error::IndexIsAFile {
            path: index.to_path_buf(),
        })
        .context(format!("{doing} {}", dir.display())));
    }
    Ok(())
}

fn index(args: IndexArgs) -> anyhow::Result<Outcome> {
    let mut opts = IndexOptions::new(&args.dir);
    if let Some(index) = &args.index {
        opts.index_dir = index.clone();
    }
    require_folder(&args.dir, &opts.index_dir, "indexing")?;
    if args.dry_run {
        return dry_run(&args);
    }
    opts.backend = args.backend.backend.clone();
    opts.backend_token = args.backend.token()?;
    // The catalog of what was sent to the collection remembers the model.
    let catalog_dir = match &opts.backend {
        Some(url) => crate::index::remote::RemoteUrl::parse(url)?.catalog_dir(&opts.index_dir),
        None => opts.index_dir.clone(),
    };
    let embedder = load_index_model(&args.model, &catalog_dir, args.rebuild)?;
    opts.settings = args.chunking.request();
    opts.max_file_bytes = args.max_file_size;
    opts.rebuild = args.rebuild;
    opts.wait = args.wait;
    opts.extract_threads = args.extract_threads;
    opts.ocr = args.ocr.into();
    opts.ocr_lang.clone_from(&args.ocr_lang);
    opts.follow_links = args.follow_links;
    let report_progress = !args.quiet && !args.json;
    let terminal = std::io::stderr().is_terminal();
    let mut progress = output::IndexProgress::new(report_progress && terminal);
    if report_progress && !terminal {
        // Stderr written to a log (a scheduled run): a line every half minute instead.
        progress.log_to(
            Box::new(std::io::stderr()),
            std::time::Duration::from_secs(30),
        );
    }
    progress.stop_on_interrupt()?;
    let report = match build_index(&opts, &embedder, &progress) {
        Err(crate::Error::Cancelled) => {
            progress.finish();
            eprintln!(
                "interrupted: the index is as it was before this run; the vectors of the {} \
                 chunks done so far are kept, and `lexsearch index {}` goes on from them",
                progress.chunks(),
                args.dir.display()
            );
            return Ok(Outcome::Interrupted);
        }
        r => r.with_context(|| format!("indexing {}", args.dir.display()))?,
    };
    progress.finish();
    if args.json {
        output::print_json(&report)?;
    } else {
        output::print_index_report(&report)?;
    }
    Ok(if report.skipped.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Partial
    })
}

impl SearchArgs {
    /// Lines to show before and after what each hit cites, when any are asked for.
    fn context_lines(&self) -> Option<(u32, u32)> {
        let (b, a) = (self.before_context, self.after_context);
        (self.context.is_some() || b.is_some() || a.is_some()).then(|| {
            let c = self.context.unwrap_or(0);
            (b.unwrap_or(c), a.unwrap_or(c))
        })
    }
}

fn search(args: SearchArgs) -> anyhow::Result<Outcome> {
    let searcher = match args.backend.remote_searcher()? {
        Some(s) => s,
        None => {
            let index_dir = locate_index(args.index.as_deref(), Path::new("."))?;
            let searcher = Searcher::open(&index_dir)
                .with_context(|| format!("opening index {}", index_dir.display()))?;
            let root = &searcher.manifest().root;
            if !root.is_dir() {
                eprintln!(
                    "warning: the indexed folder {} is {}",
                    root.display(),
                    output::moved_folder(&index_dir)
                );
            }
            searcher
        }
    };
    // The documents behind the hits, read again for lines around them (-C).
    let docs = Documents::new(searcher);
    let searcher = docs.searcher();
    let context = args.context_lines();
    let like = args
        .like
        .as_deref()
        .map(|place| passage_at(searcher, place))
        .transpose()?;
    let mode: Mode = if like.is_some() {
        Mode::Semantic
    } else {
        args.mode.into()
    };
    let embedder = if mode.needs_model() {
        // The index's own model unless told otherwise: a mismatch is refused by the searcher.
        let dir = search_model_dir(&args.model, searcher);
        let built = &searcher.manifest().model;
        let precision = args.model.precision.for_index(&built.fingerprint);
        Some(
            load_model(&dir, &args.model, precision)
                .with_context(|| not_here(&args.model, built, &dir))?,
        )
    } else {
        None
    };
    let mut request = SearchRequest {
        query: args.query.clone().unwrap_or_default(),
        k: args.k,
        mode,
        fusion: args.fusion.fusion(),
        over_fetch: args.fusion.over_fetch,
        name_weight: args.fusion.name_weight,
        snippet_chars: 240,
        pinpoint: PinpointSettings {
            hits: if args.no_pinpoint {
                0
            } else {
                PinpointSettings::default().hits
            },
            semantic_weight: args.pinpoint_weight.clamp(0.0, 1.0),
            ..Default::default()
        },
        rerank: args.rerank.load(args.model.device)?,
        paths: path_filter(&args.paths, &searcher.manifest().root)?,
        max_per_file: if args.files_with_matches {
            Some(1)
        } else {
            args.max_per_file.map(|n| n as usize)
        },
        collapse_copies: !args.each_copy,
        like,
    };
    if let Some(file) = &args.queries {
        return search_each(&docs, &mut request, embedder.as_ref(), file, context);
    }
    let mut results = searcher.search(&request, embedder.as_ref())?;
    if let Some(lines) = context {
        docs.add_context(&mut results.hits, lines);
    }
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    if args.json {
        output::print_search_json(&request, &results)?;
    } else if args.files_with_matches {
        output::print_files(&results)?;
    } else {
        // What a search like a passage started from: its place and headings.
        if let Some(source) = results
            .like
            .map(|id| searcher.fetch(id))
            .transpose()?
            .flatten()
        {
            let crumbs = source.breadcrumb.join(" > ");
            println!(
                "passages like {}:{}{}\n",
                source.path,
                source.line,
                if crumbs.is_empty() {
                    String::new()
                } else {
                    format!(" ({crumbs})")
                }
            );
        }
        output::print_hits(&results, &request, color, args.explain)?;
    }
    let changed: std::collections::BTreeSet<&str> = results
        .hits
        .iter()
        .filter(|h| h.changed)
        .map(|h| h.file.as_str())
        .collect();
    if !changed.is_empty() && !args.json {
        eprintln!(
            "note: {} of the files hit changed after the index was last updated, so their \
             hits may show text they no longer hold; `lexsearch index` (or `lexsearch watch`) \
             reads them again",
            changed.len()
        );
    }
    Ok(if results.hits.is_empty() {
        Outcome::NoHits
    } else {
        Outcome::Ok
    })
}

/// The chunk at `place` (`FILE:LINE`, FILE from the indexed folder or a path to it) for
/// `search --like`.
fn passage_at(searcher: &Searcher, place: &str) -> anyhow::Result<crate::ids::ChunkId> {
    let (file, line) = place
        .rsplit_once(':')
        .and_then(|(f, l)| Some((f, l.trim().parse::<u32>().ok()?)))
        .with_context(|| {
            format!("--like {place:?}: give FILE:LINE, the place a hit prints (leases/a.txt:27)")
        })?;
    let root = &searcher.manifest().root;
    let names = names_in_index(file, root);
    // The first name the index has a file of says what is wrong, else the name as given.
    let mut miss = None;
    for name in &names {
        match searcher.chunk_at(name, line)? {
            PassageAt::Found(id) => return Ok(id),
            PassageAt::NoFile if miss.is_some() => {}
            at => miss = Some((name, at)),
        }
    }
    let (name, at) = miss.unwrap_or((&names[0], PassageAt::NoFile));
    anyhow::bail!(
        "--like {place:?}: no passage at line {line}: {}",
        at.why(name, root)
    )
}

/// The names `file` may have in the index of the folder `root`, likeliest first: as given
/// (as a hit names it, from the indexed folder), then as a path from here or a full path,
/// made relative to that folder.
fn names_in_index(file: &str, root: &Path) -> Vec<String> {
    let mut names = vec![file.replace('\\', "/")];
    if let Ok(full) = Path::new(file).canonicalize()
        && let Ok(rel) = full.strip_prefix(root.canonicalize().unwrap_or_else(|_| root.into()))
    {
        names.push(rel.to_string_lossy().replace('\\', "/"));
    }
    if let Ok(rel) = Path::new(file).strip_prefix(root) {
        names.push(rel.to_string_lossy().replace('\\', "/"));
    }
    names
}

/// `search --queries FILE`: each line of FILE searched as `request` asks, one line of JSON
/// printed for each as it is answered.
fn search_each(
    docs: &Documents,
    request: &mut SearchRequest,
    embedder: Option<&Embedder>,
    file: &Path,
    context: Option<(u32, u32)>,
) -> anyhow::Result<Outcome> {
    use std::io::BufRead;
    let input: Box<dyn BufRead> = if file == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(file)
                .with_context(|| format!("reading queries from {}", file.display()))?,
        ))
    };
    let mut outcome = Outcome::Ok;
    for line in input.lines() {
        let line = line.with_context(|| format!("reading queries from {}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        request.query = line;
        match docs.searcher().search(request, embedder) {
            Ok(mut results) => {
                if let Some(lines) = context {
                    docs.add_context(&mut results.hits, lines);
                }
                output::print_json_line(&crate::search::SearchJson::new(request, &results))?
            }
            Err(err) => {
                outcome = Outcome::Partial;
                output::print_json_line(&serde_json::json!({
                    "query": request.query,
                    "error": err.to_string(),
                }))?;
            }
        }
    }
    Ok(outcome)
}

fn maintain(args: MaintainArgs, what: &str, repair: bool) -> anyhow::Result<Outcome> {
    if let Some(searcher) = args.backend.remote_searcher()? {
        anyhow::ensure!(
            what != "compact" && !repair,
            "{what}{} works on a local index; Milvus compacts its own segments",
            if repair { " --repair" } else { "" }
        );
        if what == "verify" {
            return verify_remote(&args, &searcher);
        }
        let s = remote_status(&searcher)?;
        if args.json {
            output::print_json(&s)?;
        } else {
            println!(
                "{}\n  model {} ({})\n  indexed from {}\n  {} documents, {} chunks committed (generation {}); {} chunks stored{}",
                s.backend,
                s.model,
                &s.model_fingerprint[..s.model_fingerprint.len().min(12)],
                s.root.display(),
                s.documents,
                s.chunks,
                s.generation,
                s.chunks_stored,
                if s.consistent {
                    ""
                } else {
                    ": not what was committed; run `lexsearch index DIR --backend ...` again"
                }
            );
        }
        return Ok(if s.consistent || what == "status" {
            Outcome::Ok
        } else {
            Outcome::Partial
        });
    }
    let index = args.index_dir()?;
    if what == "status" {
        let s = crate::maintain::status(&index)?;
        if args.json {
            output::print_json(&s)?;
        } else {
            output::print_status(&s)?;
        }
        return Ok(Outcome::Ok);
    }
    let v = if what == "compact" {
        crate::maintain::compact(&index)?
    } else {
        crate::maintain::verify(&index, repair)?
    };
    if args.json {
        output::print_json(&v)?;
    } else {
        output::print_verification(&v, what)?;
    }
    Ok(if v.findings.is_empty() || v.repaired {
        Outcome::Ok
    } else {
        Outcome::Partial
    })
}

/// `--path` patterns, those written as paths from the current folder (`./leases`, `..`, a full
/// path) turned into patterns from the indexed folder `root`.
fn path_filter(patterns: &[String], root: &Path) -> anyhow::Result<PathFilter> {
    let cwd = std::env::current_dir().context("reading the current folder")?;
    let patterns = patterns
        .iter()
        .map(|p| crate::search::glob::from_where_you_stand(p, &cwd, root))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    Ok(PathFilter::new(patterns))
}

/// Reads a model folder's diagnosis (used by `model check`).
fn inspect(dir: &Path) -> Result<ModelFiles, crate::embed::ModelError> {
    ModelFiles::inspect(dir)
}

/// `index --dry-run`: walk and extract, print what would be indexed and skipped.
fn dry_run(args: &IndexArgs) -> anyhow::Result<Outcome> {
    use std::io::Write;
    let mut opts = IndexOptions::new(&args.dir);
    if let Some(index) = &args.index {
        opts.index_dir = index.clone();
    }
    opts.max_file_bytes = args.max_file_size;
    opts.follow_links = args.follow_links;
    let report = crate::indexer::dry_run(&opts)
        .with_context(|| format!("looking at {}", args.dir.display()))?;
    if args.json {
        output::print_json(&report)?;
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "would index {}:",
            output::counted(report.files.len(), "file")
        )?;
        writeln!(
            out,
            "  {:<8} {:>10} {:>6} {:>6} {:>9}  file",
            "kind", "bytes", "pages", "paras", "chars"
        )?;
        let count = |n: usize| {
            if n == 0 {
                "-".to_string()
            } else {
                n.to_string()
            }
        };
        for f in &report.files {
            writeln!(
                out,
                "  {:<8} {:>10} {:>6} {:>6} {:>9}  {}",
                f.kind.name(),
                f.bytes,
                count(f.pages),
                count(f.paragraphs),
                f.chars,
                output::shown_path(&f.file)
            )?;
        }
        for p in &report.empty {
            writeln!(out, "no text: {}", output::shown_path(p))?;
        }
        if report.unsupported > 0 {
            writeln!(
                out,
                "ignored {} of unsupported types",
                output::counted(report.unsupported, "file")
            )?;
        }
        if report.ignored > 0 {
            writeln!(out, "{}", output::left_out(report.ignored))?;
        }
        if !report.skipped.is_empty() {
            writeln!(
                out,
                "would skip {}:",
                output::counted(report.skipped.len(), "file")
            )?;
            for s in &report.skipped {
                writeln!(
                    out,
                    "  {}: {}",
                    output::shown_path(&s.path),
                    output::shown(&s.reason)
                )?;
            }
        }
    }
    Ok(if report.skipped.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Partial
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_size_or_over_fetch_of_zero_is_refused_at_the_command_line() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(args)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        for (flag, cmd) in [
            ("--batch-size", "search"),
            ("--over-fetch", "search"),
            ("--batch-size", "index"),
        ] {
            let err = parse(&["lexsearch", cmd, flag, "0", "x"]).unwrap_err();
            assert!(err.contains(flag) && err.contains("at least 1"), "{err}");
        }
        assert!(parse(&["lexsearch", "search", "--batch-size", "3", "x"]).is_ok());
        let err = parse(&["lexsearch", "search", "--over-fetch", "two", "x"]).unwrap_err();
        assert!(err.contains("whole number"), "{err}");
    }

    #[test]
    fn k_with_its_value_attached_is_the_number_of_hits_not_the_query() {
        let parse = |args: &[&str]| {
            let cli = Cli::try_parse_from(split_attached_k(args.iter().map(OsString::from)))
                .map_err(|e| e.to_string())?;
            match cli.command {
                Some(Command::Search(s)) => Ok((s.k, s.query)),
                other => Err(format!("{other:?}")),
            }
        };
        let late_fee = Some("late fee".to_string());
        for k in ["-k1", "-k=1"] {
            assert_eq!(
                parse(&["lexsearch", "search", k, "late fee"]),
                Ok((1, late_fee.clone()))
            );
            assert_eq!(
                parse(&["lexsearch", "search", "late fee", k]),
                Ok((1, late_fee.clone()))
            );
        }
        // A query that begins with a hyphen stays the query, and so does anything after --.
        assert_eq!(
            parse(&["lexsearch", "search", "-k", "3", "-termination notice"]),
            Ok((3, Some("-termination notice".to_string())))
        );
        assert_eq!(
            parse(&["lexsearch", "search", "--", "-k2"]),
            Ok((10, Some("-k2".to_string())))
        );
    }

    #[test]
    fn sizes_are_read_in_bytes_or_with_a_unit_of_1024() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("500MB"), Ok(500 << 20));
        assert_eq!(parse_size("500 mib"), Ok(500 << 20));
        assert_eq!(parse_size("1.5GB"), Ok(3 << 29));
        assert_eq!(parse_size("800k"), Ok(800 << 10));
        assert_eq!(
            parse_size("200MB"),
            Ok(crate::ingest::extract::DEFAULT_MAX_FILE_BYTES)
        );
        // "0.2" is a fifth of a byte: no limit any file meets.
        for bad in ["", "MB", "12 parsecs", "-5MB", "0", "1e9", "0.2", "0.0001k"] {
            let err = parse_size(bad).unwrap_err();
            assert!(err.contains("is not a size"), "{bad:?}: {err}");
        }
    }
}
