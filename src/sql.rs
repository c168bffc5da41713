//! SQL dumps from mysqldump and pg_dump: `INSERT … VALUES (…),(…);` tuples and `COPY … FROM
//! stdin;` rows become cells named `table.column`, with column names from the statement or from
//! the `CREATE TABLE` before it. Incremental: a statement may span pieces.

use std::collections::HashMap;

/// A value found in a dump: its span in the piece, table, column and record number.
pub struct SqlCell<'a> {
    pub start: usize,
    pub end: usize,
    pub table: &'a str,
    pub column: Option<&'a str>,
    pub record: u64,
}

#[derive(Default)]
pub struct SqlState {
    tables: HashMap<String, Vec<String>>,
    create: Option<(String, Vec<String>)>,
    mode: Mode,
    record: u64,
}

#[derive(Default)]
enum Mode {
    #[default]
    Idle,
    Insert {
        table: String,
        columns: Vec<String>,
        col: usize,
        in_tuple: bool,
        /// Inside a quoted string that began in an earlier piece, or at this offset.
        in_str: bool,
        escape: bool,
    },
    Copy {
        table: String,
        columns: Vec<String>,
    },
}

/// `` `name` ``, `"name"`, `public.name` → `name` (the last part, unquoted).
fn ident(s: &str) -> String {
    let last = s.rsplit('.').next().unwrap_or(s);
    last.trim_matches(|c| c == '`' || c == '"' || c == '[' || c == ']')
        .to_string()
}

fn column_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|c| ident(c.trim()))
        .filter(|c| !c.is_empty())
        .collect()
}

/// Whether a dump starts like one (used to recognise `.sql` files and unnamed dumps).
pub fn looks_like_dump(first: &str) -> bool {
    let head: String = first.chars().take(4096).collect::<String>().to_ascii_uppercase();
    head.contains("-- MYSQL DUMP")
        || head.contains("-- POSTGRESQL DATABASE DUMP")
        || head.contains("INSERT INTO ")
        || head.contains("CREATE TABLE ")
}

