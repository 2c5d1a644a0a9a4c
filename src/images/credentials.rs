//! Registry credentials in CI, where no Kubernetes Secret is at hand.
//!
//! Owns: finding a username and password for a registry host, in this order:
//! 1. `KUBESHIP_SECRET_<SECRETREF>_USERNAME` / `_PASSWORD`, for an ImageRepository with
//!    `spec.secretRef.name: <secretref>` (the Secret's name, uppercased, non-alphanumerics `_`);
//! 2. `KUBESHIP_REGISTRY_<HOST>_USERNAME` / `_PASSWORD` (`ghcr.io` -> `GHCR_IO`,
//!    `127.0.0.1:5000` -> `127_0_0_1_5000`; Docker Hub is `DOCKER_IO` or `INDEX_DOCKER_IO`);
//! 3. the Docker config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): `auths`
//!    (`auth` or `username`/`password`), then `credHelpers` / `credsStore` helpers;
//! 4. GitLab CI's `CI_REGISTRY_USER` / `CI_REGISTRY_PASSWORD` when the host is `$CI_REGISTRY`;
//! 5. `KUBESHIP_REGISTRY_USERNAME` / `_PASSWORD` for any registry.
//!
//! Every password is registered with [`crate::redact`] as soon as it is read.
//! Must not: print, or send anything anywhere (the registry client does).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;

use super::reference::{DOCKER_HUB, env_key};

/// A username and password, and where they came from (never the values themselves).
#[derive(Clone)]
pub struct Credential {
    pub username: String,
    pub password: String,
    /// For messages: `KUBESHIP_REGISTRY_GHCR_IO_USERNAME/_PASSWORD`, `~/.docker/config.json`.
    pub source: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential({} from {})", self.username, self.source)
    }
}

/// Everything credentials may come from, read once.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    env: BTreeMap<String, String>,
    docker_config: Option<(PathBuf, serde_json::Value)>,
    /// A Docker config that exists but cannot be read: reported when a registry needs it.
    docker_config_error: Option<String>,
}

const SUFFIX_USER: &str = "_USERNAME";
const SUFFIX_PASS: &str = "_PASSWORD";

