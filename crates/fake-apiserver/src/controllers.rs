//! Simulated controllers, driven by the world's task queue: rollout status of Deployments,
//! StatefulSets and DaemonSets (ready after the workload delay; `fake-apiserver/stuck: "true"`
//! keeps them unready and eventually ProgressDeadlineExceeded), Job completion
//! (`fake-apiserver/fail: "true"` fails it), PVC binding, Pod readiness, the default
//! ServiceAccount of new namespaces, CRD establishment (registering its kinds), namespace
//! finalization, and the garbage collector's foreground/orphan finalizers. Writes only status
//! (as `kube-controller-manager` / `kube-apiserver` Update operations on the status
//! subresource) or deletes; never touches fields that apply managers own.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::engine;
use crate::meta::{now_rfc3339, safe_hash};
use crate::registry::{ResourceType, ScalePaths};
use crate::world::{ObjKey, TaskKind, World};

/// Annotation that keeps a workload unready forever.
pub const STUCK_ANNOTATION: &str = "fake-apiserver/stuck";
/// Annotation that makes a Job fail instead of completing.
pub const FAIL_ANNOTATION: &str = "fake-apiserver/fail";

const CRD_KEY: &str = "apiextensions.k8s.io/customresourcedefinitions";

pub(crate) fn is_controlled(kind: &str) -> bool {
    matches!(
        kind,
        "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "PersistentVolumeClaim" | "Pod"
    )
}

/// Run every task that is due.
pub(crate) fn run_due(w: &mut World, now: Instant) {
    for task in w.take_due(now) {
        match task {
            TaskKind::Reconcile(key) => reconcile(w, &key, now),
            TaskKind::EstablishCrd(name) => establish_crd(w, &name),
            TaskKind::FinalizeNamespace(name) => {
                w.drop_namespace_contents(&name);
                w.remove("/namespaces", "", &name);
            }
            TaskKind::CollectGarbage(key) => collect_garbage(w, &key),
        }
    }
}

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Progressing,
    Ready,
    DeadlineExceeded,
}

/// A condition, keeping transition/update times when nothing about it changed.
fn condition(
    prev: Option<&Value>,
    ty: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
    update_time: bool,
) -> Value {
    let prev_c = prev
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some(ty))
        });
    let same_status = prev_c.and_then(|c| c.get("status")).and_then(Value::as_str) == Some(status);
    let same_text = same_status
        && prev_c.and_then(|c| c.get("reason")).and_then(Value::as_str) == Some(reason)
        && prev_c
            .and_then(|c| c.get("message"))
            .and_then(Value::as_str)
            == Some(message);
    let keep = |field: &str, same: bool| -> Value {
        match prev_c.and_then(|c| c.get(field)) {
            Some(v) if same => v.clone(),
            _ => json!(now),
        }
    };
    let mut m = Map::new();
    m.insert("type".into(), json!(ty));
    m.insert("status".into(), json!(status));
    if update_time {
        m.insert("lastUpdateTime".into(), keep("lastUpdateTime", same_text));
    }
    m.insert(
        "lastTransitionTime".into(),
        keep("lastTransitionTime", same_status),
    );
    m.insert("reason".into(), json!(reason));
    m.insert("message".into(), json!(message));
    Value::Object(m)
}

fn put_nonzero(m: &mut Map<String, Value>, k: &str, n: i64) {
    if n != 0 {
        m.insert(k.into(), json!(n));
    }
}

fn template_hash(obj: &Value) -> String {
    let t = obj
        .pointer("/spec/template")
        .map(Value::to_string)
        .unwrap_or_default();
    safe_hash(t.as_bytes())
}

