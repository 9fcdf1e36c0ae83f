//! The index manifest: what built the index, so that it is never queried or extended with
//! another model or other chunking settings by mistake.

use std::fs;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::embed::ModelInfo;
use crate::ingest::chunk::ChunkerConfig;
use crate::{Error, Result};

/// Version of the on-disk format (docs/index-format.md). Bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

/// File name of the manifest inside the index folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Everything needed to interpret an index. Written last, atomically, when an index is built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// On-disk format version.
    pub format_version: u32,
    /// lexsearch version that wrote the index.
    pub lexsearch_version: String,
    /// The indexed folder (absolute).
    pub root: PathBuf,
    /// The model that embedded every chunk.
    pub model: ModelInfo,
    /// Chunker settings used.
    pub chunker: ChunkerConfig,
    /// Whether embedded texts carry the document title and breadcrumb.
    pub context_in_embedding: bool,
    /// Number of documents.
    pub documents: u64,
    /// Number of chunks.
    pub chunks: u64,
    /// The next document id to hand out (ids are never reused).
    pub next_doc_id: u64,
    /// The next chunk id to hand out (ids are never reused: the graph keeps tombstones).
    pub next_chunk_id: u64,
    /// Incremented by every run that changes the index.
    pub generation: u64,
    /// When the index was last written, seconds since the Unix epoch.
    pub updated_unix: u64,
    /// The nanoseconds of that second (absent in indexes written before it was kept), so
    /// that a search can tell a file modified after the index from one read by it
    /// ([`modified_after`](Self::modified_after)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_subsec_ns: Option<u32>,
    /// Tesseract's language(s) for OCR, as last asked for with `--ocr-lang` (later runs keep
    /// them); `None`: never asked for, so the default (`eng`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_lang: Option<String>,
    /// Whether symbolic links that lead out of the indexed folder are followed, as last asked
    /// for with `--follow-links` (later runs keep it); `None`: never asked for, so not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_links: Option<bool>,
    /// Where the indexed folder lies seen from the index folder (`..` for the default
    /// `DIR/.lexsearch`), recorded when the index lies inside the folder it indexes: such an
    /// index travels with its folder (moved, copied to another machine, shared on a drive
    /// mounted elsewhere), and readers take the folder from where the index is now
    /// ([`locate_root`](Self::locate_root)). Absent for an index kept outside its folder,
    /// which names the folder by `root` alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_from_index: Option<PathBuf>,
    /// Files of the folder the index holds no document of because they could not be read
    /// (or held no text), sorted by path. A later run does not read one again while it is
    /// unchanged and would be read the same way, so that such a file does not make every run
    /// write a new version of the index; `status` lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<UnreadableFile>,
}

/// A file that a run could not read, or that held no text ([`Manifest::unreadable`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadableFile {
    /// The file, relative to the indexed folder.
    pub file: PathBuf,
    /// Its size when it was read, in bytes.
    pub size: u64,
    /// Its modification time when it was read, in nanoseconds since the Unix epoch.
    pub mtime_ns: u64,
    /// Why it was not indexed, as the run said it ("no text" for a file without any).
    pub reason: String,
    /// How the run read it (lexsearch version, reader revision, size limit, OCR): a run
    /// that would read it differently reads it again.
    pub read_with: String,
}

impl Manifest {
    /// Whether a file modified at `mtime` was modified after the index was last written
    /// (for an index that did not keep the nanoseconds, in a later second).
    pub fn modified_after(&self, mtime: std::time::SystemTime) -> bool {
        let Ok(t) = mtime.duration_since(std::time::UNIX_EPOCH) else {
            return false;
        };
        let written = (
            self.updated_unix,
            self.updated_subsec_ns.unwrap_or(999_999_999),
        );
        (t.as_secs(), t.subsec_nanos()) > written
    }

    /// [`root_from_index`](Self::root_from_index) for an index kept in the folder `index`
    /// (which exists) of the absolute folder `root`: as many `..` as `index` lies below
    /// `root`, or `None` when it does not lie inside it.
    pub fn root_seen_from(index: &Path, root: &Path) -> Option<PathBuf> {
        if !root.is_absolute() {
            return None;
        }
        let index = fs::canonicalize(index).ok()?;
        let below = index.strip_prefix(root).ok()?.components().count();
        (below > 0).then(|| std::iter::repeat_n(Component::ParentDir, below).collect())
    }

    /// Sets `root` to the folder [`root_from_index`](Self::root_from_index) names, seen
    /// from the index folder `index` where it is now; `root` stays as recorded when there is
    /// none (an index outside its folder), it is not only `..` steps, or `index` cannot be
    /// resolved.
    pub fn locate_root(&mut self, index: &Path) {
        let Some(rel) = &self.root_from_index else {
            return;
        };
        let mut steps = 0;
        for c in rel.components() {
            if c != Component::ParentDir {
                return;
            }
            steps += 1;
        }
        if let Some(root) = fs::canonicalize(index)
            .ok()
            .and_then(|i| i.ancestors().nth(steps).map(Path::to_path_buf))
        {
            self.root = root;
        }
    }

    /// Reads the manifest of the index at `index`.
    pub fn read(index: &Path) -> Result<Manifest> {
        let path = index.join(MANIFEST_FILE);
        let text = fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
        let m: Manifest = serde_json::from_str(&text).map_err(|e| Error::CorruptIndex {
            index: index.to_path_buf(),
            what: format!("{MANIFEST_FILE} is not readable: {e}"),
        })?;
        if m.format_version != FORMAT_VERSION {
            return Err(Error::IncompatibleIndex {
                index: index.to_path_buf(),
                reason: format!(
                    "it has format version {}, this lexsearch reads version {FORMAT_VERSION}",
                    m.format_version
                ),
            });
        }
        Ok(m)
    }

