//! Sending an [`Event`] to the providers an environment names (`notify: [..]` in
//! kubeship.yaml): Slack, Teams, generic webhooks.
//!
//! Owns: looking each provider up, the `severity` filter (`error` sends only failures, like
//! a Flux Alert), reading the webhook URL (and signing secret) from the variables the
//! provider names (registered as secrets at once), posting them concurrently, and turning
//! every problem into a [`Warning`] that names the provider and the variable, never the URL.
//! Must not: fail: a notification that cannot be sent is a warning, never a failed deploy.

use indexmap::IndexMap;
use reqwest::Method;
use url::Url;

use super::env::CiEnv;
use super::event::Event;
use super::http::{Http, Req};
use super::{Warning, generic, msteams, slack};
use crate::settings::{NotificationConfig, ProviderType, Severity};

/// Sends `event` to each provider in `names` (from `notifications`), concurrently. Returns
/// one warning per provider that could not be reached or is misconfigured; an empty list
/// means every provider that wanted this event got it.
pub async fn send(
    http: &Http,
    ci: &CiEnv,
    notifications: &IndexMap<String, NotificationConfig>,
    names: &[String],
    event: &Event,
) -> Vec<Warning> {
    let sends = names.iter().map(|name| async move {
        match notifications.get(name) {
            None => Some(Warning::new(format!(
                "notification `{name}` is not defined under `notifications:` in kubeship.yaml; nothing was sent to it"
            ))),
            Some(cfg) => send_one(http, ci, name, cfg, event).await.err(),
        }
    });
    futures::future::join_all(sends)
        .await
        .into_iter()
        .flatten()
        .collect()
}

fn kind_name(kind: ProviderType) -> &'static str {
    match kind {
        ProviderType::Slack => "slack",
        ProviderType::Msteams => "msteams",
        ProviderType::Generic => "generic",
    }
}

async fn send_one(
    http: &Http,
    ci: &CiEnv,
    name: &str,
    cfg: &NotificationConfig,
    event: &Event,
) -> Result<(), Warning> {
    if cfg.severity == Severity::Error && !event.is_failure() {
        return Ok(());
    }
    let what = format!("notification `{name}` ({})", kind_name(cfg.kind));
    let var = cfg.webhook_env.as_str();
    let Some(raw) = ci.secret(var) else {
        return Err(Warning::new(format!(
            "{what}: the variable {var} is not set, so nothing was sent; set it to the webhook URL as a masked CI/CD variable (GitLab) or a secret passed as env (GitHub)"
        )));
    };
    let url = Url::parse(&raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    let Some(url) = url else {
        return Err(Warning::new(format!(
            "{what}: {var} does not hold an http(s) URL; set it to the webhook URL"
        )));
    };
    // The path (and query) of a webhook is its secret: hide it even when shown alone (unless
    // it is too short to be one, like `/hook`, which would hide common words instead).
    let secret_part = &url[url::Position::BeforePath..];
    if secret_part.len() >= 12 {
        crate::redact::register(secret_part);
    }

    let body = match cfg.kind {
        ProviderType::Slack => slack::payload(event),
        ProviderType::Msteams => msteams::payload(event),
        ProviderType::Generic => generic::payload(event),
    };
    let body = body.to_string().into_bytes();
    let mut req = Req::new(Method::POST, url, what.clone());
    if cfg.kind == ProviderType::Generic {
        for (k, v) in &cfg.headers {
            if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err()
                || reqwest::header::HeaderValue::from_str(v).is_err()
            {
                return Err(Warning::new(format!(
                    "{what}: header `{k}` in kubeship.yaml is not a valid HTTP header; nothing was sent"
                )));
            }
        }
        req = req.headers(
            &cfg.headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>(),
        );
        if let Some(secret_var) = &cfg.secret_env {
            let Some(secret) = ci.secret(secret_var) else {
                return Err(Warning::new(format!(
                    "{what}: the signing secret variable {secret_var} (secretEnv) is not set, so nothing was sent; set it, or remove secretEnv"
                )));
            };
            req = req.header("X-Signature", generic::signature(secret.as_bytes(), &body));
        }
    }
    let req = req.raw_json(body);
    let resp = http.send(&req).await.map_err(Warning::new)?;
    if resp.ok() {
        return Ok(());
    }
    let hint = match resp.status {
        400 | 422 => "the receiver did not accept the payload".to_string(),
        301..=308 => format!("the webhook URL in {var} redirects; set it to the final URL"),
        401 | 403 | 404 | 410 => format!(
            "check the webhook URL in {var}: it may be wrong, revoked, or its channel archived"
        ),
        _ => String::new(),
    };
    Err(Warning::new(resp.error(&what, &hint)))
}