fn reconcile(w: &mut World, key: &ObjKey, now: Instant) {
    let (tkey, ns, name) = key;
    let Some(obj) = w.get(tkey, ns, name).cloned() else {
        return;
    };
    let Some(t) = w.registry.get(tkey) else {
        return;
    };
    if obj.pointer("/metadata/deletionTimestamp").is_some() {
        return;
    }
    if t.kind == "Namespace" {
        ensure_default_service_account(w, name);
        return;
    }
    // Objects without a rollout clock (e.g. after `Handle::set_status`) are left alone.
    let Some(started) = w.rollouts.get(key).copied() else {
        return;
    };
    // Far-future deadlines (huge delays or progressDeadlineSeconds) saturate to "in a year".
    let far = |d: Duration| {
        started
            .checked_add(d)
            .unwrap_or_else(|| started + Duration::from_secs(365 * 86_400))
    };
    let ready_at = far(w.timing.workload_delay);
    let stuck = annotation(&obj, STUCK_ANNOTATION) == Some("true");
    let deadline = w.timing.progress_deadline.unwrap_or_else(|| {
        Duration::from_secs(
            obj.pointer("/spec/progressDeadlineSeconds")
                .and_then(Value::as_u64)
                .unwrap_or(600)
                .min(365 * 86_400),
        )
    });
    let deadline_at = far(deadline);
    let phase = if stuck {
        if t.kind == "Deployment" && now >= deadline_at {
            Phase::DeadlineExceeded
        } else {
            Phase::Progressing
        }
    } else if now >= ready_at {
        Phase::Ready
    } else {
        Phase::Progressing
    };
    let stamp = now_rfc3339();
    let prev = obj.get("status");
    let nodes = i64::from(w.timing.daemonset_nodes);
    let status = match t.kind.as_str() {
        "Deployment" => deployment_status(&obj, prev, phase, &stamp),
        "StatefulSet" => statefulset_status(&obj, prev, phase),
        "DaemonSet" => daemonset_status(&obj, phase, nodes),
        "Job" => job_status(&obj, prev, phase, &stamp),
        "PersistentVolumeClaim" => pvc_status(&obj, phase),
        "Pod" => pod_status(&obj, prev, phase, &stamp),
        _ => return,
    };
    engine::write_status(w, tkey, ns, name, status, "kube-controller-manager");
    match phase {
        Phase::Ready | Phase::DeadlineExceeded => {}
        Phase::Progressing if stuck => {
            if t.kind == "Deployment" {
                let at = deadline_at;
                w.schedule(
                    at.saturating_duration_since(now),
                    TaskKind::Reconcile(key.clone()),
                );
            }
        }
        Phase::Progressing => w.schedule(
            ready_at.saturating_duration_since(now),
            TaskKind::Reconcile(key.clone()),
        ),
    }
}

