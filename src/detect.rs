//! Detection over one text unit: candidates from a digit-and-word tokenizer, classified by shape,
//! validated by check digits, and scored with their context (labels before them, column or key
//! names, negative words). Pure functions of the unit: no I/O, no global state.

use crate::fold::Folded;
use crate::patterns::{Confidence, Part, RuleSet, Unlabelled};
use crate::validate::{self, Strength};

/// A column header or JSON key path, and what its name says.
#[derive(Debug, Clone, Default)]
pub struct FieldInfo {
    /// As reports show it: the CSV header, or the JSON key path (`$.user.passport_no`).
    pub name: String,
    /// Rules whose label or column name the field name carries.
    pub labels: Vec<usize>,
    /// The label text that matched, for evidence.
    pub label_text: Option<String>,
    /// The field name carries a negative word (an order number column).
    pub negative: Option<String>,
    /// The field holds one part of a health-insurance group.
    pub part: Option<Part>,
    /// The field identifies a person (a name, an id, a birth date, an identification code).
    pub person: bool,
    /// Sensitive rules the field name names (`病名`, `diagnosis`).
    pub sensitive: Vec<usize>,
    /// Biometric rules the field name names (`face_embedding`, `声紋`).
    pub biometric: Vec<usize>,
    /// The column word behind `sensitive` or `biometric`, for evidence.
    pub topic_text: Option<String>,
    /// Custom rules (indexes into [`RuleSet::rules`]) one of whose labels the field name carries.
    pub custom: Vec<usize>,
    /// The field name behind `custom`, for evidence.
    pub custom_text: Option<String>,
}

impl FieldInfo {
    /// Reads what `key` (a header or the last keys of a path) says, displayed as `name`.
    pub fn new(rules: &RuleSet, name: String, keys: &[&str]) -> FieldInfo {
        // Names are shown in reports: one that holds a value is masked like a value.
        let mut f = FieldInfo {
            name: crate::report::redact(&name),
            ..Default::default()
        };
        for key in keys {
            let folded = Folded::new(key).text.to_ascii_lowercase();
            // In a compound name the last word is the head (`雇用保険適用事業所番号` is an office
            // number): the last label or negative word decides.
            for hit in keyword_hits(rules, &folded) {
                let kw = &rules.keywords[hit.kw];
                if kw.negative {
                    f.negative = Some(kw.text.clone());
                    f.labels.clear();
                    f.label_text = None;
                } else if !kw.labels.is_empty() {
                    f.labels = kw.labels.clone();
                    f.label_text = Some(crate::report::redact(key));
                    f.negative = None;
                }
                if kw.part.is_some() && f.part.is_none() {
                    f.part = kw.part;
                }
            }
            let norm = crate::patterns::normalize_name(key);
            for (i, r) in rules.rules.iter().enumerate() {
                if f.negative.is_none() && r.columns.iter().any(|c| norm.contains(c.as_str())) && !f.labels.contains(&i)
                {
                    f.labels.push(i);
                    f.label_text.get_or_insert_with(|| crate::report::redact(key));
                }
            }
            if !f.labels.is_empty() || f.negative.is_some() || f.part.is_some() {
                break;
            }
        }
        f.classify_topics(rules, keys);
        if let Some(custom) = &rules.custom {
            custom.classify_field(keys, &mut f);
        }
        f
    }

    /// Sensitive, biometric and person meaning of the name. The field's own name decides for
    /// sensitive and person; for biometrics the parent key joins in (`face` › `embedding`).
    fn classify_topics(&mut self, rules: &RuleSet, keys: &[&str]) {
        use crate::patterns::Kind;
        let Some(own) = keys.first() else { return };
        let folded = Folded::new(own).text.to_ascii_lowercase();
        for hit in crate::topics::topic_hits(rules, &folded) {
            let t = &rules.topics[hit.kw];
            if t.exclude {
                continue;
            }
            if t.person {
                self.person = true;
            }
            for &r in &t.rules {
                if !self.sensitive.contains(&r) {
                    self.sensitive.push(r);
                    self.topic_text.get_or_insert_with(|| crate::report::redact(own));
                }
            }
        }
        let own_norm = crate::patterns::normalize_name(own);
        if rules.persons.columns.contains(&own_norm) {
            self.person = true;
        }
        let joined: String = keys.iter().rev().copied().collect::<Vec<_>>().join("_");
        let joined_folded: String = keys
            .iter()
            .rev()
            .map(|k| Folded::new(k).text.to_ascii_lowercase())
            .collect();
        for (i, r) in rules.rules.iter().enumerate() {
            match r.kind {
                Kind::Sensitive => {
                    if r.columns.iter().any(|c| word_start_contains(own, c)) && !self.sensitive.contains(&i) {
                        self.sensitive.push(i);
                        self.topic_text.get_or_insert_with(|| crate::report::redact(own));
                    }
                }
                Kind::Biometric => {
                    let named = r.columns.iter().any(|c| word_start_contains(&joined, c))
                        || r.labels.iter().any(|l| joined_folded.contains(&l.to_ascii_lowercase()));
                    if named && !self.biometric.contains(&i) {
                        self.biometric.push(i);
                        self.topic_text.get_or_insert_with(|| crate::report::redact(own));
                    }
                }
                Kind::Code | Kind::Custom => {}
            }
        }
        // Only identification-code rules label values by shape; a field holding a code
        // identifies a person.
        self.labels.retain(|&i| rules.rules[i].kind == Kind::Code);
        if !self.labels.is_empty() && self.negative.is_none() {
            self.person = true;
        }
    }
}

/// Whether the normalized column word `col` (`faceembedding`) occurs in `key` starting at a word
/// start: after `_`, `-`, `.`, a space or a lower-to-upper case change (`face_embedding`,
/// `faceEmbedding`, `user.face_embedding`), so `surface_vector` is not a face.
pub fn word_start_contains(key: &str, col: &str) -> bool {
    let mut stripped = String::with_capacity(key.len());
    let mut starts = Vec::with_capacity(key.len());
    let mut next_is_start = true;
    let mut prev_lower = false;
    for c in key.chars() {
        let c = crate::fold::fold_char(c, false, false);
        if matches!(c, '_' | '-' | '.' | ' ' | '#' | '$' | '[' | ']') {
            next_is_start = true;
            prev_lower = false;
            continue;
        }
        let start = next_is_start || (prev_lower && c.is_ascii_uppercase()) || !c.is_ascii();
        prev_lower = c.is_ascii_lowercase();
        next_is_start = false;
        for (k, l) in c.to_lowercase().enumerate() {
            starts.push(start && k == 0);
            stripped.push(l);
        }
    }
    let positions: Vec<usize> = stripped.char_indices().map(|(i, _)| i).collect();
    stripped
        .match_indices(col)
        .any(|(at, _)| positions.binary_search(&at).is_ok_and(|k| starts[k]))
}

/// A span of the unit's text that belongs to one field (a CSV cell, a JSON value).
#[derive(Debug, Clone, Copy)]
pub struct Cell {
    pub start: usize,
    pub end: usize,
    /// Index into the unit's fields.
    pub field: usize,
    /// Cells of one record (a CSV row, a JSON object) share this number.
    pub record: u64,
}

