//! S3 Inventory manifests as TARGETs (SPEC §10).
//!
//! A `manifest.json` is recognised by its name and its content (`sourceBucket`, `fileFormat`,
//! `fileSchema`, `files[].key`); anything else named `manifest.json` is scanned as a file. Its
//! data files are CSV (gzip, no header row, columns in the order of `fileSchema`, keys
//! URL-encoded with `+` for a space) or Parquet (columns by name, keys not encoded). They are
//! read from the bucket when the manifest was given as `s3://…/manifest.json` (from the
//! manifest's `destinationBucket`), else from local files beside the manifest: `ROOT/<key>` for
//! the first ancestor ROOT of the manifest's folder that holds it (a mirror of the destination
//! bucket), else `<folder>/<name>`, `<folder>/data/<name>` or `<folder>/../data/<name>`.
//!
//! Rows become work items `s3://bucket/key`, read by the listed version id when there is one:
//! - delete markers have no content: counted as skipped (`delete_marker`);
//! - non-current versions (`IsLatest` false) are scanned too, shown as
//!   `s3://bucket/key?versionId=V`: old versions keep personal data until they expire;
//! - with `--mirror-root DIR` the bytes come from `DIR/<key>`; a mirror holds current versions
//!   only, so non-current rows are counted as skipped (`noncurrent_version`); a listed object
//!   missing in the mirror or of another size is an `error` record when it is opened.

use super::{Listing, Options, Origin, WorkItem, object};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The parts of a `manifest.json` the scan uses.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub source_bucket: String,
    /// The bucket the data files are in (from `destinationBucket`, an ARN or a name).
    pub destination_bucket: Option<String>,
    /// `CSV`, `Parquet` (`ORC` is refused with a clear message).
    pub file_format: String,
    pub file_schema: String,
    pub files: Vec<String>,
}

impl Manifest {
    /// The manifest, or `None` when these bytes are not an S3 Inventory manifest.
    pub fn parse(bytes: &[u8]) -> Option<Manifest> {
        let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        let files = v
            .get("files")?
            .as_array()?
            .iter()
            .map(|f| f.get("key").and_then(|k| k.as_str()).map(String::from))
            .collect::<Option<Vec<_>>>()?;
        Some(Manifest {
            source_bucket: v.get("sourceBucket")?.as_str()?.to_string(),
            destination_bucket: v
                .get("destinationBucket")
                .and_then(|d| d.as_str())
                .map(|d| d.rsplit(':').next().unwrap_or(d).to_string()),
            file_format: v.get("fileFormat")?.as_str()?.to_string(),
            file_schema: v.get("fileSchema")?.as_str()?.to_string(),
            files,
        })
    }
}

/// Where the data files of a manifest are read from.
#[derive(Debug, Clone)]
pub enum DataFrom {
    /// The manifest is this local file.
    Local(PathBuf),
    /// The manifest is this object.
    Store(object::ObjectUrl),
}

/// One row of an inventory, decoded.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Row {
    pub bucket: Option<String>,
    pub key: String,
    pub version: Option<String>,
    pub is_latest: bool,
    pub delete_marker: bool,
    pub size: Option<u64>,
    pub modified: Option<i64>,
    pub etag: Option<String>,
}

/// Column names compared without case and underscores: `VersionId` = `version_id`.
fn norm(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Decodes a key of an inventory CSV: `+` is a space, then percent-decoding (form rules).
pub fn decode_key(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn parse_time(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos()).ok()
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn nonempty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty() && s != "null").then(|| s.to_string())
}

/// The rows of a CSV data file (already decompressed), in the columns of `schema`.
pub fn csv_rows(schema: &str, reader: impl Read) -> anyhow::Result<Vec<Row>> {
    let cols: Vec<String> = schema.split(',').map(norm).collect();
    let at = |name: &str| cols.iter().position(|c| c == name);
    let key_at = at("key").ok_or_else(|| anyhow::anyhow!("the inventory's fileSchema has no Key column"))?;
    let (bucket, version, latest, marker, size, modified, etag) = (
        at("bucket"),
        at("versionid"),
        at("islatest"),
        at("isdeletemarker"),
        at("size"),
        at("lastmodifieddate"),
        at("etag"),
    );
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec?;
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("");
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        rows.push(Row {
            bucket: nonempty(get(bucket)),
            key: decode_key(get(Some(key_at))),
            version: nonempty(get(version)),
            is_latest: parse_bool(get(latest)).unwrap_or(true),
            delete_marker: parse_bool(get(marker)).unwrap_or(false),
            size: get(size).trim().parse().ok(),
            modified: parse_time(get(modified)),
            etag: nonempty(get(etag)).map(|e| object::unquote(&e)),
        });
    }
    Ok(rows)
}

