//! Opening or refreshing a change request (GitLab merge request, GitHub pull request) for a
//! branch, as image automation does from a scheduled pipeline.
//!
//! Owns: find the open change request from the source branch into the target branch and
//! update its title and description (nothing is sent when they are unchanged), else create
//! one; return its URL.
//! Must not: push branches or commit (the caller does, with git), or decide when to call.

use std::fmt;

use super::NotifyError;
use super::comment::Skip;
use super::env::{CiEnv, Platform};
use super::github::GitHub;
use super::gitlab::GitLab;
use super::http::Http;

/// What happened to the change request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeRequestOutcome {
    Created,
    Updated,
    Unchanged,
}

/// A merge request (GitLab) or pull request (GitHub).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRequest {
    pub platform: Platform,
    /// The merge request IID or pull request number.
    pub number: u64,
    pub url: String,
    pub outcome: ChangeRequestOutcome,
}

impl fmt::Display for ChangeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, sign) = match self.platform {
            Platform::GitLab => ("merge request", "!"),
            Platform::GitHub => ("pull request", "#"),
        };
        let verb = match self.outcome {
            ChangeRequestOutcome::Created => "opened",
            ChangeRequestOutcome::Updated => "updated",
            ChangeRequestOutcome::Unchanged => "up to date:",
        };
        write!(f, "{verb} {kind} {sign}{}: {}", self.number, self.url)
    }
}

/// Finds the open change request from `source_branch` into `target_branch` and updates its
/// title and description, or opens one. GitLab needs `KUBESHIP_GITLAB_TOKEN`/`GITLAB_TOKEN`
/// (`CI_JOB_TOKEN` cannot open merge requests); GitHub uses `github_token`/`GITHUB_TOKEN`.
pub async fn open_or_update_change_request(
    http: &Http,
    ci: &CiEnv,
    source_branch: &str,
    target_branch: &str,
    title: &str,
    description: &str,
) -> Result<ChangeRequest, NotifyError> {
    match ci.platform() {
        Some(Platform::GitLab) => {
            let api = GitLab::from_env(ci, &["CI_PROJECT_ID"]).map_err(cannot_open)?;
            let same = |t: &str, d: Option<&str>| {
                t == title && d.unwrap_or("").trim_end() == description.trim_end()
            };
            let (mr, outcome) = match api.find_open_mr(http, source_branch, target_branch).await? {
                Some(mr) if same(&mr.title, mr.description.as_deref()) => {
                    (mr, ChangeRequestOutcome::Unchanged)
                }
                Some(mr) => (
                    api.update_mr(http, mr.iid, title, description).await?,
                    ChangeRequestOutcome::Updated,
                ),
                None => (
                    api.create_mr(http, source_branch, target_branch, title, description)
                        .await?,
                    ChangeRequestOutcome::Created,
                ),
            };
            Ok(ChangeRequest {
                platform: Platform::GitLab,
                number: mr.iid,
                url: mr.web_url,
                outcome,
            })
        }
        Some(Platform::GitHub) => {
            let api = GitHub::from_env(ci).map_err(cannot_open)?;
            let same = |t: &str, d: Option<&str>| {
                t == title && d.unwrap_or("").trim_end() == description.trim_end()
            };
            let (pr, outcome) = match api
                .find_open_pull(http, source_branch, target_branch)
                .await?
            {
                Some(pr) if same(&pr.title, pr.body.as_deref()) => {
                    (pr, ChangeRequestOutcome::Unchanged)
                }
                Some(pr) => (
                    api.update_pull(http, pr.number, title, description).await?,
                    ChangeRequestOutcome::Updated,
                ),
                None => (
                    api.create_pull(http, source_branch, target_branch, title, description)
                        .await?,
                    ChangeRequestOutcome::Created,
                ),
            };
            Ok(ChangeRequest {
                platform: Platform::GitHub,
                number: pr.number,
                url: pr.html_url,
                outcome,
            })
        }
        None => Err(NotifyError::new(
            "cannot open a change request: this is not a GitLab CI or GitHub Actions job (GITLAB_CI / GITHUB_ACTIONS are not set)",
        )),
    }
}

/// Why a change request cannot be opened, with the variables to set.
fn cannot_open(skip: Skip) -> NotifyError {
    let msg = match skip {
        Skip::JobTokenOnly => "cannot open a merge request: CI_JOB_TOKEN cannot open merge requests; set KUBESHIP_GITLAB_TOKEN (or GITLAB_TOKEN) to a project access token with the `api` scope and the Developer role, as a masked CI/CD variable".to_string(),
        Skip::NoToken {
            platform: Platform::GitLab,
        } => "cannot open a merge request: no token; set KUBESHIP_GITLAB_TOKEN (or GITLAB_TOKEN) to a project access token with the `api` scope and the Developer role, as a masked CI/CD variable".to_string(),
        Skip::NoToken {
            platform: Platform::GitHub,
        } => "cannot open a pull request: no token; pass `github_token` to the action or set GITHUB_TOKEN, with `permissions: contents: write, pull-requests: write`".to_string(),
        Skip::MissingVariables { platform, names } => format!(
            "cannot open a change request: {platform} variables {} are not set; run kubeship inside a {platform} CI job",
            names.join(", ")
        ),
        Skip::Invalid { platform, message } => {
            format!("cannot open a change request on {platform}: {message}")
        }
        other => format!("cannot open a change request: {other}"),
    };
    NotifyError::new(msg)
}
