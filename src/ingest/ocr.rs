//! OCR of PDF pages without a text layer, through the Tesseract engine.
//!
//! Each page is rasterised by poppler's `pdftoppm` (300 dpi, greyscale PNG) and read by the
//! `tesseract` program, both run as child processes: a crash or a hang of either ends that
//! process only, and a page that takes longer than its time budget is killed. Pages are
//! read in parallel, one single-threaded Tesseract per page (docs/formats.md has the
//! measurements behind these choices). The text of each page is cached by the hash of its
//! image ([`OcrCache`]), so indexing the same page again never runs OCR twice.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::program::{find_program, run};

/// When to run OCR on PDF pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OcrMode {
    /// On pages that have no text layer, when Tesseract is installed.
    #[default]
    Auto,
    /// On every page (replacing the text layer), when Tesseract is installed.
    Always,
    /// Never.
    Never,
}

/// Default time budget for the OCR of one page (rasterising included).
pub const DEFAULT_PAGE_TIMEOUT: Duration = Duration::from_secs(120);

/// Resolution pages are rasterised at, in dots per inch (Tesseract reads best at 300).
pub const DPI: u32 = 300;

/// Tesseract's language when none is asked for (`--ocr-lang`).
pub const DEFAULT_LANG: &str = "eng";

/// What to tell a user who has pages to OCR and no engine.
pub const INSTALL_HINT: &str = "install Tesseract and poppler: `apt install tesseract-ocr poppler-utils` (Debian, Ubuntu) or `brew install tesseract poppler` (macOS)";

/// The installed OCR programs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcrEngine {
    /// The `tesseract` program.
    pub tesseract: PathBuf,
    /// poppler's `pdftoppm` program.
    pub pdftoppm: PathBuf,
    /// Tesseract language(s), as for its `-l` option.
    pub lang: String,
}

impl OcrEngine {
    /// Finds `tesseract` and `pdftoppm` on the `PATH`, reading in `lang` (Tesseract's `-l`:
    /// `eng`, `deu+fra`, ...); `None` if either program is missing.
    pub fn detect(lang: &str) -> Option<Self> {
        Some(OcrEngine {
            tesseract: find_program("tesseract")?,
            pdftoppm: find_program("pdftoppm")?,
            lang: lang.into(),
        })
    }

    /// The languages Tesseract has data for (`tesseract --list-langs`).
    pub fn languages(&self) -> Result<Vec<String>, String> {
        let out = run(
            Command::new(&self.tesseract).arg("--list-langs"),
            Duration::from_secs(30),
        )
        .map_err(|e| format!("tesseract --list-langs: {e}"))?;
        // The first line is a header ("List of available languages in ... (3):").
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect())
    }

    /// The languages of `lang` (`deu+fra` is two) that Tesseract has no data for, with the
    /// languages it has; `Err` when Tesseract cannot list them.
    pub fn missing_languages(&self) -> Result<(Vec<String>, Vec<String>), String> {
        let have = self.languages()?;
        let missing = self
            .lang
            .split('+')
            .filter(|l| !have.iter().any(|h| h == l))
            .map(String::from)
            .collect();
        Ok((missing, have))
    }

    /// Rasterises page `page` (1-based) of the PDF at `pdf` into a PNG image, in `dir`.
    pub fn rasterise(
        &self,
        pdf: &Path,
        page: usize,
        dir: &Path,
        timeout: Duration,
    ) -> Result<Vec<u8>, String> {
        let prefix = dir.join(format!("page-{page}"));
        let n = page.to_string();
        let mut cmd = Command::new(&self.pdftoppm);
        cmd.args(["-r", &DPI.to_string(), "-gray", "-png", "-singlefile"])
            .args(["-f", &n, "-l", &n])
            .arg(pdf)
            .arg(&prefix);
        run(&mut cmd, timeout).map_err(|e| format!("pdftoppm: {e}"))?;
        let png = prefix.with_extension("png");
        let bytes = std::fs::read(&png).map_err(|e| format!("pdftoppm wrote no image: {e}"))?;
        let _ = std::fs::remove_file(&png);
        Ok(bytes)
    }

    /// Reads the text of an image file with Tesseract (one thread).
    pub fn recognise(&self, image: &Path, timeout: Duration) -> Result<String, String> {
        let mut cmd = Command::new(&self.tesseract);
        cmd.arg(image)
            .arg("stdout")
            .args(["-l", &self.lang])
            // One thread per page: pages run in parallel instead (docs/formats.md).
            .env("OMP_THREAD_LIMIT", "1");
        let out = run(&mut cmd, timeout).map_err(|e| format!("tesseract: {e}"))?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// What the text of a page depends on besides its image: the engine, its language (a
    /// page read in another language is another text) and the resolution. Keys the cache, and
    /// is recorded with each document whose pages it read.
    pub fn identity(&self) -> String {
        format!("tesseract:{}:{DPI}", self.lang)
    }
}

