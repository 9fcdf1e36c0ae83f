//! Printing: progress bars, summaries, hits (text or JSON), model diagnoses.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anstyle::{AnsiColor, Style};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::embed::{DeviceSpec, Embedder, ModelFiles};
use crate::indexer::{IndexReport, Progress};
use crate::ingest::walk::IGNORE_FILE;
use crate::search::documents::HitContext;
use crate::search::{Mode, SearchJson, SearchRequest, SearchResults};

use super::interrupt::{INTERRUPTED, Interrupt};

/// A progress bar over files, with chunks and throughput in its message; it also tells the
/// run to stop when Ctrl-C asked for it.
pub(super) struct IndexProgress {
    bar: ProgressBar,
    started: Instant,
    chunks: std::sync::atomic::AtomicUsize,
    /// Of those, chunks the encoder computed (not reused), for the throughput shown.
    embedded: std::sync::atomic::AtomicUsize,
    /// When files began to be read (set by [`Progress::started`]): throughput counts from
    /// there, not from the wait for another writer or the plan.
    reading_since: std::sync::OnceLock<Instant>,
    /// Whether files are being read and embedded (set by [`Progress::started`]).
    embedding: Arc<AtomicBool>,
    /// Whether the index run is over ([`indexing_over`](Self::indexing_over)).
    committed: Arc<AtomicBool>,
    interrupt: Option<Interrupt>,
    /// Where a line of progress goes every so often when there is no bar (stderr written to
    /// a log), how often, and when the last one went.
    log: Option<Mutex<ProgressLog>>,
}

/// Lines of progress for a log: one every `every`, none for a run shorter than that.
struct ProgressLog {
    out: Box<dyn Write + Send>,
    every: Duration,
    last: Instant,
}

impl IndexProgress {
    pub(super) fn new(visible: bool) -> Self {
        let bar = if visible {
            ProgressBar::new(0)
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} files  {msg}  ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        IndexProgress {
            bar,
            started: Instant::now(),
            chunks: std::sync::atomic::AtomicUsize::new(0),
            embedded: std::sync::atomic::AtomicUsize::new(0),
            reading_since: std::sync::OnceLock::new(),
            embedding: Arc::default(),
            committed: Arc::default(),
            interrupt: None,
            log: None,
        }
    }

    /// Also writes a line of progress to `out` every `every` (for stderr written to a log,
    /// where no bar shows): files, chunks, throughput and time so far.
    pub(super) fn log_to(&mut self, out: Box<dyn Write + Send>, every: Duration) {
        self.log = Some(Mutex::new(ProgressLog {
            out,
            every,
            last: self.started,
        }));
    }

    /// The next line of the log, when one is due.
    fn log(&self, what: Option<&str>) {
        let Some(log) = &self.log else {
            return;
        };
        let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
        if log.last.elapsed() < log.every {
            return;
        }
        log.last = Instant::now();
        let seconds = self.started.elapsed().as_secs_f64();
        let mut line = format!(
            "indexing: {} of {} files, {}, {seconds:.0} s",
            self.bar.position(),
            self.bar.length().unwrap_or(0),
            self.chunks_and_rate(),
        );
        if let Some(what) = what {
            line.push_str("; ");
            line.push_str(what);
        }
        let _ = writeln!(log.out, "{line}");
    }

    /// Stops the run at its next safe point on Ctrl-C (or SIGTERM): while nothing has been
    /// embedded yet (waiting for another writer, planning) the process ends at once, as
    /// there is nothing to keep; later the vectors computed so far are saved for the next
    /// run first, which the bar says.
    pub(super) fn stop_on_interrupt(&mut self) -> std::io::Result<()> {
        let bar = self.bar.clone();
        let embedding = Arc::clone(&self.embedding);
        let committed = Arc::clone(&self.committed);
        let interrupt = Interrupt::catch(move || {
            if committed.load(Ordering::SeqCst) {
                bar.suspend(|| eprintln!("interrupted"));
                std::process::exit(i32::from(INTERRUPTED));
            }
            if !embedding.load(Ordering::SeqCst) {
                bar.suspend(|| eprintln!("interrupted; the index is unchanged"));
                std::process::exit(i32::from(INTERRUPTED));
            }
            bar.suspend(|| {
                eprintln!(
                    "interrupted: saving the vectors computed so far for the next run \
                     (Ctrl-C again to stop at once)"
                );
            });
        })?;
        self.stop_on(interrupt);
        Ok(())
    }

    /// Stops the run at its next safe point once `interrupt` is requested.
    pub(super) fn stop_on(&mut self, interrupt: Interrupt) {
        self.interrupt = Some(interrupt);
    }

    /// The bar, for printing a line above it.
    pub(super) fn bar(&self) -> ProgressBar {
        self.bar.clone()
    }

    /// Chunks that have vectors so far in this run (embedded or reused).
    pub(super) fn chunks(&self) -> usize {
        self.chunks.load(Ordering::Relaxed)
    }

    /// "1200 chunks (800 reused), 41.3 chunks/s": the chunks so far and the encoder's
    /// throughput, which counts only the chunks it computed (reusing a vector costs nothing
    /// and would make a resumed run look fast).
    fn chunks_and_rate(&self) -> String {
        let total = self.chunks();
        let embedded = self.embedded.load(Ordering::Relaxed);
        let since = self.reading_since.get().unwrap_or(&self.started);
        let rate = embedded as f64 / since.elapsed().as_secs_f64().max(1e-3);
        match total - embedded.min(total) {
            0 => format!("{total} chunks, {rate:.1} chunks/s"),
            reused => format!("{total} chunks ({reused} reused), {rate:.1} chunks/s"),
        }
    }

    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// Says the index run is over (committed or failed): a Ctrl-C from now on, while the
    /// command goes on with other work (`eval`'s queries), ends the process at once.
    pub(super) fn indexing_over(&self) {
        self.committed.store(true, Ordering::SeqCst);
    }
}

