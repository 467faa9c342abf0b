"""fastdml's multiplier bootstrap, joint bands and adjusted p-values against DoubleML 0.11.4.

One fastdml run estimates the IRM ATE and ATT from external predictions
(`--load-predictions`); DoubleML fits the ATE and ATTE objects separately on the
same predictions and folds, concatenates their frameworks
(`doubleml.concat([ate.framework, att.framework])`) and bootstraps them. The two
bootstraps use different random numbers, so the joint critical values and
Romano-Wolf p-values agree only within Monte-Carlo error; the tolerances below
are derived from the sampling error of each quantity (see `quantile_se`,
`proportion_se`) at Z_TOL standard errors.

- normal multipliers (both samplers): against the exact law. Given the scores,
  t* ~ N(0, R) exactly, R the 2 x 2 (uncentered) correlation of the scores, so
  the critical value and the Romano-Wolf p-values have closed forms (one 1-D
  integral); DoubleML's own normal bootstrap is checked against the same law.
- wild and Bayes: against DoubleML's bootstrap of the same name.
- Rademacher and Mammen (not in DoubleML): against an independent numpy
  multiplier bootstrap on DoubleML's scaled scores.
- Bonferroni and Holm: statsmodels' multipletests on fastdml's own per-repetition
  p-values (median over repetitions, as DoubleML's p_adjust), to 1e-12.
- The joint band contains the pointwise CI; same seed, same bootstrap output
  whatever the thread count; usage errors exit 2.
- Clusters (--cluster; DoubleML has no clustered bootstrap): against a numpy
  bootstrap with one multiplier per cluster on the cluster sums of the scores.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize
from scipy.special import expit, logit
from scipy.stats import gaussian_kde, norm
from statsmodels.stats.multitest import multipletests

import doubleml as dml
from doubleml.utils import DMLDummyClassifier, DMLDummyRegressor
from doubleml.utils.propensity_score_processing import PSProcessorConfig

from conftest import assert_close, estimate_by_name, read_json, run_cli

N, P, K, REPS = 1000, 3, 5, 2
FEATURES = [f"x{j}" for j in range(P)]
ESTIMANDS = ("ate", "att")
B_REF = 20000   # DoubleML / numpy replicates
B_FAST = 20000  # fastdml replicates
LEVEL = 0.95
CLIP = 0.01
# Z_TOL standard errors: a two-sided normal tail of 7e-6 per comparison, so the
# ~40 Monte-Carlo comparisons below fail by chance with probability < 3e-4.
Z_TOL = 4.5


# --- problem: data, predictions and folds --------------------------------------------

def make_problem(seed: int, effect: float, reps: int = REPS, n: int = N, n_clusters: int = 0) -> dict:
    """Data and plausible out-of-fold predictions. `effect` sets the size of the ATE
    (0.2 gives |t| of about 2-3 at n = 1000: p-values where the adjustments matter).
    With n_clusters, rows carry a cluster id and folds never split a cluster."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, P))
    ps = expit(0.8 * x[:, 0] - 0.5 * x[:, 1])
    d = rng.binomial(1, ps).astype(np.int64)
    tau = effect * (1.0 + 0.5 * x[:, 0])
    base = x @ np.array([1.0, -0.5, 0.25])
    y = base + d * tau + rng.normal(size=n)
    cluster = np.sort(rng.integers(0, n_clusters, size=n)) if n_clusters else None
    if cluster is not None:  # a shared shock per cluster
        y = y + rng.normal(scale=0.7, size=n_clusters)[cluster]
    m = np.clip(expit(logit(ps)[:, None] + rng.normal(scale=0.3, size=(n, reps))), 0.005, 0.995)
    g0 = base[:, None] + rng.normal(scale=0.3, size=(n, reps))
    g1 = g0 + tau[:, None] + rng.normal(scale=0.3, size=(n, reps))
    folds = np.empty((n, reps), dtype=np.int64)
    for r in range(reps):
        if cluster is None:
            folds[rng.permutation(n), r] = np.arange(n) % K
        else:
            fold_of_cluster = np.empty(n_clusters, dtype=np.int64)
            fold_of_cluster[rng.permutation(n_clusters)] = np.arange(n_clusters) % K
            folds[:, r] = fold_of_cluster[cluster]
    return dict(x=x, d=d, y=y, m=m, g0=g0, g1=g1, folds=folds, reps=reps, n=n, cluster=cluster)


