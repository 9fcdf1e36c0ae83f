//! Narrowing a search to some files (`search --path`, the TUI's filter, the MCP `search`
//! tool's `path`): a small glob over paths, case-insensitive.
//!
//! `*` matches any run of characters (slashes included), `?` any one character. A pattern
//! without wildcards matches anywhere in the path, so `lease` keeps `commercial-lease.txt`. A
//! pattern without `/` may match the file name alone (`lease*` keeps `2024/lease-a.txt`).

/// The files a search looks in: patterns of [`path_matches`], any one of which a file's path
/// (relative to the indexed folder) must match. Empty: every file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct PathFilter(Vec<String>);

impl PathFilter {
    /// The filter of `patterns`, trimmed; blank ones are dropped (none left keeps every file).
    pub fn new<S: AsRef<str>>(patterns: impl IntoIterator<Item = S>) -> Self {
        PathFilter(
            patterns
                .into_iter()
                .map(|p| p.as_ref().trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
        )
    }

    /// Whether the filter keeps every file.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The patterns, as given.
    pub fn patterns(&self) -> &[String] {
        &self.0
    }

    /// Whether the file at `path` (relative to the indexed folder) is searched.
    pub fn keeps(&self, path: &str) -> bool {
        self.0.is_empty() || self.matcher().keeps(path)
    }

    /// The patterns prepared once, for testing many paths.
    pub fn matcher(&self) -> PathMatcher {
        PathMatcher(self.0.iter().map(|p| Pattern::new(p)).collect())
    }
}

impl std::fmt::Display for PathFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" or "))
    }
}

/// A [`PathFilter`]'s patterns, lowercased and split into characters once.
pub struct PathMatcher(Vec<Pattern>);

impl PathMatcher {
    /// Whether the file at `path` is searched ([`PathFilter::keeps`]).
    pub fn keeps(&self, path: &str) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let lower = path.to_lowercase();
        let mut chars = None;
        self.0.iter().any(|p| p.matches(&lower, &mut chars))
    }
}

/// One pattern of [`path_matches`], prepared.
struct Pattern {
    /// Lowercased, trimmed.
    text: String,
    /// The same, as characters, when it has a wildcard; `None` for a substring.
    glob: Option<Vec<char>>,
}

impl Pattern {
    fn new(pattern: &str) -> Self {
        let text = pattern.trim().to_lowercase();
        let glob = text.contains(['*', '?']).then(|| text.chars().collect());
        Pattern { text, glob }
    }

    /// Whether the lowercased `path` matches (`chars`: its characters, made on first need).
    fn matches(&self, path: &str, chars: &mut Option<Vec<char>>) -> bool {
        let Some(pattern) = &self.glob else {
            return path.contains(&self.text);
        };
        let whole = chars.get_or_insert_with(|| path.chars().collect());
        if glob(pattern, whole) {
            return true;
        }
        if !self.text.contains('/') {
            let name = path.rsplit('/').next().unwrap_or(path);
            let name: Vec<char> = name.chars().collect();
            return glob(pattern, &name);
        }
        false
    }
}

/// A pattern written as a path from the folder the user stands in (`./leases`, `../2024/*.pdf`,
/// `.`, a full path) as the pattern from the indexed folder `root` that keeps the same files:
/// a folder keeps everything under it (`leases/2024/*`), the indexed folder itself every file
/// (a blank pattern, which [`PathFilter::new`] drops). Other patterns are returned as written. `cwd` is the folder the user stands in; an error says a path outside `root`.
pub fn from_where_you_stand(
    pattern: &str,
    cwd: &std::path::Path,
    root: &std::path::Path,
) -> Result<String, String> {
    use std::path::{Component, Path, PathBuf};
    let trimmed = pattern.trim();
    let relative =
        ["./", "../"].iter().any(|p| trimmed.starts_with(p)) || matches!(trimmed, "." | "..");
    if !relative && !Path::new(trimmed).is_absolute() {
        return Ok(pattern.to_string());
    }
    let mut full = PathBuf::new();
    for c in cwd.join(trimmed).components() {
        match c {
            Component::ParentDir => {
                full.pop();
            }
            Component::CurDir => {}
            other => full.push(other),
        }
    }
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let Ok(rel) = full.strip_prefix(&root) else {
        return Err(format!(
            "--path {trimmed:?} is {}, outside the indexed folder {}: give a path inside it, \
             or a pattern from it (`leases/*`, `*.pdf`)",
            full.display(),
            root.display()
        ));
    };
    let rel: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let rel = rel.join("/");
    Ok(if rel.is_empty() {
        String::new()
    } else if full.is_dir() {
        format!("{rel}/*")
    } else {
        rel
    })
}

