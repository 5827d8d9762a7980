//! The check run reviewers read: a verdict turned into GitHub's check-run bodies.
//!
//! The summary is `rules`' markdown report (each check's result, the review's approvals and
//! exclusions, each finding with its fix, the policy that judged); secrets arrive here already
//! redacted by the engine. Findings on file lines become annotations, at most 50 a request as
//! GitHub requires, so a change with many findings takes several updates, the last one
//! completing the run.

use serde_json::{json, Value};
use vouch_rules::finding::Severity;
use vouch_rules::Verdict;

/// GitHub's limit on a check run's summary and text, in characters.
const OUTPUT_LIMIT: usize = 65_535;
/// GitHub's limit on annotations a request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// GitHub's limit on a check run's title (kept well under).
const TITLE_LIMIT: usize = 200;

/// What a completed check run says.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// `success` or `failure`.
    pub conclusion: &'static str,
    pub title: String,
    pub summary: String,
    /// Extra detail below the summary (how to reproduce the verdict).
    pub text: String,
    pub annotations: Vec<Value>,
}

fn clip(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let note = "\n\n… (cut to fit GitHub's limit; `vouch-bot replay` prints the whole report)";
    let keep = limit.saturating_sub(note.chars().count());
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(note);
    out
}

fn one_line(text: &str, limit: usize) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= limit {
        line
    } else {
        let mut out: String = line.chars().take(limit.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// The body creating a check run that says the job has started.
pub fn started(name: &str, head_sha: &str, external_id: &str, now: &str) -> Value {
    json!({
        "name": name,
        "head_sha": head_sha,
        "status": "in_progress",
        "external_id": external_id,
        "started_at": now,
        "output": {
            "title": "Judging this change",
            "summary": "vouch is checking signatures, secrets, review and protection against the target branch's policy.",
        },
    })
}

/// The body moving an existing check run back to in progress (a re-run).
pub fn restarted(now: &str) -> Value {
    json!({
        "status": "in_progress",
        "started_at": now,
        "output": {
            "title": "Judging this change",
            "summary": "vouch is checking signatures, secrets, review and protection against the target branch's policy.",
        },
    })
}

/// The verdict as a check run report. `reproduce` is markdown telling how to get the same
/// verdict from the CLI.
pub fn report(verdict: &Verdict, reproduce: &str) -> Report {
    let passed = verdict.passed();
    let errors: Vec<_> = verdict
        .findings()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    let broken: Vec<_> = verdict
        .checks
        .iter()
        .filter(|c| c.status == vouch_rules::verdict::Status::Error)
        .collect();
    let title = if passed {
        let warnings = verdict.count(Severity::Warning);
        if warnings == 0 {
            "All checks passed".to_string()
        } else {
            format!("All checks passed ({warnings} warning{})", plural(warnings))
        }
    } else if let Some(first) = errors.first() {
        let more = errors.len() + broken.len() - 1;
        let tail = if more > 0 {
            format!(" (+{more} more)")
        } else {
            String::new()
        };
        one_line(&format!("{}{tail}", first.message), TITLE_LIMIT)
    } else if let Some(c) = broken.first() {
        one_line(
            &format!(
                "{} could not run: {}",
                c.check,
                c.reason.as_deref().unwrap_or("unknown reason")
            ),
            TITLE_LIMIT,
        )
    } else {
        "Failed".to_string()
    };
    let annotations = verdict
        .findings()
        .filter_map(|f| {
            let path = f.location.path.as_deref()?;
            let line = f.location.line?.max(1);
            let level = match f.severity {
                Severity::Error => "failure",
                Severity::Warning => "warning",
                Severity::Note => "notice",
            };
            let mut message = f.message.clone();
            if let Some(h) = &f.hint {
                message.push_str("\nfix: ");
                message.push_str(h);
            }
            Some(json!({
                "path": path,
                "start_line": line,
                "end_line": line,
                "annotation_level": level,
                "title": one_line(&f.rule, 255),
                "message": clip(&message, 60_000),
            }))
        })
        .collect();
    Report {
        conclusion: if passed { "success" } else { "failure" },
        title,
        summary: clip(&vouch_rules::report::to_markdown(verdict), OUTPUT_LIMIT),
        text: clip(reproduce, OUTPUT_LIMIT),
        annotations,
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A job that could not be judged after its retries: failed, saying why (fail closed).
pub fn could_not_judge(why: &str, attempts: u32) -> Report {
    Report {
        conclusion: "failure",
        title: one_line(&format!("Could not judge this change: {why}"), TITLE_LIMIT),
        summary: clip(
            &format!(
                "## ⚠️ vouch could not judge this change\n\nAfter {attempts} attempt{}: {why}\n\n\
                 A change vouch cannot judge does not pass. Fix the cause (the bot's log names it), \
                 then press **Re-run** on this check.",
                plural(attempts as usize)
            ),
            OUTPUT_LIMIT,
        ),
        text: String::new(),
        annotations: Vec::new(),
    }
}

/// A change that passed, but whose signed merge (`[attestation] merge`) could not be made: the
/// check fails, saying why, and nothing was pushed (fail closed).
pub fn merge_failed(passed: &Report, why: &str) -> Report {
    Report {
        conclusion: "failure",
        title: one_line(&format!("Passed, but vouch could not merge it: {why}"), TITLE_LIMIT),
        summary: clip(
            &format!(
                "## ⚠️ vouch could not make the signed merge

{why}

Nothing was pushed. The                  policy asks vouch to merge this change (`[attestation] merge`); fix the cause,                  then press **Re-run** on this check.

{}",
                passed.summary
            ),
            OUTPUT_LIMIT,
        ),
        text: passed.text.clone(),
        annotations: Vec::new(),
    }
}

/// The PATCH bodies that complete a check run with `report`: annotation batches first, the
/// last body carrying the conclusion.
pub fn completion(report: &Report, now: &str) -> Vec<Value> {
    let output = |annotations: &[Value]| {
        let mut o = json!({
            "title": report.title,
            "summary": report.summary,
            "annotations": annotations,
        });
        if !report.text.is_empty() {
            o["text"] = Value::String(report.text.clone());
        }
        o
    };
    let batches: Vec<&[Value]> = report.annotations.chunks(ANNOTATIONS_PER_REQUEST).collect();
    let mut bodies = Vec::new();
    if batches.len() > 1 {
        for batch in &batches[..batches.len() - 1] {
            bodies.push(json!({ "output": output(batch) }));
        }
    }
    let last: &[Value] = batches.last().copied().unwrap_or(&[]);
    bodies.push(json!({
        "status": "completed",
        "conclusion": report.conclusion,
        "completed_at": now,
        "output": output(last),
    }));
    bodies
}

/// A check run left on a head that is no longer the pull request's: closed as cancelled.
pub fn superseded(now: &str, by: &str) -> Value {
    json!({
        "status": "completed",
        "conclusion": "cancelled",
        "completed_at": now,
        "output": {
            "title": "Superseded",
            "summary": format!("The pull request moved on to {by}; that head is judged instead."),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_rules::change::Clock;
    use vouch_rules::finding::{Finding, Location};
    use vouch_rules::verdict::{CheckOutcome, PolicySource};

    fn verdict(findings: Vec<Finding>) -> Verdict {
        let mut v = Verdict::new(
            PolicySource {
                source: ".vouch/policy.toml at refs/heads/main".into(),
                digest: "sha256:00".into(),
            },
            0,
            Clock::PushTime,
        );
        v.push(CheckOutcome::ran("secrets", findings));
        v
    }

    #[test]
    fn a_failure_names_its_first_problem_and_batches_annotations() {
        let findings: Vec<Finding> = (1..=120)
            .map(|i| {
                Finding::error("secrets.aws-access-key", format!("AWS key AKIA…{i} found"))
                    .at(Location::file("src/config.rs", Some(i)))
            })
            .collect();
        let r = report(&verdict(findings), "");
        assert_eq!(r.conclusion, "failure");
        assert!(
            r.title.starts_with("AWS key AKIA…1 found (+119 more)"),
            "{}",
            r.title
        );
        let bodies = completion(&r, "2026-12-03T00:00:00Z");
        assert_eq!(bodies.len(), 3);
        let sizes: Vec<usize> = bodies
            .iter()
            .map(|b| b["output"]["annotations"].as_array().unwrap().len())
            .collect();
        assert_eq!(sizes, vec![50, 50, 20]);
        assert!(bodies[0].get("conclusion").is_none());
        assert_eq!(bodies[2]["conclusion"], "failure");
        assert_eq!(bodies[2]["status"], "completed");
    }

    #[test]
    fn a_pass_completes_in_one_request() {
        let r = report(&verdict(Vec::new()), "");
        assert_eq!(r.conclusion, "success");
        assert_eq!(r.title, "All checks passed");
        let bodies = completion(&r, "t");
        assert_eq!(bodies.len(), 1);
        assert!(bodies[0]["output"].get("text").is_none());
    }

    #[test]
    fn output_is_cut_to_githubs_limit_on_a_char_boundary() {
        let long = "é".repeat(70_000);
        let cut = clip(&long, OUTPUT_LIMIT);
        assert!(cut.chars().count() <= OUTPUT_LIMIT);
        assert!(cut.ends_with("prints the whole report)"));
    }

    #[test]
    fn could_not_judge_fails_closed() {
        let r = could_not_judge("GitHub answered 502", 5);
        assert_eq!(r.conclusion, "failure");
        assert!(r.summary.contains("After 5 attempts: GitHub answered 502"));
    }
}
