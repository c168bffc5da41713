//! Containers and documents: a stream is sniffed by its magic bytes (the name only breaks ties)
//! and unpacked — gzip, zstd, bzip2, xz, tar, zip — recursively, member by member, without
//! temporary files. Office documents (docx, pptx, xlsx) become text and cells. Every limit
//! (depth, expanded bytes, expansion ratio, members) ends that item with an `error` record of
//! kind `limit`; the scan goes on.

use crate::scan::{Ctx, Worker, scan_text};
use std::cell::Cell;
use std::io::{self, Cursor, Read, Seek};
use std::path::Path;
use std::rc::Rc;

/// Container limits, each configurable (`--max-depth`, `--max-expanded-bytes`, `--max-ratio`,
/// `--max-members`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Containers nested deeper than this are not opened.
    pub max_depth: usize,
    /// Decompressed bytes per top-level input.
    pub max_expanded: u64,
    /// Decompressed / compressed bytes of one stream or member (zip bombs).
    pub max_ratio: u64,
    /// Archive members per top-level input.
    pub max_members: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 10,
            max_expanded: 256 << 30,
            max_ratio: 250,
            max_members: 1_000_000,
        }
    }
}

/// The error inside an `io::Error` when a limit stops a stream.
#[derive(Debug)]
pub struct LimitHit(pub String);

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitHit {}

fn limit_error(msg: String) -> io::Error {
    io::Error::other(LimitHit(msg))
}

/// Nested zips up to this size are read into memory (a zip needs its central directory at the
/// end); larger ones are read member by member from their local headers.
const ZIP_IN_MEMORY: u64 = 64 << 20;
/// Ratios are enforced once a stream has produced this much (small files compress oddly).
const RATIO_GRACE: u64 = 1 << 20;

/// What the first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gzip,
    Zstd,
    Bzip2,
    Xz,
    Tar,
    Zip,
    Pdf,
    Parquet,
    Other,
}

fn sniff(prefix: &[u8]) -> Kind {
    if prefix.starts_with(&[0x1f, 0x8b]) {
        Kind::Gzip
    } else if prefix.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Kind::Zstd
    } else if prefix.starts_with(b"BZh") && prefix.get(3).is_some_and(|d| (b'1'..=b'9').contains(d)) {
        Kind::Bzip2
    } else if prefix.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Kind::Xz
    } else if prefix.starts_with(b"PK\x03\x04") || prefix.starts_with(b"PK\x05\x06") {
        Kind::Zip
    } else if prefix.len() >= 262 && &prefix[257..262] == b"ustar" {
        Kind::Tar
    } else if prefix.starts_with(b"%PDF-") {
        Kind::Pdf
    } else if prefix.starts_with(b"PAR1") {
        Kind::Parquet
    } else {
        Kind::Other
    }
}

/// The name of what a compressed stream holds: `a.csv.gz` → `a.csv`, `a.tgz` → `a.tar`.
fn inner_name(name: &str, kind: Kind) -> String {
    let lower = name.to_ascii_lowercase();
    for (ext, repl) in [(".tgz", ".tar"), (".tbz2", ".tar"), (".txz", ".tar"), (".tzst", ".tar")] {
        if lower.ends_with(ext) {
            return format!("{}{repl}", &name[..name.len() - ext.len()]);
        }
    }
    let exts: &[&str] = match kind {
        Kind::Gzip => &[".gz", ".gzip"],
        Kind::Zstd => &[".zst", ".zstd"],
        Kind::Bzip2 => &[".bz2", ".bzip2"],
        Kind::Xz => &[".xz"],
        _ => &[],
    };
    exts.iter()
        .find(|e| lower.ends_with(*e))
        .map_or_else(|| name.to_string(), |e| name[..name.len() - e.len()].to_string())
}

/// Counts bytes read through it into a shared cell.
struct Counted<R> {
    inner: R,
    n: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.set(self.n.get() + k as u64);
        Ok(k)
    }
}

