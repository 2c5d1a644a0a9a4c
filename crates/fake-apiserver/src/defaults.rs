//! Defaulting of built-in kinds, as the real API server's defaulters and registry strategies
//! do it (Deployment strategy and limits, pod template fields, container fields, Service
//! cluster IPs and ports, Secret stringData, Namespace finalizers, Job selectors, ...).
//! Runs on every write after merging and before validation. Owns the cluster IP and node
//! port allocators' use, not their state (passed in). Must not validate or reject.

use base64::Engine;
use serde_json::{Map, Value, json};

/// Allocators for Service addresses (state lives in the world).
pub(crate) struct Allocators<'a> {
    pub next_ip: &'a mut u32,
    pub next_node_port: &'a mut u32,
}

impl Allocators<'_> {
    fn cluster_ip(&mut self) -> String {
        // 10.96.0.0/12; skip .0, .1 (kubernetes service) and .10 (DNS).
        loop {
            *self.next_ip += 1;
            let n = *self.next_ip;
            if n.is_multiple_of(256) || n == 1 || n == 10 {
                continue;
            }
            return format!(
                "10.{}.{}.{}",
                96 + ((n >> 16) & 0x0f),
                (n >> 8) & 0xff,
                n & 0xff
            );
        }
    }

    fn node_port(&mut self) -> u32 {
        *self.next_node_port += 1;
        30000 + (*self.next_node_port % 2768)
    }
}

fn obj(v: &mut Value) -> Option<&mut Map<String, Value>> {
    v.as_object_mut()
}

fn set_default(m: &mut Map<String, Value>, key: &str, v: Value) {
    if !m.contains_key(key) || m.get(key).is_some_and(Value::is_null) {
        m.insert(key.to_string(), v);
    }
}

fn child<'a>(m: &'a mut Map<String, Value>, key: &str) -> &'a mut Value {
    let e = m.entry(key.to_string()).or_insert_with(|| json!({}));
    if !e.is_object() {
        *e = json!({});
    }
    e
}

/// Apply defaults to `o` (a full object). `old` is the stored version on update.
pub(crate) fn apply_defaults(
    kind: &str,
    o: &mut Value,
    old: Option<&Value>,
    alloc: &mut Allocators<'_>,
) {
    match kind {
        "Deployment" => deployment(o),
        "StatefulSet" => statefulset(o),
        "DaemonSet" => daemonset(o),
        "Job" => {
            if let Some(spec) = o.get_mut("spec").and_then(obj) {
                job_spec(spec);
            }
        }
        "CronJob" => cronjob(o),
        "Pod" => {
            if let Some(spec) = o.get_mut("spec").and_then(obj) {
                pod_spec(spec);
                set_default(spec, "serviceAccountName", json!("default"));
                set_default(spec, "serviceAccount", json!("default"));
                set_default(spec, "enableServiceLinks", json!(true));
                set_default(spec, "priority", json!(0));
                set_default(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
            }
        }
        "Service" => service(o, old, alloc),
        "Secret" => secret(o),
        "Namespace" => namespace(o),
        "PersistentVolumeClaim" => {
            if let Some(spec) = o.get_mut("spec").and_then(obj) {
                set_default(spec, "volumeMode", json!("Filesystem"));
            }
        }
        "NetworkPolicy" => {
            if let Some(spec) = o.get_mut("spec").and_then(obj)
                && !spec.contains_key("policyTypes")
            {
                let mut types = vec![json!("Ingress")];
                if spec.contains_key("egress") {
                    types.push(json!("Egress"));
                }
                spec.insert("policyTypes".into(), Value::Array(types));
            }
        }
        "RoleBinding" | "ClusterRoleBinding" => {
            if let Some(subjects) = o.get_mut("subjects").and_then(Value::as_array_mut) {
                for s in subjects.iter_mut().filter_map(obj) {
                    let kind = s
                        .get("kind")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    match kind.as_str() {
                        "User" | "Group" => {
                            set_default(s, "apiGroup", json!("rbac.authorization.k8s.io"))
                        }
                        "ServiceAccount" => set_default(s, "apiGroup", json!("")),
                        _ => {}
                    }
                }
            }
        }
        "HorizontalPodAutoscaler" => {
            if let Some(spec) = o.get_mut("spec").and_then(obj) {
                set_default(spec, "minReplicas", json!(1));
                if !spec.contains_key("metrics") {
                    spec.insert(
                        "metrics".into(),
                        json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]),
                    );
                }
            }
        }
        "CustomResourceDefinition" => {
            if let Some(spec) = o.get_mut("spec").and_then(obj) {
                set_default(spec, "conversion", json!({"strategy": "None"}));
            }
        }
        _ => {}
    }
}

