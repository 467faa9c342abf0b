#!/usr/bin/env python3
"""Outcomes x treatments in one run: the grid benchmark (issue 16, item 5).

Data: `fastdml simulate --design grid` (outcomes y1, y2, y3; binary treatments
t1, t2; features x1..xp), 3 x 2 = 6 (outcome, treatment) cells, ATE and ATT
for each. Three ways of estimating all six cells, side by side in one run:

  (a) grid      one `fastdml estimate --outcome y1,y2,y3 --treatment t1,t2`
                (one read, one sketch, one propensity model per treatment and
                fold shared by the three outcomes);
  (b) separate  the same 6 cells as 6 `fastdml estimate` runs, one per cell
                (wall time = the sum of the 6 processes);
  (c) DoubleML  DoubleMLIRM per cell (n_folds = --folds) with XGBoost's
                XGBRegressor / XGBClassifier of the same settings (hist,
                n_estimators = --rounds, max_depth, learning_rate, n_jobs =
                --threads), in one Python process that reads the CSV once; the
                ATT of a cell comes from that cell's ATE fit's predictions and
                folds (external_predictions, no second training) unless
                --doubleml-mode refit.

Every tool gets the same features (x1..xp, passed explicitly), folds, rounds,
depth, eta and threads; the fastdml runs use --outcome-design (default
separate: g0 and g1 per arm, the models DoubleML trains). The repeats
alternate the tools (the starting tool rotates each repeat) and the table
reports medians, the ratios to the grid run, and where the grid run's time
goes (its JSON `timings`) beside the summed phases of the 6 separate runs.

The grid run needs the grid CLI (issue 16, item 2): every entry of its JSON
`estimates` must carry "outcome" and "treatment"; the script stops with an
error naming what is missing otherwise. `--tools separate,doubleml` runs only
what today's single-cell CLI can do.

Quick smoke run:  bench/grid_benchmark.py --n 2000 --p 10 --rounds 20 --repeats 1
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from measure import portable_path, run_measured  # bench/measure.py
from bench_vs_doubleml import machine_description  # bench/bench_vs_doubleml.py

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLI = REPO / "build" / "fastdml"
OUTCOMES = ["y1", "y2", "y3"]
TREATMENTS = ["t1", "t2"]
CELLS = [(y, t) for y in OUTCOMES for t in TREATMENTS]
ESTIMANDS = ["ate", "att"]
TOOLS = ["grid", "separate", "doubleml"]
LABELS = {"grid": "(a) fastdml grid: one run, 6 cells",
          "separate": "(b) fastdml: 6 separate runs (sum)",
          "doubleml": "(c) DoubleML + XGBoost: DoubleMLIRM per cell"}
PHASES = ["reading", "setup", "upload", "gather", "fold_matrices", "training", "prediction", "download",
          "scores", "bootstrap"]

# DoubleML side, in its own interpreter so that its start-up, imports and RSS
# are measured as a user would see them. Reads the CSV once (inside the timing).
DOUBLEML_SCRIPT = textwrap.dedent("""
    import json, sys, time, warnings
    t0 = time.perf_counter()
    import numpy as np, pandas as pd, doubleml as dml, xgboost as xgb
    cfg = json.loads(sys.argv[1])
    t_import = time.perf_counter()
    df = pd.read_csv(cfg["data"])
    t_read = time.perf_counter()
    common = dict(tree_method="hist", n_estimators=cfg["rounds"], max_depth=cfg["max_depth"],
                  learning_rate=cfg["eta"], n_jobs=cfg["threads"], verbosity=0)
    if cfg["device"].startswith("cuda"):
        common["device"] = cfg["device"]
    np.random.seed(cfg["seed"])
    cells = []
    for t in cfg["treatments"]:
        for y in cfg["outcomes"]:
            data = dml.DoubleMLData(df, y, t, x_cols=cfg["features"])
            cell = {"outcome": y, "treatment": t}
            ext = None
            for score, name in (("ATE", "ate"), ("ATTE", "att")):
                obj = dml.DoubleMLIRM(data, ml_g=xgb.XGBRegressor(**common), ml_m=xgb.XGBClassifier(**common),
                                      n_folds=cfg["folds"], n_rep=1, score=score)
                if ext is not None:
                    obj.set_sample_splitting(smpls)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    obj.fit(external_predictions=ext)
                cell[name] = {"estimate": float(obj.coef[0]), "se": float(obj.se[0])}
                if cfg["doubleml_mode"] == "reuse" and ext is None:
                    smpls = obj.smpls
                    pred = obj.predictions
                    ext = {t: {k: pred[k][:, :, 0] for k in ("ml_g0", "ml_g1", "ml_m")}}
            cells.append(cell)
    t_end = time.perf_counter()
    print("RESULT " + json.dumps({"cells": cells, "timings": {
        "import": t_import - t0, "reading": t_read - t_import, "fit": t_end - t_read, "total": t_end - t0}}))
