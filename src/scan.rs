//! The scan engine: targets are walked in parallel, each file is decoded piece by piece into
//! bounded text units, detected, and turned into report records that one thread writes.

use crate::decode::{self, Sniff, TextReader};
use crate::detect::{self, Detection, Scratch, Unit};
use crate::fold::Folded;
use crate::patterns::{Confidence, RuleSet};
use crate::report::{self, ErrorRecord, Finding, Sink, Summary, Tool};
use crate::structure::{Format, Structure};
use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Decoded text is scanned in pieces of about this size.
pub const PIECE: usize = 1 << 20;
/// Bytes of the previous piece kept before a piece as context (labels before a value).
const CONTEXT_TAIL: usize = 1536;
/// Bytes of the next piece visible after a piece, so a value at the end is seen whole.
const LOOKAHEAD: usize = 128;

/// Everything a scan needs, already resolved from options, environment and config file.
#[derive(Clone)]
pub struct ScanConfig {
    /// The rules: the built-in ones plus any custom rules of the settings file (compiled when
    /// the first input is read).
    pub rules: &'static crate::custom::Rules,
    pub targets: Vec<String>,
    pub min_confidence: Confidence,
    /// `None`: never fail on findings.
    pub fail_on: Option<Confidence>,
    /// 0: all cores.
    pub threads: usize,
    pub exclude: Vec<String>,
    pub max_file_size: Option<u64>,
    pub hash_key: Vec<u8>,
    pub key_provided: bool,
    pub show_values: bool,
    pub follow_symlinks: bool,
    /// Container limits (depth, expanded bytes, ratio, members).
    pub limits: crate::container::Limits,
    /// `--state FILE`: unchanged inputs are not read again; findings get a status.
    pub state: Option<std::path::PathBuf>,
    /// `--baseline FILE`: accepted findings (`None`: no baseline given).
    pub baseline: Option<crate::accept::Baseline>,
    /// `[[allow]]` entries of the settings file.
    pub allow: crate::accept::Allowlist,
    /// `--destination`: where the data is going.
    pub destination: Option<crate::destination::Destination>,
    /// A progress line on standard error (only when it is a terminal).
    pub progress: bool,
    /// `--shard-index/--shard-count` (or the engine variables): which inputs this run takes.
    pub shard: Option<crate::shard::Shard>,
    /// `--worklist FILE` (`-`: standard input): items scanned after the TARGETs.
    pub worklist: Option<String>,
    /// `--mirror-root DIR`: objects listed by an inventory TARGET are read from `DIR/<key>`.
    pub mirror_root: Option<std::path::PathBuf>,
}

impl ScanConfig {
    /// A configuration with the defaults of the command line, for the library and its tests.
    pub fn new(targets: Vec<String>) -> ScanConfig {
        ScanConfig {
            rules: crate::custom::Rules::builtin(),
            targets,
            min_confidence: Confidence::Medium,
            fail_on: Some(Confidence::Medium),
            threads: 0,
            exclude: Vec::new(),
            max_file_size: None,
            hash_key: b"appiscan".to_vec(),
            key_provided: false,
            show_values: false,
            follow_symlinks: false,
            limits: Default::default(),
            state: None,
            baseline: None,
            allow: Default::default(),
            destination: None,
            progress: false,
            shard: None,
            worklist: None,
            mirror_root: None,
        }
    }

    /// A hash of every setting that shapes the findings of one file: a file read under other
    /// settings is read again by a `--state` run.
    pub fn settings_hash(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(self.rules.version.as_bytes());
        h.update([self.min_confidence as u8, self.show_values as u8]);
        h.update(report::fingerprint(&self.hash_key, "appiscan settings").as_bytes());
        let l = &self.limits;
        h.update(format!("{}/{}/{}/{}", l.max_depth, l.max_expanded, l.max_ratio, l.max_members).as_bytes());
        hex::encode(&h.finalize()[..16])
    }
}

/// What a scan ended with.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub summary: Summary,
    /// A reported finding reached `fail_on`.
    pub failing: bool,
}

impl Outcome {
    /// The exit code of SPEC §3.
    pub fn exit_code(&self) -> i32 {
        if self.failing {
            1
        } else if self.summary.errors > 0 {
            3
        } else {
            0
        }
    }
}

/// What one input produced.
#[derive(Debug, Default)]
pub struct FileResult {
    pub findings: Vec<Finding>,
    pub errors: Vec<ErrorRecord>,
    pub bytes: u64,
    /// Set when the file was skipped, with the reason.
    pub skipped: Option<&'static str>,
    /// Archive members skipped, by reason (binary members of a zip…).
    pub member_skipped: BTreeMap<&'static str, u64>,
    /// The file as shown in reports, the TARGET it was found under and what identifies its
    /// version (set for walked files; used by `--state`).
    pub path: String,
    pub target: String,
    pub meta: Option<crate::state::FileMeta>,
}

