//! Simulated controllers (rollouts, stuck workloads, Jobs, PVCs, CRDs), fault injection,
//! latency, the request log, watch, the async start and the handle's helpers.

mod common;

use std::time::{Duration, Instant};

use common::*;
use fake_apiserver::{Config, FakeApiServer, RequestMatcher};
use serde_json::{Value, json};

fn condition<'a>(obj: &'a Value, ty: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == ty)
}

#[test]
fn workloads_become_ready_after_the_delay() {
    let h = server_with(Config {
        workload_delay: Duration::from_millis(300),
        ..Config::default()
    });
    let start = Instant::now();
    apply(
        &h,
        &format!("{DEPLOY}/web"),
        &deployment_yaml("web", 3, "nginx:1.25"),
        "kubeship",
        "",
    );
    // First the rollout is in progress...
    let progressing = eventually(5, "progressing status", || {
        let d = h.get("apps/v1", "Deployment", Some("default"), "web")?;
        (d["status"]["observedGeneration"] == 1).then_some(d)
    });
    if start.elapsed() < Duration::from_millis(250) {
        assert_eq!(
            condition(&progressing, "Available").unwrap()["status"],
            "False"
        );
        assert_eq!(
            condition(&progressing, "Progressing").unwrap()["reason"],
            "ReplicaSetUpdated"
        );
        assert_eq!(progressing["status"]["unavailableReplicas"], 3);
    }
    // ...then complete.
    let ready = eventually(5, "ready", || {
        let d = h.get("apps/v1", "Deployment", Some("default"), "web")?;
        (d["status"]["availableReplicas"] == 3).then_some(d)
    });
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(ready["status"]["replicas"], 3);
    assert_eq!(ready["status"]["readyReplicas"], 3);
    assert_eq!(ready["status"]["updatedReplicas"], 3);
    assert_eq!(
        condition(&ready, "Available").unwrap()["reason"],
        "MinimumReplicasAvailable"
    );
    let p = condition(&ready, "Progressing").unwrap();
    assert_eq!(p["reason"], "NewReplicaSetAvailable");
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .starts_with("ReplicaSet \"web-")
    );

    let sts = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  replicas: 2\n  serviceName: db\n  selector:\n    matchLabels: {app: db}\n  template:\n    metadata:\n      labels: {app: db}\n    spec:\n      containers:\n      - name: db\n        image: postgres:16\n";
    assert_eq!(
        apply(
            &h,
            "/apis/apps/v1/namespaces/default/statefulsets/db",
            sts,
            "kubeship",
            ""
        )
        .status,
        201
    );
    let s = eventually(5, "sts ready", || {
        let s = h.get("apps/v1", "StatefulSet", Some("default"), "db")?;
        (s["status"]["readyReplicas"] == 2).then_some(s)
    });
    assert_eq!(
        s["status"]["currentRevision"],
        s["status"]["updateRevision"]
    );
    assert_eq!(s["status"]["observedGeneration"], 1);

    let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\nspec:\n  selector:\n    matchLabels: {app: agent}\n  template:\n    metadata:\n      labels: {app: agent}\n    spec:\n      containers:\n      - name: a\n        image: agent:1\n";
    assert_eq!(
        apply(
            &h,
            "/apis/apps/v1/namespaces/default/daemonsets/agent",
            ds,
            "kubeship",
            ""
        )
        .status,
        201
    );
    let d = eventually(5, "ds ready", || {
        let d = h.get("apps/v1", "DaemonSet", Some("default"), "agent")?;
        (d["status"]["numberReady"] == 1).then_some(d)
    });
    assert_eq!(d["status"]["desiredNumberScheduled"], 1);
    assert_eq!(d["status"]["updatedNumberScheduled"], 1);

    let job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: m\n        image: migrate:1\n";
    assert_eq!(
        apply(
            &h,
            "/apis/batch/v1/namespaces/default/jobs/migrate",
            job,
            "kubeship",
            ""
        )
        .status,
        201
    );
    let j = eventually(5, "job complete", || {
        let j = h.get("batch/v1", "Job", Some("default"), "migrate")?;
        (condition(&j, "Complete")?["status"] == "True").then_some(j)
    });
    assert_eq!(j["status"]["succeeded"], 1);
    assert!(j["status"]["completionTime"].is_string());

    let pvc = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n";
    let r = apply(
        &h,
        "/api/v1/namespaces/default/persistentvolumeclaims/data",
        pvc,
        "kubeship",
        "",
    );
    assert_eq!(r.json()["status"]["phase"], "Pending");
    let p = eventually(5, "pvc bound", || {
        let p = h.get("v1", "PersistentVolumeClaim", Some("default"), "data")?;
        (p["status"]["phase"] == "Bound").then_some(p)
    });
    assert_eq!(p["status"]["capacity"]["storage"], "1Gi");

    // A new namespace gets its default ServiceAccount.
    post(
        &h,
        "/api/v1/namespaces",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fresh"}}),
    );
    eventually(5, "default sa", || {
        h.get("v1", "ServiceAccount", Some("fresh"), "default")
    });
}

