//! The JSON report: the verdict as a stable, documented object (schema in `verdict.schema.json`).

use crate::verdict::Verdict;
use serde::Serialize;

/// Bumped only when a field changes meaning or disappears; new fields may appear in any version.
pub const JSON_SCHEMA_VERSION: u32 = 2;

/// The JSON Schema of [`to_json`]'s output.
pub const JSON_SCHEMA: &str = include_str!("verdict.schema.json");

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    tool: Tool,
    passed: bool,
    /// The policies in one line, for people.
    policy: String,
    policies: &'a [crate::verdict::PolicySource],
    judged_at: &'a str,
    clock: crate::change::Clock,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    push_options: &'a [String],
    summary: Summary,
    checks: &'a [crate::verdict::CheckOutcome],
    evidence: &'a crate::verdict::Evidence,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    notes: usize,
}

/// The verdict as pretty-printed JSON.
pub fn to_json(verdict: &Verdict) -> String {
    use crate::finding::Severity;
    let report = Report {
        schema_version: JSON_SCHEMA_VERSION,
        tool: Tool {
            name: "vouch",
            version: env!("CARGO_PKG_VERSION"),
        },
        passed: verdict.passed(),
        policy: verdict.policy_line(),
        policies: &verdict.policies,
        judged_at: &verdict.judged_at,
        clock: verdict.clock,
        push_options: &verdict.push_options,
        summary: Summary {
            errors: verdict.count(Severity::Error),
            warnings: verdict.count(Severity::Warning),
            notes: verdict.count(Severity::Note),
        },
        checks: &verdict.checks,
        evidence: &verdict.evidence,
    };
    let mut out = serde_json::to_string_pretty(&report).unwrap_or_else(|e| {
        format!(
            "{{\"schema_version\":{JSON_SCHEMA_VERSION},\"error\":{:?}}}",
            e.to_string()
        )
    });
    out.push('\n');
    out
}
