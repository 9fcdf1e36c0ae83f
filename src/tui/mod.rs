//! `lexsearch tui`: full-screen search as you type, on the same [`Searcher`] as the CLI.
//!
//! One job per module:
//! - [`app`]: the state, and [`App::update`], the only function that changes it;
//! - [`action`]: every change, as one [`Action`] enum (keys, search results, messages);
//! - [`focus`]: which part of the screen takes the keys, and the [`keymap::map_key`] context;
//! - [`layout`]: where each part of the screen goes (pure geometry);
//! - [`keymap`]: keys to actions, given the focus;
//! - [`ui`]: drawing (`impl Widget for &App`), which only reads the state;
//! - [`worker`]: the search thread, which owns the searcher and the model;
//! - [`preview`], [`open`], [`glob`], [`theme`]: the pure parts of the preview, opening and
//!   copying, the path filter, and the styles.
//!
//! The modules import one another in one direction only ("uses"; there are no cycles, and
//! the tests' helpers in `fixtures` use no TUI module):
//!
//! ```text
//! mod (run, event_loop) ─▶ app, action, focus, keymap, open, theme, ui, worker
//! ui      ─▶ app, action, focus, keymap, layout, preview
//! app     ─▶ action, focus, glob, layout, open, preview, theme
//! keymap  ─▶ action, focus
//! worker  ─▶ action, preview
//! action  ─▶ preview
//! preview ─▶ theme
//! focus, layout, glob, open, theme: no other TUI module
//! ```
//!
//! `focus` and `layout` are the leaves the state, the keymap and the drawing share: `app`
//! pages by the same [`layout`] that `ui` draws, and `keymap` reads the [`focus::KeyContext`]
//! that `app` builds, without either importing the other.
//!
//! [`event_loop`] ties them together and is generic over the ratatui [`Backend`] and over a
//! [`Host`] (keys, the clock, the terminal, the clipboard, the environment and the programs
//! it starts), so tests run it on a `TestBackend` with a scripted host whose clock they move
//! by hand. Nothing is ever printed onto the screen: messages go to the status bar.

pub mod action;
pub mod app;
pub mod focus;
// The path filter lives in the read path, shared with the MCP server's `search` tool.
pub use crate::search::glob;
pub mod keymap;
pub mod layout;
pub mod open;
pub mod preview;
pub mod theme;
pub mod ui;
pub mod worker;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::time::{Duration, Instant};

use anyhow::Context;
use crossterm::event::{Event, KeyEventKind};
use ratatui::backend::Backend;
use ratatui::{Frame, Terminal};

use crate::embed::DeviceSpec;
use crate::search::{Mode, Searcher};

pub use action::{Action, Failure, Found, Level, Outcome};
pub use app::{App, Effect, IndexInfo};
pub use focus::Focus;
pub use theme::Theme;
pub use worker::Job;

use open::OpenTarget;

/// How long the query must be still before it is searched.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// Longest wait for a key before the loop looks for search results, while one is due.
const TICK: Duration = Duration::from_millis(20);

/// Longest wait for a key when no search is due (the worker may still send a message).
const IDLE: Duration = Duration::from_millis(200);

/// What `lexsearch tui` was asked for.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Model folder; `None`: the one that built the index.
    pub model_dir: Option<PathBuf>,
    /// Where the encoder runs.
    pub device: DeviceSpec,
    /// The mode to start in.
    pub mode: Mode,
    /// Hits asked of each search.
    pub k: usize,
    /// Cross-encoder reranking of the best fused hits (Ctrl-R toggles it).
    pub rerank: Option<crate::search::rerank::Rerank>,
    /// Without an index: the indexed folders below the current one, which the screen names.
    pub indexed_below: Vec<PathBuf>,
}

/// What the event loop needs from the outside world: keys, running a program in the real
/// terminal, and the clipboard. The real one is crossterm on stdin/stdout; tests script one.
pub trait Host {
    /// The next terminal event, waiting at most `timeout`.
    fn next_event(&mut self, timeout: Duration) -> std::io::Result<Option<Event>>;

    /// Runs `command` in the terminal, with the TUI suspended (normal screen, cooked mode).
    fn run_outside(&mut self, command: &mut Command) -> std::io::Result<ExitStatus>;

    /// Starts `command` in a window of its own (a PDF viewer) beside the TUI, which stays on
    /// screen; nothing waits for it.
    fn launch(&mut self, command: &mut Command) -> std::io::Result<()>;

    /// Puts `text` on the clipboard.
    fn copy(&mut self, text: &str) -> std::io::Result<()>;

    /// An environment variable (the editor, the pager, the PDF viewer), when set.
    fn var(&self, name: &str) -> Option<String>;

    /// The program the desktop opens PDFs with, when it can be found.
    fn default_pdf_viewer(&self) -> Option<String>;

