//! Discovery, OpenAPI, CRUD verbs, label selectors, namespaces, defaulting, validation,
//! immutability and admission, over HTTP.

mod common;

use common::*;
use fake_apiserver::{Denial, Operation};
use serde_json::{Value, json};

#[test]
fn discovery_documents() {
    let h = fast_server();
    let v = get(&h, "/version").json();
    assert_eq!(v["major"], "1");
    assert_eq!(v["minor"], "32");

    let api = get(&h, "/api").json();
    assert_eq!(api["kind"], "APIVersions");
    assert_eq!(api["versions"], json!(["v1"]));

    let apis = get(&h, "/apis").json();
    assert_eq!(apis["kind"], "APIGroupList");
    let groups: Vec<&str> = apis["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    for g in [
        "apps",
        "batch",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "policy",
        "autoscaling",
        "apiextensions.k8s.io",
        "coordination.k8s.io",
    ] {
        assert!(groups.contains(&g), "{g} missing from {groups:?}");
    }
    let autoscaling = apis["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "autoscaling")
        .unwrap();
    assert_eq!(
        autoscaling["preferredVersion"]["groupVersion"],
        "autoscaling/v2"
    );

    let core = get(&h, "/api/v1").json();
    assert_eq!(core["kind"], "APIResourceList");
    let cm = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "configmaps")
        .unwrap();
    assert_eq!(cm["singularName"], "configmap");
    assert_eq!(cm["namespaced"], true);
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["shortNames"], json!(["cm"]));
    assert!(cm["verbs"].as_array().unwrap().contains(&json!("patch")));
    let ns = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "namespaces")
        .unwrap();
    assert_eq!(ns["namespaced"], false);

    let apps = get(&h, "/apis/apps/v1").json();
    let names: Vec<&str> = apps["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    for n in [
        "deployments",
        "deployments/status",
        "deployments/scale",
        "statefulsets",
        "daemonsets",
    ] {
        assert!(names.contains(&n), "{n}");
    }
    assert_eq!(
        get(&h, "/apis/rbac.authorization.k8s.io/v1").json()["groupVersion"],
        "rbac.authorization.k8s.io/v1"
    );
    assert_eq!(get(&h, "/apis/nope.example.com/v1").status, 404);

    // Aggregated discovery when asked for it, with the matching content type.
    let agg = try_request(
        &h,
        "GET",
        "/apis",
        None,
        None,
        &[(
            "Accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
        )],
    )
    .unwrap();
    assert!(
        agg.header("content-type")
            .unwrap()
            .contains("as=APIGroupDiscoveryList")
    );
    assert_eq!(agg.json()["kind"], "APIGroupDiscoveryList");
}

#[test]
fn openapi_v3_index_and_documents() {
    let h = fast_server();
    let idx = get(&h, "/openapi/v3").json();
    let url = idx["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="));
    assert!(idx["paths"]["api/v1"].is_object());
    let doc = get(&h, &url).json();
    let patch = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"],
        json!({"group": "apps", "version": "v1", "kind": "Deployment"})
    );
    let params: Vec<&str> = patch["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(params.contains(&"fieldValidation"));
    assert!(params.contains(&"dryRun"));
    assert_eq!(get(&h, "/openapi/v3/apis/nope/v1").status, 404);
}

