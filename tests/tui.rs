//! The TUI end to end: its search thread on real indexes, and the real binary in a
//! pseudo-terminal driven with tmux (skipped, with a message, where tmux is not installed).
//! Screens are polled with a generous timeout; no test depends on how fast anything is.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use lexsearch::search::citation::CrossReference;
use lexsearch::search::{Mode, SearchRequest, Searcher};
use lexsearch::tui::worker::{self, Job, ModelSource};
use lexsearch::tui::{Action, Failure, Outcome};
use lexsearch::{DeviceSpec, Precision, library::find_index};
use predicates::str::contains;

use crate::common::{
    Tiny, copy_tree, index_folder, indexed_sample, lexsearch, sample_corpus, write_tiny_model,
};

/// How long a screen may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(30);

/// Asks the worker for `query` in `mode` and waits for its answer.
fn ask(
    jobs: &mpsc::Sender<Job>,
    actions: &mpsc::Receiver<Action>,
    seq: u64,
    query: &str,
    mode: Mode,
) -> Result<Outcome, Failure> {
    let request = SearchRequest {
        mode,
        ..SearchRequest::new(query, 10)
    };
    jobs.send(Job::Search { seq, request }).unwrap();
    loop {
        match actions.recv_timeout(PATIENCE).expect("the worker answers") {
            Action::Results { seq: s, result } if s == seq => return result,
            _ => continue,
        }
    }
}

fn files(outcome: &Outcome) -> Vec<&str> {
    outcome.found.iter().map(|f| f.hit.file.as_str()).collect()
}

#[test]
fn keyword_search_needs_no_model_and_a_missing_model_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    write_tiny_model(&model, &Tiny::default());
    let docs = dir.path().join("corpus");
    copy_tree(&sample_corpus(), &docs);
    index_folder(&model, &docs);
    let searcher = Searcher::open(&find_index(&docs).unwrap()).unwrap();
    let (tx, actions) = mpsc::channel();
    let source = ModelSource {
        dir: dir.path().join("no-such-model"),
        device: DeviceSpec::Cpu,
        precision: Precision::Auto,
        preload: false,
    };
    let jobs = worker::spawn(searcher, source, tx).unwrap();

    let outcome = ask(&jobs, &actions, 1, "security deposit", Mode::Keyword).unwrap();
    assert_eq!(
        files(&outcome)[0],
        "commercial-lease.txt",
        "{:?}",
        files(&outcome)
    );
    let err = ask(&jobs, &actions, 2, "security deposit", Mode::Semantic).unwrap_err();
    assert!(!err.in_query, "{err:?}");
    let err = err.message;
    assert!(err.contains("cannot load the model"), "{err}");
    assert!(err.contains("keyword mode works without it"), "{err}");
    // A query that cannot be searched as written is told apart: editing it mends it.
    let bad = ask(
        &jobs,
        &actions,
        3,
        "NOT (rent AND deposit) lease",
        Mode::Keyword,
    );
    let bad = bad.unwrap_err();
    assert!(bad.in_query, "{bad:?}");
    assert!(bad.message.contains("is not read as a group"), "{bad:?}");
    // The thread lives on.
    assert!(ask(&jobs, &actions, 4, "deposit", Mode::Keyword).is_ok());
}

#[test]
fn the_worker_previews_hits_inside_their_documents() {
    let Some(docs) = indexed_sample() else { return };
    let searcher = Searcher::open(&find_index(docs).unwrap()).unwrap();
    let model = searcher.manifest().model.dir.clone();
    let (tx, actions) = mpsc::channel();
    let source = ModelSource {
        dir: model,
        device: DeviceSpec::Cpu,
        precision: Precision::Auto,
        preload: true,
    };
    let jobs = worker::spawn(searcher, source, tx).unwrap();
    let outcome = ask(&jobs, &actions, 7, "security deposit", Mode::Hybrid).unwrap();
    assert!(
        files(&outcome).contains(&"commercial-lease.txt"),
        "{:?}",
        files(&outcome)
    );
    for found in &outcome.found {
        let p = &found.preview;
        assert_eq!(
            &p.text[p.chunk.clone()],
            found.hit.text,
            "{}",
            found.hit.file
        );
        if found.hit.file.ends_with(".txt") || found.hit.file.ends_with(".md") {
            // Plain text: the chunk sits at its byte range in the file, with context around it.
            assert!(p.from_file, "{}", found.hit.file);
            assert!(p.text.len() > found.hit.text.len(), "{}", found.hit.file);
        }
    }
    let lease = outcome
        .found
        .iter()
        .find(|f| f.hit.file == "commercial-lease.txt")
        .unwrap();
    assert!(!lease.preview.highlights.is_empty());
}

