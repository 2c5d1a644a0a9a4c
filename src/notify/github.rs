//! The GitHub side: REST API calls (the token's login, issue comments, pull requests), the
//! job summary (`GITHUB_STEP_SUMMARY`) and step outputs (`GITHUB_OUTPUT`).
//!
//! Owns: where the API is (`GITHUB_API_URL`), which token (the action input
//! `INPUT_GITHUB_TOKEN`, else `GITHUB_TOKEN`, sent as a bearer token), the pull request
//! from the event JSON (`GITHUB_EVENT_PATH`), `Link: rel="next"` pagination (same origin
//! only, so the token never leaves the API host), the 1 MiB job summary limit, and the
//! heredoc format of step outputs.
//! Must not: decide which comment to update or what to write in a summary.

use std::io::Write;

use reqwest::Method;
use serde::Deserialize;
use url::Url;

use super::NotifyError;
use super::comment::Skip;
use super::env::{CiEnv, Platform};
use super::gitlab::{api_base, endpoint};
use super::http::{Http, Req, Resp};

/// Where the token may come from, in order.
pub(crate) const TOKEN_VARS: &[&str] = &["INPUT_GITHUB_TOKEN", "GITHUB_TOKEN"];

/// The login that owns comments made with the Actions `GITHUB_TOKEN`.
pub(crate) const ACTIONS_BOT: &str = "github-actions[bot]";

/// GitHub's limit for one step's job summary.
pub const SUMMARY_LIMIT: usize = 1024 * 1024;

const MAX_PAGES: usize = 200;

#[derive(Clone)]
pub(crate) struct GitHub {
    api: Url,
    token: String,
    token_var: &'static str,
    pub owner: String,
    pub repo: String,
    /// `KUBESHIP_GITHUB_COMMENT_AUTHOR`: the login of a GitHub App's bot, when its token is used.
    author_override: Option<String>,
}

/// Shows where, never the token.
impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub")
            .field("api", &self.api.as_str())
            .field("token_var", &self.token_var)
            .field("owner", &self.owner)
            .field("repo", &self.repo)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct IssueComment {
    pub id: u64,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub html_url: Option<String>,
    pub user: Option<User>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct User {
    pub login: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Pull {
    pub number: u64,
    pub html_url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
}

/// The pull request of this run, from the event JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PullRef {
    pub number: u64,
    pub head_sha: Option<String>,
    /// The head branch lives in another repository (a fork): the token is read-only.
    pub fork: bool,
}

pub(crate) fn pull_from_event(event: &serde_json::Value) -> Option<PullRef> {
    if let Some(pr) = event.get("pull_request") {
        let number = pr.get("number")?.as_u64()?;
        let head_sha = pr
            .pointer("/head/sha")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let head_repo = pr.pointer("/head/repo/full_name").and_then(|v| v.as_str());
        let base_repo = pr.pointer("/base/repo/full_name").and_then(|v| v.as_str());
        let fork = pr
            .pointer("/head/repo/fork")
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
            || matches!((head_repo, base_repo), (Some(h), Some(b)) if h != b);
        return Some(PullRef {
            number,
            head_sha,
            fork,
        });
    }
    // issue_comment on a pull request.
    let issue = event.get("issue")?;
    issue.get("pull_request")?;
    Some(PullRef {
        number: issue.get("number")?.as_u64()?,
        head_sha: None,
        fork: false,
    })
}

/// The URL of the `rel="next"` link in a `Link` header.
pub(crate) fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let mut pieces = part.split(';');
        let url = pieces.next()?.trim();
        let is_next = pieces.any(|p| {
            let p = p.trim();
            p == r#"rel="next""# || p == "rel=next"
        });
        (is_next && url.starts_with('<') && url.ends_with('>'))
            .then(|| url[1..url.len() - 1].to_string())
    })
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