def write_inputs(prob: dict, directory) -> tuple:
    data_csv, pred_csv = directory / "data.csv", directory / "pred.csv"
    df = pd.DataFrame(prob["x"], columns=FEATURES)
    df.insert(0, "d", prob["d"])
    df.insert(0, "y", prob["y"])
    if prob["cluster"] is not None:
        df["cl"] = prob["cluster"]
    df.to_csv(data_csv, index=False, float_format="%.17g")
    n, reps = prob["n"], prob["reps"]
    col = lambda a: a.T.reshape(-1)  # noqa: E731  (n x reps) -> rep-major
    pd.DataFrame({
        "row": np.tile(np.arange(n), reps), "rep": np.repeat(np.arange(reps), n), "fold": col(prob["folds"]),
        "m_hat": col(prob["m"]), "g0_hat": col(prob["g0"]), "g1_hat": col(prob["g1"]),
        "l_hat": np.full(n * reps, np.nan),
    }).to_csv(pred_csv, index=False, float_format="%.17g", na_rep="")
    return data_csv, pred_csv


def doubleml_irm(prob: dict, score: str):
    df = pd.DataFrame(prob["x"], columns=FEATURES)
    df["y"], df["d"] = prob["y"], prob["d"]
    data = dml.DoubleMLData(df, "y", "d", x_cols=FEATURES)
    smpls = [[(np.flatnonzero(prob["folds"][:, r] != f), np.flatnonzero(prob["folds"][:, r] == f))
              for f in range(K)] for r in range(prob["reps"])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obj = dml.DoubleMLIRM(data, ml_g=DMLDummyRegressor(), ml_m=DMLDummyClassifier(), n_folds=K,
                              n_rep=prob["reps"], score=score, draw_sample_splitting=False,
                              ps_processor_config=PSProcessorConfig(clipping_threshold=CLIP))
        obj.set_sample_splitting(smpls)
        obj.fit(external_predictions={"d": {"ml_g0": prob["g0"], "ml_g1": prob["g1"], "ml_m": prob["m"]}})
    return obj


def doubleml_framework(prob: dict):
    """DoubleML's framework over (ATE, ATT): rows of all_thetas in ESTIMANDS order."""
    return dml.concat([doubleml_irm(prob, "ATE").framework, doubleml_irm(prob, "ATTE").framework])


def run_fastdml(cli, directory, inputs, *extra, name="out.json", estimands=ESTIMANDS) -> dict:
    data_csv, pred_csv = inputs
    out = directory / name
    run_cli(cli, ["estimate", "--data", data_csv, "--outcome", "y", "--treatment", "d",
                  "--features", ",".join(FEATURES), "--model", "irm", "--estimand", ",".join(estimands),
                  "--clip", CLIP, "--load-predictions", pred_csv, "--quiet", "--json", out, *extra])
    return read_json(out)


# --- Monte-Carlo error ---------------------------------------------------------------

def quantile_se(q: float, n_draws: int, density: float) -> float:
    """SE of the sample q-quantile of n_draws iid draws (asymptotic, Bahadur):
    sqrt(q (1-q) / B) / f(x_q)."""
    return math.sqrt(q * (1 - q) / n_draws) / density


def kde_density_at_quantile(draws: np.ndarray, q: float) -> float:
    """f(x_q) of max_j |t*_j| from bootstrap draws: Gaussian kernel density (Silverman)."""
    x_q = np.quantile(draws, q)
    return float(gaussian_kde(draws, bw_method="silverman")(x_q)[0])


def proportion_se(p: float, n_draws: int) -> float:
    """SE of a bootstrap p-value mean(crit >= |t|), a binomial proportion; floored at
    1/B so that p near 0 or 1 still gets one replicate of slack."""
    return max(math.sqrt(p * (1 - p) / n_draws), 1.0 / n_draws)


# --- exact law of the Gaussian multiplier bootstrap (k = 2) ----------------------------

def score_correlation(fw, rep: int) -> float:
    psi = fw.scaled_psi[:, :, rep]
    return float(psi[:, 0] @ psi[:, 1] / math.sqrt((psi[:, 0] @ psi[:, 0]) * (psi[:, 1] @ psi[:, 1])))


def max_abs_cdf(c: float, rho: float) -> float:
    """P(max(|Z1|, |Z2|) <= c), (Z1, Z2) standard bivariate normal with correlation rho."""
    s = math.sqrt(1 - rho * rho)
    inner = lambda z: norm.pdf(z) * (norm.cdf((c - rho * z) / s) - norm.cdf((-c - rho * z) / s))  # noqa: E731
    return integrate.quad(inner, -c, c, epsabs=1e-13, epsrel=1e-12)[0]


def exact_normal_reference(rho: float, t_obs: np.ndarray, level: float) -> dict:
    """Critical value, its density and Romano-Wolf p-values under t* ~ N(0, [[1, rho], [rho, 1]])."""
    c = optimize.brentq(lambda v: max_abs_cdf(v, rho) - level, 0.5, 8, xtol=1e-13)
    h = 1e-4
    density = (max_abs_cdf(c + h, rho) - max_abs_cdf(c - h, rho)) / (2 * h)
    a = np.abs(t_obs)
    first = int(np.argmax(a))
    p = np.empty(2)
    p[first] = 1 - max_abs_cdf(a[first], rho)                                    # sup over both
    p[1 - first] = max(p[first], 2 * norm.sf(a[1 - first]))                     # the last one alone
    return dict(crit=c, density=density, rw=p)


# --- shared fixtures ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def problem(tmp_path_factory):
    directory = tmp_path_factory.mktemp("boot")
    prob = make_problem(seed=3, effect=0.2)
    inputs = write_inputs(prob, directory)
    fw = doubleml_framework(prob)
    return dict(prob=prob, dir=directory, inputs=inputs, fw=fw)


def check_same_estimates(out: dict, fw) -> None:
    """fastdml and DoubleML agree on theta and SE per repetition (the bootstrap's inputs)."""
    for i, est in enumerate(ESTIMANDS):
        e = estimate_by_name(out, est)
        assert_close(f"{est} theta_reps", e["theta_reps"], fw.all_thetas[i])
        assert_close(f"{est} se_reps", e["se_reps"], fw.all_ses[i])


def fastdml_boot(cli, problem, method, sampler="auto", b=B_FAST, seed=17, extra=()):
    return run_fastdml(cli, problem["dir"], problem["inputs"], "--bootstrap", b, "--bootstrap-method", method,
                       "--bootstrap-sampler", sampler, "--bootstrap-seed", seed, "--joint",
                       "--p-adjust", "romano-wolf,bonferroni,holm", *extra,
                       name=f"boot_{method}_{sampler}.json")


def check_bootstrap_header(out: dict, method: str, sampler: str, b: int) -> None:
    boot = out.get("bootstrap")
    assert isinstance(boot, dict), f"no 'bootstrap' object in the JSON: keys {sorted(out)}"
    assert boot["replicates"] == b
    assert boot["method"] == method
    want_sampler = {"auto": "exact" if method == "normal" else "loop"}.get(sampler, sampler)
    assert boot["sampler"] == want_sampler, f"sampler {boot['sampler']!r}, expected {want_sampler!r}"
    assert boot["level"] == pytest.approx(LEVEL)
    assert len(boot["joint_critical_values"]) == REPS


def rw_from_fastdml(out: dict) -> np.ndarray:
    return np.array([estimate_by_name(out, e)["p_adjusted"]["romano-wolf"] for e in ESTIMANDS])


# --- (a) critical values and Romano-Wolf p-values --------------------------------------

@pytest.mark.parametrize("sampler", ["exact", "loop"])
def test_normal_matches_exact_gaussian_law(cli, problem, sampler):
    fw = problem["fw"]
    out = fastdml_boot(cli, problem, "normal", sampler)
    check_same_estimates(out, fw)
    check_bootstrap_header(out, "normal", sampler, B_FAST)
    crit = out["bootstrap"]["joint_critical_values"]
    rw_reps = []
    for r in range(REPS):
        ref = exact_normal_reference(score_correlation(fw, r), fw.all_t_stats[:, r], LEVEL)
        tol = Z_TOL * quantile_se(LEVEL, B_FAST, ref["density"])
        assert abs(crit[r] - ref["crit"]) <= tol, (
            f"normal/{sampler} rep {r}: joint critical value {crit[r]:.5f} vs exact {ref['crit']:.5f} "
            f"(tolerance {tol:.4f} = {Z_TOL} MC SE)")
        rw_reps.append(ref["rw"])
    # p_adjust reports the median over repetitions (the mean for two).
    rw_ref = np.median(np.array(rw_reps), axis=0)
    got = rw_from_fastdml(out)
    for j, est in enumerate(ESTIMANDS):
        tol = Z_TOL * max(proportion_se(p[j], B_FAST) for p in rw_reps)
        assert abs(got[j] - rw_ref[j]) <= tol, (
            f"normal/{sampler} {est}: Romano-Wolf p {got[j]:.5f} vs exact {rw_ref[j]:.5f} (tolerance {tol:.5f})")


def test_doubleml_normal_bootstrap_matches_exact_law(problem):
    """The reference law itself: DoubleML's normal bootstrap agrees with it."""
    fw = problem["fw"]
    np.random.seed(101)
    fw.bootstrap(method="normal", n_rep_boot=B_REF)
    max_abs = np.abs(fw.boot_t_stat).max(axis=1)  # (B, reps)
    _, rw_all = fw.p_adjust("romano-wolf")
    for r in range(REPS):
        ref = exact_normal_reference(score_correlation(fw, r), fw.all_t_stats[:, r], LEVEL)
        c = np.quantile(max_abs[:, r], LEVEL)
        assert abs(c - ref["crit"]) <= Z_TOL * quantile_se(LEVEL, B_REF, ref["density"])
        for j in range(2):
            assert abs(rw_all[j, r] - ref["rw"][j]) <= Z_TOL * proportion_se(ref["rw"][j], B_REF)


def _multiplier_draws(method: str, rng, shape) -> np.ndarray:
    if method == "rademacher":
        return rng.integers(0, 2, size=shape, dtype=np.int8).astype(np.float64) * 2 - 1
    # Mammen (1993) two-point law: mean 0, variance 1, third moment 1.
    s5 = math.sqrt(5)
    lo, hi = (1 - s5) / 2, (1 + s5) / 2
    return np.where(rng.random(size=shape) < (s5 + 1) / (2 * s5), lo, hi)


def numpy_bootstrap_t(fw, method: str, b: int, seed: int) -> np.ndarray:
    """t*[b, j, rep] = sum_i W_bi scaled_psi_ij / (n se_j), as DoubleMLFramework.bootstrap."""
    rng = np.random.default_rng(seed)
    n = fw.n_obs
    out = np.empty((b, fw.n_thetas, fw.n_rep))
    for r in range(fw.n_rep):
        w = _multiplier_draws(method, rng, (b, n))
        out[:, :, r] = w @ (fw.scaled_psi[:, :, r] / (fw.var_scaling_factors * fw.all_ses[:, r]))
    return out


def romano_wolf_numpy(t_boot_rep: np.ndarray, t_obs: np.ndarray) -> np.ndarray:
    """DoubleML's p_adjust('romano-wolf') step-down for one repetition (k = 2)."""
    a = np.abs(t_obs)
    order = np.argsort(a)[::-1]
    p_init = [np.mean(np.abs(t_boot_rep).max(axis=1) >= a[order[0]]),
              np.mean(np.abs(t_boot_rep[:, order[1]]) >= a[order[1]])]
    p = np.empty(2)
    p[order[0]] = p_init[0]
    p[order[1]] = max(p_init)
    return p


@pytest.mark.parametrize("method", ["wild", "bayes", "rademacher", "mammen"])
def test_multiplier_bootstrap_matches_reference(cli, problem, method):
    fw = problem["fw"]
    if method in ("wild", "bayes"):
        np.random.seed(202)
        fw.bootstrap(method={"wild": "wild", "bayes": "Bayes"}[method], n_rep_boot=B_REF)
        t_ref = fw.boot_t_stat
        source = "DoubleML"
    else:
        t_ref = numpy_bootstrap_t(fw, method, B_REF, seed=303)
        source = "numpy"
    out = fastdml_boot(cli, problem, method, "auto")
    check_same_estimates(out, fw)
    check_bootstrap_header(out, method, "auto", B_FAST)
    crit = out["bootstrap"]["joint_critical_values"]
    max_abs = np.abs(t_ref).max(axis=1)
    rw_reps = []
    for r in range(REPS):
        c_ref = np.quantile(max_abs[:, r], LEVEL)
        f = kde_density_at_quantile(max_abs[:, r], LEVEL)
        tol = Z_TOL * math.hypot(quantile_se(LEVEL, B_REF, f), quantile_se(LEVEL, B_FAST, f))
        assert abs(crit[r] - c_ref) <= tol, (
            f"{method} rep {r}: fastdml joint critical value {crit[r]:.5f} vs {source} {c_ref:.5f} "
            f"(tolerance {tol:.4f})")
        rw_reps.append(romano_wolf_numpy(t_ref[:, :, r], fw.all_t_stats[:, r]))
    rw_ref = np.median(np.array(rw_reps), axis=0)
    got = rw_from_fastdml(out)
    for j, est in enumerate(ESTIMANDS):
        tol = Z_TOL * max(math.hypot(proportion_se(p[j], B_REF), proportion_se(p[j], B_FAST)) for p in rw_reps)
        assert abs(got[j] - rw_ref[j]) <= tol, (
            f"{method} {est}: fastdml Romano-Wolf p {got[j]:.5f} vs {source} {rw_ref[j]:.5f} (tolerance {tol:.5f})")
    if method in ("wild", "bayes"):
        # DoubleML's own p_adjust on the same draws equals our transcription of it.
        _, rw_all = fw.p_adjust("romano-wolf")
        np.testing.assert_allclose(np.median(rw_all, axis=1), rw_ref, rtol=0, atol=1e-15)
        # and its joint band is fastdml's within the critical values' tolerance times the SE
        ci = fw.confint(joint=True, level=LEVEL).to_numpy()
        f = kde_density_at_quantile(max_abs[:, 0], LEVEL)
        tol_c = Z_TOL * math.hypot(quantile_se(LEVEL, B_REF, f), quantile_se(LEVEL, B_FAST, f))
        for j, est in enumerate(ESTIMANDS):
            e = estimate_by_name(out, est)
            tol = tol_c * fw.all_ses[j].max()
            assert abs(e["joint_ci_lower"] - ci[j, 0]) <= tol and abs(e["joint_ci_upper"] - ci[j, 1]) <= tol, (
                f"{method} {est}: joint band [{e['joint_ci_lower']:.5f}, {e['joint_ci_upper']:.5f}] vs DoubleML "
                f"[{ci[j, 0]:.5f}, {ci[j, 1]:.5f}] (tolerance {tol:.5f})")


def test_joint_band_is_median_of_per_rep_bands(cli, problem):
    """joint_ci = median_r(theta_r -/+ c_r se_r), as DoubleML's confint(joint=True)."""
    out = fastdml_boot(cli, problem, "rademacher", "loop", b=2000)
    crit = np.array(out["bootstrap"]["joint_critical_values"])
    for est in ESTIMANDS:
        e = estimate_by_name(out, est)
        th, se = np.array(e["theta_reps"]), np.array(e["se_reps"])
        assert_close(f"{est} joint_ci_lower", e["joint_ci_lower"], np.median(th - crit * se), rtol=1e-12)
        assert_close(f"{est} joint_ci_upper", e["joint_ci_upper"], np.median(th + crit * se), rtol=1e-12)


# --- (b) Bonferroni and Holm ---------------------------------------------------------------

@pytest.mark.parametrize("effect,reps", [(0.0, 1), (0.15, 1), (0.2, 3), (0.0, 3)])
def test_bonferroni_holm_equal_statsmodels(cli, tmp_path, effect, reps):
    prob = make_problem(seed=41 + reps, effect=effect, reps=reps)
    out = run_fastdml(cli, tmp_path, write_inputs(prob, tmp_path), "--p-adjust", "bonferroni,holm")
    theta = np.array([estimate_by_name(out, e)["theta_reps"] for e in ESTIMANDS])  # (k, reps)
    se = np.array([estimate_by_name(out, e)["se_reps"] for e in ESTIMANDS])
    p = 2 * norm.sf(np.abs(theta / se))  # fastdml's own unadjusted p-values per repetition
    for method in ("bonferroni", "holm"):
        want = np.median(np.column_stack([multipletests(p[:, r], method=method)[1] for r in range(reps)]), axis=1)
        got = np.array([estimate_by_name(out, e)["p_adjusted"][method] for e in ESTIMANDS])
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300,
                                   err_msg=f"{method}, effect {effect}, reps {reps}; raw p {p.tolist()}")
    if reps == 1:
        # and they are the p_value column adjusted (one repetition: no aggregation)
        raw = np.array([estimate_by_name(out, e)["p_value"] for e in ESTIMANDS])
        np.testing.assert_allclose(
            [estimate_by_name(out, e)["p_adjusted"]["holm"] for e in ESTIMANDS],
            multipletests(raw, method="holm")[1], rtol=1e-12)
    # DoubleML's p_adjust on the same fits (its p = 2 (1 - Phi(|t|)) loses digits below 1e-10)
    fw = doubleml_framework(prob)
    for method in ("bonferroni", "holm"):
        want, _ = fw.p_adjust(method)
        got = np.array([estimate_by_name(out, e)["p_adjusted"][method] for e in ESTIMANDS])
        np.testing.assert_allclose(got, want["pval"].to_numpy(), rtol=1e-9, atol=1e-14)


