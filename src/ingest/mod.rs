//! Ingest: from a folder on disk to chunks ready to embed.
//!
//! [`walk`] lists the files to index, [`extract`] turns each into text (with a module per
//! format: [`pdf`], [`docx`], [`doc`], [`odt`], [`rtf`], [`wpd`], [`sheet`], [`slides`] (and
//! [`ppt`]), [`mail`], [`msg`], [`pst`], [`calendar`]; the parsers run under [`isolate`], the programs it
//! starts ([`ocr`], [`pst`]) under [`program`]; the two Word readers share their paragraph
//! rules in `word`), and [`chunk`] splits that text along its legal structure. Nothing here
//! knows about models or stores.
//!
//! [`types`] holds what the formats share (the [`Extractor`](types::Extractor) trait, its
//! output and errors): each format imports it, never [`extract`], which imports the formats.

pub mod calendar;
pub mod chunk;
pub mod columns;
pub mod doc;
pub mod docx;
pub mod extract;
pub mod isolate;
pub mod mail;
pub mod msg;
pub mod numfmt;
pub mod ocr;
pub mod odt;
mod package;
pub mod pdf;
pub mod ppt;
pub mod program;
pub mod pst;
pub mod rtf;
pub mod segment;
pub mod sheet;
pub mod slides;
pub mod types;
pub mod walk;
mod word;
pub mod wpd;
mod wpd_charsets;

/// PDF and DOCX files built in code, shared with the integration tests.
#[cfg(test)]
#[path = "../../tests/common/fixtures.rs"]
pub(crate) mod fixtures;

use std::path::PathBuf;

use serde::Serialize;

/// A file that was not indexed, and why. Collected in the index report; never fatal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The file (or folder) concerned (in JSON, a name that is not UTF-8 has U+FFFD in place
    /// of its bad bytes: such a file is skipped for that reason).
    #[serde(serialize_with = "lossy_path")]
    pub path: PathBuf,
    /// A one-line reason a person can act on.
    pub reason: String,
}

/// Serialises a path as text, any bytes that are not UTF-8 replaced by U+FFFD.
fn lossy_path<S: serde::Serializer>(path: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&path.to_string_lossy())
}

/// The files that may contain the document at `rel`: for an attachment path
/// `mail.eml#a.pdf` (or `mail.eml#inner.eml#a.pdf`, `inbox.mbox#0003.eml#a.pdf`,
/// `archive.pst#0003.eml#a.pdf`) each e-mail, mailbox or Outlook data file before a `#`,
/// innermost last; nothing for a path without a `#` after an e-mail's name.
pub fn containers_of(rel: &std::path::Path) -> impl Iterator<Item = PathBuf> + '_ {
    let s = rel.to_str().unwrap_or("");
    s.match_indices('#').filter_map(move |(i, _)| {
        let parent = std::path::Path::new(&s[..i]);
        matches!(
            walk::FileKind::from_path(parent),
            Some(
                walk::FileKind::Eml
                    | walk::FileKind::Msg
                    | walk::FileKind::Mbox
                    | walk::FileKind::Pst
            )
        )
        .then(|| parent.to_path_buf())
    })
}

/// The settings of the fuzz tests beside each format: `PROPTEST_CASES` cases (256 by
/// default), and no failure files written into the tree.
#[cfg(test)]
pub(crate) fn fuzz_config() -> proptest::prelude::ProptestConfig {
    proptest::prelude::ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(256),
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    }
}
