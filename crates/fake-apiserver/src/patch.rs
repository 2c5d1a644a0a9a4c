//! Non-apply patch formats: JSON merge patch (RFC 7386), strategic merge patch (merge keys from
//! the schema hints, `$patch: delete|replace`, `$setElementOrder`, `$retainKeys` and
//! `$deleteFromPrimitiveList` directives) and JSON patch (RFC 6902). Pure functions; errors are
//! plain strings the caller wraps into a Status.

use serde_json::{Map, Value};

use crate::schema::{ListType, Schema};

/// RFC 7386 JSON merge patch.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Some(t) = target.as_object_mut() {
                for (k, v) in p {
                    if v.is_null() {
                        t.shift_remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Strategic merge patch, using the same list semantics as server-side apply.
pub(crate) fn strategic_merge(
    target: &mut Value,
    patch: &Value,
    schema: &Schema,
) -> Result<(), String> {
    let mut names = Vec::new();
    smp(target, patch, &mut names, schema)
}

fn smp<'v>(
    target: &mut Value,
    patch: &'v Value,
    names: &mut Vec<&'v str>,
    schema: &Schema,
) -> Result<(), String> {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return Ok(());
    };
    if p.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut clean = p.clone();
        clean.remove("$patch");
        *target = Value::Object(clean);
        return Ok(());
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(t) = target.as_object_mut() else {
        return Ok(());
    };
    if let Some(Value::Array(keep)) = p.get("$retainKeys") {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        t.retain(|k, _| keep.contains(&k.as_str()));
    }
    for (k, v) in p {
        if k.starts_with("$setElementOrder/") || k == "$retainKeys" || k == "$patch" {
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Value::Array(del)) = (t.get_mut(field), v) {
                list.retain(|x| !del.contains(x));
            }
            continue;
        }
        if v.is_null() {
            t.shift_remove(k);
            continue;
        }
        names.push(k.as_str());
        let entry = t.entry(k.clone()).or_insert(Value::Null);
        match (entry.is_array(), v) {
            (_, Value::Array(items)) => match schema.list_type(names) {
                ListType::Map(keys) => {
                    let key = keys.first().map(|k| k.0.clone()).unwrap_or_default();
                    if !entry.is_array() {
                        *entry = Value::Array(Vec::new());
                    }
                    if let Some(list) = entry.as_array_mut() {
                        merge_keyed(list, items, &key, names, schema)?;
                    }
                }
                ListType::Set => {
                    if !entry.is_array() {
                        *entry = Value::Array(Vec::new());
                    }
                    if let Some(list) = entry.as_array_mut() {
                        for i in items {
                            if !list.contains(i) {
                                list.push(i.clone());
                            }
                        }
                    }
                }
                ListType::Atomic => *entry = v.clone(),
            },
            (_, Value::Object(_)) => {
                if schema.map_atomic(names) {
                    *entry = v.clone();
                } else {
                    smp(entry, v, names, schema)?;
                }
            }
            _ => *entry = v.clone(),
        }
        names.pop();
    }
    Ok(())
}

fn merge_keyed<'v>(
    list: &mut Vec<Value>,
    items: &'v [Value],
    key: &str,
    names: &mut Vec<&'v str>,
    schema: &Schema,
) -> Result<(), String> {
    for item in items {
        let directive = item.get("$patch").and_then(Value::as_str);
        let Some(kv) = item.get(key) else {
            if directive == Some("replace") {
                list.clear();
                continue;
            }
            return Err(format!(
                "map: {item} does not contain declared merge key: {key}"
            ));
        };
        let pos = list.iter().position(|x| x.get(key) == Some(kv));
        match (directive, pos) {
            (Some("delete"), Some(i)) => {
                list.remove(i);
            }
            (Some("delete"), None) => {}
            (_, Some(i)) => smp(&mut list[i], item, names, schema)?,
            (_, None) => {
                let mut fresh = Value::Object(Map::new());
                smp(&mut fresh, item, names, schema)?;
                list.push(fresh);
            }
        }
    }
    Ok(())
}

fn unescape(tok: &str) -> String {
    tok.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| format!("invalid JSON pointer {path:?}"))?;
    Ok(rest.split('/').map(unescape).collect())
}

fn parent_mut<'a>(doc: &'a mut Value, toks: &[String]) -> Result<&'a mut Value, String> {
    let mut node = doc;
    for t in toks {
        node = match node {
            Value::Object(m) => m
                .get_mut(t)
                .ok_or_else(|| format!("doc is missing path: {t:?}"))?,
            Value::Array(a) => {
                let i: usize = t
                    .parse()
                    .map_err(|_| format!("invalid array index {t:?}"))?;
                a.get_mut(i)
                    .ok_or_else(|| format!("array index {i} out of bounds"))?
            }
            _ => return Err(format!("doc is missing path: {t:?}")),
        };
    }
    Ok(node)
}

