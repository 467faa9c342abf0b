"""GATE and BLP (--cate-by, --blp) reproduce DoubleML 0.11.4's gate()/cate()
(statsmodels OLS underneath) on identical nuisance predictions, and the joint
bands cover the seller design's true group effects.

fastdml reads the predictions with --load-predictions; DoubleML gets the same
arrays as external_predictions and the same folds (helpers from
test_doubleml_agreement). Coefficients and covariance must agree to a relative
1e-8 (the issue's tolerance; OLS goes through different linear algebra).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from conftest import assert_close, read_json, run_cli, sim_columns
from test_doubleml_agreement import FEATURES, doubleml_fit, make_problem, write_predictions_csv

TOL = 1e-8


def add_group_columns(prob, seed):
    """Two columns that are not features: a category code (4 levels, unequal shares) and a continuous z."""
    rng = np.random.default_rng(seed)
    prob["cat"] = rng.choice([3, 7, 11, 20], size=prob["n"], p=[0.4, 0.3, 0.2, 0.1])
    prob["z"] = prob["x"][:, 0] + 0.3 * rng.normal(size=prob["n"])
    prob["cl"] = rng.integers(0, 150, size=prob["n"])  # cluster ids for cov_type=cluster
    # folds that hold each cluster out whole, as fastdml requires with --cluster
    for r in range(prob["reps"]):
        prob["folds"][:, r] = rng.permutation(150)[prob["cl"]] % 5
    return prob


def write_csv(prob, path):
    df = pd.DataFrame(prob["x"], columns=FEATURES)
    df.insert(0, "d", prob["d"])
    df.insert(0, "y", prob["y"])
    df["cat"], df["z"], df["cl"], df["w"] = prob["cat"], prob["z"], prob["cl"], prob["w"]
    df.to_csv(path, index=False, float_format="%.17g")


def run_loaded(cli, tmp_path, prob, model, extra):
    data_csv, pred_csv, out_json = tmp_path / "data.csv", tmp_path / "pred.csv", tmp_path / "out.json"
    write_csv(prob, data_csv)
    write_predictions_csv(prob, pred_csv, model)
    run_cli(cli, ["estimate", "--data", data_csv, "--outcome", "y", "--treatment", "d", "--features",
                  ",".join(FEATURES), "--model", model, "--estimand", "ate", "--load-predictions", pred_csv,
                  "--json", out_json, "--quiet"] + [str(a) for a in extra])
    return read_json(out_json)


def quintile_ids(values, bins):
    """The documented rule: bin q holds the values <= the ceil((q+1) n / bins)-th smallest."""
    s = np.sort(values)
    n = len(values)
    edges = s[[-(-(q + 1) * n // bins) - 1 for q in range(bins)]]
    return np.searchsorted(edges, values, side="left")


def dummies(ids):
    levels = np.unique(ids)
    return pd.DataFrame({f"g{v}": ids == v for v in levels})


def cov_kwargs(cov, prob):
    if cov == "cluster":
        return {"cov_type": "cluster", "cov_kwds": {"groups": prob["cl"]}}
    return {"cov_type": cov.upper()}


def check_gate(got, ref, label):
    reps = ref.all_coef.shape[1]
    coef = np.array([g["theta_reps"] for g in got["groups"]])
    se = np.array([g["se_reps"] for g in got["groups"]])
    assert coef.shape == ref.all_coef.shape, f"{label}: {coef.shape} groups x reps vs DoubleML {ref.all_coef.shape}"
    assert_close(f"{label} coef per rep", coef.ravel(), ref.all_coef.ravel(), TOL)
    for r in range(reps):
        assert_close(f"{label} se rep {r}", se[:, r], np.sqrt(np.diag(ref.blp_omega[:, :, r])), TOL)
    assert_close(f"{label} estimate", [g["estimate"] for g in got["groups"]], ref.coef, TOL)
    assert_close(f"{label} se", [g["se"] for g in got["groups"]], ref.se, TOL)
    ci = ref.confint(level=0.95).to_numpy()
    assert_close(f"{label} ci_lower", [g["ci_lower"] for g in got["groups"]], ci[:, 0], TOL)
    assert_close(f"{label} ci_upper", [g["ci_upper"] for g in got["groups"]], ci[:, 2], TOL)


@pytest.mark.parametrize("cov", ["hc0", "hc1", "hc3", "cluster"])
@pytest.mark.parametrize("model,reps", [("irm", 1), ("irm", 3), ("plr", 1), ("plr", 2)])
def test_gate_matches_doubleml(cli, tmp_path, model, reps, cov):
    prob = add_group_columns(make_problem(seed=700 + reps, reps=reps), seed=5)
    extra = ["--cate-by", "cat", "--cate-by", "z:quintiles", "--cate-cov", cov]
    if cov == "cluster":
        extra += ["--cluster", "cl"]
    out = run_loaded(cli, tmp_path, prob, model, extra)
    assert [g["by"] for g in out["gate"]] == ["cat", "z:q=5"]
    obj = doubleml_fit(prob, model)
    for got, ids in ((out["gate"][0], prob["cat"]), (out["gate"][1], quintile_ids(prob["z"], 5))):
        assert [g["n"] for g in got["groups"]] == list(np.bincount(np.unique(ids, return_inverse=True)[1]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = obj.gate(dummies(ids), **cov_kwargs(cov, prob))
        check_gate(got, ref, f"{model} reps={reps} {cov} GATE by {got['by']}")


@pytest.mark.parametrize("normalize_ipw", [False, True], ids=["plain", "normalize_ipw"])
def test_weighted_gate_matches_doubleml(cli, tmp_path, normalize_ipw):
    """Sample weights and Hajek normalisation enter the IRM signal psi_b as in DoubleML."""
    prob = add_group_columns(make_problem(seed=750, reps=2), seed=12)
    extra = ["--cate-by", "cat", "--weights", "w", "--clip", 0.02] + (["--normalize-ipw"] if normalize_ipw else [])
    out = run_loaded(cli, tmp_path, prob, "irm", extra)
    obj = doubleml_fit(prob, "irm", normalize_ipw=normalize_ipw, weighted=True, clip=0.02)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = obj.gate(dummies(prob["cat"]))
    check_gate(out["gate"][0], ref, f"weighted GATE normalize_ipw={normalize_ipw}")


def blp_basis(prob, knots_k=4):
    """intercept, z, cat one-hot (first level dropped), hinges (z - c_j)+ at numpy's j/K quantiles."""
    z = prob["z"]
    cols = {"intercept": np.ones_like(z), "z": z}
    for lev in np.unique(prob["cat"])[1:]:
        cols[f"cat={lev}"] = (prob["cat"] == lev).astype(float)
    for j in range(1, knots_k):
        c = np.quantile(z, j / knots_k)
        cols[f"h{j}"] = np.maximum(z - c, 0.0)
    return pd.DataFrame(cols)


