"""fastdml reproduces DoubleML 0.11.4 when both get the same nuisance predictions.

Data and out-of-fold predictions are drawn in numpy with fixed seeds and written
to CSV. fastdml estimates from them with `--load-predictions` (no training);
DoubleML gets the same arrays through `external_predictions` (dummy learners
for every nuisance) and the same folds through `set_sample_splitting`. Theta
and SE must agree to a relative 1e-9, per repetition and aggregated.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from scipy.stats import norm

import doubleml as dml
from doubleml.utils import DMLDummyClassifier, DMLDummyRegressor
from doubleml.utils.propensity_score_processing import PSProcessorConfig

from conftest import RTOL, assert_close, assert_matches_doubleml, estimate_by_name, read_json, run_cli

N, P, K = 2000, 5, 5
FEATURES = [f"x{j}" for j in range(P)]
PRED_HEADER = ["outcome", "treatment", "row", "rep", "fold", "m_hat", "g0_hat", "g1_hat", "l_hat"]


# --- problem generation ----------------------------------------------------------------

def make_problem(seed: int, reps: int, n: int = N):
    """Data (y, d, X, weights) and plausible random out-of-fold predictions for `reps` reps."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, P))
    ps = expit(0.9 * x[:, 0] - 0.6 * x[:, 1] + 0.4 * x[:, 2])
    d = rng.binomial(1, ps).astype(np.int64)
    tau = 1.0 + 0.5 * x[:, 0] + 0.3 * x[:, 3] ** 2  # heterogeneous effect
    base = x @ np.array([1.0, -0.5, 0.25, 0.0, 0.75])
    y = base + d * tau + rng.normal(size=n)
    w = rng.uniform(0.2, 3.0, size=n)  # sample weights, not of mean 1

    # Predictions: noisy versions of the truth. Propensities are spread out so that a
    # few percent fall outside [0.01, 0.99] (clipped) while staying in (0.005, 0.995).
    m = 0.005 + 0.99 * expit(1.8 * logit(ps)[:, None] + rng.normal(scale=0.8, size=(n, reps)))
    g0 = base[:, None] + rng.normal(scale=0.4, size=(n, reps))
    g1 = g0 + tau[:, None] + rng.normal(scale=0.4, size=(n, reps))
    l = base[:, None] + ps[:, None] * tau[:, None] + rng.normal(scale=0.4, size=(n, reps))

    folds = np.empty((n, reps), dtype=np.int64)
    for r in range(reps):
        folds[rng.permutation(n), r] = np.arange(n) % K

    return dict(x=x, d=d, y=y, w=w, m=m, g0=g0, g1=g1, l=l, folds=folds, reps=reps, n=n)


def write_data_csv(prob, path):
    df = pd.DataFrame(prob["x"], columns=FEATURES)
    df.insert(0, "d", prob["d"])
    df.insert(0, "y", prob["y"])
    df["w"] = prob["w"]
    df.to_csv(path, index=False, float_format="%.17g")


def write_predictions_csv(prob, path, model: str):
    n, reps = prob["n"], prob["reps"]
    rows = np.tile(np.arange(n), reps)
    rep = np.repeat(np.arange(reps), n)
    col = lambda a: a.T.reshape(-1)  # noqa: E731  (n x reps) -> rep-major vector
    nan = np.full(n * reps, np.nan)
    df = pd.DataFrame({
        "row": rows,
        "rep": rep,
        "fold": col(prob["folds"]),
        "m_hat": col(prob["m"]),
        "g0_hat": col(prob["g0"]) if model == "irm" else nan,
        "g1_hat": col(prob["g1"]) if model == "irm" else nan,
        "l_hat": col(prob["l"]) if model == "plr" else nan,
    })
    df.to_csv(path, index=False, float_format="%.17g", na_rep="")


# --- DoubleML reference ----------------------------------------------------------------

def doubleml_smpls(folds: np.ndarray):
    """DoubleML's nested sample splitting (rep -> fold -> (train, test)) from a fold matrix."""
    n, reps = folds.shape
    k = int(folds.max()) + 1
    return [
        [(np.flatnonzero(folds[:, r] != f), np.flatnonzero(folds[:, r] == f)) for f in range(k)]
        for r in range(reps)
    ]


