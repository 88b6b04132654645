"""Writes the golden exports and reports that `test_golden.py` compares against.

Run once from the repository root, on the commit whose output is the reference
(it was run on main before graph format v1 gained ports, blocks and several
inputs), with `PYTHONPATH=$PWD python tests/core/golden/make_golden.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

from server.export import export_code
from server.validation import validate_graph

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent


def graph_files() -> list[Path]:
    """Every example and every graph file under tests/ (expectations excluded)."""
    files = sorted((ROOT / "examples").glob("*.json"))
    files += sorted(p for p in (ROOT / "tests").rglob("*.json")
                    if not p.name.endswith(".expect.json") and "golden" not in p.parts)
    return files


def key(path: Path) -> str:
    return str(path.relative_to(ROOT))


def main() -> None:
    reports = {}
    for path in graph_files():
        g = json.loads(path.read_text(encoding="utf-8"))
        report = validate_graph(g)
        reports[key(path)] = report.model_dump(mode="json")
        if report.valid:
            for fmt in ("module", "script"):
                out = HERE / f"{key(path).replace('/', '__')}.{fmt}.txt"
                out.write_text(export_code(g, fmt), encoding="utf-8")
    (HERE / "reports.json").write_text(json.dumps(reports, indent=1, sort_keys=True) + "\n",
                                       encoding="utf-8")


if __name__ == "__main__":
    main()
