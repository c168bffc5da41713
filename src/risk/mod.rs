//! `appiscan risk` (SPEC §8): re-identification risk of tables and of their joins, with the
//! semantics of ARX (risk of a record = 1 / size of its equivalence class).
//!
//! Flow: each table is read once ([`read`]); its columns are typed from names and the first
//! rows' values ([`plan`], vocabulary in `patterns/risk.toml`); every record's normalised
//! quasi-identifier tuple is hashed and counted with bounded memory ([`engine`], [`count`]); the
//! class-size histograms give the measures ([`metrics`]). Tables sharing a key column are read
//! again and joined on it ([`join`]). Count files ([`counts`]) carry a table's (or a part's)
//! aggregated counts so that parts merge into the whole table's report.

pub mod count;
pub mod counts;
pub mod engine;
pub mod join;
pub mod metrics;
pub mod normalize;
pub mod output;
pub mod plan;
pub mod read;
pub mod vocab;

use anyhow::{Context, bail};
use clap::Args;
use count::Counted;
use engine::{Engine, Hasher};
use output::{Assessment, ColumnRef, QiOut};
use plan::Plan;
use std::io::Write;
use std::path::PathBuf;

/// Options of `appiscan risk`.
#[derive(Args, Debug)]
pub struct RiskArgs {
    /// Tables: CSV, TSV, JSONL, Parquet, xlsx (with --from-counts: count files of --emit-counts).
    #[arg(required = true)]
    pub tables: Vec<String>,
    /// Quasi-identifiers, as named in the header (default: detected from names and values).
    #[arg(long, value_delimiter = ',')]
    pub qi: Option<Vec<String>>,
    /// Sensitive attributes for l-diversity (default: detected from names).
    #[arg(long, value_delimiter = ',')]
    pub sensitive: Option<Vec<String>>,
    /// Also assess tables joined on shared key columns: auto or none.
    #[arg(long, default_value = "auto", value_parser = ["auto", "none"])]
    pub join: String,
    /// Individual risk threshold: a record whose risk 1/class size is above it is at risk.
    #[arg(long, default_value_t = 0.2)]
    pub threshold: f64,
    /// Population size: enables population-uniqueness estimates (Pitman, Zayatz, SNB; Dankar's rule).
    #[arg(long)]
    pub population: Option<f64>,
    /// Report format: text, json, html.
    #[arg(short, long, default_value = "text", value_parser = ["text", "json", "html"])]
    pub format: String,
    /// Where the report goes (default: standard output).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Also write the table's per-class counts (JSON Lines) to FILE, for --from-counts.
    #[arg(long, value_name = "FILE")]
    pub emit_counts: Option<PathBuf>,
    /// The arguments are count files written by --emit-counts: merge them into one table's report.
    #[arg(long)]
    pub from_counts: bool,
}

/// Memory for counting, per assessment (bytes). `APPISCAN_RISK_MEMORY` overrides (K/M/G suffix).
/// A misspelt value is an error, not silently the default.
fn budget() -> anyhow::Result<usize> {
    match crate::config::env("APPISCAN_RISK_MEMORY") {
        None => Ok(count::DEFAULT_BUDGET),
        Some(v) => crate::config::parse_size(&v)
            .map(|n| n as usize)
            .map_err(|e| anyhow::anyhow!("APPISCAN_RISK_MEMORY: {e}")),
    }
}

/// The hash seed: from `APPISCAN_HASH_KEY` when set (count files are then keyed), else fixed.
pub fn seed() -> (u64, Option<String>) {
    match std::env::var("APPISCAN_HASH_KEY").ok().filter(|k| !k.is_empty()) {
        Some(k) => {
            use sha2::Digest;
            let d = sha2::Sha256::digest(k.as_bytes());
            let seed = u64::from_le_bytes(d[..8].try_into().expect("8 bytes"));
            let id = hex::encode(&sha2::Sha256::digest(d)[..6]);
            (seed, Some(id))
        }
        None => (0x6170_7069_7363_616e, None),
    }
}

/// A table after its own pass.
pub struct TableDone {
    pub path: String,
    pub plan: Plan,
    pub counted: Counted,
    pub records: u64,
    pub sketches: Vec<(usize, join::Sketch)>,
}

/// Runs an assessment; the result is the exit code.
pub fn run(args: RiskArgs) -> anyhow::Result<i32> {
    if !(args.threshold > 0.0 && args.threshold <= 1.0) {
        bail!("--threshold must be above 0 and at most 1");
    }
    if let Some(n) = args.population
        && !(n.is_finite() && n >= 1.0)
    {
        bail!("--population must be a positive number");
    }
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("output {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let assessments = if args.from_counts {
        if args.emit_counts.is_some() {
            bail!("--emit-counts and --from-counts do not go together");
        }
        vec![counts::merge(&args)?]
    } else {
        assess(&args)?
    };
    write_report(&args, &assessments, &mut out)?;
    out.flush()?;
    Ok(0)
}

fn write_report(args: &RiskArgs, assessments: &[Assessment], out: &mut dyn Write) -> anyhow::Result<()> {
    match args.format.as_str() {
        "json" => {
            let v = serde_json::json!({
                "type": "risk",
                "schema": "appiscan-risk/1",
                "assessments": assessments.iter().map(Assessment::to_json).collect::<Vec<_>>(),
            });
            serde_json::to_writer_pretty(&mut *out, &v)?;
            writeln!(out)?;
        }
        f => {
            let mut text = String::new();
            for a in assessments {
                a.to_text(&mut text);
            }
            if f == "html" {
                out.write_all(output::html(&text).as_bytes())?;
            } else {
                out.write_all(text.as_bytes())?;
            }
        }
    }
    Ok(())
}

