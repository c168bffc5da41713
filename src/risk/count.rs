//! Exact equivalence-class counting with bounded memory (reident.md §8).
//!
//! Each record adds one count per *scope* (the full quasi-identifier set, and each small subset of
//! it) under a 128-bit hash of the scope's normalised tuple, and one count per sensitive attribute
//! under (full-set class, attribute, value hash). The counts live in hash maps of a fixed
//! capacity; when one is full, every entry is appended to one of [`PARTITIONS`] files chosen by
//! the top bits of the class hash, and the maps start again. At the end each partition is
//! aggregated on its own: a class lies in one partition only, so per-partition histograms add up.
//! Counts are a commutative monoid: parts of a table counted apart merge by summing per key.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, BufReader, BufWriter, Read, Write};

/// Spill partitions (top 7 bits of the class hash).
pub const PARTITIONS: usize = 128;
/// Memory for the in-memory maps, in bytes (both maps together).
pub const DEFAULT_BUDGET: usize = 256 << 20;

/// A hasher for keys that are already uniform hashes.
#[derive(Default, Clone, Copy)]
pub struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..c.len()].copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(23) ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }
    fn write_u128(&mut self, x: u128) {
        self.write_u64(x as u64);
        self.write_u64((x >> 64) as u64);
    }
}

pub type Fast = BuildHasherDefault<PreHashed>;

/// (class, attribute, value hash).
pub type SaKey = (u128, u32, u64);

/// What one scope's classes add up to: class size → number of classes.
pub type SizeHist = BTreeMap<u64, u64>;

/// Per-attribute l-diversity: the smallest distinct count and entropy-l over the classes.
#[derive(Debug, Clone, Copy)]
pub struct LDiv {
    pub distinct_l: u64,
    pub entropy_l: f64,
}

/// The result of counting: one size histogram per scope, l-diversity per sensitive attribute.
#[derive(Debug, Clone)]
pub struct Counted {
    pub hists: Vec<SizeHist>,
    pub ldiv: Vec<Option<LDiv>>,
    /// How many times the maps were written out to disk.
    pub spills: u64,
}

pub struct Counter {
    scopes: usize,
    attrs: usize,
    classes: HashMap<u128, (u64, u32), Fast>,
    sa: HashMap<SaKey, u64, Fast>,
    cap_classes: usize,
    cap_sa: usize,
    spill: Option<Spill>,
    spills: u64,
}

struct Spill {
    _dir: tempfile::TempDir,
    paths: Vec<std::path::PathBuf>,
    files: Vec<BufWriter<File>>,
}

fn partition(class: u128) -> usize {
    (class >> 121) as usize
}

impl Counter {
    pub fn new(scopes: usize, attrs: usize, budget: usize) -> Counter {
        // hashbrown: key + value + 1 control byte per bucket; a table of 2^b buckets holds 7/8 of
        // that before it grows, so the maps are written out just before they would grow.
        let fit = |bytes: usize, entry: usize| {
            let buckets = (bytes / entry).max(1024);
            let pow = 1usize << (usize::BITS - 1 - buckets.leading_zeros());
            pow / 8 * 7
        };
        let share = if attrs > 0 { budget / 3 * 2 } else { budget };
        let cap_classes = fit(share, 33);
        let cap_sa = if attrs > 0 { fit(budget - share, 49) } else { 0 };
        Counter {
            scopes,
            attrs,
            classes: HashMap::with_hasher(Fast::default()),
            sa: HashMap::with_hasher(Fast::default()),
            cap_classes,
            cap_sa,
            spill: None,
            spills: 0,
        }
    }

    pub fn scopes(&self) -> usize {
        self.scopes
    }

    pub fn attrs(&self) -> usize {
        self.attrs
    }

    /// Adds `n` records to the class `class` of scope `scope`.
    pub fn add(&mut self, scope: u32, class: u128, n: u64) -> io::Result<()> {
        if self.classes.len() >= self.cap_classes && !self.classes.contains_key(&class) {
            self.spill_out()?;
        }
        self.classes.entry(class).or_insert((0, scope)).0 += n;
        Ok(())
    }

