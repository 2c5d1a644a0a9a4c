//! The registry client against a fake registry (wiremock): the Bearer challenge and token
//! endpoint, Basic auth, Link pagination, retries, digests, and the errors a user sees.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use kubeship::images::credentials::Credentials;
use kubeship::images::reference::ImageName;
use kubeship::images::registry::{RegistryClient, RegistryErrorKind, RegistryOptions, Target};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn options() -> RegistryOptions {
    RegistryOptions {
        attempts: 3,
        backoff: Duration::from_millis(10),
        timeout: Duration::from_secs(10),
        concurrency: 2,
    }
}

fn client(env: &[(&str, &str)]) -> RegistryClient {
    let env: BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    RegistryClient::new(options(), Credentials::new(env, None)).expect("client")
}

fn target(server: &MockServer, repo: &str) -> Target {
    let host = server.uri().trim_start_matches("http://").to_string();
    Target::new(ImageName::parse(&format!("{host}/{repo}")).expect("valid image"))
}

fn env_prefix(server: &MockServer) -> String {
    let host = server.uri().trim_start_matches("http://").to_string();
    format!(
        "KUBESHIP_REGISTRY_{}",
        kubeship::images::reference::env_key(&host)
    )
}

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

#[tokio::test]
async fn bearer_challenge_token_and_pagination() {
    let server = MockServer::start().await;
    let realm = format!("{}/auth/token", server.uri());
    Mock::given(method("GET"))
        .and(path("/auth/token"))
        .and(query_param("service", "reg"))
        .and(query_param("scope", "repository:org/app:pull"))
        .and(header(
            "authorization",
            basic("robot", "s3cret-pass").as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"access_token": "tok-123456"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/org/app/tags/list"))
        .and(header("authorization", "Bearer tok-123456"))
        .and(query_param("n", "1000"))
        .and(query_param_is_missing("last"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Link", r#"</v2/org/app/tags/list?n=2&last=b>; rel="next""#)
                .set_body_json(serde_json::json!({"name": "org/app", "tags": ["a", "b"]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    // The second link is absolute, as some registries send.
    let absolute = format!(
        r#"<{}/v2/org/app/tags/list?n=2&last=d>; rel="next""#,
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path("/v2/org/app/tags/list"))
        .and(header("authorization", "Bearer tok-123456"))
        .and(query_param("last", "b"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Link", absolute.as_str())
                .set_body_json(serde_json::json!({"name": "org/app", "tags": ["c", "d"]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/org/app/tags/list"))
        .and(header("authorization", "Bearer tok-123456"))
        .and(query_param("last", "d"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"name": "org/app", "tags": null})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("HEAD"))
        .and(path("/v2/org/app/manifests/d"))
        .and(header("authorization", "Bearer tok-123456"))
        .respond_with(
            ResponseTemplate::new(200).insert_header("Docker-Content-Digest", "sha256:feed"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).insert_header(
                "WWW-Authenticate",
                format!(r#"Bearer realm="{realm}",service="reg",scope="repository:org/app:pull""#)
                    .as_str(),
            ),
        )
        .with_priority(10)
        .mount(&server)
        .await;
    Mock::given(method("HEAD"))
        .respond_with(ResponseTemplate::new(401))
        .with_priority(10)
        .mount(&server)
        .await;

    let prefix = env_prefix(&server);
    let c = client(&[
        (&format!("{prefix}_USERNAME"), "robot"),
        (&format!("{prefix}_PASSWORD"), "s3cret-pass"),
    ]);
    let t = target(&server, "org/app");
    let tags = c.list_tags(&t).await.expect("tags");
    assert_eq!(tags, ["a", "b", "c", "d"]);
    // The token is reused for the manifest request: the token endpoint is hit once.
    assert_eq!(c.digest(&t, "d").await.expect("digest"), "sha256:feed");
}

#[tokio::test]
async fn basic_challenge_and_anonymous_refusal() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/private/tags/list"))
        .and(header("authorization", basic("u", "pass-4567").as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"tags": ["1.0.0"]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).insert_header("WWW-Authenticate", r#"Basic realm="r""#),
        )
        .with_priority(10)
        .mount(&server)
        .await;

    let t = target(&server, "private");
    let prefix = env_prefix(&server);
    let with = client(&[
        (&format!("{prefix}_USERNAME"), "u"),
        (&format!("{prefix}_PASSWORD"), "pass-4567"),
    ]);
    assert_eq!(with.list_tags(&t).await.expect("tags"), ["1.0.0"]);

    let without = client(&[]);
    let err = without.list_tags(&t).await.unwrap_err();
    assert_eq!(err.kind, RegistryErrorKind::Unauthorized);
    assert!(
        err.to_string().contains(&format!(
            "no credentials are configured for {}; set {prefix}_USERNAME and _PASSWORD",
            t.name.registry
        )),
        "{err}"
    );

    let wrong = client(&[
        (&format!("{prefix}_USERNAME"), "u"),
        (&format!("{prefix}_PASSWORD"), "wrong-7890"),
    ]);
    let err = wrong.list_tags(&t).await.unwrap_err();
    assert_eq!(err.kind, RegistryErrorKind::Unauthorized);
    assert!(
        err.message.contains(&format!(
            "the credentials from {prefix}_USERNAME/_PASSWORD were refused"
        )),
        "{err}"
    );
    assert!(!err.to_string().contains("wrong-7890"));
}

#[tokio::test]
async fn transient_failures_are_retried_then_reported() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/flaky/tags/list"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/flaky/tags/list"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"tags": ["x"]})))
        .with_priority(10)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/down/tags/list"))
        .respond_with(ResponseTemplate::new(502))
        .expect(3)
        .mount(&server)
        .await;

    let c = client(&[]);
    assert_eq!(
        c.list_tags(&target(&server, "flaky")).await.expect("tags"),
        ["x"]
    );
    let err = c.list_tags(&target(&server, "down")).await.unwrap_err();
    assert_eq!(err.kind, RegistryErrorKind::Unreachable);
    assert!(
        err.message
            .contains("no answer after 3 attempts (HTTP 502 Bad Gateway)"),
        "{err}"
    );

    // Nothing listens on port 1.
    let closed = Target::new(ImageName::parse("127.0.0.1:1/app").unwrap());
    let err = c.list_tags(&closed).await.unwrap_err();
    assert_eq!(err.kind, RegistryErrorKind::Unreachable);
    assert!(
        err.to_string()
            .starts_with("registry 127.0.0.1:1, repository app: "),
        "{err}"
    );
}

#[tokio::test]
async fn missing_repositories_and_digests_by_hashing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/nope/tags/list"))
        .respond_with(
            ResponseTemplate::new(404).set_body_string(r#"{"errors":[{"code":"NAME_UNKNOWN"}]}"#),
        )
        .mount(&server)
        .await;
    // No Docker-Content-Digest on HEAD: the client reads the manifest and hashes it.
    Mock::given(method("HEAD"))
        .and(path("/v2/app/manifests/1.0"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/app/manifests/1.0"))
        .and(|r: &wiremock::Request| {
            r.headers.get("accept").and_then(|v| v.to_str().ok())
                == Some(kubeship::images::registry::MANIFEST_ACCEPT)
        })
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;

    let c = client(&[]);
    let err = c.list_tags(&target(&server, "nope")).await.unwrap_err();
    assert_eq!(err.kind, RegistryErrorKind::NotFound);
    assert!(err.message.contains("NAME_UNKNOWN"), "{err}");
    // sha256 of "{}".
    assert_eq!(
        c.digest(&target(&server, "app"), "1.0")
            .await
            .expect("digest"),
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
}
