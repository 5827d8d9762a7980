//! One CODEOWNERS pattern, compiled to path segments.
//!
//! GitHub's rules, which differ from gitignore in places: no `!` negation and no `[ ]` ranges
//! (both are errors), `*` and `?` never cross `/`, a leading or middle `/` anchors the pattern to
//! the repository root, a pattern without one matches at any depth, a trailing `/` means the
//! directory and everything under it, `**` crosses directories, and a pattern whose last part is
//! exactly `*` (`docs/*`) matches the files directly in that directory only. Any other pattern
//! that names a directory also owns everything under it. Matching is case-sensitive.

/// Why a pattern was refused, and GitHub's kind for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pub kind: super::ErrorKind,
    pub message: String,
    pub suggestion: Option<String>,
}

/// One token of a wildcard segment.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(String),
    /// `*`: any run of characters within one segment.
    Star,
    /// `?`: exactly one character.
    One,
}

/// One `/`-separated part of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Matches one path component equal to the text.
    Literal(String),
    /// `**`: zero or more whole components.
    AnyDepth,
    /// A component matched by wildcards.
    Wild(Vec<Token>),
}

/// What the part of the path after the pattern's match may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// The pattern must match the whole path (`docs/*`).
    Exact,
    /// The pattern must match a directory: a proper prefix of the path (`docs/`, `docs/**`).
    Contents,
    /// The pattern matches the path itself or a directory it is in (`docs`, `*.js`).
    SelfOrContents,
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    segments: Vec<Segment>,
    tail: Tail,
}

fn unsupported(message: &str) -> PatternError {
    PatternError {
        kind: super::ErrorKind::UnsupportedSyntax,
        message: message.to_string(),
        suggestion: None,
    }
}

fn invalid(message: impl Into<String>, suggestion: Option<String>) -> PatternError {
    PatternError {
        kind: super::ErrorKind::InvalidPattern,
        message: message.into(),
        suggestion,
    }
}

/// A pattern character, with whether it was escaped by `\`.
type Char = (char, bool);

fn unescape(raw: &str) -> Vec<Char> {
    let mut out = Vec::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(next) => out.push((next, true)),
                None => out.push(('\\', true)),
            }
        } else {
            out.push((c, false));
        }
    }
    out
}

impl Pattern {
    /// Compile a pattern as written in CODEOWNERS (escapes `\#`, `\ `, `\*` … still in place).
    pub fn new(raw: &str) -> Result<Pattern, PatternError> {
        let chars = unescape(raw);
        if chars.first() == Some(&('!', false)) {
            return Err(unsupported(
                "negation (`!`) is not supported in CODEOWNERS; a later line with no owners un-assigns paths instead",
            ));
        }
        if chars.iter().any(|&(c, esc)| !esc && (c == '[' || c == ']')) {
            return Err(unsupported(
                "character ranges (`[ ]`) are not supported in CODEOWNERS; write one line per name",
            ));
        }
        let mut body: &[Char] = &chars;
        let mut tail = Tail::SelfOrContents;
        if let Some((&('/', false), rest)) = body.split_last() {
            tail = Tail::Contents;
            body = rest;
        }
        let mut anchored = false;
        if let Some((&('/', false), rest)) = body.split_first() {
            anchored = true;
            body = rest;
        }
        if body.is_empty() {
            return Err(invalid(
                "the pattern matches nothing",
                Some(format!(
                    "The pattern `{raw}` will never match anything, did you mean `*` instead?"
                )),
            ));
        }
        let parts: Vec<&[Char]> = body.split(|&c| c == ('/', false)).collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(invalid(
                "the pattern has an empty path segment (`//`)",
                Some(format!("Did you mean `{}`?", collapse_slashes(raw))),
            ));
        }
        if parts.len() > 1 {
            anchored = true;
        }
        let mut segments = Vec::with_capacity(parts.len() + 1);
        if !anchored {
            segments.push(Segment::AnyDepth);
        }
        for part in &parts {
            segments.push(segment(part, raw)?);
        }
        // `dir/**` is everything inside dir, not dir itself.
        if segments.len() > 1 && segments.last() == Some(&Segment::AnyDepth) {
            segments.pop();
            tail = Tail::Contents;
        } else if segments == [Segment::AnyDepth] {
            segments.clear();
            tail = Tail::Contents;
        }
        if anchored
            && tail == Tail::SelfOrContents
            && parts.last().is_some_and(|p| *p == [('*', false)])
        {
            tail = Tail::Exact;
        }
        Ok(Pattern { segments, tail })
    }

    /// Does the pattern own `path` (relative to the repository root, `/`-separated)?
    pub fn matches(&self, path: &str) -> bool {
        let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        self.matches_components(&components)
    }

    pub(crate) fn matches_components(&self, components: &[&str]) -> bool {
        let n = components.len();
        if n == 0 {
            return false;
        }
        if n < 128 {
            return self.matches_short(components);
        }
        // reachable[i]: the segments so far can consume exactly the first i components.
        let mut reachable = vec![false; n + 1];
        reachable[0] = true;
        let mut next = vec![false; n + 1];
        for segment in &self.segments {
            next.iter_mut().for_each(|r| *r = false);
            match segment {
                Segment::AnyDepth => {
                    if let Some(first) = reachable.iter().position(|&r| r) {
                        next[first..].iter_mut().for_each(|r| *r = true);
                    }
                }
                Segment::Literal(_) | Segment::Wild(_) => {
                    for i in 0..n {
                        if reachable[i] && segment_matches(segment, components[i]) {
                            next[i + 1] = true;
                        }
                    }
                }
            }
            std::mem::swap(&mut reachable, &mut next);
            if !reachable.iter().any(|&r| r) {
                return false;
            }
        }
        match self.tail {
            Tail::Exact => reachable[n],
            Tail::Contents => reachable[..n].iter().any(|&r| r),
            Tail::SelfOrContents => reachable[1..].iter().any(|&r| r),
        }
    }

    /// The same walk as above with the reachable set as a bit mask (paths under 128 components).
    fn matches_short(&self, components: &[&str]) -> bool {
        let n = components.len();
        let mut reachable: u128 = 1;
        for segment in &self.segments {
            let mut next: u128 = 0;
            match segment {
                Segment::AnyDepth => {
                    let first = reachable.trailing_zeros();
                    // Every position from the first reachable one up to n.
                    let upto_n = if n + 1 >= 128 {
                        u128::MAX
                    } else {
                        (1u128 << (n + 1)) - 1
                    };
                    next = upto_n & !((1u128 << first) - 1);
                }
                Segment::Literal(_) | Segment::Wild(_) => {
                    let mut bits = reachable & !(1u128 << n);
                    while bits != 0 {
                        let i = bits.trailing_zeros() as usize;
                        bits &= bits - 1;
                        if segment_matches(segment, components[i]) {
                            next |= 1u128 << (i + 1);
                        }
                    }
                }
            }
            reachable = next;
            if reachable == 0 {
                return false;
            }
        }
        let all_but_n = (1u128 << n) - 1;
        match self.tail {
            Tail::Exact => reachable & (1u128 << n) != 0,
            Tail::Contents => reachable & all_but_n != 0,
            Tail::SelfOrContents => reachable & !1u128 != 0,
        }
    }

    /// Every literal component text a match must contain, for indexing.
    pub(crate) fn literal_components(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Literal(t) => Some(t.as_str()),
            _ => None,
        })
    }

    /// The longest literal run inside a wildcard segment (`.gen` in `*.gen.ts`): text every
    /// matching path contains somewhere, for indexing rules without a literal component.
    pub(crate) fn longest_wild_literal(&self) -> Option<&str> {
        self.segments
            .iter()
            .filter_map(|s| match s {
                Segment::Wild(tokens) => Some(tokens),
                _ => None,
            })
            .flatten()
            .filter_map(|t| match t {
                Token::Literal(text) => Some(text.as_str()),
                _ => None,
            })
            .max_by_key(|t| t.len())
    }
}

