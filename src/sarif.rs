//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning accepts it.
//!
//! One run. The head (schema, `tool.driver` with every rule of the rule set) is written before
//! the first result, each result as it arrives (one compact JSON object per line, comma-separated),
//! and the tail (`invocations` with the error records as notifications, the summary as
//! `run.properties`) in `finish`: findings are never buffered, errors (few) are held until the end.
//! The README's "SARIF" section describes the mapping.

use crate::patterns::RuleSet;
use crate::report::{ErrorRecord, Finding, Sink, Summary};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// The schema the log declares: the OASIS publication of SARIF 2.1.0 with errata 01 (the same
/// document as tests/data/sarif-schema-2.1.0.json).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// The base of relative artifact URIs: the directory `appiscan` ran in.
pub const SRCROOT: &str = "%SRCROOT%";
/// The key of `result.partialFingerprints`; the `/v1` changes if what it hashes ever changes.
pub const FINGERPRINT_KEY: &str = "appiscanFingerprint/v1";
/// Error kinds of SPEC §4, listed as `tool.driver.notifications`.
const ERROR_KINDS: [(&str, &str); 4] = [
    ("io", "An input could not be read."),
    (
        "decode",
        "An input could not be decoded (corrupt, truncated or undecodable data).",
    ),
    (
        "limit",
        "An input exceeded a limit (depth, expanded bytes, ratio, members) and was not scanned completely.",
    ),
    (
        "unsupported",
        "An input uses a feature that is not supported (e.g. an encrypted archive member).",
    ),
];

pub struct SarifSink<W: Write> {
    out: W,
    /// `tool.driver.rules`, in rule-set order (`ruleIndex`).
    descriptors: Vec<Value>,
    /// "name_en (name_ja)" of each rule, for messages.
    names: Vec<String>,
    index: HashMap<String, usize>,
    rules_version: String,
    cwd: Option<PathBuf>,
    head_written: bool,
    results: u64,
    errors: Vec<ErrorRecord>,
    /// Occurrences of each location hash in the current file (findings of one file arrive
    /// together), for the `:n` suffix of the partial fingerprint.
    file: String,
    seen: HashMap<String, u32>,
}

impl<W: Write> SarifSink<W> {
    pub fn new(out: W, rules: &RuleSet) -> Self {
        SarifSink {
            out,
            descriptors: rules.rules.iter().map(rule_descriptor).collect(),
            names: rules
                .rules
                .iter()
                .map(|r| format!("{} ({})", r.name_en, r.name_ja))
                .collect(),
            index: rules.rules.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect(),
            rules_version: rules.version.clone(),
            cwd: std::env::current_dir().ok(),
            head_written: false,
            results: 0,
            errors: Vec::new(),
            file: String::new(),
            seen: HashMap::new(),
        }
    }

    fn head(&mut self) -> io::Result<()> {
        if self.head_written {
            return Ok(());
        }
        self.head_written = true;
        let version = env!("CARGO_PKG_VERSION");
        let notifications: Vec<Value> = ERROR_KINDS
            .iter()
            .map(|(id, text)| json!({"id": id, "shortDescription": {"text": text}}))
            .collect();
        let tool = json!({
            "driver": {
                "name": "appiscan",
                "semanticVersion": version,
                "version": version,
                "rules": self.descriptors,
                "notifications": notifications,
                "properties": {"rules_version": self.rules_version},
            }
        });
        let mut base = Map::new();
        if let Some(uri) = self.cwd.as_deref().and_then(dir_uri) {
            base.insert(SRCROOT.into(), json!({"uri": uri}));
        }
        write!(
            self.out,
            "{{\n\"$schema\": {},\n\"version\": \"2.1.0\",\n\"runs\": [{{\n\"tool\": ",
            Value::from(SCHEMA_URI)
        )?;
        serde_json::to_writer_pretty(&mut self.out, &tool)?;
        self.out.write_all(b",\n\"columnKind\": \"unicodeCodePoints\",\n")?;
        if !base.is_empty() {
            self.out.write_all(b"\"originalUriBaseIds\": ")?;
            serde_json::to_writer(&mut self.out, &base)?;
            self.out.write_all(b",\n")?;
        }
        self.out.write_all(b"\"results\": [")
    }

