//! Resolved settings: command-line arguments + kubeship.yaml + CI environment variables.
//!
//! Owns: finding the repository root (git top level), reading and checking kubeship.yaml
//! (unknown fields, bad values and malformed YAML are errors with file:line), the environment
//! list (from kubeship.yaml, else every folder under `clusters/`), and resolving `PATH | --env`.
//! Must not: render, talk to a cluster or print.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;

pub const CONFIG_FILE: &str = "kubeship.yaml";
pub const DEFAULT_KUBERNETES_VERSION: &str = "1.33";

/// kubeship.yaml as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigFile {
    #[serde(default)]
    pub kubernetes_version: Option<String>,
    #[serde(default)]
    pub environments: IndexMap<String, EnvironmentFile>,
    #[serde(default)]
    pub validate: ValidateConfig,
    #[serde(default)]
    pub notifications: IndexMap<String, NotificationConfig>,
    #[serde(default)]
    pub images: ImagesConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvironmentFile {
    pub path: String,
    #[serde(default)]
    pub context: Option<String>,
    #[serde(default)]
    pub server: Option<String>,
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    pub prune: Option<bool>,
    /// Protected kinds this environment may prune (Namespace, CustomResourceDefinition,
    /// PersistentVolumeClaim).
    #[serde(default)]
    pub prune_kinds: Vec<String>,
    #[serde(default)]
    pub timeout: Option<String>,
    #[serde(default)]
    pub notify: Vec<String>,
    #[serde(default)]
    pub kubernetes_version: Option<String>,
    /// Namespace of the ApplySet parent Secret and the deploy Lease (default `default`).
    #[serde(default)]
    pub inventory_namespace: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MissingSchemas {
    Error,
    #[default]
    Warn,
    Skip,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum RuleLevel {
    Off,
    Warn,
    Error,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValidateConfig {
    #[serde(default = "yes")]
    pub strict: bool,
    #[serde(default)]
    pub missing_schemas: MissingSchemas,
    #[serde(default)]
    pub schema_locations: Vec<String>,
    #[serde(default)]
    pub rules: BTreeMap<String, RuleLevel>,
}

impl Default for ValidateConfig {
    fn default() -> Self {
        ValidateConfig {
            strict: true,
            missing_schemas: MissingSchemas::Warn,
            schema_locations: Vec::new(),
            rules: BTreeMap::new(),
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Info,
    Error,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProviderType {
    Slack,
    Msteams,
    Generic,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NotificationConfig {
    #[serde(rename = "type")]
    pub kind: ProviderType,
    /// Name of the environment variable holding the webhook URL (a secret).
    pub webhook_env: String,
    #[serde(default)]
    pub severity: Severity,
    /// For `generic`: environment variable holding the HMAC-SHA256 signing secret.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// For `generic`: extra headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImagesConfig {
    /// Commit message template for `images update --commit`.
    #[serde(default)]
    pub commit_message: Option<String>,
    /// Branch pushed by `kubeship ci` on a schedule.
    #[serde(default)]
    pub branch: Option<String>,
    /// Git author for image update commits.
    #[serde(default)]
    pub author_name: Option<String>,
    #[serde(default)]
    pub author_email: Option<String>,
}

/// One environment, resolved.
#[derive(Clone, Debug)]
pub struct Environment {
    pub name: String,
    /// Path relative to the repository root.
    pub path: String,
    pub context: Option<String>,
    pub server: Option<String>,
    pub branch: Option<String>,
    pub prune: bool,
    pub prune_kinds: Vec<String>,
    pub timeout: Duration,
    pub notify: Vec<String>,
    pub kubernetes_version: String,
    pub inventory_namespace: String,
}

#[derive(Debug)]
pub struct Settings {
    pub repo_root: PathBuf,
    /// The kubeship.yaml used, when there is one.
    pub config_path: Option<PathBuf>,
    pub kubernetes_version: String,
    pub environments: Vec<Environment>,
    pub validate: ValidateConfig,
    pub notifications: IndexMap<String, NotificationConfig>,
    pub images: ImagesConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    Invalid(String),
    #[error("unknown environment `{name}`; known environments: {}", known.join(", "))]
    UnknownEnvironment { name: String, known: Vec<String> },
}

/// Walks up from `start` to the folder holding `.git`.
pub fn git_top_level(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    let mut dir = if start.is_dir() {
        start.as_path()
    } else {
        start.parent()?
    };
    loop {
        if dir.join(".git").exists() {
            return Some(dir.to_path_buf());
        }
        dir = dir.parent()?;
    }
}

/// Parses a duration such as `90s`, `5m`, `1h30m`, `250ms` or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut num = String::new();
    let mut chars = t.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let unit: String = std::iter::once(c)
            .chain(std::iter::from_fn(|| {
                chars.next_if(|c| c.is_ascii_alphabetic())
            }))
            .collect();
        let n: f64 = num
            .parse()
            .map_err(|_| format!("invalid duration `{text}` (use e.g. 90s, 5m, 1h30m)"))?;
        num.clear();
        let secs = match unit.as_str() {
            "ms" => n / 1000.0,
            "s" => n,
            "m" => n * 60.0,
            "h" => n * 3600.0,
            _ => return Err(format!("invalid duration `{text}`: unknown unit `{unit}`")),
        };
        total += Duration::from_secs_f64(secs);
        any = true;
    }
    if !num.is_empty() || !any {
        return Err(format!(
            "invalid duration `{text}` (use e.g. 90s, 5m, 1h30m)"
        ));
    }
    Ok(total)
}

fn yaml_error(path: &Path, text: &str, err: serde_saphyr::Error) -> SettingsError {
    let loc = err
        .location()
        .map(|l| format!("{}:{}:{}", path.display(), l.line(), l.column()))
        .unwrap_or_else(|| path.display().to_string());
    let msg = err.to_string();
    // serde-saphyr renders a snippet; keep its first line as the message.
    let first = msg
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(&msg)
        .trim();
    let _ = text;
    SettingsError::Invalid(format!(
        "{loc}: {}; fix kubeship.yaml (see README, section kubeship.yaml)",
        first.trim_start_matches("error: ")
    ))
}

pub fn parse_config(path: &Path, text: &str) -> Result<ConfigFile, SettingsError> {
    if text.trim().is_empty() {
        return Ok(ConfigFile::default());
    }
    let options = serde_saphyr::options! {
        legacy_octal_numbers: true,
    };
    serde_saphyr::from_str_with_options::<ConfigFile>(text, options)
        .map_err(|e| yaml_error(path, text, e))
}

impl Settings {
    /// Resolves settings for a run. `path_hint` is the PATH argument, if any.
    pub fn load(
        repo: Option<&Path>,
        config: Option<&Path>,
        path_hint: Option<&Path>,
    ) -> Result<Settings, SettingsError> {
        let cwd = std::env::current_dir().map_err(|e| {
            SettingsError::Invalid(format!("cannot read the current directory: {e}"))
        })?;
        let repo_root = match repo {
            Some(r) => r
                .canonicalize()
                .map_err(|e| SettingsError::Invalid(format!("--repo {}: {e}", r.display())))?,
            None => {
                let start = path_hint.map_or(cwd.clone(), |p| cwd.join(p));
                git_top_level(&start).unwrap_or_else(|| cwd.clone())
            }
        };
        if !repo_root.is_dir() {
            return Err(SettingsError::Invalid(format!(
                "repository root {} is not a folder",
                repo_root.display()
            )));
        }
        let config_path = match config {
            Some(c) => {
                let p = if c.is_absolute() {
                    c.to_path_buf()
                } else {
                    cwd.join(c)
                };
                if !p.is_file() {
                    return Err(SettingsError::Invalid(format!(
                        "--config {}: no such file",
                        c.display()
                    )));
                }
                Some(p)
            }
            None => Some(repo_root.join(CONFIG_FILE)).filter(|p| p.is_file()),
        };
        let file = match &config_path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    SettingsError::Invalid(format!("cannot read {}: {e}", p.display()))
                })?;
                parse_config(p, &text)?
            }
            None => ConfigFile::default(),
        };
        Settings::resolve(repo_root, config_path, file)
    }

    fn resolve(
        repo_root: PathBuf,
        config_path: Option<PathBuf>,
        file: ConfigFile,
    ) -> Result<Settings, SettingsError> {
        let where_ = config_path
            .as_ref()
            .map_or_else(|| CONFIG_FILE.to_string(), |p| p.display().to_string());
        let version = file
            .kubernetes_version
            .clone()
            .unwrap_or_else(|| DEFAULT_KUBERNETES_VERSION.to_string());
        check_version(&version)
            .map_err(|m| SettingsError::Invalid(format!("{where_}: kubernetesVersion: {m}")))?;
        let mut environments = Vec::new();
        if file.environments.is_empty() {
            let clusters = repo_root.join("clusters");
            if let Ok(entries) = std::fs::read_dir(&clusters) {
                let mut names: Vec<String> = entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.path().is_dir())
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .filter(|n| !n.starts_with('.'))
                    .collect();
                names.sort();
                for name in names {
                    environments.push(Environment {
                        path: format!("clusters/{name}"),
                        name,
                        context: None,
                        server: None,
                        branch: None,
                        prune: true,
                        prune_kinds: Vec::new(),
                        timeout: Duration::from_secs(300),
                        notify: Vec::new(),
                        kubernetes_version: version.clone(),
                        inventory_namespace: "default".to_string(),
                    });
                }
            }
        }
        for (name, env) in &file.environments {
            let timeout = match &env.timeout {
                Some(t) => parse_duration(t).map_err(|m| {
                    SettingsError::Invalid(format!("{where_}: environments.{name}.timeout: {m}"))
                })?,
                None => Duration::from_secs(300),
            };
            for n in &env.notify {
                if !file.notifications.contains_key(n) {
                    return Err(SettingsError::Invalid(format!(
                        "{where_}: environments.{name}.notify names `{n}`, which is not under `notifications:`"
                    )));
                }
            }
            for k in &env.prune_kinds {
                if !matches!(
                    k.as_str(),
                    "Namespace" | "CustomResourceDefinition" | "PersistentVolumeClaim"
                ) {
                    return Err(SettingsError::Invalid(format!(
                        "{where_}: environments.{name}.pruneKinds: `{k}` is not a protected kind (Namespace, CustomResourceDefinition, PersistentVolumeClaim)"
                    )));
                }
            }
            let path = env.path.trim_end_matches('/').to_string();
            if path.is_empty()
                || Path::new(&path).is_absolute()
                || path.split('/').any(|c| c == "..")
            {
                return Err(SettingsError::Invalid(format!(
                    "{where_}: environments.{name}.path must be a folder inside the repository"
                )));
            }
            let kv = env
                .kubernetes_version
                .clone()
                .unwrap_or_else(|| version.clone());
            check_version(&kv).map_err(|m| {
                SettingsError::Invalid(format!(
                    "{where_}: environments.{name}.kubernetesVersion: {m}"
                ))
            })?;
            environments.push(Environment {
                name: name.clone(),
                path,
                context: env.context.clone(),
                server: env.server.clone(),
                branch: env.branch.clone(),
                prune: env.prune.unwrap_or(true),
                prune_kinds: env.prune_kinds.clone(),
                timeout,
                notify: env.notify.clone(),
                kubernetes_version: kv,
                inventory_namespace: env
                    .inventory_namespace
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "default".to_string()),
            });
        }
        for (name, n) in &file.notifications {
            if n.webhook_env.trim().is_empty() {
                return Err(SettingsError::Invalid(format!(
                    "{where_}: notifications.{name}.webhookEnv must name an environment variable"
                )));
            }
        }
        Ok(Settings {
            repo_root,
            config_path,
            kubernetes_version: version,
            environments,
            validate: file.validate,
            notifications: file.notifications,
            images: file.images,
        })
    }

    pub fn environment(&self, name: &str) -> Result<&Environment, SettingsError> {
        self.environments
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| SettingsError::UnknownEnvironment {
                name: name.to_string(),
                known: if self.environments.is_empty() {
                    vec!["(none: add kubeship.yaml or folders under clusters/)".to_string()]
                } else {
                    self.environments.iter().map(|e| e.name.clone()).collect()
                },
            })
    }

    pub fn env_dir(&self, env: &Environment) -> PathBuf {
        self.repo_root.join(&env.path)
    }
}

