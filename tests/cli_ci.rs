//! `kubeship ci` through the real binary: it reads GitLab/GitHub variables and runs what the
//! pipeline needs (validate + diff + comment on merge requests, validate + apply on the default
//! branch, drift with a notification on a schedule).

mod common;

use common::{World, configmap, namespace};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn run_with(w: &World, args: &[&str], vars: &[(&str, String)]) -> common::Run {
    let mut c = w.cmd();
    c.args(args).current_dir(w.repo.path());
    for (k, v) in vars {
        c.env(k, v);
    }
    let out = c.output().expect("run");
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn repo(w: &World) {
    w.file("clusters/dev/ns.yaml", &namespace("shop"));
    w.file(
        "clusters/dev/cm.yaml",
        &configmap("settings", "shop", "color: blue"),
    );
}

#[test]
fn outside_ci_it_says_what_to_use() {
    let w = World::new();
    repo(&w);
    let r = w.run(&["ci"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("GitLab CI or GitHub Actions"),
        "{}",
        r.stderr
    );
}

#[test]
fn default_branch_validates_then_applies() {
    let w = World::new();
    repo(&w);
    let vars = vec![
        ("GITLAB_CI", "true".to_string()),
        ("CI_PIPELINE_SOURCE", "push".to_string()),
        ("CI_COMMIT_BRANCH", "main".to_string()),
        ("CI_DEFAULT_BRANCH", "main".to_string()),
    ];
    let r = run_with(&w, &["ci"], &vars);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        w.fake
            .get("v1", "ConfigMap", Some("shop"), "settings")
            .is_some(),
        "applied"
    );
    assert!(
        w.repo.path().join("kubeship-junit.xml").is_file(),
        "junit report written"
    );
    assert!(
        w.repo.path().join("kubeship-codequality.json").is_file(),
        "code quality report written"
    );

    // A validation error stops the apply.
    w.file(
        "clusters/dev/bad.yaml",
        "apiVersion: apps/v1\nkind: Deploymnet\nmetadata:\n  name: x\n  namespace: shop\n",
    );
    w.file(
        "clusters/dev/cm.yaml",
        &configmap("settings", "shop", "color: red"),
    );
    let r = run_with(&w, &["ci"], &vars);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("nothing is applied"), "{}", r.stderr);
    assert_eq!(
        w.fake
            .get("v1", "ConfigMap", Some("shop"), "settings")
            .unwrap()["data"]["color"],
        "blue"
    );
}

#[test]
fn merge_request_without_cluster_diffs_against_the_target_branch() {
    let w = World::new();
    repo(&w);
    w.git(&["init", "-q", "-b", "main"]);
    w.git(&["add", "-A"]);
    w.git(&["commit", "-q", "-m", "base"]);
    w.git(&["checkout", "-q", "-b", "feature"]);
    w.file(
        "clusters/dev/cm.yaml",
        &configmap("settings", "shop", "color: green"),
    );
    let vars = vec![
        ("GITLAB_CI", "true".to_string()),
        ("CI_PIPELINE_SOURCE", "merge_request_event".to_string()),
        ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main".to_string()),
        ("KUBECONFIG", "/nonexistent/kubeconfig".to_string()),
    ];
    let r = run_with(&w, &["ci"], &vars);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("Plan: 0 to create, 1 to update, 0 to delete, 1 unchanged"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("+  color: green"), "{}", r.stdout);
    let md = std::fs::read_to_string(w.repo.path().join("kubeship-diff-dev.md"))
        .expect("markdown artifact");
    assert!(md.contains("ConfigMap/shop/settings"), "{md}");
    assert!(w.fake.requests().is_empty(), "no cluster was used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_reports_drift_and_notifies() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let w = World::new();
    w.file(
        "kubeship.yaml",
        "environments:\n  dev:\n    path: clusters/dev\n    context: fake\n    notify: [audit]\nnotifications:\n  audit:\n    type: generic\n    webhookEnv: AUDIT_URL\n",
    );
    repo(&w);
    assert_eq!(w.run(&["apply", "--env", "dev", "--yes"]).code, 0);
    let vars = vec![
        ("GITLAB_CI", "true".to_string()),
        ("CI_PIPELINE_SOURCE", "schedule".to_string()),
        ("AUDIT_URL", format!("{}/hook", server.uri())),
    ];
    // In sync: exit 0, no notification.
    let r = tokio::task::block_in_place(|| run_with(&w, &["ci"], &vars));
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
    // Someone changed the cluster by hand: drift, exit 1, one notification.
    let mut cm = w
        .fake
        .get("v1", "ConfigMap", Some("shop"), "settings")
        .unwrap();
    cm["data"]["color"] = json!("hand-edited");
    w.fake.seed_apply("kubectl", cm).expect("hand edit");
    let r = tokio::task::block_in_place(|| run_with(&w, &["ci"], &vars));
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("drifted"), "{}", r.stderr);
    let reqs = server.received_requests().await.unwrap_or_default();
    assert_eq!(reqs.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&reqs[0].body).expect("json");
    assert_eq!(body["kind"], "drift");
    assert_eq!(body["changes"][0]["object"], "ConfigMap/shop/settings");
    // --reconcile applies instead.
    let r = tokio::task::block_in_place(|| run_with(&w, &["ci", "--reconcile"], &vars));
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        w.fake
            .get("v1", "ConfigMap", Some("shop"), "settings")
            .unwrap()["data"]["color"],
        "blue"
    );
}
