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
//! page_breaks VarChar                 where each later page begins in the chunk's text
//!                                     (byte offsets, comma-separated; empty for most)
//! text       VarChar                  the chunk's text, as shown
//! mail       VarChar                  e-mail headers (JSON), empty for other documents
//! body, context, exact  VarChar, analyzer  the terms the local keyword index holds in its
//!                                     fields of these names, joined by spaces
//! body_sparse, context_sparse, exact_sparse  SparseFloatVector  BM25 function output of each
//!                                     (SPARSE_INVERTED_INDEX, k1 = 1.2, b = 0.75 as tantivy)
//! dense      FloatVector(dim)         the embedding (HNSW, COSINE)
//! ```
//!
//! The keyword fields hold terms already analysed by lexsearch's own analyzers
//! ([`KeywordIndex::chunk_terms`]: lowercased, English-stemmed, citations kept whole), each
//! term a single word for the server's tokenizer (a term with other characters than ASCII
//! letters and digits is written as `x` and its hex bytes). Queries are analysed the same
//! way, so the server's BM25 sees tantivy's terms whatever its own analyzers do. The keyword
//! arm is one hybrid search of the three sparse fields summed with the local index's field
//! weights (`WeightedRanker` without normalisation).
//!
//! Collection properties: `lexsearch.format` (set when lexsearch creates the collection: 3;
//! a collection of format 2, written before `page_breaks` was kept, is still searched and
//! updated without it, its pinpoints on their chunk's first page) and
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

use super::keyword::{FieldTerms, KeywordIndex, Place, StoredChunk};
use super::remote::{RemoteIndex, RemoteRow, RemoteUrl, ServerFusion};
use crate::ids::{ChunkId, DocId};
use crate::{Error, Result};

