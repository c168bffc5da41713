//! Deterministic generator of a synthetic storage dump for `tests/precision.rs`: memo texts,
//! logs, CSV exports and JSON Lines exports that mix TRUE identification codes (with a label on
//! the same line or the line before, a labelling column header or a labelling key) and
//! LOOK-ALIKES (phones, postal codes, corporate and invoice numbers, JAN codes, card numbers,
//! order numbers, timestamps, tracking numbers, product and lot codes, employer office numbers,
//! amounts, insurer numbers on their own, bare unlabelled My Numbers).
//!
//! Every value is synthetic. Check digits are computed here, independently of the crate, from
//! /work/shared/reference/jp-identifiers.md §3 and §4 (which cite the primary sources).
//! Every generated value is recorded as an [`Item`] with its file, line and character span.

use encoding_rs::SHIFT_JIS;

pub use crate::support::Rng;

// ---------------------------------------------------------------------------------------------
// Check digits (jp-identifiers.md §4, "my code, executed").

fn dv(b: u8) -> u32 {
    u32::from(b - b'0')
}

fn all_digits(v: &str, len: usize) -> bool {
    v.len() == len && v.bytes().all(|b| b.is_ascii_digit())
}

/// 個人番号 (総務省令85号(平成26年)5条; §3.1): Pn = n-th digit of the 11-digit body counted from
/// the right, Qn = n+1 for n <= 6 and n-5 for n >= 7 (weights 6..2,7..2 left to right);
/// r = Σ Pn·Qn mod 11; check = 0 if r <= 1, else 11 - r.
pub fn my_number_cd(body: &str) -> u32 {
    let b = body.as_bytes();
    assert_eq!(b.len(), 11);
    let s: u32 = (1..=11usize)
        .map(|n| dv(b[11 - n]) * if n <= 6 { n as u32 + 1 } else { n as u32 - 5 })
        .sum();
    let r = s % 11;
    if r <= 1 { 0 } else { 11 - r }
}

pub fn my_number_ok(v: &str) -> bool {
    all_digits(v, 12) && my_number_cd(&v[..11]) == dv(v.as_bytes()[11])
}

/// 法人番号 (法人番号の指定等に関する省令, NTA checkdigit.pdf; §3.2): check digit FIRST;
/// Pn = n-th digit of the 12-digit base from the right, Qn = 1 (n odd) or 2 (n even);
/// check = 9 - (Σ Pn·Qn mod 9).
pub fn corporate_cd(base: &str) -> u32 {
    let b = base.as_bytes();
    assert_eq!(b.len(), 12);
    let s: u32 = (1..=12usize)
        .map(|n| dv(b[12 - n]) * if n % 2 == 1 { 1 } else { 2 })
        .sum();
    9 - s % 9
}

pub fn corporate_ok(v: &str) -> bool {
    all_digits(v, 13) && corporate_cd(&v[1..]) == dv(v.as_bytes()[0])
}

/// Public-safety-commission codes of first issuance (§3.3; the set executed in §4, which has 51
/// members although the prose says "52 codes").
pub const DL_COMMISSIONS: [u32; 51] = [
    10, 11, 12, 13, 14, 20, 21, 22, 23, 24, 25, 30, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 60,
    61, 62, 63, 64, 65, 70, 71, 72, 73, 74, 80, 81, 82, 83, 90, 91, 92, 93, 94, 95, 96, 97,
];

/// 運転免許証番号 (NPA circular 1981-09-10 as cited by secondary sources; §3.3): digits 1-10
/// weighted 5,4,3,2,7,6,5,4,3,2; r = Σ mod 11; C = (11 - r) mod 10 (digit 11).
pub fn dl_cd(first10: &str) -> u32 {
    const W: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let r: u32 = first10.bytes().zip(W).map(|(c, w)| dv(c) * w).sum::<u32>() % 11;
    (11 - r) % 10
}

pub fn dl_ok(v: &str) -> bool {
    all_digits(v, 12)
        && DL_COMMISSIONS.contains(&v[..2].parse::<u32>().unwrap())
        && dl_cd(&v[..10]) == dv(v.as_bytes()[10])
}

/// 住民票コード (平成14年総務省告示436号 as reconstructed in §3.6, variant A of §4): weights 2..7
/// from the right over the 10-digit body; check = 0 if r <= 1, else 11 - r.
pub fn resident_cd(body: &str) -> u32 {
    let b = body.as_bytes();
    assert_eq!(b.len(), 10);
    let s: u32 = (1..=10usize)
        .map(|n| dv(b[10 - n]) * if n <= 6 { n as u32 + 1 } else { n as u32 - 5 })
        .sum();
    let r = s % 11;
    if r <= 1 { 0 } else { 11 - r }
}

pub fn resident_ok(v: &str) -> bool {
    all_digits(v, 11) && resident_cd(&v[..10]) == dv(v.as_bytes()[10])
}

/// 保険者番号 (MHLW numbering rules as quoted in §3.7): from the rightmost body digit multiply
/// by 2,1,2,1,...; add the digits of each product; check = (10 - sum mod 10) mod 10.
pub fn insurer_cd(body: &str) -> u32 {
    let s: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let p = dv(c) * if i % 2 == 0 { 2 } else { 1 };
            p / 10 + p % 10
        })
        .sum();
    (10 - s % 10) % 10
}

pub fn insurer_ok(v: &str) -> bool {
    (all_digits(v, 8) || all_digits(v, 6)) && insurer_cd(&v[..v.len() - 1]) == dv(v.as_bytes()[v.len() - 1])
}

/// EAN-13 / JAN (GS1; §4 distractor validators): weights 1,3 from the left over 12 digits;
/// check = (10 - s mod 10) mod 10.
pub fn ean13_cd(first12: &str) -> u32 {
    let s: u32 = first12
        .bytes()
        .enumerate()
        .map(|(i, c)| dv(c) * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    (10 - s % 10) % 10
}

/// Luhn (ISO/IEC 7812-1): the check digit appended to `body`.
pub fn luhn_cd(body: &str) -> u32 {
    let s: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let mut p = dv(c) * if i % 2 == 0 { 2 } else { 1 };
            if p > 9 {
                p -= 9;
            }
            p
        })
        .sum();
    (10 - s % 10) % 10
}

pub fn luhn_ok(v: &str) -> bool {
    luhn_cd(&v[..v.len() - 1]) == dv(v.as_bytes()[v.len() - 1])
}

/// Yamato/Sagawa 7DR (§3.1, §4): last digit = the first 11 digits as an integer, mod 7.
pub fn tracking_cd(first11: &str) -> u64 {
    first11.parse::<u64>().unwrap() % 7
}

// ---------------------------------------------------------------------------------------------
// Text helpers.

/// ASCII letters, digits, `-` and space to their full-width forms (U+FF01.., `－`, U+3000).
pub fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' | 'A'..='Z' | 'a'..='z' => char::from_u32(c as u32 + 0xFEE0).unwrap(),
            '-' => '－',
            ' ' => '\u{3000}',
            _ => c,
        })
        .collect()
}

/// `s` cut into groups of `sizes`, joined by `sep`.
pub fn group(s: &str, sizes: &[usize], sep: &str) -> String {
    let mut out = String::new();
    let mut at = 0;
    for (k, n) in sizes.iter().enumerate() {
        if k > 0 {
            out.push_str(sep);
        }
        out.push_str(&s[at..at + n]);
        at += n;
    }
    assert_eq!(at, s.len());
    out
}

// ---------------------------------------------------------------------------------------------
// Ground truth.

/// One generated value: a true code (`rule` set) or a look-alike (`rule` is `None`).
#[derive(Debug, Clone)]
pub struct Item {
    pub path: String,
    pub line: usize,
    /// 1-based character columns of the value on its line, inclusive.
    pub col_start: usize,
    pub col_end: usize,
    pub rule: Option<&'static str>,
    /// What was generated: `memo same-line 4-4-4 space`, `csv order_no column`, ...
    pub class: String,
    pub text: String,
}

#[derive(Default)]
pub struct Line {
    text: String,
    chars: usize,
    marks: Vec<(usize, usize, Option<&'static str>, String, String)>,
}

impl Line {
    pub fn new() -> Line {
        Line::default()
    }

    /// Plain text.
    pub fn t(&mut self, s: &str) -> &mut Line {
        self.text.push_str(s);
        self.chars += s.chars().count();
        self
    }

    /// A true code of `rule`.
    pub fn truth(&mut self, rule: &'static str, class: &str, s: &str) -> &mut Line {
        self.mark(Some(rule), class, s)
    }

    /// A look-alike.
    pub fn fake(&mut self, class: &str, s: &str) -> &mut Line {
        self.mark(None, class, s)
    }

    fn mark(&mut self, rule: Option<&'static str>, class: &str, s: &str) -> &mut Line {
        let start = self.chars + 1;
        self.t(s);
        self.marks
            .push((start, self.chars, rule, class.to_string(), s.to_string()));
        self
    }

