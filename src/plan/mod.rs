//! Pure planning: from rendered objects and what the cluster (or another revision) holds, to a
//! [`Plan`] of changes, each with its action, its masked diff and its apply stage.
//!
//! Owns: normalizing objects before comparing them, masking Secret values, unified YAML diffs,
//! deciding actions (create, update, unchanged, prune, skip, blocked) and ordering stages.
//! Must not: do I/O of any kind (no cluster, no files, no printing).

mod diff;
mod mask;
mod normalize;

use serde_json::Value as Json;

use crate::manifest::ObjectRef;
use crate::manifest::object::kind_rank;

pub use diff::unified;
pub use mask::{mask_secret_pair, secret_values};
pub use normalize::normalize;

/// What apply will do with one object.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Create,
    Update,
    Unchanged,
    Prune,
    /// Not applied, for a reason that is not an error (opted out of prune, protected kind).
    Skip(String),
    /// Cannot be applied as planned (the dry-run was refused, the kind is unknown).
    Blocked(String),
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
            Action::Prune => "delete",
            Action::Skip(_) => "skip",
            Action::Blocked(_) => "blocked",
        }
    }

    pub fn is_change(&self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Prune)
    }
}

/// Apply stages: prerequisites first, then classes, then everything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// CRDs, Namespaces, ClusterRoles: waited for (Established, Active) before the next stage.
    Prerequisites,
    /// StorageClass, IngressClass, PriorityClass, RuntimeClass, GatewayClass...
    Classes,
    Rest,
}

pub fn stage_of(group: &str, kind: &str) -> Stage {
    match (group, kind) {
        ("apiextensions.k8s.io", "CustomResourceDefinition")
        | ("", "Namespace")
        | ("rbac.authorization.k8s.io", "ClusterRole") => Stage::Prerequisites,
        (_, k) if k.ends_with("Class") => Stage::Classes,
        _ => Stage::Rest,
    }
}

/// One object's planned change.
#[derive(Clone, Debug)]
pub struct Change {
    pub id: ObjectRef,
    pub action: Action,
    /// Unified YAML diff with Secret values masked; empty when unchanged.
    pub diff: String,
    /// Index of the rendered object, when there is one (not for prunes).
    pub rendered: Option<usize>,
    pub stage: Stage,
    /// The object will only exist once its CRD or namespace from this run exists.
    pub pending: Option<String>,
    /// Where the object was declared (`path:line`), for reports.
    pub source: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub environment: String,
    pub changes: Vec<Change>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub unchanged: usize,
    pub skipped: usize,
    pub blocked: usize,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Prune => s.delete += 1,
                Action::Unchanged => s.unchanged += 1,
                Action::Skip(_) => s.skipped += 1,
                Action::Blocked(_) => s.blocked += 1,
            }
        }
        s
    }

    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action.is_change())
    }

    /// Sorts into apply order: stage, kind order, namespace, name; prunes last in reverse.
    pub fn order(&mut self) {
        self.changes.sort_by(|a, b| {
            let prune = |c: &Change| matches!(c.action, Action::Prune);
            prune(a).cmp(&prune(b)).then_with(|| {
                if prune(a) && prune(b) {
                    // Prune in reverse dependency order.
                    key(b).cmp(&key(a))
                } else {
                    key(a).cmp(&key(b))
                }
            })
        });
    }
}

fn key(c: &Change) -> (Stage, i32, String, String, String) {
    (
        c.stage,
        kind_rank(&c.id.kind),
        c.id.kind.to_string(),
        c.id.namespace.as_deref().unwrap_or("").to_string(),
        c.id.name.to_string(),
    )
}

/// Compares a desired object with the current one (both already normalized) and returns the
/// action and masked diff. `current` is `None` when the object does not exist.
pub fn compare(id: &ObjectRef, current: Option<&Json>, desired: &Json) -> (Action, String) {
    let (before, after) = match current {
        None => (None, desired.clone()),
        Some(c) => (Some(c.clone()), desired.clone()),
    };
    let (before, after) = if id.kind == "Secret" && id.group.is_empty() {
        mask_secret_pair(before.as_ref(), Some(&after))
    } else {
        (before, Some(after))
    };
    let before_text = before.as_ref().map(to_yaml).unwrap_or_default();
    let after_text = after.as_ref().map(to_yaml).unwrap_or_default();
    if current.is_some() && before_text == after_text {
        return (Action::Unchanged, String::new());
    }
    let action = if current.is_none() {
        Action::Create
    } else {
        Action::Update
    };
    (action, unified(&before_text, &after_text))
}

