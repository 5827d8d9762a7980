//! The terminal report: one block per failing check, colour only when asked (a TTY without NO_COLOR).

use crate::finding::{Finding, Severity};
use crate::sanitize::for_terminal;
use crate::verdict::{Status, Verdict};
use std::fmt::Write;

/// How to draw the text report.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Use ANSI colours. The binary decides: a TTY, and NO_COLOR unset.
    pub color: bool,
    /// Also list passing and skipped checks.
    pub verbose: bool,
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn severity(&self, s: Severity) -> String {
        match s {
            Severity::Error => self.wrap("1;31", "error"),
            Severity::Warning => self.wrap("1;33", "warning"),
            Severity::Note => self.wrap("1;36", "note"),
        }
    }
}

/// The verdict as text for a person at a terminal.
pub fn to_text(verdict: &Verdict, options: TextOptions) -> String {
    let paint = Paint(options.color);
    let mut out = String::new();
    for check in &verdict.checks {
        let shown = options.verbose || !check.findings.is_empty() || check.status == Status::Error;
        if !shown {
            continue;
        }
        let mark = match check.status {
            Status::Pass => paint.wrap("32", "pass"),
            Status::Fail => paint.wrap("31", "FAIL"),
            Status::Error => paint.wrap("31", "ERROR"),
            Status::Skipped => paint.wrap("2", "skip"),
        };
        let _ = write!(out, "{mark} {}", paint.wrap("1", &check.check));
        if let Some(reason) = &check.reason {
            let _ = write!(out, ": {}", for_terminal(reason));
        }
        out.push('\n');
        for finding in &check.findings {
            finding_text(&mut out, finding, &paint);
        }
    }
    let errors = verdict.count(Severity::Error);
    let warnings = verdict.count(Severity::Warning);
    let summary = format!(
        "{} error{}, {} warning{}",
        errors,
        if errors == 1 { "" } else { "s" },
        warnings,
        if warnings == 1 { "" } else { "s" }
    );
    let result = if verdict.passed() {
        paint.wrap("32", "passed")
    } else {
        paint.wrap("1;31", "failed")
    };
    let _ = writeln!(
        out,
        "vouch: {result} ({summary}); policy: {}",
        for_terminal(&verdict.policy_line())
    );
    if !verdict.push_options.is_empty() {
        let _ = writeln!(
            out,
            "vouch: push options: {}",
            for_terminal(&verdict.push_options.join(", "))
        );
    }
    out
}

fn finding_text(out: &mut String, f: &Finding, paint: &Paint) {
    let _ = write!(out, "  {}[{}]", paint.severity(f.severity), f.rule);
    if !f.location.is_empty() {
        let _ = write!(out, " {}", for_terminal(&f.location.to_string()));
    }
    let _ = writeln!(out, ": {}", for_terminal(&f.message));
    for (key, value) in &f.properties {
        let _ = writeln!(out, "      {}: {}", key, for_terminal(value));
    }
    if let Some(hint) = &f.hint {
        let _ = writeln!(
            out,
            "    {} {}",
            paint.wrap("1", "fix:"),
            for_terminal(hint)
        );
    }
}