def test_bonferroni_holm_clip_and_running_max(cli, tmp_path):
    """Null effect: p-values large enough that Bonferroni clips at 1 and Holm's running max binds."""
    seen_clip = seen_max = False
    for seed in range(60, 80):
        prob = make_problem(seed=seed, effect=0.0, reps=1)
        out = run_fastdml(cli, tmp_path, write_inputs(prob, tmp_path), "--p-adjust", "bonferroni,holm")
        p = np.array([estimate_by_name(out, e)["p_value"] for e in ESTIMANDS])
        bonf = np.array([estimate_by_name(out, e)["p_adjusted"]["bonferroni"] for e in ESTIMANDS])
        holm = np.array([estimate_by_name(out, e)["p_adjusted"]["holm"] for e in ESTIMANDS])
        np.testing.assert_allclose(bonf, multipletests(p, method="bonferroni")[1], rtol=1e-12)
        np.testing.assert_allclose(holm, multipletests(p, method="holm")[1], rtol=1e-12)
        assert np.all(holm <= bonf) and np.all(holm >= p) and np.all(bonf <= 1)
        seen_clip |= bool(np.any(bonf == 1.0))
        seen_max |= bool(2 * p.min() > p.max())  # the larger p is raised to 2 p_min
        if seen_clip and seen_max:
            break
    assert seen_clip and seen_max, "no seed exercised Bonferroni's clip and Holm's running max"


