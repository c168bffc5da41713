//! Keyword search without a full automaton pass over the text (performance.md §4: a byte-at-a-time
//! automaton over Japanese text caps a scan at ~0.4 GB/s, and no literal prefilter helps with
//! hundreds of keywords).
//!
//! The label keywords and the topic keywords are found in one walk over the positions where a
//! keyword can start: the lead byte of every multi-byte character and the first letter of every
//! ASCII word (a 64-byte block at a time, with SIMD masks on x86_64). Each such position is
//! looked up in small tables built from the keywords' first characters: a character that starts
//! only keywords of two or more characters also needs its second character, hashed with the
//! first, in a bit table. Only the positions that pass run the automaton, anchored there.
//!
//! The result is what `find_iter` with leftmost-first semantics gives (the leftmost start wins,
//! then the keyword listed first; the search resumes after each match), with one rule of its
//! own: a keyword that starts with an ASCII character is only tried at the start of an ASCII
//! word (not after a letter), so `xtel` never consumes a `tel`.

use aho_corasick::Anchored;
use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;

/// Automata served by one walk.
const SETS: usize = 2;

/// A bit table of hashed keys with two bits per slot (one per automaton), 2^B slots.
struct Table<const B: u32> {
    bits: Vec<u64>,
}

impl<const B: u32> Table<B> {
    fn new() -> Table<B> {
        Table {
            bits: vec![0; ((1usize << (B + 1)) / 64).max(1)],
        }
    }

    #[inline(always)]
    fn slot(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - B)) as usize
    }

    fn insert(&mut self, key: u64, set: usize) {
        let bit = 2 * self.slot(key) + set;
        self.bits[bit >> 6] |= 1 << (bit & 63);
    }

    /// The two automata's bits for `key` (bit 0: automaton 0, bit 1: automaton 1).
    #[inline(always)]
    fn get(&self, key: u64) -> u64 {
        let bit = 2 * self.slot(key);
        // SAFETY: `slot` is below 2^slot_bits, so `bit + 1` is inside `bits`.
        (unsafe { *self.bits.get_unchecked(bit >> 6) } >> (bit & 63)) & 3
    }
}

/// Keys at a position: the next 8 bytes, little-endian (missing bytes are 0).
#[inline(always)]
fn load8(b: &[u8], i: usize) -> u64 {
    if i + 8 <= b.len() {
        u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]))
    } else {
        let mut t = [0u8; 8];
        t[..b.len() - i].copy_from_slice(&b[i..]);
        u64::from_le_bytes(t)
    }
}

const ASCII_CASE: u64 = 0x2020_2020;

/// The two automata's tables, shared so that one walk serves both.
pub struct KwScan {
    /// Keywords starting with an ASCII character or a 2-byte character: their first 1, 2, 3 or
    /// 4 bytes (as many as they have, at most 4), with bit 5 of each byte set (ASCII case).
    ascii1: Table<8>,
    ascii2: Table<12>,
    ascii3: Table<12>,
    ascii4: Table<13>,
    /// Keywords starting with a 3-byte character followed by another: the first 6 bytes.
    jp6: Table<16>,
    /// Other keywords starting with a 3-byte character: the first 3 bytes.
    jp3: Table<12>,
    /// Per automaton: some keyword starts with a 4-byte character (then every such position is
    /// tried).
    four: u64,
    /// Longest keyword, in bytes, per automaton.
    longest: [usize; SETS],
    /// Whether any keyword has 1, 2 or 3 bytes and starts with an ASCII or 2-byte character
    /// (`ascii1`..`ascii3` are consulted only then).
    short_ascii: [bool; 3],
}

/// A raw match: the caller applies its own word-boundary rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawHit {
    pub start: usize,
    pub end: usize,
    pub pattern: usize,
}

