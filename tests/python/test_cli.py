"""End-to-end behaviour of the `fastdml` command line.

- `simulate` writes a CSV and a truth JSON for every design;
- `estimate` recovers the known truth of the simulated designs (within 3 SE,
  95% CI covering it in at least 2 of 3 seeds) while the naive difference in
  the seller design is clearly biased;
- a seed fixes the result whatever the thread count;
- bad input is reported with the documented exit codes and a message naming
  the column or fold at fault.
"""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from conftest import cli_path, estimate_by_name, read_json, run_cli, sim_columns

DESIGNS = {"seller": "irm", "irm": "irm", "plr": "plr"}  # design -> model
SEEDS = [1, 2, 3]
N_TRUTH = 4000
P_DESIGN = {"seller": 8, "irm": 5, "plr": 5}  # the seller design needs p >= 8
LEARNER = ["--rounds", 100, "--max-depth", 4, "--eta", 0.1]
THREADS = 2


def _estimands(model):
    return ["ate", "att"] if model == "irm" else ["ate"]


# --- simulate --------------------------------------------------------------------------

@pytest.mark.parametrize("design", list(DESIGNS))
def test_simulate_writes_csv_and_truth(cli, tmp_path, design):
    out = tmp_path / f"{design}.csv"
    run_cli(cli, ["simulate", "--design", design, "--n", 500, "--p", P_DESIGN[design], "--seed", 5, "--out", out])
    assert out.is_file(), "simulate did not write the CSV"
    truth_path = tmp_path / f"{design}.truth.json"
    assert truth_path.is_file(), f"simulate did not write {truth_path.name} next to the CSV"
    truth = read_json(truth_path)
    df = pd.read_csv(out)
    assert len(df) == 500
    outcome, treatment, features = sim_columns(out, truth)
    if DESIGNS[design] == "irm":
        assert set(np.unique(df[treatment])) == {0, 1}, "treatment must be binary 0/1"
    assert np.isfinite(df[outcome]).all() and np.isfinite(df[treatment]).all()
    assert len(features) >= P_DESIGN[design] - 1
    keys = ["ate", "att"] if DESIGNS[design] == "irm" else ["ate"]
    for k in keys:
        assert k in truth, f"truth JSON lacks '{k}': {sorted(truth)}"
        assert np.isfinite(float(truth[k]))


def test_simulate_is_reproducible_from_seed(cli, tmp_path):
    paths = []
    for i, seed in enumerate([9, 9, 10]):
        out = tmp_path / f"s{i}.csv"
        run_cli(cli, ["simulate", "--design", "irm", "--n", 300, "--p", 3, "--seed", seed, "--out", out])
        paths.append(out)
    assert paths[0].read_bytes() == paths[1].read_bytes(), "same seed, different data"
    assert paths[0].read_bytes() != paths[2].read_bytes(), "different seeds, same data"


# --- estimates recover the truth --------------------------------------------------------

_FITS: dict = {}


def _fit_design(design: str, seed: int, workdir: str):
    """Simulates `design` with `seed` and estimates it once per session (failures too)."""
    key = (design, seed, workdir)
    if key not in _FITS:
        try:
            _FITS[key] = ("ok", _run_design(design, seed, workdir))
        except BaseException as exc:  # pytest.fail raises an OutcomeException
            _FITS[key] = ("error", f"{type(exc).__name__}: {exc}")
    status, value = _FITS[key]
    if status == "error":
        pytest.fail(f"{design} seed {seed}: {value}", pytrace=False)
    return value


def _run_design(design: str, seed: int, workdir: str):
    cli = cli_path()
    csv = f"{workdir}/{design}_{seed}.csv"
    run_cli(cli, ["simulate", "--design", design, "--n", N_TRUTH, "--p", P_DESIGN[design], "--seed", seed, "--out", csv])
    truth = read_json(csv[:-4] + ".truth.json")
    outcome, treatment, features = sim_columns(csv, truth)
    model = DESIGNS[design]
    args = ["estimate", "--data", csv, "--outcome", outcome, "--treatment", treatment,
            "--model", model, "--estimand", ",".join(_estimands(model)),
            "--features", ",".join(features), "--folds", 5, "--seed", seed, "--threads", THREADS,
            "--json", f"{workdir}/{design}_{seed}.json"]
    run_cli(cli, args + LEARNER)
    return truth, read_json(f"{workdir}/{design}_{seed}.json")