/// The rows of a Parquet data file.
pub fn parquet_rows(data: bytes::Bytes) -> anyhow::Result<Vec<Row>> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let reader = SerializedFileReader::new(data)?;
    let mut rows = Vec::new();
    for r in reader.get_row_iter(None)? {
        let r = r?;
        let mut row = Row {
            is_latest: true,
            ..Default::default()
        };
        for (name, field) in r.get_column_iter() {
            let text = || match field {
                Field::Str(s) => nonempty(s),
                Field::Bytes(b) => b.as_utf8().ok().and_then(nonempty),
                _ => None,
            };
            let int = || match field {
                Field::Long(v) => Some(*v),
                Field::Int(v) => Some(i64::from(*v)),
                Field::ULong(v) => i64::try_from(*v).ok(),
                Field::UInt(v) => Some(i64::from(*v)),
                _ => None,
            };
            let flag = || match field {
                Field::Bool(b) => Some(*b),
                _ => text().and_then(|t| parse_bool(&t)),
            };
            match norm(name).as_str() {
                "bucket" => row.bucket = text(),
                "key" => row.key = text().unwrap_or_default(),
                "versionid" => row.version = text(),
                "islatest" => row.is_latest = flag().unwrap_or(true),
                "isdeletemarker" => row.delete_marker = flag().unwrap_or(false),
                "size" => row.size = int().and_then(|v| u64::try_from(v).ok()),
                "etag" => row.etag = text().map(|e| object::unquote(&e)),
                "lastmodifieddate" => {
                    row.modified = match field {
                        // A timestamp without zone: UTC.
                        Field::TimestampMillis(ms) => ms.checked_mul(1_000_000),
                        Field::TimestampMicros(us) => us.checked_mul(1_000),
                        _ => int()
                            .and_then(|ms| ms.checked_mul(1_000_000))
                            .or_else(|| text().and_then(|t| parse_time(&t))),
                    }
                }
                _ => {}
            }
        }
        anyhow::ensure!(!row.key.is_empty(), "a Parquet inventory row without a key");
        rows.push(row);
    }
    Ok(rows)
}

/// The bytes of one data file.
fn read_data(m: &Manifest, from: &DataFrom, key: &str) -> anyhow::Result<Vec<u8>> {
    match from {
        DataFrom::Store(url) => {
            let bucket = m.destination_bucket.clone().unwrap_or_else(|| url.bucket.clone());
            let data = object::ObjectUrl {
                scheme: url.scheme.clone(),
                bucket,
                key: key.to_string(),
            };
            object::get_all(&data, None).map_err(|e| anyhow::anyhow!("inventory data file {data}: {e}"))
        }
        DataFrom::Local(manifest) => {
            let path = local_data_path(manifest, key).ok_or_else(|| {
                anyhow::anyhow!(
                    "inventory data file {key} of {} not found beside the manifest",
                    manifest.display()
                )
            })?;
            std::fs::read(&path).map_err(|e| anyhow::anyhow!("inventory data file {}: {e}", path.display()))
        }
    }
}

/// Where a data file of a local manifest is: see the module documentation.
pub fn local_data_path(manifest: &Path, key: &str) -> Option<PathBuf> {
    let dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let name = key.rsplit('/').next().unwrap_or(key);
    for a in dir.ancestors() {
        if let Some(p) = super::mirror_path(a, key).filter(|p| p.is_file()) {
            return Some(p);
        }
    }
    [
        dir.join(name),
        dir.join("data").join(name),
        dir.join("..").join("data").join(name),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

fn gunzip_if_needed(data: Vec<u8>) -> io::Result<Vec<u8>> {
    if data.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&data[..]).read_to_end(&mut out)?;
        Ok(out)
    } else {
        Ok(data)
    }
}

