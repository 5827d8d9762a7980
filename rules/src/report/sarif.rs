//! SARIF 2.1.0, the format GitHub code scanning and other tools ingest.

use crate::finding::Severity;
use crate::verdict::Verdict;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The verdict as a SARIF 2.1.0 log with one run.
pub fn to_sarif(verdict: &Verdict) -> String {
    let mut rules: BTreeMap<&str, &str> = BTreeMap::new();
    let mut results = Vec::new();
    for check in &verdict.checks {
        for f in &check.findings {
            rules.entry(f.rule.as_str()).or_insert(f.check());
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "note",
            };
            let mut message = f.message.clone();
            if let Some(h) = &f.hint {
                message.push_str("\nFix: ");
                message.push_str(h);
            }
            let mut result = json!({
                "ruleId": f.rule,
                "level": level,
                "message": { "text": message },
            });
            let mut location = serde_json::Map::new();
            if let Some(path) = &f.location.path {
                let mut physical = json!({ "artifactLocation": { "uri": uri(path) } });
                if let Some(line) = f.location.line {
                    let mut region = json!({ "startLine": line });
                    if let Some(col) = f.location.column {
                        region["startColumn"] = json!(col);
                    }
                    physical["region"] = region;
                }
                location.insert("physicalLocation".into(), physical);
            }
            let mut logical = Vec::new();
            if let Some(r) = &f.location.reference {
                logical.push(json!({ "fullyQualifiedName": r, "kind": "ref" }));
            }
            if let Some(c) = &f.location.commit {
                logical.push(json!({ "fullyQualifiedName": c, "kind": "commit" }));
            }
            if !logical.is_empty() {
                location.insert("logicalLocations".into(), Value::Array(logical));
            }
            if !location.is_empty() {
                result["locations"] = json!([Value::Object(location)]);
            }
            let mut props: serde_json::Map<String, Value> = f
                .properties
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            if let Some(c) = &f.location.commit {
                props.insert("commit".into(), Value::String(c.clone()));
            }
            if let Some(fp) = f.properties.get("fingerprint") {
                result["partialFingerprints"] = json!({ "vouch/v1": fp });
            }
            if !props.is_empty() {
                result["properties"] = Value::Object(props);
            }
            results.push(result);
        }
    }
    let rules: Vec<Value> = rules
        .iter()
        .map(|(id, check)| {
            json!({
                "id": id,
                "name": id.replace(['.', '-'], "_"),
                "shortDescription": { "text": format!("vouch {check} rule {id}") },
                "properties": { "check": check },
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "vouch",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/vouch",
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": verdict.checks.iter().all(|c| c.status != crate::verdict::Status::Error),
            }],
            "properties": {
                "policy": verdict.policy_line(),
                "policies": verdict.policies,
                "judgedAt": verdict.judged_at,
                "passed": verdict.passed(),
            },
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

/// A repository-relative path as a SARIF URI reference (percent-encoding what a URI may not hold).
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
