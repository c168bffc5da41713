//! Work lists, shards and merging (SPEC §10). Every test runs the built binary on generated
//! synthetic files; shards run as separate processes, as a batch engine would run them.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::{JsonlReport, Rng, my_number};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl JsonlReport for Out {
    fn stdout(&self) -> &str {
        &self.stdout
    }
    fn stderr(&self) -> &str {
        &self.stderr
    }
}

/// Variables that choose a shard: removed from every child unless a test sets them.
const SHARD_VARS: [&str; 5] = [
    "JOB_COMPLETION_INDEX",
    "AWS_BATCH_JOB_ARRAY_INDEX",
    "AWS_BATCH_JOB_ARRAY_SIZE",
    "CLOUD_RUN_TASK_INDEX",
    "CLOUD_RUN_TASK_COUNT",
];

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_appiscan"));
    cmd.current_dir(dir).args(args);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("APPISCAN_") {
            cmd.env_remove(k);
        }
    }
    for v in SHARD_VARS {
        cmd.env_remove(v);
    }
    // Object items go to an S3 endpoint that refuses at once: deterministic io error records,
    // never a request to a real cloud.
    cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "ap-northeast-1");
    cmd
}

fn finish(out: std::process::Output) -> Out {
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 report"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(dir: &Path, args: &[&str]) -> Out {
    finish(command(dir, args).stdin(Stdio::null()).output().expect("run appiscan"))
}

