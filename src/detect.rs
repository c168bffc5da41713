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
}

impl FieldInfo {
    /// Reads what `key` (a header or the last keys of a path) says, displayed as `name`.
    pub fn new(rules: &RuleSet, name: String, keys: &[&str]) -> FieldInfo {
        let mut f = FieldInfo {
            name,
            ..Default::default()
        };
        for key in keys {
            let folded = Folded::new(key).text.to_ascii_lowercase();
            for hit in keyword_hits(rules, &folded) {
                let kw = &rules.keywords[hit.kw];
                if !kw.labels.is_empty() && f.labels.is_empty() {
                    f.labels = kw.labels.clone();
                    f.label_text = Some((*key).to_string());
                }
                if kw.negative && f.negative.is_none() {
                    f.negative = Some(kw.text.clone());
                }
                if kw.part.is_some() && f.part.is_none() {
                    f.part = kw.part;
                }
            }
            let norm = crate::patterns::normalize_name(key);
            for (i, r) in rules.rules.iter().enumerate() {
                if r.columns.iter().any(|c| norm.contains(c.as_str())) && !f.labels.contains(&i) {
                    f.labels.push(i);
                    f.label_text.get_or_insert_with(|| (*key).to_string());
                }
            }
            if !f.labels.is_empty() || f.negative.is_some() || f.part.is_some() {
                break;
            }
        }
        f
    }
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
}

#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    pub kw: usize,
}

/// Keyword hits over lower-cased folded text, ASCII keywords only at a word start.
pub fn keyword_hits(rules: &RuleSet, lower: &str) -> Vec<Hit> {
    let b = lower.as_bytes();
    rules
        .automaton
        .find_iter(lower)
        .filter(|m| {
            let kw = &rules.keywords[m.pattern().as_usize()];
            !kw.ascii || m.start() == 0 || !b[m.start() - 1].is_ascii_alphabetic()
        })
        .map(|m| Hit {
            start: m.start(),
            end: m.end(),
            kw: m.pattern().as_usize(),
        })
        .collect()
}

/// A value-shaped span found by the tokenizer.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub start: usize,
    pub end: usize,
    pub sig: String,
    pub canonical: String,
    /// No separators inside.
    pub bare: bool,
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Finds value-shaped spans at or after `from`: maximal ASCII words, digit groups joined by one
/// consistent `-` or `.`, and runs of short digit groups joined by single spaces. A span glued to
/// a longer run (`-`/`.` plus a digit on either side, `_`, letters) is not a candidate, so no window
/// is cut out of a card number, a corporate number or a timestamp.
pub fn candidates(text: &str, from: usize, out: &mut Vec<Candidate>) {
    let b = text.as_bytes();
    let n = b.len();
    let mut i = from;
    // A piece that starts inside a run (a forced cut) skips the rest of that run: it was seen
    // whole at the end of the previous piece.
    if from > 0 && from < n && is_alnum(b[from - 1]) {
        while i < n
            && (is_alnum(b[i]) || (matches!(b[i], b'-' | b'.' | b' ') && i + 1 < n && b[i + 1].is_ascii_digit()))
        {
            i += 1;
        }
    }
    while i < n {
        if !is_alnum(b[i]) {
            i += 1;
            continue;
        }
        let wend = word_end(b, i);
        let glued_before = glued_before(b, i);
        if !b[i..wend].iter().all(u8::is_ascii_digit) {
            // A word with letters: `TK1234567`, `AB12345678CD`.
            let glued_after = wend < n
                && (b[wend] == b'_' || (matches!(b[wend], b'-' | b'.') && wend + 1 < n && is_alnum(b[wend + 1])));
            if !glued_before && !glued_after && wend - i <= 32 {
                out.push(Candidate {
                    start: i,
                    end: wend,
                    sig: word_signature(&b[i..wend]),
                    canonical: text[i..wend].to_ascii_uppercase(),
                    bare: true,
                });
            }
            i = wend;
            continue;
        }
        // Digit groups joined by `-` or `.`.
        let mut groups = vec![wend - i];
        let mut seps: Vec<u8> = Vec::new();
        let mut j = wend;
        let mut glued = glued_before;
        while j + 1 < n && matches!(b[j], b'-' | b'.') && is_alnum(b[j + 1]) {
            let e = word_end(b, j + 1);
            if !b[j + 1..e].iter().all(u8::is_ascii_digit) {
                glued = true;
                j = e;
                break;
            }
            seps.push(b[j]);
            groups.push(e - j - 1);
            j = e;
        }
        if j < n && b[j] == b'_' {
            glued = true;
        }
        let consistent = seps.windows(2).all(|w| w[0] == w[1]);
        if glued || !consistent {
            i = j;
            continue;
        }
        // A lone short group may start a space-separated run (`1234 5678 9018`).
        if groups.len() == 1 && groups[0] <= 4 {
            let mut sp_groups = vec![groups[0]];
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
                k = e;
            }
            if sp_groups.len() > 1 {
                if !broken {
                    let sig = if sp_groups.iter().all(|&g| g == 1) {
                        format!("N1*{}", sp_groups.len())
                    } else {
                        group_signature(&sp_groups)
                    };
                    out.push(Candidate {
                        start: i,
                        end: k,
                        sig,
                        canonical: text[i..k].bytes().filter(u8::is_ascii_digit).map(char::from).collect(),
                        bare: false,
                    });
                }
                i = k;
                continue;
            }
        }
        out.push(Candidate {
            start: i,
            end: j,
            sig: group_signature(&groups),
            canonical: text[i..j].bytes().filter(u8::is_ascii_digit).map(char::from).collect(),
            bare: groups.len() == 1,
        });
        i = j;
    }
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

