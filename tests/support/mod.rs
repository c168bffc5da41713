//! Helpers shared by the integration tests: a seeded generator, the My Number check digit
//! (computed here, independently of the scanner), and reading a `jsonl` report.
#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;
use std::process::Command;

// ---------------------------------------------------------------------------------------------
// PRNG: splitmix64 (Steele, Lea, Flood 2014; the constants of java.util.SplittableRandom).

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    /// Standard normal (Box-Muller).
    pub fn gauss(&mut self) -> f64 {
        let u1 = self.unit().max(1e-12);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    pub fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// Picks by integer weight.
    pub fn weighted<T: Copy>(&mut self, xs: &[(T, u32)]) -> T {
        let total: u32 = xs.iter().map(|x| x.1).sum();
        let mut r = self.below(total as usize) as u32;
        for &(x, w) in xs {
            if r < w {
                return x;
            }
            r -= w;
        }
        unreachable!()
    }

    pub fn letters(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'A' + self.below(26) as u8)).collect()
    }

    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }
}

/// Check digit of a 個人番号 (My Number) over its 11-digit body.
///
/// Source: 行政手続における特定の個人を識別するための番号の利用等に関する法律の規定による通知カード
/// 及び個人番号カード並びに情報提供ネットワークシステムによる特定個人情報の提供等に関する省令
/// (総務省令第85号, 平成26年) 第5条: the digits P1..P11 of the body taken left to right are weighted
/// 6,5,4,3,2,7,6,5,4,3,2; r = Σ Pn·Qn mod 11; check digit = 0 if r ≤ 1, else 11 − r.
pub fn my_number_check(body: &str) -> u32 {
    assert_eq!(body.len(), 11, "a My Number body has 11 digits");
    const W: [u32; 11] = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let r = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).expect("digit") * w)
        .sum::<u32>()
        % 11;
    if r <= 1 { 0 } else { 11 - r }
}

/// A 12-digit My Number: `body` plus its check digit.
pub fn my_number(body: &str) -> String {
    format!("{body}{}", my_number_check(body))
}

/// A `jsonl` report on standard output, read record by record.
pub trait JsonlReport {
    fn stdout(&self) -> &str;
    fn stderr(&self) -> &str;

    /// Every line of the report, parsed.
    fn records(&self) -> Vec<Value> {
        self.stdout()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{}", self.stderr())))
            .collect()
    }
    fn of_type(&self, t: &str) -> Vec<Value> {
        self.records().into_iter().filter(|r| r["type"] == t).collect()
    }
    fn findings(&self) -> Vec<Value> {
        self.of_type("finding")
    }
    fn errors(&self) -> Vec<Value> {
        self.of_type("error")
    }
    /// The last record, which must be the summary.
    fn summary(&self) -> Value {
        let recs = self.records();
        let last = recs
            .last()
            .unwrap_or_else(|| panic!("empty report; stderr: {}", self.stderr()));
        assert_eq!(last["type"], "summary", "the last jsonl record is the summary");
        last.clone()
    }
}

/// Runs `appiscan scan -f jsonl --min-confidence MIN dump` in `dir`, without any `APPISCAN_*`
/// variable of the caller's environment; the exit code must be 0 or 1. Returns the report.
pub fn scan_dump_jsonl(dir: &Path, min_confidence: &str) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_appiscan"));
    cmd.current_dir(dir)
        .args(["scan", "-f", "jsonl", "--min-confidence", min_confidence, "dump"]);
    for (k, _) in std::env::vars() {
        if k.starts_with("APPISCAN_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd.output().expect("run appiscan");
    let code = out.status.code();
    assert!(
        matches!(code, Some(0) | Some(1)),
        "appiscan exited with {code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("jsonl is UTF-8")
}
