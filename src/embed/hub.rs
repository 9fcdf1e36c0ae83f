//! `lexsearch model pull`: a model folder from the Hugging Face hub into the model cache.
//!
//! The hub's HTTP API (also served by mirrors named in `HF_ENDPOINT`): the file list of a
//! revision comes from `/api/models/{repo}/revision/{rev}?blobs=true`, each file from
//! `/{repo}/resolve/{commit}/{path}` (large files redirect to a CDN). Files are fetched at the
//! commit the revision pointed to when the pull started, so a folder never mixes two commits.
//!
//! A pull is resumable and checked: files land in `NAME.partial/` beside the final folder, an
//! interrupted file is continued with an HTTP range request, every file is checked against the
//! hub's checksum (SHA-256 for large files, the git blob id for the others), and only a complete,
//! checked folder is moved into place, in one rename. Only what lexsearch loads is fetched: the
//! configuration, tokenizer, safetensors weights and sentence-transformers modules, not ONNX,
//! OpenVINO or PyTorch `.bin` copies of the same weights.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::Digest;

/// The public hub, used when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

pub use super::cache::PULL_RECORD;

/// Why a pull failed. Each message names the model, file or server, and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// The name is not `ORG/NAME`.
    #[error(
        "`{name}` is not a hub model name: give it as ORG/NAME, e.g. sentence-transformers/all-MiniLM-L6-v2"
    )]
    BadName {
        /// What was given.
        name: String,
    },
    /// The server could not be reached or the connection broke.
    #[error(
        "cannot download {url}: {message}. Check the network (or HF_ENDPOINT); run the same command again to resume"
    )]
    Network {
        /// The address asked for.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The server answered with an error status.
    #[error("{url} answered HTTP {status}: {hint}")]
    Status {
        /// The address asked for.
        url: String,
        /// The HTTP status.
        status: u16,
        /// What it means and what to do.
        hint: String,
    },
    /// The hub's answer was not what its API documents.
    #[error("unexpected answer from {url}: {message}")]
    Protocol {
        /// The address asked for.
        url: String,
        /// What was wrong with it.
        message: String,
    },
    /// A downloaded file does not match the hub's checksum.
    #[error(
        "{file} of {repo} does not match the hub's checksum (expected {expected}, got {actual}); it was deleted: run the same command again"
    )]
    Checksum {
        /// The model.
        repo: String,
        /// The file in the model folder.
        file: String,
        /// The hub's checksum.
        expected: String,
        /// The checksum of what arrived.
        actual: String,
    },
    /// The revision has no weights lexsearch can load.
    #[error(
        "{repo} at {revision} has no .safetensors weights (files: {files}); lexsearch loads safetensors only: \
         convert the weights (e.g. with transformers' `save_pretrained(..., safe_serialization=True)`) or pick another model"
    )]
    NoWeights {
        /// The model.
        repo: String,
        /// The revision asked for.
        revision: String,
        /// The files the revision has.
        files: String,
    },
    /// A local file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> HubError + '_ {
    move |source| HubError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What a pull reports as it goes, for a progress bar.
pub trait PullProgress {
    /// The files to fetch are known: how many, and their total size in bytes.
    fn planned(&self, _files: usize, _bytes: u64) {}
    /// A file starts; `resumed` bytes of it were already here.
    fn file_started(&self, _path: &str, _size: u64, _resumed: u64) {}
    /// Bytes arrived (counted once, across files).
    fn bytes(&self, _n: u64) {}
}

impl PullProgress for () {}

/// One file of a pulled folder, as recorded in [`PULL_RECORD`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PulledFile {
    /// Path inside the model folder.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// `sha256:HEX` for files stored with Git LFS, `git-blob:HEX` (SHA-1) for the others.
    pub checksum: String,
}

