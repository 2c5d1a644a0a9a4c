//! Server-side apply semantics: managedFields, no-op applies, generation, conflicts and force,
//! pruning of fields a manager stops applying, co-ownership, dry-run, defaulted fields and
//! status never owned by apply managers.

mod common;

use common::*;
use serde_json::{Value, json};

fn managers(obj: &Value) -> Vec<(String, String)> {
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    (
                        m["manager"].as_str().unwrap().to_string(),
                        m["operation"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn entry<'a>(obj: &'a Value, manager: &str) -> &'a Value {
    obj["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["manager"] == manager)
        .unwrap()
}

#[test]
fn apply_records_field_ownership() {
    let h = fast_server();
    let r = apply(
        &h,
        &format!("{DEPLOY}/web"),
        &deployment_yaml("web", 2, "nginx:1.25"),
        "kubeship",
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let d = r.json();
    assert_eq!(d["metadata"]["generation"], 1);
    let e = entry(&d, "kubeship");
    assert_eq!(e["operation"], "Apply");
    assert_eq!(e["apiVersion"], "apps/v1");
    assert_eq!(e["fieldsType"], "FieldsV1");
    assert!(e["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        e["fieldsV1"],
        json!({
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {
                        ".": {}, "f:image": {}, "f:name": {},
                        "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}
                    }}}
                }
            }
        })
    );
    // Defaulted fields are present but owned by nobody.
    let text = e["fieldsV1"].to_string();
    for defaulted in [
        "f:strategy",
        "f:revisionHistoryLimit",
        "f:imagePullPolicy",
        "f:dnsPolicy",
        "f:status",
    ] {
        assert!(!text.contains(defaulted), "{defaulted} must not be owned");
    }
    assert!(d["spec"]["strategy"].is_object());
}

#[test]
fn noop_apply_keeps_resource_version_and_time() {
    let h = fast_server();
    let doc = deployment_yaml("web", 2, "nginx:1.25");
    apply(&h, &format!("{DEPLOY}/web"), &doc, "kubeship", "");
    // Let the controller settle the status first.
    let settled = eventually(5, "status", || {
        let d = h.get("apps/v1", "Deployment", Some("default"), "web")?;
        (d["status"]["readyReplicas"] == 2).then_some(d)
    });
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let again = apply(&h, &format!("{DEPLOY}/web"), &doc, "kubeship", "");
    assert_eq!(again.status, 200);
    let again = again.json();
    assert_eq!(
        rv(&again),
        rv(&settled),
        "a no-op apply must not bump resourceVersion"
    );
    assert_eq!(
        entry(&again, "kubeship")["time"],
        entry(&settled, "kubeship")["time"]
    );
    assert_eq!(again["metadata"]["generation"], 1);

    // A real change bumps resourceVersion and generation.
    let changed = apply(
        &h,
        &format!("{DEPLOY}/web"),
        &deployment_yaml("web", 3, "nginx:1.25"),
        "kubeship",
        "",
    )
    .json();
    assert!(rv(&changed).parse::<u64>().unwrap() > rv(&settled).parse::<u64>().unwrap());
    assert_eq!(changed["metadata"]["generation"], 2);
    // A label change does not bump generation.
    let labelled = deployment_yaml("web", 3, "nginx:1.25").replace(
        "  labels:\n    app: web\nspec",
        "  labels:\n    app: web\n    team: a\nspec",
    );
    let l = apply(&h, &format!("{DEPLOY}/web"), &labelled, "kubeship", "").json();
    assert_eq!(l["metadata"]["generation"], 2);
    assert_ne!(rv(&l), rv(&changed));
}