fn segment_matches(segment: &Segment, component: &str) -> bool {
    match segment {
        Segment::Literal(text) => component == text,
        Segment::Wild(tokens) => wild_match(tokens, component),
        Segment::AnyDepth => true,
    }
}

fn segment(part: &[Char], raw: &str) -> Result<Segment, PatternError> {
    if part == [('*', false), ('*', false)] {
        return Ok(Segment::AnyDepth);
    }
    let mut run = 0;
    for &(c, esc) in part {
        run = if c == '*' && !esc { run + 1 } else { 0 };
        if run >= 3 {
            let fixed = collapse_stars(raw);
            return Err(invalid(
                "three or more `*` in a row mean nothing",
                Some(format!("Did you mean `{fixed}`?")),
            ));
        }
    }
    let mut tokens: Vec<Token> = Vec::new();
    for &(c, esc) in part {
        match (c, esc) {
            ('*', false) => {
                // `a**b` is `a*b`, as in gitignore.
                if tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
            }
            ('?', false) => tokens.push(Token::One),
            (c, _) => match tokens.last_mut() {
                Some(Token::Literal(s)) => s.push(c),
                _ => tokens.push(Token::Literal(c.to_string())),
            },
        }
    }
    Ok(match tokens.as_slice() {
        [Token::Literal(text)] => Segment::Literal(text.clone()),
        _ => Segment::Wild(tokens),
    })
}

fn collapse_slashes(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

fn collapse_stars(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut run = 0;
    for c in raw.chars() {
        run = if c == '*' { run + 1 } else { 0 };
        if run <= 2 {
            out.push(c);
        }
    }
    out
}

/// Wildcard match of one component: `*` any run, `?` one character, literals exact.
fn wild_match(tokens: &[Token], text: &str) -> bool {
    // Backtracking over the last `*` seen; linear for the usual one-star patterns.
    let mut ti = 0;
    let mut pos = 0;
    let mut star: Option<(usize, usize)> = None;
    loop {
        if ti < tokens.len() {
            match &tokens[ti] {
                Token::Star => {
                    star = Some((ti + 1, pos));
                    ti += 1;
                    continue;
                }
                Token::Literal(lit) if text[pos..].starts_with(lit.as_str()) => {
                    pos += lit.len();
                    ti += 1;
                    continue;
                }
                Token::One => {
                    if let Some(c) = text[pos..].chars().next() {
                        pos += c.len_utf8();
                        ti += 1;
                        continue;
                    }
                }
                Token::Literal(_) => {}
            }
        } else if pos == text.len() {
            return true;
        }
        // Mismatch: let the last `*` swallow one more character, or fail.
        match star {
            Some((after, from)) => match text[from..].chars().next() {
                Some(c) => {
                    let from = from + c.len_utf8();
                    star = Some((after, from));
                    ti = after;
                    pos = from;
                }
                None => return false,
            },
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_within_a_component() {
        let cases = [
            ("*.js", "a.js", true),
            ("*.js", "a.jsx", false),
            ("a*b*c", "abxbc", true),
            ("a*b*c", "abxbd", false),
            ("?.md", "é.md", true),
            ("?.md", "ab.md", false),
            ("*", "", true),
        ];
        for (pattern, text, want) in cases {
            let Segment::Wild(tokens) = segment(&unescape(pattern), pattern).unwrap() else {
                panic!("{pattern} is not a wildcard segment");
            };
            assert_eq!(wild_match(&tokens, text), want, "{pattern} ~ {text}");
        }
    }
}
