//! kustomize's content hash for generated ConfigMaps and Secrets.
//!
//! Owns: the exact encoding kustomize hashes (kind, data, binaryData or type and stringData,
//! and an always-empty name), (Go's `encoding/json` of a map with sorted keys,
//! HTML-escaped), SHA-256, and the 10-character suffix alphabet (`0,1,3,a,e` mapped to
//! `g,h,k,m,t`).
//! Must not: decide which objects get a hash.

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::manifest::Node;

/// The suffix kustomize appends to a generated ConfigMap or Secret name.
pub fn suffix(node: &Node) -> String {
    let kind = node.path_name(&["kind"]).unwrap_or("");
    let field = |k: &str| -> Json {
        match node.get(k) {
            None => Json::String(String::new()),
            Some(n) if n.is_scalar() => Json::String(n.text().unwrap_or("").to_string()),
            Some(n) => n.to_json(),
        }
    };
    // kustomize looks the name up as a single field called "metadata/name", which never
    // exists, so the name it hashes is always empty; kept for identical suffixes.
    let name = Json::String(String::new());
    let mut m = serde_json::Map::new();
    match kind {
        "ConfigMap" => {
            m.insert("kind".into(), Json::String("ConfigMap".into()));
            m.insert("name".into(), name);
            m.insert("data".into(), field("data"));
            if node.get("binaryData").is_some_and(Node::is_map) {
                m.insert("binaryData".into(), field("binaryData"));
            }
        }
        "Secret" => {
            m.insert("kind".into(), Json::String("Secret".into()));
            m.insert("type".into(), field("type"));
            m.insert("name".into(), name);
            m.insert("data".into(), field("data"));
            if node.get("stringData").is_some_and(Node::is_map) {
                m.insert("stringData".into(), field("stringData"));
            }
        }
        _ => return encode(&go_json(&node.to_json())),
    }
    encode(&go_json(&Json::Object(m)))
}

fn encode(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    hex.chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// Go's `json.Marshal`: object keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped.
pub fn go_json(v: &Json) -> String {
    let mut out = String::new();
    write_go_json(&mut out, v);
    out
}

fn write_go_json(out: &mut String, v: &Json) {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(out, k);
                out.push(':');
                write_go_json(out, &m[k.as_str()]);
            }
            out.push('}');
        }
        Json::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(out, x);
            }
            out.push(']');
        }
        Json::String(s) => write_go_string(out, s),
        other => out.push_str(&other.to_string()),
    }
}

fn write_go_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_json_escapes_like_go() {
        assert_eq!(
            go_json(&serde_json::json!({"b": "<a&b>", "a": [1, "x\n"]})),
            r#"{"a":[1,"x\n"],"b":"\u003ca\u0026b\u003e"}"#
        );
    }
}
