//! Reading indexed documents back: passages and outlines of the files of one version of an
//! index, for `lexsearch show` and the MCP server's `get_passage` and `get_document_outline`.
//!
//! Passages and outlines refer to a file's *extracted* text (the text that was chunked), so
//! their byte ranges are those of search hits' `start_byte`/`end_byte`: for UTF-8 text and
//! Markdown files they are the file's own bytes, for HTML, PDF and DOCX offsets into the text
//! extracted from them. A file is read only when the index lists it and its real path (links
//! resolved) lies inside the indexed folder; it is re-extracted with the indexer's extractor
//! and checked against its indexed chunks, so a file changed since indexing is reported rather
//! than misquoted.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

use super::citation::CrossReference;
use super::{Hit, Mode, SearchRequest, Searcher, citation};
use crate::ids::DocId;
use crate::index::keyword::{Place, StoredChunk};
use crate::ingest::chunk::{OutlineEntry, outline};
use crate::ingest::extract::{ExtractLimits, Extracted, extract_file_each, extract_with};
use crate::ingest::ocr::OcrMode;
use crate::ingest::walk::{FileKind, SourceFile};

/// Longest passage returned, in bytes (about 4,000 tokens); longer ranges are cut there.
pub const MAX_PASSAGE_BYTES: usize = 16_000;
/// Length of a passage given only its start byte.
pub const DEFAULT_PASSAGE_BYTES: usize = 4_000;
/// Length of a passage given only its start line.
pub const DEFAULT_PASSAGE_LINES: u64 = 40;
/// Most headings one outline lists.
pub const MAX_OUTLINE_HEADINGS: usize = 1_000;
/// Extracted documents kept in memory (the least recently used dropped first), so reading
/// around a hit does not re-extract a PDF: at most this many, ...
const EXTRACTED_CACHE: usize = 32;
/// ... and at most this many bytes of text together (the latest always kept).
const EXTRACTED_CACHE_BYTES: usize = 64 << 20;

/// Why a passage or an outline cannot be read: each says what to give or do instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// A path naming something outside the indexed folder.
    #[error(
        "{file:?} is outside the indexed folder {}; name a file as search hits name it, \
         relative to that folder",
        .root.display()
    )]
    OutsideRoot {
        /// The path as given.
        file: String,
        /// The indexed folder.
        root: PathBuf,
    },
    /// A path the index does not list.
    #[error(
        "{file:?} is not in the index; {}",
        match .like.as_slice() {
            [] => "give a file as search hits name it, relative to the indexed folder".to_string(),
            [one] => format!(
                "did you mean {one}? (files are named as search hits name them, relative to \
                 the indexed folder)"
            ),
            many => format!(
                "indexed files so named: {} (files are named as search hits name them, \
                 relative to the indexed folder)",
                many.join(", ")
            ),
        }
    )]
    NotIndexed {
        /// The path as given.
        file: String,
        /// Indexed files whose paths hold the words of its name (a few at most).
        like: Vec<String>,
    },
    /// A heading the document does not have.
    #[error(
        "{file} has no heading numbered or named {label:?}; its outline lists its headings \
         (`lexsearch show --outline {file}`, or the MCP tool get_document_outline)"
    )]
    NoHeading {
        /// The file, relative to the indexed folder.
        file: String,
        /// The heading asked for.
        label: String,
    },
    /// A statute's paragraph, named by its labels (`(c-1)(2)`), that the document lacks.
    #[error(
        "{file} has no paragraph labelled {label}: no line of it starts with those labels in \
         turn, each inside the one before; `lexsearch show {file}` prints its text, and \
         `lexsearch show --outline {file}` its headings"
    )]
    NoParagraph {
        /// The file, relative to the indexed folder.
        file: String,
        /// The labels asked for.
        label: String,
    },
    /// A cross-reference that names no part of its document nor a section of the index.
    #[error(
        "{cited} names no heading of {file} nor an indexed section of its own: \
         `lexsearch show --outline {file}` lists the headings, and `lexsearch search \
         \"{cited}\"` looks for it in every document"
    )]
    Unresolved {
        /// The file whose passage refers to it, relative to the indexed folder.
        file: String,
        /// The reference as the passage writes it.
        cited: String,
    },
    /// An indexed path whose real location is outside the indexed folder.
    #[error(
        "{file} resolves to {}, outside the indexed folder {} (a symbolic link out of it); \
         nothing outside that folder is read unless the index was built with --follow-links",
        .target.display(), .root.display()
    )]
    Escapes {
        /// The file, relative to the indexed folder.
        file: String,
        /// Where its links lead.
        target: PathBuf,
        /// The indexed folder.
        root: PathBuf,
    },
    /// A byte or line range that does not fit the document.
    #[error("{0}")]
    BadRange(String),
    /// The file is not what was indexed any more.
    #[error(
        "{file} changed since it was indexed, so ranges from the index no longer point into \
         it; run `lexsearch index {}` to update the index",
        .root.display()
    )]
    Changed {
        /// The file, relative to the indexed folder.
        file: String,
        /// The indexed folder.
        root: PathBuf,
    },
    /// The file could not be read or extracted.
    #[error("cannot read {file}: {reason}")]
    Unreadable {
        /// The file, relative to the indexed folder.
        file: String,
        /// Why.
        reason: String,
    },
    /// A page the document does not have.
    #[error("{file} has {pages} pages, so no page {page}{}", if *.pages == 0 { " (it is not a PDF: give lines)" } else { "" })]
    NoPage {
        /// The file, relative to the indexed folder.
        file: String,
        /// The page asked for.
        page: u32,
        /// Its number of pages (0 for a document without pages).
        pages: usize,
    },
    /// The index failed.
    #[error(transparent)]
    Index(#[from] crate::Error),
}

type Result<T> = std::result::Result<T, DocumentError>;

/// A passage asked for: a file and a byte range or a line range (`get_passage`'s
/// arguments).
#[derive(Debug, Clone, Default)]
pub struct PassageRequest {
    /// The file, relative to the indexed folder (or absolute inside it).
    pub file: String,
    /// First byte of the extracted text.
    pub start_byte: Option<u64>,
    /// End byte (exclusive); default `start_byte` + [`DEFAULT_PASSAGE_BYTES`].
    pub end_byte: Option<u64>,
    /// First line, 1-based.
    pub start_line: Option<u64>,
    /// Last line, inclusive; default `start_line` + [`DEFAULT_PASSAGE_LINES`] - 1.
    pub end_line: Option<u64>,
    /// With `start_line` or `start_byte` alone: the whole section holding it instead (as
    /// [`Documents::section`] gives it, cut at [`MAX_PASSAGE_BYTES`]).
    pub section: bool,
    /// Instead of a range: the section under the first heading numbered or named so
    /// ([`Documents::heading_section`], cut at [`MAX_PASSAGE_BYTES`]).
    pub heading: Option<String>,
}

