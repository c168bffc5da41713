//! Runs every rule's positive and negative examples from `patterns/`.

use appiscan::detect::detect_text;
use appiscan::patterns::{Confidence, RuleSet};

#[test]
fn every_rule_has_examples_and_they_hold() {
    let set = RuleSet::builtin();
    let mut failures = Vec::new();
    for (ri, rule) in set.rules.iter().enumerate() {
        assert!(!rule.positive.is_empty(), "{} has no positive example", rule.id);
        assert!(!rule.negative.is_empty(), "{} has no negative example", rule.id);
        for ex in &rule.positive {
            let got: Vec<_> = detect_text(set, &ex.text)
                .into_iter()
                .filter(|d| d.rule == ri)
                .collect();
            if got.len() != 1 || got[0].confidence != ex.confidence {
                failures.push(format!(
                    "{} positive {:?}: expected one at {:?}, got {:?}",
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
            for d in detect_text(set, &ex.text).into_iter().filter(|d| d.rule == ri) {
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
