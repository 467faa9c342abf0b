#!/usr/bin/env python3
"""Multiplier bootstrap: fastdml vs DoubleML 0.11.4 on the same scores.

For each n (rows) and B (replicates), IRM with two estimands (ATE and ATT), one
repetition:

- fastdml: `fastdml estimate --load-predictions P --estimand ate,att --bootstrap B
  --bootstrap-method M --bootstrap-sampler S --joint --quiet --json` on a
  predictions file generated here (no training). Its bootstrap time is the
  JSON's timings.bootstrap (the bootstrap alone: multipliers, t*, critical
  values). Memory: the child's peak RSS (ru_maxrss from os.wait4), and the same
  command without --bootstrap; the difference is the bootstrap's own memory.
- DoubleML: a fresh interpreter builds a DoubleMLFramework directly from the
  scores (DoubleMLCore(all_thetas, all_ses, var_scaling_factors, scaled_psi) --
  the cheapest way, no model fit) and times framework.bootstrap(method, B).
  DoubleML draws the whole B x n weight matrix (utils/_estimation.py,
  _draw_weights): B n 8 bytes for normal and Bayes (numpy reuses the
  exponential matrix's buffer for the minus 1), 4 B n 8 for wild (two normal
  matrices and two temporaries); measured, n = 1e5, B = 2000. Its
  bootstrap memory is its peak RSS after the bootstrap minus its peak before.
  Configurations whose estimated need exceeds --max-gib are skipped (the table
  says so).

DoubleML has normal, wild and Bayes multipliers; Rademacher and Mammen exist
only in fastdml. Both fastdml samplers of the normal bootstrap (exact: the
replicate vector drawn from its exact N(0, Sigma) law, O(B k^2); loop: one
weight per row and replicate, O(B n)) are compared with DoubleML's normal.

Usage: bench/bench_bootstrap_vs_doubleml.py [--quick] [--max-gib 12] [--cli build/fastdml]
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

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLI = REPO / "build" / "fastdml"
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
CLIP = 0.01

# (fastdml method, fastdml sampler, DoubleML method or None)
SCHEMES = [
    ("normal", "exact", "normal"),
    ("normal", "loop", "normal"),
    ("rademacher", "loop", None),
    ("mammen", "loop", None),
    ("wild", "loop", "wild"),
    ("bayes", "loop", "Bayes"),
]
# DoubleML's peak weight memory in units of B n 8 bytes (measured; see the docstring).
DOUBLEML_MATRICES = {"normal": 1, "Bayes": 1, "wild": 4}

DOUBLEML_SCRIPT = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np
    from doubleml.double_ml_framework import DoubleMLCore, DoubleMLFramework
    cfg = json.loads(sys.argv[1])
    z = np.load(cfg["scores"])
    core = DoubleMLCore(all_thetas=z["all_thetas"], all_ses=z["all_ses"],
                        var_scaling_factors=z["var_scaling_factors"], scaled_psi=z["scaled_psi"])
    fw = DoubleMLFramework(core)
    np.random.seed(cfg["seed"])
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    fw.bootstrap(method=cfg["method"], n_rep_boot=cfg["B"])
    ci = fw.confint(joint=True, level=0.95)
    seconds = time.perf_counter() - t0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    crit = float(np.quantile(np.abs(fw.boot_t_stat).max(axis=1)[:, 0], 0.95))
    print("RESULT " + json.dumps({"seconds": seconds, "rss_before_kib": rss0, "rss_after_kib": rss1,
                                  "critical_value": crit}))
""")


# --- inputs ------------------------------------------------------------------------------

