//! `--state FILE` (SPEC §9): an SQLite database of what earlier runs scanned and found, so a
//! nightly scan reads only what changed and says what is new, unchanged or resolved.
//!
//! Statuses are relative to the last *completed* run (the base). A run commits its progress in
//! batches; a run killed part-way leaves committed batches behind, and the next run still reports
//! against the base: a finding first seen by the killed run is still `new`, a finding it saw
//! disappear is still `resolved`, and a file it did not reach is scanned.
//!
//! A run loads the `files` table once, at the start: workers look each input up in memory, and
//! an unchanged input costs neither a query nor a write (what the state holds for it stays
//! true). The inputs of the run's TARGETs that were in that table and that the run did not come
//! across are the deleted ones, removed in the run's last transaction, the one that marks it
//! complete: a run killed before that leaves them as they were.
//!
//! Tables: `runs` (history), `files` (path, the TARGET it was found under, size, mtime, inode,
//! a hash of the settings that shape findings, whether it was read completely, the last run that
//! read it; for objects also the ETag and version id), `findings` (path, identity key and
//! occurrence, the run that first saw it, the run that saw it gone, the record as reported, without raw values unless `--show-values`).

use crate::report::Finding;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const SCHEMA: &str = "1";

/// What identifies an unchanged input: a local file by size, mtime and inode; an object by size,
/// last-modified, ETag and version id (as listed: comparing them needs no GET).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileMeta {
    pub size: u64,
    pub mtime_ns: i64,
    pub ino: u64,
    /// The object's ETag (without quotes); `None` for local files.
    pub etag: Option<String>,
    /// The object's version id; `None` for local files and unversioned objects.
    pub version: Option<String>,
}

impl FileMeta {
    pub fn of(m: &std::fs::Metadata) -> FileMeta {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileMeta {
                size: m.len(),
                mtime_ns: m.mtime().saturating_mul(1_000_000_000).saturating_add(m.mtime_nsec()),
                ino: m.ino(),
                ..Default::default()
            }
        }
        #[cfg(not(unix))]
        {
            let mtime_ns = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i64);
            FileMeta {
                size: m.len(),
                mtime_ns,
                ..Default::default()
            }
        }
    }
}

/// `new`, `unchanged` or `resolved`.
pub type Status = &'static str;

fn open_conn(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path).map_err(|e| anyhow::anyhow!("state {}: {e}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(30))?;
    // Every statement of a run stays prepared (rusqlite's default cache holds 16), and is not
    // prepared again for each new parameter value (the bundled SQLite has STAT4, whose
    // parameter-dependent plans would re-prepare a lookup per file; our queries are index
    // lookups whatever the values).
    conn.set_prepared_statement_cache_capacity(64);
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;")?;
    Ok(conn)
}

/// Creates the tables of a new state file, or checks the schema of an existing one.
fn init(conn: &Connection, path: &Path) -> anyhow::Result<()> {
    conn.execute_batch(
        "BEGIN;
         CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS runs(id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT,
             complete INTEGER NOT NULL DEFAULT 0, targets TEXT NOT NULL, rules_version TEXT NOT NULL,
             new INTEGER, unchanged INTEGER, resolved INTEGER, files_read INTEGER, files_unchanged INTEGER);
         CREATE TABLE IF NOT EXISTS files(path TEXT PRIMARY KEY, target TEXT NOT NULL, size INTEGER NOT NULL,
             mtime_ns INTEGER NOT NULL, ino INTEGER NOT NULL, settings TEXT NOT NULL, ok INTEGER NOT NULL,
             seen_run INTEGER NOT NULL, etag TEXT, version TEXT);
         CREATE INDEX IF NOT EXISTS files_target ON files(target, seen_run);
         CREATE TABLE IF NOT EXISTS findings(id INTEGER PRIMARY KEY, path TEXT NOT NULL, k TEXT NOT NULL,
             occ INTEGER NOT NULL, first_run INTEGER NOT NULL, gone_run INTEGER, seen_run INTEGER NOT NULL,
             record TEXT NOT NULL);
         CREATE INDEX IF NOT EXISTS findings_path ON findings(path, k, occ);
         INSERT OR IGNORE INTO meta(key, value) VALUES('schema', '1');
         COMMIT;",
    )
    .map_err(|e| anyhow::anyhow!("state {}: not an appiscan state file? {e}", path.display()))?;
    let schema: String = conn.query_row("SELECT value FROM meta WHERE key='schema'", [], |r| r.get(0))?;
    anyhow::ensure!(
        schema == SCHEMA,
        "state {}: schema {schema}, this appiscan reads schema {SCHEMA}",
        path.display()
    );
    // Objects (ETag, version id) came later: columns added to older state files, compatibly
    // (an older appiscan ignores them).
    let has_etag: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('files') WHERE name='etag'",
        [],
        |r| r.get(0),
    )?;
    if !has_etag {
        conn.execute_batch("ALTER TABLE files ADD COLUMN etag TEXT; ALTER TABLE files ADD COLUMN version TEXT;")?;
    }
    Ok(())
}

