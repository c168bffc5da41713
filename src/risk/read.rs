//! Tables as rows of optional cells, through the scanner's readers: encoding sniffing and the
//! streaming decoder of `decode`, the incremental CSV/TSV parser of `structure`, calamine for
//! xlsx and the Parquet record API. JSON Lines (and a JSON array of objects) go through
//! serde_json; nested objects become dotted keys (`user.age`).

use crate::decode::{self, Sniff, TextReader};
use crate::structure::{Format, Structure};
use anyhow::{Context, bail};
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{BufReader, Read};

/// A row: one cell per header column; None is a missing value (empty cell, null, missing key).
pub type Row = Vec<Option<String>>;

pub trait RowSource {
    /// Column names so far (JSON Lines add columns as new keys appear).
    fn header(&self) -> &[String];
    fn next_row(&mut self) -> anyhow::Result<Option<Row>>;
}

/// Opens a table by its file name: `.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`/`.json`, `.parquet`,
/// `.xlsx` (a `.gz` suffix is decompressed); other names are sniffed as JSON or delimited text.
pub fn open(path: &str) -> anyhow::Result<Box<dyn RowSource>> {
    let lower = path.to_ascii_lowercase();
    let base = lower.strip_suffix(".gz").unwrap_or(&lower);
    if base.ends_with(".parquet") || base.ends_with(".pq") {
        return parquet(path);
    }
    if base.ends_with(".xlsx") || base.ends_with(".xlsm") {
        return xlsx(path);
    }
    let file = File::open(path).with_context(|| format!("cannot open {path}"))?;
    let mut reader: Box<dyn Read> = if lower.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(file)
    };
    let mut prefix = vec![0u8; 64 << 10];
    let mut got = 0;
    while got < prefix.len() {
        let n = reader.read(&mut prefix[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    prefix.truncate(got);
    let (encoding, bom) = match decode::sniff(&prefix) {
        Sniff::Text { encoding, bom } => (encoding, bom),
        Sniff::Binary => bail!("{path}: not a text table (binary content)"),
    };
    let text = TextReader::new(reader, prefix, encoding, bom);
    let format = match Format::guess(base, "") {
        Format::Json => Format::Json,
        Format::Csv(d) => Format::Csv(d),
        _ => Format::Text,
    };
    let mut src = TextSource {
        path: path.to_string(),
        text,
        pending: String::new(),
        eof: false,
        mode: Mode::Undecided(format),
        header: Vec::new(),
        index: HashMap::new(),
        rows: VecDeque::new(),
    };
    src.fill(1 << 20)?;
    src.decide()?;
    Ok(Box::new(src))
}

enum Mode {
    Undecided(Format),
    Csv(Box<Structure>),
    JsonLines,
    JsonArray,
}

struct TextSource {
    path: String,
    text: TextReader<Box<dyn Read>>,
    pending: String,
    eof: bool,
    mode: Mode,
    header: Vec<String>,
    index: HashMap<String, usize>,
    rows: VecDeque<Row>,
}

impl TextSource {
    fn fill(&mut self, want: usize) -> anyhow::Result<()> {
        while !self.eof && self.pending.len() < want {
            if !self
                .text
                .read_text(&mut self.pending, 1 << 20)
                .with_context(|| format!("{}: read error", self.path))?
            {
                self.eof = true;
            }
        }
        Ok(())
    }

    fn decide(&mut self) -> anyhow::Result<()> {
        let Mode::Undecided(format) = self.mode else {
            return Ok(());
        };
        let t = self.pending.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
        let format = match format {
            Format::Text if t.starts_with('{') || t.starts_with('[') => Format::Json,
            Format::Text => Format::guess("table.txt", &self.pending),
            f => f,
        };
        self.mode = match format {
            Format::Csv(_) => Mode::Csv(Box::new(Structure::with_header_row(format))),
            Format::Json if t.starts_with('[') => Mode::JsonArray,
            Format::Json => Mode::JsonLines,
            _ => bail!("{}: not a table (CSV, TSV, JSON Lines, Parquet or xlsx)", self.path),
        };
        if let Mode::Csv(_) = self.mode {
            // The header row comes first.
            self.csv_piece()?;
            while self.header.is_empty() && !(self.eof && self.pending.is_empty()) {
                self.fill(self.pending.len() + (1 << 20))?;
                self.csv_piece()?;
            }
        }
        if let Mode::JsonArray = self.mode {
            // A JSON array is read whole.
            while !self.eof {
                self.fill(self.pending.len() + (8 << 20))?;
            }
            let v: serde_json::Value =
                serde_json::from_str(&self.pending).with_context(|| format!("{}: invalid JSON", self.path))?;
            self.pending.clear();
            let serde_json::Value::Array(items) = v else {
                bail!("{}: not a JSON array of objects", self.path)
            };
            for item in items {
                self.json_row(item);
            }
        }
        Ok(())
    }

    /// Parses the complete rows at the start of `pending`.
    fn csv_piece(&mut self) -> anyhow::Result<()> {
        let Mode::Csv(st) = &mut self.mode else {
            return Ok(());
        };
        // The end of the last row ending outside quotes (`pending` starts outside quotes).
        let b = self.pending.as_bytes();
        let mut q = false;
        let mut last = None;
        for (i, &c) in b.iter().enumerate() {
            if c == b'"' {
                q = !q;
            } else if c == b'\n' && !q {
                last = Some(i + 1);
            }
        }
        let cut = if self.eof { Some(b.len()) } else { last };
        let Some(cut) = cut else {
            return Ok(());
        };
        if cut == 0 {
            return Ok(());
        }
        let piece = &self.pending[..cut];
        st.parse(crate::patterns::RuleSet::builtin(), piece, 0);
        if self.header.is_empty()
            && let Some(h) = st.csv_header()
        {
            self.header = h.to_vec();
        }
        let width = self.header.len();
        let mut current: Option<(u64, Row)> = None;
        let push = |rows: &mut VecDeque<Row>, row: Row| {
            // A blank line is no record.
            if !(row.len() == 1 && row[0].is_none()) {
                rows.push_back(row);
            }
        };
        for c in &st.cells {
            if current.as_ref().is_none_or(|(r, _)| *r != c.record) {
                if let Some((_, row)) = current.take() {
                    push(&mut self.rows, row);
                }
                current = Some((c.record, Vec::with_capacity(width)));
            }
            let row = &mut current.as_mut().expect("row").1;
            let v = unquote(&piece[c.start..c.end]);
            row.push((!v.trim().is_empty()).then(|| v.to_string()));
        }
        if let Some((_, row)) = current.take() {
            push(&mut self.rows, row);
        }
        self.pending.drain(..cut);
        Ok(())
    }

    fn json_row(&mut self, v: serde_json::Value) {
        let mut row: Row = vec![None; self.header.len()];
        let mut put = |header: &mut Vec<String>, index: &mut HashMap<String, usize>, k: String, val: Option<String>| {
            let i = *index.entry(k.clone()).or_insert_with(|| {
                header.push(k);
                header.len() - 1
            });
            if row.len() <= i {
                row.resize(i + 1, None);
            }
            row[i] = val;
        };
        if let serde_json::Value::Object(map) = v {
            let mut stack: Vec<(String, serde_json::Value)> = map.into_iter().rev().collect();
            while let Some((k, val)) = stack.pop() {
                match val {
                    serde_json::Value::Object(inner) => {
                        for (ik, iv) in inner.into_iter().rev() {
                            stack.push((format!("{k}.{ik}"), iv));
                        }
                    }
                    serde_json::Value::Null => put(&mut self.header, &mut self.index, k, None),
                    serde_json::Value::String(s) => {
                        let v = (!s.trim().is_empty()).then_some(s);
                        put(&mut self.header, &mut self.index, k, v)
                    }
                    other => put(&mut self.header, &mut self.index, k, Some(other.to_string())),
                }
            }
        }
        self.rows.push_back(row);
    }
}

fn unquote(raw: &str) -> std::borrow::Cow<'_, str> {
    let t = raw.trim_matches([' ', '\t']);
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        let inner = &t[1..t.len() - 1];
        if inner.contains("\"\"") {
            return inner.replace("\"\"", "\"").into();
        }
        return inner.into();
    }
    raw.into()
}

