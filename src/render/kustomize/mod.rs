//! A native `kustomize build`, matching kustomize v5 (as in `kubectl kustomize`) as data.
//!
//! Owns: the build order of one kustomization (resources, generators, components, then the
//! built-in transformers in kustomize's order), the final steps at the root (hash suffixes,
//! name-reference repair, local-config removal, sorting), resource identities and their
//! history of names, and cycle detection between kustomizations.
//! Each feature lives in its own file; this file only orchestrates.
//! Must not: fetch remote bases, run plugins or Helm, or read outside the repository root.

mod fieldspec;
mod file;
mod generators;
mod hash;
mod images;
mod json6902;
mod labels;
mod names;
mod namespace;
mod patches;
mod replacements;
mod replicas;
pub(crate) mod selector;
mod smp;
mod sort;

use std::path::{Path, PathBuf};

use crate::manifest::object::{is_cluster_scoped_kind, split_api_version};
use crate::manifest::yaml::parse_stream;
use crate::manifest::{FileId, Node, Object, Origin, Pos, Text};

use super::load::load_file;
use super::{RenderError, RenderedSet, RepoFs};
use file::{KustKind, Kustomization, Reader, SortOptions};

/// A resource's identity as kustomize compares them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResId {
    pub group: Text,
    pub version: Text,
    pub kind: Text,
    pub namespace: Text,
    pub name: Text,
}

impl ResId {
    pub fn of(node: &Node) -> ResId {
        let (group, version) = split_api_version(node.path_name(&["apiVersion"]).unwrap_or(""));
        ResId {
            group: group.into(),
            version: version.into(),
            kind: node.path_name(&["kind"]).unwrap_or("").into(),
            namespace: node
                .path_name(&["metadata", "namespace"])
                .unwrap_or("")
                .into(),
            name: node.path_name(&["metadata", "name"]).unwrap_or("").into(),
        }
    }

    pub fn is_cluster_scoped(&self) -> bool {
        is_cluster_scoped_kind(&self.kind)
    }

    /// The namespace with `""` read as `default`, and `""` for cluster-scoped kinds.
    pub fn effective_namespace(&self) -> &str {
        if self.is_cluster_scoped() {
            ""
        } else if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }

    pub fn ns_equals(&self, other: &ResId) -> bool {
        self.effective_namespace() == other.effective_namespace()
    }

    pub fn gvk_equals(&self, other: &ResId) -> bool {
        self.group == other.group && self.version == other.version && self.kind == other.kind
    }

    pub fn equals(&self, other: &ResId) -> bool {
        self.name == other.name && self.gvk_equals(other) && self.ns_equals(other)
    }

    /// Empty group, version or kind of `sel` match anything (kustomize's Gvk.IsSelected).
    pub fn gvk_selected_by(&self, group: &str, version: &str, kind: &str) -> bool {
        (group.is_empty() || group == self.group)
            && (version.is_empty() || version == self.version)
            && (kind.is_empty() || kind == self.kind)
    }

    pub fn describe(&self) -> String {
        let api = if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        };
        if self.namespace.is_empty() {
            format!("{} {} {}", api, self.kind, self.name)
        } else {
            format!("{} {} {}/{}", api, self.kind, self.namespace, self.name)
        }
    }
}

/// A resource during a build: the object plus what kustomize remembers about it.
#[derive(Clone, Debug)]
pub struct Res {
    pub obj: Object,
    /// Earlier identities, oldest first (kustomize's previous ids).
    pub prev: Vec<ResId>,
    pub prefixes: Vec<Text>,
    pub suffixes: Vec<Text>,
    /// Generated with a content hash still to be appended to its name.
    pub needs_hash: bool,
    /// For generated resources: how they combine with an existing one.
    pub behavior: Option<file::Behavior>,
}

impl Res {
    pub fn new(obj: Object) -> Res {
        Res {
            obj,
            prev: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            needs_hash: false,
            behavior: None,
        }
    }

    pub fn node(&self) -> &Node {
        &self.obj.node
    }

    pub fn node_mut(&mut self) -> &mut Node {
        &mut self.obj.node
    }

    pub fn cur_id(&self) -> ResId {
        ResId::of(&self.obj.node)
    }

    pub fn org_id(&self) -> ResId {
        self.prev.first().cloned().unwrap_or_else(|| self.cur_id())
    }

    pub fn store_prev(&mut self) {
        let id = self.cur_id();
        self.prev.push(id);
    }

    /// Previous identities and the current one.
    pub fn any_id_matches(&self, f: impl Fn(&ResId) -> bool) -> bool {
        self.prev.iter().any(&f) || f(&self.cur_id())
    }

    pub fn name(&self) -> &str {
        self.obj.name()
    }

    pub fn set_name(&mut self, name: &str) {
        let pos = self
            .node()
            .path(&["metadata", "name"])
            .map_or(Pos::NONE, |n| n.pos);
        if let Some(meta) = self.node_mut().map_at("metadata") {
            meta.set("name", Node::string(name).at(pos));
        }
    }
}

