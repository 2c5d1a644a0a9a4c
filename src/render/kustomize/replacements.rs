//! `replacements`: copy a value from one object's field into fields of other objects.
//!
//! Owns: source selection (exactly one object, by current or earlier identity), field paths
//! (`a.b.[name=x].c`, `[=value]`, `*`, list indexes), the `delimiter`/`index` and `create`
//! options, `reject` lists, and loading replacements from a file. A scalar target keeps its
//! type and takes only the source's text, as kustomize does.
//! Must not: rename objects or run other transformers.

use crate::manifest::{Node, Pos, Value};

use super::file::{Kustomization, ReplacementSource};
use super::selector::LabelSelector;
use super::{Ctx, Res, ResId};
use crate::render::RenderError;

#[derive(Debug, Default)]
struct IdSel {
    group: String,
    version: String,
    kind: String,
    name: String,
    namespace: String,
    labels: Option<LabelSelector>,
    annotations: Option<LabelSelector>,
}

impl IdSel {
    fn read(n: &Node) -> Result<IdSel, String> {
        let s = |k: &str| n.get(k).and_then(Node::as_name).unwrap_or("").to_string();
        let sel = |k: &str| -> Result<Option<LabelSelector>, String> {
            n.get(k)
                .and_then(Node::as_name)
                .map(LabelSelector::parse)
                .transpose()
        };
        // kustomize accepts `apiVersion` besides group/version in selectors.
        let (mut group, mut version) = (s("group"), s("version"));
        if let Some(av) = n.get("apiVersion").and_then(Node::as_name) {
            let (g, v) = crate::manifest::object::split_api_version(av);
            group = g.to_string();
            version = v.to_string();
        }
        Ok(IdSel {
            group,
            version,
            kind: s("kind"),
            name: s("name"),
            namespace: s("namespace"),
            labels: sel("labelSelector")?,
            annotations: sel("annotationSelector")?,
        })
    }

    fn selects(&self, id: &ResId) -> bool {
        let eq = |want: &str, have: &str| want.is_empty() || want == have;
        eq(&self.group, &id.group)
            && eq(&self.version, &id.version)
            && eq(&self.kind, &id.kind)
            && eq(&self.name, &id.name)
            && eq(&self.namespace, &id.namespace)
    }

    fn selects_res(&self, r: &Res) -> bool {
        let labels = r
            .node()
            .path(&["metadata", "labels"])
            .map_or(&[][..], Node::entries);
        let annotations = r
            .node()
            .path(&["metadata", "annotations"])
            .map_or(&[][..], Node::entries);
        self.labels.as_ref().is_none_or(|s| s.matches(labels))
            && self
                .annotations
                .as_ref()
                .is_none_or(|s| s.matches(annotations))
            && r.any_id_matches(|id| self.selects(id))
    }
}

#[derive(Debug, Default, Clone)]
struct Options {
    delimiter: String,
    index: i64,
    create: bool,
}

fn read_options(n: Option<&Node>) -> Options {
    let Some(n) = n else {
        return Options::default();
    };
    Options {
        delimiter: n
            .get("delimiter")
            .and_then(Node::as_name)
            .unwrap_or("")
            .to_string(),
        index: n.get("index").and_then(Node::as_i64).unwrap_or(0),
        create: n.get("create").and_then(Node::as_bool).unwrap_or(false),
    }
}

pub fn run(ctx: &mut Ctx<'_>, k: &Kustomization, ra: &mut [Res]) -> Result<(), RenderError> {
    for entry in &k.replacements {
        let nodes: Vec<Node> = match &entry.value {
            ReplacementSource::Inline(n) => vec![n.clone()],
            ReplacementSource::File(path) => {
                let docs = ctx.read_yaml(&k.dir, path, entry.pos)?;
                let mut out = Vec::new();
                for d in docs {
                    match &d.value {
                        Value::Seq(items) => out.extend(items.iter().cloned()),
                        Value::Map(_) => out.push(d),
                        Value::Scalar(..) => {
                            return Err(ctx.err(
                                d.pos,
                                "a replacements file holds a replacement or a list of them",
                            ));
                        }
                    }
                }
                out
            }
        };
        for r in &nodes {
            replace(ra, r).map_err(|m| ctx.err(r.pos, format!("replacement: {m}")))?;
        }
    }
    Ok(())
}

