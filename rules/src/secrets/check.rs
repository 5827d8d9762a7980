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
        // A file too large to read counts as added: it must be reported, not passed over.
        let added = |f: &FileChange| !f.hunks.is_empty() || f.too_large.is_some();
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
    let unread = file.too_large.is_some();
    if file.binary || (file.hunks.is_empty() && !unread) || scanner.path_allowed(&file.path) {
        return;
    }
    let mut location = base;
    location.path = Some(file.path.clone());
    let added: u64 = file.hunks.iter().map(|h| h.text.len() as u64).sum();
    let size = file.too_large.unwrap_or(added);
    let settings = scanner.settings();
    if unread || size > settings.max_file_bytes {
        other.push(not_scanned(
            location,
            size,
            settings.max_file_bytes,
            settings.oversize,
        ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{Commit, Hunk, RefUpdate, Stamp, UpdateKind};
    use crate::finding::Severity;
    use crate::policy::{Origin, PolicyFiles};

    fn policy(secrets: &str) -> Policy {
        Policy::parse(
            &format!("[signatures]\nrequired = false\n[secrets]\n{secrets}"),
            ".vouch/policy.toml",
            Origin::BuiltIn,
            String::new(),
            PolicyFiles::new(""),
        )
        .unwrap()
    }

    fn file(path: &str, text: &[u8], too_large: Option<u64>) -> FileChange {
        FileChange {
            path: path.into(),
            old_blob: None,
            new_blob: Some("b".repeat(40)),
            binary: false,
            too_large,
            hunks: if text.is_empty() {
                vec![]
            } else {
                vec![Hunk {
                    start_line: 1,
                    text: text.to_vec(),
                }]
            },
        }
    }

    fn pushed(files: Vec<FileChange>) -> Change {
        let stamp = Stamp {
            name: "a".into(),
            email: "a@example.com".into(),
            time: 0,
            offset_minutes: 0,
        };
        let mut change = Change::new(Stage::Push, 1_764_068_400);
        change.updates.push(RefUpdate {
            name: "refs/heads/main".into(),
            old: None,
            new: Some("c".repeat(40)),
            kind: UpdateKind::Create,
            commits: vec![Commit {
                id: "c".repeat(40),
                raw: Vec::new(),
                parents: vec![],
                tree: "t".repeat(40),
                author: stamp.clone(),
                committer: stamp,
                co_authors: vec![],
                message: "m\n".into(),
                files,
            }],
            tags: vec![],
        });
        change
    }

    fn run(policy: &Policy, change: &Change) -> Vec<Finding> {
        Secrets::default()
            .run(policy, change, &mut Evidence::default())
            .unwrap()
    }

    #[test]
    fn a_file_too_large_for_the_diff_engine_fails_even_with_no_added_lines() {
        // No hunks at all: the fast "nothing added" path must not pass it over.
        let change = pushed(vec![file("huge.log", b"", Some(600 << 20))]);
        let found = run(&policy(""), &change);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, "secrets.not-scanned");
        assert_eq!(found[0].severity, Severity::Error);
        let warned = run(&policy("oversize = \"warn\"\n"), &change);
        assert_eq!(warned[0].severity, Severity::Warning);
    }

    #[test]
    fn added_lines_over_the_limit_fail_and_under_it_are_scanned() {
        let big = vec![b'x'; 2048];
        let change = pushed(vec![file("big.txt", &big, None)]);
        let found = run(&policy("max_file_bytes = 1024\n"), &change);
        assert_eq!(found[0].rule, "secrets.not-scanned");
        assert_eq!(found[0].severity, Severity::Error);
        assert!(run(&policy("max_file_bytes = 4096\n"), &change).is_empty());
    }
}