pub enum Msg {
    File(FileResult),
    /// Findings of a file still being scanned (a large file reports as it goes).
    Findings(Vec<Finding>),
    Skip(&'static str),
    Error(ErrorRecord),
    /// A file unchanged since the last `--state` run: not read; its findings are carried.
    Unchanged(String),
    /// A file unchanged since the last `--state` run with no findings to carry: the state
    /// lookup counted it, the writer has nothing to do (not sent, see [`send`]).
    Carried,
}

/// Sends a message to the writer, unless it is one the writer has nothing to do with.
fn send(tx: &crossbeam_channel::Sender<Msg>, msg: Msg) {
    if !matches!(msg, Msg::Carried) {
        let _ = tx.send(msg);
    }
}

/// Reusable per-worker state.
#[derive(Default)]
pub struct Worker {
    /// Buffers of the pieces of one batch (one per piece; a batch of a large plain-text file
    /// has several, detected in parallel).
    pieces: Vec<PieceWork>,
}

/// The buffers one piece is detected with.
#[derive(Default)]
struct PieceWork {
    scratch: Scratch,
    folded: Folded,
    detections: Vec<Detection>,
    /// The tail of the previous piece (context) followed by this piece and its look-ahead.
    unit_text: String,
    /// Characters of the tail and of the piece itself.
    tail_chars: usize,
    piece_chars: usize,
    /// Findings, with lines counted from the piece start (line 0) and columns on line 0
    /// counted from the piece start.
    findings: Vec<Finding>,
    /// Newlines in the piece, and characters after its last newline.
    lines: u64,
    last_col: u64,
}

/// Pieces of a plain-text file detected at once (per thread).
const BATCH_PER_THREAD: usize = 2;

fn build_globs(patterns: &[String]) -> anyhow::Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).map_err(|e| anyhow::anyhow!("--exclude {p}: {e}"))?);
        // A bare name or directory pattern also matches anywhere below.
        if !p.starts_with("**/") && !p.starts_with('/') {
            b.add(Glob::new(&format!("**/{p}"))?);
        }
        b.add(Glob::new(&format!("{}/**", p.trim_end_matches('/')))?);
    }
    Ok(b.build()?)
}

/// Scans every target and writes the report to `sink`. Errors of single inputs become error
/// records; an `Err` is fatal (bad configuration, or the sink failed).
pub fn run(cfg: &ScanConfig, sink: &mut dyn Sink) -> anyhow::Result<Outcome> {
    let rules = cfg.rules;
    let started = report::now();
    let excludes = build_globs(&cfg.exclude)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(cfg.threads).build()?;
    let (tx, rx) = crossbeam_channel::bounded::<Msg>(256);
    let summary = Summary {
        kind: "summary",
        tool: Tool {
            name: "appiscan",
            version: env!("CARGO_PKG_VERSION"),
        },
        started,
        finished: String::new(),
        targets: cfg.targets.clone(),
        files_scanned: 0,
        bytes_scanned: 0,
        files_skipped: BTreeMap::new(),
        errors: 0,
        findings: BTreeMap::new(),
        distinct: BTreeMap::new(),
        complete: true,
        fingerprint_key: if cfg.key_provided { "provided" } else { "ephemeral" },
        rules_version: rules.version.clone(),
        status: None,
        files_unchanged: None,
        baselined: cfg.baseline.as_ref().map(|_| 0),
        allowed: None,
        allowlist_expired: cfg.allow.expired.clone(),
        destination: cfg.destination.clone(),
        shard: None,
        worklist: cfg.worklist.iter().cloned().collect(),
        merged_parts: None,
        shards: None,
    };
    let selector = crate::shard::Selector::new(cfg.shard);
    let worklist = match &cfg.worklist {
        Some(source) => Some(crate::worklist::open(source)?),
        None => None,
    };
    // Bucket and inventory TARGETs are listed first: one that cannot be listed stops the run
    // before anything is reported (exit 2).
    let listed = crate::source::plan(&cfg.targets, cfg.mirror_root.as_deref())?;
    let (mut store, lookup) = match &cfg.state {
        Some(p) => {
            let (st, lk) = crate::state::open(p, cfg.settings_hash(), &cfg.targets, &rules.version, cfg.show_values)?;
            (Some(st), Some(lk))
        }
        None => (None, None),
    };
    let mut out = Writer {
        cfg,
        sink,
        summary,
        distinct: BTreeMap::new(),
        failing: false,
        progress: cfg.progress.then(progress_bar).flatten(),
    };
    let mut walk_errors = 0u64;
    let mut failure: Option<anyhow::Error> = None;
    let lookup = lookup.as_ref();
    std::thread::scope(|s| {
        let producer = s.spawn(|| {
            pool.install(|| {
                for (target, listing) in cfg.targets.iter().zip(&listed) {
                    match listing {
                        Some(l) => scan_items(rules, cfg, &excludes, target, l, Some(&selector), lookup, &tx),
                        None => walk_target(rules, cfg, &excludes, target, Some(&selector), lookup, &tx),
                    }
                }
                if let (Some(reader), Some(source)) = (worklist, &cfg.worklist) {
                    walk_worklist(rules, cfg, &excludes, reader, source, &selector, lookup, &tx);
                }
            });
            drop(tx);
        });
        for msg in rx.iter() {
            if failure.is_some() {
                continue;
            }
            if matches!(msg, Msg::Error(_)) {
                walk_errors += 1;
            }
            if let Err(e) = out.message(msg, store.as_mut()) {
                failure = Some(e);
            }
        }
        producer.join().expect("walker thread panicked");
    });
    if let Some(e) = failure {
        return Err(e.context("writing the report"));
    }
    if let Some(st) = store.as_mut() {
        st.finish(&cfg.targets, walk_errors == 0, &mut |f, status| {
            out.finding(f, Some(status))
        })?;
        let c = st.counts;
        out.summary.status = Some(BTreeMap::from([
            ("new".to_string(), c.new),
            ("unchanged".to_string(), c.unchanged),
            ("resolved".to_string(), c.resolved),
        ]));
        out.summary.files_unchanged = Some(c.files_unchanged);
    }
    if let Some(pb) = &out.progress {
        pb.finish_and_clear();
    }
    let mut summary = out.summary;
    summary.shard = selector.summary();
    summary.distinct = out.distinct.into_iter().map(|(k, v)| (k, v.len() as u64)).collect();
    summary.complete = summary.errors == 0;
    summary.finished = report::now();
    out.sink.finish(&summary)?;
    Ok(Outcome {
        summary,
        failing: out.failing,
    })
}

