#!/usr/bin/env python3
"""Coverage of the grid's pointwise intervals and joint band (issue 16, item 4).

For each of --seeds data sets (`fastdml simulate --design grid`, seed
seed0 + i: outcomes y1, y2, y3, binary treatments t1, t2, features x1..xp),
one grid run estimates every (outcome, treatment) cell's ATE and ATT:

  fastdml estimate --outcome y1,y2,y3 --treatment t1,t2 --estimand ate,att
      --bootstrap 999 --joint --p-adjust romano-wolf,holm,bonferroni

and we count, per cell and estimand, how often the pointwise CI covers the
truth, and how often the joint band covers ALL 6 cells x 2 estimands at once
(what a simultaneous band promises: about --level, 95%).

Truth: the truth JSON's population values ("ate" = E[tau_jk(X)], "att" =
E[tau_jk(X) | t_k = 1], closed form), which DML's standard errors target
(they include the variation of the individual effects); the coverage of the
sample values ("ate_sample", "att_sample") is shown beside them.
Coverage MC SE: sqrt(c (1 - c) / seeds). With 100 seeds a 95% coverage has a
Monte Carlo SE of about 0.022.

The cell (y2, t2) has no effect: the share of seeds in which an adjusted
p-value rejects it at 1 - level is the family-wise error rate of each
--p-adjust method (every other cell is a false null, so that is the FWER);
power is the mean share of non-null cells x estimands rejected.

The grid run needs the grid CLI (issue 16, item 2): every JSON estimate must
carry "outcome" and "treatment". The first seed runs before the pool starts,
and the study stops with that run's error if it fails.

Usage: bench/grid_coverage_study.py [--seeds 100] [--n 2000] [--workers 2] [--cli build/fastdml]
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coverage_study import coverage, fmt_cov  # noqa: E402  (the binomial coverage and its MC SE)
from measure import portable_path  # noqa: E402  (bench/measure.py)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLI = REPO / "build" / "fastdml"
OUTCOMES = ["y1", "y2", "y3"]
TREATMENTS = ["t1", "t2"]
CELLS = [(y, t) for y in OUTCOMES for t in TREATMENTS]
ESTIMANDS = ["ate", "att"]
P_ADJUST = ["romano-wolf", "holm", "bonferroni"]
FIELDS = ("estimate", "se", "ci_lower", "ci_upper", "joint_ci_lower", "joint_ci_upper", "p_value")


def run(cmd, timeout=1800):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {' '.join(map(str, cmd))}\n{proc.stderr[-2000:]}")
    return proc


def parse_grid_json(res: dict) -> dict:
    """{"y|t|estimand": fields} for the 12 entries; raises naming what is missing."""
    out = {}
    for i, e in enumerate(res.get("estimates", [])):
        if "outcome" not in e or "treatment" not in e:
            raise RuntimeError(f"estimates[{i}] lacks the 'outcome'/'treatment' fields: this fastdml does not "
                               "have the grid CLI (issue 16, item 2) yet")
        if e["estimand"] not in ESTIMANDS:
            continue
        missing = [k for k in FIELDS if k not in e]
        if missing:
            raise RuntimeError(f"estimate ({e['outcome']}, {e['treatment']}, {e['estimand']}) lacks {missing}")
        row = {k: e[k] for k in FIELDS}
        row["p_adjusted"] = e.get("p_adjusted", {})
        out[f"{e['outcome']}|{e['treatment']}|{e['estimand']}"] = row
    want = {f"{y}|{t}|{est}" for y, t in CELLS for est in ESTIMANDS}
    if set(out) != want:
        raise RuntimeError(f"the grid JSON lacks {sorted(want - set(out))}")
    return out


def one_seed(job: dict) -> dict:
    """Simulate data set `seed`, run the grid once, return its intervals and the truths."""
    directory = Path(tempfile.mkdtemp(prefix=f"gridcov_{job['seed']}_", dir=job["tmp"]))
    try:
        csv = directory / "grid.csv"
        run([job["cli"], "simulate", "--design", "grid", "--n", job["n"], "--p", job["p"], "--seed", job["seed"],
             "--out", csv])
        truth = json.loads((directory / "grid.truth.json").read_text())
        out_json = directory / "out.json"
        cmd = [job["cli"], "estimate", "--data", csv, "--outcome", ",".join(OUTCOMES),
               "--treatment", ",".join(TREATMENTS), "--features", ",".join(f"x{k}" for k in range(1, job["p"] + 1)),
               "--model", "irm", "--estimand", ",".join(ESTIMANDS), "--folds", job["folds"], "--seed", job["seed"],
               "--threads", job["threads"], "--level", job["level"], "--bootstrap", job["bootstrap"],
               "--bootstrap-method", job["method"], "--joint", "--p-adjust", ",".join(P_ADJUST), "--quiet",
               "--json", out_json]
        for flag, value in (("--rounds", job["rounds"]), ("--max-depth", job["max_depth"])):
            if value != "default":  # "default" leaves fastdml's own
                cmd += [flag, value]
        cmd += job["extra"].split()
        run(cmd)
        est = parse_grid_json(json.loads(out_json.read_text()))
        truths = {f"{c['outcome']}|{c['treatment']}|{e}": dict(population=c[e], sample=c[f"{e}_sample"],
                                                                null=bool(c["null"]))
                  for c in truth["cells"] for e in ESTIMANDS}
        return dict(ok=True, seed=job["seed"], est=est, truth=truths)
    except Exception as exc:  # noqa: BLE001  (counted as failed; the study goes on)
        return dict(ok=False, seed=job["seed"], error=str(exc)[-1500:])
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=100, help="data sets (default 100)")
    ap.add_argument("--n", type=int, default=2000, help="rows per data set (default 2000)")
    ap.add_argument("--p", type=int, default=10, help="features x1..xp (default 10; at least 6)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--rounds", default="default",
                    help="a count, auto, or default (fastdml's own: early stopping; default default)")
    ap.add_argument("--max-depth", default="3", help="a depth, or default (fastdml's own; default 3)")
    ap.add_argument("--extra", default="", help="more estimate flags, e.g. \"--outcome-design separate\"")
    ap.add_argument("--bootstrap", type=int, default=999, help="bootstrap replicates (default 999)")
    ap.add_argument("--method", default="normal", help="--bootstrap-method (default normal)")
    ap.add_argument("--level", type=float, default=0.95)
    ap.add_argument("--seed0", type=int, default=1000, help="data set i uses simulate --seed seed0 + i")
    ap.add_argument("--threads", type=int, default=1, help="fastdml --threads per run (default 1)")
    ap.add_argument("--workers", type=int, default=2, help="seeds run at once in a process pool (default 2)")
    ap.add_argument("--cli", default=os.environ.get("FASTDML_CLI", str(DEFAULT_CLI)), help="fastdml binary")
    ap.add_argument("--raw-json", default=None, help="also write every seed's result here")
    args = ap.parse_args()

    cli = Path(args.cli)
    if not cli.is_file():
        raise SystemExit(f"fastdml binary not found: {cli} (build it or pass --cli)")
    if args.p < 6:
        raise SystemExit("--p must be at least 6 (the grid design's effects use x1..x6)")
    if args.seeds < 1 or args.workers < 1:
        raise SystemExit("--seeds and --workers must be at least 1")

    tmp = tempfile.mkdtemp(prefix="fastdml_grid_coverage_")
    t0 = time.perf_counter()
    jobs = [dict(seed=args.seed0 + i, cli=str(cli), n=args.n, p=args.p, folds=args.folds, rounds=args.rounds,
                 max_depth=args.max_depth, extra=args.extra, bootstrap=args.bootstrap, method=args.method,
                 level=args.level, threads=args.threads, tmp=tmp)
            for i in range(args.seeds)]
    try:
        # The first seed alone: a CLI without the grid stops the study here, loudly.
        first = one_seed(jobs[0])
        if not first["ok"]:
            raise SystemExit(f"grid run failed for seed {first['seed']}:\n{first['error']}")
        results = [first]
        with cf.ProcessPoolExecutor(max_workers=args.workers) as pool:
            for k, res in enumerate(pool.map(one_seed, jobs[1:], chunksize=1), 2):
                results.append(res)
                if not res["ok"]:
                    print(f"failed: seed {res['seed']}: {res['error']}", file=sys.stderr)
                if k % 20 == 0 or k == len(jobs):
                    print(f"{k}/{len(jobs)} seeds, {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.perf_counter() - t0

    if args.raw_json:
        with open(args.raw_json, "w") as f:
            json.dump(dict(args={k: portable_path(v) if k == "cli" else v for k, v in vars(args).items()},
                           results=results), f, indent=1)

    ok = [r for r in results if r["ok"]]
    failed = len(results) - len(ok)
    keys = [f"{y}|{t}|{e}" for y, t in CELLS for e in ESTIMANDS]
    pct = round(100 * args.level)
    alpha = 1 - args.level

    def covers(r, key, lo, hi, which="population"):
        v = r["truth"][key][which]
        return r["est"][key][lo] <= v <= r["est"][key][hi]

    print(f"## Coverage of the grid's {pct}% intervals: 3 outcomes x 2 treatments, one run per seed\n")
    print(f"{len(ok)} seeds ({failed} failed), n = {args.n}, p = {args.p}, {args.folds} folds, XGBoost rounds "
          f"{args.rounds}, depth {args.max_depth}{(', ' + args.extra) if args.extra else ''}, bootstrap "
          f"{args.bootstrap} x {args.method} with --joint over all {len(keys)} cells x estimands, "
          f"{args.workers} workers, {elapsed:.0f}s in all. Coverage ± binomial MC SE; truth = the design's "
          "population value (closed form).\n")
    print("| outcome | treatment | estimand | truth | coverage pointwise | coverage joint | pointwise vs sample "
          "truth | mean CI width | mean joint width | z mean (sd) |")
    print("|---|---|---|---:|---|---|---|---:|---:|---|")
    for key in keys:
        y, t, e = key.split("|")
        point = [covers(r, key, "ci_lower", "ci_upper") for r in ok]
        joint = [covers(r, key, "joint_ci_lower", "joint_ci_upper") for r in ok]
        sample = [covers(r, key, "ci_lower", "ci_upper", "sample") for r in ok]
        width = sum(r["est"][key]["ci_upper"] - r["est"][key]["ci_lower"] for r in ok) / max(len(ok), 1)
        jwidth = sum(r["est"][key]["joint_ci_upper"] - r["est"][key]["joint_ci_lower"] for r in ok) / max(len(ok), 1)
        # z = (estimate - truth) / SE: a mean away from 0 is bias, an sd above 1 an SE too small.
        z = [(r["est"][key]["estimate"] - r["truth"][key]["population"]) / r["est"][key]["se"] for r in ok]
        z_mean = sum(z) / max(len(z), 1)
        z_sd = math.sqrt(sum((v - z_mean) ** 2 for v in z) / max(len(z) - 1, 1))
        tv = ok[0]["truth"][key]["population"] if ok else float("nan")
        print(f"| {y} | {t} | {e.upper()} | {tv:.4f} | {fmt_cov(point)} | {fmt_cov(joint)} | {fmt_cov(sample)} | "
              f"{width:.4f} | {jwidth:.4f} | {z_mean:+.2f} ({z_sd:.2f}) |")

    all_joint = [all(covers(r, k, "joint_ci_lower", "joint_ci_upper") for k in keys) for r in ok]
    all_point = [all(covers(r, k, "ci_lower", "ci_upper") for k in keys) for r in ok]
    print(f"\n**Simultaneous:** the joint band covers all {len(keys)} cells x estimands in "
          f"{fmt_cov(all_joint)} of seeds (target {args.level:.2f}); the pointwise CIs all cover at once in "
          f"{fmt_cov(all_point)}.\n")

    nulls = [k for k in keys if ok and ok[0]["truth"][k]["null"]]
    alts = [k for k in keys if k not in nulls]
    if nulls:
        print(f"Multiple testing at {alpha:.2f} over the {len(keys)} entries; true nulls: "
              f"{', '.join(nulls)} (FWER = share of seeds rejecting any of them; power = mean share of the "
              f"{len(alts)} non-null entries rejected):\n")
        print("| p-values | FWER | power |")
        print("|---|---|---:|")
        methods = [("unadjusted", None)] + [(m, m) for m in P_ADJUST]
        for label, m in methods:
            def pval(r, k, m=m):
                return r["est"][k]["p_value"] if m is None else r["est"][k]["p_adjusted"].get(m)
            if m is not None and not all(pval(r, k) is not None for r in ok for k in keys):
                print(f"| {label} | n/a (not in the JSON) | |")
                continue
            fwer = [any(pval(r, k) < alpha for k in nulls) for r in ok]
            power = sum(pval(r, k) < alpha for r in ok for k in alts) / max(len(ok) * len(alts), 1)
            print(f"| {label} | {fmt_cov(fwer)} | {power:.3f} |")


if __name__ == "__main__":
    main()
