//! The scanning engine: one keyword prefilter over raw bytes, regexes only near a hit.
//!
//! Every enabled rule's keywords are compiled once into one prefilter over raw bytes, ASCII
//! case-insensitive: hashed gram bitmaps with keywords anchored on their rarest grams and exact
//! confirmation ([`super::grams`]), or an Aho-Corasick automaton when a keyword is a single byte.
//! A rule's pattern runs only on the window around a hit of one of its keywords (the containing
//! line, capped at 4 KiB each side, or 64 KiB after the hit for `multiline` rules): first as a
//! cheap precheck (a forward lazy DFA without captures or large bounds, [`Rule::might_match`];
//! for a pattern that begins with its keyword, anchored at the few starts a hit allows; for
//! another with a bounded longest match, only over the bytes of the line that a match holding
//! the hit can reach), and only where that accepts, as the full regex. Candidates then pass the
//! rule's entropy threshold, its checksum and the placeholder filter. Files stream through a
//! bounded buffer with overlap, so a 2 GB file costs a few megabytes of memory.

use super::confidence::{assess, Owners};
use super::grams::Grams;
use super::rule::{Rule, MAX_KEYWORD_LEN};
use super::validate::{entropy, is_placeholder, looks_random};
use crate::policy::{Confidence, Glob, Oversize, SecretsPolicy};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::{memchr, memmem, memrchr};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// How far a single-line window reaches each side of a keyword hit.
const LINE_REACH: usize = 4096;
/// How far a multiline window reaches after a keyword hit.
const MULTILINE_SPAN: usize = 64 * 1024;
/// Bytes read per streaming step.
const CHUNK: usize = 8 * 1024 * 1024;
/// Bytes kept after the accepted region so windows that start inside it are whole.
const KEEP_AFTER: usize = MULTILINE_SPAN + LINE_REACH + MAX_KEYWORD_LEN;
/// Bytes kept before the next region so windows (and the line before them) reach back.
const KEEP_BEFORE: usize = 2 * LINE_REACH + MAX_KEYWORD_LEN;
/// Content sniffed for NUL bytes to call a file binary, as git does.
pub const BINARY_SNIFF: usize = 8 * 1024;

/// The policy's `[secrets]` knobs the engine applies.
#[derive(Debug, Clone)]
pub struct Settings {
    pub min_confidence: Confidence,
    pub inline_allow: bool,
    pub max_file_bytes: u64,
    pub oversize: Oversize,
    pub allow_paths: Vec<Glob>,
    pub disable_rules: Vec<String>,
}

impl Settings {
    pub fn from_policy(policy: &SecretsPolicy) -> Self {
        Settings {
            min_confidence: policy.min_confidence,
            inline_allow: policy.inline_allow,
            max_file_bytes: policy.max_file_bytes,
            oversize: policy.oversize,
            allow_paths: policy.allow_paths.clone(),
            disable_rules: policy.disable_rules.clone(),
        }
    }

    /// Every rule at every confidence, inline allows honoured, no size limit: for rule tests.
    pub fn everything() -> Self {
        Settings {
            min_confidence: Confidence::Low,
            inline_allow: true,
            max_file_bytes: u64::MAX,
            oversize: Oversize::Fail,
            allow_paths: Vec::new(),
            disable_rules: Vec::new(),
        }
    }
}

/// One secret found. The value itself stays inside; only its digest and a redacted form leave.
#[derive(Clone)]
pub struct SecretMatch {
    pub rule: Arc<Rule>,
    /// 1-based line of the secret's first byte.
    pub line: u32,
    /// 1-based byte column of the secret's first byte.
    pub column: u32,
    /// A `vouch:allow` comment on the line (or `vouch:allow-next-line` on the one before) covers
    /// it, and the policy honours such comments.
    pub allowed_inline: bool,
    /// How sure this finding is (its rule's confidence, adjusted for this value).
    pub confidence: Confidence,
    /// Why it fired: checksum, provider format, keyword, entropy (most telling first).
    pub reasons: Vec<String>,
    secret: Vec<u8>,
}

