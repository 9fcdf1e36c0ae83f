//! Integration tests, compiled as one binary (one link instead of one per file).
//!
//! Tests that need the real model skip with a message when it is absent, unless
//! `LEXSEARCH_REQUIRE_MODEL=1` (set by scripts/test), where its absence fails them. Tests that
//! need `../shared` (evaluation data, reference embeddings) skip with a message when it is absent.

// Helpers and tests may unwrap: a panic is a test failure with its message.
#![allow(clippy::unwrap_used)]

mod bench;
mod cli;
mod common;
mod encoder;
mod errors;
mod eval;
mod formats;
mod incremental;
#[cfg(feature = "mcp")]
mod mcp;
#[cfg(feature = "milvus")]
mod milvus;
mod model_families;
mod models;
#[cfg(feature = "hub")]
mod pull;
mod rerank;
mod tui;