/// Enforces the expansion limits on a decompressed stream.
struct Limited<R> {
    inner: R,
    /// Compressed bytes consumed so far (or the member's compressed size).
    compressed: Rc<Cell<u64>>,
    produced: u64,
    expanded: Rc<Cell<u64>>,
    limits: Limits,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.produced += k as u64;
        self.expanded.set(self.expanded.get() + k as u64);
        if self.expanded.get() > self.limits.max_expanded {
            return Err(limit_error(format!(
                "more than {} bytes expanded from this input (--max-expanded-bytes)",
                self.limits.max_expanded
            )));
        }
        let c = self.compressed.get().max(1);
        if self.produced > RATIO_GRACE && self.produced > c.saturating_mul(self.limits.max_ratio) {
            return Err(limit_error(format!(
                "expansion ratio above {} ({} bytes from {c}) (--max-ratio)",
                self.limits.max_ratio, self.produced
            )));
        }
        Ok(k)
    }
}

fn read_prefix(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Scans one stream named `name` at `member` (the chain of containers above it, outermost
/// first), `depth` containers deep. `file` is the path when the stream is a whole local file
/// (random access for zip).
pub fn scan_stream(
    ctx: &mut Ctx,
    w: &mut Worker,
    mut reader: Box<dyn Read + '_>,
    name: &str,
    member: Vec<String>,
    depth: usize,
    file: Option<&Path>,
) {
    let prefix = match read_prefix(&mut reader, 64 * 1024) {
        Ok(p) => p,
        Err(e) => {
            let kind = crate::scan::error_kind(&e);
            ctx.error(&member, kind, e.to_string());
            return;
        }
    };
    if prefix.is_empty() {
        return;
    }
    let kind = sniff(&prefix);
    if kind != Kind::Other && depth >= ctx.cfg.limits.max_depth {
        ctx.error(
            &member,
            "limit",
            format!(
                "containers nested deeper than {} (--max-depth)",
                ctx.cfg.limits.max_depth
            ),
        );
        return;
    }
    let limits = ctx.cfg.limits;
    match kind {
        Kind::Gzip | Kind::Zstd | Kind::Bzip2 | Kind::Xz => {
            let compressed = Rc::new(Cell::new(0));
            let src = Counted {
                inner: Cursor::new(prefix).chain(reader),
                n: compressed.clone(),
            };
            let dec: Box<dyn Read> = match kind {
                Kind::Gzip => Box::new(flate2::read::MultiGzDecoder::new(src)),
                Kind::Zstd => match zstd::stream::read::Decoder::new(src) {
                    Ok(d) => Box::new(d),
                    Err(e) => {
                        ctx.error(&member, "decode", format!("zstd: {e}"));
                        return;
                    }
                },
                Kind::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(src)),
                _ => Box::new(liblzma::read::XzDecoder::new_multi_decoder(src)),
            };
            let limited = Limited {
                inner: dec,
                compressed,
                produced: 0,
                expanded: ctx.expanded.clone(),
                limits,
            };
            let inner = inner_name(name, kind);
            let mut m = member;
            m.push(inner.clone());
            scan_stream(ctx, w, Box::new(limited), &inner, m, depth + 1, None);
        }
        Kind::Tar => scan_tar(ctx, w, Box::new(Cursor::new(prefix).chain(reader)), member, depth),
        Kind::Zip => scan_zip(ctx, w, prefix, reader, member, depth, file),
        Kind::Pdf => match whole(prefix, reader, MAX_DOCUMENT) {
            Ok(bytes) => crate::documents::scan_pdf(ctx, w, bytes, &member),
            Err(e) => ctx.error(&member, crate::scan::error_kind(&e), format!("pdf: {e}")),
        },
        Kind::Parquet => match file.map(std::fs::File::open) {
            Some(Ok(f)) => crate::documents::scan_parquet(ctx, w, f, &member),
            Some(Err(e)) => ctx.error(&member, "io", e.to_string()),
            None => match whole(prefix, reader, ZIP_IN_MEMORY) {
                Ok(bytes) => crate::documents::scan_parquet(ctx, w, bytes::Bytes::from(bytes), &member),
                Err(e) => ctx.error(&member, crate::scan::error_kind(&e), format!("parquet: {e}")),
            },
        },
        Kind::Other => scan_text(ctx, w, prefix, reader, name, &member),
    }
}

/// Documents that need random access are read whole, up to this size.
const MAX_DOCUMENT: u64 = 256 << 20;

/// The whole stream in memory, or a limit error when it is larger than `max`.
fn whole(prefix: Vec<u8>, reader: Box<dyn Read + '_>, max: u64) -> io::Result<Vec<u8>> {
    let mut buf = prefix;
    let room = (max + 1).saturating_sub(buf.len() as u64);
    reader.take(room).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(limit_error(format!(
            "larger than {max} bytes, the most read into memory for this format"
        )));
    }
    Ok(buf)
}