impl std::fmt::Debug for SecretMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretMatch")
            .field("rule", &self.rule.id)
            .field("line", &self.line)
            .field("column", &self.column)
            .field("allowed_inline", &self.allowed_inline)
            .field("confidence", &self.confidence)
            .field("secret", &self.redacted())
            .finish()
    }
}

impl SecretMatch {
    /// The secret for display: a few leading characters, an ellipsis and the length. Short
    /// secrets show fewer characters, very short ones none.
    pub fn redacted(&self) -> String {
        redact(&self.secret)
    }

    /// The secret's length in bytes.
    pub fn len(&self) -> usize {
        self.secret.len()
    }

    /// Always false: an empty candidate is never a match.
    pub fn is_empty(&self) -> bool {
        self.secret.is_empty()
    }

    /// SHA-256 of the secret, hex.
    pub fn secret_sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.secret))
    }

    /// Whether `haystack` contains this secret (used to tell whether a commit added it).
    pub fn occurs_in(&self, haystack: &[u8]) -> bool {
        memmem::find(haystack, &self.secret).is_some()
    }

    /// The stable fingerprint: rule id, the secret's SHA-256 and the path; no line numbers.
    pub fn fingerprint(&self, path: &str) -> String {
        fingerprint(&self.rule.finding_id(), &self.secret_sha256(), path)
    }
}

/// The fingerprint of a finding: SHA-256 over rule id, secret digest and path, 32 hex digits.
pub fn fingerprint(rule_id: &str, secret_sha256: &str, path: &str) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0]);
    h.update(secret_sha256.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Redact `secret`: at most 4 leading characters (2 for secrets under 16 bytes, none under 8),
/// then `…` and the length.
pub fn redact(secret: &[u8]) -> String {
    let shown = match secret.len() {
        0..=7 => 0,
        8..=15 => 2,
        _ => 4,
    };
    let prefix: String = secret[..shown]
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect();
    format!("{prefix}\u{2026} ({} chars)", secret.len())
}

/// The result of scanning one input.
#[derive(Debug, Default)]
pub struct Scan {
    pub matches: Vec<SecretMatch>,
    /// Rules whose pattern failed to compile when first needed (`id: reason`). Only a broken
    /// built-in can cause this; the caller fails closed.
    pub broken_rules: Vec<String>,
    /// Bytes scanned.
    pub bytes: u64,
}

/// What happened to a file.
#[derive(Debug)]
pub enum FileScan {
    Scanned(Scan),
    /// NUL bytes in the first 8 KiB: not text.
    Binary,
    /// Larger than `max_file_bytes`: reported, not scanned.
    TooLarge {
        size: u64,
    },
}

/// All rules compiled into one prefilter, plus the settings to apply. Build once, share freely.
pub struct Scanner {
    rules: Vec<Arc<Rule>>,
    automaton: Option<AhoCorasick>,
    /// The faster prefilter, when every keyword has at least 3 bytes.
    grams: Option<Grams>,
    /// Automaton pattern id → indexes into `rules`.
    by_pattern: Vec<Vec<u32>>,
    /// Provider prefixes and names generic hits defer to.
    owners: Owners,
    settings: Settings,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("rules", &self.rules.len())
            .field("keywords", &self.by_pattern.len())
            .field("settings", &self.settings)
            .finish()
    }
}

/// True when `bytes` look binary: a NUL in the first 8 KiB.
pub fn is_binary(bytes: &[u8]) -> bool {
    memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF)]).is_some()
}

struct State {
    seen: HashSet<(u32, u64)>,
    broken: Vec<String>,
}

