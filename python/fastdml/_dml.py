"""The DML estimator: fit the cross-fitted nuisances once, then estimate anything from them."""
from __future__ import annotations

import json
import numbers
import time

import numpy as np
import pandas as pd

from . import _ext
from . import _balance
from . import _sensitivity
from ._inputs import build_dataset

# Learner dict keys (XGBoost / scikit-learn spellings both accepted).
_LEARNER_KEYS = {
    "rounds": "rounds", "n_estimators": "rounds", "num_boost_round": "rounds",
    "max_depth": "max_depth",
    "eta": "eta", "learning_rate": "eta",
    "subsample": "subsample",
    "colsample_bytree": "colsample_bytree", "colsample": "colsample_bytree",
    "min_child_weight": "min_child_weight",
    "lambda": "lambda_", "reg_lambda": "lambda_",
    "max_bin": "max_bin",
    "nthread": "nthread", "n_jobs": "nthread",
    "seed": "seed", "random_state": "seed",
    # rounds "auto" (the default): early stopping on an inner validation split
    # of each model's training rows, at most max_rounds (docs/tuning.md).
    "max_rounds": "max_rounds",
    "early_stopping_rounds": "early_stopping_rounds",
}
# tune=[...] names (the engine's spelling, as the CLI's --tune takes them).
_TUNE_NAMES = {
    "depth": "depth", "max_depth": "depth",
    "eta": "eta", "learning_rate": "eta",
    "min_child_weight": "min-child-weight", "min-child-weight": "min-child-weight",
}
_SUMMARY_COLUMNS = ["estimate", "se", "t", "p_value", "ci_lower", "ci_upper"]
# estimate(trim=...) left out: keep the trimming in force (None means the full sample).
_KEEP = object()


def _trim_text(trim, model: str):
    """trim=None / "crump" / alpha -> None or the engine's --trim text, checked
    by the engine's own parser (fastdml::ParseTrim)."""
    if trim is None:
        return None
    if isinstance(trim, str):
        if trim != "crump":
            raise ValueError(f"trim must be None, 'crump' or a number alpha in (0, 0.5), got {trim!r}")
        text = "crump"
    elif isinstance(trim, (bool, np.bool_)) or not isinstance(trim, numbers.Real):
        raise ValueError(f"trim must be None, 'crump' or a number alpha in (0, 0.5), got {trim!r}")
    else:
        alpha = float(trim)
        if not 0.0 < alpha < 0.5:
            raise ValueError(f"trim: alpha must lie in (0, 0.5) (rows with a propensity in [alpha, 1 - alpha] "
                             f"are kept), got {trim!r}")
        text = repr(alpha)  # the shortest text that parses back to the same double
    if model != "irm":
        raise ValueError("trim: trimming by the propensity applies to model='irm'")
    _ext.parse_trim(text)
    return text


def _learner(spec, who: str) -> "_ext.LearnerParams":
    """A learner argument: "auto" (or None), fastdml's defaults, which stop
    early; or a dict of XGBoost settings, where rounds may be "auto" too."""
    params = _ext.LearnerParams()
    if spec is None or (isinstance(spec, str) and spec == "auto"):
        return params
    if isinstance(spec, str):
        raise ValueError(f"{who}: expected 'auto' or a dict of XGBoost settings, got {spec!r}")
    if not isinstance(spec, dict):
        raise TypeError(f"{who} must be 'auto' or a dict of XGBoost settings, e.g. "
                        f"{{'rounds': 200, 'max_depth': 6}}; got {type(spec).__name__}")
    for key, value in spec.items():
        if key not in _LEARNER_KEYS:
            raise ValueError(f"{who}: unknown setting {key!r}; known: {sorted(set(_LEARNER_KEYS))}")
        field = _LEARNER_KEYS[key]
        if field == "rounds":
            value = _rounds(value, f"{who}[{key!r}]")
        elif field in ("max_rounds", "early_stopping_rounds") and (
                isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"{who}[{key!r}] must be a positive int, got {value!r}")
        setattr(params, field, value)
    return params


def _rounds(value, who: str) -> int:
    """"auto" -> the engine's 0 (early stopping); else a count of at least 1
    (a 0 would silently mean auto, so it is refused)."""
    if isinstance(value, str) and value == "auto":
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{who} must be 'auto' (early stopping) or a positive int, got {value!r}")
    return int(value)


def _tune_params(tune) -> list:
    """tune=False / True / names -> the engine's parameter names ([] = off)."""
    if tune is None or tune is False:
        return []
    if tune is True:
        return ["depth", "eta", "min-child-weight"]
    names = tune.split(",") if isinstance(tune, str) else tune
    if isinstance(tune, (bool, int, float, dict)) or not hasattr(names, "__iter__"):
        raise ValueError(f"tune must be True, False or a list of parameters to search "
                         f"(depth, eta, min_child_weight), got {tune!r}")
    out = []
    for name in names:
        key = name.strip() if isinstance(name, str) else name
        if key not in _TUNE_NAMES:
            raise ValueError(f"tune: unknown parameter {name!r}; expected some of depth (max_depth), "
                             f"eta (learning_rate), min_child_weight")
        if _TUNE_NAMES[key] not in out:
            out.append(_TUNE_NAMES[key])
    if not out:
        raise ValueError("tune: name at least one of depth, eta, min_child_weight (or pass tune=True)")
    return out