fn progress_bar() -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(pb)
}

/// The report side of a run: counts, the exit decision, acceptance, the sink.
struct Writer<'a> {
    cfg: &'a ScanConfig,
    sink: &'a mut dyn Sink,
    summary: Summary,
    distinct: BTreeMap<String, HashSet<u64>>,
    failing: bool,
    progress: Option<indicatif::ProgressBar>,
}

impl Writer<'_> {
    fn message(&mut self, msg: Msg, mut store: Option<&mut crate::state::Store>) -> anyhow::Result<()> {
        match msg {
            Msg::Skip(reason) => *self.summary.files_skipped.entry(reason.to_string()).or_default() += 1,
            Msg::Error(e) => {
                self.summary.errors += 1;
                self.sink.error(&e)?;
            }
            Msg::Findings(fs) => {
                for f in fs {
                    match store.as_mut() {
                        Some(st) if f.path != "-" => st.stage(&f)?,
                        _ => self.finding(f, None)?,
                    }
                }
            }
            Msg::Unchanged(path) => {
                if let Some(st) = store {
                    st.file_unchanged(&path, &mut |f, status| self.finding(f, Some(status)))?;
                }
                self.tick();
            }
            Msg::Carried => {}
            Msg::File(fr) => {
                let tracked = fr.path != "-" && fr.meta.is_some();
                if let Some(reason) = fr.skipped {
                    *self.summary.files_skipped.entry(reason.to_string()).or_default() += 1;
                    if let Some(st) = store.as_mut().filter(|_| tracked) {
                        st.file_seen(&fr.path)?;
                    }
                } else {
                    self.summary.files_scanned += 1;
                    self.summary.bytes_scanned += fr.bytes;
                }
                for (reason, n) in &fr.member_skipped {
                    *self
                        .summary
                        .files_skipped
                        .entry(format!("member_{reason}"))
                        .or_default() += n;
                }
                match store.as_mut().filter(|_| tracked && fr.skipped.is_none()) {
                    Some(st) => {
                        for f in &fr.findings {
                            st.stage(f)?;
                        }
                        let meta = fr.meta.unwrap_or_default();
                        st.file_read(&fr.path, &fr.target, meta, fr.errors.is_empty(), &mut |f, status| {
                            self.finding(f, Some(status))
                        })?;
                    }
                    None => {
                        for f in fr.findings {
                            self.finding(f, None)?;
                        }
                    }
                }
                for e in &fr.errors {
                    self.summary.errors += 1;
                    self.sink.error(e)?;
                }
                self.tick();
            }
        }
        Ok(())
    }

    fn tick(&mut self) {
        if let Some(pb) = &self.progress {
            let s = &self.summary;
            let total: u64 = s.findings.values().sum();
            let secs = pb.elapsed().as_secs_f64().max(0.001);
            pb.set_message(format!(
                "{} files, {:.1} MiB ({:.1} MiB/s), {} findings, {} errors",
                s.files_scanned + s.files_unchanged.unwrap_or(0),
                s.bytes_scanned as f64 / 1048576.0,
                s.bytes_scanned as f64 / 1048576.0 / secs,
                total,
                s.errors
            ));
        }
    }

    /// Counts a finding in the summary, applies the baseline and the allowlist, and writes it.
    /// A resolved finding is reported but neither counted nor failing.
    fn finding(&mut self, mut f: Finding, status: Option<crate::state::Status>) -> anyhow::Result<()> {
        f.status = status;
        if status == Some("resolved") {
            self.sink.finding(&f)?;
            return Ok(());
        }
        let cfg = self.cfg;
        let accepted = if f.evidence.iter().any(|e| e == "allow:inline") {
            Some("allowed")
        } else if let Some(reason) = cfg.allow.reason(&f) {
            f.evidence.push(format!("allowlist:{reason}"));
            Some("allowed")
        } else if cfg.baseline.as_ref().is_some_and(|b| b.contains(&f)) {
            Some("baselined")
        } else {
            None
        };
        match accepted {
            Some("allowed") => *self.summary.allowed.get_or_insert(0) += 1,
            Some(_) => *self.summary.baselined.get_or_insert(0) += 1,
            None => {}
        }
        if accepted.is_some() {
            f.status = accepted;
        }
        *self.summary.findings.entry(f.rule.clone()).or_default() += 1;
        // 64 bits of the fingerprint are plenty to count distinct values.
        let key = u64::from_str_radix(&f.fingerprint[..16.min(f.fingerprint.len())], 16).unwrap_or(0);
        self.distinct.entry(f.rule.clone()).or_default().insert(key);
        if accepted.is_none()
            && cfg
                .fail_on
                .is_some_and(|t| Confidence::parse(f.confidence).is_some_and(|c| c >= t))
        {
            self.failing = true;
        }
        self.sink.finding(&f)?;
        Ok(())
    }
}

