//! The vector graph a long-lived writer keeps in memory between its transactions
//! (`lexsearch watch`): the next update of the generation it published inserts into it
//! instead of loading the same graph from disk again (seconds per 100,000 chunks).
//!
//! It is used only for the generation it was kept for, known by that generation's number,
//! counts and the identity of its flat search file (device, inode, size, modification time):
//! a generation published meanwhile by another writer is loaded from disk as usual, and the
//! kept graph is dropped.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use crate::index::flat;
use crate::index::vector::VectorIndex;
use crate::store::Manifest;

/// A slot for the graph of the last generation a writer of this process published; cloned
/// handles share it. Empty until a transaction given it
/// ([`Transaction::keep_graph_in`](super::Transaction::keep_graph_in)) commits.
#[derive(Clone, Default)]
pub struct WarmGraph(Arc<Mutex<Option<Kept>>>);

struct Kept {
    key: GraphKey,
    index: VectorIndex,
}

/// What identifies a generation's graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GraphKey {
    generation: u64,
    chunks: u64,
    next_chunk: u64,
    device: u64,
    inode: u64,
    len: u64,
    modified_ns: i128,
}

impl GraphKey {
    /// The key of the graph in `vectors` (a generation's vectors folder) described by
    /// `manifest`; `None` without a flat search file (no vector).
    pub(super) fn of(vectors: &Path, manifest: &Manifest) -> Option<Self> {
        Self::with(
            vectors,
            manifest.generation,
            manifest.chunks,
            manifest.next_chunk_id,
        )
    }

    /// [`of`](Self::of), before the manifest is written.
    pub(super) fn with(
        vectors: &Path,
        generation: u64,
        chunks: u64,
        next_chunk: u64,
    ) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(flat::path_in(vectors)).ok()?;
        Some(GraphKey {
            generation,
            chunks,
            next_chunk,
            device: meta.dev(),
            inode: meta.ino(),
            len: meta.len(),
            modified_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        })
    }
}

impl std::fmt::Debug for WarmGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.lock() {
            Some(kept) => write!(f, "WarmGraph({:?})", kept.key),
            None => f.write_str("WarmGraph(empty)"),
        }
    }
}

impl WarmGraph {
    /// An empty slot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether it holds a graph.
    pub fn is_warm(&self) -> bool {
        self.lock().is_some()
    }

    /// Takes the graph out: returned when it is the graph of `key`, dropped otherwise (kept
    /// for a generation no longer current), so that two graphs are never in memory at once.
    pub(super) fn take(&self, key: Option<&GraphKey>) -> Option<VectorIndex> {
        let kept = self.lock().take()?;
        (Some(&kept.key) == key).then_some(kept.index)
    }

    /// Keeps `index`, the graph of the generation of `key`.
    pub(super) fn keep(&self, key: GraphKey, index: VectorIndex) {
        *self.lock() = Some(Kept { key, index });
    }

    /// Drops what it holds.
    pub(super) fn clear(&self) {
        drop(self.lock().take());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Kept>> {
        // Held only to take or put a whole graph: a poisoned lock still holds one whole.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
