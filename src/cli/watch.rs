//! `lexsearch watch`: keep an index current as files change, until Ctrl-C.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use notify::{RecursiveMode, Watcher};

use crate::indexer::{IndexOptions, build_index};
use crate::library::Library;

use super::interrupt::Interrupt;
use super::output::IndexProgress;
use super::{ModelArgs, load_index_model};

/// Arguments of `lexsearch watch`.
#[derive(Debug, Args)]
pub(super) struct WatchArgs {
    /// The folder to watch and index.
    dir: PathBuf,
    /// Where to keep the index (default DIR/.lexsearch).
    #[arg(long, value_name = "PATH")]
    index: Option<PathBuf>,
    #[command(flatten)]
    pub(super) model: ModelArgs,
    /// Wait this long after the last change before re-indexing, in milliseconds.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    debounce_ms: u64,
    /// Keep the vector graph in memory between updates (about 1 GB at 200,000 chunks with
    /// the default model), so that an update adding more vectors than wait beside the graph
    /// (8,192) inserts them without loading it from disk first (1–9 s between 200,000 and a
    /// million chunks). Without it, only such updates load the graph, and drop it after.
    #[arg(long)]
    keep_graph: bool,
}

pub(super) fn run(args: WatchArgs) -> anyhow::Result<super::Outcome> {
    // The watcher's own words for it were "No path was found".
    let mut opts = IndexOptions::new(&args.dir);
    if let Some(index) = &args.index {
        opts.index_dir = index.clone();
    }
    super::require_folder(&args.dir, &opts.index_dir, "watching")?;
    // The index's own model and settings are kept.
    let embedder = load_index_model(&args.model, &opts.index_dir, false)?;
    // With `--keep-graph`, the graph each update publishes stays in memory for the next one.
    // Without it, an update adds its vectors to the segment beside the graph and loads the
    // graph only when the segment would pass its limit: memory for seconds, now and then.
    let warm = args.keep_graph.then(crate::library::WarmGraph::new);
    opts.keep_graph = warm.clone();
    let index_dir = std::path::absolute(&opts.index_dir)?;
    let own = Library::at(&index_dir).own_paths();

    // Watch before the first index: a change made while it runs is queued, and picked up by
    // the loop below as soon as it is done, instead of being missed. Ctrl-C wakes the loop.
    let (tx, rx) = mpsc::channel();
    let changes = tx.clone();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res {
            let _ = changes.send(Wake::Change(event));
        }
    })?;
    watcher
        .watch(&args.dir, RecursiveMode::Recursive)
        .with_context(|| format!("watching {}", args.dir.display()))?;
    // The first index of a new folder may take long: a bar, as `index` shows.
    let terminal = std::io::stderr().is_terminal();
    let mut first = IndexProgress::new(terminal);
    if !terminal {
        first.log_to(Box::new(std::io::stderr()), Duration::from_secs(30));
    }
    let bar = first.bar();
    let interrupt = Interrupt::catch(move || {
        bar.suspend(|| eprintln!("stopping (Ctrl-C again to stop at once)"));
        let _ = tx.send(Wake::Stop);
    })?;
    first.stop_on(interrupt.clone());
    let update = |why: &str, progress: &IndexProgress| -> anyhow::Result<Updated> {
        let r = match build_index(&opts, &embedder, progress) {
            Err(crate::Error::Cancelled) => {
                progress.finish();
                eprintln!(
                    "stopped watching {}; the index is as it was before this update, and the \
                     vectors of the {} chunks done so far are kept for the next `lexsearch \
                     watch` or `lexsearch index`",
                    args.dir.display(),
                    progress.chunks()
                );
                return Ok(Updated::Interrupted);
            }
            r => r.with_context(|| format!("indexing {}", args.dir.display()))?,
        };
        progress.finish();
        // What the update freed (the graph it loaded, the catalog's caches) goes back to the
        // system now rather than at the next update, which may be hours away.
        super::release_freed_memory();
        println!(
            "{why}: {} added, {} changed, {} removed, {} unchanged, {} skipped; {} files, {} chunks ({:.1} s)",
            r.added,
            r.changed,
            r.removed,
            r.unchanged,
            r.skipped.len(),
            r.files_indexed,
            r.chunks,
            r.seconds
        );
        Ok(Updated::Done)
    };
    let stopped = || {
        eprintln!("stopped watching {}", args.dir.display());
        Ok(super::Outcome::Ok)
    };
    if update("indexed", &first)? == Updated::Interrupted {
        return Ok(super::Outcome::Interrupted);
    }
    // A first pass that changed nothing kept no graph: the current one loads meanwhile, so
    // that the first update finds it too.
    if let Some(warm) = &warm {
        warm.load_in_background(&Library::at(&index_dir));
    }
    eprintln!("watching {} (Ctrl-C to stop)", args.dir.display());
    let debounce = Duration::from_millis(args.debounce_ms);
    let relevant = |e: &notify::Event| {
        !e.kind.is_access()
            && e.paths.iter().any(|p| {
                let p = std::path::absolute(p).unwrap_or_else(|_| p.clone());
                !own.iter().any(|o| p.starts_with(o))
            })
    };
    // After a failed update (say, a lock held by a manual run) the changes it missed are
    // still to index: try again after this long, even if nothing else changes.
    let retry_after = Duration::from_secs(2);
    let mut retry_at: Option<Instant> = None;
    let gone = || anyhow::anyhow!("the file watcher stopped");
    loop {
        // Block for the first relevant change, then wait until changes stop for `debounce`.
        let first = if let Some(at) = retry_at {
            match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                Ok(wake) => Some(wake),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err(gone()),
            }
        } else {
            Some(rx.recv().map_err(|_| gone())?)
        };
        match first {
            Some(Wake::Stop) => return stopped(),
            Some(Wake::Change(e)) if !relevant(&e) => continue,
            Some(Wake::Change(_)) | None => {}
        }
        let mut last = Instant::now();
        while last.elapsed() < debounce {
            match rx.recv_timeout(debounce.saturating_sub(last.elapsed())) {
                Ok(Wake::Stop) => return stopped(),
                Ok(Wake::Change(e)) if relevant(&e) => last = Instant::now(),
                Ok(Wake::Change(_)) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err(gone()),
            }
        }
        let mut progress = IndexProgress::new(false);
        progress.stop_on(interrupt.clone());
        retry_at = match update("updated", &progress) {
            Ok(Updated::Done) => None,
            Ok(Updated::Interrupted) => return Ok(super::Outcome::Interrupted),
            Err(e) => {
                // Reported; watching goes on, and the update is tried again.
                eprintln!("error: {e:#}; trying again in {} s", retry_after.as_secs());
                Some(Instant::now() + retry_after)
            }
        };
    }
}

/// What wakes the watch loop.
enum Wake {
    /// A file under the folder changed.
    Change(notify::Event),
    /// Ctrl-C (or SIGTERM).
    Stop,
}

/// How an update ended.
#[derive(Debug, PartialEq, Eq)]
enum Updated {
    Done,
    /// Ctrl-C stopped it; it said what was kept.
    Interrupted,
}