/// A passage of a document, with where it is.
#[derive(Debug, Clone, Serialize)]
pub struct Passage {
    /// The file, relative to the indexed folder (as in hits).
    pub file: String,
    /// Its absolute path.
    pub path: PathBuf,
    /// The document's title.
    pub title: String,
    /// Byte offset of the passage in the extracted text.
    pub start_byte: usize,
    /// End byte offset (exclusive).
    pub end_byte: usize,
    /// 1-based line of the first byte.
    pub line: u32,
    /// 1-based line of the last byte.
    pub end_line: u32,
    /// 1-based page of the first byte (PDF), else null.
    pub page: Option<u32>,
    /// Page of the last byte when later than `page`, else null.
    pub page_end: Option<u32>,
    /// 1-based paragraph of the first byte (DOCX), else null.
    pub paragraph: Option<u32>,
    /// Headings above the passage, outermost first (those of the indexed chunk it starts in).
    pub breadcrumb: Vec<String>,
    /// The text.
    pub text: String,
    /// Whether the range asked for was longer than [`MAX_PASSAGE_BYTES`] and was cut.
    pub truncated: bool,
    /// Length of the whole extracted text, in bytes.
    pub document_bytes: usize,
    /// Number of lines of the whole extracted text.
    pub document_lines: usize,
}

/// One heading of an outline, with its page.
#[derive(Debug, Clone, Serialize)]
pub struct Heading {
    /// Level, heading, line and section range.
    #[serde(flatten)]
    pub entry: OutlineEntry,
    /// 1-based page of the heading (PDF), else null.
    pub page: Option<u32>,
}

/// The headings of a document.
#[derive(Debug, Clone, Serialize)]
pub struct Outline {
    /// The file, relative to the indexed folder.
    pub file: String,
    /// Its absolute path.
    pub path: PathBuf,
    /// The document's title.
    pub title: String,
    /// Length of the extracted text, in bytes.
    pub document_bytes: usize,
    /// Number of lines of the extracted text.
    pub document_lines: usize,
    /// Number of pages (PDF), else 0.
    pub pages: usize,
    /// Number of indexed chunks.
    pub chunks: usize,
    /// Headings in text order.
    pub headings: Vec<Heading>,
    /// Whether the list was cut at [`MAX_OUTLINE_HEADINGS`].
    pub truncated: bool,
}

/// A term a document defines ([`crate::index::define::defined_terms`]).
#[derive(Debug, Clone, Serialize)]
pub struct DefinedTerm {
    /// The term, as written.
    pub term: String,
    /// 1-based line of its definition.
    pub line: u32,
    /// 1-based page of it (PDF), else null.
    pub page: Option<u32>,
    /// Byte range of the sentence that defines it, in the extracted text.
    pub start_byte: usize,
    /// End of that range.
    pub end_byte: usize,
    /// That sentence (cut at 300 bytes).
    pub text: String,
}

/// The terms a document defines: its glossary.
#[derive(Debug, Clone, Serialize)]
pub struct DefinedTerms {
    /// The file, relative to the indexed folder.
    pub file: String,
    /// Its absolute path.
    pub path: PathBuf,
    /// The document's title.
    pub title: String,
    /// Each term once, at its first definition, in text order.
    pub terms: Vec<DefinedTerm>,
}

/// An indexed file: its document id and title.
#[derive(Debug, Clone)]
pub struct IndexedFile {
    /// Its document.
    pub doc: DocId,
    /// Its title.
    pub title: String,
}

/// The documents of one version of an index, read back from the indexed files: passages
/// and outlines. Cheap to share; it keeps the last few extracted files, so that reading
/// around a hit does not extract a PDF again.
pub struct Documents {
    searcher: Searcher,
    /// Relative path -> document, read from the keyword index on first use.
    files: Mutex<Option<Arc<BTreeMap<String, IndexedFile>>>>,
    /// The last files extracted, by relative path.
    extracted: Mutex<VecDeque<(String, bool, Arc<Extracted>)>>,
}

impl Documents {
    /// The documents of the index `searcher` opened.
    pub fn new(searcher: Searcher) -> Self {
        Documents {
            searcher,
            files: Mutex::new(None),
            extracted: Mutex::new(VecDeque::new()),
        }
    }

    /// The searcher of this version of the index.
    pub fn searcher(&self) -> &Searcher {
        &self.searcher
    }

    /// The version (generation) of the index these documents are of.
    pub fn generation(&self) -> u64 {
        self.searcher.manifest().generation
    }

    /// The indexed folder, which files are named from.
    pub fn root(&self) -> &Path {
        &self.searcher.manifest().root
    }

    /// Every indexed file, by its path relative to the indexed folder.
    pub fn files(&self) -> Result<Arc<BTreeMap<String, IndexedFile>>> {
        let mut cached = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(files) = cached.as_ref() {
            return Ok(files.clone());
        }
        let files: BTreeMap<String, IndexedFile> = self
            .searcher
            .keyword_index()?
            .documents()?
            .into_iter()
            .map(|c| {
                (
                    c.path,
                    IndexedFile {
                        doc: c.doc_id,
                        title: c.title,
                    },
                )
            })
            .collect();
        let files = Arc::new(files);
        *cached = Some(files.clone());
        Ok(files)
    }

    /// A passage of an indexed file.
    pub fn passage(&self, call: &PassageRequest) -> Result<Passage> {
        if let Some(label) = &call.heading {
            let ranged = [
                call.start_byte,
                call.end_byte,
                call.start_line,
                call.end_line,
            ];
            if ranged.iter().any(Option::is_some) || call.section {
                return Err(DocumentError::BadRange(
                    "heading names a section whole: give no range or section with it".into(),
                ));
            }
            return self.heading_passage(&call.file, label, Some(MAX_PASSAGE_BYTES));
        }
        let doc = self.open(&call.file)?;
        let text = doc.extracted.text.as_str();
        let starts = line_starts(text);
        let mut range = passage_range(call, text, &starts, &doc.rel)?;
        if call.section {
            if call.end_byte.is_some() || call.end_line.is_some() {
                return Err(DocumentError::BadRange(
                    "section reads the whole section holding start_line or start_byte: give \
                     no end_line or end_byte with it"
                        .into(),
                ));
            }
            range = section_at(text, &starts, line_of(&starts, range.start) as usize - 1);
        }
        Ok(doc.passage(range, Some(MAX_PASSAGE_BYTES)))
    }

    /// The section of an indexed file that holds `line` (1-based), whole: from its heading
    /// to the next heading of the same or an outer level, the innermost such section (a
    /// clause, not its article). A line no heading holds (a document without headings, or
    /// before the first) gives [`DEFAULT_PASSAGE_LINES`] lines from it.
    pub fn section(&self, file: &str, line: u32) -> Result<Passage> {
        let doc = self.open(file)?;
        let text = doc.extracted.text.as_str();
        let starts = line_starts(text);
        let Some(index) = (line as usize).checked_sub(1).filter(|&i| i < starts.len()) else {
            return Err(DocumentError::BadRange(format!(
                "line {line} is not in {}: its extracted text has {} lines, numbered from 1",
                doc.rel,
                starts.len()
            )));
        };
        let range = section_at(text, &starts, index);
        Ok(doc.passage(range, None))
    }

