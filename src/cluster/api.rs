//! Requests to the API server: JSON in, JSON out, retried the way a CI job needs.
//!
//! Owns: building request URLs for a resource, sending them through kube's client (which
//! handles kubeconfig auth, exec plugins and TLS), bounded retries with exponential backoff on
//! 429, 5xx and connection errors honoring `Retry-After` (kube's own retry is switched off),
//! a concurrency limit, and turning `Status` errors into [`ApiError`].
//! Must not: decide what to apply or interpret objects.

use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, StatusCode};
use kube::client::Body;
use serde_json::Value as Json;
use tokio::sync::Semaphore;

/// An error answer (or no answer) from the API server, after retries.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// HTTP status, or 0 when no response arrived.
    pub code: u16,
    /// The Status `reason` (NotFound, AlreadyExists, Conflict, Invalid, Forbidden, ...).
    pub reason: String,
    pub message: String,
}

impl ApiError {
    pub fn is_not_found(&self) -> bool {
        self.code == 404
    }

    pub fn is_conflict(&self) -> bool {
        self.code == 409
    }

    /// No answer or a server-side failure: the cluster, not the object, is the problem.
    pub fn is_unavailable(&self) -> bool {
        self.code == 0 || self.code == 429 || self.code >= 500
    }
}

/// Retry policy for one client.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            base: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
        }
    }
}

#[derive(Clone)]
pub struct Api {
    client: kube::Client,
    limit: Arc<Semaphore>,
    retry: RetryPolicy,
}

pub const APPLY_PATCH: &str = "application/apply-patch+yaml";
pub const MERGE_PATCH: &str = "application/merge-patch+json";

impl Api {
    pub fn new(client: kube::Client, concurrency: usize, retry: RetryPolicy) -> Api {
        Api {
            client,
            limit: Arc::new(Semaphore::new(concurrency.max(1))),
            retry,
        }
    }

    pub async fn get(&self, path: &str) -> Result<Json, ApiError> {
        self.call(Method::GET, path, None, None).await
    }

    pub async fn delete(&self, path: &str, body: Option<&Json>) -> Result<Json, ApiError> {
        let body = body.map(|b| b.to_string().into_bytes());
        self.call(Method::DELETE, path, body, Some("application/json"))
            .await
    }

    pub async fn post(&self, path: &str, body: &Json) -> Result<Json, ApiError> {
        self.call(
            Method::POST,
            path,
            Some(body.to_string().into_bytes()),
            Some("application/json"),
        )
        .await
    }

    pub async fn put(&self, path: &str, body: &Json) -> Result<Json, ApiError> {
        self.call(
            Method::PUT,
            path,
            Some(body.to_string().into_bytes()),
            Some("application/json"),
        )
        .await
    }

    pub async fn patch(
        &self,
        path: &str,
        content_type: &str,
        body: &Json,
    ) -> Result<Json, ApiError> {
        self.call(
            Method::PATCH,
            path,
            Some(body.to_string().into_bytes()),
            Some(content_type),
        )
        .await
    }

    /// All items of a collection (optionally filtered by a label selector), page by page;
    /// items get the list's apiVersion and kind when the server leaves them out.
    pub async fn list_all(
        &self,
        collection: &str,
        label_selector: Option<&str>,
    ) -> Result<Vec<Json>, ApiError> {
        let selector = label_selector.map_or(String::new(), |s| {
            format!("&labelSelector={}", query_escape(s))
        });
        let mut items = Vec::new();
        let mut cont: Option<String> = None;
        loop {
            let url = match &cont {
                Some(c) => format!(
                    "{collection}?limit=500{selector}&continue={}",
                    query_escape(c)
                ),
                None => format!("{collection}?limit=500{selector}"),
            };
            let page = self.get(&url).await?;
            let api_version = page
                .get("apiVersion")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string();
            let kind = page
                .get("kind")
                .and_then(Json::as_str)
                .unwrap_or("")
                .trim_end_matches("List")
                .to_string();
            for mut item in page
                .get("items")
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default()
            {
                if let Some(m) = item.as_object_mut() {
                    m.entry("apiVersion")
                        .or_insert_with(|| Json::String(api_version.clone()));
                    m.entry("kind")
                        .or_insert_with(|| Json::String(kind.clone()));
                }
                items.push(item);
            }
            cont = page
                .pointer("/metadata/continue")
                .and_then(Json::as_str)
                .filter(|c| !c.is_empty())
                .map(str::to_string);
            if cont.is_none() {
                return Ok(items);
            }
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        content_type: Option<&str>,
    ) -> Result<Json, ApiError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = {
                let _permit = self.limit.acquire().await.map_err(|_| ApiError {
                    code: 0,
                    reason: "Shutdown".into(),
                    message: "request limiter closed".into(),
                })?;
                self.once(&method, path, body.clone(), content_type).await
            };
            match outcome {
                Ok(v) => return Ok(v),
                Err((err, retry_after)) => {
                    if !err.is_unavailable() || attempt >= self.retry.attempts {
                        return Err(err);
                    }
                    let backoff = self
                        .retry
                        .base
                        .saturating_mul(1 << (attempt - 1).min(8))
                        .min(self.retry.max_delay);
                    let wait = retry_after.map_or(backoff, |r| r.min(Duration::from_secs(60)));
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn once(
        &self,
        method: &Method,
        path: &str,
        body: Option<Vec<u8>>,
        content_type: Option<&str>,
    ) -> Result<Json, (ApiError, Option<Duration>)> {
        let mut req = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("Accept", "application/json");
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        let req = req
            .body(Body::from(body.unwrap_or_default()))
            .map_err(|e| (local_error(format!("bad request for {path}: {e}")), None))?;
        let res = match self.client.send(req).await {
            Ok(r) => r,
            Err(e) => {
                return Err((
                    ApiError {
                        code: 0,
                        reason: "Unreachable".into(),
                        message: format!(
                            "no answer from the API server: {}",
                            crate::redact::redact(&e.to_string())
                        ),
                    },
                    None,
                ));
            }
        };
        let status = res.status();
        let retry_after = res
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = res.into_body().collect_bytes().await.map_err(|e| {
            (
                ApiError {
                    code: 0,
                    reason: "Unreachable".into(),
                    message: format!("connection lost while reading the answer: {e}"),
                },
                None,
            )
        })?;
        if status.is_success() {
            if bytes.is_empty() {
                return Ok(Json::Null);
            }
            return serde_json::from_slice(&bytes).map_err(|e| {
                (
                    local_error(format!("unreadable answer from {path}: {e}")),
                    None,
                )
            });
        }
        Err((status_error(status, &bytes), retry_after))
    }
}

fn local_error(message: String) -> ApiError {
    ApiError {
        code: 0,
        reason: "ClientError".into(),
        message,
    }
}

fn status_error(status: StatusCode, body: &[u8]) -> ApiError {
    let parsed: Option<Json> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|j| j.get("message"))
        .and_then(Json::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                status.canonical_reason().unwrap_or("error").to_string()
            } else {
                text.chars().take(500).collect()
            }
        });
    let reason = parsed
        .as_ref()
        .and_then(|j| j.get("reason"))
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string();
    ApiError {
        code: status.as_u16(),
        reason,
        message,
    }
}

/// Percent-encodes a query value.
pub fn query_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
