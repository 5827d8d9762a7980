//! The keyword prefilter for keywords of three bytes or more: a bitmap of the (ASCII-folded)
//! hashed first three bytes of every keyword, tested at every position of the input, then an
//! exact case-insensitive comparison against the few keywords in the hit bucket.
//!
//! Each position is tested independently (no state carried from byte to byte, unlike an
//! automaton), so the loop runs at memory speed; about 1% of positions in source code pass the
//! bitmap and are verified.

/// Bits in the bitmap (and buckets in the index): 2^16, an 8 KiB bitmap that stays in L1.
const BUCKETS: usize = 1 << 16;

/// The prefilter over a fixed keyword list (all at least 3 bytes long).
pub struct Grams {
    keywords: Vec<Vec<u8>>,
    t0: [u16; 256],
    t1: [u16; 256],
    t2: [u16; 256],
    bits: Vec<u64>,
    /// Exact bigrams (every ASCII case variant) at keyword offsets 0 and 1, indexed by the two
    /// bytes as a little-endian u16: positions are tested two at a time.
    first: Box<[u64; 1024]>,
    second: Box<[u64; 1024]>,
    /// Bucket `h` holds keyword ids `ids[heads[h]..heads[h + 1]]`.
    heads: Vec<u32>,
    ids: Vec<u32>,
    /// Two-byte keywords, compared directly (they have no 3-byte prefix to hash).
    short: Vec<u32>,
}

impl std::fmt::Debug for Grams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grams")
            .field("keywords", &self.keywords.len())
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
        let mut base = [[0u16; 3]; 256];
        for row in base.iter_mut() {
            *row = [next(), next(), next()];
        }
        let (mut t0, mut t1, mut t2) = ([0u16; 256], [0u16; 256], [0u16; 256]);
        for b in 0..=255u8 {
            let f = usize::from(b.to_ascii_lowercase());
            t0[usize::from(b)] = base[f][0];
            t1[usize::from(b)] = base[f][1];
            t2[usize::from(b)] = base[f][2];
        }
        let keywords: Vec<Vec<u8>> = keywords.iter().map(|k| k.as_bytes().to_vec()).collect();
        let hash = |k: &[u8]| {
            usize::from(t0[usize::from(k[0])] ^ t1[usize::from(k[1])] ^ t2[usize::from(k[2])])
        };
        let mut bits = vec![0u64; BUCKETS / 64];
        let mut counts = vec![0u32; BUCKETS + 1];
        for k in keywords.iter().filter(|k| k.len() >= 3) {
            let h = hash(k);
            bits[h >> 6] |= 1 << (h & 63);
            counts[h + 1] += 1;
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let heads = counts.clone();
        let mut fill = counts;
        let mut ids = vec![0u32; keywords.iter().filter(|k| k.len() >= 3).count()];
        let mut short = Vec::new();
        for (id, k) in keywords.iter().enumerate() {
            if k.len() < 3 {
                short.push(id as u32);
                continue;
            }
            let h = hash(k);
            ids[fill[h] as usize] = id as u32;
            fill[h] += 1;
        }
        let mut first = Box::new([0u64; 1024]);
        let mut second = Box::new([0u64; 1024]);
        for k in &keywords {
            set_bigram(&mut first, k[0], k[1]);
            match k.get(2) {
                Some(&c) => set_bigram(&mut second, k[1], c),
                // A two-byte keyword at an odd position: its second byte then any byte.
                None => (0..=255u8).for_each(|c| set_bigram(&mut second, k[1], c)),
            }
        }
        Some(Grams {
            first,
            second,
            keywords,
            t0,
            t1,
            t2,
            bits,
            heads,
            ids,
            short,
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
        let to = to.min(hay.len().saturating_sub(1));
        if from >= to {
            return;
        }
        // Every keyword has at least 2 bytes, so one starting at p has a bigram at an even
        // position: its first (p even) or its second and next byte (p odd). Test even
        // positions only.
        let mut i = from;
        while i + 1 < hay.len() && i <= to {
            let x = usize::from(u16::from_le_bytes([hay[i], hay[i + 1]]));
            let (word, bit) = (x >> 6, x & 63);
            if (self.second[word] >> bit) & 1 != 0 && i > from {
                self.verify(hay, i - 1, to, &mut hit);
            }
            if (self.first[word] >> bit) & 1 != 0 {
                self.verify(hay, i, to, &mut hit);
            }
            i += 2;
        }
        // A two-byte keyword ending on the last byte, at an odd position, has no even bigram.
        if !self.short.is_empty() && i + 1 == hay.len() && i > from && i <= to {
            self.verify(hay, i - 1, to, &mut hit);
        }
    }

    /// Report the keywords that start exactly at `start`.
    fn verify(
        &self,
        hay: &[u8],
        start: usize,
        to: usize,
        hit: &mut impl FnMut(usize, usize, usize),
    ) {
        if start >= to {
            return;
        }
        for &id in &self.short {
            let k = &self.keywords[id as usize];
            if hay.len() >= start + 2 && hay[start..start + 2].eq_ignore_ascii_case(k) {
                hit(start, start + 2, id as usize);
            }
        }
        if start + 3 > hay.len() {
            return;
        }
        let h = usize::from(
            self.t0[usize::from(hay[start])]
                ^ self.t1[usize::from(hay[start + 1])]
                ^ self.t2[usize::from(hay[start + 2])],
        );
        if (self.bits[h >> 6] >> (h & 63)) & 1 == 0 {
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

fn set_bigram(map: &mut [u64; 1024], a: u8, b: u8) {
    for x in [a.to_ascii_lowercase(), a.to_ascii_uppercase()] {
        for y in [b.to_ascii_lowercase(), b.to_ascii_uppercase()] {
            let i = usize::from(u16::from_le_bytes([x, y]));
            map[i >> 6] |= 1 << (i & 63);
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
            let hay = format!("{}ghp_", " ".repeat(pad));
            let mut n = 0;
            g.for_each(hay.as_bytes(), 0, hay.len(), |s, _, _| {
                assert_eq!(s, pad);
                n += 1;
            });
            assert_eq!(n, 1, "pad {pad}");
            // Starting the search one byte after the keyword's start excludes it.
            let mut m = 0;
            g.for_each(hay.as_bytes(), pad + 1, hay.len(), |_, _, _| m += 1);
            assert_eq!(m, 0, "from past the start, pad {pad}");
        }
        let hay = b"x GHP_1 sk_live_2 Sk_";
        let mut hits = Vec::new();
        g.for_each(hay, 0, hay.len(), |s, e, id| hits.push((s, e, id)));
        assert_eq!(
            hits,
            vec![(2, 6, 0), (8, 16, 1), (8, 11, 2), (11, 15, 3), (18, 21, 2)]
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