impl Progress for IndexProgress {
    fn started(&self, files: usize) {
        self.embedding.store(true, Ordering::SeqCst);
        let _ = self.reading_since.set(Instant::now());
        self.bar.set_length(files as u64);
    }

    fn file_done(&self, _path: &Path) {
        self.bar.inc(1);
        self.log(None);
    }

    fn chunks_done(&self, n: usize, embedded: usize) {
        self.chunks.fetch_add(n, Ordering::Relaxed);
        self.embedded.fetch_add(embedded, Ordering::Relaxed);
        self.bar.set_message(self.chunks_and_rate());
        self.log(None);
    }

    fn stage(&self, what: &str) {
        self.bar.set_message(what.to_string());
        self.log(Some(what));
    }

    fn ocr_page_done(&self, total: usize) {
        self.bar.set_message(format!("OCR: {total} pages read"));
    }

    fn cancelled(&self) -> bool {
        self.interrupt.as_ref().is_some_and(Interrupt::requested)
    }
}

pub(super) fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// `value` as one line of JSON (JSON Lines), flushed so that a reader sees it at once.
pub(super) fn print_json_line<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

pub(super) fn print_index_report(r: &IndexReport) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}, {} in the index: {} added, {} changed, {} removed, {} unchanged",
        counted(r.files_indexed, "file"),
        counted(r.chunks, "chunk"),
        r.added,
        r.changed,
        r.removed,
        r.unchanged
    )?;
    if r.touched > 0 {
        writeln!(
            out,
            "{} only touched (a new time, the same bytes): not read again",
            counted(r.touched, "file")
        )?;
    }
    if r.reread_by_newer_reader > 0 {
        writeln!(
            out,
            "{} unchanged documents read again: this version of lexsearch reads their format \
             differently from the one that indexed them",
            r.reread_by_newer_reader
        )?;
    }
    let with = format!("with {} on {} ({})", r.model, r.device, r.precision);
    if r.chunks_embedded == 0 {
        let reused = match r.chunks_reused {
            0 => String::new(),
            n => format!(" ({} reused)", counted(n, "chunk")),
        };
        writeln!(
            out,
            "nothing to embed{reused}, in {:.1} s {with}",
            r.seconds
        )?;
    } else {
        writeln!(
            out,
            "{} embedded ({:.1} chunks/s; encoder busy {:.0} % of the pipeline), {} reused, in {:.1} s {with}",
            counted(r.chunks_embedded, "chunk"),
            r.chunks_per_second,
            r.encoder_busy_percent,
            r.chunks_reused,
            r.seconds,
        )?;
    }
    writeln!(out, "index: {}", r.index.display())?;
    if r.files_indexed == 0 {
        writeln!(out, "{}", nothing_indexed(r))?;
    }
    if r.unsupported > 0 {
        writeln!(
            out,
            "ignored {} of unsupported types",
            counted(r.unsupported, "file")
        )?;
    }
    if r.ignored > 0 {
        writeln!(out, "{}", left_out(r.ignored))?;
    }
    for p in &r.empty {
        writeln!(out, "no text: {}", shown_path(p))?;
    }
    if !r.skipped.is_empty() {
        writeln!(out, "skipped {}:", counted(r.skipped.len(), "file"))?;
        for s in &r.skipped {
            writeln!(out, "  {}: {}", shown_path(&s.path), shown(&s.reason))?;
        }
    }
    ocr_summary(&mut out, &r.ocr)?;
    Ok(())
}

