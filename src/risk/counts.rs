//! Count files: `--emit-counts FILE` writes a table's (or a part's) aggregated counts as JSON
//! Lines; `--from-counts PART...` sums them per key and reports what the whole table gives.
//!
//! Line 1 is a header (`type: "risk_counts"`), then one line per aggregated key:
//! `{"s":SCOPE,"c":"<32 hex: class hash>","n":COUNT}` and, per sensitive attribute,
//! `{"s":0,"c":"<class>","a":ATTR,"v":"<16 hex: value hash>","n":COUNT}`.
//! The hashes are of normalised values, never the values themselves; with a small value space
//! they can still be guessed, so count files are handled as personal data (set
//! `APPISCAN_HASH_KEY`, the same for every part, to key them).

use super::count::{Counted, Entry};
use super::engine::{self, Engine};
use super::output::{Assessment, ColumnRef, QiOut};
use super::plan::Plan;
use super::{RiskArgs, budget, seed};
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

pub const SCHEMA: &str = "appiscan-risk-counts/1";

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct QiHead {
    column: String,
    semantic_type: String,
    evidence: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct ColHead {
    column: String,
    semantic_type: String,
}

#[derive(Serialize, Deserialize, Debug)]
struct Header {
    #[serde(rename = "type")]
    kind: String,
    schema: String,
    source: String,
    records: u64,
    quasi_identifiers: Vec<QiHead>,
    sensitive_attributes: Vec<String>,
    scopes: Vec<Vec<String>>,
    direct_identifiers: Vec<ColHead>,
    join_keys: Vec<ColHead>,
    hash: String,
    /// An id of the hash key (not the key), or null when unkeyed.
    key_id: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Line {
    s: u32,
    c: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    a: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    v: Option<String>,
    n: u64,
}

/// Writes the header, then every aggregated entry as counting finishes.
pub fn write_counts(file: &Path, plan: &Plan, eng: Engine, source: &str) -> anyhow::Result<Counted> {
    let mut w = BufWriter::new(File::create(file).with_context(|| format!("counts file {}", file.display()))?);
    let (_, key_id) = seed();
    let col = |i: usize| ColHead {
        column: plan.columns[i].name.clone(),
        semantic_type: plan.columns[i].semantic.clone(),
    };
    let head = Header {
        kind: "risk_counts".into(),
        schema: SCHEMA.into(),
        source: source.into(),
        records: eng.records,
        quasi_identifiers: plan
            .qi
            .iter()
            .map(|&i| QiHead {
                column: plan.columns[i].name.clone(),
                semantic_type: plan.columns[i].semantic.clone(),
                evidence: plan.columns[i].evidence.clone(),
            })
            .collect(),
        sensitive_attributes: plan.sa.iter().map(|&i| plan.columns[i].name.clone()).collect(),
        scopes: eng
            .scopes()
            .iter()
            .map(|s| s.iter().map(|&c| plan.columns[plan.qi[c]].name.clone()).collect())
            .collect(),
        direct_identifiers: plan.direct.iter().map(|&i| col(i)).collect(),
        join_keys: plan.keys.iter().map(|&i| col(i)).collect(),
        hash: "xxh3-64 values, xxh3-128 classes".into(),
        key_id,
    };
    serde_json::to_writer(&mut w, &head)?;
    w.write_all(b"\n")?;
    let counted = eng.finish(&mut |e| {
        let line = match e {
            Entry::Class { scope, class, n } => Line {
                s: scope,
                c: format!("{class:032x}"),
                a: None,
                v: None,
                n,
            },
            Entry::Sa { class, attr, value, n } => Line {
                s: 0,
                c: format!("{class:032x}"),
                a: Some(attr),
                v: Some(format!("{value:016x}")),
                n,
            },
        };
        serde_json::to_writer(&mut w, &line)?;
        w.write_all(b"\n")
    })?;
    w.flush()?;
    Ok(counted)
}

/// Merges count files into one table's assessment.
pub fn merge(args: &RiskArgs) -> anyhow::Result<Assessment> {
    let mut first: Option<Header> = None;
    let mut eng: Option<Engine> = None;
    let mut records = 0u64;
    let mut sources: Vec<String> = Vec::new();
    for path in &args.tables {
        let f = File::open(path).with_context(|| format!("cannot open {path}"))?;
        let mut lines = BufReader::with_capacity(1 << 20, f).lines();
        let head_line = lines
            .next()
            .transpose()?
            .with_context(|| format!("{path}: empty counts file"))?;
        let head: Header =
            serde_json::from_str(&head_line).with_context(|| format!("{path}: not a risk counts file"))?;
        if head.kind != "risk_counts" || head.schema != SCHEMA {
            bail!("{path}: not a {SCHEMA} counts file");
        }
        records += head.records;
        if !sources.contains(&head.source) {
            sources.push(head.source.clone());
        }
        match &first {
            None => {
                let q = head.quasi_identifiers.len();
                if engine::scopes(q).len() != head.scopes.len() {
                    bail!("{path}: scopes do not match this version of appiscan");
                }
                eng = Some(Engine::new(q, head.sensitive_attributes.len(), 0, budget()?));
                first = Some(head);
            }
            Some(f0) => {
                let cols = |h: &Header| {
                    h.quasi_identifiers
                        .iter()
                        .map(|q| (q.column.clone(), q.semantic_type.clone()))
                        .collect::<Vec<_>>()
                };
                if cols(f0) != cols(&head) || f0.sensitive_attributes != head.sensitive_attributes {
                    bail!(
                        "{path}: other quasi-identifiers or sensitive attributes than {}; count every part with the same --qi and --sensitive",
                        args.tables[0]
                    );
                }
                if f0.key_id != head.key_id {
                    bail!("{path}: counted with another APPISCAN_HASH_KEY than {}", args.tables[0]);
                }
            }
        }
        let e = eng.as_mut().expect("engine");
        for (no, line) in lines.enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let l: Line =
                serde_json::from_str(&line).with_context(|| format!("{path}: line {}: not a count", no + 2))?;
            let class = u128::from_str_radix(&l.c, 16).with_context(|| format!("{path}: line {}", no + 2))?;
            let entry = match (l.a, l.v) {
                (Some(attr), Some(v)) => Entry::Sa {
                    class,
                    attr,
                    value: u64::from_str_radix(&v, 16).with_context(|| format!("{path}: line {}", no + 2))?,
                    n: l.n,
                },
                _ => Entry::Class {
                    scope: l.s,
                    class,
                    n: l.n,
                },
            };
            e.add_entry(entry)?;
        }
    }
    let head = first.context("no counts file")?;
    let eng = eng.expect("engine");
    if eng.records != records {
        bail!(
            "the counts files hold {} records but their headers say {records}",
            eng.records
        );
    }
    let counted = eng.finish(&mut |_| Ok(()))?;
    let source = if sources.len() == 1 {
        sources[0].clone()
    } else {
        args.tables[0].clone()
    };
    let cref = |c: &ColHead| ColumnRef {
        source: source.clone(),
        column: c.column.clone(),
        semantic_type: c.semantic_type.clone(),
    };
    Ok(Assessment {
        kind: "table",
        sources: args.tables.clone(),
        join_keys: Vec::new(),
        join_info: None,
        qis: head
            .quasi_identifiers
            .iter()
            .map(|q| QiOut {
                source: source.clone(),
                column: q.column.clone(),
                semantic_type: q.semantic_type.clone(),
                evidence: q.evidence.clone(),
            })
            .collect(),
        sensitive: head.sensitive_attributes.clone(),
        direct: head.direct_identifiers.iter().map(cref).collect(),
        keys: head.join_keys.iter().map(cref).collect(),
        scope_labels: head.scopes.clone(),
        counted,
        threshold: args.threshold,
        population: args.population,
        before: Vec::new(),
        extra_scope: Some(serde_json::json!({"counted_sources": sources})),
    })
}
