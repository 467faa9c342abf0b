#!/usr/bin/env python3
"""Separate (g0, g1 per arm) against pooled (one model with D as an input)
IRM outcome designs over a broad grid of simulated designs, plus the IHDP
semi-synthetic benchmark (issue 14, item 2).

Simulator (numpy, seeded; X ~ N(0, I_p), p >= 6; units: sd(g0(X)) = 1):

    g0(X)  = (2 sin X1 + (X2^2 - 1) + X3 X4 + 0.5 X5) / sd      prognostic, sd exactly 1
    psi(X) = (0.8 X1 + 0.6 (X2^2 - 1)/sqrt2 - 0.5 X5 + 0.4 X6) / sd   propensity index, sd 1
    m(X)   = expit(a + c psi(X))     c: confounding (X1, X2, X5 drive both D and Y);
                                     a solved so that E m(X) = the treated share
    phi(X) = (X1 + X3 X6) / sqrt2    heterogeneity, mean 0, sd 1 (X1 is a confounder, so ATT != ATE)
    tau(X) = r (1 + h phi(X))        r: effect / sd(g0); h = 0 (constant) or 1 (heterogeneous)
    Y      = g0(X) + D tau(X) + noise * eps,   eps ~ N(0, 1),   D = 1{U < m(X)}

Truth (population): ATE = r exactly; ATT = r (1 + h E[X1 m(X)] / (sqrt2 E m(X)))
(E[X3 X6 m] = 0 since X3 is independent of m), the two expectations by
3-dimensional Gauss-Hermite quadrature over (X1, X2, -0.5 X5 + 0.4 X6)
(`--check-truth` compares them with a Monte-Carlo draw). fastdml's SEs
target population estimands, so coverage is counted against these.

Common random numbers: a seed and n fix X, eps and U, so the cells of one n
differ only in r, h, the share and c, and both designs see identical data.

IHDP (Hill 2011, response surfaces A: constant effect 4, and B: heterogeneous,
exponential control surface), as shipped by EconML (already a project
dependency): 747 rows, 25 covariates, 139 treated; `--ihdp-reps` draws of the
outcome noise and coefficients (random_state = rep). Truth: the sample ATE
(mean of the true effects) and sample ATT (4 by construction on surface B),
the benchmark's usual conditional targets; a population SE is conservative
for them.

Usage:
  .venv/bin/python bench/design_grid_study.py [--seeds 1000:30,10000:10,100000:2]
      [--ratios 0.05,0.2,1] [--effects const,het] [--shares 0.5,0.15] [--confounding 1]
      [--p 15] [--designs separate,pooled] [--ihdp-reps 50] [--workers 1]
      [--extra "--rounds auto --tune"] [--out bench/results/design_grid.json] [--resume]
  .venv/bin/python bench/design_grid_study.py --report bench/results/design_grid.json
Every CLI run gets --threads 1; --extra is passed through to every run as is.
The JSON is rewritten after every finished data set, so a stopped run keeps
what it has; --resume skips the data sets already in --out.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import functools
import json
import math
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import portable_path, run_estimate, warning_codes  # noqa: E402  (bench/measure.py)

REPO = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------- simulator
SIN_VAR = (1.0 - math.exp(-2.0)) / 2.0  # Var sin(Z) for Z ~ N(0, 1)
G0_SD = math.sqrt(4.0 * SIN_VAR + 2.0 + 1.0 + 0.25)
PSI_SD = math.sqrt(0.8 ** 2 + 0.6 ** 2 + 0.5 ** 2 + 0.4 ** 2)


def prognostic(X):
    return (2.0 * np.sin(X[:, 0]) + (X[:, 1] ** 2 - 1.0) + X[:, 2] * X[:, 3] + 0.5 * X[:, 4]) / G0_SD


def propensity_index(X):
    return (0.8 * X[:, 0] + 0.6 * (X[:, 1] ** 2 - 1.0) / math.sqrt(2.0) - 0.5 * X[:, 4] + 0.4 * X[:, 5]) / PSI_SD


def heterogeneity(X):
    return (X[:, 0] + X[:, 2] * X[:, 5]) / math.sqrt(2.0)


def expit(z):
    return 1.0 / (1.0 + np.exp(-z))


_QUAD = None


def _quadrature(k=48):
    """Nodes and weights for E f(X1, X2, W) with X1, X2 ~ N(0,1), W = -0.5 X5 + 0.4 X6."""
    global _QUAD
    if _QUAD is None:
        z, w = np.polynomial.hermite_e.hermegauss(k)
        w = w / math.sqrt(2.0 * math.pi)
        x1, x2, x3 = np.meshgrid(z, z, z, indexing="ij")
        ww = (w[:, None, None] * w[None, :, None] * w[None, None, :]).ravel()
        psi = (0.8 * x1 + 0.6 * (x2 ** 2 - 1.0) / math.sqrt(2.0) + math.sqrt(0.41) * x3).ravel() / PSI_SD
        _QUAD = (x1.ravel(), psi, ww)
    return _QUAD


@functools.lru_cache(maxsize=None)
def intercept_for_share(share, c):
    """a with E expit(a + c psi(X)) = share (bisection on the quadrature)."""
    _, psi, w = _quadrature()
    lo, hi = -20.0, 20.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if float(np.dot(w, expit(mid + c * psi))) < share:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def cell_truth(cell):
    x1, psi, w = _quadrature()
    a = intercept_for_share(cell["share"], cell["confounding"])
    m = expit(a + cell["confounding"] * psi)
    h = 1.0 if cell["effect"] == "het" else 0.0
    att = cell["ratio"] * (1.0 + h * float(np.dot(w, x1 * m)) / (math.sqrt(2.0) * float(np.dot(w, m))))
    return dict(ate=cell["ratio"], att=att, intercept=a)


def simulate(cell, seed, p, noise):
    """Returns X, d, y and the sample truths of one data set."""
    n = cell["n"]
    rng = np.random.default_rng([seed, n, p])
    X = rng.standard_normal((n, p))
    eps = rng.standard_normal(n)
    u = rng.random(n)
    a = intercept_for_share(cell["share"], cell["confounding"])
    m = expit(a + cell["confounding"] * propensity_index(X))
    d = (u < m).astype(np.int64)
    h = 1.0 if cell["effect"] == "het" else 0.0
    tau = cell["ratio"] * (1.0 + h * heterogeneity(X))
    y = prognostic(X) + d * tau + noise * eps
    sample = dict(ate=float(tau.mean()), att=float(tau[d == 1].mean()) if d.any() else float("nan"))
    return X, d, y, sample


def write_csv(path, X, d, y):
    names = [f"x{j + 1}" for j in range(X.shape[1])]
    fmt = ["%.7g"] * X.shape[1] + ["%d", "%.7g"]
    np.savetxt(path, np.column_stack([X, d, y]), fmt=fmt, delimiter=",",
               header=",".join(names + ["d", "y"]), comments="")


def ihdp(surface, rep):
    from econml.data.dgps import ihdp_surface_A, ihdp_surface_B  # EconML ships the IHDP covariates
    y, t, X, te = (ihdp_surface_A if surface == "A" else ihdp_surface_B)(random_state=rep)
    X = X[:, 1:]  # its first column is an intercept of ones
    t = t.astype(np.int64)
    return X, t, y, dict(ate=float(te.mean()), att=float(te[t == 1].mean()))


# ---------------------------------------------------------------- one data set
def cell_key(cell):
    if cell["kind"] == "ihdp":
        return f"ihdp-{cell['surface']}"
    return (f"n={cell['n']} r={cell['ratio']:g} {cell['effect']} share={cell['share']:g} "
            f"c={cell['confounding']:g}")


def summarize_run(r):
    if not r["ok"]:
        return dict(ok=False, wall=r["wall"], error=r["error"][-600:], flag_unknown=r["flag_unknown"])
    res = r["result"]
    diag = res.get("diagnostics") or {}
    est = {e["estimand"]: {k: e[k] for k in ("estimate", "se", "ci_lower", "ci_upper")} for e in res["estimates"]}
    return dict(ok=True, wall=r["wall"], est=est, nuisance_quality=diag.get("nuisance_quality"),
                nuisance_tuning=diag.get("nuisance_tuning"), warnings=warning_codes(res),
                share_clipped=(diag.get("overlap") or {}).get("share_clipped"),
                training_s=(res.get("timings") or {}).get("training"))


def one_dataset(job):
    cell, seed = job["cell"], job["seed"]
    directory = Path(tempfile.mkdtemp(prefix="grid_", dir=job["tmp"]))
    try:
        if cell["kind"] == "ihdp":
            X, d, y, sample = ihdp(cell["surface"], seed)
            truth = sample
        else:
            X, d, y, sample = simulate(cell, seed, job["p"], job["noise"])
            truth = job["truth"]
        csv = directory / "data.csv"
        write_csv(csv, X, d, y)
        runs = {}
        for design in job["designs"]:
            args = ["--data", csv, "--outcome", "y", "--treatment", "d", "--outcome-design", design,
                    "--seed", seed, "--threads", 1, "--quiet", *job["extra"]]
            runs[design] = summarize_run(run_estimate(job["cli"], args, directory / f"{design}.json"))
        return dict(key=cell_key(cell), cell=cell, seed=seed, truth=dict(ate=truth["ate"], att=truth["att"]),
                    sample_truth=sample, n_treated=int(d.sum()), runs=runs)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# ---------------------------------------------------------------- tables
def stats(records, design, estimand):
    rows = [(r["runs"][design]["est"][estimand], r["truth"][estimand]) for r in records
            if r["runs"].get(design, {}).get("ok") and estimand in r["runs"][design]["est"]]
    k = len(rows)
    if k == 0:
        return None
    err = [e["estimate"] - t for e, t in rows]
    sd = statistics.stdev(err) if k > 1 else float("nan")
    return dict(k=k, bias=statistics.mean(err), bias_se=sd / math.sqrt(k) if k > 1 else float("nan"),
                rmse=math.sqrt(statistics.mean(x * x for x in err)), sd=sd,
                mean_se=statistics.mean(e["se"] for e, _ in rows),
                coverage=sum(e["ci_lower"] <= t <= e["ci_upper"] for e, t in rows) / k,
                wall=statistics.median(r["runs"][design]["wall"] for r in records if r["runs"].get(design, {}).get("ok")))


def cell_order(cell):
    if cell["kind"] == "ihdp":
        return (1, cell["surface"], 0, 0, 0, 0)
    return (0, cell["n"], cell["ratio"], cell["effect"], -cell["share"], cell["confounding"])


def outcome_loss(run):
    """Out-of-fold outcome RMSE over both arms (g0 on the controls, g1 on the treated)."""
    q = run.get("nuisance_quality") or {}
    parts = [(q[g]["rmse"], q[g]["rows"]) for g in ("g0", "g1") if g in q and q[g].get("rmse") is not None]
    rows = sum(r for _, r in parts)
    return math.sqrt(sum(e * e * r for e, r in parts) / rows) if rows else None


def print_loss_agreement(designs, groups, keys):
    """Would the outcome models' own out-of-fold loss have picked the design with the lower RMSE of
    the estimate? (issue 14: an `auto` design must be shown to pick the better one.)"""
    if len(designs) < 2:
        return
    a, b = designs[0], designs[1]
    lines, agree, total = [], {"ate": 0, "att": 0}, 0
    for key in keys:
        recs = [r for r in groups[key] if r["runs"].get(a, {}).get("ok") and r["runs"].get(b, {}).get("ok")]
        losses = {d: [outcome_loss(r["runs"][d]) for r in recs] for d in (a, b)}
        if not recs or any(x is None for d in (a, b) for x in losses[d]):
            continue
        mean_loss = {d: statistics.mean(losses[d]) for d in (a, b)}
        by_loss = a if mean_loss[a] <= mean_loss[b] else b
        cells = [key, f"{mean_loss[a]:.4f}", f"{mean_loss[b]:.4f}", by_loss]
        total += 1
        for est in ("ate", "att"):
            st = {d: stats(recs, d, est) for d in (a, b)}
            by_rmse = a if st[a]["rmse"] <= st[b]["rmse"] else b
            agree[est] += by_rmse == by_loss
            cells.append(by_rmse)
        lines.append("| " + " | ".join(cells) + " |")
    if not total:
        return
    print(f"\nOut-of-fold outcome RMSE (g0 on controls, g1 on treated, mean over data sets) and the design "
          f"it would pick, against the design with the lower RMSE of the estimate\n")
    print(f"| cell | loss {a} | loss {b} | lower loss | lower RMSE ATE | lower RMSE ATT |")
    print("|---|---|---|---|---|---|")
    print("\n".join(lines))
    print(f"\nThe lower outcome loss picks the lower-RMSE design in {agree['ate']}/{total} cells (ATE), "
          f"{agree['att']}/{total} (ATT).")


def print_tuning(designs, groups, keys):
    """Kept rounds and chosen depths per nuisance, from diagnostics.nuisance_tuning when the build
    writes it (--rounds auto, --tune); read defensively, its shape may still change."""
    rows = {}
    for key in keys:
        c = groups[key][0]["cell"]
        group = f"n={c['n']}" if c["kind"] == "grid" else key
        for r in groups[key]:
            for d in designs:
                tuning = r["runs"].get(d, {}).get("nuisance_tuning")
                if not isinstance(tuning, dict):
                    continue
                for name, t in tuning.items():
                    for m in (t.get("models") or []) if isinstance(t, dict) else []:
                        if isinstance(m, dict) and "rounds" in m:
                            rows.setdefault((group, d, name), []).append(m)
    if not rows:
        return
    print("\nKept rounds per nuisance model (diagnostics.nuisance_tuning, all folds and data sets)\n")
    print("| group | design | nuisance | models | mean rounds | min | max | depths chosen |")
    print("|---|---|---|---|---|---|---|---|")
    for (group, d, name), ms in rows.items():
        rounds = [m["rounds"] for m in ms]
        depths = {}
        for m in ms:
            depths[m.get("max_depth")] = depths.get(m.get("max_depth"), 0) + 1
        depth_text = ", ".join(f"{k}: {v}" for k, v in sorted(depths.items(), key=lambda kv: str(kv[0])))
        print(f"| {group} | {d} | {name} | {len(ms)} | {statistics.mean(rounds):.0f} | {min(rounds)} | "
              f"{max(rounds)} | {depth_text} |")


def print_tables(data):
    designs, results = data["designs"], data["results"]
    groups = {}
    for r in results:
        groups.setdefault(r["key"], []).append(r)
    keys = sorted(groups, key=lambda k: cell_order(groups[k][0]["cell"]))
    print(f"designs {', '.join(designs)}; extra flags: {data['extra'] or '(none)'}; "
          f"{len(results)} data sets; CLI {data['cli']}\n")
    print("Bias and RMSE in units of sd(g0(X)) = 1 (IHDP: outcome units). Coverage of the 95% CI "
          "against the population truth (IHDP: the sample truth). k = data sets.\n")
    head = ["cell", "estimand", "truth", "k"]
    for metric in ("bias", "RMSE", "mean SE", "cover"):
        head += [f"{metric} {d}" for d in designs]
    head += [f"s {d}" for d in designs]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    ratios = {}  # (estimand, n or ihdp) -> list of RMSE ratios design[1]/design[0]
    fails = {d: 0 for d in designs}
    for r in results:
        for d in designs:
            fails[d] += not r["runs"].get(d, {}).get("ok", False)
    for key in keys:
        recs = groups[key]
        for est in ("ate", "att"):
            st = {d: stats(recs, d, est) for d in designs}
            if all(v is None for v in st.values()):
                continue
            k = max(v["k"] for v in st.values() if v)
            truth = statistics.mean(r["truth"][est] for r in recs)
            cells = [key, est.upper(), f"{truth:.4g}", str(k)]
            for metric, fmt in (("bias", "{:+.4f}"), ("rmse", "{:.4f}"), ("mean_se", "{:.4f}"),
                                ("coverage", "{:.0%}")):
                cells += [fmt.format(st[d][metric]) if st[d] else "n/a" for d in designs]
            cells += [f"{st[d]['wall']:.1f}" if st[d] else "n/a" for d in designs]
            print("| " + " | ".join(cells) + " |")
            c = recs[0]["cell"]
            group = f"n={c['n']}" if c["kind"] == "grid" else key
            for other in designs[1:]:
                if st[designs[0]] and st[other] and st[designs[0]]["rmse"] > 0:
                    ratios.setdefault((other, est, group), []).append(st[other]["rmse"] / st[designs[0]]["rmse"])
    if ratios:
        print(f"\nRMSE of each design / RMSE of {designs[0]}, per cell: geometric mean over the cells of a "
              f"group [min, max], and the cells where it is the lower\n")
        print("| design | group | estimand | cells | geo-mean ratio | min | max | lower |")
        print("|---|---|---|---|---|---|---|---|")
        for (other, est, group), v in sorted(ratios.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1])):
            gm = math.exp(statistics.mean(math.log(x) for x in v))
            print(f"| {other} | {group} | {est.upper()} | {len(v)} | {gm:.3f} | {min(v):.3f} | {max(v):.3f} | "
                  f"{sum(x < 1 for x in v)}/{len(v)} |")
    print_loss_agreement(designs, groups, keys)
    print_tuning(designs, groups, keys)
    if any(fails.values()):
        print(f"\nfailed runs: {fails}")


# ---------------------------------------------------------------- main
def parse_seeds(spec):
    out = {}
    for part in spec.split(","):
        n, count = part.split(":")
        out[int(float(n))] = int(count)
    return out


def save(path, data):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


def check_truth(cells, draws=4_000_000):
    rng = np.random.default_rng(12345)
    X = rng.standard_normal((draws, 6))
    for cell in cells:
        t = cell_truth(cell)
        m = expit(t["intercept"] + cell["confounding"] * propensity_index(X))
        h = 1.0 if cell["effect"] == "het" else 0.0
        tau = cell["ratio"] * (1.0 + h * heterogeneity(X))
        print(f"{cell_key(cell)}: share {m.mean():.4f}; ATE quad {t['ate']:.5f} MC {tau.mean():.5f}; "
              f"ATT quad {t['att']:.5f} MC {np.dot(tau, m) / m.sum():.5f}; sd g0 MC {prognostic(X).std():.4f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="1000:30,10000:10,100000:2", help="n:data sets, comma list")
    ap.add_argument("--ratios", default="0.05,0.2,1", help="effect / sd(g0(X))")
    ap.add_argument("--effects", default="const,het", help="const and/or het")
    ap.add_argument("--shares", default="0.5,0.15", help="treated shares (propensity intercept)")
    ap.add_argument("--confounding", default="1", help="slopes c of the propensity index")
    ap.add_argument("--p", type=int, default=15, help="features (>= 6; the rest are noise)")
    ap.add_argument("--noise", type=float, default=1.0, help="sd of the outcome noise")
    ap.add_argument("--seed0", type=int, default=0, help="data set i uses seed seed0 + i")
    ap.add_argument("--ihdp-reps", type=int, default=50, help="IHDP draws per surface (0: none)")
    ap.add_argument("--ihdp-surfaces", default="A,B")
    ap.add_argument("--designs", default="separate,pooled", help="--outcome-design values, comma list")
    ap.add_argument("--extra", default="", help="flags passed to every estimate run, one string")
    ap.add_argument("--workers", type=int, default=1, help="CLI processes at a time (each --threads 1)")
    ap.add_argument("--cli", default=os.environ.get("FASTDML_CLI", str(REPO / "build" / "fastdml")))
    ap.add_argument("--out", default=None, help="results JSON (rewritten after every data set)")
    ap.add_argument("--resume", action="store_true", help="keep and skip the data sets already in --out")
    ap.add_argument("--report", default=None, help="only print the tables of this results JSON")
    ap.add_argument("--check-truth", action="store_true", help="compare the quadrature truths with a 4e6 draw")
    a = ap.parse_args()

    if a.report:
        with open(a.report) as f:
            print_tables(json.load(f))
        return
    if a.p < 6:
        raise SystemExit("--p must be at least 6")
    seeds = parse_seeds(a.seeds)
    cells = [dict(kind="grid", n=n, ratio=float(r), effect=e, share=float(s), confounding=float(c))
             for n in sorted(seeds) for r in a.ratios.split(",") for e in a.effects.split(",")
             for s in a.shares.split(",") for c in a.confounding.split(",")]
    if a.check_truth:
        check_truth([c for c in cells if c["n"] == min(seeds)])
        return
    cli = Path(a.cli)
    if not cli.is_file():
        raise SystemExit(f"fastdml binary not found: {cli} (build it or pass --cli)")
    designs = a.designs.split(",")
    extra = shlex.split(a.extra)
    tmp = tempfile.mkdtemp(prefix="fastdml_grid_")

    # Pre-flight: a flag this build does not know fails every run; say so once.
    X, d, y, _ = simulate(dict(n=300, ratio=1.0, effect="const", share=0.5, confounding=1.0), 0, a.p, a.noise)
    write_csv(Path(tmp) / "pre.csv", X, d, y)
    for design in designs:
        r = run_estimate(cli, ["--data", Path(tmp) / "pre.csv", "--outcome", "y", "--treatment", "d",
                               "--outcome-design", design, "--threads", 1, "--quiet", *extra],
                         Path(tmp) / "pre.json")
        if not r["ok"]:
            shutil.rmtree(tmp, ignore_errors=True)
            why = "n/a (flag unknown)" if r["flag_unknown"] else "failed"
            raise SystemExit(f"design {design} with extra flags {a.extra!r}: {why}: {r['error']}")

    args = {k: portable_path(v) if k in ("cli", "out") and v else v for k, v in vars(a).items()}
    data = dict(args=args, designs=designs, extra=a.extra, cli=portable_path(cli), simulator=dict(
        g0_sd=G0_SD, psi_sd=PSI_SD, truths={cell_key(c): cell_truth(c) for c in cells}), results=[])
    done = set()
    if a.resume and a.out and os.path.exists(a.out):
        with open(a.out) as f:
            old = json.load(f)
        if old["designs"] != designs or old["extra"] != a.extra:
            raise SystemExit("--resume: --out was written with other --designs or --extra")
        data["results"] = old["results"]
        done = {(r["key"], r["seed"]) for r in old["results"]}
    jobs = []
    for n in sorted(seeds):
        for i in range(seeds[n]):
            for cell in (c for c in cells if c["n"] == n):
                jobs.append(dict(cell=cell, seed=a.seed0 + i, truth=cell_truth(cell)))
    for surface in a.ihdp_surfaces.split(",") if a.ihdp_reps > 0 else []:
        for rep in range(a.ihdp_reps):
            jobs.append(dict(cell=dict(kind="ihdp", surface=surface, n=747), seed=rep, truth=None))
    # Small n first (IHDP's 747 rows included): a stopped run has every cell of the small sizes.
    jobs.sort(key=lambda j: j["cell"]["n"])
    jobs = [j for j in jobs if (cell_key(j["cell"]), j["seed"]) not in done]
    for j in jobs:
        j.update(p=a.p, noise=a.noise, designs=designs, extra=extra, cli=str(cli), tmp=tmp)

    lock = threading.Lock()
    t0 = time.perf_counter()
    print(f"{len(jobs)} data sets x {len(designs)} designs, {a.workers} worker(s)", file=sys.stderr)
    try:
        with cf.ThreadPoolExecutor(max_workers=a.workers) as pool:
            futures = [pool.submit(one_dataset, j) for j in jobs]
            for k, fut in enumerate(cf.as_completed(futures), 1):
                rec = fut.result()
                with lock:
                    data["results"].append(rec)
                    data["elapsed_s"] = time.perf_counter() - t0
                    if a.out:
                        save(a.out, data)
                bad = [d for d, r in rec["runs"].items() if not r["ok"]]
                if bad:
                    print(f"failed: {rec['key']} seed {rec['seed']} {bad}: "
                          f"{rec['runs'][bad[0]]['error'][-300:]}", file=sys.stderr)
                if k % 10 == 0 or k == len(jobs):
                    print(f"{k}/{len(jobs)} data sets, {time.perf_counter() - t0:.0f}s ({rec['key']})",
                          file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"wall time {time.perf_counter() - t0:.0f}s\n")
    print_tables(data)


if __name__ == "__main__":
    main()
