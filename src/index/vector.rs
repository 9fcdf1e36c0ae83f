//! The vector index (hnsw_rs): an HNSW graph over L2-normalised vectors, dot-product distance.
//!
//! hnsw_rs cannot delete, so removed chunks become *tombstones*: their ids stay in the graph
//! and are filtered out at query time (with over-fetching so `k` results still come back).
//! Compaction rebuilds the graph from the catalog's vectors. The graph is dumped to
//! `DIR/graph.*` with the tombstones in `DIR/tombstones.json`, and copied at every dump into
//! the flat, memory-mapped search file `DIR/graph.flat` ([`super::flat`]), which searchers
//! open instead of reloading hnsw_rs's dump. Vectors added by updates too small to be worth
//! writing the graph anew wait beside it in a segment searched exactly
//! (`DIR/added.vectors`, [`super::segment`]). hnsw_rs errors are converted here and nowhere
//! else.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hnsw_rs::prelude::{AnnT, DistDot, Hnsw, HnswIo, ReloadOptions};

use super::flat::{self, FlatGraph};
use super::segment::Segment;
use crate::ids::{ChunkFilter, ChunkId};
use crate::ingest::isolate::{Isolation, run_isolated};
use crate::{Error, Result};

/// Graph parameters. `M` above 256 would make hnsw_rs exit the process; these are fixed.
const MAX_CONNECTIONS: usize = 16;
const EF_CONSTRUCTION: usize = 200;
const MAX_LAYERS: usize = 16;
/// Smallest `ef` used when searching; larger fetches use more.
const MIN_EF_SEARCH: usize = 64;
/// `ef` also grows with the graph, one per this many points: recall at a fixed `ef` falls
/// as the graph grows (0.987 at 20,000 points but 0.934 at 1,000,000 with ef 64; 0.978 at
/// ef 512 and 0.988 at ef 1024 on 1,000,000: docs/benchmarks.md).
const POINTS_PER_EF: usize = 1000;
/// A search narrowed to at most this many chunks compares the query with each of them
/// (exact, a few milliseconds) instead of walking the graph past the chunks it skips.
pub const EXACT_WITHIN: usize = 32_768;
const BASENAME: &str = "graph";
/// Holds the base name hnsw_rs actually used for the dump (it may choose another).
const NAME_FILE: &str = "graph.name";
const TOMBSTONES_FILE: &str = "tombstones.json";
/// Compact (rebuild the graph) once this share of its points are tombstones.
pub const COMPACT_THRESHOLD: f64 = 0.2;

/// A semantic hit: the chunk and its cosine similarity to the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VectorHit {
    /// The chunk.
    pub chunk_id: ChunkId,
    /// Cosine similarity (vectors are normalised, so this is the dot product).
    pub cosine: f32,
}

/// A searchable HNSW graph with its tombstones and the segment of vectors added since it was
/// written: hnsw_rs's graph when the index will be changed, or its flat copy when it is
/// opened for searching only.
pub struct VectorIndex {
    graph: Option<Hnsw<'static, f32, DistDot>>,
    flat: Option<FlatGraph>,
    dim: usize,
    /// Removed chunks still in the graph (a removed chunk of the segment leaves it).
    tombstones: BTreeSet<u64>,
    /// Live chunks not in the graph, searched exactly.
    segment: Segment,
}

/// How a graph is built: links per point (`M`; twice as many on the bottom layer) and the
/// width of the search that picks them (`ef_construction`). Indexes always use the default;
/// `lexsearch bench --graph-params` measures others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphParams {
    /// `M`, at most 256.
    pub max_connections: usize,
    /// `ef_construction`.
    pub ef_construction: usize,
}

impl Default for GraphParams {
    fn default() -> Self {
        GraphParams {
            max_connections: MAX_CONNECTIONS,
            ef_construction: EF_CONSTRUCTION,
        }
    }
}

fn new_graph(capacity: usize, params: GraphParams) -> Hnsw<'static, f32, DistDot> {
    Hnsw::new(
        params.max_connections.clamp(1, 256),
        capacity.max(1024),
        MAX_LAYERS,
        params.ef_construction.max(1),
        DistDot,
    )
}

/// The threads graph insertions run on. The binary runs candle with one thread per product
/// (RAYON_NUM_THREADS=1); graph building wants every core, so it gets a pool of its own.
fn insert_pool() -> Option<rayon::ThreadPool> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    rayon::ThreadPoolBuilder::new()
        .num_threads(cores)
        .thread_name(|i| format!("graph-{i}"))
        .build()
        .ok()
}

/// Vectors handed to a [`GraphBuilder`], under their chunk ids.
pub type GraphBatch = Vec<(ChunkId, Vec<f32>)>;

/// Most vectors one insertion takes, so that a builder asked to stop does so soon.
const BUILD_SLICE: usize = 4096;

/// Inserts vectors into a graph on a thread of its own as they arrive, so that the graph
/// grows while the encoder runs and a commit has only the last few vectors and the dump
/// left. Whatever has queued up since the last insertion goes in as one parallel insertion
/// on every core. Started with a segment limit, it keeps the vectors aside instead (for the
/// segment, [`Built::added`]) while the segment stays within the limit, and loads and
/// inserts only once it would not. Dropped without [`finish`](Self::finish), it stops after
/// the insertion in progress and its graph is lost (the catalog holds the vectors).
pub struct GraphBuilder {
    tx: Option<mpsc::Sender<GraphBatch>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<Built>>>,
    /// The folder the graph will be dumped to (for messages).
    dir: PathBuf,
}

/// The graph a [`GraphBuilder`] starts from.
enum Start {
    /// A graph in memory (empty, or loaded with [`VectorIndex::open`]).
    Ready(Box<VectorIndex>),
    /// The graph dumped in `dir`, loaded on the builder's thread: at once with `now`, else
    /// when the first vectors arrive (never, when none do).
    Load { dir: PathBuf, dim: usize, now: bool },
}

/// What a [`GraphBuilder`] built.
pub struct Built {
    /// The graph with every vector inserted but [`added`](Self::added); `None` when it was
    /// to be loaded on demand and no vector had to be inserted (the dumped graph stands as it
    /// was).
    pub index: Option<VectorIndex>,
    /// The vectors kept for the segment instead of inserted (started with a segment limit,
    /// and the segment stayed within it), ascending by chunk id.
    pub added: Vec<(ChunkId, Vec<f32>)>,
    /// Vectors inserted into the graph (those of a segment merged into it included).
    pub inserted: usize,
    /// Seconds spent inserting.
    pub insert_seconds: f64,
    /// Seconds spent loading the dumped graph it started from.
    pub load_seconds: f64,
}

impl GraphBuilder {
    /// Starts a thread that inserts into `index` (empty, or loaded with
    /// [`VectorIndex::open`]); `dir` is where the graph will be dumped, named in errors.
    /// With a `segment_limit` above 0, vectors are kept aside while `index`'s segment and
    /// they stay within it.
    pub fn start(index: VectorIndex, dir: &Path, segment_limit: usize) -> Result<Self> {
        Self::spawn(Start::Ready(Box::new(index)), dir, segment_limit)
    }