fn generation(obj: &Value) -> i64 {
    obj.pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

fn replicas(obj: &Value) -> i64 {
    obj.pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

fn deployment_status(obj: &Value, prev: Option<&Value>, phase: Phase, now: &str) -> Value {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let rs = format!("{name}-{}", template_hash(obj));
    let r = replicas(obj);
    let prev_avail = prev
        .and_then(|p| p.get("availableReplicas"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let mut m = Map::new();
    m.insert("observedGeneration".into(), json!(generation(obj)));
    let (available, progressing) = match phase {
        Phase::Ready => {
            put_nonzero(&mut m, "replicas", r);
            put_nonzero(&mut m, "updatedReplicas", r);
            put_nonzero(&mut m, "readyReplicas", r);
            put_nonzero(&mut m, "availableReplicas", r);
            (
                condition(
                    prev,
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                    now,
                    true,
                ),
                condition(
                    prev,
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    &format!("ReplicaSet {rs:?} has successfully progressed."),
                    now,
                    true,
                ),
            )
        }
        Phase::Progressing | Phase::DeadlineExceeded => {
            let old_ready = prev_avail.min(r);
            put_nonzero(&mut m, "replicas", r + if old_ready > 0 { 1 } else { 0 });
            // A first rollout creates every pod new; an update surges one new pod.
            put_nonzero(
                &mut m,
                "updatedReplicas",
                if old_ready > 0 { r.min(1) } else { r },
            );
            put_nonzero(&mut m, "readyReplicas", old_ready);
            put_nonzero(&mut m, "availableReplicas", old_ready);
            put_nonzero(&mut m, "unavailableReplicas", r - old_ready);
            let avail = if old_ready > 0 && r > 0 {
                condition(
                    prev,
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                    now,
                    true,
                )
            } else {
                condition(
                    prev,
                    "Available",
                    "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                    now,
                    true,
                )
            };
            let prog = if phase == Phase::DeadlineExceeded {
                condition(
                    prev,
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    &format!("ReplicaSet {rs:?} has timed out progressing."),
                    now,
                    true,
                )
            } else {
                condition(
                    prev,
                    "Progressing",
                    "True",
                    "ReplicaSetUpdated",
                    &format!("ReplicaSet {rs:?} is progressing."),
                    now,
                    true,
                )
            };
            (avail, prog)
        }
    };
    m.insert("conditions".into(), json!([available, progressing]));
    Value::Object(m)
}

fn statefulset_status(obj: &Value, prev: Option<&Value>, phase: Phase) -> Value {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let rev = format!("{name}-{}", template_hash(obj));
    let r = replicas(obj);
    let mut m = Map::new();
    m.insert("observedGeneration".into(), json!(generation(obj)));
    m.insert("replicas".into(), json!(r));
    match phase {
        Phase::Ready => {
            put_nonzero(&mut m, "readyReplicas", r);
            put_nonzero(&mut m, "currentReplicas", r);
            put_nonzero(&mut m, "updatedReplicas", r);
            m.insert("availableReplicas".into(), json!(r));
            m.insert("currentRevision".into(), json!(rev));
            m.insert("updateRevision".into(), json!(rev));
        }
        _ => {
            let cur = prev
                .and_then(|p| p.get("currentRevision"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| rev.clone());
            let old_ready = if cur != rev {
                prev.and_then(|p| p.get("readyReplicas"))
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
            } else {
                0
            };
            put_nonzero(&mut m, "readyReplicas", old_ready);
            put_nonzero(&mut m, "currentReplicas", old_ready);
            m.insert("availableReplicas".into(), json!(old_ready));
            m.insert("currentRevision".into(), json!(cur));
            m.insert("updateRevision".into(), json!(rev));
        }
    }
    m.insert("collisionCount".into(), json!(0));
    Value::Object(m)
}

fn daemonset_status(obj: &Value, phase: Phase, n: i64) -> Value {
    let mut m = Map::new();
    m.insert("currentNumberScheduled".into(), json!(n));
    m.insert("desiredNumberScheduled".into(), json!(n));
    m.insert("numberMisscheduled".into(), json!(0));
    match phase {
        Phase::Ready => {
            put_nonzero(&mut m, "numberAvailable", n);
            m.insert("numberReady".into(), json!(n));
            m.insert("observedGeneration".into(), json!(generation(obj)));
            put_nonzero(&mut m, "updatedNumberScheduled", n);
        }
        _ => {
            m.insert("numberReady".into(), json!(0));
            put_nonzero(&mut m, "numberUnavailable", n);
            m.insert("observedGeneration".into(), json!(generation(obj)));
        }
    }
    Value::Object(m)
}

fn job_status(obj: &Value, prev: Option<&Value>, phase: Phase, now: &str) -> Value {
    let start = prev
        .and_then(|p| p.get("startTime"))
        .cloned()
        .unwrap_or_else(|| json!(now));
    let mut m = Map::new();
    if obj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        m.insert(
            "conditions".into(),
            json!([condition(
                prev,
                "Suspended",
                "True",
                "JobSuspended",
                "Job suspended",
                now,
                false
            )]),
        );
        return Value::Object(m);
    }
    let completions = obj
        .pointer("/spec/completions")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let parallelism = obj
        .pointer("/spec/parallelism")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    m.insert("startTime".into(), start);
    match phase {
        Phase::Ready if annotation(obj, FAIL_ANNOTATION) == Some("true") => {
            let backoff = obj
                .pointer("/spec/backoffLimit")
                .and_then(Value::as_i64)
                .unwrap_or(6);
            m.insert("failed".into(), json!(backoff + 1));
            let msg = "Job has reached the specified backoff limit";
            let mut target = condition(
                prev,
                "FailureTarget",
                "True",
                "BackoffLimitExceeded",
                msg,
                now,
                false,
            );
            let mut failed = condition(
                prev,
                "Failed",
                "True",
                "BackoffLimitExceeded",
                msg,
                now,
                false,
            );
            for c in [&mut target, &mut failed] {
                if let Some(cm) = c.as_object_mut() {
                    cm.insert(
                        "lastProbeTime".into(),
                        cm.get("lastTransitionTime").cloned().unwrap_or(json!(now)),
                    );
                }
            }
            m.insert("conditions".into(), json!([target, failed]));
        }
        Phase::Ready => {
            let prev_done = prev.and_then(|p| p.get("completionTime")).cloned();
            m.insert(
                "completionTime".into(),
                prev_done.unwrap_or_else(|| json!(now)),
            );
            m.insert("succeeded".into(), json!(completions));
            let msg = "Reached expected number of succeeded pods";
            let mut met = condition(
                prev,
                "SuccessCriteriaMet",
                "True",
                "CompletionsReached",
                msg,
                now,
                false,
            );
            let mut complete = condition(
                prev,
                "Complete",
                "True",
                "CompletionsReached",
                msg,
                now,
                false,
            );
            for c in [&mut met, &mut complete] {
                if let Some(cm) = c.as_object_mut() {
                    cm.insert(
                        "lastProbeTime".into(),
                        cm.get("lastTransitionTime").cloned().unwrap_or(json!(now)),
                    );
                }
            }
            m.insert("conditions".into(), json!([met, complete]));
        }
        _ => {
            m.insert("active".into(), json!(parallelism.min(completions.max(1))));
        }
    }
    m.insert("ready".into(), json!(0));
    m.insert("terminating".into(), json!(0));
    m.insert("uncountedTerminatedPods".into(), json!({}));
    Value::Object(m)
}

fn pvc_status(obj: &Value, phase: Phase) -> Value {
    if phase != Phase::Ready {
        return json!({"phase": "Pending"});
    }
    let mut m = Map::new();
    m.insert("phase".into(), json!("Bound"));
    if let Some(am) = obj.pointer("/spec/accessModes") {
        m.insert("accessModes".into(), am.clone());
    }
    if let Some(s) = obj.pointer("/spec/resources/requests/storage") {
        m.insert("capacity".into(), json!({"storage": s}));
    }
    Value::Object(m)
}

fn pod_status(obj: &Value, prev: Option<&Value>, phase: Phase, now: &str) -> Value {
    let ready = phase == Phase::Ready;
    let st = if ready { "True" } else { "False" };
    let containers: Vec<Value> = obj
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let name = c.get("name").cloned().unwrap_or(json!(""));
                    let image = c.get("image").cloned().unwrap_or(json!(""));
                    let state = if ready {
                        json!({"running": {"startedAt": now}})
                    } else {
                        json!({"waiting": {"reason": "ContainerCreating"}})
                    };
                    json!({"name": name, "image": image, "ready": ready, "restartCount": 0, "started": ready, "state": state})
                })
                .collect()
        })
        .unwrap_or_default();
    let start = prev
        .and_then(|p| p.get("startTime"))
        .cloned()
        .unwrap_or_else(|| json!(now));
    json!({
        "phase": if ready { "Running" } else { "Pending" },
        "conditions": [
            condition(prev, "PodScheduled", "True", "Scheduled", "", now, false),
            condition(prev, "Initialized", "True", "Initialized", "", now, false),
            condition(prev, "ContainersReady", st, if ready { "ContainersReady" } else { "ContainersNotReady" }, "", now, false),
            condition(prev, "Ready", st, if ready { "PodReady" } else { "ContainersNotReady" }, "", now, false),
        ],
        "hostIP": "172.18.0.2",
        "podIP": "10.244.0.10",
        "startTime": start,
        "qosClass": "BestEffort",
        "containerStatuses": containers,
    })
}

