//! The only module that talks to a Kubernetes API server, and the only one importing kube.
//!
//! Owns: connecting (context, guard), discovery, observing (GET + server-side dry-run),
//! executing a plan (staged server-side apply, prune through the ApplySet inventory, health
//! wait) and the deploy lock.
//! Must not: decide what changes (that is `plan`), print, or format reports.

pub mod api;
pub mod connect;
pub mod discovery;
pub mod execute;
pub mod health;
pub mod inventory;
pub mod lock;
pub mod observe;

pub use api::ApiError;
pub use connect::{Cluster, ConnectOptions, Endpoint, connect};
pub use observe::{LiveState, ObserveOptions, observe};

/// A failure that stops a cluster command (exit 3), or a configuration problem.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{0}")]
    Config(String),
    #[error(
        "refusing to touch the cluster: the environment expects server {expected}, but context `{context}` points to {actual}; fix `server:` in kubeship.yaml or pick the right context"
    )]
    Guard {
        expected: String,
        context: String,
        actual: String,
    },
    #[error("the API server could not be reached or failed after retries: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Api(String),
    #[error("{0}")]
    Lock(String),
}

impl ClusterError {
    pub fn from_api(e: ApiError) -> ClusterError {
        if e.is_unavailable() {
            ClusterError::Unavailable(e.message)
        } else if e.code == 401 || e.code == 403 {
            ClusterError::Api(format!(
                "the API server refused kubeship's credentials ({}): {}; check the context's user and RBAC",
                e.code, e.message
            ))
        } else {
            ClusterError::Api(format!("API error ({}): {}", e.code, e.message))
        }
    }
}
