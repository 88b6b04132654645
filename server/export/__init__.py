"""PyTorch code export: the graph as code a person would be glad to have written.

`export_code(graph, "module")` writes one standalone `nn.Module` class;
`"script"` adds data loading with the real loaders, the training loop as
PyTorch teaches it, and a command line with `--epochs` and `--dry-run`. Every
file is parsed with `ast.parse` before it is returned.
"""

from __future__ import annotations

import ast
from typing import Literal

from server.graph import Graph
from server.validation import InvalidGraph, Limits, require_valid

from .module import module_source
from .script import script_source

Format = Literal["module", "script"]
FORMATS = ("module", "script")

__all__ = ["FORMATS", "InvalidGraph", "export_code"]


def export_code(graph: Graph | dict, format: Format = "module",
                limits: Limits | None = None) -> str:
    """Python source for the graph; raises InvalidGraph, or ValueError for a bad format."""
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; use 'module' or 'script'")
    analysis = require_valid(graph, limits)
    source = module_source(analysis) if format == "module" else script_source(analysis)
    ast.parse(source)  # a generated file that does not parse is our bug: fail loudly
    return source
