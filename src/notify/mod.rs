//! Merge-request comments, job summaries, Slack/Teams/webhook notifications: sends, decides nothing.
