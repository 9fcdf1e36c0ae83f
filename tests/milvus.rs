//! `--backend milvus://HOST:PORT/COLLECTION` (cargo feature `milvus`) against a real Milvus
//! protocol server: milvus-lite, started on a free loopback port and killed by pid at the end
//! (also when a test panics). The collection is read back with pymilvus, an independent client.
//!
//! The server and pymilvus come from the venv of scripts/milvus-venv; without it these tests
//! skip with "SKIPPED: ...", unless `LEXSEARCH_REQUIRE_MILVUS=1` (set by scripts/test).

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{
    copy_tree, hit_files, lexsearch, real_model, repo, sample_corpus, success_json,
};

/// A milvus-lite server on a free loopback port, killed by pid when dropped.
struct Server {
    child: Child,
    port: u16,
    python: PathBuf,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python of the milvus venv, or `None` (with a message) when it is absent and not required.
fn milvus_python() -> Option<PathBuf> {
    let python = std::env::var_os("LEXSEARCH_MILVUS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/lexsearch/milvus-venv/bin/python")
        });
    if python.is_file() && python.with_file_name("milvus-lite").is_file() {
        return Some(python);
    }
    if std::env::var("LEXSEARCH_REQUIRE_MILVUS").as_deref() == Ok("1") {
        panic!(
            "LEXSEARCH_REQUIRE_MILVUS=1 but no milvus-lite venv at {}: run scripts/milvus-venv",
            python.display()
        );
    }
    eprintln!(
        "SKIPPED: no milvus-lite venv at {}; run scripts/milvus-venv to run this test",
        python.display()
    );
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// Starts milvus-lite and waits until it accepts connections.
    fn start() -> Option<Server> {
        let python = milvus_python()?;
        let data = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(python.with_file_name("milvus-lite"))
            .args(["server", "--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--data-dir")
            .arg(data.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server {
            child,
            port,
            python,
            _data: data,
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "milvus-lite did not listen on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(server)
    }

    fn url(&self, collection: &str) -> String {
        format!("milvus://127.0.0.1:{}/{collection}", self.port)
    }

    /// Runs tests/milvus_dump.py (pymilvus) on `collection` with `args`: its output.
    fn pymilvus(&self, collection: &str, args: &[&str]) -> std::process::Output {
        Command::new(&self.python)
            .arg(repo().join("tests/milvus_dump.py"))
            .arg(format!("http://127.0.0.1:{}", self.port))
            .arg(collection)
            .args(args)
            .output()
            .unwrap()
    }

    /// pymilvus's view of `collection`: its properties and rows.
    fn dump(&self, collection: &str) -> serde_json::Value {
        let out = self.pymilvus(collection, &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Deletes one row behind lexsearch's back.
    fn delete(&self, collection: &str, id: u64) {
        let out = self.pymilvus(collection, &["delete", &id.to_string()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn count(&self, collection: &str) -> u64 {
        let out = self.pymilvus(collection, &["count"]);
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0)
    }
}

/// A chunk by document and byte range: its text and vector.
type Chunks = BTreeMap<(String, u64, u64), (String, Vec<f32>)>;

/// The chunks of the collection, as pymilvus reads them.
fn milvus_chunks(dump: &serde_json::Value) -> Chunks {
    dump["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let key = (
                r["path"].as_str().unwrap().to_string(),
                r["start"].as_u64().unwrap(),
                r["end"].as_u64().unwrap(),
            );
            let vector = r["dense"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
            (key, (r["text"].as_str().unwrap().to_string(), vector))
        })
        .collect()
}

/// The chunks of a local index's current generation (its catalog: text and vectors).
fn catalog_chunks(index: &Path) -> Chunks {
    let library = lexsearch::Library::at(index);
    let snapshot = library.snapshot().unwrap();
    let catalog = library.read_catalog(snapshot.paths()).unwrap();
    let mut out = Chunks::new();
    for (_, doc) in catalog.documents().unwrap() {
        for id in &doc.chunks {
            let rec = catalog.chunk(*id).unwrap().unwrap();
            let vector = catalog.vector(*id).unwrap().unwrap();
            let key = (
                doc.rel.to_string_lossy().into_owned(),
                rec.start as u64,
                rec.end as u64,
            );
            out.insert(key, (rec.text, vector));
        }
    }
    out
}

/// Chunk ids in the collection, by document.
fn ids_by_document(dump: &serde_json::Value) -> BTreeMap<String, Vec<u64>> {
    let mut out: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for r in dump["rows"].as_array().unwrap() {
        out.entry(r["path"].as_str().unwrap().to_string())
            .or_default()
            .push(r["id"].as_u64().unwrap());
    }
    out
}

/// Asserts two chunk sets are the same chunks with the same texts and vectors. Vectors agree
/// to the encoder's own guarantee for f32, not bit for bit: a run resumed after a kill embeds
/// the chunks left in other batches than a clean run, and padding a text to another length
/// changes its vector only by float reassociation in the matrix kernels (below 1e-5, the
/// bound tests/encoder.rs holds the encoder to). A different chunk's vector differs by far more.
fn assert_same_chunks(milvus: &Chunks, local: &Chunks) {
    assert_eq!(
        milvus.keys().collect::<Vec<_>>(),
        local.keys().collect::<Vec<_>>(),
        "the collection holds other chunks than the local index"
    );
    for (key, (text, vector)) in local {
        let (m_text, m_vector) = &milvus[key];
        assert_eq!(m_text, text, "text of {key:?}");
        assert_eq!(m_vector.len(), vector.len(), "dimension of {key:?}");
        let most = m_vector
            .iter()
            .zip(vector)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(most < 1e-5, "vector of {key:?} differs by {most}");
    }
}

fn index_cmd(model: &Path, docs: &Path, backend: Option<&str>) -> assert_cmd::Command {
    let mut cmd = lexsearch();
    cmd.args(["index", "--quiet", "--json", "--model"])
        .arg(model)
        .arg(docs);
    if let Some(url) = backend {
        cmd.args(["--backend", url]);
    }
    cmd
}

const SUBSET: [&str; 6] = [
    "commercial-lease.txt",
    "nda.md",
    "last-will.txt",
    "loan-agreement.txt",
    "privacy-policy.html",
    "software-license.md",
];

/// An e-mail, whose headers hits carry.
const MEMO: &str = "From: Ann Lee <ann@firm.example>\r\nTo: bob@client.example\r\n\
Subject: Escrow release\r\nDate: Tue, 3 Mar 2020 10:15:00 +0000\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n\
Bob, the escrow agent releases the funds upon closing; the wire instructions follow.\r\n";

/// A message in the `Sent` folder of a Maildir (Maildir++ `.Sent`), whose folder hits carry.
const SENT: &str = "Mail/.Sent/cur/1585821600.M2P1.mx.client.example:2,S";

fn subset(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in SUBSET {
        std::fs::copy(sample_corpus().join(f), to.join(f)).unwrap();
    }
    std::fs::write(to.join("memo.eml"), MEMO).unwrap();
    std::fs::create_dir_all(to.join("Mail/cur")).unwrap();
    std::fs::create_dir_all(to.join("Mail/.Sent/cur")).unwrap();
    let reply = "From: Bob Roe <bob@client.example>\r\nTo: ann@firm.example\r\n\
Subject: Escrow funds\r\nDate: Fri, 28 Feb 2020 09:00:00 +0000\r\n\r\n\
Ann, the escrow funds reached the agent's account this morning.\r\n";
    std::fs::write(to.join(SENT), reply).unwrap();
}

#[test]
fn milvus_holds_the_local_index_chunks_and_follows_changes_and_deletions() {
    let Some(model) = real_model() else { return };
    let Some(server) = Server::start() else {
        return;
    };
    let url = server.url("contracts");
    let tmp = tempfile::tempdir().unwrap();
    let (remote_docs, local_docs) = (tmp.path().join("remote"), tmp.path().join("local"));
    subset(&remote_docs);
    subset(&local_docs);

    let first = success_json(&mut index_cmd(&model, &remote_docs, Some(&url)));
    assert_eq!(first["added"], 8);
    assert_eq!(first["backend"], url.as_str());
    success_json(&mut index_cmd(&model, &local_docs, None));
    let dump = server.dump("contracts");
    let milvus = milvus_chunks(&dump);
    assert_eq!(first["chunks"].as_u64().unwrap(), milvus.len() as u64);
    assert_same_chunks(&milvus, &catalog_chunks(&local_docs.join(".lexsearch")));
    // The model and settings are recorded with the collection.
    let manifest: serde_json::Value =
        serde_json::from_str(dump["properties"]["lexsearch.manifest"].as_str().unwrap()).unwrap();
    assert_eq!(manifest["chunks"].as_u64().unwrap(), milvus.len() as u64);
    assert!(manifest["model"]["fingerprint"].as_str().unwrap().len() > 8);
    let ids_before = ids_by_document(&dump);

    // A change and a deletion, in both folders.
    for docs in [&remote_docs, &local_docs] {
        let lease = docs.join("commercial-lease.txt");
        let mut text = std::fs::read_to_string(&lease).unwrap();
        text.push_str("\n\nRIDER. The Tenant shall keep a parrot named Horatio on the premises.\n");
        std::fs::write(&lease, text).unwrap();
        std::fs::remove_file(docs.join("nda.md")).unwrap();
    }
    let second = success_json(&mut index_cmd(&model, &remote_docs, Some(&url)));
    assert_eq!(
        (
            &second["added"],
            &second["changed"],
            &second["removed"],
            &second["unchanged"]
        ),
        (&0.into(), &1.into(), &1.into(), &6.into()),
        "{second}"
    );
    let embedded = second["chunks_embedded"].as_u64().unwrap();
    assert!(
        (1..=3).contains(&embedded),
        "only the changed chunks are embedded: {second}"
    );
    success_json(&mut index_cmd(&model, &local_docs, None));
    let dump = server.dump("contracts");
    assert_same_chunks(
        &milvus_chunks(&dump),
        &catalog_chunks(&local_docs.join(".lexsearch")),
    );
    // Unchanged documents were not sent again: their rows keep their ids.
    let ids_after = ids_by_document(&dump);
    assert!(!ids_after.contains_key("nda.md"));
    for f in ["last-will.txt", "loan-agreement.txt", "software-license.md"] {
        assert_eq!(ids_after[f], ids_before[f], "{f}");
    }

    // Searches from a folder with no index, in the three modes, with pinpoints.
    let elsewhere = tempfile::tempdir().unwrap();
    let search = |args: &[&str]| {
        success_json(
            lexsearch()
                .current_dir(elsewhere.path())
                .args(["search", "--json", "--backend", &url, "--model"])
                .arg(&model)
                .args(args),
        )
    };
    for (mode, query, expected) in [
        ("keyword", "parrot named Horatio", "commercial-lease.txt"),
        (
            "semantic",
            "who inherits my estate when I die",
            "last-will.txt",
        ),
        (
            "hybrid",
            "Last Will and Testament of Eleanor",
            "last-will.txt",
        ),
    ] {
        let v = search(&["--mode", mode, query]);
        let hit = &v["hits"][0];
        assert_eq!(hit["file"], expected, "{mode}: {v}");
        assert_eq!(
            hit["path"].as_str().unwrap(),
            remote_docs
                .canonicalize()
                .unwrap()
                .join(expected)
                .to_str()
                .unwrap()
        );
        assert!(hit["text"].as_str().unwrap().len() > 20);
        assert!(hit["line"].as_u64().unwrap() >= 1);
        let pinpoint = &hit["pinpoint"];
        assert!(pinpoint.is_object(), "{mode}: no pinpoint in {hit}");
        let (start, end) = (
            hit["start_byte"].as_u64().unwrap(),
            hit["end_byte"].as_u64().unwrap(),
        );
        assert!(start <= pinpoint["start_byte"].as_u64().unwrap());
        assert!(pinpoint["end_byte"].as_u64().unwrap() <= end);
    }

    // E-mail headers come back from the collection as from a local index.
    let v = search(&["--mode", "keyword", "wire instructions escrow"]);
    let hit = &v["hits"][0];
    assert_eq!(hit["file"], "memo.eml", "{v}");
    assert_eq!(hit["mail"]["from"], "Ann Lee <ann@firm.example>", "{hit}");
    assert_eq!(hit["mail"]["subject"], "Escrow release", "{hit}");

    // A search narrowed to some files keeps to them on the server too (filtered as hits
    // come back from a deeper fetch, docs/scale.md).
    let v = search(&["-k", "3", "--path", "*.md", "parrot named Horatio"]);
    let narrowed = hit_files(&v);
    assert_eq!(narrowed.len(), 3, "{v}");
    assert!(narrowed.iter().all(|f| f.ends_with(".md")), "{narrowed:?}");
    assert_eq!(v["paths"], serde_json::json!(["*.md"]));
    // So do required and excluded words.
    let v = search(&["-k", "3", "security deposit +tenant -landlord"]);
    let hits = v["hits"].as_array().unwrap();
    assert!(!hits.is_empty(), "{v}");
    for h in hits {
        let text = h["text"].as_str().unwrap();
        assert!(
            lexsearch::index::keyword::KeywordIndex::holds(text, "tenant")
                && !lexsearch::index::keyword::KeywordIndex::holds(text, "landlord"),
            "{text}"
        );
    }

    // And two words in one sentence (`/s`), checked on each hit's text (of the deeper fetch:
    // of the 5 chunks that qualify, those it reaches).
    let sentence = lexsearch::index::keyword::Near {
        a: "payment".into(),
        b: "interest".into(),
        within: lexsearch::index::keyword::Within::Sentence,
    };
    let v = search(&["-k", "3", "payment /s interest"]);
    let hits = v["hits"].as_array().unwrap();
    assert!(!hits.is_empty(), "{v}");
    for h in hits {
        let text = h["text"].as_str().unwrap();
        assert!(
            lexsearch::index::keyword::KeywordIndex::holds_near(text, &sentence),
            "{text}"
        );
    }

    // Passages like a passage: the vector and the passage's neighbours come from the
    // server, and the answer is the local index's (same chunks by place, same order).
    let place = |v: &serde_json::Value| -> Vec<(String, u64)> {
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                let file = h["file"].as_str().unwrap().to_string();
                (file, h["start_byte"].as_u64().unwrap())
            })
            .collect()
    };
    let source = &search(&["-k", "1", "--mode", "keyword", "Late Charge"])["hits"][0];
    let like = format!("{}:{}", source["file"].as_str().unwrap(), source["line"]);
    let remote_like = search(&["-k", "4", "--like", &like]);
    assert_eq!(remote_like["like"], source["chunk_id"], "{remote_like}");
    let local_like = success_json(
        lexsearch()
            .current_dir(&local_docs)
            .args(["search", "--json", "-k", "4", "--like", &like, "--model"])
            .arg(&model),
    );
    assert_eq!(place(&remote_like), place(&local_like));
    assert!(
        !place(&remote_like).contains(&(
            source["file"].as_str().unwrap().to_string(),
            source["start_byte"].as_u64().unwrap()
        )),
        "{remote_like}"
    );
    // By place in the query too.
    let v = search(&["-k", "4", &format!("like:{like}")]);
    assert_eq!(place(&v), place(&local_like));

    // `heading:`: checked on the title and breadcrumb each hit carries, as the local
    // index's filter keeps them.
    let v = search(&[
        "-k",
        "3",
        "returned to the tenant heading:\"security deposit\"",
    ]);
    let hits = v["hits"].as_array().unwrap();
    assert!(!hits.is_empty(), "{v}");
    for h in hits {
        let crumbs = h["breadcrumb"].to_string().to_lowercase();
        assert!(crumbs.contains("security deposit"), "{h}");
    }
    let v = search(&["-k", "10", "payment -heading:deposit"]);
    assert!(
        !v["hits"].as_array().unwrap().is_empty()
            && !(v["hits"].as_array().unwrap().iter()).any(|h| h["breadcrumb"]
                .to_string()
                .to_lowercase()
                .contains("deposit")),
        "{v}"
    );

    // `define:`: the hits' text checked as the local filter checks it, pinpointed there.
    let v = search(&["-k", "3", "define:\"Events of Default\""]);
    let mut files = hit_files(&v);
    files.sort();
    assert_eq!(files, ["commercial-lease.txt", "loan-agreement.txt"], "{v}");
    for h in v["hits"].as_array().unwrap() {
        let pin = h["pinpoint"]["text"].as_str().unwrap();
        assert!(
            pin.starts_with("Each of the following is an \"Event of Default\":"),
            "{h}"
        );
    }

    // And `sent:`, read from the headers each chunk carries in the collection.
    let v = search(&["-k", "5", "escrow funds sent:2020-03"]);
    assert_eq!(hit_files(&v), ["memo.eml"], "{v}");
    let v = search(&["-k", "5", "escrow funds from:\"Ann Lee\" to:client.example"]);
    assert_eq!(hit_files(&v), ["memo.eml"], "{v}");
    // `folder:` too: a Maildir's message, in its folder.
    let v = search(&["-k", "5", "escrow funds folder:sent"]);
    assert_eq!(hit_files(&v), [SENT], "{v}");
    assert_eq!(v["hits"][0]["mail"]["folder"], "Sent", "{v}");
    let v = search(&["-k", "5", "escrow funds -folder:sent"]);
    let files = hit_files(&v);
    assert!(
        files.contains(&"memo.eml".to_string()) && !files.contains(&SENT.to_string()),
        "{v}"
    );
    lexsearch()
        .current_dir(elsewhere.path())
        .args(["search", "--backend", &url, "--model"])
        .arg(&model)
        .arg("escrow funds sent:>2020-03")
        .assert()
        .code(1)
        .stdout(predicates::str::contains("among e-mails sent:>2020-03"));

    // The TUI and the MCP server search the collection too.
    tui_finds(&url, &model, "parrot named Horatio", "commercial-lease.txt");
    #[cfg(feature = "mcp")]
    mcp_finds(&url, &model, "parrot named Horatio", "commercial-lease.txt");

    // verify compares every chunk with the catalog of what was sent, and names the one a
    // third party deleted.
    let verify = |expect_ok: bool| -> serde_json::Value {
        let mut cmd = lexsearch();
        cmd.args(["verify", "--json", "--backend", &url, "--index"])
            .arg(remote_docs.join(".lexsearch"));
        let out = if expect_ok {
            cmd.assert().success()
        } else {
            cmd.assert().failure()
        };
        serde_json::from_slice(&out.get_output().stdout).unwrap()
    };
    let v = verify(true);
    assert_eq!(
        (
            &v["consistent"],
            &v["missing"],
            &v["extra"],
            &v["different"]
        ),
        (&true.into(), &0.into(), &0.into(), &0.into()),
        "{v}"
    );
    assert_eq!(v["chunks_local"], v["chunks_stored"], "{v}");
    let victim = ids_after["last-will.txt"][0];
    server.delete("contracts", victim);
    let v = verify(false);
    assert_eq!(v["consistent"], false, "{v}");
    assert_eq!(v["missing_ids"], serde_json::json!([victim]), "{v}");
    assert_eq!(
        (&v["extra"], &v["different"]),
        (&0.into(), &0.into()),
        "{v}"
    );
    // A re-run does not notice a row deleted behind its back (it trusts the catalog); a
    // rebuild sends everything again.
    success_json(index_cmd(&model, &remote_docs, Some(&url)).arg("--rebuild"));
    assert_eq!(verify(true)["consistent"], true);

    // Other settings than those recorded with the collection are refused, naming it.
    let refused = index_cmd(&model, &remote_docs, Some(&url))
        .args(["--chunk-tokens", "100"])
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        err.contains(&url) && err.contains("chunk size") && err.contains("--rebuild"),
        "{err}"
    );
}

#[test]
fn milvus_pinpoints_name_the_page_of_their_sentence_as_a_local_index_does() {
    let Some(model) = real_model() else { return };
    let Some(server) = Server::start() else {
        return;
    };
    let url = server.url("paged");
    let tmp = tempfile::tempdir().unwrap();
    let (remote_docs, local_docs) = (tmp.path().join("remote"), tmp.path().join("local"));
    for docs in [&remote_docs, &local_docs] {
        std::fs::create_dir_all(docs).unwrap();
        std::fs::write(docs.join("lease.pdf"), crate::formats::lease_pdf()).unwrap();
    }
    success_json(&mut index_cmd(&model, &remote_docs, Some(&url)));
    success_json(&mut index_cmd(&model, &local_docs, None));
    let dump = server.dump("paged");
    assert_eq!(dump["properties"]["lexsearch.format"], "3", "{dump}");

    let elsewhere = tempfile::tempdir().unwrap();
    // The first keyword hit whose text holds `needle`, from the collection or the local index.
    let hit = |backend: Option<&str>, query: &str, needle: &str| {
        let mut cmd = lexsearch();
        cmd.args(["search", "--json", "--mode", "keyword", "--model"])
            .arg(&model);
        match backend {
            Some(url) => cmd.current_dir(elsewhere.path()).args(["--backend", url]),
            None => cmd.current_dir(&local_docs),
        };
        let v = success_json(cmd.arg(query));
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["text"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no hit for {query:?} holds {needle:?}: {v}"))
            .clone()
    };
    // One clause runs from page 4 onto page 5: each pinpoint names the page its sentence is on.
    for (query, needle, page) in [
        ("notice effective upon receipt", "addressee", 5),
        ("notices delivered by courier in writing", "courier", 4),
    ] {
        let remote = hit(Some(&url), query, needle);
        let local = hit(None, query, needle);
        assert_eq!(
            (remote["page"].as_u64(), remote["page_end"].as_u64()),
            (Some(4), Some(5)),
            "{remote}"
        );
        assert_eq!(remote["pinpoint"]["page"], page, "{remote}");
        for field in ["page", "page_end", "start_byte", "end_byte", "text"] {
            assert_eq!(remote[field], local[field], "{field}: {remote} / {local}");
        }
        assert_eq!(remote["pinpoint"], local["pinpoint"]);
    }
}

#[test]
fn a_killed_milvus_index_run_is_resumed_to_exactly_the_local_index() {
    let Some(model) = real_model() else { return };
    let Some(local) = crate::common::indexed_sample() else {
        return;
    };
    let Some(server) = Server::start() else {
        return;
    };
    let url = server.url("killed");
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("corpus");
    copy_tree(&sample_corpus(), &docs);
    // Small batches, so that the run is killed between acknowledged batches.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("lexsearch"))
        .args(["index", "--quiet", "--model"])
        .arg(&model)
        .arg(&docs)
        .args(["--backend", &url])
        .env("LEXSEARCH_REMOTE_BATCH", "4")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before any batch reached the server"
        );
        if server.count("killed") > 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(50));
    }
    // kill -9: nothing runs after it.
    child.kill().unwrap();
    child.wait().unwrap();
    let sent = server.count("killed");
    assert!(sent > 0);
    assert!(
        server.dump("killed")["properties"]
            .get("lexsearch.manifest")
            .is_none(),
        "a killed run commits nothing"
    );
    // Searching the half-sent collection is refused rather than answered from part of it.
    let refused = lexsearch()
        .args(["search", "--backend", &url, "--mode", "keyword", "lease"])
        .assert()
        .failure();
    assert!(String::from_utf8_lossy(&refused.get_output().stderr).contains("index into it first"));

    let documents = lexsearch::Library::at(local.join(".lexsearch"))
        .manifest()
        .unwrap()
        .documents;
    let rerun = success_json(&mut index_cmd(&model, &docs, Some(&url)));
    assert_eq!(rerun["files_indexed"], documents, "{rerun}");
    let milvus = milvus_chunks(&server.dump("killed"));
    assert_same_chunks(&milvus, &catalog_chunks(&local.join(".lexsearch")));
    // Nothing changed since: a third run sends nothing and changes nothing.
    let third = success_json(&mut index_cmd(&model, &docs, Some(&url)));
    assert_eq!(third["unchanged"], documents);
    assert_eq!(third["chunks_embedded"], 0);
    assert_eq!(server.count("killed"), milvus.len() as u64);
}

