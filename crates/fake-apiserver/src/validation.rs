//! Validation of objects as the real API server's validators do it, with their wording:
//! object names (DNS-1123 subdomain/label, DNS-1035, path segments), label keys and values,
//! required fields of common kinds, immutable fields on update (selectors, Service cluster IP,
//! Job template, StatefulSet spec, PVC spec, roleRef, immutable ConfigMaps/Secrets), and
//! unknown-field detection for `fieldValidation`. Returns field errors; never mutates objects
//! except `drop_unknown`, which prunes fields the schema does not know.

use serde_json::Value;

use crate::registry::ResourceType;
use crate::status::{FieldError, go_quote};

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const CONFIG_KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

pub(crate) fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label)
}

fn is_dns1035(s: &str) -> bool {
    is_label(s) && s.as_bytes()[0].is_ascii_lowercase()
}

fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

fn is_label_value(s: &str) -> bool {
    s.is_empty() || is_name_part(s)
}

/// Which name rule a kind uses.
fn name_errors(kind: &str, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    match kind {
        "Namespace" => {
            if !is_label(name) {
                out.push(if name.len() > 63 {
                    "must be no more than 63 characters".into()
                } else {
                    LABEL_MSG.into()
                });
            }
        }
        "Service" => {
            if !is_dns1035(name) {
                out.push(if name.len() > 63 {
                    "must be no more than 63 characters".into()
                } else {
                    DNS1035_MSG.into()
                });
            }
        }
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => {
            if name == "." || name == ".." {
                out.push(format!("may not be '{name}'"));
            }
            for bad in ["/", "%"] {
                if name.contains(bad) {
                    out.push(format!("may not contain '{bad}'"));
                }
            }
        }
        _ => {
            if name.len() > 253 {
                out.push("must be no more than 253 characters".into());
            } else if !is_dns1123_subdomain(name) {
                out.push(SUBDOMAIN_MSG.into());
            }
        }
    }
    out
}

/// Validate an object's metadata name (used before anything else).
pub(crate) fn validate_name(kind: &str, name: &str) -> Vec<FieldError> {
    if name.is_empty() {
        return vec![FieldError::required(
            "metadata.name",
            "name or generateName is required",
        )];
    }
    name_errors(kind, name)
        .into_iter()
        .map(|m| FieldError::invalid("metadata.name", format!("{name:?}"), m))
        .collect()
}

fn qualified_name_errors(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix
        && (p.is_empty() || !is_dns1123_subdomain(p))
    {
        return Some(format!("prefix part {SUBDOMAIN_MSG}"));
    }
    if name.is_empty() {
        return Some("name part must be non-empty".into());
    }
    if name.len() > 63 {
        return Some("name part must be no more than 63 characters".into());
    }
    (!is_name_part(name)).then(|| NAME_PART_MSG.to_string())
}

fn metadata_errors(obj: &Value, prefix: &str, errs: &mut Vec<FieldError>) {
    if let Some(labels) = obj.get("labels").and_then(Value::as_object) {
        for (k, v) in labels {
            if let Some(m) = qualified_name_errors(k) {
                errs.push(FieldError::invalid(
                    format!("{prefix}labels"),
                    format!("{k:?}"),
                    m,
                ));
            }
            match v.as_str() {
                Some(s) if !is_label_value(s) => {
                    let m = if s.len() > 63 {
                        "must be no more than 63 characters".to_string()
                    } else {
                        LABEL_VALUE_MSG.to_string()
                    };
                    errs.push(FieldError::invalid(
                        format!("{prefix}labels"),
                        format!("{s:?}"),
                        m,
                    ));
                }
                Some(_) => {}
                None => errs.push(FieldError::invalid(
                    format!("{prefix}labels"),
                    go_quote(v),
                    "must be a string",
                )),
            }
        }
    }
    if let Some(ann) = obj.get("annotations").and_then(Value::as_object) {
        for k in ann.keys() {
            if let Some(m) = qualified_name_errors(k) {
                errs.push(FieldError::invalid(
                    format!("{prefix}annotations"),
                    format!("{k:?}"),
                    m,
                ));
            }
        }
    }
}

