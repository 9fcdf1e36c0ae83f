//! The one handle for an index on disk: where every file lives, which generation is current,
//! the readers' pinned view of it ([`Snapshot`]) and the writer's [`Transaction`].
//!
//! ```text
//! INDEX/                      DIR/.lexsearch by default, or --index PATH
//!   CURRENT                   name of the current generation; replaced by an atomic rename
//!   gen-000012/               a complete generation, never changed once it is current:
//!     manifest.json           model, settings, counts (written last)
//!     catalog/                sled: documents, chunks, vectors (source of truth)
//!     keyword/                tantivy
//!     vectors/                hnsw_rs graph dump and its flat search file
//!     embedded-hashes         the chunks by the hash of their embedded text
//!     documents               the documents' records, read without opening the catalog
//!     readers.lock            searchers hold a shared lock on it while they read
//!   staging/                  the next generation, while a writer runs
//!   resume/                   what an interrupted writer left; its vectors are reused
//!   reading/                  private copies of a catalog being read (sled writes on open)
//!   trash/                    old generations being deleted
//!   ocr/                      text of scanned pages read by OCR, kept across generations
//!   opened/                   copies of attachments opened from the TUI, for a day
//!   write.lock                OS lock held by the one writer (its pid inside, for messages)
//!   writer.active             locked by the writer for its life, so `status` can ask
//! ```
//!
//! A writer builds the next generation in `staging/`, renames it to `gen-N/` and then points
//! `CURRENT` at it with one rename, so a crash at any moment leaves a complete index. A
//! reader resolves `CURRENT` once and holds a shared lock on that generation's
//! `readers.lock`; the writer deletes an old generation only after taking that lock
//! exclusively, so no reader ever sees a generation disappear under it. Generations a reader
//! still holds are deleted by a later writer.
//!
//! Nothing opens a published catalog where it lies: sled writes into a database whenever
//! it opens one, and a process killed then would leave the generation unreadable. A run
//! reads the documents from the `documents` file and the vectors it reuses from the copy it
//! stages; `verify` and `bench` read a private copy ([`ReadCatalog`]).

mod lock;
mod reading;
mod txn;
mod warm;

use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

pub use lock::WriterLock;
pub use reading::ReadCatalog;
pub(crate) use txn::stored_chunk;
#[cfg(test)]
pub(crate) use txn::test_support;
pub use txn::{CommitTimings, Committed, ReuseSource, Staging, Transaction};
pub use warm::WarmGraph;

use crate::embed::ModelInfo;
use crate::ingest::chunk::ChunkerConfig;
use crate::store::{MANIFEST_FILE, Manifest};
use crate::{Error, Result};

/// Name of the index folder inside an indexed folder, by default.
pub const DEFAULT_INDEX_DIR: &str = ".lexsearch";

const CURRENT_FILE: &str = "CURRENT";
const GENERATION_PREFIX: &str = "gen-";
const READERS_LOCK: &str = "readers.lock";
const STAGING_DIR: &str = "staging";
const RESUME_DIR: &str = "resume";
const TRASH_DIR: &str = "trash";
const WRITE_LOCK: &str = "write.lock";
const WRITER_ACTIVE: &str = "writer.active";
/// The folder of [`Library::copy_to_open`]'s copies, in the index folder.
const OPENED: &str = "opened";
/// How long a copy taken out for a viewer is kept: the viewer has opened it long before.
const OPENED_KEPT: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// The name and bytes of the document `file` (relative to `root`) inside the e-mail or
/// mailbox `outer`.
fn inner_document(root: &Path, file: &str, outer: &Path) -> Result<(String, Vec<u8>)> {
    let outer_name = outer.to_string_lossy().into_owned();
    let inner = file
        .get(outer_name.len() + 1..)
        .unwrap_or_default()
        .to_string();
    let container = root.join(outer);
    let failed = |reason: String| Error::InnerDocument {
        file: file.to_string(),
        container: container.clone(),
        reason,
    };
    let source = crate::ingest::walk::SourceFile::reopened(&container, outer).map_err(failed)?;
    let limits = crate::ingest::extract::ExtractLimits::for_indexed(source.size);
    let bytes = crate::ingest::extract::inner_bytes(&source, &inner, &limits)
        .map_err(|e| failed(e.to_string()))?;
    let name = inner.rsplit('#').next().unwrap_or(&inner).to_string();
    Ok((name, bytes))
}

/// Removes what `dir` holds that was last changed longer than `age` ago (nothing when `dir`
/// is not there; what cannot be removed stays, for the next time).
fn remove_older_than(dir: &Path, age: std::time::Duration) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|elapsed| elapsed > age);
        if old {
            let _ = fs::remove_dir_all(entry.path()).or_else(|_| fs::remove_file(entry.path()));
        }
    }
}

/// Creates `dir` if needed, readable by its owner alone (on Unix).
fn private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| Error::io("create", dir, e))
}

/// Writes `bytes` to a new `path`, readable by its owner alone (on Unix).
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .map_err(|e| Error::io("create", path, e))?;
    f.write_all(bytes).map_err(|e| Error::io("write", path, e))
}

const OCR_CACHE: &str = "ocr";
/// Written into `staging/` when it is started: the fingerprint of the model its vectors come
/// from, so a later run reuses them only for the same model.
const STAGING_MODEL: &str = "model.fingerprint";

/// How often a reader resolves `CURRENT` again when the generation it named was deleted
/// between reading the name and pinning it (each retry follows a newer `CURRENT`).
const PIN_ATTEMPTS: usize = 64;

/// The settings an index is built with, recorded in its manifest and kept by later runs.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSettings {
    /// The model that embeds every chunk.
    pub model: ModelInfo,
    /// Chunker settings.
    pub chunker: ChunkerConfig,
    /// Whether embedded texts carry the document title and breadcrumb.
    pub context_in_embedding: bool,
}

