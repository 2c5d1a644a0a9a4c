//! Schemas as validators: choosing the embedded set for a Kubernetes version, assembling one
//! kind's JSON schema document from the shared definitions, making it strict (unknown fields
//! are errors) the way the API server's strict field validation is, converting OpenAPI v3
//! schemas (CRDs, schema files) to JSON Schema, compiling with `jsonschema` once per kind,
//! and walking a schema along an instance path (for "did you mean" hints).
//! Must not: read files, walk objects or build findings.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use super::builtin::{BuiltinKind, DEFS, SETS, SchemaSet};
use super::formats;

const DEFS_PREFIX: &str = "#/$defs/";
pub(crate) const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// A compiled schema and the document it came from.
pub(crate) struct Compiled {
    pub validator: jsonschema::Validator,
    pub doc: Value,
    /// Built-in kinds are decoded by Go: a `null` field means "not set", so nulls are dropped
    /// before validation. Custom resources keep them (`nullable` decides).
    pub strip_nulls: bool,
}

/// The embedded schema set for a requested `1.x` version: the exact one, else the nearest
/// (the newer one on a tie). Returns the set and whether it is exact.
pub(crate) fn select_set(minor: u32) -> (&'static SchemaSet, bool) {
    let mut best = &SETS[0];
    for set in SETS {
        let d = set.minor.abs_diff(minor);
        let bd = best.minor.abs_diff(minor);
        if d < bd || d == bd && set.minor > best.minor {
            best = set;
        }
    }
    (best, best.minor == minor)
}

/// The embedded minor versions, ascending.
pub fn embedded_versions() -> Vec<String> {
    SETS.iter().map(|s| format!("1.{}", s.minor)).collect()
}

impl SchemaSet {
    pub(crate) fn kind(
        &self,
        group: &str,
        version: &str,
        kind: &str,
    ) -> Option<&'static BuiltinKind> {
        self.kinds
            .binary_search_by(|k| (k.group, k.kind, k.version).cmp(&(group, kind, version)))
            .ok()
            .map(|i| &self.kinds[i])
    }

    pub(crate) fn has_group(&self, group: &str) -> bool {
        self.kinds.iter().any(|k| k.group == group)
    }

    /// Every kind of a group (any version).
    pub(crate) fn kinds_of_group<'a>(
        &'a self,
        group: &'a str,
    ) -> impl Iterator<Item = &'static BuiltinKind> + 'a {
        self.kinds.iter().filter(move |k| k.group == group)
    }

    fn def_text(&self, name: &str) -> Option<&'static str> {
        self.defs
            .binary_search_by(|(n, _)| (*n).cmp(name))
            .ok()
            .map(|i| DEFS[self.defs[i].1 as usize])
    }
}

