"""Re-executes the committed notebooks (notebooks/*.ipynb) so they cannot rot.

Each notebook runs top to bottom in a fresh kernel; any cell error fails the
test. The committed files must carry their outputs (every code cell executed).
"""
from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat not installed (scripts/setup installs it)")
nbclient = pytest.importorskip("nbclient", reason="nbclient not installed (scripts/setup installs it)")
pytest.importorskip("fastdml", reason="fastdml package not installed (scripts/test builds it with pip)")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ["quickstart", "case_study", "comparison"]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_with_outputs(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{name} has no code cells"
    unexecuted = [i for i, c in enumerate(code) if c.get("execution_count") is None]
    assert not unexecuted, f"{name}: code cells {unexecuted} were committed without outputs"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{name} was committed with an error output: {errors[0].get('ename')}"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError naming the cell on any error
