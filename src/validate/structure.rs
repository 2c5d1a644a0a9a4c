//! Structure checks every object gets, schema or not: `metadata.name` present and valid for
//! its kind, `metadata.namespace` a DNS label, label keys and values, annotation keys and size.
//! Must not: check schemas or relations between objects.

use crate::manifest::{Node, Object, Value};

use super::RawFinding;
use super::finding::Rule;
use super::names;

/// Total size limit of all annotations of an object (keys and values), as the API server has.
const ANNOTATIONS_MAX: usize = 256 * 1024;

pub(crate) fn check(obj: &Object, builtin: bool, out: &mut Vec<RawFinding>) {
    let root = &obj.node;
    let kind = obj.kind();
    let group = obj.group();
    let meta_entry = root.get_entry("metadata");
    let meta = meta_entry.map(|e| &e.value).filter(|m| m.is_map());
    let name_node = meta.and_then(|m| m.get("name")).filter(|n| !n.is_null());
    match name_node {
        None => {
            let pos = meta_entry.map_or(root.pos, |e| e.key.pos);
            let hint = if meta.and_then(|m| m.get("generateName")).is_some() {
                "; generateName is not supported by apply, set metadata.name"
            } else {
                ""
            };
            out.push(RawFinding::new(
                Rule::InvalidName,
                pos,
                format!("metadata.name is missing: every {kind} needs a name{hint}"),
            ));
        }
        Some(n) => {
            if let Some(name) = n.as_str()
                && let Some(why) = name_problem(group, kind, name, root)
            {
                out.push(RawFinding::new(
                    Rule::InvalidName,
                    n.pos,
                    format!("metadata.name `{name}` is not a valid {kind} name: {why}"),
                ));
            }
        }
    }
    if let Some(ns) = meta.and_then(|m| m.get("namespace"))
        && let Some(text) = ns.as_str()
        && let Some(why) = names::dns1123_label(text)
    {
        out.push(RawFinding::new(
            Rule::InvalidName,
            ns.pos,
            format!("metadata.namespace `{text}` {why}"),
        ));
    }
    if let Some(m) = meta {
        check_metadata(m, "metadata", out);
    }
    if builtin {
        nested_label_maps(root, &mut Vec::new(), out);
    }
}

/// Why `name` is not valid for `kind`, following the API server's per-kind name rules.
pub(crate) fn name_problem(group: &str, kind: &str, name: &str, root: &Node) -> Option<String> {
    match (group, kind) {
        ("", "Namespace") => names::dns1123_label(name),
        ("", "Service") => names::dns1035_label(name),
        (
            "rbac.authorization.k8s.io",
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding",
        ) => names::path_segment(name),
        ("batch", "CronJob") => names::dns1123_subdomain(name).or_else(|| {
            (name.len() > 52).then(|| {
                format!(
                    "must be no more than 52 characters (it has {}), as Jobs get a suffix",
                    name.len()
                )
            })
        }),
        ("batch", "Job") => names::dns1123_subdomain(name).or_else(|| {
            (name.len() > 63).then(|| {
                format!(
                    "must be no more than 63 characters (it has {}), as it becomes a label value",
                    name.len()
                )
            })
        }),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => names::dns1123_subdomain(name)
            .or_else(|| {
                let plural = root.path_name(&["spec", "names", "plural"])?;
                let g = root.path_name(&["spec", "group"])?;
                let want = format!("{plural}.{g}");
                (name != want).then(|| format!("must be `{want}` (spec.names.plural.spec.group)"))
            }),
        _ => names::dns1123_subdomain(name),
    }
}

/// Labels and annotations of one `metadata` mapping.
fn check_metadata(meta: &Node, at: &str, out: &mut Vec<RawFinding>) {
    if let Some(labels) = meta.get("labels") {
        label_map(labels, &format!("{at}.labels"), out);
    }
    if let Some(ann) = meta.get("annotations") {
        let mut size = 0;
        for e in ann.entries() {
            let Some(k) = e.key.text() else { continue };
            size += k.len() + e.value.text().map_or(0, str::len);
            if let Some(why) = names::qualified_name(k) {
                out.push(RawFinding::new(
                    Rule::InvalidAnnotation,
                    e.key.pos,
                    format!("annotation key `{k}` in {at}.annotations is invalid: {why}"),
                ));
            }
        }
        if size > ANNOTATIONS_MAX {
            out.push(RawFinding::new(
                Rule::InvalidAnnotation,
                ann.pos,
                format!(
                    "{at}.annotations total {size} bytes; the API server allows at most {ANNOTATIONS_MAX}"
                ),
            ));
        }
    }
}

