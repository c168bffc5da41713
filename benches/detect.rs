//! Throughput of the scanner's hot path, stage by stage, on generated corpora (performance.md §9.1;
//! generators in `appiscan::corpus`). Every corpus is generated in memory, outside every timed
//! loop; every benchmark consumes its result and checks it against the count computed once before
//! timing, so a faster stage cannot be one that finds less.
//!
//! Corpora (8 MiB of UTF-8 text each):
//! - `digit_dense_ja`: the Japanese/English mix of performance.md §2 (Appendix A);
//! - `sparse_prose`: keyword-heavy prose with few digits;
//! - `pathological`: long digit runs and near misses;
//! - `shift_jis`, `utf16le`: `digit_dense_ja` encoded as Shift_JIS and as UTF-16LE with a BOM.
//!
//! Groups, one per stage, all with `Throughput::Bytes` of the input the stage reads:
//! - `decode/{shift_jis,utf16le}`: sniffing and `decode::TextReader` to UTF-8 in 1 MiB reads,
//!   as `scan_text` does (throughput per byte of encoded input);
//! - `fold/*`: `Folded::fold_into` over ~1 MiB newline-aligned pieces (as the scanner's `PIECE`);
//! - `tokenize/*`: `detect::candidates` over the folded pieces;
//! - `keywords/*`: `RuleSet::kwscan.find_all` of the keyword and topic automata over the folded,
//!   lower-cased pieces;
//! - `detect/*`: fold + `detect::detect` of each piece as a whole unit, one thread;
//! - `scan_reader/{utf8,shift_jis,utf16le,sparse_prose,pathological}`: end to end from bytes in
//!   memory (sniffing, decoding, folding, piece cutting, detection, finding records); `utf8`,
//!   `shift_jis` and `utf16le` are the digit-dense corpus;
//! - `baseline/memchr_newlines`: counting newlines over the digit-dense UTF-8 bytes, a floor.
//!
//! The tokenize, keywords and detect stages time the functions `detect` calls (their internals
//! change; their signatures are those of commit 4504629). Classification and context scoring run
//! inside `detect` and have no entry point of their own: `detect` minus `tokenize` and `keywords`
//! is their cost.
//!
//! `cargo bench --bench detect` measures (`-- keywords/` for one stage, `-- /pathological` for one
//! corpus); `cargo bench --bench detect -- --test` runs each benchmark once (CI smoke test).

use appiscan::corpus::{self, Kind};
use appiscan::decode::{self, Sniff, TextReader};
use appiscan::detect::{Candidate, Detection, Scratch, Unit, candidates, detect};
use appiscan::fold::Folded;
use appiscan::kwscan::RawHit;
use appiscan::patterns::{Confidence, RuleSet};
use appiscan::scan::{ScanConfig, Worker, scan_reader};
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

/// Corpus size: lines are generated until at least this many bytes of UTF-8.
const CORPUS_BYTES: usize = 8 << 20;
/// Pieces: at most this many bytes, cut after a newline (like the scanner's `PIECE`).
const PIECE_BYTES: usize = 1 << 20;
/// Prefix the scanner sniffs (`container::scan_stream` reads 64 KiB first).
const PREFIX_BYTES: usize = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// The measured work, each returning what it found.

fn unit(folded: &Folded) -> Unit<'_> {
    Unit {
        folded,
        scan_from: 0,
        cells: &[],
        fields: &[],
        structured: false,
    }
}

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
        out.clear();
        detect(rules, &unit(folded), scratch, out);
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

/// Candidates of every folded piece; their number.
fn run_tokenize(folded: &[Folded], out: &mut Vec<Candidate>) -> usize {
    let mut n = 0;
    for f in folded {
        out.clear();
        candidates(&f.text, 0, out);
        n += out.len();
    }
    n
}

/// Raw keyword and topic hits of every lower-cased folded piece; their numbers.
fn run_keywords(rules: &RuleSet, lower: &[String], kw: &mut Vec<RawHit>, topics: &mut Vec<RawHit>) -> (usize, usize) {
    let (mut a, mut b) = (0, 0);
    for text in lower {
        rules.kwscan.find_all(
            [&rules.automaton, &rules.topic_automaton],
            text,
            [&mut *kw, &mut *topics],
        );
        a += kw.len();
        b += topics.len();
    }
    (a, b)
}

/// Sniff and decode `bytes` as the scanner does, in 1 MiB reads into a reused buffer; the
/// decoded length and the replacement characters.
fn run_decode(bytes: &[u8], out: &mut String) -> (usize, u64) {
    let cut = bytes.len().min(PREFIX_BYTES);
    let prefix = bytes[..cut].to_vec();
    let Sniff::Text { encoding, bom } = decode::sniff(&prefix) else {
        panic!("the corpus sniffs as binary");
    };
    let mut r = TextReader::new(&bytes[cut..], prefix, encoding, bom);
    let mut n = 0;
    loop {
        out.clear();
        if !r.read_text(out, PIECE_BYTES).expect("reading from memory") {
            break;
        }
        n += out.len();
    }
    (n, r.malformed)
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

fn scan_config() -> &'static ScanConfig {
    static CFG: OnceLock<ScanConfig> = OnceLock::new();
    CFG.get_or_init(|| ScanConfig {
        min_confidence: Confidence::Low,
        fail_on: None,
        threads: 1,
        hash_key: b"appiscan-bench-key".to_vec(),
        key_provided: true,
        ..ScanConfig::new(Vec::new())
    })
}

