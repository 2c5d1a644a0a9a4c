//! CI variables, read through one lookup so that tests stay hermetic.
//!
//! Owns: [`CiEnv`] (a lookup of variable names, from the process or from a map), which CI
//! platform runs us, and reading secrets (registering each with [`crate::redact`] as it is
//! read).
//! Must not: mutate the process environment, or expose a secret's value in `Debug`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The CI platform a job runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    GitLab,
    GitHub,
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Platform::GitLab => "GitLab",
            Platform::GitHub => "GitHub",
        })
    }
}

type Lookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// The CI variables kubeship reads. Build it once per run with [`CiEnv::from_process`]; tests
/// build it from a map with [`CiEnv::from_pairs`].
#[derive(Clone)]
pub struct CiEnv {
    lookup: Arc<Lookup>,
}

impl fmt::Debug for CiEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CiEnv { .. }")
    }
}

impl CiEnv {
    /// Reads variables from the process environment, when asked.
    pub fn from_process() -> CiEnv {
        CiEnv::from_fn(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup`.
    pub fn from_fn(lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> CiEnv {
        CiEnv {
            lookup: Arc::new(lookup),
        }
    }

    /// A fixed set of variables (for tests and for `kubeship ci` replays).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> CiEnv {
        let map: BTreeMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        CiEnv::from_fn(move |name| map.get(name).cloned())
    }

    /// A variable's value; unset and empty are the same.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    /// The first of `names` that is set, with its name.
    pub(crate) fn first(&self, names: &[&'static str]) -> Option<(&'static str, String)> {
        names.iter().find_map(|n| self.get(n).map(|v| (*n, v)))
    }

    /// A secret: registered for redaction before anything else sees it.
    pub(crate) fn secret(&self, name: &str) -> Option<String> {
        let v = self.get(name)?;
        let v = v.trim().to_string();
        crate::redact::register(&v);
        Some(v)
    }

    /// The first of `names` that holds a secret, with its name.
    pub(crate) fn first_secret(&self, names: &[&'static str]) -> Option<(&'static str, String)> {
        names.iter().find_map(|n| self.secret(n).map(|v| (*n, v)))
    }

    /// The CI platform, from `GITLAB_CI` / `GITHUB_ACTIONS`.
    pub fn platform(&self) -> Option<Platform> {
        if self.get("GITLAB_CI").is_some_and(|v| v == "true") {
            Some(Platform::GitLab)
        } else if self.get("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
            Some(Platform::GitHub)
        } else {
            None
        }
    }

    /// The GitHub event JSON at `GITHUB_EVENT_PATH`, when there is one that parses.
    pub(crate) fn github_event(&self) -> Option<serde_json::Value> {
        let path = self.get("GITHUB_EVENT_PATH")?;
        let text = std::fs::read_to_string(path).ok()?;
        serde_json::from_str(&text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_unset_and_platform_detected() {
        let env = CiEnv::from_pairs([("A", ""), ("GITHUB_ACTIONS", "true")]);
        assert_eq!(env.get("A"), None);
        assert_eq!(env.platform(), Some(Platform::GitHub));
        let env = CiEnv::from_pairs([("GITLAB_CI", "true"), ("GITHUB_ACTIONS", "true")]);
        assert_eq!(env.platform(), Some(Platform::GitLab));
        assert_eq!(CiEnv::from_pairs::<&str, &str>([]).platform(), None);
    }

    #[test]
    fn secrets_are_registered_and_debug_hides_values() {
        let env = CiEnv::from_pairs([("TOKEN", " glpat-env-secret-value \n")]);
        assert_eq!(
            env.secret("TOKEN").as_deref(),
            Some("glpat-env-secret-value")
        );
        assert_eq!(
            crate::redact::redact("x glpat-env-secret-value"),
            "x [REDACTED]"
        );
        assert!(!format!("{env:?}").contains("glpat"));
    }
}
