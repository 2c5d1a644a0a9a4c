//! The set of resource types the server serves: the built-in kinds plus kinds registered by
//! established CustomResourceDefinitions. Owns naming (kind, plural, singular, short names),
//! scope, served versions, and per-kind behaviour flags (status subresource, generation).
//! Must not hold objects: the store does.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

/// One resource type (one group + plural), possibly served at several versions.
#[derive(Debug, Clone)]
pub(crate) struct ResourceType {
    pub group: String,
    /// Served versions, preferred (storage) version first.
    pub versions: Vec<String>,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub has_status: bool,
    pub tracks_generation: bool,
    pub builtin: bool,
    /// Name of the CRD that registered this type.
    pub crd: Option<String>,
    /// openAPIV3Schema per version (custom resources only).
    pub schemas: BTreeMap<String, Value>,
    /// The scale subresource, when served.
    pub scale: Option<ScalePaths>,
    /// `additionalPrinterColumns` per version (custom resources only).
    pub printer_columns: BTreeMap<String, Vec<Value>>,
}

/// JSON pointers of a scale subresource (`/spec/replicas`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScalePaths {
    pub spec_replicas: String,
    pub status_replicas: String,
    pub label_selector: Option<String>,
}

impl ScalePaths {
    /// Convert `.spec.replicas` (CRD notation) to a JSON pointer.
    pub fn pointer(path: &str) -> String {
        path.trim_start_matches('.')
            .split('.')
            .fold(String::new(), |acc, seg| format!("{acc}/{seg}"))
    }
}

impl ResourceType {
    /// Store key: `apps/deployments`, `/configmaps`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.group, self.plural)
    }

    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{}", self.group, version)
        }
    }

    pub fn preferred_version(&self) -> &str {
        self.versions.first().map(String::as_str).unwrap_or("v1")
    }

    pub fn serves(&self, version: &str) -> bool {
        self.versions.iter().any(|v| v == version)
    }

    pub fn schema(&self, version: &str) -> Option<&Value> {
        self.schemas.get(version)
    }
}

/// group, version, kind, plural, namespaced, short names, in "all", status subresource, generation
type BuiltinRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static [&'static str],
    bool,
    bool,
    bool,
);

#[rustfmt::skip]
const BUILTINS: &[BuiltinRow] = &[
    ("", "v1", "Namespace", "namespaces", false, &["ns"], false, true, false),
    ("", "v1", "ConfigMap", "configmaps", true, &["cm"], false, false, false),
    ("", "v1", "Secret", "secrets", true, &[], false, false, false),
    ("", "v1", "Service", "services", true, &["svc"], true, true, false),
    ("", "v1", "ServiceAccount", "serviceaccounts", true, &["sa"], false, false, false),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, &["pvc"], false, true, false),
    ("", "v1", "Pod", "pods", true, &["po"], true, true, false),
    ("", "v1", "Event", "events", true, &["ev"], false, false, false),
    ("apps", "v1", "Deployment", "deployments", true, &["deploy"], true, true, true),
    ("apps", "v1", "StatefulSet", "statefulsets", true, &["sts"], true, true, true),
    ("apps", "v1", "DaemonSet", "daemonsets", true, &["ds"], true, true, true),
    ("apps", "v1", "ReplicaSet", "replicasets", true, &["rs"], true, true, true),
    ("batch", "v1", "Job", "jobs", true, &[], true, true, true),
    ("batch", "v1", "CronJob", "cronjobs", true, &["cj"], true, true, true),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", true, &["ing"], false, true, true),
    ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, &["netpol"], false, false, true),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", true, &[], false, false, false),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, &[], false, false, false),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, &[], false, false, false),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false, &[], false, false, false),
    ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, &["pdb"], false, true, true),
    ("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, &["hpa"], true, true, false),
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false, &["crd", "crds"], false, true, true),
    ("coordination.k8s.io", "v1", "Lease", "leases", true, &[], false, false, false),
];