/// Whether `path` (relative to the indexed folder) passes the filter `pattern`.
/// An empty pattern keeps everything.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    Pattern::new(pattern).matches(&path.to_lowercase(), &mut None)
}

/// Wildcard matching with one backtrack point (the classic linear-time algorithm).
fn glob(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::{PathFilter, from_where_you_stand, path_matches};

    #[test]
    fn a_path_from_where_the_user_stands_becomes_a_pattern_from_the_indexed_folder() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("leases/2024")).unwrap();
        let sub = root.join("leases");
        let from = |p: &str, cwd: &std::path::Path| from_where_you_stand(p, cwd, &root);
        assert_eq!(from("./leases", &root).unwrap(), "leases/*");
        assert_eq!(from("./leases/", &root).unwrap(), "leases/*");
        assert_eq!(from(".", &sub).unwrap(), "leases/*");
        assert_eq!(from("./2024/*.pdf", &sub).unwrap(), "leases/2024/*.pdf");
        assert_eq!(from("../nda.md", &sub).unwrap(), "nda.md");
        // The indexed folder itself: every file (a blank pattern, which the filter drops).
        assert_eq!(from("..", &sub).unwrap(), "");
        let full = root.join("leases/2024").display().to_string();
        assert_eq!(from(&full, &root).unwrap(), "leases/2024/*");
        // Patterns from the indexed folder are left as written.
        for p in ["leases", "*.pdf", "2024/*nda*"] {
            assert_eq!(from(p, &sub).unwrap(), p);
        }
        let outside = from("../..", &sub).unwrap_err();
        assert!(outside.contains("outside the indexed folder"), "{outside}");
        // What it gives keeps the files the path names.
        assert!(path_matches(
            &from("./2024", &sub).unwrap(),
            "leases/2024/a.txt"
        ));
        assert!(!path_matches(
            &from("./2024", &sub).unwrap(),
            "old/leases/2024/a.txt"
        ));
    }

    #[test]
    fn a_path_filter_keeps_files_any_pattern_matches_and_blank_patterns_keep_all() {
        let f = PathFilter::new(["leases/*", " *.pdf "]);
        assert!(f.keeps("leases/a.txt") && f.keeps("x/b.PDF"));
        assert!(!f.keeps("nda.md"));
        assert_eq!(f.to_string(), "leases/* or *.pdf");
        let blank = PathFilter::new(["", "  "]);
        assert!(blank.is_empty() && blank.keeps("anything.txt"));
    }

    #[test]
    fn globs_substrings_and_file_names() {
        assert!(path_matches("", "a/b.txt"));
        assert!(path_matches("*.md", "nda.md"));
        assert!(path_matches("*.md", "deals/2024/nda.md"));
        assert!(!path_matches("*.md", "nda.txt"));
        assert!(path_matches("lease", "commercial-LEASE.txt"));
        assert!(path_matches("LEASE*", "2024/lease-a.txt"));
        assert!(!path_matches("2023/*", "2024/lease-a.txt"));
        assert!(path_matches("2024/*.txt", "2024/lease-a.txt"));
        assert!(path_matches("n?a.md", "nda.md"));
        assert!(!path_matches("n?a.md", "nada.md"));
        assert!(path_matches("*a*b*c*", "xaybzc"));
        assert!(path_matches("§*", "§ 7.2.txt"));
        assert!(path_matches("**", ""));
    }
}
