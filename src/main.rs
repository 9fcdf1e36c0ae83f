//! The `lexsearch` binary: parses arguments and hands over to [`lexsearch::cli`].

use std::process::ExitCode;

use mimalloc::MiMalloc;

// candle allocates and frees large temporaries on every layer; glibc's malloc returns them to
// the OS and page-faults them back in (about a fifth of CPU time, see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn main() -> ExitCode {
    lexsearch::cli::main()
}
