//! The built-in schema sets embedded at build time (see build.rs).
//! Must not: compile validators (see `schemas`).

/// The schemas of one embedded Kubernetes version.
pub(crate) struct SchemaSet {
    pub minor: u32,
    /// The crate and feature the schemas came from.
    pub source: &'static str,
    /// Definition name -> index into [`DEFS`], sorted by name.
    pub defs: &'static [(&'static str, u16)],
    /// Sorted by (group, kind, version).
    pub kinds: &'static [BuiltinKind],
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct BuiltinKind {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub def: &'static str,
    pub namespaced: bool,
}

include!(concat!(env!("OUT_DIR"), "/builtin_schemas.rs"));
