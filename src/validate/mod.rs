//! Offline validation of rendered objects: YAML problems the renderer noted, structure and
//! names, built-in schemas embedded for several Kubernetes versions, custom resources through
//! CRDs of the environment and schema files, removed and deprecated APIs, duplicates, policy.
//! Every problem is a [`Finding`] at the file, line and column a person has to edit.
//!
//! The library API: [`validate`] (or [`Schemas::validate`] to share compiled schemas between
//! environments) turns a [`RenderedSet`] into an [`EnvironmentReport`]; [`render_failure`]
//! turns a [`RenderError`] into one. Reports are rendered by `crate::report::findings`.
//! Must not: print, talk to a cluster, or read files other than schema files of
//! `validate.schemaLocations`.

mod apis;
mod builtin;
mod crd;
mod finding;
mod formats;
mod locate;
mod names;
mod policy;
mod schemas;
mod structure;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::LocationSegment;
use serde_json::Value as Json;

use crate::manifest::{FileId, Node, Object, Pos, Sources};
use crate::render::{RenderError, RenderedSet};
use crate::settings::{MissingSchemas, RuleLevel, Settings};

pub use finding::{EnvironmentReport, Finding, ObjectEntry, Rule, Severity, ValidationReport};
pub use schemas::embedded_versions;

use schemas::{BuiltinCache, Compiled, Seg};

/// How to validate one environment.
#[derive(Clone, Debug)]
pub struct ValidateOptions {
    /// Name used in reports (an environment, or a folder's path).
    pub environment: String,
    /// `1.33` style.
    pub kubernetes_version: String,
    /// Unknown fields are errors.
    pub strict: bool,
    pub missing_schemas: MissingSchemas,
    /// Folders (absolute paths) holding JSON schemas named like kubeconform's.
    pub schema_locations: Vec<PathBuf>,
    /// Severity overrides by rule id.
    pub rules: BTreeMap<String, RuleLevel>,
}

impl ValidateOptions {
    pub fn new(
        environment: impl Into<String>,
        kubernetes_version: impl Into<String>,
    ) -> ValidateOptions {
        ValidateOptions {
            environment: environment.into(),
            kubernetes_version: kubernetes_version.into(),
            strict: true,
            missing_schemas: MissingSchemas::Warn,
            schema_locations: Vec::new(),
            rules: BTreeMap::new(),
        }
    }

    /// Options from kubeship.yaml's `validate:` section; errors name the setting to fix.
    pub fn from_settings(
        settings: &Settings,
        environment: &str,
        kubernetes_version: &str,
    ) -> Result<ValidateOptions, String> {
        let cfg = &settings.validate;
        let file = settings.config_path.as_ref().map_or_else(
            || crate::settings::CONFIG_FILE.to_string(),
            |p| p.display().to_string(),
        );
        let mut locations = Vec::new();
        for loc in &cfg.schema_locations {
            if loc.contains("://") {
                return Err(format!(
                    "{file}: validate.schemaLocations: `{loc}` is a URL, but validation is offline; download the schemas into a folder of the repository and list that folder"
                ));
            }
            let p = Path::new(loc);
            if p.is_absolute()
                || p.components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(format!(
                    "{file}: validate.schemaLocations: `{loc}` must be a folder inside the repository (a relative path)"
                ));
            }
            let dir = settings.repo_root.join(p);
            if !dir.is_dir() {
                return Err(format!(
                    "{file}: validate.schemaLocations: folder `{loc}` does not exist in the repository"
                ));
            }
            locations.push(dir);
        }
        for (name, level) in &cfg.rules {
            let Some(rule) = Rule::from_id(name) else {
                let known: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
                return Err(format!(
                    "{file}: validate.rules: unknown rule `{name}`; known rules: {}",
                    known.join(", ")
                ));
            };
            if rule.is_fixed() && *level != RuleLevel::Error {
                return Err(format!(
                    "{file}: validate.rules: `{name}` is always an error (nothing can be validated past it)"
                ));
            }
        }
        Ok(ValidateOptions {
            environment: environment.to_string(),
            kubernetes_version: kubernetes_version.to_string(),
            strict: cfg.strict,
            missing_schemas: cfg.missing_schemas,
            schema_locations: locations,
            rules: cfg.rules.clone(),
        })
    }

    fn level(&self, rule: Rule) -> RuleLevel {
        if rule.is_fixed() {
            return RuleLevel::Error;
        }
        if let Some(l) = self.rules.get(rule.id()) {
            return *l;
        }
        match rule {
            Rule::MissingSchema => match self.missing_schemas {
                MissingSchemas::Error => RuleLevel::Error,
                MissingSchemas::Warn => RuleLevel::Warn,
                MissingSchemas::Skip => RuleLevel::Off,
            },
            _ => rule.default_level(),
        }
    }

    fn is_on(&self, rule: Rule) -> bool {
        self.level(rule) != RuleLevel::Off
    }
}

