//! The verdict: every check's outcome on one change. Every enforcement point renders the same one.

use crate::change::Clock;
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

/// The policy that judged (part of) a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicySource {
    /// Where it came from, e.g. `refs/heads/main:.vouch/policy.toml` or `built-in default (…)`.
    pub source: String,
    /// SHA-256 over every policy file (policy.toml, keys, allowed signers, CODEOWNERS, custom
    /// rules, baseline), hex; empty for the built-in default. See [`crate::policy::Policy::digest`].
    pub digest: String,
}

/// What the signature check concluded about one commit or tag: a record for every object,
/// good ones included, so an attestation can say who signed what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureRecord {
    /// The commit or tag object id.
    pub object: String,
    /// `commit` or `tag`.
    pub kind: &'static str,
    /// The ref the object arrives on.
    pub reference: String,
    /// The status, as in the `signatures.<status>` rule ids: `good`, `unsigned`, `bad`, ….
    pub status: &'static str,
    /// True when the policy accepts the object.
    pub accepted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_fingerprint: Option<String>,
    /// The instant judged at (RFC 3339) and which clock gave it.
    pub judged_at: String,
    pub time_basis: &'static str,
}

/// An approval and whether it counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalRecord {
    pub reviewer: String,
    /// The commit the approval was left on.
    pub commit: String,
    /// True when the approval counts towards the policy.
    pub counted: bool,
    /// Why it does not count (`@bob approved but co-authored 3f2a1c9`); empty when it does.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// What the review check found about a pull request's approvals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewRecord {
    pub pull_request: u64,
    pub head: String,
    pub required_approvals: u32,
    pub approvals: Vec<ApprovalRecord>,
    /// Login → why they are not independent of the change.
    pub not_independent: std::collections::BTreeMap<String, Vec<String>>,
}

/// What the checks verified, beyond their findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub signatures: Vec<SignatureRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewRecord>,
}

/// All findings of a change plus pass/fail per check, and what was verified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The policies that judged; more than one when a push updates refs under different ones.
    pub policies: Vec<PolicySource>,
    /// When the change was judged (RFC 3339).
    pub judged_at: String,
    /// The clock signatures were judged by.
    pub clock: Clock,
    /// `git push -o` options the change carried.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub push_options: Vec<String>,
    pub checks: Vec<CheckOutcome>,
    pub evidence: Evidence,
}

impl Verdict {
    /// An empty verdict under one policy.
    pub fn new(policy: PolicySource, judged_at: i64, clock: Clock) -> Self {
        Verdict {
            policies: vec![policy],
            judged_at: crate::time::iso(judged_at),
            clock,
            push_options: Vec::new(),
            checks: Vec::new(),
            evidence: Evidence::default(),
        }
    }

    /// A verdict on nothing (an empty push): no check, so it passes.
    pub fn empty(reason: impl Into<String>, judged_at: i64) -> Self {
        Verdict::new(
            PolicySource {
                source: reason.into(),
                digest: String::new(),
            },
            judged_at,
            Clock::PushTime,
        )
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

    /// The policies that judged, in one line for people.
    pub fn policy_line(&self) -> String {
        self.policies
            .iter()
            .map(|p| p.source.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Merge another verdict's checks into this one (e.g. one verdict per pushed ref).
    pub fn absorb(&mut self, other: Verdict) {
        for p in other.policies {
            if !self.policies.contains(&p) {
                self.policies.push(p);
            }
        }
        for o in other.push_options {
            if !self.push_options.contains(&o) {
                self.push_options.push(o);
            }
        }
        self.evidence.signatures.extend(other.evidence.signatures);
        if self.evidence.review.is_none() {
            self.evidence.review = other.evidence.review;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn under(source: &str) -> Verdict {
        let policy = PolicySource {
            source: source.into(),
            digest: "d".into(),
        };
        let mut v = Verdict::new(policy, 0, Clock::PushTime);
        v.push(CheckOutcome::ran("protection", vec![]));
        v
    }

    #[test]
    fn absorbing_lists_each_policy_once_even_with_separators_in_its_text() {
        let text = "built-in default (no policy; secret scanning only; run `vouch init`)";
        let mut all = under(text);
        all.absorb(under(text));
        all.absorb(under("refs/heads/main:.vouch/policy.toml"));
        assert_eq!(all.policies.len(), 2);
        assert_eq!(all.policy_line().matches("secret scanning only").count(), 1);
    }

    #[test]
    fn absorbing_keeps_the_worse_status() {
        let mut all = under("p");
        let mut failing = under("p");
        failing.checks[0] =
            CheckOutcome::ran("protection", vec![Finding::error("protection.x", "no")]);
        all.absorb(failing);
        assert_eq!(all.checks.len(), 1);
        assert_eq!(all.checks[0].status, Status::Fail);
        assert!(!all.passed());
    }
}
