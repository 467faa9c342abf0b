"""fastdml's one-way cluster-robust estimates equal DoubleML 0.11.4's.

Data with a cluster id column and out-of-fold predictions are drawn in numpy
with fixed seeds. The folds keep every cluster whole (clusters dealt to folds,
as DoubleMLClusterResampling does) and differ in their cluster counts, so the
1/|I_k| fold weights DoubleML uses for theta and J matter. fastdml gets the
data, `--cluster cid` and the predictions file (its fold column carries the
cluster folds); DoubleML gets DoubleMLData(..., cluster_cols="cid"), the same
arrays as external predictions and the same folds through
set_sample_splitting(all_smpls, all_smpls_cluster). Theta and SE must agree to
a relative 1e-9, per repetition and aggregated.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

import doubleml as dml
from doubleml.utils import DMLDummyClassifier, DMLDummyRegressor
from doubleml.utils.propensity_score_processing import PSProcessorConfig

from conftest import RTOL, assert_close, assert_matches_doubleml, estimate_by_name, read_json, run_cli

P, K = 4, 5
FEATURES = [f"x{j}" for j in range(P)]


# --- problem generation ----------------------------------------------------------------

def make_clustered_problem(seed: int, reps: int, n_clusters: int = 83, n: int = 1500):
    """Clustered data and plausible out-of-fold predictions on cluster folds.

    Cluster ids are large, non-contiguous integers in no particular order (fastdml
    maps them to dense indices); cluster sizes are uneven. Outcome, treatment and
    the prediction errors share cluster effects, so clustering changes the SE.
    n_clusters is not a multiple of K: the folds hold different numbers of clusters.
    """
    rng = np.random.default_rng(seed)
    ids = rng.choice(np.arange(10_000, 10_000_000), size=n_clusters, replace=False)
    min_size = 2 if 2 * n_clusters <= n else 1
    sizes = rng.dirichlet(np.full(n_clusters, 0.8)) * (n - min_size * n_clusters)
    counts = min_size + np.floor(sizes).astype(int)
    counts[: n - counts.sum()] += 1
    assert counts.sum() == n and counts.min() >= 1
    c_idx = rng.permutation(np.repeat(np.arange(n_clusters), counts))  # rows of a cluster scattered
    cid = ids[c_idx]

    u_c = rng.normal(size=n_clusters)  # cluster effects in X, Y and tau
    v_c = rng.normal(size=n_clusters)
    x = rng.normal(size=(n, P)) + 0.5 * u_c[c_idx, None]
    ps = expit(0.8 * x[:, 0] - 0.5 * x[:, 1] + 0.6 * v_c[c_idx])
    d = rng.binomial(1, ps).astype(np.int64)
    tau = 1.0 + 0.4 * x[:, 0] + 0.5 * u_c[c_idx]
    base = x @ np.array([1.0, -0.5, 0.25, 0.5]) + u_c[c_idx]
    w_c = rng.normal(size=n_clusters)  # a cluster shock in Y that no prediction captures
    y = base + d * tau + w_c[c_idx] + rng.normal(size=n)

    e_c = rng.normal(scale=0.5, size=(n_clusters, reps))  # cluster-correlated prediction errors
    m = 0.005 + 0.99 * expit(1.5 * logit(ps)[:, None] + rng.normal(scale=0.7, size=(n, reps)))
    g0 = base[:, None] + e_c[c_idx] + rng.normal(scale=0.4, size=(n, reps))
    g1 = g0 + tau[:, None] + rng.normal(scale=0.4, size=(n, reps))
    l = base[:, None] + ps[:, None] * tau[:, None] + e_c[c_idx] + rng.normal(scale=0.4, size=(n, reps))

    # Cluster folds: shuffle the clusters, deal them round-robin (83 = 17+17+17+16+16).
    folds = np.empty((n, reps), dtype=np.int64)
    for r in range(reps):
        cluster_fold = np.empty(n_clusters, dtype=np.int64)
        cluster_fold[rng.permutation(n_clusters)] = np.arange(n_clusters) % K
        folds[:, r] = cluster_fold[c_idx]
        for f in range(K):
            dd = d[folds[:, r] == f]
            assert 0 < dd.sum() < len(dd), f"rep {r} fold {f} lacks treated or control rows"

    return dict(x=x, d=d, y=y, cid=cid, m=m, g0=g0, g1=g1, l=l, folds=folds, reps=reps, n=n,
                n_clusters=n_clusters)


def write_data_csv(prob, path):
    df = pd.DataFrame(prob["x"], columns=FEATURES)
    df.insert(0, "cid", prob["cid"])
    df.insert(0, "d", prob["d"])
    df.insert(0, "y", prob["y"])
    df.to_csv(path, index=False, float_format="%.17g")


def write_predictions_csv(prob, path, model: str, folds=None):
    n, reps = prob["n"], prob["reps"]
    folds = prob["folds"] if folds is None else folds
    col = lambda a: a.T.reshape(-1)  # noqa: E731  (n x reps) -> rep-major vector
    nan = np.full(n * reps, np.nan)
    df = pd.DataFrame({
        "row": np.tile(np.arange(n), reps),
        "rep": np.repeat(np.arange(reps), n),
        "fold": col(folds),
        "m_hat": col(prob["m"]),
        "g0_hat": col(prob["g0"]) if model == "irm" else nan,
        "g1_hat": col(prob["g1"]) if model == "irm" else nan,
        "l_hat": col(prob["l"]) if model == "plr" else nan,
    })
    df.to_csv(path, index=False, float_format="%.17g", na_rep="")


# --- DoubleML reference ----------------------------------------------------------------

def doubleml_cluster_smpls(folds: np.ndarray, cid: np.ndarray):
    """DoubleML's row splits and cluster splits (one cluster variable) from a fold matrix.

    all_smpls[r][f] = (train rows, test rows); all_smpls_cluster[r][f] =
    ([train cluster ids], [test cluster ids]), one array per cluster variable, in
    the layout DoubleMLClusterResampling.split_samples returns.
    """
    n, reps = folds.shape
    k = int(folds.max()) + 1
    all_smpls, all_smpls_cluster = [], []
    for r in range(reps):
        smpls, smpls_cluster = [], []
        for f in range(k):
            test = folds[:, r] == f
            test_clusters = np.unique(cid[test])
            train_clusters = np.setdiff1d(np.unique(cid), test_clusters)
            assert not np.isin(cid[~test], test_clusters).any(), "a cluster straddles train and test"
            smpls.append((np.flatnonzero(~test), np.flatnonzero(test)))
            smpls_cluster.append(([train_clusters], [test_clusters]))
        all_smpls.append(smpls)
        all_smpls_cluster.append(smpls_cluster)
    return all_smpls, all_smpls_cluster


def doubleml_fit(prob, model: str, score: str = "ATE", normalize_ipw: bool = False, clustered: bool = True):
    df = pd.DataFrame(prob["x"], columns=FEATURES)
    df["y"] = prob["y"]
    df["d"] = prob["d"]
    df["cid"] = prob["cid"]
    data = dml.DoubleMLData(df, "y", "d", x_cols=FEATURES, cluster_cols="cid" if clustered else None)
    reps = prob["reps"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model == "plr":
            obj = dml.DoubleMLPLR(data, ml_l=DMLDummyRegressor(), ml_m=DMLDummyClassifier(), n_folds=K,
                                  n_rep=reps, score="partialling out", draw_sample_splitting=False)
            ext = {"ml_l": prob["l"], "ml_m": prob["m"]}
        else:
            obj = dml.DoubleMLIRM(data, ml_g=DMLDummyRegressor(), ml_m=DMLDummyClassifier(), n_folds=K,
                                  n_rep=reps, score=score, normalize_ipw=normalize_ipw,
                                  draw_sample_splitting=False,
                                  ps_processor_config=PSProcessorConfig(clipping_threshold=0.01))
            ext = {"ml_g0": prob["g0"], "ml_g1": prob["g1"], "ml_m": prob["m"]}
        smpls, smpls_cluster = doubleml_cluster_smpls(prob["folds"], prob["cid"])
        if clustered:
            obj.set_sample_splitting(smpls, smpls_cluster)
        else:
            obj.set_sample_splitting(smpls)
        obj.fit(external_predictions={"d": {k: np.ascontiguousarray(v, dtype=float) for k, v in ext.items()}})
    assert obj.n_rep == reps
    if clustered:
        assert obj._is_cluster_data and obj._n_folds_per_cluster == K
    return obj


# --- fastdml runs ----------------------------------------------------------------------

def run_fastdml(cli, tmp_path, prob, model, estimands, extra=(), folds=None, check=True):
    data_csv = tmp_path / "data.csv"
    pred_csv = tmp_path / "pred.csv"
    out_json = tmp_path / "out.json"
    write_data_csv(prob, data_csv)
    write_predictions_csv(prob, pred_csv, model, folds)
    args = ["estimate", "--data", data_csv, "--outcome", "y", "--treatment", "d",
            "--features", ",".join(FEATURES), "--model", model, "--estimand", estimands,
            "--cluster", "cid", "--load-predictions", pred_csv, "--json", out_json, *extra]
    proc = run_cli(cli, args, check=check)
    return (read_json(out_json) if proc.returncode == 0 else None), proc


# --- the problem exercises what it should ----------------------------------------------

def test_problem_has_unequal_cluster_folds_and_clustering_matters():
    prob = make_clustered_problem(seed=7, reps=2)
    for r in range(prob["reps"]):
        per_fold = [len(np.unique(prob["cid"][prob["folds"][:, r] == f])) for f in range(K)]
        assert sorted(per_fold) == [16, 16, 17, 17, 17], per_fold
    clustered = doubleml_fit(prob, "irm", "ATE")
    plain = doubleml_fit(prob, "irm", "ATE", clustered=False)
    # the 1/|I_k| fold weights move theta a little, and the SE changes
    assert 1e-9 < abs(clustered.all_coef[0, 0] - plain.all_coef[0, 0]) < 0.05 * abs(plain.all_coef[0, 0])
    assert abs(clustered.all_se[0, 0] / plain.all_se[0, 0] - 1) > 0.05
    # the PLR score is dominated by the cluster shocks: a clearly larger SE
    assert doubleml_fit(prob, "plr").all_se[0, 0] > 1.3 * doubleml_fit(prob, "plr", clustered=False).all_se[0, 0]


def test_doubleml_one_way_formula_as_documented():
    """Pins DoubleML's one-way cluster formulas (as fastdml implements them) on its own psi."""
    prob = make_clustered_problem(seed=8, reps=1)
    ref = doubleml_fit(prob, "plr")
    psi_a = ref.psi_elements["psi_a"][:, 0, 0]
    psi_b = ref.psi_elements["psi_b"][:, 0, 0]
    fold, cid = prob["folds"][:, 0], prob["cid"]
    m_k = np.array([len(np.unique(cid[fold == f])) for f in range(K)])
    sa = sum(psi_a[fold == f].sum() / m_k[f] for f in range(K))
    sb = sum(psi_b[fold == f].sum() / m_k[f] for f in range(K))
    theta = -sb / sa
    psi = theta * psi_a + psi_b
    gamma = sum(psi[cid == c].sum() ** 2 / m_k[fold[cid == c][0]] for c in np.unique(cid)) / K
    j = sa / K
    se = np.sqrt(gamma / (len(np.unique(cid)) * j * j))
    assert_close("theta", theta, ref.all_coef[0, 0], rtol=1e-12)
    assert_close("se", se, ref.all_se[0, 0], rtol=1e-12)


