//! Writes a synthetic corpus (`appiscan::corpus`) to a file or splits it into a tree of files.
//!
//! ```text
//! gen_corpus <kind> <bytes> <out> [--encoding E]
//! gen_corpus tree <kind> <bytes> <dir> [--file-size SIZE] [--dirs N] [--files N] [--encoding E]
//! ```
//!
//! - `kind`: `digit-dense`, `sparse-prose` or `pathological`.
//! - `bytes`: lines are generated until at least this much UTF-8 text (`K`, `M`, `G` are KiB, MiB,
//!   GiB: `256M`); the output is that text in the chosen encoding, so a Shift_JIS file is smaller.
//! - `out`: a file, or `-` for standard output.
//! - `--encoding`: `utf-8` (default), `shift_jis`, `utf-16le` (with a BOM at the start of every
//!   file).
//! - `tree`: the same text cut at line boundaries into files of at most `--file-size` bytes (default
//!   `1M`; a longer line is a file of its own), like `split -C`, named `dNN/fNNNNNNN.txt` and dealt
//!   round-robin to `--dirs` directories (default 16). `--files N` stops after N files. `dir` must
//!   not exist or be empty.
//!
//! Examples: `cargo run --release --example gen_corpus -- digit-dense 256M c256.txt`;
//! `... -- tree digit-dense 256M tree1m` (1 MiB files in 16 dirs, as performance.md's `tree1m`);
//! `... -- tree digit-dense 1G small --file-size 1K --files 200000 --dirs 100`.

use appiscan::corpus::{self, Encoding, Generator, Kind};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: gen_corpus <kind> <bytes> <out|-> [--encoding E]\n       \
gen_corpus tree <kind> <bytes> <dir> [--file-size SIZE] [--dirs N] [--files N] [--encoding E]\n\
kinds: digit-dense, sparse-prose, pathological; encodings: utf-8, shift_jis, utf-16le; sizes: 4096, 64K, 256M, 4G";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_corpus: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

struct Options {
    positional: Vec<String>,
    encoding: Encoding,
    file_size: u64,
    dirs: usize,
    files: Option<u64>,
}

fn run(args: Vec<String>) -> Result<(), String> {
    let mut o = Options {
        positional: Vec::new(),
        encoding: Encoding::Utf8,
        file_size: 1 << 20,
        dirs: 16,
        files: None,
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            "--encoding" => {
                let v = value("--encoding")?;
                o.encoding = Encoding::parse(&v).ok_or_else(|| format!("unknown encoding {v:?}"))?;
            }
            "--file-size" => o.file_size = size(&value("--file-size")?)?,
            "--dirs" => o.dirs = count(&value("--dirs")?)? as usize,
            "--files" => o.files = Some(count(&value("--files")?)?),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ => o.positional.push(a),
        }
    }
    let tree = o.positional.first().is_some_and(|p| p == "tree");
    let p = if tree { &o.positional[1..] } else { &o.positional[..] };
    let [kind, bytes, out] = p else {
        return Err("wrong number of arguments".into());
    };
    let kind = Kind::parse(kind).ok_or_else(|| format!("unknown kind {kind:?}"))?;
    let bytes = size(bytes)?;
    if tree {
        write_tree(kind, bytes, Path::new(out), &o).map_err(|e| format!("{out}: {e}"))
    } else {
        let written = if out == "-" {
            corpus::write(kind, o.encoding, bytes, &mut BufWriter::new(io::stdout().lock()))
        } else {
            let mut f = BufWriter::new(std::fs::File::create(out).map_err(|e| format!("{out}: {e}"))?);
            corpus::write(kind, o.encoding, bytes, &mut f).and_then(|n| f.flush().map(|_| n))
        }
        .map_err(|e| format!("{out}: {e}"))?;
        eprintln!(
            "gen_corpus: {} {}: {written} bytes to {out}",
            kind.name(),
            o.encoding.name()
        );
        Ok(())
    }
}

/// `4096`, `64K`, `256M`, `4G` (binary units; `KiB`, `MiB`, `GiB` too).
fn size(s: &str) -> Result<u64, String> {
    let t = s.trim_end_matches("iB").trim_end_matches('B');
    let (num, mult) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 1u64 << 10),
        Some((i, 'M' | 'm')) => (&t[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("bad size {s:?}"))
}

fn count(s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("bad count {s:?}"))
}

/// Cuts the corpus into files at line boundaries (see the module documentation).
fn write_tree(kind: Kind, total: u64, dir: &Path, o: &Options) -> io::Result<()> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(io::Error::other("exists and is not empty"));
    }
    let dirs: Vec<PathBuf> = (0..o.dirs).map(|d| dir.join(format!("d{d:02}"))).collect();
    for d in &dirs {
        std::fs::create_dir_all(d)?;
    }
    let mut lines = Generator::new(kind);
    let (mut line, mut encoded, mut file) = (String::new(), Vec::new(), Vec::new());
    let (mut text_bytes, mut files, mut disk_bytes) = (0u64, 0u64, 0u64);
    let max_files = o.files.unwrap_or(u64::MAX);
    let mut flush = |file: &mut Vec<u8>, files: &mut u64| -> io::Result<()> {
        let path = dirs[(*files % dirs.len() as u64) as usize].join(format!("f{files:07}.txt"));
        std::fs::write(path, &file[..])?;
        disk_bytes += file.len() as u64;
        *files += 1;
        file.clear();
        Ok(())
    };
    while text_bytes < total && files < max_files {
        line.clear();
        lines.line(&mut line);
        text_bytes += line.len() as u64;
        encoded.clear();
        o.encoding.encode_into(&line, false, &mut encoded);
        if !file.is_empty() && (file.len() + encoded.len()) as u64 > o.file_size {
            flush(&mut file, &mut files)?;
            if files == max_files {
                break;
            }
        }
        if file.is_empty() {
            o.encoding.encode_into("", true, &mut file);
        }
        file.extend_from_slice(&encoded);
    }
    if !file.is_empty() && files < max_files {
        flush(&mut file, &mut files)?;
    }
    eprintln!(
        "gen_corpus: {} {}: {files} files, {disk_bytes} bytes in {} dirs under {}",
        kind.name(),
        o.encoding.name(),
        dirs.len(),
        dir.display()
    );
    Ok(())
}
