"""Shared helpers for the Python end-to-end tests of the fastdml CLI.

The CLI binary comes from $FASTDML_CLI (ctest sets it); without it we fall back
to <repo>/build/fastdml and skip the tests that need it when it is absent.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CLI = REPO / "build" / "fastdml"

# Relative tolerance for agreement with DoubleML given identical predictions.
RTOL = 1e-9


def cli_path() -> Path | None:
    env = os.environ.get("FASTDML_CLI")
    path = Path(env) if env else DEFAULT_CLI
    if path.is_file() and os.access(path, os.X_OK):
        return path
    return None


def _skip_reason() -> str:
    env = os.environ.get("FASTDML_CLI")
    if env:
        return f"fastdml CLI not found at FASTDML_CLI={env}"
    return f"fastdml CLI not built (FASTDML_CLI unset and {DEFAULT_CLI} missing)"


@pytest.fixture(scope="session")
def cli() -> Path:
    path = cli_path()
    if path is None:
        pytest.skip(_skip_reason())
    return path


def run_cli(cli: Path, args, *, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    """Runs `fastdml ARGS`; with check=True a non-zero exit fails the test with stderr shown."""
    cmd = [str(cli)] + [str(a) for a in args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(
            f"fastdml exited with {proc.returncode}\ncommand: {' '.join(cmd)}\n"
            f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
        )
    return proc


def read_json(path) -> dict:
    with open(path) as f:
        return json.load(f)


def estimate_by_name(result: dict, estimand: str) -> dict:
    """The entry of result['estimates'] for `estimand` ('ate' or 'att')."""
    found = [e for e in result["estimates"] if e["estimand"] == estimand]
    assert len(found) == 1, f"expected one '{estimand}' estimate in {[e['estimand'] for e in result['estimates']]}"
    return found[0]


def rel_diff(a, b) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-300)


def assert_close(name: str, got, want, rtol: float = RTOL) -> None:
    got = np.atleast_1d(np.asarray(got, dtype=float))
    want = np.atleast_1d(np.asarray(want, dtype=float))
    assert got.shape == want.shape, f"{name}: shape {got.shape} (fastdml) vs {want.shape} (DoubleML)"
    rd = rel_diff(got, want)
    assert np.all(rd <= rtol), (
        f"{name}: fastdml {np.array2string(got, precision=17)} vs DoubleML "
        f"{np.array2string(want, precision=17)}; relative difference {rd.max():.3e} > {rtol:g}"
    )


# --- simulated data from `fastdml simulate` --------------------------------------------

def sim_columns(csv_path, truth: dict) -> tuple[str, str, list[str]]:
    """(outcome, treatment, features) of a `fastdml simulate` CSV.

    Outcome and treatment come from the truth JSON ("outcome", "treatment"),
    falling back to y and d. Features: every other column except the cluster id
    named by the truth JSON ("cluster", e.g. seller_id).
    """
    header = list(pd.read_csv(csv_path, nrows=0).columns)

    def pick(key, fallback):
        v = truth.get(key)
        name = v if isinstance(v, str) and v in header else fallback
        assert name in header, f"no {key} column '{name}' in header {header}"
        return name

    outcome = pick("outcome", "y")
    treatment = pick("treatment", "d")
    skip = {outcome, treatment}
    if isinstance(truth.get("cluster"), str):
        skip.add(truth["cluster"])
    return outcome, treatment, [c for c in header if c not in skip]


def pytest_configure(config):
    # DoubleML 0.11.4 calls DataFrame.set_index(inplace=True), which new pandas flags.
    config.addinivalue_line("filterwarnings", "ignore:The inplace keyword:Warning")


def assert_matches_doubleml(ours: dict, ref, label: str, level: float = 0.95) -> None:
    """Asserts fastdml's JSON estimate `ours` equals the DoubleML object `ref`:
    theta and se per repetition and aggregated, t, CI and p. With several
    repetitions DoubleML's model objects report the median of the
    per-repetition CI bounds, and p from the aggregated t; fastdml too."""
    want_theta = float(ref.coef[0])
    want_se = float(ref.se[0])
    assert_close(f"{label} theta_reps", ours["theta_reps"], ref.all_coef[0, :])
    assert_close(f"{label} se_reps", ours["se_reps"], ref.all_se[0, :])
    assert_close(f"{label} estimate", ours["estimate"], want_theta)
    assert_close(f"{label} se", ours["se"], want_se)
    assert_close(f"{label} t", ours["t"], want_theta / want_se)
    ci = ref.confint(level=level).to_numpy()[0]
    assert_close(f"{label} ci_lower", ours["ci_lower"], ci[0])
    assert_close(f"{label} ci_upper", ours["ci_upper"], ci[1])
    want_p = float(ref.pval[0])
    assert abs(ours["p_value"] - want_p) <= RTOL * max(want_p, 1e-6), (
        f"{label} p_value: fastdml {ours['p_value']!r} vs DoubleML {want_p!r}")