/// One unit of text to scan.
pub struct Unit<'a> {
    pub folded: &'a Folded,
    /// Bytes before this offset are context only (the tail of the previous piece).
    pub scan_from: usize,
    /// Cells, sorted by start, not overlapping; empty for plain text.
    pub cells: &'a [Cell],
    pub fields: &'a [FieldInfo],
    /// A table or a document of keys (CSV, JSON, SQL): text outside cells is headers and keys.
    pub structured: bool,
}

/// A finding before it is placed in a file: byte offsets into the folded text.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub rule: usize,
    pub start: usize,
    pub end: usize,
    pub canonical: String,
    pub score: f64,
    pub confidence: Confidence,
    pub validated: bool,
    pub evidence: Vec<String>,
    /// Index into the unit's fields.
    pub field: Option<usize>,
    /// What reports show instead of the masked match (a description of a template, a keyword).
    pub display: Option<String>,
    /// A field name that replaces the cell's (a whole JSON array rather than its first item).
    pub field_name: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    pub kw: usize,
}

/// Keyword hits over lower-cased folded text, ASCII keywords only at a word start.
pub fn keyword_hits(rules: &RuleSet, lower: &str) -> Vec<Hit> {
    let (mut kw, mut topics) = (Vec::new(), Vec::new());
    rules.kwscan.find_all(
        [&rules.automaton, &rules.topic_automaton],
        lower,
        [&mut kw, &mut topics],
    );
    keyword_filter(rules, lower, &kw)
}

/// The label keywords among the raw hits of [`RuleSet::automaton`].
pub fn keyword_filter(rules: &RuleSet, lower: &str, raw: &[crate::kwscan::RawHit]) -> Vec<Hit> {
    let mut out = Vec::new();
    keyword_filter_into(rules, lower, raw, &mut out);
    out
}

/// [`keyword_filter`] into a reused vector.
pub fn keyword_filter_into(rules: &RuleSet, lower: &str, raw: &[crate::kwscan::RawHit], out: &mut Vec<Hit>) {
    let b = lower.as_bytes();
    out.clear();
    out.extend(
        raw.iter()
            .filter(|m| {
                let kw = &rules.keywords[m.pattern];
                if kw.ascii && m.start > 0 && b[m.start - 1].is_ascii_alphabetic() {
                    return false;
                }
                // `番号` in `電話番号` or `社員番号` is not the 番号 of an insurance card.
                if kw.standalone && lower[..m.start].chars().next_back().is_some_and(char::is_alphanumeric) {
                    return false;
                }
                true
            })
            .map(|m| Hit {
                start: m.start,
                end: m.end,
                kw: m.pattern,
            }),
    );
}

/// A value-shaped span found by the tokenizer.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub start: usize,
    pub end: usize,
    pub sig: Sig,
    /// No separators inside.
    pub bare: bool,
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Up to `N` small counts; more are counted but not kept (`overflow`).
struct Groups<const N: usize> {
    len: usize,
    v: [u8; N],
}

impl<const N: usize> Groups<N> {
    fn new() -> Self {
        Groups { len: 0, v: [0; N] }
    }
    fn push(&mut self, x: usize) {
        if self.len < N {
            self.v[self.len] = x.min(255) as u8;
        }
        self.len += 1;
    }
    fn overflow(&self) -> bool {
        self.len > N
    }
    fn as_slice(&self) -> &[u8] {
        &self.v[..self.len.min(N)]
    }
}

/// Finds value-shaped spans at or after `from`: maximal ASCII words, digit groups joined by one
/// consistent `-` or `.`, and runs of short digit groups joined by single spaces. A span glued to
/// a longer run (`-`/`.` plus a digit on either side, `_`, letters) is not a candidate, so no window
/// is cut out of a card number, a corporate number or a timestamp.
pub fn candidates(text: &str, from: usize, out: &mut Vec<Candidate>) {
    tokenize(text.as_bytes(), None, |c| {
        if c.start >= from {
            out.push(c)
        }
    });
}

/// The candidates at or after `from` whose shape some rule accepts (what detection looks at):
/// words without a digit are not even looked at.
pub fn shaped_candidates(rules: &RuleSet, text: &str, from: usize, out: &mut Vec<Candidate>) {
    let digit_free = rules.shapes.iter().any(|(sig, _)| !sig.has_digits());
    tokenize(text.as_bytes(), (!digit_free).then_some(&rules.single_groups), |c| {
        if c.start >= from && rules.rules_for_shape(c.sig).is_some() {
            out.push(c)
        }
    });
}

/// The tokenizer behind [`candidates`]: every candidate from the start of `b`, in order. Tokens
/// are found from the start of the text (the context before a piece included), so a run that
/// straddles the piece start is seen whole and, starting before it, is left out by the caller:
/// the previous piece reported it. With `digits_only` (whether a lone group of each number of
/// digits is a shape), words without a digit are skipped, and so are lone digit groups of no
/// shape.
#[inline]
fn tokenize(b: &[u8], digits_only: Option<&[bool; 64]>, mut emit: impl FnMut(Candidate)) {
    let n = b.len();
    let mut i = 0;
    loop {
        if let Some(single) = digits_only {
            // The word around the next digit: back over the letters before it.
            let d = next_digit(b, i);
            if d >= n {
                break;
            }
            let mut w = d;
            while w > i && b[w - 1].is_ascii_alphabetic() {
                w -= 1;
            }
            i = w;
            if w == d {
                // A lone group of digits, not followed by anything that extends it: a
                // candidate only if some rule has its length as a shape.
                let mut e = d + 1;
                while e < n && b[e].is_ascii_digit() {
                    e += 1;
                }
                let ends = e == n
                    || match b[e] {
                        b'-' | b'.' | b'_' => false,
                        b' ' => !(e - d <= 4 && e + 1 < n && b[e + 1].is_ascii_digit()),
                        c => !c.is_ascii_alphabetic(),
                    };
                if ends && !single.get(e - d).copied().unwrap_or(false) {
                    i = e;
                    continue;
                }
            }
        } else {
            i = next_alnum(b, i);
            if i >= n {
                break;
            }
        }
        let (c, next) = token_at(b, i);
        if let Some(c) = c {
            emit(c);
        }
        i = next;
    }
}