# --- (c) joint band contains the pointwise CI ------------------------------------------------

@pytest.mark.parametrize("level", [0.95, 0.9])
def test_joint_band_contains_pointwise_ci(cli, problem, level):
    out = run_fastdml(cli, problem["dir"], problem["inputs"], "--bootstrap", 5000, "--joint", "--level", level,
                      "--bootstrap-method", "wild", name=f"level{level}.json")
    z = norm.ppf(1 - (1 - level) / 2)
    crit = np.array(out["bootstrap"]["joint_critical_values"])
    assert out["bootstrap"]["level"] == pytest.approx(level)
    assert np.all(crit >= z), f"joint critical values {crit} below the pointwise z = {z:.4f}"
    for est in ESTIMANDS:
        e = estimate_by_name(out, est)
        assert e["joint_ci_lower"] <= e["ci_lower"] and e["joint_ci_upper"] >= e["ci_upper"], (
            f"{est}: joint band [{e['joint_ci_lower']}, {e['joint_ci_upper']}] does not contain the "
            f"pointwise CI [{e['ci_lower']}, {e['ci_upper']}]")


def test_one_estimand_critical_value_is_pointwise_z(cli, problem):
    """k = 1: max |t*| = |t*| ~ N(0, 1) exactly under normal multipliers, so c = z(level)."""
    out = run_fastdml(cli, problem["dir"], problem["inputs"], "--bootstrap", B_FAST, "--joint",
                      name="one.json", estimands=("ate",))
    z = norm.ppf(0.975)
    tol = Z_TOL * quantile_se(LEVEL, B_FAST, 2 * norm.pdf(z))
    for c in out["bootstrap"]["joint_critical_values"]:
        assert abs(c - z) <= tol, f"k = 1 critical value {c:.5f} vs z {z:.5f} (tolerance {tol:.4f})"


