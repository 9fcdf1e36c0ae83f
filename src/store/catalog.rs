//! The catalog (sled): documents, chunks and their vectors.
//!
//! It holds everything needed to rebuild the keyword and vector indexes without re-embedding.
//! Only the writer opens it (sled allows one process at a time); searches read the keyword
//! index's stored fields and the vector graph instead.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ids::{ChunkId, DocId};
use crate::ingest::ocr::PageOcr;
use crate::ingest::types::MailInfo;
use crate::ingest::walk::FileKind;
use crate::{Error, Result};

/// A document in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocRecord {
    /// Path relative to the indexed folder.
    pub rel: PathBuf,
    /// Format.
    pub kind: FileKind,
    /// blake3 of the file's bytes, hex.
    pub content_hash: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: u64,
    /// Title used for display and as embedding context.
    pub title: String,
    /// Encoding the text was decoded from, when it was not UTF-8.
    pub decoded_from: Option<String>,
    /// The document's chunks, in order.
    pub chunks: Vec<ChunkId>,
    /// For an e-mail, or an attachment of one: the message's headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<Box<MailInfo>>,
    /// For a PDF: how its pages were read (a later run reads again pages left unread, or read
    /// in another language). `None` for other formats and for catalogs written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr: Option<PageOcr>,
    /// The revision of the reader that extracted it ([`FileKind::reader_revision`]); 0 for
    /// catalogs written before revisions were kept.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reader: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[cfg(test)]
impl DocRecord {
    /// A text file's record for tests: `rel` as its path, hash and title, one byte, no chunks.
    pub(crate) fn test_text(rel: &str) -> Self {
        DocRecord {
            rel: rel.into(),
            kind: FileKind::Text,
            content_hash: rel.into(),
            size: 1,
            mtime_ns: 1,
            title: rel.into(),
            decoded_from: None,
            chunks: Vec::new(),
            mail: None,
            ocr: None,
            reader: 0,
        }
    }
}

#[cfg(test)]
impl ChunkRecord {
    /// The first chunk of document 0 for tests, on line 1 with no page or breadcrumb.
    pub(crate) fn test_first(text: String, embedded_hash: String) -> Self {
        ChunkRecord {
            doc: DocId(0),
            ordinal: 0,
            start: 0,
            end: 4,
            line: 1,
            page: None,
            page_end: None,
            paragraph: None,
            page_breaks: Vec::new(),
            breadcrumb: Vec::new(),
            text,
            embedded_hash,
        }
    }
}

impl DocRecord {
    /// Whether an older reader of its format extracted it: a run then reads it again, its
    /// file unchanged or not, so that an index takes in what the reader now extracts.
    pub fn read_by_an_older_reader(&self) -> bool {
        self.reader < self.kind.reader_revision()
    }
}

/// A chunk in the catalog (its vector is stored apart, under the same id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkRecord {
    /// The document it belongs to.
    pub doc: DocId,
    /// Position in the document, from 0.
    pub ordinal: u32,
    /// Byte range in the extracted text.
    pub start: usize,
    /// End of the byte range (exclusive).
    pub end: usize,
    /// 1-based line of the first byte.
    pub line: u32,
    /// 1-based page of the first byte, for paged formats (PDF).
    pub page: Option<u32>,
    /// 1-based page of the last byte, when it differs from `page`.
    pub page_end: Option<u32>,
    /// 1-based paragraph of the first byte, for formats that number paragraphs (DOCX).
    pub paragraph: Option<u32>,
    /// Where each later page begins inside the chunk, for a chunk that runs onto later pages
    /// (`Place::page_breaks`); empty otherwise, and in catalogs written before it was kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub page_breaks: Vec<usize>,
    /// Headings above the chunk.
    pub breadcrumb: Vec<String>,
    /// The chunk's text as shown.
    pub text: String,
    /// blake3 (hex) of the exact text that was embedded (prompt and context included): a
    /// later run reuses the vector of any chunk whose embedded text is unchanged.
    pub embedded_hash: String,
}

/// Handle on the sled catalog. A clone is another handle on the same open database.
#[derive(Clone)]
pub struct Catalog {
    path: PathBuf,
    db: sled::Db,
    docs: sled::Tree,
    chunks: sled::Tree,
    vectors: sled::Tree,
}

