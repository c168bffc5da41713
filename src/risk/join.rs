//! Joins (reident.md §6.3–6.4): key columns shared by two tables are found by name (the same
//! normalised header, or linking codes on both sides) and by value containment (bottom-k
//! sketches: exact while a column has fewer than [`SKETCH`] distinct values); the inner join on
//! the key is then assessed as one table over the quasi-identifiers of both sides, with the
//! uplift over each table alone. Both tables are read again and partitioned by key hash on disk,
//! so memory stays bounded by one partition of the right-hand table.

use super::engine::{self, Engine, Hasher};
use super::output::{Assessment, Before};
use super::vocab::{Role, normalise_header};
use super::{RiskArgs, TableDone, budget, metrics, open_planned, qi_out, refs};
use anyhow::Context;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use twox_hash::XxHash3_64;

/// Bottom-k sketch size.
pub const SKETCH: usize = 4096;
const JOIN_PARTITIONS: usize = 64;

pub fn key_hash(seed: u64, raw: &str) -> u64 {
    let seed = seed ^ 0x6a6f_696e;
    match super::normalize::text_unchanged(raw) {
        Some(v) => XxHash3_64::oneshot_with_seed(seed, v.as_bytes()),
        None => XxHash3_64::oneshot_with_seed(seed, super::normalize::text(raw).as_bytes()),
    }
}

/// The smallest [`SKETCH`] hashes of a column's values, and how many values it had.
#[derive(Debug, Default, Clone)]
pub struct Sketch {
    pub set: BTreeSet<u64>,
    pub n: u64,
}

impl Sketch {
    pub fn add(&mut self, h: u64) {
        self.n += 1;
        if self.set.len() < SKETCH {
            self.set.insert(h);
        } else if self.set.last().is_some_and(|&m| h < m) && self.set.insert(h) {
            self.set.pop_last();
        }
    }

    fn exact(&self) -> bool {
        self.set.len() < SKETCH
    }

    pub fn distinct(&self) -> f64 {
        if self.exact() {
            self.set.len() as f64
        } else {
            let kth = *self.set.last().expect("full sketch") as f64 / 2f64.powi(64);
            (SKETCH as f64 - 1.0) / kth
        }
    }

    /// (|A∩B|/|A|, |A∩B|/|B|): exact for exact sketches, else from the Jaccard estimate.
    pub fn containment(&self, other: &Sketch) -> (f64, f64) {
        let (da, db) = (self.distinct(), other.distinct());
        if da == 0.0 || db == 0.0 {
            return (0.0, 0.0);
        }
        let inter = if self.exact() && other.exact() {
            self.set.intersection(&other.set).count() as f64
        } else {
            let tau = self
                .set
                .last()
                .copied()
                .unwrap_or(0)
                .min(other.set.last().copied().unwrap_or(0));
            let union = self.set.union(&other.set).filter(|&&h| h <= tau).count() as f64;
            let both = self.set.intersection(&other.set).filter(|&&h| h <= tau).count() as f64;
            if union == 0.0 {
                return (0.0, 0.0);
            }
            let j = both / union;
            j * (da + db) / (1.0 + j)
        };
        ((inter / da).min(1.0), (inter / db).min(1.0))
    }
}

#[derive(Debug, Clone)]
pub struct JoinPlan {
    pub left: usize,
    pub right: usize,
    pub left_col: usize,
    pub right_col: usize,
    pub containment: (f64, f64),
}

