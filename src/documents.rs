//! PDF text and Parquet tables.
//!
//! PDF extraction runs on its own thread with a time budget, and a panic inside the PDF library
//! becomes an `error` record for that file: a hostile PDF never stops the scan. Parquet rows are
//! read row group by row group; every column becomes a CSV-like cell under its column name, and
//! findings carry the row number as their line.

use crate::office::{csv_cell, scan_rows};
use crate::scan::{Ctx, Worker, scan_text};
use parquet::file::reader::{ChunkReader, FileReader, SerializedFileReader};
use parquet::record::Field;
use std::io::Cursor;
use std::sync::mpsc;
use std::time::Duration;

/// How long one PDF may take to give its text.
const PDF_BUDGET: Duration = Duration::from_secs(60);
/// Rows of a Parquet file scanned together (each batch repeats the header for context).
const ROWS_PER_BATCH: usize = 20_000;

/// Extracts and scans the text of a PDF held in `bytes`.
pub fn scan_pdf(ctx: &mut Ctx, w: &mut Worker, bytes: Vec<u8>, member: &[String]) {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new().name("pdf".into()).spawn(move || {
        let result = std::panic::catch_unwind(move || pdf_extract::extract_text_from_mem(&bytes));
        let _ = tx.send(result);
    });
    if let Err(e) = spawned {
        ctx.error(member, "io", format!("pdf: no thread: {e}"));
        return;
    }
    match rx.recv_timeout(PDF_BUDGET) {
        Ok(Ok(Ok(text))) => {
            if text.trim().is_empty() {
                ctx.error(
                    member,
                    "unsupported",
                    "pdf: no text layer (a scanned image?); not scanned",
                );
                return;
            }
            scan_text(
                ctx,
                w,
                Vec::new(),
                Box::new(Cursor::new(text.into_bytes())),
                "document.txt",
                member,
            );
        }
        Ok(Ok(Err(e))) => ctx.error(member, "decode", format!("pdf: {e}")),
        Ok(Err(_)) => ctx.error(
            member,
            "decode",
            "pdf: the PDF library failed on this file (panic); not scanned",
        ),
        Err(_) => ctx.error(
            member,
            "limit",
            format!("pdf: no text after {} s; not scanned", PDF_BUDGET.as_secs()),
        ),
    }
}

/// A Parquet value as text (None for nulls and for types without a text form).
pub fn field_text(f: &Field) -> Option<String> {
    Some(match f {
        Field::Null => return None,
        Field::Str(s) => s.clone(),
        Field::Bytes(b) => match std::str::from_utf8(b.data()) {
            Ok(s) => s.to_string(),
            Err(_) => return None,
        },
        Field::Byte(v) => v.to_string(),
        Field::Short(v) => v.to_string(),
        Field::Int(v) => v.to_string(),
        Field::Long(v) => v.to_string(),
        Field::UByte(v) => v.to_string(),
        Field::UShort(v) => v.to_string(),
        Field::UInt(v) => v.to_string(),
        Field::ULong(v) => v.to_string(),
        Field::Float(v) => v.to_string(),
        Field::Double(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{}", *v as i64),
        Field::Double(v) => v.to_string(),
        Field::Decimal(_) | Field::Float16(_) | Field::Bool(_) => return None,
        Field::Date(_)
        | Field::TimestampMillis(_)
        | Field::TimestampMicros(_)
        | Field::TimeMillis(_)
        | Field::TimeMicros(_) => {
            return None;
        }
        // Nested values (lists, maps, groups) as JSON-like text.
        other => other.to_string(),
    })
}

/// Scans a Parquet file: every column under its name, rows as lines.
pub fn scan_parquet<R: ChunkReader + 'static>(ctx: &mut Ctx, w: &mut Worker, reader: R, member: &[String]) {
    let file = match SerializedFileReader::new(reader) {
        Ok(f) => f,
        Err(e) => {
            ctx.error(member, "decode", format!("parquet: {e}"));
            return;
        }
    };
    let columns: Vec<String> = file
        .metadata()
        .file_metadata()
        .schema_descr()
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let header = columns.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(",");
    let rows = match file.get_row_iter(None) {
        Ok(r) => r,
        Err(e) => {
            ctx.error(member, "decode", format!("parquet: {e}"));
            return;
        }
    };
    let mut batch = String::new();
    let mut in_batch = 0usize;
    let mut first = 0u32;
    // Scans the rows gathered so far (rows `first..` of the file) under the header.
    let flush = |ctx: &mut Ctx, w: &mut Worker, batch: &mut String, in_batch: &mut usize, first: u32| {
        if *in_batch > 0 {
            let rows_at: Vec<u32> = (first..first + *in_batch as u32).collect();
            scan_rows(ctx, w, None, member, &header, 0, batch, &rows_at);
            batch.clear();
            *in_batch = 0;
        }
    };
    for (n, row) in rows.enumerate() {
        let n = n as u32;
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                ctx.error(member, "decode", format!("parquet row {}: {e}", n + 1));
                break;
            }
        };
        let mut cells = vec![String::new(); columns.len()];
        for (name, value) in row.get_column_iter() {
            if let (Some(k), Some(v)) = (columns.iter().position(|c| c == name), field_text(value)) {
                cells[k] = csv_cell(&v);
            }
        }
        if in_batch == 0 {
            first = n;
        }
        batch.push_str(&cells.join(","));
        batch.push('\n');
        in_batch += 1;
        if in_batch >= ROWS_PER_BATCH {
            flush(ctx, w, &mut batch, &mut in_batch, first);
        }
    }
    flush(ctx, w, &mut batch, &mut in_batch, first);
}
