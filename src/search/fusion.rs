//! Fusing the keyword and semantic result lists into one ranking.
//!
//! Both functions are pure: ranked lists in, fused list out, merged on [`ChunkId`].

use std::collections::HashMap;

use serde::Serialize;

use crate::ids::ChunkId;

/// How the two arms' rankings are combined.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Fusion {
    /// Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009):
    /// `score(d) = Σ_arm 1 / (k + rank_arm(d))`, ranks from 1. Scale-free, robust default.
    Rrf {
        /// Damping constant; the paper's 60 by default.
        k: f32,
    },
    /// Convex combination of min-max normalised scores:
    /// `score(d) = alpha * semantic(d) + (1 - alpha) * keyword(d)`, a missing arm counting 0.
    Weighted {
        /// Weight of the semantic arm, in `[0, 1]`.
        alpha: f32,
    },
}

impl Default for Fusion {
    fn default() -> Self {
        Fusion::Rrf { k: 60.0 }
    }
}

impl Fusion {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Fusion::Rrf { k } if !(k >= 0.0 && k.is_finite()) => {
                Err(format!("RRF k must be a non-negative number, not {k}"))
            }
            Fusion::Weighted { alpha } if !(0.0..=1.0).contains(&alpha) => {
                Err(format!("alpha must be between 0 and 1, not {alpha}"))
            }
            _ => Ok(()),
        }
    }
}

/// One arm's evidence for a fused result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ArmScore {
    /// 1-based rank in that arm.
    pub rank: usize,
    /// That arm's raw score (BM25, or cosine similarity).
    pub score: f32,
}

/// A fused result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fused {
    /// The chunk.
    pub chunk_id: ChunkId,
    /// Fused score; higher is better.
    pub score: f32,
    /// Keyword arm evidence, if that arm found the chunk.
    pub keyword: Option<ArmScore>,
    /// Semantic arm evidence, if that arm found the chunk.
    pub semantic: Option<ArmScore>,
}

/// Fuses two ranked lists (best first, raw scores) and returns all results, best first.
/// Ties are broken by chunk id, so the output is deterministic.
pub fn fuse(keyword: &[(ChunkId, f32)], semantic: &[(ChunkId, f32)], fusion: Fusion) -> Vec<Fused> {
    let mut by_id: HashMap<ChunkId, Fused> = HashMap::new();
    let arm = |list: &[(ChunkId, f32)]| -> Vec<(ChunkId, ArmScore)> {
        list.iter()
            .enumerate()
            .map(|(i, &(id, score))| (id, ArmScore { rank: i + 1, score }))
            .collect()
    };
    for (id, a) in arm(keyword) {
        by_id.entry(id).or_insert_with(|| empty(id)).keyword = Some(a);
    }
    for (id, a) in arm(semantic) {
        by_id.entry(id).or_insert_with(|| empty(id)).semantic = Some(a);
    }
    let kw_norm = min_max(keyword);
    let sem_norm = min_max(semantic);
    let mut out: Vec<Fused> = by_id
        .into_values()
        .map(|mut f| {
            f.score = match fusion {
                Fusion::Rrf { k } => {
                    let rrf = |a: Option<ArmScore>| a.map_or(0.0, |a| 1.0 / (k + a.rank as f32));
                    rrf(f.keyword) + rrf(f.semantic)
                }
                Fusion::Weighted { alpha } => {
                    let kw = f.keyword.map_or(0.0, |a| kw_norm(a.score));
                    let sem = f.semantic.map_or(0.0, |a| sem_norm(a.score));
                    alpha * sem + (1.0 - alpha) * kw
                }
            };
            f
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.chunk_id.cmp(&b.chunk_id))
    });
    out
}

fn empty(chunk_id: ChunkId) -> Fused {
    Fused {
        chunk_id,
        score: 0.0,
        keyword: None,
        semantic: None,
    }
}

/// Maps a list's scores onto `[0, 1]`; a list whose scores are all equal maps to 1.
fn min_max(list: &[(ChunkId, f32)]) -> impl Fn(f32) -> f32 {
    let lo = list.iter().map(|x| x.1).fold(f32::INFINITY, f32::min);
    let hi = list.iter().map(|x| x.1).fold(f32::NEG_INFINITY, f32::max);
    move |s| {
        if hi > lo { (s - lo) / (hi - lo) } else { 1.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: ChunkId = ChunkId(1);
    const B: ChunkId = ChunkId(2);
    const C: ChunkId = ChunkId(3);

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn rrf_matches_hand_computed_scores() {
        // keyword: A(1) B(2); semantic: B(1) C(2); k = 60.
        let out = fuse(
            &[(A, 9.0), (B, 3.0)],
            &[(B, 0.9), (C, 0.8)],
            Fusion::Rrf { k: 60.0 },
        );
        let ids: Vec<_> = out.iter().map(|f| f.chunk_id).collect();
        assert_eq!(ids, vec![B, A, C]);
        assert!(close(out[0].score, 1.0 / 62.0 + 1.0 / 61.0));
        assert!(close(out[1].score, 1.0 / 61.0));
        assert!(close(out[2].score, 1.0 / 62.0));
        assert_eq!(
            out[0].keyword,
            Some(ArmScore {
                rank: 2,
                score: 3.0
            })
        );
        assert_eq!(
            out[0].semantic,
            Some(ArmScore {
                rank: 1,
                score: 0.9
            })
        );
        assert_eq!(out[1].semantic, None);
    }

    #[test]
    fn weighted_fusion_normalises_each_arm_and_mixes_by_alpha() {
        // keyword scores 10, 5, 0 -> 1, 0.5, 0; semantic 0.9, 0.5 -> 1, 0.
        let kw = [(A, 10.0), (B, 5.0), (C, 0.0)];
        let sem = [(C, 0.9), (A, 0.5)];
        let out = fuse(&kw, &sem, Fusion::Weighted { alpha: 0.25 });
        let get = |id| out.iter().find(|f| f.chunk_id == id).unwrap().score;
        assert!(close(get(A), 0.25 * 0.0 + 0.75 * 1.0));
        assert!(close(get(B), 0.75 * 0.5));
        assert!(close(get(C), 0.25 * 1.0));
        assert_eq!(out[0].chunk_id, A);
    }

    #[test]
    fn one_empty_arm_keeps_the_other_arms_order() {
        let out = fuse(&[], &[(C, 0.3), (A, 0.2)], Fusion::default());
        assert_eq!(
            out.iter().map(|f| f.chunk_id).collect::<Vec<_>>(),
            vec![C, A]
        );
        assert!(fuse(&[], &[], Fusion::default()).is_empty());
    }

    #[test]
    fn ties_break_by_chunk_id_and_bad_parameters_are_refused() {
        let out = fuse(&[(B, 1.0)], &[(A, 1.0)], Fusion::Rrf { k: 60.0 });
        assert_eq!(out[0].chunk_id, A);
        assert!(Fusion::Weighted { alpha: 1.5 }.validate().is_err());
        assert!(Fusion::Rrf { k: -1.0 }.validate().is_err());
        assert!(Fusion::Rrf { k: 60.0 }.validate().is_ok());
    }
}
