//! Field specs: where in which kinds kustomize's built-in transformers write.
//!
//! Owns: the [`FieldSpec`] type, kustomize's default field-spec tables (labels, selectors,
//! templates, annotations, namespace references, name references, replicas, images), and
//! [`visit`], which walks a path such as `spec/template/metadata/labels` through mappings and
//! every element of sequences, creating missing mappings when the spec says so.
//! Must not: know what a transformer writes; it only finds the places.

use std::borrow::Cow;

use crate::manifest::Node;

#[derive(Clone, Debug, PartialEq)]
pub struct FieldSpec {
    pub group: Cow<'static, str>,
    pub version: Cow<'static, str>,
    pub kind: Cow<'static, str>,
    pub path: Cow<'static, str>,
    pub create: bool,
}

impl FieldSpec {
    pub const fn new(
        group: &'static str,
        version: &'static str,
        kind: &'static str,
        path: &'static str,
        create: bool,
    ) -> FieldSpec {
        FieldSpec {
            group: Cow::Borrowed(group),
            version: Cow::Borrowed(version),
            kind: Cow::Borrowed(kind),
            path: Cow::Borrowed(path),
            create,
        }
    }

    pub fn owned(
        group: String,
        version: String,
        kind: String,
        path: String,
        create: bool,
    ) -> FieldSpec {
        FieldSpec {
            group: Cow::Owned(group),
            version: Cow::Owned(version),
            kind: Cow::Owned(kind),
            path: Cow::Owned(path),
            create,
        }
    }

    /// Empty group, version or kind in the spec match anything.
    pub fn matches(&self, group: &str, version: &str, kind: &str) -> bool {
        (self.kind.is_empty() || self.kind == kind)
            && (self.group.is_empty() || self.group == group)
            && (self.version.is_empty() || self.version == version)
    }

    pub fn segments(&self) -> Vec<String> {
        split_path(&self.path)
    }
}

/// Splits a kustomize field path on `/`, honoring `\/` escapes (annotation keys).
pub fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                cur.push('/');
                chars.next();
            }
            '/' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// What to create at the end of a missing path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Leaf {
    Map,
    Scalar,
}

/// Calls `set` on every node found at `segments` below `node`. Sequences on the way are
/// entered element by element. With `create`, missing mappings along the path are created and
/// a missing leaf is created as `leaf`. A scalar met before the end is an error, as in kustomize.
pub fn visit(
    node: &mut Node,
    segments: &[String],
    create: bool,
    leaf: Leaf,
    set: &mut dyn FnMut(&mut Node) -> Result<(), String>,
) -> Result<(), String> {
    let Some((first, rest)) = segments.split_first() else {
        return set(node);
    };
    if node.is_null() {
        return Ok(());
    }
    if let Some(items) = node.items_mut() {
        for item in items {
            visit(item, segments, create, leaf, set)?;
        }
        return Ok(());
    }
    if !node.is_map() {
        return Err(format!("expected sequence or mapping node at `{first}`"));
    }
    let (name, is_seq) = match first.strip_suffix("[]") {
        Some(n) => (n, true),
        None => (first.as_str(), false),
    };
    let may_create = create && !is_seq;
    let exists = node.get(name).is_some();
    if !exists {
        if !may_create {
            return Ok(());
        }
        let new = if rest.is_empty() && leaf == Leaf::Scalar {
            Node::null()
        } else {
            Node::map()
        };
        node.set(name, new);
    }
    let Some(child) = node.get_mut(name) else {
        return Ok(());
    };
    if child.is_null() && may_create && !(rest.is_empty() && leaf == Leaf::Scalar) {
        *child = Node::map().at(child.pos);
    }
    visit(child, rest, create, leaf, set)
}

type Row = (&'static str, &'static str, &'static str, &'static str, bool);

fn table(rows: &[Row]) -> Vec<FieldSpec> {
    rows.iter()
        .map(|&(g, v, k, p, c)| FieldSpec::new(g, v, k, p, c))
        .collect()
}

/// `metadata/labels` and pod-template labels (kustomize's metadataLabels / templateLabels).
const TEMPLATE_LABELS: &[Row] = &[
    ("", "", "", "metadata/labels", true),
    (
        "",
        "v1",
        "ReplicationController",
        "spec/template/metadata/labels",
        true,
    ),
    ("", "", "Deployment", "spec/template/metadata/labels", true),
    ("", "", "ReplicaSet", "spec/template/metadata/labels", true),
    ("", "", "DaemonSet", "spec/template/metadata/labels", true),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/template/metadata/labels",
        true,
    ),
    ("batch", "", "Job", "spec/template/metadata/labels", true),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/metadata/labels",
        true,
    ),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ),
];

const VOLUME_CLAIM_TEMPLATE_LABELS: &[Row] = &[(
    "apps",
    "",
    "StatefulSet",
    "spec/volumeClaimTemplates[]/metadata/labels",
    true,
)];

