//! The BERT forward pass, on candle's tensors and candle-nn's layers, with two departures
//! from `candle_transformers::models::bert::BertModel`:
//!
//! **The attention mask.**
//! `candle_transformers::models::bert::BertModel` builds its additive attention mask from
//! `f32::MIN` cast to the model's dtype. In f16 and bf16 that cast overflows to -inf, and the
//! unmasked positions get `0 × -inf = NaN`: every vector comes out NaN. Here the mask uses the
//! dtype's own most negative finite value, as Hugging Face transformers does
//! (`torch.finfo(dtype).min`).
//!
//! **GELU on the CPU.** candle computes the exact (erf) GELU one element at a time through a
//! scalar `erff`: 14 % of the CPU time of an index run (`perf`, docs/benchmarks.md). For f32
//! on the CPU, [`gelu_erf`] evaluates erf as a rational polynomial in one pass the compiler
//! vectorises (the approximation Eigen and XLA use for f32, within 1e-6 of `erff`). Every
//! other step, and every other device and dtype, computes what `BertModel` does.
//!
//! **Attention.** The query, key and value projections are fused into one linear layer at
//! load, and the attention runs as one operation on the CPU (`super::attention`: strided
//! products and a vectorised softmax; candle's operations elsewhere).
//!
//! **int8.** [`Bert::quantize`] turns the six linear layers of every transformer layer into
//! int8 products ([`super::kernel`]) (for the fused query/key/value layer the activations
//! are quantized once for the three). The attention products, softmax,
//! GELU and layer norms stay in f32: the linear layers are 90 % of the FLOPs at 256 tokens.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, D, DType, Layout, Module, Result, Shape, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder};
use candle_transformers::models::bert::{Config, HiddenAct};

/// A BERT encoder without pooling head: token ids in, one hidden vector per token out.
pub(super) struct Bert {
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    norm: LayerNorm,
    layers: Vec<Layer>,
    /// The first position's number: 0 for BERT; XLM-RoBERTa numbers real tokens from
    /// `padding_idx + 1` (padding sits after them here, masked, so its numbers do not matter).
    position_offset: u32,
}

use super::kernel::{Int8Isa, QLinear};

/// A linear layer's weight (row-major), bias, output and input sizes.
type Parts = (Vec<f32>, Option<Vec<f32>>, usize, usize);

/// A linear layer in f32 (candle's) or int8 ([`QLinear`], CPU only).
enum Lin {
    F32(Linear),
    Int8(Arc<QLinear>),
}

impl Lin {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Lin::F32(l) => l.forward(x),
            Lin::Int8(q) => x.apply_op1_no_bwd(&Int8Linear(q.clone())),
        }
    }

    /// The f32 weight `(out, in)` and bias of an f32 layer.
    fn parts(&self) -> Result<Parts> {
        let Lin::F32(l) = self else {
            candle_core::bail!("the layer is quantized already");
        };
        let (n, k) = l.weight().dims2()?;
        let w = l.weight().to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
        let b = l
            .bias()
            .map(|b| b.to_dtype(DType::F32)?.to_vec1())
            .transpose()?;
        Ok((w, b, n, k))
    }

    /// The int8 form of an f32 layer whose inputs reach `input_max` per channel.
    fn quantized(&self, isa: Int8Isa, input_max: &[f32]) -> Result<Lin> {
        let (w, b, n, k) = self.parts()?;
        Ok(Lin::Int8(Arc::new(QLinear::new(
            &w,
            b.as_deref(),
            n,
            k,
            isa,
            Some(input_max),
        ))))
    }
}

/// [`QLinear`] as a candle operation on contiguous f32 CPU tensors `(.., in)` → `(.., out)`.
struct Int8Linear(Arc<QLinear>);

impl CustomOp1 for Int8Linear {
    fn name(&self) -> &'static str {
        "lexsearch-int8-linear"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(data), Some((start, end))) = (storage, layout.contiguous_offsets())
        else {
            candle_core::bail!("lexsearch-int8-linear takes contiguous f32 tensors");
        };
        let mut dims = layout.shape().dims().to_vec();
        if dims.last() != Some(&self.0.in_features()) {
            candle_core::bail!(
                "lexsearch-int8-linear: input {dims:?} does not end in {}",
                self.0.in_features()
            );
        }
        let out = self.0.forward(&data[start..end]);
        *dims.last_mut().unwrap_or(&mut 0) = self.0.out_features();
        Ok((CpuStorage::F32(out), Shape::from(dims)))
    }
}

