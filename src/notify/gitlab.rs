//! The GitLab REST API (v4) calls kubeship makes: the current user, merge request notes,
//! merge requests.
//!
//! Owns: where the API is (`CI_API_V4_URL`), which token (`KUBESHIP_GITLAB_TOKEN`, else
//! `GITLAB_TOKEN`, sent as `PRIVATE-TOKEN`; never `CI_JOB_TOKEN`, which cannot write notes
//! or merge requests), paths with the project id encoded, `page`/`per_page` + `X-Next-Page`
//! pagination, and GitLab-specific advice in errors.
//! Must not: decide which note to update or whether to comment (see `comment`).

use reqwest::Method;
use serde::Deserialize;
use url::Url;

use super::NotifyError;
use super::comment::Skip;
use super::env::{CiEnv, Platform};
use super::http::{Http, Req, Resp};

/// Where the token may come from, in order.
pub(crate) const TOKEN_VARS: &[&str] = &["KUBESHIP_GITLAB_TOKEN", "GITLAB_TOKEN"];

/// Pages followed at most (100 items each).
const MAX_PAGES: usize = 200;

#[derive(Clone)]
pub(crate) struct GitLab {
    api: Url,
    token: String,
    token_var: &'static str,
    pub project: String,
}

/// Shows where, never the token.
impl std::fmt::Debug for GitLab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitLab")
            .field("api", &self.api.as_str())
            .field("token_var", &self.token_var)
            .field("project", &self.project)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Note {
    pub id: u64,
    #[serde(default)]
    pub body: String,
    pub author: Author,
    #[serde(default)]
    pub system: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Author {
    pub id: u64,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct MergeRequest {
    pub iid: u64,
    pub web_url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// Parses an API base URL (http or https) so that paths can be appended.
pub(crate) fn api_base(text: &str, var: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| {
        format!("{var} is not a URL ({e}); it should look like https://gitlab.example.com/api/v4")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(format!("{var} must be an http(s) URL"));
    }
    Ok(url)
}

/// `base` + path segments, each percent-encoded (a project path `group/app` becomes
/// `group%2Fapp`).
pub(crate) fn endpoint(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty();
        path.extend(segments);
    }
    url
}

impl GitLab {
    /// The API, token and project from CI variables. `project_vars` are tried in order.
    pub fn from_env(ci: &CiEnv, project_vars: &[&'static str]) -> Result<GitLab, Skip> {
        let Some((token_var, token)) = ci.first_secret(TOKEN_VARS) else {
            if ci.secret("CI_JOB_TOKEN").is_some() {
                return Err(Skip::JobTokenOnly);
            }
            return Err(Skip::NoToken {
                platform: Platform::GitLab,
            });
        };
        let mut missing = Vec::new();
        let api = ci.get("CI_API_V4_URL");
        if api.is_none() {
            missing.push("CI_API_V4_URL");
        }
        let project = ci.first(project_vars).map(|(_, v)| v);
        if project.is_none() {
            missing.extend_from_slice(project_vars);
        }
        let (Some(api), Some(project)) = (api, project) else {
            return Err(Skip::MissingVariables {
                platform: Platform::GitLab,
                names: missing,
            });
        };
        let api = api_base(&api, "CI_API_V4_URL").map_err(|m| Skip::Invalid {
            platform: Platform::GitLab,
            message: m,
        })?;
        Ok(GitLab {
            api,
            token,
            token_var,
            project: project.trim().to_string(),
        })
    }

    fn req(&self, method: Method, url: Url, what: impl Into<String>) -> Req {
        Req::new(method, url, what).header("PRIVATE-TOKEN", self.token.clone())
    }

    fn project_path(&self, rest: &[&str]) -> Url {
        let mut segs = vec!["projects", self.project.as_str()];
        segs.extend_from_slice(rest);
        endpoint(&self.api, &segs)
    }

    /// Turns a non-2xx answer into an error with GitLab advice.
    fn check(&self, resp: Resp, what: &str) -> Result<Resp, NotifyError> {
        if resp.ok() {
            return Ok(resp);
        }
        let var = self.token_var;
        let hint = match resp.status {
            401 => format!(
                "GitLab rejected the token in {var}: it may be expired or revoked; create a project access token with the `api` scope and store it as a masked CI/CD variable {var}"
            ),
            403 => format!(
                "the token in {var} may not do this: it needs the `api` scope and at least the Reporter role on the project (Developer to open merge requests)"
            ),
            404 => format!(
                "check CI_API_V4_URL, the project id `{}`, and that the token in {var} can see the project",
                self.project
            ),
            _ => String::new(),
        };
        Err(resp.error(what, &hint))
    }

    /// The id of the token's user (for a project access token: its bot user).
    pub async fn user_id(&self, http: &Http) -> Result<u64, NotifyError> {
        #[derive(Deserialize)]
        struct User {
            id: u64,
        }
        let what = "GitLab: reading the token's user (GET /user)";
        let resp = http
            .send(&self.req(Method::GET, endpoint(&self.api, &["user"]), what))
            .await?;
        let user: User = self.check(resp, what)?.json(what)?;
        Ok(user.id)
    }

    /// Every note of a merge request, oldest first.
    pub async fn notes(&self, http: &Http, iid: u64) -> Result<Vec<Note>, NotifyError> {
        let what = format!("GitLab: listing the notes of merge request !{iid}");
        let iid_s = iid.to_string();
        let mut all = Vec::new();
        let mut page = "1".to_string();
        for _ in 0..MAX_PAGES {
            let mut url = self.project_path(&["merge_requests", &iid_s, "notes"]);
            url.query_pairs_mut()
                .append_pair("sort", "asc")
                .append_pair("order_by", "created_at")
                .append_pair("per_page", "100")
                .append_pair("page", &page);
            let resp = http.send(&self.req(Method::GET, url, &what)).await?;
            let resp = self.check(resp, &what)?;
            let notes: Vec<Note> = resp.json(&what)?;
            all.extend(notes);
            match resp.header("x-next-page").map(str::trim) {
                Some(next) if !next.is_empty() && next != page => page = next.to_string(),
                _ => return Ok(all),
            }
        }
        Ok(all)
    }

    pub async fn create_note(
        &self,
        http: &Http,
        iid: u64,
        body: &str,
    ) -> Result<Note, NotifyError> {
        let what = format!("GitLab: creating a note on merge request !{iid}");
        let url = self.project_path(&["merge_requests", &iid.to_string(), "notes"]);
        let req = self
            .req(Method::POST, url, &what)
            .json(&serde_json::json!({ "body": body }));
        let resp = http.send(&req).await?;
        self.check(resp, &what)?.json(&what)
    }

    pub async fn update_note(
        &self,
        http: &Http,
        iid: u64,
        note: u64,
        body: &str,
    ) -> Result<Note, NotifyError> {
        let what = format!("GitLab: updating note {note} on merge request !{iid}");
        let url = self.project_path(&[
            "merge_requests",
            &iid.to_string(),
            "notes",
            &note.to_string(),
        ]);
        let req = self
            .req(Method::PUT, url, &what)
            .json(&serde_json::json!({ "body": body }));
        let resp = http.send(&req).await?;
        self.check(resp, &what)?.json(&what)
    }

    /// The open merge request from `source` into `target`, if any.
    pub async fn find_open_mr(
        &self,
        http: &Http,
        source: &str,
        target: &str,
    ) -> Result<Option<MergeRequest>, NotifyError> {
        let what = format!("GitLab: looking for an open merge request from `{source}`");
        let mut url = self.project_path(&["merge_requests"]);
        url.query_pairs_mut()
            .append_pair("state", "opened")
            .append_pair("source_branch", source)
            .append_pair("target_branch", target);
        let resp = http.send(&self.req(Method::GET, url, &what)).await?;
        let mrs: Vec<MergeRequest> = self.check(resp, &what)?.json(&what)?;
        Ok(mrs.into_iter().next())
    }

    pub async fn create_mr(
        &self,
        http: &Http,
        source: &str,
        target: &str,
        title: &str,
        description: &str,
    ) -> Result<MergeRequest, NotifyError> {
        let what = format!("GitLab: opening a merge request from `{source}` into `{target}`");
        let req = self
            .req(Method::POST, self.project_path(&["merge_requests"]), &what)
            .json(&serde_json::json!({
                "source_branch": source,
                "target_branch": target,
                "title": title,
                "description": description,
                "remove_source_branch": true,
            }));
        let resp = http.send(&req).await?;
        self.check(resp, &what)?.json(&what)
    }

    pub async fn update_mr(
        &self,
        http: &Http,
        iid: u64,
        title: &str,
        description: &str,
    ) -> Result<MergeRequest, NotifyError> {
        let what = format!("GitLab: updating merge request !{iid}");
        let url = self.project_path(&["merge_requests", &iid.to_string()]);
        let req = self.req(Method::PUT, url, &what).json(&serde_json::json!({
            "title": title,
            "description": description,
        }));
        let resp = http.send(&req).await?;
        self.check(resp, &what)?.json(&what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_encode_project_paths() {
        let base = api_base("https://gitlab.example/api/v4", "X").unwrap();
        assert_eq!(
            endpoint(&base, &["projects", "group/app", "merge_requests"]).as_str(),
            "https://gitlab.example/api/v4/projects/group%2Fapp/merge_requests"
        );
        let base = api_base("https://gitlab.example/api/v4/", "X").unwrap();
        assert_eq!(
            endpoint(&base, &["user"]).as_str(),
            "https://gitlab.example/api/v4/user"
        );
        assert!(api_base("ftp://x/api", "CI_API_V4_URL").is_err());
        assert!(api_base("not a url", "CI_API_V4_URL").is_err());
    }

    #[test]
    fn job_token_alone_is_named() {
        let ci = CiEnv::from_pairs([
            ("CI_JOB_TOKEN", "job-token-value-123"),
            ("CI_API_V4_URL", "https://gitlab.example/api/v4"),
            ("CI_PROJECT_ID", "1"),
        ]);
        assert_eq!(
            GitLab::from_env(&ci, &["CI_PROJECT_ID"]).unwrap_err(),
            Skip::JobTokenOnly
        );
        let ci = CiEnv::from_pairs([("GITLAB_TOKEN", "glpat-abcdef")]);
        assert_eq!(
            GitLab::from_env(&ci, &["CI_MERGE_REQUEST_PROJECT_ID", "CI_PROJECT_ID"]).unwrap_err(),
            Skip::MissingVariables {
                platform: Platform::GitLab,
                names: vec![
                    "CI_API_V4_URL",
                    "CI_MERGE_REQUEST_PROJECT_ID",
                    "CI_PROJECT_ID"
                ],
            }
        );
    }
}
