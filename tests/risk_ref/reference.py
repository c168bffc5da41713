#!/usr/bin/env python3
"""Independent reference for `appiscan risk` (SPEC §8), standard library only.

Written from /work/shared/reference/reident.md (ARX semantics, §1-§2, §3.4, §9), not from the
engine's code. Reads one table (CSV, TSV or JSONL), or several tables joined 1:1 on a key column,
and prints every metric of one assessment as JSON:

    reference.py --qi A,B --sensitive S [--threshold 0.2] [--population N ...] [--join KEY] TABLE...

Conventions (SPEC §8 and the test brief):
* A missing value (empty CSV/TSV cell, JSON null or missing key) is a value of its own; it is one
  value (null and a missing key are the same) and never equal to any string.
* Values are compared as given (no normalisation): the fixtures only use values that every
  normalisation (NFKC, trim, case folding) leaves distinct.
* Record risk = 1/f_j; "at risk" iff 1/f_j > t (strict, ARX RiskModelSampleSummary).
"""

import argparse
import csv
import json
import math
import sys
from collections import Counter, defaultdict

MISSING = ("\x00missing",)  # a tuple, so it can never equal a str


# ---------------------------------------------------------------------------------------------
# Reading tables


def read_table(path):
    """Rows as dicts column -> value (str or MISSING)."""
    rows = []
    if path.endswith(".jsonl") or path.endswith(".ndjson"):
        with open(path, encoding="utf-8-sig") as fh:
            for line in fh:
                if not line.strip():
                    continue
                obj = json.loads(line)
                row = {}
                for k, v in obj.items():
                    if v is None:
                        row[k] = MISSING
                    elif isinstance(v, bool):
                        row[k] = "true" if v else "false"
                    elif isinstance(v, (int, float, str)):
                        row[k] = str(v)
                    else:
                        row[k] = json.dumps(v, ensure_ascii=False, sort_keys=True)
                rows.append(row)
        return rows
    delim = "\t" if path.endswith(".tsv") else ","
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=delim)
        header = next(reader)
        for rec in reader:
            if not rec:
                continue
            row = {}
            for i, col in enumerate(header):
                v = rec[i] if i < len(rec) else ""
                row[col] = MISSING if v == "" else v
            rows.append(row)
    return rows


def join_tables(tables, key):
    """Inner 1:1 join of several tables on column `key` (rows of the first table drive the order)."""
    joined = tables[0]
    for other in tables[1:]:
        index = {}
        for r in other:
            k = r.get(key, MISSING)
            if k in index:
                raise SystemExit(f"join key {key} not unique")
            index[k] = r
        out = []
        for r in joined:
            k = r.get(key, MISSING)
            if k is MISSING or k not in index:
                continue
            m = dict(index[k])
            m.update(r)
            out.append(m)
        joined = out
    return joined


# ---------------------------------------------------------------------------------------------
# Sample-based metrics (reident.md §1, §2.1-§2.3, §3.4)


def classes_of(rows, qi, sensitive):
    """QI tuple -> (size, {sa: Counter of values})."""
    sizes = Counter()
    sa_counts = defaultdict(lambda: defaultdict(Counter))
    for r in rows:
        key = tuple(r.get(c, MISSING) for c in qi)
        sizes[key] += 1
        for s in sensitive:
            sa_counts[key][s][r.get(s, MISSING)] += 1
    return sizes, sa_counts


def sample_metrics(sizes, sa_counts, sensitive, t):
    n = sum(sizes.values())
    J = len(sizes)
    hist = Counter(sizes.values())  # size -> number of classes
    k = min(sizes.values())
    c1 = hist.get(1, 0)
    at_risk = sum(s * c for s, c in hist.items() if 1.0 / s > t)
    out = {
        "records": n,
        "equivalence_classes": J,
        "k": k,
        "sample_uniques": c1,
        "sample_unique_fraction": c1 / n,
        "prosecutor": {
            "highest": 1.0 / k,
            "average": J / n,
            "records_at_risk": at_risk / n,
            "threshold": t,
        },
        "marketer": {"average": J / n},
        "class_sizes": {str(s): {"classes": c, "records": s * c} for s, c in sorted(hist.items())},
    }
    ldiv = {}
    for s in sensitive:
        distinct = None
        entropy_l = None
        for key in sizes:
            counts = sa_counts[key][s]
            f = sizes[key]
            d = len(counts)
            h = -sum((c / f) * math.log(c / f) for c in counts.values())
            e = math.exp(h)
            distinct = d if distinct is None else min(distinct, d)
            entropy_l = e if entropy_l is None else min(entropy_l, e)
        ldiv[s] = {"distinct_l": distinct, "entropy_l": entropy_l}
    out["l_diversity"] = ldiv
    # Severity defaults, reident.md §9 (for a single table; join deltas are not modelled here):
    # high if records_at_risk > 5 %; medium if k < 1/t (threshold k) or average risk > 5 %; low otherwise.
    rar = at_risk / n
    if rar > 0.05:
        sev = "high"
    elif 1.0 / k > t or J / n > 0.05:
        sev = "medium"
    else:
        sev = "low"
    out["severity"] = sev
    # SPEC §8 does not fix the severity rule; reident.md §9 gives strict ">" at 5 %. A table sitting
    # exactly on a 5 % boundary is flagged so the test does not judge an undocumented tie.
    out["severity_on_boundary"] = rar == 0.05 or J / n == 0.05
    return out, hist, n, J


