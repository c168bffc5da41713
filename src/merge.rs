//! `appiscan merge` (SPEC §10): combines `jsonl` parts of one scan (shards, or scans of
//! overlapping inputs) into one report, replayed through the same sinks as a scan.
//!
//! - Findings are deduplicated on (rule, path, member, line, column, field, fingerprint), error
//!   records on (path, member, kind, message); the first occurrence is kept.
//! - `findings`, `distinct`, `errors`, `baselined` and `allowed` are recomputed from the
//!   deduplicated records; `files_scanned`, `bytes_scanned`, `files_skipped`, `files_unchanged`
//!   and `status` are summed; `targets` and `worklist` are joined; `started` is the earliest,
//!   `finished` the latest.
//! - `complete` only if every part has its summary (a part without one was cut short), every
//!   part was complete, no line was damaged and, for shard parts, every shard of the count is
//!   there. Each problem is an `error` record whose `path` is the part (or `shard:I/N` for a
//!   missing shard) and a line on standard error.
//! - Fingerprints compare across parts only under one key: parts made with an ephemeral key are
//!   refused unless `--force` (then findings of different parts are never duplicates and the
//!   distinct counts are overestimated; the summary says `ephemeral`).

use crate::patterns::Confidence;
use crate::report::{ErrorRecord, Finding, Sink, Summary, Tool};
use anyhow::bail;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

/// Summary extension `shards` of a merged report of shard parts.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShardsSummary {
    pub count: u64,
    /// Shard indices merged.
    pub parts: Vec<u64>,
    /// Shard indices of the count with no part: their inputs are not in the report.
    pub missing: Vec<u64>,
    /// Inputs taken, summed over the parts.
    pub taken: u64,
}

pub struct MergeOptions {
    pub parts: Vec<String>,
    /// `None`: never fail on findings.
    pub fail_on: Option<Confidence>,
    /// Keep `value` fields of parts made with `--show-values` (else they are dropped).
    pub show_values: bool,
    /// Merge parts made with ephemeral fingerprint keys.
    pub force: bool,
}

/// Whether a part is a count file of `appiscan risk --emit-counts`, judged by its first record.
pub fn is_risk_counts(first_line: &str) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(first_line) else {
        return false;
    };
    v.get("type").and_then(|t| t.as_str()) == Some("risk_counts")
        || v.get("schema")
            .and_then(|t| t.as_str())
            .is_some_and(|s| s.starts_with("appiscan-risk-counts"))
}

/// One part: a file, or standard input read whole.
struct Part {
    name: String,
    data: Option<Vec<u8>>,
}

impl Part {
    fn reader(&self) -> std::io::Result<Box<dyn BufRead + '_>> {
        Ok(match &self.data {
            Some(d) => Box::new(&d[..]),
            None => Box::new(BufReader::with_capacity(1 << 20, std::fs::File::open(&self.name)?)),
        })
    }

    fn first_line(&self) -> std::io::Result<String> {
        let mut r = self.reader()?;
        let mut line = Vec::new();
        loop {
            line.clear();
            if r.read_until(b'\n', &mut line)? == 0 {
                return Ok(String::new());
            }
            let s = String::from_utf8_lossy(&line);
            if !s.trim().is_empty() {
                return Ok(s.trim().to_string());
            }
        }
    }

    /// The last non-empty line (the summary of a finished part), read from the end.
    fn last_line(&self) -> std::io::Result<String> {
        let tail = match &self.data {
            Some(d) => d.clone(),
            None => {
                let mut f = std::fs::File::open(&self.name)?;
                let len = f.metadata()?.len();
                let mut want = 1u64 << 16;
                loop {
                    let from = len.saturating_sub(want);
                    f.seek(SeekFrom::Start(from))?;
                    let mut buf = Vec::new();
                    (&mut f).take(len - from).read_to_end(&mut buf)?;
                    let trimmed = buf.trim_ascii_end();
                    if from == 0 || memchr::memrchr(b'\n', trimmed).is_some() {
                        break buf;
                    }
                    want *= 4;
                }
            }
        };
        let trimmed = tail.trim_ascii_end();
        let start = memchr::memrchr(b'\n', trimmed).map_or(0, |i| i + 1);
        Ok(String::from_utf8_lossy(&trimmed[start..]).trim().to_string())
    }
}