# --- agreement -------------------------------------------------------------------------

@pytest.mark.parametrize("reps", [1, 3])
def test_plr_cluster_matches_doubleml(cli, tmp_path, reps):
    prob = make_clustered_problem(seed=601 + reps, reps=reps)
    out, _ = run_fastdml(cli, tmp_path, prob, "plr", "ate")
    assert_matches_doubleml(estimate_by_name(out, "ate"), doubleml_fit(prob, "plr"), f"clustered PLR reps={reps}")


@pytest.mark.parametrize("normalize_ipw", [False, True], ids=["plain", "normalize_ipw"])
@pytest.mark.parametrize("reps", [1, 3])
def test_irm_ate_att_cluster_match_doubleml(cli, tmp_path, reps, normalize_ipw):
    prob = make_clustered_problem(seed=701 + reps, reps=reps)
    out, _ = run_fastdml(cli, tmp_path, prob, "irm", "ate,att", extra=["--normalize-ipw"] if normalize_ipw else [])
    tag = f"reps={reps} normalize_ipw={normalize_ipw}"
    assert_matches_doubleml(estimate_by_name(out, "ate"), doubleml_fit(prob, "irm", "ATE", normalize_ipw),
                  f"clustered IRM-ATE {tag}")
    assert_matches_doubleml(estimate_by_name(out, "att"), doubleml_fit(prob, "irm", "ATTE", normalize_ipw),
                  f"clustered IRM-ATT {tag}")