# ---------------------------------------------------------------------------------------------
# Population uniqueness (reident.md §2.4)


def zayatz(hist, n, J, N):
    """Zayatz (1991) as in ARX: sample class sizes s as the hypergeometric 'successes'.

    P1(s) = P[X = 1], X ~ Hypergeometric(population N, successes s, draws n). Only ratios
    P1(s)/P1(1) are needed; they are computed as exact finite products (no lgamma), so the
    reference is accurate to a few ulps:
        P1(s)/P1(1) = s * C(N-s, n-1) / C(N-1, n-1) = s * prod_{j=1}^{s-1} (N-n+1-j)/(N-j).
    """
    c1 = hist.get(1, 0)
    if c1 == 0:
        return 0.0
    f = n / N
    denom = 0.0
    for s, c in hist.items():
        r = float(s)
        for j in range(1, s):
            num = N - n + 1 - j
            if num <= 0:
                r = 0.0
                break
            r *= num / (N - j)
        denom += (c / J) * r
    uniqueness = (c1 / J) / denom
    return c1 * uniqueness / f


def pitman_sums(theta, alpha, hist, n, J):
    """Score equations and Jacobian of the Pitman log-likelihood (iterative form, reident.md §2.4)."""
    o1 = o3 = d1 = d5 = d3 = 0.0
    for i in range(1, J):
        v = theta + i * alpha
        o1 += 1.0 / v
        o3 += i / v
        d1 += 1.0 / (v * v)
        d5 += i / (v * v)
        d3 += i * i / (v * v)
    o2 = d2 = 0.0
    for i in range(1, n):
        v = theta + i
        o2 += 1.0 / v
        d2 += 1.0 / (v * v)
    o4 = d4 = 0.0
    for s, c in hist.items():
        if s < 2:
            continue
        a = b = 0.0
        for l in range(1, s):
            v = l - alpha
            a += 1.0 / v
            b += 1.0 / (v * v)
        o4 += c * a
        d4 += c * b
    g = (o1 - o2, o3 - o4)
    # Jacobian of g w.r.t. (theta, alpha)
    jac = ((d2 - d1, -d5), (-d5, -d3 - d4))
    return g, jac


def pitman(hist, n, J, N):
    """Pitman (Hoshino 2001) MLE by damped Newton under the constraints of reident.md §2.4.

    Returns (uniques or None, theta, alpha)."""
    c1 = hist.get(1, 0)
    if c1 == 0:
        return 0.0, None, None
    c2 = hist.get(2, 0) or 1
    c = c1 * (c1 - 1) / c2
    den = 2 * c1 * J + c1 * c - n * c
    if den == 0:
        return None, None, None
    theta = (n * J * c - c1 * (n - 1) * (2 * J + c)) / den
    alpha = (theta * (c1 - n) + (n - 1) * c1) / (n * J)

    def ok(t, a):
        return t >= 0 and a < 1 and t + a > 0 and t + (J - 1) * a > 0

    if not ok(theta, alpha):
        return None, theta, alpha
    converged = False
    for _ in range(500):
        g, jac = pitman_sums(theta, alpha, hist, n, J)
        (a11, a12), (a21, a22) = jac
        det = a11 * a22 - a12 * a21
        if det == 0 or not math.isfinite(det):
            break
        dt = (g[0] * a22 - a12 * g[1]) / det
        da = (a11 * g[1] - a21 * g[0]) / det
        step = 1.0
        while step > 1e-30 and not ok(theta - step * dt, alpha - step * da):
            step /= 2
        nt, na = theta - step * dt, alpha - step * da
        if not ok(nt, na):
            break
        moved = abs(nt - theta) <= 1e-15 * max(1.0, abs(theta)) and abs(na - alpha) <= 1e-15
        theta, alpha = nt, na
        if moved:
            converged = True
            break
    g, _ = pitman_sums(theta, alpha, hist, n, J)
    if not converged and not (abs(g[0]) < 1e-9 and abs(g[1]) < 1e-9):
        return None, theta, alpha
    if alpha == 0:
        return None, theta, alpha
    try:
        u = math.exp(math.lgamma(theta + 1) - math.lgamma(theta + alpha) + alpha * math.log(N))
    except (OverflowError, ValueError):
        return None, theta, alpha
    if not (0 <= u <= N) or not math.isfinite(u):
        return None, theta, alpha
    return u, theta, alpha


def snb_k(hist, n, J, N):
    """Estimated number of non-empty population classes, ARX ModelSNB (Haas/Shlosser), as in ARX's
    source: var2 subtracts 1 once per histogram entry."""
    f = n / N
    c1 = hist.get(1, 0)
    f2 = f * f
    v1 = v2 = v3 = v4 = 0.0
    for s, c in sorted(hist.items()):
        x = (1 - f) ** s * c
        v1 += s * f2 * (1 - f2) ** (s - 1) * c
        v2 += x * (1 + f) ** s - 1
        v3 += x
        v4 += s * f * (1 - f) ** (s - 1) * c
    return J + c1 * (v1 / v2) * (v3 / v4) ** 2


