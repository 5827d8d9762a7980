//! Four-eyes review of a pull request: enough independent approvals on the current head, an
//! approval from a code owner of every owned path group, and no blocking change request.
//!
//! Who is *not independent* comes from the policy (`[review] not_independent`): by default the
//! pull request's author, every commit's author, committer and co-author, and the last pusher.
//! Commits signed by a bot's trusted signer (`[[review.bots]]`), such as update merges, do not
//! count against anyone. Ownership comes from the *target branch's* CODEOWNERS (the policy
//! snapshot), never the pull request's, and a change to `.vouch/` or CODEOWNERS always needs its
//! owners' approval under it. Findings name who must still approve, who approved, and who was
//! excluded and why.

mod approvals;
mod owners;
mod people;

pub use crate::change::forge::{PullRequest, Review as SubmittedReview, ReviewState};

use crate::change::{Change, Person, Stamp};
use crate::check::{Check, CheckError, Prepared};
use crate::codeowners::CodeOwners;
use crate::finding::Finding;
use crate::policy::{Policy, PolicyError, ReviewPolicy, CODEOWNERS_PATHS, VOUCH_DIR};
use crate::signatures::{self, Trust};
use crate::verdict::{Evidence, ReviewRecord};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The review check. CODEOWNERS is loaded once per policy; the signers are shared with the
/// signatures check.
#[derive(Debug, Default)]
pub struct Review {
    owners: Prepared<Option<CodeOwners>>,
    trust: Arc<Prepared<Trust>>,
}

impl Review {
    pub(crate) fn new(trust: Arc<Prepared<Trust>>) -> Self {
        Review {
            owners: Prepared::default(),
            trust,
        }
    }

    fn owners(&self, policy: &Policy) -> Result<Option<&CodeOwners>, &PolicyError> {
        self.owners
            .get(|| crate::codeowners::load(policy))
            .map(Option::as_ref)
    }
}

impl Check for Review {
    fn id(&self) -> &'static str {
        "review"
    }

    fn skip_reason(&self, _policy: &Policy, change: &Change) -> Option<String> {
        if change.pull_request.is_none() {
            return Some(
                "no pull request to judge: four-eyes review applies to pull requests (the bot, `vouch review --input`)"
                    .into(),
            );
        }
        None
    }

    fn run(
        &self,
        policy: &Policy,
        change: &Change,
        evidence: &mut Evidence,
    ) -> Result<Vec<Finding>, CheckError> {
        let Some(pr) = &change.pull_request else {
            return Ok(Vec::new());
        };
        let owners = self
            .owners(policy)
            .map_err(|e| CheckError(format!("cannot load CODEOWNERS: {e}")))?;
        let trust = signatures::signers(&self.trust, policy)
            .map_err(|e| CheckError(format!("cannot load the signers: {e}")))?;
        let facts = Facts::gather(pr, change, trust, policy, evidence);
        let (findings, record) = evaluate(&policy.review, owners, &facts);
        evidence.review = Some(record);
        Ok(findings)
    }

    fn prepare(&self, policy: &Policy) -> Vec<PolicyError> {
        let mut errors = crate::codeowners::validate(policy);
        if let Err(e) = self.owners(policy) {
            if !errors.contains(e) {
                errors.push(e.clone());
            }
        }
        errors
    }
}

/// One commit of the pull request, as review reads it: who made it, and the signer the engine
/// verified (never one the caller claims).
#[derive(Debug, Clone)]
pub(crate) struct CommitFacts<'a> {
    pub(crate) id: &'a str,
    pub(crate) author: &'a Stamp,
    pub(crate) committer: &'a Stamp,
    pub(crate) co_authors: &'a [Person],
    pub(crate) verified_signer: Option<String>,
}

/// The pull request as review judges it: the forge's facts and git's.
#[derive(Debug, Clone)]
pub(crate) struct Facts<'a> {
    pub(crate) pr: &'a PullRequest,
    pub(crate) commits: Vec<CommitFacts<'a>>,
    /// Every path a commit of the pull request touches (both names of a rename).
    pub(crate) changed_paths: Vec<String>,
}

