//! `kubeship ci`: reads the CI variables (GitLab and GitHub) and runs what this pipeline needs,
//! for every environment or only `KUBESHIP_ENV`:
//! - merge / pull request: validate (JUnit + Code Quality files), diff, sticky comment;
//! - default branch: validate, then apply and notify the environments that deploy from it;
//! - schedule: image updates (commit, push, merge request), then drift per environment with a
//!   notification (`--reconcile` applies instead).
//!
//! Must not: hold any stage's rules; it only sequences the other commands' functions.

use std::time::Duration;

use crate::cli::{CiArgs, Cli};
use crate::cluster::connect::resolve;
use crate::exit::{Exit, Failure};
use crate::images::{self, RegistryClient, RegistryOptions};
use crate::notify::{self, CiEnv, Event, EventKind, Platform};
use crate::printer::Printer;
use crate::report;
use crate::settings::{Environment, Settings};

use super::apply::{ApplyRequest, apply_env};
use super::diff::{connect_options, plan_against_cluster, plan_against_revision, render_env};

/// What kind of pipeline this is.
#[derive(Clone, Debug, PartialEq)]
pub enum Pipeline {
    /// A merge request (GitLab) or pull request (GitHub), with its target branch.
    ChangeRequest {
        target: Option<String>,
    },
    /// A push to (or a manual run on) the default branch.
    DefaultBranch {
        branch: String,
    },
    Schedule,
    /// Any other branch: validate only.
    OtherBranch {
        branch: Option<String>,
    },
}

/// Reads the pipeline kind from CI variables.
pub fn detect(ci: &CiEnv) -> Option<Pipeline> {
    let platform = ci.platform()?;
    let (source, target) = match platform {
        Platform::GitLab => (
            ci.get("CI_PIPELINE_SOURCE"),
            ci.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME"),
        ),
        Platform::GitHub => (ci.get("GITHUB_EVENT_NAME"), ci.get("GITHUB_BASE_REF")),
    };
    let merge_request = platform == Platform::GitLab && ci.get("CI_MERGE_REQUEST_IID").is_some();
    Some(match source.as_deref() {
        Some("schedule") => Pipeline::Schedule,
        Some("merge_request_event" | "pull_request" | "pull_request_target") => {
            Pipeline::ChangeRequest { target }
        }
        _ if merge_request => Pipeline::ChangeRequest { target },
        _ => match super::apply::ci_branches(ci).unwrap_or((None, None)) {
            (Some(b), Some(d)) if b == d => Pipeline::DefaultBranch { branch: b },
            (branch, _) => Pipeline::OtherBranch { branch },
        },
    })
}

pub fn run(cli: &Cli, args: &CiArgs, printer: &Printer) -> Result<Exit, Failure> {
    let ci = CiEnv::from_process();
    let Some(pipeline) = detect(&ci) else {
        return Err(Failure::usage(
            "`kubeship ci` runs inside GitLab CI or GitHub Actions (GITLAB_CI / GITHUB_ACTIONS); elsewhere use validate, diff or apply",
        ));
    };
    let settings = super::load_settings(cli, None)?;
    let envs: Vec<Environment> = match ci.get("KUBESHIP_ENV") {
        Some(name) => vec![settings.environment(&name)?.clone()],
        None => settings.environments.clone(),
    };
    if envs.is_empty() {
        return Err(Failure::usage(
            "no environments: add them to kubeship.yaml or create folders under clusters/",
        ));
    }
    let single = envs.len() == 1;
    printer.progress(&format!(
        "kubeship ci: {pipeline:?}, environments: {}",
        names(&envs)
    ));
    let mut exit = Exit::Success;
    let mut worst = |e: Exit| {
        if e > exit {
            exit = e;
        }
    };
    match &pipeline {
        Pipeline::ChangeRequest { target } => {
            worst(validate(&settings, &envs, single, printer)?);
            for env in &envs {
                worst(change_request_diff(
                    &settings,
                    env,
                    target.as_deref(),
                    printer,
                ));
            }
        }
        Pipeline::DefaultBranch { branch } => {
            let code = validate(&settings, &envs, single, printer)?;
            worst(code);
            if code != Exit::Success {
                printer.error("validation failed: nothing is applied");
                return Ok(exit);
            }
            for env in envs
                .iter()
                .filter(|e| e.branch.as_ref().is_none_or(|b| b == branch))
            {
                worst(apply(&settings, env, printer));
            }
        }
        Pipeline::Schedule => {
            worst(image_updates(&settings, &ci, printer));
            for env in &envs {
                worst(if args.reconcile {
                    apply(&settings, env, printer)
                } else {
                    drift(&settings, env, &ci, printer)
                });
            }
        }
        Pipeline::OtherBranch { .. } => worst(validate(&settings, &envs, single, printer)?),
    }
    Ok(exit)
}

