//! Observing the cluster for a rendered environment: read-only.
//!
//! Owns: discovery for the kinds in the render, one live GET and one server-side apply
//! dry-run (field manager `kubeship`, `force`, `dryRun=All`) per object, in parallel and
//! bounded; pending creates (a custom resource whose CRD, or an object whose namespace, is
//! created in the same run); dry-run refusals as data; and the inventory members that are no
//! longer rendered. Produces [`plan::Observation`]s.
//! Must not: write anything (only GET, LIST and dryRun=All requests).

use std::collections::{BTreeSet, HashMap, HashSet};

use futures::StreamExt;
use serde_json::Value as Json;

use crate::manifest::{ObjectRef, Sources};
use crate::plan::{Desired, Observation};
use crate::render::RenderedSet;

use super::ClusterError;
use super::api::{APPLY_PATCH, Api, ApiError};
use super::connect::Cluster;
use super::discovery::{Discovery, Resource};
use super::inventory::{self, ApplySet, PART_OF_LABEL, PRUNE_ANNOTATION, Recorded};

pub const FIELD_MANAGER: &str = "kubeship";

/// How to observe.
#[derive(Clone, Debug)]
pub struct ObserveOptions {
    pub environment: String,
    /// Namespace of the inventory Secret and of objects that name none.
    pub inventory_namespace: String,
    pub default_namespace: String,
    /// Kinds (Namespace, CustomResourceDefinition, PersistentVolumeClaim) that may be pruned.
    pub prune_kinds: Vec<String>,
    pub force_conflicts: bool,
}

/// One rendered object, ready to send.
#[derive(Clone, Debug)]
pub struct Target {
    pub index: usize,
    pub id: ObjectRef,
    pub body: Json,
    pub resource: Option<Resource>,
}

/// What observation learned, for planning and then executing.
pub struct LiveState {
    pub observations: Vec<Observation>,
    pub targets: Vec<Target>,
    /// Inventory members no longer rendered, with their resource (for deletion).
    pub orphans: Vec<(ObjectRef, Resource, Json)>,
    pub applyset: ApplySet,
    pub recorded: Recorded,
    pub discovery: Discovery,
}

/// Kinds a render creates that other objects may wait for.
pub struct Created {
    namespaces: HashSet<String>,
    /// (group, version, kind) served by CRDs in this render, and whether it is namespaced.
    crd_kinds: HashMap<(String, String, String), bool>,
}

pub fn created_in(set: &RenderedSet) -> Created {
    let mut c = Created {
        namespaces: HashSet::new(),
        crd_kinds: HashMap::new(),
    };
    for o in &set.objects {
        match (o.group(), o.kind()) {
            ("", "Namespace") => {
                c.namespaces.insert(o.name().to_string());
            }
            ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                let group = o
                    .node
                    .path_name(&["spec", "group"])
                    .unwrap_or("")
                    .to_string();
                let kind = o
                    .node
                    .path_name(&["spec", "names", "kind"])
                    .unwrap_or("")
                    .to_string();
                let namespaced = o.node.path_name(&["spec", "scope"]) != Some("Cluster");
                for v in o
                    .node
                    .path(&["spec", "versions"])
                    .map_or(&[][..], |n| n.items())
                {
                    if let Some(name) = v.path_name(&["name"]) {
                        c.crd_kinds
                            .insert((group.clone(), name.to_string(), kind.clone()), namespaced);
                    }
                }
            }
            _ => {}
        }
    }
    c
}

/// `path:line` of an object's declaration.
pub fn source_of(sources: &Sources, o: &crate::manifest::Object) -> String {
    sources.describe(crate::manifest::Pos::new(o.origin.file, o.origin.line, 0))
}