    /// Starts a thread that loads the graph dumped in `from` (of vectors of length `dim`)
    /// and inserts into it: the load (seconds at a million points) runs beside whatever the
    /// caller does meanwhile. With `now` false the graph is loaded only when the first
    /// vectors to insert arrive, so a run that adds none, or (with a `segment_limit` above
    /// 0) only as many as the segment still has room for, never loads it ([`Built::index`]
    /// is `None`).
    pub fn start_from(
        from: &Path,
        dim: usize,
        now: bool,
        dir: &Path,
        segment_limit: usize,
    ) -> Result<Self> {
        let start = Start::Load {
            dir: from.to_path_buf(),
            dim,
            now,
        };
        Self::spawn(start, dir, segment_limit)
    }

    fn spawn(start: Start, dir: &Path, segment_limit: usize) -> Result<Self> {
        let (tx, rx) = mpsc::channel::<GraphBatch>();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("graph-builder".into())
            .spawn(move || build_from(start, segment_limit, &rx, &stopped))
            .map_err(|e| Error::Vector {
                path: dir.to_path_buf(),
                message: format!("cannot start the graph builder thread: {e}"),
            })?;
        Ok(GraphBuilder {
            tx: Some(tx),
            stop,
            thread: Some(thread),
            dir: dir.to_path_buf(),
        })
    }

    /// Queues vectors for insertion; returns at once.
    pub fn insert(&self, vectors: GraphBatch) {
        if vectors.is_empty() {
            return;
        }
        if let Some(tx) = &self.tx {
            // The thread only goes away on a panic or a failed load, which `finish` reports.
            let _ = tx.send(vectors);
        }
    }

    /// Waits until every queued vector is in the graph and returns what was built.
    pub fn finish(mut self) -> Result<Built> {
        drop(self.tx.take());
        let thread = self.thread.take().ok_or_else(|| self.stopped("gone"))?;
        thread.join().map_err(|panic| {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            self.stopped(&why)
        })?
    }

    fn stopped(&self, why: &str) -> Error {
        Error::Vector {
            path: self.dir.clone(),
            message: format!(
                "the graph builder thread stopped ({why}); run the command again (vectors already \
                 computed are reused)"
            ),
        }
    }
}

