//! The command line: parses arguments, builds a configuration, runs the library and maps the
//! outcome to an exit code (SPEC §3). Nothing else lives here.

use anyhow::Context;
use appiscan::config::{self, FileConfig};
use appiscan::report::{JsonSink, JsonlSink, Sink, TextSink};
use appiscan::scan::{self, ScanConfig};
use clap::{Args, Parser, Subcommand};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "appiscan",
    version,
    about = "Finds personal data as Japan's APPI defines it (個人情報保護法)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find personal data in files, directories or standard input (`-`).
    Scan(Box<ScanArgs>),
    /// Baselines of accepted findings.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Re-identification risk of tables and of their joins (SPEC §8).
    Risk(Box<appiscan::risk::RiskArgs>),
    /// Combine jsonl parts of one scan (shards) into one report (SPEC §10).
    Merge(Box<MergeArgs>),
    /// List every rule: id, names (ja, en), category, legal basis.
    Rules {
        #[arg(short, long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
        /// Run every rule's positive and negative examples (custom rules of the settings file too);
        /// exit 1 if one fails.
        #[arg(long)]
        check: bool,
        /// Settings file with custom rules (default: ./appiscan.toml if present).
        #[arg(long, env = "APPISCAN_CONFIG")]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum BaselineCommand {
    /// Writes a baseline from reports (`jsonl` or `json`, `-` for standard input) made with a
    /// fixed fingerprint key.
    Create {
        /// Reports to take the findings from.
        #[arg(required = true)]
        reports: Vec<String>,
        /// Where the baseline goes (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

fn baseline(cmd: BaselineCommand) -> anyhow::Result<i32> {
    let BaselineCommand::Create { reports, output } = cmd;
    let mut texts = Vec::new();
    for r in &reports {
        let text = if r == "-" {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
            s
        } else {
            std::fs::read_to_string(r).with_context(|| format!("report {r}"))?
        };
        texts.push((r.clone(), text));
    }
    let file = appiscan::accept::baseline_from_reports(&texts)?;
    let mut json = serde_json::to_string_pretty(&file)?;
    json.push('\n');
    match output {
        Some(p) => std::fs::write(&p, json).with_context(|| format!("baseline {}", p.display()))?,
        None => std::io::stdout().write_all(json.as_bytes())?,
    }
    eprintln!("appiscan: baseline of {} findings", file.entries.len());
    Ok(0)
}

#[derive(Args)]
struct ScanArgs {
    /// Files, directories, `-` for standard input, bucket URLs (s3://bucket/prefix, gs://…,
    /// az://container/…) or S3 Inventory manifest.json files (local or s3://…); optional with --worklist.
    #[arg(required_unless_present = "worklist")]
    targets: Vec<String>,
    /// Inputs to scan, one per line (`-`: standard input): a path, a URL, or bucket,key[,versionId];
    /// blank lines and lines starting with # are ignored. Scanned after the TARGETs.
    #[arg(long, env = "APPISCAN_WORKLIST")]
    worklist: Option<String>,
    /// This run's shard (0-based): it takes an input iff FNV-1a-64(key) mod --shard-count equals
    /// it [default: JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX, CLOUD_RUN_TASK_INDEX].
    #[arg(long, env = "APPISCAN_SHARD_INDEX")]
    shard_index: Option<u64>,
    /// How many shards the inputs are split into [default: AWS_BATCH_JOB_ARRAY_SIZE,
    /// CLOUD_RUN_TASK_COUNT; required with JOB_COMPLETION_INDEX].
    #[arg(long, env = "APPISCAN_SHARD_COUNT")]
    shard_count: Option<u64>,
    /// Report format: text, json, jsonl.
    #[arg(short, long, env = "APPISCAN_FORMAT")]
    format: Option<String>,
    /// Where the report goes (default: standard output).
    #[arg(short, long, env = "APPISCAN_OUTPUT")]
    output: Option<PathBuf>,
    /// Findings below this confidence are not reported: low, medium, high.
    #[arg(long, env = "APPISCAN_MIN_CONFIDENCE")]
    min_confidence: Option<String>,
    /// Exit 1 if a reported finding is at or above this: low, medium, high, never.
    #[arg(long, env = "APPISCAN_FAIL_ON")]
    fail_on: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', long, env = "APPISCAN_THREADS")]
    threads: Option<usize>,
    /// Settings file (default: ./appiscan.toml if present).
    #[arg(long, env = "APPISCAN_CONFIG")]
    config: Option<PathBuf>,
    /// Skip paths matching this glob (repeatable; APPISCAN_EXCLUDE takes a comma-separated list).
    #[arg(long)]
    exclude: Vec<String>,
    /// Skip files larger than this many bytes (K, M, G suffixes accepted).
    #[arg(long, env = "APPISCAN_MAX_FILE_SIZE")]
    max_file_size: Option<String>,
    /// Key for fingerprints (default: APPISCAN_HASH_KEY, else a random key per run).
    #[arg(long, env = "APPISCAN_HASH_KEY_FILE")]
    hash_key_file: Option<PathBuf>,
    /// Print raw matched values in reports.
    #[arg(long)]
    show_values: bool,
    /// Follow symbolic links while walking directories (loops are detected and reported).
    #[arg(long)]
    follow_symlinks: bool,
    /// Containers (zip, tar, gzip…) nested deeper than this are not opened [default: 10].
    #[arg(long, env = "APPISCAN_MAX_DEPTH")]
    max_depth: Option<usize>,
    /// Decompressed bytes allowed per input file [default: 256G].
    #[arg(long, env = "APPISCAN_MAX_EXPANDED_BYTES")]
    max_expanded_bytes: Option<String>,
    /// Largest decompressed/compressed ratio of one stream or member (zip bombs) [default: 250].
    #[arg(long, env = "APPISCAN_MAX_RATIO")]
    max_ratio: Option<u64>,
    /// Archive members allowed per input file [default: 1000000].
    #[arg(long, env = "APPISCAN_MAX_MEMBERS")]
    max_members: Option<u64>,
    /// SQLite state of earlier runs: unchanged files are not read again, findings get a status
    /// (new, unchanged, resolved).
    #[arg(long, env = "APPISCAN_STATE")]
    state: Option<PathBuf>,
    /// Accepted findings (from `appiscan baseline create`): reported as baselined, never failing.
    #[arg(long, env = "APPISCAN_BASELINE")]
    baseline: Option<PathBuf>,
    /// Where the data is going: s3://bucket, gs://bucket, az://container (with
    /// --destination-region) or a country code; outside Japan adds a cross-border notice.
    #[arg(long, env = "APPISCAN_DESTINATION")]
    destination: Option<String>,
    /// The destination's cloud region (ap-northeast-1, asia-northeast1, japaneast…).
    #[arg(long, env = "APPISCAN_DESTINATION_REGION")]
    destination_region: Option<String>,
    /// Exit 75 at once if another run holds this lock file.
    #[arg(long, env = "APPISCAN_LOCK")]
    lock: Option<PathBuf>,
    /// Read the objects listed by an S3 Inventory manifest TARGET from DIR/<key> (a local
    /// mirror) instead of the bucket; missing or differently sized copies are error records.
    #[arg(long, env = "APPISCAN_MIRROR_ROOT", value_name = "DIR")]
    mirror_root: Option<PathBuf>,
    /// No progress line on standard error (it is shown only when standard error is a terminal).
    #[arg(long)]
    no_progress: bool,
}

/// Exit code when another run holds the lock (EX_TEMPFAIL).
const EXIT_LOCKED: i32 = 75;

use appiscan::config::env;

fn build(args: ScanArgs) -> anyhow::Result<(ScanConfig, String, Option<PathBuf>)> {
    let file = load_file_config(args.config.as_deref())?;
    let format = args.format.or(file.format).unwrap_or_else(|| "text".into());
    anyhow::ensure!(
        ["text", "json", "jsonl", "sarif", "csv"].contains(&format.as_str()),
        "unknown format {format:?}: text, json, jsonl, sarif or csv"
    );
    let output = args.output.or(file.output.map(PathBuf::from));
    let min_confidence = config::parse_confidence(
        args.min_confidence
            .or(file.min_confidence)
            .as_deref()
            .unwrap_or("medium"),
    )?;
    let fail_on = config::parse_fail_on(args.fail_on.or(file.fail_on).as_deref().unwrap_or("medium"))?;
    let mut exclude = args.exclude;
    if exclude.is_empty() {
        if let Some(e) = env("APPISCAN_EXCLUDE") {
            exclude = e
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
        } else {
            exclude = file.exclude;
        }
    }
    let max_file_size = match (args.max_file_size, file.max_file_size) {
        (Some(s), _) => Some(config::parse_size(&s)?),
        (None, Some(toml::Value::Integer(n))) => Some(u64::try_from(n).context("max-file-size must be positive")?),
        (None, Some(toml::Value::String(s))) => Some(config::parse_size(&s)?),
        (None, Some(v)) => anyhow::bail!("max-file-size: not a size: {v}"),
        (None, None) => None,
    };
    let show_values = args.show_values
        || env("APPISCAN_SHOW_VALUES")
            .map(|v| config::parse_bool(&v))
            .transpose()?
            .or(file.show_values)
            .unwrap_or(false);
    let follow_symlinks = args.follow_symlinks
        || env("APPISCAN_FOLLOW_SYMLINKS")
            .map(|v| config::parse_bool(&v))
            .transpose()?
            .or(file.follow_symlinks)
            .unwrap_or(false);
    // Command line (or APPISCAN_HASH_KEY_FILE), then APPISCAN_HASH_KEY, then the settings file.
    let (hash_key, key_provided) = if let Some(p) = &args.hash_key_file {
        (config::read_key_file(p)?, true)
    } else if let Some(k) = env("APPISCAN_HASH_KEY") {
        (k.into_bytes(), true)
    } else if let Some(p) = &file.hash_key_file {
        (config::read_key_file(Path::new(p))?, true)
    } else {
        let mut k = vec![0u8; 32];
        getrandom::getrandom(&mut k).map_err(|e| anyhow::anyhow!("no random key: {e}"))?;
        (k, false)
    };
    let d = appiscan::container::Limits::default();
    let limits = appiscan::container::Limits {
        max_depth: args.max_depth.or(file.max_depth).unwrap_or(d.max_depth),
        max_expanded: match args.max_expanded_bytes.or(file.max_expanded_bytes) {
            Some(s) => config::parse_size(&s)?,
            None => d.max_expanded,
        },
        max_ratio: args.max_ratio.or(file.max_ratio).unwrap_or(d.max_ratio),
        max_members: args.max_members.or(file.max_members).unwrap_or(d.max_members),
    };
    let rules = appiscan::custom::rules(&file.rules)?;
    let state = args.state.or(file.state.map(PathBuf::from));
    // With a state file and no key given, the state keeps one so fingerprints compare across runs.
    let (hash_key, key_provided) = match &state {
        Some(p) => (appiscan::state::resolve_key(p, key_provided.then_some(hash_key))?, true),
        None => (hash_key, key_provided),
    };
    let baseline = match args.baseline.or(file.baseline.map(PathBuf::from)) {
        Some(p) => Some(appiscan::accept::Baseline::load(&p)?),
        None => None,
    };
    let allow = appiscan::accept::Allowlist::new(&file.allow, appiscan::accept::today())?;
    for e in &allow.expired {
        eprintln!(
            "appiscan: allowlist entry expired on {} and no longer applies: {}",
            e.expires, e.reason
        );
    }
    let destination = match args.destination.or(file.destination) {
        Some(url) => Some(appiscan::destination::resolve(
            &url,
            args.destination_region.or(file.destination_region).as_deref(),
        )?),
        None => None,
    };
    let progress = !args.no_progress
        && !env("APPISCAN_NO_PROGRESS")
            .map(|v| config::parse_bool(&v))
            .transpose()?
            .unwrap_or(false)
        && file.progress.unwrap_or(true);
    let shard = appiscan::shard::resolve(args.shard_index, args.shard_count, env)?;
    if args.worklist.as_deref() == Some("-") && args.targets.iter().any(|t| t == "-") {
        anyhow::bail!("--worklist - and the TARGET - both read standard input: give one of them");
    }
    let cfg = ScanConfig {
        rules,
        targets: args.targets,
        min_confidence,
        fail_on,
        threads: args.threads.or(file.threads).unwrap_or(0),
        exclude,
        max_file_size,
        hash_key,
        key_provided,
        show_values,
        follow_symlinks,
        limits,
        state,
        baseline,
        allow,
        destination,
        progress,
        shard,
        worklist: args.worklist,
        mirror_root: args.mirror_root,
    };
    Ok((cfg, format, output))
}

fn scan(args: ScanArgs) -> anyhow::Result<i32> {
    // Locks first: a second run exits at once, before it touches the state or the output.
    let file = load_file_config(args.config.as_deref())?;
    let lock_path = args.lock.clone().or(file.lock.map(PathBuf::from));
    let state_path = args.state.clone().or(file.state.map(PathBuf::from));
    // A state file is guarded by a lock file beside it (`STATE.lock`): two runs on one state
    // would each report against a base the other is changing.
    let state_lock = state_path.as_ref().map(|p| {
        let mut l = p.clone().into_os_string();
        l.push(".lock");
        PathBuf::from(l)
    });
    let mut _locks = Vec::new();
    for p in lock_path.iter().chain(state_lock.iter()) {
        match appiscan::state::try_lock(p)? {
            Some(f) => _locks.push(f),
            None => {
                eprintln!("appiscan: another run holds the lock {}", p.display());
                return Ok(EXIT_LOCKED);
            }
        }
    }
    let (cfg, format, output) = build(args)?;
    let (out, part) = open_output(output.as_deref())?;
    let mut sink = make_sink(&format, out, cfg.rules, cfg.show_values);
    let outcome = scan::run(&cfg, sink.as_mut())?;
    drop(sink);
    if let Some(p) = part {
        p.commit().context("moving the report to its name")?;
    }
    Ok(outcome.exit_code())
}

/// The report's destination: standard output, or a file written under a temporary name and
/// renamed when complete (see `shard::PartFile`).
fn open_output(output: Option<&Path>) -> anyhow::Result<(Box<dyn Write>, Option<appiscan::shard::PartFile>)> {
    Ok(match output {
        Some(p) => {
            let (part, f) = appiscan::shard::PartFile::create(p).with_context(|| format!("output {}", p.display()))?;
            (Box::new(f), Some(part))
        }
        None => (Box::new(std::io::stdout().lock()), None),
    })
}

fn make_sink(format: &str, out: Box<dyn Write>, rules: &appiscan::custom::Rules, show_values: bool) -> Box<dyn Sink> {
    let out = BufWriter::new(out);
    match format {
        "json" => Box::new(JsonSink::new(out)),
        "jsonl" => Box::new(JsonlSink { out }),
        "sarif" => Box::new(appiscan::sarif::SarifSink::new(out, rules)),
        "csv" => Box::new(appiscan::csvout::CsvSink::new(out).show_values(show_values)),
        _ => Box::new(TextSink::new(out)),
    }
}

#[derive(Args)]
struct MergeArgs {
    /// `jsonl` reports of one scan (shard parts, or scans of overlapping inputs); `-` for standard input.
    #[arg(required = true)]
    parts: Vec<String>,
    /// Report format: text, json, jsonl, sarif, csv.
    #[arg(short, long, default_value = "text")]
    format: String,
    /// Where the merged report goes (default: standard output); written under a temporary name
    /// and renamed when complete.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Exit 1 if a merged finding is at or above this: low, medium, high, never.
    #[arg(long, default_value = "medium")]
    fail_on: String,
    /// Keep the raw values of parts made with --show-values (else they are dropped).
    #[arg(long)]
    show_values: bool,
    /// Merge parts made with ephemeral fingerprint keys (their distinct counts cannot be trusted).
    #[arg(long)]
    force: bool,
}

fn merge(args: MergeArgs) -> anyhow::Result<i32> {
    // Count parts of `appiscan risk --emit-counts` merge into one risk report (SPEC §10), exactly as
    // `appiscan risk --from-counts` does (which also takes --threshold and --population).
    let first_lines: Vec<Option<String>> = args
        .parts
        .iter()
        .map(|p| {
            (p != "-")
                .then(|| std::fs::File::open(p).ok())
                .flatten()
                .and_then(|f| std::io::BufRead::lines(std::io::BufReader::new(f)).next()?.ok())
        })
        .collect();
    let risk_parts = first_lines
        .iter()
        .filter(|l| l.as_deref().is_some_and(appiscan::merge::is_risk_counts))
        .count();
    if risk_parts > 0 {
        anyhow::ensure!(
            risk_parts == args.parts.len(),
            "some parts are risk count files and some are not: merge one kind at a time"
        );
        anyhow::ensure!(
            ["text", "json", "html"].contains(&args.format.as_str()),
            "risk count parts merge into a risk report: -f text, json or html"
        );
        return appiscan::risk::run(appiscan::risk::RiskArgs {
            tables: args.parts,
            qi: None,
            sensitive: None,
            join: "none".into(),
            threshold: 0.2,
            population: None,
            format: args.format,
            output: args.output,
            emit_counts: None,
            from_counts: true,
        });
    }
    anyhow::ensure!(
        ["text", "json", "jsonl", "sarif", "csv"].contains(&args.format.as_str()),
        "unknown format {:?}: text, json, jsonl, sarif or csv",
        args.format
    );
    let opts = appiscan::merge::MergeOptions {
        parts: args.parts,
        fail_on: config::parse_fail_on(&args.fail_on)?,
        show_values: args.show_values,
        force: args.force,
    };
    let (out, part) = open_output(args.output.as_deref())?;
    let mut sink = make_sink(&args.format, out, appiscan::custom::Rules::builtin(), args.show_values);
    let outcome = appiscan::merge::run(&opts, sink.as_mut())?;
    drop(sink);
    if let Some(p) = part {
        p.commit().context("moving the report to its name")?;
    }
    Ok(outcome.exit_code())
}

fn load_file_config(path: Option<&Path>) -> anyhow::Result<FileConfig> {
    match path {
        Some(p) => FileConfig::load(p),
        None if Path::new("appiscan.toml").is_file() => FileConfig::load(Path::new("appiscan.toml")),
        None => Ok(FileConfig::default()),
    }
}

fn rules(format: &str, check: bool, config: Option<PathBuf>) -> anyhow::Result<i32> {
    let file = load_file_config(config.as_deref())?;
    let set = appiscan::custom::rule_set(&file.rules)?;
    let mut out = std::io::stdout().lock();
    if check {
        let ok = appiscan::custom::check(set, &mut out)?;
        return Ok(if ok { 0 } else { 1 });
    }
    if format == "json" {
        let list: Vec<serde_json::Value> = set
            .rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "name_ja": r.name_ja, "name_en": r.name_en, "category": r.category,
                    "legal_basis": r.legal_basis, "validator": r.validator, "shapes": r.shapes,
                    "custom": matches!(r.kind, appiscan::patterns::Kind::Custom),
                })
            })
            .collect();
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({"rules_version": set.version, "rules": list}),
        )?;
        writeln!(out)?;
    } else {
        for r in &set.rules {
            writeln!(
                out,
                "{:<34} {:<22} {}  /  {}  ({})",
                r.id, r.category, r.name_ja, r.name_en, r.legal_basis
            )?;
        }
    }
    Ok(0)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan(*args),
        Command::Risk(args) => appiscan::risk::run(*args),
        Command::Baseline(cmd) => baseline(cmd),
        Command::Merge(args) => merge(*args),
        Command::Rules { format, check, config } => rules(&format, check, config),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("appiscan: {e:#}");
            ExitCode::from(2)
        }
    }
}