/// A map of label keys to label values (labels, selectors, node selectors).
fn label_map(map: &Node, at: &str, out: &mut Vec<RawFinding>) {
    for e in map.entries() {
        let Some(k) = e.key.text() else { continue };
        if let Some(why) = names::qualified_name(k) {
            out.push(RawFinding::new(
                Rule::InvalidLabel,
                e.key.pos,
                format!("label key `{k}` in {at} is invalid: {why}"),
            ));
        }
        if let Some(v) = e.value.as_str()
            && let Some(why) = names::label_value(v)
        {
            out.push(RawFinding::new(
                Rule::InvalidLabel,
                e.value.pos,
                format!("label value `{v}` of `{k}` in {at} is invalid: {why}"),
            ));
        }
    }
}

/// Label maps below the root of a built-in object: pod template and claim template metadata,
/// `matchLabels`, `nodeSelector`, and a Service's `spec.selector`.
fn nested_label_maps<'a>(node: &'a Node, path: &mut Vec<Step<'a>>, out: &mut Vec<RawFinding>) {
    match &node.value {
        Value::Map(entries) => {
            for e in entries {
                let Some(k) = e.key.text() else { continue };
                path.push(Step::Key(k));
                match k {
                    "metadata" if path.len() > 1 && e.value.is_map() => {
                        check_metadata(&e.value, &show(path), out);
                    }
                    "matchLabels" | "nodeSelector" if e.value.is_map() => {
                        label_map(&e.value, &show(path), out);
                    }
                    "selector"
                        if matches!(
                            path.as_slice(),
                            [Step::Key("spec"), Step::Key("selector")]
                        ) && e.value.entries().iter().all(|s| s.value.is_scalar()) =>
                    {
                        label_map(&e.value, &show(path), out);
                    }
                    "metadata" => {}
                    _ => nested_label_maps(&e.value, path, out),
                }
                path.pop();
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                nested_label_maps(item, path, out);
                path.pop();
            }
        }
        Value::Scalar(..) => {}
    }
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn show(path: &[Step<'_>]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Names inside a pod template the API server validates: container names (DNS labels),
/// container port names (IANA service names) and resource names in requests and limits.
pub(crate) fn pod_template(template: &Node, out: &mut Vec<RawFinding>) {
    let Some(spec) = template.get("spec") else {
        return;
    };
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec.get(list).map(Node::items).unwrap_or(&[]) {
            if let Some(n) = c.get("name")
                && let Some(name) = n.as_str()
                && let Some(why) = names::dns1123_label(name)
            {
                out.push(RawFinding::new(
                    Rule::InvalidName,
                    n.pos,
                    format!("container name `{name}` {why}"),
                ));
            }
            for p in c.get("ports").map(Node::items).unwrap_or(&[]) {
                if let Some(n) = p.get("name")
                    && let Some(name) = n.as_str()
                    && let Some(why) = names::port_name(name)
                {
                    out.push(RawFinding::new(
                        Rule::InvalidName,
                        n.pos,
                        format!("port name `{name}` {why}"),
                    ));
                }
            }
            for kind in ["requests", "limits"] {
                let Some(map) = c.path(&["resources", kind]) else {
                    continue;
                };
                for e in map.entries() {
                    let Some(k) = e.key.text() else { continue };
                    if let Some(why) = resource_name_problem(k) {
                        out.push(RawFinding::new(
                            Rule::Schema,
                            e.key.pos,
                            format!("resources.{kind}: `{k}` {why}"),
                        ));
                    }
                }
            }
        }
    }
}

const STANDARD_RESOURCES: [&str; 3] = ["cpu", "memory", "ephemeral-storage"];

/// Container resource names: the standard ones, `hugepages-<size>`, or extended resources
/// with a domain prefix (`nvidia.com/gpu`).
fn resource_name_problem(name: &str) -> Option<String> {
    if STANDARD_RESOURCES.contains(&name) || name.starts_with("hugepages-") {
        return None;
    }
    if name.contains('/') {
        return names::qualified_name(name)
            .map(|why| format!("is not a valid resource name: {why}"));
    }
    let hint = names::closest(name, STANDARD_RESOURCES)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    Some(format!(
        "is not a container resource: use cpu, memory, ephemeral-storage, hugepages-<size>, or an extended resource with a domain prefix like example.com/gpu{hint}"
    ))
}
