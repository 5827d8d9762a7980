//! The `Check` trait: one concern that reads a change under a policy and returns findings.
//!
//! This module knows no check: the checks import it, and [`crate::engine`] puts them together,
//! so the import graph runs one way (engine → checks → check).

use crate::change::Change;
use crate::finding::Finding;
use crate::policy::{Policy, PolicyError};
use crate::verdict::Evidence;
use std::sync::OnceLock;

/// Why a check could not run. The check fails closed with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CheckError(pub String);

impl From<PolicyError> for CheckError {
    fn from(e: PolicyError) -> Self {
        CheckError(e.to_string())
    }
}

impl From<&PolicyError> for CheckError {
    fn from(e: &PolicyError) -> Self {
        CheckError(e.to_string())
    }
}

/// One concern. A check is built once per policy (by [`crate::Engine`]) and holds what it
/// compiled from the policy's files, so judging many changes loads nothing twice.
pub trait Check: Send + Sync + std::fmt::Debug {
    /// The check's id, the first part of its findings' rule ids: `protection`, `secrets`, ….
    fn id(&self) -> &'static str;

    /// `Some(reason)` when the policy turns this check off, or the change holds nothing it judges.
    fn skip_reason(&self, policy: &Policy, change: &Change) -> Option<String>;

    /// Judge the change, adding what was verified to `evidence`. An `Err` means the check could
    /// not run; the verdict fails closed.
    fn run(
        &self,
        policy: &Policy,
        change: &Change,
        evidence: &mut Evidence,
    ) -> Result<Vec<Finding>, CheckError>;

    /// Load and compile everything the check reads from the policy's files now (rather than on
    /// first use); the problems found. Empty when all of it loads.
    fn prepare(&self, _policy: &Policy) -> Vec<PolicyError> {
        Vec::new()
    }
}

/// Something loaded from the policy's files once, on first use, shared by every later change.
#[derive(Debug)]
pub(crate) struct Prepared<T>(OnceLock<Result<T, PolicyError>>);

impl<T> Default for Prepared<T> {
    fn default() -> Self {
        Prepared(OnceLock::new())
    }
}

impl<T> Prepared<T> {
    /// The loaded value, loading it with `load` the first time.
    pub(crate) fn get(
        &self,
        load: impl FnOnce() -> Result<T, PolicyError>,
    ) -> Result<&T, &PolicyError> {
        self.0.get_or_init(load).as_ref()
    }
}
