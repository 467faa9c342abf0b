"""The ATC (effect on the controls, E[Y1 - Y0 | D = 0]; --estimand atc).

- DoubleML has no ATC. Its definition here is the ATT score with the arms'
  roles swapped, negated, so the reference is minus DoubleML 0.11.4's
  DoubleMLIRM(score='ATTE') fitted with D replaced by 1 - D on identical
  predictions and folds (propensity 1 - m, g0 and g1 swapped): per repetition
  and aggregated, to the relative 1e-9 of test_doubleml_agreement, with and
  without normalize_ipw, with clipping at 0.05 and R = 1 and 3. (DoubleML takes
  only 0/1 weights with ATTE and fastdml only positive ones, so the weighted
  ATC is checked against the swapped ATT in tests/driver/estimate_test.cc.)
- The group-wise ATC (--cate-signal atc) is the same score solved within each
  group, checked against DoubleML's swapped ATTE score elements.
- Known truth: the sample ATC of the seller and irm designs (mean of tau over
  the untreated rows, in the truth JSON) is covered by the 95% CI at most
  seeds.
- Bad combinations are usage or data errors naming the option.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from doubleml.utils._estimation import _aggregate_coefs_and_ses

from conftest import RTOL, assert_close, estimate_by_name, read_json, run_cli, sim_columns
from test_doubleml_agreement import FEATURES, doubleml_fit, make_problem, run_fastdml_loaded, write_predictions_csv
from test_gate_doubleml import add_group_columns, run_loaded


def swapped(prob: dict) -> dict:
    """The problem with the arms' roles swapped: D -> 1 - D, m -> 1 - m, g0 <-> g1."""
    return dict(prob, d=1 - prob["d"], m=1.0 - prob["m"], g0=prob["g1"], g1=prob["g0"])


def assert_matches_minus_doubleml(ours: dict, ref, label: str, level: float = 0.95) -> None:
    """fastdml's ATC `ours` against DoubleML's swapped ATTE `ref` negated.

    Per repetition theta is -theta' and se is se'. Aggregation over repetitions
    is DoubleML's own (_aggregate_coefs_and_ses: median theta, se from the
    median upper bound theta_r + 1.96 se_r) applied to the negated values: that
    rule is not symmetric in the sign, so the aggregated se is not ref.se.
    The CI is the median of the per-repetition bounds, hence [-upper', -lower']."""
    all_theta = -ref.all_coef[0, :]
    all_se = ref.all_se[0, :]
    assert_close(f"{label} theta_reps", ours["theta_reps"], all_theta)
    assert_close(f"{label} se_reps", ours["se_reps"], all_se)
    theta, se = (float(v[0]) for v in _aggregate_coefs_and_ses(all_theta[None, :], all_se[None, :]))
    assert_close(f"{label} estimate", ours["estimate"], theta)
    assert_close(f"{label} se", ours["se"], se)
    assert_close(f"{label} t", ours["t"], theta / se)
    ci = ref.confint(level=level).to_numpy()[0]
    assert_close(f"{label} ci_lower", ours["ci_lower"], -ci[1])
    assert_close(f"{label} ci_upper", ours["ci_upper"], -ci[0])
    want_p = 2 * norm.sf(abs(theta / se))
    assert abs(ours["p_value"] - want_p) <= RTOL * max(want_p, 1e-6), (
        f"{label} p_value: fastdml {ours['p_value']!r} vs {want_p!r}")


# --- DoubleML agreement ----------------------------------------------------------------

