//! Reading the repository, and nothing outside it.
//!
//! Owns: the repository-root boundary (no `..` escape, no absolute paths, no symlink leading
//! out), reading files into [`Sources`], and listing folders in path order.
//! Must not: parse YAML or decide what a file means; fetch anything from the network.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::manifest::{FileId, Sources};

use super::RenderError;

/// The repository as the renderer may see it.
pub struct RepoFs {
    root: PathBuf,
    pub sources: Sources,
}

pub const KUSTOMIZATION_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

impl RepoFs {
    /// `root` must be an existing directory; it is canonicalized once here.
    pub fn new(root: &Path) -> Result<RepoFs, RenderError> {
        let root = root.canonicalize().map_err(|e| {
            RenderError::plain(format!(
                "cannot open repository root {}: {e}",
                root.display()
            ))
        })?;
        Ok(RepoFs {
            root,
            sources: Sources::new(),
        })
    }

    /// Path relative to the root with `/` separators, for messages and origins.
    pub fn rel(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        let s = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if s.is_empty() { ".".to_string() } else { s }
    }

    /// Resolves `reference` (as written in `from`, a file inside `base_dir`) to a canonical
    /// path inside the repository, refusing absolute paths, URLs and escapes.
    pub fn resolve(&self, base_dir: &Path, reference: &str) -> Result<PathBuf, String> {
        if reference.is_empty() {
            return Err("empty path".to_string());
        }
        if is_remote(reference) {
            return Err(format!(
                "`{reference}` is a remote URL; kubeship never fetches remote resources in CI. \
                 Vendor it into the repository and reference the local copy"
            ));
        }
        let p = Path::new(reference);
        if p.is_absolute() {
            return Err(format!(
                "`{reference}` is an absolute path; use a path relative to the kustomization"
            ));
        }
        // Normalize lexically first so `a/../../x` is caught even when it does not exist.
        let mut lexical = base_dir.to_path_buf();
        for c in p.components() {
            match c {
                Component::ParentDir => {
                    lexical.pop();
                }
                Component::CurDir => {}
                Component::Normal(n) => lexical.push(n),
                _ => {}
            }
        }
        if !lexical.starts_with(&self.root) {
            return Err(format!(
                "`{reference}` points outside the repository root {}",
                self.root.display()
            ));
        }
        let canonical = lexical
            .canonicalize()
            .map_err(|e| format!("`{reference}` cannot be read ({}): {e}", self.rel(&lexical)))?;
        if !canonical.starts_with(&self.root) {
            return Err(format!(
                "`{reference}` is a symlink that leads outside the repository root"
            ));
        }
        Ok(canonical)
    }

    /// Checks that an existing path (for example a command-line argument) is inside the root.
    pub fn contain(&self, path: &Path) -> Result<PathBuf, RenderError> {
        let canonical = path
            .canonicalize()
            .map_err(|e| RenderError::plain(format!("cannot open {}: {e}", path.display())))?;
        if !canonical.starts_with(&self.root) {
            return Err(RenderError::plain(format!(
                "{} is outside the repository root {}",
                path.display(),
                self.root.display()
            )));
        }
        Ok(canonical)
    }

    /// Reads a file (already resolved inside the root) and registers it as a source.
    pub fn read(&mut self, path: &Path) -> Result<(FileId, Arc<str>), String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", self.rel(path)))?;
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => return Err(format!("{} is not UTF-8 text", self.rel(path))),
        };
        let text: Arc<str> = Arc::from(text.strip_prefix('\u{feff}').unwrap_or(&text));
        let id = self.sources.add(self.rel(path), text.clone());
        Ok((id, text))
    }

    /// Reads raw bytes (generator files may be binary); the file is not registered as a source.
    pub fn read_bytes(&self, path: &Path) -> Result<Vec<u8>, String> {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", self.rel(path)))
    }

    /// The kustomization file in `dir`, if any. Two of them at once is an error, as in kustomize.
    pub fn kustomization_in(&self, dir: &Path) -> Result<Option<PathBuf>, String> {
        let found: Vec<PathBuf> = KUSTOMIZATION_NAMES
            .iter()
            .map(|n| dir.join(n))
            .filter(|p| p.is_file())
            .collect();
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.into_iter().next()),
            _ => Err(format!(
                "found multiple kustomization files in {}: keep only one of {}",
                self.rel(dir),
                KUSTOMIZATION_NAMES.join(", ")
            )),
        }
    }
}

pub fn is_remote(reference: &str) -> bool {
    let lower = reference.to_ascii_lowercase();
    lower.contains("://")
        || lower.starts_with("git@")
        || lower.starts_with("github.com/")
        || lower.starts_with("gitlab.com/")
        || lower.starts_with("bitbucket.org/")
        || lower.contains("?ref=")
}

/// Entries of `dir` sorted by name (byte order, as Go's filepath.Walk), skipping hidden ones.
/// Each entry comes with whether it is a symlink (from the directory listing, no extra
/// system call).
pub fn sorted_entries(dir: &Path) -> std::io::Result<Vec<(PathBuf, bool)>> {
    let mut entries: Vec<(PathBuf, bool)> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| {
            // Unknown types are treated as symlinks: checked the careful way.
            let link = e.file_type().map_or(true, |t| t.is_symlink());
            (e.path(), link)
        })
        .collect();
    entries.sort();
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes_absolute_and_remote() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/x.yaml"), "a: 1").unwrap();
        let fs = RepoFs::new(dir.path()).unwrap();
        let base = fs.root.join("a");
        assert!(fs.resolve(&base, "x.yaml").is_ok());
        assert!(
            fs.resolve(&base, "../../etc/passwd")
                .unwrap_err()
                .contains("outside")
        );
        assert!(
            fs.resolve(&base, "/etc/passwd")
                .unwrap_err()
                .contains("absolute")
        );
        assert!(
            fs.resolve(&base, "https://github.com/x/y//base?ref=v1")
                .unwrap_err()
                .contains("remote")
        );
        assert!(
            fs.resolve(&base, "github.com/x/y/base")
                .unwrap_err()
                .contains("remote")
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", dir.path().join("a/link")).unwrap();
            assert!(
                fs.resolve(&base, "link/passwd")
                    .unwrap_err()
                    .contains("symlink")
            );
        }
    }
}
