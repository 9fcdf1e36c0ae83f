//! A model folder's weights: one `model.safetensors`, or the shards that
//! `model.safetensors.index.json` lists (`model-00001-of-00002.safetensors`, ...), the layout
//! the Hugging Face hub uses for models of more than a few gigabytes (Qwen3-Embedding-4B/8B).

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use serde_json::Value;

use super::ModelError;
use super::model::read_json;

/// The single-file name.
pub(super) const SINGLE: &str = "model.safetensors";
/// The index of a sharded checkpoint: `{"weight_map": {"tensor name": "shard file", ...}}`.
pub(super) const INDEX: &str = "model.safetensors.index.json";

const HINT: &str = "lexsearch reads safetensors weights (model.safetensors, or the shards listed in \
                    model.safetensors.index.json); convert pytorch_model.bin with the `safetensors` \
                    Python package, or download the safetensors files";

/// The weight files of `dir`, checked to exist: `[model.safetensors]`, or the shards of the
/// index in name order.
pub(super) fn files(dir: &Path) -> Result<Vec<PathBuf>, ModelError> {
    if dir.join(SINGLE).is_file() {
        return Ok(vec![dir.join(SINGLE)]);
    }
    let index = dir.join(INDEX);
    if !index.is_file() {
        return Err(ModelError::MissingFile {
            dir: dir.to_path_buf(),
            file: SINGLE,
            hint: HINT,
        });
    }
    let bad = |message: String| ModelError::BadFile {
        path: index.clone(),
        message,
    };
    let value = read_json(&index)?;
    let map = value
        .get("weight_map")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("no \"weight_map\" object".into()))?;
    let mut shards = BTreeSet::new();
    for file in map.values() {
        let name = file
            .as_str()
            .filter(|n| !n.is_empty() && Path::new(n).file_name() == Some(n.as_ref()))
            .ok_or_else(|| bad(format!("{file} is not a file name in this folder")))?;
        shards.insert(name.to_string());
    }
    if shards.is_empty() {
        return Err(bad("the weight map lists no files".into()));
    }
    shards
        .into_iter()
        .map(|name| {
            let path = dir.join(&name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(bad(format!(
                    "it lists {name}, which is not in the folder (an interrupted download? \
                     `lexsearch model pull` resumes it)"
                )))
            }
        })
        .collect()
}

/// The bytes of every weight file, read once: hashed into the model's fingerprint, then
/// turned into a [`VarBuilder`].
pub(super) struct Weights {
    /// `(file name, bytes)` in the order of [`files`].
    parts: Vec<(String, Vec<u8>)>,
    /// What an error names: the single file, or the index.
    pub(super) path: PathBuf,
}

impl Weights {
    /// Reads the weight files of `dir`.
    pub(super) fn read(dir: &Path) -> Result<Self, ModelError> {
        let files = files(dir)?;
        let path = match files.as_slice() {
            [one] if one.ends_with(SINGLE) => one.clone(),
            _ => dir.join(INDEX),
        };
        let parts = files
            .iter()
            .map(|file| {
                let bytes = fs::read(file).map_err(|e| ModelError::Weights {
                    path: file.clone(),
                    message: e.to_string(),
                })?;
                let name = file
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                Ok((name, bytes))
            })
            .collect::<Result<_, ModelError>>()?;
        Ok(Weights { parts, path })
    }

    /// Feeds the weights to a fingerprint: a single file as `model.safetensors` and its bytes
    /// (what indexes made before shards were read recorded), shards each by name and bytes.
    pub(super) fn hash_into(&self, hasher: &mut blake3::Hasher) {
        match self.parts.as_slice() {
            [(name, bytes)] if name == SINGLE => {
                hasher.update(SINGLE.as_bytes());
                hasher.update(bytes);
            }
            parts => {
                for (name, bytes) in parts {
                    hasher.update(name.as_bytes());
                    hasher.update(&(bytes.len() as u64).to_le_bytes());
                    hasher.update(bytes);
                }
            }
        }
    }

