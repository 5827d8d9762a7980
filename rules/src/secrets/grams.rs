//! The keyword prefilter: every keyword, ASCII case-insensitively, tested at every second input
//! position with no state carried from byte to byte (unlike an automaton's latency-bound chain).
//!
//! A keyword of 5+ bytes is *anchored* on two adjacent 4-grams of its own, the pair least common
//! in source code (per `common_grams.txt`): `typesense` on `pese`/`esen`, not on `type`. Of two
//! adjacent positions one is visited, so one of the pair is always seen. A 4-byte keyword is
//! anchored on itself (even starts) and on its last three bytes (odd starts), a 3-byte keyword
//! on itself at a visited position or the one after it.
//!
//! At a visited position `i`, one 4-byte load `w` (letters folded to lower case by setting bit
//! 0x20 of every byte, which only ever adds false candidates) is tested against two hashed
//! one-bit tables: `g4[h(w)]` (4-gram anchors), `g3[h(w & 0xffffff)]` (3-gram anchors at `i`)
//! and `s3[h(w >> 8)]` (3-byte keywords at `i + 1`: a separate small table, so the common tails
//! of 4-byte keywords, such as `e_a` of `re_a`, do not stop the walk a second time there). A set bit sends the position to the anchors listed for
//! its bucket, each confirmed by an exact comparison of its keyword. Two-byte keywords (possible in
//! custom rules) add an exact bigram table.

include!(concat!(env!("OUT_DIR"), "/common_grams.rs"));

/// log2 of the buckets of each hashed table: 2^19 buckets, one bit each, 64 KiB per table
/// (larger tables cost an L2 hit; smaller ones let random collisions through).
const BITS: u32 = 19;
const BUCKETS: usize = 1 << BITS;
/// log2 of the anchor lists: a list serves 2^(BITS - LIST_BITS) adjacent buckets, which
/// keeps the index small to build (confirmation compares bytes anyway).
const LIST_BITS: u32 = 14;
const LISTS: usize = 1 << LIST_BITS;
/// log2 of the buckets of the table of 3-byte keywords alone: there are few, and a table that
/// stays in L1 (4 KiB) keeps the extra lookup cheap.
const SMALL_BITS: u32 = 15;
const SMALL_BUCKETS: usize = 1 << SMALL_BITS;
/// Every two-byte value.
const BIGRAMS: usize = 1 << 16;

/// Fold ASCII letters to lower case (and, harmlessly, a few other bytes onto others).
const FOLD: u32 = 0x2020_2020;
const FOLD64: u64 = 0x2020_2020_2020_2020;

/// The bucket of a folded gram (3 or 4 bytes, little-endian in a `u32`).
#[inline(always)]
fn bucket(x: u32) -> usize {
    (x.wrapping_mul(0x9e37_79b1) >> (32 - BITS)) as usize
}

/// `n` bytes (n ≤ 4) of `k`, folded, as a little-endian `u32`.
fn gram(k: &[u8], n: usize) -> u32 {
    let mut b = [0u8; 4];
    b[..n].copy_from_slice(&k[..n]);
    u32::from_le_bytes(b) | (FOLD >> (8 * (4 - n)))
}

/// How common a folded 4-gram is in source code, per million positions (0: not among the
/// 4,096 most common).
fn commonness(g: u32) -> u32 {
    COMMON_GRAMS
        .binary_search_by_key(&g, |&(gram, _)| gram)
        .map_or(0, |i| COMMON_GRAMS[i].1)
}

/// Anchors grouped by list (`bucket >> (BITS - LIST_BITS)`): list `l` holds
/// `anchors[heads[l]..heads[l + 1]]`, each a keyword id and the offset of the anchoring gram in
/// the keyword.
struct Index {
    heads: Vec<u32>,
    anchors: Vec<(u32, u32)>,
}

