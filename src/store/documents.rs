//! The documents of a generation as a plain file (`documents`): what a run compares the
//! folder with, read without opening the catalog (sled writes into a database it opens, so
//! a published catalog is only read from a copy; a run that finds nothing changed then
//! copies nothing).
//!
//! Written whole at commit from the staged catalog's document records: the magic bytes, the
//! records as JSON (`[[id, record], ...]`, in id order), then blake3 of all that; synced
//! before the manifest is written, so a power cut after a commit does not leave it cut short
//! (and a damaged one is told by its checksum). A generation without a file that reads (an
//! earlier version's, or damaged) has its documents read from a copy of the catalog, and the
//! next generation written has the file.

use std::path::Path;

use super::DocRecord;
use crate::ids::DocId;
use crate::{Error, Result};

/// File name in a generation's folder.
pub const DOCUMENTS_FILE: &str = "documents";

const MAGIC: &[u8; 8] = b"LXDR0001";
const SUM: usize = 32;

/// Reads the file at `path`; `None` when there is none (a generation of an earlier version).
pub fn read_documents(path: &Path) -> Result<Option<Vec<(DocId, DocRecord)>>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let damaged = |what: String| Error::CorruptIndex {
        index: path.to_path_buf(),
        what: format!("{what}; `lexsearch verify --repair` writes it again from the catalog"),
    };
    let body = bytes
        .strip_prefix(MAGIC)
        .ok_or_else(|| damaged("not a file of documents".into()))?;
    if body.len() < SUM {
        return Err(damaged("it is cut short".into()));
    }
    let (body, sum) = body.split_at(body.len() - SUM);
    if blake3::hash(&bytes[..MAGIC.len() + body.len()]).as_bytes() != sum {
        return Err(damaged("its checksum does not match its records".into()));
    }
    let records: Vec<(DocId, DocRecord)> = serde_json::from_slice(body)
        .map_err(|e| damaged(format!("a record does not read: {e}")))?;
    Ok(Some(records))
}

/// Writes `documents` to `path`, checksummed, and syncs it.
pub fn write_documents(path: &Path, documents: &[(DocId, DocRecord)]) -> Result<()> {
    let mut bytes = MAGIC.to_vec();
    serde_json::to_writer(&mut bytes, documents).map_err(|e| Error::CorruptIndex {
        index: path.to_path_buf(),
        what: format!("a document record does not write: {e}"),
    })?;
    let sum = blake3::hash(&bytes);
    bytes.extend_from_slice(sum.as_bytes());
    super::write_synced(path, &bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ids::ChunkId;

    #[test]
    fn the_file_round_trips_and_a_damaged_or_missing_one_is_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DOCUMENTS_FILE);
        assert_eq!(read_documents(&path).unwrap(), None);
        let docs = vec![
            (
                DocId(0),
                DocRecord {
                    chunks: vec![ChunkId(0), ChunkId(1)],
                    ..DocRecord::test_text("a.txt")
                },
            ),
            (DocId(7), DocRecord::test_text("b/ç.md")),
        ];
        write_documents(&path, &docs).unwrap();
        assert_eq!(read_documents(&path).unwrap(), Some(docs.clone()));
        write_documents(&path, &[]).unwrap();
        assert_eq!(read_documents(&path).unwrap(), Some(Vec::new()));
        write_documents(&path, &docs).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 5);
        std::fs::write(&path, &bytes).unwrap();
        let err = read_documents(&path).unwrap_err().to_string();
        assert!(
            err.contains("checksum") && err.contains("verify --repair"),
            "{err}"
        );
        std::fs::write(&path, &bytes[..MAGIC.len() + 3]).unwrap();
        assert!(
            read_documents(&path)
                .unwrap_err()
                .to_string()
                .contains("cut short")
        );
        std::fs::write(&path, b"something else").unwrap();
        assert!(read_documents(&path).is_err());
    }
}
