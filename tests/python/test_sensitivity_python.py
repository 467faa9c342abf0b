"""DML.sensitivity() and DML.sensitivity_plot(): the Python side of issue 15 item 1.

The numbers come from the engine (fastdml::Sensitivity), so the package must
equal the CLI's --sensitivity JSON on the same data, seed and options, for a
trained fit and for one rebuilt from the CLI's saved predictions. Agreement
with DoubleML itself is tested in test_sensitivity_doubleml.py.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import read_json, run_cli

fastdml = pytest.importorskip("fastdml", reason="fastdml package not installed (scripts/test builds it with pip)")

SCENARIOS = [dict(cf_y=0.03, cf_d=0.03, rho=1.0), dict(cf_y=0.1, cf_d=0.05, rho=-0.5),
             dict(cf_y=0.02, cf_d=0.08, rho=1.0)]
COLUMNS = ["estimand", "cf_y", "cf_d", "rho", "level", "null_hypothesis", "theta", "theta_lower", "theta_upper",
           "se_lower", "se_upper", "ci_lower", "ci_upper", "rv", "rva"]
NUMERIC = COLUMNS[1:]
FAST = {"rounds": 20, "max_depth": 3}


def scenario_flags(scenarios, h0):
    flags = []
    for s in scenarios:
        flags += ["--sensitivity", f"cf_y={s['cf_y']},cf_d={s['cf_d']},rho={s['rho']}"]
    return flags + ["--sensitivity-h0", h0]


def assert_table_matches_json(table: pd.DataFrame, want: dict, label: str):
    """The DataFrame equals the JSON's "sensitivity" rows (same order), to 1e-12."""
    rows = want["sensitivity"]
    assert list(table.columns) == COLUMNS, label
    assert len(table) == len(rows), f"{label}: {len(table)} rows vs the CLI's {len(rows)}"
    assert list(table["estimand"]) == [r["estimand"] for r in rows], label
    for key in NUMERIC:
        np.testing.assert_allclose(table[key].to_numpy(dtype=float), [r[key] for r in rows], rtol=1e-12, atol=0,
                                   err_msg=f"{label} {key}")


def assert_grid_matches_json(dml, want: dict, label: str):
    grids = {g["estimand"]: g for g in want["sensitivity_grid"]}
    assert set(dml.sensitivity_grid_) == set(grids), label
    for estimand, g in grids.items():
        got = dml.sensitivity_grid_[estimand]
        assert got.attrs["bound"] == g["bound"] and got.attrs["rho"] == g["rho"], label
        np.testing.assert_array_equal(got.index.to_numpy(), g["cf_y"])
        np.testing.assert_array_equal(got.columns.to_numpy(), g["cf_d"])
        np.testing.assert_allclose(got.to_numpy().reshape(-1), g["theta"], rtol=1e-12, atol=0,
                                   err_msg=f"{label} grid {estimand}")
    for e in want["sensitivity_elements"]:
        mine = dml.sensitivity_elements_[e["estimand"]]
        for key in ("sigma2", "nu2", "max_bias"):
            np.testing.assert_allclose(mine[key], e[key], rtol=1e-12, atol=0, err_msg=f"{label} {key}")
        assert mine["riesz_fallback"] == e["riesz_fallback"]


@pytest.fixture(scope="module")
def seller_csv(tmp_path_factory, cli):
    csv = tmp_path_factory.mktemp("sens") / "sellers.csv"
    run_cli(cli, ["simulate", "--design", "seller", "--n", 1200, "--p", 9, "--seed", 4, "--out", csv])
    return csv


