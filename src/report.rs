//! Report records of SPEC §4 and one [`Sink`] per output format. Sinks are driven from one
//! thread; findings of one file arrive together, files in any order.

use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// `type: "finding"`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub rule: String,
    pub category: String,
    pub confidence: &'static str,
    pub score: f64,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub masked: String,
    pub fingerprint: String,
    pub validated: bool,
    pub evidence: Vec<String>,
    pub legal_basis: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Extension (SPEC §9): `new`, `unchanged` or `resolved` with `--state`; `baselined` or
    /// `allowed` when a baseline or an allowlist entry accepts the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
}

impl Finding {
    /// A finding record read back (from a state file or a report).
    pub fn from_json(v: &serde_json::Value) -> Option<Finding> {
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(String::from);
        let n = |k: &str| v.get(k).and_then(|x| x.as_u64());
        let strings = |k: &str| -> Option<Vec<String>> {
            v.get(k)?
                .as_array()?
                .iter()
                .map(|x| x.as_str().map(String::from))
                .collect()
        };
        Some(Finding {
            kind: "finding",
            rule: s("rule")?,
            category: s("category")?,
            confidence: crate::patterns::Confidence::parse(v.get("confidence")?.as_str()?)?.as_str(),
            score: v.get("score")?.as_f64()?,
            path: s("path")?,
            member: strings("member"),
            line: n("line"),
            column: n("column"),
            field: s("field"),
            masked: s("masked")?,
            fingerprint: s("fingerprint")?,
            validated: v.get("validated")?.as_bool()?,
            evidence: strings("evidence")?,
            legal_basis: s("legal_basis")?,
            value: s("value"),
            status: match v.get("status").and_then(|x| x.as_str()) {
                Some("new") => Some("new"),
                Some("unchanged") => Some("unchanged"),
                Some("resolved") => Some("resolved"),
                Some("baselined") => Some("baselined"),
                Some("allowed") => Some("allowed"),
                _ => None,
            },
        })
    }
}

/// The current time as RFC 3339 (UTC), as every record and state row writes it.
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `type: "error"`: an input that could not be scanned, or not completely.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ErrorRecord {
    #[serde(rename = "type")]
    pub kind_tag: &'static str,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<Vec<String>>,
    /// `io`, `decode`, `limit` or `unsupported`.
    pub kind: &'static str,
    pub message: String,
}

impl ErrorRecord {
    pub fn new(path: &str, member: Option<Vec<String>>, kind: &'static str, message: impl Into<String>) -> ErrorRecord {
        ErrorRecord {
            kind_tag: "error",
            path: path.to_string(),
            member,
            kind,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

/// `type: "summary"`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub tool: Tool,
    pub started: String,
    pub finished: String,
    pub targets: Vec<String>,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub files_skipped: BTreeMap<String, u64>,
    pub errors: u64,
    pub findings: BTreeMap<String, u64>,
    pub distinct: BTreeMap<String, u64>,
    pub complete: bool,
    pub fingerprint_key: &'static str,
    /// Extension: the rule-set version (a hash of `patterns/`), so a report says which rules made it.
    pub rules_version: String,
    /// Extension (`--state`): findings by status (`new`, `unchanged`, `resolved`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<BTreeMap<String, u64>>,
    /// Extension (`--state`): files not read again because they are unchanged since the last run;
    /// their findings are carried (they are not in `files_scanned` or `bytes_scanned`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_unchanged: Option<u64>,
    /// Extension: findings accepted by the baseline (`--baseline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baselined: Option<u64>,
    /// Extension: findings accepted by an allowlist entry or an inline `appiscan:allow`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<u64>,
    /// Extension: allowlist entries past their expiry date; they no longer apply.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowlist_expired: Vec<crate::accept::Expired>,
    /// Extension (`--destination`): where the data is going, with the cross-border notice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<crate::destination::Destination>,
    /// Extension (`--shard-index/--shard-count`): this report's shard and the inputs it took
    /// and left to other shards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::ShardSummary>,
    /// Extension (`--worklist`): the work lists read (`-`: standard input).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub worklist: Vec<String>,
    /// Extension (`appiscan merge`): how many parts this report was merged from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_parts: Option<u64>,
    /// Extension (`appiscan merge` of shard parts): the shards merged and those missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards: Option<crate::merge::ShardsSummary>,
}

/// Where a report goes. `finding` and `error` are called as records arrive, `finish` once at the
/// end with the summary. An `Err` from any call stops the scan (the report cannot be trusted).
pub trait Sink {
    fn finding(&mut self, f: &Finding) -> io::Result<()>;
    fn error(&mut self, e: &ErrorRecord) -> io::Result<()>;
    fn finish(&mut self, s: &Summary) -> io::Result<()>;
}

/// One JSON object per line; the summary last.
pub struct JsonlSink<W: Write> {
    pub out: W,
}

impl<W: Write> Sink for JsonlSink<W> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, f)?;
        self.out.write_all(b"\n")
    }
    fn error(&mut self, e: &ErrorRecord) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, e)?;
        self.out.write_all(b"\n")
    }
    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, s)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

