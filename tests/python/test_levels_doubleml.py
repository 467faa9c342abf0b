"""Multi-valued treatments against DoubleML 0.11.4: given fastdml's own
out-of-fold predictions and folds (`--save-predictions`, one cell per level),
DoubleMLAPOS gives the same average potential outcomes and causal_contrast the
same ATE contrasts, theta and SE to 1e-9. The ATT contrast has no DoubleML
counterpart: with two levels it must equal the binary IRM's ATT on the same
predictions, and on a simulated design with a known truth it must cover it.
Also: automatic detection, --reference-level, and the errors."""
from __future__ import annotations

import warnings

import doubleml as dml
import numpy as np
import pandas as pd
import pytest
from doubleml.utils import DMLDummyClassifier, DMLDummyRegressor, PSProcessorConfig

from conftest import read_json, run_cli

LEARNER = ["--rounds", "20", "--max-depth", "3"]
FEATURES = [f"x{k}" for k in range(1, 6)]
TOL = 1e-9


def simulate(n=2000, seed=1, levels=(0, 1, 2)):
    """y = x1 + sin(x2) + tau(d) + noise; d drawn from a softmax in x1, x2:
    APO(v) = tau(v), so APO(0) = 0, APO(1) = 1, APO(2) = 2 (x3 averages 0)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    logits = np.stack([np.zeros(n), 0.5 * x[:, 0], 0.3 - 0.5 * x[:, 1]], 1)[:, : len(levels)]
    p = np.exp(logits)
    p /= p.sum(1, keepdims=True)
    index = (rng.random(n)[:, None] > np.cumsum(p, 1)).sum(1)
    d = np.asarray(levels)[index]
    y = x[:, 0] + np.sin(x[:, 1]) + index + (index == 2) * 0.5 * x[:, 2] + rng.normal(size=n)
    df = pd.DataFrame(x, columns=FEATURES)
    df["y"], df["d"] = y, d
    return df


def run_levels(cli, tmp_path, df, *extra, name="mv"):
    data, out, preds = tmp_path / f"{name}.csv", tmp_path / f"{name}.json", tmp_path / f"{name}_p.csv"
    df.to_csv(data, index=False, float_format="%.17g")
    run_cli(cli, ["estimate", "--data", data, "--outcome", "y", "--treatment", "d", "--features", ",".join(FEATURES),
                  *LEARNER, "--quiet", "--no-timings", "--json", out, "--save-predictions", preds, *extra])
    return read_json(out), pd.read_csv(preds)


def by_level(preds, levels, column, reps):
    """{level: (n, reps) array of `column`} from the predictions file."""
    out = {}
    for v in levels:
        cell = preds[preds.treatment == f"d={v}"].sort_values(["rep", "row"])
        out[v] = cell[column].to_numpy().reshape(reps, -1).T
    return out


def doubleml_apos(df, preds, levels, reps, clip, normalize):
    data = dml.DoubleMLData(df, "y", "d", x_cols=FEATURES)
    folds = by_level(preds, levels, "fold", reps)[levels[0]].astype(int)
    k = folds.max() + 1
    smpls = [[(np.flatnonzero(folds[:, r] != f), np.flatnonzero(folds[:, r] == f)) for f in range(k)]
             for r in range(reps)]
    m, g1 = by_level(preds, levels, "m_hat", reps), by_level(preds, levels, "g1_hat", reps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obj = dml.DoubleMLAPOS(data, ml_g=DMLDummyRegressor(), ml_m=DMLDummyClassifier(), treatment_levels=list(levels),
                               n_folds=k, n_rep=reps, normalize_ipw=normalize, draw_sample_splitting=False,
                               ps_processor_config=PSProcessorConfig(clipping_threshold=clip))
        obj.set_sample_splitting(smpls)
        # g for the other levels only enters DoubleML's sensitivity analysis: give it g1 to skip a fit.
        obj.fit(external_predictions={v: {"ml_g_d_lvl1": g1[v], "ml_g_d_lvl0": g1[v], "ml_m": m[v]} for v in levels})
    return obj


def entry(doc, name):
    found = [e for e in doc["estimates"] if e["estimand"] == name]
    assert len(found) == 1, name
    return found[0]


@pytest.mark.parametrize("extra, clip, normalize, reps", [
    ([], 0.01, False, 1),
    (["--clip", "0.05", "--normalize-ipw", "--reps", "2"], 0.05, True, 2),
])
def test_apos_and_ate_contrasts_equal_doublemls_given_the_same_predictions(cli, tmp_path, extra, clip, normalize,
                                                                           reps):
    df = simulate()
    doc, preds = run_levels(cli, tmp_path, df, *extra)
    levels = [0, 1, 2]
    assert doc["treatment_levels"]["levels"] == levels and doc["treatment_levels"]["automatic"]
    obj = doubleml_apos(df, preds, levels, reps, clip, normalize)
    for i, v in enumerate(levels):
        got = entry(doc, f"apo:{v}")
        np.testing.assert_allclose(got["theta_reps"], obj.framework.all_thetas[i], rtol=TOL, atol=TOL)
        np.testing.assert_allclose(got["se_reps"], obj.framework.all_ses[i], rtol=TOL, atol=TOL)
        assert got["estimate"] == pytest.approx(obj.coef[i], rel=TOL, abs=TOL)
        assert got["se"] == pytest.approx(obj.se[i], rel=TOL, abs=TOL)
    contrasts = obj.causal_contrast(reference_levels=0)
    for i, v in enumerate([1, 2]):
        got = entry(doc, f"ate:{v} vs 0")
        np.testing.assert_allclose(got["theta_reps"], contrasts.all_thetas[i], rtol=TOL, atol=TOL)
        np.testing.assert_allclose(got["se_reps"], contrasts.all_ses[i], rtol=TOL, atol=TOL)


def test_with_two_levels_the_att_contrast_is_the_binary_att(cli, tmp_path):
    """--treatment-levels on a 0/1 treatment: the ATT of 1 vs 0 from the
    level-1 and level-0 propensities equals the binary IRM's ATT computed from
    m = m_1 when m_0 = 1 - m_1; here m_0 and m_1 are fitted separately, so the
    check feeds the binary score the level propensities through a predictions
    file and compares."""
    df = simulate(levels=(0, 1))
    doc, preds = run_levels(cli, tmp_path, df, "--treatment-levels")
    assert not doc["treatment_levels"]["automatic"]
    m1 = by_level(preds, [1], "m_hat", 1)[1][:, 0]
    m0 = by_level(preds, [0], "m_hat", 1)[0][:, 0]
    g0 = by_level(preds, [0], "g1_hat", 1)[0][:, 0]
    clip = 0.01
    m1c, m0c = np.clip(m1, clip, 1 - clip), np.clip(m0, clip, 1 - clip)
    d, y = df["d"].to_numpy(), df["y"].to_numpy()
    p = d.mean()
    psi_a = -d / p
    psi_b = d * (y - g0) / p - m1c * (1 - d) * (y - g0) / (p * m0c)
    theta = -psi_b.sum() / psi_a.sum()
    psi = theta * psi_a + psi_b
    se = np.sqrt(np.mean(psi ** 2) / np.mean(psi_a) ** 2 / len(y))
    got = entry(doc, "att:1 vs 0")
    assert got["estimate"] == pytest.approx(theta, rel=1e-12)
    assert got["se"] == pytest.approx(se, rel=1e-12)
    # With m_0 = 1 - m_1 this is the binary ATT score exactly (ops/scores.h):
    # D (Y - g0) / p - m (1 - D)(Y - g0) / (p (1 - m)).
    binary_b = d * (y - g0) / p - m1c * (1 - d) * (y - g0) / (p * (1 - m1c))
    assert np.allclose(psi_b[np.isclose(m0c, 1 - m1c)], binary_b[np.isclose(m0c, 1 - m1c)])


def test_known_truth_is_covered_and_the_reference_level_moves(cli, tmp_path):
    df = simulate(n=4000, seed=3)
    doc, _ = run_levels(cli, tmp_path, df, "--reference-level", "1")
    truth = {"apo:0": 0.0, "apo:1": 1.0, "apo:2": 2.0, "ate:0 vs 1": -1.0, "ate:2 vs 1": 1.0}
    for name, value in truth.items():
        e = entry(doc, name)
        # Within 4 standard errors (a fixed seed; |z| > 4 has probability 6e-5).
        assert abs(e["estimate"] - value) < 4 * e["se"], (name, e["estimate"], e["se"])
    assert doc["treatment_levels"]["reference"] == 1
    assert [b["treatment"] for b in doc["treatment_levels"]["by_level"]] == ["d=0", "d=1", "d=2"]


@pytest.mark.parametrize("args, message", [
    (["--reference-level", "7"], "--reference-level 7 is not a level of 'd' (its levels: 0, 1, 2)"),
    (["--model", "plr", "--treatment-levels"], "--treatment-levels needs --model irm"),
    (["--cate-by", "x1:quartiles"], "takes a binary treatment; 'd' is estimated as a multi-valued treatment"),
])
def test_level_usage_errors(cli, tmp_path, args, message):
    data = tmp_path / "mv.csv"
    simulate(n=300).to_csv(data, index=False)
    proc = run_cli(cli, ["estimate", "--data", data, "--outcome", "y", "--treatment", "d", *LEARNER, *args],
                   check=False)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr


def test_a_binary_treatment_with_reference_level_is_a_usage_error(cli, tmp_path):
    data = tmp_path / "b.csv"
    simulate(n=300, levels=(0, 1)).to_csv(data, index=False)
    proc = run_cli(cli, ["estimate", "--data", data, "--outcome", "y", "--treatment", "d", *LEARNER,
                         "--reference-level", "0"], check=False)
    assert proc.returncode == 2 and "--reference-level applies to a multi-valued treatment" in proc.stderr


def test_a_fractional_treatment_still_needs_plr(cli, tmp_path):
    df = simulate(n=300)
    df["d"] = df["d"] * 0.5
    data = tmp_path / "f.csv"
    df.to_csv(data, index=False)
    proc = run_cli(cli, ["estimate", "--data", data, "--outcome", "y", "--treatment", "d", *LEARNER], check=False)
    assert proc.returncode != 0 and "must be 0 or 1 (a continuous treatment needs --model plr)" in proc.stderr