impl KwScan {
    /// Tables for keyword lists (lower-cased, as given to each automaton, in pattern order).
    pub fn new(sets: [&[&str]; SETS]) -> KwScan {
        let mut k = KwScan {
            ascii1: Table::new(),
            ascii2: Table::new(),
            ascii3: Table::new(),
            ascii4: Table::new(),
            jp6: Table::new(),
            jp3: Table::new(),
            four: 0,
            longest: [0; SETS],
            short_ascii: [false; 3],
        };
        for (s, words) in sets.iter().enumerate() {
            for w in words.iter() {
                let b = w.as_bytes();
                k.longest[s] = k.longest[s].max(b.len());
                let Some(&b0) = b.first() else { continue };
                let key = load8(b, 0);
                if b0 < 0x80 || (0xC0..0xE0).contains(&b0) {
                    let l = b.len().min(4);
                    let key = (key | ASCII_CASE) & (u64::MAX >> (64 - 8 * l));
                    if l < 4 {
                        k.short_ascii[l - 1] = true;
                    }
                    match l {
                        1 => k.ascii1.insert(key, s),
                        2 => k.ascii2.insert(key, s),
                        3 => k.ascii3.insert(key, s),
                        _ => k.ascii4.insert(key, s),
                    }
                } else if b0 >= 0xF0 {
                    k.four |= 1 << s;
                } else if b.len() >= 6 && b[3] & 0xF0 == 0xE0 {
                    k.jp6.insert(key & 0xFFFF_FFFF_FFFF, s);
                } else {
                    k.jp3.insert(key & 0xFF_FFFF, s);
                }
            }
        }
        k
    }

    /// Which automata may match at `i`, a 3-byte lead (bit `k` for automaton `k`).
    #[inline(always)]
    fn flags_jp(&self, key: u64) -> u64 {
        self.jp3.get(key & 0xFF_FFFF) | self.jp6.get(key & 0xFFFF_FFFF_FFFF)
    }

    /// Which automata may match at `i`, an ASCII letter or a 2-byte lead.
    #[inline(always)]
    fn flags_ascii(&self, key: u64) -> u64 {
        let key = key | ASCII_CASE;
        let mut f = self.ascii4.get(key & 0xFFFF_FFFF);
        if self.short_ascii[2] {
            f |= self.ascii3.get(key & 0xFF_FFFF);
        }
        if self.short_ascii[1] {
            f |= self.ascii2.get(key & 0xFFFF);
        }
        if self.short_ascii[0] {
            f |= self.ascii1.get(key & 0xFF);
        }
        f
    }

    /// Positions of `block` (64 bytes from `base`, or fewer at the end) where automaton 0 and
    /// automaton 1 may match, given the candidate masks.
    #[inline(always)]
    fn pass(&self, b: &[u8], base: usize, jp: u64, other: u64) -> (u64, u64) {
        let (mut p0, mut p1) = (0u64, 0u64);
        let mut m = jp;
        while m != 0 {
            let k = m.trailing_zeros();
            m &= m - 1;
            let f = self.flags_jp(load8(b, base + k as usize));
            p0 |= (f & 1) << k;
            p1 |= (f >> 1) << k;
        }
        let mut m = other;
        while m != 0 {
            let k = m.trailing_zeros();
            m &= m - 1;
            let i = base + k as usize;
            let f = if b[i] >= 0xF0 {
                self.four
            } else {
                self.flags_ascii(load8(b, i))
            };
            p0 |= (f & 1) << k;
            p1 |= (f >> 1) << k;
        }
        (p0, p1)
    }

    /// Every match of `acs[k]` in `text`, per automaton, into `out[k]` (cleared first).
    /// `acs` must support anchored searches.
    pub fn find_all(&self, acs: [&DFA; SETS], text: &str, out: [&mut Vec<RawHit>; SETS]) {
        let [o0, o1] = out;
        o0.clear();
        o1.clear();
        let outs = [o0, o1];
        let b = text.as_bytes();
        let n = b.len();
        // Searches resume after each match of the same automaton.
        let mut resume = [0usize; SETS];
        let mut base = 0;
        let mut prev_letter = false;
        while base < n {
            let len = (n - base).min(64);
            let (jp, other, last_letter) = start_mask(&b[base..base + len], prev_letter);
            prev_letter = last_letter;
            let (p0, p1) = self.pass(b, base, jp, other);
            let mut mask = p0 | p1;
            while mask != 0 {
                let k = mask.trailing_zeros();
                mask &= mask - 1;
                let i = base + k as usize;
                let flags = ((p0 >> k) & 1) | (((p1 >> k) & 1) << 1);
                for s in 0..SETS {
                    if flags & (1 << s) == 0 || i < resume[s] {
                        continue;
                    }
                    let end = (i + self.longest[s]).min(n);
                    if let Some((pattern, e)) = anchored_match(acs[s], &b[i..end]) {
                        outs[s].push(RawHit {
                            start: i,
                            end: i + e,
                            pattern,
                        });
                        resume[s] = i + e;
                    }
                }
            }
            base += len;
        }
    }
}