/// "1 chunk", "2 chunks": a count with its noun in the right number.
pub(super) fn counted(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// The OCR line of the index summary: pages OCR'd, and (once, not per file) how many pages
/// need OCR and how to get it.
fn ocr_summary(out: &mut impl Write, o: &crate::indexer::OcrReport) -> std::io::Result<()> {
    use crate::ingest::ocr::{INSTALL_HINT, OcrMode};
    if o.pages_ocr > 0 {
        writeln!(
            out,
            "OCR: {} PDF pages read by Tesseract ({})",
            o.pages_ocr, o.lang
        )?;
    }
    if o.documents_reread > 0 {
        writeln!(
            out,
            "OCR: {} unchanged documents read again (pages left unread before, another \
             --ocr-lang, or --ocr always changed)",
            o.documents_reread
        )?;
    }
    if o.pages_needing_ocr > 0 {
        let why = if o.mode == OcrMode::Never {
            "OCR is off (--ocr never)".to_string()
        } else {
            format!("Tesseract is not installed; {INSTALL_HINT}")
        };
        writeln!(
            out,
            "{} PDF pages have no text layer and were not read: {why}",
            o.pages_needing_ocr
        )?;
    }
    Ok(())
}

/// Why an index run left no document in the index.
fn nothing_indexed(r: &IndexReport) -> String {
    let mut why = Vec::new();
    if !r.skipped.is_empty() {
        why.push(format!(
            "{} could not be read (listed below)",
            r.skipped.len()
        ));
    }
    if !r.empty.is_empty() {
        why.push(format!("{} have no text", r.empty.len()));
    }
    if r.unsupported > 0 {
        why.push(format!("{} are of unsupported types", r.unsupported));
    }
    if r.ignored > 0 {
        why.push(format!(
            "{} files and folders are named in {IGNORE_FILE}",
            r.ignored
        ));
    }
    if why.is_empty() {
        format!(
            "nothing indexed: {} holds no .txt, .md, .html, .pdf, .docx, .doc, .odt, .rtf, .wpd, .xlsx, .xls, .ods, .csv, .pptx, .odp, .eml, .msg, .mbox, .pst, .ics or .vcf files; the index is empty",
            r.root.display()
        )
    } else {
        format!(
            "nothing indexed: of the files in {}, {}; the index is empty",
            r.root.display(),
            why.join(", ")
        )
    }
}

/// What to do when an index's folder is not where the index recorded it.
pub(super) fn moved_folder(index: &Path) -> String {
    format!(
        "not there (moved, renamed or not mounted): hits name files where they were; \
         `lexsearch index NEWDIR --index {}` records where the folder is now (unchanged files \
         are not read again)",
        index.display()
    )
}

pub(super) fn print_status(s: &crate::maintain::Status) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "index:      {}", s.index.display())?;
    writeln!(out, "folder:     {}", s.root.display())?;
    if !s.root_found {
        writeln!(out, "            {}", moved_folder(&s.index))?;
    }
    writeln!(out, "model:      {} ({})", s.model, s.model_fingerprint)?;
    writeln!(
        out,
        "chunking:   {} tokens, {} overlap, context {}",
        s.chunker.target_tokens,
        s.chunker.overlap_tokens,
        if s.context_in_embedding { "on" } else { "off" }
    )?;
    writeln!(out, "OCR:        {} (--ocr-lang)", s.ocr_lang)?;
    if s.follow_links {
        writeln!(
            out,
            "links:      followed out of the folder (--follow-links)"
        )?;
    }
    writeln!(out, "documents:  {}", s.documents)?;
    writeln!(out, "chunks:     {}", s.chunks)?;
    writeln!(out, "tombstones: {}", s.tombstones)?;
    if s.segment > 0 {
        writeln!(
            out,
            "segment:    {} added since the graph was written (searched exactly)",
            counted(s.segment, "vector")
        )?;
    }
    if !s.not_indexed.is_empty() {
        writeln!(
            out,
            "not indexed: {} that could not be read or hold no text:",
            counted(s.not_indexed.len(), "file")
        )?;
        const SHOWN: usize = 10;
        for n in s.not_indexed.iter().take(SHOWN) {
            writeln!(out, "  {}: {}", shown_path(&n.file), shown(&n.reason))?;
        }
        if s.not_indexed.len() > SHOWN {
            writeln!(
                out,
                "  and {} more (`lexsearch status --json` lists them all)",
                s.not_indexed.len() - SHOWN
            )?;
        }
    }
    if s.keyword_outdated {
        writeln!(
            out,
            "keywords:   made by an earlier version: `sent:`, `from:`, `to:`, `folder:`, `/s`, `/p` and \
             keyword weights that count copied texts once, and phrases that read `attorney's` \
             as `attorneys'`, need the next `lexsearch index` run, which rebuilds it from \
             the catalog"
        )?;
    }
    writeln!(out, "size:       {:.1} MB", s.size_bytes as f64 / 1e6)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    writeln!(
        out,
        "updated:    {} ago, {} (generation {})",
        ago(now.saturating_sub(s.updated_unix)),
        utc_minute(s.updated_unix),
        s.generation
    )?;
    if let Some(pid) = s.writer_pid {
        writeln!(out, "being updated by process {pid}")?;
    }
    Ok(())
}

/// A time span as a person reads it: `42 s`, `7 min`, `1 h 19 min`, `3 days`.
fn ago(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3_600 => format!("{} min", secs / 60),
        3_600..86_400 => format!("{} h {} min", secs / 3_600, secs % 3_600 / 60),
        _ => {
            let days = secs / 86_400;
            format!("{days} day{}", if days == 1 { "" } else { "s" })
        }
    }
}

/// A Unix time to the minute, in UTC: `2026-12-06 15:41 UTC`.
fn utc_minute(unix: u64) -> String {
    let (year, month, day) = crate::dates::civil_from_days((unix / 86_400) as i64);
    let minute = unix % 86_400 / 60;
    format!(
        "{year}-{month:02}-{day:02} {:02}:{:02} UTC",
        minute / 60,
        minute % 60
    )
}

pub(super) fn print_verification(
    v: &crate::maintain::Verification,
    what: &str,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} documents, {} chunks in the catalog",
        v.documents, v.chunks
    )?;
    for f in &v.findings {
        writeln!(out, "  {}: {}", f.part, f.problem)?;
    }
    if let (Some(done), true) = (&v.repair, what == "compact") {
        writeln!(out, "{done}")?;
    } else if v.findings.is_empty() {
        writeln!(out, "ok: catalog, keyword index and vector graph agree")?;
    } else if let Some(done) = &v.repair {
        writeln!(out, "repaired: {done}")?;
    } else {
        writeln!(
            out,
            "run `lexsearch verify --repair` to repair the index from its catalog"
        )?;
    }
    Ok(())
}

pub(super) fn print_search_json(
    req: &SearchRequest,
    results: &SearchResults,
) -> anyhow::Result<()> {
    print_json(&SearchJson::new(req, results))
}

