//! CODEOWNERS, with GitHub's semantics: who owns a path, and which line decided it.
//!
//! The file is read from the policy snapshot (the *target* branch), at the first of
//! [`CODEOWNERS_PATHS`] that exists. Each line is a pattern ([`pattern`]) followed by owners
//! (`@user`, `@org/team` or an e-mail address); the last matching line wins, and a line with no
//! owners un-assigns what it matches. Invalid lines are skipped, as GitHub skips them, and kept as
//! [`LineError`]s shaped like GitHub's codeowners-errors endpoint. Files over 3 MB are refused.
//!
//! Matching is compiled once: rules are indexed by a literal path component or file extension
//! they require, so a path is tested only against the few rules that could match it.

pub mod pattern;

use crate::policy::{Policy, PolicyError, PolicyFiles, Position, CODEOWNERS_PATHS};
pub use pattern::{Pattern, PatternError};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// GitHub ignores CODEOWNERS files of this size or more.
pub const MAX_BYTES: usize = 3 * 1024 * 1024;

/// The kinds of line error, named as GitHub's codeowners-errors endpoint names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ErrorKind {
    #[serde(rename = "Invalid pattern")]
    InvalidPattern,
    #[serde(rename = "Unsupported syntax")]
    UnsupportedSyntax,
    #[serde(rename = "Invalid owner")]
    InvalidOwner,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::InvalidPattern => "Invalid pattern",
            ErrorKind::UnsupportedSyntax => "Unsupported syntax",
            ErrorKind::InvalidOwner => "Invalid owner",
        })
    }
}

/// A skipped line: where, why, and what to write instead when vouch can tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    /// 1-based.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    pub kind: ErrorKind,
    /// The line as written.
    pub source: String,
    pub suggestion: Option<String>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The CODEOWNERS file's path in the repository.
    pub path: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {} on line {}: {}",
            self.path, self.line, self.column, self.kind, self.line, self.message
        )
    }
}

/// What kind of owner a line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OwnerKind {
    /// `@login`
    User,
    /// `@org/team`
    Team,
    /// `someone@example.com`
    Email,
}

/// One owner as written, and what kind it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Owner {
    /// As written, e.g. `@octocat`, `@octo-org/docs`, `docs@example.com`.
    pub text: String,
    pub kind: OwnerKind,
}

impl Owner {
    /// Parse an owner token; `None` when it is none of the three forms.
    pub fn parse(text: &str) -> Option<Owner> {
        if let Some(name) = text.strip_prefix('@') {
            if let Some((org, team)) = name.split_once('/') {
                return (is_login(org) && is_team_slug(team)).then(|| Owner {
                    text: text.to_string(),
                    kind: OwnerKind::Team,
                });
            }
            return is_login(name).then(|| Owner {
                text: text.to_string(),
                kind: OwnerKind::User,
            });
        }
        is_email(text).then(|| Owner {
            text: text.to_string(),
            kind: OwnerKind::Email,
        })
    }

    /// The login (`octocat`), team (`octo-org/docs`) or address, lower-cased for comparison:
    /// GitHub logins, team slugs and e-mail addresses are case-insensitive.
    pub fn key(&self) -> String {
        self.text.trim_start_matches('@').to_ascii_lowercase()
    }
}

/// GitHub logins: letters, digits and single hyphens, not starting with a hyphen (managed users
/// add an `_shortcode` suffix).
fn is_login(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with(['-', '_'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_team_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 255
        && slug
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// One valid line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// 1-based line number in the file.
    pub line: u32,
    /// The pattern as written (escapes kept).
    pub pattern: String,
    /// Empty when the line un-assigns what it matches.
    pub owners: Vec<Owner>,
    compiled: Pattern,
}

impl Rule {
    pub fn matches(&self, path: &str) -> bool {
        self.compiled.matches(path)
    }
}

/// Which line decided a path's owners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<'a> {
    pub rule: &'a Rule,
}

impl Decision<'_> {
    pub fn owners(&self) -> &[Owner] {
        &self.rule.owners
    }
}

/// A parsed CODEOWNERS file, ready to answer "who owns this path".
#[derive(Debug, Clone)]
pub struct CodeOwners {
    /// The file's path in the repository, e.g. `.github/CODEOWNERS`.
    pub path: String,
    /// How to name the file in messages, e.g. `refs/heads/main:.github/CODEOWNERS`.
    pub display: String,
    rules: Vec<Rule>,
    errors: Vec<LineError>,
    index: Index,
}