/// The leftmost-first match of `dfa` at the start of `hay`: pattern and length. The walk keeps
/// the last match state seen and stops at the dead state (the DFA is built leftmost-first, so
/// no better match lies beyond it).
#[inline]
fn anchored_match(dfa: &DFA, hay: &[u8]) -> Option<(usize, usize)> {
    let mut sid = dfa.start_state(Anchored::Yes).ok()?;
    let mut found = None;
    for (k, &byte) in hay.iter().enumerate() {
        sid = dfa.next_state(Anchored::Yes, sid, byte);
        if dfa.is_special(sid) {
            if dfa.is_dead(sid) {
                break;
            }
            if dfa.is_match(sid) {
                found = Some((dfa.match_pattern(sid, 0).as_usize(), k + 1));
            }
        }
    }
    found
}

/// Where a keyword can start in `block` (at most 64 bytes): bit `i` of the first mask for a
/// 3-byte lead byte, of the second for any other lead byte or an ASCII letter not preceded by a
/// letter (`prev_letter`: the byte before the block is one). Also returns whether the block's
/// last byte is a letter.
#[inline]
fn start_mask(block: &[u8], prev_letter: bool) -> (u64, u64, bool) {
    #[cfg(target_arch = "x86_64")]
    {
        if block.len() == 64 {
            // SAFETY: SSE2 is part of the x86_64 baseline; the block holds 64 readable bytes.
            let (jp, leads, letters) = unsafe { masks64_sse2(block) };
            let starts = letters & !((letters << 1) | prev_letter as u64);
            return (jp, (leads & !jp) | starts, letters >> 63 == 1);
        }
    }
    let (mut jp, mut other, mut letters) = (0u64, 0u64, 0u64);
    for (k, &c) in block.iter().enumerate() {
        if c & 0xF0 == 0xE0 {
            jp |= 1 << k;
        } else if c >= 0xC0 {
            other |= 1 << k;
        }
        if c.is_ascii_alphabetic() {
            letters |= 1 << k;
        }
    }
    let starts = letters & !((letters << 1) | prev_letter as u64);
    let last = block.last().is_some_and(u8::is_ascii_alphabetic);
    (jp, other | starts, last)
}

