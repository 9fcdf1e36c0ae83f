//! Stores: the catalog (sled), the source of truth for documents, chunks and vectors, and
//! the manifest that pins an index to one model and one set of chunker settings.

mod catalog;
mod documents;
mod hashes;
mod manifest;

pub use catalog::{Catalog, ChunkRecord, DocRecord};
pub use documents::{DOCUMENTS_FILE, read_documents, write_documents};
pub use hashes::{EmbeddedHashes, HASHES_FILE, HashKey};
pub(crate) use manifest::write_synced;
pub use manifest::{FORMAT_VERSION, MANIFEST_FILE, Manifest, UnreadableFile, manifest_file};