fn replace(ra: &mut [Res], rep: &Node) -> Result<(), String> {
    // kustomize 5.5 needs a source and at least one target (no `sourceValue`).
    let targets = rep.get("targets").map_or(&[][..], Node::items);
    let (Some(src), false) = (rep.get("source"), targets.is_empty()) else {
        return Err("replacements must specify a source and at least one target".to_string());
    };
    let value = source_value(ra, src)?;
    for t in targets {
        let select = t
            .get("select")
            .ok_or("each target needs `select`")
            .and_then(|s| IdSel::read(s).map_err(|_| "invalid target selector"))?;
        let rejects: Vec<IdSel> = t
            .get("reject")
            .map_or(&[][..], Node::items)
            .iter()
            .map(IdSel::read)
            .collect::<Result<_, _>>()?;
        let paths: Vec<String> = match t.get("fieldPaths") {
            Some(p) => p
                .items()
                .iter()
                .filter_map(Node::as_name)
                .map(str::to_string)
                .collect(),
            None => vec!["metadata.name".to_string()],
        };
        let options = read_options(t.get("options"));
        for r in ra.iter_mut() {
            if !select.selects_res(r) || rejects.iter().any(|rj| rj.selects_res(r)) {
                continue;
            }
            for fp in &paths {
                let segs = split_field_path(fp);
                let mut found = 0;
                set_path(r.node_mut(), &segs, &value, &options, &mut found)?;
                if found == 0 {
                    return Err(format!(
                        "unable to find field `{fp}` in replacement target {}{}",
                        r.obj.id(),
                        if options.create {
                            ""
                        } else {
                            " (set `options: {create: true}` to create it)"
                        }
                    ));
                }
            }
        }
    }
    Ok(())
}