/// Later of two RFC 3339 times (UTC `Z` times compare by their digits; fractions padded).
fn time_key(t: &str) -> (String, String) {
    let t = t.trim_end_matches('Z');
    match t.split_once('.') {
        Some((a, frac)) => (a.to_string(), format!("{frac:0<9}")),
        None => (t.to_string(), "0".repeat(9)),
    }
}

fn error_kind(k: &str) -> &'static str {
    match k {
        "decode" => "decode",
        "limit" => "limit",
        "unsupported" => "unsupported",
        _ => "io",
    }
}

fn digest(v: &impl Serialize) -> [u8; 16] {
    use sha2::Digest;
    let bytes = serde_json::to_vec(v).unwrap_or_default();
    let h = sha2::Sha256::digest(&bytes);
    let mut out = [0u8; 16];
    out.copy_from_slice(&h[..16]);
    out
}

/// The merge state: what has been written, and the counts recomputed from it.
struct Merger<'a> {
    opts: &'a MergeOptions,
    sink: &'a mut dyn Sink,
    seen_findings: HashSet<[u8; 16]>,
    seen_errors: HashSet<[u8; 16]>,
    findings: BTreeMap<String, u64>,
    distinct: BTreeMap<String, HashSet<u64>>,
    errors: u64,
    baselined: u64,
    allowed: u64,
    failing: bool,
}

impl Merger<'_> {
    fn finding(&mut self, mut f: Finding) -> anyhow::Result<()> {
        let key = digest(&(&f.rule, &f.path, &f.member, f.line, f.column, &f.field, &f.fingerprint));
        if !self.seen_findings.insert(key) {
            return Ok(());
        }
        if !self.opts.show_values {
            f.value = None;
        }
        if f.status != Some("resolved") {
            *self.findings.entry(f.rule.clone()).or_default() += 1;
            let fp = u64::from_str_radix(&f.fingerprint[..16.min(f.fingerprint.len())], 16).unwrap_or(0);
            self.distinct.entry(f.rule.clone()).or_default().insert(fp);
            match f.status {
                Some("baselined") => self.baselined += 1,
                Some("allowed") => self.allowed += 1,
                _ => {
                    if self
                        .opts
                        .fail_on
                        .is_some_and(|t| Confidence::parse(f.confidence).is_some_and(|c| c >= t))
                    {
                        self.failing = true;
                    }
                }
            }
        }
        self.sink.finding(&f)?;
        Ok(())
    }

    fn error(&mut self, e: ErrorRecord) -> anyhow::Result<()> {
        if self
            .seen_errors
            .insert(digest(&(&e.path, &e.member, e.kind, &e.message)))
        {
            self.errors += 1;
            self.sink.error(&e)?;
        }
        Ok(())
    }

    /// A problem of the merge itself (a part cut short, a shard missing): an error record and
    /// a line on standard error.
    fn problem(&mut self, path: &str, kind: &'static str, message: String) -> anyhow::Result<()> {
        eprintln!("appiscan merge: {path}: {message}");
        self.error(ErrorRecord::new(path, None, kind, message))
    }
}

fn strings(v: &serde_json::Value, k: &str) -> Vec<String> {
    v.get(k)
        .and_then(|x| x.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

fn counts(v: &serde_json::Value, k: &str) -> Option<BTreeMap<String, u64>> {
    v.get(k)?
        .as_object()
        .map(|o| o.iter().map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0))).collect())
}

/// What the merged report ended with.
pub struct Outcome {
    pub summary: Summary,
    pub failing: bool,
}

impl Outcome {
    /// Exit code as for a scan (SPEC §3): 1 for a failing finding, else 3 if incomplete, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.failing {
            1
        } else if !self.summary.complete || self.summary.errors > 0 {
            3
        } else {
            0
        }
    }
}