/// The token of the word starting at `i`: its candidate, if it is one, and where the next
/// token may start.
#[inline]
fn token_at(b: &[u8], i: usize) -> (Option<Candidate>, usize) {
    let n = b.len();
    let wend = word_end(b, i);
    let glued_before = glued_before(b, i);
    if !b[i..wend].iter().all(u8::is_ascii_digit) {
        // A word with letters: `TK1234567`, `AB12345678CD`.
        let glued_after =
            wend < n && (b[wend] == b'_' || (matches!(b[wend], b'-' | b'.') && wend + 1 < n && is_alnum(b[wend + 1])));
        let c = (!glued_before && !glued_after && wend - i <= 32).then(|| Candidate {
            start: i,
            end: wend,
            sig: word_signature(&b[i..wend]),
            bare: true,
        });
        return (c, wend);
    }
    // Digit groups joined by `-` or `.`.
    let mut groups = Groups::<8>::new();
    groups.push(wend - i);
    let mut sep: Option<u8> = None;
    let mut consistent = true;
    let mut j = wend;
    let mut glued = glued_before;
    while j + 1 < n && matches!(b[j], b'-' | b'.') && is_alnum(b[j + 1]) {
        let e = word_end(b, j + 1);
        if !b[j + 1..e].iter().all(u8::is_ascii_digit) {
            glued = true;
            j = e;
            break;
        }
        match sep {
            None => sep = Some(b[j]),
            Some(x) if x != b[j] => consistent = false,
            Some(_) => {}
        }
        groups.push(e - j - 1);
        j = e;
    }
    if j < n && b[j] == b'_' {
        glued = true;
    }
    if glued || !consistent {
        return (None, j);
    }
    // A lone short group may start a space-separated run (`1234 5678 9018`).
    if groups.len == 1 && wend - i <= 4 {
        let mut sp_groups = Groups::<16>::new();
        sp_groups.push(wend - i);
        let mut all_ones = wend - i == 1;
        let mut k = j;
        let mut broken = false;
        while k + 1 < n && b[k] == b' ' && b[k + 1].is_ascii_digit() {
            let e = word_end(b, k + 1);
            let next_joined = e < n && matches!(b[e], b'-' | b'.' | b'_') && e + 1 < n && is_alnum(b[e + 1]);
            if !b[k + 1..e].iter().all(u8::is_ascii_digit) || e - k - 1 > 4 || next_joined {
                broken = true;
                break;
            }
            sp_groups.push(e - k - 1);
            all_ones &= e - k - 1 == 1;
            k = e;
        }
        if sp_groups.len > 1 {
            let c = (!broken).then(|| Candidate {
                start: i,
                end: k,
                sig: if all_ones {
                    let mut sig = Sig::default();
                    sig.push(Sig::SPACED, sp_groups.len);
                    sig
                } else {
                    group_signature(&sp_groups)
                },
                bare: false,
            });
            return (c, k);
        }
    }
    (
        Some(Candidate {
            start: i,
            end: j,
            sig: group_signature(&groups),
            bare: groups.len == 1,
        }),
        j,
    )
}

/// The first ASCII digit at or after `i` (`b.len()` if none).
#[inline]
fn next_digit(b: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        while i + 16 <= b.len() {
            // SAFETY: SSE2 is part of the x86_64 baseline; 16 bytes from `i` are in `b`.
            let m = unsafe {
                let v = _mm_loadu_si128(b.as_ptr().add(i) as *const __m128i);
                let d = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
                _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d)) as u32
            };
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    while i < b.len() && !b[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// The first ASCII letter or digit at or after `i` (`b.len()` if none).
#[inline]
fn next_alnum(b: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        while i + 16 <= b.len() {
            // SAFETY: SSE2 is part of the x86_64 baseline; 16 bytes from `i` are in `b`.
            let m = unsafe {
                let v = _mm_loadu_si128(b.as_ptr().add(i) as *const __m128i);
                let d = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
                let digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
                let l = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8(b'a' as i8));
                let letter = _mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(25)), l);
                _mm_movemask_epi8(_mm_or_si128(digit, letter)) as u32
            };
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    while i < b.len() && !is_alnum(b[i]) {
        i += 1;
    }
    i
}

fn word_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_alnum(b[i]) {
        i += 1;
    }
    i
}

/// The span starting at `i` continues something before it: `1234-` / `12.`, `ORD-`, `x_`.
fn glued_before(b: &[u8], i: usize) -> bool {
    if i == 0 {
        return false;
    }
    let p = b[i - 1];
    if p == b'_' {
        return true;
    }
    if i >= 2 && matches!(p, b'-' | b'.') {
        let pp = b[i - 2];
        return pp.is_ascii_digit() || (p == b'-' && pp.is_ascii_alphabetic());
    }
    false
}

/// A shape signature (`N4-N4-N4`, `A2N7`, `N1*12`) packed into an integer: no allocation and
/// one comparison per rule shape. Up to 8 tokens of a kind and a length (1–63), `-` between
/// groups being a token of its own; anything longer is marked overflowed and matches nothing.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Sig {
    key: u64,
    n: u8,
}

impl Sig {
    const SEP: u8 = 0;
    const DIGITS: u8 = 1;
    const LETTERS: u8 = 2;
    /// Single digits joined by spaces (`N1*12`): the length is their count.
    const SPACED: u8 = 3;
    const MAX: u8 = 8;

    fn push(&mut self, kind: u8, len: usize) {
        if self.n >= Self::MAX || len > 63 {
            self.n = u8::MAX;
            return;
        }
        self.key |= (((kind << 6) | len as u8) as u64) << (8 * self.n);
        self.n += 1;
    }

    fn overflowed(&self) -> bool {
        self.n > Self::MAX
    }

    /// A hash of the signature in `0..256`.
    #[inline]
    pub fn slot(&self) -> usize {
        ((self.key ^ ((self.n as u64) << 59)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize
    }

    /// Regular expressions (ASCII word boundaries, no Unicode classes) for the spans the
    /// tokenizer reads with this signature: `-` or `.` between groups (one of them), or spaces
    /// when every group has 4 digits at most.
    pub fn regexes(&self) -> Vec<String> {
        let tokens: Vec<(u8, usize)> = (0..self.n.min(Self::MAX))
            .map(|k| {
                let t = (self.key >> (8 * k)) as u8;
                (t >> 6, (t & 63) as usize)
            })
            .collect();
        let with = |sep: &str| -> String {
            let mut r = String::from("(?-u:\\b)");
            for &(kind, len) in &tokens {
                match kind {
                    Self::SEP => r.push_str(sep),
                    Self::DIGITS => r.push_str(&format!("[0-9]{{{len}}}")),
                    Self::LETTERS => r.push_str(&format!("[A-Za-z]{{{len}}}")),
                    _ => r.push_str(&format!("[0-9](?: [0-9]){{{}}}", len.saturating_sub(1))),
                }
            }
            r.push_str("(?-u:\\b)");
            r
        };
        let mut out = vec![with("-")];
        if tokens.iter().any(|&(k, _)| k == Self::SEP) {
            out.push(with("\\."));
            if tokens.iter().all(|&(k, len)| k != Self::DIGITS || len <= 4) {
                out.push(with(" "));
            }
        }
        out
    }

    /// The number of digits when the signature is one group of digits (`N12`).
    pub fn single_group(&self) -> Option<usize> {
        let t = self.key as u8;
        (self.n == 1 && t >> 6 == Self::DIGITS).then_some((t & 63) as usize)
    }

    /// Some part is digits.
    pub fn has_digits(&self) -> bool {
        (0..self.n.min(Self::MAX)).any(|k| matches!(((self.key >> (8 * k)) as u8) >> 6, Self::DIGITS | Self::SPACED))
    }

    /// Single digits joined by spaces (`N1*12`).
    pub fn is_spaced(&self) -> bool {
        self.n == 1 && (self.key as u8) >> 6 == Self::SPACED
    }

    /// Parses the shape syntax of the rule files: groups of `A<n>`/`N<n>` joined by `-`, or
    /// `N1*<n>`.
    pub fn parse(s: &str) -> Result<Sig, String> {
        let mut sig = Sig::default();
        if let Some(n) = s.strip_prefix("N1*") {
            sig.push(Self::SPACED, n.parse::<usize>().map_err(|e| e.to_string())?);
        } else {
            for (g, group) in s.split('-').enumerate() {
                if group.is_empty() {
                    return Err("empty group".into());
                }
                if g > 0 {
                    sig.push(Self::SEP, 0);
                }
                let mut rest = group;
                while let Some(c) = rest.chars().next() {
                    let kind = match c {
                        'A' => Self::LETTERS,
                        'N' => Self::DIGITS,
                        _ => return Err(format!("unexpected {c}")),
                    };
                    let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
                    let len: usize = rest[1..1 + digits]
                        .parse()
                        .map_err(|e: std::num::ParseIntError| e.to_string())?;
                    sig.push(kind, len);
                    rest = &rest[1 + digits..];
                }
            }
        }
        if sig.overflowed() {
            return Err("more than 8 parts or a part longer than 63".into());
        }
        Ok(sig)
    }
}

impl std::fmt::Display for Sig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.overflowed() {
            return Ok(());
        }
        for k in 0..self.n {
            let t = (self.key >> (8 * k)) as u8;
            let len = t & 63;
            match t >> 6 {
                Self::SEP => f.write_str("-")?,
                Self::DIGITS => write!(f, "N{len}")?,
                Self::LETTERS => write!(f, "A{len}")?,
                _ => write!(f, "N1*{len}")?,
            }
        }
        Ok(())
    }
}

