//! Executing a plan: staged server-side apply, ApplySet inventory, prune, health wait.
//!
//! Owns: writing exactly the plan's creates and updates (never unchanged objects), stage by
//! stage (prerequisites, then waiting for CRDs Established and Namespaces Active, then
//! classes, then the rest); recording membership on the parent Secret before writing and again
//! after pruning; pruning inventory members no longer rendered, in reverse order, only when
//! every write succeeded and the render is not empty; a failed delete stays in the inventory.
//! Must not: decide actions (the plan did) or print (progress goes through a callback).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value as Json;

use crate::manifest::ObjectRef;
use crate::plan::{Action, Plan, Stage};

use super::ClusterError;
use super::api::{APPLY_PATCH, Api};
use super::discovery::{Discovery, Resource};
use super::health;
use super::inventory;
use super::observe::{FIELD_MANAGER, LiveState, Target};

/// What happened to one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Configured,
    Unchanged,
    Pruned,
    Failed,
    Skipped,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Configured => "configured",
            Outcome::Unchanged => "unchanged",
            Outcome::Pruned => "pruned",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }
}

#[derive(Clone, Debug)]
pub struct ObjectResult {
    pub id: ObjectRef,
    pub outcome: Outcome,
    /// The server's message for a failure, or the reason for a skip.
    pub message: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct ApplyResult {
    pub objects: Vec<ObjectResult>,
    /// Objects not healthy when the wait ended, with their state.
    pub unhealthy: Vec<(String, String)>,
    pub duration: Duration,
}

impl ApplyResult {
    pub fn count(&self, o: Outcome) -> usize {
        self.objects.iter().filter(|r| r.outcome == o).count()
    }

    pub fn failed(&self) -> bool {
        self.count(Outcome::Failed) > 0
    }

    pub fn healthy(&self) -> bool {
        self.unhealthy.is_empty()
    }
}

#[derive(Clone, Debug)]
pub struct ExecuteOptions {
    pub prune: bool,
    pub allow_empty: bool,
    pub force_conflicts: bool,
    pub timeout: Duration,
    pub wait: bool,
}

fn key(id: &ObjectRef) -> (String, String, Option<String>, String) {
    (
        id.group.to_string(),
        id.kind.to_string(),
        id.namespace.as_ref().map(|n| n.to_string()),
        id.name.to_string(),
    )
}

/// Runs the plan. `progress` receives human progress lines.
pub async fn execute(
    api: &Api,
    plan: &Plan,
    live: &mut LiveState,
    opts: &ExecuteOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<ApplyResult, ClusterError> {
    let start = Instant::now();
    let mut result = ApplyResult::default();

    // Record membership before the first write, so an interrupted run can still be pruned.
    let (gks, nss) = super::observe::membership(&live.targets);
    let mut all_gks: BTreeSet<String> = live.recorded.group_kinds.union(&gks).cloned().collect();
    let mut all_nss: BTreeSet<String> = live.recorded.namespaces.union(&nss).cloned().collect();
    for (id, _, _) in &live.orphans {
        all_gks.insert(inventory::group_kind(&id.group, &id.kind));
        if let Some(ns) = &id.namespace {
            all_nss.insert(ns.to_string());
        }
    }
    write_parent(api, live, &all_gks, &all_nss).await?;

    for stage in [Stage::Prerequisites, Stage::Classes, Stage::Rest] {
        let changes: Vec<_> = plan
            .changes
            .iter()
            .filter(|c| c.stage == stage && !matches!(c.action, Action::Prune))
            .collect();
        if changes.is_empty() {
            continue;
        }
        // Pending objects may need kinds that only exist now: refresh discovery once.
        if changes.iter().any(|c| c.pending.is_some()) {
            let gvs: BTreeSet<(String, String)> = changes
                .iter()
                .filter(|c| c.pending.is_some())
                .map(|c| (c.id.group.to_string(), c.id.version.to_string()))
                .collect();
            let fresh = Discovery::fetch(api, &gvs)
                .await
                .map_err(ClusterError::from_api)?;
            for c in &changes {
                if let Some(t) = live.targets.iter_mut().find(|t| t.id == c.id)
                    && t.resource.is_none()
                {
                    t.resource = fresh
                        .resource(&t.id.group, &t.id.version, &t.id.kind)
                        .cloned();
                }
            }
        }
        let targets: std::collections::HashMap<_, &Target> =
            live.targets.iter().map(|t| (key(&t.id), t)).collect();
        let writes: Vec<_> = changes
            .iter()
            .map(|c| {
                let t = targets.get(&key(&c.id)).copied();
                async move {
                    match (&c.action, t) {
                        (Action::Create | Action::Update, Some(t)) => {
                            let r = apply_one(api, t, opts.force_conflicts).await;
                            let outcome = if c.action == Action::Create {
                                Outcome::Created
                            } else {
                                Outcome::Configured
                            };
                            match r {
                                Ok(()) => ObjectResult {
                                    id: c.id.clone(),
                                    outcome,
                                    message: None,
                                },
                                Err(m) => ObjectResult {
                                    id: c.id.clone(),
                                    outcome: Outcome::Failed,
                                    message: Some(m),
                                },
                            }
                        }
                        (Action::Unchanged, _) => ObjectResult {
                            id: c.id.clone(),
                            outcome: Outcome::Unchanged,
                            message: None,
                        },
                        (Action::Blocked(why), _) => ObjectResult {
                            id: c.id.clone(),
                            outcome: Outcome::Failed,
                            message: Some(why.clone()),
                        },
                        (Action::Skip(why), _) => ObjectResult {
                            id: c.id.clone(),
                            outcome: Outcome::Skipped,
                            message: Some(why.clone()),
                        },
                        _ => ObjectResult {
                            id: c.id.clone(),
                            outcome: Outcome::Failed,
                            message: Some("no rendered object for this change".into()),
                        },
                    }
                }
            })
            .collect();
        let stage_results: Vec<ObjectResult> = futures::stream::iter(writes)
            .buffer_unordered(64)
            .collect()
            .await;
        let written = stage_results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Created | Outcome::Configured))
            .count();
        if written > 0 {
            progress(&format!("{stage:?}: {written} object(s) applied"));
        }
        if stage == Stage::Prerequisites {
            // CRDs must be Established and Namespaces Active before their users are applied.
            let waits: Vec<health::Watched> = stage_results
                .iter()
                .filter(|r| matches!(r.outcome, Outcome::Created | Outcome::Configured))
                .filter(|r| matches!(r.id.kind.as_str(), "CustomResourceDefinition" | "Namespace"))
                .filter_map(|r| targets.get(&key(&r.id)).copied().and_then(watched))
                .collect();
            if !waits.is_empty() {
                let not_ready = health::wait(
                    api,
                    waits,
                    opts.timeout.min(Duration::from_secs(120)),
                    progress,
                )
                .await;
                for (label, why) in not_ready {
                    result.unhealthy.push((label, why));
                }
            }
        }
        result.objects.extend(stage_results);
    }

