//! Sensitive categories (要配慮個人情報) and biometric-derived data (施行令1条1号): found by
//! what a record says about a person, not by the shape of one value.
//!
//! - Sensitive: a non-empty cell of a sensitive column (`病名`, `diagnosis`) is high when its record
//!   identifies a person and low otherwise; a sensitive keyword in text or in another cell is
//!   medium with a person cue (a name column, `社員番号`, `さん`, an identification code) in the
//!   same record or paragraph, low alone. False friends (`システム障害`) hide the keywords in them.
//! - Biometric: a value of a biometric column that is a feature vector of the modality's length,
//!   or a template (base64 or hex) with a standard record's magic or size; such a base64 template
//!   anywhere; genome files (FASTA, FASTQ, VCF with samples, SAM, consumer raw data) and STR
//!   profiles.

use crate::detect::{Cell, Detection, Unit};
use crate::patterns::{Confidence, Kind, RuleSet};

/// A hit of the topic automaton.
#[derive(Debug, Clone, Copy)]
pub struct TopicHit {
    pub start: usize,
    pub end: usize,
    pub kw: usize,
}

/// Topic keyword hits over lower-cased folded text; ASCII keywords only at a word start.
pub fn topic_hits(rules: &RuleSet, lower: &str) -> Vec<TopicHit> {
    let (mut kw, mut topics) = (Vec::new(), Vec::new());
    rules.kwscan.find_all(
        [&rules.automaton, &rules.topic_automaton],
        lower,
        [&mut kw, &mut topics],
    );
    topic_filter(rules, lower, &topics).collect()
}

/// The topic keywords among the raw hits of [`RuleSet::topic_automaton`].
pub fn topic_filter<'a>(
    rules: &'a RuleSet,
    lower: &'a str,
    raw: &'a [crate::kwscan::RawHit],
) -> impl Iterator<Item = TopicHit> + 'a {
    let b = lower.as_bytes();
    raw.iter()
        .filter(move |m| {
            let kw = &rules.topics[m.pattern];
            !kw.ascii || m.start == 0 || !b[m.start - 1].is_ascii_alphanumeric()
        })
        .filter(move |m| {
            // ASCII words end at a word end too (`race` is not `racetrack`).
            let kw = &rules.topics[m.pattern];
            !kw.ascii || m.end == b.len() || !b[m.end].is_ascii_alphabetic() || kw.text.ends_with(' ')
        })
        .map(|m| TopicHit {
            start: m.start,
            end: m.end,
            kw: m.pattern,
        })
}

/// The cells of `cl`'s record (contiguous in `cells`).
fn record_range(cells: &[Cell], at: usize) -> (usize, usize) {
    let rec = cells[at].record;
    let lo = cells[..at].iter().rposition(|o| o.record != rec).map_or(0, |k| k + 1);
    let hi = cells[at..]
        .iter()
        .position(|o| o.record != rec)
        .map_or(cells.len(), |k| at + k);
    (lo, hi)
}

fn cell_index(cells: &[Cell], pos: usize) -> Option<usize> {
    let i = cells.partition_point(|c| c.start <= pos);
    (i > 0 && cells[i - 1].end >= pos).then(|| i - 1)
}

fn cell_value<'a>(text: &'a str, c: &Cell) -> (usize, &'a str) {
    let raw = &text[c.start..c.end];
    let trimmed = raw.trim_start_matches(|ch: char| ch.is_whitespace() || ch == '"');
    let start = c.start + (raw.len() - trimmed.len());
    (
        start,
        trimmed.trim_end_matches(|ch: char| ch.is_whitespace() || ch == '"'),
    )
}

/// Whether the record of cell `at` names a person: a person column with a value.
fn record_has_person(unit: &Unit, at: usize) -> Option<String> {
    let text = unit.folded.text.as_str();
    let (lo, hi) = record_range(unit.cells, at);
    unit.cells[lo..hi].iter().find_map(|o| {
        let f = &unit.fields[o.field];
        (f.person && !cell_value(text, o).1.is_empty()).then(|| format!("person:column:{}", f.name))
    })
}

fn band(rules: &RuleSet, score: f64) -> Confidence {
    let b = &rules.context.bands;
    if score >= b.high {
        Confidence::High
    } else if score >= b.medium {
        Confidence::Medium
    } else {
        Confidence::Low
    }
}

