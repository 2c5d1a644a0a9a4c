//! Discovery: which kinds the cluster serves, their plural names and scope.
//!
//! Owns: fetching the API resource lists of exactly the group-versions a run needs (in
//! parallel, once), the preferred version of a group, and building object URLs.
//! Must not: read or write objects.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value as Json;

use super::api::{Api, ApiError};

/// A served kind.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl Resource {
    fn base(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    /// The collection URL (in `ns` for namespaced kinds, or across all namespaces with `None`).
    pub fn collection(&self, ns: Option<&str>) -> String {
        match (self.namespaced, ns) {
            (true, Some(ns)) => format!("{}/namespaces/{ns}/{}", self.base(), self.plural),
            _ => format!("{}/{}", self.base(), self.plural),
        }
    }

    pub fn object(&self, ns: Option<&str>, name: &str) -> String {
        format!("{}/{}", self.collection(ns), name)
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// What discovery found.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    by_gvk: HashMap<(String, String, String), Resource>,
    /// Group-versions the server does not serve (404).
    missing: BTreeSet<(String, String)>,
}

impl Discovery {
    /// Fetches the resource lists of the given (group, version) pairs in parallel.
    pub async fn fetch(api: &Api, gvs: &BTreeSet<(String, String)>) -> Result<Discovery, ApiError> {
        let results = futures::future::join_all(gvs.iter().map(|(g, v)| async move {
            let path = if g.is_empty() {
                format!("/api/{v}")
            } else {
                format!("/apis/{g}/{v}")
            };
            (g.clone(), v.clone(), api.get(&path).await)
        }))
        .await;
        let mut d = Discovery::default();
        for (g, v, r) in results {
            match r {
                Ok(list) => d.add_list(&g, &v, &list),
                Err(e) if e.is_not_found() => {
                    d.missing.insert((g, v));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(d)
    }

    fn add_list(&mut self, group: &str, version: &str, list: &Json) {
        for r in list
            .get("resources")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let name = r.get("name").and_then(Json::as_str).unwrap_or("");
            if name.contains('/') {
                continue; // subresources
            }
            let kind = r
                .get("kind")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string();
            let res = Resource {
                group: group.to_string(),
                version: version.to_string(),
                kind: kind.clone(),
                plural: name.to_string(),
                namespaced: r.get("namespaced").and_then(Json::as_bool).unwrap_or(true),
            };
            self.by_gvk
                .insert((group.to_string(), version.to_string(), kind), res);
        }
    }

    pub fn resource(&self, group: &str, version: &str, kind: &str) -> Option<&Resource> {
        self.by_gvk
            .get(&(group.to_string(), version.to_string(), kind.to_string()))
    }

    /// Any served version of a group and kind (for inventory members, whose version is not
    /// recorded).
    pub fn any_version(&self, group: &str, kind: &str) -> Option<&Resource> {
        self.by_gvk
            .values()
            .find(|r| r.group == group && r.kind == kind)
    }

    pub fn is_missing(&self, group: &str, version: &str) -> bool {
        self.missing
            .contains(&(group.to_string(), version.to_string()))
    }

    /// Adds the preferred version of each group (for group-kinds known only by group).
    pub async fn add_groups(
        &mut self,
        api: &Api,
        groups: &BTreeSet<String>,
    ) -> Result<(), ApiError> {
        let answers = futures::future::join_all(
            groups
                .iter()
                .filter(|g| !g.is_empty())
                .map(|g| async move { (g.clone(), api.get(&format!("/apis/{g}")).await) }),
        )
        .await;
        let mut gvs = BTreeSet::new();
        if groups.contains("") {
            gvs.insert((String::new(), "v1".to_string()));
        }
        for (g, answer) in answers {
            match answer {
                Ok(j) => {
                    if let Some(v) = j
                        .pointer("/preferredVersion/version")
                        .and_then(Json::as_str)
                    {
                        gvs.insert((g, v.to_string()));
                    }
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        gvs.retain(|gv| {
            !self.missing.contains(gv)
                && !self.by_gvk.keys().any(|(g, v, _)| (g, v) == (&gv.0, &gv.1))
        });
        let more = Discovery::fetch(api, &gvs).await?;
        self.by_gvk.extend(more.by_gvk);
        self.missing.extend(more.missing);
        Ok(())
    }
}