    // Prune: only when everything else succeeded and the render is not empty.
    let failed = result.failed();
    let prunes: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Prune)
        .collect();
    let mut kept_gks = gks.clone();
    let mut kept_nss = nss.clone();
    let skip_reason = if !opts.prune {
        Some("prune is disabled (--no-prune or prune: false)".to_string())
    } else if failed {
        Some("not pruned: some objects failed to apply".to_string())
    } else if live.targets.is_empty() && !opts.allow_empty {
        Some("not pruned: the render is empty (use --allow-empty)".to_string())
    } else {
        None
    };
    if let Some(why) = &skip_reason {
        for c in &prunes {
            result.objects.push(ObjectResult {
                id: c.id.clone(),
                outcome: Outcome::Skipped,
                message: Some(why.clone()),
            });
            kept_gks.insert(inventory::group_kind(&c.id.group, &c.id.kind));
            if let Some(ns) = &c.id.namespace {
                kept_nss.insert(ns.to_string());
            }
        }
    } else {
        // Prunes are already in reverse dependency order in the plan; delete them one by one.
        for c in &prunes {
            let Some((_, res, _)) = live.orphans.iter().find(|(id, _, _)| *id == c.id) else {
                continue;
            };
            match delete_one(api, res, &c.id).await {
                Ok(()) => result.objects.push(ObjectResult {
                    id: c.id.clone(),
                    outcome: Outcome::Pruned,
                    message: None,
                }),
                Err(m) => {
                    kept_gks.insert(inventory::group_kind(&c.id.group, &c.id.kind));
                    if let Some(ns) = &c.id.namespace {
                        kept_nss.insert(ns.to_string());
                    }
                    result.objects.push(ObjectResult {
                        id: c.id.clone(),
                        outcome: Outcome::Failed,
                        message: Some(m),
                    });
                }
            }
        }
        if result.count(Outcome::Pruned) > 0 {
            progress(&format!(
                "pruned {} object(s)",
                result.count(Outcome::Pruned)
            ));
        }
    }
    // Skipped prunes (opted out) stay recorded so a later run still sees them.
    for c in plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Skip(_)) && c.rendered.is_none())
    {
        kept_gks.insert(inventory::group_kind(&c.id.group, &c.id.kind));
        if let Some(ns) = &c.id.namespace {
            kept_nss.insert(ns.to_string());
        }
    }
    write_parent(api, live, &kept_gks, &kept_nss).await?;

    if opts.wait && !result.failed() {
        let checks: Vec<health::Watched> = live
            .targets
            .iter()
            .filter(|t| health::is_checked(&t.id.kind))
            .filter_map(watched)
            .collect();
        let elapsed = start.elapsed();
        let left = opts.timeout.saturating_sub(elapsed);
        if !checks.is_empty() {
            progress(&format!(
                "waiting up to {}s for {} object(s) to become healthy",
                left.as_secs(),
                checks.len()
            ));
            result
                .unhealthy
                .extend(health::wait(api, checks, left, progress).await);
        }
    }
    result.duration = start.elapsed();
    Ok(result)
}