/// A problem before it is placed: the rule, the node position, the message.
#[derive(Clone, Debug)]
pub(crate) struct RawFinding {
    pub rule: Rule,
    pub pos: Pos,
    pub message: String,
    /// A severity that configuration does not change (renderer warnings).
    pub fixed: Option<Severity>,
}

impl RawFinding {
    pub fn new(rule: Rule, pos: Pos, message: String) -> RawFinding {
        RawFinding {
            rule,
            pos,
            message,
            fixed: None,
        }
    }
}

/// Validates one rendered environment with fresh schema caches.
pub fn validate(set: &RenderedSet, opts: &ValidateOptions) -> EnvironmentReport {
    Schemas::new().validate(set, opts)
}

/// The report of an environment that could not be rendered: the render error is its one
/// finding. `source` is the text of the file it points at, when the caller has it.
pub fn render_failure(
    err: &RenderError,
    opts: &ValidateOptions,
    source: Option<&str>,
) -> EnvironmentReport {
    let yaml = err.message.contains("YAML syntax error")
        || err.message.contains("tab character")
        || err.message.contains("merge key");
    let (file, line, column) = match &err.pos {
        Some((f, l, c)) => (f.clone(), *l, *c),
        None => (err.location.clone(), 0, 0),
    };
    let source_line = source
        .filter(|_| line > 0)
        .and_then(|t| t.lines().nth(line as usize - 1))
        .map(str::to_string);
    let files = usize::from(!file.is_empty());
    EnvironmentReport {
        environment: opts.environment.clone(),
        kubernetes_version: opts.kubernetes_version.clone(),
        schema_version: String::new(),
        files,
        objects: Vec::new(),
        findings: vec![Finding {
            severity: Severity::Error,
            rule: if yaml { Rule::YamlSyntax } else { Rule::Render },
            message: err.message.clone(),
            file,
            line,
            column,
            object: None,
            object_index: None,
            source_line,
        }],
        notes: Vec::new(),
    }
}

/// Compiled schemas, reused across the environments of a run.
#[derive(Default)]
pub struct Schemas {
    builtin: BuiltinCache,
}

/// Which schema an object is validated against.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Target {
    Builtin(&'static builtin::BuiltinKind),
    Crd(usize, usize),
    File(PathBuf),
    None,
}

impl Schemas {
    pub fn new() -> Schemas {
        Schemas::default()
    }