def test_singleton_clusters_with_equal_folds_match_unclustered_doubleml(cli, tmp_path):
    """Every row its own cluster and n divisible by K: the cluster formulas reduce to the plain ones."""
    prob = make_clustered_problem(seed=801, reps=1, n_clusters=1500)
    assert len(np.unique(prob["cid"])) == prob["n"] and prob["n"] % K == 0
    out, _ = run_fastdml(cli, tmp_path, prob, "irm", "ate")
    plain = doubleml_fit(prob, "irm", "ATE", clustered=False)
    assert_matches_doubleml(estimate_by_name(out, "ate"), plain, "singleton clusters vs unclustered IRM-ATE")


def test_loaded_folds_that_split_a_cluster_are_rejected(cli, tmp_path):
    prob = make_clustered_problem(seed=901, reps=1)
    folds = prob["folds"].copy()
    rows = np.flatnonzero(prob["cid"] == prob["cid"][0])
    folds[rows[1], 0] = (folds[rows[0], 0] + 1) % K  # move one row of the first cluster
    _, proc = run_fastdml(cli, tmp_path, prob, "irm", "ate", folds=folds, check=False)
    assert proc.returncode == 3, f"exit {proc.returncode}; stderr: {proc.stderr[-2000:]}"
    assert "cluster" in proc.stderr and "fold" in proc.stderr, proc.stderr[-2000:]


