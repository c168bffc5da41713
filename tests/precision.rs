//! Precision/recall acceptance test of the `jp.*` rules (SPEC §4, §5, §7).
//!
//! A deterministic generator (`gen/mod.rs`) writes a synthetic storage dump of a few hundred
//! files: HR memos, mails, notes and logs, CSV exports and JSON Lines exports. It mixes TRUE
//! identification codes of all nine `jp.*` rules (labelled on the same line, labelled on the line
//! before, or in a labelling column or key) with LOOK-ALIKES that must not be reported at medium
//! or above (phones, postal codes, corporate and invoice numbers, JAN codes, card numbers, order
//! numbers and timestamps that pass the My Number check digit, tracking numbers, product and lot
//! codes, employer office numbers, amounts, insurer numbers without a person, bare unlabelled
//! My Numbers, which are low by design). The binary scans the dump with
//! `scan -f jsonl --min-confidence medium`; findings are matched to the ground truth by
//! (path, line, rule) and precision and recall must both be at least 0.98.

#[path = "gen/mod.rs"]
mod generator;
mod support;

use generator::Item;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

const SEED: u64 = 0x0A99_15CA_2024_0601;
const THRESHOLD: f64 = 0.98;

#[derive(Debug, Clone)]
struct Finding {
    path: String,
    line: usize,
    column: usize,
    rule: String,
    confidence: String,
    score: f64,
    field: Option<String>,
    evidence: Vec<String>,
}

impl Finding {
    fn describe(&self) -> String {
        format!(
            "{} {} score {} col {}{} evidence {:?}",
            self.rule,
            self.confidence,
            self.score,
            self.column,
            self.field.as_deref().map(|f| format!(" field {f}")).unwrap_or_default(),
            self.evidence
        )
    }
}

struct Scan {
    findings: Vec<Finding>,
    summary: Value,
    errors: Vec<Value>,
}

/// Runs the scanner over `dump` inside `dir`, with no configuration from the environment.
fn scan(dir: &Path, min_confidence: &str) -> Scan {
    let stdout = support::scan_dump_jsonl(dir, min_confidence);
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    let mut summary = Value::Null;
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("bad jsonl line {line:?}: {e}"));
        match v["type"].as_str() {
            Some("finding") => {
                let rule = v["rule"].as_str().unwrap_or_default().to_string();
                if !rule.starts_with("jp.") {
                    continue;
                }
                findings.push(Finding {
                    path: v["path"].as_str().unwrap_or_default().to_string(),
                    line: v["line"].as_u64().unwrap_or(0) as usize,
                    column: v["column"].as_u64().unwrap_or(0) as usize,
                    rule,
                    confidence: v["confidence"].as_str().unwrap_or_default().to_string(),
                    score: v["score"].as_f64().unwrap_or(0.0),
                    field: v["field"].as_str().map(str::to_string),
                    evidence: v["evidence"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|e| e.as_str().map(str::to_string)).collect())
                        .unwrap_or_default(),
                });
            }
            Some("error") => errors.push(v),
            Some("summary") => summary = v,
            _ => {}
        }
    }
    findings.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    Scan {
        findings,
        summary,
        errors,
    }
}

