"""Overlap and balance diagnostics (issue 15 item 3): the CLI's
diagnostics.overlap.by_arm, the per-arm IPW effective sample sizes and
diagnostics.balance, recomputed here in numpy from the data and the saved
out-of-fold predictions (an implementation independent of the engine's), and
the Python package's DML.overlap / DML.balance / plots.

Definitions: src/inference/balance.h and docs/reliability.md ("Overlap and
balance"): repetitions pooled, propensities clipped as the scores clip them,
raw (sample-weighted) unbiased variances in the SMD's denominator.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import read_json, run_cli

FEATURES = ["experience_years", "proactiveness_score", "category", "inventory_level", "price", "demand_index",
            "x1", "x2"]
PROBS = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]


@pytest.fixture(scope="module")
def seller(tmp_path_factory, cli):
    work = tmp_path_factory.mktemp("balance")
    raw = work / "raw.csv"
    run_cli(cli, ["simulate", "--design", "seller", "--n", 2000, "--p", 10, "--seed", 21, "--out", raw])
    df = pd.read_csv(raw)
    df["w"] = 0.5 + np.abs(df["x3"])  # positive sample weights
    csv = work / "seller.csv"
    df.to_csv(csv, index=False, float_format="%.17g")
    return csv


def run(cli, tmp_path, seller, extra):
    out, preds = tmp_path / "out.json", tmp_path / "preds.csv"
    run_cli(cli, ["estimate", "--data", seller, "--outcome", "y", "--treatment", "d", "--features", ",".join(FEATURES),
                  "--rounds", 15, "--max-depth", 3, "--folds", 3, "--seed", 5, "--device", "cpu", "--quiet",
                  "--json", out, "--save-predictions", preds] + extra)
    p = pd.read_csv(preds).sort_values(["rep", "row"])
    reps = int(p["rep"].max()) + 1
    return read_json(out), p["m_hat"].to_numpy().reshape(reps, -1)  # (reps, n)


def numpy_balance(x, d, m, u, clip):
    """SMDs from the definition: (row, rep) pairs pooled, clipped m."""
    mc = np.clip(m, clip, 1 - clip)
    treated = d == 1
    w_ate = np.where(treated, 1 / mc, 1 / (1 - mc)).sum(axis=0)  # a row's weight: the sum over repetitions
    w_att = np.where(treated, 1.0, mc / (1 - mc)).sum(axis=0)
    out = []
    for j in range(x.shape[1]):
        col = x[:, j]

        def mean(arm, w):
            return np.sum(u[arm] * w[arm] * col[arm]) / np.sum(u[arm] * w[arm])

        def var(arm):
            uu, v = u[arm], col[arm]
            mu = np.sum(uu * v) / np.sum(uu)
            return np.sum(uu * (v - mu) ** 2) / (np.sum(uu) - np.sum(uu ** 2) / np.sum(uu))

        sd = np.sqrt((var(treated) + var(~treated)) / 2)
        one = np.ones_like(col)
        out.append({"smd_raw": (mean(treated, one) - mean(~treated, one)) / sd,
                    "smd_ate": (mean(treated, w_ate) - mean(~treated, w_ate)) / sd,
                    "smd_att": (mean(treated, w_att) - mean(~treated, w_att)) / sd})
    return out


def kish(w):
    return w.sum() ** 2 / np.sum(w ** 2)


@pytest.mark.parametrize("variant", ["r2", "weights_clip"])
def test_json_equals_numpy(cli, tmp_path, seller, variant):
    extra, clip = {"r2": (["--reps", 2], 0.01),
                   "weights_clip": (["--weights", "w", "--clip", 0.15], 0.15)}[variant]
    doc, m = run(cli, tmp_path, seller, extra)
    df = pd.read_csv(seller)
    d = df["d"].to_numpy()
    # The engine holds X as float32.
    x = df[FEATURES].to_numpy(dtype=np.float64).astype(np.float32).astype(np.float64)
    u = df["w"].to_numpy() / df["w"].mean() if variant == "weights_clip" else np.ones(len(df))
    ov = doc["diagnostics"]["overlap"]

    # Histograms and quantiles by arm, all repetitions pooled.
    edges = np.asarray(ov["by_arm"]["histogram"]["edges"])
    np.testing.assert_array_equal(edges, np.arange(21) / 20)
    for arm, mask in (("treated", d == 1), ("control", d == 0)):
        values = m[:, mask].ravel()
        counts, _ = np.histogram(values, bins=edges)
        assert ov["by_arm"]["histogram"][arm] == counts.tolist(), arm
        assert sum(ov["by_arm"]["histogram"][arm]) == mask.sum() * m.shape[0]
        s = np.sort(values)
        want = {f"q{round(p * 100):02d}": s[int(p * (len(s) - 1) + 0.5)] for p in PROBS}
        assert ov["by_arm"]["quantiles"][arm] == want, arm

    # ESS per arm: Kish's within each arm, in the repetition with the smallest total.
    mc = np.clip(m, clip, 1 - clip)
    ess = [(kish((u / mc[r])[d == 1]), kish((u / (1 - mc[r]))[d == 0])) for r in range(m.shape[0])]
    worst = min(range(len(ess)), key=lambda r: ess[r][0] + ess[r][1])
    assert ov["ipw_ess_treated"] == pytest.approx(ess[worst][0], rel=1e-12)
    assert ov["ipw_ess_control"] == pytest.approx(ess[worst][1], rel=1e-12)
    assert ov["ipw_ess"] == pytest.approx(sum(ess[worst]), rel=1e-12)

    # Standardized mean differences.
    got = doc["diagnostics"]["balance"]
    assert [b["feature"] for b in got] == FEATURES
    for b, want in zip(got, numpy_balance(x, d, m, u, clip)):
        for key in ("smd_raw", "smd_ate", "smd_att"):
            assert abs(b[key] - want[key]) <= 1e-12, (b["feature"], key, b[key], want[key])
    # W-IMBALANCE names exactly the features above 0.1 after ATE or ATT weighting.
    above = [b["feature"] for b in got if max(abs(b["smd_ate"]), abs(b["smd_att"])) > 0.1]
    warned = [w for w in doc["diagnostics"]["warnings"] if w.startswith("W-IMBALANCE:")]
    assert bool(above) == bool(warned)
    for f in above:
        assert f"'{f}'" in warned[0]


def test_plr_has_no_balance(cli, tmp_path, seller):
    doc, _ = run(cli, tmp_path, seller, ["--model", "plr"])
    assert "balance" not in doc["diagnostics"]
    assert "by_arm" in doc["diagnostics"]["overlap"]


def package():
    return pytest.importorskip("fastdml", reason="fastdml package not installed (scripts/test builds it with pip)")


@pytest.fixture(scope="module")
def fitted():
    fastdml = package()
    df, _ = fastdml.simulate("seller", n=1500, p=9, seed=7)
    learner = {"rounds": 15, "max_depth": 3}
    return fastdml.DML(n_folds=3, n_rep=2, outcome_learner=learner, propensity_learner=learner, device="cpu",
                       seed=3).fit(df, outcome="y", treatment="d")


def test_package_equals_its_json(fitted):
    doc = fitted.to_dict()["diagnostics"]
    table = fitted.balance
    assert list(table.columns) == ["smd_raw", "smd_ate", "smd_att"]
    assert list(table.index) == [b["feature"] for b in doc["balance"]]
    np.testing.assert_array_equal(table.to_numpy(), [[b[k] for k in table.columns] for b in doc["balance"]])
    assert fitted.overlap == doc["overlap"]
    assert set(fitted.overlap["by_arm"]) == {"quantiles", "histogram"}
    raw = fitted.diagnostics["overlap"]
    assert raw["histogram_treated"] == doc["overlap"]["by_arm"]["histogram"]["treated"]
    assert raw["ipw_ess_treated"] == doc["overlap"]["ipw_ess_treated"]


def test_balance_follows_the_clip_of_the_last_estimate(fitted):
    before = fitted.balance
    fitted.estimate(clip=0.2)
    after = fitted.balance
    fitted.estimate(clip=0.01)
    pd.testing.assert_frame_equal(fitted.balance, before, check_exact=True)
    assert not np.allclose(after["smd_ate"], before["smd_ate"])
    np.testing.assert_array_equal(after["smd_raw"], before["smd_raw"])


def test_plots_return_axes(fitted):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    ax = fitted.overlap_plot()
    assert isinstance(ax, Axes)
    assert len(ax.patches) >= 2  # the two arms' histograms
    love = fitted.balance_plot(max_features=5)
    assert isinstance(love, Axes)
    assert len(love.get_yticklabels()) == 5
    assert any(abs(line.get_xdata()[0] - 0.1) < 1e-15 for line in love.get_lines())  # the 0.1 line
    _, mine = plt.subplots()
    assert fitted.overlap_plot(ax=mine, density=False) is mine
    plt.close("all")


def test_plr_balance_is_empty_and_its_plot_refuses():
    fastdml = package()
    df, _ = fastdml.simulate("seller", n=600, p=8, seed=2)
    learner = {"rounds": 10, "max_depth": 2}
    dml = fastdml.DML(model="plr", n_folds=2, outcome_learner=learner, propensity_learner=learner, device="cpu",
                      seed=1).fit(df, outcome="y", treatment="d")
    assert dml.balance.empty
    with pytest.raises(ValueError, match="IRM"):
        dml.balance_plot()


def test_printed_report_has_the_balance_table_and_ess_per_arm(cli, seller):
    proc = run_cli(cli, ["estimate", "--data", seller, "--outcome", "y", "--treatment", "d",
                         "--features", ",".join(FEATURES), "--rounds", 15, "--max-depth", 3, "--folds", 3,
                         "--seed", 5, "--device", "cpu"])
    lines = proc.stdout.splitlines()
    ess = [ln for ln in lines if ln.startswith("IPW weights:")]
    assert len(ess) == 1 and "treated" in ess[0] and "control" in ess[0]
    start = lines.index(next(ln for ln in lines if ln.startswith("balance (standardized mean difference")))
    rows = lines[start + 2:start + 2 + len(FEATURES)]
    assert [r.split()[0] for r in rows] == [r.split()[0] for r in rows if r.startswith("  ")]
    assert {r.split()[0] for r in rows} == set(FEATURES)  # 8 features: all shown
    weighted = [max(abs(float(r.split()[2])), abs(float(r.replace("*", "").split()[3]))) for r in rows]
    assert weighted == sorted(weighted, reverse=True)  # the largest weighted |SMD| first
    assert lines[start + 2 + len(FEATURES)].strip().startswith(f"({len(FEATURES)} of {len(FEATURES)} features shown")
    assert all(ln == ln.rstrip() for ln in lines)
