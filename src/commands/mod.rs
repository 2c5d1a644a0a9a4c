//! One file per subcommand: each orchestrates the pipeline stages and hands results to the
//! printer and reports. Must not: format output itself or hold business rules of a stage.

pub mod apply;
pub mod ci;
pub mod ci_face;
pub mod diff;
pub mod images;
pub mod init;
pub mod render;
pub mod validate;

use std::path::{Path, PathBuf};

use crate::cli::Target;
use crate::exit::Failure;
use crate::settings::{Environment, Settings, SettingsError};

impl From<SettingsError> for Failure {
    fn from(e: SettingsError) -> Failure {
        Failure::usage(e)
    }
}

/// What a command works on: an environment, or a bare folder.
pub struct Resolved<'a> {
    /// The environment's name, or the folder's path for a bare folder.
    pub name: String,
    pub env: Option<&'a Environment>,
    pub dir: PathBuf,
}

/// Loads settings for a `PATH | --env ENV` command.
pub fn load_settings(cli: &crate::cli::Cli, path: Option<&Path>) -> Result<Settings, Failure> {
    Ok(Settings::load(
        cli.repo.as_deref(),
        cli.config.as_deref(),
        path,
    )?)
}

/// Resolves `PATH | --env ENV` into a folder inside the repository.
pub fn resolve_target<'a>(
    settings: &'a Settings,
    target: &Target,
) -> Result<Resolved<'a>, Failure> {
    match (&target.path, &target.env) {
        (Some(p), _) => {
            let dir = std::env::current_dir()
                .map_err(|e| Failure::usage(format!("cannot read the current directory: {e}")))?
                .join(p);
            if !dir.is_dir() {
                return Err(Failure::usage(format!("{} is not a folder", p.display())));
            }
            let inside = dir
                .canonicalize()
                .is_ok_and(|d| d.starts_with(&settings.repo_root));
            if !inside {
                return Err(Failure::usage(format!(
                    "{} is outside the repository root {}; pass --repo",
                    p.display(),
                    settings.repo_root.display()
                )));
            }
            Ok(Resolved {
                name: p.display().to_string(),
                env: None,
                dir,
            })
        }
        (None, Some(name)) => {
            let env = settings.environment(name)?;
            let dir = settings.env_dir(env);
            if !dir.is_dir() {
                return Err(Failure::usage(format!(
                    "environment `{name}`: folder {} does not exist",
                    env.path
                )));
            }
            Ok(Resolved {
                name: env.name.clone(),
                env: Some(env),
                dir,
            })
        }
        (None, None) => Err(Failure::usage(format!(
            "give a folder (PATH) or an environment (--env ENV); known environments: {}",
            if settings.environments.is_empty() {
                "(none)".to_string()
            } else {
                settings
                    .environments
                    .iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ))),
    }
}

/// A tokio runtime for commands that talk to a cluster or the network.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::incomplete(anyhow::anyhow!("cannot start the async runtime: {e}")))
}

/// Parses repeatable `--output FORMAT=FILE` arguments, accepting only `allowed` formats.
pub fn parse_outputs(
    outputs: &[String],
    allowed: &[crate::cli::Format],
) -> Result<Vec<(crate::cli::Format, PathBuf)>, Failure> {
    use clap::ValueEnum;
    let names = || {
        allowed
            .iter()
            .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    outputs
        .iter()
        .map(|o| {
            let (fmt, file) = o.split_once('=').ok_or_else(|| {
                Failure::usage(format!(
                    "--output `{o}`: expected FORMAT=FILE, for example junit=report.xml"
                ))
            })?;
            let format = crate::cli::Format::from_str(fmt, true)
                .ok()
                .filter(|f| allowed.contains(f))
                .ok_or_else(|| {
                    Failure::usage(format!(
                        "--output `{o}`: format `{fmt}` is not one of {}",
                        names()
                    ))
                })?;
            if file.is_empty() {
                return Err(Failure::usage(format!("--output `{o}`: missing file name")));
            }
            Ok((format, PathBuf::from(file)))
        })
        .collect()
}

/// Writes a report file, creating its folder.
pub fn write_output(path: &Path, text: &str) -> Result<(), Failure> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            Failure::incomplete(anyhow::anyhow!("cannot create {}: {e}", dir.display()))
        })?;
    }
    std::fs::write(path, crate::redact::redact(text))
        .map_err(|e| Failure::incomplete(anyhow::anyhow!("cannot write {}: {e}", path.display())))
}
