"""`fastdml simulate --design grid` through the command line: the CSV's columns,
the sidecar truth JSON (one entry per (outcome, treatment) cell, one true
null), byte-identical files from one seed, and the usage error for too few
features. The truths themselves are checked in tests/sim/grid_test.cc."""
from __future__ import annotations

import numpy as np
import pandas as pd

from conftest import read_json, run_cli


def _simulate(cli, tmp_path, name, seed, n=400, p=7):
    out = tmp_path / f"{name}.csv"
    run_cli(cli, ["simulate", "--design", "grid", "--n", n, "--p", p, "--seed", seed, "--out", out])
    return out, tmp_path / f"{name}.truth.json"


def test_grid_writes_columns_and_cell_truths(cli, tmp_path):
    csv, truth_path = _simulate(cli, tmp_path, "g", seed=4)
    df = pd.read_csv(csv)
    assert list(df.columns) == ["y1", "y2", "y3", "t1", "t2"] + [f"x{k}" for k in range(1, 8)]
    assert len(df) == 400
    for t in ("t1", "t2"):
        assert set(np.unique(df[t])) == {0, 1}
    truth = read_json(truth_path)
    assert truth["design"] == "grid"
    assert truth["outcome"] == "y1,y2,y3" and truth["treatment"] == "t1,t2"
    assert "total effect" in truth["description"]
    cells = truth["cells"]
    assert [(c["outcome"], c["treatment"]) for c in cells] == [
        (y, t) for y in ("y1", "y2", "y3") for t in ("t1", "t2")]
    for c in cells:
        for key in ("ate", "att", "ate_sample", "att_sample"):
            assert np.isfinite(c[key]), (c["outcome"], c["treatment"], key)
    nulls = [(c["outcome"], c["treatment"]) for c in cells if c["null"]]
    assert nulls == [("y2", "t2")]
    assert truth["null_cells"] == [{"outcome": "y2", "treatment": "t2"}]
    # The sample shares treated are the CSV's.
    for t in ("t1", "t2"):
        assert truth["share_treated"][t] == df[t].mean()


def test_grid_is_byte_identical_from_one_seed(cli, tmp_path):
    a_csv, a_truth = _simulate(cli, tmp_path, "a", seed=9)
    b_csv, b_truth = _simulate(cli, tmp_path, "b", seed=9)
    c_csv, _ = _simulate(cli, tmp_path, "c", seed=10)
    assert a_csv.read_bytes() == b_csv.read_bytes()
    assert a_truth.read_bytes() == b_truth.read_bytes()
    assert a_csv.read_bytes() != c_csv.read_bytes()


def test_grid_needs_six_features(cli, tmp_path):
    proc = run_cli(cli, ["simulate", "--design", "grid", "--n", 100, "--p", 5, "--out", tmp_path / "x.csv"],
                   check=False)
    assert proc.returncode == 2, proc.stderr
    assert "--p" in proc.stderr and "grid" in proc.stderr