    fn location(&self, path: &str) -> Value {
        let (uri, relative) = artifact_uri(path, self.cwd.as_deref());
        let mut loc = json!({"uri": uri});
        if relative && self.cwd.is_some() {
            loc["uriBaseId"] = json!(SRCROOT);
        }
        loc
    }

    fn result(&mut self, f: &Finding) -> Value {
        let rule_index = self.index.get(&f.rule).copied();
        let level = match f.confidence {
            "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        let mut physical = json!({"artifactLocation": self.location(&f.path)});
        // A line inside a container member is a line of the member, not of the outer file: the
        // region is given only for findings in the file itself.
        if f.member.is_none()
            && let Some(line) = f.line.filter(|&l| l >= 1)
        {
            let mut region = json!({"startLine": line});
            if let Some(c) = f.column.filter(|&c| c >= 1) {
                region["startColumn"] = json!(c);
            }
            physical["region"] = region;
        }
        let mut location = json!({"physicalLocation": physical});
        if let Some(m) = &f.member {
            location["logicalLocations"] = json!([{
                "name": m.last().cloned().unwrap_or_default(),
                "fullyQualifiedName": member_chain(&f.path, m),
                "kind": "member",
            }]);
        }
        let mut props = Map::new();
        props.insert("confidence".into(), json!(f.confidence));
        props.insert("score".into(), json!(f.score));
        props.insert("category".into(), json!(f.category));
        props.insert("validated".into(), json!(f.validated));
        props.insert("evidence".into(), json!(f.evidence));
        props.insert("legal_basis".into(), json!(f.legal_basis));
        props.insert("masked".into(), json!(f.masked));
        props.insert("fingerprint".into(), json!(f.fingerprint));
        if let Some(field) = &f.field {
            props.insert("field".into(), json!(field));
        }
        if let Some(m) = &f.member {
            props.insert("member".into(), json!(m));
            if let Some(l) = f.line {
                props.insert("line".into(), json!(l));
            }
            if let Some(c) = f.column {
                props.insert("column".into(), json!(c));
            }
        }
        if let Some(s) = f.status {
            props.insert("status".into(), json!(s));
        }
        if let Some(v) = &f.value {
            props.insert("value".into(), json!(v));
        }
        let mut r = json!({
            "ruleId": f.rule,
            "level": level,
            "message": {"text": message(f, rule_index.map(|i| self.names[i].as_str()))},
            "locations": [location],
            "partialFingerprints": {FINGERPRINT_KEY: self.partial_fingerprint(f)},
            "properties": props,
        });
        if let Some(i) = rule_index {
            r["ruleIndex"] = json!(i);
        }
        match f.status {
            Some("new") => r["baselineState"] = json!("new"),
            Some("unchanged") => r["baselineState"] = json!("unchanged"),
            // Gone since the last run: kept for SARIF consumers that track baselines, as a
            // `pass` (which SARIF requires at level `none`), not as a problem.
            Some("resolved") => {
                r["baselineState"] = json!("absent");
                r["kind"] = json!("pass");
                r["level"] = json!("none");
            }
            Some("baselined") => {
                r["suppressions"] = json!([{"kind": "external", "status": "accepted", "justification": "baseline"}])
            }
            Some("allowed") => {
                r["suppressions"] = json!([{"kind": "external", "status": "accepted", "justification": "allowlist"}])
            }
            _ => {}
        }
        r
    }

    /// SHA-256 over the rule, the value's HMAC fingerprint and where it is (path, member chain,
    /// field), NUL-separated, as lowercase hex, then `:n` for its n-th occurrence in the file.
    /// Stable across runs with the same key; the line is left out, so that an edit above a
    /// finding does not make it a new alert, and the occurrence number keeps two results of the
    /// same value in one place apart.
    fn partial_fingerprint(&mut self, f: &Finding) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let parts = [f.rule.as_str(), f.fingerprint.as_str(), f.path.as_str()];
        let member = f.member.iter().flatten().map(String::as_str);
        let field = [f.field.as_deref().unwrap_or("")];
        for part in parts.into_iter().chain(member).chain(field) {
            h.update(part.as_bytes());
            h.update([0]);
        }
        let hash = hex::encode(h.finalize());
        if self.file != f.path {
            self.file = f.path.clone();
            self.seen.clear();
        }
        let n = self.seen.entry(hash.clone()).or_insert(0);
        *n += 1;
        format!("{hash}:{n}")
    }

