//! Whole-screen tests: actions go into [`App::update`] (search results included, built by hand,
//! the way gitui's tests feed async results), the app is drawn on a `TestBackend`, and the
//! screen is compared with an insta snapshot in `src/tui/snapshots/`. Styles, which snapshots
//! do not show, are checked cell by cell.

use std::collections::VecDeque;
use std::process::{Command, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use super::action::{Action, Found, Outcome};
use super::app::tests::info;
use super::app::{App, Effect};
use super::fixtures::hit;
use super::focus::{Focus, HelpPage};
use super::preview::Preview;
use super::theme::Theme;
use super::{Host, Job, draw, event_loop};
use crate::search::fusion::ArmScore;
use crate::search::{Hit, Mode};

const QUERY: &str = "security deposit";

const LEASE: &str = "\
ARTICLE 4 SECURITY DEPOSIT

4.1 Amount. Upon signing, Tenant shall deposit with Landlord the sum of $24,000 as security for Tenant's performance of this Lease.

4.2 Return of Deposit. The Landlord shall return the Security Deposit to the Tenant within thirty (30) days after the end of the Term, less any amounts applied under Section 4.3.

4.3 Application. Landlord may apply the deposit to unpaid Rent and to repairs beyond ordinary wear and tear.

ARTICLE 5 INSURANCE

5.1 Tenant shall keep the Premises insured.
";

fn arm(rank: usize, score: f32) -> Option<ArmScore> {
    Some(ArmScore { rank, score })
}

/// Three hits: a text file found by both arms (previewed in its document), a PDF page found by
/// keywords, and a Markdown clause found by meaning.
fn sample_found() -> Vec<Found> {
    let chunk = LEASE
        .lines()
        .find(|l| l.starts_with("4.2"))
        .unwrap()
        .to_string();
    let start = LEASE.find(&chunk).unwrap();
    let mut lease = hit(1, "commercial-lease.txt", &chunk);
    lease.score = 0.0328;
    lease.start_byte = start;
    lease.end_byte = start + chunk.len();
    lease.line = 5;
    lease.breadcrumb = vec![
        "ARTICLE 4 SECURITY DEPOSIT".into(),
        "4.2 Return of Deposit".into(),
    ];
    lease.keyword = arm(1, 7.9);
    lease.semantic = arm(1, 0.71);

    let mut pdf = hit(
        2,
        "scans/lease-2019.pdf",
        "The deposit shall be held in a separate account and returned with interest.",
    );
    pdf.score = 0.0161;
    pdf.line = 310;
    pdf.page = Some(12);
    pdf.keyword = arm(2, 4.1);
    pdf.semantic = None;

    let mut nda = hit(
        3,
        "nda.md",
        "Each party may keep one copy of Confidential Information as security for its records.",
    );
    nda.score = 0.0159;
    nda.line = 14;
    nda.breadcrumb = vec!["3. Return of Materials".into()];
    nda.keyword = None;
    nda.semantic = arm(2, 0.52);

    vec![
        Found {
            preview: Preview::build(&lease, Some(LEASE), QUERY),
            hit: lease,
        },
        Found::from_hit(pdf, QUERY),
        Found::from_hit(nda, QUERY),
    ]
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Action::Insert(c));
    }
}

/// Types the query, lets the debounce fire and hands back the request's sequence number.
fn search(app: &mut App) -> u64 {
    match app.update(Action::Search) {
        Some(Effect::Search { seq, .. }) => seq,
        other => panic!("expected a search, got {other:?}"),
    }
}

fn deliver(app: &mut App, seq: u64, found: Vec<Found>) {
    let mode = app.mode();
    app.update(Action::Results {
        seq,
        result: Ok(Outcome {
            query: app.query().to_string(),
            mode,
            found,
            elapsed: Duration::from_millis(12),
            files_in_scope: None,
        }),
    });
}

fn app_with_results(theme: Theme, w: u16, h: u16) -> App {
    let mut app = App::new(Some(info()), theme);
    app.update(Action::Resize(w, h));
    typed(&mut app, QUERY);
    let seq = search(&mut app);
    deliver(&mut app, seq, sample_found());
    app
}

fn render(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| draw(f, app)).unwrap();
    terminal
}

fn screen(terminal: &Terminal<TestBackend>) -> String {
    terminal.backend().to_string()
}

/// The cells of `buf` whose row contains `needle`, from where it starts.
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    for y in 0..buf.area.height {
        let row: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        if let Some(i) = row.find(needle) {
            let col = row[..i].chars().count() as u16;
            return Some((col, y));
        }
    }
    None
}

