#!/usr/bin/env python3
"""pycanon (PyPI) as an oracle for the metrics whose definitions agree with ARX's
(/work/shared/reference/reident.md §5): k-anonymity, number of equivalence classes, highest
(prosecutor) risk 1/k, distinct l-diversity, and entropy l-diversity (pycanon floors exp(H)).

    pycanon_check.py --qi A,B --sensitive S,T TABLE.csv

Prints JSON. When pycanon cannot be imported it prints {"available": false, ...} and exits 0;
the caller decides whether that is a skip or a failure. Use only null-free tables: pycanon's
pandas groupby drops rows with a null QI (reident.md §5, caveat 1). Each sensitive attribute is
evaluated on its own (pycanon's gen=True would take the minimum over all of them).
"""

import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qi", required=True)
    ap.add_argument("--sensitive", default="")
    ap.add_argument("table")
    a = ap.parse_args()
    try:
        import pandas as pd
        from pycanon import anonymity, metrics
        import importlib.metadata as md

        version = md.version("pycanon")
    except Exception as e:  # ImportError, or a broken install
        json.dump({"available": False, "error": f"{type(e).__name__}: {e}"}, sys.stdout)
        sys.stdout.write("\n")
        return
    qi = [c for c in a.qi.split(",") if c]
    sa = [c for c in a.sensitive.split(",") if c]
    sep = "\t" if a.table.endswith(".tsv") else ","
    # Every value as a string, nothing turned into NaN (the fixtures have no empty cells).
    df = pd.read_csv(a.table, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8")
    if (df[qi + sa] == "").any().any():
        raise SystemExit("pycanon_check: the table has empty cells; pycanon would drop rows")
    sizes = metrics.sizes_ec(df, qi)
    out = {
        "available": True,
        "version": version,
        "k": int(anonymity.k_anonymity(df, qi)),
        "equivalence_classes": int(sizes["n_ec"]) if isinstance(sizes, dict) else None,
        "max_rir": float(metrics.max_rir(df, qi)),
        "average_rir": float(metrics.average_rir(df, qi)),
        "l_diversity": {s: int(anonymity.l_diversity(df, qi, [s])) for s in sa},
        "entropy_l_diversity": {s: int(anonymity.entropy_l_diversity(df, qi, [s])) for s in sa},
    }
    json.dump(out, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
