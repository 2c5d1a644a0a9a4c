//! Merge-request comments, job summaries, Slack/Teams/webhook notifications and change
//! requests: the CI face of kubeship.
//!
//! Owns: talking to GitLab, GitHub and webhook receivers over HTTP (timeouts, bounded retries,
//! `Retry-After`), reading the CI variables that say where to talk (through [`CiEnv`], never
//! the process environment directly), the payload shapes (Slack Block Kit, Teams Adaptive
//! Card, generic JSON with HMAC signature), the sticky-comment protocol (one comment per
//! environment, found by a hidden marker), the GitHub job summary and step outputs.
//! Must not: decide anything (whether to comment, what the diff says, exit codes), render
//! Markdown of a report, print, or let a token, signing secret or webhook URL reach any
//! message: every secret it reads is registered with [`crate::redact`] at once, and every
//! error it builds is redacted.
//!
//! Every network function is `async`; commands run them on a tokio runtime. A failure here is
//! for the caller to show as a warning: nothing in this module should fail a deploy.

mod change_request;
mod comment;
mod env;
mod event;
mod generic;
pub mod github;
mod gitlab;
mod http;
mod msteams;
mod slack;
mod webhook;

pub use change_request::{ChangeRequest, ChangeRequestOutcome, open_or_update_change_request};
pub use comment::{
    CommentOutcome, CommentTarget, GITHUB_COMMENT_BUDGET, GITLAB_COMMENT_BUDGET, Skip, marker,
    post_sticky,
};
pub use env::{CiEnv, Platform};
pub use event::{Change, CommitInfo, Counts, Event, EventKind, ObjectNote};
pub use github::{SummaryOutcome, append_job_summary, write_outputs};
pub use http::{Http, RetryPolicy};
pub use webhook::send;

/// Payload builders, public so that their shapes can be checked and documented.
pub mod payload {
    pub use super::generic::payload as generic;
    pub use super::msteams::payload as msteams;
    pub use super::slack::payload as slack;
    pub use super::slack::{MAX_BLOCKS as SLACK_MAX_BLOCKS, MAX_SECTION_TEXT as SLACK_MAX_TEXT};
}

use std::fmt;

/// A failure to reach or use GitLab, GitHub or a webhook. The message is already redacted and
/// says what failed and what to do.
#[derive(Clone, Debug)]
pub struct NotifyError {
    message: String,
    status: Option<u16>,
}

impl NotifyError {
    pub(crate) fn new(message: impl fmt::Display) -> NotifyError {
        NotifyError {
            message: crate::redact::redact(&message.to_string()),
            status: None,
        }
    }

    pub(crate) fn with_status(message: impl fmt::Display, status: u16) -> NotifyError {
        NotifyError {
            status: Some(status),
            ..NotifyError::new(message)
        }
    }

    /// The HTTP status the remote answered with, when the failure was an answer.
    pub fn status(&self) -> Option<u16> {
        self.status
    }
}

impl fmt::Display for NotifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NotifyError {}

/// Something the caller should show as a warning (a notification that could not be sent).
/// The message is already redacted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub message: String,
}

impl Warning {
    pub(crate) fn new(message: impl fmt::Display) -> Warning {
        Warning {
            message: crate::redact::redact(&message.to_string()),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Cuts `text` to at most `max` characters, on a character boundary.
pub(crate) fn truncate_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// Cuts `text` to at most `max` bytes, on a character boundary.
pub(crate) fn truncate_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate_chars("héllo", 2), "hé");
        assert_eq!(truncate_chars("abc", 10), "abc");
        assert_eq!(truncate_bytes("héllo", 2), "h");
        assert_eq!(truncate_bytes("héllo", 3), "hé");
    }

    #[test]
    fn errors_are_redacted_when_built() {
        crate::redact::register("sekret-token-for-notify-error");
        let e = NotifyError::new("failed with sekret-token-for-notify-error inside");
        assert!(!e.to_string().contains("sekret"), "{e}");
        let w = Warning::new("x https://hooks.slack.com/services/T/B/C y");
        assert_eq!(w.message, "x [REDACTED] y");
    }
}
