//! The Gemma 3 text decoder as an embedding backbone (google/embeddinggemma-300m): token ids and
//! a padding mask in, the final hidden state of every token out, equal to Hugging Face's
//! `Gemma3TextModel(...).last_hidden_state`.
//!
//! `candle_transformers::models::gemma3` is written for causal generation with a KV cache and
//! no padding mask; embeddinggemma attends *bidirectionally* (`use_bidirectional_attention`),
//! so the layers are owned here, following `modeling_gemma3.py` of transformers 5.24 (and
//! candle-transformers' `gemma3.rs`, Apache-2.0/MIT, for the candle idioms). What sets Gemma 3
//! apart from Qwen3 (whose shared pieces this file uses):
//!
//! - token embeddings are multiplied by √hidden (rounded to the weights' dtype);
//! - every RMSNorm multiplies by `1 + weight`, and a layer has four: before and after attention,
//!   before and after the MLP;
//! - the MLP's gate is GELU with the tanh approximation;
//! - attention scores are scaled by `query_pre_attn_scalar^-1/2`, not `head_dim^-1/2`;
//! - `layer_types` mixes sliding-window layers (RoPE base `rope_local_base_freq`) with global
//!   ones (RoPE base `rope_theta`);
//! - with bidirectional attention, transformers turns the configured window `w` into
//!   `w / 2 + 1` and lets a token see those fewer than that many positions away on *either*
//!   side (`|q - k| ≤ w / 2`); global layers see every real token. Causal Gemma 3 (a generative
//!   checkpoint) is supported too: there a token sees the `w` last positions up to itself.

use super::qwen3::{
    LayerKind, Pattern, Rope, RopeParameters, attend, attention_mask, model_root, split_heads,
};
use candle_core::{DType, Module, Result, Tensor};
use candle_nn::{Activation, Embedding, Linear, RmsNorm, VarBuilder};
use serde::Deserialize;

/// Per-layer-kind RoPE parameters in the layout transformers 5 writes for Gemma 3.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Gemma3RopeParameters {
    /// RoPE of the global layers.
    #[serde(default)]
    pub(super) full_attention: Option<RopeParameters>,
    /// RoPE of the sliding-window layers.
    #[serde(default)]
    pub(super) sliding_attention: Option<RopeParameters>,
}

/// A Gemma 3 text `config.json` (`model_type` `gemma3_text`), with Hugging Face's defaults for
/// the fields it may leave out. Reads both the transformers 4 layout (`rope_theta`,
/// `rope_local_base_freq`, `rope_scaling`, `sliding_window_pattern`) and the 5 one
/// (`rope_parameters` per layer kind, `layer_types`).
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Gemma3Config {
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
    /// Key/value heads (grouped-query attention).
    #[serde(default = "gemma3_kv_heads")]
    pub(super) num_key_value_heads: usize,
    /// Width of one head.
    #[serde(default = "gemma3_head_dim")]
    pub(super) head_dim: usize,
    /// Epsilon of every RMSNorm.
    #[serde(default = "rms_eps")]
    pub(super) rms_norm_eps: f64,
    /// Attention scores are multiplied by `query_pre_attn_scalar^-1/2`.
    #[serde(default = "gemma3_query_scalar")]
    pub(super) query_pre_attn_scalar: f64,
    /// The configured window of sliding layers (see the module docs for how it applies).
    #[serde(default = "gemma3_window")]
    pub(super) sliding_window: Option<usize>,
    /// Every n-th layer is global, when `layer_types` is absent.
    #[serde(default, alias = "_sliding_window_pattern")]
    pub(super) sliding_window_pattern: Option<usize>,
    /// The attention pattern per layer.
    #[serde(default)]
    pub(super) layer_types: Option<Vec<LayerKind>>,
    /// RoPE base of global layers (transformers 4 layout).
    #[serde(default)]
    pub(super) rope_theta: Option<f64>,
    /// RoPE base of sliding layers (transformers 4 layout).
    #[serde(default)]
    pub(super) rope_local_base_freq: Option<f64>,
    /// RoPE scaling of global layers (transformers 4 layout); must be absent or plain.
    #[serde(default)]
    pub(super) rope_scaling: Option<RopeParameters>,
    /// RoPE per layer kind (transformers 5 layout).
    #[serde(default)]
    pub(super) rope_parameters: Option<Gemma3RopeParameters>,
    /// Soft cap of the attention scores (Gemma 2; `null` in Gemma 3).
    #[serde(default)]
    pub(super) attn_logit_softcapping: Option<f64>,
    /// Bidirectional (embeddinggemma) rather than causal attention.
    #[serde(default)]
    pub(super) use_bidirectional_attention: Option<bool>,
    /// The MLP's gate activation (`gelu_pytorch_tanh`).
    #[serde(default = "gelu_tanh")]
    pub(super) hidden_activation: Activation,
    /// Whether q/k/v/o projections have biases.
    #[serde(default)]
    pub(super) attention_bias: bool,
}

