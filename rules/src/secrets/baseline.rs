//! The baseline: findings a team has accepted, keyed by stable fingerprints (rule, secret digest,
//! path; no line numbers, no timestamps) and kept sorted so two branches that each add entries
//! merge without conflicts in most cases.

use crate::finding::Finding;
use crate::policy::{PolicyError, Position};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fingerprint: String,
    /// `secrets.<rule-id>`, for people reading the file.
    pub rule: String,
    pub path: String,
}

impl Entry {
    fn key(&self) -> (&str, &str, &str) {
        (&self.path, &self.rule, &self.fingerprint)
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// The accepted findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    entries: BTreeSet<Entry>,
    fingerprints: HashSet<String>,
}

impl Baseline {
    /// Parse `.vouch/baseline.json`; errors name file:line:column.
    pub fn parse(bytes: &[u8], display: &str) -> Result<Baseline, PolicyError> {
        let entries: Vec<Entry> = serde_json::from_slice(bytes).map_err(|e| {
            PolicyError::invalid(
                Position {
                    file: display.to_string(),
                    line: e.line().max(1),
                    column: e.column().max(1),
                },
                format!("not a baseline: {e}"),
            )
            .with_hint("a baseline is a JSON list of {\"fingerprint\", \"rule\", \"path\"} objects; regenerate it with `vouch baseline create`")
        })?;
        Ok(entries.into_iter().collect())
    }

    /// The accepted findings among `findings` (secret findings with a fingerprint).
    pub fn from_findings<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Baseline {
        findings
            .into_iter()
            .filter_map(|f| {
                Some(Entry {
                    fingerprint: f.properties.get("fingerprint")?.clone(),
                    rule: f.rule.clone(),
                    path: f.location.path.clone()?,
                })
            })
            .collect()
    }

    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// The file's text: a sorted JSON list, one entry per line group, trailing newline.
    pub fn to_json(&self) -> String {
        let list: Vec<&Entry> = self.entries.iter().collect();
        let mut text = serde_json::to_string_pretty(&list).unwrap_or_else(|_| "[]".into());
        text.push('\n');
        text
    }
}

impl FromIterator<Entry> for Baseline {
    fn from_iter<I: IntoIterator<Item = Entry>>(iter: I) -> Self {
        let entries: BTreeSet<Entry> = iter.into_iter().collect();
        let fingerprints = entries.iter().map(|e| e.fingerprint.clone()).collect();
        Baseline {
            entries,
            fingerprints,
        }
    }
}
