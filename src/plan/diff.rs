//! Unified diffs of YAML text, with a few lines of context, as `kubectl diff` shows them.
//! Must not: know what the text means.

use similar::TextDiff;

/// A unified diff of `before` and `after` (3 lines of context), without file headers.
pub fn unified(before: &str, after: &str) -> String {
    let diff = TextDiff::from_lines(before, after);
    let mut out = String::new();
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        out.push_str(&hunk.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn shows_changed_lines_with_context() {
        let d = super::unified("a: 1\nb: 2\nc: 3\n", "a: 1\nb: 5\nc: 3\n");
        assert!(d.starts_with("@@"), "{d}");
        assert!(d.contains("-b: 2\n+b: 5\n"), "{d}");
    }
}
