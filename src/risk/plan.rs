//! Which columns of a table are quasi-identifiers, direct identifiers, linking codes (join keys)
//! and sensitive attributes: from the header name (patterns/risk.toml), from the values of the
//! first rows, or as `--qi` / `--sensitive` say.

use super::normalize;
use super::read::Row;
use super::vocab::{Norm, Role, Vocab};
use std::collections::HashSet;

#[derive(Debug, Clone)]
pub struct ColumnInfo {
    pub name: String,
    pub semantic: String,
    pub role: Option<Role>,
    pub norm: Norm,
    /// Numeric sex codes (1 男, 2 女) are mapped: the column is named as sex.
    pub sex_codes: bool,
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub source: String,
    pub columns: Vec<ColumnInfo>,
    pub qi: Vec<usize>,
    pub sa: Vec<usize>,
    pub direct: Vec<usize>,
    pub keys: Vec<usize>,
}

/// Detects what each column is.
pub fn detect(header: &[String], sample: &[Row]) -> Vec<ColumnInfo> {
    let v = Vocab::get();
    header
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let values: Vec<&str> = sample
                .iter()
                .filter_map(|r| r.get(i).and_then(|c| c.as_deref()))
                .filter(|s| !s.trim().is_empty())
                .collect();
            let share = |det: &str| {
                if values.is_empty() {
                    0.0
                } else {
                    values.iter().filter(|s| normalize::detect(det, s)).count() as f64 / values.len() as f64
                }
            };
            if let Some(m) = v.match_name(name) {
                let t = &v.column[m.type_index];
                // The name alone: the evidence must not depend on which rows came first, so
                // that parts of a table counted apart report like the whole.
                let evidence = vec!["name".to_string()];
                return ColumnInfo {
                    name: name.clone(),
                    semantic: t.name.clone(),
                    role: Some(t.role),
                    norm: t.normalise,
                    sex_codes: t.normalise == Norm::Sex,
                    evidence,
                };
            }
            if values.len() >= 3 {
                for t in &v.column {
                    let Some(det) = &t.values else { continue };
                    let s = share(det);
                    if s >= v.value_share {
                        return ColumnInfo {
                            name: name.clone(),
                            semantic: t.name.clone(),
                            role: Some(t.role),
                            norm: t.normalise,
                            sex_codes: false,
                            evidence: vec![format!("value:{s:.2}")],
                        };
                    }
                }
                // Every value different, short and without spaces: an identifier of some kind,
                // a join-key candidate.
                let distinct: HashSet<&str> = values.iter().copied().collect();
                let ratio = distinct.len() as f64 / values.len() as f64;
                if values.len() >= 20
                    && ratio >= 0.95
                    && values
                        .iter()
                        .all(|s| s.chars().count() <= 40 && !s.trim().contains(char::is_whitespace))
                {
                    return ColumnInfo {
                        name: name.clone(),
                        semantic: "unique_values".into(),
                        role: Some(Role::Key),
                        norm: Norm::Text,
                        sex_codes: false,
                        evidence: vec![format!("distinct:{ratio:.2}")],
                    };
                }
            }
            ColumnInfo {
                name: name.clone(),
                semantic: "other".into(),
                role: None,
                norm: Norm::Text,
                sex_codes: false,
                evidence: Vec::new(),
            }
        })
        .collect()
}

/// Chooses the columns; `qi` and `sensitive` (names exactly as in the header) override detection.
pub fn plan(source: &str, mut columns: Vec<ColumnInfo>, qi: Option<&[String]>, sensitive: Option<&[String]>) -> Plan {
    let pick = |cols: &[ColumnInfo], names: &[String]| -> Vec<usize> {
        cols.iter()
            .enumerate()
            .filter(|(_, c)| names.contains(&c.name))
            .map(|(i, _)| i)
            .collect()
    };
    let sa: Vec<usize> = match sensitive {
        Some(names) => pick(&columns, names),
        None => (0..columns.len())
            .filter(|&i| columns[i].role == Some(Role::Sensitive))
            .filter(|&i| qi.is_none_or(|q| !q.contains(&columns[i].name)))
            .collect(),
    };
    let qi_idx: Vec<usize> = match qi {
        Some(names) => {
            let idx = pick(&columns, names);
            for &i in &idx {
                let c = &mut columns[i];
                if c.role != Some(Role::Qi) {
                    // A column the user calls a quasi-identifier that detection did not: its
                    // values are compared as normalised text.
                    if c.role.is_some() {
                        c.semantic = "user".into();
                        c.norm = Norm::Text;
                        c.sex_codes = false;
                        c.evidence.clear();
                    } else {
                        c.semantic = "user".into();
                    }
                }
                c.evidence.insert(0, "option".into());
            }
            idx
        }
        None => (0..columns.len())
            .filter(|&i| columns[i].role == Some(Role::Qi) && !sa.contains(&i))
            .collect(),
    };
    if sensitive.is_some() {
        for &i in &sa {
            columns[i].evidence.insert(0, "option".into());
        }
    }
    // One canonical order (by name), whatever the column order of the file or of the options:
    // class hashes depend on it, and parts of one table must line up.
    let mut qi_idx = qi_idx;
    qi_idx.sort_by(|&a, &b| columns[a].name.cmp(&columns[b].name));
    let mut sa = sa;
    sa.sort_by(|&a, &b| columns[a].name.cmp(&columns[b].name));
    let direct = (0..columns.len())
        .filter(|&i| columns[i].role == Some(Role::Direct) && !qi_idx.contains(&i) && !sa.contains(&i))
        .collect();
    let keys = (0..columns.len())
        .filter(|&i| columns[i].role == Some(Role::Key) && !qi_idx.contains(&i) && !sa.contains(&i))
        .collect();
    Plan {
        source: source.to_string(),
        columns,
        qi: qi_idx,
        sa,
        direct,
        keys,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: &[&str]) -> Row {
        v.iter().map(|s| (!s.is_empty()).then(|| s.to_string())).collect()
    }

    #[test]
    fn detects_roles() {
        let header: Vec<String> = ["会員ID", "氏名", "生年月日", "性別", "郵便番号", "病名", "memo", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let sample: Vec<Row> = (0..10)
            .map(|i| {
                let id = format!("C{i:03}");
                let zip = format!("〒100-000{i}");
                row(&[&id, "山田", "1985-01-01", "男", &zip, "風邪", "", "女性"])
            })
            .collect();
        let cols = detect(&header, &sample);
        let p = plan("t.csv", cols, None, None);
        let names = |ix: &[usize]| ix.iter().map(|&i| header[i].clone()).collect::<Vec<_>>();
        assert_eq!(names(&p.qi), ["x", "性別", "生年月日", "郵便番号"]);
        assert_eq!(names(&p.direct), ["氏名"]);
        assert_eq!(names(&p.keys), ["会員ID"]);
        assert_eq!(names(&p.sa), ["病名"]);
        assert_eq!(p.columns[7].semantic, "sex");
        assert_eq!(p.columns[7].evidence, ["value:1.00"]);
        assert!(!p.columns[7].sex_codes);
        assert!(p.columns[3].sex_codes);
        let q = vec!["性別".to_string(), "memo".to_string()];
        let p = plan("t.csv", detect(&header, &sample), Some(&q), None);
        assert_eq!(names(&p.qi), ["memo", "性別"]);
        assert_eq!(p.columns[6].semantic, "user");
    }
}
