//! Value normalisation of quasi-identifiers (README, section Risk): one deterministic form per
//! value, so that `昭和60年1月1日`, `S60.1.1` and `1985/01/01` fall into one equivalence class.
//! Equivalence classes are keyed on the normalised value.

use super::vocab::{Norm, Vocab};
use regex::Regex;
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;

/// NFKC (ASCII passes untouched), trimmed.
fn nfkc(raw: &str) -> String {
    if raw.is_ascii() {
        raw.trim().to_string()
    } else {
        raw.nfkc().collect::<String>().trim().to_string()
    }
}

fn is_hyphen(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{30FC}' | '\u{FF70}' | '\u{FE63}' | '\u{FF0D}' | '~' | '〜'
    )
}

/// The value when [`text`] would return it unchanged (printable ASCII without upper case or
/// spaces), so that it need not be copied.
pub fn text_unchanged(raw: &str) -> Option<&str> {
    raw.bytes()
        .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase())
        .then_some(raw)
}

/// NFKC, trimmed, runs of white space as one space, lower case.
pub fn text(raw: &str) -> String {
    let t = nfkc(raw);
    let mut out = String::with_capacity(t.len());
    let mut space = false;
    for c in t.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// Normalises a non-missing value of a column of this kind.
pub fn normalise(norm: Norm, sex_codes: bool, raw: &str) -> String {
    match norm {
        Norm::Text => text(raw),
        Norm::Date => date(raw, false).unwrap_or_else(|| text(raw)),
        Norm::Datetime => date(raw, true).unwrap_or_else(|| text(raw)),
        Norm::Age => age(raw),
        Norm::Sex => sex(raw, sex_codes).unwrap_or_else(|| text(raw)),
        Norm::Postal => postal(raw).unwrap_or_else(|| text(raw)),
        Norm::Address => address(raw),
    }
}

/// Postal codes of any width: the digits alone (`〒100-0001`, `１００－０００１`, `1000001` → `1000001`).
pub fn postal(raw: &str) -> Option<String> {
    let t = nfkc(raw);
    let digits: String = t
        .chars()
        .filter(|&c| c != '〒' && !c.is_whitespace() && !is_hyphen(c))
        .collect();
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Addresses: NFKC, no white space, hyphen look-alikes as `-`, lower case.
pub fn address(raw: &str) -> String {
    nfkc(raw)
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| if is_hyphen(c) { '-' } else { c })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Sex as one token: `M`, `F`, `other`, `unknown`; numeric JIS X 0303 codes only with `codes`.
pub fn sex(raw: &str, codes: bool) -> Option<String> {
    let v = Vocab::get();
    let t = text(raw);
    let hit = |l: &[String]| l.contains(&t);
    if hit(&v.sex.male) {
        return Some("M".into());
    }
    if hit(&v.sex.female) {
        return Some("F".into());
    }
    if hit(&v.sex.other) {
        return Some("other".into());
    }
    if hit(&v.sex.unknown) {
        return Some("unknown".into());
    }
    if codes {
        return v.sex.codes.get(&t).cloned();
    }
    None
}

fn age_res() -> &'static [Regex; 5] {
    static R: OnceLock<[Regex; 5]> = OnceLock::new();
    R.get_or_init(|| {
        [
            Regex::new(r"^(\d{1,3})\s*(?:歳|才|years?|yrs?|y)?$").unwrap(),
            Regex::new(r"^(\d{1,3})\s*(?:歳|才)?\s*代(?:前半|後半)?$").unwrap(),
            Regex::new(r"^(\d{1,3})\s*(?:歳|才)?\s*[-~〜～‐－–—]\s*(\d{1,3})\s*(?:歳|才)?$").unwrap(),
            Regex::new(r"^(\d{1,3})\s*(?:歳|才)?\s*(?:以上|\+|or over|and over)$").unwrap(),
            Regex::new(r"^(\d{1,3})\s*(?:歳|才)?\s*未満$").unwrap(),
        ]
    })
}

/// Ages as an integer (`35歳` → `35`), bands as `lo-hi` (`20代` → `20-29`), `lo+`, `<hi`.
pub fn age(raw: &str) -> String {
    let t = text(raw);
    age_form(&t).unwrap_or(t)
}

fn age_form(t: &str) -> Option<String> {
    let r = age_res();
    let n = |s: &str| s.parse::<u32>().ok();
    if let Some(c) = r[0].captures(t) {
        return Some(n(&c[1])?.to_string());
    }
    if let Some(c) = r[1].captures(t) {
        let lo = n(&c[1])?;
        return Some(format!("{lo}-{}", lo + 9));
    }
    if let Some(c) = r[2].captures(t) {
        return Some(format!("{}-{}", n(&c[1])?, n(&c[2])?));
    }
    if let Some(c) = r[3].captures(t) {
        return Some(format!("{}+", n(&c[1])?));
    }
    if let Some(c) = r[4].captures(t) {
        return Some(format!("<{}", n(&c[1])?));
    }
    None
}

/// Whether the value is an age band (`20代`, `30-39`, `60歳以上`).
pub fn is_age_band(raw: &str) -> bool {
    let t = text(raw);
    age_form(&t).is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit()))
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Gregorian date of a day count since 1970-01-01 (H. Hinnant's civil_from_days).
fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// Dates in 西暦 and 和暦 forms as ISO `YYYY-MM-DD` (`YYYY-MM` without a day); with `keep_time`
/// a time of day is kept as `THH:MM[:SS]`. An Excel serial day number (xlsx) is a date too.
pub fn date(raw: &str, keep_time: bool) -> Option<String> {
    let mut t = text(raw);
    for p in ["西暦"] {
        if let Some(r) = t.strip_prefix(p) {
            t = r.trim_start().to_string();
        }
    }
    for s in ["生まれ", "生"] {
        if let Some(r) = t.strip_suffix(s) {
            t = r.trim_end().to_string();
        }
    }
    // Era prefix.
    let mut era_start: Option<i32> = None;
    let v = Vocab::get();
    'eras: for e in &v.era {
        for name in &e.names {
            if let Some(rest) = t.strip_prefix(name.as_str()) {
                let ok = matches!(rest.chars().next(), Some(c) if c.is_ascii_digit() || c == '元');
                if ok {
                    era_start = Some(e.first_year);
                    t = rest.replacen('元', "1", 1);
                    break 'eras;
                }
            }
        }
    }
    // Digit groups and what separates them.
    let mut groups: Vec<&str> = Vec::new();
    let b = t.as_bytes();
    let mut i = 0;
    let mut seps_ok = true;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            groups.push(&t[s..i]);
        } else {
            let c = t[i..].chars().next()?;
            if !matches!(
                c,
                '-' | '/' | '.' | '年' | '月' | '日' | ' ' | 't' | ':' | 'z' | '時' | '分' | '秒' | ','
            ) && !is_hyphen(c)
            {
                seps_ok = false;
                break;
            }
            i += c.len_utf8();
        }
    }
    if !seps_ok || groups.is_empty() {
        return None;
    }
    if era_start.is_none() && groups.len() == 1 {
        let g = groups[0];
        if g.len() == 8 {
            let (y, m, d) = (g[..4].parse().ok()?, g[4..6].parse().ok()?, g[6..].parse().ok()?);
            return valid(y, m, Some(d)).then(|| format!("{y:04}-{m:02}-{d:02}"));
        }
        // An Excel serial day (1 = 1900-01-01; serials count a fictitious 1900-02-29).
        let serial: i64 = raw.trim().split('.').next()?.parse().ok()?;
        if g.len() <= 5 && (1..=2_958_465).contains(&serial) && t.chars().all(|c| c.is_ascii_digit() || c == '.') {
            let (y, m, d) = civil_from_days(serial - 25_569);
            return Some(format!("{y:04}-{m:02}-{d:02}"));
        }
        return None;
    }
    if groups.len() < 2 {
        return None;
    }
    let y: i32 = groups[0].parse().ok()?;
    let y = match era_start {
        Some(first) if (1..=99).contains(&y) => first + y - 1,
        Some(_) => return None,
        None if groups[0].len() == 4 => y,
        None => return None,
    };
    let m: u32 = groups[1].parse().ok()?;
    let d: Option<u32> = match groups.get(2) {
        Some(g) => Some(g.parse().ok()?),
        None => None,
    };
    if !valid(y, m, d) {
        return None;
    }
    let mut out = match d {
        Some(d) => format!("{y:04}-{m:02}-{d:02}"),
        None => format!("{y:04}-{m:02}"),
    };
    if keep_time && groups.len() >= 5 {
        let parts: Option<Vec<u32>> = groups[3..groups.len().min(6)].iter().map(|g| g.parse().ok()).collect();
        let parts = parts?;
        out.push('T');
        let hm: Vec<String> = parts.iter().map(|p| format!("{p:02}")).collect();
        out.push_str(&hm.join(":"));
    }
    Some(out)
}

