//! Output order: kustomize's legacy kind order (its default) or first-in-first-out.
//!
//! Owns: the legacy order tables and comparison (kind rank, then `group_version_kind`, then
//! `namespace|name`, with kustomize's `~G`, `~X` placeholders for empty parts).
//! Must not: change objects.

use std::cmp::Ordering;

use super::file::SortOptions;
use super::{Res, ResId};

const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

const ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

pub fn default_legacy() -> SortOptions {
    SortOptions::Legacy {
        order_first: ORDER_FIRST.iter().map(|s| s.to_string()).collect(),
        order_last: ORDER_LAST.iter().map(|s| s.to_string()).collect(),
    }
}

fn gvk_string(id: &ResId) -> String {
    let or = |s: &str, d: &str| {
        if s.is_empty() {
            d.to_string()
        } else {
            s.to_string()
        }
    };
    format!(
        "{}_{}_{}",
        or(&id.group, "~G"),
        or(&id.version, "~V"),
        or(&id.kind, "~K")
    )
}

fn id_string(id: &ResId) -> String {
    let ns = if id.namespace.is_empty() {
        "~X"
    } else {
        &id.namespace
    };
    let name = if id.name.is_empty() { "~N" } else { &id.name };
    format!("{ns}|{name}")
}

pub fn legacy_sort(ra: &mut Vec<Res>, first: &[String], last: &[String]) {
    let rank = |kind: &str| -> i64 {
        if let Some(i) = first.iter().position(|k| k == kind) {
            return i as i64 - first.len() as i64;
        }
        if let Some(i) = last.iter().position(|k| k == kind) {
            return i as i64 + 1;
        }
        0
    };
    let mut keyed: Vec<(i64, String, String, Res)> = std::mem::take(ra)
        .into_iter()
        .map(|r| {
            let id = r.cur_id();
            (rank(&id.kind), gvk_string(&id), id_string(&id), r)
        })
        .collect();
    keyed.sort_by(|a, b| match a.0.cmp(&b.0) {
        Ordering::Equal => a.1.cmp(&b.1).then_with(|| a.2.cmp(&b.2)),
        o => o,
    });
    ra.extend(keyed.into_iter().map(|k| k.3));
}