/// The settings a user asked for; `None` keeps what the index was built with (or the
/// default for a new index).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettingsRequest {
    /// `--chunk-tokens`.
    pub chunk_tokens: Option<usize>,
    /// `--chunk-overlap`.
    pub chunk_overlap: Option<usize>,
    /// `--no-context` gives `Some(false)`.
    pub context_in_embedding: Option<bool>,
}

impl SettingsRequest {
    /// The settings for a run with `model`: each one asked for, else the one `recorded` in
    /// the index, else the default for the model. A value that differs from the recorded one
    /// is refused, naming both, unless `rebuild`.
    pub fn resolve(
        &self,
        index: &Path,
        recorded: Option<&Manifest>,
        model: &ModelInfo,
        rebuild: bool,
    ) -> Result<IndexSettings> {
        let defaults = ChunkerConfig::for_model(model.max_seq_length.saturating_sub(2));
        let base_chunker = recorded.map_or(defaults, |m| m.chunker);
        let base_context = recorded.is_none_or(|m| m.context_in_embedding);
        let settings = IndexSettings {
            model: model.clone(),
            chunker: ChunkerConfig {
                target_tokens: self.chunk_tokens.unwrap_or(base_chunker.target_tokens),
                overlap_tokens: self.chunk_overlap.unwrap_or(base_chunker.overlap_tokens),
                min_tokens: base_chunker.min_tokens,
            },
            context_in_embedding: self.context_in_embedding.unwrap_or(base_context),
        };
        match recorded {
            Some(m) if !rebuild => {
                m.check_model(index, model)?;
                check_same(index, m, &settings)?;
            }
            _ => {}
        }
        Ok(settings)
    }
}

/// Refuses settings that differ from those `recorded`, naming the first difference.
fn check_same(index: &Path, recorded: &Manifest, settings: &IndexSettings) -> Result<()> {
    let onoff = |b: bool| if b { "on" } else { "off" }.to_string();
    let tokens = |n: usize| format!("{n} tokens");
    let (a, b) = (recorded.chunker, settings.chunker);
    let (c, d) = (recorded.context_in_embedding, settings.context_in_embedding);
    let differences = [
        (
            "chunk size (--chunk-tokens)",
            a.target_tokens != b.target_tokens,
            tokens(a.target_tokens),
            tokens(b.target_tokens),
        ),
        (
            "chunk overlap (--chunk-overlap)",
            a.overlap_tokens != b.overlap_tokens,
            tokens(a.overlap_tokens),
            tokens(b.overlap_tokens),
        ),
        (
            "smallest section",
            a.min_tokens != b.min_tokens,
            tokens(a.min_tokens),
            tokens(b.min_tokens),
        ),
        (
            "title and breadcrumb in embeddings (--no-context)",
            c != d,
            onoff(c),
            onoff(d),
        ),
    ];
    match differences.into_iter().find(|d| d.1) {
        Some((setting, _, built, requested)) => Err(Error::SettingsMismatch {
            index: index.to_path_buf(),
            setting,
            built,
            requested,
        }),
        None => Ok(()),
    }
}

/// The files of one generation (or of `staging/`): manifest, catalog, keyword index, graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationPaths {
    dir: PathBuf,
}

impl GenerationPaths {
    /// The files of the generation in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        GenerationPaths { dir: dir.into() }
    }

    /// The generation's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest file.
    pub fn manifest(&self) -> PathBuf {
        self.dir.join(MANIFEST_FILE)
    }

    /// The catalog (sled) folder.
    pub fn catalog(&self) -> PathBuf {
        self.dir.join("catalog")
    }

    /// The keyword index (tantivy) folder.
    pub fn keyword(&self) -> PathBuf {
        self.dir.join("keyword")
    }

    /// The vector graph folder.
    pub fn vectors(&self) -> PathBuf {
        self.dir.join("vectors")
    }

    /// The chunks by embedded-text hash ([`EmbeddedHashes`](crate::store::EmbeddedHashes)).
    pub fn embedded_hashes(&self) -> PathBuf {
        self.dir.join(crate::store::HASHES_FILE)
    }

    /// The documents as a plain file ([`read_documents`](crate::store::read_documents)),
    /// read without opening the catalog.
    pub fn documents(&self) -> PathBuf {
        self.dir.join(crate::store::DOCUMENTS_FILE)
    }

    /// The lock readers share while they use the generation.
    fn readers_lock(&self) -> PathBuf {
        self.dir.join(READERS_LOCK)
    }
}

/// A reader's view of one generation: its manifest and files, kept from deletion for as long
/// as the snapshot lives (a shared lock on its `readers.lock`).
#[derive(Debug)]
pub struct Snapshot {
    paths: GenerationPaths,
    manifest: Manifest,
    /// The shared lock that pins the generation (`None` for an index of format 1, whose files
    /// sit in the index folder itself).
    _pin: Option<File>,
}

impl Snapshot {
    /// The generation's files.
    pub fn paths(&self) -> &GenerationPaths {
        &self.paths
    }

    /// Its manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
}

/// The handle for the index folder `dir`: every on-disk name, the current generation, the
/// readers' snapshot and the writer's transaction ([`Library::begin`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    dir: PathBuf,
}

