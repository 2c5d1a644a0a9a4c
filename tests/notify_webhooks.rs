//! Slack, Teams and generic webhooks faked with wiremock: exact payloads, severity filter,
//! 429 with Retry-After, HMAC signature, extra headers, and no webhook URL or secret in any
//! warning.

use std::time::{Duration, Instant};

use kubeship::notify::{
    Change, CiEnv, Counts, Event, EventKind, Http, ObjectNote, RetryPolicy, payload, send,
};
use kubeship::settings::parse_config;
use serde_json::json;
use sha2::{Digest, Sha256};
use wiremock::matchers::{any, body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SLACK_PATH: &str = "/services/T000/B000/SLACKsecretXYZ123";
const TEAMS_PATH: &str = "/workflows/teamsSECRET987/triggers/manual/paths/invoke";
const HOOK_PATH: &str = "/hooks/genericSECRET555";
const SIGNING_SECRET: &str = "It's a Secret to Everybody";

fn config(yaml: &str) -> indexmap::IndexMap<String, kubeship::settings::NotificationConfig> {
    parse_config(std::path::Path::new("kubeship.yaml"), yaml)
        .unwrap()
        .notifications
}

fn ci(server: &MockServer) -> CiEnv {
    CiEnv::from_pairs([
        ("GITLAB_CI", "true".to_string()),
        ("CI_COMMIT_SHA", "0123456789abcdef".to_string()),
        (
            "CI_COMMIT_AUTHOR",
            "Ada Lovelace <ada@example.com>".to_string(),
        ),
        ("CI_COMMIT_MESSAGE", "Scale api".to_string()),
        (
            "CI_PIPELINE_URL",
            "https://gitlab.example/acme/gitops/-/pipelines/5".to_string(),
        ),
        ("SLACK_WEBHOOK_URL", format!("{}{SLACK_PATH}", server.uri())),
        ("TEAMS_WEBHOOK_URL", format!("{}{TEAMS_PATH}", server.uri())),
        ("HOOK_URL", format!("{}{HOOK_PATH}", server.uri())),
        ("HOOK_SECRET", SIGNING_SECRET.to_string()),
    ])
}

fn http() -> Http {
    Http::with_policy(RetryPolicy::fast()).unwrap()
}

fn deployed(ci: &CiEnv) -> Event {
    let mut e = Event::new(EventKind::Deployed, "dev", ci);
    e.cluster = Some("kind-dev".into());
    e.counts = Counts {
        created: 1,
        configured: 2,
        unchanged: 3,
        pruned: 0,
        failed: 0,
    };
    e.duration = Some(Duration::from_secs(12));
    e
}

fn failed(ci: &CiEnv) -> Event {
    let mut e = deployed(ci);
    e.kind = EventKind::Failed;
    e.counts.failed = 1;
    e.failed = vec![ObjectNote::new("Deployment/web/api", "field is immutable")];
    e
}

/// HMAC-SHA256 written out from its definition (RFC 2104), independent of the `hmac` crate.
fn hmac_sha256_hex(key: &[u8], msg: &[u8]) -> String {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new()
        .chain_update(k.map(|b| b ^ 0x36))
        .chain_update(msg)
        .finalize();
    let outer = Sha256::new()
        .chain_update(k.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize();
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn independent_hmac_matches_rfc_4231() {
    assert_eq!(
        hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[tokio::test]
async fn slack_and_teams_get_their_exact_payloads() {
    let server = MockServer::start().await;
    let ci = ci(&server);
    let event = deployed(&ci);
    Mock::given(method("POST"))
        .and(path(SLACK_PATH))
        .and(header("content-type", "application/json"))
        .and(body_json(payload::slack(&event)))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(TEAMS_PATH))
        .and(body_json(payload::msteams(&event)))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    let notifications = config(
        "notifications:\n  slack-dev: { type: slack, webhookEnv: SLACK_WEBHOOK_URL }\n  teams: { type: msteams, webhookEnv: TEAMS_WEBHOOK_URL }\n",
    );
    let warnings = send(
        &http(),
        &ci,
        &notifications,
        &["slack-dev".into(), "teams".into()],
        &event,
    )
    .await;
    assert!(warnings.is_empty(), "{warnings:?}");
    let slack = payload::slack(&event);
    assert_eq!(
        slack["text"],
        "✅ kubeship: dev deployed at 01234567 (created 1, configured 2, unchanged 3, pruned 0, failed 0)"
    );
    assert!(slack["blocks"].to_string().contains("Ada Lovelace"));
}

#[tokio::test]
async fn slack_429_honors_retry_after() {
    let server = MockServer::start().await;
    let ci = ci(&server);
    Mock::given(method("POST"))
        .and(path(SLACK_PATH))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_string("rate_limited"),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SLACK_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let notifications =
        config("notifications:\n  s: { type: slack, webhookEnv: SLACK_WEBHOOK_URL }\n");
    let start = Instant::now();
    let warnings = send(&http(), &ci, &notifications, &["s".into()], &deployed(&ci)).await;
    let waited = start.elapsed();
    assert!(warnings.is_empty(), "{warnings:?}");
    // RetryPolicy::fast backs off 10ms: only Retry-After explains a wait of a second.
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    let bodies: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.body)
        .collect();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0], bodies[1], "the same payload is sent again");
}

#[tokio::test]
async fn a_retry_after_longer_than_the_cap_gives_up_with_a_warning() {
    let server = MockServer::start().await;
    let ci = ci(&server);
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
        .expect(1)
        .mount(&server)
        .await;
    let notifications =
        config("notifications:\n  s: { type: slack, webhookEnv: SLACK_WEBHOOK_URL }\n");
    let warnings = send(&http(), &ci, &notifications, &["s".into()], &deployed(&ci)).await;
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].message.contains("rate limited"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[0].message.contains("`s` (slack)"),
        "{}",
        warnings[0]
    );
}