""")


def check_grid_json(doc, path):
    """The grid run's JSON must name every cell: 6 cells x (ate, att), each
    entry with "outcome" and "treatment". Stops the benchmark otherwise."""
    estimates = doc.get("estimates")
    if not isinstance(estimates, list) or not estimates:
        raise SystemExit(f"grid run: {path} has no 'estimates' array")
    missing = [i for i, e in enumerate(estimates) if "outcome" not in e or "treatment" not in e]
    if missing:
        raise SystemExit(f"grid run: estimates {missing} in {path} lack the 'outcome'/'treatment' fields; "
                         "this fastdml does not have the grid CLI (issue 16, item 2) yet. "
                         "Run with --tools separate,doubleml, or build the merged tree.")
    got = {(e["outcome"], e["treatment"], e["estimand"]) for e in estimates}
    want = {(y, t, est) for y, t in CELLS for est in ESTIMANDS}
    if not want <= got:
        raise SystemExit(f"grid run: {path} lacks the cells {sorted(want - got)}")
    return {(e["outcome"], e["treatment"], e["estimand"]): e for e in estimates if e["estimand"] in ESTIMANDS}


def single_cell_estimates(doc, outcome, treatment, path):
    """A one-cell run's estimates keyed like the grid's; the cell's names come
    from the entries (after the merge) or from options (today's JSON)."""
    out = {}
    for e in doc["estimates"]:
        if e["estimand"] not in ESTIMANDS:
            continue
        y = e.get("outcome", doc.get("options", {}).get("outcome"))
        t = e.get("treatment", doc.get("options", {}).get("treatment"))
        if (y, t) != (outcome, treatment):
            raise SystemExit(f"{path}: estimate for ({y}, {t}), expected ({outcome}, {treatment})")
        out[(y, t, e["estimand"])] = e
    return out


def median_index(walls):
    order = sorted(range(len(walls)), key=lambda i: walls[i])
    return order[len(order) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="rows (default 100000)")
    ap.add_argument("--p", type=int, default=50, help="features x1..xp (default 50; at least 6)")
    ap.add_argument("--rounds", type=int, default=200, help="fixed boosting rounds per model (default 200)")
    ap.add_argument("--max-depth", type=int, default=6, help="tree depth (default 6)")
    ap.add_argument("--eta", type=float, default=0.1, help="learning rate (default 0.1)")
    ap.add_argument("--folds", type=int, default=5, help="cross-fitting folds (default 5)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="fastdml --threads and XGBoost n_jobs (default: the machine's cores, %(default)s)")
    ap.add_argument("--outcome-design", default="separate", choices=["separate", "pooled"],
                    help="fastdml's IRM outcome models (default separate: g0, g1 per arm, as DoubleML)")
    ap.add_argument("--device", default="cpu", help="fastdml --device, and XGBoost's device for DoubleML "
                    "when it starts with cuda (default cpu)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per tool; medians are reported (default 3)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the data and of the fold split (default 1)")
    ap.add_argument("--tools", default=",".join(TOOLS),
                    help="comma list of grid, separate, doubleml (default all three)")
    ap.add_argument("--doubleml-mode", choices=["reuse", "refit"], default="reuse",
                    help="reuse (default): each cell's ATT from its ATE fit's predictions; refit: one fit per score")
    ap.add_argument("--cli", default=os.environ.get("FASTDML_CLI", str(DEFAULT_CLI)), help="fastdml binary")
    ap.add_argument("--python", default=sys.executable, help="interpreter with doubleml + xgboost")
    ap.add_argument("--workdir", default=None, help="where the data and outputs go (default: a temp dir)")
    ap.add_argument("--json-out", default=None, help="also write every measurement as JSON here")
    args = ap.parse_args()

    tools = [t for t in args.tools.split(",") if t]
    unknown = sorted(set(tools) - set(TOOLS))
    if unknown or not tools:
        raise SystemExit(f"--tools: unknown {unknown} (expected a comma list of {', '.join(TOOLS)})")
    if args.p < 6:
        raise SystemExit("--p must be at least 6 (the grid design's effects use x1..x6)")
    cli = Path(args.cli)
    if not (cli.is_file() and os.access(cli, os.X_OK)):
        raise SystemExit(f"fastdml CLI not found at {cli} (build it or pass --cli / FASTDML_CLI)")

    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="fastdml_grid_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / f"grid_n{args.n}_p{args.p}_s{args.seed}.csv"
    if not data.exists():
        subprocess.run([str(cli), "simulate", "--design", "grid", "--n", str(args.n), "--p", str(args.p),
                        "--seed", str(args.seed), "--out", str(data)], check=True, stdout=subprocess.DEVNULL)
    truth = json.loads(data.with_suffix(".truth.json").read_text())
    if truth.get("design") != "grid":
        raise SystemExit(f"{data.with_suffix('.truth.json')} is not the grid design's truth")
    features = [f"x{k}" for k in range(1, args.p + 1)]

    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    common = ["--data", str(data), "--features", ",".join(features), "--model", "irm",
              "--estimand", ",".join(ESTIMANDS), "--folds", str(args.folds), "--reps", "1",
              "--seed", str(args.seed), "--rounds", str(args.rounds), "--max-depth", str(args.max_depth),
              "--eta", str(args.eta), "--threads", str(args.threads), "--outcome-design", args.outcome_design,
              "--device", args.device, "--quiet"]
    cfg = dict(data=str(data), outcomes=OUTCOMES, treatments=TREATMENTS, features=features, rounds=args.rounds,
               max_depth=args.max_depth, eta=args.eta, threads=args.threads, folds=args.folds, seed=args.seed,
               device=args.device, doubleml_mode=args.doubleml_mode)

    runs = {t: [] for t in tools}  # per repeat: {wall, rss, estimates, timings}

    def run_grid(i):
        out = work / f"grid_{i}.json"
        cmd = [str(cli), "estimate", *common, "--outcome", ",".join(OUTCOMES), "--treatment",
               ",".join(TREATMENTS), "--json", str(out)]
        try:
            wall, rss, _ = run_measured(cmd, env=env)
        except SystemExit as e:
            raise SystemExit(f"{e}\ngrid run failed: this fastdml may not have the grid CLI (issue 16, item 2); "
                             "run with --tools separate,doubleml, or build the merged tree.") from None
        doc = json.loads(out.read_text())
        return dict(wall=wall, rss=rss, estimates=check_grid_json(doc, out), timings=doc.get("timings", {}))

    def run_separate(i):
        wall_sum, rss_max, est, phases, walls = 0.0, 0.0, {}, {}, []
        for y, t in CELLS:
            out = work / f"cell_{y}_{t}_{i}.json"
            cmd = [str(cli), "estimate", *common, "--outcome", y, "--treatment", t, "--json", str(out)]
            wall, rss, _ = run_measured(cmd, env=env)
            wall_sum += wall
            walls.append(wall)
            rss_max = max(rss_max, rss)
            doc = json.loads(out.read_text())
            est.update(single_cell_estimates(doc, y, t, out))
            for k, v in doc.get("timings", {}).items():
                if isinstance(v, (int, float)):
                    phases[k] = phases.get(k, 0.0) + v
        return dict(wall=wall_sum, rss=rss_max, estimates=est, timings=phases, cell_walls=walls)

    def run_doubleml(i):
        wall, rss, stdout = run_measured([args.python, "-c", DOUBLEML_SCRIPT, json.dumps(cfg)], env=env)
        res = json.loads(stdout.split("RESULT ", 1)[1])
        est = {(c["outcome"], c["treatment"], k): c[k] for c in res["cells"] for k in ESTIMANDS}
        return dict(wall=wall, rss=rss, estimates=est, timings=res["timings"])

    runner = {"grid": run_grid, "separate": run_separate, "doubleml": run_doubleml}
    for i in range(args.repeats):
        order = tools[i % len(tools):] + tools[:i % len(tools)]  # rotate who goes first
        for tool in order:
            r = runner[tool](i)
            runs[tool].append(r)
            print(f"repeat {i + 1}/{args.repeats} {tool:8s}: {r['wall']:8.2f} s, peak RSS {r['rss']:8.1f} MiB",
                  file=sys.stderr, flush=True)

    med = {t: statistics.median(r["wall"] for r in runs[t]) for t in tools}
    peak = {t: max(r["rss"] for r in runs[t]) for t in tools}
    base = "grid" if "grid" in tools else tools[0]
    model, nproc = machine_description()

    print(f"## Outcomes x treatments: 3 outcomes x 2 treatments (6 cells, ATE + ATT each), n={args.n}, "
          f"p={args.p}, {args.folds} folds, XGBoost hist {args.rounds} rounds, max_depth {args.max_depth}, "
          f"eta {args.eta}, {args.threads} threads, device {args.device}\n")
    print(f"Machine: {model}, nproc {nproc}. Data: fastdml simulate --design grid --seed {args.seed}. "
          f"fastdml --outcome-design {args.outcome_design}; DoubleML mode {args.doubleml_mode}.\n")
    print(f"| method | median wall s | runs (s) | peak RSS MiB | time / {base} |")
    print("|---|---:|---|---:|---:|")
    for t in tools:
        walls = ", ".join(f"{r['wall']:.2f}" for r in runs[t])
        print(f"| {LABELS[t]} | {med[t]:.2f} | {walls} | {peak[t]:.0f} | {med[t] / med[base]:.2f} |")
    print(f"\nMedians over {args.repeats} repeat(s), tools alternating. Wall time includes process start, "
          "imports and CSV reading; (b) is the sum of its 6 processes, its RSS the largest of them.\n")

    if "grid" in tools or "separate" in tools:
        have = [t for t in ("grid", "separate") if t in tools]
        mids = {t: runs[t][median_index([r["wall"] for r in runs[t]])] for t in have}
        print("Where the time goes (median run's JSON `timings`, s; (b) summed over its 6 runs):\n")
        print("| phase | " + " | ".join(f"{t} s | share" for t in have) + " |")
        print("|---|" + "---:|---:|" * len(have))
        keys = [k for k in PHASES if any(k in mids[t]["timings"] for t in have)]
        keys += sorted({k for t in have for k in mids[t]["timings"] if k not in PHASES and k != "total"})
        for k in keys + ["total"]:
            cells = []
            for t in have:
                tim = mids[t]["timings"]
                v, tot = tim.get(k), tim.get("total")
                if isinstance(v, (int, float)) and isinstance(tot, (int, float)) and tot > 0:
                    cells.append(f"{v:.3f} | {100 * v / tot:.1f}%")
                else:
                    cells.append("n/a | ")
            print(f"| {k} | " + " | ".join(cells) + " |")
        for t in have:
            tot = mids[t]["timings"].get("total")
            if isinstance(tot, (int, float)):
                print(f"\n{t}: process wall {mids[t]['wall']:.2f} s vs JSON total {tot:.2f} s "
                      f"(the rest: process start and exit{' x 6' if t == 'separate' else ''}).")
        print()

    if "doubleml" in tools:
        tim = runs["doubleml"][median_index([r["wall"] for r in runs["doubleml"]])]["timings"]
        print("DoubleML phases (median run, s): " + ", ".join(f"{k} {v:.2f}" for k, v in tim.items()) + "\n")

    print("Estimates (first repeat) against the design's population truth:\n")
    print("| outcome | treatment | estimand | truth | " + " | ".join(f"{t} (se)" for t in tools) + " |")
    print("|---|---|---|---:|" + "---:|" * len(tools))
    truth_cells = {(c["outcome"], c["treatment"]): c for c in truth["cells"]}
    for y, t in CELLS:
        for est in ESTIMANDS:
            row = []
            for tool in tools:
                e = runs[tool][0]["estimates"].get((y, t, est))
                row.append("n/a" if e is None else f"{e['estimate']:.4f} ({e['se']:.4f})")
            print(f"| {y} | {t} | {est} | {truth_cells[(y, t)][est]:.4f} | " + " | ".join(row) + " |")

    if args.json_out:
        def plain(r):
            return {k: ({f"{a}|{b}|{c}": v for (a, b, c), v in r[k].items()} if k == "estimates" else r[k])
                    for k in r}
        Path(args.json_out).write_text(json.dumps({
            "config": vars(args) | {"cli": portable_path(cli), "workdir": None},
            "machine": {"model": model, "nproc": nproc},
            "median_wall_s": med, "peak_rss_mib": peak,
            "runs": {t: [plain(r) for r in runs[t]] for t in tools}}, indent=2, default=str))


if __name__ == "__main__":
    main()