impl<'a> Facts<'a> {
    /// `evidence` holds what the signatures check already verified in this evaluation; a commit
    /// it has no record of (the check was skipped, or review runs alone) is verified here.
    fn gather(
        pr: &'a PullRequest,
        change: &'a Change,
        trust: &Trust,
        policy: &Policy,
        evidence: &Evidence,
    ) -> Self {
        let clock = signatures::clock_for(change);
        let judged: std::collections::HashMap<&str, &crate::verdict::SignatureRecord> = evidence
            .signatures
            .iter()
            .filter(|r| r.kind == "commit")
            .map(|r| (r.object.as_str(), r))
            .collect();
        let mut paths = BTreeSet::new();
        let commits = change
            .commits()
            .into_iter()
            .map(|(_, commit)| {
                for file in &commit.files {
                    paths.insert(clean_path(&file.path));
                }
                let verified_signer = match judged.get(commit.id.as_str()) {
                    Some(r) => (r.status == signatures::SigStatus::Good.as_str())
                        .then(|| r.signer.clone())
                        .flatten(),
                    None => {
                        let v = signatures::verify_commit(trust, &policy.signatures, commit, clock);
                        (v.status == signatures::SigStatus::Good)
                            .then_some(v.signer)
                            .flatten()
                    }
                };
                CommitFacts {
                    id: &commit.id,
                    author: &commit.author,
                    committer: &commit.committer,
                    co_authors: &commit.co_authors,
                    verified_signer,
                }
            })
            .collect();
        Facts {
            pr,
            commits,
            changed_paths: paths.into_iter().collect(),
        }
    }
}

/// A commit id as people quote it in review messages.
pub(crate) fn short(id: &str) -> &str {
    id.get(..7).unwrap_or(id)
}

pub(crate) fn at(login: &str) -> String {
    format!("@{login}")
}

pub(crate) fn list(items: &[String]) -> String {
    const SHOWN: usize = 5;
    if items.len() <= SHOWN {
        items.join(", ")
    } else {
        format!(
            "{} and {} more",
            items[..SHOWN].join(", "),
            items.len() - SHOWN
        )
    }
}

/// A changed path as CODEOWNERS sees it: from the root, without empty or `.` parts.
pub(crate) fn clean_path(path: &str) -> String {
    path.split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// True for paths whose change needs their owners' approval whatever the policy says.
pub fn is_policy_path(path: &str) -> bool {
    path.starts_with(&format!("{VOUCH_DIR}/")) || CODEOWNERS_PATHS.contains(&path)
}

/// Judge the pull request's reviews. `owners` is the target branch's CODEOWNERS.
pub(crate) fn evaluate(
    policy: &ReviewPolicy,
    owners: Option<&CodeOwners>,
    facts: &Facts<'_>,
) -> (Vec<Finding>, ReviewRecord) {
    let pr = facts.pr;
    let mut findings = Vec::new();
    let people = people::People::new(pr);
    let involved = people::involvement(policy, facts, &people, &mut findings);
    let standings = approvals::standings(pr, &mut findings);
    let tally = approvals::tally(policy, pr, &people, &involved, &standings);
    findings.push(approvals::general(policy, pr, &tally));
    let record = ReviewRecord {
        pull_request: pr.number,
        head: pr.head_sha.clone(),
        required_approvals: policy.required_approvals,
        approvals: tally.records.clone(),
        not_independent: involved.clone(),
    };

    let Some(owners) = owners else {
        if policy.require_code_owners {
            findings.push(Finding::note(
                "review.no-codeowners",
                "the target branch has no CODEOWNERS: no path has a code owner, only the general approvals apply",
            ));
        }
        if let Some(path) = facts.changed_paths.iter().find(|p| is_policy_path(p)) {
            findings.push(owners::policy_without_owner(path, None));
        }
        return (findings, record);
    };
    findings.extend(owners::skipped_lines(owners));
    let groups = owners::groups(owners, &facts.changed_paths, &mut findings);
    findings.extend(owners::approvals(
        policy, pr, owners, &groups, &people, &tally,
    ));
    findings.extend(owners::change_requests(
        policy, &standings, &groups, &people,
    ));
    if policy.require_code_owners && !groups.unowned.is_empty() {
        findings.push(owners::unowned_note(&groups.unowned));
    }
    (findings, record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_paths() {
        assert!(is_policy_path(".vouch/policy.toml"));
        assert!(is_policy_path(".github/CODEOWNERS"));
        assert!(is_policy_path("docs/CODEOWNERS"));
        assert!(!is_policy_path("src/CODEOWNERS"));
        assert!(!is_policy_path(".vouchx/a"));
        assert!(is_policy_path(&clean_path("/./.vouch//policy.toml")));
    }
}
