//! Plain folders: every `*.yaml`/`*.yml` below, recursively, in path order, as Flux reads a
//! folder without a kustomization. Hidden entries are skipped; a subfolder holding a
//! kustomization is built as one; YAML that is not a Kubernetes object is skipped with a
//! warning naming the file.
//! Must not: transform objects.

use std::path::Path;

use crate::manifest::Object;

use super::load::load_file;
use super::{RenderError, RenderedSet, RepoFs, Warning, kustomize};

pub fn render_folder(
    fs: &mut RepoFs,
    dir: &Path,
    out: &mut RenderedSet,
) -> Result<Vec<Object>, RenderError> {
    let mut objects = Vec::new();
    let mut visited = std::collections::HashSet::new();
    walk(fs, dir, out, &mut objects, &mut visited)?;
    Ok(objects)
}

fn walk(
    fs: &mut RepoFs,
    dir: &Path,
    out: &mut RenderedSet,
    objects: &mut Vec<Object>,
    visited: &mut std::collections::HashSet<std::path::PathBuf>,
) -> Result<(), RenderError> {
    if !visited.insert(dir.to_path_buf()) {
        return Err(RenderError::plain(format!(
            "{} is reached twice through symlinks (a cycle); remove the symlink",
            fs.rel(dir)
        )));
    }
    let entries = super::fs::sorted_entries(dir)
        .map_err(|e| RenderError::plain(format!("cannot list {}: {e}", fs.rel(dir))))?;
    for (path, is_link) in entries {
        // Symlinks must stay inside the repository like every other reference; anything
        // else inside `dir` (already inside the root) is too.
        let resolved = if !is_link {
            path.clone()
        } else {
            match fs.contain(&path) {
                Ok(p) => p,
                Err(_) => {
                    return Err(RenderError::plain(format!(
                        "{} is a symlink that leads outside the repository root",
                        fs.rel(&path)
                    )));
                }
            }
        };
        if resolved.is_dir() {
            if fs
                .kustomization_in(&resolved)
                .map_err(RenderError::plain)?
                .is_some()
            {
                objects.extend(kustomize::build(fs, &resolved, out)?);
            } else {
                walk(fs, &resolved, out, objects, visited)?;
            }
            continue;
        }
        let is_yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml");
        if !is_yaml {
            continue;
        }
        let (found, others) = load_file(fs, &resolved, out)?;
        for other in others {
            out.warnings.push(Warning {
                pos: other.pos,
                message: format!(
                    "skipped: this YAML document in {} is not a Kubernetes object (no apiVersion/kind)",
                    fs.rel(&resolved)
                ),
            });
        }
        objects.extend(found);
    }
    Ok(())
}
