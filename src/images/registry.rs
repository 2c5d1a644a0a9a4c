//! Talking to OCI registries (the Distribution API), read-only.
//!
//! Owns: listing tags (`GET /v2/NAME/tags/list`, following `Link: <...>; rel="next"`), resolving
//! a tag's digest (`HEAD /v2/NAME/manifests/TAG`, `Docker-Content-Digest`, falling back to a
//! GET and hashing the manifest), the `WWW-Authenticate` challenge (Bearer token endpoint or
//! Basic), per-request timeouts, and bounded retries with backoff on connection errors, 429
//! and 5xx. Tokens are registered with [`crate::redact`] and cached per repository.
//! Must not: write anything to a registry, print, or read files other than through
//! [`super::credentials`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, LINK, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode};
use sha2::Digest;

use super::credentials::{Credential, Credentials};
use super::reference::ImageName;

/// Manifest media types accepted when resolving a digest: indexes first, so the digest is
/// the multi-platform one a `@sha256:` reference should pin.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// Page size asked for (go-containerregistry's default; registries may return fewer).
const PAGE_SIZE: u32 = 1000;
/// A registry that keeps sending `next` links this many times is broken.
const MAX_PAGES: usize = 10_000;
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
pub struct RegistryOptions {
    /// Tries per request (the first one included).
    pub attempts: u32,
    /// Wait before the first retry; doubled for each later one.
    pub backoff: Duration,
    /// Per-request timeout when the ImageRepository sets none (`spec.timeout`).
    pub timeout: Duration,
    /// Repositories scanned at the same time.
    pub concurrency: usize,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            attempts: 4,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(30),
            concurrency: 4,
        }
    }
}

/// One repository to read, with how to reach it.
#[derive(Clone, Debug)]
pub struct Target {
    pub name: ImageName,
    /// `spec.insecure`: plain http.
    pub insecure: bool,
    /// `spec.secretRef.name`, which selects `KUBESHIP_SECRET_<NAME>_*` credentials.
    pub secret_ref: Option<String>,
    /// `spec.timeout`.
    pub timeout: Option<Duration>,
}

impl Target {
    pub fn new(name: ImageName) -> Target {
        Target {
            name,
            insecure: false,
            secret_ref: None,
            timeout: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryErrorKind {
    /// No answer (connection, timeout, 429/5xx) after every retry.
    Unreachable,
    /// The registry refused the credentials, or wants some and none are configured.
    Unauthorized,
    /// The repository or tag does not exist.
    NotFound,
    /// Credentials are configured wrongly (half a pair, unreadable Docker config).
    Credentials,
    /// The registry answered something that is not the Distribution API.
    Protocol,
}

/// A registry failure, naming the registry and repository, and what to do.
#[derive(Clone, Debug, thiserror::Error)]
#[error("registry {registry}, repository {repository}: {message}")]
pub struct RegistryError {
    pub registry: String,
    pub repository: String,
    pub kind: RegistryErrorKind,
    pub message: String,
}

/// The registry client; cheap to share by reference between concurrent scans.
pub struct RegistryClient {
    http: reqwest::Client,
    options: RegistryOptions,
    credentials: Credentials,
    /// `Authorization` header values per registry + repository.
    auth: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn err(t: &Target, kind: RegistryErrorKind, message: impl Into<String>) -> RegistryError {
    RegistryError {
        registry: t.name.registry.clone(),
        repository: t.name.repository.clone(),
        kind,
        message: message.into(),
    }
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: HashMap<String, String>,
}

/// Parses `Bearer realm="https://auth",service="reg",scope="repository:a:pull"` or
/// `Basic realm="x"`.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = match header.split_once(char::is_whitespace) {
        Some((s, r)) => (s, r),
        None => (header, ""),
    };
    if scheme.is_empty() {
        return None;
    }
    let mut params = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ','))
            .collect::<String>()
            .trim()
            .to_ascii_lowercase();
        if key.is_empty() {
            break;
        }
        if chars.next_if_eq(&'=').is_none() {
            continue;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ','))
                .collect::<String>()
                .trim()
                .to_string();
        }
        params.insert(key, value);
    }
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}

/// The `rel="next"` target of a `Link` header, if any.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(LINK) {
        let Ok(text) = value.to_str() else { continue };
        let mut rest = text;
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('>') else { break };
            let target = &after[..end];
            let params_end = after[end + 1..]
                .find('<')
                .map_or(after.len(), |i| end + 1 + i);
            let params = &after[end + 1..params_end];
            let is_next = params.split(';').any(|p| {
                let p = p.trim().trim_end_matches(',').trim();
                p.strip_prefix("rel=")
                    .map(|v| v.trim_matches('"').split_whitespace().any(|r| r == "next"))
                    .unwrap_or(false)
            });
            if is_next {
                return Some(target.to_string());
            }
            rest = &after[params_end.min(after.len())..];
        }
    }
    None
}

fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(l) = last {
        text.push_str(": ");
        text.push_str(&l);
    }
    text
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || matches!(status.as_u16(), 500 | 502 | 503 | 504)
}

fn basic(c: &Credential) -> String {
    let raw = format!("{}:{}", c.username, c.password);
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
    crate::redact::register(&encoded);
    format!("Basic {encoded}")
}

/// Reads a short piece of an error body for messages.
async fn body_excerpt(resp: Response) -> String {
    let text = resp.text().await.unwrap_or_default();
    let text = text.trim();
    let cut: String = text.chars().take(200).collect();
    if cut.is_empty() {
        String::new()
    } else {
        format!(": {cut}")
    }
}

impl RegistryClient {
    /// A client with credentials from the process environment and Docker config.
    pub fn from_env(options: RegistryOptions) -> Result<RegistryClient, String> {
        RegistryClient::new(options, Credentials::from_env())
    }

    pub fn new(
        options: RegistryOptions,
        credentials: Credentials,
    ) -> Result<RegistryClient, String> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("kubeship/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(options.timeout.min(Duration::from_secs(15)))
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(RegistryClient {
            http,
            options: RegistryOptions {
                attempts: options.attempts.max(1),
                concurrency: options.concurrency.max(1),
                ..options
            },
            credentials,
            auth: Mutex::new(HashMap::new()),
        })
    }

    pub fn options(&self) -> &RegistryOptions {
        &self.options
    }