/// The sample corpus and a Word document, indexed with a random-weight model (a temporary
/// folder holding both, and the corpus's folder).
fn sample_with_a_word_document() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    write_tiny_model(&model, &Tiny::default());
    let docs = dir.path().join("corpus");
    copy_tree(&sample_corpus(), &docs);
    std::fs::copy(
        crate::common::repo().join("tests/fixtures/doc/lease.docx"),
        docs.join("lease.docx"),
    )
    .unwrap();
    index_folder(&model, &docs);
    (dir, docs)
}

/// The search thread on the index of `docs`, for keyword searches (the model is not loaded).
fn keyword_worker(docs: &Path) -> (mpsc::Sender<Job>, mpsc::Receiver<Action>) {
    let searcher = Searcher::open(&find_index(docs).unwrap()).unwrap();
    let (tx, actions) = mpsc::channel();
    let source = ModelSource {
        dir: searcher.manifest().model.dir.clone(),
        device: DeviceSpec::Cpu,
        precision: Precision::Auto,
        preload: false,
    };
    (worker::spawn(searcher, source, tx).unwrap(), actions)
}

#[test]
fn the_worker_previews_html_and_word_hits_inside_their_extracted_text_after_the_results() {
    let (_dir, docs) = sample_with_a_word_document();
    let (jobs, actions) = keyword_worker(&docs);
    for (seq, query, ext) in [
        (1, "terminate access", ".html"),
        (2, "late charge", ".docx"),
    ] {
        let outcome = ask(&jobs, &actions, seq, query, Mode::Keyword).unwrap();
        // Their files are not their text: the results show their chunks alone ...
        let extracted: Vec<_> = outcome
            .found
            .iter()
            .filter(|f| f.hit.file.ends_with(".html") || f.hit.file.ends_with(".docx"))
            .collect();
        assert!(
            extracted.iter().any(|f| f.hit.file.ends_with(ext)),
            "{query}: {:?}",
            files(&outcome)
        );
        for f in &extracted {
            assert!(!f.preview.from_file, "{}", f.hit.file);
        }
        // ... and a preview inside the extracted document follows for each.
        let mut previewed = std::collections::HashMap::new();
        while previewed.len() < extracted.len() {
            match actions
                .recv_timeout(PATIENCE)
                .expect("the worker sends previews")
            {
                Action::Preview {
                    seq: s,
                    chunk_id,
                    preview,
                } if s == seq => {
                    previewed.insert(chunk_id, preview);
                }
                other => panic!("{query}: unexpected {other:?}"),
            }
        }
        for f in &extracted {
            let p = &previewed[&f.hit.chunk_id];
            assert!(p.from_file, "{}", f.hit.file);
            assert_eq!(&p.text[p.chunk.clone()], f.hit.text, "{}", f.hit.file);
            if f.hit.file.ends_with(".html") {
                assert!(p.text.len() > f.hit.text.len(), "{}: {p:?}", f.hit.file);
            }
        }
    }
}

