//! Acceptance test of sensitive-category (要配慮個人情報) and biometric (施行令1条1号) detection
//! (SPEC §4, §5; jp-identifiers.md §7 and §8).
//!
//! A deterministic generator (`topics_gen/mod.rs`, seeded splitmix64) writes a synthetic dump of
//! some two hundred files in a temporary directory:
//!
//! MUST FIND at medium or above, with the right rule:
//! - enrolment JSON Lines (name, employee id, 128/512-float L2-normalised `face_embedding`,
//!   base64 ISO/IEC 19794-2 `fingerprint_template` (`FMR\0 20\0`…), base64 256-byte `iris_code`;
//!   flat, nested, alternative and Japanese key layouts) → `biometric.face` / `.fingerprint` /
//!   `.iris` on the record's line;
//! - voiceprint CSV (`speaker_id,氏名,speaker_embedding`, 192 floats in one quoted cell; some in
//!   Shift_JIS) → `biometric.voice` on the row;
//! - FASTA of patients (`>patient_0012 Homo sapiens chr7 GRCh38`, 60-column lines) and VCF 4.2
//!   with sample genotypes → `biometric.dna` anywhere in the file (the file is the unit);
//! - clinic CSV `氏名,生年月日,病名,既往歴,処方薬` → `sensitive.medical_history` on the row, plus
//!   whatever rule(s) `patterns/sensitive.toml` maps the `処方薬` column to (read at run time and
//!   printed);
//! - HR memos on an employee's conviction (name + 社員番号, 有罪判決 / 懲役 / 執行猶予 / 前科) →
//!   `sensitive.criminal_record` in the paragraph that states the conviction;
//! - union membership CSV `氏名,社員番号,所属組合,組合員区分` → `sensitive.labor_union` on the row.
//!
//! MUST NOT FIND at medium or above (no `biometric.*`, no `sensitive.*` anywhere in the file):
//! product catalogues (PNG thumbnails, 384/768-float item and text embeddings), IT incident logs
//! (システム障害, 通信障害, 障害対応, 障害報告…), payroll 給与差押え / 債権差押命令, a lecture on
//! the categories themselves, 健康保険組合 / 共済組合, 協同組合, 管理組合, 経営信条 / 品質信条,
//! ゲイン / ゲイツ, race results, システム診断, がんばる, and CSV export templates (a header
//! row, no record). The look-alikes name people (さん, 社員番号, name columns) so that a missing
//! false-friend rule shows.
//!
//! The binary scans with `scan -f jsonl --min-confidence low`; findings at medium or above are
//! matched to the ground truth by (path, line, rule). A finding a truth item neither expects nor
//! tolerates is a false positive. Precision and recall per category (biometric, sensitive) must
//! be at least 0.95, every MUST-FIND class must be found with each of its rules, and no MUST-NOT
//! class may have a finding at medium or above, nor may a CSV header row. Every FP and FN is printed with its evidence and
//! the input line. `TOPICS_DUMP_DIR=dir` keeps a copy of the dump.

#[path = "topics_gen/mod.rs"]
mod generator;
mod support;

use generator::{GenFile, Mapping, Truth};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

const SEED: u64 = 0x70_9105_A991_2024;
const THRESHOLD: f64 = 0.95;

#[derive(Debug, Clone)]
struct Finding {
    path: String,
    line: usize,
    rule: String,
    category: String,
    confidence: String,
    score: f64,
    field: Option<String>,
    evidence: Vec<String>,
}

impl Finding {
    fn medium_plus(&self) -> bool {
        self.confidence == "medium" || self.confidence == "high"
    }