#[test]
fn conflicts_and_force() {
    let h = fast_server();
    // Someone else created the object with kubectl (client-side apply = Update operation).
    let obj: Value = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}}});
    h.seed("kubectl-client-side-apply", obj).unwrap();

    // Same values: no conflict, shared ownership.
    let same = deployment_yaml("web", 3, "nginx:1.25")
        .replace("        ports:\n        - containerPort: 80\n", "");
    let r = apply(&h, &format!("{DEPLOY}/web"), &same, "kubeship", "");
    assert_eq!(r.status, 200, "{}", r.text());
    let ms = managers(&r.json());
    assert!(ms.contains(&("kubectl-client-side-apply".into(), "Update".into())));
    assert!(ms.contains(&("kubeship".into(), "Apply".into())));

    // Different value of a field another manager owns: 409 with the real message.
    let r = apply(
        &h,
        &format!("{DEPLOY}/web"),
        &same.replace("replicas: 3", "replicas: 5"),
        "kubeship",
        "",
    );
    assert_eq!(r.status, 409, "{}", r.text());
    let s = r.json();
    assert_eq!(s["reason"], "Conflict");
    assert_eq!(
        s["message"],
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
    );
    assert_eq!(
        s["details"]["causes"][0],
        json!({"reason": "FieldManagerConflict", "message": "conflict with \"kubectl-client-side-apply\" using apps/v1", "field": ".spec.replicas"})
    );
    assert_eq!(
        h.get("apps/v1", "Deployment", Some("default"), "web")
            .unwrap()["spec"]["replicas"],
        3
    );

    // Two conflicts, listed per manager.
    let r = apply(
        &h,
        &format!("{DEPLOY}/web"),
        &same
            .replace("replicas: 3", "replicas: 5")
            .replace("nginx:1.25", "nginx:1.27"),
        "kubeship",
        "",
    );
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json()["message"],
        "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name=\"app\"].image"
    );

    // force=true takes ownership.
    let r = apply(
        &h,
        &format!("{DEPLOY}/web"),
        &same.replace("replicas: 3", "replicas: 5"),
        "kubeship",
        "&force=true",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let d = r.json();
    assert_eq!(d["spec"]["replicas"], 5);
    let csa = entry(&d, "kubectl-client-side-apply")["fieldsV1"].to_string();
    assert!(!csa.contains("f:replicas"), "ownership moved: {csa}");
    assert!(entry(&d, "kubeship")["fieldsV1"]["f:spec"]["f:replicas"].is_object());

    // Another applier conflicts with kubeship now (Apply managers print without "using").
    let r = apply(
        &h,
        &format!("{DEPLOY}/web"),
        &same.replace("replicas: 3", "replicas: 7"),
        "other",
        "",
    );
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json()["message"],
        "Apply failed with 1 conflict: conflict with \"kubeship\": .spec.replicas"
    );
}

#[test]
fn fields_no_longer_applied_are_removed_unless_co_owned() {
    let h = fast_server();
    let path = "/api/v1/namespaces/default/configmaps/cfg";
    let v1 = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  labels:\n    a: \"1\"\n    b: \"2\"\ndata:\n  x: \"1\"\n  y: \"2\"\n";
    apply(&h, path, v1, "kubeship", "");
    // Another manager co-owns data.y (same value).
    let other = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  y: \"2\"\n";
    assert_eq!(apply(&h, path, other, "someone-else", "").status, 200);
    let v2 = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  labels:\n    a: \"1\"\ndata:\n  x: \"1\"\n";
    let r = apply(&h, path, v2, "kubeship", "");
    assert_eq!(r.status, 200, "{}", r.text());
    let cm = r.json();
    assert_eq!(
        cm["metadata"]["labels"],
        json!({"a": "1"}),
        "label b pruned"
    );
    assert_eq!(
        cm["data"],
        json!({"x": "1", "y": "2"}),
        "y kept: someone-else still owns it"
    );
    // Dropping the container's port list removes it; replicas re-defaults to 1 when dropped.
    apply(
        &h,
        &format!("{DEPLOY}/web"),
        &deployment_yaml("web", 4, "nginx:1.25"),
        "kubeship",
        "",
    );
    let slim = deployment_yaml("web", 4, "nginx:1.25")
        .replace("  replicas: 4\n", "")
        .replace("        ports:\n        - containerPort: 80\n", "");
    let d = apply(&h, &format!("{DEPLOY}/web"), &slim, "kubeship", "").json();
    assert_eq!(d["spec"]["replicas"], 1);
    assert!(
        d["spec"]["template"]["spec"]["containers"][0]
            .get("ports")
            .is_none(),
        "{}",
        d["spec"]["template"]
    );
}