def make_inputs(n: int, seed: int, directory: Path) -> dict:
    """Data CSV, predictions CSV (IRM, one repetition, 5 folds) and DoubleML's
    framework arrays (npz) from the same predictions, scores as docs/design.md section 2."""
    from scipy.special import expit, logit

    rng = np.random.default_rng(seed)
    p = 3
    x = rng.normal(size=(n, p))
    ps = expit(0.8 * x[:, 0] - 0.5 * x[:, 1])
    d = rng.binomial(1, ps).astype(np.int64)
    tau = 0.5 * (1.0 + 0.5 * x[:, 0])
    base = x @ np.array([1.0, -0.5, 0.25])
    y = base + d * tau + rng.normal(size=n)
    m = np.clip(expit(logit(ps) + rng.normal(scale=0.3, size=n)), 0.005, 0.995)
    g0 = base + rng.normal(scale=0.3, size=n)
    g1 = g0 + tau + rng.normal(scale=0.3, size=n)
    fold = np.empty(n, dtype=np.int64)
    fold[rng.permutation(n)] = np.arange(n) % 5

    features = [f"x{j}" for j in range(p)]
    data_csv, pred_csv, scores_npz = directory / f"data_{n}.csv", directory / f"pred_{n}.csv", directory / f"scores_{n}.npz"
    import pandas as pd

    df = pd.DataFrame(x, columns=features)
    df.insert(0, "d", d)
    df.insert(0, "y", y)
    df.to_csv(data_csv, index=False, float_format="%.10g")
    pd.DataFrame({"row": np.arange(n), "rep": 0, "fold": fold, "m_hat": m, "g0_hat": g0, "g1_hat": g1,
                  "l_hat": np.nan}).to_csv(pred_csv, index=False, float_format="%.10g", na_rep="")
    # Re-read what was written, so that both tools see the same rounded values.
    pr = pd.read_csv(pred_csv)
    m, g0, g1 = pr["m_hat"].to_numpy(), pr["g0_hat"].to_numpy(), pr["g1_hat"].to_numpy()
    y = pd.read_csv(data_csv, usecols=["y"])["y"].to_numpy()

    mc = np.clip(m, CLIP, 1 - CLIP)
    p_treat = d.mean()
    psi_a = np.column_stack([-np.ones(n), -d / p_treat])
    psi_b = np.column_stack([
        g1 - g0 + d * (y - g1) / mc - (1 - d) * (y - g0) / (1 - mc),
        d * (y - g0) / p_treat - mc * (1 - d) * (y - g0) / (p_treat * (1 - mc)),
    ])
    theta = -psi_b.mean(axis=0) / psi_a.mean(axis=0)
    psi = theta * psi_a + psi_b
    j = psi_a.mean(axis=0)
    se = np.sqrt((psi ** 2).mean(axis=0) / (n * j ** 2))
    np.savez(scores_npz, all_thetas=theta.reshape(2, 1), all_ses=se.reshape(2, 1),
             var_scaling_factors=np.full(2, float(n)), scaled_psi=(psi / j).reshape(n, 2, 1))
    return dict(data=data_csv, pred=pred_csv, scores=scores_npz, features=features)


# --- the two tools -------------------------------------------------------------------------

def fastdml_run(cli, inputs, threads, out_json, boot=None, env=None):
    cmd = [str(cli), "estimate", "--data", str(inputs["data"]), "--outcome", "y", "--treatment", "d",
           "--features", ",".join(inputs["features"]), "--model", "irm", "--estimand", "ate,att",
           "--clip", str(CLIP), "--load-predictions", str(inputs["pred"]), "--threads", str(threads),
           "--quiet", "--json", str(out_json)]
    if boot is not None:
        b, method, sampler, seed = boot
        cmd += ["--bootstrap", str(b), "--bootstrap-method", method, "--bootstrap-sampler", sampler,
                "--bootstrap-seed", str(seed), "--joint"]
    wall, rss, _ = run_measured(cmd, env=env)
    with open(out_json) as f:
        result = json.load(f)
    return wall, rss, result


def doubleml_run(python, inputs, method, b, seed, env):
    cfg = dict(scores=str(inputs["scores"]), method=method, B=b, seed=seed)
    wall, rss, out = run_measured([str(python), "-c", DOUBLEML_SCRIPT, json.dumps(cfg)], env=env)
    line = [ln for ln in out.splitlines() if ln.startswith("RESULT ")][-1]
    res = json.loads(line[len("RESULT "):])
    res["peak_mib"] = rss
    res["boot_mib"] = (res["rss_after_kib"] - res["rss_before_kib"]) / 1024.0
    return res


def machine_description():
    model = platform.processor() or "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name:")), model)
    except (OSError, subprocess.CalledProcessError):
        pass
    return model, os.cpu_count()


