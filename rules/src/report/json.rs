//! The JSON report: the verdict as a stable, documented object (schema in `verdict.schema.json`).

use crate::verdict::Verdict;
use serde::Serialize;

/// Bumped only when a field changes meaning or disappears; new fields may appear in any version.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// The JSON Schema of [`to_json`]'s output.
pub const JSON_SCHEMA: &str = include_str!("verdict.schema.json");

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    tool: Tool,
    passed: bool,
    policy: &'a str,
    summary: Summary,
    checks: &'a [crate::verdict::CheckOutcome],
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
        policy: &verdict.policy,
        summary: Summary {
            errors: verdict.count(Severity::Error),
            warnings: verdict.count(Severity::Warning),
            notes: verdict.count(Severity::Note),
        },
        checks: &verdict.checks,
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
