//! Pinpoints: the sentence or clause (or two adjacent ones) of a hit that best answers the
//! query.
//!
//! [`segments`] (`crate::ingest::segment`) cuts a chunk into sentences and clauses in a way
//! that respects legal text. [`Candidates::gather`] scores every segment of the best hits, and
//! every pair of adjacent segments, on two kinds of evidence: the share of the query's keyword
//! terms the passage contains (weighted by their rarity among the index's chunks,
//! [`TermRarity`], or else among the candidates) and the cosine of the query's embedding with
//! the passage's own embedding (all candidates embedded in one batch). [`Candidates::choose`]
//! combines them with [`PinpointSettings`].
//! The settings were chosen on LegalBench-RAG (docs/quality.md).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;

use serde::Serialize;

use super::Hit;
use super::snippet::STOP;
use crate::embed::{Embedder, ModelError};
use crate::index::keyword::{Place, analyze, stemmed_analyzer};
use crate::ingest::segment::segments;

/// The passage of a hit that best answers the query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pinpoint {
    /// Byte offset of the passage in the extracted text (within the hit's `start_byte..end_byte`).
    pub start_byte: usize,
    /// End byte offset (exclusive).
    pub end_byte: usize,
    /// 1-based line of the passage's first byte in the extracted text.
    pub line: u32,
    /// 1-based page of the passage's first byte (PDF), which for a chunk over two pages may
    /// be the later one; null outside paged documents.
    pub page: Option<u32>,
    /// The passage.
    pub text: String,
    /// Its combined score: `semantic_weight × cosine + (1 − semantic_weight) × keyword share`.
    pub score: f32,
}

/// How pinpoints are found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PinpointSettings {
    /// Pinpoint only the best this many hits (0 turns pinpoints off).
    pub hits: usize,
    /// Weight of the embedding cosine against the keyword share, in `[0, 1]`; without an
    /// embedder the keyword share alone decides.
    pub semantic_weight: f32,
    /// Whether two adjacent segments may form one pinpoint.
    pub pairs: bool,
    /// Whether segments are clauses (cut at `;` too) rather than whole sentences.
    pub clauses: bool,
    /// Whether query terms weigh by their rarity among all the index's chunks ([`TermRarity`],
    /// when the searcher knows it) rather than among the candidate segments.
    pub index_rarity: bool,
    /// Whether a segment that only repeats the document's title or a heading above the hit
    /// (a section caption, "3. Limitations.") is passed over for one that says something,
    /// when the hit has any other.
    pub skip_headings: bool,
}

impl Default for PinpointSettings {
    fn default() -> Self {
        PinpointSettings {
            hits: 10,
            // Keyword evidence alone, on clauses: as precise as any weighting of the embedding
            // on LegalBench-RAG (docs/quality.md, "Pinpoints") and a thousand times cheaper than
            // embedding the best hits' sentences at query time.
            semantic_weight: 0.0,
            pairs: false,
            clauses: true,
            // Rarity in the whole index: better than among the candidates on both LegalBench-RAG
            // subsets and on the D.C. Code set (docs/quality.md, row p16), for one term lookup
            // per query word.
            index_rarity: true,
            skip_headings: true,
        }
    }
}

/// How rare each query term is in the whole index: the chunks that hold it, out of all
/// chunks. A term in few chunks says more about which passage answers than one in every
/// chunk ("confidential" in an NDA), and the few best hits alone estimate that poorly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TermRarity {
    /// Chunks in the index.
    pub chunks: u64,
    /// Chunks holding each stemmed query term.
    pub df: HashMap<String, u64>,
}

/// The query's terms as pinpoints weigh them: stemmed, stop words out, each once, sorted.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut analyzer = stemmed_analyzer();
    let mut terms: Vec<String> = analyze(&mut analyzer, query)
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| !STOP.contains(&t.as_str()))
        .collect();
    terms.sort();
    terms.dedup();
    terms
}

