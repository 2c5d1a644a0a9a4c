//! Sticky merge-request / pull-request comments: one per environment, updated in place.
//!
//! Owns: finding where to comment from CI variables ([`CommentTarget::from_env`]), the hidden
//! marker `<!-- kubeship:diff env=NAME -->` that identifies an environment's comment among
//! the token user's own comments, create-once-then-update (an unchanged body sends nothing),
//! the size budgets of each forge, and the plain reasons for not commenting ([`Skip`]).
//! Must not: render the diff (the caller sends Markdown within [`CommentTarget::budget`]),
//! decide whether to comment, or print.

use std::fmt;

use super::NotifyError;
use super::env::{CiEnv, Platform};
use super::github::{self, GitHub, Unit};
use super::gitlab::GitLab;
use super::http::Http;

/// Longest GitHub comment body, in characters.
pub const GITHUB_COMMENT_BUDGET: usize = 65_536;
/// Longest GitLab note body, in characters.
pub const GITLAB_COMMENT_BUDGET: usize = 1_000_000;

const CUT_NOTE: &str = "\n> kubeship cut this comment to fit the size limit of a comment; the full diff is in the job log.\n";

/// The hidden marker that identifies the comment of `env`.
pub fn marker(env: &str) -> String {
    let safe: String = env
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/') || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // `--` may not appear inside an HTML comment.
    let safe = safe.replace("--", "-_");
    format!("<!-- kubeship:diff env={safe} -->")
}

/// Why no comment was posted. Its `Display` is the warning to show; none of these is a
/// failure of the diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// Neither `GITLAB_CI` nor `GITHUB_ACTIONS` is set.
    NotInCi,
    /// A GitLab pipeline that is not for a merge request.
    NotAMergeRequest,
    /// A GitHub run whose event is not about a pull request.
    NotAPullRequest,
    /// Variables the CI normally sets are missing.
    MissingVariables {
        platform: Platform,
        names: Vec<&'static str>,
    },
    /// A variable has a value that cannot be used.
    Invalid { platform: Platform, message: String },
    /// No token at all.
    NoToken { platform: Platform },
    /// GitLab: only `CI_JOB_TOKEN`, which cannot create notes.
    JobTokenOnly,
    /// The forge refused to write (403): a read-only token, such as GitHub's on a fork's pull
    /// request, or missing permissions.
    ReadOnly {
        platform: Platform,
        fork: bool,
        detail: String,
    },
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::NotInCi => write!(
                f,
                "not posting a comment: this is not a GitLab CI or GitHub Actions job (GITLAB_CI / GITHUB_ACTIONS are not set)"
            ),
            Skip::NotAMergeRequest => write!(
                f,
                "not posting a comment: this pipeline is not for a merge request (CI_MERGE_REQUEST_IID is not set); run `diff --comment` in merge request pipelines (rules: if: $CI_PIPELINE_SOURCE == \"merge_request_event\")"
            ),
            Skip::NotAPullRequest => write!(
                f,
                "not posting a comment: this workflow run is not for a pull request (no pull_request in the event at GITHUB_EVENT_PATH); run `diff --comment` on `pull_request` events"
            ),
            Skip::MissingVariables { platform, names } => write!(
                f,
                "not posting a comment: {platform} variables {} are not set; run kubeship inside a {platform} CI job",
                names.join(", ")
            ),
            Skip::Invalid { platform, message } => {
                write!(f, "not posting a comment on {platform}: {message}")
            }
            Skip::NoToken {
                platform: Platform::GitLab,
            } => write!(
                f,
                "not posting a merge request comment: no token; set KUBESHIP_GITLAB_TOKEN (or GITLAB_TOKEN) to a project access token with the `api` scope and the Reporter role, as a masked CI/CD variable"
            ),
            Skip::NoToken {
                platform: Platform::GitHub,
            } => write!(
                f,
                "not posting a pull request comment: no token; pass `github_token` to the action (default: the workflow's GITHUB_TOKEN) or set GITHUB_TOKEN, with `permissions: pull-requests: write`"
            ),
            Skip::JobTokenOnly => write!(
                f,
                "not posting a merge request comment: CI_JOB_TOKEN cannot create merge request notes; set KUBESHIP_GITLAB_TOKEN (or GITLAB_TOKEN) to a project access token with the `api` scope and the Reporter role, as a masked CI/CD variable"
            ),
            Skip::ReadOnly {
                platform: Platform::GitHub,
                fork: true,
                detail,
            } => write!(
                f,
                "not posting a pull request comment: this pull request comes from a fork, and GitHub gives workflows on fork pull requests a read-only token ({detail}); the diff is in the job log and the job summary"
            ),
            Skip::ReadOnly {
                platform: Platform::GitHub,
                fork: false,
                detail,
            } => write!(
                f,
                "not posting a pull request comment: GitHub refused to write it ({detail}); give the job `permissions: pull-requests: write`"
            ),
            Skip::ReadOnly {
                platform: Platform::GitLab,
                detail,
                ..
            } => write!(
                f,
                "not posting a merge request comment: GitLab refused to write it ({detail}); the token needs the `api` scope and at least the Reporter role"
            ),
        }
    }
}

