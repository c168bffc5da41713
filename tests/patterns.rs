//! Runs every rule's positive and negative examples from `patterns/`.

use appiscan::detect::{Detection, detect_named};
use appiscan::patterns::{Confidence, RuleSet};

fn run(set: &RuleSet, text: &str, file: &Option<String>) -> Vec<Detection> {
    detect_named(set, file.as_deref().unwrap_or("example.txt"), text)
}

#[test]
fn every_rule_has_examples_and_they_hold() {
    let set = RuleSet::builtin();
    let mut failures = Vec::new();
    for (ri, rule) in set.rules.iter().enumerate() {
        if rule.positive.is_empty() || rule.negative.is_empty() {
            failures.push(format!("{} needs positive and negative examples", rule.id));
        }
        for ex in &rule.positive {
            let got: Vec<_> = run(set, &ex.text, &ex.file)
                .into_iter()
                .filter(|d| d.rule == ri)
                .collect();
            let want = ex.count.unwrap_or(1);
            if got.len() != want || got.iter().any(|d| d.confidence != ex.confidence) {
                failures.push(format!(
                    "{} positive {:?}: expected {want} at {:?}, got {:?}",
                    rule.id,
                    ex.text,
                    ex.confidence,
                    got.iter()
                        .map(|d| (d.confidence, d.evidence.clone()))
                        .collect::<Vec<_>>()
                ));
            }
        }
        for ex in &rule.negative {
            let max = match ex.max.as_str() {
                "none" => None,
                m => Some(Confidence::parse(m).expect("max is none, low or medium")),
            };
            for d in run(set, &ex.text, &ex.file).into_iter().filter(|d| d.rule == ri) {
                if max.is_none_or(|m| d.confidence > m) {
                    failures.push(format!(
                        "{} negative {:?}: got {:?} {:?}",
                        rule.id, ex.text, d.confidence, d.evidence
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} example(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
