//! A large index for latency and memory measurements, grown from a real one.
//!
//! Embedding a million real chunks takes this project's CPUs days, so the large index is
//! *synthesized*: the source index's documents are copied again and again under new ids
//! (`replica-NNNN/<path>`, same chunk texts), and every copied chunk gets a **generated**
//! vector: `normalise(0.7·v + 0.3·u + 0.05·g)`, where `v` is the chunk's own real vector,
//! `u` the real vector of another chunk picked at random and `g` Gaussian noise. The vectors
//! thus stay in the region real embeddings occupy (random Gaussian vectors would make the
//! graph's recall meaningless, see ../shared/docs/feasibility.md), without duplicates. The
//! keyword index sees each text many times, which makes its posting lists longer than a
//! real corpus of that size would: an upper bound for keyword latency.

use std::path::Path;

use crate::ids::ChunkId;
use crate::library::{Library, SettingsRequest, Staging};
use crate::store::ChunkRecord;
use crate::{Error, Result};

/// What [`grow_index`] built.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Grown {
    /// Chunks whose vectors are real (the source index's).
    pub real_chunks: usize,
    /// Chunks in the grown index, real ones included.
    pub chunks: usize,
    /// Documents in the grown index.
    pub documents: usize,
}

/// Builds at `out` an index of at least `target_chunks` chunks from the index at `source`,
/// as the module documentation describes, through the index's write transaction. `stage` is
/// told what is being done. `out` must not exist. Deterministic: the same source and size
/// give the same index. No other process may write `source` meanwhile.
pub fn grow_index(
    source: &Path,
    out: &Path,
    target_chunks: usize,
    stage: &dyn Fn(&str),
) -> Result<Grown> {
    if out.exists() {
        return Err(Error::io(
            "create",
            out,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "already exists; give a new path",
            ),
        ));
    }
    let library = Library::at(source);
    let snapshot = library.snapshot()?;
    let manifest = snapshot.manifest().clone();
    let catalog = library.read_catalog(snapshot.paths())?;
    let docs = catalog.documents()?;
    let real: Vec<(ChunkId, Vec<f32>)> = catalog.vectors()?;
    let real_chunks = real.len();
    if real_chunks == 0 {
        return Err(Error::CorruptIndex {
            index: source.to_path_buf(),
            what: "it has no chunks to grow from".into(),
        });
    }
    let by_id: std::collections::HashMap<ChunkId, usize> = real
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let keep = SettingsRequest {
        chunk_tokens: Some(manifest.chunker.target_tokens),
        chunk_overlap: Some(manifest.chunker.overlap_tokens),
        context_in_embedding: Some(manifest.context_in_embedding),
    };
    let mut txn = Library::at(out).begin(&keep, &manifest.model, false, None)?;
    txn.set_root(&manifest.root);
    txn.stage(Staging::Fresh, stage)?;
    let mut rng = SplitMix(0x1e75_ea4c);
    let mut total = 0;
    // Replica 0 is the source itself, with its real vectors.
    let mut replica = 0;
    while total < target_chunks {
        stage(&format!(
            "replica {replica}: {total} of {target_chunks} chunks"
        ));
        for (_, doc) in &docs {
            if total >= target_chunks && replica > 0 {
                break;
            }
            let mut record = doc.clone();
            if replica > 0 {
                record.rel = Path::new(&format!("replica-{replica:04}")).join(&doc.rel);
            }
            let mut chunks: Vec<(ChunkRecord, Vec<f32>)> = Vec::new();
            for c in &doc.chunks {
                let (Some(rec), Some(&i)) = (catalog.chunk(*c)?, by_id.get(c)) else {
                    continue;
                };
                let vector = if replica == 0 {
                    real[i].1.clone()
                } else {
                    let other = &real[rng.below(real_chunks)].1;
                    blend(&real[i].1, other, &mut rng)
                };
                chunks.push((rec, vector));
            }
            total += chunks.len();
            txn.add_document(record, chunks)?;
        }
        replica += 1;
    }
    drop(catalog);
    stage("building the vector graph");
    let committed = txn.commit(stage)?;
    Ok(Grown {
        real_chunks,
        chunks: committed.chunks,
        documents: committed.documents,
    })
}

/// `normalise(0.7·v + 0.3·u + 0.05·g)` with `g` standard Gaussian per component, scaled so
/// that its norm is about 1.
fn blend(v: &[f32], u: &[f32], rng: &mut SplitMix) -> Vec<f32> {
    let scale = 0.05 / (v.len() as f32).sqrt();
    let mut w: Vec<f32> = v
        .iter()
        .zip(u)
        .map(|(a, b)| 0.7 * a + 0.3 * b + scale * rng.gaussian())
        .collect();
    let norm = w.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    w.iter_mut().for_each(|x| *x /= norm);
    w
}

/// SplitMix64: a small, fast, seeded generator (statistical quality is plenty here).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f32 {
        ((self.next() >> 40) as f32 + 1.0) / (1u64 << 24) as f32
    }

    /// Standard normal (Box-Muller).
    fn gaussian(&mut self) -> f32 {
        let (a, b) = (self.unit(), self.unit());
        (-2.0 * a.ln()).sqrt() * (std::f32::consts::TAU * b).cos()
    }
}
