"""Early stopping and --tune on the command line (issue 14): the JSON record,
--rounds N writing what it always wrote, the fit file keeping the record, and
every bad flag named.
"""
from __future__ import annotations

import pytest

from conftest import read_json, run_cli


@pytest.fixture(scope="module")
def data(cli, tmp_path_factory):
    path = tmp_path_factory.mktemp("tuning_cli") / "irm.csv"
    run_cli(cli, ["simulate", "--design", "irm", "--n", 1500, "--p", 6, "--seed", 4, "--out", path])
    return path


def estimate(cli, data, out, *flags, check=True):
    return run_cli(cli, ["estimate", "--data", data, "--outcome", "y", "--treatment", "d", "--folds", 3,
                         "--threads", 2, "--quiet", "--no-timings", "--json", out, *flags], check=check)


def test_default_records_every_fold_models_rounds(cli, data, tmp_path):
    estimate(cli, data, tmp_path / "a.json")
    j = read_json(tmp_path / "a.json")
    assert j["options"]["propensity_learner"]["rounds"] == "auto"
    assert j["options"]["propensity_learner"]["max_rounds"] == 1000
    assert j["options"]["validation_fraction"] == 0.2
    assert j["options"]["early_stopping_model"] == "refit"
    tuning = j["diagnostics"]["nuisance_tuning"]
    assert tuning["m"]["metric"] == "logloss"
    for name, entry in tuning.items():
        assert entry["early_stopping"] is True
        assert len(entry["models"]) == 3, name
        for m in entry["models"]:
            assert 1 <= m["rounds"] <= 1000
            assert m["rounds_run"] == min(m["rounds"] + 20, 1000), (name, m)
        assert "searches" not in entry


def test_fixed_rounds_write_no_tuning_record(cli, data, tmp_path):
    """--rounds N: the JSON of before this default existed (the golden files pin the numbers)."""
    estimate(cli, data, tmp_path / "f.json", "--rounds", 40)
    j = read_json(tmp_path / "f.json")
    assert j["options"]["propensity_learner"]["rounds"] == 40
    assert "max_rounds" not in j["options"]["propensity_learner"]
    assert "validation_fraction" not in j["options"]
    assert "nuisance_tuning" not in j["diagnostics"]


def test_tune_records_the_search_and_the_fit_file_keeps_it(cli, data, tmp_path):
    estimate(cli, data, tmp_path / "t.json", "--tune", "depth", "--save-fit", tmp_path / "t.fit")
    j = read_json(tmp_path / "t.json")
    assert j["options"]["tune"] == {"params": ["depth"], "per_fold": False}
    for name, entry in j["diagnostics"]["nuisance_tuning"].items():
        (search,) = entry["searches"]
        assert [c["max_depth"] for c in search["candidates"]] == [2, 3, 4, 6, 8]
        losses = [c["validation_loss"] for c in search["candidates"]]
        assert search["chosen"] == losses.index(min(losses)), name
        chosen = search["candidates"][search["chosen"]]["max_depth"]
        assert all(m["max_depth"] == chosen for m in entry["models"]), name
    proc = run_cli(cli, ["estimate", "--data", data, "--outcome", "y", "--treatment", "d", "--load-fit",
                         tmp_path / "t.fit", "--quiet", "--no-timings", "--json", tmp_path / "l.json"])
    assert proc.returncode == 0
    loaded = read_json(tmp_path / "l.json")
    assert loaded["diagnostics"]["nuisance_tuning"] == j["diagnostics"]["nuisance_tuning"]
    assert loaded["options"]["tune"] == j["options"]["tune"]
    assert loaded["estimates"] == j["estimates"]


def test_the_printed_report_names_rounds_and_tuned_settings(cli, data, tmp_path):
    proc = run_cli(cli, ["estimate", "--data", data, "--outcome", "y", "--treatment", "d", "--folds", 3,
                         "--tune", "depth", "--quiet"])
    assert "nuisance models (inner validation" in proc.stdout
    assert "by early stopping" in proc.stdout and "tuned: depth" in proc.stdout
    assert "of which tuning" in proc.stdout


@pytest.mark.parametrize("flags, named", [
    (["--rounds", "many"], "--rounds"),
    (["--rounds", "0"], "--rounds"),
    (["--outcome-rounds", "-3"], "--outcome-rounds"),
    (["--max-rounds", "0"], "--max-rounds"),
    (["--early-stopping-rounds", "0"], "--early-stopping-rounds"),
    (["--validation-fraction", "1"], "--validation-fraction"),
    (["--tune", "depth,colour"], "--tune"),
    (["--tune-per-fold"], "--tune"),
    (["--early-stopping-model", "maybe"], "--early-stopping-model"),
])
def test_bad_flags_are_named(cli, data, tmp_path, flags, named):
    proc = estimate(cli, data, tmp_path / "x.json", *flags, check=False)
    assert proc.returncode != 0
    assert named in proc.stderr, proc.stderr
    assert not (tmp_path / "x.json").exists()


def warning_codes(j):
    return {w.split(":")[0] for w in j["diagnostics"]["warnings"]}


def test_warnings_fire_on_overfitting_and_stay_quiet_when_early_stopped(cli, tmp_path):
    """The constructed overfitting case is the old fixed default made worse
    (300 rounds of depth-8 trees on 1,500 rows): the propensity is confident
    and wrong, the outcome model fits noise (g0 is truly constant in this
    design: y = d (theta + c X beta) + noise). With early stopping the same
    data and design draw no nuisance warning."""
    data = tmp_path / "small.csv"
    run_cli(cli, ["simulate", "--design", "irm", "--n", 1500, "--p", 6, "--seed", 4, "--out", data])
    common = ["--outcome-design", "separate"]
    estimate(cli, data, tmp_path / "over.json", *common, "--rounds", 300, "--max-depth", 8)
    over = read_json(tmp_path / "over.json")
    assert {"W-NUISANCE-WORSE-THAN-CONSTANT", "W-EXTREME-PROPENSITY"} <= warning_codes(over)
    estimate(cli, data, tmp_path / "auto.json", *common)
    auto = read_json(tmp_path / "auto.json")
    assert not {"W-NUISANCE-WORSE-THAN-CONSTANT", "W-EXTREME-PROPENSITY"} & warning_codes(auto), \
        auto["diagnostics"]["warnings"]
    # ...and the interval is the narrower for it.
    for e_over, e_auto in zip(over["estimates"], auto["estimates"]):
        assert e_auto["se"] < e_over["se"], (e_auto, e_over)