impl Index {
    fn new(entries: Vec<(usize, u32, u32)>) -> Index {
        let mut entries: Vec<(usize, u32, u32)> = entries
            .into_iter()
            .map(|(h, id, off)| (h >> (BITS - LIST_BITS), id, off))
            .collect();
        entries.sort_unstable();
        let mut heads = vec![0u32; LISTS + 1];
        for &(h, _, _) in &entries {
            heads[h + 1] += 1;
        }
        for i in 1..heads.len() {
            heads[i] += heads[i - 1];
        }
        Index {
            heads,
            anchors: entries.into_iter().map(|(_, id, off)| (id, off)).collect(),
        }
    }

    /// The anchors that may hash to bucket `h` (and those of its neighbours in the same list).
    #[inline]
    fn bucket(&self, h: usize) -> &[(u32, u32)] {
        let l = h >> (BITS - LIST_BITS);
        &self.anchors[self.heads[l] as usize..self.heads[l + 1] as usize]
    }
}

/// The prefilter over a fixed keyword list (each at least 2 bytes long).
pub struct Grams {
    /// The keywords, lower case.
    keywords: Vec<Vec<u8>>,
    g4: Box<[u64; BUCKETS / 64]>,
    g3: Box<[u64; BUCKETS / 64]>,
    /// The 3-byte keywords alone, for starts at odd positions.
    s3: Box<[u64; SMALL_BUCKETS / 64]>,
    /// One bit per folded bigram: a two-byte keyword. Present only when there is one.
    g2: Option<Box<[u64; BIGRAMS / 64]>>,
    a4: Index,
    a3: Index,
    /// The two-byte keywords.
    short: Vec<u32>,
    /// The largest anchor offset: a visited position reaches back this far.
    reach: usize,
}

impl std::fmt::Debug for Grams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grams")
            .field("keywords", &self.keywords.len())
            .field("short", &self.short.len())
            .finish_non_exhaustive()
    }
}

impl Grams {
    /// `None` when a keyword is a single byte (the caller uses an automaton then).
    pub fn new(keywords: &[&str]) -> Option<Grams> {
        if keywords.iter().any(|k| k.len() < 2) {
            return None;
        }
        let keywords: Vec<Vec<u8>> = keywords
            .iter()
            .map(|k| k.as_bytes().to_ascii_lowercase())
            .collect();
        let mut g4 = Box::new([0u64; BUCKETS / 64]);
        let mut g3 = Box::new([0u64; BUCKETS / 64]);
        let mut s3 = Box::new([0u64; SMALL_BUCKETS / 64]);
        let mut g2: Option<Box<[u64; BIGRAMS / 64]>> = None;
        let (mut a4, mut a3) = (Vec::new(), Vec::new());
        let mut short = Vec::new();
        let mut reach = 1;
        for (id, k) in keywords.iter().enumerate() {
            let id32 = id as u32;
            match k.len() {
                2 => {
                    short.push(id32);
                    let x = gram(k, 2) as usize;
                    let map = g2.get_or_insert_with(|| Box::new([0u64; BIGRAMS / 64]));
                    map[x / 64] |= 1 << (x % 64);
                }
                3 => a3.push((bucket(gram(k, 3)), id32, 0)),
                4 => {
                    a4.push((bucket(gram(k, 4)), id32, 0));
                    a3.push((bucket(gram(&k[1..], 3)), id32, 1));
                }
                len => {
                    // The adjacent pair of 4-grams least common in code (earliest on ties).
                    let cost = |j: usize| {
                        u64::from(commonness(gram(&k[j..], 4)))
                            + u64::from(commonness(gram(&k[j + 1..], 4)))
                    };
                    let j = (0..=len - 5).min_by_key(|&j| (cost(j), j)).unwrap_or(0);
                    for off in [j, j + 1] {
                        a4.push((bucket(gram(&k[off..], 4)), id32, off as u32));
                        reach = reach.max(off);
                    }
                }
            }
        }
        for &(h, _, _) in &a4 {
            g4[h / 64] |= 1 << (h % 64);
        }
        for &(h, _, _) in &a3 {
            g3[h / 64] |= 1 << (h % 64);
        }
        for &(h, _, off) in &a3 {
            if off == 0 {
                let h = h >> (BITS - SMALL_BITS);
                s3[h / 64] |= 1 << (h % 64);
            }
        }
        Some(Grams {
            keywords,
            g4,
            g3,
            s3,
            g2,
            a4: Index::new(a4),
            a3: Index::new(a3),
            short,
            reach,
        })
    }

