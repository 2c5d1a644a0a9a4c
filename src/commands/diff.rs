//! `kubeship diff`: what apply would change, against the live cluster (server-side dry-run)
//! or against another git revision (no cluster at all).

use std::collections::HashMap;
use std::path::Path;

use crate::cli::{Cli, DiffArgs, Format};
use crate::cluster::{self, ClusterError, ConnectOptions, ObserveOptions};
use crate::exit::{Exit, Failure};
use crate::manifest::ObjectRef;
use crate::plan::{self, Desired, Observation, Plan};
use crate::printer::Printer;
use crate::render::{self, RenderedSet};
use crate::report;
use crate::settings::{Environment, Settings};

/// Default Markdown budget when writing a file (GitLab's comment limit).
pub const DEFAULT_MARKDOWN_BYTES: usize = 1_000_000;

impl From<ClusterError> for Failure {
    fn from(e: ClusterError) -> Failure {
        Failure::incomplete(e)
    }
}

pub fn run(cli: &Cli, args: &DiffArgs, printer: &Printer) -> Result<Exit, Failure> {
    let settings = super::load_settings(cli, None)?;
    let env = settings.environment(&args.env)?.clone();
    let outputs = super::parse_outputs(
        &args.output,
        &[Format::Text, Format::Json, Format::Markdown],
    )?;
    if !matches!(args.format, Format::Text | Format::Json | Format::Markdown) {
        return Err(Failure::usage("diff --format takes text, json or markdown"));
    }
    let set = render_env(&settings, &env)?;
    for w in &set.warnings {
        printer.warn(&format!("{}: {}", set.sources.describe(w.pos), w.message));
    }
    let plan = if args.against == "cluster" {
        let rt = super::runtime()?;
        rt.block_on(plan_against_cluster(&env, &set, args.concurrency, true))?
    } else {
        plan_against_revision(&settings, &env, &set, &args.against)?
    };
    let max = args.max_bytes.unwrap_or(DEFAULT_MARKDOWN_BYTES);
    let render_as = |f: Format| match f {
        Format::Json => report::plan::json(&plan),
        Format::Markdown => report::plan::markdown(&plan, max),
        _ => report::plan::text(&plan, false),
    };
    for (format, path) in &outputs {
        super::write_output(path, &render_as(*format))?;
    }
    if args.comment {
        super::ci_face::post_diff(&settings, &env, &plan, printer)?;
    }
    match args.format {
        Format::Text => printer.out(&report::plan::text(&plan, printer.color_stdout())),
        f => printer.out(&render_as(f)),
    }
    let s = plan.summary();
    super::ci_face::write_outputs(s.create + s.update + s.delete, s.blocked, printer);
    let blocked = s.blocked > 0;
    Ok(if blocked || (args.exit_code && plan.has_changes()) {
        Exit::Findings
    } else {
        Exit::Success
    })
}

/// Renders an environment; a broken repository is a finding (exit 1).
pub fn render_env(settings: &Settings, env: &Environment) -> Result<RenderedSet, Failure> {
    let dir = settings.env_dir(env);
    if !dir.is_dir() {
        return Err(Failure::usage(format!(
            "environment `{}`: folder {} does not exist",
            env.name, env.path
        )));
    }
    let set = render::render(&settings.repo_root, &dir).map_err(Failure::findings)?;
    register_secret_values(&set);
    if let Some(d) = set.duplicate_keys.first() {
        return Err(Failure::findings(format!(
            "{}: duplicate key `{}` (first at line {}); Kubernetes would keep only one of them, remove one",
            set.sources.describe(d.again),
            d.key,
            d.first.line
        )));
    }
    Ok(set)
}

/// Registers every Secret value of a render with the redactor, so that no message, error or
/// report of diff, apply or ci can show one (short values are left alone: they would hide
/// common words).
pub fn register_secret_values(set: &RenderedSet) {
    for o in set
        .objects
        .iter()
        .filter(|o| o.kind() == "Secret" && o.group().is_empty())
    {
        for v in plan::secret_values(&o.node.to_json()) {
            if v.trim().len() >= 8 {
                crate::redact::register(&v);
            }
        }
    }
}

pub fn connect_options(env: &Environment, concurrency: usize) -> ConnectOptions {
    ConnectOptions {
        context: env.context.clone(),
        server: env.server.clone(),
        concurrency,
        retry: None,
    }
}

pub fn observe_options(
    env: &Environment,
    cluster: &cluster::Cluster,
    force_conflicts: bool,
    extra_prune_kinds: &[String],
) -> ObserveOptions {
    let mut prune_kinds = env.prune_kinds.clone();
    prune_kinds.extend(extra_prune_kinds.iter().cloned());
    ObserveOptions {
        environment: env.name.clone(),
        inventory_namespace: env.inventory_namespace.clone(),
        default_namespace: cluster.default_namespace.clone(),
        prune_kinds,
        force_conflicts,
    }
}

/// Observes the cluster and plans; read-only.
pub async fn plan_against_cluster(
    env: &Environment,
    set: &RenderedSet,
    concurrency: usize,
    force_conflicts: bool,
) -> Result<Plan, Failure> {
    let cluster = cluster::connect(&connect_options(env, concurrency)).await?;
    let live = cluster::observe(
        &cluster,
        set,
        &observe_options(env, &cluster, force_conflicts, &[]),
    )
    .await?;
    Ok(plan::build(&env.name, live.observations))
}

fn identity(id: &ObjectRef) -> (String, String, Option<String>, String) {
    (
        id.group.to_string(),
        id.kind.to_string(),
        id.namespace.as_ref().map(|n| n.to_string()),
        id.name.to_string(),
    )
}

/// Renders the environment at `rev` and plans the change from it to the working tree.
pub fn plan_against_revision(
    settings: &Settings,
    env: &Environment,
    new: &RenderedSet,
    rev: &str,
) -> Result<Plan, Failure> {
    let top = crate::git::top_level(&settings.repo_root).ok_or_else(|| {
        Failure::usage(format!(
            "{} is not inside a git repository; --against needs one",
            settings.repo_root.display()
        ))
    })?;
    let export = crate::git::export(&top, rev).map_err(Failure::usage)?;
    let prefix = settings
        .repo_root
        .strip_prefix(&top)
        .unwrap_or(Path::new(""));
    let old_root = export.path().join(prefix);
    let old_dir = old_root.join(&env.path);
    let old = if old_dir.is_dir() {
        render::render(&old_root, &old_dir)
            .map_err(|e| Failure::findings(format!("rendering `{}` at {rev}: {e}", env.name)))?
    } else {
        RenderedSet::default()
    };
    register_secret_values(&old);
    let mut before: HashMap<_, serde_json::Value> = old
        .objects
        .iter()
        .map(|o| (identity(&o.id()), o.node.to_json()))
        .collect();
    let mut observations = Vec::new();
    for (i, o) in new.objects.iter().enumerate() {
        let id = o.id();
        let current = before.remove(&identity(&id));
        observations.push(Observation {
            source: Some(cluster::observe::source_of(&new.sources, o)),
            id,
            rendered: Some(i),
            current,
            desired: Desired::Object(o.node.to_json()),
        });
    }
    for o in &old.objects {
        if let Some(current) = before.remove(&identity(&o.id())) {
            observations.push(Observation {
                id: o.id(),
                rendered: None,
                source: None,
                current: Some(current),
                desired: Desired::Remove { keep: None },
            });
        }
    }
    Ok(plan::build(&env.name, observations))
}
