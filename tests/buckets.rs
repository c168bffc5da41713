//! Bucket TARGETs and S3 Inventory manifests against a real S3 endpoint (SPEC §10).
//!
//! `.ci/run` starts moto_server on 127.0.0.1 and exports `APPISCAN_S3_ENDPOINT` (the endpoint),
//! `APPISCAN_S3_PYTHON` (a Python with boto3, for fixtures) and `APPISCAN_REQUIRE_S3=1`. Without
//! an endpoint and without that variable each test prints "skipped" and passes, so `cargo test`
//! works on a laptop. Requests are counted by a small proxy between appiscan and the endpoint.
//!
//! `APPISCAN_S3_BENCH=1` also runs the 10,000-object timing (`bucket_of_10000_objects`).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Instant;

struct Env {
    endpoint: String,
    python: String,
}

fn s3_env(test: &str) -> Option<Env> {
    let endpoint = std::env::var("APPISCAN_S3_ENDPOINT").ok().filter(|v| !v.is_empty());
    let python = std::env::var("APPISCAN_S3_PYTHON").ok().filter(|v| !v.is_empty());
    let required = std::env::var("APPISCAN_REQUIRE_S3").is_ok_and(|v| v == "1");
    match (endpoint, python) {
        (Some(endpoint), Some(python)) => {
            let addr = endpoint.trim_start_matches("http://").trim_end_matches('/');
            match TcpStream::connect(addr) {
                Ok(_) => Some(Env { endpoint, python }),
                Err(e) if required => panic!("APPISCAN_REQUIRE_S3=1 but {endpoint} is not reachable: {e}"),
                Err(_) => {
                    println!("{test}: skipped ({endpoint} not reachable)");
                    None
                }
            }
        }
        _ if required => panic!("APPISCAN_REQUIRE_S3=1 but APPISCAN_S3_ENDPOINT / APPISCAN_S3_PYTHON are not set"),
        _ => {
            println!("{test}: skipped (no APPISCAN_S3_ENDPOINT)");
            None
        }
    }
}

/// A bucket name no other test (or earlier run against the same server) uses.
fn bucket(stem: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{stem}-{}-{}", std::process::id(), nanos % 1_000_000_000)
}

fn py(env: &Env, args: &[&str]) -> String {
    let helper = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/buckets/s3.py");
    let out = Command::new(&env.python)
        .arg(helper)
        .args(args)
        .env("APPISCAN_S3_ENDPOINT", &env.endpoint)
        .env_remove("AWS_CA_BUNDLE")
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "fixture {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every request line that went through a proxy.
#[derive(Clone, Default)]
struct Requests(Arc<Mutex<Vec<String>>>);

impl Requests {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Object GETs among request lines: a GET whose query is not a listing.
fn object_gets(lines: &[String]) -> Vec<&String> {
    lines
        .iter()
        .filter(|l| l.starts_with("GET ") && !l.contains("list-type=") && !l.starts_with("GET /?"))
        .collect()
}

/// A forwarding proxy that records the request line of every HTTP request (appiscan's requests
/// have no bodies, so request lines are the lines that start with a method).
fn proxy(upstream: &str) -> (String, Requests) {
    let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Requests::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let Ok(mut server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let log = log.clone();
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s2, &mut c2);
                let _ = c2.shutdown(std::net::Shutdown::Both);
            });
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                let mut line = Vec::new();
                loop {
                    let n = match client.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    for &b in &buf[..n] {
                        if b == b'\n' {
                            let l = String::from_utf8_lossy(&line).trim_end().to_string();
                            if ["GET ", "HEAD ", "PUT ", "POST ", "DELETE "]
                                .iter()
                                .any(|m| l.starts_with(m))
                                && l.contains(" HTTP/1")
                            {
                                log.0.lock().unwrap().push(l);
                            }
                            line.clear();
                        } else if line.len() < 8192 {
                            line.push(b);
                        }
                    }
                    if server.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = server.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    (format!("http://{addr}"), seen)
}

/// `appiscan scan -f jsonl ARGS...` against `endpoint` with test credentials.
fn scan_command(endpoint: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_appiscan"));
    cmd.arg("scan")
        .args(["-f", "jsonl", "--no-progress"])
        .args(args)
        .env("APPISCAN_HASH_KEY", "buckets-test-key")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_ENDPOINT_URL_S3");
    cmd
}

fn appiscan(endpoint: &str, args: &[&str]) -> Output {
    scan_command(endpoint, args).output().expect("run appiscan")
}

fn records(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn of_type<'a>(recs: &'a [serde_json::Value], t: &str) -> Vec<&'a serde_json::Value> {
    recs.iter().filter(|r| r["type"] == t).collect()
}

