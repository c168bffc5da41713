//! Custom rules from `appiscan.toml` (`[[rules]]`): a regular expression for the value, context
//! labels, a validator by name, confidences and a legal basis, compiled next to the built-in rules
//! and reported through the same path (masking, fingerprints, fields, evidence, bands). Also
//! `appiscan rules --check`, which runs every rule's examples, built-in and custom.
//!
//! Matching: one [`RegexSet`] pass over a unit's folded text says which custom rules match at
//! all (with a single rule its own regex is the pass); only those rules then look for their
//! spans. Labels are found by one Aho-Corasick pass of their own, so custom rules never change
//! what the built-in automaton sees. Without custom rules [`RuleSet::custom`] is `None` and
//! detection does nothing extra.

use crate::detect::{self, Detection, FieldInfo, Hit, Unit};
use crate::fold::Folded;
use crate::patterns::{Confidence, Kind, NegativeExample, PositiveExample, Rule, RuleSet};
use crate::validate::{Strength, Validator};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::Deserialize;
use std::io::Write;

/// The validators a rule may name (`validator = "…"`), all from [`crate::validate`].
pub const VALIDATORS: &[&str] = &[
    "my_number",
    "drivers_license",
    "resident_code",
    "insurer_number",
    "passport_prefix",
];

/// The categories of SPEC §4.
pub const CATEGORIES: &[&str] = &["identification_code", "biometric", "sensitive", "personal_info"];

/// Id prefixes kept for built-in rules (`pii.*` too: SPEC §5 reserves it for built-in additions).
const RESERVED: &[&str] = &["jp.", "sensitive.", "biometric.", "pii."];

/// Compiled size limit of one custom regex (and, times the rule count, of the set).
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Longest regex source accepted.
const MAX_PATTERN_LEN: usize = 4096;

/// One `[[rules]]` table as written in `appiscan.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Def {
    id: String,
    #[serde(default, alias = "name-ja")]
    name_ja: Option<String>,
    #[serde(default, alias = "name-en")]
    name_en: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default, alias = "legal-basis")]
    legal_basis: Option<String>,
    regex: String,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    validator: Option<String>,
    confidence: Confidence,
    #[serde(default, alias = "confidence-without-label")]
    confidence_without_label: Option<String>,
    #[serde(default)]
    positive: Vec<PositiveExample>,
    #[serde(default)]
    negative: Vec<NegativeExample>,
}

/// One custom rule, compiled.
#[derive(Debug)]
struct Compiled {
    regex: Regex,
    validator: Option<Validator>,
    /// A match with a label close before it on its line, in its cell or as its column name.
    labelled: Confidence,
    /// A match with no label at all; `None`: not reported.
    unlabelled: Option<Confidence>,
    /// Labels folded and lower-cased: a previous cell that is exactly one of them labels a value.
    labels_lower: Vec<String>,
    /// Labels as column words (see [`crate::patterns::normalize_name`]), with whether they are ASCII.
    labels_norm: Vec<(String, bool)>,
}

/// One label of the custom label automaton.
#[derive(Debug)]
struct LabelWord {
    /// Custom rules (indexes into [`CustomSet::rules`]) this word labels.
    rules: Vec<usize>,
    /// Pure ASCII labels start at a word start only (not after an ASCII letter).
    ascii: bool,
}

/// The custom rules of a [`RuleSet`], compiled for matching.
#[derive(Debug)]
pub struct CustomSet {
    /// Index in [`RuleSet::rules`] of the first custom rule; the others follow in order.
    first: usize,
    rules: Vec<Compiled>,
    /// With two rules or more: which of them match a unit at all.
    set: Option<RegexSet>,
    /// Over lower-cased folded text; pattern id = index into `words`. `None` without labels.
    labels: Option<AhoCorasick>,
    words: Vec<LabelWord>,
}

/// Compiles the built-in rules plus the custom ones given as TOML tables (the `[[rules]]` of
/// `appiscan.toml`). Without custom rules this is the shared built-in set. With them the set is
/// compiled once and leaked: it lives as long as the process. Errors name the rule.
pub fn rule_set(custom: &[toml::Table]) -> anyhow::Result<&'static RuleSet> {
    if custom.is_empty() {
        return Ok(RuleSet::builtin());
    }
    Ok(Box::leak(Box::new(compile(custom)?)))
}