# --- (d) reproducibility -------------------------------------------------------------------

def _boot_fields(out: dict) -> dict:
    return dict(bootstrap=out["bootstrap"],
                estimates={e["estimand"]: (e["joint_ci_lower"], e["joint_ci_upper"], e["p_adjusted"])
                           for e in out["estimates"]})


@pytest.mark.parametrize("method,sampler", [("normal", "exact"), ("normal", "loop"), ("mammen", "loop"),
                                            ("bayes", "loop")])
def test_same_seed_same_bootstrap_any_threads(cli, problem, method, sampler):
    runs = []
    for threads in (1, 2, 2):
        out = run_fastdml(cli, problem["dir"], problem["inputs"], "--bootstrap", 3000, "--bootstrap-method", method,
                          "--bootstrap-sampler", sampler, "--seed", 5, "--threads", threads, "--joint",
                          "--p-adjust", "romano-wolf,holm", name=f"threads{threads}.json")
        runs.append(_boot_fields(out))
    assert runs[0] == runs[1] == runs[2], f"{method}/{sampler}: bootstrap output depends on the thread count"
    assert runs[0]["bootstrap"]["seed"] == 5, "the bootstrap seed defaults to --seed"
    other = run_fastdml(cli, problem["dir"], problem["inputs"], "--bootstrap", 3000, "--bootstrap-method", method,
                        "--bootstrap-sampler", sampler, "--seed", 5, "--bootstrap-seed", 6, "--joint",
                        name="seed6.json")
    assert other["bootstrap"]["seed"] == 6
    assert other["bootstrap"]["joint_critical_values"] != runs[0]["bootstrap"]["joint_critical_values"]


