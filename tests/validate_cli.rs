//! `kubeship validate` from the command line: targets (PATH, --env, --all), exit codes, every
//! report format in one run, GitHub annotations, colors, configuration errors, schema files.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27.2
";

fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn kubeship(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("kubeship").unwrap();
    cmd.current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("NO_COLOR");
    cmd
}

fn broken_deployment() -> String {
    DEPLOYMENT.replace("  replicas: 2\n", "  replicas: \"2\"\n")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[test]
fn valid_environment_exits_0_with_a_summary() {
    let dir = repo(&[("clusters/dev/app.yaml", DEPLOYMENT)]);
    let out = kubeship(dir.path())
        .args(["validate", "--env", "dev"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "✔ no problems · 1 object in 1 file · Kubernetes 1.33\n"
    );
}

#[test]
fn errors_exit_1_and_point_at_the_line() {
    let dir = repo(&[("clusters/dev/app.yaml", &broken_deployment())]);
    let out = kubeship(dir.path())
        .args(["validate", "clusters/dev"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.starts_with("clusters/dev/app.yaml\n"), "{text}");
    assert!(
        text.contains("  error      7:13  spec.replicas must be an integer, not a string \"2\""),
        "{text}"
    );
    assert!(text.contains("7 |   replicas: \"2\"\n"), "{text}");
    assert!(
        !text.contains('\x1b'),
        "no colors when not a terminal: {text}"
    );
    assert!(text.ends_with("✖ 1 error, 0 warnings · 1 object in 1 file · Kubernetes 1.33\n"));
}

#[test]
fn colors_follow_color_flag_and_no_color() {
    let dir = repo(&[("clusters/dev/app.yaml", &broken_deployment())]);
    let colored = kubeship(dir.path())
        .args(["validate", "--env", "dev", "--color", "always"])
        .output()
        .unwrap();
    assert!(stdout(&colored).contains("\x1b[1;31m"));
    let auto = kubeship(dir.path())
        .env("NO_COLOR", "1")
        .args(["validate", "--env", "dev"])
        .output()
        .unwrap();
    assert!(!stdout(&auto).contains('\x1b'));
}

#[test]
fn every_format_in_one_run() {
    let dir = repo(&[
        ("clusters/dev/app.yaml", &broken_deployment()),
        ("clusters/prod/app.yaml", DEPLOYMENT),
    ]);
    let out = kubeship(dir.path())
        .args([
            "validate",
            "--all",
            "--format",
            "json",
            "--output",
            "junit=out/report.xml",
            "--output",
            "codequality=out/cq.json",
            "--output",
            "sarif=out/results.sarif",
            "--output",
            "github=out/annotations.txt",
            "--output",
            "text=out/report.txt",
        ])
        .output()
        .unwrap();
    // A missing output folder is created (CI artifact folders often do not exist yet).
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        json["summary"],
        serde_json::json!({"files": 2, "objects": 2, "errors": 1, "warnings": 0})
    );
    assert_eq!(json["problems"][0]["file"], "clusters/dev/app.yaml");
    assert_eq!(json["problems"][0]["line"], 7);
    assert_eq!(json["problems"][0]["column"], 13);
    assert_eq!(json["problems"][0]["object"], "Deployment/shop/web");
    assert_eq!(json["problems"][0]["environment"], "dev");

    let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
    let xml = read("out/report.xml");
    assert!(
        xml.contains("<testcase name=\"dev/Deployment/shop/web\""),
        "{xml}"
    );
    assert!(
        xml.contains("<testcase name=\"prod/Deployment/shop/web\""),
        "{xml}"
    );
    assert!(
        xml.contains("clusters/dev/app.yaml:7:13: error[schema]"),
        "{xml}"
    );
    let cq: Value = serde_json::from_str(&read("out/cq.json")).unwrap();
    assert_eq!(cq[0]["location"]["lines"]["begin"], 7);
    let sarif: Value = serde_json::from_str(&read("out/results.sarif")).unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "schema");
    assert!(read("out/annotations.txt").starts_with(
        "::error file=clusters/dev/app.yaml,line=7,col=13,title=kubeship schema (dev%3A Deployment/shop/web)::"
    ));
    assert!(read("out/report.txt").contains("── prod (1 object) ──\n  no problems\n"));
}

#[test]
fn github_actions_get_annotations_after_the_text() {
    let dir = repo(&[("clusters/dev/app.yaml", &broken_deployment())]);
    let out = kubeship(dir.path())
        .env("GITHUB_ACTIONS", "true")
        .args(["validate", "--env", "dev"])
        .output()
        .unwrap();
    let text = stdout(&out);
    let summary = text.find("✖ 1 error").unwrap();
    let annotation = text
        .find("::error file=clusters/dev/app.yaml,line=7,col=13")
        .unwrap();
    assert!(summary < annotation, "{text}");
    assert!(
        text.ends_with("kubeship validate: 1 error, 0 warnings in 1 object\n"),
        "{text}"
    );
    // Machine formats on stdout stay clean.
    let out = kubeship(dir.path())
        .env("GITHUB_ACTIONS", "true")
        .args(["validate", "--env", "dev", "--format", "json"])
        .output()
        .unwrap();
    assert!(serde_json::from_str::<Value>(&stdout(&out)).is_ok());
}

#[test]
fn a_render_failure_is_a_finding_not_a_crash() {
    let dir = repo(&[
        ("clusters/dev/ok.yaml", DEPLOYMENT),
        (
            "clusters/dev/tabs.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n",
        ),
    ]);
    let out = kubeship(dir.path())
        .args(["validate", "--env", "dev", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let p = &json["problems"][0];
    assert_eq!(p["rule"], "yaml-syntax");
    assert_eq!(p["file"], "clusters/dev/tabs.yaml");
    assert_eq!(
        (p["line"].as_u64(), p["column"].as_u64()),
        (Some(4), Some(1))
    );
}

#[test]
fn configuration_errors_exit_2() {
    let cases = [
        (
            "validate:\n  rules:\n    no-such-rule: warn\n",
            "unknown rule `no-such-rule`",
        ),
        (
            "validate:\n  schemaLocations: [schemas/]\n",
            "folder `schemas/` does not exist",
        ),
        (
            "validate:\n  schemaLocations: [\"https://example.com/{{.Group}}\"]\n",
            "is a URL",
        ),
        (
            "validate:\n  rules:\n    yaml-syntax: off\n",
            "always an error",
        ),
    ];
    for (config, says) in cases {
        let dir = repo(&[
            ("clusters/dev/app.yaml", DEPLOYMENT),
            ("kubeship.yaml", config),
        ]);
        let out = kubeship(dir.path())
            .args(["validate", "--env", "dev"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{config}");
        assert!(stderr(&out).contains(says), "{config}: {}", stderr(&out));
    }
    let dir = repo(&[("clusters/dev/app.yaml", DEPLOYMENT)]);
    for args in [
        vec!["validate", "--env", "dev", "--output", "junit"],
        vec!["validate", "--env", "dev", "--output", "xml=a.xml"],
        vec!["validate", "--env", "dev", "--format", "markdown"],
        vec!["validate", "--env", "nope"],
    ] {
        let out = kubeship(dir.path()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn settings_decide_version_rules_and_schema_files() {
    let cronjob = "apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: report
spec:
  schedule: \"0 1 * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: report
";
    let certificate = "apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: web
spec:
  secretName: web-tls
  dnsNmes: [web.example.com]
";
    let schema = r#"{
  "type": "object",
  "properties": {
    "apiVersion": {"type": "string"},
    "kind": {"type": "string"},
    "metadata": {"type": "object"},
    "spec": {
      "type": "object",
      "required": ["secretName"],
      "properties": {
        "secretName": {"type": "string"},
        "dnsNames": {"type": "array", "items": {"type": "string"}}
      }
    }
  }
}"#;
    let config = "kubernetesVersion: \"1.24\"
environments:
  old:
    path: clusters/old
  new:
    path: clusters/new
    kubernetesVersion: \"1.35\"
validate:
  schemaLocations: [schemas]
  rules:
    image-tag-latest: error
";
    let dir = repo(&[
        ("kubeship.yaml", config),
        ("clusters/old/cron.yaml", cronjob),
        ("clusters/new/cert.yaml", certificate),
        ("schemas/certificate-cert-manager.io-v1.json", schema),
    ]);
    let out = kubeship(dir.path())
        .args(["validate", "--all", "--format", "json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let problems: Vec<(String, String, String)> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["environment"].as_str().unwrap().to_string(),
                p["rule"].as_str().unwrap().to_string(),
                p["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            ("old".into(), "deprecated-api".into(), "warning".into()),
            ("old".into(), "image-tag-latest".into(), "error".into()),
            ("new".into(), "unknown-field".into(), "error".into()),
        ],
        "{json:#}"
    );
    assert!(
        json["problems"][2]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `dnsNmes` in spec (did you mean `dnsNames`?)")
    );
    // The stand-in schema set is named once on stderr.
    let err = stderr(&out);
    assert_eq!(
        err.matches("Kubernetes 1.35 has no embedded schemas")
            .count(),
        1,
        "{err}"
    );
    assert_eq!(
        err.matches("Kubernetes 1.24 has no embedded schemas")
            .count(),
        1,
        "{err}"
    );
    assert_eq!(out.status.code(), Some(1));
}