impl Credentials {
    /// Reads the process environment and the Docker config it points at.
    pub fn from_env() -> Credentials {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let dir = env
            .get("DOCKER_CONFIG")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| env.get("HOME").map(|h| Path::new(h).join(".docker")));
        Credentials::new(env, dir.as_deref())
    }

    /// Credentials from an explicit environment and Docker config folder (for tests and
    /// callers that sandbox the environment).
    pub fn new(env: BTreeMap<String, String>, docker_config_dir: Option<&Path>) -> Credentials {
        for (k, v) in &env {
            if k.starts_with("KUBESHIP_") && k.ends_with(SUFFIX_PASS) || k == "CI_REGISTRY_PASSWORD"
            {
                crate::redact::register(v);
            }
        }
        let mut creds = Credentials {
            env,
            docker_config: None,
            docker_config_error: None,
        };
        if let Some(dir) = docker_config_dir {
            let path = dir.join("config.json");
            match std::fs::read_to_string(&path) {
                Ok(text) => match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(v) => {
                        register_docker_secrets(&v);
                        creds.docker_config = Some((path, v));
                    }
                    Err(e) => {
                        creds.docker_config_error = Some(format!(
                            "{} is not valid JSON ({e}); fix or remove it",
                            path.display()
                        ))
                    }
                },
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    creds.docker_config_error = Some(format!("cannot read {}: {e}", path.display()))
                }
            }
        }
        creds
    }

    fn pair(&self, prefix: &str) -> Result<Option<Credential>, String> {
        let user_key = format!("{prefix}{SUFFIX_USER}");
        let pass_key = format!("{prefix}{SUFFIX_PASS}");
        let user = self.env.get(&user_key).filter(|v| !v.is_empty());
        let pass = self.env.get(&pass_key).filter(|v| !v.is_empty());
        match (user, pass) {
            (Some(u), Some(p)) => {
                crate::redact::register(p);
                Ok(Some(Credential {
                    username: u.clone(),
                    password: p.clone(),
                    source: format!("{user_key}/{SUFFIX_PASS}"),
                }))
            }
            (None, None) => Ok(None),
            (Some(_), None) => Err(format!("{user_key} is set but {pass_key} is not; set both")),
            (None, Some(_)) => Err(format!("{pass_key} is set but {user_key} is not; set both")),
        }
    }

    /// The credential for `registry` (`host[:port]`), for a repository whose
    /// `spec.secretRef.name` is `secret_ref`. `Ok(None)`: anonymous access.
    pub fn lookup(
        &self,
        registry: &str,
        secret_ref: Option<&str>,
    ) -> Result<Option<Credential>, String> {
        if let Some(name) = secret_ref
            && let Some(c) = self.pair(&format!("KUBESHIP_SECRET_{}", env_key(name)))?
        {
            return Ok(Some(c));
        }
        let mut hosts = vec![registry.to_string()];
        if registry == DOCKER_HUB {
            hosts = vec!["docker.io".to_string(), DOCKER_HUB.to_string()];
        }
        for host in &hosts {
            if let Some(c) = self.pair(&format!("KUBESHIP_REGISTRY_{}", env_key(host)))? {
                return Ok(Some(c));
            }
        }
        if let Some(c) = self.docker_config_credential(registry)? {
            return Ok(Some(c));
        }
        if self.env.get("CI_REGISTRY").is_some_and(|r| r == registry)
            && let Some(c) = self.gitlab_job_credential()
        {
            return Ok(Some(c));
        }
        self.pair("KUBESHIP_REGISTRY")
    }

    /// GitLab CI's predefined pair for its own registry.
    fn gitlab_job_credential(&self) -> Option<Credential> {
        let user = self.env.get("CI_REGISTRY_USER").filter(|v| !v.is_empty())?;
        let pass = self
            .env
            .get("CI_REGISTRY_PASSWORD")
            .filter(|v| !v.is_empty())?;
        Some(Credential {
            username: user.clone(),
            password: pass.clone(),
            source: "CI_REGISTRY_USER/CI_REGISTRY_PASSWORD".to_string(),
        })
    }

    fn docker_config_credential(&self, registry: &str) -> Result<Option<Credential>, String> {
        let Some((path, config)) = &self.docker_config else {
            return match &self.docker_config_error {
                Some(e) => Err(e.clone()),
                None => Ok(None),
            };
        };
        let source = path.display().to_string();
        if let Some(auths) = config.get("auths").and_then(|a| a.as_object()) {
            for (key, entry) in auths {
                if !same_host(key, registry) {
                    continue;
                }
                if let Some(auth) = entry.get("auth").and_then(|a| a.as_str())
                    && !auth.is_empty()
                {
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(auth.trim())
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                        .ok_or_else(|| {
                            format!("{source}: auths.\"{key}\".auth is not base64 of USER:PASSWORD")
                        })?;
                    let (u, p) = decoded.split_once(':').ok_or_else(|| {
                        format!("{source}: auths.\"{key}\".auth is not base64 of USER:PASSWORD")
                    })?;
                    crate::redact::register(p);
                    return Ok(Some(Credential {
                        username: u.to_string(),
                        password: p.to_string(),
                        source,
                    }));
                }
                if let (Some(u), Some(p)) = (
                    entry.get("username").and_then(|v| v.as_str()),
                    entry.get("password").and_then(|v| v.as_str()),
                ) {
                    crate::redact::register(p);
                    return Ok(Some(Credential {
                        username: u.to_string(),
                        password: p.to_string(),
                        source,
                    }));
                }
                if entry.get("identitytoken").is_some() {
                    return Err(format!(
                        "{source}: auths.\"{key}\" holds an identity token, which kubeship cannot use; log in with a username and password (or token) instead"
                    ));
                }
            }
        }
        let helper = config
            .get("credHelpers")
            .and_then(|h| h.as_object())
            .and_then(|h| h.iter().find(|(k, _)| same_host(k, registry)))
            .and_then(|(_, v)| v.as_str())
            .or_else(|| config.get("credsStore").and_then(|s| s.as_str()))
            .filter(|h| !h.is_empty());
        match helper {
            Some(helper) => run_helper(helper, registry),
            None => Ok(None),
        }
    }
}

/// Registers every secret-looking value of a Docker config.
fn register_docker_secrets(config: &serde_json::Value) {
    let Some(auths) = config.get("auths").and_then(|a| a.as_object()) else {
        return;
    };
    for entry in auths.values() {
        for field in ["auth", "password", "identitytoken", "registrytoken"] {
            if let Some(v) = entry.get(field).and_then(|v| v.as_str()) {
                crate::redact::register(v);
                if field == "auth"
                    && let Some(p) = base64::engine::general_purpose::STANDARD
                        .decode(v.trim())
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                        .and_then(|d| d.split_once(':').map(|(_, p)| p.to_string()))
                {
                    crate::redact::register(&p);
                }
            }
        }
    }
}

