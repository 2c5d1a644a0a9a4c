//! Report models and their renderers (text, JSON, Markdown, JUnit, Code Quality, SARIF).
//! Must not: print or decide anything; every renderer is a pure function to String.

pub mod apply;
pub mod findings;
pub mod plan;