fn run_env(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Out {
    let mut cmd = command(dir, args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    finish(cmd.stdin(Stdio::null()).output().expect("run appiscan"))
}

fn run_stdin(dir: &Path, args: &[&str], input: &str) -> Out {
    let mut child = command(dir, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run appiscan");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    finish(child.wait_with_output().unwrap())
}

/// FNV-1a 64 written again here, independently of the scanner.
fn fnv(s: &str) -> u64 {
    s.bytes()
        .fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}

/// A tree of `n` files under `tree/`: text and CSV files, a third with labelled My Numbers
/// (some repeated across files), binary files (skipped) and `.skip` files (excluded).
fn make_tree(dir: &Path, n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let pool: Vec<String> = (0..40).map(|_| my_number(&rng.digits(11))).collect();
    let mut files = Vec::new();
    for i in 0..n {
        let sub = format!("tree/d{}/s{}", rng.below(6), rng.below(3));
        std::fs::create_dir_all(dir.join(&sub)).unwrap();
        let kind = rng.below(10);
        let (name, body): (String, Vec<u8>) = match kind {
            0 => (format!("{sub}/b{i}.bin"), {
                let mut b = rng.bytes(200);
                b[3] = 0;
                b
            }),
            1 => (format!("{sub}/x{i}.skip"), b"excluded\n".to_vec()),
            2 | 3 => {
                let mut s = String::from("氏名,個人番号,メモ\n");
                for r in 0..rng.range(1, 5) {
                    s.push_str(&format!("山田{r},{},note\n", pool[rng.below(pool.len())]));
                }
                (format!("{sub}/t{i}.csv"), s.into_bytes())
            }
            4 | 5 => {
                let mut s = String::new();
                for _ in 0..rng.range(1, 4) {
                    s.push_str(&format!("顧客メモ\n個人番号: {}\n", pool[rng.below(pool.len())]));
                }
                (format!("{sub}/m{i}.txt"), s.into_bytes())
            }
            _ => (
                format!("{sub}/n{i}.txt"),
                format!("ordinary text {}\n", rng.letters(20)).into_bytes(),
            ),
        };
        std::fs::write(dir.join(&name), body).unwrap();
        files.push(name);
    }
    std::fs::write(dir.join("key"), "shards-test-key\n").unwrap();
    files
}

/// What identifies a finding (the merge's deduplication key), sorted.
fn finding_keys(records: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = records
        .iter()
        .filter(|r| r["type"] == "finding")
        .map(|f| {
            serde_json::to_string(&(
                &f["rule"],
                &f["path"],
                &f["member"],
                &f["line"],
                &f["column"],
                &f["field"],
                &f["fingerprint"],
                &f["confidence"],
            ))
            .unwrap()
        })
        .collect();
    v.sort();
    v
}

fn summary(records: &[Value]) -> Value {
    let last = records.last().expect("a record");
    assert_eq!(last["type"], "summary", "the summary is last");
    last.clone()
}

fn counts(s: &Value) -> Value {
    serde_json::json!({
        "files_scanned": s["files_scanned"], "bytes_scanned": s["bytes_scanned"],
        "files_skipped": s["files_skipped"], "errors": s["errors"], "findings": s["findings"],
        "distinct": s["distinct"], "complete": s["complete"], "fingerprint_key": s["fingerprint_key"],
    })
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const SCAN: [&str; 7] = ["scan", "-f", "jsonl", "--hash-key-file", "key", "--exclude", "*.skip"];

/// Starts shard `i` of `n` writing `part-i.jsonl`.
fn spawn_shard(dir: &Path, i: usize, n: usize, targets: &[&str]) -> Child {
    let (i, n, o) = (i.to_string(), n.to_string(), format!("part-{i}.jsonl"));
    let mut args: Vec<&str> = SCAN.to_vec();
    args.extend(["--shard-index", &i, "--shard-count", &n, "-o", &o, "-j", "1"]);
    args.extend(targets);
    command(dir, &args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run appiscan")
}

#[test]
fn fnv1a64_published_vectors() {
    for (s, h) in [
        ("", 0xcbf29ce484222325u64),
        ("a", 0xaf63dc4c8601ec8c),
        ("foobar", 0x85944171f73967e8),
    ] {
        assert_eq!(appiscan::shard::fnv1a64(s.as_bytes()), h, "{s:?}");
        assert_eq!(fnv(s), h, "the test's own FNV agrees on {s:?}");
    }
}

#[test]
fn three_shards_merged_equal_one_run() {
    let d = tempfile::tempdir().unwrap();
    let files = make_tree(d.path(), 300, 7);
    let mut args = SCAN.to_vec();
    args.push("tree");
    let single = run(d.path(), &args);
    assert_eq!(single.code, 1, "{}", single.stderr);
    let single_records = single.records();
    let single_keys = finding_keys(&single_records);
    assert!(single_keys.len() > 50, "the tree has findings: {}", single_keys.len());
    let s = summary(&single_records);
    assert!(s["files_skipped"]["binary"].as_u64().unwrap() > 0 && s["files_skipped"]["excluded"].as_u64().unwrap() > 0);

    let children: Vec<Child> = (0..3).map(|i| spawn_shard(d.path(), i, 3, &["tree"])).collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut taken = 0;
    for i in 0..3u64 {
        let part = read_jsonl(&d.path().join(format!("part-{i}.jsonl")));
        let ps = summary(&part);
        assert_eq!(ps["shard"]["index"], i);
        assert_eq!(ps["shard"]["count"], 3);
        assert_eq!(ps["shard"]["hash"], "fnv1a-64");
        let (t, o) = (
            ps["shard"]["taken"].as_u64().unwrap(),
            ps["shard"]["other"].as_u64().unwrap(),
        );
        assert_eq!(t + o, files.len() as u64, "every file is decided once per shard");
        taken += t;
        // Each finding's file is keyed by its path relative to the TARGET.
        for f in part.iter().filter(|r| r["type"] == "finding") {
            let rel = f["path"].as_str().unwrap().strip_prefix("tree/").unwrap();
            assert_eq!(fnv(rel) % 3, i, "{rel} belongs to shard {i}");
        }
        assert!(ps.get("files_skipped").unwrap().get("other_shard").is_none());
    }
    assert_eq!(taken, files.len() as u64, "the shards partition the files");

    let merged = run(
        d.path(),
        &["merge", "-f", "jsonl", "part-0.jsonl", "part-1.jsonl", "part-2.jsonl"],
    );
    assert_eq!(merged.code, 1, "exit as the single run: {}", merged.stderr);
    let mr = merged.records();
    assert_eq!(finding_keys(&mr), single_keys);
    let ms = summary(&mr);
    assert_eq!(counts(&ms), counts(&s));
    assert_eq!(ms["merged_parts"], 3);
    assert_eq!(ms["shards"]["parts"], serde_json::json!([0, 1, 2]));
    assert_eq!(ms["shards"]["missing"], serde_json::json!([]));
    assert_eq!(ms["targets"], serde_json::json!(["tree"]));
    assert!(ms["started"].as_str().unwrap() <= ms["finished"].as_str().unwrap());
    // Merging is idempotent: a part merged twice over itself adds nothing.
    let again = run(d.path(), &["merge", "-f", "jsonl", "part-0.jsonl"]);
    let a = again.records();
    assert_eq!(
        finding_keys(&a),
        finding_keys(&read_jsonl(&d.path().join("part-0.jsonl")))
    );
}

#[test]
fn engine_variables_pick_the_same_shards() {
    let d = tempfile::tempdir().unwrap();
    make_tree(d.path(), 60, 11);
    let shard = |extra: &[&str], vars: &[(&str, &str)]| -> Out {
        let mut args = SCAN.to_vec();
        args.extend(extra);
        args.push("tree");
        let out = run_env(d.path(), &args, vars);
        assert!(matches!(out.code, 0 | 1), "{vars:?}: {}", out.stderr);
        out
    };
    for i in 0..3 {
        let is = i.to_string();
        let by_flags = shard(&["--shard-index", &is, "--shard-count", "3"], &[]);
        let want = finding_keys(&by_flags.records());
        let want_summary = summary(&by_flags.records())["shard"].clone();
        for (extra, vars) in [
            (vec!["--shard-count", "3"], vec![("JOB_COMPLETION_INDEX", is.as_str())]),
            (
                vec![],
                vec![
                    ("AWS_BATCH_JOB_ARRAY_INDEX", is.as_str()),
                    ("AWS_BATCH_JOB_ARRAY_SIZE", "3"),
                ],
            ),
            (
                vec![],
                vec![("CLOUD_RUN_TASK_INDEX", is.as_str()), ("CLOUD_RUN_TASK_COUNT", "3")],
            ),
        ] {
            let out = shard(&extra, &vars);
            assert_eq!(finding_keys(&out.records()), want, "{vars:?}");
            assert_eq!(summary(&out.records())["shard"], want_summary, "{vars:?}");
        }
    }
    // Usage errors: exit 2, no report, a reason.
    for (extra, vars) in [
        (vec![], vec![("JOB_COMPLETION_INDEX", "1")]),
        (vec!["--shard-index", "3", "--shard-count", "3"], vec![]),
        (vec!["--shard-count", "0", "--shard-index", "0"], vec![]),
        (vec!["--shard-count", "2"], vec![]),
        (
            vec![],
            vec![("CLOUD_RUN_TASK_INDEX", "x"), ("CLOUD_RUN_TASK_COUNT", "2")],
        ),
    ] {
        let mut args = SCAN.to_vec();
        args.extend(&extra);
        args.push("tree");
        let out = run_env(d.path(), &args, &vars);
        assert_eq!(out.code, 2, "{extra:?} {vars:?}: {}", out.stderr);
        assert!(out.stdout.is_empty());
        assert!(
            out.stderr.contains("shard") || out.stderr.contains("CLOUD_RUN"),
            "{}",
            out.stderr
        );
    }
    let out = run_env(
        d.path(),
        &["scan", "-f", "jsonl", "tree"],
        &[("JOB_COMPLETION_INDEX", "1")],
    );
    assert!(out.stderr.contains("JOB_COMPLETION_INDEX") && out.stderr.contains("--shard-count"));
}

#[test]
fn worklists_from_stdin_and_file_equal_scanning_the_paths() {
    let d = tempfile::tempdir().unwrap();
    let files = make_tree(d.path(), 80, 13);
    let picked: Vec<&str> = files
        .iter()
        .filter(|f| (f.ends_with(".txt") || f.ends_with(".csv")) && !f.starts_with("tree/d1/"))
        .step_by(2)
        .map(String::as_str)
        .collect();
    let mut targets: Vec<&str> = picked.clone();
    targets.push("tree/d1");
    let mut args = SCAN.to_vec();
    args.extend(&targets);
    let direct = run(d.path(), &args);
    let want = finding_keys(&direct.records());
    assert!(!want.is_empty());
    let direct_counts = counts(&summary(&direct.records()));

    let mut list = String::from("# the files to scan\n\n");
    for t in &targets {
        list.push_str(&format!("  {t}\r\n"));
    }
    std::fs::write(d.path().join("list.txt"), &list).unwrap();
    let mut args = SCAN.to_vec();
    args.extend(["--worklist", "-"]);
    let from_stdin = run_stdin(d.path(), &args, &list);
    assert_eq!(from_stdin.code, direct.code, "{}", from_stdin.stderr);
    assert_eq!(finding_keys(&from_stdin.records()), want);
    let ss = summary(&from_stdin.records());
    assert_eq!(counts(&ss), direct_counts);
    assert_eq!(ss["worklist"], serde_json::json!(["-"]));
    assert_eq!(ss["targets"], serde_json::json!([]));
    let mut args = SCAN.to_vec();
    args.extend(["--worklist", "list.txt"]);
    let from_file = run(d.path(), &args);
    assert_eq!(finding_keys(&from_file.records()), want);
    assert_eq!(counts(&summary(&from_file.records())), direct_counts);

    // Shards of a work list take whole items, keyed by the line: together they are the list.
    let mut union = Vec::new();
    let mut items_taken = 0;
    for i in 0..3 {
        let is = i.to_string();
        let mut args = SCAN.to_vec();
        args.extend(["--worklist", "list.txt", "--shard-index", &is, "--shard-count", "3"]);
        let out = run(d.path(), &args);
        let r = out.records();
        items_taken += summary(&r)["shard"]["taken"].as_u64().unwrap();
        for f in r.iter().filter(|r| r["type"] == "finding") {
            let p = f["path"].as_str().unwrap();
            let item = targets
                .iter()
                .find(|t| p == **t || p.starts_with(&format!("{t}/")))
                .unwrap();
            assert_eq!(fnv(item) % 3, i as u64, "{p} comes from item {item}");
        }
        union.extend(finding_keys(&r));
    }
    union.sort();
    assert_eq!(union, want);
    assert_eq!(items_taken, targets.len() as u64);

    // A missing file is an error record; object items are reported, never silently skipped;
    // a bad line is an error record too.
    let list = "tree/no-such-file.txt\ns3://bucket/a/b.csv\nmy-bucket,k/1.csv,v7\nmy-bucket,a,b,c\n";
    let mut args = SCAN.to_vec();
    args.extend(["--worklist", "-"]);
    let out = run_stdin(d.path(), &args, list);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let errors = out.errors();
    let by_path: BTreeMap<&str, &str> = errors
        .iter()
        .map(|e| (e["path"].as_str().unwrap(), e["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(by_path.get("tree/no-such-file.txt"), Some(&"io"));
    // Object items are read from the store (unreachable here): io error records under their URLs.
    assert_eq!(by_path.get("s3://bucket/a/b.csv"), Some(&"io"));
    assert_eq!(by_path.get("s3://my-bucket/k/1.csv?versionId=v7"), Some(&"io"));
    assert_eq!(by_path.get("-"), Some(&"decode"), "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e["message"].as_str().unwrap().contains("cannot be reached"))
    );
    assert_eq!(summary(&out.records())["complete"], false);

    // A missing work list is fatal; - twice is a usage error.
    assert_eq!(run(d.path(), &["scan", "--worklist", "nope.txt"]).code, 2);
    assert_eq!(run(d.path(), &["scan", "--worklist", "-", "-"]).code, 2);
    assert_eq!(run(d.path(), &["scan"]).code, 2, "a TARGET or a work list is required");
}

#[test]
fn a_killed_or_cut_part_makes_the_merge_incomplete() {
    let d = tempfile::tempdir().unwrap();
    make_tree(d.path(), 60, 17);
    for i in 0..2 {
        let c = spawn_shard(d.path(), i, 3, &["tree"]);
        assert!(matches!(c.wait_with_output().unwrap().status.code(), Some(0 | 1)));
    }
    // Shard 2 is killed while it still reads its work list: no part file is left under its name.
    let (out, tmp_before) = {
        let mut args: Vec<&str> = SCAN.to_vec();
        args.extend([
            "--shard-index",
            "2",
            "--shard-count",
            "3",
            "-o",
            "part-2.jsonl",
            "--worklist",
            "-",
        ]);
        let mut child = command(d.path(), &args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"tree/d0\ntree/d1\n").unwrap();
        stdin.flush().unwrap();
        let hidden = || {
            std::fs::read_dir(d.path())
                .unwrap()
                .filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().starts_with(".part-2.jsonl.tmp"))
        };
        let mut tmp = false;
        for _ in 0..200 {
            if hidden() {
                tmp = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(200));
        child.kill().unwrap();
        child.wait().unwrap();
        drop(stdin);
        (d.path().join("part-2.jsonl").exists(), tmp)
    };
    assert!(!out, "a killed shard leaves no part under its name");
    assert!(tmp_before, "the part is written under a hidden temporary name");
    let m = run(
        d.path(),
        &[
            "merge",
            "-f",
            "jsonl",
            "--fail-on",
            "never",
            "part-0.jsonl",
            "part-1.jsonl",
        ],
    );
    assert_eq!(m.code, 3, "{}", m.stderr);
    let s = summary(&m.records());
    assert_eq!(s["complete"], false);
    assert_eq!(s["shards"]["missing"], serde_json::json!([2]));
    assert!(m.errors().iter().any(|e| e["path"] == "shard:2/3"));
    assert!(m.stderr.contains("shard 2 of 3"), "{}", m.stderr);

    // A part cut before its summary (written by a shell redirect, say): incomplete, said why.
    let p1 = std::fs::read_to_string(d.path().join("part-1.jsonl")).unwrap();
    let cut: Vec<&str> = p1.lines().collect();
    std::fs::write(d.path().join("cut.jsonl"), cut[..cut.len() - 1].join("\n") + "\n").unwrap();
    let m = run(d.path(), &["merge", "-f", "jsonl", "--fail-on", "never", "cut.jsonl"]);
    assert_eq!(m.code, 3, "{}", m.stderr);
    assert_eq!(summary(&m.records())["complete"], false);
    assert!(m.stderr.contains("no summary"), "{}", m.stderr);
    assert!(m.errors().iter().any(|e| e["path"] == "cut.jsonl"));
    // A damaged line (a record cut in the middle).
    let mut damaged = p1.clone();
    damaged.insert_str(0, "{\"type\":\"finding\",\"rule\":\"jp.my\n");
    std::fs::write(d.path().join("damaged.jsonl"), damaged).unwrap();
    let m = run(
        d.path(),
        &["merge", "-f", "jsonl", "--fail-on", "never", "damaged.jsonl"],
    );
    assert_eq!(m.code, 3, "{}", m.stderr);
    assert!(m.stderr.contains("damaged"), "{}", m.stderr);
    // A merge that fails leaves an existing output as it was; a part that cannot be read makes
    // the merge incomplete.
    std::fs::write(d.path().join("keep.jsonl"), "old\n").unwrap();
    std::fs::write(d.path().join("c.jsonl"), "{\"type\":\"risk_counts\"}\n").unwrap();
    assert_eq!(
        run(d.path(), &["merge", "-o", "keep.jsonl", "part-0.jsonl", "c.jsonl"]).code,
        2
    );
    assert_eq!(std::fs::read_to_string(d.path().join("keep.jsonl")).unwrap(), "old\n");
    let m = run(d.path(), &["merge", "-f", "jsonl", "--fail-on", "never", "nope.jsonl"]);
    assert_eq!(m.code, 3, "{}", m.stderr);
    assert!(m.errors().iter().any(|e| e["path"] == "nope.jsonl"));
}

#[test]
fn merged_reports_in_every_format_are_well_formed() {
    let d = tempfile::tempdir().unwrap();
    make_tree(d.path(), 90, 19);
    for i in 0..2 {
        let c = spawn_shard(d.path(), i, 2, &["tree"]);
        assert!(matches!(c.wait_with_output().unwrap().status.code(), Some(0 | 1)));
    }
    let parts = ["part-0.jsonl", "part-1.jsonl"];
    let jl = run(d.path(), &[&["merge", "-f", "jsonl"][..], &parts].concat());
    let n = jl.findings().len();
    assert!(n > 10);
    let errors = jl.errors().len();

    let json = run(d.path(), &[&["merge", "-f", "json"][..], &parts].concat());
    assert_eq!(json.code, 1);
    let doc: Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    assert_eq!(doc["findings"].as_array().unwrap().len(), n);
    assert_eq!(doc["summary"]["merged_parts"], 2);

    let sarif = run(d.path(), &[&["merge", "-f", "sarif"][..], &parts].concat());
    let doc: Value = serde_json::from_str(&sarif.stdout).expect("SARIF is JSON");
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), n);

    let csv_out = run(d.path(), &[&["merge", "-f", "csv", "-o", "m.csv"][..], &parts].concat());
    assert_eq!(csv_out.code, 1);
    let text = std::fs::read_to_string(d.path().join("m.csv")).unwrap();
    let mut r = csv::Reader::from_reader(text.trim_start_matches('\u{FEFF}').as_bytes());
    let header = r.headers().unwrap().clone();
    assert_eq!(&header[0], "type");
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), n + errors);
    assert!(rows.iter().all(|row| row.len() == header.len()));

    let text = run(d.path(), &[&["merge"][..], &parts].concat());
    assert!(text.stdout.contains(&format!("{n} findings")), "{}", text.stdout);
    assert_eq!(run(d.path(), &[&["merge", "-f", "xml"][..], &parts].concat()).code, 2);
}

#[test]
fn overlapping_parts_are_deduplicated() {
    let d = tempfile::tempdir().unwrap();
    make_tree(d.path(), 120, 23);
    let part = |name: &str, targets: &[&str]| {
        let mut args = SCAN.to_vec();
        args.extend(["-o", name]);
        args.extend(targets);
        let out = run(d.path(), &args);
        assert!(matches!(out.code, 0 | 1), "{}", out.stderr);
    };
    part("a.jsonl", &["tree/d0", "tree/d1", "tree/d2"]);
    part("b.jsonl", &["tree/d2", "tree/d3"]);
    part("all.jsonl", &["tree/d0", "tree/d1", "tree/d2", "tree/d3"]);
    let m = run(d.path(), &["merge", "-f", "jsonl", "a.jsonl", "b.jsonl"]);
    let mr = m.records();
    let all = read_jsonl(&d.path().join("all.jsonl"));
    assert_eq!(finding_keys(&mr), finding_keys(&all));
    let (ms, s) = (summary(&mr), summary(&all));
    assert_eq!(
        ms["findings"], s["findings"],
        "recomputed from the deduplicated findings"
    );
    assert_eq!(ms["distinct"], s["distinct"]);
    assert_eq!(
        ms["targets"],
        serde_json::json!(["tree/d0", "tree/d1", "tree/d2", "tree/d3"])
    );
    // The overlap was scanned twice: the file counts are summed, as documented.
    assert!(ms["files_scanned"].as_u64().unwrap() > s["files_scanned"].as_u64().unwrap());
}

#[test]
fn parts_that_cannot_be_merged_are_refused() {
    let d = tempfile::tempdir().unwrap();
    make_tree(d.path(), 40, 29);
    // Ephemeral keys: fingerprints do not compare across parts.
    for (i, t) in ["tree/d0", "tree/d1"].iter().enumerate() {
        let o = format!("e{i}.jsonl");
        run(d.path(), &["scan", "-f", "jsonl", "-o", &o, t]);
    }
    let m = run(d.path(), &["merge", "e0.jsonl", "e1.jsonl"]);
    assert_eq!(m.code, 2);
    assert!(
        m.stderr.contains("ephemeral") && m.stderr.contains("--force"),
        "{}",
        m.stderr
    );
    let m = run(d.path(), &["merge", "-f", "jsonl", "--force", "e0.jsonl", "e1.jsonl"]);
    assert!(matches!(m.code, 0 | 1), "{}", m.stderr);
    assert!(m.stderr.contains("warning"));
    assert_eq!(summary(&m.records())["fingerprint_key"], "ephemeral");
    // One part alone is fine whatever its key.
    assert!(matches!(run(d.path(), &["merge", "e0.jsonl"]).code, 0 | 1));

    // Risk count parts (SPEC §10) merge into the risk report `appiscan risk --from-counts` gives.
    let rows = [
        "生年月日,性別,郵便番号",
        "1985-01-02,男,100-0001",
        "1985-01-02,男,1000001",
        "1990-03-04,女,530-0001",
    ];
    std::fs::write(
        d.path().join("t1.csv"),
        format!("{}\n{}\n{}\n", rows[0], rows[1], rows[2]),
    )
    .unwrap();
    std::fs::write(d.path().join("t2.csv"), format!("{}\n{}\n", rows[0], rows[3])).unwrap();
    for (t, c) in [("t1.csv", "c1.jsonl"), ("t2.csv", "c2.jsonl")] {
        let r = run(d.path(), &["risk", "-f", "json", "--emit-counts", c, t]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let merged = run(d.path(), &["merge", "-f", "json", "c1.jsonl", "c2.jsonl"]);
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    let direct = run(
        d.path(),
        &["risk", "--from-counts", "-f", "json", "c1.jsonl", "c2.jsonl"],
    );
    assert_eq!(direct.code, 0, "{}", direct.stderr);
    assert_eq!(merged.stdout, direct.stdout);
    let report: Value = serde_json::from_str(&merged.stdout).unwrap();
    assert_eq!(report["assessments"][0]["counts"]["records"], 3);
    assert_eq!(report["assessments"][0]["counts"]["equivalence_classes"], 2);
    // Not mixed with scan parts, and not into a scan format.
    assert_eq!(run(d.path(), &["merge", "c1.jsonl", "e0.jsonl"]).code, 2);
    assert_eq!(run(d.path(), &["merge", "-f", "sarif", "c1.jsonl"]).code, 2);

    // The same shard twice, or shards of different counts.
    for (o, i, n) in [("s0.jsonl", "0", "2"), ("s0b.jsonl", "0", "2"), ("t0.jsonl", "0", "3")] {
        let mut args = SCAN.to_vec();
        args.extend(["--shard-index", i, "--shard-count", n, "-o", o, "tree"]);
        run(d.path(), &args);
    }
    let m = run(d.path(), &["merge", "s0.jsonl", "s0b.jsonl"]);
    assert_eq!(m.code, 2);
    assert!(m.stderr.contains("both shard 0 of 2"), "{}", m.stderr);
    let m = run(d.path(), &["merge", "s0.jsonl", "t0.jsonl"]);
    assert_eq!(m.code, 2, "{}", m.stderr);

    // A json report is not a part.
    let mut args = SCAN.to_vec();
    args[2] = "json";
    args.extend(["-o", "r.json", "tree"]);
    run(d.path(), &args);
    let m = run(d.path(), &["merge", "r.json"]);
    assert_eq!(m.code, 2);
    assert!(m.stderr.contains("-f jsonl"), "{}", m.stderr);
}
