//! Strategic merge patches, as kustomize's kyaml merge applies them.
//!
//! Owns: merging a patch mapping into an object: maps merge key by key, `null` deletes,
//! `$patch: delete|replace` on maps and list elements, `$retainKeys`,
//! `$deleteFromPrimitiveList/…`, `$setElementOrder/…` (accepted, ordering ignored), and lists
//! merged by their merge key where Kubernetes declares one (containers, env, ports, volumes,
//! volumeMounts, …) and replaced everywhere else. Like kustomize, elements named by the patch
//! come first, followed by the rest of the original list.
//! Must not: know about kustomizations or targets (the caller picks the object).

use crate::manifest::{Node, Value};

/// How lists at a path merge, from the Kubernetes schema of built-in kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum ListMerge {
    /// Replaced by the patch's list.
    Replace,
    /// Merged element by element, matched on these keys.
    Keyed(&'static [&'static str]),
    /// A set of scalars (finalizers).
    Primitive,
}

/// Where the pod spec sits in each built-in workload kind that kustomize knows the schema of.
fn pod_spec_prefix(group: &str, kind: &str) -> Option<&'static [&'static str]> {
    match (group, kind) {
        ("", "Pod") => Some(&["spec"]),
        ("", "PodTemplate") => Some(&["template", "spec"]),
        ("", "ReplicationController") => Some(&["spec", "template", "spec"]),
        ("apps", "Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet") => {
            Some(&["spec", "template", "spec"])
        }
        ("batch", "Job") => Some(&["spec", "template", "spec"]),
        ("batch", "CronJob") => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

fn is_builtin_group(group: &str) -> bool {
    !group.contains('.') || group.ends_with(".k8s.io")
}

/// The merge strategy of the list at `path` (mapping keys from the object root).
pub fn list_merge(group: &str, kind: &str, path: &[&str]) -> ListMerge {
    if is_builtin_group(group) {
        match path {
            ["metadata", "finalizers"] => return ListMerge::Primitive,
            ["metadata", "ownerReferences"] => return ListMerge::Keyed(&["uid"]),
            _ => {}
        }
    }
    if let Some(prefix) = pod_spec_prefix(group, kind)
        && let Some(rest) = path.strip_prefix(prefix)
    {
        // A pod template's own metadata lists, too.
        return pod_spec_list(rest);
    }
    if let Some(prefix) = pod_spec_prefix(group, kind)
        && path.len() == prefix.len() + 1
        && path[..prefix.len() - 1] == prefix[..prefix.len() - 1]
        && path[prefix.len() - 1] == "metadata"
        && path[prefix.len()] == "finalizers"
    {
        return ListMerge::Primitive;
    }
    match (group, kind, path) {
        ("", "Service", ["spec", "ports"]) => ListMerge::Keyed(&["port", "protocol"]),
        ("", "ServiceAccount", ["secrets"]) => ListMerge::Keyed(&["name"]),
        _ => ListMerge::Replace,
    }
}

fn pod_spec_list(rest: &[&str]) -> ListMerge {
    match rest {
        ["containers" | "initContainers" | "ephemeralContainers"] => ListMerge::Keyed(&["name"]),
        ["volumes" | "imagePullSecrets"] => ListMerge::Keyed(&["name"]),
        ["hostAliases"] => ListMerge::Keyed(&["ip"]),
        ["topologySpreadConstraints"] => ListMerge::Keyed(&["topologyKey", "whenUnsatisfiable"]),
        [
            "containers" | "initContainers" | "ephemeralContainers",
            "env",
        ] => ListMerge::Keyed(&["name"]),
        [
            "containers" | "initContainers" | "ephemeralContainers",
            "ports",
        ] => ListMerge::Keyed(&["containerPort", "protocol"]),
        [
            "containers" | "initContainers" | "ephemeralContainers",
            "volumeMounts",
        ] => ListMerge::Keyed(&["mountPath"]),
        [
            "containers" | "initContainers" | "ephemeralContainers",
            "volumeDevices",
        ] => ListMerge::Keyed(&["devicePath"]),
        _ => ListMerge::Replace,
    }
}

/// The result of patching one node.
#[derive(Debug, PartialEq)]
pub enum Merged {
    Keep,
    /// The node is to be removed from its parent (or the object deleted, at the root).
    Delete,
}

pub struct Patcher<'a> {
    pub group: &'a str,
    pub kind: &'a str,
}

fn directive(node: &Node) -> Option<&str> {
    node.get("$patch").and_then(Node::text)
}

/// Removes `$…` directive keys, recursively.
pub fn strip_directives(node: &mut Node) {
    match &mut node.value {
        Value::Map(entries) => {
            entries.retain(|e| !e.key.text().is_some_and(|k| k.starts_with('$')));
            for e in entries.iter_mut() {
                strip_directives(&mut e.value);
            }
        }
        Value::Seq(items) => {
            items.retain(|i| directive(i) != Some("replace") || i.entries().len() != 1);
            for i in items.iter_mut() {
                strip_directives(i);
            }
        }
        Value::Scalar(..) => {}
    }
}

impl Patcher<'_> {
    /// Merges `patch` into the object root `dst`.
    pub fn apply(&self, dst: &mut Node, patch: &Node) -> Result<Merged, String> {
        let mut path = Vec::new();
        self.merge_map(dst, patch, &mut path)
    }

    fn merge_map<'p>(
        &self,
        dst: &mut Node,
        patch: &'p Node,
        path: &mut Vec<&'p str>,
    ) -> Result<Merged, String> {
        match directive(patch) {
            Some("delete") => return Ok(Merged::Delete),
            Some("replace") => {
                let mut p = patch.clone();
                strip_directives(&mut p);
                *dst = p;
                return Ok(Merged::Keep);
            }
            Some("merge") | None => {}
            Some(other) => return Err(format!("unknown $patch directive `{other}`")),
        }
        if !dst.is_map() {
            if dst.is_null() || dst.is_scalar() && dst.text() == Some("") {
                let mut p = patch.clone();
                strip_directives(&mut p);
                *dst = p;
                return Ok(Merged::Keep);
            }
            return Err(format!(
                "cannot merge a mapping into the {} at `{}`",
                if dst.is_seq() { "list" } else { "value" },
                path.join(".")
            ));
        }
        if let Some(retain) = patch.get("$retainKeys") {
            let keep: Vec<&str> = retain.items().iter().filter_map(Node::text).collect();
            if let Some(entries) = dst.entries_mut() {
                entries.retain(|e| e.key.text().is_some_and(|k| keep.contains(&k)));
            }
        }
        for e in patch.entries() {
            let Some(key) = e.key.text() else { continue };
            if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
                let remove: Vec<&str> = e.value.items().iter().filter_map(Node::text).collect();
                if let Some(items) = dst.get_mut(field).and_then(Node::items_mut) {
                    items.retain(|i| !i.text().is_some_and(|t| remove.contains(&t)));
                }
                continue;
            }
            if key.starts_with('$') {
                continue;
            }
            path.push(key);
            let result = self.merge_field(dst, key, &e.key, &e.value, path);
            path.pop();
            result?;
        }
        Ok(Merged::Keep)
    }

    fn merge_field<'p>(
        &self,
        dst: &mut Node,
        key: &str,
        key_node: &Node,
        value: &'p Node,
        path: &mut Vec<&'p str>,
    ) -> Result<(), String> {
        if value.is_null() {
            dst.remove(key);
            return Ok(());
        }
        let Some(existing) = dst.get_mut(key) else {
            if value.is_map() && directive(value) == Some("delete") {
                return Ok(());
            }
            let mut v = value.clone();
            strip_directives(&mut v);
            if let Some(entries) = dst.entries_mut() {
                entries.push(crate::manifest::Entry {
                    key: key_node.clone(),
                    value: v,
                });
            }
            return Ok(());
        };
        match &value.value {
            Value::Map(_) => {
                if self.merge_map(existing, value, path)? == Merged::Delete {
                    dst.remove(key);
                }
            }
            Value::Seq(_) => {
                if existing.is_null() || !existing.is_seq() {
                    if existing.is_map() {
                        return Err(format!(
                            "cannot merge a list into the mapping at `{}`",
                            path.join(".")
                        ));
                    }
                    let mut v = value.clone();
                    strip_directives(&mut v);
                    *existing = v;
                } else {
                    let strategy = list_merge(self.group, self.kind, path);
                    self.merge_list(existing, value, strategy, path)?;
                }
            }
            Value::Scalar(..) => {
                if existing.is_map() || existing.is_seq() {
                    return Err(format!(
                        "cannot replace the {} at `{}` with a scalar",
                        if existing.is_map() { "mapping" } else { "list" },
                        path.join(".")
                    ));
                }
                *existing = value.clone();
            }
        }
        Ok(())
    }

    fn merge_list<'p>(
        &self,
        dst: &mut Node,
        patch: &'p Node,
        strategy: ListMerge,
        path: &mut Vec<&'p str>,
    ) -> Result<(), String> {
        let replace = patch
            .items()
            .iter()
            .any(|i| directive(i) == Some("replace") && i.entries().len() == 1);
        if replace || strategy == ListMerge::Replace {
            let mut v = patch.clone();
            strip_directives(&mut v);
            *dst = v;
            return Ok(());
        }
        let old = std::mem::take(dst.items_mut().ok_or("expected a list")?);
        let mut out: Vec<Node> = Vec::with_capacity(old.len() + patch.items().len());
        match strategy {
            ListMerge::Primitive => {
                for n in patch.items().iter().chain(old.iter()) {
                    if !out.iter().any(|o| o.same_as(n)) {
                        out.push(n.clone());
                    }
                }
            }
            ListMerge::Keyed(keys) => {
                // kyaml puts the patch's elements first, then the rest of the original list.
                // With several merge keys (ports: number and protocol) it re-appends every
                // original element, so originals keep their order after new elements.
                // Only keys that some element sets count (kyaml's validateKeys).
                let multi_key = keys
                    .iter()
                    .filter(|k| {
                        old.iter()
                            .chain(patch.items())
                            .any(|e| e.get(k).and_then(Node::text).is_some_and(|t| !t.is_empty()))
                    })
                    .count()
                    > 1;
                let mut slots: Vec<Option<Node>> = old.into_iter().map(Some).collect();
                let mut patched: Vec<Node> = Vec::new();
                for p in patch.items() {
                    let found = slots
                        .iter()
                        .position(|o| o.as_ref().is_some_and(|o| keys_match(o, p, keys)));
                    let delete = directive(p) == Some("delete");
                    match found {
                        Some(i) => {
                            let Some(mut elem) = slots[i].take() else {
                                continue;
                            };
                            if delete {
                                continue;
                            }
                            if p.is_map() && elem.is_map() {
                                if self.merge_map(&mut elem, p, path)? == Merged::Delete {
                                    continue;
                                }
                            } else {
                                elem = p.clone();
                            }
                            if multi_key {
                                slots[i] = Some(elem);
                            } else {
                                patched.push(elem);
                            }
                        }
                        None if delete => {}
                        None => {
                            let mut v = p.clone();
                            strip_directives(&mut v);
                            patched.push(v);
                        }
                    }
                }
                out.extend(patched);
                out.extend(slots.into_iter().flatten());
            }
            ListMerge::Replace => unreachable!("handled above"),
        }
        *dst = Node::seq(out).at(dst.pos);
        Ok(())
    }
}

