//! Deterministic generator of a synthetic storage dump for `tests/topics.rs`: biometric
//! enrolment exports, voiceprint tables, genome files, clinic, HR and union records (MUST FIND),
//! and the look-alikes of jp-identifiers.md §7 and §8 (MUST NOT FIND at medium or above):
//! product catalogues with thumbnails and text embeddings, IT incident logs full of 障害, payroll
//! 差押え, a lecture on the categories themselves, 健康保険組合 / 協同組合 / 管理組合, 経営信条,
//! ゲイン, race results, システム診断, がんばる.
//!
//! Every value is synthetic: names are drawn from lists of common names, vectors, templates and
//! sequences from a seeded splitmix64 generator. Each file records its ground truth as
//! [`Truth`] items: a line range, the rules that must be found there at medium or above, and the
//! rules that may be found there because the content truly is of that kind.

use encoding_rs::SHIFT_JIS;
use std::io::Write;

pub use crate::support::Rng;

// ---------------------------------------------------------------------------------------------
// Ground truth.

pub const FACE: &str = "biometric.face";
pub const FINGER: &str = "biometric.fingerprint";
pub const IRIS: &str = "biometric.iris";
pub const VOICE: &str = "biometric.voice";
pub const DNA: &str = "biometric.dna";
pub const MED_HISTORY: &str = "sensitive.medical_history";
pub const MED_CARE: &str = "sensitive.medical_care";
pub const CHECKUP: &str = "sensitive.health_checkup";
pub const CRIMINAL: &str = "sensitive.criminal_record";
pub const PROCEDURE: &str = "sensitive.criminal_procedure";
pub const UNION: &str = "sensitive.labor_union";
pub const GENETIC: &str = "sensitive.genetic";

/// What the test is told about the data: which rules the `処方薬` column maps to (read from
/// `patterns/sensitive.toml` by the test, see there).
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    pub prescription_rules: Vec<String>,
}

/// Lines `lo..=hi` of `path` hold data of class `class`: every rule of `expect` must be found
/// there at medium or above; rules of `tolerate` may be (the content truly is of that kind).
#[derive(Debug, Clone)]
pub struct Truth {
    pub class: &'static str,
    pub path: String,
    pub lo: usize,
    pub hi: usize,
    pub expect: Vec<String>,
    pub tolerate: Vec<String>,
}

/// One generated file. `must_not` files may hold no biometric or sensitive finding at medium or
/// above anywhere; in the others, a finding on a line is a true positive only where a [`Truth`]
/// expects or tolerates it.
pub struct GenFile {
    pub path: String,
    pub class: &'static str,
    pub must_not: bool,
    pub sjis: bool,
    pub crlf: bool,
    pub lines: Vec<String>,
    pub truths: Vec<Truth>,
    /// Rules that may be found on any line of the file (a memo about one person's case).
    pub tolerate: Vec<String>,
    /// Records (rows, objects, entries) in the file, for the size report.
    pub records: usize,
}

impl GenFile {
    fn new(path: String, class: &'static str, must_not: bool) -> GenFile {
        GenFile {
            path,
            class,
            must_not,
            sjis: false,
            crlf: false,
            lines: Vec::new(),
            truths: Vec::new(),
            tolerate: Vec::new(),
            records: 0,
        }
    }

    /// Appends a line and returns its 1-based number.
    fn line(&mut self, s: impl Into<String>) -> usize {
        let s = s.into();
        debug_assert!(!s.contains('\n'));
        self.lines.push(s);
        self.lines.len()
    }

    fn truth(&mut self, lo: usize, hi: usize, expect: &[&str], tolerate: &[&str]) {
        self.truths.push(Truth {
            class: self.class,
            path: self.path.clone(),
            lo,
            hi,
            expect: expect.iter().map(|s| s.to_string()).collect(),
            tolerate: tolerate.iter().map(|s| s.to_string()).collect(),
        });
    }

    pub fn text(&self) -> String {
        let nl = if self.crlf { "\r\n" } else { "\n" };
        let mut s = self.lines.join(nl);
        s.push_str(nl);
        s
    }

