//! `kubeship images update`: plan the image updates, then print, write or commit them.
//!
//! Must not: hold the rules of policies, registries or markers (they live in `crate::images`).

use crate::cli::{Cli, Format, ImagesArgs, ImagesCommand, ImagesUpdateArgs};
use crate::exit::{Exit, Failure};
use crate::images::report::{self, Applied, Note};
use crate::images::{self, ImagesError, RegistryClient, RegistryOptions, git};
use crate::printer::Printer;

impl From<ImagesError> for Failure {
    fn from(e: ImagesError) -> Failure {
        let exit = e.exit();
        Failure::new(exit, e)
    }
}

pub fn run(cli: &Cli, args: &ImagesArgs, printer: &Printer) -> Result<Exit, Failure> {
    match &args.command {
        ImagesCommand::Update(a) => update(cli, a, printer),
    }
}

fn update(cli: &Cli, args: &ImagesUpdateArgs, printer: &Printer) -> Result<Exit, Failure> {
    if !matches!(args.format, Format::Text | Format::Json) {
        return Err(Failure::usage(
            "`images update` writes --format text or --format json",
        ));
    }
    let settings = super::load_settings(cli, None)?;
    if let Some(name) = &args.env {
        settings.environment(name)?;
    }
    if args.commit
        && let Some(t) = &settings.images.commit_message
    {
        git::check_template(t).map_err(Failure::usage)?;
    }
    let client = RegistryClient::from_env(RegistryOptions::default()).map_err(Failure::usage)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::incomplete(anyhow::anyhow!("cannot start the async runtime: {e}")))?;
    let plan = runtime.block_on(images::plan(&settings, args.env.as_deref(), &client))?;

    let mut applied = Applied::default();
    if args.commit && !plan.files.is_empty() {
        let message = git::commit_message(settings.images.commit_message.as_deref(), &plan)
            .map_err(Failure::usage)?;
        let author = git::author(&settings.images, &plan.repo_root);
        let sha = git::commit(&plan, &message, &author).map_err(ImagesError::from)?;
        applied.written = true;
        applied.commit = sha;
    } else if (args.write || args.commit) && !plan.files.is_empty() {
        images::write(&plan)?;
        applied.written = true;
    }

    for note in report::notes(&plan) {
        match note {
            Note::Progress(m) => printer.progress(&m),
            Note::Warning(m) => printer.warn(&m),
            Note::Error(m) => printer.error(&m),
        }
    }
    match args.format {
        Format::Json => printer.out(&report::json(&plan, &applied)),
        _ => printer.out(&report::text(&plan, &applied)),
    }
    Ok(plan.exit())
}