impl RowSource for TextSource {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn next_row(&mut self) -> anyhow::Result<Option<Row>> {
        loop {
            if let Some(r) = self.rows.pop_front() {
                return Ok(Some(r));
            }
            if self.eof && self.pending.is_empty() {
                return Ok(None);
            }
            match self.mode {
                Mode::Csv(_) => {
                    let before = self.pending.len();
                    self.fill(before + (1 << 20))?;
                    self.csv_piece()?;
                    if self.eof && self.pending.len() == before && self.rows.is_empty() {
                        self.pending.clear();
                    }
                }
                Mode::JsonLines => {
                    self.fill(self.pending.len() + (1 << 20))?;
                    let end = match self.pending.rfind('\n') {
                        Some(i) => i + 1,
                        None if self.eof => self.pending.len(),
                        None => continue,
                    };
                    let text: String = self.pending[..end].to_string();
                    self.pending.drain(..end);
                    for line in text.split('\n') {
                        let line = line.trim_matches(['\u{feff}', ' ', '\t', '\r', ',']);
                        if line.is_empty() {
                            continue;
                        }
                        let v: serde_json::Value = serde_json::from_str(line)
                            .with_context(|| format!("{}: a line is not a JSON object", self.path))?;
                        self.json_row(v);
                    }
                }
                _ => self.pending.clear(),
            }
        }
    }
}

