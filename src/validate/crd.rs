//! Custom resource schemas: CRDs found in the environment, and JSON schema files in the
//! folders of `validate.schemaLocations` (kubeconform's layout). Both become JSON Schema
//! documents whose `metadata` is the built-in ObjectMeta.
//! Must not: walk objects other than CRDs, or build findings.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::manifest::{Node, Object, Pos};

use super::builtin::SchemaSet;
use super::schemas::{self, BuiltinCache, OBJECT_META};

/// One CustomResourceDefinition of the environment.
pub(crate) struct Crd {
    pub group: String,
    pub kind: String,
    pub versions: Vec<CrdVersion>,
    /// Index of the CRD object.
    pub object: usize,
}

pub(crate) struct CrdVersion {
    pub name: String,
    pub served: bool,
    /// `openAPIV3Schema` as JSON, when the version has one.
    pub schema: Option<Value>,
    /// Where the schema starts (for findings about it).
    pub pos: Pos,
}

/// Every `apiextensions.k8s.io/v1` CRD among `objects`.
pub(crate) fn collect(objects: &[Object]) -> Vec<Crd> {
    let mut out = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        if o.kind() != "CustomResourceDefinition" || o.api_version() != "apiextensions.k8s.io/v1" {
            continue;
        }
        let spec = o.node.get("spec");
        let text = |keys: &[&str]| {
            spec.and_then(|s| s.path_name(keys))
                .unwrap_or("")
                .to_string()
        };
        let group = text(&["group"]);
        let kind = text(&["names", "kind"]);
        if group.is_empty() || kind.is_empty() {
            continue;
        }
        let versions = spec
            .and_then(|s| s.get("versions"))
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter_map(|v| {
                let name = v.path_name(&["name"])?.to_string();
                let schema_node = v.path(&["schema", "openAPIV3Schema"]);
                Some(CrdVersion {
                    name,
                    served: v.get("served").and_then(Node::as_bool).unwrap_or(true),
                    schema: schema_node.map(Node::to_json),
                    pos: schema_node.map_or(v.pos, |n| n.pos),
                })
            })
            .collect();
        out.push(Crd {
            group,
            kind,
            versions,
            object: i,
        });
    }
    out
}

/// The JSON Schema document for a custom resource from its OpenAPI v3 schema: converted,
/// strict when asked (structural: unknown fields are pruned by the API server, so they are
/// errors under strict field validation), with `apiVersion`, `kind` and the built-in
/// `metadata` schema at the root.
pub(crate) fn document(
    openapi: &Value,
    strict: bool,
    close_empty: bool,
    set: &SchemaSet,
    cache: &BuiltinCache,
) -> Value {
    let mut doc = openapi.clone();
    schemas::openapi_to_json_schema(&mut doc);
    if let Value::Object(m) = &mut doc {
        let props = m.entry("properties").or_insert_with(|| json!({}));
        if let Value::Object(p) = props {
            p.entry("apiVersion")
                .or_insert_with(|| json!({"type": "string"}));
            p.entry("kind").or_insert_with(|| json!({"type": "string"}));
            p.insert(
                "metadata".into(),
                json!({ "$ref": format!("#/$defs/{OBJECT_META}") }),
            );
        }
        m.entry("type").or_insert_with(|| json!("object"));
    }
    if strict {
        schemas::close_objects(&mut doc, close_empty);
    }
    let mut meta = cache.closure(set, OBJECT_META);
    if strict {
        for d in meta.values_mut() {
            schemas::close_objects(d, false);
        }
    }
    if let Value::Object(m) = &mut doc {
        let defs = m.entry("$defs").or_insert_with(|| json!({}));
        if let Value::Object(d) = defs {
            d.extend(meta);
        }
    }
    doc
}

/// The file names a schema location folder may use for `group/version kind`, in order:
/// `{kind}-{group}-{version}.json` (the and kubeconform's CRD layout),
/// `{kind}-{first group label}-{version}.json` and `{kind}-{version}.json` (kubeconform's
/// built-in layout), and `{group}/{kind}_{version}.json` (the CRDs-catalog layout). Kinds are
/// lower case.
pub(crate) fn file_names(group: &str, version: &str, kind: &str) -> Vec<String> {
    let k = kind.to_ascii_lowercase();
    let mut names = Vec::new();
    if group.is_empty() {
        names.push(format!("{k}-{version}.json"));
    } else {
        names.push(format!("{k}-{group}-{version}.json"));
        if let Some(first) = group.split('.').next()
            && first != group
        {
            names.push(format!("{k}-{first}-{version}.json"));
        }
        names.push(format!("{group}/{k}_{version}.json"));
    }
    names
}

/// The first existing schema file for a kind in `dirs`.
pub(crate) fn find_file(
    dirs: &[PathBuf],
    group: &str,
    version: &str,
    kind: &str,
) -> Option<PathBuf> {
    let names = file_names(group, version, kind);
    dirs.iter()
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

/// Reads and converts a schema file.
pub(crate) fn load_file(path: &Path, strict: bool) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut doc: Value = serde_json::from_str(&text).map_err(|e| format!("not valid JSON: {e}"))?;
    schemas::openapi_to_json_schema(&mut doc);
    if strict {
        schemas::close_objects(&mut doc, false);
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_file_layouts() {
        assert_eq!(
            file_names("cert-manager.io", "v1", "Certificate"),
            [
                "certificate-cert-manager.io-v1.json",
                "certificate-cert-manager-v1.json",
                "cert-manager.io/certificate_v1.json"
            ]
        );
        assert_eq!(file_names("", "v1", "Service"), ["service-v1.json"]);
    }
}
