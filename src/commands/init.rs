//! `kubeship init`: scaffold kubeship.yaml and CI files for this repository.
//!
//! Owns: finding the environments (an existing kubeship.yaml, else the first of `clusters/*`,
//! `environments/*`, `envs/*`, `overlays/*`, ... that has folders), and writing
//! `kubeship.yaml`, `.gitlab-ci.yml` (+ the included template under `.gitlab/`) and
//! `.github/workflows/kubeship.yml` at the repository root.
//! Must not: overwrite or change an existing file (it says so and skips it), or touch anything
//! outside the repository root.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use crate::cli::{Cli, InitArgs};
use crate::exit::{Exit, Failure};
use crate::printer::Printer;
use crate::settings::{self, Settings};

/// The plain GitLab include, shipped inside the binary.
const GITLAB_TEMPLATE: &str = include_str!("../../.gitlab-ci-template.yml");
/// The example GitHub workflow, shipped inside the binary.
const GITHUB_WORKFLOW: &str = include_str!("../../examples/workflows/kubeship.yml");

pub(crate) const GITLAB_TEMPLATE_PATH: &str = ".gitlab/kubeship.gitlab-ci.yml";

/// Folders whose sub-folders are environments, in order of preference.
const ENV_PARENTS: &[&str] = &[
    "clusters",
    "environments",
    "envs",
    "overlays",
    "deploy/overlays",
    "k8s/overlays",
    "kubernetes/overlays",
];

/// An environment found in the repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FoundEnv {
    pub name: String,
    pub path: String,
}

pub fn run(cli: &Cli, _args: &InitArgs, printer: &Printer) -> Result<Exit, Failure> {
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::usage(format!("cannot read the current directory: {e}")))?;
    let root = match &cli.repo {
        Some(r) => r
            .canonicalize()
            .map_err(|e| Failure::usage(format!("--repo {}: {e}", r.display())))?,
        None => match settings::git_top_level(&cwd) {
            Some(r) => r,
            None => {
                printer.warn(&format!(
                    "{} is not inside a git repository; writing the files here",
                    cwd.display()
                ));
                cwd.clone()
            }
        },
    };

    let config_exists = root.join(settings::CONFIG_FILE).is_file() || cli.config.is_some();
    let envs = if config_exists {
        match Settings::load(Some(&root), cli.config.as_deref(), None) {
            Ok(s) => s
                .environments
                .iter()
                .map(|e| FoundEnv {
                    name: e.name.clone(),
                    path: e.path.clone(),
                })
                .collect(),
            Err(e) => {
                printer.warn(&format!(
                    "the existing kubeship.yaml could not be read ({e}); looking for environment folders instead"
                ));
                discover(&root)
            }
        }
    } else {
        discover(&root)
    };
    if envs.is_empty() {
        printer.warn(
            "no environment folders found (clusters/<name>/, environments/<name>/, overlays/<name>/ ...); the files name a `dev` environment as a placeholder: add one folder per environment and edit them",
        );
    } else {
        printer.progress(&format!(
            "environments: {}",
            envs.iter()
                .map(|e| format!("{} ({})", e.name, e.path))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let branch = default_branch(&root);

    let files = [
        (settings::CONFIG_FILE.to_string(), kubeship_yaml(&envs)),
        (".gitlab-ci.yml".to_string(), gitlab_ci(&envs)),
        (
            GITLAB_TEMPLATE_PATH.to_string(),
            GITLAB_TEMPLATE.to_string(),
        ),
        (
            ".github/workflows/kubeship.yml".to_string(),
            github_workflow(&envs, &branch),
        ),
    ];
    let mut wrote = 0;
    for (rel, content) in &files {
        let path = root.join(rel);
        match write_new(&path, content) {
            Ok(true) => {
                wrote += 1;
                printer.out(&format!("wrote {rel}\n"));
            }
            Ok(false) => printer.warn(&format!(
                "skipped {rel}: it already exists (kubeship init never overwrites a file; delete it to have it written again)"
            )),
            Err(e) => {
                return Err(Failure::incomplete(anyhow::anyhow!(
                    "cannot write {}: {e}; check that the folder is writable",
                    path.display()
                )));
            }
        }
    }
    if wrote > 0 {
        printer.out(NEXT_STEPS);
    }
    Ok(Exit::Success)
}

const NEXT_STEPS: &str = "
Next steps:
  - kubeship.yaml: set each environment's kubeconfig `context:` (and `server:` as a guard),
    and `notifications:` if you want Slack/Teams messages.
  - GitLab: set KUBESHIP_GITLAB_TOKEN (project access token, `api` scope, Reporter role) and a
    File variable KUBECONFIG per environment; schedule a pipeline for drift checks.
  - GitHub: add a KUBECONFIG secret to each GitHub environment; the workflow needs no token.
  - Keep the CI file of the forge you use and delete the other.
  - Check locally: kubeship validate --all
";

/// Creates `path` with `content` unless it exists. Returns whether it was written.
fn write_new(path: &Path, content: &str) -> std::io::Result<bool> {
    if path.exists() {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(e),
    };
    file.write_all(content.as_bytes())?;
    Ok(true)
}

/// Sub-folders of the first environment parent that has any.
pub(crate) fn discover(root: &Path) -> Vec<FoundEnv> {
    for parent in ENV_PARENTS {
        let dir = root.join(parent);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        if names.is_empty() {
            continue;
        }
        names.sort();
        return names
            .into_iter()
            .map(|name| FoundEnv {
                path: format!("{parent}/{name}"),
                name,
            })
            .collect();
    }
    Vec::new()
}

/// The branch applies come from: the remote's default, else the current branch, else `main`.
fn default_branch(root: &Path) -> String {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()?;
        let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !s.is_empty()).then_some(s)
    };
    git(&["symbolic-ref", "--short", "refs/remotes/origin/HEAD"])
        .and_then(|r| r.split_once('/').map(|(_, b)| b.to_string()))
        .or_else(|| git(&["symbolic-ref", "--short", "HEAD"]))
        .filter(|b| is_plain(b))
        .unwrap_or_else(|| "main".to_string())
}