fn gemma3_kv_heads() -> usize {
    4
}
fn gemma3_head_dim() -> usize {
    256
}
fn rms_eps() -> f64 {
    1e-6
}
fn gemma3_query_scalar() -> f64 {
    256.0
}
fn gemma3_window() -> Option<usize> {
    Some(4096)
}
fn gelu_tanh() -> Activation {
    Activation::GeluPytorchTanh
}

impl Gemma3Config {
    fn bidirectional(&self) -> bool {
        self.use_bidirectional_attention.unwrap_or(false)
    }

    /// The attention pattern of each layer, as transformers derives it.
    pub(super) fn layer_kinds(&self) -> Vec<LayerKind> {
        match &self.layer_types {
            Some(kinds) => kinds.clone(),
            None => {
                let every = self.sliding_window_pattern.unwrap_or(6).max(1);
                (0..self.num_hidden_layers)
                    .map(|i| {
                        if (i + 1) % every == 0 {
                            LayerKind::FullAttention
                        } else {
                            LayerKind::SlidingAttention
                        }
                    })
                    .collect()
            }
        }
    }

    /// The keys each kind of layer lets a query see.
    pub(super) fn pattern(&self, kind: LayerKind) -> Pattern {
        let window = match kind {
            LayerKind::FullAttention => None,
            LayerKind::SlidingAttention => self.sliding_window,
        };
        if self.bidirectional() {
            Pattern::Bidirectional(window.map(|w| w / 2 + 1))
        } else {
            Pattern::Causal(window)
        }
    }

    /// RoPE bases `(global, sliding)`: `rope_parameters` first, then the transformers 4 fields,
    /// then transformers' defaults (1,000,000 and 10,000).
    pub(super) fn rope_bases(&self) -> (f64, f64) {
        let p = self.rope_parameters.clone().unwrap_or_default();
        let theta = |p: &Option<RopeParameters>| p.as_ref().and_then(|p| p.rope_theta);
        (
            theta(&p.full_attention).or(self.rope_theta).unwrap_or(1e6),
            theta(&p.sliding_attention)
                .or(self.rope_local_base_freq)
                .unwrap_or(1e4),
        )
    }

    fn check(&self) -> Result<()> {
        if let Some(p) = &self.rope_parameters {
            for (what, p) in [
                ("rope_parameters.full_attention", &p.full_attention),
                ("rope_parameters.sliding_attention", &p.sliding_attention),
            ] {
                if let Some(p) = p {
                    p.check_default(what)?;
                }
            }
        }
        if let Some(p) = &self.rope_scaling {
            p.check_default("rope_scaling")?;
        }
        let kinds = self.layer_kinds();
        if kinds.len() != self.num_hidden_layers {
            candle_core::bail!(
                "config.json: layer_types names {} layers but num_hidden_layers is {}",
                kinds.len(),
                self.num_hidden_layers
            );
        }
        if kinds.contains(&LayerKind::SlidingAttention) && self.sliding_window.is_none() {
            candle_core::bail!("config.json: sliding_attention layers but sliding_window is null");
        }
        if self.num_key_value_heads == 0
            || !self
                .num_attention_heads
                .is_multiple_of(self.num_key_value_heads)
        {
            candle_core::bail!(
                "config.json: num_attention_heads ({}) is not a multiple of num_key_value_heads ({})",
                self.num_attention_heads,
                self.num_key_value_heads
            );
        }
        Ok(())
    }
}