/// `map[string]string{"app":"web"}` as Go's %#v prints it.
fn go_string_map(v: Option<&Value>) -> String {
    match v.and_then(Value::as_object) {
        None => "map[string]string(nil)".into(),
        Some(m) => {
            let mut items: Vec<(&String, &Value)> = m.iter().collect();
            items.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = items
                .iter()
                .map(|(k, v)| format!("{k:?}:{}", go_quote(v)))
                .collect();
            format!("map[string]string{{{}}}", parts.join(", "))
        }
    }
}

/// `v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}`
pub(crate) fn go_label_selector(sel: Option<&Value>) -> String {
    let Some(sel) = sel else {
        return "(*v1.LabelSelector)(nil)".into();
    };
    let exprs = match sel.get("matchExpressions").and_then(Value::as_array) {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(a) => {
            let parts: Vec<String> = a
                .iter()
                .map(|e| {
                    let vals = match e.get("values").and_then(Value::as_array) {
                        None => "[]string(nil)".to_string(),
                        Some(vs) => format!(
                            "[]string{{{}}}",
                            vs.iter().map(go_quote).collect::<Vec<_>>().join(", ")
                        ),
                    };
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                        go_quote(e.get("key").unwrap_or(&Value::Null)),
                        go_quote(e.get("operator").unwrap_or(&Value::Null)),
                        vals
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", parts.join(", "))
        }
    };
    format!(
        "v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{}}}",
        go_string_map(sel.get("matchLabels")),
        exprs
    )
}

fn selector_matches_labels(sel: &Value, labels: Option<&Value>) -> bool {
    let labels = labels.and_then(Value::as_object);
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let ml_ok = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|ml| ml.iter().all(|(k, v)| get(k) == v.as_str()));
    let me_ok = sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .is_none_or(|exprs| {
            exprs.iter().all(|e| {
                let key = e.get("key").and_then(Value::as_str).unwrap_or("");
                let vals: Vec<&str> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                match e.get("operator").and_then(Value::as_str).unwrap_or("") {
                    "In" => get(key).is_some_and(|x| vals.contains(&x)),
                    "NotIn" => get(key).is_none_or(|x| !vals.contains(&x)),
                    "Exists" => get(key).is_some(),
                    "DoesNotExist" => get(key).is_none(),
                    _ => false,
                }
            })
        });
    ml_ok && me_ok
}

fn selector_empty(sel: &Value) -> bool {
    sel.get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|m| m.is_empty())
        && sel
            .get("matchExpressions")
            .and_then(Value::as_array)
            .is_none_or(|a| a.is_empty())
}

fn pod_spec_errors(ps: Option<&Value>, prefix: &str, restart: &[&str], errs: &mut Vec<FieldError>) {
    let Some(ps) = ps else {
        errs.push(FieldError::required(format!("{prefix}.containers"), ""));
        return;
    };
    match ps.get("containers").and_then(Value::as_array) {
        None => errs.push(FieldError::required(format!("{prefix}.containers"), "")),
        Some(cs) if cs.is_empty() => {
            errs.push(FieldError::required(format!("{prefix}.containers"), ""))
        }
        Some(cs) => {
            let mut seen = Vec::new();
            for (i, c) in cs.iter().enumerate() {
                let name = c.get("name").and_then(Value::as_str).unwrap_or("");
                if name.is_empty() {
                    errs.push(FieldError::required(
                        format!("{prefix}.containers[{i}].name"),
                        "",
                    ));
                } else if !is_label(name) {
                    errs.push(FieldError::invalid(
                        format!("{prefix}.containers[{i}].name"),
                        format!("{name:?}"),
                        LABEL_MSG,
                    ));
                } else if seen.contains(&name) {
                    errs.push(FieldError::duplicate(
                        format!("{prefix}.containers[{i}].name"),
                        format!("{name:?}"),
                    ));
                }
                seen.push(name);
                if c.get("image")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    errs.push(FieldError::required(
                        format!("{prefix}.containers[{i}].image"),
                        "",
                    ));
                }
            }
        }
    }
    if let Some(rp) = ps.get("restartPolicy").and_then(Value::as_str)
        && !restart.contains(&rp)
    {
        errs.push(FieldError::not_supported(
            format!("{prefix}.restartPolicy"),
            format!("{rp:?}"),
            restart,
        ));
    }
}

