//! The Qwen3 decoder as an embedding backbone (Qwen3-Embedding-0.6B, 4B, 8B): token ids and a
//! padding mask in, the final hidden state of every token out, equal to Hugging Face's
//! `Qwen3Model(...).last_hidden_state`.
//!
//! `candle_transformers::models::qwen3` is written for generation: a KV cache, one sequence at a
//! time, and no padding mask. Embedding needs the opposite (whole right-padded batches, no
//! cache), so the layers are owned here, following `modeling_qwen3.py` of transformers 5.24 and
//! candle-transformers' `qwen3.rs` (Apache-2.0/MIT) for the candle idioms. RoPE is relative, so
//! right padding with positions `0..len` gives a real token the same state as the left padding
//! Qwen3-Embedding's tokenizer uses; padding keys are masked, so padding changes no real token.
//!
//! The pieces every decoder here shares ([`Rope`], [`attention_mask`], [`attend`],
//! [`LayerKind`], [`model_root`]) live in this file and are used by `gemma3.rs` too.

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{Activation, Embedding, Linear, RmsNorm, VarBuilder};
use serde::Deserialize;

/// The attention pattern of one layer, as `layer_types` in a config.json names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum LayerKind {
    /// Every (earlier, when causal) token.
    FullAttention,
    /// Only tokens within the sliding window.
    SlidingAttention,
}

/// RoPE parameters in the layout transformers 5 writes (`rope_parameters`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct RopeParameters {
    /// Only `"default"` (plain RoPE) is implemented (`type` in older configs).
    #[serde(default, alias = "type")]
    pub(super) rope_type: Option<String>,
    /// The base wavelength.
    #[serde(default)]
    pub(super) rope_theta: Option<f64>,
}

impl RopeParameters {
    /// Fails for RoPE scaling variants (linear, dynamic, yarn, ...), which are not implemented.
    pub(super) fn check_default(&self, what: &str) -> Result<()> {
        match self.rope_type.as_deref() {
            None | Some("default") => Ok(()),
            Some(other) => candle_core::bail!(
                "config.json: {what} uses RoPE type {other:?}; lexsearch implements only plain \
                 (\"default\") RoPE"
            ),
        }
    }
}

/// A Qwen3 `config.json`, with Hugging Face's defaults for the fields it may leave out. Reads
/// both the transformers 4 layout (`rope_theta`, `rope_scaling`) and the 5 one
/// (`rope_parameters`).
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Qwen3Config {
    /// Rows of the token embedding.
    pub(super) vocab_size: usize,
    /// Width of the residual stream.
    pub(super) hidden_size: usize,
    /// Width of the gated MLP.
    pub(super) intermediate_size: usize,
    /// Decoder layers.
    pub(super) num_hidden_layers: usize,
    /// Query heads.
    pub(super) num_attention_heads: usize,
    /// Key/value heads (grouped-query attention); absent means one per query head.
    #[serde(default)]
    pub(super) num_key_value_heads: Option<usize>,
    /// Width of one head (not necessarily hidden / heads).
    #[serde(default = "qwen3_head_dim")]
    pub(super) head_dim: usize,
    /// Epsilon of every RMSNorm.
    #[serde(default = "rms_eps")]
    pub(super) rms_norm_eps: f64,
    /// RoPE base (transformers 4 layout).
    #[serde(default)]
    pub(super) rope_theta: Option<f64>,
    /// RoPE scaling (transformers 4 layout); must be absent or plain.
    #[serde(default)]
    pub(super) rope_scaling: Option<RopeParameters>,
    /// RoPE type and base (transformers 5 layout).
    #[serde(default)]
    pub(super) rope_parameters: Option<RopeParameters>,
    /// Whether q/k/v/o projections have biases.
    #[serde(default)]
    pub(super) attention_bias: bool,
    /// The MLP's gate activation (`silu` in every Qwen3).
    #[serde(default = "silu")]
    pub(super) hidden_act: Activation,
    /// Whether the layers from `max_window_layers` on use a sliding window.
    #[serde(default)]
    pub(super) use_sliding_window: bool,
    /// Width of the sliding window, when used.
    #[serde(default)]
    pub(super) sliding_window: Option<usize>,
    /// First layer with a sliding window, when `layer_types` is absent.
    #[serde(default = "qwen3_max_window_layers")]
    pub(super) max_window_layers: usize,
    /// The attention pattern per layer (transformers 5 writes it).
    #[serde(default)]
    pub(super) layer_types: Option<Vec<LayerKind>>,
}

