//! The one write transaction of an index: everything that changes an index goes through it
//! (`lexsearch index` and `watch`, `verify --repair`, `compact`, `bench --grow-from`).
//!
//! [`Library::begin`](super::Library::begin) takes the writer's lock and recovers;
//! [`Transaction::stage`] starts the next generation in `staging/` (from the current one: its
//! catalog copied, its keyword index's files linked, its graph loading on the builder's
//! thread; or empty);
//! [`add_document`](Transaction::add_document),
//! [`remove_document`](Transaction::remove_document) and [`touch`](Transaction::touch) change
//! it; [`commit`](Transaction::commit) commits the keyword index, updates or rebuilds the
//! graph, dumps it (or links the current graph's files when no vector was added), writes the
//! manifest last and publishes the generation. A transaction
//! dropped uncommitted leaves `staging/` behind, which the next one keeps as `resume/` for
//! its vectors.
//!
//! The graph grows while documents are added: a [`GraphBuilder`] thread inserts each
//! document's vectors into the staged graph (the current one loaded, or a new one) as they
//! arrive, so a commit waits only for the last few insertions. It lives in memory until the
//! dump at commit; the vectors themselves are in the staged catalog from the moment their
//! document is added, which is what an interrupted run leaves for the next one.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::warm::{GraphKey, WarmGraph};
use super::{
    GenerationPaths, IndexSettings, Library, ReadCatalog, STAGING_MODEL, WriterLock, copy_tree,
    link_tree,
};
use crate::ids::{ChunkId, DocId};
use crate::index::keyword::{KeywordIndex, KeywordWriter, Place, StoredChunk};
use crate::index::remote::{RemoteIndex, RemoteRow};
use crate::index::segment::SEGMENT_LIMIT;
use crate::index::vector::{GraphBuilder, VectorIndex};
use crate::store::{
    Catalog, ChunkRecord, DocRecord, EmbeddedHashes, FORMAT_VERSION, HashKey, Manifest,
    UnreadableFile, read_documents, write_documents,
};
use crate::{Error, Result};

/// How [`Transaction::stage`] starts the next generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staging {
    /// A copy of the current generation, to be changed document by document.
    Copy,
    /// Empty: every document is added again (a rebuild, or a new index).
    Fresh,
    /// The current catalog, with the keyword index and the graph rebuilt from it (repair,
    /// compaction).
    Rederive,
}

/// Where a transaction's time went: the graph builder's work while documents were added,
/// and each part of the commit, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CommitTimings {
    /// Starting the next generation, before any document was added: copying the catalog and
    /// linking the keyword index's files (or, for a repair, rebuilding the keyword index).
    pub staging: f64,
    /// Inserting vectors into the graph, on the builder's thread while documents were added
    /// (so it overlaps the encoder) and at commit.
    pub graph_insert: f64,
    /// Loading the current graph to add vectors to it, on the builder's thread while the
    /// catalog was copied and documents were added (0 when no vector was added: its files
    /// were linked into the next generation).
    pub graph_load: f64,
    /// Committing the keyword index.
    pub keyword: f64,
    /// Waiting for the graph builder to insert the last vectors, plus any rebuild or
    /// compaction of the graph from the catalog.
    pub graph: f64,
    /// Dumping the graph and writing its flat search file.
    pub dump: f64,
    /// Flushing the catalog (or committing the remote index), writing the manifest and
    /// publishing the generation.
    pub publish: f64,
}

/// What a committed transaction left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Committed {
    /// The generation now current.
    pub generation: u64,
    /// Documents in the index.
    pub documents: usize,
    /// Chunks in the index.
    pub chunks: usize,
    /// Removed vectors still in the graph.
    pub tombstones: usize,
    /// Vectors added since the graph was written, in the segment beside it.
    pub segment: usize,
    /// Whether the graph was rebuilt from the catalog.
    pub graph_rebuilt: bool,
    /// Where the time went.
    pub timings: CommitTimings,
}

/// Chunks sent to a remote index per request (`LEXSEARCH_REMOTE_BATCH` overrides it, for
/// tests that interrupt a run between batches).
/// 128 chunks of all-MiniLM-L6-v2 make about 330 kB, well under gRPC's usual 4 MB message limit
/// (milvus-lite closed the stream on 509).
const REMOTE_BATCH: usize = 128;