fn within(item: &Item, column: usize) -> bool {
    item.col_start <= column && column <= item.col_end
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

#[test]
fn precision_and_recall_of_jp_rules() {
    let files = generator::generate(SEED);
    let tmp = tempfile::tempdir().expect("tempdir");
    for f in &files {
        let p = tmp.path().join(&f.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, f.bytes()).unwrap();
    }
    // PRECISION_DUMP_DIR=dir keeps a copy of the dump for inspection.
    if let Ok(keep) = std::env::var("PRECISION_DUMP_DIR") {
        for f in &files {
            let p = Path::new(&keep).join(&f.path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, f.bytes()).unwrap();
        }
    }
    let items: Vec<&Item> = files.iter().flat_map(|f| f.items.iter()).collect();
    let lines: HashMap<&str, &Vec<String>> = files.iter().map(|f| (f.path.as_str(), &f.lines)).collect();
    let snippet = |path: &str, line: usize| -> String {
        lines
            .get(path)
            .and_then(|l| l.get(line.wrapping_sub(1)))
            .cloned()
            .unwrap_or_else(|| "<no such line>".into())
    };
    let truths: Vec<&Item> = items.iter().copied().filter(|i| i.rule.is_some()).collect();
    let fakes = items
        .iter()
        .filter(|i| i.rule.is_none() && !i.class.starts_with(generator::PART))
        .count();

    // The measurement means something only if the dump is big and every rule is in it.
    let mut per_rule_truth: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &truths {
        *per_rule_truth.entry(t.rule.unwrap()).or_default() += 1;
    }
    assert!(truths.len() >= 1000, "only {} true codes generated", truths.len());
    assert!(fakes >= 2000, "only {fakes} look-alikes generated");
    for r in generator::RULES {
        assert!(
            per_rule_truth.get(r).copied().unwrap_or(0) >= 50,
            "too few true {r}: {per_rule_truth:?}"
        );
    }

    let started = std::time::Instant::now();
    let medium = scan(tmp.path(), "medium");
    let elapsed = started.elapsed();
    let low = scan(tmp.path(), "low");

    // Every file was scanned: otherwise recall is measured over less than the dump.
    for e in &medium.errors {
        eprintln!("scanner error record: {e}");
    }
    assert_eq!(
        medium.summary["files_scanned"].as_u64(),
        Some(files.len() as u64),
        "files_scanned differs from the files generated; summary: {}",
        medium.summary
    );
    assert!(medium.errors.is_empty(), "the scanner reported errors");

    // Match findings to the truth by (path, line, rule); on a line with several codes of one
    // rule, the one whose span holds the finding's column first.
    let mut by_key: HashMap<(&str, usize, &str), Vec<usize>> = HashMap::new();
    for (k, t) in truths.iter().enumerate() {
        by_key
            .entry((t.path.as_str(), t.line, t.rule.unwrap()))
            .or_default()
            .push(k);
    }
    let mut by_line: HashMap<(&str, usize), Vec<&Item>> = HashMap::new();
    for i in &items {
        by_line.entry((i.path.as_str(), i.line)).or_default().push(i);
    }
    let mut matched = vec![false; truths.len()];
    let mut assigned: Vec<Option<usize>> = vec![None; medium.findings.len()];
    // Pass 1: the finding's column lies in the true code's span. Pass 2: same (path, line, rule).
    for pass in 0..2 {
        for (n, f) in medium.findings.iter().enumerate() {
            if assigned[n].is_some() {
                continue;
            }
            let Some(cands) = by_key.get(&(f.path.as_str(), f.line, f.rule.as_str())) else {
                continue;
            };
            if let Some(k) = cands
                .iter()
                .copied()
                .find(|&k| !matched[k] && (pass == 1 || within(truths[k], f.column)))
            {
                matched[k] = true;
                assigned[n] = Some(k);
            }
        }
    }
    let mut tp = 0usize;
    let mut off_column: Vec<(&Finding, &Item)> = Vec::new();
    let mut fps: Vec<&Finding> = Vec::new();
    let mut tp_rule: BTreeMap<&str, usize> = BTreeMap::new();
    let mut fp_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for (f, a) in medium.findings.iter().zip(&assigned) {
        match a {
            Some(k) => {
                tp += 1;
                *tp_rule.entry(truths[*k].rule.unwrap()).or_default() += 1;
                if !within(truths[*k], f.column) {
                    off_column.push((f, truths[*k]));
                }
            }
            None => {
                fps.push(f);
                *fp_rule.entry(f.rule.as_str()).or_default() += 1;
            }
        }
    }
    let fns: Vec<&Item> = truths
        .iter()
        .zip(&matched)
        .filter(|(_, m)| !**m)
        .map(|(t, _)| *t)
        .collect();
    let fp = fps.len();
    let fnc = fns.len();
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fnc);

    // What generated value each false positive hit.
    let what_at = |f: &Finding| -> String {
        let on_line = by_line.get(&(f.path.as_str(), f.line));
        match on_line.and_then(|v| v.iter().find(|i| within(i, f.column))) {
            Some(i) => match i.rule {
                Some(r) if r == f.rule => format!("a second finding inside the true {r} ({}) {:?}", i.class, i.text),
                Some(r) => format!("true {r} ({}) {:?}", i.class, i.text),
                None => format!("look-alike ({}) {:?}", i.class, i.text),
            },
            None => "no generated value at this column".to_string(),
        }
    };
    // What the scanner said at low about a missed code (its evidence).
    let low_at = |t: &Item| -> Vec<String> {
        low.findings
            .iter()
            .filter(|f| f.path == t.path && f.line == t.line)
            .map(Finding::describe)
            .collect()
    };

    eprintln!("== appiscan precision/recall (jp.* at --min-confidence medium) ==");
    eprintln!(
        "dump: {} files, {} true codes, {} look-alikes; scan took {:.2?}",
        files.len(),
        truths.len(),
        fakes,
        elapsed
    );
    eprintln!("TP {tp}  FP {fp}  FN {fnc}  precision {precision:.4}  recall {recall:.4}");
    eprintln!("per rule (true / TP / FN / FP):");
    for r in generator::RULES {
        let t = per_rule_truth.get(r).copied().unwrap_or(0);
        let p = tp_rule.get(r).copied().unwrap_or(0);
        eprintln!(
            "  {r:34} {t:5} {p:5} {:5} {:5}",
            t - p,
            fp_rule.get(r).copied().unwrap_or(0)
        );
    }
    for (r, n) in &fp_rule {
        if !generator::RULES.contains(r) {
            eprintln!("  {r:34}     -     -     - {n:5}");
        }
    }

    let mut fn_classes: BTreeMap<(String, String), usize> = BTreeMap::new();
    for t in &fns {
        *fn_classes
            .entry((t.rule.unwrap().to_string(), t.class.clone()))
            .or_default() += 1;
    }
    let mut fp_classes: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for f in &fps {
        let at = by_line
            .get(&(f.path.as_str(), f.line))
            .and_then(|v| v.iter().find(|i| within(i, f.column)));
        let class = at.map_or("no generated value at this column".to_string(), |i| match i.rule {
            Some(r) if r == f.rule => format!("a second finding inside a true {r}: {}", i.class),
            Some(r) => format!("true {r}: {}", i.class),
            None => i.class.clone(),
        });
        *fp_classes
            .entry((f.rule.clone(), f.confidence.clone(), class))
            .or_default() += 1;
    }
    if !fp_classes.is_empty() {
        eprintln!("false-positive classes (reported rule, confidence, what was generated): count");
        for ((r, c, class), n) in &fp_classes {
            eprintln!("  {r} {c} <- {class}: {n}");
        }
    }
    if !fn_classes.is_empty() {
        eprintln!("false-negative classes (rule, how it was generated): count");
        for ((r, class), n) in &fn_classes {
            eprintln!("  {r} <- {class}: {n}");
        }
    }
    if !fps.is_empty() {
        eprintln!("false positives:");
        for f in &fps {
            eprintln!(
                "  FP {}:{} {}\n     hit: {}\n     line: {}",
                f.path,
                f.line,
                f.describe(),
                what_at(f),
                snippet(&f.path, f.line)
            );
        }
    }
    if !fns.is_empty() {
        eprintln!("false negatives:");
        for t in &fns {
            let at_low = low_at(t);
            eprintln!(
                "  FN {}:{} {} ({}) {:?}\n     line: {}\n     scanner at low on this line: {}",
                t.path,
                t.line,
                t.rule.unwrap(),
                t.class,
                t.text,
                snippet(&t.path, t.line),
                if at_low.is_empty() {
                    "nothing".to_string()
                } else {
                    at_low.join(" | ")
                }
            );
        }
    }
    if !off_column.is_empty() {
        eprintln!("matched on (path, line, rule) but at another column (counted as TP):");
        for (f, t) in &off_column {
            eprintln!(
                "  {}:{} {} expected cols {}-{} ({}) {:?}",
                f.path,
                f.line,
                f.describe(),
                t.col_start,
                t.col_end,
                t.class,
                t.text
            );
        }
    }

    assert!(
        precision >= THRESHOLD && recall >= THRESHOLD,
        "precision {precision:.4} / recall {recall:.4} below {THRESHOLD} (TP {tp}, FP {fp}, FN {fnc}); \
         run with --nocapture for the list"
    );
}