@pytest.mark.parametrize("variant", ["irm", "cluster-normalized", "plr"])
def test_sensitivity_equals_cli_json(cli, tmp_path, seller_csv, variant):
    h0 = {"irm": 0.0, "cluster-normalized": 1.0, "plr": 0.5}[variant]
    out = tmp_path / "cli.json"
    args = ["estimate", "--data", seller_csv, "--outcome", "y", "--treatment", "d", "--folds", 4, "--reps", 3,
            "--seed", 9, "--rounds", 20, "--max-depth", 3, "--clip", 0.02, "--level", 0.9, "--device", "cpu",
            "--quiet", "--json", out] + scenario_flags(SCENARIOS, h0)
    args += {"cluster-normalized": ["--cluster", "seller_id", "--normalize-ipw"], "plr": ["--model", "plr"]}.get(
        variant, [])
    run_cli(cli, args)
    want = read_json(out)

    df = pd.read_csv(seller_csv)
    cluster = variant == "cluster-normalized"
    feats = [c for c in df.columns if c not in ("y", "d") + (("seller_id",) if cluster else ())]
    dml = fastdml.DML(model="plr" if variant == "plr" else "irm", n_folds=4, n_rep=3, seed=9, device="cpu",
                      clip=0.02, level=0.9, normalize_ipw=cluster, outcome_learner=FAST, propensity_learner=FAST)
    dml.fit(df, outcome="y", treatment="d", features=feats, clusters="seller_id" if cluster else None)
    table = dml.sensitivity(scenarios=SCENARIOS, null_hypothesis=h0)
    assert_table_matches_json(table, want, variant)
    assert_grid_matches_json(dml, want, variant)
    assert dml.sensitivity_ is table and table.attrs == {"level": 0.9, "null_hypothesis": h0}
    # The scalar form is the first scenario's rows.
    one = dml.sensitivity(**SCENARIOS[0], null_hypothesis=h0)
    k = 1 if variant == "plr" else 2
    pd.testing.assert_frame_equal(one, table.iloc[:k], check_exact=True)


def test_from_cli_predictions_equals_cli_json(cli, tmp_path, seller_csv):
    """A DML rebuilt from the CLI's --save-predictions gives the CLI's bounds."""
    out, preds_csv = tmp_path / "cli.json", tmp_path / "preds.csv"
    run_cli(cli, ["estimate", "--data", seller_csv, "--outcome", "y", "--treatment", "d", "--folds", 3, "--reps", 2,
                  "--seed", 5, "--rounds", 20, "--max-depth", 3, "--device", "cpu", "--quiet", "--json", out,
                  "--save-predictions", preds_csv] + scenario_flags(SCENARIOS[:2], 0.0))
    want = read_json(out)
    df = pd.read_csv(seller_csv)
    p = pd.read_csv(preds_csv).sort_values(["rep", "row"])
    n, reps = len(df), int(p["rep"].max()) + 1

    def matrix(col):  # (n, n_rep), column r = repetition r
        return p[col].to_numpy().reshape(reps, n).T

    predictions = {"m": matrix("m_hat"), "g0": matrix("g0_hat"), "g1": matrix("g1_hat"),
                   "fold": matrix("fold").astype(np.int32)}
    dml = fastdml.DML(n_folds=3, n_rep=reps, device="cpu").from_predictions(
        df, outcome="y", treatment="d", features=[c for c in df.columns if c not in ("y", "d")],
        predictions=predictions)
    assert_table_matches_json(dml.sensitivity(scenarios=SCENARIOS[:2]), want, "from_predictions")
    assert_grid_matches_json(dml, want, "from_predictions")


@pytest.fixture(scope="module")
def fitted():
    df, _ = fastdml.simulate("seller", n=1500, p=9, seed=7)
    return fastdml.DML(n_folds=3, outcome_learner=FAST, propensity_learner=FAST, device="cpu", seed=3).fit(
        df, outcome="y", treatment="d")


def test_grid_shape_and_monotone_lower_bound(fitted):
    table = fitted.sensitivity(cf_y=0.04, cf_d=0.02)
    assert len(table) == 2 and list(table["estimand"]) == ["ate", "att"]
    assert (table["theta_lower"] < table["theta"]).all() and (table["theta"] < table["theta_upper"]).all()
    assert (table["ci_lower"] < table["theta_lower"]).all() and (table["theta_upper"] < table["ci_upper"]).all()
    assert set(fitted.sensitivity_grid_) == {"ate", "att"}
    for estimand, grid in fitted.sensitivity_grid_.items():
        assert grid.shape == (31, 31), estimand
        assert grid.index[0] == 0 and grid.columns[0] == 0 and grid.index[-1] == pytest.approx(0.15)
        theta = table.set_index("estimand").loc[estimand, "theta"]
        assert grid.attrs["bound"] == "lower"  # theta > h0 = 0 on this design
        z = grid.to_numpy()
        # No confounding on either axis: the bound is theta itself.
        np.testing.assert_allclose(z[0, :], theta, rtol=1e-14)
        np.testing.assert_allclose(z[:, 0], theta, rtol=1e-14)
        # Stronger confounding (more cf_y down a column, more cf_d along a row) can only lower it.
        assert np.all(np.diff(z[1:, 1:], axis=0) < 0), estimand
        assert np.all(np.diff(z[1:, 1:], axis=1) < 0), estimand


