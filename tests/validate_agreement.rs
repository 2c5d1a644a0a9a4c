//! Agreement with `kubernetes-validate --strict` (PyPI), used as an oracle only: on a generated
//! corpus where every other object carries one known defect, both tools must give the same
//! valid/invalid verdict for every object, except for the defects listed in `ONLY_KUBESHIP`,
//! which the API server rejects and kubernetes-validate's schemas cannot see.
//!
//! Needs python3 and kubernetes-validate: the Python is `$KUBESHIP_KV_PYTHON`, else the one
//! next to a `kubernetes-validate` on PATH (the venv `.ci/run` installs), else
//! `bench/validate/.venv/bin/python` (`bench/validate/run.sh` installs it there). Without it
//! the test says so and passes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use kubeship::render;
use kubeship::validate::{self, Severity, ValidateOptions};

/// Defects kubeship reports and kubernetes-validate accepts, and why the API server sides
/// with kubeship.
const ONLY_KUBESHIP: &[(&str, &str)] = &[
    (
        "quantity",
        "`512MB` is not a resource.Quantity: the API server fails to decode it (quantities must match the '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' syntax); kubernetes-validate's schema for Quantity accepts any string",
    ),
    (
        "enum",
        "imagePullPolicy, protocol and pathType are enums the API server enforces (`Unsupported value`); kubernetes-validate's schemas carry no enums",
    ),
    (
        "label-value",
        "label values must be empty or 63 characters of [A-Za-z0-9_.-] starting and ending alphanumeric (apimachinery IsValidLabelValue); schemas only say `string`",
    ),
    (
        "name",
        "object names must be DNS-1123 subdomains (apimachinery NameIsDNSSubdomain); schemas only say `string`",
    ),
];

fn oracle() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("KUBESHIP_KV_PYTHON") {
        candidates.push(PathBuf::from(p));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("kubernetes-validate").is_file() {
                candidates.push(dir.join("python"));
                candidates.push(dir.join("python3"));
            }
        }
    }
    candidates.push(root.join("bench/validate/.venv/bin/python"));
    candidates.into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import kubernetes_validate"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

struct Defect {
    kind: String,
    defect: String,
}

fn defects(dir: &Path) -> BTreeMap<usize, Defect> {
    let text = std::fs::read_to_string(dir.join("defects.json")).unwrap();
    let list: serde_json::Value = serde_json::from_str(&text).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["index"].as_u64().unwrap() as usize,
                Defect {
                    kind: d["kind"].as_str().unwrap().to_string(),
                    defect: d["defect"].as_str().unwrap().to_string(),
                },
            )
        })
        .collect()
}

#[test]
fn same_verdicts_as_kubernetes_validate_strict() {
    let Some(python) = oracle() else {
        eprintln!(
            "skipped: kubernetes-validate not found (run bench/validate/run.sh once, or set KUBESHIP_KV_PYTHON to a python with `pip install kubernetes-validate`)"
        );
        return;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(root.join("bench/validate/generate.py"))
        .args(["--count", "400", "--defects", "--no-files", "--out"])
        .arg(tmp.path())
        .status()
        .unwrap();
    assert!(status.success());
    let defects = defects(tmp.path());
    let stream = tmp.path().join("stream/all.yaml");

    // kubeship, through the library.
    let set = render::render(tmp.path(), &tmp.path().join("stream")).unwrap();
    let report = validate::validate(&set, &ValidateOptions::new("agreement", "1.33"));
    let n = report.objects.len();
    assert_eq!(n, 400);
    let mut ours = vec![String::new(); n];
    for f in &report.findings {
        if let (Severity::Error, Some(i)) = (f.severity, f.object_index)
            && ours[i].is_empty()
        {
            ours[i] = format!("{}:{} [{}] {}", f.line, f.column, f.rule, f.message);
        }
    }

    // kubernetes-validate --strict, through its Python API, one verdict per document.
    let out = Command::new(&python)
        .arg(root.join("tests/fixtures/validate/agreement/kv_verdicts.py"))
        .arg(&stream)
        .arg("1.33.0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(theirs.len(), n);

    let mut unexplained = Vec::new();
    let mut explained: BTreeMap<&str, usize> = BTreeMap::new();
    let mut agreed_invalid = 0;
    for i in 0..n {
        let we_reject = !ours[i].is_empty();
        let they_reject = !theirs[i]["valid"].as_bool().unwrap();
        let defect = defects.get(&i);
        let shown = defect.map_or_else(
            || "no defect".to_string(),
            |d| format!("{} with {}", d.kind, d.defect),
        );
        // Every injected defect is found, and nothing else.
        if we_reject != defect.is_some() {
            unexplained.push(format!(
                "object {i} ({shown}): kubeship {}",
                if we_reject { &ours[i] } else { "accepts it" }
            ));
        }
        if we_reject == they_reject {
            agreed_invalid += usize::from(we_reject);
            continue;
        }
        let why = defect
            .filter(|_| we_reject && !they_reject)
            .and_then(|d| ONLY_KUBESHIP.iter().find(|(name, _)| *name == d.defect));
        match why {
            Some((name, _)) => *explained.entry(name).or_default() += 1,
            None => unexplained.push(format!(
                "object {i} ({shown}): kubeship says {:?}, kubernetes-validate says {}",
                if we_reject { &ours[i] } else { "valid" },
                theirs[i]
            )),
        }
    }
    eprintln!(
        "agreement: {n} objects, {} with a defect; same verdict on {} ({agreed_invalid} rejected by both); differences explained: {explained:?}",
        defects.len(),
        n - explained.values().sum::<usize>()
    );
    assert!(unexplained.is_empty(), "{}", unexplained.join("\n"));
    assert!(
        agreed_invalid > 100,
        "too few defects both tools see: {agreed_invalid}"
    );
    // Each documented difference really occurs, so the list stays honest.
    for (name, _) in ONLY_KUBESHIP {
        assert!(
            explained.contains_key(name),
            "documented difference `{name}` never occurred"
        );
    }
}