// ---------------------------------------------------------------------------------------------
// Fixtures: built once per corpus, outside the timed loops, with the expected counts.

/// A UTF-8 corpus, its pieces folded and lower-cased, and what each stage finds in it.
struct Corpus {
    name: &'static str,
    text: String,
    folded: Vec<Folded>,
    lower: Vec<String>,
    folded_len: usize,
    candidates: usize,
    keywords: (usize, usize),
    detections: usize,
    findings: usize,
}

impl Corpus {
    fn pieces(&self) -> Vec<&str> {
        corpus::pieces(&self.text, PIECE_BYTES)
    }
}

/// The digit-dense corpus re-encoded.
struct Encoded {
    name: &'static str,
    bytes: Vec<u8>,
    /// UTF-8 bytes it decodes to.
    decoded: usize,
    findings: usize,
}

fn build_corpus(name: &'static str, kind: Kind) -> Corpus {
    let rules = RuleSet::builtin();
    let text = corpus::generate(kind, CORPUS_BYTES);
    let pcs = corpus::pieces(&text, PIECE_BYTES);
    let folded: Vec<Folded> = pcs.iter().map(|p| Folded::new(p)).collect();
    let lower: Vec<String> = folded.iter().map(|f| f.text.to_ascii_lowercase()).collect();
    let (mut scratch, mut out) = (Scratch::default(), Vec::new());
    let mut by_rule: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut detections = 0;
    for f in &folded {
        out.clear();
        detect(rules, &unit(f), &mut scratch, &mut out);
        detections += out.len();
        for d in &out {
            *by_rule
                .entry((rules.rules[d.rule].id.as_str(), d.confidence.as_str()))
                .or_default() += 1;
        }
    }
    let folded_len = folded.iter().map(|f| f.text.len()).sum();
    let candidates = run_tokenize(&folded, &mut Vec::new());
    let keywords = run_keywords(rules, &lower, &mut Vec::new(), &mut Vec::new());
    let findings = run_scan(rules, scan_config(), &mut Worker::default(), text.as_bytes());

    let b = text.as_bytes();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    let non_ascii = b.iter().filter(|&&c| c >= 0x80).count();
    eprintln!(
        "corpus {name}: {} bytes, {} lines, {} pieces, {:.1}% ASCII digits, {:.1}% non-ASCII bytes; \
         {candidates} candidates, {}+{} keyword+topic hits, {detections} detections, {findings} scan_reader findings",
        b.len(),
        count_newlines(b),
        pcs.len(),
        100.0 * digits as f64 / b.len() as f64,
        100.0 * non_ascii as f64 / b.len() as f64,
        keywords.0,
        keywords.1,
    );
    for ((rule, conf), n) in &by_rule {
        eprintln!("  {rule:<36} {conf:<6} {n}");
    }
    assert!(
        candidates > 0 && detections > 0 && findings > 0,
        "{name}: nothing found"
    );
    Corpus {
        name,
        text,
        folded,
        lower,
        folded_len,
        candidates,
        keywords,
        detections,
        findings,
    }
}

fn digit_dense() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| build_corpus("digit_dense_ja", Kind::DigitDense))
}

fn sparse_prose() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| build_corpus("sparse_prose", Kind::SparseProse))
}

fn pathological() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| build_corpus("pathological", Kind::Pathological))
}

fn corpora() -> [&'static Corpus; 3] {
    [digit_dense(), sparse_prose(), pathological()]
}

/// What decoding `bytes` must give: `encoding_rs` in one call, BOM removed. (Shift_JIS has no
/// `¥`: it comes back as `\`, so this is shorter than the generated text.)
fn decoded_len(bytes: &[u8]) -> usize {
    let Sniff::Text { encoding, .. } = decode::sniff(&bytes[..bytes.len().min(PREFIX_BYTES)]) else {
        panic!("the corpus sniffs as binary");
    };
    let (text, malformed) = encoding.decode_with_bom_removal(bytes);
    assert!(!malformed);
    text.len()
}

fn build_encoded(name: &'static str, bytes: Vec<u8>) -> Encoded {
    // The streaming decoder must give back the whole text: no byte lost, none replaced.
    let decoded = decoded_len(&bytes);
    let (len, malformed) = run_decode(&bytes, &mut String::new());
    assert_eq!((len, malformed), (decoded, 0), "{name}: the decoder loses text");
    let findings = run_scan(RuleSet::builtin(), scan_config(), &mut Worker::default(), &bytes);
    eprintln!("corpus {name}: {} bytes, {findings} scan_reader findings", bytes.len());
    assert!(findings > 0, "{name}: nothing found");
    Encoded {
        name,
        bytes,
        decoded,
        findings,
    }
}