/// How to install Tesseract's data for `languages` (its codes: `deu`, `chi_sim`, ...).
pub fn install_languages_hint(languages: &[String]) -> String {
    let debian: Vec<String> = languages
        .iter()
        .map(|l| format!("tesseract-ocr-{}", l.to_lowercase().replace('_', "-")))
        .collect();
    format!(
        "`apt install {}` (Debian, Ubuntu) or `brew install tesseract-lang` (macOS)",
        debian.join(" ")
    )
}

/// How the pages of a PDF document were read, as the catalog records it: what a later run
/// needs to know to read again the pages an earlier run could not, or read differently.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PageOcr {
    /// The `--ocr` mode of the run that read the document.
    pub mode: OcrMode,
    /// Pages without a text layer that were left unread (no engine, or `--ocr never`).
    pub pages_unread: u32,
    /// The engine that read its OCR'd pages ([`OcrEngine::identity`]), if any page was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_by: Option<String>,
}

/// Where the OCR text of pages is kept, by the hash of the page image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcrCache {
    dir: PathBuf,
}

impl OcrCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        OcrCache { dir: dir.into() }
    }

    /// The cache's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{key}.txt"))
    }

    /// The text cached under `key`, if any.
    pub fn get(&self, key: &str) -> Option<String> {
        std::fs::read_to_string(self.path(key)).ok()
    }

    /// Stores `text` under `key` (written to a temporary file, then renamed: a reader never
    /// sees half a page). Failures are ignored: the cache only saves time.
    pub fn put(&self, key: &str, text: &str) {
        let path = self.path(key);
        let Some(parent) = path.parent() else {
            return;
        };
        if std::fs::create_dir_all(parent).is_err() {
            return;
        }
        let tmp = parent.join(format!(".{key}.{}.tmp", std::process::id()));
        if std::fs::write(&tmp, text).is_ok() && std::fs::rename(&tmp, &path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// The cache key of a page image: blake3 of the image and of the engine settings.
pub fn image_key(engine: &OcrEngine, image: &[u8]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(engine.identity().as_bytes());
    h.update(&[0]);
    h.update(image);
    h.finalize().to_hex().to_string()
}

/// Called once for each page OCR'd (from the OCR threads), to show progress.
pub type PageHook = std::sync::Arc<dyn Fn() + Send + Sync>;

/// How OCR runs during extraction.
#[derive(Clone)]
pub struct OcrOptions {
    /// When to OCR.
    pub mode: OcrMode,
    /// The engine, when installed.
    pub engine: Option<OcrEngine>,
    /// Where page texts are cached; `None`: no cache.
    pub cache: Option<OcrCache>,
    /// Time budget for one page.
    pub page_timeout: Duration,
    /// Pages read at once (each by a single-threaded Tesseract).
    pub threads: usize,
    /// Called after each page is read (cached or not).
    pub on_page: Option<PageHook>,
}

impl std::fmt::Debug for OcrOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcrOptions")
            .field("mode", &self.mode)
            .field("engine", &self.engine)
            .field("cache", &self.cache)
            .field("page_timeout", &self.page_timeout)
            .field("threads", &self.threads)
            .field("on_page", &self.on_page.is_some())
            .finish()
    }
}