/// All served resource types, indexed for the lookups requests need.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    by_key: HashMap<String, Arc<ResourceType>>,
    by_kind: HashMap<(String, String), String>,
    /// Insertion order of keys (discovery lists groups in a stable order).
    order: Vec<String>,
    /// Bumped whenever the set of types changes (OpenAPI hashes, discovery caching).
    pub generation: u64,
}

impl Registry {
    pub fn with_builtins() -> Self {
        let mut r = Registry::default();
        for &(group, version, kind, plural, namespaced, short, all, status, generation) in BUILTINS
        {
            r.insert(ResourceType {
                group: group.into(),
                versions: vec![version.into()],
                kind: kind.into(),
                plural: plural.into(),
                singular: kind.to_lowercase(),
                namespaced,
                short_names: short.iter().map(|s| s.to_string()).collect(),
                categories: if all {
                    vec!["all".to_string()]
                } else {
                    Vec::new()
                },
                has_status: status,
                tracks_generation: generation,
                builtin: true,
                crd: None,
                schemas: BTreeMap::new(),
                printer_columns: BTreeMap::new(),
                scale: matches!(kind, "Deployment" | "StatefulSet" | "ReplicaSet").then(|| {
                    ScalePaths {
                        spec_replicas: "/spec/replicas".into(),
                        status_replicas: "/status/replicas".into(),
                        label_selector: None,
                    }
                }),
            });
        }
        r
    }

    pub fn insert(&mut self, t: ResourceType) {
        let key = t.key();
        self.by_kind
            .insert((t.group.clone(), t.kind.clone()), key.clone());
        if !self.by_key.contains_key(&key) {
            self.order.push(key.clone());
        }
        self.by_key.insert(key, Arc::new(t));
        self.generation += 1;
    }

    pub fn remove(&mut self, key: &str) -> Option<Arc<ResourceType>> {
        let t = self.by_key.remove(key)?;
        self.by_kind.remove(&(t.group.clone(), t.kind.clone()));
        self.order.retain(|k| k != key);
        self.generation += 1;
        Some(t)
    }

    pub fn get(&self, key: &str) -> Option<Arc<ResourceType>> {
        self.by_key.get(key).cloned()
    }

    /// Resolve a URL's group, version and plural.
    pub fn resolve(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceType>> {
        let t = self.by_key.get(&format!("{group}/{plural}"))?;
        t.serves(version).then(|| t.clone())
    }

    pub fn by_kind(&self, group: &str, kind: &str) -> Option<Arc<ResourceType>> {
        let key = self.by_kind.get(&(group.to_string(), kind.to_string()))?;
        self.by_key.get(key).cloned()
    }

    /// Resolve an `apiVersion` + `kind` pair (as found in an object).
    pub fn by_api_version_kind(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Option<(Arc<ResourceType>, String)> {
        let (group, version) = split_api_version(api_version);
        let t = self.by_kind(group, kind)?;
        t.serves(version).then(|| (t, version.to_string()))
    }

    pub fn types(&self) -> impl Iterator<Item = &Arc<ResourceType>> {
        self.order.iter().filter_map(|k| self.by_key.get(k))
    }

    /// Groups with their versions, core group excluded, in a stable order.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for t in self.types() {
            if t.group.is_empty() {
                continue;
            }
            match out.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, vs)) => {
                    for v in &t.versions {
                        if !vs.contains(v) {
                            vs.push(v.clone());
                        }
                    }
                }
                None => out.push((t.group.clone(), t.versions.clone())),
            }
        }
        out
    }

    /// Types served at one group-version.
    pub fn in_group_version(&self, group: &str, version: &str) -> Vec<Arc<ResourceType>> {
        self.types()
            .filter(|t| t.group == group && t.serves(version))
            .cloned()
            .collect()
    }
}

/// `apps/v1` -> (`apps`, `v1`); `v1` -> (``, `v1`).
pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}
