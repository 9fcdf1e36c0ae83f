//! The results filter of the TUI and of the MCP `search` tool: a small glob over paths,
//! case-insensitive.
//!
//! `*` matches any run of characters (slashes included), `?` any one character. A pattern
//! without wildcards matches anywhere in the path, so `lease` keeps `commercial-lease.txt`. A
//! pattern without `/` may match the file name alone (`lease*` keeps `2024/lease-a.txt`).

/// Whether `path` (relative to the indexed folder) passes the filter `pattern`.
/// An empty pattern keeps everything.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim();
    if pattern.is_empty() {
        return true;
    }
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let path = path.to_lowercase();
    if !pattern.iter().any(|&c| c == '*' || c == '?') {
        let needle: String = pattern.iter().collect();
        return path.contains(&needle);
    }
    let whole: Vec<char> = path.chars().collect();
    if glob(&pattern, &whole) {
        return true;
    }
    if !pattern.contains(&'/') {
        let name = path.rsplit('/').next().unwrap_or(&path);
        let name: Vec<char> = name.chars().collect();
        return glob(&pattern, &name);
    }
    false
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
    use super::path_matches;

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
