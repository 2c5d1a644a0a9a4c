//! kubeship: render, validate, diff and apply a GitOps repository from CI.
//!
//! The pipeline of types: `Cli -> Settings -> render -> RenderedSet -> validate -> Report`,
//! and for clusters `RenderedSet -> cluster::observe -> plan -> cluster::execute`.

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod exit;
pub mod git;
pub mod images;
pub mod manifest;
pub mod notify;
pub mod plan;
pub mod printer;
pub mod redact;
pub mod render;
pub mod report;
pub mod settings;
pub mod validate;

use cli::{Cli, Command};
use exit::{Exit, Failure};
use printer::Printer;

/// Runs one command and returns its exit code; errors are printed here.
pub fn run(cli: Cli) -> Exit {
    let printer = Printer::new(cli.quiet, cli.color);
    let result: Result<Exit, Failure> = match &cli.command {
        Command::Render(args) => commands::render::run(&cli, args, &printer),
        Command::Validate(args) => commands::validate::run(&cli, args, &printer),
        Command::Diff(args) => commands::diff::run(&cli, args, &printer),
        Command::Apply(args) => commands::apply::run(&cli, args, &printer),
        Command::Images(args) => commands::images::run(&cli, args, &printer),
        Command::Ci(args) => commands::ci::run(&cli, args, &printer),
        Command::Init(args) => commands::init::run(&cli, args, &printer),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            printer.error(&f.to_string());
            f.exit
        }
    }
}
