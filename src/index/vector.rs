//! The vector index (hnsw_rs): an HNSW graph over L2-normalised vectors, dot-product distance.
//!
//! The graph is built once per index run from the vectors, dumped to `DIR/graph.*`, and
//! reloaded by searches. hnsw_rs errors are converted here and nowhere else.

use std::path::{Path, PathBuf};

use hnsw_rs::prelude::{AnnT, DistDot, Hnsw, HnswIo};

use crate::ids::ChunkId;
use crate::{Error, Result};

/// Graph parameters. `M` above 256 would make hnsw_rs exit the process; these are fixed.
const MAX_CONNECTIONS: usize = 16;
const EF_CONSTRUCTION: usize = 200;
const MAX_LAYERS: usize = 16;
/// Smallest `ef` used when searching; larger fetches use more.
const MIN_EF_SEARCH: usize = 64;
const BASENAME: &str = "graph";
/// Holds the base name hnsw_rs actually used for the dump (it may choose another).
const NAME_FILE: &str = "graph.name";

/// A semantic hit: the chunk and its cosine similarity to the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VectorHit {
    /// The chunk.
    pub chunk_id: ChunkId,
    /// Cosine similarity (vectors are normalised, so this is the dot product).
    pub cosine: f32,
}

/// A searchable HNSW graph, or nothing for an index without chunks.
pub struct VectorIndex {
    graph: Option<Hnsw<'static, f32, DistDot>>,
    dim: usize,
}

impl VectorIndex {
    /// Builds a graph over `vectors` (each of length `dim`, normalised) and dumps it to `dir`.
    pub fn build_and_dump(dir: &Path, dim: usize, vectors: &[(ChunkId, Vec<f32>)]) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        if vectors.is_empty() {
            return Ok(());
        }
        let graph: Hnsw<f32, DistDot> = Hnsw::new(
            MAX_CONNECTIONS,
            vectors.len(),
            MAX_LAYERS,
            EF_CONSTRUCTION,
            DistDot,
        );
        let data: Vec<(&[f32], usize)> = vectors
            .iter()
            .map(|(id, v)| (v.as_slice(), id.0 as usize))
            .collect();
        debug_assert!(vectors.iter().all(|(_, v)| v.len() == dim));
        graph.parallel_insert_slice(&data);
        let used = graph.file_dump(dir, BASENAME).map_err(|e| Error::Vector {
            path: dir.to_path_buf(),
            message: format!("{e:#}"),
        })?;
        let name_path = dir.join(NAME_FILE);
        std::fs::write(&name_path, used).map_err(|e| Error::io("write", name_path, e))
    }

    /// Loads the graph dumped in `dir` (none when the index has no chunks).
    pub fn open(dir: &Path, dim: usize) -> Result<Self> {
        let name_path = dir.join(NAME_FILE);
        let name = match std::fs::read_to_string(&name_path) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(VectorIndex { graph: None, dim });
            }
            Err(e) => return Err(Error::io("read", name_path, e)),
        };
        // A reloaded graph borrows its loader; the loader lives as long as the process
        // (one per opened index, a few hundred bytes).
        let loader: &'static mut HnswIo = Box::leak(Box::new(HnswIo::new(dir, name.trim())));
        let graph = loader
            .load_hnsw::<f32, DistDot>()
            .map_err(|e| Error::Vector {
                path: PathBuf::from(dir),
                message: format!("cannot load the graph: {e:#}"),
            })?;
        Ok(VectorIndex {
            graph: Some(graph),
            dim,
        })
    }

    /// The `limit` chunks nearest to `query`, most similar first.
    pub fn search(&self, query: &[f32], limit: usize) -> Vec<VectorHit> {
        let Some(graph) = &self.graph else {
            return Vec::new();
        };
        if query.len() != self.dim || limit == 0 {
            return Vec::new();
        }
        let ef = limit.max(MIN_EF_SEARCH);
        let mut hits: Vec<VectorHit> = graph
            .search(query, limit, ef)
            .into_iter()
            .map(|n| VectorHit {
                chunk_id: ChunkId(n.d_id as u64),
                cosine: 1.0 - n.distance,
            })
            .collect();
        hits.sort_by(|a, b| {
            b.cosine
                .total_cmp(&a.cosine)
                .then(a.chunk_id.cmp(&b.chunk_id))
        });
        hits
    }

    /// Number of vectors in the graph.
    pub fn len(&self) -> usize {
        self.graph.as_ref().map_or(0, |g| g.get_nb_point())
    }

    /// Whether the graph is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn dumped_graph_reloads_and_finds_the_nearest_vectors() {
        let dir = tempfile::tempdir().unwrap();
        // 200 pseudo-random directions in 8 dimensions (a fixed linear congruential sequence).
        let mut state = 42u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f32 / (1u64 << 31) as f32 - 0.5
        };
        let vectors: Vec<(ChunkId, Vec<f32>)> = (0..200u64)
            .map(|i| {
                (
                    ChunkId(1000 + i),
                    unit(&(0..8).map(|_| next()).collect::<Vec<_>>()),
                )
            })
            .collect();
        VectorIndex::build_and_dump(dir.path(), 8, &vectors).unwrap();
        let idx = VectorIndex::open(dir.path(), 8).unwrap();
        assert_eq!(idx.len(), 200);
        let hits = idx.search(&vectors[17].1, 5);
        assert_eq!(hits[0].chunk_id, ChunkId(1017));
        assert!((hits[0].cosine - 1.0).abs() < 1e-5);
        assert!(hits.windows(2).all(|w| w[0].cosine >= w[1].cosine));
    }

    #[test]
    fn an_empty_index_searches_to_nothing() {
        let dir = tempfile::tempdir().unwrap();
        VectorIndex::build_and_dump(dir.path(), 4, &[]).unwrap();
        let idx = VectorIndex::open(dir.path(), 4).unwrap();
        assert!(idx.is_empty());
        assert!(idx.search(&[1.0, 0.0, 0.0, 0.0], 3).is_empty());
    }
}
