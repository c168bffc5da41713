//! Cron scans and pre-upload gates (SPEC §9): `--state`, `--lock`, baselines, allowlists, inline
//! markers, `--destination`. Every test runs the built binary on generated synthetic files.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
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

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_appiscan"));
    cmd.current_dir(dir).args(args);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("APPISCAN_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Out {
    let out = command(dir, args).stdin(Stdio::null()).output().expect("run appiscan");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 report"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `scan -f jsonl --state s.db tree` plus `extra`.
fn state_scan(dir: &Path, state: &str, extra: &[&str]) -> Out {
    let mut args = vec!["scan", "-f", "jsonl", "--state", state];
    args.extend_from_slice(extra);
    args.push("tree");
    let out = run(dir, &args);
    assert!(
        matches!(out.code, 0 | 1),
        "exit {}: {}\n{}",
        out.code,
        out.stderr,
        out.stdout
    );
    out
}

/// A valid My Number that is not a sequential dummy.
fn mn(rng: &mut Rng) -> String {
    loop {
        let body = format!("{}{}", 1 + rng.below(9), rng.digits(10));
        let v = my_number(&body);
        if !v.contains("1234") && !v.contains("0000") {
            return v;
        }
    }
}

fn memo(v: &str) -> String {
    format!("顧客メモ\n個人番号: {} {} {}\n以上\n", &v[..4], &v[4..8], &v[8..])
}

/// (path, status) → count, and (path, fingerprint, status) of every finding.
fn statuses(out: &Out) -> BTreeMap<(String, String), u64> {
    let mut m = BTreeMap::new();
    for f in out.findings() {
        let key = (
            f["path"].as_str().unwrap().to_string(),
            f["status"].as_str().unwrap_or("-").to_string(),
        );
        *m.entry(key).or_default() += 1;
    }
    m
}

fn keyed(out: &Out) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = out
        .findings()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["fingerprint"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn st(path: &str, status: &str) -> (String, String) {
    (path.to_string(), status.to_string())
}

#[test]
fn changed_new_deleted_and_unchanged_files() {
    let d = tempfile::tempdir().unwrap();
    let t = d.path().join("tree");
    std::fs::create_dir_all(t.join("sub")).unwrap();
    let mut rng = Rng::new(61);
    let (a, b, c, e) = (mn(&mut rng), mn(&mut rng), mn(&mut rng), mn(&mut rng));
    std::fs::write(t.join("keep.txt"), memo(&a)).unwrap();
    std::fs::write(t.join("sub/change.txt"), memo(&b)).unwrap();
    std::fs::write(t.join("gone.txt"), memo(&c)).unwrap();
    std::fs::write(t.join("plain.txt"), "nothing personal\n").unwrap();

    let first = state_scan(d.path(), "s.db", &[]);
    assert_eq!(first.code, 1);
    assert_eq!(
        statuses(&first),
        BTreeMap::from([
            (st("tree/gone.txt", "new"), 1),
            (st("tree/keep.txt", "new"), 1),
            (st("tree/sub/change.txt", "new"), 1),
        ])
    );
    let s = first.summary();
    assert_eq!(s["status"]["new"], 3);
    assert_eq!(s["files_unchanged"], 0);
    assert_eq!(s["files_scanned"], 4);
    assert_eq!(s["fingerprint_key"], "provided", "the state keeps a key");

    // Nothing changed: nothing is read, everything is carried as unchanged.
    let second = state_scan(d.path(), "s.db", &[]);
    assert_eq!(second.code, 1, "unchanged findings still fail the gate");
    let s = second.summary();
    assert_eq!(s["files_scanned"], 0);
    assert_eq!(s["bytes_scanned"], 0);
    assert_eq!(s["files_unchanged"], 4);
    assert_eq!(s["status"]["unchanged"], 3);
    assert_eq!(s["findings"]["jp.my_number"], 3);
    assert_eq!(keyed(&first).len(), keyed(&second).len());
    for (x, y) in keyed(&first).iter().zip(keyed(&second).iter()) {
        assert_eq!((&x.0, &x.1), (&y.0, &y.1), "same findings, same fingerprints");
    }

    // One file changed (a second value added), one deleted, one new.
    std::fs::write(t.join("sub/change.txt"), format!("{}{}", memo(&b), memo(&e))).unwrap();
    std::fs::remove_file(t.join("gone.txt")).unwrap();
    std::fs::write(t.join("new.txt"), memo(&e)).unwrap();
    let third = state_scan(d.path(), "s.db", &[]);
    assert_eq!(
        statuses(&third),
        BTreeMap::from([
            (st("tree/gone.txt", "resolved"), 1),
            (st("tree/keep.txt", "unchanged"), 1),
            (st("tree/new.txt", "new"), 1),
            (st("tree/sub/change.txt", "new"), 1),
            (st("tree/sub/change.txt", "unchanged"), 1),
        ])
    );
    let s = third.summary();
    assert_eq!(s["status"]["resolved"], 1);
    assert_eq!(s["files_unchanged"], 2, "keep.txt and plain.txt");
    assert_eq!(s["files_scanned"], 2, "change.txt and new.txt");
    assert_eq!(s["findings"]["jp.my_number"], 4, "resolved findings are not counted");

    // The value removed from a file that stays: resolved once, then forgotten.
    std::fs::write(t.join("sub/change.txt"), memo(&e)).unwrap();
    let fourth = state_scan(d.path(), "s.db", &[]);
    assert_eq!(
        statuses(&fourth),
        BTreeMap::from([
            (st("tree/keep.txt", "unchanged"), 1),
            (st("tree/new.txt", "unchanged"), 1),
            (st("tree/sub/change.txt", "resolved"), 1),
            (st("tree/sub/change.txt", "unchanged"), 1),
        ])
    );
    let fifth = state_scan(d.path(), "s.db", &[]);
    assert_eq!(fifth.summary()["status"]["resolved"], 0);
    assert_eq!(fifth.summary()["status"]["unchanged"], 3);
}

#[test]
fn an_unchanged_file_is_not_read_again() {
    let d = tempfile::tempdir().unwrap();
    let t = d.path().join("tree");
    std::fs::create_dir_all(&t).unwrap();
    let mut rng = Rng::new(62);
    let (a, b) = (mn(&mut rng), mn(&mut rng));
    let f = t.join("a.txt");
    std::fs::write(&f, memo(&a)).unwrap();
    let first = state_scan(d.path(), "s.db", &[]);
    let fp_a = first.findings()[0]["fingerprint"].as_str().unwrap().to_string();

    // Same size, same inode, same mtime, other content: a run that read the file would see b.
    let mtime = std::fs::metadata(&f).unwrap().modified().unwrap();
    {
        use std::io::{Seek, Write};
        let mut h = std::fs::OpenOptions::new().write(true).open(&f).unwrap();
        h.seek(std::io::SeekFrom::Start(0)).unwrap();
        h.write_all(memo(&b).as_bytes()).unwrap();
        h.set_modified(mtime).unwrap();
    }
    let second = state_scan(d.path(), "s.db", &[]);
    assert_eq!(second.summary()["files_scanned"], 0);
    assert_eq!(second.findings()[0]["fingerprint"], fp_a.as_str(), "carried, not read");

    // A settings change (here the minimum confidence) reads it again.
    let third = state_scan(d.path(), "s.db", &["--min-confidence", "low"]);
    assert_eq!(third.summary()["files_scanned"], 1);
    let statuses: Vec<String> = third
        .findings()
        .iter()
        .map(|f| f["status"].as_str().unwrap().to_string())
        .collect();
    let statuses: Vec<&str> = statuses.iter().map(String::as_str).collect();
    assert!(
        statuses.contains(&"new") && statuses.contains(&"resolved"),
        "{statuses:?}"
    );
}

#[test]
fn a_state_made_with_another_key_is_refused() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("tree")).unwrap();
    std::fs::write(d.path().join("k1"), "key one\n").unwrap();
    std::fs::write(d.path().join("k2"), "key two\n").unwrap();
    let first = state_scan(d.path(), "s.db", &["--hash-key-file", "k1"]);
    assert_eq!(first.code, 0);
    let again = run(d.path(), &["scan", "--state", "s.db", "--hash-key-file", "k2", "tree"]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("another fingerprint key"), "{}", again.stderr);
    let none = run(d.path(), &["scan", "--state", "s.db", "tree"]);
    assert_eq!(none.code, 2, "{}", none.stderr);
}

