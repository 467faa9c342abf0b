"""Re-estimation latency of the fastdml Python package against the memory-speed floor.

One process, CPU, n = 1e6 rows, 1 repetition. A fit is built from given
predictions (DML.from_predictions: no training), then each re-estimation is
timed (median of --runs calls) next to a vectorised numpy computation of the
same AIPW scores and solve from the same arrays:

  ate(clip=0.02)            numpy: clip, psi_b, theta = mean(psi_b), se
  att(normalize_ipw=True)   numpy: clip, Hajek normalisation, ATT psi_a/psi_b, theta, se
  gate(by="category")       numpy: the ATE signal, then per-group mean and HC0 se (bincount)
  blp(10 basis terms)       numpy: the ATE signal, X'X, X'y, residual, HC0 sandwich

Each numpy result is checked against the package's before it is timed, so the
floor computes the same thing. Issue 13 item 9 targets: ate/att <= 1.0x,
gate <= 1.5x, blp <= 3x. Usage:

    PYTHONPATH=<dir with fastdml> python bench/reestimate_latency.py [--n 1000000] [--runs 9]
"""
from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import time

import numpy as np
import pandas as pd

import fastdml

K_BASIS = 10  # intercept + 9 columns


def make_data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    cols = {f"x{j}": rng.standard_normal(n) for j in range(K_BASIS - 1)}
    category = rng.integers(0, 5, n)
    m = 1.0 / (1.0 + np.exp(-(0.8 * cols["x0"] + 0.3 * category - 0.6)))
    d = (rng.random(n) < m).astype(np.float64)
    g0 = cols["x1"] + 0.5 * cols["x2"]
    g1 = g0 + 0.5 + 0.2 * category
    y = np.where(d == 1.0, g1, g0) + rng.standard_normal(n)
    df = pd.DataFrame({"y": y, "d": d, "category": category.astype(np.float64), **cols})
    noise = 0.05 * rng.standard_normal((4, n))  # predictions: the truth plus error, m kept inside (0, 1)
    preds = {"m": np.clip(m + noise[0], 0.001, 0.999), "g0": g0 + noise[1], "g1": g1 + noise[2],
             "fold": rng.integers(0, 5, n).astype(np.int32)}
    return df, preds


# --- the numpy floor: the same AIPW scores and solve, vectorised -------------------------------
def np_ate(y, d, m, g0, g1, clip):
    mc = np.clip(m, clip, 1.0 - clip)
    psi_b = g1 - g0 + d * (y - g1) / mc - (1.0 - d) * (y - g0) / (1.0 - mc)
    theta = psi_b.mean()  # psi_a = -1
    se = np.sqrt(np.mean((psi_b - theta) ** 2) / y.shape[0])
    return theta, se


def np_att(y, d, m, g0, g1, clip, normalize):
    n = y.shape[0]
    mc = np.clip(m, clip, 1.0 - clip)
    if normalize:  # Hajek: D/m and (1-D)/(1-m) rescaled to mean 1 (DoubleML's normalize_ipw)
        mc = d * mc * np.mean(d / mc) + (1.0 - d) * (1.0 - (1.0 - mc) * np.mean((1.0 - d) / (1.0 - mc)))
    p = d.mean()
    psi_a = -d / p
    psi_b = d * (y - g0) / p - mc * (1.0 - d) * (y - g0) / (p * (1.0 - mc))
    theta = -psi_b.sum() / psi_a.sum()
    j = psi_a.mean()
    psi = theta * psi_a + psi_b
    se = np.sqrt(np.mean(psi * psi) / (j * j) / n)
    return theta, se


def np_signal(y, d, m, g0, g1, clip):
    mc = np.clip(m, clip, 1.0 - clip)
    return g1 - g0 + d * (y - g1) / mc - (1.0 - d) * (y - g0) / (1.0 - mc)


def np_gate(y, d, m, g0, g1, clip, group, n_groups):
    s = np_signal(y, d, m, g0, g1, clip)
    cnt = np.bincount(group, minlength=n_groups).astype(np.float64)
    theta = np.bincount(group, weights=s, minlength=n_groups) / cnt
    e = s - theta[group]
    se = np.sqrt(np.bincount(group, weights=e * e, minlength=n_groups)) / cnt  # HC0
    return theta, se


