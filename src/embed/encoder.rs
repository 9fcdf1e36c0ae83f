//! The sentence encoder: a family's backbone, then the sentence-transformers pipeline
//! (pooling, Dense modules, normalisation).

use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use super::backbone::Backbone;
use super::kernel::{Int8Isa, int8_isa};
use super::weights::Weights;
use super::{Activation, DeviceSpec, ModelError, ModelFiles, ModelInfo, Pooling, Precision, Side};
use crate::ingest::chunk::TokenSpans;

/// Prefix of the fingerprint of a model loaded with `--precision int8` (its vectors differ
/// from the f32 ones, so an index built with them must not take f32 vectors, nor the reverse).
/// The whole int8 fingerprint is `int8-<model>-<scheme>`.
pub const INT8_FINGERPRINT_PREFIX: &str = "int8-";

/// The int8 scheme of this build (asymmetric per-token activation codes, `embed::kernel`),
/// the last part of an int8 fingerprint: another scheme gives other vectors, which an index
/// does not mix with its own.
pub const INT8_SCHEME: &str = "asym8";

/// The scheme of int8 fingerprints written before schemes were named (`int8-<model>`):
/// symmetric activation codes.
const INT8_LEGACY_SCHEME: &str = "sym8";

/// A fingerprint's int8 scheme (`None` for a model in f32 or half precision) and the model's
/// own fingerprint, the same in every precision.
pub fn split_fingerprint(fingerprint: &str) -> (Option<&str>, &str) {
    match fingerprint.strip_prefix(INT8_FINGERPRINT_PREFIX) {
        Some(rest) => match rest.split_once('-') {
            Some((model, scheme)) => (Some(scheme), model),
            None => (Some(INT8_LEGACY_SCHEME), rest),
        },
        None => (None, fingerprint),
    }
}

/// The text whose activations set the int8 layers' smoothing (SmoothQuant): legal prose, as
/// the index holds. Part of the model's int8 form: changing it changes int8 vectors.
const CALIBRATION_TEXT: &str = "§ 16-2301. Definitions. For the purposes of this chapter, \
    the term \"tenant\" means a person entitled to possess a rental unit under a lease. (a) The \
    landlord shall return the security deposit, with interest at the rate set by the Mayor, \
    within 45 days after the tenancy ends, unless the Court finds that the tenant caused damage \
    beyond ordinary wear and tear; see also 42 U.S.C. § 1983 and D.C. Official Code \
    § 42-3505.01(b)(2). Any agreement to the contrary is void as against public policy.";

/// Texts embedded together in one forward pass on a CPU, where larger batches are no faster
/// (see docs/benchmarks.md) and need more memory.
const DEFAULT_BATCH: usize = 8;

/// Texts per forward pass on a GPU, which needs large batches to keep its cores busy.
const DEFAULT_GPU_BATCH: usize = 256;

/// Tokens per forward pass (texts times their padded length) in int8 on the CPU, unless the
/// batch size is set: the int8 products are fast enough that the passes over each layer's
/// f32 activations between them bound the speed, and those stay in a core's cache only for
/// small batches (two chunks of 256 tokens; at 8 the int8 encoder measured 15–20 % slower,
/// docs/benchmarks.md).
const INT8_BATCH_TOKENS: usize = 512;

/// A loaded sentence encoder. Deterministic: a text gives the same vector alone or in any
/// batch, because batches pad with masked positions that contribute exact zeros.
pub struct Embedder {
    model: Backbone,
    /// The Dense modules after pooling, in order (computed in f32).
    dense: Vec<Dense>,
    /// Truncates at `max_seq_length`; never pads (padding is done per batch here).
    tokenizer: Tokenizer,
    /// The same tokenizer without truncation, for counting tokens while chunking.
    counter: Tokenizer,
    files: ModelFiles,
    info: ModelInfo,
    device: Device,
    /// What the weights and activations are computed in (pooling is always f32).
    dtype: DType,
    batch_size: usize,
    /// At most this many tokens (texts times padded length) per batch, unless the batch size
    /// was set ([`INT8_BATCH_TOKENS`] in int8 on the CPU).
    batch_tokens: Option<usize>,
    /// Embed whole batches on separate threads (see `data_parallel_workers`).
    data_parallel: bool,
    /// The instruction set of the int8 products, for `--precision int8`.
    int8: Option<Int8Isa>,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("info", &self.info)
            .finish()
    }
}

