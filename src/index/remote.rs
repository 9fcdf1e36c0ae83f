//! A remote search engine holding the two search arms in place of the local keyword index and
//! vector graph: `--backend milvus://HOST:PORT/COLLECTION` (docs/scale.md).
//!
//! The local [`Library`](crate::library::Library) keeps the catalog of what was sent (documents,
//! chunks, hashes and vectors, for incremental runs); the [`RemoteIndex`] holds every chunk with
//! its text, place and vector, and answers keyword (BM25), semantic and hybrid searches itself.
//! The write [`Transaction`](crate::library::Transaction) and the
//! [`Searcher`](crate::search::Searcher) drive either storage through the same calls.
//!
//! The only implementation is Milvus (cargo feature `milvus`); without the feature a
//! `milvus://` backend is refused with the way to get it.

use std::path::PathBuf;
use std::sync::Arc;

use crate::ids::ChunkId;
use crate::index::keyword::StoredChunk;
use crate::{Error, Result};

/// How a server fuses the two arms of a hybrid search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ServerFusion {
    /// Reciprocal rank fusion with damping constant `k`.
    Rrf {
        /// Damping constant.
        k: f32,
    },
    /// Weighted sum of the arms' normalised scores.
    Weighted {
        /// Weight of the keyword (BM25) arm.
        keyword: f32,
        /// Weight of the semantic arm.
        semantic: f32,
    },
}

/// Where a hybrid search against a remote index fuses its two arms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RemoteFusion {
    /// Each arm is fetched from the server and fused by lexsearch, as for a local index (the
    /// same fusion code; the default: it gives the local index's ranking, docs/quality.md).
    #[default]
    Client,
    /// The server's own hybrid search fuses them (Milvus's RRF or weighted ranker, which
    /// normalises scores its own way).
    Server,
}

/// A remote index as named on the command line: where it is, the token, and where hybrid
/// searches fuse (for the front ends that open a searcher over it: search, eval, tui, mcp).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSpec {
    /// `milvus://HOST:PORT/COLLECTION`.
    pub url: String,
    /// `user:password` or an API key, if the server asks for one.
    pub token: Option<String>,
    /// Where hybrid searches fuse their arms.
    pub fusion: RemoteFusion,
}

impl RemoteSpec {
    /// Connects to it ([`connect`]).
    pub fn connect(&self) -> Result<Arc<dyn RemoteIndex>> {
        connect(&self.url, self.token.clone())
    }
}

/// One chunk as sent to a remote index: everything a hit shows, and its vector.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteRow {
    /// The chunk, its document and place.
    pub chunk: StoredChunk,
    /// Its embedding.
    pub vector: Vec<f32>,
}

