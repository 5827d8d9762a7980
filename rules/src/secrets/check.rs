//! The `secrets` check: a commit being made is judged by the staged files' added lines; a push
//! by the lines each pushed commit added, each distinct blob once.
//!
//! "Added" means the lines a diff against the first parent marks as added, everywhere: here,
//! in `vouch scan --staged` and in `vouch scan --git` ([`super::history`] reaches the same
//! lines through [`scan_file_change`]), so a secret is found by every command or by none.

use super::report::{broken_rule, findings, not_scanned, Allowed, Located};
use super::{load, load_baseline, Baseline, Scanner};
use crate::change::{Change, FileChange, Stage};
use crate::check::{Check, CheckError, Prepared};
use crate::finding::{Finding, Location};
use crate::policy::{Policy, PolicyError};
use crate::verdict::Evidence;
use std::collections::HashSet;

/// The secret-scanning check; its rules and baseline are compiled once per policy.
#[derive(Debug, Default)]
pub struct Secrets {
    scanner: Prepared<Scanner>,
    baseline: Prepared<Baseline>,
}

impl Secrets {
    fn scanner(&self, policy: &Policy) -> Result<&Scanner, &PolicyError> {
        self.scanner.get(|| load(policy))
    }

    fn baseline(&self, policy: &Policy) -> Result<&Baseline, &PolicyError> {
        self.baseline.get(|| load_baseline(policy))
    }
}

impl Check for Secrets {
    fn id(&self) -> &'static str {
        "secrets"
    }

    fn skip_reason(&self, policy: &Policy, change: &Change) -> Option<String> {
        if !policy.secrets.enabled {
            return Some("secret scanning is off ([secrets] enabled = false)".into());
        }
        if change.stage == Stage::Message {
            return Some(
                "nothing to scan at commit-msg (pre-commit scans the staged files)".into(),
            );
        }
        None
    }

    fn run(
        &self,
        policy: &Policy,
        change: &Change,
        _evidence: &mut Evidence,
    ) -> Result<Vec<Finding>, CheckError> {
        let added = |f: &FileChange| !f.hunks.is_empty();
        let nothing = !change.staged.iter().any(added)
            && !change
                .commits()
                .iter()
                .any(|(_, c)| c.files.iter().any(added));
        if nothing {
            // Nothing added builds no rule table (a hook on an empty change stays instant), but
            // a broken custom rule file or baseline still fails closed.
            let s = &policy.secrets;
            if policy.files.get(&s.rules_file).is_some() || s.rules_file != ".vouch/secrets.toml" {
                super::all_rules(policy)?;
            }
            self.baseline(policy)?;
            return Ok(Vec::new());
        }
        let scanner = self.scanner(policy)?;
        let baseline = self.baseline(policy)?;
        let mut found = Vec::new();
        let mut other = Vec::new();
        for file in &change.staged {
            scan_file_change(scanner, file, Location::default(), &mut found, &mut other);
        }
        let mut blobs = HashSet::new();
        for (update, commit) in change.commits() {
            for file in &commit.files {
                if let Some(blob) = &file.new_blob {
                    if !blobs.insert(blob.as_str()) {
                        continue;
                    }
                }
                let base = Location::commit(commit.id.clone()).with_ref(update.name.clone());
                scan_file_change(scanner, file, base, &mut found, &mut other);
            }
        }
        let mut out = findings(found, baseline, Allowed::Hide);
        out.extend(other);
        Ok(out)
    }

    fn prepare(&self, policy: &Policy) -> Vec<PolicyError> {
        let mut errors = Vec::new();
        if let Err(e) = self.scanner(policy) {
            errors.push(e.clone());
        }
        if let Err(e) = self.baseline(policy) {
            errors.push(e.clone());
        }
        errors
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
