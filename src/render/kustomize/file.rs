//! The kustomization file: every field kubeship supports, read with positions.
//!
//! Owns: turning a `kustomization.yaml` (or a `Component`) node tree into [`Kustomization`],
//! refusing every field kubeship does not implement (plugins, Helm, vars, remote bases...) with
//! an error that names the field, the file and the line.
//! Must not: read other files or transform resources.

use std::path::PathBuf;

use crate::manifest::{FileId, Node, Pos, Sources, Value};

use super::super::RenderError;
use super::fieldspec::FieldSpec;
use super::selector::Selector;

#[derive(Clone, Debug)]
pub struct Spanned<T> {
    pub value: T,
    pub pos: Pos,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KustKind {
    Kustomization,
    Component,
}

#[derive(Debug)]
pub struct Kustomization {
    pub file: FileId,
    pub dir: PathBuf,
    pub kind: KustKind,
    pub resources: Vec<Spanned<String>>,
    pub components: Vec<Spanned<String>>,
    pub namespace: Option<Spanned<String>>,
    pub name_prefix: Option<Spanned<String>>,
    pub name_suffix: Option<Spanned<String>>,
    pub common_labels: Vec<(String, String)>,
    pub common_labels_pos: Pos,
    pub labels: Vec<LabelArgs>,
    pub common_annotations: Vec<(String, String)>,
    pub common_annotations_pos: Pos,
    pub images: Vec<ImageArgs>,
    pub replicas: Vec<ReplicaArgs>,
    pub patches: Vec<PatchArgs>,
    pub patches_strategic_merge: Vec<PatchArgs>,
    pub patches_json6902: Vec<PatchArgs>,
    pub config_map_generator: Vec<GeneratorArgs>,
    pub secret_generator: Vec<GeneratorArgs>,
    pub generator_options: Option<GeneratorOptions>,
    pub replacements: Vec<Spanned<ReplacementSource>>,
    pub sort_options: Option<Spanned<SortOptions>>,
}

#[derive(Clone, Debug)]
pub struct LabelArgs {
    pub pairs: Vec<(String, String)>,
    pub include_selectors: bool,
    pub include_templates: bool,
    pub fields: Vec<FieldSpec>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct ImageArgs {
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct ReplicaArgs {
    pub name: String,
    pub count: Node,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub enum PatchBody {
    /// Path relative to the kustomization.
    File(String),
    /// Inline patch text.
    Inline(String),
}

#[derive(Clone, Debug)]
pub struct PatchArgs {
    pub body: PatchBody,
    pub target: Option<Selector>,
    pub allow_name_change: bool,
    pub allow_kind_change: bool,
    pub pos: Pos,
}

#[derive(Clone, Debug, Default)]
pub struct GeneratorOptions {
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    pub disable_name_suffix_hash: Option<bool>,
    pub immutable: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    Create,
    Merge,
    Replace,
}

#[derive(Clone, Debug)]
pub struct GeneratorArgs {
    pub name: String,
    pub namespace: Option<String>,
    pub behavior: Behavior,
    pub literals: Vec<Spanned<String>>,
    pub files: Vec<Spanned<String>>,
    pub envs: Vec<Spanned<String>>,
    pub secret_type: Option<String>,
    pub options: GeneratorOptions,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub enum ReplacementSource {
    Inline(Node),
    File(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum SortOptions {
    Fifo,
    Legacy {
        order_first: Vec<String>,
        order_last: Vec<String>,
    },
}

/// Fields kustomize knows but kubeship refuses, and why.
fn refused(field: &str) -> Option<&'static str> {
    Some(match field {
        "helmCharts" | "helmGlobals" | "helmChartInflationGenerator" => {
            "Helm chart inflation is not supported: render the chart into plain YAML (helm template) and commit it, or use Flux's HelmRelease"
        }
        "generators" | "transformers" | "validators" => {
            "generator, transformer and validator plugins are not supported: a CI job must not run arbitrary plugin code"
        }
        "vars" => "vars are not supported: use `replacements` instead",
        "openapi" => "custom OpenAPI schemas are not supported",
        "crds" => "`crds` (transformer configuration for custom kinds) is not supported",
        "buildMetadata" => "`buildMetadata` is not supported",
        "configurations" => {
            "custom transformer configurations are not supported: use `patches` or `replacements`"
        }
        "inventory" => "`inventory` is not supported: kubeship keeps its own ApplySet inventory",
        "imageTags" => "`imageTags` is the removed name of `images`: rename it",
        _ => return None,
    })
}

const KNOWN: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "bases",
    "components",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "images",
    "replicas",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
    "replacements",
    "sortOptions",
];

pub struct Reader<'a> {
    pub sources: &'a Sources,
}

impl Reader<'_> {
    fn err(&self, pos: Pos, msg: impl Into<String>) -> RenderError {
        RenderError::at(self.sources, pos, msg)
    }

    fn string(&self, node: &Node, what: &str) -> Result<String, RenderError> {
        match &node.value {
            Value::Scalar(t, _) if !node.is_null() => Ok(t.to_string()),
            _ => Err(self.err(node.pos, format!("{what} must be a string"))),
        }
    }

    fn opt_string(
        &self,
        node: &Node,
        key: &str,
        what: &str,
    ) -> Result<Option<String>, RenderError> {
        match node.get(key) {
            None => Ok(None),
            Some(n) if n.is_null() => Ok(None),
            Some(n) => self.string(n, &format!("{what}.{key}")).map(Some),
        }
    }

    fn bool(&self, node: &Node, key: &str, what: &str) -> Result<Option<bool>, RenderError> {
        match node.get(key) {
            None => Ok(None),
            Some(n) if n.is_null() => Ok(None),
            Some(n) => n
                .as_bool()
                .map(Some)
                .ok_or_else(|| self.err(n.pos, format!("{what}.{key} must be true or false"))),
        }
    }

    fn list<'n>(&self, node: &'n Node, what: &str) -> Result<&'n [Node], RenderError> {
        match &node.value {
            Value::Seq(items) => Ok(items),
            _ if node.is_null() => Ok(&[]),
            _ => Err(self.err(node.pos, format!("`{what}` must be a list"))),
        }
    }

