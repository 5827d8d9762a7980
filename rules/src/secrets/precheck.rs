//! A cheap first test of a rule's window: the pattern with its captures dropped and its large
//! repetition bounds lifted, as a forward lazy DFA that compiles in a fraction of the full
//! regex's time. The full regex compiles and runs only where this accepts.
//!
//! Most provider patterns begin with one of their own keywords, after at most a byte or two of
//! context (`(?:^|[^A-Za-z0-9_+/])pat…`, `(?:\b|_)(?i:github|gh_)…`). For those the [`Lead`]
//! says so, and a keyword hit is tested only where a match holding it could start: an anchored
//! search there dies within a few bytes on ordinary code, where an unanchored one would walk the
//! whole span around the hit.

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson;
use regex_automata::util::pool::Pool;
use regex_automata::{Anchored, Input};
use regex_syntax::hir::{Class, Hir, HirKind, Repetition};
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
    /// Where every match starts relative to a keyword it begins with, when the pattern says so.
    pub(super) lead: Option<Lead>,
}

/// Every match of the pattern starts `min..=max` bytes before an occurrence of one of the rule's
/// keywords (the pattern's fixed-width context, such as `(?:^|[^A-Za-z0-9])`, then the keyword).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Lead {
    pub(super) min: usize,
    pub(super) max: usize,
}

/// The most candidate starts a [`Lead`] may leave per keyword hit; a wider context (such as
/// `[a-z]{1,20}://`) is searched unanchored as before.
const MAX_LEAD_STARTS: usize = 4;

/// How many distinct literal prefixes the lead analysis follows before giving up.
const MAX_PREFIXES: usize = 256;
/// The widest class the lead analysis lists byte by byte (`[A-Za-z0-9]` after `re_` makes
/// `re_0` … `re_z`, the rule's keywords).
const MAX_CLASS_BYTES: usize = 64;

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
    /// `keywords` (lower case) are the rule's: they decide whether the pattern has a [`Lead`].
    pub(super) fn new(pattern: &str, keywords: &[String]) -> Option<Precheck> {
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
            lead: lead(&hir, keywords),
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

impl Precheck {
    /// False only when no match of the pattern starts at any of `starts` and ends by `end` in
    /// `hay` (the bytes before each start still decide `\b` and `^` there).
    pub(super) fn might_match_from(
        &self,
        hay: &[u8],
        starts: std::ops::RangeInclusive<usize>,
        end: usize,
    ) -> bool {
        let starts = *starts.start()..=(*starts.end()).min(end.saturating_sub(self.shortest));
        if starts.is_empty() {
            return false;
        }
        let Some(a) = self.automaton() else {
            return true;
        };
        let mut cache = a.caches.get();
        starts.into_iter().any(|at| {
            let input = Input::new(hay)
                .span(at..end)
                .anchored(Anchored::Yes)
                .earliest(true);
            !matches!(a.dfa.try_search_fwd(&mut cache, &input), Ok(None))
        })
    }
}

/// The [`Lead`] of a pattern, if it has one: its top-level sequence (groups opened) split into
/// a fixed-width head and a rest whose every match begins with one of `keywords`, ASCII
/// case-insensitively.
fn lead(hir: &Hir, keywords: &[String]) -> Option<Lead> {
    let keywords: Vec<Vec<u8>> = keywords
        .iter()
        .map(|k| k.as_bytes().to_ascii_lowercase())
        .collect();
    let mut parts = Vec::new();
    flatten(hir, &mut parts);
    let (mut min, mut max) = (0usize, 0usize);
    for split in 0..parts.len() {
        if max - min + 1 > MAX_LEAD_STARTS {
            return None;
        }
        if begins_with_keyword(&parts[split..], &keywords) {
            return Some(Lead { min, max });
        }
        let props = parts[split].properties();
        min += props.minimum_len()?;
        max += props.maximum_len()?;
    }
    None
}

/// The top-level sequence of `hir`, with concatenations and groups opened.
fn flatten<'h>(hir: &'h Hir, out: &mut Vec<&'h Hir>) {
    match hir.kind() {
        HirKind::Concat(subs) => subs.iter().for_each(|s| flatten(s, out)),
        HirKind::Capture(c) => flatten(&c.sub, out),
        _ => out.push(hir),
    }
}