#[test]
fn a_held_lock_gives_75() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("tree")).unwrap();
    let lock = std::fs::File::create(d.path().join("scan.lock")).unwrap();
    lock.try_lock().unwrap();
    let out = run(d.path(), &["scan", "--lock", "scan.lock", "tree"]);
    assert_eq!(out.code, 75, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "no report from a run that did not start");
    // The state is guarded by its own lock file.
    let state_lock = std::fs::File::create(d.path().join("s.db.lock")).unwrap();
    state_lock.try_lock().unwrap();
    let out = run(d.path(), &["scan", "--state", "s.db", "tree"]);
    assert_eq!(out.code, 75, "{}", out.stderr);
    drop(lock);
    drop(state_lock);
    let out = run(d.path(), &["scan", "--lock", "scan.lock", "--state", "s.db", "tree"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// Copies a state database (with its write-ahead log, if any).
fn copy_state(dir: &Path, from: &str, to: &str) {
    for suffix in ["", "-wal", "-shm"] {
        let src = dir.join(format!("{from}{suffix}"));
        if src.exists() {
            std::fs::copy(&src, dir.join(format!("{to}{suffix}"))).unwrap();
        }
    }
}

/// Files read so far by the running scan, from the state (read-only).
fn files_read(db: &Path, run: i64) -> i64 {
    let Ok(conn) = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return 0;
    };
    conn.query_row("SELECT count(*) FROM files WHERE seen_run = ?1", [run], |r| r.get(0))
        .unwrap_or(0)
}

#[test]
fn a_run_killed_midway_leaves_a_state_the_next_run_uses_correctly() {
    let d = tempfile::tempdir().unwrap();
    let t = d.path().join("tree");
    let mut rng = Rng::new(63);
    let n = 1500;
    // Files with one value each and filler text, so that a run takes a while.
    let filler: String = "在庫数 12 個、注文番号 88123 ほか。\n".repeat(600);
    let mut values = Vec::new();
    for i in 0..n {
        let dir = t.join(format!("d{:02}", i % 40));
        std::fs::create_dir_all(&dir).unwrap();
        let v = mn(&mut rng);
        std::fs::write(dir.join(format!("f{i:05}.txt")), format!("{filler}{}", memo(&v))).unwrap();
        values.push(v);
    }
    let first = state_scan(d.path(), "s.db", &["-j", "1"]);
    assert_eq!(first.summary()["status"]["new"], n as u64);

    // Changes: a third of the files get a new value, a tenth are deleted, 100 are added.
    for i in 0..n {
        let p = t.join(format!("d{:02}/f{i:05}.txt", i % 40));
        if i % 3 == 0 {
            let v = mn(&mut rng);
            std::fs::write(&p, format!("{filler}{}", memo(&v))).unwrap();
        } else if i % 10 == 1 {
            std::fs::remove_file(&p).unwrap();
        }
    }
    for i in 0..100 {
        let v = mn(&mut rng);
        std::fs::write(t.join(format!("d00/new{i:03}.txt")), memo(&v)).unwrap();
    }
    copy_state(d.path(), "s.db", "reference.db");

    // Run 2 on s.db, killed once it has committed part of its work.
    let db = d.path().join("s.db");
    let mut child = command(d.path(), &["scan", "-f", "jsonl", "-j", "1", "--state", "s.db", "tree"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let killed_after;
    loop {
        let seen = files_read(&db, 2);
        if seen >= 200 {
            killed_after = seen;
            child.kill().unwrap(); // SIGKILL
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before it could be killed; make the tree larger");
        }
        assert!(started.elapsed() < Duration::from_secs(300), "no progress in the state");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait().unwrap();
    assert!(killed_after > 0 && killed_after < (n + 100) as i64 - 200);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let complete: i64 = conn
        .query_row("SELECT complete FROM runs WHERE id = 2", [], |r| r.get(0))
        .unwrap();
    assert_eq!(complete, 0, "the killed run is not complete");
    drop(conn);

    // Run 3 on the state the kill left, and the same run on the state as it was before run 2:
    // identical reports.
    let after_kill = state_scan(d.path(), "s.db", &["-j", "1"]);
    let reference = state_scan(d.path(), "reference.db", &["-j", "1"]);
    let (ka, kr) = (keyed(&after_kill), keyed(&reference));
    let only_a: Vec<_> = ka.iter().filter(|x| !kr.contains(x)).take(5).collect();
    let only_r: Vec<_> = kr.iter().filter(|x| !ka.contains(x)).take(5).collect();
    assert!(
        only_a.is_empty() && only_r.is_empty(),
        "after the kill only: {only_a:?}\nreference only: {only_r:?}"
    );
    let (a, r) = (after_kill.summary(), reference.summary());
    assert_eq!(a["status"], r["status"]);
    assert_eq!(a["findings"], r["findings"]);
    // 500 files changed (i % 3 == 0); 100 deleted (i % 10 == 1 but not changed); 100 added.
    assert_eq!(
        r["status"]["resolved"].as_u64().unwrap(),
        500 + 100,
        "changed + deleted"
    );
    assert_eq!(r["status"]["new"].as_u64().unwrap(), 500 + 100, "changed + added");
    // And the run after that sees everything unchanged.
    let next = state_scan(d.path(), "s.db", &["-j", "1"]);
    assert_eq!(next.summary()["files_scanned"], 0);
    assert_eq!(next.summary()["status"]["new"], 0);
    assert_eq!(next.summary()["status"]["resolved"], 0);
}

#[test]
fn baseline_create_and_use() {
    let d = tempfile::tempdir().unwrap();
    let t = d.path().join("tree");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(d.path().join("key"), "a fixed key\n").unwrap();
    let mut rng = Rng::new(64);
    let (a, b) = (mn(&mut rng), mn(&mut rng));
    std::fs::write(t.join("old.txt"), memo(&a)).unwrap();
    let report = run(
        d.path(),
        &[
            "scan",
            "-f",
            "jsonl",
            "--hash-key-file",
            "key",
            "-o",
            "report.jsonl",
            "tree",
        ],
    );
    assert_eq!(report.code, 1);
    let created = run(d.path(), &["baseline", "create", "-o", "baseline.json", "report.jsonl"]);
    assert_eq!(created.code, 0, "{}", created.stderr);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(d.path().join("baseline.json")).unwrap()).unwrap();
    assert_eq!(doc["schema"], "appiscan-baseline/1");
    assert_eq!(doc["entries"].as_array().unwrap().len(), 1);
    assert!(
        !std::fs::read_to_string(d.path().join("baseline.json"))
            .unwrap()
            .contains(&a),
        "no raw value in a baseline"
    );

    // The baselined finding no longer fails the gate.
    let gated = run(
        d.path(),
        &[
            "scan",
            "-f",
            "jsonl",
            "--hash-key-file",
            "key",
            "--baseline",
            "baseline.json",
            "tree",
        ],
    );
    assert_eq!(gated.code, 0, "{}", gated.stdout);
    assert_eq!(gated.findings()[0]["status"], "baselined");
    assert_eq!(gated.summary()["baselined"], 1);

    // A new finding does.
    std::fs::write(t.join("new.txt"), memo(&b)).unwrap();
    let gated = run(
        d.path(),
        &[
            "scan",
            "-f",
            "jsonl",
            "--hash-key-file",
            "key",
            "--baseline",
            "baseline.json",
            "tree",
        ],
    );
    assert_eq!(gated.code, 1);
    let by_path: BTreeMap<String, String> = gated
        .findings()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    assert_eq!(by_path["tree/old.txt"], "baselined");
    assert_eq!(by_path["tree/new.txt"], "-");

    // A report made with an ephemeral key cannot make a baseline.
    run(d.path(), &["scan", "-f", "jsonl", "-o", "eph.jsonl", "tree"]);
    let refused = run(d.path(), &["baseline", "create", "eph.jsonl"]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("ephemeral"), "{}", refused.stderr);
}

#[test]
fn allowlist_entries_and_their_expiry() {
    let d = tempfile::tempdir().unwrap();
    let t = d.path().join("tree");
    std::fs::create_dir_all(t.join("fixtures")).unwrap();
    std::fs::write(d.path().join("key"), "a fixed key\n").unwrap();
    let mut rng = Rng::new(65);
    let (a, b, c) = (mn(&mut rng), mn(&mut rng), mn(&mut rng));
    std::fs::write(t.join("fixtures/test.txt"), memo(&a)).unwrap();
    std::fs::write(t.join("by_fp.txt"), memo(&b)).unwrap();
    std::fs::write(t.join("live.txt"), memo(&c)).unwrap();
    let plain = run(d.path(), &["scan", "-f", "jsonl", "--hash-key-file", "key", "tree"]);
    let fp_b = plain.findings().iter().find(|f| f["path"] == "tree/by_fp.txt").unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let config = format!(
        r#"
hash-key-file = "key"
[[allow]]
path = "tree/fixtures/**"
reason = "synthetic test fixtures"
expires = 2999-12-31

[[allow]]
fingerprint = "{fp_b}"
rule = "jp.my_number"
reason = "reviewed: a sample card number"
expires = "2999-01-01"

[[allow]]
path = "tree/live.txt"
reason = "was accepted until last year"
expires = 2020-01-01
"#
    );
    std::fs::write(d.path().join("appiscan.toml"), config).unwrap();
    let out = run(d.path(), &["scan", "-f", "jsonl", "tree"]);
    assert_eq!(out.code, 1, "live.txt's entry expired: it fails");
    let by_path: BTreeMap<String, Value> = out
        .findings()
        .into_iter()
        .map(|f| (f["path"].as_str().unwrap().to_string(), f))
        .collect();
    assert_eq!(by_path["tree/fixtures/test.txt"]["status"], "allowed");
    assert!(
        by_path["tree/fixtures/test.txt"]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "allowlist:synthetic test fixtures")
    );
    assert_eq!(by_path["tree/by_fp.txt"]["status"], "allowed");
    assert!(by_path["tree/live.txt"].get("status").is_none());
    let s = out.summary();
    assert_eq!(s["allowed"], 2);
    assert_eq!(s["allowlist_expired"].as_array().unwrap().len(), 1);
    assert_eq!(s["allowlist_expired"][0]["expires"], "2020-01-01");
    assert!(out.stderr.contains("expired"), "{}", out.stderr);

    std::fs::remove_file(t.join("live.txt")).unwrap();
    let out = run(d.path(), &["scan", "-f", "jsonl", "tree"]);
    assert_eq!(out.code, 0, "every finding is allowed");

    // An entry without a reason, or without any criterion, is a configuration error.
    std::fs::write(d.path().join("bad.toml"), "[[allow]]\npath = \"x\"\nreason = \"\"\n").unwrap();
    assert_eq!(run(d.path(), &["scan", "--config", "bad.toml", "tree"]).code, 2);
    std::fs::write(d.path().join("bad.toml"), "[[allow]]\nreason = \"why\"\n").unwrap();
    assert_eq!(run(d.path(), &["scan", "--config", "bad.toml", "tree"]).code, 2);
}

#[test]
fn inline_allow_markers() {
    let d = tempfile::tempdir().unwrap();
    let t = d.path().join("tree");
    std::fs::create_dir_all(&t).unwrap();
    let mut rng = Rng::new(66);
    let (a, b, c) = (mn(&mut rng), mn(&mut rng), mn(&mut rng));
    std::fs::write(
        t.join("fixtures.py"),
        format!(
            "# appiscan:allow\nSAMPLE = \"個人番号 {a}\"\nOTHER = \"個人番号 {b}\"  # appiscan:allow(jp.passport)\n\
             THIRD = \"個人番号 {c}\"  # appiscan:allow(jp.my_number)\n"
        ),
    )
    .unwrap();
    let out = run(d.path(), &["scan", "-f", "jsonl", "tree"]);
    let st: Vec<(u64, String)> = out
        .findings()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["status"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    assert_eq!(
        st,
        vec![(2, "allowed".into()), (3, "-".into()), (4, "allowed".into())],
        "a marker applies to its line and the next; a rule list restricts it"
    );
    assert_eq!(out.code, 1);
}

#[test]
fn destination_outside_japan_adds_a_notice() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("tree")).unwrap();
    let out = run(
        d.path(),
        &[
            "scan",
            "-f",
            "jsonl",
            "--destination",
            "s3://exports",
            "--destination-region",
            "us-west-2",
            "tree",
        ],
    );
    let s = out.summary();
    assert_eq!(s["destination"]["country"], "US");
    assert_eq!(s["destination"]["outside_japan"], true);
    assert!(s["destination"]["notice"].as_str().unwrap().contains("Art. 28"));
    let out = run(
        d.path(),
        &[
            "scan",
            "-f",
            "jsonl",
            "--destination",
            "s3://exports",
            "--destination-region",
            "ap-northeast-1",
            "tree",
        ],
    );
    let s = out.summary();
    assert_eq!(s["destination"]["outside_japan"], false);
    assert!(s["destination"].get("notice").is_none());
    let out = run(d.path(), &["scan", "--destination", "SG", "tree"]);
    assert!(out.stdout.contains("APPI Art. 28"), "{}", out.stdout);
}
