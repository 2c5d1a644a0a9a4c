//! Committing an image update and pushing it to a branch, with the `git` CLI.
//!
//! Owns: the commit message (a template with `{{updates}}`, `{{count}}`, `{{env}}`,
//! `{{policies}}` and `{{images}}`), the commit author (kubeship.yaml `images.authorName` /
//! `authorEmail`, else git's `user.name` / `user.email`, else the CI's user, else `kubeship`),
//! refusing to commit over unrelated staged or uncommitted changes, the commit itself (only the
//! updated files), and pushing `HEAD` to a branch, skipping the push when the branch already
//! holds the same tree.
//! Must not: print, or push anywhere but the given branch. Tokens go to git through
//! environment variables (never arguments) and are registered with [`crate::redact`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;

use crate::exit::Exit;
use crate::settings::ImagesConfig;

use super::markers::Setter;
use super::update::UpdatePlan;

pub const DEFAULT_MESSAGE: &str = "Update container images\n\n{{updates}}\n";
pub const DEFAULT_BRANCH: &str = "kubeship/image-updates";
const PLACEHOLDERS: [&str; 5] = ["updates", "count", "env", "policies", "images"];

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// git cannot run, or this is not a git work tree (exit 2).
    #[error("{0}")]
    Unavailable(String),
    /// The work tree is not in a state to commit only the update (exit 1).
    #[error("{0}")]
    Refused(String),
    /// A git command failed (exit 3: it could not complete).
    #[error("{0}")]
    Failed(String),
}

impl GitError {
    pub fn exit(&self) -> Exit {
        match self {
            GitError::Unavailable(_) => Exit::Usage,
            GitError::Refused(_) => Exit::Findings,
            GitError::Failed(_) => Exit::Incomplete,
        }
    }
}

/// The branch the scheduled pipeline pushes to: `images.branch`, else [`DEFAULT_BRANCH`].
pub fn branch_name(config: &ImagesConfig) -> String {
    config
        .branch
        .clone()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_BRANCH.to_string())
}

/// Who the commit is from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Author {
    pub name: String,
    pub email: String,
}

fn run(
    dir: &Path,
    args: &[&str],
    env: &[(String, String)],
    stdin: Option<&[u8]>,
) -> Result<std::process::Output, GitError> {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().map_err(|e| {
        GitError::Unavailable(format!(
            "cannot run git ({e}); install git or run without --commit"
        ))
    })?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let _ = pipe.write_all(input);
    }
    child
        .wait_with_output()
        .map_err(|e| GitError::Failed(format!("git {}: {e}", args.join(" "))))
}