/// What [`post_sticky`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommentOutcome {
    Created {
        url: Option<String>,
    },
    Updated {
        url: Option<String>,
    },
    /// The comment already says exactly this; nothing was sent.
    Unchanged {
        url: Option<String>,
    },
    Skipped(Skip),
}

impl fmt::Display for CommentOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (verb, url) = match self {
            CommentOutcome::Created { url } => ("posted the diff comment", url),
            CommentOutcome::Updated { url } => ("updated the diff comment", url),
            CommentOutcome::Unchanged { url } => ("the diff comment is up to date", url),
            CommentOutcome::Skipped(s) => return write!(f, "{s}"),
        };
        match url {
            Some(u) => write!(f, "{verb}: {u}"),
            None => f.write_str(verb),
        }
    }
}

#[derive(Clone, Debug)]
enum Target {
    GitLab {
        api: GitLab,
        iid: u64,
        head_sha: Option<String>,
        web_url: Option<String>,
    },
    GitHub {
        api: GitHub,
        pull: github::PullRef,
    },
    Unavailable(Skip),
}

/// Where this job's diff comment goes: a GitLab merge request, a GitHub pull request, or
/// nowhere (with the reason).
#[derive(Clone, Debug)]
pub struct CommentTarget {
    target: Target,
}

impl CommentTarget {
    /// Detects the forge and the merge/pull request from CI variables. Reads and registers
    /// the token; sends nothing.
    pub fn from_env(ci: &CiEnv) -> CommentTarget {
        let target = match ci.platform() {
            None => Target::Unavailable(Skip::NotInCi),
            Some(Platform::GitLab) => gitlab_target(ci),
            Some(Platform::GitHub) => github_target(ci),
        };
        CommentTarget { target }
    }

    pub fn platform(&self) -> Option<Platform> {
        match &self.target {
            Target::GitLab { .. } => Some(Platform::GitLab),
            Target::GitHub { .. } => Some(Platform::GitHub),
            Target::Unavailable(_) => None,
        }
    }

    /// Why nothing will be posted, when nothing will.
    pub fn skip(&self) -> Option<&Skip> {
        match &self.target {
            Target::Unavailable(s) => Some(s),
            _ => None,
        }
    }

    /// The merge request IID or pull request number.
    pub fn number(&self) -> Option<u64> {
        match &self.target {
            Target::GitLab { iid, .. } => Some(*iid),
            Target::GitHub { pull, .. } => Some(pull.number),
            Target::Unavailable(_) => None,
        }
    }

    /// The commit the diff is for (the merge/pull request's head).
    pub fn head_sha(&self) -> Option<&str> {
        match &self.target {
            Target::GitLab { head_sha, .. } => head_sha.as_deref(),
            Target::GitHub { pull, .. } => pull.head_sha.as_deref(),
            Target::Unavailable(_) => None,
        }
    }

    /// Characters the caller's Markdown may use for `env` (the forge's limit less the
    /// marker line). When no comment will be posted: GitHub's, the smaller.
    pub fn budget(&self, env: &str) -> usize {
        let limit = match &self.target {
            Target::GitLab { .. } => GITLAB_COMMENT_BUDGET,
            _ => GITHUB_COMMENT_BUDGET,
        };
        limit - marker(env).chars().count() - 1
    }

