//! The deploy lock: a `coordination.k8s.io/v1` Lease `kubeship-ENV`, so two pipelines never
//! apply the same environment at once.
//!
//! Owns: taking the Lease (create, or take over an expired or released one, with optimistic
//! concurrency on resourceVersion), waiting up to a limit while another holder has it,
//! renewing it in the background while the run lasts, and releasing it.
//! Must not: apply anything else.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use tokio::sync::Mutex;

use super::ClusterError;
use super::api::Api;

const LEASE_SECONDS: i64 = 60;

fn now_micro() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

fn parse_time(s: &str) -> Option<jiff::Timestamp> {
    s.parse::<jiff::Timestamp>().ok()
}

/// A held lock; renewal stops and the Lease is released by [`Lock::release`].
pub struct Lock {
    api: Api,
    path: String,
    state: Arc<Mutex<Json>>,
    renewer: tokio::task::JoinHandle<()>,
}

fn lease_path(namespace: &str, env: &str) -> String {
    format!("/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/kubeship-{env}")
}

fn expired(lease: &Json) -> bool {
    let holder = lease
        .pointer("/spec/holderIdentity")
        .and_then(Json::as_str)
        .unwrap_or("");
    if holder.is_empty() {
        return true;
    }
    let duration = lease
        .pointer("/spec/leaseDurationSeconds")
        .and_then(Json::as_i64)
        .unwrap_or(LEASE_SECONDS);
    let renewed = lease
        .pointer("/spec/renewTime")
        .or_else(|| lease.pointer("/spec/acquireTime"))
        .and_then(Json::as_str)
        .and_then(parse_time);
    match renewed {
        Some(t) => jiff::Timestamp::now().as_second() - t.as_second() > duration,
        None => true,
    }
}

/// Takes the Lease for `env`, waiting up to `wait_for` while someone else holds it.
pub async fn acquire(
    api: &Api,
    namespace: &str,
    env: &str,
    holder: &str,
    wait_for: Duration,
) -> Result<Lock, ClusterError> {
    let path = lease_path(namespace, env);
    let collection = format!("/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases");
    let start = Instant::now();
    loop {
        let now = now_micro();
        let attempt = match api.get(&path).await {
            Err(e) if e.is_not_found() => {
                let lease = json!({
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": format!("kubeship-{env}"), "namespace": namespace},
                    "spec": {"holderIdentity": holder, "leaseDurationSeconds": LEASE_SECONDS,
                             "acquireTime": now, "renewTime": now, "leaseTransitions": 0}
                });
                api.post(&collection, &lease).await.map(Some)
            }
            Err(e) => return Err(ClusterError::from_api(e)),
            Ok(existing) => {
                let current = existing
                    .pointer("/spec/holderIdentity")
                    .and_then(Json::as_str)
                    .unwrap_or("");
                if current == holder || expired(&existing) {
                    let mut lease = existing.clone();
                    let transitions = lease
                        .pointer("/spec/leaseTransitions")
                        .and_then(Json::as_i64)
                        .unwrap_or(0);
                    lease["spec"] = json!({"holderIdentity": holder, "leaseDurationSeconds": LEASE_SECONDS,
                        "acquireTime": now, "renewTime": now, "leaseTransitions": transitions + 1});
                    api.put(&path, &lease).await.map(Some)
                } else {
                    if start.elapsed() >= wait_for {
                        return Err(ClusterError::Lock(format!(
                            "environment `{env}` is locked by {current} (Lease {namespace}/kubeship-{env}); waited {}s; retry later or raise --lock-timeout",
                            wait_for.as_secs()
                        )));
                    }
                    Ok(None)
                }
            }
        };
        match attempt {
            Ok(Some(lease)) => {
                return Ok(start_renewal(api.clone(), path, lease));
            }
            Ok(None) => {}
            // Someone else created or updated it between our read and write: look again.
            Err(e) if e.is_conflict() || e.code == 409 => {}
            Err(e) => return Err(ClusterError::from_api(e)),
        }
        tokio::time::sleep(
            Duration::from_secs(2).min(
                wait_for
                    .saturating_sub(start.elapsed())
                    .max(Duration::from_millis(100)),
            ),
        )
        .await;
    }
}

fn start_renewal(api: Api, path: String, lease: Json) -> Lock {
    let state = Arc::new(Mutex::new(lease));
    let (api2, path2, state2) = (api.clone(), path.clone(), state.clone());
    let renewer = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs((LEASE_SECONDS / 3) as u64)).await;
            let mut guard = state2.lock().await;
            let mut lease = guard.clone();
            lease["spec"]["renewTime"] = Json::String(now_micro());
            if let Ok(updated) = api2.put(&path2, &lease).await {
                *guard = updated;
            }
        }
    });
    Lock {
        api,
        path,
        state,
        renewer,
    }
}

impl Lock {
    /// Stops renewing and releases the Lease (clears the holder).
    pub async fn release(self) {
        self.renewer.abort();
        let mut lease = self.state.lock().await.clone();
        lease["spec"]["holderIdentity"] = Json::String(String::new());
        lease["spec"]["renewTime"] = Json::String(now_micro());
        let _ = self.api.put(&self.path, &lease).await;
    }
}

/// Who holds the lock: the pipeline URL in CI, else host/pid.
pub fn holder_identity() -> String {
    if let Ok(url) = std::env::var("CI_PIPELINE_URL") {
        return url;
    }
    if let (Ok(server), Ok(repo), Ok(run)) = (
        std::env::var("GITHUB_SERVER_URL"),
        std::env::var("GITHUB_REPOSITORY"),
        std::env::var("GITHUB_RUN_ID"),
    ) {
        return format!("{server}/{repo}/actions/runs/{run}");
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into());
    format!("{host}/{}", std::process::id())
}
