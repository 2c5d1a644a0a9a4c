//! `images`: rewrites the name, tag and digest of matching `image` fields in every
//! `containers`/`initContainers` list of every object (CRDs excepted), as kustomize does.
//! Must not: touch anything but `image` values.

use regex::Regex;

use crate::manifest::{Node, Value};

use super::Res;
use super::file::{ImageArgs, Kustomization};

pub fn run(k: &Kustomization, ra: &mut [Res]) {
    for img in &k.images {
        // kustomize uses the name as a regular expression, unescaped.
        let Ok(pattern) = Regex::new(&format!(
            "^{}(@sha256)?(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9]*)?$",
            img.name
        )) else {
            continue;
        };
        for r in ra.iter_mut() {
            if r.obj.kind() == "CustomResourceDefinition" {
                continue;
            }
            walk(r.node_mut(), &pattern, img);
        }
    }
}

fn walk(node: &mut Node, pattern: &Regex, img: &ImageArgs) {
    match &mut node.value {
        Value::Map(entries) => {
            for e in entries.iter_mut() {
                walk(&mut e.value, pattern, img);
                if matches!(e.key.text(), Some("containers" | "initContainers")) {
                    for c in e.value.items_mut().into_iter().flatten() {
                        if let Some(image) = c.get_mut("image") {
                            update(image, pattern, img);
                        }
                    }
                }
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|i| walk(i, pattern, img)),
        Value::Scalar(..) => {}
    }
}

fn update(node: &mut Node, pattern: &Regex, img: &ImageArgs) {
    let Some(value) = node.text() else { return };
    if node.is_null() || !pattern.is_match(value) {
        return;
    }
    let (name, tag, digest) = split(value);
    let name = img.new_name.clone().unwrap_or_else(|| name.to_string());
    let (tag, digest) = match (&img.new_tag, &img.digest) {
        (Some(t), Some(d)) => (t.clone(), d.clone()),
        (Some(t), None) => (t.clone(), String::new()),
        (None, Some(d)) => (String::new(), d.clone()),
        (None, None) => (tag.to_string(), digest.to_string()),
    };
    let mut out = name;
    if !tag.is_empty() {
        out.push(':');
        out.push_str(&tag);
    }
    if !digest.is_empty() {
        out.push('@');
        out.push_str(&digest);
    }
    *node = Node::string(out).at(img.pos);
}

/// kustomize's image.Split: (name, tag, digest), ignoring a `:` in the registry host part.
pub fn split(image: &str) -> (&str, &str, &str) {
    let slash = image.find('/').filter(|&i| i > 0).unwrap_or(0);
    let search = &image[slash..];
    let at = search.find('@');
    let colon = search.find(':');
    match (colon, at) {
        (None, None) => (image, "", ""),
        (c, Some(d)) if c.is_none_or(|c| d < c) => {
            let d = d + slash;
            (&image[..d], "", &image[d + 1..])
        }
        (Some(c), Some(d)) => {
            let (c, d) = (c + slash, d + slash);
            (&image[..c], &image[c + 1..d], &image[d + 1..])
        }
        (Some(c), None) => {
            let c = c + slash;
            (&image[..c], &image[c + 1..], "")
        }
        (None, Some(_)) => (image, "", ""),
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_like_kustomize() {
        assert_eq!(split("nginx"), ("nginx", "", ""));
        assert_eq!(split("nginx:1.2"), ("nginx", "1.2", ""));
        assert_eq!(split("reg:5000/a/b:1"), ("reg:5000/a/b", "1", ""));
        assert_eq!(split("reg:5000/a/b"), ("reg:5000/a/b", "", ""));
        assert_eq!(split("a@sha256:abc"), ("a", "", "sha256:abc"));
        assert_eq!(split("a:1@sha256:abc"), ("a", "1", "sha256:abc"));
    }
}
