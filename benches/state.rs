//! Ratio check for `--state` (SPEC §9): a second run over an unchanged tree of 10,000 files reads
//! none of them and is at least 10 times faster than the first. Both runs are the release binary
//! on the same generated tree; each pair is repeated and the minimum of each side is compared.
//!
//! Two trees of 10,000 files:
//! - a file share (asserted): memos and CSVs of 8 KiB to 1 MiB, most of them small (mean about
//!   130 KiB), one in eight holding a My Number;
//! - small files (printed, not asserted): memos of 2–30 KB. There the first run is bounded by
//!   opening and reading files about as cheap as the second run's stat of each, so its ratio says
//!   more about the file system than about `--state`.
//!
//! Run by `.ci/run` (`cargo bench --bench state`); prints sizes, times, ratios and the load.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::Rng;

const FILES: usize = 10_000;
const ROUNDS: usize = 3;
const MIN_RATIO: f64 = 10.0;

/// A valid My Number from an 11-digit body (check digit per 総務省令第85号 第5条).
fn my_number(body: u64) -> String {
    support::my_number(&format!("{body:011}"))
}

/// Small files: memos of 2–30 KB, one in five holding a My Number.
fn small_tree(root: &Path) -> u64 {
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

/// About 2 MiB of lines made by `line`, to cut files from.
fn block(mut line: impl FnMut() -> String) -> String {
    let mut b = String::new();
    while b.len() < (2 << 20) + (64 << 10) {
        b.push_str(&line());
    }
    b
}

/// `size` bytes (or a little less: whole lines) of `block`, from a line start picked by `rng`.
fn cut<'a>(block: &'a str, size: usize, rng: &mut Rng) -> &'a str {
    let b = block.as_bytes();
    // Lines are shorter than 1 KiB: the next line start is in reach.
    let from = rng.below(b.len() - size - 1024);
    let from = b[from..].iter().position(|&c| c == b'\n').map_or(0, |i| from + i + 1);
    let len = b[from..from + size]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1);
    &block[from..from + len]
}

