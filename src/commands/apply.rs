//! `kubeship apply`: execute exactly the plan `diff` shows, with guards and a deploy lock.
//!
//! Order: branch guard (in CI), render, empty-render guard, connect (server guard, no request
//! before it), observe and plan (dry-run), confirmation (terminal prompt, or `--yes`), lock,
//! staged apply, prune, health wait, report, notifications.

use std::io::{BufRead, IsTerminal};
use std::time::Duration;

use crate::cli::{ApplyArgs, Cli, Format};
use crate::cluster::execute::{ApplyResult, ExecuteOptions, ObjectResult, Outcome};
use crate::cluster::{self, lock};
use crate::exit::{Exit, Failure};
use crate::plan::{self, Action};
use crate::printer::Printer;
use crate::report;
use crate::settings::{Environment, parse_duration};

use super::diff::{connect_options, observe_options, render_env};

/// The branch this CI pipeline runs for, and the repository's default branch, if in CI.
pub fn ci_branches(ci: &crate::notify::CiEnv) -> Option<(Option<String>, Option<String>)> {
    use crate::notify::Platform;
    match ci.platform()? {
        Platform::GitLab => Some((ci.get("CI_COMMIT_BRANCH"), ci.get("CI_DEFAULT_BRANCH"))),
        Platform::GitHub => {
            let branch = ci
                .get("GITHUB_REF")
                .and_then(|r| r.strip_prefix("refs/heads/").map(str::to_string))
                .or_else(|| {
                    ci.get("GITHUB_REF_NAME")
                        .filter(|_| ci.get("GITHUB_REF_TYPE").as_deref() == Some("branch"))
                });
            let default = ci
                .get("GITHUB_EVENT_PATH")
                .and_then(|p| std::fs::read_to_string(p).ok())
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|e| {
                    e.pointer("/repository/default_branch")
                        .and_then(|b| b.as_str())
                        .map(str::to_string)
                });
            Some((branch, default))
        }
    }
}

fn branch_guard(env: &Environment, force: bool) -> Result<(), Failure> {
    let Some((branch, default)) = ci_branches(&crate::notify::CiEnv::from_process()) else {
        return Ok(());
    };
    let wanted = env.branch.clone().or(default);
    let Some(wanted) = wanted else {
        return Ok(());
    };
    if branch.as_deref() == Some(wanted.as_str()) || force {
        return Ok(());
    }
    Err(Failure::incomplete(anyhow::anyhow!(
        "refusing to apply `{}` from {}: it deploys only from branch `{wanted}`; use --force-branch to override",
        env.name,
        branch.map_or_else(
            || "a pipeline without a branch".to_string(),
            |b| format!("branch `{b}`")
        )
    )))
}

/// One apply, as `apply` and `ci` ask for it.
#[derive(Clone, Debug)]
pub struct ApplyRequest {
    pub yes: bool,
    pub dry_run: bool,
    pub prune: bool,
    pub prune_kinds: Vec<String>,
    pub allow_empty: bool,
    pub force_conflicts: bool,
    pub timeout: Duration,
    pub lock_timeout: Duration,
    pub force_branch: bool,
    pub concurrency: usize,
}

/// What an apply produced.
pub struct Applied {
    pub result: ApplyResult,
    pub dry_run: bool,
    pub endpoint: cluster::Endpoint,
}

pub fn run(cli: &Cli, args: &ApplyArgs, printer: &Printer) -> Result<Exit, Failure> {
    let settings = super::load_settings(cli, None)?;
    let env = settings.environment(&args.env)?.clone();
    if !matches!(args.format, Format::Text | Format::Json) {
        return Err(Failure::usage("apply --format takes text or json"));
    }
    let outputs = super::parse_outputs(&args.output, &[Format::Text, Format::Json])?;
    let timeout = match &args.timeout {
        Some(t) => parse_duration(t).map_err(Failure::usage)?,
        None => env.timeout,
    };
    let lock_timeout = parse_duration(&args.lock_timeout).map_err(Failure::usage)?;
    for k in &args.prune_kind {
        if !matches!(
            k.as_str(),
            "Namespace" | "CustomResourceDefinition" | "PersistentVolumeClaim"
        ) {
            return Err(Failure::usage(format!(
                "--prune-kind {k}: only Namespace, CustomResourceDefinition and PersistentVolumeClaim are protected"
            )));
        }
    }
    let request = ApplyRequest {
        yes: args.yes,
        dry_run: args.dry_run,
        prune: env.prune && !args.no_prune,
        prune_kinds: args.prune_kind.clone(),
        allow_empty: args.allow_empty,
        force_conflicts: !args.no_force_conflicts,
        timeout,
        lock_timeout,
        force_branch: args.force_branch,
        concurrency: args.concurrency,
    };
    let applied = apply_env(&settings, &env, &request, printer)?;
    let (result, dry_run) = (&applied.result, applied.dry_run);
    for (format, path) in &outputs {
        let text = match format {
            Format::Json => report::apply::json(&env.name, result),
            _ => report::apply::text(&env.name, result, dry_run),
        };
        super::write_output(path, &text)?;
    }
    match args.format {
        Format::Json => printer.out(&report::apply::json(&env.name, result)),
        _ => printer.out(&report::apply::text(&env.name, result, dry_run)),
    }
    if !dry_run {
        super::ci_face::after_apply(&settings, &env, &applied.endpoint, result, printer);
    }
    Ok(if result.failed() || !result.healthy() {
        Exit::Findings
    } else {
        Exit::Success
    })
}

