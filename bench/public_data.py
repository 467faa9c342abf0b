#!/usr/bin/env python3
"""fastdml on two public observational data sets from the `causaldata`
package (PyPI, pinned in scripts/setup), under several nuisance settings
(issue 14, item 6).

NHEFS (Hernán & Robins, "Causal Inference: What If", ch. 12-13): effect of
quitting smoking (qsmk) between 1971 and 1982 on the weight change wt82_71
(kg), ATE; covariates sex, race, age, education, smokeintensity, smokeyrs,
exercise, active, wt71 (categories as their ordinal codes; trees split them).
causaldata's `nhefs` has 1,629 rows; the 63 without a 1982 weight
(censored = 1: not weighed at the follow-up, 27 of them died by 1992) are
dropped, leaving the book's 1,566 (the book then weights for censoring; we do
not). Reference: the book's IP-weighted 3.4 kg (95% CI 2.4 to 4.5) and
standardised 3.5 (2.6 to 4.5); the table also prints an OLS with the book's
covariate specification (squares of the continuous covariates, indicators of
the categorical ones) and its HC1 SE.

LaLonde (Dehejia-Wahba sample): the 185 NSW treated (`nsw_mixtape`,
treat = 1) with the 15,992 CPS-1 controls (`cps_mixtape`), 16,177 rows; the
effect of the training programme on 1978 earnings re78, ATT; covariates age,
educ, black, hisp, marr, nodegree, re74, re75. Reference: the experimental
difference in means of the NSW treated and the 260 NSW controls (1,794,
Welch SE 671).

Each configuration is a name and the flags it adds (`--config NAME=FLAGS`,
repeatable; replaces the default set). A configuration whose flags this
build does not know prints "n/a (flag unknown)".

Usage:
  .venv/bin/python bench/public_data.py [--cli build/fastdml] [--datasets nhefs,lalonde]
      [--seeds 0] [--threads 1] [--common "--folds 5"] [--config "name=--flags ..."]... [--out FILE.json]
"""
from __future__ import annotations

import argparse
import json
import math
import re
import os
import shlex
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import portable_path, run_estimate, warning_codes  # noqa: E402  (bench/measure.py)

REPO = Path(__file__).resolve().parents[1]

DEFAULT_CONFIGS = [
    ("fixed (old defaults: 200 rounds, depth 6, eta 0.1)", "--rounds 200 --max-depth 6 --eta 0.1"),
    ("regularised (100 rounds, depth 3, eta 0.05)", "--rounds 100 --max-depth 3 --eta 0.05"),
    ("default (no flags)", ""),
    ("--tune", "--tune"),
]

NHEFS_X = ["sex", "race", "age", "education", "smokeintensity", "smokeyrs", "exercise", "active", "wt71"]
LALONDE_X = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"]


def load_nhefs():
    from causaldata import nhefs
    raw = nhefs.load_pandas().data
    df = raw[raw["wt82"].notna()].copy()
    for c in NHEFS_X + ["qsmk"]:
        df[c] = df[c].astype(float)
    df["qsmk"] = df["qsmk"].astype(int)
    note = (f"{len(raw)} rows, {len(raw) - len(df)} without a 1982 weight dropped "
            f"(censored; {int(raw.loc[raw['wt82'].isna(), 'death'].sum())} of them died by 1992): n = {len(df)}")
    return df[NHEFS_X + ["qsmk", "wt82_71"]], "qsmk", "wt82_71", NHEFS_X, "ate", note, nhefs_reference(df)


def nhefs_reference(df):
    """OLS with Hernán & Robins' covariate specification, HC1 SE of the qsmk coefficient."""
    cols = [np.ones(len(df)), df["qsmk"].to_numpy(float)]
    for c in ("sex", "race"):
        cols.append(df[c].to_numpy(float))
    for c in ("age", "smokeintensity", "smokeyrs", "wt71"):
        v = df[c].to_numpy(float)
        cols += [v, v * v]
    for c, levels in (("education", (2, 3, 4, 5)), ("exercise", (1, 2)), ("active", (1, 2))):
        v = df[c].to_numpy(float)
        cols += [(v == lv).astype(float) for lv in levels]
    X = np.column_stack(cols)
    y = df["wt82_71"].to_numpy(float)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    n, k = X.shape
    bread = np.linalg.inv(X.T @ X)
    meat = (X * resid[:, None] ** 2).T @ X
    se = math.sqrt((bread @ meat @ bread)[1, 1] * n / (n - k))
    return dict(label="OLS, Hernán & Robins' covariate specification (HC1 SE)", estimate=float(beta[1]), se=se)


