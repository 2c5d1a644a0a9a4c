//! Renderers of a [`Plan`]: text (colored unified diffs and a plan line), Markdown (summary
//! table, deletions first, one `<details>` per object, fences always closed, within a byte
//! budget with a note naming what was cut) and JSON (DESIGN.md's `diff --format json`).
//! Must not: print, or see any Secret value (diffs arrive masked).

use std::fmt::Write;

use serde_json::json;

use crate::plan::{Action, Change, Plan};

/// `Plan: N to create, M to update, K to delete, U unchanged`.
pub fn plan_line(plan: &Plan) -> String {
    let s = plan.summary();
    let mut line = format!(
        "Plan: {} to create, {} to update, {} to delete, {} unchanged",
        s.create, s.update, s.delete, s.unchanged
    );
    if s.skipped > 0 {
        let _ = write!(line, ", {} skipped", s.skipped);
    }
    if s.blocked > 0 {
        let _ = write!(line, ", {} blocked", s.blocked);
    }
    line
}

fn sign(a: &Action) -> &'static str {
    match a {
        Action::Create => "+",
        Action::Update => "~",
        Action::Prune => "-",
        Action::Unchanged => "=",
        Action::Skip(_) => "!",
        Action::Blocked(_) => "x",
    }
}

/// Human text: every changed object with its diff, then the plan line.
pub fn text(plan: &Plan, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    for c in plan
        .changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
    {
        let head = format!("{} {} ({})", sign(&c.action), c.id, c.action.name());
        let code = match c.action {
            Action::Create => "32;1",
            Action::Update => "33;1",
            Action::Prune => "31;1",
            _ => "35;1",
        };
        out.push_str(&paint(code, &head));
        if let Some(p) = &c.pending {
            let _ = write!(out, " - pending: {p}");
        }
        out.push('\n');
        match &c.action {
            Action::Skip(why) | Action::Blocked(why) => {
                let _ = writeln!(out, "    {why}");
            }
            _ => {}
        }
        for line in c.diff.lines() {
            let colored = match line.as_bytes().first() {
                Some(b'+') => paint("32", line),
                Some(b'-') => paint("31", line),
                Some(b'@') => paint("36", line),
                _ => line.to_string(),
            };
            let _ = writeln!(out, "    {colored}");
        }
    }
    out.push_str(&plan_line(plan));
    out.push('\n');
    out
}

