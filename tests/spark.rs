//! The scale-out examples run on one machine: `examples/spark/appiscan_spark.py` in Spark's
//! `local[2]` mode, and the shell steps of `examples/k8s/*.yaml` as N processes, each over a
//! generated tree of synthetic files. Their merged reports must equal one `appiscan scan` of the
//! same items.
//!
//! Python: `APPISCAN_TEST_PYTHON` (a venv's python with pyspark), else `python3`. Without pyspark
//! the Spark test prints "skipped: pyspark not installed" and passes, unless
//! `APPISCAN_REQUIRE_SPARK=1` (as CI sets it).

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;
use support::{Rng, my_number};

const BIN: &str = env!("CARGO_BIN_EXE_appiscan");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn script() -> PathBuf {
    repo().join("examples/spark/appiscan_spark.py")
}

fn python() -> String {
    std::env::var("APPISCAN_TEST_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn has_pyspark(python: &str) -> bool {
    Command::new(python)
        .args(["-c", "import pyspark"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A command without any `APPISCAN_*` variable of the caller's environment.
fn clean(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("APPISCAN_") {
            cmd.env_remove(k);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

fn records(report: &str) -> Vec<Value> {
    report
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn write_exe(path: &Path, body: &str) {
    fs::write(path, body).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// A valid My Number that is no sequential dummy.
fn mn(rng: &mut Rng) -> String {
    loop {
        let v = my_number(&format!("{}{}", 1 + rng.below(9), rng.digits(10)));
        if !v.contains("1234") && !v.contains("0000") {
            return v;
        }
    }
}

fn spaced(v: &str) -> String {
    format!("{} {} {}", &v[..4], &v[4..8], &v[8..])
}

/// A tree of synthetic files under `root` (memos, HR exports, clean notes, invalid check digits,
/// gzip and a truncated gzip); returns every file written. A small pool of numbers repeats
/// across files, so distinct counts are smaller than finding counts and must survive the merge.
fn generate_tree(root: &Path) -> Vec<PathBuf> {
    let mut rng = Rng::new(0x5A4B_2026);
    let pool: Vec<String> = (0..12).map(|_| mn(&mut rng)).collect();
    let mut files = Vec::new();
    let mut put = |rel: String, body: Vec<u8>| {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, body).unwrap();
        files.push(p);
    };
    for i in 0..30 {
        let v = pool[rng.below(pool.len())].clone();
        let body = format!("顧客メモ {i}\n個人番号: {}\n対応: 住所変更の受付\n", spaced(&v));
        put(format!("memos/2026/memo-{i:03}.txt"), body.into_bytes());
    }
    for i in 0..8 {
        let mut csv = String::from("社員番号,氏名,個人番号,部署\n");
        for r in 0..20 {
            let v = if rng.chance(0.5) {
                pool[rng.below(pool.len())].clone()
            } else {
                mn(&mut rng)
            };
            csv.push_str(&format!("E{i}{r:03},テスト 太郎{r},{v},総務部\n"));
        }
        put(format!("hr/export-{i}.csv"), csv.into_bytes());
    }
    for i in 0..15 {
        let body = format!(
            "会議メモ {i}\n次回は {} 日に開催。受注番号 ORD-{}\n",
            1 + i % 28,
            rng.digits(8)
        );
        put(format!("notes/note-{i:02}.txt"), body.into_bytes());
    }
    for i in 0..6 {
        let v = mn(&mut rng);
        let last = (v.as_bytes()[11] - b'0' + 1) % 10;
        let bad = format!("{}{last}", &v[..11]);
        put(
            format!("bad/typo-{i}.txt"),
            format!("個人番号: {}\n", spaced(&bad)).into_bytes(),
        );
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(format!("個人番号: {}\n", spaced(&pool[0])).as_bytes())
        .unwrap();
    let gz = gz.finish().unwrap();
    put("archive/memo.txt.gz".into(), gz.clone());
    put("archive/broken.txt.gz".into(), gz[..gz.len() / 2].to_vec());
    files
}

/// A finding or error record as a sortable string; the summary's comparable fields.
fn keyed(recs: &[Value], t: &str) -> Vec<String> {
    let mut out: Vec<String> = recs.iter().filter(|r| r["type"] == t).map(|r| r.to_string()).collect();
    out.sort();
    out
}

const SUMMARY_FIELDS: [&str; 9] = [
    "files_scanned",
    "bytes_scanned",
    "files_skipped",
    "errors",
    "findings",
    "distinct",
    "complete",
    "fingerprint_key",
    "targets",
];

fn summary(recs: &[Value]) -> Value {
    let last = recs.last().expect("a non-empty report");
    assert_eq!(last["type"], "summary", "the last record is the summary");
    last.clone()
}

/// Asserts that `merged` reports exactly what `single` does.
fn assert_same_report(merged: &str, single: &str) {
    let (m, s) = (records(merged), records(single));
    let (mf, sf) = (keyed(&m, "finding"), keyed(&s, "finding"));
    assert!(!sf.is_empty(), "the generated tree has findings");
    assert_eq!(mf.len(), sf.len(), "number of findings");
    assert_eq!(mf, sf, "findings (sorted)");
    assert_eq!(keyed(&m, "error"), keyed(&s, "error"), "error records");
    let (ms, ss) = (summary(&m), summary(&s));
    for f in SUMMARY_FIELDS {
        assert_eq!(ms[f], ss[f], "summary field {f}: merged {} vs single {}", ms[f], ss[f]);
    }
}

/// `appiscan scan --worklist FILE -f jsonl --hash-key-file KEY` plus `extra`: (exit code, report).
fn single_scan(dir: &Path, worklist: &Path, key: &Path, extra: &[&str]) -> (i32, String) {
    let out = clean(BIN)
        .current_dir(dir)
        .args(["scan", "--worklist"])
        .arg(worklist)
        .args(["-f", "jsonl", "--no-progress", "--hash-key-file"])
        .arg(key)
        .args(extra)
        .output()
        .expect("run appiscan");
    let code = out.status.code().unwrap_or(-1);
    assert!(
        matches!(code, 0 | 1 | 3),
        "single scan exited {code}: {}",
        text(&out.stderr)
    );
    (code, text(&out.stdout))
}

fn run_python(args: &[&std::ffi::OsStr], dir: &Path) -> Output {
    clean(python())
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run python")
}

#[test]
fn spark_local_job_equals_single_scan() {
    let py = python();
    if !has_pyspark(&py) {
        if std::env::var("APPISCAN_REQUIRE_SPARK").as_deref() == Ok("1") {
            panic!("APPISCAN_REQUIRE_SPARK=1 but `{py}` cannot import pyspark");
        }
        println!("skipped: pyspark not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let tree = dir.join("tree");
    let files = generate_tree(&tree);
    let key = dir.join("key");
    fs::write(&key, "spark-test-key-0123456789abcdef\n").unwrap();

    // Two sources at once: an item list (the HR exports, the notes and a missing file) and a
    // directory walk (memos, typos, archives).
    let mut listed: Vec<String> = files
        .iter()
        .filter(|p| p.starts_with(tree.join("hr")) || p.starts_with(tree.join("notes")))
        .map(|p| p.display().to_string())
        .collect();
    listed.push(tree.join("hr/missing.csv").display().to_string());
    // As --worklist reads a list: comments and blank lines skipped, white space around an item
    // dropped; and an item named twice is scanned once.
    let list_text = format!(
        "# HR exports and notes\n\n  {}  \n{}\n{}\n",
        listed[0],
        listed.join("\n"),
        listed[1]
    );
    fs::write(dir.join("items.txt"), list_text).unwrap();
    let sources: Vec<String> = vec![
        "--items".into(),
        dir.join("items.txt").display().to_string(),
        "--walk".into(),
        tree.join("memos").display().to_string(),
        "--walk".into(),
        tree.join("bad").display().to_string(),
        "--walk".into(),
        tree.join("archive").display().to_string(),
    ];

    // The driver's item list (no Spark needed for it) is exactly the files generated plus the
    // missing one: the walk found everything and nothing else.
    let mut list_args: Vec<std::ffi::OsString> = vec![script().into(), "--list-items".into()];
    list_args.extend(sources.iter().map(Into::into));
    list_args.extend([
        "--key-file".into(),
        key.clone().into(),
        "--parts".into(),
        "unused".into(),
    ]);
    let refs: Vec<&std::ffi::OsStr> = list_args.iter().map(|s| s.as_os_str()).collect();
    let out = run_python(&refs, dir);
    assert!(out.status.success(), "--list-items: {}", text(&out.stderr));
    let items: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    let mut want: BTreeSet<String> = files.iter().map(|p| p.display().to_string()).collect();
    want.insert(tree.join("hr/missing.csv").display().to_string());
    assert_eq!(items.iter().cloned().collect::<BTreeSet<_>>(), want, "work items");
    assert_eq!(items.len(), want.len(), "no item listed twice");
    let worklist = dir.join("worklist.txt");
    fs::write(&worklist, items.join("\n") + "\n").unwrap();

    // The binary as the executors see it: the first `scan` of the whole job writes half a
    // record and fails with exit 2, so one task fails and is retried (local[2,2] allows two
    // attempts); the retry's part must replace the failed attempt's, not join it.
    let flaky = dir.join("flaky-appiscan");
    let marker = dir.join("failed-once");
    write_exe(
        &flaky,
        &format!(
            "#!/bin/sh\nif [ \"$1\" = scan ] && mkdir '{m}' 2>/dev/null; then\n  \
             printf '{{\"type\":\"finding\",\"rule\":' ; echo 'simulated crash' >&2; exit 2\nfi\nexec '{b}' \"$@\"\n",
            m = marker.display(),
            b = BIN
        ),
    );

    let parts = dir.join("parts");
    let report = dir.join("merged.jsonl");
    let mut args: Vec<std::ffi::OsString> = vec![
        script().into(),
        "--master".into(),
        "local[2,2]".into(),
        "--conf".into(),
        "spark.ui.enabled=false".into(),
        "--conf".into(),
        "spark.sql.shuffle.partitions=2".into(),
        "--conf".into(),
        "spark.driver.memory=512m".into(),
        "--partitions".into(),
        "5".into(),
        "--binary".into(),
        flaky.clone().into(),
        "--key-file".into(),
        key.clone().into(),
        "--parts".into(),
        parts.clone().into(),
        "--report".into(),
        report.clone().into(),
    ];
    args.extend(sources.iter().map(Into::into));
    args.extend([
        "--scan-options=--min-confidence medium".into(),
        "--".into(),
        "--no-progress".into(),
    ]);
    let started = Instant::now();
    let out = clean(&py)
        .current_dir(dir)
        .args(&args)
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .env("PYSPARK_PYTHON", &py)
        .env("PYSPARK_DRIVER_PYTHON", &py)
        .output()
        .expect("run the Spark job");
    let took = started.elapsed();
    let stderr = text(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    println!(
        "spark local[2] job over {} items: {:.1} s, exit {code}",
        items.len(),
        took.as_secs_f64()
    );
    let tail: String = stderr
        .lines()
        .rev()
        .take(40)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    assert!(marker.exists(), "the first attempt failed on purpose\n{tail}");
    assert!(
        stderr.contains("simulated crash"),
        "the failed attempt's stderr is passed on\n{tail}"
    );

    let (single_code, single) = single_scan(dir, &worklist, &key, &["--min-confidence", "medium"]);
    assert_eq!(code, single_code, "the job exits with the merged exit code\n{tail}");
    assert_eq!(code, 1, "the tree holds My Numbers");

    // One whole part per partition, each ending with its summary; no trace of the failed attempt.
    let mut part_files: Vec<PathBuf> = fs::read_dir(&parts)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("part-"))
        .collect();
    part_files.sort();
    assert_eq!(part_files.len(), 5, "one part per partition: {part_files:?}");
    for p in &part_files {
        let recs = records(&fs::read_to_string(p).unwrap());
        summary(&recs);
        assert_eq!(
            recs.iter().filter(|r| r["type"] == "summary").count(),
            1,
            "{}",
            p.display()
        );
    }
    assert!(!parts.join("_temporary").exists(), "no attempt directory left behind");

    assert_same_report(&fs::read_to_string(&report).unwrap(), &single);
    let merged = records(&fs::read_to_string(&report).unwrap());
    let s = summary(&merged);
    assert_eq!(
        s["complete"], false,
        "the missing file and the truncated gzip are errors"
    );
    assert_eq!(s["fingerprint_key"], "provided");
    let findings = s["findings"]["jp.my_number"].as_u64().unwrap();
    let distinct = s["distinct"]["jp.my_number"].as_u64().unwrap();
    assert!(
        distinct < findings,
        "repeated numbers: distinct {distinct} < findings {findings}"
    );
    println!(
        "merged: {findings} My Number findings, {distinct} distinct, {} errors",
        s["errors"]
    );
}

/// Lines of the block scalar that follows `args:` / `- |` in a manifest's first container.
fn manifest_script(yaml: &str) -> String {
    let mut lines = yaml.lines().skip_while(|l| l.trim() != "- |");
    lines.next().expect("an `args: - |` block");
    let body: Vec<&str> = lines
        .take_while(|l| l.starts_with("              ") || l.trim().is_empty())
        .collect();
    body.iter()
        .map(|l| l.get(14..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("$$(", "$(")
}

/// The manifest's script with its cluster paths pointed at local ones.
fn localise(script: &str, data: &Path, out: &Path, key: &Path) -> String {
    script
        .replace("/etc/appiscan/key", &key.display().to_string())
        .replace("/data", &data.display().to_string())
        .replace("/out/", &format!("{}/", out.display()))
        .replace("appiscan scan ", &format!("'{BIN}' scan "))
        .replace("appiscan merge ", &format!("'{BIN}' merge "))
}

#[test]
fn k8s_indexed_job_equals_single_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    generate_tree(&data);
    let key = dir.join("key");
    fs::write(&key, "k8s-test-key\n").unwrap();
    let out = dir.join("out");
    fs::create_dir_all(&out).unwrap();

    let job = fs::read_to_string(repo().join("examples/k8s/indexed-job.yaml")).unwrap();
    let n: usize = job
        .lines()
        .find_map(|l| l.trim().strip_prefix("completions:"))
        .and_then(|v| v.split('#').next())
        .map(|v| v.trim().parse().unwrap())
        .expect("completions: N");
    assert!(
        job.contains(&format!("--shard-count {n} ")),
        "--shard-count equals completions"
    );
    let scan = localise(&manifest_script(&job), &data, &out, &key);
    for i in 0..n {
        let o = clean("sh")
            .args(["-c", &scan])
            .env("JOB_COMPLETION_INDEX", i.to_string())
            .output()
            .unwrap();
        assert!(o.status.success(), "index {i}: {}\n{}", text(&o.stderr), scan);
    }
    let merge_yaml = fs::read_to_string(repo().join("examples/k8s/merge-job.yaml")).unwrap();
    assert!(merge_yaml.contains(&format!("n={n}\n")), "the merge expects N parts");
    let merge = localise(&manifest_script(&merge_yaml), &data, &out, &key);
    let o = clean("sh").args(["-c", &merge]).output().unwrap();
    assert!(o.status.success(), "merge: {}\n{}", text(&o.stderr), merge);
    let code: i32 = fs::read_to_string(out.join("exit-code"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();

    // The reference: one scan of the same directory.
    let single = clean(BIN)
        .args([
            "scan",
            "-f",
            "jsonl",
            "--no-progress",
            "--min-confidence",
            "medium",
            "--hash-key-file",
        ])
        .arg(&key)
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(code, single.status.code().unwrap(), "merged exit code");
    let parts = fs::read_dir(&out)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("part-"))
        .count();
    assert_eq!(parts, n);
    assert_same_report(
        &fs::read_to_string(out.join("report.jsonl")).unwrap(),
        &text(&single.stdout),
    );
}

/// The executor side without Spark: what reaches the binary, and which exit codes fail the task.
#[test]
fn executor_hands_items_and_maps_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let seen = dir.join("seen");
    let fake = |name: &str, code: i32, summary: bool| {
        let p = dir.join(name);
        let last = if summary {
            r#"{"type":"summary","complete":true}"#
        } else {
            r#"{"type":"finding""#
        };
        write_exe(
            &p,
            &format!(
                "#!/bin/sh\necho \"$@\" > '{s}.args'\ncat > '{s}.stdin'\necho '{{\"type\":\"finding\"}}'\necho '{last}'\nexit {code}\n",
                s = seen.display()
            ),
        );
        p
    };
    let cases = [
        (fake("ok0", 0, true), "ok 2"),
        (fake("ok1", 1, true), "ok 2"),
        (fake("ok3", 3, true), "ok 2"),
        (fake("fail2", 2, true), "RuntimeError"),
        (fake("fail134", 134, true), "RuntimeError"),
        (fake("truncated", 0, false), "RuntimeError"),
    ];
    let program = format!(
        r#"
import sys
sys.path.insert(0, {examples:?})
import appiscan_spark as m
items = ["/srv/a b.txt", "s3://bucket/k,ey", "bucket,key,v1"]
try:
    lines = list(m.scan_partition(7, iter(items), sys.argv[1], "/keys/k", 2, ["--min-confidence", "high"]))
    print("ok", len(lines))
except RuntimeError as e:
    print("RuntimeError", e)
"#,
        examples = repo().join("examples/spark").display().to_string()
    );
    for (bin, want) in &cases {
        let o = clean(python())
            .args(["-c", &program])
            .arg(bin)
            .output()
            .expect("python3");
        let got = text(&o.stdout);
        assert!(
            got.starts_with(want),
            "{}: got {got:?}, want {want:?}; {}",
            bin.display(),
            text(&o.stderr)
        );
        let stdin = fs::read_to_string(dir.join("seen.stdin")).unwrap();
        assert_eq!(
            stdin, "/srv/a b.txt\ns3://bucket/k,ey\nbucket,key,v1\n",
            "items reach the binary's standard input, one per line"
        );
        let argv = fs::read_to_string(dir.join("seen.args")).unwrap();
        assert_eq!(
            argv.trim(),
            "scan --worklist - -f jsonl --hash-key-file /keys/k -j 2 --min-confidence high"
        );
    }
    // An empty partition does not run the binary at all.
    fs::remove_file(dir.join("seen.args")).unwrap();
    let o = clean(python())
        .args([
            "-c",
            &format!(
                "import sys; sys.path.insert(0, {:?}); import appiscan_spark as m; \
                 print(len(list(m.scan_partition(0, iter([]), {:?}, 'k', 1, []))))",
                repo().join("examples/spark").display().to_string(),
                cases[0].0.display().to_string()
            ),
        ])
        .output()
        .unwrap();
    assert_eq!(text(&o.stdout).trim(), "0", "{}", text(&o.stderr));
    assert!(!dir.join("seen.args").exists());
}

/// S3 Inventory sources: a manifest with its (downloaded) gzip CSV data file, and a bare CSV.
#[test]
fn s3_inventory_items() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let rows = "\"corp-share\",\"hr/2026/a+b.csv\",\"v1\",\"true\",\"false\",\"120\"\n\
                \"corp-share\",\"hr/old%2C1.csv\",\"v0\",\"false\",\"true\",\"0\"\n\
                \"corp-share\",\"%E7%A4%BE%E5%93%A1.txt\",\"\",\"true\",\"false\",\"7\"\n\
                \"corp-share\",\"q/a%2Cb+%22c%22.csv\",\"v2\",\"true\",\"false\",\"9\"\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(rows.as_bytes()).unwrap();
    fs::write(dir.join("data-1.csv.gz"), gz.finish().unwrap()).unwrap();
    fs::write(
        dir.join("manifest.json"),
        r#"{"sourceBucket":"corp-share","destinationBucket":"arn:aws:s3:::corp-inventory",
            "fileFormat":"CSV","fileSchema":"Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size",
            "files":[{"key":"corp-share/daily/data/data-1.csv.gz","size":1,"MD5checksum":"x"}]}"#,
    )
    .unwrap();
    fs::write(dir.join("plain.csv"), "\"logs\",\"app/x.log\"\n").unwrap();
    let out = run_python(
        &[
            script().as_os_str(),
            "--list-items".as_ref(),
            "--key-file".as_ref(),
            "k".as_ref(),
            "--parts".as_ref(),
            "p".as_ref(),
            "--s3-inventory".as_ref(),
            "manifest.json".as_ref(),
            "--s3-inventory".as_ref(),
            "plain.csv".as_ref(),
        ],
        dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "corp-share,hr/2026/a b.csv,v1\ncorp-share,社員.txt\ncorp-share,\"q/a,b \"\"c\"\".csv\",v2\nlogs,app/x.log\n",
        "URL-decoded keys, quoted when they hold a comma, versions kept, delete markers skipped"
    );
}