/// One candidate passage of a hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Byte range in the hit's text.
    pub range: Range<usize>,
    /// Share of the query's keyword weight the passage contains, in `[0, 1]`.
    pub keyword: f32,
    /// Cosine of the query and passage embeddings, when embedded.
    pub semantic: Option<f32>,
    /// Whether the passage only repeats the document's title or a heading of the hit's
    /// breadcrumb.
    pub heading: bool,
}

/// Lower case, white space collapsed, without the punctuation that ends a heading.
fn normalized(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .trim_end_matches(['.', ':', ';', ','])
        .to_string()
}

/// Whether `line` is a path of headings that a document prints of its own place, joined by
/// `>` (`Title 42. Real Property. > Chapter 35. Rental Housing Generally.`, as the D.C. Code
/// and exports of legal databases write it): two parts or more, each a caption of at most 16
/// words that starts with a capital or a number.
fn is_heading_path(line: &str) -> bool {
    let parts: Vec<&str> = line.trim().split(" > ").collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            let words = p.split_whitespace().count();
            let capital = p
                .trim_start()
                .starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit());
            capital && (1..=16).contains(&words)
        })
}

/// Whether `segment` of `hit` is part of the document's title or one of its breadcrumb
/// headings, or a path of headings ([`is_heading_path`]), and so names the topic rather than
/// answering.
fn is_heading(hit: &Hit, segment: &str) -> bool {
    if is_heading_path(segment) {
        return true;
    }
    // A Markdown heading line (DOCX, ODT and e-mail headings are written so) without its `#`s.
    let seg = normalized(segment.trim_start().trim_start_matches('#'));
    if seg.chars().filter(|c| c.is_alphanumeric()).count() < 3 {
        return false;
    }
    std::iter::once(&hit.title)
        .chain(&hit.breadcrumb)
        .any(|h| normalized(h).contains(&seg))
}

/// Whether `segment` of an e-mail `hit` is lines of the header block the index writes above
/// its body (`From:`, `To:`, `Date:`, ..., [`HEADER_LABELS`](crate::ingest::types::HEADER_LABELS)):
/// the hit already shows them, and they answer no question.
fn is_mail_header(hit: &Hit, segment: &str) -> bool {
    hit.mail.is_some()
        && segment.lines().all(|l| {
            let (label, _) = l.trim_start().split_once(": ").unwrap_or_default();
            crate::ingest::types::HEADER_LABELS.contains(&label)
        })
}

/// The byte ranges (trimmed) of the lines of `hit.text` that are, alone or with the line after
/// them, the document's title or a heading of its breadcrumb, as a caption is written: at most
/// 16 words and no closing `.`, `?`, `!`, `;` or `:` (a line that ends so already ends its
/// segment, and a plain-text document's first paragraph may be its title); and the lines that
/// are a path of headings ([`is_heading_path`]).
fn heading_lines(hit: &Hit) -> Vec<Range<usize>> {
    let mut lines: Vec<Range<usize>> = Vec::new();
    let mut at = 0;
    for line in hit.text.split_inclusive('\n') {
        let trimmed = line.trim();
        if !trimmed.is_empty() {
            let start = at + line.len() - line.trim_start().len();
            lines.push(start..start + trimmed.len());
        }
        at += line.len();
    }
    let headings: Vec<String> = std::iter::once(&hit.title)
        .chain(&hit.breadcrumb)
        .map(|h| normalized(h))
        .filter(|h| h.chars().filter(|c| c.is_alphanumeric()).count() >= 3)
        .collect();
    let is = |text: &str| {
        let caption = !text
            .trim_end_matches(['"', '\'', ')', ']', '”', '’', '»'])
            .ends_with(['.', '?', '!', ';', ':'])
            && text.split_whitespace().count() <= 16;
        caption && headings.contains(&normalized(text.trim_start_matches('#')))
    };
    let mut out: Vec<Range<usize>> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if out.last().is_some_and(|o| o.end >= l.end) {
            continue;
        }
        if is(&hit.text[l.clone()]) || is_heading_path(&hit.text[l.clone()]) {
            out.push(l.clone());
        } else if let Some(next) = lines.get(i + 1) {
            // "ARTICLE 6" over "INSURANCE", read as one heading "ARTICLE 6 INSURANCE".
            if is(&format!(
                "{} {}",
                &hit.text[l.clone()],
                &hit.text[next.clone()]
            )) {
                out.push(l.start..next.end);
            }
        }
    }
    out
}

