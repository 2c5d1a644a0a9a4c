//! JSON patches (RFC 6902): `add`, `remove`, `replace`, `move`, `copy` and `test` on JSON
//! pointer paths (RFC 6901, `~0`/`~1` escapes, `-` to append).
//! Must not: pick targets; values from the patch keep their position in the patch file.

use crate::manifest::{Node, Value};

/// One parsed operation.
#[derive(Clone, Debug)]
pub struct Op {
    pub op: String,
    pub path: String,
    pub from: Option<String>,
    pub value: Option<Node>,
}

/// Reads a list of operations (written as YAML or JSON).
pub fn parse_ops(node: &Node) -> Result<Vec<Op>, String> {
    if !node.is_seq() {
        return Err("a JSON patch must be a list of operations".to_string());
    }
    node.items()
        .iter()
        .map(|item| {
            let text = |k: &str| item.get(k).and_then(Node::as_name).map(str::to_string);
            let op = text("op").ok_or("each JSON patch operation needs `op`")?;
            let path = text("path").ok_or_else(|| format!("the `{op}` operation needs `path`"))?;
            if !matches!(
                op.as_str(),
                "add" | "remove" | "replace" | "move" | "copy" | "test"
            ) {
                return Err(format!("unknown JSON patch operation `{op}`"));
            }
            let from = text("from");
            if matches!(op.as_str(), "move" | "copy") && from.is_none() {
                return Err(format!("the `{op}` operation needs `from`"));
            }
            let value = item.get("value").cloned();
            if matches!(op.as_str(), "add" | "replace" | "test") && value.is_none() {
                return Err(format!("the `{op}` operation on `{path}` needs `value`"));
            }
            Ok(Op {
                op,
                path,
                from,
                value,
            })
        })
        .collect()
}

fn pointer(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| format!("JSON pointer `{path}` must start with `/`"))?;
    Ok(rest
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn index(seg: &str, len: usize, allow_end: bool) -> Result<usize, String> {
    if allow_end && seg == "-" {
        return Ok(len);
    }
    let i: usize = seg
        .parse()
        .map_err(|_| format!("`{seg}` is not a list index"))?;
    if i > len || (!allow_end && i == len) {
        return Err(format!(
            "index {i} is out of range (the list has {len} items)"
        ));
    }
    Ok(i)
}

fn get_mut<'a>(node: &'a mut Node, segs: &[String], full: &str) -> Result<&'a mut Node, String> {
    let mut cur = node;
    for s in segs {
        cur = match &mut cur.value {
            Value::Map(entries) => entries
                .iter_mut()
                .find(|e| e.key.text() == Some(s.as_str()))
                .map(|e| &mut e.value)
                .ok_or_else(|| format!("path `{full}` does not exist (no `{s}`)"))?,
            Value::Seq(items) => {
                let len = items.len();
                let i = index(s, len, false)?;
                &mut items[i]
            }
            Value::Scalar(..) => {
                return Err(format!("path `{full}` goes through a scalar at `{s}`"));
            }
        };
    }
    Ok(cur)
}

fn get(node: &Node, segs: &[String], full: &str) -> Result<Node, String> {
    let mut cur = node;
    for s in segs {
        cur = match &cur.value {
            Value::Map(_) => cur
                .get(s)
                .ok_or_else(|| format!("path `{full}` does not exist"))?,
            Value::Seq(items) => &items[index(s, items.len(), false)?],
            Value::Scalar(..) => return Err(format!("path `{full}` goes through a scalar")),
        };
    }
    Ok(cur.clone())
}

fn add(node: &mut Node, path: &str, value: Node) -> Result<(), String> {
    let segs = pointer(path)?;
    let Some((last, parent)) = segs.split_last() else {
        *node = value;
        return Ok(());
    };
    let parent = get_mut(node, parent, path)?;
    if parent.is_null() {
        *parent = Node::map().at(parent.pos);
    }
    match &mut parent.value {
        Value::Map(_) => {
            parent.set(last, value);
            Ok(())
        }
        Value::Seq(items) => {
            let i = index(last, items.len(), true)?;
            items.insert(i, value);
            Ok(())
        }
        Value::Scalar(..) => Err(format!("cannot add `{path}`: its parent is a scalar")),
    }
}

fn remove(node: &mut Node, path: &str) -> Result<Node, String> {
    let segs = pointer(path)?;
    let Some((last, parent)) = segs.split_last() else {
        return Err("cannot remove the whole document".to_string());
    };
    let parent = get_mut(node, parent, path)?;
    match &mut parent.value {
        Value::Map(_) => parent
            .remove(last)
            .ok_or_else(|| format!("cannot remove `{path}`: it does not exist")),
        Value::Seq(items) => {
            let i = index(last, items.len(), false)?;
            Ok(items.remove(i))
        }
        Value::Scalar(..) => Err(format!("cannot remove `{path}`: its parent is a scalar")),
    }
}

/// Applies every operation in order; the first failure stops with a message naming it.
pub fn apply(node: &mut Node, ops: &[Op]) -> Result<(), String> {
    for op in ops {
        match op.op.as_str() {
            "add" => add(node, &op.path, op.value.clone().unwrap_or_else(Node::null))?,
            "remove" => {
                remove(node, &op.path)?;
            }
            "replace" => {
                let segs = pointer(&op.path)?;
                let target = get_mut(node, &segs, &op.path).map_err(|e| format!("replace: {e}"))?;
                *target = op.value.clone().unwrap_or_else(Node::null);
            }
            "move" => {
                let from = op.from.as_deref().unwrap_or("");
                let v = remove(node, from)?;
                add(node, &op.path, v)?;
            }
            "copy" => {
                let from = op.from.as_deref().unwrap_or("");
                let v = get(node, &pointer(from)?, from)?;
                add(node, &op.path, v)?;
            }
            "test" => {
                let v = get(node, &pointer(&op.path)?, &op.path)?;
                if let Some(expected) = &op.value
                    && !v.same_as(expected)
                {
                    return Err(format!(
                        "test failed: `{}` does not hold the expected value",
                        op.path
                    ));
                }
            }
            other => return Err(format!("unknown operation `{other}`")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{FileId, yaml::parse_stream};

    fn doc(text: &str) -> Node {
        parse_stream(text, FileId(1))
            .unwrap()
            .remove(0)
            .root
            .unwrap()
    }

    #[test]
    fn operations() {
        let mut d = doc("a: {b: [1, 2]}\nc: x\n");
        let ops = parse_ops(&doc(
            "- {op: add, path: /a/b/-, value: 3}\n- {op: replace, path: /c, value: yy}\n- {op: copy, from: /c, path: /d}\n- {op: move, from: /a/b/0, path: /e}\n- {op: remove, path: /a/b/0}\n- {op: test, path: /d, value: yy}\n- {op: add, path: /f~1g, value: 1}\n",
        ))
        .unwrap();
        apply(&mut d, &ops).unwrap();
        assert_eq!(
            d.to_json(),
            serde_json::json!({"a":{"b":[3]},"c":"yy","d":"yy","e":1,"f/g":1})
        );
        let bad = parse_ops(&doc("- {op: replace, path: /zz, value: 1}\n")).unwrap();
        assert!(apply(&mut d, &bad).unwrap_err().contains("/zz"));
    }
}
