#!/usr/bin/env python3
"""End-to-end IRM (ATE + ATT) benchmark: fastdml CLI vs DoubleML + XGBoost.

Both tools get the same data (`fastdml simulate --design irm`), the same number
of folds, the same XGBoost hyper-parameters (hist, rounds, depth, eta) and the
same thread count. Every measurement is a separate subprocess; we report the
median wall time over --repeats runs and the peak RSS of those subprocesses
(ru_maxrss of the child from os.wait4). fastdml's phase breakdown comes from its
--json output.

See bench/README.md for the command and what is compared.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from measure import run_measured  # bench/measure.py

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLI = REPO / "build" / "fastdml"

# DoubleML side, run in its own interpreter so its RSS and start-up are measured
# the way a user would see them. Reads the CSV (inside the timing, as fastdml does).
DOUBLEML_SCRIPT = textwrap.dedent("""
    import json, sys, time, warnings
    t0 = time.perf_counter()
    import numpy as np, pandas as pd, doubleml as dml, xgboost as xgb
    cfg = json.loads(sys.argv[1])
    t_import = time.perf_counter()
    df = pd.read_csv(cfg["data"])
    x_cols = cfg["features"]
    data = dml.DoubleMLData(df, cfg["outcome"], cfg["treatment"], x_cols=x_cols)
    t_read = time.perf_counter()
    common = dict(tree_method="hist", n_estimators=cfg["rounds"], max_depth=cfg["max_depth"],
                  learning_rate=cfg["eta"], n_jobs=cfg["threads"], verbosity=0)
    out = {}
    np.random.seed(cfg["seed"])
    ext = None
    smpls = None
    for score in ("ATE", "ATTE"):
        obj = dml.DoubleMLIRM(data, ml_g=xgb.XGBRegressor(**common), ml_m=xgb.XGBClassifier(**common),
                              n_folds=cfg["folds"], n_rep=1, score=score)
        if smpls is not None:
            obj.set_sample_splitting(smpls)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj.fit(external_predictions=ext)
        out[score] = {"estimate": float(obj.coef[0]), "se": float(obj.se[0])}
        if cfg["doubleml_mode"] == "reuse" and ext is None:
            # ATTE from the ATE fit's nuisance predictions and folds: no second training.
            smpls = obj.smpls
            pred = obj.predictions
            ext = {cfg["treatment"]: {k: pred[k][:, :, 0] for k in ("ml_g0", "ml_g1", "ml_m")}}
    t_end = time.perf_counter()
    out["timings"] = {"import": t_import - t0, "reading": t_read - t_import,
                      "fit": t_end - t_read, "total": t_end - t0}
    print("RESULT " + json.dumps(out))
