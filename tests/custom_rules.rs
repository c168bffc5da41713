//! Custom rules of `appiscan.toml` (`[[rules]]`) and `appiscan rules --check`, end to end: the
//! built binary runs with `--config` on files written to a temporary directory.

mod support;

use hmac::{Hmac, Mac};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use support::JsonlReport;

const KEY: &str = "custom-rules-test-key";

/// An employee-id rule with labels and good examples.
const EMPLOYEE: &str = r#"
[[rules]]
id = "custom.employee_id"
name_ja = "社員番号"
name_en = "Employee ID"
regex = '(?-u:\b)E-?\d{6}(?-u:\b)'
labels = ["社員番号", "従業員番号", "employee id", "emp_no"]
confidence = "high"

[[rules.positive]]
text = "社員番号: E-102938"
confidence = "high"

[[rules.positive]]
text = "担当 E102938"
confidence = "medium"

[[rules.positive]]
text = "emp_no,name\nＥ１０２９３８,山田\n"
file = "x.csv"
confidence = "high"

[[rules.negative]]
text = "注文番号 E102938"
max = "low"

[[rules.negative]]
text = "XE102938 E1029381"
max = "none"
"#;

/// A member-number rule with a check-digit validator; unlabelled values are not reported.
const MEMBER: &str = r#"
[[rules]]
id = "acme.member_no"
name_en = "ACME member number"
category = "personal_info"
legal_basis = "法2条1項1号"
regex = '(?-u:\b)\d{4}-?\d{4}-?\d{4}(?-u:\b)'
labels = ["会員証番号", "member card"]
validator = "my_number"
confidence = "high"
confidence_without_label = "none"
"#;

struct Run(Output);

impl JsonlReport for Run {
    fn stdout(&self) -> &str {
        std::str::from_utf8(&self.0.stdout).expect("utf-8 stdout")
    }
    fn stderr(&self) -> &str {
        std::str::from_utf8(&self.0.stderr).expect("utf-8 stderr")
    }
}

impl Run {
    fn code(&self) -> i32 {
        self.0.status.code().expect("exit code")
    }
}

/// Runs the binary in `dir` with `args`, without any `APPISCAN_*` variable of the caller.
fn appiscan(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_appiscan"));
    cmd.current_dir(dir).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("APPISCAN_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("APPISCAN_HASH_KEY", KEY);
    Run(cmd.output().expect("run appiscan"))
}

/// A temporary directory holding `appiscan.toml` = `config` and the given files.
fn tree(config: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("appiscan.toml"), config).expect("write config");
    for (name, text) in files {
        std::fs::write(d.path().join(name), text).expect("write file");
    }
    d
}

/// `scan -f jsonl --config appiscan.toml --min-confidence low --fail-on never TARGET…`.
fn scan(dir: &Path, targets: &[&str]) -> Run {
    let mut args = vec![
        "scan",
        "-f",
        "jsonl",
        "--config",
        "appiscan.toml",
        "--min-confidence",
        "low",
        "--fail-on",
        "never",
    ];
    args.extend_from_slice(targets);
    let r = appiscan(dir, &args);
    assert_eq!(r.code(), 0, "stderr: {}", r.stderr());
    r
}