    /// Validates one rendered environment.
    pub fn validate(&self, set: &RenderedSet, opts: &ValidateOptions) -> EnvironmentReport {
        let minor = crate::settings::minor_version(&opts.kubernetes_version);
        let (schema_set, exact) = schemas::select_set(minor);
        let mut notes = Vec::new();
        if !exact {
            notes.push(format!(
                "Kubernetes 1.{minor} has no embedded schemas; validating with those of 1.{} ({}); removed and deprecated APIs are checked for 1.{minor}; embedded: {}",
                schema_set.minor,
                schema_set.source,
                embedded_versions().join(", ")
            ));
        }
        let objects = &set.objects;
        let crds = crd::collect(objects);
        let mut per_object: Vec<Vec<RawFinding>> = vec![Vec::new(); objects.len()];
        let mut targets = Vec::with_capacity(objects.len());
        let mut resolve_ctx = Resolve {
            minor,
            set: schema_set,
            crds: &crds,
            objects,
            sources: &set.sources,
            opts,
            files: HashMap::new(),
        };
        for (i, obj) in objects.iter().enumerate() {
            targets.push(resolve_ctx.target(obj, &mut per_object[i]));
        }

        // Compile each schema in use once (in parallel when there are many).
        let mut distinct: Vec<&Target> = Vec::new();
        for t in &targets {
            if *t != Target::None && !distinct.contains(&t) {
                distinct.push(t);
            }
        }
        let compile_one = |i: usize| -> Result<Arc<Compiled>, String> {
            match distinct[i] {
                Target::Builtin(k) => self.builtin.builtin(schema_set, k, opts.strict),
                Target::Crd(c, v) => {
                    let schema = crds[*c].versions[*v]
                        .schema
                        .as_ref()
                        .ok_or_else(|| "no schema".to_string())?;
                    let doc = crd::document(schema, opts.strict, true, schema_set, &self.builtin);
                    let validator = schemas::compile(&doc)?;
                    Ok(Arc::new(Compiled {
                        validator,
                        doc,
                        strip_nulls: false,
                    }))
                }
                Target::File(p) => {
                    let doc = crd::load_file(p, opts.strict)?;
                    let validator = schemas::compile(&doc)?;
                    Ok(Arc::new(Compiled {
                        validator,
                        doc,
                        strip_nulls: false,
                    }))
                }
                Target::None => Err("no schema".to_string()),
            }
        };
        let results = run_parallel(distinct.len(), 4, &compile_one);
        let mut compiled: HashMap<Target, Arc<Compiled>> = HashMap::new();
        let mut failed: HashMap<Target, String> = HashMap::new();
        for (t, result) in distinct.into_iter().zip(results) {
            match result {
                Ok(c) => {
                    compiled.insert(t.clone(), c);
                }
                Err(e) => {
                    if let Target::Crd(c, v) = t {
                        let crd = &crds[*c];
                        per_object[crd.object].push(RawFinding::new(
                            Rule::CrdSchema,
                            crd.versions[*v].pos,
                            format!(
                                "the openAPIV3Schema of version {} cannot be used to validate {} objects: {}",
                                crd.versions[*v].name,
                                crd.kind,
                                short(&e)
                            ),
                        ));
                    }
                    failed.insert(t.clone(), e);
                }
            }
        }
        for (i, t) in targets.iter().enumerate() {
            if let (Target::File(p), Some(e)) = (t, failed.get(t)) {
                let pos = value_pos(&objects[i].node, "kind");
                per_object[i].push(RawFinding::new(
                    Rule::CrdSchema,
                    pos,
                    format!("schema file {} cannot be used: {}", rel(p, opts), short(e)),
                ));
            }
        }

        // Per-object checks, in parallel on large sets.
        let check = |i: usize| -> Vec<RawFinding> {
            let obj = &objects[i];
            let mut out = Vec::new();
            let builtin = matches!(targets[i], Target::Builtin(_));
            structure::check(obj, builtin, &mut out);
            if let Some(c) = compiled.get(&targets[i]) {
                schema_findings(c, obj, &mut out);
            }
            if let Some(t) = policy::pod_template(obj) {
                structure::pod_template(t, &mut out);
                if opts.is_on(Rule::ImageTagLatest) {
                    policy::image_tags(t, &mut out);
                }
                if opts.is_on(Rule::ResourceRequests) {
                    policy::resource_requests(t, &mut out);
                }
            }
            if opts.is_on(Rule::SelectorMismatch) {
                policy::workload_selector(obj, &mut out);
            }
            out
        };
        let results = run_parallel(objects.len(), 200, &check);
        for (i, r) in results.into_iter().enumerate() {
            per_object[i].extend(r);
        }

        // Checks across objects.
        duplicates(objects, &set.sources, &mut per_object);
        if opts.is_on(Rule::ServiceSelector) {
            let templates: Vec<policy::Template<'_>> = objects
                .iter()
                .filter_map(|o| {
                    Some(policy::Template {
                        namespace: o.namespace(),
                        labels: policy::template_labels(policy::pod_template(o)?),
                    })
                })
                .collect();
            for (i, o) in objects.iter().enumerate() {
                policy::service_selector(o, &templates, &mut per_object[i]);
            }
        }

        // Place every finding.
        let entries: Vec<ObjectEntry> = objects
            .iter()
            .map(|o| ObjectEntry {
                object: display(o),
                api_version: o.api_version().to_string(),
                file: set.sources.path(o.origin.file).to_string(),
                line: o.origin.line,
            })
            .collect();
        let mut lines = Lines::new(&set.sources);
        let mut findings = Vec::new();
        let mut place = |raw: RawFinding, index: Option<usize>, findings: &mut Vec<Finding>| {
            let severity = match raw.fixed {
                Some(s) => s,
                None => match opts.level(raw.rule) {
                    RuleLevel::Off => return,
                    RuleLevel::Warn => Severity::Warning,
                    RuleLevel::Error => Severity::Error,
                },
            };
            let mut pos = raw.pos;
            if !pos.is_known()
                && let Some(i) = index
            {
                pos = Pos::new(objects[i].origin.file, objects[i].origin.line, 1);
            }
            let known_file = pos.file != FileId::GENERATED;
            findings.push(Finding {
                severity,
                rule: raw.rule,
                message: raw.message,
                file: if known_file {
                    set.sources.path(pos.file).to_string()
                } else {
                    String::new()
                },
                line: if known_file { pos.line } else { 0 },
                column: if known_file { pos.col } else { 0 },
                object: index.map(|i| entries[i].object.clone()),
                object_index: index,
                source_line: lines.line(pos),
            });
        };
        for (i, raws) in per_object.into_iter().enumerate() {
            for raw in raws {
                place(raw, Some(i), &mut findings);
            }
        }
        for d in &set.duplicate_keys {
            let index = object_at(objects, d.again);
            let raw = RawFinding::new(
                Rule::DuplicateKey,
                d.again,
                format!(
                    "duplicate key `{}` (first at line {}); Kubernetes would silently keep only this one, remove one of them",
                    d.key, d.first.line
                ),
            );
            place(raw, index, &mut findings);
        }
        for w in &set.warnings {
            let not_object = w.message.contains("not a Kubernetes object");
            let raw = RawFinding {
                rule: if not_object {
                    Rule::NotAnObject
                } else {
                    Rule::Render
                },
                pos: w.pos,
                message: w.message.clone(),
                fixed: (!not_object).then_some(Severity::Warning),
            };
            place(raw, None, &mut findings);
        }
        findings.sort_by(|a, b| {
            (a.file.is_empty(), &a.file, a.line, a.column, a.rule).cmp(&(
                b.file.is_empty(),
                &b.file,
                b.line,
                b.column,
                b.rule,
            ))
        });
        findings.dedup_by(|a, b| {
            a.file == b.file && a.line == b.line && a.column == b.column && a.message == b.message
        });
        EnvironmentReport {
            environment: opts.environment.clone(),
            kubernetes_version: opts.kubernetes_version.clone(),
            schema_version: format!("1.{}", schema_set.minor),
            files: set.sources.len(),
            objects: entries,
            findings,
            notes,
        }
    }
}