/// `{"findings": [...], "errors": [...], "summary": {...}}`, written at the end.
pub struct JsonSink<W: Write> {
    pub out: W,
    findings: Vec<Finding>,
    errors: Vec<ErrorRecord>,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W) -> Self {
        JsonSink {
            out,
            findings: Vec::new(),
            errors: Vec::new(),
        }
    }
}

impl<W: Write> Sink for JsonSink<W> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        self.findings.push(f.clone());
        Ok(())
    }
    fn error(&mut self, e: &ErrorRecord) -> io::Result<()> {
        self.errors.push(e.clone());
        Ok(())
    }
    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        #[derive(Serialize)]
        struct Doc<'a> {
            findings: &'a [Finding],
            errors: &'a [ErrorRecord],
            summary: &'a Summary,
        }
        serde_json::to_writer_pretty(
            &mut self.out,
            &Doc {
                findings: &self.findings,
                errors: &self.errors,
                summary: s,
            },
        )?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

/// Readable in a terminal: findings grouped by file, masked, then the summary.
pub struct TextSink<W: Write> {
    pub out: W,
    last_path: Option<String>,
}

impl<W: Write> TextSink<W> {
    pub fn new(out: W) -> Self {
        TextSink { out, last_path: None }
    }
}

impl<W: Write> Sink for TextSink<W> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        let mut where_ = f.path.clone();
        if let Some(m) = &f.member {
            where_ = format!("{where_} ▸ {}", m.join(" ▸ "));
        }
        if self.last_path.as_deref() != Some(where_.as_str()) {
            writeln!(self.out, "\n{where_}")?;
            self.last_path = Some(where_);
        }
        let pos = match (f.line, f.column) {
            (Some(l), Some(c)) => format!("{l}:{c}"),
            (Some(l), None) => format!("{l}"),
            _ => String::from("-"),
        };
        write!(self.out, "  {pos:<9} {:<6} {:<32} {}", f.confidence, f.rule, f.masked)?;
        if let Some(st) = f.status {
            write!(self.out, "  ({st})")?;
        }
        if let Some(v) = &f.value {
            write!(self.out, "  value={v}")?;
        }
        if let Some(field) = &f.field {
            write!(self.out, "  field={field}")?;
        }
        writeln!(self.out, "  [{}]", f.evidence.join(", "))
    }
    fn error(&mut self, e: &ErrorRecord) -> io::Result<()> {
        let member = e
            .member
            .as_ref()
            .map(|m| format!(" ▸ {}", m.join(" ▸ ")))
            .unwrap_or_default();
        writeln!(self.out, "\nerror ({}) {}{}: {}", e.kind, e.path, member, e.message)?;
        self.last_path = None;
        Ok(())
    }
    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        writeln!(self.out)?;
        let skipped: u64 = s.files_skipped.values().sum();
        let reasons: Vec<String> = s.files_skipped.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        writeln!(
            self.out,
            "{} files scanned ({} bytes), {} skipped{}, {} errors{}",
            s.files_scanned,
            s.bytes_scanned,
            skipped,
            if reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", reasons.join(", "))
            },
            s.errors,
            if s.complete { "" } else { " — the scan is INCOMPLETE" },
        )?;
        let total: u64 = s.findings.values().sum();
        writeln!(self.out, "{total} findings")?;
        for (rule, n) in &s.findings {
            writeln!(
                self.out,
                "  {rule:<32} {n:>6} findings, {:>6} distinct",
                s.distinct.get(rule).copied().unwrap_or(0)
            )?;
        }
        if let Some(st) = &s.status {
            let get = |k: &str| st.get(k).copied().unwrap_or(0);
            writeln!(
                self.out,
                "since the last run: {} new, {} unchanged, {} resolved; {} files unchanged and not read again",
                get("new"),
                get("unchanged"),
                get("resolved"),
                s.files_unchanged.unwrap_or(0)
            )?;
        }
        if let Some(n) = s.baselined {
            writeln!(self.out, "{n} findings accepted by the baseline")?;
        }
        if let Some(n) = s.allowed {
            writeln!(self.out, "{n} findings allowed (allowlist or appiscan:allow)")?;
        }
        for e in &s.allowlist_expired {
            writeln!(
                self.out,
                "allowlist entry expired on {} and no longer applies: {}",
                e.expires, e.reason
            )?;
        }
        if let Some(d) = &s.destination
            && let Some(n) = &d.notice
        {
            writeln!(self.out, "{n}")?;
        }
        self.out.flush()
    }
}