fn encoded() -> [&'static Encoded; 2] {
    static SJIS: OnceLock<Encoded> = OnceLock::new();
    static UTF16: OnceLock<Encoded> = OnceLock::new();
    let sjis = SJIS.get_or_init(|| {
        let bytes = corpus::shift_jis(&digit_dense().text).expect("the corpus is Shift_JIS-encodable");
        build_encoded("shift_jis", bytes)
    });
    let utf16 = UTF16.get_or_init(|| build_encoded("utf16le", corpus::utf16le_bom(&digit_dense().text)));
    [sjis, utf16]
}

// ---------------------------------------------------------------------------------------------
// Benchmarks.

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    // Tens to hundreds of ms per iteration: equal iteration counts per sample.
    g.sampling_mode(SamplingMode::Flat);
    g
}

fn bench_decode(c: &mut Criterion) {
    let mut g = group(c, "decode");
    let mut out = String::new();
    for e in encoded() {
        let want = (e.decoded, 0);
        g.throughput(Throughput::Bytes(e.bytes.len() as u64));
        g.bench_function(e.name, |b| {
            b.iter(|| {
                let r = run_decode(black_box(&e.bytes), &mut out);
                assert_eq!(r, want);
                r
            })
        });
    }
    g.finish();
}

fn bench_fold(c: &mut Criterion) {
    let mut g = group(c, "fold");
    let mut folded = Folded::default();
    for k in corpora() {
        let pcs = k.pieces();
        g.throughput(Throughput::Bytes(k.text.len() as u64));
        g.bench_function(k.name, |b| {
            b.iter(|| {
                let n = run_fold(black_box(&pcs), &mut folded);
                assert_eq!(n, k.folded_len);
                n
            })
        });
    }
    g.finish();
}

fn bench_tokenize(c: &mut Criterion) {
    let mut g = group(c, "tokenize");
    let mut out = Vec::new();
    for k in corpora() {
        g.throughput(Throughput::Bytes(k.folded_len as u64));
        g.bench_function(k.name, |b| {
            b.iter(|| {
                let n = run_tokenize(black_box(&k.folded), &mut out);
                assert_eq!(n, k.candidates);
                n
            })
        });
    }
    g.finish();
}

fn bench_keywords(c: &mut Criterion) {
    let rules = RuleSet::builtin();
    let mut g = group(c, "keywords");
    let (mut kw, mut topics) = (Vec::new(), Vec::new());
    for k in corpora() {
        g.throughput(Throughput::Bytes(k.folded_len as u64));
        g.bench_function(k.name, |b| {
            b.iter(|| {
                let n = run_keywords(rules, black_box(&k.lower), &mut kw, &mut topics);
                assert_eq!(n, k.keywords);
                n
            })
        });
    }
    g.finish();
}

fn bench_detect(c: &mut Criterion) {
    let rules = RuleSet::builtin();
    let mut g = group(c, "detect");
    let (mut folded, mut scratch, mut out) = (Folded::default(), Scratch::default(), Vec::new());
    for k in corpora() {
        let pcs = k.pieces();
        g.throughput(Throughput::Bytes(k.text.len() as u64));
        g.bench_function(k.name, |b| {
            b.iter(|| {
                let n = run_detect(rules, black_box(&pcs), &mut folded, &mut scratch, &mut out);
                assert_eq!(n, k.detections);
                n
            })
        });
    }
    g.finish();
}

fn bench_scan_reader(c: &mut Criterion) {
    let rules = RuleSet::builtin();
    let cfg = scan_config();
    let mut w = Worker::default();
    let mut g = group(c, "scan_reader");
    let [dense, prose, patho] = corpora();
    let [sjis, utf16] = encoded();
    let inputs: [(&str, &[u8], usize); 5] = [
        ("utf8", dense.text.as_bytes(), dense.findings),
        (sjis.name, &sjis.bytes, sjis.findings),
        (utf16.name, &utf16.bytes, utf16.findings),
        (prose.name, prose.text.as_bytes(), prose.findings),
        (patho.name, patho.text.as_bytes(), patho.findings),
    ];
    for (name, bytes, want) in inputs {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                let n = run_scan(rules, cfg, &mut w, black_box(bytes));
                assert_eq!(n, want);
                n
            })
        });
    }
    g.finish();
}

fn bench_baseline(c: &mut Criterion) {
    let k = digit_dense();
    let lines = count_newlines(k.text.as_bytes());
    let mut g = c.benchmark_group("baseline");
    g.throughput(Throughput::Bytes(k.text.len() as u64));
    g.bench_function("memchr_newlines", |b| {
        b.iter(|| {
            let n = count_newlines(black_box(k.text.as_bytes()));
            assert_eq!(n, lines);
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
    targets = bench_decode, bench_fold, bench_tokenize, bench_keywords, bench_detect, bench_scan_reader, bench_baseline
}
criterion_main!(benches);