/// Gemma's RMSNorm, `x / rms(x) · (1 + weight)`: candle-nn's with `1 + weight` precomputed.
fn norm(size: usize, eps: f64, vb: VarBuilder) -> Result<RmsNorm> {
    let w = vb.get(size, "weight")?;
    let one_plus = (w.to_dtype(DType::F32)? + 1.0)?.to_dtype(w.dtype())?;
    Ok(RmsNorm::new(one_plus, eps))
}

fn linear(in_dim: usize, out_dim: usize, bias: bool, vb: VarBuilder) -> Result<Linear> {
    if bias {
        candle_nn::linear(in_dim, out_dim, vb)
    } else {
        candle_nn::linear_no_bias(in_dim, out_dim, vb)
    }
}

/// One Gemma 3 decoder layer, with the tensor names of `Gemma3DecoderLayer`.
struct Layer {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
    q_norm: RmsNorm,
    k_norm: RmsNorm,
    input_norm: RmsNorm,
    post_attention_norm: RmsNorm,
    pre_feedforward_norm: RmsNorm,
    post_feedforward_norm: RmsNorm,
    gate_proj: Linear,
    up_proj: Linear,
    down_proj: Linear,
    act: Activation,
    kind: LayerKind,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    scale: f64,
    softcap: Option<f64>,
}

impl Layer {
    fn load(vb: VarBuilder, cfg: &Gemma3Config, kind: LayerKind) -> Result<Self> {
        let (hidden, d) = (cfg.hidden_size, cfg.head_dim);
        let (heads, kv_heads) = (cfg.num_attention_heads, cfg.num_key_value_heads);
        let (attn, mlp) = (vb.pp("self_attn"), vb.pp("mlp"));
        let (bias, eps, inner) = (cfg.attention_bias, cfg.rms_norm_eps, cfg.intermediate_size);
        Ok(Layer {
            q_proj: linear(hidden, heads * d, bias, attn.pp("q_proj"))?,
            k_proj: linear(hidden, kv_heads * d, bias, attn.pp("k_proj"))?,
            v_proj: linear(hidden, kv_heads * d, bias, attn.pp("v_proj"))?,
            o_proj: linear(heads * d, hidden, bias, attn.pp("o_proj"))?,
            q_norm: norm(d, eps, attn.pp("q_norm"))?,
            k_norm: norm(d, eps, attn.pp("k_norm"))?,
            input_norm: norm(hidden, eps, vb.pp("input_layernorm"))?,
            post_attention_norm: norm(hidden, eps, vb.pp("post_attention_layernorm"))?,
            pre_feedforward_norm: norm(hidden, eps, vb.pp("pre_feedforward_layernorm"))?,
            post_feedforward_norm: norm(hidden, eps, vb.pp("post_feedforward_layernorm"))?,
            gate_proj: candle_nn::linear_no_bias(hidden, inner, mlp.pp("gate_proj"))?,
            up_proj: candle_nn::linear_no_bias(hidden, inner, mlp.pp("up_proj"))?,
            down_proj: candle_nn::linear_no_bias(inner, hidden, mlp.pp("down_proj"))?,
            act: cfg.hidden_activation,
            kind,
            heads,
            kv_heads,
            head_dim: d,
            scale: cfg.query_pre_attn_scalar.powf(-0.5),
            softcap: cfg.attn_logit_softcapping,
        })
    }

    fn forward(&self, x: &Tensor, rope: &(Tensor, Tensor), mask: &Tensor) -> Result<Tensor> {
        let d = self.head_dim;
        let h = self.input_norm.forward(x)?;
        let heads = |proj: &Linear, n: usize| split_heads(&proj.forward(&h)?, n, d)?.contiguous();
        let q = self.q_norm.forward(&heads(&self.q_proj, self.heads)?)?;
        let k = self.k_norm.forward(&heads(&self.k_proj, self.kv_heads)?)?;
        let v = heads(&self.v_proj, self.kv_heads)?;
        let q = Rope::apply(&q, &rope.0, &rope.1)?;
        let k = Rope::apply(&k, &rope.0, &rope.1)?;
        let attended = attend(&q, &k, &v, mask, self.scale, self.softcap)?;
        let x = (x + self
            .post_attention_norm
            .forward(&self.o_proj.forward(&attended)?)?)?;
        let h = self.pre_feedforward_norm.forward(&x)?;
        let gated =
            (self.act.forward(&self.gate_proj.forward(&h)?)? * self.up_proj.forward(&h)?)?;
        x + self
            .post_feedforward_norm
            .forward(&self.down_proj.forward(&gated)?)?
    }
}