    /// The section of an indexed Word document that holds its numbered paragraph
    /// `paragraph` (1-based, as hits give it: `¶ 7`), as [`section`](Self::section) gives it.
    pub fn paragraph_section(&self, file: &str, paragraph: u32) -> Result<Passage> {
        let doc = self.open(file)?;
        let paragraphs = &doc.extracted.paragraphs;
        let Some(start) = (paragraph as usize)
            .checked_sub(1)
            .and_then(|i| paragraphs.get(i))
            .map(|r| r.start)
        else {
            return Err(DocumentError::BadRange(format!(
                "{} has {} numbered paragraphs, so no ¶ {paragraph}{}",
                doc.rel,
                paragraphs.len(),
                if paragraphs.is_empty() {
                    " (Word documents number their paragraphs: give a line, FILE:LINE)"
                } else {
                    ""
                }
            )));
        };
        let text = doc.extracted.text.as_str();
        let starts = line_starts(text);
        let index = line_of(&starts, start) as usize - 1;
        let range = section_at(text, &starts, index);
        Ok(doc.passage(range, None))
    }

    /// The section of an indexed file under its first heading that `label` names: by its
    /// number (`7.1`, `7`, `IV`, `§ 12-401`) or by the start of the heading (`Section 7.1`,
    /// `Article 7`, `Exhibit B`), whole as [`section`](Self::section) gives it; else a
    /// statute's paragraph by its labels (`(c-1)(2)`).
    pub fn heading_section(&self, file: &str, label: &str) -> Result<Passage> {
        self.heading_passage(file, label, None)
    }

    /// [`heading_section`](Self::heading_section), cut at `most` bytes when given.
    fn heading_passage(&self, file: &str, label: &str, most: Option<usize>) -> Result<Passage> {
        let doc = self.open(file)?;
        let text = doc.extracted.text.as_str();
        let heading = outline(text)
            .into_iter()
            .find(|e| heading_names(&e.heading, label))
            .map(|e| e.start_byte..e.end_byte);
        let labels = citation::labels_of(label);
        let found = heading.or_else(|| citation::labelled_paragraph(text, labels.as_deref()?));
        let Some(range) = found else {
            // A citation with a paragraph (`Section 9.3(b)`), or of a code's section in a
            // file of its own (`§ 42-3401.03(17)`), is read as a reference.
            if let Some(reference) = citation::reference_in(label)
                && let Ok(passage) = self.referred_passage(&doc.rel, &reference, most)
            {
                return Ok(passage);
            }
            let (file, label) = (doc.rel, label.trim().to_string());
            return Err(match labels {
                Some(_) => DocumentError::NoParagraph { file, label },
                None => DocumentError::NoHeading { file, label },
            });
        };
        let range = trim_end(text, range);
        Ok(doc.passage(range, most))
    }

    /// What `reference`, a cross-reference in a passage of `file`, names: in `file` itself,
    /// the section under its first heading so numbered or named, narrowed to the paragraph
    /// the reference labels (`Section 9.3(b)`) when a line starts with those labels; else, for
    /// a section, the indexed document that is that section (a code's section in a file of
    /// its own, whose title names the number: `§ 42-3401.03(17)` read in another section of
    /// the D.C. Code), found by a keyword search for the citation, and the paragraph in it.
    pub fn referred(&self, file: &str, reference: &CrossReference) -> Result<Passage> {
        self.referred_passage(file, reference, None)
    }

    /// [`referred`](Self::referred), cut at `most` bytes when given.
    fn referred_passage(
        &self,
        file: &str,
        reference: &CrossReference,
        most: Option<usize>,
    ) -> Result<Passage> {
        let headings = reference.headings();
        let labels: Vec<&str> = reference.paragraph.iter().map(String::as_str).collect();
        let doc = self.open(file)?;
        if let Some(range) = section_of(&doc.extracted.text, &headings, &labels) {
            let range = trim_end(&doc.extracted.text, range);
            return Ok(doc.passage(range, most));
        }
        let unresolved = || DocumentError::Unresolved {
            file: doc.rel.clone(),
            cited: reference.cited.clone(),
        };
        if reference.kind != "Section" {
            return Err(unresolved());
        }
        let Some(other) = self.section_file(&doc.rel, &reference.number)? else {
            return Err(unresolved());
        };
        let doc = self.open(&other)?;
        let text = doc.extracted.text.as_str();
        // The file is the section: its heading's, else all of it.
        let range = section_of(text, &headings, &labels)
            .unwrap_or_else(|| within_paragraph(text, 0..text.len(), &labels));
        let range = trim_end(text, range);
        Ok(doc.passage(range, most))
    }

    /// The indexed file, other than `file`, that is section `number` of a code: the first hit
    /// of a keyword search for `§ number` whose title names the number (`D.C. Code §
    /// 42-3401.03. Definitions.`). Not one whose headings alone name it: another contract's
    /// Section 7.9 is not the one a contract refers to.
    fn section_file(&self, file: &str, number: &str) -> Result<Option<String>> {
        let request = SearchRequest {
            mode: Mode::Keyword,
            ..SearchRequest::new(format!("§ {number}"), 20)
        };
        let found = self.searcher.search(&request, None)?;
        Ok((found.hits.into_iter())
            .find(|h| h.file != file && citation::names_number(&h.title, number))
            .map(|h| h.file))
    }

    /// Gives each of `hits` its [`Hit::context`]: the lines of its document around what it
    /// cites (its pinpoint, else its whole passage), `before` lines before and `after` lines
    /// after, as `grep -C` shows a match. When the document cannot be read as it was indexed
    /// (changed since, unreadable, or a remote index's file not here), the lines come from
    /// the hit's passage alone, as the index holds it, and say so
    /// ([`HitContext::passage_only`]).
    pub fn add_context(&self, hits: &mut [Hit], (before, after): (u32, u32)) {
        for hit in hits {
            hit.context = Some(self.context(hit, before, after));
        }
    }

    /// [`add_context`](Self::add_context) for one hit.
    fn context(&self, hit: &Hit, before: u32, after: u32) -> HitContext {
        // A pinpoint is marked in its lines; a whole passage is not.
        let focus = hit
            .pinpoint
            .as_ref()
            .map_or((hit.start_byte..hit.end_byte, false), |p| {
                (p.start_byte..p.end_byte, true)
            });
        match self.open(&hit.file) {
            Ok(doc) => lines_around(&doc.extracted.text, (0, 1), focus, (before, after), None),
            Err(e) => {
                let at = (hit.start_byte, hit.line);
                lines_around(&hit.text, at, focus, (before, after), Some(e.to_string()))
            }
        }
    }

    /// The extracted text of an indexed file, as the index read it (checked against its
    /// chunks, so that hits' byte ranges point into it), shared with the reader's cache.
    pub fn indexed_text(&self, file: &str) -> Result<Arc<Extracted>> {
        Ok(self.open(file)?.extracted)
    }