""")


def machine_description():
    model = platform.processor() or "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
                break
    except (OSError, subprocess.CalledProcessError):
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        nproc = str(os.cpu_count())
    return model, nproc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="rows (default 100000)")
    ap.add_argument("--p", type=int, default=50, help="covariates (default 50)")
    ap.add_argument("--outcome-design", default="separate", choices=["separate", "pooled"],
                    help="fastdml's IRM outcome model (default separate, as DoubleML)")
    ap.add_argument("--rounds", type=int, default=200, help="boosting rounds per nuisance model (default 200)")
    ap.add_argument("--max-depth", type=int, default=6)
    ap.add_argument("--eta", type=float, default=0.1)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2, help="threads for both tools (default 2)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per tool; the median is reported (default 3)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--doubleml-mode", choices=["reuse", "refit"], default="reuse",
                    help="reuse: DoubleML fits the nuisances once (ATE) and estimates ATTE from those "
                         "predictions via external_predictions; refit: one full fit per score")
    ap.add_argument("--quick", action="store_true", help="smoke test: n=2000, p=10, rounds=20, repeats=1")
    ap.add_argument("--cli", default=os.environ.get("FASTDML_CLI", str(DEFAULT_CLI)), help="fastdml binary")
    ap.add_argument("--python", default=sys.executable, help="interpreter with doubleml + xgboost")
    ap.add_argument("--workdir", default=None, help="where data and outputs go (default: a temp dir)")
    ap.add_argument("--json-out", default=None, help="also write all results as JSON here")
    args = ap.parse_args()
    if args.quick:
        args.n, args.p, args.rounds, args.repeats = 2000, 10, 20, 1

    cli = Path(args.cli)
    if not (cli.is_file() and os.access(cli, os.X_OK)):
        raise SystemExit(f"fastdml CLI not found at {cli} (build it or pass --cli / FASTDML_CLI)")

    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="fastdml_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / f"irm_n{args.n}_p{args.p}.csv"
    if not data.exists():
        subprocess.run([str(cli), "simulate", "--design", "irm", "--n", str(args.n), "--p", str(args.p),
                        "--seed", str(args.seed), "--out", str(data)], check=True)
    import pandas as pd  # only for the header

    header = list(pd.read_csv(data, nrows=0).columns)
    truth_path = data.with_suffix(".truth.json")
    truth = json.loads(truth_path.read_text()) if truth_path.exists() else {}
    outcome = truth.get("outcome") if truth.get("outcome") in header else ("y" if "y" in header else "Y")
    treatment = truth.get("treatment") if truth.get("treatment") in header else ("d" if "d" in header else "D")
    features = truth.get("features") if isinstance(truth.get("features"), list) else \
        [c for c in header if c[:1] in ("x", "X")]

    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    fast_cmd = [str(cli), "estimate", "--data", str(data), "--outcome", outcome, "--treatment", treatment,
                "--features", ",".join(features), "--model", "irm", "--estimand", "ate,att",
                "--folds", str(args.folds), "--reps", "1", "--seed", str(args.seed),
                "--rounds", str(args.rounds), "--max-depth", str(args.max_depth), "--eta", str(args.eta),
                "--threads", str(args.threads),
                # separate: DoubleML's design (g0, g1 per arm), both tools train the same
                # models; pooled: fastdml's default (bench/RESULTS.md).
                "--outcome-design", args.outcome_design]
    cfg = dict(data=str(data), outcome=outcome, treatment=treatment, features=features, rounds=args.rounds,
               max_depth=args.max_depth, eta=args.eta, threads=args.threads, folds=args.folds, seed=args.seed,
               doubleml_mode=args.doubleml_mode)
    dml_cmd = [args.python, "-c", DOUBLEML_SCRIPT, json.dumps(cfg)]

    results = {"fastdml": [], "doubleml": []}
    fast_json, dml_out = [], []
    for i in range(args.repeats):
        out_json = work / f"fastdml_{i}.json"
        wall, rss, _ = run_measured(fast_cmd + ["--json", str(out_json)], env=env)
        results["fastdml"].append((wall, rss))
        fast_json.append(json.loads(out_json.read_text()))
        print(f"fastdml  run {i + 1}/{args.repeats}: {wall:8.2f} s, {rss:8.1f} MiB", file=sys.stderr)
        wall, rss, stdout = run_measured(dml_cmd, env=env)
        results["doubleml"].append((wall, rss))
        dml_out.append(json.loads(stdout.split("RESULT ", 1)[1]))
        print(f"DoubleML run {i + 1}/{args.repeats}: {wall:8.2f} s, {rss:8.1f} MiB", file=sys.stderr)

    med = {k: statistics.median(w for w, _ in v) for k, v in results.items()}
    peak = {k: max(r for _, r in v) for k, v in results.items()}
    model, nproc = machine_description()

    print(f"## fastdml vs DoubleML: IRM (ATE + ATT), n={args.n}, p={args.p}, {args.folds} folds, "
          f"XGBoost hist {args.rounds} rounds, max_depth {args.max_depth}, eta {args.eta}, {args.threads} threads\n")
    print(f"Machine: {model}, nproc {nproc}\n")
    print("| tool | median wall s | runs | peak RSS MiB | ratio |")
    print("|---|---:|---:|---:|---:|")
    dml_label = ("DoubleML (ATE fit + ATTE from its predictions)" if args.doubleml_mode == "reuse"
                 else "DoubleML (one fit per score: ATE, ATTE)")
    for k, label in (("fastdml", "fastdml (CLI)"), ("doubleml", dml_label)):
        runs = ", ".join(f"{w:.2f}" for w, _ in results[k])
        print(f"| {label} | {med[k]:.2f} | {runs} | {peak[k]:.0f} | {med[k] / med['fastdml']:.2f} |")
    print("\nratio = median wall time / fastdml's median wall time. Both train m, g0, g1 once per fold; "
          f"DoubleML mode: {args.doubleml_mode}. Wall time includes process start, imports and CSV reading.\n")

    # phase breakdown of the median fastdml run
    order = sorted(range(len(fast_json)), key=lambda i: results["fastdml"][i][0])
    mid = fast_json[order[len(order) // 2]]
    tim = mid.get("timings", {})
    print("fastdml phases (median run, s):\n")
    print("| phase | s |")
    print("|---|---:|")
    known = ["reading", "setup", "fold_matrices", "training", "prediction", "scores", "total"]
    for key in [k for k in known if k in tim] + sorted(k for k in tim if k not in known):
        val = tim[key]
        if isinstance(val, (int, float)):
            print(f"| {key} | {val:.3f} |")

    dml_t = dml_out[order[len(order) // 2]]["timings"] if dml_out else {}
    if dml_t:
        print("\nDoubleML phases (s): " + ", ".join(f"{k} {v:.2f}" for k, v in dml_t.items()))

    print("\nEstimates (first run):\n")
    print("| estimand | fastdml | se | DoubleML | se | truth |")
    print("|---|---:|---:|---:|---:|---:|")
    for est, score in (("ate", "ATE"), ("att", "ATTE")):
        f = next((e for e in fast_json[0]["estimates"] if e["estimand"] == est), None)
        dm = dml_out[0][score]
        tv = truth.get(est)
        print(f"| {est} | {f['estimate']:.4f} | {f['se']:.4f} | {dm['estimate']:.4f} | {dm['se']:.4f} | "
              f"{'' if tv is None else f'{float(tv):.4f}'} |")

    if args.json_out:
        Path(args.json_out).write_text(json.dumps({
            "config": vars(args) | {"cli": str(cli)}, "machine": {"model": model, "nproc": nproc},
            "runs": results, "median_wall_s": med, "peak_rss_mib": peak,
            "fastdml_json": fast_json, "doubleml": dml_out}, indent=2, default=str))


if __name__ == "__main__":
    main()