    fn limit(&self) -> usize {
        match &self.target {
            Target::GitLab { .. } => GITLAB_COMMENT_BUDGET,
            _ => GITHUB_COMMENT_BUDGET,
        }
    }
}

fn gitlab_target(ci: &CiEnv) -> Target {
    let Some(iid) = ci.get("CI_MERGE_REQUEST_IID") else {
        return Target::Unavailable(Skip::NotAMergeRequest);
    };
    let Ok(iid) = iid.trim().parse::<u64>() else {
        return Target::Unavailable(Skip::Invalid {
            platform: Platform::GitLab,
            message: format!("CI_MERGE_REQUEST_IID `{iid}` is not a number"),
        });
    };
    match GitLab::from_env(ci, &["CI_MERGE_REQUEST_PROJECT_ID", "CI_PROJECT_ID"]) {
        Err(skip) => Target::Unavailable(skip),
        Ok(api) => Target::GitLab {
            api,
            iid,
            head_sha: ci.get("CI_COMMIT_SHA"),
            web_url: ci
                .get("CI_MERGE_REQUEST_PROJECT_URL")
                .or_else(|| ci.get("CI_PROJECT_URL"))
                .map(|u| format!("{}/-/merge_requests/{iid}", u.trim_end_matches('/'))),
        },
    }
}

fn github_target(ci: &CiEnv) -> Target {
    let Some(pull) = ci.github_event().as_ref().and_then(github::pull_from_event) else {
        return Target::Unavailable(Skip::NotAPullRequest);
    };
    match GitHub::from_env(ci) {
        Err(skip) => Target::Unavailable(skip),
        Ok(api) => Target::GitHub { api, pull },
    }
}

/// Cuts Markdown to `max` units at a line, closes an open code fence and appends `note`.
/// Returns the text and whether it was cut; an empty text when even the note does not fit.
pub(crate) fn fit_markdown(text: &str, max: usize, note: &str, unit: Unit) -> (String, bool) {
    let len = |s: &str| match unit {
        Unit::Bytes => s.len(),
        Unit::Chars => s.chars().count(),
    };
    if len(text) <= max {
        return (text.to_string(), false);
    }
    let fence = "```\n";
    let reserve = len(note) + len(fence) + 1;
    if max <= reserve {
        return (String::new(), true);
    }
    let room = max - reserve;
    let head = match unit {
        Unit::Bytes => super::truncate_bytes(text, room),
        Unit::Chars => super::truncate_chars(text, room),
    };
    let head = match head.rfind('\n') {
        Some(i) if i >= head.len() / 2 => &head[..=i],
        _ => head,
    };
    let mut out = head.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    let fences = out
        .lines()
        .filter(|l| l.trim_start().starts_with("```"))
        .count();
    if fences % 2 == 1 {
        out.push_str(fence);
    }
    out.push_str(note);
    (out, true)
}

fn same_body(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.replace("\r\n", "\n").trim_end().to_string();
    norm(a) == norm(b)
}

/// Posts `body` as the sticky comment of environment `env`: creates it the first time,
/// updates it in place afterwards, and sends nothing when it is unchanged. `body` longer
/// than [`CommentTarget::budget`] is cut with a note. A 403 (read-only token, fork pull
/// request) is `Skipped`, not an error.
pub async fn post_sticky(
    http: &Http,
    target: &CommentTarget,
    env: &str,
    body: &str,
) -> Result<CommentOutcome, NotifyError> {
    let marker = marker(env);
    let full = format!("{marker}\n{body}");
    let (full, _) = fit_markdown(&full, target.limit(), CUT_NOTE, Unit::Chars);
    let result = match &target.target {
        Target::Unavailable(skip) => return Ok(CommentOutcome::Skipped(skip.clone())),
        Target::GitLab {
            api, iid, web_url, ..
        } => post_gitlab(http, api, *iid, web_url.as_deref(), &marker, &full).await,
        Target::GitHub { api, pull } => post_github(http, api, pull.number, &marker, &full).await,
    };
    match result {
        Err(e) if e.status() == Some(403) => Ok(CommentOutcome::Skipped(Skip::ReadOnly {
            platform: target.platform().unwrap_or(Platform::GitHub),
            fork: matches!(&target.target, Target::GitHub { pull, .. } if pull.fork),
            detail: e.to_string(),
        })),
        other => other,
    }
}