    fn string_list(&self, node: &Node, what: &str) -> Result<Vec<Spanned<String>>, RenderError> {
        self.list(node, what)?
            .iter()
            .map(|n| {
                Ok(Spanned {
                    value: self.string(n, &format!("each entry of `{what}`"))?,
                    pos: n.pos,
                })
            })
            .collect()
    }

    fn string_map(&self, node: &Node, what: &str) -> Result<Vec<(String, String)>, RenderError> {
        if node.is_null() {
            return Ok(Vec::new());
        }
        if !node.is_map() {
            return Err(self.err(node.pos, format!("`{what}` must be a mapping of strings")));
        }
        node.entries()
            .iter()
            .map(|e| {
                let k = self.string(&e.key, &format!("a key of `{what}`"))?;
                let v = match &e.value.value {
                    Value::Scalar(t, _) if e.value.is_null() => {
                        let _ = t;
                        String::new()
                    }
                    Value::Scalar(t, _) => t.to_string(),
                    _ => {
                        return Err(
                            self.err(e.value.pos, format!("`{what}.{k}` must be a string value"))
                        );
                    }
                };
                Ok((k, v))
            })
            .collect()
    }

    fn check_keys(&self, node: &Node, allowed: &[&str], what: &str) -> Result<(), RenderError> {
        for e in node.entries() {
            let k = e.key.text().unwrap_or("");
            if !allowed.contains(&k) {
                return Err(self.err(
                    e.key.pos,
                    format!(
                        "unknown field `{k}` in {what}; expected one of: {}",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    pub fn kustomization(
        &self,
        root: &Node,
        file: FileId,
        dir: PathBuf,
    ) -> Result<Kustomization, RenderError> {
        if !root.is_map() {
            return Err(self.err(root.pos, "a kustomization must be a YAML mapping"));
        }
        for e in root.entries() {
            let k = e.key.text().unwrap_or("");
            if let Some(why) = refused(k) {
                return Err(self.err(e.key.pos, format!("`{k}`: {why}")));
            }
            if !KNOWN.contains(&k) {
                return Err(self.err(
                    e.key.pos,
                    format!("unknown field `{k}` in kustomization; check its spelling"),
                ));
            }
        }
        let kind = match root.path_name(&["kind"]) {
            None | Some("Kustomization") => KustKind::Kustomization,
            Some("Component") => KustKind::Component,
            Some(other) => {
                return Err(self.err(
                    root.get("kind").map_or(root.pos, |n| n.pos),
                    format!(
                        "kind `{other}` is not a kustomization; expected Kustomization or Component"
                    ),
                ));
            }
        };
        let get = |k: &str| root.get(k);
        let mut k = Kustomization {
            file,
            dir,
            kind,
            resources: Vec::new(),
            components: Vec::new(),
            namespace: None,
            name_prefix: None,
            name_suffix: None,
            common_labels: Vec::new(),
            common_labels_pos: Pos::NONE,
            labels: Vec::new(),
            common_annotations: Vec::new(),
            common_annotations_pos: Pos::NONE,
            images: Vec::new(),
            replicas: Vec::new(),
            patches: Vec::new(),
            patches_strategic_merge: Vec::new(),
            patches_json6902: Vec::new(),
            config_map_generator: Vec::new(),
            secret_generator: Vec::new(),
            generator_options: None,
            replacements: Vec::new(),
            sort_options: None,
        };
        if let Some(n) = get("resources") {
            k.resources = self.string_list(n, "resources")?;
        }
        if let Some(n) = get("bases") {
            // kustomize appends the deprecated `bases` after `resources`.
            k.resources.extend(self.string_list(n, "bases")?);
        }
        if let Some(n) = get("components") {
            k.components = self.string_list(n, "components")?;
        }
        for (key, slot) in [
            ("namespace", &mut k.namespace),
            ("namePrefix", &mut k.name_prefix),
            ("nameSuffix", &mut k.name_suffix),
        ] {
            if let Some(n) = get(key).filter(|n| !n.is_null()) {
                let value = self.string(n, &format!("`{key}`"))?;
                if !value.is_empty() {
                    *slot = Some(Spanned { value, pos: n.pos });
                }
            }
        }
        if let Some(n) = get("commonLabels") {
            k.common_labels = self.string_map(n, "commonLabels")?;
            k.common_labels_pos = n.pos;
        }
        if let Some(n) = get("commonAnnotations") {
            k.common_annotations = self.string_map(n, "commonAnnotations")?;
            k.common_annotations_pos = n.pos;
        }
        if let Some(n) = get("labels") {
            for item in self.list(n, "labels")? {
                k.labels.push(self.label_args(item)?);
            }
        }
        if let Some(n) = get("images") {
            for item in self.list(n, "images")? {
                k.images.push(self.image_args(item)?);
            }
        }
        if let Some(n) = get("replicas") {
            for item in self.list(n, "replicas")? {
                self.check_keys(item, &["name", "count"], "a `replicas` entry")?;
                let name = self
                    .opt_string(item, "name", "replicas")?
                    .ok_or_else(|| self.err(item.pos, "a `replicas` entry needs `name`"))?;
                let count = item
                    .get("count")
                    .filter(|c| c.as_i64().is_some())
                    .ok_or_else(|| {
                        self.err(item.pos, "a `replicas` entry needs an integer `count`")
                    })?
                    .clone();
                k.replicas.push(ReplicaArgs {
                    name,
                    count,
                    pos: item.pos,
                });
            }
        }
        if let Some(n) = get("patches") {
            for item in self.list(n, "patches")? {
                k.patches.push(self.patch_args(item, "patches")?);
            }
        }
        if let Some(n) = get("patchesStrategicMerge") {
            for item in self.list(n, "patchesStrategicMerge")? {
                let text = self.string(item, "each entry of `patchesStrategicMerge`")?;
                // An entry is either a file path or an inline patch (kustomize tells them apart
                // by whether the text parses as a YAML mapping).
                let body = if text.contains('\n') || text.trim_start().starts_with('{') {
                    PatchBody::Inline(text)
                } else {
                    PatchBody::File(text)
                };
                k.patches_strategic_merge.push(PatchArgs {
                    body,
                    target: None,
                    allow_name_change: false,
                    allow_kind_change: false,
                    pos: item.pos,
                });
            }
        }
        if let Some(n) = get("patchesJson6902") {
            for item in self.list(n, "patchesJson6902")? {
                let p = self.patch_args(item, "patchesJson6902")?;
                if p.target.is_none() {
                    return Err(self.err(item.pos, "a `patchesJson6902` entry needs a `target`"));
                }
                k.patches_json6902.push(p);
            }
        }
        if let Some(n) = get("generatorOptions") {
            k.generator_options = Some(self.generator_options(n, "generatorOptions")?);
        }
        if let Some(n) = get("configMapGenerator") {
            for item in self.list(n, "configMapGenerator")? {
                k.config_map_generator
                    .push(self.generator_args(item, false)?);
            }
        }
        if let Some(n) = get("secretGenerator") {
            for item in self.list(n, "secretGenerator")? {
                k.secret_generator.push(self.generator_args(item, true)?);
            }
        }
        if let Some(n) = get("replacements") {
            for item in self.list(n, "replacements")? {
                let value = match item.get("path") {
                    Some(p) if item.entries().len() == 1 => {
                        ReplacementSource::File(self.string(p, "replacements[].path")?)
                    }
                    _ => {
                        self.check_keys(item, &["source", "targets"], "a `replacements` entry")?;
                        ReplacementSource::Inline(item.clone())
                    }
                };
                k.replacements.push(Spanned {
                    value,
                    pos: item.pos,
                });
            }
        }
        if let Some(n) = get("sortOptions") {
            k.sort_options = Some(Spanned {
                value: self.sort_options(n)?,
                pos: n.pos,
            });
        }
        Ok(k)
    }

    fn label_args(&self, item: &Node) -> Result<LabelArgs, RenderError> {
        self.check_keys(
            item,
            &["pairs", "includeSelectors", "includeTemplates", "fields"],
            "a `labels` entry",
        )?;
        let pairs = match item.get("pairs") {
            Some(p) => self.string_map(p, "labels[].pairs")?,
            None => Vec::new(),
        };
        let mut fields = Vec::new();
        if let Some(f) = item.get("fields") {
            for fs in self.list(f, "labels[].fields")? {
                fields.push(self.field_spec(fs)?);
            }
        }
        Ok(LabelArgs {
            pairs,
            include_selectors: self
                .bool(item, "includeSelectors", "labels[]")?
                .unwrap_or(false),
            include_templates: self
                .bool(item, "includeTemplates", "labels[]")?
                .unwrap_or(false),
            fields,
            pos: item.pos,
        })
    }

    fn field_spec(&self, n: &Node) -> Result<FieldSpec, RenderError> {
        self.check_keys(
            n,
            &["path", "group", "version", "kind", "create"],
            "a field spec",
        )?;
        let path = self
            .opt_string(n, "path", "fields[]")?
            .ok_or_else(|| self.err(n.pos, "a field spec needs `path`"))?;
        Ok(FieldSpec::owned(
            self.opt_string(n, "group", "fields[]")?.unwrap_or_default(),
            self.opt_string(n, "version", "fields[]")?
                .unwrap_or_default(),
            self.opt_string(n, "kind", "fields[]")?.unwrap_or_default(),
            path,
            self.bool(n, "create", "fields[]")?.unwrap_or(false),
        ))
    }

    fn image_args(&self, item: &Node) -> Result<ImageArgs, RenderError> {
        self.check_keys(
            item,
            &["name", "newName", "newTag", "digest"],
            "an `images` entry",
        )?;
        let name = self
            .opt_string(item, "name", "images[]")?
            .ok_or_else(|| self.err(item.pos, "an `images` entry needs `name`"))?;
        Ok(ImageArgs {
            name,
            new_name: self.opt_string(item, "newName", "images[]")?,
            new_tag: self.opt_string(item, "newTag", "images[]")?,
            digest: self.opt_string(item, "digest", "images[]")?,
            pos: item.pos,
        })
    }

    fn patch_args(&self, item: &Node, what: &str) -> Result<PatchArgs, RenderError> {
        self.check_keys(
            item,
            &["path", "patch", "target", "options"],
            &format!("a `{what}` entry"),
        )?;
        let path = self.opt_string(item, "path", what)?;
        let patch = self.opt_string(item, "patch", what)?;
        let body = match (path, patch) {
            (Some(p), None) => PatchBody::File(p),
            (None, Some(p)) => PatchBody::Inline(p),
            (Some(_), Some(_)) => {
                return Err(self.err(
                    item.pos,
                    format!("a `{what}` entry takes `path` or `patch`, not both"),
                ));
            }
            (None, None) => {
                return Err(self.err(
                    item.pos,
                    format!("a `{what}` entry needs `path` or `patch`"),
                ));
            }
        };
        let target = match item.get("target") {
            Some(t) if !t.is_null() => Some(self.selector(t)?),
            _ => None,
        };
        let (mut allow_name_change, mut allow_kind_change) = (false, false);
        if let Some(o) = item.get("options") {
            self.check_keys(o, &["allowNameChange", "allowKindChange"], "patch options")?;
            allow_name_change = self.bool(o, "allowNameChange", "options")?.unwrap_or(false);
            allow_kind_change = self.bool(o, "allowKindChange", "options")?.unwrap_or(false);
        }
        Ok(PatchArgs {
            body,
            target,
            allow_name_change,
            allow_kind_change,
            pos: item.pos,
        })
    }

    pub fn selector(&self, n: &Node) -> Result<Selector, RenderError> {
        self.check_keys(
            n,
            &[
                "group",
                "version",
                "kind",
                "name",
                "namespace",
                "labelSelector",
                "annotationSelector",
            ],
            "a target selector",
        )?;
        let s = |k: &str| self.opt_string(n, k, "target");
        Selector::new(
            s("group")?,
            s("version")?,
            s("kind")?,
            s("name")?,
            s("namespace")?,
            s("labelSelector")?,
            s("annotationSelector")?,
        )
        .map_err(|m| self.err(n.pos, m))
    }

    fn generator_options(&self, n: &Node, what: &str) -> Result<GeneratorOptions, RenderError> {
        self.check_keys(
            n,
            &[
                "labels",
                "annotations",
                "disableNameSuffixHash",
                "immutable",
            ],
            &format!("`{what}`"),
        )?;
        Ok(GeneratorOptions {
            labels: match n.get("labels") {
                Some(l) => self.string_map(l, &format!("{what}.labels"))?,
                None => Vec::new(),
            },
            annotations: match n.get("annotations") {
                Some(l) => self.string_map(l, &format!("{what}.annotations"))?,
                None => Vec::new(),
            },
            disable_name_suffix_hash: self.bool(n, "disableNameSuffixHash", what)?,
            immutable: self.bool(n, "immutable", what)?,
        })
    }

    fn generator_args(&self, item: &Node, secret: bool) -> Result<GeneratorArgs, RenderError> {
        let what = if secret {
            "secretGenerator"
        } else {
            "configMapGenerator"
        };
        let mut allowed = vec![
            "name",
            "namespace",
            "behavior",
            "literals",
            "files",
            "envs",
            "env",
            "options",
        ];
        if secret {
            allowed.push("type");
        }
        self.check_keys(item, &allowed, &format!("a `{what}` entry"))?;
        let name = self
            .opt_string(item, "name", what)?
            .ok_or_else(|| self.err(item.pos, format!("a `{what}` entry needs `name`")))?;
        let behavior = match self.opt_string(item, "behavior", what)?.as_deref() {
            None | Some("") | Some("create") => Behavior::Create,
            Some("merge") => Behavior::Merge,
            Some("replace") => Behavior::Replace,
            Some(other) => {
                return Err(self.err(
                    item.get("behavior").map_or(item.pos, |b| b.pos),
                    format!("unknown behavior `{other}`; expected create, merge or replace"),
                ));
            }
        };
        let list = |k: &str| -> Result<Vec<Spanned<String>>, RenderError> {
            match item.get(k) {
                Some(n) => self.string_list(n, &format!("{what}[].{k}")),
                None => Ok(Vec::new()),
            }
        };
        let mut envs = list("envs")?;
        if let Some(env) = item.get("env").filter(|n| !n.is_null()) {
            envs.push(Spanned {
                value: self.string(env, &format!("{what}[].env"))?,
                pos: env.pos,
            });
        }
        let options = match item.get("options") {
            Some(o) => self.generator_options(o, &format!("{what}[].options"))?,
            None => GeneratorOptions::default(),
        };
        Ok(GeneratorArgs {
            name,
            namespace: self
                .opt_string(item, "namespace", what)?
                .filter(|s| !s.is_empty()),
            behavior,
            literals: list("literals")?,
            files: list("files")?,
            envs,
            secret_type: if secret {
                self.opt_string(item, "type", what)?
            } else {
                None
            },
            options,
            pos: item.pos,
        })
    }

    fn sort_options(&self, n: &Node) -> Result<SortOptions, RenderError> {
        self.check_keys(n, &["order", "legacySortOptions"], "`sortOptions`")?;
        let order = self.opt_string(n, "order", "sortOptions")?;
        let legacy = n.get("legacySortOptions");
        match order.as_deref() {
            Some("fifo") => {
                if legacy.is_some() {
                    return Err(self.err(
                        n.pos,
                        "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'",
                    ));
                }
                Ok(SortOptions::Fifo)
            }
            Some("legacy") => {
                let (mut first, mut last) = (None, None);
                if let Some(l) = legacy {
                    self.check_keys(l, &["orderFirst", "orderLast"], "`legacySortOptions`")?;
                    if let Some(f) = l.get("orderFirst") {
                        first = Some(
                            self.string_list(f, "orderFirst")?
                                .into_iter()
                                .map(|s| s.value)
                                .collect(),
                        );
                    }
                    if let Some(f) = l.get("orderLast") {
                        last = Some(
                            self.string_list(f, "orderLast")?
                                .into_iter()
                                .map(|s| s.value)
                                .collect(),
                        );
                    }
                }
                Ok(match (first, last) {
                    (None, None) => super::sort::default_legacy(),
                    (f, l) => SortOptions::Legacy {
                        order_first: f.unwrap_or_default(),
                        order_last: l.unwrap_or_default(),
                    },
                })
            }
            _ => Err(self.err(
                n.pos,
                "the field 'sortOptions.order' must be one of [fifo, legacy]",
            )),
        }
    }
}