impl std::fmt::Debug for Sig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

fn group_signature<const N: usize>(groups: &Groups<N>) -> Sig {
    let mut s = Sig::default();
    if groups.overflow() {
        s.n = u8::MAX;
        return s;
    }
    for (k, &g) in groups.as_slice().iter().enumerate() {
        if k > 0 {
            s.push(Sig::SEP, 0);
        }
        s.push(Sig::DIGITS, g as usize);
    }
    s
}

fn word_signature(w: &[u8]) -> Sig {
    let mut s = Sig::default();
    let mut k = 0;
    while k < w.len() {
        let digit = w[k].is_ascii_digit();
        let start = k;
        while k < w.len() && w[k].is_ascii_digit() == digit {
            k += 1;
        }
        s.push(if digit { Sig::DIGITS } else { Sig::LETTERS }, k - start);
    }
    s
}

/// Reused buffers of one worker.
#[derive(Default)]
pub struct Scratch {
    lower: String,
    cands: Vec<Candidate>,
    raw_kw: Vec<crate::kwscan::RawHit>,
    raw_topics: Vec<crate::kwscan::RawHit>,
    char_index: CharIndex,
    /// Per keyword hit of the unit: characters before its end, once computed (`u32::MAX`).
    hit_chars: Vec<u32>,
    hits: Vec<Hit>,
    topic_hits: Vec<crate::topics::TopicHit>,
}

/// Counts characters (not bytes) in `s`: the bytes that are not UTF-8 continuation bytes.
pub(crate) fn chars(s: &[u8]) -> usize {
    let mut n = 0;
    let mut rest = s;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // Per 16 bytes: 1 for each byte that starts a character (continuation bytes are
        // 0x80..=0xBF, i.e. -128..=-65 as i8), summed by SAD (no POPCNT in the x86_64 baseline).
        // SAFETY: SSE2 is part of the x86_64 baseline; each load reads 16 bytes inside `rest`.
        unsafe {
            let mut acc = _mm_setzero_si128();
            while rest.len() >= 16 {
                let v = _mm_loadu_si128(rest.as_ptr() as *const __m128i);
                let starts = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(-65)), _mm_set1_epi8(1));
                acc = _mm_add_epi64(acc, _mm_sad_epu8(starts, _mm_setzero_si128()));
                rest = &rest[16..];
            }
            n += (_mm_cvtsi128_si64(acc) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc))) as usize;
        }
    }
    n + rest.iter().filter(|&&c| (c & 0xC0) != 0x80).count()
}

/// Characters before every 64-byte boundary of a text, so that the characters between two
/// offsets are counted in constant time (label distances are in characters).
#[derive(Default)]
pub struct CharIndex {
    before: Vec<u32>,
}

impl CharIndex {
    const BLOCK: usize = 64;

    pub fn build(&mut self, b: &[u8]) {
        self.before.clear();
        let mut n = 0u32;
        for block in b.chunks(Self::BLOCK) {
            self.before.push(n);
            n += chars(block) as u32;
        }
        self.before.push(n);
    }

    /// Characters in `b[..p]`.
    pub fn at(&self, b: &[u8], p: usize) -> usize {
        let k = p / Self::BLOCK;
        self.before[k] as usize + chars(&b[k * Self::BLOCK..p])
    }
}

/// Where a label came from; turned into evidence text only for reported detections.
#[derive(Clone, Copy)]
enum Src {
    Column(usize),
    ColumnNegative(usize),
    Enclosed(usize),
    Hit(usize),
}

#[derive(Clone, Copy)]
enum LabelKind {
    Strong(Src),
    Weak(Src),
    Negative(Src),
    None,
}

/// One rule's verdict on one candidate, before any text is allocated.
struct Verdict {
    rule: usize,
    score: f64,
    validated: bool,
    check: Option<&'static str>,
    label: LabelKind,
    placeholder: bool,
}

/// Finds every identification code in `unit`.
pub fn detect(rules: &RuleSet, unit: &Unit, scratch: &mut Scratch, out: &mut Vec<Detection>) {
    let text = unit.folded.text.as_str();
    scratch.lower.clear();
    scratch.lower.push_str(text);
    scratch.lower.make_ascii_lowercase();
    rules.kwscan.find_all(
        [&rules.automaton, &rules.topic_automaton],
        &scratch.lower,
        [&mut scratch.raw_kw, &mut scratch.raw_topics],
    );
    scratch.cands.clear();
    shaped_candidates(rules, text, unit.scan_from, &mut scratch.cands);
    classify(rules, unit, scratch, out);
}

/// The same detection with a plain front end: candidates and keyword hits found by
/// `regex::bytes` alternations of the rule shapes and of the keywords ([`Reference`]) instead of
/// the tokenizer and [`crate::kwscan`]; everything after (classification, check digits,
/// context) is shared. The reference the hot path is measured against (`benches/ratio.rs`),
/// which must find the same.
pub fn detect_reference(
    rules: &RuleSet,
    reference: &Reference,
    unit: &Unit,
    scratch: &mut Scratch,
    out: &mut Vec<Detection>,
) {
    let text = unit.folded.text.as_str();
    scratch.lower.clear();
    scratch.lower.push_str(text);
    scratch.lower.make_ascii_lowercase();
    reference.keywords.find_all(&scratch.lower, &mut scratch.raw_kw);
    reference.topics.find_all(&scratch.lower, &mut scratch.raw_topics);
    scratch.cands.clear();
    reference.candidates(rules, text, unit.scan_from, &mut scratch.cands);
    classify(rules, unit, scratch, out);
}

/// `regex::bytes` alternations of the rule shapes and of the keywords (see [`detect_reference`]).
pub struct Reference {
    shapes: regex::bytes::Regex,
    pub keywords: Literals,
    pub topics: Literals,
}

/// An alternation of literals and the index of each.
pub struct Literals {
    re: regex::bytes::Regex,
    index: std::collections::HashMap<Vec<u8>, usize>,
}

fn build_regex(pattern: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(pattern)
        .size_limit(256 << 20)
        .dfa_size_limit(64 << 20)
        .build()
}

