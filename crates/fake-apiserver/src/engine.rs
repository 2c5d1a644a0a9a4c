//! API semantics of object requests, independent of HTTP: get, list, create, update,
//! server-side apply, merge/strategic/JSON patches, delete (with propagation, finalizers and
//! namespace termination), delete-collection, and status writes by the simulated controllers.
//! Every write goes through one pipeline (`finish`): namespace checks, system metadata,
//! defaulting, generation, validation, admission, managed fields, no-op detection, dry-run,
//! commit. Runs under the world lock; must never await.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::admission::{AdmissionRequest, Operation};
use crate::defaults::{Allocators, apply_defaults, job_selector};
use crate::fields::{ManagedEntry, display_path, read_managed, write_managed};
use crate::meta::{now_rfc3339, random_suffix, uuid4};
use crate::registry::{ResourceType, split_api_version};
use crate::schema::Schema;
use crate::selector::{FieldSelector, Selector};
use crate::ssa::{self, ApplyRequest};
use crate::status::{ApiError, FieldError};
use crate::validation::{drop_unknown, unknown_fields, validate, validate_name, validate_update};
use crate::world::{NsState, TaskKind, World};
use crate::{controllers, patch};

/// The object(s) a request addresses.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub t: Arc<ResourceType>,
    pub version: String,
    pub ns: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
}

impl Target {
    fn ns_key(&self) -> &str {
        self.ns.as_deref().unwrap_or("")
    }
    fn status(&self) -> bool {
        self.sub.as_deref() == Some("status")
    }
    fn api_version(&self) -> String {
        self.t.api_version(&self.version)
    }
    fn schema(&self) -> Schema<'_> {
        Schema::new(&self.t.kind, self.t.builtin, self.t.schema(&self.version))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldValidation {
    Strict,
    Warn,
    Ignore,
}

/// Options of a write request.
#[derive(Debug, Clone)]
pub(crate) struct WriteOpts {
    pub dry_run: bool,
    /// The `fieldManager` query parameter, if given.
    pub field_manager: Option<String>,
    /// Manager name derived from the User-Agent when `fieldManager` is absent.
    pub default_manager: String,
    pub force: bool,
    pub validation: FieldValidation,
}

impl WriteOpts {
    fn manager(&self) -> &str {
        self.field_manager
            .as_deref()
            .unwrap_or(&self.default_manager)
    }
}

/// Result of a request: HTTP code, JSON body and `Warning` headers.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub code: u16,
    pub body: Value,
    pub warnings: Vec<String>,
}

impl Outcome {
    fn ok(code: u16, body: Value) -> Self {
        Outcome {
            code,
            body,
            warnings: Vec::new(),
        }
    }
}

/// Present a stored object at the requested version.
fn present(mut obj: Value, t: &ResourceType, version: &str) -> Value {
    if let Some(m) = obj.as_object_mut() {
        m.insert("apiVersion".into(), json!(t.api_version(version)));
    }
    obj
}

fn require_name(tgt: &Target) -> Result<&str, ApiError> {
    tgt.name.as_deref().ok_or_else(ApiError::method_not_allowed)
}

pub(crate) fn get(w: &World, tgt: &Target) -> Result<Value, ApiError> {
    let name = require_name(tgt)?;
    let obj = w
        .get(&tgt.t.key(), tgt.ns_key(), name)
        .ok_or_else(|| ApiError::not_found(&tgt.t.group, &tgt.t.plural, name))?;
    Ok(present(obj.clone(), &tgt.t, &tgt.version))
}

/// Query options of a LIST.
#[derive(Debug, Default, Clone)]
pub(crate) struct ListOpts {
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
}

pub(crate) fn list(w: &World, tgt: &Target, opts: &ListOpts) -> Result<Value, ApiError> {
    let sel = Selector::parse(opts.label_selector.as_deref().unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    let fsel = FieldSelector::parse(opts.field_selector.as_deref().unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    let ns = if tgt.t.namespaced {
        tgt.ns.as_deref()
    } else {
        None
    };
    let matching: Vec<&Value> = w
        .list(&tgt.t.key(), ns)
        .into_iter()
        .filter(|o| sel.matches(o) && fsel.matches(o))
        .collect();
    let start: usize = match &opts.continue_token {
        Some(tok) => tok.parse().map_err(|_| {
            ApiError::new(410, "Expired", "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
        })?,
        None => 0,
    };
    let end = match opts.limit {
        Some(l) if l > 0 => start.saturating_add(l).min(matching.len()),
        _ => matching.len(),
    };
    let items: Vec<Value> = matching
        .get(start..end)
        .unwrap_or(&[])
        .iter()
        .map(|o| present((*o).clone(), &tgt.t, &tgt.version))
        .collect();
    let mut meta = Map::new();
    meta.insert("resourceVersion".into(), json!(w.rv.to_string()));
    if end < matching.len() {
        meta.insert("continue".into(), json!(end.to_string()));
        meta.insert("remainingItemCount".into(), json!(matching.len() - end));
    }
    Ok(json!({
        "kind": format!("{}List", tgt.t.kind),
        "apiVersion": tgt.api_version(),
        "metadata": Value::Object(meta),
        "items": items,
    }))
}

fn check_type(tgt: &Target, body: &Value) -> Result<(), ApiError> {
    let want_av = tgt.api_version();
    if let Some(av) = body.get("apiVersion").and_then(Value::as_str)
        && av != want_av
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({want_av})"
        )));
    }
    if let Some(kind) = body.get("kind").and_then(Value::as_str)
        && kind != tgt.t.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            tgt.t.kind
        )));
    }
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON or YAML object",
        ));
    }
    if tgt.t.namespaced
        && let Some(ns) = body.pointer("/metadata/namespace").and_then(Value::as_str)
        && !ns.is_empty()
        && Some(ns) != tgt.ns.as_deref()
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}

