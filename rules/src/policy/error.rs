//! Policy errors: each names the file, line and column, what is wrong, and how to fix it.

use std::fmt;

/// A position in a policy file (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The file as a user would name it, e.g. `.vouch/policy.toml` or `refs/heads/main:.vouch/policy.toml`.
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `text`.
    pub fn of(file: &str, text: &str, offset: usize) -> Self {
        let offset = offset.min(text.len());
        let before = &text.as_bytes()[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        Position {
            file: file.to_string(),
            line,
            column,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Why a policy (or a file it points at) could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file's content is wrong at a known place.
    #[error("{at}: {message}")]
    Invalid {
        at: Position,
        message: String,
        hint: Option<String>,
    },
    /// The file (or the tree it lives in) could not be read at all.
    #[error("cannot read {file}: {reason}")]
    Unreadable { file: String, reason: String },
}

impl PolicyError {
    pub fn invalid(at: Position, message: impl Into<String>) -> Self {
        PolicyError::Invalid {
            at,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(self, text: impl Into<String>) -> Self {
        match self {
            PolicyError::Invalid { at, message, .. } => PolicyError::Invalid {
                at,
                message,
                hint: Some(text.into()),
            },
            other => other,
        }
    }

    /// What to do about it, when vouch knows.
    pub fn hint(&self) -> Option<&str> {
        match self {
            PolicyError::Invalid { hint, .. } => hint.as_deref(),
            PolicyError::Unreadable { .. } => None,
        }
    }
}

/// A key the policy accepts and validates but that nothing enforces yet: said plainly, so no
/// one mistakes it for protection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyWarning {
    pub at: Position,
    pub message: String,
    pub hint: String,
}

impl fmt::Display for PolicyWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// The closest of `candidates` to `word`, if close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
