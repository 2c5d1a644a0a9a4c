//! Normalizing objects before comparing them: what the server adds for its own bookkeeping is
//! dropped so only meaningful differences remain.
//! Must not: drop anything a user can set (labels, annotations other than kubectl's
//! last-applied copy, spec, data).

use serde_json::Value as Json;

const DROPPED_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
];

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Returns a copy without managedFields, resourceVersion, uid, generation, creationTimestamp,
/// status and kubectl's last-applied annotation.
pub fn normalize(obj: &Json) -> Json {
    let mut o = obj.clone();
    if let Some(map) = o.as_object_mut() {
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Json::as_object_mut) {
            for k in DROPPED_METADATA {
                meta.remove(*k);
            }
            let empty = match meta.get_mut("annotations").and_then(Json::as_object_mut) {
                Some(a) => {
                    a.remove(LAST_APPLIED);
                    a.is_empty()
                }
                None => false,
            };
            if empty {
                meta.remove("annotations");
            }
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drops_server_bookkeeping_only() {
        let o = json!({
            "metadata": {"name": "x", "uid": "u", "resourceVersion": "9", "generation": 2,
                "creationTimestamp": "t", "managedFields": [],
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
                "labels": {"a": "b"}},
            "spec": {"replicas": 2},
            "status": {"ready": true}
        });
        assert_eq!(
            normalize(&o),
            json!({"metadata": {"name": "x", "labels": {"a": "b"}}, "spec": {"replicas": 2}})
        );
    }
}
