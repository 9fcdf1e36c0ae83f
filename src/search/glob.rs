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
    use super::{PathFilter, path_matches};

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