impl Default for OcrOptions {
    /// No OCR: the engine is not looked for.
    fn default() -> Self {
        OcrOptions {
            mode: OcrMode::Never,
            engine: None,
            cache: None,
            page_timeout: DEFAULT_PAGE_TIMEOUT,
            threads: 1,
            on_page: None,
        }
    }
}

impl OcrOptions {
    /// Options for `mode` in language(s) `lang`: the engine found on the `PATH`, the cache in
    /// `LEXSEARCH_OCR_CACHE` or else in `cache` (the index's own, so that the text read from
    /// a client's scans goes when the index goes; `None`: no cache), one page per core at
    /// once.
    pub fn detect(mode: OcrMode, lang: &str, cache: Option<&Path>) -> Self {
        let engine = if mode == OcrMode::Never {
            None
        } else {
            OcrEngine::detect(lang)
        };
        OcrOptions {
            mode,
            engine,
            cache: std::env::var_os("LEXSEARCH_OCR_CACHE")
                .map(PathBuf::from)
                .or_else(|| cache.map(Path::to_path_buf))
                .map(OcrCache::new),
            page_timeout: DEFAULT_PAGE_TIMEOUT,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            on_page: None,
        }
    }

    /// What the catalog records of a PDF document read with these options, which OCR'd
    /// `ocr_pages` of its pages and left `pages_unread` without text.
    pub fn record(&self, ocr_pages: usize, pages_unread: usize) -> PageOcr {
        PageOcr {
            mode: self.mode,
            pages_unread: u32::try_from(pages_unread).unwrap_or(u32::MAX),
            read_by: (ocr_pages > 0)
                .then(|| self.engine.as_ref().map(OcrEngine::identity))
                .flatten(),
        }
    }

    /// Whether a document read earlier as `read` (unchanged since) should be read again with
    /// these options: it has pages left unread and an engine is here now; `--ocr always` is
    /// asked for where it was not, or no longer asked for; or its pages were read in another
    /// language. Never without an engine (nothing would change) or for a document recorded
    /// before lexsearch kept this (`None`).
    pub fn reads_differently(&self, read: Option<&PageOcr>) -> bool {
        let (Some(read), Some(engine)) = (read, &self.engine) else {
            return false;
        };
        if self.mode == OcrMode::Never {
            return false;
        }
        read.pages_unread > 0
            || (read.mode == OcrMode::Always) != (self.mode == OcrMode::Always)
            || read
                .read_by
                .as_deref()
                .is_some_and(|by| by != engine.identity())
    }
}

/// OCRs the given pages (1-based) of a PDF: each page's text, or why it failed, in the
/// order given. Pages run in parallel on `opts.threads` threads.
pub fn ocr_pages(
    engine: &OcrEngine,
    opts: &OcrOptions,
    pdf: &[u8],
    pages: &[usize],
) -> Vec<Result<String, String>> {
    let dir = match tempfile::Builder::new().prefix("lexsearch-ocr").tempdir() {
        Ok(d) => d,
        Err(e) => {
            let why = format!("cannot create a temporary folder: {e}");
            return pages.iter().map(|_| Err(why.clone())).collect();
        }
    };
    let file = dir.path().join("doc.pdf");
    if let Err(e) = std::fs::write(&file, pdf) {
        let why = format!("cannot write a temporary file: {e}");
        return pages.iter().map(|_| Err(why.clone())).collect();
    }
    let one = |page: usize| -> Result<String, String> {
        let got = read_page(engine, opts, &file, dir.path(), page);
        if let Some(hook) = &opts.on_page {
            hook();
        }
        got
    };
    let threads = opts.threads.clamp(1, pages.len().max(1));
    if threads == 1 {
        return pages.iter().map(|&p| one(p)).collect();
    }
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(|| {
            use rayon::prelude::*;
            pages.par_iter().map(|&p| one(p)).collect()
        }),
        Err(_) => pages.iter().map(|&p| one(p)).collect(),
    }
}

