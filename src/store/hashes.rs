//! The chunks of a generation by the hash of the text they embedded (`embedded-hashes`): how a
//! run that reads a changed file finds the vectors of its unchanged chunks without reading
//! every chunk record of the catalog.
//!
//! One file per generation, written whole at commit by merging the current generation's with
//! the run's additions and removals (tens of milliseconds at a million chunks): sorted
//! entries of a 16-byte key (the first bytes of blake3 over the chunk's `embedded_hash`) and
//! the chunk's id, then blake3 of all that. A generation written before the file existed has
//! none: the next run builds it from the catalog's chunk records. The file is not synced: a
//! crash may leave it cut short or empty, which its checksum tells, and a file that does not
//! read is built again from the catalog, as a missing one.

use std::collections::HashSet;
use std::path::Path;

use crate::ids::ChunkId;
use crate::{Error, Result};

/// File name in a generation's folder.
pub const HASHES_FILE: &str = "embedded-hashes";

const MAGIC: &[u8; 8] = b"LXEH0001";
const KEY: usize = 16;
const ENTRY: usize = KEY + 8;
const SUM: usize = 32;

/// The key of an embedded-text hash.
type Key = [u8; KEY];

fn key(embedded_hash: &str) -> Key {
    let digest = blake3::hash(embedded_hash.as_bytes());
    let mut key = [0; KEY];
    key.copy_from_slice(&digest.as_bytes()[..KEY]);
    key
}

/// An embedded-text hash as the file keeps it (16 bytes, where the hash is a 64-character
/// string): what a run remembers of each chunk it adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashKey(Key);

impl HashKey {
    /// The key of `embedded_hash`.
    pub fn of(embedded_hash: &str) -> Self {
        HashKey(key(embedded_hash))
    }
}

/// Chunks by embedded-text hash, sorted for binary search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmbeddedHashes {
    entries: Vec<(Key, u64)>,
}