fn ensure_default_service_account(w: &mut World, ns: &str) {
    if w.get("/serviceaccounts", ns, "default").is_some() {
        return;
    }
    let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}});
    let _ = engine::seed(w, sa, "kube-controller-manager", false);
}

fn collect_garbage(w: &mut World, key: &ObjKey) {
    let (tkey, ns, name) = key;
    let Some(mut obj) = w.get(tkey, ns, name).cloned() else {
        return;
    };
    let remaining: Vec<Value> = obj
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|f| *f != "foregroundDeletion" && *f != "orphan")
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if remaining.is_empty() {
        w.remove(tkey, ns, name);
        return;
    }
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("finalizers".into(), Value::Array(remaining));
    }
    w.put(tkey, ns, name, obj);
}

/// Kubernetes version priority: v1 > v1beta2 > v1beta1 > v1alpha1 > other strings.
fn version_rank(v: &str) -> (u8, u32, u8, u32, String) {
    let parse = || -> Option<(u32, u8, u32)> {
        let rest = v.strip_prefix('v')?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let major: u32 = digits.parse().ok()?;
        let tail = &rest[digits.len()..];
        if tail.is_empty() {
            return Some((major, 3, 0));
        }
        let (level, num) = if let Some(n) = tail.strip_prefix("beta") {
            (2, n)
        } else if let Some(n) = tail.strip_prefix("alpha") {
            (1, n)
        } else {
            return None;
        };
        Some((major, level, num.parse().ok()?))
    };
    match parse() {
        Some((major, level, minor)) => (1, major, level, minor, String::new()),
        None => (0, 0, 0, 0, v.to_string()),
    }
}

