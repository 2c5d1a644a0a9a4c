//! Server-side printing: `meta.k8s.io/v1` Table responses for GET and LIST when the client
//! asks for them (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), with a few
//! kind-specific columns so `kubectl get` output looks like a real cluster's. Pure.

use serde_json::{Value, json};

use crate::meta::{human_age, parse_rfc3339, unix_now};
use crate::registry::ResourceType;

fn col(name: &str, ty: &str, format: &str, desc: &str, priority: i64) -> Value {
    json!({"name": name, "type": ty, "format": format, "description": desc, "priority": priority})
}

fn s<'a>(o: &'a Value, ptr: &str) -> &'a str {
    o.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn n(o: &Value, ptr: &str) -> i64 {
    o.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

fn age(o: &Value) -> String {
    match parse_rfc3339(s(o, "/metadata/creationTimestamp")) {
        Some(t) => human_age(unix_now() - t),
        None => "<unknown>".into(),
    }
}

fn extra_columns(kind: &str) -> Vec<Value> {
    match kind {
        "CustomResourceDefinition" => vec![col("Created At", "date", "", "Creation time", 0)],
        "Namespace" => vec![col(
            "Status",
            "string",
            "",
            "The status of the namespace",
            0,
        )],
        "Deployment" => vec![
            col(
                "Ready",
                "string",
                "",
                "Number of the pod with ready state",
                0,
            ),
            col(
                "Up-to-date",
                "string",
                "",
                "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
                0,
            ),
            col(
                "Available",
                "string",
                "",
                "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
                0,
            ),
        ],
        "StatefulSet" => vec![col(
            "Ready",
            "string",
            "",
            "Number of the pod with ready state",
            0,
        )],
        "Service" => vec![
            col("Type", "string", "", "The type of the service", 0),
            col(
                "Cluster-IP",
                "string",
                "",
                "The cluster IP of the service",
                0,
            ),
            col(
                "External-IP",
                "string",
                "",
                "The external IP of the service",
                0,
            ),
            col("Port(s)", "string", "", "The ports of the service", 0),
        ],
        "ConfigMap" => vec![col("Data", "integer", "", "Number of data entries", 0)],
        "Secret" => vec![
            col("Type", "string", "", "The type of the secret", 0),
            col("Data", "integer", "", "Number of data entries", 0),
        ],
        "Job" => vec![
            col("Status", "string", "", "Status of the job", 0),
            col("Completions", "string", "", "Completions", 0),
        ],
        "PersistentVolumeClaim" => vec![col("Status", "string", "", "Phase", 0)],
        "Pod" => vec![
            col("Ready", "string", "", "Ready containers", 0),
            col("Status", "string", "", "Phase", 0),
        ],
        _ => Vec::new(),
    }
}

fn extra_cells(kind: &str, o: &Value) -> Vec<Value> {
    match kind {
        "Namespace" => vec![json!(s(o, "/status/phase"))],
        "CustomResourceDefinition" => vec![json!(s(o, "/metadata/creationTimestamp"))],
        "Deployment" => {
            let r = o
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            vec![
                json!(format!("{}/{}", n(o, "/status/readyReplicas"), r)),
                json!(n(o, "/status/updatedReplicas")),
                json!(n(o, "/status/availableReplicas")),
            ]
        }
        "StatefulSet" => {
            let r = o
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            vec![json!(format!("{}/{}", n(o, "/status/readyReplicas"), r))]
        }
        "Service" => {
            let ports: Vec<String> = o
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .map(|p| {
                            format!(
                                "{}/{}",
                                p.get("port").map(Value::to_string).unwrap_or_default(),
                                s(p, "/protocol")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            vec![
                json!(s(o, "/spec/type")),
                json!(s(o, "/spec/clusterIP")),
                json!("<none>"),
                json!(if ports.is_empty() {
                    "<none>".to_string()
                } else {
                    ports.join(",")
                }),
            ]
        }
        "ConfigMap" => {
            let c = ["data", "binaryData"]
                .iter()
                .filter_map(|k| o.get(*k).and_then(Value::as_object))
                .map(|m| m.len())
                .sum::<usize>();
            vec![json!(c)]
        }
        "Secret" => vec![
            json!(s(o, "/type")),
            json!(
                o.get("data")
                    .and_then(Value::as_object)
                    .map(|m| m.len())
                    .unwrap_or(0)
            ),
        ],
        "Job" => {
            let done = o
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|cs| {
                    cs.iter().find(|c| {
                        s(c, "/status") == "True" && matches!(s(c, "/type"), "Complete" | "Failed")
                    })
                })
                .map(|c| s(c, "/type").to_string());
            let status = match done.as_deref() {
                Some("Failed") => "Failed",
                Some(_) => "Complete",
                None => "Running",
            };
            let comp = o
                .pointer("/spec/completions")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            vec![
                json!(status),
                json!(format!("{}/{}", n(o, "/status/succeeded"), comp)),
            ]
        }
        "PersistentVolumeClaim" => vec![json!(s(o, "/status/phase"))],
        "Pod" => {
            let total = o
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map(Vec::len)
                .unwrap_or(0);
            let ready = o
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .filter(|c| c.get("ready") == Some(&json!(true)))
                        .count()
                })
                .unwrap_or(0);
            vec![
                json!(format!("{ready}/{total}")),
                json!(s(o, "/status/phase")),
            ]
        }
        _ => Vec::new(),
    }
}

fn partial(o: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o.get("metadata").cloned().unwrap_or(json!({}))})
}

