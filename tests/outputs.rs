//! `--format sarif` and `--format csv` (SPEC §9, README "SARIF" and "CSV"): the binary is run on
//! generated trees, and each report is checked against `--format jsonl` of the same scan. SARIF is
//! validated against the OASIS SARIF 2.1.0 JSON schema kept in tests/data (see its README), and
//! against the constraints of GitHub code scanning that can be checked without uploading.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use support::{Rng, my_number};

const KEY: &str = "outputs-test-key";

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `appiscan scan ARGS` in `dir` with a fixed hash key and no other `APPISCAN_*` variable,
/// `stdin` piped in when given.
fn scan(dir: &Path, args: &[&str], stdin: Option<&str>) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_appiscan"));
    cmd.current_dir(dir).arg("scan").args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("APPISCAN_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("APPISCAN_HASH_KEY", KEY)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run appiscan");
    if let Some(text) = stdin {
        let mut w = child.stdin.take().unwrap();
        w.write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("the report is UTF-8"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn jsonl(out: &Out) -> (Vec<Value>, Vec<Value>, Value) {
    let recs: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let of = |t: &str| recs.iter().filter(|r| r["type"] == t).cloned().collect::<Vec<_>>();
    let summary = recs.last().cloned().expect("a summary");
    assert_eq!(summary["type"], "summary");
    (of("finding"), of("error"), summary)
}

fn write(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        z.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap().into_inner()
}

fn gzip_of(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// `n` distinct valid My Numbers (random bodies, check digits from tests/support).
fn my_numbers(seed: u64, n: usize) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let mut out: Vec<String> = Vec::new();
    while out.len() < n {
        let v = my_number(&rng.digits(11));
        if !v.starts_with('0') && !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn spaced(v: &str) -> String {
    format!("{} {} {}", &v[..4], &v[4..8], &v[8..])
}

/// RFC 3986 percent-encoding of one path segment, written here independently of the sink.
fn pct(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn rel_uri(path: &str) -> String {
    path.split('/').map(pct).collect::<Vec<_>>().join("/")
}

/// The tree most tests scan: a CSV whose path has a space and Japanese characters, a zip with a
/// CSV member, a truncated gzip (an error inside a member), and a missing target (an `io`
/// error). Returns the raw values written.
fn make_tree(dir: &Path) -> Vec<String> {
    let v = my_numbers(0x5A21F, 5);
    write(
        dir,
        "data/社員 名簿.csv",
        format!("氏名,個人番号\n山田 太郎,{}\n佐藤 花子,{}\n", spaced(&v[0]), v[1]),
    );
    let member = format!("id,マイナンバー\n1,{}\n2,{}\n", v[2], v[3]);
    write(dir, "archive.zip", zip_of(&[("export/people.csv", member.as_bytes())]));
    let gz = gzip_of(format!("個人番号\n{}\n", v[4]).repeat(200).as_bytes());
    write(dir, "broken.csv.gz", &gz[..gz.len() / 2]);
    v
}

const TARGETS: [&str; 5] = ["data", "archive.zip", "broken.csv.gz", "missing.csv", "-"];

// ---------------------------------------------------------------------------------------------
// SARIF
// ---------------------------------------------------------------------------------------------

/// The OASIS SARIF 2.1.0 schema (errata 01) with format checks, twice: under the draft it
/// declares (04), and under draft 07, whose `uri-reference` format draft 04 lacks (the schema
/// uses no keyword whose meaning differs between the two).
fn validators() -> Vec<jsonschema::Validator> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    assert_eq!(
        schema["id"],
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    );
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
    let declared = jsonschema::options().should_validate_formats(true).build(&schema);
    let draft7 = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema);
    vec![
        declared.expect("the schema compiles"),
        draft7.expect("the schema compiles as draft 07"),
    ]
}

/// The report parses as one JSON document that validates against the schema.
fn valid_sarif(out: &Out) -> Value {
    let doc: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}\n{}", out.stdout, out.stderr));
    for v in validators() {
        let errors: Vec<String> = v
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "not valid SARIF 2.1.0:\n{}", errors.join("\n"));
    }
    doc
}

/// What GitHub code scanning requires beyond the schema, as far as it can be checked offline.
fn github_constraints(doc: &Value) {
    assert_eq!(doc["version"], "2.1.0");
    assert!(doc["$schema"].as_str().unwrap().ends_with("sarif-schema-2.1.0.json"));
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "appiscan");
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        ids.len(),
        "rule ids are unique"
    );
    for r in rules {
        assert!(r["shortDescription"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(r["fullDescription"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(r["help"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        let tags: Vec<&str> = r["properties"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(tags.contains(&"privacy") && tags.contains(&"appi"), "{tags:?}");
    }
    let base = &run["originalUriBaseIds"]["%SRCROOT%"]["uri"];
    assert!(
        base.as_str()
            .is_some_and(|u| u.starts_with("file:///") && u.ends_with('/'))
    );
    for r in run["results"].as_array().unwrap() {
        let id = r["ruleId"].as_str().expect("ruleId");
        let i = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(ids[i], id, "ruleIndex points at the rule");
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        let pf = r["partialFingerprints"].as_object().expect("partialFingerprints");
        assert!(!pf.is_empty() && pf.values().all(|v| v.as_str().is_some_and(|s| !s.is_empty())));
        let locs = r["locations"].as_array().unwrap();
        assert!(!locs.is_empty() && locs.len() <= 10);
        for l in locs {
            let p = &l["physicalLocation"];
            let uri = p["artifactLocation"]["uri"].as_str().expect("uri");
            assert!(uri.is_ascii() && !uri.contains(' ') && !uri.contains('\\'), "{uri}");
            if p["artifactLocation"]["uriBaseId"] == "%SRCROOT%" {
                assert!(!uri.starts_with('/') && !uri.contains("://"), "relative: {uri}");
                assert!(uri.split('/').all(|s| s != ".." && s != "." && !s.is_empty()), "{uri}");
            } else {
                assert!(uri == "-" || uri.starts_with("file:///"), "{uri}");
            }
            if let Some(region) = p.get("region") {
                assert!(region["startLine"].as_u64().unwrap() >= 1);
                if let Some(c) = region.get("startColumn") {
                    assert!(c.as_u64().unwrap() >= 1);
                }
            }
        }
    }
}

fn level_of(confidence: &str) -> &'static str {
    match confidence {
        "high" => "error",
        "medium" => "warning",
        _ => "note",
    }
}

#[test]
fn sarif_is_valid_and_holds_every_record_of_the_jsonl_report() {
    let d = tempfile::tempdir().unwrap();
    let values = make_tree(d.path());
    let stdin_value = my_numbers(77, 1).remove(0);
    let stdin = format!("個人番号: {}\n", spaced(&stdin_value));
    let mut args = vec!["-f", "sarif"];
    args.extend(TARGETS);
    let out = scan(d.path(), &args, Some(&stdin));
    assert_eq!(out.code, Some(1), "findings and errors: exit 1 wins; {}", out.stderr);
    let doc = valid_sarif(&out);
    github_constraints(&doc);
    let mut args = vec!["-f", "jsonl"];
    args.extend(TARGETS);
    let (findings, errors, summary) = jsonl(&scan(d.path(), &args, Some(&stdin)));
    assert!(!errors.is_empty(), "the tree has errors");
    let run = &doc["runs"][0];

    // Results: one per jsonl finding, with every field in its place.
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    assert!(findings.iter().any(|f| f["path"] == "data/社員 名簿.csv"));
    assert!(
        findings
            .iter()
            .any(|f| f["path"] == "archive.zip" && f["member"].is_array())
    );
    assert!(findings.iter().any(|f| f["path"] == "-"));
    let key = |uri: &str, member: &Value, line: &Value, column: &Value, fp: &Value, rule: &Value| {
        format!("{uri}|{member}|{line}|{column}|{fp}|{rule}")
    };
    let mut by_key: BTreeMap<String, &Value> = BTreeMap::new();
    for r in results {
        let p = &r["properties"];
        let loc = &r["locations"][0]["physicalLocation"];
        let (line, column) = if p["member"].is_array() {
            assert!(loc.get("region").is_none(), "no region for a line inside a member: {r}");
            (p["line"].clone(), p["column"].clone())
        } else {
            (loc["region"]["startLine"].clone(), loc["region"]["startColumn"].clone())
        };
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        by_key.insert(
            key(uri, &p["member"], &line, &column, &p["fingerprint"], &r["ruleId"]),
            r,
        );
    }
    for f in &findings {
        let path = f["path"].as_str().unwrap();
        let uri = if path == "-" { "-".to_string() } else { rel_uri(path) };
        let k = key(
            &uri,
            &f["member"],
            &f["line"],
            &f["column"],
            &f["fingerprint"],
            &f["rule"],
        );
        let r = by_key
            .get(&k)
            .unwrap_or_else(|| panic!("no result for {f}\n{:#?}", by_key.keys()));
        let p = &r["properties"];
        for field in [
            "confidence",
            "score",
            "category",
            "validated",
            "evidence",
            "legal_basis",
            "masked",
        ] {
            assert_eq!(p[field], f[field], "{field} of {f}");
        }
        assert_eq!(p.get("field"), f.get("field"));
        assert_eq!(p.get("member"), f.get("member"));
        assert_eq!(r["level"], level_of(f["confidence"].as_str().unwrap()));
        let loc = &r["locations"][0];
        if path == "-" {
            assert!(loc["physicalLocation"]["artifactLocation"].get("uriBaseId").is_none());
        } else {
            assert_eq!(loc["physicalLocation"]["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        }
        let text = r["message"]["text"].as_str().unwrap();
        assert!(text.contains(f["masked"].as_str().unwrap()), "{text}");
        if let Some(m) = f["member"].as_array() {
            let chain = loc["logicalLocations"][0]["fullyQualifiedName"].as_str().unwrap();
            assert!(chain.starts_with(path) && chain.ends_with(m.last().unwrap().as_str().unwrap()));
            assert!(text.contains("export/people.csv"), "{text}");
        }
        assert!(p.get("value").is_none());
    }
    // The rule-and-location fingerprints tell results apart.
    let fps: BTreeSet<String> = results.iter().map(|r| r["partialFingerprints"].to_string()).collect();
    assert_eq!(fps.len(), results.len());

    // Without --show-values no raw value appears anywhere, spaced or not.
    for v in values.iter().chain([&stdin_value]) {
        assert!(
            !out.stdout.contains(v.as_str()) && !out.stdout.contains(&spaced(v)),
            "{v} leaked"
        );
    }

    // Errors: notifications of the one invocation, which did not succeed.
    let inv = &run["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert_eq!(summary["complete"], false);
    let notes = inv["toolExecutionNotifications"].as_array().unwrap();
    let got: BTreeSet<(String, String, String)> = notes
        .iter()
        .map(|n| {
            assert_eq!(n["level"], "error");
            assert!(
                n["message"]["text"]
                    .as_str()
                    .unwrap()
                    .contains(n["properties"]["kind"].as_str().unwrap())
            );
            (
                n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                n["descriptor"]["id"].as_str().unwrap().to_string(),
                n["properties"]["member"].to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String)> = errors
        .iter()
        .map(|e| {
            (
                rel_uri(e["path"].as_str().unwrap()),
                e["kind"].as_str().unwrap().to_string(),
                e["member"].to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert!(want.iter().any(|(u, k, _)| u == "missing.csv" && k == "io"), "{want:?}");
    assert!(want.iter().any(|(u, _, _)| u == "broken.csv.gz"), "{want:?}");

    // The summary.
    let props = &run["properties"];
    for field in [
        "files_scanned",
        "bytes_scanned",
        "files_skipped",
        "errors",
        "findings",
        "distinct",
        "complete",
        "fingerprint_key",
        "rules_version",
        "targets",
    ] {
        assert_eq!(props[field], summary[field], "{field}");
    }
    assert_eq!(props["fingerprint_key"], "provided");
    assert_eq!(run["columnKind"], "unicodeCodePoints");
}

#[test]
fn sarif_lists_every_rule_of_the_rule_set() {
    let d = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_appiscan"))
        .args(["rules", "--format", "json"])
        .output()
        .unwrap();
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = listed["rules"].as_array().unwrap();
    let out = scan(d.path(), &["-f", "sarif", "-"], Some("nothing here\n"));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let doc = valid_sarif(&out);
    github_constraints(&doc);
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), listed.len());
    for (r, l) in rules.iter().zip(listed) {
        assert_eq!(r["id"], l["id"]);
        assert_eq!(r["shortDescription"]["text"], l["name_en"]);
        let full = r["fullDescription"]["text"].as_str().unwrap();
        assert!(full.contains(l["name_ja"].as_str().unwrap()) && full.contains(l["name_en"].as_str().unwrap()));
        let legal = l["legal_basis"].as_str().unwrap();
        assert!(r["help"]["text"].as_str().unwrap().contains(legal));
        assert!(r["help"]["markdown"].as_str().unwrap().contains(legal));
        assert_eq!(r["properties"]["tags"][0], l["category"]);
        assert!(r["defaultConfiguration"]["level"].is_string());
    }
    assert_eq!(run["results"], Value::Array(vec![]));
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    assert_eq!(
        run["invocations"][0]["toolExecutionNotifications"],
        Value::Array(vec![])
    );
}

#[test]
fn sarif_paths_outside_the_working_directory_are_file_uris() {
    let (cwd, other) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // The working directory as the process sees it (no symbolic links).
    let cwd_path = cwd.path().canonicalize().unwrap();
    let other_path = other.path().canonicalize().unwrap();
    assert_eq!(cwd_path.parent(), other_path.parent());
    let v = my_numbers(3, 3);
    write(&other_path, "外部 a.csv", format!("個人番号\n{}\n", v[0]));
    write(&cwd_path, "in/b.csv", format!("個人番号\n{}\n", v[1]));
    let abs_other = other_path.join("外部 a.csv");
    let abs_inside = cwd_path.join("in/b.csv");
    let out = scan(
        &cwd_path,
        &["-f", "sarif", abs_other.to_str().unwrap(), abs_inside.to_str().unwrap()],
        None,
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let doc = valid_sarif(&out);
    github_constraints(&doc);
    let locs: BTreeMap<String, Value> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let a = r["locations"][0]["physicalLocation"]["artifactLocation"].clone();
            (a["uri"].as_str().unwrap().to_string(), a)
        })
        .collect();
    let want_other = format!(
        "file://{}",
        abs_other
            .to_str()
            .unwrap()
            .split('/')
            .map(pct)
            .collect::<Vec<_>>()
            .join("/")
    );
    assert!(locs.contains_key(&want_other), "{want_other} not in {locs:?}");
    assert!(locs[&want_other].get("uriBaseId").is_none());
    // An absolute path under the working directory is made relative, like one given relative.
    assert_eq!(locs["in/b.csv"]["uriBaseId"], "%SRCROOT%");
    // `..` out of the working directory gives a file URI too.
    let nested = cwd_path.join("sub");
    std::fs::create_dir(&nested).unwrap();
    let up = format!("../../{}/外部 a.csv", other_path.file_name().unwrap().to_str().unwrap());
    let out = scan(&nested, &["-f", "sarif", &up], None);
    let doc = valid_sarif(&out);
    let loc = &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(loc["uri"], Value::from(want_other), "{}", out.stdout);
}

#[test]
fn sarif_partial_fingerprints_survive_edits_and_tell_repeats_apart() {
    let d = tempfile::tempdir().unwrap();
    let v = my_numbers(13, 2);
    let fps = |d: &Path| -> Vec<String> {
        let doc = valid_sarif(&scan(d, &["-f", "sarif", "-j", "1", "a.csv"], None));
        let mut out: Vec<String> = doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["appiscanFingerprint/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        out.sort();
        out
    };
    // The same value twice in one column, and another value.
    write(
        d.path(),
        "a.csv",
        format!("氏名,個人番号\nA,{}\nB,{}\nC,{}\n", v[0], v[1], v[0]),
    );
    let first = fps(d.path());
    assert_eq!(first.len(), 3);
    let hashes: BTreeSet<&str> = first.iter().map(|f| f.split(':').next().unwrap()).collect();
    assert_eq!(hashes.len(), 2, "{first:?}");
    assert!(first.iter().any(|f| f.ends_with(":2")), "{first:?}");
    // Same key, rows inserted above: lines change, fingerprints do not.
    write(
        d.path(),
        "a.csv",
        format!("氏名,個人番号\nX,\nY,\nA,{}\nB,{}\nC,{}\n", v[0], v[1], v[0]),
    );
    assert_eq!(fps(d.path()), first);
}

#[test]
fn sarif_with_show_values_keeps_values_out_of_messages() {
    let d = tempfile::tempdir().unwrap();
    let v = my_numbers(11, 2);
    write(d.path(), "a.csv", format!("個人番号\n{}\n{}\n", v[0], spaced(&v[1])));
    let out = scan(d.path(), &["-f", "sarif", "--show-values", "a.csv"], None);
    let doc = valid_sarif(&out);
    github_constraints(&doc);
    let (findings, _, _) = jsonl(&scan(d.path(), &["-f", "jsonl", "--show-values", "a.csv"], None));
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let got: BTreeSet<String> = results.iter().map(|r| r["properties"]["value"].to_string()).collect();
    let want: BTreeSet<String> = findings.iter().map(|f| f["value"].to_string()).collect();
    assert_eq!(got, want);
    for r in results {
        let text = r["message"]["text"].as_str().unwrap();
        let value = r["properties"]["value"].as_str().unwrap();
        assert!(!text.contains(value), "{text}");
    }
}

#[test]
fn sarif_streams_many_results_into_one_document() {
    let d = tempfile::tempdir().unwrap();
    let vs = my_numbers(99, 1500);
    let mut text = String::from("氏名,個人番号\n");
    for (i, v) in vs.iter().enumerate() {
        text.push_str(&format!("name{i},{v}\n"));
    }
    write(d.path(), "big.csv", &text);
    write(d.path(), "big2.csv", &text);
    let out = scan(d.path(), &["-f", "sarif", "-j", "2", "."], None);
    let doc = valid_sarif(&out);
    github_constraints(&doc);
    assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), 3000);
    // One result per line: the report can be read (and grepped) while it grows.
    let lines = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim_end_matches(',')).ok())
        .filter(|v| v["ruleId"] == "jp.my_number")
        .count();
    assert_eq!(lines, 3000);
}

#[test]
fn the_schema_check_is_not_vacuous() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a b.csv", format!("個人番号\n{}\n", my_numbers(8, 1)[0]));
    let out = scan(d.path(), &["-f", "sarif", "a b.csv"], None);
    let doc = valid_sarif(&out);
    let vs = validators();
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut d = doc.clone();
        f(&mut d);
        vs.iter().any(|v| !v.is_valid(&d))
    };
    let loc = "/runs/0/results/0/locations/0/physicalLocation";
    assert!(broken(&|d| d
        .pointer_mut(&format!("{loc}/artifactLocation/uri"))
        .map(|u| *u = "a b.csv".into())
        .unwrap()));
    assert!(broken(&|d| d
        .pointer_mut(&format!("{loc}/region/startLine"))
        .map(|u| *u = 0.into())
        .unwrap()));
    assert!(broken(&|d| d
        .pointer_mut("/runs/0/results/0/level")
        .map(|u| *u = "fatal".into())
        .unwrap()));
    assert!(broken(
        &|d| d["runs"][0]["invocations"][0]["startTimeUtc"] = "yesterday".into()
    ));
    assert!(broken(&|d| d["version"] = "2.0.0".into()));
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

const HEADER: [&str; 18] = [
    "type",
    "rule",
    "category",
    "confidence",
    "score",
    "path",
    "member",
    "line",
    "column",
    "field",
    "masked",
    "fingerprint",
    "validated",
    "evidence",
    "legal_basis",
    "status",
    "kind",
    "message",
];

/// The report parsed with the `csv` crate: header and rows as maps.
fn parse_csv(out: &Out) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let body = out
        .stdout
        .strip_prefix('\u{FEFF}')
        .unwrap_or_else(|| panic!("a UTF-8 BOM first: {:?}", &out.stdout[..out.stdout.len().min(40)]));
    let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(body.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            assert_eq!(rec.len(), header.len(), "every row has every column");
            header.iter().cloned().zip(rec.iter().map(String::from)).collect()
        })
        .collect();
    (header, rows)
}

/// A cell as written: the formula guard applied.
fn guarded(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The row a jsonl finding must have become.
fn finding_row(f: &Value, with_value: bool) -> BTreeMap<String, String> {
    let list = |v: &Value, sep: &str| {
        v.as_array()
            .map(|a| a.iter().map(|x| x.as_str().unwrap()).collect::<Vec<_>>().join(sep))
            .unwrap_or_default()
    };
    let mut row: BTreeMap<String, String> = BTreeMap::new();
    for c in HEADER {
        let cell = match c {
            "member" => list(&f["member"], " > "),
            "evidence" => list(&f["evidence"], ";"),
            "kind" | "message" => String::new(),
            other => text(&f[other]),
        };
        row.insert(c.to_string(), guarded(&cell));
    }
    if with_value {
        row.insert("value".into(), guarded(&text(&f["value"])));
    }
    row
}

fn sorted(mut rows: Vec<BTreeMap<String, String>>) -> Vec<BTreeMap<String, String>> {
    rows.sort_by_key(|r| format!("{r:?}"));
    rows
}

#[test]
fn csv_rows_are_the_jsonl_records() {
    let d = tempfile::tempdir().unwrap();
    make_tree(d.path());
    let stdin = format!("個人番号: {}\n", spaced(&my_numbers(78, 1)[0]));
    let mut args = vec!["-f", "csv"];
    args.extend(TARGETS);
    let out = scan(d.path(), &args, Some(&stdin));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stdout.contains("\r\n"), "RFC 4180 line ends");
    let (header, rows) = parse_csv(&out);
    assert_eq!(header, HEADER);
    let mut args = vec!["-f", "jsonl"];
    args.extend(TARGETS);
    let (findings, errors, _) = jsonl(&scan(d.path(), &args, Some(&stdin)));
    assert!(findings.iter().any(|f| f["member"].is_array()) && findings.iter().any(|f| f["path"] == "-"));

    let got: Vec<_> = rows.iter().filter(|r| r["type"] == "finding").cloned().collect();
    let want: Vec<_> = findings.iter().map(|f| finding_row(f, false)).collect();
    assert_eq!(sorted(got), sorted(want));

    let got: Vec<_> = rows.iter().filter(|r| r["type"] == "error").cloned().collect();
    let want: Vec<_> = errors
        .iter()
        .map(|e| {
            let mut row: BTreeMap<String, String> = HEADER.iter().map(|c| (c.to_string(), String::new())).collect();
            row.insert("type".into(), "error".into());
            row.insert("path".into(), guarded(&text(&e["path"])));
            let member = e["member"]
                .as_array()
                .map(|a| a.iter().map(|x| x.as_str().unwrap()).collect::<Vec<_>>().join(" > "))
                .unwrap_or_default();
            row.insert("member".into(), guarded(&member));
            row.insert("kind".into(), text(&e["kind"]));
            row.insert("message".into(), guarded(&text(&e["message"])));
            row
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(sorted(got), sorted(want));
    assert_eq!(rows.len(), findings.len() + errors.len(), "no summary row");
}

#[test]
fn csv_quotes_awkward_fields_and_guards_formulas() {
    let d = tempfile::tempdir().unwrap();
    let v = my_numbers(5, 6);
    // CSV headers holding a comma and quotes, a line break, and formula starters.
    write(
        d.path(),
        "q.csv",
        format!(
            "\"個人番号, \"\"本人\"\"\",=個人番号,\"マイナンバー\n(旧)\",-個人番号,@個人番号,+個人番号\n{}\n",
            v.join(",")
        ),
    );
    // JSON keys with a comma, a formula starter and a line break.
    let json =
        serde_json::json!({"社員": {"個人番号, 本人": v[0], "=マイナンバー": v[1], "my\nnumber 個人番号": v[2]}});
    write(d.path(), "k.json", json.to_string());
    let out = scan(d.path(), &["-f", "csv", "q.csv", "k.json"], None);
    let (_, rows) = parse_csv(&out);
    let (findings, _, _) = jsonl(&scan(d.path(), &["-f", "jsonl", "q.csv", "k.json"], None));
    assert_eq!(rows.len(), 9, "{}", out.stdout);
    let want: Vec<_> = findings.iter().map(|f| finding_row(f, false)).collect();
    assert_eq!(sorted(rows.clone()), sorted(want));

    let fields: BTreeSet<&str> = rows.iter().map(|r| r["field"].as_str()).collect();
    for f in ["'=個人番号", "'-個人番号", "'@個人番号", "'+個人番号"] {
        assert!(fields.contains(f), "{f} not in {fields:?}");
    }
    assert!(fields.iter().any(|f| f.contains(',') && f.contains('"')), "{fields:?}");
    assert!(fields.iter().any(|f| f.contains('\n')), "{fields:?}");
    // The raw bytes: such cells are quoted, inner quotes doubled; guarded cells start with '.
    assert!(out.stdout.contains(",'=個人番号,"), "{}", out.stdout);
    assert!(
        out.stdout.contains("\"$.社員[\"\"個人番号, 本人\"\"]\""),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("\"マイナンバー\n(旧)\""), "{}", out.stdout);
    // Masked values are not touched by the guard.
    assert!(rows.iter().all(|r| r["masked"].starts_with('*')));
    for r in &rows {
        for (col, cell) in r {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{col}: {cell:?}");
        }
    }
}

#[test]
fn csv_value_column_only_with_show_values() {
    let d = tempfile::tempdir().unwrap();
    let v = my_numbers(21, 2);
    write(d.path(), "a.csv", format!("個人番号\n{}\n{}\n", v[0], spaced(&v[1])));
    let out = scan(d.path(), &["-f", "csv", "--show-values", "a.csv"], None);
    let (header, rows) = parse_csv(&out);
    let mut want_header: Vec<&str> = HEADER.to_vec();
    want_header.insert(16, "value");
    assert_eq!(header, want_header);
    let (findings, _, _) = jsonl(&scan(d.path(), &["-f", "jsonl", "--show-values", "a.csv"], None));
    let want: Vec<_> = findings.iter().map(|f| finding_row(f, true)).collect();
    assert_eq!(sorted(rows.clone()), sorted(want));
    let values: BTreeSet<&str> = rows.iter().map(|r| r["value"].as_str()).collect();
    assert_eq!(values, BTreeSet::from([v[0].as_str(), spaced(&v[1]).as_str()]));

    // Without --show-values: no value column, no raw value.
    let out = scan(d.path(), &["-f", "csv", "a.csv"], None);
    let (header, _) = parse_csv(&out);
    assert_eq!(header, HEADER);
    assert!(!out.stdout.contains(&v[0]) && !out.stdout.contains(&spaced(&v[1])));
}

#[test]
fn csv_of_an_empty_scan_is_the_header() {
    let d = tempfile::tempdir().unwrap();
    let out = scan(d.path(), &["-f", "csv", "-"], Some("nothing\n"));
    assert_eq!(out.code, Some(0));
    assert_eq!(out.stdout, format!("\u{FEFF}{}\r\n", HEADER.join(",")));
}
