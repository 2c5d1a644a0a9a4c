//! Removed and deprecated built-in API versions (Kubernetes' deprecation guide), and the
//! built-in API groups whose kinds must all be known.
//! Must not: know about schemas or findings; callers decide what to report.

/// One API version of one kind that Kubernetes deprecated, and removed unless `removed` is 0.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ApiChange {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// Minor release (1.x) that deprecated it.
    pub deprecated: u32,
    /// Minor release (1.x) that stopped serving it; 0 when it is still served.
    pub removed: u32,
    /// The apiVersion to use instead (empty when there is none).
    pub replacement: &'static str,
    /// Extra advice, e.g. what replaces a kind that has no successor.
    pub note: &'static str,
}

const fn c(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    deprecated: u32,
    removed: u32,
    replacement: &'static str,
) -> ApiChange {
    ApiChange {
        group,
        version,
        kind,
        deprecated,
        removed,
        replacement,
        note: "",
    }
}

/// Kubernetes' deprecated API migration guide, 1.16 to 1.37.
pub(crate) const CHANGES: &[ApiChange] = &[
    // 1.16
    c("extensions", "v1beta1", "Deployment", 9, 16, "apps/v1"),
    c("extensions", "v1beta1", "DaemonSet", 9, 16, "apps/v1"),
    c("extensions", "v1beta1", "ReplicaSet", 9, 16, "apps/v1"),
    c(
        "extensions",
        "v1beta1",
        "NetworkPolicy",
        9,
        16,
        "networking.k8s.io/v1",
    ),
    c(
        "extensions",
        "v1beta1",
        "PodSecurityPolicy",
        10,
        16,
        "policy/v1beta1",
    ),
    c("apps", "v1beta1", "Deployment", 9, 16, "apps/v1"),
    c("apps", "v1beta1", "StatefulSet", 9, 16, "apps/v1"),
    c("apps", "v1beta1", "ControllerRevision", 9, 16, "apps/v1"),
    c("apps", "v1beta2", "Deployment", 9, 16, "apps/v1"),
    c("apps", "v1beta2", "StatefulSet", 9, 16, "apps/v1"),
    c("apps", "v1beta2", "DaemonSet", 9, 16, "apps/v1"),
    c("apps", "v1beta2", "ReplicaSet", 9, 16, "apps/v1"),
    c("apps", "v1beta2", "ControllerRevision", 9, 16, "apps/v1"),
    // 1.22
    c(
        "extensions",
        "v1beta1",
        "Ingress",
        14,
        22,
        "networking.k8s.io/v1",
    ),
    c(
        "networking.k8s.io",
        "v1beta1",
        "Ingress",
        19,
        22,
        "networking.k8s.io/v1",
    ),
    c(
        "networking.k8s.io",
        "v1beta1",
        "IngressClass",
        19,
        22,
        "networking.k8s.io/v1",
    ),
    c(
        "admissionregistration.k8s.io",
        "v1beta1",
        "MutatingWebhookConfiguration",
        16,
        22,
        "admissionregistration.k8s.io/v1",
    ),
    c(
        "admissionregistration.k8s.io",
        "v1beta1",
        "ValidatingWebhookConfiguration",
        16,
        22,
        "admissionregistration.k8s.io/v1",
    ),
    c(
        "apiextensions.k8s.io",
        "v1beta1",
        "CustomResourceDefinition",
        16,
        22,
        "apiextensions.k8s.io/v1",
    ),
    c(
        "apiregistration.k8s.io",
        "v1beta1",
        "APIService",
        19,
        22,
        "apiregistration.k8s.io/v1",
    ),
    c(
        "authentication.k8s.io",
        "v1beta1",
        "TokenReview",
        19,
        22,
        "authentication.k8s.io/v1",
    ),
    c(
        "authorization.k8s.io",
        "v1beta1",
        "SubjectAccessReview",
        19,
        22,
        "authorization.k8s.io/v1",
    ),
    c(
        "authorization.k8s.io",
        "v1beta1",
        "LocalSubjectAccessReview",
        19,
        22,
        "authorization.k8s.io/v1",
    ),
    c(
        "authorization.k8s.io",
        "v1beta1",
        "SelfSubjectAccessReview",
        19,
        22,
        "authorization.k8s.io/v1",
    ),
    c(
        "certificates.k8s.io",
        "v1beta1",
        "CertificateSigningRequest",
        19,
        22,
        "certificates.k8s.io/v1",
    ),
    c(
        "coordination.k8s.io",
        "v1beta1",
        "Lease",
        19,
        22,
        "coordination.k8s.io/v1",
    ),
    c(
        "rbac.authorization.k8s.io",
        "v1beta1",
        "ClusterRole",
        17,
        22,
        "rbac.authorization.k8s.io/v1",
    ),
    c(
        "rbac.authorization.k8s.io",
        "v1beta1",
        "ClusterRoleBinding",
        17,
        22,
        "rbac.authorization.k8s.io/v1",
    ),
    c(
        "rbac.authorization.k8s.io",
        "v1beta1",
        "Role",
        17,
        22,
        "rbac.authorization.k8s.io/v1",
    ),
    c(
        "rbac.authorization.k8s.io",
        "v1beta1",
        "RoleBinding",
        17,
        22,
        "rbac.authorization.k8s.io/v1",
    ),
    c(
        "scheduling.k8s.io",
        "v1beta1",
        "PriorityClass",
        14,
        22,
        "scheduling.k8s.io/v1",
    ),
    c(
        "storage.k8s.io",
        "v1beta1",
        "CSIDriver",
        19,
        22,
        "storage.k8s.io/v1",
    ),
    c(
        "storage.k8s.io",
        "v1beta1",
        "CSINode",
        19,
        22,
        "storage.k8s.io/v1",
    ),
    c(
        "storage.k8s.io",
        "v1beta1",
        "StorageClass",
        19,
        22,
        "storage.k8s.io/v1",
    ),
    c(
        "storage.k8s.io",
        "v1beta1",
        "VolumeAttachment",
        19,
        22,
        "storage.k8s.io/v1",
    ),
    // 1.25
    c("batch", "v1beta1", "CronJob", 21, 25, "batch/v1"),
    c(
        "discovery.k8s.io",
        "v1beta1",
        "EndpointSlice",
        21,
        25,
        "discovery.k8s.io/v1",
    ),
    c(
        "events.k8s.io",
        "v1beta1",
        "Event",
        22,
        25,
        "events.k8s.io/v1",
    ),
    c(
        "autoscaling",
        "v2beta1",
        "HorizontalPodAutoscaler",
        22,
        25,
        "autoscaling/v2",
    ),
    c(
        "policy",
        "v1beta1",
        "PodDisruptionBudget",
        21,
        25,
        "policy/v1",
    ),
    ApiChange {
        note: "PodSecurityPolicy has no successor: use Pod Security Admission (namespace labels pod-security.kubernetes.io/*)",
        ..c("policy", "v1beta1", "PodSecurityPolicy", 21, 25, "")
    },
    c(
        "node.k8s.io",
        "v1beta1",
        "RuntimeClass",
        22,
        25,
        "node.k8s.io/v1",
    ),
    // 1.26
    c(
        "flowcontrol.apiserver.k8s.io",
        "v1beta1",
        "FlowSchema",
        23,
        26,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    c(
        "flowcontrol.apiserver.k8s.io",
        "v1beta1",
        "PriorityLevelConfiguration",
        23,
        26,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    c(
        "autoscaling",
        "v2beta2",
        "HorizontalPodAutoscaler",
        23,
        26,
        "autoscaling/v2",
    ),
    // 1.27
    c(
        "storage.k8s.io",
        "v1beta1",
        "CSIStorageCapacity",
        24,
        27,
        "storage.k8s.io/v1",
    ),
    // 1.29
    c(
        "flowcontrol.apiserver.k8s.io",
        "v1beta2",
        "FlowSchema",
        26,
        29,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    c(
        "flowcontrol.apiserver.k8s.io",
        "v1beta2",
        "PriorityLevelConfiguration",
        26,
        29,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    // 1.32
    c(
        "flowcontrol.apiserver.k8s.io",
        "v1beta3",
        "FlowSchema",
        29,
        32,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    c(
        "flowcontrol.apiserver.k8s.io",
        "v1beta3",
        "PriorityLevelConfiguration",
        29,
        32,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    // Deprecated, still served.
    c("", "v1", "ComponentStatus", 19, 0, ""),
    c(
        "",
        "v1",
        "Endpoints",
        33,
        0,
        "discovery.k8s.io/v1 EndpointSlice",
    ),
];

/// The change for this exact apiVersion and kind, if any.
pub(crate) fn change(group: &str, version: &str, kind: &str) -> Option<&'static ApiChange> {
    CHANGES
        .iter()
        .find(|c| c.group == group && c.version == version && c.kind == kind)
}

/// Groups served by the Kubernetes API server itself: `known` is whether an embedded schema
/// set has the group. A kind in such a group that no schema knows is a typo, not a custom
/// resource. (CRD groups always contain a dot, so a group without one is built in.)
pub(crate) fn is_builtin_group(group: &str, known: bool) -> bool {
    known || !group.contains('.') || CHANGES.iter().any(|c| c.group == group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_removed_apis() {
        let c = change("extensions", "v1beta1", "Ingress").unwrap();
        assert_eq!((c.removed, c.replacement), (22, "networking.k8s.io/v1"));
        assert!(change("apps", "v1", "Deployment").is_none());
        assert_eq!(change("batch", "v1beta1", "CronJob").unwrap().removed, 25);
    }

    #[test]
    fn builtin_groups() {
        assert!(is_builtin_group("", false));
        assert!(is_builtin_group("extensions", false));
        assert!(is_builtin_group("networking.k8s.io", true));
        assert!(!is_builtin_group("cert-manager.io", false));
        assert!(!is_builtin_group("gateway.networking.k8s.io", false));
    }
}
