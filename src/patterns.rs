//! Rules as data: `patterns/*.toml` are compiled into the binary and turned into a [`RuleSet`]
//! once: one keyword automaton over every label, part label and negative word, and an index from
//! value shapes to the rules that accept them.

use crate::validate::Validator;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind, StartKind};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The pattern files compiled into the binary, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("jp.toml", include_str!("../patterns/jp.toml")),
    ("biometric.toml", include_str!("../patterns/biometric.toml")),
    ("sensitive.toml", include_str!("../patterns/sensitive.toml")),
];
/// The shared context settings compiled into the binary.
pub const CONTEXT: &str = include_str!("../patterns/context.toml");

/// Confidence bands of SPEC §7, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
    pub fn parse(s: &str) -> Option<Confidence> {
        match s {
            "low" => Some(Confidence::Low),
            "medium" => Some(Confidence::Medium),
            "high" => Some(Confidence::High),
            _ => None,
        }
    }
}

/// What happens to a value of this rule that has no label at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unlabelled {
    #[default]
    Drop,
    Low,
    Medium,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Score {
    pub shape: f64,
    #[serde(default)]
    pub checksum: f64,
    pub strong_label: f64,
    pub weak_label: f64,
    /// Group rules: added when the person's parts are found with the group.
    #[serde(default)]
    pub parts: f64,
    /// jp.passport: the score of a machine-readable zone whose check digits all hold.
    #[serde(default)]
    pub mrz: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Enclosed {
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Parts {
    pub symbol: Vec<String>,
    pub number: Vec<String>,
    pub branch: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositiveExample {
    pub text: String,
    pub confidence: Confidence,
    /// Read the text as this file (`x.csv`, `x.jsonl`): structure gives columns and keys.
    #[serde(default)]
    pub file: Option<String>,
    /// How many findings of the rule (default 1), all at `confidence`.
    #[serde(default)]
    pub count: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegativeExample {
    pub text: String,
    /// `none`, `low` or `medium`: the highest confidence the rule may reach on this text.
    pub max: String,
    #[serde(default)]
    pub file: Option<String>,
}

/// How a rule finds things: by value shape (identification codes), by keywords and column
/// names in records about people (sensitive categories), by data signatures (biometrics), or by
/// a user's regular expression (custom rules of `appiscan.toml`, never in `patterns/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    Code,
    Sensitive,
    Biometric,
    #[serde(skip)]
    Custom,
}

/// One rule as written in `patterns/` (or built from a custom rule of `appiscan.toml`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Rule {
    pub id: String,
    pub name_ja: String,
    pub name_en: String,
    pub category: String,
    pub legal_basis: String,
    #[serde(default)]
    pub kind: Kind,
    #[serde(default)]
    pub shapes: Vec<String>,
    /// Sensitive rules: words that name the category (Japanese, and English matched at a word
    /// start, case-insensitively).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Longer phrases that contain a keyword but mean something else (`システム障害`).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Biometric rules: lengths of feature vectors of this modality.
    #[serde(default)]
    pub dims: Vec<usize>,
    /// Biometric rules: magic bytes of standard records (`FMR\u0000`).
    #[serde(default)]
    pub magic: Vec<String>,
    /// Biometric rules: sizes in bytes of raw templates (an IrisCode is 256 bytes).
    #[serde(default)]
    pub template_bytes: Vec<usize>,
    /// biometric.dna: STR locus names; a record naming enough of them with alleles is a profile.
    #[serde(default)]
    pub loci: Vec<String>,
    #[serde(default)]
    pub validator: Option<String>,
    /// Unlabelled values: dropped, or capped at this band.
    #[serde(default)]
    pub unlabelled: Unlabelled,
    /// Unlabelled values without separators (a bare digit run): if set, overrides `unlabelled`.
    #[serde(default)]
    pub unlabelled_bare: Option<Unlabelled>,
    /// A bare value (no separators) needs a strong label: a weak one further back does not do
    /// (a phone number in a paragraph that mentions a pension number).
    #[serde(default)]
    pub bare_needs_strong_label: bool,
    #[serde(default)]
    pub placeholders: Vec<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub columns: Vec<String>,
    #[serde(default)]
    pub enclosed: Vec<Enclosed>,
    #[serde(default)]
    pub score: Score,
    #[serde(default)]
    pub parts: Option<Parts>,
    #[serde(default)]
    pub positive: Vec<PositiveExample>,
    #[serde(default)]
    pub negative: Vec<NegativeExample>,
    /// The validator resolved from `validator`.
    #[serde(skip)]
    pub check: Option<Validator>,
}

#[derive(Debug, Deserialize)]
struct RuleFile {
    rule: Vec<Rule>,
    #[serde(default)]
    persons: Option<Persons>,
}

/// What identifies a person in a record or a paragraph (`sensitive.toml`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Persons {
    /// In text, and inside column names.
    pub words: Vec<String>,
    /// Longer phrases containing a person word that identify nobody (`皆さん`).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// ASCII column and key names, compared normalized and whole.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Values of a sensitive column that say "nothing" (`なし`).
    #[serde(default)]
    pub empty_values: Vec<String>,
}

/// One keyword of the topic automaton (sensitive words, their false friends, person cues).
#[derive(Debug, Clone, Default)]
pub struct TopicKeyword {
    pub text: String,
    /// Sensitive rules this keyword names.
    pub rules: Vec<usize>,
    /// A false friend: matched only to hide the keywords inside it.
    pub exclude: bool,
    pub person: bool,
    pub ascii: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Bands {
    pub high: f64,
    pub medium: f64,
    pub low_cap: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NegativeWords {
    pub words: Vec<String>,
    pub suffixes: Vec<String>,
}

/// Scores and thresholds of sensitive and biometric detection (`[topics]` in `context.toml`).
#[derive(Debug, Clone, Deserialize)]
pub struct TopicSettings {
    pub column_with_person: f64,
    pub column_alone: f64,
    pub keyword_with_person: f64,
    pub keyword_alone: f64,
    pub vector_of_modality: f64,
    pub vector_other_length: f64,
    pub min_vector_len: usize,
    pub min_other_vector_len: usize,
    pub magic_record: f64,
    pub template_size: f64,
    pub dna_value: f64,
    pub min_sequence_len: usize,
    pub genome_human: f64,
    pub genome_unmarked: f64,
    pub min_fasta_line: usize,
    pub str_min_loci: usize,
    pub str_profile: f64,
}

/// Shared context settings (`patterns/context.toml`).
#[derive(Debug, Clone, Deserialize)]
pub struct ContextSettings {
    pub strong_window_chars: usize,
    pub weak_window_chars: usize,
    #[serde(default)]
    pub line_label_followers: Vec<String>,
    pub topics: TopicSettings,
    pub bands: Bands,
    pub negative: NegativeWords,
}

/// Which part of a health-insurance group a part label introduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Symbol,
    Number,
    Branch,
}

/// What one keyword of the automaton means (a text can be several things at once).
#[derive(Debug, Clone, Default)]
pub struct Keyword {
    pub text: String,
    /// Rules (indexes into [`RuleSet::rules`]) this keyword labels.
    pub labels: Vec<usize>,
    pub negative: bool,
    pub part: Option<Part>,
    /// Pure ASCII keywords must start at a word start (not after an ASCII letter).
    pub ascii: bool,
    /// A short part label (`番号`, `記号`) counts only where it is a word of its own, not the
    /// end of a compound such as `電話番号`.
    pub standalone: bool,
}

/// Every rule, compiled.
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub context: ContextSettings,
    pub keywords: Vec<Keyword>,
    /// Over the lower-cased folded text; pattern id = index into `keywords`.
    pub automaton: aho_corasick::dfa::DFA,
    /// Shape signature (`N12`, `N4-N4-N4`, `A2N7`...) and the rules that accept it; a dozen
    /// entries, searched linearly (cheaper than hashing per candidate).
    pub shapes: Vec<(crate::detect::Sig, Vec<usize>)>,
    /// Per [`crate::detect::Sig::slot`]: 1 when some shape falls there.
    pub shape_slots: [u8; 256],
    /// Per number of digits: a lone group of that many digits is a shape (`N12`).
    pub single_groups: [bool; 64],
    /// `shares_shape[a][b]`: rules a and b accept a common shape (their labels are rivals).
    pub shares_shape: Vec<Vec<bool>>,
    /// Negative suffixes (amounts, counts, dates).
    pub suffixes: Vec<String>,
    /// The first bytes of `suffixes`.
    pub suffix_first: [bool; 256],
    /// A short hash of the rule files: changes whenever any rule changes.
    pub version: String,
    pub persons: Persons,
    pub topics: Vec<TopicKeyword>,
    /// Over the lower-cased folded text; pattern id = index into `topics`.
    pub topic_automaton: aho_corasick::dfa::DFA,
    /// Finds the hits of `automaton` and `topic_automaton` in one walk.
    pub kwscan: crate::kwscan::KwScan,
    /// The base64 prefixes of biometric magics (built on first use by `topics`).
    pub magic_prefixes: OnceLock<AhoCorasick>,
    /// STR locus names of biometric.dna, lower-cased; pattern id = index into `loci`.
    pub loci_automaton: AhoCorasick,
    pub loci: Vec<String>,
    /// Custom rules of `appiscan.toml` (their [`Rule`]s are at the end of `rules`); `None` when
    /// there are none, and detection then skips the custom pass entirely.
    pub custom: Option<Box<crate::custom::CustomSet>>,
}

/// Lower-cases ASCII, folds full-width forms and drops `_`, `-`, `.`, spaces: how column and key
/// names are compared.
pub fn normalize_name(s: &str) -> String {
    s.chars()
        .map(|c| crate::fold::fold_char(c, false, false))
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' ' | '\t' | '#'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl RuleSet {
    /// The built-in rules. Panics only if the files compiled into the binary are invalid, which
    /// the test suite rules out.
    pub fn builtin() -> &'static RuleSet {
        static SET: OnceLock<RuleSet> = OnceLock::new();
        SET.get_or_init(|| RuleSet::from_sources(BUILTIN, CONTEXT).expect("built-in patterns are valid"))
    }

    /// Compiles rule files (name, TOML text) and the context file.
    pub fn from_sources(files: &[(&str, &str)], context: &str) -> anyhow::Result<RuleSet> {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        let mut rules = Vec::new();
        let mut persons = Persons::default();
        for (name, text) in files {
            hasher.update(text.as_bytes());
            let f: RuleFile = toml::from_str(text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            rules.extend(f.rule);
            if let Some(p) = f.persons {
                persons = p;
            }
        }
        persons.columns = persons.columns.iter().map(|c| normalize_name(c)).collect();
        persons.empty_values = persons.empty_values.iter().map(|v| v.to_lowercase()).collect();
        hasher.update(context.as_bytes());
        let context: ContextSettings = toml::from_str(context).map_err(|e| anyhow::anyhow!("context.toml: {e}"))?;
        let mut shapes: Vec<(crate::detect::Sig, Vec<usize>)> = Vec::new();
        let mut by_text: HashMap<String, Keyword> = HashMap::new();
        fn entry<'a>(m: &'a mut HashMap<String, Keyword>, t: &str) -> &'a mut Keyword {
            let key = crate::fold::Folded::new(t).text.to_ascii_lowercase();
            m.entry(key.clone()).or_insert_with(|| Keyword {
                ascii: key.is_ascii(),
                text: key,
                ..Default::default()
            })
        }
        for (i, r) in rules.iter_mut().enumerate() {
            if let Some(v) = &r.validator {
                r.check =
                    Some(Validator::by_name(v).ok_or_else(|| anyhow::anyhow!("{}: unknown validator {v}", r.id))?);
            }
            for s in &r.shapes {
                let sig = crate::detect::Sig::parse(s).map_err(|e| anyhow::anyhow!("{}: shape {s}: {e}", r.id))?;
                match shapes.iter_mut().find(|(k, _)| *k == sig) {
                    Some((_, v)) => v.push(i),
                    None => shapes.push((sig, vec![i])),
                }
            }
            for l in &r.labels {
                entry(&mut by_text, l).labels.push(i);
            }
            if let Some(p) = &r.parts {
                for (list, part) in [
                    (&p.symbol, Part::Symbol),
                    (&p.number, Part::Number),
                    (&p.branch, Part::Branch),
                ] {
                    for l in list {
                        entry(&mut by_text, l).part = Some(part);
                    }
                }
            }
            for e in &r.enclosed {
                entry(&mut by_text, &e.before);
            }
            r.columns = r.columns.iter().map(|c| normalize_name(c)).collect();
        }
        for w in &context.negative.words {
            entry(&mut by_text, w).negative = true;
        }
        let mut keywords: Vec<Keyword> = by_text.into_values().collect();
        for k in &mut keywords {
            k.standalone = k.part.is_some() && k.labels.is_empty() && !k.negative && k.text.chars().count() <= 2;
        }
        // Longer keywords first: with leftmost-first matching the longest label at a position wins.
        keywords.sort_by(|a, b| b.text.len().cmp(&a.text.len()).then(a.text.cmp(&b.text)));
        // Walked, anchored, from the positions `KwScan` picks.
        let automaton = aho_corasick::dfa::Builder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .start_kind(StartKind::Anchored)
            .build(keywords.iter().map(|k| k.text.as_bytes()))?;
        let suffixes = context.negative.suffixes.clone();
        let mut suffix_first = [false; 256];
        for s in &suffixes {
            if let Some(&f) = s.as_bytes().first() {
                suffix_first[f as usize] = true;
            }
        }
        let mut shape_slots = [0u8; 256];
        let mut single_groups = [false; 64];
        for (sig, _) in &shapes {
            shape_slots[sig.slot()] = 1;
            if let Some(len) = sig.single_group() {
                single_groups[len] = true;
            }
        }
        let shares_shape = rules
            .iter()
            .map(|a| {
                rules
                    .iter()
                    .map(|b| a.shapes.iter().any(|s| b.shapes.contains(s)))
                    .collect()
            })
            .collect();
        let version = hex::encode(&hasher.finalize()[..8]);
        let mut topic_map: HashMap<String, TopicKeyword> = HashMap::new();
        fn topic<'a>(m: &'a mut HashMap<String, TopicKeyword>, t: &str) -> &'a mut TopicKeyword {
            let key = crate::fold::Folded::new(t).text.to_ascii_lowercase();
            m.entry(key.clone()).or_insert_with(|| TopicKeyword {
                ascii: key.is_ascii(),
                text: key,
                ..Default::default()
            })
        }
        for (i, r) in rules.iter().enumerate() {
            if r.kind == Kind::Sensitive {
                for k in &r.keywords {
                    topic(&mut topic_map, k).rules.push(i);
                }
                for k in &r.exclude {
                    topic(&mut topic_map, k).exclude = true;
                }
            }
        }
        for w in &persons.words {
            topic(&mut topic_map, w).person = true;
        }
        for w in &persons.exclude {
            topic(&mut topic_map, w).exclude = true;
        }
        let mut topics: Vec<TopicKeyword> = topic_map.into_values().collect();
        topics.sort_by(|a, b| b.text.len().cmp(&a.text.len()).then(a.text.cmp(&b.text)));
        let loci: Vec<String> = rules
            .iter()
            .flat_map(|r| r.loci.iter().map(|l| l.to_ascii_lowercase()))
            .collect();
        let loci_automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(loci.iter())?;
        let topic_automaton = aho_corasick::dfa::Builder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .start_kind(StartKind::Anchored)
            .build(topics.iter().map(|k| k.text.as_bytes()))?;
        let kw_texts: Vec<&str> = keywords.iter().map(|k| k.text.as_str()).collect();
        let topic_texts: Vec<&str> = topics.iter().map(|k| k.text.as_str()).collect();
        let kwscan = crate::kwscan::KwScan::new([&kw_texts, &topic_texts]);
        Ok(RuleSet {
            rules,
            context,
            keywords,
            automaton,
            shapes,
            shape_slots,
            single_groups,
            shares_shape,
            suffixes,
            suffix_first,
            version,
            persons,
            topics,
            topic_automaton,
            kwscan,
            magic_prefixes: OnceLock::new(),
            loci_automaton,
            loci,
            custom: None,
        })
    }

    /// The rules that accept a shape signature.
    #[inline]
    pub fn rules_for_shape(&self, sig: crate::detect::Sig) -> Option<&[usize]> {
        // Most candidates have no rule: one table probe says so.
        let slot = self.shape_slots[sig.slot()];
        if slot == 0 {
            return None;
        }
        self.shapes.iter().find(|(k, _)| *k == sig).map(|(_, v)| v.as_slice())
    }

    /// The index of the rule with this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_compile() {
        let set = RuleSet::builtin();
        let ids: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
        for id in [
            "jp.my_number",
            "jp.passport",
            "jp.drivers_license",
            "jp.basic_pension_number",
            "jp.resident_code",
            "jp.health_insurance",
            "jp.employment_insurance_number",
            "jp.residence_card",
            "jp.special_permanent_resident",
        ] {
            assert!(ids.contains(&id), "{id} missing");
        }
        assert_eq!(normalize_name("My_Number"), "mynumber");
        assert_eq!(normalize_name("ＰＡＳＳＰＯＲＴ－ＮＯ"), "passportno");
    }
}