@pytest.mark.parametrize("cov", ["hc0", "hc3", "cluster"])
@pytest.mark.parametrize("model,reps", [("irm", 1), ("irm", 2), ("plr", 2)])
def test_blp_matches_doubleml(cli, tmp_path, model, reps, cov):
    prob = add_group_columns(make_problem(seed=800 + reps, reps=reps), seed=6)
    extra = ["--blp", "z,cat(cat),spline(z,4)", "--cate-cov", cov]
    if cov == "cluster":
        extra += ["--cluster", "cl"]
    out = run_loaded(cli, tmp_path, prob, model, extra)["blp"]
    basis = blp_basis(prob)
    assert len(out["terms"]) == basis.shape[1]
    obj = doubleml_fit(prob, model)
    ref = obj.cate(basis, **cov_kwargs(cov, prob))
    label = f"{model} reps={reps} {cov} BLP"
    assert_close(f"{label} coef per rep", np.array(out["coef_reps"]).T.ravel(), ref.all_coef.ravel(), TOL)
    for r in range(reps):
        want = ref.blp_omega[:, :, r]
        got = np.array(out["cov_reps"][r]).reshape(want.shape)
        # relative to the diagonal scale: off-diagonal entries near 0 have no relative meaning
        scale = np.sqrt(np.outer(np.diag(want), np.diag(want)))
        err = np.max(np.abs(got - want) / scale)
        assert err <= TOL, f"{label} covariance rep {r}: max scaled difference {err:.3e}"
    assert_close(f"{label} coef", [t["coef"] for t in out["terms"]], ref.coef, TOL)
    assert_close(f"{label} se", [t["se"] for t in out["terms"]], ref.se, TOL)


