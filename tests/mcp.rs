//! `lexsearch mcp` driven by a real MCP client: the official Python SDK (tests/mcp_client.py),
//! over stdio and over streamable HTTP, its answers checked against `lexsearch search --json`
//! on the same index.
//!
//! The client runs with the Python of LEXSEARCH_MCP_PYTHON, else of
//! ~/.cache/lexsearch/mcp-venv (both made by scripts/test); without it these tests skip, unless
//! LEXSEARCH_REQUIRE_MCP=1 (set by scripts/test).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{
    hit_chunk_ids, hit_files as files, index_folder, lexsearch, real_model, repo, sample_corpus,
};

/// How long a client session may take (it starts the server and loads the model).
const PATIENCE: Duration = Duration::from_secs(180);

/// The part of the sample corpus these tests index (a few seconds, not a minute).
const CORPUS_FILES: [&str; 4] = [
    "commercial-lease.txt",
    "nda.md",
    "software-license.md",
    "privacy-policy.html",
];

/// Text of the file outside the indexed folder that a link inside it points to.
const SECRET: &str = "Privileged strategy memo kept outside the matter folder.";

/// The Python with the MCP SDK, or `None` (with a message) when absent and not required.
pub(crate) fn mcp_python() -> Option<PathBuf> {
    let python = std::env::var_os("LEXSEARCH_MCP_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/lexsearch/mcp-venv/bin/python"))
        })?;
    if python.is_file() {
        return Some(python);
    }
    if std::env::var("LEXSEARCH_REQUIRE_MCP").as_deref() == Ok("1") {
        panic!(
            "LEXSEARCH_REQUIRE_MCP=1 but no MCP client Python at {}: run scripts/test",
            python.display()
        );
    }
    eprintln!(
        "SKIPPED: the Python MCP SDK is not at {}; scripts/test installs it",
        python.display()
    );
    None
}

/// Part of the sample corpus plus a file that, once indexed, is replaced by a link to a file
/// outside the folder, indexed with the real model: (the folder, its index). Shared by the
/// tests of this file.
fn corpus() -> Option<&'static (PathBuf, PathBuf)> {
    static CORPUS: OnceLock<Option<(tempfile::TempDir, (PathBuf, PathBuf))>> = OnceLock::new();
    CORPUS
        .get_or_init(|| {
            let model = real_model()?;
            let tmp = tempfile::tempdir().unwrap();
            let docs = tmp.path().join("matter");
            std::fs::create_dir(&docs).unwrap();
            for f in CORPUS_FILES {
                std::fs::copy(sample_corpus().join(f), docs.join(f)).unwrap();
            }
            let outside = tmp.path().join("outside");
            std::fs::create_dir(&outside).unwrap();
            std::fs::write(outside.join("memo.txt"), SECRET).unwrap();
            let link = docs.join("outside-link.txt");
            std::fs::write(&link, "A memo about the lease.").unwrap();
            index_folder(&model, &docs);
            // Indexed as a file of the folder; now a link out of it.
            std::fs::remove_file(&link).unwrap();
            std::os::unix::fs::symlink(outside.join("memo.txt"), &link).unwrap();
            // On disk inside the folder, but not in the index.
            std::fs::write(docs.join("unindexed.txt"), "Written after indexing.").unwrap();
            let index = docs.join(".lexsearch");
            Some((tmp, (docs, index)))
        })
        .as_ref()
        .map(|(_, c)| c)
}

fn binary() -> PathBuf {
    PathBuf::from(assert_cmd::cargo::cargo_bin!("lexsearch"))
}

/// Waits for `child` at most `limit`, then kills it; its exit status and output.
fn wait_output(mut child: Child, limit: Duration) -> (bool, String, String) {
    let started = Instant::now();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the MCP client ran over {limit:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status.success(), out.join().unwrap(), err.join().unwrap())
}