/// What `lexsearch model pull` did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PullReport {
    /// `ORG/NAME`.
    pub repo: String,
    /// The revision asked for (a branch, tag or commit).
    pub revision: String,
    /// The commit it resolved to.
    pub commit: String,
    /// The server it came from.
    pub endpoint: String,
    /// The model folder.
    pub dir: PathBuf,
    /// The files of the folder.
    pub files: Vec<PulledFile>,
    /// Bytes downloaded by this run.
    pub downloaded_bytes: u64,
    /// Bytes kept from an interrupted earlier run.
    pub resumed_bytes: u64,
    /// Whether the folder was already complete at this commit (nothing downloaded).
    pub up_to_date: bool,
}

/// A hub to pull from.
#[derive(Debug, Clone)]
pub struct Hub {
    endpoint: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl Hub {
    /// The hub named by `HF_ENDPOINT` (default the public one), with `HF_TOKEN` if set.
    pub fn from_env() -> Self {
        let endpoint = std::env::var("HF_ENDPOINT")
            .ok()
            .filter(|e| !e.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        let token = std::env::var("HF_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty());
        Self::new(&endpoint, token)
    }

    /// A hub at `endpoint` (e.g. `https://huggingface.co`), with an access token for gated or
    /// private models.
    pub fn new(endpoint: &str, token: Option<String>) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(30)))
            // Reads that stall this long are a broken download, not a slow one.
            .timeout_recv_body(None)
            .timeout_global(None)
            .http_status_as_error(false)
            .user_agent(concat!("lexsearch/", env!("CARGO_PKG_VERSION")))
            .build();
        Hub {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            token,
            agent: config.into(),
        }
    }

