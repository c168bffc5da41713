//! `appiscan risk` (SPEC §8): re-identification risk of tables and of their joins.
//! (Skeleton: filled in by the risk issue.)

use clap::Args;

/// Options of `appiscan risk`.
#[derive(Args, Debug)]
pub struct RiskArgs {
    /// Tables: CSV, TSV, JSONL, Parquet, xlsx.
    pub tables: Vec<String>,
}

/// Runs an assessment; the result is the exit code.
pub fn run(_args: RiskArgs) -> anyhow::Result<i32> {
    anyhow::bail!("risk: not implemented yet")
}