impl EmbeddedHashes {
    /// From each chunk's embedded-text hash and id (a catalog's
    /// [`chunk_hashes`](crate::store::Catalog::chunk_hashes)).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, ChunkId)>) -> Self {
        let mut entries: Vec<(Key, u64)> = pairs
            .into_iter()
            .map(|(hash, id)| (key(&hash), id.0))
            .collect();
        entries.sort_unstable();
        EmbeddedHashes { entries }
    }

    /// Reads the file at `path`; `None` when there is none (a generation of an earlier
    /// version).
    pub fn read(path: &Path) -> Result<Option<Self>> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", path, e)),
        };
        let damaged = |what: &str| Error::CorruptIndex {
            index: path.to_path_buf(),
            what: format!("{what}; `lexsearch verify --repair` writes it again from the catalog"),
        };
        let body = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| damaged("not a file of embedded-text hashes"))?;
        if body.len() < SUM || !(body.len() - SUM).is_multiple_of(ENTRY) {
            return Err(damaged("its size is not a whole number of entries"));
        }
        let (body, sum) = body.split_at(body.len() - SUM);
        if blake3::hash(&bytes[..MAGIC.len() + body.len()]).as_bytes() != sum {
            return Err(damaged("its checksum does not match its entries"));
        }
        let entries: Vec<(Key, u64)> = body
            .chunks_exact(ENTRY)
            .map(|e| {
                let mut k = [0; KEY];
                k.copy_from_slice(&e[..KEY]);
                let mut id = [0; 8];
                id.copy_from_slice(&e[KEY..]);
                (k, u64::from_le_bytes(id))
            })
            .collect();
        if !entries.is_sorted() {
            return Err(damaged("its entries are out of order"));
        }
        Ok(Some(EmbeddedHashes { entries }))
    }

    /// Writes it to `path`, checksummed.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut bytes = Vec::with_capacity(MAGIC.len() + self.entries.len() * ENTRY + SUM);
        bytes.extend_from_slice(MAGIC);
        for (k, id) in &self.entries {
            bytes.extend_from_slice(k);
            bytes.extend_from_slice(&id.to_le_bytes());
        }
        let sum = blake3::hash(&bytes);
        bytes.extend_from_slice(sum.as_bytes());
        std::fs::write(path, &bytes).map_err(|e| Error::io("write", path, e))
    }

    /// This one plus `added` (each chunk's embedded-text hash and id), less the chunks
    /// `removed`: the next generation's.
    pub fn updated(&self, removed: &HashSet<ChunkId>, added: &[(HashKey, ChunkId)]) -> Self {
        let live = |id: &u64| !removed.contains(&ChunkId(*id));
        let mut new: Vec<(Key, u64)> = added
            .iter()
            .map(|(k, id)| (k.0, id.0))
            .filter(|(_, id)| live(id))
            .collect();
        new.sort_unstable();
        let kept = self.entries.iter().filter(|(_, id)| live(id));
        // Two sorted runs merged.
        let mut entries = Vec::with_capacity(self.entries.len() + new.len());
        let mut new = new.into_iter().peekable();
        for old in kept {
            while let Some(n) = new.next_if(|n| n < old) {
                entries.push(n);
            }
            entries.push(*old);
        }
        entries.extend(new);
        EmbeddedHashes { entries }
    }

    /// A chunk whose embedded text has this hash (the lowest id of several).
    pub fn chunk(&self, embedded_hash: &str) -> Option<ChunkId> {
        let k = key(embedded_hash);
        let at = self.entries.partition_point(|(e, _)| *e < k);
        self.entries
            .get(at)
            .filter(|(e, _)| *e == k)
            .map(|(_, id)| ChunkId(*id))
    }

    /// Number of entries (one per chunk).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pairs(list: &[(&str, u64)]) -> Vec<(String, ChunkId)> {
        list.iter()
            .map(|(h, id)| (h.to_string(), ChunkId(*id)))
            .collect()
    }

    fn keys(list: &[(&str, u64)]) -> Vec<(HashKey, ChunkId)> {
        list.iter()
            .map(|(h, id)| (HashKey::of(h), ChunkId(*id)))
            .collect()
    }

    #[test]
    fn chunks_are_found_by_hash_and_an_update_equals_a_build_of_the_result() {
        let all = EmbeddedHashes::from_pairs(pairs(&[("a", 1), ("b", 2), ("a", 3), ("c", 4)]));
        assert_eq!(all.chunk("a"), Some(ChunkId(1)));
        assert_eq!(all.chunk("c"), Some(ChunkId(4)));
        assert_eq!(all.chunk("d"), None);
        // A text held twice: removing one chunk leaves the other found.
        // Chunk 8 is added and removed in the same run.
        let removed: HashSet<ChunkId> = [ChunkId(1), ChunkId(4), ChunkId(8)].into();
        let next = all.updated(&removed, &keys(&[("d", 5), ("b", 6), ("e", 7), ("f", 8)]));
        assert_eq!(next.chunk("a"), Some(ChunkId(3)));
        assert_eq!(next.chunk("b"), Some(ChunkId(2)));
        assert_eq!((next.chunk("c"), next.chunk("d")), (None, Some(ChunkId(5))));
        let built =
            EmbeddedHashes::from_pairs(pairs(&[("b", 2), ("a", 3), ("d", 5), ("b", 6), ("e", 7)]));
        assert_eq!(next, built);
        assert_eq!(next.len(), 5);
    }

    #[test]
    fn the_file_round_trips_and_a_damaged_or_missing_one_is_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(HASHES_FILE);
        assert_eq!(EmbeddedHashes::read(&path).unwrap(), None);
        let hashes = EmbeddedHashes::from_pairs(pairs(&[("x", 9), ("y", 10)]));
        hashes.write(&path).unwrap();
        assert_eq!(EmbeddedHashes::read(&path).unwrap(), Some(hashes));
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.pop();
        std::fs::write(&path, &bytes).unwrap();
        let err = EmbeddedHashes::read(&path).unwrap_err().to_string();
        assert!(err.contains("verify --repair"), "{err}");
        // Whole entries, but not what was written (a crash leaving zeros).
        bytes.push(0);
        bytes[MAGIC.len()] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let err = EmbeddedHashes::read(&path).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
        std::fs::write(&path, b"something else").unwrap();
        assert!(EmbeddedHashes::read(&path).is_err());
    }
}