/// DESIGN.md's `diff --format json`.
pub fn json(plan: &Plan) -> String {
    let s = plan.summary();
    let changes: Vec<serde_json::Value> = plan
        .changes
        .iter()
        .map(|c| {
            let mut v = json!({
                "object": c.id.to_string(),
                "apiVersion": c.id.api_version(),
                "action": c.action.name(),
                "diff": c.diff,
            });
            if let Action::Skip(r) | Action::Blocked(r) = &c.action {
                v["reason"] = json!(r);
            }
            if let Some(p) = &c.pending {
                v["pending"] = json!(p);
            }
            if let Some(src) = &c.source {
                v["source"] = json!(src);
            }
            v
        })
        .collect();
    let doc = json!({
        "environment": plan.environment,
        "summary": {"create": s.create, "update": s.update, "delete": s.delete, "unchanged": s.unchanged},
        "changes": changes,
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

/// A fence longer than any backtick run in `body`, so the block always closes.
fn fence_for(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for ch in body.chars() {
        if ch == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn details(c: &Change, limit: usize) -> String {
    let icon = match c.action {
        Action::Create => "➕",
        Action::Update => "✏️",
        Action::Prune => "🗑️",
        Action::Skip(_) => "⏭️",
        Action::Blocked(_) => "⛔",
        Action::Unchanged => "",
    };
    let mut s = format!(
        "<details><summary>{icon} {} <code>{}</code>{}</summary>\n\n",
        c.action.name(),
        escape_html(&c.id.to_string()),
        c.pending
            .as_ref()
            .map(|p| format!(" (pending: {})", escape_html(p)))
            .unwrap_or_default()
    );
    if let Action::Skip(why) | Action::Blocked(why) = &c.action {
        let _ = writeln!(s, "{}\n", escape_html(why));
    }
    if !c.diff.is_empty() {
        let mut body = c.diff.clone();
        if body.len() > limit {
            let mut cut = limit;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
            if let Some(nl) = body.rfind('\n') {
                body.truncate(nl + 1);
            }
            body.push_str("... (diff truncated; see the full diff artifact)\n");
        }
        let fence = fence_for(&body);
        let _ = write!(s, "{fence}diff\n{body}");
        if !body.ends_with('\n') {
            s.push('\n');
        }
        let _ = writeln!(s, "{fence}");
    }
    s.push_str("</details>\n\n");
    s
}

/// Markdown for a merge-request comment, job summary or artifact, at most `max_bytes` long.
pub fn markdown(plan: &Plan, max_bytes: usize) -> String {
    let s = plan.summary();
    let mut out = String::new();
    let _ = writeln!(out, "### kubeship diff: `{}`\n", plan.environment);
    let _ = writeln!(
        out,
        "| Create | Update | Delete | Unchanged |{}\n|---:|---:|---:|---:|{}\n| {} | {} | {} | {} |{}\n",
        if s.blocked + s.skipped > 0 {
            " Blocked | Skipped |"
        } else {
            ""
        },
        if s.blocked + s.skipped > 0 {
            "---:|---:|"
        } else {
            ""
        },
        s.create,
        s.update,
        s.delete,
        s.unchanged,
        if s.blocked + s.skipped > 0 {
            format!(" {} | {} |", s.blocked, s.skipped)
        } else {
            String::new()
        }
    );
    if !plan.has_changes() && s.blocked == 0 {
        out.push_str("No changes.\n");
        return out;
    }
    let deletions: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Prune)
        .collect();
    if !deletions.is_empty() {
        out.push_str("**Deleted** (no longer in Git):\n");
        for c in &deletions {
            let _ = writeln!(out, "- `{}`", c.id);
        }
        out.push('\n');
    }
    // Deletions first, then blocked, creates, updates, skips.
    let rank = |c: &Change| match c.action {
        Action::Prune => 0,
        Action::Blocked(_) => 1,
        Action::Create => 2,
        Action::Update => 3,
        Action::Skip(_) => 4,
        Action::Unchanged => 5,
    };
    let mut shown: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .collect();
    shown.sort_by_key(|c| rank(c));
    let reserve = 600;
    let per_object_limit = (max_bytes / 4).max(2_000);
    let mut cut: Vec<&Change> = Vec::new();
    for (i, c) in shown.iter().enumerate() {
        let section = details(c, per_object_limit);
        if out.len() + section.len() + reserve > max_bytes {
            cut.extend(shown[i..].iter().copied());
            break;
        }
        out.push_str(&section);
    }
    if !cut.is_empty() {
        let _ = write!(
            out,
            "> **Truncated:** {} more object(s) not shown to stay within {} bytes: ",
            cut.len(),
            max_bytes
        );
        let mut names = String::new();
        for c in &cut {
            let item = format!("`{}` ({}), ", c.id, c.action.name());
            if out.len() + names.len() + item.len() + 80 > max_bytes {
                names.push_str("... ");
                break;
            }
            names.push_str(&item);
        }
        out.push_str(names.trim_end_matches([',', ' ']));
        out.push_str(". The full diff is in the job's artifacts.\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::ObjectRef;
    use crate::plan::Stage;

    fn change(kind: &str, name: &str, action: Action, diff: &str) -> Change {
        Change {
            id: ObjectRef {
                group: "".into(),
                version: "v1".into(),
                kind: kind.into(),
                namespace: Some("shop".into()),
                name: name.into(),
            },
            action,
            diff: diff.into(),
            rendered: None,
            stage: Stage::Rest,
            pending: None,
            source: None,
        }
    }

    fn sample() -> Plan {
        Plan {
            environment: "dev".into(),
            changes: vec![
                change(
                    "ConfigMap",
                    "a",
                    Action::Update,
                    "@@ -1 +1 @@\n-x: 1\n+x: 2\n",
                ),
                change("ConfigMap", "old", Action::Prune, "@@ -1 +0,0 @@\n-x: 1\n"),
                change("Service", "web", Action::Unchanged, ""),
                change(
                    "ConfigMap",
                    "fenced",
                    Action::Create,
                    "@@ -0,0 +1 @@\n+x: \"```\"\n",
                ),
            ],
        }
    }

    #[test]
    fn plan_line_counts() {
        assert_eq!(
            plan_line(&sample()),
            "Plan: 1 to create, 1 to update, 1 to delete, 1 unchanged"
        );
    }

    #[test]
    fn markdown_lists_deletions_first_and_closes_fences() {
        let md = markdown(&sample(), 65_536);
        let del = md.find("🗑️").unwrap();
        let upd = md.find("✏️").unwrap();
        assert!(del < upd, "{md}");
        assert!(
            md.contains("````diff"),
            "a longer fence around a diff holding ```: {md}"
        );
        assert_eq!(
            md.matches("<details>").count(),
            md.matches("</details>").count()
        );
    }

    #[test]
    fn markdown_respects_the_budget_and_names_what_was_cut() {
        let mut p = sample();
        for i in 0..200 {
            p.changes.push(change(
                "ConfigMap",
                &format!("big-{i}"),
                Action::Create,
                &"+line\n".repeat(200),
            ));
        }
        let md = markdown(&p, 20_000);
        assert!(md.len() <= 20_000, "{}", md.len());
        assert!(md.contains("**Truncated:**"), "{md}");
        assert!(md.starts_with("### kubeship diff: `dev`"));
        let fences = md.lines().filter(|l| l.starts_with("```")).count();
        assert_eq!(fences % 2, 0, "every fence closed");
    }

    #[test]
    fn json_contract() {
        let v: serde_json::Value = serde_json::from_str(&json(&sample())).unwrap();
        assert_eq!(v["environment"], "dev");
        assert_eq!(
            v["summary"],
            serde_json::json!({"create":1,"update":1,"delete":1,"unchanged":1})
        );
        assert_eq!(v["changes"][0]["object"], "ConfigMap/shop/a");
        assert_eq!(v["changes"][0]["apiVersion"], "v1");
        assert_eq!(v["changes"][1]["action"], "delete");
    }
}
