"""Omitted-variable-bias sensitivity for :class:`fastdml.DML` (the engine's
``fastdml::Sensitivity``, include/fastdml/sensitivity.h): input checks, the
result table and grid, and the contour plot. The numbers all come from the
engine, so they equal the CLI's ``--sensitivity`` JSON.
"""
from __future__ import annotations

import json
import math
import numbers
import warnings

import numpy as np
import pandas as pd

from . import _ext

# The engine's defaults (SensitivityScenario): a key left out keeps them, as on the CLI.
DEFAULTS = {"cf_y": 0.03, "cf_d": 0.03, "rho": 1.0}
# The columns of the JSON's "sensitivity" section, in its order.
COLUMNS = ["estimand", "cf_y", "cf_d", "rho", "level", "null_hypothesis", "theta", "theta_lower", "theta_upper",
           "se_lower", "se_upper", "ci_lower", "ci_upper", "rv", "rva"]


def _number(value, who: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{who} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{who} must be finite, got {value!r}")
    return v


def check_scenario(cf_y, cf_d, rho, who: str = "") -> tuple:
    """(cf_y, cf_d, rho) as floats, or ValueError naming the bad argument.

    cf_y and cf_d are shares of variation explained by the confounder, in
    [0, 1) (cf_d = 1 would make C_d^2 = cf_d / (1 - cf_d) infinite); rho is a
    correlation, in [-1, 1] (Chernozhukov et al. 2024, Theorem 2)."""
    pre = f"{who}" if who else ""
    out = []
    for name, value in (("cf_y", cf_y), ("cf_d", cf_d)):
        v = _number(value, f"{pre}{name}")
        if not 0.0 <= v < 1.0:
            raise ValueError(f"{pre}{name} must lie in [0, 1) (a share of variation explained by the "
                             f"confounder), got {value!r}")
        out.append(v)
    r = _number(rho, f"{pre}rho")
    if not -1.0 <= r <= 1.0:
        raise ValueError(f"{pre}rho must lie in [-1, 1] (a correlation), got {rho!r}")
    return out[0], out[1], r


def scenario_list(cf_y, cf_d, rho, scenarios) -> list:
    """The scenarios as (cf_y, cf_d, rho) tuples: the scalars, or `scenarios`."""
    if scenarios is None:
        return [check_scenario(DEFAULTS["cf_y"] if cf_y is None else cf_y,
                               DEFAULTS["cf_d"] if cf_d is None else cf_d,
                               DEFAULTS["rho"] if rho is None else rho)]
    given = [n for n, v in (("cf_y", cf_y), ("cf_d", cf_d), ("rho", rho)) if v is not None]
    if given:
        raise ValueError(f"give either scenarios or {', '.join(given)}, not both")
    if isinstance(scenarios, dict):
        scenarios = [scenarios]
    if isinstance(scenarios, (str, bytes)) or not hasattr(scenarios, "__iter__"):
        raise ValueError(f"scenarios must be a list of dicts with keys cf_y, cf_d, rho; got {scenarios!r}")
    out = []
    for i, s in enumerate(scenarios):
        if not isinstance(s, dict):
            raise ValueError(f"scenarios[{i}] must be a dict with keys cf_y, cf_d, rho; got {s!r}")
        unknown = set(s) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"scenarios[{i}]: unknown key(s) {sorted(unknown)} (expected cf_y, cf_d, rho)")
        full = {**DEFAULTS, **s}
        out.append(check_scenario(full["cf_y"], full["cf_d"], full["rho"], who=f"scenarios[{i}] "))
    if not out:
        raise ValueError("scenarios is empty: give at least one dict with keys cf_y, cf_d, rho")
    return out


def run(dml, scenarios: list, null_hypothesis: float, level=None) -> dict:
    """The engine's result for `scenarios` on `dml`'s stored fit: a fresh
    report from the fit (no training) with the estimator's settings, so the
    report and the options passed along always belong together."""
    options = dml._options(level=level)
    report = _ext.estimate(dml._data, dml._fit, options)
    text, warnings_ = _ext.sensitivity(dml._data, dml._fit, options, report, scenarios, float(null_hypothesis))
    return dict(json.loads(text), warnings=list(warnings_))


BENCHMARK_COLUMNS = ["features", "estimand", "cf_y", "cf_d", "rho", "delta_theta", "theta_lower", "theta_upper",
                     "ci_lower", "ci_upper"]


def benchmark(dml, features: list, null_hypothesis: float) -> pd.DataFrame:
    """DML.sensitivity_benchmark (documented there)."""
    options = dml._options()
    report = _ext.estimate(dml._data, dml._fit, options)
    text, warnings_ = _ext.sensitivity_benchmark(dml._data, dml._fit, options, report, list(features),
                                                 float(null_hypothesis))
    warn({"warnings": list(warnings_)}, stacklevel=4)
    rows = []
    for b in json.loads(text):
        bounds = b["bounds"] or {}
        rows.append(dict(features=",".join(b["features"]), estimand=b["estimand"], cf_y=b["cf_y"], cf_d=b["cf_d"],
                         rho=b["rho"], delta_theta=b["delta_theta"],
                         **{k: bounds.get(k, float("nan")) for k in ("theta_lower", "theta_upper", "ci_lower",
                                                                     "ci_upper")}))
    return pd.DataFrame(rows, columns=BENCHMARK_COLUMNS)


def bounds_frame(result: dict) -> pd.DataFrame:
    rows = [{k: b[k] for k in COLUMNS} for b in result["sensitivity"]]
    return pd.DataFrame(rows, columns=COLUMNS)