fn qwen3_head_dim() -> usize {
    128
}
fn rms_eps() -> f64 {
    1e-6
}
fn qwen3_max_window_layers() -> usize {
    28
}
fn silu() -> Activation {
    Activation::Silu
}

impl Qwen3Config {
    /// The RoPE base: `rope_parameters.rope_theta`, else `rope_theta`, else transformers'
    /// default of 10,000.
    pub(super) fn rope_base(&self) -> f64 {
        self.rope_parameters
            .as_ref()
            .and_then(|p| p.rope_theta)
            .or(self.rope_theta)
            .unwrap_or(10_000.0)
    }

    /// The window width of sliding layers (`None`: no sliding layers).
    pub(super) fn window(&self) -> Option<usize> {
        if self.use_sliding_window {
            Some(self.sliding_window.unwrap_or(4096))
        } else {
            None
        }
    }

    /// The attention pattern of each layer, as transformers derives it.
    pub(super) fn layer_kinds(&self) -> Vec<LayerKind> {
        match &self.layer_types {
            Some(kinds) => kinds.clone(),
            None => (0..self.num_hidden_layers)
                .map(|i| {
                    if self.window().is_some() && i >= self.max_window_layers {
                        LayerKind::SlidingAttention
                    } else {
                        LayerKind::FullAttention
                    }
                })
                .collect(),
        }
    }

    fn kv_heads(&self) -> usize {
        self.num_key_value_heads.unwrap_or(self.num_attention_heads)
    }

    fn check(&self) -> Result<()> {
        for (what, p) in [
            ("rope_parameters", &self.rope_parameters),
            ("rope_scaling", &self.rope_scaling),
        ] {
            if let Some(p) = p {
                p.check_default(what)?;
            }
        }
        let kinds = self.layer_kinds();
        if kinds.len() != self.num_hidden_layers {
            candle_core::bail!(
                "config.json: layer_types names {} layers but num_hidden_layers is {}",
                kinds.len(),
                self.num_hidden_layers
            );
        }
        if self.kv_heads() == 0 || !self.num_attention_heads.is_multiple_of(self.kv_heads()) {
            candle_core::bail!(
                "config.json: num_attention_heads ({}) is not a multiple of num_key_value_heads ({})",
                self.num_attention_heads,
                self.kv_heads()
            );
        }
        Ok(())
    }
}

/// The folder of a decoder's weights: `model.` when the weights were saved from a
/// `...ForCausalLM` (or a wrapper), the root when saved from the bare model (`AutoModel`).
pub(super) fn model_root(vb: VarBuilder) -> VarBuilder {
    if vb.contains_tensor("model.embed_tokens.weight") {
        vb.pp("model")
    } else {
        vb
    }
}

/// Rotary position embedding (the non-interleaved "rotate half" form of Llama, Qwen, Gemma).
pub(super) struct Rope {
    /// `1 / base^(2i / head_dim)`, in f32 as transformers computes it.
    inv_freq: Vec<f32>,
}

impl Rope {
    /// RoPE over heads of `head_dim` with base `base`.
    pub(super) fn new(head_dim: usize, base: f64) -> Self {
        let inv_freq = (0..head_dim)
            .step_by(2)
            .map(|i| 1.0 / (base as f32).powf(i as f32 / head_dim as f32))
            .collect();
        Rope { inv_freq }
    }