#[test]
fn dry_run_never_stores() {
    let h = fast_server();
    let before = h.resource_version();
    let r = apply(
        &h,
        &format!("{DEPLOY}/web"),
        &deployment_yaml("web", 2, "nginx"),
        "kubeship",
        "&dryRun=All",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let d = r.json();
    assert_eq!(
        d["spec"]["strategy"]["type"], "RollingUpdate",
        "dry-run result is defaulted"
    );
    assert!(d["metadata"]["managedFields"].is_array());
    assert_eq!(h.resource_version(), before);
    assert!(
        h.get("apps/v1", "Deployment", Some("default"), "web")
            .is_none()
    );
    // Services allocate no address on dry-run.
    let svc =
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: 80\n";
    let a = apply(
        &h,
        "/api/v1/namespaces/default/services/s",
        svc,
        "kubeship",
        "&dryRun=All",
    )
    .json();
    let b = apply(
        &h,
        "/api/v1/namespaces/default/services/s",
        svc,
        "kubeship",
        "",
    )
    .json();
    assert_eq!(a["spec"]["clusterIP"], b["spec"]["clusterIP"]);

    // Dry-run of a change to an existing object returns the change, stores nothing.
    let live = apply(
        &h,
        &format!("{DEPLOY}/web"),
        &deployment_yaml("web", 2, "nginx"),
        "kubeship",
        "",
    )
    .json();
    let r = apply(
        &h,
        &format!("{DEPLOY}/web"),
        &deployment_yaml("web", 6, "nginx"),
        "kubeship",
        "&dryRun=All",
    )
    .json();
    assert_eq!(r["spec"]["replicas"], 6);
    assert_eq!(r["metadata"]["generation"], 2);
    let stored = h
        .get("apps/v1", "Deployment", Some("default"), "web")
        .unwrap();
    assert_eq!(stored["spec"]["replicas"], 2);
    assert_eq!(
        stored["metadata"]["generation"],
        live["metadata"]["generation"]
    );
    // Conflicts are reported on dry-run too.
    let r = apply(
        &h,
        &format!("{DEPLOY}/web"),
        &deployment_yaml("web", 6, "nginx"),
        "intruder",
        "&dryRun=All",
    );
    assert_eq!(r.status, 409);
    // The request log marks dry-runs and field managers.
    let log = h.requests();
    assert!(
        log.iter()
            .any(|r| r.dry_run && r.field_manager.as_deref() == Some("intruder"))
    );
}

#[test]
fn status_is_never_applied() {
    let h = fast_server();
    apply(
        &h,
        &format!("{DEPLOY}/web"),
        &deployment_yaml("web", 1, "nginx"),
        "kubeship",
        "",
    );
    let settled = eventually(5, "ready", || {
        let d = h.get("apps/v1", "Deployment", Some("default"), "web")?;
        (d["status"]["availableReplicas"] == 1).then_some(d)
    });
    let doc = format!(
        "{}status:\n  replicas: 42\n",
        deployment_yaml("web", 1, "nginx")
    );
    let r = apply(&h, &format!("{DEPLOY}/web"), &doc, "kubeship", "").json();
    assert_eq!(r["status"], settled["status"]);
    assert_eq!(rv(&r), rv(&settled));
    assert!(
        !entry(&r, "kubeship")["fieldsV1"]
            .to_string()
            .contains("f:status")
    );
    let ctrl = entry(&r, "kube-controller-manager");
    assert_eq!(ctrl["subresource"], "status");
    assert_eq!(ctrl["operation"], "Update");
}

#[test]
fn apply_validation_errors() {
    let h = fast_server();
    let doc = deployment_yaml("web", 1, "nginx");
    let r = request(
        &h,
        "PATCH",
        &format!("{DEPLOY}/web"),
        Some("application/apply-patch+yaml"),
        Some(doc.as_bytes()),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("fieldManager")
    );
    let r = apply(&h, &format!("{DEPLOY}/other"), &doc, "kubeship", "");
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["message"],
        "the name of the object (web) does not match the name on the URL (other)"
    );
    let r = apply(
        &h,
        &format!("{DEPLOY}/web"),
        &doc.replace("apps/v1", "apps/v1beta1"),
        "kubeship",
        "",
    );
    assert_eq!(r.status, 400);
    let r = apply(
        &h,
        &format!("{DEPLOY}/web"),
        "this: [is not: valid",
        "kubeship",
        "",
    );
    assert_eq!(r.status, 400);
    // JSON bodies are accepted as apply configurations too.
    let j = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}, "data": {"a": "b"}});
    let r = apply(
        &h,
        "/api/v1/namespaces/default/configmaps/j",
        &j.to_string(),
        "kubeship",
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

#[test]
fn custom_resources_follow_their_crd() {
    let h = fast_server();
    let crd = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              mode: {type: string, default: fast}
              items:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  properties:
                    name: {type: string}
                    value: {type: string}
"#;
    let r = apply(
        &h,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com",
        crd,
        "kubeship",
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let established = eventually(5, "established", || {
        let c = h.get(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            None,
            "widgets.example.com",
        )?;
        let conds = c["status"]["conditions"].as_array()?;
        conds
            .iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True")
            .then_some(c)
    });
    assert_eq!(established["status"]["acceptedNames"]["kind"], "Widget");
    assert!(
        established["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "NamesAccepted")
    );
    let disc = get(&h, "/apis/example.com/v1").json();
    assert_eq!(disc["resources"][0]["name"], "widgets");
    assert_eq!(disc["resources"][0]["shortNames"], json!(["wd"]));

    let w = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: 1\n  items:\n  - name: a\n    value: x\n";
    let r = apply(
        &h,
        "/apis/example.com/v1/namespaces/default/widgets/w",
        w,
        "kubeship",
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["metadata"]["generation"], 1);
    assert_eq!(r.json()["spec"]["mode"], "fast", "schema default applied");
    let f = entry(&r.json(), "kubeship")["fieldsV1"].clone();
    assert!(
        f["f:spec"].get("f:mode").is_none(),
        "defaults are not owned"
    );
    assert!(
        f["f:spec"]["f:items"]["k:{\"name\":\"a\"}"].is_object(),
        "{f}"
    );
    // Unknown fields are rejected under Strict.
    let r = apply(
        &h,
        "/apis/example.com/v1/namespaces/default/widgets/w",
        &format!("{w}  colour: red\n"),
        "kubeship",
        "&fieldValidation=Strict",
    );
    assert_eq!(r.status, 400);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .ends_with(".spec.colour: field not declared in schema")
    );
    // spec change bumps generation; strategic merge patch is not supported for CRs.
    let r = apply(
        &h,
        "/apis/example.com/v1/namespaces/default/widgets/w",
        &w.replace("size: 1", "size: 2"),
        "kubeship",
        "",
    )
    .json();
    assert_eq!(r["metadata"]["generation"], 2);
    let r = request(
        &h,
        "PATCH",
        "/apis/example.com/v1/namespaces/default/widgets/w",
        Some("application/strategic-merge-patch+json"),
        Some(b"{}"),
    );
    assert_eq!(r.status, 415);

    // Deleting the CRD unregisters the kind and deletes its objects.
    assert_eq!(
        delete(
            &h,
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com"
        )
        .status,
        200
    );
    assert_eq!(
        get(&h, "/apis/example.com/v1/namespaces/default/widgets/w").status,
        404
    );
    assert_eq!(get(&h, "/apis/example.com/v1").status, 404);
    assert!(!h.is_served("example.com/v1", "Widget"));
}
