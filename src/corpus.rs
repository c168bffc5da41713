//! Synthetic corpora for benchmarks and load tests (not part of the scanner): seeded, deterministic
//! generators of text that looks like what the scanner reads, in three shapes, and encoders for the
//! Shift_JIS and UTF-16LE variants. Used by `benches/detect.rs`, `examples/gen_corpus.rs` and
//! `scripts/bench_e2e.sh`.
//!
//! - [`Kind::DigitDense`]: the Japanese/English mix of performance.md §2 (a port of its Appendix A,
//!   with splitmix64 instead of Python's `random`, so the bytes differ but the line mix and
//!   statistics are the same: ~110 bytes a line, ~28 % ASCII digits, ~48 % non-ASCII bytes, ~3 %
//!   true positives). Every phone number, date and price is a partial match for some identifier.
//! - [`Kind::SparseProse`]: Japanese and English business prose about personal data, full of labels
//!   and sensitive-category words (`個人番号`, `病歴`, `passport`, `fingerprint`…) but with few digits
//!   (~1 %), and rare true positives: the keyword stage's worst case, the tokenizer's best.
//! - [`Kind::Pathological`]: long digit runs (up to tens of KiB), near misses around every length
//!   the rules care about (11 and 13 digits next to a My Number label, 12-digit runs glued by `-`,
//!   digits glued to letters, long space- or hyphen-joined chains of short groups, full-width and
//!   mixed-width runs), plus a few valid values: what a tokenizer must not go quadratic on.
//!
//! Nothing here is real personal data: names come from short lists of common family and given
//! names, numbers from the generator.

use std::fmt::Write as _;
use std::io::{self, Write};

/// The seed of [`Kind::DigitDense`] (performance.md's `random.Random(20241129)`); the other kinds
/// use the next seeds.
pub const SEED: u64 = 20241129;

/// The shape of a corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    DigitDense,
    SparseProse,
    Pathological,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::DigitDense, Kind::SparseProse, Kind::Pathological];

    /// `digit-dense`, `sparse-prose`, `pathological`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::DigitDense => "digit-dense",
            Kind::SparseProse => "sparse-prose",
            Kind::Pathological => "pathological",
        }
    }

    /// The inverse of [`Kind::name`] (`_` accepted for `-`).
    pub fn parse(s: &str) -> Option<Kind> {
        let s = s.replace('_', "-");
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }

    fn seed(self) -> u64 {
        match self {
            Kind::DigitDense => SEED,
            Kind::SparseProse => SEED + 1,
            Kind::Pathological => SEED + 2,
        }
    }
}

/// How generated text is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Shift_JIS as `encoding_rs` encodes it (every generated character is encodable).
    ShiftJis,
    /// UTF-16LE with a byte-order mark (`FF FE`) at the start of each file.
    Utf16Le,
}

impl Encoding {
    pub const ALL: [Encoding; 3] = [Encoding::Utf8, Encoding::ShiftJis, Encoding::Utf16Le];

    /// `utf-8`, `shift_jis`, `utf-16le`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::ShiftJis => "shift_jis",
            Encoding::Utf16Le => "utf-16le",
        }
    }

    /// Case-insensitive; `-` and `_` are the same; `utf8`, `sjis` and `utf16` are accepted too.
    pub fn parse(s: &str) -> Option<Encoding> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "shift-jis" | "sjis" | "shiftjis" => Some(Encoding::ShiftJis),
            "utf-16le" | "utf16le" | "utf-16" | "utf16" => Some(Encoding::Utf16Le),
            _ => None,
        }
    }

    /// Appends `text` in this encoding to `out`; `start` adds the BOM of UTF-16LE (the start of a
    /// file). Panics on a character Shift_JIS cannot encode (the generators never produce one).
    pub fn encode_into(self, text: &str, start: bool, out: &mut Vec<u8>) {
        match self {
            Encoding::Utf8 => out.extend_from_slice(text.as_bytes()),
            Encoding::ShiftJis => {
                let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
                assert!(!unmappable, "text with a character Shift_JIS cannot encode");
                out.extend_from_slice(&bytes);
            }
            Encoding::Utf16Le => {
                if start {
                    out.extend_from_slice(&[0xFF, 0xFE]);
                }
                out.reserve(text.len() * 2);
                for u in text.encode_utf16() {
                    out.extend_from_slice(&u.to_le_bytes());
                }
            }
        }
    }
}

