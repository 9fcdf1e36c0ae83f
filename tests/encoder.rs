//! The encoder reproduces Python sentence-transformers, and is deterministic. Pooling is
//! checked on the vectors themselves: each mode's sentence vector is recomputed by hand from
//! token vectors that candle-transformers' own BERT computes from the same weights.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert;
use lexsearch::{DeviceSpec, Embedder, Precision};
use serde::Deserialize;

use crate::common::{Tiny, cosine, real_model, shared, write_tiny_model};

#[derive(Deserialize)]
struct Reference {
    text: String,
    input_ids: Vec<u32>,
    embedding: Vec<f32>,
}

#[test]
fn token_ids_and_embeddings_match_sentence_transformers() {
    let Some(model) = real_model() else { return };
    let Some(refs) = references() else { return };
    assert_eq!(refs.len(), 20);
    let embedder = Embedder::load(&model, DeviceSpec::Cpu).unwrap();
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    let batched = embedder.embed(&texts).unwrap();
    for (r, got) in refs.iter().zip(&batched) {
        assert_eq!(
            embedder.token_ids(&r.text).unwrap(),
            r.input_ids,
            "token ids of {:?}",
            r.text
        );
        let c = cosine(got, &r.embedding);
        assert!(c >= 0.9999, "cosine {c} for {:?}", r.text);
    }
    // The >256-token text is truncated exactly like sentence-transformers.
    assert!(refs.iter().any(|r| r.input_ids.len() == 256));
}

#[test]
fn a_text_gets_the_same_vector_alone_and_in_any_padded_batch() {
    let Some(model) = real_model() else { return };
    let embedder = Embedder::load(&model, DeviceSpec::Cpu).unwrap();
    let text = "The Landlord shall return the Security Deposit within thirty days.";
    let alone = embedder.embed(&[text]).unwrap().remove(0);
    let long = "Tenant shall pay rent monthly in advance. ".repeat(12);
    let batch = embedder.embed(&["short", text, &long, ""]).unwrap();
    let again = embedder.embed(&[text]).unwrap().remove(0);
    assert_eq!(
        alone, again,
        "the same text twice gives bit-identical vectors"
    );
    // Padding positions are masked to exact zeros, so padding does not change the vector
    // beyond float reassociation inside the matrix kernels.
    let max_diff = alone
        .iter()
        .zip(&batch[1])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        max_diff < 1e-5,
        "alone vs padded batch differ by {max_diff}"
    );
    let norm: f32 = alone.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5);
}

#[test]
fn a_tiny_random_bert_loads_and_embeds_normalised_vectors() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_model(dir.path(), &Tiny::default());
    let embedder = Embedder::load(dir.path(), DeviceSpec::Cpu).unwrap();
    assert_eq!(embedder.info().dim, 8);
    assert_eq!(embedder.info().max_seq_length, 32);
    assert!(embedder.files().warnings.is_empty());
    let v = embedder
        .embed(&["the tenant shall pay rent", "", "unknownword"])
        .unwrap();
    assert_eq!(v.len(), 3);
    for x in &v {
        assert_eq!(x.len(), 8);
        let n: f32 = x.iter().map(|a| a * a).sum::<f32>().sqrt();
        assert!((n - 1.0).abs() < 1e-4, "norm {n}");
    }
    // The model's own tokenizer: [CLS] the tenant [SEP].
    assert_eq!(embedder.token_ids("The tenant").unwrap(), vec![2, 4, 5, 3]);
}

/// The token vectors of `ids` (one text, no padding) computed by candle-transformers' own
/// `BertModel` on the weights in `dir`: an implementation of BERT apart from lexsearch's.
fn token_vectors(dir: &Path, ids: &[u32]) -> Vec<Vec<f32>> {
    masked_token_vectors(dir, ids, ids.len())
}

