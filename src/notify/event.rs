//! The notification event: what happened to an environment, filled by `apply` and `ci`.
//!
//! Owns: [`Event`] and its parts, reading the commit and pipeline from CI variables
//! (GitLab `CI_COMMIT_*`/`CI_PIPELINE_URL`; GitHub `GITHUB_SHA` and the event JSON), and the
//! wording shared by every provider (title, one-line summary, durations).
//! Must not: send anything or decide whether to notify.

use std::time::Duration;

use serde::Serialize;

use super::env::{CiEnv, Platform};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// An apply finished (objects may still have failed: see [`Event::is_failure`]).
    Deployed,
    /// An apply could not complete, or objects failed or stayed unhealthy.
    Failed,
    /// A scheduled check found the cluster different from Git.
    Drift,
}

/// The commit an event is about.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CommitInfo {
    pub sha: String,
    pub author: Option<String>,
    pub message: Option<String>,
    /// Link to the commit in the forge's web UI.
    pub url: Option<String>,
}

impl CommitInfo {
    /// The commit of this pipeline, from CI variables (empty fields when unknown).
    pub fn from_env(ci: &CiEnv) -> CommitInfo {
        let gitlab = ci.platform() == Some(Platform::GitLab)
            || (ci.platform().is_none() && ci.get("CI_COMMIT_SHA").is_some());
        if gitlab {
            let sha = ci.get("CI_COMMIT_SHA").unwrap_or_default();
            return CommitInfo {
                url: ci
                    .get("CI_PROJECT_URL")
                    .filter(|_| !sha.is_empty())
                    .map(|u| format!("{}/-/commit/{sha}", u.trim_end_matches('/'))),
                author: ci.get("CI_COMMIT_AUTHOR").map(|a| strip_email(&a)),
                message: ci
                    .get("CI_COMMIT_MESSAGE")
                    .or_else(|| ci.get("CI_COMMIT_TITLE"))
                    .map(|m| m.trim().to_string()),
                sha,
            };
        }
        let event = ci.github_event();
        let at = |path: &[&str]| -> Option<String> {
            let mut v = event.as_ref()?;
            for p in path {
                v = v.get(*p)?;
            }
            v.as_str().map(str::to_string).filter(|s| !s.is_empty())
        };
        let (sha, author, message) = if event
            .as_ref()
            .is_some_and(|e| e.get("pull_request").is_some())
        {
            (
                at(&["pull_request", "head", "sha"]),
                at(&["pull_request", "user", "login"]),
                at(&["pull_request", "title"]),
            )
        } else {
            (
                at(&["head_commit", "id"]),
                at(&["head_commit", "author", "name"])
                    .or_else(|| at(&["head_commit", "author", "username"])),
                at(&["head_commit", "message"]),
            )
        };
        let sha = sha.or_else(|| ci.get("GITHUB_SHA")).unwrap_or_default();
        let url = match (ci.get("GITHUB_REPOSITORY"), sha.is_empty()) {
            (Some(repo), false) => Some(format!("{}/{repo}/commit/{sha}", server_url(ci))),
            _ => None,
        };
        CommitInfo {
            author: author.or_else(|| ci.get("GITHUB_ACTOR")),
            message: message.map(|m| m.trim().to_string()),
            url,
            sha,
        }
    }

    /// The first 8 characters of the SHA, as GitLab shows it.
    pub fn short_sha(&self) -> &str {
        super::truncate_chars(&self.sha, 8)
    }

    /// The first line of the message.
    pub fn title(&self) -> Option<&str> {
        self.message
            .as_deref()
            .and_then(|m| m.lines().next())
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }
}

fn strip_email(author: &str) -> String {
    match author.find(" <") {
        Some(i) if author.trim_end().ends_with('>') => author[..i].trim().to_string(),
        _ => author.trim().to_string(),
    }
}

fn server_url(ci: &CiEnv) -> String {
    ci.get("GITHUB_SERVER_URL")
        .unwrap_or_else(|| "https://github.com".to_string())
        .trim_end_matches('/')
        .to_string()
}

/// The link to this CI pipeline / workflow run.
pub(crate) fn pipeline_url(ci: &CiEnv) -> Option<String> {
    if let Some(u) = ci.get("CI_PIPELINE_URL") {
        return Some(u);
    }
    let repo = ci.get("GITHUB_REPOSITORY")?;
    let run = ci.get("GITHUB_RUN_ID")?;
    Some(format!("{}/{repo}/actions/runs/{run}", server_url(ci)))
}

/// Object counts of an apply (the `apply --format json` summary).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub created: usize,
    pub configured: usize,
    pub unchanged: usize,
    pub pruned: usize,
    pub failed: usize,
}

/// An object (`Kind/namespace/name`) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObjectNote {
    pub object: String,
    pub message: String,
}