impl Scanner {
    /// Compile the prefilter over the rules the settings keep (not disabled, confident enough).
    pub fn new(rules: Vec<Arc<Rule>>, settings: Settings) -> Result<Scanner, String> {
        let rules: Vec<Arc<Rule>> = rules
            .into_iter()
            .filter(|r| r.confidence >= settings.min_confidence)
            .filter(|r| {
                !settings
                    .disable_rules
                    .iter()
                    .any(|d| *d == r.id || *d == r.finding_id())
            })
            .collect();
        let mut ids: HashMap<&str, usize> = HashMap::new();
        let mut patterns: Vec<&str> = Vec::new();
        let mut by_pattern: Vec<Vec<u32>> = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            for k in &rule.keywords {
                let pid = *ids.entry(k.as_str()).or_insert_with(|| {
                    patterns.push(k.as_str());
                    by_pattern.push(Vec::new());
                    patterns.len() - 1
                });
                let list = &mut by_pattern[pid];
                if !list.contains(&(i as u32)) {
                    list.push(i as u32);
                }
            }
        }
        let grams = if patterns.is_empty() {
            None
        } else {
            Grams::new(&patterns)
        };
        let automaton = if patterns.is_empty() || grams.is_some() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&patterns)
                    .map_err(|e| format!("cannot compile the keyword prefilter: {e}"))?,
            )
        };
        let owners = Owners::new(&rules);
        Ok(Scanner {
            owners,
            rules,
            grams,
            automaton,
            by_pattern,
            settings,
        })
    }

    /// The rules this scanner applies.
    pub fn rules(&self) -> &[Arc<Rule>] {
        &self.rules
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// True when the policy's `allow_paths` exempt `path` from scanning.
    pub fn path_allowed(&self, path: &str) -> bool {
        self.settings.allow_paths.iter().any(|g| g.matches(path))
    }

    /// Scan bytes held in memory (a diff hunk, a blob). `first_line` is the line number of the
    /// first byte.
    pub fn scan_bytes(&self, bytes: &[u8], first_line: u32) -> Scan {
        let mut state = State {
            seen: HashSet::new(),
            broken: Vec::new(),
        };
        let mut matches = Vec::new();
        self.scan_block(
            bytes,
            0,
            bytes.len(),
            0,
            first_line,
            &mut state,
            &mut matches,
        );
        Scan {
            matches,
            broken_rules: state.broken,
            bytes: bytes.len() as u64,
        }
    }

    /// Scan a file on disk: size limit first, then binary sniffing, then streaming.
    /// `buf` is scratch space reused across files.
    pub fn scan_path(&self, path: &Path, buf: &mut Vec<u8>) -> std::io::Result<FileScan> {
        let file = std::fs::File::open(path)?;
        let size = file.metadata()?.len();
        if size > self.settings.max_file_bytes {
            return Ok(FileScan::TooLarge { size });
        }
        // Room for the whole file (or the first chunk) up front: one read, no regrowth.
        buf.clear();
        buf.reserve(usize::try_from(size).map_or(CHUNK, |s| s.min(CHUNK)) + 1);
        self.scan_reader(file, buf)
    }

    /// Scan a stream with bounded memory: at most 8 MiB plus 80 KiB of overlap is held.
    pub fn scan_reader(
        &self,
        mut reader: impl Read,
        buf: &mut Vec<u8>,
    ) -> std::io::Result<FileScan> {
        buf.clear();
        let mut eof = fill(&mut reader, buf, CHUNK)?;
        if is_binary(buf) {
            return Ok(FileScan::Binary);
        }
        let mut state = State {
            seen: HashSet::new(),
            broken: Vec::new(),
        };
        let mut matches = Vec::new();
        // Absolute offset and line number of buf[0]; hits before `from` were handled already.
        let mut abs_base = 0u64;
        let mut line_base = 1u32;
        let mut from = 0usize;
        loop {
            let limit = if eof {
                buf.len()
            } else {
                buf.len() - KEEP_AFTER
            };
            self.scan_block(
                buf,
                from,
                limit,
                abs_base,
                line_base,
                &mut state,
                &mut matches,
            );
            if eof {
                break;
            }
            let drop = limit.saturating_sub(KEEP_BEFORE);
            let newlines = memchr::memchr_iter(b'\n', &buf[..drop]).count();
            line_base = line_base.saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
            abs_base += drop as u64;
            buf.drain(..drop);
            from = limit - drop;
            eof = fill(&mut reader, buf, CHUNK + KEEP_AFTER + KEEP_BEFORE)?;
        }
        Ok(FileScan::Scanned(Scan {
            matches,
            broken_rules: state.broken,
            bytes: abs_base + buf.len() as u64,
        }))
    }

    /// Search `buf` for keyword hits starting in `from..limit` and run the hit rules' regexes
    /// on the windows around them.
    #[allow(
        clippy::too_many_arguments,
        reason = "the scan's hot loop: a struct of borrowed buffers and counters costs a measurable copy per block"
    )]
    fn scan_block(
        &self,
        buf: &[u8],
        from: usize,
        limit: usize,
        abs_base: u64,
        line_base: u32,
        state: &mut State,
        out: &mut Vec<SecretMatch>,
    ) {
        if from >= limit {
            return;
        }
        let search_end = (limit + MAX_KEYWORD_LEN).min(buf.len());
        // Per rule, the end of the last window its regex ran over in this block.
        let mut done_until: Vec<usize> = Vec::new();
        let mut lines = LineCursor::new(line_base);
        if let Some(grams) = &self.grams {
            grams.for_each(&buf[..search_end], from, limit, |start, end, pattern| {
                if done_until.is_empty() {
                    done_until = vec![0; self.rules.len()];
                }
                self.run_rules(
                    buf,
                    start,
                    end,
                    pattern,
                    abs_base,
                    &mut done_until,
                    &mut lines,
                    state,
                    out,
                );
            });
            return;
        }
        let Some(automaton) = &self.automaton else {
            return;
        };
        // A fast non-overlapping search finds hit regions; an overlapping search of the few
        // bytes around each region then finds every keyword there (one may hide another).
        let mut hits: Vec<(usize, usize, usize)> = Vec::new();
        let mut covered = from;
        for region in automaton.find_iter(&buf[from..search_end]) {
            let lo = (from + region.start())
                .saturating_sub(MAX_KEYWORD_LEN)
                .max(covered);
            let hi = (from + region.end() + MAX_KEYWORD_LEN).min(search_end);
            hits.clear();
            for hit in automaton.find_overlapping_iter(&buf[lo..hi]) {
                hits.push((lo + hit.start(), lo + hit.end(), hit.pattern().as_usize()));
            }
            // Keywords cut off at `hi` are found again from the next region.
            covered = hi.saturating_sub(MAX_KEYWORD_LEN).max(from + region.end());
            for &(start, end, pattern) in &hits {
                if start < from || start >= limit {
                    continue;
                }
                if done_until.is_empty() {
                    done_until = vec![0; self.rules.len()];
                }
                self.run_rules(
                    buf,
                    start,
                    end,
                    pattern,
                    abs_base,
                    &mut done_until,
                    &mut lines,
                    state,
                    out,
                );
            }
        }
    }

    /// Run the rules of keyword `pattern`, hit at `start..end`, on their windows.
    #[allow(
        clippy::too_many_arguments,
        reason = "called per keyword hit with the block's borrowed state; bundling it cost speed in the profile"
    )]
    fn run_rules(
        &self,
        buf: &[u8],
        start: usize,
        end: usize,
        pattern: usize,
        abs_base: u64,
        done_until: &mut [usize],
        lines: &mut LineCursor,
        state: &mut State,
        out: &mut Vec<SecretMatch>,
    ) {
        // One line start for every rule of the keyword (generic keywords serve several).
        let first = line_start(buf, start);
        for &ri in &self.by_pattern[pattern] {
            let rule = &self.rules[ri as usize];
            let done = &mut done_until[ri as usize];
            if let Some((lead_min, lead_max)) = rule.keyword_lead() {
                // Every match starts a byte or two before one of the rule's keywords: only the
                // starts this hit allows are tested, each by an anchored search that ends within
                // a few bytes on ordinary code (a multiline one no longer walks 64 KiB). A line
                // is confirmed at most once.
                let last = if rule.multiline {
                    (start + MULTILINE_SPAN).min(buf.len())
                } else {
                    line_end(buf, end)
                };
                if *done >= last || start < first + lead_min {
                    continue;
                }
                let starts =
                    start.saturating_sub(lead_max).max(first) - first..=start - lead_min - first;
                if rule.might_match_from(&buf[first..last], starts, last - first) {
                    *done = last;
                    self.confirm(buf, first, last, ri, abs_base, lines, state, out);
                }
                continue;
            }
            if let Some(reach) = rule.match_reach().filter(|_| !rule.multiline) {
                // A bounded pattern: a match holding this hit lies within `reach` bytes of it,
                // so only that part of the line is prechecked. Spans of one line overlap by
                // `reach`, so a match is always inside one of them; a hit whose span was
                // searched already is skipped.
                let last = line_end(buf, end.max(*done));
                let from = if *done > first {
                    done.saturating_sub(reach).min(end.saturating_sub(reach))
                } else {
                    end.saturating_sub(reach)
                };
                let span_start = first.max(from);
                let span_end = last.min(start.max(*done).saturating_add(reach));
                if span_end <= *done {
                    continue;
                }
                *done = span_end;
                if rule.might_match_in(&buf[first..last], span_start - first..span_end - first) {
                    self.confirm(buf, first, last, ri, abs_base, lines, state, out);
                }
                continue;
            }
            // On a long line already searched up to `done`, the next window reaches a full
            // span past `done`, not just past this hit: dense hits (a run of `AAAA…`) then
            // cost one pass over the line instead of one window each.
            let window_end = if rule.multiline {
                (start + MULTILINE_SPAN).min(buf.len())
            } else {
                line_end(buf, end.max(*done))
            };
            if window_end <= *done {
                continue;
            }
            // Overlapping capped windows of one long line: resume a little before the last end.
            let window_start = if *done > first {
                first.max(done.saturating_sub(1024))
            } else {
                first
            };
            *done = window_end;
            // Most windows hold no match: a precheck says so before the regex compiles or runs.
            if rule.might_match(&buf[window_start..window_end]) {
                self.confirm(
                    buf,
                    window_start,
                    window_end,
                    ri,
                    abs_base,
                    lines,
                    state,
                    out,
                );
            }
        }
    }

    /// Run rule `ri`'s full regex over `buf[window_start..window_end]` and keep the accepted
    /// matches not seen before.
    #[allow(
        clippy::too_many_arguments,
        reason = "called per candidate match with the block's borrowed state, as run_rules"
    )]
    fn confirm(
        &self,
        buf: &[u8],
        window_start: usize,
        window_end: usize,
        ri: u32,
        abs_base: u64,
        lines: &mut LineCursor,
        state: &mut State,
        out: &mut Vec<SecretMatch>,
    ) {
        let rule = &self.rules[ri as usize];
        let window = &buf[window_start..window_end];
        let regex = match rule.regex() {
            Ok(r) => r,
            Err(e) => {
                let msg = format!("{}: {e}", rule.id);
                if !state.broken.contains(&msg) {
                    state.broken.push(msg);
                }
                return;
            }
        };
        // The secret is the `secret` group, else the first group, else the whole match; a
        // pattern without groups needs no capture machinery.
        // A generic rule's `name` group is the setting the value was given to.
        type Found<'w> = (usize, &'w [u8], Option<&'w [u8]>);
        let found: Vec<Found<'_>> = if regex.captures_len() > 1 {
            regex
                .captures_iter(window)
                .filter_map(|caps| {
                    let name = caps.name("name").map(|n| n.as_bytes());
                    caps.name("secret")
                        .or_else(|| caps.get(1))
                        .or_else(|| caps.get(0))
                        .map(|m| (m.start(), m.as_bytes(), name))
                })
                .collect()
        } else {
            regex
                .find_iter(window)
                .map(|m| (m.start(), m.as_bytes(), None))
                .collect()
        };
        for (at, secret, name) in found {
            if secret.is_empty() {
                continue;
            }
            let pos = window_start + at;
            if !state.seen.insert((ri, abs_base + pos as u64)) {
                continue;
            }
            if !self.accepts(rule, secret) {
                continue;
            }
            let Some(assessment) = assess(rule, secret, name, &self.owners, &self.rules) else {
                continue;
            };
            if assessment.confidence < self.settings.min_confidence {
                continue;
            }
            let line = lines.line_of(buf, pos);
            let ls = line_start(buf, pos);
            out.push(SecretMatch {
                rule: Arc::clone(rule),
                line,
                column: u32::try_from(pos - ls + 1).unwrap_or(u32::MAX),
                allowed_inline: self.settings.inline_allow && allowed_inline(buf, pos),
                confidence: assessment.confidence,
                reasons: assessment.reasons,
                secret: secret.to_vec(),
            });
        }
    }

    fn accepts(&self, rule: &Rule, secret: &[u8]) -> bool {
        if let Some(min) = rule.entropy {
            if entropy(secret) < min {
                return false;
            }
        }
        if is_placeholder(secret, rule.multiline) || (rule.random && !looks_random(secret)) {
            return false;
        }
        rule.checksum.is_none_or(|c| c.accepts(secret))
    }
}

