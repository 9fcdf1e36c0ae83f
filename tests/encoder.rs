//! The encoder reproduces Python sentence-transformers, and is deterministic.

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

#[test]
fn cls_and_max_pooling_follow_the_models_config() {
    let mut vectors = Vec::new();
    for mode in [
        "pooling_mode_mean_tokens",
        "pooling_mode_cls_token",
        "pooling_mode_max_tokens",
    ] {
        let dir = tempfile::tempdir().unwrap();
        write_tiny_model(
            dir.path(),
            &Tiny {
                pooling: Some(mode),
                ..Tiny::default()
            },
        );
        let e = Embedder::load(dir.path(), DeviceSpec::Cpu).unwrap();
        vectors.push((
            mode,
            e.info().pooling,
            e.embed(&["the landlord shall pay"]).unwrap().remove(0),
        ));
    }
    assert_eq!(vectors[0].1.name(), "mean");
    assert_eq!(vectors[1].1.name(), "cls");
    assert_eq!(vectors[2].1.name(), "max");
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