    /// `(cos, sin)`, each `(len, head_dim / 2)` in `dtype`, for positions `0..len`.
    pub(super) fn tables(
        &self,
        len: usize,
        dtype: DType,
        device: &Device,
    ) -> Result<(Tensor, Tensor)> {
        let half = self.inv_freq.len();
        let mut cos = Vec::with_capacity(len * half);
        let mut sin = Vec::with_capacity(len * half);
        for pos in 0..len {
            for &f in &self.inv_freq {
                let angle = pos as f32 * f; // the f32 product transformers takes the cos of
                cos.push(angle.cos());
                sin.push(angle.sin());
            }
        }
        let table = |v: Vec<f32>| Tensor::from_vec(v, (len, half), device)?.to_dtype(dtype);
        Ok((table(cos)?, table(sin)?))
    }

    /// Rotates `x` `(n, heads, len, head_dim)` by the tables of [`Rope::tables`].
    pub(super) fn apply(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
        candle_nn::rotary_emb::rope(&x.contiguous()?, cos, sin)
    }
}

/// Which keys a query may see, besides the padding mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pattern {
    /// Keys at or before the query; with `Some(w)`, also fewer than `w` positions back.
    Causal(Option<usize>),
    /// Every key; with `Some(w)`, only those fewer than `w` positions away either way.
    Bidirectional(Option<usize>),
}

impl Pattern {
    fn allows(self, q: usize, k: usize) -> bool {
        match self {
            Pattern::Causal(window) => k <= q && window.is_none_or(|w| q - k < w),
            Pattern::Bidirectional(window) => window.is_none_or(|w| q.abs_diff(k) < w),
        }
    }
}

/// The additive attention mask `(n, 1, len, len)` in f32: 0 where query `q` of text `b` may see
/// key `k` (by `pattern`, and `k` is a real token by `mask`, `(n, len)` u32), `f32::MIN`
/// elsewhere. A query with no visible key (padding, far from every real token in a window) gets
/// a uniform, finite row: it only feeds other padding.
pub(super) fn attention_mask(mask: &Tensor, pattern: Pattern) -> Result<Tensor> {
    let (n, len) = mask.dims2()?;
    let allowed: Vec<f32> = (0..len)
        .flat_map(|q| (0..len).map(move |k| f32::from(u8::from(pattern.allows(q, k)))))
        .collect();
    let allowed = Tensor::from_vec(allowed, (1, 1, len, len), mask.device())?;
    let keep = mask.to_dtype(DType::F32)?.reshape((n, 1, 1, len))?;
    let both = allowed.broadcast_mul(&keep)?;
    // 1 -> 0, 0 -> f32::MIN.
    both.affine(f64::from(f32::MAX), f64::from(f32::MIN))
}

/// Scaled dot-product attention with grouped-query heads: `q` `(n, heads, len, d)`, `k` and `v`
/// `(n, kv_heads, len, d)`, `mask` from [`attention_mask`]. Scores are optionally soft-capped
/// (`cap · tanh(s / cap)`, Gemma 2's `attn_logit_softcapping`); the mask is added and the
/// softmax taken in f32, as transformers does, whatever the weights' dtype. Returns
/// `(n, len, heads · d)`.
pub(super) fn attend(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: &Tensor,
    scale: f64,
    softcap: Option<f64>,
) -> Result<Tensor> {
    let (n, heads, len, d) = q.dims4()?;
    let groups = heads / k.dim(1)?;
    let k = candle_transformers::utils::repeat_kv(k.clone(), groups)?.contiguous()?;
    let v = candle_transformers::utils::repeat_kv(v.clone(), groups)?.contiguous()?;
    let mut scores = (q.matmul(&k.t()?)? * scale)?;
    if let Some(cap) = softcap {
        scores = ((scores / cap)?.tanh()? * cap)?;
    }
    let scores = scores.to_dtype(DType::F32)?.broadcast_add(mask)?;
    let probs = candle_nn::ops::softmax_last_dim(&scores)?.to_dtype(v.dtype())?;
    probs
        .matmul(&v)?
        .transpose(1, 2)?
        .contiguous()?
        .reshape((n, len, heads * d))
}