impl Literals {
    fn new<'a>(words: impl Iterator<Item = &'a str>) -> Result<Literals, regex::Error> {
        let words: Vec<&str> = words.collect();
        let pattern = words.iter().map(|w| regex::escape(w)).collect::<Vec<_>>().join("|");
        Ok(Literals {
            re: build_regex(&pattern)?,
            index: words
                .iter()
                .enumerate()
                .map(|(i, w)| (w.as_bytes().to_vec(), i))
                .collect(),
        })
    }

    /// Leftmost-first matches, except those starting at an ASCII character after an ASCII
    /// letter (where the hot path never looks): there the search goes on from the next byte.
    pub fn find_all(&self, lower: &str, out: &mut Vec<crate::kwscan::RawHit>) {
        out.clear();
        let b = lower.as_bytes();
        let mut at = 0;
        while let Some(m) = self.re.find_at(b, at) {
            if b[m.start()].is_ascii() && m.start() > 0 && b[m.start() - 1].is_ascii_alphabetic() {
                at = m.start() + 1;
                continue;
            }
            out.push(crate::kwscan::RawHit {
                start: m.start(),
                end: m.end(),
                pattern: self.index.get(m.as_bytes()).copied().unwrap_or(usize::MAX),
            });
            at = m.end();
        }
    }
}

impl Reference {
    /// The alternatives of the shape alternation.
    pub fn shape_patterns(rules: &RuleSet) -> Vec<String> {
        rules.shapes.iter().flat_map(|(sig, _)| sig.regexes()).collect()
    }

    pub fn new(rules: &RuleSet) -> Result<Reference, regex::Error> {
        let shapes = Self::shape_patterns(rules);
        Ok(Reference {
            shapes: build_regex(&shapes.join("|"))?,
            keywords: Literals::new(rules.keywords.iter().map(|k| k.text.as_str()))?,
            topics: Literals::new(rules.topics.iter().map(|k| k.text.as_str()))?,
        })
    }

    /// The candidates at or after `from` whose shape some rule accepts: each match of the
    /// shape alternation is kept when the tokenizer, started there, reads exactly that span
    /// (glued runs, longer groups and the like are not candidates); otherwise the search goes
    /// on from the next byte.
    pub fn candidates(&self, rules: &RuleSet, text: &str, from: usize, out: &mut Vec<Candidate>) {
        let b = text.as_bytes();
        let mut at = 0;
        while let Some(m) = self.shapes.find_at(b, at) {
            match token_at(b, m.start()).0 {
                Some(c) if c.end == m.end() && rules.rules_for_shape(c.sig).is_some() => {
                    if c.start >= from {
                        out.push(c);
                    }
                    at = m.end();
                }
                _ => at = m.start() + 1,
            }
        }
    }
}

/// Classifies the candidates of `scratch.cands` with the keyword hits of `scratch.raw_kw` and
/// `scratch.raw_topics` (over `scratch.lower`): shapes, check digits, context.
fn classify(rules: &RuleSet, unit: &Unit, scratch: &mut Scratch, out: &mut Vec<Detection>) {
    let text = unit.folded.text.as_str();
    let b = text.as_bytes();
    let mut hits = std::mem::take(&mut scratch.hits);
    keyword_filter_into(rules, &scratch.lower, &scratch.raw_kw, &mut hits);
    let ctx = &rules.context;

    let mut canonical = String::new();
    let char_index = &mut scratch.char_index;
    char_index.before.clear();
    let hit_chars = &mut scratch.hit_chars;
    hit_chars.clear();
    hit_chars.resize(hits.len(), u32::MAX);
    // Candidates come in text order: the keyword hits ending before each are counted by a
    // cursor, not searched for.
    let mut hits_before = 0;
    for c in &scratch.cands {
        let Some(rule_ids) = rules.rules_for_shape(c.sig) else {
            continue;
        };
        while hits_before < hits.len() && hits[hits_before].end <= c.start {
            hits_before += 1;
        }
        if char_index.before.is_empty() {
            char_index.build(b);
        }
        // An amount, a count or a date right after the value.
        let after = text[c.end..].trim_start_matches(' ');
        if after
            .as_bytes()
            .first()
            .is_some_and(|&f| rules.suffix_first[f as usize])
            && rules.suffixes.iter().any(|s| after.starts_with(s.as_str()))
        {
            continue;
        }
        canonical.clear();
        canonical.extend(
            text[c.start..c.end]
                .bytes()
                .filter(u8::is_ascii_alphanumeric)
                .map(|x| char::from(x.to_ascii_uppercase())),
        );
        let cell = cell_at(unit.cells, c.start);
        let field = cell.map(|cl| &unit.fields[cl.field]);
        // Only the last few hundred characters matter for labels: never search further back.
        let back = crate::fold::floor_boundary(text, c.start.saturating_sub(LOOK_BACK_BYTES));
        let line_start = memchr::memrchr(b'\n', &b[back..c.start]).map_or(back, |p| back + p + 1);
        let mut best: Option<(Verdict, Option<Detection>)> = None;
        for &ri in rule_ids {
            let rule = &rules.rules[ri];
            // Label: field name, enclosing marks, nearest keyword before the value.
            let mut label = LabelKind::None;
            if let (Some(f), Some(cl)) = (field, cell) {
                if f.labels.contains(&ri) {
                    label = LabelKind::Strong(Src::Column(cl.field));
                } else if f.negative.is_some() {
                    label = LabelKind::Negative(Src::ColumnNegative(cl.field));
                }
            }
            if matches!(label, LabelKind::None) {
                let before = text[line_start..c.start].trim_end_matches(' ');
                for (k, e) in rule.enclosed.iter().enumerate() {
                    if before.ends_with(e.before.as_str()) && after.starts_with(e.after.as_str()) {
                        label = LabelKind::Strong(Src::Enclosed(k));
                    }
                }
            }
            if matches!(label, LabelKind::None) {
                // In structured data only the value's own cell speaks (other keys and headers
                // are other fields), or a previous cell of the record that is nothing but a label.
                let lo = cell.map_or(0, |cl| cl.start);
                label = nearest_label(
                    rules,
                    ri,
                    &hits[..hits_before],
                    text,
                    char_index,
                    hit_chars,
                    c.start,
                    line_start,
                    lo,
                    ctx.strong_window_chars,
                    ctx.weak_window_chars,
                );
                if let (LabelKind::None, Some(cl)) = (label, cell) {
                    label = label_cell_before(rules, ri, unit, &hits, text, cl);
                }
            }
            if rule.parts.is_some() && field.is_some_and(|f| f.part.is_some()) {
                // A 記号 or 番号 value is a part of a group, never an insurer number.
                continue;
            }
            if c.bare && rule.bare_needs_strong_label && matches!(label, LabelKind::Weak(_)) {
                label = LabelKind::None;
            }
            if c.sig.is_spaced() && !matches!(label, LabelKind::Strong(_)) {
                continue;
            }
            let mut score = rule.score.shape;
            let mut validated = false;
            let mut failed = false;
            let mut structure_failed = false;
            let mut check = None;
            if let Some(v) = rule.check {
                match (v.strength(), v.check(&canonical)) {
                    (Strength::CheckDigit, true) => {
                        validated = true;
                        score += rule.score.checksum;
                        check = Some("checksum");
                    }
                    (Strength::CheckDigit, false) => {
                        failed = true;
                        check = Some("checksum_failed");
                    }
                    (Strength::Structure, true) => {
                        score += rule.score.checksum;
                        check = Some("prefix");
                    }
                    (Strength::Structure, false) => structure_failed = true,
                }
            }
            let mut cap: Option<f64> = None;
            let labelled = match label {
                LabelKind::Strong(_) => {
                    score += rule.score.strong_label;
                    true
                }
                LabelKind::Weak(_) => {
                    score += rule.score.weak_label;
                    true
                }
                LabelKind::Negative(_) => {
                    cap = Some(ctx.bands.low_cap);
                    false
                }
                LabelKind::None => false,
            };
            if !labelled {
                if failed || structure_failed {
                    continue;
                }
                let policy = if c.bare {
                    rule.unlabelled_bare.unwrap_or(rule.unlabelled)
                } else {
                    rule.unlabelled
                };
                match policy {
                    Unlabelled::Drop => continue,
                    Unlabelled::Low => cap = Some(ctx.bands.low_cap),
                    Unlabelled::Medium => {
                        score = score.max(ctx.bands.medium);
                        cap = Some(cap.unwrap_or(1.0).min(ctx.bands.high - 0.01));
                    }
                }
            }
            if failed {
                cap = Some(ctx.bands.low_cap);
            }
            let placeholder = rule.placeholders.iter().any(|p| p == &canonical) || is_repeated(&canonical);
            if placeholder {
                cap = Some(ctx.bands.low_cap);
            }
            // A health-insurance group needs the person's parts from the same record.
            let mut group = None;
            if rule.parts.is_some() {
                if !labelled {
                    continue;
                }
                let Some(g) = health_parts(rules, ri, unit, &hits, c, cell, &canonical) else {
                    continue;
                };
                group = Some(g);
                score += rule.score.parts;
            }
            let score = cap.map_or(score, |k| score.min(k)).clamp(0.0, 1.0);
            let score = (score * 1000.0).round() / 1000.0;
            if best.as_ref().is_none_or(|(b, _)| score > b.score) {
                let v = Verdict {
                    rule: ri,
                    score,
                    validated,
                    check,
                    label,
                    placeholder,
                };
                let g = group.map(|(canon, parts)| Detection {
                    rule: ri,
                    start: c.start,
                    end: c.end,
                    canonical: canon,
                    score,
                    confidence: band(rules, score),
                    validated,
                    evidence: parts,
                    field: cell.map(|cl| cl.field),
                    display: None,
                    field_name: None,
                });
                best = Some((v, g));
            }
        }
        let Some((v, group)) = best else { continue };
        // Only now, for the one verdict kept, build the record's text.
        let mut evidence = Vec::with_capacity(3);
        if let Some(ch) = v.check {
            evidence.push(ch.to_string());
        }
        let src_text = |src: Src| -> String {
            match src {
                Src::Column(f) => {
                    let fi = &unit.fields[f];
                    format!("column:{}", fi.label_text.as_deref().unwrap_or(&fi.name))
                }
                Src::ColumnNegative(f) => format!("column:{}", unit.fields[f].negative.as_deref().unwrap_or("")),
                Src::Enclosed(k) => {
                    let e = &rules.rules[v.rule].enclosed[k];
                    format!("{}…{}", e.before, e.after)
                }
                Src::Hit(h) => text[hits[h].start..hits[h].end].to_string(),
            }
        };
        match v.label {
            LabelKind::Strong(src @ Src::Column(_)) => evidence.push(src_text(src)),
            LabelKind::Strong(src) => evidence.push(format!("label:{}", src_text(src))),
            LabelKind::Weak(src) => evidence.push(format!("near:{}", src_text(src))),
            LabelKind::Negative(src) => evidence.push(format!("negative:{}", src_text(src))),
            LabelKind::None => {}
        }
        if v.placeholder {
            evidence.push("placeholder".into());
        }
        match group {
            Some(mut d) => {
                evidence.append(&mut d.evidence);
                d.evidence = evidence;
                out.push(d);
            }
            None => out.push(Detection {
                rule: v.rule,
                start: c.start,
                end: c.end,
                canonical: canonical.clone(),
                score: v.score,
                confidence: band(rules, v.score),
                validated: v.validated,
                evidence,
                field: cell.map(|cl| cl.field),
                display: None,
                field_name: None,
            }),
        }
    }
    if text.contains("<<") {
        mrz(rules, text, unit, out);
    }
    let mut topic_hits = std::mem::take(&mut scratch.topic_hits);
    topic_hits.clear();
    topic_hits.extend(crate::topics::topic_filter(rules, &scratch.lower, &scratch.raw_topics));
    crate::topics::detect_topics(rules, unit, &scratch.lower, &topic_hits, out);
    // Custom rules of `appiscan.toml`: nothing at all to do without them.
    if let Some(custom) = &rules.custom {
        custom.detect(rules, unit, &scratch.lower, &hits, out);
    }
    scratch.hits = hits;
    scratch.topic_hits = topic_hits;
}

