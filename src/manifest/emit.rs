//! Writing [`Node`] trees as YAML text, in the layout `kubectl kustomize` prints.
//!
//! Owns: block-style output with two-space indentation and unindented sequences, quoting any
//! string that would otherwise be read as another type (by YAML 1.1 or 1.2 readers), literal
//! blocks for multi-line strings.
//! Must not: reorder keys or change any value's meaning.

use std::fmt::Write;

use super::node::{Node, Scalar, Style, Value, resolve_plain};

/// Appends `node` as one YAML document (without a `---` separator) to `out`, with mapping keys
/// in byte order as `kubectl kustomize` prints them.
pub fn write_document(out: &mut String, node: &Node) {
    let sorted = sort_keys(node);
    write_document_as_is(out, &sorted);
}

/// A copy of `node` with every mapping's keys in byte order.
pub fn sort_keys(node: &Node) -> Node {
    let mut n = node.clone();
    sort_in_place(&mut n);
    n
}

fn sort_in_place(node: &mut Node) {
    match &mut node.value {
        Value::Map(entries) => {
            entries.sort_by(|a, b| a.key.text().unwrap_or("").cmp(b.key.text().unwrap_or("")));
            entries.iter_mut().for_each(|e| sort_in_place(&mut e.value));
        }
        Value::Seq(items) => items.iter_mut().for_each(sort_in_place),
        Value::Scalar(..) => {}
    }
}

/// Appends `node` keeping its key order.
pub fn write_document_as_is(out: &mut String, node: &Node) {
    match &node.value {
        Value::Map(e) if !e.is_empty() => write_map(out, node, 0),
        Value::Seq(i) if !i.is_empty() => write_seq(out, node, 0),
        _ => {
            write_inline(out, node, 0);
            out.push('\n');
        }
    }
}

/// Writes a stream of documents separated by `---` (no leading separator).
pub fn write_stream<'a>(nodes: impl IntoIterator<Item = &'a Node>) -> String {
    let mut out = String::new();
    for (i, n) in nodes.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        write_document(&mut out, n);
    }
    out
}

