"""Turns user inputs (numpy, pandas, pyarrow, CUDA arrays) into the engine's Dataset.

Every input is converted once, straight into the Dataset's own buffers through
writable numpy views (``Dataset.x`` etc.): X is float32 row-major in the
engine, so float64 or integer X is converted in that single pass and float32 X
is copied once. Nothing else is copied.
"""
from __future__ import annotations

import numpy as np

from . import _ext

_NUMERIC_KINDS = "fiub"  # float, signed, unsigned, bool


def _is_dataframe(obj) -> bool:
    return type(obj).__module__.startswith("pandas") and hasattr(obj, "columns") and hasattr(obj, "iloc")


def _is_arrow_table(obj) -> bool:
    return type(obj).__module__.startswith("pyarrow") and hasattr(obj, "column_names")


def _on_cuda(obj) -> bool:
    """True for cupy arrays and anything with __cuda_array_interface__ or a CUDA DLPack device."""
    if hasattr(obj, "__cuda_array_interface__"):
        return True
    dev = getattr(obj, "__dlpack_device__", None)
    if dev is not None:
        try:
            return int(dev()[0]) in (2, 3, 13)  # kDLCUDA, kDLCUDAHost, kDLCUDAManaged
        except Exception:  # noqa: BLE001 - an odd object is simply not on CUDA
            return False
    return False


def _cuda_not_usable(what: str, device: str) -> str | None:
    """Why a CUDA array cannot be taken (None when it can)."""
    if not _ext.build_info()["cuda"]:
        return (f"{what} is a CUDA device array, but this fastdml build has no CUDA "
                "(it was built with FASTDML_CUDA=OFF, e.g. on a machine without nvcc). "
                "Pass a host array (cupy: X.get(); torch: X.cpu().numpy()) or rebuild on a CUDA machine.")
    if device == "cpu":
        return (f"{what} is a CUDA device array but device='cpu'; use device='cuda' (or 'auto'), "
                "or pass a host array")
    try:
        resolved = _ext.resolve_device(device)
    except RuntimeError as e:  # device='cuda' that cannot be met: the engine says which part is missing
        return f"{what} is a CUDA device array but {e}"
    if resolved == "cpu":
        return (f"{what} is a CUDA device array but device={device!r} resolves to the CPU here "
                "(no usable GPU, or libxgboost without CUDA); pass a host array")
    return None


def _host_1d(obj, what: str, device: str) -> np.ndarray:
    """A 1-D host array view of `obj` (no copy where numpy allows)."""
    if _on_cuda(obj):
        why = _cuda_not_usable(what, device)
        if why:
            raise TypeError(why)
        if hasattr(obj, "get"):  # cupy: y, d, weights are n values, copied to the host once
            obj = obj.get()
        else:
            raise TypeError(f"{what}: only X may be a generic CUDA array; pass {what} as a host or cupy array")
    if hasattr(obj, "to_numpy") and not isinstance(obj, np.ndarray):
        obj = obj.to_numpy()  # pandas Series, pyarrow (Chunked)Array
    elif hasattr(obj, "__dlpack__") and not isinstance(obj, np.ndarray):
        obj = np.from_dlpack(obj)
    arr = np.asarray(obj)
    if arr.ndim == 2 and 1 in arr.shape:
        raise ValueError(f"{what} has shape {arr.shape}; pass a 1-D array of length n (e.g. {what}.ravel())")
    if arr.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got an array of shape {arr.shape}")
    return arr


def _check_numeric(arr: np.ndarray, what: str) -> None:
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"{what} has dtype {arr.dtype}; it must be numeric (float, int or bool)")


def _first_bad(mask: np.ndarray, index) -> str:
    i = int(np.flatnonzero(mask)[0])
    label = "" if index is None else f" (index label {index[i]!r})"
    return f"row {i}{label}"


def _fill_1d(dst: np.ndarray, src, what: str, n: int, device: str, index, finite: bool = True) -> None:
    arr = _host_1d(src, what, device)
    _check_numeric(arr, what)
    if arr.shape[0] != n:
        raise ValueError(f"{what} has {arr.shape[0]} values but X has {n} rows")
    dst[...] = arr
    if finite:
        bad = ~np.isfinite(dst)
        if bad.any():
            kind = "NaN (missing)" if np.isnan(dst[bad][0]) else "infinite"
            raise ValueError(f"{what} is {kind} at {_first_bad(bad, index)}; "
                             f"{what} must be finite: drop or impute those rows first")


