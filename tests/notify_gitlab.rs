//! GitLab faked with wiremock: sticky merge request notes (create, update, unchanged,
//! pagination), retries, the CI_JOB_TOKEN warning, merge requests for image automation, and
//! no token in any message.

use kubeship::notify::{
    ChangeRequestOutcome, CiEnv, CommentOutcome, CommentTarget, Http, RetryPolicy, Skip, marker,
    open_or_update_change_request, post_sticky,
};
use serde_json::json;
use wiremock::matchers::{any, body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "glpat-TESTtoken-0123456789";
const BOT: u64 = 99;

fn ci(server: &MockServer, extra: &[(&str, &str)]) -> CiEnv {
    let mut vars = vec![
        ("GITLAB_CI".to_string(), "true".to_string()),
        ("CI_API_V4_URL".into(), format!("{}/api/v4", server.uri())),
        ("CI_PROJECT_ID".into(), "42".into()),
        ("CI_MERGE_REQUEST_PROJECT_ID".into(), "42".into()),
        ("CI_MERGE_REQUEST_IID".into(), "7".into()),
        (
            "CI_MERGE_REQUEST_PROJECT_URL".into(),
            "https://gitlab.example/acme/gitops".into(),
        ),
        ("CI_COMMIT_SHA".into(), "abc123".into()),
        ("KUBESHIP_GITLAB_TOKEN".into(), TOKEN.into()),
    ];
    for (k, v) in extra {
        vars.retain(|(name, _)| name != k);
        if !v.is_empty() {
            vars.push((k.to_string(), v.to_string()));
        }
    }
    CiEnv::from_pairs(vars)
}

fn http() -> Http {
    Http::with_policy(RetryPolicy::fast()).unwrap()
}

fn note(id: u64, author: u64, body: &str) -> serde_json::Value {
    json!({ "id": id, "body": body, "author": { "id": author, "username": "u" }, "system": false })
}

async fn mount_user(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/v4/user"))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "id": BOT, "username": "project_42_bot" })),
        )
        .mount(server)
        .await;
}

const NOTES: &str = "/api/v4/projects/42/merge_requests/7/notes";

#[tokio::test]
async fn creates_then_updates_then_sends_nothing_when_unchanged() {
    let server = MockServer::start().await;
    let ci = ci(&server, &[]);
    let target = CommentTarget::from_env(&ci);
    assert_eq!(target.number(), Some(7));
    assert_eq!(target.head_sha(), Some("abc123"));
    let first = format!("{}\n## dev\n1 to create\n", marker("dev"));

    // First run: no note yet, so one is created.
    mount_user(&server).await;
    Mock::given(method("GET"))
        .and(path(NOTES))
        .and(query_param("per_page", "100"))
        .and(query_param("page", "1"))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([note(1, 5, "LGTM")])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(NOTES))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({ "body": first })))
        .respond_with(ResponseTemplate::new(201).set_body_json(note(500, BOT, &first)))
        .expect(1)
        .mount(&server)
        .await;
    let out = post_sticky(&http(), &target, "dev", "## dev\n1 to create\n")
        .await
        .unwrap();
    assert_eq!(
        out,
        CommentOutcome::Created {
            url: Some("https://gitlab.example/acme/gitops/-/merge_requests/7#note_500".into())
        }
    );
    server.verify().await;
    server.reset().await;

    // Second run, new diff: our note (not someone else's quoting the marker) is updated.
    let second = format!("{}\n## dev\n2 to update\n", marker("dev"));
    mount_user(&server).await;
    Mock::given(method("GET"))
        .and(path(NOTES))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            note(1, 5, "LGTM"),
            note(3, 5, &format!("quoting: {}", marker("dev"))),
            note(400, BOT, &format!("{}\nprod diff", marker("prod"))),
            note(500, BOT, &first),
        ])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{NOTES}/500")))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .and(body_json(json!({ "body": second })))
        .respond_with(ResponseTemplate::new(200).set_body_json(note(500, BOT, &second)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let out = post_sticky(&http(), &target, "dev", "## dev\n2 to update\n")
        .await
        .unwrap();
    assert!(matches!(out, CommentOutcome::Updated { .. }), "{out:?}");
    server.verify().await;
    server.reset().await;

    // Third run, same diff: nothing is written.
    mount_user(&server).await;
    Mock::given(method("GET"))
        .and(path(NOTES))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([note(500, BOT, &second)])))
        .expect(1)
        .mount(&server)
        .await;
    for m in ["POST", "PUT", "PATCH", "DELETE"] {
        Mock::given(method(m))
            .respond_with(ResponseTemplate::new(500))
            .expect(0)
            .mount(&server)
            .await;
    }
    let out = post_sticky(&http(), &target, "dev", "## dev\n2 to update\n")
        .await
        .unwrap();
    assert!(matches!(out, CommentOutcome::Unchanged { .. }), "{out:?}");
    server.verify().await;
}

