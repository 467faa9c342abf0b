#!/usr/bin/env python3
"""Empirical coverage of fastdml's 95% pointwise CIs and joint (sup-t) bands.

For each configuration, --datasets simulated data sets (`fastdml simulate`,
seeds seed0 + i), each estimated by the CLI with small fast learners and the
multiplier bootstrap (`--bootstrap B --joint`); we count how often the interval
contains the truth. Configurations:

| model | design | clusters | estimands |
|---|---|---|---|
| IRM | irm (DoubleML's make_irm_data) | none | ATE, ATT |
| PLR | plr (make_plr_CCDDHNR2018) | none | ATE (constant effect) |
| IRM | seller ((seller, product) rows) | `--cluster seller_id` | ATE, ATT |
| IRM | seller | none (ignores the clustering; expected to under-cover) | ATE, ATT |

Truth: DML standard errors include the variation of the individual effects,
so they target population estimands. ATE: the truth JSON's "ate_population"
(else "ate"). ATT: the population ATT is not in the truth JSON (its "att" is
the sample's), so it is estimated once per design from one large simulation
(--truth-n rows, its "att"; its own sampling error is far below the CI widths).
The table also gives the pointwise coverage of the sample truths ("ate",
"att" of each data set's truth JSON).

Joint coverage: per estimand, the joint band covers its truth; "all" = the
band covers every estimand's truth at once (what a simultaneous band
promises). Coverage MC SE: sqrt(c (1 - c) / datasets).

Usage: bench/coverage_study.py [--datasets 500] [--workers 2] [--cli build/fastdml]
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import portable_path  # noqa: E402  (bench/measure.py)
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLI = REPO / "build" / "fastdml"

# name -> (model, design, cluster column or None, estimands)
CONFIGS = {
    "irm": ("irm", "irm", None, ("ate", "att")),
    "plr": ("plr", "plr", None, ("ate",)),
    "seller-clustered": ("irm", "seller", "seller_id", ("ate", "att")),
    "seller-unclustered": ("irm", "seller", None, ("ate", "att")),
}


def run(cmd, timeout=600):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {' '.join(map(str, cmd))}\n{proc.stderr[-2000:]}")
    return proc


def columns(csv_path: Path, truth: dict):
    with open(csv_path) as f:
        header = f.readline().strip().split(",")
    outcome = truth.get("outcome", "y")
    treatment = truth.get("treatment", "d")
    skip = {outcome, treatment}
    if isinstance(truth.get("cluster"), str):
        skip.add(truth["cluster"])
    return outcome, treatment, [c for c in header if c not in skip]


def simulate(cli, design, n, p, seed, directory: Path):
    csv = directory / f"{design}_{seed}.csv"
    run([cli, "simulate", "--design", design, "--n", n, "--p", p, "--seed", seed, "--out", csv])
    truth_path = directory / f"{design}_{seed}.truth.json"
    with open(truth_path) as f:
        truth = json.load(f)
    return csv, truth_path, truth


def one_dataset(job: dict) -> dict:
    """Simulate data set `seed`, estimate, return estimates, intervals and truths."""
    model, design, cluster, estimands = CONFIGS[job["config"]]
    directory = Path(tempfile.mkdtemp(prefix=f"cov_{job['config']}_{job['seed']}_", dir=job["tmp"]))
    try:
        csv, _, truth = simulate(job["cli"], design, job["n"], job["p"], job["seed"], directory)
        outcome, treatment, features = columns(csv, truth)
        out_json = directory / "out.json"
        cmd = [job["cli"], "estimate", "--data", csv, "--outcome", outcome, "--treatment", treatment,
               "--features", ",".join(features), "--model", model, "--estimand", ",".join(estimands),
               "--folds", job["folds"], "--seed", job["seed"], "--threads", 1, "--level", job["level"],
               "--bootstrap", job["bootstrap"], "--bootstrap-method", job["method"], "--joint", "--quiet",
               "--json", out_json]
        # Learner flags only where given: "default" leaves fastdml's defaults.
        for flag, value in (("--rounds", job["rounds"]), ("--max-depth", job["max_depth"])):
            if value != "default":
                cmd += [flag, value]
        cmd += job["extra"].split()
        if cluster:
            cmd += ["--cluster", cluster]
        run(cmd)
        with open(out_json) as f:
            res = json.load(f)
        est = {}
        for e in res["estimates"]:
            est[e["estimand"]] = {k: e[k] for k in ("estimate", "se", "ci_lower", "ci_upper",
                                                    "joint_ci_lower", "joint_ci_upper")}
        sample_truth = {"ate": truth.get("ate_sample", truth.get("ate")), "att": truth.get("att")}
        return dict(ok=True, config=job["config"], seed=job["seed"], est=est, sample_truth=sample_truth,
                    ate_population=truth.get("ate_population", truth.get("ate")),
                    crit=res["bootstrap"]["joint_critical_values"])
    except Exception as exc:  # noqa: BLE001  (reported in the table, the study goes on)
        return dict(ok=False, config=job["config"], seed=job["seed"], error=str(exc)[-1500:])
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def population_att(cli, design, n, p, seed, tmp) -> float | None:
    directory = Path(tempfile.mkdtemp(prefix=f"truth_{design}_", dir=tmp))
    try:
        _, _, truth = simulate(cli, design, n, p, seed, directory)
        return truth.get("att")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def coverage(hits):
    k, d = sum(hits), len(hits)
    c = k / d if d else float("nan")
    return c, math.sqrt(c * (1 - c) / d) if d else float("nan")


def fmt_cov(hits):
    if not hits:
        return "—"
    c, se = coverage(hits)
    return f"{c:.3f} ± {se:.3f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", type=int, default=500, help="data sets per configuration (default 500)")
    ap.add_argument("--configs", default=",".join(CONFIGS), help=f"comma list of {', '.join(CONFIGS)}")
    ap.add_argument("--n", type=int, default=2000, help="rows per data set (default 2000)")
    ap.add_argument("--p", type=int, default=10, help="features (default 10; the seller design needs >= 8)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--rounds", default="50", help="a count, auto, or default (fastdml's own; default 50)")
    ap.add_argument("--max-depth", default="3", help="a depth, or default (fastdml's own; default 3)")
    ap.add_argument("--extra", default="", help="more estimate flags, e.g. \"--tune\" (default none)")
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates (default 1000)")
    ap.add_argument("--method", default="normal", help="--bootstrap-method (default normal)")
    ap.add_argument("--level", type=float, default=0.95)
    ap.add_argument("--seed0", type=int, default=1000, help="data set i uses simulate --seed seed0 + i")
    ap.add_argument("--truth-n", type=int, default=200_000,
                    help="rows of the one large simulation that estimates the population ATT (default 200000)")
    ap.add_argument("--workers", type=int, default=2, help="process pool size (default 2)")
    ap.add_argument("--cli", default=os.environ.get("FASTDML_CLI", str(DEFAULT_CLI)), help="fastdml binary")
    ap.add_argument("--raw-json", default=None, help="also write every data set's result here")
    args = ap.parse_args()

    cli = Path(args.cli)
    if not cli.is_file():
        raise SystemExit(f"fastdml binary not found: {cli} (build it or pass --cli)")
    configs = [c for c in args.configs.split(",") if c]
    for c in configs:
        if c not in CONFIGS:
            raise SystemExit(f"unknown config '{c}' (expected {', '.join(CONFIGS)})")
    helptext = run([cli, "estimate", "--help"]).stdout
    if "--cluster" not in helptext:
        dropped = [c for c in configs if CONFIGS[c][2]]
        if dropped:
            print(f"note: this fastdml has no --cluster option; skipping {', '.join(dropped)}", file=sys.stderr)
        configs = [c for c in configs if not CONFIGS[c][2]]

    tmp = tempfile.mkdtemp(prefix="fastdml_coverage_")
    t0 = time.perf_counter()
    try:
        att_pop = {}
        for design in sorted({CONFIGS[c][1] for c in configs if "att" in CONFIGS[c][3]}):
            att_pop[design] = population_att(cli, design, args.truth_n, args.p, 10 ** 6 + 7, tmp)
            print(f"population ATT of design {design} (n = {args.truth_n}): {att_pop[design]:.4f}", file=sys.stderr)
        jobs = [dict(config=c, seed=args.seed0 + i, cli=str(cli), n=args.n, p=args.p, folds=args.folds,
                     rounds=args.rounds, max_depth=args.max_depth, extra=args.extra, bootstrap=args.bootstrap, method=args.method,
                     level=args.level, tmp=tmp)
                for c in configs for i in range(args.datasets)]
        results = []
        with cf.ProcessPoolExecutor(max_workers=args.workers) as pool:
            for k, res in enumerate(pool.map(one_dataset, jobs, chunksize=1), 1):
                results.append(res)
                if not res["ok"]:
                    print(f"failed: {res['config']} seed {res['seed']}: {res['error']}", file=sys.stderr)
                if k % 50 == 0 or k == len(jobs):
                    print(f"{k}/{len(jobs)} data sets, {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if args.raw_json:
        with open(args.raw_json, "w") as f:
            json.dump(dict(args={k: portable_path(v) if k == "cli" else v for k, v in vars(args).items()},
                           att_population=att_pop, results=results),
                      f, indent=1)

    pct = round(100 * args.level)
    print(f"## Coverage of fastdml's {pct}% intervals\n")
    print(f"{args.datasets} data sets per configuration, n = {args.n}, p = {args.p}, {args.folds} folds, "
          f"XGBoost rounds {args.rounds}, depth {args.max_depth}{(', ' + args.extra) if args.extra else ''}, bootstrap {args.bootstrap} x {args.method}, "
          f"{args.workers} workers, {time.perf_counter() - t0:.0f}s in all. Coverage ± binomial MC SE.\n")
    print("| model | design | clusters | estimand | truth | coverage pointwise | coverage joint "
          "| mean CI width | mean joint width | pointwise vs sample truth | z mean (sd) | data sets (failed) |")
    print("|---|---|---|---|---:|---|---|---:|---:|---|---|---:|")
    for c in configs:
        model, design, cluster, estimands = CONFIGS[c]
        ok = [r for r in results if r["config"] == c and r["ok"]]
        failed = sum(1 for r in results if r["config"] == c and not r["ok"])
        all_joint = [True] * len(ok)
        for e in estimands:
            truth_of = (lambda r: r["ate_population"]) if e == "ate" else (lambda r, d=design: att_pop[d])
            point = [r["est"][e]["ci_lower"] <= truth_of(r) <= r["est"][e]["ci_upper"] for r in ok]
            joint = [r["est"][e]["joint_ci_lower"] <= truth_of(r) <= r["est"][e]["joint_ci_upper"] for r in ok]
            sample = [r["est"][e]["ci_lower"] <= r["sample_truth"][e] <= r["est"][e]["ci_upper"]
                      for r in ok if r["sample_truth"][e] is not None]
            all_joint = [a and b for a, b in zip(all_joint, joint)]
            width = sum(r["est"][e]["ci_upper"] - r["est"][e]["ci_lower"] for r in ok) / max(len(ok), 1)
            jwidth = sum(r["est"][e]["joint_ci_upper"] - r["est"][e]["joint_ci_lower"] for r in ok) / max(len(ok), 1)
            # z = (estimate - truth) / SE: a mean away from 0 is bias, an sd above 1 an SE too small.
            z = [(r["est"][e]["estimate"] - truth_of(r)) / r["est"][e]["se"] for r in ok]
            z_mean = sum(z) / max(len(z), 1)
            z_sd = math.sqrt(sum((v - z_mean) ** 2 for v in z) / max(len(z) - 1, 1))
            truth_value = ok[0]["ate_population"] if (e == "ate" and ok) else att_pop.get(design)
            truth_text = f"{truth_value:.4f} ({'population' if e == 'ate' else 'population, simulated'})" \
                if truth_value is not None else "—"
            print(f"| {model.upper()} | {design} | {cluster or 'none'} | {e.upper()} | {truth_text} | "
                  f"{fmt_cov(point)} | {fmt_cov(joint)} | {width:.4f} | {jwidth:.4f} | {fmt_cov(sample)} | "
                  f"{z_mean:+.2f} ({z_sd:.2f}) | {len(ok)} ({failed}) |")
        if len(estimands) > 1:
            print(f"| {model.upper()} | {design} | {cluster or 'none'} | all (simultaneous) | | — | "
                  f"{fmt_cov(all_joint)} | | | | | {len(ok)} ({failed}) |")


if __name__ == "__main__":
    main()
