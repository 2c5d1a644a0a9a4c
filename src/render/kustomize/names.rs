//! Names: `namePrefix`/`nameSuffix`, the content-hash suffix of generated ConfigMaps and
//! Secrets, and the repair of every reference to a renamed object (kustomize's name-reference
//! table: envFrom, env valueFrom, volumes, projected sources, serviceAccountName,
//! imagePullSecrets, roleRef/subjects, HPA scaleTargetRef, Ingress backends and TLS,
//! StatefulSet serviceName, webhooks, ...), with kustomize's candidate selection rules.
//! Must not: set namespaces or labels.

use std::collections::HashMap;

use crate::manifest::{Node, Text, Value};

use super::fieldspec::{FieldSpec, Leaf, split_path, visit};
use super::file::Kustomization;
use super::{Ctx, Res, ResId, hash, origin_pos};
use crate::render::RenderError;

/// Kinds whose names prefixes and suffixes never touch.
fn skip_rename(id: &ResId) -> bool {
    id.kind == "CustomResourceDefinition"
        || id.kind == "Namespace"
        || (id.kind == "APIService" && id.group == "apiregistration.k8s.io")
}

pub fn prefix_suffix(_ctx: &Ctx<'_>, k: &Kustomization, ra: &mut [Res]) -> Result<(), RenderError> {
    if let Some(prefix) = &k.name_prefix {
        for r in ra.iter_mut() {
            if skip_rename(&r.org_id()) {
                continue;
            }
            r.prefixes.push(prefix.value.as_str().into());
            r.store_prev();
            let name = format!("{}{}", prefix.value, r.name());
            r.set_name(&name);
        }
    }
    if let Some(suffix) = &k.name_suffix {
        for r in ra.iter_mut() {
            if skip_rename(&r.org_id()) {
                continue;
            }
            r.suffixes.push(suffix.value.as_str().into());
            r.store_prev();
            let name = format!("{}{}", r.name(), suffix.value);
            r.set_name(&name);
        }
    }
    Ok(())
}

/// Appends the content hash to every generated object that still needs one (at the root).
pub fn add_hash_suffixes(ra: &mut [Res]) {
    for r in ra.iter_mut().filter(|r| r.needs_hash) {
        let h = hash::suffix(r.node());
        r.store_prev();
        let name = format!("{}-{h}", r.name());
        r.set_name(&name);
        r.needs_hash = false;
    }
}

type Row = (&'static str, &'static str, &'static str, &'static str);

/// Where pod specs live, per kind, for the pod-spec references below.
const POD_SPECS: &[(&str, &str, &str, &str)] = &[
    ("", "v1", "Pod", "spec"),
    ("", "", "PodTemplate", "template/spec"),
    ("", "", "Deployment", "spec/template/spec"),
    ("", "", "ReplicaSet", "spec/template/spec"),
    ("", "", "DaemonSet", "spec/template/spec"),
    ("", "", "StatefulSet", "spec/template/spec"),
    ("", "", "Job", "spec/template/spec"),
    ("", "", "CronJob", "spec/jobTemplate/spec/template/spec"),
];

const CONFIGMAP_IN_POD: &[&str] = &[
    "volumes/configMap/name",
    "containers/env/valueFrom/configMapKeyRef/name",
    "initContainers/env/valueFrom/configMapKeyRef/name",
    "containers/envFrom/configMapRef/name",
    "initContainers/envFrom/configMapRef/name",
    "volumes/projected/sources/configMap/name",
];

const SECRET_IN_POD: &[&str] = &[
    "volumes/secret/secretName",
    "containers/env/valueFrom/secretKeyRef/name",
    "initContainers/env/valueFrom/secretKeyRef/name",
    "containers/envFrom/secretRef/name",
    "initContainers/envFrom/secretRef/name",
    "imagePullSecrets/name",
    "volumes/projected/sources/secret/name",
];