/// A zip member's name: UTF-8 when its bytes are UTF-8, else Shift_JIS/CP932 when they decode
/// cleanly (Japanese Windows writes names so, without the UTF-8 flag), else the archive's own
/// reading (CP437).
fn member_name(raw: &[u8], decoded: Option<std::borrow::Cow<str>>) -> String {
    if let Ok(s) = std::str::from_utf8(raw) {
        return s.to_string();
    }
    let (sjis, _, errors) = encoding_rs::SHIFT_JIS.decode(raw);
    if !errors {
        return sjis.into_owned();
    }
    decoded
        .map(|c| c.into_owned())
        .unwrap_or_else(|| String::from_utf8_lossy(raw).into_owned())
}

fn count_member(ctx: &mut Ctx, member: &[String]) -> bool {
    ctx.members += 1;
    if ctx.members > ctx.cfg.limits.max_members {
        if ctx.members == ctx.cfg.limits.max_members + 1 {
            ctx.error(
                member,
                "limit",
                format!(
                    "more than {} archive members (--max-members)",
                    ctx.cfg.limits.max_members
                ),
            );
        }
        return false;
    }
    true
}

fn scan_tar(ctx: &mut Ctx, w: &mut Worker, reader: Box<dyn Read + '_>, member: Vec<String>, depth: usize) {
    let mut archive = tar::Archive::new(reader);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            ctx.error(&member, "decode", format!("tar: {e}"));
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let kind = crate::scan::error_kind(&e);
                ctx.error(&member, kind, format!("tar: {e}"));
                return;
            }
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut m = member.clone();
        m.push(path.clone());
        if !count_member(ctx, &m) {
            return;
        }
        let name = path.rsplit('/').next().unwrap_or(&path).to_string();
        scan_stream(ctx, w, Box::new(entry), &name, m, depth + 1, None);
    }
}

/// Which Office document a zip is, from its entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Office {
    Docx,
    Pptx,
    Xlsx,
}

fn office_kind<'n>(mut names: impl Iterator<Item = &'n str>) -> Option<Office> {
    names.find_map(|n| match n {
        "word/document.xml" => Some(Office::Docx),
        "ppt/presentation.xml" => Some(Office::Pptx),
        "xl/workbook.xml" => Some(Office::Xlsx),
        _ => None,
    })
}

