//! Fixture generators for `tests/formats.rs`: synthetic people, and the same content written as
//! CSV, compressed streams, archives, Office documents, PDF, Parquet and SQL dumps. Every byte is
//! made here; check digits are computed independently of the scanner's validators.

#![allow(dead_code)]

use std::io::{Cursor, Write};
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// Synthetic values
// ---------------------------------------------------------------------------------------------

pub use crate::support::{my_number, my_number_check};

/// `body` plus a wrong check digit.
pub fn my_number_bad(body: &str) -> String {
    format!("{body}{}", (my_number_check(body) + 1) % 10)
}

/// `dddddddddddd` → `dddd dddd dddd`.
pub fn grouped(v: &str) -> String {
    assert_eq!(v.len(), 12);
    format!("{} {} {}", &v[0..4], &v[4..8], &v[8..12])
}

/// A small deterministic generator (64-bit LCG, Knuth's constants).
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    /// `n` digits, the first not zero (so the value survives an integer column).
    pub fn digits(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        s.push(char::from(b'1' + (self.next() % 9) as u8));
        while s.len() < n {
            s.push(char::from(b'0' + (self.next() % 10) as u8));
        }
        s
    }
}

/// One synthetic person: a labelled My Number and passport number, and an order number that
/// passes the My Number check digit (a look-alike that must stay below medium).
#[derive(Debug, Clone)]
pub struct Person {
    pub name_ja: String,
    pub name_en: String,
    pub my_number: String,
    /// Whether `my_number` carries its true check digit.
    pub valid: bool,
    pub passport: String,
    pub order: String,
}

const FAMILY: [(&str, &str); 10] = [
    ("山田", "Yamada"),
    ("佐藤", "Sato"),
    ("鈴木", "Suzuki"),
    ("高橋", "Takahashi"),
    ("田中", "Tanaka"),
    ("伊藤", "Ito"),
    ("渡辺", "Watanabe"),
    ("中村", "Nakamura"),
    ("小林", "Kobayashi"),
    ("加藤", "Kato"),
];
const GIVEN: [(&str, &str); 4] = [
    ("太郎", "Taro"),
    ("花子", "Hanako"),
    ("一郎", "Ichiro"),
    ("陽子", "Yoko"),
];

/// Persons whose My Number fails its check digit (reported at most low).
pub const BAD_ROWS: [usize; 2] = [3, 11];