/// The fingerprint key a state file keeps when the user gives none, so fingerprints of one run
/// compare with the next. With a key given, it must be the key the state was made with.
pub fn resolve_key(path: &Path, given: Option<Vec<u8>>) -> anyhow::Result<Vec<u8>> {
    let conn = open_conn(path)?;
    init(&conn, path)?;
    let check = |k: &[u8]| crate::report::fingerprint(k, "appiscan state key check");
    let stored: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key='key_check'", [], |r| r.get(0))
        .optional()?;
    let kept: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key='key'", [], |r| r.get(0))
        .optional()?;
    match (given, stored) {
        (Some(k), Some(s)) => {
            anyhow::ensure!(
                check(&k) == s,
                "state {}: made with another fingerprint key; give that key, or use a new state file",
                path.display()
            );
            Ok(k)
        }
        (Some(k), None) => {
            conn.execute("INSERT INTO meta(key, value) VALUES('key_check', ?1)", [check(&k)])?;
            Ok(k)
        }
        (None, Some(s)) => {
            let k = kept.and_then(|h| hex::decode(h).ok()).ok_or_else(|| {
                anyhow::anyhow!(
                    "state {}: made with a fingerprint key given by the user; give it again (--hash-key-file)",
                    path.display()
                )
            })?;
            anyhow::ensure!(check(&k) == s, "state {}: damaged key", path.display());
            Ok(k)
        }
        (None, None) => {
            let mut k = vec![0u8; 32];
            getrandom::getrandom(&mut k).map_err(|e| anyhow::anyhow!("no random key: {e}"))?;
            conn.execute_batch("BEGIN")?;
            conn.execute("INSERT INTO meta(key, value) VALUES('key', ?1)", [hex::encode(&k)])?;
            conn.execute("INSERT INTO meta(key, value) VALUES('key_check', ?1)", [check(&k)])?;
            conn.execute_batch("COMMIT")?;
            Ok(k)
        }
    }
}

/// What the state held for one input when the run started.
struct Prev {
    size: u64,
    mtime_ns: i64,
    ino: u64,
    etag: Option<Box<str>>,
    version: Option<Box<str>>,
    /// Read completely under this run's settings: carried when unchanged.
    reusable: bool,
    /// The state holds findings of it.
    has_findings: bool,
    /// The TARGET it was found under: an index into [`Part::targets`].
    target: usize,
    /// This run came across it (read it, carried it, or skipped it).
    visited: AtomicBool,
}

/// The rows of one range of rowids of the `files` table.
struct Part {
    files: HashMap<Box<str>, Prev>,
    /// The TARGETs of these rows ([`Prev::target`]).
    targets: Vec<String>,
}

