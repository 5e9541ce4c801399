//! The `scrubline` binary: everything lives in the library; see `scrubline::cli`.

fn main() -> std::process::ExitCode {
    scrubline::cli::main()
}
