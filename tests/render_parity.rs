//! Render parity: every fixture under tests/fixtures/kustomize is rendered by kubeship and by
//! `kubectl kustomize`, and the two outputs must be the same documents, in the same order,
//! with the same meaning. Skips visibly when kubectl is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

use kubeship::manifest::{FileId, yaml::parse_stream};

fn kubectl() -> Option<PathBuf> {
    let out = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .ok()?;
    out.status.success().then(|| PathBuf::from("kubectl"))
}

fn parse_all(text: &str) -> Vec<serde_json::Value> {
    parse_stream(text, FileId(1))
        .unwrap_or_else(|e| panic!("unparseable output: {e}\n{text}"))
        .into_iter()
        .filter_map(|d| d.root)
        .map(|n| n.to_json())
        .collect()
}

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kustomize");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures folder")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

/// The folder to build inside a fixture: `overlay/` when present, else the fixture itself.
fn entry(fixture: &Path) -> PathBuf {
    let marker = fixture.join("BUILD");
    match std::fs::read_to_string(&marker) {
        Ok(rel) => fixture.join(rel.trim()),
        Err(_) => fixture.to_path_buf(),
    }
}

#[test]
fn kubeship_matches_kubectl_kustomize() {
    let Some(kubectl) = kubectl() else {
        eprintln!("SKIPPED: kubectl not found on PATH; render parity not checked");
        return;
    };
    let fixtures = fixtures();
    assert!(
        fixtures.len() >= 30,
        "expected at least 30 parity fixtures, found {}",
        fixtures.len()
    );
    let mut failures = Vec::new();
    for fixture in &fixtures {
        let dir = entry(fixture);
        let name = fixture.file_name().unwrap().to_string_lossy().to_string();
        let expected = Command::new(&kubectl)
            .arg("kustomize")
            .arg(&dir)
            .output()
            .expect("run kubectl");
        // The fixtures folder is the repository root: fixtures may share bases.
        let root = fixture.parent().expect("fixtures folder");
        let ours = kubeship::render::render(root, &dir);
        match (expected.status.success(), ours) {
            (true, Ok(set)) => {
                let text =
                    kubeship::manifest::emit::write_stream(set.objects.iter().map(|o| &o.node));
                let want = parse_all(&String::from_utf8_lossy(&expected.stdout));
                let got = parse_all(&text);
                if want != got {
                    failures.push(format!(
                        "{name}: output differs\n--- kubectl kustomize\n{}\n--- kubeship\n{}",
                        String::from_utf8_lossy(&expected.stdout),
                        text
                    ));
                }
            }
            (false, Err(_)) => {}
            (true, Err(e)) => failures.push(format!(
                "{name}: kubeship failed where kustomize succeeded: {e}"
            )),
            (false, Ok(_)) => failures.push(format!(
                "{name}: kubeship succeeded where kustomize failed: {}",
                String::from_utf8_lossy(&expected.stderr)
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n\n{}",
        failures.len(),
        fixtures.len(),
        failures.join("\n\n")
    );
}