/// (schema set, definition, strict).
type BuiltinKey = (u32, &'static str, bool);

/// Compiled built-in validators, shared by every environment of a run.
#[derive(Default)]
pub(crate) struct BuiltinCache {
    parsed: Mutex<HashMap<&'static str, Arc<Value>>>,
    compiled: Mutex<HashMap<BuiltinKey, Arc<Compiled>>>,
}

impl BuiltinCache {
    fn parsed(&self, text: &'static str) -> Arc<Value> {
        if let Some(v) = self
            .parsed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(text)
        {
            return v.clone();
        }
        // Parsed outside the lock; a race only parses twice.
        let v = Arc::new(serde_json::from_str(text).unwrap_or(Value::Bool(true)));
        self.parsed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(text, v.clone());
        v
    }

    /// `$defs` holding `root` and every definition it reaches.
    pub(crate) fn closure(&self, set: &SchemaSet, root: &str) -> Map<String, Value> {
        let mut defs = Map::new();
        let mut todo = vec![root.to_string()];
        while let Some(name) = todo.pop() {
            if defs.contains_key(&name) {
                continue;
            }
            let Some(text) = set.def_text(&name) else {
                continue;
            };
            let schema = self.parsed(text);
            collect_refs(&schema, &mut todo);
            defs.insert(name, (*schema).clone());
        }
        defs
    }

    /// The validator of a built-in kind, compiled on first use.
    pub(crate) fn builtin(
        &self,
        set: &SchemaSet,
        kind: &'static BuiltinKind,
        strict: bool,
    ) -> Result<Arc<Compiled>, String> {
        let key = (set.minor, kind.def, strict);
        if let Some(c) = self
            .compiled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(c.clone());
        }
        let defs = self.closure(set, kind.def);
        let mut doc = json!({ "$ref": format!("{DEFS_PREFIX}{}", kind.def) });
        doc["$defs"] = Value::Object(defs);
        if strict {
            close_objects(&mut doc, false);
        }
        let validator = compile(&doc)?;
        let compiled = Arc::new(Compiled {
            validator,
            doc,
            strip_nulls: true,
        });
        self.compiled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, compiled.clone());
        Ok(compiled)
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref"
                    && let Value::String(r) = x
                    && let Some(name) = r.strip_prefix(DEFS_PREFIX)
                {
                    out.push(name.to_string());
                } else {
                    collect_refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// Compiles a JSON Schema (draft 2020-12 unless it names another) with the formats the API
/// server checks.
pub(crate) fn compile(doc: &Value) -> Result<jsonschema::Validator, String> {
    let mut options = jsonschema::options()
        .should_validate_formats(true)
        .should_ignore_unknown_formats(true)
        .with_format("quantity", formats::is_quantity)
        .with_format("byte", formats::is_base64)
        .with_format("duration", formats::is_duration)
        .with_format("uri", formats::is_uri)
        .with_pattern_options(jsonschema::PatternOptions::regex());
    if doc.get("$schema").is_none() {
        options = options.with_draft(jsonschema::Draft::Draft202012);
    }
    options.build(doc).map_err(|e| e.to_string())
}

fn is_true(m: &Map<String, Value>, key: &str) -> bool {
    m.get(key).and_then(Value::as_bool) == Some(true)
}

/// Strict field validation: every object schema that lists its properties rejects others,
/// unless it preserves unknown fields. With `close_empty` (structural CRD schemas, where
/// fields not in the schema are pruned), an object schema without properties rejects all.
/// Only the structure is walked (`properties`, `items`, `additionalProperties`, `$defs`):
/// `allOf`/`anyOf`/`oneOf` branches only add value checks.
pub(crate) fn close_objects(schema: &mut Value, close_empty: bool) {
    let Value::Object(m) = schema else { return };
    if let Some(Value::Object(defs)) = m.get_mut("$defs") {
        for d in defs.values_mut() {
            close_objects(d, close_empty);
        }
    }
    let has_props = matches!(m.get("properties"), Some(Value::Object(_)));
    let is_object = has_props || m.get("type").and_then(Value::as_str) == Some("object");
    if is_object
        && !m.contains_key("additionalProperties")
        && !m.contains_key("$ref")
        && !is_true(m, "x-kubernetes-preserve-unknown-fields")
        && (has_props || close_empty)
    {
        if is_true(m, "x-kubernetes-embedded-resource") {
            let props = m
                .entry("properties")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(p) = props {
                for k in ["apiVersion", "kind"] {
                    p.entry(k).or_insert_with(|| json!({"type": "string"}));
                }
                p.entry("metadata")
                    .or_insert_with(|| json!({"type": "object"}));
            }
        }
        m.insert("additionalProperties".into(), Value::Bool(false));
    }
    if let Some(Value::Object(props)) = m.get_mut("properties") {
        for p in props.values_mut() {
            close_objects(p, close_empty);
        }
    }
    if let Some(items) = m.get_mut("items") {
        match items {
            Value::Array(a) => a.iter_mut().for_each(|s| close_objects(s, close_empty)),
            s => close_objects(s, close_empty),
        }
    }
    if let Some(ap @ Value::Object(_)) = m.get_mut("additionalProperties") {
        close_objects(ap, close_empty);
    }
}

/// OpenAPI v3 (as in CRDs and kubeconform schema files) to JSON Schema: `nullable`,
/// `x-kubernetes-int-or-string`, boolean `exclusiveMinimum`/`exclusiveMaximum`.
pub(crate) fn openapi_to_json_schema(schema: &mut Value) {
    let Value::Object(m) = schema else { return };
    let nullable = is_true(m, "nullable");
    if is_true(m, "x-kubernetes-int-or-string") {
        m.insert("type".into(), json!(["integer", "string"]));
        // The usual `anyOf: [{type: integer}, {type: string}]` only restates the type.
        for key in ["anyOf", "oneOf"] {
            let only_types = m.get(key).and_then(Value::as_array).is_some_and(|a| {
                a.iter().all(|s| {
                    s.as_object().is_some_and(|o| {
                        o.len() == 1
                            && matches!(
                                o.get("type").and_then(Value::as_str),
                                Some("integer" | "string")
                            )
                    })
                })
            });
            if only_types {
                m.remove(key);
            }
        }
    }
    if nullable {
        match m.get_mut("type") {
            Some(Value::String(t)) => {
                let t = t.clone();
                m.insert("type".into(), json!([t, "null"]));
            }
            Some(Value::Array(a)) if !a.iter().any(|t| t == "null") => {
                a.push(json!("null"));
            }
            _ => {}
        }
        if let Some(Value::Array(e)) = m.get_mut("enum")
            && !e.iter().any(Value::is_null)
        {
            e.push(Value::Null);
        }
    }
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(Value::Bool(b)) = m.get(flag).cloned() {
            m.remove(flag);
            if b && let Some(limit) = m.remove(bound) {
                m.insert(flag.into(), limit);
            }
        }
    }
    if let Some(Value::Object(props)) = m.get_mut("properties") {
        props.values_mut().for_each(openapi_to_json_schema);
    }
    for key in ["items", "additionalProperties", "not"] {
        match m.get_mut(key) {
            Some(Value::Array(a)) => a.iter_mut().for_each(openapi_to_json_schema),
            Some(s @ Value::Object(_)) => openapi_to_json_schema(s),
            _ => {}
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(a)) = m.get_mut(key) {
            a.iter_mut().for_each(openapi_to_json_schema);
        }
    }
    if let Some(Value::Object(defs)) = m.get_mut("definitions") {
        defs.values_mut().for_each(openapi_to_json_schema);
    }
}

/// One step of an instance path.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// The schema that applies at `path` inside `doc`, following `$ref`, `properties`, `items`
/// and `additionalProperties` (not `anyOf` and the like).
pub(crate) fn schema_at<'a>(doc: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    let mut cur = resolve(doc, doc)?;
    for seg in path {
        cur = match seg {
            Seg::Key(k) => cur
                .get("properties")
                .and_then(|p| p.get(k))
                .or_else(|| cur.get("additionalProperties").filter(|a| a.is_object()))?,
            Seg::Index(_) => match cur.get("items")? {
                Value::Array(a) => a.first()?,
                s => s,
            },
        };
        cur = resolve(doc, cur)?;
    }
    Some(cur)
}

