//! The `secrets` check: pre-commit judges the staged files' added lines; push points judge the
//! lines each pushed commit added, each distinct blob once.

use super::report::{broken_rule, findings, not_scanned, Allowed, Located};
use super::{load, load_baseline, Scanner};
use crate::change::{Change, FileChange, Point};
use crate::check::{Check, CheckError};
use crate::finding::{Finding, Location};
use crate::policy::Policy;
use std::collections::HashSet;

/// The secret-scanning check.
#[derive(Debug, Clone, Copy, Default)]
pub struct Secrets;

impl Check for Secrets {
    fn id(&self) -> &'static str {
        "secrets"
    }

    fn skip_reason(&self, policy: &Policy, change: &Change) -> Option<String> {
        if !policy.secrets.enabled {
            return Some("secret scanning is off ([secrets] enabled = false)".into());
        }
        if change.point == Point::CommitMsg {
            return Some(
                "nothing to scan at commit-msg (pre-commit scans the staged files)".into(),
            );
        }
        None
    }

    fn run(&self, policy: &Policy, change: &Change) -> Result<Vec<Finding>, CheckError> {
        // Nothing added, nothing to scan: a hook on an empty change loads no rules at all.
        let added = |f: &FileChange| !f.hunks.is_empty();
        let nothing = if change.point == Point::PreCommit {
            !change.staged.iter().any(added)
        } else {
            !change
                .commits()
                .iter()
                .any(|(_, c)| c.files.iter().any(added))
        };
        if nothing {
            // Still fail closed on a broken custom rule file or baseline, when there is one.
            let s = &policy.secrets;
            if policy.files.get(&s.rules_file).is_some() || s.rules_file != ".vouch/secrets.toml" {
                super::all_rules(policy).map_err(|e| CheckError(e.to_string()))?;
            }
            load_baseline(policy).map_err(|e| CheckError(e.to_string()))?;
            return Ok(Vec::new());
        }
        let scanner = load(policy).map_err(|e| CheckError(e.to_string()))?;
        let baseline = load_baseline(policy).map_err(|e| CheckError(e.to_string()))?;
        let mut found = Vec::new();
        let mut other = Vec::new();
        if change.point == Point::PreCommit {
            for file in &change.staged {
                scan_file_change(&scanner, file, Location::default(), &mut found, &mut other);
            }
        } else {
            let mut blobs = HashSet::new();
            for (update, commit) in change.commits() {
                for file in &commit.files {
                    if let Some(blob) = &file.new_blob {
                        if !blobs.insert(blob.as_str()) {
                            continue;
                        }
                    }
                    let base = Location::commit(commit.id.clone()).with_ref(update.name.clone());
                    scan_file_change(&scanner, file, base, &mut found, &mut other);
                }
            }
        }
        let mut out = findings(found, &baseline, Allowed::Hide);
        out.extend(other);
        Ok(out)
    }
}

/// Scan one file's added lines. `base` carries the commit and ref, if any.
pub fn scan_file_change(
    scanner: &Scanner,
    file: &FileChange,
    base: Location,
    found: &mut Vec<Located>,
    other: &mut Vec<Finding>,
) {
    if file.binary || file.hunks.is_empty() || scanner.path_allowed(&file.path) {
        return;
    }
    let mut location = base;
    location.path = Some(file.path.clone());
    let size: u64 = file.hunks.iter().map(|h| h.text.len() as u64).sum();
    let limit = scanner.settings().max_file_bytes;
    if size > limit {
        other.push(not_scanned(location, size, limit));
        return;
    }
    for hunk in &file.hunks {
        let scan = scanner.scan_bytes(&hunk.text, hunk.start_line);
        other.extend(scan.broken_rules.iter().map(|r| broken_rule(r)));
        found.extend(scan.matches.into_iter().map(|m| Located {
            found: m,
            location: location.clone(),
        }));
    }
}
