//! Shards (SPEC §10): `--shard-index I --shard-count N` takes an input iff FNV-1a 64-bit of the
//! UTF-8 bytes of its key, modulo N, equals I. A driver (Spark, a shell loop) can pre-partition
//! identically with the ten lines of [`fnv1a64`].
//!
//! Keys: a file found under a directory TARGET is keyed by its path relative to that TARGET with
//! `/` separators (`sub/a.csv`); a file TARGET by its file name; `-` by `-`; a worklist item by
//! the item as written on its line (after trimming) for a local path, `bucket/key` for an object.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// FNV-1a 64-bit offset basis.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a 64-bit prime.
pub const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64-bit of `bytes`: for each byte, xor it in, then multiply by the prime (mod 2^64).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h = FNV_OFFSET;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// Which part of the inputs this run takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn new(index: u64, count: u64) -> anyhow::Result<Shard> {
        anyhow::ensure!(count >= 1, "--shard-count must be at least 1 (got {count})");
        anyhow::ensure!(
            index < count,
            "--shard-index must be below --shard-count (got index {index}, count {count}; indices run from 0)"
        );
        Ok(Shard { index, count })
    }

    /// Whether an input with this key belongs to this shard.
    pub fn takes(&self, key: &str) -> bool {
        fnv1a64(key.as_bytes()) % self.count == self.index
    }
}

/// Environment variables of the batch engines, in the order they are consulted: (index variable,
/// count variable). Kubernetes Indexed Jobs set no count: `--shard-count` is then required.
pub const ENGINES: [(&str, Option<&str>); 3] = [
    ("JOB_COMPLETION_INDEX", None),
    ("AWS_BATCH_JOB_ARRAY_INDEX", Some("AWS_BATCH_JOB_ARRAY_SIZE")),
    ("CLOUD_RUN_TASK_INDEX", Some("CLOUD_RUN_TASK_COUNT")),
];

fn number(name: &str, v: &str) -> anyhow::Result<u64> {
    v.trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("{name}={v:?} is not a non-negative integer"))
}

/// The shard of this run from the options, else from the first engine variable that is set
/// (`env` reads a variable; empty counts as unset). `None`: no sharding, every input is taken.
pub fn resolve(
    index: Option<u64>,
    count: Option<u64>,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<Shard>> {
    let source = ENGINES.iter().find(|(i, _)| env(i).is_some());
    let (index, index_from) = match (index, source) {
        (Some(i), _) => (Some(i), "--shard-index".to_string()),
        (None, Some((var, _))) => (Some(number(var, &env(var).unwrap_or_default())?), var.to_string()),
        (None, None) => (None, String::new()),
    };
    let count = match (count, source) {
        (Some(n), _) => Some(n),
        (None, Some((_, Some(var)))) if index.is_some() => match env(var) {
            Some(v) => Some(number(var, &v)?),
            None => None,
        },
        _ => None,
    };
    match (index, count) {
        (None, None) => Ok(None),
        (Some(i), None) => anyhow::bail!(
            "a shard index ({index_from}={i}) needs a shard count: give --shard-count N (or APPISCAN_SHARD_COUNT){}",
            if index_from == "JOB_COMPLETION_INDEX" {
                " — a Kubernetes Indexed Job sets no count; pass the Job's completions"
            } else {
                ""
            }
        ),
        (None, Some(n)) => anyhow::bail!(
            "--shard-count {n} needs a shard index: give --shard-index I, or run under JOB_COMPLETION_INDEX, \
             AWS_BATCH_JOB_ARRAY_INDEX or CLOUD_RUN_TASK_INDEX"
        ),
        (Some(i), Some(n)) => Shard::new(i, n).map(Some),
    }
}

/// The shard filter of a running scan, with its counts.
#[derive(Debug, Default)]
pub struct Selector {
    pub shard: Option<Shard>,
    taken: AtomicU64,
    other: AtomicU64,
}

impl Selector {
    pub fn new(shard: Option<Shard>) -> Selector {
        Selector {
            shard,
            ..Default::default()
        }
    }

    /// Whether this run takes the input keyed `key` (always, without a shard), counted.
    pub fn takes(&self, key: &str) -> bool {
        let Some(s) = self.shard else { return true };
        if s.takes(key) {
            self.taken.fetch_add(1, Ordering::Relaxed);
            true
        } else {
            self.other.fetch_add(1, Ordering::Relaxed);
            false
        }
    }

    /// The summary's `shard` object (`None` without a shard).
    pub fn summary(&self) -> Option<ShardSummary> {
        self.shard.map(|s| ShardSummary {
            index: s.index,
            count: s.count,
            hash: HASH_NAME.into(),
            taken: self.taken.load(Ordering::Relaxed),
            other: self.other.load(Ordering::Relaxed),
        })
    }
}

/// The name of the shard hash in summaries.
pub const HASH_NAME: &str = "fnv1a-64";

/// Summary extension `shard`: which shard this report is, and how many inputs (files found
/// under TARGETs, worklist items) it took and left to other shards. Inputs left to other shards
/// are not skipped files: they are not in `files_skipped`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShardSummary {
    pub index: u64,
    pub count: u64,
    pub hash: String,
    pub taken: u64,
    pub other: u64,
}