/// A remote index: where chunks are sent and searched. Calls block (an implementation runs its
/// own runtime); each error names the server and the cause.
pub trait RemoteIndex: Send + Sync {
    /// The backend as the user wrote it (`milvus://HOST:PORT/COLLECTION`), for messages.
    fn name(&self) -> &str;
    /// The index's manifest as last committed (JSON), or `None` when the collection is
    /// missing or was never committed.
    fn manifest_json(&self) -> Result<Option<String>>;
    /// Makes sure the collection exists for vectors of `dim` dimensions; `fresh` drops what
    /// is there first (a rebuild, another model, or a collection out of step with the local
    /// catalog). Refuses a collection lexsearch did not create.
    fn prepare(&self, dim: usize, fresh: bool) -> Result<()>;
    /// Deletes every chunk whose id is `first` or above: what an interrupted run sent beyond
    /// the last committed catalog.
    fn delete_from(&self, first: ChunkId) -> Result<()>;
    /// Inserts or replaces chunks (one batch; acknowledged when this returns).
    fn upsert(&self, rows: &[RemoteRow]) -> Result<()>;
    /// Deletes chunks.
    fn delete(&self, ids: &[ChunkId]) -> Result<()>;
    /// Records the committed manifest with the collection, after flushing what was sent.
    fn commit(&self, manifest_json: &str) -> Result<()>;
    /// Number of chunks stored.
    fn count(&self) -> Result<u64>;
    /// The best `k` chunks for `query` by the server's BM25.
    fn keyword(&self, query: &str, k: usize) -> Result<Vec<(ChunkId, f32)>>;
    /// The `k` chunks nearest `vector` (cosine).
    fn semantic(&self, vector: &[f32], k: usize) -> Result<Vec<(ChunkId, f32)>>;
    /// The server's own hybrid search of both arms, fused as asked.
    fn hybrid(
        &self,
        query: &str,
        vector: &[f32],
        k: usize,
        fusion: ServerFusion,
    ) -> Result<Vec<(ChunkId, f32)>>;
    /// A chunk's stored fields (found by the last searches, or asked from the server).
    fn fetch(&self, id: ChunkId) -> Result<Option<StoredChunk>>;
    /// The stored chunks whose ids lie in `ids` (for `verify`; at most 16,384 a call).
    fn chunks_in(&self, ids: std::ops::Range<u64>) -> Result<Vec<StoredChunk>>;
    /// The stored chunks of the file at `path` (relative to the indexed folder), in text
    /// order (for passages like a passage: finding it by place, and its neighbours).
    fn chunks_of_file(&self, path: &str) -> Result<Vec<StoredChunk>>;
    /// A chunk's stored vector, if the server has the chunk.
    fn vector(&self, id: ChunkId) -> Result<Option<Vec<f32>>>;
}

/// A remote index that counts the time spent in its writes and the chunks sent (for the
/// index report: upsert throughput).
pub struct Timed {
    inner: Arc<dyn RemoteIndex>,
    spent: std::sync::Mutex<(std::time::Duration, usize)>,
}

impl Timed {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn RemoteIndex>) -> Self {
        Timed {
            inner,
            spent: std::sync::Mutex::new((std::time::Duration::ZERO, 0)),
        }
    }

    /// Seconds spent in writes (upserts, deletes, commit) so far, and chunks upserted.
    pub fn writes(&self) -> (f64, usize) {
        let s = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        (s.0.as_secs_f64(), s.1)
    }

    fn time<T>(&self, sent: usize, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let started = std::time::Instant::now();
        let out = f();
        let mut s = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        s.0 += started.elapsed();
        s.1 += sent;
        out
    }
}

impl RemoteIndex for Timed {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn manifest_json(&self) -> Result<Option<String>> {
        self.inner.manifest_json()
    }
    fn prepare(&self, dim: usize, fresh: bool) -> Result<()> {
        self.inner.prepare(dim, fresh)
    }
    fn delete_from(&self, first: ChunkId) -> Result<()> {
        self.time(0, || self.inner.delete_from(first))
    }
    fn upsert(&self, rows: &[RemoteRow]) -> Result<()> {
        self.time(rows.len(), || self.inner.upsert(rows))
    }
    fn delete(&self, ids: &[ChunkId]) -> Result<()> {
        self.time(0, || self.inner.delete(ids))
    }
    fn commit(&self, manifest_json: &str) -> Result<()> {
        self.time(0, || self.inner.commit(manifest_json))
    }
    fn count(&self) -> Result<u64> {
        self.inner.count()
    }
    fn keyword(&self, query: &str, k: usize) -> Result<Vec<(ChunkId, f32)>> {
        self.inner.keyword(query, k)
    }
    fn semantic(&self, vector: &[f32], k: usize) -> Result<Vec<(ChunkId, f32)>> {
        self.inner.semantic(vector, k)
    }
    fn hybrid(
        &self,
        query: &str,
        vector: &[f32],
        k: usize,
        fusion: ServerFusion,
    ) -> Result<Vec<(ChunkId, f32)>> {
        self.inner.hybrid(query, vector, k, fusion)
    }
    fn chunks_of_file(&self, path: &str) -> Result<Vec<StoredChunk>> {
        self.inner.chunks_of_file(path)
    }
    fn vector(&self, id: ChunkId) -> Result<Option<Vec<f32>>> {
        self.inner.vector(id)
    }
    fn fetch(&self, id: ChunkId) -> Result<Option<StoredChunk>> {
        self.inner.fetch(id)
    }
    fn chunks_in(&self, ids: std::ops::Range<u64>) -> Result<Vec<StoredChunk>> {
        self.inner.chunks_in(ids)
    }
}

