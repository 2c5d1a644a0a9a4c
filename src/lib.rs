//! kubeship: render, validate, diff and apply a GitOps repository from CI.
//!
//! The pipeline of types: `Cli -> Settings -> render -> RenderedSet -> validate -> Report`,
//! and for clusters `RenderedSet -> cluster::observe -> plan -> cluster::execute`.

pub mod cli;
pub mod commands;
pub mod exit;
pub mod manifest;
pub mod printer;
pub mod redact;
pub mod render;
pub mod settings;

use cli::{Cli, Command};
use exit::{Exit, Failure};
use printer::Printer;

/// Runs one command and returns its exit code; errors are printed here.
pub fn run(cli: Cli) -> Exit {
    let printer = Printer::new(cli.quiet, cli.color);
    let result: Result<Exit, Failure> = match &cli.command {
        Command::Render(args) => commands::render::run(&cli, args, &printer),
        other => Err(Failure::usage(format!(
            "`{}` is not available yet",
            command_name(other)
        ))),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            printer.error(&f.to_string());
            f.exit
        }
    }
}

fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Render(_) => "render",
        Command::Validate(_) => "validate",
        Command::Diff(_) => "diff",
        Command::Apply(_) => "apply",
        Command::Images(_) => "images",
        Command::Ci(_) => "ci",
        Command::Init(_) => "init",
    }
}
