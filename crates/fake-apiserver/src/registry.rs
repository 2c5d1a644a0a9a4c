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

struct Builtin {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    all: bool,
    status: bool,
    generation: bool,
}

const BUILTINS: &[Builtin] = &[
    Builtin {
        group: "",
        version: "v1",
        kind: "Namespace",
        plural: "namespaces",
        namespaced: false,
        short: &["ns"],
        all: false,
        status: true,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        kind: "ConfigMap",
        plural: "configmaps",
        namespaced: true,
        short: &["cm"],
        all: false,
        status: false,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        kind: "Secret",
        plural: "secrets",
        namespaced: true,
        short: &[],
        all: false,
        status: false,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        kind: "Service",
        plural: "services",
        namespaced: true,
        short: &["svc"],
        all: true,
        status: true,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        kind: "ServiceAccount",
        plural: "serviceaccounts",
        namespaced: true,
        short: &["sa"],
        all: false,
        status: false,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        kind: "PersistentVolumeClaim",
        plural: "persistentvolumeclaims",
        namespaced: true,
        short: &["pvc"],
        all: false,
        status: true,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        kind: "Pod",
        plural: "pods",
        namespaced: true,
        short: &["po"],
        all: true,
        status: true,
        generation: false,
    },
    Builtin {
        group: "apps",
        version: "v1",
        kind: "Deployment",
        plural: "deployments",
        namespaced: true,
        short: &["deploy"],
        all: true,
        status: true,
        generation: true,
    },
    Builtin {
        group: "apps",
        version: "v1",
        kind: "StatefulSet",
        plural: "statefulsets",
        namespaced: true,
        short: &["sts"],
        all: true,
        status: true,
        generation: true,
    },
    Builtin {
        group: "apps",
        version: "v1",
        kind: "DaemonSet",
        plural: "daemonsets",
        namespaced: true,
        short: &["ds"],
        all: true,
        status: true,
        generation: true,
    },
    Builtin {
        group: "batch",
        version: "v1",
        kind: "Job",
        plural: "jobs",
        namespaced: true,
        short: &[],
        all: true,
        status: true,
        generation: true,
    },
    Builtin {
        group: "batch",
        version: "v1",
        kind: "CronJob",
        plural: "cronjobs",
        namespaced: true,
        short: &["cj"],
        all: true,
        status: true,
        generation: true,
    },
    Builtin {
        group: "networking.k8s.io",
        version: "v1",
        kind: "Ingress",
        plural: "ingresses",
        namespaced: true,
        short: &["ing"],
        all: false,
        status: true,
        generation: true,
    },
    Builtin {
        group: "networking.k8s.io",
        version: "v1",
        kind: "NetworkPolicy",
        plural: "networkpolicies",
        namespaced: true,
        short: &["netpol"],
        all: false,
        status: false,
        generation: true,
    },
    Builtin {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "Role",
        plural: "roles",
        namespaced: true,
        short: &[],
        all: false,
        status: false,
        generation: false,
    },
    Builtin {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "RoleBinding",
        plural: "rolebindings",
        namespaced: true,
        short: &[],
        all: false,
        status: false,
        generation: false,
    },
    Builtin {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "ClusterRole",
        plural: "clusterroles",
        namespaced: false,
        short: &[],
        all: false,
        status: false,
        generation: false,
    },
    Builtin {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "ClusterRoleBinding",
        plural: "clusterrolebindings",
        namespaced: false,
        short: &[],
        all: false,
        status: false,
        generation: false,
    },
    Builtin {
        group: "policy",
        version: "v1",
        kind: "PodDisruptionBudget",
        plural: "poddisruptionbudgets",
        namespaced: true,
        short: &["pdb"],
        all: false,
        status: true,
        generation: true,
    },
    Builtin {
        group: "autoscaling",
        version: "v2",
        kind: "HorizontalPodAutoscaler",
        plural: "horizontalpodautoscalers",
        namespaced: true,
        short: &["hpa"],
        all: true,
        status: true,
        generation: false,
    },
    Builtin {
        group: "apiextensions.k8s.io",
        version: "v1",
        kind: "CustomResourceDefinition",
        plural: "customresourcedefinitions",
        namespaced: false,
        short: &["crd", "crds"],
        all: false,
        status: true,
        generation: true,
    },
    Builtin {
        group: "coordination.k8s.io",
        version: "v1",
        kind: "Lease",
        plural: "leases",
        namespaced: true,
        short: &[],
        all: false,
        status: false,
        generation: false,
    },
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
        for b in BUILTINS {
            let mut categories = Vec::new();
            if b.all {
                categories.push("all".to_string());
            }
            r.insert(ResourceType {
                group: b.group.into(),
                versions: vec![b.version.into()],
                kind: b.kind.into(),
                plural: b.plural.into(),
                singular: b.kind.to_lowercase(),
                namespaced: b.namespaced,
                short_names: b.short.iter().map(|s| s.to_string()).collect(),
                categories,
                has_status: b.status,
                tracks_generation: b.generation,
                builtin: true,
                crd: None,
                schemas: BTreeMap::new(),
                scale: matches!(b.kind, "Deployment" | "StatefulSet").then(|| ScalePaths {
                    spec_replicas: "/spec/replicas".into(),
                    status_replicas: "/status/replicas".into(),
                    label_selector: None,
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