fn summary(recs: &[serde_json::Value]) -> &serde_json::Value {
    recs.iter().rfind(|r| r["type"] == "summary").expect("a summary")
}

/// A finding without its path's prefix: what must be equal between a tree and its bucket.
fn finding_key(f: &serde_json::Value, prefix: &str) -> String {
    let path = f["path"].as_str().unwrap();
    let rel = path
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{path} not under {prefix}"));
    let mut f = f.clone();
    f["path"] = serde_json::Value::String(rel.to_string());
    f.as_object_mut().unwrap().remove("status");
    f.to_string()
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

#[test]
fn a_tree_as_files_and_as_a_bucket_gives_the_same_findings() {
    let Some(env) = s3_env("a_tree_as_files_and_as_a_bucket_gives_the_same_findings") else {
        return;
    };
    let b = bucket("tree");
    py(&env, &["mkbucket", &b]);
    py(&env, &["upload", &b, samples().to_str().unwrap()]);
    let local = appiscan(&env.endpoint, &[samples().to_str().unwrap()]);
    let remote = appiscan(&env.endpoint, &[&format!("s3://{b}")]);
    assert_eq!(code(&local), 1, "{}", String::from_utf8_lossy(&local.stderr));
    assert_eq!(code(&remote), 1, "{}", String::from_utf8_lossy(&remote.stderr));
    let (lr, rr) = (records(&local), records(&remote));
    let prefix = format!("{}/", samples().display());
    let lf: BTreeSet<String> = of_type(&lr, "finding")
        .iter()
        .map(|f| finding_key(f, &prefix))
        .collect();
    let rf: BTreeSet<String> = of_type(&rr, "finding")
        .iter()
        .map(|f| finding_key(f, &format!("s3://{b}/")))
        .collect();
    assert!(!lf.is_empty());
    assert_eq!(lf, rf, "findings differ between the tree and the bucket");
    assert_eq!(of_type(&rr, "error").len(), 0, "{rr:?}");
    let (ls, rs) = (summary(&lr), summary(&rr));
    for k in ["files_scanned", "bytes_scanned", "findings", "files_skipped"] {
        assert_eq!(ls[k], rs[k], "summary field {k}");
    }
    // A prefix, and a key naming one object.
    let hr = records(&appiscan(&env.endpoint, &[&format!("s3://{b}/hr")]));
    assert_eq!(summary(&hr)["files_scanned"], 3);
    let one = records(&appiscan(&env.endpoint, &[&format!("s3://{b}/hr/employees.csv")]));
    assert_eq!(summary(&one)["files_scanned"], 1);
    assert!(
        of_type(&one, "finding")
            .iter()
            .all(|f| f["path"] == format!("s3://{b}/hr/employees.csv"))
    );
}

#[test]
fn a_bucket_that_cannot_be_listed_is_exit_2() {
    let Some(env) = s3_env("a_bucket_that_cannot_be_listed_is_exit_2") else {
        return;
    };
    let out = appiscan(&env.endpoint, &[&format!("s3://{}", bucket("absent"))]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(&out), 2, "{err}");
    assert!(err.contains("cannot list"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn an_unchanged_bucket_is_not_read_again_with_state() {
    let Some(env) = s3_env("an_unchanged_bucket_is_not_read_again_with_state") else {
        return;
    };
    let b = bucket("state");
    py(&env, &["mkbucket", &b]);
    py(&env, &["upload", &b, samples().to_str().unwrap()]);
    let (via, requests) = proxy(&env.endpoint);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let target = format!("s3://{b}");
    let args = ["--state", state.to_str().unwrap(), target.as_str()];

    let first = appiscan(&via, &args);
    assert_eq!(code(&first), 1, "{}", String::from_utf8_lossy(&first.stderr));
    let r1 = records(&first);
    let objects = summary(&r1)["files_scanned"].as_u64().unwrap();
    let gets1 = requests.take();
    assert!(object_gets(&gets1).len() as u64 >= objects, "{gets1:#?}");

    let second = appiscan(&via, &args);
    assert_eq!(code(&second), 1, "{}", String::from_utf8_lossy(&second.stderr));
    let r2 = records(&second);
    let lines2 = requests.take();
    println!("second run requests: {lines2:#?}");
    assert_eq!(
        object_gets(&lines2).len(),
        0,
        "an unchanged bucket was read: {lines2:#?}"
    );
    assert!(lines2.iter().any(|l| l.contains("list-type=2")), "{lines2:#?}");
    assert_eq!(summary(&r2)["files_unchanged"].as_u64(), Some(objects));
    assert_eq!(summary(&r2)["files_scanned"], 0);
    let f1: BTreeSet<String> = of_type(&r1, "finding").iter().map(|f| finding_key(f, "")).collect();
    let f2: BTreeSet<String> = of_type(&r2, "finding").iter().map(|f| finding_key(f, "")).collect();
    assert_eq!(f1, f2);
    assert!(of_type(&r2, "finding").iter().all(|f| f["status"] == "unchanged"));

    // One object changes: exactly one GET, and its old findings are resolved.
    let clean = dir.path().join("clean.csv");
    std::fs::write(&clean, "id,note\n1,nothing personal\n").unwrap();
    py(&env, &["put", &b, "hr/employees.csv", clean.to_str().unwrap()]);
    let third = appiscan(&via, &args);
    let r3 = records(&third);
    let lines3 = requests.take();
    let gets3 = object_gets(&lines3);
    assert_eq!(gets3.len(), 1, "{lines3:#?}");
    assert!(gets3[0].contains("employees.csv"), "{gets3:?}");
    assert!(
        of_type(&r3, "finding")
            .iter()
            .any(|f| f["status"] == "resolved" && f["path"] == format!("s3://{b}/hr/employees.csv"))
    );
}

/// Writes an inventory: `manifest.json` and one gzip CSV data file under `dir`, in the layout S3
/// writes (`dest/src/config/DATE/manifest.json`, `dest/src/config/data/<id>.csv.gz`), keys
/// URL-encoded with `+` for spaces.
fn write_csv_inventory(dir: &Path, source: &str, rows: &[[&str; 8]]) -> PathBuf {
    let base = dir.join("inv").join(source).join("cfg");
    let data_key = format!("inv/{source}/cfg/data/0f1e2d3c.csv.gz");
    std::fs::create_dir_all(base.join("2026-11-29T01-00Z")).unwrap();
    std::fs::create_dir_all(base.join("data")).unwrap();
    let mut csv = String::new();
    for r in rows {
        let enc: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let v = if i == 1 { encode_key(v) } else { v.to_string() };
                format!("\"{v}\"")
            })
            .collect();
        csv.push_str(&enc.join(","));
        csv.push('\n');
    }
    csv.push('\n'); // S3 may append a blank line
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(csv.as_bytes()).unwrap();
    std::fs::write(dir.join(&data_key), gz.finish().unwrap()).unwrap();
    let manifest = serde_json::json!({
        "sourceBucket": source,
        "destinationBucket": "arn:aws:s3:::inv-dest",
        "version": "2016-11-30",
        "creationTimestamp": "1764378000000",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag",
        "files": [{"key": data_key, "size": 1, "MD5checksum": "00"}]
    });
    let path = base.join("2026-11-29T01-00Z/manifest.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    path
}

/// URL-encoding as S3 Inventory CSV does it: `+` for a space, `%XX` for the rest.
fn encode_key(k: &str) -> String {
    let mut out = String::new();
    for b in k.bytes() {
        match b {
            b' ' => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[test]
fn an_inventory_is_read_from_a_mirror_and_from_the_bucket() {
    let Some(env) = s3_env("an_inventory_is_read_from_a_mirror_and_from_the_bucket") else {
        return;
    };
    let b = bucket("inv");
    py(&env, &["mkbucket", &b]);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let employees = std::fs::read(samples().join("hr/employees.csv")).unwrap();
    let clinic = std::fs::read(samples().join("clinic/受診記録_2026-10.csv")).unwrap();
    let memo = std::fs::read(samples().join("memo/面談記録.txt")).unwrap();
    let objects: [(&str, &[u8]); 4] = [
        ("hr/employees.csv", &employees),
        ("顧客 リスト/a+b 2024.csv", &clinic),
        ("memo/missing.txt", &memo),
        ("memo/stale.txt", &memo),
    ];
    for (k, body) in objects {
        let p = src.join(k);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, body).unwrap();
    }
    py(&env, &["upload", &b, src.to_str().unwrap()]);
    let size = |body: &[u8]| body.len().to_string();
    let (s1, s2, s3) = (size(&employees), size(&clinic), size(&memo));
    let t = "2026-11-29T00:00:00.000Z";
    let rows = [
        [b.as_str(), "hr/employees.csv", "", "true", "false", &s1, t, "e1"],
        [
            b.as_str(),
            "顧客 リスト/a+b 2024.csv",
            "",
            "true",
            "false",
            &s2,
            t,
            "e2",
        ],
        [b.as_str(), "memo/missing.txt", "", "true", "false", &s3, t, "e3"],
        [b.as_str(), "memo/stale.txt", "", "true", "false", &s3, t, "e4"],
        [b.as_str(), "old/deleted.csv", "", "true", "true", "", t, ""],
    ];
    let manifest = write_csv_inventory(dir.path(), &b, &rows);
    // The mirror: two good copies, one missing, one stale (another size).
    let mirror = dir.path().join("mirror");
    for (k, body) in &objects[..2] {
        let p = mirror.join(k);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, body).unwrap();
    }
    std::fs::create_dir_all(mirror.join("memo")).unwrap();
    std::fs::write(mirror.join("memo/stale.txt"), "short\n").unwrap();

    // No endpoint is needed with a mirror: point it nowhere.
    let out = appiscan(
        "http://127.0.0.1:9",
        &[manifest.to_str().unwrap(), "--mirror-root", mirror.to_str().unwrap()],
    );
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let recs = records(&out);
    let paths: BTreeSet<&str> = of_type(&recs, "finding")
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let want: BTreeSet<String> = [
        format!("s3://{b}/hr/employees.csv"),
        format!("s3://{b}/顧客 リスト/a+b 2024.csv"),
    ]
    .into();
    assert_eq!(paths, want.iter().map(String::as_str).collect());
    let errors = of_type(&recs, "error");
    assert_eq!(errors.len(), 2, "{errors:?}");
    let missing = errors
        .iter()
        .find(|e| e["path"] == format!("s3://{b}/memo/missing.txt"))
        .unwrap();
    assert!(
        missing["message"].as_str().unwrap().contains("not in the mirror"),
        "{missing}"
    );
    let stale = errors
        .iter()
        .find(|e| e["path"] == format!("s3://{b}/memo/stale.txt"))
        .unwrap();
    assert!(stale["message"].as_str().unwrap().contains("stale"), "{stale}");
    let s = summary(&recs);
    assert_eq!(s["files_skipped"]["delete_marker"], 1);
    assert_eq!(s["complete"], false);

    // Without a mirror, the same inventory is read from the bucket: no errors, all four objects.
    let out = appiscan(&env.endpoint, &[manifest.to_str().unwrap()]);
    let recs2 = records(&out);
    assert_eq!(of_type(&recs2, "error").len(), 0, "{recs2:?}");
    assert_eq!(summary(&recs2)["files_scanned"], 4);
    let mirror_findings: BTreeSet<String> = of_type(&recs, "finding").iter().map(|f| finding_key(f, "")).collect();
    let bucket_findings: BTreeSet<String> = of_type(&recs2, "finding")
        .iter()
        .filter(|f| !f["path"].as_str().unwrap().contains("/memo/"))
        .map(|f| finding_key(f, ""))
        .collect();
    assert_eq!(mirror_findings, bucket_findings);

    // The manifest itself in a bucket: data files from its destination bucket.
    let dest = bucket("dest");
    py(&env, &["mkbucket", &dest]);
    let text = std::fs::read_to_string(&manifest).unwrap().replace("inv-dest", &dest);
    std::fs::write(&manifest, text).unwrap();
    py(&env, &["upload", &dest, dir.path().to_str().unwrap()]);
    let key = manifest.strip_prefix(dir.path()).unwrap().to_str().unwrap().to_string();
    let out = appiscan(&env.endpoint, &[&format!("s3://{dest}/{key}")]);
    let recs3 = records(&out);
    assert_eq!(of_type(&recs3, "error").len(), 0, "{recs3:?}");
    assert_eq!(summary(&recs3)["files_scanned"], 4);
}

#[test]
fn versioned_objects_are_read_by_version_id() {
    let Some(env) = s3_env("versioned_objects_are_read_by_version_id") else {
        return;
    };
    let b = bucket("ver");
    py(&env, &["mkbucket", &b, "versioned"]);
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean.csv");
    std::fs::write(&clean, "id,note\n1,nothing personal\n").unwrap();
    let v1: serde_json::Value = serde_json::from_str(&py(
        &env,
        &[
            "put",
            &b,
            "hr/employees.csv",
            samples().join("hr/employees.csv").to_str().unwrap(),
        ],
    ))
    .unwrap();
    let v2: serde_json::Value =
        serde_json::from_str(&py(&env, &["put", &b, "hr/employees.csv", clean.to_str().unwrap()])).unwrap();
    let (v1, v2) = (v1["version"].as_str().unwrap(), v2["version"].as_str().unwrap());
    assert_ne!(v1, v2);

    // The bucket listing has the current version only: clean.
    let out = appiscan(&env.endpoint, &[&format!("s3://{b}")]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));

    // An inventory of all versions: the old version is read by its id and shown with it.
    let size1 = std::fs::metadata(samples().join("hr/employees.csv"))
        .unwrap()
        .len()
        .to_string();
    let size2 = std::fs::metadata(&clean).unwrap().len().to_string();
    let t = "2026-11-29T00:00:00.000Z";
    let rows = [
        [b.as_str(), "hr/employees.csv", v2, "true", "false", &size2, t, "x2"],
        [b.as_str(), "hr/employees.csv", v1, "false", "false", &size1, t, "x1"],
    ];
    let manifest = write_csv_inventory(dir.path(), &b, &rows);
    let out = appiscan(&env.endpoint, &[manifest.to_str().unwrap()]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let recs = records(&out);
    assert_eq!(of_type(&recs, "error").len(), 0, "{recs:?}");
    assert_eq!(summary(&recs)["files_scanned"], 2);
    let paths: BTreeSet<&str> = of_type(&recs, "finding")
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let old = format!("s3://{b}/hr/employees.csv?versionId={v1}");
    assert_eq!(paths, BTreeSet::from([old.as_str()]));

    // With a mirror (current versions only), the old version is counted as skipped.
    let mirror = dir.path().join("mirror");
    std::fs::create_dir_all(mirror.join("hr")).unwrap();
    std::fs::copy(&clean, mirror.join("hr/employees.csv")).unwrap();
    let out = appiscan(
        "http://127.0.0.1:9",
        &[manifest.to_str().unwrap(), "--mirror-root", mirror.to_str().unwrap()],
    );
    let recs = records(&out);
    assert_eq!(code(&out), 0, "{recs:?}");
    assert_eq!(summary(&recs)["files_skipped"]["noncurrent_version"], 1);
}

#[test]
fn bucket_of_10000_objects() {
    if std::env::var("APPISCAN_S3_BENCH").ok().as_deref() != Some("1") {
        println!("bucket_of_10000_objects: skipped (set APPISCAN_S3_BENCH=1)");
        return;
    }
    let Some(env) = s3_env("bucket_of_10000_objects") else {
        return;
    };
    let b = bucket("bench");
    py(&env, &["mkbucket", &b]);
    let t = Instant::now();
    py(&env, &["bulk", &b, "10000"]);
    println!("10,000 PUTs: {:.1} s", t.elapsed().as_secs_f64());
    let (via, requests) = proxy(&env.endpoint);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let target = format!("s3://{b}");
    let t = Instant::now();
    let out = appiscan(&via, &["--state", state.to_str().unwrap(), &target]);
    let first = t.elapsed().as_secs_f64();
    let recs = records(&out);
    let s = summary(&recs);
    assert_eq!(s["files_scanned"], 10000, "{}", String::from_utf8_lossy(&out.stderr));
    let gets1 = object_gets(&requests.take()).len();
    let t = Instant::now();
    let out = appiscan(&via, &["--state", state.to_str().unwrap(), &target]);
    let second = t.elapsed().as_secs_f64();
    let recs2 = records(&out);
    let lines = requests.take();
    println!(
        "10,000-object bucket: first --state scan {first:.2} s ({gets1} GETs, {} findings); second {second:.2} s \
         ({} object GETs, {} requests in all, {} unchanged)",
        of_type(&recs, "finding").len(),
        object_gets(&lines).len(),
        lines.len(),
        summary(&recs2)["files_unchanged"]
    );
    assert_eq!(object_gets(&lines).len(), 0);
    assert_eq!(of_type(&recs, "finding").len(), 1000);
}

/// Writes a Parquet inventory (columns by name as S3 writes them, keys not URL-encoded) and its
/// manifest beside it; `rows` are (key, version id, is latest, size).
fn write_parquet_inventory(dir: &Path, source: &str, rows: &[(&str, Option<&str>, bool, i64)]) -> PathBuf {
    use parquet::data_type::{BoolType, ByteArray, ByteArrayType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;
    let schema = "message s3inventory {
        required binary bucket (UTF8); required binary key (UTF8); optional binary version_id (UTF8);
        required boolean is_latest; required boolean is_delete_marker; required int64 size;
        required int64 last_modified_date (TIMESTAMP_MILLIS); required binary e_tag (UTF8); }";
    let base = dir.join("pq");
    std::fs::create_dir_all(base.join("data")).unwrap();
    let data_key = "pq/data/5a4b3c2d.parquet";
    let file = std::fs::File::create(dir.join(data_key)).unwrap();
    let mut w = SerializedFileWriter::new(
        file,
        std::sync::Arc::new(parse_message_type(schema).unwrap()),
        std::sync::Arc::new(WriterProperties::builder().build()),
    )
    .unwrap();
    let text = |f: &dyn Fn(usize) -> String| -> Vec<ByteArray> {
        (0..rows.len()).map(|i| ByteArray::from(f(i).as_str())).collect()
    };
    let mut rg = w.next_row_group().unwrap();
    let mut col_no = 0;
    while let Some(mut col) = rg.next_column().unwrap() {
        match col_no {
            0 => col
                .typed::<ByteArrayType>()
                .write_batch(&text(&|_| source.to_string()), None, None),
            1 => col
                .typed::<ByteArrayType>()
                .write_batch(&text(&|i| rows[i].0.to_string()), None, None),
            2 => {
                let vals: Vec<ByteArray> = rows.iter().filter_map(|r| r.1).map(ByteArray::from).collect();
                let defs: Vec<i16> = rows.iter().map(|r| i16::from(r.1.is_some())).collect();
                col.typed::<ByteArrayType>().write_batch(&vals, Some(&defs), None)
            }
            3 => col
                .typed::<BoolType>()
                .write_batch(&rows.iter().map(|r| r.2).collect::<Vec<_>>(), None, None),
            4 => col
                .typed::<BoolType>()
                .write_batch(&vec![false; rows.len()], None, None),
            5 => col
                .typed::<Int64Type>()
                .write_batch(&rows.iter().map(|r| r.3).collect::<Vec<_>>(), None, None),
            6 => col
                .typed::<Int64Type>()
                .write_batch(&vec![1_764_374_400_000; rows.len()], None, None),
            _ => col
                .typed::<ByteArrayType>()
                .write_batch(&text(&|i| format!("etag{i}")), None, None),
        }
        .unwrap();
        col.close().unwrap();
        col_no += 1;
    }
    rg.close().unwrap();
    w.close().unwrap();
    let manifest = serde_json::json!({
        "sourceBucket": source,
        "destinationBucket": "arn:aws:s3:::inv-dest",
        "version": "2016-11-30",
        "fileFormat": "Parquet",
        "fileSchema": schema,
        "files": [{"key": data_key, "size": 1, "MD5checksum": "00"}]
    });
    let path = base.join("manifest.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    path
}

#[test]
fn a_parquet_inventory_is_read() {
    let Some(env) = s3_env("a_parquet_inventory_is_read") else {
        return;
    };
    let b = bucket("pq");
    py(&env, &["mkbucket", &b, "versioned"]);
    let dir = tempfile::tempdir().unwrap();
    let employees = samples().join("hr/employees.csv");
    let clinic = samples().join("clinic/受診記録_2026-10.csv");
    let v1: serde_json::Value =
        serde_json::from_str(&py(&env, &["put", &b, "hr/employees.csv", employees.to_str().unwrap()])).unwrap();
    let v2: serde_json::Value =
        serde_json::from_str(&py(&env, &["put", &b, "顧客 リスト/a+b.csv", clinic.to_str().unwrap()])).unwrap();
    let len = |p: &Path| std::fs::metadata(p).unwrap().len() as i64;
    let manifest = write_parquet_inventory(
        dir.path(),
        &b,
        &[
            ("hr/employees.csv", v1["version"].as_str(), true, len(&employees)),
            ("顧客 リスト/a+b.csv", v2["version"].as_str(), true, len(&clinic)),
        ],
    );
    let out = appiscan(&env.endpoint, &[manifest.to_str().unwrap()]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let recs = records(&out);
    assert_eq!(of_type(&recs, "error").len(), 0, "{recs:?}");
    let paths: BTreeSet<&str> = of_type(&recs, "finding")
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let want = [
        format!("s3://{b}/hr/employees.csv"),
        format!("s3://{b}/顧客 リスト/a+b.csv"),
    ];
    assert_eq!(paths, want.iter().map(String::as_str).collect());
}

/// A fake S3 endpoint that denies: every request (`list` false), or every read of an object
/// while listing one object `a.csv` (`list` true). Needs no real endpoint.
fn denying_endpoint(list: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                loop {
                    head.clear();
                    while !head.ends_with(b"\r\n\r\n") {
                        match conn.read(&mut byte) {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let line = String::from_utf8_lossy(&head).lines().next().unwrap_or("").to_string();
                    let (status, body) = if list && line.contains("list-type=2") {
                        (
                            "200 OK",
                            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult \
                             xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix></Prefix>\
                             <KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>\
                             <Contents><Key>a.csv</Key><LastModified>2026-11-29T00:00:00.000Z</LastModified>\
                             <ETag>&quot;abc&quot;</ETag><Size>10</Size><StorageClass>STANDARD</StorageClass>\
                             </Contents></ListBucketResult>",
                        )
                    } else {
                        (
                            "403 Forbidden",
                            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code>\
                             <Message>Access Denied</Message></Error>",
                        )
                    };
                    let body = if line.starts_with("HEAD ") { "" } else { body };
                    let resp = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if conn.write_all(resp.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[test]
fn denied_listing_is_exit_2_and_denied_reads_are_error_records() {
    let out = appiscan(&denying_endpoint(false), &["s3://b/prefix/"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(&out), 2, "{err}");
    assert!(
        err.contains("cannot list s3://b/prefix/") && err.contains("access denied"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    let out = appiscan(&denying_endpoint(true), &["s3://b"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(&out), 3, "{err}");
    assert!(err.contains("can be listed but reading s3://b/a.csv failed"), "{err}");
    let recs = records(&out);
    let errors = of_type(&recs, "error");
    assert_eq!(errors.len(), 1, "{recs:?}");
    assert_eq!(errors[0]["path"], "s3://b/a.csv");
    assert_eq!(errors[0]["kind"], "io");
    assert!(
        errors[0]["message"].as_str().unwrap().contains("access denied"),
        "{}",
        errors[0]
    );
}

/// Runs appiscan with a work list on standard input.
fn appiscan_stdin(endpoint: &str, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = scan_command(endpoint, args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run appiscan");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_work_list_of_objects_and_its_shards_equal_the_bucket_scan() {
    let Some(env) = s3_env("a_work_list_of_objects_and_its_shards_equal_the_bucket_scan") else {
        return;
    };
    let b = bucket("worklist");
    py(&env, &["mkbucket", &b]);
    py(&env, &["upload", &b, samples().to_str().unwrap()]);
    let whole = records(&appiscan(&env.endpoint, &[&format!("s3://{b}")]));
    let prefix = format!("s3://{b}/");
    let keys: Vec<String> = of_type(&whole, "finding")
        .iter()
        .map(|f| f["path"].as_str().unwrap().strip_prefix(&prefix).unwrap().to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(keys.len() >= 3, "{keys:?}");
    // Half the items as URLs, half as `bucket,key` lines.
    let list: String = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            if i % 2 == 0 {
                format!("s3://{b}/{k}\n")
            } else {
                format!("{b},{k}\n")
            }
        })
        .collect();
    let want: BTreeSet<String> = of_type(&whole, "finding")
        .iter()
        .map(|f| finding_key(f, &prefix))
        .collect();
    let out = appiscan_stdin(&env.endpoint, &["--worklist", "-"], &list);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let recs = records(&out);
    assert_eq!(of_type(&recs, "error").len(), 0, "{recs:?}");
    let got: BTreeSet<String> = of_type(&recs, "finding")
        .iter()
        .map(|f| finding_key(f, &prefix))
        .collect();
    assert_eq!(got, want);
    // The same list in three shards: together, the same findings; each item in one shard only.
    let mut union = BTreeSet::new();
    let mut taken = 0;
    for i in 0..3 {
        let idx = i.to_string();
        let out = appiscan_stdin(
            &env.endpoint,
            &["--worklist", "-", "--shard-index", &idx, "--shard-count", "3"],
            &list,
        );
        let recs = records(&out);
        taken += summary(&recs)["shard"]["taken"].as_u64().unwrap();
        for f in of_type(&recs, "finding") {
            assert!(union.insert(finding_key(f, &prefix)), "a finding in two shards");
        }
    }
    assert_eq!(taken, keys.len() as u64);
    assert_eq!(union, want);
}

#[test]
fn credentials_region_and_endpoint_come_from_a_named_profile() {
    let Some(env) = s3_env("credentials_region_and_endpoint_come_from_a_named_profile") else {
        return;
    };
    let b = bucket("profile");
    py(&env, &["mkbucket", &b]);
    py(&env, &["upload", &b, samples().join("hr").to_str().unwrap()]);
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("credentials"),
        "[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n\n[audit]\naws_access_key_id = test\naws_secret_access_key = test\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("config"),
        format!(
            "[profile audit]\nregion = ap-northeast-1\nendpoint_url = {}\n",
            env.endpoint
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_appiscan"))
        .args(["scan", "-f", "jsonl", "--no-progress", &format!("s3://{b}")])
        .env("APPISCAN_HASH_KEY", "buckets-test-key")
        .env("AWS_PROFILE", "audit")
        .env("AWS_SHARED_CREDENTIALS_FILE", d.path().join("credentials"))
        .env("AWS_CONFIG_FILE", d.path().join("config"))
        .env("HOME", d.path())
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_S3")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let recs = records(&out);
    assert_eq!(of_type(&recs, "error").len(), 0, "{recs:?}");
    assert!(!of_type(&recs, "finding").is_empty());
}
