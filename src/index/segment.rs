//! The vectors added to an index since its graph was last written (`added.vectors`), searched
//! exactly beside the graph.
//!
//! Writing a graph anew takes seconds per hundred thousand points, loading it for insertions
//! as long again: at a million chunks a one-file update spent most of its 25 s there. A run
//! that adds a few vectors to a large index instead leaves the graph's files as they are
//! (linked into the next generation) and keeps its vectors here, up to
//! [`SEGMENT_LIMIT`]; the run that would pass the limit loads the graph and inserts them
//! all. A search compares the query with every vector here (exact, a few milliseconds at the
//! limit) and merges what it finds with the graph's hits.
//!
//! The file: the magic bytes, the dimension (u32) and the count (u64), the chunk ids (u64
//! each, ascending), the vectors (f32 each, in the ids' order), then blake3 of all that; all
//! little-endian. Written once, synced, never changed: the next generation writes its own.

use std::io::Write;
use std::path::Path;

use hnsw_rs::prelude::{DistDot, Distance};

use crate::ids::ChunkId;
use crate::{Error, Result};

/// File name in a generation's vectors folder.
pub const SEGMENT_FILE: &str = "added.vectors";

/// Most vectors the segment holds; a run that would pass it inserts them into the graph.
/// Comparing a query with every one of them reads them all (12.6 MB at 384 dimensions): about
/// 2 to 3.5 ms at this limit on two cores, where the graph's search takes 0.2 ms
/// (docs/benchmarks.md); twice the limit took twice that, for half as many loads and dumps
/// of the graph.
pub const SEGMENT_LIMIT: usize = 8_192;

const MAGIC: &[u8; 8] = b"LXAV0001";
const SUM: usize = 32;

/// Vectors kept beside the graph, by ascending chunk id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Segment {
    ids: Vec<u64>,
    /// `ids.len()` vectors of one length, in the ids' order.
    data: Vec<f32>,
}

