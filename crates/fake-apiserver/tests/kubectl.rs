//! The real `kubectl` against the fake server: get, get -l, apply --server-side (also
//! --dry-run=server), re-apply without changes, diff --server-side, scale, label, delete,
//! namespaces, CRD + custom resource, rollout status / wait (watch), conflicts.
//! Skips (with a visible message) when kubectl is not on PATH.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use common::*;
use fake_apiserver::{Config, FakeApiServer, Handle};
use serde_json::Value;

fn kubectl_available() -> bool {
    Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

struct Kubectl {
    home: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Kubectl {
    fn new(h: &Handle) -> Kubectl {
        let home = tempfile::tempdir().unwrap();
        let kubeconfig = home.path().join("kubeconfig");
        h.write_kubeconfig(&kubeconfig, "fake").unwrap();
        Kubectl { home, kubeconfig }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.run_env(args, stdin, &[])
    }

    fn run_env(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
        use std::io::Write;
        let mut cmd = Command::new("kubectl");
        cmd.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    /// Run and require success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args, None);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed ({:?})\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn file(&self, name: &str, content: &str) -> String {
        let p = self.home.path().join(name);
        std::fs::write(&p, content).unwrap();
        p.to_string_lossy().into_owned()
    }
}

fn manifests(replicas: u32) -> String {
    format!(
        "{}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\n  labels:\n    app: web\nspec:\n  selector:\n    app: web\n  ports:\n  - port: 80\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: default\n  labels:\n    app: web\ndata:\n  mode: prod\n",
        deployment_yaml("web", replicas, "nginx:1.25")
            .replace("  name: web\n", "  name: web\n  namespace: default\n")
    )
}

fn skip() -> bool {
    if kubectl_available() {
        return false;
    }
    eprintln!("SKIPPED: kubectl not found");
    true
}

fn server() -> Handle {
    FakeApiServer::start(Config {
        workload_delay: Duration::from_millis(50),
        crd_establish_delay: Duration::from_millis(50),
        ..Config::default()
    })
    .unwrap()
}

#[test]
fn kubectl_get_apply_diff_delete() {
    if skip() {
        return;
    }
    let h = server();
    let k = Kubectl::new(&h);

    let ns = k.ok(&["get", "ns"]);
    for n in ["default", "kube-system", "kube-public"] {
        assert!(ns.contains(n), "{ns}");
    }
    assert!(ns.contains("Active"));

    let file = k.file("app.yaml", &manifests(2));
    let out = k.ok(&["apply", "--server-side", "-f", &file]);
    assert!(
        out.contains("deployment.apps/web serverside-applied"),
        "{out}"
    );
    assert!(out.contains("service/web serverside-applied"), "{out}");
    assert!(
        out.contains("configmap/web-config serverside-applied"),
        "{out}"
    );
    let log = h.requests();
    let patch = log
        .iter()
        .find(|r| r.method == "PATCH" && r.path.ends_with("/deployments/web"))
        .unwrap();
    assert_eq!(patch.field_manager.as_deref(), Some("kubectl"));
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/apply-patch+yaml")
    );
    // client-go only sends credentials over TLS, so kubectl's requests carry no Authorization.
    assert!(!patch.authorization);

    // Wait for the rollout (watch-based), then re-apply: nothing changes.
    let out = k.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]);
    assert!(out.contains("successfully rolled out"), "{out}");
    k.ok(&[
        "wait",
        "--for=condition=Available",
        "deployment/web",
        "--timeout=20s",
    ]);
    let before = h
        .get("apps/v1", "Deployment", Some("default"), "web")
        .unwrap();
    let out = k.ok(&["apply", "--server-side", "-f", &file]);
    assert!(out.contains("serverside-applied"), "{out}");
    let after = h
        .get("apps/v1", "Deployment", Some("default"), "web")
        .unwrap();
    assert_eq!(
        rv(&before),
        rv(&after),
        "second apply must not change resourceVersion"
    );

    // Server dry-run stores nothing.
    let changed = k.file("changed.yaml", &manifests(5));
    let out = k.ok(&["apply", "--server-side", "--dry-run=server", "-f", &changed]);
    assert!(out.contains("serverside-applied (server dry run)"), "{out}");
    assert_eq!(
        h.get("apps/v1", "Deployment", Some("default"), "web")
            .unwrap()["spec"]["replicas"],
        2
    );
    assert!(
        h.requests()
            .iter()
            .any(|r| r.dry_run && r.method == "PATCH")
    );

    // diff: no changes -> 0; a change -> 1 with the change shown.
    let same = k.run(&["diff", "--server-side", "-f", &file], None);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    let diff = k.run(&["diff", "--server-side", "-f", &changed], None);
    assert_eq!(
        diff.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&diff.stderr)
    );
    let text = String::from_utf8_lossy(&diff.stdout);
    assert!(
        text.contains("-  replicas: 2") && text.contains("+  replicas: 5"),
        "{text}"
    );

    // get, get -l, -o json.
    let out = k.ok(&["get", "deployments"]);
    assert!(out.contains("web") && out.contains("2/2"), "{out}");
    let out = k.ok(&["get", "configmaps,services", "-l", "app=web", "-o", "name"]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["configmap/web-config", "service/web"]
    );
    assert!(
        k.ok(&["get", "cm", "-l", "app=other", "-o", "name"])
            .trim()
            .is_empty()
    );
    let out = k.ok(&["get", "svc", "web", "-o", "json"]);
    let svc: Value = serde_json::from_str(&out).unwrap();
    assert!(
        svc["spec"]["clusterIP"]
            .as_str()
            .unwrap()
            .starts_with("10.96.")
    );

    // label (merge patch) and scale (scale subresource), then a conflict on replicas.
    k.ok(&["label", "configmap", "web-config", "team=platform"]);
    assert_eq!(
        h.get("v1", "ConfigMap", Some("default"), "web-config")
            .unwrap()["metadata"]["labels"]["team"],
        "platform"
    );
    k.ok(&["scale", "deployment/web", "--replicas=4"]);
    let conflict = k.run(&["apply", "--server-side", "-f", &file], None);
    assert!(!conflict.status.success());
    let err = String::from_utf8_lossy(&conflict.stderr);
    assert!(err.contains("Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas"), "{err}");
    k.ok(&["apply", "--server-side", "--force-conflicts", "-f", &file]);
    assert_eq!(
        h.get("apps/v1", "Deployment", Some("default"), "web")
            .unwrap()["spec"]["replicas"],
        2
    );

    // delete.
    let out = k.ok(&["delete", "-f", &file]);
    assert!(out.contains("deployment.apps \"web\" deleted"), "{out}");
    assert!(
        h.get("apps/v1", "Deployment", Some("default"), "web")
            .is_none()
    );
    let missing = k.run(&["get", "deployment", "web"], None);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("deployments.apps \"web\" not found")
    );
}