    /// Call `hit(start, end, keyword id)` for every keyword occurrence starting in `from..to`
    /// (it may extend up to `hay.len()`), in order of start.
    pub fn for_each(
        &self,
        hay: &[u8],
        from: usize,
        to: usize,
        mut hit: impl FnMut(usize, usize, usize),
    ) {
        let to = to.min(hay.len());
        if from >= to {
            return;
        }
        let mut hits = Vec::new();
        // A position covers starts from `reach` bytes before it to one after it, so the walk
        // runs that far past `to`; starts outside `from..to` are dropped when confirmed.
        let last = (to + self.reach).min(hay.len() - 1);
        let mut i = from;
        match &self.g2 {
            None => {
                // Two positions per 8-byte load; nearly every pair is clear.
                while i + 2 <= last {
                    let Some(b) = hay[i..].first_chunk::<8>() else {
                        break;
                    };
                    let x = u64::from_le_bytes(*b) | FOLD64;
                    let (w0, w1) = (x as u32, (x >> 16) as u32);
                    if self.flagged(w0) | self.flagged(w1) {
                        self.step(hay, i, w0, from, to, &mut hits);
                        self.step(hay, i + 2, w1, from, to, &mut hits);
                    }
                    i += 4;
                }
            }
            Some(g2) => {
                while i <= last {
                    let Some(b) = hay[i..].first_chunk::<4>() else {
                        break;
                    };
                    let w = u32::from_le_bytes(*b) | FOLD;
                    self.step(hay, i, w, from, to, &mut hits);
                    self.step_short(g2, hay, i, w, from, to, &mut hits);
                    i += 2;
                }
            }
        }
        // The last few bytes: pad with zeros (folded to spaces; confirmation is exact).
        while i <= last {
            let mut b = [0u8; 4];
            let n = (hay.len() - i).min(4);
            b[..n].copy_from_slice(&hay[i..i + n]);
            let w = u32::from_le_bytes(b) | FOLD;
            self.step(hay, i, w, from, to, &mut hits);
            if let Some(g2) = &self.g2 {
                self.step_short(g2, hay, i, w, from, to, &mut hits);
            }
            i += 2;
        }
        // An anchor list also holds its neighbour buckets' anchors, so an occurrence can be
        // confirmed from two positions: keep one.
        hits.sort_unstable();
        hits.dedup();
        for (start, end, id) in hits {
            hit(start, end, id);
        }
    }

    /// Whether any anchor bit is set for position window `w` (folded).
    #[inline(always)]
    fn flagged(&self, w: u32) -> bool {
        let (h4, h3, n3) = (bucket(w), bucket(w & 0x00ff_ffff), bucket(w >> 8));
        let s3 = n3 >> (BITS - SMALL_BITS);
        ((self.g4[h4 / 64] >> (h4 % 64))
            | (self.g3[h3 / 64] >> (h3 % 64))
            | (self.s3[s3 / 64] >> (s3 % 64)))
            & 1
            != 0
    }

    /// The test at position `i` with folded 4-byte window `w`.
    #[inline(always)]
    fn step(
        &self,
        hay: &[u8],
        i: usize,
        w: u32,
        from: usize,
        to: usize,
        hits: &mut Vec<(usize, usize, usize)>,
    ) {
        if self.flagged(w) {
            self.stop(hay, i, w, from, to, hits);
        }
    }