def snb(hist, n, J, N):
    """SNB (Chen & Keller-McNulty 1998) moment equations as transcribed in ARX (reident.md §2.4).
    Solved by Newton with a numerical Jacobian from a grid of starts; returns the sorted list of
    distinct valid estimates (0 < uniques <= N) found. ARX's solver start is not specified in
    reident.md, hence the list: the engine's SNB value must be one of them."""
    c1 = hist.get(1, 0)
    c2 = hist.get(2, 0)
    if c1 == 0:
        return [0.0]
    f = n / N
    K = snb_k(hist, n, J, N)
    if not math.isfinite(K):
        return []

    def F(a, b):
        d = (1 - f) * (1 - b)
        e1 = K * f * (b / (1 - d)) ** a * (a * d / (1 - d) + 1) - c1
        e2 = K * a * b**a * f * f * (1 - b) / 2 * (1 - d) ** (a + 2) * (2 - (1 - a) * d) - c2
        return e1, e2

    found = []
    for a0 in (0.01, 0.1, 0.5, 1.0, 2.0, 5.0):
        for b0 in (0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99):
            a, b = a0, b0
            try:
                for _ in range(200):
                    e = F(a, b)
                    h = 1e-7
                    ea = F(a + h * max(1, abs(a)), b)
                    eb = F(a, b + h * max(1, abs(b)))
                    j11 = (ea[0] - e[0]) / (h * max(1, abs(a)))
                    j21 = (ea[1] - e[1]) / (h * max(1, abs(a)))
                    j12 = (eb[0] - e[0]) / (h * max(1, abs(b)))
                    j22 = (eb[1] - e[1]) / (h * max(1, abs(b)))
                    det = j11 * j22 - j12 * j21
                    if det == 0 or not math.isfinite(det):
                        break
                    da = (e[0] * j22 - j12 * e[1]) / det
                    db = (j11 * e[1] - j21 * e[0]) / det
                    a, b = a - da, b - db
                    if not (math.isfinite(a) and math.isfinite(b)) or b <= 0:
                        break
                    if abs(da) < 1e-13 * max(1, abs(a)) and abs(db) < 1e-13 * max(1, abs(b)):
                        break
                e = F(a, b)
                if abs(e[0]) > 1e-6 * max(1, c1) or abs(e[1]) > 1e-6 * max(1, c2):
                    continue
                u = K * b**a
            except (OverflowError, ZeroDivisionError, ValueError, TypeError):
                continue
            if isinstance(u, complex) or not math.isfinite(u) or not (0 < u <= N):
                continue
            if not any(abs(u - x) <= 1e-9 * x for x in found):
                found.append(u)
    return sorted(found)


def population(hist, n, J, N):
    """Dankar et al.'s decision rule (reident.md §2.4)."""
    c1 = hist.get(1, 0)
    f = n / N
    z = zayatz(hist, n, J, N)
    p, theta, alpha = pitman(hist, n, J, N) if f <= 0.1 else (None, None, None)
    s = snb(hist, n, J, N) if f > 0.1 else []
    out = {
        "N": N,
        "sampling_fraction": f,
        "zayatz": z,
        "pitman": p,
        "pitman_theta": theta,
        "pitman_alpha": alpha,
        "snb_candidates": s,
    }
    if c1 == 0:
        model, u = None, 0.0
    elif f <= 0.1:
        if p is not None and p != 0:
            model, u = "pitman", p
        else:
            model, u = "zayatz", z
    else:
        # min(Zayatz, SNB) when SNB is valid, else Zayatz. With several SNB roots the test decides.
        model, u = "zayatz", z
    out["model"] = model
    out["uniques"] = u
    out["fraction"] = u / N
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qi", required=True)
    ap.add_argument("--sensitive", default="")
    ap.add_argument("--threshold", type=float, default=0.2)
    ap.add_argument("--population", type=int, action="append", default=[])
    ap.add_argument("--join", default=None, help="key column for a 1:1 inner join of the tables")
    ap.add_argument("--concat", action="store_true", help="the tables are parts of one table")
    ap.add_argument("tables", nargs="+")
    a = ap.parse_args()
    qi = [c for c in a.qi.split(",") if c]
    sensitive = [c for c in a.sensitive.split(",") if c]
    tables = [read_table(p) for p in a.tables]
    if a.join:
        rows = join_tables(tables, a.join)
    elif a.concat or len(tables) == 1:
        rows = [r for t in tables for r in t]
    else:
        raise SystemExit("several tables need --join KEY or --concat")
    sizes, sa_counts = classes_of(rows, qi, sensitive)
    out, hist, n, J = sample_metrics(sizes, sa_counts, sensitive, a.threshold)
    out["population"] = {str(N): population(hist, n, J, N) for N in a.population}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
