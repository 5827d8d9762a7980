//! The one evaluation engine behind every enforcement point.
//!
//! [`Engine::new`] takes a policy snapshot and builds every check once; each check compiles what
//! it reads from the policy's files (keys, allowed signers, secret rules, baseline, CODEOWNERS)
//! the first time it needs it, or all at once with [`Engine::prepare`]. An engine judges any
//! number of changes, from any number of threads.
//!
//! # From an async server
//! [`Engine::evaluate`] is synchronous and CPU-bound (signature checks and secret scanning run
//! on rayon's pool). An async server keeps engines in a cache keyed by
//! [`Policy::digest`] (which covers every policy file), wraps them in `Arc`, and calls
//! `evaluate` inside `tokio::task::spawn_blocking`, bounding how many run at once with a
//! semaphore sized to the cores, so judging never stalls the reactor that answers webhooks.

use crate::change::Change;
use crate::check::{Check, Prepared};
use crate::policy::{Policy, PolicyError};
use crate::verdict::{CheckOutcome, Evidence, PolicySource, Verdict};
use std::sync::Arc;

/// A policy with its checks built, ready to judge changes.
#[derive(Debug)]
pub struct Engine {
    policy: Policy,
    checks: Vec<Box<dyn Check>>,
}

impl Engine {
    /// Every check vouch has, in the order verdicts list them, under `policy`.
    pub fn new(policy: Policy) -> Engine {
        let trust = Arc::new(Prepared::default());
        let checks: Vec<Box<dyn Check>> = vec![
            Box::new(crate::protection::Protection),
            Box::new(crate::commit_message::CommitMessage),
            Box::new(crate::signatures::Signatures::new(Arc::clone(&trust))),
            Box::new(crate::secrets::Secrets::default()),
            Box::new(crate::review::Review::new(trust)),
            Box::new(crate::attest::check::Notes),
        ];
        Engine { policy, checks }
    }

    /// Only the checks whose ids are in `ids` (e.g. `["review"]` for `vouch review`).
    pub fn only(mut self, ids: &[&str]) -> Engine {
        self.checks.retain(|c| ids.contains(&c.id()));
        self
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Load and compile everything now; every problem in the files the policy points at.
    /// Empty when all of them load cleanly (what `vouch policy check` reports).
    pub fn prepare(&self) -> Vec<PolicyError> {
        let mut errors: Vec<PolicyError> = Vec::new();
        for check in &self.checks {
            for e in check.prepare(&self.policy) {
                if !errors.contains(&e) {
                    errors.push(e);
                }
            }
        }
        errors
    }

    /// Judge `change` with every check.
    pub fn evaluate(&self, change: &Change) -> Verdict {
        let source = PolicySource {
            source: self.policy.describe(),
            digest: self.policy.digest.clone(),
        };
        let mut verdict = Verdict::new(source, change.now, change.clock);
        verdict.push_options = change.push_options.clone();
        let mut evidence = Evidence::default();
        for check in &self.checks {
            let outcome = match check.skip_reason(&self.policy, change) {
                Some(reason) => CheckOutcome::skipped(check.id(), reason),
                None => match check.run(&self.policy, change, &mut evidence) {
                    Ok(findings) => CheckOutcome::ran(check.id(), findings),
                    Err(e) => CheckOutcome::broken(check.id(), e.0),
                },
            };
            verdict.push(outcome);
        }
        verdict.evidence = evidence;
        verdict
    }
}

/// Judge `change` under `policy` with every check: a one-off [`Engine`].
pub fn evaluate(policy: &Policy, change: &Change) -> Verdict {
    Engine::new(policy.clone()).evaluate(change)
}

/// Every problem in the files the policy points at (CODEOWNERS, keys, secret rules, baseline).
pub fn validate_files(policy: &Policy) -> Vec<PolicyError> {
    Engine::new(policy.clone()).prepare()
}
