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
    /// Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009), weighted per arm:
    /// `score(d) = w_kw / (k + rank_kw(d)) + 1 / (k + rank_sem(d))`, ranks from 1.
    /// Scale-free and robust; the keyword weight is tuned in docs/quality.md.
    Rrf {
        /// Damping constant; the paper's 60 by default.
        k: f32,
        /// Weight of the keyword arm relative to the semantic arm (1 = the plain formula).
        keyword_weight: f32,
    },
    /// Convex combination of min-max normalised scores:
    /// `score(d) = alpha * semantic(d) + (1 - alpha) * keyword(d)`, a missing arm counting 0.
    /// The default: it measured best on LegalBench-RAG (docs/quality.md).
    Weighted {
        /// Weight of the semantic arm, in `[0, 1]`.
        alpha: f32,
    },
}

/// Default weight of the file-name match in hybrid search ([`favour_named`]): 0.1 measured
/// best on LegalBench-RAG, and from 0.1 to 0.8 every weight fixed the one PrivacyQA question
/// whose policy neither arm ranked first (docs/quality.md).
pub const DEFAULT_NAME_WEIGHT: f32 = 0.1;
/// Default RRF damping constant (the paper's).
pub const DEFAULT_RRF_K: f32 = 60.0;
/// Default keyword weight in RRF (the plain formula).
pub const DEFAULT_KEYWORD_WEIGHT: f32 = 1.0;
/// Default semantic weight of weighted fusion (see docs/quality.md).
pub const DEFAULT_ALPHA: f32 = 0.8;
/// Largest semantic weight used for queries that name exact text: a citation (`§ 1983`,
/// `7.2(a)`, `12-401`). Embeddings blur such tokens; BM25 does not. (Quoted phrases get a
/// phrase boost in the keyword arm instead: questions often quote names, and leaning on
/// keywords for those measured worse, docs/quality.md.)
pub const EXACT_QUERY_MAX_ALPHA: f32 = 0.5;

impl Default for Fusion {
    fn default() -> Self {
        Fusion::Weighted {
            alpha: DEFAULT_ALPHA,
        }
    }
}

/// Whether a query names exact text: a section or paragraph sign, a citation-shaped number
/// (`1983`, `7.2`, `12-401`, `7.2(a)`, `28:9-408`; not an ordinal such as `3rd`), or a part
/// of a document by its number or letter (`Article 8`, `Sec. 4`, `Part IV`, `Exhibit B`).
pub fn names_exact_text(query: &str) -> bool {
    let words: Vec<&str> = query.split_whitespace().collect();
    query.contains(['§', '¶'])
        || words.iter().any(|w| citation_like(w))
        || words
            .windows(2)
            .any(|w| part_word(w[0]) && part_number(w[1]))
}

/// Whether `word` names a part of a legal document (`Article`, `Sec.`, `Clause`, `Exhibit`).
fn part_word(word: &str) -> bool {
    const PARTS: &[&str] = &[
        "annex",
        "appendix",
        "art",
        "article",
        "ch",
        "chap",
        "chapter",
        "clause",
        "exhibit",
        "item",
        "para",
        "paragraph",
        "part",
        "recital",
        "reg",
        "regulation",
        "rule",
        "schedule",
        "sec",
        "section",
        "subpart",
        "subsection",
        "title",
    ];
    let w = word.trim_end_matches('.').to_lowercase();
    PARTS.contains(&w.as_str())
}

