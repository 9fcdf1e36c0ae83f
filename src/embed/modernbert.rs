//! The ModernBERT encoder, with the tensor names and arithmetic of Hugging Face's
//! `ModernBertModel`: pre-norm layers, rotary positions, GeGLU feed-forward, and attention that
//! alternates between global layers and local ones (a sliding window of `local_attention`
//! tokens in total, `local_attention / 2` on each side), each kind with its own RoPE theta.
//!
//! `candle_transformers::models::modernbert` is not used: it ignores the `*_bias` and
//! `hidden_activation` settings and builds its masks in f32 only (a half-precision model fails).
//! Hugging Face unpads the batch before attention; here padding stays in place, masked out of
//! every real token's attention, and every real token keeps its position, so a text gives the
//! same vectors alone or in a batch.

use candle_core::{D, DType, Device, Module, Result, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder};
use serde_json::Value;

use super::bert::{gelu_erf, lowest};

/// What the forward pass needs from config.json. Reads both the form of configs on the Hub
/// (`global_attn_every_n_layers`, `global_rope_theta`, `local_rope_theta`) and the one
/// transformers 5 writes (`layer_types`, `rope_parameters`).
#[derive(Debug, Clone)]
pub(crate) struct ModernBertConfig {
    vocab_size: usize,
    hidden_size: usize,
    heads: usize,
    intermediate_size: usize,
    norm_eps: f64,
    norm_bias: bool,
    attention_bias: bool,
    mlp_bias: bool,
    activation: String,
    /// Total width of the local attention window.
    local_attention: usize,
    /// For each layer: whether it attends locally (a sliding window).
    sliding: Vec<bool>,
    global_theta: f64,
    local_theta: f64,
}

impl ModernBertConfig {
    /// Reads config.json; the message names the missing or odd field.
    pub(crate) fn from_json(v: &Value) -> std::result::Result<Self, String> {
        let size = |k: &str| {
            v.get(k)
                .and_then(Value::as_u64)
                .map(|n| n as usize)
                .ok_or_else(|| format!("no {k}"))
        };
        let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
        let layers = size("num_hidden_layers")?;
        let sliding = match v.get("layer_types").and_then(Value::as_array) {
            Some(types) => types
                .iter()
                .map(|t| match t.as_str() {
                    Some("sliding_attention") => Ok(true),
                    Some("full_attention") => Ok(false),
                    other => Err(format!("layer type {other:?} is not supported")),
                })
                .collect::<std::result::Result<Vec<_>, _>>()?,
            None => {
                let every = v
                    .get("global_attn_every_n_layers")
                    .and_then(Value::as_u64)
                    .unwrap_or(3)
                    .max(1) as usize;
                (0..layers).map(|i| i % every != 0).collect()
            }
        };
        if sliding.len() != layers {
            return Err(format!(
                "layer_types lists {} layers but num_hidden_layers is {layers}",
                sliding.len()
            ));
        }
        let theta = |kind: &str, old: &str, default: f64| {
            v.get("rope_parameters")
                .and_then(|r| r.get(kind)?.get("rope_theta")?.as_f64())
                .or_else(|| v.get(old)?.as_f64())
                .unwrap_or(default)
        };
        for kind in ["full_attention", "sliding_attention"] {
            if let Some(t) = v
                .get("rope_parameters")
                .and_then(|r| r.get(kind)?.get("rope_type")?.as_str())
                && t != "default"
            {
                return Err(format!("rope_type {t:?} is not supported (default is)"));
            }
        }
        Ok(ModernBertConfig {
            vocab_size: size("vocab_size")?,
            hidden_size: size("hidden_size")?,
            heads: size("num_attention_heads")?,
            intermediate_size: size("intermediate_size")?,
            norm_eps: v.get("norm_eps").and_then(Value::as_f64).unwrap_or(1e-5),
            norm_bias: flag("norm_bias"),
            attention_bias: flag("attention_bias"),
            mlp_bias: flag("mlp_bias"),
            activation: v
                .get("hidden_activation")
                .and_then(Value::as_str)
                .unwrap_or("gelu")
                .to_string(),
            local_attention: v
                .get("local_attention")
                .and_then(Value::as_u64)
                .unwrap_or(128) as usize,
            sliding,
            global_theta: theta("full_attention", "global_rope_theta", 160_000.0),
            local_theta: theta("sliding_attention", "local_rope_theta", 10_000.0),
        })
    }
}

