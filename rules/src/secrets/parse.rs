//! Reading rule files: the TOML format (built-in families and `.vouch/secrets.toml`), parsed and
//! validated once. Every error names file:line:column and says how to fix it.

use super::rule::{compile, Rule, MAX_KEYWORD_LEN};
use crate::policy::{error::did_you_mean, Confidence, PolicyError, Position};
use crate::secrets::validate::Checksum;
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::OnceLock;
use toml::Spanned;

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
