"""--sensitivity reproduces DoubleML 0.11.4's sensitivity_analysis() on identical predictions.

The problems, predictions and folds are those of test_doubleml_agreement.py:
fastdml re-estimates from them with --load-predictions, DoubleML gets them as
external predictions. The theta bounds, their SEs and the confidence bounds must
agree to a relative 1e-9 (RTOL), for IRM ATE and ATT (plain and normalize_ipw;
weighted: the ATE), PLR, and 1 and 3 repetitions.

One convention differs on purpose (docs/sensitivity.md): DoubleML's scaled score
psi / J is minus the influence function of theta, so its lower bound's SE is
that of theta + |rho| C_y C_d S (the upper bound's) and vice versa. fastdml uses
the influence function of each bound (LSS, Theorem 4). The comparison therefore
runs DoubleML's own code on -psi / J (the influence function), and a separate
test pins the difference on DoubleML's unchanged object.

The robustness values come from DoubleML's bounded scalar minimiser (xatol 1e-5),
fastdml's from a bisection to rounding, so they are compared to 1e-4 absolute, and
fastdml's own RV is checked to move the bound to h0 within 1e-6.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy.stats import norm

from conftest import RTOL, assert_close, read_json, run_cli
from test_doubleml_agreement import FEATURES, doubleml_fit, make_problem, run_fastdml_loaded

SCENARIOS = [dict(cf_y=0.03, cf_d=0.03, rho=1.0), dict(cf_y=0.1, cf_d=0.05, rho=-0.5)]
RV_ATOL = 1e-4  # DoubleML's minimize_scalar(method="bounded") stops at xatol = 1e-5


def scenario_flags(scenarios=SCENARIOS, h0=0.0):
    flags = []
    for s in scenarios:
        flags += ["--sensitivity", f"cf_y={s['cf_y']},cf_d={s['cf_d']},rho={s['rho']}"]
    return flags + ["--sensitivity-h0", h0]


def ours(out: dict, estimand: str, s: dict) -> dict:
    found = [b for b in out["sensitivity"] if b["estimand"] == estimand and b["cf_y"] == s["cf_y"]
             and b["cf_d"] == s["cf_d"] and b["rho"] == s["rho"]]
    assert len(found) == 1, f"expected one {estimand} bound for {s} in {out['sensitivity']}"
    return found[0]


def doubleml_params(ref, s: dict, level=0.95, h0=0.0, influence_sign=True) -> dict:
    """DoubleML's sensitivity_params for scenario `s`; with influence_sign its
    framework first gets -psi / J in place of psi / J."""
    fw = copy.deepcopy(ref.framework)
    if influence_sign:
        fw._dml_core.scaled_psi = -fw._dml_core.scaled_psi
    fw.sensitivity_analysis(cf_y=s["cf_y"], cf_d=s["cf_d"], rho=s["rho"], level=level, null_hypothesis=h0)
    return fw.sensitivity_params


def assert_sensitivity_matches(got: dict, ref, s: dict, label: str, level=0.95, h0=0.0):
    want = doubleml_params(ref, s, level, h0)
    tag = f"{label} {s}"
    assert_close(f"{tag} theta_lower", got["theta_lower"], want["theta"]["lower"])
    assert_close(f"{tag} theta_upper", got["theta_upper"], want["theta"]["upper"])
    assert_close(f"{tag} se_lower", got["se_lower"], want["se"]["lower"])
    assert_close(f"{tag} se_upper", got["se_upper"], want["se"]["upper"])
    assert_close(f"{tag} ci_lower", got["ci_lower"], want["ci"]["lower"])
    assert_close(f"{tag} ci_upper", got["ci_upper"], want["ci"]["upper"])
    assert abs(got["rv"] - want["rv"][0]) <= RV_ATOL, f"{tag} rv {got['rv']} vs DoubleML {want['rv'][0]}"
    assert abs(got["rva"] - want["rva"][0]) <= RV_ATOL, f"{tag} rva {got['rva']} vs DoubleML {want['rva'][0]}"
    assert got["level"] == level and got["null_hypothesis"] == h0


@pytest.mark.parametrize("reps", [1, 3])
def test_plr_sensitivity_matches_doubleml(cli, tmp_path, reps):
    prob = make_problem(seed=701 + reps, reps=reps)
    out = run_fastdml_loaded(cli, tmp_path, prob, "plr", "ate", extra=scenario_flags())
    ref = doubleml_fit(prob, "plr")
    for s in SCENARIOS:
        assert_sensitivity_matches(ours(out, "ate", s), ref, s, f"PLR reps={reps}")
    # the elements per repetition, as DoubleML stores them
    el = out["sensitivity_elements"][0]
    assert_close("PLR sigma2", el["sigma2"], ref.sensitivity_elements["sigma2"][0, :, 0])
    assert_close("PLR nu2", el["nu2"], ref.sensitivity_elements["nu2"][0, :, 0])


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("normalize_ipw", [False, True], ids=["plain", "normalize_ipw"])
@pytest.mark.parametrize("reps", [1, 3])
def test_irm_sensitivity_matches_doubleml(cli, tmp_path, reps, normalize_ipw, weighted):
    prob = make_problem(seed=801 + reps, reps=reps)
    # DoubleML's ATTE takes 0/1 weights only (a subpopulation), which fastdml
    # rejects (weights > 0; it filters rows instead): weighted runs compare the ATE.
    estimands = (("ate", "ATE"),) if weighted else (("ate", "ATE"), ("att", "ATTE"))
    out = run_fastdml_loaded(cli, tmp_path, prob, "irm", ",".join(e for e, _ in estimands),
                             normalize_ipw=normalize_ipw, weighted=weighted, extra=scenario_flags())
    tag = f"reps={reps} normalize_ipw={normalize_ipw} weighted={weighted}"
    for estimand, score in estimands:
        ref = doubleml_fit(prob, "irm", score, normalize_ipw, weighted=weighted)
        for s in SCENARIOS:
            assert_sensitivity_matches(ours(out, estimand, s), ref, s, f"IRM-{score} {tag}")
        el = [e for e in out["sensitivity_elements"] if e["estimand"] == estimand][0]
        assert_close(f"IRM-{score} sigma2", el["sigma2"], ref.sensitivity_elements["sigma2"][0, :, 0])
        assert_close(f"IRM-{score} nu2", el["nu2"], ref.sensitivity_elements["nu2"][0, :, 0])


def test_level_and_null_hypothesis_follow_the_run(cli, tmp_path):
    """--level sets the one-sided confidence bounds; --sensitivity-h0 the side and the RVs."""
    prob = make_problem(seed=901, reps=1)
    ref = doubleml_fit(prob, "irm", "ATE")
    theta = float(ref.coef[0])
    h0 = theta + 0.3  # above theta: the upper bounds decide
    out = run_fastdml_loaded(cli, tmp_path, prob, "irm", "ate", extra=scenario_flags(h0=h0) + ["--level", 0.9])
    for s in SCENARIOS:
        assert_sensitivity_matches(ours(out, "ate", s), ref, s, "IRM-ATE level=0.9 h0=theta+0.3", level=0.9, h0=h0)


def test_doubleml_lower_bound_uses_the_upper_bounds_se(cli, tmp_path):
    """Pins the one convention that differs: DoubleML's unchanged ci_lower is
    theta_lower - z se_upper, with fastdml's se_upper (and the mirror above)."""
    prob = make_problem(seed=902, reps=1)
    out = run_fastdml_loaded(cli, tmp_path, prob, "irm", "ate", extra=scenario_flags())
    ref = doubleml_fit(prob, "irm", "ATE")
    z = norm.ppf(0.95)
    for s in SCENARIOS:
        got = ours(out, "ate", s)
        want = doubleml_params(ref, s, influence_sign=False)
        assert_close("DoubleML ci lower", got["theta_lower"] - z * got["se_upper"], want["ci"]["lower"])
        assert_close("DoubleML ci upper", got["theta_upper"] + z * got["se_lower"], want["ci"]["upper"])
        assert got["se_lower"] != pytest.approx(got["se_upper"], rel=1e-6)  # the convention matters here