    /// Confirm the anchors of the flagged lists at position `i` (window `w`).
    #[inline(never)]
    fn stop(
        &self,
        hay: &[u8],
        i: usize,
        w: u32,
        from: usize,
        to: usize,
        hits: &mut Vec<(usize, usize, usize)>,
    ) {
        let set = |table: &[u64; BUCKETS / 64], h: usize| (table[h / 64] >> (h % 64)) & 1 != 0;
        let mut confirm = |id: u32, start: usize| {
            let k = &self.keywords[id as usize];
            let end = start + k.len();
            if start >= from
                && start < to
                && end <= hay.len()
                && hay[start..end].eq_ignore_ascii_case(k)
            {
                hits.push((start, end, id as usize));
            }
        };
        let (h4, h3, n3) = (bucket(w), bucket(w & 0x00ff_ffff), bucket(w >> 8));
        if set(&self.g4, h4) {
            for &(id, off) in self.a4.bucket(h4) {
                if let Some(start) = i.checked_sub(off as usize) {
                    confirm(id, start);
                }
            }
        }
        if set(&self.g3, h3) {
            for &(id, off) in self.a3.bucket(h3) {
                if let Some(start) = i.checked_sub(off as usize) {
                    confirm(id, start);
                }
            }
        }
        let small = |h: usize| {
            let h = h >> (BITS - SMALL_BITS);
            (self.s3[h / 64] >> (h % 64)) & 1 != 0
        };
        if small(n3) {
            // Only 3-byte keywords start at i + 1 here; a 4-byte keyword's last three bytes at
            // i + 1 mean a start at i, which the 4-gram at i covers.
            for &(id, off) in self.a3.bucket(n3) {
                if off == 0 {
                    confirm(id, i + 1);
                }
            }
        }
    }