/// Guards, render, observe, confirm, lock, execute: the whole apply of one environment.
pub fn apply_env(
    settings: &crate::settings::Settings,
    env: &Environment,
    req: &ApplyRequest,
    printer: &Printer,
) -> Result<Applied, Failure> {
    branch_guard(env, req.force_branch)?;
    let set = render_env(settings, env)?;
    for w in &set.warnings {
        printer.warn(&format!("{}: {}", set.sources.describe(w.pos), w.message));
    }
    if set.objects.is_empty() && !req.allow_empty {
        return Err(Failure::findings(format!(
            "the render of `{}` is empty; refusing to apply (it would prune everything). Use --allow-empty if that is intended",
            env.name
        )));
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !req.yes && !req.dry_run && !interactive {
        return Err(Failure::usage(
            "apply needs confirmation: no terminal to ask on; pass --yes (CI) or run it in a terminal",
        ));
    }
    let rt = super::runtime()?;
    rt.block_on(async {
        let cluster = cluster::connect(&connect_options(env, req.concurrency)).await?;
        printer.progress(&format!(
            "environment {} -> context {} ({})",
            env.name, cluster.endpoint.context, cluster.endpoint.server
        ));
        let mut live = cluster::observe(
            &cluster,
            &set,
            &observe_options(env, &cluster, req.force_conflicts, &req.prune_kinds),
        )
        .await?;
        let plan = plan::build(&env.name, std::mem::take(&mut live.observations));
        let endpoint = cluster.endpoint.clone();
        if req.dry_run {
            return Ok(Applied {
                result: dry_run_result(&plan),
                dry_run: true,
                endpoint,
            });
        }
        if !req.yes {
            printer.out(&report::plan::text(&plan, printer.color_stdout()));
            if !plan.has_changes() && plan.summary().blocked == 0 {
                return Ok(Applied {
                    result: dry_run_result(&plan),
                    dry_run: false,
                    endpoint,
                });
            }
            printer.prompt(&format!(
                "Apply to {} (context {})? [y/N] ",
                env.name, endpoint.context
            ));
            let mut answer = String::new();
            let _ = std::io::stdin().lock().read_line(&mut answer);
            if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES") {
                return Err(Failure::usage("apply cancelled"));
            }
        }
        let progress = |m: &str| printer.progress(m);
        if !cluster::execute::needs_writes(&plan, &live) {
            printer.progress("nothing to change; checking health only");
            let result =
                cluster::execute::verify_only(&cluster.api, &plan, &live, req.timeout, &progress)
                    .await;
            return Ok(Applied {
                result,
                dry_run: false,
                endpoint,
            });
        }
        let holder = lock::holder_identity();
        let lock = lock::acquire(
            &cluster.api,
            &env.inventory_namespace,
            &env.name,
            &holder,
            req.lock_timeout,
        )
        .await?;
        let opts = ExecuteOptions {
            prune: req.prune,
            allow_empty: req.allow_empty,
            force_conflicts: req.force_conflicts,
            timeout: req.timeout,
            wait: true,
        };
        let result =
            cluster::execute::execute(&cluster.api, &plan, &mut live, &opts, &progress).await;
        lock.release().await;
        Ok(Applied {
            result: result?,
            dry_run: false,
            endpoint,
        })
    })
}

/// What a dry run reports: the plan's actions as outcomes, nothing written.
fn dry_run_result(plan: &plan::Plan) -> ApplyResult {
    let objects = plan
        .changes
        .iter()
        .map(|c| {
            let (outcome, message) = match &c.action {
                Action::Create => (Outcome::Created, None),
                Action::Update => (Outcome::Configured, None),
                Action::Unchanged => (Outcome::Unchanged, None),
                Action::Prune => (Outcome::Pruned, None),
                Action::Skip(w) => (Outcome::Skipped, Some(w.clone())),
                Action::Blocked(w) => (Outcome::Failed, Some(w.clone())),
            };
            ObjectResult {
                id: c.id.clone(),
                outcome,
                message,
            }
        })
        .collect();
    ApplyResult {
        objects,
        unhealthy: Vec::new(),
        duration: Duration::ZERO,
    }
}
