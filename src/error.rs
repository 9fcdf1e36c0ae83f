//! The library's error type.
//!
//! Every variant names the file or folder involved and, where the user can act, what to do
//! next. Per-file problems during indexing are *not* errors: they become
//! [`Skipped`](crate::ingest::Skipped) entries in the report, and the run goes on.

use std::path::PathBuf;

use crate::embed::{ModelError, RerankError};

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can stop a library operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("cannot {action} {}", .path.display())]
    Io {
        /// What was being done ("read", "create", ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The path given as the index is a file.
    #[error(
        "{} is a file, not an index folder: pass `--index` the folder of an index, or a \
         folder to create one in",
        .path.display()
    )]
    IndexIsAFile {
        /// The path given.
        path: PathBuf,
    },

    /// The index folder cannot be created or written.
    #[error(
        "cannot write the index at {}: {reason}; {}",
        .path.display(),
        writable_hint(.reason)
    )]
    IndexNotWritable {
        /// The index folder.
        path: PathBuf,
        /// Why (the operating system's words).
        reason: String,
    },

    /// The disk holding the index filled up while a run wrote the next version.
    #[error(
        "the disk holding the index at {} is full ({reason}); the index is as it was before \
         this run. A run writes the next version of the index beside the current one{} \
         before it takes its place: free that much space, or keep the index on a disk with \
         room (`--index PATH`){}",
        .index.display(),
        about_the_size(*.current_bytes),
        kept(*.kept_bytes)
    )]
    DiskFull {
        /// The index folder.
        index: PathBuf,
        /// The operating system's words.
        reason: String,
        /// What the next version writes anew, about: the current version's catalog and graph
        /// (its keyword index's files are shared; 0 for a first run).
        current_bytes: u64,
        /// What is kept of the failed run for the next one: its catalog, with the vectors
        /// it computed.
        kept_bytes: u64,
    },

    /// No index was found where one was expected.
    #[error(
        "no lexsearch index in {} or any folder above it; {}",
        .start.display(),
        indexes_below(.below)
    )]
    NoIndex {
        /// Where the search for an index started.
        start: PathBuf,
        /// Indexed folders below it (two levels at most), which the user may have meant.
        below: Vec<PathBuf>,
    },

    /// The folder given as the index (`--index PATH`) holds none.
    #[error(
        "{} holds no lexsearch index; build one there with `lexsearch index DIR --index {}`, or \
         pass --index the index folder or the folder indexed",
        .path.display(),
        .path.display()
    )]
    NotAnIndex {
        /// The folder given.
        path: PathBuf,
    },

    /// The index folder holds the start of a first index, which is not complete yet.
    #[error("{} holds no complete index yet: {}", .index.display(), unfinished(.index, .writer))]
    Unfinished {
        /// The index folder.
        index: PathBuf,
        /// The process building the first index now, if one is.
        writer: Option<u32>,
    },

    /// Tesseract has no data for a language asked for with `--ocr-lang`.
    #[error(
        "Tesseract has no language data for {} (it has: {}); install it with {}, or choose \
         other languages with --ocr-lang (or turn OCR off with --ocr never)",
        .missing.join(", "),
        if .installed.is_empty() { "none".to_string() } else { .installed.join(", ") },
        crate::ingest::ocr::install_languages_hint(.missing)
    )]
    OcrLanguage {
        /// The languages asked for that Tesseract lacks.
        missing: Vec<String>,
        /// The languages it has.
        installed: Vec<String>,
    },

    /// The folder given to `index` does not exist, is not a folder, or has a path the index
    /// cannot record (not UTF-8).
    #[error("{} {why}", .path.display())]
    NotADirectory {
        /// The path given.
        path: PathBuf,
        /// What it is instead, and what to do ("does not exist", "is a file, ...").
        why: String,
    },

    /// The index was built with another model than the one asked for.
    #[error(
        "the index at {} was built with model {built} ({built_fingerprint}), not {requested} ({requested_fingerprint}); \
         search it with `--model` pointing at {built}, or rebuild it with `lexsearch index --rebuild --model {requested} DIR`",
        .index.display()
    )]
    ModelMismatch {
        /// The index folder.
        index: PathBuf,
        /// The model that built the index.
        built: String,
        /// Fingerprint of that model.
        built_fingerprint: String,
        /// The model asked for now.
        requested: String,
        /// Its fingerprint.
        requested_fingerprint: String,
    },

    /// The index was written by an incompatible version of lexsearch, or with other settings.
    #[error("the index at {} cannot be used: {reason}; rebuild it with `lexsearch index --rebuild DIR`", .index.display())]
    IncompatibleIndex {
        /// The index folder.
        index: PathBuf,
        /// What differs.
        reason: String,
    },

    /// The index was made by an earlier version of lexsearch and lacks what a request needs.
    #[error(
        "the index at {} was made by an earlier version of lexsearch and does not hold {lacks}; \
         run `lexsearch index` on its folder once to add them (the keyword index is rebuilt \
         from the catalog: no chunk is embedded again)",
        .index.display()
    )]
    OutdatedIndex {
        /// The index folder.
        index: PathBuf,
        /// What it lacks.
        lacks: String,
    },

    /// A part of the index is damaged or missing.
    #[error("the index at {} is damaged ({what}); rebuild it with `lexsearch index --rebuild DIR`", .index.display())]
    CorruptIndex {
        /// The index folder.
        index: PathBuf,
        /// What was found wrong.
        what: String,
    },

    /// Another process is writing the index.
    #[error(
        "the index at {} is being updated by {}; wait for it to finish, or pass --wait to wait for it",
        .index.display(), holder(.pid)
    )]
    Locked {
        /// The index folder.
        index: PathBuf,
        /// The process holding the writer's lock, when it has written its pid yet.
        pid: Option<u32>,
    },

    /// A setting asked for differs from the one the index was built with.
    #[error(
        "the index at {} was built with {setting} {built}, not {requested}; run without it to keep {built}, \
         or pass --rebuild to rebuild the index with {requested}",
        .index.display()
    )]
    SettingsMismatch {
        /// The index folder.
        index: PathBuf,
        /// Which setting, with its flag.
        setting: &'static str,
        /// Its value in the index.
        built: String,
        /// The value asked for.
        requested: String,
    },

    /// The model could not be loaded or run.
    #[error(transparent)]
    Model(#[from] ModelError),

    /// The reranker could not be loaded or run.
    #[error(transparent)]
    Rerank(#[from] RerankError),

    /// The keyword index (tantivy) failed.
    #[error("keyword index at {} failed", .path.display())]
    Keyword {
        /// The keyword index folder.
        path: PathBuf,
        /// tantivy's error.
        #[source]
        source: tantivy::TantivyError,
    },

    /// The catalog (sled) failed.
    #[error("catalog at {} failed", .path.display())]
    Catalog {
        /// The catalog folder.
        path: PathBuf,
        /// sled's error.
        #[source]
        source: sled::Error,
    },

    /// The vector index (hnsw_rs) failed.
    #[error("vector index at {} failed: {message}", .path.display())]
    Vector {
        /// The vector index folder.
        path: PathBuf,
        /// hnsw_rs's message.
        message: String,
    },

    /// A document inside another file (an e-mail's attachment, a mailbox's message) could
    /// not be taken out of it.
    #[error(
        "cannot take {file} out of {}: {reason} (was it changed since it was indexed? \
         `lexsearch index` reads it again)",
        .container.display()
    )]
    InnerDocument {
        /// The document, relative to the indexed folder (`mail.eml#a.pdf`).
        file: String,
        /// The file that holds it.
        container: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// The run was cancelled; the index is as it was before it.
    #[error("cancelled; the index is unchanged, and the next run reuses the work done so far")]
    Cancelled,

    /// A search was asked for with no words.
    #[error("empty query: give the words or the question to search for")]
    EmptyQuery,

    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    InvalidSetting(String),

    /// A query that cannot be searched as written: what is wrong with it and how to write it
    /// (`-rent` alone, `r*nt`, `sent:3/5/2020`, a `like:` place the index lacks).
    #[error("{0}")]
    InvalidQuery(String),

    /// A remote index (`--backend milvus://...`) failed or refused a request.
    #[error(
        "{server}: {action} failed: {cause}; check that the server is running and reachable \
         (and the token, if it asks for one), then run the command again: an interrupted \
         index run resumes where the last complete one ended"
    )]
    Remote {
        /// The backend, as `milvus://HOST:PORT/COLLECTION`.
        server: String,
        /// What was asked ("upserting 256 chunks", "searching", ...).
        action: String,
        /// The server's or the connection's error.
        cause: String,
    },
}