/// Elements match when the first key is equal and every other key is equal or absent on one
/// side (kyaml treats a missing protocol as matching any).
fn keys_match(a: &Node, b: &Node, keys: &[&str]) -> bool {
    let Some((first, rest)) = keys.split_first() else {
        return false;
    };
    let (Some(x), Some(y)) = (a.get(first), b.get(first)) else {
        return false;
    };
    if x.text() != y.text() {
        return false;
    }
    rest.iter().all(
        |k| match (a.get(k).and_then(Node::text), b.get(k).and_then(Node::text)) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{FileId, yaml::parse_stream};

    fn doc(text: &str) -> Node {
        parse_stream(text, FileId(1))
            .unwrap()
            .remove(0)
            .root
            .unwrap()
    }

    fn patch(kind: &str, dst: &str, p: &str) -> serde_json::Value {
        let mut d = doc(dst);
        let group = if kind == "Deployment" { "apps" } else { "" };
        Patcher { group, kind }.apply(&mut d, &doc(p)).unwrap();
        d.to_json()
    }

    #[test]
    fn maps_merge_and_null_deletes() {
        assert_eq!(
            patch(
                "ConfigMap",
                "data: {a: '1', b: '2'}\n",
                "data: {b: null, c: '3'}\n"
            ),
            serde_json::json!({"data": {"a": "1", "c": "3"}})
        );
    }

    #[test]
    fn containers_merge_by_name_patch_first() {
        let dst = "spec:\n  template:\n    spec:\n      containers:\n      - {name: a, image: x}\n      - {name: b, image: y}\n";
        let p = "spec:\n  template:\n    spec:\n      containers:\n      - {name: b, image: z}\n      - {name: c, image: w}\n";
        let out = patch("Deployment", dst, p);
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            serde_json::json!([{"name":"b","image":"z"},{"name":"c","image":"w"},{"name":"a","image":"x"}])
        );
    }

    #[test]
    fn delete_directive_on_element_and_replace_list() {
        let dst = "spec:\n  template:\n    spec:\n      containers:\n      - {name: a}\n      - {name: b}\n";
        let out = patch(
            "Deployment",
            dst,
            "spec:\n  template:\n    spec:\n      containers:\n      - {name: a, $patch: delete}\n",
        );
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            serde_json::json!([{"name":"b"}])
        );
        let out = patch(
            "Deployment",
            dst,
            "spec:\n  template:\n    spec:\n      containers:\n      - $patch: replace\n      - {name: z}\n",
        );
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            serde_json::json!([{"name":"z"}])
        );
    }

    #[test]
    fn unknown_lists_are_replaced() {
        let out = patch(
            "Widget",
            "spec:\n  items: [1, 2]\n",
            "spec:\n  items: [3]\n",
        );
        assert_eq!(out, serde_json::json!({"spec": {"items": [3]}}));
    }
}