/// Kinds that reference service accounts, PVCs and priority classes from their pod spec.
const POD_OWNERS: &[(&str, &str)] = &[
    ("Pod", "spec"),
    ("StatefulSet", "spec/template/spec"),
    ("Deployment", "spec/template/spec"),
    ("ReplicationController", "spec/template/spec"),
    ("CronJob", "spec/jobTemplate/spec/template/spec"),
    ("Job", "spec/template/spec"),
    ("DaemonSet", "spec/template/spec"),
];

const SCALE_TARGETS: &[&str] = &[
    "Deployment",
    "ReplicationController",
    "ReplicaSet",
    "StatefulSet",
];

const SECRET_OTHER: &[Row] = &[
    ("networking.k8s.io", "", "Ingress", "spec/tls/secretName"),
    ("", "", "Ingress", "spec/tls/secretName"),
    (
        "",
        "",
        "Ingress",
        "metadata/annotations/ingress.kubernetes.io\\/auth-secret",
    ),
    (
        "",
        "",
        "Ingress",
        "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret",
    ),
    (
        "",
        "",
        "Ingress",
        "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret",
    ),
    ("", "", "ServiceAccount", "imagePullSecrets/name"),
    ("", "", "StorageClass", "parameters/secretName"),
    ("", "", "StorageClass", "parameters/adminSecretName"),
    ("", "", "StorageClass", "parameters/userSecretName"),
    ("", "", "StorageClass", "parameters/secretRef"),
    ("", "", "Role", "rules/resourceNames"),
    ("", "", "ClusterRole", "rules/resourceNames"),
    (
        "serving.knative.dev",
        "v1",
        "Service",
        "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
    ),
    ("", "", "PersistentVolume", "spec/azureFile/secretName"),
];

const CONFIGMAP_OTHER: &[Row] = &[
    ("", "", "Node", "spec/configSource/configMap"),
    ("", "", "Role", "rules/resourceNames"),
    ("", "", "ClusterRole", "rules/resourceNames"),
    (
        "",
        "",
        "Ingress",
        "metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap",
    ),
];

const SERVICE_REFS: &[Row] = &[
    ("apps", "", "StatefulSet", "spec/serviceName"),
    (
        "",
        "",
        "Ingress",
        "spec/rules/http/paths/backend/serviceName",
    ),
    ("", "", "Ingress", "spec/backend/serviceName"),
    (
        "",
        "",
        "Ingress",
        "spec/rules/http/paths/backend/service/name",
    ),
    ("", "", "Ingress", "spec/defaultBackend/service/name"),
    (
        "apiregistration.k8s.io",
        "",
        "APIService",
        "spec/service/name",
    ),
    (
        "admissionregistration.k8s.io",
        "",
        "ValidatingWebhookConfiguration",
        "webhooks/clientConfig/service",
    ),
    (
        "admissionregistration.k8s.io",
        "",
        "MutatingWebhookConfiguration",
        "webhooks/clientConfig/service",
    ),
    ("", "", "HTTPRoute", "spec/rules/backendRefs/name"),
];

/// One entry of kustomize's name-reference table: objects of the referral kind, and the
/// fields of other kinds that name them.
struct BackRef {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    referrers: Vec<FieldSpec>,
}

fn spec(g: &'static str, v: &'static str, k: &'static str, p: String) -> FieldSpec {
    FieldSpec::owned(g.into(), v.into(), k.into(), p, false)
}

