"""Overlap and balance diagnostics of a fit: DML.overlap, DML.balance and
their plots (docs/python.md, "Overlap and balance"; the definitions in
src/inference/balance.h and docs/reliability.md)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from . import _ext

THRESHOLD = 0.1  # include/fastdml/warnings.h kMaxAbsSmd (W-IMBALANCE)


def _pyplot(who: str):
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(f"{who} needs matplotlib, which is not installed: "
                          "pip install matplotlib (or pip install 'fastdml[notebooks]')") from e
    return plt


def overlap(dml) -> dict:
    """DML.overlap (documented there): the JSON's diagnostics.overlap."""
    dml._require_fit()
    return json.loads(_ext.report_json(dml._report, dml._fit, dml._data))["diagnostics"]["overlap"]


def balance(dml) -> pd.DataFrame:
    """DML.balance (documented there)."""
    dml._require_fit()
    rows = dml._report.balance
    frame = pd.DataFrame(rows, columns=["feature", "smd_raw", "smd_ate", "smd_att"])
    return frame.set_index("feature")


def overlap_plot(dml, ax=None, density=True):
    """DML.overlap_plot (documented there)."""
    plt = _pyplot("overlap_plot")
    ov = overlap(dml)
    if not ov or "by_arm" not in ov:
        raise ValueError("overlap_plot needs a binary treatment: there are no propensities by arm")
    hist = ov["by_arm"]["histogram"]
    edges = np.asarray(hist["edges"], dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for arm, color in (("treated", "tab:orange"), ("control", "tab:blue")):
        counts = np.asarray(hist[arm], dtype=float)
        total = counts.sum()
        heights = counts / (total * np.diff(edges)) if density and total > 0 else counts
        ax.stairs(heights, edges, fill=True, alpha=0.35, color=color, label=f"{arm} ({int(total)})")
        ax.stairs(heights, edges, color=color)
    clip = ov.get("clip")
    if clip:
        for bound in (clip, 1 - clip):
            ax.axvline(bound, color="grey", linestyle=":", linewidth=1)
    ax.set_xlim(0, 1)
    ax.set_xlabel("out-of-fold propensity m(X)")
    ax.set_ylabel("density" if density else "rows x repetitions")
    ax.set_title("propensity by arm")
    ax.legend(frameon=False)
    return ax


def balance_plot(dml, ax=None, max_features=30):
    """DML.balance_plot (documented there)."""
    plt = _pyplot("balance_plot")
    table = balance(dml)
    if table.empty:
        raise ValueError("balance_plot needs an IRM fit: the PLR model has no balance table")
    order = table.abs().max(axis=1).sort_values(ascending=True)
    if max_features is not None:
        order = order.iloc[-int(max_features):]
    table = table.loc[order.index]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 1.2 + 0.3 * len(table)))
    y = np.arange(len(table))
    for column, label, marker, color in (("smd_raw", "raw", "o", "tab:grey"),
                                         ("smd_ate", "ATE-weighted", "s", "tab:blue"),
                                         ("smd_att", "ATT-weighted", "^", "tab:orange")):
        ax.scatter(table[column].abs(), y, marker=marker, color=color, label=label, zorder=3)
    ax.axvline(THRESHOLD, color="red", linestyle="--", linewidth=1, label=f"|SMD| = {THRESHOLD:g}")
    ax.set_yticks(y)
    ax.set_yticklabels(table.index)
    ax.set_xlabel("|standardized mean difference|")
    ax.set_xlim(left=0)
    ax.set_title("covariate balance")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(frameon=False, loc="lower right")
    return ax