/// "process N", or "another process" while the writer has not written its pid yet.
fn holder(pid: &Option<u32>) -> String {
    pid.map_or_else(|| "another process".to_string(), |p| format!("process {p}"))
}

/// What is under way in an index folder without a complete index, and what to do.
/// What to do where no index was found: search one of the indexed folders below, or build one.
fn indexes_below(below: &[PathBuf]) -> String {
    const NAMED: usize = 5;
    match below {
        [] => "build one with `lexsearch index DIR`, or pass `--index PATH`".into(),
        [only] => format!(
            "{} below it is indexed: search there, or pass `--index {}`",
            only.display(),
            only.display()
        ),
        many => format!(
            "these folders below it are indexed: {}{}; search in one, or pass `--index FOLDER`",
            many.iter()
                .take(NAMED)
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if many.len() > NAMED {
                format!(" and {} more", many.len() - NAMED)
            } else {
                String::new()
            }
        ),
    }
}

fn unfinished(index: &std::path::Path, writer: &Option<u32>) -> String {
    if let Some(pid) = writer {
        return format!(
            "process {pid} is building its first one; search once that run has finished"
        );
    }
    let command = match index.parent() {
        Some(folder) if index.ends_with(crate::library::DEFAULT_INDEX_DIR) => {
            format!("lexsearch index {}", folder.display())
        }
        _ => format!("lexsearch index DIR --index {}", index.display()),
    };
    format!(
        "its first run stopped before it finished; `{command}` finishes it, reusing the \
         vectors that run computed"
    )
}

