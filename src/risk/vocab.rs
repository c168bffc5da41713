//! The column vocabulary of `patterns/risk.toml`: which header names what, and the value
//! vocabularies (sex tokens, eras, prefectures) the normalisers and detectors use.

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;

const RISK_TOML: &str = include_str!("../../patterns/risk.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Qi,
    Direct,
    Key,
    Sensitive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    #[default]
    Text,
    Date,
    Datetime,
    Age,
    Sex,
    Postal,
    Address,
}

#[derive(Debug, Deserialize)]
pub struct ColumnType {
    #[serde(rename = "type")]
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub normalise: Norm,
    #[serde(default)]
    pub values: Option<String>,
    #[serde(default)]
    pub exact: Vec<String>,
    #[serde(default)]
    pub contains: Vec<String>,
    #[serde(default)]
    pub tokens: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    pub examples: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct SexVocab {
    pub male: Vec<String>,
    pub female: Vec<String>,
    pub other: Vec<String>,
    pub unknown: Vec<String>,
    pub codes: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
pub struct Era {
    pub names: Vec<String>,
    pub first_year: i32,
}

#[derive(Debug, Deserialize)]
pub struct Severity {
    pub high_records_at_risk: f64,
    pub high_join_unique_increase: f64,
    pub medium_average_risk: f64,
}

#[derive(Debug, Deserialize)]
pub struct Vocab {
    pub value_share: f64,
    pub sample_rows: usize,
    pub column: Vec<ColumnType>,
    pub sex: SexVocab,
    pub era: Vec<Era>,
    pub prefectures: Vec<String>,
    pub severity: Severity,
}

/// How a header matched a type.
#[derive(Debug, Clone, PartialEq)]
pub struct NameMatch {
    pub type_index: usize,
    pub keyword: String,
}

impl Vocab {
    pub fn get() -> &'static Vocab {
        static V: OnceLock<Vocab> = OnceLock::new();
        V.get_or_init(|| match toml::from_str(RISK_TOML) {
            Ok(v) => v,
            Err(e) => panic!("patterns/risk.toml: {}", e.message()),
        })
    }

    pub fn type_named(&self, name: &str) -> Option<&ColumnType> {
        self.column.iter().find(|c| c.name == name)
    }

    /// The type a header names, if any: an exact match first, else the longest keyword.
    pub fn match_name(&self, header: &str) -> Option<NameMatch> {
        let norm = normalise_header(header);
        if norm.is_empty() {
            return None;
        }
        for (i, t) in self.column.iter().enumerate() {
            if t.exact.contains(&norm) {
                return Some(NameMatch {
                    type_index: i,
                    keyword: norm,
                });
            }
        }
        let tokens = header_tokens(header);
        let mut best: Option<(usize, usize, &str)> = None; // (length, type, keyword)
        for (i, t) in self.column.iter().enumerate() {
            let hits = t
                .contains
                .iter()
                .filter(|k| norm.contains(k.as_str()))
                .chain(t.tokens.iter().filter(|k| tokens.iter().any(|w| w == *k)));
            for k in hits {
                let len = k.chars().count();
                if best.is_none_or(|(l, _, _)| len > l) {
                    best = Some((len, i, k));
                }
            }
        }
        best.map(|(_, i, k)| NameMatch {
            type_index: i,
            keyword: k.to_string(),
        })
    }
}

/// NFKC, lower case, bracketed annotations removed, separators removed.
pub fn normalise_header(h: &str) -> String {
    let s: String = h.nfkc().collect::<String>().to_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' | '[' | '【' | '〔' | '「' => depth += 1,
            ')' | ']' | '】' | '〕' | '」' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            ' ' | '_' | '-' | '.' | '・' | '\u{3000}' | '/' | ':' => {}
            _ => out.push(c),
        }
    }
    if out.is_empty() {
        // A header that is all annotation keeps its text.
        return s.chars().filter(|c| !c.is_whitespace()).collect();
    }
    out
}

/// ASCII words of a header: split at non-alphanumerics and at lower→upper case changes.
pub fn header_tokens(h: &str) -> Vec<String> {
    let s: String = h.nfkc().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            cur.push(c.to_ascii_lowercase());
        } else {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(h: &str) -> Option<String> {
        let v = Vocab::get();
        v.match_name(h).map(|m| v.column[m.type_index].name.clone())
    }

    #[test]
    fn names() {
        assert_eq!(ty("生年月日").as_deref(), Some("birth_date"));
        assert_eq!(ty("生年月日(西暦)").as_deref(), Some("birth_date"));
        assert_eq!(ty("Birth_Date").as_deref(), Some("birth_date"));
        assert_eq!(ty("生年").as_deref(), Some("birth_year"));
        assert_eq!(ty("郵便番号").as_deref(), Some("postal_code"));
        assert_eq!(ty("zip_code").as_deref(), Some("postal_code"));
        assert_eq!(ty("会員ID").as_deref(), Some("linking_code"));
        assert_eq!(ty("会員番号").as_deref(), Some("linking_code"));
        assert_eq!(ty("customer_id").as_deref(), Some("linking_code"));
        assert_eq!(ty("氏名").as_deref(), Some("name"));
        assert_eq!(ty("顧客氏名").as_deref(), Some("name"));
        assert_eq!(ty("電話番号").as_deref(), Some("phone"));
        assert_eq!(ty("マイナンバー").as_deref(), Some("identification_code"));
        assert_eq!(ty("性別").as_deref(), Some("sex"));
        assert_eq!(ty("age").as_deref(), Some("age"));
        assert_eq!(ty("page").as_deref(), None);
        assert_eq!(ty("patientAge").as_deref(), Some("age"));
        assert_eq!(ty("年代").as_deref(), Some("age_band"));
        assert_eq!(ty("病名").as_deref(), Some("sensitive"));
        assert_eq!(ty("email_address").as_deref(), Some("email"));
        assert_eq!(ty("native-country").as_deref(), Some("nationality"));
        assert_eq!(ty("marital-status").as_deref(), Some("demographic"));
        assert_eq!(ty("職業").as_deref(), Some("occupation"));
        assert_eq!(ty("入院日").as_deref(), Some("event_date"));
    }
}
