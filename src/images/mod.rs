//! Image update automation compatible with Flux image policies and setter markers.
//!
//! Owns: reading Flux `ImageRepository` / `ImagePolicy` objects from the repository
//! ([`objects`]), choosing the latest tag per policy ([`policy`], [`semver`]), reading registries
//! ([`registry`], [`credentials`], [`reference`]), finding and editing setter markers
//! byte-exactly ([`markers`]), planning and writing the update ([`update`]), committing and
//! pushing it ([`git`]), and rendering the result as text or JSON ([`report`]).
//! Must not: print (the command does, through the printer), or write outside the repository.
//!
//! For a scheduled pipeline, `kubeship ci` calls, in order: [`update::plan`], then
//! [`git::commit`] (which writes the files), then [`git::push_branch`], then opens or updates
//! the merge request with the text of [`report::merge_request`].

pub mod credentials;
pub mod git;
pub mod markers;
pub mod objects;
pub mod policy;
pub mod reference;
pub mod registry;
pub mod report;
pub(crate) mod semver;
pub mod update;

use std::fmt;

use crate::exit::Exit;

pub use registry::{RegistryClient, RegistryOptions};
pub use update::{UpdatePlan, plan, write};

/// A repository problem at a place a human can open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// `path:line`, or `path`.
    pub location: String,
    pub message: String,
}

impl Problem {
    pub fn new(location: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            location: location.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.location, self.message)
        }
    }
}

/// Why `images update` could not produce a plan, or could not write it.
#[derive(Debug, thiserror::Error)]
pub enum ImagesError {
    /// Bad markers, missing or invalid policies: fix the repository (exit 1).
    #[error("{}", join(.0))]
    Repository(Vec<Problem>),
    /// Unknown environment, bad template, unreadable root (exit 2).
    #[error("{0}")]
    Config(String),
    /// A file could not be written (exit 1).
    #[error("{0}")]
    Write(String),
    /// A git step failed or was refused.
    #[error(transparent)]
    Git(#[from] git::GitError),
}

fn join(problems: &[Problem]) -> String {
    let mut text = String::new();
    if problems.len() > 1 {
        text.push_str(&format!(
            "{} problems with image markers or policies:\n",
            problems.len()
        ));
    }
    let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
    text.push_str(&lines.join("\n"));
    text
}

impl ImagesError {
    pub fn exit(&self) -> Exit {
        match self {
            ImagesError::Repository(_) | ImagesError::Write(_) => Exit::Findings,
            ImagesError::Config(_) => Exit::Usage,
            ImagesError::Git(e) => e.exit(),
        }
    }
}