#[test]
fn the_worker_reads_the_section_a_hit_refers_to_inside_its_document() {
    let (_dir, docs) = sample_with_a_word_document();
    let (jobs, actions) = keyword_worker(&docs);
    let query = "balance after any application permitted itemized statement";
    let outcome = ask(&jobs, &actions, 1, query, Mode::Keyword).unwrap();
    // A passage of Section 4.3 that refers to Section 4.2.
    let hit = (outcome.found.iter())
        .map(|f| &f.hit)
        .find(|h| h.file == "commercial-lease.txt" && h.text.contains("permitted by Section 4.2"))
        .unwrap_or_else(|| panic!("{:?}", files(&outcome)));
    let refs = lexsearch::search::citation::cross_references(&hit.text);
    assert_eq!(refs[0].cited, "Section 4.2", "{refs:?}");
    let section = |reference: CrossReference| {
        jobs.send(Job::Section {
            seq: 1,
            hit: Box::new(hit.clone()),
            index: 0,
            reference,
            query: query.into(),
        })
        .unwrap();
        loop {
            match actions.recv_timeout(PATIENCE).expect("the section is read") {
                Action::Section {
                    seq: 1,
                    chunk_id,
                    index: 0,
                    result,
                } if chunk_id == hit.chunk_id => return result,
                _ => continue,
            }
        }
    };
    let found = section(refs[0].clone()).unwrap();
    // The section whole, at its place, inside the document as the preview shows a chunk.
    let lease = std::fs::read_to_string(docs.join("commercial-lease.txt")).unwrap();
    let line = lease
        .lines()
        .position(|l| l.starts_with("Section 4.2 "))
        .unwrap()
        + 1;
    assert_eq!(found.hit.line as usize, line);
    assert!(
        found
            .hit
            .text
            .starts_with("Section 4.2 Application of Security Deposit.")
            && found
                .hit
                .text
                .ends_with("restore the Security Deposit to its full amount."),
        "{}",
        found.hit.text
    );
    let p = &found.preview;
    assert!(p.from_file);
    assert_eq!(&p.text[p.chunk.clone()], found.hit.text);
    assert!(p.text.len() > found.hit.text.len());
    // One the document has no heading for is refused with what to do.
    let missing = CrossReference {
        cited: "Exhibit Z".into(),
        kind: "Exhibit",
        number: "Z".into(),
        paragraph: Vec::new(),
    };
    let why = section(missing).unwrap_err();
    assert!(
        why.contains("Exhibit Z")
            && why.contains("commercial-lease.txt")
            && why.contains("--outline"),
        "{why}"
    );
}

#[test]
fn a_code_section_a_hit_cites_is_read_from_its_own_file_at_the_paragraph_cited() {
    let (_dir, model, docs) = crate::common::tiny_model_and_folder();
    // Two sections of a code, each a file of its own, as the D.C. Code's are.
    std::fs::write(
        docs.join("42-3401.03.txt"),
        "D.C. Code § 42-3401.03. Definitions.\n\nFor the purposes of this chapter:\n  \
         (16) \"Rental unit\" means any part of a housing accommodation.\n  (17) \"Tenant\" \
         includes a tenant, subtenant, lessee, or other person entitled to the possession of \
         a rental unit.\n  (18) \"Wilderbeast\" means nothing here.\n",
    )
    .unwrap();
    std::fs::write(
        docs.join("42-3505.01.txt"),
        "D.C. Code § 42-3505.01. Evictions.\n\n  (a) No tenant shall be evicted from a rental \
         unit, except as provided in this section.\n  (b) A displaced tenant, as defined in § \
         42-3401.03(17) and § 99-1.01, stays a tenant until the tenant has waived those \
         rights in writing.\n",
    )
    .unwrap();
    index_folder(&model, &docs);
    let (jobs, actions) = keyword_worker(&docs);
    let outcome = ask(&jobs, &actions, 1, "displaced tenant waived", Mode::Keyword).unwrap();
    let hit = (outcome.found.iter())
        .map(|f| &f.hit)
        .find(|h| {
            h.text
                .contains("as defined in § 42-3401.03(17) and § 99-1.01")
        })
        .unwrap_or_else(|| panic!("{:?}", files(&outcome)));
    let refs = lexsearch::search::citation::cross_references(&hit.text);
    let read = |index: usize| {
        jobs.send(Job::Section {
            seq: 1,
            hit: Box::new(hit.clone()),
            index,
            reference: refs[index].clone(),
            query: "tenant".into(),
        })
        .unwrap();
        loop {
            match actions.recv_timeout(PATIENCE).expect("the section is read") {
                Action::Section {
                    seq: 1,
                    index: i,
                    result,
                    ..
                } if i == index => return result,
                _ => continue,
            }
        }
    };
    // The definition cited, in the file that is that section, marked in its preview.
    let found = read(0).unwrap();
    assert_eq!(found.hit.file, "42-3401.03.txt");
    assert!(
        found.hit.text.starts_with("(17) \"Tenant\" includes")
            && found.hit.text.ends_with("possession of a rental unit."),
        "{}",
        found.hit.text
    );
    assert_eq!(found.hit.line, 5);
    let p = &found.preview;
    assert!(
        p.from_file && p.text.contains("(16) \"Rental unit\""),
        "{p:?}"
    );
    assert_eq!(&p.text[p.chunk.clone()], found.hit.text);
    // A section the index does not have is named, with where to look.
    assert_eq!(refs[1].cited, "§ 99-1.01");
    let why = read(1).unwrap_err();
    assert!(
        why.contains("§ 99-1.01 names no heading of 42-3505.01.txt"),
        "{why}"
    );
}

