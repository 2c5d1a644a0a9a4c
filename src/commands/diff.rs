//! `kubeship diff`.

use crate::cli::{Cli, DiffArgs};
use crate::exit::{Exit, Failure};
use crate::printer::Printer;

pub fn run(_cli: &Cli, _args: &DiffArgs, _printer: &Printer) -> Result<Exit, Failure> {
    Err(Failure::usage("`diff` is not available yet"))
}