fn names(envs: &[Environment]) -> String {
    envs.iter()
        .map(|e| e.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Report files for an environment: plain names in a one-environment job (what the CI
/// templates collect), suffixed by environment otherwise.
fn report_file(base: &str, ext: &str, env: Option<&str>) -> String {
    match env {
        Some(e) => format!("{base}-{e}.{ext}"),
        None => format!("{base}.{ext}"),
    }
}

fn validate(
    settings: &Settings,
    envs: &[Environment],
    single: bool,
    printer: &Printer,
) -> Result<Exit, Failure> {
    let report = super::validate::validate_environments(settings, envs, printer)?;
    let suffix = (!single).then_some("all");
    super::write_output(
        std::path::Path::new(&report_file("kubeship-junit", "xml", suffix)),
        &report::findings::junit(&report),
    )?;
    super::write_output(
        std::path::Path::new(&report_file("kubeship-codequality", "json", suffix)),
        &report::findings::codequality(&report),
    )?;
    printer.out(&report::findings::text(
        &report,
        report::findings::TextStyle {
            color: printer.color_stdout(),
        },
    ));
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        printer.out(&report::findings::github(&report));
    }
    Ok(if report.errors() > 0 {
        Exit::Findings
    } else {
        Exit::Success
    })
}

/// Whether the environment's cluster can be reached from here (a context resolves).
fn cluster_available(env: &Environment) -> bool {
    resolve(&connect_options(env, 1)).is_ok()
}

fn change_request_diff(
    settings: &Settings,
    env: &Environment,
    target: Option<&str>,
    printer: &Printer,
) -> Exit {
    let result = (|| -> Result<crate::plan::Plan, Failure> {
        let set = render_env(settings, env)?;
        if cluster_available(env) {
            let rt = super::runtime()?;
            rt.block_on(plan_against_cluster(env, &set, 16, true))
        } else {
            let Some(target) = target else {
                return Err(Failure::usage(format!(
                    "environment `{}`: no cluster context and no target branch to diff against",
                    env.name
                )));
            };
            printer.progress(&format!(
                "environment `{}`: no cluster context here; diffing against `{target}`",
                env.name
            ));
            // Prefer the remote branch: CI checkouts rarely have the local one.
            let remote = format!("origin/{target}");
            let rev = if crate::git::has_revision(&settings.repo_root, &remote).unwrap_or(false) {
                remote
            } else {
                target.to_string()
            };
            plan_against_revision(settings, env, &set, &rev)
        }
    })();
    match result {
        Ok(plan) => {
            let md = report::plan::markdown(&plan, super::diff::DEFAULT_MARKDOWN_BYTES);
            if let Err(f) = super::write_output(
                std::path::Path::new(&format!("kubeship-diff-{}.md", env.name)),
                &md,
            ) {
                printer.warn(&f.to_string());
            }
            printer.out(&report::plan::text(&plan, printer.color_stdout()));
            if let Err(f) = super::ci_face::post_diff(settings, env, &plan, printer) {
                printer.warn(&f.to_string());
            }
            if plan.summary().blocked > 0 {
                Exit::Findings
            } else {
                Exit::Success
            }
        }
        Err(f) => {
            printer.error(&format!("diff `{}`: {f}", env.name));
            f.exit
        }
    }
}

fn apply_request(env: &Environment) -> ApplyRequest {
    ApplyRequest {
        yes: true,
        dry_run: false,
        prune: env.prune,
        prune_kinds: Vec::new(),
        allow_empty: false,
        force_conflicts: true,
        timeout: env.timeout,
        lock_timeout: Duration::from_secs(300),
        force_branch: false,
        concurrency: 16,
    }
}

fn apply(settings: &Settings, env: &Environment, printer: &Printer) -> Exit {
    match apply_env(settings, env, &apply_request(env), printer) {
        Ok(applied) => {
            printer.out(&report::apply::text(&env.name, &applied.result, false));
            super::ci_face::after_apply(settings, env, &applied.endpoint, &applied.result, printer);
            if applied.result.failed() || !applied.result.healthy() {
                Exit::Findings
            } else {
                Exit::Success
            }
        }
        Err(f) => {
            printer.error(&format!("apply `{}`: {f}", env.name));
            f.exit
        }
    }
}

/// Drift: what apply would change now, with a notification when anything would.
fn drift(settings: &Settings, env: &Environment, ci: &CiEnv, printer: &Printer) -> Exit {
    let result = (|| -> Result<crate::plan::Plan, Failure> {
        let set = render_env(settings, env)?;
        let rt = super::runtime()?;
        rt.block_on(plan_against_cluster(env, &set, 16, true))
    })();
    match result {
        Ok(plan) => {
            printer.out(&report::plan::text(&plan, printer.color_stdout()));
            if !plan.has_changes() {
                printer.progress(&format!("environment `{}`: no drift", env.name));
                return Exit::Success;
            }
            let mut event = Event::new(EventKind::Drift, env.name.clone(), ci);
            event.changes = plan
                .changes
                .iter()
                .filter(|c| c.action.is_change())
                .map(|c| notify::Change::new(c.id.to_string(), c.action.name()))
                .collect();
            super::ci_face::send_event(settings, env, &event, ci, printer);
            printer.warn(&format!(
                "environment `{}` drifted from Git: {} (run with --reconcile, or apply, to restore it)",
                env.name,
                report::plan::plan_line(&plan)
            ));
            Exit::Findings
        }
        Err(f) => {
            printer.error(&format!("drift check `{}`: {f}", env.name));
            f.exit
        }
    }
}

/// Scheduled image automation: plan, commit, push the branch, open or update the merge request.
fn image_updates(settings: &Settings, ci: &CiEnv, printer: &Printer) -> Exit {
    let run = || -> Result<Exit, Failure> {
        let client =
            RegistryClient::from_env(RegistryOptions::default()).map_err(Failure::usage)?;
        let rt = super::runtime()?;
        let plan = rt.block_on(images::plan(settings, None, &client))?;
        for note in images::report::notes(&plan) {
            match note {
                images::report::Note::Progress(m) => printer.progress(&m),
                images::report::Note::Warning(m) => printer.warn(&m),
                images::report::Note::Error(m) => printer.error(&m),
            }
        }
        if plan.files.is_empty() {
            return Ok(plan.exit());
        }
        let message = images::git::commit_message(settings.images.commit_message.as_deref(), &plan)
            .map_err(Failure::usage)?;
        let author = images::git::author(&settings.images, &plan.repo_root);
        images::git::commit(&plan, &message, &author).map_err(images::ImagesError::from)?;
        let branch = images::git::branch_name(&settings.images);
        let auth = images::git::PushAuth::from_env();
        let pushed = images::git::push_branch(&plan.repo_root, &branch, auth.as_ref())
            .map_err(images::ImagesError::from)?;
        printer.progress(&format!("image updates pushed to `{branch}` ({pushed:?})"));
        let target = super::apply::ci_branches(ci)
            .and_then(|(_, default)| default)
            .or_else(|| crate::git::current_branch(&plan.repo_root))
            .unwrap_or_else(|| "main".to_string());
        let (title, body) = images::report::merge_request(&plan);
        let http = notify::Http::new().map_err(|e| Failure::incomplete(anyhow::anyhow!("{e}")))?;
        match rt.block_on(notify::open_or_update_change_request(
            &http, ci, &branch, &target, &title, &body,
        )) {
            Ok(cr) => printer.progress(&format!("image update request: {}", cr.url)),
            Err(e) => printer.warn(&format!("could not open the image update request: {e}")),
        }
        Ok(plan.exit())
    };
    match run() {
        Ok(e) => e,
        Err(f) => {
            printer.error(&format!("image updates: {f}"));
            f.exit
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> CiEnv {
        CiEnv::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn pipelines_are_detected_from_ci_variables() {
        assert_eq!(detect(&env(&[])), None);
        let gl = |extra: &[(&str, &str)]| {
            let mut v = vec![("GITLAB_CI", "true")];
            v.extend_from_slice(extra);
            detect(&env(&v))
        };
        assert_eq!(
            gl(&[("CI_PIPELINE_SOURCE", "schedule")]),
            Some(Pipeline::Schedule)
        );
        assert_eq!(
            gl(&[
                ("CI_PIPELINE_SOURCE", "merge_request_event"),
                ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main")
            ]),
            Some(Pipeline::ChangeRequest {
                target: Some("main".into())
            })
        );
        assert_eq!(
            gl(&[
                ("CI_PIPELINE_SOURCE", "push"),
                ("CI_COMMIT_BRANCH", "main"),
                ("CI_DEFAULT_BRANCH", "main")
            ]),
            Some(Pipeline::DefaultBranch {
                branch: "main".into()
            })
        );
        assert_eq!(
            gl(&[
                ("CI_PIPELINE_SOURCE", "push"),
                ("CI_COMMIT_BRANCH", "feat"),
                ("CI_DEFAULT_BRANCH", "main")
            ]),
            Some(Pipeline::OtherBranch {
                branch: Some("feat".into())
            })
        );
        let gh = detect(&env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_BASE_REF", "main"),
        ]));
        assert_eq!(
            gh,
            Some(Pipeline::ChangeRequest {
                target: Some("main".into())
            })
        );
    }
}