async fn post_gitlab(
    http: &Http,
    api: &GitLab,
    iid: u64,
    web_url: Option<&str>,
    marker: &str,
    body: &str,
) -> Result<CommentOutcome, NotifyError> {
    let me = api.user_id(http).await?;
    let notes = api.notes(http, iid).await?;
    let url = |id: u64| web_url.map(|u| format!("{u}#note_{id}"));
    let mine = notes
        .iter()
        .find(|n| !n.system && n.author.id == me && n.body.contains(marker));
    match mine {
        Some(n) if same_body(&n.body, body) => Ok(CommentOutcome::Unchanged { url: url(n.id) }),
        Some(n) => {
            let n = api.update_note(http, iid, n.id, body).await?;
            Ok(CommentOutcome::Updated { url: url(n.id) })
        }
        None => {
            let n = api.create_note(http, iid, body).await?;
            Ok(CommentOutcome::Created { url: url(n.id) })
        }
    }
}

async fn post_github(
    http: &Http,
    api: &GitHub,
    number: u64,
    marker: &str,
    body: &str,
) -> Result<CommentOutcome, NotifyError> {
    let me = api.login(http).await?;
    let comments = api.comments(http, number).await?;
    let mine = comments
        .iter()
        .find(|c| c.user.as_ref().is_some_and(|u| u.login == me) && c.body.contains(marker));
    match mine {
        Some(c) if same_body(&c.body, body) => Ok(CommentOutcome::Unchanged {
            url: c.html_url.clone(),
        }),
        Some(c) => {
            let c = api.update_comment(http, c.id, body).await?;
            Ok(CommentOutcome::Updated { url: c.html_url })
        }
        None => {
            let c = api.create_comment(http, number, body).await?;
            Ok(CommentOutcome::Created { url: c.html_url })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_safe_html_comments() {
        assert_eq!(marker("dev"), "<!-- kubeship:diff env=dev -->");
        assert_eq!(marker("a--b c>"), "<!-- kubeship:diff env=a-_b_c_ -->");
    }

    #[test]
    fn fitting_cuts_at_a_line_and_closes_fences() {
        let text = format!("# Diff\n```diff\n{}```\n", "+ line\n".repeat(100));
        let (out, cut) = fit_markdown(&text, 200, "NOTE\n", Unit::Chars);
        assert!(cut);
        assert!(out.chars().count() <= 200, "{}", out.len());
        assert!(out.ends_with("+ line\n```\nNOTE\n"), "{out}");
        let (same, cut) = fit_markdown("short", 200, "NOTE", Unit::Chars);
        assert_eq!((same.as_str(), cut), ("short", false));
        let (none, cut) = fit_markdown(&text, 5, "NOTE\n", Unit::Bytes);
        assert_eq!((none.as_str(), cut), ("", true));
    }

    #[test]
    fn budget_leaves_room_for_the_marker() {
        let t = CommentTarget::from_env(&CiEnv::from_pairs::<&str, &str>([]));
        assert_eq!(t.skip(), Some(&Skip::NotInCi));
        assert_eq!(
            t.budget("dev"),
            GITHUB_COMMENT_BUDGET - marker("dev").len() - 1
        );
    }

    #[test]
    fn unchanged_ignores_line_endings() {
        assert!(same_body("a\r\nb\n", "a\nb"));
        assert!(!same_body("a\nb", "a\nc"));
    }

    #[test]
    fn skip_messages_name_the_variables() {
        let m = Skip::JobTokenOnly.to_string();
        assert!(
            m.contains("CI_JOB_TOKEN") && m.contains("KUBESHIP_GITLAB_TOKEN"),
            "{m}"
        );
        let m = Skip::ReadOnly {
            platform: Platform::GitHub,
            fork: true,
            detail: "HTTP 403".into(),
        }
        .to_string();
        assert!(m.contains("fork"), "{m}");
    }
}
