"""The fastdml Python package: API behaviour, agreement with the CLI, bad inputs.

Needs the package installed in the venv (scripts/test builds it with pip);
skipped with that reason where it was not built.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pandas as pd
import pytest

from conftest import estimate_by_name, read_json, run_cli

fastdml = pytest.importorskip("fastdml", reason="fastdml package not installed (scripts/test builds it with pip)")

# Small, quick learners: the tests check plumbing and identities, not accuracy.
FAST = {"rounds": 20, "max_depth": 3}


@pytest.fixture(scope="module")
def seller():
    df, truth = fastdml.simulate("seller", n=1500, p=9, seed=7)
    return df, truth


def features_of(df):
    return [c for c in df.columns if c not in ("y", "d")]


def fit_seller(df, **kw):
    args = dict(n_folds=3, outcome_learner=FAST, propensity_learner=FAST, device="cpu", seed=3)
    args.update(kw)
    return fastdml.DML(**args).fit(df, outcome="y", treatment="d")


# --- API behaviour -------------------------------------------------------------


def test_summary_is_a_dataframe_with_ate_and_att(seller):
    df, _ = seller
    dml = fit_seller(df)
    s = dml.summary()
    assert isinstance(s, pd.DataFrame)
    assert list(s.index) == ["ate", "att"]
    assert list(s.columns) == ["estimate", "se", "t", "p_value", "ci_lower", "ci_upper"]
    assert np.all(s["ci_lower"] < s["estimate"]) and np.all(s["estimate"] < s["ci_upper"])
    np.testing.assert_allclose(s["t"], s["estimate"] / s["se"], rtol=1e-12)


def test_every_input_form_gives_identical_estimates(seller):
    """DataFrame + names, float64 / float32 numpy, pandas X, pyarrow Table: same X once in float32."""
    pa = pytest.importorskip("pyarrow")
    df, _ = seller
    feats = features_of(df)
    ref = fit_seller(df)
    x64 = df[feats].to_numpy()
    forms = {
        "numpy float64": lambda m: m.fit(x64, df["y"].to_numpy(), df["d"].to_numpy()),
        "numpy float32": lambda m: m.fit(np.ascontiguousarray(x64, dtype=np.float32), df["y"], df["d"]),
        "pandas X": lambda m: m.fit(df[feats], df["y"], df["d"]),
        "pyarrow table": lambda m: m.fit(pa.Table.from_pandas(df), outcome="y", treatment="d", features=feats),
    }
    for name, call in forms.items():
        dml = call(fastdml.DML(n_folds=3, outcome_learner=FAST, propensity_learner=FAST, device="cpu", seed=3))
        pd.testing.assert_frame_equal(dml.summary(), ref.summary(), check_exact=True, obj=name)
        np.testing.assert_array_equal(dml.predictions["m"], ref.predictions["m"], err_msg=name)


class DlpackOnly:
    """A host array seen only through the DLPack protocol (as torch CPU tensors are)."""

    def __init__(self, a):
        self._a = a

    def __dlpack__(self, **kw):
        return self._a.__dlpack__(**kw)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


def test_dlpack_and_nullable_inputs(seller):
    df, _ = seller
    feats = features_of(df)
    ref = fit_seller(df)
    x = np.ascontiguousarray(df[feats].to_numpy(), dtype=np.float32)
    via_dlpack = fastdml.DML(n_folds=3, outcome_learner=FAST, propensity_learner=FAST, device="cpu", seed=3).fit(
        DlpackOnly(x), DlpackOnly(df["y"].to_numpy()), DlpackOnly(df["d"].to_numpy()))
    pd.testing.assert_frame_equal(via_dlpack.summary(), ref.summary(), check_exact=True)
    # A pandas nullable integer feature with missing values: NA becomes NaN (XGBoost's missing).
    nullable = df.assign(category=df["category"].astype("Int64").mask(np.arange(len(df)) % 10 == 0))
    dml = fastdml.DML(n_folds=3, outcome_learner=FAST, propensity_learner=FAST, device="cpu", seed=3)
    dml.fit(nullable, outcome="y", treatment="d")
    col = dml._data.feature_names.index("category")
    x_cat = dml._data.x[:, col]
    assert np.isnan(x_cat[::10]).all() and not np.isnan(x_cat[1::10]).any()


def test_reestimation_reuses_the_fit_and_trains_nothing(seller):
    df, _ = seller
    dml = fit_seller(df)
    # Pooled outcome design: one propensity and one outcome model per fold.
    assert dml.models_trained == 2 * 3
    trained = fastdml.nuisance_models_trained()
    preds = {k: v.copy() for k, v in dml.predictions.items()}
    base = dml.summary()

    clipped = dml.ate(clip=0.2)
    att = dml.att(normalize_ipw=True)
    dml.estimate(clip=0.1, normalize_ipw=True, level=0.9)
    dml.bootstrap(300, method="wild", seed=1)
    joint = dml.confint(level=0.8, joint=True)
    dml.p_adjust(["romano-wolf", "holm"])
    dml.estimate(estimands="att")

    assert fastdml.nuisance_models_trained() == trained, "re-estimation trained a model"
    assert dml.models_trained == 6
    for k, v in preds.items():
        np.testing.assert_array_equal(dml.predictions[k], v, err_msg=k)
    # ...and the settings did act: clipping at 0.2 moves the ATE; the bands widen.
    assert clipped["estimate"] != base.loc["ate", "estimate"]
    assert att["estimate"] != base.loc["att", "estimate"]
    assert np.all(joint["upper"] - joint["lower"] > 0)
    # Another level for confint() leaves the estimator's own level alone.
    assert joint.attrs["level"] == 0.8 and dml.summary().attrs["level"] == 0.9
    from scipy.stats import norm
    ci80, s90 = dml.confint(level=0.8), dml.summary()
    np.testing.assert_allclose(ci80["upper"], s90["estimate"] + norm.ppf(0.9) * s90["se"], rtol=1e-12)

    # Re-estimated values equal a fresh fit with that setting (same seed: same models).
    fresh = fit_seller(df, clip=0.2)
    assert fresh.ate()["estimate"] == clipped["estimate"]
    assert fresh.ate()["se"] == clipped["se"]


def test_bootstrap_and_joint_bands(seller):
    df, _ = seller
    dml = fit_seller(df)
    with pytest.raises(RuntimeError, match="bootstrap"):
        dml.confint(joint=True)
    dml.bootstrap(500, seed=11)
    t = dml.boot_t_stat
    assert t.shape == (500, 2, 1)
    # Normal multipliers: t* per estimand has mean 0 and sd 1 up to Monte Carlo
    # error (sd of the sample sd ~ 1/sqrt(2B) = 0.032; 5 of those).
    assert np.all(np.abs(t.mean(axis=0)) < 5 / np.sqrt(500))
    assert np.all(np.abs(t.std(axis=0) - 1) < 5 / np.sqrt(2 * 500))
    joint = dml.confint(joint=True)
    # The joint band is estimate +- c * se with c the 95% quantile of max_j |t*_j|,
    # at least each estimand's own bootstrap quantile (ATE and ATT are highly
    # correlated here, so c is close to 1.96, not above it by construction).
    c = np.quantile(np.abs(t[:, :, 0]).max(axis=1), 0.95)
    assert np.all(c >= np.quantile(np.abs(t[:, :, 0]), 0.95, axis=0))
    s = dml.summary()
    np.testing.assert_allclose(joint["upper"], s["estimate"] + c * s["se"], rtol=1e-12)
    # Same seed -> same multipliers.
    again = fit_seller(df).bootstrap(500, seed=11)
    np.testing.assert_array_equal(again.boot_t_stat, t)


def test_predictions_are_out_of_fold_arrays(seller):
    df, _ = seller
    dml = fit_seller(df, n_rep=2)
    p = dml.predictions
    assert set(p) == {"m", "g0", "g1", "fold"}
    for k in ("m", "g0", "g1", "fold"):
        assert p[k].shape == (len(df), 2), k
    assert set(np.unique(p["fold"])) == {0, 1, 2}
    assert np.all((p["m"] > 0) & (p["m"] < 1))
    assert not np.array_equal(p["fold"][:, 0], p["fold"][:, 1])  # repetitions re-split


def test_plr_model(seller):
    df, _ = seller
    dml = fit_seller(df, model="plr")
    assert list(dml.summary().index) == ["ate"]
    assert set(dml.predictions) == {"m", "l", "fold"}
    with pytest.raises(ValueError, match="att needs model='irm'"):
        dml.att()


def test_to_json_is_the_cli_document(seller):
    df, _ = seller
    doc = json.loads(fit_seller(df).to_json())
    assert [e["estimand"] for e in doc["estimates"]] == ["ate", "att"]
    assert doc["diagnostics"]["n"] == len(df)
    assert "naive_difference" in doc


def test_gate_and_blp_reuse_the_fit(seller):
    df, _ = seller
    dml = fit_seller(df)
    trained = fastdml.nuisance_models_trained()
    by_cat = dml.gate(by="category", B=200)
    by_inv = dml.gate(by="inventory_level", bins=5, signal="att")
    labels = df["category"].map(dict(enumerate(fastdml.SELLER_CATEGORIES))).rename("category_name")
    named = dml.gate(by=labels)
    blp = dml.blp("inventory_level,cat(category)")
    assert fastdml.nuisance_models_trained() == trained, "gate()/blp() trained a model"
    assert list(by_cat.index) == ["0", "1", "2", "3", "4"] and by_cat["n"].sum() == len(df)
    assert list(by_inv["n"]) == [300] * 5 and by_inv.attrs["signal"] == "att"
    # Text labels are the same groups as their codes, in sorted label order.
    codes = {name: str(k) for k, name in enumerate(fastdml.SELLER_CATEGORIES)}
    np.testing.assert_array_equal(named["estimate"].to_numpy(),
                                  by_cat.loc[[codes[x] for x in named.index], "estimate"].to_numpy())
    assert np.all(by_cat["joint_ci_upper"] - by_cat["joint_ci_lower"] > by_cat["ci_upper"] - by_cat["ci_lower"])
    assert list(blp.index) == ["intercept", "inventory_level"] + [f"category={k}" for k in range(1, 5)]
    # BLP on one-hot category equals GATE by category (the identity DoubleML also has).
    onehot = pd.get_dummies(df["category"].astype(int)).astype(float)
    via_matrix = dml.blp(onehot.to_numpy(), names=[f"c{k}" for k in onehot.columns])
    np.testing.assert_allclose(via_matrix["estimate"].to_numpy(), by_cat["estimate"].to_numpy(), rtol=1e-9)
    # Predicting at the unit vectors returns the coefficients, with their se.
    at_units = dml.blp_predict(np.eye(5))
    np.testing.assert_allclose(at_units["estimate"], via_matrix["estimate"], rtol=1e-12)
    np.testing.assert_allclose(at_units["se"], via_matrix["se"], rtol=1e-12)
    assert fastdml.nuisance_models_trained() == trained
    with pytest.raises(ValueError, match="no column 'colour'"):
        dml.gate(by="colour")
    with pytest.raises(ValueError, match="cate-cov|covariance"):
        dml.gate(by="category", cov="HC9")


def test_from_predictions_rebuilds_the_fit_exactly(seller):
    """A fit rebuilt from its own predictions (no training) gives the same numbers, bit for bit,
    for every re-estimation; gate(by=...) takes numpy, pandas and pyarrow columns alike."""
    df, _ = seller
    for model, n_rep in (("irm", 1), ("irm", 2), ("plr", 1)):
        dml = fit_seller(df, model=model, n_rep=n_rep)
        trained = fastdml.nuisance_models_trained()
        again = fastdml.DML(model=model, n_rep=n_rep, device="cpu", seed=3).from_predictions(
            df, outcome="y", treatment="d", predictions=dml.predictions)
        assert fastdml.nuisance_models_trained() == trained and again.models_trained == 0
        pd.testing.assert_frame_equal(again.summary(), dml.summary(), check_exact=True)
        assert again.diagnostics["overlap"] == dml.diagnostics["overlap"]
        assert again.diagnostics["naive"] == dml.diagnostics["naive"]
        pd.testing.assert_series_equal(again.ate(clip=0.05), dml.ate(clip=0.05), check_exact=True)
        if model == "irm":
            pd.testing.assert_series_equal(again.att(normalize_ipw=True), dml.att(normalize_ipw=True),
                                           check_exact=True)
        by_name = dml.gate(by="category")
        pd.testing.assert_frame_equal(again.gate(by="category"), by_name, check_exact=True)
        pd.testing.assert_frame_equal(again.blp("inventory_level,cat(category)"),
                                      dml.blp("inventory_level,cat(category)"), check_exact=True)
    forms = [df["category"].to_numpy(), df["category"].astype("int32"), df["category"].astype("Int64")]
    pa = pytest.importorskip("pyarrow")
    forms.append(pa.chunked_array([pa.array(df["category"].to_numpy()[:700]),
                                   pa.array(df["category"].to_numpy()[700:])]))
    for col in forms:
        g = dml.gate(by=col)
        np.testing.assert_array_equal(g["estimate"].to_numpy(), by_name["estimate"].to_numpy())
    with pytest.raises(ValueError, match="lack"):
        fastdml.DML(device="cpu").from_predictions(df, outcome="y", treatment="d",
                                                   predictions={"m": dml.predictions["m"]})
    empty = {k: np.asarray(v)[:, :0] for k, v in dml.predictions.items()}  # (n, 0): no repetition
    with pytest.raises(ValueError, match="n_rep >= 1"):
        fastdml.DML(model="plr", device="cpu").from_predictions(df, outcome="y", treatment="d", predictions=empty)


def test_extension_finds_libxgboost_beside_itself():
    """RUNPATH $ORIGIN/../xgboost/lib: the wheel's library in the same site-packages is found
    first, so a relocated venv still works."""
    env = dict(os.environ, LD_DEBUG="libs")
    proc = subprocess.run([sys.executable, "-I", "-c", "import fastdml"], capture_output=True, text=True,
                          env=env, cwd="/", timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = [line for line in proc.stderr.splitlines() if "calling init:" in line and "libxgboost.so" in line]
    assert loaded, "libxgboost.so was not loaded"
    assert "fastdml/../xgboost/lib/libxgboost.so" in loaded[0], loaded[0]


# --- GIL and Ctrl-C -------------------------------------------------------------


def test_fit_releases_the_gil():
    df, _ = fastdml.simulate("seller", n=4000, p=10, seed=1)
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    th = threading.Thread(target=ticker)
    th.start()
    t0 = time.perf_counter()
    fastdml.DML(n_folds=3, outcome_learner={"rounds": 150}, propensity_learner={"rounds": 150}, device="cpu",
                threads=1).fit(df, outcome="y", treatment="d")
    t1 = time.perf_counter()
    stop.set()
    th.join()
    during = [t for t in ticks if t0 < t < t1]
    # With the GIL held the ticker could not run during the fit; released, it ticks
    # about every 5 ms (we ask for a fifth of that rate to allow a busy machine).
    assert t1 - t0 > 0.2, "fit too short to tell"
    assert len(during) > (t1 - t0) / 0.005 / 5, f"{len(during)} ticks in a {t1 - t0:.2f}s fit"


def test_ctrl_c_stops_a_long_fit_promptly(tmp_path):
    script = tmp_path / "long_fit.py"
    script.write_text(textwrap.dedent("""
        import sys, time
        import fastdml
        df, _ = fastdml.simulate("seller", n=20000, p=20, seed=1)
        dml = fastdml.DML(n_folds=5, n_rep=5, outcome_learner={"rounds": 3000},
                          propensity_learner={"rounds": 3000}, device="cpu")
        print("fitting", flush=True)
        t0 = time.perf_counter()
        try:
            dml.fit(df, outcome="y", treatment="d")
            print("finished", flush=True)
        except KeyboardInterrupt:
            print(f"interrupted {time.perf_counter() - t0:.2f}", flush=True)
            # The engine is usable again after a cancelled fit.
            small, _ = fastdml.simulate("seller", n=300, p=8, seed=2)
            fastdml.DML(n_folds=2, outcome_learner={"rounds": 5}, propensity_learner={"rounds": 5},
                        device="cpu").fit(small, outcome="y", treatment="d")
            print("refit ok", flush=True)
            raise
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "fitting"
    time.sleep(1.0)
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the fit did not stop within 20 s of SIGINT")
    waited = time.perf_counter() - sent
    assert "interrupted" in out and "refit ok" in out, out + err
    # The signal came while the C++ fit ran (not before it started).
    assert float(out.split("interrupted ")[1].split()[0]) > 0.5, out
    assert "KeyboardInterrupt" in err, err[-2000:]
    assert proc.returncode != 0
    assert waited < 10, f"took {waited:.1f}s to stop"