/// The same 20 people for every format. The first has the brief's example value 526018159084.
pub fn people() -> Vec<Person> {
    let mut rng = Lcg::new(0x5eed_a991);
    let prefixes = ["TR", "TZ", "MU", "MZ", "TK", "MA"];
    (0..20)
        .map(|i| {
            let valid = !BAD_ROWS.contains(&i);
            let body = if i == 0 {
                "52601815908".to_string()
            } else {
                rng.digits(11)
            };
            let mn = if valid { my_number(&body) } else { my_number_bad(&body) };
            let passport = format!("{}{}", prefixes[i % prefixes.len()], rng.digits(7));
            let order = my_number(&rng.digits(11));
            let (f, fe) = FAMILY[i % FAMILY.len()];
            let (g, ge) = GIVEN[i % GIVEN.len()];
            Person {
                name_ja: format!("{f}{g}"),
                name_en: format!("{fe} {ge}"),
                my_number: mn,
                valid,
                passport,
                order,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Tables and text
// ---------------------------------------------------------------------------------------------

pub const HEADER_JA: [&str; 4] = ["氏名", "個人番号", "旅券番号", "注文番号"];
pub const HEADER_EN: [&str; 4] = ["name", "my_number", "passport_no", "order_no"];

pub fn rows_ja(people: &[Person]) -> Vec<Vec<String>> {
    people
        .iter()
        .map(|p| {
            vec![
                p.name_ja.clone(),
                p.my_number.clone(),
                p.passport.clone(),
                p.order.clone(),
            ]
        })
        .collect()
}

pub fn rows_en(people: &[Person]) -> Vec<Vec<String>> {
    people
        .iter()
        .map(|p| {
            vec![
                p.name_en.clone(),
                p.my_number.clone(),
                p.passport.clone(),
                p.order.clone(),
            ]
        })
        .collect()
}

pub fn csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = header.join(",");
    s.push('\n');
    for r in rows {
        s.push_str(&r.join(","));
        s.push('\n');
    }
    s
}

/// One paragraph per person, as runs: the My Number split across three runs, the label in the
/// first run of the same paragraph.
pub fn prose_runs(people: &[Person]) -> Vec<Vec<String>> {
    people
        .iter()
        .map(|p| {
            let m = &p.my_number;
            vec![
                format!("{}さんの個人番号は {}", p.name_ja, &m[0..4]),
                format!(" {} ", &m[4..8]),
                m[8..12].to_string(),
                format!("、旅券番号 {}。", p.passport),
                format!("注文番号 {} を確認。", p.order),
            ]
        })
        .collect()
}

/// The same paragraphs as plain text, one a line.
pub fn prose_text(paragraphs: &[Vec<String>]) -> String {
    paragraphs.iter().map(|p| format!("{}\n", p.concat())).collect()
}

/// ASCII lines for the PDF (Helvetica has no Japanese glyphs).
pub fn ascii_lines(people: &[Person]) -> Vec<String> {
    people
        .iter()
        .map(|p| {
            format!(
                "{}: My Number {}, Passport No. {}; order no. {}",
                p.name_en, p.my_number, p.passport, p.order
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Compression and archives
// ---------------------------------------------------------------------------------------------

pub fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

pub fn zstd(b: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(Cursor::new(b), 3).unwrap()
}

pub fn bzip2(b: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

pub fn xz(b: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// A ustar archive of regular files.
pub fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

#[derive(Clone, Copy, Debug)]
pub enum Method {
    Deflated,
    Stored,
}

pub fn zip(entries: &[(&str, &[u8])], method: Method) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let m = match method {
        Method::Deflated => zip::CompressionMethod::Deflated,
        Method::Stored => zip::CompressionMethod::Stored,
    };
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(m)
        .last_modified_time(zip::DateTime::default());
    for (name, data) in entries {
        z.start_file(*name, opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap().into_inner()
}

fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// Destroys the central directory: every central header signature is overwritten.
pub fn corrupt_central_directory(mut z: Vec<u8>) -> Vec<u8> {
    let hits = find_all(&z, b"PK\x01\x02");
    assert!(!hits.is_empty());
    for at in hits {
        z[at..at + 4].copy_from_slice(b"XX\x00\x00");
    }
    z
}

// ---------------------------------------------------------------------------------------------
// Office Open XML
// ---------------------------------------------------------------------------------------------

pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

const RELS_DOCX: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;

/// A docx whose body has one paragraph per item, each paragraph made of the given runs.
pub fn docx(paragraphs: &[Vec<String>]) -> Vec<u8> {
    let mut body = String::new();
    for p in paragraphs {
        body.push_str("<w:p><w:pPr><w:jc w:val=\"left\"/></w:pPr>");
        for r in p {
            body.push_str(&format!(
                "<w:r><w:rPr><w:b/></w:rPr><w:t xml:space=\"preserve\">{}</w:t></w:r>",
                xml_escape(r)
            ));
        }
        body.push_str("</w:p>");
    }
    let doc = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}<w:sectPr/></w:body></w:document>"#
    );
    let ct = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
    zip(
        &[
            ("[Content_Types].xml", ct.as_bytes()),
            ("_rels/.rels", RELS_DOCX.as_bytes()),
            ("word/document.xml", doc.as_bytes()),
        ],
        Method::Deflated,
    )
}

/// A pptx with one slide per item; each slide has one text box whose paragraphs are the strings.
pub fn pptx(slides: &[Vec<String>]) -> Vec<u8> {
    let mut parts: Vec<(String, Vec<u8>)> = Vec::new();
    let mut ids = String::new();
    let mut overrides = String::new();
    for (i, paras) in slides.iter().enumerate() {
        let n = i + 1;
        let mut ps = String::new();
        for p in paras {
            ps.push_str(&format!(
                "<a:p><a:r><a:rPr lang=\"ja-JP\"/><a:t>{}</a:t></a:r></a:p>",
                xml_escape(p)
            ));
        }
        let slide = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p:sld xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree><p:sp><p:txBody><a:bodyPr/>{ps}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#
        );
        parts.push((format!("ppt/slides/slide{n}.xml"), slide.into_bytes()));
        ids.push_str(&format!("<p:sldId id=\"{}\" r:id=\"rId{n}\"/>", 255 + n));
        overrides.push_str(&format!("<Override PartName=\"/ppt/slides/slide{n}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.presentationml.slide+xml\"/>"));
    }
    let pres = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><p:sldIdLst>{ids}</p:sldIdLst></p:presentation>"#
    );
    let ct = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>{overrides}</Types>"#
    );
    let rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="ppt/presentation.xml"/></Relationships>"#;
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", ct.as_bytes()),
        ("_rels/.rels", rels.as_bytes()),
        ("ppt/presentation.xml", pres.as_bytes()),
    ];
    for (name, data) in &parts {
        entries.push((name.as_str(), data.as_slice()));
    }
    zip(&entries, Method::Deflated)
}

/// A cell of a generated sheet.
#[derive(Clone, Debug)]
pub enum Cell {
    /// A shared string.
    Str(String),
    /// A number cell (`<v>` without a type).
    Num(String),
}

/// Sheet XML for `rows` (row 1 first; an empty row is omitted), strings indexed into `shared`.
fn sheet_xml(
    rows: &[Vec<Cell>],
    shared: &mut Vec<String>,
    index: &mut std::collections::HashMap<String, usize>,
) -> String {
    let mut out = String::with_capacity(rows.len() * 120);
    out.push_str(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetData>"#);
    for (ri, row) in rows.iter().enumerate() {
        let r = ri + 1;
        if row.is_empty() {
            // An empty row is left out of the sheet, as Excel does.
            continue;
        }
        out.push_str(&format!("<row r=\"{r}\">"));
        for (ci, cell) in row.iter().enumerate() {
            let cref = format!("{}{r}", col_letters(ci));
            match cell {
                Cell::Str(s) => {
                    let k = *index.entry(s.clone()).or_insert_with(|| {
                        shared.push(s.clone());
                        shared.len() - 1
                    });
                    out.push_str(&format!("<c r=\"{cref}\" t=\"s\"><v>{k}</v></c>"));
                }
                Cell::Num(v) => out.push_str(&format!("<c r=\"{cref}\"><v>{v}</v></c>")),
            }
        }
        out.push_str("</row>");
    }
    out.push_str("</sheetData></worksheet>");
    out
}

pub fn col_letters(mut c: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap()
}

/// An xlsx workbook with the given sheets (name, rows), shared strings, as Excel writes it.
pub fn xlsx(sheets: &[(&str, Vec<Vec<Cell>>)]) -> Vec<u8> {
    let mut shared = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut parts: Vec<(String, Vec<u8>)> = Vec::new();
    let mut sheet_list = String::new();
    let mut wb_rels = String::new();
    let mut overrides = String::new();
    for (i, (name, rows)) in sheets.iter().enumerate() {
        let n = i + 1;
        parts.push((
            format!("xl/worksheets/sheet{n}.xml"),
            sheet_xml(rows, &mut shared, &mut index).into_bytes(),
        ));
        sheet_list.push_str(&format!(
            "<sheet name=\"{}\" sheetId=\"{n}\" r:id=\"rId{n}\"/>",
            xml_escape(name)
        ));
        wb_rels.push_str(&format!("<Relationship Id=\"rId{n}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet{n}.xml\"/>"));
        overrides.push_str(&format!("<Override PartName=\"/xl/worksheets/sheet{n}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"));
    }
    let k = sheets.len() + 1;
    wb_rels.push_str(&format!("<Relationship Id=\"rId{k}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" Target=\"sharedStrings.xml\"/>"));
    let mut sst = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{0}" uniqueCount="{0}">"#,
        shared.len()
    );
    for s in &shared {
        sst.push_str(&format!("<si><t>{}</t></si>", xml_escape(s)));
    }
    sst.push_str("</sst>");
    let workbook = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{sheet_list}</sheets></workbook>"#
    );
    let wb_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{wb_rels}</Relationships>"#
    );
    let rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let ct = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>{overrides}</Types>"#
    );
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", ct.as_bytes()),
        ("_rels/.rels", rels.as_bytes()),
        ("xl/workbook.xml", workbook.as_bytes()),
        ("xl/_rels/workbook.xml.rels", wb_rels.as_bytes()),
        ("xl/sharedStrings.xml", sst.as_bytes()),
    ];
    for (name, data) in &parts {
        entries.push((name.as_str(), data.as_slice()));
    }
    zip(&entries, Method::Deflated)
}

