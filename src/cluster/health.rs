//! Health of applied objects, by kstatus rules.
//!
//! Owns: reading an object's status the way kstatus does (observedGeneration; rollout of
//! Deployments, StatefulSets and DaemonSets; Job completion; CRDs Established; Namespaces
//! Active; PVCs Bound; Ready conditions) into Current / InProgress / Failed, and waiting for a
//! set of objects until all are Current, one is Failed, or the timeout hits.
//! Must not: write anything.

use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::api::Api;

#[derive(Clone, Debug, PartialEq)]
pub enum Health {
    Current,
    InProgress(String),
    Failed(String),
}

fn int(v: &Json, ptr: &str) -> Option<i64> {
    v.pointer(ptr).and_then(Json::as_i64)
}

fn condition<'a>(v: &'a Json, kind: &str) -> Option<&'a Json> {
    v.pointer("/status/conditions")
        .and_then(Json::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Json::as_str) == Some(kind))
}

fn cond_status(v: &Json, kind: &str) -> Option<String> {
    condition(v, kind)
        .and_then(|c| c.get("status"))
        .and_then(Json::as_str)
        .map(str::to_string)
}

fn cond_text(v: &Json, kind: &str) -> String {
    condition(v, kind)
        .map(|c| {
            format!(
                "{}={} {}: {}",
                kind,
                c.get("status").and_then(Json::as_str).unwrap_or("?"),
                c.get("reason").and_then(Json::as_str).unwrap_or(""),
                c.get("message").and_then(Json::as_str).unwrap_or("")
            )
        })
        .unwrap_or_default()
}

/// The health of one object as the API server returned it.
pub fn health(obj: &Json) -> Health {
    let kind = obj.get("kind").and_then(Json::as_str).unwrap_or("");
    let generation = int(obj, "/metadata/generation");
    let observed = int(obj, "/status/observedGeneration");
    if let (Some(g), Some(o)) = (generation, observed)
        && o < g
    {
        return Health::InProgress(format!("observedGeneration {o} < generation {g}"));
    }
    let replicas = int(obj, "/spec/replicas").unwrap_or(1);
    match kind {
        "Deployment" => {
            if cond_status(obj, "Progressing").as_deref() == Some("False")
                && condition(obj, "Progressing")
                    .and_then(|c| c.get("reason"))
                    .and_then(Json::as_str)
                    == Some("ProgressDeadlineExceeded")
            {
                return Health::Failed(cond_text(obj, "Progressing"));
            }
            if observed.is_none() {
                return Health::InProgress("rollout not observed yet".into());
            }
            let updated = int(obj, "/status/updatedReplicas").unwrap_or(0);
            let available = int(obj, "/status/availableReplicas").unwrap_or(0);
            let total = int(obj, "/status/replicas").unwrap_or(0);
            if updated < replicas {
                return Health::InProgress(format!("{updated} of {replicas} replicas updated"));
            }
            if total > updated {
                return Health::InProgress(format!(
                    "{} old replicas pending termination",
                    total - updated
                ));
            }
            if available < replicas {
                return Health::InProgress(format!(
                    "{available} of {replicas} replicas available{}",
                    match cond_text(obj, "Available") {
                        t if t.is_empty() => String::new(),
                        t => format!(" ({t})"),
                    }
                ));
            }
            Health::Current
        }
        "StatefulSet" => {
            if observed.is_none() {
                return Health::InProgress("rollout not observed yet".into());
            }
            let ready = int(obj, "/status/readyReplicas").unwrap_or(0);
            if ready < replicas {
                return Health::InProgress(format!("{ready} of {replicas} replicas ready"));
            }
            let partition_free = obj
                .pointer("/spec/updateStrategy/type")
                .and_then(Json::as_str)
                .is_none_or(|t| t == "RollingUpdate");
            let cur = obj
                .pointer("/status/currentRevision")
                .and_then(Json::as_str);
            let upd = obj.pointer("/status/updateRevision").and_then(Json::as_str);
            if partition_free && cur.is_some() && cur != upd {
                return Health::InProgress("rolling update in progress".into());
            }
            Health::Current
        }
        "DaemonSet" => {
            if observed.is_none() {
                return Health::InProgress("rollout not observed yet".into());
            }
            let desired = int(obj, "/status/desiredNumberScheduled").unwrap_or(0);
            let updated = int(obj, "/status/updatedNumberScheduled").unwrap_or(0);
            let available = int(obj, "/status/numberAvailable").unwrap_or(0);
            if updated < desired || available < desired {
                return Health::InProgress(format!(
                    "{available} of {desired} pods available, {updated} updated"
                ));
            }
            Health::Current
        }
        "Job" => {
            if cond_status(obj, "Failed").as_deref() == Some("True") {
                return Health::Failed(cond_text(obj, "Failed"));
            }
            if cond_status(obj, "Complete").as_deref() == Some("True") {
                return Health::Current;
            }
            Health::InProgress("job not complete".into())
        }
        "CustomResourceDefinition" => match cond_status(obj, "Established").as_deref() {
            Some("True") => Health::Current,
            _ => Health::InProgress("not Established yet".into()),
        },
        "Namespace" => match obj.pointer("/status/phase").and_then(Json::as_str) {
            Some("Active") | None => Health::Current,
            Some(p) => Health::InProgress(format!("phase {p}")),
        },
        "PersistentVolumeClaim" => match obj.pointer("/status/phase").and_then(Json::as_str) {
            Some("Bound") => Health::Current,
            Some("Lost") => Health::Failed("phase Lost".into()),
            p => Health::InProgress(format!("phase {}", p.unwrap_or("Pending"))),
        },
        _ => match cond_status(obj, "Ready").as_deref() {
            Some("True") | None => Health::Current,
            Some("False") if cond_text(obj, "Ready").contains("Failed") => {
                Health::Failed(cond_text(obj, "Ready"))
            }
            Some(_) => Health::InProgress(cond_text(obj, "Ready")),
        },
    }
}