    /// The whole extracted text of an indexed file.
    pub fn text(&self, file: &str) -> Result<Passage> {
        let doc = self.open(file)?;
        let len = doc.extracted.text.len();
        Ok(doc.passage(0..len, None))
    }

    /// Page `page` (1-based) of an indexed PDF, whole.
    pub fn page(&self, file: &str, page: u32) -> Result<Passage> {
        let doc = self.open(file)?;
        let pages = &doc.extracted.pages;
        let Some(range) = (page as usize)
            .checked_sub(1)
            .and_then(|i| pages.get(i))
            .cloned()
        else {
            let pages = pages.len();
            return Err(DocumentError::NoPage {
                file: doc.rel,
                page,
                pages,
            });
        };
        Ok(doc.passage(range, Some(MAX_PASSAGE_BYTES)))
    }

    /// The headings of an indexed file.
    pub fn outline(&self, file: &str) -> Result<Outline> {
        let doc = self.open(file)?;
        let text = doc.extracted.text.as_str();
        let mut entries = outline(text);
        let truncated = entries.len() > MAX_OUTLINE_HEADINGS;
        entries.truncate(MAX_OUTLINE_HEADINGS);
        let headings = entries
            .into_iter()
            .map(|entry| {
                let at = entry.start_byte..entry.start_byte + 1;
                Heading {
                    page: Place::locate(&at, &doc.extracted.pages, &[]).page,
                    entry,
                }
            })
            .collect();
        Ok(Outline {
            document_bytes: text.len(),
            document_lines: line_starts(text).len(),
            pages: doc.extracted.pages.len(),
            chunks: doc.chunks.len(),
            headings,
            truncated,
            file: doc.rel,
            path: doc.path,
            title: doc.title,
        })
    }

    /// The terms an indexed file defines (`"Affiliate" means`, `(the "Services")`), each at
    /// the sentence of its first definition.
    pub fn defined_terms(&self, file: &str) -> Result<DefinedTerms> {
        const MOST_BYTES: usize = 300;
        let doc = self.open(file)?;
        let text = doc.extracted.text.as_str();
        let starts = line_starts(text);
        let sentences = crate::ingest::segment::segments(text, false);
        let terms = crate::index::define::defined_terms(text)
            .into_iter()
            .map(|(term, at)| {
                // The sentence holding the definition's start, else the definition itself.
                let first = sentences.partition_point(|s| s.end <= at.start);
                let sentence = sentences
                    .get(first)
                    .filter(|s| s.start <= at.start)
                    .cloned()
                    .unwrap_or(at);
                let end = text.floor_char_boundary(sentence.end.min(sentence.start + MOST_BYTES));
                let place = sentence.start..sentence.start + 1;
                DefinedTerm {
                    term,
                    line: line_of(&starts, sentence.start),
                    page: Place::locate(&place, &doc.extracted.pages, &[]).page,
                    start_byte: sentence.start,
                    end_byte: sentence.end,
                    text: text[sentence.start..end].to_string(),
                }
            })
            .collect();
        Ok(DefinedTerms {
            file: doc.rel,
            path: doc.path,
            title: doc.title,
            terms,
        })
    }

    /// Resolves `file` to an indexed file inside the indexed folder, then extracts it.
    fn open(&self, file: &str) -> Result<Opened> {
        let root = self.root();
        let rel = relative_path(file, root)?;
        let files = self.files()?;
        let indexed = files.get(&rel).ok_or_else(|| DocumentError::NotIndexed {
            file: file.to_string(),
            like: named_like(&rel, files.keys()),
        })?;
        let unreadable = |e: std::io::Error| DocumentError::Unreadable {
            file: rel.clone(),
            reason: e.to_string(),
        };
        let real_root = root.canonicalize().map_err(unreadable)?;
        // An attachment (`mail.eml#a.pdf`) is read from the e-mail that holds it.
        let on_disk = crate::ingest::containers_of(Path::new(&rel))
            .next()
            .map_or_else(|| rel.clone(), |p| p.to_string_lossy().into_owned());
        let target = root.join(&on_disk).canonicalize().map_err(unreadable)?;
        // A link out of the folder is read only when the index was built following such
        // links (`--follow-links`): its text is in the index then, by the user's choice.
        let links_out = self.searcher.manifest().follow_links == Some(true);
        if !target.starts_with(&real_root) && !links_out {
            return Err(DocumentError::Escapes {
                file: rel,
                target,
                root: root.to_path_buf(),
            });
        }
        let chunks = self.searcher.keyword_index()?.chunks_of(indexed.doc)?;
        // The index's ranges point into the text as it was indexed.
        let as_indexed = |e: &Extracted| {
            chunks
                .iter()
                .all(|c| e.text.get(c.range.clone()) == Some(c.text.as_str()))
        };
        let pdf = FileKind::from_path(Path::new(&rel)) == Some(FileKind::Pdf);
        let extracted = match self.extracted(&rel, &on_disk, &target, false) {
            Ok(e) if as_indexed(&e) || !pdf => e,
            Err(e) if !pdf => return Err(e),
            // Scanned pages the index run read by OCR: read so again (from the OCR cache
            // when the pages are there).
            _ => self.extracted(&rel, &on_disk, &target, true)?,
        };
        if !as_indexed(&extracted) {
            return Err(DocumentError::Changed {
                file: rel,
                root: root.to_path_buf(),
            });
        }
        Ok(Opened {
            path: root.join(&rel),
            title: indexed.title.clone(),
            rel,
            extracted,
            chunks,
        })
    }

    /// The extracted text of the document `rel`, from the cache or the indexer's extractor
    /// run on `target`, the file `on_disk` (`rel` itself, or the e-mail that holds it); with
    /// `ocr`, PDF pages without text are read by OCR in the index's languages.
    fn extracted(
        &self,
        rel: &str,
        on_disk: &str,
        target: &Path,
        ocr: bool,
    ) -> Result<Arc<Extracted>> {
        let mut cache = self
            .extracted
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // The least recently used go first: a hit read again moves to the back.
        if let Some(at) = cache.iter().position(|(r, o, _)| r == rel && *o == ocr)
            && let Some(entry) = cache.remove(at)
        {
            let extracted = entry.2.clone();
            cache.push_back(entry);
            return Ok(extracted);
        }
        drop(cache);
        let unreadable = |reason: String| DocumentError::Unreadable {
            file: rel.to_string(),
            reason,
        };
        let source = SourceFile::reopened(target, Path::new(on_disk)).map_err(unreadable)?;
        let mut limits = ExtractLimits::for_indexed(source.size);
        if ocr {
            let lang = self.searcher.manifest().ocr_lang.as_deref();
            let lang = lang.unwrap_or(crate::ingest::ocr::DEFAULT_LANG);
            // The index's cache of the pages its run read (a remote index has none here).
            let cache = (self.searcher.remote().is_none())
                .then(|| crate::library::Library::at(self.searcher.dir()).ocr_cache());
            limits.ocr =
                crate::ingest::ocr::OcrOptions::detect(OcrMode::Auto, lang, cache.as_deref());
        }
        let extracted = if on_disk == rel {
            extract_with(&source, &limits).map_err(|e| unreadable(e.to_string()))?
        } else {
            // Read up to the document wanted (an Outlook data file's messages come one at
            // a time).
            let mut found = None;
            extract_file_each(&source, &limits, &mut |d| {
                if d.file.rel == Path::new(rel) {
                    found = Some(d.result);
                }
                found.is_none()
            });
            found
                .ok_or_else(|| unreadable(format!("{on_disk} no longer holds it")))?
                .map_err(|e| unreadable(e.to_string()))?
        };
        let extracted = Arc::new(extracted);
        let mut cache = self
            .extracted
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        cache.push_back((rel.to_string(), ocr, extracted.clone()));
        let bytes = |c: &VecDeque<(String, bool, Arc<Extracted>)>| {
            c.iter().map(|(_, _, e)| e.text.len()).sum::<usize>()
        };
        while cache.len() > 1
            && (cache.len() > EXTRACTED_CACHE || bytes(&cache) > EXTRACTED_CACHE_BYTES)
        {
            cache.pop_front();
        }
        Ok(extracted)
    }
}

