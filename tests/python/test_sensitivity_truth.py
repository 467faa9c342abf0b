"""Known truth: the sensitivity bounds at a hidden confounder's true strength cover the true effect.

A linear partially linear design with a confounder U the model never sees
(X ~ N(0, I_3), U ~ N(0, 1) independent of X):
    D = X a + delta U + V,          V ~ N(0, sd_v^2)
    Y = theta D + X b + gamma U + e, e ~ N(0, sd_e^2)
Omitting U, the short PLR estimand is theta_s = theta + gamma delta / (delta^2 + sd_v^2),
and U's strength in DoubleML's parametrisation (fastdml/sensitivity.h) is
    cf_d = 1 - nu2_short / nu2_long = delta^2 / (delta^2 + sd_v^2),
    cf_y = (sigma2_short - sigma2_long) / sigma2_short,
    sigma2_long = sd_e^2, sigma2_short = gamma^2 sd_v^2 / (delta^2 + sd_v^2) + sd_e^2.
Here |rho| = 1 (one confounder, linear), so the population bound is exactly
theta_s - theta: the one-sided 95% confidence bounds at (cf_y, cf_d, rho = 1)
contain theta with probability of about 95% or more (estimated nuisances only
widen them). Over SEEDS data sets at least MIN_COVERED must contain theta
(P(at most 7 of 10) < 0.012 at 95%); the plain confidence interval, which
ignores U, must miss theta in every one; and bounds at a quarter of U's
strength must miss it in most, so the check can fail.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from conftest import read_json, run_cli

THETA, DELTA, SD_V, GAMMA, SD_E = 0.5, 0.5, 1.0, 1.0, 1.0
A = np.array([0.8, -0.5, 0.3])
B = np.array([1.0, 0.5, -0.7])
N, SEEDS, MIN_COVERED = 2000, 10, 8


def true_strength():
    cf_d = DELTA**2 / (DELTA**2 + SD_V**2)
    sigma2_short = GAMMA**2 * SD_V**2 / (DELTA**2 + SD_V**2) + SD_E**2
    cf_y = (sigma2_short - SD_E**2) / sigma2_short
    bias = GAMMA * DELTA / (DELTA**2 + SD_V**2)
    # the population bound |rho| C_y C_d S equals the bias (|rho| = 1)
    s = np.sqrt(sigma2_short / (DELTA**2 + SD_V**2))
    assert abs(np.sqrt(cf_y * cf_d / (1 - cf_d)) * s - bias) < 1e-12
    return cf_y, cf_d, bias


def simulate(seed, path):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, 3))
    u = rng.normal(size=N)
    d = x @ A + DELTA * u + rng.normal(scale=SD_V, size=N)
    y = THETA * d + x @ B + GAMMA * u + rng.normal(scale=SD_E, size=N)
    pd.DataFrame({"y": y, "d": d, "x0": x[:, 0], "x1": x[:, 1], "x2": x[:, 2]}).to_csv(path, index=False)


def test_bounds_at_the_true_strength_cover_theta(cli, tmp_path):
    cf_y, cf_d, bias = true_strength()
    covered = plain_missed = weak_missed = 0
    for seed in range(SEEDS):
        data = tmp_path / f"d{seed}.csv"
        out_json = tmp_path / f"o{seed}.json"
        simulate(seed, data)
        run_cli(cli, ["estimate", "--data", data, "--outcome", "y", "--treatment", "d", "--features", "x0,x1,x2",
                      "--model", "plr", "--seed", seed, "--threads", 2, "--quiet", "--json", out_json,
                      "--sensitivity", f"cf_y={cf_y!r},cf_d={cf_d!r},rho=1.0",
                      "--sensitivity", f"cf_y={cf_y / 4!r},cf_d={cf_d / 4!r},rho=1.0"])
        out = read_json(out_json)
        est = out["estimates"][0]
        full, weak = out["sensitivity"]
        covered += full["ci_lower"] <= THETA <= full["ci_upper"]
        plain_missed += not (est["ci_lower"] <= THETA <= est["ci_upper"])
        weak_missed += not (weak["ci_lower"] <= THETA <= weak["ci_upper"])
        assert abs(est["estimate"] - (THETA + bias)) < 5 * est["se"] + 0.05, "the short estimate targets theta_s"
    assert covered >= MIN_COVERED, f"bounds at the true strength covered theta in {covered}/{SEEDS}"
    assert plain_missed == SEEDS, f"the plain CI covered theta in {SEEDS - plain_missed}/{SEEDS}"
    assert weak_missed >= SEEDS - 2, f"bounds at a quarter of the strength covered theta in {SEEDS - weak_missed}"