impl Segment {
    /// Reads the segment in `dir` of vectors of length `dim`: empty when there is none.
    pub fn read(dir: &Path, dim: usize) -> Result<Self> {
        let path = dir.join(SEGMENT_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Segment::default()),
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        let damaged = |what: &str| damaged(&path, what);
        let body = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| damaged("not a file of vectors"))?;
        if body.len() < 12 + SUM {
            return Err(damaged("it is cut short"));
        }
        let (body, sum) = body.split_at(body.len() - SUM);
        if blake3::hash(&bytes[..MAGIC.len() + body.len()]).as_bytes() != sum {
            return Err(damaged("its checksum does not match"));
        }
        let u32_at = |at: usize| u32::from_le_bytes(body[at..at + 4].try_into().unwrap_or([0; 4]));
        let u64_at = |at: usize| u64::from_le_bytes(body[at..at + 8].try_into().unwrap_or([0; 8]));
        let (file_dim, count) = (u32_at(0) as usize, u64_at(4) as usize);
        if file_dim != dim {
            return Err(damaged(&format!(
                "its vectors have {file_dim} dimensions, the model {dim}"
            )));
        }
        let expected = count
            .checked_mul(8 + 4 * dim)
            .and_then(|n| n.checked_add(12));
        if expected != Some(body.len()) {
            return Err(damaged("its length does not match its count"));
        }
        let ids: Vec<u64> = (0..count).map(|i| u64_at(12 + 8 * i)).collect();
        if ids.windows(2).any(|w| w[0] >= w[1]) {
            return Err(damaged("its chunk ids are not in order"));
        }
        let data = body[12 + 8 * count..]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok(Segment { ids, data })
    }

    /// How many vectors the segment in `dir` holds, from its header and length alone (0
    /// without one): for a count, where [`read`](Self::read) would read and check them all.
    pub fn count_in(dir: &Path, dim: usize) -> Result<usize> {
        use std::io::Read;
        let path = dir.join(SEGMENT_FILE);
        let mut file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        let mut head = [0u8; MAGIC.len() + 12];
        let len = file
            .metadata()
            .and_then(|m| file.read_exact(&mut head).map(|()| m.len()))
            .map_err(|e| Error::io("read", &path, e))?;
        let count = u64::from_le_bytes(head[12..20].try_into().unwrap_or([0; 8]));
        let expected = count
            .checked_mul(8 + 4 * dim as u64)
            .and_then(|n| n.checked_add((MAGIC.len() + 12 + SUM) as u64));
        if &head[..MAGIC.len()] != MAGIC || expected != Some(len) {
            return Err(damaged(&path, "its length does not match its count"));
        }
        usize::try_from(count).map_err(|_| damaged(&path, "its count is out of range"))
    }

    /// Writes the segment into `dir` (vectors of length `dim`), synced; an empty one removes
    /// the file instead.
    pub fn write(&self, dir: &Path, dim: usize) -> Result<()> {
        let path = dir.join(SEGMENT_FILE);
        if self.ids.is_empty() {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(Error::io("remove", &path, e))
                }
                _ => Ok(()),
            };
        }
        let mut bytes =
            Vec::with_capacity(MAGIC.len() + 12 + self.ids.len() * 8 + self.data.len() * 4 + SUM);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(dim as u32).to_le_bytes());
        bytes.extend_from_slice(&(self.ids.len() as u64).to_le_bytes());
        for id in &self.ids {
            bytes.extend_from_slice(&id.to_le_bytes());
        }
        for x in &self.data {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
        let sum = blake3::hash(&bytes);
        bytes.extend_from_slice(sum.as_bytes());
        let mut f = std::fs::File::create(&path).map_err(|e| Error::io("create", &path, e))?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| Error::io("write", &path, e))
    }

    /// Vectors held.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The chunk ids held, ascending.
    pub fn ids(&self) -> &[u64] {
        &self.ids
    }

    fn dim(&self) -> usize {
        self.data.len().checked_div(self.ids.len()).unwrap_or(0)
    }

    /// The vector of chunk `id`, if held.
    pub fn vector_of(&self, id: u64) -> Option<&[f32]> {
        let at = self.ids.binary_search(&id).ok()?;
        let dim = self.dim();
        Some(&self.data[at * dim..(at + 1) * dim])
    }

    /// Adds vectors (all of one length) under their chunk ids; an id held already takes the
    /// new vector.
    pub fn extend(&mut self, vectors: &[(ChunkId, Vec<f32>)]) {
        if vectors.is_empty() {
            return;
        }
        let dim = vectors[0].1.len();
        let mut all: Vec<(u64, &[f32])> = self
            .ids
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, &self.data[i * dim..(i + 1) * dim]))
            .collect();
        all.extend(vectors.iter().map(|(id, v)| (id.0, v.as_slice())));
        // Stable: of two vectors of one id, the later (added) one stays last and is kept.
        all.sort_by_key(|(id, _)| *id);
        let mut kept: Vec<(u64, &[f32])> = Vec::with_capacity(all.len());
        for (id, v) in all {
            match kept.last_mut() {
                Some(last) if last.0 == id => *last = (id, v),
                _ => kept.push((id, v)),
            }
        }
        let ids = kept.iter().map(|(id, _)| *id).collect();
        let data = kept.iter().flat_map(|(_, v)| v.iter().copied()).collect();
        (self.ids, self.data) = (ids, data);
    }

    /// Removes the vectors of `ids` it holds; returns those it did not hold.
    pub fn remove(&mut self, ids: impl IntoIterator<Item = ChunkId>) -> Vec<ChunkId> {
        let dim = self.dim();
        let mut gone = Vec::new();
        let mut elsewhere = Vec::new();
        for id in ids {
            match self.ids.binary_search(&id.0) {
                Ok(at) => gone.push(at),
                Err(_) => elsewhere.push(id),
            }
        }
        if !gone.is_empty() {
            gone.sort_unstable();
            gone.dedup();
            let mut next = gone.iter().peekable();
            let (mut ids, mut data) = (Vec::new(), Vec::new());
            for (at, id) in self.ids.iter().enumerate() {
                if next.peek() == Some(&&at) {
                    next.next();
                    continue;
                }
                ids.push(*id);
                data.extend_from_slice(&self.data[at * dim..(at + 1) * dim]);
            }
            (self.ids, self.data) = (ids, data);
        }
        elsewhere
    }

    /// Takes every vector out, as (chunk id, vector), ascending: for insertion into the graph.
    pub fn drain(&mut self) -> Vec<(ChunkId, Vec<f32>)> {
        let dim = self.dim();
        let out = self
            .ids
            .iter()
            .enumerate()
            .map(|(i, id)| (ChunkId(*id), self.data[i * dim..(i + 1) * dim].to_vec()))
            .collect();
        *self = Segment::default();
        out
    }

    /// The `limit` vectors nearest to `query` among those whose chunk id passes `keep`,
    /// nearest first, ties by chunk id, as (chunk id, distance): the graph's distance
    /// (`1 - cosine`, [`DistDot`]), so that a chunk scores the same here and in the graph.
    pub fn nearest(
        &self,
        query: &[f32],
        limit: usize,
        keep: impl Fn(u64) -> bool,
    ) -> Vec<(u64, f32)> {
        let dim = self.dim();
        if limit == 0 || self.is_empty() || query.len() != dim {
            return Vec::new();
        }
        let mut found: Vec<(u64, f32)> = self
            .ids
            .iter()
            .enumerate()
            .filter(|(_, id)| keep(**id))
            .map(|(i, id)| (*id, DistDot.eval(query, &self.data[i * dim..(i + 1) * dim])))
            .collect();
        found.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        found.truncate(limit);
        found
    }
}