impl ObjectNote {
    pub fn new(object: impl Into<String>, message: impl Into<String>) -> ObjectNote {
        ObjectNote {
            object: object.into(),
            message: message.into(),
        }
    }
}

/// For drift: an object and the action that would bring it back to Git
/// (`create`, `update`, `delete`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub object: String,
    pub action: String,
}

impl Change {
    pub fn new(object: impl Into<String>, action: impl Into<String>) -> Change {
        Change {
            object: object.into(),
            action: action.into(),
        }
    }
}

/// What a notification says. Build with [`Event::new`] (which reads the commit and pipeline
/// from CI variables), then fill the fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub environment: String,
    /// The kubeconfig context or API server, as the caller wants it shown.
    pub cluster: Option<String>,
    pub commit: CommitInfo,
    pub pipeline_url: Option<String>,
    pub counts: Counts,
    pub failed: Vec<ObjectNote>,
    pub unhealthy: Vec<ObjectNote>,
    /// Drift: what differs from Git.
    pub changes: Vec<Change>,
    pub duration: Option<Duration>,
}

impl Event {
    pub fn new(kind: EventKind, environment: impl Into<String>, ci: &CiEnv) -> Event {
        Event {
            kind,
            environment: environment.into(),
            cluster: None,
            commit: CommitInfo::from_env(ci),
            pipeline_url: pipeline_url(ci),
            counts: Counts::default(),
            failed: Vec::new(),
            unhealthy: Vec::new(),
            changes: Vec::new(),
            duration: None,
        }
    }

    /// A failure: the apply failed, or objects failed or stayed unhealthy. Only failures reach
    /// providers with `severity: error`.
    pub fn is_failure(&self) -> bool {
        self.kind == EventKind::Failed
            || self.counts.failed > 0
            || !self.failed.is_empty()
            || !self.unhealthy.is_empty()
    }

    /// `info` or `error`.
    pub fn severity(&self) -> &'static str {
        if self.is_failure() { "error" } else { "info" }
    }

    /// e.g. `dev deployed`, `dev: apply failed`, `dev: drift (3 objects)`.
    pub fn title(&self) -> String {
        let env = &self.environment;
        match self.kind {
            EventKind::Drift => {
                let n = self.changes.len();
                format!(
                    "{env}: drift from Git ({n} object{})",
                    if n == 1 { "" } else { "s" }
                )
            }
            _ if self.is_failure() => {
                if self.kind == EventKind::Deployed && self.failed.is_empty() {
                    format!("{env}: deployed, but objects are unhealthy")
                } else {
                    format!("{env}: apply failed")
                }
            }
            _ => format!("{env} deployed"),
        }
    }

    /// An emoji for the title.
    pub(crate) fn icon(&self) -> &'static str {
        match self.kind {
            _ if self.is_failure() => "❌",
            EventKind::Drift => "⚠️",
            _ => "✅",
        }
    }

    /// `created 1, configured 2, unchanged 3, pruned 0, failed 0`.
    pub fn counts_line(&self) -> String {
        let c = &self.counts;
        format!(
            "created {}, configured {}, unchanged {}, pruned {}, failed {}",
            c.created, c.configured, c.unchanged, c.pruned, c.failed
        )
    }

    /// One line for plain-text fallbacks.
    pub fn summary_line(&self) -> String {
        let mut s = format!("{} kubeship: {}", self.icon(), self.title());
        if !self.commit.sha.is_empty() {
            s.push_str(&format!(" at {}", self.commit.short_sha()));
        }
        if self.kind != EventKind::Drift {
            s.push_str(&format!(" ({})", self.counts_line()));
        }
        s
    }
}

/// `45s`, `1m 23s`, `2h 5m`, `850ms`.
pub(crate) fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s}s"),
        _ => format!("{h}h {m}m"),
    }
}