def test_robustness_value_moves_the_bound_to_h0(fitted):
    """RV is the cf_y = cf_d at which the lower bound reaches h0: the scenario at RV lands on h0."""
    h0 = 2.0
    first = fitted.sensitivity(null_hypothesis=h0)
    for _, row in first.iterrows():
        at_rv = fitted.sensitivity(cf_y=row["rv"], cf_d=row["rv"], rho=1.0, null_hypothesis=h0)
        got = at_rv.set_index("estimand").loc[row["estimand"]]
        assert abs(got["theta_lower"] - h0) < 1e-6, row["estimand"]
        at_rva = fitted.sensitivity(cf_y=row["rva"], cf_d=row["rva"], null_hypothesis=h0)
        assert abs(at_rva.set_index("estimand").loc[row["estimand"], "ci_lower"] - h0) < 1e-6


def _marked(ax, gid):
    found = [c for c in ax.collections if c.get_gid() == gid]
    return 0 if not found else sum(len(c.get_offsets()) for c in found)


def test_plot_returns_axes_with_marks(fitted):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    # Two scenarios at |rho| = 1 (marked), one at rho = 0.5 (not on this surface).
    fitted.sensitivity(scenarios=[dict(cf_y=0.03, cf_d=0.03), dict(cf_y=0.05, cf_d=0.1, rho=-1.0),
                                  dict(cf_y=0.02, cf_d=0.02, rho=0.5)], null_hypothesis=3.0)
    ax = fitted.sensitivity_plot(benchmarks={"experience_years": (0.01, 0.04), "proactiveness": (0.06, 0.02)})
    assert isinstance(ax, mpl.axes.Axes)
    assert _marked(ax, "fastdml-scenarios") == 2
    assert _marked(ax, "fastdml-benchmarks") == 2
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("experience_years (") for t in texts) and any(t.startswith("proactiveness (") for t in texts)
    assert "ate: lower bound, rho = 1" == ax.get_title()
    # h0 = 3 lies inside this surface: its contour is drawn and labelled.
    assert any(t == "h0 = 3" for t in texts), texts
    plt.close(ax.figure)

    # Another estimand, rho and an axes of the caller's: at rho = 0.5 only the third scenario lies on it.
    fig, given = plt.subplots()
    ax = fitted.sensitivity_plot(estimand="att", rho=0.5, ax=given, levels=5)
    assert ax is given and ax.get_title() == "att: lower bound, rho = 0.5"
    assert _marked(ax, "fastdml-scenarios") == 1 and _marked(ax, "fastdml-benchmarks") == 0
    plt.close(fig)


def test_sensitivity_works_on_a_fit_from_predictions(fitted):
    df, _ = fastdml.simulate("seller", n=1500, p=9, seed=7)
    again = fastdml.DML(device="cpu").from_predictions(df, outcome="y", treatment="d",
                                                       predictions=fitted.predictions)
    pd.testing.assert_frame_equal(again.sensitivity(scenarios=SCENARIOS), fitted.sensitivity(scenarios=SCENARIOS),
                                  check_exact=True)