impl Library {
    /// The index in the folder `dir` (which may not exist yet).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Library { dir: dir.into() }
    }

    /// Finds the index for a search: `DIR/.lexsearch` in `start` or the nearest folder above
    /// it, the way git finds `.git`.
    pub fn find(start: &Path) -> Result<Self> {
        let start_abs = std::path::absolute(start).map_err(|e| Error::io("resolve", start, e))?;
        let mut candidates = start_abs
            .ancestors()
            .map(|dir| Library::at(dir.join(DEFAULT_INDEX_DIR)));
        if let Some(found) = candidates.clone().find(Library::exists) {
            return Ok(found);
        }
        // None complete: the nearest first index under way or stopped says so.
        Err(candidates.find(Library::unfinished).map_or_else(
            || Error::NoIndex {
                below: indexed_below(start),
                start: start_abs,
            },
            |l| l.missing(),
        ))
    }

    /// Whether a first index was begun here but has not completed (it is running, or it
    /// was stopped and left its vectors for the next run).
    fn unfinished(&self) -> bool {
        !self.exists() && (self.staging().dir().is_dir() || self.resume().dir().is_dir())
    }

    /// The error for an index wanted here but absent: unfinished, or none at all.
    fn missing(&self) -> Error {
        if self.dir.is_file() {
            Error::IndexIsAFile {
                path: self.dir.clone(),
            }
        } else if self.unfinished() {
            Error::Unfinished {
                index: self.dir.clone(),
                writer: self.writer_pid(),
            }
        } else {
            Error::NotAnIndex {
                path: self.dir.clone(),
            }
        }
    }

    /// The index folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether a complete index is there.
    pub fn exists(&self) -> bool {
        self.dir.join(CURRENT_FILE).is_file() || self.legacy().manifest().is_file()
    }

    /// The folder of the index's OCR cache: the text of each scanned page read, by the hash
    /// of its image, kept across generations (and rebuilds) so that no page is read twice,
    /// and inside the index so that deleting the index deletes it.
    pub fn ocr_cache(&self) -> PathBuf {
        self.dir.join(OCR_CACHE)
    }

    /// A file a viewer can open for the indexed document `file` of the folder `root`: the file
    /// itself, or, for a document inside another (an e-mail's attachment `mail.eml#a.pdf`, a
    /// mailbox's message `inbox.mbox#0003.eml`), a copy of it taken out of its container
    /// into the index's `opened/` folder (readable by its owner alone; copies older than a
    /// day are removed here), under its own name so that the viewer knows its kind; a
    /// Maildir's message file, which has no extension, is copied there as `message.eml`.
    pub fn copy_to_open(&self, root: &Path, file: &str) -> Result<PathBuf> {
        let outer = crate::ingest::containers_of(Path::new(file)).next();
        let maildir = crate::ingest::walk::is_maildir_message(Path::new(file));
        if outer.is_none() && !maildir {
            return Ok(root.join(file));
        }
        let opened = self.dir.join(OPENED);
        remove_older_than(&opened, OPENED_KEPT);
        let (name, bytes) = match outer {
            Some(outer) => inner_document(root, file, &outer)?,
            None => {
                let path = root.join(file);
                let bytes = fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
                ("message.eml".to_string(), bytes)
            }
        };
        // One folder per document, so that two attachments of one name do not meet.
        let folder = opened.join(&blake3::hash(file.as_bytes()).to_hex()[..16]);
        private_dir(&opened)?;
        private_dir(&folder)?;
        let path = folder.join(&name);
        // Written beside and renamed, so that a viewer never reads half a copy.
        let partial = folder.join(format!(".{name}.partial"));
        write_private(&partial, &bytes)?;
        fs::rename(&partial, &path).map_err(|e| Error::io("rename", &partial, e))?;
        Ok(path)
    }

    /// Paths the walk must never index: the index folder, and the folders an index of
    /// format 1 kept beside it.
    pub fn own_paths(&self) -> Vec<PathBuf> {
        let mut paths = vec![self.dir.clone()];
        let name = self.dir.file_name().unwrap_or_default().to_string_lossy();
        for suffix in [".building", ".previous", ".resume", ".trash", ".lock"] {
            paths.push(self.dir.with_file_name(format!("{name}{suffix}")));
        }
        paths
    }

    /// The generation's files of an index of format 1 (files in the index folder itself).
    fn legacy(&self) -> GenerationPaths {
        GenerationPaths::new(&self.dir)
    }

    fn generation(&self, name: &str) -> GenerationPaths {
        GenerationPaths::new(self.dir.join(name))
    }

    fn generation_name(number: u64) -> String {
        format!("{GENERATION_PREFIX}{number:06}")
    }

    /// Where the next generation is built.
    pub fn staging(&self) -> GenerationPaths {
        GenerationPaths::new(self.dir.join(STAGING_DIR))
    }

    /// Where the copy left by an interrupted writer waits, so its vectors can be reused.
    pub fn resume(&self) -> GenerationPaths {
        GenerationPaths::new(self.dir.join(RESUME_DIR))
    }

    fn trash(&self) -> PathBuf {
        self.dir.join(TRASH_DIR)
    }

    fn write_lock(&self) -> PathBuf {
        self.dir.join(WRITE_LOCK)
    }

    fn writer_active(&self) -> PathBuf {
        self.dir.join(WRITER_ACTIVE)
    }

    /// The name `CURRENT` holds, or `None` when there is no such file.
    fn current_name(&self) -> Result<Option<String>> {
        let path = self.dir.join(CURRENT_FILE);
        match fs::read_to_string(&path) {
            Ok(s) => {
                let name = s.trim();
                if !name.starts_with(GENERATION_PREFIX) || name.contains(['/', '\\']) {
                    return Err(Error::CorruptIndex {
                        index: self.dir.clone(),
                        what: format!("{CURRENT_FILE} names {name:?}, not a generation"),
                    });
                }
                Ok(Some(name.to_string()))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(_) if self.dir.is_file() => Err(Error::IndexIsAFile {
                path: self.dir.clone(),
            }),
            Err(e) => Err(Error::io("read", path, e)),
        }
    }

    /// The current generation's files, without pinning it (for the writer, which alone
    /// changes what is current).
    fn current_paths(&self) -> Result<Option<GenerationPaths>> {
        if let Some(name) = self.current_name()? {
            return Ok(Some(self.generation(&name)));
        }
        let legacy = self.legacy();
        Ok(legacy.manifest().is_file().then_some(legacy))
    }

    /// `err`, or [`Error::DiskFull`] when it says that the disk holding this index is full
    /// (with the size of the current version, which the next one needs about as much of).
    pub fn diagnose_disk_full(&self, err: Error) -> Error {
        if matches!(err, Error::DiskFull { .. }) {
            return err;
        }
        let Some(reason) = crate::error::disk_full_reason(&err) else {
            return err;
        };
        // The failed run's staging copy is what filled the disk: the next run would keep
        // only its catalog (the vectors computed), so the rest goes now, as it would then,
        // unless another writer has started meanwhile.
        if let Ok(_lock) = WriterLock::acquire(self, None) {
            let _ = self.recover();
        }
        // Written anew by the next version; the keyword index's files are linked.
        let current_bytes = self.snapshot().map_or(0, |s| {
            dir_size(&s.paths().catalog()) + dir_size(&s.paths().vectors())
        });
        Error::DiskFull {
            index: self.dir().to_path_buf(),
            reason,
            current_bytes,
            kept_bytes: dir_size(self.resume().dir()),
        }
    }

    /// Pins the current generation for reading: its manifest and files stay as they are for
    /// as long as the snapshot lives, whatever writers do meanwhile.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let no_index = || self.missing();
        for _ in 0..PIN_ATTEMPTS {
            let Some(name) = self.current_name()? else {
                // An index of format 1, unless a writer is converting it right now (it
                // writes CURRENT before it removes the old manifest).
                let legacy = self.legacy();
                if let Ok(manifest) = self.read_manifest(legacy.dir()) {
                    return Ok(Snapshot {
                        paths: legacy,
                        manifest,
                        _pin: None,
                    });
                }
                if self.current_name()?.is_some() {
                    continue;
                }
                return Err(no_index());
            };
            let paths = self.generation(&name);
            let pin = match File::open(paths.readers_lock()) {
                Ok(f) => f,
                // Deleted since CURRENT was read: CURRENT names a newer one now.
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("open", paths.readers_lock(), e)),
            };
            match pin.try_lock_shared() {
                Ok(()) => {}
                // A writer is deleting it.
                Err(std::fs::TryLockError::WouldBlock) => {
                    std::thread::yield_now();
                    continue;
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::io("lock", paths.readers_lock(), e));
                }
            }
            // Pinned; but a writer may have moved it to the trash just before.
            if !paths.manifest().is_file() {
                continue;
            }
            let manifest = self.read_manifest(paths.dir())?;
            return Ok(Snapshot {
                paths,
                manifest,
                _pin: Some(pin),
            });
        }
        Err(Error::CorruptIndex {
            index: self.dir.clone(),
            what: format!(
                "{CURRENT_FILE} kept naming generations that were gone after {PIN_ATTEMPTS} tries"
            ),
        })
    }

    /// Whether `snapshot` is still the current generation (one small file read): a
    /// long-lived reader (the TUI, `mcp`) opens a new snapshot when it is not.
    pub fn is_current(&self, snapshot: &Snapshot) -> bool {
        match self.current_name() {
            Ok(Some(name)) => snapshot.paths.dir.file_name() == Some(std::ffi::OsStr::new(&name)),
            // Format 1: current until a writer converts it.
            Ok(None) => snapshot.paths.dir == self.dir,
            Err(_) => false,
        }
    }

    /// The manifest in `dir` (a generation's folder), its folder located from where this
    /// index is now ([`Manifest::locate_root`]).
    fn read_manifest(&self, dir: &Path) -> Result<Manifest> {
        let mut manifest = Manifest::read(dir)?;
        manifest.locate_root(&self.dir);
        Ok(manifest)
    }

    /// The current manifest (model, settings, counts).
    pub fn manifest(&self) -> Result<Manifest> {
        Ok(self.snapshot()?.manifest)
    }

    /// The process writing the index now, if any (read without disturbing it).
    pub fn writer_pid(&self) -> Option<u32> {
        let active = File::open(self.writer_active()).ok()?;
        match active.try_lock_shared() {
            Ok(()) => None,
            Err(_) => lock::pid_in(&self.write_lock()),
        }
    }

    /// Starts the one write transaction: takes the writer's lock (waiting for another writer
    /// when `wait` is set, else refusing with the holder's pid), recovers what an interrupted
    /// writer left, and resolves the settings against those the index was built with.
    /// `waiting` is told the holder's pid before the transaction waits for it.
    pub fn begin(
        &self,
        request: &SettingsRequest,
        model: &ModelInfo,
        rebuild: bool,
        wait: Option<&dyn Fn(Option<u32>)>,
    ) -> Result<Transaction> {
        let lock = WriterLock::acquire(self, wait)?;
        self.recover()?;
        let base = match self.current_paths()? {
            Some(paths) => match self.read_manifest(paths.dir()) {
                Ok(m) => Some((paths, m)),
                Err(_) if rebuild => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        let settings = request.resolve(&self.dir, base.as_ref().map(|(_, m)| m), model, rebuild)?;
        Ok(Transaction::new(
            self.clone(),
            lock,
            base,
            settings,
            rebuild,
        ))
    }

    /// Starts the one write transaction of an index whose search arms live in `remote`
    /// (a Milvus collection), with this library as its local catalog of what was sent. Like
    /// [`begin`](Self::begin), but the settings are checked against the manifest recorded
    /// with the remote collection, so a mismatch is refused whichever machine wrote it. The
    /// local catalog is built on only when it is the one the collection was last committed
    /// from (same generation, model and chunk count); otherwise (a new collection, another
    /// machine's catalog, a rebuild) the collection is emptied and every document sent again.
    pub fn begin_remote(
        &self,
        remote: std::sync::Arc<dyn crate::index::remote::RemoteIndex>,
        request: &SettingsRequest,
        model: &ModelInfo,
        rebuild: bool,
        wait: Option<&dyn Fn(Option<u32>)>,
    ) -> Result<Transaction> {
        let lock = WriterLock::acquire(self, wait)?;
        self.recover()?;
        let local = match self.current_paths()? {
            Some(paths) => self.read_manifest(paths.dir()).ok().map(|m| (paths, m)),
            None => None,
        };
        // A rebuild replaces whatever is there, even a collection of another layout.
        let recorded_json = match remote.manifest_json() {
            Err(_) if rebuild => None,
            other => other?,
        };
        let recorded: Option<Manifest> = match recorded_json {
            Some(json) => Some(serde_json::from_str(&json).map_err(|e| Error::Remote {
                server: remote.name().to_string(),
                action: "reading the collection's manifest".into(),
                cause: e.to_string(),
            })?),
            None => None,
        };
        let name = PathBuf::from(remote.name());
        let settings = request.resolve(&name, recorded.as_ref(), model, rebuild)?;
        let in_step = !rebuild
            && matches!((&local, &recorded), (Some((_, l)), Some(r))
                if l.generation == r.generation
                    && l.model.fingerprint == r.model.fingerprint
                    && l.chunks == r.chunks);
        remote.prepare(model.dim, !in_step)?;
        let floor = recorded.as_ref().map_or(0, |m| m.generation + 1);
        let base = if in_step { local } else { None };
        Ok(
            Transaction::new(self.clone(), lock, base, settings, !in_step)
                .with_remote(remote, floor),
        )
    }

    /// Starts a transaction that keeps the index's own settings and model (for maintenance:
    /// `verify --repair`, `compact`). Refuses when there is no index.
    pub fn begin_maintenance(&self) -> Result<Transaction> {
        // Before the lock, which would create the folder: a mistyped --index leaves nothing.
        if !self.exists() {
            return Err(self.missing());
        }
        let lock = WriterLock::acquire(self, None)?;
        self.recover()?;
        let Some(paths) = self.current_paths()? else {
            return Err(Error::NotAnIndex {
                path: self.dir.clone(),
            });
        };
        let manifest = self.read_manifest(paths.dir())?;
        let settings = IndexSettings {
            model: manifest.model.clone(),
            chunker: manifest.chunker,
            context_in_embedding: manifest.context_in_embedding,
        };
        Ok(Transaction::new(
            self.clone(),
            lock,
            Some((paths, manifest)),
            settings,
            false,
        ))
    }

    /// What the lock holder does first: a staging folder left by an interrupted writer
    /// becomes `resume/` (its vectors are reused; its keyword index and graph, which nothing
    /// reuses, are deleted), generations that are no longer current and that no reader
    /// holds are deleted, and so are copies of a catalog that killed readers left in
    /// `reading/`.
    fn recover(&self) -> Result<()> {
        self.remove_stale_copies();
        let staging = self.staging();
        if staging.dir().exists() {
            let resume = self.resume();
            remove_dir_if_exists(resume.dir())?;
            fs::rename(staging.dir(), resume.dir())
                .map_err(|e| Error::io("rename", staging.dir(), e))?;
            remove_dir_if_exists(&resume.keyword())?;
            remove_dir_if_exists(&resume.vectors())?;
        }
        self.collect_garbage()
    }

    /// Deletes every generation but the current one that no reader holds. A generation is
    /// moved to `trash/` while its readers' lock is held exclusively, so a reader that
    /// resolved its name a moment before finds it gone and follows `CURRENT` again.
    fn collect_garbage(&self) -> Result<()> {
        remove_dir_if_exists(&self.trash())?;
        let current = self.current_name()?;
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("read", &self.dir, e)),
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with(GENERATION_PREFIX) || Some(&name) == current.as_ref() {
                continue;
            }
            let paths = self.generation(&name);
            let Ok(lock) = File::open(paths.readers_lock()) else {
                // No readers' lock: a generation a writer never finished naming.
                let _ = self.delete_generation(&paths);
                continue;
            };
            if lock.try_lock().is_ok() {
                // Still a reader's until moved: a failure (Windows keeps open folders) just
                // leaves it for a later writer.
                let _ = self.delete_generation(&paths);
            }
        }
        remove_dir_if_exists(&self.trash())
    }

    fn delete_generation(&self, paths: &GenerationPaths) -> Result<()> {
        let trash = self.trash();
        fs::create_dir_all(&trash).map_err(|e| Error::io("create", &trash, e))?;
        let target = trash.join(paths.dir().file_name().unwrap_or_default());
        fs::rename(paths.dir(), &target).map_err(|e| Error::io("move aside", paths.dir(), e))?;
        remove_dir_if_exists(&target)
    }

    /// Makes the finished generation in `staging/` current: renames it to its generation
    /// folder, points `CURRENT` at it (temporary file, fsync, rename), removes what an index of
    /// format 1 kept in the folder itself, and deletes old generations no reader holds.
    fn publish(&self, number: u64) -> Result<()> {
        let name = Self::generation_name(number);
        let target = self.generation(&name);
        remove_dir_if_exists(target.dir())?;
        fs::rename(self.staging().dir(), target.dir())
            .map_err(|e| Error::io("move into place", target.dir(), e))?;
        let tmp = self.dir.join(format!("{CURRENT_FILE}.tmp"));
        crate::store::write_synced(&tmp, format!("{name}\n").as_bytes())?;
        let current = self.dir.join(CURRENT_FILE);
        fs::rename(&tmp, &current).map_err(|e| Error::io("rename", &current, e))?;
        sync_dir(&self.dir);
        self.remove_legacy()?;
        self.collect_garbage()
    }

    /// Removes the files of an index of format 1 once a generation replaces them: the
    /// manifest first, so no reader takes the rest for an index.
    fn remove_legacy(&self) -> Result<()> {
        let legacy = self.legacy();
        match fs::remove_file(legacy.manifest()) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("remove", legacy.manifest(), e)),
        }
        for dir in [legacy.catalog(), legacy.keyword(), legacy.vectors()] {
            remove_dir_if_exists(&dir)?;
        }
        Ok(())
    }

    /// The number the next generation gets: above the current one and above any folder a
    /// crashed writer left.
    fn next_generation(&self, base: Option<&Manifest>) -> u64 {
        let on_disk = fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_prefix(GENERATION_PREFIX)?
                    .parse::<u64>()
                    .ok()
            })
            .max()
            .unwrap_or(0);
        on_disk.max(base.map_or(0, |m| m.generation)) + 1
    }
}