#[allow(clippy::too_many_arguments)]
fn scan_zip(
    ctx: &mut Ctx,
    w: &mut Worker,
    prefix: Vec<u8>,
    mut reader: Box<dyn Read + '_>,
    member: Vec<String>,
    depth: usize,
    file: Option<&Path>,
) {
    // Random access: the file itself, or the zip read into memory when it is small enough.
    if let Some(path) = file {
        match std::fs::File::open(path) {
            Ok(f) => return scan_zip_archive(ctx, w, io::BufReader::new(f), member, depth),
            Err(e) => return ctx.error(&member, "io", e.to_string()),
        }
    }
    let mut buf = prefix;
    let more = (&mut reader)
        .take(ZIP_IN_MEMORY + 1 - buf.len() as u64)
        .read_to_end(&mut buf);
    if let Err(e) = more {
        let kind = crate::scan::error_kind(&e);
        ctx.error(&member, kind, format!("zip: {e}"));
        return;
    }
    if (buf.len() as u64) <= ZIP_IN_MEMORY {
        return scan_zip_archive(ctx, w, Cursor::new(buf), member, depth);
    }
    // Too large to hold: member by member from the local headers.
    let mut stream = Cursor::new(buf).chain(reader);
    loop {
        match zip::read::read_zipfile_from_stream(&mut stream) {
            Ok(Some(entry)) => {
                if entry.is_dir() {
                    continue;
                }
                let path = member_name(entry.name_raw(), entry.name().ok());
                let mut m = member.clone();
                m.push(path.clone());
                if !count_member(ctx, &m) {
                    return;
                }
                let compressed = Rc::new(Cell::new(entry.compressed_size()));
                let limited = Limited {
                    inner: entry,
                    compressed,
                    produced: 0,
                    expanded: ctx.expanded.clone(),
                    limits: ctx.cfg.limits,
                };
                let leaf = path.rsplit('/').next().unwrap_or(&path).to_string();
                scan_stream(ctx, w, Box::new(limited), &leaf, m, depth + 1, None);
            }
            Ok(None) => return,
            Err(e) => {
                ctx.error(&member, "decode", format!("zip: {e}"));
                return;
            }
        }
    }
}

fn scan_zip_archive<R: Read + Seek>(ctx: &mut Ctx, w: &mut Worker, reader: R, member: Vec<String>, depth: usize) {
    let mut archive = match zip::ZipArchive::new(reader) {
        Ok(a) => a,
        Err(e) => {
            ctx.error(&member, "decode", format!("zip: {e}"));
            return;
        }
    };
    let names: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.ok().map(|c| c.into_owned()))
        .collect();
    if let Some(kind) = office_kind(names.iter().map(String::as_str)) {
        return crate::office::scan_office(ctx, w, archive, kind_name(kind), member);
    }
    let limits = ctx.cfg.limits;
    for i in 0..archive.len() {
        let (path, encrypted, is_dir, size, csize) = match archive.by_index_raw(i) {
            Ok(e) => (
                member_name(e.name_raw(), e.name().ok()),
                e.encrypted(),
                e.is_dir(),
                e.size(),
                e.compressed_size(),
            ),
            Err(e) => {
                ctx.error(&member, "decode", format!("zip member {i}: {e}"));
                continue;
            }
        };
        if is_dir {
            continue;
        }
        let mut m = member.clone();
        m.push(path.clone());
        if !count_member(ctx, &m) {
            return;
        }
        if encrypted {
            ctx.error(&m, "unsupported", "encrypted zip member: not scanned");
            continue;
        }
        if size > RATIO_GRACE && size > csize.max(1).saturating_mul(limits.max_ratio) {
            ctx.error(
                &m,
                "limit",
                format!(
                    "declared expansion ratio above {} ({size} bytes from {csize}) (--max-ratio)",
                    limits.max_ratio
                ),
            );
            continue;
        }
        let entry = match archive.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                ctx.error(&m, "decode", format!("zip: {e}"));
                continue;
            }
        };
        let compressed = Rc::new(Cell::new(csize));
        let limited = Limited {
            inner: entry,
            compressed,
            produced: 0,
            expanded: ctx.expanded.clone(),
            limits,
        };
        let leaf = path.rsplit('/').next().unwrap_or(&path).to_string();
        scan_stream(ctx, w, Box::new(limited), &leaf, m, depth + 1, None);
    }
}

fn kind_name(k: Office) -> &'static str {
    match k {
        Office::Docx => "docx",
        Office::Pptx => "pptx",
        Office::Xlsx => "xlsx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_names() {
        assert_eq!(inner_name("a.csv.gz", Kind::Gzip), "a.csv");
        assert_eq!(inner_name("dump.tgz", Kind::Gzip), "dump.tar");
        assert_eq!(inner_name("x.json.zst", Kind::Zstd), "x.json");
        assert_eq!(inner_name("noext", Kind::Xz), "noext");
    }
}
