//! Secret rules: the TOML format (built-in families and `.vouch/secrets.toml`), parsed and
//! validated once. Every error names file:line:column and says how to fix it.
//!
//! A rule's regex is not compiled here for built-in rules: it compiles the first time a keyword
//! hit needs it, so a scan that hits no keyword compiles nothing. Custom rules compile at load so
//! a broken pattern is reported where it is written.

use super::validate::Checksum;
use crate::policy::{error::did_you_mean, Confidence, PolicyError, Position};
use regex::bytes::{Regex, RegexBuilder};
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson;
use regex_automata::util::pool::Pool;
use regex_automata::Input;
use regex_syntax::hir::{Hir, HirKind, Repetition};
use serde::Deserialize;
use std::collections::HashSet;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::OnceLock;
use toml::Spanned;

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
    regex: OnceLock<Result<Regex, String>>,
    precheck: OnceLock<Option<Precheck>>,
}

type NewCache = Box<dyn Fn() -> Cache + Send + Sync + UnwindSafe + RefUnwindSafe>;

/// A cheap first test of a window: the pattern with its captures dropped and its large
/// repetition bounds lifted (so it matches a superset of what the pattern matches), as a
/// forward-only lazy DFA. It compiles in a fraction of the time of the full regex, which then
/// compiles and runs only on the rare windows this accepts.
struct Precheck {
    dfa: DFA,
    caches: Pool<Cache, NewCache>,
    /// The longest match the pattern itself can make, when bounded.
    reach: Option<usize>,
}

/// The most memory a precheck's lazy DFA cache may take, per rule and thread.
const PRECHECK_CACHE_BYTES: usize = 256 * 1024;

/// Repetition bounds above this are lifted in a precheck: `{20,4000}` becomes `{20,}`.
const PRECHECK_MAX_REPEAT: u32 = 64;

impl Precheck {
    fn new(pattern: &str) -> Option<Precheck> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .ok()?;
        let nfa = thompson::Compiler::new()
            .configure(
                thompson::Config::new()
                    .which_captures(thompson::WhichCaptures::None)
                    .utf8(false)
                    .shrink(false),
            )
            .build_from_hir(&relax(&hir))
            .ok()?;
        // A small cache per rule and thread: some 700 rules on every core stay within a few
        // hundred megabytes even on hostile input (a full cache is cleared and refilled).
        let dfa = DFA::builder()
            .configure(DFA::config().cache_capacity(PRECHECK_CACHE_BYTES))
            .build_from_nfa(nfa)
            .ok()?;
        let for_caches = dfa.clone();
        let new: NewCache = Box::new(move || for_caches.create_cache());
        Some(Precheck {
            dfa,
            caches: Pool::new(new),
            reach: hir.properties().maximum_len(),
        })
    }

    /// False only when the pattern cannot match anywhere in `span` of `hay` (the bytes around
    /// the span still decide `\b`, `^` and `$` at its edges).
    fn might_match(&self, hay: &[u8], span: std::ops::Range<usize>) -> bool {
        let mut cache = self.caches.get();
        // A search error (never expected: no quit bytes, no cache limit) says "maybe".
        !matches!(
            self.dfa
                .try_search_fwd(&mut cache, &Input::new(hay).span(span).earliest(true)),
            Ok(None)
        )
    }
}

/// `hir` without capture groups and with repetition bounds above [`PRECHECK_MAX_REPEAT`]
/// lifted: every text it matched is still matched.
fn relax(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            min: r.min,
            max: r.max.filter(|&m| m <= PRECHECK_MAX_REPEAT),
            greedy: r.greedy,
            sub: Box::new(relax(&r.sub)),
        }),
        HirKind::Capture(c) => relax(&c.sub),
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(relax).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(relax).collect()),
        _ => hir.clone(),
    }
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

    /// The longest match the pattern can make, when it is bounded: every match holding a
    /// keyword hit then lies within this many bytes of it. `None` when unbounded (or the
    /// precheck could not be built).
    pub fn match_reach(&self) -> Option<usize> {
        self.precheck().and_then(|p| p.reach)
    }

    fn precheck(&self) -> Option<&Precheck> {
        self.precheck
            .get_or_init(|| Precheck::new(&self.pattern))
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

fn compile(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(32 * 1024 * 1024)
        .build()
        .map_err(|e| e.to_string())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile<E> {
    #[serde(default = "Vec::new")]
    rule: Vec<Spanned<RawRule<E>>>,
}

/// A rule as written. `E` holds examples and negatives: their texts, or nothing when only
/// scanning (built-in rules at run time skip decoding some 3,000 strings).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule<E> {
    id: Spanned<String>,
    description: Spanned<String>,
    provider: Spanned<String>,
    keywords: Spanned<Vec<Spanned<String>>>,
    regex: Spanned<String>,
    #[serde(default)]
    entropy: Option<Spanned<f64>>,
    #[serde(default)]
    checksum: Option<Spanned<String>>,
    confidence: Spanned<String>,
    #[serde(default)]
    multiline: bool,
    #[serde(default)]
    random: bool,
    examples: E,
    #[serde(default = "Option::default")]
    negatives: Option<E>,
}

/// Examples or negatives as read: the texts and where the list is, or nothing.
trait Texts {
    fn texts(self) -> (Vec<String>, Option<std::ops::Range<usize>>);
}

impl Texts for Spanned<Vec<Spanned<String>>> {
    fn texts(self) -> (Vec<String>, Option<std::ops::Range<usize>>) {
        let span = self.span();
        let texts = self
            .into_inner()
            .into_iter()
            .map(Spanned::into_inner)
            .collect();
        (texts, Some(span))
    }
}

impl Texts for serde::de::IgnoredAny {
    fn texts(self) -> (Vec<String>, Option<std::ops::Range<usize>>) {
        (Vec::new(), None)
    }
}

/// How eagerly to compile patterns while loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compile {
    /// Compile every pattern now (custom rules, `vouch rules test`): errors point at the rule.
    Now,
    /// Compile on first use, and skip the examples (built-in rules at run time: CI runs them).
    Lazily,
}