/// The rules of a scan, compiled when first used: a `--state` run over an unchanged tree needs
/// only their version (which goes into the settings hash), never the automata. Derefs to the
/// [`RuleSet`], compiling the built-in rules at the first use. Custom rules are compiled at
/// once by [`rules`], so that a bad one stops the run before it starts.
pub struct Rules {
    /// [`RuleSet::version`], known without compiling.
    pub version: String,
    set: std::sync::OnceLock<&'static RuleSet>,
}

impl Rules {
    /// The built-in rules, not compiled yet.
    pub fn builtin() -> &'static Rules {
        static RULES: std::sync::OnceLock<Rules> = std::sync::OnceLock::new();
        RULES.get_or_init(|| Rules {
            version: builtin_version(),
            set: std::sync::OnceLock::new(),
        })
    }

    /// Rules already compiled.
    pub fn compiled(set: &'static RuleSet) -> &'static Rules {
        Box::leak(Box::new(Rules {
            version: set.version.clone(),
            set: std::sync::OnceLock::from(set),
        }))
    }
}

impl std::ops::Deref for Rules {
    type Target = RuleSet;
    fn deref(&self) -> &RuleSet {
        self.set.get_or_init(RuleSet::builtin)
    }
}

/// The rules of a scan: the built-in ones, compiled when first needed, or with custom rules
/// (`[[rules]]`) everything compiled now (errors name the rule).
pub fn rules(custom: &[toml::Table]) -> anyhow::Result<&'static Rules> {
    if custom.is_empty() {
        return Ok(Rules::builtin());
    }
    Ok(Rules::compiled(rule_set(custom)?))
}

/// [`RuleSet::version`] of the built-in rules from their sources alone, as
/// [`RuleSet::from_sources`] hashes them: every rule file's text, then the context file's.
fn builtin_version() -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for (_, text) in crate::patterns::BUILTIN {
        hasher.update(text.as_bytes());
    }
    hasher.update(crate::patterns::CONTEXT.as_bytes());
    hex::encode(&hasher.finalize()[..8])
}

/// Compiles the built-in rules plus `custom` into a new [`RuleSet`] whose version also covers the
/// custom definitions.
pub fn compile(custom: &[toml::Table]) -> anyhow::Result<RuleSet> {
    let mut set = RuleSet::from_sources(crate::patterns::BUILTIN, crate::patterns::CONTEXT)?;
    if custom.is_empty() {
        return Ok(set);
    }
    let first = set.rules.len();
    let mut compiled = Vec::with_capacity(custom.len());
    let mut sources = Vec::with_capacity(custom.len());
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(set.version.as_bytes());
    for (n, table) in custom.iter().enumerate() {
        let name = match table.get("id").and_then(|v| v.as_str()) {
            Some(id) => format!("custom rule {id}"),
            None => format!("custom rule #{} of [[rules]]", n + 1),
        };
        // The definition as data (keys sorted, comments and layout gone) goes into the version.
        let canonical = toml::to_string(table).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        hasher.update((canonical.len() as u64).to_le_bytes());
        hasher.update(canonical.as_bytes());
        let def: Def = table
            .clone()
            .try_into()
            .map_err(|e| anyhow::anyhow!("{name}: {}", e.to_string().trim_end()))?;
        let (rule, c) = build(&set, &def).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        sources.push(def.regex);
        set.rules.push(rule);
        compiled.push(c);
    }
    // Which rule labels which word: one automaton over every custom label.
    let mut words: Vec<(String, LabelWord)> = Vec::new();
    for (k, r) in set.rules[first..].iter().enumerate() {
        for l in &r.labels {
            let text = Folded::new(l).text.to_ascii_lowercase();
            match words.iter_mut().find(|(t, _)| *t == text) {
                Some((_, w)) if !w.rules.contains(&k) => w.rules.push(k),
                Some(_) => {}
                None => words.push((
                    text.clone(),
                    LabelWord {
                        rules: vec![k],
                        ascii: text.is_ascii(),
                    },
                )),
            }
        }
    }
    // Longer labels first: with leftmost-first matching the longest label at a position wins.
    words.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    let labels = if words.is_empty() {
        None
    } else {
        Some(
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .build(words.iter().map(|(t, _)| t.as_bytes()))?,
        )
    };
    let regex_set = if compiled.len() > 1 {
        Some(
            RegexSetBuilder::new(&sources)
                .multi_line(true)
                .crlf(true)
                .size_limit(REGEX_SIZE_LIMIT.saturating_mul(compiled.len()))
                .build()
                .map_err(|e| anyhow::anyhow!("custom rules: the combined regex set: {e}"))?,
        )
    } else {
        None
    };
    let n = set.rules.len();
    for row in &mut set.shares_shape {
        row.resize(n, false);
    }
    set.shares_shape.resize(n, vec![false; n]);
    set.version = hex::encode(&hasher.finalize()[..8]);
    set.custom = Some(Box::new(CustomSet {
        first,
        rules: compiled,
        set: regex_set,
        labels,
        words: words.into_iter().map(|(_, w)| w).collect(),
    }));
    Ok(set)
}

