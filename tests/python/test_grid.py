"""Grids in the Python package: DML.fit(df, outcome=[...], treatment=[...]).

Every cell of a grid equals the one-pair fit of that cell on the grid's folds
(to 1e-12), summary() is indexed by (outcome, treatment, estimand), the joint
bands and adjusted p-values over the grid are the CLI's grid JSON's, one-pair
input keeps its layout, and bad input is named (docs/python.md, "Grids").
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import read_json, run_cli

fastdml = pytest.importorskip("fastdml", reason="fastdml package not installed (scripts/test builds it with pip)")

OUTCOMES, TREATMENTS = ["y1", "y2", "y3"], ["t1", "t2"]
FAST = {"rounds": 20, "max_depth": 3}
SEED, FOLDS = 5, 3


def make_dml(**kw):
    args = dict(n_folds=FOLDS, outcome_learner=FAST, propensity_learner=FAST, device="cpu", seed=SEED)
    args.update(kw)
    return fastdml.DML(**args)


@pytest.fixture(scope="module")
def grid_csv(tmp_path_factory):
    from conftest import cli_path
    cli = cli_path()
    if cli is None:
        pytest.skip("fastdml CLI not built (it simulates the grid design)")
    out = tmp_path_factory.mktemp("grid") / "g.csv"
    run_cli(cli, ["simulate", "--design", "grid", "--n", 900, "--p", 7, "--seed", 3, "--out", out])
    return out


@pytest.fixture(scope="module")
def df(grid_csv):
    return pd.read_csv(grid_csv)


@pytest.fixture(scope="module")
def grid(df):
    return make_dml().fit(df, outcome=OUTCOMES, treatment=TREATMENTS)


def features_of(df):
    return [c for c in df.columns if c not in OUTCOMES + TREATMENTS]


def test_every_cell_equals_its_one_pair_fit_on_the_grids_folds(df, grid):
    folds = grid.cell("y1", "t1").predictions["fold"][:, 0]
    summary = grid.summary()
    for y in OUTCOMES:
        for t in TREATMENTS:
            view = grid.cell(y, t)
            pred = view.predictions
            # One fold plan for the whole grid; one propensity per treatment.
            np.testing.assert_array_equal(pred["fold"][:, 0], folds)
            np.testing.assert_array_equal(pred["m"], grid.cell("y1", t).predictions["m"])
            one = make_dml().fit(df, outcome=y, treatment=t, features=features_of(df), folds=folds)
            want = one.predictions
            for key in ("m", "g0", "g1"):
                np.testing.assert_allclose(pred[key], want[key], rtol=1e-12, atol=0, err_msg=f"{y},{t} {key}")
            got_cell, want_cell = view.summary(), one.summary()
            assert list(got_cell.index) == ["ate", "att"]
            for est in ("ate", "att"):
                for col in ("estimate", "se", "ci_lower", "ci_upper", "p_value"):
                    assert got_cell.loc[est, col] == pytest.approx(want_cell.loc[est, col], rel=1e-12, abs=1e-15), \
                        (y, t, est, col)
                    assert summary.loc[(y, t, est), col] == got_cell.loc[est, col]


def test_one_fold_plan_stratified_and_shared_features(df, grid):
    view = grid.cell("y2", "t2")
    assert view._data.feature_names == features_of(df)  # every outcome and treatment left out
    assert view._data.outcome_name == "y2" and view._data.treatment_name == "t2"
    assert grid.cells == [(y, t) for y in OUTCOMES for t in TREATMENTS]


def test_summary_index_and_columns(df, grid):
    s = grid.summary()
    assert isinstance(s.index, pd.MultiIndex)
    assert list(s.index.names) == ["outcome", "treatment", "estimand"]
    assert list(s.index) == [(y, t, e) for y in OUTCOMES for t in TREATMENTS for e in ("ate", "att")]
    one = make_dml().fit(df, outcome="y1", treatment="t1", features=features_of(df))
    assert list(s.columns) == list(one.summary().columns)
    assert s.attrs["level"] == 0.95
    ate = grid.ate()
    assert list(ate.index) == [(y, t) for y in OUTCOMES for t in TREATMENTS]
    assert ate.loc[("y3", "t2"), "estimate"] == s.loc[("y3", "t2", "ate"), "estimate"]


def test_pyarrow_table_gives_the_same_grid(df, grid):
    pa = pytest.importorskip("pyarrow")
    other = make_dml().fit(pa.Table.from_pandas(df), outcome=OUTCOMES, treatment=TREATMENTS)
    pd.testing.assert_frame_equal(other.summary(), grid.summary(), rtol=0, atol=0)


def test_one_element_lists_are_the_one_pair_fit(df):
    plain = make_dml().fit(df, outcome="y1", treatment="t2")
    listed = make_dml().fit(df, outcome=["y1"], treatment=["t2"])
    assert list(listed.summary().index) == ["ate", "att"]
    assert listed.summary().index.name == "estimand"
    pd.testing.assert_frame_equal(listed.summary(), plain.summary(), rtol=0, atol=0)
    assert listed.cells == [("y1", "t2")]
    assert listed.cell("y1", "t2") is listed


@pytest.mark.parametrize("variant", ["plain", "cluster"])
def test_joint_bands_and_p_values_equal_the_clis_grid(cli, grid_csv, df, tmp_path, variant):
    B = 300
    out = tmp_path / "cli.json"
    extra, kw = [], {}
    if variant == "cluster":  # whole clusters in the folds, one multiplier per cluster
        df = df.assign(cl=np.arange(len(df)) // 6)
        grid_csv = tmp_path / "g_cl.csv"
        df.to_csv(grid_csv, index=False)  # the shortest round-trip text: the CLI reads the same doubles
        extra, kw = ["--cluster", "cl"], {"clusters": "cl"}
    run_cli(cli, ["estimate", "--data", grid_csv, "--outcome", ",".join(OUTCOMES), "--treatment", ",".join(TREATMENTS),
                  "--folds", FOLDS, "--seed", SEED, "--rounds", 20, "--max-depth", 3, "--device", "cpu",
                  "--bootstrap", B, "--joint", "--p-adjust", "romano-wolf,holm", "--quiet", "--json", out, *extra])
    want = read_json(out)
    dml = make_dml().fit(df, outcome=OUTCOMES, treatment=TREATMENTS, **kw)
    assert dml.cell("y1", "t1")._data.n_clusters == (150 if variant == "cluster" else 0)
    before = dml.models_trained
    dml.bootstrap(B, joint=True)
    adjusted = dml.p_adjust(["romano-wolf", "holm"])
    assert dml.models_trained == before  # inference trains nothing
    s = dml.summary()
    assert len(want["estimates"]) == len(s) == 12
    for e in want["estimates"]:
        row = s.loc[(e["outcome"], e["treatment"], e["estimand"])]
        for key in ("estimate", "se", "ci_lower", "ci_upper", "joint_ci_lower", "joint_ci_upper"):
            assert row[key] == pytest.approx(e[key], rel=1e-12, abs=1e-15), (e["outcome"], e["treatment"], key)
        for method in ("romano-wolf", "holm"):
            assert row[f"p_{method}"] == pytest.approx(e["p_adjusted"][method], rel=1e-12, abs=1e-15)
            assert adjusted.loc[(e["outcome"], e["treatment"], e["estimand"]), f"p_{method}"] == row[f"p_{method}"]
    # Joint over 12 cell x estimands: wider than each pointwise interval.
    joint_w = s["joint_ci_upper"] - s["joint_ci_lower"]
    point_w = s["ci_upper"] - s["ci_lower"]
    assert (joint_w > point_w).all()
    crit = (joint_w / (2 * s["se"])).to_numpy()
    np.testing.assert_allclose(crit, crit[0], rtol=1e-9)  # one critical value for every cell (n_rep = 1)
    assert crit[0] > 1.96
    assert dml.boot_t_stat.shape == (B, 12, 1)
    # confint(joint=True) is the same band; the grid document is the CLI's.
    ci = dml.confint(joint=True)
    assert ci.loc[("y2", "t1", "att"), "lower"] == s.loc[("y2", "t1", "att"), "joint_ci_lower"]
    doc = json.loads(dml.to_json())
    assert [(e["outcome"], e["treatment"], e["estimand"]) for e in doc["estimates"]] == \
        [(e["outcome"], e["treatment"], e["estimand"]) for e in want["estimates"]]
    for a, b in zip(doc["estimates"], want["estimates"]):
        assert a["joint_ci_upper"] == pytest.approx(b["joint_ci_upper"], rel=1e-12)
    # A cell's own bootstrap is that cell's alone (2 estimands): a narrower band.
    view = dml.cell("y1", "t1").bootstrap(B)
    own = view.summary().loc["ate"]
    assert own["joint_ci_upper"] - own["joint_ci_lower"] < joint_w.loc[("y1", "t1", "ate")]
    assert s.equals(dml.summary())  # the view left the grid's report alone


def test_per_cell_methods_need_a_cell(grid):
    for call in (lambda: grid.gate("x1", bins=2), lambda: grid.predictions, lambda: grid.overlap,
                 lambda: grid.balance, lambda: grid.sensitivity(), lambda: grid.diagnostics):
        with pytest.raises(ValueError, match=r"dml\.cell\('y1', 't1'\)"):
            call()
    with pytest.raises(ValueError, match="not an outcome of this grid"):
        grid.cell("t1", "t1")
    with pytest.raises(ValueError, match="not a treatment of this grid"):
        grid.cell("y1", "y2")
    with pytest.raises(ValueError, match="trim takes one"):
        grid.estimate(trim=0.05)


def test_cell_views_share_the_fit_and_do_per_cell_work(df, grid):
    trained = fastdml._ext.nuisance_models_trained()
    a, b = grid.cell("y1", "t1"), grid.cell("y3", "t2")
    g = b.gate("x1", bins=2)
    assert list(g.columns[:2]) == ["n", "n_treated"]
    assert g["n_treated"].sum() == df["t2"].sum()  # the view reads its own treatment
    assert a.balance.shape[0] == len(features_of(df))
    assert a.summary().equals(grid.cell("y1", "t1").summary())
    a.estimate(trim=0.05)  # trimming a cell: its own rows, nothing trained
    assert a.trimming["rows_kept"] <= len(df)
    assert b.sensitivity().shape[0] == 2
    assert fastdml._ext.nuisance_models_trained() == trained
    with pytest.raises(ValueError, match="sensitivity_benchmark"):
        b.sensitivity_benchmark(["x1"])


def test_bad_grid_inputs_are_named(df):
    dml = make_dml()
    with pytest.raises(ValueError, match="column 't1' is both an outcome and a treatment"):
        dml.fit(df, outcome=["y1", "t1"], treatment=TREATMENTS)
    with pytest.raises(ValueError, match="column 't2' is a treatment and cannot also be a feature"):
        dml.fit(df, outcome=OUTCOMES, treatment=TREATMENTS, features=["x1", "t2"])
    with pytest.raises(ValueError, match="column 'y3' is an outcome and cannot also be a feature"):
        dml.fit(df, outcome=OUTCOMES, treatment=TREATMENTS, features=["x1", "y3"])
    with pytest.raises(ValueError, match="outcome column 'y2' listed twice"):
        dml.fit(df, outcome=["y1", "y2", "y2"], treatment=TREATMENTS)
    with pytest.raises(ValueError, match="treatment column 't1' listed twice"):
        dml.fit(df, outcome=OUTCOMES, treatment=["t1", "t1"])
    with pytest.raises(ValueError, match="feature column.*'x2'.*listed twice"):
        dml.fit(df, outcome=OUTCOMES, treatment=TREATMENTS, features=["x1", "x2", "x2"])
    with pytest.raises(ValueError, match="outcome: name at least one column"):
        dml.fit(df, outcome=[], treatment=TREATMENTS)
    holed = df.copy()
    holed.loc[17, "y2"] = np.nan
    with pytest.raises(ValueError, match=r"outcome 'y2' is NaN \(missing\) at row 17"):
        dml.fit(holed, outcome=OUTCOMES, treatment=TREATMENTS)
    odd = df.copy()
    odd.loc[4, "t2"] = 2
    with pytest.raises(ValueError, match=r"0 or 1 for model='irm' \(treatment 't2'\); row 4"):
        dml.fit(odd, outcome=OUTCOMES, treatment=TREATMENTS)
    with pytest.raises(ValueError, match="trim takes one"):
        make_dml(trim=0.05).fit(df, outcome=OUTCOMES, treatment=TREATMENTS)
    assert dml._grid is None and dml._fit is None  # nothing half-fitted was kept


def test_reestimation_and_levels_over_the_grid(df):
    dml = make_dml().fit(df, outcome=OUTCOMES, treatment=TREATMENTS)
    trained = dml.models_trained
    dml.estimate(estimands=["ate", "atc", "ato"], clip=0.02)
    s = dml.summary()
    assert list(s.index.get_level_values("estimand")[:3]) == ["ate", "atc", "ato"] and len(s) == 18
    view = dml.cell("y3", "t1")  # views take the grid's settings in force
    assert view.summary().loc["atc", "estimate"] == s.loc[("y3", "t1", "atc"), "estimate"]
    assert dml.atc().loc[("y3", "t1"), "estimate"] == s.loc[("y3", "t1", "atc"), "estimate"]
    dml.bootstrap(200, joint=True)
    wide, narrow = dml.confint(joint=True), dml.confint(level=0.8, joint=True)
    assert narrow.attrs["level"] == 0.8 and dml.summary().attrs["level"] == 0.95
    assert ((narrow["upper"] - narrow["lower"]) < (wide["upper"] - wide["lower"])).all()
    with pytest.raises(ValueError, match="n_rep must be 1"):
        make_dml(n_rep=2).fit(df, outcome=OUTCOMES, treatment=TREATMENTS, folds=np.arange(len(df)) % 3)
    assert dml.models_trained == trained
