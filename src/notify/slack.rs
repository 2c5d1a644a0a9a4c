//! The Slack incoming-webhook payload (Block Kit) for an [`Event`].
//!
//! Owns: the blocks (header, facts, commit, counts, failed/unhealthy objects, drift, pipeline
//! link), Slack's limits (50 blocks, 3,000 characters per section text, 2,000 per field,
//! 150 per header), mrkdwn escaping, and the `text` fallback shown in notifications.
//! Must not: send anything (see `webhook`).

use serde_json::{Value, json};

use super::event::{Event, EventKind, ObjectNote, human_duration};
use super::truncate_chars;

/// Slack's limit of blocks per message.
pub const MAX_BLOCKS: usize = 50;
/// Slack's limit of characters in a section's text.
pub const MAX_SECTION_TEXT: usize = 3000;
const MAX_FIELD_TEXT: usize = 2000;
const MAX_HEADER_TEXT: usize = 150;

/// Escapes the three characters Slack's mrkdwn reserves.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `<url|label>`, or the label alone without a URL.
fn link(url: Option<&str>, label: &str) -> String {
    match url {
        Some(u) if !u.contains(['|', '>', '<', ' ']) => format!("<{u}|{}>", esc(label)),
        _ => esc(label),
    }
}

fn section(text: String) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } })
}

/// Lines joined under a title, cut to the section limit with "and N more".
fn list_text(title: &str, lines: &[String]) -> String {
    let mut out = format!("*{title} ({})*", lines.len());
    for (i, line) in lines.iter().enumerate() {
        let more = format!("\n… and {} more", lines.len() - i);
        if out.chars().count() + 1 + line.chars().count() + more.chars().count() > MAX_SECTION_TEXT
        {
            out.push_str(&more);
            break;
        }
        out.push('\n');
        out.push_str(line);
    }
    truncate_chars(&out, MAX_SECTION_TEXT).to_string()
}

fn note_lines(notes: &[ObjectNote]) -> Vec<String> {
    notes
        .iter()
        .map(|n| {
            let msg = n.message.split_whitespace().collect::<Vec<_>>().join(" ");
            format!("• `{}`: {}", esc(&n.object), esc(truncate_chars(&msg, 300)))
        })
        .collect()
}

/// The JSON body for a Slack incoming webhook.
pub fn payload(event: &Event) -> Value {
    let mut blocks = Vec::new();
    let header = format!("{} kubeship: {}", event.icon(), event.title());
    blocks.push(json!({
        "type": "header",
        "text": { "type": "plain_text", "text": truncate_chars(&header, MAX_HEADER_TEXT), "emoji": true }
    }));

    let mut fields = vec![format!("*Environment*\n{}", esc(&event.environment))];
    if let Some(c) = &event.cluster {
        fields.push(format!("*Cluster*\n{}", esc(c)));
    }
    if !event.commit.sha.is_empty() {
        let mut commit = link(event.commit.url.as_deref(), event.commit.short_sha());
        if let Some(a) = &event.commit.author {
            commit.push_str(&format!(" by {}", esc(a)));
        }
        fields.push(format!("*Commit*\n{commit}"));
    }
    if let Some(d) = event.duration {
        fields.push(format!("*Duration*\n{}", human_duration(d)));
    }
    blocks.push(json!({
        "type": "section",
        "fields": fields
            .iter()
            .map(|f| json!({ "type": "mrkdwn", "text": truncate_chars(f, MAX_FIELD_TEXT) }))
            .collect::<Vec<_>>(),
    }));

    if let Some(title) = event.commit.title() {
        let text = format!("> {}", esc(title));
        blocks.push(section(truncate_chars(&text, MAX_SECTION_TEXT).to_string()));
    }

    if event.kind != EventKind::Drift {
        let c = &event.counts;
        blocks.push(section(format!(
            "*Objects*: {} created · {} configured · {} unchanged · {} pruned · {} failed",
            c.created, c.configured, c.unchanged, c.pruned, c.failed
        )));
    }
    if !event.failed.is_empty() {
        blocks.push(section(list_text("Failed", &note_lines(&event.failed))));
    }
    if !event.unhealthy.is_empty() {
        blocks.push(section(list_text(
            "Unhealthy",
            &note_lines(&event.unhealthy),
        )));
    }
    if !event.changes.is_empty() {
        let lines: Vec<String> = event
            .changes
            .iter()
            .map(|c| format!("• `{}`: {}", esc(&c.object), esc(&c.action)))
            .collect();
        blocks.push(section(list_text("Differs from Git", &lines)));
    }

    let mut context = Vec::new();
    if let Some(u) = &event.pipeline_url {
        context.push(link(Some(u), "Pipeline"));
    }
    context.push(format!("kubeship {}", env!("CARGO_PKG_VERSION")));
    blocks.push(json!({
        "type": "context",
        "elements": [{ "type": "mrkdwn", "text": context.join(" · ") }]
    }));
    blocks.truncate(MAX_BLOCKS);

    json!({
        "text": truncate_chars(&esc(&event.summary_line()), MAX_SECTION_TEXT),
        "blocks": blocks,
    })
}

#[cfg(test)]
mod tests {
    use super::super::event::{Change, Counts, sample};
    use super::*;

    /// Pretty JSON with the version masked, so that a release does not change snapshots.
    fn pretty(v: &Value) -> String {
        serde_json::to_string_pretty(v)
            .unwrap()
            .replace(env!("CARGO_PKG_VERSION"), "[version]")
    }

    #[test]
    fn failed_apply_snapshot() {
        let p = payload(&sample(EventKind::Failed));
        insta::assert_snapshot!(pretty(&p));
    }

    #[test]
    fn drift_snapshot() {
        let mut e = sample(EventKind::Drift);
        e.failed.clear();
        e.unhealthy.clear();
        e.counts = Counts::default();
        e.duration = None;
        e.changes = vec![
            Change::new("ConfigMap/web/settings", "update"),
            Change::new("Service/web/api", "create"),
        ];
        insta::assert_snapshot!(pretty(&payload(&e)));
    }

    #[test]
    fn long_lists_stay_within_limits() {
        let mut e = sample(EventKind::Failed);
        e.failed = (0..500)
            .map(|i| ObjectNote::new(format!("ConfigMap/ns/cm-{i}"), "x".repeat(400)))
            .collect();
        let p = payload(&e);
        let blocks = p["blocks"].as_array().unwrap();
        assert!(blocks.len() <= MAX_BLOCKS);
        for b in blocks {
            if let Some(t) = b.pointer("/text/text").and_then(|t| t.as_str()) {
                assert!(t.chars().count() <= MAX_SECTION_TEXT, "{}", t.len());
            }
        }
        let failed = blocks[4]["text"]["text"].as_str().unwrap();
        assert!(failed.starts_with("*Failed (500)*"), "{failed}");
        assert!(failed.contains("more"), "{failed}");
        assert!(
            p["text"]
                .as_str()
                .unwrap()
                .starts_with("❌ kubeship: prod: apply failed")
        );
    }
}
