//! Policy rules: image tags, workload selectors against their pod template labels, Service
//! selectors against the pod templates of the environment, resource requests.
//! Must not: check schemas or names; severities are decided by the caller.

use crate::manifest::{Node, Object};

use super::RawFinding;
use super::finding::Rule;

/// The pod template of a built-in workload (`metadata` + `spec`), or the Pod itself.
pub(crate) fn pod_template(obj: &Object) -> Option<&Node> {
    let root = &obj.node;
    match (obj.group(), obj.kind()) {
        ("", "Pod") => Some(root),
        ("apps" | "extensions", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet")
        | ("batch", "Job")
        | ("", "ReplicationController") => root.path(&["spec", "template"]),
        ("batch", "CronJob") => root.path(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

fn containers(template: &Node) -> impl Iterator<Item = &Node> {
    let spec = template.get("spec");
    ["initContainers", "containers"]
        .into_iter()
        .flat_map(move |k| {
            spec.and_then(|s| s.get(k))
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
        })
}

/// `image-tag-latest`: a container image with `:latest` or no tag (and no digest).
pub(crate) fn image_tags(template: &Node, out: &mut Vec<RawFinding>) {
    for c in containers(template) {
        let Some(img) = c.get("image") else { continue };
        let Some(image) = img.as_str() else { continue };
        if image.contains('@') {
            continue;
        }
        let last = image.rsplit('/').next().unwrap_or(image);
        let msg = match last.split_once(':') {
            None => format!(
                "image `{image}` has no tag, so it means `{image}:latest`; pin a version or a digest"
            ),
            Some((_, "latest")) => {
                format!("image `{image}` uses the mutable `latest` tag; pin a version or a digest")
            }
            Some(_) => continue,
        };
        out.push(RawFinding::new(Rule::ImageTagLatest, img.pos, msg));
    }
}

/// `resource-requests`: a container without `resources.requests`.
pub(crate) fn resource_requests(template: &Node, out: &mut Vec<RawFinding>) {
    for c in containers(template) {
        let requests = c.path(&["resources", "requests"]);
        if requests.is_none_or(|r| r.entries().is_empty()) {
            let name = c.path_name(&["name"]).unwrap_or("?");
            out.push(RawFinding::new(
                Rule::ResourceRequests,
                c.pos,
                format!("container `{name}` sets no resources.requests (cpu, memory); the scheduler cannot place it reliably"),
            ));
        }
    }
}

/// Labels of a pod template as (key, value) text pairs.
pub(crate) fn template_labels(template: &Node) -> Vec<(&str, &str)> {
    template
        .path(&["metadata", "labels"])
        .map(Node::entries)
        .unwrap_or(&[])
        .iter()
        .filter_map(|e| Some((e.key.text()?, e.value.as_name().unwrap_or(""))))
        .collect()
}

/// Why a label selector (`matchLabels`/`matchExpressions`) does not select `labels`.
fn selector_miss(selector: &Node, labels: &[(&str, &str)]) -> Option<String> {
    let get = |k: &str| labels.iter().find(|(lk, _)| *lk == k).map(|(_, v)| *v);
    for e in selector
        .get("matchLabels")
        .map(Node::entries)
        .unwrap_or(&[])
    {
        let (Some(k), v) = (e.key.text(), e.value.as_name().unwrap_or("")) else {
            continue;
        };
        match get(k) {
            Some(have) if have == v => {}
            Some(have) => return Some(format!("{k}={v} is wanted, the template has {k}={have}")),
            None => {
                return Some(format!(
                    "{k}={v} is wanted, the template has no `{k}` label"
                ));
            }
        }
    }
    for expr in selector
        .get("matchExpressions")
        .map(Node::items)
        .unwrap_or(&[])
    {
        let key = expr.path_name(&["key"]).unwrap_or("");
        let op = expr.path_name(&["operator"]).unwrap_or("");
        let values: Vec<&str> = expr
            .get("values")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter_map(Node::as_name)
            .collect();
        let have = get(key);
        let ok = match op {
            "In" => have.is_some_and(|h| values.contains(&h)),
            "NotIn" => have.is_none_or(|h| !values.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => true,
        };
        if !ok {
            return Some(format!(
                "the expression `{key} {op} [{}]` does not hold",
                values.join(", ")
            ));
        }
    }
    None
}

/// `selector-mismatch`: a Deployment, StatefulSet, DaemonSet or ReplicaSet whose
/// `spec.selector` does not select its own pod template (the API server rejects it).
pub(crate) fn workload_selector(obj: &Object, out: &mut Vec<RawFinding>) {
    let selects_template = matches!(
        (obj.group(), obj.kind()),
        (
            "apps",
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
        )
    ) || obj.group() == "batch"
        && obj.kind() == "Job"
        && obj
            .node
            .path(&["spec", "manualSelector"])
            .and_then(Node::as_bool)
            == Some(true);
    if !selects_template {
        return;
    }
    let Some(spec) = obj.node.get_entry("spec") else {
        return;
    };
    let Some(sel_entry) = spec.value.get_entry("selector") else {
        return;
    };
    let selector = &sel_entry.value;
    let Some(template) = spec.value.get("template") else {
        return;
    };
    let labels = template_labels(template);
    let empty = selector
        .get("matchLabels")
        .is_none_or(|m| m.entries().is_empty())
        && selector
            .get("matchExpressions")
            .is_none_or(|m| m.items().is_empty());
    let why = if empty {
        Some("it is empty, which the API server rejects; select the template's labels".to_string())
    } else {
        selector_miss(selector, &labels)
    };
    if let Some(why) = why {
        out.push(RawFinding::new(
            Rule::SelectorMismatch,
            sel_entry.key.pos,
            format!("spec.selector does not match spec.template.metadata.labels: {why}"),
        ));
    }
}

/// A pod template of the environment, for Service selectors.
pub(crate) struct Template<'a> {
    pub namespace: Option<&'a str>,
    pub labels: Vec<(&'a str, &'a str)>,
}

/// `service-selector`: a Service whose selector matches no pod template in its namespace.
pub(crate) fn service_selector(
    obj: &Object,
    templates: &[Template<'_>],
    out: &mut Vec<RawFinding>,
) {
    if obj.group() != "" || obj.kind() != "Service" {
        return;
    }
    if obj.node.path_name(&["spec", "type"]) == Some("ExternalName") {
        return;
    }
    let Some(sel_entry) = obj.node.get("spec").and_then(|s| s.get_entry("selector")) else {
        return;
    };
    let wanted: Vec<(&str, &str)> = sel_entry
        .value
        .entries()
        .iter()
        .filter_map(|e| Some((e.key.text()?, e.value.as_name().unwrap_or(""))))
        .collect();
    if wanted.is_empty() {
        return;
    }
    let ns = obj.namespace();
    let matched = templates.iter().any(|t| {
        (ns.is_none() || t.namespace.is_none() || t.namespace == ns)
            && wanted
                .iter()
                .all(|(k, v)| t.labels.iter().any(|(tk, tv)| tk == k && tv == v))
    });
    if !matched {
        let sel: Vec<String> = wanted.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push(RawFinding::new(
            Rule::ServiceSelector,
            sel_entry.key.pos,
            format!(
                "spec.selector ({}) matches no pod template in this environment{}; the Service will have no endpoints",
                sel.join(", "),
                ns.map(|n| format!(" (namespace {n})")).unwrap_or_default()
            ),
        ));
    }
}
