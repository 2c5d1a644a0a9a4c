//! Accuracy of `validate` on the fixture corpus: a valid corpus (many kinds, a CRD and its
//! custom resources) must give no finding at all, and each invalid case must give exactly its
//! one known finding, at the file, line and column a person has to edit.

use std::path::{Path, PathBuf};

use kubeship::render;
use kubeship::validate::{self, EnvironmentReport, Rule, Severity, ValidateOptions};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const FIXTURES: &str = "tests/fixtures/validate";

fn run(dir: &str, version: &str) -> EnvironmentReport {
    let root = repo();
    let opts = ValidateOptions::new(dir, version);
    match render::render(&root, &root.join(dir)) {
        Ok(set) => validate::validate(&set, &opts),
        Err(e) => {
            let text = e
                .pos
                .as_ref()
                .and_then(|(p, _, _)| std::fs::read_to_string(root.join(p)).ok());
            validate::render_failure(&e, &opts, text.as_deref())
        }
    }
}

fn describe(r: &EnvironmentReport) -> String {
    r.findings
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{} {} [{}] {}",
                f.file, f.line, f.column, f.severity, f.rule, f.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn valid_corpus_has_no_findings_in_every_embedded_version() {
    for version in ["1.30", "1.33", "1.37"] {
        let r = run(&format!("{FIXTURES}/valid"), version);
        assert!(r.findings.is_empty(), "{version}:\n{}", describe(&r));
        assert_eq!(r.schema_version, version);
        let mut kinds: Vec<&str> = r
            .objects
            .iter()
            .map(|o| o.object.split('/').next().unwrap_or(""))
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        assert!(kinds.len() >= 15, "only {} kinds: {kinds:?}", kinds.len());
        assert!(kinds.contains(&"CustomResourceDefinition") && kinds.contains(&"Backup"));
    }
}

/// One invalid case: its folder (under `invalid/`), the Kubernetes version, and the one
/// finding expected: rule, severity, file (under the case folder), line, column, and a part
/// of the message.
struct Case {
    dir: &'static str,
    version: &'static str,
    rule: Rule,
    severity: Severity,
    file: &'static str,
    line: u32,
    column: u32,
    says: &'static str,
}

const fn case(
    dir: &'static str,
    rule: Rule,
    file: &'static str,
    line: u32,
    column: u32,
    says: &'static str,
) -> Case {
    Case {
        dir,
        version: "1.33",
        rule,
        severity: Severity::Error,
        file,
        line,
        column,
        says,
    }
}

const fn warn(c: Case) -> Case {
    Case {
        severity: Severity::Warning,
        ..c
    }
}

const CASES: &[Case] = &[
    case(
        "yaml-syntax",
        Rule::YamlSyntax,
        "app.yaml",
        7,
        8,
        "YAML syntax error",
    ),
    case(
        "tab-indentation",
        Rule::YamlSyntax,
        "app.yaml",
        4,
        1,
        "tab character",
    ),
    case(
        "duplicate-key",
        Rule::DuplicateKey,
        "app.yaml",
        9,
        3,
        "duplicate key `replicas` (first at line 7)",
    ),
    case(
        "missing-name",
        Rule::InvalidName,
        "app.yaml",
        3,
        1,
        "metadata.name is missing",
    ),
    case(
        "invalid-name",
        Rule::InvalidName,
        "app.yaml",
        4,
        9,
        "`Web_1` is not a valid Deployment name",
    ),
    case(
        "service-name",
        Rule::InvalidName,
        "app.yaml",
        4,
        9,
        "DNS-1035 label",
    ),
    case(
        "cronjob-name",
        Rule::InvalidName,
        "app.yaml",
        4,
        9,
        "no more than 52 characters",
    ),
    case(
        "crd-name",
        Rule::InvalidName,
        "crd.yaml",
        4,
        9,
        "must be `backups.shop.example.com`",
    ),
    case(
        "container-name",
        Rule::InvalidName,
        "app.yaml",
        17,
        17,
        "container name `Web` must consist of lower case",
    ),
    case(
        "resource-name",
        Rule::Schema,
        "app.yaml",
        25,
        15,
        "`memroy` is not a container resource",
    ),
    case(
        "label-value",
        Rule::InvalidLabel,
        "app.yaml",
        15,
        18,
        "label value `-beta`",
    ),
    case(
        "annotation-key",
        Rule::InvalidAnnotation,
        "app.yaml",
        6,
        5,
        "annotation key `example.com/owner/team`",
    ),
    case(
        "unknown-field",
        Rule::UnknownField,
        "app.yaml",
        19,
        11,
        "unknown field `imagePullPolcy` in spec.template.spec.containers[0] (did you mean `imagePullPolicy`?)",
    ),
    case(
        "unknown-field-spec",
        Rule::UnknownField,
        "app.yaml",
        8,
        3,
        "unknown field `replica` in spec",
    ),
    case(
        "string-for-int",
        Rule::Schema,
        "app.yaml",
        7,
        13,
        "spec.replicas must be an integer, not a string \"2\" (remove the quotes)",
    ),
    case(
        "quantity",
        Rule::Schema,
        "app.yaml",
        25,
        23,
        "`128MB` is not a valid quantity",
    ),
    case(
        "missing-container-name",
        Rule::Schema,
        "app.yaml",
        17,
        11,
        "missing required field `name` in spec.template.spec.containers[0]",
    ),
    case(
        "null-required",
        Rule::Schema,
        "app.yaml",
        17,
        17,
        "spec.template.spec.containers[0].name must not be null",
    ),
    case(
        "enum",
        Rule::Schema,
        "app.yaml",
        19,
        28,
        "\"Sometimes\" is not one of Always, IfNotPresent, Never",
    ),
    case(
        "base64",
        Rule::Schema,
        "app.yaml",
        6,
        13,
        "data.password is not valid base64",
    ),
    case(
        "list-expected",
        Rule::Schema,
        "app.yaml",
        20,
        17,
        "args must be a list, not a string",
    ),
    case(
        "int32-range",
        Rule::Schema,
        "app.yaml",
        21,
        30,
        "greater than the maximum of 2147483647",
    ),
    case(
        "ingress-path-type",
        Rule::Schema,
        "app.yaml",
        9,
        13,
        "missing required field `pathType` in spec.rules[0].http.paths[0]",
    ),
    case(
        "unknown-kind",
        Rule::UnknownKind,
        "app.yaml",
        2,
        7,
        "did you mean `Deployment`?",
    ),
    case(
        "unknown-version",
        Rule::UnknownKind,
        "app.yaml",
        1,
        13,
        "apps/v2 does not serve Deployment in Kubernetes 1.33; use apiVersion apps/v1",
    ),
    case(
        "removed-ingress",
        Rule::RemovedApi,
        "app.yaml",
        1,
        13,
        "extensions/v1beta1 Ingress was removed in Kubernetes 1.22 (target is 1.33); use networking.k8s.io/v1",
    ),
    case(
        "removed-pdb",
        Rule::RemovedApi,
        "app.yaml",
        1,
        13,
        "removed in Kubernetes 1.25 (target is 1.33); use policy/v1",
    ),
    case(
        "removed-hpa",
        Rule::RemovedApi,
        "app.yaml",
        1,
        13,
        "removed in Kubernetes 1.26 (target is 1.33); use autoscaling/v2",
    ),
    case(
        "removed-flowschema",
        Rule::RemovedApi,
        "app.yaml",
        1,
        13,
        "removed in Kubernetes 1.32 (target is 1.33); use flowcontrol.apiserver.k8s.io/v1",
    ),
    Case {
        version: "1.24",
        ..warn(case(
            "deprecated-cronjob",
            Rule::DeprecatedApi,
            "app.yaml",
            1,
            13,
            "deprecated since Kubernetes 1.21 and will be removed in 1.25; use batch/v1",
        ))
    },
    case(
        "deprecated-cronjob",
        Rule::RemovedApi,
        "app.yaml",
        1,
        13,
        "removed in Kubernetes 1.25 (target is 1.33); use batch/v1",
    ),
    case(
        "duplicate-object",
        Rule::DuplicateObject,
        "b.yaml",
        5,
        9,
        "ConfigMap/shop/cfg is defined twice: here and at tests/fixtures/validate/invalid/duplicate-object/a.yaml:4:9",
    ),
    case(
        "selector-mismatch",
        Rule::SelectorMismatch,
        "app.yaml",
        8,
        3,
        "app=webapp is wanted, the template has app=web",
    ),
    warn(case(
        "service-selector",
        Rule::ServiceSelector,
        "app.yaml",
        33,
        3,
        "spec.selector (app=website) matches no pod template",
    )),
    warn(case(
        "image-latest",
        Rule::ImageTagLatest,
        "app.yaml",
        18,
        18,
        "`nginx:latest` uses the mutable `latest` tag",
    )),
    warn(case(
        "missing-schema",
        Rule::MissingSchema,
        "app.yaml",
        2,
        7,
        "certificate-cert-manager.io-v1.json",
    )),
    warn(case(
        "not-an-object",
        Rule::NotAnObject,
        "app.yaml",
        7,
        1,
        "not a Kubernetes object",
    )),
    case(
        "cr-unknown-field",
        Rule::UnknownField,
        "backup.yaml",
        9,
        3,
        "unknown field `retension` in spec (did you mean `retention`?)",
    ),
    case(
        "cr-enum",
        Rule::Schema,
        "backup.yaml",
        9,
        9,
        "spec.mode: \"differential\" is not one of full, incremental",
    ),
    case(
        "kustomize-patch",
        Rule::UnknownField,
        "overlay/patch.yaml",
        13,
        15,
        "unknown field `prot` in spec.template.spec.containers[0].livenessProbe.httpGet (did you mean `port`? it is required)",
    ),
    case(
        "kustomize-base",
        Rule::Schema,
        "base/deployment.yaml",
        6,
        13,
        "spec.replicas must be an integer, not a string \"two\"",
    ),
    case(
        "kustomize-inline-patch",
        Rule::Schema,
        "kustomization.yaml",
        7,
        10,
        "spec.replicas must be an integer, not a string \"many\"",
    ),
];

#[test]
fn every_invalid_case_gives_its_one_finding_at_its_place() {
    let mut failures = Vec::new();
    let mut dirs: Vec<&str> = CASES.iter().map(|c| c.dir).collect();
    dirs.sort_unstable();
    dirs.dedup();
    assert!(dirs.len() >= 25, "{} cases", dirs.len());
    for c in CASES {
        let base = format!("{FIXTURES}/invalid/{}", c.dir);
        let target = if Path::new(&repo()).join(&base).join("overlay").is_dir() {
            format!("{base}/overlay")
        } else {
            base.clone()
        };
        let r = run(&target, c.version);
        let want_file = format!("{base}/{}", c.file);
        let ok = r.findings.len() == 1 && {
            let f = &r.findings[0];
            f.rule == c.rule
                && f.severity == c.severity
                && f.file == want_file
                && (f.line, f.column) == (c.line, c.column)
                && f.message.contains(c.says)
                && f.source_line.is_some()
        };
        if !ok {
            failures.push(format!(
                "{} ({}): want {} {:?} at {want_file}:{}:{} saying {:?}\n  got:\n{}",
                c.dir,
                c.version,
                c.rule,
                c.severity,
                c.line,
                c.column,
                c.says,
                describe(&r)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn all_invalid_cases_are_in_the_table() {
    let dir = repo().join(FIXTURES).join("invalid");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    on_disk.sort();
    for d in &on_disk {
        assert!(
            CASES.iter().any(|c| c.dir == d),
            "case folder {d} has no row in CASES"
        );
    }
}

#[test]
fn unembedded_versions_use_the_nearest_set_with_a_note() {
    let r = run(&format!("{FIXTURES}/invalid/removed-hpa"), "1.25");
    assert_eq!(r.schema_version, "1.30");
    assert!(
        r.notes[0].contains("Kubernetes 1.25 has no embedded schemas"),
        "{:?}",
        r.notes
    );
    // autoscaling/v2beta2 is only deprecated in 1.25.
    assert_eq!(r.findings.len(), 1, "{}", describe(&r));
    assert_eq!(r.findings[0].rule, Rule::DeprecatedApi);
}

#[test]
fn rule_levels_are_configurable() {
    let root = repo();
    let dir = root.join(FIXTURES).join("invalid/image-latest");
    let set = render::render(&root, &dir).unwrap();
    let mut opts = ValidateOptions::new("x", "1.33");
    opts.rules.insert(
        "image-tag-latest".into(),
        kubeship::settings::RuleLevel::Error,
    );
    opts.rules.insert(
        "resource-requests".into(),
        kubeship::settings::RuleLevel::Warn,
    );
    let r = validate::validate(&set, &opts);
    assert_eq!(r.errors(), 1, "{}", describe(&r));
    assert_eq!(r.findings[0].rule, Rule::ImageTagLatest);
    opts.rules.insert(
        "image-tag-latest".into(),
        kubeship::settings::RuleLevel::Off,
    );
    let r = validate::validate(&set, &opts);
    assert!(r.findings.is_empty(), "{}", describe(&r));
}

#[test]
fn non_strict_accepts_unknown_fields() {
    let root = repo();
    let dir = root.join(FIXTURES).join("invalid/unknown-field");
    let set = render::render(&root, &dir).unwrap();
    let mut opts = ValidateOptions::new("x", "1.33");
    opts.strict = false;
    let r = validate::validate(&set, &opts);
    assert!(r.findings.is_empty(), "{}", describe(&r));
}