/// The resource type an (established) CRD serves.
pub(crate) fn crd_type(crd: &Value) -> Option<ResourceType> {
    let spec = crd.get("spec")?;
    let names = spec.get("names")?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let kind = s(names, "kind")?;
    let plural = s(names, "plural")?;
    let mut versions: Vec<(String, &Value)> = spec
        .get("versions")?
        .as_array()?
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool) != Some(false))
        .filter_map(|v| Some((s(v, "name")?, v)))
        .collect();
    if versions.is_empty() {
        return None;
    }
    versions.sort_by(|a, b| {
        let (ra, rb) = (version_rank(&a.0), version_rank(&b.0));
        rb.0.cmp(&ra.0)
            .then(rb.1.cmp(&ra.1))
            .then(rb.2.cmp(&ra.2))
            .then(rb.3.cmp(&ra.3))
            .then(ra.4.cmp(&rb.4))
    });
    let mut schemas = BTreeMap::new();
    let mut has_status = false;
    let mut scale = None;
    let mut printer_columns = BTreeMap::new();
    for (name, v) in &versions {
        if let Some(cols) = v.get("additionalPrinterColumns").and_then(Value::as_array) {
            printer_columns.insert(name.clone(), cols.clone());
        }
        if let Some(sc) = v.pointer("/subresources/scale") {
            let p = |k: &str| sc.get(k).and_then(Value::as_str).map(ScalePaths::pointer);
            scale = Some(ScalePaths {
                spec_replicas: p("specReplicasPath").unwrap_or_else(|| "/spec/replicas".into()),
                status_replicas: p("statusReplicasPath")
                    .unwrap_or_else(|| "/status/replicas".into()),
                label_selector: p("labelSelectorPath"),
            });
        }
        if let Some(sch) = v.pointer("/schema/openAPIV3Schema") {
            schemas.insert(name.clone(), sch.clone());
        }
        if v.pointer("/subresources/status").is_some() {
            has_status = true;
        }
    }
    let strs = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    Some(ResourceType {
        group: s(spec, "group")?,
        versions: versions.iter().map(|(n, _)| n.clone()).collect(),
        singular: s(names, "singular").unwrap_or_else(|| kind.to_lowercase()),
        kind,
        plural,
        namespaced: spec.get("scope").and_then(Value::as_str) != Some("Cluster"),
        short_names: strs(names.get("shortNames")),
        categories: strs(names.get("categories")),
        has_status,
        tracks_generation: true,
        builtin: false,
        crd: crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(str::to_string),
        schemas,
        scale,
        printer_columns,
    })
}

fn establish_crd(w: &mut World, name: &str) {
    let Some(crd) = w.get(CRD_KEY, "", name).cloned() else {
        return;
    };
    if crd.pointer("/metadata/deletionTimestamp").is_some() {
        return;
    }
    let Some(t) = crd_type(&crd) else { return };
    if let Some(existing) = w.registry.get(&t.key())
        && existing.builtin
    {
        return;
    }
    let storage = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .and_then(|vs| {
            vs.iter()
                .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        })
        .and_then(|v| v.get("name"))
        .cloned()
        .unwrap_or(json!("v1"));
    let prev = crd.get("status");
    let now = now_rfc3339();
    let mut accepted = Map::new();
    accepted.insert("plural".into(), json!(t.plural));
    accepted.insert("singular".into(), json!(t.singular));
    if !t.short_names.is_empty() {
        accepted.insert("shortNames".into(), json!(t.short_names));
    }
    accepted.insert("kind".into(), json!(t.kind));
    accepted.insert("listKind".into(), json!(format!("{}List", t.kind)));
    if !t.categories.is_empty() {
        accepted.insert("categories".into(), json!(t.categories));
    }
    let mut stored: Vec<Value> = prev
        .and_then(|p| p.get("storedVersions"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if !stored.contains(&storage) {
        stored.push(storage);
    }
    let status = json!({
        "conditions": [
            condition(prev, "NamesAccepted", "True", "NoConflicts", "no conflicts found", &now, false),
            condition(prev, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted", &now, false),
        ],
        "acceptedNames": Value::Object(accepted),
        "storedVersions": stored,
    });
    w.registry.insert(t);
    engine::write_status(w, CRD_KEY, "", name, status, "kube-apiserver");
}

/// Forget the kinds of a deleted CRD and delete their objects.
pub(crate) fn unregister_crd(w: &mut World, crd: &Value) {
    let Some(t) = crd_type(crd) else { return };
    let key = t.key();
    let ours = w
        .registry
        .get(&key)
        .is_some_and(|existing| existing.crd == t.crd);
    if ours {
        w.registry.remove(&key);
        w.drop_table(&key);
    }
}