/// `segs` of `hit.text` with each heading line ([`heading_lines`]) made one segment of its own:
/// a caption without a closing period ("SECTION 1. Pet policy") otherwise runs into the first
/// sentence under it, and a label's period cuts it in two.
fn split_heading_lines(hit: &Hit, segs: Vec<Range<usize>>) -> Vec<Range<usize>> {
    let lines = heading_lines(hit);
    if lines.is_empty() {
        return segs;
    }
    let text = &hit.text;
    let mut out: Vec<Range<usize>> = Vec::new();
    for s in segs {
        let mut cuts = vec![s.start, s.end];
        for l in &lines {
            cuts.extend([l.start, l.end].into_iter().filter(|p| s.contains(p)));
        }
        cuts.sort_unstable();
        cuts.dedup();
        for w in cuts.windows(2) {
            let piece = &text[w[0]..w[1]];
            let lead = piece.len() - piece.trim_start().len();
            let r = w[0] + lead..w[0] + lead + piece.trim().len();
            if r.is_empty() {
                continue;
            }
            let line = lines.iter().find(|l| l.start <= r.start && r.end <= l.end);
            match (line, out.last_mut()) {
                // Pieces of one heading line are one segment.
                (Some(l), Some(last)) if l.start <= last.start && last.end <= l.end => {
                    last.end = r.end;
                }
                _ => out.push(r),
            }
        }
    }
    out
}

/// The candidate passages of the best hits, with their evidence, computed once so that several
/// settings can choose among them ([`Candidates::choose`]).
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    /// Candidates per hit.
    pub per_hit: Vec<HitCandidates>,
}