fn resolve<'a>(doc: &'a Value, mut s: &'a Value) -> Option<&'a Value> {
    for _ in 0..32 {
        let Some(r) = s.get("$ref").and_then(Value::as_str) else {
            return Some(s);
        };
        let name = r.strip_prefix(DEFS_PREFIX)?;
        s = doc.get("$defs")?.get(name)?;
    }
    None
}

/// Property names the schema at `path` declares.
pub(crate) fn known_properties<'a>(doc: &'a Value, path: &[Seg]) -> Vec<&'a str> {
    schema_at(doc, path)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_nearest_set() {
        let versions: Vec<u32> = SETS.iter().map(|s| s.minor).collect();
        assert_eq!(versions, [30, 33, 37]);
        assert_eq!(select_set(33).0.minor, 33);
        assert!(select_set(33).1);
        assert_eq!(select_set(25).0.minor, 30);
        assert_eq!(select_set(31).0.minor, 30);
        assert_eq!(select_set(32).0.minor, 33);
        assert_eq!(select_set(35).0.minor, 37);
        assert!(!select_set(35).1);
        assert_eq!(select_set(40).0.minor, 37);
    }

    #[test]
    fn every_kind_has_its_definitions() {
        let cache = BuiltinCache::default();
        for set in SETS {
            assert!(set.kinds.len() > 80, "{} kinds", set.kinds.len());
            let d = set.kind("apps", "v1", "Deployment").expect("Deployment");
            assert!(d.namespaced);
            let defs = cache.closure(set, d.def);
            assert!(defs.contains_key("io.k8s.api.core.v1.PodSpec"));
            assert!(defs.contains_key(OBJECT_META));
            assert!(!set.kind("", "v1", "Namespace").unwrap().namespaced);
        }
    }

    #[test]
    fn strict_closes_only_objects_with_properties() {
        let mut s = json!({
            "type": "object",
            "properties": {
                "a": {"type": "object", "properties": {"b": {"type": "string"}}},
                "free": {"type": "object"},
                "keep": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"x": {}}},
                "map": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "anyOf": [{"properties": {"a": {}}}]
        });
        close_objects(&mut s, false);
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(s["properties"]["a"]["additionalProperties"], json!(false));
        assert!(
            s["properties"]["free"]
                .get("additionalProperties")
                .is_none()
        );
        assert!(
            s["properties"]["keep"]
                .get("additionalProperties")
                .is_none()
        );
        assert_eq!(
            s["properties"]["map"]["additionalProperties"],
            json!({"type": "string"})
        );
        assert!(s["anyOf"][0].get("additionalProperties").is_none());
        close_objects(&mut s, true);
        assert_eq!(
            s["properties"]["free"]["additionalProperties"],
            json!(false)
        );
    }

    #[test]
    fn openapi_conversion() {
        let mut s = json!({
            "type": "object",
            "properties": {
                "n": {"type": "string", "nullable": true},
                "p": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                "r": {"type": "integer", "maximum": 5, "exclusiveMaximum": true},
            }
        });
        openapi_to_json_schema(&mut s);
        assert_eq!(s["properties"]["n"]["type"], json!(["string", "null"]));
        assert_eq!(s["properties"]["p"]["type"], json!(["integer", "string"]));
        assert_eq!(s["properties"]["r"]["exclusiveMaximum"], json!(5));
        assert!(s["properties"]["r"].get("maximum").is_none());
    }
}
