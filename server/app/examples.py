"""Read the example graphs listed in `examples/templates.toml`.

Only files the index names are read (`<examples dir>/<name>.json`, or the
entry's `file` under the examples dir), so no request can make the server read
another file.
"""

from __future__ import annotations

import json
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

INDEX = "templates.toml"


def load_examples(folder: Path) -> list[dict[str, Any]]:
    index = folder / INDEX
    try:
        stamp = index.stat().st_mtime_ns
    except FileNotFoundError:
        return []
    return _load(folder, stamp)


@lru_cache(maxsize=4)
def _load(folder: Path, stamp: int) -> list[dict[str, Any]]:
    entries = tomllib.loads((folder / INDEX).read_text(encoding="utf-8"))["template"]
    return [{**{k: v for k, v in entry.items() if k != "file"},
             "graph": json.loads((folder / entry.get("file", f"{entry['name']}.json"))
                                 .read_text(encoding="utf-8"))} for entry in entries]
