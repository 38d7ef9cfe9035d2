//! The `colloquy` binary: everything lives in the library.

/// mimalloc instead of the system allocator: under load glibc's malloc
/// took about a tenth of a request's CPU, partly waiting on arena locks
/// between the worker threads (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    colloquy::cli::main()
}