const FORMAT_PROPERTY: &str = "lexsearch.format";
const MANIFEST_PROPERTY: &str = "lexsearch.manifest";
/// The collection's layout: 1 had one `text` field analysed by the server; 2 holds
/// lexsearch's analysed terms per keyword field and the e-mail headers; 3 adds the page
/// breaks inside each chunk.
const FORMAT: &str = "3";
/// The last layout without `page_breaks`, still read and written.
const FORMAT_WITHOUT_PAGES: &str = "2";
const CRUMB_SEPARATOR: char = '\u{1f}';
/// Stored fields a hit needs (and `page_breaks`, where the collection has it).
const FIELDS: [&str; 13] = [
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
    "mail",
];
/// The keyword fields, in the order of [`KeywordIndex::chunk_terms`].
const KEYWORD_FIELDS: [&str; 3] = ["body", "context", "exact"];
/// How long a connection may take before the server is reported unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
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
    /// Whether the collection keeps page breaks (format 3), once known.
    pages: Mutex<Option<bool>>,
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
            .connect_timeout(CONNECT_TIMEOUT)
            // No HTTP/2 pings on an idle connection (the SDK's default pings every 10 s):
            // gRPC servers with the default ping policy, such as milvus-lite, close a
            // connection that pings without calls ("too many pings"), and an index run is
            // idle while it embeds.
            .keepalive_while_idle(false)
            .keepalive_time(Duration::from_secs(300));
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
            pages: Mutex::new(None),
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

    /// Whether the collection keeps page breaks: every collection this version creates, not
    /// one of format 2 (read from its properties once).
    fn keeps_pages(&self) -> Result<bool> {
        let known = *self.pages.lock().unwrap_or_else(|p| p.into_inner());
        match known {
            Some(keeps) => Ok(keeps),
            None => {
                let keeps = keeps_pages(&self.properties()?);
                self.remember_pages(keeps);
                Ok(keeps)
            }
        }
    }

    fn remember_pages(&self, keeps: bool) {
        *self.pages.lock().unwrap_or_else(|p| p.into_inner()) = Some(keeps);
    }

    /// The stored fields a hit is read from.
    fn output_fields(&self) -> Result<Vec<&'static str>> {
        Ok(output_fields(self.keeps_pages()?))
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
        let mut schema = sdk::CollectionSchema::new()
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
            .add_field(text("text", MAX_TEXT))
            .add_field(text("mail", MAX_TEXT))
            .add_field(text("page_breaks", MAX_TEXT))
            .add_field(
                sdk::FieldSchema::new()
                    .name("dense")
                    .data_type(sdk::DataType::FloatVector)
                    .dimension(dim as u32),
            );
        let mut index_params = vec![
            IndexParam::new()
                .field_name("dense")
                .index_type(IndexType::Hnsw)
                .metric_type(MetricType::Cosine),
        ];
        for field in KEYWORD_FIELDS {
            let sparse = format!("{field}_sparse");
            schema = schema
                .add_field(
                    text(field, MAX_TEXT)
                        .enable_analyzer(true)
                        // The terms are lexsearch's; the server only splits them.
                        .analyzer_params(json!({"tokenizer": "standard"})),
                )
                .add_field(
                    sdk::FieldSchema::new()
                        .name(&sparse)
                        .data_type(sdk::DataType::SparseFloatVector),
                )
                .add_function(
                    Function::new()
                        .name(format!("{field}_bm25"))
                        .function_type(FunctionType::Bm25)
                        .input_fields([field])
                        .output_fields([sparse.as_str()]),
                );
            index_params.push(
                IndexParam::new()
                    .field_name(&sparse)
                    .index_type(IndexType::SparseInvertedIndex)
                    .metric_type(MetricType::Bm25)
                    .extra_params(HashMap::from([
                        ("bm25_k1".to_string(), "1.2".to_string()),
                        ("bm25_b".to_string(), "0.75".to_string()),
                    ])),
            );
        }
        let request = sdk::request::collection::CreateCollectionRequest::builder()
            .collection_name(&self.collection)
            .schema(schema)
            .index_params(index_params)
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
        self.remember_pages(true);
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
        let pages = self.keeps_pages()?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        for result in results.get_results() {
            let scores = result.get_scores();
            for (row, score) in result.rows().map_err(self.fail(action))?.zip(scores) {
                let chunk = stored(&row, pages).map_err(|e| self.fail(action)(*e))?;
                out.push((chunk.chunk_id, *score));
                seen.insert(chunk.chunk_id, chunk);
            }
        }
        Ok(out)
    }

    /// A search of `terms` in their field's BM25 output, or `None` when there are none.
    fn terms_request(
        &self,
        terms: &FieldTerms,
        k: usize,
        action: &str,
    ) -> Result<Option<SubSearchRequest>> {
        if terms.terms.is_empty() {
            return Ok(None);
        }
        let request = SubSearchRequest::builder()
            .vector_field(format!("{}_sparse", terms.field))
            .vectors(SearchVectors::EmbeddedText(vec![server_terms(
                &terms.terms,
            )]))
            .limit(k as i64)
            .build()
            .map_err(self.fail(action))?;
        Ok(Some(request))
    }

    /// One hybrid search of `arms`, fused by `rerank`: the best `k` chunks.
    fn hybrid_request(
        &self,
        arms: Vec<SubSearchRequest>,
        rerank: Function,
        k: usize,
        action: &str,
    ) -> Result<Vec<(ChunkId, f32)>> {
        let request = HybridSearchRequest::builder()
            .collection_name(&self.collection)
            .sub_requests(arms)
            .output_fields(self.output_fields()?)
            .limit(k as i64)
            .consistency_level(sdk::ConsistencyLevel::Strong)
            .rerank(rerank)
            .build()
            .map_err(self.fail(action))?;
        let response = self
            .runtime
            .block_on(self.client.hybrid_search(request))
            .map_err(self.fail(action))?;
        self.collect(response.results(), action)
    }

    /// The stored chunks that `filter` (a Milvus expression) selects, at most `limit`.
    fn query_chunks(
        &self,
        filter: String,
        limit: Option<i64>,
        action: &str,
    ) -> Result<Vec<StoredChunk>> {
        let request = QueryRequest::builder()
            .collection_name(&self.collection)
            .filter(filter)
            .output_fields(self.output_fields()?)
            .consistency_level(sdk::ConsistencyLevel::Strong);
        let request = match limit {
            Some(n) => request.limit(n),
            None => request,
        }
        .build()
        .map_err(self.fail(action))?;
        let response = self
            .runtime
            .block_on(self.client.query(request))
            .map_err(self.fail(action))?;
        let pages = self.keeps_pages()?;
        let rows = response.results().rows().map_err(self.fail(action))?;
        rows.map(|row| stored(&row, pages).map_err(|e| self.fail(action)(*e)))
            .collect()
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
            .output_fields(self.output_fields()?)
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
    crate::error::chain(e)
}

