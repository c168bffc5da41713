//! Assessments as SPEC §8 JSON, as text a privacy officer reads (Japanese and English labels),
//! and as a simple HTML page. No raw quasi-identifier value is ever printed: the counts hold none.

use super::count::Counted;
use super::metrics::{self, Metrics, PopulationEstimate};
use super::vocab::Vocab;
use serde_json::{Value, json};
use std::fmt::Write as _;

#[derive(Debug, Clone)]
pub struct QiOut {
    pub source: String,
    pub column: String,
    pub semantic_type: String,
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ColumnRef {
    pub source: String,
    pub column: String,
    pub semantic_type: String,
}

/// One table's figures before a join, for the uplift.
#[derive(Debug, Clone)]
pub struct Before {
    pub source: String,
    pub metrics: Metrics,
}

#[derive(Debug, Clone)]
pub struct Assessment {
    pub kind: &'static str,
    pub sources: Vec<String>,
    pub join_keys: Vec<[String; 2]>,
    pub join_info: Option<Value>,
    pub qis: Vec<QiOut>,
    pub sensitive: Vec<String>,
    pub direct: Vec<ColumnRef>,
    pub keys: Vec<ColumnRef>,
    /// Column labels of each scope (scope 0 = all quasi-identifiers).
    pub scope_labels: Vec<Vec<String>>,
    pub counted: Counted,
    pub threshold: f64,
    pub population: Option<f64>,
    pub before: Vec<Before>,
    pub extra_scope: Option<Value>,
}

pub struct Derived {
    pub m: Metrics,
    pub pop: Option<PopulationEstimate>,
    pub severity: &'static str,
    pub reasons_en: Vec<String>,
    pub reasons_ja: Vec<String>,
    pub riskiest: Vec<(Vec<String>, Metrics)>,
    pub uplift: Option<(f64, f64)>,
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

impl Assessment {
    pub fn derive(&self) -> Derived {
        let sev = &Vocab::get().severity;
        let m = metrics::metrics(&self.counted.hists[0], self.threshold);
        let pop = self
            .population
            .and_then(|n| metrics::population(&self.counted.hists[0], n));
        let mut riskiest: Vec<(Vec<String>, Metrics)> = self
            .scope_labels
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, l)| (l.clone(), metrics::metrics(&self.counted.hists[i], self.threshold)))
            .collect();
        riskiest.sort_by(|a, b| {
            b.1.records_at_risk
                .total_cmp(&a.1.records_at_risk)
                .then(b.1.sample_unique_fraction.total_cmp(&a.1.sample_unique_fraction))
                .then(a.0.len().cmp(&b.0.len()))
        });
        riskiest.truncate(5);
        let uplift = (!self.before.is_empty()).then(|| {
            let u = self
                .before
                .iter()
                .map(|b| b.metrics.sample_unique_fraction)
                .fold(0.0, f64::max);
            let r = self
                .before
                .iter()
                .map(|b| b.metrics.records_at_risk)
                .fold(0.0, f64::max);
            (m.sample_unique_fraction - u, m.records_at_risk - r)
        });
        let (mut en, mut ja) = (Vec::new(), Vec::new());
        let mut level = 0;
        if !self.direct.is_empty() {
            level = 2;
            let cols: Vec<&str> = self.direct.iter().map(|d| d.column.as_str()).collect();
            en.push(format!("direct identifiers present ({})", cols.join(", ")));
            ja.push(format!("直接識別子あり（{}）", cols.join("、")));
        }
        if m.records_at_risk > sev.high_records_at_risk {
            level = 2;
            en.push(format!(
                "{} of records have a risk above {} (more than {})",
                pct(m.records_at_risk),
                self.threshold,
                pct(sev.high_records_at_risk)
            ));
            ja.push(format!(
                "リスクが閾値{}を超えるレコードが{}（{}超）",
                self.threshold,
                pct(m.records_at_risk),
                pct(sev.high_records_at_risk)
            ));
        }
        if let Some((du, _)) = uplift
            && du >= sev.high_join_unique_increase
        {
            level = 2;
            en.push(format!("the join raises the sample-unique fraction by {}", pct(du)));
            ja.push(format!("結合により標本一意の割合が{}増加", pct(du)));
        }
        if level < 2 && m.records_at_risk > 0.0 {
            level = 1;
            en.push(format!(
                "{} of records are in classes smaller than the threshold allows (k = {})",
                pct(m.records_at_risk),
                m.k
            ));
            ja.push(format!(
                "閾値未満の小さい同値クラスのレコードが{}（k = {}）",
                pct(m.records_at_risk),
                m.k
            ));
        }
        if level < 2 && m.average > sev.medium_average_risk {
            level = level.max(1);
            en.push(format!(
                "average risk {:.6} above {}",
                m.average, sev.medium_average_risk
            ));
            ja.push(format!(
                "平均リスク{:.6}が{}を超える",
                m.average, sev.medium_average_risk
            ));
        }
        if en.is_empty() {
            if self.qis.is_empty() {
                en.push("no quasi-identifiers found".into());
                ja.push("準識別子なし".into());
            } else {
                en.push(format!(
                    "every record is in a class of {} or more (risk ≤ {})",
                    m.k, self.threshold
                ));
                ja.push(format!(
                    "全レコードが{}件以上の同値クラスに属する（リスク ≤ {}）",
                    m.k, self.threshold
                ));
            }
        }
        Derived {
            m,
            pop,
            severity: ["low", "medium", "high"][level],
            reasons_en: en,
            reasons_ja: ja,
            riskiest,
            uplift,
        }
    }

