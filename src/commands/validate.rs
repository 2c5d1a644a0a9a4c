//! `kubeship validate [PATH | --env ENV | --all]`: render each environment, validate it
//! offline, print the report in one format and write any number of others to files.
//! Must not: format reports itself (see `report::findings`) or hold validation rules.

use std::path::PathBuf;

use crate::cli::{Cli, Format, ValidateArgs};
use crate::exit::{Exit, Failure};
use crate::printer::Printer;
use crate::render;
use crate::report::findings::{self, TextStyle};
use crate::validate::{self, Schemas, ValidateOptions, ValidationReport};

pub fn run(cli: &Cli, args: &ValidateArgs, printer: &Printer) -> Result<Exit, Failure> {
    if args.format == Format::Markdown {
        return Err(Failure::usage(
            "--format markdown is not available for validate; use text, json, junit, codequality, sarif or github",
        ));
    }
    let outputs = super::parse_outputs(
        &args.output,
        &[
            Format::Text,
            Format::Json,
            Format::Junit,
            Format::Codequality,
            Format::Sarif,
            Format::Github,
        ],
    )?;
    let settings = super::load_settings(cli, args.target.path.as_deref())?;

    // (report name, folder, Kubernetes version) of each environment to validate.
    let mut targets: Vec<(String, PathBuf, String)> = Vec::new();
    if args.all {
        if settings.environments.is_empty() {
            return Err(Failure::usage(
                "--all: no environments; add them to kubeship.yaml or create folders under clusters/",
            ));
        }
        for env in &settings.environments {
            targets.push((
                env.name.clone(),
                settings.env_dir(env),
                env.kubernetes_version.clone(),
            ));
        }
    } else {
        let t = super::resolve_target(&settings, &args.target)?;
        let version = t.env.map_or_else(
            || settings.kubernetes_version.clone(),
            |e| e.kubernetes_version.clone(),
        );
        targets.push((t.name, t.dir, version));
    }

    let report = validate_targets(&settings, targets, printer)?;

    let stdout = match args.format {
        Format::Text => {
            let mut text = findings::text(
                &report,
                TextStyle {
                    color: printer.color_stdout(),
                },
            );
            if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
                text.push_str(&findings::github(&report));
            }
            text
        }
        f => render_format(f, &report),
    };
    for (format, path) in &outputs {
        super::write_output(path, &render_format(*format, &report))?;
    }
    printer.out(&stdout);
    super::ci_face::write_outputs(0, report.errors(), printer);
    Ok(if report.errors() > 0 {
        Exit::Findings
    } else {
        Exit::Success
    })
}

/// Validates each (report name, folder, Kubernetes version); notes go to stderr once.
pub fn validate_targets(
    settings: &crate::settings::Settings,
    targets: Vec<(String, PathBuf, String)>,
    printer: &Printer,
) -> Result<ValidationReport, Failure> {
    let schemas = Schemas::new();
    let mut report = ValidationReport::default();
    let mut notes: Vec<String> = Vec::new();
    for (name, dir, version) in targets {
        let opts =
            ValidateOptions::from_settings(settings, &name, &version).map_err(Failure::usage)?;
        let env_report = match render::render(&settings.repo_root, &dir) {
            Ok(set) => schemas.validate(&set, &opts),
            Err(err) => {
                let text = err.pos.as_ref().and_then(|(path, _, _)| {
                    std::fs::read_to_string(settings.repo_root.join(path)).ok()
                });
                validate::render_failure(&err, &opts, text.as_deref())
            }
        };
        for n in &env_report.notes {
            if !notes.contains(n) {
                printer.warn(n);
                notes.push(n.clone());
            }
        }
        report.environments.push(env_report);
    }

    Ok(report)
}

/// Validates environments, as `kubeship ci` does.
pub fn validate_environments(
    settings: &crate::settings::Settings,
    envs: &[crate::settings::Environment],
    printer: &Printer,
) -> Result<ValidationReport, Failure> {
    let targets = envs
        .iter()
        .map(|e| {
            (
                e.name.clone(),
                settings.env_dir(e),
                e.kubernetes_version.clone(),
            )
        })
        .collect();
    validate_targets(settings, targets, printer)
}

fn render_format(format: Format, report: &ValidationReport) -> String {
    match format {
        Format::Text | Format::Markdown => findings::text(report, TextStyle { color: false }),
        Format::Json => findings::json(report),
        Format::Junit => findings::junit(report),
        Format::Codequality => findings::codequality(report),
        Format::Sarif => findings::sarif(report),
        Format::Github => findings::github(report),
    }
}