fn group_signature(groups: &[usize]) -> String {
    let mut s = String::new();
    for (k, g) in groups.iter().enumerate() {
        if k > 0 {
            s.push('-');
        }
        s.push('N');
        s.push_str(&g.to_string());
    }
    s
}

fn word_signature(w: &[u8]) -> String {
    let mut s = String::new();
    let mut k = 0;
    while k < w.len() {
        let digit = w[k].is_ascii_digit();
        let start = k;
        while k < w.len() && w[k].is_ascii_digit() == digit {
            k += 1;
        }
        s.push(if digit { 'N' } else { 'A' });
        s.push_str(&(k - start).to_string());
    }
    s
}

/// Reused buffers of one worker.
#[derive(Default)]
pub struct Scratch {
    lower: String,
    cands: Vec<Candidate>,
}

/// Counts characters (not bytes) in `s`.
fn chars(s: &[u8]) -> usize {
    s.iter().filter(|&&c| (c & 0xC0) != 0x80).count()
}

enum LabelKind {
    Strong(String),
    Weak(String),
    Negative(String),
    None,
}

/// Finds every identification code in `unit`.
pub fn detect(rules: &RuleSet, unit: &Unit, scratch: &mut Scratch, out: &mut Vec<Detection>) {
    let text = unit.folded.text.as_str();
    let b = text.as_bytes();
    scratch.lower.clear();
    scratch.lower.push_str(text);
    scratch.lower.make_ascii_lowercase();
    let hits = keyword_hits(rules, &scratch.lower);
    scratch.cands.clear();
    candidates(text, unit.scan_from, &mut scratch.cands);
    let ctx = &rules.context;
    for c in &scratch.cands {
        let Some(rule_ids) = rules.shapes.get(&c.sig) else {
            continue;
        };
        // An amount, a count or a date right after the value.
        let after = text[c.end..].trim_start_matches(' ');
        if rules.suffixes.iter().any(|s| after.starts_with(s.as_str())) {
            continue;
        }
        let cell = cell_at(unit.cells, c.start);
        let field = cell.map(|cl| &unit.fields[cl.field]);
        let line_start = memchr::memrchr(b'\n', &b[..c.start]).map_or(0, |p| p + 1);
        let mut best: Option<Detection> = None;
        for &ri in rule_ids {
            let rule = &rules.rules[ri];
            let mut ev: Vec<String> = Vec::new();
            // Label: field name, enclosing marks, nearest keyword before the value.
            let mut label = LabelKind::None;
            if let Some(f) = field {
                if f.labels.contains(&ri) {
                    label = LabelKind::Strong(format!("column:{}", f.label_text.as_deref().unwrap_or(&f.name)));
                } else if let Some(neg) = &f.negative {
                    label = LabelKind::Negative(format!("negative:column:{neg}"));
                }
            }
            if matches!(label, LabelKind::None) {
                for e in &rule.enclosed {
                    let before = text[line_start..c.start].trim_end_matches(' ');
                    if before.ends_with(e.before.as_str()) && after.starts_with(e.after.as_str()) {
                        label = LabelKind::Strong(format!("label:{}…{}", e.before, e.after));
                    }
                }
            }
            if matches!(label, LabelKind::None) {
                label = nearest_label(
                    rules,
                    ri,
                    &hits,
                    text,
                    c.start,
                    line_start,
                    ctx.strong_window_chars,
                    ctx.weak_window_chars,
                );
            }
            if c.sig.starts_with("N1*") && !matches!(label, LabelKind::Strong(_)) {
                continue;
            }
            let mut score = rule.score.shape;
            let mut validated = false;
            let mut failed = false;
            let mut structure_failed = false;
            if let Some(v) = rule.check {
                let ok = v.check(&c.canonical);
                match (v.strength(), ok) {
                    (Strength::CheckDigit, true) => {
                        validated = true;
                        score += rule.score.checksum;
                        ev.push("checksum".into());
                    }
                    (Strength::CheckDigit, false) => {
                        failed = true;
                        ev.push("checksum_failed".into());
                    }
                    (Strength::Structure, true) => {
                        score += rule.score.checksum;
                        ev.push("prefix".into());
                    }
                    (Strength::Structure, false) => structure_failed = true,
                }
            }
            let mut cap: Option<f64> = None;
            let labelled = match &label {
                LabelKind::Strong(t) => {
                    score += rule.score.strong_label;
                    ev.push(t.clone());
                    true
                }
                LabelKind::Weak(t) => {
                    score += rule.score.weak_label;
                    ev.push(t.clone());
                    true
                }
                LabelKind::Negative(t) => {
                    ev.push(t.clone());
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
            if rule.placeholders.iter().any(|p| p == &c.canonical) || is_repeated(&c.canonical) {
                ev.push("placeholder".into());
                cap = Some(ctx.bands.low_cap);
            }
            let mut det = Detection {
                rule: ri,
                start: c.start,
                end: c.end,
                canonical: c.canonical.clone(),
                score: 0.0,
                confidence: Confidence::Low,
                validated,
                evidence: ev,
                field: cell.map(|cl| cl.field),
            };
            if rule.parts.is_some() {
                if !labelled || !health_parts(rules, unit, &hits, c, cell, &mut det) {
                    continue;
                }
                score += 0.1;
            }
            let score = cap.map_or(score, |k| score.min(k)).clamp(0.0, 1.0);
            det.score = (score * 1000.0).round() / 1000.0;
            det.confidence = band(rules, score);
            if best.as_ref().is_none_or(|b| det.score > b.score) {
                best = Some(det);
            }
        }
        if let Some(d) = best {
            out.push(d);
        }
    }
    if text.contains("<<") {
        mrz(rules, text, unit, out);
    }
}

fn band(rules: &RuleSet, score: f64) -> Confidence {
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

fn cell_at(cells: &[Cell], pos: usize) -> Option<&Cell> {
    let i = cells.partition_point(|c| c.start <= pos);
    (i > 0 && cells[i - 1].end >= pos).then(|| &cells[i - 1])
}

/// The label that speaks for rule `ri` at `pos`: the nearest keyword before the value that is a
/// label of this rule, a label of a rival rule for the same shape, or a negative word. Within
/// the strong window on the same line it is strong (or negative); further back, within the weak
/// window, a label of this rule is weak.
#[allow(clippy::too_many_arguments)]
fn nearest_label(
    rules: &RuleSet,
    ri: usize,
    hits: &[Hit],
    text: &str,
    pos: usize,
    line_start: usize,
    strong: usize,
    weak: usize,
) -> LabelKind {
    let b = text.as_bytes();
    let end = hits.partition_point(|h| h.end <= pos);
    let rivals = |kw: &crate::patterns::Keyword| {
        kw.labels
            .iter()
            .any(|&l| l != ri && rules.rules[l].shapes.iter().any(|s| rules.rules[ri].shapes.contains(s)))
    };
    for h in hits[..end].iter().rev() {
        let kw = &rules.keywords[h.kw];
        let is_label = kw.labels.contains(&ri);
        if !is_label && !kw.negative && !rivals(kw) {
            continue;
        }
        let dist = chars(&b[h.end..pos]);
        if dist > weak {
            break;
        }
        let same_line = h.start >= line_start;
        let original = || text[h.start..h.end].to_string();
        if same_line && dist <= strong {
            if is_label {
                return LabelKind::Strong(format!("label:{}", original()));
            }
            if kw.negative {
                return LabelKind::Negative(format!("negative:{}", original()));
            }
            // The nearest label names another kind of number.
            return LabelKind::None;
        }
        if is_label {
            return LabelKind::Weak(format!("near:{}", original()));
        }
        if rivals(kw) {
            return LabelKind::None;
        }
    }
    LabelKind::None
}

/// Finds the person's parts (記号, 番号, 枝番) of a health-insurance group in the record of an
/// insurer number; fills the canonical group and evidence. False when no part is there.
fn health_parts(
    rules: &RuleSet,
    unit: &Unit,
    hits: &[Hit],
    c: &Candidate,
    cell: Option<&Cell>,
    det: &mut Detection,
) -> bool {
    let text = unit.folded.text.as_str();
    let mut parts: [Option<String>; 3] = [None, None, None];
    let slot = |p: Part| match p {
        Part::Symbol => 0,
        Part::Number => 1,
        Part::Branch => 2,
    };
    if let Some(cl) = cell {
        // Structured: the other cells of the record whose field names a part.
        for other in unit.cells.iter().filter(|o| o.record == cl.record) {
            if let Some(p) = unit.fields[other.field].part {
                let v = text[other.start..other.end].trim().trim_matches('"');
                if !v.is_empty() && parts[slot(p)].is_none() {
                    parts[slot(p)] = Some(v.to_string());
                }
            }
        }
    }
    // Text: part labels after the insurer number, in the same paragraph, within the weak window.
    let limit = {
        let rest = &text[c.end..];
        let para = rest.find("\n\n").unwrap_or(rest.len());
        let mut lim = c.end + para;
        let mut n = 0;
        for (k, _) in rest.char_indices() {
            n += 1;
            if n > rules.context.weak_window_chars {
                lim = lim.min(c.end + k);
                break;
            }
        }
        lim
    };
    let first = hits.partition_point(|h| h.start < c.end);
    for h in &hits[first..] {
        if h.start >= limit {
            break;
        }
        let kw = &rules.keywords[h.kw];
        if !kw.labels.is_empty() && kw.part.is_none() {
            // Another insurer label: a new group starts.
            break;
        }
        let Some(p) = kw.part else { continue };
        if parts[slot(p)].is_some() {
            continue;
        }
        let rest = text[h.end..limit].trim_start_matches([' ', ':', '\t', '"', '=', '\n', '\r']);
        let v: String = match p {
            Part::Symbol => rest
                .chars()
                .take_while(|ch| !ch.is_whitespace() && !"、。,;()（）「」\"".contains(*ch))
                .take(20)
                .collect(),
            Part::Number | Part::Branch => rest.chars().take_while(|ch| ch.is_ascii_digit()).take(12).collect(),
        };
        if !v.is_empty() {
            parts[slot(p)] = Some(v);
        }
    }
    if parts[0].is_none() && parts[1].is_none() {
        return false;
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
    det.canonical = format!(
        "{}|{}|{}|{}",
        c.canonical,
        canon(&parts[0]),
        canon(&parts[1]),
        canon(&parts[2])
    );
    for (k, name) in ["part:記号", "part:番号", "part:枝番"].iter().enumerate() {
        if parts[k].is_some() {
            det.evidence.push((*name).to_string());
        }
    }
    true
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
                score: 0.95,
                confidence: Confidence::High,
                validated: true,
                evidence: vec![
                    "mrz".into(),
                    "checksum".into(),
                    format!("nationality:{}", nat.trim_end_matches('<')),
                ],
                field: cell_at(unit.cells, off).map(|c| c.field),
            });
        }
        line_start = line_end + 1;
    }
}

/// Detects in a plain string (no fields): for tests, examples and `rules --check`.
pub fn detect_text(rules: &RuleSet, text: &str) -> Vec<Detection> {
    let folded = Folded::new(text);
    let unit = Unit {
        folded: &folded,
        scan_from: 0,
        cells: &[],
        fields: &[],
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
        v.into_iter().map(|c| c.sig).collect()
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