# --- agreement with the CLI -------------------------------------------------------


@pytest.mark.parametrize("variant", ["plain", "cluster", "weights", "plr"])
def test_agrees_with_cli_on_same_data_and_seed(cli, tmp_path, variant):
    csv = tmp_path / "sellers.csv"
    run_cli(cli, ["simulate", "--design", "seller", "--n", 1200, "--p", 9, "--seed", 4, "--out", csv])
    if variant == "weights":
        # Python writes the shortest round-trip text, so both sides read the same doubles.
        pd.read_csv(csv).assign(w=lambda f: 0.5 + (np.arange(len(f)) % 3)).to_csv(csv, index=False)
    out = tmp_path / "cli.json"
    args = ["estimate", "--data", csv, "--outcome", "y", "--treatment", "d", "--folds", 4, "--reps", 2,
            "--seed", 9, "--rounds", 25, "--max-depth", 3, "--propensity-eta", 0.2, "--clip", 0.02,
            "--device", "cpu", "--bootstrap", 400, "--joint", "--quiet", "--json", out]
    args += {"cluster": ["--cluster", "seller_id"], "weights": ["--weights", "w"], "plr": ["--model", "plr"]}.get(
        variant, [])
    run_cli(cli, args)
    want = read_json(out)

    # The CLI writes the shortest round-trip text; pandas 3 reads it back exactly.
    df = pd.read_csv(csv)
    roles = {"cluster": "seller_id", "weights": "w"}
    feats = [c for c in df.columns if c not in ("y", "d", roles.get(variant))]
    dml = fastdml.DML(model="plr" if variant == "plr" else "irm", n_folds=4, n_rep=2, seed=9, device="cpu",
                      clip=0.02, outcome_learner={"rounds": 25, "max_depth": 3},
                      propensity_learner={"rounds": 25, "max_depth": 3, "eta": 0.2})
    dml.fit(df, outcome="y", treatment="d", features=feats, clusters="seller_id" if variant == "cluster" else None,
            weights="w" if variant == "weights" else None)
    dml.bootstrap(400, joint=True)
    got = json.loads(dml.to_json())
    for estimand in ("ate",) if variant == "plr" else ("ate", "att"):
        a, b = estimate_by_name(got, estimand), estimate_by_name(want, estimand)
        for key in ("estimate", "se", "ci_lower", "ci_upper", "joint_ci_lower", "joint_ci_upper"):
            assert a[key] == pytest.approx(b[key], rel=1e-12, abs=0), f"{estimand} {key}"
        assert a["theta_reps"] == pytest.approx(b["theta_reps"], rel=1e-12)
    assert got["bootstrap"]["joint_critical_values"] == pytest.approx(
        want["bootstrap"]["joint_critical_values"], rel=1e-12)
    # The package's own summary is the same numbers as its JSON.
    assert dml.summary().loc["ate", "estimate"] == estimate_by_name(got, "ate")["estimate"]