#[test]
fn stuck_workloads_never_become_ready() {
    let h = fast_server();
    let doc = deployment_yaml("slow", 2, "nginx:1.25")
        .replace("  labels:\n    app: slow\nspec:\n", "  labels:\n    app: slow\n  annotations:\n    fake-apiserver/stuck: \"true\"\nspec:\n  progressDeadlineSeconds: 1\n");
    let r = apply(&h, &format!("{DEPLOY}/slow"), &doc, "kubeship", "");
    assert_eq!(r.status, 201, "{}", r.text());
    let d = eventually(5, "deadline exceeded", || {
        let d = h.get("apps/v1", "Deployment", Some("default"), "slow")?;
        (condition(&d, "Progressing")?["reason"] == "ProgressDeadlineExceeded").then_some(d)
    });
    assert_eq!(condition(&d, "Progressing").unwrap()["status"], "False");
    assert_eq!(condition(&d, "Available").unwrap()["status"], "False");
    assert!(d["status"].get("readyReplicas").is_none());

    let job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: bad\n  annotations:\n    fake-apiserver/fail: \"true\"\nspec:\n  backoffLimit: 1\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: m\n        image: m:1\n";
    apply(
        &h,
        "/apis/batch/v1/namespaces/default/jobs/bad",
        job,
        "kubeship",
        "",
    );
    let j = eventually(5, "job failed", || {
        let j = h.get("batch/v1", "Job", Some("default"), "bad")?;
        (condition(&j, "Failed")?["status"] == "True").then_some(j)
    });
    assert_eq!(
        condition(&j, "Failed").unwrap()["reason"],
        "BackoffLimitExceeded"
    );
}

#[test]
fn crd_registration_waits_for_the_delay() {
    let h = server_with(Config {
        crd_establish_delay: Duration::from_millis(400),
        ..Config::default()
    });
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "gadgets.example.com"},
    "spec": {"group": "example.com", "scope": "Cluster", "names": {"kind": "Gadget", "plural": "gadgets"},
        "versions": [
            {"name": "v1beta1", "served": true, "storage": false, "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
            {"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}
        ]}});
    assert_eq!(
        post(
            &h,
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            &crd
        )
        .status,
        201
    );
    assert_eq!(
        get(&h, "/apis/example.com/v1/gadgets").status,
        404,
        "not served before established"
    );
    eventually(5, "served", || {
        h.is_served("example.com/v1", "Gadget").then_some(())
    });
    let apis = get(&h, "/apis").json();
    let g = apis["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "example.com")
        .unwrap()
        .clone();
    assert_eq!(g["preferredVersion"]["version"], "v1");
    assert_eq!(g["versions"].as_array().unwrap().len(), 2);
    // Cluster-scoped custom resource, served at both versions.
    let r = apply(
        &h,
        "/apis/example.com/v1beta1/gadgets/g1",
        "apiVersion: example.com/v1beta1\nkind: Gadget\nmetadata:\n  name: g1\nspec:\n  any: thing\n",
        "kubeship",
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        get(&h, "/apis/example.com/v1/gadgets/g1").json()["apiVersion"],
        "example.com/v1"
    );
    assert_eq!(
        get(&h, "/apis/example.com/v1/namespaces/default/gadgets/g1").status,
        404
    );
}