fn check_name(body: &Value, url_name: &str) -> Result<(), ApiError> {
    match body.pointer("/metadata/name").and_then(Value::as_str) {
        Some(n) if !n.is_empty() && n != url_name => Err(ApiError::bad_request(format!(
            "the name of the object ({n}) does not match the name on the URL ({url_name})"
        ))),
        _ => Ok(()),
    }
}

/// Handle unknown fields according to `fieldValidation`.
fn screen_unknown(
    tgt: &Target,
    body: &mut Value,
    v: FieldValidation,
    apply: bool,
) -> Result<Vec<String>, ApiError> {
    let unknown = unknown_fields(&tgt.t, &tgt.version, body);
    if unknown.is_empty() {
        return Ok(Vec::new());
    }
    match v {
        FieldValidation::Strict => {
            if apply {
                let name = body
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let ns = tgt
                    .ns
                    .as_deref()
                    .map(|n| format!("{n}/"))
                    .unwrap_or_default();
                Err(ApiError::bad_request(format!(
                    "failed to create typed patch object ({ns}{name}; {}, Kind={}): .{}: field not declared in schema",
                    tgt.api_version(),
                    tgt.t.kind,
                    unknown[0]
                )))
            } else {
                let list: Vec<String> = unknown
                    .iter()
                    .map(|u| format!("unknown field {u:?}"))
                    .collect();
                Err(ApiError::bad_request(format!(
                    "strict decoding error: {}",
                    list.join(", ")
                )))
            }
        }
        FieldValidation::Warn => {
            drop_unknown(body, &unknown);
            Ok(unknown
                .iter()
                .map(|u| format!("unknown field {u:?}"))
                .collect())
        }
        FieldValidation::Ignore => {
            drop_unknown(body, &unknown);
            Ok(Vec::new())
        }
    }
}

fn initial_status(t: &ResourceType) -> Option<Value> {
    if !t.has_status {
        return None;
    }
    Some(match t.kind.as_str() {
        "Namespace" if t.builtin => json!({"phase": "Active"}),
        "PersistentVolumeClaim" if t.builtin => json!({"phase": "Pending"}),
        "Pod" if t.builtin => json!({"phase": "Pending", "qosClass": "BestEffort"}),
        "Service" if t.builtin => json!({"loadBalancer": {}}),
        _ => json!({}),
    })
}

fn spec_changed(t: &ResourceType, old: &Value, new: &Value) -> bool {
    if t.builtin {
        return old.get("spec") != new.get("spec");
    }
    let strip = |v: &Value| -> Value {
        let mut m = v.as_object().cloned().unwrap_or_default();
        for k in ["metadata", "status", "apiVersion", "kind"] {
            m.remove(k);
        }
        Value::Object(m)
    };
    strip(old) != strip(new)
}

fn meta_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    let m = obj.as_object_mut()?;
    let e = m.entry("metadata").or_insert_with(|| json!({}));
    if !e.is_object() {
        *e = json!({});
    }
    e.as_object_mut()
}

fn tracked_for(tgt: &Target, obj: &Value) -> Value {
    if tgt.status() {
        json!({"status": obj.get("status").cloned().unwrap_or(json!({}))})
    } else {
        ssa::tracked(obj)
    }
}

/// How a write is attributed in managedFields.
enum Attribution {
    /// Server-side apply already computed the entries.
    Applied(Vec<ManagedEntry>),
    /// An Update operation by this manager.
    Update(String),
}