def test_nu2_fallback_is_a_python_warning():
    """Treated rows with tiny propensities make the orthogonal nu^2 negative (W-SENSITIVITY-NU2)."""
    rng = np.random.default_rng(0)
    n = 60
    X = rng.normal(size=(n, 2))
    d = (np.arange(n) % 3 == 0).astype(float)
    y = d + rng.normal(size=n)
    m = np.where(d == 1, 0.02, 0.5)
    preds = {"m": m, "g0": np.zeros(n), "g1": np.ones(n), "fold": np.arange(n) % 2}
    dml = fastdml.DML(n_folds=2, device="cpu", clip=0.01).from_predictions(X, y, d, predictions=preds)
    with pytest.warns(RuntimeWarning, match="W-SENSITIVITY-NU2"):
        dml.sensitivity()
    assert dml.sensitivity_elements_["ate"]["riesz_fallback"]
    # A well-behaved fit warns nothing.
    dml2 = fastdml.DML(n_folds=2, device="cpu").from_predictions(
        X, y, d, predictions={**preds, "m": np.full(n, d.mean())})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dml2.sensitivity()


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(cf_d=1.0), ValueError, r"cf_d must lie in \[0, 1\)"),
    (dict(cf_d=1.5), ValueError, r"cf_d must lie in \[0, 1\)"),
    (dict(cf_y=-0.1), ValueError, r"cf_y must lie in \[0, 1\)"),
    (dict(rho=1.2), ValueError, r"rho must lie in \[-1, 1\]"),
    (dict(rho=-1.01), ValueError, r"rho must lie in \[-1, 1\]"),
    (dict(cf_y="0.1"), ValueError, "cf_y must be a number"),
    (dict(cf_d=float("nan")), ValueError, "cf_d must be finite"),
    (dict(null_hypothesis=float("inf")), ValueError, "null_hypothesis must be finite"),
    (dict(scenarios=[dict(cf_y=0.1), dict(cf_d=1.0)]), ValueError, r"scenarios\[1\] cf_d must lie in \[0, 1\)"),
    (dict(scenarios=[dict(cf_y=0.1, rh=0.2)]), ValueError, r"scenarios\[0\]: unknown key"),
    (dict(scenarios=[]), ValueError, "scenarios is empty"),
    (dict(scenarios=[dict(cf_y=0.1)], rho=0.5), ValueError, "either scenarios or rho"),
])
def test_bad_inputs_name_the_argument(fitted, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fitted.sensitivity(**kwargs)


def test_before_fit_and_bad_plot_arguments(fitted):
    with pytest.raises(RuntimeError, match="fit"):
        fastdml.DML(device="cpu").sensitivity()
    fresh = fastdml.DML(device="cpu")
    with pytest.raises(RuntimeError, match="fit"):
        fresh.sensitivity_plot()
    pytest.importorskip("matplotlib").use("Agg")
    fitted.sensitivity()
    with pytest.raises(ValueError, match="estimand must be one of"):
        fitted.sensitivity_plot(estimand="atc")
    with pytest.raises(ValueError, match=r"rho must lie in \[-1, 1\]"):
        fitted.sensitivity_plot(rho=2)
    with pytest.raises(ValueError, match=r"benchmarks\['x'\] cf_d must lie in \[0, 1\)"):
        fitted.sensitivity_plot(benchmarks={"x": (0.1, 1.0)})
    with pytest.raises(ValueError, match=r"benchmarks\['x'\] must be a pair"):
        fitted.sensitivity_plot(benchmarks={"x": 0.1})


def test_a_new_fit_forgets_the_last_sensitivity():
    df, _ = fastdml.simulate("seller", n=400, p=8, seed=1)
    dml = fastdml.DML(n_folds=2, outcome_learner={"rounds": 5}, propensity_learner={"rounds": 5}, device="cpu")
    dml.fit(df, outcome="y", treatment="d").sensitivity()
    assert dml.sensitivity_ is not None
    dml.fit(df, outcome="y", treatment="d")
    assert dml.sensitivity_ is None and dml.sensitivity_grid_ is None
    with pytest.raises(RuntimeError, match="sensitivity"):
        dml.sensitivity_plot()


def test_benchmark_equals_cli_json(cli, tmp_path, seller_csv):
    """DML.sensitivity_benchmark refits like the CLI's --sensitivity-benchmark: the same rows to 1e-12."""
    out = tmp_path / "cli.json"
    run_cli(cli, ["estimate", "--data", seller_csv, "--outcome", "y", "--treatment", "d", "--folds", 3, "--reps", 2,
                  "--seed", 6, "--rounds", 20, "--max-depth", 3, "--device", "cpu", "--quiet", "--json", out,
                  "--sensitivity-benchmark", "experience_years,price"])
    want = read_json(out)["sensitivity_benchmark"]
    df = pd.read_csv(seller_csv)
    feats = [c for c in df.columns if c not in ("y", "d")]
    dml = fastdml.DML(model="irm", n_folds=3, n_rep=2, seed=6, device="cpu", outcome_learner=FAST,
                      propensity_learner=FAST).fit(df, outcome="y", treatment="d", features=feats)
    got = dml.sensitivity_benchmark(["experience_years", "price"])
    assert list(got["estimand"]) == [b["estimand"] for b in want] == ["ate", "att"]
    assert (got["features"] == "experience_years,price").all()
    for key in ("cf_y", "cf_d", "rho", "delta_theta"):
        np.testing.assert_allclose(got[key], [b[key] for b in want], rtol=1e-12, atol=0, err_msg=key)
    for key in ("theta_lower", "theta_upper", "ci_lower", "ci_upper"):
        np.testing.assert_allclose(got[key], [b["bounds"][key] for b in want], rtol=1e-12, atol=0, err_msg=key)
    with pytest.raises(ValueError, match="'nope' is not a feature"):
        dml.sensitivity_benchmark("nope")
