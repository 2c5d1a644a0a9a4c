//! GitHub faked with wiremock: sticky pull request comments (create, update, unchanged,
//! `Link` pagination, the Actions bot), the fork read-only warning, rate limits, pull
//! requests for image automation, the job summary limit and step outputs.

use std::path::PathBuf;

use kubeship::notify::{
    ChangeRequestOutcome, CiEnv, CommentOutcome, CommentTarget, Http, RetryPolicy, Skip,
    SummaryOutcome, append_job_summary, marker, open_or_update_change_request, post_sticky,
    write_outputs,
};
use serde_json::json;
use wiremock::matchers::{any, body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PAT: &str = "ghp_TESTpersonalTOKEN0123456789";
const ACTIONS_TOKEN: &str = "ghs_TESTinstallationTOKEN0123456789";

struct Fixture {
    _dir: tempfile::TempDir,
    event: PathBuf,
}

fn event(fork: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    let head_repo = if fork {
        "someone/gitops"
    } else {
        "acme/gitops"
    };
    std::fs::write(
        &event,
        json!({
            "action": "synchronize",
            "number": 12,
            "pull_request": {
                "number": 12,
                "title": "Scale api",
                "user": { "login": "octocat" },
                "head": { "sha": "headsha1", "repo": { "full_name": head_repo, "fork": fork } },
                "base": { "repo": { "full_name": "acme/gitops" } }
            }
        })
        .to_string(),
    )
    .unwrap();
    Fixture { _dir: dir, event }
}

fn ci(server: &MockServer, fx: &Fixture, token: &str) -> CiEnv {
    CiEnv::from_pairs([
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_API_URL", server.uri().as_str()),
        ("GITHUB_REPOSITORY", "acme/gitops"),
        ("GITHUB_EVENT_PATH", fx.event.to_str().unwrap()),
        ("INPUT_GITHUB_TOKEN", token),
    ])
}

fn http() -> Http {
    Http::with_policy(RetryPolicy::fast()).unwrap()
}

const COMMENTS: &str = "/repos/acme/gitops/issues/12/comments";

fn comment(id: u64, login: &str, body: &str) -> serde_json::Value {
    json!({
        "id": id, "body": body, "user": { "login": login, "type": "Bot" },
        "html_url": format!("https://github.com/acme/gitops/pull/12#issuecomment-{id}")
    })
}

fn authed(m: wiremock::MockBuilder, token: &str) -> wiremock::MockBuilder {
    m.and(header("Authorization", format!("Bearer {token}").as_str()))
        .and(header("Accept", "application/vnd.github+json"))
        .and(header("X-GitHub-Api-Version", "2022-11-28"))
        .and(header(
            "User-Agent",
            concat!("kubeship/", env!("CARGO_PKG_VERSION")),
        ))
}

#[tokio::test]
async fn creates_then_updates_then_sends_nothing_when_unchanged() {
    let server = MockServer::start().await;
    let fx = event(false);
    let target = CommentTarget::from_env(&ci(&server, &fx, PAT));
    assert_eq!(target.number(), Some(12));
    assert_eq!(target.head_sha(), Some("headsha1"));
    assert_eq!(target.budget("dev"), 65_536 - marker("dev").len() - 1);
    let v1 = format!("{}\nv1", marker("dev"));
    let v2 = format!("{}\nv2", marker("dev"));

    let user = || {
        authed(Mock::given(method("GET")).and(path("/user")), PAT).respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "login": "kubeship-bot" })),
        )
    };
    user().expect(1).mount(&server).await;
    authed(
        Mock::given(method("GET"))
            .and(path(COMMENTS))
            .and(query_param("per_page", "100")),
        PAT,
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(json!([comment(1, "octocat", "hi")])))
    .expect(1)
    .mount(&server)
    .await;
    authed(
        Mock::given(method("POST"))
            .and(path(COMMENTS))
            .and(header("content-type", "application/json"))
            .and(body_json(json!({ "body": v1 }))),
        PAT,
    )
    .respond_with(ResponseTemplate::new(201).set_body_json(comment(900, "kubeship-bot", &v1)))
    .expect(1)
    .mount(&server)
    .await;
    let out = post_sticky(&http(), &target, "dev", "v1").await.unwrap();
    assert_eq!(
        out,
        CommentOutcome::Created {
            url: Some("https://github.com/acme/gitops/pull/12#issuecomment-900".into())
        }
    );
    server.verify().await;
    server.reset().await;

    user().mount(&server).await;
    Mock::given(method("GET"))
        .and(path(COMMENTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            comment(1, "octocat", &format!("copy of {}", marker("dev"))),
            comment(900, "kubeship-bot", &v1),
        ])))
        .mount(&server)
        .await;
    authed(
        Mock::given(method("PATCH"))
            .and(path("/repos/acme/gitops/issues/comments/900"))
            .and(body_json(json!({ "body": v2 }))),
        PAT,
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(comment(900, "kubeship-bot", &v2)))
    .expect(1)
    .mount(&server)
    .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let out = post_sticky(&http(), &target, "dev", "v2").await.unwrap();
    assert!(matches!(out, CommentOutcome::Updated { .. }), "{out:?}");
    server.verify().await;
    server.reset().await;

    user().mount(&server).await;
    Mock::given(method("GET"))
        .and(path(COMMENTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([comment(
            900,
            "kubeship-bot",
            // GitHub may hand the body back with CRLF line endings.
            &v2.replace('\n', "\r\n")
        )])))
        .mount(&server)
        .await;
    for m in ["POST", "PATCH"] {
        Mock::given(method(m))
            .respond_with(ResponseTemplate::new(500))
            .expect(0)
            .mount(&server)
            .await;
    }
    let out = post_sticky(&http(), &target, "dev", "v2").await.unwrap();
    assert!(matches!(out, CommentOutcome::Unchanged { .. }), "{out:?}");
    server.verify().await;
}

