//! Flux setter markers in YAML text, and byte-exact edits of the values they mark.
//!
//! Owns: finding every `# {"$imagepolicy": "NAMESPACE:NAME"}` marker (and its `:tag`, `:name`
//! and `:digest` variants) at the end of a line, the scalar value it marks (the last value
//! that ends on that line before the comment, as kyaml's line comments do), and replacing that
//! value's bytes only. Comments, quoting style, indentation, anchors, line endings (LF or CRLF)
//! and every other byte stay identical; a plain value that would change meaning as plain YAML
//! (say `1.10` becoming a number) is written double-quoted instead.
//! Must not: read or write files, or know what a policy chooses.

use std::fmt;

use serde_saphyr::granit_parser::{Event, Marker as Mark, Parser, ScalarStyle};

use crate::manifest::node::{Scalar, resolve_plain};

use super::objects::Key;

/// Which part of the image reference a marker sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Setter {
    /// `ns:name`: the whole reference, `NAME:TAG` (or `NAME:TAG@DIGEST` with digest reflection).
    Image,
    /// `ns:name:tag`
    Tag,
    /// `ns:name:name`: the image name (`spec.image` of the ImageRepository).
    Name,
    /// `ns:name:digest`: `sha256:...` of the chosen tag.
    Digest,
}

impl Setter {
    pub fn as_str(self) -> &'static str {
        match self {
            Setter::Image => "image",
            Setter::Tag => "tag",
            Setter::Name => "name",
            Setter::Digest => "digest",
        }
    }
}

impl fmt::Display for Setter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the marked value is written in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quoting {
    Plain,
    Single,
    Double,
}

/// A marker and the value it marks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marker {
    /// 1-based line and column of the value.
    pub line: u32,
    pub column: u32,
    pub policy: Key,
    pub setter: Setter,
    /// The marker's reference as written, e.g. `flux-system:app:tag`.
    pub reference: String,
    /// The value's meaning (unquoted, unescaped).
    pub value: String,
    pub quoting: Quoting,
    /// Inside a flow collection (`[...]` or `{...}`).
    pub flow: bool,
    /// Byte range of the value's source text, quotes included.
    pub start: usize,
    pub end: usize,
}

/// Something wrong with a marker, at a 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: u32,
    pub message: String,
}

/// The marker token Flux screens files for.
pub const TOKEN: &str = "$imagepolicy";

fn byte_of(m: &Mark, text: &str) -> usize {
    m.byte_offset().unwrap_or_else(|| {
        text.char_indices()
            .nth(m.index())
            .map_or(text.len(), |(b, _)| b)
    })
}

#[derive(Debug)]
enum Ctx {
    Map { expect_key: bool, flow: bool },
    Seq { flow: bool },
}

#[derive(Debug)]
enum Found {
    Scalar {
        value: String,
        style: ScalarStyle,
        start_line: u32,
        column: u32,
    },
    Alias,
    Empty,
}

#[derive(Debug)]
struct ValueAt {
    end_line: u32,
    start: usize,
    end: usize,
    flow: bool,
    found: Found,
}

/// Whether the next node event is a value (not a mapping key); flips the mapping's state.
fn is_value(stack: &mut [Ctx]) -> bool {
    match stack.last_mut() {
        Some(Ctx::Map { expect_key, .. }) => {
            let was_key = *expect_key;
            *expect_key = !was_key;
            !was_key
        }
        _ => true,
    }
}

/// Parses the marker reference `NAMESPACE:NAME[:tag|:name|:digest]`.
pub fn parse_reference(reference: &str) -> Result<(Key, Setter), String> {
    let parts: Vec<&str> = reference.split(':').collect();
    let (ns, name, setter) = match parts.as_slice() {
        [ns, name] => (*ns, *name, Setter::Image),
        [ns, name, "tag"] => (*ns, *name, Setter::Tag),
        [ns, name, "name"] => (*ns, *name, Setter::Name),
        [ns, name, "digest"] => (*ns, *name, Setter::Digest),
        [_, _, other] => {
            return Err(format!(
                "marker `{reference}` ends in `:{other}`; the suffix must be :tag, :name or :digest (or nothing, for the whole image reference)"
            ));
        }
        _ => {
            return Err(format!(
                "marker `{reference}` must be NAMESPACE:NAME, optionally followed by :tag, :name or :digest"
            ));
        }
    };
    if ns.is_empty() || name.is_empty() {
        return Err(format!(
            "marker `{reference}` must be NAMESPACE:NAME, with both parts"
        ));
    }
    Ok((Key::new(ns, name), setter))
}