fn valid(y: i32, m: u32, d: Option<u32>) -> bool {
    (1800..=2200).contains(&y) && (1..=12).contains(&m) && d.is_none_or(|d| d >= 1 && d <= days_in_month(y, m))
}

fn email_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$").unwrap())
}

fn phone_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"^(?:\+81[\s\-]?|0)\d{1,4}[\s\-]\d{1,4}[\s\-]\d{3,4}$|^0[5789]0\d{8}$").unwrap())
}

fn postal_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"^〒?\s*\d{3}-\d{4}$").unwrap())
}

/// Whether a value detector of `patterns/risk.toml` accepts this (non-empty) value.
pub fn detect(detector: &str, raw: &str) -> bool {
    match detector {
        "date" => {
            let t = text(raw);
            // Not a bare number: those are counts, ids and amounts as often as dates.
            !t.bytes().all(|b| b.is_ascii_digit() || b == b'.') && date(raw, true).is_some()
        }
        "postal" => postal_re().is_match(&address(raw)),
        "sex" => sex(raw, false).is_some(),
        "age_band" => is_age_band(raw),
        "prefecture" => {
            let t = address(raw);
            Vocab::get().prefectures.iter().any(|p| t.starts_with(p.as_str()))
        }
        "email" => email_re().is_match(raw.trim()),
        "phone" => phone_re().is_match(&address(raw)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for s in [
            "1985-01-01",
            "1985/1/1",
            "1985.01.01",
            "19850101",
            "1985年1月1日",
            "１９８５年１月１日",
            "昭和60年1月1日",
            "昭和６０年１月１日生",
            "S60.1.1",
            "s60/01/01",
            "西暦1985年01月01日",
        ] {
            assert_eq!(date(s, false).as_deref(), Some("1985-01-01"), "{s}");
        }
        assert_eq!(date("平成元年4月1日", false).as_deref(), Some("1989-04-01"));
        assert_eq!(date("H1/4/1", false).as_deref(), Some("1989-04-01"));
        assert_eq!(date("R2.5.3", false).as_deref(), Some("2020-05-03"));
        assert_eq!(date("令和元年5月1日", false).as_deref(), Some("2019-05-01"));
        assert_eq!(date("1985年4月", false).as_deref(), Some("1985-04"));
        assert_eq!(date("2024-02-30", false), None);
        assert_eq!(date("2024-01-05 10:30", true).as_deref(), Some("2024-01-05T10:30"));
        assert_eq!(date("2024-01-05T10:30:00", false).as_deref(), Some("2024-01-05"));
        assert_eq!(date("45000", false).as_deref(), Some("2023-03-15"));
        assert_eq!(date("hello", false), None);
        assert_eq!(normalise(Norm::Date, false, "not a date"), "not a date");
    }

    #[test]
    fn postal_codes() {
        for s in [
            "1000001",
            "100-0001",
            "〒100-0001",
            "〒 100-0001",
            "１００－０００１",
            "100ー0001",
        ] {
            assert_eq!(postal(s).as_deref(), Some("1000001"), "{s}");
        }
        assert_eq!(postal("100").as_deref(), Some("100"));
        assert!(detect("postal", "〒１００－０００１"));
        assert!(!detect("postal", "1000001"));
    }

    #[test]
    fn sexes_and_ages() {
        assert_eq!(sex("男", false).as_deref(), Some("M"));
        assert_eq!(sex(" Male ", false).as_deref(), Some("M"));
        assert_eq!(sex("女性", false).as_deref(), Some("F"));
        assert_eq!(sex("Ｆ", false).as_deref(), Some("F"));
        assert_eq!(sex("1", false), None);
        assert_eq!(sex("1", true).as_deref(), Some("M"));
        assert_eq!(sex("2", true).as_deref(), Some("F"));
        assert_eq!(age("35歳"), "35");
        assert_eq!(age("０３５"), "35");
        assert_eq!(age("20代"), "20-29");
        assert_eq!(age("30歳代"), "30-39");
        assert_eq!(age("20～29歳"), "20-29");
        assert_eq!(age("60歳以上"), "60+");
        assert!(is_age_band("20代"));
        assert!(!is_age_band("20"));
        assert_eq!(text("  Tokyo   Met "), "tokyo met");
        for v in ["cid00017", "a-b_c", "x@y.jp"] {
            assert_eq!(text_unchanged(v), Some(text(v).as_str()));
        }
        assert_eq!(text_unchanged("Cid"), None);
        assert_eq!(text_unchanged("a b"), None);
        assert_eq!(address("東京都 千代田区 千代田１－１"), "東京都千代田区千代田1-1");
    }

    #[test]
    fn detectors() {
        assert!(detect("date", "昭和60年1月1日"));
        assert!(!detect("date", "12345"));
        assert!(detect("prefecture", "東京都"));
        assert!(detect("email", "a@example.jp"));
        assert!(detect("phone", "03-1234-5678"));
        assert!(detect("age_band", "40代"));
    }
}
