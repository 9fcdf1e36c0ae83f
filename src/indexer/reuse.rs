//! Vectors already computed, found again by the hash of the exact text they embed: in the
//! current catalog (a changed document whose chunks are partly unchanged) and in the copy an
//! interrupted run left (`resume/`), so no text is embedded twice by the same model.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::ids::ChunkId;
use crate::store::Catalog;

/// Catalogs to take vectors from, each with its embedded-text hashes.
pub(super) struct Reuse {
    sources: Vec<(Catalog, HashMap<String, ChunkId>)>,
}

impl Reuse {
    /// Opens the catalogs at `catalogs` (the write transaction's
    /// [`reuse_sources`](crate::library::Transaction::reuse_sources)).
    pub(super) fn open(catalogs: &[PathBuf]) -> Self {
        let sources = catalogs
            .iter()
            .filter(|p| p.is_dir())
            // A catalog that does not open (damaged by a crash) is simply not used.
            .filter_map(|p| Catalog::open(p).ok())
            .filter_map(|c| c.embedded_hashes().ok().map(|h| (c, h)))
            .collect();
        Reuse { sources }
    }

    /// No catalog to take vectors from: for a run that reads no file, which would otherwise
    /// read every chunk record of the index for nothing.
    pub(super) fn none() -> Self {
        Reuse {
            sources: Vec::new(),
        }
    }

    /// The vector of a chunk whose embedded text has this hash, if one was computed.
    pub(super) fn vector(&self, embedded_hash: &str) -> Option<Vec<f32>> {
        self.sources.iter().find_map(|(c, by_hash)| {
            let id = by_hash.get(embedded_hash)?;
            c.vector(*id).ok().flatten()
        })
    }
}