/// Runs git and returns stdout; a non-zero exit is [`GitError::Failed`].
fn git(dir: &Path, args: &[&str], env: &[(String, String)]) -> Result<String, GitError> {
    let out = run(dir, args, env, None)?;
    if !out.status.success() {
        return Err(GitError::Failed(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

fn config_value(dir: &Path, key: &str) -> Option<String> {
    git(dir, &["config", "--get", key], &[])
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The commit author: kubeship.yaml, else git config, else the CI's user, else `kubeship`.
pub fn author(config: &ImagesConfig, repo_root: &Path) -> Author {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let name = config
        .author_name
        .clone()
        .or_else(|| config_value(repo_root, "user.name"))
        .or_else(|| env("GITLAB_USER_NAME"))
        .or_else(|| env("GITHUB_ACTOR"))
        .unwrap_or_else(|| "kubeship".to_string());
    let email = config
        .author_email
        .clone()
        .or_else(|| config_value(repo_root, "user.email"))
        .or_else(|| env("GITLAB_USER_EMAIL"))
        .or_else(|| env("GITHUB_ACTOR").map(|a| format!("{a}@users.noreply.github.com")))
        .unwrap_or_else(|| "kubeship@localhost".to_string());
    Author { name, email }
}

/// Checks a commit message template: only known `{{placeholders}}`.
pub fn check_template(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            return Err("images.commitMessage has `{{` without `}}`".to_string());
        };
        let name = after[..j].trim();
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "images.commitMessage uses `{{{{{name}}}}}`; known placeholders: {}",
                PLACEHOLDERS
                    .iter()
                    .map(|p| format!("{{{{{p}}}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        rest = &after[j + 2..];
    }
    Ok(())
}

/// The commit message for `plan` from `template` (default [`DEFAULT_MESSAGE`]).
pub fn commit_message(template: Option<&str>, plan: &UpdatePlan) -> Result<String, String> {
    let template = template.unwrap_or(DEFAULT_MESSAGE);
    check_template(template)?;
    let updates: Vec<String> = plan
        .updates
        .iter()
        .map(|u| {
            format!(
                "- {}:{}: {} -> {} (policy {})",
                u.file, u.line, u.old, u.new, u.policy
            )
        })
        .collect();
    let mut policies: Vec<String> = plan.updates.iter().map(|u| u.policy.to_string()).collect();
    policies.sort();
    policies.dedup();
    let mut images: Vec<String> = Vec::new();
    for u in &plan.updates {
        let image = match u.setter {
            Setter::Image => u.new.clone(),
            _ => {
                let Some(p) = plan.policies.iter().find(|p| p.policy == u.policy) else {
                    continue;
                };
                match &p.outcome {
                    super::update::Outcome::Latest { tag, .. } => format!("{}:{tag}", p.image),
                    _ => continue,
                }
            }
        };
        if !images.contains(&image) {
            images.push(image);
        }
    }
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let j = after.find("}}").unwrap_or(after.len());
        let value = match after[..j].trim() {
            "updates" => updates.join("\n"),
            "count" => plan.updates.len().to_string(),
            "env" => plan
                .environment
                .clone()
                .unwrap_or_else(|| "all environments".to_string()),
            "policies" => policies.join(", "),
            "images" => images.join(", "),
            _ => String::new(),
        };
        out.push_str(&value);
        rest = after.get(j + 2..).unwrap_or("");
    }
    out.push_str(rest);
    Ok(out)
}

fn toplevel(dir: &Path) -> Result<PathBuf, GitError> {
    let out = run(dir, &["rev-parse", "--show-toplevel"], &[], None)?;
    if !out.status.success() {
        return Err(GitError::Unavailable(format!(
            "{} is not inside a git work tree; --commit needs one",
            dir.display()
        )));
    }
    let top = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let path = PathBuf::from(&top);
    Ok(path.canonicalize().unwrap_or(path))
}

fn author_env(author: &Author) -> Vec<(String, String)> {
    vec![
        ("GIT_AUTHOR_NAME".into(), author.name.clone()),
        ("GIT_AUTHOR_EMAIL".into(), author.email.clone()),
        ("GIT_COMMITTER_NAME".into(), author.name.clone()),
        ("GIT_COMMITTER_EMAIL".into(), author.email.clone()),
    ]
}

/// Commits the plan's files (writing them first if needed) as one commit; returns its id, or
/// `None` when there is nothing to commit. Refuses when other changes are staged, or when an
/// updated file has changes of its own that are not committed.
pub fn commit(
    plan: &UpdatePlan,
    message: &str,
    author: &Author,
) -> Result<Option<String>, GitError> {
    if plan.files.is_empty() {
        return Ok(None);
    }
    let root = &plan.repo_root;
    let top = toplevel(root)?;
    if git(root, &["rev-parse", "--verify", "--quiet", "HEAD"], &[]).is_err() {
        return Err(GitError::Refused(
            "the repository has no commit yet; commit the manifests first".to_string(),
        ));
    }
    let ours: Vec<PathBuf> = plan.files.iter().map(|f| root.join(&f.path)).collect();
    let staged = git(root, &["diff", "--cached", "--name-only", "-z"], &[])?;
    let unrelated: Vec<&str> = staged
        .split('\0')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let abs = top.join(p);
            !ours.contains(&abs)
        })
        .collect();
    if !unrelated.is_empty() {
        return Err(GitError::Refused(format!(
            "the index has staged changes unrelated to the image update ({}); commit or unstage them (git restore --staged PATH) and run again",
            unrelated.join(", ")
        )));
    }
    for f in &plan.files {
        let out = run(root, &["show", &format!("HEAD:./{}", f.path)], &[], None)?;
        if !out.status.success() {
            return Err(GitError::Refused(format!(
                "{} is not committed yet; commit it first so the image-update commit holds only the updates",
                f.path
            )));
        }
        if out.stdout != f.original.as_bytes() {
            return Err(GitError::Refused(format!(
                "{} has uncommitted changes; commit or stash them first so the image-update commit holds only the updates",
                f.path
            )));
        }
        let current = std::fs::read_to_string(root.join(&f.path)).unwrap_or_default();
        if current != f.original && current != f.updated {
            return Err(GitError::Refused(format!(
                "{} changed since it was read; run again",
                f.path
            )));
        }
    }
    super::update::write(plan).map_err(|e| GitError::Failed(e.to_string()))?;
    let mut add = vec!["add", "--"];
    add.extend(plan.files.iter().map(|f| f.path.as_str()));
    git(root, &add, &[])?;
    let out = run(
        root,
        &["commit", "--quiet", "--file=-"],
        &author_env(author),
        Some(message.as_bytes()),
    )?;
    if !out.status.success() {
        return Err(GitError::Failed(format!(
            "git commit failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let sha = git(root, &["rev-parse", "HEAD"], &[])?.trim().to_string();
    Ok(Some(sha))
}

/// Where and how to push: an https URL and a token sent as HTTP basic auth.
#[derive(Clone)]
pub struct PushAuth {
    pub url: String,
    pub username: String,
    pub token: String,
}

impl std::fmt::Debug for PushAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PushAuth({} as {})", self.url, self.username)
    }
}

impl PushAuth {
    /// From the CI environment: GitLab (`KUBESHIP_GITLAB_TOKEN` or `GITLAB_TOKEN`, a project or
    /// group access token with `write_repository`) or GitHub (`KUBESHIP_GITHUB_TOKEN`, a token
    /// with `contents: write`). `None`: push to `origin` with the checkout's own credentials.
    pub fn from_env() -> Option<PushAuth> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let (Some(server), Some(project)) = (env("CI_SERVER_URL"), env("CI_PROJECT_PATH"))
            && let Some(token) = env("KUBESHIP_GITLAB_TOKEN").or_else(|| env("GITLAB_TOKEN"))
        {
            crate::redact::register(&token);
            return Some(PushAuth {
                url: format!("{}/{project}.git", server.trim_end_matches('/')),
                username: "oauth2".to_string(),
                token,
            });
        }
        if let (Some(server), Some(repo), Some(token)) = (
            env("GITHUB_SERVER_URL"),
            env("GITHUB_REPOSITORY"),
            env("KUBESHIP_GITHUB_TOKEN"),
        ) {
            crate::redact::register(&token);
            return Some(PushAuth {
                url: format!("{}/{repo}.git", server.trim_end_matches('/')),
                username: "x-access-token".to_string(),
                token,
            });
        }
        None
    }

    /// git configuration through the environment: an `Authorization` header for this URL only
    /// (an empty value first clears headers a checkout may have configured).
    fn env(&self) -> Vec<(String, String)> {
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.username, self.token));
        crate::redact::register(&basic);
        let key = format!("http.{}.extraHeader", self.url);
        vec![
            ("GIT_CONFIG_COUNT".into(), "2".into()),
            ("GIT_CONFIG_KEY_0".into(), key.clone()),
            ("GIT_CONFIG_VALUE_0".into(), String::new()),
            ("GIT_CONFIG_KEY_1".into(), key),
            (
                "GIT_CONFIG_VALUE_1".into(),
                format!("Authorization: Basic {basic}"),
            ),
        ]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// The branch now points at `HEAD`.
    Pushed,
    /// The branch already held the same files; nothing was pushed (the merge request stays
    /// as it is).
    UpToDate,
}

/// Pushes `HEAD` to `branch` (force: the branch belongs to the automation), unless the branch
/// already holds the same tree.
pub fn push_branch(
    repo_root: &Path,
    branch: &str,
    auth: Option<&PushAuth>,
) -> Result<PushOutcome, GitError> {
    let valid = git(
        repo_root,
        &["check-ref-format", &format!("refs/heads/{branch}")],
        &[],
    );
    if valid.is_err() {
        return Err(GitError::Unavailable(format!(
            "`{branch}` is not a valid branch name (images.branch in kubeship.yaml)"
        )));
    }
    let (remote, env) = match auth {
        Some(a) => (a.url.as_str(), a.env()),
        None => ("origin", Vec::new()),
    };
    let refspec = format!("refs/heads/{branch}");
    let fetched = run(
        repo_root,
        &["fetch", "--quiet", "--no-tags", remote, &refspec],
        &env,
        None,
    )?;
    if fetched.status.success() {
        let theirs = git(repo_root, &["rev-parse", "FETCH_HEAD^{tree}"], &[]);
        let ours = git(repo_root, &["rev-parse", "HEAD^{tree}"], &[])?;
        if theirs.is_ok_and(|t| t.trim() == ours.trim()) {
            return Ok(PushOutcome::UpToDate);
        }
    }
    let out = run(
        repo_root,
        &[
            "push",
            "--quiet",
            "--force",
            remote,
            &format!("HEAD:{refspec}"),
        ],
        &env,
        None,
    )?;
    if !out.status.success() {
        return Err(GitError::Failed(format!(
            "git push to {branch} failed: {}; the token needs write access to the repository",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(PushOutcome::Pushed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert!(check_template("Update {{count}} images\n\n{{updates}}").is_ok());
        let err = check_template("{{nope}}").unwrap_err();
        assert!(
            err.contains("{{nope}}") && err.contains("{{updates}}"),
            "{err}"
        );
        assert!(check_template("{{updates").is_err());
    }
}