#[tokio::test]
async fn actions_token_follows_link_pages_and_matches_the_actions_bot() {
    let server = MockServer::start().await;
    let fx = event(false);
    let target = CommentTarget::from_env(&ci(&server, &fx, ACTIONS_TOKEN));
    // An installation token cannot read /user: it is never asked.
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(403))
        .expect(0)
        .mount(&server)
        .await;
    let page2 = format!(
        "{}/repositories/1/issues/12/comments?per_page=100&page=2",
        server.uri()
    );
    let page1: Vec<_> = (1..=100)
        .map(|i| comment(i, "octocat", "chatter"))
        .collect();
    authed(
        Mock::given(method("GET"))
            .and(path(COMMENTS))
            .and(query_param("per_page", "100")),
        ACTIONS_TOKEN,
    )
    .respond_with(
        ResponseTemplate::new(200)
            .insert_header(
                "Link",
                format!(r#"<{page2}>; rel="next", <{page2}>; rel="last""#).as_str(),
            )
            .set_body_json(json!(page1)),
    )
    .expect(1)
    .mount(&server)
    .await;
    authed(
        Mock::given(method("GET"))
            .and(path("/repositories/1/issues/12/comments"))
            .and(query_param("page", "2")),
        ACTIONS_TOKEN,
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(json!([
        comment(150, "someone-else[bot]", &format!("{}\nold", marker("dev"))),
        comment(
            151,
            "github-actions[bot]",
            &format!("{}\nold", marker("dev"))
        ),
    ])))
    .expect(1)
    .mount(&server)
    .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/gitops/issues/comments/151"))
        .and(body_json(
            json!({ "body": format!("{}\nnew", marker("dev")) }),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(comment(
            151,
            "github-actions[bot]",
            "x",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let out = post_sticky(&http(), &target, "dev", "new").await.unwrap();
    assert!(matches!(out, CommentOutcome::Updated { .. }), "{out:?}");
}

#[tokio::test]
async fn next_page_on_another_host_is_not_followed() {
    let server = MockServer::start().await;
    let fx = event(false);
    let target = CommentTarget::from_env(&ci(&server, &fx, ACTIONS_TOKEN));
    Mock::given(method("GET"))
        .and(path(COMMENTS))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Link", r#"<https://evil.example/steal?page=2>; rel="next""#)
                .set_body_json(json!([])),
        )
        .mount(&server)
        .await;
    let err = post_sticky(&http(), &target, "dev", "d").await.unwrap_err();
    assert!(err.to_string().contains("another host"), "{err}");
}

#[tokio::test]
async fn fork_pull_request_read_only_token_is_a_clear_warning() {
    let server = MockServer::start().await;
    let fx = event(true);
    let target = CommentTarget::from_env(&ci(&server, &fx, ACTIONS_TOKEN));
    Mock::given(method("GET"))
        .and(path(COMMENTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(COMMENTS))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment"
        })))
        // A read-only refusal is no rate limit: asked once.
        .expect(1)
        .mount(&server)
        .await;
    let out = post_sticky(&http(), &target, "dev", "diff").await.unwrap();
    let CommentOutcome::Skipped(Skip::ReadOnly { fork: true, .. }) = &out else {
        panic!("{out:?}");
    };
    let msg = out.to_string();
    assert!(msg.contains("comes from a fork"), "{msg}");
    assert!(msg.contains("read-only token"), "{msg}");
    assert!(
        msg.contains("Resource not accessible by integration"),
        "{msg}"
    );
    assert!(!msg.contains(ACTIONS_TOKEN), "{msg}");
}