fn assess(args: &RiskArgs) -> anyhow::Result<Vec<Assessment>> {
    if args.emit_counts.is_some() && args.tables.len() != 1 {
        bail!("--emit-counts takes exactly one table (or part of one)");
    }
    let (seed, _) = seed();
    let hasher = Hasher::new(seed);
    // A misspelt column is an error before any table is read in full.
    if args.qi.is_some() || args.sensitive.is_some() {
        let mut headers = Vec::new();
        for path in &args.tables {
            let (_, _, plan) = open_planned(args, path)?;
            headers.extend(plan.columns.into_iter().map(|c| c.name));
        }
        for name in args.qi.iter().flatten().chain(args.sensitive.iter().flatten()) {
            if !headers.contains(name) {
                bail!("column {name:?} given in --qi/--sensitive is in no table");
            }
        }
    }
    let mut done = Vec::new();
    for path in &args.tables {
        done.push(table_pass(args, path, hasher)?);
    }
    let mut out: Vec<Assessment> = done.iter().map(|t| table_assessment(args, t)).collect();
    if args.join == "auto" && done.len() > 1 {
        for j in join::detect(&done) {
            out.push(join::assess(args, &done, &j, hasher)?);
        }
    }
    Ok(out)
}

pub fn qi_out(p: &Plan) -> Vec<QiOut> {
    p.qi.iter()
        .map(|&i| QiOut {
            source: p.source.clone(),
            column: p.columns[i].name.clone(),
            semantic_type: p.columns[i].semantic.clone(),
            evidence: p.columns[i].evidence.clone(),
        })
        .collect()
}

pub fn refs(p: &Plan, idx: &[usize]) -> Vec<ColumnRef> {
    idx.iter()
        .map(|&i| ColumnRef {
            source: p.source.clone(),
            column: p.columns[i].name.clone(),
            semantic_type: p.columns[i].semantic.clone(),
        })
        .collect()
}

fn table_assessment(args: &RiskArgs, t: &TableDone) -> Assessment {
    let p = &t.plan;
    let scope_labels = engine::scopes(p.qi.len())
        .iter()
        .map(|s| s.iter().map(|&c| p.columns[p.qi[c]].name.clone()).collect())
        .collect();
    Assessment {
        kind: "table",
        sources: vec![t.path.clone()],
        join_keys: Vec::new(),
        join_info: None,
        qis: qi_out(p),
        sensitive: p.sa.iter().map(|&i| p.columns[i].name.clone()).collect(),
        direct: refs(p, &p.direct),
        keys: refs(p, &p.keys),
        scope_labels,
        counted: t.counted.clone(),
        threshold: args.threshold,
        population: args.population,
        before: Vec::new(),
        extra_scope: None,
    }
}

/// Reads the first rows of a table, types its columns, and makes its plan.
pub fn open_planned(args: &RiskArgs, path: &str) -> anyhow::Result<(Box<dyn read::RowSource>, Vec<read::Row>, Plan)> {
    let mut src = read::open(path)?;
    let mut sample = Vec::new();
    let want = vocab::Vocab::get().sample_rows;
    while sample.len() < want {
        match src.next_row().with_context(|| path.to_string())? {
            Some(r) => sample.push(r),
            None => break,
        }
    }
    let header = src.header().to_vec();
    let cols = plan::detect(&header, &sample);
    let plan = plan::plan(path, cols, args.qi.as_deref(), args.sensitive.as_deref());
    Ok((src, sample, plan))
}

fn table_pass(args: &RiskArgs, path: &str, hasher: Hasher) -> anyhow::Result<TableDone> {
    let (mut src, sample, plan) = open_planned(args, path)?;
    let mut eng = Engine::new(plan.qi.len(), plan.sa.len(), hasher.seed, budget()?);
    let mut sketches: Vec<(usize, join::Sketch)> = plan
        .columns
        .iter()
        .enumerate()
        .filter(|(i, c)| plan.keys.contains(i) || c.role.is_none())
        .map(|(i, _)| (i, join::Sketch::default()))
        .collect();
    let mut qi = vec![0u64; plan.qi.len()];
    let mut sa = vec![0u64; plan.sa.len()];
    let mut memo: Vec<engine::Memo> = (0..plan.qi.len() + plan.sa.len()).map(|_| Default::default()).collect();
    let mut add = |row: &read::Row, eng: &mut Engine| -> anyhow::Result<()> {
        let cell = |i: usize| row.get(i).and_then(|c| c.as_deref());
        for (k, &c) in plan.qi.iter().enumerate() {
            let col = &plan.columns[c];
            qi[k] = match cell(c) {
                Some(v) => memo[k].get(v, || hasher.value(col, Some(v))),
                None => hasher.value(col, None),
            };
        }
        for (k, &c) in plan.sa.iter().enumerate() {
            sa[k] = match cell(c) {
                Some(v) => memo[plan.qi.len() + k].get(v, || hasher.text(Some(v))),
                None => hasher.text(None),
            };
        }
        for (c, s) in sketches.iter_mut() {
            if let Some(v) = cell(*c).filter(|v| !v.trim().is_empty()) {
                s.add(join::key_hash(hasher.seed, v));
            }
        }
        eng.add(&qi, &sa).context("counting (temporary files)")?;
        Ok(())
    };
    for r in &sample {
        add(r, &mut eng)?;
    }
    while let Some(r) = src.next_row().with_context(|| path.to_string())? {
        add(&r, &mut eng)?;
    }
    let records = eng.records;
    let counted = match &args.emit_counts {
        Some(file) => counts::write_counts(file, &plan, eng, path)?,
        None => eng.finish(&mut |_| Ok(()))?,
    };
    Ok(TableDone {
        path: path.to_string(),
        plan,
        counted,
        records,
        sketches,
    })
}
