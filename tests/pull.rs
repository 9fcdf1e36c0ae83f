//! `lexsearch model pull` against a local server that speaks the Hugging Face hub's HTTP API
//! (file list with checksums, `resolve` URLs, redirects of large files to a CDN path, range
//! requests). This machine cannot reach the real hub; the server below serves a small generated
//! model in the hub's layout and can break a download off half-way or corrupt a file.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::json;
use sha1::Digest;

use crate::common::{Tiny, lexsearch, success_json, write_tiny_model};

const REPO: &str = "test-org/tiny-model";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// What the fake hub serves and how it misbehaves.
#[derive(Default)]
struct State {
    /// Path in the model folder -> bytes.
    files: Vec<(String, Vec<u8>)>,
    /// Break the next download of this file off after half of it.
    cut_once: Option<String>,
    /// Serve this file with one byte changed (its listed checksum stays the true one).
    corrupt: Option<String>,
    /// `GET path [range]` of every request, in order.
    log: Vec<String>,
}

struct FakeHub {
    endpoint: String,
    state: Arc<Mutex<State>>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn is_lfs(path: &str) -> bool {
    path.ends_with(".safetensors") || path.ends_with(".bin")
}

impl FakeHub {
    /// Serves the files of `model_dir` (plus a PyTorch copy of the weights that must not be
    /// fetched) as `REPO` at `COMMIT`.
    fn start(model_dir: &Path) -> FakeHub {
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(model_dir).sort_by_file_name() {
            let entry = entry.unwrap();
            if entry.file_type().is_file() {
                let rel = entry.path().strip_prefix(model_dir).unwrap();
                let rel = rel.to_string_lossy().replace('\\', "/");
                files.push((rel, fs::read(entry.path()).unwrap()));
            }
        }
        files.push(("pytorch_model.bin".into(), vec![7u8; 4096]));
        let state = Arc::new(Mutex::new(State {
            files,
            ..State::default()
        }));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let shared = state.clone();
        // The thread ends with the test binary; each connection is served on its own thread.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        FakeHub { endpoint, state }
    }

    fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

fn serve(mut stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let range = headers.get("range").cloned();
    let mut st = state.lock().unwrap();
    st.log.push(format!(
        "GET {target}{}",
        range.as_deref().map_or(String::new(), |r| format!(" {r}"))
    ));
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    if let Some(rest) = path.strip_prefix(&format!("/api/models/{REPO}/revision/")) {
        assert_eq!(query, "blobs=true", "the file list needs its checksums");
        assert_eq!(rest, "main");
        let siblings: Vec<_> = st
            .files
            .iter()
            .map(|(p, bytes)| {
                let mut blob = sha1::Sha1::new();
                blob.update(format!("blob {}\0", bytes.len()).as_bytes());
                blob.update(bytes);
                let mut v = json!({"rfilename": p, "size": bytes.len(), "blobId": hex(&blob.finalize())});
                if is_lfs(p) {
                    v["lfs"] = json!({"sha256": hex(&sha2::Sha256::digest(bytes)), "size": bytes.len(), "pointerSize": 134});
                }
                v
            })
            .collect();
        let body = json!({"id": REPO, "sha": COMMIT, "siblings": siblings}).to_string();
        drop(st);
        return respond(&mut stream, "200 OK", &[], body.as_bytes());
    }
    let file = if let Some(rel) = path.strip_prefix(&format!("/{REPO}/resolve/{COMMIT}/")) {
        // Large files live on the CDN, as on the real hub.
        if is_lfs(rel) {
            drop(st);
            return respond(
                &mut stream,
                "302 Found",
                &[("Location", format!("/cdn/{rel}"))],
                b"",
            );
        }
        rel.to_string()
    } else if let Some(rel) = path.strip_prefix("/cdn/") {
        rel.to_string()
    } else {
        drop(st);
        return respond(&mut stream, "404 Not Found", &[], b"Repository not found");
    };
    let Some(mut bytes) = st
        .files
        .iter()
        .find(|(p, _)| *p == file)
        .map(|(_, b)| b.clone())
    else {
        drop(st);
        return respond(&mut stream, "404 Not Found", &[], b"Entry not found");
    };
    if st.corrupt.as_deref() == Some(file.as_str()) {
        bytes[0] ^= 0xff;
    }
    let cut = st.cut_once.as_deref() == Some(file.as_str());
    if cut {
        st.cut_once = None;
    }
    drop(st);
    let total = bytes.len();
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok());
    let (status, body, extra) = match start {
        Some(s) if s < total => (
            "206 Partial Content",
            &bytes[s..],
            vec![("Content-Range", format!("bytes {s}-{}/{total}", total - 1))],
        ),
        _ => ("200 OK", &bytes[..], vec![]),
    };
    if cut {
        // Promise the whole body, send half, hang up.
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&body[..body.len() / 2]);
        let _ = stream.shutdown(std::net::Shutdown::Both);
        return;
    }
    respond(&mut stream, status, &extra, body);
}

/// A generated model (big enough that half of its weights is a real partial download) in a
/// temporary folder, served by a fake hub.
struct Setup {
    tmp: tempfile::TempDir,
    src: std::path::PathBuf,
    cache: std::path::PathBuf,
    hub: FakeHub,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_tiny_model(&src, &Tiny::default());
    assert!(fs::metadata(src.join("model.safetensors")).unwrap().len() > 1000);
    let cache = tmp.path().join("cache");
    let hub = FakeHub::start(&src);
    Setup {
        tmp,
        src,
        cache,
        hub,
    }
}