/// Safe to write unquoted in YAML.
fn is_plain(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && !s.starts_with(['-', '.', '/'])
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        )
        && s.parse::<f64>().is_err()
}

/// A YAML scalar: plain when safe, else double-quoted (JSON string syntax is valid YAML).
fn scalar(s: &str) -> String {
    if is_plain(s) {
        s.to_string()
    } else {
        serde_json::Value::String(s.to_string()).to_string()
    }
}

fn env_list(envs: &[FoundEnv]) -> String {
    if envs.is_empty() {
        return "[dev]".to_string();
    }
    format!(
        "[{}]",
        envs.iter()
            .map(|e| scalar(&e.name))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

pub(crate) fn kubeship_yaml(envs: &[FoundEnv]) -> String {
    let mut y = String::from(
        "# kubeship.yaml, written by `kubeship init`. Reference: README, section \"kubeship.yaml\".\n",
    );
    y.push_str(&format!(
        "kubernetesVersion: \"{}\"\n\n",
        settings::DEFAULT_KUBERNETES_VERSION
    ));
    if envs.is_empty() {
        y.push_str(
            "# No environment folders were found. Add one folder per environment, e.g.\n# clusters/dev/ (plain YAML or a kustomization.yaml), and list it here:\nenvironments: {}\n#  dev:\n#    path: clusters/dev\n",
        );
    } else {
        y.push_str("environments:\n");
        for (i, e) in envs.iter().enumerate() {
            y.push_str(&format!(
                "  {}:\n    path: {}\n",
                scalar(&e.name),
                scalar(&e.path)
            ));
            if i == 0 {
                y.push_str(
                    "    # context: my-context               # kubeconfig context (default: KUBE_CONTEXT, then the current context)\n    # server: https://api.example:6443   # refuse to apply when the context points at another API server\n    # branch: main                       # apply only from this branch in CI (default: the default branch)\n    # notify: [slack]                    # names under `notifications:` below\n",
                );
            } else {
                y.push_str("    # context: my-context\n    # notify: [slack]\n");
            }
            y.push_str("    prune: true\n    timeout: 5m\n");
        }
    }
    y.push_str(
        "
validate:
  strict: true          # unknown fields are errors
  missingSchemas: warn  # error | warn | skip, for kinds of API groups kubeship has no schema for
  # schemaLocations: [schemas/]

# notifications:
#   slack:
#     type: slack                       # slack | msteams | generic
#     webhookEnv: SLACK_WEBHOOK_URL     # the NAME of a masked CI/CD variable or secret holding the URL
#     severity: info                    # info: every apply and drift; error: failures only
#   webhook:
#     type: generic
#     webhookEnv: DEPLOY_WEBHOOK_URL
#     secretEnv: DEPLOY_WEBHOOK_SECRET  # signs the body: X-Signature: sha256=<hex HMAC-SHA256>
#     headers: { X-Team: platform }
",
    );
    y
}

pub(crate) fn gitlab_ci(envs: &[FoundEnv]) -> String {
    let list = env_list(envs);
    let mut y = format!(
        "# GitLab CI for kubeship, written by `kubeship init`. See the README, \"Use in GitLab\".
#
# Set in Settings > CI/CD > Variables (masked; protected where it applies):
#   KUBESHIP_GITLAB_TOKEN  project access token, scope `api`, role Reporter: merge request
#                          comments (CI_JOB_TOKEN cannot write them)
#   KUBECONFIG             type File, one per environment (environment scope = its name)
#   SLACK_WEBHOOK_URL ...  the webhook URLs kubeship.yaml `notifications:` name
# Schedule a pipeline (Build > Pipeline schedules) for the drift check.

workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"
    - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS && $CI_PIPELINE_SOURCE == \"push\"
      when: never
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
    - if: $CI_PIPELINE_SOURCE == \"schedule\"

include:
  - local: {GITLAB_TEMPLATE_PATH}
"
    );
    if envs.is_empty() {
        y.push_str(
            "\n# No environment folders were found: replace `dev` with your environments.\n",
        );
    }
    for job in ["validate", "diff", "apply", "drift"] {
        y.push_str(&format!(
            "\nkubeship-{job}:\n  extends: .kubeship-{job}\n  parallel:\n    matrix:\n      - KUBESHIP_ENV: {list}\n"
        ));
    }
    y
}

pub(crate) fn github_workflow(envs: &[FoundEnv], branch: &str) -> String {
    GITHUB_WORKFLOW
        .replace(
            "environment: [dev, prod]",
            &format!("environment: {}", env_list(envs)),
        )
        .replace(
            "branches: [main]",
            &format!("branches: [{}]", scalar(branch)),
        )
        .replace(
            "github.ref == 'refs/heads/main'",
            &format!("github.ref == 'refs/heads/{branch}'"),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envs() -> Vec<FoundEnv> {
        vec![
            FoundEnv {
                name: "dev".into(),
                path: "clusters/dev".into(),
            },
            FoundEnv {
                name: "on".into(),
                path: "clusters/on".into(),
            },
        ]
    }

    #[test]
    fn kubeship_yaml_parses_and_lists_environments() {
        let text = kubeship_yaml(&envs());
        let c = settings::parse_config(Path::new("kubeship.yaml"), &text).unwrap();
        assert_eq!(c.environments.keys().collect::<Vec<_>>(), vec!["dev", "on"]);
        assert_eq!(c.environments["on"].path, "clusters/on");
        assert!(text.contains("  \"on\":"), "{text}");
        let empty = kubeship_yaml(&[]);
        let c = settings::parse_config(Path::new("kubeship.yaml"), &empty).unwrap();
        assert!(c.environments.is_empty());
    }

    #[test]
    fn the_embedded_workflow_has_the_lines_init_replaces() {
        assert_eq!(
            GITHUB_WORKFLOW.matches("environment: [dev, prod]").count(),
            4
        );
        assert!(GITHUB_WORKFLOW.contains("branches: [main]"));
        assert!(GITHUB_WORKFLOW.contains("github.ref == 'refs/heads/main'"));
        let w = github_workflow(&envs(), "master");
        assert!(!w.contains("[dev, prod]"));
        assert_eq!(w.matches("environment: [dev, \"on\"]").count(), 4);
        assert!(w.contains("branches: [master]") && w.contains("refs/heads/master"));
    }

    #[test]
    fn gitlab_ci_extends_every_template_job() {
        let y = gitlab_ci(&envs());
        for job in ["validate", "diff", "apply", "drift"] {
            assert!(
                GITLAB_TEMPLATE.contains(&format!("\n.kubeship-{job}:\n")),
                "{job}"
            );
            assert!(y.contains(&format!("kubeship-{job}:\n  extends: .kubeship-{job}\n")));
        }
        assert_eq!(y.matches("KUBESHIP_ENV: [dev, \"on\"]").count(), 4);
    }

    #[test]
    fn templates_name_this_version_of_the_image() {
        let tag = concat!("ghcr.io/kubeship/kubeship:", env!("CARGO_PKG_VERSION"));
        assert!(GITLAB_TEMPLATE.contains(tag));
        assert!(include_str!("../../templates/kubeship.yml").contains(tag));
        assert!(include_str!("../../action.yml").contains(&format!("{tag}-action")));
        assert!(
            GITHUB_WORKFLOW.contains(concat!("kubeship/kubeship@v", env!("CARGO_PKG_VERSION")))
        );
    }

    #[test]
    fn scalars_are_quoted_when_needed() {
        assert_eq!(scalar("dev"), "dev");
        assert_eq!(scalar("eu-west/prod"), "eu-west/prod");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("1.5"), "\"1.5\"");
        assert_eq!(scalar("a b"), "\"a b\"");
        assert_eq!(scalar("-x"), "\"-x\"");
    }

    #[test]
    fn discovery_prefers_clusters() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("overlays/staging")).unwrap();
        assert_eq!(
            discover(dir.path()),
            vec![FoundEnv {
                name: "staging".into(),
                path: "overlays/staging".into()
            }]
        );
        std::fs::create_dir_all(dir.path().join("clusters/prod")).unwrap();
        std::fs::create_dir_all(dir.path().join("clusters/.hidden")).unwrap();
        assert_eq!(discover(dir.path())[0].path, "clusters/prod");
        assert_eq!(discover(dir.path()).len(), 1);
    }
}
