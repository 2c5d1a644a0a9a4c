//! Shared helpers for CLI tests that run the real binary against the fake API server.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::Duration;

use assert_cmd::Command;
use fake_apiserver::{Config, FakeApiServer, Handle};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A temporary GitOps repository plus a fake cluster and a kubeconfig pointing at it.
pub struct World {
    pub fake: Handle,
    pub repo: tempfile::TempDir,
    pub home: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

pub fn write(path: &Path, text: &str) {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

impl World {
    pub fn new() -> World {
        World::with(Config {
            workload_delay: Duration::from_millis(100),
            crd_establish_delay: Duration::from_millis(100),
            ..Config::default()
        })
    }

    pub fn with(config: Config) -> World {
        let fake = FakeApiServer::start(config).expect("fake api server");
        let home = tempfile::tempdir().expect("home");
        let kubeconfig = home.path().join("kubeconfig");
        fake.write_kubeconfig(&kubeconfig, "fake")
            .expect("kubeconfig");
        let repo = tempfile::tempdir().expect("repo");
        let w = World {
            fake,
            repo,
            home,
            kubeconfig,
        };
        w.file(
            "kubeship.yaml",
            "environments:\n  dev:\n    path: clusters/dev\n    context: fake\n    timeout: 20s\n",
        );
        w
    }

    pub fn file(&self, rel: &str, text: &str) {
        write(&self.repo.path().join(rel), text);
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.repo.path().join(rel)).expect("rm");
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("kubeship").expect("binary");
        c.current_dir(self.repo.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.home.path())
            .env("NO_COLOR", "1")
            .arg("--repo")
            .arg(self.repo.path());
        for v in [
            "GITLAB_CI",
            "GITHUB_ACTIONS",
            "CI_COMMIT_BRANCH",
            "CI_DEFAULT_BRANCH",
            "KUBE_CONTEXT",
            "CI_PIPELINE_URL",
            "GITHUB_STEP_SUMMARY",
        ] {
            c.env_remove(v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.cmd().args(args).output().expect("run kubeship");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Requests that changed state (anything but GET, LIST/WATCH and dry-runs).
    pub fn writes(&self) -> Vec<String> {
        self.fake
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET" && !r.dry_run)
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    pub fn git(&self, args: &[&str]) {
        let out = StdCommand::new("git")
            .current_dir(self.repo.path())
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

pub fn configmap(name: &str, ns: &str, data: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata:\n  {data}\n"
    )
}

pub fn deployment(name: &str, ns: &str, extra_annotations: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\n  annotations:\n    team: shop\n{extra_annotations}spec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n      - name: app\n        image: registry.example.com/{name}:1.0.0\n"
    )
}

pub fn namespace(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")
}

/// Whether the real kubectl is available (tests that need it print a visible skip otherwise).
pub fn kubectl_available() -> bool {
    StdCommand::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success())
}