    fn describe(&self) -> String {
        format!(
            "{} {} score {}{} evidence {:?}",
            self.rule,
            self.confidence,
            self.score,
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
fn scan(dir: &Path) -> Scan {
    let stdout = support::scan_dump_jsonl(dir, "low");
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    let mut summary = Value::Null;
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("bad jsonl line {line:?}: {e}"));
        match v["type"].as_str() {
            Some("finding") => {
                let category = v["category"].as_str().unwrap_or_default().to_string();
                if category != "biometric" && category != "sensitive" {
                    continue;
                }
                findings.push(Finding {
                    path: v["path"].as_str().unwrap_or_default().to_string(),
                    line: v["line"].as_u64().unwrap_or(0) as usize,
                    rule: v["rule"].as_str().unwrap_or_default().to_string(),
                    category,
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
    findings.sort_by(|a, b| (&a.path, a.line, &a.rule).cmp(&(&b.path, b.line, &b.rule)));
    Scan {
        findings,
        summary,
        errors,
    }
}

/// How column names are compared by the rules' data (`patterns.rs`: `normalize_name`).
fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' ' | '\t' | '#'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The sensitive rules whose keywords or column names `patterns/sensitive.toml` lets the column
/// header `header` carry: what the DATA says the column is.
fn rules_for_column(header: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("patterns/sensitive.toml");
    let text = std::fs::read_to_string(&path).expect("read patterns/sensitive.toml");
    let doc: toml::Value = toml::from_str(&text).expect("parse patterns/sensitive.toml");
    let lower = header.to_lowercase();
    let norm = normalize(header);
    let mut out = Vec::new();
    for r in doc.get("rule").and_then(|r| r.as_array()).into_iter().flatten() {
        if r.get("kind").and_then(|k| k.as_str()) != Some("sensitive") {
            continue;
        }
        let list = |key: &str| -> Vec<String> {
            r.get(key)
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let by_keyword = list("keywords").iter().any(|k| lower.contains(&k.to_lowercase()));
        let by_column = list("columns").iter().any(|c| norm.contains(&normalize(c)));
        if by_keyword || by_column {
            out.push(r.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_string());
        }
    }
    out
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

fn clip(s: &str, n: usize) -> String {
    let c: Vec<char> = s.chars().collect();
    if c.len() <= n {
        s.to_string()
    } else {
        format!(
            "{}…{} ({} chars)",
            c[..n * 2 / 3].iter().collect::<String>(),
            c[c.len() - n / 3..].iter().collect::<String>(),
            c.len()
        )
    }
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fp: usize,
    expected: usize,
    found: usize,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.expected += o.expected;
        self.found += o.found;
    }
    fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    fn recall(&self) -> f64 {
        ratio(self.found, self.expected)
    }
}

#[test]
fn sensitive_and_biometric_precision_and_recall() {
    let prescription = rules_for_column("処方薬");
    let mapping = Mapping {
        prescription_rules: prescription.clone(),
    };
    let files = generator::generate(SEED, &mapping);
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut dirs = vec![tmp.path().to_path_buf()];
    if let Ok(keep) = std::env::var("TOPICS_DUMP_DIR") {
        dirs.push(keep.into());
    }
    for d in &dirs {
        for f in &files {
            let p = d.join(&f.path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, f.bytes()).unwrap();
        }
    }
    let by_path: HashMap<&str, &GenFile> = files.iter().map(|f| (f.path.as_str(), f)).collect();
    let truths: Vec<&Truth> = files.iter().flat_map(|f| f.truths.iter()).collect();
    let snippet = |path: &str, line: usize| -> String {
        by_path
            .get(path)
            .and_then(|f| f.lines.get(line.wrapping_sub(1)))
            .map(|l| clip(l, 150))
            .unwrap_or_else(|| "<no such line>".into())
    };

    // Size of the measurement.
    let mut classes: BTreeMap<&str, (bool, usize, usize, usize)> = BTreeMap::new();
    for f in &files {
        let e = classes.entry(f.class).or_insert((f.must_not, 0, 0, 0));
        e.1 += 1;
        e.2 += f.records;
        e.3 += usize::from(f.sjis);
    }
    let records: usize = files.iter().map(|f| f.records).sum();
    println!(
        "\n=== topics acceptance: {} files, {} records, seed {SEED:#x} ===",
        files.len(),
        records
    );
    println!(
        "data: patterns/sensitive.toml maps the column 処方薬 to {:?}{}",
        prescription,
        if prescription.is_empty() {
            " (no rule: only 病名/既往歴 make a clinic row sensitive; jp-identifiers.md §8 lists 処方 under \
             保健指導・診療・調剤 = sensitive.medical_care)"
        } else {
            ""
        }
    );
    for (c, (neg, n, r, sj)) in &classes {
        println!(
            "  {:<9} {c:<22} {n:>3} files {r:>5} records{}",
            if *neg { "MUST-NOT" } else { "MUST-FIND" },
            if *sj > 0 {
                format!(" ({sj} Shift_JIS)")
            } else {
                String::new()
            }
        );
    }
    let expected_pairs: usize = truths.iter().map(|t| t.expect.len()).sum();
    assert!(files.len() >= 150, "only {} files generated", files.len());
    assert!(
        expected_pairs >= 800,
        "only {expected_pairs} expected findings generated"
    );

    let scan = scan(tmp.path());
    for e in &scan.errors {
        eprintln!("scanner error record: {e}");
    }
    assert_eq!(
        scan.summary["files_scanned"].as_u64(),
        Some(files.len() as u64),
        "files_scanned differs from the files generated; summary: {}",
        scan.summary
    );
    assert!(scan.errors.is_empty(), "the scanner reported errors");

    // Findings at medium or above, one per (path, line, rule) (the highest score is kept).
    let mut medium: BTreeMap<(String, usize, String), &Finding> = BTreeMap::new();
    for f in scan.findings.iter().filter(|f| f.medium_plus()) {
        let k = (f.path.clone(), f.line, f.rule.clone());
        let keep = medium.get(&k).is_none_or(|o| o.score < f.score);
        if keep {
            medium.insert(k, f);
        }
    }
    let mut truths_of: HashMap<&str, Vec<&Truth>> = HashMap::new();
    for t in &truths {
        truths_of.entry(t.path.as_str()).or_default().push(t);
    }
    let covers = |t: &Truth, line: usize| t.lo <= line && line <= t.hi;

    let mut per_rule: BTreeMap<String, Counts> = BTreeMap::new();
    let mut per_class_found: BTreeMap<(&str, String), (usize, usize)> = BTreeMap::new();
    let mut per_class_fp: BTreeMap<&str, usize> = BTreeMap::new();
    let mut fps: Vec<(&str, &Finding)> = Vec::new();
    let mut tolerated: Vec<&Finding> = Vec::new();

    // Precision: every finding at medium or above.
    for f in medium.values() {
        let file = by_path.get(f.path.as_str());
        let ts = truths_of.get(f.path.as_str()).cloned().unwrap_or_default();
        let entry = per_rule.entry(f.rule.clone()).or_default();
        if ts.iter().any(|t| covers(t, f.line) && t.expect.contains(&f.rule)) {
            entry.tp += 1;
        } else if ts.iter().any(|t| covers(t, f.line) && t.tolerate.contains(&f.rule))
            || file.is_some_and(|g| g.tolerate.contains(&f.rule))
        {
            tolerated.push(f);
        } else {
            entry.fp += 1;
            let class = file.map_or("<not generated>", |g| g.class);
            *per_class_fp.entry(class).or_default() += 1;
            fps.push((class, f));
        }
    }

    // Recall: every expected (item, rule).
    let mut fns: Vec<(&Truth, &str)> = Vec::new();
    for t in &truths {
        for r in &t.expect {
            let found = medium
                .range((t.path.clone(), t.lo, String::new())..=(t.path.clone(), t.hi, "~".to_string()))
                .any(|((_, _, rule), _)| rule == r);
            let e = per_rule.entry(r.clone()).or_default();
            e.expected += 1;
            let c = per_class_found.entry((t.class, r.clone())).or_default();
            c.1 += 1;
            if found {
                e.found += 1;
                c.0 += 1;
            } else {
                fns.push((t, r.as_str()));
            }
        }
    }

    let mut per_cat: BTreeMap<&str, Counts> = BTreeMap::new();
    for (r, c) in &per_rule {
        let cat = if r.starts_with("biometric.") {
            "biometric"
        } else {
            "sensitive"
        };
        per_cat.entry(cat).or_default().add(*c);
    }

    println!("\n--- per category (medium or above) ---");
    for cat in ["biometric", "sensitive"] {
        let c = per_cat.get(cat).copied().unwrap_or_default();
        println!(
            "  {cat:<10} precision {:.3} ({} TP / {} FP)   recall {:.3} ({} / {} expected)",
            c.precision(),
            c.tp,
            c.fp,
            c.recall(),
            c.found,
            c.expected
        );
    }
    println!(
        "  ({} findings on lines whose content tolerates the rule, not counted; listed below)",
        tolerated.len()
    );
    println!("\n--- per rule (medium or above) ---");
    for (r, c) in &per_rule {
        println!(
            "  {r:<30} precision {:.3} ({:>4} TP / {:>3} FP)   recall {:.3} ({:>4} / {:>4})",
            c.precision(),
            c.tp,
            c.fp,
            c.recall(),
            c.found,
            c.expected
        );
    }
    println!("\n--- per class ---");
    for ((class, rule), (found, n)) in &per_class_found {
        println!(
            "  MUST-FIND {class:<22} {rule:<30} {found:>4} / {n:>4}  recall {:.3}",
            ratio(*found, *n)
        );
    }
    // Low findings in the look-alikes show the engine saw the words and kept them low.
    let mut low_in: BTreeMap<&str, usize> = BTreeMap::new();
    for f in scan.findings.iter().filter(|f| !f.medium_plus()) {
        if let Some(g) = by_path.get(f.path.as_str()) {
            *low_in.entry(g.class).or_default() += 1;
        }
    }
    for (c, (neg, ..)) in &classes {
        if *neg {
            println!(
                "  MUST-NOT  {c:<22} {:>4} findings at medium or above ({} at low)",
                per_class_fp.get(c).copied().unwrap_or(0),
                low_in.get(c).copied().unwrap_or(0)
            );
        }
    }
    println!("\n--- tolerated ({}) ---", tolerated.len());
    for f in &tolerated {
        println!("  OK  {}:{} {}", f.path, f.line, f.describe());
    }

    // Every FP and FN, with evidence and the input line.
    println!("\n--- false positives ({}) ---", fps.len());
    for (class, f) in &fps {
        println!("  FP [{class}] {}:{} {}", f.path, f.line, f.describe());
        println!("       | {}", snippet(&f.path, f.line));
    }
    println!("\n--- false negatives ({}) ---", fns.len());
    for (t, r) in &fns {
        let near: Vec<String> = scan
            .findings
            .iter()
            .filter(|f| f.path == t.path && covers(t, f.line))
            .map(|f| format!("line {}: {}", f.line, f.describe()))
            .collect();
        println!(
            "  FN [{}] {}:{}{} expected {r} at medium+",
            t.class,
            t.path,
            t.lo,
            if t.hi > t.lo {
                format!("-{}", t.hi)
            } else {
                String::new()
            }
        );
        if near.is_empty() {
            println!("       actual: nothing of biometric/sensitive at any confidence");
        } else {
            for n in near.iter().take(6) {
                println!("       actual: {n}");
            }
        }
        for l in t.lo..=t.hi.min(t.lo + 3) {
            println!("       | {}", snippet(&t.path, l));
        }
    }

    // Verdict.
    let mut failures: Vec<String> = Vec::new();
    // SPEC §4/§5: a rule's category is its id's family.
    for f in &scan.findings {
        let family = f.rule.split('.').next().unwrap_or_default();
        if family != f.category {
            failures.push(format!("{}:{} {} has category {}", f.path, f.line, f.rule, f.category));
        }
    }
    for (c, (neg, ..)) in &classes {
        if !neg {
            continue;
        }
        let n = per_class_fp.get(c).copied().unwrap_or(0);
        if n > 0 {
            failures.push(format!("MUST-NOT class {c}: {n} findings at medium or above"));
        }
    }
    for ((class, rule), (found, n)) in &per_class_found {
        if *found == 0 {
            failures.push(format!(
                "MUST-FIND class {class}: {rule} never found at medium+ (0 / {n})"
            ));
        }
    }
    // A header row names columns, not a person: it is never a finding (an empty template with
    // the columns 氏名 and 病名 holds no one's medical history).
    let headers: Vec<&Finding> = medium
        .values()
        .copied()
        .filter(|f| f.line == 1 && f.path.ends_with(".csv"))
        .collect();
    if !headers.is_empty() {
        let files: BTreeSet<&str> = headers.iter().map(|f| f.path.as_str()).collect();
        failures.push(format!(
            "CSV header rows reported at medium or above: {} findings in {} files (e.g. {}:1 {})",
            headers.len(),
            files.len(),
            headers[0].path,
            headers[0].describe()
        ));
    }
    let unknown: BTreeSet<&str> = fps
        .iter()
        .filter(|(c, _)| *c == "<not generated>")
        .map(|(_, f)| f.path.as_str())
        .collect();
    assert!(unknown.is_empty(), "findings in files not generated: {unknown:?}");
    for cat in ["biometric", "sensitive"] {
        let c = per_cat.get(cat).copied().unwrap_or_default();
        if c.precision() < THRESHOLD {
            failures.push(format!("{cat} precision {:.3} < {THRESHOLD}", c.precision()));
        }
        if c.recall() < THRESHOLD {
            failures.push(format!("{cat} recall {:.3} < {THRESHOLD}", c.recall()));
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}
