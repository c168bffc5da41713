//! Office Open XML documents: docx and pptx become text (the `w:t` / `a:t` runs of each
//! paragraph joined, so a number split across runs is found whole); xlsx becomes CSV-like rows
//! of cells whose first row names the columns, reported with `Sheet!A1` cell references.

use crate::scan::{Ctx, Worker, scan_text};
use calamine::{DataRef, Reader as _};
use quick_xml::Reader;
use quick_xml::events::Event;
use std::io::{BufReader, Cursor, Read, Seek};

/// Rows of a sheet scanned together (each batch repeats the header row for context).
const ROWS_PER_BATCH: usize = 20_000;
/// Text taken from one XML part at most.
const MAX_PART_TEXT: usize = 256 << 20;

pub fn scan_office<R: Read + Seek>(
    ctx: &mut Ctx,
    w: &mut Worker,
    mut archive: zip::ZipArchive<R>,
    kind: &str,
    member: Vec<String>,
) {
    match kind {
        "xlsx" => scan_xlsx(ctx, w, archive, member),
        _ => {
            let mut parts: Vec<String> = archive
                .file_names()
                .filter_map(|n| n.ok().map(|c| c.into_owned()))
                .filter(|n| {
                    if kind == "docx" {
                        n.starts_with("word/")
                            && n.ends_with(".xml")
                            && ["document", "header", "footer", "footnotes", "endnotes", "comments"]
                                .iter()
                                .any(|p| n["word/".len()..].starts_with(p))
                    } else {
                        (n.starts_with("ppt/slides/slide") || n.starts_with("ppt/notesSlides/")) && n.ends_with(".xml")
                    }
                })
                .collect();
            parts.sort_by_key(|n| natural_key(n));
            for part in parts {
                let mut m = member.clone();
                m.push(part.clone());
                let text = match archive.by_name(&part) {
                    Ok(entry) => paragraphs(BufReader::new(entry.take(MAX_PART_TEXT as u64)), "p", "t"),
                    Err(e) => Err(e.to_string()),
                };
                match text {
                    Ok(t) => scan_text(
                        ctx,
                        w,
                        Vec::new(),
                        Box::new(Cursor::new(t.into_bytes())),
                        "part.txt",
                        &m,
                    ),
                    Err(e) => ctx.error(&m, "decode", format!("{kind}: {e}")),
                }
            }
        }
    }
}

/// `slide10.xml` after `slide9.xml`.
fn natural_key(n: &str) -> (String, u64) {
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    (
        n.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c.is_ascii_alphabetic())
            .to_string(),
        digits.parse().unwrap_or(0),
    )
}

/// The text of every paragraph (`<*:p>`) of an XML part, one paragraph a line; runs (`<*:t>`)
/// are joined, tabs and breaks become spaces.
fn paragraphs<B: std::io::BufRead>(src: B, para: &str, run: &str) -> Result<String, String> {
    let mut reader = Reader::from_reader(src);
    let mut buf = Vec::new();
    let mut out = String::new();
    let mut in_run = false;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.local_name().into_inner() == run => in_run = true,
            Ok(Event::End(e)) if e.local_name().into_inner() == run => in_run = false,
            Ok(Event::End(e)) if e.local_name().into_inner() == para => out.push('\n'),
            Ok(Event::Empty(e)) if matches!(e.local_name().into_inner(), "tab" | "br") => out.push(' '),
            Ok(Event::Text(t)) if in_run => out.push_str(&t.xml10_content().replace('\n', " ")),
            Ok(Event::GeneralRef(r)) if in_run => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    out.push(c);
                    buf.clear();
                    continue;
                }
                let name = r.xml10_content();
                let resolved = match name.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                };
                out.push_str(resolved);
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("XML at byte {}: {e}", reader.buffer_position())),
        }
        buf.clear();
    }
    Ok(out)
}

