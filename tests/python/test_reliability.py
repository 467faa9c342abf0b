"""Reliability through the CLI (issue 7): byte-identical JSON across thread
counts and runs, outputs that appear whole or not at all, documented exit
codes and warnings for numerical faults (docs/reliability.md)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import numpy as np
import pandas as pd

from conftest import read_json, run_cli, sim_columns


def _irm_csv(cli, tmp_path, n=1500, p=5, seed=31):
    csv = tmp_path / "irm.csv"
    run_cli(cli, ["simulate", "--design", "irm", "--n", n, "--p", p, "--seed", seed, "--out", csv])
    outcome, treatment, features = sim_columns(csv, read_json(tmp_path / "irm.truth.json"))
    return csv, ["--outcome", outcome, "--treatment", treatment, "--features", ",".join(features)]


def test_json_is_byte_identical_across_thread_counts_and_runs(cli, tmp_path):
    csv, cols = _irm_csv(cli, tmp_path)
    outputs = []
    for run, threads in enumerate((1, 2, 2)):
        out = tmp_path / f"run{run}_t{threads}.json"
        run_cli(cli, ["estimate", "--data", csv, *cols, "--folds", 3, "--reps", 2, "--seed", 7,
                      "--rounds", 25, "--max-depth", 3, "--threads", threads, "--bootstrap", 300,
                      "--joint", "--p-adjust", "romano-wolf,holm", "--no-timings", "--json", out,
                      "--quiet"])
        outputs.append(out.read_bytes())
    doc = json.loads(outputs[0])
    assert "timings" not in doc
    assert doc["bootstrap"]["replicates"] == 300 and "joint_ci_lower" in doc["estimates"][0]
    assert outputs[0] == outputs[1], "--threads 1 and --threads 2 give different JSON bytes"
    assert outputs[1] == outputs[2], "two runs with --threads 2 give different JSON bytes"


def test_heterogeneity_json_is_byte_identical_across_thread_counts(cli, tmp_path):
    # GATE, BLP, CATE model, sorted GATES and CLAN add sections with their own
    # wall-clock "seconds"; --no-timings must drop those too.
    csv = tmp_path / "seller.csv"
    run_cli(cli, ["simulate", "--design", "seller", "--n", 3000, "--seed", 5, "--out", csv])
    outcome, treatment, features = sim_columns(csv, read_json(tmp_path / "seller.truth.json"))
    outputs = []
    for threads in (1, 2):
        out = tmp_path / f"het_t{threads}.json"
        run_cli(cli, ["estimate", "--data", csv, "--outcome", outcome, "--treatment", treatment,
                      "--features", ",".join(features), "--folds", 3, "--rounds", 20, "--max-depth", 3,
                      "--seed", 2, "--threads", threads, "--bootstrap", 200, "--cate-by", "category",
                      "--cate-by", "inventory_level:quintiles", "--blp", "inventory_level,cat(category)",
                      "--cate-model", "--cate-rounds", 20, "--sorted-gates", 4, "--clan", "inventory_level",
                      "--no-timings", "--json", out, "--quiet"])
        outputs.append(out.read_bytes())
    doc = json.loads(outputs[0])
    for key in ("gate", "blp", "cate_model", "sorted_gates", "blp_test", "clan"):
        assert key in doc, key
    assert b'"seconds"' not in outputs[0], "a wall-clock field survived --no-timings"
    assert outputs[0] == outputs[1], "--threads 1 and --threads 2 give different heterogeneity JSON bytes"


def test_json_keeps_timings_without_the_flag(cli, tmp_path):
    csv, cols = _irm_csv(cli, tmp_path, n=300)
    out = tmp_path / "r.json"
    run_cli(cli, ["estimate", "--data", csv, *cols, "--rounds", 5, "--json", out, "--quiet"])
    assert read_json(out)["timings"]["total"] > 0


def test_no_temporary_files_are_left_after_a_run(cli, tmp_path):
    csv, cols = _irm_csv(cli, tmp_path, n=300)
    run_cli(cli, ["estimate", "--data", csv, *cols, "--rounds", 5, "--json", tmp_path / "r.json",
                  "--save-predictions", tmp_path / "p.csv", "--quiet"])
    names = sorted(os.listdir(tmp_path))
    assert names == ["irm.csv", "irm.truth.json", "p.csv", "r.json"], names


def test_a_killed_run_leaves_the_previous_json_intact(cli, tmp_path):
    csv, cols = _irm_csv(cli, tmp_path, n=20000, p=10)
    out = tmp_path / "r.json"
    out.write_text('{"previous": true}\n')
    args = ["estimate", "--data", csv, *cols, "--rounds", 400, "--threads", 1, "--json", out, "--quiet"]
    proc = subprocess.Popen([str(cli)] + [str(a) for a in args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be interrupted"
    assert out.read_text() == '{"previous": true}\n'


def test_a_failed_run_leaves_the_previous_json_intact(cli, tmp_path):
    csv, cols = _irm_csv(cli, tmp_path, n=300)
    out = tmp_path / "r.json"
    out.write_text('{"previous": true}\n')
    proc = run_cli(cli, ["estimate", "--data", csv, *cols, "--clip", 0.7, "--json", out], check=False)
    assert proc.returncode == 2 and "--clip" in proc.stderr, proc.stderr
    assert out.read_text() == '{"previous": true}\n'


def _tiny(tmp_path, y=None, extra=None, n=300, seed=3):
    rng = np.random.default_rng(seed)
    d = rng.binomial(1, 0.5, size=n)
    x = rng.normal(size=(n, 2))
    df = pd.DataFrame({"y": x[:, 0] + d + rng.normal(size=n) if y is None else y(n),
                       "d": d, "x0": x[:, 0], "x1": x[:, 1]})
    if extra is not None:
        df["followed"] = extra(df)
    path = tmp_path / "tiny.csv"
    df.to_csv(path, index=False)
    return path


def test_constant_outcome_exits_3_before_fitting(cli, tmp_path):
    csv = _tiny(tmp_path, y=lambda n: np.full(n, 2.5))
    proc = run_cli(cli, ["estimate", "--data", csv, "--outcome", "y", "--treatment", "d"], check=False)
    assert proc.returncode == 3, proc.stderr
    assert "outcome 'y' is constant (2.5" in proc.stderr, proc.stderr


def test_feature_equal_to_treatment_is_warned_by_name(cli, tmp_path):
    csv = _tiny(tmp_path, extra=lambda df: df["d"])
    out = tmp_path / "r.json"
    run_cli(cli, ["estimate", "--data", csv, "--outcome", "y", "--treatment", "d", "--rounds", 50,
                  "--json", out, "--quiet"])
    warnings = read_json(out)["diagnostics"]["warnings"]
    codes = {w.split(":")[0] for w in warnings}
    assert {"W-FEATURE-IS-D", "W-SEPARATION", "W-OVERLAP"} <= codes, warnings
    assert any("'followed'" in w for w in warnings if w.startswith("W-FEATURE-IS-D")), warnings
    for e in read_json(out)["estimates"]:
        assert all(np.isfinite([e["estimate"], e["se"], e["ci_lower"], e["ci_upper"]])), e


def test_oversized_simulation_is_a_usage_error(cli, tmp_path):
    proc = run_cli(cli, ["simulate", "--design", "irm", "--n", 18446744073709551615, "--p", 5,
                         "--out", tmp_path / "x.csv"], check=False)
    assert proc.returncode == 2 and "--n" in proc.stderr, proc.stderr
    assert not (tmp_path / "x.csv").exists()


def test_bad_p_adjust_is_rejected_before_any_training(cli, tmp_path):
    csv, cols = _irm_csv(cli, tmp_path, n=300)
    proc = run_cli(cli, ["estimate", "--data", csv, *cols, "--p-adjust", "holmes"], check=False)
    assert proc.returncode == 2 and "holmes" in proc.stderr, proc.stderr
    assert "estimand" not in proc.stdout  # no result table: nothing was fitted


def test_extreme_propensities_are_warned_with_a_remedy(cli, tmp_path):
    # Stored predictions (no model is trained): 5% of the rows have
    # propensities beyond the 0.01 clip, the rest overlap. W-EXTREME-PROPENSITY
    # fires on the clipped share (above 1%) and the JSON carries the clipped
    # share and the IPW weights' effective sample size (docs/reliability.md).
    n = 1000
    csv = _tiny(tmp_path, n=n)
    d = pd.read_csv(csv)["d"].to_numpy()
    rng = np.random.default_rng(4)
    m = np.where(d == 1, 0.6, 0.4) + rng.uniform(-0.05, 0.05, size=n)
    m[:50] = np.where(d[:50] == 1, 0.002, 0.998)  # 50 rows clipped: treated with m near 0, controls near 1
    preds = tmp_path / "preds.csv"
    pd.DataFrame({"row": np.arange(n), "rep": 0, "fold": np.arange(n) % 2, "m_hat": m,
                  "g0_hat": 0.0, "g1_hat": 1.0, "l_hat": np.nan}).to_csv(preds, index=False, na_rep="")
    out = tmp_path / "r.json"
    args = ["estimate", "--data", csv, "--outcome", "y", "--treatment", "d", "--features", "x0,x1",
            "--load-predictions", preds, "--json", out]
    printed = run_cli(cli, args).stdout
    doc = read_json(out)
    overlap = doc["diagnostics"]["overlap"]
    assert overlap["clipped_worst_rep"] == 50 and overlap["share_clipped_worst_rep"] == 0.05, overlap
    w1, w0 = 1 / np.clip(m[d == 1], 0.01, 0.99), 1 / (1 - np.clip(m[d == 0], 0.01, 0.99))
    ess = w1.sum() ** 2 / (w1 ** 2).sum() + w0.sum() ** 2 / (w0 ** 2).sum()
    assert abs(overlap["ipw_ess"] - ess) < 1e-9 * ess and abs(overlap["ipw_ess_share"] - ess / n) < 1e-12
    extreme = [w for w in doc["diagnostics"]["warnings"] if w.startswith("W-EXTREME-PROPENSITY:")]
    assert len(extreme) == 1, doc["diagnostics"]["warnings"]
    assert "50 of 1000 rows (5.0%)" in extreme[0] and "--tune" in extreme[0] and "--clip" in extreme[0]
    assert "warning: W-EXTREME-PROPENSITY:" in printed and "IPW weights: effective sample size" in printed

    # The same data with propensities near 0.5: no warning.
    pd.DataFrame({"row": np.arange(n), "rep": 0, "fold": np.arange(n) % 2,
                  "m_hat": rng.uniform(0.45, 0.55, size=n), "g0_hat": 0.0, "g1_hat": 1.0,
                  "l_hat": np.nan}).to_csv(preds, index=False, na_rep="")
    run_cli(cli, args)
    doc = read_json(out)
    assert doc["diagnostics"]["overlap"]["ipw_ess_share"] > 0.95
    assert not any(w.startswith("W-EXTREME-PROPENSITY") for w in doc["diagnostics"]["warnings"])