fn deployment(o: &mut Value) {
    let Some(spec) = o.get_mut("spec").and_then(obj) else {
        return;
    };
    set_default(spec, "replicas", json!(1));
    set_default(spec, "revisionHistoryLimit", json!(10));
    set_default(spec, "progressDeadlineSeconds", json!(600));
    let strategy = child(spec, "strategy");
    if let Some(s) = obj(strategy) {
        set_default(s, "type", json!("RollingUpdate"));
        if s.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
            let ru = child(s, "rollingUpdate");
            if let Some(ru) = obj(ru) {
                set_default(ru, "maxUnavailable", json!("25%"));
                set_default(ru, "maxSurge", json!("25%"));
            }
        }
    }
    template(spec);
}

fn statefulset(o: &mut Value) {
    let Some(spec) = o.get_mut("spec").and_then(obj) else {
        return;
    };
    set_default(spec, "replicas", json!(1));
    set_default(spec, "podManagementPolicy", json!("OrderedReady"));
    set_default(spec, "revisionHistoryLimit", json!(10));
    set_default(
        spec,
        "persistentVolumeClaimRetentionPolicy",
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
    );
    let us = child(spec, "updateStrategy");
    if let Some(s) = obj(us) {
        set_default(s, "type", json!("RollingUpdate"));
        if s.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
            let ru = child(s, "rollingUpdate");
            if let Some(ru) = obj(ru) {
                set_default(ru, "partition", json!(0));
            }
        }
    }
    if let Some(vcts) = spec
        .get_mut("volumeClaimTemplates")
        .and_then(Value::as_array_mut)
    {
        for t in vcts.iter_mut().filter_map(obj) {
            set_default(t, "apiVersion", json!("v1"));
            set_default(t, "kind", json!("PersistentVolumeClaim"));
            if let Some(s) = t.get_mut("spec").and_then(obj) {
                set_default(s, "volumeMode", json!("Filesystem"));
            }
        }
    }
    template(spec);
}

fn daemonset(o: &mut Value) {
    let Some(spec) = o.get_mut("spec").and_then(obj) else {
        return;
    };
    set_default(spec, "revisionHistoryLimit", json!(10));
    let us = child(spec, "updateStrategy");
    if let Some(s) = obj(us) {
        set_default(s, "type", json!("RollingUpdate"));
        if s.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
            let ru = child(s, "rollingUpdate");
            if let Some(ru) = obj(ru) {
                set_default(ru, "maxUnavailable", json!(1));
                set_default(ru, "maxSurge", json!(0));
            }
        }
    }
    template(spec);
}