# --- usage errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["--joint"],                                    # needs --bootstrap
    ["--p-adjust", "romano-wolf"],                  # needs --bootstrap
    ["--bootstrap", 100, "--bootstrap-method", "poisson"],
    ["--bootstrap", 100, "--bootstrap-sampler", "fast"],
    ["--bootstrap", 100, "--p-adjust", "hochberg"],
    ["--bootstrap", -5],
])
def test_bootstrap_usage_errors_exit_2(cli, problem, args):
    data_csv, pred_csv = problem["inputs"]
    proc = run_cli(cli, ["estimate", "--data", data_csv, "--outcome", "y", "--treatment", "d",
                         "--features", ",".join(FEATURES), "--estimand", "ate,att",
                         "--load-predictions", pred_csv, "--quiet", *args], check=False)
    assert proc.returncode == 2, f"{args}: exit {proc.returncode}, stderr {proc.stderr[-500:]}"


# --- clusters: one multiplier per cluster ------------------------------------------------------

def _has_cluster_option(cli) -> bool:
    proc = run_cli(cli, ["estimate", "--help"], check=False)
    return "--cluster" in proc.stdout


@pytest.mark.parametrize("method,sampler", [("rademacher", "loop"), ("normal", "exact"), ("normal", "loop"),
                                            ("bayes", "loop")])