fn watched(t: &Target) -> Option<health::Watched> {
    let r = t.resource.as_ref()?;
    Some(health::Watched {
        label: t.id.to_string(),
        collection: r.collection(t.id.namespace.as_deref()),
        name: t.id.name.to_string(),
    })
}

async fn apply_one(api: &Api, t: &Target, force: bool) -> Result<(), String> {
    let Some(res) = &t.resource else {
        return Err(format!(
            "the cluster does not serve {} {}",
            t.id.api_version(),
            t.id.kind
        ));
    };
    let path = format!(
        "{}?fieldManager={FIELD_MANAGER}&force={force}",
        res.object(t.id.namespace.as_deref(), &t.id.name)
    );
    api.patch(&path, APPLY_PATCH, &t.body)
        .await
        .map(|_| ())
        .map_err(|e| format!("{} ({}): {}", e.reason, e.code, e.message))
}

async fn delete_one(api: &Api, res: &Resource, id: &ObjectRef) -> Result<(), String> {
    let body = serde_json::json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"});
    match api
        .delete(&res.object(id.namespace.as_deref(), &id.name), Some(&body))
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(format!("{} ({}): {}", e.reason, e.code, e.message)),
    }
}

async fn write_parent(
    api: &Api,
    live: &LiveState,
    gks: &BTreeSet<String>,
    nss: &BTreeSet<String>,
) -> Result<(), ClusterError> {
    let parent: Json = live.applyset.parent(gks, nss);
    let path = format!(
        "{}?fieldManager={FIELD_MANAGER}&force=true",
        live.applyset.parent_path()
    );
    match api.patch(&path, APPLY_PATCH, &parent).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Err(ClusterError::Api(format!(
            "cannot write the inventory Secret {}/{}: namespace `{}` does not exist",
            live.applyset.namespace, live.applyset.name, live.applyset.namespace
        ))),
        Err(e) => Err(ClusterError::from_api(e)),
    }
}

/// True when executing `plan` would write anything: an object, a prune, or the inventory.
/// A run with nothing to change sends no write at all (not even the lock).
pub fn needs_writes(plan: &Plan, live: &LiveState) -> bool {
    let (gks, nss) = super::observe::membership(&live.targets);
    plan.changes.iter().any(|c| {
        matches!(
            c.action,
            Action::Create | Action::Update | Action::Prune | Action::Blocked(_)
        )
    }) || !live.recorded.exists
        || !gks.is_subset(&live.recorded.group_kinds)
        || !nss.is_subset(&live.recorded.namespaces)
}

/// The result of a run that had nothing to write: every object unchanged or skipped, then
/// the health wait.
pub async fn verify_only(
    api: &Api,
    plan: &Plan,
    live: &LiveState,
    timeout: Duration,
    progress: &(dyn Fn(&str) + Sync),
) -> ApplyResult {
    let start = Instant::now();
    let objects = plan
        .changes
        .iter()
        .map(|c| match &c.action {
            Action::Skip(why) => ObjectResult {
                id: c.id.clone(),
                outcome: Outcome::Skipped,
                message: Some(why.clone()),
            },
            _ => ObjectResult {
                id: c.id.clone(),
                outcome: Outcome::Unchanged,
                message: None,
            },
        })
        .collect();
    let checks: Vec<health::Watched> = live
        .targets
        .iter()
        .filter(|t| health::is_checked(&t.id.kind))
        .filter_map(watched)
        .collect();
    let unhealthy = if checks.is_empty() {
        Vec::new()
    } else {
        health::wait(api, checks, timeout, progress).await
    };
    ApplyResult {
        objects,
        unhealthy,
        duration: start.elapsed(),
    }
}