#[test]
fn results_preview_and_status_at_80x24() {
    let app = app_with_results(Theme::new(true), 80, 24);
    let terminal = render(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    let text = screen(&terminal);
    for expected in [
        "hybrid › security deposit",
        "Results: 3 hits",
        "commercial-lease.txt",
        "line 5",
        "both",
        "scans/lease-2019.pdf",
        "p. 12",
        "keyword",
        "semantic",
        "ARTICLE 4 SECURITY DEPOSIT › 4.2 Return of Deposit",
        "4.2 Return of Deposit. The Landlord",
        "corpus │ all-MiniLM-L6-v2 │ 21 docs · 345 chunks │ hybrid · α=0.8 │ 12 ms",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} not on screen:\n{text}"
        );
    }
    let buf = terminal.backend().buffer();
    // Query terms are highlighted in the preview, and the chunk has a bar in the gutter.
    let theme = Theme::new(true);
    let (x, y) = find(buf, "Security Deposit to").unwrap();
    assert_eq!(buf[(x, y)].bg, theme.highlight().bg.unwrap());
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
    let (bx, by) = find(buf, "▌ 4.2 Return").unwrap();
    assert_eq!(buf[(bx, by)].fg, Color::Cyan);
    // Context around the chunk is dimmed, the chunk is not.
    let (cx, cy) = find(buf, "$24,000").unwrap();
    assert!(buf[(cx, cy)].modifier.contains(Modifier::DIM));
    assert!(!buf[(bx + 2, by)].modifier.contains(Modifier::DIM));
    // The selected hit stands out.
    let (sx, sy) = find(buf, "▶ 1").unwrap();
    assert_eq!(buf[(sx, sy)].bg, Color::Blue);
}

