"""--trim: estimation on the rows with comparable propensities (Crump, Hotz,
Imbens and Mitnik 2009).

  * Crump's alpha equals an independent numpy solution of its defining fixed
    point, lambda = 2 E[gamma | gamma <= lambda], gamma = 1 / (m (1 - m)), on the
    propensities averaged over repetitions;
  * the trimmed estimates are exactly those of the same predictions restricted
    to the kept rows, estimated as a data set of their own (so "estimation runs
    on the rows with m in [alpha, 1 - alpha]" holds literally), for every
    estimand and with 1 and 3 repetitions;
  * the JSON names the population (rule, alpha, rows kept), and bad uses are
    usage errors naming --trim.
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import run_cli
from test_doubleml_agreement import (FEATURES, make_problem, run_fastdml_loaded, write_data_csv,
                                     write_predictions_csv)


def crump_alpha(m: np.ndarray) -> float:
    """Crump et al.'s alpha by brute force over the candidate lambdas."""
    gamma = np.sort(1.0 / (m * (1.0 - m)))
    if gamma[-1] <= 2 * gamma.mean():
        return 0.0
    for k in range(1, len(gamma) + 1):
        lam = 2 * gamma[:k].mean()
        nxt = gamma[k] if k < len(gamma) else np.inf
        if gamma[k - 1] <= lam < nxt:
            return 0.5 - np.sqrt(0.25 - 1 / lam)
    raise AssertionError("no fixed point")


def restrict(prob: dict, keep: np.ndarray) -> dict:
    out = dict(prob, n=int(keep.sum()))
    for k in ("x", "d", "y", "w"):
        out[k] = prob[k][keep]
    for k in ("m", "g0", "g1", "l", "folds"):
        out[k] = prob[k][keep, :]
    return out


@pytest.mark.parametrize("rule", ["crump", "0.05"])
@pytest.mark.parametrize("reps", [1, 3])
def test_trimmed_estimates_are_those_of_the_kept_rows(cli, tmp_path, reps, rule):
    prob = make_problem(seed=1601 + reps, reps=reps)
    out = run_fastdml_loaded(cli, tmp_path, prob, "irm", "ate,att,atc,ato", extra=["--trim", rule])
    t = out["trimming"]
    mean_m = prob["m"].mean(axis=1)
    alpha = crump_alpha(mean_m) if rule == "crump" else 0.05
    assert t["rule"] == ("crump" if rule == "crump" else "fixed")
    assert abs(t["alpha"] - alpha) <= 1e-12, (t["alpha"], alpha)
    keep = (mean_m >= t["alpha"]) & (mean_m <= 1 - t["alpha"])
    assert 0 < keep.sum() < len(keep), "the problem has propensities to trim"
    assert t["rows"] == len(keep) and t["rows_kept"] == keep.sum()
    assert t["treated_kept"] == prob["d"][keep].sum()

    sub_dir = tmp_path / "sub"
    sub_dir.mkdir()
    sub = run_fastdml_loaded(cli, sub_dir, restrict(prob, keep), "irm", "ate,att,atc,ato")
    for got, want in zip(out["estimates"], sub["estimates"]):
        assert got["estimand"] == want["estimand"]
        for key in ("estimate", "se", "ci_lower", "ci_upper"):
            assert got[key] == pytest.approx(want[key], rel=1e-12, abs=0), (got["estimand"], key)


def test_trim_usage_errors(cli, tmp_path):
    prob = make_problem(seed=1611, reps=1, n=400)
    write_data_csv(prob, tmp_path / "data.csv")
    write_predictions_csv(prob, tmp_path / "pred.csv", "irm")
    base = ["estimate", "--data", tmp_path / "data.csv", "--outcome", "y", "--treatment", "d",
            "--features", ",".join(FEATURES)]
    for args, message in (
        (["--trim", "0.6"], "must lie in (0, 0.5)"),
        (["--trim", "crumpy"], "neither 'crump' nor a number"),
        (["--trim", "0.1", "--model", "plr"], "--model irm"),
        (["--trim", "0.1", "--cate-by", "x0"], "--cate-by"),
        (["--trim", "0.1", "--sensitivity-benchmark", "x0"], "--sensitivity-benchmark"),
    ):
        proc = run_cli(cli, base + args, check=False)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "--trim" in proc.stderr and message in proc.stderr, (args, proc.stderr)
    # Too few rows kept for the folds: a data error (exit 3) naming --trim and
    # the fold (an arm left empty altogether is Trim.LeavingAnArmEmpty... in C++).
    proc = run_cli(cli, base + ["--trim", "0.49", "--load-predictions", tmp_path / "pred.csv"], check=False)
    assert proc.returncode == 3 and "--trim" in proc.stderr and "cannot be estimated from" in proc.stderr, proc.stderr
    # the printed report says which population the numbers describe
    ok = run_cli(cli, base + ["--trim", "crump", "--load-predictions", tmp_path / "pred.csv"])
    assert "trimmed population (Crump et al. 2009 rule)" in ok.stdout

