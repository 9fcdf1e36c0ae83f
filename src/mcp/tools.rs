//! The MCP tools, their argument schemas and the descriptions a model reads, on `rmcp`.
//!
//! A call whose arguments do not match the schema is refused by the SDK with a tool error
//! ("failed to deserialize parameters"), an unknown tool with a JSON-RPC error. A call the
//! tool cannot answer (a path outside the index, a range
//! past the file, `k` too large) returns a tool error (`isError: true`) whose text says what
//! to change: MCP clients show those to the model, which can then correct the call.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ErrorData, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;

use super::documents::{Backend, DEFAULT_K, SearchCall, ToolError};
use crate::search::Mode;
use crate::search::documents::PassageRequest;

/// How the server introduces itself to the model.
const INSTRUCTIONS: &str = "lexsearch searches one folder of legal documents (contracts, \
opinions, statutes, memos) on this machine. Use `search` to find passages, then \
`get_passage` with a hit's `file`, `start_byte` and `end_byte` (widen the range to read \
around it), `get_document_outline` to see a document's articles and sections, and \
`get_defined_terms` for the terms a contract defines (or `search` with `define:\"Term\"` \
for a term's definitions in every document). `status` lists the indexed files. Cite hits by file and page, paragraph or line.";

/// Which arms a search runs.
#[derive(Debug, Clone, Copy, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ModeArg {
    /// Keyword and semantic search fused (the default; best for most questions).
    #[default]
    Hybrid,
    /// BM25 on words, stems and citations only (exact terms, section numbers).
    Keyword,
    /// Embedding similarity only (paraphrases, concepts).
    Semantic,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Hybrid => Mode::Hybrid,
            ModeArg::Keyword => Mode::Keyword,
            ModeArg::Semantic => Mode::Semantic,
        }
    }
}

/// Arguments of `search`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// What to look for: words, a natural-language question, or a citation such as
    /// "§ 12-401" or "Section 7.2(a)". Chunks holding a "double-quoted phrase" exactly rank first,
    /// and a paragraph cited by its labels ("§ 42-3505.01(c-1)", "Section 7.2(a)") first of
    /// all, pinpointed, where a title or heading names the section.
    /// A word or quoted phrase starting with + must be in every hit (+arbitration,
    /// +"force majeure"), one starting with - in none (-mutual); words match in their stemmed
    /// form (-terminate also leaves out "termination"). In capitals, `a AND b` is +a +b,
    /// `a NOT b` (or `a % b`) is a -b, and `OR` only goes (a query all in capitals is text); a group in
    /// brackets beside them or beside a connector is any of its words: `(breach OR default)
    /// w/5 notice`, `cure AND (notice OR demand)`; pairs in brackets joined by OR are any of
    /// them (`(late w/3 fee) OR (late w/3 charge)`), brackets beside AND may hold
    /// conditions that all hold (`lease AND (late w/3 fee)`), and a pair in brackets beside a
    /// connector holds, a word of it that close to the other side (`(breach /s warranty) /p
    /// notice`), one after NOT is left out (`lease NOT (late w/3 fee)`); groups do not nest.
    /// `breach w/5 warranty` (or /5): the two words at
    /// most 5 positions apart, in either order; `breach /s warranty` in one sentence,
    /// `breach /p warranty` in one paragraph, `breach pre/5 warranty` (or +5) with "breach" first
    /// (`+s`, `+p`: first in one sentence, paragraph); a side may be a quoted phrase
    /// ("due process" /s "equal protection"); `indemnif! not w/5 negligen!` (also `not /s`,
    /// `not /p`) keeps the chunks with indemnif! at least once without negligen! that close;
    /// `atleast3(indemnif!)` those holding the word or root three times or more (a phrase
    /// too: `atleast2("hold harmless")`).
    /// `heading:termination` (or `heading:"events of default"`) keeps the passages under a
    /// heading, or of a document whose title or file name, holding those words;
    /// `-heading:definitions` leaves them out. `define:"Event of Default"` keeps the passages
    /// that define the term (`"X" means`, `(the "X")`, `is an "X"`), each pinpointed at its
    /// definition: what a contract means by a word.
    /// `negligen!` stands for any word that begins so
    /// (negligence, negligent), `wom*n` for woman and women, in any of these and in a quoted
    /// phrase (+"breach of contract!"). `sent:2020-03` keeps the e-mails (and their
    /// attachments) sent that day, month or year; also ranges (`sent:2019-11..2020-02-15`,
    /// `sent:2021..`) and comparisons (`sent:>=2020-06`, `sent:<2021`). `from:ann@firm.example`,
    /// `from:"Ann Lee"` and `to:client.example` keep the e-mails whose From, or To or Cc,
    /// holds those words; `folder:"Sent Items"` those in a folder so named (of an Outlook
    /// data file or a Maildir); `-from:`, `-to:`, `-folder:`, `-sent:` leave such e-mails
    /// out. `like:leases/a.txt:27` searches for passages like the one at that place (as
    /// like_chunk). May be empty ("") with like_chunk.
    pub query: String,
    /// hybrid (default), keyword or semantic.
    #[serde(default)]
    pub mode: ModeArg,
    /// Number of hits, 1 to 50 (default 10).
    #[serde(default)]
    pub k: Option<u64>,
    /// Search only files whose path matches this case-insensitive glob, relative to the
    /// indexed folder: `*` matches anything, `?` one character; without wildcards, any file
    /// whose path contains the text ("lease", "*.pdf", "2024/*"). The best k hits of those
    /// files come back, however many other files the index holds.
    #[serde(default)]
    pub path: Option<String>,
    /// At most this many hits from one file (1 or more); 1 lists the k best files, each by
    /// its best passage ("which of the NDAs allow disclosure to affiliates?").
    #[serde(default)]
    pub max_per_file: Option<u64>,
    /// Instead of a query: passages like the hit with this chunk_id (from a search's
    /// results), closest in meaning first, in other documents and its own: "find clauses
    /// like this one". The passage and the chunks overlapping it are left out; mode is then
    /// semantic, and query may be empty or add conditions (-word, +"phrase", sent:).
    #[serde(default)]
    pub like_chunk: Option<u64>,
    /// Lines of the document (0 to 10) before and after what each hit cites (its pinpoint,
    /// else its passage): each hit then has `context` {line, lines, match_line,
    /// match_end_line, passage_only}, the lines numbered from `line`, the cited ones
    /// match_line to match_end_line. passage_only is true (with why) when the file changed
    /// since indexing, and the lines are then the indexed passage alone.
    #[serde(default)]
    pub context_lines: Option<u64>,
}

