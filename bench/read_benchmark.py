"""Reading CSV, Parquet and Arrow: fastdml's readers against pyarrow and pandas.

One data set from `fastdml simulate --design irm` (y, d and p features), as
CSV, as Parquet (pyarrow defaults: snappy, row groups of 1Mi rows) and as
Feather v2 / Arrow IPC (pyarrow defaults: lz4). Each reader runs in its own
child process (bench/measure.py: wall time and the child's own peak RSS from
wait4's ru_maxrss); the readers alternate, --repeats times each, and the table
gives medians. "read s" is the reading phase timed inside the child (fastdml's
hidden `read-csv` subcommand: ReadDataset into the validated Dataset, X as
float32; pyarrow / pandas: the one read call into a table / frame of float64
columns), so interpreter and library start-up are left out; rows/s and MB/s
(file size) are over it. "wall s" is the whole process.

  .venv/bin/python bench/read_benchmark.py --n 10000000 --p 5 --repeats 3
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

# Each prints "<rows> <columns> <seconds of the read call>".
SCRIPTS = {
    "pyarrow.csv.read_csv": (
        "import sys, time, pyarrow.csv as c\n"
        "t0 = time.perf_counter(); t = c.read_csv(sys.argv[1])\n"
        "print(t.num_rows, t.num_columns, time.perf_counter() - t0)\n"),
    "pandas.read_csv (c engine)": (
        "import sys, time, pandas as pd\n"
        "t0 = time.perf_counter(); df = pd.read_csv(sys.argv[1], engine='c', dtype='float64')\n"
        "print(len(df), df.shape[1], time.perf_counter() - t0)\n"),
    "pyarrow.parquet.read_table": (
        "import sys, time, pyarrow.parquet as pq\n"
        "t0 = time.perf_counter(); t = pq.read_table(sys.argv[1])\n"
        "print(t.num_rows, t.num_columns, time.perf_counter() - t0)\n"),
    "pandas.read_parquet": (
        "import sys, time, pandas as pd\n"
        "t0 = time.perf_counter(); df = pd.read_parquet(sys.argv[1])\n"
        "print(len(df), df.shape[1], time.perf_counter() - t0)\n"),
    "pyarrow.feather.read_table": (
        "import sys, time, pyarrow.feather as f\n"
        "t0 = time.perf_counter(); t = f.read_table(sys.argv[1])\n"
        "print(t.num_rows, t.num_columns, time.perf_counter() - t0)\n"),
}

CONVERT = """
import sys, pyarrow.csv as c, pyarrow.parquet as pq, pyarrow.feather as f
t = c.read_csv(sys.argv[1])
pq.write_table(t, sys.argv[2])
f.write_feather(t, sys.argv[3])
"""


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--p", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workdir", default="/tmp")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--cli", default=os.environ.get("FASTDML_CLI", str(root / "build" / "fastdml")))
    args = ap.parse_args()
    python = str(root / ".venv" / "bin" / "python")
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    print(f"machine: {os.cpu_count()} cores, {cpu}")
    base = Path(args.workdir) / f"fastdml_read_bench_{args.n}_{args.p}"
    files = {"csv": Path(f"{base}.csv"), "parquet": Path(f"{base}.parquet"), "arrow": Path(f"{base}.arrow")}
    if not files["csv"].exists():
        subprocess.run([args.cli, "simulate", "--design", "irm", "--n", str(args.n), "--p", str(args.p),
                        "--seed", "1", "--out", str(files["csv"])], check=True, stdout=subprocess.DEVNULL)
    if not files["parquet"].exists() or not files["arrow"].exists():
        subprocess.run([python, "-c", CONVERT, str(files["csv"]), str(files["parquet"]), str(files["arrow"])],
                       check=True)
    size_mb = {k: v.stat().st_size / 1e6 for k, v in files.items()}
    dataset_mib = (args.n * args.p * 4 + 2 * args.n * 8) / 2**20  # X float32, y and d double

    def fastdml(fmt):
        return [args.cli, "read-csv", "--data", str(files[fmt]), "--outcome", "y", "--treatment", "d"]

    readers = {
        ("csv", "fastdml (ReadDataset)"): fastdml("csv"),
        ("csv", "pyarrow.csv.read_csv"): [python, "-c", SCRIPTS["pyarrow.csv.read_csv"], str(files["csv"])],
        ("csv", "pandas.read_csv (c engine)"): [python, "-c", SCRIPTS["pandas.read_csv (c engine)"],
                                                str(files["csv"])],
        ("parquet", "fastdml (ReadDataset)"): fastdml("parquet"),
        ("parquet", "pyarrow.parquet.read_table"): [python, "-c", SCRIPTS["pyarrow.parquet.read_table"],
                                                    str(files["parquet"])],
        ("parquet", "pandas.read_parquet"): [python, "-c", SCRIPTS["pandas.read_parquet"], str(files["parquet"])],
        ("arrow", "fastdml (ReadDataset)"): fastdml("arrow"),
        ("arrow", "pyarrow.feather.read_table"): [python, "-c", SCRIPTS["pyarrow.feather.read_table"],
                                                  str(files["arrow"])],
    }
    results = {key: [] for key in readers}
    for _ in range(args.repeats):
        for key, cmd in readers.items():
            wall, rss, out = run_measured(cmd)
            if key[1].startswith("fastdml"):
                fields = json.loads(out)
                rows, seconds = fields["rows"], fields["seconds"]
            else:
                rows, _, seconds = out.split()
                rows, seconds = int(rows), float(seconds)
            if rows != args.n:
                raise SystemExit(f"{key}: read {rows} rows, expected {args.n}")
            results[key].append((seconds, wall, rss))
    print(f"\nn = {args.n:,} rows, p = {args.p} features (+ y, d); Dataset (X float32, y and d double) = "
          f"{dataset_mib:.0f} MiB; files: " + ", ".join(f"{k} {v:.0f} MB" for k, v in size_mb.items()))
    print("\n| format | reader | read s | rows/s | MB/s | wall s | peak RSS MiB | RSS / Dataset |")
    print("|---|---|---|---|---|---|---|---|")
    for (fmt, name), runs in results.items():
        seconds = statistics.median(r[0] for r in runs)
        wall = statistics.median(r[1] for r in runs)
        rss = statistics.median(r[2] for r in runs)
        print(f"| {fmt} | {name} | {seconds:.2f} | {args.n / seconds / 1e6:.1f}M | {size_mb[fmt] / seconds:.0f} | "
              f"{wall:.2f} | {rss:.0f} | {rss / dataset_mib:.2f}x |")
    if not args.keep:
        for path in files.values():
            path.unlink(missing_ok=True)
        Path(f"{base}.truth.json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
