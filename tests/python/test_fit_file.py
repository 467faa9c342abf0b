"""`fastdml estimate --save-fit / --load-fit` (docs/fit-file.md): re-estimating
from the binary fit file reproduces the saving run's JSON byte for byte (with
--no-timings), agrees with --load-predictions on the same fit, trains nothing,
and refuses a file that does not belong to --data with an error naming it."""
from __future__ import annotations

import json

import pytest

from conftest import run_cli

FEATURES = "experience_years,proactiveness_score,category,inventory_level,price,demand_index,x1,x2"
SMALL = ["--rounds", "12", "--max-depth", "3", "--threads", "2", "--quiet", "--no-timings"]


@pytest.fixture(scope="module")
def seller(cli, tmp_path_factory):
    work = tmp_path_factory.mktemp("fit_file")
    data = work / "seller.csv"
    run_cli(cli, ["simulate", "--design", "seller", "--n", "2000", "--p", "9", "--seed", "5", "--out", data])
    return {"work": work, "data": str(data)}


def _estimate(cli, seller, extra, json_name, check=True):
    out = seller["work"] / json_name
    args = ["estimate", "--data", seller["data"], "--outcome", "y", "--treatment", "d", "--features", FEATURES,
            "--json", out, *extra]
    proc = run_cli(cli, args, check=check)
    return proc, out


REESTIMATE = ["--bootstrap", "400", "--joint", "--p-adjust", "romano-wolf,holm", "--cate-by", "category",
              "--blp", "inventory_level,cat(category)"]


@pytest.mark.parametrize("model,fit_flags", [
    ("irm", ["--reps", "2", "--outcome-design", "separate", "--seed", "11", "--propensity-max-depth", "2"]),
    ("plr", ["--model", "plr", "--seed", "3"]),
])
def test_load_fit_reproduces_the_saving_run_byte_for_byte(cli, seller, model, fit_flags):
    fit_path = seller["work"] / f"{model}.fit"
    _, original = _estimate(cli, seller, [*SMALL, *fit_flags, *REESTIMATE, "--save-fit", fit_path],
                            f"{model}_original.json")
    # No --model, no learner or seed flags: the fit file supplies them.
    _, again = _estimate(cli, seller, ["--quiet", "--no-timings", *REESTIMATE, "--load-fit", fit_path],
                         f"{model}_again.json")
    assert again.read_bytes() == original.read_bytes()
    assert json.loads(again.read_text())["options"]["model"] == model


def _without_seconds(j):
    """Drops the wall-clock "seconds" fields of the heterogeneity sections."""
    if isinstance(j, dict):
        return {k: _without_seconds(v) for k, v in j.items() if k != "seconds"}
    if isinstance(j, list):
        return [_without_seconds(v) for v in j]
    return j


def test_load_fit_equals_load_predictions_and_trains_nothing(cli, seller):
    fit_path = seller["work"] / "pair.fit"
    csv_path = seller["work"] / "pair.csv"
    _estimate(cli, seller, [*SMALL, "--reps", "3", "--save-fit", fit_path, "--save-predictions", csv_path],
              "pair_original.json")
    flags = ["--quiet", "--clip", "0.05", "--normalize-ipw", "--level", "0.9", "--bootstrap", "300",
             "--cate-by", "inventory_level:quartiles"]
    _, from_fit = _estimate(cli, seller, [*flags, "--load-fit", fit_path], "pair_fit.json")
    _, from_csv = _estimate(cli, seller, [*flags, "--load-predictions", csv_path], "pair_csv.json")
    a, b = _without_seconds(json.loads(from_fit.read_text())), _without_seconds(json.loads(from_csv.read_text()))
    for key in ("estimates", "naive_difference", "bootstrap", "gate"):
        assert a[key] == b[key], key
    assert a["diagnostics"]["overlap"] == b["diagnostics"]["overlap"]
    assert a["diagnostics"]["nuisance_quality"] == b["diagnostics"]["nuisance_quality"]
    assert a["timings"]["training"] == 0 and a["timings"]["fold_matrices"] == 0
    assert a["options"]["reps"] == 3 and a["options"]["clip"] == 0.05
    assert a["options"]["outcome_learner"]["rounds"] == 12  # from the file, not the defaults
    assert a["xgboost_version"] != "" and "loaded" not in a["xgboost_version"]


def test_load_fit_errors_name_the_file_and_the_fault(cli, seller, tmp_path):
    fit_path = seller["work"] / "err.fit"
    csv_path = seller["work"] / "err.csv"
    _estimate(cli, seller, [*SMALL, "--save-fit", fit_path, "--save-predictions", csv_path], "err_original.json")

    def fails(args, code, *texts):
        proc, _ = _estimate(cli, seller, ["--quiet", *args], "err.json", check=False)
        assert proc.returncode == code, proc.stderr
        for text in texts:
            assert text in proc.stderr, proc.stderr

    fails(["--load-fit", fit_path, "--model", "plr"], 2, str(fit_path), "--model irm")
    fails(["--load-fit", fit_path, "--load-predictions", csv_path], 2, "--load-fit and --load-predictions")
    fails(["--load-fit", csv_path], 3, str(csv_path), "bad magic")
    raw = fit_path.read_bytes()
    cut = tmp_path / "cut.fit"
    cut.write_bytes(raw[: len(raw) - 100])
    fails(["--load-fit", cut], 3, str(cut), "truncated")
    newer = tmp_path / "newer.fit"
    newer.write_bytes(raw[:8] + (7).to_bytes(4, "little") + raw[12:])
    fails(["--load-fit", newer], 3, str(newer), "layout version 7")

    # Another data file: fewer rows, then the same rows with another outcome.
    other = tmp_path / "other.csv"
    run_cli(cli, ["simulate", "--design", "seller", "--n", "1999", "--p", "9", "--seed", "5", "--out", other])
    proc = run_cli(cli, ["estimate", "--data", other, "--outcome", "y", "--treatment", "d", "--features", FEATURES,
                         "--quiet", "--load-fit", fit_path], check=False)
    assert proc.returncode == 3 and "covers 2000 rows but the data has 1999" in proc.stderr, proc.stderr
    run_cli(cli, ["simulate", "--design", "seller", "--n", "2000", "--p", "9", "--seed", "6", "--out", other])
    proc = run_cli(cli, ["estimate", "--data", other, "--outcome", "y", "--treatment", "d", "--features", FEATURES,
                         "--quiet", "--load-fit", fit_path], check=False)
    assert proc.returncode == 3 and "outcome column 'y' of the data differs" in proc.stderr, proc.stderr
