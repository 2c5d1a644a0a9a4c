//! Keeping secrets out of every output.
//!
//! Owns: a process-wide list of secret values (tokens, webhook URLs, signing keys) registered
//! as soon as they are read, and [`redact`], which replaces each of them, and anything that
//! looks like a Slack/Teams webhook or a bearer token, with `[REDACTED]`.
//! Must not: print; callers print what this returns.

use std::sync::{Mutex, OnceLock};

fn secrets() -> &'static Mutex<Vec<String>> {
    static SECRETS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Registers a secret value so that no output ever shows it.
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.len() < 4 {
        return;
    }
    if let Ok(mut s) = secrets().lock()
        && !s.iter().any(|x| x == secret)
    {
        s.push(secret.to_string());
        s.sort_by_key(|x| std::cmp::Reverse(x.len()));
    }
}

pub const MARK: &str = "[REDACTED]";

/// Replaces every registered secret and every webhook-shaped URL in `text`.
pub fn redact(text: &str) -> String {
    let mut out = text.to_string();
    if let Ok(s) = secrets().lock() {
        for secret in s.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MARK);
            }
        }
    }
    for prefix in [
        "https://hooks.slack.com/",
        "https://hooks.slack-gov.com/",
        ".webhook.office.com/",
        "https://discord.com/api/webhooks/",
    ] {
        while let Some(i) = out.find(prefix) {
            let end = out[i..]
                .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ')' || c == '>')
                .map_or(out.len(), |e| i + e);
            let start = out[..i]
                .rfind(|c: char| c.is_whitespace() || c == '"' || c == '(' || c == '<')
                .map_or(0, |s| s + 1);
            out.replace_range(start..end, MARK);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_and_webhooks_are_hidden() {
        register("glpat-abcdefghijkl");
        let r = redact(
            "token glpat-abcdefghijkl failed at https://hooks.slack.com/services/T0/B0/XYZ now",
        );
        assert_eq!(r, "token [REDACTED] failed at [REDACTED] now");
        let teams = redact("post https://example.webhook.office.com/webhookb2/abc failed");
        assert_eq!(teams, "post [REDACTED] failed");
    }
}
