//! `configMapGenerator`, `secretGenerator` and `generatorOptions`.
//!
//! Owns: building ConfigMaps and Secrets from literals, files (with key renames) and env files
//! exactly as kustomize does (key checks, quote removal, sorted keys, binary files as
//! `binaryData`), merging options, and the `create`/`merge`/`replace` behaviors against objects
//! already accumulated. Generated nodes point at their generator entry.
//! Must not: compute the hash suffix (done once at the root, in `names`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::manifest::{Node, Object, Origin, Pos};

use super::file::{Behavior, GeneratorArgs, GeneratorOptions, Kustomization};
use super::{Ctx, Res};
use crate::render::RenderError;

pub fn run(ctx: &mut Ctx<'_>, k: &Kustomization, ra: &mut Vec<Res>) -> Result<(), RenderError> {
    let global = k.generator_options.clone().unwrap_or_default();
    for (args, secret) in k
        .config_map_generator
        .iter()
        .map(|a| (a, false))
        .chain(k.secret_generator.iter().map(|a| (a, true)))
    {
        let options = merge_options(&global, &args.options);
        let res = generate(ctx, k, args, &options, secret)?;
        absorb(ctx, ra, res, args)?;
    }
    Ok(())
}

/// kustomize's MergeGlobalOptionsIntoLocal: local labels and annotations win; a local flag set to
/// true wins, otherwise the global one applies.
fn merge_options(global: &GeneratorOptions, local: &GeneratorOptions) -> GeneratorOptions {
    let merge = |g: &[(String, String)], l: &[(String, String)]| {
        let mut out: Vec<(String, String)> = g.to_vec();
        for (k, v) in l {
            match out.iter_mut().find(|(x, _)| x == k) {
                Some(e) => e.1 = v.clone(),
                None => out.push((k.clone(), v.clone())),
            }
        }
        out
    };
    let flag = |g: Option<bool>, l: Option<bool>| match l {
        Some(true) => Some(true),
        _ => g.or(l),
    };
    GeneratorOptions {
        labels: merge(&global.labels, &local.labels),
        annotations: merge(&global.annotations, &local.annotations),
        disable_name_suffix_hash: flag(
            global.disable_name_suffix_hash,
            local.disable_name_suffix_hash,
        ),
        immutable: flag(global.immutable, local.immutable),
    }
}

struct Pair {
    key: String,
    value: Vec<u8>,
    pos: Pos,
}

