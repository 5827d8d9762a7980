//! Findings: what a check reports about one place in a change.
//!
//! A finding carries everything a renderer needs (rule, severity, location, message, hint) and
//! nothing it must not show: secret values are redacted before a `Finding` is built.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// How serious a finding is. Only `Error` findings fail a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational; never fails a check.
    Note,
    /// Worth a look; does not fail a check.
    Warning,
    /// A policy violation; fails its check.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// Where a finding points. Every part is optional: a ref-level finding has no path, a file scan
/// has no commit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// 1-based line number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

impl Location {
    pub fn reference(name: impl Into<String>) -> Self {
        Location {
            reference: Some(name.into()),
            ..Location::default()
        }
    }

    pub fn commit(id: impl Into<String>) -> Self {
        Location {
            commit: Some(id.into()),
            ..Location::default()
        }
    }

    pub fn file(path: impl Into<String>, line: Option<u32>) -> Self {
        Location {
            path: Some(path.into()),
            line,
            ..Location::default()
        }
    }

    pub fn with_ref(mut self, name: impl Into<String>) -> Self {
        self.reference = Some(name.into());
        self
    }

    pub fn with_commit(mut self, id: impl Into<String>) -> Self {
        self.commit = Some(id.into());
        self
    }

    pub fn is_empty(&self) -> bool {
        *self == Location::default()
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(r) = &self.reference {
            parts.push(r.clone());
        }
        if let Some(c) = &self.commit {
            parts.push(short_id(c).to_string());
        }
        if let Some(p) = &self.path {
            let mut s = p.clone();
            if let Some(l) = self.line {
                s.push_str(&format!(":{l}"));
                if let Some(c) = self.column {
                    s.push_str(&format!(":{c}"));
                }
            }
            parts.push(s);
        }
        f.write_str(&parts.join(" "))
    }
}

/// The first 10 hex digits of an object id, as people quote them.
pub fn short_id(id: &str) -> &str {
    id.get(..10).unwrap_or(id)
}

/// One thing a check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable rule id, `<check>.<rule>`, e.g. `protection.force-push`.
    pub rule: String,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Location::is_empty")]
    pub location: Location,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do about it: the command or policy key that fixes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Check-specific facts (confidence, fingerprint, signer, …); values are already redacted.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
}

impl Finding {
    pub fn error(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Finding::new(rule, Severity::Error, message)
    }

    pub fn warning(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Finding::new(rule, Severity::Warning, message)
    }

    pub fn note(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Finding::new(rule, Severity::Note, message)
    }

    pub fn new(rule: impl Into<String>, severity: Severity, message: impl Into<String>) -> Self {
        Finding {
            rule: rule.into(),
            severity,
            location: Location::default(),
            message: message.into(),
            hint: None,
            properties: BTreeMap::new(),
        }
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = location;
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.insert(key.into(), value.into());
        self
    }

    /// The check this finding belongs to: the part of the rule id before the first dot.
    pub fn check(&self) -> &str {
        self.rule.split('.').next().unwrap_or(&self.rule)
    }
}