/// Runs the Python client: `transport` is `["--url", URL, ...]` or `["--", COMMAND...]`.
pub(crate) fn client(python: &Path, transport: &[String], plan: &Value) -> Result<Value, String> {
    let mut child = Command::new(python)
        .arg(repo().join("tests/mcp_client.py"))
        .arg("calls")
        .args(transport)
        .env_remove("LEXSEARCH_MODEL_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(plan.to_string().as_bytes())
        .unwrap();
    let (ok, out, err) = wait_output(child, PATIENCE);
    if !ok {
        return Err(err);
    }
    Ok(serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}")))
}

fn stdio_server(index: &Path) -> Vec<String> {
    vec![
        "--".into(),
        binary().display().to_string(),
        "mcp".into(),
        "--index".into(),
        index.display().to_string(),
    ]
}

fn search_json(index: &Path, args: &[&str]) -> Value {
    crate::common::success_json(
        lexsearch()
            .arg("search")
            .arg("--index")
            .arg(index)
            .args(args)
            .arg("--json"),
    )
}

/// The tool's answer, which must not be an error.
pub(crate) fn ok(results: &Value, i: usize) -> &Value {
    let r = &results["results"][i];
    assert_eq!(r["is_error"], false, "call {i}: {r}");
    &r["structured"]
}

/// The message of a tool error.
fn tool_error(results: &Value, i: usize) -> String {
    let r = &results["results"][i];
    assert_eq!(r["is_error"], true, "call {i} should fail: {r}");
    r["text"].as_str().unwrap().to_string()
}

/// Every file and folder under `dir` (links not followed), with its size and modification time.
fn tree(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        out.push((entry.path(), meta.len(), meta.modified().unwrap()));
        if meta.is_dir() {
            out.extend(tree(&entry.path()));
        }
    }
    out.sort();
    out
}

/// Everything of a `search --json` answer but the time it took.
fn without_elapsed(v: &Value) -> Value {
    let mut v = v.clone();
    // The timings differ from run to run; everything else must be the same.
    v.as_object_mut().unwrap().remove("elapsed");
    v.as_object_mut().unwrap().remove("pinpoint_elapsed");
    v
}

