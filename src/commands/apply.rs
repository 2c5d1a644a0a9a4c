//! `kubeship apply`.

use crate::cli::{ApplyArgs, Cli};
use crate::exit::{Exit, Failure};
use crate::printer::Printer;

pub fn run(_cli: &Cli, _args: &ApplyArgs, _printer: &Printer) -> Result<Exit, Failure> {
    Err(Failure::usage("`apply` is not available yet"))
}