/// Docker config keys are hosts or URLs (`https://index.docker.io/v1/`).
fn same_host(key: &str, registry: &str) -> bool {
    let key = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let key = key.split('/').next().unwrap_or(key).to_ascii_lowercase();
    if registry == DOCKER_HUB {
        return matches!(
            key.as_str(),
            "index.docker.io" | "docker.io" | "registry-1.docker.io"
        );
    }
    key == registry
}

/// Runs `docker-credential-HELPER get` as the Docker CLI does.
fn run_helper(helper: &str, registry: &str) -> Result<Option<Credential>, String> {
    let program = format!("docker-credential-{helper}");
    let server = if registry == DOCKER_HUB {
        "https://index.docker.io/v1/".to_string()
    } else {
        registry.to_string()
    };
    let child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return Err(format!(
                "the Docker config names the credential helper `{helper}`, but {program} cannot run ({e}); install it, or give credentials another way (docs/images.md)"
            ));
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{program} failed: {e}"))?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stdout);
        if text.contains("credentials not found") {
            return Ok(None);
        }
        return Err(format!(
            "{program} get failed for {server}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{program} returned something that is not JSON: {e}"))?;
    let user = v.get("Username").and_then(|u| u.as_str()).unwrap_or("");
    let secret = v.get("Secret").and_then(|s| s.as_str()).unwrap_or("");
    crate::redact::register(secret);
    if user == "<token>" {
        return Err(format!(
            "{program} returned an identity token, which kubeship cannot use; give a username and password (or token) instead"
        ));
    }
    if secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(Credential {
        username: user.to_string(),
        password: secret.to_string(),
        source: program,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn order_of_sources() {
        let dir = std::env::temp_dir().join(format!("kubeship-creds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let auth = base64::engine::general_purpose::STANDARD.encode("cfg-user:cfg-pass-1234");
        std::fs::write(
            dir.join("config.json"),
            format!(r#"{{"auths": {{"https://ghcr.io": {{"auth": "{auth}"}}, "https://index.docker.io/v1/": {{"username": "hub", "password": "hub-pass-1234"}}}}}}"#),
        )
        .unwrap();
        let c = Credentials::new(
            env(&[
                ("KUBESHIP_SECRET_GHCR_AUTH_USERNAME", "secret-user"),
                ("KUBESHIP_SECRET_GHCR_AUTH_PASSWORD", "secret-pass-1234"),
                ("KUBESHIP_REGISTRY_QUAY_IO_USERNAME", "quay-user"),
                ("KUBESHIP_REGISTRY_QUAY_IO_PASSWORD", "quay-pass-1234"),
                ("KUBESHIP_REGISTRY_USERNAME", "any-user"),
                ("KUBESHIP_REGISTRY_PASSWORD", "any-pass-1234"),
                ("CI_REGISTRY", "registry.gitlab.com"),
                ("CI_REGISTRY_USER", "gitlab-ci-token"),
                ("CI_REGISTRY_PASSWORD", "job-token-1234"),
            ]),
            Some(&dir),
        );
        let user =
            |host: &str, secret: Option<&str>| c.lookup(host, secret).unwrap().map(|c| c.username);
        assert_eq!(
            user("ghcr.io", Some("ghcr-auth")).as_deref(),
            Some("secret-user")
        );
        assert_eq!(user("ghcr.io", None).as_deref(), Some("cfg-user"));
        assert_eq!(user("ghcr.io", Some("other")).as_deref(), Some("cfg-user"));
        assert_eq!(user("quay.io", None).as_deref(), Some("quay-user"));
        assert_eq!(user(DOCKER_HUB, None).as_deref(), Some("hub"));
        assert_eq!(
            user("registry.gitlab.com", None).as_deref(),
            Some("gitlab-ci-token")
        );
        assert_eq!(user("example.com", None).as_deref(), Some("any-user"));
        let pass = c.lookup("ghcr.io", None).unwrap().unwrap().password;
        assert_eq!(pass, "cfg-pass-1234");
        assert_eq!(
            crate::redact::redact("x cfg-pass-1234 job-token-1234 y"),
            "x [REDACTED] [REDACTED] y"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn half_pairs_are_errors_and_nothing_is_anonymous() {
        let c = Credentials::new(env(&[("KUBESHIP_REGISTRY_GHCR_IO_USERNAME", "u")]), None);
        let err = c.lookup("ghcr.io", None).unwrap_err();
        assert!(err.contains("KUBESHIP_REGISTRY_GHCR_IO_PASSWORD"), "{err}");
        let none = Credentials::new(BTreeMap::new(), None);
        assert!(none.lookup("ghcr.io", None).unwrap().is_none());
    }
}