/// Every row of every data file of the manifest.
pub fn rows(m: &Manifest, from: &DataFrom) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for key in &m.files {
        let data = read_data(m, from, key)?;
        match m.file_format.to_ascii_lowercase().as_str() {
            "csv" => {
                let data = gunzip_if_needed(data).map_err(|e| anyhow::anyhow!("inventory data file {key}: {e}"))?;
                rows.extend(
                    csv_rows(&m.file_schema, &data[..])
                        .map_err(|e| anyhow::anyhow!("inventory data file {key}: {e}"))?,
                );
            }
            "parquet" => rows.extend(
                parquet_rows(bytes::Bytes::from(data))
                    .map_err(|e| anyhow::anyhow!("inventory data file {key}: {e}"))?,
            ),
            other => anyhow::bail!("inventory format {other} is not supported (CSV and Parquet are)"),
        }
    }
    Ok(rows)
}

/// The work items of a manifest (see the module documentation for what each row becomes).
pub fn items(m: &Manifest, from: &DataFrom, options: &Options) -> anyhow::Result<Listing> {
    let scheme = match from {
        DataFrom::Store(u) => u.scheme.clone(),
        DataFrom::Local(_) => "s3".to_string(),
    };
    let mut listing = Listing::default();
    for row in rows(m, from)? {
        if row.delete_marker {
            *listing.skipped.entry("delete_marker").or_default() += 1;
            continue;
        }
        let bucket = row.bucket.clone().unwrap_or_else(|| m.source_bucket.clone());
        let base = format!("{scheme}://{bucket}/{}", row.key);
        let uri = match (&row.version, row.is_latest) {
            (Some(v), false) => format!("{base}?versionId={v}"),
            _ => base,
        };
        let origin = match &options.mirror_root {
            None => Origin::Object,
            Some(_) if !row.is_latest => {
                *listing.skipped.entry("noncurrent_version").or_default() += 1;
                continue;
            }
            Some(root) => match super::mirror_path(root, &row.key) {
                Some(p) => Origin::Mirror(p),
                None => {
                    *listing.skipped.entry("unsafe_key").or_default() += 1;
                    continue;
                }
            },
        };
        listing.items.push(WorkItem {
            uri,
            shard_key: format!("{bucket}/{}", row.key),
            size: row.size,
            modified: row.modified,
            etag: row.etag,
            version: row.version,
            origin,
        });
    }
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_form_decoded() {
        assert_eq!(
            decode_key("%E9%A1%A7%E5%AE%A2+%E3%83%AA%E3%82%B9%E3%83%88/a%2Bb+2024.txt"),
            "顧客 リスト/a+b 2024.txt"
        );
        assert_eq!(decode_key("plain/key.csv"), "plain/key.csv");
        assert_eq!(decode_key("bad%zz%"), "bad%zz%");
    }

    #[test]
    fn manifests_are_recognised_by_content() {
        let m = br#"{"sourceBucket":"src","destinationBucket":"arn:aws:s3:::dest","version":"2016-11-30",
            "fileFormat":"CSV","fileSchema":"Bucket, Key, Size","files":[{"key":"inv/data/a.csv.gz","size":1}]}"#;
        let m = Manifest::parse(m).unwrap();
        assert_eq!(m.destination_bucket.as_deref(), Some("dest"));
        assert_eq!(m.files, vec!["inv/data/a.csv.gz"]);
        assert!(Manifest::parse(br#"{"name":"app","icons":[]}"#).is_none());
    }

    #[test]
    fn csv_rows_follow_the_schema() {
        let data = "\"src\",\"a+b/c%2B.csv\",\"v1\",\"false\",\"false\",\"12\",\"2026-11-29T12:25:30.000Z\",\"abc\"\n\n\
                    \"src\",\"gone.csv\",\"v2\",\"true\",\"true\",\"\",\"2026-11-29T12:25:30.000Z\",\"\"\n";
        let rows = csv_rows(
            "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag",
            data.as_bytes(),
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].key, "a b/c+.csv");
        assert_eq!(rows[0].version.as_deref(), Some("v1"));
        assert!(!rows[0].is_latest);
        assert_eq!(rows[0].size, Some(12));
        assert!(rows[0].modified.is_some());
        assert!(rows[1].delete_marker);
    }
}