    /// Every tag of the repository, in the order the registry lists them.
    pub async fn list_tags(&self, t: &Target) -> Result<Vec<String>, RegistryError> {
        let first = format!("{}?n={PAGE_SIZE}", t.name.api_url(t.insecure, "tags/list"));
        let mut url = url::Url::parse(&first).map_err(|e| {
            err(
                t,
                RegistryErrorKind::Protocol,
                format!("bad URL {first}: {e}"),
            )
        })?;
        let mut tags = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            if !seen.insert(url.to_string()) {
                return Err(err(
                    t,
                    RegistryErrorKind::Protocol,
                    format!("the tag list pagination loops back to {url}"),
                ));
            }
            let resp = self.request(t, Method::GET, url.as_str(), None).await?;
            let status = resp.status();
            if status == StatusCode::NOT_FOUND {
                return Err(err(
                    t,
                    RegistryErrorKind::NotFound,
                    format!(
                        "the repository does not exist (HTTP 404{}); check spec.image",
                        body_excerpt(resp).await
                    ),
                ));
            }
            if !status.is_success() {
                return Err(err(
                    t,
                    RegistryErrorKind::Protocol,
                    format!(
                        "listing tags failed: HTTP {status}{}",
                        body_excerpt(resp).await
                    ),
                ));
            }
            let next = next_link(resp.headers());
            let body: serde_json::Value = resp.json().await.map_err(|e| {
                err(
                    t,
                    RegistryErrorKind::Protocol,
                    format!("the tag list at {url} is not JSON: {}", describe(&e)),
                )
            })?;
            match body.get("tags") {
                Some(serde_json::Value::Array(items)) => {
                    tags.extend(items.iter().filter_map(|v| v.as_str()).map(str::to_string))
                }
                Some(serde_json::Value::Null) | None => {}
                Some(_) => {
                    return Err(err(
                        t,
                        RegistryErrorKind::Protocol,
                        format!("the tag list at {url} has a `tags` field that is not a list"),
                    ));
                }
            }
            match next {
                None => return Ok(tags),
                Some(link) => {
                    url = url.join(&link).map_err(|e| {
                        err(
                            t,
                            RegistryErrorKind::Protocol,
                            format!("the Link header `{link}` is not a URL: {e}"),
                        )
                    })?;
                }
            }
        }
        Err(err(
            t,
            RegistryErrorKind::Protocol,
            format!("more than {MAX_PAGES} pages of tags; the registry's pagination looks broken"),
        ))
    }

    /// The digest (`sha256:...`) the registry serves for `tag`.
    pub async fn digest(&self, t: &Target, tag: &str) -> Result<String, RegistryError> {
        let url = t.name.api_url(t.insecure, &format!("manifests/{tag}"));
        let resp = self
            .request(t, Method::HEAD, &url, Some(MANIFEST_ACCEPT))
            .await?;
        let status = resp.status();
        if status.is_success()
            && let Some(d) = resp
                .headers()
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
                .filter(|d| d.contains(':'))
        {
            return Ok(d.to_string());
        }
        if status == StatusCode::NOT_FOUND {
            return Err(err(
                t,
                RegistryErrorKind::NotFound,
                format!("tag `{tag}` has no manifest (HTTP 404)"),
            ));
        }
        // No digest header (or HEAD not allowed): fetch the manifest and hash it.
        let resp = self
            .request(t, Method::GET, &url, Some(MANIFEST_ACCEPT))
            .await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(err(
                t,
                if status == StatusCode::NOT_FOUND {
                    RegistryErrorKind::NotFound
                } else {
                    RegistryErrorKind::Protocol
                },
                format!(
                    "reading the manifest of tag `{tag}` failed: HTTP {status}{}",
                    body_excerpt(resp).await
                ),
            ));
        }
        if let Some(d) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .filter(|d| d.contains(':'))
        {
            return Ok(d.to_string());
        }
        let bytes = resp.bytes().await.map_err(|e| {
            err(
                t,
                RegistryErrorKind::Unreachable,
                format!(
                    "reading the manifest of tag `{tag}` failed: {}",
                    describe(&e)
                ),
            )
        })?;
        Ok(format!("sha256:{:x}", sha2::Sha256::digest(&bytes)))
    }

    fn cache_key(t: &Target) -> String {
        format!(
            "{}/{}#{}",
            t.name.registry,
            t.name.repository,
            t.secret_ref.as_deref().unwrap_or("")
        )
    }

    /// Sends a request, answering one authentication challenge.
    async fn request(
        &self,
        t: &Target,
        method: Method,
        url: &str,
        accept: Option<&str>,
    ) -> Result<Response, RegistryError> {
        let key = Self::cache_key(t);
        let mut authorization = self.auth.lock().ok().and_then(|m| m.get(&key).cloned());
        let mut answered = false;
        loop {
            let resp = self
                .send(
                    t,
                    method.clone(),
                    url,
                    accept,
                    authorization.as_deref(),
                    None,
                )
                .await?;
            if resp.status() != StatusCode::UNAUTHORIZED {
                return Ok(resp);
            }
            if answered {
                return Err(
                    self.refused(t, "the registry still answers 401 with the token it issued")
                );
            }
            answered = true;
            let header = resp
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let value = self.authorize(t, &header).await?;
            if let Ok(mut m) = self.auth.lock() {
                m.insert(key.clone(), value.clone());
            }
            authorization = Some(value);
        }
    }

    fn credential(&self, t: &Target) -> Result<Option<Credential>, RegistryError> {
        self.credentials
            .lookup(&t.name.registry, t.secret_ref.as_deref())
            .map_err(|m| err(t, RegistryErrorKind::Credentials, m))
    }

    fn refused(&self, t: &Target, what: &str) -> RegistryError {
        let hint = match self.credential(t) {
            Ok(Some(c)) => format!(
                "the credentials from {} were refused; check them and their pull permission",
                c.source
            ),
            Ok(None) => format!(
                "no credentials are configured for {}; set KUBESHIP_REGISTRY_{}_USERNAME and _PASSWORD, or log in with `docker login` (docs/images.md)",
                t.name.registry,
                super::reference::env_key(&t.name.registry)
            ),
            Err(e) => e.message,
        };
        err(
            t,
            RegistryErrorKind::Unauthorized,
            format!("{what}: {hint}"),
        )
    }

    /// Answers a `WWW-Authenticate` challenge with an `Authorization` header value.
    async fn authorize(&self, t: &Target, header: &str) -> Result<String, RegistryError> {
        let challenge = parse_challenge(header).ok_or_else(|| {
            err(
                t,
                RegistryErrorKind::Protocol,
                "the registry answered 401 without a WWW-Authenticate challenge",
            )
        })?;
        let credential = self.credential(t)?;
        match challenge.scheme.as_str() {
            "basic" => match credential {
                Some(c) => Ok(basic(&c)),
                None => Err(self.refused(t, "the registry requires a login")),
            },
            "bearer" => {
                let realm = challenge.params.get("realm").ok_or_else(|| {
                    err(
                        t,
                        RegistryErrorKind::Protocol,
                        "the Bearer challenge has no realm (token endpoint)",
                    )
                })?;
                let mut url = url::Url::parse(realm).map_err(|e| {
                    err(
                        t,
                        RegistryErrorKind::Protocol,
                        format!("the token endpoint `{realm}` is not a URL: {e}"),
                    )
                })?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(err(
                        t,
                        RegistryErrorKind::Protocol,
                        format!("the token endpoint `{realm}` is not http(s)"),
                    ));
                }
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(service) = challenge.params.get("service") {
                        q.append_pair("service", service);
                    }
                    let default_scope = format!("repository:{}:pull", t.name.repository);
                    let scope = challenge.params.get("scope").unwrap_or(&default_scope);
                    q.append_pair("scope", scope);
                }
                let auth = credential.as_ref().map(basic);
                let resp = self
                    .send(
                        t,
                        Method::GET,
                        url.as_str(),
                        None,
                        auth.as_deref(),
                        Some(url.as_str()),
                    )
                    .await?;
                let status = resp.status();
                if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                    return Err(
                        self.refused(t, &format!("the token endpoint answered HTTP {status}"))
                    );
                }
                if !status.is_success() {
                    return Err(err(
                        t,
                        RegistryErrorKind::Protocol,
                        format!(
                            "the token endpoint answered HTTP {status}{}",
                            body_excerpt(resp).await
                        ),
                    ));
                }
                let body: serde_json::Value = resp.json().await.map_err(|e| {
                    err(
                        t,
                        RegistryErrorKind::Protocol,
                        format!(
                            "the token endpoint answered something that is not JSON: {}",
                            describe(&e)
                        ),
                    )
                })?;
                let token = body
                    .get("token")
                    .or_else(|| body.get("access_token"))
                    .and_then(|v| v.as_str())
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| {
                        err(
                            t,
                            RegistryErrorKind::Protocol,
                            "the token endpoint's answer has no `token`",
                        )
                    })?;
                crate::redact::register(token);
                Ok(format!("Bearer {token}"))
            }
            other => Err(err(
                t,
                RegistryErrorKind::Protocol,
                format!("unsupported authentication scheme `{other}`"),
            )),
        }
    }

    /// Sends one request with retries on connection errors, timeouts, 429 and 5xx.
    async fn send(
        &self,
        t: &Target,
        method: Method,
        url: &str,
        accept: Option<&str>,
        authorization: Option<&str>,
        what: Option<&str>,
    ) -> Result<Response, RegistryError> {
        let timeout = t.timeout.unwrap_or(self.options.timeout);
        let mut last = String::new();
        let mut wait = self.options.backoff;
        for attempt in 0..self.options.attempts {
            if attempt > 0 {
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
            }
            let mut rb = self.http.request(method.clone(), url).timeout(timeout);
            if let Some(a) = accept {
                rb = rb.header(ACCEPT, a);
            }
            if let Some(a) = authorization {
                rb = rb.header(AUTHORIZATION, a);
            }
            match rb.send().await {
                Ok(resp) if is_retryable(resp.status()) => {
                    last = format!("HTTP {}", resp.status());
                    if let Some(after) = retry_after(resp.headers()) {
                        wait = wait.max(after);
                    }
                }
                Ok(resp) => return Ok(resp),
                Err(e) if e.is_builder() => {
                    return Err(err(
                        t,
                        RegistryErrorKind::Protocol,
                        format!("cannot request {url}: {}", describe(&e)),
                    ));
                }
                Err(e) => last = describe(&e),
            }
        }
        let target = what.unwrap_or(url);
        Err(err(
            t,
            RegistryErrorKind::Unreachable,
            format!(
                "{target}: no answer after {} attempts ({last}); check the host in spec.image and that the registry is reachable from this runner",
                self.options.attempts
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.docker.io/token");
        assert_eq!(c.params["service"], "registry.docker.io");
        assert_eq!(c.params["scope"], "repository:library/nginx:pull,push");
        let b = parse_challenge(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(b.scheme, "basic");
        assert_eq!(b.params["realm"], "Registry Realm");
        assert_eq!(parse_challenge("Bearer").unwrap().params.len(), 0);
        assert!(parse_challenge("").is_none());
    }

    #[test]
    fn link_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            LINK,
            r#"</v2/team/app/tags/list?n=2&last=b>; rel="next""#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("/v2/team/app/tags/list?n=2&last=b")
        );
        let mut h = HeaderMap::new();
        h.insert(
            LINK,
            r#"<https://r/v2/a/tags/list?last=a>; rel="prev", <https://r/v2/a/tags/list?last=z>; rel=next"#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://r/v2/a/tags/list?last=z")
        );
        assert_eq!(next_link(&HeaderMap::new()), None);
    }
}