impl Part {
    fn load(conn: &Connection, settings: &str, rowids: (i64, i64), capacity: usize) -> rusqlite::Result<Part> {
        let mut files = HashMap::with_capacity(capacity);
        let mut targets: Vec<String> = Vec::new();
        let mut stmt = conn.prepare(
            "SELECT path, target, size, mtime_ns, ino, ok AND settings = ?1, etag, version FROM files
             WHERE rowid BETWEEN ?2 AND ?3",
        )?;
        let mut rows = stmt.query(params![settings, rowids.0, rowids.1])?;
        while let Some(r) = rows.next()? {
            let target = r.get_ref(1)?.as_str()?;
            let target = match targets.iter().position(|t| t == target) {
                Some(i) => i,
                None => {
                    targets.push(target.to_string());
                    targets.len() - 1
                }
            };
            let text =
                |i: usize| -> rusqlite::Result<Option<Box<str>>> { Ok(r.get_ref(i)?.as_str_or_null()?.map(Box::from)) };
            let int = |i: usize| -> rusqlite::Result<i64> { Ok(r.get_ref(i)?.as_i64()?) };
            let prev = Prev {
                size: int(2)? as u64,
                mtime_ns: int(3)?,
                ino: int(4)? as u64,
                etag: text(6)?,
                version: text(7)?,
                reusable: int(5)? != 0,
                has_findings: false,
                target,
                visited: AtomicBool::new(false),
            };
            files.insert(Box::from(r.get_ref(0)?.as_str()?), prev);
        }
        Ok(Part { files, targets })
    }
}

/// The `files` table as the run found it, loaded once: workers look inputs up without a query,
/// and the inputs no one visited are the ones gone at the end.
struct Snapshot {
    /// Ranges of rows loaded in parallel; a path is in one of them.
    parts: Vec<Part>,
    /// Inputs found unchanged with no findings to carry (nothing else is done with them).
    unchanged_quietly: AtomicU64,
}

impl Snapshot {
    /// Loads the table through `conn`, a large one in ranges of rowids read by threads of their
    /// own, each on a read-only connection to `path` (no run writes in between: one consistent
    /// state).
    fn load(conn: &Connection, path: &Path, settings: &str) -> anyhow::Result<Snapshot> {
        let int = |sql: &str| -> rusqlite::Result<i64> { conn.query_row(sql, [], |r| r.get(0)) };
        let n = int("SELECT count(*) FROM files")?;
        let lo = int("SELECT coalesce(min(rowid), 0) FROM files")?;
        let hi = int("SELECT coalesce(max(rowid), 0) FROM files")?;
        let threads = if n < 4096 {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |c| c.get().min(4))
        };
        let step = (hi - lo) / threads as i64 + 1;
        let range = |i: usize| (lo + i as i64 * step, lo + (i as i64 + 1) * step - 1);
        let capacity = n as usize / threads + 64;
        let mut parts = std::thread::scope(|s| -> anyhow::Result<Vec<Part>> {
            let others: Vec<_> = (1..threads)
                .map(|i| {
                    s.spawn(move || -> rusqlite::Result<Part> {
                        let c = Connection::open_with_flags(
                            path,
                            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                        )?;
                        c.busy_timeout(Duration::from_secs(30))?;
                        Part::load(&c, settings, range(i), capacity)
                    })
                })
                .collect();
            let mut parts = vec![Part::load(conn, settings, range(0), capacity)?];
            for h in others {
                parts.push(h.join().expect("state loader thread panicked")?);
            }
            Ok(parts)
        })?;
        let mut stmt = conn.prepare("SELECT DISTINCT path FROM findings")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let path = r.get_ref(0)?.as_str()?;
            if let Some(p) = parts.iter_mut().find_map(|part| part.files.get_mut(path)) {
                p.has_findings = true;
            }
        }
        Ok(Snapshot {
            parts,
            unchanged_quietly: AtomicU64::new(0),
        })
    }

    fn get(&self, path: &str) -> Option<&Prev> {
        self.parts.iter().find_map(|part| part.files.get(path))
    }

    /// Notes that the run came across `path`.
    fn visit(&self, path: &str) {
        if let Some(p) = self.get(path) {
            p.visited.store(true, Ordering::Relaxed);
        }
    }
}

/// Read side, shared by the workers: is this file unchanged since it was last read?
pub struct Lookup {
    snapshot: Arc<Snapshot>,
}

/// What a run does with an input, as [`Lookup::visit`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    /// New or changed (or read under other settings): to be read.
    Read,
    /// Unchanged and without findings: nothing to do (counted already).
    Unchanged,
    /// Unchanged, with findings the writer carries ([`Store::file_unchanged`]).
    Carry,
}

