//! Running an untrusted parser without letting it take the indexer down.
//!
//! PDF and DOCX files are parsed by third-party crates (lopdf, pdf-extract, zip, quick-xml)
//! that were not written for hostile input: a crafted file can make them panic, loop or
//! recurse for a very long time. [`run_isolated`] runs such work on its own thread, catches a
//! panic there, and stops waiting after a time budget. A thread that overruns its budget
//! cannot be killed in Rust: it is detached and left to finish (or to end with the process),
//! and the caller moves on.
//!
//! The library installs nothing global: by default the panic hook prints the panic of an
//! isolated thread (named [`THREAD_NAME`]) to stderr like any other. A program may call
//! [`quiet_isolated_panics`] once (the `lexsearch` binary does) to keep those quiet: the
//! panic's message and location then only appear in the error returned to the caller.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Once, mpsc};
use std::time::Duration;

thread_local! {
    /// Where the last panic of this thread happened, when [`quiet_isolated_panics`] is on.
    static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs a panic hook that stays silent for threads named [`THREAD_NAME`] (recording the
/// location for the error message instead) and hands every other panic to the hook that was
/// in place before. Calling it again does nothing.
pub fn quiet_isolated_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() == Some(THREAD_NAME) {
                let location = info.location().map(|l| {
                    // The crate and file, without the registry path before it.
                    let file = l.file();
                    let short = file
                        .rfind("/src/")
                        .and_then(|i| file[..i].rfind('/').map(|j| &file[j + 1..]))
                        .unwrap_or(file);
                    format!("{short}:{}", l.line())
                });
                PANIC_LOCATION.with(|p| *p.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
}

/// Name of the threads that run isolated work, as seen in panic messages.
pub const THREAD_NAME: &str = "lexsearch-extract";

/// Stack size of an isolated thread. Parsers of nested formats recurse; a deep stack turns
/// most "stack overflow" aborts into ordinary completions. Only touched pages use memory.
const STACK_BYTES: usize = 64 * 1024 * 1024;

/// Why isolated work gave no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// The work panicked; the panic message, when it was a string, and its location when
    /// [`quiet_isolated_panics`] recorded it.
    Panicked(String),
    /// The work did not finish within the budget; the thread was left running.
    TimedOut(Duration),
    /// No thread could be started (the operating system refused).
    NoThread(String),
}

/// Runs `work` on a new thread, catching panics, and waits at most `budget` for it.
pub fn run_isolated<T, F>(budget: Duration, work: F) -> Result<T, Isolation>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name(THREAD_NAME.to_string())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(work)).map_err(|payload| {
                let message = panic_message(payload);
                match PANIC_LOCATION.with(|p| p.borrow_mut().take()) {
                    Some(at) => format!("{message} (at {at})"),
                    None => message,
                }
            });
            // The receiver is gone when the caller gave up waiting: nothing left to do.
            let _ = tx.send(result);
        });
    let handle = spawned.map_err(|e| Isolation::NoThread(e.to_string()))?;
    match rx.recv_timeout(budget) {
        Ok(Ok(value)) => {
            // The thread has sent its result and is about to end; joining is immediate.
            let _ = handle.join();
            Ok(value)
        }
        Ok(Err(message)) => {
            let _ = handle.join();
            Err(Isolation::Panicked(message))
        }
        // Dropping the handle detaches the thread.
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Isolation::TimedOut(budget)),
        // The thread ended without sending: only possible if sending itself failed.
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(Isolation::Panicked("the worker thread ended early".into()))
        }
    }
}

/// The message of a panic payload (`panic!("...")` gives `&str` or `String`).
fn panic_message(payload: Box<dyn Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_result_comes_back() {
        assert_eq!(run_isolated(Duration::from_secs(5), || 6 * 7), Ok(42));
    }

    #[test]
    fn a_panic_becomes_an_error_with_its_message() {
        let got: Result<(), _> = run_isolated(Duration::from_secs(5), || panic!("bad xref {}", 7));
        assert_eq!(got, Err(Isolation::Panicked("bad xref 7".into())));
        let got: Result<(), _> = run_isolated(Duration::from_secs(5), || panic!("static"));
        assert_eq!(got, Err(Isolation::Panicked("static".into())));
    }

    #[test]
    fn stuck_work_is_abandoned_after_the_budget() {
        let started = Instant::now();
        let got = run_isolated(Duration::from_millis(100), || {
            std::thread::sleep(Duration::from_secs(30));
            1
        });
        assert_eq!(got, Err(Isolation::TimedOut(Duration::from_millis(100))));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn deep_recursion_fits_the_stack() {
        // About 100 bytes of stack per level: 8 MB or more in all, past a default
        // thread's 2 MiB (and the main thread's 8 MiB).
        fn depth(n: u64) -> u64 {
            if n == 0 {
                return 0;
            }
            let pad = std::hint::black_box([n; 8]);
            1 + depth(n - 1) + u64::from(pad[(n % 8) as usize] == u64::MAX)
        }
        assert_eq!(
            run_isolated(Duration::from_secs(10), || depth(100_000)),
            Ok(100_000)
        );
    }
}