    fn notification(&self, e: &ErrorRecord) -> Value {
        let mut text = format!("{} error: {}", e.kind, e.message);
        if let Some(m) = &e.member {
            text = format!("{text} (in {})", member_chain(&e.path, m));
        }
        let mut location = json!({"physicalLocation": {"artifactLocation": self.location(&e.path)}});
        if let Some(m) = &e.member {
            location["logicalLocations"] = json!([{
                "name": m.last().cloned().unwrap_or_default(),
                "fullyQualifiedName": member_chain(&e.path, m),
                "kind": "member",
            }]);
        }
        let mut descriptor = json!({"id": e.kind});
        if let Some(i) = ERROR_KINDS.iter().position(|(k, _)| *k == e.kind) {
            descriptor["index"] = json!(i);
        }
        let mut props = json!({"kind": e.kind, "path": e.path});
        if let Some(m) = &e.member {
            props["member"] = json!(m);
        }
        json!({
            "level": "error",
            "message": {"text": text},
            "locations": [location],
            "descriptor": descriptor,
            "properties": props,
        })
    }
}

impl<W: Write> Sink for SarifSink<W> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        self.head()?;
        let r = self.result(f);
        self.out.write_all(if self.results == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut self.out, &r)?;
        self.results += 1;
        Ok(())
    }

    fn error(&mut self, e: &ErrorRecord) -> io::Result<()> {
        self.errors.push(e.clone());
        Ok(())
    }

    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        self.head()?;
        let notifications: Vec<Value> = self.errors.iter().map(|e| self.notification(e)).collect();
        let mut invocation = json!({
            "executionSuccessful": s.complete,
            "toolExecutionNotifications": notifications,
        });
        if !s.started.is_empty() {
            invocation["startTimeUtc"] = json!(s.started);
        }
        if !s.finished.is_empty() {
            invocation["endTimeUtc"] = json!(s.finished);
        }
        let properties = json!({
            "targets": s.targets,
            "files_scanned": s.files_scanned,
            "bytes_scanned": s.bytes_scanned,
            "files_skipped": s.files_skipped,
            "errors": s.errors,
            "findings": s.findings,
            "distinct": s.distinct,
            "complete": s.complete,
            "fingerprint_key": s.fingerprint_key,
            "rules_version": s.rules_version,
        });
        write!(self.out, "\n],\n\"invocations\": ")?;
        serde_json::to_writer_pretty(&mut self.out, &json!([invocation]))?;
        write!(self.out, ",\n\"properties\": ")?;
        serde_json::to_writer_pretty(&mut self.out, &properties)?;
        self.out.write_all(b"\n}]\n}\n")?;
        self.out.flush()
    }
}