/// Walks one TARGET (or a local work-list item). With a selector, the files of other shards are
/// left out, counted, before anything else is done with them; `None`: every file is taken (a
/// work-list item already taken as a whole).
fn walk_target(
    rules: &crate::custom::Rules,
    cfg: &ScanConfig,
    excludes: &GlobSet,
    target: &str,
    sel: Option<&crate::shard::Selector>,
    lookup: Option<&crate::state::Lookup>,
    tx: &crossbeam_channel::Sender<Msg>,
) {
    if sel.is_some_and(|s| s.shard.is_some())
        && !std::fs::metadata(target).is_ok_and(|m| m.is_dir())
        && !sel.is_some_and(|s| s.takes(&crate::shard::file_target_key(target)))
    {
        return;
    }
    if target == "-" {
        let mut w = Worker::default();
        let fr = scan_reader(rules, cfg, &mut w, "-", "-", None, Box::new(io::stdin()));
        let _ = tx.send(Msg::File(fr));
        return;
    }
    let root = Path::new(target);
    // A target named explicitly is followed even when it is a link: the user named it.
    let meta = match std::fs::metadata(root) {
        Ok(m) => m,
        Err(e) => {
            let _ = tx.send(Msg::Error(ErrorRecord::new(target, None, "io", e.to_string())));
            return;
        }
    };
    if !meta.is_dir() {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if excludes.is_match(&name) {
            let _ = tx.send(Msg::Skip("excluded"));
            return;
        }
        let mut w = Worker::default();
        send(
            tx,
            visit(rules, cfg, &mut w, root, target, target, Some(meta), lookup, tx),
        );
        return;
    }
    let walker = walkdir::WalkDir::new(root)
        .follow_links(cfg.follow_symlinks)
        .follow_root_links(true)
        // By file name: the entries of one directory all start with its path, so comparing
        // whole paths as bytes orders them the same, without parsing a name per comparison.
        .sort_by(|a, b| a.path().as_os_str().cmp(b.path().as_os_str()));
    let skip_tx = tx.clone();
    let sharded = sel.is_some_and(|s| s.shard.is_some());
    walker
        .into_iter()
        .filter_entry(move |e| {
            if e.depth() == 0 || (!sharded && excludes.is_empty()) {
                return true;
            }
            let rel = e.path().strip_prefix(root).unwrap_or(e.path());
            if !e.file_type().is_dir() && sharded && sel.is_some_and(|s| !s.takes(&crate::shard::relative_key(rel))) {
                return false;
            }
            if excludes.is_match(rel) {
                if e.file_type().is_file() {
                    let _ = skip_tx.send(Msg::Skip("excluded"));
                }
                return false;
            }
            true
        })
        .par_bridge()
        .for_each_init(Worker::default, |w, entry| {
            let msg = match entry {
                Err(e) => {
                    let path = e
                        .path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| target.to_string());
                    if e.loop_ancestor().is_some() {
                        Msg::Error(ErrorRecord::new(
                            &path,
                            None,
                            "limit",
                            "symbolic link loop: not followed",
                        ))
                    } else {
                        Msg::Error(ErrorRecord::new(&path, None, "io", e.to_string()))
                    }
                }
                Ok(e) => {
                    let ft = e.file_type();
                    if ft.is_dir() {
                        return;
                    } else if ft.is_symlink() {
                        Msg::Skip("symlink")
                    } else if !ft.is_file() {
                        Msg::Skip("special")
                    } else {
                        let shown = e
                            .path()
                            .to_str()
                            .map_or_else(|| e.path().display().to_string(), String::from);
                        let meta = lookup.and_then(|_| e.metadata().ok());
                        visit(rules, cfg, w, e.path(), &shown, target, meta, lookup, tx)
                    }
                }
            };
            send(tx, msg);
        });
}

/// Scans the items of a work list, in parallel, as they are read. Each item is taken or left
/// whole by the shard filter, keyed as [`crate::worklist::Item::key`] says.
#[allow(clippy::too_many_arguments)]
fn walk_worklist(
    rules: &crate::custom::Rules,
    cfg: &ScanConfig,
    excludes: &GlobSet,
    reader: Box<dyn io::BufRead + Send>,
    source: &str,
    sel: &crate::shard::Selector,
    lookup: Option<&crate::state::Lookup>,
    tx: &crossbeam_channel::Sender<Msg>,
) {
    use io::BufRead;
    let lines = reader.split(b'\n').enumerate().scan(false, |failed, (i, r)| {
        if *failed {
            return None;
        }
        *failed = r.is_err();
        Some((i + 1, r))
    });
    lines.par_bridge().for_each(|(n, line)| {
        let bad = |kind, msg: String| {
            let _ = tx.send(Msg::Error(ErrorRecord::new(source, None, kind, msg)));
        };
        let line = match line {
            Ok(l) => l,
            Err(e) => return bad("io", format!("reading the work list stopped at line {n}: {e}")),
        };
        let Ok(text) = std::str::from_utf8(&line) else {
            return bad("decode", format!("work list line {n} is not UTF-8; it was not scanned"));
        };
        match crate::worklist::parse_line(text) {
            Ok(None) => {}
            Err(crate::worklist::BadLine(why)) => bad("decode", format!("work list line {n}: {why}")),
            Ok(Some(item)) => {
                if sel.takes(&item.key()) {
                    scan_item(rules, cfg, excludes, &item, lookup, tx);
                }
            }
        }
    });
}

/// Dispatches one taken work-list item: local paths are walked like a TARGET; objects go to
/// the object store (not built into this version: an `unsupported` error record each, so that
/// nothing is silently skipped).
fn scan_item(
    rules: &crate::custom::Rules,
    cfg: &ScanConfig,
    excludes: &GlobSet,
    item: &crate::worklist::Item,
    lookup: Option<&crate::state::Lookup>,
    tx: &crossbeam_channel::Sender<Msg>,
) {
    use crate::worklist::Item;
    match item {
        Item::Local(path) => walk_target(rules, cfg, excludes, path, None, lookup, tx),
        Item::Url(_) | Item::Object { .. } => {
            let object = match item {
                Item::Url(u) => crate::source::object_item(u, None),
                Item::Object { bucket, key, version } => {
                    crate::source::object_item(&format!("s3://{bucket}/{key}"), version.clone())
                }
                Item::Local(_) => None,
            };
            let msg = match object {
                Some(mut obj) => {
                    obj.uri = item.shown();
                    let mut w = Worker::default();
                    visit_item(rules, cfg, &mut w, &obj, &item.shown(), lookup, tx)
                }
                None => Msg::Error(ErrorRecord::new(
                    &item.shown(),
                    None,
                    "unsupported",
                    "not an object URL this build can read (s3://, gs://, az://)",
                )),
            };
            send(tx, msg);
        }
    }
}

