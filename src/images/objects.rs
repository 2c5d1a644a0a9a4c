//! Flux's ImageRepository and ImagePolicy objects, read from the repository.
//!
//! Owns: recognizing `image.toolkit.fluxcd.io` objects (v1beta1, v1beta2 and v1 shapes; the
//! fields kubeship uses are the same in all three), reading their specs from positioned
//! nodes, and the [`Catalog`] of them by `namespace/name`. An object's namespace is the one it
//! has after rendering an environment (so a kustomization's `namespace:` counts), else its
//! `metadata.namespace`, else `default`.
//! Must not: read files, render, or talk to registries.

use std::collections::BTreeMap;
use std::fmt;

use crate::manifest::Node;

use super::policy::ChoiceSpec;

pub const GROUP: &str = "image.toolkit.fluxcd.io";

/// `namespace/name` of a Flux object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub namespace: String,
    pub name: String,
}

impl Key {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Key {
        Key {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// An ImageRepository as kubeship uses it.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageRepository {
    pub key: Key,
    /// `path:line` of its document.
    pub location: String,
    pub image: Option<String>,
    /// `spec.exclusionList`, with Flux's default `^.*\.sig$` when empty.
    pub exclusion_list: Vec<String>,
    pub insecure: bool,
    pub provider: Option<String>,
    pub secret_ref: Option<String>,
    pub timeout: Option<String>,
    pub suspend: bool,
    /// Fields that need the cluster and are ignored in CI (`certSecretRef`, ...).
    pub ignored: Vec<&'static str>,
}

/// The digest reflection policy of a v1 ImagePolicy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DigestReflection {
    Never,
    IfNotPresent,
    Always,
}

/// An ImagePolicy as kubeship uses it.
#[derive(Clone, Debug, PartialEq)]
pub struct ImagePolicy {
    pub key: Key,
    pub location: String,
    /// `spec.imageRepositoryRef` (its namespace defaults to the policy's).
    pub repository: Key,
    /// The policy choice, or why it cannot be read.
    pub choice: Result<ChoiceSpec, String>,
    pub pattern: Option<String>,
    pub extract: Option<String>,
    pub digest_reflection: Result<DigestReflection, String>,
    pub suspend: bool,
}

/// One of the two kinds, read from a node.
#[derive(Clone, Debug, PartialEq)]
pub enum FluxObject {
    Repository(ImageRepository),
    Policy(ImagePolicy),
}

impl FluxObject {
    pub fn key(&self) -> &Key {
        match self {
            FluxObject::Repository(r) => &r.key,
            FluxObject::Policy(p) => &p.key,
        }
    }