@pytest.mark.parametrize("normalize_ipw", [False, True], ids=["plain", "normalize_ipw"])
@pytest.mark.parametrize("reps", [1, 3])
def test_atc_is_minus_doubleml_atte_with_treatment_swapped(cli, tmp_path, reps, normalize_ipw):
    prob = make_problem(seed=1201 + reps, reps=reps)
    out = run_fastdml_loaded(cli, tmp_path, prob, "irm", "ate,att,atc", normalize_ipw=normalize_ipw)
    ref = doubleml_fit(swapped(prob), "irm", "ATTE", normalize_ipw)
    assert_matches_minus_doubleml(estimate_by_name(out, "atc"), ref, f"IRM-ATC reps={reps} "
                                  f"normalize_ipw={normalize_ipw}")
    # ATE and ATT in the same run are untouched, and the ATC is a third number.
    att = doubleml_fit(prob, "irm", "ATTE", normalize_ipw)
    assert_close("ATT next to the ATC", estimate_by_name(out, "att")["theta_reps"], att.all_coef[0, :])
    assert abs(estimate_by_name(out, "atc")["estimate"] - estimate_by_name(out, "att")["estimate"]) > 1e-3


@pytest.mark.parametrize("normalize_ipw", [False, True], ids=["plain", "normalize_ipw"])
def test_atc_clip_and_level_match_doubleml(cli, tmp_path, normalize_ipw):
    prob = make_problem(seed=1501, reps=1)
    assert ((prob["m"] < 0.05) | (prob["m"] > 0.95)).mean() > 0.05  # clipping at 0.05 bites
    out = run_fastdml_loaded(cli, tmp_path, prob, "irm", "atc", normalize_ipw=normalize_ipw,
                             extra=["--clip", 0.05, "--level", 0.9])
    ref = doubleml_fit(swapped(prob), "irm", "ATTE", normalize_ipw, clip=0.05)
    assert_matches_minus_doubleml(estimate_by_name(out, "atc"), ref, "IRM-ATC clip=0.05 level=0.9", level=0.9)


def test_group_atc_is_the_atc_score_solved_within_each_group(cli, tmp_path):
    """theta_g = -sum_{i in g} psi_b / sum_{i in g} psi_a with the ATC score, i.e. psi_a' and
    -psi_b' of DoubleML's swapped ATTE (psi_elements); se_g as for the group ATT."""
    prob = add_group_columns(make_problem(seed=1903, reps=2), seed=19)
    out = run_loaded(cli, tmp_path, prob, "irm", ["--cate-by", "cat", "--cate-signal", "att,atc"])
    gate = out["gate"][1]
    assert gate["signal"] == "atc" and out["gate"][0]["signal"] == "att"
    ref = doubleml_fit(swapped(prob), "irm", "ATTE")
    psi_a = ref.psi_elements["psi_a"][:, :, 0]
    psi_b = -ref.psi_elements["psi_b"][:, :, 0]
    for k, lev in enumerate(np.unique(prob["cat"])):
        rows = prob["cat"] == lev
        for r in range(2):
            sa, sb = psi_a[rows, r].sum(), psi_b[rows, r].sum()
            theta = -sb / sa
            se = np.sqrt(np.sum((theta * psi_a[rows, r] + psi_b[rows, r]) ** 2)) / abs(sa)
            assert_close(f"ATC group {lev} rep {r}", gate["groups"][k]["theta_reps"][r], theta, 1e-8)
            assert_close(f"ATC group {lev} se rep {r}", gate["groups"][k]["se_reps"][r], se, 1e-8)


# --- known truth -----------------------------------------------------------------------

TRUTH_SEEDS = list(range(1, 11))


