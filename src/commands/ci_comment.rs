//! Posting the diff as a sticky merge-request / pull-request comment (`diff --comment`).

use crate::exit::Failure;
use crate::plan::Plan;
use crate::printer::Printer;
use crate::settings::{Environment, Settings};

pub fn post_diff(
    _settings: &Settings,
    env: &Environment,
    _plan: &Plan,
    printer: &Printer,
) -> Result<(), Failure> {
    printer.warn(&format!(
        "diff --comment for `{}`: merge-request comments are wired in with the notify module",
        env.name
    ));
    Ok(())
}
