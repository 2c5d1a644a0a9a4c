//! The public face of the crate: `Config`, `FakeApiServer::start` (own runtime thread, for sync
//! tests) and `start_async` (on the caller's runtime), and `Handle` with the URL, kubeconfig
//! writing, fault injection, the request log, admission rules, timing knobs, and helpers to
//! seed and read stored objects. Stops the server on drop. Must not implement API semantics.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::admission::{AdmissionRequest, Denial, reject_marker_rule};
use crate::engine;
use crate::faults::{FaultAction, Faults, RequestMatcher, RequestRecord};
use crate::server::{App, lock, serve};
use crate::status::ApiError;
use crate::world::{Timing, World};

/// How to start the server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Added before every request is handled.
    pub latency: Duration,
    /// Time from a workload (Deployment, StatefulSet, DaemonSet, Job, PVC, Pod) write until the
    /// simulated controllers report it ready / complete / bound.
    pub workload_delay: Duration,
    /// Time from a CRD write until its kinds are served and it reports Established.
    pub crd_establish_delay: Duration,
    /// How long a deleted Namespace stays Terminating before it and its content vanish.
    pub namespace_delete_delay: Duration,
    /// Deadline for stuck Deployments to report ProgressDeadlineExceeded; `None` uses the
    /// object's own `spec.progressDeadlineSeconds`, as the real controller does.
    pub progress_deadline: Option<Duration>,
    /// `Retry-After` seconds sent with injected 429 (and 503) responses.
    pub retry_after_secs: u64,
    /// Nodes a DaemonSet is scheduled on.
    pub daemonset_nodes: u32,
    /// Bearer token written to kubeconfigs (any token is accepted; its value is never logged).
    pub token: String,
    /// Create the namespaces and `kubernetes` Service a fresh cluster has.
    pub seed_defaults: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            latency: Duration::ZERO,
            workload_delay: Duration::from_millis(100),
            crd_establish_delay: Duration::from_millis(50),
            namespace_delete_delay: Duration::from_millis(50),
            progress_deadline: None,
            retry_after_secs: 1,
            daemonset_nodes: 1,
            token: "fake-apiserver-token".to_string(),
            seed_defaults: true,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("cannot start the server runtime: {0}")]
    Runtime(std::io::Error),
}

/// A refused request, as the Status the server would have answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiFailure {
    pub code: u16,
    pub reason: String,
    pub message: String,
}

impl From<ApiError> for ApiFailure {
    fn from(e: ApiError) -> Self {
        ApiFailure {
            code: e.code,
            reason: e.reason.to_string(),
            message: e.message,
        }
    }
}

/// Entry point.
pub struct FakeApiServer;

fn build_app(config: &Config, addr: SocketAddr) -> Arc<App> {
    let timing = Timing {
        workload_delay: config.workload_delay,
        crd_delay: config.crd_establish_delay,
        namespace_delay: config.namespace_delete_delay,
        progress_deadline: config.progress_deadline,
        daemonset_nodes: config.daemonset_nodes,
    };
    let mut world = World::new(timing);
    if config.seed_defaults {
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            let _ = engine::seed(&mut world, obj, "kube-apiserver", false);
        }
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}});
        let _ = engine::seed(&mut world, svc, "kube-apiserver", false);
    }
    Arc::new(App {
        world: Mutex::new(world),
        faults: Mutex::new(Faults::new(config.latency, config.retry_after_secs)),
        log: Mutex::new(Vec::new()),
        addr,
    })
}

impl FakeApiServer {
    /// Start on a dedicated thread with its own tokio runtime (usable from sync tests).
    pub fn start(config: Config) -> Result<Handle, StartError> {
        let std_listener =
            std::net::TcpListener::bind(("127.0.0.1", config.port)).map_err(|source| {
                StartError::Bind {
                    port: config.port,
                    source,
                }
            })?;
        std_listener
            .set_nonblocking(true)
            .map_err(StartError::Runtime)?;
        let addr = std_listener.local_addr().map_err(StartError::Runtime)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fake-apiserver")
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        let listener = {
            let _guard = rt.enter();
            TcpListener::from_std(std_listener).map_err(StartError::Runtime)?
        };
        let app = build_app(&config, addr);
        let (tx, rx) = watch::channel(false);
        let server_app = app.clone();
        let thread = std::thread::Builder::new()
            .name("fake-apiserver".into())
            .spawn(move || {
                rt.block_on(serve(server_app, listener, rx));
                rt.shutdown_timeout(Duration::from_millis(100));
            })
            .map_err(StartError::Runtime)?;
        Ok(Handle {
            app,
            addr,
            token: config.token,
            shutdown: tx,
            thread: Some(thread),
        })
    }