/// `v` scaled to length 1.
fn normalised(v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

/// The sum of the token vectors, dimension by dimension.
fn sum(tokens: &[Vec<f32>]) -> Vec<f32> {
    (0..tokens[0].len())
        .map(|d| tokens.iter().map(|t| t[d]).sum())
        .collect()
}

/// A sentence-transformers pooling mode, done by hand on the token vectors of one text, then
/// normalised as lexsearch's vectors are.
fn pooled_by_hand(mode: &str, tokens: &[Vec<f32>]) -> Vec<f32> {
    let n = tokens.len() as f32;
    normalised(match mode {
        "pooling_mode_mean_tokens" => sum(tokens).into_iter().map(|x| x / n).collect(),
        "pooling_mode_mean_sqrt_len_tokens" => {
            sum(tokens).into_iter().map(|x| x / n.sqrt()).collect()
        }
        "pooling_mode_cls_token" => tokens[0].clone(),
        "pooling_mode_max_tokens" => (0..tokens[0].len())
            .map(|d| {
                tokens
                    .iter()
                    .map(|t| t[d])
                    .fold(f32::NEG_INFINITY, f32::max)
            })
            .collect(),
        other => panic!("no hand pooling for {other}"),
    })
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn each_pooling_mode_gives_its_vector_from_the_token_vectors_alone_and_padded() {
    let text = "the landlord shall pay";
    // Longer, so that `text` is padded in the batch: padding must not enter any pooling.
    let longer = "the tenant shall pay the rent and a security deposit of the lease";
    let dir = tempfile::tempdir().unwrap();
    // One set of random weights for every mode: only the pooling config changes.
    write_tiny_model(dir.path(), &Tiny::default());
    let ids = Embedder::load(dir.path(), DeviceSpec::Cpu)
        .unwrap()
        .token_ids(text)
        .unwrap();
    assert_eq!(
        ids,
        vec![2, 4, 6, 7, 8, 3],
        "[CLS] the landlord shall pay [SEP]"
    );
    let tokens = token_vectors(dir.path(), &ids);
    assert_eq!((tokens.len(), tokens[0].len()), (6, 8));

    let mut expected = Vec::new();
    for (mode, name) in [
        ("pooling_mode_mean_tokens", "mean"),
        ("pooling_mode_cls_token", "cls"),
        ("pooling_mode_max_tokens", "max"),
        ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens"),
    ] {
        std::fs::write(
            dir.path().join("1_Pooling/config.json"),
            serde_json::json!({"word_embedding_dimension": 8, mode: true}).to_string(),
        )
        .unwrap();
        let e = Embedder::load(dir.path(), DeviceSpec::Cpu).unwrap();
        assert_eq!(e.info().pooling.name(), name);
        let want = pooled_by_hand(mode, &tokens);
        let alone = e.embed(&[text]).unwrap().remove(0);
        let padded = e.embed(&[longer, text]).unwrap().remove(1);
        // The two BERTs differ only by float rounding (and lexsearch's GELU, within 1e-6).
        for (how, got) in [("alone", &alone), ("padded", &padded)] {
            let d = max_abs_diff(got, &want);
            eprintln!("{name} pooling, {how}: max |lexsearch - by hand| = {d:.1e}");
            assert!(
                d < 1e-5,
                "{name} pooling, {how}: {got:?} vs by hand {want:?} ({d})"
            );
        }
        expected.push((name, want));
    }
    // The check can tell the modes apart: each defined vector is far from the others (apart
    // from mean and mean_sqrt_len, which differ by a scale that normalising removes).
    for (i, (a, va)) in expected.iter().enumerate() {
        for (b, vb) in &expected[i + 1..] {
            let d = max_abs_diff(va, vb);
            if (*a, *b) == ("mean", "mean_sqrt_len_tokens") {
                assert!(d < 1e-6, "{a} vs {b}: {d}");
            } else {
                assert!(
                    d > 1e-2,
                    "{a} and {b} give the same vector: the test cannot tell"
                );
            }
        }
    }
    // And it can tell masked pooling from pooling over the padding: the mean of `text`'s
    // token vectors padded to `longer`'s length (pad tokens, masked out of attention) differs.
    let e = Embedder::load(dir.path(), DeviceSpec::Cpu).unwrap();
    let pad_len = e.token_ids(longer).unwrap().len();
    assert!(pad_len > ids.len() + 2);
    let mut padded_ids = ids.clone();
    padded_ids.resize(pad_len, 0);
    let padded_tokens = masked_token_vectors(dir.path(), &padded_ids, ids.len());
    assert!(max_abs_diff(&padded_tokens[..ids.len()].concat(), &tokens.concat()) < 1e-5);
    let unmasked_mean = pooled_by_hand("pooling_mode_mean_tokens", &padded_tokens);
    assert!(max_abs_diff(&unmasked_mean, &expected[0].1) > 1e-2);
}

/// The token vectors of `ids`, with only the first `real` positions unmasked, computed by
/// candle-transformers' own `BertModel` on the weights in `dir`.
fn masked_token_vectors(dir: &Path, ids: &[u32], real: usize) -> Vec<Vec<f32>> {
    let config: bert::Config =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let weights = std::fs::read(dir.join("model.safetensors")).unwrap();
    let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu).unwrap();
    let model = bert::BertModel::load(vb, &config).unwrap();
    let input = Tensor::new(ids, &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let mask: Vec<u32> = (0..ids.len()).map(|i| u32::from(i < real)).collect();
    let mask = Tensor::new(mask, &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    model
        .forward(&input, &input.zeros_like().unwrap(), Some(&mask))
        .unwrap()
        .squeeze(0)
        .unwrap()
        .to_vec2()
        .unwrap()
}

#[test]
fn the_real_models_vector_is_the_mean_of_its_token_vectors() {
    let Some(model) = real_model() else { return };
    let embedder = Embedder::load(&model, DeviceSpec::Cpu).unwrap();
    assert_eq!(embedder.info().pooling.name(), "mean");
    let text = "The Landlord shall return the Security Deposit within thirty days.";
    let long = "Tenant shall pay rent monthly in advance. ".repeat(6);
    let ids = embedder.token_ids(text).unwrap();
    let want = pooled_by_hand("pooling_mode_mean_tokens", &token_vectors(&model, &ids));
    let padded = embedder.embed(&[&long, text]).unwrap().remove(1);
    let d = max_abs_diff(&padded, &want);
    eprintln!("real model, padded: max |lexsearch - hand-pooled mean| = {d:.1e}");
    assert!(d < 1e-5, "max difference {d} from the hand-pooled mean");
    // The CLS vector, which a wrong pooling would give, is far from it.
    let cls = pooled_by_hand("pooling_mode_cls_token", &token_vectors(&model, &ids));
    let c = cosine(&cls, &want);
    eprintln!("real model: cosine(CLS vector, mean vector) = {c:.4}");
    assert!(c < 0.99, "{c}");
}

/// Cosine of each half-precision vector against the f32 reference vector of the same text.
fn precision_agreement(
    model: &std::path::Path,
    device: DeviceSpec,
    precision: Precision,
    refs: &[Reference],
) -> Vec<f32> {
    let embedder = Embedder::load_with(model, device, precision).unwrap();
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    let got = embedder.embed(&texts).unwrap();
    refs.iter()
        .zip(&got)
        .map(|(r, v)| {
            assert!(
                v.iter().all(|x| x.is_finite()),
                "{precision}: non-finite vector"
            );
            cosine(v, &r.embedding)
        })
        .collect()
}

/// The sentence-transformers reference texts and vectors, when ../shared is present.
fn references() -> Option<Vec<Reference>> {
    let path = shared("reference/all-MiniLM-L6-v2.jsonl")?;
    Some(
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
    )
}

#[test]
fn half_precision_embeddings_agree_with_the_f32_reference() {
    let Some(model) = real_model() else { return };
    let Some(refs) = references() else { return };
    // The CPU runs the same half-precision graph a GPU runs (slower): this guards the dtype
    // handling (casts, f32 pooling, the attention mask) where CI has no GPU.
    // Measured: f16 worst 0.999992; bf16 worst 0.998 (its 8-bit mantissa), mean 0.9998.
    for (precision, floor) in [(Precision::F16, 0.999), (Precision::Bf16, 0.995)] {
        let cos = precision_agreement(&model, DeviceSpec::Cpu, precision, &refs);
        let worst = cos.iter().copied().fold(f32::INFINITY, f32::min);
        let mean = cos.iter().sum::<f32>() / cos.len() as f32;
        eprintln!("{precision} on the CPU: worst cosine {worst:.6}, mean {mean:.6}");
        assert!(
            worst >= floor,
            "{precision}: worst cosine {worst} < {floor}"
        );
    }
}

#[test]
fn int8_vectors_stay_within_the_measured_cosine_of_the_f32_ones() {
    let Some(model) = real_model() else { return };
    let Some(refs) = references() else { return };
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    let f32s = Embedder::load(&model, DeviceSpec::Cpu)
        .unwrap()
        .embed(&texts)
        .unwrap();
    let int8 = Embedder::load_with(&model, DeviceSpec::Cpu, Precision::Int8).unwrap();
    assert_eq!(int8.precision_name(), "int8");
    let got = int8.embed(&texts).unwrap();
    let cos: Vec<f32> = got.iter().zip(&f32s).map(|(a, b)| cosine(a, b)).collect();
    let worst = cos.iter().copied().fold(f32::INFINITY, f32::min);
    let mean = cos.iter().sum::<f32>() / cos.len() as f32;
    let reference = precision_agreement(&model, DeviceSpec::Cpu, Precision::Int8, &refs);
    let worst_reference = reference.iter().copied().fold(f32::INFINITY, f32::min);
    eprintln!(
        "int8 ({:?}) against lexsearch f32: worst cosine {worst:.6}, mean {mean:.6}; \
         against sentence-transformers: worst {worst_reference:.6}",
        int8.int8_isa()
    );
    // Measured on the 20 reference texts (docs/quality.md): worst 0.99734, mean 0.99921
    // (SmoothQuant α 0.5, asymmetric activation codes; every int8 path gives the same bits).
    assert!(worst >= 0.997, "worst cosine {worst}");
    assert!(mean >= 0.999, "mean cosine {mean}");
    assert!(worst_reference >= 0.997, "{worst_reference}");
}

#[test]
fn int8_on_a_tiny_bert_gives_normalised_vectors_and_the_same_vector_in_any_batch() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_model(dir.path(), &Tiny::default());
    let embedder = Embedder::load_with(dir.path(), DeviceSpec::Cpu, Precision::Int8).unwrap();
    let texts = [
        "the tenant pays rent",
        "rent",
        "the landlord keeps the deposit",
    ];
    let batch = embedder.embed(&texts).unwrap();
    for (t, v) in texts.iter().zip(&batch) {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{t}: norm {norm}");
        assert_eq!(&embedder.embed(&[t]).unwrap()[0], v, "{t} alone");
    }
    assert!(embedder.info().fingerprint.starts_with("int8-"));
}