# --- fastdml trains on cluster folds, DoubleML re-estimates from the saved predictions --

@pytest.mark.parametrize("model", ["irm", "plr"])
def test_trained_cluster_fit_keeps_clusters_whole_and_matches_doubleml(cli, tmp_path, model):
    reps = 2
    prob = make_clustered_problem(seed=1001, reps=1)
    data_csv, pred_csv, out_json = tmp_path / "data.csv", tmp_path / "p.csv", tmp_path / "out.json"
    write_data_csv(prob, data_csv)
    estimands = "ate,att" if model == "irm" else "ate"
    # no --features: the cluster column must stay out of the default features
    run_cli(cli, ["estimate", "--data", data_csv, "--outcome", "y", "--treatment", "d", "--model", model,
                  "--estimand", estimands, "--cluster", "cid", "--folds", K, "--reps", reps, "--seed", 3,
                  "--rounds", 20, "--max-depth", 3, "--threads", 2, "--json", out_json,
                  "--save-predictions", pred_csv])
    out = read_json(out_json)
    saved = pd.read_csv(pred_csv).sort_values(["rep", "row"])
    n = prob["n"]
    mat = lambda c: saved[c].to_numpy(dtype=float).reshape(reps, n).T.copy()  # noqa: E731
    folds = saved["fold"].to_numpy().reshape(reps, n).T.astype(np.int64)
    for r in range(reps):
        per_cluster = pd.DataFrame({"c": prob["cid"], "f": folds[:, r]}).groupby("c")["f"].nunique()
        assert per_cluster.max() == 1, f"rep {r}: a cluster is split across folds"
        per_fold = sorted(len(np.unique(prob["cid"][folds[:, r] == f])) for f in range(K))
        assert per_fold == [16, 16, 17, 17, 17], f"rep {r}: clusters per fold {per_fold}"
    assert not (folds[:, 0] == folds[:, 1]).all(), "repetitions should differ"
    ref_prob = dict(prob, reps=reps, folds=folds, m=mat("m_hat"))
    if model == "irm":
        ref_prob.update(g0=mat("g0_hat"), g1=mat("g1_hat"))
        assert_matches_doubleml(estimate_by_name(out, "ate"), doubleml_fit(ref_prob, "irm", "ATE"), "trained clustered IRM-ATE")
        assert_matches_doubleml(estimate_by_name(out, "att"), doubleml_fit(ref_prob, "irm", "ATTE"), "trained clustered IRM-ATT")
    else:
        ref_prob.update(l=mat("l_hat"))
        assert_matches_doubleml(estimate_by_name(out, "ate"), doubleml_fit(ref_prob, "plr"), "trained clustered PLR")