// ---------------------------------------------------------------------------------------------
// PDF, Parquet, SQL
// ---------------------------------------------------------------------------------------------

/// A one-page PDF with each line drawn in Helvetica, top to bottom.
pub fn pdf(lines: &[String]) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
    });
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let mut ops = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 10.into()]),
        Operation::new("TL", vec![14.into()]),
        Operation::new("Td", vec![40.into(), 800.into()]),
    ];
    for l in lines {
        ops.push(Operation::new("Tj", vec![Object::string_literal(l.as_str())]));
        ops.push(Operation::new("T*", vec![]));
    }
    ops.push(Operation::new("ET", vec![]));
    let content = Content { operations: ops };
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
    });
    let pages = dictionary! {
        "Type" => "Pages",
        "Kids" => vec![page_id.into()],
        "Count" => 1,
        "Resources" => resources_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    };
    doc.objects.insert(pages_id, Object::Dictionary(pages));
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A Parquet file: `name` and `passport_no` as UTF-8 strings, `my_number` and `order_no` as INT64.
pub fn parquet(people: &[Person]) -> Vec<u8> {
    use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;
    let schema = parse_message_type(
        "message people {
            REQUIRED BYTE_ARRAY name (UTF8);
            REQUIRED INT64 my_number;
            REQUIRED BYTE_ARRAY passport_no (UTF8);
            REQUIRED INT64 order_no;
        }",
    )
    .unwrap();
    let props = Arc::new(WriterProperties::builder().build());
    let mut out = Vec::new();
    let mut w = SerializedFileWriter::new(&mut out, Arc::new(schema), props).unwrap();
    // Two row groups, so row numbers must continue across them.
    for chunk in people.chunks(people.len().div_ceil(2)) {
        let mut rg = w.next_row_group().unwrap();
        let mut k = 0;
        while let Some(mut col) = rg.next_column().unwrap() {
            match k {
                0 | 2 => {
                    let v: Vec<ByteArray> = chunk
                        .iter()
                        .map(|p| {
                            ByteArray::from(if k == 0 {
                                p.name_en.as_str()
                            } else {
                                p.passport.as_str()
                            })
                        })
                        .collect();
                    col.typed::<ByteArrayType>().write_batch(&v, None, None).unwrap();
                }
                _ => {
                    let v: Vec<i64> = chunk
                        .iter()
                        .map(|p| if k == 1 { &p.my_number } else { &p.order }.parse().unwrap())
                        .collect();
                    col.typed::<Int64Type>().write_batch(&v, None, None).unwrap();
                }
            }
            col.close().unwrap();
            k += 1;
        }
        rg.close().unwrap();
    }
    w.close().unwrap();
    out
}

