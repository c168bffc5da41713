//! Structure as context: CSV/TSV rows give each cell its column header, JSON and JSON Lines give
//! each value its key path. Both parsers are incremental: a file arrives in pieces, and the
//! state (header, open objects, a string cut at a piece boundary) carries over.

use crate::detect::{Cell, FieldInfo};
use crate::patterns::RuleSet;
use std::collections::HashMap;

/// The structure a file's text is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Csv(u8),
    Json,
    /// mysqldump / pg_dump output.
    Sql,
}

impl Format {
    /// From the file name; JSON is also recognised by its first character.
    pub fn guess(name: &str, first_text: &str) -> Format {
        let lower = name.to_ascii_lowercase();
        let lower = lower.strip_suffix(".gz").unwrap_or(&lower);
        let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        match ext {
            "csv" => Format::Csv(b','),
            "tsv" | "tab" => Format::Csv(b'\t'),
            "json" | "jsonl" | "ndjson" | "geojson" => Format::Json,
            "sql" | "dump" => Format::Sql,
            _ if crate::sql::looks_like_dump(first_text) => Format::Sql,
            _ => {
                let t = first_text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
                if t.starts_with("{\"") || t.starts_with("[{") || t.starts_with("[\n") {
                    Format::Json
                } else if let Some(d) = sniff_delimited(t) {
                    Format::Csv(d)
                } else {
                    Format::Text
                }
            }
        }
    }
}

/// A table without a `.csv` name (a member called `export/customers`, a `.txt` export): the
/// first lines (at least three) all hold the same number, one or more, of commas or tabs outside
/// quotes, and the first line has no more than 200 fields.
fn sniff_delimited(t: &str) -> Option<u8> {
    let lines: Vec<&str> = t.lines().take(6).collect();
    let complete = if t.lines().nth(6).is_some() {
        lines.len()
    } else {
        lines.len().saturating_sub(usize::from(!t.ends_with('\n')))
    };
    let lines = &lines[..complete.min(lines.len())];
    if lines.len() < 3 {
        return None;
    }
    for d in [b'\t', b','] {
        let count = |l: &str| {
            let mut q = false;
            l.bytes()
                .filter(|&c| {
                    if c == b'"' {
                        q = !q;
                    }
                    c == d && !q
                })
                .count()
        };
        let first = count(lines[0]);
        if (1..200).contains(&first) && lines.iter().all(|l| count(l) == first) {
            return Some(d);
        }
    }
    None
}

/// Per-file parser state and the fields and cells of the current piece.
pub struct Structure {
    pub format: Format,
    pub fields: Vec<FieldInfo>,
    pub cells: Vec<Cell>,
    csv: CsvState,
    json: JsonState,
    sql: crate::sql::SqlState,
    /// Index of each field name in `fields`, for this piece.
    in_piece: HashMap<String, usize>,
    /// Field information by name, cached across pieces of one file.
    cache: HashMap<String, FieldInfo>,
}

#[derive(Default)]
struct CsvState {
    header: Option<Vec<String>>,
    header_done: bool,
    /// The first row is the header whatever it looks like (tables read by `risk`).
    force_header: bool,
    row: u64,
    in_quotes: bool,
    /// The column the next piece starts in, when a piece ended inside a row.
    carry_col: Option<usize>,
}

#[derive(Default)]
struct JsonState {
    stack: Vec<Frame>,
    /// Inside a string that started in an earlier piece: (is a key, partial key text).
    open_string: Option<(bool, String)>,
    escape: bool,
    next_record: u64,
    broken: bool,
}

#[derive(Debug, Clone)]
enum Frame {
    Object {
        key: Option<String>,
        expect_key: bool,
        record: u64,
    },
    Array {
        index: usize,
    },
}

impl Structure {
    pub fn new(format: Format) -> Structure {
        Structure {
            format,
            fields: Vec::new(),
            cells: Vec::new(),
            csv: CsvState::default(),
            json: JsonState::default(),
            sql: Default::default(),
            in_piece: HashMap::new(),
            cache: HashMap::new(),
        }
    }