#[tokio::test]
async fn severity_error_sends_only_failures() {
    let server = MockServer::start().await;
    let ci = ci(&server);
    let notifications = config(
        "notifications:\n  s: { type: slack, webhookEnv: SLACK_WEBHOOK_URL, severity: error }\n",
    );
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let mut drift = Event::new(EventKind::Drift, "dev", &ci);
    drift.changes.push(Change::new("ConfigMap/a/b", "update"));
    for event in [deployed(&ci), drift] {
        assert!(
            send(&http(), &ci, &notifications, &["s".into()], &event)
                .await
                .is_empty()
        );
    }
    server.verify().await;
    server.reset().await;

    let event = failed(&ci);
    Mock::given(method("POST"))
        .and(path(SLACK_PATH))
        .and(body_json(payload::slack(&event)))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    assert!(
        send(&http(), &ci, &notifications, &["s".into()], &event)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn generic_webhook_is_signed_and_carries_extra_headers() {
    let server = MockServer::start().await;
    let ci = ci(&server);
    let event = failed(&ci);
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .and(header("X-Team", "platform"))
        .and(header("content-type", "application/json"))
        .and(body_json(payload::generic(&event)))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let notifications = config(
        "notifications:\n  hook:\n    type: generic\n    webhookEnv: HOOK_URL\n    secretEnv: HOOK_SECRET\n    headers: { X-Team: platform }\n",
    );
    let warnings = send(&http(), &ci, &notifications, &["hook".into()], &event).await;
    assert!(warnings.is_empty(), "{warnings:?}");
    let requests = server.received_requests().await.unwrap();
    let req = &requests[0];
    let sig = req.headers.get("X-Signature").unwrap().to_str().unwrap();
    assert_eq!(
        sig,
        format!(
            "sha256={}",
            hmac_sha256_hex(SIGNING_SECRET.as_bytes(), &req.body)
        )
    );
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["kind"], "failed");
    assert_eq!(body["severity"], "error");
    assert_eq!(
        body["failed"],
        json!([{ "object": "Deployment/web/api", "message": "field is immutable" }])
    );
    assert_eq!(body["commit"]["author"], "Ada Lovelace");
    assert_eq!(
        body["pipelineUrl"],
        "https://gitlab.example/acme/gitops/-/pipelines/5"
    );
}

#[tokio::test]
async fn failures_are_warnings_without_urls_or_secrets() {
    let server = MockServer::start().await;
    let ci_vars = ci(&server);
    // The receiver fails and echoes the URL back in its answer.
    Mock::given(method("POST"))
        .and(path(SLACK_PATH))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_string(format!("no_service for {}{SLACK_PATH}", server.uri())),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(ResponseTemplate::new(503).set_body_string(format!("down; path {HOOK_PATH}")))
        .mount(&server)
        .await;
    // A webhook on a port where nothing listens.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let ci = {
        let base = ci_vars.clone();
        CiEnv::from_fn(move |name| match name {
            "DEAD_URL" => Some(format!("http://127.0.0.1:{closed}/services/DEADsecret000")),
            other => base.get(other),
        })
    };
    let notifications = config(
        "notifications:\n  s: { type: slack, webhookEnv: SLACK_WEBHOOK_URL }\n  hook: { type: generic, webhookEnv: HOOK_URL, secretEnv: HOOK_SECRET }\n  dead: { type: msteams, webhookEnv: DEAD_URL }\n  unset: { type: slack, webhookEnv: NOT_SET_ANYWHERE }\n",
    );
    let names: Vec<String> = ["s", "hook", "dead", "unset", "missing"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let warnings = send(&http(), &ci, &notifications, &names, &failed(&ci)).await;
    assert_eq!(warnings.len(), 5, "{warnings:#?}");
    let all: String = warnings.iter().map(|w| format!("{w}\n{w:?}\n")).collect();
    for secret in [
        "SLACKsecretXYZ123",
        "genericSECRET555",
        "DEADsecret000",
        SIGNING_SECRET,
        "/services/",
        "/hooks/",
    ] {
        assert!(!all.contains(secret), "`{secret}` leaked:\n{all}");
    }
    let find = |needle: &str| {
        warnings
            .iter()
            .find(|w| w.message.contains(needle))
            .unwrap_or_else(|| panic!("no warning about {needle}:\n{all}"))
            .message
            .clone()
    };
    assert!(find("`s` (slack)").contains("HTTP 404"));
    assert!(find("`s` (slack)").contains("SLACK_WEBHOOK_URL"));
    assert!(find("`hook` (generic)").contains("HTTP 503"));
    assert!(find("`dead` (msteams)").contains("attempts"));
    assert!(find("`unset` (slack)").contains("NOT_SET_ANYWHERE is not set"));
    assert!(find("`missing`").contains("not defined under `notifications:`"));
}

#[tokio::test]
async fn a_missing_signing_secret_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let ci = ci(&server);
    let notifications = config(
        "notifications:\n  hook: { type: generic, webhookEnv: HOOK_URL, secretEnv: NO_SUCH_SECRET }\n",
    );
    let w = send(&http(), &ci, &notifications, &["hook".into()], &failed(&ci)).await;
    assert_eq!(w.len(), 1);
    assert!(w[0].message.contains("NO_SUCH_SECRET"), "{}", w[0]);
}
