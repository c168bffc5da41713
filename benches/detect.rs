//! Throughput of the detector on a digit-dense Japanese/English corpus (docs: performance.md §9,
//! corpus generator in Appendix A, ported here with a seeded splitmix64 instead of Python's
//! `random`). The corpus is generated in memory, outside every timed loop; every benchmark
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

use appiscan::detect::{Detection, Scratch, Unit, detect};
use appiscan::fold::Folded;
use appiscan::patterns::{Confidence, RuleSet};
use appiscan::scan::{ScanConfig, Worker, scan_reader};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

/// Corpus size: lines are generated until at least this many bytes.
const CORPUS_BYTES: usize = 8 << 20;
/// Detection pieces: at most this many bytes, cut after a newline (like the scanner's `PIECE`).
const PIECE_BYTES: usize = 1 << 20;
const SEED: u64 = 20241129;

// ---------------------------------------------------------------------------------------------
// Corpus generator: a port of performance.md Appendix A.

struct Rng(u64);

impl Rng {
    /// splitmix64.
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (Python's `randint`); the modulo bias is irrelevant here.
    fn r(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    fn ch<'a, T: ?Sized>(&mut self, xs: &[&'a T]) -> &'a T {
        xs[self.r(0, xs.len() as u64 - 1) as usize]
    }
}

const FAMS: &[&str] = &[
    "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田",
];
const GIVES: &[&str] = &[
    "太郎",
    "花子",
    "健一",
    "美咲",
    "翔太",
    "陽菜",
    "大輔",
    "結衣",
    "拓也",
    "さくら",
];
const PREFS: &[&str] = &[
    "東京都",
    "大阪府",
    "神奈川県",
    "愛知県",
    "北海道",
    "福岡県",
    "京都府",
    "兵庫県",
];
const CITIES: &[&str] = &[
    "千代田区丸の内",
    "中央区日本橋",
    "港区六本木",
    "北区梅田",
    "中区栄",
    "博多区博多駅前",
];
const ITEMS: &[&str] = &[
    "ノートパソコン",
    "コピー用紙A4",
    "ボールペン",
    "会議室利用料",
    "交通費",
    "USBメモリ 64GB",
    "プリンタートナー",
];
const PROSE: &[&str] = &[
    "本日はお忙しいところ誠にありがとうございます。",
    "下記の通りご請求申し上げます。",
    "お問い合わせは担当者までご連絡ください。",
    "契約内容に変更がある場合は速やかにお知らせください。",
    "会議の議事録を添付いたしますのでご確認ください。",
    "次回の打ち合わせは来週の水曜日を予定しております。",
    "The quarterly report is attached for your review.",
    "Please update the shipping address before Friday.",
    "システムメンテナンスのため、サービスを一時停止いたします。",
    "在庫状況については別紙をご参照ください。",
];
const KW: &[&str] = &[
    "個人番号",
    "マイナンバー",
    "旅券番号",
    "パスポート番号",
    "運転免許証番号",
    "基礎年金番号",
    "在留カード番号",
];

/// Full-width digits and hyphen.
fn fw(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(0xFF10 + (c as u32 - '0' as u32)).unwrap(),
            '-' => '－',
            _ => c,
        })
        .collect()
}

/// `n` with thousands separators (Python's `{:,}`).
fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A My Number with a valid check digit: weights 6,5,4,3,2,7,6,5,4,3,2 over the first 11 digits.
fn my_number(g: &mut Rng) -> String {
    const W: [u64; 11] = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let d: Vec<u64> = (0..11).map(|_| g.r(0, 9)).collect();
    let r = d.iter().zip(W).map(|(a, b)| a * b).sum::<u64>() % 11;
    let c = if r <= 1 { 0 } else { 11 - r };
    let mut s: String = d.iter().map(|x| char::from(b'0' + *x as u8)).collect();
    s.push(char::from(b'0' + c as u8));
    s
}

fn phone(g: &mut Rng) -> String {
    let area = g.ch(&["03", "06", "045", "052", "092", "011"]);
    format!("{area}-{}-{}", g.r(1000, 9999), g.r(1000, 9999))
}

fn mobile(g: &mut Rng) -> String {
    let pre = g.ch(&["090", "080", "070"]);
    format!("{pre}-{}-{}", g.r(1000, 9999), g.r(1000, 9999))
}

fn date(g: &mut Rng) -> String {
    format!("{}年{}月{}日", g.r(1950, 2025), g.r(1, 12), g.r(1, 28))
}