/// Runs `f` for 0..n in order, on all cores when there are at least `min` items.
fn run_parallel<T: Send>(n: usize, min: usize, f: &(dyn Fn(usize) -> T + Sync)) -> Vec<T> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .min(8);
    if threads < 2 || n < min {
        return (0..n).map(f).collect();
    }
    // Small blocks handed out in turn keep every core busy to the end; the calling thread
    // works too.
    const BLOCK: usize = 16;
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let lo = next.fetch_add(BLOCK, Ordering::Relaxed);
            if lo >= n {
                break;
            }
            for i in lo..(lo + BLOCK).min(n) {
                done.push((i, f(i)));
            }
        }
        done
    };
    let parts = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut parts = vec![work()];
        parts.extend(helpers.into_iter().map(|h| h.join().unwrap_or_default()));
        parts
    });
    let mut slots: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for (i, t) in parts.into_iter().flatten() {
        slots[i] = Some(t);
    }
    // A helper that panicked left holes: redo those here (and panic here, if it must).
    slots
        .into_iter()
        .enumerate()
        .map(|(i, t)| t.unwrap_or_else(|| f(i)))
        .collect()
}

/// Decides each object's schema and reports API version problems.
struct Resolve<'a> {
    minor: u32,
    set: &'static builtin::SchemaSet,
    crds: &'a [crd::Crd],
    objects: &'a [Object],
    sources: &'a Sources,
    opts: &'a ValidateOptions,
    files: HashMap<(String, String, String), Option<PathBuf>>,
}

