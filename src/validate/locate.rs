//! From a JSON instance path back to the YAML node a person has to edit, and the other way:
//! node trees to the JSON that schemas validate (with Go's reading of `null` for built-ins).
//! Must not: decide what is wrong; it only finds where.

use serde_json::Value as Json;

use crate::manifest::{Node, Pos, Value};

use super::schemas::Seg;

/// The node at the end of a path, the key that holds it (for mapping values) and the
/// nearest node on the way with a known position.
pub(crate) struct Found<'a> {
    pub node: &'a Node,
    pub key: Option<&'a Node>,
    /// Whether the whole path was found (else `node` is the deepest ancestor found).
    pub complete: bool,
    fallback: Pos,
}

impl Found<'_> {
    /// The position to report: a scalar value itself, a mapping or sequence by its key.
    pub fn pos(&self) -> Pos {
        let p = match (&self.node.value, self.key) {
            (Value::Scalar(..), _) => self.node.pos,
            (_, Some(k)) => k.pos,
            _ => self.node.pos,
        };
        if p.is_known() { p } else { self.fallback }
    }

    /// The position of the key, else of the value.
    pub fn key_pos(&self) -> Pos {
        match self.key {
            Some(k) if k.pos.is_known() => k.pos,
            _ => self.pos(),
        }
    }
}

pub(crate) fn find<'a>(root: &'a Node, path: &[Seg]) -> Found<'a> {
    let mut found = Found {
        node: root,
        key: None,
        complete: true,
        fallback: root.pos,
    };
    for seg in path {
        let next = match (seg, &found.node.value) {
            (Seg::Key(k), Value::Map(entries)) => entries
                .iter()
                .rev()
                .find(|e| e.key.text() == Some(k.as_str()))
                .map(|e| (&e.value, Some(&e.key))),
            (Seg::Index(i), Value::Seq(items)) => items.get(*i).map(|n| (n, None)),
            _ => None,
        };
        let Some((node, key)) = next else {
            found.complete = false;
            return found;
        };
        let here = found.pos();
        if here.is_known() {
            found.fallback = here;
        }
        found.node = node;
        found.key = key;
    }
    found
}

/// `spec.template.spec.containers[0].image`; keys that are not plain words are quoted
/// (`metadata.labels["app.kubernetes.io/name"]`).
pub(crate) fn human_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
            Seg::Key(k) => {
                let plain = !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
                if plain {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                } else {
                    out.push_str(&format!("[{k:?}]"));
                }
            }
        }
    }
    out
}

/// JSON for a built-in kind: a mapping entry whose value is `null` is left out, as Go's
/// decoder leaves such a field unset (`creationTimestamp: null`).
pub(crate) fn to_json_without_nulls(node: &Node) -> Json {
    match &node.value {
        Value::Map(entries) => {
            let mut m = serde_json::Map::with_capacity(entries.len());
            for e in entries {
                if e.value.is_null() {
                    continue;
                }
                m.insert(
                    crate::manifest::node::key_string(&e.key),
                    to_json_without_nulls(&e.value),
                );
            }
            Json::Object(m)
        }
        Value::Seq(items) => Json::Array(items.iter().map(to_json_without_nulls).collect()),
        Value::Scalar(..) => node.to_json(),
    }
}

/// JSON for a custom resource: `null` is a value custom resource schemas judge (`nullable`),
/// except in `metadata`, which the API server decodes like a built-in's.
pub(crate) fn to_json_custom(node: &Node) -> Json {
    match &node.value {
        Value::Map(entries) => {
            let mut m = serde_json::Map::with_capacity(entries.len());
            for e in entries {
                let key = crate::manifest::node::key_string(&e.key);
                let value = if key == "metadata" {
                    to_json_without_nulls(&e.value)
                } else {
                    e.value.to_json()
                };
                m.insert(key, value);
            }
            Json::Object(m)
        }
        _ => node.to_json(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::FileId;
    use crate::manifest::yaml::parse_stream;

    fn doc(text: &str) -> Node {
        parse_stream(text, FileId(1))
            .unwrap()
            .remove(0)
            .root
            .unwrap()
    }

    #[test]
    fn finds_values_keys_and_items() {
        let n = doc("spec:\n  containers:\n    - name: a\n      image: x\n  replicas: 3\n");
        let f = find(&n, &[Seg::Key("spec".into()), Seg::Key("replicas".into())]);
        assert!(f.complete);
        assert_eq!((f.pos().line, f.pos().col), (5, 13));
        let f = find(
            &n,
            &[
                Seg::Key("spec".into()),
                Seg::Key("containers".into()),
                Seg::Index(0),
            ],
        );
        assert_eq!((f.pos().line, f.pos().col), (3, 7));
        let f = find(&n, &[Seg::Key("spec".into())]);
        assert_eq!((f.pos().line, f.pos().col), (1, 1));
        let f = find(&n, &[Seg::Key("spec".into()), Seg::Key("nope".into())]);
        assert!(!f.complete);
        assert_eq!(f.pos().line, 1);
    }

    #[test]
    fn paths_read_like_kubectl_explain() {
        let p = [
            Seg::Key("spec".into()),
            Seg::Key("containers".into()),
            Seg::Index(0),
            Seg::Key("image".into()),
        ];
        assert_eq!(human_path(&p), "spec.containers[0].image");
        let p = [
            Seg::Key("metadata".into()),
            Seg::Key("labels".into()),
            Seg::Key("app.kubernetes.io/name".into()),
        ];
        assert_eq!(
            human_path(&p),
            "metadata.labels[\"app.kubernetes.io/name\"]"
        );
    }

    #[test]
    fn nulls_are_unset_for_builtins() {
        let n = doc("metadata:\n  name: a\n  creationTimestamp: null\nlist: [null, 1]\n");
        assert_eq!(
            to_json_without_nulls(&n),
            serde_json::json!({"metadata": {"name": "a"}, "list": [null, 1]})
        );
        let n = doc("metadata:\n  creationTimestamp: null\nspec:\n  x: null\n");
        assert_eq!(
            to_json_custom(&n),
            serde_json::json!({"metadata": {}, "spec": {"x": null}})
        );
    }
}
