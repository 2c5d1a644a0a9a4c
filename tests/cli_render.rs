//! CLI tests of `kubeship render`, running the real binary: environments, plain folders,
//! settings errors and every refused kustomization input with its message and exit code.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn kubeship() -> Command {
    let mut c = Command::cargo_bin("kubeship").expect("binary");
    c.env_remove("GITHUB_ACTIONS").env("NO_COLOR", "1");
    c
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("run kubeship");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn renders_example_environments() {
    let repo = manifest_dir().join("examples/gitops");
    for env in ["dev", "prod", "tools"] {
        let r = run(kubeship()
            .args(["render", "--env", env])
            .arg("--repo")
            .arg(&repo));
        assert_eq!(r.code, 0, "{env}: {}", r.stderr);
        assert!(!r.stdout.starts_with("---"), "no leading separator");
        assert!(r.stdout.contains("\n---\n"), "documents are separated");
    }
    let prod = run(kubeship()
        .args(["render", "--env", "prod"])
        .arg("--repo")
        .arg(&repo));
    assert!(
        prod.stdout.contains("replicas: 3"),
        "prod overlay applies replicas"
    );
    assert!(
        prod.stdout.contains("name: example-service-config-"),
        "hashed generator name"
    );
}

#[test]
fn unknown_environment_exits_2_and_lists_known_ones() {
    let repo = manifest_dir().join("examples/gitops");
    let r = run(kubeship()
        .args(["render", "--env", "staging"])
        .arg("--repo")
        .arg(&repo));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("unknown environment `staging`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("dev, prod, tools"), "{}", r.stderr);
}

#[test]
fn malformed_config_exits_2_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tmp");
    write(
        &dir.path().join("kubeship.yaml"),
        "environments:\n  dev:\n    path: clusters/dev\n    branchh: main\n",
    );
    let r = run(kubeship()
        .args(["render", "--env", "dev"])
        .arg("--repo")
        .arg(dir.path()));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("kubeship.yaml:4:"), "{}", r.stderr);
    assert!(r.stderr.contains("branchh"), "{}", r.stderr);

    write(&dir.path().join("kubeship.yaml"), "environments: [\n");
    let r = run(kubeship()
        .args(["render", "--env", "dev"])
        .arg("--repo")
        .arg(dir.path()));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("kubeship.yaml:"), "{}", r.stderr);
}