impl SqlState {
    /// Parses `text` from `from`, calling `cell` for every value.
    pub fn parse(&mut self, text: &str, from: usize, mut cell: impl FnMut(SqlCell)) {
        let b = text.as_bytes();
        let mut i = from;
        while i < b.len() {
            match &mut self.mode {
                Mode::Insert {
                    table,
                    columns,
                    col,
                    in_tuple,
                    in_str,
                    escape,
                } => {
                    if *in_str {
                        // Continue the string from `i`.
                        let start = i;
                        let mut j = i;
                        let mut closed = false;
                        while j < b.len() {
                            if *escape {
                                *escape = false;
                            } else if b[j] == b'\\' {
                                *escape = true;
                            } else if b[j] == b'\'' {
                                if j + 1 < b.len() && b[j + 1] == b'\'' {
                                    j += 2;
                                    continue;
                                }
                                closed = true;
                                break;
                            }
                            j += 1;
                        }
                        cell(SqlCell {
                            start,
                            end: j,
                            table,
                            column: columns.get(*col).map(String::as_str),
                            record: self.record,
                        });
                        if closed {
                            *in_str = false;
                            i = j + 1;
                        } else {
                            i = j;
                        }
                        continue;
                    }
                    let c = b[i];
                    if !*in_tuple {
                        match c {
                            b'(' => {
                                *in_tuple = true;
                                *col = 0;
                                self.record += 1;
                            }
                            b';' => self.mode = Mode::Idle,
                            _ => {}
                        }
                        i += 1;
                        continue;
                    }
                    match c {
                        b'\'' => {
                            *in_str = true;
                            i += 1;
                        }
                        b',' => {
                            *col += 1;
                            i += 1;
                        }
                        b')' => {
                            *in_tuple = false;
                            i += 1;
                        }
                        b'-' | b'0'..=b'9' => {
                            let s = i;
                            while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                                i += 1;
                            }
                            cell(SqlCell {
                                start: s,
                                end: i,
                                table,
                                column: columns.get(*col).map(String::as_str),
                                record: self.record,
                            });
                        }
                        _ => i += 1,
                    }
                }
                Mode::Copy { table, columns } => {
                    let end = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |p| i + p);
                    let line = &text[i..end];
                    if line.trim_end_matches('\r') == "\\." {
                        self.mode = Mode::Idle;
                    } else {
                        self.record += 1;
                        let mut s = i;
                        for (k, v) in line.split('\t').enumerate() {
                            if v != "\\N" && !v.is_empty() {
                                cell(SqlCell {
                                    start: s,
                                    end: s + v.len(),
                                    table,
                                    column: columns.get(k).map(String::as_str),
                                    record: self.record,
                                });
                            }
                            s += v.len() + 1;
                        }
                    }
                    i = end + 1;
                }
                Mode::Idle => {
                    let end = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |p| i + p);
                    let line = text[i..end].trim();
                    let upper: String = line.chars().take(32).collect::<String>().to_ascii_uppercase();
                    if let Some((name, cols)) = &mut self.create {
                        if line.starts_with(')') {
                            let (name, cols) = (std::mem::take(name), std::mem::take(cols));
                            self.tables.insert(name, cols);
                            self.create = None;
                        } else if let Some(first) = line.split_whitespace().next() {
                            let up = first.to_ascii_uppercase();
                            let keyword = [
                                "PRIMARY",
                                "KEY",
                                "UNIQUE",
                                "CONSTRAINT",
                                "INDEX",
                                "FOREIGN",
                                "CHECK",
                                "FULLTEXT",
                            ];
                            if !keyword.contains(&up.as_str()) {
                                cols.push(ident(first.trim_end_matches(',')));
                            }
                        }
                        i = end + 1;
                        continue;
                    }
                    if upper.starts_with("CREATE TABLE") {
                        let rest = line["CREATE TABLE".len()..].trim_start();
                        let rest = rest.strip_prefix("IF NOT EXISTS").map_or(rest, str::trim_start);
                        let name = rest.split(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
                        self.create = Some((ident(name), Vec::new()));
                        i = end + 1;
                    } else if upper.starts_with("INSERT INTO") {
                        let start_of_line = i + (text[i..end].len() - text[i..end].trim_start().len());
                        let rest = &line["INSERT INTO".len()..];
                        let upper_rest = rest.to_ascii_uppercase();
                        let Some(v) = upper_rest.find("VALUES") else {
                            i = end + 1;
                            continue;
                        };
                        let head = rest[..v].trim();
                        let (name, cols) = match head.find('(') {
                            Some(p) => (
                                ident(head[..p].trim()),
                                column_list(head[p + 1..].trim_end_matches(')')),
                            ),
                            None => (ident(head), Vec::new()),
                        };
                        let columns = if cols.is_empty() {
                            self.tables.get(&name).cloned().unwrap_or_default()
                        } else {
                            cols
                        };
                        self.mode = Mode::Insert {
                            table: name,
                            columns,
                            col: 0,
                            in_tuple: false,
                            in_str: false,
                            escape: false,
                        };
                        i = start_of_line + "INSERT INTO".len() + v + "VALUES".len();
                    } else if upper.starts_with("COPY ") && line.to_ascii_uppercase().ends_with("FROM STDIN;") {
                        let head = &line[5..line.len() - "FROM stdin;".len()];
                        let (name, cols) = match head.find('(') {
                            Some(p) => (
                                ident(head[..p].trim()),
                                column_list(head[p + 1..].trim().trim_end_matches(')')),
                            ),
                            None => (ident(head.trim()), Vec::new()),
                        };
                        let columns = if cols.is_empty() {
                            self.tables.get(&name).cloned().unwrap_or_default()
                        } else {
                            cols
                        };
                        self.mode = Mode::Copy { table: name, columns };
                        i = end + 1;
                    } else {
                        i = end + 1;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(pieces: &[&str]) -> Vec<(String, String, String, u64)> {
        let mut st = SqlState::default();
        let mut out = Vec::new();
        for p in pieces {
            st.parse(p, 0, |c| {
                out.push((
                    c.table.to_string(),
                    c.column.unwrap_or("").to_string(),
                    p[c.start..c.end].to_string(),
                    c.record,
                ))
            });
        }
        out
    }

    #[test]
    fn mysqldump_inserts() {
        let dump = "CREATE TABLE `users` (\n  `id` int NOT NULL,\n  `name` varchar(20),\n  `my_number` char(12),\n  PRIMARY KEY (`id`)\n);\nINSERT INTO `users` VALUES (1,'山田','526018159084'),(2,'O\\'Brien','3016 6131 8600');\n";
        let got = cells(&[dump]);
        assert_eq!(got[2], ("users".into(), "my_number".into(), "526018159084".into(), 1));
        assert_eq!(got[4], ("users".into(), "name".into(), "O\\'Brien".into(), 2));
        assert_eq!(got[5].1, "my_number");
    }

    #[test]
    fn pg_dump_copy() {
        let dump =
            "COPY public.members (id, name, passport_no) FROM stdin;\n1\t佐藤\tTR8841203\n2\t\\N\tMU5550123\n\\.\n";
        let got = cells(&[dump]);
        assert_eq!(got[2], ("members".into(), "passport_no".into(), "TR8841203".into(), 1));
        assert_eq!(got[4], ("members".into(), "passport_no".into(), "MU5550123".into(), 2));
    }

    #[test]
    fn strings_across_pieces() {
        let got = cells(&["INSERT INTO t (a, b) VALUES (1,'abc", "def'),(2,'x');\n"]);
        assert_eq!(got[1].2, "abc");
        assert_eq!(got[2].2, "def");
        assert_eq!(got[2].1, "b");
    }
}