#[test]
fn fault_injection() {
    let h = fast_server();
    h.fail_next(2, 500);
    let r = get(&h, "/api/v1/namespaces");
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["reason"], "InternalError");
    assert_eq!(get(&h, "/api").status, 500);
    assert_eq!(get(&h, "/api").status, 200);

    h.set_retry_after(7);
    h.fail_next(1, 429);
    let r = get(&h, "/api/v1/namespaces");
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("7"));
    assert_eq!(r.json()["reason"], "TooManyRequests");
    assert_eq!(r.json()["details"]["retryAfterSeconds"], 7);

    // Only matching requests fail.
    h.fail_next_matching(
        1,
        500,
        RequestMatcher::any()
            .method("PATCH")
            .path_contains("/deployments/"),
    );
    assert_eq!(get(&h, DEPLOY).status, 200);
    assert_eq!(
        apply(
            &h,
            &format!("{DEPLOY}/web"),
            &deployment_yaml("web", 1, "nginx"),
            "kubeship",
            ""
        )
        .status,
        500
    );
    assert_eq!(
        apply(
            &h,
            &format!("{DEPLOY}/web"),
            &deployment_yaml("web", 1, "nginx"),
            "kubeship",
            ""
        )
        .status,
        201
    );
    h.fail_next_matching(1, 500, RequestMatcher::any().query_contains("dryRun=All"));
    assert_eq!(
        apply(
            &h,
            &format!("{DEPLOY}/web"),
            &deployment_yaml("web", 1, "nginx"),
            "kubeship",
            ""
        )
        .status,
        200
    );
    assert_eq!(
        apply(
            &h,
            &format!("{DEPLOY}/web"),
            &deployment_yaml("web", 1, "nginx"),
            "kubeship",
            "&dryRun=All"
        )
        .status,
        500
    );

    // Dropped connections: no response at all.
    h.drop_next(1);
    assert!(try_request(&h, "GET", "/api", None, None, &[]).is_err());
    assert_eq!(get(&h, "/api").status, 200);
    h.drop_next_matching(1, RequestMatcher::any().path_contains("/configmaps"));
    assert_eq!(get(&h, "/api").status, 200);
    assert!(try_request(&h, "GET", "/api/v1/configmaps", None, None, &[]).is_err());
    h.drop_next(5);
    h.clear_faults();
    assert_eq!(get(&h, "/api").status, 200);
    let log = h.requests();
    assert_eq!(
        log.iter().filter(|r| r.status.is_none()).count(),
        2,
        "dropped requests are logged without status"
    );
}

#[test]
fn latency_applies_to_every_request() {
    let h = server_with(Config {
        latency: Duration::from_millis(150),
        ..Config::default()
    });
    let t = Instant::now();
    get(&h, "/version");
    get(&h, "/api");
    assert!(t.elapsed() >= Duration::from_millis(300));
    h.set_latency(Duration::ZERO);
    let t = Instant::now();
    get(&h, "/version");
    assert!(t.elapsed() < Duration::from_millis(150));
}