/// Masks a matched text: every identifying character (a letter or digit, ASCII or full-width)
/// but the last four becomes `*`; separators and other characters stay.
pub fn mask(text: &str) -> String {
    let is_id = |c: char| {
        c.is_ascii_alphanumeric()
            || ('\u{FF10}'..='\u{FF19}').contains(&c)
            || ('\u{FF21}'..='\u{FF3A}').contains(&c)
            || ('\u{FF41}'..='\u{FF5A}').contains(&c)
    };
    let total = text.chars().filter(|&c| is_id(c)).count();
    let keep_from = total.saturating_sub(4);
    let mut seen = 0;
    text.chars()
        .map(|c| {
            if is_id(c) {
                seen += 1;
                if seen <= keep_from {
                    return '*';
                }
            }
            c
        })
        .collect()
}

/// A name that may hold a value (a CSV header that was really data, a JSON key that is a
/// number): every run of letters and digits with six or more digits in it is masked like a value.
pub fn redact(name: &str) -> String {
    let is_id = |c: char| crate::fold::fold_char(c, false, false).is_ascii_alphanumeric();
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    while i < chars.len() {
        if !is_id(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let j = (i..chars.len()).find(|&k| !is_id(chars[k])).unwrap_or(chars.len());
        let run: String = chars[i..j].iter().collect();
        let digits = run
            .chars()
            .filter(|&c| crate::fold::fold_char(c, false, false).is_ascii_digit())
            .count();
        if digits >= 6 {
            out.push_str(&mask(&run));
        } else {
            out.push_str(&run);
        }
        i = j;
    }
    out
}

/// HMAC-SHA256 of the canonical value under `key`, as lowercase hex (SPEC §6).
pub fn fingerprint(key: &[u8], canonical: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(canonical.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_separators_and_last_four() {
        assert_eq!(mask("1234-5678-9018"), "****-****-9018");
        assert_eq!(mask("１２３４ ５６７８ ９０１８"), "**** **** ９０１８");
        assert_eq!(mask("TK1234567"), "*****4567");
    }

    #[test]
    fn names_holding_values_are_redacted() {
        assert_eq!(redact("$.913909960300.my_number"), "$.********0300.my_number");
        assert_eq!(
            redact("マイナンバー:５２６０１８１５９０８４"),
            "マイナンバー:********９０８４"
        );
        assert_eq!(redact("address_line2"), "address_line2");
    }

    #[test]
    fn fingerprint_is_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            fingerprint(b"Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