/// The error for a segment file at `path` that does not read, and the repair.
fn damaged(path: &Path, what: &str) -> Error {
    Error::Vector {
        path: path.to_path_buf(),
        message: format!(
            "the vectors added since the graph was written do not read ({what}); \
             `lexsearch verify --repair` rebuilds the graph from the catalog"
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn vectors(first: u64, n: usize) -> Vec<(ChunkId, Vec<f32>)> {
        crate::index::test_vectors::unit_vectors(7 + first, n, 8)
            .into_iter()
            .enumerate()
            .map(|(i, v)| (ChunkId(first + i as u64), v))
            .collect()
    }

    #[test]
    fn the_file_round_trips_and_a_damaged_one_is_refused_with_the_repair() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Segment::read(dir.path(), 8).unwrap().is_empty());
        let mut segment = Segment::default();
        segment.extend(&vectors(10, 5));
        segment.extend(&vectors(3, 2));
        segment.write(dir.path(), 8).unwrap();
        let read = Segment::read(dir.path(), 8).unwrap();
        assert_eq!(read, segment);
        assert_eq!(read.ids(), &[3, 4, 10, 11, 12, 13, 14]);
        assert_eq!(read.vector_of(11), Some(vectors(10, 5)[1].1.as_slice()));
        assert_eq!(Segment::count_in(dir.path(), 8).unwrap(), 7);

        let wrong_dim = Segment::read(dir.path(), 16).unwrap_err().to_string();
        assert!(wrong_dim.contains("8 dimensions"), "{wrong_dim}");
        let path = dir.path().join(SEGMENT_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[40] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let damaged = Segment::read(dir.path(), 8).unwrap_err().to_string();
        assert!(damaged.contains("checksum"), "{damaged}");
        assert!(damaged.contains("verify --repair"), "{damaged}");
        std::fs::write(&path, &bytes[..20]).unwrap();
        assert!(Segment::read(dir.path(), 8).is_err());
        assert!(Segment::count_in(dir.path(), 8).is_err());

        Segment::default().write(dir.path(), 8).unwrap();
        assert!(!path.exists(), "an empty segment leaves no file");
        assert_eq!(Segment::count_in(dir.path(), 8).unwrap(), 0);
    }

    #[test]
    fn nearest_is_exact_and_removed_vectors_are_never_found() {
        let all = vectors(0, 200);
        let mut segment = Segment::default();
        segment.extend(&all);
        let query = &all[17].1;
        let found = segment.nearest(query, 5, |_| true);
        let mut truth: Vec<(u64, f32)> = all
            .iter()
            .map(|(id, v)| (id.0, DistDot.eval(query, v)))
            .collect();
        truth.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        truth.truncate(5);
        assert_eq!(found, truth);
        assert_eq!(found[0].0, 17);

        let elsewhere = segment.remove([ChunkId(17), ChunkId(999)]);
        assert_eq!(elsewhere, vec![ChunkId(999)]);
        assert_eq!(segment.len(), 199);
        assert!(segment.vector_of(17).is_none());
        assert!(
            segment
                .nearest(query, 200, |_| true)
                .iter()
                .all(|(id, _)| *id != 17)
        );
        let odd = segment.nearest(query, 200, |id| id % 2 == 1);
        assert_eq!(odd.len(), 99);

        let drained = segment.drain();
        assert_eq!(drained.len(), 199);
        assert_eq!(drained[0], all[0]);
        assert!(segment.is_empty());
    }
}
