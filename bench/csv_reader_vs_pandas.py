"""CSV reader throughput and peak memory: fastdml's streaming reader
(ReadDataset, what `fastdml estimate` uses), its older two-pass path
(ReadCsv + BuildDataset), and pandas.read_csv(engine="c") on the same file.

Each run is its own subprocess (bench/measure.py: wall time and the child's
peak RSS); the three readers alternate, --repeats times each, and the table
gives medians. The file comes from `fastdml simulate --design irm` (written
once into --workdir, default /tmp, and not kept in the repo). MB/s is the file
size over the median wall time, process start included.

  .venv/bin/python bench/csv_reader_vs_pandas.py --n 1000000 10000000 --p 5
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_measured  # noqa: E402

PANDAS_SCRIPT = """
import sys, time, pandas as pd
t0 = time.perf_counter()
df = pd.read_csv(sys.argv[1], engine="c", dtype="float64")
print(len(df), df.shape[1], time.perf_counter() - t0)
"""


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--p", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workdir", default="/tmp")
    ap.add_argument("--keep", action="store_true", help="keep the generated CSV files")
    ap.add_argument("--cli", default=os.environ.get("FASTDML_CLI", str(root / "build" / "fastdml")))
    args = ap.parse_args()
    python = str(root / ".venv" / "bin" / "python")
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}")
    rows = []
    for n in args.n:
        csv = Path(args.workdir) / f"fastdml_reader_bench_{n}_{args.p}.csv"
        if not csv.exists():
            subprocess.run([args.cli, "simulate", "--design", "irm", "--n", str(n), "--p", str(args.p),
                            "--seed", "1", "--out", str(csv)], check=True, stdout=subprocess.DEVNULL)
        size_mb = csv.stat().st_size / 1e6
        # The Dataset itself: X float32 n x p, y and d as double.
        dataset_mib = (n * args.p * 4 + 2 * n * 8) / 2**20
        readers = {
            "fastdml streaming": [args.cli, "read-csv", "--data", str(csv), "--outcome", "y", "--treatment", "d"],
            "fastdml two-pass": [args.cli, "read-csv", "--data", str(csv), "--outcome", "y", "--treatment", "d",
                                 "--two-pass"],
            "pandas c engine": [python, "-c", PANDAS_SCRIPT, str(csv)],
        }
        results = {name: [] for name in readers}
        for _ in range(args.repeats):
            for name, cmd in readers.items():
                wall, rss, out = run_measured(cmd)
                results[name].append((wall, rss))
        for name, runs in results.items():
            wall = statistics.median(w for w, _ in runs)
            rss = statistics.median(r for _, r in runs)
            rows.append((n, size_mb, name, wall, size_mb / wall, rss, rss / dataset_mib, dataset_mib))
        if not args.keep:
            csv.unlink()
            Path(str(csv)[:-4] + ".truth.json").unlink(missing_ok=True)
    print(f"\n| rows | file MB | reader | median wall s | MB/s | peak RSS MiB | RSS / Dataset |")
    print("|---|---|---|---|---|---|---|")
    for n, size_mb, name, wall, mbs, rss, ratio, dataset_mib in rows:
        print(f"| {n:,} | {size_mb:.0f} | {name} | {wall:.2f} | {mbs:.0f} | {rss:.0f} | {ratio:.2f}x of {dataset_mib:.0f} |")


if __name__ == "__main__":
    main()