/// One join per pair of tables: the best key pair, if any qualifies.
pub fn detect(tables: &[TableDone]) -> Vec<JoinPlan> {
    let mut out = Vec::new();
    for a in 0..tables.len() {
        for b in a + 1..tables.len() {
            let (ta, tb) = (&tables[a], &tables[b]);
            let mut best: Option<(f64, JoinPlan)> = None;
            for (ca, sa) in &ta.sketches {
                for (cb, sb) in &tb.sketches {
                    let (ia, ib) = (&ta.plan.columns[*ca], &tb.plan.columns[*cb]);
                    let same_name = normalise_header(&ia.name) == normalise_header(&ib.name);
                    let keys = ia.role == Some(Role::Key) && ib.role == Some(Role::Key);
                    if !same_name && !keys {
                        continue;
                    }
                    let (da, db) = (sa.distinct(), sb.distinct());
                    if da < 2.0 || db < 2.0 || (!keys && da.min(db) < 20.0) {
                        continue;
                    }
                    let unique = |s: &Sketch, d: f64| s.n > 0 && d / s.n as f64 >= 0.95;
                    if !unique(sa, da) && !unique(sb, db) {
                        continue;
                    }
                    let c = sa.containment(sb);
                    let score = c.0.max(c.1);
                    if score < 0.8 {
                        continue;
                    }
                    let score = score + if same_name { 1.0 } else { 0.0 } + if keys { 0.5 } else { 0.0 };
                    if best.as_ref().is_none_or(|(s, _)| score > *s) {
                        best = Some((
                            score,
                            JoinPlan {
                                left: a,
                                right: b,
                                left_col: *ca,
                                right_col: *cb,
                                containment: c,
                            },
                        ));
                    }
                }
            }
            if let Some((_, j)) = best {
                out.push(j);
            }
        }
    }
    out
}

struct Side {
    _dir: tempfile::TempDir,
    paths: Vec<std::path::PathBuf>,
    width: usize,
}

/// Writes (key hash, QI hashes, SA hashes) of every record with a key into partition files.
fn partition_side(args: &RiskArgs, t: &TableDone, key_col: usize, hasher: Hasher) -> anyhow::Result<Side> {
    let (mut src, sample, plan) = open_planned(args, &t.path)?;
    let dir = tempfile::Builder::new().prefix("appiscan-join-").tempdir()?;
    let mut paths = Vec::new();
    let mut files = Vec::new();
    for p in 0..JOIN_PARTITIONS {
        let path = dir.path().join(format!("side-{p:02}"));
        files.push(BufWriter::new(File::create(&path)?));
        paths.push(path);
    }
    let width = plan.qi.len() + plan.sa.len();
    let mut write = |row: &super::read::Row| -> io::Result<()> {
        let cell = |i: usize| row.get(i).and_then(|c| c.as_deref());
        let Some(key) = cell(key_col).filter(|k| !k.trim().is_empty()) else {
            return Ok(());
        };
        let k = key_hash(hasher.seed, key);
        let f = &mut files[(k >> 58) as usize % JOIN_PARTITIONS];
        f.write_all(&k.to_le_bytes())?;
        for &c in &plan.qi {
            f.write_all(&hasher.value(&plan.columns[c], cell(c)).to_le_bytes())?;
        }
        for &c in &plan.sa {
            f.write_all(&hasher.text(cell(c)).to_le_bytes())?;
        }
        Ok(())
    };
    for r in &sample {
        write(r)?;
    }
    while let Some(r) = src.next_row().with_context(|| t.path.clone())? {
        write(&r)?;
    }
    for f in &mut files {
        f.flush()?;
    }
    Ok(Side {
        _dir: dir,
        paths,
        width,
    })
}

fn read_records(path: &std::path::Path, width: usize, mut f: impl FnMut(u64, Vec<u64>)) -> io::Result<()> {
    let mut r = BufReader::with_capacity(256 << 10, File::open(path)?);
    let mut buf = vec![0u8; 8 * (width + 1)];
    loop {
        match r.read_exact(&mut buf) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let words: Vec<u64> = buf
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        f(words[0], words[1..].to_vec());
    }
}

