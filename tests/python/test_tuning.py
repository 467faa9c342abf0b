"""Early stopping and tuning from Python (issue 14, item 5): the learner
arguments ("auto", dicts with rounds "auto" or a count), tune / tune_per_fold /
early_stopping_model / validation_fraction, and DML.tuning, which must say
what the engine did (the same as the CLI's diagnostics.nuisance_tuning).

Small data and three folds: seconds per test.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import estimate_by_name, read_json, run_cli

fastdml = pytest.importorskip("fastdml", reason="fastdml package not installed (scripts/test builds it with pip)")

DEPTHS = [2, 3, 4, 6, 8]  # the --tune grid of max_depth (include/fastdml/options.h)
ETAS = [0.03, 0.1, 0.3]


@pytest.fixture(scope="module")
def seller():
    df, _ = fastdml.simulate("seller", n=1200, p=9, seed=7)
    return df


def fit(df, **kw):
    args = dict(n_folds=3, device="cpu", seed=3)
    args.update(kw)
    return fastdml.DML(**args).fit(df, outcome="y", treatment="d")


def test_default_learners_stop_early_and_report_each_fold(seller):
    dml = fit(seller)
    tuning = dml.tuning
    assert "m" in tuning and len(tuning) >= 2, tuning.keys()  # propensity and the outcome model(s)
    for name, entry in tuning.items():
        assert entry["metric"] == ("logloss" if name == "m" else "rmse"), name
        assert entry["early_stopping"] is True, name
        assert entry["searches"] == [], name
        assert len(entry["models"]) == 3, name  # one per fold (n_rep=1)
        for k, model in enumerate(entry["models"]):
            where = f"{name} fold {k}"
            assert (model["max_depth"], model["eta"], model["min_child_weight"]) == (6, 0.1, 1), where
            assert 1 <= model["rounds"] <= model["rounds_run"] <= 1000, where
            # Stopped after the default patience of 20 rounds without a better loss.
            assert model["rounds_run"] == min(model["rounds"] + 20, 1000), where
            assert math.isfinite(model["validation_loss"]) and model["validation_loss"] > 0, where
    assert dml.diagnostics["tuning"] == tuning
    assert dml.diagnostics["timings"]["tuning"] == 0  # nothing searched
    # The same record as the JSON document's (searches only appear there with --tune).
    assert dml.to_dict()["diagnostics"]["nuisance_tuning"] == {
        k: {kk: vv for kk, vv in v.items() if kk != "searches"} for k, v in tuning.items()}


def test_auto_spellings_and_learner_limits(seller):
    default = fit(seller)
    spelled = fit(seller, outcome_learner={"n_estimators": "auto"}, propensity_learner={"rounds": "auto"})
    assert spelled.tuning == default.tuning
    assert spelled.summary().equals(default.summary())
    # max_rounds and early_stopping_rounds reach the engine.
    short = fit(seller, outcome_learner={"early_stopping_rounds": 3, "max_rounds": 15})
    assert short.tuning["m"] == default.tuning["m"]
    outcome = [v for k, v in short.tuning.items() if k != "m"]
    for entry in outcome:
        for model in entry["models"]:
            assert model["rounds_run"] == min(model["rounds"] + 3, 15), model


def test_fixed_rounds_dict_trains_that_many_rounds_without_validation(seller):
    dml = fit(seller, outcome_learner={"rounds": 50, "max_depth": 3})
    for name, entry in dml.tuning.items():
        if name == "m":
            assert entry["early_stopping"] is True
            continue
        assert entry["early_stopping"] is False, name
        for model in entry["models"]:
            assert (model["rounds"], model["rounds_run"], model["max_depth"]) == (50, 50, 3), name
            assert model["validation_loss"] is None, name  # no validation split: written as null
    again = fit(seller, outcome_learner={"rounds": 50, "max_depth": 3})
    for key in ("m", "fold"):
        np.testing.assert_array_equal(again.predictions[key], dml.predictions[key])


# Each case: the CLI's flags and the same settings as DML arguments.
CLI_CASES = {
    "fixed-outcome-rounds": (["--outcome-rounds", 50], dict(outcome_learner={"rounds": 50})),
    "tune-depth": (["--tune", "depth"], dict(tune=["max_depth"])),
    "tune-eta-per-fold-keep": (["--tune", "eta", "--tune-per-fold", "--early-stopping-model", "keep",
                                "--validation-fraction", 0.3],
                               dict(tune="eta", tune_per_fold=True, early_stopping_model="keep",
                                    validation_fraction=0.3)),
}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_same_tuning_and_estimates_as_the_cli(cli, tmp_path, seller, case):
    flags, kwargs = CLI_CASES[case]
    csv = tmp_path / "sellers.csv"
    seller.to_csv(csv, index=False)  # shortest round-trip text: the CLI reads the same doubles
    out = tmp_path / "cli.json"
    run_cli(cli, ["estimate", "--data", csv, "--outcome", "y", "--treatment", "d", "--folds", 3, "--seed", 3,
                  "--device", "cpu", "--quiet", "--json", out, *flags])
    want = read_json(out)
    dml = fit(seller, **kwargs)
    got = dml.to_dict()
    assert got["diagnostics"]["nuisance_tuning"] == want["diagnostics"]["nuisance_tuning"]
    assert dml.tuning == {
        k: {"searches": [], **v} for k, v in want["diagnostics"]["nuisance_tuning"].items()}
    for estimand in ("ate", "att"):
        a, b = estimate_by_name(got, estimand), estimate_by_name(want, estimand)
        for key in ("estimate", "se", "ci_lower", "ci_upper"):
            assert a[key] == pytest.approx(b[key], rel=1e-12, abs=0), f"{estimand} {key}"


def test_tune_depth_searches_five_depths_once_and_uses_the_best(seller):
    dml = fit(seller, tune=["depth"])
    assert dml.diagnostics["timings"]["tuning"] > 0
    for name, entry in dml.tuning.items():
        assert len(entry["searches"]) == 1, name
        search = entry["searches"][0]
        assert (search["rep"], search["fold"]) == (0, 0), name
        cands = search["candidates"]
        assert [c["max_depth"] for c in cands] == DEPTHS, name
        assert all((c["eta"], c["min_child_weight"]) == (0.1, 1) for c in cands), name
        losses = [c["validation_loss"] for c in cands]
        assert search["chosen"] == int(np.argmin(losses)), (name, losses)
        best = cands[search["chosen"]]
        assert all(m["max_depth"] == best["max_depth"] for m in entry["models"]), name


def test_tune_per_fold_searches_every_fold(seller):
    dml = fit(seller, tune=["eta"], tune_per_fold=True)
    for name, entry in dml.tuning.items():
        searches = entry["searches"]
        assert [(s["rep"], s["fold"]) for s in searches] == [(0, 0), (0, 1), (0, 2)], name
        for s, model in zip(searches, entry["models"]):
            assert [c["eta"] for c in s["candidates"]] == ETAS, name
            losses = [c["validation_loss"] for c in s["candidates"]]
            assert s["chosen"] == int(np.argmin(losses)), (name, losses)
            assert model["eta"] == s["candidates"][s["chosen"]]["eta"], name


def test_from_predictions_has_no_tuning(seller):
    dml = fit(seller, outcome_learner={"rounds": 10}, propensity_learner={"rounds": 10})
    again = fastdml.DML(n_folds=3, device="cpu").from_predictions(seller, outcome="y", treatment="d",
                                                                  predictions=dml.predictions)
    assert again.tuning == {}
    assert again.diagnostics["tuning"] == {}
    assert again.summary().equals(dml.summary())


@pytest.mark.parametrize("kwargs, match", [
    (dict(tune="colour"), r"^tune: unknown parameter 'colour'"),
    (dict(tune=["depth", "rounds"]), r"^tune: unknown parameter 'rounds'"),
    (dict(tune=3), r"^tune must be True, False or a list"),
    (dict(tune=[]), r"^tune: name at least one"),
    (dict(tune_per_fold=True), r"^tune_per_fold=True tunes in every fold"),
    (dict(tune=True, tune_per_fold="yes"), r"^tune_per_fold must be True or False"),
    (dict(early_stopping_model="best"), r"^early_stopping_model must be 'refit' or 'keep'"),
    (dict(validation_fraction=1.0), r"^validation_fraction must be a number in \(0, 1\)"),
    (dict(validation_fraction="0.2"), r"^validation_fraction must be a number in \(0, 1\)"),
    (dict(outcome_learner="fast"), r"^outcome_learner: expected 'auto' or a dict"),
    (dict(propensity_learner={"rounds": 0}), r"^propensity_learner\['rounds'\] must be 'auto'"),
    (dict(outcome_learner={"n_estimators": "many"}), r"^outcome_learner\['n_estimators'\] must be 'auto'"),
    (dict(outcome_learner={"max_rounds": 0}), r"^outcome_learner\['max_rounds'\] must be a positive int"),
    (dict(outcome_learner={"early_stopping_rounds": 2.5}),
     r"^outcome_learner\['early_stopping_rounds'\] must be a positive int"),
])
def test_bad_values_raise_value_errors_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fastdml.DML(**kwargs)


def test_settings_reach_the_engine_options():
    o = fastdml.DML(tune=True, tune_per_fold=True, early_stopping_model="keep", validation_fraction=0.25,
                    outcome_learner={"rounds": "auto", "max_rounds": 300, "early_stopping_rounds": 7})._options()
    assert (o.tune, o.tune_per_fold, o.early_stopping_model, o.validation_fraction) == (True, True, "keep", 0.25)
    assert o.tune_params == ["depth", "eta", "min-child-weight"]
    assert (o.outcome.rounds, o.outcome.max_rounds, o.outcome.early_stopping_rounds) == (0, 300, 7)
    assert fastdml.DML(tune="min_child_weight,learning_rate")._options().tune_params == ["min-child-weight", "eta"]
    default = fastdml.DML()._options()
    assert (default.tune, default.early_stopping_model, default.propensity.rounds) == (False, "refit", 0)