    /// Writes the manifest atomically (temporary file, fsync, rename).
    pub fn write(&self, index: &Path) -> Result<()> {
        let path = index.join(MANIFEST_FILE);
        let tmp = index.join(format!("{MANIFEST_FILE}.tmp"));
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::CorruptIndex {
            index: index.to_path_buf(),
            what: format!("cannot serialise the manifest: {e}"),
        })?;
        write_synced(&tmp, text.as_bytes())?;
        fs::rename(&tmp, &path).map_err(|e| Error::io("rename", &path, e))
    }

    /// Refuses a model other than the one that built the index, naming both.
    pub fn check_model(&self, index: &Path, model: &ModelInfo) -> Result<()> {
        if self.model.fingerprint == model.fingerprint {
            return Ok(());
        }
        // The same model computed in another precision (int8 against f32), or by another
        // int8 scheme: say so.
        let (built, built_model) = crate::embed::split_fingerprint(&self.model.fingerprint);
        let (asked, asked_model) = crate::embed::split_fingerprint(&model.fingerprint);
        if built_model == asked_model {
            let name = |scheme: Option<&str>| if scheme.is_some() { "int8" } else { "f32" };
            let reason = match (built, asked) {
                (Some(built), Some(asked)) => format!(
                    "its int8 vectors were computed by int8 scheme {built}, and this lexsearch \
                     computes scheme {asked}, whose vectors differ (they are not mixed)"
                ),
                _ => format!(
                    "its vectors were computed with --precision {built} and this run computes \
                     {asked} (vectors of two precisions are not mixed); pass --precision {built} \
                     to use it as it is",
                    built = name(built),
                    asked = name(asked),
                ),
            };
            return Err(Error::IncompatibleIndex {
                index: index.to_path_buf(),
                reason,
            });
        }
        Err(Error::ModelMismatch {
            index: index.to_path_buf(),
            built: self.model.dir.display().to_string(),
            built_fingerprint: self.model.short_fingerprint().to_string(),
            requested: model.dir.display().to_string(),
            requested_fingerprint: model.short_fingerprint().to_string(),
        })
    }
}

/// Writes `bytes` to `path` and syncs them to disk.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = fs::File::create(path).map_err(|e| Error::io("create", path, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io("write", path, e))
}

/// File name of the manifest inside an index folder.
pub fn manifest_file() -> &'static str {
    MANIFEST_FILE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest_with(root: &Path, root_from_index: Option<PathBuf>) -> Manifest {
        Manifest {
            format_version: FORMAT_VERSION,
            lexsearch_version: String::new(),
            root: root.to_path_buf(),
            model: ModelInfo::tiny("m1", 16),
            chunker: ChunkerConfig::default(),
            context_in_embedding: true,
            documents: 0,
            chunks: 0,
            next_doc_id: 0,
            next_chunk_id: 0,
            generation: 1,
            updated_unix: 0,
            updated_subsec_ns: None,
            ocr_lang: None,
            follow_links: None,
            root_from_index,
            unreadable: Vec::new(),
        }
    }

    #[test]
    fn a_file_is_modified_after_the_index_only_past_the_instant_it_was_written() {
        use std::time::{Duration, UNIX_EPOCH};
        let mut m = manifest_with(Path::new("/docs"), None);
        m.updated_unix = 1_000;
        m.updated_subsec_ns = Some(500_000_000);
        let at = |s, ns| UNIX_EPOCH + Duration::new(s, ns);
        assert!(!m.modified_after(at(999, 0)));
        assert!(!m.modified_after(at(1_000, 500_000_000)));
        assert!(m.modified_after(at(1_000, 500_000_001)));
        // An index that kept only seconds: a file of that second may have been read by it.
        m.updated_subsec_ns = None;
        assert!(!m.modified_after(at(1_000, 999_999_999)));
        assert!(m.modified_after(at(1_001, 0)));
        assert!(!m.modified_after(UNIX_EPOCH - Duration::from_secs(1)));
    }

    #[test]
    fn an_index_inside_its_folder_finds_the_folder_where_it_is_now() {
        let tmp = tempfile::tempdir().unwrap();
        let old = fs::canonicalize(tmp.path()).unwrap().join("matters");
        let index = old.join("acme/.lexsearch");
        fs::create_dir_all(&index).unwrap();
        let seen = Manifest::root_seen_from(&index, &old).unwrap();
        assert_eq!(seen, Path::new("../.."));
        let mut m = manifest_with(&old, Some(seen));
        let moved = old.with_file_name("archive");
        fs::rename(&old, &moved).unwrap();
        m.locate_root(&moved.join("acme/.lexsearch"));
        assert_eq!(m.root, moved);
    }

    #[test]
    fn an_index_outside_its_folder_keeps_the_recorded_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let base = fs::canonicalize(tmp.path()).unwrap();
        let (docs, index) = (base.join("docs"), base.join("index"));
        fs::create_dir_all(&docs).unwrap();
        fs::create_dir_all(&index).unwrap();
        assert_eq!(Manifest::root_seen_from(&index, &docs), None);
        assert_eq!(Manifest::root_seen_from(&index, Path::new("")), None);
        // A recorded value that is not only `..` steps is not followed.
        let mut m = manifest_with(&docs, Some(PathBuf::from("../elsewhere")));
        m.locate_root(&index);
        assert_eq!(m.root, docs);
        let mut m = manifest_with(&docs, None);
        m.locate_root(&index);
        assert_eq!(m.root, docs);
    }
}
