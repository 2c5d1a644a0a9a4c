//! The environment's inventory: a KEP-3659 ApplySet, readable by any ApplySet-aware tool.
//!
//! Owns: the parent Secret (`kubeship-ENV` in the inventory namespace) with its
//! `applyset.kubernetes.io/id` label computed by the spec's formula, the `tooling`,
//! `contains-group-kinds` and `additional-namespaces` annotations, the member label
//! `applyset.kubernetes.io/part-of`, and listing the members found in the cluster.
//! Must not: decide what to prune (see `plan` and `execute`).

use std::collections::BTreeSet;

use base64::Engine as _;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use super::api::{Api, ApiError};
use super::discovery::Discovery;

pub const ID_LABEL: &str = "applyset.kubernetes.io/id";
pub const PART_OF_LABEL: &str = "applyset.kubernetes.io/part-of";
pub const TOOLING: &str = "applyset.kubernetes.io/tooling";
pub const GROUP_KINDS: &str = "applyset.kubernetes.io/contains-group-kinds";
pub const NAMESPACES: &str = "applyset.kubernetes.io/additional-namespaces";
pub const PRUNE_ANNOTATION: &str = "kubeship.io/prune";

/// The ApplySet of one environment.
#[derive(Clone, Debug, PartialEq)]
pub struct ApplySet {
    pub name: String,
    pub namespace: String,
    pub id: String,
}

impl ApplySet {
    pub fn for_environment(env: &str, namespace: &str) -> ApplySet {
        let name = format!("kubeship-{env}");
        let id = applyset_id(&name, namespace, "Secret", "");
        ApplySet {
            name,
            namespace: namespace.to_string(),
            id,
        }
    }

    pub fn parent_path(&self) -> String {
        format!(
            "/api/v1/namespaces/{}/secrets/{}",
            self.namespace, self.name
        )
    }

    /// The parent Secret as kubeship applies it.
    pub fn parent(&self, group_kinds: &BTreeSet<String>, namespaces: &BTreeSet<String>) -> Json {
        let other: Vec<&str> = namespaces
            .iter()
            .map(String::as_str)
            .filter(|ns| *ns != self.namespace)
            .collect();
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": { ID_LABEL: self.id },
                "annotations": {
                    TOOLING: format!("kubeship/v{}", env!("CARGO_PKG_VERSION")),
                    GROUP_KINDS: group_kinds.iter().cloned().collect::<Vec<_>>().join(","),
                    NAMESPACES: other.join(","),
                }
            },
            "type": "Opaque"
        })
    }
}

/// KEP-3659: `applyset-<base64url(sha256(name.namespace.kind.group))>-v1`.
pub fn applyset_id(name: &str, namespace: &str, kind: &str, group: &str) -> String {
    let digest = Sha256::digest(format!("{name}.{namespace}.{kind}.{group}").as_bytes());
    format!(
        "applyset-{}-v1",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    )
}

/// `Kind.group`, or `Kind` for the core group, as the annotation lists them.
pub fn group_kind(group: &str, kind: &str) -> String {
    if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    }
}

pub fn parse_group_kind(s: &str) -> (String, String) {
    match s.split_once('.') {
        Some((k, g)) => (g.to_string(), k.to_string()),
        None => (String::new(), s.to_string()),
    }
}

/// What the parent Secret currently records.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    pub exists: bool,
    pub group_kinds: BTreeSet<String>,
    pub namespaces: BTreeSet<String>,
}

pub async fn read_parent(api: &Api, set: &ApplySet) -> Result<Recorded, ApiError> {
    match api.get(&set.parent_path()).await {
        Ok(secret) => {
            let ann = |k: &str| {
                secret
                    .pointer(&format!("/metadata/annotations/{}", k.replace('/', "~1")))
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect::<BTreeSet<_>>()
            };
            let mut namespaces = ann(NAMESPACES);
            namespaces.insert(set.namespace.clone());
            Ok(Recorded {
                exists: true,
                group_kinds: ann(GROUP_KINDS),
                namespaces,
            })
        }
        Err(e) if e.is_not_found() => Ok(Recorded::default()),
        Err(e) => Err(e),
    }
}

/// Lists the objects labelled as members, for the given group-kinds in the given namespaces.
pub async fn list_members(
    api: &Api,
    discovery: &Discovery,
    set: &ApplySet,
    group_kinds: &BTreeSet<String>,
    namespaces: &BTreeSet<String>,
) -> Result<Vec<Json>, ApiError> {
    let selector = format!("{PART_OF_LABEL}={}", set.id);
    let mut collections = Vec::new();
    for gk in group_kinds {
        let (group, kind) = parse_group_kind(gk);
        let Some(res) = discovery.any_version(&group, &kind) else {
            continue;
        };
        if res.namespaced {
            collections.extend(namespaces.iter().map(|ns| res.collection(Some(ns))));
        } else {
            collections.push(res.collection(None));
        }
    }
    let lists =
        futures::future::join_all(collections.iter().map(|c| api.list_all(c, Some(&selector))))
            .await;
    let mut out = Vec::new();
    for list in lists {
        match list {
            Ok(items) => out.extend(items),
            // A namespace that is gone, or a kind we may not list: nothing of ours to find there.
            Err(e) if e.is_not_found() || e.code == 403 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_follows_the_kep_formula() {
        // sha256("kubeship-dev.default.Secret.") in unpadded base64url.
        let id = applyset_id("kubeship-dev", "default", "Secret", "");
        assert!(id.starts_with("applyset-") && id.ends_with("-v1"), "{id}");
        assert_eq!(id.len(), "applyset-".len() + 43 + "-v1".len());
        assert!(!id.contains('=') && !id.contains('+') && !id.contains('/'));
        assert_ne!(id, applyset_id("kubeship-prod", "default", "Secret", ""));
    }

    #[test]
    fn group_kinds_round_trip() {
        assert_eq!(group_kind("apps", "Deployment"), "Deployment.apps");
        assert_eq!(group_kind("", "ConfigMap"), "ConfigMap");
        assert_eq!(
            parse_group_kind("Deployment.apps"),
            ("apps".into(), "Deployment".into())
        );
        assert_eq!(
            parse_group_kind("Widget.example.com"),
            ("example.com".into(), "Widget".into())
        );
    }
}
