//! The Milvus [`RemoteIndex`] (cargo feature `milvus`): one collection per index, searched by
//! Milvus's own BM25 full-text search, dense HNSW search and hybrid search.
//!
//! ```text
//! id         Int64, primary key       the chunk id of the local catalog
//! doc        Int64                    its document id
//! path       VarChar                  document path relative to the indexed folder
//! title      VarChar                  document title
//! crumbs     VarChar                  heading breadcrumb, joined by U+001F
//! start, end Int64                    byte range in the extracted text
//! line       Int64                    1-based line of the first byte
//! page, page_end, paragraph Int64     1-based, 0 when the format has none
//! text       VarChar, analyzer        the chunk's text (standard tokenizer, lowercase, English
//!                                     stemmer and stop words)
//! sparse     SparseFloatVector        BM25 function output of `text` (SPARSE_INVERTED_INDEX)
//! dense      FloatVector(dim)         the embedding (HNSW, COSINE)
//! ```
//!
//! Collection properties: `lexsearch.format` (set when lexsearch creates the collection) and
//! `lexsearch.manifest` (the committed manifest: model fingerprint, chunker settings,
//! counts, generation), read by searches on any machine and checked by writers like the
//! local manifest.
//!
//! The client is async (tonic); a current-thread tokio runtime inside [`MilvusIndex`] keeps the
//! library's API synchronous.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use milvus::v2 as sdk;
use milvus::v2::prelude::*;
use serde_json::json;

use super::keyword::{Place, StoredChunk};
use super::remote::{RemoteIndex, RemoteRow, RemoteUrl, ServerFusion};
use crate::ids::{ChunkId, DocId};
use crate::{Error, Result};

const FORMAT_PROPERTY: &str = "lexsearch.format";
const MANIFEST_PROPERTY: &str = "lexsearch.manifest";
const FORMAT: &str = "1";
const CRUMB_SEPARATOR: char = '\u{1f}';
/// Stored fields a hit needs.
const FIELDS: [&str; 12] = [
    "id",
    "doc",
    "path",
    "title",
    "crumbs",
    "start",
    "end",
    "line",
    "page",
    "page_end",
    "paragraph",
    "text",
];
/// Longest text a VarChar field holds, in bytes (Milvus's limit).
const MAX_TEXT: u32 = 65_535;

/// A Milvus collection as a [`RemoteIndex`].
pub struct MilvusIndex {
    name: String,
    collection: String,
    client: ClientV2,
    runtime: tokio::runtime::Runtime,
    /// Chunks returned by the last searches, so hits need no second round trip.
    seen: Mutex<HashMap<ChunkId, StoredChunk>>,
}

type SdkError = milvus::v2::error::Error;