/// Read until `buf` holds `want` bytes or the stream ends; true at end of stream.
fn fill(reader: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
    if buf.len() >= want {
        return Ok(false);
    }
    let need = (want - buf.len()) as u64;
    reader.take(need).read_to_end(buf)?;
    Ok(buf.len() < want)
}

/// Start of the line holding `pos` (looking back at most `LINE_REACH`).
fn line_start(buf: &[u8], pos: usize) -> usize {
    let lo = pos.saturating_sub(LINE_REACH);
    match memrchr(b'\n', &buf[lo..pos]) {
        Some(i) => lo + i + 1,
        None => lo,
    }
}

/// End of the line holding `pos` (looking ahead at most `LINE_REACH`), without the newline.
fn line_end(buf: &[u8], pos: usize) -> usize {
    let pos = pos.min(buf.len());
    let hi = (pos + LINE_REACH).min(buf.len());
    match memchr(b'\n', &buf[pos..hi]) {
        Some(i) => pos + i,
        None => hi,
    }
}

const ALLOW: &[u8] = b"vouch:allow";
const ALLOW_NEXT: &[u8] = b"vouch:allow-next-line";

/// `vouch:allow` on the secret's line, or `vouch:allow-next-line` on the line before.
fn allowed_inline(buf: &[u8], pos: usize) -> bool {
    let ls = line_start(buf, pos);
    let le = line_end(buf, pos);
    let line = &buf[ls..le];
    let on_line = memmem::find_iter(line, ALLOW).any(|i| !line[i..].starts_with(ALLOW_NEXT));
    if on_line {
        return true;
    }
    if ls == 0 || buf[ls - 1] != b'\n' {
        return false;
    }
    let prev = &buf[line_start(buf, ls - 1)..ls - 1];
    memmem::find(prev, ALLOW_NEXT).is_some()
}

/// Line numbers of positions in a block, counting newlines incrementally.
struct LineCursor {
    pos: usize,
    line: u32,
    base: u32,
}

impl LineCursor {
    fn new(base: u32) -> Self {
        LineCursor {
            pos: 0,
            line: base,
            base,
        }
    }

    fn line_of(&mut self, buf: &[u8], pos: usize) -> u32 {
        if pos < self.pos {
            self.pos = 0;
            self.line = self.base;
        }
        let n = memchr::memchr_iter(b'\n', &buf[self.pos..pos]).count();
        self.line = self
            .line
            .saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        self.pos = pos;
        self.line
    }
}