/// One transformer layer, with the tensor names and arithmetic of Hugging Face's `BertLayer`.
struct Layer {
    /// The query, key and value projections fused into one layer whose output is
    /// `[query | key | value]` (one product instead of three; in int8 the activations are
    /// quantized once for the three).
    qkv: Lin,
    attention_out: Lin,
    attention_norm: LayerNorm,
    intermediate: Lin,
    act: HiddenAct,
    output: Lin,
    output_norm: LayerNorm,
    heads: usize,
}

impl Layer {
    fn load(vb: VarBuilder, config: &Config) -> Result<Self> {
        let hidden = config.hidden_size;
        let attention = vb.pp("attention");
        let norm = |vb: VarBuilder| candle_nn::layer_norm(hidden, config.layer_norm_eps, vb);
        let linear = |i, o, vb| candle_nn::linear(i, o, vb).map(Lin::F32);
        let projections = ["query", "key", "value"]
            .map(|name| candle_nn::linear(hidden, hidden, attention.pp("self").pp(name)));
        let [query, key, value] = projections;
        let (query, key, value) = (query?, key?, value?);
        let weight = Tensor::cat(&[query.weight(), key.weight(), value.weight()], 0)?;
        let bias = match (query.bias(), key.bias(), value.bias()) {
            (Some(q), Some(k), Some(v)) => Some(Tensor::cat(&[q, k, v], 0)?),
            _ => None,
        };
        Ok(Layer {
            qkv: Lin::F32(Linear::new(weight, bias)),
            attention_out: linear(hidden, hidden, attention.pp("output").pp("dense"))?,
            attention_norm: norm(attention.pp("output").pp("LayerNorm"))?,
            intermediate: linear(
                hidden,
                config.intermediate_size,
                vb.pp("intermediate").pp("dense"),
            )?,
            act: config.hidden_act,
            output: linear(
                config.intermediate_size,
                hidden,
                vb.pp("output").pp("dense"),
            )?,
            output_norm: norm(vb.pp("output").pp("LayerNorm"))?,
            heads: config.num_attention_heads,
        })
    }

    /// Turns the linear layers into int8 products on `isa`, smoothed with `maxima` (per
    /// input channel of the QKV, attention output, intermediate and output layers).
    fn quantize(&mut self, isa: Int8Isa, maxima: &[Vec<f32>; 4]) -> Result<()> {
        self.qkv = self.qkv.quantized(isa, &maxima[0])?;
        self.attention_out = self.attention_out.quantized(isa, &maxima[1])?;
        self.intermediate = self.intermediate.quantized(isa, &maxima[2])?;
        self.output = self.output.quantized(isa, &maxima[3])?;
        Ok(())
    }

    fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        if super::fused::on(x)
            && let Some(y) = self.forward_fused(x, mask)?
        {
            return Ok(y);
        }
        self.forward_recording(x, mask, &mut None)
    }

    /// The same layer in the fused steps of `super::fused` (lexsearch's kernels on CUDA): each
    /// bias added in one pass with the residual or the GELU after it. `None` for a layer
    /// without biases or with int8 products, which takes [`Layer::forward_recording`].
    fn forward_fused(&self, x: &Tensor, mask: &Tensor) -> Result<Option<Tensor>> {
        use super::fused;
        let (Lin::F32(qkv), Lin::F32(out), Lin::F32(inter), Lin::F32(output)) = (
            &self.qkv,
            &self.attention_out,
            &self.intermediate,
            &self.output,
        ) else {
            return Ok(None);
        };
        let (Some(b_qkv), Some(b_out), Some(b_inter), Some(b_output)) =
            (qkv.bias(), out.bias(), inter.bias(), output.bias())
        else {
            return Ok(None);
        };
        // The product without its bias: `(n, len, in)` by the weight `(out, in)`.
        let product = |l: &Linear, x: &Tensor| -> Result<Tensor> {
            let (n, len, k) = x.dims3()?;
            x.contiguous()?
                .reshape((n * len, k))?
                .matmul(&l.weight().t()?)?
                .reshape((n, len, ()))
        };
        let qkv = fused::bias(&product(qkv, x)?, b_qkv)?;
        let context = super::attention::fused_self_attention(&qkv, mask, self.heads)?;
        let attended = self.attention_norm.forward(&fused::bias_residual(
            &product(out, &context)?,
            b_out,
            x,
        )?)?;
        let inner = product(inter, &attended)?;
        let inner = match self.act {
            HiddenAct::Gelu => fused::bias_gelu(&inner, b_inter)?,
            HiddenAct::GeluApproximate => fused::bias(&inner, b_inter)?.gelu()?,
            HiddenAct::Relu => fused::bias(&inner, b_inter)?.relu()?,
        };
        let y = fused::bias_residual(&product(output, &inner)?, b_output, &attended)?;
        Ok(Some(self.output_norm.forward(&y)?))
    }

    /// [`Layer::forward`], recording in `maxima` (when given) the largest magnitude of each
    /// input channel of the four linear layers.
    fn forward_recording(
        &self,
        x: &Tensor,
        mask: &Tensor,
        maxima: &mut Option<[Vec<f32>; 4]>,
    ) -> Result<Tensor> {
        let mut record = |i: usize, t: &Tensor| -> Result<()> {
            if let Some(m) = maxima.as_mut() {
                let k = t.dim(D::Minus1)?;
                m[i] = t.abs()?.reshape(((), k))?.max(0)?.to_vec1()?;
            }
            Ok(())
        };
        record(0, x)?;
        let context = super::attention::self_attention(&self.qkv.forward(x)?, mask, self.heads)?;
        record(1, &context)?;
        let attended = self
            .attention_norm
            .forward(&(self.attention_out.forward(&context)? + x)?)?;
        record(2, &attended)?;
        let inner = self.intermediate.forward(&attended)?;
        let inner = match self.act {
            HiddenAct::Gelu => gelu_erf(&inner)?,
            HiddenAct::GeluApproximate => inner.gelu()?,
            HiddenAct::Relu => inner.relu()?,
        };
        record(3, &inner)?;
        self.output_norm
            .forward(&(self.output.forward(&inner)? + attended)?)
    }
}

/// The exact (erf) GELU: [`FastGeluErf`] for contiguous f32 on the CPU, candle's elsewhere.
pub(super) fn gelu_erf(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == DType::F32 && x.is_contiguous() {
        x.apply_op1_no_bwd(&FastGeluErf)
    } else {
        x.gelu_erf()
    }
}

/// `0.5 x (1 + erf(x / √2))` over a contiguous f32 CPU tensor, in one vectorisable pass.
struct FastGeluErf;

impl CustomOp1 for FastGeluErf {
    fn name(&self) -> &'static str {
        "lexsearch-gelu-erf"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(data), Some((start, end))) = (storage, layout.contiguous_offsets())
        else {
            candle_core::bail!("lexsearch-gelu-erf takes contiguous f32 tensors");
        };
        let out = super::kernel::gelu_erf(&data[start..end]);
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
}

impl Bert {
    /// Loads XLM-RoBERTa (or RoBERTa) weights: BERT's layers with positions numbered from
    /// `pad_token_id + 1`, under no prefix or `roberta.`.
    pub(super) fn load_roberta(vb: VarBuilder, config: &Config) -> Result<Self> {
        let offset = config.pad_token_id as u32 + 1;
        let bert = match Self::load_at(vb.clone(), config) {
            Ok(bert) => bert,
            Err(err) => Self::load_at(vb.pp("roberta"), config).map_err(|_| err)?,
        };
        Ok(Bert {
            position_offset: offset,
            ..bert
        })
    }

    /// Loads the weights, accepting the same tensor-name prefixes as `BertModel::load`
    /// (none, `bert.`, or `{model_type}.`).
    pub(super) fn load(vb: VarBuilder, config: &Config) -> Result<Self> {
        let vb = if vb.contains_tensor("bert") {
            vb.pp("bert")
        } else {
            vb
        };
        match Self::load_at(vb.clone(), config) {
            Ok(bert) => Ok(bert),
            Err(err) => match &config.model_type {
                Some(prefix) => Self::load_at(vb.pp(prefix), config).map_err(|_| err),
                None => Err(err),
            },
        }
    }

