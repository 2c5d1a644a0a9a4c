//! Plain folders: every `*.yaml`/`*.yml` below, recursively, in path order, as Flux reads a
//! folder without a kustomization. Hidden entries are skipped; a subfolder holding a
//! kustomization is built as one; YAML that is not a Kubernetes object is skipped with a
//! warning naming the file.
//! Must not: transform objects.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::manifest::yaml::{Document, SyntaxError, parse_stream};
use crate::manifest::{FileId, Object};

use super::load::load_docs;
use super::{RenderError, RenderedSet, RepoFs, Warning, kustomize};

/// One step of a folder, in path order.
enum Item {
    File(PathBuf),
    Kustomization(PathBuf),
    /// The walk stopped here; reported once everything before it is done.
    Stop(RenderError),
}

/// A plain file read and registered as a source, or why it could not be.
type Read = Result<(FileId, Arc<str>), String>;

/// Files of at least this many are parsed on all cores.
const PARALLEL_FILES: usize = 32;

pub fn render_folder(
    fs: &mut RepoFs,
    dir: &Path,
    out: &mut RenderedSet,
) -> Result<Vec<Object>, RenderError> {
    let mut items = Vec::new();
    let mut visited = std::collections::HashSet::new();
    walk(fs, dir, &mut items, &mut visited);

    // Read every plain file (registering it as a source), parse them (in parallel when there
    // are many), then assemble objects strictly in path order; the first problem in that
    // order is the one reported, as when going one file at a time.
    let reads: Vec<Option<Read>> = items
        .iter()
        .map(|item| match item {
            Item::File(path) => Some(fs.read(path)),
            _ => None,
        })
        .collect();
    let parse = |i: usize| -> Option<Result<Vec<Document>, SyntaxError>> {
        match &reads[i] {
            Some(Ok((file, text))) => Some(parse_stream(text, *file)),
            _ => None,
        }
    };
    let files = reads.iter().filter(|r| r.is_some()).count();
    let mut parsed = parse_all(items.len(), files >= PARALLEL_FILES, &parse);

    let mut objects = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Item::Stop(e) => return Err(e),
            Item::Kustomization(dir) => objects.extend(kustomize::build(fs, &dir, out)?),
            Item::File(path) => {
                let file = match &reads[i] {
                    Some(Ok((file, _))) => *file,
                    Some(Err(e)) => return Err(RenderError::plain(e.clone())),
                    None => continue,
                };
                let docs = match parsed[i].take() {
                    Some(Ok(docs)) => docs,
                    Some(Err(e)) => return Err(RenderError::at(&fs.sources, e.pos, e.message)),
                    None => continue,
                };
                let (found, others) = load_docs(file, docs, out);
                for other in others {
                    out.warnings.push(Warning {
                        pos: other.pos,
                        message: format!(
                            "skipped: this YAML document in {} is not a Kubernetes object (no apiVersion/kind)",
                            fs.rel(&path)
                        ),
                    });
                }
                objects.extend(found);
            }
        }
    }
    Ok(objects)
}

/// `parse` for 0..n, on all cores when `parallel`; blocks are handed out in turn.
fn parse_all<T: Send>(n: usize, parallel: bool, parse: &(dyn Fn(usize) -> T + Sync)) -> Vec<T> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = if parallel {
        std::thread::available_parallelism()
            .map_or(1, |p| p.get())
            .min(8)
    } else {
        1
    };
    if threads < 2 {
        return (0..n).map(parse).collect();
    }
    const BLOCK: usize = 8;
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let lo = next.fetch_add(BLOCK, Ordering::Relaxed);
            if lo >= n {
                break;
            }
            for i in lo..(lo + BLOCK).min(n) {
                done.push((i, parse(i)));
            }
        }
        done
    };
    let parts = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut parts = vec![work()];
        parts.extend(helpers.into_iter().map(|h| h.join().unwrap_or_default()));
        parts
    });
    let mut slots: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for (i, t) in parts.into_iter().flatten() {
        slots[i] = Some(t);
    }
    slots
        .into_iter()
        .enumerate()
        .map(|(i, t)| t.unwrap_or_else(|| parse(i)))
        .collect()
}

/// Lists the folder recursively in path order; stops at the first problem.
fn walk(
    fs: &RepoFs,
    dir: &Path,
    items: &mut Vec<Item>,
    visited: &mut std::collections::HashSet<PathBuf>,
) -> bool {
    if !visited.insert(dir.to_path_buf()) {
        items.push(Item::Stop(RenderError::plain(format!(
            "{} is reached twice through symlinks (a cycle); remove the symlink",
            fs.rel(dir)
        ))));
        return false;
    }
    let entries = match super::fs::sorted_entries(dir) {
        Ok(e) => e,
        Err(e) => {
            items.push(Item::Stop(RenderError::plain(format!(
                "cannot list {}: {e}",
                fs.rel(dir)
            ))));
            return false;
        }
    };
    for (path, is_link) in entries {
        // Symlinks must stay inside the repository like every other reference; anything
        // else inside `dir` (already inside the root) is too.
        let resolved = if !is_link {
            path.clone()
        } else {
            match fs.contain(&path) {
                Ok(p) => p,
                Err(_) => {
                    items.push(Item::Stop(RenderError::plain(format!(
                        "{} is a symlink that leads outside the repository root",
                        fs.rel(&path)
                    ))));
                    return false;
                }
            }
        };
        if resolved.is_dir() {
            match fs.kustomization_in(&resolved) {
                Err(e) => {
                    items.push(Item::Stop(RenderError::plain(e)));
                    return false;
                }
                Ok(Some(_)) => items.push(Item::Kustomization(resolved)),
                Ok(None) => {
                    if !walk(fs, &resolved, items, visited) {
                        return false;
                    }
                }
            }
            continue;
        }
        let is_yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml");
        if is_yaml {
            items.push(Item::File(resolved));
        }
    }
    true
}
