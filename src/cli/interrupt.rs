//! Ctrl-C (SIGINT) and SIGTERM during `index` and `watch`: the first asks the run to stop at
//! its next safe point, keeping the vectors computed so far for the next run; a second stops
//! the process at once (still safe: the index on disk is only ever replaced whole).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The exit status of a command that Ctrl-C stopped before it finished (128 + SIGINT, as a
/// shell reports a process that the signal ended).
pub(super) const INTERRUPTED: u8 = 130;

/// Whether Ctrl-C (or SIGTERM) has asked the run to stop; cheap to clone and to ask.
#[derive(Debug, Clone, Default)]
pub(super) struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// Catches SIGINT and SIGTERM from now on, on a thread of its own: the first sets the flag
    /// and then calls `first` (which may say what happens next, or end the process when
    /// there is nothing to keep); a second ends the process at once with [`INTERRUPTED`].
    pub(super) fn catch(first: impl Fn() + Send + 'static) -> std::io::Result<Self> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        let interrupt = Interrupt::default();
        let flag = Arc::clone(&interrupt.0);
        std::thread::Builder::new()
            .name("interrupt".into())
            .spawn(move || {
                for _ in signals.forever() {
                    if flag.swap(true, Ordering::SeqCst) {
                        eprintln!("stopped at once");
                        std::process::exit(i32::from(INTERRUPTED));
                    }
                    first();
                }
            })?;
        Ok(interrupt)
    }

    /// Whether a stop was asked for.
    pub(super) fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