    /// The time now, by which searches are debounced. The real host reads the system clock;
    /// a test host keeps its own, which moves only when the test says.
    fn now(&self) -> Instant;
}

/// The real terminal, through crossterm.
#[derive(Debug, Default)]
pub struct CrosstermHost;

impl Host for CrosstermHost {
    fn next_event(&mut self, timeout: Duration) -> std::io::Result<Option<Event>> {
        if crossterm::event::poll(timeout)? {
            crossterm::event::read().map(Some)
        } else {
            Ok(None)
        }
    }

    fn run_outside(&mut self, command: &mut Command) -> std::io::Result<ExitStatus> {
        ratatui::try_restore()?;
        let status = command.status();
        crossterm::terminal::enable_raw_mode()?;
        crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
        status
    }

    fn launch(&mut self, command: &mut Command) -> std::io::Result<()> {
        use std::process::Stdio;
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        // Reaped when it exits, whether or not the TUI is still running.
        std::thread::spawn(move || child.wait());
        Ok(())
    }

    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn default_pdf_viewer(&self) -> Option<String> {
        desktop_pdf_viewer()
    }

    fn copy(&mut self, text: &str) -> std::io::Result<()> {
        // OSC 52: the terminal (or tmux, or ssh's far end) owns the clipboard.
        let mut out = std::io::stdout().lock();
        out.write_all(open::osc52(text).as_bytes())?;
        out.flush()
    }

    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// Runs the TUI on the terminal until the user quits. With no index, the screen says how to
/// build one. The terminal is restored on return, and on panic (ratatui's hook).
pub fn run(searcher: Option<Searcher>, settings: Settings) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "the TUI needs a terminal; in scripts use `lexsearch search QUERY` (add --json for data)"
        );
    }
    let info = searcher.as_ref().map(|s| {
        let info = IndexInfo::of(s.manifest());
        match s.remote() {
            None => info.at(s.dir()),
            Some(_) => info,
        }
    });
    let mut app = App::new(info, Theme::from_env())
        .with_mode(settings.mode)
        .with_k(settings.k)
        .with_rerank(settings.rerank.clone())
        .with_indexed_below(settings.indexed_below.clone());
    let (actions_tx, actions) = mpsc::channel();
    let jobs = match searcher {
        Some(searcher) => {
            let dir = settings
                .model_dir
                .clone()
                .unwrap_or_else(|| crate::embed::index_model_dir(&searcher.manifest().model));
            let precision =
                crate::embed::Precision::Auto.for_index(&searcher.manifest().model.fingerprint);
            let model = worker::ModelSource {
                dir,
                device: settings.device,
                precision,
                preload: settings.mode.needs_model(),
            };
            worker::spawn(searcher, model, actions_tx.clone())
                .context("starting the search thread")?
        }
        None => mpsc::channel().0,
    };
    let mut terminal = ratatui::try_init().context("setting up the terminal")?;
    let result = event_loop(&mut terminal, &mut app, &mut CrosstermHost, &jobs, &actions);
    ratatui::restore();
    drop(actions_tx);
    result
}

/// Draws the app, and the cursor in the line being edited.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    frame.render_widget(app, area);
    if let Some(at) = ui::cursor(app, area) {
        frame.set_cursor_position(at);
    }
}

/// The event loop: draw, wait for a key or a result, apply actions, carry out effects, until
/// the app stops running. Search requests go to `jobs`; results come back on `actions`.
pub fn event_loop<B, H>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    host: &mut H,
    jobs: &Sender<Job>,
    actions: &Receiver<Action>,
) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    H: Host,
{
    let size = terminal.size()?;
    app.update(Action::Resize(size.width, size.height));
    let mut deadline: Option<Instant> = None;
    let mut dirty = true;
    let mut worker_gone = false;
    while app.is_running() {
        if dirty {
            terminal.draw(|frame| draw(frame, app))?;
            dirty = false;
        }
        let wait = match deadline {
            Some(d) => d.saturating_duration_since(host.now()).min(TICK),
            None if app.is_searching() => TICK,
            None => IDLE,
        };
        let event = host.next_event(wait)?;
        // Results that arrived before the key go first.
        let mut queue = Vec::new();
        loop {
            match actions.try_recv() {
                Ok(action) => queue.push(action),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if !worker_gone && app.has_index() {
                        worker_gone = true;
                        queue.push(Action::Notify(
                            Level::Error,
                            "the search thread stopped; restart lexsearch".into(),
                        ));
                    }
                    break;
                }
            }
        }
        match event {
            Some(Event::Key(key)) if key.kind != KeyEventKind::Release => {
                if let Some(action) = keymap::map_key(key, app.key_context()) {
                    queue.push(action);
                }
            }
            Some(Event::Resize(w, h)) => queue.push(Action::Resize(w, h)),
            _ => {}
        }
        if deadline.is_some_and(|d| host.now() >= d) {
            deadline = None;
            queue.push(Action::Search);
        }
        for action in queue {
            dirty = true;
            match app.update(action) {
                None => {}
                Some(Effect::Debounce) => deadline = Some(host.now() + DEBOUNCE),
                Some(Effect::Search { seq, request }) => {
                    deadline = None;
                    // A stopped worker was reported above.
                    let _ = jobs.send(Job::Search { seq, request });
                }
                Some(Effect::ReadSection {
                    seq,
                    hit,
                    index,
                    reference,
                    query,
                }) => {
                    let _ = jobs.send(Job::Section {
                        seq,
                        hit,
                        index,
                        reference,
                        query,
                    });
                }
                Some(Effect::Open(target)) => {
                    let note = match taken_out(target) {
                        Ok(target) => open_outside(host, &target),
                        Err(message) => Action::Notify(Level::Error, message),
                    };
                    terminal.clear()?;
                    let size = terminal.size()?;
                    app.update(Action::Resize(size.width, size.height));
                    app.update(note);
                }
                Some(Effect::Copy(text)) => {
                    if let Err(e) = host.copy(&text) {
                        app.update(Action::Notify(Level::Error, format!("cannot copy: {e}")));
                    }
                }
            }
            if !app.is_running() {
                break;
            }
        }
    }
    Ok(())
}