    pub fn to_json(&self) -> Value {
        let d = self.derive();
        let m = &d.m;
        let hist: Vec<Value> = metrics::buckets(&self.counted.hists[0])
            .iter()
            .map(
                |b| json!({"size_from": b.size_from, "size_to": b.size_to, "classes": b.classes, "records": b.records}),
            )
            .collect();
        let mut ldiv = serde_json::Map::new();
        for (i, name) in self.sensitive.iter().enumerate() {
            let v = match self.counted.ldiv.get(i).copied().flatten() {
                Some(l) => json!({"distinct_l": l.distinct_l, "entropy_l": l.entropy_l}),
                None => json!({"distinct_l": 0, "entropy_l": 0.0}),
            };
            ldiv.insert(name.clone(), v);
        }
        let pop = match &d.pop {
            Some(p) => json!({"model": p.model, "uniques": p.uniques, "fraction": p.fraction}),
            None => Value::Null,
        };
        let mut scope = json!({"kind": self.kind, "sources": self.sources});
        if !self.join_keys.is_empty() {
            scope["join_keys"] = json!(self.join_keys);
        }
        if let Some(j) = &self.join_info {
            scope["join"] = j.clone();
        }
        if let Some(Value::Object(extra)) = &self.extra_scope {
            for (k, v) in extra {
                scope[k] = v.clone();
            }
        }
        let cref = |c: &ColumnRef| json!({"source": c.source, "column": c.column, "semantic_type": c.semantic_type});
        let riskiest: Vec<Value> = d
            .riskiest
            .iter()
            .map(|(cols, sm)| {
                json!({"columns": cols, "k": sm.k, "equivalence_classes": sm.classes,
                       "sample_uniques": sm.sample_uniques, "sample_unique_fraction": sm.sample_unique_fraction,
                       "records_at_risk": sm.records_at_risk})
            })
            .collect();
        let mut out = json!({
            "scope": scope,
            "quasi_identifiers": self.qis.iter().map(|q| json!({"source": q.source, "column": q.column,
                "semantic_type": q.semantic_type, "evidence": q.evidence})).collect::<Vec<_>>(),
            "sensitive_attributes": self.sensitive,
            "counts": {"records": m.records, "equivalence_classes": m.classes},
            "k_anonymity": {"k": m.k},
            "uniqueness": {"sample_uniques": m.sample_uniques, "sample_unique_fraction": m.sample_unique_fraction,
                           "population_estimate": pop},
            "prosecutor": {"highest": m.highest, "average": m.average, "records_at_risk": m.records_at_risk,
                           "threshold": self.threshold},
            "marketer": {"average": m.average},
            "class_size_histogram": hist,
            "l_diversity": ldiv,
            "severity": d.severity,
            "severity_reason": d.reasons_en.join("; "),
            "severity_reason_ja": d.reasons_ja.join("；"),
            "direct_identifiers": self.direct.iter().map(cref).collect::<Vec<_>>(),
            "join_keys": self.keys.iter().map(cref).collect::<Vec<_>>(),
            "riskiest_subsets": riskiest,
        });
        if let Some(n) = self.population {
            out["uniqueness"]["population_size"] = json!(n);
        }
        if let Some((du, dr)) = d.uplift {
            let tables: Vec<Value> = self
                .before
                .iter()
                .map(|b| {
                    json!({"source": b.source, "records": b.metrics.records, "k": b.metrics.k,
                           "sample_unique_fraction": b.metrics.sample_unique_fraction,
                           "records_at_risk": b.metrics.records_at_risk})
                })
                .collect();
            out["join_uplift"] = json!({
                "tables": tables,
                "joined": {"records": m.records, "k": m.k, "sample_unique_fraction": m.sample_unique_fraction,
                           "records_at_risk": m.records_at_risk},
                "sample_unique_fraction_increase": du,
                "records_at_risk_increase": dr,
            });
        }
        out
    }

