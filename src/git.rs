//! Git, through the `git` command line: exporting a revision of the repository into a
//! temporary folder (for `diff --against REV`), and reading the current branch.
//! Must not: change the working tree, the index or any ref.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct GitError(pub String);

/// A revision exported into a temporary folder, deleted on drop.
pub struct Export {
    dir: tempfile::TempDir,
}

impl Export {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn git(repo: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C").arg(repo);
    c
}

/// Whether `rev` names a commit in the repository at `repo`.
pub fn has_revision(repo: &Path, rev: &str) -> Result<bool, GitError> {
    let verify = git(repo)
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{rev}^{{commit}}"))
        .output()
        .map_err(|e| GitError(format!("cannot run git: {e}; install git")))?;
    Ok(verify.status.success())
}

/// Exports `rev` of the repository at `repo` (`git archive REV | tar -x`).
pub fn export(repo: &Path, rev: &str) -> Result<Export, GitError> {
    if rev.starts_with('-') {
        return Err(GitError(format!("`{rev}` is not a revision")));
    }
    if !has_revision(repo, rev)? {
        return Err(GitError(format!(
            "git revision `{rev}` is not known in {}; fetch it first (for a merge request: git fetch origin <target-branch>)",
            repo.display()
        )));
    }
    let dir = tempfile::Builder::new()
        .prefix("kubeship-rev-")
        .tempdir()
        .map_err(|e| GitError(format!("cannot create a temporary folder: {e}")))?;
    let mut archive = git(repo)
        .args(["archive", "--format=tar"])
        .arg(rev)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| GitError(format!("cannot run git archive: {e}")))?;
    let stdout = archive
        .stdout
        .take()
        .ok_or_else(|| GitError("git archive gave no output".into()))?;
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dir.path())
        .stdin(stdout)
        .output()
        .map_err(|e| GitError(format!("cannot run tar: {e}")))?;
    let status = archive
        .wait()
        .map_err(|e| GitError(format!("git archive failed: {e}")))?;
    if !status.success() || !tar.status.success() {
        return Err(GitError(format!(
            "could not export revision `{rev}`: {}",
            String::from_utf8_lossy(&tar.stderr).trim()
        )));
    }
    Ok(Export { dir })
}

/// The top level of the work tree that contains `path`, as git sees it.
pub fn top_level(path: &Path) -> Option<PathBuf> {
    let out = git(path)
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// The current branch name, if HEAD is on a branch.
pub fn current_branch(repo: &Path) -> Option<String> {
    let out = git(repo)
        .args(["symbolic-ref", "--short", "-q", "HEAD"])
        .output()
        .ok()?;
    let b = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !b.is_empty()).then_some(b)
}