#[test]
fn create_get_list_with_selectors() {
    let h = fast_server();
    let path = "/api/v1/namespaces/default/configmaps";
    for (name, app, tier) in [("a", "web", "fe"), ("b", "web", "be"), ("c", "db", "be")] {
        let r = post(
            &h,
            path,
            &json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": {"app": app, "tier": tier}}, "data": {"k": "v"}}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let obj = r.json();
        assert_eq!(obj["metadata"]["namespace"], "default");
        assert_eq!(obj["metadata"]["uid"].as_str().unwrap().len(), 36);
        assert!(
            obj["metadata"]["creationTimestamp"]
                .as_str()
                .unwrap()
                .ends_with('Z')
        );
        assert!(
            obj["metadata"].get("generation").is_none(),
            "ConfigMaps have no generation"
        );
    }
    let one = get(&h, &format!("{path}/a")).json();
    assert_eq!(one["data"]["k"], "v");

    let names = |q: &str| -> Vec<String> {
        let r = get(&h, &format!("{path}?labelSelector={q}"));
        assert_eq!(r.status, 200, "{q}: {}", r.text());
        let l = r.json();
        assert_eq!(l["kind"], "ConfigMapList");
        assert!(
            !l["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .is_empty()
        );
        l["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("app%3Dweb"), ["a", "b"]);
    assert_eq!(names("app%3D%3Dweb"), ["a", "b"]);
    assert_eq!(names("app!%3Dweb"), ["c"]);
    assert_eq!(names("tier%20in%20(be)"), ["b", "c"]);
    assert_eq!(names("tier%20notin%20(be)"), ["a"]);
    assert_eq!(names("app,!missing"), ["a", "b", "c"]);
    assert_eq!(names("!app"), Vec::<String>::new());
    assert_eq!(names("app%3Dweb,tier%3Dbe"), ["b"]);
    assert_eq!(
        get(&h, &format!("{path}?labelSelector=app%20in%20web")).status,
        400
    );

    // All namespaces, and another namespace.
    post(
        &h,
        "/api/v1/namespaces",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}}),
    );
    post(
        &h,
        "/api/v1/namespaces/other/configmaps",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "z", "labels": {"app": "web"}}}),
    );
    let all = get(&h, "/api/v1/configmaps?labelSelector=app%3Dweb").json();
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        get(&h, "/api/v1/namespaces/other/configmaps").json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Pagination.
    let page = get(&h, &format!("{path}?limit=2")).json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cont = page["metadata"]["continue"].as_str().unwrap();
    let rest = get(&h, &format!("{path}?limit=2&continue={cont}")).json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);

    // Duplicate create.
    let dup = post(
        &h,
        path,
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}),
    );
    assert_eq!(dup.status, 409);
    let s = dup.json();
    assert_eq!(s["kind"], "Status");
    assert_eq!(s["reason"], "AlreadyExists");
    assert_eq!(s["message"], "configmaps \"a\" already exists");
}

#[test]
fn not_found_statuses() {
    let h = fast_server();
    let r = get(&h, "/apis/apps/v1/namespaces/default/deployments/missing");
    assert_eq!(r.status, 404);
    let s = r.json();
    assert_eq!(
        s,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "deployments.apps \"missing\" not found", "reason": "NotFound",
        "details": {"name": "missing", "group": "apps", "kind": "deployments"}, "code": 404})
    );

    // Unknown resource types.
    let r = get(&h, "/apis/apps/v1/namespaces/default/widgets");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["reason"], "NotFound");
    assert_eq!(get(&h, "/apis/example.com/v1/widgets").status, 404);

    // Namespaced object in a missing namespace: create, apply and dry-run alike.
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
    let r = post(&h, "/api/v1/namespaces/ghost/configmaps", &cm);
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["message"], "namespaces \"ghost\" not found");
    let r = post(&h, "/api/v1/namespaces/ghost/configmaps?dryRun=All", &cm);
    assert_eq!(r.status, 404);
    let r = apply(
        &h,
        "/api/v1/namespaces/ghost/configmaps/x",
        &cm.to_string(),
        "kubeship",
        "&dryRun=All",
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["message"], "namespaces \"ghost\" not found");
    assert_eq!(r.json()["details"]["kind"], "namespaces");
}