/// The generator's check digits reproduce the published and executed values of
/// jp-identifiers.md §3-§4, so the ground truth does not depend on the scanner's validators.
#[test]
fn generator_check_digits_match_reference_values() {
    use generator::*;
    for v in ["123456789018", "621498320257", "176749365367", "861564985029"] {
        assert!(my_number_ok(v), "{v}");
    }
    assert!(!my_number_ok("123456789019"));
    for v in ["7000012050002", "1180301018771", "6010701027558"] {
        assert!(corporate_ok(v), "{v}");
    }
    for v in [
        "115332368650",
        "643188975470",
        "625944942081",
        "729405688471",
        "974997243422",
    ] {
        assert!(dl_ok(v), "{v}");
    }
    assert!(!dl_ok("315332368660"), "commission 31 does not exist");
    for v in [
        "24727059608",
        "24846016224",
        "25208017643",
        "00472011871",
        "19782789670",
    ] {
        assert!(resident_ok(v), "{v}");
    }
    for v in ["33120015", "01130012", "131011", "06443857", "39088000", "366112"] {
        assert!(insurer_ok(v), "{v}");
    }
    assert_eq!(ean13_cd("490123456789"), 4);
    assert!(luhn_ok("4111111111111111") && luhn_ok("3530111333300000"));
    assert_eq!(tracking_cd("12345678901"), 3);
    // The generator is deterministic.
    let a = generate(7);
    let b = generate(7);
    assert_eq!(a.len(), b.len());
    assert!(a.iter().zip(&b).all(|(x, y)| x.bytes() == y.bytes()));
}
