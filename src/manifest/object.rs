//! Kubernetes objects as the pipeline carries them.
//!
//! Owns: [`Object`] (a node tree plus where it came from), [`ObjectRef`]
//! (group/version/kind/namespace/name and its `Kind/ns/name` display), the
//! built-in cluster-scoped kinds, and the kind order used to stage applies.
//! Must not: render, validate or talk to a cluster.

use std::fmt;

use super::node::{FileId, Node, Text};

/// Where an object came from: the document that declared it (or the kustomization entry that
/// generated it), and every kustomization that produced or patched it, innermost first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Origin {
    pub file: FileId,
    pub line: u32,
    pub via: Vec<FileId>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    pub node: Node,
    pub origin: Origin,
}

/// Identity of an object: what `kubectl get` needs to find it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub group: Text,
    pub version: Text,
    pub kind: Text,
    pub namespace: Option<Text>,
    pub name: Text,
}

impl ObjectRef {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// `Kind/namespace/name`, or `Kind/name` when cluster-scoped (DESIGN.md's `object`).
impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// Splits `apps/v1` into (`apps`, `v1`) and `v1` into (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

impl Object {
    pub fn new(node: Node, origin: Origin) -> Object {
        Object { node, origin }
    }

    pub fn api_version(&self) -> &str {
        self.node.path_name(&["apiVersion"]).unwrap_or("")
    }

    pub fn kind(&self) -> &str {
        self.node.path_name(&["kind"]).unwrap_or("")
    }

    pub fn name(&self) -> &str {
        self.node.path_name(&["metadata", "name"]).unwrap_or("")
    }

    pub fn namespace(&self) -> Option<&str> {
        self.node
            .path_name(&["metadata", "namespace"])
            .filter(|ns| !ns.is_empty())
    }

    pub fn group(&self) -> &str {
        split_api_version(self.api_version()).0
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.node
            .path(&["metadata", "annotations", key])
            .and_then(Node::as_name)
    }

    /// The identity as written (namespace only when set in the object).
    pub fn id(&self) -> ObjectRef {
        let (group, version) = split_api_version(self.api_version());
        ObjectRef {
            group: group.into(),
            version: version.into(),
            kind: self.kind().into(),
            namespace: self.namespace().map(Into::into),
            name: self.name().into(),
        }
    }

    pub fn is_kubernetes_object(node: &Node) -> bool {
        node.is_map()
            && node.path_name(&["apiVersion"]).is_some()
            && node.path_name(&["kind"]).is_some()
    }
}

/// Built-in kinds that are not namespaced (Kubernetes 1.25 to 1.37), by group and kind.
pub fn is_cluster_scoped_builtin(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        (
            "",
            "Namespace" | "Node" | "PersistentVolume" | "ComponentStatus"
        ) | (
            "rbac.authorization.k8s.io",
            "ClusterRole" | "ClusterRoleBinding"
        ) | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("apiregistration.k8s.io", "APIService")
            | (
                "storage.k8s.io",
                "StorageClass"
                    | "CSIDriver"
                    | "CSINode"
                    | "VolumeAttachment"
                    | "VolumeAttributesClass"
            )
            | ("scheduling.k8s.io", "PriorityClass")
            | (
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration"
                    | "ValidatingWebhookConfiguration"
                    | "ValidatingAdmissionPolicy"
                    | "ValidatingAdmissionPolicyBinding"
                    | "MutatingAdmissionPolicy"
                    | "MutatingAdmissionPolicyBinding"
            )
            | (
                "certificates.k8s.io",
                "CertificateSigningRequest" | "ClusterTrustBundle"
            )
            | ("node.k8s.io", "RuntimeClass")
            | ("policy" | "extensions", "PodSecurityPolicy")
            | (
                "networking.k8s.io",
                "IngressClass" | "IPAddress" | "ServiceCIDR"
            )
            | (
                "flowcontrol.apiserver.k8s.io",
                "FlowSchema" | "PriorityLevelConfiguration"
            )
            | ("authentication.k8s.io", "TokenReview" | "SelfSubjectReview")
            | (
                "authorization.k8s.io",
                "SelfSubjectAccessReview" | "SelfSubjectRulesReview" | "SubjectAccessReview"
            )
            | ("internal.apiserver.k8s.io", "StorageVersion")
            | ("resource.k8s.io", "DeviceClass" | "ResourceSlice")
            | ("storagemigration.k8s.io", "StorageVersionMigration")
    )
}

/// The kind-only form kustomize uses (it ignores the group for its built-in scope table).
pub fn is_cluster_scoped_kind(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Node"
            | "PersistentVolume"
            | "ComponentStatus"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "CustomResourceDefinition"
            | "APIService"
            | "StorageClass"
            | "CSIDriver"
            | "CSINode"
            | "VolumeAttachment"
            | "VolumeAttributesClass"
            | "PriorityClass"
            | "MutatingWebhookConfiguration"
            | "ValidatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "MutatingAdmissionPolicy"
            | "MutatingAdmissionPolicyBinding"
            | "CertificateSigningRequest"
            | "ClusterTrustBundle"
            | "RuntimeClass"
            | "PodSecurityPolicy"
            | "IngressClass"
            | "IPAddress"
            | "ServiceCIDR"
            | "FlowSchema"
            | "PriorityLevelConfiguration"
            | "TokenReview"
            | "SelfSubjectReview"
            | "SelfSubjectAccessReview"
            | "SelfSubjectRulesReview"
            | "SubjectAccessReview"
            | "StorageVersion"
            | "DeviceClass"
            | "ResourceSlice"
            | "StorageVersionMigration"
    )
}

/// Apply order of kinds: dependencies first (namespaces, CRDs, RBAC, config), workloads after,
/// webhooks last so they cannot block the objects they would admit. Unknown kinds sort
/// between the known early and late kinds.
pub fn kind_rank(kind: &str) -> i32 {
    const FIRST: &[&str] = &[
        "CustomResourceDefinition",
        "Namespace",
        "ResourceQuota",
        "LimitRange",
        "StorageClass",
        "PriorityClass",
        "IngressClass",
        "RuntimeClass",
        "ServiceAccount",
        "Secret",
        "ConfigMap",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "Service",
        "NetworkPolicy",
        "DaemonSet",
        "Pod",
        "ReplicationController",
        "ReplicaSet",
        "Deployment",
        "StatefulSet",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Job",
        "CronJob",
        "Ingress",
        "APIService",
    ];
    const LAST: &[&str] = &[
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    ];
    if let Some(i) = FIRST.iter().position(|k| *k == kind) {
        return i as i32 - FIRST.len() as i32;
    }
    if let Some(i) = LAST.iter().position(|k| *k == kind) {
        return i as i32 + 1;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ref_display() {
        let r = ObjectRef {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            namespace: Some("web".into()),
            name: "api".into(),
        };
        assert_eq!(r.to_string(), "Deployment/web/api");
        assert_eq!(r.api_version(), "apps/v1");
        let ns = ObjectRef {
            namespace: None,
            kind: "Namespace".into(),
            group: "".into(),
            ..r
        };
        assert_eq!(ns.to_string(), "Namespace/api");
        assert_eq!(ns.api_version(), "v1");
    }

    #[test]
    fn kind_order_puts_dependencies_first() {
        assert!(kind_rank("CustomResourceDefinition") < kind_rank("Namespace"));
        assert!(kind_rank("Namespace") < kind_rank("Deployment"));
        assert!(kind_rank("Deployment") < kind_rank("MyCustomThing"));
        assert!(kind_rank("MyCustomThing") < kind_rank("ValidatingWebhookConfiguration"));
    }
}