    pub fn to_text(&self, out: &mut String) {
        let d = self.derive();
        let m = &d.m;
        let title = if self.kind == "join" {
            format!("結合 / join: {}", self.sources.join(" ⋈ "))
        } else {
            format!("表 / table: {}", self.sources.join(", "))
        };
        let _ = writeln!(out, "== 再識別リスク評価 / Re-identification risk — {title} ==");
        if !self.join_keys.is_empty() {
            let keys: Vec<String> = self.join_keys.iter().map(|k| format!("{} = {}", k[0], k[1])).collect();
            let _ = writeln!(out, "結合キー / Join keys: {}", keys.join(", "));
        }
        let _ = writeln!(
            out,
            "深刻度 / Severity: {} — {}",
            d.severity.to_uppercase(),
            d.reasons_en.join("; ")
        );
        let _ = writeln!(out, "  （{}）", d.reasons_ja.join("；"));
        let qis: Vec<String> = self
            .qis
            .iter()
            .map(|q| {
                let col = if self.kind == "join" {
                    format!("{}:{}", q.source, q.column)
                } else {
                    q.column.clone()
                };
                format!("{col} [{}; {}]", q.semantic_type, q.evidence.join(","))
            })
            .collect();
        let none = "（なし / none）".to_string();
        let list = |v: Vec<String>| if v.is_empty() { none.clone() } else { v.join(", ") };
        let _ = writeln!(out, "準識別子 / Quasi-identifiers: {}", list(qis));
        let direct: Vec<String> = self
            .direct
            .iter()
            .map(|c| format!("{} [{}]", c.column, c.semantic_type))
            .collect();
        if !direct.is_empty() {
            let _ = writeln!(
                out,
                "直接識別子 / Direct identifiers (never used as quasi-identifiers; delete or replace before release): {}",
                direct.join(", ")
            );
        }
        let keys: Vec<String> = self.keys.iter().map(|c| c.column.clone()).collect();
        if !keys.is_empty() {
            let _ = writeln!(
                out,
                "連結符号 / Linking codes (join keys; 施行規則34条3号): {}",
                keys.join(", ")
            );
        }
        if !self.sensitive.is_empty() {
            let _ = writeln!(
                out,
                "要配慮・機微属性 / Sensitive attributes: {}",
                self.sensitive.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "レコード数 / Records: {}    同値クラス数 / Equivalence classes: {}",
            m.records, m.classes
        );
        let _ = writeln!(out, "k-匿名性 / k-anonymity: k = {}", m.k);
        let _ = writeln!(
            out,
            "標本一意 / Sample uniques: {} ({})",
            m.sample_uniques,
            pct(m.sample_unique_fraction)
        );
        let _ = writeln!(
            out,
            "検察官リスク / Prosecutor risk: highest {:.6}, average {:.6}, records at risk (risk > {}): {}",
            m.highest,
            m.average,
            self.threshold,
            pct(m.records_at_risk)
        );
        let _ = writeln!(out, "マーケターリスク / Marketer risk: {:.6}", m.average);
        if let Some(n) = self.population {
            match &d.pop {
                Some(p) => {
                    let _ = writeln!(
                        out,
                        "母集団一意 / Population uniques (N = {n}, model {}): {:.1} ({:.6}%)",
                        p.model,
                        p.uniques,
                        p.fraction * 100.0
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "母集団一意 / Population uniques (N = {n}): no valid estimate / 推定不能"
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "クラスサイズ分布 / Class sizes (values of small classes are never shown):"
        );
        for b in metrics::buckets(&self.counted.hists[0]) {
            let size = if b.size_from == b.size_to {
                format!("{}", b.size_from)
            } else {
                format!("{}–{}", b.size_from, b.size_to)
            };
            let _ = writeln!(out, "  size {size:<12} classes {:<10} records {}", b.classes, b.records);
        }
        for (i, name) in self.sensitive.iter().enumerate() {
            if let Some(l) = self.counted.ldiv.get(i).copied().flatten() {
                let _ = writeln!(
                    out,
                    "l-多様性 / l-diversity of {name}: distinct-l {}, entropy-l {:.4}",
                    l.distinct_l, l.entropy_l
                );
            }
        }
        if !d.riskiest.is_empty() {
            let _ = writeln!(
                out,
                "リスクの高い列の組 / Riskiest column subsets (generalise these first):"
            );
            for (cols, sm) in &d.riskiest {
                let _ = writeln!(
                    out,
                    "  {{{}}}: k = {}, uniques {} ({}), records at risk {}",
                    cols.join(", "),
                    sm.k,
                    sm.sample_uniques,
                    pct(sm.sample_unique_fraction),
                    pct(sm.records_at_risk)
                );
            }
        }
        if let Some((du, dr)) = d.uplift {
            let _ = writeln!(out, "結合による増加 / Uplift of the join over each table alone:");
            for b in &self.before {
                let _ = writeln!(
                    out,
                    "  {}: k = {}, uniques {}, records at risk {}",
                    b.source,
                    b.metrics.k,
                    pct(b.metrics.sample_unique_fraction),
                    pct(b.metrics.records_at_risk)
                );
            }
            let _ = writeln!(
                out,
                "  joined: k = {}, uniques {} (+{}), records at risk {} (+{})",
                m.k,
                pct(m.sample_unique_fraction),
                pct(du),
                pct(m.records_at_risk),
                pct(dr)
            );
        }
        let _ = writeln!(
            out,
            "注 / Note: 個人情報保護法は k の数値基準を定めていない。閾値は組織の方針（既定 t = 0.2, k = 5: ARX の既定）。\n  APPI sets no numeric k; the threshold is organisational policy (default t = 0.2, i.e. k = 5, as ARX)."
        );
        out.push('\n');
    }
}

pub fn html(text: &str) -> String {
    let esc = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\"><title>appiscan risk</title>\n<style>body{{font-family:sans-serif;margin:2em}}pre{{white-space:pre-wrap}}</style></head>\n<body><h1>再識別リスク評価 / Re-identification risk</h1>\n<pre>{esc}</pre>\n</body></html>\n"
    )
}
