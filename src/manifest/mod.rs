//! The data every stage shares: YAML nodes with positions, objects with their origin, the
//! source files they came from, and kind ordering.
//!
//! Must not: touch the file system, the network or the terminal.

pub mod emit;
pub mod node;
pub mod object;
pub mod sources;
pub mod yaml;

pub use node::{Entry, FileId, Node, Pos, Scalar, Style, Text, Value};
pub use object::{Object, ObjectRef, Origin};
pub use sources::Sources;