def test_gate_and_blp_agree_with_cli(cli, tmp_path):
    csv = tmp_path / "sellers.csv"
    run_cli(cli, ["simulate", "--design", "seller", "--n", 1500, "--p", 9, "--seed", 6, "--out", csv])
    grid = pd.DataFrame({"inventory_level": [5.0, 12.5, 20.0, 40.0, 80.0], "category": [0, 1, 2, 3, 4]})
    grid_csv = tmp_path / "grid.csv"
    grid.to_csv(grid_csv, index=False)
    out = tmp_path / "cli.json"
    run_cli(cli, ["estimate", "--data", csv, "--outcome", "y", "--treatment", "d", "--folds", 3, "--seed", 2,
                  "--rounds", 20, "--max-depth", 3, "--device", "cpu", "--bootstrap", 300, "--quiet",
                  "--cate-by", "category", "--cate-by", "inventory_level:quintiles", "--cate-signal", "ate,att",
                  "--blp", "inventory_level,cat(category)", "--blp-grid", grid_csv, "--json", out])
    want = read_json(out)
    df = pd.read_csv(csv)
    dml = fastdml.DML(n_folds=3, seed=2, device="cpu", outcome_learner={"rounds": 20, "max_depth": 3},
                      propensity_learner={"rounds": 20, "max_depth": 3})
    dml.fit(df, outcome="y", treatment="d")
    cli_gates = {(g["by"], g["signal"]): g for g in want["gate"]}
    for (by, bins) in (("category", None), ("inventory_level", 5)):
        for signal in ("ate", "att"):
            got = dml.gate(by=by, bins=bins, signal=signal, B=300)
            ref = cli_gates[(by if bins is None else f"{by}:q={bins}", signal)]["groups"]
            assert list(got.index) == [g["label"] for g in ref]
            for key in ("estimate", "se", "ci_lower", "ci_upper", "joint_ci_lower", "joint_ci_upper"):
                np.testing.assert_allclose(got[key].to_numpy(), [g[key] for g in ref], rtol=1e-12, err_msg=key)
    blp = dml.blp("inventory_level,cat(category)", B=300)
    terms = want["blp"]["terms"]
    assert list(blp.index) == [t["name"] for t in terms]
    for key, ckey in (("estimate", "coef"), ("se", "se"), ("ci_lower", "ci_lower")):
        np.testing.assert_allclose(blp[key].to_numpy(), [t[ckey] for t in terms], rtol=1e-12, err_msg=key)
    pred = dml.blp_predict(grid)
    rows = want["blp"]["grid"]
    for key in ("estimate", "se", "ci_lower", "ci_upper", "joint_ci_lower", "joint_ci_upper"):
        np.testing.assert_allclose(pred[key].to_numpy(), [r[key] for r in rows], rtol=1e-12, err_msg=f"grid {key}")
    with pytest.raises(ValueError, match="grid has no column 'category'"):
        dml.blp_predict(grid[["inventory_level"]])


