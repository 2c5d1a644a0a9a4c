//! `kubeship init`.

use crate::cli::{Cli, InitArgs};
use crate::exit::{Exit, Failure};
use crate::printer::Printer;

pub fn run(_cli: &Cli, _args: &InitArgs, _printer: &Printer) -> Result<Exit, Failure> {
    Err(Failure::usage("`init` is not available yet"))
}