#[test]
fn mcp_over_stdio_answers_like_the_cli_and_reads_nothing_outside_the_index() {
    let Some(python) = mcp_python() else { return };
    let Some((docs, index)) = corpus() else {
        return;
    };
    let query = "security deposit returned";
    let cli = search_json(index, &[query, "-k", "5"]);
    let cli_keyword = search_json(index, &[query, "-k", "5", "--mode", "keyword"]);
    // A path filter narrows the search as `search --path` does.
    let cli_md = search_json(
        index,
        &["termination upon notice", "-k", "3", "--path", "*.md"],
    );
    let cli_files = search_json(index, &[query, "-k", "4", "--max-per-file", "1"]);
    let cli_context = search_json(index, &[query, "-k", "3", "-C", "2"]);
    // The definition of a term under a heading that names it, as the CLI finds it.
    let defined = "define:\"Event of Default\" heading:default";
    let cli_defined = search_json(index, &[defined, "-k", "3"]);
    let top = &cli["hits"][0];
    let (file, line) = (top["file"].as_str().unwrap(), top["line"].as_u64().unwrap());
    let plan = json!({"calls": [
        {"tool": "search", "arguments": {"query": query, "k": 5}},
        {"tool": "search", "arguments": {"query": query, "k": 5, "mode": "keyword"}},
        {"tool": "search", "arguments": {"query": "termination upon notice", "k": 3, "path": "*.md"}},
        {"tool": "get_passage", "arguments":
            {"file": file, "start_byte": top["start_byte"], "end_byte": top["end_byte"]}},
        {"tool": "get_passage", "arguments": {"file": top["path"], "start_line": line, "end_line": line + 2}},
        {"tool": "get_document_outline", "arguments": {"file": "commercial-lease.txt"}},
        {"tool": "status", "arguments": {}},
        {"tool": "get_passage", "arguments": {"file": "../../etc/passwd", "start_byte": 0}},
        {"tool": "get_passage", "arguments": {"file": "/etc/passwd", "start_line": 1}},
        {"tool": "get_passage", "arguments": {"file": "outside-link.txt", "start_byte": 0}},
        {"tool": "get_document_outline", "arguments": {"file": "outside-link.txt"}},
        {"tool": "get_passage", "arguments": {"file": "unindexed.txt", "start_byte": 0}},
        {"tool": "get_passage", "arguments": {"file": file, "start_byte": 1_000_000_000u64}},
        {"tool": "get_passage", "arguments": {"file": file, "start_line": 100_000}},
        {"tool": "search", "arguments": {"query": query, "k": 100_000}},
        {"tool": "search", "arguments": {"query": 42}},
        {"tool": "get_passage", "arguments": {"start_byte": 0}},
        {"tool": "delete_everything", "arguments": {}},
        {"tool": "search", "arguments": {"query": query, "k": 4, "max_per_file": 1}},
        {"tool": "search", "arguments": {"query": query, "max_per_file": 0}},
        {"tool": "get_passage", "arguments": {"file": "commercial-lease.txt", "start_line": 71, "section": true}},
        {"tool": "get_passage", "arguments": {"file": "commercial-lease.txt", "heading": "7.1"}},
        {"tool": "get_passage", "arguments": {"file": "commercial-lease.txt", "heading": "99.9"}},
        {"tool": "search", "arguments": {"query": defined, "k": 3}},
        {"tool": "get_defined_terms", "arguments": {"file": "commercial-lease.txt"}},
        {"tool": "get_defined_terms", "arguments": {"file": "../../etc/passwd"}},
        {"tool": "search", "arguments": {"query": query, "k": 3, "context_lines": 2}},
        {"tool": "search", "arguments": {"query": query, "context_lines": 11}},
    ]});
    let before = tree(docs);
    let r = client(&python, &stdio_server(index), &plan).unwrap();
    // The server wrote nothing: not in the index, not beside the documents.
    assert_eq!(tree(docs), before);

    // The tools, with schemas and descriptions.
    let tools = r["tools"].as_array().unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "get_defined_terms",
            "get_document_outline",
            "get_passage",
            "search",
            "status"
        ]
    );
    for t in tools {
        assert!(t["description"].as_str().unwrap().len() > 80, "{t}");
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert_eq!(t["annotations"]["readOnlyHint"], true, "{t}");
    }
    let search = tools.iter().find(|t| t["name"] == "search").unwrap();
    assert_eq!(search["inputSchema"]["required"], json!(["query"]));
    for p in ["query", "mode", "k", "path"] {
        assert!(search["inputSchema"]["properties"][p].is_object(), "{p}");
    }

    // Searches: the `search --json` document, hit for hit.
    assert_eq!(without_elapsed(ok(&r, 0)), without_elapsed(&cli));
    assert_eq!(without_elapsed(ok(&r, 1)), without_elapsed(&cli_keyword));
    assert_eq!(without_elapsed(ok(&r, 2)), without_elapsed(&cli_md));
    assert_eq!(without_elapsed(ok(&r, 23)), without_elapsed(&cli_defined));
    // The glossary, as `show --terms --json` prints it; a path out of the folder refused.
    let cli_terms = crate::common::success_json(
        lexsearch()
            .args(["show", "--terms", "--json", "--index"])
            .arg(index)
            .arg("commercial-lease.txt"),
    );
    assert_eq!(ok(&r, 24), &cli_terms);
    assert!(!cli_terms["terms"].as_array().unwrap().is_empty());
    assert!(
        tool_error(&r, 25).contains("outside the indexed folder"),
        "{r}"
    );
    assert!(!cli_defined["hits"].as_array().unwrap().is_empty());
    assert_eq!(
        (&cli_defined["define"], &cli_defined["heading"]),
        (&json!(["Event of Default"]), &json!(["default"]))
    );
    assert_eq!(cli_md["hits"].as_array().unwrap().len(), 3);
    assert!(files(&cli_md).iter().all(|f| f.ends_with(".md")));

    // A hit's range reads back as the hit's text, with its breadcrumb and place.
    let passage = ok(&r, 3);
    for field in [
        "file",
        "path",
        "text",
        "breadcrumb",
        "line",
        "start_byte",
        "end_byte",
    ] {
        assert_eq!(passage[field], top[field], "{field}");
    }
    assert_eq!(passage["truncated"], false);
    let by_lines = ok(&r, 4);
    assert_eq!(by_lines["line"], top["line"]);
    assert_eq!(by_lines["end_line"], json!(line + 2));
    let source = std::fs::read_to_string(docs.join(file)).unwrap();
    let expected_lines: Vec<&str> = source
        .split_inclusive('\n')
        .skip(line as usize - 1)
        .take(3)
        .collect();
    assert_eq!(by_lines["text"], json!(expected_lines.concat()));

    // The outline: the lease's articles, each range starting at its heading.
    let outline = ok(&r, 5);
    let headings = outline["headings"].as_array().unwrap();
    let lease = std::fs::read_to_string(docs.join("commercial-lease.txt")).unwrap();
    assert!(
        headings
            .iter()
            .any(|h| h["heading"].as_str().unwrap().contains("SECURITY DEPOSIT")),
        "{outline}"
    );
    for h in headings {
        let (start, end) = (
            h["start_byte"].as_u64().unwrap() as usize,
            h["end_byte"].as_u64().unwrap() as usize,
        );
        assert!(start < end && end <= lease.len(), "{h}");
        let first_word = h["heading"].as_str().unwrap().split(' ').next().unwrap();
        assert!(lease[start..].starts_with(first_word), "{h}");
    }

    // Status: what is indexed, the model, when.
    let status = ok(&r, 6);
    let cli_status: Value = serde_json::from_slice(
        &lexsearch()
            .args(["status", "--json", "--index"])
            .arg(index)
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    for field in ["documents", "chunks", "model", "updated_unix", "generation"] {
        assert_eq!(status[field], cli_status[field], "{field}");
    }
    assert_eq!(status["files_total"], cli_status["documents"]);
    assert!(
        status["files"]
            .as_array()
            .unwrap()
            .contains(&json!("commercial-lease.txt"))
    );
    assert!(status["updated"].as_str().unwrap().ends_with('Z'));

    // Refusals, each saying what to do instead; nothing outside the folder is read.
    for i in [7, 8] {
        let e = tool_error(&r, i);
        assert!(e.contains("outside the indexed folder"), "{i}: {e}");
        assert!(!e.contains("root:"), "{e}");
    }
    for i in [9, 10] {
        let e = tool_error(&r, i);
        assert!(e.contains("symbolic link"), "{i}: {e}");
        assert!(!e.contains(SECRET), "{e}");
    }
    assert!(tool_error(&r, 11).contains("not in the index"));
    assert!(tool_error(&r, 12).contains("start_byte 1000000000 is past the end"));
    assert!(tool_error(&r, 13).contains("start_line 100000 is past the end"));
    assert!(tool_error(&r, 14).contains("k must be between 1 and 50"));
    // Arguments against the schema: tool errors from the SDK; an unknown tool: JSON-RPC.
    for i in [15, 16] {
        let e = tool_error(&r, i);
        assert!(e.contains("failed to deserialize parameters"), "{i}: {e}");
    }
    assert_eq!(r["results"][17]["protocol_error"]["code"], -32602);
    // One hit per file, as `search --max-per-file 1`.
    assert_eq!(without_elapsed(ok(&r, 18)), without_elapsed(&cli_files));
    assert!(tool_error(&r, 19).contains("max_per_file must be 1 or more"));
    // A hit's line with section: the clause that holds it, whole, as `lexsearch show` gives it.
    let section = ok(&r, 20);
    let shown: Value = serde_json::from_slice(
        &lexsearch()
            .args(["show", "--json", "commercial-lease.txt:71", "--index"])
            .arg(index)
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    assert!(
        section["text"].as_str().unwrap().starts_with("Section 7.1"),
        "{section}"
    );
    for field in [
        "text",
        "line",
        "end_line",
        "start_byte",
        "end_byte",
        "breadcrumb",
    ] {
        assert_eq!(section[field], shown[field], "{field}");
    }
    // A heading's number: that section, as `lexsearch show --section` gives it.
    assert_eq!(ok(&r, 21), &shown);
    let e = tool_error(&r, 22);
    assert!(e.contains("no heading numbered or named \"99.9\""), "{e}");
    // Lines around each hit, as `search -C 2` gives them.
    let context = ok(&r, 26);
    assert_eq!(without_elapsed(context), without_elapsed(&cli_context));
    let first = &context["hits"][0]["context"];
    let n = |k: &str| first[k].as_u64().unwrap();
    let shown = first["lines"].as_array().unwrap().len() as u64;
    assert_eq!(n("line") + 2, n("match_line"), "{first}");
    assert_eq!(n("line") + shown - 1, n("match_end_line") + 2, "{first}");
    let e = tool_error(&r, 27);
    assert!(e.contains("context_lines must be at most 10"), "{e}");
}

/// A `lexsearch mcp --http` server, killed when dropped.
struct HttpServer {
    child: Child,
    addr: SocketAddr,
}

impl HttpServer {
    fn start(index: &Path, token_file: &Path) -> HttpServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = Command::new(binary())
            .args(["mcp", "--http", &addr.to_string(), "--index"])
            .arg(index)
            .arg("--token-file")
            .arg(token_file)
            .env_remove("LEXSEARCH_MODEL_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut server = HttpServer { child, addr };
        let started = Instant::now();
        while TcpStream::connect(addr).is_err() {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("the server exited: {status}");
            }
            assert!(started.elapsed() < PATIENCE, "the server never listened");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// The status line of a raw HTTP request.
    fn status_line(&self, request: &str) -> String {
        let mut s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n])
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn mcp_over_http_needs_the_bearer_token_and_answers_like_the_cli() {
    let Some(python) = mcp_python() else { return };
    let Some((_, index)) = corpus() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let token = "0f3c9a7e51d24b8e";
    let token_file = tmp.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let server = HttpServer::start(index, &token_file);
    let url = format!("http://{}/mcp", server.addr);

    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let post = |auth: &str| {
        format!(
            "POST /mcp HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\n{auth}Content-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            server.addr,
            body.len()
        )
    };
    assert!(server.status_line(&post("")).contains(" 401 "));
    assert!(
        server
            .status_line(&post("Authorization: Bearer wrong-token\r\n"))
            .contains(" 401 ")
    );
    let other = format!(
        "GET /files HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
        server.addr
    );
    assert!(server.status_line(&other).contains(" 404 "));
    // The SDK's client without the token cannot connect (it reports the 401 as an error
    // response, without the status).
    let plan = json!({"calls": [{"tool": "status"}]});
    let refused = client(&python, &["--url".into(), url.clone()], &plan).unwrap_err();
    assert!(
        refused.contains("Server returned an error response"),
        "{refused}"
    );

    let query = "confidential information exclusions";
    let cli = search_json(index, &[query, "-k", "4", "--mode", "semantic"]);
    let top = &cli["hits"][0];
    let plan = json!({"calls": [
        {"tool": "search", "arguments": {"query": query, "k": 4, "mode": "semantic"}},
        {"tool": "get_passage", "arguments":
            {"file": top["file"], "start_byte": top["start_byte"], "end_byte": top["end_byte"]}},
        {"tool": "get_passage", "arguments": {"file": "../outside/memo.txt", "start_byte": 0}},
        {"tool": "search", "arguments": {"query": query, "k": 0}},
    ]});
    let with_token = ["--url".into(), url, "--token".into(), token.into()];
    let r = client(&python, &with_token, &plan).unwrap();
    assert_eq!(r["tools"].as_array().unwrap().len(), 5);
    assert_eq!(without_elapsed(ok(&r, 0)), without_elapsed(&cli));
    assert_eq!(ok(&r, 1)["text"], top["text"]);
    assert!(tool_error(&r, 2).contains("outside the indexed folder"));
    assert!(tool_error(&r, 3).contains("k must be between 1 and 50"));
}

#[test]
fn mcp_refuses_to_serve_beyond_loopback_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    lexsearch()
        .args(["mcp", "--http", "0.0.0.0:8765", "--index"])
        .arg(dir.path())
        .assert()
        .failure()
        .stderr(predicates::str::contains("--token-file"));
}

#[test]
fn passages_like_a_hit_are_found_alike_by_the_cli_and_over_mcp() {
    let Some(python) = mcp_python() else { return };
    let Some((_, index)) = corpus() else { return };
    let top = search_json(index, &["-k", "1", "late charge on overdue rent"]);
    let source = &top["hits"][0];
    let (id, file) = (
        source["chunk_id"].as_u64().unwrap(),
        source["file"].as_str().unwrap(),
    );
    // The place the CLI prints for a hit: its file and a line inside the chunk.
    let place = format!("{file}:{}", source["line"]);
    let cli = search_json(index, &["--like", &place, "-k", "5"]);
    assert_eq!(cli["like"], id, "{cli}");
    assert_eq!(cli["mode"], "semantic");
    let hits = cli["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 5, "{cli}");
    let (start, end) = (source["start_byte"].as_u64(), source["end_byte"].as_u64());
    for h in hits {
        // Neither the passage nor a chunk overlapping it comes back.
        assert_ne!(h["chunk_id"], id);
        if h["file"] == file {
            assert!(
                h["end_byte"].as_u64() <= start || h["start_byte"].as_u64() >= end,
                "{h}"
            );
        }
    }
    let cosines: Vec<f64> = hits
        .iter()
        .map(|h| h["semantic"]["score"].as_f64().unwrap())
        .collect();
    assert!(cosines.windows(2).all(|w| w[0] >= w[1]), "{cosines:?}");
    // A condition beside it narrows the same search.
    let narrowed = search_json(index, &["--like", &place, "-k", "5", "-rent"]);
    assert!(
        !narrowed["hits"].as_array().unwrap().is_empty(),
        "{narrowed}"
    );
    assert!(
        narrowed["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| !h["text"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w == "rent" || w == "rents")),
        "{narrowed}"
    );

    // The terminal output names the passage it started from.
    let shown = lexsearch()
        .args(["search", "--index"])
        .arg(index)
        .args(["--like", &place, "-k", "2"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&shown.get_output().stdout).into_owned();
    assert!(
        stdout.starts_with(&format!("passages like {file}:")),
        "{stdout}"
    );
    // A place that names no passage, and one that is not FILE:LINE.
    for (like, says) in [
        ("nowhere.txt:3", "the index has no file \"nowhere.txt\""),
        (&format!("{file}:100000"), "indexed passages end at line"),
        (file, "give FILE:LINE"),
    ] {
        let refused = lexsearch()
            .args(["search", "--index"])
            .arg(index)
            .args(["--like", like])
            .assert()
            .failure();
        let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
        assert!(stderr.contains(says), "{stderr}");
    }

    let plan = json!({"calls": [
        {"tool": "search", "arguments": {"query": "", "like_chunk": id, "k": 5}},
        {"tool": "search", "arguments": {"query": "", "like_chunk": 999_999_999u64}},
        {"tool": "search", "arguments": {"query": format!("like:{place}"), "k": 5}},
    ]});
    let got = client(&python, &stdio_server(index), &plan).unwrap();
    assert_eq!(hit_chunk_ids(ok(&got, 0)), hit_chunk_ids(&cli));
    assert!(tool_error(&got, 1).contains("no chunk 999999999"), "{got}");
    assert_eq!(
        hit_chunk_ids(ok(&got, 2)),
        hit_chunk_ids(&cli),
        "like: in the query, by place"
    );
    assert_eq!(ok(&got, 2)["like"], id);
    assert_eq!(ok(&got, 2)["mode"], "semantic");
}

#[test]
fn mcp_answers_from_the_new_version_after_the_folder_is_indexed_again() {
    let Some(python) = mcp_python() else { return };
    let Some(model) = real_model() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("matter");
    std::fs::create_dir(&docs).unwrap();
    std::fs::copy(sample_corpus().join("nda.md"), docs.join("nda.md")).unwrap();
    index_folder(&model, &docs);
    let token_file = tmp.path().join("token");
    std::fs::write(&token_file, "t0k3n").unwrap();
    let server = HttpServer::start(&docs.join(".lexsearch"), &token_file);
    let url = format!("http://{}/mcp", server.addr);
    let session = ["--url".into(), url, "--token".into(), "t0k3n".into()];
    let plan = json!({"calls": [
        {"tool": "status"},
        {"tool": "search", "arguments": {"query": "security deposit", "k": 1, "path": "lease"}},
    ]});
    let before = client(&python, &session, &plan).unwrap();
    assert_eq!(ok(&before, 0)["files"], json!(["nda.md"]));
    assert_eq!(ok(&before, 1)["hits"], json!([]));

    std::fs::copy(
        sample_corpus().join("commercial-lease.txt"),
        docs.join("commercial-lease.txt"),
    )
    .unwrap();
    index_folder(&model, &docs);
    let after = client(&python, &session, &plan).unwrap();
    let status = ok(&after, 0);
    assert_eq!(status["files"], json!(["commercial-lease.txt", "nda.md"]));
    assert_eq!(
        status["serving_generation"].as_u64(),
        ok(&before, 0)["serving_generation"].as_u64().map(|g| g + 1)
    );
    assert_eq!(
        ok(&after, 1)["hits"][0]["file"],
        json!("commercial-lease.txt")
    );
}

#[test]
fn mcp_reads_a_link_out_of_the_folder_only_while_the_index_follows_such_links() {
    let Some(python) = mcp_python() else { return };
    let Some(model) = real_model() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("matter");
    let outside = tmp.path().join("shared-memos");
    std::fs::create_dir(&docs).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::fs::copy(sample_corpus().join("nda.md"), docs.join("nda.md")).unwrap();
    let memo = "Strategy memo.\n\nThe tenant will contest the withheld security deposit.\n";
    std::fs::write(outside.join("memo.txt"), memo).unwrap();
    std::os::unix::fs::symlink(outside.join("memo.txt"), docs.join("memo.txt")).unwrap();
    let index = |follow: &str, code: i32| {
        lexsearch()
            .args(["index", "--quiet", follow, "--model"])
            .arg(&model)
            .arg(&docs)
            .assert()
            .code(code);
    };
    let plan = json!({"calls": [
        {"tool": "search", "arguments": {"query": "withheld security deposit", "k": 1, "mode": "keyword"}},
        {"tool": "get_passage", "arguments": {"file": "memo.txt", "start_byte": 0}},
        {"tool": "get_document_outline", "arguments": {"file": "memo.txt"}},
    ]});
    let server = stdio_server(&docs.join(".lexsearch"));

    // Followed by the user's choice: indexed, found and read through the link.
    index("--follow-links", 0);
    let r = client(&python, &server, &plan).unwrap();
    assert_eq!(ok(&r, 0)["hits"][0]["file"], json!("memo.txt"));
    let passage = ok(&r, 1);
    assert_eq!(passage["file"], json!("memo.txt"));
    assert!(
        passage["text"]
            .as_str()
            .unwrap()
            .contains("withheld security deposit")
    );
    assert!(ok(&r, 2)["headings"].is_array());

    // Not followed any more: the link is skipped (exit 2 names it), its document leaves the
    // index, and the server neither finds nor reads it.
    index("--follow-links=false", 2);
    let r = client(&python, &server, &plan).unwrap();
    assert_eq!(ok(&r, 0)["hits"], json!([]));
    for i in [1, 2] {
        let e = tool_error(&r, i);
        assert!(e.contains("not in the index"), "{i}: {e}");
        assert!(!e.contains("withheld"), "{e}");
    }
}
