//! Command-line definitions (clap derive) only: no logic, no I/O.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::printer::ColorChoice;

const AFTER_HELP: &str = "Exit codes:
  0  success, nothing to report
  1  findings: validation errors, a broken kustomization, changes with `diff --exit-code`,
     objects failed or unhealthy after apply
  2  usage or configuration error (bad flag, unknown environment, unreadable kubeship.yaml)
  3  could not complete: cluster unreachable, guard refused, lock not acquired,
     API failure after retries";

/// CI-driven GitOps for Kubernetes: render, validate, diff, apply with prune, notify.
#[derive(Debug, Parser)]
#[command(name = "kubeship", version, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// Repository root (default: the git top level of PATH, else of the current directory).
    /// No file outside it is ever read.
    #[arg(long, global = true, value_name = "DIR")]
    pub repo: Option<PathBuf>,

    /// kubeship.yaml to use (default: kubeship.yaml at the repository root, if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print only results and errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Color output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the rendered multi-document YAML stream of a folder or environment.
    Render(RenderArgs),
    /// Validate environments offline: YAML, schemas, CRDs, removed APIs, duplicates, policy.
    Validate(ValidateArgs),
    /// Show what apply would change, against the live cluster or another git revision.
    Diff(DiffArgs),
    /// Apply an environment: staged server-side apply, prune, health wait.
    Apply(ApplyArgs),
    /// Image update automation compatible with Flux image policies.
    Images(ImagesArgs),
    /// Do the right thing for this CI pipeline (merge request, default branch, schedule).
    Ci(CiArgs),
    /// Scaffold kubeship.yaml and CI files for this repository.
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct Target {
    /// Folder to work on (a kustomization or a plain folder of YAML).
    #[arg(value_name = "PATH", conflicts_with = "env")]
    pub path: Option<PathBuf>,

    /// Environment from kubeship.yaml (or a folder name under clusters/).
    #[arg(long, short, value_name = "ENV")]
    pub env: Option<String>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub target: Target,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Junit,
    Codequality,
    Sarif,
    Github,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub target: Target,

    /// Validate every environment.
    #[arg(long, conflicts_with_all = ["path", "env"])]
    pub all: bool,

    /// Format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also write FORMAT to FILE (repeatable): `--output junit=report.xml`.
    #[arg(long, value_name = "FORMAT=FILE")]
    pub output: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Environment to diff.
    #[arg(long, short, value_name = "ENV")]
    pub env: String,

    /// `cluster` (default) or a git revision to compare with, with no cluster at all.
    #[arg(long, value_name = "cluster|REV", default_value = "cluster")]
    pub against: String,

    /// Exit 1 when anything would change.
    #[arg(long)]
    pub exit_code: bool,

    /// Post (or update) the diff as a merge-request / pull-request comment.
    #[arg(long)]
    pub comment: bool,

    /// Format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also write FORMAT to FILE (repeatable): `--output markdown=diff.md`.
    #[arg(long, value_name = "FORMAT=FILE")]
    pub output: Vec<String>,

    /// Size budget of the Markdown output, in bytes.
    #[arg(long, value_name = "N")]
    pub max_bytes: Option<usize>,

    /// Parallel requests to the API server.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub concurrency: usize,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Environment to apply.
    #[arg(long, short, value_name = "ENV")]
    pub env: String,

    /// Apply without asking.
    #[arg(long, short)]
    pub yes: bool,

    /// Do everything up to the writes.
    #[arg(long)]
    pub dry_run: bool,

    /// Do not delete objects removed from Git.
    #[arg(long)]
    pub no_prune: bool,

    /// Also prune these protected kinds (Namespace, CustomResourceDefinition, PersistentVolumeClaim).
    #[arg(long, value_name = "KIND")]
    pub prune_kind: Vec<String>,

    /// Allow applying (and pruning after) an empty render.
    #[arg(long)]
    pub allow_empty: bool,

    /// Turn field-manager conflicts into failures instead of taking ownership.
    #[arg(long)]
    pub no_force_conflicts: bool,

    /// Health wait limit (default: the environment's timeout, else 5m).
    #[arg(long, value_name = "DUR")]
    pub timeout: Option<String>,

    /// How long to wait for another apply's lock.
    #[arg(long, value_name = "DUR", default_value = "5m")]
    pub lock_timeout: String,

    /// Apply even from a branch that is not the environment's deploy branch.
    #[arg(long)]
    pub force_branch: bool,

    /// Format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also write FORMAT to FILE (repeatable).
    #[arg(long, value_name = "FORMAT=FILE")]
    pub output: Vec<String>,

    /// Parallel requests to the API server.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub concurrency: usize,
}

#[derive(Debug, Args)]
pub struct ImagesArgs {
    #[command(subcommand)]
    pub command: ImagesCommand,
}

#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// Find newer tags for every image policy and update the setter markers.
    Update(ImagesUpdateArgs),
}

#[derive(Debug, Args)]
pub struct ImagesUpdateArgs {
    /// Only policies of this environment.
    #[arg(long, short, value_name = "ENV")]
    pub env: Option<String>,

    /// Write the changed files.
    #[arg(long)]
    pub write: bool,

    /// Commit the changed files (implies --write).
    #[arg(long)]
    pub commit: bool,

    /// Format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CiArgs {
    /// On a scheduled pipeline, apply drift instead of only reporting it.
    #[arg(long)]
    pub reconcile: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {}