#[test]
fn kubectl_namespaces_and_missing_namespace() {
    if skip() {
        return;
    }
    let h = server();
    let k = Kubectl::new(&h);
    let ns = k.file(
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n",
    );
    k.ok(&["apply", "--server-side", "-f", &ns]);
    let out = k.ok(&["get", "ns", "team-a"]);
    assert!(out.contains("Active"), "{out}");
    let cm = k.file(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: ghost\n",
    );
    let out = k.run(&["apply", "--server-side", "-f", &cm], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("namespaces \"ghost\" not found"));
    let out = k.run(
        &["apply", "--server-side", "--dry-run=server", "-f", &cm],
        None,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("namespaces \"ghost\" not found"));
    // Client-side apply (last-applied annotation + strategic merge patch).
    let csa = k.file("csa.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: csa\n  namespace: team-a\ndata:\n  a: \"1\"\n");
    assert!(
        k.ok(&["apply", "-f", &csa])
            .contains("configmap/csa created")
    );
    assert!(
        k.ok(&["apply", "-f", &csa])
            .contains("configmap/csa unchanged")
    );
    let csa2 = k.file("csa2.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: csa\n  namespace: team-a\ndata:\n  b: \"2\"\n");
    assert!(
        k.ok(&["apply", "-f", &csa2])
            .contains("configmap/csa configured")
    );
    let cm = h.get("v1", "ConfigMap", Some("team-a"), "csa").unwrap();
    assert_eq!(
        cm["data"],
        serde_json::json!({"b": "2"}),
        "client-side apply removed a"
    );

    // Typed imperative commands send protobuf bodies.
    k.ok(&["create", "namespace", "team-b"]);
    k.ok(&[
        "create",
        "configmap",
        "settings",
        "-n",
        "team-b",
        "--from-literal=mode=prod",
    ]);
    k.ok(&[
        "create",
        "secret",
        "generic",
        "creds",
        "-n",
        "team-b",
        "--from-literal=password=hunter2",
    ]);
    k.ok(&["create", "serviceaccount", "bot", "-n", "team-b"]);
    let cm = h
        .get("v1", "ConfigMap", Some("team-b"), "settings")
        .unwrap();
    assert_eq!(cm["data"]["mode"], "prod");
    let secret = h.get("v1", "Secret", Some("team-b"), "creds").unwrap();
    assert_eq!(secret["data"]["password"], "aHVudGVyMg==");
    assert_eq!(secret["type"], "Opaque");
    assert!(
        h.get("v1", "ServiceAccount", Some("team-b"), "bot")
            .is_some()
    );
    let out = k.ok(&["get", "cm,secret,sa", "-n", "team-b", "-o", "name"]);
    assert!(
        out.contains("configmap/settings")
            && out.contains("secret/creds")
            && out.contains("serviceaccount/bot"),
        "{out}"
    );
    k.ok(&["delete", "ns", "team-a", "team-b", "--timeout=20s"]);
    assert!(h.get("v1", "Namespace", None, "team-a").is_none());
}

