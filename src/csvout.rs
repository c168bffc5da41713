//! `--format csv`: one finding per row with the fields of SPEC §4 (RFC 4180), written as the
//! records arrive. The README's "CSV" section describes the choices:
//! - UTF-8 with a byte-order mark (Excel opens UTF-8 CSV correctly only with one), CRLF line ends;
//! - a leading `type` column: `finding` rows, and `error` rows (path, member, `kind`, `message`)
//!   so that an input that could not be scanned is never silently missing; no summary row;
//! - `member` joined with ` > `, `evidence` with `;`; `value` only with `--show-values`;
//! - a cell starting with `=`, `+`, `-`, `@`, TAB or CR gets a leading `'` (formula injection).

use crate::report::{ErrorRecord, Finding, Sink, Summary};
use std::borrow::Cow;
use std::io::{self, Write};

/// The columns, in order; `value` only when values are shown.
pub const COLUMNS: [&str; 19] = [
    "type",
    "rule",
    "category",
    "confidence",
    "score",
    "path",
    "member",
    "line",
    "column",
    "field",
    "masked",
    "fingerprint",
    "validated",
    "evidence",
    "legal_basis",
    "status",
    "value",
    "kind",
    "message",
];

/// How `member` and `evidence` lists become one cell.
pub const MEMBER_SEPARATOR: &str = " > ";
pub const EVIDENCE_SEPARATOR: &str = ";";

pub struct CsvSink<W: Write> {
    out: W,
    show_values: bool,
    started: bool,
}

impl<W: Write> CsvSink<W> {
    pub fn new(out: W) -> Self {
        CsvSink {
            out,
            show_values: false,
            started: false,
        }
    }

    /// With `--show-values`: adds the `value` column (known before the first row, so that the
    /// header does not depend on which record comes first).
    pub fn show_values(mut self, yes: bool) -> Self {
        self.show_values = yes;
        self
    }

    fn start(&mut self) -> io::Result<()> {
        if !self.started {
            self.started = true;
            self.out.write_all("\u{FEFF}".as_bytes())?;
            let header: Vec<&str> = COLUMNS
                .iter()
                .copied()
                .filter(|&c| c != "value" || self.show_values)
                .collect();
            self.row(&header)?;
        }
        Ok(())
    }

    fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> io::Result<()> {
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            self.out.write_all(cell(c.as_ref()).as_bytes())?;
        }
        self.out.write_all(b"\r\n")
    }

    /// The cells of one row in [`COLUMNS`] order, `value` left out unless values are shown.
    fn cells(&self, mut cells: Vec<String>) -> Vec<String> {
        if !self.show_values {
            cells.remove(16);
        }
        cells
    }
}

impl<W: Write> Sink for CsvSink<W> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        self.start()?;
        let opt = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
        let cells = self.cells(vec![
            "finding".into(),
            f.rule.clone(),
            f.category.clone(),
            f.confidence.into(),
            serde_json::to_string(&f.score).unwrap_or_default(),
            f.path.clone(),
            f.member.as_ref().map(|m| m.join(MEMBER_SEPARATOR)).unwrap_or_default(),
            opt(f.line),
            opt(f.column),
            f.field.clone().unwrap_or_default(),
            f.masked.clone(),
            f.fingerprint.clone(),
            f.validated.to_string(),
            f.evidence.join(EVIDENCE_SEPARATOR),
            f.legal_basis.clone(),
            f.status.unwrap_or_default().into(),
            f.value.clone().unwrap_or_default(),
            String::new(),
            String::new(),
        ]);
        self.row(&cells)
    }

    fn error(&mut self, e: &ErrorRecord) -> io::Result<()> {
        self.start()?;
        let mut cells = vec![String::new(); COLUMNS.len()];
        cells[0] = "error".into();
        cells[5] = e.path.clone();
        cells[6] = e.member.as_ref().map(|m| m.join(MEMBER_SEPARATOR)).unwrap_or_default();
        cells[17] = e.kind.into();
        cells[18] = e.message.clone();
        let cells = self.cells(cells);
        self.row(&cells)
    }

    fn finish(&mut self, _s: &Summary) -> io::Result<()> {
        // An empty report still has its header.
        self.start()?;
        self.out.flush()
    }
}

/// One RFC 4180 cell: a leading `'` before `=`, `+`, `-`, `@`, TAB or CR (a spreadsheet would
/// take the cell for a formula); quoted when it holds a comma, a quote, CR or LF, inner quotes
/// doubled.
pub fn cell(s: &str) -> Cow<'_, str> {
    let guarded: Cow<'_, str> = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", guarded.replace('"', "\"\"")))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_and_guarded() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell(""), "");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("cr\rhere"), "\"cr\rhere\"");
        assert_eq!(cell("=1+2"), "'=1+2");
        assert_eq!(cell("+81"), "'+81");
        assert_eq!(cell("-x"), "'-x");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(cell("=a,b"), "\"'=a,b\"");
        assert_eq!(cell("********9018"), "********9018");
        assert_eq!(cell("1234-****"), "1234-****");
    }
}