    fn tagged(&mut self, tag: &Tag, s: &str) -> &mut Line {
        match tag {
            Tag::None => self.t(s),
            Tag::True(rule, class) => self.truth(rule, class, s),
            Tag::Fake(class) => self.fake(class, s),
        }
    }
}

/// What a CSV cell or JSON value holds.
#[derive(Clone, Debug)]
pub enum Tag {
    None,
    True(&'static str, String),
    Fake(String),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    ShiftJis,
}

pub struct GenFile {
    /// Relative to the dump's parent directory, as the scanner reports it (`dump/...`).
    pub path: String,
    pub lines: Vec<String>,
    pub items: Vec<Item>,
    pub encoding: Encoding,
    pub crlf: bool,
}

impl GenFile {
    fn new(path: String, encoding: Encoding, crlf: bool) -> GenFile {
        GenFile {
            path,
            lines: Vec::new(),
            items: Vec::new(),
            encoding,
            crlf,
        }
    }

    pub fn push(&mut self, l: Line) {
        let n = self.lines.len() + 1;
        for (s, e, rule, class, text) in l.marks {
            self.items.push(Item {
                path: self.path.clone(),
                line: n,
                col_start: s,
                col_end: e,
                rule,
                class,
                text,
            });
        }
        self.lines.push(l.text);
    }

    pub fn plain(&mut self, s: &str) {
        let mut l = Line::new();
        l.t(s);
        self.push(l);
    }