fn back_refs() -> Vec<BackRef> {
    let mut out = Vec::new();
    for kind in SCALE_TARGETS {
        out.push(BackRef {
            group: "",
            version: "",
            kind,
            referrers: vec![spec(
                "",
                "",
                "HorizontalPodAutoscaler",
                "spec/scaleTargetRef/name".into(),
            )],
        });
    }
    let pod_refs = |paths: &[&str], other: &[Row]| -> Vec<FieldSpec> {
        let mut v = Vec::new();
        for &(g, ver, kind, base) in POD_SPECS {
            for p in paths {
                v.push(spec(g, ver, kind, format!("{base}/{p}")));
            }
        }
        for &(g, ver, kind, p) in other {
            v.push(spec(g, ver, kind, p.to_string()));
        }
        v
    };
    out.push(BackRef {
        group: "",
        version: "v1",
        kind: "ConfigMap",
        referrers: pod_refs(CONFIGMAP_IN_POD, CONFIGMAP_OTHER),
    });
    out.push(BackRef {
        group: "",
        version: "v1",
        kind: "Secret",
        referrers: pod_refs(SECRET_IN_POD, SECRET_OTHER),
    });
    out.push(BackRef {
        group: "",
        version: "v1",
        kind: "Service",
        referrers: SERVICE_REFS
            .iter()
            .map(|&(g, v, k, p)| spec(g, v, k, p.to_string()))
            .collect(),
    });
    out.push(BackRef {
        group: "rbac.authorization.k8s.io",
        version: "",
        kind: "Role",
        referrers: vec![spec(
            "rbac.authorization.k8s.io",
            "",
            "RoleBinding",
            "roleRef/name".into(),
        )],
    });
    out.push(BackRef {
        group: "rbac.authorization.k8s.io",
        version: "",
        kind: "ClusterRole",
        referrers: vec![
            spec(
                "rbac.authorization.k8s.io",
                "",
                "RoleBinding",
                "roleRef/name".into(),
            ),
            spec(
                "rbac.authorization.k8s.io",
                "",
                "ClusterRoleBinding",
                "roleRef/name".into(),
            ),
        ],
    });
    let owner_refs = |leaf: &str| -> Vec<FieldSpec> {
        POD_OWNERS
            .iter()
            .map(|&(k, base)| spec("", "", k, format!("{base}/{leaf}")))
            .collect()
    };
    let mut sa = vec![
        spec(
            "rbac.authorization.k8s.io",
            "",
            "RoleBinding",
            "subjects".into(),
        ),
        spec(
            "rbac.authorization.k8s.io",
            "",
            "ClusterRoleBinding",
            "subjects".into(),
        ),
    ];
    sa.extend(owner_refs("serviceAccountName"));
    out.push(BackRef {
        group: "",
        version: "v1",
        kind: "ServiceAccount",
        referrers: sa,
    });
    out.push(BackRef {
        group: "",
        version: "v1",
        kind: "PersistentVolumeClaim",
        referrers: owner_refs("volumes/persistentVolumeClaim/claimName"),
    });
    out.push(BackRef {
        group: "",
        version: "v1",
        kind: "PersistentVolume",
        referrers: vec![
            spec("", "", "PersistentVolumeClaim", "spec/volumeName".into()),
            spec("", "", "ClusterRole", "rules/resourceNames".into()),
        ],
    });
    out.push(BackRef {
        group: "storage.k8s.io",
        version: "v1",
        kind: "StorageClass",
        referrers: vec![
            spec("", "", "PersistentVolume", "spec/storageClassName".into()),
            spec(
                "",
                "",
                "PersistentVolumeClaim",
                "spec/storageClassName".into(),
            ),
            spec(
                "",
                "",
                "StatefulSet",
                "spec/volumeClaimTemplates/spec/storageClassName".into(),
            ),
        ],
    });
    out.push(BackRef {
        group: "scheduling.k8s.io",
        version: "v1",
        kind: "PriorityClass",
        referrers: owner_refs("priorityClassName"),
    });
    // kustomize writes this group with its version, so its renames never propagate; kept as is.
    out.push(BackRef {
        group: "networking.k8s.io/v1",
        version: "v1",
        kind: "IngressClass",
        referrers: vec![spec("", "", "Ingress", "spec/ingressClassName".into())],
    });
    out
}

/// What is remembered about a possible referral target.
struct Candidate {
    cur: ResId,
    prev: Vec<ResId>,
}

