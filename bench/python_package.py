"""The Python package's own costs, measured side by side in one run:

1. input conversion: fastdml's Dataset from numpy float32 / float64, pandas
   and pyarrow (n x p), against the floor of one float32 copy into a new
   array (x.copy(); the page faults of fresh memory included, as for a Dataset);
2. end to end: DML.fit on an in-memory DataFrame against the CLI on the same
   data as CSV (same options and seed; the estimates are checked equal), and
   re-estimation (ate with another clipping) from the stored fit.

    .venv/bin/python bench/python_package.py [--n-convert 1000000] [--n 20000] [--repeats 5]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_measured  # noqa: E402

import fastdml  # noqa: E402
from fastdml._inputs import build_dataset  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def conversion(n, p, repeats):
    rng = np.random.default_rng(0)
    x64 = rng.normal(size=(n, p))
    x32 = x64.astype(np.float32)
    y = rng.normal(size=n)
    d = (rng.uniform(size=n) < 0.5).astype(float)
    df = pd.DataFrame(x64, columns=[f"x{j}" for j in range(p)]).assign(y=y, d=d)
    table = pa.Table.from_pandas(df)
    feats = [f"x{j}" for j in range(p)]
    kw = dict(weights=None, clusters=None, features=None, device="cpu", binary=True, min_rows=2)
    cases = {
        "floor: x32.copy() (new array, one copy)": lambda: x32.copy(),
        "floor: x64.astype(float32)": lambda: x64.astype(np.float32),
        "numpy float32 X": lambda: build_dataset(x32, y, d, outcome=None, treatment=None, **kw),
        "numpy float64 X": lambda: build_dataset(x64, y, d, outcome=None, treatment=None, **kw),
        "pandas DataFrame": lambda: build_dataset(df, None, None, outcome="y", treatment="d",
                                                  **{**kw, "features": feats}),
        "pyarrow Table": lambda: build_dataset(table, None, None, outcome="y", treatment="d",
                                               **{**kw, "features": feats}),
    }
    rows = []
    for name, fn in cases.items():
        med, _ = median_time(fn, repeats)
        rows.append((name, med))
    floor = rows[0][1]
    print(f"\n1. input -> Dataset, {n} x {p}, median of {repeats} (ratio to one float32 copy into a new array)")
    print(f"{'input':40s} {'ms':>9s} {'ratio':>7s}")
    for name, med in rows:
        print(f"{name:40s} {med * 1e3:9.1f} {med / floor:7.2f}")


def end_to_end(n, p, repeats, cli):
    df, _ = fastdml.simulate("irm", n=n, p=p, seed=1)
    opts = dict(n_folds=5, seed=0, device="cpu", threads=2)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "data.csv"
        out = Path(tmp) / "out.json"
        run_measured([cli, "simulate", "--design", "irm", "--n", str(n), "--p", str(p), "--seed", "1",
                      "--out", str(csv)])
        cmd = [cli, "estimate", "--data", str(csv), "--outcome", "y", "--treatment", "d", "--threads", "2",
               "--device", "cpu", "--quiet", "--json", str(out)]
        cli_times, pkg_times, re_times = [], [], []
        for _ in range(repeats):  # alternate the two
            cli_times.append(run_measured(cmd)[0])
            t0 = time.perf_counter()
            dml = fastdml.DML(**opts).fit(df, outcome="y", treatment="d")
            pkg_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            dml.ate(clip=0.05)
            re_times.append(time.perf_counter() - t0)
        want = {e["estimand"]: e["estimate"] for e in json.loads(out.read_text())["estimates"]}
        got = dml.summary()["estimate"].to_dict()
        assert got == want, f"package {got} != CLI {want}"
    c, k, r = (statistics.median(t) for t in (cli_times, pkg_times, re_times))
    print(f"\n2. IRM ATE+ATT, {n} x {p}, 5 folds, 200 rounds, 2 threads, median of {repeats}; estimates equal: yes")
    print(f"{'':44s} {'seconds':>9s} {'ratio':>7s}")
    print(f"{'CLI process (CSV read, fit, JSON)':44s} {c:9.3f} {1.0:7.2f}")
    print(f"{'package DML.fit (in-memory DataFrame)':44s} {k:9.3f} {k / c:7.2f}")
    print(f"{'package ate(clip=0.05), no retraining':44s} {r:9.4f} {r / c:7.4f}")
    print("runs (CLI):", " ".join(f"{t:.3f}" for t in cli_times))
    print("runs (package):", " ".join(f"{t:.3f}" for t in pkg_times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-convert", type=int, default=1_000_000)
    ap.add_argument("--p-convert", type=int, default=20)
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--p", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cli", default=os.environ.get("FASTDML_CLI", str(REPO / "build" / "fastdml")))
    a = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; fastdml {fastdml.__version__}")
    conversion(a.n_convert, a.p_convert, a.repeats)
    end_to_end(a.n, a.p, a.repeats, a.cli)


if __name__ == "__main__":
    main()