/// How far back (and, for health-insurance parts, forward) context is looked for: enough for the
/// weak window of 300 characters of up to 4 bytes each.
pub(crate) const LOOK_BACK_BYTES: usize = 1536;

pub(crate) fn band(rules: &RuleSet, score: f64) -> Confidence {
    let bands = &rules.context.bands;
    if score >= bands.high - 1e-9 {
        Confidence::High
    } else if score >= bands.medium - 1e-9 {
        Confidence::Medium
    } else {
        Confidence::Low
    }
}

fn is_repeated(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() > 4 && b.iter().all(|&c| c == b[0])
}

pub(crate) fn cell_at(cells: &[Cell], pos: usize) -> Option<&Cell> {
    let i = cells.partition_point(|c| c.start <= pos);
    (i > 0 && cells[i - 1].end >= pos).then(|| &cells[i - 1])
}

/// The label that speaks for rule `ri` at `pos` (`hits`: those ending before it): the nearest
/// keyword before the value that is a label of this rule, a label of a rival rule for the same
/// shape, or a negative word. Within
/// the strong window on the same line it is strong (or negative); further back, within the weak
/// window, a label of this rule is weak.
#[allow(clippy::too_many_arguments)]
fn nearest_label(
    rules: &RuleSet,
    ri: usize,
    hits: &[Hit],
    text: &str,
    char_index: &CharIndex,
    hit_chars: &mut [u32],
    pos: usize,
    line_start: usize,
    lo: usize,
    strong: usize,
    weak: usize,
) -> LabelKind {
    let b = text.as_bytes();
    let end = hits.len();
    let has_parts = rules.rules[ri].parts.is_some();
    // A label of another rule for the same shape, or (for a group rule) a part label, speaks
    // for something else.
    let rivals = |kw: &crate::patterns::Keyword| {
        (has_parts && kw.part.is_some()) || kw.labels.iter().any(|&l| l != ri && rules.shares_shape[ri][l])
    };
    // Characters between a keyword and the value: characters before the value less those
    // before the keyword's end (remembered per hit, as the windows of nearby values overlap).
    let pos_chars = char_index.at(b, pos);
    for (k, h) in hits[..end].iter().enumerate().rev() {
        if h.start < lo {
            break;
        }
        let kw = &rules.keywords[h.kw];
        let is_label = kw.labels.contains(&ri);
        if !is_label && !kw.negative && !rivals(kw) {
            continue;
        }
        if hit_chars[k] == u32::MAX {
            hit_chars[k] = char_index.at(b, h.end) as u32;
        }
        let dist = pos_chars - hit_chars[k] as usize;
        if dist > weak {
            break;
        }
        let same_line = h.start >= line_start;
        let idx = k;
        if same_line && dist <= strong {
            if is_label {
                return LabelKind::Strong(Src::Hit(idx));
            }
            if kw.negative {
                return LabelKind::Negative(Src::Hit(idx));
            }
            // The nearest label names another kind of number.
            return LabelKind::None;
        }
        if is_label {
            // `基礎年金番号：` alone at the end of a line, the value alone at the start of the next:
            // a label-value layout, as strong as a label on the same line.
            if dist <= strong && label_line_above(rules, b, h.end, line_start, pos) {
                return LabelKind::Strong(Src::Hit(idx));
            }
            return LabelKind::Weak(Src::Hit(idx));
        }
        if rivals(kw) {
            return LabelKind::None;
        }
    }
    LabelKind::None
}

