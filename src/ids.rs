//! Identifiers shared by every store.
//!
//! A [`ChunkId`] is the one key the catalog (sled), the keyword index (tantivy) and the vector
//! index (hnsw_rs) agree on, so fusion always merges like with like.

use serde::{Deserialize, Serialize};

/// A document (one source file) in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DocId(pub u64);

/// A chunk of a document: the unit that is embedded, indexed and returned as a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ChunkId(pub u64);

macro_rules! key_bytes {
    ($t:ty) => {
        impl $t {
            /// Big-endian bytes: sled keys sort in id order.
            pub fn to_key(self) -> [u8; 8] {
                self.0.to_be_bytes()
            }

            /// Parses a key written by `to_key`; `None` when it is not 8 bytes long.
            pub fn from_key(key: &[u8]) -> Option<Self> {
                Some(Self(u64::from_be_bytes(key.try_into().ok()?)))
            }
        }
    };
}
key_bytes!(DocId);
key_bytes!(ChunkId);

/// A set of chunks, sorted by id: the chunks a search may return when it is narrowed to some
/// documents. Cheap to clone and to share between threads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkSet(std::sync::Arc<[u64]>);

impl ChunkSet {
    /// The set of `ids` (any order; duplicates are dropped).
    pub fn new(ids: impl IntoIterator<Item = ChunkId>) -> Self {
        let mut ids: Vec<u64> = ids.into_iter().map(|c| c.0).collect();
        ids.sort_unstable();
        ids.dedup();
        ChunkSet(ids.into())
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: u64) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    /// The ids, ascending.
    pub fn ids(&self) -> &[u64] {
        &self.0
    }

    /// Number of chunks.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set holds no chunk.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The chunks in both sets.
    pub fn intersect(&self, other: &ChunkSet) -> ChunkSet {
        let (small, large) = if self.len() <= other.len() {
            (self, other)
        } else {
            (other, self)
        };
        let ids: Vec<u64> = small
            .ids()
            .iter()
            .copied()
            .filter(|&id| large.contains(id))
            .collect();
        ChunkSet(ids.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_sort_in_id_order() {
        let a = ChunkId(5);
        let b = ChunkId(300);
        assert_eq!(ChunkId::from_key(&a.to_key()), Some(a));
        assert!(a.to_key() < b.to_key());
        assert_eq!(DocId::from_key(&[1, 2, 3]), None);
    }

    #[test]
    fn a_chunk_set_sorts_drops_duplicates_and_answers_membership() {
        let set = ChunkSet::new([ChunkId(9), ChunkId(2), ChunkId(9), ChunkId(5)]);
        assert_eq!(set.ids(), &[2, 5, 9]);
        assert!(set.contains(5) && !set.contains(4));
        assert!(ChunkSet::default().is_empty());
        let other = ChunkSet::new([ChunkId(5), ChunkId(7), ChunkId(9)]);
        assert_eq!(set.intersect(&other).ids(), &[5, 9]);
        assert_eq!(other.intersect(&set).ids(), &[5, 9]);
        assert!(set.intersect(&ChunkSet::default()).is_empty());
    }
}