/// The bytes of the files under `path`.
pub(crate) fn dir_size(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

fn remove_dir_if_exists(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", dir, e)),
    }
}

/// Makes a rename in `dir` durable (best effort: not every platform can sync a folder).
fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Copies a folder tree (regular files and folders; links are not followed).
pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    replicate_tree(from, to, false)
}

/// Gives `to` the files of `from` as hard links: for a tantivy index, whose files are never
/// written again once written (tantivy creates every file new, `create_new`, and replaces
/// `meta.json` and `.managed.json` through a rename), so the next generation's writer cannot
/// change the current one's. Lock files are left out (each index takes its own). Where the
/// file system cannot link, the files are copied.
pub(crate) fn link_tree(from: &Path, to: &Path) -> Result<()> {
    replicate_tree(from, to, true)
}

/// [`copy_tree`], or with `link` [`link_tree`].
fn replicate_tree(from: &Path, to: &Path, link: bool) -> Result<()> {
    fs::create_dir_all(to).map_err(|e| Error::io("create", to, e))?;
    for entry in fs::read_dir(from).map_err(|e| Error::io("read", from, e))? {
        let entry = entry.map_err(|e| Error::io("read", from, e))?;
        let target = to.join(entry.file_name());
        let ty = entry
            .file_type()
            .map_err(|e| Error::io("read", entry.path(), e))?;
        if ty.is_dir() {
            replicate_tree(&entry.path(), &target, link)?;
            continue;
        }
        if !ty.is_file() {
            continue;
        }
        if link {
            let lock = entry.file_name().to_string_lossy().ends_with(".lock");
            if lock || fs::hard_link(entry.path(), &target).is_ok() {
                continue;
            }
        }
        fs::copy(entry.path(), &target).map_err(|e| Error::io("copy", entry.path(), e))?;
    }
    Ok(())
}