/// True when the label ending at `label_end` ends the line just above the value's line (only
/// punctuation after it) and the value starts its own line (only spaces before it).
fn label_line_above(rules: &RuleSet, b: &[u8], label_end: usize, line_start: usize, pos: usize) -> bool {
    if line_start == 0 || label_end >= line_start {
        return false;
    }
    let prev_line_end = line_start - 1;
    if memchr::memchr(b'\n', &b[label_end..prev_line_end]).is_some() {
        return false;
    }
    let mut after_label = std::str::from_utf8(&b[label_end..prev_line_end]).unwrap_or("x");
    if let Some(f) = rules
        .context
        .line_label_followers
        .iter()
        .find(|f| after_label.starts_with(f.as_str()))
    {
        after_label = &after_label[f.len()..];
    }
    let before_value = std::str::from_utf8(&b[line_start..pos]).unwrap_or("x");
    after_label
        .chars()
        .all(|c| c.is_whitespace() || ":：)）】]#.。、".contains(c))
        && before_value.chars().all(char::is_whitespace)
}

/// The end of the paragraph that contains `from`: the start of the first blank line, or `limit`.
pub(crate) fn blank_line_after(text: &str, from: usize, limit: usize) -> usize {
    let b = &text.as_bytes()[..limit];
    let mut i = from;
    while let Some(p) = memchr::memchr(b'\n', &b[i..]) {
        let nl = i + p;
        let mut j = nl + 1;
        while j < b.len() && matches!(b[j], b' ' | b'\t' | b'\r') {
            j += 1;
        }
        if j < b.len() && b[j] == b'\n' {
            return nl;
        }
        i = nl + 1;
    }
    limit
}

/// The start of the paragraph that contains `to`: just after the last blank line, or `floor`.
pub(crate) fn blank_line_before(text: &str, to: usize, floor: usize) -> usize {
    let b = &text.as_bytes()[floor..to];
    let mut end = b.len();
    while let Some(p) = memchr::memrchr(b'\n', &b[..end]) {
        let mut j = p;
        while j > 0 && matches!(b[j - 1], b' ' | b'\t' | b'\r') {
            j -= 1;
        }
        if j > 0 && b[j - 1] == b'\n' {
            return floor + p + 1;
        }
        end = p;
    }
    floor
}

/// Reads part values after the part labels among `hits` (ending before `limit`), stopping at
/// another insurer label. `記号・番号 1234・56` fills both parts.
fn collect_parts(rules: &RuleSet, ri: usize, text: &str, hits: &[Hit], limit: usize, parts: &mut [Option<String>; 3]) {
    let slot = |p: Part| match p {
        Part::Symbol => 0,
        Part::Number => 1,
        Part::Branch => 2,
    };
    let value_start = |end: usize| -> &str {
        text[end..limit.max(end)].trim_start_matches([' ', ':', '\t', '"', '=', '\n', '\r', ')', '）', '#'])
    };
    let digits = |s: &str| -> String { s.chars().take_while(|ch| ch.is_ascii_digit()).take(12).collect() };
    let mut k = 0;
    while k < hits.len() {
        let h = hits[k];
        k += 1;
        let kw = &rules.keywords[h.kw];
        if kw.labels.contains(&ri) {
            break;
        }
        let Some(p) = kw.part else { continue };
        if parts[slot(p)].is_some() {
            continue;
        }
        // `記号・番号 X・Y`: one label for two values.
        if let (Part::Symbol, Some(next)) = (p, hits.get(k)) {
            let between = &text[h.end..next.start.max(h.end)];
            if rules.keywords[next.kw].part == Some(Part::Number) && between.chars().count() <= 1 {
                let v = value_start(next.end);
                let pair: Vec<&str> = v
                    .split(|ch: char| ch.is_whitespace() || "、。,;()（）「」".contains(ch))
                    .next()
                    .unwrap_or("")
                    .splitn(2, ['.', '・', '-', '/'])
                    .collect();
                if pair.len() == 2 && !pair[0].is_empty() && !pair[1].is_empty() {
                    parts[0] = Some(pair[0].to_string());
                    parts[1] = Some(digits(pair[1])).filter(|d| !d.is_empty());
                    k += 1;
                    continue;
                }
            }
        }
        let rest = value_start(h.end);
        let v: String = match p {
            Part::Symbol => rest
                .chars()
                .take_while(|ch| !ch.is_whitespace() && !"、。,;()（）「」\"".contains(*ch))
                .take(20)
                .collect(),
            Part::Number | Part::Branch => digits(rest),
        };
        if !v.is_empty() {
            parts[slot(p)] = Some(v);
        }
    }
}

/// The cell just before `cl` in its record, when its whole text is one label of rule `ri` (a
/// key-value table: `個人番号,5260 1815 9084`) or one negative word.
fn label_cell_before(rules: &RuleSet, ri: usize, unit: &Unit, hits: &[Hit], text: &str, cl: &Cell) -> LabelKind {
    let at = unit.cells.partition_point(|o| o.start < cl.start);
    if at == 0 {
        return LabelKind::None;
    }
    let prev = &unit.cells[at - 1];
    if prev.record != cl.record {
        return LabelKind::None;
    }
    let raw = &text[prev.start..prev.end];
    let inner = raw.trim_matches(|c: char| c.is_whitespace() || matches!(c, '"' | ':' | '：' | '#'));
    if inner.is_empty() {
        return LabelKind::None;
    }
    let from = hits.partition_point(|h| h.start < prev.start);
    for (k, h) in hits.iter().enumerate().skip(from) {
        if h.start >= prev.end {
            break;
        }
        if &text[h.start..h.end] != inner && !inner.eq_ignore_ascii_case(&text[h.start..h.end]) {
            continue;
        }
        let kw = &rules.keywords[h.kw];
        if kw.labels.contains(&ri) {
            return LabelKind::Strong(Src::Hit(k));
        }
        if kw.negative {
            return LabelKind::Negative(Src::Hit(k));
        }
    }
    LabelKind::None
}

