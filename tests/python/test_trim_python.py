"""DML(trim=...) / DML.estimate(trim=...): the Python side of the CLI's --trim
(issue 15 item 2), and the overlap-weighted ATE through estimands= and gate().

The trimming itself is the engine's (fastdml::Trim), so the package must equal
the CLI's --trim JSON on the same data, seed and options: the estimates, their
standard errors, the bootstrap's joint bands, the sensitivity bounds and the
"trimming" section. Trimming's own correctness (Crump et al.'s alpha, the rows
kept) is tested on the C++ side.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from conftest import read_json, run_cli

fastdml = pytest.importorskip("fastdml", reason="fastdml package not installed (scripts/test builds it with pip)")

FAST = {"rounds": 40, "max_depth": 3}
TRIM_KEYS = {"rule", "alpha", "propensity", "rows", "rows_kept", "treated_kept", "control_kept", "population",
             "outcome", "treatment"}


@pytest.fixture(scope="module")
def overlap_csv(tmp_path_factory):
    """Limited overlap (logit m = 2.5 x0), so that Crump's rule trims (alpha near 0.09
    with these learners) and alpha = 0.1 keeps both arms; 300 clusters."""
    rng = np.random.default_rng(15)
    n = 1500
    x = rng.normal(size=(n, 5))
    d = (rng.uniform(size=n) < 1 / (1 + np.exp(-2.5 * x[:, 0]))).astype(int)
    y = x[:, 0] + 0.5 * x[:, 2] + d * (1 + x[:, 1]) + rng.normal(size=n)
    df = pd.DataFrame(x, columns=[f"x{j}" for j in range(5)])
    df.insert(0, "d", d)
    df.insert(0, "y", y)
    df["cluster"] = rng.integers(0, 300, n)
    csv = tmp_path_factory.mktemp("trim") / "overlap.csv"
    df.to_csv(csv, index=False, float_format="%.17g")
    return csv


@pytest.fixture(scope="module")
def seller_csv(tmp_path_factory, cli):
    csv = tmp_path_factory.mktemp("trim") / "sellers.csv"
    run_cli(cli, ["simulate", "--design", "seller", "--n", 1500, "--p", 9, "--seed", 5, "--out", csv])
    return csv


def features(csv) -> list:
    """Every column but the outcome, the treatment and the cluster ids (in both fits)."""
    return [c for c in pd.read_csv(csv, nrows=1).columns if c not in ("y", "d", "cluster", "seller_id")]


def cli_json(cli, tmp_path, csv, extra, name="cli.json", cluster=None):
    out = tmp_path / name
    run_cli(cli, ["estimate", "--data", csv, "--outcome", "y", "--treatment", "d", "--features",
                  ",".join(features(csv)), "--folds", 4, "--reps", 2,
                  "--seed", 9, "--rounds", FAST["rounds"], "--max-depth", FAST["max_depth"], "--clip", 0.02,
                  "--level", 0.9, "--device", "cpu", "--quiet", "--json", out]
            + (["--cluster", cluster] if cluster else []) + extra)
    return read_json(out)


def python_dml(csv, cluster=None, **kwargs):
    """The DML of cli_json: `cluster` is a column left out of the features (clusters= when given)."""
    df = pd.read_csv(csv)
    feats = features(csv)
    dml = fastdml.DML(model="irm", n_folds=4, n_rep=2, seed=9, device="cpu", clip=0.02, level=0.9,
                      outcome_learner=FAST, propensity_learner=FAST, **kwargs)
    return dml.fit(df, outcome="y", treatment="d", features=feats, clusters=cluster)


def assert_estimates_match(summary: pd.DataFrame, want: dict, label: str, joint: bool = False):
    rows = want["estimates"]
    assert list(summary.index) == [e["estimand"] for e in rows], label
    keys = ["estimate", "se", "t", "p_value", "ci_lower", "ci_upper"]
    if joint:
        keys += ["joint_ci_lower", "joint_ci_upper"]
    for key in keys:
        np.testing.assert_allclose(summary[key].to_numpy(dtype=float), [e[key] for e in rows], rtol=1e-12, atol=0,
                                   err_msg=f"{label} {key}")


def assert_trimming_matches(got: dict, want: dict, label: str):
    assert set(got) == TRIM_KEYS and set(want) == TRIM_KEYS, label
    for key in TRIM_KEYS:
        if key == "alpha":
            assert got[key] == pytest.approx(want[key], rel=1e-12, abs=0), label
        else:
            assert got[key] == want[key], f"{label} {key}"


@pytest.mark.parametrize("trim,cluster", [("crump", False), (0.1, True)])
def test_trim_equals_cli_json(cli, tmp_path, overlap_csv, trim, cluster):
    extra = ["--trim", str(trim), "--estimand", "ate,att,atc,ato", "--bootstrap", 199, "--joint",
             "--sensitivity", "cf_y=0.04,cf_d=0.03,rho=0.8"] + (["--normalize-ipw"] if cluster else [])
    cluster = "cluster" if cluster else None
    want = cli_json(cli, tmp_path, overlap_csv, extra, cluster=cluster)
    label = f"trim={trim!r}"

    dml = python_dml(overlap_csv, cluster, trim=trim, estimands=["ate", "att", "atc", "ato"],
                     normalize_ipw=cluster is not None)
    got = dml.trimming
    assert_trimming_matches(got, want["trimming"], label)
    # The test must be able to fail: rows were really dropped, from both arms' sides.
    assert 0 < got["alpha"] < 0.5 and got["rows_kept"] < got["rows"] == 1500, got
    assert got["treated_kept"] + got["control_kept"] == got["rows_kept"]
    assert dml._data.n == got["rows_kept"]

    dml.bootstrap(B=199)  # the CLI's bootstrap seed defaults to --seed, as DML's does
    assert_estimates_match(dml.summary(), want, label, joint=True)
    # The report's own sample counts and the overlap diagnostics describe the kept rows, as in the CLI's JSON.
    mine = dml.to_dict()
    assert mine["trimming"] == dml.trimming
    assert mine["diagnostics"]["overlap"] == want["diagnostics"]["overlap"]

    table = dml.sensitivity(cf_y=0.04, cf_d=0.03, rho=0.8)
    rows = want["sensitivity"]
    assert list(table["estimand"]) == [r["estimand"] for r in rows], label
    for key in ("theta", "theta_lower", "theta_upper", "ci_lower", "ci_upper", "rv", "rva"):
        np.testing.assert_allclose(table[key].to_numpy(dtype=float), [r[key] for r in rows], rtol=1e-12, atol=0,
                                   err_msg=f"{label} sensitivity {key}")

    # Single estimands on the trimmed sample are the summary's rows.
    for e in ("ate", "att", "atc", "ato"):
        assert getattr(dml, e)()["estimate"] == dml.summary().loc[e, "estimate"], e
    # The stored predictions stay those of every row (as --save-predictions).
    assert dml.predictions["m"].shape == (1500, 2)
    assert dml.balance.shape[0] == 5 and dml.to_dict()["estimates"] == want["estimates"]


def test_estimate_trim_switches_and_returns_to_full_sample(cli, tmp_path, overlap_csv):
    full_cli = cli_json(cli, tmp_path, overlap_csv, [], "full.json")
    trim_cli = cli_json(cli, tmp_path, overlap_csv, ["--trim", "0.1"], "trim.json")

    dml = python_dml(overlap_csv)
    assert dml.trim is None and dml.trimming is None
    assert_estimates_match(dml.summary(), full_cli, "full")
    trained = dml.models_trained

    dml.estimate(trim=0.1)
    assert dml.trim == 0.1
    assert_trimming_matches(dml.trimming, trim_cli["trimming"], "estimate(trim=0.1)")
    assert_estimates_match(dml.summary(), trim_cli, "estimate(trim=0.1)")
    dml.estimate(level=0.9)  # trim left out: the trimming in force stays
    assert dml.trimming is not None
    assert_estimates_match(dml.summary(), trim_cli, "estimate(level=0.9)")
    assert "trimmed to" in repr(dml)

    dml.estimate(trim=None)
    assert dml.trim is None and dml.trimming is None and "trimming" not in dml.to_dict()
    assert dml._data.n == 1500
    assert_estimates_match(dml.summary(), full_cli, "estimate(trim=None)")
    assert dml.models_trained == trained  # switching trains nothing


@pytest.mark.parametrize("bad", ["crum", "0.1", "", 0.0, 0.5, -0.1, 1.2, float("nan"), float("inf"), True, [0.1],
                                 {"alpha": 0.1}])
def test_bad_trim_values_raise_naming_trim(overlap_csv, bad):
    with pytest.raises(ValueError, match="trim"):
        fastdml.DML(trim=bad)
    dml = python_dml(overlap_csv)
    before = dml.summary()
    with pytest.raises(ValueError, match="trim"):
        dml.estimate(trim=bad)
    assert dml.trimming is None and dml.trim is None
    pd.testing.assert_frame_equal(dml.summary(), before)


def test_trim_needs_irm():
    with pytest.raises(ValueError, match="trim.*irm"):
        fastdml.DML(model="plr", trim="crump")


def made_up_fit(treated_m, trim=None):
    """A fit from given predictions in which every treated row has propensity
    `treated_m` and every control row 0.5."""
    rng = np.random.default_rng(0)
    n = 400
    d = (np.arange(n) % 2).astype(float)
    x = rng.normal(size=(n, 2))
    y = x[:, 0] + d + rng.normal(size=n)
    m = np.where(d == 1, treated_m, 0.5)
    preds = {"m": m, "g0": np.zeros(n), "g1": np.ones(n), "fold": (np.arange(n) // 2) % 4}
    dml = fastdml.DML(n_folds=4, clip=0.01, trim=trim)
    return dml.from_predictions(x, y, d, predictions=preds)


def test_trim_leaving_an_arm_empty_raises_and_keeps_the_sample():
    dml = made_up_fit(0.95)
    before = dml.summary()
    with pytest.raises(ValueError, match=r"--trim: alpha = 0\.1 keeps 0 treated and 200 control"):
        dml.estimate(trim=0.1)
    assert dml.trimming is None and dml.trim is None
    pd.testing.assert_frame_equal(dml.summary(), before)
    dml.estimate(trim=0.04)  # 0.95 <= 1 - 0.04: every row stays
    assert dml.trimming["rows_kept"] == 400

    # Given to the constructor: the fit is kept (on the full sample) and the error says why.
    with pytest.raises(ValueError, match="keeps 0 treated"):
        made_up_fit(0.95, trim=0.1)


def test_heterogeneity_and_benchmark_refused_when_trimmed(overlap_csv):
    dml = python_dml(overlap_csv, trim=0.1)
    with pytest.raises(ValueError, match=r"gate\(\) on a trimmed sample"):
        dml.gate(by="x1", bins=3)
    with pytest.raises(ValueError, match=r"blp\(\) on a trimmed sample"):
        dml.blp("x1")
    with pytest.raises(ValueError, match="sensitivity_benchmark on a trimmed sample"):
        dml.sensitivity_benchmark(["x2"])
    dml.estimate(trim=None)
    assert len(dml.gate(by="x1", bins=3)) == 3
    assert len(dml.blp("x1")) == 2


def test_ato_flows_through_estimands_and_gate(cli, tmp_path, seller_csv):
    """estimands=[..., "ato"] and gate(signal="ato") are the CLI's --estimand ato and --cate-signal ato."""
    want = cli_json(cli, tmp_path, seller_csv, ["--estimand", "ate,ato", "--cate-by", "category",
                                                "--cate-signal", "ato"])
    dml = python_dml(seller_csv, estimands=["ate", "ato"])
    assert_estimates_match(dml.summary(), want, "estimands=ate,ato")
    assert dml.ato()["estimate"] == dml.summary().loc["ato", "estimate"]
    g = dml.gate(by="category", signal="ato", level=0.9)
    assert g.attrs["signal"] == "ato"
    [section] = [v for k, v in want.items() if k.startswith("gate")] or [None]
    assert section is not None, sorted(want)
    groups = section[0]["groups"] if isinstance(section, list) else section["groups"]
    np.testing.assert_allclose(g["estimate"].to_numpy(), [e["estimate"] for e in groups], rtol=1e-12, atol=0)
    np.testing.assert_allclose(g["se"].to_numpy(), [e["se"] for e in groups], rtol=1e-12, atol=0)
    # Overlap weights are not the ATE's: the group effects must differ.
    assert not np.allclose(g["estimate"], dml.gate(by="category", signal="ate")["estimate"])