    pub fn location(&self) -> &str {
        match self {
            FluxObject::Repository(r) => &r.location,
            FluxObject::Policy(p) => &p.location,
        }
    }
}

fn text(node: &Node, keys: &[&str]) -> Option<String> {
    node.path_name(keys)
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

fn flag(node: &Node, keys: &[&str]) -> bool {
    node.path(keys).and_then(Node::as_bool).unwrap_or(false)
}

/// Reads an ImageRepository or ImagePolicy; `None` for anything else. `namespace` is the
/// namespace to use when the object has none.
pub fn read(node: &Node, namespace: Option<&str>, location: String) -> Option<FluxObject> {
    let api_version = node.path_name(&["apiVersion"])?;
    let group = api_version.split('/').next().unwrap_or("");
    if group != GROUP {
        return None;
    }
    let kind = node.path_name(&["kind"])?;
    let name = node.path_name(&["metadata", "name"])?.to_string();
    let ns = node
        .path_name(&["metadata", "namespace"])
        .filter(|s| !s.is_empty())
        .or(namespace)
        .unwrap_or("default")
        .to_string();
    let key = Key::new(ns.clone(), name);
    match kind {
        "ImageRepository" => {
            let mut exclusion_list: Vec<String> = node
                .path(&["spec", "exclusionList"])
                .map(|l| {
                    l.items()
                        .iter()
                        .filter_map(|i| i.as_name().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if exclusion_list.is_empty() {
                exclusion_list.push(r"^.*\.sig$".to_string());
            }
            let ignored = ["certSecretRef", "proxySecretRef", "serviceAccountName"]
                .into_iter()
                .filter(|f| node.path(&["spec", f]).is_some_and(|n| !n.is_null()))
                .collect();
            Some(FluxObject::Repository(ImageRepository {
                key,
                location,
                image: text(node, &["spec", "image"]),
                exclusion_list,
                insecure: flag(node, &["spec", "insecure"]),
                provider: text(node, &["spec", "provider"]),
                secret_ref: text(node, &["spec", "secretRef", "name"]),
                timeout: text(node, &["spec", "timeout"]),
                suspend: flag(node, &["spec", "suspend"]),
                ignored,
            }))
        }
        "ImagePolicy" => {
            let repo_name = text(node, &["spec", "imageRepositoryRef", "name"]).unwrap_or_default();
            let repo_ns =
                text(node, &["spec", "imageRepositoryRef", "namespace"]).unwrap_or(ns.clone());
            let spec_policy = node.path(&["spec", "policy"]);
            let has = |k: &str| spec_policy.and_then(|p| p.get(k)).is_some();
            let choice = match (has("semver"), has("alphabetical"), has("numerical")) {
                (true, false, false) => match text(node, &["spec", "policy", "semver", "range"]) {
                    Some(range) => Ok(ChoiceSpec::SemVer { range }),
                    None => Err("spec.policy.semver.range is missing".to_string()),
                },
                (false, true, false) => Ok(ChoiceSpec::Alphabetical {
                    order: text(node, &["spec", "policy", "alphabetical", "order"]),
                }),
                (false, false, true) => Ok(ChoiceSpec::Numerical {
                    order: text(node, &["spec", "policy", "numerical", "order"]),
                }),
                (false, false, false) => {
                    Err("spec.policy needs one of semver, alphabetical or numerical".to_string())
                }
                _ => Err(
                    "spec.policy has more than one of semver, alphabetical and numerical; keep one"
                        .to_string(),
                ),
            };
            let digest_reflection = match node
                .path_name(&["spec", "digestReflectionPolicy"])
                .unwrap_or("Never")
            {
                "Never" | "" => Ok(DigestReflection::Never),
                "IfNotPresent" => Ok(DigestReflection::IfNotPresent),
                "Always" => Ok(DigestReflection::Always),
                other => Err(format!(
                    "spec.digestReflectionPolicy is `{other}`; use Never, IfNotPresent or Always"
                )),
            };
            let filter = node.path(&["spec", "filterTags"]);
            Some(FluxObject::Policy(ImagePolicy {
                key,
                location,
                repository: Key::new(repo_ns, repo_name),
                choice,
                pattern: filter
                    .and_then(|f| f.get("pattern"))
                    .and_then(|p| p.text().map(str::to_string)),
                extract: filter
                    .and_then(|f| f.get("extract"))
                    .and_then(|p| p.text().map(str::to_string))
                    .filter(|s| !s.is_empty()),
                digest_reflection,
                suspend: flag(node, &["spec", "suspend"]),
            }))
        }
        _ => None,
    }
}

/// Every ImageRepository and ImagePolicy, by `namespace/name`.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub repositories: BTreeMap<Key, ImageRepository>,
    pub policies: BTreeMap<Key, ImagePolicy>,
    /// Same `namespace/name` defined twice with different specs, and the like.
    pub warnings: Vec<String>,
}

impl Catalog {
    /// Adds an object; the first definition of a `namespace/name` wins.
    pub fn add(&mut self, object: FluxObject) {
        match object {
            FluxObject::Repository(r) => match self.repositories.get(&r.key) {
                Some(first) if first.location != r.location && !same_repository(first, &r) => {
                    self.warnings.push(format!(
                        "ImageRepository {} is defined at {} and again, differently, at {}; using the first",
                        r.key, first.location, r.location
                    ));
                }
                Some(_) => {}
                None => {
                    self.repositories.insert(r.key.clone(), r);
                }
            },
            FluxObject::Policy(p) => match self.policies.get(&p.key) {
                Some(first) if first.location != p.location && !same_policy(first, &p) => {
                    self.warnings.push(format!(
                        "ImagePolicy {} is defined at {} and again, differently, at {}; using the first",
                        p.key, first.location, p.location
                    ));
                }
                Some(_) => {}
                None => {
                    self.policies.insert(p.key.clone(), p);
                }
            },
        }
    }
}

fn same_repository(a: &ImageRepository, b: &ImageRepository) -> bool {
    ImageRepository {
        location: String::new(),
        ..a.clone()
    } == ImageRepository {
        location: String::new(),
        ..b.clone()
    }
}

fn same_policy(a: &ImagePolicy, b: &ImagePolicy) -> bool {
    ImagePolicy {
        location: String::new(),
        ..a.clone()
    } == ImagePolicy {
        location: String::new(),
        ..b.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::FileId;
    use crate::manifest::yaml::parse_stream;

    fn objects(text: &str, ns: Option<&str>) -> Vec<FluxObject> {
        parse_stream(text, FileId(1))
            .unwrap()
            .into_iter()
            .filter_map(|d| d.root)
            .filter_map(|r| read(&r, ns, "f.yaml:1".into()))
            .collect()
    }

    #[test]
    fn reads_v1beta2_and_v1_shapes() {
        let objs = objects(
            r#"apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata: {name: app, namespace: flux-system}
spec:
  image: ghcr.io/org/app
  interval: 5m
  secretRef: {name: ghcr-auth}
  insecure: true
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata: {name: app}
spec:
  imageRepositoryRef: {name: app, namespace: flux-system}
  filterTags: {pattern: '^main-(?P<ts>\d+)$', extract: '$ts'}
  policy: {numerical: {order: asc}}
  digestReflectionPolicy: Always
  interval: 10m
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
"#,
            Some("team"),
        );
        assert_eq!(objs.len(), 2);
        let FluxObject::Repository(r) = &objs[0] else {
            panic!("{objs:?}")
        };
        assert_eq!(r.key, Key::new("flux-system", "app"));
        assert_eq!(r.exclusion_list, vec![r"^.*\.sig$".to_string()]);
        assert!(r.insecure);
        assert_eq!(r.secret_ref.as_deref(), Some("ghcr-auth"));
        let FluxObject::Policy(p) = &objs[1] else {
            panic!("{objs:?}")
        };
        assert_eq!(p.key, Key::new("team", "app"));
        assert_eq!(p.repository, Key::new("flux-system", "app"));
        assert_eq!(
            p.choice,
            Ok(ChoiceSpec::Numerical {
                order: Some("asc".into())
            })
        );
        assert_eq!(p.extract.as_deref(), Some("$ts"));
        assert_eq!(p.digest_reflection, Ok(DigestReflection::Always));
    }

    #[test]
    fn policy_problems_are_kept_as_data() {
        let objs = objects(
            "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata: {name: p}\nspec:\n  imageRepositoryRef: {name: r}\n  policy: {}\n",
            None,
        );
        let FluxObject::Policy(p) = &objs[0] else {
            panic!()
        };
        assert_eq!(p.key.namespace, "default");
        assert_eq!(p.repository, Key::new("default", "r"));
        assert!(p.choice.is_err());
    }
}