/// The candidate passages of one hit.
#[derive(Debug, Clone, Default)]
pub struct HitCandidates {
    /// Each segment, in order.
    pub singles: Vec<Candidate>,
    /// Each pair of adjacent segments, in order (its cosine is the mean of the two).
    pub pairs: Vec<Candidate>,
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Candidates {
    /// Segments the first `settings.hits` hits, weighs each segment (and each pair of adjacent
    /// segments) by the query's keyword terms (weighted by `rarity` when given and
    /// `settings.index_rarity`) and, with an `embedder` and the `query_vector`, by embedding
    /// cosine: all segments embedded in one batch.
    pub fn gather(
        hits: &[Hit],
        query: &str,
        query_vector: Option<&[f32]>,
        embedder: Option<&Embedder>,
        rarity: Option<&TermRarity>,
        settings: &PinpointSettings,
    ) -> Result<Self, ModelError> {
        let top = &hits[..hits.len().min(settings.hits)];
        let segs: Vec<Vec<Range<usize>>> = top
            .iter()
            .map(|h| split_heading_lines(h, segments(&h.text, settings.clauses)))
            .collect();
        // Keyword terms of the query and of each segment.
        let mut analyzer = stemmed_analyzer();
        // Sorted, so that every sum over them below runs in one order (bit-equal scores in
        // every process, whatever the hash seed).
        let query_terms: BTreeSet<String> = query_terms(query).into_iter().collect();
        let seg_terms: Vec<Vec<HashSet<String>>> = top
            .iter()
            .zip(&segs)
            .map(|(h, ss)| {
                ss.iter()
                    .map(|r| {
                        analyze(&mut analyzer, &h.text[r.clone()])
                            .into_iter()
                            .map(|(t, _)| t)
                            .filter(|t| query_terms.contains(t))
                            .collect()
                    })
                    .collect()
            })
            .collect();
        // Each query term weighs by its rarity among the index's chunks, or else among all
        // candidate segments.
        let mut n = seg_terms.iter().map(Vec::len).sum::<usize>() as f32;
        let mut df: HashMap<&str, f32> = HashMap::new();
        match rarity.filter(|r| settings.index_rarity && r.chunks > 0) {
            Some(r) => {
                n = r.chunks as f32;
                for (t, &d) in &r.df {
                    df.insert(t.as_str(), d as f32);
                }
            }
            None => {
                for set in seg_terms.iter().flatten() {
                    for t in set {
                        *df.entry(t.as_str()).or_default() += 1.0;
                    }
                }
            }
        }
        let weight = |t: &str| (1.0 + n / (1.0 + df.get(t).copied().unwrap_or(0.0))).ln();
        let total: f32 = query_terms.iter().map(|t| weight(t)).sum();
        // Summed in term order, so that equal evidence gives bit-equal scores (ties then go to
        // the first passage, whatever the hash order).
        let share = |terms: &HashSet<&String>| -> f32 {
            if total <= 0.0 {
                return 0.0;
            }
            let mut sorted: Vec<&&String> = terms.iter().collect();
            sorted.sort();
            sorted.into_iter().map(|t| weight(t)).sum::<f32>() / total
        };
        // One batch of every segment's text.
        let cosines: Option<Vec<f32>> = match (embedder, query_vector) {
            (Some(e), Some(q)) if settings.semantic_weight > 0.0 => {
                let prompt = e.document_prompt();
                let texts: Vec<String> = top
                    .iter()
                    .zip(&segs)
                    .flat_map(|(h, ss)| {
                        ss.iter()
                            .map(move |r| format!("{prompt}{}", &h.text[r.clone()]))
                    })
                    .collect();
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                let vectors = if refs.is_empty() {
                    Vec::new()
                } else {
                    e.embed(&refs)?
                };
                Some(vectors.iter().map(|v| cosine(q, v)).collect())
            }
            _ => None,
        };
        let mut per_hit = Vec::with_capacity(top.len());
        let mut next = 0usize;
        for ((ss, terms), hit) in segs.iter().zip(&seg_terms).zip(top) {
            let cos: Vec<Option<f32>> = (0..ss.len())
                .map(|i| cosines.as_ref().map(|c| c[next + i]))
                .collect();
            next += ss.len();
            let singles: Vec<Candidate> = ss
                .iter()
                .zip(terms)
                .zip(&cos)
                .map(|((r, t), c)| Candidate {
                    range: r.clone(),
                    keyword: share(&t.iter().collect()),
                    semantic: *c,
                    heading: is_heading(hit, &hit.text[r.clone()])
                        || is_mail_header(hit, &hit.text[r.clone()]),
                })
                .collect();
            let mut pairs = Vec::new();
            for i in 1..ss.len() {
                let both: HashSet<&String> = terms[i - 1].iter().chain(&terms[i]).collect();
                pairs.push(Candidate {
                    range: ss[i - 1].start..ss[i].end,
                    keyword: share(&both),
                    semantic: match (cos[i - 1], cos[i]) {
                        (Some(a), Some(b)) => Some((a + b) / 2.0),
                        _ => None,
                    },
                    heading: singles[i - 1].heading || singles[i].heading,
                });
            }
            per_hit.push(HitCandidates { singles, pairs });
        }
        Ok(Candidates { per_hit })
    }

    /// The best candidate of each gathered hit under `settings` (`None` for a hit without
    /// text), in the order of `hits`.
    pub fn choose(&self, hits: &[Hit], settings: &PinpointSettings) -> Vec<Option<Pinpoint>> {
        self.per_hit
            .iter()
            .zip(hits)
            .map(|(cands, hit)| {
                let pairs: &[Candidate] = if settings.pairs { &cands.pairs } else { &[] };
                // Headings only when the hit has nothing else.
                let skip = settings.skip_headings && cands.singles.iter().any(|c| !c.heading);
                let pool = cands
                    .singles
                    .iter()
                    .chain(pairs)
                    .filter(|c| !(skip && c.heading));
                let score = |c: &Candidate| match c.semantic {
                    Some(s) => {
                        settings.semantic_weight * s + (1.0 - settings.semantic_weight) * c.keyword
                    }
                    None => c.keyword,
                };
                let best = pool.map(|c| (score(c), c)).fold(
                    None::<(f32, &Candidate)>,
                    |best, (s, c)| match best {
                        Some((b, _)) if b >= s => best,
                        _ => Some((s, c)),
                    },
                )?;
                let (s, c) = best;
                Some(pinpoint_of(hit, c.range.clone(), s))
            })
            .collect()
    }
}

/// The pinpoint of `range` of `hit`'s text, with this score.
pub(super) fn pinpoint_of(hit: &Hit, range: Range<usize>, score: f32) -> Pinpoint {
    let place = Place {
        page: hit.page,
        page_end: hit.page_end,
        paragraph: hit.paragraph,
    };
    let start_byte = hit.start_byte + range.start;
    Pinpoint {
        start_byte,
        end_byte: hit.start_byte + range.end,
        line: hit.line + hit.text[..range.start].matches('\n').count() as u32,
        page: place.page_at(&hit.page_breaks, start_byte),
        text: hit.text[range].to_string(),
        score,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A hit of `text` in `a.txt`, at `start_byte` and `line`, with no arm evidence.
    pub(in crate::search) fn hit(text: &str, start_byte: usize, line: u32) -> Hit {
        Hit {
            rank: 1,
            score: 1.0,
            chunk_id: 1,
            path: "/d/a.txt".into(),
            file: "a.txt".into(),
            title: String::new(),
            breadcrumb: vec![],
            line,
            page: None,
            page_end: None,
            paragraph: None,
            page_breaks: Vec::new(),
            start_byte,
            end_byte: start_byte + text.len(),
            text: text.into(),
            mail: None,
            snippet: super::super::snippet::snippet(text, "", 10),
            matched_terms: vec![],
            keyword: None,
            semantic: None,
            named: None,
            pinpoint: None,
            rerank: None,
            copies: Vec::new(),
            copies_complete: true,
            changed: false,
            context: None,
        }
    }

    #[test]
    fn keyword_evidence_picks_the_sentence_with_the_rare_query_terms() {
        let text = "The Recipient shall hold the Information in confidence.\n\
                    The Recipient may disclose Information to its employees who need to know.\n\
                    This Agreement is governed by the laws of Delaware.";
        let hits = vec![hit(text, 100, 7)];
        let settings = PinpointSettings {
            semantic_weight: 0.0,
            ..PinpointSettings::default()
        };
        let c = Candidates::gather(
            &hits,
            "may the recipient share information with employees?",
            None,
            None,
            None,
            &settings,
        )
        .unwrap();
        let p = c.choose(&hits, &settings).remove(0).unwrap();
        assert_eq!(
            p.text,
            "The Recipient may disclose Information to its employees who need to know."
        );
        // Offsets are absolute, and the line counts the chunk's own line breaks.
        let rel = text.find("The Recipient may").unwrap();
        assert_eq!(
            (p.start_byte, p.end_byte),
            (100 + rel, 100 + rel + p.text.len())
        );
        assert_eq!(p.line, 8);
        assert_eq!(p.page, None, "not a paged document");

        // The same chunk in a PDF, over pages 4 and 5, page 5 beginning with the second
        // sentence: the pinpoint is on page 5; a pinpoint on the first sentence on page 4.
        let mut paged = hits[0].clone();
        (paged.page, paged.page_end, paged.page_breaks) = (Some(4), Some(5), vec![100 + rel]);
        let mut paged = vec![paged];
        let p = c.choose(&paged, &settings).remove(0).unwrap();
        assert_eq!(p.page, Some(5));
        paged[0].page_breaks = vec![100 + rel + 1];
        assert_eq!(c.choose(&paged, &settings).remove(0).unwrap().page, Some(4));
    }

    #[test]
    fn pairs_join_two_adjacent_sentences_only_when_allowed() {
        let text = "Fees are due monthly. Late fees accrue interest. Venue is Delaware.";
        let hits = vec![hit(text, 0, 1)];
        let mut settings = PinpointSettings {
            semantic_weight: 0.0,
            ..PinpointSettings::default()
        };
        let c = Candidates::gather(&hits, "monthly interest", None, None, None, &settings).unwrap();
        let single = c.choose(&hits, &settings).remove(0).unwrap();
        assert!(
            single.text == "Fees are due monthly." || single.text == "Late fees accrue interest."
        );
        settings.pairs = true;
        let pair = c.choose(&hits, &settings).remove(0).unwrap();
        assert_eq!(
            pair.text,
            "Fees are due monthly. Late fees accrue interest."
        );
    }

    #[test]
    fn a_term_rare_in_the_index_outweighs_one_in_every_chunk() {
        // Each sentence holds two query terms once, so among the candidates they tie (and the
        // first wins); the index knows "confidential" and "information" are in most chunks
        // and "orally" in few.
        let text =
            "Confidential information terms apply to the parties. Facts shared orally count too.";
        let hits = vec![hit(text, 0, 1)];
        let settings = PinpointSettings::default();
        let query = "is confidential information covered when shared orally?";
        let terms = query_terms(query);
        assert!(terms.contains(&"confidenti".to_string()) && terms.contains(&"oral".to_string()));
        let rarity = TermRarity {
            chunks: 1000,
            df: [
                ("confidenti", 900),
                ("inform", 800),
                ("share", 100),
                ("oral", 3),
            ]
            .into_iter()
            .map(|(t, d)| (t.to_string(), d))
            .collect(),
        };
        let pick = |rarity: Option<&TermRarity>, s: &PinpointSettings| {
            Candidates::gather(&hits, query, None, None, rarity, s)
                .unwrap()
                .choose(&hits, s)
                .remove(0)
                .unwrap()
                .text
        };
        assert_eq!(
            pick(Some(&rarity), &settings),
            "Facts shared orally count too."
        );
        // Without the index's counts, or when told not to use them, the candidates decide.
        let first = "Confidential information terms apply to the parties.";
        assert_eq!(pick(None, &settings), first);
        let among_candidates = PinpointSettings {
            index_rarity: false,
            ..settings
        };
        assert_eq!(pick(Some(&rarity), &among_candidates), first);
    }

    #[test]
    fn a_heading_that_repeats_the_query_gives_way_to_the_text_under_it() {
        let title = "D.C. Code § 21-101. Natural guardians of the person.";
        let text = format!(
            "{title}\n\n  (a) The father and mother are the natural guardians of the person of \
             their minor children.\n  (b) This section does not affect the power of a court."
        );
        let mut h = hit(&text, 0, 1);
        h.title = title.into();
        let hits = vec![h];
        let query = "Natural guardians of the person";
        let pick = |s: &PinpointSettings| {
            Candidates::gather(&hits, query, None, None, None, s)
                .unwrap()
                .choose(&hits, s)
                .remove(0)
                .unwrap()
                .text
        };
        let settings = PinpointSettings::default();
        assert!(pick(&settings).starts_with("(a) The father and mother"));
        let headings_too = PinpointSettings {
            skip_headings: false,
            ..settings
        };
        assert_eq!(pick(&headings_too), "Natural guardians of the person.");
    }

    #[test]
    fn a_path_of_headings_the_document_prints_gives_way_to_the_text_under_it() {
        let title = "D.C. Code § 42-3505.01. Evictions.";
        let text = format!(
            "{title}\nTitle 42. Real Property. > Chapter 35. Rental Housing Generally. > \
             Subchapter V. Evictions; Retaliatory Action; and Other Matters.\n\n  (a) No tenant \
             shall be evicted from a rental unit so long as the tenant pays the rent."
        );
        let mut h = hit(&text, 0, 1);
        h.title = title.into();
        let hits = vec![h];
        let settings = PinpointSettings::default();
        for query in ["§ 42-3505.01", "title 42 chapter 35 eviction"] {
            let pick = Candidates::gather(&hits, query, None, None, None, &settings)
                .unwrap()
                .choose(&hits, &settings)
                .remove(0)
                .unwrap()
                .text;
            assert!(pick.starts_with("(a) No tenant"), "{query}: {pick}");
        }
        assert!(is_heading_path("Part A > Chapter 3"));
        assert!(!is_heading_path("if x > 5 then the fee doubles"));
        assert!(!is_heading_path("Rent > $500"));
    }

    #[test]
    fn a_caption_line_without_a_period_is_not_read_into_the_sentence_under_it() {
        let text = "SECTION 1. Pet policy\nTenant may keep one cat, subject to a pet deposit of \
                    five hundred dollars.\nARTICLE 2\nRENT\nRent is due on the first.";
        let mut h = hit(text, 0, 1);
        h.breadcrumb = vec!["SECTION 1. Pet policy".into(), "ARTICLE 2 RENT".into()];
        let segs = split_heading_lines(&h, segments(text, false));
        let pieces: Vec<&str> = segs.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(
            pieces,
            [
                "SECTION 1. Pet policy",
                "Tenant may keep one cat, subject to a pet deposit of five hundred dollars.",
                "ARTICLE 2\nRENT",
                "Rent is due on the first."
            ]
        );
        // A first paragraph that a plain-text document's title repeats stays sentences.
        let para = "Der Mieter kann kündigen. Die Frist beträgt drei Monate.";
        let mut first = hit(para, 0, 1);
        first.title = para.into();
        assert_eq!(split_heading_lines(&first, segments(para, false)).len(), 2);
        let hits = vec![h];
        let s = PinpointSettings::default();
        let chosen = Candidates::gather(&hits, "pet deposit", None, None, None, &s)
            .unwrap()
            .choose(&hits, &s)
            .remove(0)
            .unwrap();
        assert!(
            chosen.text.starts_with("Tenant may keep"),
            "{}",
            chosen.text
        );
    }

    #[test]
    fn an_e_mails_header_lines_give_way_to_its_body() {
        let text = "# Scheduling order\nFrom: Ann Lee <ann@firm.example>\nTo: dan@court.example\n\
                    Date: 2020-03-10T09:00:00-05:00\n\nThe hearing on the motion to compel is \
                    moved to April 2.";
        let mut h = hit(text, 0, 1);
        h.title = "Scheduling order".into();
        h.mail = Some(crate::ingest::types::MailInfo::default());
        let hits = vec![h];
        let s = PinpointSettings::default();
        // No word of the query is in the message: its first sentence, not its header.
        let chosen = Candidates::gather(&hits, "release of unknown claims", None, None, None, &s)
            .unwrap()
            .choose(&hits, &s)
            .remove(0)
            .unwrap();
        assert!(chosen.text.starts_with("The hearing"), "{}", chosen.text);
    }

    #[test]
    fn a_markdown_heading_line_is_a_heading_too() {
        // As a DOCX heading reaches the index: a `#` line, its label in the breadcrumb.
        let text = "### 2.5 Late Payments\n\nOverdue amounts bear interest at one and one-half \
                    percent per month from the due date until paid.";
        let mut h = hit(text, 0, 1);
        h.breadcrumb = vec!["Article 2 Fees".into(), "2.5 Late Payments".into()];
        let hits = vec![h];
        let s = PinpointSettings::default();
        let chosen = Candidates::gather(&hits, "late payments interest", None, None, None, &s)
            .unwrap()
            .choose(&hits, &s)
            .remove(0)
            .unwrap();
        assert!(
            chosen.text.starts_with("Overdue amounts"),
            "{}",
            chosen.text
        );
    }
}