# --- bad inputs ------------------------------------------------------------------


def _dml():
    return fastdml.DML(n_folds=2, outcome_learner={"rounds": 3}, propensity_learner={"rounds": 3}, device="cpu")


def _xyd(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.normal(size=n), (rng.uniform(size=n) < 0.5).astype(float)


class FakeCudaArray:
    """Something on a GPU as far as the protocol says (no GPU needed)."""

    def __init__(self, shape):
        self.__cuda_array_interface__ = {"shape": shape, "typestr": "<f4", "data": (0, False), "version": 3,
                                         "strides": None}


@pytest.mark.parametrize("mutate, exc, match", [
    (lambda X, y, d: (X[:, 0], y, d), ValueError, r"X must be 2-D.*reshape"),
    (lambda X, y, d: (X.astype(object), y, d), TypeError, "X has dtype object"),
    (lambda X, y, d: (X, y[:-1], d), ValueError, "y has 49 values but X has 50 rows"),
    (lambda X, y, d: (X, y.reshape(-1, 1), d), ValueError, r"y has shape \(50, 1\).*ravel"),
    (lambda X, y, d: (X, np.where(np.arange(50) == 7, np.nan, y), d), ValueError, "y is NaN.*row 7"),
    (lambda X, y, d: (X, np.where(np.arange(50) == 3, np.inf, y), d), ValueError, "y is infinite.*row 3"),
    (lambda X, y, d: (X, y, np.where(np.arange(50) == 9, np.nan, d)), ValueError, "d is NaN.*row 9"),
    (lambda X, y, d: (X, y, np.where(np.arange(50) == 4, 0.5, d)), ValueError, "0 or 1.*row 4.*model='plr'"),
    (lambda X, y, d: (X, y.astype(str), d), TypeError, "y has dtype <U"),
    (lambda X, y, d: (np.where(np.arange(150).reshape(50, 3) == 31, 1e39, X), y, d), ValueError,
     "beyond float32 range.*at row 10"),
    (lambda X, y, d: (X, y, np.zeros(50)), ValueError, "treated"),
])
def test_bad_arrays_raise_clear_errors(mutate, exc, match):
    X, y, d = mutate(*_xyd())
    with pytest.raises(exc, match=match):
        _dml().fit(X, y, d)


def test_cuda_arrays_where_cuda_cannot_take_them():
    """A fake object exposing __cuda_array_interface__ (no GPU needed): without a CUDA
    build, or without a usable GPU, or with device='cpu', a clear TypeError says why."""
    X, y, d = _xyd()
    fake = FakeCudaArray((50, 3))
    with pytest.raises(TypeError, match="CUDA device array.*(no CUDA|device='cpu')"):
        fastdml.DML(n_folds=2, device="cpu").fit(fake, y, d)
    try:
        usable = fastdml._ext.resolve_device("auto") != "cpu"
    except RuntimeError:
        usable = False
    if usable:
        pytest.skip("a GPU is usable here: device arrays are taken (not checked with a fake pointer)")
    with pytest.raises(TypeError, match="CUDA device array.*(no CUDA|resolves to the CPU)"):
        fastdml.DML(n_folds=2, device="auto").fit(fake, y, d)
    with pytest.raises(TypeError, match="y is a CUDA device array"):
        fastdml.DML(n_folds=2, device="auto").fit(X, FakeCudaArray((50,)), d)


def test_bad_table_inputs_name_the_column_and_row():
    X, y, d = _xyd()
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y, d=d, shop=["s"] * 50)
    df.index = [f"r{i}" for i in range(50)]
    with pytest.raises(ValueError, match=r"outcome column 'revenue' is not in the table; columns: \['a'"):
        _dml().fit(df, outcome="revenue", treatment="d")
    with pytest.raises(TypeError, match="feature column 'shop' is not numeric"):
        _dml().fit(df, outcome="y", treatment="d", features=["a", "shop"])
    with pytest.raises(ValueError, match="'y' is the outcome and cannot also be a feature"):
        _dml().fit(df, outcome="y", treatment="d", features=["a", "y"])
    bad = df.assign(y=np.where(np.arange(50) == 5, np.nan, df["y"]))
    with pytest.raises(ValueError, match=r"outcome 'y' is NaN \(missing\) at row 5 \(index label 'r5'\)"):
        _dml().fit(bad, outcome="y", treatment="d", features=["a"])
    with pytest.raises(ValueError, match="weights must be positive; row 2"):
        _dml().fit(df.assign(w=np.where(np.arange(50) == 2, -1.0, 1.0)), outcome="y", treatment="d",
                   features=["a"], weights="w")
    with pytest.raises(ValueError, match="1 distinct id"):
        _dml().fit(df.assign(g=1), outcome="y", treatment="d", features=["a"], clusters="g")
    with pytest.raises(TypeError, match="pass a pandas DataFrame or a pyarrow Table"):
        _dml().fit(X, outcome="y", treatment="d")
    # Default features: every other numeric column; the text column is left out.
    assert _dml().fit(df, outcome="y", treatment="d")._data.feature_names == ["a", "b", "c"]


def test_bad_options_raise_value_errors():
    with pytest.raises(ValueError, match="model must be 'irm' or 'plr'"):
        fastdml.DML(model="iv")
    with pytest.raises(ValueError, match="unknown setting 'depth'"):
        fastdml.DML(outcome_learner={"depth": 3})
    with pytest.raises(ValueError, match="device: expected cpu, cuda, cuda:N or auto"):
        fastdml.DML(device="tpu")
    with pytest.raises(ValueError, match="folds"):
        fastdml.DML(n_folds=1)
    with pytest.raises(TypeError, match="n_rep must be an int"):
        fastdml.DML(n_rep=2.5)
    with pytest.raises(RuntimeError, match="call fit"):
        fastdml.DML().ate()
    X, y, d = _xyd()
    dml = _dml().fit(X, y, d)
    with pytest.raises(ValueError, match="bootstrap-method|method"):
        dml.bootstrap(10, method="gauss")
    with pytest.raises(ValueError, match="B .* positive int"):
        dml.bootstrap(0)
