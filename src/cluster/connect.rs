//! Connecting to the environment's cluster, and the wrong-cluster guard.
//!
//! Owns: choosing the kubeconfig context (the environment's `context`, else `KUBE_CONTEXT`, else
//! the current context; GitLab agent contexts such as `group/project:agent` are ordinary
//! context names), in-cluster config when no kubeconfig exists, exec auth plugins (EKS, GKE)
//! through kube, and refusing to connect when the environment's `server:` differs from the
//! context's server — before any request is sent.
//! Must not: send requests other than through [`super::api::Api`].

use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::ClusterError;
use super::api::{Api, RetryPolicy};

/// Where an environment's requests go.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    pub context: String,
    pub server: String,
}

/// A connected cluster.
#[derive(Clone)]
pub struct Cluster {
    pub api: Api,
    pub endpoint: Endpoint,
    /// The context's namespace (`default` when it names none), for objects that name none.
    pub default_namespace: String,
}

/// What the environment asks for.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// `context` from kubeship.yaml.
    pub context: Option<String>,
    /// `server` guard from kubeship.yaml.
    pub server: Option<String>,
    pub concurrency: usize,
    pub retry: Option<RetryPolicy>,
}

/// Normalizes a server URL for comparison: lower-case scheme and host, default port, no
/// trailing slash.
pub fn normalize_server(s: &str) -> String {
    let s = s.trim().trim_end_matches('/');
    match url::Url::parse(s) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("").to_ascii_lowercase();
            let port = u
                .port_or_known_default()
                .map_or(String::new(), |p| format!(":{p}"));
            let path = u.path().trim_end_matches('/');
            format!("{}://{host}{port}{path}", u.scheme())
        }
        Err(_) => s.to_ascii_lowercase(),
    }
}

/// Resolves the context and its server, applying the guard, without any network access.
pub fn resolve(opts: &ConnectOptions) -> Result<(Option<Kubeconfig>, Endpoint), ClusterError> {
    let kubeconfig = Kubeconfig::read().ok();
    let Some(kc) = kubeconfig else {
        if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
            let host = std::env::var("KUBERNETES_SERVICE_HOST").unwrap_or_default();
            let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".into());
            let endpoint = Endpoint {
                context: "in-cluster".into(),
                server: format!("https://{host}:{port}"),
            };
            guard(opts, &endpoint)?;
            return Ok((None, endpoint));
        }
        return Err(ClusterError::Config(
            "no kubeconfig found (set KUBECONFIG or create ~/.kube/config) and not running inside a cluster"
                .into(),
        ));
    };
    let wanted = opts
        .context
        .clone()
        .or_else(|| std::env::var("KUBE_CONTEXT").ok().filter(|c| !c.is_empty()))
        .or_else(|| kc.current_context.clone())
        .ok_or_else(|| {
            ClusterError::Config(
                "no context: set `context` for the environment in kubeship.yaml, or KUBE_CONTEXT, or a current context"
                    .into(),
            )
        })?;
    let ctx = kc
        .contexts
        .iter()
        .find(|c| c.name == wanted)
        .ok_or_else(|| {
            ClusterError::Config(format!(
                "context `{wanted}` is not in the kubeconfig; available contexts: {}",
                kc.contexts
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    let cluster_name = ctx
        .context
        .as_ref()
        .map(|c| c.cluster.clone())
        .unwrap_or_default();
    let server = kc
        .clusters
        .iter()
        .find(|c| c.name == cluster_name)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.clone())
        .ok_or_else(|| {
            ClusterError::Config(format!(
                "context `{wanted}` names cluster `{cluster_name}`, which has no server in the kubeconfig"
            ))
        })?;
    let endpoint = Endpoint {
        context: wanted,
        server,
    };
    guard(opts, &endpoint)?;
    Ok((Some(kc), endpoint))
}

fn guard(opts: &ConnectOptions, endpoint: &Endpoint) -> Result<(), ClusterError> {
    if let Some(expected) = &opts.server
        && normalize_server(expected) != normalize_server(&endpoint.server)
    {
        return Err(ClusterError::Guard {
            expected: expected.clone(),
            context: endpoint.context.clone(),
            actual: endpoint.server.clone(),
        });
    }
    Ok(())
}

/// Connects after the guard passed. No request is sent until the first API call.
pub async fn connect(opts: &ConnectOptions) -> Result<Cluster, ClusterError> {
    let (kc, endpoint) = resolve(opts)?;
    let mut config = match kc {
        Some(kc) => {
            let options = KubeConfigOptions {
                context: Some(endpoint.context.clone()),
                ..KubeConfigOptions::default()
            };
            kube::Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| {
                    ClusterError::Config(format!("kubeconfig context `{}`: {e}", endpoint.context))
                })?
        }
        None => kube::Config::incluster()
            .map_err(|e| ClusterError::Config(format!("in-cluster configuration: {e}")))?,
    };
    // kube's default retry can block a job for minutes; ours is bounded and honors Retry-After.
    config.default_retry = false;
    config.connect_timeout = Some(Duration::from_secs(10));
    config.read_timeout = Some(Duration::from_secs(60));
    config.write_timeout = Some(Duration::from_secs(60));
    let client = kube::Client::try_from(config).map_err(|e| {
        ClusterError::Config(format!(
            "cannot build a client for `{}`: {e}",
            endpoint.context
        ))
    })?;
    let default_namespace = client.default_namespace().to_string();
    Ok(Cluster {
        api: Api::new(client, opts.concurrency, opts.retry.unwrap_or_default()),
        endpoint,
        default_namespace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_compare_normalized() {
        assert_eq!(
            normalize_server("https://Dev.Example:443/"),
            normalize_server("https://dev.example")
        );
        assert_ne!(
            normalize_server("https://dev.example:6443"),
            normalize_server("https://dev.example")
        );
    }
}
