//! The CI face through the real binary: `diff --comment` posts one sticky GitLab note per
//! environment (created, then unchanged with no request), and `apply` notifies Slack; no
//! token or webhook URL appears in any output.

mod common;

use common::{World, configmap, namespace};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "glpat-CLItoken-abcdef123456";

fn gitlab_vars(server: &MockServer) -> Vec<(String, String)> {
    vec![
        ("GITLAB_CI".into(), "true".into()),
        ("CI_API_V4_URL".into(), format!("{}/api/v4", server.uri())),
        ("CI_PROJECT_ID".into(), "42".into()),
        ("CI_MERGE_REQUEST_PROJECT_ID".into(), "42".into()),
        ("CI_MERGE_REQUEST_IID".into(), "7".into()),
        ("CI_COMMIT_SHA".into(), "abc123".into()),
        ("KUBESHIP_GITLAB_TOKEN".into(), TOKEN.into()),
    ]
}

fn run_with(w: &World, args: &[&str], vars: &[(String, String)]) -> common::Run {
    let mut c = w.cmd();
    c.args(args);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_comment_is_created_once_then_left_alone() {
    let server = MockServer::start().await;
    let notes: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>> = Default::default();
    Mock::given(method("GET"))
        .and(path("/api/v4/user"))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 99, "username": "bot"})),
        )
        .mount(&server)
        .await;
    let stored = notes.clone();
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/42/merge_requests/7/notes"))
        .respond_with(move |_: &Request| {
            ResponseTemplate::new(200).set_body_json(json!(stored.lock().unwrap().clone()))
        })
        .mount(&server)
        .await;
    let stored = notes.clone();
    Mock::given(method("POST"))
        .and(path("/api/v4/projects/42/merge_requests/7/notes"))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(move |req: &Request| {
            let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let note =
                json!({"id": 1, "body": body["body"], "author": {"id": 99}, "system": false});
            stored.lock().unwrap().push(note.clone());
            ResponseTemplate::new(201).set_body_json(note)
        })
        .expect(1)
        .mount(&server)
        .await;

    let w = World::new();
    w.file("clusters/dev/ns.yaml", &namespace("shop"));
    w.file(
        "clusters/dev/cm.yaml",
        &configmap("settings", "shop", "color: blue"),
    );
    let vars = gitlab_vars(&server);
    let r =
        tokio::task::block_in_place(|| run_with(&w, &["diff", "--env", "dev", "--comment"], &vars));
    assert_eq!(r.code, 0, "{}", r.all());
    {
        let posted = notes.lock().unwrap();
        assert_eq!(posted.len(), 1);
        let body = posted[0]["body"].as_str().unwrap();
        assert!(body.starts_with("<!-- kubeship:diff env=dev -->"), "{body}");
        assert!(body.contains("### kubeship diff: `dev`"), "{body}");
        assert!(
            body.contains("<code>ConfigMap/shop/settings</code>"),
            "{body}"
        );
    }
    // Same diff again: the note is found by its marker and nothing is sent.
    let r =
        tokio::task::block_in_place(|| run_with(&w, &["diff", "--env", "dev", "--comment"], &vars));
    assert_eq!(r.code, 0, "{}", r.all());
    let writes = server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() != "GET")
        .count();
    assert_eq!(writes, 1, "one POST in total");
    assert!(!r.all().contains(TOKEN), "token leaked: {}", r.all());

    // CI_JOB_TOKEN alone cannot post: a plain warning, the diff still printed, same exit.
    let mut job_only: Vec<(String, String)> = vars
        .iter()
        .filter(|(k, _)| k != "KUBESHIP_GITLAB_TOKEN")
        .cloned()
        .collect();
    job_only.push(("CI_JOB_TOKEN".into(), "job-token-value-123".into()));
    let r = tokio::task::block_in_place(|| {
        run_with(
            &w,
            &["diff", "--env", "dev", "--comment", "--exit-code"],
            &job_only,
        )
    });
    assert_eq!(r.code, 1, "exits as the diff would: {}", r.all());
    assert!(r.stderr.contains("KUBESHIP_GITLAB_TOKEN"), "{}", r.stderr);
    assert!(r.stdout.contains("Plan: 2 to create"), "{}", r.stdout);
    assert!(!r.all().contains("job-token-value-123"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_notifies_slack_and_never_prints_the_webhook() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/T000/B000/XXXXSECRET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let w = World::new();
    w.file(
        "kubeship.yaml",
        "environments:\n  dev:\n    path: clusters/dev\n    context: fake\n    notify: [team]\nnotifications:\n  team:\n    type: slack\n    webhookEnv: TEAM_SLACK_URL\n",
    );
    w.file("clusters/dev/ns.yaml", &namespace("shop"));
    w.file(
        "clusters/dev/cm.yaml",
        &configmap("settings", "shop", "color: blue"),
    );
    let hook = format!("{}/services/T000/B000/XXXXSECRET", server.uri());
    let vars = vec![("TEAM_SLACK_URL".to_string(), hook.clone())];
    let r =
        tokio::task::block_in_place(|| run_with(&w, &["apply", "--env", "dev", "--yes"], &vars));
    assert_eq!(r.code, 0, "{}", r.all());
    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(requests.len(), 1);
    let payload: serde_json::Value = serde_json::from_slice(&requests[0].body).expect("json");
    let text = payload["text"].as_str().unwrap_or("");
    assert!(text.contains("dev"), "{payload}");
    assert!(payload["blocks"].is_array(), "{payload}");
    assert!(payload.to_string().contains("2 created"), "{payload}");
    assert!(
        !r.all().contains("XXXXSECRET"),
        "webhook leaked: {}",
        r.all()
    );

    // A failing webhook is a warning, never a failed deploy, and the URL stays hidden.
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!("boom at {hook}")))
        .mount(&server)
        .await;
    w.file(
        "clusters/dev/cm.yaml",
        &configmap("settings", "shop", "color: red"),
    );
    let r =
        tokio::task::block_in_place(|| run_with(&w, &["apply", "--env", "dev", "--yes"], &vars));
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("warning"), "{}", r.stderr);
    assert!(
        !r.all().contains("XXXXSECRET"),
        "webhook leaked: {}",
        r.all()
    );
}