fn generate(
    ctx: &mut Ctx<'_>,
    k: &Kustomization,
    args: &GeneratorArgs,
    options: &GeneratorOptions,
    secret: bool,
) -> Result<Res, RenderError> {
    let what = if secret { "secret" } else { "configmap" };
    let mut pairs: Vec<Pair> = Vec::new();
    for env in &args.envs {
        let path = ctx.resolve_file(&k.dir, &env.value, env.pos)?;
        let bytes = ctx.fs.read_bytes(&path).map_err(|m| ctx.err(env.pos, m))?;
        for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let Ok(mut line) = std::str::from_utf8(line) else {
                return Err(ctx.err(
                    env.pos,
                    format!("{}: line {} has invalid UTF-8", env.value, i + 1),
                ));
            };
            if i == 0 {
                line = line.strip_prefix('\u{feff}').unwrap_or(line);
            }
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = match line.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                // kustomize takes the value from the environment when a line has no `=`.
                None => (line.to_string(), std::env::var(line).unwrap_or_default()),
            };
            if !is_env_var_name(&key) {
                return Err(ctx.err(
                    env.pos,
                    format!("{}: line {}: {key:?} is not a valid key name (letters, digits, `-`, `_`, `.`; not starting with a digit)", env.value, i + 1),
                ));
            }
            pairs.push(Pair {
                key,
                value: value.into_bytes(),
                pos: env.pos,
            });
        }
    }
    for lit in &args.literals {
        let Some((key, value)) = lit.value.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(ctx.err(
                lit.pos,
                format!("invalid literal `{}`, expected key=value", lit.value),
            ));
        };
        pairs.push(Pair {
            key: key.to_string(),
            value: remove_quotes(value).as_bytes().to_vec(),
            pos: lit.pos,
        });
    }
    for f in &args.files {
        let (key, file) = parse_file_source(&f.value).map_err(|m| ctx.err(f.pos, m))?;
        let path = ctx.resolve_file(&k.dir, &file, f.pos)?;
        if path.is_dir() {
            return Err(ctx.err(
                f.pos,
                format!("`{file}` is a folder; list the files one by one"),
            ));
        }
        let value = ctx.fs.read_bytes(&path).map_err(|m| ctx.err(f.pos, m))?;
        pairs.push(Pair {
            key,
            value,
            pos: f.pos,
        });
    }
    for (i, p) in pairs.iter().enumerate() {
        if !is_config_key(&p.key) {
            return Err(ctx.err(
                p.pos,
                format!(
                    "{what} {}: `{}` is not a valid key (use letters, digits, `-`, `_` and `.`)",
                    args.name, p.key
                ),
            ));
        }
        if pairs[..i].iter().any(|q| q.key == p.key) {
            return Err(ctx.err(
                p.pos,
                format!("{what} {} illegally repeats the key `{}`", args.name, p.key),
            ));
        }
    }
    pairs.sort_by(|a, b| a.key.cmp(&b.key));

    let mut data = Node::map().at(args.pos);
    let mut binary = Node::map().at(args.pos);
    for p in pairs {
        if secret {
            data.set(&p.key, Node::string(encode_base64(&p.value)).at(p.pos));
        } else {
            match String::from_utf8(p.value) {
                Ok(s) => data.set(&p.key, Node::string(s).at(p.pos)),
                Err(e) => binary.set(&p.key, Node::string(encode_base64(e.as_bytes())).at(p.pos)),
            }
        }
    }

    let mut meta = Node::map().at(args.pos);
    meta.set("name", Node::string(args.name.as_str()).at(args.pos));
    if let Some(ns) = &args.namespace {
        meta.set("namespace", Node::string(ns.as_str()).at(args.pos));
    }
    if !options.labels.is_empty() {
        let mut l = Node::map().at(args.pos);
        for (k, v) in &options.labels {
            l.set(k, Node::string(v.as_str()).at(args.pos));
        }
        meta.set("labels", l);
    }
    if !options.annotations.is_empty() {
        let mut a = Node::map().at(args.pos);
        for (k, v) in &options.annotations {
            a.set(k, Node::string(v.as_str()).at(args.pos));
        }
        meta.set("annotations", a);
    }
    let mut root = Node::map().at(args.pos);
    root.set("apiVersion", Node::string("v1").at(args.pos));
    root.set(
        "kind",
        Node::string(if secret { "Secret" } else { "ConfigMap" }).at(args.pos),
    );
    root.set("metadata", meta);
    if !data.entries().is_empty() {
        root.set("data", data);
    }
    if !binary.entries().is_empty() {
        root.set("binaryData", binary);
    }
    if secret {
        let t = args
            .secret_type
            .as_deref()
            .filter(|t| !t.is_empty())
            .unwrap_or("Opaque");
        root.set("type", Node::string(t).at(args.pos));
    }
    if options.immutable == Some(true) {
        root.set("immutable", Node::plain("true").at(args.pos));
    }
    let mut res = Res::new(Object::new(
        root,
        Origin {
            file: k.file,
            line: args.pos.line,
            via: Vec::new(),
        },
    ));
    res.needs_hash = options.disable_name_suffix_hash != Some(true);
    res.behavior = Some(args.behavior);
    Ok(res)
}

/// kustomize's appendReplaceOrMerge for generated objects.
fn absorb(
    ctx: &Ctx<'_>,
    ra: &mut Vec<Res>,
    mut res: Res,
    args: &GeneratorArgs,
) -> Result<(), RenderError> {
    let id = res.cur_id();
    let matches: Vec<usize> = ra
        .iter()
        .enumerate()
        .filter(|(_, r)| r.any_id_matches(|x| x.equals(&id)))
        .map(|(i, _)| i)
        .collect();
    match (matches.as_slice(), args.behavior) {
        ([], Behavior::Create) => {
            ra.push(res);
            Ok(())
        }
        ([], _) => Err(ctx.err(
            args.pos,
            format!(
                "{} does not exist in the resources so far; cannot merge or replace it (check its name and namespace, or use behavior: create)",
                id.describe()
            ),
        )),
        ([i], Behavior::Merge | Behavior::Replace) => {
            let old = &ra[*i];
            merge_metadata(&mut res, old);
            if args.behavior == Behavior::Merge {
                for field in ["data", "binaryData"] {
                    merge_data(&mut res, old, field);
                }
            }
            res.prev = old.prev.clone();
            res.prefixes = old.prefixes.clone();
            res.suffixes = old.suffixes.clone();
            res.needs_hash = old.needs_hash;
            res.obj.origin = old.obj.origin.clone();
            ra[*i] = res;
            Ok(())
        }
        ([_], Behavior::Create) => Err(ctx.err(
            args.pos,
            format!("{} already exists; set behavior: merge or replace to change it", id.describe()),
        )),
        (_, _) => Err(ctx.err(
            args.pos,
            format!("several objects could accept the merge of {}", id.describe()),
        )),
    }
}