def test_blp_grid_pointwise_matches_and_joint_band_is_calibrated(cli, tmp_path):
    prob = add_group_columns(make_problem(seed=901, reps=1), seed=7)
    grid = pd.DataFrame({"z": np.linspace(-2, 2, 9), "cat": [3, 7, 11, 20, 3, 7, 11, 20, 3]})
    grid_csv = tmp_path / "grid.csv"
    grid.to_csv(grid_csv, index=False)
    boot = 20000
    out = run_loaded(cli, tmp_path, prob, "irm", ["--blp", "z,cat(cat),spline(z,4)", "--blp-grid", grid_csv,
                                                  "--bootstrap", boot])["blp"]
    basis = blp_basis(prob)
    gb = blp_basis(dict(prob, z=grid["z"].to_numpy(), cat=grid["cat"].to_numpy()))
    # the grid's knots are the data's, not the grid's
    for j in range(1, 4):
        gb[f"h{j}"] = np.maximum(grid["z"].to_numpy() - np.quantile(prob["z"], j / 4), 0.0)
    ref = doubleml_fit(prob, "irm").cate(basis)
    ci = ref.confint(gb, level=0.95).to_numpy()
    assert_close("grid estimate", [g["estimate"] for g in out["grid"]], ci[:, 1], TOL)
    assert_close("grid ci_lower", [g["ci_lower"] for g in out["grid"]], ci[:, 0], TOL)
    assert_close("grid ci_upper", [g["ci_upper"] for g in out["grid"]], ci[:, 2], TOL)
    # Joint band: DoubleML draws numpy normals, we draw Philox normals from the same
    # N(0, Omega) law, so critical values agree up to Monte Carlo error. The 95%
    # quantile of max|t| from B draws has sd ~ sqrt(.95 .05 / B) / f(c); with B = 20000
    # and density f near 0.1 that is ~0.015, so 0.06 is four sd.
    np.random.seed(3)
    joint = ref.confint(gb, joint=True, level=0.95, n_rep_boot=boot).to_numpy()
    se = (ci[:, 2] - ci[:, 1]) / norm.ppf(0.975)
    want_crit = np.median((joint[:, 2] - joint[:, 1]) / se)
    got_crit = out["joint_critical_values"][0]
    assert abs(got_crit - want_crit) < 0.06, f"joint critical value {got_crit} vs DoubleML {want_crit}"
    assert got_crit > norm.ppf(0.975) + 0.2  # wider than pointwise: 9 correlated points
    for g in out["grid"]:
        assert g["joint_ci_lower"] < g["ci_lower"] and g["joint_ci_upper"] > g["ci_upper"]