/// One walked file: carried when `--state` knows it unchanged, else scanned.
#[allow(clippy::too_many_arguments)]
fn visit(
    rules: &crate::custom::Rules,
    cfg: &ScanConfig,
    w: &mut Worker,
    path: &Path,
    shown: &str,
    target: &str,
    meta: Option<std::fs::Metadata>,
    lookup: Option<&crate::state::Lookup>,
    tx: &crossbeam_channel::Sender<Msg>,
) -> Msg {
    let meta = match (lookup, meta) {
        (Some(lk), Some(m)) => {
            let fm = crate::state::FileMeta::of(&m);
            match lk.visit(shown, &fm) {
                crate::state::Visit::Read => Some(fm),
                crate::state::Visit::Unchanged => return Msg::Carried,
                crate::state::Visit::Carry => return Msg::Unchanged(shown.to_string()),
            }
        }
        // Tracked, but its metadata could not be read: scanned, and read again next time.
        (Some(_), None) => Some(crate::state::FileMeta::default()),
        (None, _) => None,
    };
    let mut fr = scan_path(rules, cfg, w, path, shown, Some(tx));
    fr.path = shown.to_string();
    fr.target = target.to_string();
    fr.meta = meta;
    Msg::File(fr)
}

/// The work items of a bucket or inventory TARGET (see `crate::source`), scanned in parallel by
/// more threads than cores, since objects wait on the network.
#[allow(clippy::too_many_arguments)]
fn scan_items(
    rules: &crate::custom::Rules,
    cfg: &ScanConfig,
    excludes: &GlobSet,
    target: &str,
    listing: &crate::source::Listing,
    sel: Option<&crate::shard::Selector>,
    lookup: Option<&crate::state::Lookup>,
    tx: &crossbeam_channel::Sender<Msg>,
) {
    for e in &listing.errors {
        let _ = tx.send(Msg::Error(ErrorRecord::new(target, None, "io", e.clone())));
    }
    for (reason, n) in &listing.skipped {
        for _ in 0..*n {
            let _ = tx.send(Msg::Skip(reason));
        }
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let threads = (if cfg.threads > 0 { cfg.threads } else { cores } * 4).clamp(8, 64);
    let scan = || {
        listing.items.par_iter().for_each_init(Worker::default, |w, item| {
            if sel.is_some_and(|s| !s.takes(&item.shard_key)) {
                return;
            }
            let key = item
                .shard_key
                .split_once('/')
                .map_or(item.shard_key.as_str(), |(_, k)| k);
            let msg = if excludes.is_match(key) {
                Msg::Skip("excluded")
            } else {
                visit_item(rules, cfg, w, item, target, lookup, tx)
            };
            send(tx, msg);
        })
    };
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(scan),
        Err(_) => scan(),
    }
}

/// One work item: carried when `--state` knows it unchanged (from the listing alone: no read),
/// else opened and scanned like standard input, with the name of its key.
#[allow(clippy::too_many_arguments)]
fn visit_item(
    rules: &crate::custom::Rules,
    cfg: &ScanConfig,
    w: &mut Worker,
    item: &crate::source::WorkItem,
    target: &str,
    lookup: Option<&crate::state::Lookup>,
    tx: &crossbeam_channel::Sender<Msg>,
) -> Msg {
    let meta = lookup.map(|_| item.state_meta());
    if let (Some(lk), Some(m)) = (lookup, &meta) {
        match lk.visit(&item.uri, m) {
            crate::state::Visit::Read => {}
            crate::state::Visit::Unchanged => return Msg::Carried,
            crate::state::Visit::Carry => return Msg::Unchanged(item.uri.clone()),
        }
    }
    let mut fr = if let (Some(max), Some(size)) = (cfg.max_file_size, item.size)
        && size > max
    {
        FileResult {
            skipped: Some("too_large"),
            ..Default::default()
        }
    } else {
        let shown = item.uri.as_str();
        let run = std::panic::AssertUnwindSafe(|| match crate::source::open(item) {
            Ok(reader) => {
                let mut ctx = Ctx::new(rules, cfg, shown);
                ctx.sender = Some(tx.clone());
                crate::container::scan_stream(&mut ctx, w, reader, &item.name(), Vec::new(), 0, item.local_path());
                ctx.result
            }
            Err(e) => error_result(shown, None, "io", e.to_string()),
        });
        std::panic::catch_unwind(run).unwrap_or_else(|_| {
            *w = Worker::default();
            error_result(
                shown,
                None,
                "decode",
                "internal error while reading this object (a format library failed); the rest of it was not scanned"
                    .into(),
            )
        })
    };
    fr.path = item.uri.clone();
    fr.target = target.to_string();
    fr.meta = meta;
    Msg::File(fr)
}

/// Scans one local file. A panic inside a format library while reading it becomes an `error`
/// record for that file: one hostile file never stops the scan.
pub fn scan_path(
    rules: &RuleSet,
    cfg: &ScanConfig,
    w: &mut Worker,
    path: &Path,
    shown: &str,
    sender: Option<&crossbeam_channel::Sender<Msg>>,
) -> FileResult {
    let run = std::panic::AssertUnwindSafe(|| scan_path_inner(rules, cfg, w, path, shown, sender));
    std::panic::catch_unwind(run).unwrap_or_else(|_| {
        *w = Worker::default();
        error_result(
            shown,
            None,
            "decode",
            "internal error while reading this file (a format library failed); the rest of it was not scanned".into(),
        )
    })
}

