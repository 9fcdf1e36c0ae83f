//! The `lexsearch` binary: parses arguments and hands over to [`lexsearch::cli`].

use std::process::ExitCode;

use mimalloc::MiMalloc;

// candle allocates and frees large temporaries on every layer; glibc's malloc returns them to
// the OS and page-faults them back in (about a fifth of CPU time, see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

// The one foreign function this binary declares: part of the allocator it chose.
#[allow(unsafe_code)]
unsafe extern "C" {
    /// mimalloc's own (its C library, linked with the allocator above): returns the memory
    /// its heaps hold free to the system; with `force`, at once and for the heaps of ended
    /// threads too. mimalloc otherwise does so only as the program allocates again.
    fn mi_collect(force: bool);
}

/// Returns mimalloc's free memory to the system.
#[allow(unsafe_code)]
fn release_freed_memory() {
    // SAFETY: a plain C call without arguments to check; mimalloc allows it at any time,
    // from any thread.
    unsafe { mi_collect(true) }
}

fn main() -> ExitCode {
    lexsearch::cli::main(release_freed_memory)
}