#[test]
fn an_unreachable_milvus_server_is_named_with_the_cause() {
    let port = free_port();
    let url = format!("milvus://127.0.0.1:{port}/contracts");
    let out = lexsearch()
        .args(["search", "--backend", &url, "--mode", "keyword", "lease"])
        .timeout(Duration::from_secs(120))
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains(&url), "{err}");
    assert!(err.contains("check that the server is running"), "{err}");
}

/// The TUI over the collection, in a real terminal (tmux), finds `expected` for `query`.
fn tui_finds(url: &str, model: &Path, query: &str, expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let Some(tmux) = crate::tui::Tmux::start("milvus", dir.path(), 110, 30) else {
        return;
    };
    tmux.run(&format!(
        "'{}' tui --backend {url} --mode keyword --model '{}'; echo EXIT=$?",
        crate::tui::binary().display(),
        model.display()
    ));
    tmux.wait_for(" chunks");
    tmux.type_text(query);
    let screen = tmux.wait_for(expected);
    assert!(screen.contains(&format!("keyword › {query}")), "{screen}");
    tmux.press("Escape");
    tmux.wait_for("EXIT=0");
}

/// The MCP server over the collection (stdio, the official Python SDK as client) finds
/// `expected` for `query` in both modes.
#[cfg(feature = "mcp")]
fn mcp_finds(url: &str, model: &Path, query: &str, expected: &str) {
    let Some(python) = crate::mcp::mcp_python() else {
        return;
    };
    let plan = serde_json::json!({"calls": [
        {"tool": "search", "arguments": {"query": query, "k": 3, "mode": "keyword"}},
        {"tool": "search", "arguments": {"query": query, "k": 3}},
    ]});
    let server = vec![
        "--".to_string(),
        assert_cmd::cargo::cargo_bin!("lexsearch")
            .display()
            .to_string(),
        "mcp".into(),
        "--backend".into(),
        url.to_string(),
        "--model".into(),
        model.display().to_string(),
    ];
    let r = crate::mcp::client(&python, &server, &plan).unwrap();
    for i in 0..2 {
        let hits = &crate::mcp::ok(&r, i)["hits"];
        assert_eq!(hits[0]["file"], expected, "call {i}: {hits}");
    }
}