#[test]
fn without_config_every_clusters_folder_is_an_environment() {
    let dir = tempfile::tempdir().expect("tmp");
    write(
        &dir.path().join("clusters/alpha/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    );
    write(
        &dir.path().join("clusters/beta/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
    );
    let r = run(kubeship()
        .args(["render", "--env", "beta"])
        .arg("--repo")
        .arg(dir.path()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("name: b"));
    let r = run(kubeship()
        .args(["render", "--env", "gamma"])
        .arg("--repo")
        .arg(dir.path()));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("alpha, beta"), "{}", r.stderr);
    let r = run(kubeship().arg("render").arg("--repo").arg(dir.path()));
    assert_eq!(r.code, 2, "neither PATH nor --env");
}

#[test]
fn plain_folder_in_path_order_skips_hidden_and_warns_on_non_objects() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path();
    write(
        &root.join("env/b.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: second\n",
    );
    write(
        &root.join("env/a.yml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\n",
    );
    write(
        &root.join("env/c/nested.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: third\n",
    );
    write(
        &root.join("env/.hidden/skip.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hidden\n",
    );
    write(
        &root.join("env/values.yaml"),
        "replicaCount: 3\nimage: nginx\n",
    );
    write(&root.join("env/notes.txt"), "not yaml");
    write(
        &root.join("env/d-kustomized/kustomization.yaml"),
        "namePrefix: k-\nresources:\n- cm.yaml\n",
    );
    write(
        &root.join("env/d-kustomized/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fourth\n",
    );
    let r = run(kubeship()
        .arg("render")
        .arg("--repo")
        .arg(root)
        .arg(root.join("env")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let names: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  name: "))
        .collect();
    assert_eq!(names, ["first", "second", "third", "k-fourth"]);
    assert!(r.stderr.contains("env/values.yaml"), "{}", r.stderr);
    assert!(r.stderr.contains("not a Kubernetes object"), "{}", r.stderr);
    assert!(!r.stdout.contains("hidden"));
}

/// Each refused input: (fixture, expected location, expected words).
const REFUSED: &[(&str, &str, &str)] = &[
    (
        "helm-charts",
        "helm-charts/kustomization.yaml:1:1",
        "Helm chart inflation is not supported",
    ),
    (
        "remote-url",
        "remote-url/kustomization.yaml:2:3",
        "remote URL",
    ),
    (
        "transformers",
        "transformers/kustomization.yaml:2:1",
        "plugins are not supported",
    ),
    (
        "generators",
        "generators/kustomization.yaml:1:1",
        "plugins are not supported",
    ),
    ("vars", "vars/kustomization.yaml:1:1", "use `replacements`"),
    ("openapi", "openapi/kustomization.yaml:1:1", "`openapi`"),
    ("crds", "crds/kustomization.yaml:1:1", "`crds`"),
    (
        "build-metadata",
        "build-metadata/kustomization.yaml:1:1",
        "`buildMetadata`",
    ),
    (
        "unknown-field",
        "unknown-field/kustomization.yaml:2:1",
        "unknown field `namespce`",
    ),
    (
        "parent-escape",
        "parent-escape/kustomization.yaml:2:3",
        "outside the repository root",
    ),
    (
        "absolute-path",
        "absolute-path/kustomization.yaml:2:3",
        "absolute path",
    ),
    (
        "cycle-a",
        "kustomization.yaml:2:3",
        "cycle between kustomizations",
    ),
    (
        "duplicate-object",
        "duplicate-object/b.yaml:1",
        "declared twice",
    ),
    ("bad-yaml", "bad-yaml/broken.yaml:5:7", "YAML syntax error"),
    ("tab-indent", "tab-indent/tabs.yaml:4:1", "tab character"),
    (
        "missing-file",
        "missing-file/kustomization.yaml:2:3",
        "cannot be read",
    ),
];

#[test]
fn refused_inputs_name_field_file_and_line_and_exit_1() {
    let root = manifest_dir().join("tests/fixtures/refused");
    for (fixture, location, words) in REFUSED {
        let r = run(kubeship()
            .arg("render")
            .arg("--repo")
            .arg(&root)
            .arg(root.join(fixture)));
        assert_eq!(r.code, 1, "{fixture}: {}", r.stderr);
        assert!(
            r.stderr.contains(location),
            "{fixture}: expected {location} in {}",
            r.stderr
        );
        assert!(
            r.stderr.contains(words),
            "{fixture}: expected `{words}` in {}",
            r.stderr
        );
        assert!(
            r.stdout.is_empty(),
            "{fixture}: nothing rendered on failure"
        );
    }
}

#[cfg(unix)]
#[test]
fn symlinks_leading_outside_the_repository_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let outside = tempfile::tempdir().expect("tmp");
    write(
        &outside.path().join("secret.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stolen\n",
    );
    write(
        &dir.path().join("env/kustomization.yaml"),
        "resources:\n- link/secret.yaml\n",
    );
    std::os::unix::fs::symlink(outside.path(), dir.path().join("env/link")).expect("symlink");
    let r = run(kubeship()
        .arg("render")
        .arg("--repo")
        .arg(dir.path())
        .arg(dir.path().join("env")));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("symlink that leads outside the repository root"),
        "{}",
        r.stderr
    );
    assert!(!r.stdout.contains("stolen"));

    // The same through a plain folder.
    std::fs::remove_file(dir.path().join("env/kustomization.yaml")).expect("rm");
    let r = run(kubeship()
        .arg("render")
        .arg("--repo")
        .arg(dir.path())
        .arg(dir.path().join("env")));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stdout.contains("stolen"));
}

#[test]
fn a_path_outside_the_repository_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let other = tempfile::tempdir().expect("tmp");
    write(
        &other.path().join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    );
    let r = run(kubeship()
        .arg("render")
        .arg("--repo")
        .arg(dir.path())
        .arg(other.path()));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("outside the repository root"),
        "{}",
        r.stderr
    );
}

#[test]
fn rendered_yaml_is_the_repository_content_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tmp");
    let cm = "apiVersion: v1\ndata:\n  hook: https://hooks.slack.com/services/T0/B0/abc\nkind: ConfigMap\nmetadata:\n  name: hooks\n";
    write(&dir.path().join("env/cm.yaml"), cm);
    let r = run(kubeship()
        .arg("render")
        .arg("--repo")
        .arg(dir.path())
        .arg(dir.path().join("env")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, cm);
}
