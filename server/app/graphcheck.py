"""Graph bodies from the API: parsed, path-checked, validated, with errors as answers.

Paths are checked before anything else looks at the graph: validating a graph
describes its dataset, which would read the file a path names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from server.graph import Graph, GraphFormatError, parse_graph
from server.validation import InvalidGraph, Issue, Validation, require_valid, validate_graph

from .context import ApiError
from .datapaths import foreign_paths


def report(body: dict[str, Any], uploads: Path) -> Validation:
    """The validation report; a foreign data path is one more error, never a read."""
    bad = foreign_paths(body, uploads)
    if not bad:
        return validate_graph(body)
    validation = validate_graph({k: v for k, v in body.items() if k != "data"})
    validation.errors.extend(Issue(**e) for e in bad)
    validation.valid = False
    return validation


def require_safe_paths(body: dict[str, Any], uploads: Path) -> None:
    """422 naming each data path outside the uploads folder, before anything reads one."""
    if bad := foreign_paths(body, uploads):
        raise ApiError(422, bad[0]["message"], bad)


def parsed(body: dict[str, Any], uploads: Path) -> Graph:
    """A well-formed graph with safe paths (it may still be invalid), else 422."""
    require_safe_paths(body, uploads)
    try:
        return parse_graph(body)
    except GraphFormatError as exc:
        raise ApiError(422, "not a graph (format v1)", exc.errors) from None


def valid(body: dict[str, Any], uploads: Path) -> Graph:
    """A valid graph, else 422 with every error."""
    graph = parsed(body, uploads)
    try:
        require_valid(graph)
    except InvalidGraph as exc:
        raise invalid(exc) from None
    return graph


def invalid(exc: InvalidGraph) -> ApiError:
    """The 422 answer for an `InvalidGraph`."""
    validation = exc.validation
    return ApiError(422, f"the graph is invalid: {exc}", validation.all_errors(),
                    validation=validation.model_dump())
