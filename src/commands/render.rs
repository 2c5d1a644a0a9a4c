//! `kubeship render`: print the rendered YAML stream of a folder or environment.

use crate::cli::{Cli, RenderArgs};
use crate::exit::{Exit, Failure};
use crate::manifest::emit;
use crate::printer::Printer;
use crate::render;

pub fn run(cli: &Cli, args: &RenderArgs, printer: &Printer) -> Result<Exit, Failure> {
    let settings = super::load_settings(cli, args.target.path.as_deref())?;
    let target = super::resolve_target(&settings, &args.target)?;
    let set = render::render(&settings.repo_root, &target.dir).map_err(Failure::findings)?;
    for w in &set.warnings {
        printer.warn(&format!("{}: {}", set.sources.describe(w.pos), w.message));
    }
    if let Some(d) = set.duplicate_keys.first() {
        return Err(Failure::findings(format!(
            "{}: duplicate key `{}` (first at line {}); Kubernetes would keep only one of them, remove one",
            set.sources.describe(d.again),
            d.key,
            d.first.line
        )));
    }
    printer.out_raw(&emit::write_stream(set.objects.iter().map(|o| &o.node)));
    Ok(Exit::Success)
}