#[tokio::test]
async fn follows_x_next_page_and_retries_server_errors() {
    let server = MockServer::start().await;
    let ci = ci(&server, &[("CI_MERGE_REQUEST_PROJECT_ID", "acme/gitops")]);
    let target = CommentTarget::from_env(&ci);
    let notes = "/api/v4/projects/acme%2Fgitops/merge_requests/7/notes";
    mount_user(&server).await;
    // The first page fails twice (retried with backoff), then answers.
    Mock::given(method("GET"))
        .and(path(notes))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    let others: Vec<_> = (1..=100).map(|i| note(i, 5, "chatter")).collect();
    Mock::given(method("GET"))
        .and(path(notes))
        .and(query_param("page", "1"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Next-Page", "2")
                .set_body_json(json!(others)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(notes))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Next-Page", "")
                .set_body_json(json!([note(777, BOT, &format!("{}\nold", marker("dev")))])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{notes}/777")))
        .and(body_json(
            json!({ "body": format!("{}\nnew", marker("dev")) }),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(note(777, BOT, "x")))
        .expect(1)
        .mount(&server)
        .await;
    let out = post_sticky(&http(), &target, "dev", "new").await.unwrap();
    assert!(matches!(out, CommentOutcome::Updated { .. }), "{out:?}");
}

#[tokio::test]
async fn job_token_alone_is_a_plain_warning_and_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let ci = ci(
        &server,
        &[
            ("KUBESHIP_GITLAB_TOKEN", ""),
            ("CI_JOB_TOKEN", "job-token-SECRET-value-42"),
        ],
    );
    let target = CommentTarget::from_env(&ci);
    let out = post_sticky(&http(), &target, "dev", "diff").await.unwrap();
    assert_eq!(out, CommentOutcome::Skipped(Skip::JobTokenOnly));
    let msg = out.to_string();
    assert!(
        msg.contains("CI_JOB_TOKEN cannot create merge request notes"),
        "{msg}"
    );
    assert!(msg.contains("KUBESHIP_GITLAB_TOKEN"), "{msg}");
    assert!(!msg.contains("job-token-SECRET"), "{msg}");
}

#[tokio::test]
async fn a_branch_pipeline_is_skipped() {
    let server = MockServer::start().await;
    let ci = ci(&server, &[("CI_MERGE_REQUEST_IID", "")]);
    let out = post_sticky(&http(), &CommentTarget::from_env(&ci), "dev", "d")
        .await
        .unwrap();
    assert_eq!(out, CommentOutcome::Skipped(Skip::NotAMergeRequest));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn rejected_token_is_an_error_without_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/user"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({ "message": format!("401 Unauthorized token {TOKEN}") })),
        )
        .mount(&server)
        .await;
    let target = CommentTarget::from_env(&ci(&server, &[]));
    assert!(!format!("{target:?}").contains(TOKEN));
    let err = post_sticky(&http(), &target, "dev", "d").await.unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.status(), Some(401));
    assert!(
        msg.contains("KUBESHIP_GITLAB_TOKEN") && msg.contains("401"),
        "{msg}"
    );
    assert!(!msg.contains(TOKEN), "{msg}");
    assert!(!format!("{err:?}").contains(TOKEN));
}

#[tokio::test]
async fn forbidden_note_is_a_warning() {
    let server = MockServer::start().await;
    mount_user(&server).await;
    Mock::given(method("GET"))
        .and(path(NOTES))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(NOTES))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(json!({ "message": "403 Forbidden" })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let out = post_sticky(
        &http(),
        &CommentTarget::from_env(&ci(&server, &[])),
        "dev",
        "d",
    )
    .await
    .unwrap();
    let CommentOutcome::Skipped(Skip::ReadOnly { .. }) = &out else {
        panic!("{out:?}");
    };
    assert!(out.to_string().contains("`api` scope"), "{out}");
}

#[tokio::test]
async fn merge_request_is_created_then_updated() {
    let server = MockServer::start().await;
    let ci = ci(&server, &[("CI_MERGE_REQUEST_IID", "")]);
    let mrs = "/api/v4/projects/42/merge_requests";
    Mock::given(method("GET"))
        .and(path(mrs))
        .and(query_param("state", "opened"))
        .and(query_param("source_branch", "kubeship/images"))
        .and(query_param("target_branch", "main"))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(mrs))
        .and(body_json(json!({
            "source_branch": "kubeship/images",
            "target_branch": "main",
            "title": "Update images",
            "description": "api: 1.2.3 -> 1.2.4",
            "remove_source_branch": true,
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "iid": 12, "web_url": "https://gitlab.example/acme/gitops/-/merge_requests/12",
            "title": "Update images", "description": "api: 1.2.3 -> 1.2.4"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let cr = open_or_update_change_request(
        &http(),
        &ci,
        "kubeship/images",
        "main",
        "Update images",
        "api: 1.2.3 -> 1.2.4",
    )
    .await
    .unwrap();
    assert_eq!(cr.outcome, ChangeRequestOutcome::Created);
    assert_eq!(
        cr.url,
        "https://gitlab.example/acme/gitops/-/merge_requests/12"
    );
    server.verify().await;
    server.reset().await;

    let open = json!([{ "iid": 12, "web_url": "https://gitlab.example/acme/gitops/-/merge_requests/12",
        "title": "Update images", "description": "api: 1.2.3 -> 1.2.4" }]);
    Mock::given(method("GET"))
        .and(path(mrs))
        .respond_with(ResponseTemplate::new(200).set_body_json(open.clone()))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{mrs}/12")))
        .and(body_json(
            json!({ "title": "Update images", "description": "api: 1.2.3 -> 1.2.5" }),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(open[0].clone()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let cr = open_or_update_change_request(
        &http(),
        &ci,
        "kubeship/images",
        "main",
        "Update images",
        "api: 1.2.3 -> 1.2.5",
    )
    .await
    .unwrap();
    assert_eq!(cr.outcome, ChangeRequestOutcome::Updated);
    assert_eq!(cr.number, 12);
    assert_eq!(
        cr.to_string(),
        "updated merge request !12: https://gitlab.example/acme/gitops/-/merge_requests/12"
    );
    server.verify().await;
    server.reset().await;

    // Same title and description: nothing is written.
    Mock::given(method("GET"))
        .and(path(mrs))
        .respond_with(ResponseTemplate::new(200).set_body_json(open))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let cr = open_or_update_change_request(
        &http(),
        &ci,
        "kubeship/images",
        "main",
        "Update images",
        "api: 1.2.3 -> 1.2.4",
    )
    .await
    .unwrap();
    assert_eq!(cr.outcome, ChangeRequestOutcome::Unchanged);
}

#[tokio::test]
async fn merge_request_with_job_token_names_the_variables() {
    let server = MockServer::start().await;
    let ci = ci(
        &server,
        &[
            ("KUBESHIP_GITLAB_TOKEN", ""),
            ("CI_JOB_TOKEN", "job-token-abcdef"),
        ],
    );
    let err = open_or_update_change_request(&http(), &ci, "a", "main", "t", "d")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("CI_JOB_TOKEN cannot open merge requests"),
        "{err}"
    );
    assert!(err.contains("KUBESHIP_GITLAB_TOKEN"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}
