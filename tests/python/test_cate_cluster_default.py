"""With a cluster column (--cluster, clusters=), every heterogeneity covariance
(GATE, BLP, sorted GATES, the BLP heterogeneity test, CLAN) defaults to the
cluster-robust one; HC0 stays available by name. Without clusters the default
is HC0, as before (the golden files pin that).

The default must give exactly the numbers of --cate-cov cluster named
explicitly (the same code path), and numbers other than HC0's.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fastdml

from conftest import read_json, run_cli
from test_doubleml_agreement import FEATURES, make_problem, write_predictions_csv
from test_gate_doubleml import add_group_columns, write_csv

HETEROGENEITY = ["--cate-by", "cat", "--blp", "z", "--sorted-gates", 4, "--clan", "x0,x3"]


def _ses(out: dict) -> dict:
    """Every heterogeneity standard error of a run's JSON, by section."""
    return {
        "gate": [g["se_reps"] for g in out["gate"][0]["groups"]],
        "blp": [t["se"] for t in out["blp"]["terms"]],
        "sorted_gates": [g["se"] for g in out["sorted_gates"]["gates"]],
        "blp_test": [out["blp_test"]["beta2_heterogeneity"]["se"]],
        "clan": [c["difference"]["se"] for c in out["clan"]],
    }


def _covs(out: dict) -> list:
    covs = [out["gate"][0]["cov"], out["blp"]["cov"], out["sorted_gates"]["cov"],
            *(c["se_type"].split()[0] for c in out["clan"])]
    return [c.lower() for c in covs]


def test_cluster_column_makes_cluster_robust_the_default_covariance(cli, tmp_path):
    prob = add_group_columns(make_problem(seed=2101, reps=2), seed=23)
    # A cluster effect in the outcome, so cluster-robust and HC0 SEs differ clearly.
    prob["y"] = prob["y"] + np.random.default_rng(5).normal(scale=1.5, size=150)[prob["cl"]]
    data_csv, pred_csv = tmp_path / "data.csv", tmp_path / "pred.csv"
    write_csv(prob, data_csv)
    write_predictions_csv(prob, pred_csv, "irm")
    base = ["estimate", "--data", data_csv, "--outcome", "y", "--treatment", "d", "--features", ",".join(FEATURES),
            "--load-predictions", pred_csv, "--quiet", *HETEROGENEITY]
    outs = {}
    for name, flags in {"default": ["--cluster", "cl"], "cluster": ["--cluster", "cl", "--cate-cov", "cluster"],
                        "hc0": ["--cluster", "cl", "--cate-cov", "hc0"], "unclustered": []}.items():
        out = tmp_path / f"{name}.json"
        run_cli(cli, base + flags + ["--json", out])
        outs[name] = read_json(out)
    assert _covs(outs["default"]) == ["cluster"] * 5  # GATE, BLP, sorted GATES, 2 CLAN rows
    assert _covs(outs["hc0"]) == ["hc0"] * 5
    assert _covs(outs["unclustered"]) == ["hc0"] * 5  # no cluster column: HC0 as before
    default, cluster, hc0 = _ses(outs["default"]), _ses(outs["cluster"]), _ses(outs["hc0"])
    assert default == cluster
    for section in default:
        a, b = np.ravel(default[section]), np.ravel(hc0[section])
        assert np.all(np.abs(a / b - 1) > 1e-3), f"{section}: cluster-robust SEs {a} vs HC0 {b}"
    # The estimates themselves do not depend on the covariance.
    assert [g["estimate"] for g in outs["default"]["gate"][0]["groups"]] == \
        [g["estimate"] for g in outs["hc0"]["gate"][0]["groups"]]


def test_python_gate_and_blp_default_to_cluster_robust_with_clusters():
    df, truth = fastdml.simulate("seller", n=1200, p=9, seed=4)
    feats = [c for c in df.columns if c not in ("y", "d", "seller_id")]
    learner = {"rounds": 20, "max_depth": 3}
    clustered = fastdml.DML(n_folds=3, seed=1, device="cpu", outcome_learner=learner, propensity_learner=learner)
    clustered.fit(df, outcome="y", treatment="d", features=feats, clusters="seller_id")
    default = clustered.gate(by="category")
    named = clustered.gate(by="category", cov="cluster")
    hc0 = clustered.gate(by="category", cov="HC0")
    pd.testing.assert_frame_equal(default, named)
    # Clusters of listings by seller: the SEs move (by 0.06% to 20% here), never by rounding alone.
    assert np.all(np.abs(default["se"].to_numpy() / hc0["se"].to_numpy() - 1) > 1e-5)
    pd.testing.assert_frame_equal(clustered.blp("inventory_level"), clustered.blp("inventory_level", cov="cluster"))
    # Without clusters the default stays HC0.
    plain = fastdml.DML(n_folds=3, seed=1, device="cpu", outcome_learner=learner, propensity_learner=learner)
    plain.fit(df, outcome="y", treatment="d", features=feats)
    pd.testing.assert_frame_equal(plain.gate(by="category"), plain.gate(by="category", cov="HC0"))
    with pytest.raises(Exception, match="cluster"):
        plain.gate(by="category", cov="cluster")