fn scan_path_inner(
    rules: &RuleSet,
    cfg: &ScanConfig,
    w: &mut Worker,
    path: &Path,
    shown: &str,
    sender: Option<&crossbeam_channel::Sender<Msg>>,
) -> FileResult {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return error_result(shown, None, "io", e.to_string()),
    };
    if let Some(max) = cfg.max_file_size {
        match file.metadata() {
            Ok(m) if m.len() > max => {
                return FileResult {
                    skipped: Some("too_large"),
                    ..Default::default()
                };
            }
            Ok(_) => {}
            Err(e) => return error_result(shown, None, "io", e.to_string()),
        }
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut ctx = Ctx::new(rules, cfg, shown);
    ctx.sender = sender.cloned();
    crate::container::scan_stream(&mut ctx, w, Box::new(file), &name, Vec::new(), 0, Some(path));
    ctx.result
}

fn error_result(path: &str, member: Option<Vec<String>>, kind: &'static str, msg: String) -> FileResult {
    FileResult {
        errors: vec![ErrorRecord::new(path, member, kind, msg)],
        ..Default::default()
    }
}

/// Scans a stream: containers are unpacked (see `container`), the encoding sniffed, the text
/// read in pieces.
pub fn scan_reader(
    rules: &RuleSet,
    cfg: &ScanConfig,
    w: &mut Worker,
    shown: &str,
    name: &str,
    member: Option<Vec<String>>,
    reader: Box<dyn Read + '_>,
) -> FileResult {
    let mut ctx = Ctx::new(rules, cfg, shown);
    crate::container::scan_stream(&mut ctx, w, reader, name, member.unwrap_or_default(), 0, None);
    ctx.result
}

/// What one top-level input's scan carries along: the configuration, the result so far, and
/// the expansion budget shared by every container inside it.
pub struct Ctx<'a> {
    pub rules: &'a RuleSet,
    pub cfg: &'a ScanConfig,
    pub shown: &'a str,
    pub result: FileResult,
    /// Bytes produced by decompression so far, for `--max-expanded-bytes`.
    pub expanded: std::rc::Rc<std::cell::Cell<u64>>,
    /// Archive members seen so far, for `--max-members`.
    pub members: u64,
    /// Where findings go while the input is still being scanned (memory stays bounded on a
    /// file with millions of findings). Without one, they stay in `result`.
    pub sender: Option<crossbeam_channel::Sender<Msg>>,
}

impl<'a> Ctx<'a> {
    pub fn new(rules: &'a RuleSet, cfg: &'a ScanConfig, shown: &'a str) -> Ctx<'a> {
        Ctx {
            rules,
            cfg,
            shown,
            result: FileResult::default(),
            expanded: Default::default(),
            members: 0,
            sender: None,
        }
    }

    /// Hands accumulated findings to the report writer when there are many.
    pub fn flush(&mut self) {
        if self.result.findings.len() >= 1024
            && let Some(tx) = &self.sender
        {
            let batch = std::mem::take(&mut self.result.findings);
            let _ = tx.send(Msg::Findings(batch));
        }
    }

    /// Counts a skipped input: the file itself, or a member of a container.
    pub fn skip(&mut self, member: &[String], reason: &'static str) {
        if member.is_empty() {
            self.result.skipped = Some(reason);
        } else {
            *self.result.member_skipped.entry(reason).or_default() += 1;
        }
    }

    /// Records an error about `member` (or the file itself).
    pub fn error(&mut self, member: &[String], kind: &'static str, message: impl Into<String>) {
        let m = (!member.is_empty()).then(|| member.to_vec());
        self.result.errors.push(ErrorRecord::new(self.shown, m, kind, message));
    }
}

/// The error kind of a failed read: `limit` for a container limit, `decode` for damaged data.
pub fn error_kind(e: &io::Error) -> &'static str {
    if e.get_ref().is_some_and(|r| r.is::<crate::container::LimitHit>()) {
        "limit"
    } else if matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData
    ) {
        "decode"
    } else {
        "io"
    }
}

