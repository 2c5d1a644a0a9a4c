//! Decoding of the Kubernetes protobuf request encoding (`application/vnd.kubernetes.protobuf`)
//! for the few kinds kubectl's typed imperative commands create: Namespace, ConfigMap, Secret
//! and ServiceAccount (`kubectl create ns|configmap|secret|serviceaccount`). Produces the same
//! JSON object a JSON client would have sent. Other kinds are refused (415), which is all the
//! real server's codecs have over ours. Pure; never panics on malformed input.

use base64::Engine;
use serde_json::{Map, Value, json};

const MAGIC: &[u8] = b"k8s\0";

struct Reader<'a> {
    buf: &'a [u8],
}

#[derive(Clone, Copy)]
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Other,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut out = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.buf.split_first()?;
            self.buf = rest;
            out |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(out);
            }
        }
        None
    }

    /// Next (field number, value), or None at the end / on malformed input.
    fn next(&mut self) -> Option<(u64, Field<'a>)> {
        if self.buf.is_empty() {
            return None;
        }
        let key = self.varint()?;
        let field = key >> 3;
        match key & 7 {
            0 => Some((field, Field::Varint(self.varint()?))),
            1 => {
                self.buf = self.buf.get(8..)?;
                Some((field, Field::Other))
            }
            2 => {
                let len = usize::try_from(self.varint()?).ok()?;
                let bytes = self.buf.get(..len)?;
                self.buf = &self.buf[len..];
                Some((field, Field::Bytes(bytes)))
            }
            5 => {
                self.buf = self.buf.get(4..)?;
                Some((field, Field::Other))
            }
            _ => None,
        }
    }
}

fn fields(buf: &[u8]) -> Vec<(u64, Field<'_>)> {
    let mut r = Reader { buf };
    let mut out = Vec::new();
    while let Some(f) = r.next() {
        out.push(f);
    }
    out
}

fn string(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A `map<string, string|bytes>` entry.
fn map_entry(b: &[u8], bytes_value: bool) -> (String, Value) {
    let (mut k, mut v) = (String::new(), Value::String(String::new()));
    for (n, f) in fields(b) {
        if let Field::Bytes(x) = f {
            match n {
                1 => k = string(x),
                2 if bytes_value => v = json!(base64::engine::general_purpose::STANDARD.encode(x)),
                2 => v = json!(string(x)),
                _ => {}
            }
        }
    }
    (k, v)
}

fn insert_map(m: &mut Map<String, Value>, key: &str, entry: (String, Value)) {
    let e = m.entry(key.to_string()).or_insert_with(|| json!({}));
    if let Some(obj) = e.as_object_mut() {
        obj.insert(entry.0, entry.1);
    }
}

fn push_list(m: &mut Map<String, Value>, key: &str, v: Value) {
    let e = m.entry(key.to_string()).or_insert_with(|| json!([]));
    if let Some(a) = e.as_array_mut() {
        a.push(v);
    }
}

fn object_meta(b: &[u8]) -> Value {
    let mut m = Map::new();
    for (n, f) in fields(b) {
        match (n, f) {
            (1, Field::Bytes(x)) => {
                m.insert("name".into(), json!(string(x)));
            }
            (2, Field::Bytes(x)) => {
                m.insert("generateName".into(), json!(string(x)));
            }
            (3, Field::Bytes(x)) => {
                m.insert("namespace".into(), json!(string(x)));
            }
            (6, Field::Bytes(x)) => {
                m.insert("resourceVersion".into(), json!(string(x)));
            }
            (11, Field::Bytes(x)) => insert_map(&mut m, "labels", map_entry(x, false)),
            (12, Field::Bytes(x)) => insert_map(&mut m, "annotations", map_entry(x, false)),
            (14, Field::Bytes(x)) => push_list(&mut m, "finalizers", json!(string(x))),
            _ => {}
        }
    }
    Value::Object(m)
}

fn decode_object(kind: &str, api_version: &str, raw: &[u8]) -> Option<Value> {
    let mut m = Map::new();
    m.insert("apiVersion".into(), json!(api_version));
    m.insert("kind".into(), json!(kind));
    for (n, f) in fields(raw) {
        let Field::Bytes(x) = f else {
            if let (Field::Varint(v), true) = (
                f,
                matches!(
                    (kind, n),
                    ("ConfigMap", 4) | ("Secret", 5) | ("ServiceAccount", 4)
                ),
            ) {
                let key = if kind == "ServiceAccount" {
                    "automountServiceAccountToken"
                } else {
                    "immutable"
                };
                m.insert(key.into(), json!(v != 0));
            }
            continue;
        };
        match (kind, n) {
            (_, 1) => {
                m.insert("metadata".into(), object_meta(x));
            }
            ("Namespace", 2) => {
                let mut spec = Map::new();
                for (sn, sf) in fields(x) {
                    if let (1, Field::Bytes(fx)) = (sn, sf) {
                        push_list(&mut spec, "finalizers", json!(string(fx)));
                    }
                }
                m.insert("spec".into(), Value::Object(spec));
            }
            ("ConfigMap", 2) => insert_map(&mut m, "data", map_entry(x, false)),
            ("ConfigMap", 3) => insert_map(&mut m, "binaryData", map_entry(x, true)),
            ("Secret", 2) => insert_map(&mut m, "data", map_entry(x, true)),
            ("Secret", 3) => {
                m.insert("type".into(), json!(string(x)));
            }
            ("Secret", 4) => insert_map(&mut m, "stringData", map_entry(x, false)),
            ("ServiceAccount", 3) => {
                let mut r = Map::new();
                for (rn, rf) in fields(x) {
                    if let (1, Field::Bytes(fx)) = (rn, rf) {
                        r.insert("name".into(), json!(string(fx)));
                    }
                }
                push_list(&mut m, "imagePullSecrets", Value::Object(r));
            }
            _ => {}
        }
    }
    Some(Value::Object(m))
}

/// Decode a protobuf-encoded request body. `Err` names what is not supported.
pub(crate) fn decode(body: &[u8]) -> Result<Value, String> {
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or("missing protobuf envelope")?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), None);
    for (n, f) in fields(rest) {
        match (n, f) {
            (1, Field::Bytes(tm)) => {
                for (tn, tf) in fields(tm) {
                    match (tn, tf) {
                        (1, Field::Bytes(x)) => api_version = string(x),
                        (2, Field::Bytes(x)) => kind = string(x),
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(x)) => raw = Some(x),
            _ => {}
        }
    }
    let raw = raw.ok_or("empty protobuf object")?;
    if !matches!(
        kind.as_str(),
        "Namespace" | "ConfigMap" | "Secret" | "ServiceAccount"
    ) {
        return Err(format!(
            "protobuf encoding of {kind} is not supported by fake-apiserver; use JSON"
        ));
    }
    decode_object(&kind, &api_version, raw).ok_or_else(|| "malformed protobuf object".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(n: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![(n << 3) | 2, payload.len() as u8];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn decodes_a_configmap() {
        let meta = [
            field(1, b"cfg"),
            field(11, &[field(1, b"app"), field(2, b"web")].concat()),
        ]
        .concat();
        let obj = [
            field(1, &meta),
            field(2, &[field(1, b"k"), field(2, b"v")].concat()),
        ]
        .concat();
        let tm = [field(1, b"v1"), field(2, b"ConfigMap")].concat();
        let body = [MAGIC.to_vec(), field(1, &tm), field(2, &obj)].concat();
        let v = decode(&body).unwrap();
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "labels": {"app": "web"}}, "data": {"k": "v"}})
        );
        assert!(decode(b"garbage").is_err());
    }
}