/// A Gemma 3 text decoder without LM head: token ids in, final (normed) hidden states out.
pub(super) struct Gemma3 {
    embed: Embedding,
    embed_scale: f64,
    layers: Vec<Layer>,
    norm: RmsNorm,
    global_rope: Rope,
    local_rope: Rope,
    full: Pattern,
    sliding: Pattern,
}

impl Gemma3 {
    /// Loads the weights, with or without the `model.` prefix (a `Gemma3ForCausalLM` or a bare
    /// `Gemma3TextModel` checkpoint, as embeddinggemma's is).
    pub(super) fn load(vb: VarBuilder, cfg: &Gemma3Config) -> Result<Self> {
        cfg.check()?;
        let vb = model_root(vb);
        let (global, local) = cfg.rope_bases();
        Ok(Gemma3 {
            embed: candle_nn::embedding(cfg.vocab_size, cfg.hidden_size, vb.pp("embed_tokens"))?,
            embed_scale: (cfg.hidden_size as f64).sqrt(),
            layers: cfg
                .layer_kinds()
                .into_iter()
                .enumerate()
                .map(|(i, kind)| Layer::load(vb.pp(format!("layers.{i}")), cfg, kind))
                .collect::<Result<_>>()?,
            norm: norm(cfg.hidden_size, cfg.rms_norm_eps, vb.pp("norm"))?,
            global_rope: Rope::new(cfg.head_dim, global),
            local_rope: Rope::new(cfg.head_dim, local),
            full: cfg.pattern(LayerKind::FullAttention),
            sliding: cfg.pattern(LayerKind::SlidingAttention),
        })
    }

    /// Final hidden states `(n, len, hidden)` in the weights' dtype for right-padded `ids` and
    /// `mask` (both `(n, len)` u32; mask 1 for real tokens). Padding keys are masked in every
    /// layer, so padding changes no real token's state.
    pub(super) fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (_, len) = ids.dims2()?;
        let x = self.embed.forward(ids)?;
        // transformers multiplies by √hidden cast to the weights' dtype (55.5 in bf16 for 3072).
        let scale = Tensor::new(self.embed_scale as f32, x.device())?.to_dtype(x.dtype())?;
        let x = x.broadcast_mul(&scale)?;
        let (dtype, device) = (x.dtype(), x.device().clone());
        let global = self.global_rope.tables(len, dtype, &device)?;
        let local = self.local_rope.tables(len, dtype, &device)?;
        let full = attention_mask(mask, self.full)?;
        let sliding = if self
            .layers
            .iter()
            .any(|l| l.kind == LayerKind::SlidingAttention)
        {
            Some(attention_mask(mask, self.sliding)?)
        } else {
            None
        };
        let x = self
            .layers
            .iter()
            .try_fold(x, |x, layer| match (layer.kind, &sliding) {
                (LayerKind::SlidingAttention, Some(s)) => layer.forward(&x, &local, s),
                _ => layer.forward(&x, &global, &full),
            })?;
        self.norm.forward(&x)
    }
}

#[cfg(test)]
mod tests {
    use super::super::qwen3::reference::*;
    use super::*;

    const SCRIPT: &str = "gemma3.py";

    fn model(f: &Folder) -> Gemma3 {
        Gemma3::load(f.weights("model.safetensors"), &f.config()).unwrap()
    }

    #[test]
    fn gemma3_hidden_states_equal_transformers_at_every_token() {
        let Some(f) = folder("embeddinggemma-tiny", SCRIPT) else {
            return;
        };
        let m = model(&f);
        assert_hidden_states_match(&f, |t, mask| m.forward(t, mask).unwrap());
    }

