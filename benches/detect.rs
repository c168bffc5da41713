//! Throughput of the detector on a digit-dense Japanese/English corpus (docs: performance.md §9,
//! corpus generator in Appendix A, ported to `appiscan::corpus` with a seeded splitmix64 instead of
//! Python's `random`). The corpus is generated in memory, outside every timed loop; every benchmark
//! consumes its result and checks it against the count computed once before timing.
//!
//! Groups (all `Throughput::Bytes` of the input the stage reads):
//! - `detect/digit_dense_ja`: fold + detect over ~1 MiB newline-aligned pieces, one thread;
//! - `fold/digit_dense_ja`: the fold alone over the same pieces;
//! - `scan_reader/utf8`, `scan_reader/shift_jis`: end to end from bytes in memory (sniffing,
//!   decoding, folding, piece cutting, detection, finding records); Shift_JIS throughput is per
//!   byte of Shift_JIS input;
//! - `baseline/memchr_newlines`: counting newlines over the UTF-8 bytes, a floor.
//!
//! `cargo bench --bench detect` measures; `cargo bench --bench detect -- --test` runs each
//! benchmark once (CI smoke test).

use appiscan::corpus::{self, Kind};
use appiscan::detect::{Detection, Scratch, Unit, detect};
use appiscan::fold::Folded;
use appiscan::patterns::{Confidence, RuleSet};
use appiscan::scan::{ScanConfig, Worker, scan_reader};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

/// Corpus size: lines are generated until at least this many bytes.
const CORPUS_BYTES: usize = 8 << 20;
/// Detection pieces: at most this many bytes, cut after a newline (like the scanner's `PIECE`).
const PIECE_BYTES: usize = 1 << 20;

// ---------------------------------------------------------------------------------------------
// The measured work, each returning what it found.

/// Fold + detect every piece; the number of detections.
fn run_detect(
    rules: &RuleSet,
    pieces: &[&str],
    folded: &mut Folded,
    scratch: &mut Scratch,
    out: &mut Vec<Detection>,
) -> usize {
    let mut n = 0;
    for piece in pieces {
        folded.fold_into(piece);
        let unit = Unit {
            folded,
            scan_from: 0,
            cells: &[],
            fields: &[],
            structured: false,
        };
        out.clear();
        detect(rules, &unit, scratch, out);
        n += out.len();
    }
    n
}

/// Fold every piece; the total folded length.
fn run_fold(pieces: &[&str], folded: &mut Folded) -> usize {
    let mut n = 0;
    for piece in pieces {
        folded.fold_into(piece);
        n += folded.text.len();
    }
    n
}

/// Scan `bytes` end to end; the number of findings.
fn run_scan(rules: &RuleSet, cfg: &ScanConfig, w: &mut Worker, bytes: &[u8]) -> usize {
    let r = scan_reader(rules, cfg, w, "bench/corpus.txt", "corpus.txt", None, Box::new(bytes));
    assert!(r.errors.is_empty(), "scan errors: {:?}", r.errors);
    r.findings.len()
}

fn count_newlines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count()
}

fn scan_config() -> ScanConfig {
    ScanConfig {
        min_confidence: Confidence::Low,
        fail_on: None,
        threads: 1,
        hash_key: b"appiscan-bench-key".to_vec(),
        key_provided: true,
        ..ScanConfig::new(Vec::new())
    }
}

// ---------------------------------------------------------------------------------------------
// Fixture: built once, outside the timed loops, with the expected counts.

struct Fixture {
    text: String,
    sjis: Vec<u8>,
    lines: usize,
    detections: usize,
    folded_len: usize,
    scan_utf8: usize,
    scan_sjis: usize,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let rules = RuleSet::builtin();
        let text = corpus::generate(Kind::DigitDense, CORPUS_BYTES);
        let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
        assert!(!unmappable, "the corpus has characters Shift_JIS cannot encode");
        let sjis = sjis.into_owned();
        let b = text.as_bytes();
        let lines = count_newlines(b);
        let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
        let non_ascii = b.iter().filter(|&&c| c >= 0x80).count();
        let pcs = corpus::pieces(&text, PIECE_BYTES);