fn hmac_hex(canonical: &str) -> String {
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(KEY.as_bytes()).expect("key");
    mac.update(canonical.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn of_rule(r: &Run, rule: &str) -> Vec<Value> {
    r.findings().into_iter().filter(|f| f["rule"] == rule).collect()
}

#[test]
fn labelled_values_in_text_csv_and_json_at_their_confidence() {
    let d = tree(
        EMPLOYEE,
        &[
            ("memo.txt", "面談記録\n社員番号: E-102938（山田）\n"),
            ("plain.txt", "担当者 E564738 に確認\n"),
            (
                "staff.csv",
                "emp_no,name,note\nE-102938,山田,\nE-564738,佐藤,引継ぎ E-777001\n",
            ),
            ("staff.jsonl", "{\"emp_no\": \"E-102938\", \"name\": \"山田\"}\n"),
        ],
    );
    let r = scan(d.path(), &["memo.txt", "plain.txt", "staff.csv", "staff.jsonl"]);
    let fs = of_rule(&r, "custom.employee_id");
    let at = |path: &str| -> Vec<&Value> { fs.iter().filter(|f| f["path"] == path).collect() };

    let memo = at("memo.txt");
    assert_eq!(memo.len(), 1, "{fs:#?}");
    let f = memo[0];
    assert_eq!(f["confidence"], "high");
    assert_eq!(f["score"], 0.9);
    assert_eq!((f["line"].as_u64(), f["column"].as_u64()), (Some(2), Some(7)));
    assert_eq!(f["masked"], "*-**2938");
    assert_eq!(f["fingerprint"], hmac_hex("E102938"));
    assert_eq!(f["category"], "personal_info");
    assert_eq!(f["legal_basis"], "法2条1項");
    assert_eq!(f["validated"], false);
    assert_eq!(f["evidence"], serde_json::json!(["regex", "label:社員番号"]));
    assert!(f.get("value").is_none());

    // Without a label: one band lower.
    let plain = at("plain.txt");
    assert_eq!(plain.len(), 1, "{fs:#?}");
    assert_eq!(plain[0]["confidence"], "medium");
    assert_eq!(plain[0]["evidence"], serde_json::json!(["regex"]));

    // The column name is the label; a value in another column has none.
    let csv = at("staff.csv");
    assert_eq!(csv.len(), 3, "{fs:#?}");
    for f in &csv[..2] {
        assert_eq!(f["confidence"], "high");
        assert_eq!(f["field"], "emp_no");
        assert_eq!(f["evidence"], serde_json::json!(["regex", "column:emp_no"]));
    }
    assert_eq!(
        csv[0]["fingerprint"], memo[0]["fingerprint"],
        "same value, same fingerprint"
    );
    assert_eq!(csv[2]["field"], "note");
    assert_eq!(csv[2]["confidence"], "medium");

    let json = at("staff.jsonl");
    assert_eq!(json.len(), 1, "{fs:#?}");
    assert_eq!(json[0]["field"], "$.emp_no");
    assert_eq!(json[0]["confidence"], "high");

    assert_eq!(r.summary()["findings"]["custom.employee_id"], 6);
    assert_eq!(r.summary()["distinct"]["custom.employee_id"], 3);

    // --min-confidence filters custom findings like built-in ones.
    let high = appiscan(
        d.path(),
        &[
            "scan",
            "-f",
            "jsonl",
            "--min-confidence",
            "high",
            "--fail-on",
            "never",
            "plain.txt",
            "memo.txt",
        ],
    );
    assert_eq!(high.code(), 0, "{}", high.stderr());
    let kept = of_rule(&high, "custom.employee_id");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["path"], "memo.txt");
}

#[test]
fn negative_context_caps_at_low_and_unlabelled_policy_applies() {
    let config = format!(
        "{EMPLOYEE}\n{}",
        r#"
[[rules]]
id = "custom.staff_code"
regex = '(?-u:\b)S\d{5}(?-u:\b)'
labels = ["職員コード"]
confidence = "medium"
confidence_without_label = "none"
"#
    );
    let d = tree(
        &config,
        &[
            ("orders.txt", "注文番号 E-102938\n"),
            ("codes.txt", "職員コード S12345\n\n\n別件 S54321\n"),
        ],
    );
    let r = scan(d.path(), &["orders.txt", "codes.txt"]);
    let emp = of_rule(&r, "custom.employee_id");
    assert_eq!(emp.len(), 1);
    assert_eq!(emp[0]["confidence"], "low");
    assert_eq!(emp[0]["evidence"], serde_json::json!(["regex", "negative:注文番号"]));
    let staff = of_rule(&r, "custom.staff_code");
    assert_eq!(staff.len(), 2, "{staff:#?}");
    assert_eq!(staff[0]["confidence"], "medium");
    assert_eq!(staff[0]["line"], 1);
    // Within the weak window the label still reaches, one band lower.
    assert_eq!(staff[1]["confidence"], "low");
    assert_eq!(staff[1]["evidence"], serde_json::json!(["regex", "near:職員コード"]));
    // Far from any label: not reported (confidence_without_label = "none").
    let far = format!("職員コード S12345\n{}\nS54321\n", "あ".repeat(400));
    std::fs::write(d.path().join("far.txt"), far).expect("write");
    let r = scan(d.path(), &["far.txt"]);
    assert_eq!(of_rule(&r, "custom.staff_code").len(), 1);
}

#[test]
fn a_validator_by_name_drops_failing_values() {
    let good = support::my_number("52601815908");
    let bad_digit = (good.as_bytes()[11] - b'0' + 1) % 10;
    let bad = format!("{}{bad_digit}", &good[..11]);
    let text = format!("会員証番号 {good}\n会員証番号 {bad}\n");
    // Without a label the rule says nothing (confidence_without_label = "none").
    let bare = format!("{good}\n");
    let d = tree(MEMBER, &[("members.txt", &text), ("bare.txt", &bare)]);
    let r = scan(d.path(), &["members.txt", "bare.txt"]);
    let fs = of_rule(&r, "acme.member_no");
    assert_eq!(fs.len(), 1, "{fs:#?}");
    assert_eq!(
        (&fs[0]["path"], &fs[0]["line"]),
        (&Value::from("members.txt"), &Value::from(1))
    );
    assert_eq!(fs[0]["validated"], true);
    assert_eq!(fs[0]["confidence"], "high");
    assert_eq!(fs[0]["legal_basis"], "法2条1項1号");
    assert_eq!(
        fs[0]["evidence"],
        serde_json::json!(["regex", "checksum", "label:会員証番号"])
    );
    assert_eq!(fs[0]["fingerprint"], hmac_hex(&good));
}

#[test]
fn full_width_digits_match() {
    let d = tree(
        EMPLOYEE,
        &[
            ("fw.txt", "社員番号：Ｅ－１０２９３８\n"),
            ("ascii.txt", "社員番号：E-102938\n"),
        ],
    );
    let r = scan(d.path(), &["fw.txt", "ascii.txt"]);
    let fs = of_rule(&r, "custom.employee_id");
    assert_eq!(fs.len(), 2, "{fs:#?}");
    let fw = fs
        .iter()
        .find(|f| f["path"] == "fw.txt")
        .expect("full-width value found");
    let ascii = fs.iter().find(|f| f["path"] == "ascii.txt").expect("ascii value found");
    assert_eq!(fw["confidence"], "high");
    assert_eq!(fw["column"], 6);
    assert_eq!(fw["masked"], "*－**２９３８");
    assert_eq!(fw["fingerprint"], ascii["fingerprint"]);
    assert_eq!(fw["fingerprint"], hmac_hex("E102938"));
}

#[test]
fn bad_definitions_exit_2_with_a_clear_message() {
    let rule = |extra: &str, id: &str, regex: &str| {
        format!("[[rules]]\nid = \"{id}\"\nregex = '{regex}'\nconfidence = \"high\"\n{extra}\n")
    };
    let ok_re = r"(?-u:\b)E\d{6}(?-u:\b)";
    let cases = [
        (rule("", "custom.x", r"E(\d{6}"), vec!["custom.x", "regex"]),
        (
            rule("validator = \"luhn\"", "custom.x", ok_re),
            vec!["custom.x", "unknown validator", "my_number"],
        ),
        (rule("", "jp.my_number", ok_re), vec!["jp.my_number", "built-in"]),
        (rule("", "sensitive.mine", ok_re), vec!["sensitive.mine", "namespace"]),
        (rule("", "employee", ok_re), vec!["employee", "dotted"]),
        (
            format!("{}{}", rule("", "custom.x", ok_re), rule("", "custom.x", ok_re)),
            vec!["custom.x", "already taken"],
        ),
        (
            rule("colour = \"red\"", "custom.x", ok_re),
            vec!["custom.x", "unknown field", "colour"],
        ),
        (
            rule("", "custom.x", r"\bE\d{6}\b"),
            vec!["custom.x", "Unicode word boundary", "(?-u:\\b)"],
        ),
        // Every spelling of a Unicode word boundary, also inside an ASCII group.
        (
            rule("", "custom.x", r"E\d{6}\B"),
            vec!["custom.x", "Unicode word boundary", "(?-u:\\b)"],
        ),
        (
            rule("", "custom.x", r"\b{start}E\d{6}"),
            vec!["custom.x", "Unicode word boundary", "(?-u:\\b)"],
        ),
        (
            rule("", "custom.x", r"(?-u:(?u:\<)E\d{6})"),
            vec!["custom.x", "Unicode word boundary", "(?-u:\\b)"],
        ),
        (rule("", "custom.x", r"E?\d*"), vec!["custom.x", "empty string"]),
        (
            rule("category = \"secret\"", "custom.x", ok_re),
            vec!["custom.x", "category"],
        ),
        (
            rule("confidence_without_label = \"sometimes\"", "custom.x", ok_re),
            vec!["custom.x", "confidence_without_label"],
        ),
        (
            rule("", "custom.x", &format!("E{}", "\\d{1000}".repeat(100))),
            vec!["custom.x", "regex"],
        ),
        (
            "[[rules]]\nid = \"custom.x\"\nconfidence = \"high\"\n".to_string(),
            vec!["custom.x", "missing field", "regex"],
        ),
    ];
    for (config, wanted) in cases {
        let d = tree(&config, &[("a.txt", "E102938\n")]);
        for args in [
            &["scan", "--config", "appiscan.toml", "a.txt"][..],
            &["rules", "--check", "--config", "appiscan.toml"][..],
        ] {
            let r = appiscan(d.path(), args);
            assert_eq!(r.code(), 2, "{config}\n{args:?} stdout: {}", r.stdout());
            for w in &wanted {
                assert!(r.stderr().contains(w), "{config}\nstderr lacks {w:?}: {}", r.stderr());
            }
            assert!(r.stdout().is_empty(), "no report on a bad configuration");
        }
    }
}

#[test]
fn rules_json_lists_the_custom_rule() {
    let d = tree(&format!("{EMPLOYEE}{MEMBER}"), &[]);
    let r = appiscan(d.path(), &["rules", "--format", "json", "--config", "appiscan.toml"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let v: Value = serde_json::from_str(r.stdout()).expect("json");
    let rules = v["rules"].as_array().expect("rules");
    let emp = rules
        .iter()
        .find(|x| x["id"] == "custom.employee_id")
        .expect("custom rule listed");
    assert_eq!(emp["name_ja"], "社員番号");
    assert_eq!(emp["name_en"], "Employee ID");
    assert_eq!(emp["category"], "personal_info");
    assert_eq!(emp["legal_basis"], "法2条1項");
    let member = rules
        .iter()
        .find(|x| x["id"] == "acme.member_no")
        .expect("second custom rule listed");
    assert_eq!(member["validator"], "my_number");
    assert_eq!(member["name_ja"], "ACME member number");
    assert!(
        rules.iter().any(|x| x["id"] == "jp.my_number"),
        "built-in rules still listed"
    );
    let text = appiscan(d.path(), &["rules", "--config", "appiscan.toml"]);
    assert!(text.stdout().contains("custom.employee_id"));
}

#[test]
fn rules_check_runs_builtin_and_custom_examples() {
    // Good examples pass; a rule without examples is a warning, not a failure.
    let d = tree(&format!("{EMPLOYEE}{MEMBER}"), &[]);
    let r = appiscan(d.path(), &["rules", "--check", "--config", "appiscan.toml"]);
    assert_eq!(r.code(), 0, "{}{}", r.stdout(), r.stderr());
    let last = r.stdout().lines().last().expect("summary line");
    assert!(last.starts_with("ok:") && last.contains("0 failed"), "{}", r.stdout());
    assert!(
        r.stdout().contains("warning acme.member_no: no positive examples"),
        "{}",
        r.stdout()
    );
    assert!(!r.stdout().contains("FAIL"), "{}", r.stdout());

    // A positive example at the wrong confidence and a negative one that is found both fail.
    let failing = EMPLOYEE.replace(
        "text = \"担当 E102938\"\nconfidence = \"medium\"",
        "text = \"担当 E102938\"\nconfidence = \"high\"",
    ) + "\n[[rules.negative]]\ntext = \"社員番号 E-555555\"\nmax = \"low\"\n";
    assert_ne!(failing, EMPLOYEE);
    let d = tree(&failing, &[]);
    let r = appiscan(d.path(), &["rules", "--check", "--config", "appiscan.toml"]);
    assert_eq!(r.code(), 1, "{}{}", r.stdout(), r.stderr());
    let fails: Vec<&str> = r.stdout().lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert_eq!(fails.len(), 2, "{}", r.stdout());
    assert!(
        fails[0].starts_with("FAIL custom.employee_id positive \"担当 E102938\""),
        "{}",
        fails[0]
    );
    assert!(fails[1].starts_with("FAIL custom.employee_id negative"), "{}", fails[1]);
    assert!(
        r.stdout()
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("FAILED:") && l.contains("2 failed"))
    );

    // Without a settings file only the built-in examples run, and they hold.
    let empty = tempfile::tempdir().expect("tempdir");
    let r = appiscan(empty.path(), &["rules", "--check"]);
    assert_eq!(r.code(), 0, "{}{}", r.stdout(), r.stderr());
}

#[test]
fn the_rules_version_covers_custom_rules() {
    let version = |config: Option<&str>| -> String {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::write(d.path().join("a.txt"), "nothing here\n").expect("write");
        let mut args = vec!["scan", "-f", "jsonl", "a.txt"];
        if let Some(c) = config {
            std::fs::write(d.path().join("appiscan.toml"), c).expect("write");
            args.extend(["--config", "appiscan.toml"]);
        }
        let r = appiscan(d.path(), &args);
        assert_eq!(r.code(), 0, "{}", r.stderr());
        let v = r.summary()["rules_version"]
            .as_str()
            .expect("rules_version")
            .to_string();
        // `rules --format json` reports the same version.
        let mut rargs = vec!["rules", "--format", "json"];
        if config.is_some() {
            rargs.extend(["--config", "appiscan.toml"]);
        }
        let listed: Value = serde_json::from_str(appiscan(d.path(), &rargs).stdout()).expect("json");
        assert_eq!(listed["rules_version"], v.as_str());
        v
    };
    let builtin = version(None);
    let with_rule = version(Some(EMPLOYEE));
    assert_ne!(builtin, with_rule);
    let changed = version(Some(&EMPLOYEE.replace(r"\d{6}", r"\d{7}")));
    assert_ne!(with_rule, changed, "a changed regex changes the version");
    let relabelled = version(Some(&EMPLOYEE.replace("\"emp_no\"", "\"emp_code\"")));
    assert_ne!(with_rule, relabelled, "a changed label changes the version");
    // Layout and comments are not the rule: the same definition keeps its version.
    let reformatted = format!(
        "# staff ids\nformat = \"jsonl\"\n{}",
        EMPLOYEE.replace(" = ", "   =   ")
    );
    assert_eq!(with_rule, version(Some(&reformatted)));
    // A settings file without custom rules keeps the built-in version.
    assert_eq!(builtin, version(Some("format = \"jsonl\"\n")));
}