#[tokio::test]
async fn secondary_rate_limit_is_waited_out() {
    let server = MockServer::start().await;
    let fx = event(false);
    let target = CommentTarget::from_env(&ci(&server, &fx, ACTIONS_TOKEN));
    Mock::given(method("GET"))
        .and(path(COMMENTS))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({ "message": "You have exceeded a secondary rate limit" })),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(COMMENTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(COMMENTS))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(
            5,
            "github-actions[bot]",
            "x",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let start = std::time::Instant::now();
    let out = post_sticky(&http(), &target, "dev", "d").await.unwrap();
    assert!(matches!(out, CommentOutcome::Created { .. }), "{out:?}");
    assert!(start.elapsed() >= std::time::Duration::from_secs(1));
}

#[tokio::test]
async fn not_a_pull_request_and_no_token_are_skipped() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let push = dir.path().join("push.json");
    std::fs::write(
        &push,
        r#"{"ref":"refs/heads/main","head_commit":{"id":"x"}}"#,
    )
    .unwrap();
    let ci = CiEnv::from_pairs([
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_API_URL", server.uri().as_str()),
        ("GITHUB_REPOSITORY", "acme/gitops"),
        ("GITHUB_EVENT_PATH", push.to_str().unwrap()),
        ("GITHUB_TOKEN", ACTIONS_TOKEN),
    ]);
    let out = post_sticky(&http(), &CommentTarget::from_env(&ci), "dev", "d")
        .await
        .unwrap();
    assert_eq!(out, CommentOutcome::Skipped(Skip::NotAPullRequest));

    let fx = event(false);
    let ci = CiEnv::from_pairs([
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REPOSITORY", "acme/gitops"),
        ("GITHUB_EVENT_PATH", fx.event.to_str().unwrap()),
    ]);
    let out = post_sticky(&http(), &CommentTarget::from_env(&ci), "dev", "d")
        .await
        .unwrap();
    assert!(out.to_string().contains("github_token"), "{out}");
}

#[tokio::test]
async fn pull_request_is_created_then_updated() {
    let server = MockServer::start().await;
    let fx = event(false);
    let ci = ci(&server, &fx, ACTIONS_TOKEN);
    authed(
        Mock::given(method("GET"))
            .and(path("/repos/acme/gitops/pulls"))
            .and(query_param("state", "open"))
            .and(query_param("head", "acme:kubeship/images"))
            .and(query_param("base", "main")),
        ACTIONS_TOKEN,
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
    .expect(1)
    .mount(&server)
    .await;
    authed(
        Mock::given(method("POST"))
            .and(path("/repos/acme/gitops/pulls"))
            .and(body_json(json!({
                "title": "Update images", "head": "kubeship/images", "base": "main", "body": "api 1.2.4"
            }))),
        ACTIONS_TOKEN,
    )
    .respond_with(ResponseTemplate::new(201).set_body_json(json!({
        "number": 31, "html_url": "https://github.com/acme/gitops/pull/31", "title": "Update images", "body": "api 1.2.4"
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
        "api 1.2.4",
    )
    .await
    .unwrap();
    assert_eq!(
        (cr.outcome, cr.number, cr.url.as_str()),
        (
            ChangeRequestOutcome::Created,
            31,
            "https://github.com/acme/gitops/pull/31"
        )
    );
    server.verify().await;
    server.reset().await;

    Mock::given(method("GET"))
        .and(path("/repos/acme/gitops/pulls"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{
            "number": 31, "html_url": "https://github.com/acme/gitops/pull/31", "title": "Update images", "body": "api 1.2.4"
        }])))
        .mount(&server)
        .await;
    authed(
        Mock::given(method("PATCH"))
            .and(path("/repos/acme/gitops/pulls/31"))
            .and(body_json(json!({ "title": "Update images", "body": "api 1.2.5" }))),
        ACTIONS_TOKEN,
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(json!({
        "number": 31, "html_url": "https://github.com/acme/gitops/pull/31", "title": "Update images", "body": "api 1.2.5"
    })))
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
        "api 1.2.5",
    )
    .await
    .unwrap();
    assert_eq!(cr.outcome, ChangeRequestOutcome::Updated);
}

#[tokio::test]
async fn pull_request_refused_names_the_repository_setting() {
    let server = MockServer::start().await;
    let fx = event(false);
    let ci = ci(&server, &fx, ACTIONS_TOKEN);
    Mock::given(method("GET"))
        .and(path("/repos/acme/gitops/pulls"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/gitops/pulls"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "message": "GitHub Actions is not permitted to create or approve pull requests."
        })))
        .mount(&server)
        .await;
    let err = open_or_update_change_request(&http(), &ci, "b", "main", "t", "d")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Allow GitHub Actions to create and approve pull requests"),
        "{err}"
    );
    assert!(!err.contains(ACTIONS_TOKEN), "{err}");
}

