//! A secret rule, validated: what it looks for and how its pattern compiles (lazily, with a
//! cheap precheck first). Reading rule files is in `parse.rs`, the precheck in `precheck.rs`.
//!
//! A rule's regex is not compiled here for built-in rules: it compiles the first time a keyword
//! hit needs it, so a scan that hits no keyword compiles nothing. Custom rules compile at load so
//! a broken pattern is reported where it is written.

pub use super::parse::{parse_rules, Compile};

use super::precheck::Precheck;
use super::validate::Checksum;
use crate::policy::{Confidence, PolicyError, Position};
use regex::bytes::{Regex, RegexBuilder};
use std::sync::OnceLock;

/// The longest keyword the prefilter accepts, in bytes.
pub const MAX_KEYWORD_LEN: usize = 64;

/// One secret-detection rule, validated.
pub struct Rule {
    /// Unique, lowercase kebab-case; findings use `secrets.<id>`.
    pub id: String,
    pub description: String,
    /// Who issues the credential.
    pub provider: String,
    /// Literals the prefilter looks for (ASCII case-insensitively).
    pub keywords: Vec<String>,
    /// The pattern as written.
    pub pattern: String,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    pub entropy: Option<f64>,
    pub checksum: Option<Checksum>,
    pub confidence: Confidence,
    /// The secret must look machine-generated (letters and digits, not word-like pieces).
    pub random: bool,
    /// The match may span lines (up to 64 KiB after the keyword).
    pub multiline: bool,
    pub examples: Vec<String>,
    pub negatives: Vec<String>,
    /// Where the rule is written: `file:line`.
    pub defined_at: String,
    pub(super) regex: OnceLock<Result<Regex, String>>,
    pub(super) precheck: OnceLock<Option<Precheck>>,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .field("defined_at", &self.defined_at)
            .finish_non_exhaustive()
    }
}

impl Rule {
    /// The compiled pattern, compiled on first use.
    pub fn regex(&self) -> Result<&Regex, String> {
        self.regex
            .get_or_init(|| compile(&self.pattern))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// False only when the pattern cannot match anywhere in `window`: a cheap test that runs
    /// before [`Rule::regex`] is compiled or searched.
    pub fn might_match(&self, window: &[u8]) -> bool {
        self.might_match_in(window, 0..window.len())
    }

    /// [`Rule::might_match`] on `span` of `hay`, with the bytes around the span as context.
    pub fn might_match_in(&self, hay: &[u8], span: std::ops::Range<usize>) -> bool {
        match self.precheck() {
            Some(p) => p.might_match(hay, span),
            // A pattern the precheck cannot build: let the full regex decide.
            None => true,
        }
    }

    /// When every match starts `min..=max` bytes before one of the rule's keywords: those
    /// bounds. A hit then needs testing only at the few starts it allows
    /// ([`Rule::might_match_from`]).
    pub fn keyword_lead(&self) -> Option<(usize, usize)> {
        self.precheck().and_then(|p| p.lead).map(|l| (l.min, l.max))
    }

    /// False only when no match starts at one of `starts` of `hay` and ends by `end`: a
    /// cheap test, as [`Rule::might_match`], for rules with a [`Rule::keyword_lead`].
    pub fn might_match_from(
        &self,
        hay: &[u8],
        starts: std::ops::RangeInclusive<usize>,
        end: usize,
    ) -> bool {
        match self.precheck() {
            Some(p) => p.might_match_from(hay, starts, end),
            None => true,
        }
    }

    /// The longest match the pattern can make, when it is bounded: every match holding a
    /// keyword hit then lies within this many bytes of it. `None` when unbounded (or the
    /// precheck could not be built).
    pub fn match_reach(&self) -> Option<usize> {
        self.precheck().and_then(|p| p.reach)
    }

    fn precheck(&self) -> Option<&Precheck> {
        self.precheck
            .get_or_init(|| Precheck::new(&self.pattern, &self.keywords))
            .as_ref()
    }

    /// Whether the pattern (or its precheck) has been compiled yet (for tests of laziness).
    pub fn is_compiled(&self) -> bool {
        self.regex.get().is_some() || self.precheck.get().is_some()
    }

    /// The rule id as findings carry it.
    pub fn finding_id(&self) -> String {
        format!("secrets.{}", self.id)
    }

    /// A built-in rule from the build-time table. The files it came from are validated in full
    /// by `vouch rules test`; this re-checks the enumerated values so a bad table fails closed.
    pub(super) fn from_builtin(
        def: &super::builtin::BuiltinDef,
        display: &str,
    ) -> Result<Rule, PolicyError> {
        let at = Position {
            file: display.to_string(),
            line: def.line,
            column: 1,
        };
        let bad = |what: &str| {
            PolicyError::invalid(at.clone(), format!("built-in rule {:?}: {what}", def.id))
                .with_hint("this is a bug in vouch's built-in rules; run `vouch rules test`")
        };
        let checksum = match def.checksum {
            Some(name) => Some(Checksum::parse(name).ok_or_else(|| bad("unknown checksum"))?),
            None => None,
        };
        let confidence =
            Confidence::parse(def.confidence).ok_or_else(|| bad("unknown confidence"))?;
        if def.entropy.is_some_and(|e| !(0.0..=8.0).contains(&e)) {
            return Err(bad("entropy out of range"));
        }
        if def.keywords.is_empty() {
            return Err(bad("no keywords"));
        }
        Ok(Rule {
            id: def.id.to_string(),
            description: def.description.to_string(),
            provider: def.provider.to_string(),
            keywords: def
                .keywords
                .iter()
                .map(|k| k.to_ascii_lowercase())
                .collect(),
            pattern: def.pattern.to_string(),
            entropy: def.entropy,
            checksum,
            confidence,
            multiline: def.multiline,
            random: def.random,
            examples: Vec::new(),
            negatives: Vec::new(),
            defined_at: format!("{display}:{}", def.line),
            regex: OnceLock::new(),
            precheck: OnceLock::new(),
        })
    }
}

pub(super) fn compile(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(32 * 1024 * 1024)
        .build()
        .map_err(|e| e.to_string())
}
