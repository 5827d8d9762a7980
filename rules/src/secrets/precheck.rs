//! A cheap first test of a rule's window: the pattern with its captures dropped and its large
//! repetition bounds lifted, as a forward lazy DFA that compiles in a fraction of the full
//! regex's time. The full regex compiles and runs only where this accepts.

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson;
use regex_automata::util::pool::Pool;
use regex_automata::Input;
use regex_syntax::hir::{Hir, HirKind, Repetition};
use std::panic::{RefUnwindSafe, UnwindSafe};

type NewCache = Box<dyn Fn() -> Cache + Send + Sync + UnwindSafe + RefUnwindSafe>;

/// A cheap first test of a window: the pattern with its captures dropped and its large
/// repetition bounds lifted (so it matches a superset of what the pattern matches), as a
/// forward-only lazy DFA. It compiles in a fraction of the time of the full regex, which then
/// compiles and runs only on the rare windows this accepts.
pub(super) struct Precheck {
    dfa: DFA,
    caches: Pool<Cache, NewCache>,
    /// The longest match the pattern itself can make, when bounded.
    pub(super) reach: Option<usize>,
}

/// The most memory a precheck's lazy DFA cache may take, per rule and thread.
const PRECHECK_CACHE_BYTES: usize = 256 * 1024;

/// Repetition bounds above this are lifted in a precheck: `{20,4000}` becomes `{20,}`.
const PRECHECK_MAX_REPEAT: u32 = 64;

impl Precheck {
    pub(super) fn new(pattern: &str) -> Option<Precheck> {
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
    pub(super) fn might_match(&self, hay: &[u8], span: std::ops::Range<usize>) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::rule::compile;

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