impl MilvusIndex {
    /// Connects to the server of `url` (`token`: `user:password` or an API key).
    pub fn connect(url: &RemoteUrl, token: Option<String>) -> Result<Self> {
        let name = url.name();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Remote {
                server: name.clone(),
                action: "starting the client's runtime".into(),
                cause: e.to_string(),
            })?;
        let mut config = ConnectConfig::new()
            .uri(format!("http://{}:{}", url.host, url.port))
            .connect_timeout(Duration::from_secs(10));
        if let Some(t) = token {
            config = config.token(t);
        }
        let client = runtime
            .block_on(ClientV2::new(&config))
            .map_err(|e| Error::Remote {
                server: name.clone(),
                action: "connecting".into(),
                cause: cause(&e),
            })?;
        Ok(MilvusIndex {
            name,
            collection: url.collection.clone(),
            client,
            runtime,
            seen: Mutex::new(HashMap::new()),
        })
    }

    fn fail(&self, action: impl Into<String>) -> impl FnOnce(SdkError) -> Error {
        let server = self.name.clone();
        let action = action.into();
        move |e| Error::Remote {
            server,
            action,
            cause: cause(&e),
        }
    }

    fn exists(&self) -> Result<bool> {
        let request = HasCollectionRequest::builder()
            .collection_name(&self.collection)
            .build()
            .map_err(self.fail("asking for the collection"))?;
        Ok(self
            .runtime
            .block_on(self.client.has_collection(request))
            .map_err(self.fail("asking for the collection"))?
            .exists())
    }

    fn properties(&self) -> Result<HashMap<String, String>> {
        let request = DescribeCollectionRequest::builder()
            .collection_name(&self.collection)
            .build()
            .map_err(self.fail("describing the collection"))?;
        let described = self
            .runtime
            .block_on(self.client.describe_collection(request))
            .map_err(self.fail("describing the collection"))?;
        Ok(described.description().get_properties().clone())
    }

    fn drop_collection(&self) -> Result<()> {
        let request = DropCollectionRequest::builder()
            .collection_name(&self.collection)
            .build()
            .map_err(self.fail("dropping the collection"))?;
        self.runtime
            .block_on(self.client.drop_collection(request))
            .map_err(self.fail("dropping the collection"))
    }

    fn create(&self, dim: usize) -> Result<()> {
        let action = "creating the collection";
        let int = |name: &str| {
            sdk::FieldSchema::new()
                .name(name)
                .data_type(sdk::DataType::Int64)
        };
        let text = |name: &str, max: u32| {
            sdk::FieldSchema::new()
                .name(name)
                .data_type(sdk::DataType::VarChar)
                .max_length(max)
        };
        let schema = sdk::CollectionSchema::new()
            .description("lexsearch chunks (docs/scale.md)")
            .add_field(int("id").primary_key(true))
            .add_field(int("doc"))
            .add_field(text("path", MAX_TEXT))
            .add_field(text("title", MAX_TEXT))
            .add_field(text("crumbs", MAX_TEXT))
            .add_field(int("start"))
            .add_field(int("end"))
            .add_field(int("line"))
            .add_field(int("page"))
            .add_field(int("page_end"))
            .add_field(int("paragraph"))
            .add_field(
                text("text", MAX_TEXT)
                    .enable_analyzer(true)
                    // Milvus's English analyzer spelled out (lowercase, Snowball stemmer,
                    // English stop words), close to the local keyword index. milvus-lite
                    // accepts it but only tokenises (docs/scale.md).
                    .analyzer_params(json!({
                        "tokenizer": "standard",
                        "filter": [
                            "lowercase",
                            {"type": "stemmer", "language": "english"},
                            {"type": "stop", "stop_words": ["_english_"]},
                        ],
                    })),
            )
            .add_field(
                sdk::FieldSchema::new()
                    .name("sparse")
                    .data_type(sdk::DataType::SparseFloatVector),
            )
            .add_field(
                sdk::FieldSchema::new()
                    .name("dense")
                    .data_type(sdk::DataType::FloatVector)
                    .dimension(dim as u32),
            )
            .add_function(
                Function::new()
                    .name("text_bm25")
                    .function_type(FunctionType::Bm25)
                    .input_fields(["text"])
                    .output_fields(["sparse"]),
            );
        let request = sdk::request::collection::CreateCollectionRequest::builder()
            .collection_name(&self.collection)
            .schema(schema)
            .index_params(vec![
                IndexParam::new()
                    .field_name("dense")
                    .index_type(IndexType::Hnsw)
                    .metric_type(MetricType::Cosine),
                IndexParam::new()
                    .field_name("sparse")
                    .index_type(IndexType::SparseInvertedIndex)
                    .metric_type(MetricType::Bm25),
            ])
            .properties(HashMap::from([(
                FORMAT_PROPERTY.to_string(),
                FORMAT.to_string(),
            )]))
            .consistency_level(sdk::ConsistencyLevel::Strong)
            .build()
            .map_err(self.fail(action))?;
        self.runtime
            .block_on(self.client.create_collection(request))
            .map_err(self.fail(action))?;
        self.load()
    }

    fn load(&self) -> Result<()> {
        let request = sdk::request::collection::LoadCollectionRequest::builder()
            .collection_name(&self.collection)
            .build()
            .map_err(self.fail("loading the collection"))?;
        self.runtime
            .block_on(self.client.load_collection(request))
            .map_err(self.fail("loading the collection"))
    }

    fn delete_where(&self, filter: String, action: &str) -> Result<()> {
        let request = DeleteRequest::builder()
            .collection_name(&self.collection)
            .filter(filter)
            .build()
            .map_err(self.fail(action))?;
        self.runtime
            .block_on(self.client.delete(request))
            .map_err(self.fail(action))?;
        Ok(())
    }

    /// Keeps the stored chunks of `results` and returns their ids and scores, best first.
    fn collect(&self, results: &SearchResults, action: &str) -> Result<Vec<(ChunkId, f32)>> {
        let mut out = Vec::new();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        for result in results.get_results() {
            let scores = result.get_scores();
            for (row, score) in result.rows().map_err(self.fail(action))?.zip(scores) {
                let chunk = stored(&row).map_err(|e| self.fail(action)(*e))?;
                out.push((chunk.chunk_id, *score));
                seen.insert(chunk.chunk_id, chunk);
            }
        }
        Ok(out)
    }

    fn search_field(
        &self,
        field: &str,
        vectors: SearchVectors,
        k: usize,
        action: &str,
    ) -> Result<Vec<(ChunkId, f32)>> {
        let request = SearchRequest::builder()
            .collection_name(&self.collection)
            .vector_field(field)
            .vectors(vectors)
            .output_fields(FIELDS)
            .limit(k as i64)
            .consistency_level(sdk::ConsistencyLevel::Strong)
            .build()
            .map_err(self.fail(action))?;
        let response = self
            .runtime
            .block_on(self.client.search(request))
            .map_err(self.fail(action))?;
        self.collect(response.results(), action)
    }
}

