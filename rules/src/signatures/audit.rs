//! Auditing history from a trust root, the sequoia-git way: every commit after the root is judged
//! by the policy in its parents' trees, so a commit can never vouch for itself. A merge passes
//! when one parent's policy accepts it; a commit whose parent has no policy cannot be judged and
//! fails closed.

use super::{findings_with, load, record, verify_commit, verify_tag, Target, Trust};
use crate::change::Change;
use crate::finding::{short_id, Finding, Location};
use crate::policy::{resolve, Policy, PolicyError, PolicyFiles, VOUCH_DIR};
use crate::verdict::{CheckOutcome, PolicySource, SignatureRecord, Verdict};
use git2::{Oid, Repository};
use rayon::prelude::*;
use std::collections::HashMap;

/// Why an audit could not start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    #[error("the trust root {root} has no .vouch/policy.toml")]
    RootWithoutPolicy { root: String },
    #[error("cannot read {what}: {reason}")]
    Git { what: String, reason: String },
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

impl AuditError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            AuditError::RootWithoutPolicy { .. } => {
                "choose a commit that has a policy (`git log --diff-filter=A -- .vouch/policy.toml`)"
            }
            AuditError::Git { .. } => "check that the repository is complete (`git fsck`)",
            AuditError::Policy(_) => "fix the policy file named above in that commit's tree",
        }
    }
}

/// One policy and its signers, loaded once per distinct `.vouch/` tree.
struct Judge {
    policy: Policy,
    trust: Trust,
}

/// Every distinct judge (`None` for a tree without a policy), and which one judges each parent.
struct Judges {
    judges: Vec<Option<Judge>>,
    of_parent: HashMap<String, usize>,
}

fn git(what: impl Into<String>) -> impl FnOnce(git2::Error) -> AuditError {
    let what = what.into();
    move |e| AuditError::Git {
        what,
        reason: e.message().to_string(),
    }
}

/// The policies of every parent of `change`'s commits, one [`Judge`] per distinct `.vouch` tree.
fn judges(
    repo: &Repository,
    root: Oid,
    root_policy: &Policy,
    change: &Change,
) -> Result<Judges, AuditError> {
    let mut judges: Vec<Option<Judge>> = Vec::new();
    let mut by_tree: HashMap<Option<Oid>, usize> = HashMap::new();
    let mut of_parent: HashMap<String, usize> = HashMap::new();
    for (_, commit) in change.commits() {
        for parent in &commit.parents {
            if of_parent.contains_key(parent) {
                continue;
            }
            let pid = Oid::from_str(parent).map_err(git(format!("commit {parent}")))?;
            let tree = repo
                .find_commit(pid)
                .and_then(|c| c.tree())
                .map_err(git(format!("commit {parent}")))?;
            let sub = tree
                .get_path(std::path::Path::new(VOUCH_DIR))
                .ok()
                .map(|e| e.id());
            let index = match by_tree.get(&sub) {
                Some(&i) => i,
                None => {
                    let policy = if pid == root {
                        Some(root_policy.clone())
                    } else {
                        Policy::load(PolicyFiles::from_tree(repo, &tree, parent.clone())?)?
                    };
                    let judge = match policy {
                        Some(policy) => Some(Judge {
                            trust: load(&policy)?,
                            policy,
                        }),
                        None => None,
                    };
                    judges.push(judge);
                    by_tree.insert(sub, judges.len() - 1);
                    judges.len() - 1
                }
            };
            of_parent.insert(parent.clone(), index);
        }
    }
    Ok(Judges { judges, of_parent })
}

fn no_policy(commit: &crate::change::Commit, parent: &str, reference: &str) -> Finding {
    Finding::error(
        "signatures.no-policy",
        format!(
            "commit {} cannot be judged: its parent {} has no .vouch/policy.toml",
            short_id(&commit.id),
            short_id(parent)
        ),
    )
    .at(Location::commit(&commit.id).with_ref(reference))
    .hint("audit from a later trust root, after the policy was added")
}

/// Judge every commit of `change` (those after `root`) by its parents' policies, and its tags by
/// the policy of the commit they tag.
pub fn audit(
    repo: &Repository,
    root: Oid,
    change: &Change,
    report_good: bool,
) -> Result<Verdict, AuditError> {
    let root_policy =
        resolve::at_commit(repo, root)?.ok_or_else(|| AuditError::RootWithoutPolicy {
            root: root.to_string(),
        })?;
    let Judges { judges, of_parent } = judges(repo, root, &root_policy, change)?;
    let clock = super::clock_for(change);
    let judged: Vec<(Vec<Finding>, Option<SignatureRecord>)> = change
        .commits()
        .par_iter()
        .map(|(update, commit)| {
            let target = Target::Commit(update, commit);
            let mut first: Option<(Vec<Finding>, Option<SignatureRecord>)> = None;
            for parent in &commit.parents {
                let Some(judge) = of_parent.get(parent).and_then(|&i| judges[i].as_ref()) else {
                    first.get_or_insert_with(|| {
                        (vec![no_policy(commit, parent, &update.name)], None)
                    });
                    continue;
                };
                let v = verify_commit(&judge.trust, &judge.policy.signatures, commit, clock);
                let found = findings_with(&v, &target, &judge.trust, report_good);
                let rec = Some(record(&v, &target));
                if v.accepted {
                    return (found, rec);
                }
                first.get_or_insert((found, rec));
            }
            first.unwrap_or_default()
        })
        .collect();
    let mut findings = Vec::new();
    let mut records = Vec::new();
    for (f, r) in judged {
        findings.extend(f);
        records.extend(r);
    }
    for update in &change.updates {
        let Some(tip) = update.commits.first() else {
            continue;
        };
        if update.tags.is_empty() {
            continue;
        }
        let tip = Oid::from_str(&tip.id).map_err(git(format!("commit {}", tip.id)))?;
        if let Some(policy) = resolve::at_commit(repo, tip)? {
            let trust = load(&policy)?;
            for tag in &update.tags {
                let v = verify_tag(&trust, &policy.signatures, tag, clock);
                let target = Target::Tag(update, tag);
                findings.extend(findings_with(&v, &target, &trust, report_good));
                records.push(record(&v, &target));
            }
        }
    }
    let source = PolicySource {
        source: format!(
            "trust root {}: each commit judged by the policy in its parent's tree",
            short_id(&root.to_string())
        ),
        digest: root_policy.digest.clone(),
    };
    let mut verdict = Verdict::new(source, change.now, change.clock);
    verdict.push(CheckOutcome::ran("signatures", findings));
    verdict.evidence.signatures = records;
    Ok(verdict)
}
