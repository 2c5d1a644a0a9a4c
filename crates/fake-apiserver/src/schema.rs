//! Structural hints that server-side apply and strategic merge need: which lists are
//! associative (and by which keys), which are sets, which maps are atomic. Built-in kinds use
//! the merge keys of the real Kubernetes types; custom resources read
//! `x-kubernetes-list-type`, `x-kubernetes-list-map-keys` and `x-kubernetes-map-type` from the
//! CRD's openAPIV3Schema. Must not mutate objects.

use serde_json::Value;

/// How a list is merged and tracked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListType {
    Atomic,
    /// Associative list keyed by these fields, with defaults for missing key fields.
    Map(Vec<(String, Option<Value>)>),
    Set,
}

/// Structural information for one object type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schema<'a> {
    pub kind: &'a str,
    pub builtin: bool,
    /// openAPIV3Schema of a custom resource version.
    pub crd: Option<&'a Value>,
}

fn keys(names: &[&str], tcp_protocol: bool) -> ListType {
    ListType::Map(
        names
            .iter()
            .map(|n| {
                let default =
                    (tcp_protocol && *n == "protocol").then(|| Value::String("TCP".into()));
                (n.to_string(), default)
            })
            .collect(),
    )
}

const CONTAINER_LISTS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

impl<'a> Schema<'a> {
    pub fn new(kind: &'a str, builtin: bool, crd: Option<&'a Value>) -> Self {
        Schema { kind, builtin, crd }
    }

    /// Merge semantics of the list found at `names` (field names only, list items skipped).
    pub fn list_type(&self, names: &[&str]) -> ListType {
        let last = names.last().copied().unwrap_or("");
        if names.first() == Some(&"metadata") || self.builtin {
            return self.builtin_list_type(names, last);
        }
        match self.crd_node(names) {
            Some(node) => match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
                Some("map") => {
                    let ks: Vec<(String, Option<Value>)> = node
                        .get("x-kubernetes-list-map-keys")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(|k| {
                                    let default = node
                                        .get("items")
                                        .and_then(|i| i.get("properties"))
                                        .and_then(|p| p.get(k))
                                        .and_then(|p| p.get("default"))
                                        .cloned();
                                    (k.to_string(), default)
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    if ks.is_empty() {
                        ListType::Atomic
                    } else {
                        ListType::Map(ks)
                    }
                }
                Some("set") => ListType::Set,
                _ => ListType::Atomic,
            },
            None => ListType::Atomic,
        }
    }

    fn builtin_list_type(&self, names: &[&str], last: &str) -> ListType {
        let parent = if names.len() >= 2 {
            names[names.len() - 2]
        } else {
            ""
        };
        match last {
            "finalizers" if names.len() == 2 && parent == "metadata" => ListType::Set,
            "ownerReferences" if parent == "metadata" => keys(&["uid"], false),
            "managedFields" => ListType::Atomic,
            _ if CONTAINER_LISTS.contains(&last) => keys(&["name"], false),
            "env" | "imagePullSecrets" | "resourceClaims" if self.builtin => keys(&["name"], false),
            "volumes" if self.builtin && parent == "spec" => keys(&["name"], false),
            "volumeMounts" if self.builtin => keys(&["mountPath"], false),
            "volumeDevices" if self.builtin => keys(&["devicePath"], false),
            "hostAliases" if self.builtin => keys(&["ip"], false),
            "topologySpreadConstraints" if self.builtin => {
                keys(&["topologyKey", "whenUnsatisfiable"], false)
            }
            "conditions" if self.builtin => keys(&["type"], false),
            "ports" if self.builtin && CONTAINER_LISTS.contains(&parent) => {
                keys(&["containerPort", "protocol"], true)
            }
            "ports" if self.builtin && self.kind == "Service" && names == ["spec", "ports"] => {
                keys(&["port", "protocol"], true)
            }
            _ => ListType::Atomic,
        }
    }

    /// Whether the map (or struct) at `names` is replaced as a whole.
    pub fn map_atomic(&self, names: &[&str]) -> bool {
        let last = names.last().copied().unwrap_or("");
        if names.first() == Some(&"metadata") {
            return false;
        }
        if self.builtin {
            return matches!(
                last,
                "selector" | "podSelector" | "namespaceSelector" | "nodeSelector" | "labelSelector"
            );
        }
        match self.crd_node(names) {
            Some(node) => {
                node.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic")
                    || node
                        .get("x-kubernetes-int-or-string")
                        .and_then(Value::as_bool)
                        == Some(true)
            }
            None => false,
        }
    }

    /// Walk the CRD schema along `names`, stepping into `items` through arrays.
    pub fn crd_node(&self, names: &[&str]) -> Option<&'a Value> {
        let mut node = self.crd?;
        for name in names {
            while node.get("type").and_then(Value::as_str) == Some("array") {
                node = node.get("items")?;
            }
            node = match node.get("properties").and_then(|p| p.get(*name)) {
                Some(n) => n,
                None => match node.get("additionalProperties") {
                    Some(ap) if ap.is_object() => ap,
                    _ => return None,
                },
            };
        }
        Some(node)
    }
}

/// The element string (`k:{"name":"app"}`) of an associative list item, or None when the
/// item lacks a key field that has no default.
pub(crate) fn item_key_element(item: &Value, keys: &[(String, Option<Value>)]) -> Option<String> {
    let obj = item.as_object()?;
    let mut sorted: Vec<&(String, Option<Value>)> = keys.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut m = serde_json::Map::new();
    for (k, default) in sorted {
        let v = match obj.get(k) {
            Some(v) if !v.is_null() => v.clone(),
            _ => default.clone()?,
        };
        m.insert(k.clone(), v);
    }
    Some(format!("k:{}", Value::Object(m)))
}

/// The element string of a set item: `v:"value"`.
pub(crate) fn set_element(item: &Value) -> String {
    format!("v:{item}")
}
