//! The `colloquy` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    colloquy::cli::main()
}