/// The folders below `start` (two levels at most, hidden ones passed over, 5,000 entries
/// read at most, so that an error in a home folder comes at once) holding a complete index,
/// as paths from `start`, sorted: those a user in a folder of matters may have meant.
fn indexed_below(start: &Path) -> Vec<PathBuf> {
    const LEVELS: usize = 2;
    let mut budget: usize = 5_000;
    let mut found = Vec::new();
    let mut level = vec![PathBuf::new()];
    for _ in 0..LEVELS {
        let mut next = Vec::new();
        for rel in level {
            let Ok(entries) = fs::read_dir(start.join(&rel)) else {
                continue;
            };
            for entry in entries.flatten() {
                if budget == 0 {
                    break;
                }
                budget -= 1;
                let name = entry.file_name();
                let hidden = name.to_string_lossy().starts_with('.');
                if hidden || !entry.file_type().is_ok_and(|t| t.is_dir()) {
                    continue;
                }
                let child = rel.join(&name);
                if Library::at(start.join(&child).join(DEFAULT_INDEX_DIR)).exists() {
                    found.push(child.clone());
                }
                next.push(child);
            }
        }
        level = next;
    }
    found.sort();
    found
}

/// Finds the index for a search (see [`Library::find`]) and returns its folder.
pub fn find_index(start: &Path) -> Result<PathBuf> {
    Library::find(start).map(|l| l.dir)
}