/// A `milvus://HOST:PORT/COLLECTION` backend, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    /// Host name or address.
    pub host: String,
    /// gRPC port.
    pub port: u16,
    /// Collection name.
    pub collection: String,
}

impl RemoteUrl {
    /// Parses `milvus://HOST:PORT/COLLECTION` (port 19530 when left out).
    pub fn parse(url: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::InvalidSetting(format!(
                "--backend {url:?}: {why}; write it as milvus://HOST:PORT/COLLECTION"
            ))
        };
        let rest = url
            .strip_prefix("milvus://")
            .ok_or_else(|| bad("only milvus:// backends are supported"))?;
        let (authority, collection) = rest
            .split_once('/')
            .ok_or_else(|| bad("the collection is missing"))?;
        let valid = !collection.is_empty()
            && collection.len() <= 255
            && collection.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && collection
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(bad(
                "a collection name is letters, digits and underscores, starting with a letter",
            ));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| bad("the port is not a number"))?),
            None => (authority, 19530),
        };
        if host.is_empty() {
            return Err(bad("the host is missing"));
        }
        Ok(RemoteUrl {
            host: host.to_string(),
            port,
            collection: collection.to_string(),
        })
    }

    /// The backend as written back: `milvus://HOST:PORT/COLLECTION`.
    pub fn name(&self) -> String {
        format!("milvus://{}:{}/{}", self.host, self.port, self.collection)
    }

    /// Where the local catalog of what was sent to this collection lives, under the indexed
    /// folder's index folder: `INDEX/milvus/HOST_PORT_COLLECTION`.
    pub fn catalog_dir(&self, index_dir: &std::path::Path) -> PathBuf {
        let host: String = self
            .host
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        index_dir
            .join("milvus")
            .join(format!("{host}_{}_{}", self.port, self.collection))
    }
}

/// Whether `backend` names a remote index (rather than a local folder).
pub fn is_remote(backend: &str) -> bool {
    backend.contains("://")
}

/// Connects to the remote index `url` (`token`: `user:password` or an API key, if the server
/// asks for one).
pub fn connect(url: &str, token: Option<String>) -> Result<Arc<dyn RemoteIndex>> {
    let parsed = RemoteUrl::parse(url)?;
    #[cfg(feature = "milvus")]
    {
        Ok(Arc::new(super::milvus::MilvusIndex::connect(
            &parsed, token,
        )?))
    }
    #[cfg(not(feature = "milvus"))]
    {
        let _ = token;
        Err(Error::InvalidSetting(format!(
            "--backend {}: this lexsearch was built without Milvus support; rebuild with --features milvus",
            parsed.name()
        )))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_milvus_url_names_host_port_and_collection() {
        let u = RemoteUrl::parse("milvus://db.example:19531/contracts_2026").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.collection.as_str()),
            ("db.example", 19531, "contracts_2026")
        );
        assert_eq!(RemoteUrl::parse("milvus://h/c").unwrap().port, 19530);
        for bad in [
            "http://h:1/c",
            "milvus://h:1",
            "milvus://h:x/c",
            "milvus://h:1/9c",
            "milvus://:1/c",
        ] {
            let err = RemoteUrl::parse(bad).unwrap_err().to_string();
            assert!(err.contains("milvus://HOST:PORT/COLLECTION"), "{err}");
        }
    }

    #[cfg(not(feature = "milvus"))]
    #[test]
    fn without_the_feature_a_milvus_backend_says_how_to_get_it() {
        let err = connect("milvus://127.0.0.1:19530/c", None)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("rebuild with --features milvus"), "{err}");
    }
}