def load_lalonde():
    import pandas as pd
    from causaldata import cps_mixtape, nsw_mixtape
    nsw = nsw_mixtape.load_pandas().data
    cps = cps_mixtape.load_pandas().data
    treated = nsw[nsw["treat"] == 1]
    df = pd.concat([treated, cps], ignore_index=True)
    df = df[LALONDE_X + ["treat", "re78"]].astype(float)
    df["treat"] = df["treat"].astype(int)
    note = (f"{len(treated)} NSW treated + {len(cps)} CPS-1 controls "
            f"(cps_mixtape treat = {sorted(cps['treat'].unique().tolist())}): n = {len(df)}")
    t = nsw.loc[nsw["treat"] == 1, "re78"].to_numpy(float)
    c = nsw.loc[nsw["treat"] == 0, "re78"].to_numpy(float)
    ref = dict(label=f"experimental: NSW treated ({len(t)}) - NSW controls ({len(c)}), Welch SE",
               estimate=float(t.mean() - c.mean()),
               se=math.sqrt(t.var(ddof=1) / len(t) + c.var(ddof=1) / len(c)))
    return df, "treat", "re78", LALONDE_X, "att", note, ref


DATASETS = {"nhefs": load_nhefs, "lalonde": load_lalonde}


def tuning_summary(tuning):
    """'m: rounds 23,6,6 (depth 6, eta 0.1, mcw 1); g: ...' read defensively (the shape may change)."""
    if not isinstance(tuning, dict):
        return json.dumps(tuning)[:300]
    parts = []
    for name, t in tuning.items():
        models = (t.get("models") or []) if isinstance(t, dict) else []
        if not models:
            parts.append(f"{name}: {json.dumps(t)[:200]}")
            continue
        rounds = ",".join(str(m.get("rounds")) for m in models)
        settings = sorted({(m.get("max_depth"), m.get("eta"), m.get("min_child_weight")) for m in models},
                          key=str)
        text = "; ".join(f"depth {d}, eta {e}, mcw {w:g}" if isinstance(w, (int, float)) else
                         f"depth {d}, eta {e}, mcw {w}" for d, e, w in settings)
        parts.append(f"{name}: rounds {rounds} ({text})")
    return "; ".join(parts)