impl Resolve<'_> {
    fn target(&mut self, obj: &Object, out: &mut Vec<RawFinding>) -> Target {
        let api_version = obj.api_version();
        let kind = obj.kind();
        let (group, version) = crate::manifest::object::split_api_version(api_version);
        let av_pos = value_pos(&obj.node, "apiVersion");
        let kind_pos = value_pos(&obj.node, "kind");
        let minor = self.minor;
        let change = apis::change(group, version, kind);
        if let Some(c) = change {
            let instead = if c.replacement.is_empty() {
                String::new()
            } else {
                format!("; use {}", c.replacement)
            };
            let note = if c.note.is_empty() {
                String::new()
            } else {
                format!("; {}", c.note)
            };
            if c.removed > 0 && minor >= c.removed {
                out.push(RawFinding::new(
                    Rule::RemovedApi,
                    av_pos,
                    format!(
                        "{api_version} {kind} was removed in Kubernetes 1.{} (target is 1.{minor}){instead}{note}",
                        c.removed
                    ),
                ));
                return Target::None;
            }
            if minor >= c.deprecated {
                let removal = if c.removed > 0 {
                    format!(" and will be removed in 1.{}", c.removed)
                } else {
                    String::new()
                };
                out.push(RawFinding::new(
                    Rule::DeprecatedApi,
                    av_pos,
                    format!("{api_version} {kind} is deprecated since Kubernetes 1.{}{removal}{instead}{note}", c.deprecated),
                ));
            }
        }
        if let Some(k) = self.set.kind(group, version, kind) {
            return Target::Builtin(k);
        }
        if let Some((ci, crd)) = self
            .crds
            .iter()
            .enumerate()
            .find(|(_, c)| c.group == group && c.kind == kind)
        {
            let o = &self.objects[crd.object];
            let crd_at = self
                .sources
                .describe(Pos::new(o.origin.file, o.origin.line, 0));
            return match crd
                .versions
                .iter()
                .position(|v| v.name == version && v.served)
            {
                Some(vi) if crd.versions[vi].schema.is_some() => Target::Crd(ci, vi),
                Some(_) => Target::None,
                None => {
                    let served: Vec<&str> = crd
                        .versions
                        .iter()
                        .filter(|v| v.served)
                        .map(|v| v.name.as_str())
                        .collect();
                    out.push(RawFinding::new(
                        Rule::UnknownKind,
                        av_pos,
                        format!(
                            "the CustomResourceDefinition of {kind} ({crd_at}) does not serve version {version}; it serves {}",
                            served.join(", ")
                        ),
                    ));
                    Target::None
                }
            };
        }
        if apis::is_builtin_group(group, self.set.has_group(group)) {
            if change.is_some() {
                // A deprecated version the embedded set no longer has: nothing to check against.
                return Target::None;
            }
            out.push(RawFinding::new(
                Rule::UnknownKind,
                if self.set.kinds_of_group(group).any(|k| k.kind == kind) {
                    av_pos
                } else {
                    kind_pos
                },
                self.unknown_kind(group, version, kind),
            ));
            return Target::None;
        }
        if !self.opts.schema_locations.is_empty() {
            let key = (group.to_string(), version.to_string(), kind.to_string());
            let dirs = &self.opts.schema_locations;
            let found = self
                .files
                .entry(key)
                .or_insert_with(|| crd::find_file(dirs, group, version, kind));
            if let Some(p) = found {
                return Target::File(p.clone());
            }
        }
        let file = crd::file_names(group, version, kind).remove(0);
        out.push(RawFinding::new(
            Rule::MissingSchema,
            kind_pos,
            format!(
                "no schema for {api_version} {kind}: add its CustomResourceDefinition to this environment, or a JSON schema named {file} to a folder listed in validate.schemaLocations"
            ),
        ));
        Target::None
    }

    fn unknown_kind(&self, group: &str, version: &str, kind: &str) -> String {
        let api_version = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        let same_kind: Vec<String> = self
            .set
            .kinds_of_group(group)
            .filter(|k| k.kind == kind)
            .map(|k| {
                if group.is_empty() {
                    k.version.to_string()
                } else {
                    format!("{group}/{}", k.version)
                }
            })
            .collect();
        let target = format!("Kubernetes 1.{}", self.set.minor);
        if !same_kind.is_empty() {
            return format!(
                "{api_version} does not serve {kind} in {target}; use apiVersion {}",
                same_kind.join(" or ")
            );
        }
        let kinds: Vec<&str> = self.set.kinds_of_group(group).map(|k| k.kind).collect();
        let all: Vec<&str> = self.set.kinds.iter().map(|k| k.kind).collect();
        let hint = match names::closest(kind, kinds.iter().copied()) {
            Some(k) => format!("; did you mean `{k}`?"),
            None => match names::closest(kind, all.iter().copied()) {
                Some(k) => {
                    let owner = self
                        .set
                        .kinds
                        .iter()
                        .find(|x| x.kind == k)
                        .map(|x| {
                            if x.group.is_empty() {
                                x.version.to_string()
                            } else {
                                format!("{}/{}", x.group, x.version)
                            }
                        })
                        .unwrap_or_default();
                    format!("; did you mean `{k}` ({owner})?")
                }
                None => String::new(),
            },
        };
        let group_name = if group.is_empty() {
            "the core group"
        } else {
            group
        };
        format!(
            "unknown kind `{kind}` for apiVersion {api_version}: {group_name} has no such kind in {target}{hint}"
        )
    }
}