/// Builds the bodies to send: rendered JSON plus the ApplySet membership label, with the
/// namespace resolved for namespaced kinds.
pub fn targets(
    set: &RenderedSet,
    discovery: &Discovery,
    created: &Created,
    applyset: &ApplySet,
    default_namespace: &str,
) -> Vec<Target> {
    set.objects
        .iter()
        .enumerate()
        .map(|(index, o)| {
            let mut id = o.id();
            let resource = discovery
                .resource(&id.group, &id.version, &id.kind)
                .cloned();
            let mut body = o.node.to_json();
            let gvk = (
                id.group.to_string(),
                id.version.to_string(),
                id.kind.to_string(),
            );
            let namespaced = match (&resource, created.crd_kinds.get(&gvk)) {
                (Some(r), _) => r.namespaced,
                (None, Some(namespaced)) => *namespaced,
                (None, None) => {
                    !crate::manifest::object::is_cluster_scoped_builtin(&id.group, &id.kind)
                }
            };
            if let Some(meta) = body.get_mut("metadata").and_then(Json::as_object_mut) {
                if namespaced {
                    let ns = id
                        .namespace
                        .clone()
                        .unwrap_or_else(|| default_namespace.into());
                    meta.insert("namespace".into(), Json::String(ns.to_string()));
                    id.namespace = Some(ns);
                } else {
                    meta.remove("namespace");
                    id.namespace = None;
                }
                let labels = meta
                    .entry("labels")
                    .or_insert_with(|| Json::Object(serde_json::Map::new()));
                if let Some(l) = labels.as_object_mut() {
                    l.insert(PART_OF_LABEL.into(), Json::String(applyset.id.clone()));
                }
            }
            Target {
                index,
                id,
                body,
                resource,
            }
        })
        .collect()
}

fn needed_group_versions(set: &RenderedSet) -> BTreeSet<(String, String)> {
    let mut gvs: BTreeSet<(String, String)> = set
        .objects
        .iter()
        .map(|o| {
            let id = o.id();
            (id.group.to_string(), id.version.to_string())
        })
        .collect();
    gvs.insert((String::new(), "v1".into()));
    gvs
}

/// Observes the cluster for `set`. Only GET, LIST and dry-run requests are sent.
pub async fn observe(
    cluster: &Cluster,
    set: &RenderedSet,
    opts: &ObserveOptions,
) -> Result<LiveState, ClusterError> {
    let api = &cluster.api;
    let mut discovery = Discovery::fetch(api, &needed_group_versions(set))
        .await
        .map_err(ClusterError::from_api)?;
    let applyset = ApplySet::for_environment(&opts.environment, &opts.inventory_namespace);
    let recorded = inventory::read_parent(api, &applyset)
        .await
        .map_err(ClusterError::from_api)?;
    let created = created_in(set);
    let targets = targets(
        set,
        &discovery,
        &created,
        &applyset,
        &opts.default_namespace,
    );

    let listed = prefetch_live(api, &targets).await?;
    let results: Vec<(usize, Result<Observation, ClusterError>)> =
        futures::stream::iter(targets.iter())
            .map(|t| async {
                let o = observe_one(api, set, t, &created, opts, &listed).await;
                (t.index, o)
            })
            .buffer_unordered(64)
            .collect()
            .await;
    let mut observations: Vec<Option<Observation>> = vec![None; targets.len()];
    for (i, r) in results {
        observations[i] = Some(r?);
    }
    let mut observations: Vec<Observation> = observations.into_iter().flatten().collect();

    // Inventory members that are no longer rendered.
    let mut group_kinds = recorded.group_kinds.clone();
    let mut namespaces = recorded.namespaces.clone();
    for t in &targets {
        group_kinds.insert(inventory::group_kind(&t.id.group, &t.id.kind));
        if let Some(ns) = &t.id.namespace {
            namespaces.insert(ns.to_string());
        }
    }
    namespaces.insert(applyset.namespace.clone());
    let groups: BTreeSet<String> = recorded
        .group_kinds
        .iter()
        .map(|gk| inventory::parse_group_kind(gk).0)
        .collect();
    discovery
        .add_groups(api, &groups)
        .await
        .map_err(ClusterError::from_api)?;
    let members = if recorded.exists {
        inventory::list_members(api, &discovery, &applyset, &group_kinds, &namespaces)
            .await
            .map_err(ClusterError::from_api)?
    } else {
        Vec::new()
    };
    let rendered: HashSet<(String, String, Option<String>, String)> = targets
        .iter()
        .map(|t| {
            (
                t.id.group.to_string(),
                t.id.kind.to_string(),
                t.id.namespace.as_ref().map(|n| n.to_string()),
                t.id.name.to_string(),
            )
        })
        .collect();
    let mut orphans = Vec::new();
    let mut seen = HashSet::new();
    for m in members {
        let api_version = m.get("apiVersion").and_then(Json::as_str).unwrap_or("");
        let (group, version) = crate::manifest::object::split_api_version(api_version);
        let kind = m.get("kind").and_then(Json::as_str).unwrap_or("");
        let name = m
            .pointer("/metadata/name")
            .and_then(Json::as_str)
            .unwrap_or("");
        let ns = m
            .pointer("/metadata/namespace")
            .and_then(Json::as_str)
            .map(str::to_string);
        let key = (
            group.to_string(),
            kind.to_string(),
            ns.clone(),
            name.to_string(),
        );
        if rendered.contains(&key) || !seen.insert(key) {
            continue;
        }
        // Only objects that still carry our label are ours to prune.
        let ours = m
            .pointer(&format!(
                "/metadata/labels/{}",
                PART_OF_LABEL.replace('/', "~1")
            ))
            .and_then(Json::as_str)
            == Some(applyset.id.as_str());
        if !ours {
            continue;
        }
        let Some(resource) = discovery.resource(group, version, kind).cloned() else {
            continue;
        };
        let id = ObjectRef {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            namespace: ns.map(Into::into),
            name: name.into(),
        };
        let keep = prune_guard(&m, &id, &opts.prune_kinds);
        observations.push(Observation {
            id: id.clone(),
            rendered: None,
            source: None,
            current: Some(m.clone()),
            desired: Desired::Remove { keep },
        });
        orphans.push((id, resource, m));
    }
    Ok(LiveState {
        observations,
        targets,
        orphans,
        applyset,
        recorded,
        discovery,
    })
}

