//! Turning matches into findings: location, redacted value, fingerprint, remediation; then the
//! baseline and inline allows decide what is reported.

use super::baseline::Baseline;
use super::engine::SecretMatch;
use crate::finding::{Finding, Location, Severity};
use crate::policy::Oversize;

/// A match and where it was found.
#[derive(Debug, Clone)]
pub struct Located {
    pub found: SecretMatch,
    /// Path and (optionally) commit and ref; the line comes from the match.
    pub location: Location,
}

impl Located {
    pub fn path(&self) -> &str {
        self.location.path.as_deref().unwrap_or("")
    }
}

/// What to do with findings that a `vouch:allow` comment or the baseline accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// Leave them out (what hooks do).
    Hide,
    /// Report them as notes marked `allowed` (`vouch scan --show-allowed`).
    Show,
}

/// The hint every secret finding carries.
pub fn remediation(provider: &str) -> String {
    format!(
        "rotate this {provider} credential first (anyone who saw the commit may hold it), then remove it from the history (git rebase, or git filter-repo once pushed); if it is not a secret, add `vouch:allow` on the line or accept it with `vouch baseline update`"
    )
}

/// A line in a commit (or the working tree): (commit, path, line).
type Place = (Option<String>, String, u32);

/// Build findings from matches, most confident rule first when several rules match the same
/// secret at the same place, applying the baseline and inline allows.
pub fn findings(mut found: Vec<Located>, baseline: &Baseline, allowed: Allowed) -> Vec<Finding> {
    // Most confident first so deduplication keeps the best rule for a secret.
    found.sort_by(|a, b| {
        (b.found.confidence, b.found.rule.checksum.is_some())
            .cmp(&(a.found.confidence, a.found.rule.checksum.is_some()))
    });
    // Where findings already are, per (commit, path, line): byte ranges from the column.
    let mut taken: std::collections::HashMap<Place, Vec<(u32, u32)>> =
        std::collections::HashMap::new();
    let mut out = Vec::new();
    for l in found {
        let m = &l.found;
        let start = m.column;
        let end = m
            .column
            .saturating_add(u32::try_from(m.len()).unwrap_or(u32::MAX));
        let spans = taken
            .entry((l.location.commit.clone(), l.path().to_string(), m.line))
            .or_default();
        // A less specific rule matching (part of) a secret already reported adds nothing.
        if spans.iter().any(|&(s, e)| start < e && s < end) {
            continue;
        }
        spans.push((start, end));
        let fingerprint = m.fingerprint(l.path());
        let why = if m.allowed_inline {
            Some("inline")
        } else if baseline.contains(&fingerprint) {
            Some("baseline")
        } else {
            None
        };
        if why.is_some() && allowed == Allowed::Hide {
            continue;
        }
        let rule = &m.rule;
        let mut location = l.location.clone();
        location.line = Some(m.line);
        location.column = Some(m.column);
        let mut f = Finding::new(
            rule.finding_id(),
            if why.is_some() {
                Severity::Note
            } else {
                Severity::Error
            },
            format!("{} ({} credential)", rule.description, rule.provider),
        )
        .at(location)
        .hint(remediation(&rule.provider))
        .property("confidence", m.confidence.as_str())
        .property("why", why_text(&m.reasons, l.path()))
        .property("fingerprint", fingerprint)
        .property("redacted", m.redacted());
        if let Some(c) = rule.checksum {
            f = f.property("checksum", format!("{} valid", c.as_str()));
        }
        if let Some(why) = why {
            f = f.property("allowed", why);
        }
        out.push(f);
    }
    out.sort_by(|a, b| {
        (
            &a.location.commit,
            &a.location.path,
            a.location.line,
            &a.rule,
        )
            .cmp(&(
                &b.location.commit,
                &b.location.path,
                b.location.line,
                &b.rule,
            ))
    });
    out
}

/// The finding's reasons, with the kind of file it is in when that is known.
fn why_text(reasons: &[String], path: &str) -> String {
    let mut parts: Vec<String> = reasons.to_vec();
    if let Some(kind) = file_kind(path) {
        parts.push(format!("file: {kind}"));
    }
    parts.join("; ")
}

/// What kind of file `path` names, when its name says so (for a finding's reasons).
fn file_kind(path: &str) -> Option<&'static str> {
    let name = path
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    Some(match (name.as_str(), ext) {
        (n, _) if n == ".env" || n.starts_with(".env.") || ext == "env" => "dotenv",
        ("dockerfile", _) | (_, "dockerfile") => "Dockerfile",
        (_, "yml" | "yaml") => "YAML",
        (_, "json") => "JSON",
        (_, "xml" | "config" | "csproj") => "XML",
        (_, "ini" | "cfg" | "conf" | "toml") => "INI-style config",
        (_, "properties") => "Java properties",
        (_, "tf" | "tfvars" | "hcl") => "Terraform",
        (_, "sh" | "bash" | "zsh" | "ps1") => "shell script",
        (_, "md" | "rst" | "txt" | "adoc") => "documentation",
        (_, "pem" | "key") => "key file",
        (_, "py" | "js" | "ts" | "go" | "java" | "cs" | "rb" | "php" | "rs" | "kt" | "swift") => {
            "source code"
        }
        _ => return None,
    })
}

/// A file too large to scan: never silently skipped. By default (`oversize = "fail"`) it fails
/// the check, since a secret could hide past the limit.
pub fn not_scanned(location: Location, size: u64, limit: u64, oversize: Oversize) -> Finding {
    let message = format!("not scanned for secrets: {size} bytes is over the {limit}-byte limit");
    let finding = match oversize {
        Oversize::Fail => Finding::error("secrets.not-scanned", message),
        Oversize::Warn => Finding::warning("secrets.not-scanned", message),
    };
    finding.at(location).hint(
        "split or shrink the file, raise `max_file_bytes` in [secrets] of .vouch/policy.toml (at most 536870912), exempt the path with `allow_paths`, or set `oversize = \"warn\"` there",
    )
}

/// A rule whose pattern failed to compile: the scan is incomplete, so it fails.
pub fn broken_rule(reason: &str) -> Finding {
    Finding::error(
        "secrets.rule-broken",
        format!("a secret rule could not run: {reason}"),
    )
    .hint("fix the rule's regex (`vouch rules test` shows every rule's status)")
}