# Rows per block when filling row-major X from columns: a block of X stays in
# cache while every column writes into it (column-at-a-time strided writes over
# the whole X were 5x slower; bench/python_package.py).
_BLOCK_ROWS = 4096


def _fill_x_columns(ds, columns, names) -> None:
    """Fills X from columns (pandas / pyarrow): each column's values are read
    through a view where the library allows and converted once into X."""
    arrays = []
    for name, col in zip(names, columns):
        if hasattr(col, "to_numpy"):
            if isinstance(getattr(col, "dtype", None), np.dtype):
                col = col.to_numpy()  # numpy-backed pandas column: a view, no copy
            else:
                try:
                    col = col.to_numpy(dtype=np.float64, na_value=np.nan)  # pandas nullable dtypes
                except TypeError:
                    col = col.to_numpy()  # pyarrow: zero-copy where it can
                except ValueError as e:
                    raise TypeError(f"feature column {name!r} is not numeric ({e}); "
                                    "encode it (e.g. category codes) or leave it out of features") from None
        arr = np.asarray(col)
        if arr.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"feature column {name!r} has dtype {arr.dtype}; features must be numeric: "
                            "encode it (e.g. pandas .cat.codes) or leave it out of features")
        arrays.append(arr)
    x = ds.x
    n = x.shape[0]
    with np.errstate(over="ignore"):  # overflow is reported below, by column and row
        for start in range(0, n, _BLOCK_ROWS):
            stop = min(n, start + _BLOCK_ROWS)
            for j, arr in enumerate(arrays):
                x[start:stop, j] = arr[start:stop]
    if np.isinf(x).any():
        for j, (name, arr) in enumerate(zip(names, arrays)):
            _check_float32_range(x[:, j], arr, f"feature column {name!r}", None)


def _check_float32_range(dst, src, what, index) -> None:
    over = np.isinf(dst) & np.isfinite(src)
    if over.any():
        raise ValueError(f"{what} holds a value beyond float32 range (|x| > 3.4e38) at "
                         f"{_first_bad(over.reshape(over.shape[0], -1).any(axis=1), index)}; rescale it")