    fn load_at(vb: VarBuilder, config: &Config) -> Result<Self> {
        let emb = vb.pp("embeddings");
        let hidden = config.hidden_size;
        Ok(Bert {
            word: candle_nn::embedding(config.vocab_size, hidden, emb.pp("word_embeddings"))?,
            position: candle_nn::embedding(
                config.max_position_embeddings,
                hidden,
                emb.pp("position_embeddings"),
            )?,
            token_type: candle_nn::embedding(
                config.type_vocab_size,
                hidden,
                emb.pp("token_type_embeddings"),
            )?,
            norm: candle_nn::layer_norm(hidden, config.layer_norm_eps, emb.pp("LayerNorm"))?,
            layers: (0..config.num_hidden_layers)
                .map(|i| Layer::load(vb.pp(format!("encoder.layer.{i}")), config))
                .collect::<Result<_>>()?,
            position_offset: 0,
        })
    }

    /// Turns every layer's linear products into int8 ones on `isa` (f32 CPU weights,
    /// quantized here once). The calibration text (`ids`, `types`, `mask` of one unpadded
    /// text) runs through the f32 layers first, recording each linear layer's largest input
    /// per channel: SmoothQuant (Xiao et al., 2023) then moves part of the outlier channels'
    /// range from the activations into the weights, where per-channel scales absorb it.
    pub(super) fn quantize(
        &mut self,
        isa: Int8Isa,
        ids: &Tensor,
        types: &Tensor,
        mask: &Tensor,
    ) -> Result<()> {
        let (mut x, additive) = self.embed(ids, types, mask)?;
        for layer in &mut self.layers {
            let mut maxima = Some(Default::default());
            x = layer.forward_recording(&x, &additive, &mut maxima)?;
            if let Some(maxima) = maxima {
                layer.quantize(isa, &maxima)?;
            }
        }
        Ok(())
    }

    /// Hidden states `(n, len, hidden)` in the weights' dtype for `ids`, `types` and `mask`
    /// (all `(n, len)` u32; mask 1 for real tokens, 0 for padding).
    pub(super) fn forward(&self, ids: &Tensor, types: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (x, additive) = self.embed(ids, types, mask)?;
        self.layers
            .iter()
            .try_fold(x, |x, layer| layer.forward(&x, &additive))
    }

    /// The embeddings' output and the additive attention mask `(n, 1, 1, len)`.
    fn embed(&self, ids: &Tensor, types: &Tensor, mask: &Tensor) -> Result<(Tensor, Tensor)> {
        let (_, len) = ids.dims2()?;
        let start = self.position_offset;
        let positions = Tensor::arange(start, start + len as u32, ids.device())?;
        let x = (self.word.forward(ids)? + self.token_type.forward(types)?)?
            .broadcast_add(&self.position.forward(&positions)?)?;
        let x = self.norm.forward(&x)?;
        let keep = mask.to_dtype(x.dtype())?.unsqueeze(1)?.unsqueeze(1)?; // (n, 1, 1, len)
        let additive = (keep.ones_like()? - keep)?.affine(lowest(x.dtype()), 0.0)?;
        Ok((x, additive))
    }
}