/// Finds every marker in `text`. Problems name the line; the markers found are still returned.
pub fn find(text: &str) -> (Vec<Marker>, Vec<Problem>) {
    let mut markers = Vec::new();
    let mut problems = Vec::new();
    if !text.contains(TOKEN) {
        return (markers, problems);
    }
    let mut stack: Vec<Ctx> = Vec::new();
    let mut values: Vec<ValueAt> = Vec::new();
    let mut comments: Vec<(u32, usize, String)> = Vec::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = match event {
            Ok(e) => e,
            Err(e) => {
                problems.push(Problem {
                    line: e.marker().line() as u32,
                    message: format!("YAML syntax error: {}", e.info()),
                });
                return (markers, problems);
            }
        };
        let in_flow = |stack: &[Ctx]| {
            matches!(
                stack.last(),
                Some(Ctx::Map { flow: true, .. } | Ctx::Seq { flow: true })
            )
        };
        let start = byte_of(&span.start, text);
        let end = byte_of(&span.end, text);
        let node = match event {
            Event::DocumentStart(..) => {
                stack.clear();
                None
            }
            Event::Comment(payload, _) => {
                comments.push((span.start.line() as u32, start, payload.to_string()));
                None
            }
            Event::Scalar(value, style, _, _) => {
                Some(if start == end && style == ScalarStyle::Plain {
                    Found::Empty
                } else {
                    Found::Scalar {
                        value: value.to_string(),
                        style,
                        start_line: span.start.line() as u32,
                        column: span.start.col() as u32 + 1,
                    }
                })
            }
            Event::Alias(_) => Some(Found::Alias),
            Event::MappingStart(..) => {
                is_value(&mut stack);
                let flow = text.as_bytes().get(start) == Some(&b'{');
                stack.push(Ctx::Map {
                    expect_key: true,
                    flow,
                });
                None
            }
            Event::SequenceStart(..) => {
                is_value(&mut stack);
                let flow = text.as_bytes().get(start) == Some(&b'[');
                stack.push(Ctx::Seq { flow });
                None
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                None
            }
            _ => None,
        };
        if let Some(found) = node
            && is_value(&mut stack)
        {
            values.push(ValueAt {
                end_line: span.end.line() as u32,
                start,
                end,
                flow: in_flow(&stack),
                found,
            });
        }
    }
    for (line, at, payload) in comments {
        let body = payload.trim();
        if !body.contains(TOKEN) || !body.starts_with('{') {
            continue;
        }
        let reference = match serde_json::from_str::<serde_json::Value>(body) {
            Ok(v) => match v.get(TOKEN).and_then(|r| r.as_str()) {
                Some(r) => r.to_string(),
                None => {
                    problems.push(Problem {
                        line,
                        message: format!(
                            "marker `{body}` needs a string value: {{\"{TOKEN}\": \"NAMESPACE:NAME\"}}"
                        ),
                    });
                    continue;
                }
            },
            Err(e) => {
                problems.push(Problem {
                    line,
                    message: format!(
                        "marker `{body}` is not valid JSON ({e}); write it as # {{\"{TOKEN}\": \"NAMESPACE:NAME\"}}"
                    ),
                });
                continue;
            }
        };
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        if text[line_start..at].trim().is_empty() {
            problems.push(Problem {
                line,
                message: format!(
                    "marker `{reference}` is on a line of its own; put it at the end of the line holding the value it sets (Flux ignores it here)"
                ),
            });
            continue;
        }
        let (policy, setter) = match parse_reference(&reference) {
            Ok(p) => p,
            Err(message) => {
                problems.push(Problem { line, message });
                continue;
            }
        };
        let target = values
            .iter()
            .filter(|v| v.end_line == line && v.end <= at)
            .max_by_key(|v| v.end);
        let Some(v) = target else {
            problems.push(Problem {
                line,
                message: format!(
                    "marker `{reference}` does not follow a value on its line; markers go after a scalar value such as `image: repo/app:1.0 # {{\"{TOKEN}\": \"...\"}}`"
                ),
            });
            continue;
        };
        match &v.found {
            Found::Alias => problems.push(Problem {
                line,
                message: format!(
                    "marker `{reference}` follows an alias (`*...`); put the marker on the anchored value instead"
                ),
            }),
            Found::Empty => problems.push(Problem {
                line,
                message: format!(
                    "marker `{reference}` follows an empty value; write the current value before the marker"
                ),
            }),
            Found::Scalar {
                value,
                style,
                start_line,
                column,
            } => {
                let quoting = match style {
                    ScalarStyle::Plain => Quoting::Plain,
                    ScalarStyle::SingleQuoted => Quoting::Single,
                    ScalarStyle::DoubleQuoted => Quoting::Double,
                    _ => {
                        problems.push(Problem {
                            line,
                            message: format!(
                                "marker `{reference}` follows a block scalar (| or >); write the value on one line"
                            ),
                        });
                        continue;
                    }
                };
                if *start_line != line {
                    problems.push(Problem {
                        line,
                        message: format!(
                            "marker `{reference}` follows a value that spans several lines; write the value on one line"
                        ),
                    });
                    continue;
                }
                markers.push(Marker {
                    line,
                    column: *column,
                    policy,
                    setter,
                    reference,
                    value: value.clone(),
                    quoting,
                    flow: v.flow,
                    start: v.start,
                    end: v.end,
                });
            }
        }
    }
    markers.sort_by_key(|m| m.start);
    (markers, problems)
}

