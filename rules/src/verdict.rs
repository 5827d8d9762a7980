//! The verdict: every check's outcome on one change. Every enforcement point renders the same one.

use crate::finding::{Finding, Severity};
use serde::Serialize;

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Ran and found no errors.
    Pass,
    /// Ran and found at least one error finding.
    Fail,
    /// Could not run (missing key, unreadable object, …). Counts as a failure: vouch fails closed.
    Error,
    /// Turned off by the policy; reported so a reader sees it was not judged.
    Skipped,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckOutcome {
    pub check: String,
    pub status: Status,
    /// Why the check was skipped or could not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub findings: Vec<Finding>,
}

impl CheckOutcome {
    /// The outcome of a check that ran and reported `findings`.
    pub fn ran(check: impl Into<String>, findings: Vec<Finding>) -> Self {
        let status = if findings.iter().any(|f| f.severity == Severity::Error) {
            Status::Fail
        } else {
            Status::Pass
        };
        CheckOutcome {
            check: check.into(),
            status,
            reason: None,
            findings,
        }
    }

    /// A check that could not run. It fails, and says why.
    pub fn broken(check: impl Into<String>, reason: impl Into<String>) -> Self {
        let check = check.into();
        let reason = reason.into();
        let finding = Finding::error(format!("{check}.cannot-run"), reason.clone())
            .hint("fix the cause above and run again; vouch fails closed when a check cannot run");
        CheckOutcome {
            check,
            status: Status::Error,
            reason: Some(reason),
            findings: vec![finding],
        }
    }

    pub fn skipped(check: impl Into<String>, reason: impl Into<String>) -> Self {
        CheckOutcome {
            check: check.into(),
            status: Status::Skipped,
            reason: Some(reason.into()),
            findings: Vec::new(),
        }
    }

    pub fn passed(&self) -> bool {
        matches!(self.status, Status::Pass | Status::Skipped)
    }
}

/// All findings of a change plus pass/fail per check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Where the policy that judged the change came from, e.g.
    /// `refs/heads/main:.vouch/policy.toml` or `built-in default`.
    pub policy: String,
    pub checks: Vec<CheckOutcome>,
}

impl Verdict {
    pub fn new(policy: impl Into<String>) -> Self {
        Verdict {
            policy: policy.into(),
            checks: Vec::new(),
        }
    }

    pub fn push(&mut self, outcome: CheckOutcome) {
        self.checks.push(outcome);
    }

    /// True when every check passed or was skipped by policy.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(CheckOutcome::passed)
    }

    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.checks.iter().flat_map(|c| c.findings.iter())
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings().filter(|f| f.severity == severity).count()
    }

    /// Merge another verdict's checks into this one (e.g. one verdict per pushed ref).
    pub fn absorb(&mut self, other: Verdict) {
        if !self.policy.split("; ").any(|p| p == other.policy) {
            self.policy = format!("{}; {}", self.policy, other.policy);
        }
        for outcome in other.checks {
            match self.checks.iter_mut().find(|c| c.check == outcome.check) {
                Some(mine) => {
                    mine.findings.extend(outcome.findings);
                    mine.status = worse(mine.status, outcome.status);
                    if mine.reason.is_none() {
                        mine.reason = outcome.reason;
                    }
                }
                None => self.checks.push(outcome),
            }
        }
    }
}

fn worse(a: Status, b: Status) -> Status {
    fn rank(s: Status) -> u8 {
        match s {
            Status::Skipped => 0,
            Status::Pass => 1,
            Status::Fail => 2,
            Status::Error => 3,
        }
    }
    if rank(a) >= rank(b) {
        a
    } else {
        b
    }
}