#[allow(clippy::too_many_arguments)]
fn push(
    rules: &RuleSet,
    out: &mut Vec<Detection>,
    rule: usize,
    start: usize,
    end: usize,
    canonical: String,
    display: String,
    score: f64,
    evidence: Vec<String>,
    field: Option<usize>,
) {
    out.push(Detection {
        rule,
        start,
        end,
        canonical,
        score,
        confidence: band(rules, score),
        validated: false,
        evidence,
        field,
        display: Some(display),
        field_name: None,
    });
}

/// Finds sensitive and biometric data in `unit` (`lower` is its ASCII-lower-cased text).
pub fn detect_topics(rules: &RuleSet, unit: &Unit, lower: &str, hits: &[TopicHit], out: &mut Vec<Detection>) {
    let text = unit.folded.text.as_str();
    let codes: Vec<(usize, usize)> = out
        .iter()
        .filter(|d| rules.rules[d.rule].kind == Kind::Code && d.confidence >= Confidence::Medium)
        .map(|d| (d.start, d.end))
        .collect();
    sensitive_cells(rules, unit, out);
    biometric_cells(rules, unit, out);
    sensitive_text(rules, unit, hits, &codes, out);
    magic_in_text(rules, unit, out);
    if unit.scan_from == 0 {
        genome_files(rules, text, out);
    }
    str_profiles(rules, unit, lower, out);
}

fn sensitive_cells(rules: &RuleSet, unit: &Unit, out: &mut Vec<Detection>) {
    let text = unit.folded.text.as_str();
    let mut reported = std::collections::HashSet::new();
    for (at, c) in unit.cells.iter().enumerate() {
        if c.start < unit.scan_from {
            continue;
        }
        let f = &unit.fields[c.field];
        if f.sensitive.is_empty() {
            continue;
        }
        let (start, value) = cell_value(text, c);
        if value.is_empty() || rules.persons.empty_values.iter().any(|e| *e == value.to_lowercase()) {
            continue;
        }
        let person = record_has_person(unit, at);
        let t = &rules.context.topics;
        let score = if person.is_some() {
            t.column_with_person
        } else {
            t.column_alone
        };
        for &r in &f.sensitive {
            // One finding per record and category: the first sensitive cell speaks for it.
            if !reported.insert((c.record, r)) {
                continue;
            }
            let mut ev = vec![format!("column:{}", f.topic_text.as_deref().unwrap_or(&f.name))];
            ev.extend(person.clone());
            let display = format!("<{} chars>", value.chars().count());
            push(
                rules,
                out,
                r,
                start,
                start + value.len(),
                value.to_lowercase(),
                display,
                score,
                ev,
                Some(c.field),
            );
        }
    }
}

fn sensitive_text(rules: &RuleSet, unit: &Unit, hits: &[TopicHit], codes: &[(usize, usize)], out: &mut Vec<Detection>) {
    let text = unit.folded.text.as_str();
    let mut emitted: Vec<(usize, usize)> = Vec::new();
    for h in hits {
        let t = &rules.topics[h.kw];
        if h.start < unit.scan_from || t.exclude || t.rules.is_empty() {
            continue;
        }
        let at = cell_index(unit.cells, h.start);
        // In a table or a JSON document, text outside every cell is a header or a key: the
        // columns speak for themselves.
        if at.is_none() && unit.structured {
            continue;
        }
        // The scope: the record of a cell, or the paragraph around the keyword.
        let (lo, hi, cell_person) = match at {
            Some(i) => {
                let (a, b) = record_range(unit.cells, i);
                (unit.cells[a].start, unit.cells[b - 1].end, record_has_person(unit, i))
            }
            None => {
                // The weak window in characters, as bytes of Japanese text.
                let scope = rules.context.weak_window_chars * 3;
                let floor = crate::fold::floor_boundary(text, h.start.saturating_sub(scope));
                let ceil = crate::fold::floor_boundary(text, (h.end + scope).min(text.len()));
                (
                    crate::detect::blank_line_before(text, h.start, floor),
                    crate::detect::blank_line_after(text, h.end, ceil),
                    None,
                )
            }
        };
        let (a, z) = (
            hits.partition_point(|p| p.start < lo),
            hits.partition_point(|p| p.start < hi),
        );
        let person = cell_person
            .or_else(|| {
                hits[a..z]
                    .iter()
                    .filter(|p| p.end <= hi)
                    .find(|p| rules.topics[p.kw].person && !rules.topics[p.kw].exclude)
                    .map(|p| format!("person:{}", &text[p.start..p.end]))
            })
            .or_else(|| {
                codes
                    .iter()
                    .any(|&(s, e)| s >= lo && e <= hi)
                    .then(|| "person:identification_code".to_string())
            });
        for &r in &t.rules {
            if at.is_some_and(|i| unit.fields[unit.cells[i].field].sensitive.contains(&r)) {
                continue; // the column itself is reported
            }
            if emitted.contains(&(lo, r)) {
                continue;
            }
            emitted.push((lo, r));
            let word = text[h.start..h.end].to_string();
            let mut ev = vec![format!("keyword:{word}")];
            ev.extend(person.clone());
            let t = &rules.context.topics;
            let score = if person.is_some() {
                t.keyword_with_person
            } else {
                t.keyword_alone
            };
            push(
                rules,
                out,
                r,
                h.start,
                h.end,
                word.to_lowercase(),
                word,
                score,
                ev,
                at.map(|i| unit.cells[i].field),
            );
        }
    }
}

