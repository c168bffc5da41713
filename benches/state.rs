//! Ratio check for `--state` (SPEC §9): a second run over an unchanged tree of 10,000 files reads
//! none of them and is at least 10 times faster than the first. Both runs are the release binary
//! on the same generated tree; each pair is repeated and the minimum of each side is compared.
//! Run by `.ci/run` (`cargo bench --bench state`); prints the times and the ratio.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const FILES: usize = 10_000;
const ROUNDS: usize = 3;
const MIN_RATIO: f64 = 10.0;

/// A valid My Number from an 11-digit body (check digit per 総務省令第85号 第5条).
fn my_number(body: u64) -> String {
    let b = format!("{body:011}");
    let w = [6u32, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let r: u32 = b.chars().zip(w).map(|(c, w)| c.to_digit(10).unwrap() * w).sum::<u32>() % 11;
    format!("{b}{}", if r <= 1 { 0 } else { 11 - r })
}

/// A tree like a file share: memos and CSVs of 2–30 KB, one in five holding a My Number.
fn make_tree(root: &Path) -> u64 {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let line = "2026年10月の定例会議の議事録です。在庫数は 120 個、注文番号 88123-45 の件は継続審議とします。\n";
    let mut bytes = 0u64;
    for i in 0..FILES {
        let dir = root.join(format!("dept{:02}/y{}", i % 50, 2020 + i % 6));
        std::fs::create_dir_all(&dir).unwrap();
        let lines = 15 + (next() % 200) as usize;
        let mut text = line.repeat(lines);
        if i % 5 == 0 {
            let v = my_number(10_000_000_000 + next() % 89_999_999_999);
            text.push_str(&format!("担当者の個人番号: {v}\n"));
        }
        bytes += text.len() as u64;
        std::fs::write(dir.join(format!("doc{i:05}.txt")), text).unwrap();
    }
    bytes
}

fn scan(dir: &Path, state: &str) -> (Duration, serde_json::Value) {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_appiscan"))
        .current_dir(dir)
        .args([
            "scan",
            "-f",
            "jsonl",
            "-j",
            "2",
            "--no-progress",
            "--state",
            state,
            "tree",
        ])
        .env_remove("APPISCAN_STATE")
        .output()
        .expect("run appiscan");
    let took = t.elapsed();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "appiscan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let summary: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    (took, summary)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would pass nothing: run either way.
    let dir = tempfile::tempdir().unwrap();
    let bytes = make_tree(&dir.path().join("tree"));
    println!("state ratio check: {FILES} files, {:.1} MiB", bytes as f64 / 1048576.0);
    let (mut first, mut second) = (Duration::MAX, Duration::MAX);
    for round in 0..ROUNDS {
        let state = format!("state{round}.db");
        let (t1, s1) = scan(dir.path(), &state);
        let (t2, s2) = scan(dir.path(), &state);
        assert_eq!(s1["files_scanned"], FILES as u64, "{s1}");
        assert_eq!(s2["files_scanned"], 0, "the second run reads no file: {s2}");
        assert_eq!(s2["files_unchanged"], FILES as u64);
        assert_eq!(s1["findings"], s2["findings"], "the same findings are carried");
        println!("  round {round}: first {t1:?}, second {t2:?}");
        first = first.min(t1);
        second = second.min(t2);
    }
    let ratio = first.as_secs_f64() / second.as_secs_f64();
    println!("  min first {first:?}, min second {second:?}: second run {ratio:.1}x faster (needs {MIN_RATIO}x)");
    assert!(
        ratio >= MIN_RATIO,
        "the second --state run is only {ratio:.1}x faster than the first"
    );
}