/// Rasterises one page, and reads it from the cache or with Tesseract.
fn read_page(
    engine: &OcrEngine,
    opts: &OcrOptions,
    file: &Path,
    dir: &Path,
    page: usize,
) -> Result<String, String> {
    let image = engine.rasterise(file, page, dir, opts.page_timeout)?;
    let key = image_key(engine, &image);
    if let Some(text) = opts.cache.as_ref().and_then(|c| c.get(&key)) {
        return Ok(text);
    }
    let png = dir.join(format!("page-{page}.png"));
    std::fs::write(&png, &image).map_err(|e| format!("cannot write the page image: {e}"))?;
    let text = engine.recognise(&png, opts.page_timeout);
    let _ = std::fs::remove_file(&png);
    let text = text?;
    if let Some(c) = &opts.cache {
        c.put(&key, &text);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(mode: OcrMode, lang: Option<&str>) -> OcrOptions {
        OcrOptions {
            mode,
            engine: lang.map(|l| OcrEngine {
                tesseract: "tesseract".into(),
                pdftoppm: "pdftoppm".into(),
                lang: l.into(),
            }),
            ..OcrOptions::default()
        }
    }

    #[test]
    fn a_document_is_read_again_only_when_this_run_would_read_its_pages_differently() {
        let auto = options(OcrMode::Auto, Some("eng"));
        let unread = options(OcrMode::Auto, None).record(0, 2);
        assert_eq!(unread.read_by, None);
        // Pages left unread, and an engine now: read again. Without one, or with OCR off: not.
        assert!(auto.reads_differently(Some(&unread)));
        assert!(!options(OcrMode::Auto, None).reads_differently(Some(&unread)));
        assert!(!options(OcrMode::Never, None).reads_differently(Some(&unread)));
        // Read in English: not again in English, again in German.
        let read = auto.record(2, 0);
        assert_eq!(read.read_by.as_deref(), Some("tesseract:eng:300"));
        assert!(!auto.reads_differently(Some(&read)));
        assert!(options(OcrMode::Auto, Some("deu")).reads_differently(Some(&read)));
        // A text layer only: nothing for OCR to do, unless --ocr always is asked for (or dropped).
        let text = auto.record(0, 0);
        assert!(!auto.reads_differently(Some(&text)));
        assert!(!options(OcrMode::Auto, Some("deu")).reads_differently(Some(&text)));
        let always = options(OcrMode::Always, Some("eng"));
        assert!(always.reads_differently(Some(&text)));
        assert!(auto.reads_differently(Some(&always.record(3, 0))));
        // Documents recorded before lexsearch kept this are left as they are.
        assert!(!always.reads_differently(None));
    }

    #[test]
    fn the_install_hint_names_debians_package_of_each_language() {
        let hint = install_languages_hint(&["deu".into(), "chi_sim".into()]);
        assert!(
            hint.contains("apt install tesseract-ocr-deu tesseract-ocr-chi-sim"),
            "{hint}"
        );
    }

    #[test]
    fn the_cache_returns_what_was_stored_under_the_same_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let cache = OcrCache::new(dir.path().join("ocr"));
        assert_eq!(cache.get("abcdef"), None);
        cache.put("abcdef", "Page text");
        assert_eq!(cache.get("abcdef").as_deref(), Some("Page text"));
        assert_eq!(cache.get("abcdeg"), None);
    }
}
