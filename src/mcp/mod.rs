//! The MCP front end: `lexsearch mcp` serves an index to AI assistants (Claude, ChatGPT
//! desktop, Cursor, Codex) over the Model Context Protocol, so that privileged documents are
//! searched on this machine and only the passages an assistant asks for leave the index.
//!
//! - [`tools`]: the five tools (`search`, `get_passage`, `get_document_outline`,
//!   `get_defined_terms`, `status`), their JSON schemas and descriptions, on the official Rust SDK (`rmcp`);
//! - [`documents`]: what the tools compute, without any protocol: searches, passages and
//!   outlines of indexed files, every path checked against the index and the indexed folder;
//! - [`http`]: the streamable HTTP transport, loopback unless told otherwise, with a bearer
//!   token required on any other address. Standard input and output is the other transport.
//!
//! One [`Searcher`] and one [`Embedder`] per process, loaded once (the searcher is reopened
//! when `lexsearch index` has written a new version). The server reads the index and the
//! indexed files, and writes nothing.

pub mod documents;
pub mod http;
pub mod tools;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::embed::{DeviceSpec, Embedder, Precision};
use crate::search::Searcher;
use documents::Backend;

/// How `lexsearch mcp` runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The index folder.
    pub index: PathBuf,
    /// A remote index (Milvus) served instead of the local one.
    pub backend: Option<crate::index::remote::RemoteSpec>,
    /// The model folder; default: the index's own model.
    pub model_dir: Option<PathBuf>,
    /// Where the encoder runs.
    pub device: DeviceSpec,
    /// The encoder's number format.
    pub precision: Precision,
    /// Texts per forward pass, when not the default.
    pub batch_size: Option<usize>,
    /// Cross-encoder reranking for the search tool (`--rerank`), loaded.
    pub rerank: Option<crate::search::rerank::Rerank>,
    /// Which transport to serve.
    pub transport: Transport,
}

/// An MCP transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// JSON-RPC lines on standard input and output: what desktop assistants launch.
    Stdio,
    /// Streamable HTTP on `addr`, at the path `/mcp`.
    Http {
        /// The address to listen on.
        addr: SocketAddr,
        /// The bearer token clients must send (`Authorization: Bearer TOKEN`); required for
        /// an address that is not loopback.
        token: Option<String>,
    },
}

/// Opens the index and loads its model, once per process.
pub fn open_index(settings: &Settings) -> anyhow::Result<(Searcher, Embedder)> {
    let searcher = match &settings.backend {
        Some(spec) => Searcher::open_backend(spec)?,
        None => open_searcher(&settings.index)
            .with_context(|| format!("opening index {}", settings.index.display()))?,
    };
    // The index's own model unless told otherwise: a mismatch is refused by the searcher.
    // (An index or collection built on another machine: the same model in this one's cache.)
    let model_dir = (settings.model_dir.clone())
        .unwrap_or_else(|| crate::embed::index_model_dir(&searcher.manifest().model));
    let precision = settings
        .precision
        .for_index(&searcher.manifest().model.fingerprint);
    let embedder = load_model(&model_dir, settings, precision)?;
    Ok((searcher, embedder))
}

/// The one place the MCP server opens a searcher (at start, and again after a re-index).
pub fn open_searcher(index: &Path) -> crate::Result<Searcher> {
    crate::library::Library::at(index).searcher()
}

fn load_model(
    dir: &Path,
    settings: &Settings,
    precision: crate::embed::Precision,
) -> anyhow::Result<Embedder> {
    let mut embedder = Embedder::load_with(dir, settings.device, precision)?;
    if let Some(n) = settings.batch_size {
        embedder.set_batch_size(n);
    }
    for w in &embedder.files().warnings {
        eprintln!("warning: {w}");
    }
    Ok(embedder)
}

/// Serves the index until the client closes standard input (stdio) or Ctrl-C (HTTP).
pub fn run(settings: Settings) -> anyhow::Result<()> {
    if let Transport::Http { addr, token } = &settings.transport {
        http::check_exposure(*addr, token.as_deref())?;
    }
    let (searcher, embedder) = open_index(&settings)?;
    let backend = std::sync::Arc::new(Backend::new(&settings, searcher, embedder));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        match settings.transport {
            Transport::Stdio => serve_stdio(backend).await,
            Transport::Http { addr, token } => http::serve(backend, addr, token).await,
        }
    })
}

async fn serve_stdio(backend: std::sync::Arc<Backend>) -> anyhow::Result<()> {
    use rmcp::ServiceExt;
    let server = tools::LexsearchMcp::new(backend)
        .serve(rmcp::transport::stdio())
        .await
        .context("starting the MCP session on standard input and output")?;
    server.waiting().await.context("serving MCP on stdio")?;
    Ok(())
}