/// Decodes standard base64 (with or without padding); `None` on any other character.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        })
    };
    let b = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(b.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in b {
        acc = (acc << 6) | val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn base64_encode(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for ch in bytes.chunks(3) {
        let n =
            (u32::from(ch[0]) << 16) | (u32::from(*ch.get(1).unwrap_or(&0)) << 8) | u32::from(*ch.get(2).unwrap_or(&0));
        for k in 0..=ch.len() {
            out.push(char::from(T[((n >> (18 - 6 * k)) & 63) as usize]));
        }
    }
    out
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn printable_magic(m: &[u8]) -> String {
    m.iter()
        .filter(|c| c.is_ascii_graphic())
        .map(|&c| char::from(c))
        .collect()
}

/// The biometric rule whose magic starts `bytes`.
pub fn magic_rule(rules: &RuleSet, bytes: &[u8]) -> Option<(usize, String)> {
    rules.rules.iter().enumerate().find_map(|(i, r)| {
        (r.kind == Kind::Biometric)
            .then(|| {
                r.magic
                    .iter()
                    .find(|m| !m.is_empty() && bytes.starts_with(m.as_bytes()))
            })
            .flatten()
            .map(|m| (i, printable_magic(m.as_bytes())))
    })
}

/// Parses a feature vector: `[0.1, -0.2, ...]`, or numbers separated by commas, semicolons or
/// spaces. `None` unless every item is a number and there are at least `min`.
fn parse_vector(v: &str, min: usize) -> Option<usize> {
    let inner = v
        .trim()
        .trim_start_matches(['[', '(', '{'])
        .trim_end_matches([']', ')', '}']);
    let mut n = 0;
    for item in inner
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        item.parse::<f64>().ok()?;
        n += 1;
    }
    (n >= min).then_some(n)
}

fn is_sequence(v: &str, min: usize) -> bool {
    v.len() >= min
        && v.bytes()
            .all(|c| matches!(c.to_ascii_uppercase(), b'A' | b'C' | b'G' | b'T' | b'N'))
}

fn is_genotype(v: &str) -> bool {
    let b = v.as_bytes();
    (b.len() == 2
        && b.iter()
            .all(|c| matches!(c, b'A' | b'C' | b'G' | b'T' | b'D' | b'I' | b'-')))
        || (b.len() == 3 && b[0].is_ascii_digit() && matches!(b[1], b'/' | b'|') && b[2].is_ascii_digit())
}

fn biometric_cells(rules: &RuleSet, unit: &Unit, out: &mut Vec<Detection>) {
    let t = &rules.context.topics;
    let text = unit.folded.text.as_str();
    let cells = unit.cells;
    let mut i = 0;
    while i < cells.len() {
        let c = &cells[i];
        let f = &unit.fields[c.field];
        if f.biometric.is_empty() || c.start < unit.scan_from {
            i += 1;
            continue;
        }
        // A JSON array of numbers arrives as one cell per number: take the run of cells of the
        // same array (`$.face_embedding[0]`, `[1]`, …).
        let parent = |name: &str| name.rsplit_once('[').map(|(p, _)| p.to_string());
        let group_key = parent(&f.name);
        let mut j = i + 1;
        if group_key.is_some() {
            while j < cells.len()
                && cells[j].record == c.record
                && parent(&unit.fields[cells[j].field].name) == group_key
            {
                j += 1;
            }
        }
        let (start, value) = cell_value(text, c);
        let end = cells[j - 1].end;
        let dims = if j - i > 1 {
            let numbers = cells[i..j]
                .iter()
                .filter(|o| cell_value(text, o).1.parse::<f64>().is_ok())
                .count();
            (numbers == j - i).then_some(numbers)
        } else {
            parse_vector(value, t.min_vector_len)
        };
        let decoded = if dims.is_none() && value.len() >= 16 {
            hex_decode(value).or_else(|| base64_decode(value))
        } else {
            None
        };
        let column = format!("column:{}", f.topic_text.as_deref().unwrap_or(&f.name));
        let canonical = text[start..end].to_string();
        for &r in &f.biometric {
            let rule = &rules.rules[r];
            let verdict: Option<(f64, String, String)> = if let Some(n) = dims {
                if rule.dims.contains(&n) {
                    Some((t.vector_of_modality, format!("vector:{n}"), format!("<float[{n}]>")))
                } else if n >= t.min_other_vector_len && !rule.dims.is_empty() {
                    Some((t.vector_other_length, format!("vector:{n}"), format!("<float[{n}]>")))
                } else {
                    None
                }
            } else if rule.id == "biometric.dna" && (is_sequence(value, t.min_sequence_len) || is_genotype(value)) {
                Some((t.dna_value, "sequence".into(), format!("<{} bases>", value.len())))
            } else if let Some(bytes) = &decoded {
                if let Some(m) = rule
                    .magic
                    .iter()
                    .find(|m| !m.is_empty() && bytes.starts_with(m.as_bytes()))
                {
                    let m = printable_magic(m.as_bytes());
                    Some((
                        t.magic_record,
                        format!("magic:{m}"),
                        format!("<{m} record, {} bytes>", bytes.len()),
                    ))
                } else if rule.template_bytes.contains(&bytes.len()) {
                    Some((
                        t.template_size,
                        format!("template:{} bytes", bytes.len()),
                        format!("<template, {} bytes>", bytes.len()),
                    ))
                } else {
                    None
                }
            } else {
                None
            };
            if let Some((score, what, display)) = verdict {
                push(
                    rules,
                    out,
                    r,
                    start,
                    end,
                    canonical.clone(),
                    display,
                    score,
                    vec![column.clone(), what],
                    Some(c.field),
                );
                if j - i > 1
                    && let Some(d) = out.last_mut()
                {
                    // The whole array is the value: name it, not its first item.
                    d.field_name = group_key.clone();
                }
                break;
            }
        }
        i = j;
    }
}

/// Base64 (or hex) templates with a standard record's magic, wherever they are.
/// The base64 prefixes of every biometric magic of at least 3 bytes, in one automaton (cached
/// per rule set).
fn magic_prefixes(rules: &RuleSet) -> &aho_corasick::AhoCorasick {
    rules.magic_prefixes.get_or_init(|| {
        let prefixes: Vec<String> = rules
            .rules
            .iter()
            .filter(|r| r.kind == Kind::Biometric)
            .flat_map(|r| r.magic.iter())
            .map(|m| m.as_bytes())
            .filter(|mb| mb.len() >= 3)
            .map(|mb| base64_encode(mb)[..mb.len() * 8 / 6].to_string())
            .collect();
        aho_corasick::AhoCorasickBuilder::new()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(&prefixes)
            .expect("base64 prefixes are plain literals")
    })
}

fn magic_in_text(rules: &RuleSet, unit: &Unit, out: &mut Vec<Detection>) {
    let t = &rules.context.topics;
    let text = unit.folded.text.as_str();
    let b = text.as_bytes();
    let is_b64 = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'-' | b'_');
    // One pass says whether any magic's base64 prefix occurs at all (it seldom does).
    if !magic_prefixes(rules).is_match(&b[unit.scan_from..]) {
        return;
    }
    for (ri, r) in rules.rules.iter().enumerate() {
        if r.kind != Kind::Biometric {
            continue;
        }
        for m in &r.magic {
            let mb = m.as_bytes();
            if mb.len() < 3 {
                continue;
            }
            let enc = base64_encode(mb);
            let prefix = &enc[..mb.len() * 8 / 6];
            for at in memchr::memmem::find_iter(&b[unit.scan_from..], prefix.as_bytes()) {
                let s = unit.scan_from + at;
                if s > 0 && is_b64(b[s - 1]) {
                    continue;
                }
                let e = s + b[s..].iter().take_while(|&&c| is_b64(c)).count();
                // Already reported as the value of a biometric column.
                if out
                    .iter()
                    .any(|d| d.start <= s && d.end >= e && rules.rules[d.rule].kind == Kind::Biometric)
                {
                    continue;
                }
                let Some(bytes) = base64_decode(&text[s..e]) else {
                    continue;
                };
                if bytes.starts_with(mb) && bytes.len() >= 8 {
                    let name = printable_magic(mb);
                    let field = cell_index(unit.cells, s).map(|i| unit.cells[i].field);
                    let display = format!("<{name} record, {} bytes>", bytes.len());
                    push(
                        rules,
                        out,
                        ri,
                        s,
                        e,
                        text[s..e].to_string(),
                        display,
                        t.magic_record,
                        vec![format!("magic:{name}"), "base64".into()],
                        field,
                    );
                }
            }
        }
    }
}

fn human_or_not(rules: &RuleSet, dna: usize, header: &str) -> Option<f64> {
    let lower = header.to_lowercase();
    let r = &rules.rules[dna];
    if r.exclude.iter().any(|x| lower.contains(&x.to_lowercase())) {
        return None;
    }
    let t = &rules.context.topics;
    Some(if r.keywords.iter().any(|k| lower.contains(&k.to_lowercase())) {
        t.genome_human
    } else {
        t.genome_unmarked
    })
}

/// Genome data files, recognised at the start of a file.
fn genome_files(rules: &RuleSet, text: &str, out: &mut Vec<Detection>) {
    let t = &rules.context.topics;
    let Some(dna) = rules.index_of("biometric.dna") else {
        return;
    };
    let head = &text[..crate::fold::floor_boundary(text, text.len().min(64 * 1024))];
    let lines: Vec<&str> = head.lines().take(2000).collect();
    let first = lines.iter().position(|l| !l.trim().is_empty());
    let Some(first) = first else { return };
    let offset_of = |idx: usize| -> usize { lines[idx].as_ptr() as usize - text.as_ptr() as usize };
    let mut found: Option<(usize, f64, String, String)> = None;
    let l0 = lines[first];
    if l0.starts_with("##fileformat=VCF") {
        if let Some(k) = lines.iter().position(|l| l.starts_with("#CHROM")) {
            let cols: Vec<&str> = lines[k].split('\t').collect();
            let samples = cols
                .iter()
                .position(|c| *c == "FORMAT")
                .map_or(0, |p| cols.len() - p - 1);
            let meta = lines[..k].join("\n");
            // Genotypes of samples are personal unless the header names another organism.
            if samples > 0 && human_or_not(rules, dna, &meta).is_some() {
                found = Some((
                    k,
                    t.genome_human,
                    format!("vcf:samples:{samples}"),
                    format!("<VCF, {samples} samples>"),
                ));
            }
        }
    } else if l0.starts_with('>')
        && lines
            .get(first + 1)
            .is_some_and(|l| is_sequence(l.trim(), t.min_fasta_line))
    {
        if let Some(score) = human_or_not(rules, dna, l0) {
            found = Some((first, score, "fasta".into(), "<FASTA sequence>".into()));
        }
    } else if l0.starts_with('@')
        && lines.get(first + 2).is_some_and(|l| l.starts_with('+'))
        && lines
            .get(first + 1)
            .is_some_and(|l| is_sequence(l.trim(), t.min_sequence_len))
        && lines.get(first + 3).map(|l| l.trim().len()) == lines.get(first + 1).map(|l| l.trim().len())
    {
        if let Some(score) = human_or_not(rules, dna, l0) {
            found = Some((first, score, "fastq".into(), "<FASTQ reads>".into()));
        }
    } else if l0.starts_with("@HD\t") || l0.starts_with("@SQ\t") {
        let header: String = lines
            .iter()
            .take_while(|l| l.starts_with('@'))
            .copied()
            .collect::<Vec<_>>()
            .join("\n");
        if let Some(score) = human_or_not(rules, dna, &header) {
            found = Some((first, score, "sam".into(), "<SAM alignments>".into()));
        }
    } else if let Some(k) = lines.iter().take(40).position(|l| {
        let l = l.trim_start_matches(['#', ' ']).to_ascii_lowercase();
        l.starts_with("rsid\tchromosome\tposition\t")
    }) {
        found = Some((k, t.genome_human, "snp_raw_data".into(), "<genotype raw data>".into()));
    }
    if let Some((idx, score, what, display)) = found {
        let s = offset_of(idx);
        let e = s + lines[idx].len();
        let canonical = format!("{what}:{}", lines.len());
        push(rules, out, dna, s, e, canonical, display, score, vec![what], None);
    }
}

/// STR profiles: a record (a CSV row, a JSON object, a line of text) naming at least nine
/// distinct STR loci with allele values.
fn str_profiles(rules: &RuleSet, unit: &Unit, lower: &str, out: &mut Vec<Detection>) {
    let t = &rules.context.topics;
    let Some(dna) = rules.index_of("biometric.dna") else {
        return;
    };
    let loci = &rules.loci;
    if loci.is_empty() {
        return;
    }
    let text = unit.folded.text.as_str();
    if !unit.cells.is_empty() {
        // Rows whose columns are loci: decide per field once, then count per record.
        let locus_field: Vec<bool> = unit
            .fields
            .iter()
            .map(|f| {
                let n = f.name.to_ascii_lowercase();
                loci.iter().any(|l| n == *l || n.ends_with(&format!(".{l}")))
            })
            .collect();
        if !locus_field.iter().any(|&x| x) {
            return;
        }
        let mut i = 0;
        while i < unit.cells.len() {
            let (lo, hi) = record_range(unit.cells, i);
            let named: Vec<&Cell> = unit.cells[lo..hi]
                .iter()
                .filter(|c| locus_field[c.field] && cell_value(text, c).1.bytes().any(|b| b.is_ascii_digit()))
                .collect();
            if named.len() >= t.str_min_loci && unit.cells[lo].start >= unit.scan_from {
                let (s, e) = (unit.cells[lo].start, unit.cells[hi - 1].end);
                let canonical = named
                    .iter()
                    .map(|c| cell_value(text, c).1)
                    .collect::<Vec<_>>()
                    .join("|");
                let display = format!("<STR profile, {} loci>", named.len());
                push(
                    rules,
                    out,
                    dna,
                    s,
                    e,
                    canonical,
                    display,
                    t.str_profile,
                    vec![format!("str_loci:{}", named.len())],
                    None,
                );
            }
            i = hi;
        }
        return;
    }
    // Text: lines naming nine or more distinct loci, each followed by a number.
    let b = lower.as_bytes();
    let mut line_start = unit.scan_from;
    let mut seen: Vec<usize> = Vec::new();
    let flush = |line_start: usize, line_end: usize, seen: &mut Vec<usize>, out: &mut Vec<Detection>| {
        seen.sort_unstable();
        seen.dedup();
        if seen.len() >= t.str_min_loci {
            let count = seen.len();
            let line = text[line_start..line_end].trim_end();
            let display = format!("<STR profile, {count} loci>");
            push(
                rules,
                out,
                dna,
                line_start,
                line_start + line.len(),
                line.trim().to_string(),
                display,
                t.str_profile,
                vec![format!("str_loci:{count}")],
                None,
            );
        }
        seen.clear();
    };
    for m in rules.loci_automaton.find_iter(&lower[unit.scan_from..]) {
        let (s, e) = (unit.scan_from + m.start(), unit.scan_from + m.end());
        if s > 0 && b[s - 1].is_ascii_alphanumeric() {
            continue;
        }
        if let Some(nl) = memchr::memrchr(b'\n', &b[line_start..s]) {
            flush(line_start, line_start + nl, &mut seen, out);
            line_start += nl + 1;
        }
        let after = lower[e..].trim_start_matches([' ', ':', '=', '\t', ',']);
        if after.starts_with(|c: char| c.is_ascii_digit()) {
            seen.push(m.pattern().as_usize());
        }
    }
    let end = memchr::memchr(b'\n', &b[line_start..]).map_or(b.len(), |p| line_start + p);
    flush(line_start, end, &mut seen, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        let data = b"FMR\0 20\0\x00\x00\x01\x02";
        assert_eq!(base64_decode(&base64_encode(data)).unwrap(), data);
        assert_eq!(base64_encode(b"FMR\0"), "Rk1SAA");
        assert_eq!(parse_vector("[0.1, -0.2, 3e-2]", 16), None);
        assert_eq!(
            parse_vector(&format!("[{}]", vec!["0.5"; 128].join(",")), 16),
            Some(128)
        );
    }
}