fn tokenizer_error(path: &Path, e: impl std::fmt::Display) -> ModelError {
    ModelError::Tokenizer {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

impl Embedder {
    /// Loads the model in `dir` on `device`, checking that tokenizer, config and weights agree.
    /// Computes in f32 on the CPU and f16 on a GPU ([`Precision::Auto`]).
    pub fn load(dir: &Path, device: DeviceSpec) -> Result<Self, ModelError> {
        Self::load_with(dir, device, Precision::Auto)
    }

    /// [`Embedder::load`] with a chosen precision.
    pub fn load_with(
        dir: &Path,
        device: DeviceSpec,
        precision: Precision,
    ) -> Result<Self, ModelError> {
        let files = ModelFiles::inspect(dir)?;
        if precision == Precision::Int8
            && let DeviceSpec::Cuda(n) = device
        {
            return Err(super::device::int8_off_cpu(&format!("cuda:{n}")));
        }
        let device = device.resolve()?;
        precision.check(&device)?;
        let dtype = precision.dtype(&device);
        let tok_path = dir.join("tokenizer.json");
        let mut counter =
            Tokenizer::from_file(&tok_path).map_err(|e| tokenizer_error(&tok_path, e))?;
        // The tokenizer.json of many sentence-transformers models carries padding and a
        // truncation length (often 128) that differ from the model's max_seq_length: replace both.
        counter.with_padding(None);
        counter
            .with_truncation(None)
            .map_err(|e| tokenizer_error(&tok_path, e))?;
        let mut tokenizer = counter.clone();
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: match files.truncation_side {
                    Side::Right => TruncationDirection::Right,
                    Side::Left => TruncationDirection::Left,
                },
                max_length: files.max_seq_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| tokenizer_error(&tok_path, e))?;
        let vocab = tokenizer.get_vocab_size(true);
        if vocab > files.config.vocab_size {
            return Err(ModelError::VocabMismatch {
                path: tok_path,
                tokenizer_vocab: vocab,
                config_vocab: files.config.vocab_size,
            });
        }

        let weights = Weights::read(dir)?;
        let weights_path = weights.path.clone();
        let dense = files
            .dense
            .iter()
            .map(|d| Dense::load(&files.dir, d, &device))
            .collect::<Result<Vec<_>, _>>()?;
        let mut fingerprint = fingerprint(&files, &weights)?;
        let weights_error = |e: candle_core::Error| ModelError::Weights {
            path: weights_path.clone(),
            message: format!("{e} (do config.json and the weights belong together?)"),
        };
        let vb = weights
            .into_var_builder(dtype, &device)
            .map_err(weights_error)?;
        let mut model = Backbone::load(vb, &files).map_err(weights_error)?;
        let int8 = if precision == Precision::Int8 {
            let isa = int8_isa();
            let calibration = tokenizer
                .encode(CALIBRATION_TEXT, true)
                .map_err(|e| tokenizer_error(&tok_path, e))?;
            let row = |v: &[u32]| Tensor::from_slice(v, (1, v.len()), &device);
            let ids = row(calibration.get_ids()).map_err(weights_error)?;
            let types = row(calibration.get_type_ids()).map_err(weights_error)?;
            let mask = row(calibration.get_attention_mask()).map_err(weights_error)?;
            model
                .quantize(isa, [&ids, &types, &mask])
                .map_err(|reason| ModelError::Precision {
                    precision: "int8".into(),
                    reason,
                })?;
            // int8 vectors are not f32 ones: an index records which it holds, as it records
            // the model, and refuses the other (`store::Manifest::check_model`).
            fingerprint = format!("{INT8_FINGERPRINT_PREFIX}{fingerprint}-{INT8_SCHEME}");
            Some(isa)
        } else {
            None
        };
        super::device::weights_ready(&device)?;

        let info = ModelInfo {
            name: dir.file_name().map_or_else(
                || dir.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            dir: dir.to_path_buf(),
            fingerprint,
            architecture: files.architecture.clone(),
            family: files.family,
            dim: files.dim,
            pooling: files.pooling,
            max_seq_length: files.max_seq_length,
            vocab_size: vocab,
            layers: files.config.num_hidden_layers,
        };
        Ok(Embedder {
            model,
            dense,
            tokenizer,
            counter,
            files,
            info,
            batch_size: if device.is_cpu() {
                DEFAULT_BATCH
            } else {
                DEFAULT_GPU_BATCH
            },
            batch_tokens: int8.is_some().then_some(INT8_BATCH_TOKENS),
            device,
            dtype,
            data_parallel: true,
            int8,
        })
    }

    /// The number format as an index records it: `int8`, else the dtype (`f32`, `f16`, `bf16`).
    pub fn precision_name(&self) -> &'static str {
        if self.int8.is_some() {
            "int8"
        } else {
            self.dtype.as_str()
        }
    }

    /// The instruction set of the int8 products (`--precision int8`), else `None`.
    pub fn int8_isa(&self) -> Option<Int8Isa> {
        self.int8
    }

    /// The model's identity and shape.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// What was read from the model folder, warnings included.
    pub fn files(&self) -> &ModelFiles {
        &self.files
    }

    /// The device the model runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The number format the model computes in.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// How many texts go through the model at once.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Sets how many texts go through the model at once (at least 1), whatever their length.
    pub fn set_batch_size(&mut self, n: usize) {
        self.batch_size = n.max(1);
        self.batch_tokens = None;
    }

    /// Switches batch-level parallelism on the CPU on or off (on by default).
    pub fn set_data_parallel(&mut self, on: bool) {
        self.data_parallel = on;
    }

    /// Token ids the model sees for `text` (special tokens included, truncated).
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        let enc = self
            .tokenizer
            .encode(self.cased(text).as_ref(), true)
            .map_err(|e| tokenizer_error(&self.files.dir.join("tokenizer.json"), e))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Embeds a query (with the model's query prompt, if it declares one).
    pub fn embed_query(&self, query: &str) -> Result<Vec<f32>, ModelError> {
        let text = format!("{}{query}", self.files.query_prompt);
        let mut v = self.embed(&[text.as_str()])?;
        v.pop()
            .ok_or_else(|| ModelError::Inference("no vector for the query".into()))
    }

    /// The prompt to prepend to document texts (empty for most models).
    pub fn document_prompt(&self) -> &str {
        &self.files.document_prompt
    }

    /// Embeds documents: each text with the model's document prompt, as the index does
    /// (sentence-transformers' `encode_document`).
    pub fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        let prompted: Vec<String> = texts
            .iter()
            .map(|t| format!("{}{t}", self.files.document_prompt))
            .collect();
        let refs: Vec<&str> = prompted.iter().map(String::as_str).collect();
        self.embed(&refs)
    }

    /// The text as the tokenizer gets it: lower-cased when the model says `do_lower_case`.
    fn cased<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        if self.files.lower_case {
            std::borrow::Cow::Owned(text.to_lowercase())
        } else {
            std::borrow::Cow::Borrowed(text)
        }
    }

    /// Embeds texts as they are, returning one L2-normalised vector per text, in order.
    /// Texts are grouped by token length so that batches carry little padding.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        self.embed_tokenized(&self.tokenize(texts)?)
    }

    /// Tokenizes texts for [`Embedder::embed_tokenized`] (in parallel, on rayon's pool): host
    /// work that a pipeline can do while the encoder embeds the texts before them.
    pub fn tokenize(&self, texts: &[&str]) -> Result<Tokenized, ModelError> {
        let cased: Vec<std::borrow::Cow<'_, str>> = texts.iter().map(|t| self.cased(t)).collect();
        let encodings = self
            .tokenizer
            .encode_batch(cased.iter().map(|t| t.as_ref()).collect(), true)
            .map_err(|e| tokenizer_error(&self.files.dir.join("tokenizer.json"), e))?;
        Ok(Tokenized { encodings })
    }

    /// Embeds tokenized texts: one L2-normalised vector per text, in order. Exactly what
    /// [`Embedder::embed`] gives for the same texts.
    pub fn embed_tokenized(&self, tokenized: &Tokenized) -> Result<Vec<Vec<f32>>, ModelError> {
        let encodings = &tokenized.encodings;
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(encodings[i].get_ids().len()));
        let lengths: Vec<usize> = order
            .iter()
            .map(|&i| encodings[i].get_ids().len())
            .collect();
        let batches: Vec<&[usize]> = batch_bounds(&lengths, self.batch_size, self.batch_tokens)
            .into_iter()
            .map(|r| &order[r])
            .collect();
        let run = |batch: &[usize]| -> Result<Vec<Vec<f32>>, ModelError> {
            let encs: Vec<&tokenizers::Encoding> = batch.iter().map(|&i| &encodings[i]).collect();
            self.forward(&encs)
                .map_err(|e| ModelError::Inference(e.to_string()))
        };
        let workers = self.data_parallel_workers(batches.len());
        let results = run_batches(&batches, workers, run);
        let mut out = vec![Vec::new(); encodings.len()];
        for (batch, vectors) in batches.iter().zip(results) {
            for (&i, v) in batch.iter().zip(vectors?) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// How many threads embed whole batches side by side on the CPU: the cores left over by
    /// candle's own threading (`RAYON_NUM_THREADS`, all cores by default). With one thread
    /// per product (`RAYON_NUM_THREADS=1`, which the `lexsearch` binary sets) every core
    /// takes whole batches, which measured faster on few cores.
    fn data_parallel_workers(&self, batches: usize) -> usize {
        if !self.device.is_cpu() || batches < 2 || !self.data_parallel {
            return 1;
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (cores / candle_core::utils::get_num_threads().max(1))
            .max(1)
            .min(batches)
    }

    /// One forward pass over a batch, pooled and normalised.
    fn forward(&self, encs: &[&tokenizers::Encoding]) -> candle_core::Result<Vec<Vec<f32>>> {
        let len = encs
            .iter()
            .map(|e| e.get_ids().len())
            .max()
            .unwrap_or(0)
            .max(1);
        let pad = self.files.config.pad_token_id;
        let n = encs.len();
        let mut ids = Vec::with_capacity(n * len);
        let mut types = Vec::with_capacity(n * len);
        let mut mask = Vec::with_capacity(n * len);
        for e in encs {
            let k = e.get_ids().len();
            ids.extend_from_slice(e.get_ids());
            types.extend_from_slice(e.get_type_ids());
            mask.extend(std::iter::repeat_n(1u32, k));
            ids.extend(std::iter::repeat_n(pad, len - k));
            types.extend(std::iter::repeat_n(0u32, len - k));
            mask.extend(std::iter::repeat_n(0u32, len - k));
        }
        let ids = Tensor::from_vec(ids, (n, len), &self.device)?;
        let types = Tensor::from_vec(types, (n, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
        let hidden = self.model.forward(&ids, &types, &mask)?; // (n, len, dim)
        // Pooling and normalising in f32 whatever the model computed in: a sum over 256
        // positions in half precision would lose the digits that tell near-duplicates apart.
        let hidden = hidden.to_dtype(DType::F32)?;
        let lengths: Vec<usize> = encs.iter().map(|e| e.get_ids().len()).collect();
        let mut pooled = pool(&hidden, &mask, &lengths, self.files.pooling)?;
        for d in &self.dense {
            pooled = d.forward(&pooled)?;
        }
        let norm = pooled
            .sqr()?
            .sum_keepdim(1)?
            .sqrt()?
            .clamp(1e-12, f64::MAX)?;
        let precision = if self.int8.is_some() {
            "int8"
        } else {
            self.dtype.as_str()
        };
        finite(pooled.broadcast_div(&norm)?.to_vec2::<f32>()?, precision)
    }
}

/// `vectors`, unless one holds a NaN or an infinity: then the error that says so and what to
/// do. Such a vector would be stored and reused, and it breaks the graph's distances (hnsw_rs
/// asserts on them), so none leaves the encoder.
fn finite(vectors: Vec<Vec<f32>>, precision: &str) -> candle_core::Result<Vec<Vec<f32>>> {
    let Some(row) = vectors
        .iter()
        .position(|v| v.iter().any(|x| !x.is_finite()))
    else {
        return Ok(vectors);
    };
    let what = format!(
        "text {} of a batch of {} gave a vector with NaN or infinite values",
        row + 1,
        vectors.len()
    );
    match precision {
        "f32" => candle_core::bail!(
            "{what} in f32: the model's weights may hold such values; fetch the model folder \
             again, or run one text through it with `lexsearch model check DIR`"
        ),
        _ => candle_core::bail!(
            "{what} in {precision}: the model's activations overflow that precision; index with \
             `--precision f32`"
        ),
    }
}

/// Texts turned into token ids by [`Embedder::tokenize`], ready for the encoder.
pub struct Tokenized {
    encodings: Vec<tokenizers::Encoding>,
}

impl Tokenized {
    /// Number of texts.
    pub fn len(&self) -> usize {
        self.encodings.len()
    }

    /// Whether there are no texts.
    pub fn is_empty(&self) -> bool {
        self.encodings.is_empty()
    }

    /// For each text: the tokens the model sees (special tokens included) and whether the
    /// text was cut at the model's max_seq_length to get them.
    pub fn token_counts(&self) -> Vec<(usize, bool)> {
        self.encodings
            .iter()
            .map(|e| (e.get_ids().len(), !e.get_overflowing().is_empty()))
            .collect()
    }
}

/// Pools token vectors `(n, len, dim)` into sentence vectors `(n, dim)` over `mask` `(n, len)`
/// (right-padded; `lengths` are the real tokens per row), as sentence-transformers' `Pooling`
/// module does.
fn pool(
    hidden: &Tensor,
    mask: &Tensor,
    lengths: &[usize],
    mode: Pooling,
) -> candle_core::Result<Tensor> {
    let m = mask.to_dtype(hidden.dtype())?.unsqueeze(2)?; // (n, len, 1)
    match mode {
        Pooling::Cls => hidden.narrow(1, 0, 1)?.squeeze(1),
        // The last real token: with right padding, position length - 1 of each row. (A
        // left-padding tokenizer puts it at the end of the row instead; the vector is the same,
        // since padding is masked and positions count real tokens.)
        Pooling::LastToken => {
            let rows = lengths
                .iter()
                .enumerate()
                .map(|(i, &k)| hidden.get(i)?.get(k.max(1) - 1))
                .collect::<candle_core::Result<Vec<_>>>()?;
            Tensor::stack(&rows, 0)
        }
        Pooling::Mean | Pooling::MeanSqrtLen => {
            let sum = hidden.broadcast_mul(&m)?.sum(1)?;
            let count = m.sum(1)?.clamp(1e-9, f64::MAX)?; // (n, 1)
            let denom = if mode == Pooling::Mean {
                count
            } else {
                count.sqrt()?
            };
            sum.broadcast_div(&denom)
        }
        Pooling::Max => {
            // Masked positions get a very low value so they never win the maximum.
            let low = ((m.ones_like()? - &m)? * -1e9)?;
            hidden.broadcast_add(&low)?.max(1)
        }
    }
}

/// A sentence-transformers Dense module: `activation(x W^T + b)`, in f32.
struct Dense {
    linear: candle_nn::Linear,
    activation: Activation,
}

impl Dense {
    fn load(dir: &Path, spec: &super::DenseModule, device: &Device) -> Result<Self, ModelError> {
        let path = dir.join(&spec.path).join("model.safetensors");
        let error = |e: candle_core::Error| ModelError::Weights {
            path: path.clone(),
            message: format!(
                "{e} (the Dense module's config.json declares {} -> {} values{})",
                spec.in_features,
                spec.out_features,
                if spec.bias { " with a bias" } else { "" }
            ),
        };
        let bytes = fs::read(&path).map_err(|e| ModelError::Weights {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, device).map_err(error)?;
        let linear = candle_nn::linear_b(
            spec.in_features,
            spec.out_features,
            spec.bias,
            vb.pp("linear"),
        )
        .map_err(error)?;
        Ok(Dense {
            linear,
            activation: spec.activation,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        use candle_core::Module;
        let y = self.linear.forward(x)?;
        match self.activation {
            Activation::Identity => Ok(y),
            Activation::Tanh => y.tanh(),
            Activation::Relu => y.relu(),
            Activation::Gelu => y.gelu_erf(),
            Activation::Sigmoid => candle_nn::ops::sigmoid(&y),
        }
    }
}

/// blake3 over the files that decide what a vector means. For a plain BERT folder with
/// `1_Pooling` (all-MiniLM-L6-v2) it is what it was before model families existed, so older
/// indexes stay usable; other module folders, prompts and a left truncation side are added.
fn fingerprint(files: &ModelFiles, weights: &Weights) -> Result<String, ModelError> {
    let mut hasher = blake3::Hasher::new();
    let dir = &files.dir;
    let pooling = [
        "1_Pooling/config.json",
        "modules.json",
        "sentence_bert_config.json",
    ];
    for name in ["config.json", "tokenizer.json"]
        .iter()
        .chain(pooling.iter())
    {
        let path: PathBuf = dir.join(name);
        if let Ok(bytes) = fs::read(&path) {
            hasher.update(name.as_bytes());
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
        }
    }
    for d in &files.dense {
        for name in ["config.json", "model.safetensors"] {
            let rel = format!("{}/{name}", d.path);
            if let Ok(bytes) = fs::read(dir.join(&rel)) {
                hasher.update(rel.as_bytes());
                hasher.update(&(bytes.len() as u64).to_le_bytes());
                hasher.update(&bytes);
            }
        }
    }
    if !files.prompts.is_empty() {
        let prompts = serde_json::json!({
            "query": files.query_prompt,
            "document": files.document_prompt,
        });
        hasher.update(b"prompts");
        hasher.update(prompts.to_string().as_bytes());
    }
    if files.truncation_side == Side::Left {
        hasher.update(b"truncation_side=left");
    }
    weights.hash_into(&mut hasher);
    Ok(hasher.finalize().to_hex().to_string())
}

impl TokenSpans for Embedder {
    fn token_spans(&self, text: &str) -> Vec<Range<usize>> {
        match self.counter.encode(text, false) {
            Ok(enc) => enc.get_offsets().iter().map(|&(s, e)| s..e).collect(),
            // Tokenizing plain text does not fail in practice; fall back to a word count.
            Err(_) => crate::ingest::chunk::WordSpans.token_spans(text),
        }
    }
}

/// Cuts texts sorted by decreasing token length (`lengths`) into batches of at most `size`
/// texts and, with `tokens`, of at most that many padded tokens (the first, longest text's
/// length times the batch's texts; a longer text goes alone).
fn batch_bounds(
    lengths: &[usize],
    size: usize,
    tokens: Option<usize>,
) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < lengths.len() {
        let by_tokens = tokens.map_or(size, |t| t / lengths[start].max(1));
        let end = (start + size.min(by_tokens).max(1)).min(lengths.len());
        out.push(start..end);
        start = end;
    }
    out
}

/// Runs `run` on every batch, results in batch order: with `workers` > 1, whole batches on
/// separate threads, each with a one-thread pool for candle's own parallel loops. On a few
/// cores this beats splitting every matrix product (docs/benchmarks.md); each batch is
/// computed exactly as it would be alone.
pub(super) fn run_batches<T: Send>(
    batches: &[&[usize]],
    workers: usize,
    run: impl Fn(&[usize]) -> Result<T, ModelError> + Sync,
) -> Vec<Result<T, ModelError>> {
    let workers = workers.min(batches.len());
    if workers < 2 {
        return batches.iter().map(|b| run(b)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build();
                loop {
                    let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(batch) = batches.get(b) else { break };
                    let r = match &pool {
                        Ok(pool) => pool.install(|| run(batch)),
                        Err(_) => run(batch),
                    };
                    if let Ok(mut d) = done.lock() {
                        d.push((b, r));
                    }
                }
            });
        }
    });
    let mut slots: Vec<Option<Result<T, ModelError>>> = (0..batches.len()).map(|_| None).collect();
    for (b, r) in done.into_inner().unwrap_or_default() {
        slots[b] = Some(r);
    }
    slots
        .into_iter()
        .map(|s| s.unwrap_or_else(|| Err(ModelError::Inference("a worker stopped".into()))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{batch_bounds, finite};

    #[test]
    fn a_vector_with_nan_or_infinity_is_refused_with_what_to_do() {
        let good = vec![vec![0.6, 0.8], vec![1.0, 0.0]];
        assert_eq!(finite(good.clone(), "f16").unwrap(), good);
        let nan = vec![vec![0.6, 0.8], vec![f32::NAN, 0.0]];
        let e = finite(nan, "f16").unwrap_err().to_string();
        assert!(
            e.contains("text 2 of a batch of 2") && e.contains("--precision f32"),
            "{e}"
        );
        let inf = vec![vec![f32::INFINITY, 0.0]];
        let e = finite(inf, "f32").unwrap_err().to_string();
        assert!(e.contains("in f32") && e.contains("model check"), "{e}");
    }

    #[test]
    fn batches_hold_at_most_their_size_and_their_token_budget() {
        let lengths = [
            256, 256, 256, 200, 120, 64, 64, 64, 64, 64, 64, 64, 64, 64, 10,
        ];
        let sizes = |b: &[std::ops::Range<usize>]| b.iter().map(|r| r.len()).collect::<Vec<_>>();
        // Without a budget: `size` texts a batch, the last one shorter.
        assert_eq!(sizes(&batch_bounds(&lengths, 8, None)), [8, 7]);
        // 512 tokens: two of 256, then 256 and 200, then 120 and three of 64, then the rest.
        let b = batch_bounds(&lengths, 8, Some(512));
        assert_eq!(sizes(&b), [2, 2, 4, 7]);
        for r in &b {
            assert!(lengths[r.start] * r.len() <= 512 || r.len() == 1, "{r:?}");
        }
        // Every text once, in order.
        assert_eq!(b.first().unwrap().start, 0);
        assert!(b.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!(b.last().unwrap().end, lengths.len());
        // A text longer than the budget goes alone; none is dropped.
        assert_eq!(
            sizes(&batch_bounds(&[900, 900, 5], 8, Some(512))),
            [1, 1, 1]
        );
        assert!(batch_bounds(&[], 8, Some(512)).is_empty());
    }
}
