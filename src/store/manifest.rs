//! The index manifest: what built the index, so that it is never queried or extended with
//! another model or other chunking settings by mistake.

use std::fs;
use std::path::{Path, PathBuf};

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
    /// Tesseract's language(s) for OCR, as last asked for with `--ocr-lang` (later runs keep
    /// them); `None`: never asked for, so the default (`eng`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_lang: Option<String>,
}

impl Manifest {
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