/// State shared by one build.
pub(crate) struct Ctx<'a> {
    pub fs: &'a mut RepoFs,
    pub out: &'a mut RenderedSet,
    /// Kustomization folders being built, to detect cycles.
    stack: Vec<PathBuf>,
}

impl Ctx<'_> {
    pub fn err(&self, pos: Pos, msg: impl Into<String>) -> RenderError {
        RenderError::at(&self.fs.sources, pos, msg)
    }

    /// Resolves a file a kustomization in `dir` refers to. Like kustomize's load restrictor,
    /// files must be in or below the kustomization's folder (other folders are reached by
    /// listing their kustomization as a resource).
    pub fn resolve_file(
        &self,
        dir: &Path,
        reference: &str,
        pos: Pos,
    ) -> Result<PathBuf, RenderError> {
        let path = self
            .fs
            .resolve(dir, reference)
            .map_err(|m| self.err(pos, m))?;
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        if path.is_file() && !path.starts_with(&dir) {
            return Err(self.err(
                pos,
                format!(
                    "`{reference}` is not in or below {}; kustomize only reads files inside the \
                     kustomization's folder, so list that folder's kustomization instead",
                    self.fs.rel(&dir)
                ),
            ));
        }
        Ok(path)
    }

    /// Reads and parses a YAML file referenced from a kustomization at `pos`.
    pub fn read_yaml(
        &mut self,
        dir: &Path,
        reference: &str,
        pos: Pos,
    ) -> Result<Vec<Node>, RenderError> {
        let path = self.resolve_file(dir, reference, pos)?;
        let (file, text) = self.fs.read(&path).map_err(|m| self.err(pos, m))?;
        self.parse_yaml(&text, file)
    }

    pub fn parse_yaml(&self, text: &str, file: FileId) -> Result<Vec<Node>, RenderError> {
        let docs = parse_stream(text, file).map_err(|e| self.err(e.pos, e.message))?;
        Ok(docs.into_iter().filter_map(|d| d.root).collect())
    }
}

/// Builds the kustomization in `dir` (the root of a build) into objects.
pub(crate) fn build(
    fs: &mut RepoFs,
    dir: &Path,
    out: &mut RenderedSet,
) -> Result<Vec<Object>, RenderError> {
    let mut ctx = Ctx {
        fs,
        out,
        stack: Vec::new(),
    };
    let (mut ra, sort_options) =
        accumulate_target(&mut ctx, dir, KustKind::Kustomization, Pos::NONE)?;
    names::add_hash_suffixes(&mut ra);
    names::fix_references(&ctx, &mut ra)?;
    ra.retain(|r| r.obj.annotation("config.kubernetes.io/local-config") != Some("true"));
    match sort_options.unwrap_or_else(sort::default_legacy) {
        SortOptions::Fifo => {}
        SortOptions::Legacy {
            order_first,
            order_last,
        } => sort::legacy_sort(&mut ra, &order_first, &order_last),
    }
    Ok(ra.into_iter().map(|r| r.obj).collect())
}

/// Loads the kustomization in `dir` and builds it into a fresh list of resources. Returns the
/// kustomization's sort options (they only matter at the root).
fn accumulate_target(
    ctx: &mut Ctx<'_>,
    dir: &Path,
    expected: KustKind,
    referenced_at: Pos,
) -> Result<(Vec<Res>, Option<SortOptions>), RenderError> {
    let k = load_kustomization(ctx, dir, expected, referenced_at)?;
    let mut ra = Vec::new();
    ctx.stack.push(dir.to_path_buf());
    let result = run_kustomization(ctx, &k, &mut ra);
    ctx.stack.pop();
    result?;
    Ok((ra, k.sort_options.map(|s| s.value)))
}

fn load_kustomization(
    ctx: &mut Ctx<'_>,
    dir: &Path,
    expected: KustKind,
    referenced_at: Pos,
) -> Result<Kustomization, RenderError> {
    if ctx.stack.iter().any(|d| d == dir) {
        let chain: Vec<String> = ctx
            .stack
            .iter()
            .chain(std::iter::once(&dir.to_path_buf()))
            .map(|d| ctx.fs.rel(d))
            .collect();
        return Err(ctx.err(
            referenced_at,
            format!("cycle between kustomizations: {}", chain.join(" -> ")),
        ));
    }
    let path = match ctx.fs.kustomization_in(dir) {
        Ok(Some(p)) => p,
        Ok(None) => {
            return Err(ctx.err(
                referenced_at,
                format!(
                    "{} has no kustomization file (kustomization.yaml, kustomization.yml or Kustomization)",
                    ctx.fs.rel(dir)
                ),
            ));
        }
        Err(m) => return Err(ctx.err(referenced_at, m)),
    };
    let (file, text) = ctx.fs.read(&path).map_err(|m| ctx.err(referenced_at, m))?;
    let docs = parse_stream(&text, file).map_err(|e| ctx.err(e.pos, e.message))?;
    let mut roots = docs.into_iter().filter_map(|d| d.root);
    let root = roots.next().unwrap_or_else(Node::map);
    if let Some(extra) = roots.next() {
        return Err(ctx.err(
            extra.pos,
            "a kustomization file must hold exactly one YAML document",
        ));
    }
    let k = Reader {
        sources: &ctx.fs.sources,
    }
    .kustomization(&root, file, dir.to_path_buf())?;
    if k.kind != expected {
        let (want, got) = match expected {
            KustKind::Kustomization => ("Kustomization", "Component"),
            KustKind::Component => ("Component", "Kustomization"),
        };
        return Err(ctx.err(
            referenced_at,
            format!(
                "{} is a {got}, but is listed where a {want} is expected{}",
                ctx.fs.rel(dir),
                if expected == KustKind::Kustomization {
                    " (list components under `components:`)"
                } else {
                    " (set `kind: Component` and `apiVersion: kustomize.config.k8s.io/v1alpha1`)"
                }
            ),
        ));
    }
    Ok(k)
}