/// Schema problems of one object, each at its node.
fn schema_findings(c: &Compiled, obj: &Object, out: &mut Vec<RawFinding>) {
    let json = if c.strip_nulls {
        locate::to_json_without_nulls(&obj.node)
    } else {
        locate::to_json_custom(&obj.node)
    };
    if c.validator.is_valid(&json) {
        return;
    }
    let errors: Vec<_> = c.validator.iter_errors(&json).collect();
    // Required properties that are missing, by (path, name): an unknown field that is a typo
    // of one of them is reported once, as the typo.
    let missing: Vec<(Vec<Seg>, String)> = errors
        .iter()
        .filter_map(|e| match e.kind() {
            ValidationErrorKind::Required { property } => {
                Some((segments(e.instance_path()), property.as_str()?.to_string()))
            }
            _ => None,
        })
        .collect();
    let mut typos: Vec<(Vec<Seg>, String)> = Vec::new();
    for err in &errors {
        if let ValidationErrorKind::AdditionalProperties { unexpected } = err.kind() {
            let path = segments(err.instance_path());
            for name in unexpected {
                let wanted = missing
                    .iter()
                    .filter(|(p, _)| *p == path)
                    .map(|(_, n)| n.as_str());
                if let Some(w) = names::closest(name, wanted) {
                    typos.push((path.clone(), w.to_string()));
                }
            }
        }
    }
    for err in &errors {
        let path = segments(err.instance_path());
        let found = locate::find(&obj.node, &path);
        let at = locate::human_path(&path);
        let instance: &Json = err.instance();
        match err.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let known = schemas::known_properties(&c.doc, &path);
                for name in unexpected {
                    let mut p = path.clone();
                    p.push(Seg::Key(name.clone()));
                    let f = locate::find(&obj.node, &p);
                    let hint = match names::closest(name, known.iter().copied()) {
                        Some(k) if typos.iter().any(|(tp, tn)| *tp == path && tn == k) => {
                            format!(" (did you mean `{k}`? it is required)")
                        }
                        Some(k) => format!(" (did you mean `{k}`?)"),
                        None => String::new(),
                    };
                    let inside = if at.is_empty() {
                        String::new()
                    } else {
                        format!(" in {at}")
                    };
                    out.push(RawFinding::new(
                        Rule::UnknownField,
                        f.key_pos(),
                        format!("unknown field `{name}`{inside}{hint}"),
                    ));
                }
            }
            ValidationErrorKind::Required { property } => {
                let prop = property.as_str().unwrap_or("?");
                let full =
                    locate::human_path(&[path.clone(), vec![Seg::Key(prop.to_string())]].concat());
                if let Some(v) = found.node.get(prop).filter(|v| v.is_null()) {
                    out.push(RawFinding::new(
                        Rule::Schema,
                        v.pos,
                        format!("{full} must not be null: it is required"),
                    ));
                } else {
                    let metadata = path.is_empty() && prop == "metadata";
                    let typo = typos.iter().any(|(tp, tn)| *tp == path && tn == prop);
                    if metadata || typo {
                        continue;
                    }
                    let inside = if at.is_empty() {
                        String::new()
                    } else {
                        format!(" in {at}")
                    };
                    out.push(RawFinding::new(
                        Rule::Schema,
                        found.pos(),
                        format!("missing required field `{prop}`{inside}"),
                    ));
                }
            }
            ValidationErrorKind::Format { format } => {
                let v = instance.as_str().unwrap_or_default();
                let msg = match format.as_str() {
                    "quantity" => {
                        format!("{at}: `{v}` is not a valid quantity (e.g. 100m, 0.5, 128Mi, 1Gi)")
                    }
                    "byte" => format!(
                        "{at} is not valid base64; Secret `data` values must be base64-encoded (use `stringData` for plain text)"
                    ),
                    "date-time" => format!("{at}: `{v}` is not an RFC 3339 date-time"),
                    f => format!("{at}: `{v}` is not a valid {f}"),
                };
                out.push(RawFinding::new(Rule::Schema, found.pos(), msg));
            }
            ValidationErrorKind::Enum { options } => {
                let allowed: Vec<String> = options
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter(|o| !o.is_null() && o.as_str() != Some(""))
                            .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(RawFinding::new(
                    Rule::Schema,
                    found.pos(),
                    format!(
                        "{at}: {} is not one of {}",
                        show_value(instance),
                        allowed.join(", ")
                    ),
                ));
            }
            ValidationErrorKind::Type { kind } => {
                let expected = format!("{kind:?}");
                let expected = type_names(&expected);
                let actual = json_type(instance);
                let hint = match (instance, expected.as_str()) {
                    (Json::String(s), e)
                        if (e.contains("integer") || e.contains("number"))
                            && s.parse::<f64>().is_ok() =>
                    {
                        " (remove the quotes)"
                    }
                    (Json::Number(_) | Json::Bool(_), e) if e.contains("string") => {
                        " (quote the value)"
                    }
                    _ => "",
                };
                out.push(RawFinding::new(
                    Rule::Schema,
                    found.pos(),
                    format!(
                        "{at} must be {expected}, not {actual} {}{hint}",
                        show_value(instance)
                    ),
                ));
            }
            _ => {
                let msg = err.to_string();
                let at = if at.is_empty() {
                    "object".to_string()
                } else {
                    at
                };
                out.push(RawFinding::new(
                    Rule::Schema,
                    found.pos(),
                    format!("{at}: {}", short(&msg)),
                ));
            }
        }
    }
}