/// The lines of a document around a hit ([`Documents::add_context`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HitContext {
    /// 1-based number of the first line given.
    pub line: u32,
    /// The lines, without their line breaks; a line longer than [`MAX_CONTEXT_LINE_CHARS`]
    /// characters is cut (`…` where it was), keeping what is nearest the hit.
    pub lines: Vec<String>,
    /// 1-based first line of what the hit cites (its pinpoint, else its passage).
    pub match_line: u32,
    /// 1-based last line of what the hit cites.
    pub match_end_line: u32,
    /// Whether the lines are the hit's passage alone, as the index holds it, because its
    /// document could not be read as indexed (changed since, unreadable, or a remote index's
    /// file that is not here): no lines before or after the passage then.
    pub passage_only: bool,
    /// Why the document could not be read, when [`passage_only`](Self::passage_only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// The byte range of each of [`lines`](Self::lines) that shows the hit's pinpoint, for
    /// marking it; not in the JSON (the hit's `pinpoint` gives its bytes).
    #[serde(skip)]
    pub focus: Vec<Option<Range<usize>>>,
}

/// Longest context line shown whole, in characters.
pub const MAX_CONTEXT_LINE_CHARS: usize = 2_000;

/// The lines of `text` (which begins at byte `offset` of the extracted text, on its line
/// `number`) around the byte range `focus` of the extracted text: from `before` lines before
/// its first line to `after` lines after its last; with `mark`, the focus is marked in them
/// ([`HitContext::focus`]).
fn lines_around(
    text: &str,
    (offset, number): (usize, u32),
    (focus, mark): (Range<usize>, bool),
    (before, after): (u32, u32),
    unread: Option<String>,
) -> HitContext {
    let starts = line_starts(text);
    // Lines as (start, end) byte ranges of `text`, without their line breaks.
    let line_range = |i: usize| {
        let start = starts[i];
        let end = starts.get(i + 1).map_or(text.len(), |&next| next - 1);
        let end = if text[start..end].ends_with('\r') {
            end - 1
        } else {
            end
        };
        start..end
    };
    let local = |at: usize| at.saturating_sub(offset).min(text.len());
    let first = line_of(&starts, local(focus.start)) as usize - 1;
    let last = line_of(&starts, local(focus.end.saturating_sub(1).max(focus.start))) as usize - 1;
    let from = first.saturating_sub(before as usize);
    let to = (last + after as usize).min(starts.len() - 1);
    let mut lines = Vec::with_capacity(to + 1 - from);
    let mut marks = Vec::with_capacity(to + 1 - from);
    let (focus_start, focus_end) = (local(focus.start), local(focus.end));
    for i in from..=to {
        let range = line_range(i);
        // Keep the part nearest the hit: a line before it its end, one after it its start,
        // one it holds the part from a little before the focus.
        let keep = if i < first {
            Keep::End
        } else if i > last {
            Keep::Start
        } else {
            Keep::From(focus_start.clamp(range.start, range.end))
        };
        let (kept, lead, shown) = cut_line(text, range, keep);
        // The focus's part of the kept bytes, in the shown line (after a leading `…`).
        let (a, b) = (focus_start.max(kept.start), focus_end.min(kept.end));
        marks.push((mark && a < b).then(|| a - kept.start + lead..b - kept.start + lead));
        lines.push(shown);
    }
    let number = |i: usize| number + i as u32;
    HitContext {
        line: number(from),
        lines,
        match_line: number(first),
        match_end_line: number(last),
        passage_only: unread.is_some(),
        why: unread,
        focus: marks,
    }
}

/// Which part of a long line [`cut_line`] keeps.
enum Keep {
    Start,
    End,
    /// From shortly before this byte.
    From(usize),
}

/// The line at `range` of `text`, cut to [`MAX_CONTEXT_LINE_CHARS`] characters when longer,
/// with `…` where it was cut; with the bytes of `text` kept and where they begin in the line
/// shown (after a leading `…`).
fn cut_line(text: &str, range: Range<usize>, keep: Keep) -> (Range<usize>, usize, String) {
    let line = &text[range.clone()];
    let chars = line.chars().count();
    if chars <= MAX_CONTEXT_LINE_CHARS {
        return (range, 0, line.to_string());
    }
    let byte_at = |n: usize| line.char_indices().nth(n).map_or(line.len(), |(i, _)| i);
    let (start, end) = match keep {
        Keep::Start => (0, byte_at(MAX_CONTEXT_LINE_CHARS)),
        Keep::End => (byte_at(chars - MAX_CONTEXT_LINE_CHARS), line.len()),
        Keep::From(at) => {
            let at = line[..at - range.start].chars().count();
            let first = at
                .saturating_sub(MAX_CONTEXT_LINE_CHARS / 8)
                .min(chars - MAX_CONTEXT_LINE_CHARS);
            (byte_at(first), byte_at(first + MAX_CONTEXT_LINE_CHARS))
        }
    };
    let lead = if start > 0 { "…" } else { "" };
    let tail = if end < line.len() { "…" } else { "" };
    (
        range.start + start..range.start + end,
        lead.len(),
        format!("{lead}{}{tail}", &line[start..end]),
    )
}

/// An indexed file, opened: resolved, extracted and checked against its chunks.
struct Opened {
    rel: String,
    path: PathBuf,
    title: String,
    extracted: Arc<Extracted>,
    chunks: Vec<StoredChunk>,
}

