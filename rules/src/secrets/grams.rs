//! The keyword prefilter: every keyword, ASCII case-insensitively, tested at even input positions
//! only, with no state carried from byte to byte (unlike an automaton's latency-bound chain).
//!
//! A keyword starting at p has a gram at an even position: its first gram (p even) or its
//! second (p odd). Each table below holds two flags per gram — "a keyword starts here" and "a
//! keyword started one byte before" — for hashed 4-grams (keywords of 5+ bytes), hashed 3-grams
//! (3- and 4-byte keywords) and exact bigrams (2-byte keywords, and the last two bytes of a
//! 3-byte keyword at an odd position). A flagged position is confirmed
//! by an exact comparison with the keywords of its bucket; in source code a few percent are.

/// Buckets of each hashed table (and of the index): 2^16, two bits each, 16 KiB.
const BUCKETS: usize = 1 << 16;
/// Every two-byte value.
const BIGRAMS: usize = 1 << 16;

/// Keywords this long or longer go through the hashed grams (3-grams for 3- and 4-byte keywords,
/// 4-grams from `LONGER` bytes: longer grams pass far fewer positions of ordinary code). A 3-byte
/// keyword at an odd position is flagged by its last two bytes (an exact bigram) instead.
const LONG: usize = 4;
const TRIPLE: usize = 3;
const LONGER: usize = 5;