def test_cluster_bootstrap_matches_numpy(cli, tmp_path, method, sampler):
    """With --cluster, t*_bj = sum_c W_bc S_cj / (n J_j se_j), S_cj the cluster sums of psi_j
    (docs/design.md section 2; DoubleML has no clustered bootstrap). The reference uses
    fastdml's own (cluster-robust) SEs and DoubleML's unclustered scores (the same psi)."""
    if not _has_cluster_option(cli):
        pytest.skip("this fastdml has no --cluster option")
    n_clusters = 60
    prob = make_problem(seed=7, effect=0.2, reps=1, n_clusters=n_clusters)
    out = run_fastdml(cli, tmp_path, write_inputs(prob, tmp_path), "--cluster", "cl", "--bootstrap", B_FAST,
                      "--bootstrap-method", method, "--bootstrap-sampler", sampler, "--joint")
    assert out["bootstrap"]["sampler"] == sampler
    fw = doubleml_framework(prob)
    se = np.array([estimate_by_name(out, e)["se_reps"][0] for e in ESTIMANDS])
    sums = np.zeros((n_clusters, 2))
    np.add.at(sums, prob["cluster"], fw.scaled_psi[:, :, 0])
    rng = np.random.default_rng(404)
    shape = (B_REF, n_clusters)
    w = {"rademacher": lambda: rng.integers(0, 2, size=shape).astype(float) * 2 - 1,
         "normal": lambda: rng.normal(size=shape),
         "bayes": lambda: rng.exponential(size=shape) - 1}[method]()
    t_ref = w @ (sums / (fw.n_obs * se))
    max_abs = np.abs(t_ref).max(axis=1)
    c_ref = np.quantile(max_abs, LEVEL)
    f = kde_density_at_quantile(max_abs, LEVEL)
    tol = Z_TOL * math.hypot(quantile_se(LEVEL, B_REF, f), quantile_se(LEVEL, B_FAST, f))
    c = out["bootstrap"]["joint_critical_values"][0]
    assert abs(c - c_ref) <= tol, (
        f"clustered {method}/{sampler}: joint critical value {c:.5f} vs numpy {c_ref:.5f} (tolerance {tol:.4f})")
