//! Vectors already computed, found again by the hash of the exact text they embed: in the
//! current catalog (a changed document whose chunks are partly unchanged) and in the copy an
//! interrupted run left (`resume/`), so no text is embedded twice by the same model.

use crate::library::{ReadCatalog, ReuseSource};
use crate::store::EmbeddedHashes;

/// Catalogs to take vectors from, each with its chunks by embedded-text hash.
pub(super) struct Reuse {
    sources: Vec<(ReadCatalog, EmbeddedHashes)>,
}

impl Reuse {
    /// Takes the catalogs of `sources` (the write transaction's
    /// [`reuse_sources`](crate::library::Transaction::reuse_sources)), each with its file of
    /// embedded-text hashes, or, without one (`resume/`, a generation of an earlier version),
    /// a map of them read from every chunk record.
    pub(super) fn open(sources: Vec<ReuseSource>) -> Self {
        let sources = sources
            .into_iter()
            .filter_map(|s| {
                let written = match &s.hashes {
                    Some(path) => EmbeddedHashes::read(path).ok().flatten(),
                    None => None,
                };
                let hashes = match written {
                    Some(h) => h,
                    None => EmbeddedHashes::from_pairs(s.catalog.chunk_hashes().ok()?),
                };
                Some((s.catalog, hashes))
            })
            .collect();
        Reuse { sources }
    }

    /// No catalog to take vectors from: for a run that reads no file.
    pub(super) fn none() -> Self {
        Reuse {
            sources: Vec::new(),
        }
    }

    /// The vector of a chunk whose embedded text has this hash, if one was computed.
    pub(super) fn vector(&self, embedded_hash: &str) -> Option<Vec<f32>> {
        self.sources.iter().find_map(|(c, hashes)| {
            let id = hashes.chunk(embedded_hash)?;
            c.vector(id).ok().flatten()
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ids::{ChunkId, DocId};
    use crate::store::{Catalog, ChunkRecord, DocRecord};

    #[test]
    fn vectors_are_found_by_their_embedded_text_with_or_without_a_file_of_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let (current, resumed) = (dir.path().join("current"), dir.path().join("resume"));
        for (path, hash, v) in [
            (&current, "h1", [1.0f32, 0.0]),
            (&resumed, "h2", [0.0, 1.0]),
        ] {
            let cat = Catalog::open(path).unwrap();
            let doc = DocRecord {
                chunks: vec![ChunkId(5)],
                ..DocRecord::test_text("a.txt")
            };
            let rec = ChunkRecord::test_first("text".into(), hash.into());
            cat.put_document(DocId(0), &doc, &[(ChunkId(5), rec, &v[..])])
                .unwrap();
            cat.flush().unwrap();
        }
        let file = dir.path().join("hashes");
        EmbeddedHashes::from_pairs([("h1".to_string(), ChunkId(5))])
            .write(&file)
            .unwrap();
        let source = |path: &std::path::PathBuf, hashes| ReuseSource {
            origin: path.clone(),
            catalog: ReadCatalog::owned(Catalog::open(path).unwrap()),
            hashes,
        };
        let reuse = Reuse::open(vec![
            source(&current, Some(file)),
            source(&resumed, None),
            // A file of hashes that does not read: the chunk records are read instead.
            source(&dir.path().join("fresh"), Some(dir.path().join("absent"))),
        ]);
        assert_eq!(reuse.sources.len(), 3);
        assert_eq!(reuse.vector("h1"), Some(vec![1.0, 0.0]));
        assert_eq!(reuse.vector("h2"), Some(vec![0.0, 1.0]));
        assert_eq!(reuse.vector("h3"), None);
        assert_eq!(Reuse::none().vector("h1"), None);
    }
}