    /// A CSV/TSV parser whose first row is always the header (for tables whose layout is known).
    pub fn with_header_row(format: Format) -> Structure {
        let mut s = Structure::new(format);
        s.csv.force_header = true;
        s
    }

    /// The CSV/TSV header, once read.
    pub fn csv_header(&self) -> Option<&[String]> {
        self.csv.header.as_deref()
    }

    /// Whether the text is a table or a document of keys (so text outside cells is headers
    /// and keys, not prose). A JSON file that turned out not to be JSON is prose.
    pub fn is_structured(&self) -> bool {
        self.format != Format::Text && !(self.format == Format::Json && self.json.broken)
    }

    /// Whether a CSV piece may end at this newline (not inside a quoted field), given the text
    /// from the last decision point; used by the chunker. Updates nothing.
    pub fn csv_quote_parity(&self) -> bool {
        self.csv.in_quotes
    }

    /// Parses the folded piece `text` from `from`, filling `fields` and `cells`.
    pub fn parse(&mut self, rules: &RuleSet, text: &str, from: usize) {
        self.fields.clear();
        self.in_piece.clear();
        self.cells.clear();
        match self.format {
            Format::Text => {}
            Format::Csv(d) => self.parse_csv(rules, text, from, d),
            Format::Json => self.parse_json(rules, text, from),
            Format::Sql => self.parse_sql(rules, text, from),
        }
    }

    /// The index in this piece's `fields` of the field called `name` (computed once per file).
    fn field(&mut self, rules: &RuleSet, name: &str, keys: &[&str]) -> usize {
        if let Some(&i) = self.in_piece.get(name) {
            return i;
        }
        let info = self
            .cache
            .entry(name.to_string())
            .or_insert_with(|| FieldInfo::new(rules, name.to_string(), keys))
            .clone();
        self.fields.push(info);
        self.in_piece.insert(name.to_string(), self.fields.len() - 1);
        self.fields.len() - 1
    }

    fn parse_csv(&mut self, rules: &RuleSet, text: &str, from: usize, delim: u8) {
        let b = text.as_bytes();
        let mut i = from;
        let mut row_cells: Vec<(usize, usize)> = Vec::new();
        let mut cell_start = i;
        let mut field_idx: Vec<usize> = Vec::new();
        while i <= b.len() {
            let at_end = i == b.len();
            let c = if at_end { b'\n' } else { b[i] };
            if self.csv.in_quotes && !at_end {
                if c == b'"' {
                    if i + 1 < b.len() && b[i + 1] == b'"' {
                        i += 2;
                        continue;
                    }
                    self.csv.in_quotes = false;
                }
                i += 1;
                continue;
            }
            if c == b'"' && !at_end {
                self.csv.in_quotes = true;
            } else if c == delim || c == b'\n' {
                let mut e = i;
                if c == b'\n' && e > cell_start && b[e - 1] == b'\r' {
                    e -= 1;
                }
                row_cells.push((cell_start, e));
                cell_start = i + 1;
                if c == b'\n' {
                    let empty_tail = at_end && row_cells.len() == 1 && row_cells[0].0 == row_cells[0].1;
                    if !empty_tail {
                        self.csv_row(rules, text, &row_cells, &mut field_idx);
                    }
                    self.csv.carry_col =
                        (at_end && !empty_tail).then(|| self.csv.carry_col.unwrap_or(0) + row_cells.len() - 1);
                    row_cells.clear();
                }
            }
            i += 1;
        }
    }