/// Merges the parts into `sink`. An `Err` is fatal (exit 2): parts that cannot be merged
/// (risk count files, json reports, different shardings, ephemeral keys without `--force`).
pub fn run(opts: &MergeOptions, sink: &mut dyn Sink) -> anyhow::Result<Outcome> {
    anyhow::ensure!(!opts.parts.is_empty(), "merge needs at least one part");
    let mut parts = Vec::new();
    for name in &opts.parts {
        let data = if name == "-" {
            let mut d = Vec::new();
            std::io::stdin().read_to_end(&mut d)?;
            Some(d)
        } else {
            None
        };
        parts.push(Part {
            name: name.clone(),
            data,
        });
    }
    // Check every part before writing anything.
    let mut unreadable: Vec<(usize, String)> = Vec::new();
    let mut summaries: Vec<Option<serde_json::Value>> = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let first = match p.first_line() {
            Ok(l) => l,
            Err(e) => {
                unreadable.push((i, e.to_string()));
                summaries.push(None);
                continue;
            }
        };
        if is_risk_counts(&first) {
            bail!(
                "{}: a risk count file (appiscan risk --emit-counts): risk count parts: use appiscan risk --from-counts",
                p.name
            );
        }
        if first == "{" || first.starts_with("{\"findings\"") {
            bail!("{}: a json report; merge reads parts written with -f jsonl", p.name);
        }
        let last: Option<serde_json::Value> = p.last_line().ok().and_then(|l| serde_json::from_str(&l).ok());
        summaries.push(last.filter(|v| v.get("type").and_then(|t| t.as_str()) == Some("summary")));
    }
    let with_summary: Vec<&serde_json::Value> = summaries.iter().flatten().collect();
    let ephemeral: Vec<&str> = parts
        .iter()
        .zip(&summaries)
        .filter(|(_, s)| s.as_ref().and_then(|s| s.get("fingerprint_key")?.as_str()) == Some("ephemeral"))
        .map(|(p, _)| p.name.as_str())
        .collect();
    if !ephemeral.is_empty() && parts.len() > 1 {
        let what = format!(
            "{} made with an ephemeral fingerprint key: fingerprints of different parts cannot be compared, so \
             duplicates are not found and distinct counts across parts cannot be trusted",
            ephemeral.join(", ")
        );
        if !opts.force {
            bail!("{what}; scan every part with the same --hash-key-file (or APPISCAN_HASH_KEY), or give --force");
        }
        eprintln!("appiscan merge: warning: {what}");
    }
    // Shards: one count, each index once.
    let mut shard_of: BTreeMap<u64, &str> = BTreeMap::new();
    let mut shard_count: Option<u64> = None;
    let mut taken = 0u64;
    for (p, s) in parts.iter().zip(&summaries) {
        let Some(sh) = s.as_ref().and_then(|s| s.get("shard")).filter(|v| v.is_object()) else {
            continue;
        };
        let (Some(i), Some(n)) = (
            sh.get("index").and_then(|x| x.as_u64()),
            sh.get("count").and_then(|x| x.as_u64()),
        ) else {
            bail!("{}: a shard object without index and count", p.name);
        };
        match shard_count {
            Some(c) if c != n => bail!("{}: shard {i} of {n}, but other parts are shards of {c}", p.name),
            _ => shard_count = Some(n),
        }
        if let Some(other) = shard_of.insert(i, &p.name) {
            bail!(
                "{} and {other} are both shard {i} of {n}: a retried shard must overwrite its part, not add one",
                p.name
            );
        }
        taken += sh.get("taken").and_then(|x| x.as_u64()).unwrap_or(0);
    }
    let versions: BTreeSet<&str> = with_summary
        .iter()
        .filter_map(|s| s.get("rules_version")?.as_str())
        .collect();
    if versions.len() > 1 {
        eprintln!(
            "appiscan merge: warning: the parts were made with different rule sets ({})",
            versions.iter().copied().collect::<Vec<_>>().join(", ")
        );
    }

    let mut m = Merger {
        opts,
        sink,
        seen_findings: HashSet::new(),
        seen_errors: HashSet::new(),
        findings: BTreeMap::new(),
        distinct: BTreeMap::new(),
        errors: 0,
        baselined: 0,
        allowed: 0,
        failing: false,
    };
    let mut incomplete = false;
    let mut warned_types: BTreeSet<String> = BTreeSet::new();
    for (i, p) in parts.iter().enumerate() {
        if let Some((_, e)) = unreadable.iter().find(|(j, _)| *j == i) {
            incomplete = true;
            m.problem(&p.name, "io", format!("part not read: {e}"))?;
            continue;
        }
        let mut r = p.reader()?;
        let mut buf = Vec::new();
        let (mut n, mut damaged, mut first_damaged) = (0u64, 0u64, 0u64);
        loop {
            buf.clear();
            if r.read_until(b'\n', &mut buf)? == 0 {
                break;
            }
            n += 1;
            let line = buf.trim_ascii();
            if line.is_empty() {
                continue;
            }
            let v: Option<serde_json::Value> = serde_json::from_slice(line).ok();
            let ty = v.as_ref().and_then(|v| v.get("type")?.as_str().map(String::from));
            match (ty.as_deref(), &v) {
                (Some("finding"), Some(v)) => match Finding::from_json(v) {
                    Some(f) => m.finding(f)?,
                    None => {
                        damaged += 1;
                        if damaged == 1 {
                            first_damaged = n;
                        }
                    }
                },
                (Some("error"), Some(v)) => {
                    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
                    let member = v.get("member").is_some().then(|| strings(v, "member"));
                    m.error(ErrorRecord::new(
                        &s("path"),
                        member,
                        error_kind(&s("kind")),
                        s("message"),
                    ))?;
                }
                (Some("summary"), _) => {}
                (Some(other), _) => {
                    if warned_types.insert(other.to_string()) {
                        eprintln!("appiscan merge: records of type {other:?} are not merged");
                    }
                }
                (None, _) => {
                    damaged += 1;
                    if damaged == 1 {
                        first_damaged = n;
                    }
                }
            }
        }
        if damaged > 0 {
            incomplete = true;
            m.problem(
                &p.name,
                "decode",
                format!(
                    "{damaged} line(s) are not report records (the first: line {first_damaged}); the part is damaged"
                ),
            )?;
        }
        match &summaries[i] {
            None => {
                incomplete = true;
                m.problem(
                    &p.name,
                    "io",
                    "no summary: the scan that wrote this part did not finish (killed, or cut short); \
                     its inputs may be missing from this report"
                        .into(),
                )?;
            }
            Some(s) if s.get("complete").and_then(|c| c.as_bool()) != Some(true) => incomplete = true,
            Some(_) => {}
        }
    }
    let shards = match shard_count {
        Some(count) => {
            let missing: Vec<u64> = (0..count).filter(|i| !shard_of.contains_key(i)).collect();
            for i in &missing {
                incomplete = true;
                m.problem(
                    &format!("shard:{i}/{count}"),
                    "io",
                    format!("no part for shard {i} of {count}: its inputs are not in this report"),
                )?;
            }
            Some(ShardsSummary {
                count,
                parts: shard_of.keys().copied().collect(),
                missing,
                taken,
            })
        }
        None => None,
    };

    // The summary.
    let sum = |k: &str| with_summary.iter().filter_map(|s| s.get(k)?.as_u64()).sum::<u64>();
    let sum_maps = |k: &str| -> Option<BTreeMap<String, u64>> {
        let mut out: Option<BTreeMap<String, u64>> = None;
        for s in &with_summary {
            if let Some(c) = counts(s, k) {
                let o = out.get_or_insert_with(BTreeMap::new);
                for (r, n) in c {
                    *o.entry(r).or_default() += n;
                }
            }
        }
        out
    };
    let mut targets: Vec<String> = Vec::new();
    let mut worklist: Vec<String> = Vec::new();
    for s in &with_summary {
        for t in strings(s, "targets") {
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
        for t in strings(s, "worklist") {
            if !worklist.contains(&t) {
                worklist.push(t);
            }
        }
    }
    let times = |k: &str| -> Vec<String> {
        with_summary
            .iter()
            .filter_map(|s| s.get(k)?.as_str().map(String::from))
            .collect()
    };
    let started = times("started")
        .into_iter()
        .min_by_key(|t| time_key(t))
        .unwrap_or_default();
    let finished = times("finished")
        .into_iter()
        .max_by_key(|t| time_key(t))
        .unwrap_or_default();
    let has = |k: &str| with_summary.iter().any(|s| s.get(k).is_some_and(|v| !v.is_null()));
    let mut expired: Vec<crate::accept::Expired> = Vec::new();
    for s in &with_summary {
        for e in s
            .get("allowlist_expired")
            .and_then(|x| x.as_array())
            .into_iter()
            .flatten()
        {
            let g = |k: &str| e.get(k).and_then(|x| x.as_str()).map(String::from);
            let x = crate::accept::Expired {
                fingerprint: g("fingerprint"),
                path: g("path"),
                rule: g("rule"),
                reason: g("reason").unwrap_or_default(),
                expires: g("expires").unwrap_or_default(),
            };
            if !expired.contains(&x) {
                expired.push(x);
            }
        }
    }
    let destination = with_summary.iter().find_map(|s| {
        let d = s.get("destination")?;
        let g = |k: &str| d.get(k).and_then(|x| x.as_str()).map(String::from);
        Some(crate::destination::Destination {
            url: g("url")?,
            region: g("region"),
            country: g("country").unwrap_or_else(|| "unknown".into()),
            outside_japan: d.get("outside_japan").and_then(|x| x.as_bool()),
            notice: g("notice"),
        })
    });
    let provided = !with_summary.is_empty()
        && with_summary
            .iter()
            .all(|s| s.get("fingerprint_key").and_then(|x| x.as_str()) == Some("provided"));
    let errors = m.errors;
    let summary = Summary {
        kind: "summary",
        tool: Tool {
            name: "appiscan",
            version: env!("CARGO_PKG_VERSION"),
        },
        started,
        finished,
        targets,
        files_scanned: sum("files_scanned"),
        bytes_scanned: sum("bytes_scanned"),
        files_skipped: sum_maps("files_skipped").unwrap_or_default(),
        errors,
        findings: std::mem::take(&mut m.findings),
        distinct: m.distinct.iter().map(|(k, v)| (k.clone(), v.len() as u64)).collect(),
        complete: !incomplete && errors == 0,
        fingerprint_key: if provided { "provided" } else { "ephemeral" },
        rules_version: versions.iter().next().map(|s| s.to_string()).unwrap_or_default(),
        status: sum_maps("status"),
        files_unchanged: has("files_unchanged").then(|| sum("files_unchanged")),
        baselined: (has("baselined") || m.baselined > 0).then_some(m.baselined),
        allowed: (has("allowed") || m.allowed > 0).then_some(m.allowed),
        allowlist_expired: expired,
        destination,
        shard: None,
        worklist,
        merged_parts: Some(parts.len() as u64),
        shards,
    };
    m.sink.finish(&summary)?;
    Ok(Outcome {
        summary,
        failing: m.failing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_count_parts_are_recognised() {
        assert!(is_risk_counts(
            r#"{"type":"risk_counts","schema":"appiscan-risk-counts/1","records":3}"#
        ));
        assert!(!is_risk_counts(r#"{"type":"finding","rule":"jp.my_number"}"#));
        assert!(!is_risk_counts("not json"));
    }

    #[test]
    fn times_compare_with_fractions() {
        let mut t = vec!["2026-01-01T00:00:01Z", "2026-01-01T00:00:00.5Z", "2026-01-01T00:00:00Z"];
        t.sort_by_key(|x| time_key(x));
        assert_eq!(
            t,
            ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00.5Z", "2026-01-01T00:00:01Z"]
        );
    }
}