    /// The server's address.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Downloads `repo` (`ORG/NAME`) at `revision` into `cache/ORG/NAME`, resuming an interrupted
    /// pull, and returns what it did. The folder is replaced only once complete and checked.
    pub fn pull(
        &self,
        repo: &str,
        revision: &str,
        cache: &Path,
        progress: &dyn PullProgress,
    ) -> Result<PullReport, HubError> {
        let (org, name) = split_name(repo)?;
        let (commit, listed) = self.list(repo, revision)?;
        let files = select_files(&listed);
        if !files.iter().any(|f| f.path.ends_with(".safetensors")) {
            return Err(HubError::NoWeights {
                repo: repo.to_string(),
                revision: revision.to_string(),
                files: listed
                    .iter()
                    .map(|f| f.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let parent = cache.join(org);
        let dest = parent.join(name);
        let mut report = PullReport {
            repo: repo.to_string(),
            revision: revision.to_string(),
            commit: commit.clone(),
            endpoint: self.endpoint.clone(),
            dir: dest.clone(),
            files: files.clone(),
            downloaded_bytes: 0,
            resumed_bytes: 0,
            up_to_date: false,
        };
        if read_record(&dest).is_some_and(|r| r.commit == commit && r.files == files) {
            report.up_to_date = true;
            return Ok(report);
        }
        let partial = parent.join(format!("{name}.partial"));
        // Partial files of another commit are not resumed: their bytes may differ.
        if read_record(&partial).is_some_and(|r| r.commit != commit) {
            fs::remove_dir_all(&partial).map_err(io_error(&partial))?;
        }
        fs::create_dir_all(&partial).map_err(io_error(&partial))?;
        write_record(&partial, &report)?;
        progress.planned(files.len(), files.iter().map(|f| f.size).sum());
        for file in &files {
            let (downloaded, resumed) = self.fetch(repo, &commit, file, &partial, progress)?;
            report.downloaded_bytes += downloaded;
            report.resumed_bytes += resumed;
        }
        write_record(&partial, &report)?;
        install(&partial, &dest)?;
        Ok(report)
    }

    /// The commit `revision` points to and the files it has.
    fn list(&self, repo: &str, revision: &str) -> Result<(String, Vec<PulledFile>), HubError> {
        let url = format!(
            "{}/api/models/{repo}/revision/{}?blobs=true",
            self.endpoint,
            encode_segment(revision)
        );
        let mut response = self.get(&url, None)?;
        check_status(&url, response.status().as_u16(), repo, revision)?;
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| HubError::Network {
                url: url.clone(),
                message: e.to_string(),
            })?;
        let listing: Listing = serde_json::from_str(&text).map_err(|e| HubError::Protocol {
            url: url.clone(),
            message: format!("not the hub's JSON file list: {e}"),
        })?;
        let files = listing
            .siblings
            .into_iter()
            .map(|s| {
                let (size, checksum) = match (s.lfs, s.blob_id) {
                    (Some(lfs), _) => (lfs.size, format!("sha256:{}", lfs.sha256)),
                    (None, Some(blob)) => (s.size.unwrap_or(0), format!("git-blob:{blob}")),
                    (None, None) => {
                        return Err(HubError::Protocol {
                            url: url.clone(),
                            message: format!(
                                "{} has no checksum (the list must be asked for with ?blobs=true)",
                                s.rfilename
                            ),
                        });
                    }
                };
                Ok(PulledFile {
                    path: s.rfilename,
                    size,
                    checksum,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((listing.sha, files))
    }

    /// Fetches one file into `dir`, continuing a partial download; returns (downloaded, resumed).
    fn fetch(
        &self,
        repo: &str,
        commit: &str,
        file: &PulledFile,
        dir: &Path,
        progress: &dyn PullProgress,
    ) -> Result<(u64, u64), HubError> {
        let path = safe_join(dir, &file.path).ok_or_else(|| HubError::Protocol {
            url: self.endpoint.clone(),
            message: format!("unsafe file name {:?} in the file list", file.path),
        })?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        // A finished file was renamed from its .part; one that checks out is kept.
        if path.is_file() && checksum_of(&path, &file.checksum)? == file.checksum {
            progress.file_started(&file.path, file.size, file.size);
            progress.bytes(file.size);
            return Ok((0, file.size));
        }
        let part = path.with_file_name(format!(
            "{}.part",
            path.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        ));
        let mut have = fs::metadata(&part).map_or(0, |m| m.len());
        if have > file.size {
            have = 0;
        }
        let url = format!(
            "{}/{repo}/resolve/{commit}/{}",
            self.endpoint,
            file.path
                .split('/')
                .map(encode_segment)
                .collect::<Vec<_>>()
                .join("/")
        );
        let mut resumed = 0;
        let mut downloaded = 0;
        if have < file.size || file.size == 0 {
            let range = (have > 0).then(|| format!("bytes={have}-"));
            let mut response = self.get(&url, range.as_deref())?;
            let status = response.status().as_u16();
            let append = match status {
                206 => {
                    let start = response
                        .headers()
                        .get("content-range")
                        .and_then(|v| v.to_str().ok())
                        .and_then(content_range_start);
                    if start != Some(have) {
                        return Err(HubError::Protocol {
                            url,
                            message: format!(
                                "asked for bytes from {have}, got a range starting at {start:?}"
                            ),
                        });
                    }
                    true
                }
                200 => false,
                _ => {
                    check_status(&url, status, repo, commit)?;
                    false
                }
            };
            if append {
                resumed = have;
            } else {
                have = 0;
            }
            progress.file_started(&file.path, file.size, resumed);
            progress.bytes(resumed);
            let mut out = fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(append)
                .truncate(!append)
                .open(&part)
                .map_err(io_error(&part))?;
            let mut body = response.body_mut().as_reader();
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = match body.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        out.flush().map_err(io_error(&part))?;
                        return Err(HubError::Network {
                            url,
                            message: format!(
                                "the download of {} broke off after {} of {} bytes ({e})",
                                file.path,
                                have + downloaded,
                                file.size
                            ),
                        });
                    }
                };
                out.write_all(&buf[..n]).map_err(io_error(&part))?;
                downloaded += n as u64;
                progress.bytes(n as u64);
            }
            out.sync_all().map_err(io_error(&part))?;
            if have + downloaded < file.size {
                return Err(HubError::Network {
                    url,
                    message: format!(
                        "the server closed the connection after {} of {} bytes of {}",
                        have + downloaded,
                        file.size,
                        file.path
                    ),
                });
            }
        } else {
            resumed = have;
            progress.file_started(&file.path, file.size, resumed);
            progress.bytes(resumed);
        }
        let actual = checksum_of(&part, &file.checksum)?;
        if actual != file.checksum {
            let _ = fs::remove_file(&part);
            return Err(HubError::Checksum {
                repo: repo.to_string(),
                file: file.path.clone(),
                expected: file.checksum.clone(),
                actual,
            });
        }
        fs::rename(&part, &path).map_err(io_error(&path))?;
        Ok((downloaded, resumed))
    }

    fn get(
        &self,
        url: &str,
        range: Option<&str>,
    ) -> Result<ureq::http::Response<ureq::Body>, HubError> {
        let mut request = self.agent.get(url);
        if let Some(token) = &self.token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        if let Some(range) = range {
            request = request.header("Range", range);
        }
        request.call().map_err(|e| HubError::Network {
            url: url.to_string(),
            message: e.to_string(),
        })
    }
}

/// The hub's file list (`siblings`) and the commit it belongs to (`sha`).
#[derive(Deserialize)]
struct Listing {
    sha: String,
    siblings: Vec<Sibling>,
}

#[derive(Deserialize)]
struct Sibling {
    rfilename: String,
    #[serde(rename = "blobId")]
    blob_id: Option<String>,
    size: Option<u64>,
    lfs: Option<Lfs>,
}

#[derive(Deserialize)]
struct Lfs {
    sha256: String,
    size: u64,
}

/// `ORG/NAME` split, or [`HubError::BadName`].
fn split_name(repo: &str) -> Result<(&str, &str), HubError> {
    super::split_hub_name(repo).ok_or_else(|| HubError::BadName {
        name: repo.to_string(),
    })
}

/// The files of a revision that lexsearch loads: configuration, tokenizer, safetensors weights,
/// sentence-transformers modules and the model card, not other formats of the same weights.
fn select_files(files: &[PulledFile]) -> Vec<PulledFile> {
    files
        .iter()
        .filter(|f| {
            let p = f.path.as_str();
            let (dir, base) = p.rsplit_once('/').unwrap_or(("", p));
            let wanted_ext = [".json", ".safetensors", ".txt", ".model", ".md"]
                .iter()
                .any(|e| base.ends_with(e));
            // Top level, or a sentence-transformers module folder such as 1_Pooling or 2_Dense.
            let module = !dir.contains('/')
                && dir
                    .split_once('_')
                    .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            wanted_ext && (dir.is_empty() || module)
        })
        .cloned()
        .collect()
}

/// `path` inside `dir`, or `None` if `rel` would leave it.
fn safe_join(dir: &Path, rel: &str) -> Option<PathBuf> {
    let mut out = dir.to_path_buf();
    for part in rel.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.contains('\\') {
            return None;
        }
        out.push(part);
    }
    Some(out)
}

/// A URL path segment, percent-encoded.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The first byte of `Content-Range: bytes START-END/TOTAL`.
fn content_range_start(v: &str) -> Option<u64> {
    v.trim()
        .strip_prefix("bytes ")?
        .split('-')
        .next()?
        .trim()
        .parse()
        .ok()
}

fn check_status(url: &str, status: u16, repo: &str, revision: &str) -> Result<(), HubError> {
    let hint = match status {
        200..=299 => return Ok(()),
        401 | 403 => format!(
            "{repo} needs an access token: accept its terms on the hub if it is gated, then set HF_TOKEN"
        ),
        404 => format!(
            "no model {repo} at revision {revision} on this server (check the name; private models need HF_TOKEN)"
        ),
        429 => "the server asks to slow down: wait a minute and run the same command again".into(),
        _ => "the server failed: run the same command again later to resume".into(),
    };
    Err(HubError::Status {
        url: url.to_string(),
        status,
        hint,
    })
}

/// The checksum of `path` in the same form as `expected` (`sha256:` or `git-blob:`).
fn checksum_of(path: &Path, expected: &str) -> Result<String, HubError> {
    let mut file = fs::File::open(path).map_err(io_error(path))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut feed = |update: &mut dyn FnMut(&[u8])| -> Result<(), HubError> {
        loop {
            let n = file.read(&mut buf).map_err(io_error(path))?;
            if n == 0 {
                return Ok(());
            }
            update(&buf[..n]);
        }
    };
    if expected.starts_with("git-blob:") {
        let len = fs::metadata(path).map_err(io_error(path))?.len();
        let mut h = sha1::Sha1::new();
        h.update(format!("blob {len}\0").as_bytes());
        feed(&mut |b| h.update(b))?;
        Ok(format!("git-blob:{}", hex(&h.finalize())))
    } else {
        let mut h = sha2::Sha256::new();
        feed(&mut |b| h.update(b))?;
        Ok(format!("sha256:{}", hex(&h.finalize())))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_record(dir: &Path) -> Option<PullReport> {
    let text = fs::read_to_string(dir.join(PULL_RECORD)).ok()?;
    serde_json::from_str(&text).ok()
}

fn write_record(dir: &Path, report: &PullReport) -> Result<(), HubError> {
    let path = dir.join(PULL_RECORD);
    let text = serde_json::to_string_pretty(report).map_err(|e| HubError::Io {
        path: path.clone(),
        source: std::io::Error::other(e),
    })?;
    fs::write(&path, text).map_err(io_error(&path))
}

/// Moves the complete folder `partial` to `dest`, replacing an older pull in one rename.
fn install(partial: &Path, dest: &Path) -> Result<(), HubError> {
    if dest.exists() {
        let old = dest.with_file_name(format!(
            "{}.old",
            dest.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        ));
        let _ = fs::remove_dir_all(&old);
        fs::rename(dest, &old).map_err(io_error(dest))?;
        fs::rename(partial, dest).map_err(io_error(dest))?;
        let _ = fs::remove_dir_all(&old);
    } else {
        fs::rename(partial, dest).map_err(io_error(dest))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> PulledFile {
        PulledFile {
            path: path.into(),
            size: 1,
            checksum: "git-blob:0".into(),
        }
    }

    #[test]
    fn only_the_files_lexsearch_loads_are_selected() {
        let wanted = [
            "config.json",
            "tokenizer.json",
            "model.safetensors",
            "modules.json",
            "1_Pooling/config.json",
            "2_Dense/model.safetensors",
            "README.md",
        ];
        let other_formats = [
            "pytorch_model.bin",
            "onnx/model.onnx",
            "onnx/config.json",
            "openvino/openvino_model.xml",
            ".gitattributes",
            "rust_model.ot",
            "tf_model.h5",
        ];
        let listed: Vec<PulledFile> = wanted
            .iter()
            .chain(&other_formats)
            .map(|p| file(p))
            .collect();
        let picked: Vec<String> = select_files(&listed).into_iter().map(|f| f.path).collect();
        assert_eq!(picked, wanted);
    }

    #[test]
    fn names_that_could_leave_the_cache_are_refused() {
        assert!(split_name("sentence-transformers/all-MiniLM-L6-v2").is_ok());
        for bad in ["noslash", "../x", "a/..", "a/b/c", "/abs", "a/", "a b/c"] {
            assert!(split_name(bad).is_err(), "{bad}");
        }
        assert!(safe_join(Path::new("/d"), "1_Pooling/config.json").is_some());
        for bad in ["../x", "a/../../x", "", "a//b", "a\\..\\b"] {
            assert!(safe_join(Path::new("/d"), bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_git_blob_checksum_is_gits_own() {
        // `printf 'hello\n' | git hash-object --stdin`
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, b"hello\n").unwrap();
        assert_eq!(
            checksum_of(&p, "git-blob:").unwrap(),
            "git-blob:ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(
            checksum_of(&p, "sha256:").unwrap(),
            "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
        );
    }

    #[test]
    fn content_ranges_and_revisions_are_parsed_and_encoded() {
        assert_eq!(content_range_start("bytes 100-199/200"), Some(100));
        assert_eq!(content_range_start("bytes */200"), None);
        assert_eq!(encode_segment("refs/pr/1"), "refs%2Fpr%2F1");
        assert_eq!(encode_segment("v1.0"), "v1.0");
    }
}