fn isodate(g: &mut Rng) -> String {
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        g.r(2019, 2025),
        g.r(1, 12),
        g.r(1, 28),
        g.r(0, 23),
        g.r(0, 59),
        g.r(0, 59)
    )
}

fn price(g: &mut Rng) -> String {
    format!("¥{}", grouped(g.r(100, 999_999)))
}

fn name(g: &mut Rng) -> String {
    format!("{}{}", g.ch(FAMS), g.ch(GIVES))
}

/// One line of the mix, without its newline.
fn line(g: &mut Rng, s: &mut String) {
    const E12: u64 = 1_000_000_000_000;
    let t = g.r(0, 99);
    let _ = match t {
        0..=13 => {
            let (n, p, m) = (name(g), phone(g), mobile(g));
            let (z1, z2) = (g.r(100, 999), g.r(1000, 9999));
            let (pref, city) = (g.ch(PREFS), g.ch(CITIES));
            let (a, b, c) = (g.r(1, 9), g.r(1, 30), g.r(1, 20));
            write!(s, "{n} 様 TEL: {p} 携帯: {m} 〒{z1}-{z2} {pref}{city}{a}-{b}-{c}")
        }
        14..=27 => {
            let (k, item, q, p, y) = (g.r(1, 9999), g.ch(ITEMS), g.r(1, 500), price(g), g.r(1, 999_999));
            let (o1, o2, d) = (g.r(20190101, 20251231), g.r(0, 99_999), date(g));
            write!(s, "{k},{item},{q},{p},{y}円,注文番号 ORD-{o1}-{o2:05},{d}")
        }
        28..=39 => {
            let (a, b, r, d) = (g.ch(PROSE), g.ch(PROSE), g.r(10_000_000, 99_999_999), date(g));
            write!(s, "{a}{b} 受付番号: {r} 日付: {d}")
        }
        40..=51 => {
            let (ts, w, id) = (isodate(g), g.r(1, 64), g.r(E12 / 10, E12 - 1));
            let (i1, i2, i3) = (g.r(0, 255), g.r(0, 255), g.r(0, 255));
            let (lat, bytes, st) = (g.r(1, 5000), g.r(100, 10_000_000), g.ch(&["200", "201", "404", "500"]));
            write!(
                s,
                "{ts} INFO [worker-{w}] req_id={id} ip=10.{i1}.{i2}.{i3} latency_ms={lat} bytes={bytes} status={st}"
            )
        }
        52..=59 => {
            let (inv, reg, p, d) = (g.r(100_000, 999_999), g.r(E12, 10 * E12 - 1), price(g), date(g));
            write!(
                s,
                "請求書番号 INV-{inv} 登録番号 T{reg} 合計金額 {p} (税込) 振込期限 {d}"
            )
        }
        60..=67 => {
            let (sku, q, u) = (g.r(1_000_000, 9_999_999), g.r(0, 9999), g.r(100, 99_999));
            let (wh, n, lot) = (
                g.ch(&["A", "B", "C", "D", "E", "F", "G"]),
                g.r(1, 99),
                g.r(E12 / 1000, E12 / 100 - 1),
            );
            write!(s, "在庫 SKU{sku} 数量 {q} 単価 {u} 倉庫 {wh}-{n:02} ロット {lot}")
        }
        68..=73 => {
            let (n, id, pt, d) = (name(g), g.r(10_000_000, 99_999_999), g.r(0, 99_999), date(g));
            let tel = if g.r(0, 3) == 0 { fw(&mobile(g)) } else { mobile(g) };
            write!(s, "{n}さんの会員ID {id} ポイント残高 {pt} 最終利用日 {d} 電話 {tel}")
        }
        74..=79 => {
            let (k, f, gv) = (g.r(1, 1_000_000), g.ch(FAMS), g.ch(GIVES));
            let (y, m, d) = (g.r(1950, 2010), g.r(1, 12), g.r(1, 28));
            let (z1, z2, v, a, b) = (
                g.r(100, 999),
                g.r(1000, 9999),
                g.r(0, 100_000_000),
                g.r(1000, 10_000),
                g.r(0, 99),
            );
            write!(
                s,
                "\"{k}\",\"{f} {gv}\",\"{y}/{m:02}/{d:02}\",\"{z1}-{z2}\",\"{v}\",\"{a}.{b:02}\""
            )
        }
        80..=85 => {
            let (a, b, c) = (g.ch(PROSE), g.ch(PROSE), g.ch(PROSE));
            write!(s, "{a}{b}{c}")
        }
        86..=91 => {
            let (a, b, c, d) = (g.r(0, 1 << 32), g.r(0, 1 << 16), g.r(0, 1 << 16), g.r(0, 1 << 16));
            let (e, seq, ts) = (
                g.r(0, 1 << 48),
                g.r(0, 1_000_000_000),
                g.r(1_500_000_000, 1_800_000_000),
            );
            write!(s, "uuid={a:08x}-{b:04x}-{c:04x}-{d:04x}-{e:012x} seq={seq} ts={ts}")
        }
        92..=96 => {
            let (acc, br, am) = (g.r(1_000_000, 9_999_999), g.r(100, 999), g.r(1, 10_000_000));
            let (fee, bal) = (g.r(0, 999), g.r(0, 1_000_000_000));
            write!(s, "account={acc} branch={br} amount={am} fee={fee} balance={bal}")
        }
        // Sparse true positives (~3 %).
        _ => match g.r(0, 9) {
            0 => {
                let (k, m, n) = (g.ch(&KW[..2]), my_number(g), name(g));
                write!(s, "{k}: {m} ({n})")
            }
            1 => {
                let m = my_number(g);
                write!(s, "マイナンバー {}-{}-{}", &m[..4], &m[4..8], &m[8..])
            }
            2 => {
                let (p, n, d) = (g.ch(&["TK", "TR", "MZ", "TZ"]), g.r(1_000_000, 9_999_999), date(g));
                write!(s, "旅券番号 {p}{n} 有効期限 {d}")
            }
            3 => {
                let (p, n) = (g.ch(&["TK", "TR", "MZ"]), g.r(1_000_000, 9_999_999));
                let (y, m, d) = (g.r(1950, 2005), g.r(1, 12), g.r(1, 28));
                write!(s, "Passport No. {p}{n} date of birth {y}-{m:02}-{d:02}")
            }
            4 => {
                let (a, b) = (g.r(1000, 9999), g.r(100_000, 999_999));
                write!(s, "基礎年金番号 {a}-{b}")
            }
            5 => {
                let n = g.r(E12 / 10, E12 - 1);
                write!(s, "運転免許証番号 第{n}号")
            }
            6 => {
                let (a, n, b) = (
                    g.ch(&["AB", "CD", "EF"]),
                    g.r(10_000_000, 99_999_999),
                    g.ch(&["CD", "EF", "GH"]),
                );
                write!(s, "在留カード番号 {a}{n}{b}")
            }
            7 => {
                let h = g.next_u64();
                write!(s, "biometric_template: fingerprint_hash={h:016x} 指紋データ登録済")
            }
            8 => {
                let m = my_number(g);
                write!(s, "個人番号 {}", fw(&m))
            }
            _ => {
                let (n, m, y) = (g.r(E12 * 100, E12 * 1000 - 1), g.r(1, 12), g.r(25, 30));
                write!(s, "card 4{n} exp {m:02}/{y}")
            }
        },
    };
}

