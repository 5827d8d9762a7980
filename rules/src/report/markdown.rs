//! The markdown a forge check run shows reviewers: a summary table, then each finding.

use crate::finding::{short_id, Severity};
use crate::verdict::{Status, Verdict};
use std::fmt::Write;

/// Escape text for a markdown table cell or list item: no HTML, no table breaks, no links injected.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in crate::sanitize::for_terminal(text).chars() {
        match c {
            '|' | '<' | '>' | '*' | '_' | '`' | '[' | ']' | '\\' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The verdict as check-run markdown.
pub fn to_markdown(verdict: &Verdict) -> String {
    let mut out = String::new();
    let head = if verdict.passed() {
        "✅ vouch: passed"
    } else {
        "❌ vouch: failed"
    };
    let _ = writeln!(out, "## {head}\n");
    let _ = writeln!(out, "Policy: {}\n", md(&verdict.policy_line()));
    let _ = writeln!(out, "| check | result | findings |\n|---|---|---|");
    for c in &verdict.checks {
        let result = match c.status {
            Status::Pass => "✅ pass",
            Status::Fail => "❌ fail",
            Status::Error => "⚠️ could not run",
            Status::Skipped => "➖ skipped",
        };
        let detail = match (&c.reason, c.findings.len()) {
            (Some(reason), 0) => md(reason),
            (_, n) => n.to_string(),
        };
        let _ = writeln!(out, "| {} | {result} | {detail} |", md(&c.check));
    }
    for c in verdict.checks.iter().filter(|c| !c.findings.is_empty()) {
        let _ = writeln!(out, "\n### {}\n", md(&c.check));
        for f in &c.findings {
            let icon = match f.severity {
                Severity::Error => "❌",
                Severity::Warning => "⚠️",
                Severity::Note => "ℹ️",
            };
            let mut place = Vec::new();
            if let Some(r) = &f.location.reference {
                place.push(md(r));
            }
            if let Some(c) = &f.location.commit {
                place.push(format!("`{}`", short_id(c)));
            }
            if let Some(p) = &f.location.path {
                let line = f.location.line.map(|l| format!(":{l}")).unwrap_or_default();
                place.push(format!("{}{line}", md(p)));
            }
            let place = if place.is_empty() {
                String::new()
            } else {
                format!(" ({})", place.join(" "))
            };
            let _ = writeln!(
                out,
                "- {icon} **{}**{place}: {}",
                md(&f.rule),
                md(&f.message)
            );
            if let Some(h) = &f.hint {
                let _ = writeln!(out, "  - fix: {}", md(h));
            }
        }
    }
    if let Some(review) = &verdict.evidence.review {
        review_section(&mut out, review);
    }
    out
}

/// Who approved, whose approval counted, and who is not independent of the change and why.
fn review_section(out: &mut String, review: &crate::verdict::ReviewRecord) {
    let counted = review.approvals.iter().filter(|a| a.counted).count();
    let _ = writeln!(
        out,
        "\n### Approvals on `{}`\n\n{counted} of {} required approval{} counted.\n",
        short_id(&review.head),
        review.required_approvals,
        if review.required_approvals == 1 {
            ""
        } else {
            "s"
        }
    );
    if review.approvals.is_empty() {
        let _ = writeln!(out, "- nobody has approved yet");
    }
    for a in &review.approvals {
        if a.counted {
            let _ = writeln!(
                out,
                "- ✅ @{} approved `{}`",
                md(&a.reviewer),
                short_id(&a.commit)
            );
        } else {
            let _ = writeln!(
                out,
                "- ❌ @{} approved `{}` — does not count: {}",
                md(&a.reviewer),
                short_id(&a.commit),
                md(&a.reason)
            );
        }
    }
    if !review.not_independent.is_empty() {
        let _ = writeln!(
            out,
            "\nNot independent of this change (cannot approve it):\n"
        );
        for (login, why) in &review.not_independent {
            let _ = writeln!(out, "- @{}: {}", md(login), md(&why.join(", ")));
        }
    }
}
