//! Ingest: from a folder on disk to chunks ready to embed.
//!
//! [`walk`] lists the files to index, [`extract`] turns each into text, and [`chunk`] splits
//! that text along its legal structure. Nothing here knows about models or stores.

pub mod chunk;
pub mod extract;
pub mod walk;

use std::path::PathBuf;

use serde::Serialize;

/// A file that was not indexed, and why. Collected in the index report; never fatal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The file (or folder) concerned.
    pub path: PathBuf,
    /// A one-line reason a person can act on.
    pub reason: String,
}