/// Whether every match of the sequence `parts` begins with one of `keywords` (lower case),
/// ASCII case-insensitively. Walks the sequence's literal prefixes: each must grow into a
/// keyword before the sequence reaches a part whose bytes cannot be listed.
fn begins_with_keyword(parts: &[&Hir], keywords: &[Vec<u8>]) -> bool {
    let cap = keywords.iter().map(Vec::len).max().unwrap_or(0);
    // Prefixes that are whole so far and still shorter than a keyword they may become.
    let mut open: Vec<Vec<u8>> = vec![Vec::new()];
    for part in parts {
        if open.is_empty() {
            break;
        }
        let Some(next) = prefixes(part, cap) else {
            return false;
        };
        let mut grown = Vec::new();
        for p in &open {
            for (q, whole) in &next {
                let pq = [p.as_slice(), q.as_slice()].concat();
                if keywords.iter().any(|k| pq.starts_with(k)) {
                    continue;
                }
                if !whole || !keywords.iter().any(|k| k.starts_with(&pq)) {
                    return false;
                }
                grown.push(pq);
            }
        }
        grown.sort_unstable();
        grown.dedup();
        if grown.len() > MAX_PREFIXES {
            return false;
        }
        open = grown;
    }
    open.is_empty()
}

/// A literal prefix, lower case, and whether it is the whole match (so what follows extends it).
type Prefix = (Vec<u8>, bool);

