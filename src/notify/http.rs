//! One HTTP transport for GitLab, GitHub and webhooks: timeouts, bounded retries, rate limits.
//!
//! Owns: the reqwest client (rustls, no redirects, a user agent), the retry loop (connection
//! failures, timeouts and 5xx retried with exponential backoff; 429, and GitHub's 403
//! rate-limit answers, honor `Retry-After` / `X-RateLimit-Reset` up to a cap), and turning
//! answers and transport failures into redacted [`NotifyError`]s without the URL.
//! Must not: know any API's paths or payloads; log or print.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use url::Url;

use super::NotifyError;

/// How hard to try. The default suits CI jobs: 4 attempts, backoff 1s, 2s, 4s (capped at 20s),
/// `Retry-After` honored up to 60s, 10s to connect and 30s per request.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (at least 1).
    pub attempts: u32,
    /// Delay before the second attempt; doubled after each further failure.
    pub base_delay: Duration,
    /// Longest backoff delay.
    pub max_delay: Duration,
    /// Longest `Retry-After` kubeship waits for; a longer one fails the request at once.
    pub max_retry_after: Duration,
    pub connect_timeout: Duration,
    /// Limit for one request, its answer included.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Short delays and timeouts, for tests against local fakes.
    pub fn fast() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Answers larger than this are refused (a comment page of 100 GitHub comments is ~7 MB).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// The HTTP transport. Cheap to clone; build one per run.
#[derive(Clone, Debug)]
pub struct Http {
    client: reqwest::Client,
    policy: RetryPolicy,
}

impl Http {
    /// A transport with the default [`RetryPolicy`].
    pub fn new() -> Result<Http, NotifyError> {
        Http::with_policy(RetryPolicy::default())
    }

    pub fn with_policy(policy: RetryPolicy) -> Result<Http, NotifyError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("kubeship/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.request_timeout)
            // A redirect could carry PRIVATE-TOKEN to another host: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                NotifyError::new(format!(
                    "cannot set up HTTPS: {}; check the CA certificates of the image",
                    describe(e)
                ))
            })?;
        Ok(Http {
            client,
            policy: RetryPolicy {
                attempts: policy.attempts.max(1),
                ..policy
            },
        })
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Sends `req`, retrying as the policy says. Returns every answer that is not a retryable
    /// failure (2xx, 3xx, 4xx other than rate limits); 5xx and rate limits that outlast the
    /// retries are errors.
    pub(crate) async fn send(&self, req: &Req) -> Result<Resp, NotifyError> {
        let mut attempt = 1u32;
        loop {
            let last = attempt >= self.policy.attempts;
            let mut builder = self.client.request(req.method.clone(), req.url.clone());
            for (name, value) in &req.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            if let Some(body) = &req.body {
                builder = builder
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let wait = match builder.send().await {
                Err(e) => {
                    let retryable = e.is_connect() || e.is_timeout() || e.is_request();
                    let msg = describe(e);
                    if last || !retryable {
                        return Err(NotifyError::new(format!(
                            "{}: {msg} ({attempt} attempt{}); check that the address is right and reachable from the CI runner",
                            req.what,
                            if attempt == 1 { "" } else { "s" }
                        )));
                    }
                    self.policy.backoff(attempt)
                }
                Ok(answer) => {
                    let resp = Resp::read(answer, &req.what).await?;
                    if let Some(wait) = rate_limit_wait(&resp, &self.policy, attempt) {
                        if wait > self.policy.max_retry_after {
                            return Err(NotifyError::with_status(
                                format!(
                                    "{}: rate limited (HTTP {}), and asked to wait {}s, longer than kubeship waits ({}s); try again later",
                                    req.what,
                                    resp.status,
                                    wait.as_secs(),
                                    self.policy.max_retry_after.as_secs()
                                ),
                                resp.status,
                            ));
                        }
                        if last {
                            return Err(NotifyError::with_status(
                                format!(
                                    "{}: still rate limited (HTTP {}) after {attempt} attempts; try again later",
                                    req.what, resp.status
                                ),
                                resp.status,
                            ));
                        }
                        wait
                    } else if resp.status >= 500 {
                        if last {
                            return Err(resp.error(
                                &req.what,
                                &format!(
                                    "the service kept failing ({attempt} attempts); try again later"
                                ),
                            ));
                        }
                        self.policy.backoff(attempt)
                    } else {
                        return Ok(resp);
                    }
                }
            };
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

/// How long a rate-limited answer asks us to wait, or `None` when it is no rate limit.
fn rate_limit_wait(resp: &Resp, policy: &RetryPolicy, attempt: u32) -> Option<Duration> {
    let retry_after = resp.header("retry-after").and_then(parse_retry_after);
    match resp.status {
        429 => Some(retry_after.unwrap_or_else(|| policy.backoff(attempt))),
        // GitHub answers 403 for primary and secondary rate limits.
        403 => {
            if retry_after.is_some() {
                return retry_after;
            }
            if resp.header("x-ratelimit-remaining") == Some("0") {
                let reset = resp
                    .header("x-ratelimit-reset")
                    .and_then(|r| r.trim().parse::<i64>().ok())?;
                let now = jiff::Timestamp::now().as_second();
                return Some(Duration::from_secs(reset.saturating_sub(now).max(1) as u64));
            }
            None
        }
        _ => None,
    }
}

/// `Retry-After`: delay-seconds or an HTTP-date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(v)
        .ok()?;
    let now = jiff::Timestamp::now();
    let ms = at.as_millisecond() - now.as_millisecond();
    Some(Duration::from_millis(ms.max(0) as u64))
}

/// A reqwest error without its URL, with its causes, redacted.
pub(crate) fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    crate::redact::redact(&msg)
}

/// One request: what it is for (named in every error), and what to send.
#[derive(Clone)]
pub(crate) struct Req {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub what: String,
}

/// Never shows the URL (a webhook's secret) or the headers (tokens).
impl std::fmt::Debug for Req {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Req")
            .field("method", &self.method)
            .field("what", &self.what)
            .finish_non_exhaustive()
    }
}