def test_gate_joint_critical_value_is_sidak_for_independent_groups(cli, tmp_path):
    """Without clusters the group estimates are independent, so the joint critical
    value is the Sidak quantile c with (2 Phi(c) - 1)^G = level; B = 20000
    replicates put the bootstrap quantile within ~0.015 (sd) of it; we allow 0.05."""
    prob = add_group_columns(make_problem(seed=902, reps=1), seed=8)
    out = run_loaded(cli, tmp_path, prob, "irm", ["--cate-by", "z:deciles", "--bootstrap", 20000])
    gate = out["gate"][0]
    g = len(gate["groups"])
    sidak = norm.ppf((1 + 0.95 ** (1 / g)) / 2)
    assert abs(gate["joint_critical_values"][0] - sidak) < 0.05, (gate["joint_critical_values"], sidak)
    # Romano-Wolf lies between the unadjusted and the Bonferroni p-value, up to the
    # bootstrap's Monte Carlo error (4 sd of a proportion from B = 20000 draws).
    for e in gate["groups"]:
        p = e["p_value"]
        mc = 4 * np.sqrt(max(p * (1 - p), 1e-4) / 20000)
        assert p - mc <= e["p_romano_wolf"] <= min(1.0, g * p) + mc, (e["p_romano_wolf"], p)


def test_group_att_equals_att_score_solved_within_each_group(cli, tmp_path):
    """DoubleML has no group ATT. Definition: theta_g = -sum_{i in g} psi_b / sum_{i in g} psi_a
    with DoubleML's own ATT score elements (psi_elements of score='ATTE'), se_g^2 =
    sum_{i in g} (theta_g psi_a + psi_b)^2 / (sum_{i in g} psi_a)^2. With one group it must
    equal DoubleML's ATT estimate and SE."""
    prob = add_group_columns(make_problem(seed=903, reps=2), seed=9)
    prob["one"] = np.zeros(prob["n"], dtype=int)
    out = run_loaded(cli, tmp_path, prob, "irm", ["--cate-by", "cat", "--cate-signal", "att"])
    gate = out["gate"][0]
    assert gate["signal"] == "att"
    ref = doubleml_fit(prob, "irm", "ATTE")
    psi_a = ref.psi_elements["psi_a"][:, :, 0]
    psi_b = ref.psi_elements["psi_b"][:, :, 0]
    for k, lev in enumerate(np.unique(prob["cat"])):
        rows = prob["cat"] == lev
        for r in range(2):
            sa, sb = psi_a[rows, r].sum(), psi_b[rows, r].sum()
            theta = -sb / sa
            se = np.sqrt(np.sum((theta * psi_a[rows, r] + psi_b[rows, r]) ** 2)) / abs(sa)
            assert_close(f"ATT group {lev} rep {r}", gate["groups"][k]["theta_reps"][r], theta, TOL)
            assert_close(f"ATT group {lev} se rep {r}", gate["groups"][k]["se_reps"][r], se, TOL)


def test_group_att_with_one_group_is_doubleml_att(cli, tmp_path):
    prob = add_group_columns(make_problem(seed=904, reps=1), seed=10)
    prob["cat"] = np.full(prob["n"], 1)
    out = run_loaded(cli, tmp_path, prob, "irm", ["--cate-by", "cat", "--cate-signal", "ate,att"])
    ref = doubleml_fit(prob, "irm", "ATTE")
    att = out["gate"][1]["groups"][0]
    assert_close("one-group ATT", att["estimate"], float(ref.coef[0]), TOL)
    assert_close("one-group ATT se", att["se"], float(ref.se[0]), TOL)


# --- seller design: fit once, re-estimate without refitting, truth inside the joint bands ---