def grid_frames(result: dict) -> dict:
    """{estimand: DataFrame of the theta bound, index cf_y, columns cf_d},
    with attrs bound ("lower"/"upper") and rho."""
    out = {}
    for g in result["sensitivity_grid"]:
        cf_y, cf_d = np.asarray(g["cf_y"]), np.asarray(g["cf_d"])
        theta = np.asarray(g["theta"], dtype=float).reshape(len(cf_y), len(cf_d))
        f = pd.DataFrame(theta, index=pd.Index(cf_y, name="cf_y"), columns=pd.Index(cf_d, name="cf_d"))
        f.attrs.update(estimand=g["estimand"], bound=g["bound"], rho=g["rho"])
        out[g["estimand"]] = f
    return out


def elements_dict(result: dict) -> dict:
    return {e["estimand"]: {"sigma2": np.asarray(e["sigma2"]), "nu2": np.asarray(e["nu2"]),
                            "max_bias": np.asarray(e["max_bias"]), "riesz_fallback": bool(e["riesz_fallback"])}
            for e in result["sensitivity_elements"]}


def warn(result: dict, stacklevel: int = 3) -> None:
    for w in result["warnings"]:
        warnings.warn(w, RuntimeWarning, stacklevel=stacklevel)


def plot(dml, estimand=None, rho=None, benchmarks=None, ax=None, levels=10):
    """DML.sensitivity_plot (documented there)."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("sensitivity_plot needs matplotlib, which is not installed: "
                          "pip install matplotlib (or pip install 'fastdml[notebooks]')") from e
    dml._require_fit()
    last = dml._sensitivity
    if last is None:
        raise RuntimeError("call sensitivity() first: the plot marks its scenarios")
    h0 = last["null_hypothesis"]
    if rho is None:
        grids = dml.sensitivity_grid_
    else:
        rho = check_scenario(0.0, 0.0, rho)[2]
        grids = grid_frames(run(dml, [(0.0, 0.0, rho)], h0, last["level"]))
    names = list(grids)
    if estimand is None:
        estimand = names[0]
    if estimand not in grids:
        raise ValueError(f"estimand must be one of {names} (the fitted estimands), got {estimand!r}")
    grid = grids[estimand]
    grid_rho, bound = grid.attrs["rho"], grid.attrs["bound"]

    # Marks: the last call's scenarios at this |rho| (the bounds depend on rho
    # only through |rho|, so other scenarios do not lie on this surface), and
    # the benchmarks, evaluated by the engine at the grid's rho.
    shown = [s for s in last["scenarios"] if abs(s[2]) == abs(grid_rho)]
    bench = []
    if benchmarks is not None:
        if not isinstance(benchmarks, dict):
            raise ValueError(f"benchmarks must be a dict {{name: (cf_y, cf_d)}}, got {benchmarks!r}")
        for name, point in benchmarks.items():
            if not hasattr(point, "__len__") or len(point) != 2:
                raise ValueError(f"benchmarks[{name!r}] must be a pair (cf_y, cf_d), got {point!r}")
            cy, cd, _ = check_scenario(point[0], point[1], grid_rho, who=f"benchmarks[{name!r}] ")
            bench.append((str(name), cy, cd))
    points = [(cy, cd, grid_rho) for cy, cd, _ in shown] + [(cy, cd, grid_rho) for _, cy, cd in bench]
    values = []
    if points:
        res = run(dml, points, h0, last["level"])
        key = "theta_lower" if bound == "lower" else "theta_upper"
        values = [b[key] for b in res["sensitivity"] if b["estimand"] == estimand]

    if ax is None:
        _, ax = plt.subplots()
    cf_d, cf_y, z = grid.columns.to_numpy(), grid.index.to_numpy(), grid.to_numpy()
    filled = ax.contourf(cf_d, cf_y, z, levels=levels, cmap="viridis")
    ax.figure.colorbar(filled, ax=ax, label=f"{bound} bound on theta")
    at_h0 = np.nanmin(z) <= h0 <= np.nanmax(z) and np.nanmin(z) < np.nanmax(z)
    thin = [v for v in filled.levels if not (at_h0 and v == h0)]  # h0's own line is the red one
    if thin:
        lines = ax.contour(cf_d, cf_y, z, levels=thin, colors="white", linewidths=0.5)
        ax.clabel(lines, fontsize=7, fmt="%.3g")
    if at_h0:
        crit = ax.contour(cf_d, cf_y, z, levels=[h0], colors="red", linewidths=2)
        ax.clabel(crit, fmt={h0: f"h0 = {h0:g}"}, fontsize=8, colors="red")
    if shown:
        xs, ys = [s[1] for s in shown], [s[0] for s in shown]
        ax.scatter(xs, ys, marker="X", s=70, color="black", zorder=3, label="scenario", gid="fastdml-scenarios")
        for x, y, v in zip(xs, ys, values[:len(shown)]):
            ax.annotate(f"{v:.3g}", (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
    if bench:
        xs, ys = [b[2] for b in bench], [b[1] for b in bench]
        ax.scatter(xs, ys, marker="o", s=50, color="tab:red", edgecolors="white", zorder=3, label="benchmark",
                   gid="fastdml-benchmarks")
        for (name, _, _), x, y, v in zip(bench, xs, ys, values[len(shown):]):
            ax.annotate(f"{name} ({v:.3g})", (x, y), textcoords="offset points", xytext=(5, -10), fontsize=8)
    ax.set_xlabel("cf_d (share of the Riesz representer's variation explained)")
    ax.set_ylabel("cf_y (share of the outcome's residual variation)")
    ax.set_title(f"{estimand}: {bound} bound, rho = {grid_rho:g}")
    if shown or bench:
        ax.legend(loc="upper right", fontsize=8)
    return ax
