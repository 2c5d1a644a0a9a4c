//! The YAML node tree every stage works on.
//!
//! Owns: `Node` (a mapping, sequence or scalar with its source position), the scalar
//! meaning rules (kubectl's YAML 1.1 reading: `0644` is 420, `yes` is true) and the conversion
//! to and from JSON values. Scalars keep their source text and style, so what the renderer
//! writes means exactly what the input meant.
//! Must not: read files, print, or know about Kubernetes kinds.

use compact_str::CompactString;
use serde_json::Value as Json;

/// Scalar text, stored inline when short (most keys and values are).
pub type Text = CompactString;

/// Index of a source file in [`super::Sources`]; `FileId(0)` is "generated, no file".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

impl FileId {
    pub const GENERATED: FileId = FileId(0);
}

/// Where a node starts: file, 1-based line and 1-based column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pos {
    pub file: FileId,
    pub line: u32,
    pub col: u32,
}

impl Pos {
    pub const NONE: Pos = Pos {
        file: FileId::GENERATED,
        line: 0,
        col: 0,
    };

    pub fn new(file: FileId, line: u32, col: u32) -> Pos {
        Pos { file, line, col }
    }

    pub fn is_known(&self) -> bool {
        self.line > 0
    }
}

/// How a scalar's type is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Style {
    /// A plain (unquoted) scalar: its type comes from its text (`3` is a number, `yes` a bool).
    Plain,
    /// Always a string, whatever its text (quoted in the source, or set as a string).
    Str,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(Text, Style),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

/// The meaning of a scalar.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(&'a str),
}

impl Node {
    pub fn new(value: Value, pos: Pos) -> Node {
        Node { pos, value }
    }

    /// A string scalar, always read as a string.
    pub fn string(s: impl Into<Text>) -> Node {
        Node::new(Value::Scalar(s.into(), Style::Str), Pos::NONE)
    }

    /// A plain scalar whose type comes from its text (`3`, `true`, `null`).
    pub fn plain(s: impl Into<Text>) -> Node {
        Node::new(Value::Scalar(s.into(), Style::Plain), Pos::NONE)
    }

    pub fn null() -> Node {
        Node::plain("null")
    }

    pub fn map() -> Node {
        Node::new(Value::Map(Vec::new()), Pos::NONE)
    }

    pub fn seq(items: Vec<Node>) -> Node {
        Node::new(Value::Seq(items), Pos::NONE)
    }