def np_blp(y, d, m, g0, g1, clip, x):
    s = np_signal(y, d, m, g0, g1, clip)
    inv = np.linalg.inv(x.T @ x)
    beta = inv @ (x.T @ s)
    xe = x * (s - x @ beta)[:, None]
    cov = inv @ (xe.T @ xe) @ inv  # HC0
    return beta, np.sqrt(np.diag(cov))


# --- timing ---------------------------------------------------------------------------------------
def median_seconds(fn, runs: int) -> float:
    fn()  # warm-up (page faults, first allocations)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
        cpus = next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("CPU(s)"))
        return f"{model}, {cpus} CPUs"
    except Exception:  # noqa: BLE001 - only a label
        return platform.processor() or platform.machine()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--only", default="", help="comma-separated subset of ate,att,gate,blp,blp_spec")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    df, preds = make_data(args.n)
    feats = [f"x{j}" for j in range(K_BASIS - 1)] + ["category"]
    dml = fastdml.DML(model="irm", n_folds=5, n_rep=1, device="cpu", threads=1)
    dml.from_predictions(df, outcome="y", treatment="d", features=feats, predictions=preds)
    assert dml.models_trained == 0
    y, d = df["y"].to_numpy(), df["d"].to_numpy()
    m, g0, g1 = preds["m"], preds["g0"], preds["g1"]
    group = df["category"].to_numpy().astype(np.intp)
    basis_cols = [f"x{j}" for j in range(K_BASIS - 1)]
    x = np.column_stack([np.ones(args.n)] + [df[c].to_numpy() for c in basis_cols])
    spec = ",".join(basis_cols)

    cases = {
        "ate(clip=0.02)": ("ate", lambda: dml.ate(clip=0.02), lambda: np_ate(y, d, m, g0, g1, 0.02),
                           lambda r, f: np.allclose([r["estimate"], r["se"]], f)),
        "att(normalize_ipw=True)": ("att", lambda: dml.att(normalize_ipw=True),
                                    lambda: np_att(y, d, m, g0, g1, 0.01, True),
                                    lambda r, f: np.allclose([r["estimate"], r["se"]], f)),
        "gate(by='category')": ("gate", lambda: dml.gate(by="category"),
                                lambda: np_gate(y, d, m, g0, g1, 0.01, group, 5),
                                lambda r, f: np.allclose(r["estimate"], f[0]) and np.allclose(r["se"], f[1])),
        "blp(10-column matrix)": ("blp", lambda: dml.blp(x), lambda: np_blp(y, d, m, g0, g1, 0.01, x),
                                  lambda r, f: np.allclose(r["estimate"], f[0]) and np.allclose(r["se"], f[1])),
        "blp('x0,...,x8')": ("blp_spec", lambda: dml.blp(spec), lambda: np_blp(y, d, m, g0, g1, 0.01, x),
                             lambda r, f: np.allclose(r["estimate"], f[0]) and np.allclose(r["se"], f[1])),
    }
    target = {"ate": 1.0, "att": 1.0, "gate": 1.5, "blp": 3.0, "blp_spec": 3.0}
    print(f"machine: {machine()}; n = {args.n}, 1 repetition, median of {args.runs}; "
          f"fastdml {fastdml.__version__} from {fastdml.__file__}")
    print(f"| call | fastdml ms | numpy floor ms | ratio | target |")
    print(f"|---|---:|---:|---:|---:|")
    for label, (key, call, floor, same) in cases.items():
        if only and key not in only:
            continue
        if not same(call(), floor()):
            raise SystemExit(f"{label}: the numpy floor does not reproduce the package's result")
        t_pkg = median_seconds(call, args.runs)
        t_np = median_seconds(floor, args.runs)
        ratio = t_pkg / t_np
        mark = "" if ratio <= target[key] else " (missed)"
        print(f"| `{label}` | {1e3 * t_pkg:.1f} | {1e3 * t_np:.1f} | {ratio:.2f}x | <= {target[key]}x{mark} |",
              flush=True)


if __name__ == "__main__":
    main()
