//! The kubeship binary: parse arguments, run, map to an exit code.

use std::process::ExitCode;

use clap::Parser;

// musl's allocator is slow under threads; the static build uses mimalloc.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match kubeship::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    ExitCode::from(kubeship::run(cli).code())
}