/// The common write pipeline.
fn finish(
    w: &mut World,
    tgt: &Target,
    name: &str,
    old: Option<&Value>,
    mut new: Value,
    attribution: Attribution,
    dry_run: bool,
) -> Result<Outcome, ApiError> {
    let t = tgt.t.clone();
    let ns = tgt.ns_key().to_string();
    if t.namespaced {
        match w.ns_state(&ns) {
            NsState::Missing => return Err(ApiError::namespace_not_found(&ns)),
            NsState::Terminating if old.is_none() => {
                return Err(ApiError::forbidden(format!(
                    "{} {:?} is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                    crate::status::qualified(&t.plural, &t.group),
                    name
                ))
                .with_details(json!({"name": name, "group": t.group, "kind": t.plural,
                    "causes": [{"reason": "NamespaceTerminating", "message": format!("namespace {ns} is being terminated"), "field": "metadata.namespace"}]})));
            }
            _ => {}
        }
    }
    let now = now_rfc3339();
    if let Some(m) = new.as_object_mut() {
        m.insert("apiVersion".into(), json!(tgt.api_version()));
        m.insert("kind".into(), json!(t.kind));
    }
    {
        let Some(meta) = meta_mut(&mut new) else {
            return Err(ApiError::bad_request(
                "the body of the request must be a JSON or YAML object",
            ));
        };
        meta.insert("name".into(), json!(name));
        if t.namespaced {
            meta.insert("namespace".into(), json!(ns));
        } else {
            meta.remove("namespace");
        }
        for k in [
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ] {
            meta.remove(k);
        }
        match old {
            None => {
                meta.insert("uid".into(), json!(uuid4()));
                meta.insert("creationTimestamp".into(), json!(now));
                if t.tracks_generation {
                    meta.insert("generation".into(), json!(1));
                }
            }
            Some(o) => {
                for k in [
                    "uid",
                    "resourceVersion",
                    "generation",
                    "creationTimestamp",
                    "deletionTimestamp",
                    "deletionGracePeriodSeconds",
                ] {
                    if let Some(v) = o.pointer(&format!("/metadata/{k}")) {
                        meta.insert(k.into(), v.clone());
                    }
                }
            }
        }
    }
    if !tgt.status()
        && let Some(m) = new.as_object_mut()
    {
        m.remove("status");
        match old {
            None => {
                if let Some(s) = initial_status(&t) {
                    m.insert("status".into(), s);
                }
            }
            Some(o) => {
                if let Some(s) = o.get("status") {
                    m.insert("status".into(), s.clone());
                }
            }
        }
    }
    if !tgt.status()
        && !t.builtin
        && let Some(schema) = t.schema(&tgt.version)
        && let Some(m) = new.as_object_mut()
    {
        for (k, v) in m.iter_mut() {
            if let Some(node) = schema.get("properties").and_then(|p| p.get(k))
                && k != "metadata"
            {
                crate::validation::apply_schema_defaults(node, v);
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, node) in props {
                if let Some(d) = node.get("default")
                    && !m.contains_key(k)
                    && !matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status")
                {
                    m.insert(k.clone(), d.clone());
                }
            }
        }
    }
    if !tgt.status() && t.builtin {
        let (mut ip, mut np) = (w.next_ip, w.next_node_port);
        apply_defaults(
            &t.kind,
            &mut new,
            old,
            &mut Allocators {
                next_ip: &mut ip,
                next_node_port: &mut np,
            },
        );
        if !dry_run {
            w.next_ip = ip;
            w.next_node_port = np;
        }
        if t.kind == "Job" && old.is_none() {
            let uid = new
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            job_selector(&mut new, &uid, name);
        }
    }
    if let Some(o) = old
        && t.tracks_generation
        && spec_changed(&t, o, &new)
    {
        let g = o
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        if let Some(meta) = meta_mut(&mut new) {
            meta.insert("generation".into(), json!(g + 1));
        }
    }

    let mut errs: Vec<FieldError> = Vec::new();
    if old.is_none() {
        errs.extend(validate_name(&t.kind, name));
    }
    errs.extend(validate(&t, &new));
    if let Some(o) = old {
        errs.extend(validate_update(&t, o, &new));
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid(&t.kind, &t.group, name, &errs));
    }

    let req = AdmissionRequest {
        operation: if old.is_some() {
            Operation::Update
        } else {
            Operation::Create
        },
        group: &t.group,
        version: &tgt.version,
        kind: &t.kind,
        resource: &t.plural,
        namespace: tgt.ns.as_deref(),
        name,
        object: &new,
        old_object: old,
        dry_run,
    };
    for rule in &w.admission {
        if let Some(d) = rule(&req) {
            return Err(d.to_error(&t.group, &t.plural, name));
        }
    }

    let managed = match attribution {
        Attribution::Applied(m) => m,
        Attribution::Update(manager) => {
            let mut m = old.map(read_managed).unwrap_or_default();
            let empty = json!({});
            let old_t = old.map(|o| tracked_for(tgt, o)).unwrap_or(empty);
            let new_t = tracked_for(tgt, &new);
            let sub = tgt.sub.as_deref();
            ssa::record_update(
                &old_t,
                &new_t,
                &mut m,
                &manager,
                &tgt.api_version(),
                sub,
                &now,
                &tgt.schema(),
            );
            m
        }
    };
    write_managed(&mut new, &managed);

    // Objects being deleted go away once their last finalizer is removed.
    if let Some(o) = old
        && o.pointer("/metadata/deletionTimestamp").is_some()
        && new
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
    {
        if dry_run {
            return Ok(Outcome::ok(200, present(new, &t, &tgt.version)));
        }
        let gone = w.remove(&t.key(), &ns, name).unwrap_or(new);
        return Ok(Outcome::ok(200, present(gone, &t, &tgt.version)));
    }

    if let Some(o) = old
        && *o == new
    {
        return Ok(Outcome::ok(200, present(o.clone(), &t, &tgt.version)));
    }
    let code = if old.is_some() { 200 } else { 201 };
    if dry_run {
        return Ok(Outcome::ok(code, present(new, &t, &tgt.version)));
    }
    let generation_changed = match old {
        None => true,
        Some(o) => o.pointer("/metadata/generation") != new.pointer("/metadata/generation"),
    };
    let stored = w.put(&t.key(), &ns, name, new);
    after_commit(w, &t, &ns, name, old.is_none(), generation_changed);
    Ok(Outcome::ok(code, present(stored, &t, &tgt.version)))
}

