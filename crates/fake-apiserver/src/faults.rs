//! Fault injection and the request log: per-request latency, "fail the next N (matching)
//! requests with 500/429", "drop the connection of the next N (matching) requests", and the
//! record of every request (method, path, query, content type, dryRun, fieldManager, whether
//! an Authorization header was present — never its value — status and time).
//! Owns only bookkeeping; the HTTP layer acts on what it returns.

use std::time::{Duration, SystemTime};

/// Selects requests for a fault. All set conditions must hold; the default matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMatcher {
    method: Option<String>,
    path_contains: Option<String>,
    query_contains: Option<String>,
}

impl RequestMatcher {
    /// Matches every request.
    pub fn any() -> Self {
        RequestMatcher::default()
    }

    /// Only requests with this HTTP method (case-insensitive), e.g. `PATCH`.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Only requests whose path contains this text, e.g. `/deployments/`.
    pub fn path_contains(mut self, text: &str) -> Self {
        self.path_contains = Some(text.to_string());
        self
    }

    /// Only requests whose raw query string contains this text, e.g. `dryRun=All`.
    pub fn query_contains(mut self, text: &str) -> Self {
        self.query_contains = Some(text.to_string());
        self
    }

    pub fn matches(&self, method: &str, path: &str, query: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path.contains(p))
            && self
                .query_contains
                .as_deref()
                .is_none_or(|q| query.contains(q))
    }
}

/// What happens to a request picked by a fault rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultAction {
    /// Answer with this HTTP status and a Status body (429 carries Retry-After).
    Fail(u16),
    /// Close the connection without answering.
    Drop,
}

#[derive(Debug, Clone)]
struct FaultRule {
    remaining: usize,
    action: FaultAction,
    matcher: RequestMatcher,
}

/// Active faults.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pub latency: Duration,
    pub retry_after: u64,
    rules: Vec<FaultRule>,
}

impl Faults {
    pub fn new(latency: Duration, retry_after: u64) -> Self {
        Faults {
            latency,
            retry_after,
            rules: Vec::new(),
        }
    }

    pub fn add(&mut self, n: usize, action: FaultAction, matcher: RequestMatcher) {
        if n > 0 {
            self.rules.push(FaultRule {
                remaining: n,
                action,
                matcher,
            });
        }
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// Consume one use of the first rule matching this request.
    pub fn take(&mut self, method: &str, path: &str, query: &str) -> Option<FaultAction> {
        let idx = self
            .rules
            .iter()
            .position(|r| r.matcher.matches(method, path, query))?;
        let rule = &mut self.rules[idx];
        rule.remaining -= 1;
        let action = rule.action;
        if rule.remaining == 0 {
            self.rules.remove(idx);
        }
        Some(action)
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    pub user_agent: Option<String>,
    /// `dryRun=All` was requested.
    pub dry_run: bool,
    pub field_manager: Option<String>,
    pub force: bool,
    pub field_validation: Option<String>,
    /// An `Authorization` header was present (its value is never recorded).
    pub authorization: bool,
    /// Response status; `None` when the connection was dropped on purpose.
    pub status: Option<u16>,
    pub time: SystemTime,
}

impl RequestRecord {
    /// Value of one query parameter (percent-decoded).
    pub fn query_param(&self, key: &str) -> Option<String> {
        query_pairs(self.query.as_deref().unwrap_or(""))
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decode a query component (`+` is a space).
pub(crate) fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Split a raw query string into decoded pairs.
pub(crate) fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        assert_eq!(decode("app%3Dweb%2Ctier+in+(a)"), "app=web,tier in (a)");
        assert_eq!(decode("100%"), "100%");
    }

    #[test]
    fn rules_consume() {
        let mut f = Faults::new(Duration::ZERO, 1);
        f.add(
            2,
            FaultAction::Fail(500),
            RequestMatcher::any().method("patch"),
        );
        assert_eq!(f.take("GET", "/api", ""), None);
        assert_eq!(f.take("PATCH", "/x", ""), Some(FaultAction::Fail(500)));
        assert_eq!(f.take("PATCH", "/x", ""), Some(FaultAction::Fail(500)));
        assert_eq!(f.take("PATCH", "/x", ""), None);
    }
}