/// Arguments of `get_passage`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PassageArgs {
    /// The file, relative to the indexed folder, exactly as a search hit's `file` (or the
    /// hit's absolute `path`).
    pub file: String,
    /// First byte of the extracted text, as a hit's `start_byte`.
    #[serde(default)]
    pub start_byte: Option<u64>,
    /// End byte, exclusive, as a hit's `end_byte` (default start_byte + 4000).
    #[serde(default)]
    pub end_byte: Option<u64>,
    /// Instead of bytes: the first line, 1-based, as a hit's `line`.
    #[serde(default)]
    pub start_line: Option<u64>,
    /// The last line, inclusive (default start_line + 39).
    #[serde(default)]
    pub end_line: Option<u64>,
    /// With start_line (or start_byte) alone: the whole section holding that line instead,
    /// from its heading to the next (the clause, not its article; 40 lines when no heading
    /// holds it).
    #[serde(default)]
    pub section: bool,
    /// Instead of a range: the section under the document's first heading numbered or named
    /// so, whole: "7.1", "7" (ARTICLE 7), "IV", or the heading's first words ("Section 7.1",
    /// "Article 7", "Definitions"), or a statute's paragraph by its labels ("(c-1)(2)"), or a
    /// citation as the passage writes it ("Section 7.2(b)"; "§ 42-3401.03(17)", a section of
    /// a code the document does not hold, is read from the indexed file that is that section:
    /// the answer's file names it).
    #[serde(default)]
    pub heading: Option<String>,
}

/// Arguments of `get_document_outline` and `get_defined_terms`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutlineArgs {
    /// The file, relative to the indexed folder, as a search hit's `file`.
    pub file: String,
}

/// The lexsearch MCP server: five read-only tools over one index.
#[derive(Clone)]
pub struct LexsearchMcp {
    backend: Arc<Backend>,
    tool_router: ToolRouter<Self>,
}

/// Runs `work` on the blocking pool (searches embed the query on the CPU) and turns its
/// answer into a tool result: the JSON as structured content and as text, or the error's
/// message as a tool error.
async fn answer<T, F>(backend: &Arc<Backend>, work: F) -> Result<CallToolResult, ErrorData>
where
    T: serde::Serialize + Send + 'static,
    F: FnOnce(&Backend) -> Result<T, ToolError> + Send + 'static,
{
    let backend = backend.clone();
    let done = tokio::task::spawn_blocking(move || work(&backend))
        .await
        .map_err(|e| ErrorData::internal_error(format!("the tool stopped: {e}"), None))?;
    // Through text, as `search --json` prints it: an f32 score stays 0.8069697, not the
    // 0.8069697022438049 that converting it to a JSON value directly would give.
    let json = |v: T| -> Result<serde_json::Value, ToolError> {
        Ok(serde_json::from_str(&serde_json::to_string(&v)?)?)
    };
    match done.and_then(json) {
        Ok(value) => Ok(CallToolResult::structured(value)),
        Err(e) => Ok(CallToolResult::error(vec![ContentBlock::text(format!(
            "error: {e}"
        ))])),
    }
}