/// Checks one definition and builds its [`Rule`] (for listings, findings and examples) and its
/// matcher.
fn build(set: &RuleSet, def: &Def) -> anyhow::Result<(Rule, Compiled)> {
    let id = def.id.as_str();
    let well_formed = id.split('.').count() >= 2
        && id.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        });
    anyhow::ensure!(
        well_formed,
        "id must be dotted lower-case ASCII words (`custom.employee_id`, `acme.member_no`)"
    );
    if let Some(p) = RESERVED.iter().find(|p| id.starts_with(**p)) {
        anyhow::bail!(
            "the {p}* namespace is kept for built-in rules; use e.g. custom.{}",
            &id[p.len()..]
        );
    }
    anyhow::ensure!(
        set.index_of(id).is_none(),
        "id {id} is already taken (a built-in rule or an earlier custom rule)"
    );
    let category = def.category.clone().unwrap_or_else(|| "personal_info".into());
    anyhow::ensure!(
        CATEGORIES.contains(&category.as_str()),
        "category {category:?} is not one of {}",
        CATEGORIES.join(", ")
    );
    let validator =
        match &def.validator {
            Some(v) => Some(Validator::by_name(v).ok_or_else(|| {
                anyhow::anyhow!("unknown validator {v:?}; known validators: {}", VALIDATORS.join(", "))
            })?),
            None => None,
        };
    let regex = compile_regex(&def.regex)?;
    for l in &def.labels {
        anyhow::ensure!(!l.trim().is_empty(), "an empty label");
    }
    let unlabelled =
        match def.confidence_without_label.as_deref() {
            None if def.labels.is_empty() => Some(def.confidence),
            None => Some(one_band_lower(def.confidence)),
            Some("none") => None,
            Some(s) => Some(Confidence::parse(s).ok_or_else(|| {
                anyhow::anyhow!("confidence_without_label must be none, low, medium or high, not {s:?}")
            })?),
        };
    anyhow::ensure!(
        unlabelled.is_none_or(|u| u <= def.confidence),
        "confidence_without_label is above confidence"
    );
    for ex in &def.negative {
        anyhow::ensure!(
            matches!(ex.max.as_str(), "none" | "low" | "medium"),
            "negative example max must be none, low or medium, not {:?}",
            ex.max
        );
    }
    let name_en = def
        .name_en
        .clone()
        .or_else(|| def.name_ja.clone())
        .unwrap_or_else(|| def.id.clone());
    let name_ja = def.name_ja.clone().unwrap_or_else(|| name_en.clone());
    let rule = Rule {
        id: def.id.clone(),
        name_ja,
        name_en,
        category,
        legal_basis: def.legal_basis.clone().unwrap_or_else(|| "法2条1項".into()),
        kind: Kind::Custom,
        validator: def.validator.clone(),
        check: validator,
        labels: def.labels.clone(),
        positive: def.positive.clone(),
        negative: def.negative.clone(),
        ..Default::default()
    };
    let compiled = Compiled {
        regex,
        validator,
        labelled: def.confidence,
        unlabelled,
        labels_lower: def
            .labels
            .iter()
            .map(|l| Folded::new(l).text.to_ascii_lowercase())
            .collect(),
        labels_norm: def
            .labels
            .iter()
            .map(|l| crate::patterns::normalize_name(l))
            .filter(|l| !l.is_empty())
            .map(|l| {
                let ascii = l.is_ascii();
                (l, ascii)
            })
            .collect(),
    };
    Ok((rule, compiled))
}

