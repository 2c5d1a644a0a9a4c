//! fake-apiserver: an in-memory Kubernetes API server for kubeship's tests and benchmarks.
//! Serves discovery, OpenAPI v3, CRUD, server-side apply with field ownership, merge/strategic/
//! JSON patches, watch, defaulting, validation, simulated admission webhooks and controllers,
//! plus fault injection and a request log. The real `kubectl` works against it.
//! This file only wires modules and re-exports the public API (see `handle`).

mod admission;
mod controllers;
mod defaults;
mod discovery;
mod engine;
mod faults;
mod fields;
mod handle;
mod meta;
mod patch;
mod protobuf;
mod registry;
mod schema;
mod selector;
mod server;
mod ssa;
mod status;
mod table;
mod validation;
mod world;

pub use admission::{
    AdmissionRequest, AdmissionRule, DEFAULT_WEBHOOK, Denial, Operation, REJECT_KEY,
};
pub use controllers::{FAIL_ANNOTATION, STUCK_ANNOTATION};
pub use faults::{RequestMatcher, RequestRecord};
pub use handle::{ApiFailure, Config, FakeApiServer, Handle, StartError};