impl Opened {
    /// The passage of its extracted text at `range`, cut at `most` bytes if given.
    fn passage(self, range: Range<usize>, most: Option<usize>) -> Passage {
        let text = self.extracted.text.as_str();
        let starts = line_starts(text);
        let (range, truncated) = match most {
            Some(most) => bounded(text, range, most),
            None => (range, false),
        };
        let place = Place::locate(&range, &self.extracted.pages, &self.extracted.paragraphs);
        let breadcrumb = headings_at(text, range.start);
        Passage {
            line: line_of(&starts, range.start),
            end_line: line_of(&starts, range.end.saturating_sub(1).max(range.start)),
            text: text[range.clone()].to_string(),
            start_byte: range.start,
            end_byte: range.end,
            page: place.page,
            page_end: place.page_end,
            paragraph: place.paragraph,
            breadcrumb,
            truncated,
            document_bytes: text.len(),
            document_lines: starts.len(),
            file: self.rel,
            path: self.path,
            title: self.title,
        }
    }
}

/// `file` as the index names it (relative, `/`-separated on Unix), or why it cannot be one:
/// absolute paths must lie under `root`, and `..` is refused outright.
fn relative_path(file: &str, root: &Path) -> Result<String> {
    let given = Path::new(file.trim());
    let outside = || DocumentError::OutsideRoot {
        file: file.to_string(),
        root: root.to_path_buf(),
    };
    let rel = if given.is_absolute() {
        given.strip_prefix(root).map_err(|_| outside())?
    } else {
        given
    };
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(part) => parts.push(part.to_string_lossy()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(outside());
            }
        }
    }
    if parts.is_empty() {
        return Err(DocumentError::NotIndexed {
            file: file.to_string(),
            like: Vec::new(),
        });
    }
    Ok(parts.join(std::path::MAIN_SEPARATOR_STR))
}

/// Whether `heading` (as the outline gives it: `Section 7.1 Consent Required.`, `ARTICLE 7
/// ASSIGNMENT`, `5.2 Exclusion of Damages`) is named by `label`: its number or letter, one of
/// its first three words (`7.1`, `7`, `B`, `IV`), or the start of it, word for word (`Section
/// 7.1`, `article 7`, `definitions`); in any case, without a closing period or a section sign.
fn heading_names(heading: &str, label: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split_whitespace()
            .map(|w| {
                w.trim_matches(|c| matches!(c, '.' | ':' | ',' | '§' | '¶'))
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect()
    };
    let (heading, label) = (words(heading), words(label));
    match label.as_slice() {
        [] => false,
        // A number or letter (`7.1`, `IV`, `B`) is among the first words; a word starts it.
        [one] if one.contains(|c: char| c.is_ascii_digit()) || one.chars().count() <= 4 => {
            heading.iter().take(3).any(|w| w == one)
        }
        many => heading.starts_with(many),
    }
}

/// The indexed paths (a few) whose lower-cased text holds every word of the file name in
/// `rel` (without its extension), for a name that is not in the index: `lease` finds
/// `leases/commercial-lease.txt`.
fn named_like<'a>(rel: &str, indexed: impl Iterator<Item = &'a String> + Clone) -> Vec<String> {
    const MOST: usize = 5;
    let name = Path::new(rel);
    // The name without its extension (`42-3505.01` for `titles/42-3505.01.txt`): those files.
    let given = name
        .file_name()
        .unwrap_or(name.as_os_str())
        .to_string_lossy()
        .to_lowercase();
    let same: Vec<String> = (indexed.clone())
        .filter(|p| {
            Path::new(p.as_str())
                .file_stem()
                .is_some_and(|s| s.to_string_lossy().to_lowercase() == given)
        })
        .take(MOST)
        .cloned()
        .collect();
    if !same.is_empty() {
        return same;
    }
    let stem = name
        .file_stem()
        .unwrap_or(name.as_os_str())
        .to_string_lossy();
    let words: Vec<String> = stem
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return Vec::new();
    }
    indexed
        .filter(|p| {
            let p = p.to_lowercase();
            words.iter().all(|w| p.contains(w.as_str()))
        })
        .take(MOST)
        .cloned()
        .collect()
}

/// Byte offset of the start of every line of `text` (one entry for an empty text).
fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        text.match_indices('\n')
            .map(|(i, _)| i + 1)
            .filter(|&i| i < text.len()),
    );
    starts
}

/// 1-based line of byte `at`.
fn line_of(starts: &[usize], at: usize) -> u32 {
    starts.partition_point(|&s| s <= at).max(1) as u32
}

/// The byte range a passage call asks for, checked against the text.
fn passage_range(
    call: &PassageRequest,
    text: &str,
    starts: &[usize],
    file: &str,
) -> Result<Range<usize>> {
    let len = text.len();
    let lines = starts.len();
    let size = || format!("{file}'s extracted text has {len} bytes in {lines} lines");
    let bad = |s: String| Err(DocumentError::BadRange(s));
    let by_bytes = call.start_byte.is_some() || call.end_byte.is_some();
    let by_lines = call.start_line.is_some() || call.end_line.is_some();
    match (by_bytes, by_lines) {
        (true, true) => bad("give a byte range (start_byte, end_byte) or a line range \
                             (start_line, end_line), not both"
            .into()),
        (false, false) => bad("give start_byte (and end_byte), as in a search hit, or \
                               start_line (and end_line)"
            .into()),
        (true, false) => {
            let Some(start) = call.start_byte else {
                return bad("end_byte needs start_byte".into());
            };
            if start >= len as u64 {
                return bad(format!("start_byte {start} is past the end: {}", size()));
            }
            let start = start as usize;
            let end = match call.end_byte {
                Some(end) if end > len as u64 => {
                    return bad(format!("end_byte {end} is past the end: {}", size()));
                }
                Some(end) if end <= start as u64 => {
                    return bad(format!(
                        "end_byte {end} must be greater than start_byte {start}"
                    ));
                }
                Some(end) => end as usize,
                None => (start + DEFAULT_PASSAGE_BYTES).min(len),
            };
            // Offsets inside a character widen to its edges.
            let mut range = start..end;
            while !text.is_char_boundary(range.start) {
                range.start -= 1;
            }
            while !text.is_char_boundary(range.end) {
                range.end += 1;
            }
            Ok(range)
        }
        (false, true) => {
            let Some(first) = call.start_line else {
                return bad("end_line needs start_line".into());
            };
            if first == 0 {
                return bad("lines are numbered from 1".into());
            }
            if first > lines as u64 {
                return bad(format!("start_line {first} is past the end: {}", size()));
            }
            let last = match call.end_line {
                Some(last) if last > lines as u64 => {
                    return bad(format!("end_line {last} is past the end: {}", size()));
                }
                Some(last) if last < first => {
                    return bad(format!(
                        "end_line {last} must not be before start_line {first}"
                    ));
                }
                Some(last) => last,
                None => (first + DEFAULT_PASSAGE_LINES - 1).min(lines as u64),
            };
            let start = starts[first as usize - 1];
            let end = starts.get(last as usize).copied().unwrap_or(len);
            Ok(start..end)
        }
    }
}

