//! The one place outcomes become exit codes: 0 pass, 1 policy violation, 2 usage or configuration
//! error. Errors print once, prefixed `vouch:`, with the fix on the next line.

use vouch_rules::sanitize::for_terminal;

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Violation,
    Usage,
}

impl From<Outcome> for std::process::ExitCode {
    fn from(o: Outcome) -> Self {
        std::process::ExitCode::from(match o {
            Outcome::Pass => 0,
            Outcome::Violation => 1,
            Outcome::Usage => 2,
        })
    }
}

impl Outcome {
    pub fn from_verdict(v: &vouch_rules::Verdict) -> Outcome {
        if v.passed() {
            Outcome::Pass
        } else {
            Outcome::Violation
        }
    }
}

/// A usage or configuration error with a fix to suggest.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    pub message: String,
    pub hint: Option<String>,
}

impl UsageError {
    pub fn new(message: impl Into<String>) -> Self {
        UsageError {
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Print `err` and say how the process ends. Every error is a usage/configuration error (2):
/// violations are verdicts, not errors.
pub fn report(err: &anyhow::Error) -> Outcome {
    let mut hint = None;
    if let Some(u) = err.downcast_ref::<UsageError>() {
        hint = u.hint.clone();
    } else if let Some(p) = err.downcast_ref::<vouch_rules::PolicyError>() {
        hint = p.hint().map(str::to_string);
    }
    eprintln!("vouch: {}", for_terminal(&format!("{err:#}")));
    if let Some(h) = hint {
        eprintln!("  fix: {}", for_terminal(&h));
    }
    Outcome::Usage
}