    /// A [`VarBuilder`] over every tensor of every file, in `dtype` on `device`.
    pub(super) fn into_var_builder(
        self,
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<VarBuilder<'static>> {
        let mut parts = self.parts;
        if parts.len() == 1 {
            let (_, bytes) = parts.remove(0);
            return VarBuilder::from_buffered_safetensors(bytes, dtype, device);
        }
        let mut tensors: HashMap<String, Tensor> = HashMap::new();
        for (name, bytes) in parts {
            for (tensor, value) in candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)? {
                if tensors.insert(tensor.clone(), value).is_some() {
                    candle_core::bail!("tensor {tensor} is stored twice (again in {name})");
                }
            }
        }
        Ok(VarBuilder::from_tensors(tensors, dtype, device))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensors() -> HashMap<String, Tensor> {
        let t = |v: &[f32]| Tensor::new(v, &Device::Cpu).unwrap();
        HashMap::from([
            ("a.weight".to_string(), t(&[1.0, 2.0])),
            ("b.weight".to_string(), t(&[3.0, 4.0, 5.0])),
        ])
    }

    fn write_shards(dir: &Path, index: &str) {
        let all = tensors();
        for (i, name) in ["a.weight", "b.weight"].iter().enumerate() {
            let one = HashMap::from([(name.to_string(), all[*name].clone())]);
            let path = dir.join(format!("model-0000{}-of-00002.safetensors", i + 1));
            candle_core::safetensors::save(&one, path).unwrap();
        }
        fs::write(dir.join(INDEX), index).unwrap();
    }

    const INDEX_JSON: &str = r#"{"metadata": {}, "weight_map": {
        "a.weight": "model-00001-of-00002.safetensors",
        "b.weight": "model-00002-of-00002.safetensors"}}"#;

    #[test]
    fn shards_give_the_same_tensors_as_one_file() {
        let one = tempfile::tempdir().unwrap();
        candle_core::safetensors::save(&tensors(), one.path().join(SINGLE)).unwrap();
        let sharded = tempfile::tempdir().unwrap();
        write_shards(sharded.path(), INDEX_JSON);

        assert_eq!(files(sharded.path()).unwrap().len(), 2);
        for dir in [one.path(), sharded.path()] {
            let vb = Weights::read(dir)
                .unwrap()
                .into_var_builder(DType::F32, &Device::Cpu)
                .unwrap();
            let b = vb.get(3, "b.weight").unwrap().to_vec1::<f32>().unwrap();
            assert_eq!(b, [3.0, 4.0, 5.0]);
            assert_eq!(
                vb.get(2, "a.weight").unwrap().to_vec1::<f32>().unwrap(),
                [1.0, 2.0]
            );
        }
    }

    #[test]
    fn one_files_fingerprint_input_is_what_it_always_was() {
        let dir = tempfile::tempdir().unwrap();
        candle_core::safetensors::save(&tensors(), dir.path().join(SINGLE)).unwrap();
        let bytes = fs::read(dir.path().join(SINGLE)).unwrap();
        let mut old = blake3::Hasher::new();
        old.update(b"model.safetensors");
        old.update(&bytes);
        let mut new = blake3::Hasher::new();
        Weights::read(dir.path()).unwrap().hash_into(&mut new);
        assert_eq!(old.finalize(), new.finalize());
    }

    #[test]
    fn a_missing_shard_or_a_bad_index_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write_shards(dir.path(), INDEX_JSON);
        fs::remove_file(dir.path().join("model-00002-of-00002.safetensors")).unwrap();
        let err = files(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("model-00002-of-00002.safetensors") && err.contains(INDEX),
            "{err}"
        );

        fs::write(
            dir.path().join(INDEX),
            r#"{"weight_map": {"a": "../x.safetensors"}}"#,
        )
        .unwrap();
        let err = files(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a file name in this folder"), "{err}");

        let empty = tempfile::tempdir().unwrap();
        let err = files(empty.path()).unwrap_err().to_string();
        assert!(
            err.contains("model.safetensors") && err.contains("safetensors"),
            "{err}"
        );
    }
}