/// `(n, len, heads · d)` to `(n, heads, len, d)`.
pub(super) fn split_heads(x: &Tensor, heads: usize, d: usize) -> Result<Tensor> {
    let (n, len, _) = x.dims3()?;
    x.reshape((n, len, heads, d))?.transpose(1, 2)
}

fn linear(in_dim: usize, out_dim: usize, bias: bool, vb: VarBuilder) -> Result<Linear> {
    if bias {
        candle_nn::linear(in_dim, out_dim, vb)
    } else {
        candle_nn::linear_no_bias(in_dim, out_dim, vb)
    }
}

/// One Qwen3 decoder layer, with the tensor names of `Qwen3DecoderLayer`.
struct Layer {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
    q_norm: RmsNorm,
    k_norm: RmsNorm,
    input_norm: RmsNorm,
    post_attention_norm: RmsNorm,
    gate_proj: Linear,
    up_proj: Linear,
    down_proj: Linear,
    act: Activation,
    kind: LayerKind,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
}

impl Layer {
    fn load(vb: VarBuilder, cfg: &Qwen3Config, kind: LayerKind) -> Result<Self> {
        let (hidden, d) = (cfg.hidden_size, cfg.head_dim);
        let (heads, kv_heads) = (cfg.num_attention_heads, cfg.kv_heads());
        let attn = vb.pp("self_attn");
        let mlp = vb.pp("mlp");
        let bias = cfg.attention_bias;
        let eps = cfg.rms_norm_eps;
        Ok(Layer {
            q_proj: linear(hidden, heads * d, bias, attn.pp("q_proj"))?,
            k_proj: linear(hidden, kv_heads * d, bias, attn.pp("k_proj"))?,
            v_proj: linear(hidden, kv_heads * d, bias, attn.pp("v_proj"))?,
            o_proj: linear(heads * d, hidden, bias, attn.pp("o_proj"))?,
            q_norm: candle_nn::rms_norm(d, eps, attn.pp("q_norm"))?,
            k_norm: candle_nn::rms_norm(d, eps, attn.pp("k_norm"))?,
            input_norm: candle_nn::rms_norm(hidden, eps, vb.pp("input_layernorm"))?,
            post_attention_norm: candle_nn::rms_norm(
                hidden,
                eps,
                vb.pp("post_attention_layernorm"),
            )?,
            gate_proj: candle_nn::linear_no_bias(
                hidden,
                cfg.intermediate_size,
                mlp.pp("gate_proj"),
            )?,
            up_proj: candle_nn::linear_no_bias(hidden, cfg.intermediate_size, mlp.pp("up_proj"))?,
            down_proj: candle_nn::linear_no_bias(
                cfg.intermediate_size,
                hidden,
                mlp.pp("down_proj"),
            )?,
            act: cfg.hidden_act,
            kind,
            heads,
            kv_heads,
            head_dim: d,
        })
    }

    fn forward(&self, x: &Tensor, rope: &(Tensor, Tensor), mask: &Tensor) -> Result<Tensor> {
        let d = self.head_dim;
        let h = self.input_norm.forward(x)?;
        // q_norm/k_norm act per head, before RoPE.
        let q = self
            .q_norm
            .forward(&split_heads(&self.q_proj.forward(&h)?, self.heads, d)?.contiguous()?)?;
        let k = self
            .k_norm
            .forward(&split_heads(&self.k_proj.forward(&h)?, self.kv_heads, d)?.contiguous()?)?;
        let v = split_heads(&self.v_proj.forward(&h)?, self.kv_heads, d)?;
        let q = Rope::apply(&q, &rope.0, &rope.1)?;
        let k = Rope::apply(&k, &rope.0, &rope.1)?;
        let attended = attend(&q, &k, &v, mask, 1.0 / (d as f64).sqrt(), None)?;
        let x = (x + self.o_proj.forward(&attended)?)?;
        let h = self.post_attention_norm.forward(&x)?;
        let gated =
            (self.act.forward(&self.gate_proj.forward(&h)?)? * self.up_proj.forward(&h)?)?;
        x + self.down_proj.forward(&gated)?
    }
}

