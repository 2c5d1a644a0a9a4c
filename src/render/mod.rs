//! Rendering an environment folder into its objects.
//!
//! Owns: turning a folder of the repository into a [`RenderedSet`]: plain folders (every YAML
//! file below, in path order, as Flux does) and kustomizations (a native implementation of
//! `kustomize build`, in `kustomize/`). Every object keeps its origin.
//! Must not: touch the network, run external programs, read outside the repository root, or
//! print (warnings are returned as data).

mod fs;
pub mod kustomize;
mod load;
mod plain;

use std::fmt;
use std::path::Path;

use crate::manifest::{FileId, Object, Pos, Sources};

pub use fs::KUSTOMIZATION_NAMES;
pub(crate) use fs::RepoFs;

/// The rendered objects of one folder, with the files they came from.
#[derive(Debug, Default)]
pub struct RenderedSet {
    pub objects: Vec<Object>,
    pub sources: Sources,
    pub warnings: Vec<Warning>,
    /// Keys that appear twice in one mapping of a source document.
    pub duplicate_keys: Vec<DuplicateKeyNote>,
}

/// Something the renderer skipped or doubts, with where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    pub pos: Pos,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateKeyNote {
    pub key: String,
    pub first: Pos,
    pub again: Pos,
}

/// A repository problem that stops rendering, with the place to fix it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct RenderError {
    /// `path:line:col`, `path`, or empty when no file is involved.
    pub location: String,
    pub message: String,
    /// The position, when known, for reports.
    pub pos: Option<(String, u32, u32)>,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.location, self.message)
        }
    }
}

impl RenderError {
    pub fn plain(message: impl Into<String>) -> RenderError {
        RenderError {
            location: String::new(),
            message: message.into(),
            pos: None,
        }
    }

    pub fn at(sources: &Sources, pos: Pos, message: impl Into<String>) -> RenderError {
        RenderError {
            location: sources.describe(pos),
            message: message.into(),
            pos: (pos.file != FileId::GENERATED)
                .then(|| (sources.path(pos.file).to_string(), pos.line, pos.col)),
        }
    }

    pub fn in_file(sources: &Sources, file: FileId, message: impl Into<String>) -> RenderError {
        RenderError::at(sources, Pos::new(file, 0, 0), message)
    }
}

/// Renders `dir` (a kustomization folder or a plain folder) of the repository at `repo_root`.
pub fn render(repo_root: &Path, dir: &Path) -> Result<RenderedSet, RenderError> {
    let mut fs = RepoFs::new(repo_root)?;
    let dir = fs.contain(dir)?;
    if !dir.is_dir() {
        return Err(RenderError::plain(format!(
            "{} is not a folder",
            fs.rel(&dir)
        )));
    }
    let mut out = RenderedSet::default();
    let kust = fs.kustomization_in(&dir).map_err(RenderError::plain)?;
    let objects = match kust {
        Some(_) => kustomize::build(&mut fs, &dir, &mut out)?,
        None => plain::render_folder(&mut fs, &dir, &mut out)?,
    };
    out.objects = objects;
    out.sources = std::mem::take(&mut fs.sources);
    Ok(out)
}