/// Runs `cmd`, expecting exit status 2, and returns its stderr.
fn failure(mut cmd: assert_cmd::Command) -> String {
    let out = cmd.assert().code(2).get_output().clone();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn pull(hub: &FakeHub, cache: &Path, name: &str) -> assert_cmd::Command {
    let mut cmd = lexsearch();
    cmd.env("HF_ENDPOINT", &hub.endpoint)
        .env("XDG_CACHE_HOME", cache)
        .env_remove("HF_TOKEN")
        .args(["model", "pull", name, "--json"]);
    cmd
}

#[test]
fn a_broken_download_resumes_where_it_stopped_and_the_model_is_found_by_name() {
    // `_tmp` keeps the folder alive to the end of the test.
    let Setup {
        tmp: _tmp,
        src,
        cache,
        hub,
    } = setup();
    hub.state.lock().unwrap().cut_once = Some("model.safetensors".into());

    let err = failure(pull(&hub, &cache, REPO));
    assert!(
        err.contains("model.safetensors") && err.contains("run the same command again"),
        "{err}"
    );
    let dest = cache.join("lexsearch/models/test-org/tiny-model");
    assert!(!dest.exists(), "an incomplete pull must not be installed");
    // `model list` shows the pull as interrupted, and says how to resume it.
    let list = |json: bool| {
        let mut cmd = lexsearch();
        cmd.env("XDG_CACHE_HOME", &cache).args(["model", "list"]);
        if json {
            cmd.arg("--json");
        }
        cmd
    };
    let listed = success_json(&mut list(true));
    assert_eq!(listed["models"][0]["name"], REPO, "{listed}");
    assert_eq!(listed["models"][0]["kind"], "interrupted", "{listed}");
    let text = list(false).assert().success().get_output().stdout.clone();
    let text = String::from_utf8_lossy(&text);
    assert!(
        text.contains(&format!("`lexsearch model pull {REPO}` resumes it")),
        "{text}"
    );

    let report = success_json(&mut pull(&hub, &cache, REPO));
    assert_eq!(report["commit"], COMMIT);
    assert_eq!(report["up_to_date"], false);
    let weights = fs::read(src.join("model.safetensors")).unwrap();
    let half = (weights.len() / 2) as u64;
    // Kept: the files finished before the break, and the first half of the weights.
    let kept: u64 = ["1_Pooling/config.json", "config.json"]
        .iter()
        .map(|f| fs::metadata(src.join(f)).unwrap().len())
        .sum();
    assert_eq!(
        report["resumed_bytes"].as_u64().unwrap(),
        kept + half,
        "{report}"
    );
    // The second run asked for the weights from where the first one stopped.
    let log = hub.log();
    assert!(
        log.iter()
            .any(|l| l == &format!("GET /cdn/model.safetensors bytes={half}-")),
        "{log:#?}"
    );
    assert!(
        !log.iter().any(|l| l.contains("pytorch_model.bin")),
        "PyTorch weights are not fetched: {log:#?}"
    );
    for entry in walkdir::WalkDir::new(&src) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(&src).unwrap();
            assert_eq!(
                fs::read(dest.join(rel)).unwrap(),
                fs::read(entry.path()).unwrap(),
                "{}",
                rel.display()
            );
        }
    }
    assert!(!dest.join("pytorch_model.bin").exists());

    // `--model ORG/NAME` (and `model check ORG/NAME`) find the pulled folder.
    let check = success_json(
        lexsearch()
            .env("XDG_CACHE_HOME", &cache)
            .args(["model", "check", REPO, "--json"]),
    );
    assert_eq!(check["ok"], true, "{check}");
    assert_eq!(check["model"], dest.display().to_string());
    // And `model list` names it as --model takes it, with the commit it was pulled at.
    let listed = success_json(&mut list(true));
    let models = listed["models"].as_array().unwrap();
    assert_eq!(models.len(), 1, "{listed}");
    assert_eq!(
        (&models[0]["name"], &models[0]["kind"], &models[0]["commit"]),
        (&REPO.into(), &"embedding".into(), &COMMIT.into())
    );
    assert_eq!(models[0]["path"], dest.display().to_string());

    let again = success_json(&mut pull(&hub, &cache, REPO));
    assert_eq!(again["up_to_date"], true);
    assert_eq!(again["downloaded_bytes"], 0);
}

#[test]
fn a_file_that_fails_its_checksum_is_refused_and_nothing_is_installed() {
    let Setup {
        tmp: _tmp,
        cache,
        hub,
        ..
    } = setup();
    hub.state.lock().unwrap().corrupt = Some("config.json".into());
    let err = failure(pull(&hub, &cache, REPO));
    assert!(
        err.contains("config.json") && err.contains("checksum"),
        "{err}"
    );
    assert!(!cache.join("lexsearch/models/test-org/tiny-model").exists());
}

#[test]
fn an_unknown_model_or_a_bad_name_is_refused_with_what_to_do() {
    let Setup { tmp, hub, .. } = setup();
    let err = failure(pull(&hub, tmp.path(), "test-org/missing"));
    assert!(
        err.contains("404") && err.contains("no model test-org/missing"),
        "{err}"
    );
    let err = failure(pull(&hub, tmp.path(), "../escape"));
    assert!(err.contains("ORG/NAME"), "{err}");
}
