//! The two in-toto Statements (v1, <https://in-toto.io/Statement/v1>) vouch writes about a merge
//! commit: a SLSA Verification Summary (<https://slsa.dev/verification_summary/v1>) that any SLSA
//! tool understands, and vouch's own predicate with everything that was verified.

use crate::verdict::{Status, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const VSA_PREDICATE_TYPE: &str = "https://slsa.dev/verification_summary/v1";
pub const VOUCH_PREDICATE_TYPE: &str = "https://vouch.invalid/attestation/merge/v1";
/// Claimed when four-eyes review held (SLSA verified properties).
pub const TWO_PARTY_REVIEWED: &str = "SLSA_SOURCE_TWO_PARTY_REVIEWED";

/// What a statement is about: here, always one git commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The ref the commit was merged into, e.g. `refs/heads/main`.
    pub name: String,
    /// `{"gitCommit": "<id>"}`.
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    pub fn commit(&self) -> Option<&str> {
        self.digest.get("gitCommit").map(String::as_str)
    }
}

/// An in-toto Statement v1 with predicate `P`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement<P> {
    #[serde(rename = "_type")]
    pub type_: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: P,
}

impl<P> Statement<P> {
    /// The one commit this statement is about, when it has exactly one subject.
    pub fn subject_commit(&self) -> Option<(&str, &str)> {
        match self.subject.as_slice() {
            [only] => only.commit().map(|c| (c, only.name.as_str())),
            _ => None,
        }
    }
}

/// A `ResourceDescriptor` as VSA uses it for `policy` and `inputAttestations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub uri: String,
    pub digest: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verifier {
    pub id: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub version: BTreeMap<String, String>,
}

/// The SLSA Verification Summary predicate, v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vsa {
    pub verifier: Verifier,
    pub time_verified: String,
    pub resource_uri: String,
    pub policy: Resource,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_attestations: Vec<Resource>,
    pub verification_result: String,
    pub verified_levels: Vec<String>,
    pub slsa_version: String,
}

/// One commit the merge brought, and who signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergedCommit {
    pub commit: String,
    /// `good`, or the status the policy accepted (e.g. `unsigned-merge`).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// Who approved, and who was not independent of the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewSummary {
    pub pull_request: u64,
    pub head: String,
    pub approvers: Vec<String>,
    /// Login → why it is not independent (or why the approval did not count).
    pub excluded: BTreeMap<String, Vec<String>>,
    pub four_eyes: bool,
}

/// A check that held, as the verdict reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckHeld {
    pub check: String,
    /// `pass` or `skipped`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// vouch's predicate: what was verified before the merge was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergePredicate {
    pub verifier: Verifier,
    pub time_verified: String,
    /// The target ref, e.g. `refs/heads/main`.
    pub target: String,
    /// `merge`, `squash` or `rebase`.
    pub method: String,
    /// The target's tip before the merge; `None` when the merge created the branch.
    pub previous_tip: Option<String>,
    /// The first-parent commits this merge put on the target, newest first (the subject first).
    pub landed: Vec<String>,
    /// The tip of the branch that was merged.
    pub source_tip: String,
    pub merged_commits: Vec<MergedCommit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewSummary>,
    pub checks: Vec<CheckHeld>,
    /// `{"sha256": …}`: the policy (every policy file) of the target at `previous_tip`.
    pub policy_digest: BTreeMap<String, String>,
    pub policy_source: String,
    /// `{"sha256": …}` of the note holding the previous tip's attestation; `None` starts a chain.
    pub previous_attestation: Option<BTreeMap<String, String>>,
}

/// Everything a merge's attestation states, gathered by whoever made the merge.
#[derive(Debug, Clone)]
pub struct MergeFacts<'v> {
    pub verifier_id: String,
    pub verifier_version: String,
    pub time_verified: i64,
    /// Where the repository lives, e.g. `git+https://git.example.com/project.git`.
    pub repository: String,
    pub target: String,
    pub method: String,
    pub merge_commit: String,
    pub previous_tip: Option<String>,
    pub landed: Vec<String>,
    pub source_tip: String,
    /// The passing verdict that allowed the merge.
    pub verdict: &'v Verdict,
    /// The SHA-256 of the previous attestation note, hex.
    pub previous_attestation: Option<String>,
    /// Source levels the target's protection gives (see [`source_levels`]).
    pub levels: Vec<String>,
}

fn sha256(hex: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("sha256".to_string(), hex.to_string())])
}