    pub fn at(mut self, pos: Pos) -> Node {
        self.pos = pos;
        self
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    pub fn is_seq(&self) -> bool {
        matches!(self.value, Value::Seq(_))
    }

    pub fn is_scalar(&self) -> bool {
        matches!(self.value, Value::Scalar(..))
    }

    pub fn is_null(&self) -> bool {
        matches!(self.scalar(), Some(Scalar::Null))
    }

    /// The raw text of a scalar, whatever its type (`3`, `true`, `web`).
    pub fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(t, _) => Some(t.as_str()),
            _ => None,
        }
    }

    /// The text of a scalar that means a string (not `3`, not `true`, not `null`).
    pub fn as_str(&self) -> Option<&str> {
        match self.scalar()? {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a non-null scalar (names and keys are compared as text, as kustomize does).
    pub fn as_name(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(t, _) if !self.is_null() => Some(t.as_str()),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.scalar()? {
            Scalar::Int(i) => Some(i),
            Scalar::UInt(u) => i64::try_from(u).ok(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.scalar()? {
            Scalar::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The meaning of a scalar node, or `None` for collections.
    pub fn scalar(&self) -> Option<Scalar<'_>> {
        match &self.value {
            Value::Scalar(t, Style::Str) => Some(Scalar::Str(t.as_str())),
            Value::Scalar(t, Style::Plain) => Some(resolve_plain(t)),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(e) => e,
            _ => &[],
        }
    }

    pub fn entries_mut(&mut self) -> Option<&mut Vec<Entry>> {
        match &mut self.value {
            Value::Map(e) => Some(e),
            _ => None,
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(i) => i,
            _ => &[],
        }
    }

    pub fn items_mut(&mut self) -> Option<&mut Vec<Node>> {
        match &mut self.value {
            Value::Seq(i) => Some(i),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.get_entry(key).map(|e| &e.value)
    }

    pub fn get_entry(&self, key: &str) -> Option<&Entry> {
        self.entries().iter().find(|e| e.key.text() == Some(key))
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.entries_mut()?
            .iter_mut()
            .find(|e| e.key.text() == Some(key))
            .map(|e| &mut e.value)
    }

    /// Follows a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    /// Text of the scalar at `keys`, if it is a non-null scalar.
    pub fn path_name(&self, keys: &[&str]) -> Option<&str> {
        self.path(keys)?.as_name()
    }

    /// Sets `key` to `value`, replacing in place or appending; turns a null node into a map.
    pub fn set(&mut self, key: &str, value: Node) {
        if self.is_null() {
            *self = Node::map().at(self.pos);
        }
        let Some(entries) = self.entries_mut() else {
            return;
        };
        match entries.iter_mut().find(|e| e.key.text() == Some(key)) {
            Some(e) => e.value = value,
            None => entries.push(Entry {
                key: Node::string(key),
                value,
            }),
        }
    }

    /// The map at `key`, created (or replacing a null) when absent. `None` if `self` is not a
    /// map or the existing value is not a map.
    pub fn map_at(&mut self, key: &str) -> Option<&mut Node> {
        if self.is_null() {
            *self = Node::map().at(self.pos);
        }
        let entries = self.entries_mut()?;
        let idx = match entries.iter().position(|e| e.key.text() == Some(key)) {
            Some(i) => {
                if entries[i].value.is_null() {
                    let pos = entries[i].value.pos;
                    entries[i].value = Node::map().at(pos);
                }
                i
            }
            None => {
                entries.push(Entry {
                    key: Node::string(key),
                    value: Node::map(),
                });
                entries.len() - 1
            }
        };
        let node = &mut entries[idx].value;
        node.is_map().then_some(node)
    }

    pub fn remove(&mut self, key: &str) -> Option<Node> {
        let entries = self.entries_mut()?;
        let idx = entries.iter().position(|e| e.key.text() == Some(key))?;
        Some(entries.remove(idx).value)
    }

    /// Converts to JSON with kubectl's scalar meaning.
    pub fn to_json(&self) -> Json {
        match &self.value {
            Value::Scalar(..) => match self.scalar() {
                Some(Scalar::Null) | None => Json::Null,
                Some(Scalar::Bool(b)) => Json::Bool(b),
                Some(Scalar::Int(i)) => Json::from(i),
                Some(Scalar::UInt(u)) => Json::from(u),
                Some(Scalar::Float(f)) => serde_json::Number::from_f64(f)
                    .map(Json::Number)
                    .unwrap_or(Json::Null),
                Some(Scalar::Str(s)) => Json::String(s.to_string()),
            },
            Value::Seq(items) => Json::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => {
                let mut m = serde_json::Map::with_capacity(entries.len());
                for e in entries {
                    m.insert(key_string(&e.key), e.value.to_json());
                }
                Json::Object(m)
            }
        }
    }

    /// Builds a node tree from JSON (cluster responses, generated content).
    pub fn from_json(v: &Json) -> Node {
        match v {
            Json::Null => Node::null(),
            Json::Bool(b) => Node::plain(if *b { "true" } else { "false" }),
            Json::Number(n) => Node::plain(n.to_string()),
            Json::String(s) => Node::string(s.as_str()),
            Json::Array(a) => Node::seq(a.iter().map(Node::from_json).collect()),
            Json::Object(m) => Node::new(
                Value::Map(
                    m.iter()
                        .map(|(k, v)| Entry {
                            key: Node::string(k.as_str()),
                            value: Node::from_json(v),
                        })
                        .collect(),
                ),
                Pos::NONE,
            ),
        }
    }

    /// Visits every node depth-first (the node itself first).
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Node)) {
        f(self);
        match &self.value {
            Value::Scalar(..) => {}
            Value::Seq(items) => items.iter().for_each(|n| n.walk(f)),
            Value::Map(entries) => entries.iter().for_each(|e| e.value.walk(f)),
        }
    }

    /// Structural equality of meaning, ignoring positions and scalar spelling.
    pub fn same_as(&self, other: &Node) -> bool {
        match (&self.value, &other.value) {
            (Value::Scalar(..), Value::Scalar(..)) => self.scalar() == other.scalar(),
            (Value::Seq(a), Value::Seq(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_as(y))
            }
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len()
                    && a.iter().all(|e| {
                        b.iter()
                            .any(|f| e.key.text() == f.key.text() && e.value.same_as(&f.value))
                    })
            }
            _ => false,
        }
    }
}

/// A mapping key as a JSON object key (non-scalar keys are written as their YAML flow text).
pub fn key_string(key: &Node) -> String {
    match &key.value {
        Value::Scalar(t, _) => t.to_string(),
        _ => key.to_json().to_string(),
    }
}

/// kubectl's meaning of a plain scalar: sigs.k8s.io/yaml reads YAML through go-yaml v2, which
/// follows YAML 1.1 (`yes`/`on` are booleans, `0644` is octal, `1_000` is 1000).
pub fn resolve_plain(text: &str) -> Scalar<'_> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Scalar::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Scalar::Bool(false);
        }
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return Scalar::Str(text);
    }
    let plain: std::borrow::Cow<'_, str> = if text.contains('_') {
        text.replace('_', "").into()
    } else {
        text.into()
    };
    if let Some(n) = parse_go_int(&plain) {
        return n;
    }
    if is_yaml_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Scalar::Float(f);
    }
    Scalar::Str(text)
}