    pub fn bytes(&self) -> Vec<u8> {
        let text = self.text();
        if self.sjis {
            let (b, _, bad) = SHIFT_JIS.encode(&text);
            assert!(!bad, "{}: not encodable in Shift_JIS", self.path);
            b.into_owned()
        } else {
            text.into_bytes()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Building blocks.

const SURNAMES: &[&str] = &[
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
    "斎藤",
    "清水",
    "山崎",
    "森",
    "池田",
    "橋本",
    "阿部",
    "石川",
    "山下",
    "中島",
    "石井",
    "小川",
    "前田",
    "岡田",
    "長谷川",
    "藤田",
    "後藤",
    "近藤",
    "村上",
    "遠藤",
    "青木",
    "坂本",
];
const GIVEN: &[&str] = &[
    "太郎",
    "健一",
    "大輔",
    "翔太",
    "拓也",
    "直樹",
    "浩二",
    "誠",
    "亮",
    "悠斗",
    "花子",
    "由美",
    "恵子",
    "美咲",
    "陽子",
    "愛",
    "真由美",
    "優子",
    "彩",
    "さくら",
    "裕子",
    "明美",
    "千尋",
    "結衣",
    "蓮",
    "大和",
    "陽菜",
    "葵",
    "健太",
    "一郎",
];
const SURNAMES_R: &[&str] = &[
    "Sato",
    "Suzuki",
    "Takahashi",
    "Tanaka",
    "Ito",
    "Watanabe",
    "Yamamoto",
    "Nakamura",
    "Kobayashi",
    "Kato",
    "Yoshida",
    "Yamada",
    "Sasaki",
    "Matsumoto",
    "Inoue",
    "Kimura",
    "Smith",
    "Brown",
    "Miller",
    "Garcia",
];
const GIVEN_R: &[&str] = &[
    "Taro", "Kenichi", "Daisuke", "Shota", "Takuya", "Naoki", "Yumi", "Keiko", "Misaki", "Yoko", "Aya", "Sakura",
    "John", "Emily", "David", "Maria",
];
const DEPTS: &[&str] = &[
    "営業部",
    "総務部",
    "経理部",
    "製造部",
    "開発部",
    "物流センター",
    "品質保証部",
    "人事部",
];
const COURTS: &[&str] = &[
    "東京地方裁判所",
    "大阪地方裁判所",
    "横浜地方裁判所",
    "名古屋地方裁判所",
    "さいたま地方裁判所",
    "福岡地方裁判所",
];

#[derive(Clone)]
struct Person {
    surname: &'static str,
    given: &'static str,
    sep: &'static str,
    emp: String,
    dob: String,
}

impl Person {
    fn name(&self) -> String {
        format!("{}{}{}", self.surname, self.sep, self.given)
    }
}

fn person(rng: &mut Rng) -> Person {
    let y = rng.range(1955, 2003);
    let m = rng.range(1, 12);
    let d = rng.range(1, 28);
    let dob = match rng.below(3) {
        0 => format!("{y}-{m:02}-{d:02}"),
        1 => format!("{y}/{m}/{d}"),
        _ => format!("{y}年{m}月{d}日"),
    };
    let emp = match rng.below(3) {
        0 => format!("E{}", rng.range(10000, 99999)),
        1 => format!("{}", rng.range(100000, 999999)),
        _ => format!("HR-{}", rng.range(1000, 9999)),
    };
    Person {
        surname: rng.pick(SURNAMES),
        given: rng.pick(GIVEN),
        sep: rng.pick(&[" ", "　", "", " "]),
        emp,
        dob,
    }
}

fn romaji(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(GIVEN_R), rng.pick(SURNAMES_R))
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_row(cells: &[String]) -> String {
    cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(",")
}

pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for ch in bytes.chunks(3) {
        let n =
            (u32::from(ch[0]) << 16) | (u32::from(*ch.get(1).unwrap_or(&0)) << 8) | u32::from(*ch.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= ch.len() {
                out.push(char::from(T[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A vector of `n` floats; L2-normalised when `normed`, else scaled like an un-normalised
/// speaker embedding.
fn embedding(rng: &mut Rng, n: usize, normed: bool) -> Vec<f64> {
    let v: Vec<f64> = (0..n).map(|_| rng.gauss()).collect();
    if normed {
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.iter().map(|x| x / norm).collect()
    } else {
        let scale = 2.0 + rng.unit() * 8.0;
        v.iter().map(|x| x * scale).collect()
    }
}

#[derive(Clone, Copy)]
enum VecStyle {
    /// `[0.0123, -0.0456]` (Python `json.dumps`, shortest round-trip digits).
    JsonSpaced,
    /// `[0.0123,-0.0456]` (JavaScript `JSON.stringify`), float32 precision.
    JsonCompact,
    /// `[0.012300, -0.045600]` fixed six decimals.
    Fixed6,
    /// `0.0123,-0.0456` no brackets.
    Commas,
    /// `0.0123 -0.0456` space separated.
    Spaces,
}

fn vec_text(v: &[f64], style: VecStyle) -> String {
    let items: Vec<String> = match style {
        VecStyle::JsonSpaced | VecStyle::Commas | VecStyle::Spaces => v.iter().map(|x| format!("{x}")).collect(),
        VecStyle::JsonCompact => v.iter().map(|x| format!("{}", *x as f32)).collect(),
        VecStyle::Fixed6 => v.iter().map(|x| format!("{x:.6}")).collect(),
    };
    match style {
        VecStyle::JsonSpaced | VecStyle::Fixed6 => format!("[{}]", items.join(", ")),
        VecStyle::JsonCompact => format!("[{}]", items.join(",")),
        VecStyle::Commas => items.join(","),
        VecStyle::Spaces => items.join(" "),
    }
}

/// An ISO/IEC 19794-2:2005 finger minutiae record: `FMR\0`, version ` 20\0`, a 4-byte record
/// length, capture equipment, image size and resolution, one finger view with its minutiae
/// (6 bytes each) and no extended data.
fn fmr_record(rng: &mut Rng) -> Vec<u8> {
    let n = rng.range(18, 60);
    let total = 24 + 4 + 6 * n + 2;
    let mut v = b"FMR\0 20\0".to_vec();
    v.extend((total as u32).to_be_bytes());
    v.extend([0x00, 0x00]);
    let (w, h) = (rng.range(256, 512) as u16, rng.range(300, 560) as u16);
    v.extend(w.to_be_bytes());
    v.extend(h.to_be_bytes());
    v.extend(197u16.to_be_bytes());
    v.extend(197u16.to_be_bytes());
    v.push(1);
    v.push(0);
    v.push(rng.range(1, 10) as u8);
    v.push(0);
    v.push(rng.range(40, 100) as u8);
    v.push(n as u8);
    for _ in 0..n {
        let t = rng.range(1, 2) as u16;
        let x = rng.below(w as usize) as u16;
        let y = rng.below(h as usize) as u16;
        v.extend(((t << 14) | x).to_be_bytes());
        v.extend(y.to_be_bytes());
        v.push(rng.below(256) as u8);
        v.push(rng.range(30, 100) as u8);
    }
    v.extend([0, 0]);
    assert_eq!(v.len(), total);
    v
}

/// A real PNG thumbnail (gradient plus noise, zlib-compressed, CRCs computed).
fn png(rng: &mut Rng) -> Vec<u8> {
    let (w, h) = (rng.range(12, 24) as u32, rng.range(12, 24) as u32);
    let base = [rng.below(200) as u32, rng.below(200) as u32, rng.below(200) as u32];
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0u8);
        for x in 0..w {
            for c in base {
                raw.push(((c + x * 2 + y + rng.below(24) as u32) % 256) as u8);
            }
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).unwrap();
    let idat = z.finish().unwrap();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend((data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend(kind);
        out.extend(data);
        out.extend(crc.sum().to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &idat);
    chunk(b"IEND", &[]);
    out
}

fn timestamp(rng: &mut Rng) -> String {
    format!(
        "2024-{:02}-{:02} {:02}:{:02}:{:02}",
        rng.range(1, 12),
        rng.range(1, 28),
        rng.range(0, 23),
        rng.range(0, 59),
        rng.range(0, 59)
    )
}

fn reiwa_date(rng: &mut Rng) -> String {
    format!(
        "{}年{}月{}日",
        rng.range(2022, 2024),
        rng.range(1, 12),
        rng.range(1, 28)
    )
}

// ---------------------------------------------------------------------------------------------
// MUST FIND: biometric.

/// Enrolment exports (JSON Lines): name, employee id and the three modalities, in four layouts.
fn enrolment(rng: &mut Rng, k: usize) -> GenFile {
    let mut f = GenFile::new(
        format!("dump/biometric/enrolment_{k:02}.jsonl"),
        "enrolment_jsonl",
        false,
    );
    let layout = k % 4;
    let dims = if rng.chance(0.5) { 128 } else { 512 };
    let style = rng.pick(&[VecStyle::JsonSpaced, VecStyle::JsonCompact, VecStyle::Fixed6]);
    let model = if dims == 128 {
        rng.pick(&["dlib_face_recognition_resnet_model_v1", "facenet_128", "sface"])
    } else {
        rng.pick(&["buffalo_l/w600k_r50", "arcface_r100", "facenet512"])
    };
    let sep = if style_is_compact(style) { "," } else { ", " };
    let colon = if style_is_compact(style) { ":" } else { ": " };
    for _ in 0..rng.range(14, 30) {
        let p = person(rng);
        let face = rng.chance(0.95).then(|| vec_text(&embedding(rng, dims, true), style));
        let fp = rng.chance(0.9).then(|| base64(&fmr_record(rng)));
        let iris = rng.chance(0.8).then(|| base64(&rng.bytes(256)));
        let opt = |s: &Option<String>, quoted: bool| match s {
            Some(v) if quoted => json_str(v),
            Some(v) => v.clone(),
            None => "null".into(),
        };
        let enrolled = format!("\"{}\"", timestamp(rng).replace(' ', "T"));
        let (kf, kp, ki, kn, ke) = match layout {
            0 | 1 => (
                "face_embedding",
                "fingerprint_template",
                "iris_code",
                "name",
                "employee_id",
            ),
            2 => ("face_encoding", "fp_template", "iris_template", "name", "employee_id"),
            _ => ("顔特徴量", "指紋テンプレート", "虹彩コード", "氏名", "社員番号"),
        };
        let bio = [
            format!("\"{kf}\"{colon}{}", opt(&face, false)),
            format!("\"{kp}\"{colon}{}", opt(&fp, true)),
            format!("\"{ki}\"{colon}{}", opt(&iris, true)),
        ]
        .join(sep);
        let line = if layout == 1 {
            format!(
                "{{\"employee\"{colon}{{\"{kn}\"{colon}{}{sep}\"{ke}\"{colon}{}}}{sep}\"biometrics\"{colon}{{{bio}}}{sep}\"model\"{colon}\"{model}\"{sep}\"enrolled_at\"{colon}{enrolled}}}",
                json_str(&p.name()),
                json_str(&p.emp)
            )
        } else {
            format!(
                "{{\"{kn}\"{colon}{}{sep}\"{ke}\"{colon}{}{sep}{bio}{sep}\"model\"{colon}\"{model}\"{sep}\"enrolled_at\"{colon}{enrolled}}}",
                json_str(&p.name()),
                json_str(&p.emp)
            )
        };
        let n = f.line(line);
        let mut expect = Vec::new();
        if face.is_some() {
            expect.push(FACE);
        }
        if fp.is_some() {
            expect.push(FINGER);
        }
        if iris.is_some() {
            expect.push(IRIS);
        }
        f.truth(n, n, &expect, &[]);
        f.records += 1;
    }
    f
}

fn style_is_compact(s: VecStyle) -> bool {
    matches!(s, VecStyle::JsonCompact)
}

/// Voiceprint tables: `speaker_id,氏名,speaker_embedding` with a 192-float ECAPA-TDNN vector in
/// one quoted cell.
fn voiceprints(rng: &mut Rng, k: usize) -> GenFile {
    let sjis = k % 3 == 2;
    let mut f = GenFile::new(format!("dump/biometric/voiceprint_{k:02}.csv"), "voiceprint_csv", false);
    f.sjis = sjis;
    f.crlf = sjis;
    let style = rng.pick(&[
        VecStyle::JsonSpaced,
        VecStyle::Fixed6,
        VecStyle::Commas,
        VecStyle::Spaces,
    ]);
    let normed = rng.chance(0.5);
    let extra = rng.chance(0.5);
    f.line(if extra {
        "speaker_id,氏名,speaker_embedding,enrolled_at"
    } else {
        "speaker_id,氏名,speaker_embedding"
    });
    for i in 0..rng.range(14, 26) {
        let p = person(rng);
        let id = if k.is_multiple_of(2) {
            format!("spk_{:04}", i + 1)
        } else {
            format!("SPK-2024-{:04}", rng.range(1, 9999))
        };
        let v = vec_text(&embedding(rng, 192, normed), style);
        let mut cells = vec![id, p.name(), v];
        if extra {
            cells.push(timestamp(rng));
        }
        // A vector cell is always quoted (it holds commas or spaces).
        let row = cells
            .iter()
            .enumerate()
            .map(|(j, c)| if j == 2 { format!("\"{c}\"") } else { csv_cell(c) })
            .collect::<Vec<_>>()
            .join(",");
        let n = f.line(row);
        f.truth(n, n, &[VOICE], &[]);
        f.records += 1;
    }
    f
}

fn bases(rng: &mut Rng, n: usize) -> String {
    (0..n).map(|_| rng.pick(&['A', 'C', 'G', 'T'])).collect()
}

/// FASTA of patients' sequences. The file as a whole is genome data: one item per file.
fn fasta(rng: &mut Rng, k: usize) -> GenFile {
    let ext = rng.pick(&["fa", "fasta", "fna"]);
    let mut f = GenFile::new(format!("dump/genome/patients_{k:02}.{ext}"), "fasta", false);
    let build = rng.pick(&["GRCh38", "GRCh37", "hg38", "hg19"]);
    for _ in 0..rng.range(1, 3) {
        let chr = rng.pick(&["1", "2", "7", "11", "13", "17", "X"]);
        f.line(format!(
            ">patient_{:04} Homo sapiens chr{chr} {build}",
            rng.range(1, 2000)
        ));
        let len = rng.range(600, 2400);
        let seq = bases(rng, len);
        for chunk in seq.as_bytes().chunks(60) {
            f.line(String::from_utf8(chunk.to_vec()).unwrap());
        }
        f.records += 1;
    }
    let n = f.lines.len();
    f.truth(1, n, &[DNA], &[GENETIC]);
    f
}

/// VCF 4.2 with per-sample genotypes.
fn vcf(rng: &mut Rng, k: usize) -> GenFile {
    let mut f = GenFile::new(format!("dump/genome/cohort_{k:02}.vcf"), "vcf", false);
    let samples = rng.range(2, 6);
    f.line("##fileformat=VCFv4.2");
    f.line(format!("##fileDate=2024{:02}{:02}", rng.range(1, 12), rng.range(1, 28)));
    f.line(format!(
        "##source={}",
        rng.pick(&["GATK HaplotypeCaller v4.4", "DeepVariant 1.5.0", "bcftools 1.17"])
    ));
    f.line("##reference=GRCh38");
    for (c, len) in [
        ("chr1", 248956422),
        ("chr2", 242193529),
        ("chr7", 159345973),
        ("chr17", 83257441),
    ] {
        f.line(format!("##contig=<ID={c},length={len}>"));
    }
    f.line("##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Total Depth\">");
    f.line("##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">");
    f.line("##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Read Depth\">");
    let mut head = vec!["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    for s in 0..samples {
        head.push(format!("S{:03}", s + 1));
    }
    f.line(head.join("\t"));
    let mut pos = rng.range(10000, 90000);
    for _ in 0..rng.range(60, 150) {
        pos += rng.range(50, 20000);
        let r = rng.pick(&["A", "C", "G", "T"]);
        let a = loop {
            let a = rng.pick(&["A", "C", "G", "T"]);
            if a != r {
                break a;
            }
        };
        let id = if rng.chance(0.7) {
            format!("rs{}", rng.range(1000, 999_999_999))
        } else {
            ".".into()
        };
        let mut row = vec![
            rng.pick(&["chr1", "chr2", "chr7", "chr17"]).to_string(),
            pos.to_string(),
            id,
            r.into(),
            a.into(),
            format!("{}", rng.range(20, 99)),
            "PASS".into(),
            format!("DP={}", rng.range(20, 200)),
            "GT:DP".into(),
        ];
        let phased = rng.chance(0.3);
        for _ in 0..samples {
            let gt = rng.pick(&["0/0", "0/1", "1/1", "0/1", "0|1", "1|0"]);
            let gt = if phased {
                gt.replace('/', "|")
            } else {
                gt.replace('|', "/")
            };
            row.push(format!("{gt}:{}", rng.range(5, 60)));
        }
        f.line(row.join("\t"));
        f.records += 1;
    }
    let n = f.lines.len();
    f.truth(1, n, &[DNA], &[GENETIC]);
    f
}

// ---------------------------------------------------------------------------------------------
// MUST FIND: sensitive.

const DISEASES: &[&str] = &[
    "2型糖尿病",
    "高血圧症",
    "脂質異常症",
    "気管支喘息",
    "逆流性食道炎",
    "慢性胃炎",
    "腰椎椎間板ヘルニア",
    "片頭痛",
    "骨粗鬆症",
    "痛風",
    "甲状腺機能低下症",
    "うつ病",
    "慢性腎臓病",
    "アトピー性皮膚炎",
    "不眠症",
];
const HISTORY: &[&str] = &[
    "虫垂炎（20歳時手術）",
    "胆石症",
    "なし",
    "高血圧症",
    "脳梗塞（2019年）",
    "胃潰瘍",
    "なし",
    "子宮筋腫",
    "肺炎（2021年入院）",
    "B型肝炎キャリア",
];
const DRUGS: &[&str] = &[
    "メトホルミン塩酸塩錠500mg",
    "アムロジピン錠5mg",
    "ロスバスタチン錠2.5mg",
    "モンテルカスト錠10mg",
    "ボノプラザン錠10mg",
    "ロキソプロフェンNa錠60mg",
    "フェブキソスタット錠20mg",
    "レボチロキシンNa錠50μg",
    "エスシタロプラム錠10mg",
    "レバミピド錠100mg",
    "メトホルミン・シタグリプチン",
    "なし",
];

/// Clinic exports: `氏名,生年月日,病名,既往歴,処方薬` (sometimes with a leading 患者ID).
fn clinic(rng: &mut Rng, k: usize, map: &Mapping) -> GenFile {
    let sjis = k % 5 < 2;
    let mut f = GenFile::new(format!("dump/clinic/karte_export_{k:02}.csv"), "clinic_csv", false);
    f.sjis = sjis;
    f.crlf = sjis;
    let with_id = k % 2 == 1;
    f.line(if with_id {
        "患者ID,氏名,生年月日,病名,既往歴,処方薬"
    } else {
        "氏名,生年月日,病名,既往歴,処方薬"
    });
    for _ in 0..rng.range(15, 30) {
        let p = person(rng);
        let disease = if rng.chance(0.2) {
            format!("{}、{}", rng.pick(DISEASES), rng.pick(DISEASES))
        } else {
            rng.pick(DISEASES).to_string()
        };
        let drug = rng.pick(DRUGS).to_string();
        let mut cells = Vec::new();
        if with_id {
            cells.push(format!("P{}", rng.digits(7)));
        }
        cells.extend([
            p.name(),
            p.dob.clone(),
            disease,
            rng.pick(HISTORY).to_string(),
            drug.clone(),
        ]);
        let n = f.line(csv_row(&cells));
        let mut expect: Vec<&str> = vec![MED_HISTORY];
        if drug != "なし" {
            for r in &map.prescription_rules {
                if !expect.contains(&r.as_str()) {
                    expect.push(r);
                }
            }
        }
        // What the data maps 処方薬 to is expected; a prescription (施行令2条3号, 調剤) and a
        // health check-up value may be reported too.
        f.truth(n, n, &expect, &[MED_HISTORY, MED_CARE, CHECKUP]);
        f.records += 1;
    }
    f
}

fn offence(rng: &mut Rng) -> &'static str {
    rng.pick(&[
        "窃盗罪",
        "窃盗罪",
        "詐欺罪",
        "業務上横領罪",
        "傷害罪",
        "道路交通法違反（酒気帯び運転）",
    ])
}

fn sentence(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("懲役{}年、執行猶予{}年", rng.range(1, 2), rng.range(3, 5)),
        1 => format!("懲役1年{}月、執行猶予3年", rng.range(2, 6)),
        2 => format!("拘禁刑{}年、執行猶予{}年", rng.range(1, 2), rng.range(3, 4)),
        _ => format!(
            "懲役{}年{}月、執行猶予{}年",
            rng.range(1, 2),
            rng.range(2, 6),
            rng.range(3, 5)
        ),
    }
}

/// The sentences that state the conviction, in one of several phrasings.
fn conviction(rng: &mut Rng, subject: &str) -> Vec<String> {
    let court = rng.pick(COURTS);
    let date = reiwa_date(rng);
    let off = offence(rng);
    let sen = sentence(rng);
    match rng.below(4) {
        0 => vec![
            format!(
                "{subject}が{off}で起訴され、{date}に{court}で{sen}の有罪判決を受けたことを本人からの申告により確認しました。"
            ),
            "判決は控訴期間の経過により確定しています。".into(),
        ],
        1 => vec![format!(
            "{subject}は{date}、{off}で有罪判決（{sen}）を受け、同判決は確定した。"
        )],
        2 => vec![
            format!("{date}、{court}において{subject}に対し{off}により{sen}の判決が言い渡され、確定しました。"),
            "本人は執行猶予期間中です。".into(),
        ],
        _ => vec![
            format!("採用時に申告のなかった{off}の前科（{date}、{sen}の有罪判決）が判明しました。"),
            format!("{subject}も事実を認めています。"),
        ],
    }
}

/// HR memos on an employee's conviction, in four layouts.
fn conviction_memo(rng: &mut Rng, k: usize) -> GenFile {
    let ext = if k.is_multiple_of(3) { "md" } else { "txt" };
    let mut f = GenFile::new(format!("dump/hr/disciplinary_{k:02}.{ext}"), "conviction_memo", false);
    f.tolerate = vec![CRIMINAL.into(), PROCEDURE.into()];
    f.records = 1;
    let p = person(rng);
    let dept = rng.pick(DEPTS);
    let name = p.name();
    let tail = [
        "就業規則第52条に基づき、懲戒処分の要否を検討します。",
        "本件の取扱いは人事部内に限り、関係者以外への開示を禁じます。",
    ];
    match k % 4 {
        // One paragraph: name, employee number and the conviction together.
        0 => {
            f.line("人事部長 殿");
            f.line("");
            f.line("件名：社員の刑事事件に関する報告");
            f.line("");
            let subj = format!("{dept}所属の{name}（社員番号 {}）", p.emp);
            let sents = conviction(rng, &subj);
            let lo = f.lines.len() + 1;
            for s in sents {
                f.line(s);
            }
            let hi = f.line(tail[0]);
            f.truth(lo, hi, &[CRIMINAL], &[]);
            f.line("");
            f.line("以上");
        }
        // A subject block, then the conviction paragraph naming the person with さん.
        1 => {
            f.line(format!("懲戒検討メモ（{}）", reiwa_date(rng)));
            f.line("");
            f.line(format!("対象社員：{dept} {name}"));
            f.line(format!("社員番号：{}", p.emp));
            f.line("");
            let subj = format!("{}さん", p.surname);
            let lo = f.lines.len() + 1;
            for s in conviction(rng, &subj) {
                f.line(s);
            }
            let hi = f.line(tail[1]);
            f.truth(lo, hi, &[CRIMINAL], &[]);
        }
        // A subject block, then the conviction paragraph referring back to the employee (同人,
        // 同氏, 当該社員, 本人): the memo is about that one employee.
        2 => {
            f.line("人事部 記録");
            f.line("");
            f.line(format!("対象者：{name}（社員番号：{}、{dept}）", p.emp));
            f.line("");
            let lo = f.lines.len() + 1;
            // The anaphora HR writers use for "the said employee".
            let who = rng.pick(&["同人", "同氏", "当該社員", "本人"]);
            for s in conviction(rng, who) {
                f.line(s);
            }
            let hi = f.line(tail[0]);
            f.truth(lo, hi, &[CRIMINAL], &[]);
        }
        // A Markdown record with labelled items, one block.
        _ => {
            f.line("## 懲戒検討記録");
            f.line("");
            let lo = f.line(format!("- 氏名: {name}"));
            f.line(format!("- 社員番号: {}", p.emp));
            f.line(format!("- 所属: {dept}"));
            let sents = conviction(rng, "本人");
            f.line(format!("- 経緯: {}", sents.join("")));
            let hi = f.line(format!("- 対応: {}", tail[rng.below(2)]));
            f.truth(lo, hi, &[CRIMINAL], &[]);
        }
    }
    f
}

const UNIONS: &[&str] = &[
    "アオバ電機労働組合",
    "東和製作所労働組合",
    "全国一般東京労働組合",
    "みなと運輸労働組合",
    "情報産業労働組合連合会",
    "北斗銀行従業員組合（労働組合）",
];

/// Union membership lists: `氏名,社員番号,所属組合,組合員区分`.
fn union_list(rng: &mut Rng, k: usize) -> GenFile {
    let sjis = k.is_multiple_of(3);
    let mut f = GenFile::new(format!("dump/hr/union_members_{k:02}.csv"), "union_csv", false);
    f.sjis = sjis;
    f.crlf = sjis;
    f.line("氏名,社員番号,所属組合,組合員区分");
    let union = rng.pick(UNIONS);
    for _ in 0..rng.range(15, 30) {
        let p = person(rng);
        let kind = rng.pick(&[
            "一般組合員",
            "一般組合員",
            "一般組合員",
            "執行委員",
            "職場委員",
            "書記長",
        ]);
        let n = f.line(csv_row(&[p.name(), p.emp.clone(), union.into(), kind.into()]));
        f.truth(n, n, &[UNION], &[]);
        f.records += 1;
    }
    f
}

// ---------------------------------------------------------------------------------------------
// MUST NOT FIND.

const PRODUCTS: &[&str] = &[
    "ステンレスボトル 500ml ブラック",
    "ワイヤレスイヤホン Pro",
    "北欧風マグカップ 2個セット",
    "折りたたみ傘 晴雨兼用",
    "USB-C 充電ケーブル 1m",
    "珪藻土バスマット",
    "静音ワイヤレスマウス",
    "ノートPCスタンド アルミ",
    "アロマディフューザー",
    "防水スニーカー 26.5cm",
    "保温弁当箱 900ml",
    "LEDデスクライト 調光式",
];

/// Product catalogues: PNG thumbnails in base64 and 384/768-float item and text embeddings.
fn catalogue(rng: &mut Rng, k: usize) -> GenFile {
    let csv = k % 3 == 2;
    let path = if csv {
        format!("dump/shop/catalogue_{k:02}.csv")
    } else {
        format!("dump/shop/catalogue_{k:02}.jsonl")
    };
    let mut f = GenFile::new(path, "product_catalogue", true);
    if csv {
        f.line("sku,product_name,price,thumbnail,item_vector");
    }
    let data_uri = rng.chance(0.5);
    for _ in 0..rng.range(10, 18) {
        let sku = format!("SKU-{}", rng.digits(6));
        let name = rng.pick(PRODUCTS);
        let price = rng.range(5, 300) * 100 - 20;
        let thumb = base64(&png(rng));
        let normed = rng.chance(0.5);
        let item = vec_text(&embedding(rng, 384, normed), VecStyle::JsonSpaced);
        if csv {
            f.line(format!("{sku},{},{price},{thumb},\"{item}\"", csv_cell(name)));
        } else {
            let text = vec_text(&embedding(rng, 768, true), VecStyle::JsonCompact);
            let thumb = if data_uri {
                format!("data:image/png;base64,{thumb}")
            } else {
                thumb
            };
            let key = rng.pick(&["name", "product_name", "title"]);
            f.line(format!(
                "{{\"sku\": \"{sku}\", \"{key}\": {}, \"price\": {price}, \"thumbnail\": \"{thumb}\", \"item_vector\": {item}, \"text_embedding\": {text}}}",
                json_str(name)
            ));
        }
        f.records += 1;
    }
    f
}

/// IT incident logs and reports full of 障害 (システム障害, 通信障害, 障害対応, 障害報告…).
fn incident_log(rng: &mut Rng, k: usize) -> GenFile {
    let md = k.is_multiple_of(3);
    let path = if md {
        format!("dump/it/incident_report_{k:02}.md")
    } else {
        format!("dump/it/ops_{k:02}.log")
    };
    let mut f = GenFile::new(path, "it_incident_log", true);
    let hosts = [
        "web-prod-01",
        "web-prod-03",
        "api-gw-02",
        "db-master-01",
        "batch-05",
        "lb-ext-01",
    ];
    if md {
        let inc = format!("INC-2024-{:04}", rng.range(1, 999));
        let p = person(rng);
        let q = person(rng);
        let kind = rng.pick(&["通信障害", "システム障害", "ネットワーク障害", "サーバー障害"]);
        f.line(format!("# 障害報告書（{inc}）"));
        f.line("");
        let (mo, d, h) = (rng.range(1, 12), rng.range(1, 28), rng.range(0, 20));
        let mut minute = rng.range(0, 50);
        let mut at = |rng: &mut Rng| {
            minute += rng.range(3, 40);
            format!("2024-{mo:02}-{d:02} {:02}:{:02}", h + minute / 60, minute % 60)
        };
        let t0 = at(rng);
        f.line(format!("- 発生日時: {t0}"));
        f.line(format!("- 障害内容: {kind}により決済APIがタイムアウト"));
        f.line(format!("- 影響範囲: {} / 会員ログイン", rng.pick(&hosts)));
        f.line(format!("- 障害対応者: {}（社員番号 {}）", p.name(), p.emp));
        f.line(format!("- 報告者: {}", q.name()));
        f.line("");
        f.line("## 経緯");
        f.line("");
        f.line(format!("{t0} 監視アラートにより{kind}を検知。"));
        f.line(format!(
            "{} {}さんが障害対応を開始し、障害票を起票。",
            at(rng),
            p.surname
        ));
        f.line(format!(
            "{} 暫定対処としてフェイルオーバーを実施。システム障害は解消。",
            at(rng)
        ));
        f.line(format!("{} {}さんより関係部署へ障害報告を送付。", at(rng), q.surname));
        f.line("");
        f.line("## 再発防止策");
        f.line("");
        f.line("障害票の運用を見直し、障害報告のテンプレートを改訂する。通信障害時の切替手順を自動化する。");
        f.records = 1;
    } else {
        for _ in 0..rng.range(40, 70) {
            let ts = timestamp(rng);
            let h = rng.pick(&hosts);
            let p = person(rng);
            let line = match rng.below(11) {
                0 => format!(
                    "{ts} [ERROR] {h} 通信障害を検知しました (upstream timeout {}s)",
                    rng.range(5, 60)
                ),
                1 => format!("{ts} [WARN] {h} システム障害の可能性: エラー率 {}%", rng.range(5, 90)),
                2 => format!("{ts} [INFO] 障害対応開始 担当: {}さん", p.surname),
                3 => format!(
                    "{ts} [INFO] 障害報告 INC-2024-{:04} を起票しました (起票者: {})",
                    rng.range(1, 999),
                    p.name()
                ),
                4 => format!("{ts} [INFO] {h} 障害復旧を確認しました"),
                5 => format!("{ts} [ERROR] {h} ネットワーク障害: パケットロス {}%", rng.range(5, 60)),
                6 => format!("{ts} [INFO] 障害対応完了 対応者: {}（社員番号 {}）", p.name(), p.emp),
                7 => format!("{ts} [INFO] 障害報告書を{}さんに送付", p.surname),
                8 => format!("{ts} [WARN] {h} サーバー障害アラート (CPU {}%)", rng.range(80, 100)),
                9 => format!("{ts} [INFO] システム障害 一次切り分け完了 担当 {}様", p.surname),
                _ => format!("{ts} [DEBUG] {h} health check ok ({}ms)", rng.range(2, 400)),
            };
            f.line(line);
            f.records += 1;
        }
    }
    f
}

/// Payroll exports and memos with 給与差押え / 債権差押命令 (civil enforcement).
fn payroll(rng: &mut Rng, k: usize) -> GenFile {
    let memo = k % 3 == 2;
    if memo {
        let mut f = GenFile::new(
            format!("dump/payroll/garnishment_{k:02}.txt"),
            "payroll_garnishment",
            true,
        );
        let p = person(rng);
        let court = rng.pick(COURTS);
        f.line("件名：給与差押えの対応について");
        f.line("");
        f.line(format!(
            "{}さん（社員番号 {}）に関し、{court}より債権差押命令（令和6年(ル)第{}号）が送達されました。",
            p.name(),
            p.emp,
            rng.range(100, 9999)
        ));
        f.line(format!(
            "{}月支給分から給与差押えを開始し、差押債権者へ直接支払います。",
            rng.range(1, 12)
        ));
        f.line("第三債務者として陳述書を2週間以内に提出してください。");
        f.line("");
        f.line("給与計算担当");
        f.records = 1;
        return f;
    }
    let mut f = GenFile::new(format!("dump/payroll/payroll_{k:02}.csv"), "payroll_garnishment", true);
    f.sjis = k.is_multiple_of(2);
    f.crlf = f.sjis;
    f.line("社員番号,氏名,基本給,控除合計,差引支給額,備考");
    for _ in 0..rng.range(15, 30) {
        let p = person(rng);
        let base = rng.range(200, 600) * 1000;
        let ded = base / 5 + rng.range(0, 20000);
        let note = match rng.below(8) {
            0 => "債権差押命令により給与差押え".to_string(),
            1 => format!("給与差押え（差押債権額 {}円）", rng.range(10, 300) * 10000),
            2 => format!(
                "債権差押命令（{} 令和6年(ル)第{}号）受領",
                rng.pick(COURTS),
                rng.range(100, 9999)
            ),
            3 => "給与差押え継続中".into(),
            4 => "住民税特別徴収".into(),
            _ => String::new(),
        };
        f.line(csv_row(&[
            p.emp.clone(),
            p.name(),
            base.to_string(),
            ded.to_string(),
            (base - ded).to_string(),
            note,
        ]));
        f.records += 1;
    }
    f
}

const LECTURE: &[&str] = &[
    "要配慮個人情報とは、本人の人種、信条、社会的身分、病歴、犯罪の経歴、犯罪により害を被った事実その他本人に対する不当な差別、偏見その他の不利益が生じないようにその取扱いに特に配慮を要するものとして政令で定める記述等が含まれる個人情報をいう（法2条3項）。",
    "政令では、心身の機能の障害があること、健康診断等の結果、保健指導・診療・調剤が行われたこと、本人を被疑者又は被告人として逮捕、捜索、差押え、勾留、公訴の提起その他の刑事事件に関する手続が行われたこと、少年の保護事件に関する手続が行われたことが定められている（施行令2条）。",
    "「個人情報」とは、生存する個人に関する情報であって、当該情報に含まれる氏名、生年月日その他の記述等により特定の個人を識別することができるものをいう（法2条1項1号）。",
    "犯罪の経歴とは前科、すなわち有罪の判決を受けこれが確定した事実をいう。懲役や罰金刑の執行猶予が付いた場合も含まれる。",
    "病歴とは、病気に罹患した経歴を意味するもので、特定の病歴を示した部分（例：特定の個人ががんに罹患している、統合失調症を患っている等）が該当する。既往歴も同様である。",
    "単に宗教に関する書籍の購買や貸出しに係る情報等は、要配慮個人情報には含まない。",
    "要配慮個人情報を取得する場合には、原則としてあらかじめ本人の同意を得る必要がある（法20条2項）。また、オプトアウトによる第三者提供は認められない。",
    "金融分野ガイドラインでは、要配慮個人情報に労働組合への加盟、門地、本籍地、保健医療及び性生活に関する情報を加えたものを「機微（センシティブ）情報」とし、その取得・利用・第三者提供を原則として禁止している。",
    "社会的身分とは、ある個人にその境遇として固着していて、一生の間、自らの力によって容易にそれから脱し得ないような地位を意味し、単なる職業的地位や学歴は含まない。",
    "人種とは、人種、世系又は民族的若しくは種族的出身を広く意味する。なお、単純な国籍や「外国人」という情報は法的地位であり、それだけでは人種には含まない。",
    "演習：次のうち要配慮個人情報に該当するものを選べ。(1) 健康診断の結果 (2) 購入した書籍 (3) 逮捕歴 (4) 職業 (5) 労働組合への加盟",
    "生体情報のうち、本人認証を目的として装置やソフトウェアにより変換された顔認証データや指紋データは個人識別符号に当たる。",
];

/// A lecture on the categories themselves: no specific person.
fn lecture(rng: &mut Rng, k: usize) -> GenFile {
    let mut f = GenFile::new(format!("dump/training/appi_lecture_{k:02}.md"), "legal_lecture", true);
    f.line(format!("# 個人情報保護法 研修資料 第{}回：要配慮個人情報", k + 1));
    f.line("");
    f.line(format!("講師：{}　作成日：{}", person(rng).name(), reiwa_date(rng)));
    let mut order: Vec<usize> = (0..LECTURE.len()).collect();
    for i in (1..order.len()).rev() {
        let j = rng.below(i + 1);
        order.swap(i, j);
    }
    // The definition of 要配慮個人情報 always opens the lecture.
    let first = order.iter().position(|&i| i == 0).unwrap();
    order.swap(0, first);
    let take = rng.range(6, LECTURE.len());
    for &i in &order[..take] {
        f.line("");
        f.line(LECTURE[i]);
    }
    f.records = 1;
    f
}

/// 健康保険組合 / 共済組合 membership (insurance, not unions).
fn health_insurance_society(rng: &mut Rng, k: usize) -> GenFile {
    let soc = [
        "関東ITソフトウェア健康保険組合",
        "東京都電機健康保険組合",
        "全国土木建築国民健康保険組合",
        "地方職員共済組合",
        "公立学校共済組合",
    ];
    if k % 2 == 1 {
        let mut f = GenFile::new(format!("dump/hr/kenpo_notice_{k:02}.txt"), "kenpo_kumiai", true);
        let p = person(rng);
        f.line(format!(
            "{}さん（社員番号 {}）の{}への資格取得届を提出しました。",
            p.name(),
            p.emp,
            rng.pick(&soc)
        ));
        f.line("保険証は健康保険組合から届き次第、総務部よりお渡しします。");
        f.records = 1;
        return f;
    }
    let mut f = GenFile::new(format!("dump/hr/kenpo_members_{k:02}.csv"), "kenpo_kumiai", true);
    f.sjis = k.is_multiple_of(4);
    f.crlf = f.sjis;
    f.line("氏名,社員番号,加入健康保険組合,資格取得日");
    for _ in 0..rng.range(12, 25) {
        let p = person(rng);
        f.line(csv_row(&[
            p.name(),
            p.emp.clone(),
            rng.pick(&soc).into(),
            format!("2024-{:02}-01", rng.range(1, 12)),
        ]));
        f.records += 1;
    }
    f
}

/// 協同組合 (co-operatives) as business partners and services.
fn cooperative(rng: &mut Rng, k: usize) -> GenFile {
    let coops = [
        "東都青果事業協同組合",
        "みなと生活協同組合",
        "北央農業協同組合",
        "中小印刷業協同組合",
        "さくら信用協同組合",
    ];
    if k.is_multiple_of(2) {
        let mut f = GenFile::new(format!("dump/sales/partners_{k:02}.csv"), "kyodo_kumiai", true);
        f.line("取引先名,担当者氏名,部署,取引開始日");
        for _ in 0..rng.range(10, 20) {
            let p = person(rng);
            f.line(csv_row(&[
                rng.pick(&coops).into(),
                p.name(),
                rng.pick(&["購買部", "総務課", "営業課"]).into(),
                format!("20{:02}-{:02}-01", rng.range(10, 24), rng.range(1, 12)),
            ]));
            f.records += 1;
        }
        return f;
    }
    let mut f = GenFile::new(format!("dump/sales/visit_{k:02}.txt"), "kyodo_kumiai", true);
    let p = person(rng);
    let c = rng.pick(&coops);
    f.line(format!("訪問記録 {}", reiwa_date(rng)));
    f.line(format!("訪問先：{c}　ご担当：{}様", p.name()));
    f.line(format!(
        "{}様より、{c}の共同購入システム更新について見積依頼あり。",
        p.surname
    ));
    f.line(format!(
        "同席：当社 {}さん（社員番号 {}）",
        person(rng).name(),
        person(rng).emp
    ));
    f.records = 1;
    f
}

/// マンション管理組合 minutes.
fn condo_association(rng: &mut Rng, k: usize) -> GenFile {
    let mut f = GenFile::new(format!("dump/misc/kanri_kumiai_{k:02}.txt"), "kanri_kumiai", true);
    let m = rng.pick(&["グランパレス港南", "シティハイツ緑が丘", "パークサイド本町"]);
    let chair = person(rng);
    f.line(format!("{m}管理組合 第{}期 理事会議事録", rng.range(5, 30)));
    f.line("");
    f.line(format!("日時：{}　場所：集会室", reiwa_date(rng)));
    f.line(format!(
        "出席：理事長 {}様（{}号室）、{}様（{}号室）、{}様（{}号室）",
        chair.name(),
        rng.range(101, 1203),
        person(rng).name(),
        rng.range(101, 1203),
        person(rng).name(),
        rng.range(101, 1203)
    ));
    f.line("");
    f.line(format!(
        "1. 大規模修繕工事について、管理組合として{}社の見積を採用することを承認した。",
        rng.pick(&["東西建設", "ミライ住建", "大和リフォーム"])
    ));
    f.line(format!(
        "2. 駐輪場の利用ルールを{}さんが説明し、次回総会に諮ることとした。",
        chair.surname
    ));
    f.line("3. 管理組合の預金口座の名義変更を行う。");
    f.records = 1;
    f
}

/// 経営信条 / 品質信条 (corporate creed) in company documents.
fn corporate_creed(rng: &mut Rng, k: usize) -> GenFile {
    let mut f = GenFile::new(format!("dump/misc/keiei_shinjo_{k:02}.txt"), "keiei_shinjo", true);
    let p = person(rng);
    let creed = rng.pick(&["誠実・挑戦・共創", "お客様第一", "品質は信頼の証"]);
    f.line(format!("新入社員研修 {}日目", rng.range(1, 5)));
    f.line(format!(
        "講師：{}さん（社員番号 {}）より当社の経営信条「{creed}」について説明。",
        p.name(),
        p.emp
    ));
    f.line("受講者は経営信条と品質信条を唱和し、各自の行動目標を記入した。");
    f.line(format!("次回は{}さんによる品質信条の事例紹介。", person(rng).surname));
    f.records = 1;
    f
}

/// ゲイン (gain) in engineering notes, ゲイツ in a reading list.
fn gain(rng: &mut Rng, k: usize) -> GenFile {
    let mut f = GenFile::new(format!("dump/eng/notes_{k:02}.txt"), "gain", true);
    let p = person(rng);
    f.line(format!("作業メモ {}", reiwa_date(rng)));
    f.line(format!(
        "{}さん: マイクのゲインを-{}dBに下げ、PA卓の入力ゲインを再調整しました。",
        p.surname,
        rng.range(3, 12)
    ));
    f.line(format!(
        "PID制御のPゲインを{:.1}、Iゲインを{:.2}に変更（担当 {}、社員番号 {}）。",
        rng.unit() * 2.0,
        rng.unit(),
        p.name(),
        p.emp
    ));
    f.line(format!("アンテナゲイン {} dBi で再測定予定。", rng.range(6, 18)));
    f.line(format!(
        "{}さんの推薦図書：ビル・ゲイツ『How to Avoid a Climate Disaster』",
        person(rng).surname
    ));
    f.records = 1;
    f
}

/// Race results (running events): a `race` column and race prose.
fn race_results(rng: &mut Rng, k: usize) -> GenFile {
    if k.is_multiple_of(2) {
        let mut f = GenFile::new(format!("dump/events/race_results_{k:02}.csv"), "race_results", true);
        f.line("bib,name,race,category,finish_time");
        for i in 0..rng.range(15, 30) {
            f.line(format!(
                "{},{},{},{},{}:{:02}:{:02}",
                1000 + i,
                romaji(rng),
                rng.pick(&["Half Marathon", "10K", "5K Fun Run", "Full Marathon"]),
                rng.pick(&["M40", "F30", "M20", "F50", "Open"]),
                rng.range(0, 4),
                rng.range(0, 59),
                rng.range(0, 59)
            ));
            f.records += 1;
        }
        return f;
    }
    let mut f = GenFile::new(format!("dump/events/race_report_{k:02}.txt"), "race_results", true);
    f.line("Race results — Minato City Half Marathon");
    f.line(format!(
        "{} won the men's race in 1:0{}:{:02}; {} took the women's race.",
        romaji(rng),
        rng.range(2, 9),
        rng.range(0, 59),
        romaji(rng)
    ));
    f.line(format!(
        "レース結果：ハーフマラソン男子の部は{}さん（社員番号 {}）が3位入賞。",
        person(rng).name(),
        person(rng).emp
    ));
    f.records = 1;
    f
}

/// システム診断 reports.
fn system_diagnosis(rng: &mut Rng, k: usize) -> GenFile {
    let mut f = GenFile::new(format!("dump/it/system_check_{k:02}.txt"), "system_shindan", true);
    let p = person(rng);
    f.line("システム診断レポート");
    f.line(format!(
        "対象：{}",
        rng.pick(&["基幹サーバー", "ファイルサーバー", "社内ネットワーク", "POS端末"])
    ));
    f.line(format!("実施者：{}さん（社員番号 {}）", p.name(), p.emp));
    f.line(format!(
        "システム診断の結果、{}",
        rng.pick(&[
            "異常は検出されませんでした。",
            "ディスク使用率の警告を1件検出しました。"
        ])
    ));
    f.line("次回の定期システム診断は3か月後に実施予定。");
    f.records = 1;
    f
}

/// Export templates: a header row and no record (names columns, not a person).
fn empty_template(rng: &mut Rng, k: usize) -> GenFile {
    let headers = [
        "氏名,生年月日,病名,既往歴,処方薬",
        "患者ID,氏名,生年月日,病名,既往歴,処方薬",
        "氏名,社員番号,所属組合,組合員区分",
        "社員番号,氏名,前科の有無,備考",
    ];
    let mut f = GenFile::new(
        format!("dump/templates/import_template_{k:02}.csv"),
        "empty_template_csv",
        true,
    );
    f.sjis = rng.chance(0.5);
    f.crlf = f.sjis;
    f.line(headers[k % headers.len()]);
    f
}

/// Chat logs with がんばる / がんばって / がんばろう.
fn ganbaru(rng: &mut Rng, k: usize) -> GenFile {
    let mut f = GenFile::new(format!("dump/chat/team_chat_{k:02}.log"), "ganbaru", true);
    for _ in 0..rng.range(10, 25) {
        let a = person(rng);
        let b = person(rng);
        let msg = match rng.below(6) {
            0 => format!("{}さん、明日のプレゼンがんばってください！", b.surname),
            1 => "がんばります！".into(),
            2 => "リリースまであと少し、みんなでがんばろう".into(),
            3 => format!("{}さん がんばれ〜", b.surname),
            4 => format!("{}さんのおかげで間に合いました。がんばった甲斐がありました", b.surname),
            _ => "了解です、午後に確認します".into(),
        };
        f.line(format!(
            "[{:02}:{:02}] {}: {msg}",
            rng.range(8, 22),
            rng.range(0, 59),
            a.name()
        ));
        f.records += 1;
    }
    f
}

// ---------------------------------------------------------------------------------------------

/// The whole dump. Each class draws from its own stream so that changing one class leaves the
/// others as they were.
pub fn generate(seed: u64, map: &Mapping) -> Vec<GenFile> {
    type Gen = fn(&mut Rng, usize) -> GenFile;
    let classes: &[(&str, usize, Gen)] = &[
        ("enrolment", 12, enrolment),
        ("voice", 8, voiceprints),
        ("fasta", 8, fasta),
        ("vcf", 8, vcf),
        ("memo", 32, conviction_memo),
        ("union", 9, union_list),
        ("catalogue", 12, catalogue),
        ("incident", 18, incident_log),
        ("payroll", 12, payroll),
        ("lecture", 10, lecture),
        ("kenpo", 8, health_insurance_society),
        ("kyodo", 6, cooperative),
        ("kanri", 6, condo_association),
        ("creed", 6, corporate_creed),
        ("gain", 6, gain),
        ("race", 8, race_results),
        ("shindan", 6, system_diagnosis),
        ("ganbaru", 8, ganbaru),
        ("template", 4, empty_template),
    ];
    let stream = |name: &str| {
        let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        Rng::new(seed ^ h)
    };
    let mut files = Vec::new();
    for &(name, n, g) in classes {
        let mut rng = stream(name);
        for k in 0..n {
            files.push(g(&mut rng, k));
        }
    }
    let mut rng = stream("clinic");
    for k in 0..10 {
        files.push(clinic(&mut rng, k, map));
    }
    files
}