#[test]
fn moving_through_results_updates_the_preview() {
    let mut app = app_with_results(Theme::new(false), 80, 24);
    app.update(Action::FocusResults);
    app.update(Action::Down);
    let terminal = render(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    let text = screen(&terminal);
    assert!(text.contains("scans/lease-2019.pdf · p. 12"), "{text}");
    assert!(text.contains("held in a separate account"), "{text}");
    assert!(
        text.contains("Enter open · y copy"),
        "hints follow the focus:\n{text}"
    );
    app.update(Action::Down);
    let text = screen(&render(&app, 80, 24));
    assert!(
        text.contains("nda.md · line 14 · 3. Return of Materials"),
        "{text}"
    );
}

#[test]
fn a_section_the_hit_refers_to_shows_in_the_preview_with_which_reference_it_is() {
    let mut app = App::new(Some(info()), Theme::new(false));
    app.update(Action::Resize(100, 24));
    typed(&mut app, QUERY);
    let seq = search(&mut app);
    let mut found = sample_found();
    found[0].hit.text = "Landlord may apply it as Section 4.4 allows.".into();
    deliver(&mut app, seq, found);
    app.update(Action::FocusResults);
    // The key hints name the first part the hit refers to.
    let text = screen(&render(&app, 100, 24));
    assert!(text.contains(" r Section 4.4 · Enter open"), "{text}");
    let Some(Effect::ReadSection { hit, .. }) = app.update(Action::FollowReference) else {
        panic!("a section to read");
    };
    let mut section = (*hit).clone();
    section.line = 21;
    section.breadcrumb = vec!["4.4 Transfer of Deposit".into()];
    section.text = "4.4 Transfer of Deposit. Landlord may transfer the deposit.".into();
    app.update(Action::Section {
        seq,
        chunk_id: hit.chunk_id,
        index: 0,
        result: Ok(Box::new(Found::from_hit(section, QUERY))),
    });
    let text = screen(&render(&app, 100, 24));
    assert!(
        text.contains("commercial-lease.txt · line 21 · the hit's reference 1 of 1 · 4.4 Transfer"),
        "{text}"
    );
    assert!(
        text.contains("Landlord may transfer the deposit."),
        "{text}"
    );
    assert!(
        text.contains("Section 4.4, which the hit refers to"),
        "{text}"
    );
}

#[test]
fn a_hit_whose_text_other_files_hold_counts_its_copies_in_the_list_and_the_preview() {
    let mut app = App::new(Some(info()), Theme::new(false));
    app.update(Action::Resize(100, 24));
    typed(&mut app, QUERY);
    let seq = search(&mut app);
    let mut found = sample_found();
    let copy = |file: &str| crate::search::HitCopy {
        chunk_id: 90,
        path: format!("/docs/{file}").into(),
        file: file.into(),
        line: 5,
        page: None,
        paragraph: None,
    };
    found[0].hit.copies = vec![copy("matter-2/lease.txt"), copy("matter-3/lease.txt")];
    found[2].hit.copies = vec![copy("matter-2/nda.md")];
    found[2].hit.copies_complete = false;
    deliver(&mut app, seq, found);
    app.update(Action::FocusResults);
    let text = screen(&render(&app, 100, 24));
    assert!(
        text.contains("+2 copies · ARTICLE 4 SECURITY DEPOSIT"),
        "{text}"
    );
    assert!(
        text.contains("commercial-lease.txt · line 5 · +2 copies"),
        "{text}"
    );
    // One that may have more than the search saw.
    assert!(text.contains("+1+ copy · 3. Return of Materials"), "{text}");
    // The preview's bottom border names the selected hit's copies.
    assert!(
        text.contains("also in 2 other places: matter-2/lease.txt:"),
        "{text}"
    );
}

#[test]
fn a_hit_from_a_file_edited_since_indexing_says_so_in_the_list() {
    let mut app = App::new(Some(info()), Theme::new(false));
    app.update(Action::Resize(100, 24));
    typed(&mut app, QUERY);
    let seq = search(&mut app);
    let mut found = sample_found();
    found[1].hit.changed = true;
    deliver(&mut app, seq, found);
    let text = screen(&render(&app, 100, 24));
    assert_eq!(
        text.matches("changed since indexed · ").count(),
        1,
        "{text}"
    );
}

#[test]
fn the_preview_scrolls_and_comes_back_to_the_chunk_on_a_new_selection() {
    let mut app = app_with_results(Theme::new(false), 80, 24);
    app.update(Action::FocusResults);
    let before = screen(&render(&app, 80, 24));
    app.update(Action::ScrollPreview(3));
    let after = screen(&render(&app, 80, 24));
    assert_ne!(before, after);
    assert!(after.contains("4.3 Application"), "{after}");
    app.update(Action::ScrollPreview(-100));
    assert!(screen(&render(&app, 80, 24)).contains("ARTICLE 4 SECURITY DEPOSIT"));
    app.update(Action::Down);
    app.update(Action::Up);
    assert_eq!(screen(&render(&app, 80, 24)), before);
}

#[test]
fn wide_terminals_put_the_preview_beside_the_list() {
    let app = app_with_results(Theme::new(false), 140, 30);
    insta::assert_snapshot!(render(&app, 140, 30).backend());
}

#[test]
fn tab_switches_mode_and_searches_again() {
    let mut app = app_with_results(Theme::new(false), 80, 24);
    let seq = match app.update(Action::NextMode) {
        Some(Effect::Search { seq, request }) => {
            assert_eq!(request.mode, Mode::Keyword);
            assert_eq!(request.query, QUERY);
            seq
        }
        other => panic!("{other:?}"),
    };
    let text = screen(&render(&app, 80, 24));
    assert!(text.contains("keyword › security deposit"), "{text}");
    assert!(text.contains("searching…"), "{text}");
    deliver(&mut app, seq, sample_found()[1..2].to_vec());
    let terminal = render(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    let text = screen(&terminal);
    assert!(text.contains("│ keyword │ 12 ms"), "{text}");
    assert!(text.contains("Results: 1 hit "), "{text}");
    app.update(Action::NextMode);
    assert!(screen(&render(&app, 80, 24)).contains("semantic › security deposit"));
}

#[test]
fn help_overlay_lists_every_key() {
    let mut app = app_with_results(Theme::new(false), 80, 24);
    app.update(Action::ToggleHelp);
    let terminal = render(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    let text = screen(&terminal);
    for (_, keys) in super::keymap::HELP {
        for (key, what) in *keys {
            assert!(
                text.contains(key) && text.contains(what),
                "{key}: {what}\n{text}"
            );
        }
    }
    app.update(Action::CloseHelp);
    assert!(!screen(&render(&app, 80, 24)).contains(" Keys "));
}

#[test]
fn tab_in_the_help_shows_the_query_syntax_and_back() {
    let mut app = app_with_results(Theme::new(false), 80, 24);
    app.update(Action::ToggleHelp);
    app.update(Action::FlipHelp);
    assert_eq!(app.help_page(), Some(HelpPage::Syntax));
    let terminal = render(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    let text = screen(&terminal);
    assert!(
        text.contains(" Query syntax ") && !text.contains(" Keys "),
        "{text}"
    );
    for (title, examples) in super::keymap::SYNTAX {
        assert!(text.contains(title), "{title}\n{text}");
        for (example, what) in *examples {
            assert!(
                text.contains(example) && text.contains(what),
                "{example}: {what}\n{text}"
            );
        }
    }
    app.update(Action::FlipHelp);
    assert_eq!(app.help_page(), Some(HelpPage::Keys));
    app.update(Action::CloseHelp);
    assert_eq!(app.help_page(), None);
    // F1 always opens the keys.
    app.update(Action::ToggleHelp);
    assert_eq!(app.help_page(), Some(HelpPage::Keys));
}

#[test]
fn help_overlay_in_a_narrow_terminal() {
    let mut app = App::new(Some(info()), Theme::new(false));
    app.update(Action::Resize(50, 40));
    app.update(Action::ToggleHelp);
    insta::assert_snapshot!(render(&app, 50, 40).backend());
}

#[test]
fn empty_state_without_an_index() {
    let mut app = App::new(None, Theme::new(false));
    typed(&mut app, "deposit");
    let terminal = render(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    assert!(screen(&terminal).contains("lexsearch index DIR"));
}

#[test]
fn without_an_index_the_indexed_folders_below_are_named() {
    let below = vec!["acme".into(), "leases/2024".into()];
    let app = App::new(None, Theme::new(false)).with_indexed_below(below);
    let text = screen(&render(&app, 100, 24));
    assert!(text.contains("these folders below are indexed"), "{text}");
    assert!(
        text.contains("    acme") && text.contains("    leases/2024"),
        "{text}"
    );
    assert!(text.contains("lexsearch tui --index acme"), "{text}");
    assert!(!text.contains("build one with"), "{text}");
}

#[test]
fn empty_state_before_typing() {
    let app = App::new(Some(info()), Theme::new(false));
    let terminal = render(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    assert!(screen(&terminal).contains("type to search 345 chunks in 21 documents"));
}

#[test]
fn the_status_bar_counts_the_files_the_index_could_not_read() {
    let info = crate::tui::IndexInfo {
        not_indexed: 2,
        ..info()
    };
    let app = App::new(Some(info), Theme::new(false));
    let text = screen(&render(&app, 120, 24));
    assert!(
        text.contains("21 docs · 345 chunks · 2 not indexed │ hybrid"),
        "{text}"
    );
}

#[test]
fn empty_state_with_no_hits_suggests_another_mode() {
    let mut app = App::new(Some(info()), Theme::new(false)).with_mode(Mode::Keyword);
    typed(&mut app, "zebra");
    let seq = search(&mut app);
    deliver(&mut app, seq, vec![]);
    let terminal = render(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    let text = screen(&terminal);
    assert!(
        text.contains("No hits for “zebra” in keyword mode."),
        "{text}"
    );
    assert!(text.contains("Tab for semantic search"), "{text}");
}

#[test]
fn search_errors_show_in_the_status_bar_and_the_ui_keeps_going() {
    let mut app = App::new(Some(info()), Theme::new(true));
    typed(&mut app, "deposit");
    let seq = search(&mut app);
    app.update(Action::Results {
        seq,
        result: Err("cannot load the model /m: config.json is missing".into()),
    });
    let terminal = render(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    let buf = terminal.backend().buffer();
    let (x, y) = find(buf, "search failed: cannot load the model").unwrap();
    assert_eq!(buf[(x, y)].fg, Color::Red);
    // Typing on works, and a good search clears the error.
    typed(&mut app, "s");
    let seq = search(&mut app);
    deliver(&mut app, seq, sample_found());
    assert!(!screen(&render(&app, 80, 24)).contains("search failed"));
}

#[test]
fn a_query_that_cannot_be_searched_says_why_in_the_list_not_that_the_model_failed() {
    let mut app = App::new(Some(info()), Theme::new(true));
    typed(&mut app, "NOT (rent AND deposit) lease");
    let seq = search(&mut app);
    let why = "\"(rent AND deposit)\" is not read as a group";
    app.update(Action::Results {
        seq,
        result: Err(super::action::Failure {
            message: why.into(),
            in_query: true,
        }),
    });
    let text = screen(&render(&app, 100, 24));
    assert!(
        text.contains("The query cannot be searched as written:"),
        "{text}"
    );
    assert!(text.contains(why), "{text}");
    assert!(!text.contains("keyword search needs no model"), "{text}");
}

#[test]
fn the_path_filter_narrows_results() {
    let mut app = app_with_results(Theme::new(false), 80, 24);
    app.update(Action::EditFilter);
    typed(&mut app, "*.md");
    let terminal = render(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    let text = screen(&terminal);
    assert!(
        text.contains("Results: 1 of 3 hits · filter *.md"),
        "{text}"
    );
    assert!(text.contains("filter › *.md"), "{text}");
    assert!(!text.contains("commercial-lease.txt"), "{text}");
    typed(&mut app, "x");
    let text = screen(&render(&app, 80, 24));
    assert!(text.contains("No hits match the filter “*.mdx”."), "{text}");
}

#[test]
fn a_filter_that_keeps_no_indexed_file_says_so() {
    let mut app = App::new(Some(info()), Theme::new(false));
    app.update(Action::Resize(90, 24));
    app.update(Action::EditFilter);
    typed(&mut app, "contracts/*");
    app.update(Action::ApplyFilter);
    typed(&mut app, "deposit");
    let seq = match app.update(Action::Search) {
        Some(Effect::Search { seq, request }) => {
            assert_eq!(request.paths.patterns(), ["contracts/*"]);
            seq
        }
        other => panic!("expected a search, got {other:?}"),
    };
    app.update(Action::Results {
        seq,
        result: Ok(Outcome {
            query: "deposit".into(),
            mode: app.mode(),
            found: Vec::new(),
            elapsed: Duration::from_millis(3),
            files_in_scope: Some(0),
        }),
    });
    let text = screen(&render(&app, 90, 24));
    assert!(
        text.contains("No indexed file's path matches the filter “contracts/*”."),
        "{text}"
    );
}

#[test]
fn tiny_terminals_never_panic() {
    let mut app = app_with_results(Theme::new(false), 10, 3);
    for (w, h) in [
        (0, 0),
        (1, 1),
        (2, 1),
        (1, 5),
        (10, 3),
        (20, 2),
        (39, 9),
        (40, 10),
        (41, 11),
        (79, 23),
    ] {
        for help in [false, true] {
            for focus in [Action::FocusQuery, Action::FocusResults, Action::EditFilter] {
                let mut app = app.clone();
                app.update(Action::Resize(w, h));
                app.update(focus);
                if help {
                    app.update(Action::ToggleHelp);
                }
                app.update(Action::Last);
                app.update(Action::ScrollPreview(5));
                app.update(Action::PageDown);
                let _ = render(&app, w, h);
            }
        }
    }
    app.update(Action::Resize(10, 3));
    insta::assert_snapshot!("tiny_10x3", render(&app, 10, 3).backend());
    app.update(Action::Resize(1, 1));
    insta::assert_snapshot!("tiny_1x1", render(&app, 1, 1).backend());
}

#[test]
fn resizing_keeps_the_selection_in_view() {
    let mut app = App::new(Some(info()), Theme::new(false));
    app.update(Action::Resize(80, 24));
    typed(&mut app, QUERY);
    let seq = search(&mut app);
    let found: Vec<Found> = (1..=20)
        .map(|i| Found::from_hit(hit(i, &format!("doc-{i:02}.txt"), "deposit"), QUERY))
        .collect();
    deliver(&mut app, seq, found);
    app.update(Action::FocusResults);
    app.update(Action::Last);
    for (w, h) in [(80, 24), (60, 14), (120, 40), (30, 8), (100, 30)] {
        app.update(Action::Resize(w, h));
        let text = screen(&render(&app, w, h));
        assert!(text.contains("doc-20.txt"), "{w}x{h}:\n{text}");
    }
}

#[test]
fn no_color_draws_with_modifiers_only() {
    let app = app_with_results(Theme::new(false), 80, 24);
    let mono = render(&app, 80, 24);
    let buf = mono.backend().buffer();
    for cell in &buf.content {
        assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset), "{cell:?}");
    }
    let (x, y) = find(buf, "Security Deposit to").unwrap();
    assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED));
    let (x, y) = find(buf, "▶ 1").unwrap();
    assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED));
    let colored = render(&app_with_results(Theme::new(true), 80, 24), 80, 24);
    assert!(
        colored
            .backend()
            .buffer()
            .content
            .iter()
            .any(|c| c.fg != Color::Reset)
    );
}

/// Ctrl-C: quits from anywhere.
fn ctrl_c() -> KeyEvent {
    KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
}

/// A scripted terminal: keys are handed out one by one, each once `ready` says so. Its clock
/// moves only while the event loop waits for a key that is not ready, by the time the loop
/// asked to wait, so keys handed out back to back are typed in no time at all, however slowly
/// the test runs.
struct Script {
    steps: VecDeque<(KeyEvent, Box<dyn Fn() -> bool>)>,
    copied: Vec<String>,
    /// Commands run with the TUI suspended.
    ran: Vec<Vec<String>>,
    /// Commands started beside it.
    launched: Vec<Vec<String>>,
    /// Its environment variables.
    vars: Vec<(&'static str, &'static str)>,
    clock: Instant,
}

fn argv(command: &Command) -> Vec<String> {
    let mut argv = vec![command.get_program().to_string_lossy().into_owned()];
    argv.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    argv
}

impl Host for Script {
    fn next_event(&mut self, timeout: Duration) -> std::io::Result<Option<Event>> {
        match self.steps.front() {
            Some((_, ready)) if ready() => {
                Ok(self.steps.pop_front().map(|(key, _)| Event::Key(key)))
            }
            Some(_) => {
                self.clock += timeout;
                // The key waits on the worker thread, which needs real time to answer.
                std::thread::sleep(Duration::from_millis(1));
                Ok(None)
            }
            // Out of keys: quit, so a broken test cannot hang.
            None => Ok(Some(Event::Key(ctrl_c()))),
        }
    }

    fn now(&self) -> Instant {
        self.clock
    }

    fn run_outside(&mut self, command: &mut Command) -> std::io::Result<ExitStatus> {
        self.ran.push(argv(command));
        success()
    }

    fn launch(&mut self, command: &mut Command) -> std::io::Result<()> {
        self.launched.push(argv(command));
        Ok(())
    }

    fn var(&self, name: &str) -> Option<String> {
        self.vars
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    }

    fn default_pdf_viewer(&self) -> Option<String> {
        None
    }

    fn copy(&mut self, text: &str) -> std::io::Result<()> {
        self.copied.push(text.to_string());
        Ok(())
    }
}

#[cfg(unix)]
fn success() -> std::io::Result<ExitStatus> {
    use std::os::unix::process::ExitStatusExt;
    Ok(ExitStatus::from_raw(0))
}

#[cfg(not(unix))]
fn success() -> std::io::Result<ExitStatus> {
    use std::os::windows::process::ExitStatusExt;
    Ok(ExitStatus::from_raw(0))
}

/// Runs the event loop on a scripted terminal with the environment `vars`: types a query,
/// goes to the second hit (a PDF, p. 12), copies its place, opens it and quits. Returns the
/// host, the app, the screen and the queries the worker was asked.
fn open_the_second_hit(
    vars: Vec<(&'static str, &'static str)>,
) -> (Script, App, String, Vec<String>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
    let (actions_tx, actions_rx) = mpsc::channel();
    let answered = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
    // A fake worker: answers every job with the sample hits.
    {
        let answered = answered.clone();
        let requests = requests.clone();
        std::thread::spawn(move || {
            while let Ok(job) = jobs_rx.recv() {
                let Job::Search { seq, request } = job else {
                    continue;
                };
                requests.lock().unwrap().push(request.query.clone());
                let hits: Vec<Hit> = sample_found().into_iter().map(|f| f.hit).collect();
                let outcome = Outcome::from_hits(
                    &request.query,
                    request.mode,
                    hits,
                    Duration::from_millis(12),
                );
                let _ = actions_tx.send(Action::Results {
                    seq,
                    result: Ok(outcome),
                });
                answered.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    let key = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
    let now = || -> Box<dyn Fn() -> bool> { Box::new(|| true) };
    let mut steps: VecDeque<(KeyEvent, Box<dyn Fn() -> bool>)> = QUERY
        .chars()
        .map(|c| (key(KeyCode::Char(c)), now()))
        .collect();
    let after_first = answered.clone();
    steps.push_back((
        key(KeyCode::Down),
        Box::new(move || after_first.load(Ordering::SeqCst) >= 1),
    ));
    steps.push_back((key(KeyCode::Char('j')), now()));
    steps.push_back((key(KeyCode::Char('y')), now()));
    steps.push_back((key(KeyCode::Enter), now()));
    steps.push_back((key(KeyCode::Char('q')), now()));
    let mut host = Script {
        steps,
        copied: vec![],
        ran: vec![],
        launched: vec![],
        vars,
        clock: Instant::now(),
    };
    let mut app = App::new(Some(info()), Theme::new(false));
    let mut terminal = Terminal::new(TestBackend::new(120, 24)).unwrap();
    event_loop(&mut terminal, &mut app, &mut host, &jobs_tx, &actions_rx).unwrap();
    let asked = requests.lock().unwrap().clone();
    (host, app, screen(&terminal), asked)
}

#[test]
fn the_event_loop_debounces_searches_on_a_worker_and_carries_out_effects() {
    let (host, app, text, requests) = open_the_second_hit(vec![]);
    assert!(!app.is_running());
    // Typing was debounced: one search for the whole query, not one per key.
    assert_eq!(requests, vec![QUERY.to_string()]);
    assert_eq!(app.focus(), Focus::Results);
    assert_eq!(
        host.copied,
        vec!["/docs/scans/lease-2019.pdf#page=12".to_string()]
    );
    assert_eq!(host.ran.len(), 1);
    assert!(host.launched.is_empty());
    assert_eq!(host.ran[0].last().unwrap(), "/docs/scans/lease-2019.pdf");
    assert!(text.contains("opened /docs/scans/lease-2019.pdf"), "{text}");
    assert!(text.contains("(the hit is on p. 12;"), "{text}");
}

#[test]
fn a_pdf_hit_opens_beside_the_tui_at_its_page_in_the_pdf_viewer() {
    let (host, app, text, _) = open_the_second_hit(vec![("LEXSEARCH_PDF_VIEWER", "zathura")]);
    assert!(!app.is_running());
    assert!(host.ran.is_empty(), "{:?}", host.ran);
    assert_eq!(
        host.launched,
        vec![vec![
            "zathura".to_string(),
            "--page=12".into(),
            "/docs/scans/lease-2019.pdf".into()
        ]]
    );
    assert!(
        text.contains("opened /docs/scans/lease-2019.pdf with zathura at p. 12"),
        "{text}"
    );
}

/// A terminal on a clock of its own: each key is pressed at its moment, and time moves only
/// while the event loop waits, by as much as it asked to wait. Search jobs are answered on the
/// spot, on this thread, with `hits`, and logged with the moment they were sent. Nothing here
/// depends on how fast the test runs.
struct Timeline {
    start: Instant,
    clock: Instant,
    /// Keys, each with the moment (since the start) it is pressed, in order.
    keys: VecDeque<(Duration, KeyEvent)>,
    jobs: mpsc::Receiver<Job>,
    answers: mpsc::Sender<Action>,
    hits: Vec<Hit>,
    /// Every search request: when it was sent, and its query.
    searched: Vec<(Duration, String)>,
}

impl Timeline {
    /// A timeline pressing `keys` at their moments (in milliseconds), answering every search
    /// with `hits`; and the two ends of the job and action channels for the event loop.
    fn new(
        keys: &[(u64, KeyEvent)],
        hits: Vec<Hit>,
    ) -> (Self, mpsc::Sender<Job>, mpsc::Receiver<Action>) {
        let (jobs_tx, jobs) = mpsc::channel();
        let (answers, actions) = mpsc::channel();
        let start = Instant::now();
        let keys = keys
            .iter()
            .map(|&(ms, key)| (Duration::from_millis(ms), key))
            .collect();
        let timeline = Timeline {
            start,
            clock: start,
            keys,
            jobs,
            answers,
            hits,
            searched: Vec::new(),
        };
        (timeline, jobs_tx, actions)
    }

    fn elapsed(&self) -> Duration {
        self.clock - self.start
    }

    /// Logs and answers the jobs sent since the last call (the clock has not moved since).
    fn answer_jobs(&mut self) {
        while let Ok(job) = self.jobs.try_recv() {
            let Job::Search { seq, request } = job else {
                continue;
            };
            let query = request.query.clone();
            self.searched.push((self.elapsed(), query.clone()));
            let outcome = Outcome::from_hits(
                &query,
                request.mode,
                self.hits.clone(),
                Duration::from_millis(12),
            );
            self.answers
                .send(Action::Results {
                    seq,
                    result: Ok(outcome),
                })
                .unwrap();
        }
    }
}

impl Host for Timeline {
    fn next_event(&mut self, timeout: Duration) -> std::io::Result<Option<Event>> {
        self.answer_jobs();
        let elapsed = self.elapsed();
        match self.keys.front() {
            Some(&(at, key)) if at <= elapsed => {
                self.keys.pop_front();
                Ok(Some(Event::Key(key)))
            }
            Some(&(at, _)) => {
                self.clock += timeout.min(at - elapsed);
                Ok(None)
            }
            // Out of keys: quit, so a broken test cannot hang.
            None => Ok(Some(Event::Key(ctrl_c()))),
        }
    }

    fn run_outside(&mut self, command: &mut Command) -> std::io::Result<ExitStatus> {
        panic!("nothing is opened in this test: {command:?}");
    }

    fn launch(&mut self, command: &mut Command) -> std::io::Result<()> {
        panic!("nothing is opened in this test: {command:?}");
    }

    fn var(&self, _: &str) -> Option<String> {
        None
    }

    fn default_pdf_viewer(&self) -> Option<String> {
        None
    }

    fn copy(&mut self, text: &str) -> std::io::Result<()> {
        panic!("nothing is copied in this test: {text}");
    }

    fn now(&self) -> Instant {
        self.clock
    }
}

fn press(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn sample_hits() -> Vec<Hit> {
    sample_found().into_iter().map(|f| f.hit).collect()
}

#[test]
fn a_search_starts_once_the_query_has_been_still_for_the_debounce_delay() {
    let ms = Duration::from_millis;
    let keys = [
        (0, press(KeyCode::Char('d'))),
        (50, press(KeyCode::Char('e'))),
        (100, press(KeyCode::Char('p'))),
        // 300 ms after "p": "dep" was searched at 250 ms.
        (400, press(KeyCode::Char('o'))),
        // 149 ms after "s": not yet searched when the user quits.
        (600, press(KeyCode::Char('s'))),
        (749, ctrl_c()),
    ];
    let (mut host, jobs, actions) = Timeline::new(&keys, sample_hits());
    let mut app = App::new(Some(info()), Theme::new(false));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    event_loop(&mut terminal, &mut app, &mut host, &jobs, &actions).unwrap();

    assert_eq!(super::DEBOUNCE, ms(150));
    assert_eq!(
        host.searched,
        vec![(ms(250), "dep".to_string()), (ms(550), "depo".to_string())],
        "one search per pause of 150 ms, none for a key typed within 150 ms of the next"
    );
    assert_eq!(app.query(), "depos");
    assert_eq!(host.elapsed(), ms(749));
}

#[test]
fn an_empty_or_blank_query_starts_no_search_and_shows_no_results() {
    let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    let keys = [
        // Blank from the start; Tab (a new mode searches again) and Enter on it.
        (0, press(KeyCode::Char(' '))),
        (10, press(KeyCode::Char(' '))),
        (20, press(KeyCode::Char(' '))),
        (500, press(KeyCode::Tab)),
        (600, press(KeyCode::Enter)),
        // Emptied: Tab again.
        (700, ctrl('u')),
        (800, press(KeyCode::Tab)),
        // A real query is searched (at 1150 ms) and its hits shown...
        (1000, press(KeyCode::Char('x'))),
        // ...then emptied, and blank again: no search, and the hits are gone.
        (1500, ctrl('u')),
        (2000, press(KeyCode::Char(' '))),
        (2010, press(KeyCode::Char(' '))),
        (2500, press(KeyCode::BackTab)),
        (3000, ctrl_c()),
    ];
    let (mut host, jobs, actions) = Timeline::new(&keys, sample_hits());
    let mut app = App::new(Some(info()), Theme::new(false));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    event_loop(&mut terminal, &mut app, &mut host, &jobs, &actions).unwrap();

    assert_eq!(
        host.searched,
        vec![(Duration::from_millis(1150), "x".to_string())],
        "only the real query reached the search worker"
    );
    assert_eq!(app.query(), "  ");
    assert_eq!(app.mode(), Mode::Keyword, "Tab, Tab, Shift-Tab");
    assert_eq!(app.visible_hits().count(), 0);
    assert!(!app.is_searching());
    insta::assert_snapshot!(terminal.backend());
    let text = screen(&terminal);
    assert!(
        text.contains("Type to search: results follow as you type."),
        "{text}"
    );
    assert!(!text.contains("Results:"), "{text}");
    assert!(!text.contains("commercial-lease.txt"), "{text}");
    assert!(!text.contains("earching"), "{text}");
}

#[test]
fn a_search_like_a_passage_is_named_so_in_the_query_line() {
    let mut app = app_with_results(Theme::new(false), 80, 24);
    app.update(Action::FocusResults);
    app.update(Action::MoreLike);
    let text = screen(&render(&app, 80, 24));
    assert!(
        text.contains(" like › like:commercial-lease.txt:5"),
        "{text}"
    );
    // Back to words: the mode again.
    app.update(Action::HistoryPrev);
    let text = screen(&render(&app, 80, 24));
    assert!(text.contains(" hybrid › security deposit"), "{text}");
}