pub fn to_string(node: &Node) -> String {
    let mut out = String::new();
    write_document(&mut out, node);
    out
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn write_map(out: &mut String, node: &Node, level: usize) {
    for (i, e) in node.entries().iter().enumerate() {
        if i > 0 {
            indent(out, level);
        }
        write_key(out, &e.key);
        out.push(':');
        write_value_after_key(out, &e.value, level);
    }
}

fn write_value_after_key(out: &mut String, value: &Node, level: usize) {
    match &value.value {
        Value::Map(e) if !e.is_empty() => {
            out.push('\n');
            indent(out, level + 2);
            write_map(out, value, level + 2);
        }
        Value::Seq(items) if !items.is_empty() => {
            out.push('\n');
            indent(out, level);
            write_seq(out, value, level);
        }
        _ => {
            out.push(' ');
            write_inline(out, value, level + 2);
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, node: &Node, level: usize) {
    for (i, item) in node.items().iter().enumerate() {
        if i > 0 {
            indent(out, level);
        }
        out.push_str("- ");
        match &item.value {
            Value::Map(e) if !e.is_empty() => write_map(out, item, level + 2),
            Value::Seq(items) if !items.is_empty() => write_seq(out, item, level + 2),
            _ => {
                write_inline(out, item, level + 2);
                out.push('\n');
            }
        }
    }
}

fn write_key(out: &mut String, key: &Node) {
    match &key.value {
        Value::Scalar(t, style) if !t.contains('\n') => write_scalar_inline(out, t, *style),
        Value::Scalar(t, _) => write_double_quoted(out, t),
        _ => {
            out.push_str("? ");
            out.push_str(&key.to_json().to_string());
        }
    }
}

/// Writes a scalar or an empty collection on the current line; block scalars continue on the
/// following lines indented by `level`.
fn write_inline(out: &mut String, node: &Node, level: usize) {
    match &node.value {
        Value::Map(_) => out.push_str("{}"),
        Value::Seq(_) => out.push_str("[]"),
        Value::Scalar(t, style) => {
            if t.contains('\n') {
                write_multiline(out, t, level);
            } else {
                write_scalar_inline(out, t, *style)
            }
        }
    }
}

fn write_scalar_inline(out: &mut String, text: &str, style: Style) {
    match style {
        Style::Plain if text.is_empty() => out.push_str("null"),
        // A plain scalar that means a number, bool or null is written as it was read.
        Style::Plain if !matches!(resolve_plain(text), Scalar::Str(_)) => out.push_str(text),
        Style::Plain | Style::Str => {
            if reads_as_other_type(text) || has_special_chars(text) {
                write_double_quoted(out, text)
            } else if plain_syntax_ok(text) {
                out.push_str(text)
            } else {
                out.push('\'');
                out.push_str(&text.replace('\'', "''"));
                out.push('\'');
            }
        }
    }
}

/// Characters only a double-quoted scalar can carry.
fn has_special_chars(text: &str) -> bool {
    text.chars().any(|c| c.is_control() || c == '\u{feff}')
}

fn write_double_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() || c == '\u{feff}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A multi-line string as a literal block when that round-trips, else double-quoted.
fn write_multiline(out: &mut String, text: &str, level: usize) {
    let literal_ok = !text
        .chars()
        .any(|c| (c.is_control() && c != '\n') || c == '\u{feff}')
        && !text
            .lines()
            .any(|l| l.ends_with(' ') && l.trim().is_empty() && !l.is_empty());
    if !literal_ok {
        write_double_quoted(out, text);
        return;
    }
    let trailing = text.len() - text.trim_end_matches('\n').len();
    let body = text.trim_end_matches('\n');
    out.push('|');
    if body.starts_with(' ') || body.starts_with('\n') {
        out.push('2');
    }
    match trailing {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    let indent_n = level.max(2);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            indent(out, indent_n);
            out.push_str(line);
        }
    }
    for _ in 1..trailing {
        out.push('\n');
    }
}

/// True when a YAML 1.1 reader (kubectl, the API server) or a YAML 1.2 reader (kustomize,
/// Flux) would read the unquoted text as something other than this string; go-yaml writes
/// such strings double-quoted.
fn reads_as_other_type(text: &str) -> bool {
    if text.is_empty() || !matches!(resolve_plain(text), Scalar::Str(_)) {
        return true;
    }
    looks_like_timestamp(text) || is_base60(text)
}

/// True when the text may be written as a plain scalar (no indicator at the start, no `: `
/// or ` #` inside, no surrounding spaces); otherwise go-yaml single-quotes it.
fn plain_syntax_ok(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    !(first.is_whitespace()
        || text.ends_with(char::is_whitespace)
        || "?:,[]{}#&*!|>'\"%@`".contains(first)
        || first == '-' && !dash_safe(text)
        || text.contains(": ")
        || text.contains(" #")
        || text.ends_with(':')
        || text.contains('\t'))
}

/// `-foo` is a plain string; `-` alone and `- x` are not.
fn dash_safe(text: &str) -> bool {
    text.len() > 1 && !text[1..].starts_with(' ')
}

fn looks_like_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[5].is_ascii_digit()
}

/// YAML 1.1 sexagesimal numbers such as `1:20` or `190:20:30.15`.
fn is_base60(text: &str) -> bool {
    let t = text.trim_start_matches(['+', '-']);
    let mut parts = t.split(':');
    let Some(head) = parts.next() else {
        return false;
    };
    let mut rest: Vec<&str> = parts.collect();
    if rest.is_empty() || head.is_empty() || !head.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return false;
    }
    let last = rest.pop().unwrap_or("");
    let last_int = last.split('.').next().unwrap_or("");
    rest.iter()
        .all(|p| !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit()))
        && !last_int.is_empty()
        && last_int.len() <= 2
        && last_int.chars().all(|c| c.is_ascii_digit())
        && last
            .split('.')
            .nth(1)
            .is_none_or(|f| f.chars().all(|c| c.is_ascii_digit() || c == '_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::node::FileId;
    use crate::manifest::yaml::parse_stream;

    fn roundtrip(text: &str) -> String {
        let docs = parse_stream(text, FileId(1)).unwrap();
        write_stream(docs.iter().filter_map(|d| d.root.as_ref()))
    }

    #[test]
    fn layout_matches_kustomize() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {}\n  name: web\nspec:\n  containers:\n  - args:\n    - a\n    - b\n    name: app\n    ports:\n    - containerPort: 80\n  volumes: []\n";
        assert_eq!(roundtrip(text), text);
    }

    #[test]
    fn strings_that_look_like_other_types_are_quoted() {
        let mut m = Node::map();
        for (k, v) in [
            ("a", "yes"),
            ("b", "0644"),
            ("c", "1.5"),
            ("d", "null"),
            ("e", ""),
            ("f", "web"),
            ("g", "a: b"),
            ("h", "2024-01-01"),
            ("i", "1e3"),
            ("j", "it's"),
            ("k", "-x"),
            ("l", "*"),
            ("m", "@daily"),
            ("n", "1:20"),
            ("o", "1.2.3"),
        ] {
            m.set(k, Node::string(v));
        }
        let out = to_string(&m);
        assert_eq!(
            out,
            "a: \"yes\"\nb: \"0644\"\nc: \"1.5\"\nd: \"null\"\ne: \"\"\nf: web\ng: 'a: b'\nh: \"2024-01-01\"\ni: \"1e3\"\nj: it's\nk: -x\nl: '*'\nm: '@daily'\n\"n\": \"1:20\"\no: 1.2.3\n"
        );
        let back = parse_stream(&out, FileId(1)).unwrap();
        assert_eq!(back[0].root.as_ref().unwrap().to_json(), m.to_json());
    }

    #[test]
    fn multiline_strings_become_literal_blocks() {
        let mut m = Node::map();
        m.set("a", Node::string("line1\nline2\n"));
        m.set("b", Node::string("x\ny"));
        m.set("c", Node::string("  indented\nz\n"));
        m.set("d", Node::string("end\n\n"));
        let out = to_string(&m);
        let back = parse_stream(&out, FileId(1)).unwrap();
        assert_eq!(
            back[0].root.as_ref().unwrap().to_json(),
            m.to_json(),
            "{out}"
        );
        assert!(out.starts_with("a: |\n  line1\n  line2\nb: |-\n"), "{out}");
    }

    #[test]
    fn nested_sequences() {
        let text = "a:\n- - 1\n  - 2\n- []\n";
        assert_eq!(roundtrip(text), text);
    }
}