/// Lines until at least `target` bytes.
fn generate(target: usize) -> String {
    let mut g = Rng(SEED);
    let mut s = String::with_capacity(target + 512);
    while s.len() < target {
        line(&mut g, &mut s);
        s.push('\n');
    }
    s
}

/// Newline-aligned pieces of at most `max` bytes (a longer line would be one piece).
fn pieces(text: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let cut = if rest.len() <= max {
            rest.len()
        } else {
            memchr::memrchr(b'\n', &rest.as_bytes()[..max])
                .or_else(|| memchr::memchr(b'\n', rest.as_bytes()))
                .map_or(rest.len(), |p| p + 1)
        };
        let (head, tail) = rest.split_at(cut);
        out.push(head);
        rest = tail;
    }
    out
}

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
        let text = generate(CORPUS_BYTES);
        let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
        assert!(!unmappable, "the corpus has characters Shift_JIS cannot encode");
        let sjis = sjis.into_owned();
        let b = text.as_bytes();
        let lines = count_newlines(b);
        let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
        let non_ascii = b.iter().filter(|&&c| c >= 0x80).count();
        let pcs = pieces(&text, PIECE_BYTES);

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
    let pcs = pieces(&fx.text, PIECE_BYTES);
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
    let pcs = pieces(&fx.text, PIECE_BYTES);
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
