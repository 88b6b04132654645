"""The training recipe of a graph, with the documented defaults filled in.

`loss`, `optimizer`, `scheduler` and `training` may be left out of a graph;
training and script export then use these defaults (docs/graph-format.md):
the loss follows the dataset's task (CrossEntropyLoss, BCEWithLogitsLoss or
MSELoss), the optimizer is Adam with PyTorch's defaults, there is no
scheduler, and `training` takes its field defaults. `data` has no default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.catalog import LOSSES, OPTIMIZERS, SCHEDULERS, check_params
from server.graph import Component, DataConfig, Graph, TrainingConfig

DEFAULT_LOSS = {"classification": "CrossEntropyLoss", "binary": "BCEWithLogitsLoss",
                "regression": "MSELoss"}
DEFAULT_OPTIMIZER = "Adam"


class RecipeError(ValueError):
    """The graph lacks what training needs (e.g. no `data`)."""


@dataclass(frozen=True)
class Recipe:
    loss: Component
    optimizer: Component
    scheduler: Component | None
    data: DataConfig
    training: TrainingConfig

    def loss_params(self) -> dict[str, Any]:
        return _with_defaults(LOSSES[self.loss.type].params, self.loss.params)

    def optimizer_params(self) -> dict[str, Any]:
        return _with_defaults(OPTIMIZERS[self.optimizer.type].params, self.optimizer.params)

    def scheduler_params(self) -> dict[str, Any]:
        assert self.scheduler is not None
        return _with_defaults(SCHEDULERS[self.scheduler.type].params, self.scheduler.params)


def recipe(graph: Graph, task: str | None = None) -> Recipe:
    """The recipe for a (valid) graph; `task` is the dataset's, for the default loss."""
    if graph.data is None:
        raise RecipeError("training needs `data`: pick a dataset for the graph")
    default = DEFAULT_LOSS.get(task or "", DEFAULT_LOSS["classification"])
    loss = graph.loss or Component(type=default)
    optimizer = graph.optimizer or Component(type=DEFAULT_OPTIMIZER)
    return Recipe(loss=loss, optimizer=optimizer, scheduler=graph.scheduler, data=graph.data,
                  training=graph.training or TrainingConfig())


def _with_defaults(table: tuple, given: dict[str, Any]) -> dict[str, Any]:
    """Checked values with defaults filled; inferred ones left as None are dropped."""
    values = check_params(table, given).values
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in values.items()
            if v is not None}