/// A Qwen3 decoder without LM head: token ids in, final (normed) hidden states out.
pub(super) struct Qwen3 {
    embed: Embedding,
    layers: Vec<Layer>,
    norm: RmsNorm,
    rope: Rope,
    window: Option<usize>,
}

impl Qwen3 {
    /// Loads the weights, with or without the `model.` prefix (a `Qwen3ForCausalLM` or a bare
    /// `Qwen3Model` checkpoint).
    pub(super) fn load(vb: VarBuilder, cfg: &Qwen3Config) -> Result<Self> {
        cfg.check()?;
        let vb = model_root(vb);
        let kinds = cfg.layer_kinds();
        Ok(Qwen3 {
            embed: candle_nn::embedding(cfg.vocab_size, cfg.hidden_size, vb.pp("embed_tokens"))?,
            layers: kinds
                .iter()
                .enumerate()
                .map(|(i, &kind)| Layer::load(vb.pp(format!("layers.{i}")), cfg, kind))
                .collect::<Result<_>>()?,
            norm: candle_nn::rms_norm(cfg.hidden_size, cfg.rms_norm_eps, vb.pp("norm"))?,
            rope: Rope::new(cfg.head_dim, cfg.rope_base()),
            window: cfg.window(),
        })
    }

    /// Final hidden states `(n, len, hidden)` in the weights' dtype for right-padded `ids` and
    /// `mask` (both `(n, len)` u32; mask 1 for real tokens). Causal attention: a real token's
    /// state depends only on the tokens up to it, so padding changes none of them.
    pub(super) fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (_, len) = ids.dims2()?;
        let x = self.embed.forward(ids)?;
        let rope = self.rope.tables(len, x.dtype(), x.device())?;
        let full = attention_mask(mask, Pattern::Causal(None))?;
        let sliding = match self.window {
            Some(w)
                if self
                    .layers
                    .iter()
                    .any(|l| l.kind == LayerKind::SlidingAttention) =>
            {
                Some(attention_mask(mask, Pattern::Causal(Some(w)))?)
            }
            _ => None,
        };
        let x = self.layers.iter().try_fold(x, |x, layer| {
            let mask = match (layer.kind, &sliding) {
                (LayerKind::SlidingAttention, Some(s)) => s,
                _ => &full,
            };
            layer.forward(&x, &rope, mask)
        })?;
        self.norm.forward(&x)
    }
}

/// Helpers for the tests of the decoder backbones against a generated model folder and the
/// `references.json` Python wrote for it (`scripts/testmodels/*.py`).
#[cfg(test)]
pub(super) mod reference {
    use super::*;
    use std::path::PathBuf;

    /// A generated model folder and its references.
    pub(in crate::embed) struct Folder {
        /// The folder.
        pub dir: PathBuf,
        /// `references.json`.
        pub refs: serde_json::Value,
        /// `tokenizer.json`.
        pub tokenizer: tokenizers::Tokenizer,
    }

