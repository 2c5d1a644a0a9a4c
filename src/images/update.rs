//! Planning and writing an image update: policies -> registry tags -> marker edits.
//!
//! Owns: finding the repository's Flux image objects (rendering every environment so that a
//! kustomization's `namespace:` counts) and its setter markers (every YAML file of the
//! repository, or only the files an environment renders from), checking that every marker
//! points at a policy that can be evaluated, scanning each referenced ImageRepository once,
//! choosing the latest tag per policy, resolving digests where a marker or the policy asks for
//! one, and computing the new file contents. [`write`] writes them, refusing files that
//! changed since they were read.
//! Must not: print, commit, or touch files outside the repository root.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;

use crate::exit::Exit;
use crate::manifest::FileId;
use crate::manifest::yaml::parse_stream;
use crate::render::{self, RenderedSet};
use crate::settings::{Environment, Settings, parse_duration};

use super::markers::{self, Marker, Setter};
use super::objects::{self, Catalog, DigestReflection, Key};
use super::policy::{Policy, Selection, compile_exclusions, exclude};
use super::reference::ImageName;
use super::registry::{RegistryClient, RegistryError, Target};
use super::{ImagesError, Problem};

/// One marked value that changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// Path relative to the repository root, `/`-separated.
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub policy: Key,
    /// The marker as written (`flux-system:app:tag`).
    pub reference: String,
    pub setter: Setter,
    pub old: String,
    pub new: String,
}

/// A file's content before and after the update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    pub original: String,
    pub updated: String,
}

/// What a policy chose, or why it chose nothing.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// The latest tag, and its digest when a marker or the policy needs it.
    Latest { tag: String, digest: Option<String> },
    /// No tag qualifies (yet); markers stay as they are.
    NoMatch(String),
    /// `spec.suspend: true` on the policy or its repository.
    Suspended(String),
    /// The policy cannot order the tags (a numerical policy over words): fix the policy.
    Failed(String),
    /// The registry could not be read after retries, or refused access.
    Registry(RegistryError),
}

/// One policy referenced by at least one marker.
#[derive(Clone, Debug)]
pub struct PolicyResult {
    pub policy: Key,
    /// `path:line` of the ImagePolicy.
    pub location: String,
    /// `spec.image` of its ImageRepository.
    pub image: String,
    pub markers: usize,
    /// Whether markers write `NAME:TAG@DIGEST` (digest reflection `Always` / `IfNotPresent`).
    pub reflects_digest: bool,
    pub outcome: Outcome,
}

/// Everything `images update` found and would change.
#[derive(Clone, Debug)]
pub struct UpdatePlan {
    pub repo_root: PathBuf,
    pub environment: Option<String>,
    /// Markers seen in the files considered.
    pub markers: usize,
    pub policies: Vec<PolicyResult>,
    /// Sorted by file, then line.
    pub updates: Vec<Update>,
    pub files: Vec<FileChange>,
    /// For humans: things that were skipped or look doubtful.
    pub warnings: Vec<String>,
}

impl UpdatePlan {
    pub fn is_empty(&self) -> bool {
        self.updates.is_empty()
    }

    pub fn registry_failures(&self) -> impl Iterator<Item = (&PolicyResult, &RegistryError)> {
        self.policies.iter().filter_map(|p| match &p.outcome {
            Outcome::Registry(e) => Some((p, e)),
            _ => None,
        })
    }

    /// 3 when a registry failed, 1 when a policy cannot be applied, else 0.
    pub fn exit(&self) -> Exit {
        let mut exit = Exit::Success;
        for p in &self.policies {
            match p.outcome {
                Outcome::Registry(_) => exit = exit.max(Exit::Incomplete),
                Outcome::Failed(_) => exit = exit.max(Exit::Findings),
                _ => {}
            }
        }
        exit
    }
}

