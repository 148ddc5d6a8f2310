//! The `redline` binary: the allocator, then the command line ([`redline::cli`]).

use std::process::ExitCode;

/// Building the model allocates many small strings and trees; mimalloc makes `redline lint`
/// about a quarter faster than glibc's allocator on the corpus benchmark (BENCHMARKS.md).
/// `serve` counts it per thread: the webhook's memory budget stops a review that holds more
/// than its reservation (`redline::heap`).
#[global_allocator]
static ALLOCATOR: redline::heap::Counting<mimalloc::MiMalloc> =
    redline::heap::Counting(mimalloc::MiMalloc);

fn main() -> ExitCode {
    redline::cli::run()
}