@pytest.mark.parametrize("design", ["seller", "irm"])
def test_atc_ci_covers_the_sample_atc_at_most_seeds(cli, tmp_path, design):
    """Truth: the design's sample ATC, mean of tau over the untreated rows (truth JSON "atc").
    Tolerance from the SE: every estimate within 4 SE of the truth (two-sided 6e-5 per
    seed for a normal estimate), and the 95% CI covers it at >= 8 of 10 fixed seeds
    (probability 0.988 at exact coverage). The seller design is clustered by seller, so
    it runs with --cluster, as its truth JSON says."""
    covered = []
    for seed in TRUTH_SEEDS:
        csv = tmp_path / f"{design}_{seed}.csv"
        run_cli(cli, ["simulate", "--design", design, "--n", 4000, "--p", 8 if design == "seller" else 5,
                      "--seed", seed, "--out", csv])
        truth = read_json(tmp_path / f"{design}_{seed}.truth.json")
        outcome, treatment, features = sim_columns(csv, truth)
        out = tmp_path / f"{design}_{seed}.json"
        args = ["estimate", "--data", csv, "--outcome", outcome, "--treatment", treatment, "--estimand", "atc",
                "--features", ",".join(features), "--folds", 5, "--seed", seed, "--threads", 2,
                "--rounds", 100, "--max-depth", 4, "--eta", 0.1, "--quiet", "--json", out]
        if "cluster" in truth:
            args += ["--cluster", truth["cluster"]]
        run_cli(cli, args)
        e = estimate_by_name(read_json(out), "atc")
        true = float(truth["atc"])
        z = (e["estimate"] - true) / e["se"]
        assert abs(z) <= 4, f"{design} seed {seed}: ATC {e['estimate']:.4f}, truth {true:.4f} ({z:+.2f} SE)"
        covered.append(e["ci_lower"] <= true <= e["ci_upper"])
    assert sum(covered) >= 8, f"{design}: the ATC's 95% CI covers the truth at {sum(covered)} of 10 seeds"


# --- bad combinations ------------------------------------------------------------------

def _data_and_predictions(tmp_path, n=600):
    prob = add_group_columns(make_problem(seed=1905, reps=1, n=n), seed=21)
    data_csv, pred_csv = tmp_path / "data.csv", tmp_path / "pred.csv"
    df = pd.DataFrame(prob["x"], columns=FEATURES)
    df.insert(0, "d", prob["d"])
    df.insert(0, "y", prob["y"])
    df["cat"] = prob["cat"]
    df.to_csv(data_csv, index=False, float_format="%.17g")
    return df, data_csv, pred_csv, prob


@pytest.mark.parametrize("case,code,expect", [
    ("plr", 2, "--estimand atc: the PLR model estimates one constant effect; use --model irm for the ATC"),
    ("unknown", 2, "--estimand: unknown estimand 'atu' (expected ate, att, atc, ato)"),
    ("plr_signal", 2, "--cate-signal atc: the group-wise ATC needs --model irm"),
    ("unknown_signal", 2, "--cate-signal: unknown signal 'atu' (expected ate, att, atc, ato)"),
    ("no_control", 3, "has no control rows, so its ATC is not identified"),
])
def test_bad_atc_combinations_are_errors_naming_the_option(cli, tmp_path, case, code, expect):
    df, data_csv, pred_csv, prob = _data_and_predictions(tmp_path)
    model = "plr" if case.startswith("plr") else "irm"
    if case == "no_control":  # group 50: the first 80 rows' treated ones only
        df["cat"] = np.where((df["d"] == 1).to_numpy() & (np.arange(len(df)) < 80), 50, 1)
        df.to_csv(data_csv, index=False, float_format="%.17g")
    write_predictions_csv(prob, pred_csv, model)
    flags = {
        "plr": ["--estimand", "ate,atc"],
        "unknown": ["--estimand", "ate,atu"],
        "plr_signal": ["--estimand", "ate", "--cate-by", "cat", "--cate-signal", "atc"],
        "unknown_signal": ["--cate-by", "cat", "--cate-signal", "ate,atu"],
        "no_control": ["--cate-by", "cat", "--cate-signal", "atc"],
    }[case]
    proc = run_cli(cli, ["estimate", "--data", data_csv, "--outcome", "y", "--treatment", "d", "--features",
                         ",".join(FEATURES), "--model", model, "--load-predictions", pred_csv, "--quiet"] + flags,
                   check=False)
    assert proc.returncode == code, proc.stderr
    assert expect in proc.stderr, proc.stderr


