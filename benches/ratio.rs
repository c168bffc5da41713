//! Ratio checks of the hot path (issue 7; performance.md §9.2), in one process so that machine
//! speed and other tenants cancel out:
//!
//! 1. hot path vs reference: folding and detecting the digit-dense corpus with the hot path
//!    (`detect::detect`: SIMD tokenizer, one keyword walk) and with the reference
//!    (`detect::detect_reference`: `regex::bytes` alternations of the same shapes and keywords,
//!    the same classification after them), interleaved, minimum of each; both must find exactly
//!    the same, and the hot path must be at least `MIN_REFERENCE_RATIO` times faster;
//! 2. scaling: the hot path over the same pieces with 1 and 2 threads, interleaved, minimum of
//!    each; 2 threads at least `MIN_SCALING` times faster. Skipped, with a message, when the
//!    machine is busy (other processes used more than 15 % of the CPUs over half a second before
//!    the measurement) or has a single CPU.
//!
//! `cargo bench --bench ratio`; prints bytes, times, MB/s, ratios and the load; exits non-zero
//! when a bound is not met.

use appiscan::corpus::{Kind, generate, pieces};
use appiscan::detect::{Detection, Reference, Scratch, Unit, detect, detect_reference};
use appiscan::fold::Folded;
use appiscan::patterns::RuleSet;
use rayon::prelude::*;
use std::time::{Duration, Instant};

const CORPUS_BYTES: usize = 16 << 20;
const PIECE_BYTES: usize = 1 << 20;
const ROUNDS: usize = 7;
const MIN_REFERENCE_RATIO: f64 = 2.0;
const MIN_SCALING: f64 = 1.6;

/// What a run found, to compare the two front ends: count and an order-sensitive digest.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct Found {
    count: usize,
    digest: u64,
}

fn digest(found: &mut Found, piece: usize, out: &[Detection]) {
    for d in out {
        let mut h = found.digest ^ (piece as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for x in [d.start as u64, d.end as u64, d.rule as u64, (d.score * 1000.0) as u64] {
            h = (h ^ x).wrapping_mul(0x0100_0000_01B3);
        }
        for b in d.canonical.bytes().chain(d.evidence.iter().flat_map(|e| e.bytes())) {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01B3);
        }
        found.digest = h;
        found.count += 1;
    }
}

#[derive(Default)]
struct Work {
    folded: Folded,
    scratch: Scratch,
    out: Vec<Detection>,
}

fn run_piece(rules: &RuleSet, reference: Option<&Reference>, w: &mut Work, piece: &str) {
    w.folded.fold_into(piece);
    let unit = Unit {
        folded: &w.folded,
        scan_from: 0,
        cells: &[],
        fields: &[],
        structured: false,
    };
    w.out.clear();
    match reference {
        None => detect(rules, &unit, &mut w.scratch, &mut w.out),
        Some(r) => detect_reference(rules, r, &unit, &mut w.scratch, &mut w.out),
    }
}

fn run_all(rules: &RuleSet, reference: Option<&Reference>, w: &mut Work, ps: &[&str]) -> (Duration, Found) {
    let mut found = Found { count: 0, digest: 0 };
    let t = Instant::now();
    for (k, p) in ps.iter().enumerate() {
        run_piece(rules, reference, w, p);
        digest(&mut found, k, &w.out);
    }
    (t.elapsed(), found)
}

/// The hot path over the pieces on `pool`; the number of detections.
fn run_parallel(rules: &RuleSet, pool: &rayon::ThreadPool, ps: &[&str]) -> (Duration, usize) {
    let t = Instant::now();
    let n = pool.install(|| {
        ps.par_iter()
            .map_init(Work::default, |w, p| {
                run_piece(rules, None, w, p);
                w.out.len()
            })
            .sum()
    });
    (t.elapsed(), n)
}

/// (busy, total) jiffies of all CPUs.
fn cpu_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
    let total: u64 = v.iter().take(8).sum();
    Some((total - idle, total))
}

