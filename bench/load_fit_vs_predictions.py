"""CLI re-estimation from a stored fit: `--load-fit` (binary fit file) against
`--load-predictions` (CSV), and against reading the data alone (the floor:
every re-estimation reads --data again).

    .venv/bin/python bench/load_fit_vs_predictions.py --n 1000000 --repeats 3

Simulates the seller design (p = 20), fits once with small models (the fit's
cost is not what is measured) saving both files, then runs each
re-estimation as a fresh process, alternating, and prints the medians.
Results: bench/RESULTS.md, "CLI re-estimation from a stored fit".
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_measured  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=str(REPO / "build" / "fastdml"))
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--p", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workdir", default=None, help="keep the files here (default: a temporary folder)")
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="load_fit_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    data, fit, preds = work / "seller.csv", work / "seller.fit", work / "seller_preds.csv"
    cli = args.cli
    if not data.exists():
        run_measured([cli, "simulate", "--design", "seller", "--n", str(args.n), "--p", str(args.p), "--seed", "1",
                      "--out", str(data)])
    if not fit.exists() or not preds.exists():
        run_measured([cli, "estimate", "--data", str(data), "--outcome", "y", "--treatment", "d", "--rounds", "5",
                      "--max-depth", "3", "--quiet", "--save-fit", str(fit), "--save-predictions", str(preds)])
    base = [cli, "estimate", "--data", str(data), "--outcome", "y", "--treatment", "d", "--quiet"]
    runs = {
        "data only (read-csv)": [cli, "read-csv", "--data", str(data), "--outcome", "y", "--treatment", "d"],
        "--load-fit": base + ["--load-fit", str(fit), "--json", str(work / "fit.json")],
        "--load-predictions": base + ["--load-predictions", str(preds), "--json", str(work / "csv.json")],
    }
    walls = {k: [] for k in runs}
    rss = {k: [] for k in runs}
    reading = {k: [] for k in runs}
    for _ in range(args.repeats):
        for name, cmd in runs.items():
            wall, peak, _ = run_measured(cmd)
            walls[name].append(wall)
            rss[name].append(peak)
            out = work / ("fit.json" if name == "--load-fit" else "csv.json")
            if name != "data only (read-csv)":
                reading[name].append(json.loads(out.read_text())["timings"]["reading"])
    a = json.loads((work / "fit.json").read_text())
    b = json.loads((work / "csv.json").read_text())
    same = a["estimates"] == b["estimates"]
    print(f"n = {args.n}, p = {args.p}; data {data.stat().st_size / 1e6:.0f} MB, fit file "
          f"{fit.stat().st_size / 1e6:.0f} MB, predictions CSV {preds.stat().st_size / 1e6:.0f} MB; "
          f"load average {os.getloadavg()[0]:.1f}; estimates equal: {same}")
    print("| run | median wall s | of which reading --data s | peak RSS MiB |")
    print("|---|---|---|---|")
    for name in runs:
        r = f"{statistics.median(reading[name]):.2f}" if reading[name] else "(all)"
        print(f"| {name} | {statistics.median(walls[name]):.2f} | {r} | {statistics.median(rss[name]):.0f} |")
    print("walls:", {k: [round(w, 2) for w in v] for k, v in walls.items()})


if __name__ == "__main__":
    main()
