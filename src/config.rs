//! Settings from `appiscan.toml`, merged under the command line and the `APPISCAN_*`
//! environment: command line first, then environment, then the file, then defaults.

use crate::patterns::Confidence;
use serde::Deserialize;
use std::path::Path;

/// `appiscan.toml`: every `scan` option by its long name (`min-confidence` or `min_confidence`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileConfig {
    pub format: Option<String>,
    pub output: Option<String>,
    #[serde(alias = "min_confidence")]
    pub min_confidence: Option<String>,
    #[serde(alias = "fail_on")]
    pub fail_on: Option<String>,
    pub threads: Option<usize>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(alias = "max_file_size")]
    pub max_file_size: Option<toml::Value>,
    #[serde(alias = "hash_key_file")]
    pub hash_key_file: Option<String>,
    #[serde(alias = "show_values")]
    pub show_values: Option<bool>,
    #[serde(alias = "follow_symlinks")]
    pub follow_symlinks: Option<bool>,
    #[serde(alias = "max_depth")]
    pub max_depth: Option<usize>,
    #[serde(alias = "max_expanded_bytes")]
    pub max_expanded_bytes: Option<String>,
    #[serde(alias = "max_ratio")]
    pub max_ratio: Option<u64>,
    #[serde(alias = "max_members")]
    pub max_members: Option<u64>,
    pub state: Option<String>,
    pub baseline: Option<String>,
    pub destination: Option<String>,
    #[serde(alias = "destination_region")]
    pub destination_region: Option<String>,
    pub lock: Option<String>,
    pub progress: Option<bool>,
    /// Allowlist entries (`[[allow]]`).
    #[serde(default)]
    pub allow: Vec<crate::accept::AllowEntry>,
    /// Custom rules (`[[rules]]`), compiled by [`crate::custom`].
    #[serde(default)]
    pub rules: Vec<toml::Table>,
}

impl FileConfig {
    /// Reads a settings file; a missing explicit file or a bad key is an error.
    pub fn load(path: &Path) -> anyhow::Result<FileConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("config {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("config {}: {e}", path.display()))
    }
}

/// An environment variable, unset when empty.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `low`, `medium` or `high`.
pub fn parse_confidence(s: &str) -> anyhow::Result<Confidence> {
    Confidence::parse(&s.to_ascii_lowercase())
        .ok_or_else(|| anyhow::anyhow!("confidence must be low, medium or high, not {s:?}"))
}

/// `low`, `medium`, `high` or `never` (`None`).
pub fn parse_fail_on(s: &str) -> anyhow::Result<Option<Confidence>> {
    if s.eq_ignore_ascii_case("never") {
        Ok(None)
    } else {
        parse_confidence(s).map(Some)
    }
}

/// A byte count: digits with an optional binary suffix (`K`, `M`, `G`, `T`, with or without `iB`/`B`).
pub fn parse_size(s: &str) -> anyhow::Result<u64> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| anyhow::anyhow!("not a size: {s:?}"))?;
    let mult: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        u => anyhow::bail!("unknown size unit {u:?} in {s:?}"),
    };
    n.checked_mul(mult)
        .ok_or_else(|| anyhow::anyhow!("size too large: {s:?}"))
}

/// A boolean from the environment: `1`, `true`, `yes`, `on` (or their opposites).
pub fn parse_bool(s: &str) -> anyhow::Result<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => anyhow::bail!("not a boolean: {s:?}"),
    }
}

/// Key bytes from a key file: its bytes without one trailing newline.
pub fn read_key_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut k = std::fs::read(path).map_err(|e| anyhow::anyhow!("hash key file {}: {e}", path.display()))?;
    if k.ends_with(b"\n") {
        k.pop();
        if k.ends_with(b"\r") {
            k.pop();
        }
    }
    anyhow::ensure!(!k.is_empty(), "hash key file {} is empty", path.display());
    Ok(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024").unwrap(), 1024);
        assert_eq!(parse_size("10M").unwrap(), 10 << 20);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert!(parse_size("ten").is_err());
    }
}