/// Every YAML file of the repository (`*.yaml`, `*.yml`, `Kustomization`), relative and sorted;
/// hidden folders and symbolic links are skipped.
fn yaml_files(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            if meta.is_dir() {
                walk(root, &e.path(), out);
            } else if meta.is_file()
                && (name.ends_with(".yaml") || name.ends_with(".yml") || name == "Kustomization")
                && let Ok(rel) = e.path().strip_prefix(root)
            {
                out.push(
                    rel.components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/"),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

/// Reads a file that may hold `token`; `Ok(None)` when it does not.
fn read_if_contains(root: &Path, rel: &str, token: &str) -> Result<Option<String>, Problem> {
    let bytes = std::fs::read(root.join(rel))
        .map_err(|e| Problem::new(rel, format!("cannot read the file: {e}")))?;
    if !bytes.windows(token.len()).any(|w| w == token.as_bytes()) {
        return Ok(None);
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| Problem::new(rel, "the file is not UTF-8 text; YAML must be UTF-8"))
}

fn environments_in_order<'a>(
    settings: &'a Settings,
    first: Option<&'a Environment>,
) -> Vec<&'a Environment> {
    let mut order: Vec<&Environment> = first.into_iter().collect();
    order.extend(
        settings
            .environments
            .iter()
            .filter(|e| first.is_none_or(|f| f.name != e.name)),
    );
    order
}

/// Renders, collects objects and markers, asks the registries, and computes the edits.
pub async fn plan(
    settings: &Settings,
    env: Option<&str>,
    client: &RegistryClient,
) -> Result<UpdatePlan, ImagesError> {
    let root = settings.repo_root.canonicalize().map_err(|e| {
        ImagesError::Config(format!(
            "cannot open the repository root {}: {e}",
            settings.repo_root.display()
        ))
    })?;
    let selected = match env {
        Some(name) => Some(
            settings
                .environment(name)
                .map_err(|e| ImagesError::Config(e.to_string()))?,
        ),
        None => None,
    };
    let mut warnings = Vec::new();
    let mut problems = Vec::new();

    // 1. Render environments (the selected one first): namespaces, and its file list.
    let mut renders: Vec<(String, RenderedSet)> = Vec::new();
    for e in environments_in_order(settings, selected) {
        let is_selected = selected.is_some_and(|s| s.name == e.name);
        let dir = settings.env_dir(e);
        if !dir.is_dir() {
            if is_selected {
                return Err(ImagesError::Config(format!(
                    "environment `{}`: folder {} does not exist",
                    e.name, e.path
                )));
            }
            continue;
        }
        match render::render(&root, &dir) {
            Ok(set) => renders.push((e.name.clone(), set)),
            Err(err) if is_selected => {
                return Err(ImagesError::Repository(vec![Problem {
                    location: err.location.clone(),
                    message: format!(
                        "environment `{}` does not render: {}",
                        e.name, err.message
                    ),
                }]));
            }
            Err(err) => warnings.push(format!(
                "environment `{}` does not render ({err}); its image objects keep their metadata.namespace (or `default`)",
                e.name
            )),
        }
    }

    // 2. The catalog of ImageRepository and ImagePolicy objects.
    let mut catalog = Catalog::default();
    let mut rendered_docs: HashSet<(String, u32)> = HashSet::new();
    for (_, set) in &renders {
        for obj in &set.objects {
            let path = set.sources.path(obj.origin.file).to_string();
            let location = format!("{path}:{}", obj.origin.line);
            if let Some(o) = objects::read(&obj.node, None, location) {
                rendered_docs.insert((path, obj.origin.line));
                catalog.add(o);
            }
        }
    }
    let files = yaml_files(&root);
    for rel in &files {
        let text = match read_if_contains(&root, rel, objects::GROUP) {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(p) => {
                warnings.push(p.to_string());
                continue;
            }
        };
        let docs = match parse_stream(&text, FileId(1)) {
            Ok(d) => d,
            Err(e) => {
                // Templates (Helm charts) mention the group without being YAML; a policy
                // that only lives in such a file shows up as missing when a marker needs it.
                warnings.push(format!(
                    "{rel}:{}: not read for image objects: {}",
                    e.pos.line, e.message
                ));
                continue;
            }
        };
        for d in docs {
            let Some(node) = d.root else { continue };
            if rendered_docs.contains(&(rel.clone(), d.line)) {
                continue;
            }
            if let Some(o) = objects::read(&node, None, format!("{rel}:{}", d.line)) {
                catalog.add(o);
            }
        }
    }
    warnings.append(&mut catalog.warnings);

    // 3. Markers.
    let marker_files: Vec<String> = match selected {
        None => files.clone(),
        Some(_) => match renders.first() {
            Some((_, set)) => {
                let mut paths: BTreeSet<String> = BTreeSet::new();
                for i in 1..=set.sources.len() {
                    let p = set.sources.path(FileId(i as u32));
                    if root.join(p).is_file() {
                        paths.insert(p.to_string());
                    }
                }
                paths.into_iter().collect()
            }
            None => Vec::new(),
        },
    };
    let mut found: Vec<(String, String, Vec<Marker>)> = Vec::new();
    let mut marker_count = 0;
    for rel in &marker_files {
        let text = match read_if_contains(&root, rel, markers::TOKEN) {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        let (ms, ps) = markers::find(&text);
        problems.extend(
            ps.into_iter()
                .map(|p| Problem::new(format!("{rel}:{}", p.line), p.message)),
        );
        for m in &ms {
            if !catalog.policies.contains_key(&m.policy) {
                problems.push(Problem::new(
                    format!("{rel}:{}", m.line),
                    format!(
                        "marker `{}` refers to ImagePolicy {}, which is not in the repository; {}",
                        m.reference,
                        m.policy,
                        known_policies(&catalog)
                    ),
                ));
            }
        }
        marker_count += ms.len();
        if !ms.is_empty() {
            found.push((rel.clone(), text, ms));
        }
    }

    // 4. Every referenced policy must be usable before any registry is asked.
    let mut marker_uses: BTreeMap<Key, usize> = BTreeMap::new();
    let mut needs_digest: HashSet<Key> = HashSet::new();
    for (_, _, ms) in &found {
        for m in ms {
            *marker_uses.entry(m.policy.clone()).or_default() += 1;
            if m.setter == Setter::Digest {
                needs_digest.insert(m.policy.clone());
            }
        }
    }
    struct Ready {
        policy: Policy,
        repository: Key,
    }
    let mut ready: BTreeMap<Key, Ready> = BTreeMap::new();
    let mut results: BTreeMap<Key, PolicyResult> = BTreeMap::new();
    let mut targets: BTreeMap<Key, (Target, Vec<regex::Regex>)> = BTreeMap::new();
    for (key, uses) in &marker_uses {
        let Some(p) = catalog.policies.get(key) else {
            continue;
        };
        let at = |m: String| Problem::new(p.location.clone(), format!("ImagePolicy {key}: {m}"));
        let compiled = match &p.choice {
            Ok(choice) => Policy::new(choice, p.pattern.as_deref(), p.extract.as_deref()),
            Err(e) => Err(e.clone()),
        };
        let reflection = p.digest_reflection.clone();
        let repo = catalog.repositories.get(&p.repository);
        let mut result = PolicyResult {
            policy: key.clone(),
            location: p.location.clone(),
            image: repo.and_then(|r| r.image.clone()).unwrap_or_default(),
            markers: *uses,
            reflects_digest: false,
            outcome: Outcome::NoMatch(String::new()),
        };
        let (compiled, reflection) = match (compiled, reflection) {
            (Ok(c), Ok(r)) => (c, r),
            (Err(e), _) | (_, Err(e)) => {
                problems.push(at(e));
                continue;
            }
        };
        if reflection != DigestReflection::Never {
            result.reflects_digest = true;
            needs_digest.insert(key.clone());
        }
        let Some(repo) = repo else {
            problems.push(at(format!(
                "spec.imageRepositoryRef names ImageRepository {}, which is not in the repository",
                p.repository
            )));
            continue;
        };
        let rat = |m: String| {
            Problem::new(
                repo.location.clone(),
                format!("ImageRepository {}: {m}", repo.key),
            )
        };
        let name = match repo.image.as_deref().map(ImageName::parse) {
            Some(Ok(n)) => n,
            Some(Err(e)) => {
                problems.push(rat(e));
                continue;
            }
            None => {
                problems.push(rat("spec.image is missing".to_string()));
                continue;
            }
        };
        let exclusions = match compile_exclusions(&repo.exclusion_list) {
            Ok(x) => x,
            Err(e) => {
                problems.push(rat(e));
                continue;
            }
        };
        let timeout: Option<Duration> = match repo.timeout.as_deref().map(parse_duration) {
            None => None,
            Some(Ok(d)) => Some(d.max(Duration::from_secs(1))),
            Some(Err(e)) => {
                problems.push(rat(format!("spec.timeout: {e}")));
                continue;
            }
        };
        if p.suspend || repo.suspend {
            let which = if p.suspend {
                format!("ImagePolicy {key}")
            } else {
                format!("ImageRepository {}", repo.key)
            };
            result.outcome = Outcome::Suspended(format!("{which} has spec.suspend: true"));
            results.insert(key.clone(), result);
            continue;
        }
        if let Some(provider) = repo.provider.as_deref().filter(|p| *p != "generic")
            && !targets.contains_key(&repo.key)
        {
            warnings.push(format!(
                "ImageRepository {} ({}) uses provider `{provider}`: in CI kubeship uses the Docker config or KUBESHIP_REGISTRY_* variables; log in first (docs/images.md)",
                repo.key, repo.location
            ));
        }
        if !repo.ignored.is_empty() && !targets.contains_key(&repo.key) {
            warnings.push(format!(
                "ImageRepository {} ({}): {} need the cluster and are ignored in CI",
                repo.key,
                repo.location,
                repo.ignored.join(", ")
            ));
        }
        targets.entry(repo.key.clone()).or_insert_with(|| {
            (
                Target {
                    name,
                    insecure: repo.insecure,
                    secret_ref: repo.secret_ref.clone(),
                    timeout,
                },
                exclusions,
            )
        });
        results.insert(key.clone(), result);
        ready.insert(
            key.clone(),
            Ready {
                policy: compiled,
                repository: repo.key.clone(),
            },
        );
    }
    if !problems.is_empty() {
        problems.sort_by(|a, b| a.location.cmp(&b.location));
        problems.dedup();
        return Err(ImagesError::Repository(problems));
    }

    // 5. Scan each repository once, concurrently.
    let concurrency = client.options().concurrency;
    let scans: HashMap<Key, Result<Vec<String>, RegistryError>> =
        futures::stream::iter(targets.iter())
            .map(|(key, (target, exclusions))| async move {
                let tags = client
                    .list_tags(target)
                    .await
                    .map(|t| exclude(t, exclusions));
                (key.clone(), tags)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;

    // 6. Choose, then resolve the digests that are needed.
    let mut digest_jobs: Vec<(Key, Key, String)> = Vec::new();
    for (key, r) in &ready {
        let Some(result) = results.get_mut(key) else {
            continue;
        };
        result.outcome = match scans.get(&r.repository) {
            Some(Ok(tags)) => match r.policy.select(tags) {
                Ok(Selection::Latest(tag)) => {
                    if needs_digest.contains(key) {
                        digest_jobs.push((key.clone(), r.repository.clone(), tag.clone()));
                    }
                    Outcome::Latest { tag, digest: None }
                }
                Ok(Selection::NoMatch(why)) => Outcome::NoMatch(why),
                Err(e) => Outcome::Failed(e),
            },
            Some(Err(e)) => Outcome::Registry(e.clone()),
            None => Outcome::NoMatch("the repository was not scanned".to_string()),
        };
    }
    let digests: Vec<(Key, Result<String, RegistryError>)> =
        futures::stream::iter(digest_jobs.iter())
            .map(|(key, repo, tag)| {
                let target = targets.get(repo).map(|(t, _)| t);
                async move {
                    let d = match target {
                        Some(t) => client.digest(t, tag).await,
                        None => Ok(String::new()),
                    };
                    (key.clone(), d)
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
    for (key, d) in digests {
        if let Some(result) = results.get_mut(&key) {
            match d {
                Ok(d) => {
                    if let Outcome::Latest { digest, .. } = &mut result.outcome {
                        *digest = Some(d);
                    }
                }
                Err(e) => result.outcome = Outcome::Registry(e),
            }
        }
    }

    // 7. The edits.
    let mut updates = Vec::new();
    let mut changes = Vec::new();
    for (rel, text, ms) in &found {
        let mut edits: Vec<(&Marker, String)> = Vec::new();
        for m in ms {
            let Some(result) = results.get(&m.policy) else {
                continue;
            };
            let Outcome::Latest { tag, digest } = &result.outcome else {
                continue;
            };
            let new = match (m.setter, digest) {
                (Setter::Image, Some(d)) if result.reflects_digest => {
                    format!("{}:{tag}@{d}", result.image)
                }
                (Setter::Image, _) => format!("{}:{tag}", result.image),
                (Setter::Tag, _) => tag.clone(),
                (Setter::Name, _) => result.image.clone(),
                (Setter::Digest, Some(d)) => d.clone(),
                (Setter::Digest, None) => continue,
            };
            if new != m.value {
                updates.push(Update {
                    file: rel.clone(),
                    line: m.line,
                    column: m.column,
                    policy: m.policy.clone(),
                    reference: m.reference.clone(),
                    setter: m.setter,
                    old: m.value.clone(),
                    new: new.clone(),
                });
                edits.push((m, new));
            }
        }
        if edits.is_empty() {
            continue;
        }
        let refs: Vec<(&Marker, &str)> = edits.iter().map(|(m, n)| (*m, n.as_str())).collect();
        let updated = markers::apply(text, &refs)
            .map_err(|e| ImagesError::Repository(vec![Problem::new(rel.clone(), e)]))?;
        changes.push(FileChange {
            path: rel.clone(),
            original: text.clone(),
            updated,
        });
    }
    updates.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));

    Ok(UpdatePlan {
        repo_root: root,
        environment: selected.map(|e| e.name.clone()),
        markers: marker_count,
        policies: results.into_values().collect(),
        updates,
        files: changes,
        warnings,
    })
}

fn known_policies(catalog: &Catalog) -> String {
    if catalog.policies.is_empty() {
        return "the repository has no ImagePolicy at all (apiVersion image.toolkit.fluxcd.io/*)"
            .to_string();
    }
    let names: Vec<String> = catalog
        .policies
        .keys()
        .take(10)
        .map(|k| format!("{}:{}", k.namespace, k.name))
        .collect();
    let more = if catalog.policies.len() > 10 {
        ", ..."
    } else {
        ""
    };
    format!(
        "check the namespace and name (known: {}{more})",
        names.join(", ")
    )
}

/// Writes the changed files; each must still hold what the plan read.
pub fn write(plan: &UpdatePlan) -> Result<Vec<String>, ImagesError> {
    // Check every file before writing any.
    for f in &plan.files {
        let path = plan.repo_root.join(&f.path);
        let current = std::fs::read_to_string(&path)
            .map_err(|e| ImagesError::Write(format!("{}: cannot read: {e}", f.path)))?;
        if current != f.original && current != f.updated {
            return Err(ImagesError::Write(format!(
                "{} changed since it was read; nothing was written, run again",
                f.path
            )));
        }
    }
    let mut written = Vec::new();
    for f in &plan.files {
        let path = plan.repo_root.join(&f.path);
        write_atomically(&path, &f.updated)
            .map_err(|e| ImagesError::Write(format!("{}: cannot write: {e}", f.path)))?;
        written.push(f.path.clone());
    }
    Ok(written)
}

/// Writes next to the file, then renames over it, keeping its permissions.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.kubeship-{}", std::process::id()));
    let perms = std::fs::metadata(path).map(|m| m.permissions()).ok();
    std::fs::write(&tmp, text)?;
    if let Some(p) = perms {
        let _ = std::fs::set_permissions(&tmp, p);
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