fn job_spec(spec: &mut Map<String, Value>) {
    set_default(spec, "backoffLimit", json!(6));
    if !spec.contains_key("completions") && !spec.contains_key("parallelism") {
        spec.insert("completions".into(), json!(1));
    }
    set_default(spec, "parallelism", json!(1));
    set_default(spec, "completionMode", json!("NonIndexed"));
    set_default(spec, "suspend", json!(false));
    set_default(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
    template(spec);
}

/// Job selector and template labels, generated at creation from the Job's uid.
pub(crate) fn job_selector(o: &mut Value, uid: &str, name: &str) {
    let Some(spec) = o.get_mut("spec").and_then(obj) else {
        return;
    };
    if spec.get("manualSelector").and_then(Value::as_bool) == Some(true) {
        return;
    }
    if !spec.contains_key("selector") {
        spec.insert(
            "selector".into(),
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
        );
    }
    let tmpl = child(spec, "template");
    if let Some(t) = obj(tmpl) {
        let meta = child(t, "metadata");
        if let Some(m) = obj(meta) {
            let labels = child(m, "labels");
            if let Some(l) = obj(labels) {
                set_default(l, "batch.kubernetes.io/controller-uid", json!(uid));
                set_default(l, "batch.kubernetes.io/job-name", json!(name));
                set_default(l, "controller-uid", json!(uid));
                set_default(l, "job-name", json!(name));
            }
        }
    }
}

fn cronjob(o: &mut Value) {
    let Some(spec) = o.get_mut("spec").and_then(obj) else {
        return;
    };
    set_default(spec, "concurrencyPolicy", json!("Allow"));
    set_default(spec, "suspend", json!(false));
    set_default(spec, "successfulJobsHistoryLimit", json!(3));
    set_default(spec, "failedJobsHistoryLimit", json!(1));
    if let Some(jt) = spec.get_mut("jobTemplate").and_then(obj)
        && let Some(js) = jt.get_mut("spec").and_then(obj)
    {
        set_default(js, "backoffLimit", json!(6));
        set_default(js, "completionMode", json!("NonIndexed"));
        set_default(js, "suspend", json!(false));
        set_default(js, "podReplacementPolicy", json!("TerminatingOrFailed"));
        template(js);
    }
}

fn template(spec: &mut Map<String, Value>) {
    if let Some(t) = spec.get_mut("template").and_then(obj)
        && let Some(ps) = t.get_mut("spec").and_then(obj)
    {
        pod_spec(ps);
    }
}

fn pod_spec(ps: &mut Map<String, Value>) {
    set_default(ps, "restartPolicy", json!("Always"));
    set_default(ps, "terminationGracePeriodSeconds", json!(30));
    set_default(ps, "dnsPolicy", json!("ClusterFirst"));
    set_default(ps, "securityContext", json!({}));
    set_default(ps, "schedulerName", json!("default-scheduler"));
    for list in ["containers", "initContainers"] {
        if let Some(cs) = ps.get_mut(list).and_then(Value::as_array_mut) {
            for c in cs.iter_mut().filter_map(obj) {
                container(c);
            }
        }
    }
    if let Some(vols) = ps.get_mut("volumes").and_then(Value::as_array_mut) {
        for v in vols.iter_mut().filter_map(obj) {
            for src in ["configMap", "secret"] {
                if let Some(s) = v.get_mut(src).and_then(obj) {
                    set_default(s, "defaultMode", json!(420));
                }
            }
        }
    }
}

fn image_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) if tag != "latest" => "IfNotPresent",
        _ => "Always",
    }
}

fn probe(p: &mut Map<String, Value>) {
    set_default(p, "timeoutSeconds", json!(1));
    set_default(p, "periodSeconds", json!(10));
    set_default(p, "successThreshold", json!(1));
    set_default(p, "failureThreshold", json!(3));
    if let Some(h) = p.get_mut("httpGet").and_then(obj) {
        set_default(h, "scheme", json!("HTTP"));
    }
}

fn container(c: &mut Map<String, Value>) {
    set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(c, "terminationMessagePolicy", json!("File"));
    let image = c
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    set_default(c, "imagePullPolicy", json!(image_pull_policy(&image)));
    set_default(c, "resources", json!({}));
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(obj) {
            set_default(p, "protocol", json!("TCP"));
        }
    }
    for pr in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(pr).and_then(obj) {
            probe(p);
        }
    }
}

