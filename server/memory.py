"""Memory estimates: what training a graph will ask of the machine, before it runs.

Everything here is arithmetic on the validator's `Analysis` (output shapes and
parameter counts), so it costs microseconds and allocates nothing: a Conv2d that
would need terabytes of activations is refused from its shapes alone.

The estimate is deliberately simple and a little generous, like the ones people
do on paper: float32 everywhere; weights, their gradients and the optimizer's
state (Adam keeps two tensors per weight, SGD with momentum one); and, for the
activations, every node's output for the whole batch, which autograd keeps for
the backward pass, counted twice for the gradient flowing back through it.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from typing import Any

BYTES_PER_VALUE = 4  # float32

@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes needed to train one batch; `total` is what must fit in memory."""

    batch_size: int
    weights: int
    gradients: int
    optimizer_state: int
    activations: int  # forward outputs kept for backward plus their gradients

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer_state + self.activations

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"total": self.total}


def activation_values(shapes: dict[str, tuple[int, ...]]) -> dict[str, int]:
    """Values each node's output holds for ONE sample (shapes exclude the batch)."""
    return {nid: math.prod(shape) for nid, shape in shapes.items()}


def total_activation_values(analysis: Any) -> int:
    """Values all outputs hold for one sample, those inside block instances too (a block's
    own Inputs are the edges feeding it, already counted outside)."""
    total = sum(activation_values(analysis.shapes).values())
    for nid, sub in getattr(analysis, "sub", {}).items():
        inner = total_activation_values(sub) - sum(
            math.prod(sub.shapes[i]) for i in sub.input_ids if i in sub.shapes)
        # The instance's own output is the block's output, counted once already.
        total += inner - math.prod(analysis.shapes[nid])
    return total


def optimizer_state_tensors(optimizer: Any) -> int:
    """How many tensors of state the optimizer keeps per weight (0 for plain SGD)."""
    from server.catalog import OPTIMIZERS
    from server.recipe import DEFAULT_OPTIMIZER

    kind = optimizer.type if optimizer is not None else DEFAULT_OPTIMIZER
    spec = OPTIMIZERS.get(kind)
    if spec is None:
        return 2
    momentum = optimizer is not None and bool((optimizer.params or {}).get("momentum"))
    return spec.state_tensors + (1 if momentum else 0)


def estimate_training_memory(analysis: Any, batch_size: int | None = None) -> MemoryEstimate:
    """The memory one training step of a valid (or partly valid) graph needs."""
    graph = analysis.graph
    if batch_size is None:
        batch_size = graph.data.batch_size if graph is not None and graph.data else 64
    params = analysis.validation.total_params
    state = optimizer_state_tensors(graph.optimizer if graph is not None else None)
    values = total_activation_values(analysis)
    return MemoryEstimate(
        batch_size=batch_size,
        weights=params * BYTES_PER_VALUE,
        gradients=params * BYTES_PER_VALUE,
        optimizer_state=state * params * BYTES_PER_VALUE,
        activations=2 * values * batch_size * BYTES_PER_VALUE,
    )


def machine_memory() -> int | None:
    """Physical memory of this machine in bytes (None where the OS will not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def human_bytes(n: float) -> str:
    """1536 -> '1.5 KB': the unit a person would say."""
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PB"
