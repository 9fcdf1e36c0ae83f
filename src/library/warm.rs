//! The vector graph a long-lived writer keeps in memory between its transactions
//! (`lexsearch watch`): the next update of the generation it published inserts into it
//! instead of loading the same graph from disk again (seconds per 100,000 chunks).
//!
//! It is used only for the generation it was kept for, known by that generation's number,
//! counts and the identity of its flat search file (device, inode, size, modification time):
//! a generation published meanwhile by another writer is loaded from disk as usual, and the
//! kept graph is dropped. The slot can also be filled beforehand, on a thread of its own
//! ([`WarmGraph::load_in_background`]); a transaction that wants it meanwhile waits for it.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::Library;
use crate::index::flat;
use crate::index::vector::VectorIndex;
use crate::store::Manifest;

/// A slot for the graph of the last generation a writer of this process published (or that
/// it loaded ahead); cloned handles share it. Empty until a transaction given it
/// ([`Transaction::keep_graph_in`](super::Transaction::keep_graph_in)) commits, or until
/// [`load_in_background`](Self::load_in_background) has loaded one.
#[derive(Clone, Default)]
pub struct WarmGraph(Arc<Shared>);

#[derive(Default)]
struct Shared {
    slot: Mutex<Slot>,
    /// Signalled when a load in the background ends.
    loaded: Condvar,
}

#[derive(Default)]
enum Slot {
    #[default]
    Empty,
    /// Being loaded in the background.
    Loading,
    Kept(Box<Kept>),
}

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
            Slot::Kept(kept) => write!(f, "WarmGraph({:?})", kept.key),
            Slot::Loading => f.write_str("WarmGraph(loading)"),
            Slot::Empty => f.write_str("WarmGraph(empty)"),
        }
    }
}

impl WarmGraph {
    /// An empty slot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether it holds a graph (once a load in the background has ended).
    pub fn is_warm(&self) -> bool {
        matches!(*self.settled(), Slot::Kept(_))
    }

    /// Loads the current generation's graph of the index at `library` into the slot, on a
    /// thread of its own, when the slot is empty: so that even the first update of a
    /// long-lived writer finds it in memory. A transaction that wants the graph meanwhile
    /// waits for the load; one that publishes meanwhile replaces it. Nothing is loaded for
    /// an index without a graph, and a graph that does not load leaves the slot empty (the
    /// transaction then loads it and reports why it cannot).
    pub fn load_in_background(&self, library: &Library) {
        {
            let mut slot = self.lock();
            if !matches!(*slot, Slot::Empty) {
                return;
            }
            *slot = Slot::Loading;
        }
        let (warm, library) = (self.clone(), library.clone());
        let spawned = std::thread::Builder::new()
            .name("graph-preload".into())
            .spawn(move || {
                let loaded = load_current(&library);
                warm.settle(loaded);
            });
        if spawned.is_err() {
            self.settle(None);
        }
    }

    /// Ends a load in the background with what it loaded, unless a transaction has put a
    /// graph there meanwhile.
    fn settle(&self, loaded: Option<Kept>) {
        let mut slot = self.lock();
        if matches!(*slot, Slot::Loading) {
            *slot = loaded.map_or(Slot::Empty, |k| Slot::Kept(Box::new(k)));
        }
        self.0.loaded.notify_all();
    }

    /// Takes the graph out: returned when it is the graph of `key`, dropped otherwise (kept
    /// for a generation no longer current), so that two graphs are never in memory at once.
    /// Waits for a load in the background to end.
    pub(super) fn take(&self, key: Option<&GraphKey>) -> Option<VectorIndex> {
        match std::mem::take(&mut *self.settled()) {
            Slot::Kept(kept) if Some(&kept.key) == key => Some(kept.index),
            _ => None,
        }
    }

    /// Keeps `index`, the graph of the generation of `key`.
    pub(super) fn keep(&self, key: GraphKey, index: VectorIndex) {
        *self.lock() = Slot::Kept(Box::new(Kept { key, index }));
        self.0.loaded.notify_all();
    }

    /// Drops what it holds (once a load in the background has ended).
    pub(super) fn clear(&self) {
        drop(std::mem::take(&mut *self.settled()));
    }

    /// The slot, once no load runs in the background.
    fn settled(&self) -> MutexGuard<'_, Slot> {
        let mut slot = self.lock();
        while matches!(*slot, Slot::Loading) {
            slot = self
                .0
                .loaded
                .wait(slot)
                .unwrap_or_else(PoisonError::into_inner);
        }
        slot
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        // Held only to take or put a whole graph: a poisoned lock still holds one whole.
        self.0.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The current generation's graph of the index at `library`, loaded for insertions, with its
/// key; `None` for an index without one, or one that does not load. The generation stays
/// pinned while it loads.
fn load_current(library: &Library) -> Option<Kept> {
    let snapshot = library.snapshot().ok()?;
    let (paths, manifest) = (snapshot.paths(), snapshot.manifest());
    let key = GraphKey::of(&paths.vectors(), manifest)?;
    let index = VectorIndex::open(&paths.vectors(), manifest.model.dim).ok()?;
    Some(Kept { key, index })
}
