//! The server's whole mutable state behind one lock: the resource registry, the object tables
//! (one `HashMap` per resource type, keyed by namespace and name), the global resourceVersion
//! counter, Service address allocators, the simulated controllers' task queue and rollout
//! clocks, admission rules, timing knobs and the watch event channel. Owns storing and removing
//! objects (bumping resourceVersion and emitting watch events); must not decide API semantics.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::admission::{AdmissionRule, reject_marker_rule};
use crate::registry::Registry;

/// (type key, namespace or "", name)
pub(crate) type ObjKey = (String, String, String);

/// Delays of the simulated cluster.
#[derive(Debug, Clone)]
pub(crate) struct Timing {
    pub workload_delay: Duration,
    pub crd_delay: Duration,
    pub namespace_delay: Duration,
    pub progress_deadline: Option<Duration>,
    pub daemonset_nodes: u32,
}

/// Background work of the simulated controllers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TaskKind {
    Reconcile(ObjKey),
    EstablishCrd(String),
    FinalizeNamespace(String),
    /// Remove the `foregroundDeletion` / `orphan` finalizers the garbage collector handles.
    CollectGarbage(ObjKey),
}

#[derive(Debug, PartialEq, Eq)]
struct Task {
    due: Instant,
    seq: u64,
    kind: TaskKind,
}

impl Ord for Task {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap, we want the earliest first.
        other
            .due
            .cmp(&self.due)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for Task {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One change, as a watch stream reports it.
#[derive(Debug, Clone)]
pub(crate) struct WatchEvent {
    pub type_key: String,
    pub namespace: String,
    pub event_type: &'static str,
    pub object: Value,
    pub rv: u64,
}

/// How many past events a watch can resume from.
const HISTORY: usize = 8192;

/// State of a namespace, for writes into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NsState {
    Missing,
    Active,
    Terminating,
}

pub(crate) struct World {
    pub registry: Registry,
    tables: HashMap<String, HashMap<(String, String), Value>>,
    pub rv: u64,
    pub next_ip: u32,
    pub next_node_port: u32,
    tasks: BinaryHeap<Task>,
    task_seq: u64,
    /// When the rollout of an object's current generation started.
    pub rollouts: HashMap<ObjKey, Instant>,
    pub admission: Vec<AdmissionRule>,
    pub timing: Timing,
    pub events: broadcast::Sender<WatchEvent>,
    pub history: VecDeque<WatchEvent>,
}

impl World {
    pub fn new(timing: Timing) -> Self {
        let (events, _) = broadcast::channel(4096);
        World {
            registry: Registry::with_builtins(),
            tables: HashMap::new(),
            rv: 1000,
            next_ip: 1,
            next_node_port: 0,
            tasks: BinaryHeap::new(),
            task_seq: 0,
            rollouts: HashMap::new(),
            admission: vec![reject_marker_rule()],
            timing,
            events,
            history: VecDeque::new(),
        }
    }

    pub fn get(&self, key: &str, ns: &str, name: &str) -> Option<&Value> {
        self.tables
            .get(key)?
            .get(&(ns.to_string(), name.to_string()))
    }

    /// All objects of one type, optionally in one namespace, sorted by namespace and name.
    pub fn list(&self, key: &str, ns: Option<&str>) -> Vec<&Value> {
        let Some(table) = self.tables.get(key) else {
            return Vec::new();
        };
        let mut items: Vec<(&(String, String), &Value)> = table
            .iter()
            .filter(|((n, _), _)| ns.is_none_or(|want| want == n))
            .collect();
        items.sort_by(|a, b| a.0.cmp(b.0));
        items.into_iter().map(|(_, v)| v).collect()
    }

    pub fn count(&self) -> usize {
        self.tables.values().map(HashMap::len).sum()
    }

    pub fn ns_state(&self, ns: &str) -> NsState {
        match self.get("/namespaces", "", ns) {
            None => NsState::Missing,
            Some(o) if o.pointer("/metadata/deletionTimestamp").is_some() => NsState::Terminating,
            Some(_) => NsState::Active,
        }
    }

    /// Store an object: bumps the global resourceVersion, stamps it, emits a watch event.
    pub fn put(&mut self, key: &str, ns: &str, name: &str, mut obj: Value) -> Value {
        self.rv += 1;
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), json!(self.rv.to_string()));
        }
        let table = self.tables.entry(key.to_string()).or_default();
        let existed = table
            .insert((ns.to_string(), name.to_string()), obj.clone())
            .is_some();
        self.emit(WatchEvent {
            type_key: key.to_string(),
            namespace: ns.to_string(),
            event_type: if existed { "MODIFIED" } else { "ADDED" },
            object: obj.clone(),
            rv: self.rv,
        });
        obj
    }

    /// Remove an object; the DELETED event carries a fresh resourceVersion.
    pub fn remove(&mut self, key: &str, ns: &str, name: &str) -> Option<Value> {
        let mut obj = self
            .tables
            .get_mut(key)?
            .remove(&(ns.to_string(), name.to_string()))?;
        self.rollouts
            .remove(&(key.to_string(), ns.to_string(), name.to_string()));
        self.rv += 1;
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), json!(self.rv.to_string()));
        }
        self.emit(WatchEvent {
            type_key: key.to_string(),
            namespace: ns.to_string(),
            event_type: "DELETED",
            object: obj.clone(),
            rv: self.rv,
        });
        Some(obj)
    }

    fn emit(&mut self, ev: WatchEvent) {
        if self.history.len() >= HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(ev.clone());
        let _ = self.events.send(ev);
    }

    /// Remove every object of one type (CRD deletion).
    pub fn drop_table(&mut self, key: &str) {
        let names: Vec<(String, String)> = self
            .tables
            .get(key)
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        for (ns, name) in names {
            self.remove(key, &ns, &name);
        }
        self.tables.remove(key);
    }

    /// Remove every namespaced object in `ns` (namespace finalization).
    pub fn drop_namespace_contents(&mut self, ns: &str) {
        let mut doomed = Vec::new();
        for (key, table) in &self.tables {
            for (n, name) in table.keys() {
                if n == ns {
                    doomed.push((key.clone(), name.clone()));
                }
            }
        }
        for (key, name) in doomed {
            self.remove(&key, ns, &name);
        }
    }

    pub fn schedule(&mut self, after: Duration, kind: TaskKind) {
        self.task_seq += 1;
        let now = Instant::now();
        let due = now
            .checked_add(after)
            .unwrap_or_else(|| now + Duration::from_secs(365 * 86_400));
        self.tasks.push(Task {
            due,
            seq: self.task_seq,
            kind,
        });
    }

    /// Tasks due by `now`, earliest first.
    pub fn take_due(&mut self, now: Instant) -> Vec<TaskKind> {
        let mut out = Vec::new();
        while self.tasks.peek().is_some_and(|t| t.due <= now) {
            if let Some(t) = self.tasks.pop() {
                out.push(t.kind);
            }
        }
        out
    }
}
