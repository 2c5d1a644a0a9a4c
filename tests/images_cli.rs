//! `kubeship images update` end to end: the real binary, a fixture GitOps repository in a
//! temporary git repo, and a fake registry (wiremock) with a Bearer token endpoint, Basic auth,
//! Link pagination and manifest digests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const APP_USER: &str = "app-user";
const APP_PASS: &str = "app-registry-password-1";
const APP_TOKEN: &str = "app-token-abcdef";
const WORKER_USER: &str = "worker-user";
const WORKER_PASS: &str = "worker-pull-password-2";
const DIGEST: &str = "sha256:4f9b1c6e0d2a8e7f3b5c9d1a2e4f6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a";
const NIGHTLY: &str = "20240315-09-30-00";

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

fn tags(name: &str, tags: &[&str]) -> serde_json::Value {
    serde_json::json!({ "name": name, "tags": tags })
}

/// The fake registry: `team/app` behind a Bearer token endpoint with two pages of tags,
/// `team/worker` behind Basic auth, `team/nightly` anonymous with a manifest digest.
async fn fake_registry() -> MockServer {
    let server = MockServer::start().await;
    let base = server.uri();
    let bearer = format!("Bearer {APP_TOKEN}");

    // team/app: token flow and pagination.
    Mock::given(method("GET"))
        .and(path("/token"))
        .and(query_param("service", "fake-registry"))
        .and(query_param("scope", "repository:team/app:pull"))
        .and(header("authorization", basic(APP_USER, APP_PASS).as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({ "token": APP_TOKEN })),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(401).set_body_string("bad credentials"))
        .with_priority(10)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/team/app/tags/list"))
        .and(header("authorization", bearer.as_str()))
        .and(query_param_is_missing("last"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "Link",
                    r#"</v2/team/app/tags/list?n=3&last=1.1.0>; rel="next""#,
                )
                .set_body_json(tags("team/app", &["0.9.0", "1.0.0", "1.1.0"])),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/team/app/tags/list"))
        .and(header("authorization", bearer.as_str()))
        .and(query_param("last", "1.1.0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tags(
            "team/app",
            &["1.2.0-rc.1", "1.10.0", "2.0.0", "sha256-abc.sig", "latest"],
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/team/app/tags/list"))
        .respond_with(ResponseTemplate::new(401).insert_header(
            "WWW-Authenticate",
            format!(r#"Bearer realm="{base}/token",service="fake-registry",scope="repository:team/app:pull""#)
                .as_str(),
        ))
        .with_priority(10)
        .mount(&server)
        .await;

    // team/worker: Basic auth.
    Mock::given(method("GET"))
        .and(path("/v2/team/worker/tags/list"))
        .and(header(
            "authorization",
            basic(WORKER_USER, WORKER_PASS).as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(tags(
            "team/worker",
            &[
                "main-aaa-1700000000",
                "main-bbb-1700000500",
                "main-ccc-1600000000",
                "pr-7-1800000000",
                "latest",
            ],
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/team/worker/tags/list"))
        .respond_with(
            ResponseTemplate::new(401).insert_header("WWW-Authenticate", r#"Basic realm="fake""#),
        )
        .with_priority(10)
        .mount(&server)
        .await;

    // team/nightly: anonymous, with a digest for the newest date tag.
    Mock::given(method("GET"))
        .and(path("/v2/team/nightly/tags/list"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tags(
            "team/nightly",
            &[
                "20240101-10-00-00",
                NIGHTLY,
                "20231231-23-59-59",
                "20240316-rc",
                "latest",
                "sha256-x.sig",
            ],
        )))
        .mount(&server)
        .await;
    Mock::given(method("HEAD"))
        .and(path(format!("/v2/team/nightly/manifests/{NIGHTLY}")))
        .respond_with(ResponseTemplate::new(200).insert_header("Docker-Content-Digest", DIGEST))
        .mount(&server)
        .await;
    server
}

fn host(server: &MockServer) -> String {
    server.uri().trim_start_matches("http://").to_string()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images")
}

fn copy_tree(from: &Path, to: &Path, registry: &str) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target, registry);
        } else {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            std::fs::write(&target, text.replace("REGISTRY", registry)).unwrap();
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

struct Repo {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    docker: PathBuf,
    registry: String,
}

impl Repo {
    /// The fixture repository with `REGISTRY` replaced, `prepare` applied, committed.
    fn new(registry: &str, prepare: impl FnOnce(&Path)) -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        copy_tree(&fixtures().join("repo"), &root, registry);
        prepare(&root);
        git(&root, &["init", "--quiet", "--initial-branch=main"]);
        git(&root, &["config", "user.name", "Repo Owner"]);
        git(&root, &["config", "user.email", "owner@example.com"]);
        git(&root, &["config", "commit.gpgsign", "false"]);
        git(&root, &["add", "-A"]);
        git(&root, &["commit", "--quiet", "-m", "initial"]);
        let docker = tmp.path().join("docker");
        std::fs::create_dir_all(&docker).unwrap();
        let config = serde_json::json!({
            "auths": { registry: { "auth": base64::engine::general_purpose::STANDARD.encode(format!("{APP_USER}:{APP_PASS}")) } }
        });
        std::fs::write(docker.join("config.json"), config.to_string()).unwrap();
        Repo {
            root,
            docker,
            registry: registry.to_string(),
            _tmp: tmp,
        }
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap()
    }

    fn original(&self, rel: &str) -> String {
        std::fs::read_to_string(fixtures().join("repo").join(rel))
            .unwrap()
            .replace("REGISTRY", &self.registry)
    }

    fn expected(&self, rel: &str) -> String {
        std::fs::read_to_string(fixtures().join("expected").join(rel))
            .unwrap()
            .replace("REGISTRY", &self.registry)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("kubeship"));
        cmd.current_dir(&self.root)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root.parent().unwrap())
            .env("DOCKER_CONFIG", &self.docker)
            .env("NO_COLOR", "1")
            .env("KUBESHIP_SECRET_WORKER_PULL_USERNAME", WORKER_USER)
            .env("KUBESHIP_SECRET_WORKER_PULL_PASSWORD", WORKER_PASS);
        cmd
    }

    async fn run(&self, args: &[&str]) -> Result {
        let mut cmd = self.command(args);
        let out = tokio::task::spawn_blocking(move || cmd.output().expect("kubeship runs"))
            .await
            .unwrap();
        Result::from(out)
    }
}

struct Result {
    code: i32,
    stdout: String,
    stderr: String,
}

impl From<Output> for Result {
    fn from(out: Output) -> Result {
        let r = Result {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        };
        for secret in [APP_PASS, WORKER_PASS, APP_TOKEN] {
            assert!(
                !r.stdout.contains(secret) && !r.stderr.contains(secret),
                "a secret was printed:\n{}\n{}",
                r.stdout,
                r.stderr
            );
        }
        r
    }
}

const CHANGED: [&str; 3] = [
    "clusters/dev/app.yaml",
    "clusters/dev/kustomization.yaml",
    "clusters/prod/versions.yaml",
];
const UNCHANGED: [&str; 3] = [
    "clusters/dev/flux/images.yaml",
    "clusters/dev/flux/kustomization.yaml",
    "infrastructure/notes.yaml",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_lists_every_update_and_changes_nothing() {
    let server = fake_registry().await;
    let repo = Repo::new(&host(&server), |_| {});
    let r = repo.run(&["images", "update"]).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let reg = &repo.registry;
    let expected_lines = [
        format!("clusters/dev/app.yaml:16: {reg}/team/app:1.0.0 -> {reg}/team/app:1.10.0 (policy flux-system/app)"),
        format!("clusters/dev/app.yaml:20: {reg}/team/worker:main-aaa-1700000000 -> {reg}/team/worker:main-bbb-1700000500 (policy flux-system/worker)"),
        format!("clusters/dev/app.yaml:22: {reg}/team/app:1.0.0 -> {reg}/team/app:1.10.0 (policy flux-system/app)"),
        format!("clusters/dev/kustomization.yaml:9: 20240101-10-00-00 -> {NIGHTLY} (policy flux-system/nightly)"),
        format!("clusters/prod/versions.yaml:15: {reg}/team/nightly:20240101-10-00-00 -> {reg}/team/nightly:{NIGHTLY} (policy flux-system/nightly)"),
        "clusters/prod/versions.yaml:24: 1.0.0 -> 1.10.0 (policy flux-system/app)".to_string(),
        format!("clusters/prod/versions.yaml:25: sha256:{} -> {DIGEST} (policy flux-system/nightly)", "0".repeat(64)),
        "7 updates in 3 files (9 markers, 3 policies checked); dry run: add --write to change the files, --commit to commit them".to_string(),
    ];
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines, expected_lines, "{}", r.stderr);
    for f in CHANGED.iter().chain(UNCHANGED.iter()) {
        assert_eq!(repo.read(f), repo.original(f), "{f} changed in a dry run");
    }
    // One token for team/app, both pages read.
    let requests = server.received_requests().await.unwrap_or_default();
    let count = |p: &str, q: Option<&str>| {
        requests
            .iter()
            .filter(|r| {
                r.url.path() == p && q.is_none_or(|q| r.url.query().unwrap_or("").contains(q))
            })
            .count()
    };
    assert_eq!(count("/token", None), 1);
    assert_eq!(count("/v2/team/app/tags/list", Some("last=1.1.0")), 1);
    assert_eq!(
        count(&format!("/v2/team/nightly/manifests/{NIGHTLY}"), None),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_changes_only_the_marked_values() {
    let server = fake_registry().await;
    let repo = Repo::new(&host(&server), |_| {});
    let r = repo.run(&["images", "update", "--write"]).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.ends_with("; written\n"), "{}", r.stdout);
    for f in CHANGED {
        assert_eq!(repo.read(f), repo.expected(f), "{f} is not byte-exact");
    }
    for f in UNCHANGED {
        assert_eq!(repo.read(f), repo.original(f), "{f} must not change");
    }
    // A second run finds nothing to do.
    let again = repo.run(&["images", "update", "--write"]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        again.stdout,
        "no image updates (9 markers, 3 policies checked)\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crlf_files_keep_their_line_endings() {
    let server = fake_registry().await;
    let repo = Repo::new(&host(&server), |root| {
        let p = root.join("clusters/prod/versions.yaml");
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, text.replace('\n', "\r\n")).unwrap();
    });
    let r = repo
        .run(&["images", "update", "--write", "--env", "prod"])
        .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        repo.read("clusters/prod/versions.yaml"),
        repo.expected("clusters/prod/versions.yaml")
            .replace('\n', "\r\n")
    );
    // --env prod leaves the dev environment alone.
    for f in ["clusters/dev/app.yaml", "clusters/dev/kustomization.yaml"] {
        assert_eq!(repo.read(f), repo.original(f));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_dev_updates_only_the_files_it_renders() {
    let server = fake_registry().await;
    let repo = Repo::new(&host(&server), |_| {});
    let r = repo
        .run(&["images", "update", "--env", "dev", "--write"])
        .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("4 updates in 2 files"), "{}", r.stdout);
    assert_eq!(
        repo.read("clusters/dev/app.yaml"),
        repo.expected("clusters/dev/app.yaml")
    );
    assert_eq!(
        repo.read("clusters/dev/kustomization.yaml"),
        repo.expected("clusters/dev/kustomization.yaml")
    );
    assert_eq!(
        repo.read("clusters/prod/versions.yaml"),
        repo.original("clusters/prod/versions.yaml")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lists_updates_and_policies() {
    let server = fake_registry().await;
    let repo = Repo::new(&host(&server), |_| {});
    let r = repo.run(&["images", "update", "--format", "json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON on stdout");
    let updates = doc["updates"].as_array().unwrap();
    assert_eq!(updates.len(), 7);
    assert_eq!(doc["environment"], serde_json::Value::Null);
    let tag = updates
        .iter()
        .find(|u| u["setter"] == "tag" && u["file"] == "clusters/prod/versions.yaml")
        .unwrap();
    assert_eq!(tag["line"], 24);
    assert_eq!(tag["policy"], "flux-system/app");
    assert_eq!(tag["marker"], "flux-system:app:tag");
    assert_eq!(
        (tag["old"].as_str(), tag["new"].as_str()),
        (Some("1.0.0"), Some("1.10.0"))
    );
    let nightly = doc["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["policy"] == "flux-system/nightly")
        .unwrap();
    assert_eq!(nightly["status"], "ok");
    assert_eq!(nightly["tag"], NIGHTLY);
    assert_eq!(nightly["digest"], DIGEST);
    assert_eq!(doc["summary"]["written"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_makes_one_commit_listing_the_updates() {
    let server = fake_registry().await;
    let repo = Repo::new(&host(&server), |_| {});
    let r = repo.run(&["images", "update", "--commit"]).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("; committed "), "{}", r.stdout);
    assert_eq!(
        git(&repo.root, &["rev-list", "--count", "HEAD"]).trim(),
        "2"
    );
    assert_eq!(git(&repo.root, &["status", "--porcelain"]), "");
    let message = git(&repo.root, &["log", "-1", "--format=%B"]);
    assert!(
        message.starts_with("Update container images\n\n- clusters/dev/app.yaml:16: "),
        "{message}"
    );
    assert_eq!(message.matches("\n- ").count(), 7, "{message}");
    let author = git(&repo.root, &["log", "-1", "--format=%an <%ae>"]);
    assert_eq!(author.trim(), "Repo Owner <owner@example.com>");
    let files = git(&repo.root, &["show", "--name-only", "--format=", "HEAD"]);
    let mut files: Vec<&str> = files.lines().collect();
    files.sort();
    assert_eq!(files, CHANGED);
    for f in CHANGED {
        assert_eq!(repo.read(f), repo.expected(f));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_message_and_author_come_from_kubeship_yaml() {
    let server = fake_registry().await;
    let repo = Repo::new(&host(&server), |root| {
        std::fs::write(
            root.join("kubeship.yaml"),
            "environments:\n  dev: {path: clusters/dev}\n  prod: {path: clusters/prod}\nimages:\n  commitMessage: \"chore(images): {{count}} updates in {{env}}\\n\\nImages: {{images}}\\nPolicies: {{policies}}\\n\"\n  authorName: Image Bot\n  authorEmail: bot@example.com\n",
        )
        .unwrap();
    });
    let r = repo
        .run(&["images", "update", "--commit", "--env", "prod"])
        .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let message = git(&repo.root, &["log", "-1", "--format=%B"]);
    let reg = &repo.registry;
    assert_eq!(
        message.trim_end(),
        format!(
            "chore(images): 3 updates in prod\n\nImages: {reg}/team/nightly:{NIGHTLY}, {reg}/team/app:1.10.0\nPolicies: flux-system/app, flux-system/nightly"
        )
    );
    let author = git(&repo.root, &["log", "-1", "--format=%an <%ae>"]);
    assert_eq!(author.trim(), "Image Bot <bot@example.com>");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_refuses_unrelated_staged_changes() {
    let server = fake_registry().await;
    let repo = Repo::new(&host(&server), |_| {});
    std::fs::write(repo.root.join("infrastructure/new.yaml"), "a: 1\n").unwrap();
    git(&repo.root, &["add", "infrastructure/new.yaml"]);
    let r = repo.run(&["images", "update", "--commit"]).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("staged changes unrelated to the image update (infrastructure/new.yaml)"),
        "{}",
        r.stderr
    );
    assert_eq!(
        git(&repo.root, &["rev-list", "--count", "HEAD"]).trim(),
        "1"
    );
    assert_eq!(
        repo.read("clusters/dev/app.yaml"),
        repo.original("clusters/dev/app.yaml")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_refuses_files_with_their_own_uncommitted_changes() {
    let server = fake_registry().await;
    let repo = Repo::new(&host(&server), |_| {});
    let p = repo.root.join("clusters/dev/app.yaml");
    let edited = format!("{}# local edit\n", repo.read("clusters/dev/app.yaml"));
    std::fs::write(&p, &edited).unwrap();
    let r = repo.run(&["images", "update", "--commit"]).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("clusters/dev/app.yaml has uncommitted changes"),
        "{}",
        r.stderr
    );
    assert_eq!(repo.read("clusters/dev/app.yaml"), edited);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marker_without_its_policy_is_a_repository_error() {
    let server = fake_registry().await;
    let repo = Repo::new(&host(&server), |root| {
        let p = root.join("clusters/dev/app.yaml");
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(
            &p,
            format!("{text}        - name: extra\n          image: nginx:1.0 # {{\"$imagepolicy\": \"flux-system:missing\"}}\n"),
        )
        .unwrap();
    });
    let r = repo.run(&["images", "update", "--write"]).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("clusters/dev/app.yaml:25: marker `flux-system:missing` refers to ImagePolicy flux-system/missing, which is not in the repository; check the namespace and name (known: flux-system:app, flux-system:nightly, flux-system:worker)"),
        "{}",
        r.stderr
    );
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
    assert_eq!(
        repo.read("clusters/dev/kustomization.yaml"),
        repo.original("clusters/dev/kustomization.yaml")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_marker_names_its_line() {
    let server = fake_registry().await;
    let repo = Repo::new(&host(&server), |root| {
        let p = root.join("infrastructure/notes.yaml");
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(
            &p,
            format!("{text}  other: x # {{\"$imagepolicy\": \"flux-system:app:version\"}}\n"),
        )
        .unwrap();
    });
    let r = repo.run(&["images", "update"]).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(
            "infrastructure/notes.yaml:13: marker `flux-system:app:version` ends in `:version`"
        ),
        "{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_registry_exits_3_and_the_others_still_update() {
    let server = fake_registry().await;
    // team/nightly lives on a registry that refuses connections.
    let repo = Repo::new(&host(&server), |root| {
        let p = root.join("clusters/dev/flux/images.yaml");
        let text = std::fs::read_to_string(&p).unwrap();
        let host = host(&server);
        std::fs::write(
            &p,
            text.replace(&format!("{host}/team/nightly"), "127.0.0.1:1/team/nightly"),
        )
        .unwrap();
    });
    let r = repo.run(&["images", "update", "--write"]).await;
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("registry 127.0.0.1:1, repository team/nightly"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("no answer after 4 attempts"),
        "{}",
        r.stderr
    );
    assert_eq!(
        repo.read("clusters/dev/app.yaml"),
        repo.expected("clusters/dev/app.yaml")
    );
    assert_eq!(
        repo.read("clusters/dev/kustomization.yaml"),
        repo.original("clusters/dev/kustomization.yaml")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_exit_3_without_printing_them() {
    let server = fake_registry().await;
    let repo = Repo::new(&host(&server), |_| {});
    let wrong = "wrong-password-9876";
    let config = serde_json::json!({
        "auths": { repo.registry.clone(): { "auth": base64::engine::general_purpose::STANDARD.encode(format!("{APP_USER}:{wrong}")) } }
    });
    std::fs::write(repo.docker.join("config.json"), config.to_string()).unwrap();
    let r = repo.run(&["images", "update", "--env", "dev"]).await;
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("the token endpoint answered HTTP 401 Unauthorized: the credentials from"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains(wrong) && !r.stdout.contains(wrong),
        "{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2() {
    let server = fake_registry().await;
    let repo = Repo::new(&host(&server), |_| {});
    let r = repo.run(&["images", "update", "--env", "staging"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("unknown environment `staging`"),
        "{}",
        r.stderr
    );
    let r = repo.run(&["images", "update", "--format", "junit"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
}
