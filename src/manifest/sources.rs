//! The files an environment was rendered from.
//!
//! Owns: the table from [`FileId`] to a repository-relative path and the file's text, so any
//! position can be shown as `path:line:col` with the offending source line.
//! Must not: read from disk (the renderer hands files in) or interpret their content.

use std::collections::HashMap;
use std::sync::Arc;

use super::node::{FileId, Pos};

#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path relative to the repository root, with `/` separators.
    pub path: String,
    pub text: Arc<str>,
}

#[derive(Clone, Debug)]
pub struct Sources {
    files: Vec<SourceFile>,
    /// Path -> index in `files`, so registering thousands of files stays linear.
    by_path: HashMap<String, u32>,
}

impl Default for Sources {
    fn default() -> Self {
        Sources::new()
    }
}

impl Sources {
    pub fn new() -> Sources {
        Sources {
            files: vec![SourceFile {
                path: "<generated>".to_string(),
                text: Arc::from(""),
            }],
            by_path: HashMap::new(),
        }
    }

    /// Registers a file and returns its id; the same path registered twice gets the same id.
    pub fn add(&mut self, path: String, text: Arc<str>) -> FileId {
        if let Some(&i) = self.by_path.get(&path) {
            return FileId(i);
        }
        let id = self.files.len() as u32;
        self.by_path.insert(path.clone(), id);
        self.files.push(SourceFile { path, text });
        FileId(id)
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        self.files.get(id.0 as usize).unwrap_or(&self.files[0])
    }

    pub fn path(&self, id: FileId) -> &str {
        &self.file(id).path
    }

    /// The text of a 1-based line, if known.
    pub fn line(&self, id: FileId, line: u32) -> Option<&str> {
        if line == 0 || id == FileId::GENERATED {
            return None;
        }
        self.file(id).text.lines().nth(line as usize - 1)
    }

    /// `path:line:col` (or `path:line`, or `path`) for a position.
    pub fn describe(&self, pos: Pos) -> String {
        let path = self.path(pos.file);
        match (pos.line, pos.col) {
            (0, _) => path.to_string(),
            (l, 0) => format!("{path}:{l}"),
            (l, c) => format!("{path}:{l}:{c}"),
        }
    }

    pub fn len(&self) -> usize {
        self.files.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
