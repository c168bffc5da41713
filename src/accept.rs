//! Accepted findings (SPEC §9): a baseline file of findings reviewed earlier, allowlist entries
//! in `appiscan.toml` (by fingerprint, path glob or rule, each with a reason and an optional
//! expiry), and inline `appiscan:allow` markers. An accepted finding is still reported, marked
//! `baselined` or `allowed`, and never fails the run.

use crate::report::Finding;
use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

pub const BASELINE_SCHEMA: &str = "appiscan-baseline/1";

/// One accepted finding of a baseline file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub struct BaselineEntry {
    pub rule: String,
    pub path: String,
    pub fingerprint: String,
}

/// A baseline file: `{"type": "baseline", "schema": "appiscan-baseline/1", "created": ...,
/// "entries": [{"rule", "path", "fingerprint"}]}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaselineFile {
    #[serde(rename = "type")]
    pub kind: String,
    pub schema: String,
    pub created: String,
    pub entries: Vec<BaselineEntry>,
}

#[derive(Debug, Default, Clone)]
pub struct Baseline {
    entries: HashSet<BaselineEntry>,
}

impl Baseline {
    pub fn load(path: &Path) -> anyhow::Result<Baseline> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("baseline {}: {e}", path.display()))?;
        let file: BaselineFile =
            serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("baseline {}: {e}", path.display()))?;
        anyhow::ensure!(
            file.kind == "baseline" && file.schema == BASELINE_SCHEMA,
            "baseline {}: not an {BASELINE_SCHEMA} file",
            path.display()
        );
        Ok(Baseline {
            entries: file.entries.into_iter().collect(),
        })
    }

    pub fn contains(&self, f: &Finding) -> bool {
        // Built without allocation in the common case of an empty baseline.
        !self.entries.is_empty()
            && self.entries.contains(&BaselineEntry {
                rule: f.rule.clone(),
                path: f.path.clone(),
                fingerprint: f.fingerprint.clone(),
            })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// `appiscan baseline create`: the findings of one or more reports (`jsonl` or `json`) as a
/// baseline. Resolved findings are left out; a report made with an ephemeral key is refused,
/// since its fingerprints will never match again.
pub fn baseline_from_reports(texts: &[(String, String)]) -> anyhow::Result<BaselineFile> {
    let mut entries = Vec::new();
    let mut seen = HashSet::new();
    for (name, text) in texts {
        let mut records: Vec<serde_json::Value> = Vec::new();
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(doc) if doc.get("findings").is_some() => {
                records.extend(doc["findings"].as_array().cloned().unwrap_or_default());
                if let Some(s) = doc.get("summary") {
                    records.push(s.clone());
                }
            }
            _ => {
                for (i, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let v: serde_json::Value = serde_json::from_str(line)
                        .map_err(|e| anyhow::anyhow!("{name}:{}: not a jsonl or json report: {e}", i + 1))?;
                    records.push(v);
                }
            }
        }
        let mut saw_summary = false;
        for r in &records {
            match r.get("type").and_then(|t| t.as_str()) {
                Some("summary") => {
                    saw_summary = true;
                    anyhow::ensure!(
                        r.get("fingerprint_key").and_then(|k| k.as_str()) != Some("ephemeral"),
                        "{name}: made with an ephemeral fingerprint key; its fingerprints will not match a later \
                         run. Scan again with --hash-key-file (or APPISCAN_HASH_KEY)"
                    );
                }
                Some("finding") => {
                    if r.get("status").and_then(|s| s.as_str()) == Some("resolved") {
                        continue;
                    }
                    let get = |k: &str| {
                        r.get(k)
                            .and_then(|x| x.as_str())
                            .map(String::from)
                            .ok_or_else(|| anyhow::anyhow!("{name}: a finding without {k}"))
                    };
                    let e = BaselineEntry {
                        rule: get("rule")?,
                        path: get("path")?,
                        fingerprint: get("fingerprint")?,
                    };
                    if seen.insert(e.clone()) {
                        entries.push(e);
                    }
                }
                _ => {}
            }
        }
        anyhow::ensure!(saw_summary, "{name}: no summary record: an incomplete report?");
    }
    entries.sort_by(|a, b| (&a.path, &a.rule, &a.fingerprint).cmp(&(&b.path, &b.rule, &b.fingerprint)));
    Ok(BaselineFile {
        kind: "baseline".into(),
        schema: BASELINE_SCHEMA.into(),
        created: crate::report::now(),
        entries,
    })
}

/// `[[allow]]` in `appiscan.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowEntry {
    pub fingerprint: Option<String>,
    /// A glob over the finding's path (`tests/fixtures/**`).
    pub path: Option<String>,
    /// A rule id, or a glob over rule ids (`sensitive.*`).
    pub rule: Option<String>,
    pub reason: String,
    /// The last day the entry applies (`2027-03-31`, a TOML date or a string).
    pub expires: Option<toml::Value>,
}

/// An entry that no longer applies, for the summary.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Expired {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub reason: String,
    pub expires: String,
}

#[derive(Debug, Clone)]
struct Active {
    fingerprint: Option<String>,
    path: Option<GlobMatcher>,
    rule: Option<GlobMatcher>,
    reason: String,
}

/// The allowlist in force today, and the entries that expired.
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    active: Vec<Active>,
    pub expired: Vec<Expired>,
}