/// Compiles a value regex for matching over folded text: byte-oriented, `^`/`$` at line ends,
/// bounded in size. Rejects Unicode word boundaries and regexes that can match nothing or the
/// empty string.
fn compile_regex(pattern: &str) -> anyhow::Result<Regex> {
    anyhow::ensure!(
        pattern.len() <= MAX_PATTERN_LEN,
        "regex is longer than {MAX_PATTERN_LEN} bytes"
    );
    let regex = RegexBuilder::new(pattern)
        .multi_line(true)
        .crlf(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| anyhow::anyhow!("regex: {e}"))?;
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .multi_line(true)
        .crlf(true)
        .build()
        .parse(pattern)
        .map_err(|e| anyhow::anyhow!("regex: {e}"))?;
    let props = hir.properties();
    anyhow::ensure!(
        !props.look_set().contains_word_unicode(),
        "regex uses a Unicode word boundary (\\b, \\B, \\b{{start}}, \\<…), which counts Japanese \
         letters as word characters and is slow; write (?-u:\\b) for a boundary between ASCII \
         letters or digits and anything else"
    );
    match props.minimum_len() {
        Some(0) => anyhow::bail!("regex can match the empty string"),
        None => anyhow::bail!("regex can never match"),
        Some(_) => {}
    }
    Ok(regex)
}

fn one_band_lower(c: Confidence) -> Confidence {
    match c {
        Confidence::High => Confidence::Medium,
        Confidence::Medium | Confidence::Low => Confidence::Low,
    }
}

/// The score given to a custom finding of a band: the middle of the band (`high` 0.9, `medium`
/// 0.65 with the default bands), and the capped score of built-in rules for `low` (0.45).
fn band_score(set: &RuleSet, c: Confidence) -> f64 {
    let b = &set.context.bands;
    let s = match c {
        Confidence::High => (b.high + 1.0) / 2.0,
        Confidence::Medium => (b.medium + b.high) / 2.0,
        Confidence::Low => b.low_cap.min(b.medium - 0.01),
    };
    (s * 1000.0).round() / 1000.0
}

/// The canonical value of a custom match (over folded text): spaces, `-`, and `.` between
/// digits removed (full-width forms, hyphen look-alikes and `ー`/`・` between digits are already
/// folded), ASCII letters upper-cased.
pub fn canonical(matched: &str) -> String {
    let chars: Vec<char> = matched.chars().collect();
    let mut out = String::with_capacity(matched.len());
    for (i, &c) in chars.iter().enumerate() {
        let dot_in_number =
            c == '.' && i > 0 && chars[i - 1].is_ascii_digit() && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if c.is_whitespace() || c == '-' || dot_in_number {
            continue;
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Masks the original text of a custom match: every letter or digit of any script but the last
/// four becomes `*` (a custom value may be a name in kanji); separators and symbols stay.
pub fn mask(text: &str) -> String {
    let total = text.chars().filter(|c| c.is_alphanumeric()).count();
    let keep_from = total.saturating_sub(4);
    let mut seen = 0;
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                seen += 1;
                if seen <= keep_from {
                    return '*';
                }
            }
            c
        })
        .collect()
}

/// What labels a custom match, before any text is allocated.
#[derive(Clone, Copy)]
enum Label {
    /// The column or key name (index into the unit's fields).
    Column(usize),
    /// A label close before the value on its line, or the previous cell of the record.
    Strong(usize, usize),
    /// A label further back (within the weak window).
    Weak(usize, usize),
    /// A negative word (byte span), or a column that names something else.
    Negative(usize, usize),
    NegativeColumn(usize),
    None,
}

