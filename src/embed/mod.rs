//! Embedding: a sentence-transformers model folder, loaded exactly as it was trained.
//!
//! [`ModelFiles::inspect`] reads a folder in the Hugging Face sentence-transformers layout and
//! diagnoses it without loading weights; [`Embedder::load`] loads the tokenizer and the
//! family's backbone (BERT, XLM-RoBERTa, ModernBERT; `backbone.rs` dispatches) with candle and
//! runs the folder's pipeline: pooling over the attention mask (`1_Pooling/config.json`), any
//! Dense modules, then L2 normalisation.

mod backbone;
mod bert;
mod device;
mod encoder;
mod model;
mod modernbert;

pub use device::{DeviceSpec, Precision, device_name};
pub use encoder::{Embedder, Tokenized};
pub use model::{
    Activation, DenseModule, Family, ModelConfig, ModelError, ModelFiles, ModelInfo, Pooling, Side,
};

/// Name of the model lexsearch uses when none is given.
pub const DEFAULT_MODEL_NAME: &str = "all-MiniLM-L6-v2";