    /// The folder `target/test-models/<name>` made by `scripts/testmodels/<script>`, or `None`
    /// (with a SKIPPED line) when it has not been generated, unless
    /// `LEXSEARCH_REQUIRE_TEST_MODELS=1`, when its absence fails the test.
    pub(in crate::embed) fn folder(name: &str, script: &str) -> Option<Folder> {
        let root = std::env::var_os("LEXSEARCH_TEST_MODELS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-models")
            });
        let dir = root.join(name);
        if !dir.join("references.json").is_file() {
            let msg = format!(
                "SKIPPED: no {}; run PY=$(scripts/python-env); $PY scripts/testmodels/{script} {}",
                dir.display(),
                root.display()
            );
            assert!(
                std::env::var("LEXSEARCH_REQUIRE_TEST_MODELS").as_deref() != Ok("1"),
                "{msg}"
            );
            eprintln!("{msg}");
            return None;
        }
        let refs = std::fs::read_to_string(dir.join("references.json")).unwrap();
        let tokenizer = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
        Some(Folder {
            refs: serde_json::from_str(&refs).unwrap(),
            tokenizer,
            dir,
        })
    }

    impl Folder {
        /// The folder's `config.json`, parsed as `C`.
        pub fn config<C: serde::de::DeserializeOwned>(&self) -> C {
            serde_json::from_str(&std::fs::read_to_string(self.dir.join("config.json")).unwrap())
                .unwrap()
        }

        /// The f32 weights of `file` (relative to the folder) on the CPU.
        pub fn weights(&self, file: &str) -> VarBuilder<'static> {
            self.weights_as(file, DType::F32)
        }

        /// The weights of `file` in `dtype` on the CPU.
        pub fn weights_as(&self, file: &str, dtype: DType) -> VarBuilder<'static> {
            let bytes = std::fs::read(self.dir.join(file)).unwrap();
            VarBuilder::from_buffered_safetensors(bytes, dtype, &Device::Cpu).unwrap()
        }

        /// A string list of the references.
        pub fn strings(&self, key: &str) -> Vec<String> {
            serde_json::from_value(self.refs[key].clone()).unwrap()
        }

        /// A list of vectors of the references.
        pub fn vectors(&self, key: &str) -> Vec<Vec<f32>> {
            serde_json::from_value(self.refs[key].clone()).unwrap()
        }

        /// The token ids of each text as sentence-transformers' `encode_document` saw it: the
        /// document prompt, then the text (the reference vectors prove it was so).
        pub fn document_ids(&self) -> Vec<Vec<u32>> {
            let prompt = self.refs["document_prompt"].as_str().unwrap();
            self.strings("texts")
                .iter()
                .map(|t| self.ids(&format!("{prompt}{t}")))
                .collect()
        }

        /// The token ids of `text`, with the tokenizer's special tokens.
        pub fn ids(&self, text: &str) -> Vec<u32> {
            self.tokenizer
                .encode(text, true)
                .unwrap()
                .get_ids()
                .to_vec()
        }
    }

    /// `(ids, mask)` `(n, len)` u32 for token id lists, right-padded with id 0.
    pub(in crate::embed) fn right_padded(ids: &[Vec<u32>]) -> (Tensor, Tensor) {
        let len = ids.iter().map(Vec::len).max().unwrap();
        let mut flat = Vec::new();
        let mut mask = Vec::new();
        for seq in ids {
            flat.extend(
                seq.iter()
                    .copied()
                    .chain(std::iter::repeat_n(0, len - seq.len())),
            );
            mask.extend((0..len).map(|i| u32::from(i < seq.len())));
        }
        let n = ids.len();
        (
            Tensor::from_vec(flat, (n, len), &Device::Cpu).unwrap(),
            Tensor::from_vec(mask, (n, len), &Device::Cpu).unwrap(),
        )
    }

    /// The first 20 characters of `text`, to name it in messages.
    pub(in crate::embed) fn label(text: &str) -> String {
        text.chars().take(20).collect()
    }

    /// Cosine similarity.
    pub(in crate::embed) fn cosine(a: &[f32], b: &[f32]) -> f64 {
        assert_eq!(a.len(), b.len(), "dimensions differ");
        let dot: f64 = a
            .iter()
            .zip(b)
            .map(|(x, y)| f64::from(*x) * f64::from(*y))
            .sum();
        let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        dot / (norm(a) * norm(b))
    }

    /// Asserts that every `got[i]` has cosine at least 0.99999 with `want[i]`.
    pub(in crate::embed) fn assert_close(what: &str, got: &[Vec<f32>], want: &[Vec<f32>]) {
        assert_eq!(got.len(), want.len(), "{what}: counts differ");
        let mut worst = 1f64;
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            let c = cosine(g, w);
            assert!(c >= 0.99999, "{what} #{i}: cosine {c}");
            worst = worst.min(c);
        }
        eprintln!(
            "{what}: lowest cosine {worst:.9} (1 - cos = {:.1e})",
            1.0 - worst
        );
    }

    /// Asserts that `forward` gives transformers' hidden states (the references'
    /// `hidden_alone`) at every token of every text run alone, from the ids Python used.
    pub(in crate::embed) fn assert_hidden_states_match(
        f: &Folder,
        forward: impl Fn(&Tensor, &Tensor) -> Tensor,
    ) {
        let want: Vec<Vec<Vec<f32>>> =
            serde_json::from_value(f.refs["hidden_alone"].clone()).unwrap();
        let python: Vec<Vec<u32>> = serde_json::from_value(f.refs["token_ids"].clone()).unwrap();
        let texts = f.strings("texts");
        assert_eq!((texts.len(), want.len()), (python.len(), python.len()));
        for ((text, want), python) in texts.iter().zip(&want).zip(&python) {
            let ids = f.ids(text);
            assert_eq!(
                &ids, python,
                "the tokenizer gives other ids than Python's for {text:?}"
            );
            let (t, mask) = right_padded(&[ids]);
            let got = forward(&t, &mask).get(0).unwrap().to_vec2::<f32>().unwrap();
            assert_close(&format!("hidden states of {:?}", label(text)), &got, want);
        }
    }

    /// Asserts that right padding changes no real token's state: each sequence alone gives
    /// the rows it has in the padded batch (within 1e-4).
    pub(in crate::embed) fn assert_padding_changes_nothing(
        ids: &[Vec<u32>],
        forward: impl Fn(&Tensor, &Tensor) -> Tensor,
    ) {
        let (t, mask) = right_padded(ids);
        let batch = forward(&t, &mask);
        for (b, seq) in ids.iter().enumerate() {
            let (one, one_mask) = right_padded(std::slice::from_ref(seq));
            let alone = forward(&one, &one_mask).get(0).unwrap();
            let padded = batch.get(b).unwrap().narrow(0, 0, seq.len()).unwrap();
            let diff = (alone - padded).unwrap().abs().unwrap().max_all().unwrap();
            assert!(diff.to_scalar::<f32>().unwrap() < 1e-4, "text {b}: {diff}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::reference::*;
    use super::*;

    const SCRIPT: &str = "qwen3.py";

    fn model(f: &Folder) -> Qwen3 {
        Qwen3::load(f.weights("model.safetensors"), &f.config()).unwrap()
    }

    #[test]
    fn the_test_tokenizer_gives_the_ids_python_used() {
        let Some(f) = folder("qwen3-tiny", SCRIPT) else {
            return;
        };
        let want: Vec<Vec<u32>> = serde_json::from_value(f.refs["token_ids"].clone()).unwrap();
        let got: Vec<Vec<u32>> = f.strings("texts").iter().map(|t| f.ids(t)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn qwen3_hidden_states_equal_transformers_at_every_token() {
        let Some(f) = folder("qwen3-tiny", SCRIPT) else {
            return;
        };
        let m = model(&f);
        assert_hidden_states_match(&f, |t, mask| m.forward(t, mask).unwrap());
    }

    #[test]
    fn qwen3_in_f16_and_bf16_stays_finite_and_close() {
        let Some(f) = folder("qwen3-tiny", SCRIPT) else {
            return;
        };
        let ids = f.document_ids();
        for dtype in [DType::F16, DType::BF16] {
            let m = Qwen3::load(f.weights_as("model.safetensors", dtype), &f.config()).unwrap();
            let (t, mask) = right_padded(&ids);
            let hidden = m.forward(&t, &mask).unwrap().to_dtype(DType::F32).unwrap();
            for (b, (seq, want)) in ids.iter().zip(f.vectors("batched")).enumerate() {
                let v = hidden.get(b).unwrap().get(seq.len() - 1).unwrap();
                let c = cosine(&v.to_vec1::<f32>().unwrap(), &want);
                assert!(c > 0.99, "{dtype:?} text {b}: cosine {c}");
            }
        }
    }

    #[test]
    fn padding_changes_no_real_tokens_state() {
        let Some(f) = folder("qwen3-tiny", SCRIPT) else {
            return;
        };
        let m = model(&f);
        let ids: Vec<Vec<u32>> = f.strings("texts").iter().map(|t| f.ids(t)).collect();
        assert_padding_changes_nothing(&ids, |t, mask| m.forward(t, mask).unwrap());
    }

    #[test]
    fn weights_saved_with_the_model_prefix_give_the_same_states() {
        // A Qwen3ForCausalLM checkpoint names its tensors `model.layers.0...`.
        let Some(f) = folder("qwen3-tiny", SCRIPT) else {
            return;
        };
        let bytes = std::fs::read(f.dir.join("model.safetensors")).unwrap();
        let prefixed = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)
            .unwrap()
            .into_iter()
            .map(|(name, t)| (format!("model.{name}"), t))
            .collect();
        let vb = VarBuilder::from_tensors(prefixed, DType::F32, &Device::Cpu);
        let with_prefix = Qwen3::load(vb, &f.config()).unwrap();
        let (ids, mask) = right_padded(&[f.ids("A contract for the sale of land")]);
        let a = with_prefix.forward(&ids, &mask).unwrap();
        let b = model(&f).forward(&ids, &mask).unwrap();
        let diff = (a - b).unwrap().abs().unwrap().max_all().unwrap();
        assert_eq!(diff.to_scalar::<f32>().unwrap(), 0.0);
    }

    #[test]
    fn a_sliding_window_hides_keys_at_or_beyond_its_width() {
        let mask = Tensor::new(&[[1u32, 1, 1, 1, 0]], &Device::Cpu).unwrap();
        let visible = |p| {
            attention_mask(&mask, p)
                .unwrap()
                .squeeze(0)
                .unwrap()
                .squeeze(0)
                .unwrap()
                .to_vec2::<f32>()
                .unwrap()
                .into_iter()
                .map(|row| row.iter().map(|&x| u8::from(x == 0.0)).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        };
        assert_eq!(visible(Pattern::Causal(Some(2)))[3], [0, 0, 1, 1, 0]);
        assert_eq!(visible(Pattern::Causal(None))[2], [1, 1, 1, 0, 0]);
        assert_eq!(visible(Pattern::Bidirectional(Some(2)))[1], [1, 1, 1, 0, 0]);
        assert_eq!(visible(Pattern::Bidirectional(None))[0], [1, 1, 1, 1, 0]);
    }

    #[test]
    fn a_qwen3_embedding_config_in_the_transformers_4_layout_parses() {
        // The fields of Qwen/Qwen3-Embedding-0.6B's config.json that matter here.
        let cfg: Qwen3Config = serde_json::from_str(
            r#"{"architectures": ["Qwen3ForCausalLM"], "attention_bias": false,
                "head_dim": 128, "hidden_act": "silu", "hidden_size": 1024,
                "intermediate_size": 3072, "max_position_embeddings": 32768,
                "max_window_layers": 28, "model_type": "qwen3", "num_attention_heads": 16,
                "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
                "rope_scaling": null, "rope_theta": 1000000, "sliding_window": null,
                "tie_word_embeddings": true, "torch_dtype": "bfloat16",
                "use_cache": true, "use_sliding_window": false, "vocab_size": 151669}"#,
        )
        .unwrap();
        cfg.check().unwrap();
        assert_eq!(cfg.rope_base(), 1e6);
        assert_eq!(cfg.layer_kinds(), vec![LayerKind::FullAttention; 28]);
        assert_eq!((cfg.head_dim, cfg.kv_heads()), (128, 8));
    }

    #[test]
    fn rope_scaling_other_than_plain_is_refused_with_its_name() {
        let cfg: Qwen3Config = serde_json::from_str(
            r#"{"vocab_size": 8, "hidden_size": 8, "intermediate_size": 8,
                "num_hidden_layers": 1, "num_attention_heads": 1,
                "rope_scaling": {"rope_type": "yarn", "factor": 4.0}}"#,
        )
        .unwrap();
        let err = cfg.check().unwrap_err().to_string();
        assert!(err.contains("yarn"), "{err}");
    }
}