/// Runs one kustomization (or component) over `ra`, in kustomize's order.
fn run_kustomization(
    ctx: &mut Ctx<'_>,
    k: &Kustomization,
    ra: &mut Vec<Res>,
) -> Result<(), RenderError> {
    accumulate_resources(ctx, k, ra)?;
    generators::run(ctx, k, ra)?;
    for c in &k.components {
        let dir = ctx
            .fs
            .resolve(&k.dir, &c.value)
            .map_err(|m| ctx.err(c.pos, m))?;
        if !dir.is_dir() {
            return Err(ctx.err(
                c.pos,
                format!(
                    "component `{}` must be a folder with a kustomization",
                    c.value
                ),
            ));
        }
        let comp = load_kustomization(ctx, &dir, KustKind::Component, c.pos)?;
        ctx.stack.push(dir);
        let r = run_kustomization(ctx, &comp, ra);
        ctx.stack.pop();
        r?;
    }
    patches::strategic_merge_list(ctx, k, ra)?;
    patches::unified(ctx, k, ra)?;
    namespace::run(ctx, k, ra)?;
    names::prefix_suffix(ctx, k, ra)?;
    labels::run(ctx, k, ra)?;
    patches::json6902_list(ctx, k, ra)?;
    replicas::run(ctx, k, ra)?;
    images::run(k, ra);
    replacements::run(ctx, k, ra)?;
    for r in ra.iter_mut() {
        if r.obj.origin.via.last() != Some(&k.file) {
            r.obj.origin.via.push(k.file);
        }
    }
    Ok(())
}

fn accumulate_resources(
    ctx: &mut Ctx<'_>,
    k: &Kustomization,
    ra: &mut Vec<Res>,
) -> Result<(), RenderError> {
    for entry in &k.resources {
        let path = ctx.resolve_file(&k.dir, &entry.value, entry.pos)?;
        let added: Vec<Res> = if path.is_dir() {
            accumulate_target(ctx, &path, KustKind::Kustomization, entry.pos)?.0
        } else {
            let (objects, others) = load_file(ctx.fs, &path, ctx.out)?;
            if let Some(other) = others.first() {
                return Err(ctx.err(
                    other.pos,
                    "this document is not a Kubernetes object (it needs apiVersion and kind); \
                     a kustomization's resources must all be objects",
                ));
            }
            if objects.iter().any(|o| {
                o.kind() == "Kustomization"
                    && o.api_version().starts_with("kustomize.config.k8s.io")
            }) {
                return Err(ctx.err(
                    entry.pos,
                    format!(
                        "`{}` is a kustomization file; list its folder instead",
                        entry.value
                    ),
                ));
            }
            objects.into_iter().map(Res::new).collect()
        };
        ra.extend(added);
    }
    check_unique(ctx, ra, "is declared twice")
}

/// Refuses two resources with the same identity, as kustomize does, naming both places.
pub(crate) fn check_unique(ctx: &Ctx<'_>, ra: &[Res], what: &str) -> Result<(), RenderError> {
    let mut seen: std::collections::HashMap<(Text, Text, Text, String, Text), usize> =
        std::collections::HashMap::with_capacity(ra.len());
    for (i, r) in ra.iter().enumerate() {
        let id = r.cur_id();
        let key = (
            id.group.clone(),
            id.version.clone(),
            id.kind.clone(),
            id.effective_namespace().to_string(),
            id.name.clone(),
        );
        if let Some(&first) = seen.get(&key) {
            let existing = &ra[first];
            return Err(ctx.err(
                origin_pos(&r.obj.origin),
                format!(
                    "{} {what}: here and at {}; kustomize refuses duplicate objects, remove one",
                    id.describe(),
                    ctx.fs.sources.describe(origin_pos(&existing.obj.origin))
                ),
            ));
        }
        seen.insert(key, i);
    }
    Ok(())
}

/// The origin position of a resource, for messages.
pub(crate) fn origin_pos(o: &Origin) -> Pos {
    Pos::new(o.file, o.line, 0)
}
