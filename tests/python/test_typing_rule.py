"""The typing rule (docs/cli.md, "Input") in the Python package and the CLI's
Parquet input: a text column of numbers is numeric, a text column with no
number is left out of the default features, and numbers with one stray word
are an error naming the column, the first bad row and the cell."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import run_cli

fastdml = pytest.importorskip("fastdml", reason="fastdml package not installed (scripts/test builds it with pip)")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from fastdml._inputs import build_dataset  # noqa: E402


def frame(n=200, bad_at=None):
    rng = np.random.default_rng(0)
    z = [str(float(v)) for v in rng.normal(size=n)]
    if bad_at is not None:
        z[bad_at] = "oops"
    return pd.DataFrame({
        "y": rng.normal(size=n), "d": np.arange(n) % 2, "x": rng.normal(size=n),
        "z": pd.Series(z, dtype=object), "shop": [f"shop{k % 3}" for k in range(n)],
    })


def build(table, **kw):
    return build_dataset(table, None, None, weights=None, clusters=None, outcome="y", treatment="d",
                         features=None, device="cpu", binary=True, min_rows=2, **kw)


@pytest.mark.parametrize("as_arrow", [False, True])
def test_stray_word_among_numbers_is_an_error(as_arrow):
    df = frame(bad_at=149)
    table = pa.Table.from_pandas(df, preserve_index=False) if as_arrow else df
    with pytest.raises(ValueError) as err:
        build(table)
    message = str(err.value)
    assert "'z'" in message and "row 149" in message and "'oops'" in message, message


@pytest.mark.parametrize("as_arrow", [False, True])
def test_text_of_numbers_is_numeric_and_text_is_left_out(as_arrow):
    df = frame()
    df.loc[3, "z"] = None  # a missing cell
    df.loc[4, "z"] = " NA "
    table = pa.Table.from_pandas(df, preserve_index=False) if as_arrow else df
    ds = build(table)
    assert list(ds.feature_names) == ["x", "z"]
    z = np.asarray(ds.x)[:, 1]
    want = pd.to_numeric(df["z"].where(~df["z"].isin([" NA "])), errors="coerce").to_numpy(np.float32)
    np.testing.assert_array_equal(z, want)
    assert np.isnan(z[3]) and np.isnan(z[4])


def test_dictionary_column_of_numbers(tmp_path):
    df = frame()
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.set_column(3, "z", table.column("z").dictionary_encode())
    ds = build(table)
    assert list(ds.feature_names) == ["x", "z"]


def test_cli_parquet_from_pandas_follows_the_same_rule(cli, tmp_path):
    bad = tmp_path / "bad.parquet"
    frame(bad_at=149).to_parquet(bad, index=False)
    proc = run_cli(cli, ["estimate", "--data", bad, "--outcome", "y", "--treatment", "d", "--rounds", "5"],
                   check=False)
    assert proc.returncode != 0
    assert "column 'z'" in proc.stderr and "data row 150" in proc.stderr and "'oops'" in proc.stderr, proc.stderr
    good = tmp_path / "good.parquet"
    frame().to_parquet(good, index=False)
    out = tmp_path / "good.json"
    proc = run_cli(cli, ["estimate", "--data", good, "--outcome", "y", "--treatment", "d", "--rounds", "5",
                         "--folds", "2", "--json", out])
    assert "non-numeric columns left out of the features: shop" in proc.stderr
    assert "z" in open(out).read()