fn source_value(ra: &[Res], src: &Node) -> Result<Node, String> {
    let sel = IdSel::read(src)?;
    let matches: Vec<&Res> = ra.iter().filter(|r| sel.selects_res(r)).collect();
    let r = match matches.as_slice() {
        [r] => *r,
        [] => return Err("nothing is selected by the source".to_string()),
        many => {
            return Err(format!(
                "the source selects {} objects ({}); it must select exactly one",
                many.len(),
                many.iter()
                    .map(|r| r.obj.id().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    };
    let fp = src
        .get("fieldPath")
        .and_then(Node::as_name)
        .unwrap_or("metadata.name");
    let mut found = Vec::new();
    get_path(r.node(), &split_field_path(fp), &mut found);
    let node = found
        .into_iter()
        .next()
        .filter(|n| !n.is_null())
        .ok_or_else(|| format!("fieldPath `{fp}` is missing in the source {}", r.obj.id()))?
        .clone();
    let opts = read_options(src.get("options"));
    if opts.delimiter.is_empty() {
        return Ok(node);
    }
    let text = node
        .text()
        .ok_or("delimiter option can only be used with scalar nodes")?;
    let parts: Vec<&str> = text.split(opts.delimiter.as_str()).collect();
    let part = usize::try_from(opts.index)
        .ok()
        .and_then(|i| parts.get(i))
        .ok_or_else(|| {
            format!(
                "options.index {} is out of bounds for value {text}",
                opts.index
            )
        })?;
    let mut out = node.clone();
    if let Value::Scalar(t, _) = &mut out.value {
        *t = (*part).into();
    }
    Ok(out)
}

/// Splits `a.b.[name=x.y].c` on dots outside brackets.
pub fn split_field_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
            }
            '.' if depth == 0 => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

enum Seg<'a> {
    Key(&'a str),
    Match(&'a str, &'a str),
    Index(usize),
    All,
}

fn parse_seg(s: &str) -> Seg<'_> {
    if s == "*" || s == "[*]" {
        return Seg::All;
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        if let Some((k, v)) = inner.split_once('=') {
            return Seg::Match(k, v);
        }
        if let Ok(i) = inner.parse() {
            return Seg::Index(i);
        }
        return Seg::Key(inner);
    }
    Seg::Key(s)
}

fn element_matches(n: &Node, key: &str, value: &str) -> bool {
    if key.is_empty() {
        n.text() == Some(value)
    } else {
        n.get(key).and_then(Node::text) == Some(value)
    }
}

fn get_path<'a>(node: &'a Node, segs: &[String], out: &mut Vec<&'a Node>) {
    let Some((first, rest)) = segs.split_first() else {
        out.push(node);
        return;
    };
    match (parse_seg(first), &node.value) {
        (Seg::Key(k), Value::Map(_)) => {
            if let Some(c) = node.get(k) {
                get_path(c, rest, out);
            }
        }
        (Seg::Key(k), Value::Seq(items)) => {
            if let Ok(i) = k.parse::<usize>()
                && let Some(c) = items.get(i)
            {
                get_path(c, rest, out);
            }
        }
        (Seg::Index(i), Value::Seq(items)) => {
            if let Some(c) = items.get(i) {
                get_path(c, rest, out);
            }
        }
        (Seg::Match(k, v), Value::Seq(items)) => {
            for c in items.iter().filter(|c| element_matches(c, k, v)) {
                get_path(c, rest, out);
            }
        }
        (Seg::All, Value::Seq(items)) => items.iter().for_each(|c| get_path(c, rest, out)),
        _ => {}
    }
}

fn set_path(
    node: &mut Node,
    segs: &[String],
    value: &Node,
    opts: &Options,
    found: &mut usize,
) -> Result<(), String> {
    let Some((first, rest)) = segs.split_first() else {
        *found += 1;
        return set_value(node, value, opts);
    };
    if node.is_null() && opts.create {
        *node = Node::map().at(node.pos);
    }
    match parse_seg(first) {
        Seg::Key(k) if node.is_map() => {
            if node.get(k).is_none() {
                if !opts.create {
                    return Ok(());
                }
                let child = match rest.first().map(|r| parse_seg(r)) {
                    None => value.clone(),
                    Some(Seg::Match(..) | Seg::All | Seg::Index(_)) => Node::seq(Vec::new()),
                    Some(Seg::Key(_)) => Node::map(),
                };
                node.set(k, child);
            }
            match node.get_mut(k) {
                Some(child) => set_path(child, rest, value, opts, found),
                None => Ok(()),
            }
        }
        Seg::Key(k) => match (k.parse::<usize>(), node.items_mut()) {
            (Ok(i), Some(items)) => match items.get_mut(i) {
                Some(c) => set_path(c, rest, value, opts, found),
                None => Ok(()),
            },
            _ => Ok(()),
        },
        Seg::Index(i) => match node.items_mut().and_then(|items| items.get_mut(i)) {
            Some(c) => set_path(c, rest, value, opts, found),
            None => Ok(()),
        },
        Seg::Match(k, v) => {
            let Some(items) = node.items_mut() else {
                return Ok(());
            };
            let mut any = false;
            for c in items.iter_mut().filter(|c| element_matches(c, k, v)) {
                any = true;
                set_path(c, rest, value, opts, found)?;
            }
            if !any && opts.create && !k.is_empty() {
                let mut elem = Node::map();
                elem.set(k, Node::string(v));
                items.push(elem);
                if let Some(last) = items.last_mut() {
                    set_path(last, rest, value, opts, found)?;
                }
            }
            Ok(())
        }
        Seg::All => {
            for c in node.items_mut().into_iter().flatten() {
                set_path(c, rest, value, opts, found)?;
            }
            Ok(())
        }
    }
}

fn set_value(target: &mut Node, value: &Node, opts: &Options) -> Result<(), String> {
    let mut value = value.clone();
    if !opts.delimiter.is_empty() {
        let t = target
            .text()
            .ok_or("delimiter option can only be used with scalar nodes")?;
        let mut parts: Vec<String> = t
            .split(opts.delimiter.as_str())
            .map(str::to_string)
            .collect();
        let v = value.text().unwrap_or("").to_string();
        if opts.index < 0 {
            parts.insert(0, v);
        } else if opts.index as usize >= parts.len() {
            parts.push(v);
        } else {
            parts[opts.index as usize] = v;
        }
        if let Value::Scalar(text, _) = &mut value.value {
            *text = parts.join(&opts.delimiter).into();
        }
    }
    match (&mut target.value, &value.value) {
        // A scalar target keeps its own type; only the text is copied.
        (Value::Scalar(t, _), Value::Scalar(v, _)) => {
            *t = v.clone();
            target.pos = if value.pos == Pos::NONE {
                target.pos
            } else {
                value.pos
            };
        }
        _ => *target = value,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_split_outside_brackets() {
        assert_eq!(
            split_field_path("spec.template.spec.containers.[name=app.v1].image"),
            vec![
                "spec",
                "template",
                "spec",
                "containers",
                "[name=app.v1]",
                "image"
            ]
        );
    }
}