/// Writes the lines around a hit (`search -C N`) as grep does, numbered: `83:` before the
/// lines the hit cites, `81-` before the others; query terms and the pinpoint marked as in a
/// snippet.
fn write_context(
    out: &mut impl Write,
    context: &HitContext,
    query: &str,
    color: bool,
) -> std::io::Result<()> {
    let last = context.line as usize + context.lines.len().saturating_sub(1);
    let width = last.to_string().len();
    let (cited, other) = if color {
        (
            Style::new().fg_color(Some(AnsiColor::Green.into())),
            Style::new().dimmed(),
        )
    } else {
        (Style::new(), Style::new())
    };
    for (i, line) in context.lines.iter().enumerate() {
        let number = context.line + i as u32;
        let is_cited = (context.match_line..=context.match_end_line).contains(&number);
        let (style, sep) = if is_cited { (cited, ':') } else { (other, '-') };
        write!(out, "    {style}{number:>width$}{sep}{style:#}")?;
        if !line.is_empty() {
            write!(out, " ")?;
        }
        let marks = crate::search::snippet::highlight_ranges(line, query);
        let focus = context.focus.get(i).cloned().flatten();
        write_marked(out, line, &marks, focus.as_ref(), color)?;
        writeln!(out)?;
    }
    if let Some(why) = &context.why {
        let dim = if color {
            Style::new().dimmed()
        } else {
            Style::new()
        };
        writeln!(
            out,
            "    {dim}(the indexed passage alone: {}){dim:#}",
            shown(why)
        )?;
    }
    Ok(())
}

/// Writes `text` with the `marks` byte ranges (query terms) in bold red and the `focus` byte
/// range (the pinpoint) underlined, or, without colour, between `»` and `«`.
fn write_marked(
    out: &mut impl Write,
    text: &str,
    marks: &[std::ops::Range<usize>],
    focus: Option<&std::ops::Range<usize>>,
    color: bool,
) -> std::io::Result<()> {
    let focus = focus.filter(|f| f.start < f.end && text.get(f.start..f.end).is_some());
    // Cut the text at every mark and focus boundary; style each piece by what covers it.
    let mut cuts: Vec<usize> = vec![0, text.len()];
    let marks: Vec<&std::ops::Range<usize>> = marks
        .iter()
        .filter(|m| m.start < m.end && text.get(m.start..m.end).is_some())
        .collect();
    for m in marks.iter().copied().chain(focus) {
        cuts.extend([m.start, m.end]);
    }
    cuts.sort_unstable();
    cuts.dedup();
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let piece = &text[a..b];
        let in_focus = focus.is_some_and(|f| f.start <= a && b <= f.end);
        let marked = marks.iter().any(|m| m.start <= a && b <= m.end);
        if !color {
            if focus.is_some_and(|f| f.start == a) {
                write!(out, "»")?;
            }
            write!(out, "{}", shown(piece))?;
            if focus.is_some_and(|f| f.end == b) {
                write!(out, "«")?;
            }
            continue;
        }
        let mut style = Style::new();
        if marked {
            style = style.bold().fg_color(Some(AnsiColor::Red.into()));
        }
        if in_focus {
            style = style.underline();
        }
        write!(out, "{style}{}{style:#}", shown(piece))?;
    }
    Ok(())
}