/// Labels and annotations: the old ones, overridden by the new; name and namespace of the old.
fn merge_metadata(res: &mut Res, old: &Res) {
    let old_meta = old
        .node()
        .get("metadata")
        .cloned()
        .unwrap_or_else(Node::map);
    let Some(meta) = res.node_mut().map_at("metadata") else {
        return;
    };
    for field in ["labels", "annotations"] {
        let mut merged = old_meta
            .get(field)
            .filter(|n| n.is_map())
            .cloned()
            .unwrap_or_else(Node::map);
        if let Some(new) = meta.get(field) {
            for e in new.entries() {
                if let Some(k) = e.key.text() {
                    merged.set(k, e.value.clone());
                }
            }
        }
        if merged.entries().is_empty() {
            meta.remove(field);
        } else {
            meta.set(field, merged);
        }
    }
    if let Some(name) = old_meta.get("name") {
        meta.set("name", name.clone());
    }
    match old_meta.get("namespace") {
        Some(ns) => meta.set("namespace", ns.clone()),
        None => {
            meta.remove("namespace");
        }
    }
}

fn merge_data(res: &mut Res, old: &Res, field: &str) {
    let Some(old_data) = old.node().get(field).filter(|n| n.is_map()) else {
        return;
    };
    let mut merged = old_data.clone();
    if let Some(new) = res.node().get(field) {
        for e in new.entries() {
            if let Some(k) = e.key.text() {
                merged.set(k, e.value.clone());
            }
        }
    }
    if let Some(entries) = merged.entries_mut() {
        entries.sort_by(|a, b| a.key.text().cmp(&b.key.text()));
    }
    res.node_mut().set(field, merged);
}

/// kustomize's encodeBase64: lines of 70 characters, each ending in a newline once the
/// encoding is 70 characters or longer.
fn encode_base64(bytes: &[u8]) -> String {
    const LINE: usize = 70;
    let enc = B64.encode(bytes);
    if enc.len() < LINE {
        return enc;
    }
    let mut out = String::with_capacity(enc.len() + enc.len() / LINE + 1);
    for chunk in enc.as_bytes().chunks(LINE) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

fn remove_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

fn parse_file_source(source: &str) -> Result<(String, String), String> {
    match source.matches('=').count() {
        0 => Ok((
            source.rsplit('/').next().unwrap_or(source).to_string(),
            source.to_string(),
        )),
        1 if source.starts_with('=') => {
            Err(format!("missing key name for file path in `{source}`"))
        }
        1 if source.ends_with('=') => Err(format!("missing file path for key name in `{source}`")),
        1 => {
            let (k, p) = source.split_once('=').unwrap_or((source, source));
            Ok((k.to_string(), p.to_string()))
        }
        _ => Err(format!(
            "source `{source}`: key name or file path contains '='"
        )),
    }
}

fn is_env_var_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || "-._".contains(c))
        && chars.all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
}

fn is_config_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s != "."
        && s != ".."
        && !s.starts_with("..")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_quotes_and_file_sources() {
        assert_eq!(remove_quotes("\"a b\""), "a b");
        assert_eq!(remove_quotes("'x'"), "x");
        assert_eq!(remove_quotes("\"x'"), "\"x'");
        assert_eq!(
            parse_file_source("dir/app.conf").unwrap(),
            ("app.conf".into(), "dir/app.conf".into())
        );
        assert_eq!(
            parse_file_source("k=dir/a").unwrap(),
            ("k".into(), "dir/a".into())
        );
        assert!(parse_file_source("=a").is_err());
        assert!(parse_file_source("a=b=c").is_err());
        assert!(is_config_key("app.properties"));
        assert!(!is_config_key("a b"));
        assert!(is_env_var_name("DB_HOST"));
        assert!(!is_env_var_name("1X"));
    }
}