impl GitHub {
    pub fn from_env(ci: &CiEnv) -> Result<GitHub, Skip> {
        let Some((token_var, token)) = ci.first_secret(TOKEN_VARS) else {
            return Err(Skip::NoToken {
                platform: Platform::GitHub,
            });
        };
        let Some(repository) = ci.get("GITHUB_REPOSITORY") else {
            return Err(Skip::MissingVariables {
                platform: Platform::GitHub,
                names: vec!["GITHUB_REPOSITORY"],
            });
        };
        let Some((owner, repo)) = repository
            .trim()
            .split_once('/')
            .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
        else {
            return Err(Skip::Invalid {
                platform: Platform::GitHub,
                message: format!("GITHUB_REPOSITORY `{repository}` is not `owner/repo`"),
            });
        };
        let api = ci
            .get("GITHUB_API_URL")
            .unwrap_or_else(|| "https://api.github.com".to_string());
        let api = api_base(&api, "GITHUB_API_URL").map_err(|m| Skip::Invalid {
            platform: Platform::GitHub,
            message: m,
        })?;
        Ok(GitHub {
            api,
            token,
            token_var,
            owner: owner.to_string(),
            repo: repo.to_string(),
            author_override: ci.get("KUBESHIP_GITHUB_COMMENT_AUTHOR"),
        })
    }

    fn req(&self, method: Method, url: Url, what: impl Into<String>) -> Req {
        Req::new(method, url, what)
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
    }

    fn repo_path(&self, rest: &[&str]) -> Url {
        let mut segs = vec!["repos", self.owner.as_str(), self.repo.as_str()];
        segs.extend_from_slice(rest);
        endpoint(&self.api, &segs)
    }

    fn check(&self, resp: Resp, what: &str) -> Result<Resp, NotifyError> {
        if resp.ok() {
            return Ok(resp);
        }
        let var = self.token_var;
        let hint = match resp.status {
            401 => format!(
                "GitHub rejected the token from {var}: pass a valid token in the action input `github_token` (default: the workflow's GITHUB_TOKEN)"
            ),
            403 => "the token may not do this: give the job `permissions: pull-requests: write` (and `contents: write` to open pull requests)".to_string(),
            404 => format!(
                "check GITHUB_API_URL and GITHUB_REPOSITORY ({}/{}) and that the token can see the repository",
                self.owner, self.repo
            ),
            422 => "GitHub did not accept the request as sent".to_string(),
            _ => String::new(),
        };
        Err(resp.error(what, &hint))
    }

    /// The login whose comments are ours.
    pub async fn login(&self, http: &Http) -> Result<String, NotifyError> {
        if let Some(login) = &self.author_override {
            return Ok(login.clone());
        }
        // An installation token (`ghs_`, such as the Actions GITHUB_TOKEN) cannot read /user;
        // its comments belong to github-actions[bot].
        if self.token.starts_with("ghs_") {
            return Ok(ACTIONS_BOT.to_string());
        }
        let what = "GitHub: reading the token's user (GET /user)";
        let resp = http
            .send(&self.req(Method::GET, endpoint(&self.api, &["user"]), what))
            .await?;
        if resp.status == 403 {
            return Ok(ACTIONS_BOT.to_string());
        }
        let user: User = self.check(resp, what)?.json(what)?;
        Ok(user.login)
    }