/// The error's own message and its source chain (the connection's cause is in the sources).
fn cause(e: &SdkError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// A chunk from a result row's stored fields.
fn stored(row: &ResultRow<'_>) -> std::result::Result<StoredChunk, Box<SdkError>> {
    let int = |name: &str| row.get_i64(name).map_err(Box::new);
    let string = |name: &str| row.get_str(name).map_err(Box::new);
    let opt = |name: &str| -> std::result::Result<Option<u32>, Box<SdkError>> {
        Ok(u32::try_from(int(name)?).ok().filter(|&n| n > 0))
    };
    let crumbs = string("crumbs")?;
    Ok(StoredChunk {
        chunk_id: ChunkId(int("id")? as u64),
        doc_id: DocId(int("doc")? as u64),
        path: string("path")?.to_string(),
        title: string("title")?.to_string(),
        breadcrumb: if crumbs.is_empty() {
            Vec::new()
        } else {
            crumbs.split(CRUMB_SEPARATOR).map(str::to_string).collect()
        },
        text: string("text")?.to_string(),
        range: int("start")? as usize..int("end")? as usize,
        line: int("line")? as u32,
        place: Place {
            page: opt("page")?,
            page_end: opt("page_end")?,
            paragraph: opt("paragraph")?,
        },
        // E-mail headers are not stored in the collection (yet): hits from Milvus show them in
        // the title only.
        mail: None,
    })
}

/// A chunk as a row to upsert.
fn row(r: &RemoteRow) -> serde_json::Value {
    let c = &r.chunk;
    let crumbs = c.breadcrumb.join(&CRUMB_SEPARATOR.to_string());
    json!({
        "id": c.chunk_id.0 as i64,
        "doc": c.doc_id.0 as i64,
        "path": c.path,
        "title": truncate(&c.title),
        "crumbs": truncate(&crumbs),
        "start": c.range.start as i64,
        "end": c.range.end as i64,
        "line": i64::from(c.line),
        "page": i64::from(c.place.page.unwrap_or(0)),
        "page_end": i64::from(c.place.page_end.unwrap_or(0)),
        "paragraph": i64::from(c.place.paragraph.unwrap_or(0)),
        "text": c.text,
        "dense": r.vector,
    })
}

/// A title or breadcrumb cut to what a VarChar field holds (on a character boundary).
fn truncate(s: &str) -> &str {
    let max = MAX_TEXT as usize;
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl RemoteIndex for MilvusIndex {
    fn name(&self) -> &str {
        &self.name
    }

    fn manifest_json(&self) -> Result<Option<String>> {
        if !self.exists()? {
            return Ok(None);
        }
        Ok(self.properties()?.remove(MANIFEST_PROPERTY))
    }

    fn prepare(&self, dim: usize, fresh: bool) -> Result<()> {
        if self.exists()? {
            if !self.properties()?.contains_key(FORMAT_PROPERTY) {
                return Err(Error::Remote {
                    server: self.name.clone(),
                    action: "opening the collection".into(),
                    cause: format!(
                        "collection {:?} exists but was not created by lexsearch (it would be \
                         overwritten); name another collection in --backend",
                        self.collection
                    ),
                });
            }
            if !fresh {
                return self.load();
            }
            self.drop_collection()?;
        }
        self.create(dim)
    }

    fn delete_from(&self, first: ChunkId) -> Result<()> {
        self.delete_where(
            format!("id >= {}", first.0),
            "deleting what an interrupted run sent",
        )
    }

    fn upsert(&self, rows: &[RemoteRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let action = format!("upserting {} chunks", rows.len());
        let insert = sdk::request::dml::InsertRequest::builder()
            .collection_name(&self.collection)
            .rows(rows.iter().map(row).collect::<Vec<_>>())
            .build()
            .map_err(self.fail(action.clone()))?;
        let request = sdk::request::dml::UpsertRequest::builder()
            .insert(insert)
            .build()
            .map_err(self.fail(action.clone()))?;
        let response = self
            .runtime
            .block_on(self.client.upsert(request))
            .map_err(self.fail(action.clone()))?;
        let acknowledged = response.upsert_count() as usize;
        if acknowledged != rows.len() {
            return Err(Error::Remote {
                server: self.name.clone(),
                action,
                cause: format!("the server acknowledged {acknowledged} rows"),
            });
        }
        Ok(())
    }

    fn delete(&self, ids: &[ChunkId]) -> Result<()> {
        for batch in ids.chunks(1000) {
            let list: Vec<String> = batch.iter().map(|id| id.0.to_string()).collect();
            self.delete_where(
                format!("id in [{}]", list.join(",")),
                &format!("deleting {} chunks", batch.len()),
            )?;
        }
        Ok(())
    }

    fn commit(&self, manifest_json: &str) -> Result<()> {
        let request = FlushRequest::builder()
            .collection_names([self.collection.as_str()])
            .wait_flushed_ms(600_000)
            .build()
            .map_err(self.fail("flushing"))?;
        self.runtime
            .block_on(self.client.flush(request))
            .map_err(self.fail("flushing"))?;
        let request = AlterCollectionPropertiesRequest::builder()
            .collection_name(&self.collection)
            .properties(HashMap::from([(
                MANIFEST_PROPERTY.to_string(),
                manifest_json.to_string(),
            )]))
            .build()
            .map_err(self.fail("recording the manifest"))?;
        self.runtime
            .block_on(self.client.alter_collection_properties(request))
            .map_err(self.fail("recording the manifest"))
    }

    fn count(&self) -> Result<u64> {
        let request = QueryRequest::builder()
            .collection_name(&self.collection)
            .output_fields(["count(*)"])
            .consistency_level(sdk::ConsistencyLevel::Strong)
            .build()
            .map_err(self.fail("counting chunks"))?;
        let response = self
            .runtime
            .block_on(self.client.query(request))
            .map_err(self.fail("counting chunks"))?;
        let mut rows = response
            .results()
            .rows()
            .map_err(self.fail("counting chunks"))?;
        let n = match rows.next() {
            Some(row) => row
                .get_i64("count(*)")
                .map_err(self.fail("counting chunks"))?,
            None => 0,
        };
        Ok(n.max(0) as u64)
    }

    fn keyword(&self, query: &str, k: usize) -> Result<Vec<(ChunkId, f32)>> {
        let found = self.search_field(
            "sparse",
            SearchVectors::EmbeddedText(vec![query.to_string()]),
            k,
            "keyword search",
        )?;
        // BM25 scores are positive (some servers report them negated).
        Ok(found.into_iter().map(|(id, s)| (id, s.abs())).collect())
    }

    fn semantic(&self, vector: &[f32], k: usize) -> Result<Vec<(ChunkId, f32)>> {
        self.search_field(
            "dense",
            SearchVectors::Float(vec![vector.to_vec()]),
            k,
            "semantic search",
        )
    }

    fn hybrid(
        &self,
        query: &str,
        vector: &[f32],
        k: usize,
        fusion: ServerFusion,
    ) -> Result<Vec<(ChunkId, f32)>> {
        let action = "hybrid search";
        let keyword = SubSearchRequest::builder()
            .vector_field("sparse")
            .vectors(SearchVectors::EmbeddedText(vec![query.to_string()]))
            .limit(k as i64)
            .build()
            .map_err(self.fail(action))?;
        let semantic = SubSearchRequest::builder()
            .vector_field("dense")
            .vectors(SearchVectors::Float(vec![vector.to_vec()]))
            .limit(k as i64)
            .build()
            .map_err(self.fail(action))?;
        let builder = HybridSearchRequest::builder()
            .collection_name(&self.collection)
            .sub_requests(vec![keyword, semantic])
            .output_fields(FIELDS)
            .limit(k as i64)
            .consistency_level(sdk::ConsistencyLevel::Strong);
        let builder = match fusion {
            ServerFusion::Rrf { k } => builder.rerank(RRFRerank::new().k(k.round() as i64)),
            ServerFusion::Weighted { keyword, semantic } => {
                builder.rerank(WeightedRerank::new().weights(vec![keyword, semantic]))
            }
        };
        let request = builder.build().map_err(self.fail(action))?;
        let response = self
            .runtime
            .block_on(self.client.hybrid_search(request))
            .map_err(self.fail(action))?;
        self.collect(response.results(), action)
    }

    fn fetch(&self, id: ChunkId) -> Result<Option<StoredChunk>> {
        if let Some(c) = self.seen.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
            return Ok(Some(c.clone()));
        }
        let action = "reading a chunk";
        let request = QueryRequest::builder()
            .collection_name(&self.collection)
            .filter(format!("id == {}", id.0))
            .output_fields(FIELDS)
            .consistency_level(sdk::ConsistencyLevel::Strong)
            .build()
            .map_err(self.fail(action))?;
        let response = self
            .runtime
            .block_on(self.client.query(request))
            .map_err(self.fail(action))?;
        let mut rows = response.results().rows().map_err(self.fail(action))?;
        match rows.next() {
            Some(row) => Ok(Some(stored(&row).map_err(|e| self.fail(action)(*e))?)),
            None => Ok(None),
        }
    }
}
