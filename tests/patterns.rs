//! Runs every rule's positive and negative examples from `patterns/` through the same check as
//! `appiscan rules --check`.

use appiscan::patterns::RuleSet;

#[test]
fn every_rule_has_examples_and_they_hold() {
    let set = RuleSet::builtin();
    let rep = appiscan::custom::check_examples(set);
    assert!(rep.examples > set.rules.len(), "only {} examples", rep.examples);
    assert!(rep.warnings.is_empty(), "{:?}", rep.warnings);
    assert!(
        rep.failures.is_empty(),
        "{} example(s) failed:\n{}",
        rep.failures.len(),
        rep.failures.join("\n")
    );
    let mut out = Vec::new();
    assert!(appiscan::custom::check(set, &mut out).expect("write to a vector"));
    let out = String::from_utf8(out).expect("utf-8");
    assert!(out.starts_with("ok:") && out.lines().count() == 1, "{out}");
}