def test_group_atc_needs_control_rows_only(cli, tmp_path):
    """The ATC's weights live on the control rows: a group of controls only has an ATC
    (through g1), while its ATT and ATE are refused."""
    df, data_csv, pred_csv, prob = _data_and_predictions(tmp_path)
    df["cat"] = np.where((df["d"] == 0).to_numpy() & (np.arange(len(df)) < 80), 50, 1)
    df.to_csv(data_csv, index=False, float_format="%.17g")
    write_predictions_csv(prob, pred_csv, "irm")
    base = ["estimate", "--data", data_csv, "--outcome", "y", "--treatment", "d", "--features", ",".join(FEATURES),
            "--load-predictions", pred_csv, "--quiet", "--cate-by", "cat"]
    out = tmp_path / "o.json"
    run_cli(cli, base + ["--cate-signal", "atc", "--json", out])
    groups = read_json(out)["gate"][0]["groups"]
    assert [g["n_treated"] for g in groups][1] == 0 and np.isfinite(groups[1]["estimate"])
    for signal in ("ate", "att"):
        proc = run_cli(cli, base + ["--cate-signal", signal], check=False)
        assert proc.returncode == 3 and "group '50' has no treated rows" in proc.stderr, proc.stderr


# --- Python package ----------------------------------------------------------------------

def test_python_atc_matches_the_cli_and_refuses_plr(cli, tmp_path):
    import fastdml

    prob = make_problem(seed=1907, reps=2)
    out = run_fastdml_loaded(cli, tmp_path, prob, "irm", "atc", normalize_ipw=True)
    df = pd.read_csv(tmp_path / "data.csv")
    dml = fastdml.DML(model="irm", n_folds=5, n_rep=2, device="cpu", estimands=["ate", "atc"], normalize_ipw=True)
    dml.from_predictions(df, outcome="y", treatment="d", features=FEATURES,
                         predictions={"m": prob["m"], "g0": prob["g0"], "g1": prob["g1"], "fold": prob["folds"]})
    assert list(dml.summary().index) == ["ate", "atc"]
    want = estimate_by_name(out, "atc")
    for got in (dml.atc(), dml.summary().loc["atc"]):
        assert got["estimate"] == pytest.approx(want["estimate"], rel=1e-12)
        assert got["se"] == pytest.approx(want["se"], rel=1e-12)
    with pytest.raises(ValueError, match="atc needs model='irm'"):
        fastdml.DML(model="plr").fit(df, outcome="y", treatment="d", features=FEATURES).atc()
    with pytest.raises(Exception, match="unknown estimand 'atu'"):
        fastdml.DML(estimands=["ate", "atu"])


def test_a_fit_saved_with_the_atc_reloads_and_reestimates_it(cli, tmp_path):
    """The fit file records the saving run's estimands (options.estimands): "atc" must read back."""
    prob = make_problem(seed=1909, reps=1, n=800)
    first = run_fastdml_loaded(cli, tmp_path, prob, "irm", "ate,atc", extra=["--save-fit", tmp_path / "run.fit"])
    out = tmp_path / "again.json"
    run_cli(cli, ["estimate", "--data", tmp_path / "data.csv", "--outcome", "y", "--treatment", "d", "--features",
                  ",".join(FEATURES), "--estimand", "atc,ate", "--load-fit", tmp_path / "run.fit", "--quiet",
                  "--json", out])
    again = read_json(out)
    assert [e["estimand"] for e in again["estimates"]] == ["atc", "ate"]
    for est in ("atc", "ate"):
        assert estimate_by_name(again, est)["theta_reps"] == estimate_by_name(first, est)["theta_reps"]


def test_joint_bands_and_romano_wolf_cover_the_atc(cli, tmp_path):
    """The bootstrap treats the ATC as any other estimand: with ate,att,atc the sup-t band
    of each is wider than its pointwise CI, and each has a Romano-Wolf p-value."""
    prob = make_problem(seed=1911, reps=1)
    out = run_fastdml_loaded(cli, tmp_path, prob, "irm", "ate,att,atc",
                             extra=["--bootstrap", 2000, "--joint", "--p-adjust", "romano-wolf"])
    assert [e["estimand"] for e in out["estimates"]] == ["ate", "att", "atc"]
    for e in out["estimates"]:
        assert e["joint_ci_lower"] < e["ci_lower"] and e["joint_ci_upper"] > e["ci_upper"], e["estimand"]
        assert 0 <= e["p_adjusted"]["romano-wolf"] <= 1, e["estimand"]
