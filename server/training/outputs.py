"""Which output the loss reads, and in which layout, for graphs beyond one tensor out.

A graph may return a tuple (its `output` is a list): the loss reads entry
`loss.output` (default 0) and the other entries are ignored for the loss and the
metrics. A per-position classifier (reverse, a language model) emits scores
`(N, T, C)` (the usual per-token Linear) or `(N, C, T)` (a Conv1d head);
`CrossEntropyLoss` and `NLLLoss` want the classes in dimension 1 with targets
`(N, T)`, so `(N, T, C)` is transposed before the loss, and the metrics see one
row of class scores per token.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .errors import TrainingError


def pick(out: Any, index: int) -> torch.Tensor:
    """The entry the loss reads of a model's output (a tuple, or one tensor)."""
    if isinstance(out, tuple | list):
        return out[index]
    return out


def token_layout(out_tail: tuple[int, ...], length: int, classes: int) -> str:
    """"ntc" or "nct": where the classes are in a per-position classifier's output.

    `out_tail` is the output's shape without the batch; `length` the targets' T.
    When T equals the number of classes the per-token Linear layout (N, T, C) wins.
    """
    if len(out_tail) == 2:
        if out_tail == (length, classes):
            return "ntc"
        if out_tail == (classes, length):
            return "nct"
    raise TrainingError(f"the targets give one of {classes} classes at each of {length} "
                        f"positions, so the model must emit ({length}, {classes}) scores per "
                        f"sample (or ({classes}, {length})), but it emits {list(out_tail)}: end "
                        f"with a Linear of {classes} outputs applied to every time step")


class OutputLoss(nn.Module):
    """The catalogue loss, applied to the output it reads in the layout it wants."""

    def __init__(self, loss: nn.Module, index: int = 0, layout: str | None = None):
        super().__init__()
        self.loss = loss
        self.index = index
        self.layout = layout  # None (one label per sample), "ntc" or "nct"

    def forward(self, out: Any, target: torch.Tensor) -> torch.Tensor:
        out = pick(out, self.index).float()  # the loss in float32: safe for every loss
        if self.layout == "ntc":
            out = out.transpose(1, 2)  # (N, T, C) -> (N, C, T), as the loss wants
        return self.loss(out, target)

    def scores(self, out: Any) -> torch.Tensor:
        """The picked output with one row per judged item: (N, ...) or (N * T, C) per token."""
        out = pick(out, self.index)
        if self.layout == "ntc":
            return out.reshape(-1, out.shape[-1])
        if self.layout == "nct":
            return out.transpose(1, 2).reshape(-1, out.shape[1])
        return out
