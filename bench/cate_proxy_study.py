#!/usr/bin/env python3
"""Size and power of the BLP heterogeneity test and sorted GATES, by CATE proxy.

For each of --datasets seeds, two designs:
  null    a constant effect of 1.0 with confounding (numpy, same formula as
          tests/cate/sorted_gates_test.cc's ConstantEffectData): any rejection
          is a false alarm;
  seller  `fastdml simulate --design seller` (the effect varies by category
          and inventory): a rejection is a detection.
Each data set is fitted ONCE (`--save-predictions`); both proxies then run from
the stored predictions (`--load-predictions`, no nuisance training):
  outcome-difference  g1_hat - g0_hat (out of fold)
  dr-learner          out-of-fold DR-learner (cross-fitted XGBoost on phi)
Reported: rejection rate of beta2 = 0 (BLP) and of GATES_K - GATES_1 = 0 at
5%, with the Monte-Carlo SE sqrt(r (1 - r) / datasets); median seconds of the
fit and of each CATE step (from the JSON).

Usage: bench/cate_proxy_study.py [--datasets 30] [--n 4000] [--designs null,seller]
       [--learner '--rounds 80 --max-depth 4'] [--cli build/fastdml]
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
LEARNER = ["--threads", "2", "--quiet"]


def constant_effect_csv(path: Path, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4))
    e = 0.1 + 0.8 / (1 + np.exp(-(0.8 * x[:, 0] - 0.5 * x[:, 1])))
    d = (rng.random(n) < e).astype(float)
    y = 1.0 * d + x[:, 0] + 0.5 * x[:, 1] ** 2 + rng.standard_normal(n)
    cols = {"y": y, "d": d, **{f"x{j}": x[:, j] for j in range(4)}}
    header = ",".join(cols)
    data = np.column_stack(list(cols.values()))
    np.savetxt(path, data, delimiter=",", header=header, comments="", fmt="%.17g")
    return e


def run(cli: str, args: list) -> None:
    subprocess.run([cli, *map(str, args)], check=True, capture_output=True, text=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", type=int, default=30)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--cli", default=str(REPO / "build" / "fastdml"))
    ap.add_argument("--designs", default="null,seller", help="comma list of null, seller")
    ap.add_argument("--oracle-propensity", action="store_true",
                    help="null design: replace m_hat by the true propensity (diagnostic)")
    ap.add_argument("--learner", default="--rounds 80 --max-depth 4", help="nuisance learner flags for the fit")
    a = ap.parse_args()
    rows = {}
    times = {"fit": [], "outcome-difference": [], "dr-learner": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for seed in range(1, a.datasets + 1):
            for design in a.designs.split(","):
                csv = tmp / f"{design}.csv"
                true_m = None
                if design == "null":
                    true_m = constant_effect_csv(csv, a.n, seed)
                else:
                    run(a.cli, ["simulate", "--design", "seller", "--n", a.n, "--seed", seed, "--out", csv])
                base = ["estimate", "--data", csv, "--outcome", "y", "--treatment", "d", "--estimand", "ate",
                        "--seed", seed, *LEARNER, *a.learner.split()]
                fit_json, preds = tmp / "fit.json", tmp / "preds.csv"
                run(a.cli, base + ["--save-predictions", preds, "--json", fit_json])
                times["fit"].append(json.loads(fit_json.read_text())["timings"]["total"])
                if a.oracle_propensity and true_m is not None:
                    # Diagnostic: the true propensity in place of m_hat, outcome models as fitted.
                    import pandas as pd
                    p = pd.read_csv(preds)
                    p["m_hat"] = true_m[p["row"].to_numpy()]
                    p.to_csv(preds, index=False, float_format="%.17g")
                for proxy in ["outcome-difference", "dr-learner"]:
                    out = tmp / "cate.json"
                    extra = ["--cate-model"] if proxy == "dr-learner" else []
                    run(a.cli, base + ["--load-predictions", preds, "--sorted-gates", "5", "--cate-proxy", proxy,
                                       "--json", out, *extra])
                    j = json.loads(out.read_text())
                    times[proxy].append(j["sorted_gates"]["seconds"] + j.get("cate_model", {}).get("seconds", 0))
                    r = rows.setdefault((design, proxy), {"blp": 0, "gates": 0, "beta2": []})
                    r["blp"] += j["blp_test"]["beta2_heterogeneity"]["p_value"] < 0.05
                    r["gates"] += j["sorted_gates"]["top_minus_bottom"]["p_value"] < 0.05
                    r["beta2"].append(j["blp_test"]["beta2_heterogeneity"]["estimate"])
    k = a.datasets
    print(f"{k} data sets per design, n = {a.n}, learner '{a.learner}', "
          f"{'TRUE propensity, ' if a.oracle_propensity else ''}5 groups, 5% tests\n")
    print("| design | proxy | rejects beta2 = 0 | rejects G5 - G1 = 0 | mean beta2 |")
    print("|---|---|---:|---:|---:|")
    for (design, proxy), r in rows.items():
        def rate(c):
            p = c / k
            return f"{100 * p:.0f}% (MC SE {100 * math.sqrt(p * (1 - p) / k):.0f})"
        print(f"| {design} | {proxy} | {rate(r['blp'])} | {rate(r['gates'])} | {statistics.mean(r['beta2']):+.3f} |")
    print("\nmedian seconds: fit (train + estimate) "
          f"{statistics.median(times['fit']):.3f}; sorted GATES from stored predictions: outcome-difference "
          f"{statistics.median(times['outcome-difference']):.4f}, dr-learner (includes the second-stage XGBoost) "
          f"{statistics.median(times['dr-learner']):.3f}")


if __name__ == "__main__":
    main()
