"""How fold training matrices are built: measures the three candidates on the
same data and learner settings, through the CLI's --matrix-strategy.

  shared-cuts  one label-free quantile sketch of all rows per max_bin; each
               fold's QuantileDMatrix reuses its cuts (ref=) and only
               quantises its own rows
  per-fold     a plain DMatrix per fold; XGBoost sketches it at training time
  zero-weight  every model trains on all n rows with weight 0 (and a constant
               label) on rows outside its training set

Usage: .venv/bin/python bench/matrix_strategy.py [--n 100000] [--p 50]
       [--rounds 200] [--depth 6] [--threads 2] [--repeats 3]
       [--outcome-design pooled|separate]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--p", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--outcome-design", default="pooled", choices=["pooled", "separate"])
    ap.add_argument("--cli", default=os.environ.get("FASTDML_CLI", os.path.join(ROOT, "build", "fastdml")))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    data = os.path.join(tmp, "irm.csv")
    subprocess.run([a.cli, "simulate", "--design", "irm", "--n", str(a.n), "--p", str(a.p), "--seed", "1",
                    "--out", data], check=True, capture_output=True)
    rows = {}
    strategies = ["shared-cuts", "per-fold", "zero-weight"]
    for rep in range(a.repeats):
        for s in strategies:  # interleaved, so drifts in machine load hit all alike
            out = os.path.join(tmp, f"{s}.json")
            t0 = time.perf_counter()
            subprocess.run([a.cli, "estimate", "--data", data, "--outcome", "y", "--treatment", "d",
                            "--rounds", str(a.rounds), "--max-depth", str(a.depth), "--threads", str(a.threads),
                            "--matrix-strategy", s, "--outcome-design", a.outcome_design, "--quiet", "--json", out], check=True, capture_output=True)
            wall = time.perf_counter() - t0
            t = json.load(open(out))["timings"]
            rows.setdefault(s, []).append((wall, t, json.load(open(out))["estimates"][0]["estimate"]))
    print(f"n={a.n} p={a.p} rounds={a.rounds} depth={a.depth} threads={a.threads}, "
          f"outcome design {a.outcome_design}, median of {a.repeats}\n")
    print("| strategy | wall s | setup s | fold matrices s | training s | prediction s | ATE |")
    print("|---|---|---|---|---|---|---|")
    for s in strategies:
        med = lambda key: statistics.median(r[1][key] for r in rows[s])
        print(f"| {s} | {statistics.median(r[0] for r in rows[s]):.2f} | {med('setup'):.2f} | "
              f"{med('fold_matrices'):.2f} | {med('training'):.2f} | {med('prediction'):.2f} | "
              f"{rows[s][0][2]:.4f} |")


if __name__ == "__main__":
    main()