/// Prefixes (lower case, at most `cap` bytes followed) such that every match of `hir` starts
/// with one of them; `None` when they cannot be listed (a wide class, too many).
fn prefixes(hir: &Hir, cap: usize) -> Option<Vec<Prefix>> {
    let out: Vec<Prefix> = match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => vec![(Vec::new(), true)],
        HirKind::Literal(l) => {
            let mut lit = l.0.to_ascii_lowercase();
            let whole = lit.len() <= cap;
            lit.truncate(cap);
            vec![(lit, whole)]
        }
        HirKind::Class(class) => {
            let mut bytes = Vec::new();
            match class {
                Class::Bytes(c) => {
                    for r in c.ranges() {
                        bytes.extend((r.start()..=r.end()).map(|b| b.to_ascii_lowercase()));
                    }
                }
                Class::Unicode(c) => {
                    for r in c.ranges() {
                        for ch in r.start()..=r.end() {
                            bytes.push(u8::try_from(ch).ok()?.to_ascii_lowercase());
                        }
                    }
                }
            }
            bytes.sort_unstable();
            bytes.dedup();
            if bytes.len() > MAX_CLASS_BYTES {
                return None;
            }
            bytes.into_iter().map(|b| (vec![b], true)).collect()
        }
        HirKind::Capture(c) => prefixes(&c.sub, cap)?,
        HirKind::Concat(subs) => {
            let mut set: Vec<Prefix> = vec![(Vec::new(), true)];
            for sub in subs {
                if set.iter().all(|(p, whole)| !whole || p.len() >= cap) {
                    break;
                }
                let Some(next) = prefixes(sub, cap) else {
                    // What follows is unknown: the prefixes so far still begin every match.
                    set.iter_mut().for_each(|e| e.1 = false);
                    break;
                };
                let mut grown = Vec::new();
                for (p, whole) in set {
                    if !whole || p.len() >= cap {
                        grown.push((p, false));
                        continue;
                    }
                    for (q, q_whole) in &next {
                        grown.push(([p.as_slice(), q.as_slice()].concat(), *q_whole));
                    }
                }
                if grown.len() > MAX_PREFIXES {
                    return None;
                }
                set = grown;
            }
            set
        }
        HirKind::Alternation(subs) => {
            let mut out = Vec::new();
            for sub in subs {
                out.extend(prefixes(sub, cap)?);
            }
            out
        }
        HirKind::Repetition(r) => {
            // Once or more: the sub's prefixes, the whole match only when it is exactly once.
            let once = r.max == Some(1);
            let mut out: Vec<Prefix> = prefixes(&r.sub, cap)?
                .into_iter()
                .map(|(p, whole)| (p, whole && once))
                .collect();
            if r.min == 0 {
                out.push((Vec::new(), true));
            }
            out
        }
    };
    (out.len() <= MAX_PREFIXES).then_some(out)
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
        let p = Precheck::new(pattern, &["tok_".to_string()]).unwrap();
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

    fn keywords(list: &[&str]) -> Vec<String> {
        list.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn a_lead_is_found_only_where_every_match_begins_with_a_keyword() {
        let alnum: Vec<String> = ('0'..='9')
            .chain('a'..='z')
            .map(|c| format!("re_{c}"))
            .collect();
        // Pattern, keywords, the lead wanted.
        type Case<'a> = (&'a str, Vec<String>, Option<(usize, usize)>);
        let cases: &[Case<'_>] = &[
            (
                r"(?:^|[^A-Za-z0-9_+/])(?P<secret>pat[A-Za-z0-9]{14}\.[0-9a-f]{64})\b",
                keywords(&["pat"]),
                Some((0, 1)),
            ),
            (
                r"(?:\b|_)(?i:github|gh_)[A-Za-z0-9_.-]{0,20}(?i:key|token)\s*=\s*(?P<secret>[0-9a-f]{40})\b",
                keywords(&["github", "gh_"]),
                Some((0, 1)),
            ),
            // `re_` then a class whose every byte makes a keyword.
            (
                r"(?:^|[^A-Za-z0-9_+/])(?P<secret>re_[A-Za-z0-9]{8}_[A-Za-z0-9]{24})\b",
                alnum.clone(),
                Some((0, 1)),
            ),
            (r"\btok_[a-f0-9]{8}", keywords(&["tok_"]), Some((0, 0))),
            // The keyword is not where matches begin, or the context before it is unbounded or wide.
            (r"\btok_[a-f0-9]{8}", keywords(&["ok_"]), None),
            (
                r"(?i:wise|transferwise)_key=[0-9a-f]{32}",
                keywords(&["wise"]),
                None,
            ),
            (
                r"(?i)\b[a-z][a-z0-9+.\-]{1,20}://[^:@]{1,64}:(?P<secret>[^@]{8,128})@",
                keywords(&["://"]),
                None,
            ),
            (
                r"[a-z0-9_]*token\s*=\s*[A-Za-z0-9]{20}",
                keywords(&["token"]),
                None,
            ),
            // A prefix shorter than the keyword may end the match before the keyword does.
            (r"\bre_?[A-Za-z0-9]{8}", alnum, None),
        ];
        for (pattern, kws, want) in cases {
            let p = Precheck::new(pattern, kws).unwrap();
            assert_eq!(p.lead.map(|l| (l.min, l.max)), *want, "{pattern}");
        }
    }

    #[test]
    fn an_anchored_precheck_tests_only_the_starts_it_is_given() {
        let pattern = r"(?:^|[^A-Za-z0-9_+/])(?P<secret>pat[A-Za-z0-9]{14}\.[0-9a-f]{8})\b";
        let p = Precheck::new(pattern, &keywords(&["pat"])).unwrap();
        let text = b"let path = x; t=\"patAbCdEfGhIjKlMn.0123abcd\" y";
        let hit = 17;
        assert_eq!(&text[hit..hit + 3], b"pat");
        assert!(p.might_match_from(text, hit - 1..=hit, text.len()));
        // The match ends past `end`, or starts elsewhere: no.
        assert!(!p.might_match_from(text, hit - 1..=hit, hit + 20));
        assert!(!p.might_match_from(text, 4..=5, text.len()));
        // A start range past the last start that leaves room for the shortest match is empty.
        assert!(!p.might_match_from(text, text.len() - 2..=text.len() - 1, text.len()));
    }

    #[test]
    fn every_match_of_a_built_in_example_begins_where_its_lead_says() {
        for rule in crate::secrets::builtin::parse(crate::secrets::rule::Compile::Now).unwrap() {
            let Some(lead) = Precheck::new(&rule.pattern, &rule.keywords).unwrap().lead else {
                continue;
            };
            let regex = compile(&rule.pattern).unwrap();
            for example in &rule.examples {
                let text = example.as_bytes();
                for m in regex.find_iter(text) {
                    let begins = (lead.min..=lead.max).any(|p| {
                        rule.keywords.iter().any(|k| {
                            text.get(m.start() + p..m.start() + p + k.len())
                                .is_some_and(|t| t.eq_ignore_ascii_case(k.as_bytes()))
                        })
                    });
                    assert!(
                        begins,
                        "{}: a match of an example starts outside its lead {lead:?}",
                        rule.id
                    );
                }
            }
        }
    }

    #[test]
    fn every_built_in_rule_has_a_precheck() {
        for rule in crate::secrets::builtin::rules().unwrap() {
            assert!(
                Precheck::new(&rule.pattern, &rule.keywords)
                    .is_some_and(|p| p.automaton().is_some()),
                "{}: no precheck, every window would run the full regex",
                rule.id
            );
        }
    }
}