/// Repairs references to renamed objects, as kustomize does once at the root of a build.
pub fn fix_references(ctx: &Ctx<'_>, ra: &mut [Res]) -> Result<(), RenderError> {
    if !ra.iter().any(|r| !r.prev.is_empty()) {
        return Ok(());
    }
    let candidates: Vec<Candidate> = ra
        .iter()
        .map(|r| Candidate {
            cur: r.cur_id(),
            prev: r.prev.clone(),
        })
        .collect();
    let contexts: Vec<(Vec<Text>, Vec<Text>)> = ra
        .iter()
        .map(|r| (r.prefixes.clone(), r.suffixes.clone()))
        .collect();
    let mut by_prev_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in candidates.iter().enumerate() {
        let mut names: Vec<&str> = c.prev.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        for n in names {
            by_prev_name.entry(n).or_default().push(i);
        }
    }
    let refs = back_refs();
    for i in 0..ra.len() {
        let referrer = ra[i].org_id();
        let referrer_cur = candidates[i].cur.clone();
        let role_binding_namespaces: Vec<String> = if referrer_cur.kind == "RoleBinding" {
            ra[i]
                .node()
                .get("subjects")
                .map(|s| {
                    s.items()
                        .iter()
                        .filter(|x| x.path_name(&["kind"]) == Some("ServiceAccount"))
                        .filter_map(|x| x.path_name(&["namespace"]).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let role_ref = ra[i].node().get("roleRef").map(|r| {
            (
                r.path_name(&["apiGroup"]).unwrap_or("").to_string(),
                r.path_name(&["kind"]).unwrap_or("").to_string(),
            )
        });
        let pos = origin_pos(&ra[i].obj.origin);
        for br in &refs {
            for fs in &br.referrers {
                if !referrer.gvk_selected_by(&fs.group, &fs.version, &fs.kind) {
                    continue;
                }
                let sel = Selection {
                    candidates: &candidates,
                    contexts: &contexts,
                    by_prev_name: &by_prev_name,
                    target: br,
                    referrer_cur: &referrer_cur,
                    referrer_ctx: &contexts[i],
                    role_binding_namespaces: &role_binding_namespaces,
                    role_ref: if fs.path.ends_with("roleRef/name") {
                        role_ref.as_ref()
                    } else {
                        None
                    },
                };
                let segments = split_path(&fs.path);
                visit(ra[i].node_mut(), &segments, false, Leaf::Scalar, &mut |n| {
                    sel.set(n)
                })
                .map_err(|m| {
                    ctx.err(
                        pos,
                        format!(
                            "updating name reference in '{}' field of {}: {m}",
                            fs.path,
                            referrer_cur.describe()
                        ),
                    )
                })?;
            }
        }
    }
    Ok(())
}

struct Selection<'a> {
    candidates: &'a [Candidate],
    contexts: &'a [(Vec<Text>, Vec<Text>)],
    by_prev_name: &'a HashMap<&'a str, Vec<usize>>,
    target: &'a BackRef,
    referrer_cur: &'a ResId,
    referrer_ctx: &'a (Vec<Text>, Vec<Text>),
    role_binding_namespaces: &'a [String],
    role_ref: Option<&'a (String, String)>,
}

impl Selection<'_> {
    fn set(&self, node: &mut Node) -> Result<(), String> {
        if node.is_null() {
            return Ok(());
        }
        match &mut node.value {
            Value::Scalar(..) => self.set_scalar(node),
            Value::Map(_) => self.set_mapping(node),
            Value::Seq(items) => {
                for item in items.iter_mut() {
                    if item.is_scalar() {
                        self.set_scalar(item)?;
                    } else if item.is_map() {
                        self.set_mapping(item)?;
                    }
                }
                Ok(())
            }
        }
    }

    /// kustomize's SubsetThatCouldBeReferencedByResource.
    fn in_reach(&self, c: &Candidate) -> bool {
        if self.referrer_cur.is_cluster_scoped() || c.cur.is_cluster_scoped() {
            return true;
        }
        c.cur.ns_equals(self.referrer_cur)
            || self
                .role_binding_namespaces
                .iter()
                .any(|ns| *ns == c.cur.namespace.as_str())
    }

    fn select(
        &self,
        old_name: &str,
        pool: &[usize],
        same: impl Fn(&[usize]) -> bool,
    ) -> Result<Option<usize>, String> {
        let t = self.target;
        let mut found: Vec<usize> = pool
            .iter()
            .copied()
            .filter(|&i| {
                let c = &self.candidates[i];
                self.in_reach(c)
                    && c.prev.iter().any(|p| p.name == old_name)
                    && c.prev
                        .iter()
                        .any(|p| p.gvk_selected_by(t.group, t.version, t.kind))
                    && self
                        .role_ref
                        .is_none_or(|(g, k)| c.prev.iter().any(|p| p.gvk_selected_by(g, "", k)))
                    && (self.referrer_cur.is_cluster_scoped()
                        || c.cur.is_cluster_scoped()
                        || c.cur.kind == "ServiceAccount"
                        || c.cur.ns_equals(self.referrer_cur))
            })
            .collect();
        if found.len() == 1 {
            return Ok(Some(found[0]));
        }
        found.retain(|&i| self.contexts[i] == *self.referrer_ctx);
        match found.len() {
            0 => Ok(None),
            1 => Ok(Some(found[0])),
            _ if same(&found) => Ok(Some(found[0])),
            _ => Err(format!(
                "found multiple possible referrals: {}",
                found
                    .iter()
                    .map(|&i| self.candidates[i].cur.describe())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    fn pool(&self, old_name: &str) -> &[usize] {
        self.by_prev_name.get(old_name).map_or(&[], Vec::as_slice)
    }

    fn set_scalar(&self, node: &mut Node) -> Result<(), String> {
        let Some(old) = node.text().map(str::to_string) else {
            return Ok(());
        };
        let pool = self.pool(&old);
        if pool.is_empty() {
            return Ok(());
        }
        let same_names = |f: &[usize]| {
            f.iter()
                .all(|&i| self.candidates[i].cur.name == self.candidates[f[0]].cur.name)
        };
        if let Some(i) = self.select(&old, pool, same_names)? {
            let new = &self.candidates[i].cur.name;
            if *new != old {
                let pos = node.pos;
                *node = Node::string(new.as_str()).at(pos);
            }
        }
        Ok(())
    }

    fn set_mapping(&self, node: &mut Node) -> Result<(), String> {
        let Some(old) = node.get("name").map(|n| n.text().unwrap_or("").to_string()) else {
            return Err("path config error; no 'name' field in node".to_string());
        };
        let pool = self.pool(&old);
        if pool.is_empty() {
            return Ok(());
        }
        let filtered: Vec<usize> = match node.path_name(&["namespace"]) {
            None => pool.to_vec(),
            Some(ns) => {
                let by_org: Vec<usize> = pool
                    .iter()
                    .copied()
                    .filter(|&i| {
                        let c = &self.candidates[i];
                        c.prev.first().map_or(&c.cur, |p| p).namespace == ns
                    })
                    .collect();
                if by_org.is_empty() {
                    pool.iter()
                        .copied()
                        .filter(|&i| self.candidates[i].cur.namespace == ns)
                        .collect()
                } else {
                    by_org
                }
            }
        };
        let same = |f: &[usize]| {
            f.iter().all(|&i| {
                let (a, b) = (&self.candidates[i].cur, &self.candidates[f[0]].cur);
                a.name == b.name && a.namespace == b.namespace
            })
        };
        let Some(i) = self.select(&old, &filtered, same)? else {
            return Ok(());
        };
        let c = &self.candidates[i].cur;
        if c.name == old && c.namespace.is_empty() {
            return Ok(());
        }
        let name_pos = node.get("name").map_or(node.pos, |n| n.pos);
        node.set("name", Node::string(c.name.as_str()).at(name_pos));
        if !c.namespace.is_empty() {
            let ns_pos = node.get("namespace").map_or(node.pos, |n| n.pos);
            node.set("namespace", Node::string(c.namespace.as_str()).at(ns_pos));
        }
        Ok(())
    }
}