fn workload_errors(kind: &str, o: &Value, errs: &mut Vec<FieldError>) {
    let spec = o.get("spec");
    if let Some(r) = spec.and_then(|s| s.get("replicas")).and_then(Value::as_i64)
        && r < 0
    {
        errs.push(FieldError::invalid(
            "spec.replicas",
            r.to_string(),
            "must be greater than or equal to 0",
        ));
    }
    let sel = spec.and_then(|s| s.get("selector"));
    let tmpl_labels = spec.and_then(|s| s.pointer("/template/metadata/labels"));
    match sel {
        None => errs.push(FieldError::required("spec.selector", "")),
        Some(sel) if selector_empty(sel) => errs.push(FieldError::invalid(
            "spec.selector",
            go_label_selector(Some(sel)),
            format!("empty selector is invalid for {}", kind.to_lowercase()),
        )),
        Some(sel) => {
            if !selector_matches_labels(sel, tmpl_labels) {
                errs.push(FieldError::invalid(
                    "spec.template.metadata.labels",
                    go_string_map(tmpl_labels),
                    "`selector` does not match template `labels`",
                ));
            }
        }
    }
    pod_spec_errors(
        spec.and_then(|s| s.pointer("/template/spec")),
        "spec.template.spec",
        &["Always"],
        errs,
    );
}