/// The key of a file found under a directory TARGET: its path relative to the TARGET, with `/`
/// separators (a name that is not UTF-8 is keyed by its lossy UTF-8 form).
pub fn relative_key(rel: &std::path::Path) -> String {
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// The key of a file TARGET: its file name.
pub fn file_target_key(target: &str) -> String {
    if target == "-" {
        return "-".into();
    }
    std::path::Path::new(target)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| target.to_string())
}

/// An output file written under a temporary name beside it and renamed over it only when the
/// run completes: a killed or failed run leaves no half report (a part that `merge` would read),
/// and a retried shard replaces its part. A destination that exists and is not a regular file
/// (`/dev/stdout`, a FIFO) is written directly.
pub struct PartFile {
    tmp: Option<std::path::PathBuf>,
    dest: std::path::PathBuf,
}

impl PartFile {
    /// Creates the file to write; call [`PartFile::commit`] once everything is written.
    pub fn create(dest: &std::path::Path) -> std::io::Result<(PartFile, std::fs::File)> {
        let direct = std::fs::metadata(dest).is_ok_and(|m| !m.is_file());
        if direct {
            let f = std::fs::File::create(dest)?;
            return Ok((
                PartFile {
                    tmp: None,
                    dest: dest.to_path_buf(),
                },
                f,
            ));
        }
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "report".into());
        let tmp = dest.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        let f = std::fs::File::create(&tmp)?;
        Ok((
            PartFile {
                tmp: Some(tmp),
                dest: dest.to_path_buf(),
            },
            f,
        ))
    }

    /// Makes the written file durable and moves it to its name.
    pub fn commit(mut self) -> std::io::Result<()> {
        if let Some(tmp) = self.tmp.take() {
            std::fs::File::open(&tmp)?.sync_all()?;
            if let Err(e) = std::fs::rename(&tmp, &self.dest) {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        }
        Ok(())
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn fnv1a64_published_vectors() {
        // Test vectors of the FNV reference (Fowler, Noll, Vo; draft-eastlake-fnv).
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"b"), 0xaf63df4c8601f1a5);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
        assert_eq!(fnv1a64(b"chongo was here!\n"), 0x46810940eff5f915);
    }

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned().filter(|v| !v.is_empty())
    }

    #[test]
    fn options_then_engine_variables() {
        assert_eq!(resolve(None, None, vars(&[])).unwrap(), None);
        assert_eq!(
            resolve(Some(1), Some(3), vars(&[])).unwrap(),
            Some(Shard { index: 1, count: 3 })
        );
        let k8s = vars(&[("JOB_COMPLETION_INDEX", "2")]);
        assert_eq!(
            resolve(None, Some(4), &k8s).unwrap(),
            Some(Shard { index: 2, count: 4 })
        );
        let e = resolve(None, None, &k8s).unwrap_err().to_string();
        assert!(e.contains("JOB_COMPLETION_INDEX") && e.contains("--shard-count"), "{e}");
        let aws = vars(&[("AWS_BATCH_JOB_ARRAY_INDEX", "0"), ("AWS_BATCH_JOB_ARRAY_SIZE", "5")]);
        assert_eq!(resolve(None, None, aws).unwrap(), Some(Shard { index: 0, count: 5 }));
        let run = vars(&[("CLOUD_RUN_TASK_INDEX", "3"), ("CLOUD_RUN_TASK_COUNT", "4")]);
        assert_eq!(resolve(None, None, &run).unwrap(), Some(Shard { index: 3, count: 4 }));
        // Options win over the environment.
        assert_eq!(
            resolve(Some(0), Some(1), &run).unwrap(),
            Some(Shard { index: 0, count: 1 })
        );
        assert!(resolve(Some(3), Some(3), vars(&[])).is_err());
        assert!(resolve(Some(0), Some(0), vars(&[])).is_err());
        assert!(resolve(None, Some(2), vars(&[])).is_err());
        assert!(
            resolve(
                None,
                None,
                vars(&[("CLOUD_RUN_TASK_INDEX", "x"), ("CLOUD_RUN_TASK_COUNT", "2")])
            )
            .is_err()
        );
    }

    #[test]
    fn keys() {
        assert_eq!(relative_key(std::path::Path::new("a/b/c.csv")), "a/b/c.csv");
        assert_eq!(file_target_key("dir/sub/x.txt"), "x.txt");
        assert_eq!(file_target_key("-"), "-");
        let s = Shard::new(0, 1).unwrap();
        assert!(s.takes("anything"));
    }
}