    fn csv_row(&mut self, rules: &RuleSet, text: &str, row: &[(usize, usize)], field_idx: &mut Vec<usize>) {
        let unquote = |s: &str| s.trim().trim_matches('"').trim().to_string();
        let first_col = self.csv.carry_col;
        if !self.csv.header_done {
            self.csv.header_done = true;
            let names: Vec<String> = row.iter().map(|&(s, e)| unquote(&text[s..e])).collect();
            // A header names its columns; a first row of values is data.
            // A header names its columns: no cell is empty, none is a number, none holds a
            // value-sized digit run (a first row of data is not a header).
            let looks_like_header = names.iter().all(|n| {
                let mut run = 0;
                let mut longest = 0;
                for c in n.chars() {
                    if crate::fold::fold_char(c, false, false).is_ascii_digit() {
                        run += 1;
                        longest = longest.max(run);
                    } else {
                        run = 0;
                    }
                }
                !n.is_empty()
                    && longest < 6
                    && !n
                        .bytes()
                        .all(|c| c.is_ascii_digit() || c == b'-' || c == b' ' || c == b'.')
            });
            if looks_like_header || self.csv.force_header {
                self.csv.header = Some(names);
                return;
            }
        }
        if self.csv.header.is_none() {
            return;
        }
        if field_idx.is_empty() {
            let header = self.csv.header.clone().unwrap_or_default();
            for h in &header {
                let k = self.field(rules, h, &[h.as_str()]);
                field_idx.push(k);
            }
        }
        if first_col.is_none() {
            self.csv.row += 1;
        }
        let first_col = first_col.unwrap_or(0);
        for (k, &(s, e)) in row.iter().enumerate() {
            if let Some(&f) = field_idx.get(first_col + k) {
                self.cells.push(Cell {
                    start: s,
                    end: e,
                    field: f,
                    record: self.csv.row,
                });
            }
        }
    }

    fn parse_sql(&mut self, rules: &RuleSet, text: &str, from: usize) {
        let mut found = Vec::new();
        self.sql.parse(text, from, |c| {
            found.push((
                c.start,
                c.end,
                c.table.to_string(),
                c.column.unwrap_or("").to_string(),
                c.record,
            ))
        });
        for (start, end, table, column, record) in found {
            let name = if column.is_empty() {
                table.clone()
            } else {
                format!("{table}.{column}")
            };
            let f = self.field(rules, &name, &[column.as_str(), table.as_str()]);
            self.cells.push(Cell {
                start,
                end,
                field: f,
                record,
            });
        }
    }

    fn path(&self) -> (String, Vec<String>) {
        let mut p = String::from("$");
        let mut keys = Vec::new();
        for f in &self.json.stack {
            match f {
                Frame::Object { key: Some(k), .. } => {
                    if k.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        p.push('.');
                        p.push_str(k);
                    } else {
                        p.push_str(&format!("[{}]", serde_json::to_string(k).unwrap_or_default()));
                    }
                    keys.push(k.clone());
                }
                Frame::Object { key: None, .. } => {}
                Frame::Array { index } => p.push_str(&format!("[{index}]")),
            }
        }
        keys.reverse();
        (p, keys)
    }

    fn record(&self) -> u64 {
        self.json
            .stack
            .iter()
            .rev()
            .find_map(|f| match f {
                Frame::Object { record, .. } => Some(*record),
                _ => None,
            })
            .unwrap_or(0)
    }

    fn value_cell(&mut self, rules: &RuleSet, start: usize, end: usize) {
        let (path, keys) = self.path();
        let keys: Vec<&str> = keys.iter().take(2).map(String::as_str).collect();
        let f = self.field(rules, &path, &keys);
        let record = self.record();
        self.cells.push(Cell {
            start,
            end,
            field: f,
            record,
        });
    }

    fn parse_json(&mut self, rules: &RuleSet, text: &str, from: usize) {
        if self.json.broken {
            return;
        }
        let b = text.as_bytes();
        let mut i = from;
        if let Some((is_key, partial)) = self.json.open_string.take() {
            let (end, closed) = self.string_end(b, i);
            if is_key {
                let mut k = partial;
                k.push_str(&text[i..end]);
                if closed {
                    self.set_key(unescape(&k));
                } else {
                    self.json.open_string = Some((true, k));
                }
            } else {
                self.value_cell(rules, i, end);
                if !closed {
                    self.json.open_string = Some((false, String::new()));
                }
            }
            if !closed {
                return;
            }
            i = end + 1;
        }
        while i < b.len() {
            let c = b[i];
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'{' => {
                    self.json.next_record += 1;
                    let record = self.json.next_record;
                    self.json.stack.push(Frame::Object {
                        key: None,
                        expect_key: true,
                        record,
                    });
                    i += 1;
                }
                b'[' => {
                    self.json.stack.push(Frame::Array { index: 0 });
                    i += 1;
                }
                b'}' | b']' => {
                    self.json.stack.pop();
                    i += 1;
                }
                b',' => {
                    match self.json.stack.last_mut() {
                        Some(Frame::Object { expect_key, .. }) => *expect_key = true,
                        Some(Frame::Array { index }) => *index += 1,
                        None => {}
                    }
                    i += 1;
                }
                b':' => {
                    if let Some(Frame::Object { expect_key, .. }) = self.json.stack.last_mut() {
                        *expect_key = false;
                    }
                    i += 1;
                }
                b'"' => {
                    let is_key = matches!(self.json.stack.last(), Some(Frame::Object { expect_key: true, .. }));
                    let (end, closed) = self.string_end(b, i + 1);
                    if is_key {
                        if closed {
                            self.set_key(unescape(&text[i + 1..end]));
                        } else {
                            self.json.open_string = Some((true, text[i + 1..end].to_string()));
                        }
                    } else {
                        self.value_cell(rules, i + 1, end);
                        if !closed {
                            self.json.open_string = Some((false, String::new()));
                        }
                    }
                    if !closed {
                        return;
                    }
                    i = end + 1;
                }
                b'-' | b'0'..=b'9' => {
                    let s = i;
                    while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                        i += 1;
                    }
                    self.value_cell(rules, s, i);
                }
                b't' | b'f' | b'n' => {
                    while i < b.len() && b[i].is_ascii_alphabetic() {
                        i += 1;
                    }
                }
                _ => {
                    // Not JSON after all: the rest of the file is read as plain text.
                    self.json.broken = true;
                    self.cells.clear();
                    return;
                }
            }
        }
    }

    fn set_key(&mut self, k: String) {
        if let Some(Frame::Object { key, .. }) = self.json.stack.last_mut() {
            *key = Some(k);
        }
    }

    /// The end of a string starting at `i` (after its opening quote): the offset of the closing
    /// quote and true, or the end of the text and false.
    fn string_end(&mut self, b: &[u8], mut i: usize) -> (usize, bool) {
        while i < b.len() {
            if self.json.escape {
                self.json.escape = false;
            } else if b[i] == b'\\' {
                self.json.escape = true;
            } else if b[i] == b'"' {
                return (i, true);
            } else if b[i] == b'\n' {
                // JSON strings hold no raw newline: broken input, end the string here.
                return (i, true);
            }
            i += 1;
        }
        (i, false)
    }
}

fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    serde_json::from_str::<String>(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(fmt: Format, pieces: &[&str]) -> Vec<(String, String, u64)> {
        let rules = RuleSet::builtin();
        let mut s = Structure::new(fmt);
        let mut out = Vec::new();
        for p in pieces {
            s.parse(rules, p, 0);
            for c in &s.cells {
                out.push((s.fields[c.field].name.clone(), p[c.start..c.end].to_string(), c.record));
            }
        }
        out
    }

    #[test]
    fn csv_cells_have_headers() {
        let got = cells(
            Format::Csv(b','),
            &[
                "氏名,個人番号\n山田,\"5260 1815 9084\"\n",
                "佐藤,301661318600\n鈴木",
                ",913909960300\n",
            ],
        );
        assert_eq!(got[1], ("個人番号".into(), "\"5260 1815 9084\"".into(), 1));
        assert_eq!(got[3], ("個人番号".into(), "301661318600".into(), 2));
        assert_eq!(got[4], ("氏名".into(), "鈴木".into(), 3));
        assert_eq!(got[5], ("氏名".into(), "".into(), 3));
        assert_eq!(got[6], ("個人番号".into(), "913909960300".into(), 3));
    }

    #[test]
    fn json_paths() {
        let got = cells(
            Format::Json,
            &[
                "{\"user\": {\"passport_no\": \"TR88",
                "41203\", \"ids\": [1, 2]}}\n{\"\\u500b\\u4eba\\u756a\\u53f7\": 913909960300}\n",
            ],
        );
        assert_eq!(got[0].0, "$.user.passport_no");
        assert_eq!(got[0].1, "TR88");
        assert_eq!(got[1], ("$.user.passport_no".into(), "41203".into(), 2));
        assert_eq!(got[3].0, "$.user.ids[1]");
        assert_eq!(got[4].0, "$.個人番号");
    }
}