fn remote_batch() -> usize {
    std::env::var("LEXSEARCH_REMOTE_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(REMOTE_BATCH)
}

/// What a transaction with a remote index sends it.
struct RemoteStaged {
    index: Arc<dyn RemoteIndex>,
    /// Chunks added and not sent yet (sent in batches of [`REMOTE_BATCH`] chunks).
    batch: Vec<RemoteRow>,
    /// Chunks of removed documents, deleted from the remote index at commit (after every
    /// addition is acknowledged).
    removed: Vec<ChunkId>,
}

impl RemoteStaged {
    fn send(&mut self) -> Result<()> {
        for batch in self.batch.chunks(remote_batch()) {
            self.index.upsert(batch)?;
        }
        self.batch.clear();
        Ok(())
    }
}

/// A catalog whose vectors a run may reuse.
pub struct ReuseSource {
    /// Where its vectors were computed: the current generation's catalog, or `resume/`'s.
    pub origin: PathBuf,
    /// The catalog, open for reading: the staged copy of the current generation's (its
    /// removed documents' vectors stay there until commit), a private copy of it, or
    /// `resume/`'s.
    pub catalog: ReadCatalog,
    /// Its chunks by embedded-text hash ([`EmbeddedHashes`]), when the generation has the
    /// file (else they are read from every chunk record).
    pub hashes: Option<PathBuf>,
}

/// The next generation while it is written.
struct Staged {
    paths: GenerationPaths,
    catalog: Catalog,
    /// The local keyword index (none when a remote index holds the chunks).
    keyword: Option<KeywordWriter>,
    /// Inserts added vectors into the local graph as they come (none when a remote index
    /// holds the vectors, or when the graph is rebuilt from the catalog at commit).
    graph: Option<GraphBuilder>,
    /// Chunks of removed documents: tombstones in the graph at commit.
    removed: Vec<ChunkId>,
    /// The embedded-text hashes of the chunks added, and the chunks removed: what the next
    /// generation's file of them changes from the current one's.
    hashes_added: Vec<(HashKey, ChunkId)>,
    hashes_removed: HashSet<ChunkId>,
    remote: Option<RemoteStaged>,
    next_doc: u64,
    next_chunk: u64,
    /// Build the graph anew (from the added vectors as they come when `fresh`, else from
    /// the catalog at commit).
    rebuild_graph: bool,
    fresh: bool,
}

/// The one writer of an index; see the module documentation.
pub struct Transaction {
    library: Library,
    _lock: WriterLock,
    /// The current generation and its manifest, when there is one to build on.
    base: Option<(GenerationPaths, Manifest)>,
    settings: IndexSettings,
    rebuild: bool,
    root: Option<PathBuf>,
    /// OCR language(s) to record (`None`: keep the base's).
    ocr_lang: Option<String>,
    /// Whether links out of the folder are followed, to record (`None`: keep the base's).
    follow_links: Option<bool>,
    /// Indexing threads of the keyword index's writer.
    keyword_threads: usize,
    /// Build the graph at commit one vector at a time, in document order, so that the same
    /// documents always give the same graph ([`set_exact_graph`](Self::set_exact_graph)).
    exact_graph: bool,
    staged: Option<Staged>,
    /// The remote index that holds the search arms instead of the local ones, if any.
    remote: Option<Arc<dyn RemoteIndex>>,
    /// The lowest generation number the next commit may take (above the remote index's).
    generation_floor: u64,
    /// The files the staged generation records as unreadable, by path (the base's, as
    /// staging starts from a copy).
    unreadable: BTreeMap<PathBuf, UnreadableFile>,
    /// Seconds [`stage`](Self::stage) took.
    staging_seconds: f64,
    /// Whether the run is expected to add vectors: the current graph is then loaded as soon
    /// as staging starts, beside the rest of the run, else only when a vector comes.
    expect_vectors: bool,
    /// Dump the graph anew even when no vector was added (a repair of its files).
    rewrite_graph: bool,
    /// Most vectors the segment beside an unchanged graph may hold
    /// ([`set_segment_limit`](Self::set_segment_limit)).
    segment_limit: usize,
    /// Write the next generation's embedded-text hashes from its catalog (a repair).
    rewrite_hashes: bool,
    /// Where the graph of the generation this transaction publishes is kept in memory, and
    /// whence the current generation's comes when it was kept there.
    warm: Option<WarmGraph>,
}

/// The keyword index's copy of a chunk, from its catalog records: the one place a chunk
/// record becomes a keyword document.
pub(crate) fn stored_chunk(
    doc_id: DocId,
    doc: &DocRecord,
    chunk_id: ChunkId,
    rec: &ChunkRecord,
) -> StoredChunk {
    StoredChunk {
        chunk_id,
        doc_id,
        path: doc.rel.to_string_lossy().into_owned(),
        title: doc.title.clone(),
        breadcrumb: rec.breadcrumb.clone(),
        text: rec.text.clone(),
        range: rec.start..rec.end,
        line: rec.line,
        place: Place {
            page: rec.page,
            page_end: rec.page_end,
            paragraph: rec.paragraph,
        },
        mail: doc.mail.as_deref().cloned(),
        page_breaks: rec.page_breaks.clone(),
    }
}

/// Adds every chunk of `catalog` to `keyword` (uncommitted).
fn add_catalog_chunks(catalog: &Catalog, keyword: &mut KeywordWriter) -> Result<()> {
    for (doc_id, doc) in catalog.documents()? {
        for c in &doc.chunks {
            if let Some(rec) = catalog.chunk(*c)? {
                keyword.add(&stored_chunk(doc_id, &doc, *c, &rec))?;
            }
        }
    }
    Ok(())
}

/// The parts of the current generation a [`Staging::Copy`] changes in place: the catalog
/// (sled writes its files in place: copied) and the keyword index (tantivy never writes a
/// file it has written before: linked, see [`link_tree`]). The graph is not copied: it is
/// loaded from the current generation and dumped whole into the next one at commit, or,
/// when the run adds no vector, linked as it is
/// ([`VectorIndex::dump_as_linked`]).
fn copy_generation(from: &GenerationPaths, to: &GenerationPaths) -> Result<()> {
    copy_tree(&from.catalog(), &to.catalog())?;
    link_tree(&from.keyword(), &to.keyword())
}

impl Transaction {
    pub(super) fn new(
        library: Library,
        lock: WriterLock,
        base: Option<(GenerationPaths, Manifest)>,
        settings: IndexSettings,
        rebuild: bool,
    ) -> Self {
        Transaction {
            library,
            _lock: lock,
            base,
            settings,
            rebuild,
            root: None,
            ocr_lang: None,
            follow_links: None,
            keyword_threads: 1,
            exact_graph: false,
            staged: None,
            remote: None,
            generation_floor: 0,
            unreadable: BTreeMap::new(),
            staging_seconds: 0.0,
            expect_vectors: true,
            rewrite_graph: false,
            segment_limit: SEGMENT_LIMIT,
            rewrite_hashes: false,
            warm: None,
        }
    }

    /// Keeps the graph this transaction publishes in `warm` (in memory, for this process),
    /// and starts from the one `warm` holds when it is the current generation's: a writer
    /// that commits one update after another (`lexsearch watch`) then never loads the
    /// graph it just wrote. Any other graph `warm` holds is dropped when staging starts.
    pub fn keep_graph_in(&mut self, warm: WarmGraph) {
        self.warm = Some(warm);
    }

    /// The current generation's graph from [`keep_graph_in`](Self::keep_graph_in)'s slot,
    /// when it holds that one; the slot is emptied either way.
    fn take_warm_graph(&self) -> Option<VectorIndex> {
        let warm = self.warm.as_ref()?;
        let key = self
            .base
            .as_ref()
            .and_then(|(paths, m)| GraphKey::of(&paths.vectors(), m));
        warm.take(key.as_ref())
    }

    /// Says whether the run will most likely add vectors (new or resized files to read; the
    /// default is yes). With no, the current graph is loaded only if a vector comes after all; a run
    /// that adds none (files removed or touched) links the current graph's files into the
    /// next generation instead of loading and dumping it. Either way the outcome is the same.
    /// With a segment ([`set_segment_limit`](Self::set_segment_limit) above 0, the default)
    /// the graph is loaded only once the segment would pass its limit, whatever this says.
    pub fn set_expect_vectors(&mut self, expect: bool) {
        self.expect_vectors = expect;
    }

    /// Sets the most vectors an update keeps in the segment beside the current graph instead
    /// of inserting them into it and writing the graph anew ([`SEGMENT_LIMIT`] by default;
    /// 0 always writes the graph anew). Searches find the same chunks either way (the
    /// segment is searched exactly); a run that would pass the limit inserts the segment and
    /// its own vectors into the graph.
    pub fn set_segment_limit(&mut self, limit: usize) {
        self.segment_limit = limit;
    }

    /// Dumps the graph anew at commit even when no vector was added: a repair of its files
    /// (a stale flat search file, earlier dumps, points no search reaches).
    pub fn rewrite_graph(&mut self) {
        self.rewrite_graph = true;
    }

    /// Writes the next generation's file of embedded-text hashes from its catalog's chunk
    /// records rather than from the current one's: a repair of that file (a generation of an
    /// earlier version, which has none, gets it so anyway).
    pub fn rewrite_hashes(&mut self) {
        self.rewrite_hashes = true;
    }

    /// Sends the search arms to `remote` instead of the local keyword index and graph; the
    /// catalog stays local. Generations are numbered from `generation_floor` up.
    pub(super) fn with_remote(
        mut self,
        remote: Arc<dyn RemoteIndex>,
        generation_floor: u64,
    ) -> Self {
        self.remote = Some(remote);
        self.generation_floor = generation_floor;
        self
    }

    /// The settings this transaction writes (the index's own unless a rebuild changes them).
    pub fn settings(&self) -> &IndexSettings {
        &self.settings
    }

    /// The indexed folder the manifest records (by default the current one's).
    pub fn set_root(&mut self, root: &Path) {
        self.root = Some(root.to_path_buf());
    }

    /// The folder the next manifest records, and where it lies seen from the index folder
    /// when the index lies inside it (never for a remote index, whose manifest other
    /// machines read).
    fn recorded_root(&self) -> (PathBuf, Option<PathBuf>) {
        let root = match (&self.root, &self.base) {
            (Some(r), _) => r.clone(),
            (None, Some((_, m))) => m.root.clone(),
            (None, None) => PathBuf::new(),
        };
        let seen = match self.remote {
            Some(_) => None,
            None => Manifest::root_seen_from(self.library.dir(), &root),
        };
        (root, seen)
    }

    /// Whether the next manifest would name the indexed folder otherwise than the current
    /// one does (the folder moved and its index stayed, another folder is indexed into this
    /// index, or an index written before `root_from_index` existed lies inside its folder):
    /// then a run that changes nothing else still publishes a generation.
    pub fn root_changed(&self) -> bool {
        let Some((_, m)) = &self.base else {
            return false;
        };
        let (root, seen) = self.recorded_root();
        root != m.root || seen != m.root_from_index
    }

    /// Whether the current generation's keyword index was made by an earlier version of
    /// lexsearch and lacks fields this one writes (e-mail headers and days, sentences and
    /// paragraphs): then a run
    /// that changes nothing else still publishes a generation, whose keyword index
    /// [`stage`](Self::stage) rebuilds from the catalog. False for a remote index.
    pub fn keyword_outdated(&self) -> bool {
        match (&self.base, &self.remote) {
            (Some((paths, _)), None) => {
                KeywordIndex::open(&paths.keyword()).is_ok_and(|k| k.is_outdated())
            }
            _ => false,
        }
    }

    /// Whether the current generation lacks its file of documents (made by an earlier
    /// version): a run that changes nothing else still publishes a generation, so that later
    /// runs read the documents from the file rather than from a copy of the catalog. False
    /// for a remote index.
    pub fn documents_missing(&self) -> bool {
        match (&self.base, &self.remote) {
            (Some((paths, _)), None) => !paths.documents().is_file(),
            _ => false,
        }
    }

    /// Indexing threads for the keyword index, from the next [`stage`](Self::stage) on (1 by
    /// default: an encoder on the CPU needs the cores; a rebuild from the catalog uses all).
    pub fn set_keyword_threads(&mut self, threads: usize) {
        self.keyword_threads = threads.max(1);
    }

    /// Builds the vector graph at commit from the catalog, one vector at a time in document
    /// order (by path, then chunk), instead of in parallel as vectors arrive: the same
    /// documents then always give the same graph, so evaluations repeat exactly. Slower (one
    /// core), for `lexsearch eval`.
    pub fn set_exact_graph(&mut self, on: bool) {
        self.exact_graph = on;
    }

    /// Records the OCR language(s) the run reads scanned pages in (kept by later runs).
    pub fn set_ocr_lang(&mut self, lang: &str) {
        self.ocr_lang = Some(lang.to_string());
    }

    /// Records whether the run follows symbolic links out of the folder (kept by later runs).
    pub fn set_follow_links(&mut self, follow: bool) {
        self.follow_links = Some(follow);
    }

    /// The current generation's manifest, if there is an index to build on.
    pub fn base_manifest(&self) -> Option<&Manifest> {
        self.base.as_ref().map(|(_, m)| m)
    }

    /// The current generation's files, if there is one.
    pub fn base_paths(&self) -> Option<&GenerationPaths> {
        self.base.as_ref().map(|(p, _)| p)
    }

    /// Whether this transaction changes the current index document by document (rather than
    /// building a new one from nothing).
    pub fn incremental(&self) -> bool {
        self.base.is_some() && !self.rebuild
    }

    /// The current generation's documents (empty without a base): from the generation's
    /// file of them, else (a generation of an earlier version, or the file damaged) from a
    /// private copy of the catalog. A published catalog is never opened in place
    /// ([`ReadCatalog`]).
    pub fn base_documents(&self) -> Result<Vec<(DocId, DocRecord)>> {
        match &self.base {
            Some((paths, _)) => match read_documents(&paths.documents()) {
                Ok(Some(documents)) => Ok(documents),
                Ok(None) | Err(_) => self.library.read_catalog(paths)?.documents(),
            },
            None => Ok(Vec::new()),
        }
    }

    /// Catalogs whose vectors may be reused for chunks whose embedded text they already
    /// hold: the current generation's (with its file of embedded-text hashes) and an
    /// interrupted run's, each only when it was embedded by this transaction's model.
    ///
    /// The current generation's is read from the staged copy of it when there is one, else
    /// from a private copy; a catalog that does not open (damaged by a crash) or cannot be
    /// copied is simply not used.
    pub fn reuse_sources(&self) -> Vec<ReuseSource> {
        let fingerprint = &self.settings.model.fingerprint;
        let mut out = Vec::new();
        if let Some((paths, m)) = &self.base
            && &m.model.fingerprint == fingerprint
        {
            let catalog = match &self.staged {
                Some(s) if !s.fresh => Some(ReadCatalog::owned(s.catalog.clone())),
                _ => self.library.read_catalog(paths).ok(),
            };
            if let Some(catalog) = catalog {
                out.push(ReuseSource {
                    origin: paths.catalog(),
                    catalog,
                    hashes: Some(paths.embedded_hashes()),
                });
            }
        }
        let resume = self.library.resume();
        let marker = std::fs::read_to_string(resume.dir().join(STAGING_MODEL)).unwrap_or_default();
        if marker.trim() == fingerprint
            && resume.catalog().is_dir()
            // Only this writer uses `resume/`: opened where it lies.
            && let Ok(catalog) = Catalog::open(&resume.catalog())
        {
            out.push(ReuseSource {
                origin: resume.catalog(),
                catalog: ReadCatalog::owned(catalog),
                hashes: None,
            });
        }
        out
    }

    /// Starts the next generation in `staging/`. [`Staging::Copy`] and
    /// [`Staging::Rederive`] need a current generation; without one, the generation starts
    /// empty. Called again, it does nothing.
    pub fn stage(&mut self, how: Staging, stage: &dyn Fn(&str)) -> Result<()> {
        if self.staged.is_some() {
            return Ok(());
        }
        let started = Instant::now();
        let staged = self.stage_next(how, stage);
        self.staging_seconds = started.elapsed().as_secs_f64();
        staged
    }

    fn stage_next(&mut self, how: Staging, stage: &dyn Fn(&str)) -> Result<()> {
        let how = if self.base.is_none() {
            Staging::Fresh
        } else {
            how
        };
        self.unreadable = match (how, &self.base) {
            (Staging::Copy | Staging::Rederive, Some((_, m))) => m
                .unreadable
                .iter()
                .map(|u| (u.file.clone(), u.clone()))
                .collect(),
            _ => BTreeMap::new(),
        };
        let paths = self.library.staging();
        let threads = self.keyword_threads;
        let not_writable = |e: std::io::Error| Error::IndexNotWritable {
            path: self.library.dir().to_path_buf(),
            reason: e.to_string(),
        };
        super::remove_dir_if_exists(paths.dir())?;
        std::fs::create_dir_all(paths.dir()).map_err(not_writable)?;
        std::fs::write(
            paths.dir().join(STAGING_MODEL),
            &self.settings.model.fingerprint,
        )
        .map_err(not_writable)?;
        std::fs::write(paths.readers_lock(), b"").map_err(not_writable)?;
        let base = self.base.as_ref();
        let (next_doc, next_chunk) = match (how, base) {
            (Staging::Fresh, _) | (_, None) => (0, 0),
            (_, Some((_, m))) => (m.next_doc_id, m.next_chunk_id),
        };
        let dim = self.settings.model.dim;
        if let Some(index) = &self.remote {
            // The catalog only; a remote index holds the arms. What an interrupted run sent
            // beyond the base catalog's chunk ids goes first.
            if how != Staging::Fresh
                && let Some((from, _)) = base
            {
                stage("copying the catalog");
                copy_tree(&from.catalog(), &paths.catalog()).map_err(|e| match e {
                    Error::Io { source, .. } => not_writable(source),
                    other => other,
                })?;
            }
            stage(&format!("preparing {}", index.name()));
            index.delete_from(ChunkId(next_chunk))?;
            self.staged = Some(Staged {
                catalog: Catalog::open(&paths.catalog())?,
                keyword: None,
                graph: None,
                removed: Vec::new(),
                hashes_added: Vec::new(),
                hashes_removed: HashSet::new(),
                remote: Some(RemoteStaged {
                    index: index.clone(),
                    batch: Vec::new(),
                    removed: Vec::new(),
                }),
                rebuild_graph: false,
                fresh: how == Staging::Fresh,
                next_doc,
                next_chunk,
                paths,
            });
            return Ok(());
        }
        let warm = match how {
            Staging::Copy if !self.exact_graph => self.take_warm_graph(),
            _ => {
                // A graph kept from before is of no use to a new or rebuilt one.
                if let Some(w) = &self.warm {
                    w.clear();
                }
                None
            }
        };
        let staged = match (how, base) {
            (Staging::Copy, Some((from, _))) => {
                // An exact graph is built at commit, from the catalog; else the current
                // graph, when this process kept it, or else loaded on the builder's thread
                // while the catalog is copied.
                // Added vectors wait in the segment while it has room, unless the graph is
                // written anew anyway.
                let limit = if self.rewrite_graph {
                    0
                } else {
                    self.segment_limit
                };
                let graph = match (self.exact_graph, warm) {
                    (true, _) => None,
                    (false, Some(index)) => {
                        Some(GraphBuilder::start(index, &paths.vectors(), limit)?)
                    }
                    (false, None) => Some(GraphBuilder::start_from(
                        &from.vectors(),
                        dim,
                        self.rewrite_graph || (self.expect_vectors && limit == 0),
                        &paths.vectors(),
                        limit,
                    )?),
                };
                stage("copying the index");
                copy_generation(from, &paths).map_err(|e| match e {
                    Error::Io { source, .. } => not_writable(source),
                    other => other,
                })?;
                let catalog = Catalog::open(&paths.catalog())?;
                let mut keyword = KeywordIndex::open(&paths.keyword())?;
                if keyword.is_outdated() {
                    // Made by an earlier version: rebuilt with this version's fields.
                    stage("rebuilding the keyword index of an earlier version from the catalog");
                    drop(keyword);
                    std::fs::remove_dir_all(paths.keyword()).map_err(not_writable)?;
                    std::fs::create_dir_all(paths.keyword()).map_err(not_writable)?;
                    keyword = KeywordIndex::create(&paths.keyword())?;
                    let cores = std::thread::available_parallelism().map_or(1, usize::from);
                    let mut all = keyword.writer(cores.max(threads))?;
                    add_catalog_chunks(&catalog, &mut all)?;
                    all.commit()?;
                }
                Staged {
                    catalog,
                    keyword: Some(keyword.writer(threads)?),
                    graph,
                    removed: Vec::new(),
                    hashes_added: Vec::new(),
                    hashes_removed: HashSet::new(),
                    remote: None,
                    rebuild_graph: false,
                    fresh: false,
                    next_doc,
                    next_chunk,
                    paths,
                }
            }
            (Staging::Rederive, Some((from, _))) => {
                stage("rebuilding the keyword index from the catalog");
                copy_tree(&from.catalog(), &paths.catalog())?;
                std::fs::create_dir_all(paths.keyword()).map_err(not_writable)?;
                let catalog = Catalog::open(&paths.catalog())?;
                // Nothing else runs meanwhile: every core indexes.
                let cores = std::thread::available_parallelism().map_or(1, usize::from);
                let mut keyword =
                    KeywordIndex::create(&paths.keyword())?.writer(cores.max(threads))?;
                add_catalog_chunks(&catalog, &mut keyword)?;
                Staged {
                    catalog,
                    keyword: Some(keyword),
                    // Rebuilt from the catalog at commit, added documents included.
                    graph: None,
                    removed: Vec::new(),
                    hashes_added: Vec::new(),
                    hashes_removed: HashSet::new(),
                    remote: None,
                    rebuild_graph: true,
                    fresh: false,
                    next_doc,
                    next_chunk,
                    paths,
                }
            }
            _ => {
                std::fs::create_dir_all(paths.keyword()).map_err(not_writable)?;
                Staged {
                    catalog: Catalog::open(&paths.catalog())?,
                    keyword: Some(KeywordIndex::create(&paths.keyword())?.writer(threads)?),
                    graph: if self.exact_graph {
                        None
                    } else {
                        Some(GraphBuilder::start(
                            VectorIndex::empty(dim),
                            &paths.vectors(),
                            0,
                        )?)
                    },
                    removed: Vec::new(),
                    hashes_added: Vec::new(),
                    hashes_removed: HashSet::new(),
                    remote: None,
                    rebuild_graph: true,
                    fresh: true,
                    next_doc,
                    next_chunk,
                    paths,
                }
            }
        };
        self.staged = Some(staged);
        Ok(())
    }

    fn staged(&mut self) -> Result<&mut Staged> {
        if self.staged.is_none() {
            let how = if self.incremental() {
                Staging::Copy
            } else {
                Staging::Fresh
            };
            self.stage(how, &|_| {})?;
        }
        self.staged.as_mut().ok_or(Error::Cancelled)
    }

    /// The vector this transaction stored for chunk `ordinal` of document `doc` (one it
    /// added), or `None`: what a chunk of the same embedded text later in the run reuses.
    pub fn added_vector(&mut self, doc: DocId, ordinal: usize) -> Result<Option<Vec<f32>>> {
        let s = self.staged()?;
        match s
            .catalog
            .document(doc)?
            .and_then(|d| d.chunks.get(ordinal).copied())
        {
            Some(id) => s.catalog.vector(id),
            None => Ok(None),
        }
    }

    /// Adds a document with its chunks and their vectors, handing out their ids: chunks to
    /// the keyword index and the catalog, the document record last (a document is in the
    /// catalog only with all its chunks). `doc.chunks`, and each chunk's `doc` and
    /// `ordinal`, are set here.
    pub fn add_document(
        &mut self,
        mut doc: DocRecord,
        chunks: Vec<(ChunkRecord, Vec<f32>)>,
    ) -> Result<DocId> {
        let s = self.staged()?;
        let doc_id = DocId(s.next_doc);
        s.next_doc += 1;
        doc.chunks = (0..chunks.len() as u64)
            .map(|i| ChunkId(s.next_chunk + i))
            .collect();
        s.next_chunk += chunks.len() as u64;
        let mut records = Vec::with_capacity(chunks.len());
        for (ordinal, ((mut rec, vector), id)) in chunks.into_iter().zip(&doc.chunks).enumerate() {
            rec.doc = doc_id;
            rec.ordinal = ordinal as u32;
            if let Some(keyword) = &mut s.keyword {
                keyword.add(&stored_chunk(doc_id, &doc, *id, &rec))?;
            }
            records.push((*id, rec, vector));
        }
        let with_vectors: Vec<(ChunkId, ChunkRecord, &[f32])> = records
            .iter()
            .map(|(id, rec, v)| (*id, rec.clone(), v.as_slice()))
            .collect();
        s.catalog.put_document(doc_id, &doc, &with_vectors)?;
        s.hashes_added.extend(
            records
                .iter()
                .map(|(id, rec, _)| (HashKey::of(&rec.embedded_hash), *id)),
        );
        if let Some(remote) = &mut s.remote {
            for (id, rec, vector) in records {
                remote.batch.push(RemoteRow {
                    chunk: stored_chunk(doc_id, &doc, id, &rec),
                    vector,
                });
            }
            if remote.batch.len() >= remote_batch() {
                remote.send()?;
            }
        } else if let Some(graph) = &s.graph {
            graph.insert(records.into_iter().map(|(id, _, v)| (id, v)).collect());
        }
        Ok(doc_id)
    }

    /// Removes a document from the catalog, the keyword index and (as tombstones) the graph.
    pub fn remove_document(&mut self, id: DocId) -> Result<()> {
        let s = self.staged()?;
        // Its vectors stay until commit: a chunk of the same text added later in the run
        // reuses them (`reuse_sources`).
        let chunks = s.catalog.delete_document(id)?;
        s.hashes_removed.extend(chunks.iter().copied());
        if let Some(remote) = &mut s.remote {
            remote.removed.extend(chunks);
        } else {
            if let Some(keyword) = &mut s.keyword {
                keyword.delete_doc(id);
            }
            s.removed.extend(chunks);
        }
        Ok(())
    }

    /// Records a file the run could not read (or that held no text), replacing what was
    /// recorded for it; a later run does not read it again while it is unchanged.
    pub fn set_unreadable(&mut self, file: UnreadableFile) -> Result<()> {
        self.staged()?;
        self.unreadable.insert(file.file.clone(), file);
        Ok(())
    }

    /// Forgets what was recorded about a file that could not be read (it is read again, or
    /// gone).
    pub fn forget_unreadable(&mut self, file: &Path) -> Result<()> {
        self.staged()?;
        self.unreadable.remove(file);
        Ok(())
    }

    /// Replaces a document's record whose content is unchanged (a new modification time).
    pub fn touch(&mut self, id: DocId, record: &DocRecord) -> Result<()> {
        self.staged()?.catalog.put_record(id, record)
    }

    /// Makes the changes the current index: commits the keyword index, waits for the graph
    /// builder's last insertions (or rebuilds the graph from the catalog: repair, or
    /// tombstones past the compaction threshold), dumps it, writes the manifest and
    /// publishes the generation.
    /// Without any change staged, an existing index stays as it is.
    pub fn commit(mut self, stage: &dyn Fn(&str)) -> Result<Committed> {
        if self.staged.is_none()
            && let Some((paths, m)) = &self.base
        {
            if let Some(index) = &self.remote {
                // Nothing changed; only what an interrupted run sent goes.
                index.delete_from(ChunkId(m.next_chunk_id))?;
                let _ = std::fs::remove_dir_all(self.library.resume().dir());
                return Ok(Committed {
                    generation: m.generation,
                    documents: m.documents as usize,
                    chunks: m.chunks as usize,
                    tombstones: 0,
                    segment: 0,
                    graph_rebuilt: false,
                    timings: CommitTimings::default(),
                });
            }
            let (tombstones, segment) = VectorIndex::counts_in(&paths.vectors(), m.model.dim)?;
            let _ = std::fs::remove_dir_all(self.library.resume().dir());
            return Ok(Committed {
                generation: m.generation,
                documents: m.documents as usize,
                chunks: m.chunks as usize,
                tombstones,
                segment,
                graph_rebuilt: false,
                timings: CommitTimings::default(),
            });
        }
        self.staged()?;
        let Some(mut s) = self.staged.take() else {
            return Err(Error::Cancelled);
        };
        s.catalog.delete_vectors(&s.hashes_removed)?;
        let mut timings = CommitTimings {
            staging: self.staging_seconds,
            ..CommitTimings::default()
        };
        let mut clock = Instant::now();
        let mut lap = || {
            let seconds = clock.elapsed().as_secs_f64();
            clock = Instant::now();
            seconds
        };
        if let Some(keyword) = &mut s.keyword {
            // The graph builder inserts its last vectors meanwhile.
            stage("committing the keyword index");
            keyword.commit()?;
        }
        timings.keyword = lap();
        let dim = self.settings.model.dim;
        let mut vectors = VectorIndex::empty(dim);
        // No vector added to the current graph: its files serve the next generation.
        let mut unchanged = false;
        // The graph in memory of an unchanged generation (kept or loaded), for `warm`.
        let mut unchanged_graph = None;
        if let Some(remote) = &mut s.remote {
            stage(&format!(
                "sending the last chunks to {}",
                remote.index.name()
            ));
            remote.send()?;
            remote.index.delete(&remote.removed)?;
        } else {
            if let Some(graph) = s.graph.take() {
                stage("finishing the vector graph");
                let built = graph.finish()?;
                timings.graph_insert = built.insert_seconds;
                timings.graph_load = built.load_seconds;
                let reusable = match &self.base {
                    Some((from, m)) if built.inserted == 0 && !self.rewrite_graph => {
                        VectorIndex::open_unchanged(&from.vectors(), dim, m.chunks)?
                    }
                    _ => None,
                };
                vectors = match (reusable, built.index, &self.base) {
                    (Some(mut current), index, _) => {
                        // The graph's files serve as they are; the added vectors join the
                        // segment.
                        current.add_to_segment(&built.added);
                        unchanged = true;
                        unchanged_graph = index;
                        current
                    }
                    (None, index, base) => {
                        let mut index = match (index, base) {
                            (Some(index), _) => index,
                            (None, Some((from, _))) => {
                                // Not reusable as it is: loaded, to be dumped anew.
                                let started = Instant::now();
                                let index = VectorIndex::open(&from.vectors(), dim)?;
                                timings.graph_load += started.elapsed().as_secs_f64();
                                index
                            }
                            (None, None) => VectorIndex::empty(dim),
                        };
                        // Dumped anew: the segment goes into the graph.
                        let started = Instant::now();
                        index.add_to_segment(&built.added);
                        index.absorb_segment();
                        timings.graph_insert += started.elapsed().as_secs_f64();
                        index
                    }
                };
            }
            vectors.remove(std::mem::take(&mut s.removed));
            if self.exact_graph {
                stage("building the vector graph in document order");
                let started = Instant::now();
                vectors =
                    VectorIndex::build_sequential(dim, &vectors_in_document_order(&s.catalog)?);
                timings.graph_insert += started.elapsed().as_secs_f64();
                s.rebuild_graph = true;
            } else if s.rebuild_graph && !s.fresh {
                stage("rebuilding the vector graph");
                let started = Instant::now();
                vectors = VectorIndex::build(dim, &live_vectors(&s.catalog)?);
                timings.graph_insert += started.elapsed().as_secs_f64();
            } else if !s.fresh && vectors.needs_compaction() {
                stage("compacting the vector graph");
                let started = Instant::now();
                vectors = VectorIndex::build(dim, &live_vectors(&s.catalog)?);
                timings.graph_insert += started.elapsed().as_secs_f64();
                s.rebuild_graph = true;
            }
        }
        timings.graph = lap();
        if s.remote.is_none() {
            match &self.base {
                // A compaction or rebuild set `rebuild_graph`: its graph is new.
                Some((from, _)) if unchanged && !s.rebuild_graph => {
                    vectors.dump_as_linked(&from.vectors(), &s.paths.vectors())?;
                }
                _ => {
                    stage("writing the vector graph");
                    vectors.dump(&s.paths.vectors())?;
                }
            }
        }
        timings.dump = lap();
        // The graph the next generation holds, in memory, for the next transaction of this
        // process: the one just dumped, or the unchanged one with this run's tombstones.
        let keep = match (&self.warm, unchanged && !s.rebuild_graph) {
            (None, _) => None,
            (Some(_), false) => vectors.is_writable_graph().then_some(&mut vectors),
            (Some(_), true) => {
                if let Some(g) = unchanged_graph.as_mut() {
                    g.set_changes_from(&vectors);
                }
                unchanged_graph.as_mut()
            }
        }
        .map(|g| std::mem::replace(g, VectorIndex::empty(dim)));
        // The current generation's hashes, changed by this run; a new index has only its own.
        let current = if s.fresh {
            Some(EmbeddedHashes::default())
        } else if self.rewrite_hashes {
            None
        } else {
            self.base
                .as_ref()
                .and_then(|(from, _)| EmbeddedHashes::read(&from.embedded_hashes()).ok())
                .flatten()
        };
        let hashes = match current {
            Some(current) => current.updated(&s.hashes_removed, &s.hashes_added),
            // None for this generation (an earlier version's, or a repair), or damaged.
            None => {
                stage("indexing the embedded-text hashes of the catalog's chunks");
                EmbeddedHashes::from_pairs(s.catalog.chunk_hashes()?)
            }
        };
        hashes.write(&s.paths.embedded_hashes())?;
        write_documents(&s.paths.documents(), &s.catalog.documents()?)?;
        s.catalog.flush()?;
        let (documents, chunks) = s.catalog.counts();
        let generation = self
            .library
            .next_generation(self.base.as_ref().map(|(_, m)| m))
            .max(self.generation_floor);
        let (root, root_from_index) = self.recorded_root();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let manifest = Manifest {
            format_version: FORMAT_VERSION,
            lexsearch_version: env!("CARGO_PKG_VERSION").to_string(),
            root,
            model: self.settings.model.clone(),
            chunker: self.settings.chunker,
            context_in_embedding: self.settings.context_in_embedding,
            documents: documents as u64,
            chunks: chunks as u64,
            next_doc_id: s.next_doc,
            next_chunk_id: s.next_chunk,
            generation,
            updated_unix: now.as_secs(),
            updated_subsec_ns: Some(now.subsec_nanos()),
            ocr_lang: self
                .ocr_lang
                .clone()
                .or_else(|| self.base.as_ref().and_then(|(_, m)| m.ocr_lang.clone())),
            follow_links: self
                .follow_links
                .or_else(|| self.base.as_ref().and_then(|(_, m)| m.follow_links)),
            root_from_index,
            unreadable: std::mem::take(&mut self.unreadable).into_values().collect(),
        };
        let kept_key = GraphKey::with(&s.paths.vectors(), generation, chunks as u64, s.next_chunk);
        let mut committed = Committed {
            generation,
            documents,
            chunks,
            tombstones: keep.as_ref().unwrap_or(&vectors).tombstones(),
            segment: keep.as_ref().unwrap_or(&vectors).segment_len(),
            graph_rebuilt: s.rebuild_graph,
            timings,
        };
        let paths = s.paths.clone();
        if let Some(remote) = &s.remote {
            // Acknowledged by the server before the local catalog says it was sent.
            stage(&format!("committing {}", remote.index.name()));
            let json = serde_json::to_string(&manifest).map_err(|e| Error::CorruptIndex {
                index: self.library.dir().to_path_buf(),
                what: format!("cannot serialise the manifest: {e}"),
            })?;
            remote.index.commit(&json)?;
        }
        // The stores close (sled's flusher stops) before their folder is renamed.
        drop(s);
        std::fs::remove_file(paths.dir().join(STAGING_MODEL))
            .map_err(|e| Error::io("remove", paths.dir().join(STAGING_MODEL), e))?;
        manifest.write(paths.dir())?;
        self.library.publish(generation)?;
        // Published: its graph is the current one. (The key is the flat search file's, the
        // same file after the folder's rename.)
        if let (Some(warm), Some(key), Some(index)) = (&self.warm, kept_key, keep) {
            warm.keep(key, index);
        }
        super::remove_dir_if_exists(self.library.resume().dir())?;
        committed.timings.publish = lap();
        Ok(committed)
    }
}

/// The catalog's vectors of chunks that belong to a document (never an orphan).
fn live_vectors(catalog: &Catalog) -> Result<Vec<(ChunkId, Vec<f32>)>> {
    let live: HashSet<ChunkId> = catalog
        .documents()?
        .into_iter()
        .flat_map(|(_, d)| d.chunks)
        .collect();
    Ok(catalog
        .vectors()?
        .into_iter()
        .filter(|(id, _)| live.contains(id))
        .collect())
}

/// The live vectors of `catalog` in document order: documents by path, each one's chunks in
/// order (chunk ids depend on the order documents finished, which varies between runs).
fn vectors_in_document_order(catalog: &Catalog) -> Result<Vec<(ChunkId, Vec<f32>)>> {
    let mut by_id: std::collections::HashMap<ChunkId, Vec<f32>> =
        catalog.vectors()?.into_iter().collect();
    let mut docs = catalog.documents()?;
    docs.sort_by(|a, b| a.1.rel.cmp(&b.1.rel));
    Ok(docs
        .into_iter()
        .flat_map(|(_, d)| d.chunks)
        .filter_map(|c| by_id.remove(&c).map(|v| (c, v)))
        .collect())
}

/// Small documents and transactions for the tests of the library and of what uses it.
#[cfg(test)]
pub(crate) mod test_support {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::embed::ModelInfo;
    use crate::library::SettingsRequest;

    pub(crate) const DIM: usize = 16;

    pub(crate) fn model() -> ModelInfo {
        ModelInfo::tiny("m1", DIM)
    }

    /// Document `n` with two chunks whose vectors come from `seed`.
    pub(crate) fn document(n: usize, seed: u64) -> (DocRecord, Vec<(ChunkRecord, Vec<f32>)>) {
        let rel = format!("doc-{n}.txt");
        let doc = DocRecord {
            content_hash: format!("{rel}-{seed}"),
            ..DocRecord::test_text(&rel)
        };
        let chunks = crate::index::test_vectors::unit_vectors(seed, 2, DIM)
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let rec = ChunkRecord::test_first(
                    format!("chunk {i} of {rel}"),
                    format!("{rel}-{seed}-{i}"),
                );
                (rec, v)
            })
            .collect();
        (doc, chunks)
    }

    /// A write transaction on `library` with the test model and default settings.
    pub(crate) fn begin(library: &Library) -> Transaction {
        library
            .begin(&SettingsRequest::default(), &model(), false, None)
            .unwrap()
    }

    /// Adds documents `range` (document `n` with vectors from seed `n`) to `txn`.
    pub(crate) fn add_documents(txn: &mut Transaction, range: std::ops::Range<usize>) {
        for n in range {
            let (doc, chunks) = document(n, n as u64);
            txn.add_document(doc, chunks).unwrap();
        }
    }

    /// [`begin`] without a segment: every added vector goes into the graph.
    pub(crate) fn begin_graph_only(library: &Library) -> Transaction {
        let mut txn = begin(library);
        txn.set_segment_limit(0);
        txn
    }

    /// Commits documents `0..n` (document `n` with vectors from seed `n`) in one transaction
    /// of `library`; their ids.
    pub(crate) fn commit_documents(library: &Library, n: usize) -> Vec<DocId> {
        let mut txn = begin(library);
        let ids = (0..n)
            .map(|n| {
                let (doc, chunks) = document(n, n as u64);
                txn.add_document(doc, chunks).unwrap()
            })
            .collect();
        txn.commit(&|_| {}).unwrap();
        ids
    }

    /// Replaces the committed keyword index of `library` by one as an earlier version wrote
    /// it: the same chunks, without the fields added since.
    pub(crate) fn make_keyword_outdated(library: &Library) {
        let paths = library.snapshot().unwrap().paths().clone();
        std::fs::remove_dir_all(paths.keyword()).unwrap();
        std::fs::create_dir_all(paths.keyword()).unwrap();
        let old =
            KeywordIndex::create_without(&paths.keyword(), &KeywordIndex::ADDED_FIELDS).unwrap();
        let mut w = old.writer(1).unwrap();
        add_catalog_chunks(&Catalog::open(&paths.catalog()).unwrap(), &mut w).unwrap();
        w.commit().unwrap();
    }

    /// Makes the current generation as an earlier version wrote it, without its file of
    /// embedded-text hashes.
    pub(crate) fn remove_hashes_file(library: &Library) {
        let paths = library.snapshot().unwrap().paths().clone();
        std::fs::remove_file(paths.embedded_hashes()).unwrap();
    }

    /// Whether the current generation's file of embedded-text hashes holds exactly its
    /// catalog's chunks.
    pub(crate) fn hashes_match_the_catalog(library: &Library) -> bool {
        let paths = library.snapshot().unwrap().paths().clone();
        let catalog = Catalog::open(&paths.catalog()).unwrap();
        let built = EmbeddedHashes::from_pairs(catalog.chunk_hashes().unwrap());
        EmbeddedHashes::read(&paths.embedded_hashes()).unwrap() == Some(built)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::test_support::*;
    use super::*;

    /// The committed graph, opened as a searcher opens it.
    fn graph(library: &Library) -> VectorIndex {
        let m = library.manifest().unwrap();
        VectorIndex::open_for_search(
            &library.snapshot().unwrap().paths().vectors(),
            DIM,
            m.chunks,
        )
        .unwrap()
    }

    /// Whether every live vector of the catalog is its own nearest neighbour in the graph.
    fn every_vector_finds_itself(library: &Library) -> bool {
        let g = graph(library);
        let catalog = Catalog::open(&library.snapshot().unwrap().paths().catalog()).unwrap();
        live_vectors(&catalog)
            .unwrap()
            .iter()
            .all(|(id, v)| g.search(v, 1).first().is_some_and(|h| h.chunk_id == *id))
    }

    #[test]
    fn a_vector_added_in_the_run_is_read_back_by_document_and_ordinal() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let mut txn = begin(&library);
        let (doc, chunks) = document(0, 7);
        let want: Vec<Vec<f32>> = chunks.iter().map(|(_, v)| v.clone()).collect();
        let id = txn.add_document(doc, chunks).unwrap();
        for (ordinal, v) in want.iter().enumerate() {
            assert_eq!(txn.added_vector(id, ordinal).unwrap().as_ref(), Some(v));
        }
        assert_eq!(txn.added_vector(id, want.len()).unwrap(), None);
        assert_eq!(txn.added_vector(DocId(id.0 + 1), 0).unwrap(), None);
    }

    #[test]
    fn the_graph_grows_while_documents_are_added_and_commits_with_every_vector_and_tombstone() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let begin = || begin_graph_only(&library);
        // A new index: 300 documents, 600 vectors, inserted as they are added.
        let mut txn = begin();
        let mut ids = Vec::new();
        for n in 0..300 {
            let (doc, chunks) = document(n, n as u64);
            ids.push(txn.add_document(doc, chunks).unwrap());
        }
        let c = txn.commit(&|_| {}).unwrap();
        assert_eq!((c.documents, c.chunks, c.tombstones), (300, 600, 0));
        assert!(c.timings.graph_insert > 0.0);
        assert_eq!(graph(&library).graph_len(), 600);
        assert!(every_vector_finds_itself(&library));

        // An incremental run: 10 documents change, 50 are new; the loaded graph takes them.
        let mut txn = begin();
        for (n, id) in ids.iter().enumerate().take(10) {
            txn.remove_document(*id).unwrap();
            let (doc, chunks) = document(n, 1000 + n as u64);
            txn.add_document(doc, chunks).unwrap();
        }
        add_documents(&mut txn, 300..350);
        let c = txn.commit(&|_| {}).unwrap();
        assert_eq!((c.documents, c.chunks, c.tombstones), (350, 700, 20));
        assert!(!c.graph_rebuilt);
        let g = graph(&library);
        assert_eq!(g.graph_len(), 720);
        // A removed chunk is never found, not even by its own vector.
        let (_, old) = document(3, 3);
        assert!(
            g.search(&old[0].1, 10)
                .iter()
                .all(|h| h.chunk_id != ChunkId(6))
        );
        assert!(every_vector_finds_itself(&library));

        // Past 20 % tombstones the graph is compacted from the catalog at commit.
        let mut txn = begin();
        for id in &ids[10..200] {
            txn.remove_document(*id).unwrap();
        }
        let c = txn.commit(&|_| {}).unwrap();
        assert!(c.graph_rebuilt);
        assert_eq!((c.chunks, c.tombstones), (320, 0));
        assert_eq!(graph(&library).graph_len(), 320);
        assert!(every_vector_finds_itself(&library));
    }

    #[test]
    #[cfg(unix)]
    fn an_update_within_the_segment_links_the_graph_and_past_the_limit_inserts_the_segment() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let mut txn = begin(&library);
        let mut ids = Vec::new();
        for n in 0..300 {
            let (doc, chunks) = document(n, n as u64);
            ids.push(txn.add_document(doc, chunks).unwrap());
        }
        txn.commit(&|_| {}).unwrap();
        let flat = graph_file(&library, "graph.flat");

        // 10 documents change, 50 are new: 120 vectors wait in the segment, the graph is
        // neither loaded nor written, and every vector is found.
        let mut txn = begin(&library);
        for (n, id) in ids.iter_mut().enumerate().take(10) {
            txn.remove_document(*id).unwrap();
            let (doc, chunks) = document(n, 1000 + n as u64);
            *id = txn.add_document(doc, chunks).unwrap();
        }
        for n in 300..350 {
            let (doc, chunks) = document(n, n as u64);
            ids.push(txn.add_document(doc, chunks).unwrap());
        }
        let c = txn.commit(&|_| {}).unwrap();
        assert_eq!((c.chunks, c.tombstones, c.graph_rebuilt), (700, 20, false));
        assert_eq!((c.timings.graph_load, c.timings.graph_insert), (0.0, 0.0));
        assert_eq!(
            graph_file(&library, "graph.flat"),
            flat,
            "the graph was written anew"
        );
        let g = graph(&library);
        assert!(g.is_flat());
        assert_eq!((g.graph_len(), g.segment_len(), g.len()), (600, 120, 700));
        let (_, old) = document(3, 3);
        assert!(
            g.search(&old[0].1, 10)
                .iter()
                .all(|h| h.chunk_id != ChunkId(6))
        );
        assert!(every_vector_finds_itself(&library));

        // A changed document whose chunks are in the segment leaves it: no tombstone.
        let mut txn = begin(&library);
        txn.remove_document(ids[0]).unwrap();
        let (doc, chunks) = document(0, 2000);
        ids[0] = txn.add_document(doc, chunks).unwrap();
        let c = txn.commit(&|_| {}).unwrap();
        assert_eq!((c.chunks, c.tombstones), (700, 20));
        assert_eq!(graph_file(&library, "graph.flat"), flat);
        assert_eq!(graph(&library).segment_len(), 120);
        assert!(every_vector_finds_itself(&library));

        // Past the limit, the graph is loaded, takes the segment and the new vectors, and is
        // written anew without a segment.
        let mut txn = begin(&library);
        txn.set_segment_limit(150);
        add_documents(&mut txn, 350..370);
        let c = txn.commit(&|_| {}).unwrap();
        assert!(c.timings.graph_load > 0.0 && c.timings.graph_insert > 0.0);
        assert_eq!((c.chunks, c.tombstones), (740, 20));
        assert_ne!(graph_file(&library, "graph.flat"), flat);
        let g = graph(&library);
        assert_eq!((g.graph_len(), g.segment_len(), g.len()), (760, 0, 740));
        assert!(
            !library
                .snapshot()
                .unwrap()
                .paths()
                .vectors()
                .join(crate::index::segment::SEGMENT_FILE)
                .exists()
        );
        assert!(every_vector_finds_itself(&library));
    }

    #[test]
    fn a_kept_graph_holds_the_segment_and_takes_it_in_memory_once_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let warm = WarmGraph::new();
        let mut txn = begin_warm(&library, &warm);
        add_documents(&mut txn, 0..50);
        txn.commit(&|_| {}).unwrap();
        // Within the limit: the segment, and the kept graph holds it too.
        let mut txn = begin_warm(&library, &warm);
        add_documents(&mut txn, 50..60);
        let c = txn.commit(&|_| {}).unwrap();
        assert_eq!((c.timings.graph_load, c.timings.graph_insert), (0.0, 0.0));
        assert_eq!(graph(&library).segment_len(), 20);
        assert!(warm.is_warm());
        // Past it: the kept graph takes the segment and the new vectors without a load.
        let mut txn = begin_warm(&library, &warm);
        txn.set_segment_limit(25);
        add_documents(&mut txn, 60..65);
        let c = txn.commit(&|_| {}).unwrap();
        assert_eq!(c.timings.graph_load, 0.0);
        assert!(c.timings.graph_insert > 0.0);
        let g = graph(&library);
        assert_eq!((g.graph_len(), g.segment_len(), g.len()), (130, 0, 130));
        assert!(every_vector_finds_itself(&library));
    }

    /// Every file under `dir`, by path relative to it, with its bytes.
    fn files_in(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        walkdir::WalkDir::new(dir)
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e.path().strip_prefix(dir).unwrap().to_path_buf();
                (rel, std::fs::read(e.path()).unwrap())
            })
            .collect()
    }

    #[test]
    fn an_update_leaves_the_generation_it_started_from_as_it_was_and_one_dump_of_the_graph() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let ids = commit_documents(&library, 40);
        for round in 0..3u64 {
            // A reader keeps the current generation while the next is written from it.
            let pinned = library.snapshot().unwrap();
            let before = files_in(pinned.paths().dir());
            let chunks_before = KeywordIndex::open(&pinned.paths().keyword())
                .unwrap()
                .chunk_ids()
                .unwrap();
            let mut txn = begin(&library);
            txn.remove_document(ids[round as usize]).unwrap();
            for n in 0..30 {
                let (doc, chunks) =
                    document(100 * (round as usize + 1) + n, 500 + round * 50 + n as u64);
                txn.add_document(doc, chunks).unwrap();
            }
            let c = txn.commit(&|_| {}).unwrap();
            assert!(c.timings.staging > 0.0);
            // The keyword index's files are shared with the next generation (linked, not
            // copied), and its writer changed none of them: every file, byte for byte.
            assert_eq!(files_in(pinned.paths().dir()), before, "round {round}");
            assert_eq!(
                KeywordIndex::open(&pinned.paths().keyword())
                    .unwrap()
                    .chunk_ids()
                    .unwrap(),
                chunks_before
            );
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                let shared = std::fs::read_dir(pinned.paths().keyword())
                    .unwrap()
                    .filter(|e| e.as_ref().unwrap().metadata().unwrap().nlink() > 1)
                    .count();
                assert!(
                    shared > 0,
                    "no segment file shared with the next generation"
                );
            }
            drop(pinned);
            // The new generation holds one dump of the graph, under its usual name.
            let vectors = library.snapshot().unwrap().paths().vectors();
            assert!(VectorIndex::stale_files(&vectors).unwrap().is_empty());
            assert_eq!(
                std::fs::read_to_string(vectors.join("graph.name")).unwrap(),
                "graph"
            );
            assert!(every_vector_finds_itself(&library));
        }
    }

    /// The identity (device and inode) of file `file` of the current generation's graph.
    #[cfg(unix)]
    fn graph_file(library: &Library, file: &str) -> (u64, u64) {
        graph_file_in(library.snapshot().unwrap().paths(), file)
    }

    /// The identity (device and inode) of file `file` of the graph of generation `paths`.
    #[cfg(unix)]
    fn graph_file_in(paths: &GenerationPaths, file: &str) -> (u64, u64) {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(paths.vectors().join(file)).unwrap();
        (m.dev(), m.ino())
    }

    #[test]
    #[cfg(unix)]
    fn a_run_that_adds_no_vector_links_the_current_graph_and_never_finds_what_it_removed() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let mut txn = begin_graph_only(&library);
        let added: Vec<(DocId, Vec<f32>)> = (0..40)
            .map(|n| {
                let (doc, chunks) = document(n, n as u64);
                let first = chunks[0].1.clone();
                (txn.add_document(doc, chunks).unwrap(), first)
            })
            .collect();
        txn.commit(&|_| {}).unwrap();
        let dumped = graph_file(&library, "graph.hnsw.data");

        // Removals alone (the indexer expects no vector): the graph is never loaded,
        // its files are the current generation's, and the removed chunks are tombstones.
        let pinned = library.snapshot().unwrap();
        let before = files_in(pinned.paths().dir());
        let mut txn = begin_graph_only(&library);
        txn.set_expect_vectors(false);
        txn.remove_document(added[0].0).unwrap();
        txn.remove_document(added[1].0).unwrap();
        let c = txn.commit(&|_| {}).unwrap();
        assert_eq!(c.timings.graph_load, 0.0);
        assert_eq!((c.tombstones, c.chunks, c.graph_rebuilt), (4, 76, false));
        for file in ["graph.hnsw.data", "graph.hnsw.graph", "graph.flat"] {
            assert_eq!(
                graph_file(&library, file),
                graph_file_in(pinned.paths(), file),
                "{file} not linked"
            );
        }
        assert_eq!(graph_file(&library, "graph.hnsw.data"), dumped);
        assert_eq!(files_in(pinned.paths().dir()), before);
        drop(pinned);
        let g = graph(&library);
        assert!(
            g.is_flat(),
            "searches reload the graph instead of mapping its flat file"
        );
        assert_eq!((g.len(), g.tombstones()), (76, 4));
        for (id, v) in &added[..2] {
            assert!(g.search(v, 10).iter().all(|h| h.chunk_id.0 / 2 != id.0));
        }
        assert!(every_vector_finds_itself(&library));

        // A run told to expect vectors, that adds none after all (a file touched): the graph
        // it loaded is left unused and the files are linked again.
        let pinned = library.snapshot().unwrap();
        let mut txn = begin_graph_only(&library);
        txn.remove_document(added[2].0).unwrap();
        let c = txn.commit(&|_| {}).unwrap();
        assert!(c.timings.graph_load > 0.0);
        assert_eq!(
            graph_file(&library, "graph.flat"),
            graph_file_in(pinned.paths(), "graph.flat")
        );
        assert_eq!(graph(&library).tombstones(), 6);
        drop(pinned);

        // Told to expect none, a run that adds a document after all loads the graph then,
        // and writes a graph of its own.
        let pinned = library.snapshot().unwrap();
        let before = files_in(pinned.paths().dir());
        let mut txn = begin_graph_only(&library);
        txn.set_expect_vectors(false);
        let (doc, chunks) = document(500, 500);
        let new_first = chunks[0].1.clone();
        let new_id = txn.add_document(doc, chunks).unwrap();
        let c = txn.commit(&|_| {}).unwrap();
        assert!(c.timings.graph_load > 0.0);
        assert_ne!(
            graph_file(&library, "graph.flat"),
            graph_file_in(pinned.paths(), "graph.flat")
        );
        assert_eq!(files_in(pinned.paths().dir()), before);
        drop(pinned);
        let g = graph(&library);
        assert_eq!((g.len(), g.tombstones()), (76, 6));
        let nearest = g.search(&new_first, 1)[0].chunk_id;
        let doc = Catalog::open(&library.snapshot().unwrap().paths().catalog())
            .unwrap()
            .document(new_id)
            .unwrap()
            .unwrap();
        assert_eq!(nearest, doc.chunks[0]);
        assert!(every_vector_finds_itself(&library));
    }

    /// A transaction of `library` that keeps its graph in `warm`.
    fn begin_warm(library: &Library, warm: &WarmGraph) -> Transaction {
        let mut txn = begin(library);
        txn.keep_graph_in(warm.clone());
        txn
    }

    /// [`begin_warm`] without a segment: every added vector goes into the graph.
    fn begin_warm_graph_only(library: &Library, warm: &WarmGraph) -> Transaction {
        let mut txn = begin_warm(library, warm);
        txn.set_segment_limit(0);
        txn
    }

    #[test]
    fn a_kept_graph_takes_the_next_update_s_vectors_without_being_loaded_and_keeps_its_removals() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let warm = WarmGraph::new();
        let mut txn = begin_warm(&library, &warm);
        let added: Vec<DocId> = (0..30)
            .map(|n| {
                let (doc, chunks) = document(n, n as u64);
                txn.add_document(doc, chunks).unwrap()
            })
            .collect();
        txn.commit(&|_| {}).unwrap();
        assert!(warm.is_warm());

        // An update that adds vectors inserts them into the kept graph.
        let mut txn = begin_warm(&library, &warm);
        let (doc, chunks) = document(100, 100);
        txn.add_document(doc, chunks).unwrap();
        let c = txn.commit(&|_| {}).unwrap();
        assert_eq!(c.timings.graph_load, 0.0);
        assert_eq!((c.chunks, c.tombstones), (62, 0));
        assert!(warm.is_warm() && every_vector_finds_itself(&library));

        // One that only removes links the graph's files and keeps the graph with its
        // tombstones, which the next one, adding vectors, writes with its own.
        let pinned = library.snapshot().unwrap();
        let mut txn = begin_warm(&library, &warm);
        txn.set_expect_vectors(false);
        txn.remove_document(added[0]).unwrap();
        let c = txn.commit(&|_| {}).unwrap();
        assert_eq!((c.chunks, c.tombstones), (60, 2));
        assert_eq!(
            graph_file(&library, "graph.flat"),
            graph_file_in(pinned.paths(), "graph.flat")
        );
        drop(pinned);
        assert!(warm.is_warm());
        let mut txn = begin_warm(&library, &warm);
        let (doc, chunks) = document(101, 101);
        txn.add_document(doc, chunks).unwrap();
        let c = txn.commit(&|_| {}).unwrap();
        assert_eq!(c.timings.graph_load, 0.0);
        assert_eq!((c.chunks, c.tombstones), (62, 2));
        let g = graph(&library);
        assert_eq!((g.len(), g.tombstones()), (62, 2));
        assert!(every_vector_finds_itself(&library));
    }

    #[test]
    fn a_graph_loaded_ahead_in_the_background_serves_the_next_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let warm = WarmGraph::new();
        // No index yet: nothing to load.
        warm.load_in_background(&library);
        assert!(!warm.is_warm());
        commit_documents(&library, 10);
        // Loading ahead; the transaction's staging waits for it, whenever it ends.
        warm.load_in_background(&library);
        let mut txn = begin_warm(&library, &warm);
        let (doc, chunks) = document(10, 10);
        txn.add_document(doc, chunks).unwrap();
        let c = txn.commit(&|_| {}).unwrap();
        assert_eq!(c.timings.graph_load, 0.0);
        assert_eq!(graph(&library).len(), 22);
        assert!(every_vector_finds_itself(&library));
        // Full already: a second load is not started.
        assert!(warm.is_warm());
        warm.load_in_background(&library);
        assert!(warm.is_warm());
    }

    #[test]
    fn a_graph_kept_for_a_generation_another_writer_replaced_is_dropped_and_the_current_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let warm = WarmGraph::new();
        let mut txn = begin_warm_graph_only(&library, &warm);
        add_documents(&mut txn, 0..10);
        txn.commit(&|_| {}).unwrap();
        assert!(warm.is_warm());
        // Another writer (another process, say) adds a document.
        let mut txn = begin_graph_only(&library);
        let (doc, chunks) = document(10, 10);
        txn.add_document(doc, chunks).unwrap();
        txn.commit(&|_| {}).unwrap();
        // The kept graph lacks that document's vectors: it is not used.
        let mut txn = begin_warm_graph_only(&library, &warm);
        let (doc, chunks) = document(11, 11);
        txn.add_document(doc, chunks).unwrap();
        let c = txn.commit(&|_| {}).unwrap();
        assert!(c.timings.graph_load > 0.0);
        assert_eq!(graph(&library).len(), 24);
        assert!(every_vector_finds_itself(&library));
        // A transaction dropped after its first vectors leaves nothing kept: its graph held
        // them.
        let mut txn = begin_warm_graph_only(&library, &warm);
        let (doc, chunks) = document(12, 12);
        txn.add_document(doc, chunks).unwrap();
        drop(txn);
        assert!(!warm.is_warm());
        let mut txn = begin_warm_graph_only(&library, &warm);
        let (doc, chunks) = document(13, 13);
        txn.add_document(doc, chunks).unwrap();
        assert!(txn.commit(&|_| {}).unwrap().timings.graph_load > 0.0);
        assert_eq!(graph(&library).len(), 26);
        // What it keeps now is this generation's; a rebuild drops it.
        assert!(warm.is_warm());
        let mut txn = begin_warm_graph_only(&library, &warm);
        txn.stage(Staging::Rederive, &|_| {}).unwrap();
        assert!(!warm.is_warm());
        txn.commit(&|_| {}).unwrap();
        assert!(every_vector_finds_itself(&library));
    }

    #[test]
    fn removals_past_the_compaction_threshold_rebuild_the_graph_even_when_nothing_is_added() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let ids = commit_documents(&library, 20);
        let mut txn = begin(&library);
        txn.set_expect_vectors(false);
        for id in &ids[..5] {
            txn.remove_document(*id).unwrap();
        }
        let c = txn.commit(&|_| {}).unwrap();
        assert_eq!((c.tombstones, c.chunks, c.graph_rebuilt), (0, 30, true));
        assert_eq!(graph(&library).graph_len(), 30);
        assert!(every_vector_finds_itself(&library));
    }

    #[test]
    fn an_exact_graph_is_the_same_whatever_order_documents_were_added_in() {
        // Two indexes of the same 1,000 documents, added in opposite orders (as extraction
        // threads may finish them), so their chunk ids differ. At this size the graph's
        // search is approximate, so what it finds depends on how the graph was linked.
        let answers = |order: Vec<usize>| {
            let dir = tempfile::tempdir().unwrap();
            let library = Library::at(dir.path().join(".lexsearch"));
            let mut txn = begin(&library);
            txn.set_exact_graph(true);
            for n in order {
                let (doc, chunks) = document(n, n as u64);
                txn.add_document(doc, chunks).unwrap();
            }
            assert!(txn.commit(&|_| {}).unwrap().graph_rebuilt);
            // Each hit as its document and place in it, which do not depend on the order.
            let catalog = Catalog::open(&library.snapshot().unwrap().paths().catalog()).unwrap();
            let place: std::collections::HashMap<ChunkId, (PathBuf, usize)> = catalog
                .documents()
                .unwrap()
                .into_iter()
                .flat_map(|(_, d)| {
                    let rel = d.rel.clone();
                    d.chunks
                        .into_iter()
                        .enumerate()
                        .map(move |(i, c)| (c, (rel.clone(), i)))
                })
                .collect();
            let g = graph(&library);
            crate::index::test_vectors::unit_vectors(5, 200, test_support::DIM)
                .iter()
                .map(|q| {
                    // A narrow search (`ef` 10) shows the graph's links, not only the answer.
                    g.search_with_ef(q, 10, 10)
                        .iter()
                        .map(|h| (place[&h.chunk_id].clone(), h.cosine.to_bits()))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        };
        let forward = answers((0..1000).collect());
        assert!(forward == answers((0..1000).rev().collect()));
        assert!(forward.iter().all(|hits| hits.len() == 10));
    }

    #[test]
    fn a_transaction_dropped_while_its_graph_grows_leaves_its_vectors_for_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let mut txn = begin(&library);
        add_documents(&mut txn, 0..50);
        // Dropped with insertions queued: the builder stops, nothing is published.
        drop(txn);
        assert!(!library.exists());
        let txn = begin(&library);
        let resumed = txn.reuse_sources();
        assert_eq!(resumed.len(), 1);
        assert_eq!(resumed[0].origin, library.resume().catalog());
        assert_eq!(resumed[0].hashes, None);
        assert_eq!(resumed[0].catalog.vectors().unwrap().len(), 100);
    }

    #[test]
    fn a_full_disk_is_named_with_the_room_needed_and_frees_all_but_the_vectors_computed() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let mut txn = begin(&library);
        txn.add_document(document(0, 0).0, document(0, 0).1)
            .unwrap();
        txn.commit(&|_| {}).unwrap();
        // A second run that staged a copy and added vectors, then hit a full disk.
        let mut txn = begin(&library);
        add_documents(&mut txn, 1..20);
        drop(txn);
        let staging = library.staging();
        assert!(staging.keyword().is_dir() && staging.catalog().is_dir());
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let err = library.diagnose_disk_full(Error::Keyword {
            path: staging.keyword(),
            source: tantivy::TantivyError::from(full),
        });
        let Error::DiskFull {
            current_bytes,
            kept_bytes,
            ..
        } = &err
        else {
            panic!("{err}");
        };
        assert!(*current_bytes > 0 && *kept_bytes > 0, "{err}");
        let text = err.to_string();
        assert!(
            text.contains("is full") && text.contains("--index PATH"),
            "{text}"
        );
        // The copy is gone but for its catalog, whose vectors the next run reuses.
        assert!(!staging.dir().exists());
        let resume = library.resume();
        assert!(!resume.keyword().exists() && !resume.vectors().exists());
        let txn = begin(&library);
        let sources = txn.reuse_sources();
        assert_eq!(sources[1].origin, library.resume().catalog());
        assert_eq!(sources[1].catalog.vectors().unwrap().len(), 40);
        // Other errors stay as they are, whatever their words about a disk.
        let other = library.diagnose_disk_full(Error::InvalidSetting("a full text".into()));
        assert!(matches!(other, Error::InvalidSetting(_)));
    }

    #[test]
    fn each_generation_s_embedded_text_hashes_follow_its_catalog_and_one_without_gets_them() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let ids = commit_documents(&library, 4);
        assert!(hashes_match_the_catalog(&library));
        // Updated from the current file: a document removed, one added (with the text of a
        // chunk already there: two chunks under one hash).
        let mut txn = begin(&library);
        txn.remove_document(ids[1]).unwrap();
        let (doc, chunks) = document(0, 0);
        txn.add_document(
            DocRecord {
                rel: "copy.txt".into(),
                ..doc
            },
            chunks,
        )
        .unwrap();
        let c = txn.commit(&|_| {}).unwrap();
        assert_eq!(c.chunks, 8);
        assert!(hashes_match_the_catalog(&library));

        // A generation of an earlier version, without the file: the next run writes it from
        // the catalog, whatever it changes.
        remove_hashes_file(&library);
        let stages = std::sync::Mutex::new(Vec::new());
        let mut txn = begin(&library);
        txn.set_expect_vectors(false);
        txn.remove_document(ids[2]).unwrap();
        txn.commit(&|s| stages.lock().unwrap().push(s.to_string()))
            .unwrap();
        assert!(
            stages
                .lock()
                .unwrap()
                .iter()
                .any(|s| s.contains("embedded-text hashes")),
            "{stages:?}"
        );
        assert!(hashes_match_the_catalog(&library));
        // A rebuild from nothing writes it from what it added.
        let mut txn = library
            .begin(
                &crate::library::SettingsRequest::default(),
                &model(),
                true,
                None,
            )
            .unwrap();
        let (doc, chunks) = document(9, 9);
        txn.add_document(doc, chunks).unwrap();
        assert_eq!(txn.commit(&|_| {}).unwrap().chunks, 2);
        assert!(hashes_match_the_catalog(&library));
    }

    #[test]
    fn a_keyword_index_of_an_earlier_version_is_rebuilt_with_e_mail_days_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let begin = || begin(&library);
        let mut txn = begin();
        for n in 0..3 {
            let (mut doc, chunks) = document(n, n as u64);
            if n == 1 {
                doc.mail = Some(Box::new(crate::ingest::types::MailInfo {
                    date: Some("2020-03-05T10:00:00Z".into()),
                    ..Default::default()
                }));
            }
            txn.add_document(doc, chunks).unwrap();
        }
        txn.commit(&|_| {}).unwrap();
        // The keyword index as an earlier version wrote it: the same chunks, fewer fields.
        make_keyword_outdated(&library);

        let mut txn = begin();
        assert!(txn.keyword_outdated());
        txn.stage(Staging::Copy, &|_| {}).unwrap();
        let c = txn.commit(&|_| {}).unwrap();
        assert_eq!((c.documents, c.chunks), (3, 6));
        let keyword = KeywordIndex::open(&library.snapshot().unwrap().paths().keyword()).unwrap();
        assert!(!keyword.is_outdated());
        assert_eq!(keyword.chunk_ids().unwrap().len(), 6);
        let march = crate::index::sent::SentWindow::parse("2020-03").unwrap();
        let found = keyword
            .chunks_meeting(&crate::index::keyword::Conditions {
                sent: Some(march),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(found.listed().map(|s| s.ids().len()), Some(2));
        assert!(!begin().keyword_outdated());
    }

    #[test]
    fn a_runs_documents_come_from_the_generations_file_or_without_one_from_a_copy() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let ids = commit_documents(&library, 3);
        let paths = library.snapshot().unwrap().paths().clone();
        let listed = read_documents(&paths.documents()).unwrap().unwrap();
        let ids_of = |d: &[(DocId, DocRecord)]| d.iter().map(|(id, _)| *id).collect::<Vec<_>>();
        assert_eq!(ids_of(&listed), ids);
        assert_eq!(
            listed,
            library.read_catalog(&paths).unwrap().documents().unwrap()
        );
        assert_eq!(begin(&library).base_documents().unwrap(), listed);
        // Without a file that reads (an earlier version's generation, a crash): the same
        // list, from a private copy of the catalog that is gone once read.
        let bytes = std::fs::read(paths.documents()).unwrap();
        std::fs::write(paths.documents(), &bytes[..bytes.len() / 2]).unwrap();
        assert_eq!(begin(&library).base_documents().unwrap(), listed);
        std::fs::remove_file(paths.documents()).unwrap();
        assert_eq!(begin(&library).base_documents().unwrap(), listed);
        let reading = library.dir().join("reading");
        assert_eq!(std::fs::read_dir(&reading).unwrap().count(), 0);

        // A run removes a document and adds one of the same text: the removed chunks'
        // vectors are there to reuse until commit, then gone; the next file lists the rest.
        let mut txn = begin(&library);
        txn.stage(Staging::Copy, &|_| {}).unwrap();
        assert_eq!(txn.base_documents().unwrap(), listed);
        let sources = txn.reuse_sources();
        assert!(!sources[0].catalog.is_copy(), "the staged copy is read");
        txn.remove_document(ids[1]).unwrap();
        let removed = &listed[1].1.chunks;
        let vector = sources[0].catalog.vector(removed[0]).unwrap();
        assert_eq!(vector, Some(document(1, 1).1[0].1.clone()));
        drop(sources);
        let (doc, chunks) = document(1, 1);
        let readded = txn
            .add_document(
                DocRecord {
                    rel: "moved.txt".into(),
                    ..doc
                },
                chunks,
            )
            .unwrap();
        txn.commit(&|_| {}).unwrap();
        let next = library.snapshot().unwrap().paths().clone();
        let now = read_documents(&next.documents()).unwrap().unwrap();
        assert_eq!(ids_of(&now), [ids[0], ids[2], readded]);
        let catalog = library.read_catalog(&next).unwrap();
        assert_eq!(now, catalog.documents().unwrap());
        assert!(
            removed
                .iter()
                .all(|c| catalog.vector(*c).unwrap().is_none())
        );
        assert_eq!(catalog.vectors().unwrap().len(), 6);
    }
}