#[tool_router]
impl LexsearchMcp {
    /// A server over `backend`.
    pub fn new(backend: Arc<Backend>) -> Self {
        LexsearchMcp {
            backend,
            tool_router: Self::tool_router(),
        }
    }

    /// `search`.
    #[tool(
        description = "Search the indexed legal documents (keyword, semantic or both fused). \
Returns the best passages, best first, as {query, mode, k, fusion, hits, keyword_terms, elapsed}; \
each hit has rank, score, file (relative path), path, title, breadcrumb (headings above it), \
line, page (PDF) or paragraph (DOCX), start_byte and end_byte (its range in the document's \
extracted text), the whole chunk text, a snippet with highlights, and each arm's rank and \
score; `copies` lists the other places holding exactly the same text (a template in many \
matters), which are not hits of their own; `changed` is true when the file was edited after the \
index was last updated (its text may differ). context_lines: N adds each hit's N lines before \
and after, numbered. Read more around a hit with get_passage.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn search(
        &self,
        Parameters(args): Parameters<SearchArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let call = SearchCall {
            query: args.query,
            mode: args.mode.into(),
            k: args.k.unwrap_or(DEFAULT_K),
            path: args.path,
            max_per_file: args.max_per_file,
            like: args.like_chunk,
            context_lines: args.context_lines,
        };
        answer(&self.backend, move |b| b.search(&call)).await
    }

    /// `get_passage`.
    #[tool(
        description = "Read a passage of an indexed document by byte range (start_byte, \
end_byte, as in search hits; ranges are offsets into the document's extracted text) or by \
line range (start_line, end_line). Widen a hit's range to read around it, or give a hit's \
line as start_line with section: true to read the whole clause that holds it, from its \
heading to the next, or a heading's number or first words (heading: 7.1, Article 7) to \
read that section, or a citation the text makes (heading: \"§ 42-3401.03(17)\", \
\"Section 7.2(b)\") to read the paragraph it cites, in the document or, for a code's section \
the document does not hold, in the indexed file that is that section. Returns the text \
with its file, breadcrumb, line, end_line, page or paragraph, and the document's size \
(document_bytes, document_lines). At most 16000 bytes are returned (truncated: true when \
cut). Only files listed in the index are read.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_passage(
        &self,
        Parameters(args): Parameters<PassageArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let call = PassageRequest {
            file: args.file,
            start_byte: args.start_byte,
            end_byte: args.end_byte,
            start_line: args.start_line,
            end_line: args.end_line,
            section: args.section,
            heading: args.heading,
        };
        answer(&self.backend, move |b| b.passage(&call)).await
    }

    /// `get_document_outline`.
    #[tool(
        description = "The headings of an indexed document (articles, sections, numbered \
clauses, capitalised titles), in order, each with its level (1 = outermost), line, page \
(PDF) and the byte range of its section (start_byte, end_byte), which get_passage reads. \
Also the document's title, size and number of indexed chunks.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_document_outline(
        &self,
        Parameters(args): Parameters<OutlineArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        answer(&self.backend, move |b| b.outline(&args.file)).await
    }

    /// `get_defined_terms`.
    #[tool(
        description = "The terms an indexed document defines (\"Affiliate\" means ..., (the \"Services\"), is an \"Event of Default\"), each once, in order, with the line, page (PDF) and byte range (start_byte, end_byte) of the sentence of its first definition and that sentence (text): the document's glossary, to read a capitalised term as the document means it.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_defined_terms(
        &self,
        Parameters(args): Parameters<OutlineArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        answer(&self.backend, move |b| b.defined_terms(&args.file)).await
    }

    /// `status`.
    #[tool(
        description = "What is indexed: the indexed folder (root), the number of documents \
and chunks, the list of indexed files (relative paths, as search hits name them), the \
embedding model, and when the index was last updated (updated, ISO 8601 UTC).",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn status(&self) -> Result<CallToolResult, ErrorData> {
        answer(&self.backend, |b| b.status()).await
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for LexsearchMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("lexsearch", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}