    /// Every comment of an issue or pull request, oldest first.
    pub async fn comments(
        &self,
        http: &Http,
        number: u64,
    ) -> Result<Vec<IssueComment>, NotifyError> {
        let what = format!("GitHub: listing the comments of pull request #{number}");
        let mut url = self.repo_path(&["issues", &number.to_string(), "comments"]);
        url.query_pairs_mut().append_pair("per_page", "100");
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let resp = http
                .send(&self.req(Method::GET, url.clone(), &what))
                .await?;
            let resp = self.check(resp, &what)?;
            let page: Vec<IssueComment> = resp.json(&what)?;
            all.extend(page);
            let Some(next) = resp.header("link").and_then(next_link) else {
                return Ok(all);
            };
            let next = Url::parse(&next).map_err(|e| {
                NotifyError::new(format!(
                    "{what}: the `Link` header has a bad next URL ({e})"
                ))
            })?;
            if !same_origin(&next, &self.api) {
                return Err(NotifyError::new(format!(
                    "{what}: the next page is on another host ({}); kubeship does not send the token there",
                    next.host_str().unwrap_or("?")
                )));
            }
            if next == url {
                return Ok(all);
            }
            url = next;
        }
        Ok(all)
    }

    pub async fn create_comment(
        &self,
        http: &Http,
        number: u64,
        body: &str,
    ) -> Result<IssueComment, NotifyError> {
        let what = format!("GitHub: creating a comment on pull request #{number}");
        let url = self.repo_path(&["issues", &number.to_string(), "comments"]);
        let req = self
            .req(Method::POST, url, &what)
            .json(&serde_json::json!({ "body": body }));
        let resp = http.send(&req).await?;
        self.check(resp, &what)?.json(&what)
    }

    pub async fn update_comment(
        &self,
        http: &Http,
        id: u64,
        body: &str,
    ) -> Result<IssueComment, NotifyError> {
        let what = format!("GitHub: updating comment {id}");
        let url = self.repo_path(&["issues", "comments", &id.to_string()]);
        let req = self
            .req(Method::PATCH, url, &what)
            .json(&serde_json::json!({ "body": body }));
        let resp = http.send(&req).await?;
        self.check(resp, &what)?.json(&what)
    }

    pub async fn find_open_pull(
        &self,
        http: &Http,
        head: &str,
        base: &str,
    ) -> Result<Option<Pull>, NotifyError> {
        let what = format!("GitHub: looking for an open pull request from `{head}`");
        let mut url = self.repo_path(&["pulls"]);
        url.query_pairs_mut()
            .append_pair("state", "open")
            .append_pair("head", &format!("{}:{head}", self.owner))
            .append_pair("base", base);
        let resp = http.send(&self.req(Method::GET, url, &what)).await?;
        let pulls: Vec<Pull> = self.check(resp, &what)?.json(&what)?;
        Ok(pulls.into_iter().next())
    }

    pub async fn create_pull(
        &self,
        http: &Http,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<Pull, NotifyError> {
        let what = format!("GitHub: opening a pull request from `{head}` into `{base}`");
        let req = self
            .req(Method::POST, self.repo_path(&["pulls"]), &what)
            .json(&serde_json::json!({
                "title": title,
                "head": head,
                "base": base,
                "body": body,
            }));
        let resp = http.send(&req).await?;
        if resp.status == 403 {
            return Err(resp.error(
                &what,
                "allow it under Settings > Actions > General > Workflow permissions (\"Allow GitHub Actions to create and approve pull requests\") and give the job `permissions: pull-requests: write, contents: write`",
            ));
        }
        self.check(resp, &what)?.json(&what)
    }

    pub async fn update_pull(
        &self,
        http: &Http,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<Pull, NotifyError> {
        let what = format!("GitHub: updating pull request #{number}");
        let url = self.repo_path(&["pulls", &number.to_string()]);
        let req = self
            .req(Method::PATCH, url, &what)
            .json(&serde_json::json!({ "title": title, "body": body }));
        let resp = http.send(&req).await?;
        self.check(resp, &what)?.json(&what)
    }
}

/// What [`append_job_summary`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryOutcome {
    /// `GITHUB_STEP_SUMMARY` is not set: not on GitHub Actions.
    NotSet,
    /// Appended `bytes`; `truncated` when the text was cut to stay under 1 MiB.
    Written { bytes: usize, truncated: bool },
    /// The step's summary is already at the limit; nothing was written.
    NoRoom,
}

const SUMMARY_NOTE: &str = "> [!WARNING]\n> kubeship cut this summary to stay under GitHub's 1 MiB limit for a job summary; the full output is in the job log.\n";

/// Appends `markdown` to the job summary when `GITHUB_STEP_SUMMARY` is set, keeping the step's
/// summary under 1 MiB (cut at a line, open code fences closed, with a note saying so).
pub fn append_job_summary(ci: &CiEnv, markdown: &str) -> Result<SummaryOutcome, NotifyError> {
    let Some(path) = ci.get("GITHUB_STEP_SUMMARY") else {
        return Ok(SummaryOutcome::NotSet);
    };
    let existing = std::fs::metadata(&path).map_or(0, |m| m.len() as usize);
    // Strictly under the limit, with room for the separating newline.
    let room = SUMMARY_LIMIT.saturating_sub(existing + 2);
    let mut text = markdown.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let (text, truncated) = super::comment::fit_markdown(&text, room, SUMMARY_NOTE, Unit::Bytes);
    if text.is_empty() {
        return Ok(SummaryOutcome::NoRoom);
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| {
            NotifyError::new(format!(
                "cannot open the job summary {path} (GITHUB_STEP_SUMMARY): {e}"
            ))
        })?;
    file.write_all(text.as_bytes())
        .map_err(|e| NotifyError::new(format!("cannot write the job summary {path}: {e}")))?;
    Ok(SummaryOutcome::Written {
        bytes: text.len(),
        truncated,
    })
}

