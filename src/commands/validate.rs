//! `kubeship validate`.

use crate::cli::{Cli, ValidateArgs};
use crate::exit::{Exit, Failure};
use crate::printer::Printer;

pub fn run(_cli: &Cli, _args: &ValidateArgs, _printer: &Printer) -> Result<Exit, Failure> {
    Err(Failure::usage("`validate` is not available yet"))
}
