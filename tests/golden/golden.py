#!/usr/bin/env python3
"""Golden JSON reports of a fixed matrix of CLI runs: proof that a refactor
changed no number.

    golden.py --cli build/fastdml --check      # re-run every case, compare
    golden.py --cli build/fastdml --update     # re-record (a deliberate change)

Every case runs `fastdml estimate ... --no-timings --quiet --json` on data the
CLI simulates with a fixed seed (so the data are part of what is checked).
The training cases also save their out-of-fold predictions, which the
re-estimation cases load, so most of the matrix trains nothing. Numbers must
agree to 1e-12 (relative, or absolute below 1); every other value exactly.
Re-recording is allowed only for a change that is named in the commit and the
README (docs/design.md, "Numbers that changed on purpose").
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOL = 1e-12
# Small models: the matrix checks the arithmetic after (and including) the
# fit, not the quality of the nuisances, and must run in seconds on 2 cores.
LEARNER = ["--rounds", "15", "--max-depth", "3", "--threads", "2"]
SELLER_FEATURES = "experience_years,proactiveness_score,category,inventory_level,price,demand_index,x1,x2"

# name -> (needs, args). `needs` names the case whose predictions it loads.
CASES: dict[str, tuple[str | None, list[str]]] = {
    # --- training runs (their predictions feed the rest) ---
    "irm_fit_r1": (None, ["--data", "{seller}", "--features", SELLER_FEATURES, *LEARNER,
                          "--save-predictions", "{work}/irm_r1.csv", "--bootstrap", "300", "--joint",
                          "--p-adjust", "romano-wolf,bonferroni,holm"]),
    "irm_fit_r3_separate": (None, ["--data", "{seller}", "--features", SELLER_FEATURES, *LEARNER, "--reps", "3",
                                   "--outcome-design", "separate", "--save-predictions", "{work}/irm_r3.csv"]),
    "plr_fit_r1": (None, ["--data", "{seller}", "--features", SELLER_FEATURES, *LEARNER, "--model", "plr",
                          "--save-predictions", "{work}/plr_r1.csv", "--bootstrap", "200"]),
    "plr_fit_r3": (None, ["--data", "{seller}", "--features", SELLER_FEATURES, *LEARNER, "--model", "plr",
                          "--reps", "3", "--save-predictions", "{work}/plr_r3.csv"]),
    "irm_fit_cluster": (None, ["--data", "{seller}", "--features", SELLER_FEATURES, *LEARNER, "--reps", "2",
                               "--cluster", "seller_id", "--save-predictions", "{work}/irm_cl.csv",
                               "--bootstrap", "200", "--bootstrap-method", "rademacher", "--joint",
                               "--cate-by", "category", "--cate-cov", "cluster"]),
    "irm_fit_weights": (None, ["--data", "{seller}", "--features", SELLER_FEATURES, *LEARNER,
                               "--weights", "w", "--estimand", "ate,att"]),
    "irm_fit_cate_model": (None, ["--data", "{seller}", "--features", SELLER_FEATURES, *LEARNER,
                                  "--cate-model", "--cate-rounds", "20", "--sorted-gates", "4",
                                  "--cate-proxy", "dr-learner", "--clan", "price,inventory_level",
                                  "--bootstrap", "200"]),
    # --- re-estimation from stored predictions ---
    "irm_load_clip_normalize": ("irm_fit_r1", ["--load-predictions", "{work}/irm_r1.csv", "--clip", "0.05",
                                               "--normalize-ipw", "--level", "0.9"]),
    "irm_load_r3_boot_normal_exact": ("irm_fit_r3_separate", [
        "--load-predictions", "{work}/irm_r3.csv", "--bootstrap", "400", "--bootstrap-sampler", "exact",
        "--joint", "--p-adjust", "romano-wolf"]),
    "irm_load_r3_boot_normal_loop": ("irm_fit_r3_separate", [
        "--load-predictions", "{work}/irm_r3.csv", "--bootstrap", "400", "--bootstrap-sampler", "loop", "--joint"]),
    "irm_load_r3_boot_rademacher": ("irm_fit_r3_separate", [
        "--load-predictions", "{work}/irm_r3.csv", "--bootstrap", "300", "--bootstrap-method", "rademacher",
        "--joint", "--bootstrap-seed", "11"]),
    "irm_load_r3_boot_mammen": ("irm_fit_r3_separate", [
        "--load-predictions", "{work}/irm_r3.csv", "--bootstrap", "300", "--bootstrap-method", "mammen", "--joint"]),
    "irm_load_r3_boot_wild": ("irm_fit_r3_separate", [
        "--load-predictions", "{work}/irm_r3.csv", "--bootstrap", "300", "--bootstrap-method", "wild", "--joint"]),
    "irm_load_r3_boot_bayes": ("irm_fit_r3_separate", [
        "--load-predictions", "{work}/irm_r3.csv", "--bootstrap", "300", "--bootstrap-method", "bayes", "--joint"]),
    "irm_load_att_normalize_r3": ("irm_fit_r3_separate", [
        "--load-predictions", "{work}/irm_r3.csv", "--estimand", "att", "--normalize-ipw", "--clip", "0.02"]),
    "irm_load_gate": ("irm_fit_r1", [
        "--load-predictions", "{work}/irm_r1.csv", "--cate-by", "category", "inventory_level:quintiles",
        "--cate-signal", "ate,att", "--bootstrap", "300", "--joint"]),
    "irm_load_gate_r3_hc3": ("irm_fit_r3_separate", [
        "--load-predictions", "{work}/irm_r3.csv", "--cate-by", "category", "--cate-cov", "hc3",
        "--bootstrap", "300"]),
    "irm_load_gate_hc1_normalize": ("irm_fit_r1", [
        "--load-predictions", "{work}/irm_r1.csv", "--cate-by", "inventory_level:q=3", "--cate-cov", "hc1",
        "--normalize-ipw"]),
    "irm_load_blp": ("irm_fit_r1", [
        "--load-predictions", "{work}/irm_r1.csv", "--blp", "inventory_level,cat(category),spline(price,3)",
        "--blp-grid", "{grid}", "--bootstrap", "300"]),
    "irm_load_blp_r3_hc3": ("irm_fit_r3_separate", [
        "--load-predictions", "{work}/irm_r3.csv", "--blp", "price,inventory_level", "--cate-cov", "hc3"]),
    "irm_load_sorted_gates_r3": ("irm_fit_r3_separate", [
        "--load-predictions", "{work}/irm_r3.csv", "--sorted-gates", "5", "--clan", "price,demand_index",
        "--bootstrap", "300"]),
    "plr_load_r3_gate_blp": ("plr_fit_r3", [
        "--load-predictions", "{work}/plr_r3.csv", "--model", "plr", "--cate-by", "category",
        "--blp", "inventory_level", "--bootstrap", "300", "--bootstrap-method", "wild", "--joint"]),
    "plr_load_gate_quartiles_hc1": ("plr_fit_r1", [
        "--load-predictions", "{work}/plr_r1.csv", "--model", "plr", "--cate-by", "inventory_level:quartiles",
        "--cate-cov", "hc1", "--bootstrap", "200"]),
}

# Keys whose values depend on the machine or the build, not on the arithmetic.
IGNORED_KEYS = {"xgboost_version", "fastdml_version", "version", "threads", "device_name"}


def simulate(cli: Path, work: Path) -> dict[str, str]:
    seller = work / "seller.csv"
    raw = work / "seller_raw.csv"
    subprocess.run([str(cli), "simulate", "--design", "seller", "--n", "3000", "--p", "10", "--seed", "7",
                    "--out", str(raw)], check=True, capture_output=True)
    # A sample-weight column w = 0.5 + |x3| (x3 is standard normal noise).
    lines = raw.read_text().splitlines()
    x3 = lines[0].split(",").index("x3")
    seller.write_text(lines[0] + ",w\n" + "".join(
        f"{line},{0.5 + abs(float(line.split(',')[x3]))!r}\n" for line in lines[1:]))
    grid = work / "grid.csv"
    grid.write_text("inventory_level,category,price\n" +
                    "".join(f"{inv},{cat},{price}\n" for inv, cat, price in
                            [(5, 0, 10), (20, 1, 20), (40, 2, 30), (80, 3, 40), (150, 4, 60)]))
    return {"seller": str(seller), "grid": str(grid), "work": str(work)}


def run_case(cli: Path, name: str, paths: dict[str, str]) -> dict:
    _, args = CASES[name]
    out = Path(paths["work"]) / f"{name}.json"
    base = ["estimate", "--outcome", "y", "--treatment", "d", "--seed", "3", "--no-timings", "--quiet",
            "--json", str(out)]
    if not any(a == "--data" for a in args):
        base += ["--data", paths["seller"]]
    cmd = [str(cli)] + base + [a.format(**paths) for a in args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"case {name}: exit {proc.returncode}\n{' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text())


def order(names):
    """Training cases first: the others load their predictions."""
    return sorted(names, key=lambda n: CASES[n][0] is not None)


def compare(want, got, path="$") -> list[str]:
    diffs: list[str] = []
    if isinstance(want, dict) and isinstance(got, dict):
        for k in sorted(set(want) | set(got)):
            if k in IGNORED_KEYS:
                continue
            if k not in want or k not in got:
                diffs.append(f"{path}.{k}: only in {'golden' if k in want else 'this run'}")
            else:
                diffs += compare(want[k], got[k], f"{path}.{k}")
    elif isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return [f"{path}: length {len(want)} in golden, {len(got)} now"]
        for i, (a, b) in enumerate(zip(want, got)):
            diffs += compare(a, b, f"{path}[{i}]")
    elif isinstance(want, (int, float)) and isinstance(got, (int, float)) and \
            not isinstance(want, bool) and not isinstance(got, bool):
        if math.isnan(want) and math.isnan(got):
            return []
        if abs(want - got) > TOL * max(1.0, abs(want), abs(got)):
            diffs.append(f"{path}: golden {want!r}, now {got!r}")
    elif want != got:
        diffs.append(f"{path}: golden {want!r}, now {got!r}")
    return diffs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", type=Path, required=True)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--update", action="store_true")
    ap.add_argument("--case", action="append", help="only these cases (with the training cases they load)")
    a = ap.parse_args()
    names = list(CASES)
    if a.case:
        names = sorted({n for c in a.case for n in (c, CASES[c][0]) if n})
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        paths = simulate(a.cli, Path(tmp))
        for name in order(names):
            got = run_case(a.cli, name, paths)
            golden = HERE / f"{name}.json"
            if a.update:
                golden.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
                print(f"recorded {golden.name}")
                continue
            diffs = compare(json.loads(golden.read_text()), got)
            if diffs:
                failed += 1
                print(f"FAIL {name}: {len(diffs)} differences\n  " + "\n  ".join(diffs[:20]))
            else:
                print(f"ok   {name}")
    if a.check:
        print(f"{len(names) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
