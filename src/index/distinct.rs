//! BM25 statistics that count a text held word for word by several chunks (the same
//! template in every matter folder) once: its copies do not make its words look common, so a
//! keyword search ranks the passages as it would without the copies.
//!
//! Each chunk's text is keyed in the keyword index's `text_hash` fast field; the copies are
//! found once per index version (a pass over that column), and only term statistics change:
//! every copy still matches and scores like its original.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use tantivy::columnar::Cardinality;
use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocSet, Searcher, TERMINATED, Term};

/// The fast field holding [`text_key`] of each chunk's text.
pub(super) const FIELD: &str = "text_hash";

/// The key of a chunk's text in [`FIELD`]: the first 8 bytes of its blake3 hash.
pub(super) fn text_key(text: &str) -> u64 {
    let hash = blake3::hash(text.as_bytes());
    let mut first = [0; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

/// Hashes a [`text_key`], which is already a hash, by taking it as it is (hashing a million
/// keys again would add tens of milliseconds to a search's start).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The live chunks of one index version whose text an earlier live chunk holds.
#[derive(Debug)]
pub(super) struct Copies {
    /// Per segment, by document number: whether it is such a copy.
    copy: Vec<Vec<bool>>,
    /// How many there are.
    count: u64,
    /// The chunk ids (the `chunk_id` fast field) of every live chunk of each text held more
    /// than once, by [`text_key`], in segment and document order.
    groups: HashMap<u64, Vec<u64>, BuildHasherDefault<KeyHasher>>,
    /// The tokens of the other chunks in each field asked about so far.
    tokens: Mutex<HashMap<Field, u64>>,
    /// The document frequency, each text counted once, of each term asked about so far (a
    /// search as you type asks for the same words again and again).
    doc_freqs: Mutex<HashMap<Term, u64>>,
}

impl Copies {
    /// The copies among `searcher`'s live chunks (the first of each text, in segment and
    /// document order, is the original), or `None` when every text is held once, or when
    /// the index predates [`FIELD`].
    pub(super) fn find(searcher: &Searcher) -> tantivy::Result<Option<Copies>> {
        // The chunk id of the first chunk of each text.
        let mut seen: HashMap<u64, u64, BuildHasherDefault<KeyHasher>> = HashMap::default();
        let mut groups: HashMap<u64, Vec<u64>, BuildHasherDefault<KeyHasher>> = HashMap::default();
        let mut copy = Vec::with_capacity(searcher.segment_readers().len());
        let mut count = 0;
        for segment in searcher.segment_readers() {
            let Ok(keys) = segment.fast_fields().u64(FIELD) else {
                return Ok(None);
            };
            let ids = segment.fast_fields().u64("chunk_id")?;
            let max_doc = segment.max_doc() as usize;
            let mut is_copy = vec![false; max_doc];
            // Every chunk has a key: read them all at once rather than one lookup each.
            let mut all = Vec::new();
            if keys.get_cardinality() == Cardinality::Full {
                all = vec![0; max_doc];
                keys.values.get_range(0, &mut all);
            }
            for doc in segment.doc_ids_alive() {
                let key = match all.get(doc as usize) {
                    Some(&key) => Some(key),
                    None => keys.first(doc),
                };
                let (Some(key), Some(id)) = (key, ids.first(doc)) else {
                    continue;
                };
                match seen.entry(key) {
                    Entry::Vacant(e) => {
                        e.insert(id);
                    }
                    Entry::Occupied(first) => {
                        is_copy[doc as usize] = true;
                        count += 1;
                        groups
                            .entry(key)
                            .or_insert_with(|| vec![*first.get()])
                            .push(id);
                    }
                }
            }
            copy.push(is_copy);
        }
        Ok((count > 0).then(|| Copies {
            copy,
            count,
            groups,
            tokens: Mutex::default(),
            doc_freqs: Mutex::default(),
        }))
    }

    /// The chunk ids of every live chunk holding the text whose [`text_key`] is `key`, when
    /// more than one does (empty when one does, or none).
    pub(super) fn holding(&self, key: u64) -> &[u64] {
        self.groups.get(&key).map_or(&[], Vec::as_slice)
    }

    /// The tokens in `field` of the chunks that are not copies. Field norms give each
    /// chunk's length only roughly (rounded down, past about 40 tokens), so the copies'
    /// share of them scales tantivy's exact total instead of being subtracted from it.
    fn tokens_without(&self, searcher: &Searcher, field: Field) -> tantivy::Result<u64> {
        let mut known = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&n) = known.get(&field) {
            return Ok(n);
        }
        let all = Bm25StatisticsProvider::total_num_tokens(searcher, field)?;
        let (mut copies, mut every) = (0u64, 0u64);
        for (segment, is_copy) in searcher.segment_readers().iter().zip(&self.copy) {
            let Some(norms) = segment.fieldnorms_readers().get_field(field)? else {
                continue;
            };
            for doc in 0..segment.max_doc() {
                let norm = u64::from(norms.fieldnorm(doc));
                every += norm;
                if is_copy[doc as usize] {
                    copies += norm;
                }
            }
        }
        let n = if every == 0 {
            all
        } else {
            (all as f64 * (every - copies) as f64 / every as f64).round() as u64
        };
        known.insert(field, n);
        Ok(n)
    }
}

/// `searcher`'s BM25 statistics with each text counted once (tantivy's own when no text is
/// held twice).
pub(super) struct DistinctTexts<'a> {
    searcher: &'a Searcher,
    copies: Option<&'a Copies>,
}

impl<'a> DistinctTexts<'a> {
    /// The statistics of `searcher` without `copies`.
    pub(super) fn of(searcher: &'a Searcher, copies: Option<&'a Copies>) -> Self {
        DistinctTexts { searcher, copies }
    }

    /// The number of live chunks, each text counted once.
    pub(super) fn live_texts(&self) -> u64 {
        self.searcher.num_docs() - self.copies.map_or(0, |c| c.count)
    }
}

impl Bm25StatisticsProvider for DistinctTexts<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        match self.copies {
            Some(copies) => copies.tokens_without(self.searcher, field),
            None => Bm25StatisticsProvider::total_num_tokens(self.searcher, field),
        }
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        let all = Bm25StatisticsProvider::total_num_docs(self.searcher)?;
        Ok(all.saturating_sub(self.copies.map_or(0, |c| c.count)))
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let Some(copies) = self.copies else {
            return self.searcher.doc_freq(term);
        };
        let lock = || copies.doc_freqs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&n) = lock().get(term) {
            return Ok(n);
        }
        let mut n = 0;
        for (segment, is_copy) in self.searcher.segment_readers().iter().zip(&copies.copy) {
            let inverted = segment.inverted_index(term.field())?;
            let Some(info) = inverted.get_term_info(term)? else {
                continue;
            };
            n += u64::from(info.doc_freq);
            let mut postings =
                inverted.read_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if is_copy.get(doc as usize).copied().unwrap_or(false) {
                    n -= 1;
                }
                doc = postings.advance();
            }
        }
        lock().insert(term.clone(), n);
        Ok(n)
    }
}
