//! Risk measures from a class-size histogram, with ARX semantics (reident.md §2): prosecutor and
//! marketer risk, sample uniqueness, and population uniqueness (Pitman, Zayatz, SNB and Dankar's
//! decision rule).

use super::count::SizeHist;
use libm::lgamma;

#[derive(Debug, Clone)]
pub struct Metrics {
    pub records: u64,
    pub classes: u64,
    pub k: u64,
    pub sample_uniques: u64,
    pub sample_unique_fraction: f64,
    pub highest: f64,
    pub average: f64,
    pub records_at_risk: f64,
    pub classes_at_risk: u64,
    pub largest_class: u64,
}

pub fn metrics(h: &SizeHist, threshold: f64) -> Metrics {
    let records: u64 = h.iter().map(|(s, c)| s * c).sum();
    let classes: u64 = h.values().sum();
    let k = h.keys().next().copied().unwrap_or(0);
    let sample_uniques = h.get(&1).copied().unwrap_or(0);
    let at_risk: u64 = h
        .iter()
        .filter(|&(&s, _)| 1.0 / s as f64 > threshold)
        .map(|(s, c)| s * c)
        .sum();
    let classes_at_risk: u64 = h
        .iter()
        .filter(|&(&s, _)| 1.0 / s as f64 > threshold)
        .map(|(_, c)| c)
        .sum();
    let frac = |x: u64| if records == 0 { 0.0 } else { x as f64 / records as f64 };
    Metrics {
        records,
        classes,
        k,
        sample_uniques,
        sample_unique_fraction: frac(sample_uniques),
        highest: if k == 0 { 0.0 } else { 1.0 / k as f64 },
        average: frac(classes),
        records_at_risk: frac(at_risk),
        classes_at_risk,
        largest_class: h.keys().next_back().copied().unwrap_or(0),
    }
}

/// One bucket of the class-size histogram: exact sizes 1–10, then 11–20, 21–50, 51–100,
/// 101–1000 and 1001 up to the largest class.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub size_from: u64,
    pub size_to: u64,
    pub classes: u64,
    pub records: u64,
}