    #[test]
    fn gemma3_in_bf16_and_f16_stays_finite_and_close() {
        let Some(f) = folder("embeddinggemma-tiny", SCRIPT) else {
            return;
        };
        let ids: Vec<Vec<u32>> = f.strings("texts").iter().map(|t| f.ids(t)).collect();
        let want: Vec<Vec<Vec<f32>>> =
            serde_json::from_value(f.refs["hidden_alone"].clone()).unwrap();
        for dtype in [DType::BF16, DType::F16] {
            let m = Gemma3::load(f.weights_as("model.safetensors", dtype), &f.config()).unwrap();
            let (t, mask) = right_padded(&ids);
            let hidden = m.forward(&t, &mask).unwrap().to_dtype(DType::F32).unwrap();
            for (b, (seq, want)) in ids.iter().zip(&want).enumerate() {
                let got = hidden.get(b).unwrap().narrow(0, 0, seq.len()).unwrap();
                for (i, (g, w)) in got.to_vec2::<f32>().unwrap().iter().zip(want).enumerate() {
                    let c = cosine(g, w);
                    assert!(c > 0.99, "{dtype:?} text {b} token {i}: cosine {c}");
                }
            }
        }
    }

    #[test]
    fn bidirectional_padding_changes_no_real_tokens_state() {
        let Some(f) = folder("embeddinggemma-tiny", SCRIPT) else {
            return;
        };
        let m = model(&f);
        let ids: Vec<Vec<u32>> = f.strings("texts").iter().map(|t| f.ids(t)).collect();
        assert_padding_changes_nothing(&ids, |t, mask| m.forward(t, mask).unwrap());
    }

    #[test]
    fn the_sliding_window_of_the_test_model_is_shorter_than_its_longest_text() {
        // Otherwise the tests above would not prove the window right.
        let Some(f) = folder("embeddinggemma-tiny", SCRIPT) else {
            return;
        };
        let cfg: Gemma3Config = f.config();
        let longest = f
            .strings("texts")
            .iter()
            .map(|t| f.ids(t).len())
            .max()
            .unwrap();
        assert!(cfg.sliding_window.unwrap() < longest);
        let kinds = cfg.layer_kinds();
        assert!(
            kinds.contains(&LayerKind::SlidingAttention)
                && kinds.contains(&LayerKind::FullAttention)
        );
    }

    #[test]
    fn embeddinggemmas_config_gives_a_symmetric_window_and_two_rope_bases() {
        // The fields of google/embeddinggemma-300m's config.json that matter here.
        let cfg: Gemma3Config = serde_json::from_str(
            r#"{"_sliding_window_pattern": 6, "architectures": ["Gemma3TextModel"],
                "attention_bias": false, "attn_logit_softcapping": null,
                "final_logit_softcapping": null, "head_dim": 256,
                "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 768,
                "intermediate_size": 1152, "max_position_embeddings": 2048,
                "model_type": "gemma3_text", "num_attention_heads": 3,
                "num_hidden_layers": 24, "num_key_value_heads": 1,
                "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06,
                "rope_local_base_freq": 10000.0, "rope_scaling": null,
                "rope_theta": 1000000.0, "sliding_window": 512,
                "use_bidirectional_attention": true, "vocab_size": 262144}"#,
        )
        .unwrap();
        cfg.check().unwrap();
        assert_eq!(cfg.rope_bases(), (1e6, 1e4));
        let kinds = cfg.layer_kinds();
        assert_eq!(
            kinds
                .iter()
                .filter(|&&k| k == LayerKind::FullAttention)
                .count(),
            4
        );
        assert_eq!(kinds[5], LayerKind::FullAttention);
        // transformers: sliding_window // 2 + 1 = 257, exclusive, on both sides.
        assert_eq!(
            cfg.pattern(LayerKind::SlidingAttention),
            Pattern::Bidirectional(Some(257))
        );
        assert_eq!(
            cfg.pattern(LayerKind::FullAttention),
            Pattern::Bidirectional(None)
        );
        assert_eq!(cfg.hidden_activation, Activation::GeluPytorchTanh);
    }

    #[test]
    fn a_causal_gemma3_keeps_the_window_behind_each_token() {
        let cfg: Gemma3Config = serde_json::from_str(
            r#"{"vocab_size": 8, "hidden_size": 8, "intermediate_size": 8,
                "num_hidden_layers": 2, "num_attention_heads": 1, "num_key_value_heads": 1,
                "sliding_window": 512, "sliding_window_pattern": 2}"#,
        )
        .unwrap();
        assert_eq!(
            cfg.layer_kinds(),
            [LayerKind::SlidingAttention, LayerKind::FullAttention]
        );
        assert_eq!(
            cfg.pattern(LayerKind::SlidingAttention),
            Pattern::Causal(Some(512))
        );
    }
}