/// Parse a rule file. `display` names it in errors; `taken` holds ids already defined elsewhere
/// (ids must be unique across every file) and receives this file's ids.
pub fn parse_rules(
    text: &str,
    display: &str,
    taken: &mut HashSet<String>,
    compile_now: Compile,
) -> Result<Vec<Rule>, PolicyError> {
    match compile_now {
        Compile::Now => {
            parse_with::<Spanned<Vec<Spanned<String>>>>(text, display, taken, compile_now)
        }
        Compile::Lazily => parse_with::<serde::de::IgnoredAny>(text, display, taken, compile_now),
    }
}

fn parse_with<E>(
    text: &str,
    display: &str,
    taken: &mut HashSet<String>,
    compile_now: Compile,
) -> Result<Vec<Rule>, PolicyError>
where
    E: Texts + serde::de::DeserializeOwned,
{
    let file: RuleFile<E> = toml::from_str(text).map_err(|e| toml_error(&e, text, display))?;
    let at = |offset: usize| Position::of(display, text, offset);
    let mut rules = Vec::with_capacity(file.rule.len());
    // Line of each rule, from one pass over the text (Position::of is linear per call).
    let newlines: Vec<usize> = memchr::memchr_iter(b'\n', text.as_bytes()).collect();
    let line_of = |offset: usize| newlines.partition_point(|&n| n < offset) + 1;
    for spanned in file.rule {
        let rule_start = spanned.span().start;
        let raw = spanned.into_inner();
        let bad =
            |span: std::ops::Range<usize>, msg: String| PolicyError::invalid(at(span.start), msg);

        let id = raw.id.get_ref().clone();
        if !is_kebab(&id) {
            return Err(bad(
                raw.id.span(),
                format!("rule id {id:?} is not lowercase kebab-case"),
            )
            .with_hint(
                "use lowercase letters, digits and single dashes, e.g. \"github-pat-classic\"",
            ));
        }
        if !taken.insert(id.clone()) {
            return Err(bad(raw.id.span(), format!("rule id {id:?} is defined twice"))
                .with_hint("rule ids are unique across the built-in rules and .vouch/secrets.toml; rename this rule (turn a built-in off with `disable_rules` in [secrets])"));
        }
        for (name, value) in [
            ("description", &raw.description),
            ("provider", &raw.provider),
        ] {
            if value.get_ref().trim().is_empty() {
                return Err(
                    bad(value.span(), format!("rule {id:?} has an empty `{name}`"))
                        .with_hint(format!("say in `{name}` what the rule finds")),
                );
            }
        }
        let keywords_span = raw.keywords.span();
        let keywords = raw.keywords.into_inner();
        if keywords.is_empty() {
            return Err(
                bad(keywords_span, format!("rule {id:?} has no keywords")).with_hint(
                    "add at least one literal every match contains, e.g. keywords = [\"ghp_\"]",
                ),
            );
        }
        let mut kws = Vec::with_capacity(keywords.len());
        for k in keywords {
            let word = k.get_ref();
            if word.trim().is_empty() || word.contains(['\n', '\r']) || word.len() > MAX_KEYWORD_LEN
            {
                return Err(bad(k.span(), format!("rule {id:?} has a bad keyword {word:?}"))
                    .with_hint(format!("a keyword is a non-empty literal of at most {MAX_KEYWORD_LEN} bytes on one line")));
            }
            kws.push(word.to_ascii_lowercase());
        }
        let pattern = raw.regex.get_ref().clone();
        let regex = OnceLock::new();
        let compiled = match compile_now {
            Compile::Now => Some(compile(&pattern)),
            Compile::Lazily => None,
        };
        if let Some(Err(e)) = &compiled {
            return Err(bad(
                raw.regex.span(),
                format!("rule {id:?}: the regex does not compile: {}", one_line(e)),
            )
            .with_hint("use Rust `regex` syntax: no lookaround, no backreferences"));
        }
        if let Some(c) = compiled {
            let _ = regex.set(c);
        }
        let entropy = match raw.entropy {
            Some(e) if !(0.0..=8.0).contains(e.get_ref()) => {
                return Err(bad(e.span(), format!("rule {id:?}: entropy {} is out of range", e.get_ref()))
                    .with_hint("entropy is bits per character, between 0 and 8 (random base64 is about 4.5 to 6)"));
            }
            Some(e) => Some(*e.get_ref()),
            None => None,
        };
        let checksum = match raw.checksum {
            Some(c) => Some(Checksum::parse(c.get_ref()).ok_or_else(|| {
                let names = Checksum::NAMES;
                let err = bad(
                    c.span(),
                    format!("rule {id:?}: unknown checksum {:?}", c.get_ref()),
                );
                match did_you_mean(c.get_ref(), names) {
                    Some(best) => err.with_hint(format!("did you mean \"{best}\"?")),
                    None => err.with_hint(format!("use one of: {}", names.join(", "))),
                }
            })?),
            None => None,
        };
        let confidence = Confidence::parse(raw.confidence.get_ref()).ok_or_else(|| {
            bad(
                raw.confidence.span(),
                format!(
                    "rule {id:?}: unknown confidence {:?}",
                    raw.confidence.get_ref()
                ),
            )
            .with_hint("use \"low\", \"medium\" or \"high\"")
        })?;
        let (examples, examples_span) = raw.examples.texts();
        if let (true, Some(span)) = (examples.is_empty(), examples_span) {
            return Err(bad(span, format!("rule {id:?} has no examples"))
                .with_hint("add at least one text that must produce a finding (a made-up token in the real format)"));
        }
        rules.push(Rule {
            id,
            description: raw.description.into_inner(),
            provider: raw.provider.into_inner(),
            keywords: kws,
            pattern,
            entropy,
            checksum,
            confidence,
            multiline: raw.multiline,
            random: raw.random,
            examples,
            negatives: raw.negatives.map(|n| n.texts().0).unwrap_or_default(),
            defined_at: format!("{display}:{}", line_of(rule_start)),
            regex,
            precheck: OnceLock::new(),
        });
    }
    Ok(rules)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn toml_error(e: &toml::de::Error, text: &str, display: &str) -> PolicyError {
    let offset = e.span().map_or(0, |s| s.start);
    let message = one_line(e.message());
    let err = PolicyError::invalid(Position::of(display, text, offset), message.clone());
    if message.starts_with("missing field") {
        err.with_hint("every [[rule]] needs id, description, provider, keywords, regex, confidence and examples")
    } else if message.starts_with("unknown field") {
        err.with_hint("known keys: id, description, provider, keywords, regex, entropy, checksum, confidence, multiline, random, examples, negatives")
    } else {
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_precheck_accepts_everything_its_pattern_matches_and_rejects_clear_misses() {
        let pattern = r"\b(?P<secret>tok_[a-f0-9]{8,300})(?:[^a-f0-9]|$)";
        let p = Precheck::new(pattern).unwrap();
        let full = compile(pattern).unwrap();
        let long = format!("x = tok_{}", "ab".repeat(140));
        // Longer than the pattern allows: the lifted bound says "maybe"; the regex decides.
        let too_long = format!("x = tok_{};", "ab".repeat(400));
        for text in ["tok_0123abcd", "a tok_deadbeef99 b", &long, &too_long] {
            assert!(p.might_match(text.as_bytes(), 0..text.len()), "{text}");
        }
        assert!(full.is_match(long.as_bytes()));
        assert!(!full.is_match(too_long.as_bytes()));
        for text in [
            "tok_0123",
            "tok_ZZZZZZZZZZ",
            "no token here",
            "xtok_0123abcd",
        ] {
            assert!(!p.might_match(text.as_bytes(), 0..text.len()), "{text}");
            assert!(!full.is_match(text.as_bytes()), "{text}");
        }
        // The pattern's own longest match bounds where a match can lie around a hit.
        assert_eq!(p.reach, Some(4 + 300 + 1));
        // A span sees the bytes around it: `\b` before `tok_` fails when a letter precedes.
        let text = b"xtok_0123abcd ";
        assert!(!p.might_match(text, 1..text.len()));
        assert!(p.might_match(b" tok_0123abcd ", 1..14));
        // A match must lie inside the span: here it needs the space after the digits.
        assert!(!p.might_match(b" tok_0123abcd ", 1..13));
        // Relaxing drops groups and lifts only bounds above the limit.
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .unwrap();
        let relaxed = relax(&hir).to_string();
        assert!(!relaxed.contains("?P<"), "{relaxed}");
        assert!(!relaxed.contains("300"), "{relaxed}");
    }

    #[test]
    fn every_built_in_rule_has_a_precheck() {
        for rule in crate::secrets::builtin::rules().unwrap() {
            assert!(
                Precheck::new(&rule.pattern).is_some(),
                "{}: no precheck, every window would run the full regex",
                rule.id
            );
        }
    }
}