/// Whether a call failed because the connection under it broke (a server restarted, or a
/// connection closed while idle), rather than because the server refused it.
fn connection_lost(e: &SdkError) -> bool {
    let text = cause(e);
    text.contains("transport error") || text.contains("broken pipe")
}

/// Whether a collection with these properties keeps page breaks: all but format 2 (a
/// collection of another format is refused before it is read or written).
fn keeps_pages(properties: &HashMap<String, String>) -> bool {
    properties.get(FORMAT_PROPERTY).map(String::as_str) != Some(FORMAT_WITHOUT_PAGES)
}

/// The stored fields a hit is read from, with `page_breaks` where the collection keeps them.
fn output_fields(pages: bool) -> Vec<&'static str> {
    let mut fields = FIELDS.to_vec();
    if pages {
        fields.push("page_breaks");
    }
    fields
}

/// Page breaks as one string: byte offsets, comma-separated.
fn page_breaks_text(breaks: &[usize]) -> String {
    let list: Vec<String> = breaks.iter().map(usize::to_string).collect();
    list.join(",")
}

/// Page breaks read back; a malformed list (not written by lexsearch) reads as none, so
/// pinpoints fall back to the chunk's first page.
fn parse_page_breaks(text: &str) -> Vec<usize> {
    if text.is_empty() {
        return Vec::new();
    }
    text.split(',')
        .map(str::parse)
        .collect::<std::result::Result<Vec<usize>, _>>()
        .unwrap_or_default()
}

/// A chunk from a result row's stored fields (`pages`: whether the row has `page_breaks`).
fn stored(row: &ResultRow<'_>, pages: bool) -> std::result::Result<StoredChunk, Box<SdkError>> {
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
        mail: match string("mail")? {
            "" => None,
            json => serde_json::from_str(json).ok(),
        },
        // Not kept in a collection of format 2: a pinpoint's page is its chunk's first page.
        page_breaks: if pages {
            parse_page_breaks(string("page_breaks")?)
        } else {
            Vec::new()
        },
    })
}

/// A chunk as a row to upsert (`pages`: whether the collection keeps page breaks).
fn row(r: &RemoteRow, pages: bool) -> serde_json::Value {
    let c = &r.chunk;
    let crumbs = c.breadcrumb.join(&CRUMB_SEPARATOR.to_string());
    let mut value = json!({
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
        "mail": c.mail.as_ref().and_then(|m| serde_json::to_string(m).ok()).unwrap_or_default(),
        "dense": r.vector,
    });
    if let Some(map) = value.as_object_mut() {
        if pages {
            map.insert(
                "page_breaks".to_string(),
                json!(page_breaks_text(&c.page_breaks)),
            );
        }
        for f in KeywordIndex::chunk_terms(c) {
            map.insert(
                f.field.to_string(),
                json!(truncate(&server_terms(&f.terms))),
            );
        }
    }
    value
}

/// Terms as one string the server's tokenizer splits back into exactly these terms: ASCII
/// letters and digits pass as they are, any other term is written `x` and its bytes in hex
/// (`7.2(a)` becomes `x372e32286129`).
fn server_terms(terms: &[String]) -> String {
    let mut out = String::new();
    for t in terms {
        if !out.is_empty() {
            out.push(' ');
        }
        if t.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            out.push_str(t);
        } else {
            out.push('x');
            for b in t.bytes() {
                out.push_str(&format!("{b:02x}"));
            }
        }
    }
    out
}