struct VecSource {
    header: Vec<String>,
    rows: std::vec::IntoIter<Row>,
}

impl RowSource for VecSource {
    fn header(&self) -> &[String] {
        &self.header
    }
    fn next_row(&mut self) -> anyhow::Result<Option<Row>> {
        Ok(self.rows.next())
    }
}

/// The first sheet with data; its first row of two or more values is the header.
fn xlsx(path: &str) -> anyhow::Result<Box<dyn RowSource>> {
    use calamine::Reader as _;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(path).with_context(|| format!("xlsx {path}"))?;
    let sheets = book.sheet_names().to_vec();
    for sheet in sheets {
        let mut cells = book
            .worksheet_cells_reader(&sheet)
            .with_context(|| format!("xlsx {path} sheet {sheet}"))?;
        // Cells arrive row by row; a row is complete when the next row starts.
        let mut grid: Vec<Vec<String>> = Vec::new();
        let mut current: Option<(u32, Vec<String>)> = None;
        while let Some(cell) = cells
            .next_cell()
            .with_context(|| format!("xlsx {path} sheet {sheet}"))?
        {
            let (r, c) = cell.get_position();
            if current.as_ref().is_some_and(|(cr, _)| *cr != r)
                && let Some((_, row)) = current.take()
            {
                grid.push(row);
            }
            let row = &mut current.get_or_insert_with(|| (r, Vec::new())).1;
            if row.len() <= c as usize {
                row.resize(c as usize + 1, String::new());
            }
            row[c as usize] = crate::office::cell_text(cell.get_value());
        }
        if let Some((_, row)) = current.take() {
            grid.push(row);
        }
        let mut header: Option<Vec<String>> = None;
        let mut rows = Vec::new();
        for cells in grid {
            match &header {
                None => {
                    if cells.iter().filter(|c| !c.trim().is_empty()).count() >= 2 {
                        header = Some(cells);
                    }
                }
                Some(_) => {
                    if cells.iter().all(|c| c.trim().is_empty()) {
                        continue;
                    }
                    rows.push(cells.into_iter().map(|c| (!c.trim().is_empty()).then_some(c)).collect());
                }
            }
        }
        if let Some(h) = header {
            return Ok(Box::new(VecSource {
                header: h,
                rows: rows.into_iter(),
            }));
        }
    }
    bail!("{path}: no sheet with a header row")
}

struct ParquetSource {
    header: Vec<String>,
    rows: parquet::record::reader::RowIter<'static>,
}

impl RowSource for ParquetSource {
    fn header(&self) -> &[String] {
        &self.header
    }
    fn next_row(&mut self) -> anyhow::Result<Option<Row>> {
        let Some(row) = self.rows.next() else {
            return Ok(None);
        };
        let row = row?;
        let mut out: Row = vec![None; self.header.len()];
        for (name, value) in row.get_column_iter() {
            if let Some(k) = self.header.iter().position(|c| c == name) {
                out[k] = crate::documents::field_text(value).filter(|v| !v.trim().is_empty());
            }
        }
        Ok(Some(out))
    }
}

fn parquet(path: &str) -> anyhow::Result<Box<dyn RowSource>> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let file = File::open(path).with_context(|| format!("cannot open {path}"))?;
    let reader = SerializedFileReader::new(file).with_context(|| format!("parquet {path}"))?;
    let header: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let rows = parquet::record::reader::RowIter::from_file_into(Box::new(reader));
    Ok(Box::new(ParquetSource { header, rows }))
}