#[test]
fn put_update_and_conflict_on_stale_resource_version() {
    let h = fast_server();
    let path = "/api/v1/namespaces/default/configmaps";
    let created = post(&h, path, &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "u"}, "data": {"a": "1"}})).json();
    let mut next = created.clone();
    next["data"]["a"] = json!("2");
    let r = put(&h, &format!("{path}/u"), &next);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_ne!(rv(&r.json()), rv(&created));
    assert_eq!(r.json()["metadata"]["uid"], created["metadata"]["uid"]);
    // Stale resourceVersion.
    next["data"]["a"] = json!("3");
    let r = put(&h, &format!("{path}/u"), &next);
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["reason"], "Conflict");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("the object has been modified")
    );
    // Merge patch (what kubectl label/annotate send).
    let r = merge_patch(
        &h,
        &format!("{path}/u"),
        &json!({"metadata": {"labels": {"team": "x"}}}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["metadata"]["labels"]["team"], "x");
    // Strategic merge patch and JSON patch.
    let r = request(
        &h,
        "PATCH",
        &format!("{path}/u"),
        Some("application/strategic-merge-patch+json"),
        Some(br#"{"data":{"b":"2"}}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"], json!({"a": "2", "b": "2"}));
    let r = request(
        &h,
        "PATCH",
        &format!("{path}/u"),
        Some("application/json-patch+json"),
        Some(br#"[{"op":"remove","path":"/data/b"}]"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"], json!({"a": "2"}));
    let r = request(
        &h,
        "PATCH",
        &format!("{path}/u"),
        Some("text/plain"),
        Some(b"x"),
    );
    assert_eq!(r.status, 415);
}

#[test]
fn delete_with_propagation_and_finalizers() {
    let h = fast_server();
    let d = apply(
        &h,
        &format!("{DEPLOY}/web"),
        &deployment_yaml("web", 1, "nginx:1.25"),
        "kubeship",
        "",
    );
    assert_eq!(d.status, 201, "{}", d.text());

    // Background (default): gone at once, Status Success.
    let r = delete(&h, &format!("{DEPLOY}/web"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "Success");
    assert_eq!(get(&h, &format!("{DEPLOY}/web")).status, 404);
    assert_eq!(delete(&h, &format!("{DEPLOY}/web")).status, 404);

    // Foreground: returned with deletionTimestamp + finalizer, then collected.
    apply(
        &h,
        &format!("{DEPLOY}/fg"),
        &deployment_yaml("fg", 1, "nginx:1.25"),
        "kubeship",
        "",
    );
    let r = delete(&h, &format!("{DEPLOY}/fg?propagationPolicy=Foreground"));
    assert_eq!(r.status, 200);
    assert!(r.json()["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(
        r.json()["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );
    eventually(5, "foreground deletion", || {
        (get(&h, &format!("{DEPLOY}/fg")).status == 404).then_some(())
    });

    // Orphan via DeleteOptions body.
    apply(
        &h,
        &format!("{DEPLOY}/or"),
        &deployment_yaml("or", 1, "nginx:1.25"),
        "kubeship",
        "",
    );
    let r = request(
        &h,
        "DELETE",
        &format!("{DEPLOY}/or"),
        Some("application/json"),
        Some(br#"{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Orphan"}"#),
    );
    assert_eq!(r.status, 200);
    eventually(5, "orphan deletion", || {
        (get(&h, &format!("{DEPLOY}/or")).status == 404).then_some(())
    });

    // Invalid policy.
    apply(
        &h,
        &format!("{DEPLOY}/x"),
        &deployment_yaml("x", 1, "nginx:1.25"),
        "kubeship",
        "",
    );
    assert_eq!(
        delete(&h, &format!("{DEPLOY}/x?propagationPolicy=Sometimes")).status,
        422
    );

    // Dry-run delete keeps the object.
    let r = delete(&h, &format!("{DEPLOY}/x?dryRun=All"));
    assert_eq!(r.status, 200);
    assert_eq!(get(&h, &format!("{DEPLOY}/x")).status, 200);

    // A user finalizer keeps the object until it is removed.
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: [example.com/hold]\n";
    apply(
        &h,
        "/api/v1/namespaces/default/configmaps/held",
        cm,
        "kubeship",
        "",
    );
    let r = delete(&h, "/api/v1/namespaces/default/configmaps/held");
    assert_eq!(r.status, 200);
    assert!(r.json()["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(
        get(&h, "/api/v1/namespaces/default/configmaps/held").status,
        200
    );
    let r = merge_patch(
        &h,
        "/api/v1/namespaces/default/configmaps/held",
        &json!({"metadata": {"finalizers": null}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        get(&h, "/api/v1/namespaces/default/configmaps/held").status,
        404
    );

    // deletecollection with a selector.
    for n in ["p", "q"] {
        post(
            &h,
            "/api/v1/namespaces/default/configmaps",
            &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n, "labels": {"sweep": "yes"}}}),
        );
    }
    let r = delete(
        &h,
        "/api/v1/namespaces/default/configmaps?labelSelector=sweep%3Dyes",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 2);
    assert!(
        get(
            &h,
            "/api/v1/namespaces/default/configmaps?labelSelector=sweep"
        )
        .json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn namespace_deletion_terminates_then_removes_content() {
    let h = server_with(fake_apiserver::Config {
        namespace_delete_delay: std::time::Duration::from_millis(300),
        ..Default::default()
    });
    post(
        &h,
        "/api/v1/namespaces",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}),
    );
    let ns = get(&h, "/api/v1/namespaces/team").json();
    assert_eq!(ns["status"]["phase"], "Active");
    assert_eq!(
        ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "team"
    );
    assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    let r = apply(
        &h,
        "/apis/apps/v1/namespaces/team/deployments/web",
        &deployment_yaml("web", 1, "nginx"),
        "kubeship",
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    post(
        &h,
        "/api/v1/namespaces/team/configmaps",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
    );

    let r = delete(&h, "/api/v1/namespaces/team");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"]["phase"], "Terminating");
    // Creating inside a terminating namespace is refused.
    let r = post(
        &h,
        "/api/v1/namespaces/team/configmaps",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}}),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("because it is being terminated")
    );
    eventually(5, "namespace gone", || {
        (get(&h, "/api/v1/namespaces/team").status == 404).then_some(())
    });
    assert_eq!(
        get(&h, "/apis/apps/v1/namespaces/team/deployments/web").status,
        404
    );
    assert!(h.list("v1", "ConfigMap", Some("team")).is_empty());
}

#[test]
fn defaulting_of_builtin_kinds() {
    let h = fast_server();
    let d = apply(
        &h,
        &format!("{DEPLOY}/web"),
        &deployment_yaml("web", 2, "nginx"),
        "kubeship",
        "",
    )
    .json();
    let spec = &d["spec"];
    assert_eq!(
        spec["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    );
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(spec["progressDeadlineSeconds"], 600);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Always");
    assert_eq!(pod["dnsPolicy"], "ClusterFirst");
    assert_eq!(pod["schedulerName"], "default-scheduler");
    assert_eq!(pod["securityContext"], json!({}));
    assert_eq!(pod["terminationGracePeriodSeconds"], 30);
    let c = &pod["containers"][0];
    assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(c["terminationMessagePolicy"], "File");
    assert_eq!(c["imagePullPolicy"], "Always", "untagged image");
    assert_eq!(c["ports"][0]["protocol"], "TCP");
    let d2 = apply(
        &h,
        &format!("{DEPLOY}/pinned"),
        &deployment_yaml("pinned", 1, "nginx:1.25"),
        "kubeship",
        "",
    )
    .json();
    assert_eq!(
        d2["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
        "IfNotPresent"
    );
    let d3 = apply(
        &h,
        &format!("{DEPLOY}/latest"),
        &deployment_yaml("latest", 1, "nginx:latest"),
        "kubeship",
        "",
    )
    .json();
    assert_eq!(
        d3["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
        "Always"
    );
    // replicas defaults to 1 when omitted.
    let no_replicas = deployment_yaml("one", 3, "nginx").replace("  replicas: 3\n", "");
    let d4 = apply(&h, &format!("{DEPLOY}/one"), &no_replicas, "kubeship", "").json();
    assert_eq!(d4["spec"]["replicas"], 1);

    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n  ports:\n  - port: 80\n";
    let s = apply(
        &h,
        "/api/v1/namespaces/default/services/web",
        svc,
        "kubeship",
        "",
    )
    .json();
    let ip = s["spec"]["clusterIP"].as_str().unwrap().to_string();
    assert!(ip.starts_with("10.96."), "{ip}");
    assert_eq!(s["spec"]["clusterIPs"], json!([ip]));
    assert_eq!(s["spec"]["type"], "ClusterIP");
    assert_eq!(s["spec"]["sessionAffinity"], "None");
    assert_eq!(s["spec"]["internalTrafficPolicy"], "Cluster");
    assert_eq!(s["spec"]["ipFamilies"], json!(["IPv4"]));
    assert_eq!(s["spec"]["ipFamilyPolicy"], "SingleStack");
    assert_eq!(
        s["spec"]["ports"][0],
        json!({"port": 80, "protocol": "TCP", "targetPort": 80})
    );
    // Re-applying keeps the allocated address.
    let again = apply(
        &h,
        "/api/v1/namespaces/default/services/web",
        svc,
        "kubeship",
        "",
    )
    .json();
    assert_eq!(again["spec"]["clusterIP"], ip.as_str());
    assert_eq!(rv(&again), rv(&s));

    let sec = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: hunter2\n";
    let s = apply(
        &h,
        "/api/v1/namespaces/default/secrets/creds",
        sec,
        "kubeship",
        "",
    )
    .json();
    assert_eq!(s["type"], "Opaque");
    assert_eq!(s["data"]["password"], "aHVudGVyMg==");
    assert!(s.get("stringData").is_none());
}

#[test]
fn validation_names_and_immutable_fields() {
    let h = fast_server();
    let r = post(
        &h,
        "/api/v1/namespaces/default/configmaps",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}}),
    );
    assert_eq!(r.status, 422);
    let s = r.json();
    assert_eq!(s["reason"], "Invalid");
    assert!(s["message"].as_str().unwrap().starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"), "{s}");
    assert_eq!(s["details"]["causes"][0]["field"], "metadata.name");

    let r = apply(
        &h,
        &format!("{DEPLOY}/web"),
        &deployment_yaml("web", 1, "nginx"),
        "kubeship",
        "",
    );
    assert_eq!(r.status, 201);
    let changed = deployment_yaml("web", 1, "nginx")
        .replace("      app: web\n  template", "      app: web2\n  template")
        .replace("        app: web\n    spec", "        app: web2\n    spec");
    let r = apply(&h, &format!("{DEPLOY}/web"), &changed, "kubeship", "");
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(
        r.json()["message"],
        "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
    );
    // Selector not matching template labels.
    let mismatch = deployment_yaml("m", 1, "nginx")
        .replace("        app: m\n    spec", "        app: other\n    spec");
    let r = apply(&h, &format!("{DEPLOY}/m"), &mismatch, "kubeship", "");
    assert_eq!(r.status, 422);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("`selector` does not match template `labels`")
    );

    let svc =
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: 80\n";
    apply(
        &h,
        "/api/v1/namespaces/default/services/s",
        svc,
        "kubeship",
        "",
    );
    let moved = format!("{svc}  clusterIP: 10.96.99.99\n");
    let r = apply(
        &h,
        "/api/v1/namespaces/default/services/s",
        &moved,
        "kubeship",
        "",
    );
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["message"],
        "Service \"s\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"10.96.99.99\"}: may not change once set"
    );

    let job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: c\n        image: busybox:1\n";
    let r = apply(
        &h,
        "/apis/batch/v1/namespaces/default/jobs/j",
        job,
        "kubeship",
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let j = r.json();
    assert!(j["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"].is_string());
    let r = apply(
        &h,
        "/apis/batch/v1/namespaces/default/jobs/j",
        &job.replace("busybox:1", "busybox:2"),
        "kubeship",
        "",
    );
    assert_eq!(r.status, 422);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Job.batch \"j\" is invalid: spec.template: Invalid value:")
    );
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .ends_with("field is immutable")
    );
    // Jobs need restartPolicy Never/OnFailure.
    let r = apply(
        &h,
        "/apis/batch/v1/namespaces/default/jobs/k",
        &job.replace("      restartPolicy: Never\n", "")
            .replace("name: j\n", "name: k\n"),
        "kubeship",
        "",
    );
    assert_eq!(r.status, 422);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("spec.template.spec.restartPolicy: Unsupported value: \"Always\"")
    );

    let rb = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: rb\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: a\nsubjects:\n- kind: ServiceAccount\n  name: default\n  namespace: default\n";
    assert_eq!(
        apply(
            &h,
            "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/rb",
            rb,
            "kubeship",
            ""
        )
        .status,
        201
    );
    let r = apply(
        &h,
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/rb",
        &rb.replace("name: a\n", "name: b\n"),
        "kubeship",
        "",
    );
    assert_eq!(r.status, 422);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("cannot change roleRef")
    );
}

#[test]
fn admission_rules() {
    let h = fast_server();
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    fake-apiserver/reject: images must be pinned\n";
    let r = apply(
        &h,
        "/api/v1/namespaces/default/configmaps/x",
        cm,
        "kubeship",
        "",
    );
    assert_eq!(r.status, 403);
    let s = r.json();
    assert_eq!(
        s["message"],
        "admission webhook \"validate.example.com\" denied the request: images must be pinned"
    );
    assert_eq!(s["status"], "Failure");
    // Also on dry-run, and nothing is stored.
    assert_eq!(
        apply(
            &h,
            "/api/v1/namespaces/default/configmaps/x",
            cm,
            "kubeship",
            "&dryRun=All"
        )
        .status,
        403
    );
    assert!(h.get("v1", "ConfigMap", Some("default"), "x").is_none());

    // Pluggable rules from tests.
    h.add_admission_rule(|req| {
        (req.kind == "ConfigMap"
            && req.operation == Operation::Create
            && req.name.starts_with("forbidden"))
        .then(|| {
            Denial::new("no forbidden names")
                .with_webhook("names.example.com")
                .with_code(400)
        })
    });
    let r = post(
        &h,
        "/api/v1/namespaces/default/configmaps",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "forbidden-1"}}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["message"],
        "admission webhook \"names.example.com\" denied the request: no forbidden names"
    );
    h.clear_admission_rules();
    assert_eq!(
        apply(
            &h,
            "/api/v1/namespaces/default/configmaps/x",
            cm,
            "kubeship",
            ""
        )
        .status,
        201
    );
}

#[test]
fn unknown_fields_follow_field_validation() {
    let h = fast_server();
    let doc = deployment_yaml("web", 1, "nginx")
        .replace("  replicas: 1\n", "  replicas: 1\n  replicaz: 2\n");
    let r = apply(
        &h,
        &format!("{DEPLOY}/web"),
        &doc,
        "kubeship",
        "&fieldValidation=Strict",
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["message"],
        "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.replicaz: field not declared in schema"
    );
    let r = apply(
        &h,
        &format!("{DEPLOY}/web"),
        &doc,
        "kubeship",
        "&fieldValidation=Warn",
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        r.header("warning"),
        Some("299 - \"unknown field \\\"spec.replicaz\\\"\"")
    );
    assert!(r.json()["spec"].get("replicaz").is_none());
    let bad =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "dta": {}});
    let r = post(
        &h,
        "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
        &bad,
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["message"],
        "strict decoding error: unknown field \"dta\""
    );
}

