//! `kubeship init`, run as the real binary in temporary git repositories: what it writes,
//! that the result loads and renders, and that it never overwrites a file.

use std::path::Path;

use assert_cmd::Command;

fn kubeship(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kubeship"));
    c.current_dir(dir).env("NO_COLOR", "1");
    c
}

fn git_init(dir: &Path, branch: &str) {
    let ok = std::process::Command::new("git")
        .args(["init", "-q", "-b", branch])
        .current_dir(dir)
        .status()
        .expect("git is needed for this test")
        .success();
    assert!(ok, "git init failed");
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\ndata:\n  level: debug\n";

const FILES: [&str; 4] = [
    "kubeship.yaml",
    ".gitlab-ci.yml",
    ".gitlab/kubeship.gitlab-ci.yml",
    ".github/workflows/kubeship.yml",
];

#[test]
fn scaffolds_from_cluster_folders_then_skips_existing_files() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    git_init(root, "master");
    write(&root.join("clusters/dev/settings.yaml"), CM);
    write(&root.join("clusters/prod/settings.yaml"), CM);
    std::fs::create_dir_all(root.join("docs")).unwrap();

    // Run from a sub-folder: files land at the repository root.
    let out = kubeship(&root.join("docs")).arg("init").assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for f in FILES {
        assert!(
            stdout.contains(&format!("wrote {f}\n")),
            "{f} not reported:\n{stdout}"
        );
        assert!(root.join(f).is_file(), "{f} not written");
    }
    assert!(stdout.contains("Next steps:"), "{stdout}");
    assert!(!root.join("docs/kubeship.yaml").exists());

    let config = std::fs::read_to_string(root.join("kubeship.yaml")).unwrap();
    let parsed = kubeship::settings::parse_config(Path::new("kubeship.yaml"), &config).unwrap();
    assert_eq!(
        parsed.environments.keys().collect::<Vec<_>>(),
        vec!["dev", "prod"]
    );
    assert_eq!(parsed.environments["prod"].path, "clusters/prod");
    assert!(config.contains("# notifications:"), "{config}");

    let gitlab = std::fs::read_to_string(root.join(".gitlab-ci.yml")).unwrap();
    assert!(
        gitlab.contains("- local: .gitlab/kubeship.gitlab-ci.yml"),
        "{gitlab}"
    );
    assert_eq!(
        gitlab.matches("KUBESHIP_ENV: [dev, prod]").count(),
        4,
        "{gitlab}"
    );
    let template = std::fs::read_to_string(root.join(".gitlab/kubeship.gitlab-ci.yml")).unwrap();
    assert!(template.contains(".kubeship-apply:"));
    let workflow = std::fs::read_to_string(root.join(".github/workflows/kubeship.yml")).unwrap();
    assert!(workflow.contains("environment: [dev, prod]"), "{workflow}");
    assert!(workflow.contains("branches: [master]"), "{workflow}");
    assert!(workflow.contains("refs/heads/master"), "{workflow}");

    // The written kubeship.yaml is the one later commands load.
    let render = kubeship(root)
        .args(["render", "--env", "prod"])
        .assert()
        .success();
    let yaml = String::from_utf8(render.get_output().stdout.clone()).unwrap();
    assert!(yaml.contains("kind: ConfigMap"), "{yaml}");

    // Second run: every file exists and is left alone, even when edited.
    write(&root.join(".gitlab-ci.yml"), "# mine\n");
    let before: Vec<String> = FILES
        .iter()
        .map(|f| std::fs::read_to_string(root.join(f)).unwrap())
        .collect();
    let again = kubeship(root).arg("init").assert().success();
    let stderr = String::from_utf8(again.get_output().stderr.clone()).unwrap();
    let stdout = String::from_utf8(again.get_output().stdout.clone()).unwrap();
    for f in FILES {
        assert!(
            stderr.contains(&format!("skipped {f}: it already exists")),
            "{stderr}"
        );
        assert!(!stdout.contains(&format!("wrote {f}")), "{stdout}");
    }
    let after: Vec<String> = FILES
        .iter()
        .map(|f| std::fs::read_to_string(root.join(f)).unwrap())
        .collect();
    assert_eq!(before, after);
    assert_eq!(after[1], "# mine\n");
}

#[test]
fn existing_kubeship_yaml_names_the_environments_of_the_ci_files() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    git_init(root, "main");
    write(&root.join("deploy/staging/cm.yaml"), CM);
    write(
        &root.join("kubeship.yaml"),
        "environments:\n  staging:\n    path: deploy/staging\n",
    );
    let out = kubeship(root).arg("init").assert().success();
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("skipped kubeship.yaml: it already exists"),
        "{stderr}"
    );
    let gitlab = std::fs::read_to_string(root.join(".gitlab-ci.yml")).unwrap();
    assert!(gitlab.contains("KUBESHIP_ENV: [staging]"), "{gitlab}");
    assert_eq!(
        std::fs::read_to_string(root.join("kubeship.yaml")).unwrap(),
        "environments:\n  staging:\n    path: deploy/staging\n"
    );
}

#[test]
fn without_environment_folders_it_writes_placeholders_and_says_so() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    git_init(root, "main");
    let out = kubeship(root).arg("init").assert().success();
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("no environment folders found"), "{stderr}");
    let config = std::fs::read_to_string(root.join("kubeship.yaml")).unwrap();
    let parsed = kubeship::settings::parse_config(Path::new("kubeship.yaml"), &config).unwrap();
    assert!(parsed.environments.is_empty());
    let workflow = std::fs::read_to_string(root.join(".github/workflows/kubeship.yml")).unwrap();
    assert!(workflow.contains("environment: [dev]"), "{workflow}");
}