impl CustomSet {
    /// Notes which custom rules a field name labels: the first key (the field's own name, then its
    /// parents) that holds a label decides. A Japanese label matches inside the name, an ASCII
    /// one at a word start (`employee_id`, `EmployeeId`, `user.employee_id`).
    pub(crate) fn classify_field(&self, keys: &[&str], f: &mut FieldInfo) {
        for key in keys {
            let norm = crate::patterns::normalize_name(key);
            for (k, r) in self.rules.iter().enumerate() {
                let named = r.labels_norm.iter().any(|(l, ascii)| {
                    if *ascii {
                        detect::word_start_contains(key, l)
                    } else {
                        norm.contains(l.as_str())
                    }
                });
                if named {
                    f.custom.push(self.first + k);
                }
            }
            if !f.custom.is_empty() {
                f.custom_text = Some(crate::report::redact(key));
                return;
            }
        }
    }

    /// Finds the custom rules' values in `unit`. `lower` is the unit's folded text lower-cased and
    /// `hits` the built-in keyword hits over it (negative words come from there).
    pub(crate) fn detect(&self, set: &RuleSet, unit: &Unit, lower: &str, hits: &[Hit], out: &mut Vec<Detection>) {
        let text = unit.folded.text.as_str();
        let b = text.as_bytes();
        let matching: Vec<usize> = match &self.set {
            Some(s) => s.matches(b).into_iter().collect(),
            None => vec![0],
        };
        if matching.is_empty() {
            return;
        }
        let mut label_hits: Option<Vec<Hit>> = None;
        for k in matching {
            let rule = &self.rules[k];
            for m in rule.regex.find_iter(b) {
                let (start, end) = (m.start(), m.end());
                // Before `scan_from` is the previous piece's: it reported what starts there.
                if start < unit.scan_from || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
                    continue;
                }
                let cell = detect::cell_at(unit.cells, start);
                // In a table or a JSON document, text outside every cell is a header or a key.
                if cell.is_none() && unit.structured {
                    continue;
                }
                let canonical = canonical(&text[start..end]);
                if canonical.is_empty() {
                    continue;
                }
                let mut evidence = vec!["regex".to_string()];
                let mut validated = false;
                if let Some(v) = rule.validator {
                    if !v.check(&canonical) {
                        continue;
                    }
                    match v.strength() {
                        Strength::CheckDigit => {
                            validated = true;
                            evidence.push("checksum".into());
                        }
                        Strength::Structure => evidence.push("prefix".into()),
                    }
                }
                let lh = label_hits.get_or_insert_with(|| self.label_hits(lower));
                let label = self.label(set, k, unit, lh, hits, start, cell);
                let confidence = match label {
                    Label::Column(_) | Label::Strong(..) => Some(rule.labelled),
                    Label::Weak(..) => Some(
                        rule.unlabelled
                            .map_or(one_band_lower(rule.labelled), |u| u.max(one_band_lower(rule.labelled))),
                    ),
                    Label::Negative(..) | Label::NegativeColumn(_) => rule.unlabelled.map(|_| Confidence::Low),
                    Label::None => rule.unlabelled,
                };
                let Some(confidence) = confidence else { continue };
                match label {
                    Label::Column(f) => {
                        let fi = &unit.fields[f];
                        evidence.push(format!("column:{}", fi.custom_text.as_deref().unwrap_or(&fi.name)));
                    }
                    Label::Strong(s, e) => evidence.push(format!("label:{}", &text[s..e])),
                    Label::Weak(s, e) => evidence.push(format!("near:{}", &text[s..e])),
                    Label::Negative(s, e) => evidence.push(format!("negative:{}", &text[s..e])),
                    Label::NegativeColumn(f) => {
                        evidence.push(format!("column:{}", unit.fields[f].negative.as_deref().unwrap_or("")))
                    }
                    Label::None => {}
                }
                out.push(Detection {
                    rule: self.first + k,
                    start,
                    end,
                    canonical,
                    score: band_score(set, confidence),
                    confidence,
                    validated,
                    evidence,
                    field: cell.map(|cl| cl.field),
                    display: None,
                    field_name: None,
                });
            }
        }
    }

    /// Custom label hits over the lower-cased folded text, ASCII labels only at a word start.
    fn label_hits(&self, lower: &str) -> Vec<Hit> {
        let Some(ac) = &self.labels else {
            return Vec::new();
        };
        let b = lower.as_bytes();
        ac.find_iter(lower)
            .filter(|m| {
                !(self.words[m.pattern().as_usize()].ascii && m.start() > 0 && b[m.start() - 1].is_ascii_alphabetic())
            })
            .map(|m| Hit {
                start: m.start(),
                end: m.end(),
                kw: m.pattern().as_usize(),
            })
            .collect()
    }

    /// What labels custom rule `k` at `pos`: its column name; else the nearest of its labels
    /// before it (strong on the same line within the strong window, weak within the weak window,
    /// never outside the value's own cell); a negative word between that label (or the line
    /// start) and the value, within the strong window, overrides it; else a previous cell of the
    /// record that is nothing but one of its labels.
    #[allow(clippy::too_many_arguments)]
    fn label(
        &self,
        set: &RuleSet,
        k: usize,
        unit: &Unit,
        label_hits: &[Hit],
        hits: &[Hit],
        pos: usize,
        cell: Option<&detect::Cell>,
    ) -> Label {
        let text = unit.folded.text.as_str();
        let b = text.as_bytes();
        let ctx = &set.context;
        if let Some(cl) = cell {
            let f = &unit.fields[cl.field];
            if f.custom.contains(&(self.first + k)) {
                return Label::Column(cl.field);
            }
            if f.negative.is_some() {
                return Label::NegativeColumn(cl.field);
            }
        }
        let back = crate::fold::floor_boundary(text, pos.saturating_sub(detect::LOOK_BACK_BYTES));
        let lo = cell.map_or(back, |cl| cl.start.max(back));
        let line_start = memchr::memrchr(b'\n', &b[lo..pos]).map_or(lo, |p| lo + p + 1);
        let end = label_hits.partition_point(|h| h.end <= pos);
        let found = label_hits[..end]
            .iter()
            .rev()
            .take_while(|h| h.start >= lo)
            .find(|h| self.words[h.kw].rules.contains(&k));
        let mut label = Label::None;
        if let Some(h) = found {
            let dist = detect::chars(&b[h.end..pos]);
            if h.start >= line_start && dist <= ctx.strong_window_chars {
                label = Label::Strong(h.start, h.end);
            } else if dist <= ctx.weak_window_chars {
                label = Label::Weak(h.start, h.end);
            }
        }
        // A negative word on the value's line, after the label, close before the value.
        let floor = match label {
            Label::Strong(_, e) | Label::Weak(_, e) => e.max(line_start),
            _ => line_start,
        };
        let nend = hits.partition_point(|h| h.end <= pos);
        for h in hits[..nend].iter().rev() {
            if h.start < floor || detect::chars(&b[h.end..pos]) > ctx.strong_window_chars {
                break;
            }
            if set.keywords[h.kw].negative {
                return Label::Negative(h.start, h.end);
            }
        }
        if let (Label::None, Some(cl)) = (label, cell)
            && let Some((s, e)) = self.label_cell_before(k, unit, cl)
        {
            return Label::Strong(s, e);
        }
        label
    }

    /// The cell just before `cl` in its record, when its whole text is one label of rule `k` (a
    /// key-value table: `社員番号,E-102938`): its span.
    fn label_cell_before(&self, k: usize, unit: &Unit, cl: &detect::Cell) -> Option<(usize, usize)> {
        let at = unit.cells.partition_point(|o| o.start < cl.start);
        let prev = unit.cells[..at].last().filter(|p| p.record == cl.record)?;
        let raw = &unit.folded.text[prev.start..prev.end];
        let inner = raw.trim_matches(|c: char| c.is_whitespace() || matches!(c, '"' | ':' | '：' | '#'));
        let lower = inner.to_ascii_lowercase();
        self.rules[k].labels_lower.contains(&lower).then(|| {
            let s = prev.start + raw.find(inner).unwrap_or(0);
            (s, s + inner.len())
        })
    }
}

