//! Reranking the best fused hits with a cross-encoder ([`CrossEncoder`]).
//!
//! The fused ranking decides which chunks are candidates; the cross-encoder, which reads the
//! query and each candidate together, decides their order. Only the best `top` are re-scored
//! (each costs a forward pass over query and chunk, docs/benchmarks.md); the hits after them
//! keep their fused order.

use std::sync::Arc;

use serde::Serialize;

use crate::embed::CrossEncoder;

/// How many fused hits are re-scored when the user does not say: at 30 a search on the CPU
/// gains well under a second with a MiniLM-L6-sized reranker (docs/benchmarks.md).
pub const DEFAULT_RERANK_TOP: usize = 30;

/// A reranker and how many of the best fused hits it re-scores.
#[derive(Debug, Clone)]
pub struct Rerank {
    /// The cross-encoder, shared by every search that uses it.
    pub model: Arc<CrossEncoder>,
    /// How many of the best fused hits are re-scored (0 turns reranking off).
    pub top: usize,
}

impl Rerank {
    /// Reranks the best [`DEFAULT_RERANK_TOP`] hits with `model`.
    pub fn new(model: Arc<CrossEncoder>) -> Self {
        Rerank {
            model,
            top: DEFAULT_RERANK_TOP,
        }
    }

    /// What `--json` reports about it.
    pub fn summary(&self) -> RerankSummary {
        RerankSummary {
            model: self.model.info().name.clone(),
            top: self.top,
        }
    }
}

/// Two settings are equal when they use the same loaded model for the same number of hits.
impl PartialEq for Rerank {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.model, &other.model) && self.top == other.top
    }
}

/// The reranking of a search, as its JSON document reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RerankSummary {
    /// The reranker's name (its folder's name).
    pub model: String,
    /// How many of the best fused hits were re-scored.
    pub top: usize,
}

/// The order of candidates by their reranker scores: indices, best score first, equal scores
/// in their fused order.
pub fn order_by_score(scores: &[f32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // A stable sort keeps the fused order among equal scores.
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_ordered_by_score_and_ties_keep_their_fused_order() {
        assert_eq!(
            order_by_score(&[0.2, 0.9, 0.5, 0.9, -1.0]),
            vec![1, 3, 2, 0, 4]
        );
        assert!(order_by_score(&[]).is_empty());
    }
}