    /// The file's bytes. Shift_JIS falls back to UTF-8 if a character has no mapping.
    pub fn bytes(&self) -> Vec<u8> {
        let nl = if self.crlf { "\r\n" } else { "\n" };
        let mut text = self.lines.join(nl);
        text.push_str(nl);
        match self.encoding {
            Encoding::Utf8 => text.into_bytes(),
            Encoding::Utf8Bom => {
                let mut b = vec![0xEF, 0xBB, 0xBF];
                b.extend_from_slice(text.as_bytes());
                b
            }
            Encoding::ShiftJis => {
                let (enc, _, errors) = SHIFT_JIS.encode(&text);
                if errors { text.into_bytes() } else { enc.into_owned() }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Values.

/// Class prefix of the other cells of a true health-insurance group (記号, 番号, 枝番 in their
/// own CSV column or JSON key): recorded to name what a finding hit, not counted as look-alikes.
pub const PART: &str = "part of a true health-insurance group";

fn part(name: &str, text: String) -> Cell {
    Cell {
        text,
        tag: Tag::Fake(format!("{PART}: {name} cell")),
    }
}

fn jpart(name: &str, text: String) -> J {
    J::Str(text, Tag::Fake(format!("{PART}: {name} value")))
}

pub const RULES: [&str; 9] = [
    "jp.my_number",
    "jp.drivers_license",
    "jp.passport",
    "jp.basic_pension_number",
    "jp.resident_code",
    "jp.employment_insurance_number",
    "jp.residence_card",
    "jp.special_permanent_resident",
    "jp.health_insurance",
];

/// Placeholders and sample values that a real record would not carry (jp-identifiers.md §2.3).
fn is_placeholder(v: &str) -> bool {
    let b = v.as_bytes();
    b.iter().all(|&c| c == b[0])
        || ["123456789018", "TK1234567", "AB1234567", "AB12345678CD"].contains(&v)
        || v.contains("1234567")
}

pub fn my_number(rng: &mut Rng) -> String {
    loop {
        let body = rng.digits(11);
        let v = format!("{body}{}", my_number_cd(&body));
        if !is_placeholder(&v) {
            return v;
        }
    }
}

pub fn drivers_license(rng: &mut Rng) -> String {
    let pp = rng.pick(&DL_COMMISSIONS);
    let yy = rng.pick(&[
        "68", "72", "75", "79", "81", "84", "88", "90", "93", "95", "98", "00", "03", "06", "09", "12", "15", "18",
        "21",
    ]);
    let first10 = format!("{pp}{yy}{}", rng.digits(6));
    let reissue = rng.weighted(&[('0', 8), ('1', 2), ('2', 1)]);
    format!("{first10}{}{reissue}", dl_cd(&first10))
}

pub fn passport(rng: &mut Rng) -> String {
    loop {
        let first = if rng.chance(0.6) { 'T' } else { 'M' };
        let v = format!("{first}{}{}", rng.letters(1), rng.digits(7));
        if !is_placeholder(&v) {
            return v;
        }
    }
}

pub fn pension(rng: &mut Rng) -> String {
    format!("{}{}", rng.range(1, 9), rng.digits(9))
}

pub fn resident_code(rng: &mut Rng) -> String {
    let body = rng.digits(10);
    format!("{body}{}", resident_cd(&body))
}

/// 雇用保険被保険者番号: the check digit is unpublished (§3.8), so the last digit is random.
pub fn employment_insurance(rng: &mut Rng) -> String {
    format!("{}{}", rng.range(1, 9), rng.digits(10))
}

pub fn card12(rng: &mut Rng) -> String {
    loop {
        let v = format!("{}{}{}", rng.letters(2), rng.digits(8), rng.letters(2));
        if !is_placeholder(&v) {
            return v;
        }
    }
}

/// An 8-digit insurer number (法別番号 of an insurer + prefecture + serial + check) or, for
/// 市町村国保 / 国保組合, a 6-digit one (§3.7).
pub fn insurer(rng: &mut Rng) -> String {
    let body = if rng.chance(0.8) {
        let law = rng.pick(&["01", "01", "06", "06", "06", "31", "32", "33", "34", "39", "63", "02"]);
        format!("{law}{:02}{}", rng.range(1, 47), rng.digits(3))
    } else {
        format!("{:02}{}", rng.range(1, 47), rng.digits(3))
    };
    format!("{body}{}", insurer_cd(&body))
}

pub struct Insured {
    pub insurer: String,
    pub symbol: String,
    pub number: String,
    pub branch: String,
}

pub fn insured(rng: &mut Rng) -> Insured {
    let symbol = match rng.below(4) {
        0 => rng
            .pick(&["千代田", "品川", "横浜中", "大阪北", "港", "新宿", "けんぽ"])
            .to_string(),
        1 => format!("{}", rng.range(1, 99)),
        2 => rng.digits(4),
        _ => rng.digits(8),
    };
    let number = match rng.below(3) {
        0 => format!("{}", rng.range(1, 999)),
        1 => format!("{}", rng.range(1000, 99999)),
        _ => rng.digits(8),
    };
    Insured {
        insurer: insurer(rng),
        symbol,
        number,
        branch: format!("{:02}", rng.weighted(&[(0, 6), (1, 2), (2, 1), (3, 1)])),
    }
}

/// A valid calendar date in 2019..=2025 as `YYYYMMDD`.
fn ymd(rng: &mut Rng) -> String {
    format!(
        "{}{:02}{:02}",
        rng.range(2019, 2025),
        rng.range(1, 12),
        rng.range(1, 28)
    )
}

/// An order number `YYYYMMDDnnnn` that passes the My Number check digit (§6).
pub fn order_number(rng: &mut Rng) -> String {
    loop {
        let v = format!("{}{}", ymd(rng), rng.digits(4));
        if my_number_ok(&v) {
            return v;
        }
    }
}

/// A 12-digit timestamp `YYYYMMDDhhmm` that passes the My Number or the driver's-licence check.
pub fn timestamp12(rng: &mut Rng) -> String {
    let want_dl = rng.chance(0.4);
    loop {
        let v = format!("{}{:02}{:02}", ymd(rng), rng.below(24), rng.below(60));
        if (want_dl && dl_ok(&v)) || (!want_dl && my_number_ok(&v)) {
            return v;
        }
    }
}

pub fn timestamp14(rng: &mut Rng) -> String {
    format!(
        "{}{:02}{:02}{:02}",
        ymd(rng),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    )
}

/// A Yamato-style 12-digit tracking number (7DR); most also pass the My Number check digit.
pub fn tracking(rng: &mut Rng) -> String {
    let want_mn = rng.chance(0.7);
    loop {
        let first11 = format!("{}{}", rng.pick(&["2", "3", "4", "5", "6"]), rng.digits(10));
        let v = format!("{first11}{}", tracking_cd(&first11));
        if !want_mn || my_number_ok(&v) {
            return v;
        }
    }
}

pub fn corporate(rng: &mut Rng) -> String {
    let base = format!(
        "{}{}",
        rng.pick(&[
            "0100", "0104", "0110", "1180", "2010", "3120", "4011", "5010", "6010", "7010"
        ]),
        rng.digits(8)
    );
    format!("{}{base}", corporate_cd(&base))
}

pub fn jan(rng: &mut Rng) -> String {
    let first12 = format!("{}{}", rng.pick(&["45", "49"]), rng.digits(10));
    format!("{first12}{}", ean13_cd(&first12))
}

pub fn card_number(rng: &mut Rng) -> String {
    let prefix = rng.pick(&["4", "4", "51", "52", "53", "54", "55", "35"]).to_string();
    let body = format!("{prefix}{}", rng.digits(15 - prefix.len()));
    format!("{body}{}", luhn_cd(&body))
}

pub fn product_code(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => "AB1234567".to_string(),
        1 => "TK1234567".to_string(),
        2..=5 => format!("{}{}{}", rng.pick(&["T", "M"]), rng.letters(1), rng.digits(7)),
        _ => format!("{}{}", rng.letters(2), rng.digits(7)),
    }
}

pub fn lot_code(rng: &mut Rng) -> String {
    if rng.chance(0.5) {
        format!("{}{}{}", rng.letters(2), ymd(rng), rng.letters(2))
    } else {
        format!("{}{}{}", rng.letters(2), rng.digits(8), rng.letters(2))
    }
}

/// 雇用保険適用事業所番号, `dddd-dddddd-d` like the insured person's number (§3.8).
pub fn office_number(rng: &mut Rng) -> String {
    format!("{}-{}-{}", rng.digits(4), rng.digits(6), rng.digits(1))
}

/// A phone number as people write it, with the name of its format.
pub fn phone(rng: &mut Rng) -> (String, &'static str) {
    let mobile = format!("0{}0", rng.pick(&["7", "8", "9"]));
    let (a, b) = (rng.digits(4), rng.digits(4));
    match rng.below(9) {
        0 | 1 => (format!("{mobile}-{a}-{b}"), "mobile 3-4-4"),
        2 => (format!("0{}-{a}-{b}", rng.pick(&["3", "6"])), "landline 2-4-4"),
        3 => (
            format!("0{}-{}-{b}", rng.range(11, 99), rng.digits(3)),
            "landline 3-3-4",
        ),
        4 => (
            format!(
                "{}-{}-{}",
                rng.pick(&["0120", "0570", "0800"]),
                rng.digits(3),
                rng.digits(3)
            ),
            "free dial 4-3-3",
        ),
        5 => (format!("+81 {} {a} {b}", &mobile[1..]), "+81 spaced"),
        6 => (format!("+81-{}-{a}-{b}", &mobile[1..]), "+81 hyphens"),
        7 => (format!("{mobile}{a}{b}"), "mobile 11 digits"),
        _ => (format!("0{}{a}{b}", rng.pick(&["3", "6"])), "landline 10 digits"),
    }
}

/// A person's phone: no free-dial numbers.
pub fn person_phone(rng: &mut Rng) -> (String, &'static str) {
    loop {
        let p = phone(rng);
        if !p.1.starts_with("free dial") {
            return p;
        }
    }
}

pub fn postal(rng: &mut Rng) -> String {
    format!("{}-{}", rng.range(100, 999), rng.digits(4))
}

/// An amount of 12 digits that passes the My Number check digit.
pub fn amount12(rng: &mut Rng) -> String {
    loop {
        let v = format!("{}{}", rng.range(1, 9), rng.digits(11));
        if my_number_ok(&v) {
            return v;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// People and prose.

const SURNAMES: [&str; 20] = [
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "清水",
    "斎藤",
];
const GIVEN: [&str; 16] = [
    "太郎",
    "花子",
    "一郎",
    "美咲",
    "翔太",
    "陽菜",
    "大輔",
    "由美",
    "健太",
    "さくら",
    "直樹",
    "愛",
    "拓也",
    "真由美",
    "蓮",
    "結衣",
];
const FOREIGN: [&str; 8] = [
    "グエン・ヴァン・アン",
    "キム・ミンジュ",
    "李 明",
    "マリア・サントス",
    "チャン・ティ・ハー",
    "朴 ソヨン",
    "ラジ・クマール",
    "王 偉",
];
const CITIES: [&str; 10] = [
    "東京都千代田区丸の内",
    "東京都港区芝公園",
    "大阪府大阪市北区梅田",
    "神奈川県横浜市西区みなとみらい",
    "愛知県名古屋市中村区名駅",
    "福岡県福岡市博多区博多駅前",
    "北海道札幌市中央区北一条西",
    "宮城県仙台市青葉区一番町",
    "京都府京都市下京区烏丸通",
    "広島県広島市中区紙屋町",
];
const COMPANIES: [&str; 8] = [
    "株式会社サンプル商事",
    "合同会社テスト企画",
    "ひかり物流株式会社",
    "株式会社みらいソフト",
    "東西産業株式会社",
    "株式会社さくら食品",
    "有限会社山田工務店",
    "株式会社ネクスト電機",
];

fn name(rng: &mut Rng, foreign: bool) -> String {
    if foreign {
        rng.pick(&FOREIGN).to_string()
    } else {
        format!("{} {}", rng.pick(&SURNAMES), rng.pick(&GIVEN))
    }
}

fn address(rng: &mut Rng) -> String {
    format!(
        "{}{}-{}-{}",
        rng.pick(&CITIES),
        rng.range(1, 9),
        rng.range(1, 20),
        rng.range(1, 30)
    )
}

fn date_ja(rng: &mut Rng) -> String {
    format!(
        "{}年{}月{}日",
        rng.range(2019, 2025),
        rng.range(1, 12),
        rng.range(1, 28)
    )
}

fn join_date(rng: &mut Rng) -> String {
    format!(
        "{}-{:02}-{:02}",
        rng.range(2005, 2025),
        rng.range(1, 12),
        rng.range(1, 28)
    )
}

fn date_iso(rng: &mut Rng) -> String {
    format!(
        "{}-{:02}-{:02}",
        rng.range(1950, 2004),
        rng.range(1, 12),
        rng.range(1, 28)
    )
}

/// A true code rendered for prose: (text, format name). The driver's-licence `第 … 号` form
/// carries its own label.
fn prose_value(rng: &mut Rng, rule: &str) -> (String, &'static str) {
    match rule {
        "jp.my_number" => {
            let v = my_number(rng);
            match rng.weighted(&[(0, 30), (1, 20), (2, 18), (3, 10), (4, 8), (5, 5), (6, 5), (7, 4)]) {
                0 => (group(&v, &[4, 4, 4], " "), "4-4-4 space"),
                1 => (group(&v, &[4, 4, 4], "-"), "4-4-4 hyphen"),
                2 => (v, "12 digits"),
                3 => (full_width(&group(&v, &[4, 4, 4], " ")), "full-width 4-4-4 space"),
                4 => (full_width(&group(&v, &[4, 4, 4], "-")), "full-width 4-4-4 hyphen"),
                5 => (full_width(&v), "full-width 12 digits"),
                6 => (group(&v, &[4, 4, 4], "ー"), "4-4-4 with ー"),
                _ => (group(&v, &[1; 12], " "), "digit boxes"),
            }
        }
        "jp.drivers_license" => {
            let v = drivers_license(rng);
            match rng.below(5) {
                0 | 1 => (v, "12 digits"),
                2 => (format!("第 {v} 号"), "第 … 号"),
                3 => (format!("第{}号", full_width(&v)), "full-width 第…号"),
                _ => (full_width(&v), "full-width 12 digits"),
            }
        }
        "jp.passport" => {
            let v = passport(rng);
            if rng.chance(0.15) {
                (full_width(&v), "full-width")
            } else {
                (v, "A2N7")
            }
        }
        "jp.basic_pension_number" => {
            let v = pension(rng);
            match rng.below(7) {
                0..=3 => (group(&v, &[4, 6], "-"), "4-6 hyphen"),
                4 | 5 => (v, "10 digits"),
                _ => (full_width(&group(&v, &[4, 6], "-")), "full-width 4-6"),
            }
        }
        "jp.resident_code" => {
            let v = resident_code(rng);
            if rng.chance(0.15) {
                (full_width(&v), "full-width")
            } else {
                (v, "11 digits")
            }
        }
        "jp.employment_insurance_number" => {
            let v = employment_insurance(rng);
            match rng.below(8) {
                0..=4 => (group(&v, &[4, 6, 1], "-"), "4-6-1 hyphen"),
                5 | 6 => (v, "11 digits"),
                _ => (full_width(&group(&v, &[4, 6, 1], "-")), "full-width 4-6-1"),
            }
        }
        "jp.residence_card" | "jp.special_permanent_resident" => {
            let v = card12(rng);
            if rng.chance(0.12) {
                (full_width(&v), "full-width")
            } else {
                (v, "A2N8A2")
            }
        }
        _ => unreachable!("{rule}"),
    }
}

/// A label of `rule` as written in prose.
fn prose_label(rng: &mut Rng, rule: &str) -> &'static str {
    match rule {
        "jp.my_number" => rng.pick(&[
            "個人番号",
            "マイナンバー",
            "マイナンバー（個人番号）",
            "個人番号カードの番号",
            "My Number",
            "マイナンバー",
            "個人番号",
        ]),
        "jp.drivers_license" => rng.pick(&[
            "運転免許証番号",
            "免許証番号",
            "運転免許番号",
            "免許番号",
            "Driver's License No.",
            "運転免許証No.",
        ]),
        "jp.passport" => rng.pick(&[
            "旅券番号",
            "パスポート番号",
            "パスポートNo.",
            "Passport No.",
            "旅券番号",
        ]),
        "jp.basic_pension_number" => rng.pick(&["基礎年金番号", "年金番号", "年金手帳の番号", "基礎年金番号"]),
        "jp.resident_code" => rng.pick(&["住民票コード", "住民票コード", "住民票ｺｰﾄﾞ"]),
        "jp.employment_insurance_number" => rng.pick(&["雇用保険被保険者番号", "雇用保険番号", "雇用保険被保険者番号"]),
        "jp.residence_card" => rng.pick(&["在留カード番号", "在留カード", "Residence Card No."]),
        "jp.special_permanent_resident" => {
            rng.pick(&["特別永住者証明書番号", "特別永住者証明書の番号", "特別永住者証明書"])
        }
        _ => unreachable!("{rule}"),
    }
}

/// A true code in a memo: the label on the same line, or on the line before. Returns lines.
fn prose_true(rng: &mut Rng, rule: &'static str, person: &str) -> Vec<Line> {
    if rule == "jp.health_insurance" {
        return vec![prose_health(rng)];
    }
    let (value, fmt) = prose_value(rng, rule);
    let label = prose_label(rng, rule);
    let enclosed = fmt.contains('第');
    let suffix = rng.pick(&["", "", "。", "（原本確認済）", " (コピー受領)", "　※控え", " です。"]);
    let style = if fmt == "digit boxes" { 0 } else { rng.below(10) };
    match style {
        // Label on the line before, value alone on its line.
        0..=2 if fmt != "digit boxes" => {
            let mut l1 = Line::new();
            if rng.chance(0.2) {
                l1.t("【").t(label).t("】");
            } else {
                l1.t(rng.pick(&["", "■", "・"]))
                    .t(label)
                    .t(rng.pick(&["：", "", "は以下のとおり。", "（控え）"]));
            }
            let mut l2 = Line::new();
            l2.t(rng.pick(&["", "  ", "　"]))
                .truth(rule, &format!("memo label on previous line, {fmt}"), &value)
                .t(suffix);
            vec![l1, l2]
        }
        // A sentence.
        3 | 4 => {
            let mut l = Line::new();
            if enclosed {
                l.t(&format!("{person}さんの運転免許証は"))
                    .truth(rule, &format!("memo sentence, {fmt}"), &value)
                    .t("（有効期限まで3年）。");
            } else {
                l.t(&format!("{person}さんの{label}は"))
                    .truth(rule, &format!("memo sentence, {fmt}"), &value)
                    .t(rng.pick(&["です。", "。", "とのこと。"]));
            }
            vec![l]
        }
        // Label and value on one line.
        _ => {
            let mut l = Line::new();
            l.t(rng.pick(&["", "・", "- ", "本人確認：", "  "]));
            if enclosed {
                l.t(rng.pick(&["運転免許証 ", "免許証：", "運転免許証（", ""]));
            } else {
                l.t(label).t(rng.pick(&[": ", "：", " ", "　", "："]));
            }
            l.truth(rule, &format!("memo same line, {fmt}"), &value).t(suffix);
            vec![l]
        }
    }
}

/// 保険者番号 with 記号・番号(・枝番) on one line, in the orders people write them.
fn prose_health(rng: &mut Rng) -> Line {
    let i = insured(rng);
    let fw = rng.chance(0.1);
    let ins = if fw { full_width(&i.insurer) } else { i.insurer.clone() };
    let (text, fmt) = match rng.weighted(&[(0, 30), (1, 20), (2, 20), (3, 15), (4, 10), (5, 5)]) {
        0 => (
            format!("保険者番号 {ins} 記号 {} 番号 {} 枝番 {}", i.symbol, i.number, i.branch),
            "保険者番号 記号 番号 枝番",
        ),
        1 => (
            format!(
                "保険者番号：{ins}　被保険者証記号：{}　被保険者証番号：{}",
                i.symbol, i.number
            ),
            "保険者番号 被保険者証記号 被保険者証番号",
        ),
        2 => (
            format!(
                "保険者番号 {ins}、記号 {}、番号 {}、枝番 {}",
                i.symbol, i.number, i.branch
            ),
            "comma separated",
        ),
        3 => (
            format!(
                "記号 {} 番号 {}（枝番 {}） 保険者番号 {ins}",
                i.symbol, i.number, i.branch
            ),
            "card order: 記号 番号 then 保険者番号",
        ),
        4 => (
            format!(
                "保険者番号:{ins} 被保険者記号:{} 被保険者番号:{} 枝番:{}",
                i.symbol, i.number, i.branch
            ),
            "被保険者記号 被保険者番号",
        ),
        _ => (
            format!(
                "記号・番号 {}・{} (枝番){} 保険者番号 {ins}",
                i.symbol, i.number, i.branch
            ),
            "記号・番号 form",
        ),
    };
    let mut l = Line::new();
    l.t(rng.pick(&["健康保険証：", "保険証 ", "・健康保険被保険者証 ", "", "資格確認書："]))
        .truth(
            "jp.health_insurance",
            &format!("memo health{}, {fmt}", if fw { " full-width" } else { "" }),
            &text,
        )
        .t(rng.pick(&["", "。", "（本人）", "（扶養）"]));
    l
}

/// Look-alikes that belong in an HR memo about a person, by kind (0..9).
fn hr_fake(rng: &mut Rng, who: &str, kind: usize) -> Line {
    let mut l = Line::new();
    match kind {
        0 | 1 => {
            let (p, fmt) = person_phone(rng);
            let label = rng.pick(&["TEL", "TEL：", "電話番号 ", "携帯：", "携帯電話 ", "FAX "]);
            l.t("連絡先 ").t(label).fake(&format!("memo phone labelled, {fmt}"), &p);
        }
        2 => {
            let (p, fmt) = person_phone(rng);
            l.t(&format!("緊急連絡先：{who}（母） "))
                .fake(&format!("memo phone after 緊急連絡先, {fmt}"), &p);
        }
        3 => {
            l.t("住所 〒")
                .fake("memo postal 〒", &postal(rng))
                .t(" ")
                .t(&address(rng));
        }
        4 => {
            let c = corporate(rng);
            l.t(&format!("前職：{}（法人番号 ", rng.pick(&COMPANIES)))
                .fake("memo 法人番号 labelled", &c)
                .t("）");
        }
        5 => {
            let label = rng.pick(&["事業所番号 ", "雇用保険適用事業所番号：", "適用事業所番号 "]);
            l.t(label).fake(
                &format!("memo {} 4-6-1", label.trim_end_matches([' ', '：'])),
                &office_number(rng),
            );
        }
        6 => {
            l.t(&format!(
                "加入健保：{}健康保険組合（保険者番号 ",
                rng.pick(&["関東IT", "東京薬業", "全国食品"])
            ))
            .fake("memo insurer number alone", &insurer(rng))
            .t("）");
        }
        7 => {
            l.t(&format!(
                "給与振込口座：{}銀行 {}支店 普通 ",
                rng.pick(&["みずほ", "三井住友", "りそな"]),
                rng.pick(&["本店", "新宿", "梅田"])
            ))
            .fake("memo bank account 7 digits", &rng.digits(7));
        }
        _ => {
            let (p, fmt) = person_phone(rng);
            l.t(&format!("{who} "))
                .fake(&format!("memo bare phone after a name, {fmt}"), &p);
        }
    }
    l
}

// ---------------------------------------------------------------------------------------------
// Files.

fn memo_encoding(rng: &mut Rng) -> (Encoding, bool) {
    let e = rng.weighted(&[(Encoding::Utf8, 8), (Encoding::ShiftJis, 2)]);
    (e, rng.chance(0.2))
}

/// Rules weighted by how often the code turns up in HR storage.
fn pick_rule(rng: &mut Rng, foreign: bool) -> &'static str {
    if foreign {
        rng.weighted(&[
            ("jp.residence_card", 5),
            ("jp.special_permanent_resident", 3),
            ("jp.passport", 3),
            ("jp.my_number", 2),
            ("jp.employment_insurance_number", 1),
            ("jp.health_insurance", 1),
        ])
    } else {
        rng.weighted(&[
            ("jp.my_number", 5),
            ("jp.drivers_license", 4),
            ("jp.passport", 2),
            ("jp.basic_pension_number", 3),
            ("jp.resident_code", 2),
            ("jp.employment_insurance_number", 3),
            ("jp.health_insurance", 3),
        ])
    }
}

/// HR memos: per person a paragraph with true codes and the look-alikes around them.
fn hr_memo(rng: &mut Rng, path: String) -> GenFile {
    let (enc, crlf) = memo_encoding(rng);
    let mut f = GenFile::new(path, enc, crlf);
    f.plain(rng.pick(&[
        "人事メモ（入社手続き）",
        "# 本人確認記録",
        "社会保険・雇用保険 手続きメモ",
        "採用手続き 進捗",
    ]));
    f.plain("");
    for _ in 0..rng.range(3, 6) {
        let foreign = rng.chance(0.25);
        let who = name(rng, foreign);
        let mut head = Line::new();
        match rng.below(3) {
            0 => head
                .t(&format!("■ {} {who} さん（社員番号 ", date_ja(rng)))
                .fake("memo 6-digit employee number", &rng.digits(6))
                .t("）"),
            1 => head.t(&format!("【{who}】入社日 {}", date_ja(rng))),
            _ => head.t(&format!("{} {who} 様 手続き記録", date_ja(rng))),
        };
        f.push(head);
        let mut blocks: Vec<Vec<Line>> = Vec::new();
        let mut used: Vec<&str> = Vec::new();
        for _ in 0..rng.range(1, 3) {
            let rule = pick_rule(rng, foreign);
            if used.contains(&rule) {
                continue;
            }
            used.push(rule);
            blocks.push(prose_true(rng, rule, &who));
        }
        // Sometimes two codes on one line.
        if !foreign && rng.chance(0.12) && !used.contains(&"jp.my_number") && !used.contains(&"jp.drivers_license") {
            let dl = drivers_license(rng);
            let (mn, fmt) = {
                let v = my_number(rng);
                (group(&v, &[4, 4, 4], " "), "4-4-4 space")
            };
            let mut l = Line::new();
            l.t("本人確認：運転免許証（")
                .truth(
                    "jp.drivers_license",
                    "memo two codes on a line, 第 … 号",
                    &format!("第 {dl} 号"),
                )
                .t("）、マイナンバー ")
                .truth("jp.my_number", &format!("memo two codes on a line, {fmt}"), &mn)
                .t(" を確認");
            blocks.push(vec![l]);
        }
        // Look-alikes of different kinds; an insurer number on its own only for a person whose
        // own insurance card is not in the paragraph (otherwise it would be ambiguous).
        let mut kinds: Vec<usize> = Vec::new();
        for _ in 0..rng.range(0, 3) {
            let k = rng.below(9);
            if kinds.contains(&k) || (k == 6 && used.contains(&"jp.health_insurance")) {
                continue;
            }
            kinds.push(k);
            let short = who.split([' ', '・']).next().unwrap_or(&who).to_string();
            blocks.push(vec![hr_fake(rng, &short, k)]);
        }
        rng.shuffle(&mut blocks);
        for b in blocks {
            for l in b {
                f.push(l);
            }
        }
        f.plain("");
    }
    f
}

/// Order and shipping mails: look-alikes only, labelled the way shops label them.
fn order_mail(rng: &mut Rng, path: String) -> GenFile {
    let (enc, crlf) = memo_encoding(rng);
    let mut f = GenFile::new(path, enc, crlf);
    let shop = rng.pick(&COMPANIES).to_string();
    f.plain(&format!("【{shop}】ご注文ありがとうございます"));
    f.plain("");
    f.plain(&format!("{} 様", name(rng, false)));
    let mut lines: Vec<Vec<Line>> = Vec::new();
    let mut l = Line::new();
    let on = order_number(rng);
    let label = rng.pick(&["ご注文番号：", "注文番号 ", "注文No. ", "受注番号："]);
    l.t(label).fake(
        &format!("mail order number, {}", label.trim_end_matches([' ', '：'])),
        &on,
    );
    lines.push(vec![l]);
    let mut l = Line::new();
    l.t(&format!(
        "ご注文日時：{} {:02}:{:02}",
        date_ja(rng),
        rng.below(24),
        rng.below(60)
    ));
    lines.push(vec![l]);
    let mut l = Line::new();
    l.t("お届け先：〒")
        .fake("mail postal 〒", &postal(rng))
        .t(" ")
        .t(&address(rng));
    lines.push(vec![l]);
    let (p, fmt) = phone(rng);
    let mut l = Line::new();
    l.t(rng.pick(&["お電話番号：", "TEL ", "電話 "]))
        .fake(&format!("mail phone labelled, {fmt}"), &p);
    lines.push(vec![l]);
    for _ in 0..rng.range(1, 3) {
        let mut l = Line::new();
        let code = product_code(rng);
        let j = jan(rng);
        l.t(&format!(
            "商品：{} ",
            rng.pick(&["ワイヤレスイヤホン", "電気ケトル", "収納ボックス", "USB充電器"])
        ))
        .t(rng.pick(&["型番 ", "品番：", "型番："]))
        .fake("mail product code 型番/品番", &code)
        .t(" JAN ")
        .fake("mail JAN labelled", &j)
        .t(&format!(" 数量 {}", rng.range(1, 5)));
        lines.push(vec![l]);
    }
    // Tracking number: label on the same line or the line before.
    let t = group(&tracking(rng), &[4, 4, 4], "-");
    if rng.chance(0.5) {
        let mut l = Line::new();
        let label = rng.pick(&["お問い合わせ伝票番号：", "伝票番号 ", "お問い合わせ番号："]);
        l.t("配送業者：ヤマト運輸 ")
            .t(label)
            .fake("mail tracking 4-4-4 labelled same line", &t);
        lines.push(vec![l]);
    } else {
        let mut l1 = Line::new();
        l1.t(rng.pick(&["【お問い合わせ伝票番号】", "伝票番号：", "お問い合わせ番号"]));
        let mut l2 = Line::new();
        l2.fake("mail tracking 4-4-4, label on previous line", &t);
        lines.push(vec![l1, l2]);
    }
    let c = card_number(rng);
    let mut l = Line::new();
    match rng.below(3) {
        0 => l
            .t("カード番号：")
            .fake("mail card number 4-4-4-4 labelled", &group(&c, &[4, 4, 4, 4], "-")),
        1 => l
            .t("お支払い：クレジットカード ")
            .fake("mail card number 4-4-4-4 spaced", &group(&c, &[4, 4, 4, 4], " ")),
        _ => l.t("決済 ").fake("mail card number 16 digits", &c),
    };
    lines.push(vec![l]);
    let mut l = Line::new();
    l.t(&format!(
        "合計金額：{},{:03}円（税込）",
        rng.range(1, 99),
        rng.below(1000)
    ));
    lines.push(vec![l]);
    let mut l = Line::new();
    let corp = corporate(rng);
    if rng.chance(0.5) {
        l.t(&format!("発行元：{shop} 登録番号 "))
            .fake("mail invoice T+13", &format!("T{corp}"));
    } else {
        l.t(&format!("{shop}（法人番号："))
            .fake("mail 法人番号 labelled", &corp)
            .t("）");
    }
    lines.push(vec![l]);
    let (p, fmt) = phone(rng);
    let mut l = Line::new();
    l.t("ご不明な点はカスタマーセンター ")
        .fake(&format!("mail bare phone in prose, {fmt}"), &p)
        .t(" までお問い合わせください。");
    lines.push(vec![l]);
    rng.shuffle(&mut lines[1..]);
    for b in lines {
        for l in b {
            f.push(l);
        }
    }
    f
}

/// Miscellaneous notes without any label: bare numbers of every kind, including bare valid
/// My Numbers (expected at low only).
fn bare_notes(rng: &mut Rng, path: String) -> GenFile {
    let (enc, crlf) = memo_encoding(rng);
    let mut f = GenFile::new(path, enc, crlf);
    f.plain(rng.pick(&["メモ", "覚え書き", "todo", "控え"]));
    for _ in 0..rng.range(10, 18) {
        let mut l = Line::new();
        l.t(rng.pick(&["", "- ", "・", "  "]));
        match rng.below(11) {
            0 | 1 => {
                let v = my_number(rng);
                if rng.chance(0.5) {
                    l.fake("notes bare valid My Number 4-4-4", &group(&v, &[4, 4, 4], " "));
                } else {
                    l.fake("notes bare valid My Number 12 digits", &v);
                }
            }
            2 => {
                l.fake("notes bare order number YYYYMMDDnnnn", &order_number(rng));
            }
            3 => {
                l.fake("notes bare 12-digit timestamp", &timestamp12(rng));
            }
            4 => {
                l.fake("notes bare 14-digit timestamp", &timestamp14(rng));
            }
            5 => {
                l.fake("notes bare card number 16 digits", &card_number(rng));
            }
            6 => {
                let c = card_number(rng);
                l.fake("notes bare card number 4-4-4-4", &group(&c, &[4, 4, 4, 4], " "));
            }
            7 => {
                l.fake("notes bare 法人番号", &corporate(rng));
            }
            8 => {
                l.fake("notes bare JAN", &jan(rng));
            }
            9 => {
                l.fake("notes bare tracking 4-4-4", &group(&tracking(rng), &[4, 4, 4], "-"));
            }
            _ => {
                let (p, fmt) = phone(rng);
                l.fake(&format!("notes bare phone, {fmt}"), &p);
            }
        }
        l.t(rng.pick(&["", "", " 済", " →確認中", " ※要確認", "（山田）"]));
        f.push(l);
    }
    f
}

/// Application logs: key=value pairs with order ids, timestamps and tracking numbers.
fn app_log(rng: &mut Rng, path: String) -> GenFile {
    let mut f = GenFile::new(path, Encoding::Utf8, false);
    for _ in 0..rng.range(15, 25) {
        let mut l = Line::new();
        l.t(&format!(
            "{}-{:02}-{:02}T{:02}:{:02}:{:02}+09:00 INFO ",
            rng.range(2023, 2025),
            rng.range(1, 12),
            rng.range(1, 28),
            rng.below(24),
            rng.below(60),
            rng.below(60)
        ));
        match rng.below(5) {
            0 => {
                l.t("order.created order_id=")
                    .fake("log order_id= YYYYMMDDnnnn", &order_number(rng));
                l.t(" ts=").fake("log ts= 12-digit timestamp", &timestamp12(rng));
            }
            1 => {
                l.t("shipment tracking=")
                    .fake("log tracking= 4-4-4", &group(&tracking(rng), &[4, 4, 4], "-"));
            }
            2 => {
                l.t("batch run_at=")
                    .fake("log run_at= 12-digit timestamp", &timestamp12(rng));
                l.t(" finished=")
                    .fake("log finished= 14-digit timestamp", &timestamp14(rng));
            }
            3 => {
                l.t("payment ok amount=").fake("log amount= 12 digits", &amount12(rng));
                l.t(" jan=").fake("log jan=", &jan(rng));
            }
            _ => {
                let (p, fmt) = phone(rng);
                l.t("sms sent tel=").fake(&format!("log tel=, {fmt}"), &p);
            }
        }
        f.push(l);
    }
    f
}

/// Company memos: corporate numbers, invoice numbers, employer office numbers, phones.
fn company_memo(rng: &mut Rng, path: String) -> GenFile {
    let (enc, crlf) = memo_encoding(rng);
    let mut f = GenFile::new(path, enc, crlf);
    f.plain("取引先メモ");
    for _ in 0..rng.range(3, 6) {
        f.plain("");
        let co = rng.pick(&COMPANIES).to_string();
        let corp = corporate(rng);
        let mut l = Line::new();
        l.t(&format!("{co} 法人番号 ")).fake("company 法人番号 labelled", &corp);
        f.push(l);
        let mut l = Line::new();
        l.t(rng.pick(&["インボイス登録番号：", "適格請求書発行事業者登録番号 ", "登録番号 "]))
            .fake("company invoice T+13", &format!("T{corp}"));
        f.push(l);
        let mut l = Line::new();
        let label = rng.pick(&["雇用保険適用事業所番号 ", "事業所番号：", "適用事業所番号 "]);
        l.t(label).fake(
            &format!("company {} 4-6-1", label.trim_end_matches([' ', '：'])),
            &office_number(rng),
        );
        f.push(l);
        let (p, fmt) = phone(rng);
        let mut l = Line::new();
        l.t("代表 TEL ").fake(&format!("company phone labelled, {fmt}"), &p);
        f.push(l);
        let mut l = Line::new();
        l.t("所在地 〒")
            .fake("company postal 〒", &postal(rng))
            .t(" ")
            .t(&address(rng));
        f.push(l);
        let mut l = Line::new();
        l.t(rng.pick(&["年間売上高 ", "前期売上：", "年間取引額 "]))
            .fake("company amount 12 digits 円", &amount12(rng))
            .t(rng.pick(&["円", " 円", "円（税抜）"]));
        f.push(l);
    }
    f
}

// ----- CSV -----

struct Cell {
    text: String,
    tag: Tag,
}

fn cell(text: impl Into<String>) -> Cell {
    Cell {
        text: text.into(),
        tag: Tag::None,
    }
}

fn tcell(rule: &'static str, class: String, text: String) -> Cell {
    Cell {
        text,
        tag: Tag::True(rule, class),
    }
}

fn fcell(class: String, text: String) -> Cell {
    Cell {
        text,
        tag: Tag::Fake(class),
    }
}

fn csv_file(rng: &mut Rng, path: String, header: &[&str], rows: Vec<Vec<Cell>>) -> GenFile {
    let enc = rng.weighted(&[(Encoding::Utf8, 5), (Encoding::Utf8Bom, 3), (Encoding::ShiftJis, 2)]);
    let crlf = enc != Encoding::Utf8 || rng.chance(0.3);
    let quote_all = rng.chance(0.3);
    let mut f = GenFile::new(path, enc, crlf);
    let mut l = Line::new();
    for (k, h) in header.iter().enumerate() {
        if k > 0 {
            l.t(",");
        }
        if quote_all {
            l.t("\"").t(h).t("\"");
        } else {
            l.t(h);
        }
    }
    f.push(l);
    for row in rows {
        let mut l = Line::new();
        for (k, c) in row.iter().enumerate() {
            if k > 0 {
                l.t(",");
            }
            let q = quote_all || c.text.contains(',');
            if q {
                l.t("\"");
            }
            l.tagged(&c.tag, &c.text);
            if q {
                l.t("\"");
            }
        }
        f.push(l);
    }
    f
}

/// A true code as stored in a CSV cell or JSON string: (text, format name).
fn stored_value(rng: &mut Rng, rule: &str) -> (String, &'static str) {
    match rule {
        "jp.my_number" => {
            let v = my_number(rng);
            match rng.weighted(&[(0, 45), (1, 25), (2, 25), (3, 5)]) {
                0 => (v, "12 digits"),
                1 => (group(&v, &[4, 4, 4], "-"), "4-4-4 hyphen"),
                2 => (group(&v, &[4, 4, 4], " "), "4-4-4 space"),
                _ => (full_width(&v), "full-width 12 digits"),
            }
        }
        "jp.drivers_license" => (drivers_license(rng), "12 digits"),
        "jp.passport" => (passport(rng), "A2N7"),
        "jp.basic_pension_number" => {
            let v = pension(rng);
            if rng.chance(0.7) {
                (group(&v, &[4, 6], "-"), "4-6 hyphen")
            } else {
                (v, "10 digits")
            }
        }
        "jp.resident_code" => (resident_code(rng), "11 digits"),
        "jp.employment_insurance_number" => {
            let v = employment_insurance(rng);
            if rng.chance(0.7) {
                (group(&v, &[4, 6, 1], "-"), "4-6-1 hyphen")
            } else {
                (v, "11 digits")
            }
        }
        "jp.residence_card" | "jp.special_permanent_resident" => (card12(rng), "A2N8A2"),
        _ => unreachable!("{rule}"),
    }
}

/// Column headers (and JSON keys) that name each rule's value.
fn column_names(rule: &str) -> &'static [&'static str] {
    match rule {
        "jp.my_number" => &[
            "個人番号",
            "マイナンバー",
            "my_number",
            "mynumber",
            "kojin_bango",
            "individual_number",
        ],
        "jp.drivers_license" => &[
            "運転免許証番号",
            "免許証番号",
            "license_no",
            "drivers_license",
            "menkyo_no",
            "dl_number",
        ],
        "jp.passport" => &[
            "旅券番号",
            "パスポート番号",
            "passport_no",
            "passport_number",
            "ryoken_bango",
        ],
        "jp.basic_pension_number" => &[
            "基礎年金番号",
            "年金番号",
            "basic_pension_number",
            "pension_no",
            "kiso_nenkin_bango",
        ],
        "jp.resident_code" => &["住民票コード", "juminhyo_code", "resident_code"],
        "jp.employment_insurance_number" => &[
            "雇用保険被保険者番号",
            "雇用保険番号",
            "employment_insurance_number",
            "koyo_hoken_no",
        ],
        "jp.residence_card" => &["在留カード番号", "residence_card_no", "zairyu_card_no"],
        "jp.special_permanent_resident" => &["特別永住者証明書番号", "special_permanent_resident_no"],
        _ => unreachable!("{rule}"),
    }
}

/// Employee rosters: person columns, phones and postal codes, one to three ID columns, and
/// sometimes an update timestamp.
fn roster_csv(rng: &mut Rng, path: String) -> GenFile {
    let foreign = rng.chance(0.3);
    let pool: &[&'static str] = if foreign {
        &[
            "jp.residence_card",
            "jp.special_permanent_resident",
            "jp.passport",
            "jp.my_number",
            "jp.employment_insurance_number",
        ]
    } else {
        &[
            "jp.my_number",
            "jp.drivers_license",
            "jp.passport",
            "jp.basic_pension_number",
            "jp.resident_code",
            "jp.employment_insurance_number",
        ]
    };
    let mut ids: Vec<&'static str> = Vec::new();
    for _ in 0..rng.range(1, 3) {
        let r = rng.pick(pool);
        if !ids.contains(&r) {
            ids.push(r);
        }
    }
    let with_health = rng.chance(0.25);
    let ts_col = rng.pick(&["", "", "更新日時", "updated_at", "登録日時"]);
    let tel_col = rng.pick(&["電話番号", "携帯電話", "tel", "連絡先電話番号"]);
    let mut header: Vec<String> = vec![
        "社員番号".into(),
        "氏名".into(),
        "生年月日".into(),
        "郵便番号".into(),
        "住所".into(),
        tel_col.into(),
    ];
    let names: Vec<&'static str> = ids.iter().map(|r| rng.pick(column_names(r))).collect();
    header.extend(names.iter().map(|s| s.to_string()));
    let hcols: [&str; 4] = if rng.chance(0.5) {
        ["保険者番号", "記号", "番号", "枝番"]
    } else {
        ["保険者番号", "被保険者証記号", "被保険者証番号", "枝番"]
    };
    if with_health {
        header.extend(hcols.iter().map(|s| s.to_string()));
    }
    header.push("入社日".into());
    if !ts_col.is_empty() {
        header.push(ts_col.into());
    }
    let mut rows = Vec::new();
    for _ in 0..rng.range(6, 14) {
        let mut row = vec![
            fcell("csv 6-digit employee number in 社員番号".into(), rng.digits(6)),
            cell(name(rng, foreign)),
            cell(date_iso(rng)),
            fcell("csv postal code in 郵便番号".into(), postal(rng)),
            cell(address(rng)),
        ];
        let (p, fmt) = person_phone(rng);
        row.push(fcell(format!("csv phone in {tel_col} column, {fmt}"), p));
        // A person holds a residence card or a special permanent resident certificate.
        let skip = if rng.chance(0.5) {
            "jp.residence_card"
        } else {
            "jp.special_permanent_resident"
        };
        let both = ids.contains(&"jp.residence_card") && ids.contains(&"jp.special_permanent_resident");
        for (r, col) in ids.iter().zip(&names) {
            if rng.chance(0.1) || (both && *r == skip) {
                row.push(cell(""));
            } else {
                let (v, fmt) = stored_value(rng, r);
                row.push(tcell(r, format!("csv column {col}, {fmt}"), v));
            }
        }
        if with_health {
            let i = insured(rng);
            row.push(tcell(
                "jp.health_insurance",
                format!("csv columns {}", hcols.join(",")),
                i.insurer,
            ));
            row.push(part(hcols[1], i.symbol));
            row.push(part(hcols[2], i.number));
            row.push(part(hcols[3], i.branch));
        }
        row.push(cell(join_date(rng)));
        if !ts_col.is_empty() {
            row.push(fcell(
                format!("csv 12-digit timestamp in {ts_col} column"),
                timestamp12(rng),
            ));
        }
        rows.push(row);
    }
    let h: Vec<&str> = header.iter().map(String::as_str).collect();
    csv_file(rng, path, &h, rows)
}

/// Health-insurance exports: one insured person per row.
fn insurance_csv(rng: &mut Rng, path: String) -> GenFile {
    let cols: &[&str] = rng.pick(&[
        &["社員番号", "氏名", "保険者番号", "記号", "番号", "枝番", "資格取得日"][..],
        &[
            "氏名",
            "生年月日",
            "保険者番号",
            "被保険者証記号",
            "被保険者証番号",
            "枝番",
        ][..],
        &[
            "member_id",
            "name",
            "insurer_number",
            "insured_card_symbol",
            "insured_identification_number",
            "insured_branch_number",
        ][..],
    ]);
    let mut rows = Vec::new();
    for _ in 0..rng.range(6, 14) {
        let i = insured(rng);
        let mut row = Vec::new();
        for c in cols {
            row.push(match *c {
                "保険者番号" | "insurer_number" => tcell(
                    "jp.health_insurance",
                    format!("csv columns {}", cols.join(",")),
                    i.insurer.clone(),
                ),
                "記号" | "被保険者証記号" | "insured_card_symbol" => part(c, i.symbol.clone()),
                "番号" | "被保険者証番号" | "insured_identification_number" => part(c, i.number.clone()),
                "枝番" | "insured_branch_number" => part(c, i.branch.clone()),
                "氏名" | "name" => cell(name(rng, false)),
                "生年月日" | "資格取得日" => cell(date_iso(rng)),
                _ => fcell(format!("csv 6-digit employee number in {c}"), rng.digits(6)),
            });
        }
        rows.push(row);
    }
    csv_file(rng, path, cols, rows)
}

/// A list of insurers (no person): insurer numbers with names and phone numbers.
fn insurer_list_csv(rng: &mut Rng, path: String) -> GenFile {
    let header = ["保険者番号", "保険者名", "所在地", "電話番号"];
    let mut rows = Vec::new();
    for _ in 0..rng.range(8, 15) {
        let (p, fmt) = phone(rng);
        rows.push(vec![
            fcell("csv insurer list: 保険者番号 without a person".into(), insurer(rng)),
            cell(format!(
                "{}健康保険組合",
                rng.pick(&["関東IT", "東京薬業", "全国食品", "大阪機械", "中部電子"])
            )),
            cell(address(rng)),
            fcell(format!("csv insurer list phone, {fmt}"), p),
        ]);
    }
    csv_file(rng, path, &header, rows)
}

/// Order exports.
fn orders_csv(rng: &mut Rng, path: String) -> GenFile {
    let ja = rng.chance(0.5);
    let header: Vec<&str> = if ja {
        vec![
            "注文番号",
            "注文日時",
            "顧客名",
            "電話番号",
            "郵便番号",
            "JANコード",
            "型番",
            "金額",
            "伝票番号",
            "カード番号",
        ]
    } else {
        vec![
            "order_no",
            "ordered_at",
            "customer",
            "tel",
            "zip",
            "jan",
            "model_no",
            "amount",
            "tracking_no",
            "card_number",
        ]
    };
    let mut rows = Vec::new();
    for _ in 0..rng.range(8, 16) {
        let (p, fmt) = phone(rng);
        let c = card_number(rng);
        let card = if rng.chance(0.5) {
            group(&c, &[4, 4, 4, 4], "-")
        } else {
            c
        };
        rows.push(vec![
            fcell(format!("csv {} column, YYYYMMDDnnnn", header[0]), order_number(rng)),
            fcell(
                format!("csv 12-digit timestamp in {} column", header[1]),
                timestamp12(rng),
            ),
            cell(name(rng, false)),
            fcell(format!("csv phone in {} column, {fmt}", header[3]), p),
            fcell(format!("csv postal code in {}", header[4]), postal(rng)),
            fcell(format!("csv JAN in {} column", header[5]), jan(rng)),
            fcell(format!("csv product code in {} column", header[6]), product_code(rng)),
            cell(format!("{}", rng.range(300, 99999))),
            fcell(
                format!("csv tracking 4-4-4 in {} column", header[8]),
                group(&tracking(rng), &[4, 4, 4], "-"),
            ),
            fcell(format!("csv card number in {} column", header[9]), card),
        ]);
    }
    csv_file(rng, path, &header, rows)
}

/// Client lists: corporate and invoice numbers, employer office numbers.
fn clients_csv(rng: &mut Rng, path: String) -> GenFile {
    let office_col = rng.pick(&["事業所番号", "雇用保険適用事業所番号", "適用事業所番号"]);
    let header = [
        "法人番号",
        "会社名",
        "登録番号",
        office_col,
        "代表電話",
        "所在地",
        "売上高（円）",
    ];
    let mut rows = Vec::new();
    for _ in 0..rng.range(6, 12) {
        let corp = corporate(rng);
        let (p, fmt) = phone(rng);
        rows.push(vec![
            fcell("csv 法人番号 column".into(), corp.clone()),
            cell(rng.pick(&COMPANIES).to_string()),
            fcell("csv 登録番号 column T+13".into(), format!("T{corp}")),
            fcell(format!("csv {office_col} column 4-6-1"), office_number(rng)),
            fcell(format!("csv phone in 代表電話 column, {fmt}"), p),
            cell(address(rng)),
            fcell("csv 12-digit amount in 売上高（円） column".into(), amount12(rng)),
        ]);
    }
    csv_file(rng, path, &header, rows)
}

/// Product masters and lot lists.
fn products_csv(rng: &mut Rng, path: String) -> GenFile {
    let header = ["品番", "型番", "JANコード", "商品名", "ロット番号", "価格"];
    let mut rows = Vec::new();
    for _ in 0..rng.range(8, 16) {
        rows.push(vec![
            fcell("csv product code in 品番 column".into(), product_code(rng)),
            fcell("csv product code in 型番 column".into(), product_code(rng)),
            fcell("csv JAN in JANコード column".into(), jan(rng)),
            cell(
                rng.pick(&["ワイヤレスイヤホン", "電気ケトル", "収納ボックス", "USB充電器"])
                    .to_string(),
            ),
            fcell("csv lot code A2N8A2 in ロット番号 column".into(), lot_code(rng)),
            cell(format!("{}", rng.range(300, 30000))),
        ]);
    }
    csv_file(rng, path, &header, rows)
}

// ----- JSON Lines -----

enum J {
    Str(String, Tag),
    Num(String, Tag),
    Obj(Vec<(String, J)>),
}

fn js(s: impl Into<String>) -> J {
    J::Str(s.into(), Tag::None)
}

fn write_json(l: &mut Line, j: &J) {
    match j {
        J::Str(s, tag) => {
            l.t("\"");
            let esc = serde_json::to_string(s).unwrap();
            l.tagged(tag, &esc[1..esc.len() - 1]);
            l.t("\"");
        }
        J::Num(s, tag) => {
            l.tagged(tag, s);
        }
        J::Obj(kv) => {
            l.t("{");
            for (k, (key, v)) in kv.iter().enumerate() {
                if k > 0 {
                    l.t(",");
                }
                l.t(&serde_json::to_string(key).unwrap()).t(":");
                write_json(l, v);
            }
            l.t("}");
        }
    }
}

fn jsonl_file(path: String, records: Vec<J>) -> GenFile {
    let mut f = GenFile::new(path, Encoding::Utf8, false);
    for r in records {
        let mut l = Line::new();
        write_json(&mut l, &r);
        f.push(l);
    }
    f
}

/// User exports: a flat or nested record per person.
fn users_jsonl(rng: &mut Rng, path: String) -> GenFile {
    let foreign = rng.chance(0.3);
    let pool: &[&'static str] = if foreign {
        &[
            "jp.residence_card",
            "jp.special_permanent_resident",
            "jp.passport",
            "jp.my_number",
        ]
    } else {
        &[
            "jp.my_number",
            "jp.drivers_license",
            "jp.passport",
            "jp.basic_pension_number",
            "jp.resident_code",
            "jp.employment_insurance_number",
        ]
    };
    let mut ids: Vec<&'static str> = Vec::new();
    for _ in 0..rng.range(1, 3) {
        let r = rng.pick(pool);
        if !ids.contains(&r) {
            ids.push(r);
        }
    }
    let keys: Vec<&'static str> = ids.iter().map(|r| rng.pick(column_names(r))).collect();
    let nested = rng.chance(0.25);
    let ts_key = rng.pick(&["updated_at", "updated_at", "last_login"]);
    let mut recs = Vec::new();
    for n in 0..rng.range(8, 16) {
        let mut kv: Vec<(String, J)> = vec![
            ("id".into(), J::Num(format!("{}", 1000 + n), Tag::None)),
            ("name".into(), js(name(rng, foreign))),
            ("birth_date".into(), js(date_iso(rng))),
        ];
        let (p, fmt) = person_phone(rng);
        kv.push((
            "tel".into(),
            J::Str(p, Tag::Fake(format!("jsonl phone in tel key, {fmt}"))),
        ));
        kv.push((
            "zip".into(),
            J::Str(postal(rng), Tag::Fake("jsonl postal code in zip key".into())),
        ));
        let mut docs: Vec<(String, J)> = Vec::new();
        let skip = if rng.chance(0.5) {
            "jp.residence_card"
        } else {
            "jp.special_permanent_resident"
        };
        let both = ids.contains(&"jp.residence_card") && ids.contains(&"jp.special_permanent_resident");
        for (r, key) in ids.iter().zip(&keys) {
            if both && *r == skip {
                continue;
            }
            let (v, fmt) = stored_value(rng, r);
            let numeric = v.bytes().all(|b| b.is_ascii_digit()) && !v.starts_with('0') && rng.chance(0.15);
            let place = if nested { "nested key" } else { "key" };
            let class = format!(
                "jsonl {place} {key}, {fmt}{}",
                if numeric { " as a JSON number" } else { "" }
            );
            let j = if numeric {
                J::Num(v, Tag::True(r, class))
            } else {
                J::Str(v, Tag::True(r, class))
            };
            docs.push((key.to_string(), j));
        }
        if nested {
            kv.push(("documents".into(), J::Obj(docs)));
        } else {
            kv.extend(docs);
        }
        if rng.chance(0.3) {
            kv.push((
                "last_order_no".into(),
                J::Str(order_number(rng), Tag::Fake("jsonl last_order_no key".into())),
            ));
        }
        let ts = if rng.chance(0.5) {
            J::Str(
                timestamp12(rng),
                Tag::Fake(format!("jsonl 12-digit timestamp in {ts_key} key")),
            )
        } else {
            J::Str(
                timestamp14(rng),
                Tag::Fake(format!("jsonl 14-digit timestamp in {ts_key} key")),
            )
        };
        kv.push((ts_key.into(), ts));
        recs.push(J::Obj(kv));
    }
    jsonl_file(path, recs)
}

/// Online eligibility (オンライン資格確認) results and insurance exports.
fn eligibility_jsonl(rng: &mut Rng, path: String) -> GenFile {
    let style = rng.below(3);
    let mut recs = Vec::new();
    for _ in 0..rng.range(8, 16) {
        let i = insured(rng);
        let rec = match style {
            0 => {
                let class =
                    "jsonl keys InsurerNumber/InsuredCardSymbol/InsuredIdentificationNumber/InsuredBranchNumber";
                J::Obj(vec![
                    (
                        "InsurerNumber".into(),
                        J::Str(i.insurer, Tag::True("jp.health_insurance", class.into())),
                    ),
                    ("InsuredCardSymbol".into(), jpart("InsuredCardSymbol", i.symbol)),
                    (
                        "InsuredIdentificationNumber".into(),
                        jpart("InsuredIdentificationNumber", i.number),
                    ),
                    ("InsuredBranchNumber".into(), jpart("InsuredBranchNumber", i.branch)),
                    (
                        "PersonalFamilyClassification".into(),
                        js(rng.pick(&["1", "2"]).to_string()),
                    ),
                    (
                        "Birthdate".into(),
                        J::Str(
                            date_iso(rng).replace('-', ""),
                            Tag::Fake("jsonl Birthdate YYYYMMDD".into()),
                        ),
                    ),
                ])
            }
            1 => {
                let class = "jsonl keys 保険者番号/記号/番号/枝番";
                J::Obj(vec![
                    ("氏名".into(), js(name(rng, false))),
                    (
                        "保険者番号".into(),
                        J::Str(i.insurer, Tag::True("jp.health_insurance", class.into())),
                    ),
                    ("記号".into(), jpart("記号", i.symbol)),
                    ("番号".into(), jpart("番号", i.number)),
                    ("枝番".into(), jpart("枝番", i.branch)),
                ])
            }
            _ => {
                let class = "jsonl nested insurance.insurer_number/symbol/number/branch";
                J::Obj(vec![
                    ("employee_id".into(), js(format!("E{}", rng.digits(5)))),
                    (
                        "insurance".into(),
                        J::Obj(vec![
                            (
                                "insurer_number".into(),
                                J::Str(i.insurer, Tag::True("jp.health_insurance", class.into())),
                            ),
                            ("symbol".into(), jpart("symbol", i.symbol)),
                            ("number".into(), jpart("number", i.number)),
                            ("branch".into(), jpart("branch", i.branch)),
                        ]),
                    ),
                ])
            }
        };
        recs.push(rec);
    }
    jsonl_file(path, recs)
}

/// Order events.
fn orders_jsonl(rng: &mut Rng, path: String) -> GenFile {
    let order_key = rng.pick(&["order_no", "注文番号", "orderNumber"]);
    let mut recs = Vec::new();
    for _ in 0..rng.range(8, 16) {
        let (p, fmt) = phone(rng);
        let c = card_number(rng);
        recs.push(J::Obj(vec![
            (
                order_key.into(),
                J::Str(order_number(rng), Tag::Fake(format!("jsonl {order_key} key"))),
            ),
            (
                "ordered_at".into(),
                J::Str(
                    timestamp14(rng),
                    Tag::Fake("jsonl 14-digit timestamp in ordered_at".into()),
                ),
            ),
            (
                "tel".into(),
                J::Str(p, Tag::Fake(format!("jsonl phone in tel key, {fmt}"))),
            ),
            ("jan".into(), J::Str(jan(rng), Tag::Fake("jsonl JAN in jan key".into()))),
            (
                "model_no".into(),
                J::Str(
                    product_code(rng),
                    Tag::Fake("jsonl product code in model_no key".into()),
                ),
            ),
            (
                "tracking_no".into(),
                J::Str(
                    group(&tracking(rng), &[4, 4, 4], "-"),
                    Tag::Fake("jsonl tracking_no key 4-4-4".into()),
                ),
            ),
            ("amount".into(), J::Num(format!("{}", rng.range(300, 99999)), Tag::None)),
            (
                "card_number".into(),
                J::Str(c, Tag::Fake("jsonl card_number key".into())),
            ),
        ]));
    }
    jsonl_file(path, recs)
}

/// Company exports.
fn companies_jsonl(rng: &mut Rng, path: String) -> GenFile {
    let mut recs = Vec::new();
    for _ in 0..rng.range(6, 12) {
        let corp = corporate(rng);
        let (p, fmt) = phone(rng);
        recs.push(J::Obj(vec![
            (
                "corporate_number".into(),
                J::Str(corp.clone(), Tag::Fake("jsonl corporate_number key".into())),
            ),
            (
                "invoice_registration_number".into(),
                J::Str(format!("T{corp}"), Tag::Fake("jsonl invoice T+13".into())),
            ),
            ("name".into(), js(rng.pick(&COMPANIES).to_string())),
            (
                "事業所番号".into(),
                J::Str(office_number(rng), Tag::Fake("jsonl 事業所番号 key 4-6-1".into())),
            ),
            (
                "tel".into(),
                J::Str(p, Tag::Fake(format!("jsonl phone in tel key, {fmt}"))),
            ),
        ]));
    }
    jsonl_file(path, recs)
}

// ---------------------------------------------------------------------------------------------

/// The whole dump, paths under `dump/`.
pub fn generate(seed: u64) -> Vec<GenFile> {
    let mut rng = Rng::new(seed);
    let mut files = Vec::new();
    type Maker = fn(&mut Rng, String) -> GenFile;
    let plan: [(&str, &str, usize, Maker); 15] = [
        ("dump/人事部/入社手続き/memo_", "txt", 80, hr_memo),
        ("dump/人事部/社員名簿/roster_", "csv", 45, roster_csv),
        ("dump/総務/保険/insurance_", "csv", 12, insurance_csv),
        ("dump/総務/保険/健保組合一覧_", "csv", 5, insurer_list_csv),
        ("dump/ec/mail/order_mail_", "txt", 45, order_mail),
        ("dump/ec/orders/orders_", "csv", 15, orders_csv),
        ("dump/営業/取引先/clients_", "csv", 10, clients_csv),
        ("dump/営業/取引先/memo_", "txt", 10, company_memo),
        ("dump/商品/master_", "csv", 8, products_csv),
        ("dump/export/users_", "jsonl", 30, users_jsonl),
        ("dump/export/eligibility_", "jsonl", 10, eligibility_jsonl),
        ("dump/export/orders_", "jsonl", 12, orders_jsonl),
        ("dump/export/companies_", "jsonl", 6, companies_jsonl),
        ("dump/misc/notes_", "txt", 20, bare_notes),
        ("dump/logs/app_", "log", 10, app_log),
    ];
    for (prefix, ext, n, make) in plan {
        for i in 0..n {
            files.push(make(&mut rng, format!("{prefix}{i:03}.{ext}")));
        }
    }
    files
}