/// The byte range of the innermost section of `text` that holds line `index` (0-based; the
/// line starts are `starts`), without the blank lines before the next heading; a line no
/// heading holds gives [`DEFAULT_PASSAGE_LINES`] lines from it.
fn section_at(text: &str, starts: &[usize], index: usize) -> Range<usize> {
    let at = starts[index];
    let holding = outline(text)
        .into_iter()
        .filter(|e| e.start_byte <= at && at < e.end_byte)
        .max_by_key(|e| e.start_byte);
    let range = match holding {
        Some(e) => e.start_byte..e.end_byte,
        None => {
            let end = (index + DEFAULT_PASSAGE_LINES as usize).min(starts.len());
            at..starts.get(end).copied().unwrap_or(text.len())
        }
    };
    trim_end(text, range)
}

/// The headings whose sections hold byte `at` of `text`, outermost first: the breadcrumb of
/// that place (a chunk's own may be that of the sections it spans, or of a later one).
fn headings_at(text: &str, at: usize) -> Vec<String> {
    outline(text)
        .into_iter()
        .filter(|e| e.start_byte <= at && at < e.end_byte)
        .map(|e| e.heading)
        .collect()
}

/// `range` without the blank lines and spaces that end it (those before the next heading).
/// The section of `text` under its first heading that one of `headings` names (tried in
/// turn), narrowed to the paragraph `labels` name in it ([`within_paragraph`]).
fn section_of(text: &str, headings: &[String], labels: &[&str]) -> Option<Range<usize>> {
    let entries = outline(text);
    let range = headings.iter().find_map(|h| {
        (entries.iter())
            .find(|e| heading_names(&e.heading, h))
            .map(|e| e.start_byte..e.end_byte)
    })?;
    Some(within_paragraph(text, range, labels))
}

/// The paragraph of `text` within `range` that `labels` name (`(c)`, `(17)`), when a line
/// starts with them in turn; else all of `range`.
fn within_paragraph(text: &str, range: Range<usize>, labels: &[&str]) -> Range<usize> {
    if labels.is_empty() {
        return range;
    }
    match citation::labelled_paragraph(&text[range.clone()], labels) {
        Some(r) => {
            // From the label, not the line's indentation.
            let indent = text[range.start + r.start..].len()
                - text[range.start + r.start..].trim_start().len();
            range.start + (r.start + indent).min(r.end)..range.start + r.end
        }
        None => range,
    }
}

fn trim_end(text: &str, range: Range<usize>) -> Range<usize> {
    let kept = text[range.clone()].trim_end().len();
    range.start..range.start + kept.max(1).min(range.len())
}