/// `1.33` style; minor versions 1.16 to 1.40 are accepted.
fn check_version(v: &str) -> Result<(), String> {
    let (major, minor) = v.trim_start_matches('v').split_once('.').ok_or_else(|| {
        format!("`{v}` is not a Kubernetes version like \"1.33\" (quote it in YAML)")
    })?;
    let minor = minor.split('.').next().unwrap_or(minor);
    match (major.parse::<u32>(), minor.parse::<u32>()) {
        (Ok(1), Ok(m)) if (16..=40).contains(&m) => Ok(()),
        _ => Err(format!("`{v}` is not a Kubernetes version like \"1.33\"")),
    }
}

/// The `major.minor` pair of a version string.
pub fn minor_version(v: &str) -> u32 {
    v.trim_start_matches('v')
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("12").unwrap(), Duration::from_secs(12));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn config_errors_name_file_and_line() {
        let err = parse_config(
            Path::new("kubeship.yaml"),
            "environments:\n  dev:\n    path: x\n    contxt: y\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("kubeship.yaml:4:"), "{err}");
        assert!(err.contains("contxt"), "{err}");
        let err = parse_config(Path::new("k.yaml"), "environments: [\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("k.yaml:"), "{err}");
    }

    #[test]
    fn config_reads_everything() {
        let c = parse_config(
            Path::new("k"),
            "kubernetesVersion: \"1.32\"\nenvironments:\n  dev:\n    path: clusters/dev\n    context: eks-dev\n    server: https://dev:6443\n    branch: master\n    prune: true\n    timeout: 5m\n    notify: [slack-dev]\nvalidate:\n  strict: true\n  missingSchemas: warn\n  schemaLocations: [schemas/]\n  rules: { image-tag-latest: warn }\nnotifications:\n  slack-dev: { type: slack, webhookEnv: SLACK_WEBHOOK_URL, severity: info }\n",
        )
        .unwrap();
        assert_eq!(c.kubernetes_version.as_deref(), Some("1.32"));
        assert_eq!(c.environments["dev"].context.as_deref(), Some("eks-dev"));
        assert_eq!(c.validate.rules["image-tag-latest"], RuleLevel::Warn);
        assert_eq!(c.notifications["slack-dev"].kind, ProviderType::Slack);
    }
}