/// A calendar date as (year, month, day).
fn parse_date(v: &toml::Value) -> anyhow::Result<(i32, u8, u8)> {
    let s = match v {
        toml::Value::Datetime(d) => {
            let d = d
                .date
                .ok_or_else(|| anyhow::anyhow!("expires: a date is needed, not {v}"))?;
            return Ok((d.year as i32, d.month, d.day));
        }
        toml::Value::String(s) => s.as_str(),
        _ => anyhow::bail!("expires: a date like 2027-03-31, not {v}"),
    };
    let parts: Vec<&str> = s.trim().split('-').collect();
    let bad = || anyhow::anyhow!("expires: a date like 2027-03-31, not {s:?}");
    anyhow::ensure!(parts.len() == 3, bad());
    let y: i32 = parts[0].parse().map_err(|_| bad())?;
    let m: u8 = parts[1].parse().map_err(|_| bad())?;
    let d: u8 = parts[2].parse().map_err(|_| bad())?;
    anyhow::ensure!((1..=12).contains(&m) && (1..=31).contains(&d), bad());
    Ok((y, m, d))
}

impl Allowlist {
    /// Compiles the entries; `today` is the UTC date (an entry applies through its expiry day).
    pub fn new(entries: &[AllowEntry], today: (i32, u8, u8)) -> anyhow::Result<Allowlist> {
        let mut list = Allowlist::default();
        for (i, e) in entries.iter().enumerate() {
            let what = format!("allow entry {}", i + 1);
            anyhow::ensure!(
                e.fingerprint.is_some() || e.path.is_some() || e.rule.is_some(),
                "{what}: needs a fingerprint, a path or a rule"
            );
            anyhow::ensure!(!e.reason.trim().is_empty(), "{what}: the reason is empty");
            let glob = |g: &str| -> anyhow::Result<GlobMatcher> {
                Ok(Glob::new(g)
                    .map_err(|err| anyhow::anyhow!("{what}: {g}: {err}"))?
                    .compile_matcher())
            };
            if let Some(x) = &e.expires {
                let date = parse_date(x).map_err(|err| anyhow::anyhow!("{what}: {err}"))?;
                if date < today {
                    list.expired.push(Expired {
                        fingerprint: e.fingerprint.clone(),
                        path: e.path.clone(),
                        rule: e.rule.clone(),
                        reason: e.reason.clone(),
                        expires: format!("{:04}-{:02}-{:02}", date.0, date.1, date.2),
                    });
                    continue;
                }
            }
            list.active.push(Active {
                fingerprint: e.fingerprint.as_ref().map(|f| f.trim().to_ascii_lowercase()),
                path: e.path.as_deref().map(glob).transpose()?,
                rule: e.rule.as_deref().map(glob).transpose()?,
                reason: e.reason.clone(),
            });
        }
        Ok(list)
    }

    /// The reason of the first entry that accepts `f`.
    pub fn reason(&self, f: &Finding) -> Option<&str> {
        self.active
            .iter()
            .find(|a| {
                a.fingerprint.as_ref().is_none_or(|x| *x == f.fingerprint)
                    && a.path.as_ref().is_none_or(|g| g.is_match(&f.path))
                    && a.rule.as_ref().is_none_or(|g| g.is_match(&f.rule))
            })
            .map(|a| a.reason.as_str())
    }
}

/// Today's UTC date.
pub fn today() -> (i32, u8, u8) {
    let d = time::OffsetDateTime::now_utc().date();
    (d.year(), d.month() as u8, d.day())
}

pub const INLINE_MARK: &str = "appiscan:allow";

pub fn has_inline_mark(text: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), INLINE_MARK.as_bytes()).is_some()
}

/// Whether the line holding `start..end` of `text`, or the line above it, carries an inline
/// `appiscan:allow` marker (optionally restricted: `appiscan:allow(jp.my_number,jp.passport)`).
/// Callers check once per text that the marker occurs at all ([`has_inline_mark`]).
pub fn inline_allowed(text: &str, start: usize, end: usize, rule: &str) -> bool {
    let b = text.as_bytes();
    let line_start = memchr::memrchr(b'\n', &b[..start]).map_or(0, |p| p + 1);
    let line_end = memchr::memchr(b'\n', &b[end.min(b.len())..]).map_or(b.len(), |p| end + p);
    let above_start = if line_start > 0 {
        memchr::memrchr(b'\n', &b[..line_start - 1]).map_or(0, |p| p + 1)
    } else {
        line_start
    };
    let region = &text[above_start..line_end];
    let mut rest = region;
    while let Some(p) = rest.find(INLINE_MARK) {
        let after = &rest[p + INLINE_MARK.len()..];
        match after.strip_prefix('(') {
            Some(list) => {
                if let Some(close) = list.find(')')
                    && list[..close].split(',').any(|r| r.trim() == rule)
                {
                    return true;
                }
            }
            None => return true,
        }
        rest = after;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_markers() {
        let t = "a\n# appiscan:allow\nvalue 123\nnext 456";
        let v = t.find("123").unwrap();
        assert!(inline_allowed(t, v, v + 3, "jp.my_number"));
        let n = t.find("456").unwrap();
        assert!(!inline_allowed(t, n, n + 3, "jp.my_number"));
        let t = "x 123 // appiscan:allow(jp.passport)\n";
        let v = t.find("123").unwrap();
        assert!(inline_allowed(t, v, v + 3, "jp.passport"));
        assert!(!inline_allowed(t, v, v + 3, "jp.my_number"));
    }

    #[test]
    fn dates() {
        assert_eq!(
            parse_date(&toml::Value::String("2027-03-31".into())).unwrap(),
            (2027, 3, 31)
        );
        assert!(parse_date(&toml::Value::String("31/03/2027".into())).is_err());
    }
}
