//! Derived indexes over the catalog's chunks: BM25 keyword search (tantivy) and approximate
//! nearest-neighbour vector search (hnsw_rs). Both are keyed by [`ChunkId`](crate::ChunkId).

pub mod define;
mod distinct;
pub mod flat;
pub mod keyword;
#[cfg(feature = "milvus")]
pub mod milvus;
pub mod remote;
pub mod root;
pub mod segment;
pub mod sent;
pub mod vector;

/// Pseudo-random unit vectors for the tests of both indexes.
#[cfg(test)]
pub(crate) mod test_vectors {
    /// `n` directions in `dim` dimensions from a fixed linear congruential sequence seeded
    /// with `seed`, L2-normalised.
    pub(crate) fn unit_vectors(seed: u64, n: usize, dim: usize) -> Vec<Vec<f32>> {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f32 / (1u64 << 31) as f32 - 0.5
        };
        (0..n)
            .map(|_| {
                let v: Vec<f32> = (0..dim).map(|_| next()).collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter().map(|x| x / norm).collect()
            })
            .collect()
    }
}
