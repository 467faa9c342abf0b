"""The overlap-weighted ATE (--estimand ato; Li, Morgan and Zaslavsky 2018; grf's
target.sample = "overlap"): theta = E[m(1-m) tau] / E[m(1-m)].

Its orthogonal score (src/ops/scores.h OverlapScore, derived there) is the
partialling-out score with the IRM's nuisances: psi = (D - m)(Y - l - theta (D - m)),
l = m g1 + (1 - m) g0, raw m. Checked here:
  * against DoubleML: DoubleMLPLR given ml_m = m and ml_l = m g1 + (1 - m) g0 as
    external predictions (same folds) is the same estimator, so theta, SE (per
    repetition and aggregated), the CI and the sensitivity bounds agree to 1e-9;
  * against an independent numpy implementation of grf's formula on the same
    predictions: the residual-on-residual slope without intercept exactly, and
    grf's lm() with an intercept within 0.1 SE (the intercept moves the slope by
    O(1/n), against an SE of O(1/sqrt(n)));
  * known truth: on the seller and irm designs the 95% CI covers the sample
    overlap-weighted effect (true propensity) in at least 8 of 10 seeds (at 95%,
    P(at most 7) < 0.012), and the estimate is within 4 SE of it every time;
  * usage errors: ato with PLR, --sensitivity with ato and --weights.
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import assert_matches_doubleml, estimate_by_name, read_json, run_cli
from test_doubleml_agreement import doubleml_fit, make_problem, run_fastdml_loaded
from test_sensitivity_doubleml import SCENARIOS, assert_sensitivity_matches, ours, scenario_flags


def as_plr(prob: dict) -> dict:
    """The ATO problem as DoubleML's PLR sees it: l = m g1 + (1 - m) g0."""
    return dict(prob, l=prob["m"] * prob["g1"] + (1 - prob["m"]) * prob["g0"])


@pytest.mark.parametrize("reps", [1, 3])
def test_ato_equals_doubleml_plr_with_the_irm_nuisances(cli, tmp_path, reps):
    prob = make_problem(seed=1501 + reps, reps=reps)
    out = run_fastdml_loaded(cli, tmp_path, prob, "irm", "ate,ato", extra=scenario_flags())
    ref = doubleml_fit(as_plr(prob), "plr")
    assert_matches_doubleml(estimate_by_name(out, "ato"), ref, f"ATO reps={reps}")
    for s in SCENARIOS:
        assert_sensitivity_matches(ours(out, "ato", s), ref, s, f"ATO reps={reps}")
    # clipping and normalisation do not enter the ATO (nothing is divided by m)
    again = run_fastdml_loaded(cli, tmp_path, prob, "irm", "ato", normalize_ipw=True, extra=["--clip", 0.2])
    assert estimate_by_name(again, "ato")["estimate"] == estimate_by_name(out, "ato")["estimate"]
    assert estimate_by_name(out, "ato")["estimate"] != pytest.approx(estimate_by_name(out, "ate")["estimate"],
                                                                      rel=1e-3)


def test_ato_equals_grfs_residual_formula(cli, tmp_path):
    prob = make_problem(seed=1511, reps=1)
    out = estimate_by_name(run_fastdml_loaded(cli, tmp_path, prob, "irm", "ato"), "ato")
    m, g0, g1 = prob["m"][:, 0], prob["g0"][:, 0], prob["g1"][:, 0]
    w_res = prob["d"] - m                         # W - W.hat
    y_res = prob["y"] - (m * g1 + (1 - m) * g0)   # Y - Y.hat, Y.hat = E[Y|X]
    slope = np.sum(w_res * y_res) / np.sum(w_res**2)
    assert abs(out["estimate"] - slope) <= 1e-12 * abs(slope)
    # grf: lm(Y.residual ~ W.residual), with an intercept
    x = np.column_stack([np.ones_like(w_res), w_res])
    grf = np.linalg.lstsq(x, y_res, rcond=None)[0][1]
    assert abs(out["estimate"] - grf) <= 0.1 * out["se"], (out["estimate"], grf, out["se"])


@pytest.mark.parametrize("design", ["seller", "irm"])
def test_ato_ci_covers_the_sample_truth_at_most_seeds(cli, tmp_path, design):
    covered = 0
    for seed in range(10):
        csv = tmp_path / f"{design}{seed}.csv"
        out_json = tmp_path / f"{design}{seed}.json"
        run_cli(cli, ["simulate", "--design", design, "--n", 3000, "--p", 10, "--seed", 100 + seed, "--out", csv])
        truth = read_json(tmp_path / f"{design}{seed}.truth.json")
        extra = ["--cluster", "seller_id"] if design == "seller" else []
        feats = ([] if design == "irm" else
                 ["--features", "experience_years,proactiveness_score,category,inventory_level,price,demand_index"])
        run_cli(cli, ["estimate", "--data", csv, "--outcome", "y", "--treatment", "d", "--estimand", "ato",
                      "--seed", seed, "--threads", 2, "--quiet", "--json", out_json, *feats, *extra])
        e = read_json(out_json)["estimates"][0]
        assert abs(e["estimate"] - truth["ato"]) <= 4 * e["se"], (seed, e, truth["ato"])
        covered += e["ci_lower"] <= truth["ato"] <= e["ci_upper"]
    assert covered >= 8, f"{design}: the ATO CI covered the truth in {covered}/10"


def test_ato_usage_errors(cli, tmp_path):
    prob = make_problem(seed=1521, reps=1, n=300)
    from test_doubleml_agreement import write_data_csv, write_predictions_csv
    write_data_csv(prob, tmp_path / "data.csv")
    write_predictions_csv(prob, tmp_path / "pred.csv", "irm")
    base = ["estimate", "--data", tmp_path / "data.csv", "--outcome", "y", "--treatment", "d"]
    plr = run_cli(cli, base + ["--model", "plr", "--estimand", "ato"], check=False)
    assert plr.returncode == 2 and "--estimand ato" in plr.stderr and "--model irm" in plr.stderr, plr.stderr
    weighted = run_cli(cli, base + ["--estimand", "ato", "--weights", "w", "--load-predictions", tmp_path / "pred.csv",
                                    "--sensitivity", "cf_y=0.03"], check=False)
    assert weighted.returncode == 2 and "--weights" in weighted.stderr and "ato" in weighted.stderr, weighted.stderr
