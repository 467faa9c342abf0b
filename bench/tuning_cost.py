#!/usr/bin/env python3
"""What early stopping and --tune cost (issue 14, item 6): wall time of one
IRM fit (ATE + ATT, 5 folds) at n = 100,000, p = 50 under a fixed 200-round
fit (the old default), --rounds auto with refit (the default) and keep, and
--tune; each configuration's wall time, its share spent tuning, the median
rounds kept and the estimates with their SEs.

Runs are interleaved (configuration order rotates every round) and the
table gives medians over --runs, measured side by side in one process on
one machine (machines are shared: compare ratios, not seconds).

Usage: .venv/bin/python bench/tuning_cost.py [--n 100000] [--p 50] [--runs 3]
       [--threads 2] [--config NAME=FLAGS]... [--cli build/fastdml]
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import run_measured  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIGS = [
    ("fixed 200 rounds", "--rounds 200"),
    ("auto, refit (default)", ""),
    ("auto, keep", "--early-stopping-model keep"),
    ("--tune", "--tune"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--p", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3, help="runs per configuration (default 3); --tune runs once")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--config", action="append", metavar="NAME=FLAGS", help="replaces the default set")
    ap.add_argument("--cli", default=os.environ.get("FASTDML_CLI", os.path.join(ROOT, "build", "fastdml")))
    a = ap.parse_args()
    configs = [tuple(c.split("=", 1)) for c in a.config] if a.config else DEFAULT_CONFIGS
    tmp = tempfile.mkdtemp(prefix="fastdml_tuning_cost_")
    data = os.path.join(tmp, "irm.csv")
    subprocess.run([a.cli, "simulate", "--design", "irm", "--n", str(a.n), "--p", str(a.p), "--seed", "1",
                    "--out", data], check=True, capture_output=True)
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                         capture_output=True, text=True).stdout.strip()
    print(f"IRM, n = {a.n}, p = {a.p}, 5 folds, --threads {a.threads}, {cpu}, {os.cpu_count()} CPUs; "
          f"median of {a.runs} interleaved runs (--tune: one run)\n")
    results = {name: [] for name, _ in configs}
    for r in range(a.runs):
        order = configs[r % len(configs):] + configs[:r % len(configs)]
        for name, flags in order:
            if "--tune" in flags and results[name]:
                continue  # minutes per run: once is enough for its cost
            out = os.path.join(tmp, "out.json")
            cmd = [a.cli, "estimate", "--data", data, "--outcome", "y", "--treatment", "d", "--threads",
                   str(a.threads), "--seed", "0", "--quiet", "--json", out] + shlex.split(flags)
            wall, rss, _ = run_measured(cmd)
            j = json.load(open(out))
            rounds = {k: statistics.median(m["rounds"] for m in v["models"])
                      for k, v in j["diagnostics"].get("nuisance_tuning", {}).items()}
            results[name].append(dict(wall=wall, rss=rss, tuning=j["timings"].get("tuning", 0.0), rounds=rounds,
                                      est={e["estimand"]: (e["estimate"], e["se"]) for e in j["estimates"]}))
            print(f"  {name}: {wall:.1f} s", file=sys.stderr)
    base = statistics.median(x["wall"] for x in results[configs[0][0]])
    print("| configuration | wall s | x first | tuning s | median rounds kept | ATE (SE) | ATT (SE) | peak MiB |")
    print("|---|---:|---:|---:|---|---|---|---:|")
    for name, flags in configs:
        rs = results[name]
        wall = statistics.median(x["wall"] for x in rs)
        last = rs[-1]
        rounds = ", ".join(f"{k} {v:g}" for k, v in sorted(last["rounds"].items())) or "fixed"
        ate, att = last["est"].get("ate", (float("nan"),) * 2), last["est"].get("att", (float("nan"),) * 2)
        print(f"| {name} (`{flags or 'no flags'}`) | {wall:.1f} | {wall / base:.2f} | {last['tuning']:.1f} | {rounds} | "
              f"{ate[0]:.4f} ({ate[1]:.4f}) | {att[0]:.4f} ({att[1]:.4f}) | {max(x['rss'] for x in rs):.0f} |")


if __name__ == "__main__":
    main()