/// Wake the simulated controllers after a write.
fn after_commit(
    w: &mut World,
    t: &ResourceType,
    ns: &str,
    name: &str,
    created: bool,
    generation_changed: bool,
) {
    let key = (t.key(), ns.to_string(), name.to_string());
    if t.builtin && t.kind == "CustomResourceDefinition" {
        let delay = w.timing.crd_delay;
        w.schedule(delay, TaskKind::EstablishCrd(name.to_string()));
        return;
    }
    if t.builtin && controllers::is_controlled(&t.kind) {
        if created || generation_changed || !w.rollouts.contains_key(&key) {
            w.rollouts.insert(key.clone(), std::time::Instant::now());
        }
        w.schedule(std::time::Duration::ZERO, TaskKind::Reconcile(key.clone()));
    }
    if t.builtin && t.kind == "Namespace" && created {
        w.schedule(std::time::Duration::ZERO, TaskKind::Reconcile(key));
    }
}

pub(crate) fn create(
    w: &mut World,
    tgt: &Target,
    mut body: Value,
    opts: &WriteOpts,
) -> Result<Outcome, ApiError> {
    check_type(tgt, &body)?;
    let warnings = screen_unknown(tgt, &mut body, opts.validation, false)?;
    let mut name = body
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if name.is_empty()
        && let Some(g) = body
            .pointer("/metadata/generateName")
            .and_then(Value::as_str)
        && !g.is_empty()
    {
        name = format!("{g}{}", random_suffix());
    }
    if name.is_empty() {
        return Err(ApiError::invalid(
            &tgt.t.kind,
            &tgt.t.group,
            "",
            &[FieldError::required(
                "metadata.name",
                "name or generateName is required",
            )],
        ));
    }
    if w.get(&tgt.t.key(), tgt.ns_key(), &name).is_some() {
        // Namespace existence is reported first, as the real server does.
        if tgt.t.namespaced && w.ns_state(tgt.ns_key()) == NsState::Missing {
            return Err(ApiError::namespace_not_found(tgt.ns_key()));
        }
        return Err(ApiError::already_exists(&tgt.t.group, &tgt.t.plural, &name));
    }
    if let Some(m) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    let mut out = finish(
        w,
        tgt,
        &name,
        None,
        body,
        Attribution::Update(opts.manager().to_string()),
        opts.dry_run,
    )?;
    out.warnings = warnings;
    Ok(out)
}

pub(crate) fn update(
    w: &mut World,
    tgt: &Target,
    mut body: Value,
    opts: &WriteOpts,
) -> Result<Outcome, ApiError> {
    let name = require_name(tgt)?.to_string();
    check_type(tgt, &body)?;
    check_name(&body, &name)?;
    let warnings = screen_unknown(tgt, &mut body, opts.validation, false)?;
    let old = w
        .get(&tgt.t.key(), tgt.ns_key(), &name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&tgt.t.group, &tgt.t.plural, &name))?;
    if let Some(rv) = body
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        && !rv.is_empty()
        && Some(rv)
            != old
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
    {
        return Err(ApiError::conflict_modified(
            &tgt.t.group,
            &tgt.t.plural,
            &name,
        ));
    }
    let new = if tgt.status() {
        let mut n = old.clone();
        if let Some(m) = n.as_object_mut() {
            m.insert(
                "status".into(),
                body.get("status").cloned().unwrap_or(json!({})),
            );
        }
        n
    } else {
        if let Some(m) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("managedFields");
        }
        body
    };
    let mut out = finish(
        w,
        tgt,
        &name,
        Some(&old),
        new,
        Attribution::Update(opts.manager().to_string()),
        opts.dry_run,
    )?;
    out.warnings = warnings;
    Ok(out)
}

/// Parse a request body as JSON, or as YAML when it is not JSON.
pub(crate) fn parse_body(bytes: &[u8]) -> Result<Value, ApiError> {
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        return Ok(v);
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("request body is not valid UTF-8"))?;
    serde_saphyr::from_str::<Value>(text).map_err(|e| {
        ApiError::bad_request(format!(
            "error decoding YAML: {}",
            e.to_string().lines().next().unwrap_or("")
        ))
    })
}

