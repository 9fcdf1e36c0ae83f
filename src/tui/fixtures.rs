//! Hand-built hits for the TUI's unit tests (test builds only). It depends on no other TUI
//! module, so every module's tests can use it without an import cycle.

use std::path::PathBuf;

use crate::search::Hit;
use crate::search::fusion::ArmScore;
use crate::search::snippet::Snippet;

/// A hand-built hit in `file`, with `text` as its chunk.
pub(super) fn hit(rank: usize, file: &str, text: &str) -> Hit {
    Hit {
        rank,
        score: 1.0 / (60.0 + rank as f32),
        chunk_id: rank as u64,
        path: PathBuf::from("/docs").join(file),
        file: file.to_string(),
        title: file.to_string(),
        breadcrumb: vec![],
        line: 1,
        page: None,
        page_end: None,
        paragraph: None,
        page_breaks: Vec::new(),
        start_byte: 0,
        end_byte: text.len(),
        text: text.to_string(),
        mail: None,
        snippet: Snippet {
            text: text.to_string(),
            highlights: vec![],
            pinpoint: None,
        },
        matched_terms: Vec::new(),
        keyword: Some(ArmScore { rank, score: 3.0 }),
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