/// Go's `strconv.ParseInt(s, 0, 64)` then `ParseUint`: sign, `0x`/`0o`/`0b` prefixes, and a
/// leading `0` meaning octal.
fn parse_go_int(s: &str) -> Option<Scalar<'static>> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let (radix, body) = if let Some(r) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (16, r)
    } else if let Some(r) = digits
        .strip_prefix("0o")
        .or_else(|| digits.strip_prefix("0O"))
    {
        (8, r)
    } else if let Some(r) = digits
        .strip_prefix("0b")
        .or_else(|| digits.strip_prefix("0B"))
    {
        (2, r)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if neg {
        if magnitude <= i64::MAX as u64 + 1 {
            Some(Scalar::Int((magnitude as i64).wrapping_neg()))
        } else {
            None
        }
    } else if magnitude <= i64::MAX as u64 {
        Some(Scalar::Int(magnitude as i64))
    } else {
        Some(Scalar::UInt(magnitude))
    }
}

/// go-yaml's float syntax: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if int_digits == 0 && i == frac_start {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_mean_what_kubectl_reads() {
        assert_eq!(resolve_plain("0644"), Scalar::Int(420));
        assert_eq!(resolve_plain("0o17"), Scalar::Int(15));
        assert_eq!(resolve_plain("0x1F"), Scalar::Int(31));
        assert_eq!(resolve_plain("-12"), Scalar::Int(-12));
        assert_eq!(resolve_plain("1_000"), Scalar::Int(1000));
        assert_eq!(resolve_plain("0"), Scalar::Int(0));
        assert_eq!(resolve_plain("yes"), Scalar::Bool(true));
        assert_eq!(resolve_plain("Off"), Scalar::Bool(false));
        assert_eq!(resolve_plain("~"), Scalar::Null);
        assert_eq!(resolve_plain(""), Scalar::Null);
        assert_eq!(resolve_plain("1.5"), Scalar::Float(1.5));
        assert_eq!(resolve_plain("1e3"), Scalar::Float(1000.0));
        assert_eq!(resolve_plain(".5"), Scalar::Float(0.5));
        assert_eq!(resolve_plain("100m"), Scalar::Str("100m"));
        assert_eq!(resolve_plain("1.2.3"), Scalar::Str("1.2.3"));
        // go-yaml v2: not an octal integer, but its float syntax accepts it.
        assert_eq!(resolve_plain("0089"), Scalar::Float(89.0));
        assert_eq!(resolve_plain("-"), Scalar::Str("-"));
        assert_eq!(resolve_plain("."), Scalar::Str("."));
        assert_eq!(resolve_plain("web"), Scalar::Str("web"));
        assert_eq!(
            resolve_plain("18446744073709551615"),
            Scalar::UInt(u64::MAX)
        );
    }

    #[test]
    fn quoted_strings_stay_strings() {
        let n = Node::string("yes");
        assert_eq!(n.to_json(), Json::String("yes".into()));
        assert_eq!(Node::plain("yes").to_json(), Json::Bool(true));
    }

    #[test]
    fn set_and_get_keep_order() {
        let mut m = Node::map();
        m.set("b", Node::plain("1"));
        m.set("a", Node::plain("2"));
        m.set("b", Node::plain("3"));
        assert_eq!(m.to_json().to_string(), r#"{"b":3,"a":2}"#);
        m.map_at("c").unwrap().set("d", Node::string("x"));
        assert_eq!(m.path_name(&["c", "d"]), Some("x"));
    }
}
