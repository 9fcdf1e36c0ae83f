//! # lexsearch
//!
//! Local, private, hybrid semantic search for legal documents. Everything runs on the user's
//! machine: documents never leave it.
//!
//! ## Brief overview
//!
//! - [`ingest`]: [`walk`](mod@ingest::walk) a folder, [`extract`](mod@ingest::extract) text from
//!   `.txt`, `.md`, `.html`, `.pdf` (OCR of scans), `.docx`, `.doc` (Word 97–2003), `.odt`, `.rtf`, `.wpd` (WordPerfect), spreadsheets, presentations, `.eml`, `.msg`, `.mbox` and Outlook's `.pst`, and
//!   [`chunk`](mod@ingest::chunk) it along legal structure
//!   (articles, sections, clauses, paragraphs), each chunk keeping its byte range and breadcrumb.
//! - [`embed`]: an [`Embedder`] runs a sentence-transformers BERT model with candle, exactly
//!   as it was trained (its own tokenizer, its pooling, normalised vectors).
//! - [`store`]: the sled [`Catalog`](store::Catalog) (source of truth) and the
//!   [`Manifest`](store::Manifest) that pins an index to one model.
//! - [`index`]: the derived [keyword](index::keyword) (tantivy BM25) and
//!   [vector](index::vector) (hnsw_rs) indexes, all keyed by [`ChunkId`].
//! - [`library`]: the one handle for an index on disk ([`Library`]): its generations, the
//!   readers' [`Snapshot`](library::Snapshot) and the one write
//!   [`Transaction`](library::Transaction).
//! - [`indexer`]: the write path, [`build_index`], through that transaction.
//! - [`search`]: the read path, [`Searcher`], with rank fusion and snippets.
//! - [`maintain`]: `status`, `verify` (and repair) and `compact`.
//! - [`eval`]: retrieval metrics on labelled legal queries; [`bench`](mod@bench): speed measurements.
//! - [`cli`]: the command-line front end on the same API.
//! - [`tui`]: the full-screen front end (`lexsearch tui`), on the same API again.
//! - `mcp` (cargo feature `mcp`, on by default): `lexsearch mcp`, the index served to AI
//!   assistants over the Model Context Protocol, on the same API.
//!
//! ## Data flow
//!
//! ```text
//! walk ─SourceFile─▶ extract ─text─▶ chunk ─Chunk─▶ Embedder ─vector─┐
//!                                        ├─▶ KeywordIndex (tantivy) ◀┤
//!                                        └─▶ Catalog (sled)          └▶ VectorIndex (hnsw_rs)
//! SearchRequest ─▶ Searcher ─┬ keyword arm ─┐
//!                            └ vector arm  ─┴▶ fuse ─▶ Hit (path, breadcrumb, line, snippet)
//! ```

pub mod bench;
pub mod cli;
mod dates;
pub mod embed;
mod error;
pub mod eval;
mod ids;
pub mod index;
pub mod indexer;
pub mod ingest;
pub mod library;
pub mod maintain;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod search;
pub mod store;
pub mod tui;

pub use embed::{DeviceSpec, Embedder, Precision};
pub use error::{Error, Result};
pub use ids::{ChunkId, DocId};
pub use indexer::{IndexOptions, IndexReport, build_index};
pub use library::Library;
pub use search::{Hit, Mode, SearchRequest, Searcher};
