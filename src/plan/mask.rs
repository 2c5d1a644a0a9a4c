//! Masking Secret values: no value of a Secret ever reaches a diff.
//!
//! Owns: replacing every `data`/`stringData` value with `***`; a key whose value changes shows
//! `*** (before)` and `*** (after)`, added and removed keys are named with `***` values.
//! Must not: keep any part of a value (not even its length).

use serde_json::Value as Json;

const MASK: &str = "***";

/// Masks a (before, after) pair of Secrets so that equal values stay equal lines and changed
/// values differ only by the `(before)`/`(after)` marker.
pub fn mask_secret_pair(
    before: Option<&Json>,
    after: Option<&Json>,
) -> (Option<Json>, Option<Json>) {
    let mut b = before.cloned();
    let mut a = after.cloned();
    for field in ["data", "stringData"] {
        let bv = b.as_ref().and_then(|o| o.get(field)).cloned();
        let av = a.as_ref().and_then(|o| o.get(field)).cloned();
        if let Some(obj) = b
            .as_mut()
            .and_then(|o| o.get_mut(field))
            .and_then(Json::as_object_mut)
        {
            for (k, v) in obj.iter_mut() {
                let changed = av.as_ref().and_then(|x| x.get(k)).is_some_and(|x| x != v);
                *v = Json::String(if changed {
                    format!("{MASK} (before)")
                } else {
                    MASK.to_string()
                });
            }
        }
        if let Some(obj) = a
            .as_mut()
            .and_then(|o| o.get_mut(field))
            .and_then(Json::as_object_mut)
        {
            for (k, v) in obj.iter_mut() {
                let changed = bv.as_ref().and_then(|x| x.get(k)).is_some_and(|x| x != v);
                *v = Json::String(if changed {
                    format!("{MASK} (after)")
                } else {
                    MASK.to_string()
                });
            }
        }
    }
    // kubectl's last-applied copy and managedFields could hold values too.
    for o in [b.as_mut(), a.as_mut()].into_iter().flatten() {
        if let Some(meta) = o.get_mut("metadata").and_then(Json::as_object_mut) {
            meta.remove("managedFields");
            if let Some(ann) = meta.get_mut("annotations").and_then(Json::as_object_mut) {
                ann.remove("kubectl.kubernetes.io/last-applied-configuration");
            }
        }
    }
    (b, a)
}

/// Every value a Secret holds, decoded and encoded, so outputs can be redacted.
pub fn secret_values(obj: &Json) -> Vec<String> {
    use base64::Engine as _;
    let mut out = Vec::new();
    for field in ["data", "stringData"] {
        for v in obj
            .get(field)
            .and_then(Json::as_object)
            .into_iter()
            .flat_map(|m| m.values())
        {
            if let Some(s) = v.as_str() {
                out.push(s.to_string());
                if field == "data"
                    && let Ok(bytes) =
                        base64::engine::general_purpose::STANDARD.decode(s.replace('\n', ""))
                    && let Ok(text) = String::from_utf8(bytes)
                {
                    out.push(text);
                }
            }
        }
    }
    out
}
