//! The exit-code table, in one place.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success, nothing to report |
//! | 1 | findings: validation errors, a broken kustomization, changes with `diff --exit-code`, objects failed or unhealthy after apply |
//! | 2 | usage or configuration error (bad flag, unknown environment, unreadable kubeship.yaml) |
//! | 3 | could not complete: cluster unreachable, guard refused, lock not acquired, API failure after retries |
//!
//! Must not: print anything.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    Success = 0,
    Findings = 1,
    Usage = 2,
    Incomplete = 3,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A failure that ends a command, with the exit code it deserves.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub error: anyhow::Error,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl Failure {
    pub fn new(exit: Exit, error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            exit,
            error: error.into(),
        }
    }

    pub fn usage(msg: impl fmt::Display) -> Failure {
        Failure::new(Exit::Usage, anyhow::anyhow!("{msg}"))
    }

    pub fn findings(msg: impl fmt::Display) -> Failure {
        Failure::new(Exit::Findings, anyhow::anyhow!("{msg}"))
    }

    pub fn incomplete(error: impl Into<anyhow::Error>) -> Failure {
        Failure::new(Exit::Incomplete, error)
    }
}