/// `A`, `B`, … `Z`, `AA` for a 0-based column.
pub fn column_letters(mut c: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// A cell's value as text: whole floats without a fraction (an id typed as a number), dates as
/// Excel serials.
pub fn cell_text(v: &DataRef) -> String {
    match v {
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        DataRef::DateTime(d) => d.as_f64().to_string(),
        DataRef::Error(_) | DataRef::Empty => String::new(),
    }
}

pub fn csv_cell(v: &str) -> String {
    let v = v.replace(['\n', '\r'], " ");
    if v.contains([',', '"']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

fn scan_xlsx<R: Read + Seek>(ctx: &mut Ctx, w: &mut Worker, archive: zip::ZipArchive<R>, member: Vec<String>) {
    // calamine reads the workbook from the same zip: hand it the archive's reader.
    let reader = archive.into_inner();
    let mut book: calamine::Xlsx<_> = match calamine::Xlsx::new(reader) {
        Ok(b) => b,
        Err(e) => {
            ctx.error(&member, "decode", format!("xlsx: {e}"));
            return;
        }
    };
    let sheets = book.sheet_names().to_vec();
    for sheet in sheets {
        let mut m = member.clone();
        m.push(sheet.clone());
        let mut cells = match book.worksheet_cells_reader(&sheet) {
            Ok(c) => c,
            Err(e) => {
                ctx.error(&m, "decode", format!("xlsx sheet: {e}"));
                continue;
            }
        };
        // The header is the first row with two or more values (a title row above it is skipped);
        // each later row keeps its own sheet row number, empty rows between included.
        let mut header: Option<(String, u32)> = None;
        let mut batch = String::new();
        let mut batch_rows: Vec<u32> = Vec::new();
        let mut row_cells: Vec<(u32, String)> = Vec::new();
        let mut current_row: Option<u32> = None;
        let finish_row = |row: u32,
                          cols: &mut Vec<(u32, String)>,
                          header: &mut Option<(String, u32)>,
                          batch: &mut String,
                          rows: &mut Vec<u32>| {
            let width = cols.iter().map(|c| c.0 + 1).max().unwrap_or(0);
            let mut line = vec![String::new(); width as usize];
            let filled = cols.len();
            for (c, v) in cols.drain(..) {
                line[c as usize] = csv_cell(&v);
            }
            let text = line.join(",");
            if header.is_none() {
                if filled >= 2 {
                    *header = Some((text, row));
                }
                return;
            }
            batch.push_str(&text);
            batch.push('\n');
            rows.push(row);
        };
        loop {
            let next = match cells.next_cell() {
                Ok(c) => c,
                Err(e) => {
                    ctx.error(&m, "decode", format!("xlsx cell: {e}"));
                    break;
                }
            };
            let Some(cell) = next else { break };
            let (row, col) = cell.get_position();
            if let Some(r) = current_row.filter(|&r| r != row) {
                finish_row(r, &mut row_cells, &mut header, &mut batch, &mut batch_rows);
                if batch_rows.len() >= ROWS_PER_BATCH {
                    let (h, hrow) = header.clone().unwrap_or_default();
                    scan_rows(ctx, w, Some(&sheet), &m, &h, hrow, &batch, &batch_rows);
                    batch.clear();
                    batch_rows.clear();
                }
            }
            current_row = Some(row);
            let v = cell_text(cell.get_value());
            if !v.is_empty() {
                row_cells.push((col, v));
            }
        }
        if let Some(r) = current_row {
            finish_row(r, &mut row_cells, &mut header, &mut batch, &mut batch_rows);
        }
        if let Some((h, hrow)) = header.clone() {
            scan_rows(ctx, w, Some(&sheet), &m, &h, hrow, &batch, &batch_rows);
        }
    }
}

/// Scans CSV `rows` under the CSV `header` (which stands in row `header_row`, 0-based) and
/// rewrites each finding's place: line = its row (`rows_at`, 0-based, shown 1-based), no column;
/// with a `sheet`, `field` = `Sheet!C7`.
#[allow(clippy::too_many_arguments)]
pub fn scan_rows(
    ctx: &mut Ctx,
    w: &mut Worker,
    sheet: Option<&str>,
    member: &[String],
    header: &str,
    header_row: u32,
    rows: &str,
    rows_at: &[u32],
) {
    let text = format!("{header}\n{rows}");
    let before = ctx.result.findings.len();
    scan_text(
        ctx,
        w,
        Vec::new(),
        Box::new(Cursor::new(text.as_bytes().to_vec())),
        "sheet.csv",
        member,
    );
    let lines: Vec<&str> = text.lines().collect();
    for f in &mut ctx.result.findings[before..] {
        let (Some(line), Some(col)) = (f.line, f.column) else {
            continue;
        };
        let idx = line as usize - 1;
        let row = if idx == 0 {
            header_row
        } else {
            rows_at.get(idx - 1).copied().unwrap_or(header_row)
        };
        let col_index = lines.get(idx).map_or(0, |l| column_at(l, col as usize - 1));
        if let Some(sheet) = sheet {
            f.field = Some(format!("{sheet}!{}{}", column_letters(col_index), row + 1));
        }
        f.line = Some(u64::from(row) + 1);
        f.column = None;
        // The header names the column: say so, when the column label did not already.
        let header = (idx != 0)
            .then(|| {
                lines
                    .first()
                    .and_then(|h| split_csv(h).get(col_index as usize).cloned())
            })
            .flatten();
        if let Some(h) = header.filter(|h| !h.is_empty())
            && !f.evidence.iter().any(|e| e.starts_with("column:"))
        {
            f.evidence.push(format!("header:{}", crate::report::redact(&h)));
        }
    }
}

/// The 0-based column of the character at `char_col` in a CSV line.
fn column_at(line: &str, char_col: usize) -> u32 {
    let mut q = false;
    let mut n = 0;
    for (i, c) in line.chars().enumerate() {
        if i >= char_col {
            break;
        }
        match c {
            '"' => q = !q,
            ',' if !q => n += 1,
            _ => {}
        }
    }
    n
}

fn split_csv(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut q = false;
    for c in line.chars() {
        match c {
            '"' => q = !q,
            ',' if !q => out.push(String::new()),
            _ => out.last_mut().expect("never empty").push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
    }

    #[test]
    fn runs_are_joined_per_paragraph() {
        let xml = r#"<w:document><w:body><w:p><w:r><w:t>個人番号 5260</w:t></w:r><w:r><w:t xml:space="preserve"> 1815 </w:t></w:r><w:r><w:t>9084</w:t></w:r></w:p><w:p><w:r><w:t>A&amp;B</w:t></w:r></w:p></w:body></w:document>"#;
        let t = paragraphs(xml.as_bytes(), "p", "t").unwrap();
        assert_eq!(t, "個人番号 5260 1815 9084\nA&B\n");
    }
}
