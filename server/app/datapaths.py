"""Paths inside graphs come from users: only server-made upload paths may pass.

A graph's `data.params` can name a file or folder (`csv`, `imagefolder`).
Anything sent to the API may only point inside the data dir's uploads folder,
which holds only what the server itself wrote under server-made ids; otherwise
a graph could make the server read (or torchvision write) anywhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PATH_KEYS = {"path", "root", "dir", "file", "folder"}
PATH_SUFFIXES = ("_path", "_root", "_dir", "_file", "_folder")


def is_path_key(key: str) -> bool:
    k = key.lower()
    return k in PATH_KEYS or k.endswith(PATH_SUFFIXES)


def inside(path: str, folder: Path) -> bool:
    """True if `path`, with links and `..` resolved, lies strictly inside `folder`."""
    if not isinstance(path, str) or "\x00" in path or not path.strip():
        return False
    p = Path(os.path.expanduser(path))
    if not p.is_absolute():
        return False  # relative paths would depend on the server's working directory
    real = Path(os.path.realpath(p))
    root = Path(os.path.realpath(folder))
    return real != root and real.is_relative_to(root)


def foreign_paths(graph: dict[str, Any], uploads: Path) -> list[dict[str, Any]]:
    """Errors (validator shape) for each data param (or start-weights file) naming a path
    outside `uploads`."""
    errors = []
    init = graph.get("init") if isinstance(graph, dict) else None
    weights = init.get("weights") if isinstance(init, dict) else None
    if weights is not None and not inside(weights, uploads):
        errors.append({"node": None, "param": "weights", "component": "init",
                       "message": "init.weights: the server reads only files uploaded to it; "
                                  "train from start weights with `torchcanvas train`"})
    data = graph.get("data") if isinstance(graph, dict) else None
    params = data.get("params") if isinstance(data, dict) else None
    if not isinstance(params, dict):
        return errors
    for key, value in params.items():
        if is_path_key(key) and value is not None and not inside(value, uploads):
            errors.append({"node": None, "param": key, "component": "data",
                           "message": f"data.params.{key}: only uploaded datasets can be used "
                                      "here; upload the file through the Data panel"})
    return errors