/// Evaluate a simple JSONPath (`.status.phase`, `.spec.items[0].name`) of a printer column.
fn json_path(o: &Value, path: &str) -> Value {
    let mut node = o;
    for seg in path.trim_start_matches('.').split('.') {
        let (name, index) = match seg.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg, None),
        };
        node = match node.get(name) {
            Some(n) => n,
            None => return Value::Null,
        };
        if let Some(i) = index {
            node = match node.get(i) {
                Some(n) => n,
                None => return Value::Null,
            };
        }
    }
    node.clone()
}

fn printer_cell(o: &Value, column: &Value) -> Value {
    let v = json_path(
        o,
        column.get("jsonPath").and_then(Value::as_str).unwrap_or(""),
    );
    match (column.get("type").and_then(Value::as_str), &v) {
        (Some("date"), Value::String(s)) => match parse_rfc3339(s) {
            Some(t) => json!(human_age(unix_now() - t)),
            None => v,
        },
        (_, Value::Null) => json!(""),
        _ => v,
    }
}

/// A Table of `items` (a single GET is a one-row table).
pub(crate) fn table(
    t: &ResourceType,
    version: &str,
    items: &[Value],
    resource_version: &str,
    include_object: bool,
) -> Value {
    let kind = if t.builtin { t.kind.as_str() } else { "" };
    let printer: &[Value] = t
        .printer_columns
        .get(version)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut cols = vec![col(
        "Name",
        "string",
        "name",
        "Name must be unique within a namespace.",
        0,
    )];
    cols.extend(extra_columns(kind));
    for c in printer {
        let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let ty = if s("type") == "date" {
            "string".to_string()
        } else {
            s("type")
        };
        let priority = c.get("priority").and_then(Value::as_i64).unwrap_or(0);
        cols.push(col(
            &s("name"),
            &ty,
            &s("format"),
            &s("description"),
            priority,
        ));
    }
    // Custom resources with printer columns show only those (the CRD decides about Age).
    let with_age = printer.is_empty() && kind != "CustomResourceDefinition";
    if with_age {
        cols.push(col("Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0));
    }
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let mut cells = vec![json!(s(o, "/metadata/name"))];
            cells.extend(extra_cells(kind, o));
            cells.extend(printer.iter().map(|c| printer_cell(o, c)));
            if with_age {
                cells.push(json!(age(o)));
            }
            let object = if include_object {
                o.clone()
            } else {
                partial(o)
            };
            json!({"cells": cells, "object": object})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": cols,
        "rows": rows
    })
}
