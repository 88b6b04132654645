"""Read the example graphs listed in `examples/index.json`.

Only names from the index are read, and only as `<examples dir>/<name>.json`,
so no request can make the server read another file.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any


def load_examples(folder: Path) -> list[dict[str, Any]]:
    index = folder / "index.json"
    try:
        stamp = index.stat().st_mtime_ns
    except FileNotFoundError:
        return []
    return _load(folder, stamp)


@lru_cache(maxsize=4)
def _load(folder: Path, stamp: int) -> list[dict[str, Any]]:
    entries = json.loads((folder / "index.json").read_text(encoding="utf-8"))["templates"]
    return [{**entry, "graph": json.loads((folder / f"{entry['name']}.json").read_text(
        encoding="utf-8"))} for entry in entries]
