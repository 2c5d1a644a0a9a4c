//! `kubeship images`.

use crate::cli::{Cli, ImagesArgs};
use crate::exit::{Exit, Failure};
use crate::printer::Printer;

pub fn run(_cli: &Cli, _args: &ImagesArgs, _printer: &Printer) -> Result<Exit, Failure> {
    Err(Failure::usage("`images` is not available yet"))
}