fn conflict_error(tgt: &Target, name: &str, conflicts: &[ssa::Conflict]) -> ApiError {
    let message = if conflicts.len() == 1 {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            conflicts[0].manager,
            display_path(&conflicts[0].path)
        )
    } else {
        let mut lines = Vec::new();
        let mut last: Option<&str> = None;
        for c in conflicts {
            if last != Some(c.manager.as_str()) {
                lines.push(format!("conflicts with {}:", c.manager));
                last = Some(c.manager.as_str());
            }
            lines.push(format!("- {}", display_path(&c.path)));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|c| json!({"reason": "FieldManagerConflict", "message": format!("conflict with {}", c.manager), "field": display_path(&c.path)}))
        .collect();
    let mut d = Map::new();
    d.insert("name".into(), json!(name));
    if !tgt.t.group.is_empty() {
        d.insert("group".into(), json!(tgt.t.group));
    }
    d.insert("kind".into(), json!(tgt.t.plural));
    d.insert("causes".into(), Value::Array(causes));
    ApiError::new(409, "Conflict", message).with_details(Value::Object(d))
}

/// Server-side apply (`application/apply-patch+yaml`).
pub(crate) fn apply(
    w: &mut World,
    tgt: &Target,
    body: &[u8],
    opts: &WriteOpts,
) -> Result<Outcome, ApiError> {
    let name = require_name(tgt)?.to_string();
    let Some(manager) = opts.field_manager.as_deref().filter(|m| !m.is_empty()) else {
        return Err(ApiError::bad_request(
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        ));
    };
    if manager.len() > 128 {
        return Err(ApiError::bad_request(
            "fieldManager: Too long: may not be longer than 128 characters",
        ));
    }
    let mut cfg = parse_body(body)?;
    if !cfg.is_object() {
        return Err(ApiError::bad_request(
            "the body of an apply patch must be a YAML or JSON object",
        ));
    }
    if cfg
        .get("apiVersion")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(ApiError::bad_request(
            "apiVersion must be specified in an apply configuration",
        ));
    }
    if cfg
        .get("kind")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(ApiError::bad_request(
            "kind must be specified in an apply configuration",
        ));
    }
    check_type(tgt, &cfg)?;
    check_name(&cfg, &name)?;
    let warnings = screen_unknown(tgt, &mut cfg, opts.validation, true)?;
    let old = w.get(&tgt.t.key(), tgt.ns_key(), &name).cloned();
    if let Some(rv) = cfg
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        && !rv.is_empty()
    {
        match &old {
            Some(o)
                if o.pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    == Some(rv) => {}
            Some(_) => {
                return Err(ApiError::conflict_modified(
                    &tgt.t.group,
                    &tgt.t.plural,
                    &name,
                ));
            }
            None => return Err(ApiError::not_found(&tgt.t.group, &tgt.t.plural, &name)),
        }
    }
    if old.is_none() && tgt.t.namespaced && w.ns_state(tgt.ns_key()) == NsState::Missing {
        return Err(ApiError::namespace_not_found(tgt.ns_key()));
    }
    if old.is_none() && tgt.status() {
        return Err(ApiError::not_found(&tgt.t.group, &tgt.t.plural, &name));
    }
    let skeleton =
        json!({"apiVersion": tgt.api_version(), "kind": tgt.t.kind, "metadata": {"name": name}});
    let live = old.clone().unwrap_or(skeleton);
    let live_t = tracked_for(tgt, &live);
    let cfg_t = if tgt.status() {
        json!({"status": cfg.get("status").cloned().unwrap_or(json!({}))})
    } else {
        ssa::tracked(&cfg)
    };
    let now = now_rfc3339();
    let api_version = tgt.api_version();
    let schema = tgt.schema();
    let managed = read_managed(&live);
    let applied = ssa::apply(
        ApplyRequest {
            live: &live_t,
            managed,
            config: &cfg_t,
            manager,
            api_version: &api_version,
            force: opts.force,
            now: &now,
            subresource: tgt.sub.as_deref(),
        },
        &schema,
    )
    .map_err(|c| conflict_error(tgt, &name, &c))?;
    let managed = applied.managed;
    let new = if tgt.status() {
        let mut n = live.clone();
        if let Some(m) = n.as_object_mut() {
            m.insert(
                "status".into(),
                applied.content.get("status").cloned().unwrap_or(json!({})),
            );
        }
        n
    } else {
        ssa::join(&applied.content, &live)
    };
    let mut out = finish(
        w,
        tgt,
        &name,
        old.as_ref(),
        new,
        Attribution::Applied(managed),
        opts.dry_run,
    )?;
    out.warnings = warnings;
    Ok(out)
}