pub fn buckets(h: &SizeHist) -> Vec<Bucket> {
    let largest = h.keys().next_back().copied().unwrap_or(0);
    let mut edges: Vec<(u64, u64)> = (1..=10).map(|s| (s, s)).collect();
    edges.extend([(11, 20), (21, 50), (51, 100), (101, 1000), (1001, largest.max(1001))]);
    let mut out = Vec::new();
    for (lo, hi) in edges {
        let (mut classes, mut records) = (0, 0);
        for (&s, &c) in h.range(lo..=hi) {
            classes += c;
            records += s * c;
        }
        if classes > 0 {
            out.push(Bucket {
                size_from: lo,
                size_to: hi,
                classes,
                records,
            });
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
pub struct PopulationEstimate {
    pub model: &'static str,
    pub uniques: f64,
    pub fraction: f64,
}

/// Dankar et al. (2012): no uniques → 0; sampling fraction ≤ 0.1 → Pitman (Zayatz if Pitman has
/// no valid estimate); else the smaller of Zayatz and SNB (Zayatz when SNB has none).
pub fn population(h: &SizeHist, population: f64) -> Option<PopulationEstimate> {
    let m = metrics(h, 1.0);
    let n = m.records as f64;
    if m.records == 0 || population < n {
        return None;
    }
    let f = n / population;
    let est = |model: &'static str, u: f64| PopulationEstimate {
        model,
        uniques: u,
        fraction: u / population,
    };
    if m.sample_uniques == 0 {
        return Some(est(if f <= 0.1 { "pitman" } else { "zayatz" }, 0.0));
    }
    let zayatz = zayatz(h, population);
    if f <= 0.1 {
        if let Some(p) = pitman(h, population).filter(|&p| p != 0.0) {
            return Some(est("pitman", p));
        }
        return zayatz.map(|z| est("zayatz", z));
    }
    match (zayatz, snb(h, population)) {
        (Some(z), Some(s)) if s < z => Some(est("snb", s)),
        (Some(z), _) => Some(est("zayatz", z)),
        (None, Some(s)) => Some(est("snb", s)),
        (None, None) => None,
    }
}

/// Zayatz (1991), with the sample class sizes as the hypergeometric successes (as ARX does).
/// Only the ratios P₁(s)/P₁(1) = s·Π_{j=1}^{s−1} (N−n+1−j)/(N−j) are needed, computed as finite
/// products (P₁(s) = P[X = 1], X ~ Hypergeometric(N, s, n)).
pub fn zayatz(h: &SizeHist, big_n: f64) -> Option<f64> {
    let m = metrics(h, 1.0);
    let (n, classes, c1) = (m.records as f64, m.classes as f64, m.sample_uniques as f64);
    if c1 == 0.0 {
        return Some(0.0);
    }
    let mut den = 0.0;
    for (&s, &c) in h {
        let mut r = s as f64;
        for j in 1..s {
            let num = big_n - n + 1.0 - j as f64;
            if num <= 0.0 {
                r = 0.0;
                break;
            }
            r *= num / (big_n - j as f64);
        }
        den += c as f64 / classes * r;
    }
    if den <= 0.0 {
        return None;
    }
    let u = c1 * ((c1 / classes) / den) / (n / big_n);
    (u.is_finite() && u >= 0.0).then_some(u)
}

/// Sums over i = 1..count-1 of g(i), directly (exact) for the sizes seen in tables.
fn sum_to(count: u64, mut g: impl FnMut(f64) -> f64) -> f64 {
    let mut s = 0.0;
    let mut i = 1u64;
    while i < count {
        s += g(i as f64);
        i += 1;
    }
    s
}

fn digamma(mut x: f64) -> f64 {
    let mut r = 0.0;
    while x < 20.0 {
        r -= 1.0 / x;
        x += 1.0;
    }
    let f = 1.0 / (x * x);
    r + x.ln() - 0.5 / x - f * (1.0 / 12.0 - f * (1.0 / 120.0 - f * (1.0 / 252.0 - f * (1.0 / 240.0 - f / 132.0))))
}

fn trigamma(mut x: f64) -> f64 {
    let mut r = 0.0;
    while x < 20.0 {
        r += 1.0 / (x * x);
        x += 1.0;
    }
    let f = 1.0 / (x * x);
    r + 1.0 / x + f / 2.0 + f / x * (1.0 / 6.0 - f * (1.0 / 30.0 - f * (1.0 / 42.0 - f / 30.0)))
}

/// Pitman (Hoshino 2001): maximum-likelihood (θ, α) of the Pitman sampling formula by a damped
/// Newton that keeps θ ≥ 0, α < 1, θ + α > 0 and θ + (|J|−1)α > 0; population uniques
/// Γ(θ+1)/Γ(θ+α)·N^α, valid in [0, N].
pub fn pitman(h: &SizeHist, big_n: f64) -> Option<f64> {
    let m = metrics(h, 1.0);
    let (n, j, c1) = (m.records, m.classes, m.sample_uniques as f64);
    if n < 2 || j < 2 {
        return None;
    }
    let (nf, jf) = (n as f64, j as f64);
    let c2 = match h.get(&2).copied().unwrap_or(0) {
        0 => 1.0,
        c => c as f64,
    };
    let c = c1 * (c1 - 1.0) / c2;
    let den = 2.0 * c1 * jf + c1 * c - nf * c;
    if den == 0.0 {
        return None;
    }
    let mut theta = (nf * jf * c - c1 * (nf - 1.0) * (2.0 * jf + c)) / den;
    let mut alpha = (theta * (c1 - nf) + (nf - 1.0) * c1) / (nf * jf);
    let sizes: Vec<(f64, f64)> = h
        .iter()
        .filter(|&(&s, _)| s >= 2)
        .map(|(&s, &c)| (s as f64, c as f64))
        .collect();
    // Σ_{i=1}^{n-1} 1/(θ+i) and Σ 1/(θ+i)², by digamma/trigamma for long sums.
    let n_sums = |theta: f64| {
        if n <= 1_000_000 {
            (
                sum_to(n, |i| 1.0 / (theta + i)),
                sum_to(n, |i| 1.0 / ((theta + i) * (theta + i))),
            )
        } else {
            (
                digamma(theta + nf) - digamma(theta + 1.0),
                trigamma(theta + 1.0) - trigamma(theta + nf),
            )
        }
    };
    let eval = |theta: f64, alpha: f64| {
        let (mut a1, mut a2, mut b1, mut b2, mut b3) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let mut i = 1u64;
        if j > 2_000_000 && alpha > 1e-3 {
            // Closed forms through ψ and ψ′ (x = θ/α): Σ 1/(θ+iα) = (ψ(x+J) − ψ(x+1))/α, etc.
            let x = theta / alpha;
            a1 = (digamma(x + jf) - digamma(x + 1.0)) / alpha;
            b1 = (trigamma(x + 1.0) - trigamma(x + jf)) / (alpha * alpha);
            a2 = ((jf - 1.0) - theta * a1) / alpha;
            b2 = (a1 - theta * b1) / alpha;
            b3 = ((jf - 1.0) - 2.0 * theta * a1 + theta * theta * b1) / (alpha * alpha);
            i = j;
        }
        while i < j {
            let fi = i as f64;
            let d = 1.0 / (theta + fi * alpha);
            a1 += d;
            a2 += fi * d;
            b1 += d * d;
            b2 += fi * d * d;
            b3 += fi * fi * d * d;
            i += 1;
        }
        let (s1, s2) = n_sums(theta);
        let (mut l1, mut l2) = (0.0, 0.0);
        for &(s, cs) in &sizes {
            let (mut x1, mut x2) = (0.0, 0.0);
            let mut l = 1.0;
            while l < s {
                x1 += 1.0 / (l - alpha);
                x2 += 1.0 / ((l - alpha) * (l - alpha));
                l += 1.0;
            }
            l1 += cs * x1;
            l2 += cs * x2;
        }
        let f = [a1 - s1, a2 - l1];
        let jac = [[s2 - b1, -b2], [-b2, -b3 - l2]];
        (f, jac)
    };
    let ok = |t: f64, a: f64| t >= 0.0 && a < 1.0 && t + a > 0.0 && t + (jf - 1.0) * a > 0.0;
    if !theta.is_finite() || !alpha.is_finite() {
        return None;
    }
    if !ok(theta, alpha) {
        return None;
    }
    let mut converged = false;
    for _ in 0..500 {
        let (f, jac) = eval(theta, alpha);
        let det = jac[0][0] * jac[1][1] - jac[0][1] * jac[1][0];
        if det == 0.0 || !det.is_finite() {
            break;
        }
        let dt = (f[0] * jac[1][1] - f[1] * jac[0][1]) / det;
        let da = (jac[0][0] * f[1] - jac[1][0] * f[0]) / det;
        let mut step = 1.0;
        while step > 1e-30 && !ok(theta - step * dt, alpha - step * da) {
            step /= 2.0;
        }
        let (nt, na) = (theta - step * dt, alpha - step * da);
        if !ok(nt, na) {
            break;
        }
        let still = (nt - theta).abs() <= 1e-15 * theta.abs().max(1.0) && (na - alpha).abs() <= 1e-15;
        theta = nt;
        alpha = na;
        if still {
            converged = true;
            break;
        }
    }
    if !converged {
        let (f, _) = eval(theta, alpha);
        converged = f[0].abs() < 1e-9 && f[1].abs() < 1e-9;
    }
    if !converged || alpha == 0.0 {
        return None;
    }
    let u = (lgamma(theta + 1.0) - lgamma(theta + alpha) + alpha * big_n.ln()).exp();
    (u.is_finite() && (0.0..=big_n).contains(&u)).then_some(u)
}

/// SNB (Chen & Keller-McNulty 1998), as ARX states it: the number of non-empty population classes
/// by Haas/Shlosser, then (α, β) of a negative binomial from the two moment equations (Newton with
/// a numerical Jacobian); population uniques K̂·β^α. None when no valid solution is found.
pub fn snb(h: &SizeHist, big_n: f64) -> Option<f64> {
    let m = metrics(h, 1.0);
    let (n, classes, c1) = (m.records as f64, m.classes as f64, m.sample_uniques as f64);
    let c2 = h.get(&2).copied().unwrap_or(0) as f64;
    let f = n / big_n;
    let (mut v1, mut v2, mut v3, mut v4) = (0.0, 0.0, 0.0, 0.0);
    let f2 = f * f;
    for (&s, &c) in h {
        let (s, c) = (s as f64, c as f64);
        let p = (1.0 - f).powf(s) * c;
        v1 += s * f2 * (1.0 - f2).powf(s - 1.0) * c;
        v2 += p * (1.0 + f).powf(s) - 1.0;
        v3 += p;
        v4 += s * f * (1.0 - f).powf(s - 1.0) * c;
    }
    let k = classes + c1 * (v1 / v2) * (v3 / v4) * (v3 / v4);
    if !k.is_finite() || k <= 0.0 {
        return None;
    }
    let eqs = |a: f64, b: f64| {
        let d = (1.0 - f) * (1.0 - b);
        [
            k * f * (b / (1.0 - d)).powf(a) * (a * d / (1.0 - d) + 1.0) - c1,
            k * a * b.powf(a) * f2 * (1.0 - b) / 2.0 * (1.0 - d).powf(a + 2.0) * (2.0 - (1.0 - a) * d) - c2,
        ]
    };
    // Newton with a numerical Jacobian from α = 1, β = 0.5.
    let (mut a, mut b) = (1.0f64, 0.5f64);
    for _ in 0..200 {
        let e = eqs(a, b);
        let (ha, hb) = (1e-7 * a.abs().max(1.0), 1e-7 * b.abs().max(1.0));
        let ea = eqs(a + ha, b);
        let eb = eqs(a, b + hb);
        let (j11, j21) = ((ea[0] - e[0]) / ha, (ea[1] - e[1]) / ha);
        let (j12, j22) = ((eb[0] - e[0]) / hb, (eb[1] - e[1]) / hb);
        let det = j11 * j22 - j12 * j21;
        if det == 0.0 || !det.is_finite() {
            break;
        }
        let da = (e[0] * j22 - j12 * e[1]) / det;
        let db = (j11 * e[1] - j21 * e[0]) / det;
        a -= da;
        b -= db;
        if !a.is_finite() || !b.is_finite() || b <= 0.0 {
            return None;
        }
        if da.abs() < 1e-13 * a.abs().max(1.0) && db.abs() < 1e-13 * b.abs().max(1.0) {
            break;
        }
    }
    let e = eqs(a, b);
    if !(e[0].abs() <= 1e-6 * c1.max(1.0) && e[1].abs() <= 1e-6 * c2.max(1.0)) {
        return None;
    }
    let u = k * b.powf(a);
    (u.is_finite() && u > 0.0 && u <= big_n).then_some(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(pairs: &[(u64, u64)]) -> SizeHist {
        pairs.iter().copied().collect()
    }

    #[test]
    fn spec_example() {
        // SPEC §8: 12 records in classes of sizes 1, 1, 2, 3, 5.
        let h = hist(&[(1, 2), (2, 1), (3, 1), (5, 1)]);
        let m = metrics(&h, 0.2);
        assert_eq!((m.records, m.classes, m.k, m.sample_uniques), (12, 5, 1, 2));
        assert!((m.sample_unique_fraction - 2.0 / 12.0).abs() < 1e-12);
        assert!((m.average - 5.0 / 12.0).abs() < 1e-12);
        assert!((m.records_at_risk - 7.0 / 12.0).abs() < 1e-12);
        assert_eq!(m.highest, 1.0);
        let b = buckets(&h);
        assert_eq!(
            b[0],
            Bucket {
                size_from: 1,
                size_to: 1,
                classes: 2,
                records: 2
            }
        );
        assert_eq!(b.len(), 4);
        // Strict threshold: size 3 is not at risk at t = 1/3.
        let m = metrics(&hist(&[(3, 4)]), 1.0 / 3.0);
        assert_eq!(m.records_at_risk, 0.0);
    }

    #[test]
    fn population_estimates_behave() {
        // A skewed histogram like a census extract.
        let h = hist(&[
            (1, 3000),
            (2, 900),
            (3, 400),
            (4, 200),
            (5, 120),
            (8, 60),
            (20, 30),
            (100, 5),
        ]);
        let p = pitman(&h, 1e8).expect("pitman estimate");
        assert!(p > 0.0 && p < 1e8);
        let z = zayatz(&h, 1e8).expect("zayatz estimate");
        assert!(z > 0.0);
        let d = population(&h, 1e8).unwrap();
        assert_eq!(d.model, "pitman");
        let n: u64 = h.iter().map(|(s, c)| s * c).sum();
        let d = population(&h, n as f64 * 5.0).unwrap();
        assert!(d.model == "zayatz" || d.model == "snb");
        assert_eq!(population(&hist(&[(2, 10)]), 1e6).unwrap().uniques, 0.0);
        assert!(population(&h, 10.0).is_none());
    }

    #[test]
    fn digamma_and_trigamma() {
        // ψ(1) = −γ, ψ′(1) = π²/6; ψ(x+1) = ψ(x) + 1/x.
        assert!((digamma(1.0) + 0.577_215_664_901_532_9).abs() < 1e-13);
        assert!((trigamma(1.0) - std::f64::consts::PI.powi(2) / 6.0).abs() < 1e-13);
        assert!((digamma(1e6 + 1.0) - digamma(1e6) - 1e-6).abs() < 1e-13);
        let direct: f64 = (1..1000).map(|i| 1.0 / (2.5 + i as f64 * 0.7)).sum();
        let x = 2.5 / 0.7;
        assert!(((digamma(x + 1000.0) - digamma(x + 1.0)) / 0.7 - direct).abs() < 1e-12);
    }
}
