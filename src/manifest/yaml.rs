//! Reading YAML text into positioned [`Node`] trees.
//!
//! Owns: parsing a (multi-document) YAML stream with the saphyr parser that serde-saphyr is built
//! on, keeping the file, line and column of every node, expanding anchors, aliases and `<<`
//! merge keys, and reporting syntax errors, tab indentation and duplicate keys with their exact
//! location.
//! Must not: read files (callers pass text), decide what a document means, or print.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span};

use super::node::{Entry, FileId, Node, Pos, Style, Value};

/// One document of a stream.
#[derive(Debug)]
pub struct Document {
    /// `None` for an empty document (only comments, or nothing between two `---`).
    pub root: Option<Node>,
    /// 1-based line where the document's content starts.
    pub line: u32,
    /// Keys that appeared twice in one mapping; the later value is kept, as Kubernetes does.
    pub duplicate_keys: Vec<DuplicateKey>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateKey {
    pub key: String,
    pub first: Pos,
    pub again: Pos,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Parses every document of `text`, which belongs to `file`.
pub fn parse_stream(text: &str, file: FileId) -> Result<Vec<Document>, SyntaxError> {
    if let Some(err) = find_tab_indentation(text, file) {
        return Err(err);
    }
    let mut builder = Builder {
        file,
        anchors: HashMap::new(),
        stack: Vec::new(),
        docs: Vec::new(),
        duplicates: Vec::new(),
        doc_line: 1,
        root: None,
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| SyntaxError {
            pos: Pos::new(file, e.marker().line() as u32, e.marker().col() as u32 + 1),
            message: format!("YAML syntax error: {}", e.info()),
        })?;
        builder.event(event, span)?;
    }
    Ok(builder.docs)
}

/// YAML forbids tabs in indentation; the parser's message for them is obscure, so say it plainly.
fn find_tab_indentation(text: &str, file: FileId) -> Option<SyntaxError> {
    if !text.contains('\t') {
        return None;
    }
    let mut in_block_scalar: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        if let Some(block_indent) = in_block_scalar {
            if rest.is_empty() || indent > block_indent || rest.starts_with('\t') && indent > 0 {
                continue;
            }
            in_block_scalar = None;
        }
        if rest.starts_with('\t') {
            let after = rest.trim_start_matches([' ', '\t']);
            if !after.is_empty() && !after.starts_with('#') {
                return Some(SyntaxError {
                    pos: Pos::new(file, i as u32 + 1, indent as u32 + 1),
                    message: "tab character used for indentation; YAML allows only spaces"
                        .to_string(),
                });
            }
        }
        let trimmed = rest.trim_end();
        let content = trimmed.split(" #").next().unwrap_or(trimmed).trim_end();
        if content.ends_with('|')
            || content.ends_with('>')
            || content.ends_with("|-")
            || content.ends_with(">-")
            || content.ends_with("|+")
            || content.ends_with(">+")
        {
            in_block_scalar = Some(indent);
        }
    }
    None
}

struct Builder {
    file: FileId,
    anchors: HashMap<usize, Node>,
    stack: Vec<Frame>,
    docs: Vec<Document>,
    duplicates: Vec<DuplicateKey>,
    doc_line: u32,
    root: Option<Node>,
}

enum Frame {
    Seq {
        node: Node,
        anchor: usize,
    },
    Map {
        node: Node,
        anchor: usize,
        pending_key: Option<Node>,
        merges: Vec<Node>,
    },
}

impl Builder {
    fn pos(&self, span: &Span) -> Pos {
        Pos::new(
            self.file,
            span.start.line() as u32,
            span.start.col() as u32 + 1,
        )
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), SyntaxError> {
        match event {
            Event::StreamStart | Event::StreamEnd => {}
            Event::DocumentStart(..) => {
                self.doc_line = span.start.line() as u32;
                self.root = None;
                self.anchors.clear();
            }
            Event::DocumentEnd => {
                let root = self.root.take().filter(|r| !r.is_null());
                let line = root.as_ref().map_or(self.doc_line, |r| r.pos.line);
                self.docs.push(Document {
                    root,
                    line,
                    duplicate_keys: std::mem::take(&mut self.duplicates),
                });
            }
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id).cloned() else {
                    return Err(SyntaxError {
                        pos: self.pos(&span),
                        message: "alias refers to an unknown anchor".to_string(),
                    });
                };
                self.push_node(node, 0)?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                let pos = self.pos(&span);
                let is_str_tag = tag
                    .as_ref()
                    .is_some_and(|t| t.is_yaml_core_schema_tag("str"));
                let style = match style {
                    ScalarStyle::Plain if !is_str_tag => Style::Plain,
                    _ => Style::Str,
                };
                self.push_node(
                    Node::new(Value::Scalar(text.as_ref().into(), style), pos),
                    anchor,
                )?;
            }
            Event::SequenceStart(_, anchor, _) => {
                let pos = self.pos(&span);
                self.stack.push(Frame::Seq {
                    node: Node::new(Value::Seq(Vec::new()), pos),
                    anchor,
                });
            }
            Event::MappingStart(_, anchor, _) => {
                let pos = self.pos(&span);
                self.stack.push(Frame::Map {
                    node: Node::new(Value::Map(Vec::new()), pos),
                    anchor,
                    pending_key: None,
                    merges: Vec::new(),
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq { mut node, anchor }) = self.stack.pop() {
                    // Streams of thousands of objects are held at once: no spare capacity.
                    if let Value::Seq(items) = &mut node.value {
                        items.shrink_to_fit();
                    }
                    self.push_node(node, anchor)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    mut node,
                    anchor,
                    merges,
                    ..
                }) = self.stack.pop()
                {
                    self.finish_map(&mut node, merges)?;
                    if let Value::Map(entries) = &mut node.value {
                        entries.shrink_to_fit();
                    }
                    self.push_node(node, anchor)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn push_node(&mut self, node: Node, anchor: usize) -> Result<(), SyntaxError> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { node: seq, .. }) => {
                if let Value::Seq(items) = &mut seq.value {
                    items.push(node);
                }
            }
            Some(Frame::Map {
                node: map,
                pending_key,
                merges,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => {
                    if matches!(&key.value, Value::Scalar(t, Style::Plain) if t == "<<") {
                        merges.push(node);
                    } else if let Value::Map(entries) = &mut map.value {
                        entries.push(Entry { key, value: node });
                    }
                }
            },
        }
        Ok(())
    }

