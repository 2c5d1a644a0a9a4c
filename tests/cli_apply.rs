//! `kubeship apply` end to end against the fake API server: staged apply, idempotence, prune
//! through the ApplySet inventory, failures, retries, health, guards and the lock.

mod common;

use std::time::Duration;

use common::{World, configmap, deployment, kubectl_available, namespace};
use serde_json::json;

fn base(w: &World) {
    w.file("clusters/dev/ns.yaml", &namespace("shop"));
    w.file(
        "clusters/dev/cm.yaml",
        &configmap("settings", "shop", "color: blue"),
    );
    w.file("clusters/dev/app.yaml", &deployment("web", "shop", ""));
}

fn json_of(r: &common::Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.all()))
}

fn summary(v: &serde_json::Value) -> serde_json::Value {
    v["summary"].clone()
}

#[test]
fn first_apply_then_second_apply_writes_nothing_then_update() {
    let w = World::new();
    base(&w);
    let r = w.run(&["apply", "--env", "dev", "--yes", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let v = json_of(&r);
    assert_eq!(
        summary(&v),
        json!({"created": 3, "configured": 0, "unchanged": 0, "pruned": 0, "failed": 0})
    );
    assert_eq!(v["healthy"], true);
    assert_eq!(v["environment"], "dev");
    assert!(v["durationMs"].is_u64());
    let cm = w
        .fake
        .get("v1", "ConfigMap", Some("shop"), "settings")
        .expect("created");
    assert_eq!(cm["data"]["color"], "blue");
    let parent = w
        .fake
        .get("v1", "Secret", Some("default"), "kubeship-dev")
        .expect("inventory");
    let id = parent["metadata"]["labels"]["applyset.kubernetes.io/id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(id.starts_with("applyset-") && id.ends_with("-v1"));
    assert_eq!(
        cm["metadata"]["labels"]["applyset.kubernetes.io/part-of"],
        id.as_str()
    );
    let ann = &parent["metadata"]["annotations"];
    assert_eq!(
        ann["applyset.kubernetes.io/contains-group-kinds"],
        "ConfigMap,Deployment.apps,Namespace"
    );
    assert_eq!(ann["applyset.kubernetes.io/additional-namespaces"], "shop");
    assert!(
        ann["applyset.kubernetes.io/tooling"]
            .as_str()
            .unwrap()
            .starts_with("kubeship/v")
    );

    w.fake.clear_requests();
    let r = w.run(&["apply", "--env", "dev", "--yes", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        summary(&json_of(&r)),
        json!({"created": 0, "configured": 0, "unchanged": 3, "pruned": 0, "failed": 0})
    );
    assert!(
        w.writes().is_empty(),
        "a second apply writes nothing: {:?}",
        w.writes()
    );

    w.file(
        "clusters/dev/cm.yaml",
        &configmap("settings", "shop", "color: green"),
    );
    let r = w.run(&["apply", "--env", "dev", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("ConfigMap/shop/settings configured"),
        "{}",
        r.stdout
    );
    assert_eq!(
        w.fake
            .get("v1", "ConfigMap", Some("shop"), "settings")
            .unwrap()["data"]["color"],
        "green"
    );
}

#[test]
fn prune_deletes_removed_members_only() {
    let w = World::new();
    base(&w);
    w.file("clusters/dev/old.yaml", &configmap("old", "shop", "a: b"));
    w.file(
        "clusters/dev/keep.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n  namespace: shop\n  annotations:\n    kubeship.io/prune: disabled\ndata:\n  a: b\n",
    );
    assert_eq!(w.run(&["apply", "--env", "dev", "--yes"]).code, 0);
    // Created by someone else: no inventory label, never pruned.
    w.fake
        .seed_apply("someone-else", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "foreign", "namespace": "shop"}, "data": {"x": "y"}}))
        .expect("seed");
    w.remove("clusters/dev/old.yaml");
    w.remove("clusters/dev/keep.yaml");
    let r = w.run(&["apply", "--env", "dev", "--yes", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let v = json_of(&r);
    assert_eq!(v["summary"]["pruned"], 1, "{v}");
    let objects = v["objects"].as_array().unwrap();
    assert!(
        objects
            .iter()
            .any(|o| o["object"] == "ConfigMap/shop/old" && o["action"] == "pruned")
    );
    let kept = objects
        .iter()
        .find(|o| o["object"] == "ConfigMap/shop/keep")
        .expect("keep listed");
    assert_eq!(kept["action"], "skipped");
    assert!(w.fake.get("v1", "ConfigMap", Some("shop"), "old").is_none());
    assert!(
        w.fake
            .get("v1", "ConfigMap", Some("shop"), "keep")
            .is_some()
    );
    assert!(
        w.fake
            .get("v1", "ConfigMap", Some("shop"), "foreign")
            .is_some()
    );
    // Namespaces are protected unless opted in.
    w.file("clusters/dev/temp.yaml", &namespace("temp"));
    assert_eq!(w.run(&["apply", "--env", "dev", "--yes"]).code, 0);
    w.remove("clusters/dev/temp.yaml");
    let r = w.run(&["apply", "--env", "dev", "--yes", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let v = json_of(&r);
    let ns = v["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["object"] == "Namespace/temp")
        .cloned()
        .expect("listed");
    assert_eq!(ns["action"], "skipped", "{ns}");
    assert!(ns["reason"].as_str().unwrap().contains("protected"), "{ns}");
    assert!(w.fake.get("v1", "Namespace", None, "temp").is_some());
    let r = w.run(&[
        "apply",
        "--env",
        "dev",
        "--yes",
        "--prune-kind",
        "Namespace",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(json_of(&r)["summary"]["pruned"], 1);
}

#[test]
fn crd_and_custom_resource_and_namespace_in_one_first_apply() {
    let w = World::new();
    w.file(
        "clusters/dev/crd.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets, singular: widget}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n",
    );
    w.file("clusters/dev/ns.yaml", &namespace("fresh"));
    w.file("clusters/dev/widget.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\n  namespace: fresh\nspec:\n  size: 3\n");
    w.file("clusters/dev/cm.yaml", &configmap("c", "fresh", "a: b"));
    let r = w.run(&["apply", "--env", "dev", "--yes", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(summary(&json_of(&r))["created"], 4);
    assert!(
        w.fake
            .get("example.com/v1", "Widget", Some("fresh"), "w1")
            .is_some()
    );
    // The CRD and namespace were written before the objects that need them.
    let writes = w.writes();
    let pos = |needle: &str| {
        writes
            .iter()
            .position(|x| x.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in {writes:?}"))
    };
    assert!(pos("customresourcedefinitions") < pos("/widgets/"));
    assert!(pos("/namespaces/fresh") < pos("/configmaps/c"));
}

#[test]
fn immutable_change_fails_that_object_exits_1_and_blocks_prune() {
    let w = World::new();
    base(&w);
    w.file("clusters/dev/old.yaml", &configmap("old", "shop", "a: b"));
    assert_eq!(w.run(&["apply", "--env", "dev", "--yes"]).code, 0);
    w.remove("clusters/dev/old.yaml");
    w.file(
        "clusters/dev/app.yaml",
        &deployment("web", "shop", "")
            .replace("matchLabels: {app: web}", "matchLabels: {app: web, v: two}")
            .replace("labels: {app: web}", "labels: {app: web, v: two}"),
    );
    w.file(
        "clusters/dev/cm.yaml",
        &configmap("settings", "shop", "color: red"),
    );
    let r = w.run(&["apply", "--env", "dev", "--yes", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let v = json_of(&r);
    let web = v["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["object"] == "Deployment/shop/web")
        .cloned()
        .unwrap();
    assert_eq!(web["action"], "failed");
    assert!(
        web["error"]
            .as_str()
            .unwrap()
            .contains("field is immutable"),
        "{web}"
    );
    // The rest of the stage still ran, and nothing was pruned.
    assert_eq!(
        w.fake
            .get("v1", "ConfigMap", Some("shop"), "settings")
            .unwrap()["data"]["color"],
        "red"
    );
    assert!(
        w.fake.get("v1", "ConfigMap", Some("shop"), "old").is_some(),
        "no prune after a failure"
    );
}

#[test]
fn admission_rejection_is_a_failed_object_with_the_server_message() {
    let w = World::new();
    base(&w);
    w.file(
        "clusters/dev/bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: shop\n  annotations:\n    fake-apiserver/reject: policy forbids this configmap\ndata:\n  a: b\n",
    );
    let r = w.run(&["apply", "--env", "dev", "--yes"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout.contains("ConfigMap/shop/bad failed"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("denied the request: policy forbids this configmap"),
        "{}",
        r.stdout
    );
    assert!(
        w.fake
            .get("v1", "ConfigMap", Some("shop"), "settings")
            .is_some()
    );
}

#[test]
fn server_errors_and_throttling_on_writes_converge() {
    let w = World::new();
    base(&w);
    w.fake.set_retry_after(1);
    w.fake.fail_next_matching(
        2,
        500,
        fake_apiserver::RequestMatcher::any()
            .method("PATCH")
            .query_contains("force="),
    );
    w.fake.fail_next_matching(
        2,
        429,
        fake_apiserver::RequestMatcher::any()
            .method("PATCH")
            .path_contains("/configmaps/"),
    );
    let r = w.run(&["apply", "--env", "dev", "--yes", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(summary(&json_of(&r))["failed"], 0);
    assert!(
        w.fake
            .get("v1", "ConfigMap", Some("shop"), "settings")
            .is_some()
    );
}

#[test]
fn a_stuck_deployment_times_out_and_is_named() {
    let w = World::new();
    base(&w);
    w.file(
        "clusters/dev/app.yaml",
        &deployment("web", "shop", "    fake-apiserver/stuck: \"true\"\n"),
    );
    let r = w.run(&[
        "apply",
        "--env",
        "dev",
        "--yes",
        "--timeout",
        "3s",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    let v = json_of(&r);
    assert_eq!(v["healthy"], false);
    let unhealthy = v["unhealthy"].as_array().unwrap();
    assert!(
        unhealthy
            .iter()
            .any(|u| u["object"] == "Deployment/shop/web"),
        "{v}"
    );
    let t = w.run(&["apply", "--env", "dev", "--yes", "--timeout", "2s"]);
    assert!(t.stdout.contains("Deployment/shop/web"), "{}", t.stdout);
    assert!(t.stdout.contains("NOT HEALTHY"), "{}", t.stdout);
}

#[test]
fn an_empty_render_is_refused() {
    let w = World::new();
    w.file("clusters/dev/README.yaml", "# nothing here\n");
    let r = w.run(&["apply", "--env", "dev", "--yes"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("empty"), "{}", r.stderr);
    assert!(w.writes().is_empty());
}

#[test]
fn the_wrong_cluster_is_refused_with_no_write() {
    let w = World::new();
    base(&w);
    w.file(
        "kubeship.yaml",
        "environments:\n  dev:\n    path: clusters/dev\n    context: fake\n    server: https://elsewhere.example:6443\n",
    );
    w.fake.clear_requests();
    let r = w.run(&["apply", "--env", "dev", "--yes"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(w.fake.requests().is_empty());
}

#[test]
fn no_terminal_and_no_yes_exits_2() {
    let w = World::new();
    base(&w);
    let r = w.run(&["apply", "--env", "dev"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("--yes"), "{}", r.stderr);
}

#[test]
fn ci_applies_only_from_the_deploy_branch() {
    let w = World::new();
    base(&w);
    let out = w
        .cmd()
        .args(["apply", "--env", "dev", "--yes"])
        .env("GITLAB_CI", "true")
        .env("CI_COMMIT_BRANCH", "feature/x")
        .env("CI_DEFAULT_BRANCH", "main")
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("only from branch `main`"));
    assert!(w.writes().is_empty());
    let out = w
        .cmd()
        .args(["apply", "--env", "dev", "--yes", "--force-branch"])
        .env("GITLAB_CI", "true")
        .env("CI_COMMIT_BRANCH", "feature/x")
        .env("CI_DEFAULT_BRANCH", "main")
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_concurrent_apply_waits_on_the_lock_then_gives_up_naming_the_holder() {
    let w = World::new();
    base(&w);
    let now = "2030-01-01T00:00:00.000000Z";
    w.fake
        .seed(
            "other-pipeline",
            json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                   "metadata": {"name": "kubeship-dev", "namespace": "default"},
                   "spec": {"holderIdentity": "https://ci.example.com/pipelines/41", "leaseDurationSeconds": 60,
                            "acquireTime": now, "renewTime": now}}),
        )
        .expect("seed lease");
    let started = std::time::Instant::now();
    let r = w.run(&["apply", "--env", "dev", "--yes", "--lock-timeout", "3s"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(started.elapsed() >= Duration::from_secs(2), "it waited");
    assert!(
        r.stderr.contains("https://ci.example.com/pipelines/41"),
        "{}",
        r.stderr
    );
    assert!(
        w.fake
            .get("v1", "ConfigMap", Some("shop"), "settings")
            .is_none(),
        "nothing applied"
    );
    // Released (no holder): the next apply takes it.
    let mut lease = w
        .fake
        .get(
            "coordination.k8s.io/v1",
            "Lease",
            Some("default"),
            "kubeship-dev",
        )
        .unwrap();
    lease["spec"]["holderIdentity"] = json!("");
    w.fake.seed("other-pipeline", lease).expect("release");
    let r = w.run(&["apply", "--env", "dev", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let lease = w
        .fake
        .get(
            "coordination.k8s.io/v1",
            "Lease",
            Some("default"),
            "kubeship-dev",
        )
        .unwrap();
    assert_eq!(lease["spec"]["holderIdentity"], "", "released at the end");
}

#[test]
fn after_apply_kubectl_sees_no_diff_and_understands_the_applyset() {
    if !kubectl_available() {
        eprintln!("SKIPPED: kubectl not found on PATH; kubectl diff after apply not checked");
        return;
    }
    let w = World::new();
    base(&w);
    assert_eq!(w.run(&["apply", "--env", "dev", "--yes"]).code, 0);
    let rendered = w.run(&["render", "--env", "dev"]);
    let file = w.home.path().join("rendered.yaml");
    std::fs::write(&file, &rendered.stdout).expect("write");
    let diff = std::process::Command::new("kubectl")
        .args(["diff", "--server-side", "-f"])
        .arg(&file)
        .env("KUBECONFIG", &w.kubeconfig)
        .env("HOME", w.home.path())
        .output()
        .expect("kubectl");
    assert_eq!(
        diff.status.code(),
        Some(0),
        "kubectl diff: {}{}",
        String::from_utf8_lossy(&diff.stdout),
        String::from_utf8_lossy(&diff.stderr)
    );
    let applyset = std::process::Command::new("kubectl")
        .args([
            "apply",
            "--server-side",
            "--prune",
            "--applyset=secrets/kubeship-dev",
            "-n",
            "default",
            "--dry-run=server",
            "-f",
        ])
        .arg(&file)
        .env("KUBECTL_APPLYSET", "true")
        .env("KUBECONFIG", &w.kubeconfig)
        .env("HOME", w.home.path())
        .output()
        .expect("kubectl");
    let err = String::from_utf8_lossy(&applyset.stderr);
    // kubectl reads the parent, validates its id and recognizes our tooling.
    assert!(err.contains("managed by tooling \"kubeship\""), "{err}");
}

#[test]
fn on_a_terminal_it_shows_the_plan_and_asks() {
    let has_script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        eprintln!("SKIPPED: `script` (util-linux) not found; the terminal prompt is not checked");
        return;
    }
    let w = World::new();
    base(&w);
    let bin = assert_cmd::cargo::cargo_bin("kubeship");
    let ask = |answer: &str| {
        let cmd = format!(
            "{} --repo {} apply --env dev",
            bin.display(),
            w.repo.path().display()
        );
        let mut child = std::process::Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env("KUBECONFIG", &w.kubeconfig)
            .env("HOME", w.home.path())
            .env("NO_COLOR", "1")
            .env_remove("GITLAB_CI")
            .env_remove("GITHUB_ACTIONS")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("script");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answer.as_bytes())
            .unwrap();
        let out = child.wait_with_output().expect("wait");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let no = ask("n\n");
    assert!(no.contains("Plan: 3 to create"), "{no}");
    assert!(no.contains("Apply to dev (context fake)? [y/N]"), "{no}");
    assert!(
        w.fake
            .get("v1", "ConfigMap", Some("shop"), "settings")
            .is_none(),
        "declined: nothing applied"
    );
    let yes = ask("y\n");
    assert!(yes.contains("ConfigMap/shop/settings created"), "{yes}");
    assert!(
        w.fake
            .get("v1", "ConfigMap", Some("shop"), "settings")
            .is_some()
    );
}