/// Whether `word` is the number or letter of a part: `8`, `4A`, `IV`, `iv`, `B` (a letter in
/// capitals: `part a` is English).
fn part_number(word: &str) -> bool {
    let w = word.trim_end_matches([',', ';', ':', '?', '!', '.', ')', '"', '\'', '”']);
    let roman = |s: &str| {
        s.len() >= 2
            && (s.chars().all(|c| "IVXLC".contains(c)) || s.chars().all(|c| "ivxlc".contains(c)))
    };
    w.starts_with(|c: char| c.is_ascii_digit())
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:/()".contains(c))
        || roman(w)
        || w.len() == 1
            && w.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn citation_like(word: &str) -> bool {
    let w = word
        .trim_start_matches(['(', '"', '\'', '“'])
        .trim_end_matches([',', ';', ':', '?', '!', '.', '"', '\'', '”']);
    let (core, rest) = w.split_at(w.find('(').unwrap_or(w.len()));
    let numeric = core.starts_with(|c: char| c.is_ascii_digit())
        && core
            .chars()
            .all(|c| c.is_ascii_digit() || ".-:/".contains(c));
    let groups = rest.is_empty()
        || rest.split_inclusive(')').all(|g| {
            g.len() > 2
                && g.starts_with('(')
                && g.ends_with(')')
                && g[1..g.len() - 1].chars().all(char::is_alphanumeric)
        });
    numeric
        && groups
        && (core.contains(['.', '-', ':', '/']) || core.len() >= 3 || !rest.is_empty())
}

impl Fusion {
    /// The fusion to use for `query`: weighted fusion leans no further than
    /// [`EXACT_QUERY_MAX_ALPHA`] towards the semantic arm when the query names exact text.
    pub fn for_query(self, query: &str) -> Fusion {
        match self {
            Fusion::Weighted { alpha } if names_exact_text(query) => Fusion::Weighted {
                alpha: alpha.min(EXACT_QUERY_MAX_ALPHA),
            },
            other => other,
        }
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Fusion::Rrf { k, .. } if !(k >= 0.0 && k.is_finite()) => {
                Err(format!("RRF k must be a non-negative number, not {k}"))
            }
            Fusion::Rrf { keyword_weight, .. }
                if !(keyword_weight >= 0.0 && keyword_weight.is_finite()) =>
            {
                Err(format!(
                    "the keyword weight must be a non-negative number, not {keyword_weight}"
                ))
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
    /// How strongly the query names the chunk's file ([`name_match`]), when that raised it.
    pub named: Option<f32>,
}

/// How strongly the query names each of some documents, given one name per document (its
/// file name's terms, see
/// [`KeywordIndex::name_terms`](crate::index::keyword::KeywordIndex::name_terms)): the share
/// of the name's terms found among the query's, each term weighted by its rarity among these
/// documents' names (`ln(1 + n / df)`), so words many names share ("policy", "nda") count
/// little and a distinctive name ("Keep", "Evelozcity") counts fully. In `[0, 1]`; a
/// document with no name terms scores 0.
pub fn name_match(query_terms: &[String], names: &[Vec<String>]) -> Vec<f32> {
    let mut df: HashMap<&str, usize> = HashMap::new();
    for name in names {
        for t in name {
            *df.entry(t.as_str()).or_default() += 1;
        }
    }
    let n = names.len() as f32;
    let idf = |t: &str| (1.0 + n / df.get(t).copied().unwrap_or(1) as f32).ln();
    names
        .iter()
        .map(|name| {
            let total: f32 = name.iter().map(|t| idf(t)).sum();
            let found: f32 = name
                .iter()
                .filter(|t| query_terms.contains(t))
                .map(|t| idf(t))
                .sum();
            if total > 0.0 { found / total } else { 0.0 }
        })
        .collect()
}

/// Raises the first `match_of.len()` fused results by how strongly the query names their
/// document's file ([`name_match`] of each result's document): each gains
/// `weight × match × best fused score`, so the weight means the same whatever the fusion's
/// scale. A question that
/// names its document ("Consider Keep's privacy policy; ...") thus favours that document's
/// chunks even when their embeddings do not carry the name. Re-sorted, ties by chunk id.
pub fn favour_named(mut fused: Vec<Fused>, match_of: &[f32], weight: f32) -> Vec<Fused> {
    let best = fused.iter().map(|f| f.score).fold(0.0f32, f32::max);
    if weight <= 0.0 || best <= 0.0 {
        return fused;
    }
    for (f, &m) in fused.iter_mut().zip(match_of) {
        if m > 0.0 {
            f.score += weight * m * best;
            f.named = Some(m);
        }
    }
    fused.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.chunk_id.cmp(&b.chunk_id))
    });
    fused
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
                Fusion::Rrf { k, keyword_weight } => {
                    let rrf = |a: Option<ArmScore>| a.map_or(0.0, |a| 1.0 / (k + a.rank as f32));
                    keyword_weight * rrf(f.keyword) + rrf(f.semantic)
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
        named: None,
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

    fn terms(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn a_distinctive_name_in_the_query_counts_fully_and_shared_words_little() {
        // Three documents: "keep", "groupon", "fnha 2019rfp nda form".
        let names = vec![
            terms(&["keep"]),
            terms(&["groupon"]),
            terms(&["fnha", "2019rfp", "nda", "form"]),
        ];
        let m = name_match(&terms(&["consid", "keep", "privaci", "polici"]), &names);
        assert!(
            close(m[0], 1.0) && close(m[1], 0.0) && close(m[2], 0.0),
            "{m:?}"
        );
        // Hand-computed: n = 3, every term in one name, so each weighs ln(1 + 3) alike and
        // "fnha" is one of four.
        let m = name_match(&terms(&["consid", "fnha", "agreement"]), &names);
        assert!(close(m[2], 0.25), "{m:?}");
        // A word in both names ("nda" below) weighs ln 2, a distinctive one ln 3.
        let names = vec![terms(&["acme", "nda"]), terms(&["globex", "nda"])];
        let m = name_match(&terms(&["nda"]), &names);
        let share = 2f32.ln() / (2f32.ln() + 3f32.ln());
        assert!(close(m[0], share) && close(m[1], share), "{m:?}");
        // No name terms: no match.
        assert_eq!(name_match(&terms(&["x"]), &[Vec::new()]), vec![0.0]);
    }

    #[test]
    fn favouring_named_documents_lifts_their_results_by_a_share_of_the_best_score() {
        let fused = vec![
            Fused {
                chunk_id: A,
                score: 0.9,
                keyword: None,
                semantic: None,
                named: None,
            },
            Fused {
                chunk_id: B,
                score: 0.85,
                keyword: None,
                semantic: None,
                named: None,
            },
            Fused {
                chunk_id: C,
                score: 0.5,
                keyword: None,
                semantic: None,
                named: None,
            },
        ];
        // B's document is named: 0.85 + 0.1 × 1 × 0.9 = 0.94 passes A.
        let out = favour_named(fused.clone(), &[0.0, 1.0, 0.0], 0.1);
        let ids: Vec<_> = out.iter().map(|f| f.chunk_id).collect();
        assert_eq!(ids, vec![B, A, C]);
        assert!(close(out[0].score, 0.94));
        assert_eq!((out[0].named, out[1].named), (Some(1.0), None));
        // Weight 0, or nothing named, changes nothing.
        assert_eq!(favour_named(fused.clone(), &[0.0, 1.0, 0.0], 0.0), fused);
        assert_eq!(favour_named(fused.clone(), &[0.0, 0.0], 0.1), fused);
    }

    #[test]
    fn rrf_matches_hand_computed_scores() {
        // keyword: A(1) B(2); semantic: B(1) C(2); k = 60.
        let out = fuse(
            &[(A, 9.0), (B, 3.0)],
            &[(B, 0.9), (C, 0.8)],
            Fusion::Rrf {
                k: 60.0,
                keyword_weight: 1.0,
            },
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
    fn queries_naming_exact_text_lean_on_keywords() {
        for q in [
            "42 U.S.C. § 1983",
            "¶ 12",
            "Section 7.2(a)",
            "claims under 1983",
            "D.C. Code 28:9-408",
            "section 12-401?",
            "ARTICLE 8",
            "what does Art. 6 say",
            "Sec. 4 remedies",
            "Part IV",
            "exhibit B",
            "Schedule 2",
            "clause 4A",
        ] {
            assert!(names_exact_text(q), "{q}");
            assert_eq!(
                Fusion::default().for_query(q),
                Fusion::Weighted { alpha: 0.5 }
            );
        }
        for q in [
            "can the landlord keep my deposit",
            "Consider \"Groupon\"'s privacy policy",
            "will this app sell my data to 3rd parties?",
            "is there a 30 day notice period",
            "part a of the fee",
            "each section of this agreement",
        ] {
            assert!(!names_exact_text(q), "{q}");
        }
        let q = "can the landlord keep my deposit";
        assert_eq!(Fusion::default().for_query(q), Fusion::default());
        let rrf = Fusion::Rrf {
            k: 60.0,
            keyword_weight: 1.0,
        };
        assert_eq!(rrf.for_query("§ 1983"), rrf);
    }

    #[test]
    fn rrf_weights_the_keyword_arm() {
        let out = fuse(
            &[(A, 9.0)],
            &[(B, 0.9)],
            Fusion::Rrf {
                k: 60.0,
                keyword_weight: 0.5,
            },
        );
        assert_eq!(out[0].chunk_id, B);
        assert!(close(out[1].score, 0.5 / 61.0));
        assert!(
            Fusion::Rrf {
                k: 60.0,
                keyword_weight: -1.0
            }
            .validate()
            .is_err()
        );
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
        let out = fuse(
            &[],
            &[(C, 0.3), (A, 0.2)],
            Fusion::Rrf {
                k: 60.0,
                keyword_weight: 1.0,
            },
        );
        assert_eq!(
            out.iter().map(|f| f.chunk_id).collect::<Vec<_>>(),
            vec![C, A]
        );
        assert!(fuse(&[], &[], Fusion::default()).is_empty());
    }

    #[test]
    fn ties_break_by_chunk_id_and_bad_parameters_are_refused() {
        let out = fuse(
            &[(B, 1.0)],
            &[(A, 1.0)],
            Fusion::Rrf {
                k: 60.0,
                keyword_weight: 1.0,
            },
        );
        assert_eq!(out[0].chunk_id, A);
        assert!(Fusion::Weighted { alpha: 1.5 }.validate().is_err());
        assert!(
            Fusion::Rrf {
                k: -1.0,
                keyword_weight: 1.0
            }
            .validate()
            .is_err()
        );
        assert!(
            Fusion::Rrf {
                k: 60.0,
                keyword_weight: 1.0
            }
            .validate()
            .is_ok()
        );
    }
}