/// Rules bucketed by something every path they match must have.
#[derive(Debug, Clone, Default)]
struct Index {
    /// Literal component → rules requiring a path component equal to it.
    by_component: HashMap<String, Vec<u32>>,
    /// Rules without a literal component, found by a literal run they require (`.gen` in
    /// `*.gen.ts`): one automaton scans a path for all of them at once.
    substrings: Option<aho_corasick::AhoCorasick>,
    /// Automaton pattern id → rules requiring that text.
    by_substring: Vec<Vec<u32>>,
    /// Rules that could match any path (`*`, `**`, `?`).
    always: Vec<u32>,
}

impl Index {
    fn build(rules: &[Rule]) -> Index {
        // Key each rule by its rarest literal component, so buckets stay small even when many
        // rules share a directory name (`/services/a/internal/`, `/services/b/internal/`).
        let mut frequency: HashMap<&str, usize> = HashMap::new();
        for rule in rules {
            let mut seen: Vec<&str> = rule.compiled.literal_components().collect();
            seen.sort_unstable();
            seen.dedup();
            for text in seen {
                *frequency.entry(text).or_default() += 1;
            }
        }
        let mut index = Index::default();
        let mut substring_ids: HashMap<&str, usize> = HashMap::new();
        for (i, rule) in rules.iter().enumerate() {
            let i = i as u32;
            let rarest = rule
                .compiled
                .literal_components()
                .min_by_key(|t| frequency.get(t).copied().unwrap_or(0));
            if let Some(text) = rarest {
                index
                    .by_component
                    .entry(text.to_string())
                    .or_default()
                    .push(i);
            } else if let Some(text) = rule.compiled.longest_wild_literal() {
                let id = *substring_ids.entry(text).or_insert_with(|| {
                    index.by_substring.push(Vec::new());
                    index.by_substring.len() - 1
                });
                index.by_substring[id].push(i);
            } else {
                index.always.push(i);
            }
        }
        let mut texts: Vec<(&str, usize)> = substring_ids.into_iter().collect();
        texts.sort_by_key(|(_, id)| *id);
        if !texts.is_empty() {
            match aho_corasick::AhoCorasick::new(texts.iter().map(|(t, _)| *t)) {
                Ok(automaton) => index.substrings = Some(automaton),
                // Cannot happen for a few thousand short literals; stay correct regardless.
                Err(_) => {
                    for rules in index.by_substring.drain(..) {
                        index.always.extend(rules);
                    }
                }
            }
        }
        index
    }

    /// Indices of the rules that could match, highest (latest line) first.
    fn candidates(&self, path: &str, components: &[&str]) -> Vec<u32> {
        let mut out = self.always.clone();
        for c in components {
            if let Some(rules) = self.by_component.get(*c) {
                out.extend_from_slice(rules);
            }
        }
        if let Some(automaton) = &self.substrings {
            for found in automaton.find_overlapping_iter(path) {
                if let Some(rules) = self.by_substring.get(found.pattern().as_usize()) {
                    out.extend_from_slice(rules);
                }
            }
        }
        out.sort_unstable_by(|a, b| b.cmp(a));
        out.dedup();
        out
    }
}

impl CodeOwners {
    /// Parse CODEOWNERS text. Invalid lines are skipped and listed in [`CodeOwners::errors`].
    pub fn parse(path: &str, display: &str, text: &str) -> CodeOwners {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        for (i, line) in text.split('\n').enumerate() {
            let number = (i + 1) as u32;
            let line = line.strip_suffix('\r').unwrap_or(line);
            match parse_line(line) {
                Ok(None) => {}
                Ok(Some((pattern, owners, compiled))) => rules.push(Rule {
                    line: number,
                    pattern,
                    owners,
                    compiled,
                }),
                Err(e) => errors.push(LineError {
                    line: number,
                    column: e.column,
                    kind: e.kind,
                    source: line.to_string(),
                    suggestion: e.suggestion,
                    message: e.message,
                    path: path.to_string(),
                }),
            }
        }
        let index = Index::build(&rules);
        CodeOwners {
            path: path.to_string(),
            display: display.to_string(),
            rules,
            errors,
            index,
        }
    }

