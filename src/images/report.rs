//! What `images update` says: text lines, the JSON document, notes for stderr, and the merge
//! request description for the scheduled pipeline.
//!
//! Owns: the text format `path:line: old -> new (policy ns/name)` plus a summary line, the JSON
//! contract `{"environment", "updates": [...], "policies": [...], "summary": {...}}`, and the
//! Markdown body of the image-update merge request.
//! Must not: print or decide exit codes; every function is pure.

use serde_json::json;

use super::update::{Outcome, UpdatePlan};

/// What happened to the plan after it was made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub written: bool,
    pub commit: Option<String>,
}

/// A line for stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    Progress(String),
    Warning(String),
    Error(String),
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One line per update, then a summary.
pub fn text(plan: &UpdatePlan, applied: &Applied) -> String {
    let mut out = String::new();
    for u in &plan.updates {
        out.push_str(&format!(
            "{}:{}: {} -> {} (policy {})\n",
            u.file, u.line, u.old, u.new, u.policy
        ));
    }
    let checked = format!(
        "{}, {} checked",
        plural(plan.markers, "marker", "markers"),
        plural(plan.policies.len(), "policy", "policies")
    );
    if plan.updates.is_empty() {
        out.push_str(&format!("no image updates ({checked})\n"));
        return out;
    }
    let files = plural(plan.files.len(), "file", "files");
    let what = plural(plan.updates.len(), "update", "updates");
    let state = match (&applied.commit, applied.written) {
        (Some(sha), _) => format!("committed {}", &sha[..sha.len().min(12)]),
        (None, true) => "written".to_string(),
        (None, false) => {
            "dry run: add --write to change the files, --commit to commit them".to_string()
        }
    };
    out.push_str(&format!("{what} in {files} ({checked}); {state}\n"));
    out
}

fn outcome_json(
    o: &Outcome,
) -> (
    &'static str,
    serde_json::Value,
    serde_json::Value,
    serde_json::Value,
) {
    match o {
        Outcome::Latest { tag, digest } => ("ok", json!(tag), json!(digest), json!(null)),
        Outcome::NoMatch(m) => ("no-match", json!(null), json!(null), json!(m)),
        Outcome::Suspended(m) => ("suspended", json!(null), json!(null), json!(m)),
        Outcome::Failed(m) => ("failed", json!(null), json!(null), json!(m)),
        Outcome::Registry(e) => (
            "registry-error",
            json!(null),
            json!(null),
            json!(e.to_string()),
        ),
    }
}

/// The JSON document (a stable contract for scripts).
pub fn json(plan: &UpdatePlan, applied: &Applied) -> String {
    let updates: Vec<serde_json::Value> = plan
        .updates
        .iter()
        .map(|u| {
            json!({
                "file": u.file,
                "line": u.line,
                "column": u.column,
                "policy": u.policy.to_string(),
                "marker": u.reference,
                "setter": u.setter.as_str(),
                "old": u.old,
                "new": u.new,
            })
        })
        .collect();
    let policies: Vec<serde_json::Value> = plan
        .policies
        .iter()
        .map(|p| {
            let (status, tag, digest, message) = outcome_json(&p.outcome);
            json!({
                "policy": p.policy.to_string(),
                "location": p.location,
                "image": p.image,
                "status": status,
                "tag": tag,
                "digest": digest,
                "markers": p.markers,
                "message": message,
            })
        })
        .collect();
    let doc = json!({
        "environment": plan.environment,
        "updates": updates,
        "policies": policies,
        "summary": {
            "updates": plan.updates.len(),
            "files": plan.files.len(),
            "markers": plan.markers,
            "policies": plan.policies.len(),
            "written": applied.written,
            "commit": applied.commit,
        },
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}

/// Warnings and per-policy problems, for stderr.
pub fn notes(plan: &UpdatePlan) -> Vec<Note> {
    let mut notes: Vec<Note> = plan.warnings.iter().cloned().map(Note::Warning).collect();
    for p in &plan.policies {
        match &p.outcome {
            Outcome::Latest { .. } => {}
            Outcome::NoMatch(why) => notes.push(Note::Warning(format!(
                "{}: ImagePolicy {}: no update: {why}",
                p.location, p.policy
            ))),
            Outcome::Suspended(why) => notes.push(Note::Progress(format!(
                "{}: ImagePolicy {}: skipped: {why}",
                p.location, p.policy
            ))),
            Outcome::Failed(why) => notes.push(Note::Error(format!(
                "{}: ImagePolicy {}: {why}",
                p.location, p.policy
            ))),
            Outcome::Registry(e) => notes.push(Note::Error(format!(
                "ImagePolicy {} ({}): {e}; its markers were left as they are",
                p.policy, p.location
            ))),
        }
    }
    notes
}

/// Title and Markdown description of the merge / pull request for this update.
pub fn merge_request(plan: &UpdatePlan) -> (String, String) {
    let title = match plan.updates.len() {
        1 => format!("Update {} to {}", plan.updates[0].old, plan.updates[0].new),
        n => format!("Update container images ({n} changes)"),
    };
    let mut body = String::from(
        "Image updates found by `kubeship images update` (Flux image policies and setter markers).\n\n| File | Old | New | Policy |\n|---|---|---|---|\n",
    );
    for u in &plan.updates {
        body.push_str(&format!(
            "| `{}:{}` | `{}` | `{}` | `{}` |\n",
            u.file, u.line, u.old, u.new, u.policy
        ));
    }
    let problems: Vec<String> = notes(plan)
        .into_iter()
        .filter_map(|n| match n {
            Note::Warning(m) | Note::Error(m) => Some(format!("- {m}")),
            Note::Progress(_) => None,
        })
        .collect();
    if !problems.is_empty() {
        body.push_str("\nNot updated:\n\n");
        body.push_str(&problems.join("\n"));
        body.push('\n');
    }
    (title, body)
}
