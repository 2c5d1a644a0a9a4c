//! Target selectors of patches and replacements, and Kubernetes label selectors.
//!
//! Owns: kustomize's patch-target matching (group, version, kind, name and namespace as anchored
//! regular expressions, label and annotation selectors) and the label-selector language
//! (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`).
//! Must not: modify objects.

use regex::Regex;

use crate::manifest::{Entry, Node};

#[derive(Clone, Debug)]
pub struct Selector {
    pub group: Option<Pattern>,
    pub version: Option<Pattern>,
    pub kind: Option<Pattern>,
    pub name: Option<Pattern>,
    pub namespace: Option<Pattern>,
    pub labels: Option<LabelSelector>,
    pub annotations: Option<LabelSelector>,
}

/// A selector field: its anchored regular expression.
#[derive(Clone, Debug)]
pub struct Pattern {
    regex: Regex,
}

impl Pattern {
    pub fn new(text: &str) -> Result<Pattern, String> {
        let regex = Regex::new(&format!("^(?:{text})$"))
            .map_err(|e| format!("invalid regular expression `{text}`: {e}"))?;
        Ok(Pattern { regex })
    }

    pub fn is_match(&self, s: &str) -> bool {
        self.regex.is_match(s)
    }
}

fn pattern(s: Option<String>) -> Result<Option<Pattern>, String> {
    s.filter(|s| !s.is_empty())
        .map(|s| Pattern::new(&s))
        .transpose()
}

impl Selector {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        group: Option<String>,
        version: Option<String>,
        kind: Option<String>,
        name: Option<String>,
        namespace: Option<String>,
        labels: Option<String>,
        annotations: Option<String>,
    ) -> Result<Selector, String> {
        Ok(Selector {
            group: pattern(group)?,
            version: pattern(version)?,
            kind: pattern(kind)?,
            name: pattern(name)?,
            namespace: pattern(namespace)?,
            labels: labels
                .filter(|s| !s.is_empty())
                .map(|s| LabelSelector::parse(&s))
                .transpose()?,
            annotations: annotations
                .filter(|s| !s.is_empty())
                .map(|s| LabelSelector::parse(&s))
                .transpose()?,
        })
    }

    pub fn matches_gvk(&self, group: &str, version: &str, kind: &str) -> bool {
        self.group.as_ref().is_none_or(|p| p.is_match(group))
            && self.version.as_ref().is_none_or(|p| p.is_match(version))
            && self.kind.as_ref().is_none_or(|p| p.is_match(kind))
    }

    pub fn matches_name(&self, name: &str) -> bool {
        self.name.as_ref().is_none_or(|p| p.is_match(name))
    }

    pub fn matches_namespace(&self, ns: &str) -> bool {
        self.namespace.as_ref().is_none_or(|p| p.is_match(ns))
    }

    pub fn matches_metadata(&self, node: &Node) -> bool {
        let labels = node
            .path(&["metadata", "labels"])
            .map_or(&[][..], Node::entries);
        let annotations = node
            .path(&["metadata", "annotations"])
            .map_or(&[][..], Node::entries);
        self.labels.as_ref().is_none_or(|s| s.matches(labels))
            && self
                .annotations
                .as_ref()
                .is_none_or(|s| s.matches(annotations))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Requirement {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct LabelSelector(pub Vec<Requirement>);

impl LabelSelector {
    pub fn parse(text: &str) -> Result<LabelSelector, String> {
        let mut reqs = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let bad = || format!("invalid label selector `{text}` near `{part}`");
            let req = if let Some(k) = part.strip_prefix('!') {
                Requirement::NotExists(k.trim().to_string())
            } else if let Some((k, v)) = part.split_once("!=") {
                Requirement::NotEq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once("==") {
                Requirement::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once('=') {
                Requirement::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, rest)) = split_keyword(part, " notin ") {
                Requirement::NotIn(k, parse_set(&rest).ok_or_else(bad)?)
            } else if let Some((k, rest)) = split_keyword(part, " in ") {
                Requirement::In(k, parse_set(&rest).ok_or_else(bad)?)
            } else if part
                .chars()
                .all(|c| c.is_alphanumeric() || "-_./".contains(c))
            {
                Requirement::Exists(part.to_string())
            } else {
                return Err(bad());
            };
            reqs.push(req);
        }
        Ok(LabelSelector(reqs))
    }

    pub fn matches(&self, labels: &[Entry]) -> bool {
        let get = |k: &str| {
            labels
                .iter()
                .find(|e| e.key.text() == Some(k))
                .and_then(|e| e.value.text())
        };
        self.0.iter().all(|r| match r {
            Requirement::Eq(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEq(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        })
    }
}

fn split_keyword(part: &str, kw: &str) -> Option<(String, String)> {
    let i = part.find(kw)?;
    Some((
        part[..i].trim().to_string(),
        part[i + kw.len()..].to_string(),
    ))
}

fn parse_set(s: &str) -> Option<Vec<String>> {
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{FileId, yaml::parse_stream};

    #[test]
    fn label_selectors() {
        let n = parse_stream("app: web\ntier: front\n", FileId(1))
            .unwrap()
            .remove(0)
            .root
            .unwrap();
        let l = n.entries();
        let m = |s: &str| LabelSelector::parse(s).unwrap().matches(l);
        assert!(m("app=web"));
        assert!(m("app==web,tier"));
        assert!(!m("app!=web"));
        assert!(m("tier in (front, back)"));
        assert!(!m("tier notin (front)"));
        assert!(m("!missing"));
        assert!(!m("missing"));
        assert!(LabelSelector::parse("a in b").is_err());
    }

    #[test]
    fn patterns_are_anchored() {
        let p = Pattern::new("web.*").unwrap();
        assert!(p.is_match("web-1"));
        assert!(!p.is_match("my-web"));
    }
}
