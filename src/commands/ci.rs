//! `kubeship ci`.

use crate::cli::{CiArgs, Cli};
use crate::exit::{Exit, Failure};
use crate::printer::Printer;

pub fn run(_cli: &Cli, _args: &CiArgs, _printer: &Printer) -> Result<Exit, Failure> {
    Err(Failure::usage("`ci` is not available yet"))
}