/// `range` cut to `most` bytes at a character boundary, and whether it was cut.
fn bounded(text: &str, range: Range<usize>, most: usize) -> (Range<usize>, bool) {
    if range.len() <= most {
        return (range, false);
    }
    let mut end = range.start + most;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (range.start..end, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_parent_steps_or_outside_the_root_are_refused() {
        let root = Path::new("/docs/matter");
        assert_eq!(relative_path("a/b.txt", root).unwrap(), "a/b.txt");
        assert_eq!(relative_path("./a/b.txt", root).unwrap(), "a/b.txt");
        assert_eq!(
            relative_path("/docs/matter/a/b.txt", root).unwrap(),
            "a/b.txt"
        );
        for bad in [
            "../../etc/passwd",
            "a/../../x.txt",
            "/etc/passwd",
            "/docs/other.txt",
        ] {
            assert!(
                matches!(
                    relative_path(bad, root),
                    Err(DocumentError::OutsideRoot { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            relative_path("", root),
            Err(DocumentError::NotIndexed { .. })
        ));
    }

    fn call(sb: Option<u64>, eb: Option<u64>, sl: Option<u64>, el: Option<u64>) -> PassageRequest {
        PassageRequest {
            file: "f.txt".into(),
            start_byte: sb,
            end_byte: eb,
            start_line: sl,
            end_line: el,
            section: false,
            heading: None,
        }
    }

    #[test]
    fn a_heading_is_named_by_its_number_or_its_first_words() {
        let lease = "Section 7.1 Consent Required.";
        for label in ["7.1", "7.1.", "section 7.1", "Section 7.1 Consent", "§ 7.1"] {
            assert!(heading_names(lease, label), "{label}");
        }
        for label in [
            "7",
            "7.12",
            "Consent Required",
            "consent",
            "",
            "Section 7.1 Rent",
        ] {
            assert!(!heading_names(lease, label), "{label}");
        }
        assert!(heading_names("ARTICLE 7 ASSIGNMENT AND SUBLETTING", "7"));
        assert!(heading_names(
            "ARTICLE 7 ASSIGNMENT AND SUBLETTING",
            "Article 7"
        ));
        assert!(heading_names("Exhibit B Form of Guaranty", "B"));
        assert!(heading_names("Article IV Remedies", "iv"));
        assert!(heading_names("Definitions", "definitions"));
        // A number deep in a caption is not the heading's.
        assert!(!heading_names(
            "Notices under the Act of 1990 as amended",
            "1990"
        ));
    }

    #[test]
    fn a_name_not_indexed_is_matched_to_the_indexed_paths_holding_its_words() {
        let indexed: Vec<String> = [
            "leases/commercial-lease.txt",
            "leases/ground lease 2019.pdf",
            "nda.md",
        ]
        .map(String::from)
        .to_vec();
        let like = |rel: &str| named_like(rel, indexed.iter());
        assert_eq!(
            like("lease"),
            [
                "leases/commercial-lease.txt",
                "leases/ground lease 2019.pdf"
            ]
        );
        assert_eq!(like("Ground-Lease.pdf"), ["leases/ground lease 2019.pdf"]);
        assert_eq!(like("NDA.txt"), ["nda.md"]);
        assert!(like("x").is_empty() && like("msa.docx").is_empty());
        // A name given without its extension: that file, not its neighbours.
        let sections = ["42-3505.01.txt", "42-3505.02.txt"].map(String::from);
        assert_eq!(
            named_like("42-3505.01", sections.iter()),
            ["42-3505.01.txt"]
        );
    }

    #[test]
    fn passage_ranges_by_bytes_or_lines_are_checked_against_the_text() {
        let text = "one\ntwo §\nthree\n";
        let starts = line_starts(text);
        assert_eq!(starts, vec![0, 4, 11]);
        let range = |c: PassageRequest| passage_range(&c, text, &starts, "f.txt");
        assert_eq!(range(call(Some(4), Some(8), None, None)).unwrap(), 4..8);
        // Inside the two-byte '§': widened to the whole character.
        assert_eq!(range(call(Some(4), Some(9), None, None)).unwrap(), 4..10);
        assert_eq!(range(call(Some(4), None, None, None)).unwrap(), 4..17);
        assert_eq!(range(call(None, None, Some(2), Some(3))).unwrap(), 4..17);
        assert_eq!(range(call(None, None, Some(2), None)).unwrap(), 4..17);
        assert_eq!(range(call(None, None, Some(1), Some(1))).unwrap(), 0..4);
        for bad in [
            call(Some(17), None, None, None),
            call(Some(0), Some(18), None, None),
            call(Some(5), Some(5), None, None),
            call(None, Some(3), None, None),
            call(None, None, Some(0), None),
            call(None, None, Some(4), None),
            call(None, None, Some(2), Some(9)),
            call(None, None, Some(3), Some(2)),
            call(Some(1), None, Some(1), None),
            call(None, None, None, None),
        ] {
            let err = range(bad.clone()).unwrap_err();
            assert!(matches!(err, DocumentError::BadRange(_)), "{bad:?}: {err}");
        }
        let err = range(call(Some(99), None, None, None))
            .unwrap_err()
            .to_string();
        assert!(err.contains("17 bytes in 3 lines"), "{err}");
    }

    #[test]
    fn a_line_gives_the_innermost_section_holding_it_or_lines_from_it() {
        let text = "Preamble line.\n\nARTICLE 4 DEPOSIT\n\nSection 4.1 Amount.\n\nTwo months of rent.\n\nSection 4.2 Return.\n\nWithin thirty days.\n\nARTICLE 5 NOTICES\n\nIn writing.\n";
        let starts = line_starts(text);
        let section = |line: usize| &text[section_at(text, &starts, line - 1)];
        assert_eq!(section(7), "Section 4.1 Amount.\n\nTwo months of rent.");
        assert_eq!(section(5), section(7));
        assert_eq!(section(11), "Section 4.2 Return.\n\nWithin thirty days.");
        // The article's own lines, before its first section, give the article whole.
        assert!(
            section(3).starts_with("ARTICLE 4 DEPOSIT") && section(3).ends_with("thirty days.")
        );
        assert_eq!(section(15), "ARTICLE 5 NOTICES\n\nIn writing.");
        // Before any heading: lines from the one asked for.
        assert_eq!(section(1), &text[..text.len() - 1]);
    }

    #[test]
    fn a_place_is_under_the_headings_of_the_sections_holding_it() {
        let text = "LEASE\n\nARTICLE I RENT\nSection 1.1 The Tenant shall pay rent monthly.\n\
                    Section 1.2 Late fees accrue at five percent.\nARTICLE II USE\nOffices only.\n";
        let at = |needle: &str| headings_at(text, text.find(needle).unwrap());
        assert_eq!(at("LEASE"), ["LEASE"]);
        assert_eq!(
            at("Section 1.1"),
            [
                "ARTICLE I RENT",
                "Section 1.1 The Tenant shall pay rent monthly."
            ]
        );
        assert_eq!(
            at("five percent"),
            [
                "ARTICLE I RENT",
                "Section 1.2 Late fees accrue at five percent."
            ]
        );
        assert_eq!(at("Offices"), ["ARTICLE II USE"]);
    }

    #[test]
    fn long_passages_are_cut_at_a_character_boundary() {
        let text = "§".repeat(MAX_PASSAGE_BYTES);
        let (range, cut) = bounded(&text, 0..text.len(), MAX_PASSAGE_BYTES);
        assert!(cut);
        assert_eq!(range, 0..MAX_PASSAGE_BYTES);
        let (range, cut) = bounded(&text, 1..text.len(), MAX_PASSAGE_BYTES);
        assert!(cut && text.is_char_boundary(range.end) && range.len() < MAX_PASSAGE_BYTES);
        assert_eq!(bounded(&text, 0..10, MAX_PASSAGE_BYTES), (0..10, false));
    }

    #[test]
    fn lines_are_found_by_byte() {
        let starts = line_starts("a\nb\n\nc");
        assert_eq!(starts, vec![0, 2, 4, 5]);
        assert_eq!(line_of(&starts, 0), 1);
        assert_eq!(line_of(&starts, 3), 2);
        assert_eq!(line_of(&starts, 5), 4);
        assert_eq!(line_starts(""), vec![0]);
    }

    #[test]
    fn context_gives_numbered_lines_around_the_cited_range_and_marks_it() {
        let text = "Section 1. Payment\r\n\r\nThe Buyer shall pay within thirty days.\r\nLate \
                    payments bear interest.\r\nThe Seller may suspend delivery.\r\n\r\nSection 2.";
        let focus = text.find("payments").unwrap()..text.find("interest.").unwrap() + 9;
        let c = lines_around(text, (0, 1), (focus, true), (2, 1), None);
        assert_eq!((c.line, c.match_line, c.match_end_line), (2, 4, 4));
        assert_eq!(
            c.lines,
            [
                "",
                "The Buyer shall pay within thirty days.",
                "Late payments bear interest.",
                "The Seller may suspend delivery.",
            ]
        );
        let marked: Vec<Option<&str>> = (c.lines.iter().zip(&c.focus))
            .map(|(l, f)| f.clone().map(|f| &l[f]))
            .collect();
        assert_eq!(marked, [None, None, Some("payments bear interest."), None]);
        assert!(!c.passage_only && c.why.is_none());
        // Past either end of the text: as many lines as there are.
        let c = lines_around(text, (0, 1), (0..5, false), (3, 9), None);
        assert_eq!((c.line, c.lines.len()), (1, 7));
        assert!(
            c.focus.iter().all(Option::is_none),
            "a whole passage is not marked"
        );
    }

    #[test]
    fn context_of_a_passage_alone_is_numbered_from_the_passages_line() {
        // A chunk starting at byte 100 of the document, on its line 12.
        let chunk = "Article 4\nThe term is one year.\nIt renews.";
        let focus = 100 + chunk.find("The term").unwrap()..100 + chunk.find("It").unwrap();
        let why = Some("changed".to_string());
        let c = lines_around(chunk, (100, 12), (focus, true), (5, 5), why);
        assert_eq!((c.line, c.match_line, c.match_end_line), (12, 13, 13));
        assert_eq!(c.lines.len(), 3);
        assert_eq!(
            c.focus[1].clone().map(|f| &c.lines[1][f]),
            Some("The term is one year.")
        );
        assert!(c.passage_only && c.why.as_deref() == Some("changed"));
    }

    #[test]
    fn long_context_lines_keep_the_part_nearest_the_hit() {
        let long = |c: char| c.to_string().repeat(MAX_CONTEXT_LINE_CHARS + 500);
        let cited = format!("{}TARGET{}", "é".repeat(3000), "x".repeat(3000));
        let text = format!("{}\n{cited}\n{}", long('a'), long('b'));
        let at = text.find("TARGET").unwrap();
        let c = lines_around(&text, (0, 1), (at..at + 6, true), (1, 1), None);
        let chars = |l: &str| l.chars().count();
        // The line before keeps its end, the one after its start.
        assert!(c.lines[0].starts_with('…') && !c.lines[0].ends_with('…'));
        assert!(c.lines[2].ends_with('…') && !c.lines[2].starts_with('…'));
        assert_eq!(chars(&c.lines[0]), MAX_CONTEXT_LINE_CHARS + 1);
        // The cited line keeps its focus, marked at the right bytes.
        let shown = &c.lines[1];
        assert!(shown.starts_with('…') && shown.ends_with('…'));
        assert_eq!(chars(shown), MAX_CONTEXT_LINE_CHARS + 2);
        assert_eq!(c.focus[1].clone().map(|f| &shown[f]), Some("TARGET"));
    }
}
