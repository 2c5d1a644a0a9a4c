//! Pushing the image-update branch, as the scheduled pipeline does: to a bare repository
//! standing in for the remote.

use std::path::Path;
use std::process::Command;

use kubeship::images::git::{PushAuth, PushOutcome, push_branch};

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
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn commit(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).unwrap();
    git(dir, &["add", file]);
    git(dir, &["commit", "--quiet", "-m", file]);
}

#[test]
fn pushes_only_when_the_branch_differs() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("remote.git");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&remote).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    git(&remote, &["init", "--quiet", "--bare"]);
    git(&work, &["init", "--quiet", "--initial-branch=main"]);
    git(&work, &["config", "user.name", "T"]);
    git(&work, &["config", "user.email", "t@example.com"]);
    git(&work, &["config", "commit.gpgsign", "false"]);
    git(
        &work,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    commit(&work, "a.yaml", "a: 1\n");
    let branch = "kubeship/image-updates";

    assert_eq!(
        push_branch(&work, branch, None).unwrap(),
        PushOutcome::Pushed
    );
    let head = git(&work, &["rev-parse", "HEAD"]);
    assert_eq!(
        git(&remote, &["rev-parse", &format!("refs/heads/{branch}")]),
        head
    );

    // A new commit with the same files (another scheduled run): nothing to push.
    git(
        &work,
        &["commit", "--quiet", "--allow-empty", "-m", "same tree"],
    );
    assert_eq!(
        push_branch(&work, branch, None).unwrap(),
        PushOutcome::UpToDate
    );
    assert_eq!(
        git(&remote, &["rev-parse", &format!("refs/heads/{branch}")]),
        head
    );

    // Different files: force-pushed, through an explicit URL and token as the CI does.
    commit(&work, "a.yaml", "a: 2\n");
    let auth = PushAuth {
        url: remote.to_str().unwrap().to_string(),
        username: "oauth2".to_string(),
        token: "push-token-1234".to_string(),
    };
    assert_eq!(
        push_branch(&work, branch, Some(&auth)).unwrap(),
        PushOutcome::Pushed
    );
    assert_eq!(
        git(&remote, &["rev-parse", &format!("refs/heads/{branch}")]),
        git(&work, &["rev-parse", "HEAD"])
    );

    let err = push_branch(&work, "bad..name", None).unwrap_err();
    assert!(err.to_string().contains("not a valid branch name"), "{err}");
}