def fmt(x, spec=".3f"):
    return "—" if x is None else format(x, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", default="100000,1000000", help="comma list of row counts (default 100000,1000000)")
    ap.add_argument("--B", default="1000,10000", help="comma list of replicate counts (default 1000,10000)")
    ap.add_argument("--methods", default=",".join(sorted({s[0] for s in SCHEMES})),
                    help="comma list of fastdml methods to run (default all)")
    ap.add_argument("--threads", type=int, default=2, help="fastdml --threads and BLAS threads (default 2)")
    ap.add_argument("--repeats", type=int, default=1, help="fastdml runs per configuration; median (default 1)")
    ap.add_argument("--max-gib", type=float, default=12.0,
                    help="skip DoubleML configurations whose weight matrices need more (default 12)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="smoke test: n=20000, B=1000,2000")
    ap.add_argument("--cli", default=os.environ.get("FASTDML_CLI", str(DEFAULT_CLI)), help="fastdml binary")
    ap.add_argument("--python", default=str(VENV_PYTHON if VENV_PYTHON.exists() else sys.executable),
                    help="interpreter with DoubleML (default: the project venv)")
    ap.add_argument("--workdir", default=None, help="keep inputs here (default: a temporary folder)")
    args = ap.parse_args()
    if args.quick:
        args.n, args.B = "20000", "1000,2000"
    ns = [int(float(v)) for v in args.n.split(",")]
    bs = [int(float(v)) for v in args.B.split(",")]
    methods = set(args.methods.split(","))
    cli = Path(args.cli)
    if not cli.is_file():
        raise SystemExit(f"fastdml binary not found: {cli} (build it or pass --cli)")

    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads))
    tmp = tempfile.TemporaryDirectory(prefix="fastdml_boot_bench_") if args.workdir is None else None
    workdir = Path(args.workdir or tmp.name)
    workdir.mkdir(parents=True, exist_ok=True)

    rows = []
    for n in ns:
        t0 = time.perf_counter()
        inputs = make_inputs(n, args.seed, workdir)
        print(f"[n={n}] inputs written in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        _, rss_plain, _ = fastdml_run(cli, inputs, args.threads, workdir / "plain.json", env=env)
        doubleml_cache = {}
        for b in bs:
            for method, sampler, dml_method in SCHEMES:
                if method not in methods:
                    continue
                runs = [fastdml_run(cli, inputs, args.threads, workdir / "boot.json",
                                    boot=(b, method, sampler, args.seed), env=env) for _ in range(args.repeats)]
                boot_s = statistics.median(r[2]["timings"]["bootstrap"] for r in runs)
                rss = max(r[1] for r in runs)
                crit = runs[0][2]["bootstrap"]["joint_critical_values"][0]
                row = dict(n=n, B=b, method=method, sampler=sampler, fast_s=boot_s, fast_rss=rss,
                           fast_boot_mib=max(rss - rss_plain, 0.0), fast_crit=crit, dml=None, note="")
                if dml_method is None:
                    row["note"] = "not in DoubleML"
                else:
                    need_gib = DOUBLEML_MATRICES[dml_method] * b * n * 8 / 2 ** 30
                    if need_gib > args.max_gib:
                        row["note"] = (f"DoubleML skipped: needs ~{need_gib:.1f} GiB "
                                       f"({DOUBLEML_MATRICES[dml_method]} x B n 8 bytes) > --max-gib {args.max_gib:g}")
                    else:
                        key = (dml_method, b)
                        if key not in doubleml_cache:
                            print(f"[n={n} B={b}] DoubleML {dml_method} ...", file=sys.stderr)
                            doubleml_cache[key] = doubleml_run(args.python, inputs, dml_method, b, args.seed, env)
                        row["dml"] = doubleml_cache[key]
                print(f"[n={n} B={b}] {method}/{sampler}: fastdml {boot_s:.3f}s"
                      + (f", DoubleML {row['dml']['seconds']:.3f}s" if row["dml"] else ""), file=sys.stderr)
                rows.append(row)

    model, ncpu = machine_description()
    print(f"## Multiplier bootstrap: fastdml vs DoubleML 0.11.4 (IRM, ATE + ATT, k = 2, one repetition)\n")
    print(f"Machine: {model}, {ncpu} CPUs; fastdml --threads {args.threads}, BLAS threads {args.threads}; "
          f"fastdml runs per configuration: {args.repeats} (median).\n")
    print("Time: the bootstrap alone (fastdml: JSON timings.bootstrap; DoubleML: framework.bootstrap() "
          "and confint(joint=True)). fastdml boot MiB: peak RSS with --bootstrap minus without; "
          "DoubleML boot MiB: peak RSS after bootstrap minus before. c: joint 95% critical value.\n")
    print("| n | B | method | sampler | fastdml s | fastdml peak MiB | fastdml boot MiB | DoubleML s "
          "| DoubleML boot MiB | time ratio (DoubleML / fastdml) | c fastdml | c DoubleML | note |")
    print("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        d = r["dml"]
        ratio = d["seconds"] / r["fast_s"] if d and r["fast_s"] > 0 else None
        print(f"| {r['n']:,} | {r['B']:,} | {r['method']} | {r['sampler']} | {r['fast_s']:.3g} | "
              f"{r['fast_rss']:.0f} | {r['fast_boot_mib']:.0f} | {fmt(d and d['seconds'], '.3g')} | "
              f"{fmt(d and d['boot_mib'], '.0f')} | {fmt(ratio, '.3g')} | {r['fast_crit']:.3f} | "
              f"{fmt(d and d['critical_value'])} | {r['note']} |")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
