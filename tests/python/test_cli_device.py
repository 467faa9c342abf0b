"""`--device` end to end through the command line.

Everywhere: `auto` runs and reports the device it resolved to; `cuda` without
a usable GPU (no GPU, a CPU-only build, or a CPU-only libxgboost) exits 4 and
says which part is missing. On a machine with a usable GPU (these skip
elsewhere, with the reason): `cuda` and `cpu` agree on the seller design
within one CPU standard error (XGBoost's GPU hist grows other trees than its
CPU hist; tests/cuda/fit_cuda_test.cc measures that spread), the same seed
gives identical JSON estimates on the GPU twice, and GATE by category plus a
Rademacher bootstrap run on the GPU with bands that agree with the CPU's.
"""
from __future__ import annotations

import json

import pytest

from conftest import estimate_by_name, read_json, run_cli, sim_columns

LEARNER = ["--rounds", 40, "--max-depth", 4, "--eta", 0.1]


@pytest.fixture(scope="module")
def seller(cli, tmp_path_factory):
    d = tmp_path_factory.mktemp("device")
    csv = d / "seller.csv"
    run_cli(cli, ["simulate", "--design", "seller", "--n", 4000, "--p", 8, "--seed", 4, "--out", csv])
    truth = read_json(d / "seller.truth.json")
    outcome, treatment, features = sim_columns(csv, truth)
    base = ["estimate", "--data", csv, "--outcome", outcome, "--treatment", treatment,
            "--features", ",".join(features), "--folds", 3, "--seed", 8, *LEARNER, "--quiet"]
    return d, base


def _run(cli, seller, device, name, extra=(), check=True):
    d, base = seller
    out = d / f"{name}.json"
    proc = run_cli(cli, [*base, "--device", device, "--json", out, *extra], check=check)
    return proc, (read_json(out) if proc.returncode == 0 else None)


@pytest.fixture(scope="module")
def auto_device(cli, seller):
    _, res = _run(cli, seller, "auto", "auto")
    return res["options"]["device"]


def test_auto_reports_the_device_it_ran_on(auto_device):
    assert auto_device == "cpu" or auto_device.startswith("cuda"), auto_device


def test_cuda_without_a_usable_gpu_exits_4_and_says_why(cli, seller, auto_device):
    if auto_device != "cpu":
        pytest.skip("a GPU is usable here")
    proc, _ = _run(cli, seller, "cuda", "cuda_refused", check=False)
    assert proc.returncode == 4, f"exit {proc.returncode}, stderr: {proc.stderr}"
    assert "--device cuda" in proc.stderr and "CUDA is not usable" in proc.stderr, proc.stderr


def _need_gpu(auto_device):
    if auto_device == "cpu":
        pytest.skip("no usable GPU here (`--device auto` resolved to the CPU)")


def test_cuda_and_cpu_agree_within_one_standard_error(cli, seller, auto_device):
    _need_gpu(auto_device)
    _, cpu = _run(cli, seller, "cpu", "cpu")
    _, gpu = _run(cli, seller, "cuda", "gpu")
    assert gpu["options"]["device"].startswith("cuda")
    for estimand in ("ate", "att"):
        c, g = estimate_by_name(cpu, estimand), estimate_by_name(gpu, estimand)
        assert abs(c["estimate"] - g["estimate"]) < c["se"], (estimand, c, g)
        assert abs(c["se"] - g["se"]) < 0.25 * c["se"], (estimand, c, g)


def test_same_seed_same_estimates_on_the_gpu(cli, seller, auto_device):
    _need_gpu(auto_device)
    runs = [_run(cli, seller, "cuda", f"gpu_repeat{i}")[1] for i in range(2)]
    a, b = (json.dumps(r["estimates"], sort_keys=True) for r in runs)
    assert a == b, f"two GPU fits with one seed differ:\n{a}\n{b}"


def test_gate_and_bootstrap_on_the_gpu_agree_with_the_cpu(cli, seller, auto_device):
    _need_gpu(auto_device)
    extra = ["--cate-by", "category", "--bootstrap", 2000, "--bootstrap-method", "rademacher", "--joint"]
    # Predictions from one CPU fit, re-estimated on each device: the GATE and
    # bootstrap twins see identical inputs, so they must agree to rounding.
    d, _ = seller
    preds = d / "preds.csv"
    _run(cli, seller, "cpu", "gate_fit", ["--save-predictions", preds])
    _, cpu = _run(cli, seller, "cpu", "gate_cpu", ["--load-predictions", preds, *extra])
    _, gpu = _run(cli, seller, "cuda", "gate_gpu", ["--load-predictions", preds, *extra])
    for c, g in zip(cpu["gate"][0]["groups"], gpu["gate"][0]["groups"]):
        assert c["label"] == g["label"]
        for key in ("estimate", "se"):
            assert g[key] == pytest.approx(c[key], rel=1e-9, abs=1e-12), (c["label"], key)
    for estimand in ("ate", "att"):
        c, g = estimate_by_name(cpu, estimand), estimate_by_name(gpu, estimand)
        # Same multipliers (Rademacher: the same bits on both devices), sums in
        # another order: the joint band agrees to rounding.
        assert g["joint_ci_lower"] == pytest.approx(c["joint_ci_lower"], rel=1e-9)
        assert g["joint_ci_upper"] == pytest.approx(c["joint_ci_upper"], rel=1e-9)