fn service(o: &mut Value, old: Option<&Value>, alloc: &mut Allocators<'_>) {
    let Some(spec) = o.get_mut("spec").and_then(obj) else {
        return;
    };
    set_default(spec, "type", json!("ClusterIP"));
    let ty = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if ty == "ExternalName" {
        return;
    }
    set_default(spec, "sessionAffinity", json!("None"));
    // Keep allocated values when an update omits them (the strategy's patchAllocatedValues).
    let old_spec = old.and_then(|o| o.get("spec"));
    if !spec.contains_key("clusterIP")
        && let Some(ip) = old_spec.and_then(|s| s.get("clusterIP"))
    {
        spec.insert("clusterIP".into(), ip.clone());
        if let Some(ips) = old_spec.and_then(|s| s.get("clusterIPs")) {
            set_default(spec, "clusterIPs", ips.clone());
        }
    }
    if !spec.contains_key("clusterIP") {
        let ip = match spec
            .get("clusterIPs")
            .and_then(|v| v.get(0))
            .and_then(Value::as_str)
        {
            Some(ip) => ip.to_string(),
            None => alloc.cluster_ip(),
        };
        spec.insert("clusterIP".into(), json!(ip));
    }
    let ip = spec.get("clusterIP").cloned().unwrap_or(Value::Null);
    // NormalizeClusterIPs: a changed clusterIP with untouched clusterIPs moves clusterIPs[0].
    if let Some(os) = old_spec
        && os.get("clusterIP") != Some(&ip)
        && os.get("clusterIPs").is_some()
        && spec.get("clusterIPs") == os.get("clusterIPs")
        && let Some(first) = spec
            .get_mut("clusterIPs")
            .and_then(Value::as_array_mut)
            .and_then(|a| a.first_mut())
    {
        *first = ip.clone();
    }
    set_default(spec, "clusterIPs", json!([ip]));
    set_default(spec, "ipFamilies", json!(["IPv4"]));
    set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
    set_default(spec, "internalTrafficPolicy", json!("Cluster"));
    let node_ports = ty == "NodePort" || ty == "LoadBalancer";
    if node_ports {
        set_default(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        set_default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    let old_ports: Vec<Value> = old_spec
        .and_then(|s| s.get("ports"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(obj) {
            set_default(p, "protocol", json!("TCP"));
            if let Some(port) = p.get("port").cloned() {
                set_default(p, "targetPort", port);
            }
            if node_ports && !p.contains_key("nodePort") {
                let same = old_ports.iter().find(|op| op.get("port") == p.get("port"));
                let np = match same.and_then(|op| op.get("nodePort")) {
                    Some(np) => np.clone(),
                    None => json!(alloc.node_port()),
                };
                p.insert("nodePort".into(), np);
            }
        }
    }
}

fn secret(o: &mut Value) {
    let Some(m) = obj(o) else { return };
    if m.get("type")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        m.insert("type".into(), json!("Opaque"));
    }
    if let Some(Value::Object(sd)) = m.remove("stringData") {
        let data = child(m, "data");
        if let Some(d) = obj(data) {
            for (k, v) in sd {
                let s = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                d.insert(
                    k,
                    json!(base64::engine::general_purpose::STANDARD.encode(s.as_bytes())),
                );
            }
        }
    }
}

fn namespace(o: &mut Value) {
    let name = o
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(m) = obj(o) {
        let spec = child(m, "spec");
        if let Some(s) = obj(spec) {
            set_default(s, "finalizers", json!(["kubernetes"]));
        }
        let meta = child(m, "metadata");
        if let Some(meta) = obj(meta) {
            let labels = child(meta, "labels");
            if let Some(l) = obj(labels) {
                l.insert("kubernetes.io/metadata.name".into(), json!(name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy() {
        assert_eq!(image_pull_policy("nginx"), "Always");
        assert_eq!(image_pull_policy("nginx:latest"), "Always");
        assert_eq!(image_pull_policy("nginx:1.25"), "IfNotPresent");
        assert_eq!(image_pull_policy("registry:5000/nginx"), "Always");
        assert_eq!(image_pull_policy("nginx@sha256:abc"), "IfNotPresent");
    }

    #[test]
    fn service_ip() {
        let (mut ip, mut np) = (0u32, 0u32);
        let mut a = Allocators {
            next_ip: &mut ip,
            next_node_port: &mut np,
        };
        let mut svc = json!({"kind": "Service", "spec": {"ports": [{"port": 80}]}});
        apply_defaults("Service", &mut svc, None, &mut a);
        assert_eq!(svc.pointer("/spec/clusterIP"), Some(&json!("10.96.0.2")));
        assert_eq!(svc.pointer("/spec/ports/0/targetPort"), Some(&json!(80)));
    }
}