#[cfg(unix)]
#[test]
fn a_document_stalling_while_read_for_a_preview_does_not_hold_up_the_next_search() {
    let (_dir, docs) = sample_with_a_word_document();
    // A file on a network share that stalls: a named pipe in place of an indexed page blocks
    // whoever reads it until its other end is closed.
    let page = docs.join("terms-of-service.html");
    std::fs::remove_file(&page).unwrap();
    let made = Command::new("mkfifo").arg(&page).status().unwrap();
    assert!(made.success(), "mkfifo {}", page.display());
    let (reading, reader_in) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let stall = page.clone();
    std::thread::spawn(move || {
        // Opening the writing end waits for a reader.
        let writer = std::fs::File::options().write(true).open(&stall).unwrap();
        reading.send(()).unwrap();
        let _ = released.recv();
        drop(writer);
    });
    let (jobs, actions) = keyword_worker(&docs);
    let first = ask(
        &jobs,
        &actions,
        1,
        "arbitration class action waiver",
        Mode::Keyword,
    )
    .unwrap();
    assert!(
        files(&first).contains(&"terms-of-service.html"),
        "{:?}",
        files(&first)
    );
    // Its preview is being read: the page is open and nothing comes out of it ...
    reader_in
        .recv_timeout(PATIENCE)
        .expect("the page is read for its preview");
    // ... and the next search is answered meanwhile, its hits shown with their chunks.
    let second = ask(&jobs, &actions, 2, "late charge", Mode::Keyword).unwrap();
    let docx = (second.found.iter())
        .find(|f| f.hit.file == "lease.docx")
        .unwrap_or_else(|| panic!("{:?}", files(&second)));
    assert!(!docx.preview.from_file);
    // Once the page gives out, its list is left (a newer request came) and the newest
    // request's previews follow.
    release.send(()).unwrap();
    loop {
        match actions.recv_timeout(PATIENCE).expect("the previews follow") {
            Action::Preview { seq, chunk_id, .. } if chunk_id == docx.hit.chunk_id => {
                assert_eq!(seq, 2);
                break;
            }
            Action::Preview { seq, .. } => assert_eq!(seq, 2, "a preview of a list left"),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn lexsearch_alone_outside_an_index_prints_the_help() {
    let dir = tempfile::tempdir().unwrap();
    lexsearch()
        .current_dir(dir.path())
        .assert()
        .code(2)
        .stderr(contains("Usage"))
        .stderr(contains("tui"));
    // In a folder of matters, the indexed one below is named before the help.
    let (matters, model, docs) = crate::common::tiny_model_and_folder();
    std::fs::write(docs.join("lease.txt"), "The Tenant shall pay rent.\n").unwrap();
    crate::common::index_folder(&model, &docs);
    lexsearch()
        .current_dir(matters.path())
        .assert()
        .code(2)
        .stderr(contains(
            "docs below it is indexed: search there, or pass `--index docs`",
        ))
        .stderr(contains("Usage"));
}

#[test]
fn the_tui_refuses_to_run_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    lexsearch()
        .current_dir(dir.path())
        .arg("tui")
        .assert()
        .code(2)
        .stderr(contains("needs a terminal"));
}

/// A tmux server of its own (its own socket in a temporary folder, no user config), killed
/// when dropped.
pub(crate) struct Tmux {
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// A `cols`x`rows` session running `sh` in `cwd`, or `None` when tmux is not installed.
    pub(crate) fn start(name: &str, cwd: &Path, cols: u16, rows: u16) -> Option<Tmux> {
        if !Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            eprintln!("SKIPPED: tmux is not installed; install it to run the TUI end-to-end tests");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix(&format!("lexsearch-tmux-{name}-"))
            .tempdir()
            .unwrap();
        let tmux = Tmux {
            socket: dir.path().join("socket"),
            _dir: dir,
        };
        let status = tmux
            .command()
            .args(["new-session", "-d", "-s", "t", "-x"])
            .arg(cols.to_string())
            .arg("-y")
            .arg(rows.to_string())
            .arg("-c")
            .arg(cwd)
            .args(["env", "-u", "LEXSEARCH_MODEL_DIR", "PS1=$ ", "sh"])
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session failed");
        Some(tmux)
    }

    fn command(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket).args(["-f", "/dev/null"]);
        c
    }

    /// Types `text` literally.
    pub(crate) fn type_text(&self, text: &str) {
        let ok = self
            .command()
            .args(["send-keys", "-t", "t", "-l", text])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Presses keys by tmux name (`Enter`, `Escape`, `Tab`, `Down`).
    pub(crate) fn press(&self, key: &str) {
        let ok = self
            .command()
            .args(["send-keys", "-t", "t", key])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    fn screen(&self) -> String {
        let out = self
            .command()
            .args(["capture-pane", "-p", "-t", "t"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until it contains `needle`, and returns it.
    pub(crate) fn wait_for(&self, needle: &str) -> String {
        self.wait_until(needle, |screen| screen.contains(needle))
    }

    /// Polls the screen until `ok` says yes, and returns it; `what` names it on failure.
    pub(crate) fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            if start.elapsed() > PATIENCE {
                panic!("{what:?} never appeared; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs a shell command line in the session.
    pub(crate) fn run(&self, line: &str) {
        self.type_text(line);
        self.press("Enter");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").status();
    }
}

pub(crate) fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_lexsearch"))
}

/// Checks that the terminal is back to normal: the shell runs commands (so Enter is a newline
/// again) and the line discipline is out of raw mode.
fn assert_restored(tmux: &Tmux, screen: &str) {
    assert!(
        !screen.contains("Results"),
        "the TUI is still on screen:\n{screen}"
    );
    tmux.run("r=cooked; stty -a | grep -q -- -icanon && r=raw; echo TTY_$r");
    // (A terminal left raw would print TTY_raw, or not run the line at all.)
    tmux.wait_for("TTY_cooked");
}

#[test]
fn the_tui_finds_the_lease_in_a_real_terminal_and_restores_it_on_quit() {
    let Some(docs) = indexed_sample() else { return };
    let Some(tmux) = Tmux::start("search", docs, 100, 30) else {
        return;
    };
    tmux.run(&format!("'{}' tui; echo EXIT=$?", binary().display()));
    tmux.wait_for(" chunks");
    tmux.type_text("security deposit");
    let screen = tmux.wait_for("commercial-lease.txt");
    assert!(screen.contains("hybrid › security deposit"), "{screen}");
    assert!(screen.contains("Results:"), "{screen}");
    // Tab switches to keyword search, which finds the lease too.
    tmux.press("Tab");
    let screen = tmux.wait_until("keyword results", |screen| {
        screen.contains("keyword › security deposit")
            && screen.contains("│ keyword │")
            && !screen.contains("searching…")
    });
    assert!(screen.contains("commercial-lease.txt"), "{screen}");
    assert!(
        screen.contains("keyword│") && !screen.contains("both│") && !screen.contains("semantic│"),
        "keyword hits only:\n{screen}"
    );
    // `m` on a hit searches for passages like it: semantic hits, the passage itself not
    // among them.
    tmux.press("Down");
    tmux.press("m");
    let screen = tmux.wait_until("passages like the hit", |screen| {
        screen.contains(" like › like:commercial-lease.txt:")
            && screen.contains("semantic│")
            && !screen.contains("searching…")
    });
    assert!(!screen.contains("keyword│"), "{screen}");
    // Ctrl-P goes back to the words searched before.
    tmux.press("Up");
    tmux.press("C-p");
    tmux.wait_for("keyword › security deposit");
    // F1 shows the help; Tab turns to the query syntax; any other key closes it.
    tmux.press("F1");
    tmux.wait_for("Results list");
    tmux.press("Tab");
    tmux.wait_until("the query syntax", |screen| {
        screen.contains("Query syntax")
            && screen.contains("a /s b")
            && !screen.contains("Results list")
    });
    tmux.press("Escape");
    tmux.wait_until("the help closed", |screen| {
        !screen.contains("other keys close")
    });
    tmux.press("Escape");
    let screen = tmux.wait_for("EXIT=0");
    assert_restored(&tmux, &screen);
}

#[test]
fn lexsearch_alone_inside_an_indexed_folder_opens_the_tui() {
    let Some(docs) = indexed_sample() else { return };
    let Some(tmux) = Tmux::start("bare", docs, 80, 24) else {
        return;
    };
    tmux.run(&format!("'{}'; echo EXIT=$?", binary().display()));
    let screen = tmux.wait_for(" chunks");
    assert!(screen.contains("hybrid ›"), "{screen}");
    // Keys reach the results list: search, go down, quit with q.
    tmux.type_text("deposit");
    tmux.wait_for("Results:");
    tmux.press("Down");
    tmux.wait_for("Enter open · y copy");
    tmux.type_text("q");
    let screen = tmux.wait_for("EXIT=0");
    assert_restored(&tmux, &screen);
}

/// A script in the PDF viewer's place (no window can open here) that writes down how it was
/// called, in the file returned beside it.
fn recording_viewer(dir: &Path) -> (PathBuf, PathBuf) {
    let opened = dir.join("opened");
    let viewer = dir.join("viewer");
    std::fs::write(
        &viewer,
        format!(
            "#!/bin/sh\necho \"$@\" > '{}.tmp'\nmv '{0}.tmp' '{0}'\n",
            opened.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&viewer, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    (viewer, opened)
}

/// Runs the TUI in `docs` with `viewer` for PDFs, searches `query` by keyword, opens the first
/// hit once `hit` shows, and returns how the viewer was called once the TUI said it opened
/// the file at page `page`; quits the TUI.
fn open_first_hit(docs: &Path, viewer: &Path, opened: &Path, query: &str, hit: &str) -> String {
    let Some(tmux) = Tmux::start("pdf", docs, 110, 30) else {
        return String::new();
    };
    tmux.run(&format!(
        "LEXSEARCH_PDF_VIEWER='{} -p {{page}} {{file}}' '{}' tui --mode keyword; echo EXIT=$?",
        viewer.display(),
        binary().display()
    ));
    tmux.wait_for(" chunks");
    tmux.type_text(query);
    tmux.wait_for(hit);
    tmux.press("Enter");
    tmux.wait_for("Enter open");
    tmux.press("Enter");
    let screen = tmux.wait_for("at p. 3");
    assert!(
        screen.contains("Results:"),
        "the TUI stays on screen:\n{screen}"
    );
    let start = Instant::now();
    while !opened.exists() && start.elapsed() < PATIENCE {
        std::thread::sleep(Duration::from_millis(50));
    }
    let called = std::fs::read_to_string(opened).unwrap().trim().to_string();
    tmux.press("Escape");
    let screen = tmux.wait_for("EXIT=0");
    assert_restored(&tmux, &screen);
    called
}

#[test]
fn enter_on_a_pdf_hit_opens_the_pdf_viewer_at_its_page_beside_the_tui() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    write_tiny_model(&model, &Tiny::default());
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(docs.join("lease.pdf"), crate::formats::lease_pdf()).unwrap();
    index_folder(&model, &docs);
    let (viewer, opened) = recording_viewer(dir.path());
    let called = open_first_hit(&docs, &viewer, &opened, "escrow agent", "lease.pdf");
    if called.is_empty() {
        return;
    }
    let docs = std::fs::canonicalize(&docs).unwrap();
    assert_eq!(called, format!("-p 3 {}", docs.join("lease.pdf").display()));
}

#[test]
fn enter_on_an_attachment_opens_a_private_copy_taken_out_of_its_e_mail_at_its_page() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    write_tiny_model(&model, &Tiny::default());
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let lease = crate::formats::lease_pdf();
    let mail = crate::common::fixtures::eml(
        &[("From", "ann@firm.example"), ("Subject", "Signed lease")],
        "text/plain",
        "The signed lease is attached.",
        &[("lease.pdf", "application/pdf", lease.clone())],
    );
    std::fs::write(docs.join("thread.eml"), mail).unwrap();
    index_folder(&model, &docs);
    let (viewer, opened) = recording_viewer(dir.path());
    let called = open_first_hit(
        &docs,
        &viewer,
        &opened,
        "escrow agent",
        "thread.eml#lease.pdf",
    );
    if called.is_empty() {
        return;
    }
    // The viewer gets a copy in the index folder, under the attachment's own name.
    let copy = PathBuf::from(called.strip_prefix("-p 3 ").expect(&called));
    let index = std::fs::canonicalize(docs.join(".lexsearch")).unwrap();
    assert!(copy.starts_with(index.join("opened")), "{called}");
    assert_eq!(copy.file_name().unwrap(), "lease.pdf");
    assert_eq!(std::fs::read(&copy).unwrap(), lease);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&copy).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
}