impl Catalog {
    /// Opens (or creates) the catalog at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let err = |source| Error::Catalog {
            path: path.to_path_buf(),
            source,
        };
        let db = sled::Config::new().path(path).open().map_err(err)?;
        let docs = db.open_tree("docs").map_err(err)?;
        let chunks = db.open_tree("chunks").map_err(err)?;
        let vectors = db.open_tree("vectors").map_err(err)?;
        Ok(Catalog {
            path: path.to_path_buf(),
            db,
            docs,
            chunks,
            vectors,
        })
    }

    fn err(&self, source: sled::Error) -> Error {
        Error::Catalog {
            path: self.path.clone(),
            source,
        }
    }

    fn corrupt(&self, what: String) -> Error {
        Error::CorruptIndex {
            index: self.path.clone(),
            what,
        }
    }

    /// Stores a document with its chunks and vectors in one atomic batch per tree.
    pub fn put_document(
        &self,
        id: DocId,
        doc: &DocRecord,
        chunks: &[(ChunkId, ChunkRecord, &[f32])],
    ) -> Result<()> {
        let mut cb = sled::Batch::default();
        let mut vb = sled::Batch::default();
        for (cid, rec, vec) in chunks {
            let bytes = serde_json::to_vec(rec).map_err(|e| self.corrupt(e.to_string()))?;
            cb.insert(&cid.to_key(), bytes);
            let raw: Vec<u8> = vec.iter().flat_map(|x| x.to_le_bytes()).collect();
            vb.insert(&cid.to_key(), raw);
        }
        self.chunks.apply_batch(cb).map_err(|e| self.err(e))?;
        self.vectors.apply_batch(vb).map_err(|e| self.err(e))?;
        let bytes = serde_json::to_vec(doc).map_err(|e| self.corrupt(e.to_string()))?;
        self.docs
            .insert(id.to_key(), bytes)
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Replaces a document's record (its chunks stay as they are).
    pub fn put_record(&self, id: DocId, doc: &DocRecord) -> Result<()> {
        let bytes = serde_json::to_vec(doc).map_err(|e| self.corrupt(e.to_string()))?;
        self.docs
            .insert(id.to_key(), bytes)
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// All documents, in id order.
    pub fn documents(&self) -> Result<Vec<(DocId, DocRecord)>> {
        self.docs
            .iter()
            .map(|kv| {
                let (k, v) = kv.map_err(|e| self.err(e))?;
                let id =
                    DocId::from_key(&k).ok_or_else(|| self.corrupt("bad document key".into()))?;
                let rec = serde_json::from_slice(&v)
                    .map_err(|e| self.corrupt(format!("document {}: {e}", id.0)))?;
                Ok((id, rec))
            })
            .collect()
    }

    /// A document's record.
    pub fn document(&self, id: DocId) -> Result<Option<DocRecord>> {
        let Some(raw) = self.docs.get(id.to_key()).map_err(|e| self.err(e))? else {
            return Ok(None);
        };
        serde_json::from_slice(&raw)
            .map(Some)
            .map_err(|e| self.corrupt(format!("document {}: {e}", id.0)))
    }

    /// Removes a document with its chunks; returns its chunk ids. Their vectors stay (a
    /// later chunk of the same text may reuse them) until
    /// [`delete_vectors`](Self::delete_vectors).
    pub fn delete_document(&self, id: DocId) -> Result<Vec<ChunkId>> {
        let Some(raw) = self.docs.remove(id.to_key()).map_err(|e| self.err(e))? else {
            return Ok(Vec::new());
        };
        let doc: DocRecord = serde_json::from_slice(&raw)
            .map_err(|e| self.corrupt(format!("document {}: {e}", id.0)))?;
        let mut cb = sled::Batch::default();
        for c in &doc.chunks {
            cb.remove(&c.to_key());
        }
        self.chunks.apply_batch(cb).map_err(|e| self.err(e))?;
        Ok(doc.chunks)
    }

    /// Removes the vectors of `chunks` (of documents deleted before).
    pub fn delete_vectors<'a>(&self, chunks: impl IntoIterator<Item = &'a ChunkId>) -> Result<()> {
        let mut batch = sled::Batch::default();
        for c in chunks {
            batch.remove(&c.to_key());
        }
        self.vectors.apply_batch(batch).map_err(|e| self.err(e))
    }

    /// A chunk's record.
    pub fn chunk(&self, id: ChunkId) -> Result<Option<ChunkRecord>> {
        let Some(raw) = self.chunks.get(id.to_key()).map_err(|e| self.err(e))? else {
            return Ok(None);
        };
        serde_json::from_slice(&raw)
            .map(Some)
            .map_err(|e| self.corrupt(format!("chunk {}: {e}", id.0)))
    }

    /// Every stored vector, in chunk id order.
    pub fn vectors(&self) -> Result<Vec<(ChunkId, Vec<f32>)>> {
        self.vectors
            .iter()
            .map(|kv| {
                let (k, _) = kv.map_err(|e| self.err(e))?;
                let id =
                    ChunkId::from_key(&k).ok_or_else(|| self.corrupt("bad vector key".into()))?;
                let v = self.vector(id)?.unwrap_or_default();
                Ok((id, v))
            })
            .collect()
    }

    /// Number of documents and of chunks.
    pub fn counts(&self) -> (usize, usize) {
        (self.docs.len(), self.chunks.len())
    }

    /// Every chunk's embedded-text hash and id, read from every chunk record (seconds at a
    /// million chunks): what [`EmbeddedHashes`](super::EmbeddedHashes) is built from.
    pub fn chunk_hashes(&self) -> Result<Vec<(String, ChunkId)>> {
        self.chunks
            .iter()
            .map(|kv| {
                let (k, v) = kv.map_err(|e| self.err(e))?;
                let id =
                    ChunkId::from_key(&k).ok_or_else(|| self.corrupt("bad chunk key".into()))?;
                let rec: ChunkRecord = serde_json::from_slice(&v)
                    .map_err(|e| self.corrupt(format!("chunk {}: {e}", id.0)))?;
                Ok((rec.embedded_hash, id))
            })
            .collect()
    }

    /// A chunk's stored vector.
    pub fn vector(&self, id: ChunkId) -> Result<Option<Vec<f32>>> {
        let Some(raw) = self.vectors.get(id.to_key()).map_err(|e| self.err(e))? else {
            return Ok(None);
        };
        if raw.len() % 4 != 0 {
            return Err(self.corrupt(format!("vector of chunk {} has {} bytes", id.0, raw.len())));
        }
        Ok(Some(
            raw.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ))
    }

    /// Flushes everything to disk.
    pub fn flush(&self) -> Result<()> {
        self.db.flush().map(|_| ()).map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_from_before_reader_revisions_reads_as_revision_0_and_older_spreadsheets_and_e_mails_are_read_again()
     {
        let old = r#"{"rel":"fees.xlsx","kind":"spreadsheet","content_hash":"h","size":3,"mtime_ns":1,"title":"Fees","decoded_from":null,"chunks":[]}"#;
        let mut rec: DocRecord = serde_json::from_str(old).unwrap();
        assert_eq!(rec.reader, 0);
        assert!(rec.read_by_an_older_reader());
        rec.reader = FileKind::Sheet.reader_revision();
        assert!(!rec.read_by_an_older_reader());
        // Written back, the revision is kept; a revision of 0 is not written at all.
        let again: DocRecord = serde_json::from_slice(&serde_json::to_vec(&rec).unwrap()).unwrap();
        assert_eq!(again.reader, rec.reader);
        // E-mails and Outlook data files read before messages kept their folder.
        for kind in [FileKind::Eml, FileKind::Pst] {
            let rec = DocRecord {
                kind,
                reader: kind.reader_revision(),
                ..rec.clone()
            };
            assert!(!rec.read_by_an_older_reader(), "{kind:?}");
            let before = DocRecord { reader: 0, ..rec };
            assert!(before.read_by_an_older_reader(), "{kind:?}");
        }
        rec.kind = FileKind::Text;
        rec.reader = 0;
        assert!(!rec.read_by_an_older_reader());
        assert!(
            !String::from_utf8(serde_json::to_vec(&rec).unwrap())
                .unwrap()
                .contains("reader")
        );
    }

    #[test]
    fn documents_chunks_and_vectors_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalog::open(&dir.path().join("catalog")).unwrap();
        let doc = DocRecord {
            content_hash: "h".into(),
            size: 3,
            title: "A".into(),
            chunks: vec![ChunkId(7)],
            ..DocRecord::test_text("a.txt")
        };
        let chunk = ChunkRecord {
            doc: DocId(1),
            end: 3,
            breadcrumb: vec!["Article 1".into()],
            ..ChunkRecord::test_first("abc".into(), "e".into())
        };
        let v = [0.5f32, -0.25];
        cat.put_document(DocId(1), &doc, &[(ChunkId(7), chunk, &v)])
            .unwrap();
        cat.flush().unwrap();
        assert_eq!(cat.documents().unwrap(), vec![(DocId(1), doc)]);
        assert_eq!(cat.vector(ChunkId(7)).unwrap(), Some(v.to_vec()));
        assert_eq!(cat.vector(ChunkId(8)).unwrap(), None);
        assert_eq!(
            cat.chunk_hashes().unwrap(),
            vec![("e".to_string(), ChunkId(7))]
        );
    }
}
