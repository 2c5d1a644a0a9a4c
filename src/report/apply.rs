//! Renderers of an apply result: text (one line per object that changed or failed, the
//! unhealthy objects with their conditions, a summary line) and JSON (DESIGN.md's
//! `apply --format json`).
//! Must not: print.

use std::fmt::Write;

use serde_json::json;

use crate::cluster::execute::{ApplyResult, Outcome};

pub fn summary_line(env: &str, r: &ApplyResult) -> String {
    format!(
        "Apply {env}: {} created, {} configured, {} unchanged, {} pruned, {} failed{}{} in {:.1}s",
        r.count(Outcome::Created),
        r.count(Outcome::Configured),
        r.count(Outcome::Unchanged),
        r.count(Outcome::Pruned),
        r.count(Outcome::Failed),
        match r.count(Outcome::Skipped) {
            0 => String::new(),
            n => format!(", {n} skipped"),
        },
        if r.healthy() { "" } else { ", NOT HEALTHY" },
        r.duration.as_secs_f64()
    )
}

pub fn text(env: &str, r: &ApplyResult, dry_run: bool) -> String {
    let mut out = String::new();
    for o in r.objects.iter().filter(|o| o.outcome != Outcome::Unchanged) {
        let verb = if dry_run {
            match o.outcome {
                Outcome::Created => "would be created",
                Outcome::Configured => "would be configured",
                Outcome::Pruned => "would be pruned",
                other => other.name(),
            }
        } else {
            o.outcome.name()
        };
        let _ = write!(out, "{} {verb}", o.id);
        if let Some(m) = &o.message {
            let _ = write!(out, ": {m}");
        }
        out.push('\n');
    }
    if !r.unhealthy.is_empty() {
        out.push_str("Unhealthy when the wait ended:\n");
        for (obj, why) in &r.unhealthy {
            let _ = writeln!(out, "  {obj}: {why}");
        }
    }
    out.push_str(&summary_line(env, r));
    out.push('\n');
    out
}

pub fn json(env: &str, r: &ApplyResult) -> String {
    let objects: Vec<_> = r
        .objects
        .iter()
        .map(|o| {
            json!({
                "object": o.id.to_string(),
                "apiVersion": o.id.api_version(),
                "action": o.outcome.name(),
                "error": if o.outcome == Outcome::Failed { o.message.clone() } else { None },
                "reason": if o.outcome == Outcome::Skipped { o.message.clone() } else { None },
            })
        })
        .collect();
    let doc = json!({
        "environment": env,
        "summary": {
            "created": r.count(Outcome::Created),
            "configured": r.count(Outcome::Configured),
            "unchanged": r.count(Outcome::Unchanged),
            "pruned": r.count(Outcome::Pruned),
            "failed": r.count(Outcome::Failed),
        },
        "objects": objects,
        "healthy": r.healthy(),
        "unhealthy": r.unhealthy.iter().map(|(o, w)| json!({"object": o, "reason": w})).collect::<Vec<_>>(),
        "durationMs": r.duration.as_millis() as u64,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