/// `tool.driver.rules[i]` for one rule.
fn rule_descriptor(r: &crate::patterns::Rule) -> Value {
    let what = category_text(&r.category);
    let full = format!("{} / {}: {what}. Legal basis: {}.", r.name_ja, r.name_en, r.legal_basis);
    let help_text = format!(
        "{} ({}): {what}. Legal basis: {}. Reported values are masked; the fingerprint (HMAC-SHA256 of \
         the canonical value) identifies the same value across files, and across runs that use the same key.",
        r.name_en, r.name_ja, r.legal_basis
    );
    let help_markdown = format!(
        "**{}** ({})\n\n- Category: `{}`: {what}\n- Legal basis: **{}**\n\nReported values are masked; the \
         fingerprint (HMAC-SHA256 of the canonical value) identifies the same value across files, and across \
         runs that use the same key.",
        r.name_en, r.name_ja, r.category, r.legal_basis
    );
    json!({
        "id": r.id,
        "name": pascal_name(&r.name_en),
        "shortDescription": {"text": r.name_en},
        "fullDescription": {"text": full},
        "help": {"text": help_text, "markdown": help_markdown},
        "defaultConfiguration": {"level": "warning"},
        "properties": {
            "tags": [r.category.as_str(), "privacy", "appi"],
            "name_ja": r.name_ja,
            "legal_basis": r.legal_basis,
        },
    })
}

/// What a category means, for rule descriptions.
fn category_text(category: &str) -> String {
    match category {
        "identification_code" => "an individual identification code (個人識別符号, APPI Art. 2(2))".into(),
        "biometric" => "biometric-derived data, an individual identification code (個人識別符号, 施行令1条1号)".into(),
        "sensitive" => {
            "sensitive personal information (要配慮個人情報, APPI Art. 2(3), or a sensitive category named by the \
             legal basis)"
                .into()
        }
        "personal_info" => "personal information (個人情報, APPI Art. 2(1))".into(),
        other => format!("personal data of category {other}"),
    }
}

/// `reportingDescriptor.name` is meant to be an identifier-like name: "My Number (Individual
/// Number)" becomes "MyNumberIndividualNumber".
fn pascal_name(name: &str) -> String {
    let mut out = String::new();
    let name: String = name.chars().filter(|c| !matches!(c, '\'' | '’')).collect();
    for word in name.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let mut cs = word.chars();
        if let Some(first) = cs.next() {
            out.extend(first.to_uppercase());
            out.push_str(cs.as_str());
        }
    }
    out
}

/// `result.message.text`: the rule's names, the masked value and the evidence; the raw value
/// never (it goes to `properties.value` with `--show-values`).
fn message(f: &Finding, name: Option<&str>) -> String {
    let name = name.unwrap_or(&f.rule);
    let mut text = format!("{name}: {} [{} confidence", f.masked, f.confidence);
    if !f.evidence.is_empty() {
        text.push_str("; ");
        text.push_str(&f.evidence.join(", "));
    }
    text.push(']');
    if let Some(field) = &f.field {
        text.push_str(&format!(" in field {field}"));
    }
    if let Some(m) = &f.member {
        text.push_str(&format!(" in {}", member_chain(&f.path, m)));
        if let Some(l) = f.line {
            text.push_str(&format!(", line {l}"));
            if let Some(c) = f.column {
                text.push_str(&format!(", column {c}"));
            }
        }
    }
    text
}

/// `outer.zip > inner.tar > a/b.csv`.
fn member_chain(path: &str, member: &[String]) -> String {
    std::iter::once(path)
        .chain(member.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" > ")
}