@pytest.fixture(scope="module")
def fit_design(cli, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("truth"))
    return lambda design, seed: _fit_design(design, seed, workdir)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("design", list(DESIGNS))
def test_estimate_within_3se_of_truth(fit_design, design, seed):
    truth, res = fit_design(design, seed)
    for est in _estimands(DESIGNS[design]):
        e = estimate_by_name(res, est)
        true = float(truth[est])
        assert e["se"] > 0 and np.isfinite(e["estimate"])
        z = (e["estimate"] - true) / e["se"]
        assert abs(z) <= 3, (f"{design} seed {seed} {est}: estimate {e['estimate']:.4f}, truth {true:.4f}, "
                             f"se {e['se']:.4f} ({z:+.2f} SE)")


@pytest.mark.parametrize("design", list(DESIGNS))
def test_ci_covers_truth_in_most_seeds(fit_design, design):
    for est in _estimands(DESIGNS[design]):
        covered = []
        for seed in SEEDS:
            truth, res = fit_design(design, seed)
            e = estimate_by_name(res, est)
            assert e["ci_lower"] < e["estimate"] < e["ci_upper"]
            covered.append(e["ci_lower"] <= float(truth[est]) <= e["ci_upper"])
        assert sum(covered) >= 2, f"{design} {est}: 95% CI covers the truth in {sum(covered)} of {len(SEEDS)} seeds"


@pytest.mark.parametrize("seed", SEEDS)
def test_seller_naive_difference_is_biased(fit_design, seed):
    truth, res = fit_design("seller", seed)
    naive = res["naive_difference"]
    gap = abs(naive["estimate"] - float(truth["ate"]))
    assert gap > 5 * naive["se"], (f"naive {naive['estimate']:.4f} vs true ATE {float(truth['ate']):.4f}: "
                                   f"gap {gap:.4f} is not > 5 x naive SE {naive['se']:.4f}")


def test_json_output_has_documented_fields(fit_design):
    _, res = fit_design("irm", SEEDS[0])
    for key in ("estimates", "naive_difference", "diagnostics", "timings", "options"):
        assert key in res, f"JSON lacks '{key}'"
    for e in res["estimates"]:
        for key in ("estimand", "estimate", "se", "t", "p_value", "ci_lower", "ci_upper", "theta_reps", "se_reps"):
            assert key in e, f"estimate lacks '{key}'"
        assert len(e["theta_reps"]) == len(e["se_reps"]) == 1
        assert e["t"] == pytest.approx(e["estimate"] / e["se"], rel=1e-12)
        assert 0 <= e["p_value"] <= 1
    for key in ("reading", "training", "prediction", "scores", "total"):
        assert res["timings"][key] >= 0
    assert res["timings"]["total"] >= res["timings"]["training"]


# --- reproducibility ----------------------------------------------------------------

def test_same_seed_same_estimates_across_thread_counts(cli, tmp_path):
    csv = tmp_path / "irm.csv"
    run_cli(cli, ["simulate", "--design", "irm", "--n", 2000, "--p", 5, "--seed", 21, "--out", csv])
    truth = read_json(tmp_path / "irm.truth.json")
    outcome, treatment, features = sim_columns(csv, truth)
    results = []
    for threads in (1, 2):
        out = tmp_path / f"t{threads}.json"
        args = ["estimate", "--data", csv, "--outcome", outcome, "--treatment", treatment,
                "--model", "irm", "--estimand", "ate,att", "--folds", 3, "--reps", 2, "--seed", 42,
                "--features", ",".join(features), "--rounds", 30, "--max-depth", 3, "--threads", threads,
                "--json", out]
        run_cli(cli, args)
        results.append(read_json(out))
    a, b = (json.dumps(r["estimates"], sort_keys=True) for r in results)
    assert a == b, f"--threads 1 and --threads 2 differ:\n{a}\n{b}"
    assert json.dumps(results[0]["naive_difference"], sort_keys=True) == json.dumps(
        results[1]["naive_difference"], sort_keys=True)