class DML:
    """Double/debiased machine learning with cross-fitted XGBoost nuisances.

    ``model="irm"`` (binary treatment; ATE and ATT, on request the ATC, from
    AIPW scores) or
    ``"plr"`` (partially linear; one constant effect). The nuisance models are
    trained once by :meth:`fit`; every estimate, clipping, normalisation,
    bootstrap and confidence level afterwards re-uses the stored out-of-fold
    predictions and trains nothing (see :attr:`models_trained`).

    Nuisance learners: ``"auto"`` (the default) is XGBoost at depth 6, eta
    0.1, whose rounds are chosen by early stopping: each cross-fitting model
    splits its own training rows (never the held-out fold) into an inner
    training part and a ``validation_fraction`` for validation, boosts until
    the validation loss has not improved for ``early_stopping_rounds`` (20),
    at most ``max_rounds`` (1000), and then refits on all its training rows
    with that many rounds (``early_stopping_model="refit"``) or keeps the
    early-stopped model (``"keep"``). A dict sets XGBoost settings
    (``rounds``/``n_estimators``, ``max_depth``, ``eta``/``learning_rate``,
    ``min_child_weight``, ..., ``max_rounds``, ``early_stopping_rounds``);
    ``"rounds": "auto"`` keeps early stopping, a number fixes the count.

    ``tune=True`` searches max_depth {2, 3, 4, 6, 8} x eta {0.03, 0.1, 0.3} x
    min_child_weight {1, 5, 20, 50} per nuisance by the same inner validation
    loss; ``tune=["depth", "eta"]`` searches only those (``"max_depth"``,
    ``"learning_rate"``, ``"min_child_weight"`` also accepted). The search runs
    once per nuisance on the first fold's training rows, or in every fold with
    ``tune_per_fold=True`` (n_folds x n_rep times the cost). What was chosen is
    in :attr:`tuning`.

    ``trim="crump"`` (Crump, Hotz, Imbens and Mitnik 2009's rule) or
    ``trim=alpha`` estimates on the rows whose out-of-fold propensity
    (averaged over the repetitions) lies in [alpha, 1 - alpha], as the CLI's
    ``--trim``: estimates, bootstrap and sensitivity then describe that
    trimmed population (:attr:`trimming` says which), and GATE/BLP refuse to
    run. ``estimate(trim=...)`` changes it from the stored fit; clipping
    (``clip``) stays a separate option.
    """

    def __init__(self, model="irm", n_folds=5, n_rep=1, outcome_learner="auto", propensity_learner="auto",
                 device="auto", seed=0, *, estimands=None, clip=_ext.Options().clip, normalize_ipw=False, level=0.95,
                 outcome_design="pooled", threads=0, tune=False, tune_per_fold=False,
                 early_stopping_model=_ext.Options().early_stopping_model,
                 validation_fraction=_ext.Options().validation_fraction, trim=None):
        if model not in ("irm", "plr"):
            raise ValueError(f"model must be 'irm' or 'plr', got {model!r}")
        self.model = model
        self.n_folds = n_folds
        self.n_rep = n_rep
        # "auto" or a copy of the dict (later changes to the caller's dict do not leak in).
        self.outcome_learner = dict(outcome_learner) if isinstance(outcome_learner, dict) else (
            "auto" if outcome_learner is None else outcome_learner)
        self.propensity_learner = dict(propensity_learner) if isinstance(propensity_learner, dict) else (
            "auto" if propensity_learner is None else propensity_learner)
        self.device = device
        self.seed = seed
        self.estimands = list(estimands) if estimands is not None else (["ate", "att"] if model == "irm" else ["ate"])
        self.clip = clip
        self.normalize_ipw = normalize_ipw
        self.level = level
        self.outcome_design = outcome_design
        self.threads = threads
        self.tune = tune
        self.tune_per_fold = tune_per_fold
        self.early_stopping_model = early_stopping_model
        self.validation_fraction = validation_fraction
        self._options()  # validate now, not at fit time
        _trim_text(trim, model)
        self.trim = trim
        self._data = self._fit = self._report = self._table = self._blp = None
        # Trimmed: (full data, full fit), while _data/_fit hold the kept rows'
        # (everything that estimates reads them); None on the full sample.
        self._full = self._trimming = None
        self._boot = None
        self._sensitivity = self.sensitivity_ = self.sensitivity_grid_ = self.sensitivity_elements_ = None
        # A grid fit (lists of outcomes/treatments): the _Grid; _data, _fit and
        # _report are then None (per-cell work goes through cell()).
        self._grid = None
        self._padjust = []  # grid: the p-value adjustments asked for so far
        self.models_trained = 0

    # --- configuration ------------------------------------------------------
    def _options(self, estimands=None, clip=None, normalize_ipw=None, level=None) -> "_ext.Options":
        o = _ext.Options()
        o.model = self.model
        o.estimands = list(estimands if estimands is not None else self.estimands)
        o.outcome_design = self.outcome_design
        for name, value in (("n_folds", self.n_folds), ("n_rep", self.n_rep), ("threads", self.threads)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {value!r}")
        o.folds, o.reps, o.threads = int(self.n_folds), int(self.n_rep), int(self.threads)
        o.seed = int(self.seed)
        o.clip = float(self.clip if clip is None else clip)
        o.normalize_ipw = bool(self.normalize_ipw if normalize_ipw is None else normalize_ipw)
        o.level = float(self.level if level is None else level)
        o.device = str(self.device)  # the engine's one parser: ValueError naming --device
        o.propensity = _learner(self.propensity_learner, "propensity_learner")
        o.outcome = _learner(self.outcome_learner, "outcome_learner")
        params = _tune_params(self.tune)
        if not isinstance(self.tune_per_fold, (bool, np.bool_)):
            raise ValueError(f"tune_per_fold must be True or False, got {self.tune_per_fold!r}")
        if self.tune_per_fold and not params:
            raise ValueError("tune_per_fold=True tunes in every fold: also pass tune=True (or the parameters)")
        o.tune = bool(params)
        if params:
            o.tune_params = params
        o.tune_per_fold = bool(self.tune_per_fold)
        if self.early_stopping_model not in ("refit", "keep"):
            raise ValueError(f"early_stopping_model must be 'refit' or 'keep', got {self.early_stopping_model!r}")
        o.early_stopping_model = self.early_stopping_model
        vf = self.validation_fraction
        if isinstance(vf, bool) or not isinstance(vf, (int, float, np.integer, np.floating)) or not 0 < vf < 1:
            raise ValueError(f"validation_fraction must be a number in (0, 1), got {vf!r}")
        o.validation_fraction = float(vf)
        o.validate()
        return o

    # --- fitting ------------------------------------------------------------
    def fit(self, X, y=None, d=None, weights=None, clusters=None, *, outcome=None, treatment=None, features=None,
            folds=None):
        """Trains the cross-fitted nuisances and estimates the configured estimands.

        ``fit(X, y, d)`` with arrays (numpy, pandas, pyarrow, DLPack; CUDA arrays in
        CUDA builds), or ``fit(df, outcome="y", treatment="d", features=[...])``
        with a DataFrame or pyarrow Table, where ``weights``, ``clusters`` and
        ``folds`` may also be column names. The GIL is released while training;
        Ctrl-C stops it.

        ``outcome=["y1", "y2"], treatment=["t1", "t2"]`` (table input) fits a
        grid: every (outcome, treatment) cell in one run, on one fold plan,
        with one propensity model per treatment shared by every outcome (see
        "Grids" in docs/python.md and :meth:`cell`). A one-element list is the
        same as the plain name. Features then default to every other numeric
        column, all outcomes and treatments left out.

        ``folds``: n fold ids 0..K-1 (or a column name) fixing the cross-fitting
        folds, as the CLI's ``--fold-col``; it needs ``n_rep=1``.

        Raises
        ------
        ValueError
            A column named twice, as both an outcome and a treatment, or as an
            outcome or treatment and a feature; a missing value in an outcome
            or treatment (naming it and the row); bad settings.
        """
        outcome, treatment = _names_arg(outcome, "outcome"), _names_arg(treatment, "treatment")
        grid = isinstance(outcome, list) or isinstance(treatment, list)
        options = self._options()
        if grid and self.trim is not None:
            raise ValueError(_GRID_TRIM)
        if folds is not None and int(self.n_rep) != 1:
            raise ValueError(f"folds= fixes the cross-fitting folds, so n_rep must be 1 (got n_rep={self.n_rep})")
        _trim_text(self.trim, self.model)  # before training: a bad value must not cost a fit
        self._full = self._trimming = None
        self._grid = None
        if grid:
            return self._fit_grid(X, weights, clusters, outcome, treatment, features, folds, options)
        self._data = build_dataset(X, y, d, weights=weights, clusters=clusters, outcome=outcome,
                                   treatment=treatment, features=features, device=self.device,
                                   binary=self.model == "irm", min_rows=int(self.n_folds), folds=folds)
        before = _ext.nuisance_models_trained()
        self._fit = _ext.fit_nuisances(self._data, options)
        self.models_trained += _ext.nuisance_models_trained() - before
        return self._estimate_new_fit(X, outcome, options)

    def from_predictions(self, X, y=None, d=None, weights=None, clusters=None, *, predictions, outcome=None,
                         treatment=None, features=None):
        """Builds the fit from given out-of-fold predictions instead of training
        (the CLI's ``--load-predictions``), then estimates as :meth:`fit` does.

        ``predictions``: a dict as :attr:`predictions` returns it, ``m`` and
        ``fold`` with ``g0``/``g1`` (IRM) or ``l`` (PLR), each of shape (n,) or
        (n, n_rep); the folds are 0-based. Data arguments as in :meth:`fit`.
        """
        if isinstance(outcome, (list, tuple)) or isinstance(treatment, (list, tuple)):
            outcome, treatment = _names_arg(outcome, "outcome"), _names_arg(treatment, "treatment")
            if isinstance(outcome, list) or isinstance(treatment, list):
                raise ValueError("from_predictions takes one (outcome, treatment) pair (as the CLI's "
                                 "--load-predictions); fit a grid with fit(), or one cell at a time here")
        options = self._options()
        _trim_text(self.trim, self.model)
        self._full = self._trimming = None
        self._grid = None
        self._data = build_dataset(X, y, d, weights=weights, clusters=clusters, outcome=outcome,
                                   treatment=treatment, features=features, device=self.device,
                                   binary=self.model == "irm", min_rows=2)
        n = self._data.n
        wanted = ("g0", "g1") if self.model == "irm" else ("l",)
        unknown = set(predictions) - {"m", "fold", *wanted}
        if unknown:
            raise ValueError(f"predictions: unexpected key(s) {sorted(unknown)} for model={self.model!r}")
        missing = [k for k in ("m", "fold", *wanted) if k not in predictions]
        if missing:
            raise ValueError(f"predictions lack {missing} (model={self.model!r} needs m, fold, {', '.join(wanted)})")

        def reps_by_rows(key, dtype):  # (n,) or (n, n_rep) -> C-contiguous (n_rep, n)
            a = np.asarray(predictions[key])
            if a.ndim == 1:
                a = a.reshape(-1, 1)
            if a.ndim != 2 or a.shape[0] != n or a.shape[1] < 1:
                raise ValueError(f"predictions[{key!r}] must have shape ({n},) or ({n}, n_rep) with n_rep >= 1, "
                                 f"got {a.shape}")
            return np.ascontiguousarray(a.T, dtype=dtype)

        fold = reps_by_rows("fold", np.int32)
        mats = {k: reps_by_rows(k, np.float64) for k in ("m", *wanted)}
        if len({a.shape for a in (fold, *mats.values())}) != 1:
            raise ValueError("predictions: every entry needs the same number of repetitions")
        self._fit = _ext.fit_from_predictions(self._data, options, mats["m"], mats.get("g0"), mats.get("g1"),
                                              mats.get("l"), fold)
        return self._estimate_new_fit(X, outcome, options)

    def _fit_grid(self, X, weights, clusters, outcomes, treatments, features, folds, options):
        """fit() for a grid: one Dataset (X copied once, every outcome and
        treatment column beside it), one FitGrid, one report per cell."""
        data = build_dataset(X, None, None, weights=weights, clusters=clusters,
                             outcome=outcomes if isinstance(outcomes, list) else [outcomes],
                             treatment=treatments if isinstance(treatments, list) else [treatments],
                             features=features, device=self.device, binary=self.model == "irm",
                             min_rows=int(self.n_folds), folds=folds)
        before = _ext.nuisance_models_trained()
        fit = _ext.fit_grid(data, options)
        self.models_trained += _ext.nuisance_models_trained() - before
        self._data = self._fit = self._report = None
        self._boot = self._blp = None
        self._sensitivity = self.sensitivity_ = self.sensitivity_grid_ = self.sensitivity_elements_ = None
        self._table = X
        self._grid = _Grid(data, fit, list(data.outcome_names), list(data.treatment_names))
        self._grid_estimate(options, timed=True)
        return self

    def _grid_estimate(self, options, timed=False):
        """Every cell's report from the stored grid fit (as the CLI's RunGrid)."""
        g = self._grid
        t0 = time.perf_counter()
        reports = [_ext.estimate(g.select(j, k), g.fit.cell(c), options) for c, (j, k) in enumerate(g.cells())]
        if timed:
            seconds = time.perf_counter() - t0
            for c in range(g.fit.n_cells):
                g.fit.cell(c).set_scores_seconds(seconds)
        g.reports = reports
        self._boot = None
        self._padjust = []

    def _grid_joint(self, reports=None):
        """JointInference over every cell x estimand: the bootstrap in force
        (one multiplier per row for all cells) and the adjustments asked for."""
        g = self._grid
        bo = self._boot_options() if self._boot is not None else None
        joint = bool(self._boot["joint"]) if self._boot is not None else False
        _ext.joint_inference(g.reports if reports is None else reports, bo, joint, list(self._padjust))

    def _grid_frame(self, reports=None) -> pd.DataFrame:
        g = self._grid
        rows, index = [], []
        for report, (j, k) in zip(g.reports if reports is None else reports, g.cells()):
            f = _frame(report)
            for estimand, row in f.iterrows():
                rows.append(row)
                index.append((g.outcomes[j], g.treatments[k], estimand))
        f = pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["outcome", "treatment", "estimand"]))
        f.attrs["level"] = (g.reports if reports is None else reports)[0].level
        return f

    def cell(self, outcome, treatment) -> "DML":
        """One (outcome, treatment) cell of a grid fit, as a one-pair DML.

        The view shares the grid's data and fitted cell (nothing is trained or
        copied but the cell's two columns, which it selects when it runs): its
        estimates are the one-pair estimates of that cell, and every per-cell
        method works on it: :meth:`gate`, :meth:`blp`, :meth:`sensitivity`,
        :attr:`overlap`, :attr:`balance`, :attr:`predictions`, the plots,
        ``estimate(trim=...)``. Its :meth:`bootstrap` is that cell's alone;
        bands and adjusted p-values over the whole grid are the grid's
        (:meth:`bootstrap` on the grid fit).

        Parameters
        ----------
        outcome, treatment : str
            Column names, as given to :meth:`fit`.

        Returns
        -------
        DML
            A new object; the grid fit is unchanged.

        Raises
        ------
        ValueError
            A name that is not an outcome (treatment) of the grid. On a
            one-pair fit, names other than its pair.
        RuntimeError
            Before :meth:`fit`.
        """
        g = self._grid
        if g is None:
            if self._fit is None:
                raise RuntimeError("call fit() first")
            pair = (self._data.outcome_name, self._data.treatment_name)
            if (str(outcome), str(treatment)) != pair:
                raise ValueError(f"this fit has one (outcome, treatment) pair {pair}; no cell "
                                 f"({outcome!r}, {treatment!r})")
            return self
        j, k = g.position(outcome, treatment)
        view = object.__new__(_CellDML)
        view.__dict__.update(self.__dict__)
        view.estimands = list(self.estimands)
        view._grid = None
        view._padjust = []
        view._cell = (g, j, k)
        view._data = g.data
        view._fit = g.fit.cell(g.index(j, k))
        view._full = view._trimming = None
        view._boot = view._blp = None
        view._sensitivity = view.sensitivity_ = view.sensitivity_grid_ = view.sensitivity_elements_ = None
        view.trim = None
        view._report = _ext.estimate(view._data, view._fit, view._options())
        return view

    @property
    def cells(self) -> list:
        """The fit's (outcome, treatment) pairs, outcome-major: a grid's every
        cell, or a one-pair fit's one pair."""
        if self._grid is not None:
            g = self._grid
            return [(g.outcomes[j], g.treatments[k]) for j, k in g.cells()]
        self._require_fit()
        return [(self._data.outcome_name, self._data.treatment_name)]

    def _estimate_new_fit(self, X, outcome, options):
        """The first report of a new fit (fit or from_predictions)."""
        self._boot = self._blp = None
        self._sensitivity = self.sensitivity_ = self.sensitivity_grid_ = self.sensitivity_elements_ = None
        # Kept (a reference, no copy) so that gate()/blp() can name its columns.
        self._table = X if outcome is not None else (X if hasattr(X, "columns") or hasattr(X, "column_names") else None)
        try:
            self._set_sample(self.trim)
        except ValueError:
            # An arm left empty: keep the (costly) fit on the full sample, usable
            # with another estimate(trim=...), and say why.
            self.trim = None
            self._report = _ext.estimate(self._data, self._fit, options)
            raise
        t0 = time.perf_counter()
        self._report = _ext.estimate(self._data, self._fit, options)
        self._fit.set_scores_seconds(time.perf_counter() - t0)
        return self

    def _set_sample(self, trim):
        """Puts the estimation sample in force: the full fit, or (trim given)
        its rows with the averaged propensity in [alpha, 1 - alpha], as the
        CLI's --trim (src/cli/main.cc: Estimate, Bootstrap and Sensitivity run
        on the trimmed data and fit). On an error the sample is unchanged."""
        text = _trim_text(trim, self.model)
        data, fit = self._full if self._full is not None else (self._data, self._fit)
        if text is None:
            self._data, self._fit, self._full, self._trimming = data, fit, None, None
            return
        kept_data, kept_fit, info = _ext.trim(data, fit, text)
        self._full = (data, fit)
        self._data, self._fit = kept_data, kept_fit
        # The CLI's "trimming" section, tagged with its cell as the CLI tags
        # every section (io::TagCell).
        self._trimming = {**json.loads(info), "outcome": data.outcome_name, "treatment": data.treatment_name}

    def _require_untrimmed(self, what: str):
        """GATE/BLP on a trimmed fit: refused, as the CLI refuses --trim with --cate-by/--blp."""
        if self._full is not None:
            raise ValueError(f"{what} on a trimmed sample (trim={self.trim!r}) is not supported: heterogeneity "
                             "is estimated on the full sample; call estimate(trim=None) first, or filter the rows "
                             "in the data")

    @property
    def trimming(self):
        """The trimming in force, or None on the full sample.

        The CLI's JSON section ``"trimming"`` (docs/cli.md): ``rule``
        (``"crump"`` or ``"fixed"``), ``alpha`` (the chosen or given alpha;
        Crump's rule may choose 0, keeping every row), ``propensity`` (which
        propensity was compared), ``rows``, ``rows_kept``, ``treated_kept``,
        ``control_kept``, ``population`` (a reminder that the estimates are
        effects among the kept rows), ``outcome`` and ``treatment``.

        Returns
        -------
        dict or None

        Raises
        ------
        RuntimeError
            Before :meth:`fit` or :meth:`from_predictions`.
        """
        if self._grid is not None:
            return None
        self._require_fit()
        return None if self._trimming is None else dict(self._trimming)

    def _require_fit(self):
        if self._grid is not None:
            g = self._grid
            raise ValueError(f"this fit is a grid of {len(g.outcomes)} outcome(s) x {len(g.treatments)} "
                             "treatment(s); per-cell results (gate, blp, sensitivity, overlap, balance, predictions, "
                             f"tuning, diagnostics, plots) need one cell: dml.cell({g.outcomes[0]!r}, "
                             f"{g.treatments[0]!r}).<method>(...)")
        if self._fit is None:
            raise RuntimeError("call fit() first")

    # --- re-estimation from the stored fit (no training) ---------------------
    def estimate(self, estimands=None, clip=None, normalize_ipw=None, level=None, trim=_KEEP) -> "DML":
        """Re-estimates from the stored predictions with new settings (trains nothing).

        Parameters
        ----------
        estimands : str or list of str, optional
            Any of ``"ate"``, ``"att"``, ``"atc"``, ``"ato"`` (IRM; PLR ``"ate"``).
        clip, normalize_ipw, level : optional
            As in the constructor; left out, the current setting stays.
        trim : None, "crump" or float, optional
            Left out, the trimming in force stays. ``None`` returns to the
            full sample; ``"crump"`` (Crump et al. 2009's rule) or an alpha in
            (0, 0.5) estimates on the rows whose out-of-fold propensity,
            averaged over the repetitions, lies in [alpha, 1 - alpha]. The
            estimates (and a later :meth:`bootstrap` or :meth:`sensitivity`)
            are then effects in that population; see :attr:`trimming`.

        Returns
        -------
        DML
            self.

        Raises
        ------
        ValueError
            ``trim`` neither None, ``"crump"`` nor a number in (0, 0.5), a
            PLR model, or trimming that leaves an arm empty (the sample in
            force stays as it was); bad other settings.
        """
        if self._grid is not None:
            if trim is not _KEEP and trim is not None:
                raise ValueError(_GRID_TRIM)
            if estimands is not None:
                self.estimands = [estimands] if isinstance(estimands, str) else list(estimands)
            self.clip = self.clip if clip is None else clip
            self.normalize_ipw = self.normalize_ipw if normalize_ipw is None else normalize_ipw
            self.level = self.level if level is None else level
            self._grid_estimate(self._options())
            return self
        self._require_fit()
        if trim is not _KEEP:
            self._set_sample(trim)
            self.trim = trim
            self._blp = None
            self._sensitivity = self.sensitivity_ = self.sensitivity_grid_ = self.sensitivity_elements_ = None
        if estimands is not None:
            self.estimands = [estimands] if isinstance(estimands, str) else list(estimands)
        self.clip = self.clip if clip is None else clip
        self.normalize_ipw = self.normalize_ipw if normalize_ipw is None else normalize_ipw
        self.level = self.level if level is None else level
        self._report = _ext.estimate(self._data, self._fit, self._options())
        self._boot = None
        return self

    def _one(self, estimand, clip, normalize_ipw, level) -> pd.Series:
        if self._grid is None:
            self._require_fit()
        if self.model == "plr" and estimand in ("att", "atc", "ato"):
            raise ValueError(f"{estimand} needs model='irm' (the partially linear model has one constant effect)")
        if self._grid is not None:  # one row per cell, indexed by (outcome, treatment)
            g = self._grid
            options = self._options([estimand], clip, normalize_ipw, level)
            reports = [_ext.estimate(g.select(j, k), g.fit.cell(c), options) for c, (j, k) in enumerate(g.cells())]
            f = self._grid_frame(reports).droplevel("estimand")
            f.attrs["estimand"] = estimand
            return f
        report = _ext.estimate(self._data, self._fit, self._options([estimand], clip, normalize_ipw, level))
        return _frame(report).iloc[0]

    def ate(self, clip=None, normalize_ipw=None, level=None) -> pd.Series:
        """Average treatment effect (PLR: the constant effect) from the stored fit.

        On a grid fit this (and :meth:`att`, :meth:`atc`, :meth:`ato`) returns
        a DataFrame with one row per cell, indexed by (outcome, treatment)."""
        return self._one("ate", clip, normalize_ipw, level)

    def att(self, clip=None, normalize_ipw=None, level=None) -> pd.Series:
        """Average treatment effect on the treated from the stored fit."""
        return self._one("att", clip, normalize_ipw, level)

    def atc(self, clip=None, normalize_ipw=None, level=None) -> pd.Series:
        """Average treatment effect on the controls (untreated), E[Y1 - Y0 | D = 0],
        from the stored fit: the ATT score with the arms' roles swapped."""
        return self._one("atc", clip, normalize_ipw, level)

    def ato(self, level=None) -> pd.Series:
        """Overlap-weighted average treatment effect (Li, Morgan and Zaslavsky 2018;
        grf's ``target.sample="overlap"``), E[m(X)(1 - m(X)) tau(X)] / E[m(X)(1 - m(X))],
        from the stored fit, with a score orthogonal in both nuisances. It stays
        stable when propensities approach 0 or 1: nothing is divided by them, so
        clipping and Hajek normalisation do not apply (docs/cli.md)."""
        return self._one("ato", None, None, level)

    def naive(self) -> pd.Series:
        """Difference in means between treated and control (not causal)."""
        if self._grid is not None:
            g = self._grid
            return pd.DataFrame([r.naive for r in g.reports], index=pd.MultiIndex.from_tuples(
                [(g.outcomes[j], g.treatments[k]) for j, k in g.cells()], names=["outcome", "treatment"]))
        self._require_fit()
        return pd.Series(self._report.naive, name="naive")

    # --- inference on the stored scores --------------------------------------
    def bootstrap(self, B=1000, method="normal", seed=None, joint=True, sampler="auto") -> "DML":
        """Multiplier bootstrap over the stored scores (no refitting); with ``joint``
        it adds sup-t bands over all estimands. ``method``: normal, rademacher,
        mammen, wild (DoubleML's), bayes.

        On a grid fit the bootstrap runs over every cell x estimand at once
        with one multiplier per row (or cluster) shared by all cells, so the
        joint bands of :meth:`confint` and :meth:`summary` cover the whole grid
        (the CLI's ``--bootstrap B --joint`` on a grid)."""
        if self._grid is None:
            self._require_fit()
        if isinstance(B, bool) or not isinstance(B, (int, np.integer)) or B < 1:
            raise ValueError(f"B (bootstrap replicates) must be a positive int, got {B!r}")
        self._boot = dict(B=int(B), method=method, seed=int(self.seed if seed is None else seed),
                          joint=bool(joint), sampler=sampler)
        try:
            if self._grid is not None:
                self._grid_joint()
            else:
                _ext.bootstrap(self._report, self._boot_options(), bool(joint))
        except Exception:
            self._boot = None
            raise
        return self

    def _boot_options(self) -> "_ext.BootstrapOptions":
        bo = _ext.BootstrapOptions()
        bo.replicates = self._boot["B"]
        bo.method = self._boot["method"]
        bo.sampler = self._boot["sampler"]
        bo.seed = self._boot["seed"]
        bo.threads = int(self.threads)
        fit = self._fit if self._grid is None else self._grid.fit.cell(0)
        bo.device = fit.options.device  # the fit's resolved device: cpu or cuda
        return bo

    @property
    def boot_t_stat(self) -> np.ndarray:
        """Bootstrap t-statistics, shape (B, n_estimands, n_rep) as in DoubleML
        (a grid: (B, n_cells x n_estimands, n_rep), cells outcome-major as in
        :meth:`summary`)."""
        if self._grid is None:
            self._require_fit()
        if self._boot is None:
            raise RuntimeError("call bootstrap() first")
        report = self._report if self._grid is None else self._grid.reports[0]
        reps = (self._fit if self._grid is None else self._grid.fit.cell(0)).reps
        return np.stack([report.t_boot(r) for r in range(reps)], axis=2)

    def confint(self, level=None, joint=False) -> pd.DataFrame:
        """Confidence intervals; ``joint=True`` gives sup-t bands (needs bootstrap()).
        Another ``level`` is computed from the stored fit and scores without
        changing the estimator's own settings. On a grid fit: one row per
        (outcome, treatment, estimand), joint bands over the whole grid."""
        if self._grid is None:
            self._require_fit()
        if joint and self._boot is None:
            raise RuntimeError("joint bands need the bootstrap: call bootstrap(B) first")
        if self._grid is not None:
            return self._grid_confint(level, joint)
        report = self._report
        if level is not None and level != report.level:
            report = _ext.estimate(self._data, self._fit, self._options(level=level))
            if self._boot is not None:  # same seed: the same multipliers at the new level
                _ext.bootstrap(report, self._boot_options(), True)
        elif joint and not self._boot["joint"]:
            self.bootstrap(**{**self._boot, "joint": True})
            report = self._report
        f = _frame(report)
        lo, hi = ("joint_ci_lower", "joint_ci_upper") if joint else ("ci_lower", "ci_upper")
        out = f[[lo, hi]].rename(columns={lo: "lower", hi: "upper"})
        out.attrs["level"] = report.level
        return out

    def _grid_confint(self, level, joint) -> pd.DataFrame:
        g = self._grid
        reports = g.reports
        if level is not None and level != reports[0].level:
            options = self._options(level=level)
            reports = [_ext.estimate(g.select(j, k), g.fit.cell(c), options) for c, (j, k) in enumerate(g.cells())]
            if self._boot is not None:  # same seed: the same multipliers at the new level
                _ext.joint_inference(reports, self._boot_options(), True, [])
        elif joint and not self._boot["joint"]:
            self.bootstrap(**{**self._boot, "joint": True})
            reports = g.reports
        f = self._grid_frame(reports)
        lo, hi = ("joint_ci_lower", "joint_ci_upper") if joint else ("ci_lower", "ci_upper")
        out = f[[lo, hi]].rename(columns={lo: "lower", hi: "upper"})
        out.attrs["level"] = reports[0].level
        return out

    def p_adjust(self, methods=("romano-wolf",)) -> pd.DataFrame:
        """Multiplicity-adjusted p-values (romano-wolf needs bootstrap(); bonferroni, holm).

        On a grid fit the adjustment spans every cell x estimand (the CLI's
        ``--p-adjust`` on a grid), Romano-Wolf on the grid's shared bootstrap."""
        if self._grid is None:
            self._require_fit()
        methods = [methods] if isinstance(methods, str) else list(methods)
        if "romano-wolf" in methods and self._boot is None:
            raise RuntimeError("romano-wolf needs the bootstrap: call bootstrap(B) first")
        if self._grid is not None:
            before = list(self._padjust)
            self._padjust += [m for m in methods if m not in self._padjust]
            try:
                self._grid_joint()
            except Exception:
                self._padjust = before
                raise
            f = self._grid_frame()
        else:
            _ext.adjust_pvalues(self._report, methods)
            f = _frame(self._report)
        return f[["p_value"] + [f"p_{m}" for m in methods]]

    def summary(self) -> pd.DataFrame:
        """Estimates, standard errors, t, p and intervals, one row per estimand.

        On a grid fit: one row per (outcome, treatment, estimand), indexed by
        that MultiIndex, with the same columns (joint bands and adjusted
        p-values over the whole grid)."""
        if self._grid is not None:
            return self._grid_frame()
        self._require_fit()
        return _frame(self._report)

    # --- sensitivity to unobserved confounding (include/fastdml/sensitivity.h) ---
    def sensitivity(self, cf_y=None, cf_d=None, rho=None, null_hypothesis=0.0, *, scenarios=None,
                    level=None) -> pd.DataFrame:
        """Omitted-variable-bias bounds for a confounder left out of the features.

        Chernozhukov, Cinelli, Newey, Sharma and Syrgkanis, "Long story short:
        omitted variable bias in causal machine learning" (2024). A confounder
        that explains a share ``cf_y`` of the outcome's residual variation and
        a share ``cf_d`` of the Riesz representer's, with correlation ``rho``
        between the two biases, moves each estimate by at most
        ``|rho| sqrt(cf_y cf_d / (1 - cf_d)) S``, ``S^2 = sigma^2 nu^2``
        (their Theorem 2). Computed from the stored predictions (nothing is
        trained); the same numbers as the CLI's ``--sensitivity`` and DoubleML's
        ``sensitivity_analysis()`` (docs/sensitivity.md).

        Parameters
        ----------
        cf_y, cf_d : float, optional
            Shares in [0, 1) (default 0.03 each, as on the CLI).
        rho : float, optional
            Correlation in [-1, 1] (default 1.0, the worst case).
        null_hypothesis : float, default 0.0
            The h0 that the robustness values RV and RVa refer to.
        scenarios : list of dict, optional
            Several scenarios at once, e.g. ``[dict(cf_y=0.03, cf_d=0.03, rho=1.0),
            dict(cf_y=0.1, cf_d=0.1)]``; a key left out keeps its default. Give
            either this or ``cf_y``/``cf_d``/``rho``.
        level : float, optional
            Level of the one-sided confidence bounds (default: the estimator's
            ``level``).

        Returns
        -------
        pandas.DataFrame
            One row per (scenario, estimand), scenario-major, with the columns
            of the JSON's ``"sensitivity"`` section: estimand, cf_y, cf_d, rho,
            level, null_hypothesis, theta, theta_lower, theta_upper, se_lower,
            se_upper, ci_lower, ci_upper, rv, rva. Also kept as
            :attr:`sensitivity_`; the contour grid of each estimand's bound
            (the one nearest h0) as :attr:`sensitivity_grid_`
            (``{estimand: DataFrame}``, index cf_y, columns cf_d, at the first
            scenario's rho) and sigma^2, nu^2 and S per repetition as
            :attr:`sensitivity_elements_`.

        Raises
        ------
        RuntimeError
            Before :meth:`fit` or :meth:`from_predictions`.
        ValueError
            cf_y or cf_d outside [0, 1), rho outside [-1, 1], a non-finite
            null_hypothesis; the message names the argument.

        Warns
        -----
        RuntimeWarning
            ``W-SENSITIVITY-NU2``: the orthogonal estimate of nu^2 was not
            positive (extreme propensities), so the bounds use the plain second
            moment of the Riesz representer, as DoubleML does.
        """
        self._require_fit()
        todo = _sensitivity.scenario_list(cf_y, cf_d, rho, scenarios)
        h0 = _sensitivity._number(null_hypothesis, "null_hypothesis")
        result = _sensitivity.run(self, todo, h0, level)
        _sensitivity.warn(result)
        table = _sensitivity.bounds_frame(result)
        table.attrs.update(level=float(self.level if level is None else level), null_hypothesis=h0)
        self._sensitivity = {"scenarios": todo, "null_hypothesis": h0, "level": level}
        self.sensitivity_ = table
        self.sensitivity_grid_ = _sensitivity.grid_frames(result)
        self.sensitivity_elements_ = _sensitivity.elements_dict(result)
        return table

    def sensitivity_plot(self, estimand=None, rho=None, benchmarks=None, ax=None, levels=10):
        """Contour plot of the sensitivity bound over (cf_d, cf_y), after :meth:`sensitivity`.

        The surface is the bound nearest the null hypothesis (the lower bound
        when theta >= h0, else the upper) on the grid cf_y, cf_d in [0, 0.15]
        (:attr:`sensitivity_grid_`). The h0 contour is drawn in red: a
        confounder beyond it could move the estimate to h0. The last call's
        scenarios at this ``|rho|`` are marked with an X and their bound.

        Parameters
        ----------
        estimand : str, optional
            Which estimand's surface (default: the first fitted one).
        rho : float, optional
            Draw the surface at this rho in [-1, 1] (computed from the stored
            fit) instead of the first scenario's.
        benchmarks : dict, optional
            ``{"name": (cf_y, cf_d)}``: strengths to mark and label, e.g. those
            an observed covariate would have.
        ax : matplotlib.axes.Axes, optional
            Where to draw (default: a new figure).
        levels : int or array-like, default 10
            Contour levels, as matplotlib's ``contourf`` takes them.

        Returns
        -------
        matplotlib.axes.Axes

        Raises
        ------
        ImportError
            Without matplotlib.
        RuntimeError
            Before :meth:`fit` or :meth:`sensitivity`.
        ValueError
            An unknown estimand, rho outside [-1, 1], a benchmark that is not a
            pair of shares in [0, 1).
        """
        return _sensitivity.plot(self, estimand=estimand, rho=rho, benchmarks=benchmarks, ax=ax, levels=levels)

    def sensitivity_benchmark(self, features, null_hypothesis=0.0) -> pd.DataFrame:
        """How strong a confounder as strong as observed ``features`` would be.

        Refits the nuisances without ``features`` (same options, seeds and
        folds) and derives the cf_y, cf_d and rho they imply, as DoubleML's
        ``sensitivity_benchmark()`` (its ``gain_statistics``); the same as the
        CLI's ``--sensitivity-benchmark`` (docs/sensitivity.md). This trains
        models: as long as one :meth:`fit`.

        Parameters
        ----------
        features : str or list of str
            Features of the fit to leave out (a comma list or a list).
        null_hypothesis : float, default 0.0
            The h0 of the bounds' side (lower when theta >= h0).

        Returns
        -------
        pandas.DataFrame
            One row per estimand: features, estimand, cf_y, cf_d, rho,
            delta_theta (short minus long estimate) and the bounds at that
            strength (theta_lower, theta_upper, ci_lower, ci_upper; NaN when
            cf_d reaches 1). Pass ``{"name": (cf_y, cf_d)}`` from it to
            :meth:`sensitivity_plot` to mark it.

        Raises
        ------
        RuntimeError
            Before :meth:`fit`.
        ValueError
            A name that is not a feature, a repeated name, or all features.
        """
        self._require_fit()
        if self._full is not None:  # as the CLI refuses --trim with --sensitivity-benchmark
            raise ValueError(f"sensitivity_benchmark on a trimmed sample (trim={self.trim!r}): the benchmark's refit "
                             "would need the trimmed rows' folds; call estimate(trim=None) first")
        names = [f.strip() for f in features.split(",")] if isinstance(features, str) else list(features)
        h0 = _sensitivity._number(null_hypothesis, "null_hypothesis")
        return _sensitivity.benchmark(self, names, h0)

    # --- overlap and balance (docs/reliability.md, "Overlap and balance") ---------
    @property
    def overlap(self) -> dict:
        """Propensity overlap: the JSON's ``diagnostics.overlap`` (docs/cli.md).

        ``propensity_min``, ``propensity_max``, ``propensity_quantiles``
        (all rows and repetitions), the clipped counts at the last estimate's
        ``clip``, and for IRM Kish's effective sample size of the ATE's IPW
        weights (``ipw_ess``, and per arm ``ipw_ess_treated``,
        ``ipw_ess_control``, in the repetition with the smallest ESS).
        ``by_arm`` has each arm's propensities, all repetitions pooled:
        ``quantiles`` (``{"treated": {"q01": ...}, "control": ...}``) and a
        20-bin ``histogram`` on [0, 1] (``edges``, ``treated``, ``control``
        counts). None for a continuous treatment.

        Raises
        ------
        RuntimeError
            Before :meth:`fit`.
        """
        return _balance.overlap(self)

    @property
    def balance(self) -> pd.DataFrame:
        """Covariate balance between the arms (IRM), one row per feature.

        Columns ``smd_raw``, ``smd_ate``, ``smd_att``: the standardized mean
        difference (mean_T - mean_C) / sqrt((var_T + var_C) / 2), with the
        means raw, weighted by the ATE's inverse-propensity weights (treated
        1/m, control 1/(1 - m)) or by the ATT's (treated 1, control
        m/(1 - m)), m clipped at the last estimate's ``clip``, sample weights
        included; the variances are always the raw ones (Austin 2009; cobalt).
        Repetitions are pooled. Above 0.1 in absolute value after weighting,
        the fit warns ``W-IMBALANCE``. Empty for PLR.

        Returns
        -------
        pandas.DataFrame
            Indexed by feature, in feature order.

        Raises
        ------
        RuntimeError
            Before :meth:`fit`.
        """
        return _balance.balance(self)

    def overlap_plot(self, ax=None, density=True):
        """Histograms of the out-of-fold propensities by arm (:attr:`overlap`).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw (default: a new figure).
        density : bool, default True
            Each arm's histogram as a density (area 1), so that arms of
            different sizes compare; False draws the counts (rows x
            repetitions).

        Returns
        -------
        matplotlib.axes.Axes

        Raises
        ------
        ImportError
            Without matplotlib.
        RuntimeError
            Before :meth:`fit`.
        ValueError
            A continuous treatment (no arms).
        """
        return _balance.overlap_plot(self, ax=ax, density=density)

    def balance_plot(self, ax=None, max_features=30):
        """Love plot: each feature's |SMD| raw, ATE- and ATT-weighted, with the 0.1 line.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw (default: a new figure).
        max_features : int or None, default 30
            Draw the features with the largest |SMD| (raw or weighted) only;
            None draws all.

        Returns
        -------
        matplotlib.axes.Axes

        Raises
        ------
        ImportError
            Without matplotlib.
        RuntimeError
            Before :meth:`fit`.
        ValueError
            A PLR fit (no balance table).
        """
        return _balance.balance_plot(self, ax=ax, max_features=max_features)

    # --- stored fit -------------------------------------------------------------
    @property
    def predictions(self) -> dict:
        """Out-of-fold nuisance predictions and folds, each an (n, n_rep) array:
        ``m`` (propensity), ``g0``/``g1`` (IRM outcome), ``l`` (PLR), ``fold``.
        Every row of the fitted data, also when trimmed (as the CLI's
        ``--save-predictions``)."""
        self._require_fit()
        f = self._full[1] if self._full is not None else self._fit
        out = {"m": f.m.T, "fold": f.fold.T}
        if self.model == "irm":
            out.update(g0=f.g0.T, g1=f.g1.T)
        else:
            out["l"] = f.l.T
        return out

    @property
    def tuning(self) -> dict:
        """How each nuisance model was sized: the JSON's ``diagnostics.nuisance_tuning``.

        One entry per nuisance (``"m"`` propensity; ``"g"`` pooled outcome or
        ``"g0"``/``"g1"``; PLR ``"l"``)::

            {"metric": "logloss" | "rmse",   # the validation loss
             "early_stopping": bool,         # rounds "auto"
             "models": [...],                # one per (rep, fold), at rep * n_folds + fold
             "searches": [...]}              # tune: one, or one per fold with tune_per_fold

        Each model: ``max_depth``, ``eta``, ``min_child_weight``, ``rounds``
        (what it predicts with), ``rounds_run`` (boosted to find them: the
        best round plus the patience, or max_rounds) and ``validation_loss``
        there (None without a validation split, i.e. fixed rounds and no tune).
        Each search: ``rep``, ``fold`` (whose training rows it split),
        ``candidates`` (in grid order, each with the model's keys but
        ``rounds_run``) and ``chosen`` (index of the smallest loss; ties: the
        first). Empty for :meth:`from_predictions`.
        """
        self._require_fit()
        out = json.loads(self._fit.tuning_json)
        for entry in out.values():
            entry.setdefault("searches", [])
        return out

    @property
    def diagnostics(self) -> dict:
        """Naive difference, propensity overlap, nuisance quality, tuning (as
        :attr:`tuning`), timings, warnings."""
        self._require_fit()
        return {"naive": self._report.naive, "overlap": self._report.overlap, "quality": self._fit.quality,
                "tuning": self.tuning, "timings": self._fit.timings, "warnings": list(self._report.warnings),
                "threads": self._fit.threads, "device": self._fit.options.device}

    def to_json(self) -> str:
        """The report as JSON, the same document as ``fastdml estimate --json``
        (trimmed: with its ``"trimming"`` section, as :attr:`trimming`; a grid:
        the CLI's grid document, with every cell's estimates)."""
        if self._grid is not None:
            g = self._grid
            text = _ext.grid_report_json(g.data, g.fit, g.reports)
            g.current = (0, 0)
            return text
        self._require_fit()
        text = _ext.report_json(self._report, self._fit, self._data)
        if self._trimming is None:
            return text
        doc = json.loads(text)
        doc["trimming"] = self.trimming
        return json.dumps(doc, indent=2)

    def to_dict(self) -> dict:
        return json.loads(self.to_json())

    # --- heterogeneity (GATE / BLP): the engine's Gate()/Blp() (include/fastdml/cate.h) ---
    def _column(self, name: str) -> np.ndarray:
        """A column of the fitted table (or a feature of the fitted X) as float64."""
        t = self._table
        if t is not None:
            names = list(t.columns) if hasattr(t, "iloc") else list(t.column_names)
            if name in names:
                col = t[name] if hasattr(t, "iloc") else t.column(name)
                try:
                    return np.asarray(col.to_numpy(dtype=np.float64, na_value=np.nan))
                except TypeError:
                    return np.asarray(col.to_numpy(), dtype=np.float64)
                except ValueError:
                    raise TypeError(f"column {name!r} is not numeric; pass gate(by=array_of_labels) "
                                    "for text groups") from None
        feats = list(self._data.feature_names)
        if name in feats:
            return np.asarray(self._data.x[:, feats.index(name)], dtype=np.float64)
        raise ValueError(f"no column {name!r} in the fitted data; columns: {feats if t is None else names}")

    def _grouping(self, by, bins):
        n = self._data.n
        if isinstance(by, str):
            name, values = by, self._column(by)
        else:
            name = getattr(by, "name", None) or "group"
            values = np.asarray(by.to_numpy() if hasattr(by, "to_numpy") else by)
            if values.ndim != 1 or values.shape[0] != n:
                raise ValueError(f"by must be a column name or {n} group labels, got shape {values.shape}")
            if values.dtype.kind not in "fiub":
                if bins:
                    raise TypeError("bins= needs numeric values")
                if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in values):
                    raise ValueError(f"by ({name}) has a missing label; every row needs a group")
                labels, codes = np.unique(values.astype(str), return_inverse=True)
                return _ext.grouping_from_codes(str(name), [str(x) for x in labels],
                                                np.ascontiguousarray(codes.reshape(-1), dtype=np.int32))
        # Contiguous float64 straight to the engine (a view where it already is).
        values = np.ascontiguousarray(values, dtype=np.float64)
        name = str(name)
        if bins:
            return _ext.group_by_quantiles(name, values, int(bins))
        return _ext.group_by_category(name, values)

    def _cate_cov(self, cov):
        """The covariance in force: ``cov`` if given, else cluster-robust when the
        fit has clusters (its estimates already are) and HC0 without."""
        if cov is not None:
            return cov
        return "cluster" if self._data.n_clusters > 0 else "HC0"

    def gate(self, by, bins=None, signal="ate", cov=None, level=None, B=0, seed=None) -> pd.DataFrame:
        """Group average treatment effects from the stored fit (no retraining).

        ``by``: a column of the fitted table (or a feature), or n group labels;
        ``bins=K`` cuts a numeric column into K quantile bins. ``signal="att"``
        (``"atc"``) gives group ATTs (ATCs) (IRM). ``cov``: HC0 (DoubleML's),
        HC1, HC3, cluster; the default is cluster with ``clusters`` given to
        :meth:`fit`, else HC0. ``B > 0`` adds joint (sup-t) bands and
        Romano-Wolf p-values. On a trimmed fit (``trim``) it raises ValueError,
        as the CLI refuses ``--trim`` with ``--cate-by``.
        """
        self._require_fit()
        self._require_untrimmed("gate()")
        g = self._grouping(by, bins)
        r = _ext.gate(self._data, self._fit, g, signal, self._cate_cov(cov), float(self.level if level is None else level),
                      float(self.clip), bool(self.normalize_ipw), int(B), int(self.seed if seed is None else seed))
        cols = ["n", "n_treated", "estimate", "se", "t", "p_value", "ci_lower", "ci_upper"]
        if B:
            cols += ["joint_ci_lower", "joint_ci_upper", "p_romano_wolf"]
        f = pd.DataFrame([{k: e[k] for k in cols} for e in r["groups"]],
                         index=pd.Index([e["label"] for e in r["groups"]], name=r["by"]))
        f.attrs.update(signal=r["signal"], level=r["level"])
        return f

    def blp(self, basis, cov=None, level=None, names=None, B=0, seed=None) -> pd.DataFrame:
        """Best linear predictor of the CATE on a basis, from the stored fit.

        ``basis``: a spec over the fitted table's columns such as
        ``"inventory_level,cat(category)"`` (``col``, ``cat(col)``,
        ``spline(col,K)``; an intercept is added), or an (n, k) array of basis
        values (``names`` optional; include a constant column yourself).
        ``cov`` as in :meth:`gate` (default: cluster with clusters, else HC0).
        ``B > 0`` prepares joint bands for :meth:`blp_predict`. On a trimmed
        fit (``trim``) it raises ValueError, as the CLI refuses ``--trim`` with
        ``--blp``.
        """
        self._require_fit()
        self._require_untrimmed("blp()")
        n = self._data.n
        if isinstance(basis, str):
            b = _ext.make_basis(basis, lambda c: np.ascontiguousarray(self._column(c), dtype=np.float64), n)
        else:
            arr = _basis_matrix(basis, n)
            if names is None:
                names = [str(c) for c in basis.columns] if hasattr(basis, "columns") else \
                    [f"b{j}" for j in range(arr.shape[1])]
            b = _ext.basis_from_matrix(arr, list(names))
        r = _ext.blp(self._data, self._fit, b, self._cate_cov(cov), float(self.level if level is None else level),
                     float(self.clip), bool(self.normalize_ipw), int(B), int(self.seed if seed is None else seed))
        self._blp = (b, r, isinstance(basis, str))
        return pd.DataFrame({"estimate": r.coef, "se": r.se, "t": r.t, "p_value": r.p_value,
                             "ci_lower": r.ci_lower, "ci_upper": r.ci_upper}, index=pd.Index(r.names, name="term"))

    def blp_predict(self, grid) -> pd.DataFrame:
        """The last :meth:`blp` evaluated at new points, with pointwise (and, after
        ``blp(..., B>0)``, joint) bands. ``grid``: a DataFrame of the raw columns
        the spec names (levels and knots stay those of the fitted data), or for a
        matrix basis an (m, k) array of basis values."""
        self._require_fit()
        if self._blp is None:
            raise RuntimeError("call blp(basis) first")
        fitted, result, from_spec = self._blp
        if from_spec:
            if not hasattr(grid, "columns"):
                raise TypeError("for a basis spec, grid must be a pandas DataFrame of the raw columns")
            m = len(grid)

            def column(c):
                if c not in grid.columns:
                    raise ValueError(f"grid has no column {c!r}; columns: {list(grid.columns)}")
                return np.ascontiguousarray(grid[c], dtype=np.float64)

            g = _ext.make_basis_like(fitted, column, m)
        else:
            g = _ext.basis_from_matrix(_basis_matrix(grid, None, fitted.k), list(fitted.names))
        p = _ext.predict_blp(result, g)
        out = pd.DataFrame({k: p[k] for k in ("estimate", "se", "ci_lower", "ci_upper")})
        if p["has_joint"]:
            out["joint_ci_lower"], out["joint_ci_upper"] = p["joint_ci_lower"], p["joint_ci_upper"]
        return out

    def __repr__(self):
        state = "fitted" if self._fit is not None else "not fitted"
        if self._grid is not None:
            state = f"fitted grid of {len(self._grid.outcomes)} outcome(s) x {len(self._grid.treatments)} treatment(s)"
        if self._full is not None:
            state += f", trimmed to {self._trimming['rows_kept']} of {self._trimming['rows']} rows"
        return (f"DML(model={self.model!r}, n_folds={self.n_folds}, n_rep={self.n_rep}, "
                f"device={self.device!r}, seed={self.seed}) [{state}]")