/// JSON merge, strategic merge and JSON patches.
pub(crate) fn patch(
    w: &mut World,
    tgt: &Target,
    content_type: &str,
    body: &[u8],
    opts: &WriteOpts,
) -> Result<Outcome, ApiError> {
    let name = require_name(tgt)?.to_string();
    if opts.force {
        return Err(ApiError::bad_request(
            "force: Forbidden: may not be specified for non-apply patch",
        ));
    }
    let old = w
        .get(&tgt.t.key(), tgt.ns_key(), &name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&tgt.t.group, &tgt.t.plural, &name))?;
    if !matches!(
        content_type,
        "application/merge-patch+json"
            | "application/strategic-merge-patch+json"
            | "application/json-patch+json"
    ) {
        return Err(ApiError::unsupported_media_type(content_type));
    }
    let p: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let mut doc = old.clone();
    match content_type {
        "application/merge-patch+json" => patch::merge_patch(&mut doc, &p),
        "application/strategic-merge-patch+json" => {
            if !tgt.t.builtin {
                return Err(ApiError::new(
                    415,
                    "UnsupportedMediaType",
                    "strategic merge patch format is not supported",
                ));
            }
            patch::strategic_merge(&mut doc, &p, &tgt.schema()).map_err(ApiError::bad_request)?;
        }
        "application/json-patch+json" => {
            patch::json_patch(&mut doc, &p).map_err(|e| ApiError::new(422, "Invalid", e))?;
        }
        other => return Err(ApiError::unsupported_media_type(other)),
    }
    check_type(tgt, &doc)?;
    check_name(&doc, &name)?;
    let warnings = screen_unknown(tgt, &mut doc, opts.validation, false)?;
    let new = if tgt.status() {
        let mut n = old.clone();
        if let Some(m) = n.as_object_mut() {
            m.insert(
                "status".into(),
                doc.get("status").cloned().unwrap_or(json!({})),
            );
        }
        n
    } else {
        if let (Some(m), Some(om)) = (
            doc.get_mut("metadata").and_then(Value::as_object_mut),
            old.pointer("/metadata/managedFields"),
        ) {
            m.insert("managedFields".into(), om.clone());
        }
        doc
    };
    let mut out = finish(
        w,
        tgt,
        &name,
        Some(&old),
        new,
        Attribution::Update(opts.manager().to_string()),
        opts.dry_run,
    )?;
    out.warnings = warnings;
    Ok(out)
}

/// A change to the scale subresource.
pub(crate) enum ScaleChange {
    Replace(Value),
    Patch(String, Vec<u8>),
}

fn selector_string(sel: Option<&Value>) -> String {
    let Some(sel) = sel else { return String::new() };
    let mut parts: Vec<String> = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    for e in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = e.get("key").and_then(Value::as_str).unwrap_or("");
        let vals: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match e.get("operator").and_then(Value::as_str).unwrap_or("") {
            "In" => parts.push(format!("{key} in ({})", vals.join(","))),
            "NotIn" => parts.push(format!("{key} notin ({})", vals.join(","))),
            "Exists" => parts.push(key.to_string()),
            "DoesNotExist" => parts.push(format!("!{key}")),
            _ => {}
        }
    }
    parts.join(",")
}

fn scale_of(t: &ResourceType, obj: &Value) -> Value {
    let Some(paths) = &t.scale else {
        return json!({});
    };
    let mut meta = Map::new();
    for k in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = obj.pointer(&format!("/metadata/{k}")) {
            meta.insert(k.into(), v.clone());
        }
    }
    let selector = match &paths.label_selector {
        Some(p) => obj
            .pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        None => selector_string(obj.pointer("/spec/selector")),
    };
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": Value::Object(meta),
        "spec": {"replicas": obj.pointer(&paths.spec_replicas).and_then(Value::as_i64).unwrap_or(0)},
        "status": {"replicas": obj.pointer(&paths.status_replicas).and_then(Value::as_i64).unwrap_or(0), "selector": selector},
    })
}

pub(crate) fn scale_get(w: &World, tgt: &Target) -> Result<Value, ApiError> {
    let obj = get(w, tgt)?;
    Ok(scale_of(&tgt.t, &obj))
}

pub(crate) fn scale_write(
    w: &mut World,
    tgt: &Target,
    change: ScaleChange,
    opts: &WriteOpts,
) -> Result<Outcome, ApiError> {
    let name = require_name(tgt)?.to_string();
    let old = w
        .get(&tgt.t.key(), tgt.ns_key(), &name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&tgt.t.group, &tgt.t.plural, &name))?;
    let Some(paths) = tgt.t.scale.clone() else {
        return Err(ApiError::unknown_resource());
    };
    let mut scale = scale_of(&tgt.t, &old);
    match change {
        ScaleChange::Replace(body) => scale = body,
        ScaleChange::Patch(ct, bytes) => match ct.as_str() {
            "application/json-patch+json" => {
                let p: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
                patch::json_patch(&mut scale, &p).map_err(|e| ApiError::new(422, "Invalid", e))?;
            }
            "application/merge-patch+json"
            | "application/strategic-merge-patch+json"
            | "application/apply-patch+yaml" => {
                let p = parse_body(&bytes)?;
                patch::merge_patch(&mut scale, &p);
            }
            other => return Err(ApiError::unsupported_media_type(other)),
        },
    }
    let replicas = scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if replicas < 0 {
        return Err(ApiError::invalid(
            "Scale",
            "autoscaling",
            &name,
            &[FieldError::invalid(
                "spec.replicas",
                replicas.to_string(),
                "must be greater than or equal to 0",
            )],
        ));
    }
    let mut new = old.clone();
    if let Some(slot) = new.pointer_mut(&paths.spec_replicas) {
        *slot = json!(replicas);
    } else if let Some((parent, leaf)) = paths.spec_replicas.rsplit_once('/')
        && let Some(m) = new.pointer_mut(parent).and_then(Value::as_object_mut)
    {
        m.insert(leaf.to_string(), json!(replicas));
    }
    let out = finish(
        w,
        tgt,
        &name,
        Some(&old),
        new,
        Attribution::Update(opts.manager().to_string()),
        opts.dry_run,
    )?;
    Ok(Outcome {
        code: out.code,
        body: scale_of(&tgt.t, &out.body),
        warnings: out.warnings,
    })
}