/// Scans a text (or binary) stream whose first bytes are `prefix`.
pub fn scan_text(
    ctx: &mut Ctx,
    w: &mut Worker,
    prefix: Vec<u8>,
    reader: Box<dyn Read + '_>,
    name: &str,
    member: &[String],
) {
    let (rules, cfg, shown) = (ctx.rules, ctx.cfg, ctx.shown);
    let member: Option<Vec<String>> = (!member.is_empty()).then(|| member.to_vec());
    let name = name.to_string();
    let (encoding, bom) = match decode::sniff(&prefix) {
        Sniff::Binary => {
            // A biometric record file (ISO/IEC 19794 `FMR`, `FAC`, `IIR`…, genome binaries) is
            // found by its magic; any other binary file is skipped.
            if let Some((ri, magic)) = crate::topics::magic_rule(rules, &prefix) {
                let rule = &rules.rules[ri];
                let mut canonical = String::with_capacity(128);
                for b in prefix.iter().take(64) {
                    canonical.push_str(&format!("{b:02x}"));
                }
                let finding = Finding {
                    kind: "finding",
                    rule: rule.id.clone(),
                    category: rule.category.clone(),
                    confidence: "high",
                    score: 0.95,
                    path: shown.to_string(),
                    member,
                    line: None,
                    column: None,
                    field: None,
                    masked: format!("<{magic} record file>"),
                    fingerprint: report::fingerprint(&cfg.hash_key, &canonical),
                    validated: false,
                    evidence: vec![format!("magic:{magic}")],
                    legal_basis: rule.legal_basis.clone(),
                    value: None,
                    status: None,
                };
                if Confidence::High >= cfg.min_confidence {
                    ctx.result.findings.push(finding);
                }
                ctx.result.bytes += prefix.len() as u64;
                return;
            }
            ctx.skip(member.as_deref().unwrap_or(&[]), "binary");
            return;
        }
        Sniff::Text { encoding, bom } => (encoding, bom),
    };
    let mut reader = TextReader::new(reader, prefix, encoding, bom);
    let mut pending = String::new();
    let mut tail = String::new();
    let mut eof = false;
    let mut structure: Option<Structure> = None;
    let mut line: u64 = 1;
    let mut col: u64 = 0; // characters before the piece on its line
    loop {
        // Cut a batch of pieces: one for a structured format (its parser carries state from
        // piece to piece), several for plain text, whose pieces are independent given their
        // context tails.
        let mut batch = 0;
        let mut last = false;
        loop {
            while !eof && pending.len() < PIECE + LOOKAHEAD {
                match reader.read_text(&mut pending, PIECE) {
                    Ok(true) => {}
                    Ok(false) => eof = true,
                    Err(e) => {
                        let kind = error_kind(&e);
                        ctx.result.errors.push(ErrorRecord::new(
                            shown,
                            member.clone(),
                            kind,
                            format!("reading stopped at byte {}: {e}", reader.bytes_read),
                        ));
                        eof = true;
                    }
                }
            }
            if pending.is_empty() {
                last = true;
                break;
            }
            let st = structure.get_or_insert_with(|| Structure::new(Format::guess(&name, &pending)));
            let csv_quotes = matches!(st.format, Format::Csv(_)).then(|| st.csv_quote_parity());
            let cut = if eof && pending.len() <= PIECE {
                pending.len()
            } else {
                choose_cut(&pending, PIECE, csv_quotes)
            };
            let look_end = crate::fold::floor_boundary(&pending, (cut + LOOKAHEAD).min(pending.len()));
            if w.pieces.len() <= batch {
                w.pieces.push(PieceWork::default());
            }
            let pw = &mut w.pieces[batch];
            batch += 1;
            pw.unit_text.clear();
            pw.unit_text.push_str(&tail);
            pw.unit_text.push_str(&pending[..look_end]);
            pw.tail_chars = chars(tail.as_bytes()) as usize;
            pw.piece_chars = chars(&pending.as_bytes()[..cut]) as usize;
            // Keep the end of this piece as context for the next.
            let piece = &pending[..cut];
            let keep = crate::fold::floor_boundary(piece, piece.len().saturating_sub(CONTEXT_TAIL));
            let new_tail = if piece.len() >= CONTEXT_TAIL {
                piece[keep..].to_string()
            } else {
                format!("{tail}{piece}")
            };
            tail = new_tail[crate::fold::floor_boundary(&new_tail, new_tail.len().saturating_sub(CONTEXT_TAIL))..]
                .to_string();
            pending.drain(..cut);
            let threads = rayon::current_num_threads().max(1);
            if st.is_structured() || st.format != Format::Text || batch >= threads * BATCH_PER_THREAD {
                break;
            }
        }
        if batch == 0 {
            break;
        }
        let Some(st) = structure.as_mut() else { break };
        let run = |pw: &mut PieceWork, st: Option<&mut Structure>| {
            detect_piece(rules, cfg, shown, &member, pw, st);
        };
        if batch == 1 {
            run(&mut w.pieces[0], Some(st));
        } else {
            // Plain text: nothing to parse, the pieces go to the pool's threads.
            w.pieces[..batch].par_iter_mut().for_each(|pw| run(pw, None));
        }
        for pw in &mut w.pieces[..batch] {
            for mut f in pw.findings.drain(..) {
                if let (Some(l), Some(c)) = (f.line.as_mut(), f.column.as_mut()) {
                    if *l == 0 {
                        *c += col;
                    }
                    *l += line;
                }
                ctx.result.findings.push(f);
            }
            if pw.lines == 0 {
                col += pw.last_col;
            } else {
                col = pw.last_col;
            }
            line += pw.lines;
            ctx.flush();
        }
        if last {
            break;
        }
    }
    ctx.result.bytes += reader.bytes_read;
    if reader.malformed > 0 {
        ctx.result.errors.push(ErrorRecord::new(
            shown,
            member,
            "decode",
            format!(
                "{} malformed byte sequence(s) for {}; the rest of the file was scanned",
                reader.malformed,
                decode::encoding_name(reader.encoding())
            ),
        ));
    }
}

/// Folds and detects one piece (`pw.unit_text`), leaving its findings in `pw.findings` with
/// lines and columns relative to the piece start. `st` parses a structured format.
fn detect_piece(
    rules: &RuleSet,
    cfg: &ScanConfig,
    shown: &str,
    member: &Option<Vec<String>>,
    pw: &mut PieceWork,
    st: Option<&mut Structure>,
) {
    pw.folded.fold_into(&pw.unit_text);
    let (scan_from, scan_end) = char_offsets(&pw.folded.text, pw.tail_chars, pw.tail_chars + pw.piece_chars);
    let mut plain = Structure::new(Format::Text);
    let st = st.unwrap_or(&mut plain);
    st.parse(rules, &pw.folded.text[..scan_end], scan_from);
    let unit = Unit {
        folded: &pw.folded,
        scan_from,
        cells: &st.cells,
        fields: &st.fields,
        structured: st.is_structured(),
    };
    pw.detections.clear();
    detect::detect(rules, &unit, &mut pw.scratch, &mut pw.detections);
    pw.detections.retain(|d| d.start < scan_end);
    pw.detections.sort_by_key(|d| d.start);
    // Line and column of each detection, counted from the piece start.
    let t = pw.folded.text.as_bytes();
    let mut pos = scan_from;
    let (mut l, mut c) = (0, 0);
    let marked = !pw.detections.is_empty() && crate::accept::has_inline_mark(&pw.folded.text);
    pw.findings.clear();
    for d in pw.detections.drain(..) {
        if d.confidence < cfg.min_confidence {
            continue;
        }
        advance(&t[pos..d.start], &mut l, &mut c);
        pos = d.start;
        let mut f = make_finding(
            rules,
            cfg,
            &pw.folded,
            &pw.unit_text,
            &st.fields,
            &d,
            shown,
            member,
            l,
            c + 1,
        );
        if marked && crate::accept::inline_allowed(&pw.folded.text, d.start, d.end, &f.rule) {
            f.evidence.push("allow:inline".into());
        }
        pw.findings.push(f);
    }
    advance(&t[pos..scan_end], &mut l, &mut c);
    pw.lines = l;
    pw.last_col = c;
}