# --- bad input --------------------------------------------------------------------------

def _small_csv(path, n=200, seed=0, fold=None):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    d = rng.binomial(1, 0.5, size=n)
    y = x[:, 0] + d + rng.normal(size=n)
    df = pd.DataFrame({"y": y, "d": d, "x0": x[:, 0], "x1": x[:, 1], "x2": x[:, 2]})
    if fold is not None:
        df["fold"] = fold(df)
    df.to_csv(path, index=False)
    return df


def test_missing_column_exits_3_and_names_it(cli, tmp_path):
    csv = tmp_path / "small.csv"
    _small_csv(csv)
    for bad_args, name in [
        (["--outcome", "revenue_missing", "--treatment", "d"], "revenue_missing"),
        (["--outcome", "y", "--treatment", "followed_missing"], "followed_missing"),
        (["--outcome", "y", "--treatment", "d", "--features", "x0,x_missing"], "x_missing"),
    ]:
        proc = run_cli(cli, ["estimate", "--data", csv, *bad_args, "--rounds", 5], check=False)
        assert proc.returncode == 3, f"{bad_args}: exit {proc.returncode}, stderr: {proc.stderr}"
        assert name in proc.stderr, f"stderr does not name '{name}': {proc.stderr}"


def test_unknown_option_exits_2(cli, tmp_path):
    csv = tmp_path / "small.csv"
    _small_csv(csv)
    proc = run_cli(cli, ["estimate", "--data", csv, "--outcome", "y", "--treatment", "d",
                         "--no-such-option", "1"], check=False)
    assert proc.returncode == 2, f"exit {proc.returncode}, stderr: {proc.stderr}"
    assert "no-such-option" in proc.stderr, proc.stderr


def test_fold_column_with_untreated_fold_is_rejected(cli, tmp_path):
    csv = tmp_path / "folds.csv"

    def folds(df):
        f = np.arange(len(df)) % 4
        # fold 3 keeps only its control rows: its treated rows move to fold 0
        f[(f == 3) & (df["d"].to_numpy() == 1)] = 0
        return f

    df = _small_csv(csv, fold=folds)
    assert df.loc[df["fold"] == 3, "d"].sum() == 0 and (df["fold"] == 3).sum() > 0
    proc = run_cli(cli, ["estimate", "--data", csv, "--outcome", "y", "--treatment", "d",
                         "--features", "x0,x1,x2", "--fold-col", "fold", "--rounds", 5], check=False)
    assert proc.returncode != 0, "a fold without treated rows must be refused"
    assert proc.returncode in (2, 3), f"exit {proc.returncode}; expected a usage/data error: {proc.stderr}"
    assert re.search(r"fold[^0-9\n]{0,20}3(?!\d)", proc.stderr, re.I), f"stderr does not name fold 3: {proc.stderr}"
    assert "treated" in proc.stderr.lower(), proc.stderr


def test_fold_column_sets_the_folds(cli, tmp_path):
    csv = tmp_path / "folds.csv"
    df = _small_csv(csv, n=400, fold=lambda df: (np.arange(len(df)) * 7) % 4)
    pred = tmp_path / "p.csv"
    run_cli(cli, ["estimate", "--data", csv, "--outcome", "y", "--treatment", "d", "--features", "x0,x1,x2",
                  "--fold-col", "fold", "--rounds", 5, "--max-depth", 2, "--json", tmp_path / "o.json",
                  "--save-predictions", pred])
    saved = pd.read_csv(pred).sort_values(["rep", "row"])
    assert (saved["fold"].to_numpy() == df["fold"].to_numpy()).all(), "saved folds differ from --fold-col"
