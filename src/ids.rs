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
}