/// What `rules --check` found.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub rules: usize,
    pub examples: usize,
    /// One line per failed example (or built-in rule without examples).
    pub failures: Vec<String>,
    /// Custom rules without examples.
    pub warnings: Vec<String>,
}

/// Runs every rule's positive and negative examples (built-in and custom). A positive example
/// must give exactly `count` (default 1) findings of its rule, all at `confidence`; a negative one
/// none of its rule above `max`. Built-in rules must have both kinds; a custom rule without
/// examples is a warning.
pub fn check_examples(set: &RuleSet) -> CheckReport {
    let mut rep = CheckReport {
        rules: set.rules.len(),
        ..Default::default()
    };
    let run = |text: &str, file: &Option<String>, ri: usize| -> Vec<Detection> {
        detect::detect_named(set, file.as_deref().unwrap_or("example.txt"), text)
            .into_iter()
            .filter(|d| d.rule == ri)
            .collect()
    };
    for (ri, rule) in set.rules.iter().enumerate() {
        let custom = rule.kind == Kind::Custom;
        for (missing, what) in [
            (rule.positive.is_empty(), "positive"),
            (rule.negative.is_empty(), "negative"),
        ] {
            if !missing {
                continue;
            }
            if custom {
                rep.warnings.push(format!("warning {}: no {what} examples", rule.id));
            } else {
                rep.failures.push(format!(
                    "FAIL {}: needs positive and negative examples (no {what})",
                    rule.id
                ));
            }
        }
        for ex in &rule.positive {
            rep.examples += 1;
            let got = run(&ex.text, &ex.file, ri);
            let want = ex.count.unwrap_or(1);
            if got.len() != want || got.iter().any(|d| d.confidence != ex.confidence) {
                let seen: Vec<String> = got
                    .iter()
                    .map(|d| format!("{} [{}]", d.confidence.as_str(), d.evidence.join(", ")))
                    .collect();
                rep.failures.push(format!(
                    "FAIL {} positive {:?}: expected {want} at {}, got {} {:?}",
                    rule.id,
                    ex.text,
                    ex.confidence.as_str(),
                    got.len(),
                    seen
                ));
            }
        }
        for ex in &rule.negative {
            rep.examples += 1;
            let max = match ex.max.as_str() {
                "none" => None,
                m => match Confidence::parse(m) {
                    Some(c) => Some(c),
                    None => {
                        rep.failures.push(format!(
                            "FAIL {} negative {:?}: max must be none, low or medium, not {m:?}",
                            rule.id, ex.text
                        ));
                        continue;
                    }
                },
            };
            for d in run(&ex.text, &ex.file, ri) {
                if max.is_none_or(|m| d.confidence > m) {
                    rep.failures.push(format!(
                        "FAIL {} negative {:?}: got {} [{}], max {}",
                        rule.id,
                        ex.text,
                        d.confidence.as_str(),
                        d.evidence.join(", "),
                        ex.max
                    ));
                }
            }
        }
    }
    rep
}