/// `text` as a string literal of a Milvus filter expression: in double quotes, with
/// backslashes and double quotes escaped.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A title, breadcrumb or term list cut to what a VarChar field holds (on a character
/// boundary).
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
        let mut properties = self.properties()?;
        match properties.get(FORMAT_PROPERTY).map(String::as_str) {
            Some(FORMAT | FORMAT_WITHOUT_PAGES) | None => {
                self.remember_pages(keeps_pages(&properties));
                Ok(properties.remove(MANIFEST_PROPERTY))
            }
            Some(other) => Err(Error::Remote {
                server: self.name.clone(),
                action: "opening the collection".into(),
                cause: format!(
                    "collection {:?} has the layout of another lexsearch version (format \
                     {other}, this one writes {FORMAT}: lexsearch's analysed keyword fields, \
                     e-mail headers and page breaks); re-index it with `lexsearch index DIR \
                     --backend {} --rebuild`",
                    self.collection, self.name
                ),
            }),
        }
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
        let pages = self.keeps_pages()?;
        let json: Vec<serde_json::Value> = rows.iter().map(|r| row(r, pages)).collect();
        let send = || async {
            let insert = sdk::request::dml::InsertRequest::builder()
                .collection_name(&self.collection)
                .rows(json.clone())
                .build()?;
            let request = sdk::request::dml::UpsertRequest::builder()
                .insert(insert)
                .build()?;
            self.client.upsert(request).await
        };
        // An upsert replaces rows by id, so sending it again is safe: once, when the
        // connection was lost under it (the channel reconnects).
        let response = match self.runtime.block_on(send()) {
            Err(e) if connection_lost(&e) => self.runtime.block_on(send()),
            other => other,
        }
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
        let action = "keyword search";
        let mut arms = Vec::new();
        let mut weights = Vec::new();
        for f in KeywordIndex::query_field_terms(query) {
            if let Some(arm) = self.terms_request(&f, k.saturating_mul(2), action)? {
                arms.push(arm);
                weights.push(f.boost);
            }
        }
        if arms.is_empty() {
            return Ok(Vec::new());
        }
        // The local BM25 sum over fields: raw scores, weighted, not normalised.
        let sum = Function::new()
            .function_type(FunctionType::Rerank)
            .param("reranker", "weighted")
            .param("strategy", "weighted")
            .param("weights", json!(weights).to_string())
            .param("norm_score", "false")
            .param(
                "params",
                json!({"weights": weights, "norm_score": false}).to_string(),
            );
        // BM25 scores are positive (some servers report them negated).
        let found = self.hybrid_request(arms, sum, k, action)?;
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
        // Milvus's own hybrid search has one keyword arm: the body field.
        let [body, ..] = KeywordIndex::query_field_terms(query);
        let mut arms = Vec::new();
        let mut weights = Vec::new();
        if let Some(arm) = self.terms_request(&body, k, action)? {
            arms.push(arm);
            weights.push(match fusion {
                ServerFusion::Weighted { keyword, .. } => keyword,
                ServerFusion::Rrf { .. } => 1.0,
            });
        }
        arms.push(
            SubSearchRequest::builder()
                .vector_field("dense")
                .vectors(SearchVectors::Float(vec![vector.to_vec()]))
                .limit(k as i64)
                .build()
                .map_err(self.fail(action))?,
        );
        let rerank: Function = match fusion {
            ServerFusion::Rrf { k } => RRFRerank::new().k(k.round() as i64).into(),
            ServerFusion::Weighted { semantic, .. } => {
                weights.push(semantic);
                WeightedRerank::new().weights(weights).into()
            }
        };
        self.hybrid_request(arms, rerank, k, action)
    }

    fn chunks_in(&self, ids: std::ops::Range<u64>) -> Result<Vec<StoredChunk>> {
        self.query_chunks(
            format!(
                "id >= {} && id < {}",
                ids.start,
                ids.end.min(i64::MAX as u64)
            ),
            Some(ids.end.saturating_sub(ids.start).min(16_384) as i64),
            "reading chunks",
        )
    }

    fn chunks_of_file(&self, path: &str) -> Result<Vec<StoredChunk>> {
        let mut chunks = self.query_chunks(
            format!("path == {}", quoted(path)),
            Some(16_384),
            "reading a file's chunks",
        )?;
        chunks.sort_by_key(|c| (c.range.start, c.range.end));
        Ok(chunks)
    }

    fn vector(&self, id: ChunkId) -> Result<Option<Vec<f32>>> {
        let action = "reading a chunk's vector";
        let request = QueryRequest::builder()
            .collection_name(&self.collection)
            .filter(format!("id == {}", id.0))
            .output_fields(["dense"])
            .consistency_level(sdk::ConsistencyLevel::Strong)
            .build()
            .map_err(self.fail(action))?;
        let response = self
            .runtime
            .block_on(self.client.query(request))
            .map_err(self.fail(action))?;
        let mut rows = response.results().rows().map_err(self.fail(action))?;
        match rows.next() {
            Some(row) => Ok(Some(
                row.get_float_vector("dense")
                    .map_err(self.fail(action))?
                    .to_vec(),
            )),
            None => Ok(None),
        }
    }

    fn fetch(&self, id: ChunkId) -> Result<Option<StoredChunk>> {
        if let Some(c) = self.seen.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
            return Ok(Some(c.clone()));
        }
        let found = self.query_chunks(format!("id == {}", id.0), None, "reading a chunk")?;
        Ok(found.into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_reach_the_server_as_single_words() {
        let terms = ["termin", "7.2(a)", "§", "1983", "café"].map(String::from);
        assert_eq!(
            server_terms(&terms),
            "termin x372e32286129 xc2a7 1983 x636166c3a9"
        );
        assert_eq!(server_terms(&[]), "");
    }

    fn paged_row() -> RemoteRow {
        RemoteRow {
            chunk: StoredChunk {
                chunk_id: ChunkId(7),
                doc_id: DocId(2),
                path: "lease.pdf".into(),
                title: "Lease".into(),
                breadcrumb: vec!["ARTICLE 5".into()],
                text: "Notices. A notice is effective upon receipt.".into(),
                range: 100..144,
                line: 3,
                place: Place {
                    page: Some(4),
                    page_end: Some(6),
                    paragraph: None,
                },
                mail: None,
                page_breaks: vec![9, 30],
            },
            vector: vec![0.5, -0.5],
        }
    }

    #[test]
    fn page_breaks_are_sent_only_to_collections_that_keep_them() {
        let r = paged_row();
        let v = row(&r, true);
        assert_eq!(v["page_breaks"], "9,30");
        assert_eq!(
            parse_page_breaks(v["page_breaks"].as_str().unwrap()),
            [9, 30]
        );
        // A collection of format 2 has no such field: the server would refuse the row.
        assert!(row(&r, false).get("page_breaks").is_none());
        assert_eq!(row(&r, true)["page"], 4);
        let mut single = r.clone();
        single.chunk.page_breaks.clear();
        assert_eq!(row(&single, true)["page_breaks"], "");
        assert_eq!(parse_page_breaks(""), Vec::<usize>::new());
        // Not lexsearch's list: no breaks, so pinpoints keep to the chunk's first page.
        assert_eq!(parse_page_breaks("9,x"), Vec::<usize>::new());
    }

    #[test]
    fn paths_are_quoted_for_filter_expressions() {
        assert_eq!(quoted("leases/a.txt"), r#""leases/a.txt""#);
        assert_eq!(
            quoted(r#"my "best" \lease.txt"#),
            r#""my \"best\" \\lease.txt""#
        );
    }

    #[test]
    fn collections_of_format_2_are_read_without_page_breaks() {
        let props =
            |format: &str| HashMap::from([(FORMAT_PROPERTY.to_string(), format.to_string())]);
        assert!(keeps_pages(&props(FORMAT)));
        assert!(!keeps_pages(&props(FORMAT_WITHOUT_PAGES)));
        assert!(output_fields(true).contains(&"page_breaks"));
        assert!(!output_fields(false).contains(&"page_breaks"));
        assert_eq!(output_fields(false), FIELDS);
    }
}