#[test]
fn status_and_scale_subresources() {
    let h = fast_server();
    apply(
        &h,
        &format!("{DEPLOY}/web"),
        &deployment_yaml("web", 2, "nginx"),
        "kubeship",
        "",
    );
    let scale = get(&h, &format!("{DEPLOY}/web/scale")).json();
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["spec"]["replicas"], 2);
    assert_eq!(scale["status"]["selector"], "app=web");
    let r = merge_patch(
        &h,
        &format!("{DEPLOY}/web/scale"),
        &json!({"spec": {"replicas": 5}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let d = h
        .get("apps/v1", "Deployment", Some("default"), "web")
        .unwrap();
    assert_eq!(d["spec"]["replicas"], 5);
    let scale_mgr = d["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["subresource"] == "scale")
        .unwrap();
    assert_eq!(scale_mgr["manager"], "fake-test");
    // Writing status through the main resource is ignored; /status writes it.
    let r = merge_patch(
        &h,
        &format!("{DEPLOY}/web"),
        &json!({"status": {"replicas": 99}}),
    );
    assert_eq!(r.status, 200);
    assert_ne!(r.json()["status"]["replicas"], 99);
    h.set_workload_delay(std::time::Duration::from_secs(3600));
    let r = merge_patch(
        &h,
        &format!("{DEPLOY}/web/status"),
        &json!({"status": {"observedGeneration": 42}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"]["observedGeneration"], 42);
    let _: Value = r.json();
}