def fmt(x, digits=4):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.{digits}g}" if abs(x) < 1e4 else f"{x:,.0f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=os.environ.get("FASTDML_CLI", str(REPO / "build" / "fastdml")))
    ap.add_argument("--datasets", default="nhefs,lalonde")
    ap.add_argument("--config", action="append", default=None, metavar="NAME=FLAGS",
                    help="a configuration (repeatable; replaces the default set)")
    ap.add_argument("--common", default="", help="flags added to every run (e.g. '--folds 10 --reps 5')")
    ap.add_argument("--seeds", default="0", help="comma list of --seed values; each gets a row")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None, help="write every run's results (with the raw diagnostics) here")
    a = ap.parse_args()

    cli = Path(a.cli)
    if not cli.is_file():
        raise SystemExit(f"fastdml binary not found: {cli} (build it or pass --cli)")
    configs = DEFAULT_CONFIGS if a.config is None else [tuple(c.split("=", 1)) if "=" in c else (c, c)
                                                         for c in a.config]
    seeds = [int(s) for s in a.seeds.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="fastdml_public_"))
    records = []
    try:
        for name in a.datasets.split(","):
            df, treatment, outcome, features, estimand, note, ref = DATASETS[name]()
            csv = tmp / f"{name}.csv"
            df.to_csv(csv, index=False)
            print(f"\n### {name}: {outcome} on {treatment}, {estimand.upper()}\n\n{note}. "
                  f"Reference: {ref['label']}: {fmt(ref['estimate'])} (SE {fmt(ref['se'])}).\n")
            print("| configuration | seed | estimate | SE | 95% CI | m log loss (constant) | clipped | "
                  "warnings | s |")
            print("|---|---|---|---|---|---|---|---|---|")
            for label, flags in configs:
                for seed in seeds:
                    args = ["--data", csv, "--outcome", outcome, "--treatment", treatment,
                            "--features", ",".join(features), "--estimand", estimand, "--seed", seed,
                            "--threads", a.threads, "--quiet", *shlex.split(a.common), *shlex.split(flags)]
                    r = run_estimate(cli, args, tmp / "out.json")
                    rec = dict(dataset=name, config=label, flags=flags, common=a.common, seed=seed,
                               ok=r["ok"], wall=r["wall"], reference=ref, note=note)
                    if not r["ok"]:
                        why = "n/a (flag unknown)" if r["flag_unknown"] else "failed"
                        rec.update(error=r["error"], flag_unknown=r["flag_unknown"])
                        records.append(rec)
                        print(f"| {label} | {seed} | {why} | | | | | {r['error'].splitlines()[0][:80]} | |")
                        if r["flag_unknown"]:
                            break  # every seed would fail the same way
                        continue
                    res = r["result"]
                    diag = res.get("diagnostics") or {}
                    e = next(x for x in res["estimates"] if x["estimand"] == estimand)
                    m = (diag.get("nuisance_quality") or {}).get("m") or {}
                    ov = diag.get("overlap") or {}
                    clipped = (ov.get("clipped_low") or 0) + (ov.get("clipped_high") or 0)
                    # Each code with the nuisance it names, e.g. W-NUISANCE-WORSE-THAN-CONSTANT (g0).
                    codes = []
                    for code, text in zip(warning_codes(res), diag.get("warnings") or []):
                        who = re.search(r"\bmodel (m|g0|g1|g|l)\b", text)
                        codes.append(f"{code} ({who.group(1)})" if who else code)
                    rec.update(estimate=e["estimate"], se=e["se"], ci=[e["ci_lower"], e["ci_upper"]],
                               nuisance_quality=diag.get("nuisance_quality"),
                               nuisance_tuning=diag.get("nuisance_tuning"), overlap=ov,
                               warnings=diag.get("warnings") or [], timings=res.get("timings"),
                               options=res.get("options"))
                    records.append(rec)
                    print(f"| {label} | {seed} | {fmt(e['estimate'])} | {fmt(e['se'])} | "
                          f"[{fmt(e['ci_lower'])}, {fmt(e['ci_upper'])}] | "
                          f"{fmt(m.get('logloss'), 3)} ({fmt(m.get('constant_logloss'), 3)}) | {clipped} | "
                          f"{', '.join(codes) or '—'} | {r['wall']:.1f} |")
            if len(seeds) > 1:
                print("\nAcross seeds (mean estimate, sd of the estimates, mean SE):\n")
                for label, _ in configs:
                    ok = [x for x in records if x["dataset"] == name and x["config"] == label and x["ok"]]
                    if len(ok) > 1:
                        est = [x["estimate"] for x in ok]
                        print(f"- {label}: {fmt(statistics.mean(est))}, sd {fmt(statistics.stdev(est))}, "
                              f"mean SE {fmt(statistics.mean(x['se'] for x in ok))}")
            tuned = [x for x in records if x["dataset"] == name and x.get("nuisance_tuning")]
            if tuned:
                print("\nKept rounds per fold and the chosen settings (diagnostics.nuisance_tuning; "
                      "all of it in --out):\n")
            for x in tuned:
                print(f"- {x['config']}, seed {x['seed']}: {tuning_summary(x['nuisance_tuning'])}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(dict(cli=portable_path(cli), common=a.common, records=records), f, indent=1)


if __name__ == "__main__":
    main()