    /// Adds `n` records of the full-set class `class` whose attribute `attr` has value `value`.
    pub fn add_sa(&mut self, class: u128, attr: u32, value: u64, n: u64) -> io::Result<()> {
        let key = (class, attr, value);
        if self.sa.len() >= self.cap_sa && !self.sa.contains_key(&key) {
            self.spill_out()?;
        }
        *self.sa.entry(key).or_insert(0) += n;
        Ok(())
    }

    fn spill_out(&mut self) -> io::Result<()> {
        if self.spill.is_none() {
            let dir = tempfile::Builder::new().prefix("appiscan-risk-").tempdir()?;
            let mut paths = Vec::new();
            let mut files = Vec::new();
            for p in 0..PARTITIONS {
                let path = dir.path().join(format!("part-{p:03}"));
                files.push(BufWriter::with_capacity(64 << 10, File::create(&path)?));
                paths.push(path);
            }
            self.spill = Some(Spill {
                _dir: dir,
                paths,
                files,
            });
        }
        let spill = self.spill.as_mut().expect("spill set up");
        for (class, (n, scope)) in self.classes.drain() {
            let f = &mut spill.files[partition(class)];
            f.write_all(&[0])?;
            f.write_all(&class.to_le_bytes())?;
            f.write_all(&scope.to_le_bytes())?;
            f.write_all(&n.to_le_bytes())?;
        }
        for ((class, attr, value), n) in self.sa.drain() {
            let f = &mut spill.files[partition(class)];
            f.write_all(&[1])?;
            f.write_all(&class.to_le_bytes())?;
            f.write_all(&attr.to_le_bytes())?;
            f.write_all(&value.to_le_bytes())?;
            f.write_all(&n.to_le_bytes())?;
        }
        self.spills += 1;
        Ok(())
    }

    /// Aggregates everything; each aggregated entry is also handed to `emit` (for count files).
    pub fn finish(mut self, emit: &mut dyn FnMut(Entry) -> io::Result<()>) -> io::Result<Counted> {
        let mut hists = vec![SizeHist::new(); self.scopes];
        let mut ldiv: Vec<Option<LDiv>> = vec![None; self.attrs];
        let spills = self.spills;
        if self.spill.is_none() {
            let classes = std::mem::take(&mut self.classes);
            let sa = std::mem::take(&mut self.sa);
            aggregate(classes, sa, &mut hists, &mut ldiv, emit)?;
            return Ok(Counted { hists, ldiv, spills });
        }
        self.spill_out()?;
        let mut spill = self.spill.take().expect("spilled");
        for f in &mut spill.files {
            f.flush()?;
        }
        spill.files.clear();
        for path in &spill.paths {
            let mut classes: HashMap<u128, (u64, u32), Fast> = HashMap::with_hasher(Fast::default());
            let mut sa: HashMap<SaKey, u64, Fast> = HashMap::with_hasher(Fast::default());
            let mut r = BufReader::with_capacity(256 << 10, File::open(path)?);
            let mut tag = [0u8; 1];
            loop {
                match r.read_exact(&mut tag) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e),
                }
                let class = u128::from_le_bytes(read_n(&mut r)?);
                if tag[0] == 0 {
                    let scope = u32::from_le_bytes(read_n(&mut r)?);
                    let n = u64::from_le_bytes(read_n(&mut r)?);
                    classes.entry(class).or_insert((0, scope)).0 += n;
                } else {
                    let attr = u32::from_le_bytes(read_n(&mut r)?);
                    let value = u64::from_le_bytes(read_n(&mut r)?);
                    let n = u64::from_le_bytes(read_n(&mut r)?);
                    *sa.entry((class, attr, value)).or_insert(0) += n;
                }
            }
            aggregate(classes, sa, &mut hists, &mut ldiv, emit)?;
            std::fs::remove_file(path)?;
        }
        Ok(Counted { hists, ldiv, spills })
    }
}