/// Options of a DELETE.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeleteOpts {
    pub dry_run: bool,
    pub propagation: Option<String>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
}

impl DeleteOpts {
    /// Read `DeleteOptions` from a request body (query parameters take precedence).
    pub fn merge_body(&mut self, body: &Value) {
        if self.propagation.is_none() {
            self.propagation = body
                .get("propagationPolicy")
                .and_then(Value::as_str)
                .map(str::to_string);
            if self.propagation.is_none()
                && body.get("orphanDependents").and_then(Value::as_bool) == Some(true)
            {
                self.propagation = Some("Orphan".into());
            }
        }
        if body
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v == "All"))
        {
            self.dry_run = true;
        }
        self.precondition_uid = body
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.precondition_rv = body
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
}

fn success_status(t: &ResourceType, name: &str, uid: &str) -> Value {
    let mut d = Map::new();
    d.insert("name".into(), json!(name));
    if !t.group.is_empty() {
        d.insert("group".into(), json!(t.group));
    }
    d.insert("kind".into(), json!(t.plural));
    d.insert("uid".into(), json!(uid));
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": Value::Object(d)})
}

pub(crate) fn delete(w: &mut World, tgt: &Target, opts: &DeleteOpts) -> Result<Outcome, ApiError> {
    let name = require_name(tgt)?.to_string();
    let t = tgt.t.clone();
    let ns = tgt.ns_key().to_string();
    let old = w
        .get(&t.key(), &ns, &name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&t.group, &t.plural, &name))?;
    let uid = old
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(u) = &opts.precondition_uid
        && *u != uid
    {
        return Err(ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} {name:?}: Precondition failed: UID in precondition: {u}, UID in object meta: {uid}",
                crate::status::qualified(&t.plural, &t.group)
            ),
        ));
    }
    if let Some(rv) = &opts.precondition_rv
        && Some(rv.as_str())
            != old
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
    {
        return Err(ApiError::conflict_modified(&t.group, &t.plural, &name));
    }
    let policy = opts
        .propagation
        .clone()
        .unwrap_or_else(|| "Background".into());
    if !matches!(policy.as_str(), "Foreground" | "Background" | "Orphan") {
        return Err(ApiError::invalid(
            "DeleteOptions",
            "meta.k8s.io",
            "",
            &[FieldError::not_supported(
                "propagationPolicy",
                format!("{policy:?}"),
                &["Foreground", "Background", "Orphan"],
            )],
        ));
    }
    let req = AdmissionRequest {
        operation: Operation::Delete,
        group: &t.group,
        version: &tgt.version,
        kind: &t.kind,
        resource: &t.plural,
        namespace: tgt.ns.as_deref(),
        name: &name,
        object: &old,
        old_object: Some(&old),
        dry_run: opts.dry_run,
    };
    for rule in &w.admission {
        if let Some(d) = rule(&req) {
            return Err(d.to_error(&t.group, &t.plural, &name));
        }
    }
    let now = now_rfc3339();
    if old.pointer("/metadata/deletionTimestamp").is_some() {
        return Ok(Outcome::ok(200, present(old, &t, &tgt.version)));
    }
    let is_ns = t.builtin && t.kind == "Namespace";
    if is_ns && matches!(name.as_str(), "default" | "kube-system" | "kube-public") {
        return Err(ApiError::forbidden(format!(
            "namespaces {name:?} is forbidden: this namespace may not be deleted"
        ))
        .with_details(json!({"name": name, "kind": "namespaces"})));
    }
    let is_crd = t.builtin && t.kind == "CustomResourceDefinition";
    let mut finalizers: Vec<Value> = old
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let gc_finalizer = match policy.as_str() {
        "Foreground" => Some("foregroundDeletion"),
        "Orphan" => Some("orphan"),
        _ => None,
    };
    if is_ns || !finalizers.is_empty() || gc_finalizer.is_some() {
        // Graceful: mark for deletion and let finalizers (or the namespace controller) finish.
        let mut marked = old.clone();
        if let Some(f) = gc_finalizer
            && !is_ns
            && !finalizers.iter().any(|x| x == f)
        {
            finalizers.push(json!(f));
        }
        if let Some(meta) = meta_mut(&mut marked) {
            meta.insert("deletionTimestamp".into(), json!(now));
            meta.insert("deletionGracePeriodSeconds".into(), json!(0));
            if !finalizers.is_empty() {
                meta.insert("finalizers".into(), Value::Array(finalizers));
            }
        }
        if is_ns && let Some(m) = marked.as_object_mut() {
            m.insert(
                "status".into(),
                json!({"phase": "Terminating", "conditions": [
                    {"type": "NamespaceDeletionDiscoveryFailure", "status": "False", "lastTransitionTime": now, "reason": "ResourcesDiscovered", "message": "All resources successfully discovered"},
                    {"type": "NamespaceContentRemaining", "status": "False", "lastTransitionTime": now, "reason": "ContentRemoved", "message": "All content successfully removed"}]}),
            );
        }
        if opts.dry_run {
            return Ok(Outcome::ok(200, present(marked, &t, &tgt.version)));
        }
        let stored = w.put(&t.key(), &ns, &name, marked);
        let key = (t.key(), ns.clone(), name.clone());
        if is_ns {
            let d = w.timing.namespace_delay;
            w.schedule(d, TaskKind::FinalizeNamespace(name.clone()));
        } else if gc_finalizer.is_some() {
            w.schedule(std::time::Duration::ZERO, TaskKind::CollectGarbage(key));
        }
        return Ok(Outcome::ok(200, present(stored, &t, &tgt.version)));
    }
    if opts.dry_run {
        return Ok(Outcome::ok(200, success_status(&t, &name, &uid)));
    }
    w.remove(&t.key(), &ns, &name);
    if is_crd {
        controllers::unregister_crd(w, &old);
    }
    Ok(Outcome::ok(200, success_status(&t, &name, &uid)))
}

