//! Work lists (SPEC §10): `--worklist FILE` (`-`: standard input) names one input per line.
//!
//! A line is, after removing leading and trailing white space:
//! - empty, or starting with `#`: ignored (write `./#name` for a file whose name starts with `#`);
//! - `scheme://…` (`s3://`, `gs://`, `az://`, …): an object URL;
//! - `bucket,key[,versionId]` when the text before the first comma is a valid bucket name (3–63
//!   of `a-z 0-9 . -`, no `/`); fields may be double-quoted (`"b","k"`, `""` for a quote), as in
//!   an S3 Inventory CSV; a key holding a comma must be quoted (write `./a,b.csv` for a local
//!   file named like that);
//! - otherwise a local path (a file or a directory), relative paths against the current directory.

/// Opens a work list: `-` is standard input. An error here is fatal (exit 2): no item is known.
pub fn open(source: &str) -> anyhow::Result<Box<dyn std::io::BufRead + Send>> {
    if source == "-" {
        return Ok(Box::new(std::io::BufReader::new(std::io::stdin())));
    }
    let f = std::fs::File::open(source).map_err(|e| anyhow::anyhow!("--worklist {source}: {e}"))?;
    Ok(Box::new(std::io::BufReader::with_capacity(1 << 16, f)))
}

/// One work-list item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A local file or directory, as written.
    Local(String),
    /// An object store URL (`s3://bucket/key`, `gs://…`, `az://…`).
    Url(String),
    /// `bucket,key[,versionId]`.
    Object {
        bucket: String,
        key: String,
        version: Option<String>,
    },
}

impl Item {
    /// The shard key (SPEC §10): the path as written for a local item, `bucket/key` for an
    /// object (the part of a URL after `scheme://`).
    pub fn key(&self) -> String {
        match self {
            Item::Local(p) => p.clone(),
            Item::Url(u) => u.split_once("://").map_or(u.as_str(), |(_, rest)| rest).to_string(),
            Item::Object { bucket, key, .. } => format!("{bucket}/{key}"),
        }
    }

    /// How the item is shown in reports (`path` of its records).
    pub fn shown(&self) -> String {
        match self {
            Item::Local(p) | Item::Url(p) => p.clone(),
            Item::Object { bucket, key, version } => match version {
                Some(v) => format!("s3://{bucket}/{key}?versionId={v}"),
                None => format!("s3://{bucket}/{key}"),
            },
        }
    }
}

/// A line that names nothing scannable: why (shown in an `error` record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine(pub String);

fn bucket_name(s: &str) -> bool {
    (3..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
}

/// Splits a CSV line (RFC 4180 quoting).
fn csv_fields(line: &str) -> Result<Vec<String>, BadLine> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == '"' && at_start {
            quoted = true;
            at_start = false;
        } else if c == ',' {
            fields.push(std::mem::take(&mut cur));
            at_start = true;
        } else {
            cur.push(c);
            at_start = false;
        }
    }
    if quoted {
        return Err(BadLine("an unterminated quoted field".into()));
    }
    fields.push(cur);
    Ok(fields)
}

/// Parses one line. `Ok(None)`: blank or a comment.
pub fn parse_line(raw: &str) -> Result<Option<Item>, BadLine> {
    let line = raw.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    if line == "-" {
        return Err(BadLine(
            "`-` (standard input) is not a work-list item; write ./- for a file named -".into(),
        ));
    }
    if let Some((scheme, rest)) = line.split_once("://")
        && !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-')
    {
        if rest.is_empty() {
            return Err(BadLine(format!("{scheme}:// URL without a bucket")));
        }
        return Ok(Some(Item::Url(line.to_string())));
    }
    let first = line.split(',').next().unwrap_or("").trim_matches('"');
    if line.contains(',') && bucket_name(first) {
        let f = csv_fields(line)?;
        return match f.len() {
            2 | 3 if !f[1].is_empty() => Ok(Some(Item::Object {
                bucket: f[0].clone(),
                key: f[1].clone(),
                version: f.get(2).filter(|v| !v.is_empty()).cloned(),
            })),
            2 | 3 => Err(BadLine("bucket,key[,versionId] with an empty key".into())),
            n => Err(BadLine(format!(
                "bucket,key[,versionId] line with {n} fields: quote a key that holds a comma"
            ))),
        };
    }
    Ok(Some(Item::Local(line.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(parse_line("  "), Ok(None));
        assert_eq!(parse_line("# a comment"), Ok(None));
        assert_eq!(parse_line("data/a.csv\r"), Ok(Some(Item::Local("data/a.csv".into()))));
        assert_eq!(parse_line("./#odd"), Ok(Some(Item::Local("./#odd".into()))));
        assert_eq!(parse_line("/abs/x,y.csv"), Ok(Some(Item::Local("/abs/x,y.csv".into()))));
        assert_eq!(parse_line("Dir,x.csv"), Ok(Some(Item::Local("Dir,x.csv".into()))));
        let u = parse_line("s3://bkt/a/b.csv").unwrap().unwrap();
        assert_eq!(u, Item::Url("s3://bkt/a/b.csv".into()));
        assert_eq!(u.key(), "bkt/a/b.csv");
        let o = parse_line("my-bucket,dir/k.csv,v1").unwrap().unwrap();
        assert_eq!(
            o,
            Item::Object {
                bucket: "my-bucket".into(),
                key: "dir/k.csv".into(),
                version: Some("v1".into())
            }
        );
        assert_eq!(o.key(), "my-bucket/dir/k.csv");
        let q = parse_line(r#""my-bucket","a,""b"".csv""#).unwrap().unwrap();
        assert_eq!(q.key(), r#"my-bucket/a,"b".csv"#);
        assert!(parse_line("my-bucket,a,b,c").is_err());
        assert!(parse_line("my-bucket,").is_err());
        assert!(parse_line("s3://").is_err());
    }
}
