"""--sensitivity-benchmark: the short refit and DoubleML's gain statistics.

fastdml trains a long fit (all features) with --sensitivity-benchmark x1, and,
separately with the same seed, the short fit without x1. Both save their
predictions. Checked:
  * the benchmark's internal refit is that short fit: delta_theta equals the two
    runs' theta difference (median over repetitions) to 1e-12;
  * DoubleML's gain_statistics(dml_long, dml_short) on those two sets of
    predictions and folds gives the same cf_y, cf_d, rho and delta_theta to a
    relative 1e-9 (RTOL) -- the exact form of "the same folds and learners";
  * the benchmark's bounds are the --sensitivity bounds at its (cf_y, cf_d, rho).
"""
from __future__ import annotations

import numpy as np
import pytest

from doubleml.utils.gain_statistics import gain_statistics

from conftest import assert_close, read_json, run_cli
from test_doubleml_agreement import FEATURES, doubleml_fit, make_problem, read_saved_predictions, write_data_csv

N, REPS, SEED = 1500, 2, 11
BENCHMARK = "x1"  # drives both the treatment and the outcome in make_problem


def fit(cli, tmp_path, name, model, features, extra=()):
    out_json = tmp_path / f"{name}.json"
    pred_csv = tmp_path / f"{name}.csv"
    estimands = "ate,att" if model == "irm" else "ate"
    run_cli(cli, ["estimate", "--data", tmp_path / "data.csv", "--outcome", "y", "--treatment", "d",
                  "--features", ",".join(features), "--model", model, "--estimand", estimands,
                  "--folds", 3, "--reps", REPS, "--seed", SEED, "--rounds", 30, "--max-depth", 3, "--threads", 2,
                  "--quiet", "--json", out_json, "--save-predictions", pred_csv] + list(extra))
    return read_json(out_json), read_saved_predictions(pred_csv, N, model)


def doubleml_from(prob, saved, model, score):
    ref_prob = dict(prob, reps=saved["reps"], folds=saved["folds"], m=saved["m"])
    for k in ("g0", "g1", "l"):
        if k in saved:
            ref_prob[k] = saved[k]
    return doubleml_fit(ref_prob, model, score)


@pytest.mark.parametrize("model", ["irm", "plr"])
def test_benchmark_matches_doubleml_gain_statistics(cli, tmp_path, model):
    prob = make_problem(seed=1201, reps=1, n=N)
    write_data_csv(prob, tmp_path / "data.csv")
    long_out, long_pred = fit(cli, tmp_path, "long", model, FEATURES,
                              ["--sensitivity", "cf_y=0.03,cf_d=0.03,rho=1.0", "--sensitivity-benchmark", BENCHMARK])
    short_out, short_pred = fit(cli, tmp_path, "short", model, [f for f in FEATURES if f != BENCHMARK])
    assert (long_pred["folds"] == short_pred["folds"]).all(), "the short fit must reuse the long fit's folds"

    scores = (("ate", "ATE"), ("att", "ATTE")) if model == "irm" else (("ate", None),)
    for estimand, score in scores:
        bench = [b for b in long_out["sensitivity_benchmark"] if b["estimand"] == estimand]
        assert len(bench) == 1 and bench[0]["features"] == [BENCHMARK]
        b = bench[0]
        theta = lambda out: [e for e in out["estimates"] if e["estimand"] == estimand][0]  # noqa: E731
        delta_reps = np.array(theta(short_out)["theta_reps"]) - np.array(theta(long_out)["theta_reps"])
        assert abs(b["delta_theta"] - np.median(delta_reps)) <= 1e-12 * max(1.0, abs(b["delta_theta"]))

        long_ref = doubleml_from(prob, long_pred, model, score or "ATE")
        short_ref = doubleml_from(prob, short_pred, model, score or "ATE")
        want = gain_statistics(dml_long=long_ref, dml_short=short_ref)
        tag = f"{model} {estimand}"
        for key in ("cf_y", "cf_d", "rho", "delta_theta"):
            assert_close(f"{tag} {key}", b[key], want[key][0])
        assert 0 < b["cf_y"] < 1 and 0 < b["cf_d"] < 1, b  # x1 is a real confounder here

        # The benchmark's bounds are the ordinary bounds at its strength.
        s = f"cf_y={b['cf_y']!r},cf_d={b['cf_d']!r},rho={b['rho']!r}"
        again = read_json_after(cli, tmp_path, model, estimand, s)
        for key in ("theta_lower", "theta_upper", "ci_lower", "ci_upper"):
            assert_close(f"{tag} benchmark {key}", b["bounds"][key], again[key], rtol=1e-12)


def read_json_after(cli, tmp_path, model, estimand, scenario):
    out_json = tmp_path / "again.json"
    run_cli(cli, ["estimate", "--data", tmp_path / "data.csv", "--outcome", "y", "--treatment", "d",
                  "--features", ",".join(FEATURES), "--model", model, "--estimand", estimand,
                  "--load-predictions", tmp_path / "long.csv", "--quiet", "--json", out_json,
                  "--sensitivity", scenario])
    return read_json(out_json)["sensitivity"][0]


@pytest.mark.parametrize("flag, message", [
    ("nope", "'nope' is not a feature of this fit"),
    ("x0,x0", "'x0' is named twice"),
    (",".join(FEATURES), "leaves the short model none"),
])
def test_bad_benchmarks_are_usage_errors_before_training(cli, tmp_path, flag, message):
    prob = make_problem(seed=1202, reps=1, n=200)
    write_data_csv(prob, tmp_path / "data.csv")
    proc = run_cli(cli, ["estimate", "--data", tmp_path / "data.csv", "--outcome", "y", "--treatment", "d",
                         "--features", ",".join(FEATURES), "--sensitivity-benchmark", flag], check=False)
    assert proc.returncode == 2, proc.stderr
    assert "--sensitivity-benchmark" in proc.stderr and message in proc.stderr, proc.stderr
    assert "training" not in proc.stderr  # rejected before any model was trained