        // Expected results, and a breakdown for the log.
        let (mut folded, mut scratch, mut out) = (Folded::default(), Scratch::default(), Vec::new());
        let mut by_rule: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        let mut detections = 0;
        for piece in &pcs {
            folded.fold_into(piece);
            let unit = Unit {
                folded: &folded,
                scan_from: 0,
                cells: &[],
                fields: &[],
                structured: false,
            };
            out.clear();
            detect(rules, &unit, &mut scratch, &mut out);
            detections += out.len();
            for d in &out {
                *by_rule
                    .entry((rules.rules[d.rule].id.as_str(), d.confidence.as_str()))
                    .or_default() += 1;
            }
        }
        let folded_len = run_fold(&pcs, &mut folded);
        let cfg = scan_config();
        let mut w = Worker::default();
        let scan_utf8 = run_scan(rules, &cfg, &mut w, b);
        let scan_sjis = run_scan(rules, &cfg, &mut w, &sjis);

        eprintln!(
            "corpus: {} bytes UTF-8 ({} Shift_JIS), {} lines, {} pieces, {:.1}% ASCII digits, {:.1}% non-ASCII bytes",
            b.len(),
            sjis.len(),
            lines,
            pcs.len(),
            100.0 * digits as f64 / b.len() as f64,
            100.0 * non_ascii as f64 / b.len() as f64,
        );
        eprintln!(
            "rules: {} rules, {} keywords, automaton {:?} ({} bytes)",
            rules.rules.len(),
            rules.keywords.len(),
            rules.automaton.kind(),
            rules.automaton.memory_usage(),
        );
        eprintln!("detections: {detections}; scan_reader findings: utf8 {scan_utf8}, shift_jis {scan_sjis}");
        for ((rule, conf), n) in &by_rule {
            eprintln!("  {rule:<36} {conf:<6} {n}");
        }
        assert!(detections > 0 && scan_utf8 > 0 && scan_sjis > 0, "nothing found");
        Fixture {
            text,
            sjis,
            lines,
            detections,
            folded_len,
            scan_utf8,
            scan_sjis,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Benchmarks.

fn bench_detect(c: &mut Criterion) {
    let fx = fixture();
    let rules = RuleSet::builtin();
    let pcs = corpus::pieces(&fx.text, PIECE_BYTES);
    let (mut folded, mut scratch, mut out) = (Folded::default(), Scratch::default(), Vec::new());
    let mut g = c.benchmark_group("detect");
    // Tens to hundreds of ms per iteration: equal iteration counts per sample.
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Bytes(fx.text.len() as u64));
    g.bench_function("digit_dense_ja", |b| {
        b.iter(|| {
            let n = run_detect(rules, black_box(&pcs), &mut folded, &mut scratch, &mut out);
            assert_eq!(n, fx.detections);
            n
        })
    });
    g.finish();
}

fn bench_fold(c: &mut Criterion) {
    let fx = fixture();
    let pcs = corpus::pieces(&fx.text, PIECE_BYTES);
    let mut folded = Folded::default();
    let mut g = c.benchmark_group("fold");
    g.throughput(Throughput::Bytes(fx.text.len() as u64));
    g.bench_function("digit_dense_ja", |b| {
        b.iter(|| {
            let n = run_fold(black_box(&pcs), &mut folded);
            assert_eq!(n, fx.folded_len);
            n
        })
    });
    g.finish();
}

fn bench_scan_reader(c: &mut Criterion) {
    let fx = fixture();
    let rules = RuleSet::builtin();
    let cfg = scan_config();
    let mut w = Worker::default();
    let mut g = c.benchmark_group("scan_reader");
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Bytes(fx.text.len() as u64));
    g.bench_function("utf8", |b| {
        b.iter(|| {
            let n = run_scan(rules, &cfg, &mut w, black_box(fx.text.as_bytes()));
            assert_eq!(n, fx.scan_utf8);
            n
        })
    });
    g.throughput(Throughput::Bytes(fx.sjis.len() as u64));
    g.bench_function("shift_jis", |b| {
        b.iter(|| {
            let n = run_scan(rules, &cfg, &mut w, black_box(&fx.sjis));
            assert_eq!(n, fx.scan_sjis);
            n
        })
    });
    g.finish();
}

fn bench_baseline(c: &mut Criterion) {
    let fx = fixture();
    let mut g = c.benchmark_group("baseline");
    g.throughput(Throughput::Bytes(fx.text.len() as u64));
    g.bench_function("memchr_newlines", |b| {
        b.iter(|| {
            let n = count_newlines(black_box(fx.text.as_bytes()));
            assert_eq!(n, fx.lines);
            n
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_detect, bench_fold, bench_scan_reader, bench_baseline
}
criterion_main!(benches);