/// Kind-specific validation of a (defaulted) object.
pub(crate) fn validate(t: &ResourceType, o: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(meta) = o.get("metadata") {
        metadata_errors(meta, "metadata.", &mut errs);
    }
    let spec = o.get("spec");
    if !t.builtin {
        return errs;
    }
    match t.kind.as_str() {
        "Deployment" | "StatefulSet" | "DaemonSet" => workload_errors(&t.kind, o, &mut errs),
        "Job" => pod_spec_errors(
            spec.and_then(|s| s.pointer("/template/spec")),
            "spec.template.spec",
            &["OnFailure", "Never"],
            &mut errs,
        ),
        "CronJob" => {
            if spec
                .and_then(|s| s.get("schedule"))
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                errs.push(FieldError::required("spec.schedule", ""));
            }
            pod_spec_errors(
                spec.and_then(|s| s.pointer("/jobTemplate/spec/template/spec")),
                "spec.jobTemplate.spec.template.spec",
                &["OnFailure", "Never"],
                &mut errs,
            );
        }
        "Pod" => pod_spec_errors(spec, "spec", &["Always", "OnFailure", "Never"], &mut errs),
        "Service" => service_errors(spec, &mut errs),
        "ConfigMap" | "Secret" => {
            for field in ["data", "binaryData"] {
                if let Some(d) = o.get(field).and_then(Value::as_object) {
                    for k in d.keys() {
                        let ok = !k.is_empty()
                            && k.bytes().all(|c| {
                                c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')
                            });
                        if !ok || k == "." || k == ".." {
                            errs.push(FieldError::invalid(
                                format!("{field}[{k}]"),
                                format!("{k:?}"),
                                CONFIG_KEY_MSG,
                            ));
                        }
                    }
                }
            }
            if t.kind == "Secret"
                && o.get("type").and_then(Value::as_str) == Some("kubernetes.io/tls")
            {
                for k in ["tls.crt", "tls.key"] {
                    if o.pointer(&format!("/data/{}", k.replace('/', "~1")))
                        .is_none()
                    {
                        errs.push(FieldError::required(format!("data[{k}]"), ""));
                    }
                }
            }
        }
        "Ingress" => {
            if let Some(rules) = spec.and_then(|s| s.get("rules")).and_then(Value::as_array) {
                for (i, r) in rules.iter().enumerate() {
                    if let Some(paths) = r.pointer("/http/paths").and_then(Value::as_array) {
                        for (j, p) in paths.iter().enumerate() {
                            if p.get("pathType").is_none() {
                                errs.push(FieldError::required(
                                    format!("spec.rules[{i}].http.paths[{j}].pathType"),
                                    "pathType must be specified",
                                ));
                            }
                            if p.get("backend").is_none() {
                                errs.push(FieldError::required(
                                    format!("spec.rules[{i}].http.paths[{j}].backend"),
                                    "",
                                ));
                            }
                        }
                    }
                }
            }
        }
        "RoleBinding" | "ClusterRoleBinding" => {
            let kinds: &[&str] = if t.kind == "RoleBinding" {
                &["Role", "ClusterRole"]
            } else {
                &["ClusterRole"]
            };
            match o.get("roleRef") {
                None => errs.push(FieldError::required("roleRef", "")),
                Some(rr) => {
                    let k = rr.get("kind").and_then(Value::as_str).unwrap_or("");
                    if !kinds.contains(&k) {
                        errs.push(FieldError::not_supported(
                            "roleRef.kind",
                            format!("{k:?}"),
                            kinds,
                        ));
                    }
                    if rr
                        .get("name")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                    {
                        errs.push(FieldError::required("roleRef.name", ""));
                    }
                }
            }
        }
        "HorizontalPodAutoscaler" => {
            if spec.and_then(|s| s.get("scaleTargetRef")).is_none() {
                errs.push(FieldError::required("spec.scaleTargetRef", ""));
            }
            let max = spec
                .and_then(|s| s.get("maxReplicas"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if max < 1 {
                errs.push(FieldError::invalid(
                    "spec.maxReplicas",
                    max.to_string(),
                    "must be greater than or equal to 1",
                ));
            }
        }
        "CustomResourceDefinition" => crd_errors(o, &mut errs),
        _ => {}
    }
    errs
}

fn service_errors(spec: Option<&Value>, errs: &mut Vec<FieldError>) {
    let ty = spec
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP");
    const TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    if !TYPES.contains(&ty) {
        errs.push(FieldError::not_supported(
            "spec.type",
            format!("{ty:?}"),
            TYPES,
        ));
        return;
    }
    let headless = spec
        .and_then(|s| s.get("clusterIP"))
        .and_then(Value::as_str)
        == Some("None");
    let ports = spec.and_then(|s| s.get("ports")).and_then(Value::as_array);
    if ty != "ExternalName" && !headless && ports.is_none_or(|p| p.is_empty()) {
        errs.push(FieldError::required("spec.ports", ""));
    }
    if ty == "ExternalName" && spec.and_then(|s| s.get("externalName")).is_none() {
        errs.push(FieldError::required("spec.externalName", ""));
    }
    for (i, p) in ports.into_iter().flatten().enumerate() {
        match p.get("port").and_then(Value::as_i64) {
            None => errs.push(FieldError::required(format!("spec.ports[{i}].port"), "")),
            Some(n) if !(1..=65535).contains(&n) => errs.push(FieldError::invalid(
                format!("spec.ports[{i}].port"),
                n.to_string(),
                "must be between 1 and 65535, inclusive",
            )),
            _ => {}
        }
        if ports.is_some_and(|ps| ps.len() > 1)
            && p.get("name")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        {
            errs.push(FieldError::required(format!("spec.ports[{i}].name"), ""));
        }
    }
}

fn crd_errors(o: &Value, errs: &mut Vec<FieldError>) {
    let spec = o.get("spec");
    let group = spec
        .and_then(|s| s.get("group"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let plural = spec
        .and_then(|s| s.pointer("/names/plural"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = o
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if group.is_empty() {
        errs.push(FieldError::required("spec.group", ""));
    }
    if plural.is_empty() {
        errs.push(FieldError::required("spec.names.plural", ""));
    }
    if spec
        .and_then(|s| s.pointer("/names/kind"))
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        errs.push(FieldError::required("spec.names.kind", ""));
    }
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        errs.push(FieldError::invalid(
            "metadata.name",
            format!("{name:?}"),
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    let scope = spec
        .and_then(|s| s.get("scope"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if !matches!(scope, "Namespaced" | "Cluster") {
        errs.push(FieldError::not_supported(
            "spec.scope",
            format!("{scope:?}"),
            &["Cluster", "Namespaced"],
        ));
    }
    let versions = spec
        .and_then(|s| s.get("versions"))
        .and_then(Value::as_array);
    match versions {
        None => errs.push(FieldError::required(
            "spec.versions",
            "must have exactly one version marked as storage version",
        )),
        Some(vs) => {
            let storage = vs
                .iter()
                .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                .count();
            if storage != 1 {
                errs.push(FieldError::invalid(
                    "spec.versions",
                    format!(
                        "[]apiextensions.CustomResourceDefinitionVersion{{...{} versions}}",
                        vs.len()
                    ),
                    "must have exactly one version marked as storage version",
                ));
            }
            for (i, v) in vs.iter().enumerate() {
                if v.pointer("/schema/openAPIV3Schema").is_none() {
                    errs.push(FieldError::required(
                        format!("spec.versions[{i}].schema.openAPIV3Schema"),
                        "schemas are required",
                    ));
                }
            }
        }
    }
}

fn changed(old: &Value, new: &Value, ptr: &str) -> bool {
    old.pointer(ptr) != new.pointer(ptr)
}

/// Immutability checks of an update (`old` stored, `new` defaulted candidate).
pub(crate) fn validate_update(t: &ResourceType, old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !t.builtin {
        return errs;
    }
    match t.kind.as_str() {
        "Deployment" | "DaemonSet" if changed(old, new, "/spec/selector") => {
            errs.push(FieldError::invalid(
                "spec.selector",
                go_label_selector(new.pointer("/spec/selector")),
                "field is immutable",
            ));
        }
        "StatefulSet" => {
            let mut o = old.get("spec").cloned().unwrap_or(Value::Null);
            let mut n = new.get("spec").cloned().unwrap_or(Value::Null);
            for k in [
                "replicas",
                "ordinals",
                "template",
                "updateStrategy",
                "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds",
            ] {
                if let Some(m) = o.as_object_mut() {
                    m.remove(k);
                }
                if let Some(m) = n.as_object_mut() {
                    m.remove(k);
                }
            }
            if o != n {
                errs.push(FieldError::forbidden(
                    "spec",
                    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                ));
            }
        }
        "Job" => {
            if changed(old, new, "/spec/selector") {
                errs.push(FieldError::invalid(
                    "spec.selector",
                    go_label_selector(new.pointer("/spec/selector")),
                    "field is immutable",
                ));
            }
            let suspended = new.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
            if changed(old, new, "/spec/template") && !suspended {
                let tmpl = new
                    .pointer("/spec/template")
                    .map(Value::to_string)
                    .unwrap_or_default();
                errs.push(FieldError::invalid(
                    "spec.template",
                    format!("core.PodTemplateSpec{tmpl}"),
                    "field is immutable",
                ));
            }
            if changed(old, new, "/spec/completions") {
                let c = new
                    .pointer("/spec/completions")
                    .map(go_quote)
                    .unwrap_or_else(|| "nil".into());
                errs.push(FieldError::invalid(
                    "spec.completions",
                    c,
                    "field is immutable",
                ));
            }
        }
        "Service" => {
            let old_ip = old
                .pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .unwrap_or("");
            let new_ip = new
                .pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .unwrap_or("");
            let was_external =
                old.pointer("/spec/type").and_then(Value::as_str) == Some("ExternalName");
            let now_external =
                new.pointer("/spec/type").and_then(Value::as_str) == Some("ExternalName");
            if !was_external && !now_external && !old_ip.is_empty() && old_ip != new_ip {
                let ips: Vec<String> = new
                    .pointer("/spec/clusterIPs")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().map(go_quote).collect())
                    .unwrap_or_else(|| vec![format!("{new_ip:?}")]);
                errs.push(FieldError::invalid(
                    "spec.clusterIPs[0]",
                    format!("[]string{{{}}}", ips.join(", ")),
                    "may not change once set",
                ));
            }
        }
        "PersistentVolumeClaim" => {
            let strip = |v: &Value| {
                let mut s = v.get("spec").cloned().unwrap_or(Value::Null);
                if let Some(r) = s.get_mut("resources").and_then(Value::as_object_mut) {
                    r.remove("requests");
                }
                if let Some(m) = s.as_object_mut() {
                    m.remove("volumeAttributesClassName");
                    m.remove("volumeName");
                }
                s
            };
            if strip(old) != strip(new) {
                errs.push(FieldError::forbidden(
                    "spec",
                    "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
                ));
            }
        }
        "ConfigMap" | "Secret" => {
            if old.get("immutable").and_then(Value::as_bool) == Some(true) {
                if changed(old, new, "/data") {
                    errs.push(FieldError::forbidden(
                        "data",
                        "field is immutable when `immutable` is set",
                    ));
                }
                if changed(old, new, "/binaryData") {
                    errs.push(FieldError::forbidden(
                        "binaryData",
                        "field is immutable when `immutable` is set",
                    ));
                }
                if changed(old, new, "/immutable") {
                    errs.push(FieldError::forbidden(
                        "immutable",
                        "field is immutable when `immutable` is set",
                    ));
                }
            }
            if t.kind == "Secret" && changed(old, new, "/type") {
                errs.push(FieldError::invalid(
                    "type",
                    new.get("type").map(go_quote).unwrap_or_default(),
                    "field is immutable",
                ));
            }
        }
        "RoleBinding" | "ClusterRoleBinding" if changed(old, new, "/roleRef") => {
            let rr = new.get("roleRef");
            let f = |k: &str| {
                rr.and_then(|r| r.get(k))
                    .map(go_quote)
                    .unwrap_or_else(|| "\"\"".into())
            };
            errs.push(FieldError::invalid(
                "roleRef",
                format!(
                    "rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
                    f("apiGroup"),
                    f("kind"),
                    f("name")
                ),
                "cannot change roleRef",
            ));
        }
        "CustomResourceDefinition" if changed(old, new, "/spec/scope") => {
            errs.push(FieldError::invalid(
                "spec.scope",
                new.pointer("/spec/scope").map(go_quote).unwrap_or_default(),
                "field is immutable",
            ));
        }
        _ => {}
    }
    errs
}

const META_KEYS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];
const POD_SPEC: &[&str] = &[
    "volumes",
    "initContainers",
    "containers",
    "ephemeralContainers",
    "restartPolicy",
    "terminationGracePeriodSeconds",
    "activeDeadlineSeconds",
    "dnsPolicy",
    "nodeSelector",
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken",
    "nodeName",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "shareProcessNamespace",
    "securityContext",
    "imagePullSecrets",
    "hostname",
    "subdomain",
    "affinity",
    "schedulerName",
    "tolerations",
    "hostAliases",
    "priorityClassName",
    "priority",
    "dnsConfig",
    "readinessGates",
    "runtimeClassName",
    "enableServiceLinks",
    "preemptionPolicy",
    "overhead",
    "topologySpreadConstraints",
    "setHostnameAsFQDN",
    "os",
    "hostUsers",
    "schedulingGates",
    "resourceClaims",
    "resources",
];
const CONTAINER: &[&str] = &[
    "name",
    "image",
    "command",
    "args",
    "workingDir",
    "ports",
    "envFrom",
    "env",
    "resources",
    "resizePolicy",
    "restartPolicy",
    "volumeMounts",
    "volumeDevices",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "imagePullPolicy",
    "securityContext",
    "stdin",
    "stdinOnce",
    "tty",
];
const DEPLOYMENT_SPEC: &[&str] = &[
    "replicas",
    "selector",
    "template",
    "strategy",
    "minReadySeconds",
    "revisionHistoryLimit",
    "paused",
    "progressDeadlineSeconds",
];
const STS_SPEC: &[&str] = &[
    "replicas",
    "selector",
    "template",
    "volumeClaimTemplates",
    "serviceName",
    "podManagementPolicy",
    "updateStrategy",
    "revisionHistoryLimit",
    "minReadySeconds",
    "persistentVolumeClaimRetentionPolicy",
    "ordinals",
];
const DS_SPEC: &[&str] = &[
    "selector",
    "template",
    "updateStrategy",
    "minReadySeconds",
    "revisionHistoryLimit",
];
const JOB_SPEC: &[&str] = &[
    "parallelism",
    "completions",
    "activeDeadlineSeconds",
    "podFailurePolicy",
    "successPolicy",
    "backoffLimit",
    "backoffLimitPerIndex",
    "maxFailedIndexes",
    "selector",
    "manualSelector",
    "template",
    "ttlSecondsAfterFinished",
    "completionMode",
    "suspend",
    "podReplacementPolicy",
    "managedBy",
];
const SERVICE_SPEC: &[&str] = &[
    "ports",
    "selector",
    "clusterIP",
    "clusterIPs",
    "type",
    "externalIPs",
    "sessionAffinity",
    "loadBalancerIP",
    "loadBalancerSourceRanges",
    "externalName",
    "externalTrafficPolicy",
    "healthCheckNodePort",
    "publishNotReadyAddresses",
    "sessionAffinityConfig",
    "ipFamilies",
    "ipFamilyPolicy",
    "allocateLoadBalancerNodePorts",
    "loadBalancerClass",
    "internalTrafficPolicy",
    "trafficDistribution",
];
const SERVICE_PORT: &[&str] = &[
    "name",
    "protocol",
    "appProtocol",
    "port",
    "targetPort",
    "nodePort",
];

fn top_level(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "ConfigMap" => &[
            "apiVersion",
            "kind",
            "metadata",
            "data",
            "binaryData",
            "immutable",
        ],
        "Secret" => &[
            "apiVersion",
            "kind",
            "metadata",
            "data",
            "stringData",
            "type",
            "immutable",
        ],
        "ServiceAccount" => &[
            "apiVersion",
            "kind",
            "metadata",
            "secrets",
            "imagePullSecrets",
            "automountServiceAccountToken",
        ],
        "Role" => &["apiVersion", "kind", "metadata", "rules"],
        "ClusterRole" => &["apiVersion", "kind", "metadata", "rules", "aggregationRule"],
        "RoleBinding" | "ClusterRoleBinding" => {
            &["apiVersion", "kind", "metadata", "subjects", "roleRef"]
        }
        "Lease" | "NetworkPolicy" => &["apiVersion", "kind", "metadata", "spec"],
        _ => &["apiVersion", "kind", "metadata", "spec", "status"],
    })
}

/// Allowed keys of the object found at `path` (field names; list items transparent).
fn allowed(kind: &str, path: &[&str]) -> Option<&'static [&'static str]> {
    let workload = matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet" | "Job");
    match path {
        [] => top_level(kind),
        ["metadata"] => Some(META_KEYS),
        ["spec"] => match kind {
            "Deployment" => Some(DEPLOYMENT_SPEC),
            "StatefulSet" => Some(STS_SPEC),
            "DaemonSet" => Some(DS_SPEC),
            "Job" => Some(JOB_SPEC),
            "Service" => Some(SERVICE_SPEC),
            "Pod" => Some(POD_SPEC),
            _ => None,
        },
        ["spec", "ports"] if kind == "Service" => Some(SERVICE_PORT),
        ["spec", "containers" | "initContainers"] if kind == "Pod" => Some(CONTAINER),
        ["spec", "template"] if workload => Some(&["metadata", "spec"]),
        ["spec", "template", "metadata"] if workload => Some(META_KEYS),
        ["spec", "template", "spec"] if workload => Some(POD_SPEC),
        ["spec", "template", "spec", "containers" | "initContainers"] if workload => {
            Some(CONTAINER)
        }
        ["spec", "jobTemplate", "spec"] if kind == "CronJob" => Some(JOB_SPEC),
        ["spec", "jobTemplate", "spec", "template", "spec"] if kind == "CronJob" => Some(POD_SPEC),
        [
            "spec",
            "jobTemplate",
            "spec",
            "template",
            "spec",
            "containers" | "initContainers",
        ] if kind == "CronJob" => Some(CONTAINER),
        _ => None,
    }
}

/// Dotted paths of fields the schema does not declare (`spec.replicaz`,
/// `spec.template.spec.containers[0].imagee`).
pub(crate) fn unknown_fields(t: &ResourceType, version: &str, o: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if t.builtin {
        let mut names = Vec::new();
        builtin_unknown(&t.kind, o, &mut names, "", &mut out);
    } else {
        if let Some(meta) = o.get("metadata").and_then(Value::as_object) {
            for k in meta.keys() {
                if !META_KEYS.contains(&k.as_str()) {
                    out.push(format!("metadata.{k}"));
                }
            }
        }
        if let (Some(schema), Some(m)) = (t.schema(version), o.as_object()) {
            for (k, v) in m {
                if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                match schema.get("properties").and_then(|p| p.get(k)) {
                    Some(node) => schema_unknown(node, v, k.clone(), &mut out),
                    None if preserves(schema) => {}
                    None => out.push(k.clone()),
                }
            }
        }
    }
    out
}

fn builtin_unknown<'v>(
    kind: &str,
    v: &'v Value,
    names: &mut Vec<&'v str>,
    prefix: &str,
    out: &mut Vec<String>,
) {
    match v {
        Value::Object(m) => {
            let Some(keys) = allowed(kind, names) else {
                return;
            };
            for (k, c) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                if !keys.contains(&k.as_str()) {
                    out.push(p);
                    continue;
                }
                names.push(k.as_str());
                builtin_unknown(kind, c, names, &p, out);
                names.pop();
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                builtin_unknown(kind, item, names, &format!("{prefix}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn preserves(node: &Value) -> bool {
    node.get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
}

fn schema_unknown(node: &Value, v: &Value, prefix: String, out: &mut Vec<String>) {
    if preserves(node)
        || node
            .get("x-kubernetes-embedded-resource")
            .and_then(Value::as_bool)
            == Some(true)
    {
        return;
    }
    match v {
        Value::Object(m) => {
            if let Some(ap) = node.get("additionalProperties") {
                if ap.is_object() {
                    for (k, c) in m {
                        schema_unknown(ap, c, format!("{prefix}.{k}"), out);
                    }
                }
                return;
            }
            let Some(props) = node.get("properties").and_then(Value::as_object) else {
                return;
            };
            for (k, c) in m {
                match props.get(k) {
                    Some(child) => schema_unknown(child, c, format!("{prefix}.{k}"), out),
                    None => out.push(format!("{prefix}.{k}")),
                }
            }
        }
        Value::Array(items) => {
            if let Some(it) = node.get("items") {
                for (i, item) in items.iter().enumerate() {
                    schema_unknown(it, item, format!("{prefix}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// Structural defaulting of custom resources: fill `default` values of missing properties in
/// objects that are present (recursively, through arrays).
pub(crate) fn apply_schema_defaults(node: &Value, v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(props) = node.get("properties").and_then(Value::as_object) {
                for (k, child) in props {
                    match m.get_mut(k) {
                        Some(cv) => apply_schema_defaults(child, cv),
                        None => {
                            if let Some(d) = child.get("default") {
                                m.insert(k.clone(), d.clone());
                            }
                        }
                    }
                }
            } else if let Some(ap) = node.get("additionalProperties").filter(|a| a.is_object()) {
                for (_, cv) in m.iter_mut() {
                    apply_schema_defaults(ap, cv);
                }
            }
        }
        Value::Array(items) => {
            if let Some(it) = node.get("items") {
                for item in items {
                    apply_schema_defaults(it, item);
                }
            }
        }
        _ => {}
    }
}

/// Remove the given unknown fields (as returned by [`unknown_fields`]).
pub(crate) fn drop_unknown(o: &mut Value, paths: &[String]) {
    for p in paths {
        let segs = split_dotted(p);
        remove_segs(o, &segs);
    }
}

fn remove_segs(node: &mut Value, segs: &[Seg]) {
    match segs {
        [] => {}
        [Seg::Key(k)] => {
            if let Some(m) = node.as_object_mut() {
                m.shift_remove(k.as_str());
            }
        }
        [first, rest @ ..] => {
            let next = match first {
                Seg::Key(k) => node.get_mut(k.as_str()),
                Seg::Index(i) => node.get_mut(*i),
            };
            if let Some(n) = next {
                remove_segs(n, rest);
            }
        }
    }
}

enum Seg {
    Key(String),
    Index(usize),
}

fn split_dotted(p: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in p.split('.') {
        let mut rest = part;
        if let Some(idx) = rest.find('[') {
            out.push(Seg::Key(rest[..idx].to_string()));
            rest = &rest[idx..];
            while let Some(end) = rest.find(']') {
                if let Ok(i) = rest[1..end].parse() {
                    out.push(Seg::Index(i));
                }
                rest = &rest[end + 1..];
            }
        } else {
            out.push(Seg::Key(rest.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names() {
        assert!(validate_name("ConfigMap", "web.config-1").is_empty());
        assert_eq!(validate_name("ConfigMap", "Web").len(), 1);
        assert_eq!(validate_name("Namespace", "a.b").len(), 1);
        assert_eq!(validate_name("Service", "1abc").len(), 1);
        assert!(validate_name("ClusterRole", "system:controller:x").is_empty());
    }

    #[test]
    fn selector_rendering() {
        let s = json!({"matchLabels": {"b": "2", "a": "1"}});
        assert_eq!(
            go_label_selector(Some(&s)),
            "v1.LabelSelector{MatchLabels:map[string]string{\"a\":\"1\", \"b\":\"2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
        );
    }

    #[test]
    fn dotted_paths() {
        let mut o =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "imagee": "x"}]}}}});
        drop_unknown(
            &mut o,
            &["spec.template.spec.containers[0].imagee".to_string()],
        );
        assert_eq!(
            o,
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}})
        );
    }
}