/// How a size limit is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    Bytes,
    Chars,
}

/// Writes step outputs (`name<<delimiter` blocks) to `GITHUB_OUTPUT` when it is set. Returns
/// whether anything was written. Names must be letters, digits, `-` or `_`.
pub fn write_outputs(ci: &CiEnv, outputs: &[(&str, String)]) -> Result<bool, NotifyError> {
    let Some(path) = ci.get("GITHUB_OUTPUT") else {
        return Ok(false);
    };
    let mut text = String::new();
    for (name, value) in outputs {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(NotifyError::new(format!(
                "step output name `{name}` is not allowed (letters, digits, - and _ only)"
            )));
        }
        let delimiter = delimiter_for(name, value);
        text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| {
            NotifyError::new(format!(
                "cannot open the step outputs {path} (GITHUB_OUTPUT): {e}"
            ))
        })?;
    file.write_all(text.as_bytes())
        .map_err(|e| NotifyError::new(format!("cannot write the step outputs {path}: {e}")))?;
    Ok(true)
}

/// A delimiter that does not occur in `value`.
fn delimiter_for(name: &str, value: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut salt = 0u64;
    loop {
        let digest = Sha256::new()
            .chain_update(name.as_bytes())
            .chain_update(value.as_bytes())
            .chain_update(salt.to_le_bytes())
            .finalize();
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let d = format!("ghadelimiter_{hex}");
        if !value.contains(&d) {
            return d;
        }
        salt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_next() {
        let h = r#"<https://api.github.com/repositories/1/issues/2/comments?page=2>; rel="next", <https://api.github.com/repositories/1/issues/2/comments?page=5>; rel="last""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://api.github.com/repositories/1/issues/2/comments?page=2")
        );
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="prev""#), None);
    }

    #[test]
    fn pull_request_from_events() {
        let ev = serde_json::json!({"pull_request": {"number": 12, "head": {"sha": "abc", "repo": {"full_name": "me/fork", "fork": true}}, "base": {"repo": {"full_name": "acme/gitops"}}}});
        assert_eq!(
            pull_from_event(&ev),
            Some(PullRef {
                number: 12,
                head_sha: Some("abc".into()),
                fork: true
            })
        );
        let ev = serde_json::json!({"pull_request": {"number": 3, "head": {"sha": "d", "repo": {"full_name": "acme/gitops", "fork": false}}, "base": {"repo": {"full_name": "acme/gitops"}}}});
        assert!(!pull_from_event(&ev).unwrap().fork);
        assert_eq!(
            pull_from_event(&serde_json::json!({"ref": "refs/heads/main"})),
            None
        );
        let ev = serde_json::json!({"issue": {"number": 9, "pull_request": {}}});
        assert_eq!(pull_from_event(&ev).unwrap().number, 9);
    }

    #[test]
    fn outputs_use_unique_delimiters() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let ci = CiEnv::from_pairs([("GITHUB_OUTPUT", out.to_str().unwrap())]);
        assert!(write_outputs(&ci, &[("changes", "3".into()), ("errors", "a\nb".into())]).unwrap());
        let text = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("changes<<ghadelimiter_"), "{text}");
        assert_eq!(lines[1], "3");
        assert_eq!(lines[2], lines[0].trim_start_matches("changes<<"));
        assert_eq!(&lines[4..6], &["a", "b"]);
        assert!(write_outputs(&ci, &[("bad name", String::new())]).is_err());
        assert!(
            !write_outputs(&CiEnv::from_pairs::<&str, &str>([]), &[("x", "1".into())]).unwrap()
        );
    }
}