/// The prefilter over a fixed keyword list (each at least 2 bytes long).
pub struct Grams {
    keywords: Vec<Vec<u8>>,
    t0: [u16; 256],
    t1: [u16; 256],
    t2: [u16; 256],
    t3: [u16; 256],
    /// Two flags per hashed 4-gram: bit 0 "a keyword of 4+ bytes starts here", bit 1 "a keyword
    /// of `LONGER` bytes or more started one byte before".
    g4: Box<[u64; BUCKETS / 32]>,
    /// The same for hashed 3-grams: bit 0 for 3-byte keywords, bit 1 for 4-byte ones.
    g3: Box<[u64; BUCKETS / 32]>,
    /// Bit 1 only: a 3-byte keyword started one byte before this exact bigram (its last two).
    gt: Box<[u64; BIGRAMS / 32]>,
    /// Whether a 3-byte keyword is in bucket `h` of `ids`; in the others every keyword has 4+
    /// bytes, so a candidate's 4-gram must be flagged as a keyword start in `g4`.
    has3: Box<[u64; BUCKETS / 64]>,
    /// Keywords of 3+ bytes by the hash of their first 3 bytes: bucket `h` is `ids[heads[h]..heads[h + 1]]`.
    heads: Vec<u32>,
    ids: Vec<u32>,
    /// The same flags for exact bigrams (every ASCII case variant) of 2-byte keywords.
    gb: Box<[u64; BIGRAMS / 32]>,
    /// 2-byte keywords by their lowercase bytes: `short[short_heads[b]..short_heads[b + 1]]`.
    short_heads: Vec<u32>,
    short: Vec<u32>,
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
        // Fixed pseudo-random tables: the same hash in every process.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u16
        };
        let mut base = [[0u16; 4]; 256];
        for row in base.iter_mut() {
            *row = [next(), next(), next(), next()];
        }
        let (mut t0, mut t1, mut t2, mut t3) = ([0u16; 256], [0u16; 256], [0u16; 256], [0u16; 256]);
        for b in 0..=255u8 {
            let f = usize::from(b.to_ascii_lowercase());
            t0[usize::from(b)] = base[f][0];
            t1[usize::from(b)] = base[f][1];
            t2[usize::from(b)] = base[f][2];
            t3[usize::from(b)] = base[f][3];
        }
        let keywords: Vec<Vec<u8>> = keywords.iter().map(|k| k.as_bytes().to_vec()).collect();
        let hash = |k: &[u8]| {
            usize::from(t0[usize::from(k[0])] ^ t1[usize::from(k[1])] ^ t2[usize::from(k[2])])
        };
        let hash4 = |k: &[u8]| hash(k) ^ usize::from(t3[usize::from(k[3])]);
        let mut g4 = Box::new([0u64; BUCKETS / 32]);
        let mut g3 = Box::new([0u64; BUCKETS / 32]);
        let mut gb = Box::new([0u64; BIGRAMS / 32]);
        let mut gt = Box::new([0u64; BIGRAMS / 32]);
        let mut counts = vec![0u32; BUCKETS + 1];
        let mut has3 = Box::new([0u64; BUCKETS / 64]);
        let mut short = Vec::new();
        for (id, k) in keywords.iter().enumerate() {
            if k.len() >= LONGER {
                set_flag(&mut g4, hash4(k), 1);
                set_flag(&mut g4, hash4(&k[1..]), 2);
                counts[hash(k) + 1] += 1;
            } else if k.len() >= LONG {
                // At an even position the whole keyword is one 4-gram.
                set_flag(&mut g4, hash4(k), 1);
                set_flag(&mut g3, hash(&k[1..]), 2);
                counts[hash(k) + 1] += 1;
            } else if k.len() >= TRIPLE {
                let h0 = hash(k);
                set_flag(&mut g3, h0, 1);
                set_bigram(&mut gt, k[1], k[2], 2);
                has3[h0 / 64] |= 1 << (h0 % 64);
                counts[h0 + 1] += 1;
            } else {
                short.push(id as u32);
                set_bigram(&mut gb, k[0], k[1], 1);
                // A two-byte keyword at an odd position: its second byte, then any byte.
                (0..=255u8).for_each(|c| set_bigram(&mut gb, k[1], c, 2));
            }
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let bigram = |k: &[u8]| {
            usize::from(u16::from_le_bytes([
                k[0].to_ascii_lowercase(),
                k[1].to_ascii_lowercase(),
            ]))
        };
        let mut short_counts = vec![0u32; BIGRAMS + 1];
        for &id in &short {
            short_counts[bigram(&keywords[id as usize]) + 1] += 1;
        }
        for i in 1..short_counts.len() {
            short_counts[i] += short_counts[i - 1];
        }
        let short_heads = short_counts.clone();
        let mut short_sorted = vec![0u32; short.len()];
        for &id in &short {
            let b = bigram(&keywords[id as usize]);
            short_sorted[short_counts[b] as usize] = id;
            short_counts[b] += 1;
        }
        let heads = counts.clone();
        let mut fill = counts;
        let mut ids = vec![0u32; keywords.len() - short.len()];
        for (id, k) in keywords.iter().enumerate() {
            if k.len() >= TRIPLE {
                let h = hash(k);
                ids[fill[h] as usize] = id as u32;
                fill[h] += 1;
            }
        }
        Some(Grams {
            keywords,
            t0,
            t1,
            t2,
            t3,
            g4,
            g3,
            gt,
            has3,
            heads,
            ids,
            gb,
            short_heads,
            short: short_sorted,
        })
    }

    #[inline]
    fn hash(&self, hay: &[u8], i: usize) -> usize {
        usize::from(
            self.t0[usize::from(hay[i])]
                ^ self.t1[usize::from(hay[i + 1])]
                ^ self.t2[usize::from(hay[i + 2])],
        )
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
        let to = to.min(hay.len().saturating_sub(1));
        if from >= to {
            return;
        }
        let shorts = !self.short.is_empty();
        let mut i = from;
        // Starts at i - 1 are reported before starts at i, so hits arrive in order.
        // Main loop: four bytes available at every position, one bounds check each.
        let four = hay.len().saturating_sub(3);
        while i <= to && i < four {
            let w = &hay[i..i + 4];
            let x = usize::from(u16::from_le_bytes([w[0], w[1]]));
            let h = usize::from(
                self.t0[usize::from(w[0])]
                    ^ self.t1[usize::from(w[1])]
                    ^ self.t2[usize::from(w[2])],
            );
            let fb = flags(&self.gb, x);
            let ft = flags(&self.gt, x);
            let fl =
                flags(&self.g3, h) | flags(&self.g4, h ^ usize::from(self.t3[usize::from(w[3])]));
            if fb | fl | ft != 0 {
                self.stop(hay, i, from, to, shorts, (fb, ft, fl), &mut hit);
            }
            i += 2;
        }
        // The last few bytes.
        while i <= to && i + 1 < hay.len() {
            let x = usize::from(u16::from_le_bytes([hay[i], hay[i + 1]]));
            let fb = flags(&self.gb, x);
            let ft = flags(&self.gt, x);
            let (mut fl, h) = match hay.get(i + 2) {
                Some(&c) => {
                    let h = usize::from(
                        self.t0[usize::from(hay[i])]
                            ^ self.t1[usize::from(hay[i + 1])]
                            ^ self.t2[usize::from(c)],
                    );
                    (flags(&self.g3, h), h)
                }
                None => (0, 0),
            };
            if let Some(&d) = hay.get(i + 3) {
                fl |= flags(&self.g4, h ^ usize::from(self.t3[usize::from(d)]));
            }
            if fb | fl | ft != 0 {
                self.stop(hay, i, from, to, shorts, (fb, ft, fl), &mut hit);
            }
            i += 2;
        }
        // A two-byte keyword ending on the last byte at an odd position has no even bigram.
        if shorts && i + 1 == hay.len() && i > from && i <= to {
            self.verify_short(hay, i - 1, to, &mut hit);
        }
    }

    /// Confirm the keywords flagged at even position `i`: (short, 3-byte-odd, hashed) flags.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn stop(
        &self,
        hay: &[u8],
        i: usize,
        from: usize,
        to: usize,
        shorts: bool,
        (fb, ft, fl): (u64, u64, u64),
        hit: &mut impl FnMut(usize, usize, usize),
    ) {
        if i > from {
            if shorts && fb & 2 != 0 {
                self.verify_short(hay, i - 1, to, hit);
            }
            if (fl | ft) & 2 != 0 {
                self.verify_long(hay, i - 1, to, hit);
            }
        }
        if shorts && fb & 1 != 0 {
            self.verify_short(hay, i, to, hit);
        }
        if fl & 1 != 0 {
            self.verify_long(hay, i, to, hit);
        }
    }

    fn verify_short(
        &self,
        hay: &[u8],
        start: usize,
        to: usize,
        hit: &mut impl FnMut(usize, usize, usize),
    ) {
        if start >= to || start + 2 > hay.len() {
            return;
        }
        let b = usize::from(u16::from_le_bytes([
            hay[start].to_ascii_lowercase(),
            hay[start + 1].to_ascii_lowercase(),
        ]));
        for &id in &self.short[self.short_heads[b] as usize..self.short_heads[b + 1] as usize] {
            let k = &self.keywords[id as usize];
            let end = start + k.len();
            if end <= hay.len() && hay[start..end].eq_ignore_ascii_case(k) {
                hit(start, end, id as usize);
            }
        }
    }

    fn verify_long(
        &self,
        hay: &[u8],
        start: usize,
        to: usize,
        hit: &mut impl FnMut(usize, usize, usize),
    ) {
        if start >= to || start + TRIPLE > hay.len() {
            return;
        }
        let h = self.hash(hay, start);
        // Unless a 3-byte keyword is in the bucket, the candidate's 4-gram must be flagged.
        let four = hay
            .get(start + 3)
            .is_some_and(|&d| flags(&self.g4, h ^ usize::from(self.t3[usize::from(d)])) & 1 != 0);
        if !four && self.has3[h / 64] & (1 << (h % 64)) == 0 {
            return;
        }
        for &id in &self.ids[self.heads[h] as usize..self.heads[h + 1] as usize] {
            let k = &self.keywords[id as usize];
            let end = start + k.len();
            if end <= hay.len() && hay[start..end].eq_ignore_ascii_case(k) {
                hit(start, end, id as usize);
            }
        }
    }
}

/// The two flags of entry `i` of a packed table.
#[inline]
fn flags<const N: usize>(map: &[u64; N], i: usize) -> u64 {
    (map[(i >> 5) % N] >> ((i & 31) * 2)) & 3
}

fn set_flag<const N: usize>(map: &mut [u64; N], i: usize, flag: u64) {
    map[(i >> 5) % N] |= flag << ((i & 31) * 2);
}

fn set_bigram(map: &mut [u64; BIGRAMS / 32], a: u8, b: u8, flag: u64) {
    for x in [a.to_ascii_lowercase(), a.to_ascii_uppercase()] {
        for y in [b.to_ascii_lowercase(), b.to_ascii_uppercase()] {
            set_flag(map, usize::from(u16::from_le_bytes([x, y])), flag);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut hits = Vec::new();
        g.for_each(hay, 0, hay.len(), |s, e, id| hits.push((s, e, id)));
        hits.sort();
        assert_eq!(
            hits,
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
}
