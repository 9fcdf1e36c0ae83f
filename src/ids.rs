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

    /// The chunks of either set.
    pub fn union(&self, other: &ChunkSet) -> ChunkSet {
        ChunkSet::new(self.ids().iter().chain(other.ids()).map(|&id| ChunkId(id)))
    }

    /// The chunks of this set that are not in `other`.
    pub fn minus(&self, other: &ChunkSet) -> ChunkSet {
        let ids: Vec<u64> = self
            .ids()
            .iter()
            .copied()
            .filter(|&id| !other.contains(id))
            .collect();
        ChunkSet(ids.into())
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

/// Which chunks a search may return: those of a list (every chunk when there is none), less
/// those of another. A search narrowed to some files, or to chunks that hold a required word,
/// lists what it keeps; one that only excludes words lists what it leaves out, which is
/// usually far shorter than the rest of the index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkFilter {
    only: Option<ChunkSet>,
    except: Option<ChunkSet>,
}

impl ChunkFilter {
    /// The chunks of `set` alone.
    pub fn only(set: ChunkSet) -> Self {
        ChunkFilter {
            only: Some(set),
            except: None,
        }
    }

    /// Every chunk but those of `set`.
    pub fn except(set: ChunkSet) -> Self {
        ChunkFilter {
            only: None,
            except: Some(set),
        }
    }

    /// The chunks both filters keep.
    pub fn and(self, other: ChunkFilter) -> Self {
        let only = match (self.only, other.only) {
            (Some(a), Some(b)) => Some(a.intersect(&b)),
            (a, b) => a.or(b),
        };
        let except = match (self.except, other.except) {
            (Some(a), Some(b)) => Some(a.union(&b)),
            (a, b) => a.or(b),
        };
        match (only, except) {
            // A list less another is a shorter list.
            (Some(only), Some(except)) => ChunkFilter::only(only.minus(&except)),
            (only, except) => ChunkFilter { only, except },
        }
    }

    /// Whether it keeps chunk `id`.
    pub fn keeps(&self, id: u64) -> bool {
        self.only.as_ref().is_none_or(|s| s.contains(id))
            && !self.except.as_ref().is_some_and(|s| s.contains(id))
    }

    /// Whether it keeps every chunk.
    pub fn keeps_all(&self) -> bool {
        self.only.is_none() && self.except.as_ref().is_none_or(ChunkSet::is_empty)
    }

    /// The list of the chunks it keeps, when it has one (less those it leaves out).
    pub fn listed(&self) -> Option<&ChunkSet> {
        self.only.as_ref()
    }

    /// How many of the `total` chunks of an index it keeps at most.
    pub fn at_most(&self, total: usize) -> usize {
        let listed = self.only.as_ref().map_or(total, ChunkSet::len);
        listed.saturating_sub(self.except.as_ref().map_or(0, ChunkSet::len))
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
        assert_eq!(set.union(&other).ids(), &[2, 5, 7, 9]);
        assert_eq!(set.minus(&other).ids(), &[2]);
    }

    #[test]
    fn chunk_filters_keep_a_list_less_another_and_combine() {
        let set = |ids: &[u64]| ChunkSet::new(ids.iter().map(|&i| ChunkId(i)));
        let kept = |f: &ChunkFilter| (0..10).filter(|&i| f.keeps(i)).collect::<Vec<u64>>();
        let all = ChunkFilter::default();
        assert!(all.keeps_all() && kept(&all).len() == 10);
        let only = ChunkFilter::only(set(&[1, 2, 3, 4]));
        let except = ChunkFilter::except(set(&[2, 7]));
        assert_eq!(kept(&except), [0, 1, 3, 4, 5, 6, 8, 9]);
        assert_eq!(except.at_most(10), 8);
        let both = only.clone().and(except.clone());
        assert_eq!(kept(&both), [1, 3, 4]);
        assert_eq!(
            both.listed(),
            Some(&set(&[1, 3, 4])),
            "folded into one list"
        );
        assert_eq!(
            except
                .clone()
                .and(ChunkFilter::except(set(&[9])))
                .at_most(10),
            7
        );
        assert_eq!(
            only.clone().and(ChunkFilter::only(set(&[4, 5]))).listed(),
            Some(&set(&[4]))
        );
        assert_eq!(all.clone().and(only.clone()), only);
        assert!(ChunkFilter::except(ChunkSet::default()).keeps_all());
    }
}
