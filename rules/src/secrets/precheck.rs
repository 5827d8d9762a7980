//! A cheap first test of a rule's window: the pattern with its captures dropped and its large
//! repetition bounds lifted, as a forward lazy DFA that compiles in a fraction of the full
//! regex's time. The full regex compiles and runs only where this accepts.

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson;
use regex_automata::util::pool::Pool;
use regex_automata::Input;
use regex_syntax::hir::{Hir, HirKind, Repetition};
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::OnceLock;

type NewCache = Box<dyn Fn() -> Cache + Send + Sync + UnwindSafe + RefUnwindSafe>;

/// A cheap first test of a window: the pattern with its captures dropped and its large
/// repetition bounds lifted (so it matches a superset of what the pattern matches), as a
/// forward-only lazy DFA. It compiles in a fraction of the time of the full regex, which then
/// compiles and runs only on the rare windows this accepts. Before the DFA, the pattern's
/// shortest match decides: a span shorter than that holds no match, and the DFA is built only
/// when a span long enough first comes (many keywords hit only in short lines of code).
pub(super) struct Precheck {
    /// The relaxed pattern, compiled into `automaton` on first need.
    relaxed: Hir,
    automaton: OnceLock<Option<Automaton>>,
    /// The longest match the pattern itself can make, when bounded.
    pub(super) reach: Option<usize>,
    /// The shortest match the pattern can make.
    shortest: usize,
}

struct Automaton {
    dfa: DFA,
    caches: Pool<Cache, NewCache>,
}

/// The most memory a precheck's lazy DFA cache may take, per rule and thread.
const PRECHECK_CACHE_BYTES: usize = 256 * 1024;

/// Repetition bounds above this are lifted in a precheck: `{20,4000}` becomes `{20,}`, and so
/// do `{1,64}` and `{0,20}`. An upper bound makes an unanchored DFA count: every byte of a run
/// of the repeated class starts another count, and two bounded runs in a row (`user{1,64}:
/// pass{8,128}`) multiply into thousands of states, enough to clear a precheck's cache over
/// and over on ordinary code. Lifted, the run is one state; the full regex still applies the
/// bound where the precheck accepts. An exact count (`{40}`) stays: it is one chain of states
/// either way, and it keeps the precheck from accepting every longer run.
const PRECHECK_MAX_REPEAT: u32 = 8;

impl Precheck {
    pub(super) fn new(pattern: &str) -> Option<Precheck> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .ok()?;
        let props = hir.properties();
        Some(Precheck {
            reach: props.maximum_len(),
            // No minimum: the pattern matches nothing (`[^\x00-\xff]`); 0 leaves it to the DFA.
            shortest: props.minimum_len().unwrap_or(0),
            relaxed: relax(&hir),
            automaton: OnceLock::new(),
        })
    }

    /// The lazy DFA, built on first use; `None` when it cannot be built (then every span is a
    /// "maybe" and the full regex decides).
    fn automaton(&self) -> Option<&Automaton> {
        self.automaton
            .get_or_init(|| {
                let nfa = thompson::Compiler::new()
                    .configure(
                        thompson::Config::new()
                            .which_captures(thompson::WhichCaptures::None)
                            .utf8(false)
                            .shrink(false),
                    )
                    .build_from_hir(&self.relaxed)
                    .ok()?;
                // A small cache per rule and thread: some 700 rules on every core stay within
                // a few hundred megabytes even on hostile input (a full cache is cleared and
                // refilled).
                let dfa = DFA::builder()
                    .configure(DFA::config().cache_capacity(PRECHECK_CACHE_BYTES))
                    .build_from_nfa(nfa)
                    .ok()?;
                let for_caches = dfa.clone();
                let new: NewCache = Box::new(move || for_caches.create_cache());
                Some(Automaton {
                    dfa,
                    caches: Pool::new(new),
                })
            })
            .as_ref()
    }

    /// False only when the pattern cannot match anywhere in `span` of `hay` (the bytes around
    /// the span still decide `\b`, `^` and `$` at its edges).
    pub(super) fn might_match(&self, hay: &[u8], span: std::ops::Range<usize>) -> bool {
        // A match lies inside the span, so it is no longer than the span.
        if span.len() < self.shortest {
            return false;
        }
        let Some(a) = self.automaton() else {
            return true;
        };
        let mut cache = a.caches.get();
        // A search error (never expected: no quit bytes, no cache limit) says "maybe".
        !matches!(
            a.dfa
                .try_search_fwd(&mut cache, &Input::new(hay).span(span).earliest(true)),
            Ok(None)
        )
    }
}

/// `hir` without capture groups and with repetition bounds above [`PRECHECK_MAX_REPEAT`]
/// lifted (exact counts kept): every text it matched is still matched.
fn relax(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            min: r.min,
            max: r.max.filter(|&m| m <= PRECHECK_MAX_REPEAT || m == r.min),
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
        // A span shorter than the shortest match is answered without building the DFA.
        assert!(!p.might_match(b"x = tok_0123abc", 4..15));
        assert!(p.automaton.get().is_none());
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
                Precheck::new(&rule.pattern).is_some_and(|p| p.automaton().is_some()),
                "{}: no precheck, every window would run the full regex",
                rule.id
            );
        }
    }
}
