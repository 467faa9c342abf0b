"""Proof that refactoring changed no number: a fixed matrix of CLI runs
(IRM/PLR, ATE/ATT, 1 and 3 repetitions, clusters, weights, normalize_ipw,
every bootstrap method and sampler, GATE, BLP, sorted GATES, CLAN, the CATE
model) is compared with the JSON recorded in tests/golden/ to 1e-12
(tests/golden/golden.py says how to re-record after a deliberate change)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
_spec = importlib.util.spec_from_file_location("golden", GOLDEN / "golden.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)


@pytest.fixture(scope="module")
def golden_runs(cli, tmp_path_factory):
    work = tmp_path_factory.mktemp("golden")
    paths = golden.simulate(cli, work)
    return {name: golden.run_case(cli, name, paths) for name in golden.order(golden.CASES)}


@pytest.mark.parametrize("name", sorted(golden.CASES))
def test_report_equals_golden(golden_runs, name):
    diffs = golden.compare(json.loads((GOLDEN / f"{name}.json").read_text()), golden_runs[name])
    assert not diffs, f"{name}: {len(diffs)} differences from tests/golden/{name}.json\n" + "\n".join(diffs[:20])


def test_compare_catches_a_change_past_the_tolerance():
    want = {"estimates": [{"estimate": 1.5, "ci": [0.1, 2.0]}], "label": "ate"}
    assert golden.compare(want, json.loads(json.dumps(want))) == []
    moved = {"estimates": [{"estimate": 1.5 * (1 + 1e-11), "ci": [0.1, 2.0]}], "label": "ate"}
    assert golden.compare(want, moved), "a relative change of 1e-11 must be reported"
    within = {"estimates": [{"estimate": 1.5 * (1 + 1e-13), "ci": [0.1, 2.0]}], "label": "ate"}
    assert golden.compare(want, within) == []
    assert golden.compare(want, {"estimates": [{"estimate": 1.5}], "label": "ate"}), "a lost field must be reported"