/// `text` from a document (or a line naming files) made safe to print on a terminal. A
/// document or a file name can hold escape sequences (`ESC [2J` clears the screen, `OSC 52`
/// writes the clipboard), and documents come from anyone: tabs, vertical tabs, form feeds and
/// carriage returns become spaces, and other control characters are written visibly as
/// escapes (`\u{1b}`), as ratatui leaves them out of the TUI.
pub(super) fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' | '\u{b}' | '\u{c}' | '\r' | '\n' => out.push(' '),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `path` made safe to print on a terminal, and unambiguous: control characters (a newline
/// or an escape sequence in a file name) and the bidirectional overrides that can make a
/// name read as another (`U+202E`) are written as escapes (`\n`, `\u{1b}`, `\u{202e}`).
pub(super) fn shown_path(path: &Path) -> String {
    let name = path.to_string_lossy();
    let spoofs = |c: char| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_control() || spoofs(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The line that says how many files and folders the ignore file left out.
pub(super) fn left_out(ignored: usize) -> String {
    let what = if ignored == 1 {
        "file or folder"
    } else {
        "files and folders"
    };
    format!("left out {ignored} {what} named in {IGNORE_FILE}")
}

/// ` that hold +a and +"b c" and not -d among e-mails from:ann and sent:2020 other than
/// e-mails folder:drafts (and their attachments)`: what `+`, `-`, `w/N`, `/s`, `/p`,
/// `heading:`, `from:`, `to:`, `folder:` (also with `-`) and `sent:` in the query asked of
/// every hit (empty when they asked nothing).
fn constraints(results: &SearchResults) -> String {
    // A phrase in its quotes.
    let quoted = |i: &String| {
        if i.contains(char::is_whitespace) {
            format!("\"{i}\"")
        } else {
            i.clone()
        }
    };
    let items = |sign: char, items: &[String]| -> String {
        items
            .iter()
            .map(|i| format!("{sign}{}", quoted(i)))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let mut held: Vec<String> = results
        .required
        .iter()
        .map(|r| items('+', std::slice::from_ref(r)))
        .collect();
    let near =
        |n: &crate::index::keyword::Near| format!("{} {} {}", quoted(&n.a), n.within, quoted(&n.b));
    held.extend(results.near.iter().map(near));
    held.extend(
        (results.apart.iter())
            .map(|n| format!("{} not {} {}", quoted(&n.a), n.within, quoted(&n.b))),
    );
    held.extend(
        (results.at_least.iter()).map(|a| format!("atleast{}({})", a.times, quoted(&a.item))),
    );
    held.extend((results.define.iter()).map(|t| format!("the definition of \"{t}\"")));
    // Groups: one of them at least.
    held.extend(results.any_required.iter().map(|any| {
        format!(
            "({})",
            any.iter().map(quoted).collect::<Vec<_>>().join(" or ")
        )
    }));
    held.extend((results.any_near.iter()).map(|any| {
        format!(
            "({})",
            any.iter().map(near).collect::<Vec<_>>().join(" or ")
        )
    }));
    let mut left_out: Vec<String> = results
        .excluded
        .iter()
        .map(|x| items('-', std::slice::from_ref(x)))
        .collect();
    left_out.extend(results.excluded_near.iter().map(near));
    let mut words = match (held.is_empty(), left_out.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" that hold {}", held.join(" and ")),
        (true, false) => format!(" without {}", left_out.join(" and ")),
        (false, false) => format!(
            " that hold {} and not {}",
            held.join(" and "),
            left_out.join(" or ")
        ),
    };
    // ` under headings with termination and not "events of default"`.
    let headings = |items: &[String]| items.iter().map(quoted).collect::<Vec<_>>();
    let (under, not_under) = (headings(&results.heading), headings(&results.not_heading));
    if !under.is_empty() || !not_under.is_empty() {
        words.push_str(" under headings with ");
        words.push_str(&under.join(" and "));
        if !not_under.is_empty() {
            let not = if under.is_empty() { "no " } else { " and no " };
            words.push_str(&format!("{not}{}", not_under.join(" or ")));
        }
    }
    // `from:x`, `to:y`, `folder:"z w"` and `sent:v` items, as the query writes them.
    let headers = |lists: [&[String]; 4]| -> Vec<String> {
        ["from:", "to:", "folder:", "sent:"]
            .into_iter()
            .zip(lists)
            .flat_map(|(header, items)| {
                items.iter().map(move |i| {
                    if header != "sent:" && i.contains(char::is_whitespace) {
                        format!("{header}\"{i}\"")
                    } else {
                        format!("{header}{i}")
                    }
                })
            })
            .collect()
    };
    let r = results;
    let mail = headers([&r.from, &r.to, &r.folder, &r.sent]);
    let unwanted = headers([&r.not_from, &r.not_to, &r.not_folder, &r.not_sent]);
    let among = if mail.is_empty() {
        String::new()
    } else {
        format!(" among e-mails {}", mail.join(" and "))
    };
    let except = if unwanted.is_empty() {
        String::new()
    } else {
        format!(" other than e-mails {}", unwanted.join(" or "))
    };
    if among.is_empty() && except.is_empty() {
        return words;
    }
    format!("{words}{among}{except} (and their attachments)")
}

/// `search -l`: the file on disk of each hit, once, one a line (an attachment's e-mail for
/// an attachment); nothing when there are no hits (the exit status says so).
pub(super) fn print_files(results: &SearchResults) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    // A script reading the list (`| xargs -d '\n'`) needs the names as they are; a terminal
    // shows them escaped, as `ls` does.
    let terminal = std::io::stdout().is_terminal();
    let mut printed = std::collections::HashSet::new();
    for hit in &results.hits {
        let path = on_disk(&hit.path, &hit.file);
        if printed.insert(path.clone()) {
            if terminal {
                writeln!(out, "{}", shown_path(&path))?;
            } else {
                writeln!(out, "{}", path.display())?;
            }
        }
    }
    Ok(())
}

/// The file on disk that holds the document at `path` (`file` from the indexed folder): the
/// outermost e-mail of an attachment (`mail.eml#a.pdf`), else `path` itself.
fn on_disk(path: &Path, file: &str) -> std::path::PathBuf {
    match crate::ingest::containers_of(Path::new(file)).next() {
        Some(mail) => {
            let cut = file.len() - mail.as_os_str().len();
            let full = path.as_os_str().to_string_lossy();
            std::path::PathBuf::from(&full[..full.len().saturating_sub(cut)])
        }
        None => path.to_path_buf(),
    }
}

pub(super) fn print_hits(
    results: &SearchResults,
    request: &SearchRequest,
    color: bool,
    explain: bool,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let paths = &request.paths;
    if results.hits.is_empty() {
        match results.files_in_scope {
            Some(0) => writeln!(
                out,
                "no hits: no indexed file's path matches --path {paths} (patterns match the \
                 path from the indexed folder, case-insensitive: `*.pdf`, `leases/*`, `lease`)"
            )?,
            Some(files) => writeln!(
                out,
                "no hits in the {} matching --path {paths}{} (try other words, another \
                 --mode, or a wider --path)",
                counted(files, "file"),
                constraints(results)
            )?,
            None if constraints(results).is_empty() => writeln!(
                out,
                "no hits (try {}, or other words)",
                match request.mode {
                    Mode::Hybrid => "--mode keyword or --mode semantic",
                    Mode::Keyword => "--mode hybrid or --mode semantic",
                    Mode::Semantic => "--mode hybrid or --mode keyword",
                }
            )?,
            None => match crate::search::operators::quoted_term(&request.query) {
                // `define:Event of Default`: the term's words go in quotes.
                Some(term) if !results.define.is_empty() => writeln!(
                    out,
                    "no hits{} (a term of several words goes in quotes: {term})",
                    constraints(results)
                )?,
                _ => writeln!(
                    out,
                    "no hits{} (drop one of these conditions, or try other words)",
                    constraints(results)
                )?,
            },
        }
        return Ok(());
    }
    let path_style = if color {
        Style::new()
            .bold()
            .fg_color(Some(AnsiColor::Magenta.into()))
    } else {
        Style::new()
    };
    let dim = if color {
        Style::new().dimmed()
    } else {
        Style::new()
    };
    let crumb_style = if color {
        Style::new().fg_color(Some(AnsiColor::Cyan.into()))
    } else {
        Style::new()
    };
    for hit in &results.hits {
        // Text files print as path:line (editors open that), at the pinpoint's line when there
        // is one; paged files name the page.
        let place = if hit.page.is_none() && hit.paragraph.is_none() {
            format!(":{}", hit.cited_line())
        } else {
            format!("  {}", hit.place_label())
        };
        writeln!(
            out,
            "{:>2}. {path_style}{}{path_style:#}{place}  {dim}score {:.4}{dim:#}{}",
            hit.rank,
            shown_path(&hit.path),
            hit.score,
            if hit.changed {
                "  (file changed since indexed)"
            } else {
                ""
            }
        )?;
        if !hit.breadcrumb.is_empty() {
            writeln!(
                out,
                "    {crumb_style}{}{crumb_style:#}",
                shown(&hit.breadcrumb.join(" > "))
            )?;
        }
        if let Some(mail) = &hit.mail {
            let parts: Vec<String> = [
                ("from", &mail.from),
                ("date", &mail.date),
                ("folder", &mail.folder),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
            .collect();
            if !parts.is_empty() {
                writeln!(out, "    {dim}e-mail {}{dim:#}", shown(&parts.join(", ")))?;
            }
        }
        if explain {
            let arm = |a: Option<crate::search::fusion::ArmScore>, what: &str| match a {
                Some(a) => format!("{what} rank {} ({:.4})", a.rank, a.score),
                None => format!("{what} —"),
            };
            writeln!(
                out,
                "    {dim}{}; {}; {}fused {:.4}; {}matched: {}{dim:#}",
                arm(hit.keyword, "keyword bm25"),
                arm(hit.semantic, "semantic cosine"),
                hit.named.map_or(String::new(), |m| format!(
                    "file named by the query {m:.2}; "
                )),
                hit.score,
                hit.rerank
                    .map_or(String::new(), |r| format!("reranker {r:.4}; ")),
                if hit.matched_terms.is_empty() {
                    "—".to_string()
                } else {
                    hit.matched_terms.join(" ")
                }
            )?;
        }
        if let Some(context) = &hit.context {
            write_context(&mut out, context, &request.query, color)?;
        } else {
            let snippet = hit.snippet.text.replace('\n', " ");
            write!(out, "    ")?;
            write_marked(
                &mut out,
                &snippet,
                &hit.snippet.highlights,
                hit.snippet.pinpoint.as_ref(),
                color,
            )?;
            writeln!(out)?;
        }
        if let Some(copies) = hit.copies_line(3) {
            writeln!(out, "    {dim}{}{dim:#}", shown(&copies))?;
        }
        writeln!(out)?;
    }
    if explain {
        // How the query's operators were read (`AND`, `NOT`, groups, connectors): the
        // conditions every hit meets.
        let conditions = match constraints(results) {
            c if c.is_empty() => String::new(),
            c => format!("; hits{c}"),
        };
        writeln!(
            out,
            "{dim}keyword terms: {}{conditions}; {:.1} ms ({:.1} ms finding pinpoints{}){dim:#}",
            results.keyword_terms.join(" "),
            results.elapsed.as_secs_f64() * 1000.0,
            results.pinpoint_elapsed.as_secs_f64() * 1000.0,
            results.rerank_elapsed.map_or(String::new(), |d| format!(
                ", {:.1} ms reranking",
                d.as_secs_f64() * 1000.0
            ))
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct Check {
    check: &'static str,
    ok: bool,
    detail: String,
}

#[derive(Serialize)]
struct ModelCheck {
    model: String,
    ok: bool,
    /// The transformer family (`bert`, `xlm-roberta`, `modernbert`, ...), once known.
    family: Option<&'static str>,
    /// The pooling mode, once known.
    pooling: Option<&'static str>,
    /// Dense modules after pooling.
    dense: Vec<crate::embed::DenseModule>,
    /// Width of the vectors.
    dim: Option<usize>,
    /// Context length in tokens (longer texts are truncated).
    max_seq_length: Option<usize>,
    /// The folder's prompts by name.
    prompts: std::collections::BTreeMap<String, String>,
    /// The prompt lexsearch puts before queries.
    query_prompt: Option<String>,
    /// The prompt lexsearch puts before documents.
    document_prompt: Option<String>,
    /// The tokenizer's padding side (lexsearch pads on the right; see docs/models.md).
    padding_side: Option<&'static str>,
    checks: Vec<Check>,
    warnings: Vec<String>,
    fix: Option<String>,
}

/// `model list`: the models in `cache`, one line each (or JSON).
pub(super) fn model_list(cache: &Path, json: bool) -> anyhow::Result<super::Outcome> {
    use crate::embed::cache::{CachedKind, cached_models};
    let models = cached_models(cache);
    if json {
        let v = serde_json::json!({"cache": cache, "models": models});
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(super::Outcome::Ok);
    }
    if models.is_empty() {
        println!(
            "no models in {}: scripts/fetch-model installs the default one ({}), and \
             `lexsearch model pull ORG/NAME` fetches others",
            cache.display(),
            crate::embed::DEFAULT_MODEL_NAME
        );
        return Ok(super::Outcome::Ok);
    }
    println!("models in {}:", cache.display());
    let width = models
        .iter()
        .map(|m| m.name.len() + if m.default { 2 } else { 0 })
        .max()
        .unwrap_or(0)
        + 2;
    for m in &models {
        let name = format!("{}{}", m.name, if m.default { " *" } else { "" });
        let what = match m.kind {
            CachedKind::Embedding => "embedding model".to_owned(),
            CachedKind::CrossEncoder => "cross-encoder (--rerank)".to_owned(),
            CachedKind::Interrupted => format!(
                "interrupted pull: `lexsearch model pull {}` resumes it",
                m.name
            ),
            CachedKind::Unreadable => format!(
                "config.json missing or unreadable: `lexsearch model check {}` says why",
                m.path.display()
            ),
        };
        let arch = m
            .architecture
            .as_deref()
            .map(|a| format!(", {a}"))
            .unwrap_or_default();
        let commit = m
            .commit
            .as_deref()
            .map(|c| format!(", pulled at {}", &c[..c.len().min(12)]))
            .unwrap_or_default();
        println!(
            "  {name:<width$}{what}{arch}, {:.1} MB{commit}",
            m.bytes as f64 / 1e6
        );
    }
    if models.iter().any(|m| m.default) {
        println!("* the default, used when no --model is given");
    }
    Ok(super::Outcome::Ok)
}

/// `model check`: every step of loading a model, reported one by one.
pub(super) fn model_check(
    dir: &Path,
    device: DeviceSpec,
    json: bool,
) -> anyhow::Result<super::Outcome> {
    let mut report = ModelCheck {
        model: dir.display().to_string(),
        ok: false,
        family: None,
        pooling: None,
        dense: Vec::new(),
        dim: None,
        max_seq_length: None,
        prompts: Default::default(),
        query_prompt: None,
        document_prompt: None,
        padding_side: None,
        checks: Vec::new(),
        warnings: Vec::new(),
        fix: None,
    };
    let files = match super::inspect(dir) {
        Ok(f) => f,
        Err(e) => {
            report.checks.push(Check {
                check: "files and config",
                ok: false,
                detail: e.to_string(),
            });
            report.fix = Some(e.to_string());
            return finish_check(report, json);
        }
    };
    describe_files(&files, &mut report);
    match Embedder::load(dir, device) {
        Ok(embedder) => {
            let info = embedder.info();
            report.checks.push(Check {
                check: "tokenizer matches config",
                ok: true,
                detail: format!(
                    "{} tokens, config vocab_size {}",
                    info.vocab_size, files.config.vocab_size
                ),
            });
            report.checks.push(Check {
                check: "weights",
                ok: true,
                detail: format!(
                    "{} layers, dimension {}, fingerprint {}",
                    info.layers,
                    info.dim,
                    info.short_fingerprint()
                ),
            });
            let started = Instant::now();
            match embedder.embed(&["The Tenant shall pay the Security Deposit to the Landlord."]) {
                Ok(v) => {
                    let norm = v[0].iter().map(|x| x * x).sum::<f32>().sqrt();
                    report.checks.push(Check {
                        check: "test embedding",
                        ok: v[0].len() == info.dim && (norm - 1.0).abs() < 1e-3,
                        detail: format!(
                            "{} values, norm {norm:.4}, {:.0} ms on {} ({})",
                            v[0].len(),
                            started.elapsed().as_secs_f64() * 1000.0,
                            crate::embed::device_name(embedder.device()),
                            embedder.precision_name()
                        ),
                    });
                }
                Err(e) => report.checks.push(Check {
                    check: "test embedding",
                    ok: false,
                    detail: e.to_string(),
                }),
            }
        }
        Err(e) => {
            report.checks.push(Check {
                check: "load",
                ok: false,
                detail: e.to_string(),
            });
            report.fix = Some(e.to_string());
        }
    }
    report.ok = report.checks.iter().all(|c| c.ok);
    finish_check(report, json)
}

fn describe_files(files: &ModelFiles, report: &mut ModelCheck) {
    report.family = Some(files.family.name());
    report.pooling = Some(files.pooling.name());
    report.dense = files.dense.clone();
    report.dim = Some(files.dim);
    report.max_seq_length = Some(files.max_seq_length);
    report.prompts = files.prompts.clone();
    report.query_prompt = Some(files.query_prompt.clone());
    report.document_prompt = Some(files.document_prompt.clone());
    report.padding_side = Some(files.padding_side.name());
    report.checks.push(Check {
        check: "files",
        ok: true,
        detail: "config.json, tokenizer.json, model.safetensors".into(),
    });
    report.checks.push(Check {
        check: "architecture",
        ok: true,
        detail: format!("{} (family {})", files.architecture, files.family.name()),
    });
    report.checks.push(Check {
        check: "pooling",
        ok: true,
        detail: if files.pooling_from_config {
            format!(
                "{} (from the model's sentence-transformers config)",
                files.pooling.name()
            )
        } else {
            format!("{} (fallback: no pooling config)", files.pooling.name())
        },
    });
    report.checks.push(Check {
        check: "dense layers",
        ok: true,
        detail: if files.dense.is_empty() {
            "none".into()
        } else {
            files
                .dense
                .iter()
                .map(|d| {
                    format!(
                        "{}: {} -> {}{}, {:?}",
                        d.path,
                        d.in_features,
                        d.out_features,
                        if d.bias { " with bias" } else { "" },
                        d.activation
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        },
    });
    report.checks.push(Check {
        check: "output",
        ok: true,
        detail: format!(
            "{} values{}",
            files.dim,
            if files.normalizes {
                ", normalised by the model's Normalize module"
            } else {
                ", normalised by lexsearch (the model has no Normalize module)"
            }
        ),
    });
    report.checks.push(Check {
        check: "prompts",
        ok: true,
        detail: format!(
            "query {:?}, document {:?}{}",
            files.query_prompt,
            files.document_prompt,
            files
                .default_prompt_name
                .as_ref()
                .map(|n| format!(" (default prompt {n:?})"))
                .unwrap_or_default()
        ),
    });
    report.checks.push(Check {
        check: "max sequence length",
        ok: true,
        detail: format!(
            "{} tokens (longer texts lose their {}); tokenizer pads on the {}",
            files.max_seq_length,
            match files.truncation_side {
                crate::embed::Side::Right => "end",
                crate::embed::Side::Left => "start",
            },
            files.padding_side.name()
        ),
    });
    report.warnings.extend(files.warnings.iter().cloned());
}

fn finish_check(report: ModelCheck, json: bool) -> anyhow::Result<super::Outcome> {
    if json {
        print_json(&report)?;
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(out, "model: {}", report.model)?;
        for c in &report.checks {
            writeln!(
                out,
                "  [{}] {}: {}",
                if c.ok { "ok" } else { "FAIL" },
                c.check,
                c.detail
            )?;
        }
        for w in &report.warnings {
            writeln!(out, "  warning: {w}")?;
        }
        writeln!(
            out,
            "{}",
            if report.ok {
                "usable for lexsearch"
            } else {
                "NOT usable for lexsearch"
            }
        )?;
    }
    if report.ok {
        Ok(super::Outcome::Ok)
    } else {
        Ok(super::Outcome::Partial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log that the test reads back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_last_update_reads_as_a_span_and_a_utc_minute() {
        assert_eq!(ago(42), "42 s");
        assert_eq!(ago(4_773), "1 h 19 min");
        assert_eq!(ago(86_400), "1 day");
        assert_eq!(ago(3 * 86_400 + 5), "3 days");
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        // 2026-12-06 15:41:15 UTC; 2024-02-29, a leap day.
        assert_eq!(utc_minute(1_796_571_675), "2026-12-06 15:41 UTC");
        assert_eq!(utc_minute(1_709_164_800), "2024-02-29 00:00 UTC");
    }

    #[test]
    fn without_a_bar_progress_goes_to_the_log_as_lines_and_a_short_run_writes_none() {
        // Reused vectors are counted as chunks but not in the encoder's throughput.
        let run = |every: Duration| -> String {
            let log = Shared::default();
            let mut progress = IndexProgress::new(false);
            progress.log_to(Box::new(log.clone()), every);
            progress.started(3);
            progress.file_done(Path::new("a.txt"));
            progress.chunks_done(5, 0);
            progress.chunks_done(4, 4);
            progress.stage("committing the keyword index");
            let text = log.0.lock().unwrap().clone();
            String::from_utf8(text).unwrap()
        };
        let lines = run(Duration::ZERO);
        assert!(
            lines.starts_with("indexing: 1 of 3 files, 0 chunks, 0.0 chunks/s, "),
            "{lines}"
        );
        assert!(
            lines.contains("indexing: 1 of 3 files, 5 chunks (5 reused), 0.0 chunks/s, "),
            "{lines}"
        );
        assert!(
            lines.contains("indexing: 1 of 3 files, 9 chunks (5 reused), "),
            "{lines}"
        );
        assert!(
            lines
                .lines()
                .last()
                .unwrap()
                .ends_with("; committing the keyword index"),
            "{lines}"
        );
        assert_eq!(lines.lines().count(), 4, "{lines}");
        assert_eq!(run(Duration::from_secs(3600)), "");
    }

    #[test]
    fn escape_sequences_in_documents_and_file_names_print_as_visible_escapes() {
        assert!(matches!(
            shown("plain § 7.2 ¶"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            shown("The \u{1b}[2Jrent\u{c}is \u{9b}due\r\n"),
            "The \\u{1b}[2Jrent is \\u{9b}due  "
        );
        assert_eq!(
            shown_path(Path::new("/m/a\nb\u{1b}]52;c;x\u{7}.pdf")),
            "/m/a\\nb\\u{1b}]52;c;x\\u{7}.pdf"
        );
        // A right-to-left override would show "invoice_fdp.exe" as "invoice_exe.pdf".
        assert_eq!(
            shown_path(Path::new("invoice_\u{202e}fdp.exe")),
            "invoice_\\u{202e}fdp.exe"
        );
    }

    #[test]
    fn an_attachment_is_listed_as_the_e_mail_that_holds_it() {
        let root = Path::new("/m/acme");
        let at = |file: &str| on_disk(&root.join(file), file);
        assert_eq!(at("leases/a.pdf"), root.join("leases/a.pdf"));
        assert_eq!(
            at("mail/thread.eml#lease.pdf"),
            root.join("mail/thread.eml")
        );
        assert_eq!(at("x.msg#inner.eml#a.docx"), root.join("x.msg"));
        // A `#` that does not follow an e-mail's name is part of the file name.
        assert_eq!(at("notes#1.txt"), root.join("notes#1.txt"));
    }
}