/// The index a reading command means: `--index PATH` when given (the index folder itself,
/// or a folder indexed without `--index`, whose index is `PATH/.lexsearch`), else the
/// nearest `.lexsearch` from `start` up ([`Library::find`]). A path holding neither is
/// returned as given, so that opening it says why it is no index.
pub fn locate_index(given: Option<&Path>, start: &Path) -> Result<PathBuf> {
    let Some(path) = given else {
        return find_index(start);
    };
    let inner = Library::at(path.join(DEFAULT_INDEX_DIR));
    let here = Library::at(path);
    if !here.exists() && !here.unfinished() && (inner.exists() || inner.unfinished()) {
        return Ok(inner.dir);
    }
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::{ChunkRecord, DocRecord};

    fn model(fingerprint: &str) -> ModelInfo {
        ModelInfo::tiny(fingerprint, 4)
    }

    #[test]
    fn an_attachment_is_opened_from_a_private_copy_in_the_index_and_old_copies_go() {
        use crate::ingest::fixtures::{eml, lines, pdf};
        let root = tempfile::tempdir().unwrap();
        let lease = pdf(&[lines(&["Rent is due monthly."])]);
        let mail = eml(
            &[("From", "ann@firm.example"), ("Subject", "Lease")],
            "text/plain",
            "Attached.",
            &[("lease.pdf", "application/pdf", lease.clone())],
        );
        std::fs::create_dir(root.path().join("mail")).unwrap();
        std::fs::write(root.path().join("mail/thread.eml"), &mail).unwrap();
        let library = Library::at(root.path().join(".lexsearch"));
        // A file of the folder is opened where it is.
        assert_eq!(
            library
                .copy_to_open(root.path(), "mail/thread.eml")
                .unwrap(),
            root.path().join("mail/thread.eml")
        );
        let copy = library
            .copy_to_open(root.path(), "mail/thread.eml#lease.pdf")
            .unwrap();
        assert_eq!(copy.file_name().unwrap(), "lease.pdf");
        assert!(copy.starts_with(library.dir().join(OPENED)));
        assert_eq!(std::fs::read(&copy).unwrap(), lease);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&copy), 0o600);
            assert_eq!(mode(copy.parent().unwrap()), 0o700);
            assert_eq!(mode(&library.dir().join(OPENED)), 0o700);
        }
        // A Maildir's message file has no extension: its copy is named as mail.
        let maildir = root.path().join("Mail/cur");
        std::fs::create_dir_all(&maildir).unwrap();
        std::fs::write(maildir.join("1700000000.M1P2.host:2,S"), &mail).unwrap();
        let message = library
            .copy_to_open(root.path(), "Mail/cur/1700000000.M1P2.host:2,S")
            .unwrap();
        assert_eq!(message.file_name().unwrap(), "message.eml");
        assert_eq!(std::fs::read(&message).unwrap(), mail);
        // Opened again: the same copy, written anew.
        let again = library
            .copy_to_open(root.path(), "mail/thread.eml#lease.pdf")
            .unwrap();
        assert_eq!(again, copy);
        // A copy older than a day goes when the next one is taken.
        let stale = std::fs::File::open(copy.parent().unwrap()).unwrap();
        stale
            .set_modified(std::time::SystemTime::now() - OPENED_KEPT * 2)
            .unwrap();
        let e = library
            .copy_to_open(root.path(), "mail/thread.eml#deed.pdf")
            .unwrap_err()
            .to_string();
        assert!(!copy.exists());
        assert!(
            e.contains("cannot take mail/thread.eml#deed.pdf out of")
                && e.contains("holds no document named deed.pdf")
                && e.contains("`lexsearch index` reads it again"),
            "{e}"
        );
    }

    /// Adds a one-chunk document `rel` in a new generation.
    fn write(library: &Library, rel: &str) -> Committed {
        let mut txn = library
            .begin(&SettingsRequest::default(), &model("m1"), false, None)
            .unwrap();
        txn.set_root(Path::new("/docs"));
        let doc = DocRecord::test_text(rel);
        let chunk = ChunkRecord::test_first(format!("text of {rel}"), format!("hash of {rel}"));
        txn.add_document(doc, vec![(chunk, vec![0.5, 0.5, 0.5, 0.5])])
            .unwrap();
        txn.commit(&|_| {}).unwrap()
    }

    fn generations(library: &Library) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(library.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(GENERATION_PREFIX))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_reader_keeps_its_generation_while_writers_publish_newer_ones() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        assert_eq!(write(&library, "a.txt").generation, 1);
        let reader = library.snapshot().unwrap();
        assert_eq!(write(&library, "b.txt").generation, 2);
        // The reader's generation is still whole; the new one is current.
        assert_eq!(reader.manifest().documents, 1);
        assert!(reader.paths().catalog().is_dir() && reader.paths().keyword().is_dir());
        assert_eq!(library.manifest().unwrap().documents, 2);
        assert_eq!(generations(&library), ["gen-000001", "gen-000002"]);
        assert!(!library.is_current(&reader));
        assert!(library.is_current(&library.snapshot().unwrap()));
        drop(reader);
        // Once no reader holds it, the next writer deletes it.
        write(&library, "c.txt");
        assert_eq!(generations(&library), ["gen-000003"]);
        assert!(!library.trash().exists());
    }

    #[test]
    fn an_index_with_nothing_written_is_a_valid_empty_index() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        assert!(!library.exists());
        let txn = library
            .begin(&SettingsRequest::default(), &model("m1"), false, None)
            .unwrap();
        let committed = txn.commit(&|_| {}).unwrap();
        assert_eq!((committed.documents, committed.chunks), (0, 0));
        assert!(library.exists());
        let snapshot = library.snapshot().unwrap();
        let graph =
            crate::index::vector::VectorIndex::open_for_search(&snapshot.paths().vectors(), 4, 0)
                .unwrap();
        assert!(graph.search(&[0.5; 4], 10).is_empty());
        assert!(!library.staging().dir().exists());
    }

    #[test]
    fn a_dropped_transaction_leaves_its_work_for_the_next_one_to_reuse() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        write(&library, "a.txt");
        let mut txn = library
            .begin(&SettingsRequest::default(), &model("m1"), false, None)
            .unwrap();
        txn.stage(Staging::Copy, &|_| {}).unwrap();
        drop(txn);
        assert!(library.staging().dir().is_dir());
        let txn = library
            .begin(&SettingsRequest::default(), &model("m1"), false, None)
            .unwrap();
        assert!(!library.staging().dir().exists());
        assert!(
            txn.reuse_sources()
                .iter()
                .any(|s| s.origin == library.resume().catalog())
        );
        drop(txn);
        // Another model's vectors are never reused.
        let txn = library
            .begin(&SettingsRequest::default(), &model("m2"), true, None)
            .unwrap();
        assert!(txn.reuse_sources().is_empty());
    }

    #[test]
    fn an_index_of_format_1_is_read_in_place_and_converted_by_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        write(&library, "a.txt");
        // Lay the generation out as format 1 did: its files in the index folder itself.
        let generation = library.dir().join(&generations(&library)[0]);
        for part in ["manifest.json", "catalog", "keyword", "vectors"] {
            fs::rename(generation.join(part), library.dir().join(part)).unwrap();
        }
        fs::remove_dir_all(&generation).unwrap();
        fs::remove_file(library.dir().join(CURRENT_FILE)).unwrap();
        assert!(library.exists());
        assert_eq!(library.snapshot().unwrap().manifest().documents, 1);
        write(&library, "b.txt");
        assert_eq!(library.manifest().unwrap().documents, 2);
        assert!(!library.dir().join("manifest.json").exists());
        assert!(!library.dir().join("catalog").exists());
        assert_eq!(generations(&library).len(), 1);
    }

    #[test]
    fn settings_are_kept_refused_when_different_and_switched_by_a_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let custom = SettingsRequest {
            chunk_tokens: Some(64),
            chunk_overlap: None,
            context_in_embedding: Some(false),
        };
        let mut txn = library.begin(&custom, &model("m1"), false, None).unwrap();
        assert_eq!(txn.settings().chunker.target_tokens, 64);
        txn.stage(Staging::Fresh, &|_| {}).unwrap();
        txn.commit(&|_| {}).unwrap();
        let recorded = library.manifest().unwrap();
        let index = library.dir();
        let kept = SettingsRequest::default()
            .resolve(index, Some(&recorded), &model("m1"), false)
            .unwrap();
        assert_eq!(kept.chunker.target_tokens, 64);
        assert!(!kept.context_in_embedding);
        let other = SettingsRequest {
            chunk_tokens: Some(100),
            ..SettingsRequest::default()
        };
        let err = other
            .resolve(index, Some(&recorded), &model("m1"), false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("64 tokens") && err.contains("100 tokens") && err.contains("--rebuild"),
            "{err}"
        );
        let context = SettingsRequest {
            context_in_embedding: Some(true),
            ..SettingsRequest::default()
        };
        assert!(matches!(
            context.resolve(index, Some(&recorded), &model("m1"), false),
            Err(Error::SettingsMismatch { .. })
        ));
        assert!(matches!(
            SettingsRequest::default().resolve(index, Some(&recorded), &model("m2"), false),
            Err(Error::ModelMismatch { .. })
        ));
        let rebuilt = other
            .resolve(index, Some(&recorded), &model("m2"), true)
            .unwrap();
        assert_eq!(rebuilt.chunker.target_tokens, 100);
        assert!(!rebuilt.context_in_embedding, "kept unless asked");
        // The same check under the writer's lock.
        assert!(matches!(
            library.begin(&other, &model("m1"), false, None),
            Err(Error::SettingsMismatch { .. })
        ));
    }

    #[test]
    fn find_walks_up_like_git() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(DEFAULT_INDEX_DIR));
        write(&library, "a.txt");
        let deep = dir.path().join("a/b");
        fs::create_dir_all(&deep).unwrap();
        assert_eq!(Library::find(&deep).unwrap(), library);
        let other = tempfile::tempdir().unwrap();
        assert!(matches!(
            Library::find(other.path()),
            Err(Error::NoIndex { ref below, .. }) if below.is_empty()
        ));
    }

    #[test]
    fn where_no_index_is_found_the_indexed_folders_below_are_named() {
        let matters = tempfile::tempdir().unwrap();
        for folder in ["acme", "clients/beta", "clients/beta/deep/gamma"] {
            write(
                &Library::at(matters.path().join(folder).join(DEFAULT_INDEX_DIR)),
                "a.txt",
            );
        }
        let e = Library::find(matters.path()).unwrap_err();
        let Error::NoIndex { below, .. } = &e else {
            panic!("{e:?}")
        };
        // Two levels down at most.
        assert_eq!(
            below,
            &[PathBuf::from("acme"), PathBuf::from("clients/beta")]
        );
        let said = e.to_string();
        assert!(
            said.contains("these folders below it are indexed: acme, clients/beta"),
            "{said}"
        );
        let one = Library::find(&matters.path().join("clients")).unwrap_err();
        assert!(
            one.to_string()
                .contains("beta below it is indexed: search there, or pass `--index beta`"),
            "{one}"
        );
    }

    #[test]
    fn index_given_as_the_indexed_folder_means_its_dot_lexsearch() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(DEFAULT_INDEX_DIR));
        write(&library, "a.txt");
        let elsewhere = tempfile::tempdir().unwrap();
        // The index folder itself, or the folder indexed without --index.
        for given in [library.dir.clone(), dir.path().to_path_buf()] {
            assert_eq!(
                locate_index(Some(&given), elsewhere.path()).unwrap(),
                library.dir
            );
        }
        // A folder with neither is kept, so that opening it says it is no index.
        assert_eq!(
            locate_index(Some(elsewhere.path()), dir.path()).unwrap(),
            elsewhere.path()
        );
        assert!(matches!(
            Library::at(elsewhere.path()).snapshot(),
            Err(Error::NotAnIndex { .. })
        ));
        // None given: the nearest one from the start.
        assert_eq!(locate_index(None, dir.path()).unwrap(), library.dir);
    }

    #[test]
    fn a_first_index_under_way_or_stopped_is_named_as_such_where_no_complete_one_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("matter");
        let library = Library::at(sub.join(DEFAULT_INDEX_DIR));
        let txn = library
            .begin(&SettingsRequest::default(), &model("m1"), false, None)
            .unwrap();
        fs::create_dir_all(library.staging().dir()).unwrap();
        let running = Library::find(&sub).unwrap_err();
        assert!(
            matches!(&running, Error::Unfinished { writer: Some(pid), .. } if *pid == std::process::id()),
            "{running:?}"
        );
        assert!(running.to_string().contains("is building its first one"));
        drop(txn);
        let stopped = library.snapshot().unwrap_err();
        assert!(
            matches!(&stopped, Error::Unfinished { writer: None, .. }),
            "{stopped:?}"
        );
        let command = format!("`lexsearch index {}` finishes it", sub.display());
        assert!(stopped.to_string().contains(&command), "{stopped}");
        // A complete index above is the one a search there uses, as before.
        let above = Library::at(dir.path().join(DEFAULT_INDEX_DIR));
        write(&above, "a.txt");
        assert_eq!(Library::find(&sub).unwrap(), above);
    }

    #[test]
    fn maintenance_of_a_folder_without_an_index_is_refused_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("typo");
        assert!(matches!(
            Library::at(&missing).begin_maintenance(),
            Err(Error::NotAnIndex { .. })
        ));
        assert!(!missing.exists());
    }
}
