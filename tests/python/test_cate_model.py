"""DR-learner CATE model, sorted GATES, BLP test and CLAN through the CLI.

- predict-cate equals XGBoost's own Python package on the saved model, bit for
  bit (an independent reader of the UBJ file), and follows the rows when they
  are shuffled;
- --load-predictions reproduces every CATE output with no nuisance training;
- the CATE model and sorted GATES do not depend on --threads;
- sorted GATES, GK - G1, the BLP loading and CLAN equal statsmodels OLS
  (HC0, HC3, cluster) on the same signal and groups, to 1e-8;
- bad inputs exit with the documented code and name what is wrong.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.stats import norm
import xgboost

from conftest import read_json, run_cli

SMALL = ["--rounds", "60", "--max-depth", "4", "--quiet"]


@pytest.fixture(scope="module")
def seller(tmp_path_factory, cli):
    d = tmp_path_factory.mktemp("cate_model")
    csv = d / "seller.csv"
    run_cli(cli, ["simulate", "--design", "seller", "--n", "6000", "--seed", "21", "--out", csv])
    out = d / "fit.json"
    model = d / "cate.ubj"
    preds = d / "preds.csv"
    run_cli(cli, ["estimate", "--data", csv, "--outcome", "y", "--treatment", "d", *SMALL, "--threads", "2",
                  "--save-cate-model", model, "--sorted-gates", "4", "--clan", "inventory_level,price",
                  "--json", out, "--save-predictions", preds])
    return {"dir": d, "csv": csv, "json": read_json(out), "model": model, "preds": preds}


def test_predict_cate_equals_xgboost_python_on_the_saved_model(seller, cli):
    out = seller["dir"] / "cate.csv"
    run_cli(cli, ["predict-cate", "--model", seller["model"], "--data", seller["csv"], "--out", out])
    got = pd.read_csv(out)["cate"].to_numpy()
    meta = read_json(str(seller["model"]) + ".meta.json")
    df = pd.read_csv(seller["csv"])
    booster = xgboost.Booster(model_file=str(seller["model"]))
    want = booster.inplace_predict(df[meta["feature_names"]].to_numpy(np.float32))
    assert got.shape == (len(df),)
    np.testing.assert_array_equal(got, want.astype(np.float64))  # bit for bit


def test_predict_cate_follows_shuffled_rows_and_ignores_extra_columns(seller, cli):
    df = pd.read_csv(seller["csv"])
    first = seller["dir"] / "first.csv"
    run_cli(cli, ["predict-cate", "--model", seller["model"], "--data", seller["csv"], "--out", first])
    base = pd.read_csv(first)["cate"].to_numpy()
    perm = np.random.default_rng(0).permutation(len(df))
    shuffled = df.iloc[perm][list(reversed(df.columns))]  # rows and columns reordered
    shuffled["unused"] = 1.0
    path = seller["dir"] / "shuffled.csv"
    shuffled.to_csv(path, index=False)
    out = seller["dir"] / "shuffled_cate.csv"
    run_cli(cli, ["predict-cate", "--model", seller["model"], "--data", path, "--out", out])
    np.testing.assert_array_equal(pd.read_csv(out)["cate"].to_numpy(), base[perm])


def test_json_holds_every_result_and_heterogeneity_is_detected(seller):
    j = seller["json"]
    loss = j["cate_model"]["loss"]
    assert loss["pseudo_outcome_mse"] > 0 and loss["constant_mse"] > 0
    sg = j["sorted_gates"]
    assert sg["groups"] == 4 and sg["proxy"] == "outcome-difference" and len(sg["gates"]) == 4
    assert sum(g["n"] for g in sg["gates"]) == 6000
    # The top-minus-bottom SE includes both groups: with HC0 and disjoint groups
    # it is the root of the sum of the two variances.
    top, bottom = sg["gates"][-1], sg["gates"][0]
    assert sg["top_minus_bottom"]["estimate"] == pytest.approx(top["estimate"] - bottom["estimate"], rel=1e-12)
    assert sg["top_minus_bottom"]["se"] == pytest.approx(np.hypot(top["se"], bottom["se"]), rel=1e-9)
    assert j["blp_test"]["heterogeneity_detected"] is True
    assert j["blp_test"]["beta2_heterogeneity"]["p_value"] < 1e-3
    clan = {c["variable"]: c for c in j["clan"]}
    assert clan["inventory_level"]["difference"]["estimate"] < 0  # the effect falls with stock


def test_load_predictions_reproduces_the_cate_outputs_without_training(seller, cli):
    out = seller["dir"] / "reload.json"
    model2 = seller["dir"] / "cate2.ubj"
    run_cli(cli, ["estimate", "--data", seller["csv"], "--outcome", "y", "--treatment", "d", *SMALL,
                  "--load-predictions", seller["preds"], "--save-cate-model", model2, "--sorted-gates", "4",
                  "--clan", "inventory_level,price", "--json", out])
    j, ref = read_json(out), seller["json"]
    assert "loaded" in j["xgboost_version"]
    assert j["timings"]["training"] == 0
    # Predictions round-trip through the CSV at 17 digits, so allow 1e-9.
    for k in range(4):
        assert j["sorted_gates"]["gates"][k]["estimate"] == pytest.approx(
            ref["sorted_gates"]["gates"][k]["estimate"], rel=1e-9)
    assert j["blp_test"]["beta2_heterogeneity"]["estimate"] == pytest.approx(
        ref["blp_test"]["beta2_heterogeneity"]["estimate"], rel=1e-9)
    assert j["cate_model"]["loss"]["pseudo_outcome_mse"] == pytest.approx(
        ref["cate_model"]["loss"]["pseudo_outcome_mse"], rel=1e-6)


def test_cate_results_do_not_depend_on_threads(seller, cli):
    outs = []
    for threads in ["1", "3"]:
        out = seller["dir"] / f"t{threads}.json"
        run_cli(cli, ["estimate", "--data", seller["csv"], "--outcome", "y", "--treatment", "d", *SMALL,
                      "--threads", threads, "--cate-model", "--sorted-gates", "3", "--cate-proxy", "dr-learner",
                      "--json", out])
        outs.append(read_json(out))
    a, b = outs
    assert a["cate_model"]["loss"] == b["cate_model"]["loss"]
    assert a["sorted_gates"]["gates"] == b["sorted_gates"]["gates"]
    assert a["blp_test"] == b["blp_test"]


def test_bad_inputs_give_clear_errors(seller, cli):
    d = seller["dir"]
    df = pd.read_csv(seller["csv"])
    missing = d / "missing.csv"
    df.drop(columns=["inventory_level"]).to_csv(missing, index=False)
    p = run_cli(cli, ["predict-cate", "--model", seller["model"], "--data", missing, "--out", d / "x.csv"],
                check=False)
    assert p.returncode == 3 and "column 'inventory_level' is missing" in p.stderr, p.stderr
    assert not (d / "x.csv").exists()

    base = ["estimate", "--data", seller["csv"], "--outcome", "y", "--treatment", "d", *SMALL,
            "--load-predictions", seller["preds"]]
    p = run_cli(cli, base + ["--sorted-gates", "1"], check=False)
    assert p.returncode == 2 and "--sorted-gates: K = 1" in p.stderr, p.stderr
    p = run_cli(cli, base + ["--sorted-gates", "400"], check=False)
    assert p.returncode == 3 and "fewer than 20 rows per proxy group" in p.stderr, p.stderr
    p = run_cli(cli, base + ["--clan", "no_such_feature"], check=False)
    assert p.returncode == 2 and "--clan: 'no_such_feature'" in p.stderr, p.stderr
    p = run_cli(cli, base + ["--cate-model", "--cate-features", "price,nope"], check=False)
    assert p.returncode == 2 and "'nope' is not one of the fit's features" in p.stderr, p.stderr
    p = run_cli(cli, ["predict-cate", "--model", d / "nothing.ubj", "--data", seller["csv"], "--out", d / "y.csv"],
                check=False)
    assert p.returncode == 2 and "nothing.ubj.meta.json" in p.stderr, p.stderr
    p = run_cli(cli, ["estimate", "--data", seller["csv"], "--outcome", "y", "--treatment", "d", "--quiet",
                      "--model", "plr", "--rounds", "5", "--cate-model"], check=False)
    assert p.returncode == 2 and "--model irm" in p.stderr, p.stderr


def test_bad_cate_flags_fail_before_any_training(seller, cli):
    # 100,000 boosting rounds per nuisance would take many minutes here: each
    # error must come from the checks made before the fit, within the timeout.
    base = ["estimate", "--data", seller["csv"], "--outcome", "y", "--treatment", "d", "--quiet",
            "--rounds", 100000, "--threads", 1]
    cases = [(["--sorted-gates", "1"], 2, "--sorted-gates: K = 1"),
             (["--sorted-gates", "400"], 3, "fewer than 20 rows per proxy group"),
             (["--clan", "no_such_feature"], 2, "--clan: 'no_such_feature'"),
             (["--cate-model", "--cate-eta", "7"], 2, "--cate-eta"),
             (["--cate-model", "--cate-rep", "3"], 2, "--cate-rep: repetition 3"),
             (["--cate-model", "--cate-features", "price,nope"], 2, "'nope' is not one of the fit's features")]
    for flags, code, text in cases:
        p = run_cli(cli, base + flags, check=False, timeout=60)
        assert p.returncode == code and text in p.stderr, (flags, p.stderr)


def test_bootstrap_adds_joint_bands_to_the_sorted_gates(seller, cli):
    out = seller["dir"] / "joint.json"
    run_cli(cli, ["estimate", "--data", seller["csv"], "--outcome", "y", "--treatment", "d", *SMALL,
                  "--load-predictions", seller["preds"], "--sorted-gates", "4", "--bootstrap", "5000",
                  "--json", out])
    sg = read_json(out)["sorted_gates"]
    (crit,) = sg["joint_critical_values"]
    # Disjoint groups (no clusters) are independent: the sup-t critical value
    # solves (2 Phi(c) - 1)^4 = 0.95, c = 2.491. Its bootstrap SE at B = 5000 is
    # sqrt(.95 .05 / B) / f(c) ~ 0.022 (f = density of max |z| at c ~ 0.138).
    exact = norm.ppf((1 + 0.95 ** 0.25) / 2)
    assert abs(crit - exact) < 4 * 0.022, (crit, exact)
    for g in sg["gates"]:
        assert g["joint_ci_lower"] == pytest.approx(g["estimate"] - crit * g["se"], rel=1e-12)
        assert g["joint_ci_upper"] == pytest.approx(g["estimate"] + crit * g["se"], rel=1e-12)


def _quantile_groups(s: np.ndarray, k: int) -> np.ndarray:
    """Part A's rule (fastdml/cate.h GroupByQuantiles): edge_q = the
    ceil((q+1) n / k)-th smallest value, group = first q with s <= edge_q."""
    srt = np.sort(s)
    n = len(s)
    edges = np.array([srt[math.ceil((q + 1) * n / k) - 1] for q in range(k)])
    return np.searchsorted(edges, s, side="left")


@pytest.mark.parametrize("cov", ["hc0", "hc3", "cluster"])
def test_sorted_gates_blp_and_clan_equal_statsmodels(seller, cli, cov):
    d = seller["dir"]
    out = d / f"sm_{cov}.json"
    extra = ["--cluster", "seller_id"] if cov == "cluster" else []
    preds = seller["preds"]
    if cov == "cluster":  # cluster folds: refit with whole sellers per fold
        preds = d / "preds_cluster.csv"
        run_cli(cli, ["estimate", "--data", seller["csv"], "--outcome", "y", "--treatment", "d", *SMALL, *extra,
                      "--save-predictions", preds])
    run_cli(cli, ["estimate", "--data", seller["csv"], "--outcome", "y", "--treatment", "d", *SMALL, *extra,
                  "--load-predictions", preds, "--sorted-gates", "4", "--clan", "inventory_level,price",
                  "--cate-cov", cov, "--json", out])
    j = read_json(out)
    df = pd.read_csv(seller["csv"])
    p = pd.read_csv(preds).sort_values("row")
    m = np.clip(p["m_hat"].to_numpy(), 0.01, 0.99)
    g0, g1 = p["g0_hat"].to_numpy(), p["g1_hat"].to_numpy()
    y, dd = df["y"].to_numpy(), df["d"].to_numpy()
    psi = g1 - g0 + dd * (y - g1) / m - (1 - dd) * (y - g0) / (1 - m)
    s = g1 - g0  # the default outcome-difference proxy
    grp = _quantile_groups(s, 4)
    fit_kw = {"cov_type": "cluster", "cov_kwds": {"groups": df["seller_id"].to_numpy()}} if cov == "cluster" \
        else {"cov_type": cov.upper()}
    dummies = np.eye(4)[grp]
    gates = sm.OLS(psi, dummies).fit(**fit_kw)
    for k in range(4):
        got = j["sorted_gates"]["gates"][k]
        assert got["n"] == int((grp == k).sum())
        assert got["estimate"] == pytest.approx(gates.params[k], rel=1e-9)
        assert got["se"] == pytest.approx(gates.bse[k], rel=1e-8)
    contrast = np.array([-1, 0, 0, 1.0])
    tb = gates.t_test(contrast)
    assert j["sorted_gates"]["top_minus_bottom"]["estimate"] == pytest.approx(float(tb.effect[0]), rel=1e-9)
    assert j["sorted_gates"]["top_minus_bottom"]["se"] == pytest.approx(float(tb.sd[0, 0]), rel=1e-8)
    blp = sm.OLS(psi, np.column_stack([np.ones_like(s), s - s.mean()])).fit(**fit_kw)
    assert j["blp_test"]["beta2_heterogeneity"]["estimate"] == pytest.approx(blp.params[1], rel=1e-9)
    assert j["blp_test"]["beta2_heterogeneity"]["se"] == pytest.approx(blp.bse[1], rel=1e-8)
    assert j["blp_test"]["beta1_ate"]["estimate"] == pytest.approx(blp.params[0], rel=1e-9)
    keep = (grp == 0) | (grp == 3)
    two = np.column_stack([(grp[keep] == 0), (grp[keep] == 3)]).astype(float)
    kw = {"cov_type": "cluster", "cov_kwds": {"groups": df["seller_id"].to_numpy()[keep]}} if cov == "cluster" \
        else fit_kw
    for c in j["clan"]:
        o = sm.OLS(df[c["variable"]].to_numpy(np.float32).astype(float)[keep], two).fit(**kw)
        assert c["bottom"]["estimate"] == pytest.approx(o.params[0], rel=1e-9)
        assert c["top"]["estimate"] == pytest.approx(o.params[1], rel=1e-9)
        assert c["bottom"]["se"] == pytest.approx(o.bse[0], rel=1e-8)
        diff = o.t_test(np.array([-1, 1.0]))
        assert c["difference"]["estimate"] == pytest.approx(float(diff.effect[0]), rel=1e-9)
        assert c["difference"]["se"] == pytest.approx(float(diff.sd[0, 0]), rel=1e-8)