@pytest.mark.parametrize("model, estimands", [("irm", "ate,att"), ("plr", "ate")])
def test_rv_moves_the_bound_to_h0(cli, tmp_path, model, estimands):
    """RV is where the theta bound reaches h0 and RVa where the confidence bound
    does: rerunning at cf_y = cf_d = RV (RVa) puts that bound on h0 within 1e-6."""
    prob = make_problem(seed=903, reps=3)
    h0 = 0.0
    first = run_fastdml_loaded(cli, tmp_path, prob, model, estimands, extra=scenario_flags(SCENARIOS[:1], h0))
    for b in first["sensitivity"]:
        assert 0 < b["rva"] < b["rv"] < 1, b  # the estimates are away from 0 and the CI is wider
        for value, key in ((b["rv"], "theta_lower"), (b["rva"], "ci_lower")):
            again = run_fastdml_loaded(cli, tmp_path, prob, model, b["estimand"],
                                       extra=["--sensitivity", f"cf_y={value!r},cf_d={value!r},rho=1.0",
                                              "--sensitivity-h0", h0])
            bound = again["sensitivity"][0][key]
            assert abs(bound - h0) <= 1e-6, f"{model} {b['estimand']} {key} at cf = {value}: {bound}"


@pytest.mark.parametrize("flag, message", [
    ("cf_d=1.0", "cf_d = 1 must lie in [0, 1)"),
    ("cf_y=-0.1", "cf_y = -0.1"),
    ("rho=1.5", "rho = 1.5 must lie in [-1, 1]"),
    ("cf_x=0.1", "unknown key 'cf_x'"),
    ("cf_y=abc", "cf_y='abc' is not a number"),
    ("0.03", "'0.03' is not key=value"),
])
def test_bad_scenarios_are_usage_errors(cli, tmp_path, flag, message):
    proc = run_cli(cli, ["estimate", "--data", tmp_path / "never-read.csv", "--outcome", "y", "--treatment", "d",
                         "--sensitivity", flag], check=False)
    assert proc.returncode == 2, proc.stderr
    assert "--sensitivity" in proc.stderr and message in proc.stderr, proc.stderr