/// The activation inside the GeGLU feed-forward layer.
#[derive(Debug, Clone, Copy)]
enum Act {
    GeluErf,
    GeluTanh,
    Silu,
    Relu,
}

struct Layer {
    attn_norm: Option<LayerNorm>,
    qkv: Linear,
    out: Linear,
    mlp_norm: LayerNorm,
    wi: Linear,
    wo: Linear,
    sliding: bool,
}

/// A ModernBERT encoder without head: token ids in, one hidden vector per token out.
pub(crate) struct ModernBert {
    embeddings: Embedding,
    norm: LayerNorm,
    layers: Vec<Layer>,
    final_norm: LayerNorm,
    act: Act,
    heads: usize,
    head_size: usize,
    /// Tokens on each side a local layer sees.
    half_window: usize,
    global_inv_freq: Vec<f32>,
    local_inv_freq: Vec<f32>,
}

fn norm(size: usize, cfg: &ModernBertConfig, vb: VarBuilder) -> Result<LayerNorm> {
    if cfg.norm_bias {
        candle_nn::layer_norm(size, cfg.norm_eps, vb)
    } else {
        candle_nn::layer_norm_no_bias(size, cfg.norm_eps, vb)
    }
}

fn inv_freq(head_size: usize, theta: f64) -> Vec<f32> {
    (0..head_size)
        .step_by(2)
        .map(|i| (1.0 / theta.powf(i as f64 / head_size as f64)) as f32)
        .collect()
}

impl ModernBert {
    /// Loads the weights, under no prefix (a sentence-transformers folder) or `model.`
    /// (a `ModernBertForMaskedLM` checkpoint).
    pub(crate) fn load(vb: VarBuilder, cfg: &ModernBertConfig) -> Result<Self> {
        let vb = if vb.contains_tensor("model.embeddings.tok_embeddings.weight") {
            vb.pp("model")
        } else {
            vb
        };
        let h = cfg.hidden_size;
        let act = match cfg.activation.as_str() {
            "gelu" => Act::GeluErf,
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Act::GeluTanh,
            "silu" | "swish" => Act::Silu,
            "relu" => Act::Relu,
            other => candle_core::bail!("hidden_activation {other:?} is not supported"),
        };
        if cfg.heads == 0 || !h.is_multiple_of(cfg.heads) {
            candle_core::bail!(
                "hidden_size {h} is not a multiple of num_attention_heads {}",
                cfg.heads
            );
        }
        let layers = cfg
            .sliding
            .iter()
            .enumerate()
            .map(|(i, &sliding)| {
                let vb = vb.pp(format!("layers.{i}"));
                Ok(Layer {
                    // Layer 0's attention norm is an identity in Hugging Face's model.
                    attn_norm: if i == 0 {
                        None
                    } else {
                        Some(norm(h, cfg, vb.pp("attn_norm"))?)
                    },
                    qkv: candle_nn::linear_b(h, 3 * h, cfg.attention_bias, vb.pp("attn.Wqkv"))?,
                    out: candle_nn::linear_b(h, h, cfg.attention_bias, vb.pp("attn.Wo"))?,
                    mlp_norm: norm(h, cfg, vb.pp("mlp_norm"))?,
                    wi: candle_nn::linear_b(
                        h,
                        2 * cfg.intermediate_size,
                        cfg.mlp_bias,
                        vb.pp("mlp.Wi"),
                    )?,
                    wo: candle_nn::linear_b(
                        cfg.intermediate_size,
                        h,
                        cfg.mlp_bias,
                        vb.pp("mlp.Wo"),
                    )?,
                    sliding,
                })
            })
            .collect::<Result<_>>()?;
        let head_size = h / cfg.heads;
        Ok(ModernBert {
            embeddings: candle_nn::embedding(
                cfg.vocab_size,
                h,
                vb.pp("embeddings.tok_embeddings"),
            )?,
            norm: norm(h, cfg, vb.pp("embeddings.norm"))?,
            layers,
            final_norm: norm(h, cfg, vb.pp("final_norm"))?,
            act,
            heads: cfg.heads,
            head_size,
            half_window: cfg.local_attention / 2,
            global_inv_freq: inv_freq(head_size, cfg.global_theta),
            local_inv_freq: inv_freq(head_size, cfg.local_theta),
        })
    }

