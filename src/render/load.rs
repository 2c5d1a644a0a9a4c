//! Loading one YAML file into objects.
//!
//! Owns: reading a resource file through the repository boundary, splitting its documents,
//! expanding `List` kinds, recording each object's origin and duplicate keys.
//! Must not: apply any transformation.

use std::path::Path;

use crate::manifest::yaml::{Document, parse_stream};
use crate::manifest::{FileId, Node, Object, Origin, Pos};

use super::{DuplicateKeyNote, RenderError, RenderedSet, RepoFs};

/// A document that is not a Kubernetes object.
pub struct NotAnObject {
    pub pos: Pos,
}

/// Reads every document of `path`. Documents that are not Kubernetes objects are returned
/// separately so the caller decides whether they are an error or a warning.
pub fn load_file(
    fs: &mut RepoFs,
    path: &Path,
    out: &mut RenderedSet,
) -> Result<(Vec<Object>, Vec<NotAnObject>), RenderError> {
    let (file, text) = fs.read(path).map_err(RenderError::plain)?;
    load_text(fs, file, &text, out)
}

pub fn load_text(
    fs: &RepoFs,
    file: FileId,
    text: &str,
    out: &mut RenderedSet,
) -> Result<(Vec<Object>, Vec<NotAnObject>), RenderError> {
    let docs =
        parse_stream(text, file).map_err(|e| RenderError::at(&fs.sources, e.pos, e.message))?;
    Ok(load_docs(file, docs, out))
}

/// The objects of documents already parsed from `file`.
pub fn load_docs(
    file: FileId,
    docs: Vec<Document>,
    out: &mut RenderedSet,
) -> (Vec<Object>, Vec<NotAnObject>) {
    let mut objects = Vec::with_capacity(docs.len());
    let mut others = Vec::new();
    for doc in docs {
        out.duplicate_keys
            .extend(doc.duplicate_keys.into_iter().map(|d| DuplicateKeyNote {
                key: d.key,
                first: d.first,
                again: d.again,
            }));
        let Some(root) = doc.root else { continue };
        push_object(root, file, doc.line, &mut objects, &mut others);
    }
    (objects, others)
}

fn push_object(
    root: Node,
    file: FileId,
    line: u32,
    objects: &mut Vec<Object>,
    others: &mut Vec<NotAnObject>,
) {
    if !Object::is_kubernetes_object(&root) {
        others.push(NotAnObject { pos: root.pos });
        return;
    }
    let kind = root.path_name(&["kind"]).unwrap_or("");
    if kind.ends_with("List") && root.get("items").is_some_and(Node::is_seq) {
        let mut root = root;
        if let Some(items) = root.remove("items")
            && let crate::manifest::Value::Seq(items) = items.value
        {
            for item in items {
                let line = item.pos.line;
                push_object(item, file, line, objects, others);
            }
        }
        return;
    }
    objects.push(Object::new(
        root,
        Origin {
            file,
            line,
            via: Vec::new(),
        },
    ));
}