@pytest.mark.parametrize("model, estimands", [("plr", (("ate", None),)), ("irm", (("ate", "ATE"), ("att", "ATTE")))])
@pytest.mark.parametrize("reps", [1, 3])
def test_clustered_sensitivity_matches_doubleml(cli, tmp_path, model, estimands, reps):
    """With --cluster each bound's SE uses DoubleML's one-way cluster variance
    (unequal clusters per fold, as in test_cluster_doubleml.py)."""
    import test_cluster_doubleml as tc
    prob = tc.make_clustered_problem(seed=1301 + reps, reps=reps)
    out, _ = tc.run_fastdml(cli, tmp_path, prob, model, ",".join(e for e, _ in estimands), extra=scenario_flags())
    for estimand, score in estimands:
        ref = tc.doubleml_fit(prob, model, score or "ATE")
        for s in SCENARIOS:
            assert_sensitivity_matches(ours(out, estimand, s), ref, s, f"clustered {model}-{estimand} reps={reps}")


@pytest.mark.parametrize("normalize_ipw", [False, True], ids=["plain", "normalize_ipw"])
@pytest.mark.parametrize("reps", [1, 3])
def test_atc_sensitivity_is_minus_doubleml_swapped_atte(cli, tmp_path, reps, normalize_ipw):
    """The ATC is minus the ATT of the problem with the arms swapped (test_atc.py),
    so its bounds are minus that problem's, mirrored: theta_lower(ATC) =
    -theta_upper', ci_lower = -ci_upper', se_lower = se_upper' (each bound's
    influence function), rv = rv' at h0 = 0. DoubleML's aggregation of SEs over
    repetitions is not symmetric under the sign flip, so SEs are compared at R = 1."""
    from test_atc import swapped
    prob = make_problem(seed=1401 + reps, reps=reps)
    out = run_fastdml_loaded(cli, tmp_path, prob, "irm", "atc", normalize_ipw=normalize_ipw, extra=scenario_flags())
    ref = doubleml_fit(swapped(prob), "irm", "ATTE", normalize_ipw)
    for s in SCENARIOS:
        got, want = ours(out, "atc", s), doubleml_params(ref, s)
        tag = f"ATC reps={reps} normalize_ipw={normalize_ipw} {s}"
        assert_close(f"{tag} theta_lower", got["theta_lower"], -want["theta"]["upper"])
        assert_close(f"{tag} theta_upper", got["theta_upper"], -want["theta"]["lower"])
        assert_close(f"{tag} ci_lower", got["ci_lower"], -want["ci"]["upper"])
        assert_close(f"{tag} ci_upper", got["ci_upper"], -want["ci"]["lower"])
        if reps == 1:
            assert_close(f"{tag} se_lower", got["se_lower"], want["se"]["upper"])
            assert_close(f"{tag} se_upper", got["se_upper"], want["se"]["lower"])
        assert abs(got["rv"] - want["rv"][0]) <= RV_ATOL and abs(got["rva"] - want["rva"][0]) <= RV_ATOL, tag