/// `target`, or for a document inside another file, `target` at a copy taken out of it.
fn taken_out(target: OpenTarget) -> Result<OpenTarget, String> {
    let Some(inside) = &target.inside else {
        return Ok(target);
    };
    let Some(index) = &inside.index else {
        return Err(format!(
            "{} is inside another file, and attachments of a remote index are not copied out: \
             open the e-mail itself",
            inside.file
        ));
    };
    let path = crate::library::Library::at(index)
        .copy_to_open(&inside.root, &inside.file)
        .map_err(|e| e.to_string())?;
    Ok(OpenTarget { path, ..target })
}

/// Opens `target` in its viewer (a PDF viewer in a window of its own, at the hit's page;
/// anything else with the TUI suspended), and says how it went.
fn open_outside<H: Host>(host: &mut H, target: &OpenTarget) -> Action {
    let opener = open::opener(target, &|name| host.var(name), &|| {
        host.default_pdf_viewer()
    });
    let mut command = Command::new(&opener.program);
    command.args(&opener.args);
    if opener.detached {
        return match host.launch(&mut command) {
            Ok(()) => Action::Notify(
                Level::Info,
                format!(
                    "opened {} with {}{}",
                    target.shown(),
                    opener.program,
                    target
                        .page
                        .map(|p| format!(" at p. {p}"))
                        .unwrap_or_default()
                ),
            ),
            Err(e) => Action::Notify(
                Level::Error,
                format!(
                    "cannot run {} (${}, or the desktop's PDF viewer): {e}",
                    opener.program,
                    open::PDF_VIEWER_VAR
                ),
            ),
        };
    }
    match host.run_outside(&mut command) {
        Ok(status) if status.success() => {
            let mut text = format!("opened {} with {}", target.shown(), opener.program);
            if let Some(page) = target.page {
                text.push_str(&format!(
                    " (the hit is on p. {page}; set ${} to a viewer such as zathura, evince \
                     or okular to open PDFs at the page)",
                    open::PDF_VIEWER_VAR
                ));
            }
            Action::Notify(Level::Info, text)
        }
        Ok(status) => Action::Notify(
            Level::Error,
            format!("{} exited with {status}", opener.program),
        ),
        Err(e) => Action::Notify(Level::Error, format!("cannot run {}: {e}", opener.program)),
    }
}

/// The program of the desktop's default application for PDF (freedesktop: `xdg-mime query
/// default application/pdf` names its entry, whose `Exec` line names the program), or `None`
/// where there is no such desktop (macOS, a server over ssh) or it cannot be read.
fn desktop_pdf_viewer() -> Option<String> {
    if cfg!(target_os = "macos") {
        return None;
    }
    let out = Command::new("xdg-mime")
        .args(["query", "default", "application/pdf"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let id = String::from_utf8(out.stdout).ok()?.trim().to_string();
    if !out.status.success() || id.is_empty() || id.contains('/') {
        return None;
    }
    let home = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    let dirs = std::env::var("XDG_DATA_DIRS")
        .ok()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "/usr/local/share:/usr/share".into());
    home.into_iter()
        .chain(dirs.split(':').map(PathBuf::from))
        .find_map(|dir| std::fs::read_to_string(dir.join("applications").join(&id)).ok())
        .and_then(|entry| open::desktop_exec_program(&entry))
}