impl Lookup {
    /// Whether the input must be read. An input found unchanged is noted as come across (one
    /// read is noted by [`Store::file_read`]).
    pub fn visit(&self, path: &str, meta: &FileMeta) -> Visit {
        let Some(p) = self.snapshot.get(path) else {
            return Visit::Read;
        };
        let same = p.reusable
            && p.size == meta.size
            && p.mtime_ns == meta.mtime_ns
            && p.ino == meta.ino
            && p.etag.as_deref() == meta.etag.as_deref()
            && p.version.as_deref() == meta.version.as_deref();
        if !same {
            return Visit::Read;
        }
        p.visited.store(true, Ordering::Relaxed);
        if p.has_findings {
            Visit::Carry
        } else {
            self.snapshot.unchanged_quietly.fetch_add(1, Ordering::Relaxed);
            Visit::Unchanged
        }
    }
}

/// Write side, owned by the thread that writes the report.
pub struct Store {
    conn: Connection,
    snapshot: Arc<Snapshot>,
    run: i64,
    base: i64,
    settings: String,
    show_values: bool,
    ops: usize,
    last_commit: Instant,
    pub counts: Counts,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub new: u64,
    pub unchanged: u64,
    pub resolved: u64,
    pub files_read: u64,
    pub files_unchanged: u64,
}

/// Opens the state for one run. `settings` is a hash of everything that shapes findings (rule
/// set, minimum confidence, key, limits): a file scanned under other settings is read again.
pub fn open(
    path: &Path,
    settings: String,
    targets: &[String],
    rules_version: &str,
    show_values: bool,
) -> anyhow::Result<(Store, Lookup)> {
    let conn = open_conn(path)?;
    init(&conn, path)?;
    conn.execute_batch(
        "CREATE TEMP TABLE cur(seq INTEGER PRIMARY KEY, path TEXT NOT NULL, k TEXT NOT NULL, record TEXT NOT NULL);
         CREATE INDEX temp.cur_path ON cur(path);",
    )?;
    let base: i64 = conn.query_row("SELECT coalesce(max(id), 0) FROM runs WHERE complete=1", [], |r| {
        r.get(0)
    })?;
    conn.execute(
        "INSERT INTO runs(started, targets, rules_version) VALUES(?1, ?2, ?3)",
        params![crate::report::now(), serde_json::to_string(targets)?, rules_version],
    )?;
    let run = conn.last_insert_rowid();
    let snapshot = Arc::new(Snapshot::load(&conn, path, &settings)?);
    conn.execute_batch("BEGIN")?;
    Ok((
        Store {
            conn,
            snapshot: snapshot.clone(),
            run,
            base,
            settings,
            show_values,
            ops: 0,
            last_commit: Instant::now(),
            counts: Counts::default(),
        },
        Lookup { snapshot },
    ))
}

fn counts_and_parse(counts: &mut Counts, rec: &str, status: Status) -> Option<Finding> {
    match status {
        "new" => counts.new += 1,
        "unchanged" => counts.unchanged += 1,
        _ => counts.resolved += 1,
    }
    parse_record(rec)
}

/// A finding as the state keeps it (the shape `serde` gives a [`Finding`]), read without
/// building a JSON tree first.
#[derive(serde::Deserialize)]
struct Record<'a> {
    rule: String,
    category: String,
    #[serde(borrow)]
    confidence: std::borrow::Cow<'a, str>,
    score: f64,
    path: String,
    member: Option<Vec<String>>,
    line: Option<u64>,
    column: Option<u64>,
    field: Option<String>,
    masked: String,
    fingerprint: String,
    validated: bool,
    evidence: Vec<String>,
    legal_basis: String,
    value: Option<String>,
}