fn remove_at(doc: &mut Value, path: &str) -> Result<Value, String> {
    let toks = split_pointer(path)?;
    let (last, parents) = toks
        .split_last()
        .ok_or("cannot remove the whole document")?;
    match parent_mut(doc, parents)? {
        Value::Object(m) => m
            .shift_remove(last)
            .ok_or_else(|| format!("unable to remove nonexistent key: {last}")),
        Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("invalid array index {last:?}"))?;
            if i >= a.len() {
                return Err(format!("array index {i} out of bounds"));
            }
            Ok(a.remove(i))
        }
        _ => Err(format!("doc is missing path: {path:?}")),
    }
}

fn add_at(doc: &mut Value, path: &str, value: Value, replace: bool) -> Result<(), String> {
    let toks = split_pointer(path)?;
    let Some((last, parents)) = toks.split_last() else {
        *doc = value;
        return Ok(());
    };
    match parent_mut(doc, parents)? {
        Value::Object(m) => {
            if replace && !m.contains_key(last) {
                return Err(format!(
                    "replace operation does not apply: doc is missing key: {path}"
                ));
            }
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(value);
                return Ok(());
            }
            let i: usize = last
                .parse()
                .map_err(|_| format!("invalid array index {last:?}"))?;
            if replace {
                let slot = a
                    .get_mut(i)
                    .ok_or_else(|| format!("array index {i} out of bounds"))?;
                *slot = value;
            } else {
                if i > a.len() {
                    return Err(format!("array index {i} out of bounds"));
                }
                a.insert(i, value);
            }
            Ok(())
        }
        _ => Err(format!("doc is missing path: {path:?}")),
    }
}

/// RFC 6902 JSON patch.
pub(crate) fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), String> {
    let ops = ops
        .as_array()
        .ok_or("json patch must be an array of operations")?;
    for op in ops {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or("json patch operation is missing \"op\"")?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or("json patch operation is missing \"path\"")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| format!("{kind} operation is missing \"value\""))
        };
        let from = || {
            op.get("from")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{kind} operation is missing \"from\""))
        };
        match kind {
            "add" => add_at(doc, path, value()?, false)?,
            "replace" => add_at(doc, path, value()?, true)?,
            "remove" => {
                remove_at(doc, path)?;
            }
            "test" => {
                let want = value()?;
                let toks = split_pointer(path)?;
                let got = parent_mut(doc, &toks)?;
                if *got != want {
                    return Err(format!("testing value {path} failed"));
                }
            }
            "move" => {
                let v = remove_at(doc, from()?)?;
                add_at(doc, path, v, false)?;
            }
            "copy" => {
                let toks = split_pointer(from()?)?;
                let v = parent_mut(doc, &toks)?.clone();
                add_at(doc, path, v, false)?;
            }
            other => return Err(format!("Unexpected kind: {other}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_removes_nulls() {
        let mut d = json!({"metadata": {"labels": {"a": "1", "b": "2"}}});
        merge_patch(
            &mut d,
            &json!({"metadata": {"labels": {"a": null, "c": "3"}}}),
        );
        assert_eq!(d, json!({"metadata": {"labels": {"b": "2", "c": "3"}}}));
    }

    #[test]
    fn strategic_merges_containers_by_name() {
        let s = Schema::new("Deployment", true, None);
        let mut d = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}}});
        let p = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
            "containers": [{"name": "b", "image": "z"}, {"name": "a", "$patch": "delete"}]}}}});
        strategic_merge(&mut d, &p, &s).unwrap();
        assert_eq!(
            d,
            json!({"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "z"}]}}}})
        );
    }

    #[test]
    fn json_patch_ops() {
        let mut d = json!({"a": [1, 2], "b": {"c": 1}});
        json_patch(
            &mut d,
            &json!([
                {"op": "add", "path": "/a/-", "value": 3},
                {"op": "replace", "path": "/b/c", "value": 2},
                {"op": "remove", "path": "/a/0"},
                {"op": "test", "path": "/b/c", "value": 2},
                {"op": "add", "path": "/b/d~1e", "value": true}
            ]),
        )
        .unwrap();
        assert_eq!(d, json!({"a": [2, 3], "b": {"c": 2, "d/e": true}}));
    }
}