impl Req {
    pub fn new(method: Method, url: Url, what: impl Into<String>) -> Req {
        Req {
            method,
            url,
            headers: Vec::new(),
            body: None,
            what: what.into(),
        }
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Req {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn headers(mut self, headers: &[(String, String)]) -> Req {
        self.headers.extend(headers.iter().cloned());
        self
    }

    pub fn json(mut self, body: &serde_json::Value) -> Req {
        self.body = Some(body.to_string().into_bytes());
        self
    }

    pub fn raw_json(mut self, body: Vec<u8>) -> Req {
        self.body = Some(body);
        self
    }
}

/// An answer, read whole.
#[derive(Debug)]
pub(crate) struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    async fn read(mut answer: reqwest::Response, what: &str) -> Result<Resp, NotifyError> {
        let status = answer.status().as_u16();
        let headers = answer.headers().clone();
        let mut body = Vec::new();
        loop {
            match answer.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_BODY {
                        return Err(NotifyError::with_status(
                            format!(
                                "{what}: the answer is larger than {} MiB; is the API address right?",
                                MAX_BODY / 1024 / 1024
                            ),
                            status,
                        ));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(NotifyError::with_status(
                        format!("{what}: reading the answer failed: {}", describe(e)),
                        status,
                    ));
                }
            }
        }
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, NotifyError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            NotifyError::with_status(
                format!("{what}: unexpected answer ({e}); is the API address right?"),
                self.status,
            )
        })
    }

    /// The remote's own explanation, short and on one line.
    pub fn remote_message(&self) -> String {
        let from_json = serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| {
                ["message", "error_description", "error"]
                    .iter()
                    .find_map(|k| v.get(*k).filter(|m| !m.is_null()).cloned())
            })
            .map(|m| match m {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            });
        let text = from_json.unwrap_or_else(|| String::from_utf8_lossy(&self.body).into_owned());
        let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let short = super::truncate_chars(&one_line, 200);
        if short.len() < one_line.len() {
            format!("{short}…")
        } else {
            short.to_string()
        }
    }

    /// An error naming what failed, the status, the remote's message and what to do.
    pub fn error(&self, what: &str, hint: &str) -> NotifyError {
        let remote = self.remote_message();
        let remote = if remote.is_empty() {
            String::new()
        } else {
            format!(": {remote}")
        };
        let hint = if hint.is_empty() {
            String::new()
        } else {
            format!("; {hint}")
        };
        NotifyError::with_status(
            format!("{what}: HTTP {}{remote}{hint}", self.status),
            self.status,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("1.5"), Some(Duration::from_millis(1500)));
        // A date in the past means now.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let later = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(30);
        let text = jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&later)
            .unwrap();
        let d = parse_retry_after(&text).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1), Duration::from_secs(1));
        assert_eq!(p.backoff(2), Duration::from_secs(2));
        assert_eq!(p.backoff(3), Duration::from_secs(4));
        assert_eq!(p.backoff(30), Duration::from_secs(20));
    }

    #[test]
    fn remote_message_is_short() {
        let r = Resp {
            status: 403,
            headers: HeaderMap::new(),
            body: br#"{"message":"Resource not accessible by integration"}"#.to_vec(),
        };
        assert_eq!(r.remote_message(), "Resource not accessible by integration");
        assert_eq!(
            r.error("GitHub: creating a comment", "do this").to_string(),
            "GitHub: creating a comment: HTTP 403: Resource not accessible by integration; do this"
        );
        let r = Resp {
            status: 500,
            headers: HeaderMap::new(),
            body: "x".repeat(500).into_bytes(),
        };
        assert_eq!(r.remote_message().chars().count(), 201);
    }
}