    /// Start on the current tokio runtime.
    pub async fn start_async(config: Config) -> Result<Handle, StartError> {
        let listener = TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|source| StartError::Bind {
                port: config.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(StartError::Runtime)?;
        let app = build_app(&config, addr);
        let (tx, rx) = watch::channel(false);
        tokio::spawn(serve(app.clone(), listener, rx));
        Ok(Handle {
            app,
            addr,
            token: config.token,
            shutdown: tx,
            thread: None,
        })
    }
}

/// A running server; dropping it stops the server.
pub struct Handle {
    app: Arc<App>,
    addr: SocketAddr,
    token: String,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

fn lookup(
    w: &World,
    api_version: &str,
    kind: &str,
) -> Option<(Arc<crate::registry::ResourceType>, String)> {
    w.registry.by_api_version_kind(api_version, kind)
}

impl Handle {
    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bearer token kubeconfigs carry.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A kubeconfig with one cluster, user (token) and context named `context`.
    pub fn kubeconfig(&self, context: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: {c}\n  cluster:\n    server: {url}\ncontexts:\n- name: {c}\n  context:\n    cluster: {c}\n    user: {c}\n    namespace: default\ncurrent-context: {c}\npreferences: {{}}\nusers:\n- name: {c}\n  user:\n    token: {t}\n",
            c = context,
            url = self.url(),
            t = self.token
        )
    }

