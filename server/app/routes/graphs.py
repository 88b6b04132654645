"""Catalogue, graph schema, validation and code export."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response

from server.catalog import catalog_json
from server.export import export_code
from server.graph import graph_schema
from server.validation import InvalidGraph, Validation

from .. import graphcheck
from ..context import Ctx
from ..deployfiles import CodeFormat, deploy_response
from ..schemas import ErrorAnswer

router = APIRouter(prefix="/api", tags=["graphs"])
GraphBody = Annotated[dict[str, Any], Body(description="A graph, format v1 (see /api/schema)")]


@cache
def _catalog() -> dict[str, Any]:
    from server.training.device import available_devices  # imports torch

    # Fixed for the life of the process: built once. `devices` feeds the page's picker.
    return catalog_json() | {"devices": available_devices()}


@router.get("/catalog")
def catalog() -> dict[str, Any]:
    """Layers, losses, optimizers, schedulers, datasets (params as JSON Schema), devices."""
    return _catalog()


@router.get("/schema")
def schema() -> dict[str, Any]:
    """JSON Schema of graph format v1."""
    return graph_schema()


@router.post("/graphs/validate", response_model=Validation)
def validate(ctx: Ctx, graph: GraphBody) -> Validation:
    """Shapes, parameter counts, errors and warnings; 200 even for an invalid graph."""
    return graphcheck.report(graph, ctx.settings.uploads_dir)


@router.post("/graphs/export", response_class=Response,
             responses={200: {"content": {"text/x-python": {},
                                          "application/octet-stream": {}}},
                        422: {"model": ErrorAnswer}, 501: {"model": ErrorAnswer}})
def export(ctx: Ctx, graph: GraphBody,
           format: Annotated[CodeFormat, Query()] = "module") -> Response:
    """PyTorch code for the graph (an nn.Module, or a whole training script), or an
    ONNX, TorchScript or exported-program file with fresh weights from its seed."""
    g = graphcheck.parsed(graph, ctx.settings.uploads_dir)
    if format not in ("module", "script"):
        graphcheck.valid(graph, ctx.settings.uploads_dir)  # 422 with every error
        return deploy_response(g, format)
    try:
        code = export_code(g, format)
    except InvalidGraph as exc:
        raise graphcheck.invalid(exc) from None
    return Response(code, media_type="text/x-python; charset=utf-8")