    /// Applies `<<` merge keys (explicit keys win) and records duplicate keys (the last wins).
    fn finish_map(&mut self, node: &mut Node, merges: Vec<Node>) -> Result<(), SyntaxError> {
        let Value::Map(entries) = &mut node.value else {
            return Ok(());
        };
        if entries.len() > 1 {
            let mut seen: HashMap<&str, usize> = HashMap::with_capacity(entries.len());
            let mut drop = Vec::new();
            for (i, e) in entries.iter().enumerate() {
                let Some(k) = e.key.text() else { continue };
                if let Some(prev) = seen.insert(k, i) {
                    self.duplicates.push(DuplicateKey {
                        key: k.to_string(),
                        first: entries[prev].key.pos,
                        again: e.key.pos,
                    });
                    drop.push(prev);
                }
            }
            if !drop.is_empty() {
                let mut i = 0;
                entries.retain(|_| {
                    i += 1;
                    !drop.contains(&(i - 1))
                });
            }
        }
        for merge in merges {
            let sources: Vec<Node> = match merge.value {
                Value::Map(_) => vec![merge],
                Value::Seq(items) => items,
                Value::Scalar(..) => {
                    return Err(SyntaxError {
                        pos: merge.pos,
                        message: "`<<` merge key needs a mapping or a list of mappings".to_string(),
                    });
                }
            };
            for src in sources {
                let Value::Map(src_entries) = src.value else {
                    return Err(SyntaxError {
                        pos: src.pos,
                        message: "`<<` merge key needs a mapping or a list of mappings".to_string(),
                    });
                };
                for e in src_entries {
                    if !entries.iter().any(|x| x.key.text() == e.key.text()) {
                        entries.push(e);
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Document> {
        parse_stream(text, FileId(1)).expect("valid yaml")
    }

    #[test]
    fn positions_are_one_based() {
        let docs = parse("a: 1\nb:\n  c: x\n");
        let root = docs[0].root.as_ref().unwrap();
        let c = root.path(&["b", "c"]).unwrap();
        assert_eq!((c.pos.line, c.pos.col), (3, 6));
        let key = &root.get("b").unwrap().entries()[0].key;
        assert_eq!((key.pos.line, key.pos.col), (3, 3));
    }

    #[test]
    fn multi_document_and_empty_documents() {
        let docs = parse("---\na: 1\n---\n# only a comment\n---\nb: 2\n");
        let roots: Vec<_> = docs.iter().filter_map(|d| d.root.as_ref()).collect();
        assert_eq!(roots.len(), 2);
        assert_eq!(docs.last().unwrap().line, 6);
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let docs = parse(
            "base: &b {x: 1, y: 2}\nref: *b\nmerged:\n  <<: *b\n  y: 3\nlist: &l [1, 2]\nagain: *l\n",
        );
        let r = docs[0].root.as_ref().unwrap();
        assert_eq!(
            r.get("ref").unwrap().to_json(),
            serde_json::json!({"x":1,"y":2})
        );
        assert_eq!(
            r.get("merged").unwrap().to_json(),
            serde_json::json!({"y":3,"x":1})
        );
        assert_eq!(r.get("again").unwrap().to_json(), serde_json::json!([1, 2]));
    }

    #[test]
    fn quoted_scalars_are_strings() {
        let docs = parse("a: \"3\"\nb: '0644'\nc: 0644\nd: !!str 12\ne: |\n  text\n");
        let r = docs[0].root.as_ref().unwrap();
        assert_eq!(
            r.to_json(),
            serde_json::json!({"a":"3","b":"0644","c":420,"d":"12","e":"text\n"})
        );
    }

    #[test]
    fn duplicate_keys_are_reported_and_last_wins() {
        let docs = parse("a: 1\nb: 2\na: 3\n");
        assert_eq!(docs[0].duplicate_keys.len(), 1);
        let d = &docs[0].duplicate_keys[0];
        assert_eq!((d.key.as_str(), d.first.line, d.again.line), ("a", 1, 3));
        assert_eq!(
            docs[0].root.as_ref().unwrap().to_json(),
            serde_json::json!({"b":2,"a":3})
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse_stream("a: 1\nb: [1, 2\n", FileId(1)).unwrap_err();
        assert!(err.pos.line >= 2, "{err:?}");
        let tab = parse_stream("a:\n\tb: 1\n", FileId(1)).unwrap_err();
        assert_eq!((tab.pos.line, tab.pos.col), (2, 1));
        assert!(tab.message.contains("tab"));
    }

    #[test]
    fn tabs_inside_block_scalars_are_content() {
        let docs = parse("a: |\n  x\n  \ty\nb: 1\n");
        assert_eq!(
            docs[0].root.as_ref().unwrap().get("a").unwrap().text(),
            Some("x\n\ty\n")
        );
    }
}