pub(crate) fn delete_collection(
    w: &mut World,
    tgt: &Target,
    list_opts: &ListOpts,
    opts: &DeleteOpts,
) -> Result<Outcome, ApiError> {
    let listed = list(w, tgt, list_opts)?;
    let mut deleted = Vec::new();
    for item in listed
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let Some(name) = item.pointer("/metadata/name").and_then(Value::as_str) else {
            continue;
        };
        let mut one = tgt.clone();
        one.name = Some(name.to_string());
        one.ns = item
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or(tgt.ns.clone());
        delete(w, &one, opts)?;
        deleted.push(item);
    }
    Ok(Outcome::ok(
        200,
        json!({"kind": format!("{}List", tgt.t.kind), "apiVersion": tgt.api_version(), "metadata": {"resourceVersion": w.rv.to_string()}, "items": deleted}),
    ))
}

/// Write an object's status as a controller would (an Update of the status subresource).
/// No-op when the status is unchanged. Returns whether the object changed.
pub(crate) fn write_status(
    w: &mut World,
    key: &str,
    ns: &str,
    name: &str,
    status: Value,
    manager: &str,
) -> bool {
    let Some(old) = w.get(key, ns, name).cloned() else {
        return false;
    };
    if old.get("status") == Some(&status) {
        return false;
    }
    let Some(t) = w.registry.get(key) else {
        return false;
    };
    let mut new = old.clone();
    if let Some(m) = new.as_object_mut() {
        m.insert("status".into(), status);
    }
    let version = old
        .get("apiVersion")
        .and_then(Value::as_str)
        .map(|av| split_api_version(av).1.to_string())
        .unwrap_or_else(|| t.preferred_version().to_string());
    let mut managed = read_managed(&old);
    let schema = Schema::new(&t.kind, t.builtin, t.schema(&version));
    let old_t = json!({"status": old.get("status").cloned().unwrap_or(json!({}))});
    let new_t = json!({"status": new.get("status").cloned().unwrap_or(json!({}))});
    ssa::record_update(
        &old_t,
        &new_t,
        &mut managed,
        manager,
        &t.api_version(&version),
        Some("status"),
        &now_rfc3339(),
        &schema,
    );
    write_managed(&mut new, &managed);
    w.put(key, ns, name, new);
    true
}

/// Store an object as seeded by a test (an Update or Apply operation by `manager`).
pub(crate) fn seed(
    w: &mut World,
    obj: Value,
    manager: &str,
    as_apply: bool,
) -> Result<Value, ApiError> {
    let av = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let (t, version) = w
        .registry
        .by_api_version_kind(&av, &kind)
        .ok_or_else(|| ApiError::bad_request(format!("unknown kind {kind} in {av}")))?;
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .map(str::to_string);
    let tgt = Target {
        t: t.clone(),
        version,
        ns: if t.namespaced {
            Some(ns.unwrap_or_else(|| "default".into()))
        } else {
            None
        },
        name: Some(name.clone()),
        sub: None,
    };
    let opts = WriteOpts {
        dry_run: false,
        field_manager: Some(manager.to_string()),
        default_manager: manager.to_string(),
        force: true,
        validation: FieldValidation::Strict,
    };
    if as_apply {
        let bytes = serde_json::to_vec(&obj).map_err(|e| ApiError::internal(e.to_string()))?;
        return apply(w, &tgt, &bytes, &opts).map(|o| o.body);
    }
    match w.get(&t.key(), tgt.ns_key(), &name) {
        Some(_) => update(w, &tgt, obj, &opts).map(|o| o.body),
        None => create(w, &tgt, obj, &opts).map(|o| o.body),
    }
}