/// Why an orphan must not be deleted, if it must not.
fn prune_guard(live: &Json, id: &ObjectRef, prune_kinds: &[String]) -> Option<String> {
    let annotation = live
        .pointer(&format!(
            "/metadata/annotations/{}",
            PRUNE_ANNOTATION.replace('/', "~1")
        ))
        .and_then(Json::as_str);
    if annotation == Some("disabled") {
        return Some(format!(
            "not pruned: annotated {PRUNE_ANNOTATION}: disabled"
        ));
    }
    let protected = matches!(
        (id.group.as_str(), id.kind.as_str()),
        ("", "Namespace")
            | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("", "PersistentVolumeClaim")
    );
    if protected && !prune_kinds.iter().any(|k| k == id.kind.as_str()) {
        return Some(format!(
            "not pruned: {} is protected; opt in with --prune-kind {} or pruneKinds in kubeship.yaml",
            id.kind, id.kind
        ));
    }
    None
}

async fn observe_one(
    api: &Api,
    set: &RenderedSet,
    t: &Target,
    created: &Created,
    opts: &ObserveOptions,
    listed: &Listed,
) -> Result<Observation, ClusterError> {
    let source = Some(source_of(&set.sources, &set.objects[t.index]));
    let base = |current: Option<Json>, desired: Desired| Observation {
        id: t.id.clone(),
        rendered: Some(t.index),
        source: source.clone(),
        current,
        desired,
    };
    let gvk = (
        t.id.group.to_string(),
        t.id.version.to_string(),
        t.id.kind.to_string(),
    );
    let Some(resource) = &t.resource else {
        if created.crd_kinds.contains_key(&gvk) {
            return Ok(base(
                None,
                Desired::Pending {
                    reason: "its CustomResourceDefinition is created in this run".into(),
                    rendered: t.body.clone(),
                },
            ));
        }
        return Ok(base(
            None,
            Desired::Refused(format!(
                "the cluster does not serve {} {}; add its CustomResourceDefinition or use a served apiVersion",
                t.id.api_version(),
                t.id.kind
            )),
        ));
    };
    let path = resource.object(t.id.namespace.as_deref(), &t.id.name);
    let query = format!(
        "?dryRun=All&fieldManager={FIELD_MANAGER}&force={}",
        opts.force_conflicts
    );
    let dry_path = format!("{path}{query}");
    let get = async {
        match listed.lookup(resource, t.id.namespace.as_deref(), &t.id.name) {
            Some(found) => Ok(found),
            None => match api.get(&path).await {
                Ok(v) => Ok(Some(v)),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e),
            },
        }
    };
    let (live, dry) = futures::join!(get, api.patch(&dry_path, APPLY_PATCH, &t.body));
    let live = live.map_err(ClusterError::from_api)?;
    if t.id.kind == "Secret"
        && t.id.group.is_empty()
        && let Some(l) = &live
    {
        for v in crate::plan::secret_values(l) {
            if v.trim().len() >= 8 {
                crate::redact::register(&v);
            }
        }
    }
    let desired = match dry {
        Ok(v) => Desired::Object(v),
        Err(e) => refusal(e, t, created)?,
    };
    Ok(base(live, desired))
}

