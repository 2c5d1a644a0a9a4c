//! Field sets in the FieldsV1 vocabulary (`f:spec`, `k:{"name":"app"}`, `v:"x"`, `i:0`, `.`)
//! and `metadata.managedFields` entries. A set is a flat set of member paths; each path is a
//! list of element strings exactly as they appear as FieldsV1 keys. Owns conversion to and
//! from the wire format and the `.spec.template.spec.containers[name="app"].image` rendering
//! used in conflict messages. Knows nothing about objects' contents.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

pub(crate) type FieldPath = Vec<String>;
pub(crate) type FieldSet = BTreeSet<FieldPath>;

/// Whether `set` holds `path` or any path below it.
pub(crate) fn owns_at_or_below(set: &FieldSet, path: &[String]) -> bool {
    let start: FieldPath = path.to_vec();
    set.range(start..)
        .next()
        .is_some_and(|p| p.starts_with(path))
}

/// FieldsV1 JSON for a set.
pub(crate) fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        insert_path(&mut root, path);
    }
    Value::Object(root)
}

fn insert_path(root: &mut Map<String, Value>, path: &[String]) {
    let mut node = root;
    for (i, el) in path.iter().enumerate() {
        let entry = node.entry(el.clone()).or_insert_with(|| json!({}));
        let Value::Object(child) = entry else { return };
        if i + 1 == path.len() {
            // The path itself is a member: mark with "." when it also has children.
            if !child.is_empty() && !child.contains_key(".") {
                let mut with_dot = Map::new();
                with_dot.insert(".".into(), json!({}));
                with_dot.extend(std::mem::take(child));
                *child = with_dot;
            } else if child.is_empty() {
                // A bare member stays `{}`; remember that via a marker removed below.
                child.insert("\u{0}".into(), Value::Null);
            }
            return;
        }
        // Descending below a node that was a bare member turns it into ". + children".
        if child.remove("\u{0}").is_some() {
            child.insert(".".into(), json!({}));
        }
        node = child;
    }
}

/// Remove the internal markers left by `insert_path`.
fn strip_markers(v: &mut Value) {
    if let Value::Object(m) = v {
        m.remove("\u{0}");
        for (_, c) in m.iter_mut() {
            strip_markers(c);
        }
    }
}

/// FieldsV1 JSON for a set, ready for the wire.
pub(crate) fn fields_v1(set: &FieldSet) -> Value {
    let mut v = to_fields_v1(set);
    strip_markers(&mut v);
    v
}

/// Parse FieldsV1 JSON into a set.
pub(crate) fn from_fields_v1(v: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    let mut prefix = Vec::new();
    walk_v1(v, &mut prefix, &mut set);
    set
}

fn walk_v1(v: &Value, prefix: &mut FieldPath, set: &mut FieldSet) {
    let Value::Object(m) = v else { return };
    if m.is_empty() {
        if !prefix.is_empty() {
            set.insert(prefix.clone());
        }
        return;
    }
    for (k, child) in m {
        if k == "." {
            if !prefix.is_empty() {
                set.insert(prefix.clone());
            }
            continue;
        }
        prefix.push(k.clone());
        walk_v1(child, prefix, set);
        prefix.pop();
    }
}

/// `.spec.template.spec.containers[name="app"].image`
pub(crate) fn display_path(path: &[String]) -> String {
    let mut s = String::new();
    for el in path {
        if let Some(f) = el.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = el.strip_prefix("k:") {
            match serde_json::from_str::<Value>(k) {
                Ok(Value::Object(m)) => {
                    let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    s.push('[');
                    s.push_str(&parts.join(","));
                    s.push(']');
                }
                _ => s.push_str(k),
            }
        } else if let Some(v) = el.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        } else if let Some(i) = el.strip_prefix("i:") {
            s.push_str(&format!("[{i}]"));
        } else {
            s.push_str(el);
        }
    }
    s
}

/// One `metadata.managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ManagedEntry {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    pub time: String,
    pub subresource: Option<String>,
    pub fields: FieldSet,
}

impl ManagedEntry {
    pub fn same_slot(&self, manager: &str, operation: &str, subresource: Option<&str>) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), json!(self.manager));
        m.insert("operation".into(), json!(self.operation));
        m.insert("apiVersion".into(), json!(self.api_version));
        m.insert("time".into(), json!(self.time));
        m.insert("fieldsType".into(), json!("FieldsV1"));
        m.insert("fieldsV1".into(), fields_v1(&self.fields));
        if let Some(s) = &self.subresource {
            m.insert("subresource".into(), json!(s));
        }
        Value::Object(m)
    }

    pub fn from_json(v: &Value) -> Option<ManagedEntry> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Some(ManagedEntry {
            manager: s("manager").unwrap_or_default(),
            operation: s("operation")?,
            api_version: s("apiVersion").unwrap_or_default(),
            time: s("time").unwrap_or_default(),
            subresource: s("subresource").filter(|x| !x.is_empty()),
            fields: v.get("fieldsV1").map(from_fields_v1).unwrap_or_default(),
        })
    }
}

/// Read the entries of an object's `metadata.managedFields`.
pub(crate) fn read_managed(obj: &Value) -> Vec<ManagedEntry> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(ManagedEntry::from_json).collect())
        .unwrap_or_default()
}

/// Write entries to `metadata.managedFields` (dropping empty ones; removing the key if none).
pub(crate) fn write_managed(obj: &mut Value, entries: &[ManagedEntry]) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(ManagedEntry::to_json)
        .collect();
    if list.is_empty() {
        meta.remove("managedFields");
    } else {
        meta.insert("managedFields".into(), Value::Array(list));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(els: &[&str]) -> FieldPath {
        els.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn roundtrip_with_dot() {
        let mut set = FieldSet::new();
        set.insert(p(&["f:spec", "f:replicas"]));
        set.insert(p(&["f:spec", "f:containers", "k:{\"name\":\"app\"}"]));
        set.insert(p(&[
            "f:spec",
            "f:containers",
            "k:{\"name\":\"app\"}",
            "f:image",
        ]));
        let v = fields_v1(&set);
        assert_eq!(
            v,
            json!({"f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {}}}, "f:replicas": {}}})
        );
        assert_eq!(from_fields_v1(&v), set);
    }

    #[test]
    fn display() {
        assert_eq!(
            display_path(&p(&[
                "f:spec",
                "f:containers",
                "k:{\"name\":\"app\"}",
                "f:image"
            ])),
            ".spec.containers[name=\"app\"].image"
        );
    }

    #[test]
    fn below() {
        let mut set = FieldSet::new();
        set.insert(p(&["f:spec", "f:replicas"]));
        assert!(owns_at_or_below(&set, &p(&["f:spec"])));
        assert!(!owns_at_or_below(&set, &p(&["f:metadata"])));
    }
}