/// The diff shown for an object about to be deleted.
pub fn removal(id: &ObjectRef, current: &Json) -> String {
    let before = if id.kind == "Secret" && id.group.is_empty() {
        mask_secret_pair(Some(current), None).0
    } else {
        Some(current.clone())
    };
    unified(&before.as_ref().map(to_yaml).unwrap_or_default(), "")
}

/// YAML text of a JSON value, keys sorted, as kubectl prints objects.
pub fn to_yaml(v: &Json) -> String {
    crate::manifest::emit::to_string(&crate::manifest::Node::from_json(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(kind: &str) -> ObjectRef {
        ObjectRef {
            group: "".into(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: Some("ns".into()),
            name: "x".into(),
        }
    }

    #[test]
    fn compare_decides_actions() {
        let a = json!({"data": {"k": "1"}});
        let b = json!({"data": {"k": "2"}});
        assert_eq!(compare(&id("ConfigMap"), Some(&a), &a).0, Action::Unchanged);
        let (act, d) = compare(&id("ConfigMap"), Some(&a), &b);
        assert_eq!(act, Action::Update);
        assert!(
            d.contains("-  k: \"1\"") && d.contains("+  k: \"2\""),
            "{d}"
        );
        assert_eq!(compare(&id("ConfigMap"), None, &a).0, Action::Create);
    }

    #[test]
    fn secret_values_never_appear_in_diffs() {
        let before =
            json!({"kind": "Secret", "data": {"password": "aHVudGVyMg==", "same": "eA=="}});
        let after = json!({"kind": "Secret", "data": {"password": "czNjcjN0", "same": "eA==", "new": "bmV3"}});
        let (act, d) = compare(&id("Secret"), Some(&before), &after);
        assert_eq!(act, Action::Update);
        for secret in ["aHVudGVyMg==", "czNjcjN0", "bmV3", "eA==", "hunter2"] {
            assert!(!d.contains(secret), "{secret} leaked:\n{d}");
        }
        assert!(
            d.contains("*** (before)") && d.contains("*** (after)"),
            "{d}"
        );
        assert!(
            d.contains("+  new: '***'") || d.contains("+  new: \"***\""),
            "{d}"
        );
        let r = removal(&id("Secret"), &before);
        assert!(!r.contains("aHVudGVyMg=="), "{r}");
    }

    #[test]
    fn stages_and_order() {
        assert_eq!(
            stage_of("apiextensions.k8s.io", "CustomResourceDefinition"),
            Stage::Prerequisites
        );
        assert_eq!(stage_of("storage.k8s.io", "StorageClass"), Stage::Classes);
        assert_eq!(stage_of("apps", "Deployment"), Stage::Rest);
    }
}

/// What is known about one object before planning (from the cluster or another revision).
#[derive(Clone, Debug)]
pub struct Observation {
    pub id: ObjectRef,
    pub rendered: Option<usize>,
    pub source: Option<String>,
    /// The object as it exists now, if it does.
    pub current: Option<Json>,
    pub desired: Desired,
}

#[derive(Clone, Debug)]
pub enum Desired {
    /// The object as it will be after apply (a server-side dry-run result, or rendered).
    Object(Json),
    /// It can only be created once a CRD or namespace from this run exists; shown as rendered.
    Pending { reason: String, rendered: Json },
    /// The dry-run was refused (admission, immutable field, validation, unknown kind).
    Refused(String),
    /// No longer rendered: delete it, unless `keep` says why not.
    Remove { keep: Option<String> },
}

/// Builds the plan from observations, in apply order.
pub fn build(environment: &str, observations: Vec<Observation>) -> Plan {
    let mut changes = Vec::with_capacity(observations.len());
    for o in observations {
        let stage = stage_of(&o.id.group, &o.id.kind);
        let current = o.current.as_ref().map(normalize);
        let (action, diff, pending) = match &o.desired {
            Desired::Object(d) => {
                let (a, diff) = compare(&o.id, current.as_ref(), &normalize(d));
                (a, diff, None)
            }
            Desired::Pending { reason, rendered } => {
                let (_, diff) = compare(&o.id, None, &normalize(rendered));
                (Action::Create, diff, Some(reason.clone()))
            }
            Desired::Refused(why) => (Action::Blocked(why.clone()), String::new(), None),
            Desired::Remove { keep: Some(why) } => (Action::Skip(why.clone()), String::new(), None),
            Desired::Remove { keep: None } => match &current {
                Some(c) => (Action::Prune, removal(&o.id, c), None),
                None => continue,
            },
        };
        changes.push(Change {
            id: o.id,
            action,
            diff,
            rendered: o.rendered,
            stage,
            pending,
            source: o.source,
        });
    }
    let mut plan = Plan {
        environment: environment.to_string(),
        changes,
    };
    plan.order();
    plan
}
