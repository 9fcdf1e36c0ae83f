//! `lexsearch mcp`: serve the index to AI assistants over the Model Context Protocol.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use crate::library::locate_index;
use crate::mcp::{Settings, Transport};

use super::{ModelArgs, RerankArgs};

/// Arguments of `lexsearch mcp`.
#[derive(Debug, Args)]
#[command(
    after_help = "Without --http, the server speaks MCP on standard input and output: \
configure your assistant to launch `lexsearch mcp --index /path/to/folder/.lexsearch` \
(README, docs/mcp.md). Tools: search, get_passage, get_document_outline, status. \
The server reads only the index and the files it lists, and writes nothing."
)]
pub(super) struct McpArgs {
    /// The index: its folder, or the folder indexed (default: .lexsearch in this folder or
    /// the nearest one above).
    #[arg(long, value_name = "PATH")]
    index: Option<PathBuf>,
    /// Serve MCP's streamable HTTP transport at http://ADDR/mcp instead of standard input
    /// and output, e.g. 127.0.0.1:8765 (an address that is not loopback needs --token-file).
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// A file holding the bearer token HTTP clients must send
    /// (`Authorization: Bearer TOKEN`).
    #[arg(long, value_name = "FILE", requires = "http")]
    token_file: Option<PathBuf>,
    #[command(flatten)]
    pub(super) model: ModelArgs,
    /// The search tool reranks its best fused hits with this cross-encoder.
    #[command(flatten)]
    rerank: RerankArgs,
    /// Serve a Milvus collection instead of a local index (search and status; passages and
    /// outlines need the local index).
    #[command(flatten)]
    backend: super::BackendArgs,
}

pub(super) fn run(args: McpArgs) -> anyhow::Result<super::Outcome> {
    let backend = args.backend.spec()?;
    let index = match (&args.index, &backend) {
        (Some(p), Some(_)) => p.clone(),
        (None, Some(spec)) => PathBuf::from(&spec.url),
        (given, None) => locate_index(given.as_deref(), Path::new("."))?,
    };
    let token = match &args.token_file {
        Some(path) => Some(read_token(path)?),
        None => None,
    };
    let transport = match args.http {
        Some(addr) => Transport::Http { addr, token },
        None => Transport::Stdio,
    };
    crate::mcp::run(Settings {
        index,
        backend,
        model_dir: args.model.model,
        device: args.model.device,
        precision: args.model.precision,
        batch_size: args.model.batch_size,
        rerank: args.rerank.load(args.model.device)?,
        transport,
    })?;
    Ok(super::Outcome::Ok)
}

fn read_token(path: &Path) -> anyhow::Result<String> {
    let token = std::fs::read_to_string(path)
        .with_context(|| format!("reading the token file {}", path.display()))?
        .trim()
        .to_string();
    if token.is_empty() || token.chars().any(char::is_whitespace) {
        anyhow::bail!(
            "the token file {} must hold one token without spaces (e.g. from `openssl rand -hex 32`)",
            path.display()
        );
    }
    Ok(token)
}
