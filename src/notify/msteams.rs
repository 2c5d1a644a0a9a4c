//! The Microsoft Teams payload for an [`Event`]: an Adaptive Card in a `message` envelope,
//! the shape that Teams incoming webhooks and Power Automate "Workflows" webhooks
//! ("Post to a channel when a webhook request is received") both accept.
//!
//! Owns: the card (title with color, facts, object lists cut to 20 items, pipeline button).
//! Must not: send anything (see `webhook`).

use serde_json::{Value, json};

use super::event::{Event, EventKind, ObjectNote, human_duration};
use super::truncate_chars;

const MAX_ITEMS: usize = 20;
const MAX_MESSAGE: usize = 300;

fn list(title: &str, lines: Vec<String>) -> Value {
    let total = lines.len();
    let mut text = format!("**{title} ({total})**\n\n");
    for line in lines.iter().take(MAX_ITEMS) {
        text.push_str("- ");
        text.push_str(line);
        text.push('\n');
    }
    if total > MAX_ITEMS {
        text.push_str(&format!("\n… and {} more", total - MAX_ITEMS));
    }
    json!({ "type": "TextBlock", "text": text.trim_end(), "wrap": true, "spacing": "Medium" })
}

fn notes(notes: &[ObjectNote]) -> Vec<String> {
    notes
        .iter()
        .map(|n| {
            let msg = n.message.split_whitespace().collect::<Vec<_>>().join(" ");
            format!("{}: {}", n.object, truncate_chars(&msg, MAX_MESSAGE))
        })
        .collect()
}

/// The JSON body for a Teams webhook.
pub fn payload(event: &Event) -> Value {
    let color = if event.is_failure() {
        "Attention"
    } else if event.kind == EventKind::Drift {
        "Warning"
    } else {
        "Good"
    };
    let mut facts = vec![json!({ "title": "Environment", "value": event.environment })];
    if let Some(c) = &event.cluster {
        facts.push(json!({ "title": "Cluster", "value": c }));
    }
    if !event.commit.sha.is_empty() {
        let sha = event.commit.short_sha();
        let value = match &event.commit.url {
            Some(u) => format!("[{sha}]({u})"),
            None => sha.to_string(),
        };
        facts.push(json!({ "title": "Commit", "value": value }));
    }
    if let Some(a) = &event.commit.author {
        facts.push(json!({ "title": "Author", "value": a }));
    }
    if let Some(t) = event.commit.title() {
        facts.push(json!({ "title": "Message", "value": truncate_chars(t, MAX_MESSAGE) }));
    }
    if event.kind != EventKind::Drift {
        facts.push(json!({ "title": "Objects", "value": event.counts_line() }));
    }
    if let Some(d) = event.duration {
        facts.push(json!({ "title": "Duration", "value": human_duration(d) }));
    }

    let mut body = vec![
        json!({
            "type": "TextBlock",
            "text": format!("{} kubeship: {}", event.icon(), event.title()),
            "weight": "Bolder",
            "size": "Medium",
            "color": color,
            "wrap": true,
        }),
        json!({ "type": "FactSet", "facts": facts }),
    ];
    if !event.failed.is_empty() {
        body.push(list("Failed", notes(&event.failed)));
    }
    if !event.unhealthy.is_empty() {
        body.push(list("Unhealthy", notes(&event.unhealthy)));
    }
    if !event.changes.is_empty() {
        body.push(list(
            "Differs from Git",
            event
                .changes
                .iter()
                .map(|c| format!("{}: {}", c.object, c.action))
                .collect(),
        ));
    }
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": { "width": "Full" },
        "body": body,
    });
    if let Some(u) = &event.pipeline_url {
        card["actions"] = json!([{ "type": "Action.OpenUrl", "title": "Open pipeline", "url": u }]);
    }
    json!({
        "type": "message",
        "summary": event.summary_line(),
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::super::event::sample;
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
    fn long_lists_are_cut() {
        let mut e = sample(EventKind::Failed);
        e.failed = (0..45)
            .map(|i| ObjectNote::new(format!("ConfigMap/ns/cm-{i}"), "x".repeat(1000)))
            .collect();
        let p = payload(&e);
        let text = p
            .pointer("/attachments/0/content/body/2/text")
            .and_then(|t| t.as_str())
            .unwrap();
        assert!(text.starts_with("**Failed (45)**"), "{text}");
        assert!(text.ends_with("… and 25 more"), "{text}");
        assert!(p.to_string().len() < 28_000, "{}", p.to_string().len());
    }
}