/// Finds the person's parts (記号, 番号, 枝番) of a health-insurance group in the record of an
/// insurer number: the canonical group and its evidence, or `None` when no part is there.
#[allow(clippy::too_many_arguments)]
fn health_parts(
    rules: &RuleSet,
    ri: usize,
    unit: &Unit,
    hits: &[Hit],
    c: &Candidate,
    cell: Option<&Cell>,
    insurer: &str,
) -> Option<(String, Vec<String>)> {
    let text = unit.folded.text.as_str();
    let mut parts: [Option<String>; 3] = [None, None, None];
    let slot = |p: Part| match p {
        Part::Symbol => 0,
        Part::Number => 1,
        Part::Branch => 2,
    };
    if let Some(cl) = cell {
        // Structured: the other cells of the record whose field names a part.
        // Cells of one record are contiguous: look around this one only.
        let at = unit.cells.partition_point(|o| o.start < cl.start);
        let lo = unit.cells[..at]
            .iter()
            .rposition(|o| o.record != cl.record)
            .map_or(0, |k| k + 1);
        let hi = unit.cells[at..]
            .iter()
            .position(|o| o.record != cl.record)
            .map_or(unit.cells.len(), |k| at + k);
        for other in &unit.cells[lo..hi] {
            if let Some(p) = unit.fields[other.field].part {
                let v = text[other.start..other.end].trim().trim_matches('"');
                if !v.is_empty() && parts[slot(p)].is_none() {
                    parts[slot(p)] = Some(v.to_string());
                }
            }
        }
    }
    if cell.is_none() {
        // Text: the parts after the insurer number in its paragraph; if none, those before it (a
        // card reads 記号 … 番号 … 保険者番号 …). Never past another insurer label.
        let look = LOOK_BACK_BYTES.min(rules.context.weak_window_chars * 3);
        let after_end = blank_line_after(
            text,
            c.end,
            crate::fold::floor_boundary(text, (c.end + look).min(text.len())),
        );
        let first = hits.partition_point(|h| h.start < c.end);
        let last = hits.partition_point(|h| h.start < after_end);
        collect_parts(rules, ri, text, &hits[first..last], after_end, &mut parts);
        if parts[0].is_none() && parts[1].is_none() {
            // The insurer label itself, and any earlier group, bound the search backwards.
            let label_at = hits[..first]
                .iter()
                .rposition(|h| rules.keywords[h.kw].labels.contains(&ri))
                .unwrap_or(first);
            let label_start = hits.get(label_at).map_or(c.start, |h| h.start.min(c.start));
            let floor = crate::fold::floor_boundary(text, label_start.saturating_sub(look));
            let start = blank_line_before(text, label_start, floor);
            let prev_group = hits[..label_at]
                .iter()
                .rposition(|h| rules.keywords[h.kw].labels.contains(&ri))
                .map_or(0, |k| k + 1);
            let lo = prev_group.max(hits.partition_point(|h| h.start < start));
            collect_parts(rules, ri, text, &hits[lo..label_at], label_start, &mut parts);
        }
    }
    if parts[0].is_none() && parts[1].is_none() {
        return None;
    }
    let canon = |s: &Option<String>| -> String {
        s.as_deref()
            .map(|v| {
                v.chars()
                    .filter(|ch| !ch.is_whitespace() && *ch != '-')
                    .map(|ch| ch.to_ascii_uppercase())
                    .collect()
            })
            .unwrap_or_default()
    };
    let canonical = format!(
        "{}|{}|{}|{}",
        insurer,
        canon(&parts[0]),
        canon(&parts[1]),
        canon(&parts[2])
    );
    let evidence = ["part:記号", "part:番号", "part:枝番"]
        .iter()
        .zip(&parts)
        .filter(|(_, p)| p.is_some())
        .map(|(n, _)| (*n).to_string())
        .collect();
    Some((canonical, evidence))
}

/// Passport machine-readable zones (TD3 line 2) with all check digits valid.
fn mrz(rules: &RuleSet, text: &str, unit: &Unit, out: &mut Vec<Detection>) {
    let Some(ri) = rules.index_of("jp.passport") else {
        return;
    };
    let b = text.as_bytes();
    let mut line_start = unit.scan_from;
    while line_start < b.len() {
        let line_end = memchr::memchr(b'\n', &b[line_start..]).map_or(b.len(), |p| line_start + p);
        let line = text[line_start..line_end].trim_end_matches('\r').trim();
        if line.len() == 44 && validate::mrz_td3_line2(line.as_bytes()) {
            let off = line_start + text[line_start..line_end].find(line).unwrap_or(0);
            let number: String = line[..9].chars().filter(|&ch| ch != '<').collect();
            let nat = &line[10..13];
            out.push(Detection {
                rule: ri,
                start: off,
                end: off + 9,
                canonical: number,
                score: rules.rules[ri].score.mrz,
                confidence: Confidence::High,
                validated: true,
                evidence: vec![
                    "mrz".into(),
                    "checksum".into(),
                    format!("nationality:{}", nat.trim_end_matches('<')),
                ],
                field: cell_at(unit.cells, off).map(|c| c.field),
                display: None,
                field_name: None,
            });
        }
        line_start = line_end + 1;
    }
}

/// Detects in a string read as the file `name` (CSV, JSON Lines or text by its extension), as
/// one unit: for tests and rule examples.
pub fn detect_named(rules: &RuleSet, name: &str, text: &str) -> Vec<Detection> {
    let folded = Folded::new(text);
    let mut st = crate::structure::Structure::new(crate::structure::Format::guess(name, text));
    st.parse(rules, &folded.text, 0);
    let unit = Unit {
        folded: &folded,
        scan_from: 0,
        cells: &st.cells,
        fields: &st.fields,
        structured: st.is_structured(),
    };
    let mut out = Vec::new();
    detect(rules, &unit, &mut Scratch::default(), &mut out);
    out
}

/// Detects in a plain string (no fields): for tests, examples and `rules --check`.
pub fn detect_text(rules: &RuleSet, text: &str) -> Vec<Detection> {
    let folded = Folded::new(text);
    let unit = Unit {
        folded: &folded,
        scan_from: 0,
        cells: &[],
        fields: &[],
        structured: false,
    };
    let mut out = Vec::new();
    detect(rules, &unit, &mut Scratch::default(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sigs(t: &str) -> Vec<String> {
        let mut v = Vec::new();
        candidates(t, 0, &mut v);
        v.into_iter().map(|c| c.sig.to_string()).collect()
    }

    #[test]
    fn column_words_start_at_word_starts() {
        assert!(word_start_contains("face_embedding", "faceembedding"));
        assert!(word_start_contains("user.faceEmbedding", "faceembedding"));
        assert!(word_start_contains("kyc_face_embedding_v2", "faceembedding"));
        assert!(!word_start_contains("surface_vector", "face"));
        assert!(!word_start_contains("typeface_embedding", "faceembedding"));
        assert!(!word_start_contains("trace_id", "race"));
        assert!(word_start_contains("race", "race"));
    }

    #[test]
    fn tokenizer_shapes() {
        assert_eq!(sigs("番号 1234-5678-9012 です"), ["N4-N4-N4"]);
        assert_eq!(sigs("1234 5678 9012"), ["N4-N4-N4"]);
        assert_eq!(sigs("4111 1111 1111 1111"), ["N4-N4-N4-N4"]);
        assert_eq!(sigs("1234-5678.9012"), Vec::<String>::new());
        assert_eq!(sigs("ORD-123456789018"), Vec::<String>::new());
        assert_eq!(sigs("No.123456789018"), ["N12"]);
        assert_eq!(sigs("TK1234567 AB12345678CD"), ["A2N7", "A2N8A2"]);
        assert_eq!(sigs("1 2 3 4 5 6 7 8 9 0 1 8"), ["N1*12"]);
        assert_eq!(sigs("x_123456789018"), Vec::<String>::new());
    }
}