/// `appiscan rules --check`: runs every rule's positive and negative examples, writes one line
/// per failure and per warning to `out`, then a summary line, and returns whether all held.
pub fn check(set: &RuleSet, out: &mut dyn Write) -> anyhow::Result<bool> {
    let rep = check_examples(set);
    for line in rep.failures.iter().chain(&rep.warnings) {
        writeln!(out, "{line}")?;
    }
    writeln!(
        out,
        "{}: {} rules, {} examples, {} failed, {} warning(s), rules_version {}",
        if rep.failures.is_empty() { "ok" } else { "FAILED" },
        rep.rules,
        rep.examples,
        rep.failures.len(),
        rep.warnings.len(),
        set.version
    )?;
    Ok(rep.failures.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> Vec<toml::Table> {
        #[derive(Deserialize)]
        struct F {
            rules: Vec<toml::Table>,
        }
        toml::from_str::<F>(s).unwrap().rules
    }

    #[test]
    fn validator_names_resolve() {
        for v in VALIDATORS {
            assert!(Validator::by_name(v).is_some(), "{v}");
        }
    }

    #[test]
    fn canonical_and_mask() {
        assert_eq!(canonical("e-1029 38"), "E102938");
        assert_eq!(canonical("12.34"), "1234");
        assert_eq!(canonical("a.b@x.jp"), "A.B@X.JP");
        assert_eq!(mask("山田太郎様"), "*田太郎様");
        assert_eq!(mask("E-102938"), "*-**2938");
    }

    #[test]
    fn no_custom_rules_is_the_builtin_set() {
        let builtin = RuleSet::builtin();
        assert!(builtin.custom.is_none());
        assert!(std::ptr::eq(rule_set(&[]).unwrap(), builtin));
        let same = compile(&[]).unwrap();
        assert!(same.custom.is_none());
        assert_eq!(same.version, builtin.version);
    }

    /// The version known before compiling is the compiled set's, and the lazy rules deref to
    /// the shared built-in set; with custom rules both carry the custom version.
    #[test]
    fn lazy_rules_have_the_compiled_version() {
        let lazy = rules(&[]).unwrap();
        assert_eq!(builtin_version(), RuleSet::builtin().version);
        assert_eq!(lazy.version, RuleSet::builtin().version);
        assert!(std::ptr::eq(&**lazy, RuleSet::builtin()));
        let src = "[[rules]]\nid = \"custom.x\"\nregex = '(?-u:\\b)E\\d{6}(?-u:\\b)'\nconfidence = \"high\"\n";
        let custom = rules(&table(src)).unwrap();
        assert_ne!(custom.version, lazy.version);
        assert_eq!(custom.version, (**custom).version);
        assert_eq!(custom.version, compile(&table(src)).unwrap().version);
        let bad = "[[rules]]\nid = \"custom.y\"\nregex = '\\d*'\nconfidence = \"high\"\n";
        assert!(rules(&table(bad)).is_err(), "custom rules are compiled at once");
    }

    #[test]
    fn several_rules_share_one_pass_and_keep_their_own_matches() {
        let src = r#"
[[rules]]
id = "custom.a"
regex = '(?-u:\b)A\d{4}(?-u:\b)'
labels = ["コードA"]
confidence = "high"
[[rules]]
id = "custom.b"
regex = '(?-u:\b)B\d{4}(?-u:\b)'
confidence = "medium"
"#;
        let set = compile(&table(src)).unwrap();
        assert!(set.custom.as_ref().is_some_and(|c| c.set.is_some()));
        let ds = detect::detect_text(&set, "コードA A1234 と B5678、X9999");
        let got: Vec<(&str, Confidence)> = ds
            .iter()
            .filter(|d| set.rules[d.rule].kind == Kind::Custom)
            .map(|d| (set.rules[d.rule].id.as_str(), d.confidence))
            .collect();
        assert_eq!(got, [("custom.a", Confidence::High), ("custom.b", Confidence::Medium)]);
        assert_ne!(set.version, RuleSet::builtin().version);
    }

    #[test]
    fn bad_regexes_are_rejected() {
        for (re, msg) in [
            (r"\bE\d{6}\b", "Unicode word boundary"),
            (r"\d*", "empty string"),
            (r"E(\d{6}", "regex:"),
            (r"[a&&b]", "never match"),
        ] {
            let src = format!("[[rules]]\nid = \"custom.x\"\nregex = '{re}'\nconfidence = \"high\"\n");
            let e = compile(&table(&src))
                .err()
                .unwrap_or_else(|| panic!("{re} accepted"))
                .to_string();
            assert!(e.contains(msg) && e.contains("custom.x"), "{re}: {e}");
        }
        let ok = "[[rules]]\nid = \"custom.x\"\nregex = '(?-u:\\b)E\\d{6}(?-u:\\b)'\nconfidence = \"high\"\n";
        assert!(compile(&table(ok)).is_ok());
    }
}