/// Percent-encodes everything but RFC 3986 unreserved characters and (if `keep_slash`) `/`.
fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `.` dropped, `..` applied: a path without symbolic-link resolution.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                // `/..` is `/`.
                Some(Component::RootDir) | Some(Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A relative path's segments joined with `/`, each percent-encoded.
fn relative_uri(p: &Path) -> String {
    p.components()
        .map(|c| encode(&c.as_os_str().to_string_lossy(), false))
        .collect::<Vec<_>>()
        .join("/")
}

/// `file:///abs/path` with every segment percent-encoded.
fn file_uri(abs: &Path) -> String {
    let mut s = String::from("file://");
    for c in abs.components() {
        match c {
            Component::RootDir => {}
            Component::Prefix(p) => {
                s.push('/');
                s.push_str(&p.as_os_str().to_string_lossy().replace('\\', "/"));
                continue;
            }
            other => {
                s.push('/');
                s.push_str(&encode(&other.as_os_str().to_string_lossy(), false));
            }
        }
    }
    if s == "file://" {
        s.push('/');
    }
    s
}

/// The run's `%SRCROOT%`: the directory as a `file:` URI ending in `/`.
fn dir_uri(dir: &Path) -> Option<String> {
    if !dir.is_absolute() {
        return None;
    }
    let mut s = file_uri(&lexical(dir));
    if !s.ends_with('/') {
        s.push('/');
    }
    Some(s)
}

/// The artifact URI of a report path, and whether it is relative to `cwd` (`%SRCROOT%`):
/// - `-` (standard input) stays `-`;
/// - a URL (`s3://bucket/key`) keeps its scheme and authority, the rest percent-encoded;
/// - a path under `cwd`, given relative or absolute, becomes a relative reference with `/`
///   between percent-encoded segments (`data/%E7%A4%BE%20a.csv`);
/// - any other path becomes a `file:///` URI.
pub fn artifact_uri(path: &str, cwd: Option<&Path>) -> (String, bool) {
    if path == "-" {
        return ("-".into(), false);
    }
    if let Some(at) = path.find("://") {
        let scheme = &path[..at];
        let is_scheme = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if is_scheme {
            let rest = &path[at + 3..];
            let (authority, key) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            return (
                format!("{scheme}://{}{}", encode(authority, false), encode(key, true)),
                false,
            );
        }
    }
    let p = if cfg!(windows) {
        PathBuf::from(path.replace('\\', "/"))
    } else {
        PathBuf::from(path)
    };
    let abs = match (p.is_absolute(), cwd) {
        (true, _) => lexical(&p),
        (false, Some(cwd)) => lexical(&cwd.join(&p)),
        (false, None) => {
            let l = lexical(&p);
            return (relative_uri(&l), true);
        }
    };
    if let Some(cwd) = cwd
        && let Ok(rel) = abs.strip_prefix(lexical(cwd))
        && !rel.as_os_str().is_empty()
    {
        return (relative_uri(rel), true);
    }
    (file_uri(&abs), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_under_the_working_directory() {
        let cwd = Path::new("/work/repo");
        let u = |p: &str| artifact_uri(p, Some(cwd));
        assert_eq!(u("data/a.csv"), ("data/a.csv".into(), true));
        assert_eq!(u("./data/./a.csv"), ("data/a.csv".into(), true));
        assert_eq!(u("/work/repo/data/a.csv"), ("data/a.csv".into(), true));
        assert_eq!(
            u("データ/社員 名簿.csv"),
            (
                "%E3%83%87%E3%83%BC%E3%82%BF/%E7%A4%BE%E5%93%A1%20%E5%90%8D%E7%B0%BF.csv".into(),
                true
            )
        );
        assert_eq!(u("a%b#c?d:e.csv"), ("a%25b%23c%3Fd%3Ae.csv".into(), true));
        assert_eq!(u("../other/a.csv"), ("file:///work/other/a.csv".into(), false));
        assert_eq!(u("/tmp/x y.csv"), ("file:///tmp/x%20y.csv".into(), false));
        assert_eq!(u("-"), ("-".into(), false));
        assert_eq!(
            u("s3://bucket/dir/a b.csv"),
            ("s3://bucket/dir/a%20b.csv".into(), false)
        );
        assert_eq!(artifact_uri("../a.csv", None), ("../a.csv".into(), true));
    }

    #[test]
    fn base_directory_uri_ends_with_a_slash() {
        assert_eq!(dir_uri(Path::new("/work/my repo")).unwrap(), "file:///work/my%20repo/");
        assert_eq!(dir_uri(Path::new("/")).unwrap(), "file:///");
    }

    fn finding(rule: &str, status: Option<&'static str>, member: Option<Vec<String>>) -> Finding {
        Finding {
            kind: "finding",
            rule: rule.into(),
            category: "identification_code".into(),
            confidence: "high",
            score: 0.9,
            path: "dir/a b.csv".into(),
            member,
            line: Some(3),
            column: Some(7),
            field: Some("個人番号".into()),
            masked: "********9084".into(),
            fingerprint: "ab".repeat(32),
            validated: true,
            evidence: vec!["checksum".into()],
            legal_basis: "施行令1条6号".into(),
            value: None,
            status,
        }
    }

    fn summary() -> Summary {
        Summary {
            kind: "summary",
            tool: crate::report::Tool {
                name: "appiscan",
                version: "0",
            },
            started: "2026-01-01T00:00:00Z".into(),
            finished: "2026-01-01T00:00:01Z".into(),
            targets: vec!["dir".into()],
            files_scanned: 1,
            bytes_scanned: 10,
            files_skipped: Default::default(),
            errors: 1,
            findings: Default::default(),
            distinct: Default::default(),
            complete: false,
            fingerprint_key: "provided",
            rules_version: "x".into(),
            status: None,
            files_unchanged: None,
            baselined: None,
            allowed: None,
            allowlist_expired: Vec::new(),
            destination: None,
            shard: None,
            worklist: Vec::new(),
            merged_parts: None,
            shards: None,
        }
    }

    #[test]
    fn results_stream_and_statuses_map_to_baseline_states_and_suppressions() {
        let rules = RuleSet::builtin();
        let mut sink = SarifSink::new(Vec::new(), rules);
        sink.finding(&finding("jp.my_number", None, None)).unwrap();
        // Written before `finish`: nothing is held back but the errors.
        assert!(String::from_utf8_lossy(&sink.out).contains("\"ruleId\":\"jp.my_number\""));
        for status in ["new", "unchanged", "resolved", "baselined", "allowed"] {
            sink.finding(&finding("jp.my_number", Some(status), None)).unwrap();
        }
        let member = Some(vec!["inner.tar".to_string(), "x.csv".to_string()]);
        sink.finding(&finding("custom.unknown", None, member.clone())).unwrap();
        sink.error(&ErrorRecord::new("dir/z.zip", member, "decode", "truncated"))
            .unwrap();
        sink.finish(&summary()).unwrap();
        let doc: Value = serde_json::from_slice(&sink.out).expect("one JSON document");
        let schema: Value =
            serde_json::from_str(include_str!("../tests/data/sarif-schema-2.1.0.json")).expect("schema");
        let v = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        let results = doc["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 7);
        let states: Vec<&Value> = results[1..4].iter().map(|r| &r["baselineState"]).collect();
        assert_eq!(states, [&json!("new"), &json!("unchanged"), &json!("absent")]);
        assert_eq!(results[4]["suppressions"][0]["justification"], "baseline");
        assert_eq!(results[5]["suppressions"][0]["justification"], "allowlist");
        assert_eq!(results[3]["properties"]["status"], "resolved");
        assert_eq!(
            (&results[3]["kind"], &results[3]["level"]),
            (&json!("pass"), &json!("none"))
        );
        // A rule outside the rule set: no ruleIndex; a member: no region, the chain in properties.
        let last = &results[6];
        assert!(last.get("ruleIndex").is_none());
        assert!(last["locations"][0]["physicalLocation"].get("region").is_none());
        assert_eq!(last["properties"]["line"], 3);
        assert_eq!(
            last["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "dir/a b.csv > inner.tar > x.csv"
        );
        let inv = &doc["runs"][0]["invocations"][0];
        assert_eq!(inv["executionSuccessful"], false);
        assert_eq!(inv["toolExecutionNotifications"][0]["descriptor"]["id"], "decode");
        assert_eq!(inv["toolExecutionNotifications"][0]["descriptor"]["index"], 1);
    }

    #[test]
    fn rule_names_are_identifiers() {
        assert_eq!(pascal_name("My Number (Individual Number)"), "MyNumberIndividualNumber");
        assert_eq!(pascal_name("Driver's licence number"), "DriversLicenceNumber");
    }
}