fn read_n<const N: usize>(r: &mut impl Read) -> io::Result<[u8; N]> {
    let mut b = [0u8; N];
    r.read_exact(&mut b)?;
    Ok(b)
}

/// One aggregated count, as count files hold them.
#[derive(Debug, Clone, Copy)]
pub enum Entry {
    Class { scope: u32, class: u128, n: u64 },
    Sa { class: u128, attr: u32, value: u64, n: u64 },
}

fn aggregate(
    classes: HashMap<u128, (u64, u32), Fast>,
    sa: HashMap<SaKey, u64, Fast>,
    hists: &mut [SizeHist],
    ldiv: &mut [Option<LDiv>],
    emit: &mut dyn FnMut(Entry) -> io::Result<()>,
) -> io::Result<()> {
    for (class, (n, scope)) in classes {
        if let Some(h) = hists.get_mut(scope as usize) {
            *h.entry(n).or_insert(0) += 1;
        }
        emit(Entry::Class { scope, class, n })?;
    }
    // Per (class, attribute): the counts of its values, sorted so that the entropy is summed in
    // one order whatever order the entries came in (parts merged = the whole table, to the bit).
    let mut per: HashMap<(u128, u32), Vec<u64>, Fast> = HashMap::with_hasher(Fast::default());
    for ((class, attr, value), n) in sa {
        per.entry((class, attr)).or_default().push(n);
        emit(Entry::Sa { class, attr, value, n })?;
    }
    for ((_, attr), mut counts) in per {
        counts.sort_unstable();
        let total: u64 = counts.iter().sum();
        let f = total as f64;
        let h: f64 = -counts
            .iter()
            .map(|&c| {
                let p = c as f64 / f;
                p * p.ln()
            })
            .sum::<f64>();
        let el = h.exp();
        let distinct = counts.len() as u64;
        if let Some(slot) = ldiv.get_mut(attr as usize) {
            let cur = slot.get_or_insert(LDiv {
                distinct_l: distinct,
                entropy_l: el,
            });
            cur.distinct_l = cur.distinct_l.min(distinct);
            cur.entropy_l = cur.entropy_l.min(el);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(budget: usize, rows: &[(u128, u64)]) -> Counted {
        let mut c = Counter::new(1, 1, budget);
        for &(class, v) in rows {
            c.add(0, class, 1).unwrap();
            c.add_sa(class, 0, v, 1).unwrap();
        }
        c.finish(&mut |_| Ok(())).unwrap()
    }

    #[test]
    fn spilled_counts_equal_in_memory_counts() {
        // 50 000 records in 7 919 classes; the small budget spills many times.
        let rows: Vec<(u128, u64)> = (0..50_000u64)
            .map(|i| {
                let c = (i * 2_654_435_761) % 7919;
                (
                    u128::from(c).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835),
                    i % 3,
                )
            })
            .collect();
        let big = count(DEFAULT_BUDGET, &rows);
        let small = count(1, &rows);
        assert_eq!(big.spills, 0);
        assert!(small.spills > 10);
        assert_eq!(big.hists, small.hists);
        assert_eq!(big.hists[0].values().sum::<u64>(), 7919);
        let (a, b) = (big.ldiv[0].unwrap(), small.ldiv[0].unwrap());
        assert_eq!(a.distinct_l, b.distinct_l);
        assert!((a.entropy_l - b.entropy_l).abs() < 1e-12);
    }

    #[test]
    fn entropy_l() {
        // One class with values a, a, b, b: entropy ln 2, entropy-l 2; distinct 2.
        let c = count(DEFAULT_BUDGET, &[(5, 1), (5, 1), (5, 2), (5, 2)]);
        let l = c.ldiv[0].unwrap();
        assert_eq!(l.distinct_l, 2);
        assert!((l.entropy_l - 2.0).abs() < 1e-12);
    }
}