    /// Two-byte keywords starting at `i` or `i + 1`.
    #[allow(
        clippy::too_many_arguments,
        reason = "the prefilter's innermost step, inlined: its tables and cursor stay in registers as separate arguments"
    )]
    #[inline(always)]
    fn step_short(
        &self,
        g2: &[u64; BIGRAMS / 64],
        hay: &[u8],
        i: usize,
        w: u32,
        from: usize,
        to: usize,
        hits: &mut Vec<(usize, usize, usize)>,
    ) {
        for (start, x) in [(i, w & 0xffff), (i + 1, (w >> 8) & 0xffff)] {
            let x = x as usize;
            if g2[x / 64] & (1 << (x % 64)) == 0 || start < from || start >= to {
                continue;
            }
            for &id in &self.short {
                let end = start + 2;
                if end <= hay.len()
                    && hay[start..end].eq_ignore_ascii_case(&self.keywords[id as usize])
                {
                    hits.push((start, end, id as usize));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every occurrence, by brute force: the reference the prefilter must equal.
    fn brute(keywords: &[&str], hay: &[u8], from: usize, to: usize) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for s in from..to.min(hay.len()) {
            for (id, k) in keywords.iter().enumerate() {
                let end = s + k.len();
                if end <= hay.len() && hay[s..end].eq_ignore_ascii_case(k.as_bytes()) {
                    out.push((s, end, id));
                }
            }
        }
        out.sort();
        out
    }

    fn found(g: &Grams, hay: &[u8], from: usize, to: usize) -> Vec<(usize, usize, usize)> {
        let mut hits = Vec::new();
        let mut last = 0;
        g.for_each(hay, from, to, |s, e, id| {
            assert!(s >= last, "hits out of order: {s} after {last}");
            last = s;
            hits.push((s, e, id));
        });
        hits.sort();
        hits
    }

    #[test]
    fn finds_every_keyword_case_insensitively_including_overlaps() {
        let g = Grams::new(&["ghp_", "sk_live_", "sk_", "live"]).unwrap();
        // Every alignment of a keyword relative to the even positions.
        for pad in 0..4 {
            for (word, want) in [("ghp_", 0), ("sk_live_", 1)] {
                let hay = format!("{}{word}", " ".repeat(pad));
                let mut found = Vec::new();
                g.for_each(hay.as_bytes(), 0, hay.len(), |s, _, id| found.push((s, id)));
                assert!(
                    found.contains(&(pad, want)),
                    "{word} after {pad}: {found:?}"
                );
            }
            let hay = format!("{}ghp_", " ".repeat(pad));
            // Starting the search one byte after the keyword's start excludes it.
            let mut m = 0;
            g.for_each(hay.as_bytes(), pad + 1, hay.len(), |_, _, _| m += 1);
            assert_eq!(m, 0, "from past the start, pad {pad}");
        }
        let hay = b"x GHP_1 sk_live_2 Sk_";
        assert_eq!(
            found(&g, hay, 0, hay.len()),
            vec![(2, 6, 0), (8, 11, 2), (8, 16, 1), (11, 15, 3), (18, 21, 2)]
        );
        // Starts are bounded by `to`; ends may run past it.
        let mut late = Vec::new();
        g.for_each(hay, 9, 12, |s, _, id| late.push((s, id)));
        assert_eq!(late, vec![(11, 3)]);
        assert!(Grams::new(&["a"]).is_none());
        // Two-byte keywords at even and odd positions, and at the very end.
        let g = Grams::new(&["q~", "ghp_"]).unwrap();
        for hay in ["xq~", "q~", "xxQ~", "abc8Q~zz"] {
            let mut starts = Vec::new();
            g.for_each(hay.as_bytes(), 0, hay.len(), |s, _, id| {
                starts.push((s, id))
            });
            let at = hay.to_ascii_lowercase().find("q~").unwrap();
            assert_eq!(starts, vec![(at, 0)], "{hay}");
        }
    }

    #[test]
    fn equals_brute_force_on_every_alignment_and_length() {
        let keywords = [
            "ab",
            "q~",
            "pat",
            "aws",
            "abc",
            "key_",
            "ghp_",
            "token",
            "sk_live_",
            "xoxb-",
            "bcd",
            "cdef",
            "-----begin",
        ];
        let g = Grams::new(&keywords).unwrap();
        // A text dense in overlapping keywords and near-misses, in mixed case.
        let base =
            "PAT aws-key_TOKENsk_live_xoxB-abcdefq~ghp_ab-----BEGIN paT AWSt ke ghp sk_liv \n";
        for shift in 0..base.len() {
            let hay = format!("{}{}", &base[shift..], &base[..shift]);
            let hay = hay.as_bytes();
            for (from, to) in [(0, hay.len()), (1, hay.len() - 1), (3, 40), (7, 8)] {
                assert_eq!(
                    found(&g, hay, from, to),
                    brute(&keywords, hay, from, to),
                    "shift {shift}, {from}..{to}"
                );
            }
        }
        // Without two-byte keywords the main loop runs alone.
        let long: Vec<&str> = keywords.iter().copied().filter(|k| k.len() > 2).collect();
        let g = Grams::new(&long).unwrap();
        for shift in 0..base.len() {
            let hay = format!("{}{}", &base[shift..], &base[..shift]);
            assert_eq!(
                found(&g, hay.as_bytes(), 0, hay.len()),
                brute(&long, hay.as_bytes(), 0, hay.len())
            );
        }
    }

    proptest::proptest! {
        /// Random keyword sets over a small alphabet (so keywords overlap, share grams and
        /// recur) against random text: exactly the brute-force occurrences, for any range.
        #[test]
        fn equals_brute_force_on_random_text(
            keywords in proptest::collection::vec("[abAB_9-]{2,12}", 1..40),
            hay in "[abAB_9\\- x]{0,200}",
            from in 0usize..40,
            len in 0usize..220,
        ) {
            let keywords: Vec<&str> = keywords.iter().map(String::as_str).collect();
            let g = Grams::new(&keywords).unwrap();
            let hay = hay.as_bytes();
            let to = (from + len).min(hay.len());
            // Duplicate keywords report every id; brute force does too.
            proptest::prop_assert_eq!(found(&g, hay, from, to), brute(&keywords, hay, from, to));
        }
    }
}