/// The SLSA source levels a policy's controls on `target` support: L1 (version control) always;
/// L2 when a `[[branch]]` rule forbids deleting and rewriting the branch; L3 when, on top of
/// that, every change must arrive through a reviewed merge and signatures are required.
pub fn source_levels(policy: &crate::Policy, target: &str) -> Vec<String> {
    let rules: Vec<_> = policy.rules_for(target).collect();
    let history = !rules.is_empty()
        && rules
            .iter()
            .all(|r| !r.allow_deletion && !r.allow_force_push);
    let enforced = history && rules.iter().all(|r| r.require_review) && policy.signatures.required;
    let top = if enforced {
        3
    } else if history {
        2
    } else {
        1
    };
    vec![format!("SLSA_SOURCE_LEVEL_{top}")]
}

impl MergeFacts<'_> {
    fn subject(&self) -> Vec<Subject> {
        vec![Subject {
            name: self.target.clone(),
            digest: BTreeMap::from([("gitCommit".to_string(), self.merge_commit.clone())]),
        }]
    }

    fn verifier(&self) -> Verifier {
        Verifier {
            id: self.verifier_id.clone(),
            version: BTreeMap::from([("vouch".to_string(), self.verifier_version.clone())]),
        }
    }

    fn policy_digest(&self) -> &str {
        self.verdict
            .policies
            .first()
            .map_or("", |p| p.digest.as_str())
    }

    /// The review summary, when review input was judged.
    pub fn review(&self) -> Option<ReviewSummary> {
        let record = self.verdict.evidence.review.as_ref()?;
        let held = self
            .verdict
            .checks
            .iter()
            .any(|c| c.check == "review" && c.status == Status::Pass);
        let approvers: Vec<String> = record
            .approvals
            .iter()
            .filter(|a| a.counted)
            .map(|a| a.reviewer.clone())
            .collect();
        let mut excluded = record.not_independent.clone();
        for a in record.approvals.iter().filter(|a| !a.counted) {
            excluded
                .entry(a.reviewer.clone())
                .or_default()
                .push(a.reason.clone());
        }
        Some(ReviewSummary {
            pull_request: record.pull_request,
            head: record.head.clone(),
            four_eyes: held && !approvers.is_empty(),
            approvers,
            excluded,
        })
    }

    /// The SLSA Verification Summary statement.
    pub fn vsa(&self) -> Statement<Vsa> {
        let mut levels = self.levels.clone();
        if self.review().is_some_and(|r| r.four_eyes) {
            levels.push(TWO_PARTY_REVIEWED.to_string());
        }
        Statement {
            type_: STATEMENT_TYPE.into(),
            subject: self.subject(),
            predicate_type: VSA_PREDICATE_TYPE.into(),
            predicate: Vsa {
                verifier: self.verifier(),
                time_verified: crate::time::iso(self.time_verified),
                resource_uri: self.repository.clone(),
                policy: Resource {
                    uri: format!(
                        "{}@{}#.vouch/policy.toml",
                        self.repository,
                        self.previous_tip.as_deref().unwrap_or(&self.target)
                    ),
                    digest: sha256(self.policy_digest()),
                },
                input_attestations: self
                    .previous_attestation
                    .iter()
                    .map(|d| Resource {
                        uri: format!(
                            "{}@{}",
                            self.repository,
                            self.previous_tip.as_deref().unwrap_or_default()
                        ),
                        digest: sha256(d),
                    })
                    .collect(),
                verification_result: "PASSED".into(),
                verified_levels: levels,
                slsa_version: "1.2".into(),
            },
        }
    }

    /// vouch's own statement.
    pub fn merge(&self) -> Statement<MergePredicate> {
        let merged_commits = self
            .verdict
            .evidence
            .signatures
            .iter()
            .filter(|s| s.kind == "commit")
            .map(|s| MergedCommit {
                commit: s.object.clone(),
                status: s.status.to_string(),
                signer: s.signer.clone(),
                key: s.fingerprint.clone(),
                format: s.format.map(str::to_string),
            })
            .collect();
        let checks = self
            .verdict
            .checks
            .iter()
            .map(|c| CheckHeld {
                check: c.check.clone(),
                status: match c.status {
                    Status::Pass => "pass",
                    Status::Skipped => "skipped",
                    Status::Fail => "fail",
                    Status::Error => "error",
                }
                .into(),
                reason: c.reason.clone(),
            })
            .collect();
        Statement {
            type_: STATEMENT_TYPE.into(),
            subject: self.subject(),
            predicate_type: VOUCH_PREDICATE_TYPE.into(),
            predicate: MergePredicate {
                verifier: self.verifier(),
                time_verified: crate::time::iso(self.time_verified),
                target: self.target.clone(),
                method: self.method.clone(),
                previous_tip: self.previous_tip.clone(),
                landed: self.landed.clone(),
                source_tip: self.source_tip.clone(),
                merged_commits,
                review: self.review(),
                checks,
                policy_digest: sha256(self.policy_digest()),
                policy_source: self.verdict.policy_line(),
                previous_attestation: self.previous_attestation.as_deref().map(sha256),
            },
        }
    }
}
