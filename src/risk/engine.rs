//! From rows to counts: each quasi-identifier value is normalised and hashed (64-bit xxh3), each
//! scope's tuple of value hashes is hashed again (128-bit xxh3, with the scope number) into its
//! class key, and the [`Counter`] counts classes.

use super::count::{Counted, Counter, Entry};
use super::normalize;
use super::plan::ColumnInfo;
use std::io;
use twox_hash::{XxHash3_64, XxHash3_128};

/// Subsets of the quasi-identifiers evaluated besides the full set: every subset of up to 3
/// columns while there are at most this many of them (else up to 2 columns, else single ones).
pub const MAX_SUBSETS: usize = 64;

/// The scopes of `q` quasi-identifiers: scope 0 is the full set, then subsets by size. Depends
/// on `q` only, so that count files of parts of one table line up.
pub fn scopes(q: usize) -> Vec<Vec<usize>> {
    let mut out = vec![(0..q).collect::<Vec<_>>()];
    let choose = |n: usize, k: usize| -> usize { (0..k).fold(1usize, |acc, i| acc * (n - i) / (i + 1)) };
    let mut max = 0;
    for size in 1..=3usize.min(q.saturating_sub(1)) {
        let total: usize = (1..=size).map(|s| choose(q, s)).sum();
        if total <= MAX_SUBSETS {
            max = size;
        }
    }
    for size in 1..=max {
        combos(q, size, &mut Vec::new(), 0, &mut out);
    }
    out
}

fn combos(q: usize, size: usize, cur: &mut Vec<usize>, from: usize, out: &mut Vec<Vec<usize>>) {
    if cur.len() == size {
        out.push(cur.clone());
        return;
    }
    for i in from..q {
        cur.push(i);
        combos(q, size, cur, i + 1, out);
        cur.pop();
    }
}

/// Hashes of normalised values, keyed by the seed.
#[derive(Clone, Copy)]
pub struct Hasher {
    pub seed: u64,
    missing: u64,
}

impl Hasher {
    pub fn new(seed: u64) -> Hasher {
        Hasher {
            seed,
            // No normalised value contains NUL: the missing value is a value of its own.
            missing: XxHash3_64::oneshot_with_seed(seed, b"\0missing"),
        }
    }

    pub fn value(&self, col: &ColumnInfo, raw: Option<&str>) -> u64 {
        match raw {
            Some(r) if !r.trim().is_empty() => {
                let v = normalize::normalise(col.norm, col.sex_codes, r);
                XxHash3_64::oneshot_with_seed(self.seed, v.as_bytes())
            }
            _ => self.missing,
        }
    }

    /// A sensitive value: compared as normalised text.
    pub fn text(&self, raw: Option<&str>) -> u64 {
        match raw {
            Some(r) if !r.trim().is_empty() => XxHash3_64::oneshot_with_seed(self.seed, normalize::text(r).as_bytes()),
            _ => self.missing,
        }
    }
}

/// Remembers the hash of each raw value's normalised form (normalising 和暦 dates and NFKC is the
/// costly part of a row), up to [`Memo::CAP`] raw values per column.
#[derive(Default)]
pub struct Memo {
    map: std::collections::HashMap<u64, (Box<str>, u64), super::count::Fast>,
}

impl Memo {
    pub const CAP: usize = 200_000;

    pub fn get(&mut self, raw: &str, compute: impl FnOnce() -> u64) -> u64 {
        let key = XxHash3_64::oneshot(raw.as_bytes());
        if let Some((r, h)) = self.map.get(&key)
            && **r == *raw
        {
            return *h;
        }
        let h = compute();
        if self.map.len() < Self::CAP {
            self.map.insert(key, (raw.into(), h));
        }
        h
    }
}

pub struct Engine {
    scopes: Vec<Vec<usize>>,
    counter: Counter,
    seed: u64,
    buf: Vec<u8>,
    pub records: u64,
}

impl Engine {
    pub fn new(q: usize, attrs: usize, seed: u64, budget: usize) -> Engine {
        let scopes = scopes(q);
        Engine {
            counter: Counter::new(scopes.len(), attrs, budget),
            scopes,
            seed,
            buf: Vec::with_capacity(8 * (q + 1)),
            records: 0,
        }
    }

    pub fn scopes(&self) -> &[Vec<usize>] {
        &self.scopes
    }

    /// Adds a record: the hashes of its quasi-identifier values and of its sensitive values.
    pub fn add(&mut self, qi: &[u64], sa: &[u64]) -> io::Result<()> {
        self.records += 1;
        let mut full = 0u128;
        for (s, cols) in self.scopes.iter().enumerate() {
            self.buf.clear();
            self.buf.extend_from_slice(&(s as u32).to_le_bytes());
            for &c in cols {
                self.buf.extend_from_slice(&qi[c].to_le_bytes());
            }
            let class = XxHash3_128::oneshot_with_seed(self.seed, &self.buf);
            if s == 0 {
                full = class;
            }
            self.counter.add(s as u32, class, 1)?;
        }
        for (a, &v) in sa.iter().enumerate() {
            self.counter.add_sa(full, a as u32, v, 1)?;
        }
        Ok(())
    }

    /// Adds an aggregated entry of a count file.
    pub fn add_entry(&mut self, e: Entry) -> io::Result<()> {
        match e {
            Entry::Class { scope, class, n } => {
                if scope == 0 {
                    self.records += n;
                }
                self.counter.add(scope, class, n)
            }
            Entry::Sa { class, attr, value, n } => self.counter.add_sa(class, attr, value, n),
        }
    }

    pub fn finish(self, emit: &mut dyn FnMut(Entry) -> io::Result<()>) -> io::Result<Counted> {
        self.counter.finish(emit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_counts() {
        assert_eq!(scopes(0), vec![Vec::<usize>::new()]);
        assert_eq!(scopes(1).len(), 1);
        assert_eq!(scopes(2).len(), 3);
        assert_eq!(scopes(4).len(), 1 + 4 + 6 + 4);
        assert_eq!(scopes(7).len(), 1 + 7 + 21 + 35);
        assert_eq!(scopes(8).len(), 1 + 8 + 28);
        assert_eq!(scopes(14).len(), 1 + 14);
    }
}