fn segments(location: &jsonschema::paths::Location) -> Vec<Seg> {
    location
        .iter()
        .map(|s| match s {
            LocationSegment::Property(p) => Seg::Key(p.to_string()),
            LocationSegment::Index(i) => Seg::Index(i),
        })
        .collect()
}

/// `Single(Integer)`/`Multiple(...)` debug text to `integer` / `integer or string`.
fn type_names(debug: &str) -> String {
    let words: Vec<String> = [
        "integer", "number", "string", "boolean", "object", "array", "null",
    ]
    .iter()
    .filter(|t| debug.to_ascii_lowercase().contains(*t))
    .map(|t| match *t {
        "object" => "a mapping".to_string(),
        "array" => "a list".to_string(),
        "integer" => "an integer".to_string(),
        "number" => "a number".to_string(),
        "string" => "a string".to_string(),
        "boolean" => "a boolean".to_string(),
        t => t.to_string(),
    })
    .collect();
    if words.is_empty() {
        debug.to_string()
    } else {
        words.join(" or ")
    }
}

fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(n) if n.is_f64() => "a number",
        Json::Number(_) => "an integer",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a mapping",
    }
}

fn show_value(v: &Json) -> String {
    match v {
        Json::Object(_) => String::new(),
        Json::Array(_) => String::new(),
        v => {
            let s = v.to_string();
            if s.len() > 60 {
                format!("{}…", cut(&s, 60))
            } else {
                s
            }
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let end = s
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .take_while(|e| *e <= max)
        .last()
        .unwrap_or(0);
    &s[..end]
}

fn short(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or(msg);
    if first.len() > 300 {
        format!("{}…", cut(first, 300))
    } else {
        first.to_string()
    }
}

fn rel(p: &Path, opts: &ValidateOptions) -> String {
    for dir in &opts.schema_locations {
        if let Ok(r) = p.strip_prefix(dir) {
            let base = dir
                .file_name()
                .map(|d| d.to_string_lossy().to_string())
                .unwrap_or_default();
            return format!("{base}/{}", r.display());
        }
    }
    p.display().to_string()
}

/// The position of a top-level value (`kind`, `apiVersion`), else of the object.
fn value_pos(root: &Node, key: &str) -> Pos {
    root.get(key).map_or(root.pos, |n| n.pos)
}

/// `Kind/namespace/name` or `Kind/name`.
fn display(o: &Object) -> String {
    let mut id = o.id();
    if id.name.is_empty() {
        id.name = "<no name>".into();
    }
    id.to_string()
}

/// The object a position falls in: the last object of that file starting at or before it.
fn object_at(objects: &[Object], pos: Pos) -> Option<usize> {
    objects
        .iter()
        .enumerate()
        .filter(|(_, o)| o.origin.file == pos.file && o.origin.line <= pos.line)
        .max_by_key(|(_, o)| o.origin.line)
        .map(|(i, _)| i)
}

/// `duplicate-object`: the same group, kind, namespace and name twice.
fn duplicates(objects: &[Object], sources: &Sources, per_object: &mut [Vec<RawFinding>]) {
    let mut seen: HashMap<(&str, &str, Option<&str>, &str), usize> = HashMap::new();
    for (i, o) in objects.iter().enumerate() {
        let name = o.name();
        if name.is_empty() {
            continue;
        }
        let key = (o.group(), o.kind(), o.namespace(), name);
        match seen.get(&key) {
            Some(&first) => {
                let f = &objects[first];
                let first_at = f
                    .node
                    .path(&["metadata", "name"])
                    .map_or(Pos::new(f.origin.file, f.origin.line, 0), |n| n.pos);
                let pos = o
                    .node
                    .path(&["metadata", "name"])
                    .map_or(o.node.pos, |n| n.pos);
                per_object[i].push(RawFinding::new(
                    Rule::DuplicateObject,
                    pos,
                    format!(
                        "{} is defined twice: here and at {}; the later one would replace the first on apply, remove or rename one",
                        display(o),
                        sources.describe(first_at)
                    ),
                ));
            }
            None => {
                seen.insert(key, i);
            }
        }
    }
}

/// Source lines by position, with a line index per file built on first use.
struct Lines<'a> {
    sources: &'a Sources,
    index: HashMap<FileId, Vec<usize>>,
}

impl<'a> Lines<'a> {
    fn new(sources: &'a Sources) -> Lines<'a> {
        Lines {
            sources,
            index: HashMap::new(),
        }
    }

    fn line(&mut self, pos: Pos) -> Option<String> {
        if !pos.is_known() || pos.file == FileId::GENERATED {
            return None;
        }
        let text = &self.sources.file(pos.file).text;
        let starts = self.index.entry(pos.file).or_insert_with(|| {
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let start = *starts.get(pos.line as usize - 1)?;
        let end = starts
            .get(pos.line as usize)
            .map_or(text.len(), |e| e.saturating_sub(1));
        Some(text.get(start..end)?.trim_end_matches('\r').to_string())
    }
}