pub fn assess(args: &RiskArgs, tables: &[TableDone], j: &JoinPlan, hasher: Hasher) -> anyhow::Result<Assessment> {
    let (ta, tb) = (&tables[j.left], &tables[j.right]);
    let (pa, pb) = (&ta.plan, &tb.plan);
    let left = partition_side(args, ta, j.left_col, hasher)?;
    let right = partition_side(args, tb, j.right_col, hasher)?;
    let (qa, qb) = (pa.qi.len(), pb.qi.len());
    let mut eng = Engine::new(qa + qb, pa.sa.len() + pb.sa.len(), hasher.seed, budget()?);
    let (mut max_left, mut max_right) = (0u64, 0u64);
    let mut qi = Vec::with_capacity(qa + qb);
    let mut sa = Vec::with_capacity(pa.sa.len() + pb.sa.len());
    for p in 0..JOIN_PARTITIONS {
        let mut rmap: HashMap<u64, Vec<Vec<u64>>> = HashMap::new();
        read_records(&right.paths[p], right.width, |k, v| rmap.entry(k).or_default().push(v))?;
        for rows in rmap.values() {
            max_right = max_right.max(rows.len() as u64);
        }
        let mut lcount: HashMap<u64, u64> = HashMap::new();
        let mut err = None;
        read_records(&left.paths[p], left.width, |k, l| {
            *lcount.entry(k).or_insert(0) += 1;
            let Some(rows) = rmap.get(&k) else { return };
            for r in rows {
                qi.clear();
                sa.clear();
                qi.extend_from_slice(&l[..qa]);
                qi.extend_from_slice(&r[..qb]);
                sa.extend_from_slice(&l[qa..]);
                sa.extend_from_slice(&r[qb..]);
                if let Err(e) = eng.add(&qi, &sa) {
                    err = Some(e);
                }
            }
        })?;
        if let Some(e) = err {
            return Err(e.into());
        }
        for (k, n) in lcount {
            if rmap.contains_key(&k) {
                max_left = max_left.max(n);
            }
        }
    }
    let records = eng.records;
    let counted = eng.finish(&mut |_| Ok(()))?;
    let label = |p: &super::plan::Plan, i: usize| format!("{}:{}", p.source, p.columns[i].name);
    let all_qi: Vec<String> = pa
        .qi
        .iter()
        .map(|&i| label(pa, i))
        .chain(pb.qi.iter().map(|&i| label(pb, i)))
        .collect();
    let scope_labels = engine::scopes(qa + qb)
        .iter()
        .map(|s| s.iter().map(|&c| all_qi[c].clone()).collect())
        .collect();
    let names_a: Vec<String> = pa.sa.iter().map(|&i| pa.columns[i].name.clone()).collect();
    let names_b: Vec<String> = pb.sa.iter().map(|&i| pb.columns[i].name.clone()).collect();
    let clash = names_a.iter().any(|n| names_b.contains(n));
    let sensitive: Vec<String> = if clash {
        pa.sa
            .iter()
            .map(|&i| label(pa, i))
            .chain(pb.sa.iter().map(|&i| label(pb, i)))
            .collect()
    } else {
        names_a.into_iter().chain(names_b).collect()
    };
    let card = |m: u64| if m > 1 { "N" } else { "1" };
    let mut qis = qi_out(pa);
    qis.extend(qi_out(pb));
    let mut direct = refs(pa, &pa.direct);
    direct.extend(refs(pb, &pb.direct));
    let mut keys = refs(pa, &pa.keys);
    keys.extend(refs(pb, &pb.keys));
    let before = [ta, tb]
        .iter()
        .map(|t| Before {
            source: t.path.clone(),
            metrics: metrics::metrics(&t.counted.hists[0], args.threshold),
        })
        .collect();
    Ok(Assessment {
        kind: "join",
        sources: vec![ta.path.clone(), tb.path.clone()],
        join_keys: vec![[label(pa, j.left_col), label(pb, j.right_col)]],
        join_info: Some(json!({
            "type": "inner",
            "cardinality": format!("{}:{}", card(max_left), card(max_right)),
            "matched_records": records,
            "containment": {"left_in_right": j.containment.0, "right_in_left": j.containment.1},
        })),
        qis,
        sensitive,
        direct,
        keys,
        scope_labels,
        counted,
        threshold: args.threshold,
        population: args.population,
        before,
        extra_scope: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment_exact_and_estimated() {
        let mut a = Sketch::default();
        let mut b = Sketch::default();
        for i in 0..100u64 {
            a.add(key_hash(1, &i.to_string()));
        }
        for i in 50..150u64 {
            b.add(key_hash(1, &i.to_string()));
        }
        assert_eq!(a.containment(&b), (0.5, 0.5));
        let mut a = Sketch::default();
        let mut b = Sketch::default();
        for i in 0..100_000u64 {
            a.add(key_hash(1, &i.to_string()));
        }
        for i in 0..50_000u64 {
            b.add(key_hash(1, &i.to_string()));
        }
        let (ab, ba) = a.containment(&b);
        assert!((ab - 0.5).abs() < 0.05, "{ab}");
        assert!((ba - 1.0).abs() < 0.05, "{ba}");
        assert!((a.distinct() - 100_000.0).abs() < 5_000.0);
    }
}