/// The share of CPU time other processes used over half a second (this one sleeps).
fn busy_share() -> Option<f64> {
    let (b0, t0) = cpu_jiffies()?;
    std::thread::sleep(Duration::from_millis(500));
    let (b1, t1) = cpu_jiffies()?;
    (t1 > t0).then(|| (b1 - b0) as f64 / (t1 - t0) as f64)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn mbps(bytes: usize, t: Duration) -> f64 {
    bytes as f64 / t.as_secs_f64() / 1e6
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass other flags: run anyway.
    let rules = RuleSet::builtin();
    let reference = Reference::new(rules).expect("the reference regexes compile");
    let corpus = generate(Kind::DigitDense, CORPUS_BYTES);
    let ps = pieces(&corpus, PIECE_BYTES);
    let bytes = corpus.len();
    println!(
        "ratio: digit-dense corpus {bytes} bytes in {} pieces; load {}",
        ps.len(),
        loadavg()
    );
    let mut failed = false;

    // 1. Hot path vs reference.
    let mut w = Work::default();
    let (_, hot_found) = run_all(rules, None, &mut w, &ps);
    let (_, ref_found) = run_all(rules, Some(&reference), &mut w, &ps);
    if hot_found != ref_found {
        println!("ratio: FAIL the hot path found {hot_found:?}, the reference {ref_found:?}");
        failed = true;
    }
    let (mut hot, mut refr) = (Duration::MAX, Duration::MAX);
    for _ in 0..ROUNDS {
        let (t, f) = run_all(rules, None, &mut w, &ps);
        assert_eq!(f, hot_found, "the hot path found something else on another run");
        hot = hot.min(t);
        let (t, f) = run_all(rules, Some(&reference), &mut w, &ps);
        assert_eq!(f, ref_found, "the reference found something else on another run");
        refr = refr.min(t);
    }
    let ratio = refr.as_secs_f64() / hot.as_secs_f64();
    println!(
        "ratio: hot path {:.1} ms ({:.0} MB/s), reference {:.1} ms ({:.0} MB/s): {ratio:.2}x (bound {MIN_REFERENCE_RATIO}x); {} detections, same in both",
        hot.as_secs_f64() * 1e3,
        mbps(bytes, hot),
        refr.as_secs_f64() * 1e3,
        mbps(bytes, refr),
        hot_found.count,
    );
    if ratio < MIN_REFERENCE_RATIO {
        println!("ratio: FAIL the hot path is not {MIN_REFERENCE_RATIO}x the reference");
        failed = true;
    }

    // 2. Scaling, 1 vs 2 threads.
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    match busy_share() {
        _ if cpus < 2 => println!("ratio: scaling skipped: one CPU"),
        Some(busy) if busy > 0.15 => println!(
            "ratio: scaling skipped: the machine is busy ({:.0} % of the CPUs used by others; load {})",
            busy * 100.0,
            loadavg()
        ),
        _ => {
            let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
            let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("pool");
            let (_, n1) = run_parallel(rules, &one, &ps);
            let (_, n2) = run_parallel(rules, &two, &ps);
            assert_eq!(n1, n2, "thread counts changed what was found");
            let (mut t1, mut t2) = (Duration::MAX, Duration::MAX);
            for _ in 0..ROUNDS {
                t1 = t1.min(run_parallel(rules, &one, &ps).0);
                t2 = t2.min(run_parallel(rules, &two, &ps).0);
            }
            let s = t1.as_secs_f64() / t2.as_secs_f64();
            println!(
                "ratio: 1 thread {:.1} ms ({:.0} MB/s), 2 threads {:.1} ms ({:.0} MB/s): {s:.2}x (bound {MIN_SCALING}x)",
                t1.as_secs_f64() * 1e3,
                mbps(bytes, t1),
                t2.as_secs_f64() * 1e3,
                mbps(bytes, t2),
            );
            if s < MIN_SCALING {
                println!("ratio: FAIL 2 threads are not {MIN_SCALING}x 1 thread");
                failed = true;
            }
        }
    }
    println!("ratio: load {}", loadavg());
    if failed {
        std::process::exit(1);
    }
}