/// Live objects read in bulk: one LIST per kind and namespace holding many rendered objects,
/// instead of one GET each (same answers, far fewer round trips).
#[derive(Default)]
pub struct Listed {
    /// Collection URL -> objects by name.
    collections: HashMap<String, HashMap<String, Json>>,
}

/// Below this many objects of one kind in one namespace, single GETs are cheaper.
const LIST_THRESHOLD: usize = 8;

impl Listed {
    /// `Some(None)`: listed and absent; `Some(Some(obj))`: listed and present; `None`: not listed.
    pub fn lookup(&self, res: &Resource, ns: Option<&str>, name: &str) -> Option<Option<Json>> {
        self.collections
            .get(&res.collection(ns))
            .map(|objs| objs.get(name).cloned())
    }
}

/// Lists every collection (kind and namespace) that many targets share, following `continue`.
pub async fn prefetch_live(api: &Api, targets: &[Target]) -> Result<Listed, ClusterError> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for t in targets {
        if let Some(r) = &t.resource {
            *counts
                .entry(r.collection(t.id.namespace.as_deref()))
                .or_default() += 1;
        }
    }
    let wanted: Vec<String> = counts
        .into_iter()
        .filter(|(_, n)| *n >= LIST_THRESHOLD)
        .map(|(c, _)| c)
        .collect();
    let lists = futures::future::join_all(wanted.iter().map(|c| api.list_all(c, None))).await;
    let mut listed = Listed::default();
    for (c, l) in wanted.into_iter().zip(lists) {
        match l {
            Ok(items) => {
                let by_name = items
                    .into_iter()
                    .filter_map(|o| {
                        let name = o.pointer("/metadata/name")?.as_str()?.to_string();
                        Some((name, o))
                    })
                    .collect();
                listed.collections.insert(c, by_name);
            }
            // No list permission or no such namespace yet: fall back to single GETs.
            Err(e) if e.code == 403 || e.is_not_found() => {}
            Err(e) => return Err(ClusterError::from_api(e)),
        }
    }
    Ok(listed)
}

/// Turns a refused dry-run into data, or a cluster failure into an error.
fn refusal(e: ApiError, t: &Target, created: &Created) -> Result<Desired, ClusterError> {
    if e.is_unavailable() {
        return Err(ClusterError::from_api(e));
    }
    if e.is_not_found()
        && let Some(ns) = &t.id.namespace
        && created.namespaces.contains(ns.as_str())
    {
        return Ok(Desired::Pending {
            reason: format!("its namespace `{ns}` is created in this run"),
            rendered: t.body.clone(),
        });
    }
    Ok(Desired::Refused(format!(
        "the API server refused it ({}): {}",
        e.code, e.message
    )))
}

/// Namespaced group-kinds and namespaces of the rendered targets.
pub fn membership(targets: &[Target]) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut gks = BTreeSet::new();
    let mut nss = BTreeSet::new();
    for t in targets {
        gks.insert(inventory::group_kind(&t.id.group, &t.id.kind));
        if let Some(ns) = &t.id.namespace {
            nss.insert(ns.to_string());
        }
    }
    (gks, nss)
}
