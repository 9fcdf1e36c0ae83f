//! Model folders that cannot give embeddings get a diagnosis, never a panic.

use lexsearch::embed::ModelError;
use lexsearch::{DeviceSpec, Embedder};

use crate::common::{Tiny, lexsearch, write_tiny_model};

fn load(t: &Tiny) -> Result<Embedder, ModelError> {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_model(dir.path(), t);
    Embedder::load(dir.path(), DeviceSpec::Cpu)
}

#[test]
fn a_tokenizer_that_does_not_fit_the_config_is_refused() {
    let err = load(&Tiny {
        config_vocab: 10,
        ..Tiny::default()
    })
    .unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::VocabMismatch {
                tokenizer_vocab: 24,
                config_vocab: 10,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("does not belong"), "{err}");
}

#[test]
fn a_model_without_pooling_config_falls_back_to_mean_pooling_with_a_warning() {
    let e = load(&Tiny {
        pooling: None,
        ..Tiny::default()
    })
    .unwrap();
    assert_eq!(e.info().pooling.name(), "mean");
    assert!(
        e.files().warnings[0].contains("not trained for sentence embeddings"),
        "{:?}",
        e.files().warnings
    );
}

#[test]
fn model_check_reports_the_missing_pooling_config() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_model(
        dir.path(),
        &Tiny {
            pooling: None,
            arch: "BertForMaskedLM",
            ..Tiny::default()
        },
    );
    lexsearch()
        .args(["model", "check"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicates::str::contains("fallback: no pooling config"))
        .stdout(predicates::str::contains(
            "not trained for sentence embeddings",
        ))
        .stdout(predicates::str::contains("usable for lexsearch"));
}

#[test]
fn a_causal_lm_checkpoint_is_diagnosed() {
    let err = load(&Tiny {
        arch: "GPT2LMHeadModel",
        model_type: "gpt2",
        pooling: None,
        ..Tiny::default()
    })
    .unwrap_err();
    assert!(matches!(err, ModelError::CausalModel { .. }), "{err}");
    assert!(err.to_string().contains("not a sentence encoder"), "{err}");
}

#[test]
fn an_unsupported_architecture_is_diagnosed() {
    let err = load(&Tiny {
        arch: "T5EncoderModel",
        model_type: "t5",
        ..Tiny::default()
    })
    .unwrap_err();
    assert!(
        matches!(err, ModelError::UnsupportedArchitecture { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("supported model_types: bert, xlm-roberta"),
        "{err}"
    );
}

/// A tiny model folder without its `model.safetensors`.
fn model_without_weights() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_model(
        dir.path(),
        &Tiny {
            weights: false,
            ..Tiny::default()
        },
    );
    dir
}

#[test]
fn missing_weights_are_diagnosed_by_model_check_without_a_panic() {
    let dir = model_without_weights();
    lexsearch()
        .args(["model", "check"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stdout(predicates::str::contains("no model.safetensors"))
        .stdout(predicates::str::contains("NOT usable"));
}

#[test]
fn model_check_diagnoses_the_folder_named_by_lexsearch_model_dir_as_other_commands_use_it() {
    let dir = model_without_weights();
    lexsearch()
        .env("LEXSEARCH_MODEL_DIR", dir.path())
        .args(["model", "check"])
        .assert()
        .code(2)
        .stdout(predicates::str::contains(dir.path().to_str().unwrap()))
        .stdout(predicates::str::contains("no model.safetensors"));
}

#[test]
fn weights_that_do_not_match_the_config_are_diagnosed() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_model(dir.path(), &Tiny::default());
    // Claim a larger hidden size than the weights have.
    let cfg = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        cfg.replace("\"hidden_size\":8", "\"hidden_size\":16"),
    )
    .unwrap();
    let err = Embedder::load(dir.path(), DeviceSpec::Cpu).unwrap_err();
    assert!(matches!(err, ModelError::Weights { .. }), "{err}");
}

#[test]
fn a_missing_model_folder_names_the_fetch_script() {
    let err =
        Embedder::load(std::path::Path::new("/nonexistent/model"), DeviceSpec::Cpu).unwrap_err();
    assert!(err.to_string().contains("scripts/fetch-model"), "{err}");
}