/// The CSV that holds what the Parquet file holds.
pub fn parquet_as_csv(people: &[Person]) -> String {
    csv(&HEADER_EN, &rows_en(people))
}

/// A mysqldump: header comments, `CREATE TABLE`, one extended `INSERT` without a column list.
pub fn mysqldump(people: &[Person]) -> String {
    let mut s = String::from(
        "-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)\n--\n-- Host: localhost    Database: shop\n\
         -- ------------------------------------------------------\n\n\
         /*!40101 SET NAMES utf8mb4 */;\n\nDROP TABLE IF EXISTS `customers`;\n\
         CREATE TABLE `customers` (\n  `id` int NOT NULL AUTO_INCREMENT,\n  `name` varchar(64) NOT NULL,\n  \
         `my_number` char(12) DEFAULT NULL,\n  `passport_no` varchar(9) DEFAULT NULL,\n  \
         `order_no` bigint DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n\n\
         LOCK TABLES `customers` WRITE;\nINSERT INTO `customers` VALUES ",
    );
    let tuples: Vec<String> = people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "({},'{}','{}','{}',{})",
                i + 1,
                p.name_ja,
                p.my_number,
                p.passport,
                p.order
            )
        })
        .collect();
    s.push_str(&tuples.join(","));
    s.push_str(";\nUNLOCK TABLES;\n");
    s
}

/// A pg_dump in plain format with one `COPY … FROM stdin;` block.
pub fn pg_dump(people: &[Person]) -> String {
    let mut s = String::from(
        "--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n\n\
         CREATE TABLE public.members (\n    id integer NOT NULL,\n    name text,\n    my_number character(12),\n    \
         passport_no text,\n    order_no bigint\n);\n\n\
         COPY public.members (id, name, my_number, passport_no, order_no) FROM stdin;\n",
    );
    for (i, p) in people.iter().enumerate() {
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            i + 1,
            p.name_ja,
            p.my_number,
            p.passport,
            p.order
        ));
    }
    s.push_str("\\.\n\n--\n-- PostgreSQL database dump complete\n--\n");
    s
}

