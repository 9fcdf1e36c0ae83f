//! Embedding: a sentence-transformers model folder, loaded exactly as it was trained.
//!
//! [`ModelFiles::inspect`] reads a folder in the Hugging Face sentence-transformers layout and
//! diagnoses it without loading weights; [`Embedder::load`] loads the tokenizer and the BERT
//! weights with candle and turns texts into L2-normalised vectors, pooled over the attention
//! mask the way the model's `1_Pooling/config.json` says. [`CrossEncoder::load`] loads a
//! cross-encoder (reranker) folder and scores (query, passage) pairs.

mod bert;
mod device;
mod encoder;
mod model;
mod rerank;

pub use device::{DeviceSpec, Precision, device_name};
pub use encoder::{Embedder, Tokenized};
pub use model::{ModelError, ModelFiles, ModelInfo, Pooling};
pub use rerank::{Activation, CrossEncoder, RerankError, RerankFamily, RerankerInfo};

/// Name of the model lexsearch uses when none is given.
pub const DEFAULT_MODEL_NAME: &str = "all-MiniLM-L6-v2";