/// What to do about an index folder that cannot be written: make room on a full disk, else
/// choose a writable folder.
fn writable_hint(reason: &str) -> &'static str {
    if reason.contains("os error 28") || reason.contains("No space left on device") {
        "free some space on its disk, or pass `--index PATH` to keep the index on another"
    } else {
        "pass `--index PATH` to keep the index in a writable folder"
    }
}

/// " (about 12.3 MB, the size of the current one's catalog and graph)", or nothing before a
/// first version.
fn about_the_size(bytes: u64) -> String {
    if bytes == 0 {
        return String::new();
    }
    format!(
        " (about {:.1} MB, the size of the current one's catalog and graph)",
        bytes as f64 / 1e6
    )
}

/// ". Its catalog, with the vectors it computed, is kept for the next run (1.9 MB)", or
/// nothing.
fn kept(bytes: u64) -> String {
    if bytes == 0 {
        return String::new();
    }
    format!(
        ". Its catalog, with the vectors it computed, is kept for the next run ({:.1} MB)",
        bytes as f64 / 1e6
    )
}

/// The operating system's words when `err`, or an error under it, says the disk is full.
///
/// tantivy and sled keep the I/O error inside variants that do not all name it as their
/// source (some only in their message), so the messages are read too.
pub(crate) fn disk_full_reason(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut at = Some(err);
    while let Some(e) = at {
        let io = e
            .downcast_ref::<std::io::Error>()
            .or_else(|| match e.downcast_ref::<tantivy::TantivyError>() {
                Some(tantivy::TantivyError::IoError(io)) => Some(io.as_ref()),
                _ => None,
            })
            .or_else(|| match e.downcast_ref::<sled::Error>() {
                Some(sled::Error::Io(io)) => Some(io),
                _ => None,
            });
        if let Some(io) = io
            && (io.kind() == std::io::ErrorKind::StorageFull || io.raw_os_error() == Some(28))
        {
            return Some(io.to_string());
        }
        let text = e.to_string();
        if text.contains("os error 28")
            || text.contains("StorageFull")
            || text.contains("No space left on device")
        {
            return Some("No space left on device".to_string());
        }
        at = e.source();
    }
    None
}

/// An error and its sources, as one line: `keyword index at X failed: ...: the cause`.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

impl Error {
    /// Wraps an I/O error with the action and path it concerns.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_recognised_under_the_errors_of_the_crates_that_wrap_it() {
        let full = std::io::Error::from_raw_os_error(28);
        let reason = disk_full_reason(&Error::io("write", "/i/x", full)).unwrap();
        assert!(reason.contains("os error 28"), "{reason}");
        // tantivy names the I/O error only in its message, with Debug.
        let tantivy = tantivy::TantivyError::InternalError(
            "IoError 'Os { code: 28, kind: StorageFull, message: \"No space left on device\" }'"
                .into(),
        );
        assert!(disk_full_reason(&tantivy).is_some());
        let not_writable = Error::IndexNotWritable {
            path: "/i".into(),
            reason: "No space left on device (os error 28)".into(),
        };
        assert!(disk_full_reason(&not_writable).is_some());
        assert!(
            not_writable.to_string().ends_with(
                "free some space on its disk, or pass `--index PATH` to keep the index on another"
            ),
            "{not_writable}"
        );
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(disk_full_reason(&Error::io("write", "/i/x", denied)).is_none());
    }
}
