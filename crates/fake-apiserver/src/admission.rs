//! Simulated validating admission webhooks. A rule sees each create, update and delete
//! (dry-run included, as webhooks with `sideEffects: None` do) and may deny it; a denial
//! becomes the Status the real API server builds from a webhook response:
//! `admission webhook "validate.example.com" denied the request: <message>`, code 403 by
//! default. The built-in rule denies objects labelled or annotated `fake-apiserver/reject`.
//! Owns the rule types; the list of active rules lives in the world.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::status::ApiError;

/// The label or annotation that makes the built-in rule deny an object; its value is the message.
pub const REJECT_KEY: &str = "fake-apiserver/reject";
/// The webhook name used by the built-in rule and by [`Denial::new`].
pub const DEFAULT_WEBHOOK: &str = "validate.example.com";

/// Which operation is being admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

/// What an admission rule is shown.
#[derive(Debug)]
pub struct AdmissionRequest<'a> {
    pub operation: Operation,
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    /// Plural resource name (`deployments`).
    pub resource: &'a str,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
    /// The object after defaulting (for Delete: the stored object).
    pub object: &'a Value,
    pub old_object: Option<&'a Value>,
    pub dry_run: bool,
}

/// A webhook's refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub webhook: String,
    pub message: String,
    /// HTTP code of the response; below 400 is turned into 403, as the real server does.
    pub code: u16,
}

impl Denial {
    /// A denial by `validate.example.com` with code 403.
    pub fn new(message: impl Into<String>) -> Self {
        Denial {
            webhook: DEFAULT_WEBHOOK.to_string(),
            message: message.into(),
            code: 403,
        }
    }

    pub fn with_webhook(mut self, webhook: impl Into<String>) -> Self {
        self.webhook = webhook.into();
        self
    }

    pub fn with_code(mut self, code: u16) -> Self {
        self.code = code;
        self
    }

    pub(crate) fn to_error(&self, group: &str, plural: &str, name: &str) -> ApiError {
        let code = if self.code < 400 { 403 } else { self.code };
        let reason = match code {
            400 => "BadRequest",
            403 => "Forbidden",
            422 => "Invalid",
            _ => "Forbidden",
        };
        let message = if self.message.is_empty() {
            format!(
                "admission webhook {:?} denied the request without explanation",
                self.webhook
            )
        } else {
            format!(
                "admission webhook {:?} denied the request: {}",
                self.webhook, self.message
            )
        };
        let mut details = serde_json::Map::new();
        details.insert("name".into(), json!(name));
        if !group.is_empty() {
            details.insert("group".into(), json!(group));
        }
        details.insert("kind".into(), json!(plural));
        ApiError::new(code, reason, message).with_details(Value::Object(details))
    }
}

/// A pluggable admission rule: return `Some(Denial)` to refuse the request.
pub type AdmissionRule = Arc<dyn Fn(&AdmissionRequest<'_>) -> Option<Denial> + Send + Sync>;

/// The built-in rule: deny objects labelled or annotated `fake-apiserver/reject: "<message>"`.
pub fn reject_marker_rule() -> AdmissionRule {
    Arc::new(|req: &AdmissionRequest<'_>| {
        if req.operation == Operation::Delete {
            return None;
        }
        for field in ["labels", "annotations"] {
            if let Some(msg) = req
                .object
                .get("metadata")
                .and_then(|m| m.get(field))
                .and_then(|l| l.get(REJECT_KEY))
            {
                let msg = msg.as_str().unwrap_or("rejected").to_string();
                return Some(Denial::new(msg));
            }
        }
        None
    })
}