#[test]
fn kubectl_crd_then_custom_resource() {
    if skip() {
        return;
    }
    let h = server();
    let k = Kubectl::new(&h);
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names:\n    kind: Widget\n    plural: widgets\n    singular: widget\n    shortNames: [wd]\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    additionalPrinterColumns:\n    - name: Size\n      type: integer\n      jsonPath: .spec.size\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            properties:\n              size:\n                type: integer\n";
    let cr = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\n  namespace: default\nspec:\n  size: 3\n";
    let crd_file = k.file("crd.yaml", crd);
    k.ok(&["apply", "--server-side", "-f", &crd_file]);
    k.ok(&[
        "wait",
        "--for=condition=Established",
        "crd/widgets.example.com",
        "--timeout=20s",
    ]);
    let cr_file = k.file("cr.yaml", cr);
    let out = k.ok(&["apply", "--server-side", "-f", &cr_file]);
    assert!(
        out.contains("widget.example.com/w1 serverside-applied"),
        "{out}"
    );
    let out = k.ok(&["get", "wd"]);
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines, [vec!["NAME", "SIZE"], vec!["w1", "3"]], "{out}");
    let out = k.ok(&["get", "crd"]);
    assert!(
        out.contains("CREATED AT") && out.contains("widgets.example.com"),
        "{out}"
    );
    let same = k.run(&["diff", "--server-side", "-f", &cr_file], None);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    // Unknown fields are rejected (kubectl sends fieldValidation=Strict).
    let bad = k.file("bad.yaml", &cr.replace("size: 3", "size: 3\n  colour: red"));
    let out = k.run(&["apply", "--server-side", "-f", &bad], None);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(".spec.colour: field not declared in schema")
    );
    k.ok(&["delete", "crd", "widgets.example.com"]);
    assert!(
        h.list("example.com/v1", "Widget", Some("default"))
            .is_empty()
    );

    // CRD and CR in one file (fresh discovery cache): kubectl reports the missing mapping,
    // as against a real cluster, and applying again once established succeeds.
    let k2 = Kubectl::new(&h);
    let both = k2.file(
        "both.yaml",
        &format!("{crd}---\n{}", cr.replace("w1", "w2")),
    );
    let out = k2.run(&["apply", "--server-side", "-f", &both], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ensure CRDs are installed first"), "{err}");
    k2.ok(&[
        "wait",
        "--for=condition=Established",
        "crd/widgets.example.com",
        "--timeout=20s",
    ]);
    let out = k2.ok(&["apply", "--server-side", "-f", &both]);
    assert!(
        out.contains("widget.example.com/w2 serverside-applied"),
        "{out}"
    );
}

#[test]
fn kubectl_applyset_prune() {
    if skip() {
        return;
    }
    let h = server();
    let k = Kubectl::new(&h);
    let env = [("KUBECTL_APPLYSET", "true")];
    let all = k.file("all.yaml", &manifests(1));
    let args = [
        "apply",
        "-n",
        "default",
        "--server-side",
        "--prune",
        "--applyset=secret/env-dev",
        "-f",
    ];
    let out = k.run_env(&[&args[..], &[all.as_str()]].concat(), None, &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parent = h.get("v1", "Secret", Some("default"), "env-dev").unwrap();
    assert!(
        parent["metadata"]["labels"]["applyset.kubernetes.io/id"]
            .as_str()
            .unwrap()
            .starts_with("applyset-")
    );
    assert_eq!(
        parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"],
        "ConfigMap,Deployment.apps,Service"
    );
    let cm = h
        .get("v1", "ConfigMap", Some("default"), "web-config")
        .unwrap();
    assert!(cm["metadata"]["labels"]["applyset.kubernetes.io/part-of"].is_string());
    // Drop the Service and ConfigMap from the set: kubectl prunes them.
    let only = k.file(
        "only.yaml",
        &deployment_yaml("web", 1, "nginx:1.25")
            .replace("  name: web\n", "  name: web\n  namespace: default\n"),
    );
    let out = k.run_env(&[&args[..], &[only.as_str()]].concat(), None, &env);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("configmap/web-config pruned") && text.contains("service/web pruned"),
        "{text}"
    );
    assert!(h.get("v1", "Service", Some("default"), "web").is_none());
    assert!(
        h.get("apps/v1", "Deployment", Some("default"), "web")
            .is_some()
    );
}