#[test]
fn oversized_job_summary_is_cut_under_one_mib_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "# validate\nall good\n").unwrap();
    let ci = CiEnv::from_pairs([("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())]);
    let mut md = String::from("## kubeship diff: dev\n\n```diff\n");
    while md.len() < 2 * 1024 * 1024 {
        md.push_str("+    image: registry.example/api:1.2.3 # a long enough line\n");
    }
    md.push_str("```\n");
    let out = append_job_summary(&ci, &md).unwrap();
    let SummaryOutcome::Written {
        truncated: true,
        bytes,
    } = out
    else {
        panic!("{out:?}");
    };
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.len() < 1024 * 1024, "{}", text.len());
    assert_eq!(text.len(), "# validate\nall good\n".len() + bytes);
    assert!(text.starts_with("# validate\nall good\n## kubeship diff: dev"));
    assert!(
        text.contains("\n```\n> [!WARNING]\n> kubeship cut this summary"),
        "fence closed before the note"
    );
    assert!(text.ends_with("the full output is in the job log.\n"));
    // No torn line before the fence.
    let before_fence = text.rsplit_once("\n```\n> [!WARNING]").unwrap().0;
    assert!(
        before_fence.ends_with("a long enough line"),
        "{}",
        &before_fence[before_fence.len() - 80..]
    );

    // Full: nothing more is written.
    let out = append_job_summary(&ci, &md).unwrap();
    assert_eq!(out, SummaryOutcome::NoRoom);

    // Small summaries are appended whole.
    let small = dir.path().join("small.md");
    let ci = CiEnv::from_pairs([("GITHUB_STEP_SUMMARY", small.to_str().unwrap())]);
    assert_eq!(
        append_job_summary(&ci, "ok").unwrap(),
        SummaryOutcome::Written {
            bytes: 3,
            truncated: false
        }
    );
    assert_eq!(std::fs::read_to_string(&small).unwrap(), "ok\n");
    let none = CiEnv::from_pairs::<&str, &str>([]);
    assert_eq!(
        append_job_summary(&none, "x").unwrap(),
        SummaryOutcome::NotSet
    );
}

#[test]
fn step_outputs_are_written_for_the_action() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("output");
    let ci = CiEnv::from_pairs([("GITHUB_OUTPUT", out.to_str().unwrap())]);
    assert!(write_outputs(&ci, &[("changes", "4".into()), ("errors", "0".into())]).unwrap());
    let text = std::fs::read_to_string(&out).unwrap();
    // Parse the file as the runner does.
    let mut lines = text.lines();
    let mut parsed = Vec::new();
    while let Some(head) = lines.next() {
        let (name, delim) = head.split_once("<<").unwrap();
        let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delim).collect();
        parsed.push((name.to_string(), value.join("\n")));
    }
    assert_eq!(
        parsed,
        vec![
            ("changes".into(), "4".into()),
            ("errors".into(), "0".into())
        ]
    );
}
