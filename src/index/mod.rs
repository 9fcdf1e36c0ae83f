//! Derived indexes over the catalog's chunks: BM25 keyword search (tantivy) and approximate
//! nearest-neighbour vector search (hnsw_rs). Both are keyed by [`ChunkId`](crate::ChunkId).

pub mod flat;
pub mod keyword;
pub mod vector;