    /// Find and parse CODEOWNERS in a snapshot: `Ok(None)` when there is none. Refuses files over
    /// 3 MB and files that are not UTF-8.
    pub fn from_files(files: &PolicyFiles) -> Result<Option<CodeOwners>, PolicyError> {
        let Some((path, bytes)) = CODEOWNERS_PATHS
            .iter()
            .find_map(|p| files.get(p).map(|b| (*p, b)))
        else {
            return Ok(None);
        };
        let display = files.display(path);
        if bytes.len() >= MAX_BYTES {
            return Err(PolicyError::invalid(
                Position {
                    file: display,
                    line: 1,
                    column: 1,
                },
                format!(
                    "CODEOWNERS is {} bytes; GitHub ignores CODEOWNERS files of 3 MB or more, so vouch refuses it",
                    bytes.len()
                ),
            )
            .with_hint("shorten it: use directory patterns (`/src/app/`) and teams instead of one line per file"));
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let lossy = String::from_utf8_lossy(bytes);
            PolicyError::invalid(
                Position::of(&display, &lossy, e.valid_up_to()),
                "CODEOWNERS is not UTF-8 text",
            )
            .with_hint("save CODEOWNERS as UTF-8")
        })?;
        Ok(Some(CodeOwners::parse(path, &display, text)))
    }

    /// The valid lines, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The skipped lines and why.
    pub fn errors(&self) -> &[LineError] {
        &self.errors
    }

    /// The line that decides `path`'s owners (the last that matches), if any matches. Its owners
    /// may be empty: the path is then explicitly unowned.
    pub fn decide(&self, path: &str) -> Option<Decision<'_>> {
        let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        self.index
            .candidates(path, &components)
            .into_iter()
            .map(|i| &self.rules[i as usize])
            .find(|rule| rule.compiled.matches_components(&components))
            .map(|rule| Decision { rule })
    }

    /// `path`'s owners; empty when nobody owns it.
    pub fn owners_of(&self, path: &str) -> &[Owner] {
        self.decide(path).map_or(&[], |d| d.rule.owners.as_slice())
    }
}

/// Load the target branch's CODEOWNERS from the policy snapshot. `Ok(None)` when there is none.
pub fn load(policy: &Policy) -> Result<Option<CodeOwners>, PolicyError> {
    CodeOwners::from_files(&policy.files)
}

/// Every problem in the policy's CODEOWNERS: a refused file, or each skipped line.
pub fn validate(policy: &Policy) -> Vec<PolicyError> {
    match load(policy) {
        Err(e) => vec![e],
        Ok(None) => Vec::new(),
        Ok(Some(owners)) => owners
            .errors
            .iter()
            .map(|e| {
                let hint = e.suggestion.clone().unwrap_or_else(|| match e.kind {
                    ErrorKind::InvalidOwner => {
                        "name owners as @user, @org/team or an e-mail address".to_string()
                    }
                    _ => "see docs/review.md for the CODEOWNERS pattern syntax".to_string(),
                });
                PolicyError::invalid(
                    Position {
                        file: owners.display.clone(),
                        line: e.line as usize,
                        column: e.column as usize,
                    },
                    format!("{} (GitHub skips this line): {}", e.kind, e.message),
                )
                .with_hint(hint)
            })
            .collect(),
    }
}

struct ParseError {
    column: u32,
    kind: ErrorKind,
    message: String,
    suggestion: Option<String>,
}

/// Split a line into whitespace-separated tokens, honouring `\` escapes and stopping at a `#`
/// that starts a token. Returns each token with its 1-based character column.
fn tokens(line: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0u32;
    let mut chars = line.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() {
            if !current.is_empty() {
                out.push((start, std::mem::take(&mut current)));
            }
            continue;
        }
        if current.is_empty() {
            if c == '#' {
                break;
            }
            start = i as u32 + 1;
        }
        current.push(c);
        if c == '\\' {
            if let Some((_, next)) = chars.next() {
                current.push(next);
            }
        }
    }
    if !current.is_empty() {
        out.push((start, current));
    }
    out
}

type ParsedLine = (String, Vec<Owner>, Pattern);

fn parse_line(line: &str) -> Result<Option<ParsedLine>, ParseError> {
    let mut tokens = tokens(line).into_iter();
    let Some((column, pattern)) = tokens.next() else {
        return Ok(None);
    };
    let compiled = Pattern::new(&pattern).map_err(|e| ParseError {
        column,
        kind: e.kind,
        message: e.message,
        suggestion: e.suggestion,
    })?;
    let mut owners = Vec::new();
    for (column, text) in tokens {
        match Owner::parse(&text) {
            Some(owner) => owners.push(owner),
            None => {
                let suggestion = if !text.starts_with('@') && is_login(&text) {
                    Some(format!("Did you mean `@{text}`?"))
                } else {
                    None
                };
                return Err(ParseError {
                    column,
                    kind: ErrorKind::InvalidOwner,
                    message: format!(
                        "`{text}` is not an owner: write @user, @org/team or an e-mail address"
                    ),
                    suggestion,
                });
            }
        }
    }
    Ok(Some((pattern, owners, compiled)))
}
