//! Server-side apply, as a faithful simplification of structured-merge-diff: splitting an object
//! into tracked content and system fields, merging an applied configuration into the live
//! object, computing a configuration's field set, comparing two objects, pruning fields a
//! manager stopped applying, detecting conflicts with other managers, and the ownership
//! bookkeeping of Update operations (create, update, patch). Pure functions over JSON values;
//! must not touch the store, clocks or counters (callers pass `now`).

use serde_json::{Map, Value};

use crate::fields::{FieldPath, FieldSet, ManagedEntry, owns_at_or_below};
use crate::schema::{ListType, Schema, item_key_element, set_element};

/// Metadata keys the server owns; never part of a field set and never merged from a request.
const SYSTEM_META: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "generateName",
];

/// Order of metadata keys in stored objects (what the real server emits).
const META_ORDER: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// The tracked content of an object: everything but apiVersion, kind, status and system
/// metadata. `metadata` is kept only when it has tracked keys.
pub(crate) fn tracked(obj: &Value) -> Value {
    let mut out = Map::new();
    if let Value::Object(m) = obj {
        for (k, v) in m {
            match k.as_str() {
                "apiVersion" | "kind" | "status" => {}
                "metadata" => {
                    if let Value::Object(meta) = v {
                        let kept: Map<String, Value> = meta
                            .iter()
                            .filter(|(k, _)| !SYSTEM_META.contains(&k.as_str()))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        if !kept.is_empty() {
                            out.insert("metadata".into(), Value::Object(kept));
                        }
                    }
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
    }
    Value::Object(out)
}

/// Rebuild a full object from tracked content plus the untracked parts of `base`
/// (apiVersion, kind, system metadata, status).
pub(crate) fn join(tracked: &Value, base: &Value) -> Value {
    let mut out = Map::new();
    for k in ["apiVersion", "kind"] {
        if let Some(v) = base.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    let mut meta_all = Map::new();
    if let Some(Value::Object(bm)) = base.get("metadata") {
        for (k, v) in bm {
            if SYSTEM_META.contains(&k.as_str()) {
                meta_all.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(Value::Object(tm)) = tracked.get("metadata") {
        for (k, v) in tm {
            meta_all.insert(k.clone(), v.clone());
        }
    }
    let mut meta = Map::new();
    for k in META_ORDER {
        if let Some(v) = meta_all.remove(*k) {
            meta.insert((*k).into(), v);
        }
    }
    meta.extend(meta_all);
    out.insert("metadata".into(), Value::Object(meta));
    if let Value::Object(tm) = tracked {
        for (k, v) in tm {
            if k != "metadata" {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(s) = base.get("status") {
        out.insert("status".into(), s.clone());
    }
    Value::Object(out)
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn list_keys(items: &[Value], keys: &[(String, Option<Value>)]) -> Option<Vec<String>> {
    items
        .iter()
        .map(|i| item_key_element(i, keys))
        .collect::<Option<Vec<String>>>()
}

/// The field set of an applied configuration (tracked content).
pub(crate) fn field_set(cfg: &Value, schema: &Schema) -> FieldSet {
    let mut out = FieldSet::new();
    let mut path = FieldPath::new();
    let mut names = Vec::new();
    walk_set(cfg, &mut path, &mut names, schema, false, &mut out);
    out
}

/// Walk a value, adding its members. `mark_maps` adds non-empty maps below the top level as
/// members too (what Update operations record for newly created maps).
fn walk_set<'v>(
    v: &'v Value,
    path: &mut FieldPath,
    names: &mut Vec<&'v str>,
    schema: &Schema,
    mark_maps: bool,
    out: &mut FieldSet,
) {
    match v {
        Value::Object(m) => {
            if !names.is_empty() && schema.map_atomic(names) {
                out.insert(path.clone());
                return;
            }
            if m.is_empty()
                || (mark_maps
                    && path.len() >= 2
                    && !path.last().is_some_and(|e| e.starts_with("k:")))
            {
                if !path.is_empty() {
                    out.insert(path.clone());
                }
                if m.is_empty() {
                    return;
                }
            }
            for (k, c) in m {
                path.push(format!("f:{k}"));
                names.push(k.as_str());
                walk_set(c, path, names, schema, mark_maps, out);
                names.pop();
                path.pop();
            }
        }
        Value::Array(items) => match schema.list_type(names) {
            ListType::Map(keys) => match list_keys(items, &keys) {
                Some(ks) => {
                    for (item, k) in items.iter().zip(ks) {
                        path.push(k);
                        out.insert(path.clone());
                        if let Value::Object(m) = item {
                            for (f, c) in m {
                                path.push(format!("f:{f}"));
                                names.push(f.as_str());
                                walk_set(c, path, names, schema, mark_maps, out);
                                names.pop();
                                path.pop();
                            }
                        }
                        path.pop();
                    }
                }
                None => {
                    out.insert(path.clone());
                }
            },
            ListType::Set => {
                for item in items {
                    path.push(set_element(item));
                    out.insert(path.clone());
                    path.pop();
                }
            }
            ListType::Atomic => {
                out.insert(path.clone());
            }
        },
        _ => {
            if !path.is_empty() {
                out.insert(path.clone());
            }
        }
    }
}

/// Merge an applied configuration into live content (both tracked content).
pub(crate) fn merge(live: &Value, cfg: &Value, schema: &Schema) -> Value {
    let mut names = Vec::new();
    merge_rec(Some(live), cfg, &mut names, schema)
}

fn merge_rec<'v>(
    live: Option<&'v Value>,
    cfg: &'v Value,
    names: &mut Vec<&'v str>,
    schema: &Schema,
) -> Value {
    match (live, cfg) {
        (Some(Value::Object(l)), Value::Object(c))
            if names.is_empty() || !schema.map_atomic(names) =>
        {
            let mut out = l.clone();
            for (k, cv) in c {
                if cv.is_null() {
                    out.remove(k);
                    continue;
                }
                names.push(k.as_str());
                let merged = merge_rec(l.get(k), cv, names, schema);
                names.pop();
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Some(Value::Array(l)), Value::Array(c)) => match schema.list_type(names) {
            ListType::Map(keys) => match (list_keys(l, &keys), list_keys(c, &keys)) {
                (Some(lk), Some(ck)) => {
                    let mut out: Vec<Value> = l.clone();
                    let mut out_keys = lk;
                    for (citem, k) in c.iter().zip(ck) {
                        match out_keys.iter().position(|x| *x == k) {
                            Some(pos) => {
                                let merged = match l.get(pos) {
                                    Some(litem) => merge_item(litem, citem, names, schema),
                                    None => strip_nulls(citem),
                                };
                                out[pos] = merged;
                            }
                            None => {
                                out.push(strip_nulls(citem));
                                out_keys.push(k);
                            }
                        }
                    }
                    Value::Array(out)
                }
                _ => strip_nulls(cfg),
            },
            ListType::Set => {
                let mut out = l.clone();
                for item in c {
                    if !out.contains(item) {
                        out.push(item.clone());
                    }
                }
                Value::Array(out)
            }
            ListType::Atomic => strip_nulls(cfg),
        },
        _ => strip_nulls(cfg),
    }
}

fn merge_item<'v>(
    litem: &'v Value,
    citem: &'v Value,
    names: &mut Vec<&'v str>,
    schema: &Schema,
) -> Value {
    match (litem, citem) {
        (Value::Object(l), Value::Object(c)) => {
            let mut out = l.clone();
            for (k, cv) in c {
                if cv.is_null() {
                    out.remove(k);
                    continue;
                }
                names.push(k.as_str());
                let merged = merge_rec(l.get(k), cv, names, schema);
                names.pop();
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        _ => citem.clone(),
    }
}

fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

/// What changed between two versions of tracked content.
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    /// Modified or added members.
    pub changed: FieldSet,
    pub removed: FieldSet,
}

/// Compare two versions of tracked content. `mark_maps` as in [`walk_set`] for added subtrees.
pub(crate) fn compare(old: &Value, new: &Value, schema: &Schema, mark_maps: bool) -> Comparison {
    let mut c = Comparison::default();
    let mut path = FieldPath::new();
    let mut names = Vec::new();
    cmp_rec(
        Some(old),
        Some(new),
        &mut path,
        &mut names,
        schema,
        mark_maps,
        &mut c,
    );
    c
}

#[allow(clippy::too_many_arguments)]
fn cmp_rec<'v>(
    old: Option<&'v Value>,
    new: Option<&'v Value>,
    path: &mut FieldPath,
    names: &mut Vec<&'v str>,
    schema: &Schema,
    mark_maps: bool,
    c: &mut Comparison,
) {
    match (old, new) {
        (None, None) => {}
        (Some(_), None) => {
            c.removed.insert(path.clone());
        }
        (None, Some(n)) => {
            let mut sub = FieldSet::new();
            walk_set(n, path, names, schema, mark_maps, &mut sub);
            if !path.is_empty() && !n.is_object() {
                sub.insert(path.clone());
            }
            c.changed.extend(sub);
        }
        (Some(o), Some(n)) => match (o, n) {
            (Value::Object(om), Value::Object(nm))
                if names.is_empty() || !schema.map_atomic(names) =>
            {
                for (k, nv) in nm {
                    path.push(format!("f:{k}"));
                    names.push(k.as_str());
                    cmp_rec(om.get(k), Some(nv), path, names, schema, mark_maps, c);
                    names.pop();
                    path.pop();
                }
                for k in om.keys() {
                    if !nm.contains_key(k) {
                        path.push(format!("f:{k}"));
                        c.removed.insert(path.clone());
                        path.pop();
                    }
                }
            }
            (Value::Array(oa), Value::Array(na)) => match schema.list_type(names) {
                ListType::Map(keys) => match (list_keys(oa, &keys), list_keys(na, &keys)) {
                    (Some(ok), Some(nk)) => {
                        for (nitem, k) in na.iter().zip(&nk) {
                            let oitem = ok.iter().position(|x| x == k).and_then(|p| oa.get(p));
                            path.push(k.clone());
                            match oitem {
                                None => {
                                    c.changed.insert(path.clone());
                                    cmp_fields(None, nitem, path, names, schema, mark_maps, c);
                                }
                                Some(oi) => {
                                    cmp_fields(Some(oi), nitem, path, names, schema, mark_maps, c)
                                }
                            }
                            path.pop();
                        }
                        for k in &ok {
                            if !nk.contains(k) {
                                path.push(k.clone());
                                c.removed.insert(path.clone());
                                path.pop();
                            }
                        }
                    }
                    _ => {
                        if o != n {
                            c.changed.insert(path.clone());
                        }
                    }
                },
                ListType::Set => {
                    for item in na {
                        if !oa.contains(item) {
                            path.push(set_element(item));
                            c.changed.insert(path.clone());
                            path.pop();
                        }
                    }
                    for item in oa {
                        if !na.contains(item) {
                            path.push(set_element(item));
                            c.removed.insert(path.clone());
                            path.pop();
                        }
                    }
                }
                ListType::Atomic => {
                    if o != n {
                        c.changed.insert(path.clone());
                    }
                }
            },
            _ => {
                if o != n {
                    c.changed.insert(path.clone());
                }
            }
        },
    }
}

/// Compare the fields of two associative-list items (the item path is already pushed).
#[allow(clippy::too_many_arguments)]
fn cmp_fields<'v>(
    old: Option<&'v Value>,
    new: &'v Value,
    path: &mut FieldPath,
    names: &mut Vec<&'v str>,
    schema: &Schema,
    mark_maps: bool,
    c: &mut Comparison,
) {
    let om = old.and_then(Value::as_object);
    if let Value::Object(nm) = new {
        for (k, nv) in nm {
            path.push(format!("f:{k}"));
            names.push(k.as_str());
            cmp_rec(
                om.and_then(|m| m.get(k)),
                Some(nv),
                path,
                names,
                schema,
                mark_maps,
                c,
            );
            names.pop();
            path.pop();
        }
        if let Some(om) = om {
            for k in om.keys() {
                if !nm.contains_key(k) {
                    path.push(format!("f:{k}"));
                    c.removed.insert(path.clone());
                    path.pop();
                }
            }
        }
    }
}

/// Whether `path` ends at a key field of an associative list item (never pruned alone).
fn is_key_field(path: &[String]) -> bool {
    let n = path.len();
    if n < 2 {
        return false;
    }
    let (Some(item), Some(field)) = (
        path[n - 2].strip_prefix("k:"),
        path[n - 1].strip_prefix("f:"),
    ) else {
        return false;
    };
    serde_json::from_str::<Value>(item)
        .ok()
        .and_then(|v| v.get(field).cloned())
        .is_some()
}

/// Remove one member path from tracked content, dropping containers it leaves empty.
pub(crate) fn remove_path(obj: &mut Value, path: &[String]) -> bool {
    remove_rec(obj, path, 0)
}

fn remove_rec(node: &mut Value, els: &[String], depth: usize) -> bool {
    let Some((first, rest)) = els.split_first() else {
        return false;
    };
    let idx = match locate(node, first) {
        Some(i) => i,
        None => return false,
    };
    if rest.is_empty() {
        remove_at(node, &idx);
        return true;
    }
    let Some(child) = child_mut(node, &idx) else {
        return false;
    };
    let removed = remove_rec(child, rest, depth + 1);
    let protected = depth == 0 && (first == "f:metadata" || first == "f:spec");
    if removed && is_empty_container(child) && !protected && !first.starts_with("k:") {
        remove_at(node, &idx);
    }
    removed
}

enum Loc {
    Field(String),
    Index(usize),
}

fn locate(node: &Value, el: &str) -> Option<Loc> {
    if let Some(f) = el.strip_prefix("f:") {
        return node
            .as_object()?
            .contains_key(f)
            .then(|| Loc::Field(f.to_string()));
    }
    let items = node.as_array()?;
    if let Some(k) = el.strip_prefix("k:") {
        let key: Value = serde_json::from_str(k).ok()?;
        let km = key.as_object()?;
        return items
            .iter()
            .position(|item| {
                km.iter().all(|(kk, kv)| match item.get(kk) {
                    Some(v) => v == kv,
                    None => kk == "protocol" && kv == "TCP",
                })
            })
            .map(Loc::Index);
    }
    if let Some(v) = el.strip_prefix("v:") {
        let val: Value = serde_json::from_str(v).ok()?;
        return items.iter().position(|i| *i == val).map(Loc::Index);
    }
    if let Some(i) = el.strip_prefix("i:") {
        let i: usize = i.parse().ok()?;
        return (i < items.len()).then_some(Loc::Index(i));
    }
    None
}

fn child_mut<'a>(node: &'a mut Value, loc: &Loc) -> Option<&'a mut Value> {
    match loc {
        Loc::Field(f) => node.as_object_mut()?.get_mut(f),
        Loc::Index(i) => node.as_array_mut()?.get_mut(*i),
    }
}

fn remove_at(node: &mut Value, loc: &Loc) {
    match loc {
        Loc::Field(f) => {
            if let Some(m) = node.as_object_mut() {
                m.shift_remove(f);
            }
        }
        Loc::Index(i) => {
            if let Some(a) = node.as_array_mut()
                && *i < a.len()
            {
                a.remove(*i);
            }
        }
    }
}

/// One ownership conflict.
#[derive(Debug, Clone)]
pub(crate) struct Conflict {
    /// The other manager, printed as the real server prints it.
    pub manager: String,
    pub path: FieldPath,
}

/// Result of an apply: new tracked content and managed fields.
#[derive(Debug)]
pub(crate) struct Applied {
    pub content: Value,
    pub managed: Vec<ManagedEntry>,
}

/// Input of [`apply`].
pub(crate) struct ApplyRequest<'a> {
    pub live: &'a Value,
    pub managed: Vec<ManagedEntry>,
    pub config: &'a Value,
    pub manager: &'a str,
    pub api_version: &'a str,
    pub force: bool,
    pub now: &'a str,
    /// `Some("status")` when applying to the status subresource.
    pub subresource: Option<&'a str>,
}

fn print_manager(e: &ManagedEntry) -> String {
    let mut s = format!("{:?}", e.manager);
    if let Some(sub) = &e.subresource {
        s.push_str(&format!(" with subresource {sub:?}"));
    }
    if e.operation == "Update" {
        s.push_str(&format!(" using {}", e.api_version));
    }
    s
}

/// Server-side apply of `config` (tracked content) onto `live` (tracked content).
pub(crate) fn apply(req: ApplyRequest<'_>, schema: &Schema) -> Result<Applied, Vec<Conflict>> {
    let ApplyRequest {
        live,
        mut managed,
        config,
        manager,
        api_version,
        force,
        now,
        subresource,
    } = req;
    let status_side = subresource == Some("status");
    let mut merged = merge(live, config, schema);
    let new_set = field_set(config, schema);
    let slot = managed
        .iter()
        .position(|e| e.same_slot(manager, "Apply", subresource));
    let last_set = slot.map(|i| managed[i].fields.clone()).unwrap_or_default();

    let mut others = FieldSet::new();
    for (i, e) in managed.iter().enumerate() {
        if Some(i) != slot {
            others.extend(e.fields.iter().cloned());
        }
    }
    let stale: Vec<&FieldPath> = last_set
        .difference(&new_set)
        .filter(|p| !owns_at_or_below(&others, p) && !is_key_field(p))
        .collect();
    for p in stale.iter().rev() {
        remove_path(&mut merged, p);
    }

    let cmp = compare(live, &merged, schema, false);
    let mut conflicts = Vec::new();
    let mut lost: Vec<(usize, FieldSet)> = Vec::new();
    for (i, e) in managed.iter().enumerate() {
        if Some(i) == slot || (e.subresource.as_deref() == Some("status")) != status_side {
            continue;
        }
        let inter: FieldSet = e.fields.intersection(&cmp.changed).cloned().collect();
        if inter.is_empty() {
            continue;
        }
        for p in &inter {
            conflicts.push(Conflict {
                manager: print_manager(e),
                path: p.clone(),
            });
        }
        lost.push((i, inter));
    }
    if !conflicts.is_empty() && !force {
        conflicts.sort_by(|a, b| a.manager.cmp(&b.manager).then_with(|| a.path.cmp(&b.path)));
        return Err(conflicts);
    }
    for (i, inter) in lost {
        managed[i].fields.retain(|p| !inter.contains(p));
    }

    let content_changed = merged != *live;
    match slot {
        Some(i) => {
            let e = &mut managed[i];
            if e.fields != new_set || content_changed || e.api_version != api_version {
                e.fields = new_set;
                e.time = now.to_string();
                e.api_version = api_version.to_string();
            }
        }
        None => managed.push(ManagedEntry {
            manager: manager.to_string(),
            operation: "Apply".into(),
            api_version: api_version.to_string(),
            time: now.to_string(),
            subresource: subresource.map(str::to_string),
            fields: new_set,
        }),
    }
    managed.retain(|e| !e.fields.is_empty());
    Ok(Applied {
        content: merged,
        managed,
    })
}

/// Ownership bookkeeping of an Update operation (create, update, non-apply patch, status
/// writes): the manager takes every changed field; removed fields are disowned by everyone.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_update(
    old: &Value,
    new: &Value,
    managed: &mut Vec<ManagedEntry>,
    manager: &str,
    api_version: &str,
    subresource: Option<&str>,
    now: &str,
    schema: &Schema,
) {
    let cmp = compare(old, new, schema, true);
    if cmp.changed.is_empty() && cmp.removed.is_empty() {
        return;
    }
    let drop_removed = |set: &mut FieldSet| {
        for r in &cmp.removed {
            set.retain(|p| !p.starts_with(r));
        }
    };
    for e in managed.iter_mut() {
        if e.same_slot(manager, "Update", subresource) {
            continue;
        }
        e.fields.retain(|p| !cmp.changed.contains(p));
        drop_removed(&mut e.fields);
    }
    match managed
        .iter()
        .position(|e| e.same_slot(manager, "Update", subresource))
    {
        Some(i) => {
            let e = &mut managed[i];
            e.fields.extend(cmp.changed.iter().cloned());
            drop_removed(&mut e.fields);
            e.time = now.to_string();
            e.api_version = api_version.to_string();
        }
        None => {
            let mut fields = cmp.changed.clone();
            drop_removed(&mut fields);
            managed.push(ManagedEntry {
                manager: manager.to_string(),
                operation: "Update".into(),
                api_version: api_version.to_string(),
                time: now.to_string(),
                subresource: subresource.map(str::to_string),
                fields,
            });
        }
    }
    managed.retain(|e| !e.fields.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Schema<'static> {
        Schema::new("Deployment", true, None)
    }

    fn p(s: &[&str]) -> FieldPath {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn field_set_of_deployment() {
        let cfg = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"spec": {"containers": [{"name": "app", "image": "nginx", "ports": [{"containerPort": 80}]}]}}}});
        let set = field_set(&cfg, &schema());
        assert!(set.contains(&p(&["f:spec", "f:replicas"])));
        assert!(set.contains(&p(&["f:spec", "f:selector"])));
        assert!(set.contains(&p(&[
            "f:spec",
            "f:template",
            "f:spec",
            "f:containers",
            "k:{\"name\":\"app\"}"
        ])));
        assert!(set.contains(&p(&[
            "f:spec",
            "f:template",
            "f:spec",
            "f:containers",
            "k:{\"name\":\"app\"}",
            "f:ports",
            "k:{\"containerPort\":80,\"protocol\":\"TCP\"}"
        ])));
    }

    #[test]
    fn merge_keyed_lists() {
        let live = json!({"spec": {"containers": [{"name": "a", "image": "x", "tty": true}, {"name": "b", "image": "y"}]}});
        let cfg = json!({"spec": {"containers": [{"name": "a", "image": "z"}]}});
        let m = merge(&live, &cfg, &schema());
        assert_eq!(
            m,
            json!({"spec": {"containers": [{"name": "a", "image": "z", "tty": true}, {"name": "b", "image": "y"}]}})
        );
    }

    #[test]
    fn prune_and_conflict() {
        let live = json!({"spec": {"replicas": 3, "paused": false}});
        let mut other = FieldSet::new();
        other.insert(p(&["f:spec", "f:replicas"]));
        let mut mine = FieldSet::new();
        mine.insert(p(&["f:spec", "f:paused"]));
        let managed = vec![
            ManagedEntry {
                manager: "kubectl-client-side-apply".into(),
                operation: "Update".into(),
                api_version: "apps/v1".into(),
                time: "t".into(),
                subresource: None,
                fields: other,
            },
            ManagedEntry {
                manager: "kubeship".into(),
                operation: "Apply".into(),
                api_version: "apps/v1".into(),
                time: "t".into(),
                subresource: None,
                fields: mine,
            },
        ];
        let cfg = json!({"spec": {"replicas": 5}});
        let req = ApplyRequest {
            live: &live,
            managed: managed.clone(),
            config: &cfg,
            manager: "kubeship",
            api_version: "apps/v1",
            force: false,
            now: "n",
            subresource: None,
        };
        let err = apply(req, &schema()).unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(
            err[0].manager,
            "\"kubectl-client-side-apply\" using apps/v1"
        );
        let req = ApplyRequest {
            live: &live,
            managed,
            config: &cfg,
            manager: "kubeship",
            api_version: "apps/v1",
            force: true,
            now: "n",
            subresource: None,
        };
        let ok = apply(req, &schema()).unwrap();
        assert_eq!(ok.content, json!({"spec": {"replicas": 5}}));
        assert_eq!(ok.managed.len(), 1);
    }
}
