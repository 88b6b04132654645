"""The catalogue: the one source of truth for layers, losses, optimizers and schedulers.

Everything that needs to know what a `Conv2d` or an `Adam` is reads it here;
datasets have their own registry in `server.datasets` and join the catalogue in
`catalog_json`, which the API serves and the browser builds its palette from.
"""

from __future__ import annotations

from typing import Any

from .aliases import ALIASES
from .layers import CATEGORIES, LAYERS, LayerSpec
from .multi_output import MULTI_OUTPUT
from .parameter import PARAMETER
from .params import REQUIRED, Param, ParamError, check_params, params_schema
from .shapes import Shape, ShapeError, fmt
from .training import (
    LOSSES,
    OPTIMIZERS,
    SCHEDULERS,
    LossSpec,
    OptimizerSpec,
    SchedulerSpec,
    resolve_scheduler_params,
)

LAYERS.update({s.type: s for s in [*MULTI_OUTPUT, PARAMETER]})

__all__ = [
    "CATEGORIES", "LAYERS", "LOSSES", "OPTIMIZERS", "SCHEDULERS", "REQUIRED", "LayerSpec",
    "LossSpec", "OptimizerSpec", "Param", "ParamError", "SchedulerSpec", "Shape", "ShapeError",
    "catalog_json", "check_params", "fmt", "params_schema", "resolve_scheduler_params",
]


def _entry(spec: Any, kind: str) -> dict[str, Any]:
    entry = {
        "type": spec.type,
        "kind": kind,
        "category": spec.category,
        "description": spec.description,
        "params": params_schema(spec.params),
        "aliases": list(ALIASES.get(spec.type, ())),
    }
    if kind == "layer":
        lo, hi = spec.arity
        entry["arity"] = {"min": lo, "max": hi}
        if spec.outputs is not None:
            entry["outputs"] = list(spec.outputs)  # [] = numbered ports, count from params
    return entry


def catalog_json() -> dict[str, Any]:
    """Everything the browser needs to build its palette and forms."""
    from server.datasets import dataset_catalog  # datasets import torchvision: load lazily

    return {
        "categories": list(CATEGORIES),
        "layers": [_entry(s, "layer") for s in LAYERS.values()],
        "losses": [_entry(s, "loss") | {"target": s.target, "expects": s.expects}
                   for s in LOSSES.values()],
        "optimizers": [_entry(s, "optimizer") for s in OPTIMIZERS.values()],
        "schedulers": [_entry(s, "scheduler") | {"step": s.step} for s in SCHEDULERS.values()],
        "datasets": dataset_catalog(),
    }