/// The CSV that holds what the SQL dumps hold.
pub fn sql_as_csv(people: &[Person]) -> String {
    let rows: Vec<Vec<String>> = people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            vec![
                (i + 1).to_string(),
                p.name_ja.clone(),
                p.my_number.clone(),
                p.passport.clone(),
                p.order.clone(),
            ]
        })
        .collect();
    csv(&["id", "name", "my_number", "passport_no", "order_no"], &rows)
}

/// A zip holding `n` copies of `data` named by `name(i)`: compressed once (at the default
/// level: constant data deflates about 1000:1), then copied raw.
pub fn zip_copies(name: impl Fn(usize) -> String, data: &[u8], n: usize, method: Method) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let m = match method {
        Method::Deflated => zip::CompressionMethod::Deflated,
        Method::Stored => zip::CompressionMethod::Stored,
    };
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(m)
        .last_modified_time(zip::DateTime::default());
    let first = name(0);
    z.start_file(first.as_str(), opts).unwrap();
    z.write_all(data).unwrap();
    for i in 1..n {
        z.deep_copy_file(&first, &name(i)).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// Sets the "encrypted" bit of the entry named `name` only.
pub fn mark_encrypted_entry(mut z: Vec<u8>, name: &str) -> Vec<u8> {
    let n = name.as_bytes();
    for at in find_all(&z, b"PK\x03\x04") {
        let len = u16::from_le_bytes([z[at + 26], z[at + 27]]) as usize;
        if &z[at + 30..at + 30 + len] == n {
            z[at + 6] |= 1;
        }
    }
    for at in find_all(&z, b"PK\x01\x02") {
        let len = u16::from_le_bytes([z[at + 28], z[at + 29]]) as usize;
        if &z[at + 46..at + 46 + len] == n {
            z[at + 8] |= 1;
        }
    }
    z
}

/// A zip written as a stream (no seeking back): every entry has a data descriptor after its
/// data, and its local header carries no sizes, as `zip -` or Java's `ZipOutputStream` write.
pub fn zip_streamed(entries: &[(&str, &[u8])], method: Method) -> Vec<u8> {
    let mut z = zip::ZipWriter::new_stream(Vec::new());
    let m = match method {
        Method::Deflated => zip::CompressionMethod::Deflated,
        Method::Stored => zip::CompressionMethod::Stored,
    };
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(m)
        .last_modified_time(zip::DateTime::default());
    for (name, data) in entries {
        z.start_file(*name, opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// Whether the local header of entry `name` has the data-descriptor flag (bit 3).
pub fn uses_data_descriptor(z: &[u8], name: &str) -> bool {
    let n = name.as_bytes();
    find_all(z, b"PK\x03\x04").into_iter().any(|at| {
        let len = u16::from_le_bytes([z[at + 26], z[at + 27]]) as usize;
        &z[at + 30..at + 30 + len] == n && z[at + 6] & 8 != 0
    })
}

/// Replaces the name `placeholder` (in local and central headers) by `raw` bytes of the same
/// length, and clears the UTF-8 flag (bit 11): a name in the code page of the writer's system,
/// as Windows' built-in zip writes Japanese names (CP932).
pub fn rename_raw(mut z: Vec<u8>, placeholder: &str, raw: &[u8]) -> Vec<u8> {
    assert_eq!(placeholder.len(), raw.len());
    let p = placeholder.as_bytes();
    for at in find_all(&z, b"PK\x03\x04") {
        let len = u16::from_le_bytes([z[at + 26], z[at + 27]]) as usize;
        if &z[at + 30..at + 30 + len] == p {
            z[at + 30..at + 30 + len].copy_from_slice(raw);
            z[at + 7] &= !0x08;
        }
    }
    for at in find_all(&z, b"PK\x01\x02") {
        let len = u16::from_le_bytes([z[at + 28], z[at + 29]]) as usize;
        if &z[at + 46..at + 46 + len] == p {
            z[at + 46..at + 46 + len].copy_from_slice(raw);
            z[at + 9] &= !0x08;
        }
    }
    z
}