def test_seller_gates_cover_truth_and_reuse_predictions(cli, tmp_path):
    data_csv = tmp_path / "seller.csv"
    run_cli(cli, ["simulate", "--design", "seller", "--n", 20000, "--seed", 3, "--out", data_csv])
    truth = read_json(tmp_path / "seller.truth.json")
    outcome, treatment, features = sim_columns(data_csv, truth)
    base = ["estimate", "--data", data_csv, "--outcome", outcome, "--treatment", treatment,
            "--features", ",".join(features), "--cluster", truth["cluster"], "--quiet", "--seed", 1,
            "--rounds", 100, "--max-depth", 4, "--bootstrap", 2000]
    pred_csv, out1, out2 = tmp_path / "pred.csv", tmp_path / "o1.json", tmp_path / "o2.json"
    run_cli(cli, base + ["--cate-by", "category", "--save-predictions", pred_csv, "--json", out1])
    # Another grouping, covariance and signal from the stored predictions: no refit.
    run_cli(cli, base + ["--cate-by", "category", "--cate-by", "inventory_level:quintiles", "--cate-cov",
                         "cluster", "--load-predictions", pred_csv, "--json", out2])
    o1, o2 = read_json(out1), read_json(out2)
    assert o2["xgboost_version"].startswith("(predictions loaded from")  # no model was trained
    assert o2["timings"]["training"] == 0 and o1["timings"]["training"] > 0
    assert_close("reloaded GATE", [g["estimate"] for g in o2["gate"][0]["groups"]],
                 [g["estimate"] for g in o1["gate"][0]["groups"]], 1e-12)
    truths = {"category": truth["gate"]["category"], "inventory_level:q=5": truth["gate"]["inventory_quintile"]}
    for gate in o2["gate"]:
        want = truths[gate["by"]]
        assert len(gate["groups"]) == len(want)
        for k, e in enumerate(gate["groups"]):
            assert e["n"] == (truth["gate_n"]["category"] if gate["by"] == "category"
                              else truth["gate_n"]["inventory_quintile"])[str(k)]
            tau = want[str(k)]
            assert e["joint_ci_lower"] <= tau <= e["joint_ci_upper"], (
                f"{gate['by']} group {e['label']}: true GATE {tau} outside joint band "
                f"[{e['joint_ci_lower']}, {e['joint_ci_upper']}]")


# --- bad inputs: clear errors through the CLI ---------------------------------------------

@pytest.mark.parametrize("case,expect", [
    ("no_treated", "has no treated rows"),
    ("one_row", "has a single row"),
    ("too_many", "more than the data can carry"),
    ("singular", "singular basis: term 'z2'"),
    ("text_column", "is not numeric"),
    ("bad_spec", "unknown binning"),
    ("cluster_missing", "needs cluster ids"),
    ("missing_column", "--cate-by: no column 'nope' (columns: y, d,"),
    ("grid_without_blp", "--blp-grid needs --blp"),
])
def test_bad_inputs_give_clear_errors(cli, tmp_path, case, expect):
    prob = add_group_columns(make_problem(seed=905, reps=1, n=600), seed=11)
    data_csv, pred_csv = tmp_path / "data.csv", tmp_path / "pred.csv"
    df = pd.DataFrame(prob["x"], columns=FEATURES)
    df.insert(0, "d", prob["d"])
    df.insert(0, "y", prob["y"])
    df["cat"] = prob["cat"]
    df["z"] = prob["z"]
    df["z2"] = 2 * prob["z"]
    df["row_id"] = np.arange(len(df))
    if case == "no_treated":  # group 50: 40-odd control rows, no treated row
        df["cat"] = np.where((df["d"] == 0).to_numpy() & (np.arange(len(df)) < 80), 50, 1)
    if case == "one_row":
        df.loc[0, "cat"] = 1234
    df["label"] = "a"
    df.to_csv(data_csv, index=False, float_format="%.17g")
    write_predictions_csv(prob, pred_csv, "irm")
    flags = {
        "no_treated": ["--cate-by", "cat"],
        "one_row": ["--cate-by", "cat"],
        "too_many": ["--cate-by", "row_id"],
        "singular": ["--blp", "z,z2"],
        "text_column": ["--cate-by", "label"],
        "bad_spec": ["--cate-by", "z:tertiles"],
        "cluster_missing": ["--cate-by", "cat", "--cate-cov", "cluster"],
        "missing_column": ["--cate-by", "nope"],
        "grid_without_blp": ["--cate-by", "cat", "--blp-grid", data_csv],
    }[case]
    proc = run_cli(cli, ["estimate", "--data", data_csv, "--outcome", "y", "--treatment", "d", "--features",
                         ",".join(FEATURES), "--load-predictions", pred_csv, "--quiet"] + flags, check=False)
    assert proc.returncode in (2, 3), proc.stderr
    assert expect in proc.stderr, proc.stderr
