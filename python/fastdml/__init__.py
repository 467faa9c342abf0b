"""fastdml: double/debiased machine learning with cross-fitted XGBoost nuisances.

    import fastdml
    dml = fastdml.DML(model="irm", n_folds=5, seed=0)
    dml.fit(df, outcome="revenue", treatment="followed", features=[...])
    dml.summary()            # ATE and ATT with SE, t, p, CI (pandas DataFrame)
    dml.att(clip=0.05)       # re-estimated from the stored fit: no retraining
    dml.atc()                # the effect on the untreated, from the same fit
    dml.bootstrap(1000).confint(joint=True)
"""
from __future__ import annotations

import json as _json

try:
    from . import _ext
except ImportError as _e:  # pragma: no cover - message for a broken install
    raise ImportError(
        "fastdml's extension could not be loaded (" + str(_e) + "). It links libxgboost.so from the "
        "xgboost (or xgboost-cpu) wheel: install it in this environment with `pip install xgboost-cpu`."
    ) from _e

from ._dml import DML

__version__ = _ext.build_info()["version"]


def build_info() -> dict:
    """fastdml and XGBoost versions, and whether this build has CUDA."""
    return dict(_ext.build_info())


def nuisance_models_trained() -> int:
    """XGBoost models trained by this process so far (re-estimation adds none)."""
    return int(_ext.nuisance_models_trained())


def simulate(design="seller", n=10000, p=20, seed=0, theta=0.5):
    """Simulated data with a known truth (the same as ``fastdml simulate``).

    Returns ``(df, truth)``: a pandas DataFrame with columns y, d and the
    features, and the truth as a dict (true ATE/ATT/ATC, seller: group effects).
    """
    import pandas as pd

    cols, truth = _ext.simulate(design, int(n), int(p), int(seed), float(theta))
    return pd.DataFrame(dict(cols)), _json.loads(truth)


def seller_tau(category, inventory_level):
    """True effect of following the recommendation for one listing (seller design)."""
    import numpy as np

    cat = np.asarray(category, dtype=int)
    inv = np.asarray(inventory_level, dtype=float)
    f = np.vectorize(lambda c, v: _ext.seller_tau(int(c), float(v)), otypes=[float])
    return f(cat, inv)


SELLER_CATEGORIES = list(_ext.seller_category_names())

__all__ = ["DML", "build_info", "nuisance_models_trained", "simulate", "seller_tau", "SELLER_CATEGORIES",
           "__version__"]