/// A fully filled event for payload tests.
#[cfg(test)]
pub(crate) fn sample(kind: EventKind) -> Event {
    Event {
        kind,
        environment: "prod".into(),
        cluster: Some("eks-prod".into()),
        commit: CommitInfo {
            sha: "0123456789abcdef0123456789abcdef01234567".into(),
            author: Some("Ada <Lovelace>".into()),
            message: Some("Bump api to 1.2.3 & fix <probe>\n\nDetails".into()),
            url: Some(
                "https://gitlab.example/acme/gitops/-/commit/0123456789abcdef0123456789abcdef01234567"
                    .into(),
            ),
        },
        pipeline_url: Some("https://gitlab.example/acme/gitops/-/pipelines/42".into()),
        counts: Counts {
            created: 2,
            configured: 3,
            unchanged: 40,
            pruned: 1,
            failed: 1,
        },
        failed: vec![ObjectNote::new(
            "Deployment/web/api",
            "admission webhook \"policy\" denied the request:\n image tag latest",
        )],
        unhealthy: vec![ObjectNote::new("StatefulSet/db/pg", "1/3 replicas ready")],
        changes: vec![],
        duration: Some(Duration::from_secs(83)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_commit_and_pipeline() {
        let ci = CiEnv::from_pairs([
            ("GITLAB_CI", "true"),
            ("CI_COMMIT_SHA", "0123456789abcdef0123456789abcdef01234567"),
            ("CI_COMMIT_AUTHOR", "Ada Lovelace <ada@example.com>"),
            ("CI_COMMIT_MESSAGE", "Bump api to 1.2.3\n\nLonger text\n"),
            ("CI_PROJECT_URL", "https://gitlab.example/platform/gitops"),
            (
                "CI_PIPELINE_URL",
                "https://gitlab.example/platform/gitops/-/pipelines/9",
            ),
        ]);
        let e = Event::new(EventKind::Deployed, "dev", &ci);
        assert_eq!(e.commit.short_sha(), "01234567");
        assert_eq!(e.commit.author.as_deref(), Some("Ada Lovelace"));
        assert_eq!(e.commit.title(), Some("Bump api to 1.2.3"));
        assert_eq!(
            e.commit.url.as_deref(),
            Some(
                "https://gitlab.example/platform/gitops/-/commit/0123456789abcdef0123456789abcdef01234567"
            )
        );
        assert_eq!(
            e.pipeline_url.as_deref(),
            Some("https://gitlab.example/platform/gitops/-/pipelines/9")
        );
        assert_eq!(
            e.summary_line(),
            "✅ kubeship: dev deployed at 01234567 (created 0, configured 0, unchanged 0, pruned 0, failed 0)"
        );
    }

    #[test]
    fn github_commit_from_push_and_pull_request_events() {
        let dir = tempfile::tempdir().unwrap();
        let push = dir.path().join("push.json");
        std::fs::write(
            &push,
            r#"{"head_commit":{"id":"abc123","message":"Fix prod\n\nbody","author":{"name":"Grace","username":"grace"}}}"#,
        )
        .unwrap();
        let ci = CiEnv::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", "fff"),
            ("GITHUB_REPOSITORY", "acme/gitops"),
            ("GITHUB_RUN_ID", "77"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_EVENT_PATH", push.to_str().unwrap()),
        ]);
        let c = CommitInfo::from_env(&ci);
        assert_eq!(c.sha, "abc123");
        assert_eq!(c.author.as_deref(), Some("Grace"));
        assert_eq!(c.title(), Some("Fix prod"));
        assert_eq!(
            c.url.as_deref(),
            Some("https://github.com/acme/gitops/commit/abc123")
        );
        assert_eq!(
            pipeline_url(&ci).as_deref(),
            Some("https://github.com/acme/gitops/actions/runs/77")
        );

        let pr = dir.path().join("pr.json");
        std::fs::write(
            &pr,
            r#"{"pull_request":{"number":5,"title":"Add staging","head":{"sha":"beef"},"user":{"login":"octocat"}}}"#,
        )
        .unwrap();
        let ci = CiEnv::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", "merge"),
            ("GITHUB_EVENT_PATH", pr.to_str().unwrap()),
        ]);
        let c = CommitInfo::from_env(&ci);
        assert_eq!(
            (c.sha.as_str(), c.author.as_deref(), c.title()),
            ("beef", Some("octocat"), Some("Add staging"))
        );

        // A schedule: no commit in the event.
        let ci = CiEnv::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", "cafe"),
            ("GITHUB_ACTOR", "bot"),
        ]);
        let c = CommitInfo::from_env(&ci);
        assert_eq!((c.sha.as_str(), c.author.as_deref()), ("cafe", Some("bot")));
    }

    #[test]
    fn failure_and_titles() {
        let ci = CiEnv::from_pairs::<&str, &str>([]);
        let mut e = Event::new(EventKind::Deployed, "prod", &ci);
        assert!(!e.is_failure());
        e.unhealthy
            .push(ObjectNote::new("Deployment/web/api", "0/3 ready"));
        assert!(e.is_failure());
        assert_eq!(e.title(), "prod: deployed, but objects are unhealthy");
        let mut d = Event::new(EventKind::Drift, "prod", &ci);
        d.changes.push(Change::new("ConfigMap/web/cfg", "update"));
        assert!(!d.is_failure());
        assert_eq!(d.title(), "prod: drift from Git (1 object)");
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(human_duration(Duration::from_secs(45)), "45s");
        assert_eq!(human_duration(Duration::from_secs(83)), "1m 23s");
        assert_eq!(human_duration(Duration::from_secs(7500)), "2h 5m");
    }
}