/// The most negative finite value of `dtype`: added to the attention scores of padding.
pub(super) fn lowest(dtype: DType) -> f64 {
    match dtype {
        DType::F16 => -65504.0,
        DType::BF16 => -3.389_531_389_251_535_5e38,
        _ => f64::from(f32::MIN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn the_fast_gelu_matches_candles_on_every_element() {
        let xs: Vec<f32> = (-3000..3000).map(|i| i as f32 * 2.7e-3).collect();
        let t = Tensor::new(xs.as_slice(), &Device::Cpu).unwrap();
        let fast = gelu_erf(&t).unwrap().to_vec1::<f32>().unwrap();
        let exact = t.gelu_erf().unwrap().to_vec1::<f32>().unwrap();
        let worst = fast
            .iter()
            .zip(&exact)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-6, "worst difference {worst}");
    }

    /// `shape` of values spread over about ±`scale`, the same on every run (an LCG).
    fn pseudo(shape: impl Into<candle_core::Shape>, scale: f32, seed: u64) -> Tensor {
        let shape = shape.into();
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let values: Vec<f32> = (0..shape.elem_count())
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
            })
            .collect();
        Tensor::from_vec(values, shape, &Device::Cpu).unwrap()
    }

    /// A layer of pseudo-random weights (hidden 32, 4 heads, intermediate 64) in `dtype`.
    fn random_layer(dtype: DType) -> Layer {
        let config: Config = serde_json::from_value(serde_json::json!({
            "vocab_size": 16, "hidden_size": 32, "num_hidden_layers": 1,
            "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "gelu",
            "hidden_dropout_prob": 0.0, "max_position_embeddings": 16, "type_vocab_size": 2,
            "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0,
            "classifier_dropout": null, "model_type": "bert"
        }))
        .unwrap();
        let shapes = [
            ("attention.self.query", 32, 32),
            ("attention.self.key", 32, 32),
            ("attention.self.value", 32, 32),
            ("attention.output.dense", 32, 32),
            ("intermediate.dense", 64, 32),
            ("output.dense", 32, 64),
        ];
        let mut tensors = std::collections::HashMap::new();
        for (i, (name, out, inp)) in shapes.into_iter().enumerate() {
            let w = pseudo((out, inp), 0.5, i as u64);
            let b = pseudo(out, 0.8, 100 + i as u64);
            tensors.insert(format!("{name}.weight"), w);
            tensors.insert(format!("{name}.bias"), (b * (i + 1) as f64).unwrap());
        }
        for name in ["attention.output.LayerNorm", "output.LayerNorm"] {
            let g = (pseudo(32, 0.2, 200 + name.len() as u64) + 1.0).unwrap();
            tensors.insert(format!("{name}.weight"), g);
            let b = pseudo(32, 0.2, 300 + name.len() as u64);
            tensors.insert(format!("{name}.bias"), b);
        }
        Layer::load(
            VarBuilder::from_tensors(tensors, dtype, &Device::Cpu),
            &config,
        )
        .unwrap()
    }

    #[test]
    fn the_fused_layer_computes_what_the_layer_does_with_padding_in_every_dtype() {
        // Three texts of 7, 4 and 1 tokens in one batch of 7 positions.
        let lengths = [7usize, 4, 1];
        let keep: Vec<f32> = lengths
            .iter()
            .flat_map(|&k| (0..7).map(move |i| if i < k { 1.0 } else { 0.0 }))
            .collect();
        for (dtype, tolerance) in [(DType::F32, 1e-5), (DType::F16, 1e-2), (DType::BF16, 1e-1)] {
            let layer = random_layer(dtype);
            let x = pseudo((3, 7, 32), 1.7, 7).to_dtype(dtype).unwrap();
            let keep = Tensor::from_vec(keep.clone(), (3, 1, 1, 7), &Device::Cpu)
                .unwrap()
                .to_dtype(dtype)
                .unwrap();
            let mask = (keep.ones_like().unwrap() - keep)
                .unwrap()
                .affine(lowest(dtype), 0.0)
                .unwrap();
            let want = layer.forward_recording(&x, &mask, &mut None).unwrap();
            let got = layer.forward_fused(&x, &mask).unwrap().expect("biases");
            assert_eq!(got.dims(), want.dims());
            let as_f32 = |t: &Tensor| {
                t.to_dtype(DType::F32)
                    .unwrap()
                    .flatten_all()
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap()
            };
            let (got, want) = (as_f32(&got), as_f32(&want));
            let worst = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(got.iter().all(|v| v.is_finite()), "{dtype:?}");
            assert!(worst < tolerance, "{dtype:?}: worst difference {worst}");
        }
    }

    #[test]
    fn the_fused_path_is_off_on_the_cpu() {
        let x = Tensor::zeros((1, 2, 32), DType::F16, &Device::Cpu).unwrap();
        assert!(!crate::embed::fused::on(&x));
    }

    #[test]
    fn the_padding_mask_is_finite_in_every_dtype() {
        for dtype in [DType::F32, DType::F16, DType::BF16] {
            let v = Tensor::new(&[0f32, 1.0], &Device::Cpu)
                .unwrap()
                .to_dtype(dtype)
                .unwrap()
                .affine(lowest(dtype), 0.0)
                .unwrap()
                .to_dtype(DType::F64)
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            assert_eq!(v[0], 0.0, "{dtype:?}");
            assert!(v[1].is_finite() && v[1] < -6e4, "{dtype:?}: {}", v[1]);
        }
    }
}
