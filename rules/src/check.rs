//! The `Check` trait and the one evaluation engine every enforcement point calls.

use crate::change::{Change, Point};
use crate::finding::Finding;
use crate::policy::Policy;
use crate::verdict::{CheckOutcome, Verdict};

/// Why a check could not run. The check fails closed with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CheckError(pub String);

/// One concern: reads a change under a policy, returns findings.
pub trait Check: Send + Sync {
    /// The check's id, the first part of its findings' rule ids: `protection`, `secrets`, ….
    fn id(&self) -> &'static str;

    /// `Some(reason)` when the policy or the enforcement point turns this check off.
    fn skip_reason(&self, policy: &Policy, change: &Change) -> Option<String>;

    /// Judge the change. An `Err` means the check could not run; the verdict fails closed.
    fn run(&self, policy: &Policy, change: &Change) -> Result<Vec<Finding>, CheckError>;
}

/// Every check vouch has, in the order verdicts list them.
pub fn all_checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(crate::protection::Protection),
        Box::new(crate::commit_message::CommitMessage),
        Box::new(crate::signatures::Signatures),
        Box::new(crate::secrets::Secrets),
        Box::new(crate::review::Review),
    ]
}

/// Every problem in the files the policy points at (CODEOWNERS, keys, secret rules, baseline),
/// one call per module that reads such a file. Empty when all of them load cleanly.
pub fn validate_files(policy: &Policy) -> Vec<crate::policy::PolicyError> {
    let mut errors = Vec::new();
    errors.extend(crate::codeowners::validate(policy));
    errors.extend(crate::signatures::load(policy).err());
    errors.extend(crate::secrets::validate(policy));
    errors
}

/// Judge `change` under `policy` with every check: the one engine behind hooks, server hook and bot.
pub fn evaluate(policy: &Policy, change: &Change) -> Verdict {
    evaluate_with(policy, change, &all_checks())
}

/// Judge `change` with the given checks only.
pub fn evaluate_with(policy: &Policy, change: &Change, checks: &[Box<dyn Check>]) -> Verdict {
    let mut verdict = Verdict::new(policy.describe());
    for check in checks {
        let outcome = match check.skip_reason(policy, change) {
            Some(reason) => CheckOutcome::skipped(check.id(), reason),
            None => match check.run(policy, change) {
                Ok(findings) => CheckOutcome::ran(check.id(), findings),
                Err(e) => CheckOutcome::broken(check.id(), e.0),
            },
        };
        verdict.push(outcome);
    }
    verdict
}

/// True at the points that judge pushed refs (as opposed to a commit being made).
pub fn judges_pushes(point: Point) -> bool {
    matches!(
        point,
        Point::PrePush | Point::PreReceive | Point::Cli | Point::Bot
    )
}