/// Selectors that `commonLabels` and `labels[].includeSelectors` also write.
const SELECTORS: &[Row] = &[
    ("", "v1", "Service", "spec/selector", true),
    ("", "v1", "ReplicationController", "spec/selector", true),
    ("", "", "Deployment", "spec/selector/matchLabels", true),
    (
        "apps",
        "",
        "Deployment",
        "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    (
        "apps",
        "",
        "Deployment",
        "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    (
        "apps",
        "",
        "Deployment",
        "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    (
        "apps",
        "",
        "Deployment",
        "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    (
        "apps",
        "",
        "Deployment",
        "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
        false,
    ),
    ("", "", "ReplicaSet", "spec/selector/matchLabels", true),
    ("", "", "DaemonSet", "spec/selector/matchLabels", true),
    ("apps", "", "StatefulSet", "spec/selector/matchLabels", true),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
        false,
    ),
    ("batch", "", "Job", "spec/selector/matchLabels", false),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/selector/matchLabels",
        false,
    ),
    (
        "policy",
        "",
        "PodDisruptionBudget",
        "spec/selector/matchLabels",
        false,
    ),
    (
        "networking.k8s.io",
        "",
        "NetworkPolicy",
        "spec/podSelector/matchLabels",
        false,
    ),
    (
        "networking.k8s.io",
        "",
        "NetworkPolicy",
        "spec/ingress/from/podSelector/matchLabels",
        false,
    ),
    (
        "networking.k8s.io",
        "",
        "NetworkPolicy",
        "spec/egress/to/podSelector/matchLabels",
        false,
    ),
];

const COMMON_ANNOTATIONS: &[Row] = &[
    ("", "", "", "metadata/annotations", true),
    (
        "",
        "v1",
        "ReplicationController",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "",
        "",
        "Deployment",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "",
        "",
        "ReplicaSet",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "",
        "",
        "DaemonSet",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "",
        "",
        "StatefulSet",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "batch",
        "",
        "Job",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/metadata/annotations",
        true,
    ),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/annotations",
        true,
    ),
];

/// Namespace fields besides `metadata/namespace` (which the namespace transformer handles);
/// a Namespace object itself is renamed to the kustomization's namespace.
const NAMESPACE: &[Row] = &[
    ("", "", "Namespace", "metadata/name", true),
    (
        "apiregistration.k8s.io",
        "",
        "APIService",
        "spec/service/namespace",
        true,
    ),
    (
        "apiextensions.k8s.io",
        "",
        "CustomResourceDefinition",
        "spec/conversion/webhook/clientConfig/service/namespace",
        false,
    ),
];

const REPLICAS: &[Row] = &[
    ("", "", "Deployment", "spec/replicas", true),
    ("", "", "ReplicationController", "spec/replicas", true),
    ("", "", "ReplicaSet", "spec/replicas", true),
    ("", "", "StatefulSet", "spec/replicas", true),
];

/// `commonLabels`: metadata, templates (with volume claim templates) and selectors.
pub fn common_labels() -> Vec<FieldSpec> {
    let mut v = table(SELECTORS);
    v.extend(template_labels());
    v
}

/// Pod-template labels; kustomize 5.5 counts volume claim templates as templates too.
pub fn template_labels() -> Vec<FieldSpec> {
    let mut v = table(TEMPLATE_LABELS);
    v.extend(table(VOLUME_CLAIM_TEMPLATE_LABELS));
    v
}

pub fn common_annotations() -> Vec<FieldSpec> {
    table(COMMON_ANNOTATIONS)
}

pub fn namespace_fields() -> Vec<FieldSpec> {
    table(NAMESPACE)
}

pub fn replicas() -> Vec<FieldSpec> {
    table(REPLICAS)
}

/// Appends `extra` to `base`, skipping exact duplicates (kustomize's FsSlice.MergeAll).
pub fn merge(mut base: Vec<FieldSpec>, extra: Vec<FieldSpec>) -> Vec<FieldSpec> {
    for fs in extra {
        if !base.iter().any(|b| {
            b.path == fs.path && b.kind == fs.kind && b.group == fs.group && b.version == fs.version
        }) {
            base.push(fs);
        }
    }
    base
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

    #[test]
    fn paths_split_on_unescaped_slashes() {
        assert_eq!(
            split_path("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret"),
            vec![
                "metadata",
                "annotations",
                "nginx.ingress.kubernetes.io/auth-secret"
            ]
        );
    }

    #[test]
    fn visit_enters_sequences_and_creates_maps() {
        let mut n = doc("spec:\n  containers:\n  - name: a\n  - name: b\n");
        let mut seen = Vec::new();
        visit(
            &mut n,
            &split_path("spec/containers/name"),
            false,
            Leaf::Scalar,
            &mut |x| {
                seen.push(x.text().unwrap().to_string());
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, ["a", "b"]);
        visit(
            &mut n,
            &split_path("spec/template/metadata/labels"),
            true,
            Leaf::Map,
            &mut |x| {
                x.set("app", Node::string("web"));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(
            n.path_name(&["spec", "template", "metadata", "labels", "app"]),
            Some("web")
        );
        // Not created without `create`.
        visit(
            &mut n,
            &split_path("spec/x/y"),
            false,
            Leaf::Map,
            &mut |_| Ok(()),
        )
        .unwrap();
        assert!(n.path(&["spec", "x"]).is_none());
    }
}
