#!/usr/bin/env python3
"""GATE and BLP: fastdml vs DoubleML 0.11.4 on the same stored predictions.

Two workloads, IRM with the ATE signal, one repetition, HC0 covariance:
- GATE over G groups (default 1,000; `--cate-by grp`),
- BLP on a 50-function basis: intercept, z, 19 hinges (z - c_j)+ at the j/20
  quantiles, 29 one-hot columns of a 30-level code (`--blp z,spline(z,20),cat(c30)`).

Data and out-of-fold predictions are drawn here (numpy, fixed seed) and written
to CSV once per n. fastdml: `fastdml estimate --load-predictions P --estimand
ate --cate-by grp | --blp ...` (no training); DoubleML: a fresh interpreter
reads the same CSVs with pandas, builds DoubleMLIRM with the predictions as
external_predictions (dummy learners, the same folds) and calls gate(dummies)
or cate(basis) (statsmodels OLS, HC0). Each run is a subprocess: wall time
includes start-up and CSV parsing; "compute" is the GATE/BLP step alone
(fastdml: the JSON's gate/blp seconds; DoubleML: the gate()/cate() call).
Peak memory is the child's ru_maxrss (bench/measure.py). Coefficients of the
two tools are compared as a sanity check (max relative difference).

Usage: bench/gate_vs_doubleml.py [--n 1000000] [--dml-n 100000] [--groups 1000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from measure import run_measured  # bench/measure.py

REPO = Path(__file__).resolve().parents[1]
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
BLP_SPEC = "z,spline(z,20),cat(c30)"

DML_SCRIPT = textwrap.dedent(r"""
    import json, sys, time, warnings
    import numpy as np, pandas as pd
    import doubleml as dml
    from doubleml.utils import DMLDummyClassifier, DMLDummyRegressor
    data_csv, pred_csv, task, groups = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    t0 = time.perf_counter()
    df = pd.read_csv(data_csv)
    pr = pd.read_csv(pred_csv)
    n = len(df)
    feats = [c for c in df.columns if c.startswith("x")]
    obj_data = dml.DoubleMLData(df[["y", "d"] + feats], "y", "d", x_cols=feats)
    folds = pr["fold"].to_numpy()
    smpls = [[(np.flatnonzero(folds != f), np.flatnonzero(folds == f)) for f in range(5)]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obj = dml.DoubleMLIRM(obj_data, ml_g=DMLDummyRegressor(), ml_m=DMLDummyClassifier(), n_folds=5,
                              draw_sample_splitting=False)
        obj.set_sample_splitting(smpls)
        ext = {k: pr[c].to_numpy().reshape(-1, 1) for k, c in (("ml_g0", "g0_hat"), ("ml_g1", "g1_hat"), ("ml_m", "m_hat"))}
        obj.fit(external_predictions={"d": ext})
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task == "gate":
            g = df["grp"].to_numpy()
            dummies = pd.DataFrame({f"g{k}": g == k for k in range(groups)})
            model = obj.gate(dummies)
        else:
            z = df["z"].to_numpy()
            cols = {"intercept": np.ones(n), "z": z}
            for j in range(1, 20):
                cols[f"h{j}"] = np.maximum(z - np.quantile(z, j / 20), 0.0)
            for lev in range(1, 30):
                cols[f"c{lev}"] = (df["c30"].to_numpy() == lev).astype(float)
            model = obj.cate(pd.DataFrame(cols))
    t2 = time.perf_counter()
    print(json.dumps({"setup": t1 - t0, "compute": t2 - t1, "coef": list(map(float, model.coef)),
                      "se": list(map(float, model.se))}))
""")


def make_inputs(n, groups, folder):
    rng = np.random.default_rng(12345)
    x = rng.normal(size=(n, 5))
    ps = 1 / (1 + np.exp(-(0.8 * x[:, 0] - 0.5 * x[:, 1])))
    d = (rng.uniform(size=n) < ps).astype(int)
    z = x[:, 0] + 0.5 * rng.normal(size=n)
    grp = rng.integers(0, groups, size=n)
    c30 = rng.integers(0, 30, size=n)
    tau = 1 + 0.5 * z + 0.1 * (grp % 7)
    y = x[:, 0] + d * tau + rng.normal(size=n)
    df = pd.DataFrame(x, columns=[f"x{j}" for j in range(5)])
    df.insert(0, "d", d)
    df.insert(0, "y", y)
    df["z"], df["grp"], df["c30"] = z, grp, c30
    data_csv = folder / f"data_{n}.csv"
    df.to_csv(data_csv, index=False, float_format="%.17g")
    m = np.clip(ps + 0.05 * rng.normal(size=n), 0.02, 0.98)
    g0 = x[:, 0] + 0.3 * rng.normal(size=n)
    pred = pd.DataFrame({"row": np.arange(n), "rep": 0, "fold": rng.permutation(n) % 5, "m_hat": m,
                         "g0_hat": g0, "g1_hat": g0 + tau + 0.3 * rng.normal(size=n), "l_hat": np.nan})
    pred_csv = folder / f"pred_{n}.csv"
    pred.to_csv(pred_csv, index=False, float_format="%.17g", na_rep="")
    return data_csv, pred_csv


def run_fastdml(cli, data_csv, pred_csv, task, folder):
    out = folder / "out.json"
    flags = ["--cate-by", "grp"] if task == "gate" else ["--blp", BLP_SPEC]
    cmd = [cli, "estimate", "--data", data_csv, "--outcome", "y", "--treatment", "d", "--features",
           "x0,x1,x2,x3,x4", "--estimand", "ate", "--load-predictions", pred_csv, "--quiet", "--json", out] + flags
    wall, rss, _ = run_measured([str(c) for c in cmd])
    j = json.loads(out.read_text())
    if task == "gate":
        res = j["gate"][0]
        return wall, rss, res["seconds"], [g["estimate"] for g in res["groups"]]
    return wall, rss, j["blp"]["seconds"], [t["coef"] for t in j["blp"]["terms"]]


def run_doubleml(data_csv, pred_csv, task, groups):
    env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", MKL_NUM_THREADS="2")
    wall, rss, out = run_measured([str(VENV_PYTHON), "-c", DML_SCRIPT, str(data_csv), str(pred_csv), task,
                                   str(groups)], env=env)
    j = json.loads(out.strip().splitlines()[-1])
    return wall, rss, j["compute"], j["coef"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[100000, 1000000])
    ap.add_argument("--dml-max-n-gate", type=int, default=100000,
                    help="largest n at which DoubleML's GATE runs (its dense n x G design needs 8 n G bytes)")
    ap.add_argument("--groups", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cli", default=os.environ.get("FASTDML_CLI", str(REPO / "build" / "fastdml")))
    a = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"G = {a.groups}, BLP basis {BLP_SPEC} (50 functions), repeats {a.repeats}")
    print("| task | n | tool | wall s (median) | compute s (median) | peak RSS MiB | wall ratio | compute ratio | max rel diff of coefficients |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in a.n:
            data_csv, pred_csv = make_inputs(n, a.groups, folder)
            for task in ("gate", "blp"):
                runs = {"fastdml": [], "DoubleML": []}
                coefs = {}
                dml_ok = task == "blp" or n <= a.dml_max_n_gate
                for _ in range(a.repeats):
                    w, r, c, coef = run_fastdml(a.cli, data_csv, pred_csv, task, folder)
                    runs["fastdml"].append((w, r, c))
                    coefs["fastdml"] = coef
                    if dml_ok:
                        w, r, c, coef = run_doubleml(data_csv, pred_csv, task, a.groups)
                        runs["DoubleML"].append((w, r, c))
                        coefs["DoubleML"] = coef
                med = {k: (statistics.median(x[0] for x in v), statistics.median(x[2] for x in v),
                           max(x[1] for x in v)) for k, v in runs.items() if v}
                diff = "—"
                if "DoubleML" in coefs:
                    f, dd = np.array(coefs["fastdml"]), np.array(coefs["DoubleML"])
                    diff = f"{np.max(np.abs(f - dd) / np.maximum(np.abs(dd), 1e-12)):.1e}"
                for tool, (w, c, r) in med.items():
                    ratio = ("1" if tool == "fastdml" else f"{w / med['fastdml'][0]:.1f}x")
                    cratio = ("1" if tool == "fastdml" else f"{c / med['fastdml'][1]:.0f}x")
                    print(f"| {task} | {n:,} | {tool} | {w:.2f} | {c:.4f} | {r:.0f} | {ratio} | {cratio} | "
                          f"{diff if tool == 'DoubleML' else ''} |", flush=True)
                if not dml_ok:
                    need = 8 * n * a.groups / 2**30
                    print(f"| {task} | {n:,} | DoubleML | skipped: dense n x G design alone is {need:.1f} GiB | | | | | |",
                          flush=True)


if __name__ == "__main__":
    main()