/// Whether kstatus rules say anything about this kind (others are Current once applied).
pub fn is_checked(kind: &str) -> bool {
    matches!(
        kind,
        "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "Job"
            | "CustomResourceDefinition"
            | "Namespace"
            | "PersistentVolumeClaim"
    )
}

/// An object to wait for: a label for messages, its collection URL and its name.
#[derive(Clone, Debug)]
pub struct Watched {
    pub label: String,
    pub collection: String,
    pub name: String,
}

/// Reads the current state of `objects`: one LIST per collection holding several of them,
/// single GETs otherwise.
async fn read_all(api: &Api, objects: &[Watched]) -> Vec<Health> {
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for o in objects {
        *counts.entry(o.collection.as_str()).or_default() += 1;
    }
    let bulk: Vec<&str> = counts
        .iter()
        .filter(|(_, n)| **n >= 8)
        .map(|(c, _)| *c)
        .collect();
    let lists = futures::future::join_all(bulk.iter().map(|c| api.list_all(c, None))).await;
    let mut listed: std::collections::HashMap<&str, std::collections::HashMap<String, Json>> =
        std::collections::HashMap::new();
    for (c, l) in bulk.iter().zip(lists) {
        if let Ok(items) = l {
            let by_name = items
                .into_iter()
                .filter_map(|o| Some((o.pointer("/metadata/name")?.as_str()?.to_string(), o)))
                .collect();
            listed.insert(c, by_name);
        }
    }
    let listed = &listed;
    futures::future::join_all(objects.iter().map(|o| async move {
        match listed.get(o.collection.as_str()) {
            Some(objs) => match objs.get(&o.name) {
                Some(obj) => health(obj),
                None => Health::Failed("not found after apply".into()),
            },
            None => match api.get(&format!("{}/{}", o.collection, o.name)).await {
                Ok(obj) => health(&obj),
                Err(e) if e.is_not_found() => Health::Failed("not found after apply".into()),
                Err(e) => Health::InProgress(format!("cannot read it: {}", e.message)),
            },
        }
    }))
    .await
}

/// Polls `objects` until all are Current, any is Failed, or `timeout` passes. Returns the
/// objects that are not Current, with their reason. `progress` hears how many are still
/// waited for, every few seconds.
pub async fn wait(
    api: &Api,
    objects: Vec<Watched>,
    timeout: Duration,
    progress: &(dyn Fn(&str) + Sync),
) -> Vec<(String, String)> {
    let start = Instant::now();
    let mut pending = objects;
    let mut last_report = Instant::now();
    loop {
        let states = read_all(api, &pending).await;
        let mut still = Vec::new();
        let mut failed = Vec::new();
        for (o, h) in pending.into_iter().zip(states) {
            match h {
                Health::Current => {}
                Health::InProgress(why) => still.push((o, why)),
                Health::Failed(why) => failed.push((o.label, why)),
            }
        }
        if !failed.is_empty() {
            failed.extend(still.into_iter().map(|(o, w)| (o.label, w)));
            return failed;
        }
        if still.is_empty() {
            return Vec::new();
        }
        if start.elapsed() >= timeout {
            return still
                .into_iter()
                .map(|(o, w)| (o.label, format!("timed out: {w}")))
                .collect();
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            progress(&format!(
                "waiting for {} object(s) to become healthy: {}",
                still.len(),
                still
                    .iter()
                    .take(5)
                    .map(|(o, w)| format!("{} ({w})", o.label))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            last_report = Instant::now();
        }
        pending = still.into_iter().map(|(o, _)| o).collect();
        let left = timeout.saturating_sub(start.elapsed());
        tokio::time::sleep(Duration::from_millis(500).min(left)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_rules() {
        let d = json!({"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}});
        assert_eq!(health(&d), Health::Current);
        let old = json!({"kind": "Deployment", "metadata": {"generation": 3}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2}});
        assert!(matches!(health(&old), Health::InProgress(_)));
        let stuck = json!({"kind": "Deployment", "metadata": {"generation": 1}, "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "conditions": [{"type": "Progressing", "status": "False",
            "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet has timed out progressing."}]}});
        match health(&stuck) {
            Health::Failed(m) => assert!(m.contains("ProgressDeadlineExceeded"), "{m}"),
            h => panic!("{h:?}"),
        }
    }

    #[test]
    fn jobs_crds_and_namespaces() {
        let done = json!({"kind": "Job", "status": {"conditions": [{"type": "Complete", "status": "True"}]}});
        assert_eq!(health(&done), Health::Current);
        let failed = json!({"kind": "Job", "status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}});
        assert!(matches!(health(&failed), Health::Failed(_)));
        let crd = json!({"kind": "CustomResourceDefinition", "status": {"conditions": [{"type": "Established", "status": "True"}]}});
        assert_eq!(health(&crd), Health::Current);
        let ns = json!({"kind": "Namespace", "status": {"phase": "Terminating"}});
        assert!(matches!(health(&ns), Health::InProgress(_)));
    }
}