/// `text` in Shift_JIS, or `None` if some character has no Shift_JIS form.
pub fn shift_jis(text: &str) -> Option<Vec<u8>> {
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    (!unmappable).then(|| bytes.into_owned())
}

/// `text` in UTF-16LE after a byte-order mark.
pub fn utf16le_bom(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + text.len() * 2);
    Encoding::Utf16Le.encode_into(text, true, &mut out);
    out
}

/// Newline-aligned pieces of `text` of at most `max` bytes each (a longer line is a piece of its
/// own), in order; concatenated they are `text`.
pub fn pieces(text: &str, max: usize) -> Vec<&str> {
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

/// The lines of a corpus, one at a time.
pub struct Generator {
    g: Rng,
    kind: Kind,
}

impl Generator {
    pub fn new(kind: Kind) -> Generator {
        Generator {
            g: Rng(kind.seed()),
            kind,
        }
    }

    /// Appends one line, with its `\n`.
    pub fn line(&mut self, out: &mut String) {
        match self.kind {
            Kind::DigitDense => digit_dense_line(&mut self.g, out),
            Kind::SparseProse => sparse_prose_line(&mut self.g, out),
            Kind::Pathological => pathological_line(&mut self.g, out),
        }
        out.push('\n');
    }

    /// Appends lines while `out` is shorter than `target` bytes.
    pub fn fill(&mut self, out: &mut String, target: usize) {
        while out.len() < target {
            self.line(out);
        }
    }
}

/// Lines of `kind` until at least `target` bytes (UTF-8).
pub fn generate(kind: Kind, target: usize) -> String {
    let mut s = String::with_capacity(target + 512);
    Generator::new(kind).fill(&mut s, target);
    s
}

/// Writes lines of `kind` until at least `target` bytes of UTF-8 text were generated, encoded as
/// `encoding`, to `w`, a chunk of about 1 MiB at a time (memory stays small for any size). The
/// output is the encoding of [`generate`]`(kind, target)`. Returns the bytes written.
pub fn write(kind: Kind, encoding: Encoding, target: u64, w: &mut dyn Write) -> io::Result<u64> {
    const CHUNK: usize = 1 << 20;
    let mut lines = Generator::new(kind);
    let mut text = String::with_capacity(CHUNK + 64 * 1024);
    let mut bytes = Vec::new();
    let (mut generated, mut written) = (0u64, 0u64);
    let mut start = true;
    while generated < target {
        text.clear();
        while text.len() < CHUNK && generated + (text.len() as u64) < target {
            lines.line(&mut text);
        }
        generated += text.len() as u64;
        bytes.clear();
        encoding.encode_into(&text, start, &mut bytes);
        start = false;
        w.write_all(&bytes)?;
        written += bytes.len() as u64;
    }
    Ok(written)
}

// ---------------------------------------------------------------------------------------------
// Randomness.

/// splitmix64: tiny, seedable, good enough for test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (Python's `randint`); the modulo bias is irrelevant here.
    pub fn r(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// One of `xs`.
    pub fn ch<'a, T: ?Sized>(&mut self, xs: &[&'a T]) -> &'a T {
        xs[self.r(0, xs.len() as u64 - 1) as usize]
    }

    /// True with probability `num / den`.
    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.r(0, den - 1) < num
    }

    /// `n` random ASCII digits.
    fn digits(&mut self, n: usize, out: &mut String) {
        for _ in 0..n {
            out.push(char::from(b'0' + self.r(0, 9) as u8));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shared vocabulary.

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
            '0'..='9' => char::from_u32(0xFF10 + (c as u32 - '0' as u32)).unwrap_or(c),
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

// ---------------------------------------------------------------------------------------------
// Digit-dense Japanese/English mix: performance.md Appendix A.

/// One line of the mix, without its newline.
fn digit_dense_line(g: &mut Rng, s: &mut String) {
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

// ---------------------------------------------------------------------------------------------
// Sparse prose: keyword-heavy, few digits.

const TEAMS_JA: &[&str] = &[
    "人事部",
    "総務課",
    "情報システム部",
    "お客様相談室",
    "経理部",
    "法務部",
    "営業企画課",
    "品質保証部",
];
/// Words that name personal data or a sensitive category, labels included.
const TOPICS_JA: &[&str] = &[
    "個人情報",
    "個人番号",
    "マイナンバー",
    "氏名",
    "住所",
    "生年月日",
    "電話番号",
    "メールアドレス",
    "健康診断の結果",
    "病歴",
    "既往歴",
    "通院歴",
    "診断書",
    "信条",
    "宗教",
    "人種",
    "犯罪歴",
    "労働組合への加入",
    "障害の有無",
    "指紋",
    "顔認証データ",
    "虹彩",
    "声紋",
    "静脈パターン",
    "旅券番号",
    "運転免許証",
    "在留カード",
    "基礎年金番号",
    "口座番号",
    "クレジットカード番号",
];
const TOPICS_EN: &[&str] = &[
    "personal data",
    "date of birth",
    "passport number",
    "driver's license",
    "medical history",
    "diagnosis",
    "religion",
    "political opinions",
    "biometric data",
    "fingerprint",
    "face ID",
    "iris scan",
    "voiceprint",
    "social security number",
    "home address",
    "phone number",
    "email address",
    "criminal record",
    "trade union membership",
    "health insurance card",
];
const SENTENCES_JA: &[&str] = &[
    "{t}は{k}の取り扱いについて社内規程を見直しました。",
    "{k}を含む書類は施錠できる保管庫で管理してください。",
    "{k}の提供を求める場合は、利用目的をあらかじめ明示する必要があります。",
    "{t}では{k}と{k}を同じファイルに保存しないことにしています。",
    "{k}の収集は業務に必要な範囲にとどめてください。",
    "退職者の{k}は保存期間の経過後に速やかに削除します。",
    "委託先に{k}を渡す前に、{t}の承認を得てください。",
    "本人から{k}の開示を求められた場合は{t}に連絡してください。",
    "{k}が記載された画面をそのまま共有しないでください。",
    "{t}の研修では{k}の漏えい事例を取り上げました。",
];
const SENTENCES_EN: &[&str] = &[
    "The {t} team reviewed how {k} is collected and stored.",
    "Access to {k} requires approval from the data protection officer.",
    "Do not paste {k} or {k} into chat messages or ticket comments.",
    "Records containing {k} must be encrypted at rest.",
    "Please confirm whether the vendor keeps any {k} after the contract ends.",
    "The new form no longer asks for {k}.",
];
const TEAMS_EN: &[&str] = &["HR", "legal", "security", "support", "finance", "platform"];
const FILLER: &[&str] = &[
    "ご不明な点がございましたら、お気軽にお問い合わせください。",
    "なお、詳細は来週の定例会議でご説明いたします。",
    "引き続きよろしくお願いいたします。",
    "資料は共有フォルダに格納してあります。",
    "スケジュールに変更があればお知らせします。",
    "Thanks for the quick turnaround on this.",
    "Let me know if anything is unclear.",
    "We will revisit this at the next review.",
];

/// Appends `template` with `{t}` replaced by a team and each `{k}` by a topic word.
fn fill_template(g: &mut Rng, template: &str, teams: &[&str], topics: &[&str], s: &mut String) {
    let mut rest = template;
    while let Some(p) = rest.find('{') {
        s.push_str(&rest[..p]);
        let slot = &rest[p..p + 3];
        s.push_str(if slot == "{t}" { g.ch(teams) } else { g.ch(topics) });
        rest = &rest[p + 3..];
    }
    s.push_str(rest);
}

fn sparse_prose_line(g: &mut Rng, s: &mut String) {
    let t = g.r(0, 199);
    match t {
        // Rare true positives (1 %), each next to its label.
        0 => {
            let _ = write!(s, "{}さんの個人番号は{}です。", name(g), my_number(g));
        }
        1 => {
            let _ = write!(
                s,
                "Passport number {}{} was scanned at the counter.",
                g.ch(&["TK", "TR", "MZ"]),
                g.r(1_000_000, 9_999_999)
            );
        }
        // A dated note (digits, but short runs).
        2..=19 => {
            let _ = write!(s, "{}付けで", date(g));
            let tpl = g.ch(SENTENCES_JA);
            fill_template(g, tpl, TEAMS_JA, TOPICS_JA, s);
        }
        // Japanese paragraphs.
        20..=129 => {
            for _ in 0..g.r(1, 4) {
                if g.chance(1, 4) {
                    s.push_str(g.ch(FILLER));
                } else {
                    let tpl = g.ch(SENTENCES_JA);
                    fill_template(g, tpl, TEAMS_JA, TOPICS_JA, s);
                }
            }
        }
        // English paragraphs.
        130..=189 => {
            for i in 0..g.r(1, 3) {
                if i > 0 {
                    s.push(' ');
                }
                let tpl = g.ch(SENTENCES_EN);
                fill_template(g, tpl, TEAMS_EN, TOPICS_EN, s);
            }
        }
        // A person named next to a sensitive word.
        _ => {
            let _ = write!(
                s,
                "{}様より{}について相談があり、{}が対応しました。",
                name(g),
                g.ch(TOPICS_JA),
                g.ch(TEAMS_JA)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Pathological: long digit runs and near misses.

fn pathological_line(g: &mut Rng, s: &mut String) {
    let t = g.r(0, 15);
    match t {
        // A long run of digits; now and then a very long one.
        0 => {
            s.push_str(g.ch(&["", "個人番号 ", "id=", "data: "]));
            let n = if g.chance(1, 40) {
                g.r(4_000, 40_000)
            } else {
                g.r(14, 400)
            };
            g.digits(n as usize, s);
        }
        // 11 and 13 digits next to a My Number label: one short, one long.
        1 => {
            let label = g.ch(&["個人番号", "マイナンバー", "my number", "個人番号:"]);
            let n = if g.chance(1, 2) { 11 } else { 13 };
            s.push_str(label);
            s.push(' ');
            g.digits(n, s);
            s.push_str(" / ");
            g.digits(if n == 11 { 13 } else { 11 }, s);
        }
        // 12-digit runs glued by `-` (and a valid My Number among them).
        2 => {
            s.push_str("マイナンバー ");
            for i in 0..g.r(2, 8) {
                if i > 0 {
                    s.push('-');
                }
                if g.chance(1, 3) {
                    s.push_str(&my_number(g));
                } else {
                    g.digits(12, s);
                }
            }
        }
        // Digits glued to letters.
        3 => {
            for i in 0..g.r(3, 10) {
                if i > 0 {
                    s.push(' ');
                }
                let n = g.r(10, 14) as usize;
                match g.r(0, 5) {
                    0 => {
                        g.digits(n, s);
                        s.push(char::from(b'a' + g.r(0, 25) as u8));
                    }
                    1 => {
                        s.push(char::from(b'A' + g.r(0, 25) as u8));
                        g.digits(n, s);
                    }
                    2 => {
                        g.digits(6, s);
                        s.push('X');
                        g.digits(6, s);
                    }
                    3 => {
                        s.push_str(g.ch(&["AB", "TK", "MZ"]));
                        g.digits(n, s);
                        s.push_str("CD");
                    }
                    4 => {
                        let _ = write!(s, "0x{:016x}{:08x}", g.next_u64(), g.next_u64() as u32);
                    }
                    _ => {
                        s.push_str(&my_number(g));
                        s.push('_');
                        g.digits(4, s);
                    }
                }
            }
        }
        // Long chains of 4-digit groups joined by single spaces.
        4 => {
            s.push_str(g.ch(&["", "カード番号 ", "個人番号 "]));
            for i in 0..g.r(3, 60) {
                if i > 0 {
                    s.push(' ');
                }
                g.digits(4, s);
            }
        }
        // Long chains of short groups joined by `-` or `.`.
        5 => {
            let sep = if g.chance(1, 2) { '-' } else { '.' };
            for i in 0..g.r(4, 200) {
                if i > 0 {
                    s.push(sep);
                }
                let n = g.r(1, 4) as usize;
                g.digits(n, s);
            }
        }
        // Mixed separators inside one would-be value.
        6 => {
            for _ in 0..g.r(2, 6) {
                let (a, b, c) = (g.r(1000, 9999), g.r(1000, 9999), g.r(1000, 9999));
                let (x, y) = (g.ch(&["-", " ", ".", "--", "ー"]), g.ch(&["-", " ", ".", "・", "／"]));
                let _ = write!(s, "{a}{x}{b}{y}{c} ");
            }
        }
        // Full-width and mixed-width runs.
        7 => {
            let mut run = String::new();
            let n = g.r(11, 13) as usize;
            g.digits(n, &mut run);
            s.push_str("個人番号 ");
            s.push_str(&fw(&run));
            s.push_str(" 控え ");
            for (i, c) in my_number(g).chars().enumerate() {
                if i % 3 == 0 {
                    s.push_str(&fw(&c.to_string()));
                } else {
                    s.push(c);
                }
            }
        }
        // Digits next to a valid My Number: glued on either side, or one digit off.
        8 => {
            let m = my_number(g);
            match g.r(0, 3) {
                0 => {
                    let _ = write!(s, "番号 {m}{}", g.r(0, 9));
                }
                1 => {
                    let _ = write!(s, "番号 {}{m}", g.r(0, 9));
                }
                2 => {
                    let _ = write!(s, "番号 {}", &m[..11]);
                }
                _ => {
                    let _ = write!(s, "個人番号: {m}");
                }
            }
        }
        // Every label, then near misses.
        9 => {
            for k in KW {
                s.push_str(k);
                s.push(' ');
            }
            let n = g.r(9, 15) as usize;
            g.digits(n, s);
        }
        // Dotted runs: IPv4-like and longer.
        10 => {
            for i in 0..g.r(4, 12) {
                if i > 0 {
                    s.push('.');
                }
                let _ = write!(s, "{}", g.r(0, 255));
            }
            let _ = write!(s, " pi=3.");
            let n = g.r(20, 60) as usize;
            g.digits(n, s);
        }
        // Dates and times glued together.
        11 => {
            for _ in 0..g.r(2, 12) {
                let _ = write!(
                    s,
                    "{}{:02}{:02}{:02}{:02}",
                    g.r(2019, 2025),
                    g.r(1, 12),
                    g.r(1, 28),
                    g.r(0, 23),
                    g.r(0, 59)
                );
            }
        }
        // Phone-like groups that are one digit too long or short.
        12 => {
            let _ = write!(
                s,
                "TEL 0{}-{}-{} 携帯 0{}0-{}-{}",
                g.r(10, 99999),
                g.r(1, 99999),
                g.r(100, 99999),
                g.r(7, 9),
                g.r(100, 99999),
                g.r(100, 99999)
            );
        }
        // Digit runs separated by Japanese letters only.
        13 => {
            for _ in 0..g.r(3, 12) {
                let n = g.r(4, 13) as usize;
                g.digits(n, s);
                s.push_str(g.ch(&["番", "号", "の", "、", "年", "円", "第"]));
            }
        }
        // A valid labelled value now and then, so detection has something to report.
        14 => {
            let (k, m) = (g.ch(&KW[..2]), my_number(g));
            let _ = write!(s, "{k}: {}-{}-{}", &m[..4], &m[4..8], &m[8..]);
        }
        // Plain prose between the traps.
        _ => {
            s.push_str(g.ch(PROSE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_encodable() {
        for kind in Kind::ALL {
            let a = generate(kind, 300_000);
            assert_eq!(a, generate(kind, 300_000), "{}", kind.name());
            assert!(a.len() >= 300_000 && a.ends_with('\n'));
            assert!(shift_jis(&a).is_some(), "{} is not Shift_JIS-encodable", kind.name());
            for enc in Encoding::ALL {
                let mut streamed = Vec::new();
                let n = write(kind, enc, 300_000, &mut streamed).unwrap();
                let mut whole = Vec::new();
                enc.encode_into(&a, true, &mut whole);
                assert_eq!(n as usize, streamed.len());
                assert!(streamed == whole, "{} {}", kind.name(), enc.name());
            }
        }
    }

    #[test]
    fn shapes_differ_as_described() {
        let share = |s: &str| s.bytes().filter(u8::is_ascii_digit).count() as f64 / s.len() as f64;
        let dense = generate(Kind::DigitDense, 1 << 20);
        let prose = generate(Kind::SparseProse, 1 << 20);
        let patho = generate(Kind::Pathological, 1 << 20);
        assert!((0.22..0.34).contains(&share(&dense)), "{}", share(&dense));
        assert!(share(&prose) < 0.03, "{}", share(&prose));
        assert!(share(&patho) > 0.5, "{}", share(&patho));
        assert!(prose.matches("個人番号").count() > 100);
        let longest = patho.lines().map(str::len).max().unwrap_or(0);
        assert!(longest > 4_000, "{longest}");
    }

    #[test]
    fn pieces_are_newline_aligned() {
        let text = generate(Kind::Pathological, 200_000);
        let p = pieces(&text, 4096);
        assert_eq!(p.concat(), text);
        for piece in &p {
            assert!(piece.ends_with('\n'));
            assert!(piece.len() <= 4096 || !piece[..piece.len() - 1].contains('\n'));
        }
    }

    #[test]
    fn encoders() {
        assert_eq!(utf16le_bom("aあ"), vec![0xFF, 0xFE, b'a', 0, 0x42, 0x30]);
        assert_eq!(shift_jis("aあ").unwrap(), vec![b'a', 0x82, 0xA0]);
        assert_eq!(shift_jis("😀"), None);
        assert_eq!(Kind::parse("sparse_prose"), Some(Kind::SparseProse));
        assert_eq!(Encoding::parse("SJIS"), Some(Encoding::ShiftJis));
    }
}