/// Whether `value` can be written as a plain scalar and still be read as this string.
fn plain_ok(value: &str, flow: bool) -> bool {
    let Some(first) = value.chars().next() else {
        return false;
    };
    if "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || value.starts_with(char::is_whitespace)
        || value.ends_with(char::is_whitespace)
        || value.ends_with(':')
        || value.contains(": ")
        || value.contains(" #")
        || value.chars().any(char::is_control)
        || (flow && value.contains([',', '[', ']', '{', '}']))
    {
        return false;
    }
    matches!(resolve_plain(value), Scalar::Str(_))
}

fn double_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The source text for `value` in the marked value's quoting style.
pub fn encode(quoting: Quoting, flow: bool, value: &str) -> String {
    match quoting {
        Quoting::Plain if plain_ok(value, flow) => value.to_string(),
        Quoting::Single if !value.chars().any(char::is_control) => {
            format!("'{}'", value.replace('\'', "''"))
        }
        _ => double_quoted(value),
    }
}

/// Replaces the values of `edits` (markers found in this same `text`) and checks the result:
/// every other byte is unchanged, and reading the new text gives the new values.
pub fn apply(text: &str, edits: &[(&Marker, &str)]) -> Result<String, String> {
    let mut sorted: Vec<&(&Marker, &str)> = edits.iter().collect();
    sorted.sort_by_key(|(m, _)| std::cmp::Reverse(m.start));
    let mut out = text.to_string();
    let mut previous_start = usize::MAX;
    for (m, new) in sorted {
        if m.end > previous_start {
            return Err(format!("line {}: two markers set the same value", m.line));
        }
        if text.get(m.start..m.end).is_none() {
            return Err(format!(
                "line {}: the file changed while it was being updated; run again",
                m.line
            ));
        }
        out.replace_range(m.start..m.end, &encode(m.quoting, m.flow, new));
        previous_start = m.start;
    }
    let (after, problems) = find(&out);
    if let Some(p) = problems.first() {
        return Err(format!(
            "line {}: the updated text would not be valid ({}); nothing was written",
            p.line, p.message
        ));
    }
    for (m, new) in edits {
        let ok = after
            .iter()
            .any(|a| a.line == m.line && a.reference == m.reference && a.value == *new);
        if !ok {
            return Err(format!(
                "line {}: the updated value does not read back as `{new}`; nothing was written",
                m.line
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Marker {
        let (m, p) = find(text);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(m.len(), 1, "{m:?}");
        m.into_iter().next().unwrap()
    }

    fn set(text: &str, new: &str) -> String {
        let m = one(text);
        apply(text, &[(&m, new)]).unwrap()
    }

    #[test]
    fn references() {
        assert_eq!(
            parse_reference("flux-system:app").unwrap(),
            (Key::new("flux-system", "app"), Setter::Image)
        );
        assert_eq!(parse_reference("a:b:tag").unwrap().1, Setter::Tag);
        assert_eq!(parse_reference("a:b:name").unwrap().1, Setter::Name);
        assert_eq!(parse_reference("a:b:digest").unwrap().1, Setter::Digest);
        assert!(parse_reference("a:b:version").is_err());
        assert!(parse_reference("app").is_err());
        assert!(parse_reference(":app").is_err());
    }

    #[test]
    fn edits_keep_every_other_byte() {
        assert_eq!(
            set(
                "image: ghcr.io/a:1.0 # {\"$imagepolicy\": \"ns:p\"}\n",
                "ghcr.io/a:1.1"
            ),
            "image: ghcr.io/a:1.1 # {\"$imagepolicy\": \"ns:p\"}\n"
        );
        assert_eq!(
            set(
                "tag: \"1.0\"   #   {\"$imagepolicy\":\"ns:p:tag\"}\r\nx: 1\r\n",
                "1.1"
            ),
            "tag: \"1.1\"   #   {\"$imagepolicy\":\"ns:p:tag\"}\r\nx: 1\r\n"
        );
        assert_eq!(
            set("tag: 'v1' # {\"$imagepolicy\": \"ns:p:tag\"}", "it's"),
            "tag: 'it''s' # {\"$imagepolicy\": \"ns:p:tag\"}"
        );
        assert_eq!(
            set("- a:1 # {\"$imagepolicy\": \"ns:p\"}\n", "a:2"),
            "- a:2 # {\"$imagepolicy\": \"ns:p\"}\n"
        );
        assert_eq!(
            set(
                "c: [{name: x, image: 'a:1'}] # {\"$imagepolicy\": \"ns:p\"}\n",
                "a:2"
            ),
            "c: [{name: x, image: 'a:2'}] # {\"$imagepolicy\": \"ns:p\"}\n"
        );
        assert_eq!(
            set(
                "i: &img a:1 # {\"$imagepolicy\": \"ns:p\"}\nj: *img\n",
                "a:2"
            ),
            "i: &img a:2 # {\"$imagepolicy\": \"ns:p\"}\nj: *img\n"
        );
        assert_eq!(
            set("tag: ünï # {\"$imagepolicy\": \"ns:p:tag\"}\n", "ö"),
            "tag: ö # {\"$imagepolicy\": \"ns:p:tag\"}\n"
        );
    }

    #[test]
    fn plain_values_that_would_change_meaning_are_quoted() {
        assert_eq!(
            set("newTag: v1 # {\"$imagepolicy\": \"ns:p:tag\"}\n", "1.10"),
            "newTag: \"1.10\" # {\"$imagepolicy\": \"ns:p:tag\"}\n"
        );
        assert_eq!(
            set("newTag: v1 # {\"$imagepolicy\": \"ns:p:tag\"}\n", "1.2.3"),
            "newTag: 1.2.3 # {\"$imagepolicy\": \"ns:p:tag\"}\n"
        );
        assert_eq!(
            set("newTag: v1 # {\"$imagepolicy\": \"ns:p:tag\"}\n", "true"),
            "newTag: \"true\" # {\"$imagepolicy\": \"ns:p:tag\"}\n"
        );
        assert_eq!(
            set("t: [v1] # {\"$imagepolicy\": \"ns:p:tag\"}\n", "a,b"),
            "t: [\"a,b\"] # {\"$imagepolicy\": \"ns:p:tag\"}\n"
        );
        assert_eq!(encode(Quoting::Double, false, "a\"b\\c"), "\"a\\\"b\\\\c\"");
    }

    #[test]
    fn ignored_and_misplaced_markers() {
        // Prose and commented-out lines are not markers; markers inside block scalars are text.
        let text = "# mention $imagepolicy here\n#  image: a:1 # {\"$imagepolicy\": \"ns:p\"}\npatch: |\n  image: a:1 # {\"$imagepolicy\": \"ns:p\"}\nkey: \"# {\\\"$imagepolicy\\\": 1}\"\n";
        let (m, p) = find(text);
        assert!(m.is_empty() && p.is_empty(), "{m:?} {p:?}");

        let cases = [
            (
                "# {\"$imagepolicy\": \"ns:p\"}\nimage: a:1\n",
                "line of its own",
            ),
            ("image: a:1 # {\"$imagepolicy\": ns:p}\n", "not valid JSON"),
            ("image: a:1 # {\"$imagepolicy\": 3}\n", "string value"),
            ("image: a:1 # {\"$imagepolicy\": \"p\"}\n", "NAMESPACE:NAME"),
            ("image: # {\"$imagepolicy\": \"ns:p\"}\n", "empty value"),
            (
                "spec: # {\"$imagepolicy\": \"ns:p\"}\n  a: 1\n",
                "does not follow a value",
            ),
            ("a: &x v\nb: *x # {\"$imagepolicy\": \"ns:p\"}\n", "alias"),
            (
                "b: | # {\"$imagepolicy\": \"ns:p\"}\n  x\n",
                "does not follow a value",
            ),
            (
                "b: \"x\n  y\" # {\"$imagepolicy\": \"ns:p\"}\n",
                "several lines",
            ),
            ("b: [x, # {\"$imagepolicy\": \"ns:p\"}\n", "syntax"),
        ];
        for (text, expected) in cases {
            let (_, p) = find(text);
            assert_eq!(p.len(), 1, "{text:?}: {p:?}");
            assert!(
                p[0].message.contains(expected),
                "{text:?}: {}",
                p[0].message
            );
        }
    }

    #[test]
    fn positions_and_documents() {
        let text = "a: 1\n---\nspec:\n  containers:\n    - name: app\n      image: ghcr.io/a:1.0 # {\"$imagepolicy\": \"ns:p\"}\n";
        let m = one(text);
        assert_eq!((m.line, m.column), (6, 14));
        assert_eq!(m.value, "ghcr.io/a:1.0");
        assert_eq!(&text[m.start..m.end], "ghcr.io/a:1.0");
    }
}