def doubleml_fit(prob, model: str, score: str = "ATE", normalize_ipw: bool = False, weighted: bool = False,
                 clip: float = 0.01):
    """Fitted DoubleML object on `prob` with all nuisances given as external predictions."""
    df = pd.DataFrame(prob["x"], columns=FEATURES)
    df["y"] = prob["y"]
    df["d"] = prob["d"]
    data = dml.DoubleMLData(df, "y", "d", x_cols=FEATURES)
    smpls = doubleml_smpls(prob["folds"])
    reps = prob["reps"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model == "plr":
            obj = dml.DoubleMLPLR(data, ml_l=DMLDummyRegressor(), ml_m=DMLDummyClassifier(),
                                  n_folds=K, n_rep=reps, score="partialling out",
                                  draw_sample_splitting=False)
            ext = {"ml_l": prob["l"], "ml_m": prob["m"]}
        else:
            weights = prob["w"] / prob["w"].mean() if weighted else None
            obj = dml.DoubleMLIRM(data, ml_g=DMLDummyRegressor(), ml_m=DMLDummyClassifier(),
                                  n_folds=K, n_rep=reps, score=score, weights=weights,
                                  normalize_ipw=normalize_ipw, draw_sample_splitting=False,
                                  ps_processor_config=PSProcessorConfig(clipping_threshold=clip))
            ext = {"ml_g0": prob["g0"], "ml_g1": prob["g1"], "ml_m": prob["m"]}
        obj.set_sample_splitting(smpls)
        obj.fit(external_predictions={"d": {k: np.ascontiguousarray(v, dtype=float) for k, v in ext.items()}})
    assert obj.n_rep == reps
    return obj


# --- fastdml runs ----------------------------------------------------------------------

def run_fastdml_loaded(cli, tmp_path, prob, model, estimands, normalize_ipw=False, weighted=False, extra=()):
    data_csv = tmp_path / "data.csv"
    pred_csv = tmp_path / "pred.csv"
    out_json = tmp_path / "out.json"
    write_data_csv(prob, data_csv)
    write_predictions_csv(prob, pred_csv, model)
    args = ["estimate", "--data", data_csv, "--outcome", "y", "--treatment", "d",
            "--features", ",".join(FEATURES), "--model", model, "--estimand", estimands,
            "--load-predictions", pred_csv, "--json", out_json]
    if normalize_ipw:
        args.append("--normalize-ipw")
    if weighted:
        args += ["--weights", "w"]
    run_cli(cli, args + list(extra))
    return read_json(out_json)


def test_generated_propensities_exercise_clipping():
    prob = make_problem(seed=11, reps=3)
    m = prob["m"]
    assert m.min() > 0.005 and m.max() < 0.995
    assert (m < 0.01).sum() >= 10 and (m > 0.99).sum() >= 10
    # treated rows with clipped propensities, so clipping matters for the IPW terms
    d = prob["d"][:, None].astype(bool)
    assert ((m < 0.01) & d).sum() >= 1 and ((m > 0.99) & ~d).sum() >= 1


@pytest.mark.parametrize("reps", [1, 3])
def test_plr_matches_doubleml(cli, tmp_path, reps):
    prob = make_problem(seed=101 + reps, reps=reps)
    out = run_fastdml_loaded(cli, tmp_path, prob, "plr", "ate")
    ref = doubleml_fit(prob, "plr")
    assert_matches_doubleml(estimate_by_name(out, "ate"), ref, f"PLR reps={reps}")


@pytest.mark.parametrize("normalize_ipw", [False, True], ids=["plain", "normalize_ipw"])
@pytest.mark.parametrize("reps", [1, 3])
def test_irm_ate_att_match_doubleml(cli, tmp_path, reps, normalize_ipw):
    prob = make_problem(seed=201 + reps, reps=reps)
    out = run_fastdml_loaded(cli, tmp_path, prob, "irm", "ate,att", normalize_ipw=normalize_ipw)
    ref_ate = doubleml_fit(prob, "irm", "ATE", normalize_ipw)
    ref_att = doubleml_fit(prob, "irm", "ATTE", normalize_ipw)
    tag = f"reps={reps} normalize_ipw={normalize_ipw}"
    assert_matches_doubleml(estimate_by_name(out, "ate"), ref_ate, f"IRM-ATE {tag}")
    assert_matches_doubleml(estimate_by_name(out, "att"), ref_att, f"IRM-ATT {tag}")


@pytest.mark.parametrize("normalize_ipw", [False, True], ids=["plain", "normalize_ipw"])
def test_irm_weighted_ate_matches_doubleml(cli, tmp_path, normalize_ipw):
    reps = 3
    prob = make_problem(seed=301, reps=reps)
    out = run_fastdml_loaded(cli, tmp_path, prob, "irm", "ate", normalize_ipw=normalize_ipw, weighted=True)
    ref = doubleml_fit(prob, "irm", "ATE", normalize_ipw, weighted=True)
    assert_matches_doubleml(estimate_by_name(out, "ate"), ref, f"weighted IRM-ATE normalize_ipw={normalize_ipw}")
    # and the weights matter: the unweighted estimate differs
    unweighted = doubleml_fit(prob, "irm", "ATE", normalize_ipw)
    assert abs(float(unweighted.coef[0]) - float(ref.coef[0])) > 1e-4


@pytest.mark.parametrize("normalize_ipw", [False, True], ids=["plain", "normalize_ipw"])
def test_irm_clip_and_level_options_match_doubleml(cli, tmp_path, normalize_ipw):
    prob = make_problem(seed=501, reps=1)
    assert ((prob["m"] < 0.05) | (prob["m"] > 0.95)).mean() > 0.05  # clipping at 0.05 bites
    out = run_fastdml_loaded(cli, tmp_path, prob, "irm", "ate,att", normalize_ipw=normalize_ipw,
                             extra=["--clip", 0.05, "--level", 0.9])
    for est, score in (("ate", "ATE"), ("att", "ATTE")):
        ref = doubleml_fit(prob, "irm", score, normalize_ipw, clip=0.05)
        assert_matches_doubleml(estimate_by_name(out, est), ref, f"IRM-{score} clip=0.05 level=0.9", level=0.9)


# --- fastdml trains, DoubleML re-estimates from the saved predictions ------------------

def read_saved_predictions(path, n: int, model: str) -> dict:
    df = pd.read_csv(path)
    assert list(df.columns) == PRED_HEADER, f"saved predictions header {list(df.columns)}"
    reps = int(df["rep"].max()) + 1
    assert len(df) == n * reps, f"{len(df)} prediction lines for n={n}, reps={reps}"
    df = df.sort_values(["rep", "row"])
    assert (df["row"].to_numpy() == np.tile(np.arange(n), reps)).all(), "each (row, rep) exactly once"
    mat = lambda c: df[c].to_numpy(dtype=float).reshape(reps, n).T.copy()  # noqa: E731
    out = {"reps": reps, "folds": df["fold"].to_numpy().reshape(reps, n).T.astype(np.int64), "m": mat("m_hat")}
    if model == "irm":
        out["g0"], out["g1"] = mat("g0_hat"), mat("g1_hat")
        assert df["l_hat"].isna().all(), "IRM: l_hat must be empty"
    else:
        out["l"] = mat("l_hat")
        assert df["g0_hat"].isna().all() and df["g1_hat"].isna().all(), "PLR: g0_hat, g1_hat must be empty"
    for k in ("m", "g0", "g1", "l"):
        if k in out:
            assert np.isfinite(out[k]).all(), f"non-finite {k}_hat in saved predictions"
    return out


@pytest.mark.parametrize("model", ["irm", "plr"])
def test_saved_predictions_reproduce_estimate_in_doubleml(cli, tmp_path, model):
    n, reps, folds = 1000, 2, 3
    prob = make_problem(seed=401, reps=1, n=n)
    data_csv = tmp_path / "data.csv"
    pred_csv = tmp_path / "p.csv"
    out_json = tmp_path / "out.json"
    write_data_csv(prob, data_csv)
    estimands = "ate,att" if model == "irm" else "ate"
    run_cli(cli, ["estimate", "--data", data_csv, "--outcome", "y", "--treatment", "d",
                  "--features", ",".join(FEATURES), "--model", model, "--estimand", estimands,
                  "--folds", folds, "--reps", reps, "--seed", 7, "--rounds", 20, "--max-depth", 3,
                  "--threads", 2, "--json", out_json, "--save-predictions", pred_csv])
    out = read_json(out_json)
    saved = read_saved_predictions(pred_csv, n, model)
    assert saved["reps"] == reps
    for r in range(reps):
        counts = np.bincount(saved["folds"][:, r], minlength=folds)
        assert len(counts) == folds and counts.min() > 0, f"rep {r}: fold sizes {counts}"
        # stratified by D: every fold holds treated and control rows
        for f in range(folds):
            dd = prob["d"][saved["folds"][:, r] == f]
            assert 0 < dd.sum() < len(dd), f"rep {r} fold {f} lacks treated or control rows"
    assert not np.allclose(saved["m"][:, 0], saved["m"][:, 1]), "repetitions should differ"
    # 'm_hat is the raw (unclipped) propensity': a logistic model's output lies in (0, 1)
    assert (saved["m"] > 0).all() and (saved["m"] < 1).all()

    ref_prob = dict(prob, reps=reps, folds=saved["folds"], m=saved["m"])
    for k in ("g0", "g1", "l"):
        if k in saved:
            ref_prob[k] = saved[k]
    if model == "irm":
        assert_matches_doubleml(estimate_by_name(out, "ate"), doubleml_fit(ref_prob, "irm", "ATE"), "trained IRM-ATE")
        assert_matches_doubleml(estimate_by_name(out, "att"), doubleml_fit(ref_prob, "irm", "ATTE"), "trained IRM-ATT")
    else:
        assert_matches_doubleml(estimate_by_name(out, "ate"), doubleml_fit(ref_prob, "plr"), "trained PLR")

    # Loading the saved file gives back the same numbers (no retraining).
    out2_json = tmp_path / "out2.json"
    run_cli(cli, ["estimate", "--data", data_csv, "--outcome", "y", "--treatment", "d",
                  "--features", ",".join(FEATURES), "--model", model, "--estimand", estimands,
                  "--load-predictions", pred_csv, "--json", out2_json])
    out2 = read_json(out2_json)
    for e in out["estimates"]:
        e2 = estimate_by_name(out2, e["estimand"])
        for key in ("estimate", "se"):
            assert_close(f"reloaded {model} {e['estimand']} {key}", e2[key], e[key], rtol=RTOL)
        assert_close(f"reloaded {model} {e['estimand']} theta_reps", e2["theta_reps"], e["theta_reps"], rtol=RTOL)