#[test]
fn request_log_records_without_secrets() {
    let h = fast_server();
    h.clear_requests();
    let r = try_request(
        &h,
        "PATCH",
        &format!("{DEPLOY}/web?fieldManager=kubeship&dryRun=All&force=true&fieldValidation=Strict"),
        Some("application/apply-patch+yaml"),
        Some(deployment_yaml("web", 1, "nginx").as_bytes()),
        &[("Authorization", "Bearer super-secret-token")],
    )
    .unwrap();
    assert_eq!(r.status, 201);
    let log = h.requests();
    assert_eq!(log.len(), 1);
    let rec = &log[0];
    assert_eq!(rec.method, "PATCH");
    assert_eq!(rec.path, format!("{DEPLOY}/web"));
    assert_eq!(
        rec.content_type.as_deref(),
        Some("application/apply-patch+yaml")
    );
    assert!(rec.dry_run);
    assert!(rec.force);
    assert_eq!(rec.field_manager.as_deref(), Some("kubeship"));
    assert_eq!(rec.field_validation.as_deref(), Some("Strict"));
    assert_eq!(rec.query_param("dryRun").as_deref(), Some("All"));
    assert!(rec.authorization);
    assert_eq!(rec.status, Some(201));
    assert!(!format!("{rec:?}").contains("super-secret-token"));
    h.clear_requests();
    assert!(h.requests().is_empty());
}

#[test]
fn handle_helpers_seed_and_read() {
    let h = fast_server();
    assert!(h.url().starts_with("http://127.0.0.1:"));
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    h.write_kubeconfig(&kc, "fake").unwrap();
    let text = std::fs::read_to_string(&kc).unwrap();
    assert!(text.contains(&format!("server: {}", h.url())));
    assert!(text.contains("current-context: fake"));
    assert!(text.contains(&format!("token: {}", h.token())));

    // Default namespaces and the kubernetes Service exist.
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(h.get("v1", "Namespace", None, ns).is_some(), "{ns}");
    }
    assert_eq!(
        h.get("v1", "Service", Some("default"), "kubernetes")
            .unwrap()["spec"]["clusterIP"],
        "10.96.0.1"
    );

    let seeded = h
        .seed("someone-else", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "s", "namespace": "default"}, "data": {"k": "v"}}))
        .unwrap();
    assert_eq!(
        seeded["metadata"]["managedFields"][0]["manager"],
        "someone-else"
    );
    assert_eq!(
        seeded["metadata"]["managedFields"][0]["operation"],
        "Update"
    );
    let applied = h
        .seed_apply("kubectl", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t", "namespace": "default"}, "data": {"k": "v"}}))
        .unwrap();
    assert_eq!(
        applied["metadata"]["managedFields"][0]["operation"],
        "Apply"
    );
    assert_eq!(h.list("v1", "ConfigMap", Some("default")).len(), 2);
    let err = h.seed("x", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "u", "namespace": "nope"}})).unwrap_err();
    assert_eq!(err.code, 404);
    assert!(h.remove("v1", "ConfigMap", Some("default"), "s"));
    assert!(h.get("v1", "ConfigMap", Some("default"), "s").is_none());

    apply(
        &h,
        &format!("{DEPLOY}/web"),
        &deployment_yaml("web", 1, "nginx"),
        "kubeship",
        "",
    );
    let st = h
        .set_status(
            "apps/v1",
            "Deployment",
            Some("default"),
            "web",
            json!({"observedGeneration": 1, "replicas": 1}),
        )
        .unwrap();
    assert_eq!(
        st["status"],
        json!({"observedGeneration": 1, "replicas": 1})
    );
    assert!(h.object_count() > 5);
    h.stop();
}

#[test]
fn watch_streams_events() {
    let h = fast_server();
    let list = get(&h, "/api/v1/namespaces/default/configmaps").json();
    let from = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    post(
        &h,
        "/api/v1/namespaces/default/configmaps",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w1"}}),
    );
    delete(&h, "/api/v1/namespaces/default/configmaps/w1");
    let r = get(
        &h,
        &format!(
            "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={from}&timeoutSeconds=1"
        ),
    );
    assert_eq!(r.status, 200);
    let events: Vec<Value> = r
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["ADDED", "DELETED"]);
    assert_eq!(events[0]["object"]["metadata"]["name"], "w1");
}

#[test]
fn async_start_serves_on_the_callers_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let h = FakeApiServer::start_async(Config::default()).await.unwrap();
        let addr = h.addr();
        let body = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        })
        .await
        .unwrap();
        assert!(body.starts_with("HTTP/1.1 200"));
        assert!(body.contains("\"minor\":\"32\""));
    });
}