impl Drop for GraphBuilder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        drop(self.tx.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The graph builder's thread: loads the graph it starts from (at once or on the first
/// vectors to insert), then inserts what arrives on `rx` until it closes or `stop` is set;
/// with a `segment_limit`, keeps what arrives aside until the segment would pass it.
fn build_from(
    start: Start,
    segment_limit: usize,
    rx: &mpsc::Receiver<GraphBatch>,
    stop: &AtomicBool,
) -> Result<Built> {
    let mut built = Built {
        index: None,
        added: Vec::new(),
        inserted: 0,
        insert_seconds: 0.0,
        load_seconds: 0.0,
    };
    let mut later = None;
    match start {
        Start::Ready(index) => built.index = Some(*index),
        Start::Load { dir, dim, now } => {
            if now {
                built.index = Some(timed_load(&dir, dim, &mut built.load_seconds)?);
            } else {
                later = Some((dir, dim));
            }
        }
    }
    // Room left in the segment: the limit less what the current segment holds (read when
    // the first vectors come); `None` once vectors go into the graph.
    let mut room = (segment_limit > 0).then_some(None::<usize>);
    let pool = insert_pool();
    while let Ok(mut batch) = rx.recv() {
        while let Ok(more) = rx.try_recv() {
            batch.extend(more);
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if let Some(left) = &mut room {
            let left = match left {
                Some(left) => *left,
                None => {
                    let held = match (&built.index, &later) {
                        (Some(index), _) => index.segment_len(),
                        (None, Some((dir, dim))) => Segment::count_in(dir, *dim)?,
                        (None, None) => 0,
                    };
                    *left.insert(segment_limit.saturating_sub(held))
                }
            };
            if built.added.len() + batch.len() <= left {
                built.added.append(&mut batch);
                continue;
            }
            // The segment would pass its limit: it goes into the graph with the rest.
            room = None;
            batch.splice(0..0, std::mem::take(&mut built.added));
        }
        let index = match (&mut built.index, later.take()) {
            (Some(index), _) => index,
            (slot, Some((dir, dim))) => {
                slot.insert(timed_load(&dir, dim, &mut built.load_seconds)?)
            }
            (slot, None) => slot.insert(VectorIndex::empty(batch[0].1.len())),
        };
        if index.segment_len() > 0 {
            let started = Instant::now();
            built.inserted += index.segment_len();
            index.absorb_segment();
            built.insert_seconds += started.elapsed().as_secs_f64();
        }
        for part in batch.chunks(BUILD_SLICE) {
            if stop.load(Ordering::Relaxed) {
                return Ok(built);
            }
            let started = Instant::now();
            index.insert_in(part, pool.as_ref());
            built.insert_seconds += started.elapsed().as_secs_f64();
            built.inserted += part.len();
        }
    }
    built.added.sort_by_key(|(id, _)| *id);
    Ok(built)
}

/// The tombstones in `dir` (none without the file).
fn read_tombstones(dir: &Path) -> Result<BTreeSet<u64>> {
    let path = dir.join(TOMBSTONES_FILE);
    match std::fs::read_to_string(&path) {
        Ok(t) => serde_json::from_str(&t).map_err(|e| Error::Vector {
            path,
            message: format!("unreadable tombstones: {e}"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// hnsw_rs's load of dump `name` in `dir`. A reloaded graph borrows its loader; the loader
/// lives as long as the process (one per opened index, a few hundred bytes).
fn load_dump(
    dir: &Path,
    name: &str,
    options: ReloadOptions,
) -> anyhow::Result<Hnsw<'static, f32, DistDot>> {
    let loader: &'static mut HnswIo =
        Box::leak(Box::new(HnswIo::new_with_options(dir, name, options)));
    loader.load_hnsw::<f32, DistDot>()
}

/// [`VectorIndex::open`], adding the seconds it took to `seconds`.
fn timed_load(dir: &Path, dim: usize, seconds: &mut f64) -> Result<VectorIndex> {
    let started = Instant::now();
    let index = VectorIndex::open(dir, dim);
    *seconds += started.elapsed().as_secs_f64();
    index
}

/// hnsw_rs's dump files in `dir` (`*.hnsw.graph`, `*.hnsw.data`) of any name but `used`.
fn stale_dumps(dir: &Path, used: &str) -> Result<Vec<PathBuf>> {
    let keep = [format!("{used}.hnsw.graph"), format!("{used}.hnsw.data")];
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))? {
        let entry = entry.map_err(|e| Error::io("read", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if (name.ends_with(".hnsw.graph") || name.ends_with(".hnsw.data")) && !keep.contains(&name)
        {
            stale.push(entry.path());
        }
    }
    stale.sort();
    Ok(stale)
}

impl VectorIndex {
    /// An empty index of vectors of length `dim`.
    pub fn empty(dim: usize) -> Self {
        VectorIndex {
            graph: None,
            flat: None,
            dim,
            tombstones: BTreeSet::new(),
            segment: Segment::default(),
        }
    }

    /// A new graph over `vectors` (each of length `dim`, normalised).
    pub fn build(dim: usize, vectors: &[(ChunkId, Vec<f32>)]) -> Self {
        Self::build_with(dim, vectors, GraphParams::default())
    }

    /// [`build`](Self::build) with other graph parameters (for measuring them).
    pub fn build_with(dim: usize, vectors: &[(ChunkId, Vec<f32>)], params: GraphParams) -> Self {
        let mut index = VectorIndex::empty(dim);
        if vectors.is_empty() {
            // hnsw_rs cannot dump a graph without points: an empty index has no graph.
            return index;
        }
        index.graph = Some(new_graph(vectors.len(), params));
        index.insert(vectors);
        index
    }

    /// [`build`](Self::build) one vector at a time, in the order given: hnsw_rs draws each
    /// point's layer from a seeded generator, so the same vectors in the same order always
    /// give the same graph (parallel insertion links points in whatever order threads reach
    /// them).
    pub fn build_sequential(dim: usize, vectors: &[(ChunkId, Vec<f32>)]) -> Self {
        let mut index = VectorIndex::empty(dim);
        if vectors.is_empty() {
            return index;
        }
        let graph = new_graph(vectors.len(), GraphParams::default());
        for (id, v) in vectors {
            graph.insert_slice((v.as_slice(), id.0 as usize));
        }
        index.graph = Some(graph);
        index
    }

    /// Loads the index dumped in `dir` (empty when nothing was dumped), vectors in memory:
    /// for an index that will be changed and dumped again.
    pub fn open(dir: &Path, dim: usize) -> Result<Self> {
        let mut index = Self::without_graph(dir, dim)?;
        index.graph = Self::load_hnsw(dir, false)?;
        Ok(index)
    }

    /// Opens the index in `dir` for searching only. It maps the flat search file
    /// (`graph.flat`), which takes milliseconds at any size, and pages in only what searches
    /// touch. When that file is missing, or does not hold `live` live points (an index
    /// written before it existed, or changed by an older lexsearch), it falls back to
    /// reloading hnsw_rs's dump with its vectors mapped: seconds per million points
    /// (docs/benchmarks.md). Writers never change either file in place, so the mappings
    /// stay valid while an indexer replaces the index.
    pub fn open_for_search(dir: &Path, dim: usize, live: u64) -> Result<Self> {
        let mut index = Self::without_graph(dir, dim)?;
        match FlatGraph::open(&flat::path_in(dir), dim)? {
            Some(f) if index.flat_matches(&f, live) => {
                index.flat = Some(f);
            }
            _ => index.graph = Self::load_hnsw(dir, true)?,
        }
        Ok(index)
    }

    /// Whether the flat search file `f` is this index's graph when the index holds `live`
    /// live chunks: its points are those of the segment's complement, tombstones included.
    fn flat_matches(&self, f: &FlatGraph, live: u64) -> bool {
        f.len() as u64 + self.segment.len() as u64 == live + self.tombstones.len() as u64
    }

    /// The vector of live chunk `id`, read from the flat search file or the segment; `None`
    /// when the chunk is not in the index, and for a graph chunk of an index searched
    /// through hnsw_rs's own dump.
    pub fn vector_of(&self, id: ChunkId) -> Option<&[f32]> {
        if self.tombstones.contains(&id.0) {
            return None;
        }
        self.segment
            .vector_of(id.0)
            .or_else(|| self.flat.as_ref()?.vector_of(id.0))
    }

    /// Whether searches use the flat search file (rather than hnsw_rs's reloaded graph).
    pub fn is_flat(&self) -> bool {
        self.flat.is_some()
    }

    /// The index in `dir` without its graph: its tombstones and segment.
    fn without_graph(dir: &Path, dim: usize) -> Result<Self> {
        let mut index = VectorIndex::empty(dim);
        index.segment = Segment::read(dir, dim)?;
        index.tombstones = read_tombstones(dir)?;
        Ok(index)
    }

    /// The tombstones and the segment's vectors of the index in `dir`, counted without
    /// opening its graph or reading its segment's vectors (for `status` and a run that
    /// changes nothing).
    pub fn counts_in(dir: &Path, dim: usize) -> Result<(usize, usize)> {
        Ok((read_tombstones(dir)?.len(), Segment::count_in(dir, dim)?))
    }

    /// hnsw_rs's dump in `dir`, if there is one; `mapped` leaves its vectors in the file.
    fn load_hnsw(dir: &Path, mapped: bool) -> Result<Option<Hnsw<'static, f32, DistDot>>> {
        let name_path = dir.join(NAME_FILE);
        let name = match std::fs::read_to_string(&name_path) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", name_path, e)),
        };
        let damaged = |why: String| Error::Vector {
            path: PathBuf::from(dir),
            message: format!(
                "cannot load the graph: {why}; `lexsearch verify --repair` rebuilds it from the \
                 catalog"
            ),
        };
        let options = ReloadOptions::default().set_mmap(mapped);
        // hnsw_rs panics on some damaged dumps (a bad magic number) instead of failing: the
        // load runs isolated, which turns the panic into an error (and keeps it off the
        // terminal in the binary). No time limit: a large graph takes seconds.
        let (from, name) = (dir.to_path_buf(), name.trim().to_string());
        let loaded = run_isolated(Duration::MAX, move || load_dump(&from, &name, options))
            .map_err(|why| match why {
                Isolation::Panicked(message) => damaged(format!("the dump is damaged ({message})")),
                other => damaged(format!("{other:?}")),
            })?;
        let mut graph = loaded.map_err(|e| damaged(format!("{e:#}")))?;
        graph.set_searching_mode(false);
        Ok(Some(graph))
    }

    /// Adds vectors (normalised, of length `dim`) under their chunk ids. An index opened for
    /// searching only cannot take them: open it with [`open`](Self::open).
    pub fn insert(&mut self, vectors: &[(ChunkId, Vec<f32>)]) {
        self.insert_in(vectors, insert_pool().as_ref());
    }

    /// [`insert`](Self::insert) on the threads of `pool` (on the caller's rayon pool without one).
    fn insert_in(&mut self, vectors: &[(ChunkId, Vec<f32>)], pool: Option<&rayon::ThreadPool>) {
        if vectors.is_empty() {
            return;
        }
        debug_assert!(self.flat.is_none(), "insert into a search-only index");
        debug_assert!(vectors.iter().all(|(_, v)| v.len() == self.dim));
        let graph = self
            .graph
            .get_or_insert_with(|| new_graph(vectors.len(), GraphParams::default()));
        let data: Vec<(&[f32], usize)> = vectors
            .iter()
            .map(|(id, v)| (v.as_slice(), id.0 as usize))
            .collect();
        match pool {
            Some(pool) => pool.install(|| graph.parallel_insert_slice(&data)),
            None => graph.parallel_insert_slice(&data),
        }
    }

    /// Marks chunks as removed: they are never returned again (those of the segment leave it).
    pub fn remove(&mut self, ids: impl IntoIterator<Item = ChunkId>) {
        let in_graph = self.segment.remove(ids);
        self.tombstones.extend(in_graph.into_iter().map(|c| c.0));
    }

    /// Adds vectors to the segment instead of the graph: searched exactly, and written with
    /// the graph's files left as they are ([`dump_as_linked`](Self::dump_as_linked)).
    pub fn add_to_segment(&mut self, vectors: &[(ChunkId, Vec<f32>)]) {
        debug_assert!(vectors.iter().all(|(_, v)| v.len() == self.dim));
        self.segment.extend(vectors);
    }

    /// Inserts the segment's vectors into the graph (loaded with [`open`](Self::open) or
    /// built here), leaving the segment empty.
    pub fn absorb_segment(&mut self) {
        let vectors = self.segment.drain();
        self.insert(&vectors);
    }

    /// Vectors in the segment.
    pub fn segment_len(&self) -> usize {
        self.segment.len()
    }

    /// Writes the graph, its flat search file, the tombstones and the segment into `dir` (an
    /// existing dump there is replaced). Only an index opened with [`open`](Self::open) or
    /// built here holds a graph to write.
    pub fn dump(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        self.write_tombstones(dir)?;
        self.segment.write(dir, self.dim)?;
        let name_path = dir.join(NAME_FILE);
        let flat_path = flat::path_in(dir);
        let Some(graph) = &self.graph else {
            let dumps = stale_dumps(dir, "")?;
            for path in [name_path, flat_path].into_iter().chain(dumps) {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io("remove", path, e)),
                }
            }
            return Ok(());
        };
        // Two files from one graph, each written by one thread: side by side.
        let (flat, dumped) = std::thread::scope(|scope| {
            let flat = scope.spawn(|| flat::write(graph, self.dim, &flat_path));
            let dumped = graph.file_dump(dir, BASENAME);
            (flat.join(), dumped)
        });
        flat.map_err(|_| Error::Vector {
            path: flat_path.clone(),
            message: "writing the flat search file stopped (a panic)".into(),
        })??;
        let used = dumped.map_err(|e| Error::Vector {
            path: dir.to_path_buf(),
            message: format!("{e:#}"),
        })?;
        std::fs::write(&name_path, &used).map_err(|e| Error::io("write", name_path, e))?;
        // hnsw_rs never overwrites the dump of a graph it reloaded: it writes the new one
        // under another name. The one named in `graph.name` is the graph; others are gone.
        for stale in stale_dumps(dir, &used)? {
            std::fs::remove_file(&stale).map_err(|e| Error::io("remove", stale, e))?;
        }
        Ok(())
    }

    /// Opens the graph dumped in `dir` for a generation that adds no vector to it, when its
    /// dump can serve that generation as it is: its flat search file matches it (it holds
    /// `live` live points) and no earlier dump lies beside it. `None` when it must be loaded
    /// and dumped anew. See [`dump_as_linked`](Self::dump_as_linked).
    pub fn open_unchanged(dir: &Path, dim: usize, live: u64) -> Result<Option<Self>> {
        if !Self::stale_files(dir)?.is_empty() {
            return Ok(None);
        }
        let mut index = Self::without_graph(dir, dim)?;
        match FlatGraph::open(&flat::path_in(dir), dim)? {
            Some(f) if index.flat_matches(&f, live) => {
                index.flat = Some(f);
                Ok(Some(index))
            }
            _ => Ok(None),
        }
    }

    /// Writes into `to` the graph opened with [`open_unchanged`](Self::open_unchanged) from
    /// `from`, with the tombstones and segment as they are now: the dump's files and the flat
    /// search file as hard links to `from`'s (copies where the file system cannot link),
    /// which is safe because no file of a dump is ever written again (a dump goes into an
    /// empty folder, [`write_flat`](Self::write_flat) replaces its file through a rename),
    /// and the tombstones and segment written anew. Milliseconds, where [`dump`](Self::dump)
    /// takes seconds per hundred thousand points.
    pub fn dump_as_linked(&self, from: &Path, to: &Path) -> Result<()> {
        std::fs::create_dir_all(to).map_err(|e| Error::io("create", to, e))?;
        let name_path = from.join(NAME_FILE);
        let name =
            std::fs::read_to_string(&name_path).map_err(|e| Error::io("read", name_path, e))?;
        let name = name.trim();
        for file in [
            NAME_FILE.to_string(),
            flat::FILE_NAME.to_string(),
            format!("{name}.hnsw.graph"),
            format!("{name}.hnsw.data"),
        ] {
            let (source, target) = (from.join(&file), to.join(&file));
            if std::fs::hard_link(&source, &target).is_err() {
                std::fs::copy(&source, &target).map_err(|e| Error::io("copy", &source, e))?;
            }
        }
        self.segment.write(to, self.dim)?;
        self.write_tombstones(to)
    }

    fn write_tombstones(&self, dir: &Path) -> Result<()> {
        let tomb_path = dir.join(TOMBSTONES_FILE);
        let tombs = serde_json::to_string(&self.tombstones).map_err(|e| Error::Vector {
            path: tomb_path.clone(),
            message: e.to_string(),
        })?;
        std::fs::write(&tomb_path, tombs).map_err(|e| Error::io("write", &tomb_path, e))
    }

    /// The graph files in `dir` that are not the dump `graph.name` names: earlier versions
    /// of lexsearch kept every earlier dump of a graph updated in place. Empty without a
    /// dump.
    pub fn stale_files(dir: &Path) -> Result<Vec<PathBuf>> {
        match std::fs::read_to_string(dir.join(NAME_FILE)) {
            Ok(name) => stale_dumps(dir, name.trim()),
            Err(_) => Ok(Vec::new()),
        }
    }

    /// What is wrong with the flat search file in `dir` against this graph (loaded with
    /// [`open`](Self::open)), or `None` when it matches.
    pub fn flat_file_problem(&self, dir: &Path) -> Option<String> {
        let Some(graph) = &self.graph else {
            return None;
        };
        match FlatGraph::open(&flat::path_in(dir), self.dim) {
            Ok(Some(f)) if f.len() == graph.get_nb_point() => match f.unreached() {
                0 => None,
                n => Some(format!(
                    "{n} of {} chunks cannot be reached by any search (written by an earlier \
                     version, before such points were linked): they are never semantic hits",
                    f.len()
                )),
            },
            Ok(Some(f)) => Some(format!(
                "{} holds {} points, the graph {}: searches reload the graph instead, slowly",
                flat::FILE_NAME,
                f.len(),
                graph.get_nb_point()
            )),
            Ok(None) => Some(format!(
                "{} is missing: searches reload the graph instead, slowly",
                flat::FILE_NAME
            )),
            Err(e) => Some(e.to_string()),
        }
    }

    /// Writes only the flat search file into `dir`, through a rename, leaving hnsw_rs's
    /// dump as it is (a repair: [`dump`](Self::dump) writes both).
    pub fn write_flat(&self, dir: &Path) -> Result<()> {
        match &self.graph {
            Some(graph) => flat::write(graph, self.dim, &flat::path_in(dir)),
            None => Ok(()),
        }
    }

    /// The `limit` live chunks nearest to `query`, most similar first.
    pub fn search(&self, query: &[f32], limit: usize) -> Vec<VectorHit> {
        self.search_with_ef(query, limit, self.default_ef(limit))
    }

    /// The candidate list a search for `limit` hits walks the graph with.
    fn default_ef(&self, limit: usize) -> usize {
        limit
            .max(MIN_EF_SEARCH)
            .max(self.graph_len() / POINTS_PER_EF)
    }

    /// [`search`](Self::search) with an explicit size of the candidate list (`ef`): larger
    /// is slower and closer to exact.
    pub fn search_with_ef(&self, query: &[f32], limit: usize, ef: usize) -> Vec<VectorHit> {
        if query.len() != self.dim || limit == 0 {
            return Vec::new();
        }
        let added = self.segment.nearest(query, limit, |_| true);
        Self::merged(self.graph_search(query, limit, ef), added, limit)
    }

    /// The graph's part of [`search_with_ef`](Self::search_with_ef).
    fn graph_search(&self, query: &[f32], limit: usize, ef: usize) -> Vec<(u64, f32)> {
        let ef = ef.max(limit);
        if let Some(flat) = &self.flat {
            // Removed points are walked through but never kept, so `ef` live ones are.
            let live = |id: u64| !self.tombstones.contains(&id);
            return flat.search(query, limit, ef, live);
        }
        let Some(graph) = &self.graph else {
            return Vec::new();
        };
        let found = if self.tombstones.is_empty() {
            graph.search(query, limit, ef)
        } else {
            let ef = self.ef_past_tombstones(ef);
            let live = |id: &usize| !self.tombstones.contains(&(*id as u64));
            graph.search_filter(query, limit, ef, Some(&live))
        };
        found
            .into_iter()
            .filter(|n| !self.tombstones.contains(&(n.d_id as u64)))
            .map(|n| (n.d_id as u64, n.distance))
            .collect()
    }

    /// The `limit` nearest of the graph's hits and the segment's, as (chunk id, distance).
    fn merged(graph: Vec<(u64, f32)>, added: Vec<(u64, f32)>, limit: usize) -> Vec<VectorHit> {
        let mut hits =
            Self::ranked(
                graph
                    .into_iter()
                    .chain(added)
                    .map(|(id, distance)| VectorHit {
                        chunk_id: ChunkId(id),
                        cosine: 1.0 - distance,
                    }),
            );
        hits.truncate(limit);
        hits
    }

    /// The `limit` live chunks `within` keeps nearest to `query`, most similar first: exact
    /// (the query compared with every chunk of its list) when it lists at most
    /// `exact_within` chunks and the graph is the flat file, else a graph search that keeps
    /// only the chunks it keeps, its candidate list widened by the share of the graph it
    /// skips.
    pub fn search_within(
        &self,
        query: &[f32],
        limit: usize,
        within: &ChunkFilter,
        exact_within: usize,
    ) -> Vec<VectorHit> {
        let points = self.graph_len().max(1);
        if query.len() != self.dim || limit == 0 || within.at_most(points + self.segment.len()) == 0
        {
            return Vec::new();
        }
        let keep = |id: u64| within.keeps(id) && !self.tombstones.contains(&id);
        let added = self.segment.nearest(query, limit, keep);
        if let (Some(flat), Some(listed)) = (&self.flat, within.listed())
            && listed.len() <= exact_within
        {
            let found = flat.nearest_among(query, limit, listed.ids(), keep);
            return Self::merged(found, added, limit);
        }
        let share = (within.at_most(points) as f64 / points as f64).clamp(1e-6, 1.0);
        let ef = self.default_ef(limit) as f64 / share;
        let ef = (ef.ceil() as usize).clamp(limit, points.max(limit));
        if let Some(flat) = &self.flat {
            return Self::merged(flat.search(query, limit, ef, keep), added, limit);
        }
        let Some(graph) = &self.graph else {
            return Self::merged(Vec::new(), added, limit);
        };
        let ef = self.ef_past_tombstones(ef);
        let filter = |id: &usize| keep(*id as u64);
        let found = graph
            .search_filter(query, limit, ef, Some(&filter))
            .into_iter()
            .filter(|n| keep(n.d_id as u64))
            .map(|n| (n.d_id as u64, n.distance))
            .collect();
        Self::merged(found, added, limit)
    }

    /// Over-fetch in proportion to the dead share, so `limit` live results come back.
    fn ef_past_tombstones(&self, ef: usize) -> usize {
        if self.tombstones.is_empty() {
            return ef;
        }
        let dead = self.tombstones.len() as f64 / self.graph_len().max(1) as f64;
        ((ef as f64) / (1.0 - dead.min(0.9))).ceil() as usize
    }

    /// Hits by decreasing cosine, ties by chunk id.
    fn ranked(hits: impl Iterator<Item = VectorHit>) -> Vec<VectorHit> {
        let mut hits: Vec<VectorHit> = hits.collect();
        hits.sort_by(|a, b| {
            b.cosine
                .total_cmp(&a.cosine)
                .then(a.chunk_id.cmp(&b.chunk_id))
        });
        hits
    }

    /// Points in the graph, tombstones included.
    pub fn graph_len(&self) -> usize {
        match (&self.flat, &self.graph) {
            (Some(f), _) => f.len(),
            (None, Some(g)) => g.get_nb_point(),
            (None, None) => 0,
        }
    }

    /// Number of tombstones.
    pub fn tombstones(&self) -> usize {
        self.tombstones.len()
    }

    /// Whether a chunk id is a tombstone.
    pub fn is_removed(&self, id: ChunkId) -> bool {
        self.tombstones.contains(&id.0)
    }

    /// Live vectors, the segment's included.
    pub fn len(&self) -> usize {
        self.graph_len().saturating_sub(self.tombstones.len()) + self.segment.len()
    }

    /// Whether there are no live vectors.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether it holds hnsw_rs's graph in memory, ready for insertions (loaded with
    /// [`open`](Self::open) or built here), rather than files mapped for searching.
    pub fn is_writable_graph(&self) -> bool {
        self.graph.is_some() && self.flat.is_none()
    }

    /// Takes `other`'s tombstones and segment as its own: for the same graph, opened twice.
    pub fn set_changes_from(&mut self, other: &VectorIndex) {
        self.tombstones.clone_from(&other.tombstones);
        self.segment.clone_from(&other.segment);
    }

    /// Whether tombstones have passed the compaction threshold.
    pub fn needs_compaction(&self) -> bool {
        self.graph_len() > 0
            && self.tombstones.len() as f64 / self.graph_len() as f64 > COMPACT_THRESHOLD
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ChunkSet;

    /// `n` pseudo-random unit vectors in 8 dimensions under ids `first_id..`.
    fn vectors(first_id: u64, n: u64) -> Vec<(ChunkId, Vec<f32>)> {
        crate::index::test_vectors::unit_vectors(42 + first_id, n as usize, 8)
            .into_iter()
            .enumerate()
            .map(|(i, v)| (ChunkId(first_id + i as u64), v))
            .collect()
    }

    #[test]
    fn a_sequential_build_of_the_same_vectors_writes_the_same_graph() {
        let v = vectors(1, 2000);
        let files = |dir: &std::path::Path| {
            let mut names: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            names.sort();
            names
                .iter()
                .map(|p| (p.file_name().unwrap().to_owned(), std::fs::read(p).unwrap()))
                .collect::<Vec<_>>()
        };
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        VectorIndex::build_sequential(8, &v).dump(a.path()).unwrap();
        VectorIndex::build_sequential(8, &v).dump(b.path()).unwrap();
        let (fa, fb) = (files(a.path()), files(b.path()));
        assert!(!fa.is_empty());
        assert!(fa == fb, "two sequential builds wrote different graphs");
        // And it finds what the parallel build finds: each point nearest to itself.
        let loaded = VectorIndex::open_for_search(a.path(), 8, 2000).unwrap();
        for (id, q) in v.iter().step_by(97) {
            assert_eq!(loaded.search(q, 1)[0].chunk_id, *id);
        }
    }

    #[test]
    fn dumped_graph_reloads_and_finds_the_nearest_vectors() {
        let dir = tempfile::tempdir().unwrap();
        let v = vectors(1000, 200);
        VectorIndex::build(8, &v).dump(dir.path()).unwrap();
        let idx = VectorIndex::open(dir.path(), 8).unwrap();
        assert_eq!(idx.len(), 200);
        let hits = idx.search(&v[17].1, 5);
        assert_eq!(hits[0].chunk_id, ChunkId(1017));
        assert!((hits[0].cosine - 1.0).abs() < 1e-5);
        assert!(hits.windows(2).all(|w| w[0].cosine >= w[1].cosine));
    }

    #[test]
    fn a_graph_opened_for_search_maps_its_flat_file_and_honours_tombstones() {
        let dir = tempfile::tempdir().unwrap();
        let v = vectors(500, 300);
        let mut built = VectorIndex::build(8, &v);
        built.remove([ChunkId(510)]);
        built.dump(dir.path()).unwrap();
        let heap = VectorIndex::open(dir.path(), 8).unwrap();
        let mapped = VectorIndex::open_for_search(dir.path(), 8, 299).unwrap();
        assert!(mapped.is_flat());
        assert_eq!(
            (mapped.graph_len(), mapped.len(), mapped.tombstones()),
            (300, 299, 1)
        );
        for (id, q) in v.iter().step_by(7) {
            let flat = mapped.search(q, 10);
            assert_eq!(flat.len(), 10);
            assert!(flat.iter().all(|h| h.chunk_id != ChunkId(510)));
            if *id != ChunkId(510) {
                assert_eq!(flat[0].chunk_id, *id);
            }
            // The same graph searched by hnsw_rs finds the same nearest chunks.
            let same = heap.search(q, 10);
            let shared = flat.iter().filter(|h| same.contains(h)).count();
            assert!(shared >= 9, "{shared} of 10 shared for {id:?}");
        }
    }

    #[test]
    fn a_segment_beside_the_graph_is_searched_exactly_and_travels_with_the_linked_graph() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let graph = vectors(0, 300);
        let added = vectors(300, 40);
        VectorIndex::build(8, &graph).dump(a.path()).unwrap();
        // An update within the segment: the graph's files linked, the segment written.
        let mut next = VectorIndex::open_unchanged(a.path(), 8, 300)
            .unwrap()
            .unwrap();
        next.add_to_segment(&added);
        next.remove([ChunkId(5), ChunkId(305)]);
        assert_eq!((next.tombstones(), next.segment_len()), (1, 39));
        next.dump_as_linked(a.path(), b.path()).unwrap();
        assert!(b.path().join(crate::index::segment::SEGMENT_FILE).exists());
        // 338 live: 299 in the graph, 39 in the segment.
        let mapped = VectorIndex::open_for_search(b.path(), 8, 338).unwrap();
        assert!(
            mapped.is_flat(),
            "the flat file no longer matches the index"
        );
        assert_eq!((mapped.graph_len(), mapped.len()), (300, 338));
        let all: Vec<(ChunkId, Vec<f32>)> = graph.iter().chain(&added).cloned().collect();
        for (id, q) in all.iter().step_by(3) {
            let hits = mapped.search(q, 10);
            assert_eq!(hits.len(), 10);
            assert!(hits.windows(2).all(|w| w[0].cosine >= w[1].cosine));
            assert!(hits.iter().all(|h| ![5, 305].contains(&h.chunk_id.0)));
            if ![5, 305].contains(&id.0) {
                assert_eq!(hits[0].chunk_id, *id);
                assert_eq!(mapped.vector_of(*id), Some(q.as_slice()));
            }
        }
        assert_eq!(mapped.vector_of(ChunkId(305)), None);
        // Narrowed searches see the segment too: exact over a list, or by the graph.
        let within = ChunkFilter::only(ChunkSet::new([7, 310, 320, 305].map(ChunkId)));
        let found = mapped.search_within(&added[10].1, 10, &within, EXACT_WITHIN);
        let ids: Vec<u64> = found.iter().map(|h| h.chunk_id.0).collect();
        assert_eq!(ids.len(), 3);
        assert_eq!(ids[0], 310);
        let graph_walk = mapped.search_within(&added[20].1, 3, &within, 0);
        assert_eq!(graph_walk[0].chunk_id, ChunkId(320));
        // A graph that is written anew takes the segment in.
        let mut loaded = VectorIndex::open(b.path(), 8).unwrap();
        assert_eq!((loaded.len(), loaded.segment_len()), (338, 39));
        loaded.absorb_segment();
        let c = tempfile::tempdir().unwrap();
        loaded.dump(c.path()).unwrap();
        assert!(!c.path().join(crate::index::segment::SEGMENT_FILE).exists());
        let merged = VectorIndex::open_for_search(c.path(), 8, 338).unwrap();
        assert!(merged.is_flat());
        assert_eq!((merged.graph_len(), merged.segment_len()), (339, 0));
        assert_eq!(merged.search(&added[0].1, 1)[0].chunk_id, ChunkId(300));
    }

    #[test]
    fn a_builder_with_a_segment_keeps_vectors_aside_until_the_limit_then_loads_and_inserts() {
        let dir = tempfile::tempdir().unwrap();
        VectorIndex::build(8, &vectors(0, 100))
            .dump(dir.path())
            .unwrap();
        let within = GraphBuilder::start_from(dir.path(), 8, false, dir.path(), 30).unwrap();
        within.insert(vectors(120, 10));
        within.insert(vectors(100, 20));
        let built = within.finish().unwrap();
        assert!(built.index.is_none(), "the graph was loaded");
        assert_eq!((built.inserted, built.added.len()), (0, 30));
        assert!(built.added.windows(2).all(|w| w[0].0 < w[1].0));
        let past = GraphBuilder::start_from(dir.path(), 8, false, dir.path(), 30).unwrap();
        past.insert(vectors(100, 20));
        past.insert(vectors(120, 20));
        let built = past.finish().unwrap();
        assert!(built.added.is_empty());
        assert_eq!(built.inserted, 40);
        assert_eq!(built.index.unwrap().len(), 140);
    }

    #[test]
    fn a_stale_or_missing_flat_file_falls_back_to_the_hnsw_dump() {
        let dir = tempfile::tempdir().unwrap();
        let v = vectors(0, 200);
        VectorIndex::build(8, &v).dump(dir.path()).unwrap();
        // The catalog says 250 chunks: the flat file (200 points) is not this index's.
        let stale = VectorIndex::open_for_search(dir.path(), 8, 250).unwrap();
        assert!(!stale.is_flat());
        assert_eq!(stale.search(&v[9].1, 1)[0].chunk_id, ChunkId(9));
        std::fs::remove_file(flat::path_in(dir.path())).unwrap();
        let old = VectorIndex::open_for_search(dir.path(), 8, 200).unwrap();
        assert!(!old.is_flat());
        assert_eq!(old.search(&v[9].1, 1)[0].chunk_id, ChunkId(9));
    }

    #[test]
    fn a_reloaded_graph_takes_inserts_and_tombstones() {
        let dir = tempfile::tempdir().unwrap();
        let first = vectors(0, 100);
        VectorIndex::build(8, &first).dump(dir.path()).unwrap();
        let mut idx = VectorIndex::open(dir.path(), 8).unwrap();
        let second = vectors(100, 50);
        idx.insert(&second);
        idx.remove([ChunkId(3)]);
        idx.dump(dir.path()).unwrap();
        // Dumped again where it was loaded from: one dump stays, the one it names.
        let dumps = |dir: &Path| {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".hnsw."))
                .collect();
            names.sort();
            names
        };
        let name = std::fs::read_to_string(dir.path().join(NAME_FILE)).unwrap();
        assert_eq!(
            dumps(dir.path()),
            [format!("{name}.hnsw.data"), format!("{name}.hnsw.graph")]
        );
        assert!(VectorIndex::stale_files(dir.path()).unwrap().is_empty());
        let idx = VectorIndex::open(dir.path(), 8).unwrap();
        assert_eq!(
            (idx.graph_len(), idx.tombstones(), idx.len()),
            (150, 1, 149)
        );
        assert_eq!(idx.search(&second[7].1, 1)[0].chunk_id, ChunkId(107));
        // The removed vector is never returned, not even for its own query.
        assert!(
            idx.search(&first[3].1, 10)
                .iter()
                .all(|h| h.chunk_id != ChunkId(3))
        );
        assert!(!idx.needs_compaction());
    }

    /// Share of the exact top 10 (by dot product) that the graph returns, over `queries`.
    fn recall_at_10(idx: &VectorIndex, all: &[(ChunkId, Vec<f32>)], queries: &[Vec<f32>]) -> f64 {
        let mut agree = 0;
        for q in queries {
            let mut exact: Vec<(f32, ChunkId)> = all
                .iter()
                .map(|(id, v)| (v.iter().zip(q).map(|(a, b)| a * b).sum::<f32>(), *id))
                .collect();
            exact.sort_by(|a, b| b.0.total_cmp(&a.0));
            let found = idx.search(q, 10);
            agree += exact[..10]
                .iter()
                .filter(|(_, id)| found.iter().any(|h| h.chunk_id == *id))
                .count();
        }
        agree as f64 / (10 * queries.len()) as f64
    }

    #[test]
    fn a_search_within_a_set_finds_its_nearest_chunks_exactly_or_through_the_graph() {
        let dir = tempfile::tempdir().unwrap();
        let v: Vec<(ChunkId, Vec<f32>)> = crate::index::test_vectors::unit_vectors(3, 3000, 16)
            .into_iter()
            .enumerate()
            .map(|(i, v)| (ChunkId(i as u64), v))
            .collect();
        let mut built = VectorIndex::build(16, &v);
        built.remove([ChunkId(3)]);
        built.dump(dir.path()).unwrap();
        let mapped = VectorIndex::open_for_search(dir.path(), 16, 2999).unwrap();
        let heap = VectorIndex::open(dir.path(), 16).unwrap();
        // A third of the chunks (the removed one among them), and a chunk no graph holds.
        let within = ChunkSet::new(
            v.iter()
                .map(|(id, _)| *id)
                .filter(|id| id.0 % 3 == 0)
                .chain([ChunkId(99_999)]),
        );
        let in_set: Vec<_> = v
            .iter()
            .filter(|(id, _)| id.0 % 3 == 0 && id.0 != 3)
            .cloned()
            .collect();
        let queries = crate::index::test_vectors::unit_vectors(11, 50, 16);
        let mut graph_agree = [0usize; 2];
        for q in &queries {
            let mut exact: Vec<(f32, ChunkId)> = in_set
                .iter()
                .map(|(id, x)| (x.iter().zip(q).map(|(a, b)| a * b).sum::<f32>(), *id))
                .collect();
            exact.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let best: Vec<ChunkId> = exact[..10].iter().map(|e| e.1).collect();
            // Exact: the set's ten nearest, in order.
            let found = mapped.search_within(q, 10, &ChunkFilter::only(within.clone()), usize::MAX);
            let ids: Vec<ChunkId> = found.iter().map(|h| h.chunk_id).collect();
            assert_eq!(ids, best);
            assert!((found[0].cosine - exact[0].0).abs() < 1e-5);
            // Through the flat graph and through hnsw_rs: only the set's live chunks.
            // The same chunks named by what is left out (a search that excludes words).
            let others = ChunkFilter::except(ChunkSet::new(
                v.iter().map(|(id, _)| *id).filter(|id| id.0 % 3 != 0),
            ));
            for (i, idx) in [&mapped, &heap].into_iter().enumerate() {
                for filter in [&ChunkFilter::only(within.clone()), &others] {
                    let found = idx.search_within(q, 10, filter, 0);
                    assert_eq!(found.len(), 10);
                    assert!(
                        found
                            .iter()
                            .all(|h| h.chunk_id.0 % 3 == 0 && h.chunk_id.0 != 3)
                    );
                    graph_agree[i] += found.iter().filter(|h| best.contains(&h.chunk_id)).count();
                }
            }
        }
        for agree in graph_agree {
            let recall = agree as f64 / (2 * 10 * queries.len()) as f64;
            assert!(recall >= 0.95, "recall@10 within the set {recall}");
        }
        assert!(
            mapped
                .search_within(
                    &queries[0],
                    10,
                    &ChunkFilter::only(ChunkSet::default()),
                    usize::MAX
                )
                .is_empty()
        );
    }

    #[test]
    fn a_graph_built_batch_by_batch_on_its_thread_is_as_good_as_one_built_at_once() {
        let v: Vec<(ChunkId, Vec<f32>)> = crate::index::test_vectors::unit_vectors(7, 1500, 16)
            .into_iter()
            .enumerate()
            .map(|(i, v)| (ChunkId(i as u64), v))
            .collect();
        let builder = GraphBuilder::start(VectorIndex::empty(16), Path::new("vectors"), 0).unwrap();
        // One document's chunks at a time, as the indexer adds them.
        for doc in v.chunks(3) {
            builder.insert(doc.to_vec());
        }
        let built = builder.finish().unwrap();
        assert!(built.insert_seconds > 0.0);
        assert_eq!(built.inserted, 1500);
        let streamed = built.index.unwrap();
        assert_eq!(streamed.len(), 1500);
        let at_once = VectorIndex::build(16, &v);
        let queries = crate::index::test_vectors::unit_vectors(99, 100, 16);
        let (r_streamed, r_once) = (
            recall_at_10(&streamed, &v, &queries),
            recall_at_10(&at_once, &v, &queries),
        );
        assert!(r_streamed >= 0.95, "recall@10 {r_streamed}");
        assert!(r_streamed + 0.02 >= r_once, "{r_streamed} against {r_once}");
        // Every vector finds itself first.
        assert!(
            v.iter()
                .step_by(10)
                .all(|(id, q)| streamed.search(q, 1)[0].chunk_id == *id)
        );
    }

    #[test]
    fn a_builder_dropped_unfinished_stops_and_an_existing_graph_takes_its_inserts() {
        let dir = tempfile::tempdir().unwrap();
        let first = vectors(0, 100);
        VectorIndex::build(8, &first).dump(dir.path()).unwrap();
        let builder =
            GraphBuilder::start(VectorIndex::open(dir.path(), 8).unwrap(), dir.path(), 0).unwrap();
        builder.insert(vectors(100, 20_000));
        // Dropping returns once the insertion in progress ends (a few thousand vectors at
        // most), not after all 20,000.
        drop(builder);
        let builder =
            GraphBuilder::start(VectorIndex::open(dir.path(), 8).unwrap(), dir.path(), 0).unwrap();
        let second = vectors(100, 50);
        builder.insert(second.clone());
        builder.insert(Vec::new());
        let idx = builder.finish().unwrap().index.unwrap();
        assert_eq!(idx.graph_len(), 150);
        assert_eq!(idx.search(&second[7].1, 1)[0].chunk_id, ChunkId(107));
        assert_eq!(idx.search(&first[7].1, 1)[0].chunk_id, ChunkId(7));
    }

    #[test]
    fn a_builder_loading_on_demand_loads_only_when_vectors_come() {
        let dir = tempfile::tempdir().unwrap();
        let first = vectors(0, 100);
        VectorIndex::build(8, &first).dump(dir.path()).unwrap();
        let idle = GraphBuilder::start_from(dir.path(), 8, false, dir.path(), 0).unwrap();
        let built = idle.finish().unwrap();
        assert!(built.index.is_none());
        assert_eq!((built.inserted, built.load_seconds), (0, 0.0));

        let busy = GraphBuilder::start_from(dir.path(), 8, false, dir.path(), 0).unwrap();
        let second = vectors(100, 30);
        busy.insert(second.clone());
        let built = busy.finish().unwrap();
        assert!(built.load_seconds > 0.0);
        assert_eq!(built.inserted, 30);
        let idx = built.index.unwrap();
        assert_eq!(idx.graph_len(), 130);
        assert_eq!(idx.search(&second[3].1, 1)[0].chunk_id, ChunkId(103));

        let eager = GraphBuilder::start_from(dir.path(), 8, true, dir.path(), 0).unwrap();
        let built = eager.finish().unwrap();
        assert_eq!(built.inserted, 0);
        assert_eq!(built.index.unwrap().graph_len(), 100);
    }

    #[test]
    fn a_graph_that_cannot_load_is_reported_by_the_builder_that_loads_it() {
        let dir = tempfile::tempdir().unwrap();
        VectorIndex::build(8, &vectors(0, 50))
            .dump(dir.path())
            .unwrap();
        std::fs::write(dir.path().join("graph.hnsw.graph"), b"not a graph").unwrap();
        let builder = GraphBuilder::start_from(dir.path(), 8, true, dir.path(), 0).unwrap();
        builder.insert(vectors(50, 5));
        let Err(e) = builder.finish() else {
            panic!("a damaged graph loaded");
        };
        assert!(e.to_string().contains("cannot load the graph"), "{e}");
    }

    #[test]
    fn every_point_of_graphs_built_on_many_threads_is_found_by_its_own_vector() {
        // hnsw_rs alone left one point of 320 that no search finds in 4 of 300 such builds;
        // the search file links such points (flat::connect_unreachable).
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<(ChunkId, Vec<f32>)> = crate::index::test_vectors::unit_vectors(7, 320, 16)
            .into_iter()
            .enumerate()
            .map(|(i, v)| (ChunkId(i as u64), v))
            .collect();
        for build in 0..150 {
            let idx = VectorIndex::build(16, &data);
            idx.write_flat(dir.path()).unwrap();
            let flat = FlatGraph::open(&flat::path_in(dir.path()), 16)
                .unwrap()
                .unwrap();
            assert_eq!(flat.unreached(), 0, "build {build}");
            for (id, v) in &data {
                let hits = flat.search(v, 1, MIN_EF_SEARCH, |_| true);
                assert_eq!(hits[0].0, id.0, "build {build}");
            }
        }
    }

    #[test]
    fn an_empty_index_searches_to_nothing() {
        let dir = tempfile::tempdir().unwrap();
        VectorIndex::empty(4).dump(dir.path()).unwrap();
        let idx = VectorIndex::open(dir.path(), 4).unwrap();
        assert!(idx.is_empty());
        assert!(idx.search(&[1.0, 0.0, 0.0, 0.0], 3).is_empty());
        let idx = VectorIndex::open_for_search(dir.path(), 4, 0).unwrap();
        assert!(idx.search(&[1.0, 0.0, 0.0, 0.0], 3).is_empty());
    }
}
