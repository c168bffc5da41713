//! A 1:1 character fold for matching: full-width digits and letters to ASCII, hyphen and space
//! look-alikes to `-` and ` ` (and `ー`/`・` between digits to `-`/`.`), with a map back to the
//! original text. Every character maps to exactly one character, so character columns are the
//! same in both texts; only byte offsets differ, and [`Folded::original_offset`] translates them.

/// The first position at or after `i` whose character may fold: a C2, E2 or EF lead byte, or E3
/// followed by 80 or 83.
#[inline]
fn next_foldable(b: &[u8], mut i: usize) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        while i + 17 <= b.len() {
            // SAFETY: SSE2 is part of the x86_64 baseline; 17 bytes from `i` are in `b`.
            let m = unsafe {
                let v = _mm_loadu_si128(b.as_ptr().add(i) as *const __m128i);
                let next = _mm_loadu_si128(b.as_ptr().add(i + 1) as *const __m128i);
                let eq = |x: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(x as i8));
                let e3 = _mm_and_si128(
                    eq(0xE3),
                    _mm_or_si128(
                        _mm_cmpeq_epi8(next, _mm_set1_epi8(0x80u8 as i8)),
                        _mm_cmpeq_epi8(next, _mm_set1_epi8(0x83u8 as i8)),
                    ),
                );
                let any = _mm_or_si128(_mm_or_si128(eq(0xC2), eq(0xE2)), _mm_or_si128(eq(0xEF), e3));
                _mm_movemask_epi8(any) as u32
            };
            if m != 0 {
                return Some(i + m.trailing_zeros() as usize);
            }
            i += 16;
        }
    }
    while i < b.len() {
        match b[i] {
            0xC2 | 0xE2 | 0xEF => return Some(i),
            0xE3 if matches!(b.get(i + 1), Some(0x80 | 0x83)) => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Folded text and the way back to the original.
#[derive(Debug, Default, Clone)]
pub struct Folded {
    /// The folded text.
    pub text: String,
    /// Checkpoints `(folded offset, original offset)` after every character whose encoded
    /// length changed; offsets between checkpoints advance together.
    map: Vec<(usize, usize)>,
}

/// The largest character boundary of `s` at or before `i`.
pub fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The fold of one character, given whether its neighbours are digits.
#[inline]
pub fn fold_char(c: char, prev_digit: bool, next_digit: bool) -> char {
    match c {
        '\u{FF10}'..='\u{FF19}' => char::from(b'0' + (c as u32 - 0xFF10) as u8),
        '\u{FF21}'..='\u{FF3A}' => char::from(b'A' + (c as u32 - 0xFF21) as u8),
        '\u{FF41}'..='\u{FF5A}' => char::from(b'a' + (c as u32 - 0xFF41) as u8),
        '\u{FF0D}' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}' | '\u{2212}'
        | '\u{FE63}' | '\u{FE58}' | '\u{2043}' => '-',
        '\u{30FC}' | '\u{FF70}' if prev_digit && next_digit => '-',
        '\u{30FB}' | '\u{FF65}' if prev_digit && next_digit => '.',
        '\u{3000}' | '\u{00A0}' | '\u{2009}' | '\u{202F}' | '\u{2002}' | '\u{2003}' => ' ',
        '\u{FF0E}' => '.',
        '\u{FF03}' | '\u{266F}' => '#',
        '\u{FF1A}' => ':',
        _ => c,
    }
}

#[inline]
fn is_digit_like(c: char) -> bool {
    c.is_ascii_digit() || ('\u{FF10}'..='\u{FF19}').contains(&c)
}

impl Folded {
    /// Folds `orig` into a new buffer.
    pub fn new(orig: &str) -> Folded {
        let mut f = Folded::default();
        f.fold_into(orig);
        f
    }

    /// Folds `orig`, reusing this value's buffers.
    pub fn fold_into(&mut self, orig: &str) {
        self.text.clear();
        self.map.clear();
        self.text.reserve(orig.len());
        // Fast path: nothing outside ASCII, nothing to fold.
        if orig.is_ascii() {
            self.text.push_str(orig);
            return;
        }
        // Only characters whose UTF-8 lead byte is C2 (U+0080–U+00BF), E2 (U+2000–U+2FFF), E3
        // (U+3000–U+3FFF) or EF (U+F000–U+FFFF) can fold; everything else is copied in runs.
        // Of E3, only U+3000 (E3 80 80), U+30FB and U+30FC (E3 83 BB/BC) fold.
        let b = orig.as_bytes();
        let mut copied = 0;
        let mut i = 0;
        while i < b.len() {
            let Some(p) = next_foldable(b, i) else { break };
            i = p;
            let c = orig[i..].chars().next().unwrap_or('\0');
            let clen = c.len_utf8();
            let prev_digit = orig[..i].chars().next_back().is_some_and(is_digit_like);
            let next_digit = orig[i + clen..].chars().next().is_some_and(is_digit_like);
            let f = fold_char(c, prev_digit, next_digit);
            if f != c {
                self.text.push_str(&orig[copied..i]);
                self.text.push(f);
                copied = i + clen;
                if f.len_utf8() != clen {
                    self.map.push((self.text.len(), copied));
                }
            }
            i += clen;
        }
        self.text.push_str(&orig[copied..]);
    }

    /// The byte offset in the original text of the character at folded byte offset `pos`.
    pub fn original_offset(&self, pos: usize) -> usize {
        let idx = self.map.partition_point(|&(f, _)| f <= pos);
        if idx == 0 {
            pos
        } else {
            let (f, o) = self.map[idx - 1];
            o + (pos - f)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_width_and_separators() {
        let s = "個人番号：１２３４ー５６７８ー９０１８　ＡＢｃ　マイナンバー";
        let f = Folded::new(s);
        assert_eq!(f.text, "個人番号:1234-5678-9018 ABc マイナンバー");
        assert_eq!(f.text.chars().count(), s.chars().count());
        let start = f.text.find('1').unwrap();
        let o = f.original_offset(start);
        assert!(s[o..].starts_with('１'));
        let end = f.text.find(" ABc").unwrap();
        assert_eq!(
            &s[f.original_offset(start)..f.original_offset(end)],
            "１２３４ー５６７８ー９０１８"
        );
    }

    #[test]
    fn long_vowel_mark_kept_in_words() {
        let f = Folded::new("カード 1ー2 ー3");
        assert_eq!(f.text, "カード 1-2 ー3");
    }
}