    /// Write [`Handle::kubeconfig`] to `path`.
    pub fn write_kubeconfig(&self, path: impl AsRef<Path>, context: &str) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig(context))
    }

    // ---- faults -------------------------------------------------------------------------

    /// Delay every request by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.app.faults).latency = latency;
    }

    /// Fail the next `n` requests with `code` (500, 429 with Retry-After, 503, ...).
    pub fn fail_next(&self, n: usize, code: u16) {
        self.fail_next_matching(n, code, RequestMatcher::any());
    }

    /// Fail the next `n` requests that match `matcher`.
    pub fn fail_next_matching(&self, n: usize, code: u16, matcher: RequestMatcher) {
        lock(&self.app.faults).add(n, FaultAction::Fail(code), matcher);
    }

    /// Close the connection without an answer for the next `n` requests.
    pub fn drop_next(&self, n: usize) {
        self.drop_next_matching(n, RequestMatcher::any());
    }

    /// Close the connection without an answer for the next `n` requests matching `matcher`.
    pub fn drop_next_matching(&self, n: usize, matcher: RequestMatcher) {
        lock(&self.app.faults).add(n, FaultAction::Drop, matcher);
    }

    /// Forget pending failures and drops.
    pub fn clear_faults(&self) {
        lock(&self.app.faults).clear();
    }

    /// `Retry-After` seconds of injected 429/503 responses.
    pub fn set_retry_after(&self, secs: u64) {
        lock(&self.app.faults).retry_after = secs;
    }

    // ---- request log --------------------------------------------------------------------

    /// Every request since start (or the last clear), oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.app.log).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.app.log).clear();
    }

    // ---- objects ------------------------------------------------------------------------

    /// Store an object as an Update by `manager` (as `kubectl create` or client-side apply
    /// would), creating or updating it; the manager owns every field it set.
    pub fn seed(&self, manager: &str, object: Value) -> Result<Value, ApiFailure> {
        engine::seed(&mut self.app.world(), object, manager, false).map_err(ApiFailure::from)
    }

    /// Store an object with a server-side apply by `manager` (forced).
    pub fn seed_apply(&self, manager: &str, object: Value) -> Result<Value, ApiFailure> {
        engine::seed(&mut self.app.world(), object, manager, true).map_err(ApiFailure::from)
    }

    /// A stored object (`namespace` is ignored for cluster-scoped kinds).
    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let w = self.app.world();
        let (t, _) = lookup(&w, api_version, kind)?;
        let ns = if t.namespaced {
            namespace.unwrap_or("default")
        } else {
            ""
        };
        w.get(&t.key(), ns, name).cloned()
    }

    /// Stored objects of a kind, in one namespace or all.
    pub fn list(&self, api_version: &str, kind: &str, namespace: Option<&str>) -> Vec<Value> {
        let w = self.app.world();
        let Some((t, _)) = lookup(&w, api_version, kind) else {
            return Vec::new();
        };
        let ns = if t.namespaced { namespace } else { None };
        w.list(&t.key(), ns).into_iter().cloned().collect()
    }

    /// Remove an object at once (no finalizers, no admission). Returns whether it existed.
    pub fn remove(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> bool {
        let mut w = self.app.world();
        let Some((t, _)) = lookup(&w, api_version, kind) else {
            return false;
        };
        let ns = if t.namespaced {
            namespace.unwrap_or("default")
        } else {
            ""
        };
        w.remove(&t.key(), ns, name).is_some()
    }

    /// Replace an object's status as a controller would (manager `fake-apiserver-test`).
    pub fn set_status(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        status: Value,
    ) -> Result<Value, ApiFailure> {
        let mut w = self.app.world();
        let (t, _) = lookup(&w, api_version, kind).ok_or_else(|| ApiFailure {
            code: 404,
            reason: "NotFound".into(),
            message: format!("unknown kind {kind} in {api_version}"),
        })?;
        let ns = if t.namespaced {
            namespace.unwrap_or("default")
        } else {
            ""
        };
        if w.get(&t.key(), ns, name).is_none() {
            return Err(ApiError::not_found(&t.group, &t.plural, name).into());
        }
        engine::write_status(&mut w, &t.key(), ns, name, status, "fake-apiserver-test");
        // Controllers would overwrite a hand-set status; stop reconciling this object.
        w.rollouts
            .remove(&(t.key(), ns.to_string(), name.to_string()));
        w.get(&t.key(), ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&t.group, &t.plural, name).into())
    }

    /// Whether a kind is currently served (e.g. after a CRD is established).
    pub fn is_served(&self, api_version: &str, kind: &str) -> bool {
        lookup(&self.app.world(), api_version, kind).is_some()
    }

    /// The global resourceVersion counter (the last version handed out).
    pub fn resource_version(&self) -> u64 {
        self.app.world().rv
    }

    /// Number of stored objects of all kinds.
    pub fn object_count(&self) -> usize {
        self.app.world().count()
    }

    // ---- admission ----------------------------------------------------------------------

    /// Add an admission rule (checked after the built-in `fake-apiserver/reject` rule).
    pub fn add_admission_rule<F>(&self, rule: F)
    where
        F: Fn(&AdmissionRequest<'_>) -> Option<Denial> + Send + Sync + 'static,
    {
        self.app.world().admission.push(Arc::new(rule));
    }

    /// Remove every admission rule, the built-in one included.
    pub fn clear_admission_rules(&self) {
        self.app.world().admission.clear();
    }

    /// Back to only the built-in rule.
    pub fn reset_admission_rules(&self) {
        self.app.world().admission = vec![reject_marker_rule()];
    }

    // ---- timing -------------------------------------------------------------------------

    pub fn set_workload_delay(&self, d: Duration) {
        self.app.world().timing.workload_delay = d;
    }

    pub fn set_crd_establish_delay(&self, d: Duration) {
        self.app.world().timing.crd_delay = d;
    }

    pub fn set_namespace_delete_delay(&self, d: Duration) {
        self.app.world().timing.namespace_delay = d;
    }

    pub fn set_progress_deadline(&self, d: Option<Duration>) {
        self.app.world().timing.progress_deadline = d;
    }

    /// Stop serving now (also done on drop).
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}