/// Moves a (line, column) position over `bytes`.
fn advance(bytes: &[u8], line: &mut u64, col: &mut u64) {
    match memchr::memrchr(b'\n', bytes) {
        Some(last) => {
            *line += memchr::memchr_iter(b'\n', bytes).count() as u64;
            *col = chars(&bytes[last + 1..]);
        }
        None => *col += chars(bytes),
    }
}

fn chars(b: &[u8]) -> u64 {
    crate::detect::chars(b) as u64
}

/// Byte offsets of the `a`-th and `b`-th characters of `s`.
fn char_offsets(s: &str, a: usize, b: usize) -> (usize, usize) {
    let ia = char_to_byte(s.as_bytes(), 0, a);
    let ib = ia + char_to_byte(&s.as_bytes()[ia..], 0, b - a.min(b));
    (ia.min(ib), ib)
}

/// The byte offset of the `n`-th character of `b` counted from byte `from` (`b.len()` if
/// there are fewer): whole 64-byte blocks are counted at once.
fn char_to_byte(b: &[u8], mut from: usize, mut n: usize) -> usize {
    const BLOCK: usize = 64;
    while from + BLOCK <= b.len() {
        // A block is skipped whole only if the character after it still starts a later one.
        let c = crate::detect::chars(&b[from..from + BLOCK]);
        if c >= n {
            break;
        }
        n -= c;
        from += BLOCK;
    }
    let mut k = 0;
    for (i, &c) in b[from..].iter().enumerate() {
        if (c & 0xC0) != 0x80 {
            if k == n {
                return from + i;
            }
            k += 1;
        }
    }
    b.len()
}

/// Where to end a piece of at most `limit` bytes: after the last newline (outside CSV quotes),
/// else after a character that cannot be part of a value, else at `limit`.
fn choose_cut(text: &str, limit: usize, csv_in_quotes: Option<bool>) -> usize {
    let end = crate::fold::floor_boundary(text, limit.min(text.len()));
    let b = &text.as_bytes()[..end];
    let nl = match csv_in_quotes {
        Some(mut q) => {
            let mut last = None;
            for (i, &c) in b.iter().enumerate() {
                if c == b'"' {
                    q = !q;
                } else if c == b'\n' && !q {
                    last = Some(i);
                }
            }
            last
        }
        None => memchr::memrchr(b'\n', b),
    };
    if let Some(p) = nl {
        return p + 1;
    }
    let value_char = |c: char| {
        let f = crate::fold::fold_char(c, true, true);
        f.is_ascii_alphanumeric() || matches!(f, '-' | '.' | ' ')
    };
    let mut prev_ok = false;
    for (i, ch) in text[..end].char_indices().rev() {
        let ok = !value_char(ch);
        if ok && prev_ok {
            return i + ch.len_utf8();
        }
        prev_ok = ok;
    }
    if end > 0 {
        end
    } else {
        text.chars().next().map_or(0, char::len_utf8)
    }
}

#[allow(clippy::too_many_arguments)]
fn make_finding(
    rules: &RuleSet,
    cfg: &ScanConfig,
    folded: &Folded,
    orig: &str,
    fields: &[crate::detect::FieldInfo],
    d: &Detection,
    shown: &str,
    member: &Option<Vec<String>>,
    line: u64,
    column: u64,
) -> Finding {
    let rule = &rules.rules[d.rule];
    let raw = &orig[folded.original_offset(d.start)..folded.original_offset(d.end)];
    let grouped = rule.parts.is_some() && d.canonical.contains('|');
    Finding {
        kind: "finding",
        rule: rule.id.clone(),
        category: rule.category.clone(),
        confidence: d.confidence.as_str(),
        score: d.score,
        path: shown.to_string(),
        member: member.clone(),
        line: Some(line),
        column: Some(column),
        field: d.field_name.clone().or_else(|| d.field.map(|f| fields[f].name.clone())),
        masked: match &d.display {
            Some(text) => text.clone(),
            None if grouped => report::mask(&d.canonical),
            None if rule.kind == crate::patterns::Kind::Custom => crate::custom::mask(raw),
            None => report::mask(raw),
        },
        fingerprint: report::fingerprint(&cfg.hash_key, &d.canonical),
        validated: d.validated,
        evidence: d.evidence.clone(),
        legal_basis: rule.legal_basis.clone(),
        value: cfg
            .show_values
            .then(|| if grouped { d.canonical.clone() } else { raw.to_string() }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_prefer_newlines_and_never_split_values() {
        assert_eq!(choose_cut("ab\ncd\nef", 7, None), 6);
        assert_eq!(choose_cut("a,\"x\ny\",b\nc", 11, Some(false)), 10);
        let t = "番号は123456789018です。次も";
        let cut = choose_cut(t, 20, None);
        assert!(!t[..cut].ends_with(|c: char| c.is_ascii_digit()));
    }
}
