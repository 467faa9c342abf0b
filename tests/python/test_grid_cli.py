"""Grids through the command line (`--outcome y1,y2,y3 --treatment t1,t2`):
the JSON layout, each cell equal to its one-pair run on the grid's folds, the
joint inference spanning the whole grid, the predictions file, identical
output at any thread count, and every bad input named."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import read_json, run_cli

LEARNER = ["--rounds", "15", "--max-depth", "3"]
OUTCOMES, TREATMENTS = ["y1", "y2", "y3"], ["t1", "t2"]


@pytest.fixture(scope="module")
def grid_csv(cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("grid") / "g.csv"
    run_cli(cli, ["simulate", "--design", "grid", "--n", 1200, "--p", 6, "--seed", 5, "--out", out])
    return out


def _grid(cli, csv, tmp_path, *extra, name="grid"):
    out = tmp_path / f"{name}.json"
    run_cli(cli, ["estimate", "--data", csv, "--outcome", ",".join(OUTCOMES), "--treatment", ",".join(TREATMENTS),
                  *LEARNER, "--no-timings", "--quiet", "--json", out, *extra])
    return read_json(out)


def _entry(doc, outcome, treatment, estimand):
    found = [e for e in doc["estimates"]
             if (e["outcome"], e["treatment"], e["estimand"]) == (outcome, treatment, estimand)]
    assert len(found) == 1, (outcome, treatment, estimand)
    return found[0]


def test_every_cell_equals_its_one_pair_run_on_the_grids_folds(cli, grid_csv, tmp_path):
    preds = tmp_path / "p.csv"
    doc = _grid(cli, grid_csv, tmp_path, "--save-predictions", preds)
    assert doc["options"]["outcomes"] == OUTCOMES and doc["options"]["treatments"] == TREATMENTS
    assert [(c["outcome"], c["treatment"]) for c in doc["cells"]] == [(y, t) for y in OUTCOMES for t in TREATMENTS]
    assert len(doc["estimates"]) == 12
    p = pd.read_csv(preds)
    assert list(p.columns[:5]) == ["outcome", "treatment", "row", "rep", "fold"]
    assert len(p) == 6 * 1200
    folds = p[(p.outcome == "y1") & (p.treatment == "t1")].sort_values("row")["fold"].to_numpy()
    # One fold plan for every cell; one propensity per treatment for every outcome.
    for (y, t), cell in p.groupby(["outcome", "treatment"]):
        assert np.array_equal(cell.sort_values("row")["fold"].to_numpy(), folds), (y, t)
    for t in TREATMENTS:
        m = [p[(p.outcome == y) & (p.treatment == t)].sort_values("row")["m_hat"].to_numpy() for y in OUTCOMES]
        assert all(np.array_equal(m[0], other) for other in m[1:]), t
    df = pd.read_csv(grid_csv)
    df["fold"] = folds
    with_folds = tmp_path / "gf.csv"
    df.to_csv(with_folds, index=False)
    features = ",".join(c for c in df.columns if c.startswith("x"))
    for y, t in [("y1", "t2"), ("y2", "t2"), ("y3", "t1")]:
        out = tmp_path / f"{y}{t}.json"
        run_cli(cli, ["estimate", "--data", with_folds, "--outcome", y, "--treatment", t, "--fold-col", "fold",
                      "--features", features, *LEARNER, "--no-timings", "--quiet", "--json", out])
        one = read_json(out)
        for e in one["estimates"]:
            assert (e["outcome"], e["treatment"]) == (y, t)
            g = _entry(doc, y, t, e["estimand"])
            # Same models on the same folds: equal to the engine's 1e-12 contract.
            assert abs(g["estimate"] - e["estimate"]) <= 1e-12 * max(1.0, abs(e["estimate"]))
            assert abs(g["se"] - e["se"]) <= 1e-12 * max(1.0, e["se"])


def test_joint_inference_spans_the_whole_grid(cli, grid_csv, tmp_path):
    doc = _grid(cli, grid_csv, tmp_path, "--bootstrap", 999, "--joint", "--p-adjust", "bonferroni,holm,romano-wolf")
    crit = doc["bootstrap"]["joint_critical_values"][0]
    # A sup over 12 correlated t-statistics: above the pointwise 1.96 and at
    # most Bonferroni's z over 12 two-sided tests (2.87).
    assert 1.96 < crit < 2.87
    p = np.array([e["p_value"] for e in doc["estimates"]])
    for e in doc["estimates"]:
        assert e["joint_ci_lower"] <= e["ci_lower"] and e["joint_ci_upper"] >= e["ci_upper"]
        assert e["p_adjusted"]["bonferroni"] == pytest.approx(min(1.0, 12 * e["p_value"]), rel=1e-12)
    # Holm over the grid's 12 p-values (statsmodels' step-down rule).
    order = np.argsort(p)
    holm = np.minimum(1.0, np.maximum.accumulate((12 - np.arange(12)) * p[order]))
    want = np.empty(12)
    want[order] = holm
    got = np.array([e["p_adjusted"]["holm"] for e in doc["estimates"]])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_grid_output_does_not_depend_on_the_thread_count(cli, grid_csv, tmp_path):
    one = _grid(cli, grid_csv, tmp_path, "--threads", 1, "--bootstrap", 200, "--joint", name="t1")
    two = _grid(cli, grid_csv, tmp_path, "--threads", 2, "--bootstrap", 200, "--joint", name="t2")
    assert one["estimates"] == two["estimates"] and one["cells"] == two["cells"]


def test_gate_runs_per_cell_and_is_tagged(cli, tmp_path):
    csv = tmp_path / "g.csv"
    run_cli(cli, ["simulate", "--design", "grid", "--n", 800, "--p", 6, "--seed", 2, "--out", csv])
    out = tmp_path / "gate.json"
    run_cli(cli, ["estimate", "--data", csv, "--outcome", "y1,y2", "--treatment", "t1", *LEARNER,
                  "--cate-by", "x1:q=3", "--quiet", "--json", out])
    doc = read_json(out)
    assert [(g["outcome"], g["treatment"]) for g in doc["gate"]] == [("y1", "t1"), ("y2", "t1")]


@pytest.mark.parametrize("args, message", [
    (["--outcome", "y1,t1", "--treatment", "t1"], "column 't1' is given as both the outcome and the treatment column"),
    (["--outcome", "y1,y2", "--treatment", "t1,t2", "--features", "x1,t2"], "feature 't2' is also the treatment column"),
    (["--outcome", "y1,y1", "--treatment", "t1"], "column 'y1' is named twice as an outcome"),
    (["--outcome", "y1,y2", "--treatment", "t1", "--trim", "crump"], "--trim takes one (outcome, treatment) pair"),
])
def test_bad_grids_are_usage_errors_that_name_the_column(cli, grid_csv, args, message):
    proc = run_cli(cli, ["estimate", "--data", grid_csv, *args, *LEARNER], check=False)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr


def test_a_missing_value_in_one_outcome_names_the_outcome_and_row(cli, grid_csv, tmp_path):
    df = pd.read_csv(grid_csv)
    df.loc[16, "y3"] = np.nan
    bad = tmp_path / "bad.csv"
    df.to_csv(bad, index=False)
    proc = run_cli(cli, ["estimate", "--data", bad, "--outcome", "y1,y2,y3", "--treatment", "t1,t2", *LEARNER],
                   check=False)
    assert proc.returncode != 0
    assert "missing outcome 'y3' at row 17" in proc.stderr


def test_the_cate_model_and_sensitivity_run_per_cell(cli, tmp_path):
    csv = tmp_path / "g.csv"
    run_cli(cli, ["simulate", "--design", "grid", "--n", 800, "--p", 6, "--seed", 6, "--out", csv])
    out = tmp_path / "cm.json"
    run_cli(cli, ["estimate", "--data", csv, "--outcome", "y1", "--treatment", "t1,t2", *LEARNER,
                  "--cate-model", "--cate-rounds", 10, "--sorted-gates", 3, "--sensitivity", "cf_y=0.02,cf_d=0.02",
                  "--quiet", "--json", out])
    doc = read_json(out)
    cells = [("y1", "t1"), ("y1", "t2")]
    assert [(s["outcome"], s["treatment"]) for s in doc["sorted_gates"]] == cells
    assert [(c["outcome"], c["treatment"]) for c in doc["cate_model"]] == cells
    assert sorted({(s["outcome"], s["treatment"]) for s in doc["sensitivity"]}) == cells