fn parse_record(rec: &str) -> Option<Finding> {
    let Ok(r) = serde_json::from_str::<Record>(rec) else {
        // Not the shape this version writes: the general reader.
        return Finding::from_json(&serde_json::from_str(rec).ok()?);
    };
    Some(Finding {
        kind: "finding",
        rule: r.rule,
        category: r.category,
        confidence: crate::patterns::Confidence::parse(&r.confidence)?.as_str(),
        score: r.score,
        path: r.path,
        member: r.member,
        line: r.line,
        column: r.column,
        field: r.field,
        masked: r.masked,
        fingerprint: r.fingerprint,
        validated: r.validated,
        evidence: r.evidence,
        legal_basis: r.legal_basis,
        value: r.value,
        status: None,
    })
}

/// Identity of a finding within its file: rule, fingerprint, container member, field. The
/// line is not part of it (inserting a line above must not make a finding new).
fn identity(f: &Finding) -> String {
    let member = f.member.as_ref().map(|m| m.join("\u{1f}")).unwrap_or_default();
    format!(
        "{}\u{1e}{}\u{1e}{}\u{1e}{}",
        f.rule,
        f.fingerprint,
        member,
        f.field.as_deref().unwrap_or("")
    )
}

/// The target as stored: without trailing slashes, so `dir` and `dir/` are one target.
pub fn target_key(target: &str) -> &str {
    let t = target.trim_end_matches('/');
    if t.is_empty() { target } else { t }
}

impl Store {
    fn record(&self, f: &Finding) -> anyhow::Result<String> {
        let mut f = f.clone();
        f.status = None;
        if !self.show_values {
            f.value = None;
        }
        Ok(serde_json::to_string(&f)?)
    }

    /// A finding of a file still being read: kept until the file is done.
    pub fn stage(&mut self, f: &Finding) -> anyhow::Result<()> {
        let rec = self.record(f)?;
        self.conn
            .prepare_cached("INSERT INTO cur(path, k, record) VALUES(?1, ?2, ?3)")?
            .execute(params![f.path, identity(f), rec])?;
        Ok(())
    }

    fn status_of(&self, first_run: i64) -> Status {
        if first_run > self.base { "new" } else { "unchanged" }
    }