    /// cos and sin `(len, head size / 2)` for positions `0..len`, computed in f32 as Hugging
    /// Face does, then cast to `dtype`.
    fn rotary(inv: &[f32], len: usize, dtype: DType, dev: &Device) -> Result<(Tensor, Tensor)> {
        let t = Tensor::arange(0u32, len as u32, dev)?
            .to_dtype(DType::F32)?
            .reshape((len, 1))?;
        let f = Tensor::from_slice(inv, (1, inv.len()), dev)?;
        let freqs = t.matmul(&f)?;
        Ok((freqs.cos()?.to_dtype(dtype)?, freqs.sin()?.to_dtype(dtype)?))
    }

    /// Hidden states `(n, len, hidden)` in the weights' dtype for `ids` and `mask` (both
    /// `(n, len)` u32, right-padded; mask 1 for real tokens).
    pub(crate) fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (_, len) = ids.dims2()?;
        let dev = ids.device();
        let x = self.norm.forward(&self.embeddings.forward(ids)?)?;
        let dtype = x.dtype();
        let keep = mask.to_dtype(DType::F32)?.unsqueeze(1)?.unsqueeze(1)?; // (n, 1, 1, len)
        let additive = |keep: &Tensor| -> Result<Tensor> {
            (keep.ones_like()? - keep)?
                .affine(lowest(dtype), 0.0)?
                .to_dtype(dtype)
        };
        let global_mask = additive(&keep)?;
        let window: Vec<f32> = (0..len)
            .flat_map(|i| (0..len).map(move |j| f32::from(i.abs_diff(j) <= self.half_window)))
            .collect();
        let window = Tensor::from_vec(window, (1, 1, len, len), dev)?;
        let local_mask = additive(&window.broadcast_mul(&keep)?)?;
        let global_rope = Self::rotary(&self.global_inv_freq, len, dtype, dev)?;
        let local_rope = Self::rotary(&self.local_inv_freq, len, dtype, dev)?;
        let mut x = x;
        for layer in &self.layers {
            let (mask, (cos, sin)) = if layer.sliding {
                (&local_mask, &local_rope)
            } else {
                (&global_mask, &global_rope)
            };
            let normed = match &layer.attn_norm {
                Some(n) => n.forward(&x)?,
                None => x.clone(),
            };
            x = (&x + self.attention(layer, &normed, mask, cos, sin)?)?;
            let inner = layer.wi.forward(&layer.mlp_norm.forward(&x)?)?;
            let parts = inner.chunk(2, D::Minus1)?;
            let gate = match self.act {
                Act::GeluErf => gelu_erf(&parts[0].contiguous()?)?,
                Act::GeluTanh => parts[0].gelu()?,
                Act::Silu => parts[0].silu()?,
                Act::Relu => parts[0].relu()?,
            };
            x = (&x + layer.wo.forward(&(gate * &parts[1])?)?)?;
        }
        self.final_norm.forward(&x)
    }

    fn attention(
        &self,
        layer: &Layer,
        x: &Tensor,
        mask: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
    ) -> Result<Tensor> {
        let (n, len, h) = x.dims3()?;
        let qkv = layer
            .qkv
            .forward(x)?
            .reshape((n, len, 3, self.heads, self.head_size))?;
        let part = |i: usize| -> Result<Tensor> {
            qkv.narrow(2, i, 1)?
                .squeeze(2)?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = candle_nn::rotary_emb::rope(&part(0)?, cos, sin)?;
        let k = candle_nn::rotary_emb::rope(&part(1)?, cos, sin)?;
        let v = part(2)?;
        let scores = (q.matmul(&k.t()?)? * (self.head_size as f64).powf(-0.5))?;
        let probs = candle_nn::ops::softmax_last_dim(&scores.broadcast_add(mask)?)?;
        let context = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((n, len, h))?;
        layer.out.forward(&context)
    }
}
