"""Graph format v1 stays compatible: old graphs validate and export byte-for-byte as before.

The golden files in `tests/core/golden/` were written by `make_golden.py` from
main before the format gained several inputs, ports, blocks and parameter nodes.
"""

from __future__ import annotations

import json

import pytest

from server.export import export_code
from server.validation import Limits, validate_graph

from .golden.make_golden import HERE, graph_files, key

# The limits of the day the golden files were written; today's defaults are larger.
OLD = Limits(max_nodes=500, max_params=50_000_000)

REPORTS = json.loads((HERE / "reports.json").read_text(encoding="utf-8"))
FILES = graph_files()


def test_every_graph_file_has_a_golden_report():
    assert sorted(REPORTS) == sorted(key(p) for p in FILES)


@pytest.mark.parametrize("path", FILES, ids=[key(p) for p in FILES])
def test_graph_validates_and_exports_as_before(path):
    g = json.loads(path.read_text(encoding="utf-8"))
    report = validate_graph(g, OLD)
    assert report.model_dump(mode="json") == REPORTS[key(path)]
    if report.valid:
        for fmt in ("module", "script"):
            golden = HERE / f"{key(path).replace('/', '__')}.{fmt}.txt"
            assert export_code(g, fmt, OLD) == golden.read_text(encoding="utf-8")
