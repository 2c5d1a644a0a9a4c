//! `kubeship diff` end to end: the real binary against the fake API server (and git
//! revisions), asserting outputs and the fake's request log.

mod common;

use common::{World, configmap, deployment, namespace};

fn base(w: &World) {
    w.file("clusters/dev/ns.yaml", &namespace("shop"));
    w.file(
        "clusters/dev/cm.yaml",
        &configmap("settings", "shop", "color: blue"),
    );
    w.file("clusters/dev/app.yaml", &deployment("web", "shop", ""));
}

#[test]
fn diff_shows_creates_updates_and_deletes_and_never_writes() {
    let w = World::new();
    base(&w);
    let r = w.run(&["diff", "--env", "dev"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("+ Namespace/shop (create)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Plan: 3 to create, 0 to update, 0 to delete, 0 unchanged"),
        "{}",
        r.stdout
    );
    let r = w.run(&["diff", "--env", "dev", "--exit-code"]);
    assert_eq!(r.code, 1, "changes with --exit-code: {}", r.all());
    assert!(
        w.writes().is_empty(),
        "diff must not write: {:?}",
        w.writes()
    );
    for req in w.fake.requests() {
        assert!(
            req.method == "GET" || req.dry_run,
            "only GET, LIST and dryRun=All requests: {} {} {:?}",
            req.method,
            req.path,
            req.query
        );
    }

    let a = w.run(&["apply", "--env", "dev", "--yes"]);
    assert_eq!(a.code, 0, "{}", a.all());
    let r = w.run(&["diff", "--env", "dev", "--exit-code"]);
    assert_eq!(r.code, 0, "no change after apply: {}", r.all());
    assert!(
        r.stdout
            .contains("0 to create, 0 to update, 0 to delete, 3 unchanged"),
        "{}",
        r.stdout
    );

    // An update and a deletion (an inventory member no longer rendered).
    w.file(
        "clusters/dev/cm.yaml",
        &configmap("settings", "shop", "color: green"),
    );
    w.file(
        "clusters/dev/extra.yaml",
        &configmap("extra", "shop", "k: v"),
    );
    assert_eq!(w.run(&["apply", "--env", "dev", "--yes"]).code, 0);
    w.remove("clusters/dev/extra.yaml");
    w.file(
        "clusters/dev/cm.yaml",
        &configmap("settings", "shop", "color: red"),
    );
    w.fake.clear_requests();
    let r = w.run(&["diff", "--env", "dev", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(v["environment"], "dev");
    assert_eq!(
        v["summary"],
        serde_json::json!({"create": 0, "update": 1, "delete": 1, "unchanged": 2})
    );
    let changes = v["changes"].as_array().expect("changes");
    let upd = changes
        .iter()
        .find(|c| c["action"] == "update")
        .expect("update");
    assert_eq!(upd["object"], "ConfigMap/shop/settings");
    assert!(
        upd["diff"]
            .as_str()
            .unwrap()
            .contains("-  color: green\n+  color: red"),
        "{upd}"
    );
    let del = changes
        .iter()
        .find(|c| c["action"] == "delete")
        .expect("delete");
    assert_eq!(del["object"], "ConfigMap/shop/extra");
    assert!(w.writes().is_empty(), "{:?}", w.writes());
}

#[test]
fn secrets_are_masked_in_every_format() {
    let w = World::new();
    w.file("clusters/dev/ns.yaml", &namespace("shop"));
    w.file(
        "clusters/dev/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: shop\nstringData:\n  password: hunter2-old-value\n  user: admin-user\n",
    );
    assert_eq!(w.run(&["apply", "--env", "dev", "--yes"]).code, 0);
    w.file(
        "clusters/dev/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: shop\nstringData:\n  password: s3cr3t-new-value\n  user: admin-user\n  token: tok-abcdef-123456\n",
    );
    let md = w.repo.path().join("diff.md");
    let js = w.repo.path().join("diff.json");
    let r = w.run(&[
        "diff",
        "--env",
        "dev",
        "--output",
        &format!("markdown={}", md.display()),
        "--output",
        &format!("json={}", js.display()),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let markdown = std::fs::read_to_string(&md).expect("md");
    let json = std::fs::read_to_string(&js).expect("json");
    for out in [&r.stdout, &r.stderr, &markdown, &json] {
        for secret in [
            "hunter2-old-value",
            "s3cr3t-new-value",
            "tok-abcdef-123456",
            "aHVudGVyMi1vbGQtdmFsdWU",
            "czNjcjN0LW5ldy12YWx1ZQ",
            "dG9rLWFiY2RlZi0xMjM0NTY",
            "admin-user",
        ] {
            assert!(!out.contains(secret), "secret `{secret}` leaked in:\n{out}");
        }
    }
    assert!(
        r.stdout.contains("*** (before)") && r.stdout.contains("*** (after)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("token"),
        "added key is named: {}",
        r.stdout
    );
}

#[test]
fn pending_creates_for_new_crds_and_namespaces() {
    let w = World::new();
    w.file(
        "clusters/dev/crd.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets, singular: widget}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n",
    );
    w.file("clusters/dev/ns.yaml", &namespace("fresh"));
    w.file("clusters/dev/widget.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\n  namespace: fresh\nspec:\n  size: 3\n");
    w.file("clusters/dev/cm.yaml", &configmap("c", "fresh", "a: b"));
    let r = w.run(&["diff", "--env", "dev", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let find = |o: &str| {
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["object"] == o)
            .cloned()
            .unwrap()
    };
    let widget = find("Widget/fresh/w1");
    assert_eq!(widget["action"], "create");
    assert!(
        widget["pending"]
            .as_str()
            .unwrap()
            .contains("CustomResourceDefinition"),
        "{widget}"
    );
    let cm = find("ConfigMap/fresh/c");
    assert_eq!(cm["action"], "create");
    assert!(
        cm["pending"]
            .as_str()
            .unwrap()
            .contains("namespace `fresh`"),
        "{cm}"
    );
}

#[test]
fn a_refused_dry_run_is_a_finding_on_that_object() {
    let w = World::new();
    base(&w);
    assert_eq!(w.run(&["apply", "--env", "dev", "--yes"]).code, 0);
    // The selector of a Deployment is immutable.
    w.file(
        "clusters/dev/app.yaml",
        &deployment("web", "shop", "")
            .replace("matchLabels: {app: web}", "matchLabels: {app: web, v: two}")
            .replace("labels: {app: web}", "labels: {app: web, v: two}"),
    );
    w.file(
        "clusters/dev/cm.yaml",
        &configmap("settings", "shop", "color: teal"),
    );
    let r = w.run(&["diff", "--env", "dev"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout.contains("x Deployment/shop/web (blocked)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("field is immutable"), "{}", r.stdout);
    assert!(
        r.stdout.contains("~ ConfigMap/shop/settings (update)"),
        "other objects are still diffed: {}",
        r.stdout
    );
}

#[test]
fn wrong_cluster_is_refused_before_any_request() {
    let w = World::new();
    base(&w);
    w.file(
        "kubeship.yaml",
        "environments:\n  dev:\n    path: clusters/dev\n    context: fake\n    server: https://prod.example.com:6443\n",
    );
    w.fake.clear_requests();
    let r = w.run(&["diff", "--env", "dev"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stderr.contains("https://prod.example.com:6443"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&w.fake.url()),
        "names both servers: {}",
        r.stderr
    );
    assert!(
        w.fake.requests().is_empty(),
        "no request at all: {:?}",
        w.fake.requests().len()
    );
}

#[test]
fn transient_errors_are_retried() {
    let w = World::new();
    base(&w);
    w.fake.set_retry_after(1);
    w.fake.fail_next(2, 500);
    let r = w.run(&["diff", "--env", "dev"]);
    assert_eq!(r.code, 0, "{}", r.all());
    w.fake.fail_next(3, 429);
    let r = w.run(&["diff", "--env", "dev"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("Plan: 3 to create"), "{}", r.stdout);
    // A cluster that keeps failing is exit 3, not a crash.
    w.fake.fail_next(10_000, 503);
    let r = w.run(&["diff", "--env", "dev"]);
    assert_eq!(r.code, 3, "{}", r.all());
    w.fake.clear_faults();
}

#[test]
fn unreachable_cluster_exits_3() {
    let w = World::new();
    base(&w);
    w.fake.drop_next(10_000);
    let r = w.run(&["diff", "--env", "dev"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.stderr.contains("could not be reached"), "{}", r.stderr);
}

#[test]
fn against_a_revision_needs_no_cluster() {
    let w = World::new();
    base(&w);
    w.git(&["init", "-q", "-b", "main"]);
    w.git(&["add", "-A"]);
    w.git(&["commit", "-q", "-m", "one"]);
    w.file(
        "clusters/dev/cm.yaml",
        &configmap("settings", "shop", "color: purple"),
    );
    w.file("clusters/dev/new.yaml", &configmap("added", "shop", "x: y"));
    w.remove("clusters/dev/app.yaml");
    let out = w
        .cmd()
        .args(["diff", "--env", "dev", "--against", "HEAD"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Plan: 1 to create, 1 to update, 1 to delete, 1 unchanged"),
        "{stdout}"
    );
    assert!(stdout.contains("+  color: purple"), "{stdout}");
    assert!(w.fake.requests().is_empty(), "no cluster requests");
    let r = w.run(&["diff", "--env", "dev", "--against", "no-such-rev"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("no-such-rev"), "{}", r.stderr);
}

#[test]
fn markdown_stays_within_its_budget() {
    let w = World::new();
    w.file("clusters/dev/ns.yaml", &namespace("shop"));
    for i in 0..60 {
        let data: String = (0..40)
            .map(|j| format!("\n  key{j}: value-{i}-{j}"))
            .collect();
        w.file(
            &format!("clusters/dev/cm{i}.yaml"),
            &configmap(&format!("cm-{i}"), "shop", &format!("first: x{data}")),
        );
    }
    let r = w.run(&[
        "diff",
        "--env",
        "dev",
        "--format",
        "markdown",
        "--max-bytes",
        "8000",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.len() <= 8000, "{}", r.stdout.len());
    assert!(r.stdout.contains("**Truncated:**"), "{}", r.stdout);
    assert!(
        r.stdout.starts_with("### kubeship diff: `dev`"),
        "{}",
        r.stdout
    );
}