/// A tree like a file share: memos and CSVs (one in three) of 8 KiB to 1 MiB, skewed to small
/// sizes (median about 32 KiB, mean about 130 KiB, one in ten over 440 KiB); one file in eight
/// holds a My Number (a memo line, or a note in a CSV row). Returns the bytes written.
fn share_tree(root: &Path) -> u64 {
    let mut rng = Rng::new(0x5eed_0006);
    let memo_lines = [
        "定例会議の議事録です。出席者は営業部と経理部の各担当、議題は第3四半期の在庫と受注の状況。",
        "在庫数は 120 個、注文番号 88123-45 の件は継続審議とし、次回 11月5日 に再確認します。",
        "見積金額 1,280,000 円（税別）、納期は 2026年12月18日、支払条件は月末締め翌月末払い。",
        "倉庫の棚番号 B-12-04 から C-03-11 へ移動、作業時間は 9:30〜11:45 の予定です。",
        "会議室 3F-301 を 14:00 から 16:00 まで予約済み。資料は共有フォルダの 2026/10 にあります。",
    ];
    let memo = block(|| {
        let mut l = rng.pick(&memo_lines).to_string();
        l.push_str(&format!(" 管理番号 {}-{:04}\n", rng.range(100, 999), rng.below(10_000)));
        l
    });
    let products = [
        "コピー用紙A4",
        "トナーカートリッジ",
        "ボールペン黒",
        "クリアファイル",
        "付箋 75mm",
    ];
    let csv = block(|| {
        let qty = rng.range(1, 500);
        let price = rng.range(80, 12_000);
        format!(
            "2026-{:02}-{:02},{}-{:02},P{:05},{},{qty},{price},{},営業{}課,\n",
            rng.range(1, 12),
            rng.range(1, 28),
            rng.range(10_000, 99_999),
            rng.below(100),
            rng.below(100_000),
            rng.pick(&products),
            qty * price,
            rng.range(1, 4)
        )
    });
    let header = "日付,注文番号,商品コード,商品名,数量,単価,金額,担当,備考\n";
    let mut bytes = 0u64;
    for i in 0..FILES {
        let dir = root.join(format!("dept{:02}/{}", i % 40, 2019 + i % 8));
        std::fs::create_dir_all(&dir).unwrap();
        let size = (8192.0 * 128f64.powf(rng.unit().powf(1.8))) as usize;
        let is_csv = i % 3 == 0;
        let mut text = String::with_capacity(size + 256);
        if is_csv {
            text.push_str(header);
            text.push_str(cut(&csv, size - header.len(), &mut rng));
        } else {
            text.push_str(cut(&memo, size, &mut rng));
        }
        if i % 8 == 0 {
            let v = my_number(10_000_000_000 + rng.next_u64() % 89_999_999_999);
            let at = text.as_bytes()[..rng.below(text.len())]
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |p| p + 1);
            let at = if is_csv { at.max(header.len()) } else { at };
            let line = if is_csv {
                format!("2026-10-01,10001-01,P00001,コピー用紙A4,1,500,500,総務課,個人番号 {v} 届出済み\n")
            } else {
                format!("担当者の個人番号: {v}\n")
            };
            text.insert_str(at, &line);
        }
        bytes += text.len() as u64;
        let name = if is_csv {
            format!("orders{i:05}.csv")
        } else {
            format!("memo{i:05}.txt")
        };
        std::fs::write(dir.join(name), text).unwrap();
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

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Generates a tree with `make`, runs ROUNDS pairs (a first run on a new state, a second on the
/// same state) and returns the minimum first and second times.
fn measure(name: &str, make: fn(&Path) -> u64) -> (Duration, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let bytes = make(&dir.path().join("tree"));
    // Written data still on its way to the disk would slow the first runs down.
    let _ = Command::new("sync").status();
    println!(
        "{name}: {FILES} files, {:.1} MiB (mean {:.0} KiB), generated in {:.1?}; load {}",
        bytes as f64 / 1048576.0,
        bytes as f64 / FILES as f64 / 1024.0,
        t.elapsed(),
        load()
    );
    let (mut first, mut second) = (Duration::MAX, Duration::MAX);
    for round in 0..ROUNDS {
        let state = format!("state{round}.db");
        let (t1, s1) = scan(dir.path(), &state);
        let (t2, s2) = scan(dir.path(), &state);
        assert_eq!(s1["files_scanned"], FILES as u64, "{s1}");
        assert_eq!(s2["files_scanned"], 0, "the second run reads no file: {s2}");
        assert_eq!(s2["bytes_scanned"], 0, "{s2}");
        assert_eq!(s2["files_unchanged"], FILES as u64);
        assert!(s1["findings"]["jp.my_number"].as_u64() > Some(0), "{s1}");
        assert_eq!(s1["findings"], s2["findings"], "the same findings are carried");
        if round == 0 {
            println!("  findings: {}", s1["findings"]);
        }
        println!("  round {round}: first {t1:.2?}, second {t2:.2?}; load {}", load());
        first = first.min(t1);
        second = second.min(t2);
    }
    let ratio = first.as_secs_f64() / second.as_secs_f64();
    println!("  min first {first:.2?}, min second {second:.2?}: second run {ratio:.1}x faster");
    (first, second)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would pass nothing: run either way.
    let (first, second) = measure("small files (not asserted)", small_tree);
    let small = first.as_secs_f64() / second.as_secs_f64();
    let (first, second) = measure("file share", share_tree);
    let ratio = first.as_secs_f64() / second.as_secs_f64();
    println!("state ratio check: file share {ratio:.1}x (needs {MIN_RATIO}x); small files {small:.1}x (printed only)");
    assert!(
        ratio >= MIN_RATIO,
        "the second --state run over the file share is only {ratio:.1}x faster than the first"
    );
}