/// 3-byte lead bytes (0xE0–0xEF), all lead bytes (>= 0xC0) and ASCII letters of 64 bytes.
#[cfg(target_arch = "x86_64")]
#[inline]
unsafe fn masks64_sse2(p: &[u8]) -> (u64, u64, u64) {
    use std::arch::x86_64::*;
    unsafe {
        let lead_floor = _mm_set1_epi8(0xBFu8 as i8);
        let high = _mm_set1_epi8(0xF0u8 as i8);
        let e0 = _mm_set1_epi8(0xE0u8 as i8);
        let a = _mm_set1_epi8(b'a' as i8);
        let z = _mm_set1_epi8(25);
        let case = _mm_set1_epi8(0x20);
        let (mut jp, mut leads, mut letters) = (0u64, 0u64, 0u64);
        for k in 0..4 {
            let v = _mm_loadu_si128(p.as_ptr().add(16 * k) as *const __m128i);
            // Unsigned v > 0xBF: max(v, 0xBF) != 0xBF.
            let le = _mm_cmpeq_epi8(_mm_max_epu8(v, lead_floor), lead_floor);
            let lead = !(_mm_movemask_epi8(le) as u32) & 0xFFFF;
            let is_jp = _mm_cmpeq_epi8(_mm_and_si128(v, high), e0);
            let d = _mm_sub_epi8(_mm_or_si128(v, case), a);
            let is_letter = _mm_cmpeq_epi8(_mm_min_epu8(d, z), d);
            leads |= (lead as u64) << (16 * k);
            jp |= ((_mm_movemask_epi8(is_jp) as u32 & 0xFFFF) as u64) << (16 * k);
            letters |= ((_mm_movemask_epi8(is_letter) as u32 & 0xFFFF) as u64) << (16 * k);
        }
        (jp, leads, letters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Input, MatchKind, StartKind};

    fn ac(words: &[&str]) -> AhoCorasick {
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .kind(Some(AhoCorasickKind::DFA))
            .start_kind(StartKind::Both)
            .build(words)
            .unwrap()
    }

    fn dfa(words: &[&str]) -> DFA {
        aho_corasick::dfa::Builder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .start_kind(StartKind::Anchored)
            .build(words)
            .unwrap()
    }

    /// `find_iter`, keeping only matches that start where the scanner tries (ASCII word starts
    /// for ASCII-first keywords) — the reference the scanner must equal.
    fn reference(a: &AhoCorasick, text: &str) -> Vec<RawHit> {
        let b = text.as_bytes();
        let mut out = Vec::new();
        let mut at = 0;
        while at <= b.len() {
            let mut found = None;
            for s in at..b.len() {
                if !text.is_char_boundary(s) {
                    continue;
                }
                if b[s].is_ascii() && s > 0 && b[s - 1].is_ascii_alphabetic() {
                    continue;
                }
                if let Some(m) = a.find(Input::new(b).span(s..b.len()).anchored(Anchored::Yes)) {
                    found = Some(m);
                    break;
                }
            }
            let Some(m) = found else { break };
            out.push(RawHit {
                start: m.start(),
                end: m.end(),
                pattern: m.pattern().as_usize(),
            });
            at = m.end();
        }
        out
    }

    #[test]
    fn equals_the_reference_on_mixed_text() {
        let w0 = [
            "個人番号",
            "番号",
            "第",
            "tel",
            "passport no",
            "dna配列",
            "〒",
            "ｺｰﾄﾞ",
            "😀x",
            "é",
        ];
        let w1 = ["様", "さん", "会員id", "date of birth", "race", "糖尿病"];
        let (a0, a1) = (ac(&w0), ac(&w1));
        let (d0, d1) = (dfa(&w0), dfa(&w1));
        let scan = KwScan::new([&w0, &w1]);
        let mut text = String::new();
        for i in 0..400 {
            text.push_str(match i % 13 {
                0 => "個人番号: 1234 ",
                1 => "xtel 0312 tel:03 ",
                2 => "佐藤様 田中さん 会員ID ",
                3 => "Passport No. TK1 ",
                4 => "dna配列 xdna配列 第3号 ",
                5 => "〒100 ｺｰﾄﾞ 😀x é ",
                6 => "date of birth race racetrack ",
                7 => "糖尿病の番号番号 ",
                8 => "のの番の番号 ",
                9 => "abcdefghijklmnopqrstuvwxyz0123456789 ",
                10 => "\n",
                11 => "テスト、です。",
                _ => "ab",
            });
        }
        let lower = text.to_ascii_lowercase();
        let (mut h0, mut h1) = (Vec::new(), Vec::new());
        scan.find_all([&d0, &d1], &lower, [&mut h0, &mut h1]);
        assert_eq!(h0, reference(&a0, &lower));
        assert_eq!(h1, reference(&a1, &lower));
        assert!(h0.len() > 300 && h1.len() > 150, "{} {}", h0.len(), h1.len());
        // Every length of tail, so the last partial block is covered.
        for cut in 0..80 {
            let t = &lower[..crate::fold::floor_boundary(&lower, lower.len() - cut)];
            scan.find_all([&d0, &d1], t, [&mut h0, &mut h1]);
            assert_eq!(h0, reference(&a0, t));
            assert_eq!(h1, reference(&a1, t));
        }
    }

    #[test]
    fn builtin_keywords_start_where_the_walk_looks() {
        // The walk tries ASCII positions only at letters: no keyword may start with another
        // ASCII character.
        let r = crate::patterns::RuleSet::builtin();
        let texts = r
            .keywords
            .iter()
            .map(|k| &k.text)
            .chain(r.topics.iter().map(|k| &k.text));
        for t in texts {
            let c = t.as_bytes()[0];
            assert!(!c.is_ascii() || c.is_ascii_alphabetic(), "{t:?}");
        }
    }
}