def _dense_ids(values, what: str, index) -> tuple[np.ndarray, int]:
    """Cluster ids -> 0..C-1 in increasing order of the id (as the CSV reader maps them)."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            raise ValueError(f"{what} must hold integer ids; {_first_bad(bad, index)} has {arr[bad][0]!r}")
    elif arr.dtype.kind == "O":
        missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in arr])
        if missing.any():
            raise ValueError(f"{what} has a missing id at {_first_bad(missing, index)}")
    uniq, inverse = np.unique(arr, return_inverse=True)
    if len(uniq) < 2:
        raise ValueError(f"{what} has {len(uniq)} distinct id(s); cluster-robust inference needs at least 2")
    return inverse.astype(np.int32).reshape(-1), int(len(uniq))


_MISSING_TEXT = {"", "na", "nan", "null"}  # the CSV reader's missing cells (src/io/csv.h)


def _text_as_numbers(name, col, index):
    """The typing rule of docs/cli.md for a text column (pandas object/string,
    pyarrow string or dictionary): float64 values when every non-missing cell
    is a number, None when no cell is (a text column, left out of the default
    features), and a ValueError naming the column, the first bad row and the
    cell when numbers and words are mixed."""
    import pandas as pd

    series = col if isinstance(col, pd.Series) else col.to_pandas()
    cells = series.astype(object)
    text = cells.map(lambda v: v.strip() if isinstance(v, str) else v)
    missing = text.isna().to_numpy() | text.map(
        lambda v: isinstance(v, str) and v.lower() in _MISSING_TEXT).to_numpy(dtype=bool)
    values = pd.to_numeric(text.where(~missing, np.nan), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values) & ~missing
    if not (~bad & ~missing).any():
        return None
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(f"column {name!r} holds numbers but {_first_bad(bad, index)} has {cells.iloc[first]!r}, "
                         "which is not a number; fix or blank that cell (missing: empty, NA, NaN, null), "
                         "or pass features=[...] without the column")
    return values


def build_dataset(X, y, d, *, weights, clusters, outcome, treatment, features, device, binary, min_rows,
                  folds=None):
    """Validated engine Dataset from arrays (X, y, d) or a table plus column names.

    ``outcome`` and ``treatment`` may be lists of column names (a grid, fitted
    by FitGrid): the Dataset then holds every outcome and treatment column
    (``Dataset.set_grid``) beside the one X, with cell (0, 0) selected.
    """
    index = None
    cluster_name = "cluster"
    grid = isinstance(outcome, list) or isinstance(treatment, list)
    if outcome is not None or treatment is not None:
        if not (_is_dataframe(X) or _is_arrow_table(X)):
            raise TypeError("outcome=/treatment= name columns: pass a pandas DataFrame or a pyarrow Table "
                            f"as the first argument, not {type(X).__name__}")
        if outcome is None or treatment is None:
            raise ValueError("table input needs both outcome= and treatment= (column names)")
        if y is not None or d is not None:
            raise ValueError("pass either (X, y, d) arrays or a table with outcome=/treatment=, not both")
        table = X
        all_names = list(table.columns) if _is_dataframe(table) else list(table.column_names)
        get = (lambda c: table[c]) if _is_dataframe(table) else (lambda c: table.column(c))
        if _is_dataframe(table):
            index = table.index

        def column(name, role):
            if name not in all_names:
                raise ValueError(f"{role} column {name!r} is not in the table; columns: {all_names}")
            return get(name)

        outcomes = outcome if isinstance(outcome, list) else [outcome]
        treatments = treatment if isinstance(treatment, list) else [treatment]
        roles = {}
        for names_, role in ((outcomes, "outcome"), (treatments, "treatment")):
            for c in names_:
                column(c, role)
                if c in roles:
                    if roles[c] == role:
                        raise ValueError(f"{role} column {c!r} listed twice")
                    if not grid:
                        raise ValueError(f"column {c!r} is both the outcome and the treatment")
                    raise ValueError(f"column {c!r} is both an outcome and a treatment")
                roles[c] = role
        y_src, d_src = get(outcomes[0]), get(treatments[0])
        if isinstance(weights, str):
            roles[weights] = "weights"
            weights = column(weights, "weights")
        if isinstance(clusters, str):
            roles[clusters] = "clusters"
            cluster_name = clusters
            clusters = column(clusters, "clusters")
        converted = {}  # text columns of numbers, as float64 (the typing rule)
        if isinstance(folds, str):
            roles[folds] = "folds"
            folds = column(folds, "folds")
        if features is None:
            # Default as in the CLI: every other numeric column (a grid: every
            # outcome and treatment left out); a text column is left out,
            # numbers with a stray word are an error.
            features = []
            for c in all_names:
                if c in roles:
                    continue
                col = get(c)
                if _is_dataframe(table):
                    import pandas.api.types as pdt
                    if pdt.is_numeric_dtype(col.dtype) or pdt.is_bool_dtype(col.dtype):
                        features.append(c)
                        continue
                    is_text = pdt.is_object_dtype(col.dtype) or pdt.is_string_dtype(col.dtype)
                else:
                    import pyarrow.types as pat
                    if pat.is_integer(col.type) or pat.is_floating(col.type) or pat.is_boolean(col.type):
                        features.append(c)
                        continue
                    is_text = pat.is_string(col.type) or pat.is_large_string(col.type) or \
                        pat.is_dictionary(col.type)
                if is_text:
                    values = _text_as_numbers(c, col, index)
                    if values is not None:
                        converted[c] = values
                        features.append(c)
        else:
            features = list(features)
            for c in features:
                if c in roles:
                    role = roles[c]
                    if grid and role in ("outcome", "treatment"):
                        role = f"{'an' if role == 'outcome' else 'a'} {role}"
                    else:
                        role = f"the {role}"
                    raise ValueError(f"column {c!r} is {role} and cannot also be a feature")
                column(c, "feature")
            dup = {c for c in features if features.count(c) > 1}
            if dup:
                raise ValueError(f"feature column(s) {sorted(dup)} listed twice")
        if not features:
            raise ValueError("no numeric feature columns: pass features=[...]")
        n = len(table) if _is_dataframe(table) else table.num_rows
        ds = _ext.Dataset(n, len(features))
        _fill_x_columns(ds, [converted[c] if c in converted else get(c) for c in features], features)
        names = [str(c) for c in features]
        ds.outcome_name, ds.treatment_name = str(outcomes[0]), str(treatments[0])
    else:
        if y is None or d is None:
            raise ValueError("fit(X, y, d): y and d are required (or pass a table with outcome=/treatment=)")
        y_src, d_src = y, d
        if _is_dataframe(X) or _is_arrow_table(X):
            names = [str(c) for c in (X.columns if _is_dataframe(X) else X.column_names)]
            n = len(X) if _is_dataframe(X) else X.num_rows
            cols = [X[c] for c in X.columns] if _is_dataframe(X) else [X.column(c) for c in X.column_names]
            if _is_dataframe(X):
                index = X.index
            ds = _ext.Dataset(n, len(names))
            _fill_x_columns(ds, cols, names)
        elif _on_cuda(X):
            why = _cuda_not_usable("X", device)
            if why:
                raise TypeError(why)
            cai = getattr(X, "__cuda_array_interface__", None)
            if cai is None or cai.get("typestr") != "<f4" or cai.get("strides") is not None \
                    or len(cai["shape"]) != 2:
                raise TypeError("a CUDA X must be a C-contiguous 2-D float32 array exposing "
                                "__cuda_array_interface__ (e.g. cupy.ascontiguousarray(X, dtype=cupy.float32))")
            n, p = cai["shape"]
            ds = _ext.Dataset(n, p)
            _ext.copy_device_x(ds, int(cai["data"][0]), n * p * 4)
            names = [f"x{j}" for j in range(p)]
        else:
            if hasattr(X, "__dlpack__") and not isinstance(X, np.ndarray):
                X = np.from_dlpack(X)
            arr = np.asarray(X)
            if arr.ndim != 2:
                raise ValueError(f"X must be 2-D (n rows x p features), got shape {arr.shape}"
                                 + ("; for one feature use X.reshape(-1, 1)" if arr.ndim == 1 else ""))
            _check_numeric(arr, "X")
            n, p = arr.shape
            ds = _ext.Dataset(n, p)
            with np.errstate(over="ignore"):  # overflow is reported below, by row
                ds.x[...] = arr  # the one copy (and float32 conversion) into the engine
            if arr.dtype.kind == "f" and arr.dtype.itemsize > 4 and np.isinf(ds.x).any():
                _check_float32_range(ds.x, arr, "X", None)
            names = [f"x{j}" for j in range(p)]
    if n < min_rows:
        raise ValueError(f"{n} rows; n_folds={min_rows} needs at least {min_rows}")
    ds.feature_names = names
    if grid:
        # Every column once into the grid's own buffers; y and d are then
        # cell (0, 0)'s copies (select_cell).
        ds.set_grid([str(c) for c in outcomes], [str(c) for c in treatments])
        for j, c in enumerate(outcomes):
            _fill_1d(ds.grid_outcome(j), get(c), f"outcome {c!r}", n, device, index)
        for k, c in enumerate(treatments):
            dst = ds.grid_treatment(k)
            _fill_1d(dst, get(c), f"treatment {c!r}", n, device, index)
            if binary:
                _check_binary(dst, index, f" (treatment {c!r})")
        ds.select_cell(0, 0)
    else:
        _fill_1d(ds.y, y_src, "y" if outcome is None else f"outcome {outcome!r}", n, device, index)
        _fill_1d(ds.d, d_src, "d" if treatment is None else f"treatment {treatment!r}", n, device, index)
        if binary:
            _check_binary(ds.d, index, "")
    if weights is not None:
        w = ds.alloc_weights()
        _fill_1d(w, weights, "weights", n, device, index)
        bad = w <= 0
        if bad.any():
            raise ValueError(f"weights must be positive; {_first_bad(bad, index)} has {w[bad][0]!r}")
    if clusters is not None:
        ids = _host_1d(clusters, "clusters", device)
        if ids.shape[0] != n:
            raise ValueError(f"clusters has {ids.shape[0]} values but X has {n} rows")
        dense, count = _dense_ids(ids, "clusters", index)
        ds.set_clusters(dense, count, cluster_name)
    if folds is not None:
        f = _host_1d(folds, "folds", device)
        if f.shape[0] != n:
            raise ValueError(f"folds has {f.shape[0]} values but X has {n} rows")
        if f.dtype.kind not in "iu" and not (f.dtype.kind == "f" and np.all(f == np.round(f))):
            raise ValueError(f"folds must hold integer fold ids 0..K-1, got dtype {f.dtype}")
        ds.set_folds(np.ascontiguousarray(f, dtype=np.int32))
    ds.validate(min_rows, binary)
    return ds


def _check_binary(d: np.ndarray, index, which: str) -> None:
    not01 = (d != 0.0) & (d != 1.0)
    if not01.any():
        raise ValueError(f"the treatment must be 0 or 1 for model='irm'{which}; {_first_bad(not01, index)} has "
                         f"{d[not01][0]!r} (a continuous treatment needs model='plr'; a multi-valued one, "
                         "integer levels, is estimated by the command line's --treatment-levels: APOs and "
                         "contrasts per level, docs/cli.md)")