def _basis_matrix(basis, n, k=None) -> np.ndarray:
    arr = np.ascontiguousarray(basis.to_numpy() if hasattr(basis, "to_numpy") else basis, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or (n is not None and arr.shape[0] != n) or (k is not None and arr.shape[1] != k):
        want = f"({n}, k)" if n is not None else f"(m, {k})"
        raise ValueError(f"basis must be a spec string or a {want} array, got shape {arr.shape}")
    return arr


def _frame(report) -> pd.DataFrame:
    rows = []
    for e in report.estimates:
        row = {k: e[k] for k in _SUMMARY_COLUMNS}
        if e["has_joint"]:
            row["joint_ci_lower"], row["joint_ci_upper"] = e["joint_ci_lower"], e["joint_ci_upper"]
        for method, p in e["p_adjusted"].items():
            row[f"p_{method}"] = p
        rows.append(row)
    f = pd.DataFrame(rows, index=pd.Index([e["estimand"] for e in report.estimates], name="estimand"))
    f.attrs["level"] = report.level
    return f


_GRID_TRIM = ("trim takes one (outcome, treatment) pair, as the CLI refuses --trim on a grid: fit the grid "
              "without trim, then dml.cell(outcome, treatment).estimate(trim=...)")


def _names_arg(value, what: str):
    """outcome=/treatment=: a name, or a list (tuple) of names; a one-element
    list is that name (the one-pair fit, exactly as before)."""
    if isinstance(value, (list, tuple)):
        names = list(value)
        if not names:
            raise ValueError(f"{what}: name at least one column")
        return names[0] if len(names) == 1 else names
    return value


class _Grid:
    """A grid fit: the one Dataset (X once; y and d hold the selected cell's
    copies), the engine's GridFit and one report per cell, outcome-major."""

    def __init__(self, data, fit, outcomes, treatments):
        self.data, self.fit = data, fit
        self.outcomes, self.treatments = outcomes, treatments
        self.current = (0, 0)  # FitGrid leaves cell (0, 0) selected
        self.reports = []

    def cells(self):
        return [(j, k) for j in range(len(self.outcomes)) for k in range(len(self.treatments))]

    def index(self, j, k) -> int:
        return j * len(self.treatments) + k

    def select(self, j, k):
        """The Dataset with cell (j, k) current (copies its 2n values when it was not)."""
        if self.current != (j, k):
            self.data.select_cell(j, k)
            self.current = (j, k)
        return self.data

    def position(self, outcome, treatment):
        for name, names, what in ((outcome, self.outcomes, "outcome"), (treatment, self.treatments, "treatment")):
            if str(name) not in names:
                raise ValueError(f"{name!r} is not a{'n' if what == 'outcome' else ''} {what} of this grid; "
                                 f"{what}s: {names}")
        return self.outcomes.index(str(outcome)), self.treatments.index(str(treatment))


class _CellDML(DML):
    """DML.cell(): one cell of a grid as a one-pair DML over the grid's shared
    Dataset, whose y and d are made this cell's whenever it is read."""

    @property
    def _data(self):
        data = self.__dict__["_cell_data"]
        g, j, k = self._cell
        return g.select(j, k) if data is g.data else data

    @_data.setter
    def _data(self, value):
        self.__dict__["_cell_data"] = value

    def _set_sample(self, trim):
        g, j, k = self._cell
        g.select(j, k)  # the full sample may be the shared Dataset: this cell's columns first
        super()._set_sample(trim)

    def sensitivity_benchmark(self, features, null_hypothesis=0.0):
        raise ValueError("sensitivity_benchmark refits one (outcome, treatment) pair without the features, as the "
                         "CLI refuses --sensitivity-benchmark on a grid: fit this pair alone "
                         "(outcome=..., treatment=... with one name each) to benchmark it")

    def __repr__(self):
        g, j, k = self._cell
        return super().__repr__()[:-1] + f", cell ({g.outcomes[j]!r}, {g.treatments[k]!r}) of a grid]"