    /// A file was read: its staged findings are compared with what the state holds for it.
    /// `emit` receives every finding with its status, and the findings that went away as
    /// `resolved`.
    pub fn file_read(
        &mut self,
        path: &str,
        target: &str,
        meta: FileMeta,
        complete: bool,
        emit: &mut dyn FnMut(Finding, Status) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.counts.files_read += 1;
        self.snapshot.visit(path);
        let (run, base) = (self.run, self.base);
        {
            let mut staged = self.conn.prepare_cached(
                "SELECT k, record, row_number() OVER (PARTITION BY k ORDER BY seq) FROM cur WHERE path=?1 ORDER BY seq",
            )?;
            let mut rows = staged.query([path])?;
            while let Some(r) = rows.next()? {
                let (k, rec, occ): (String, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
                let old: Option<(i64, i64)> = self
                    .conn
                    .prepare_cached(
                        "SELECT id, first_run FROM findings WHERE path=?1 AND k=?2 AND occ=?3
                         AND (gone_run IS NULL OR gone_run > ?4)",
                    )?
                    .query_row(params![path, k, occ, base], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let first = match old {
                    Some((id, first)) => {
                        self.conn
                            .prepare_cached("UPDATE findings SET record=?1, gone_run=NULL, seen_run=?2 WHERE id=?3")?
                            .execute(params![rec, run, id])?;
                        first
                    }
                    None => {
                        self.conn
                            .prepare_cached(
                                "INSERT INTO findings(path, k, occ, first_run, seen_run, record)
                                 VALUES(?1, ?2, ?3, ?4, ?4, ?5)",
                            )?
                            .execute(params![path, k, occ, run, rec])?;
                        run
                    }
                };
                let status = if first > base { "new" } else { "unchanged" };
                match counts_and_parse(&mut self.counts, &rec, status) {
                    Some(f) => emit(f, status)?,
                    None => anyhow::bail!("state: unreadable record"),
                }
            }
        }
        // What the file held before and no longer does.
        let gone: Vec<(i64, i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT id, first_run, record FROM findings WHERE path=?1 AND seen_run < ?2
                 AND (gone_run IS NULL OR gone_run > ?3) ORDER BY id",
            )?
            .query_map(params![path, run, base], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (id, first, rec) in gone {
            if first <= base {
                self.conn
                    .prepare_cached("UPDATE findings SET gone_run=coalesce(gone_run, ?1), seen_run=?1 WHERE id=?2")?
                    .execute(params![run, id])?;
                if let Some(f) = counts_and_parse(&mut self.counts, &rec, "resolved") {
                    emit(f, "resolved")?;
                }
            } else {
                // First seen by an unfinished run and gone again: never existed for the base.
                self.conn
                    .prepare_cached("DELETE FROM findings WHERE id=?1")?
                    .execute([id])?;
            }
        }
        self.conn
            .prepare_cached("DELETE FROM cur WHERE path=?1")?
            .execute([path])?;
        self.upsert_file(path, target, meta, complete)?;
        self.tick()
    }

    fn upsert_file(&mut self, path: &str, target: &str, m: FileMeta, complete: bool) -> anyhow::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO files(path, target, size, mtime_ns, ino, settings, ok, seen_run, etag, version)
                 VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT(path) DO UPDATE SET target=?2, size=?3, mtime_ns=?4, ino=?5, settings=?6,
                 ok=?7, seen_run=?8, etag=?9, version=?10",
            )?
            .execute(params![
                path,
                target_key(target),
                m.size as i64,
                m.mtime_ns,
                m.ino as i64,
                self.settings,
                complete,
                self.run,
                m.etag,
                m.version
            ])?;
        Ok(())
    }

    /// A file was seen but not read (skipped by size, say): what the state holds for it stays,
    /// neither reported nor resolved.
    pub fn file_seen(&mut self, path: &str) -> anyhow::Result<()> {
        self.snapshot.visit(path);
        self.conn
            .prepare_cached("DELETE FROM cur WHERE path=?1")?
            .execute([path])?;
        self.tick()
    }

    /// A file unchanged since it was read, with findings ([`Visit::Carry`]): they are carried,
    /// not read again. Nothing is written: what the state holds for it is still true.
    pub fn file_unchanged(
        &mut self,
        path: &str,
        emit: &mut dyn FnMut(Finding, Status) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.counts.files_unchanged += 1;
        // In index order, sorted here: an ORDER BY would build a temporary b-tree per file.
        let mut rows: Vec<(i64, i64, i64, Option<i64>, String)> = self
            .conn
            .prepare_cached("SELECT occ, id, first_run, gone_run, record FROM findings WHERE path=?1")?
            .query_map([path], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
            .collect::<Result<_, _>>()?;
        rows.retain(|r| r.3.is_none_or(|gone| gone > self.base));
        rows.sort_unstable_by_key(|r| (r.0, r.1));
        for (_, _, first, gone, rec) in rows {
            let status = if gone.is_some() {
                "resolved"
            } else {
                self.status_of(first)
            };
            if let Some(f) = counts_and_parse(&mut self.counts, &rec, status) {
                emit(f, status)?;
            }
        }
        Ok(())
    }

    fn tick(&mut self) -> anyhow::Result<()> {
        self.ops += 1;
        // Small batches: a killed run loses at most a second of work.
        if self.ops >= 256 || self.last_commit.elapsed() > Duration::from_secs(1) {
            self.conn.execute_batch("COMMIT; BEGIN")?;
            self.ops = 0;
            self.last_commit = Instant::now();
        }
        Ok(())
    }

    /// The end of a run, in one transaction with the last of its work. Files of these targets
    /// that were in the state when the run started and that it did not come across are gone
    /// and their findings resolved (unless the walk itself failed somewhere: then nothing is
    /// resolved for absence, since absence cannot be told from unreadability). Then the run is
    /// marked complete and what it resolved is forgotten.
    pub fn finish(
        &mut self,
        targets: &[String],
        resolve_missing: bool,
        emit: &mut dyn FnMut(Finding, Status) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let run = self.run;
        self.counts.files_unchanged += self.snapshot.unchanged_quietly.swap(0, Ordering::Relaxed);
        if resolve_missing {
            let snapshot = self.snapshot.clone();
            let keys: HashSet<&str> = targets.iter().map(|t| target_key(t)).collect();
            let mut gone: Vec<(&str, &Prev)> = snapshot
                .parts
                .iter()
                .flat_map(|part| {
                    part.files.iter().filter(|(_, p)| {
                        !p.visited.load(Ordering::Relaxed) && keys.contains(part.targets[p.target].as_str())
                    })
                })
                .map(|(path, p)| (&**path, p))
                .collect();
            gone.sort_unstable_by_key(|(path, _)| *path);
            for (path, p) in gone {
                if p.has_findings {
                    let records: Vec<String> = self
                        .conn
                        .prepare_cached(
                            "SELECT record FROM findings WHERE path=?1 AND (gone_run IS NULL OR gone_run > ?2)
                             AND first_run <= ?2 ORDER BY id",
                        )?
                        .query_map(params![path, self.base], |r| r.get(0))?
                        .collect::<Result<_, _>>()?;
                    for rec in records {
                        if let Some(f) = counts_and_parse(&mut self.counts, &rec, "resolved") {
                            emit(f, "resolved")?;
                        }
                    }
                    self.conn
                        .prepare_cached("DELETE FROM findings WHERE path=?1")?
                        .execute([path])?;
                }
                self.conn
                    .prepare_cached("DELETE FROM files WHERE path=?1")?
                    .execute([path])?;
            }
        }
        self.conn
            .execute("DELETE FROM findings WHERE gone_run IS NOT NULL", [])?;
        let c = self.counts;
        self.conn.execute(
            "UPDATE runs SET finished=?1, complete=1, new=?2, unchanged=?3, resolved=?4, files_read=?5,
             files_unchanged=?6 WHERE id=?7",
            params![
                crate::report::now(),
                c.new as i64,
                c.unchanged as i64,
                c.resolved as i64,
                c.files_read as i64,
                c.files_unchanged as i64,
                run
            ],
        )?;
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }
}

/// Takes an exclusive advisory lock on `path` (created if missing) without waiting. `Ok(None)`:
/// another process holds it.
pub fn try_lock(path: &Path) -> anyhow::Result<Option<std::fs::File>> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| anyhow::anyhow!("lock {}: {e}", path.display()))?;
    match f.try_lock() {
        Ok(()) => Ok(Some(f)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(anyhow::anyhow!("lock {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(path: &str) -> Finding {
        Finding {
            kind: "finding",
            rule: "jp.my_number".into(),
            category: "national_id".into(),
            confidence: "high",
            score: 0.93,
            path: path.into(),
            member: None,
            line: Some(2),
            column: None,
            field: None,
            masked: "********1234".into(),
            fingerprint: format!("fp-{path}"),
            validated: true,
            evidence: vec![],
            legal_basis: "番号法".into(),
            value: None,
            status: None,
        }
    }

    /// A table large enough to be loaded in parts: every row is found in one of them, the rows
    /// not come across are the deleted ones, and rows with findings are carried.
    #[test]
    fn a_large_table_loads_in_parts() {
        let dir = tempfile_dir("parts");
        let path = dir.join("s.db");
        let targets = ["t".to_string()];
        let n = 5000;
        let name = |i: usize| format!("t/d{}/f{i:05}.txt", i % 7);
        let meta = |i: usize| FileMeta {
            size: i as u64,
            mtime_ns: 1_000 + i as i64,
            ino: 77 + i as u64,
            ..Default::default()
        };
        let (mut store, _) = open(&path, "s".into(), &targets, "r", false).unwrap();
        for i in 0..n {
            if i % 1000 == 3 {
                store.stage(&finding(&name(i))).unwrap();
            }
            store
                .file_read(&name(i), "t", meta(i), true, &mut |_, _| Ok(()))
                .unwrap();
        }
        store.finish(&targets, true, &mut |_, _| Ok(())).unwrap();
        drop(store);

        let (mut store, lookup) = open(&path, "s".into(), &targets, "r", false).unwrap();
        let gone = [0, 2500, n - 1];
        let (mut carried, mut emitted) = (0, Vec::new());
        for i in (0..n).filter(|i| !gone.contains(i)) {
            match lookup.visit(&name(i), &meta(i)) {
                Visit::Carry => {
                    carried += 1;
                    store
                        .file_unchanged(&name(i), &mut |f, s| {
                            emitted.push((f.path, s));
                            Ok(())
                        })
                        .unwrap();
                }
                v => assert_eq!(v, Visit::Unchanged, "{}", name(i)),
            }
        }
        assert_eq!(carried, 5);
        assert!(emitted.iter().all(|(_, s)| *s == "unchanged"), "{emitted:?}");
        let changed = FileMeta { size: 1, ..meta(7) };
        assert_eq!(lookup.visit(&name(7), &changed), Visit::Read);
        assert_eq!(lookup.visit("t/new.txt", &meta(1)), Visit::Read);
        store.finish(&targets, true, &mut |_, _| Ok(())).unwrap();
        assert_eq!(store.counts.files_unchanged, (n - gone.len()) as u64);
        let left: i64 = store
            .conn
            .query_row("SELECT count(*) FROM files", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, (n - gone.len()) as i64);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("appiscan-state-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A stored record reads back as the general reader reads it.
    #[test]
    fn records_read_back_as_written() {
        let f = Finding {
            kind: "finding",
            rule: "jp.my_number".into(),
            category: "national_id".into(),
            confidence: "high",
            score: 0.93,
            path: "tree/a \"b\".txt".into(),
            member: Some(vec!["x.zip".into(), "y.csv".into()]),
            line: Some(3),
            column: None,
            field: Some("個人番号".into()),
            masked: "********1234".into(),
            fingerprint: "abc".into(),
            validated: true,
            evidence: vec!["label:個人番号".into()],
            legal_basis: "番号法".into(),
            value: None,
            status: None,
        };
        let rec = serde_json::to_string(&f).unwrap();
        assert_eq!(parse_record(&rec), Some(f.clone()));
        assert_eq!(
            parse_record(&rec),
            Finding::from_json(&serde_json::from_str(&rec).unwrap())
        );
        assert_eq!(parse_record("{}"), None);
    }

    /// A state file made before objects gains the ETag and version columns, and an object is
    /// unchanged only with the same ETag and version id.
    #[test]
    fn object_columns_are_added_and_compared() {
        let dir = std::env::temp_dir().join(format!("appiscan-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("old.db");
        let _ = std::fs::remove_file(&path);
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 INSERT INTO meta VALUES('schema', '1');
                 CREATE TABLE files(path TEXT PRIMARY KEY, target TEXT NOT NULL, size INTEGER NOT NULL,
                     mtime_ns INTEGER NOT NULL, ino INTEGER NOT NULL, settings TEXT NOT NULL, ok INTEGER NOT NULL,
                     seen_run INTEGER NOT NULL);",
            )
            .unwrap();
        }
        let (mut store, lookup) = open(&path, "s".into(), &["s3://b".into()], "r", false).unwrap();
        let meta = FileMeta {
            size: 10,
            mtime_ns: 5,
            etag: Some("abc".into()),
            version: Some("v1".into()),
            ..Default::default()
        };
        store
            .file_read("s3://b/k", "s3://b", meta.clone(), true, &mut |_, _| Ok(()))
            .unwrap();
        store.finish(&["s3://b".into()], true, &mut |_, _| Ok(())).unwrap();
        assert_eq!(
            lookup.visit("s3://b/k", &meta),
            Visit::Read,
            "a run looks up what it started with"
        );
        drop((store, lookup));
        let (_store, lookup) = open(&path, "s".into(), &["s3://b".into()], "r", false).unwrap();
        assert_eq!(lookup.visit("s3://b/k", &meta), Visit::Unchanged);
        let other_etag = FileMeta {
            etag: Some("abd".into()),
            ..meta.clone()
        };
        assert_eq!(lookup.visit("s3://b/k", &other_etag), Visit::Read);
        let other_version = FileMeta {
            version: Some("v2".into()),
            ..meta
        };
        assert_eq!(lookup.visit("s3://b/k", &other_version), Visit::Read);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
