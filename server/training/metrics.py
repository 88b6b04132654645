"""Metric helpers for the training loop: step-loss coalescing, epoch accumulators,
per-layer norms, the decision-boundary grid and the confusion matrix.

Accumulators keep running sums as tensors on the training device, so the loop
never waits for the GPU between batches; values come back to Python once per
step event or per epoch, in one transfer each.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from server.nesting import layer_parameters

from .events import clean

STEP_INTERVAL = 0.05  # seconds: at most ~20 step events a second leave the worker


def sum_dtype(device: torch.device) -> torch.dtype:
    """float64 for running sums, except on MPS, which has no float64."""
    return torch.float32 if device.type == "mps" else torch.float64


@dataclass
class StepLosses:
    """Losses of the steps since the last step event, kept on the device until flushed."""

    interval: float = STEP_INTERVAL
    losses: list[torch.Tensor] = field(default_factory=list)
    first_step: int = 0
    last_flush: float = field(default_factory=time.perf_counter)

    def add(self, step: int, loss: torch.Tensor) -> None:
        if not self.losses:
            self.first_step = step
        self.losses.append(loss.detach().float())

    def due(self) -> bool:
        return bool(self.losses) and time.perf_counter() - self.last_flush >= self.interval

    def flush(self) -> tuple[float, int | None]:
        """(mean loss, first step with a non-finite loss or None); empties the buffer."""
        values = torch.stack(self.losses).tolist()  # one device sync per step event
        self.losses.clear()
        self.last_flush = time.perf_counter()
        bad = next((i for i, v in enumerate(values) if not math.isfinite(v)), None)
        mean = sum(values) / len(values)
        return mean, None if bad is None else self.first_step + bad


class Averages:
    """Sample-weighted loss and accuracy over an epoch, summed on the device."""

    def __init__(self, device: torch.device):
        self.dtype = sum_dtype(device)
        self.loss = torch.zeros((), dtype=self.dtype, device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.count = 0

    def add(self, loss: torch.Tensor, n: int, correct: torch.Tensor | None = None) -> None:
        self.loss += loss.detach().to(self.dtype) * n
        if correct is not None:
            self.correct += correct
        self.count += n

    def result(self, with_accuracy: bool) -> tuple[float | None, float | None]:
        if not self.count:
            return None, None
        loss, correct = torch.stack([self.loss, self.correct.to(self.dtype)]).tolist()
        return loss / self.count, (correct / self.count if with_accuracy else None)


def predictions(out: torch.Tensor, task: str, probabilities: bool) -> torch.Tensor:
    """Class indices predicted from a classification or binary output."""
    out = out.detach()
    if out.dim() > 1 and out.shape[1] > 1:
        return out.argmax(dim=1)
    flat = out.reshape(out.shape[0])
    return (flat > (0.5 if probabilities else 0.0)).long()


def class_probabilities(out: torch.Tensor, probabilities: bool) -> torch.Tensor:
    """(N, C) probabilities from a classifier's output, whatever the loss expects.

    Several outputs go through softmax (for log-probabilities from LogSoftmax that is
    exp, for logits the usual softmax); a single output is P(class 1).
    """
    out = out.detach().float()
    if out.dim() > 1 and out.shape[1] > 1:
        return torch.softmax(out.reshape(out.shape[0], out.shape[1]), dim=1)
    p = out.reshape(out.shape[0])
    if not probabilities:
        p = torch.sigmoid(p)
    return torch.stack([1 - p, p], dim=1)


class RegressionStats:
    """Running sums for validation MAE and R^2 (over every output value).

    `scale` (one factor per output column) undoes the dataset's target
    standardization, so MAE is in the targets' own unit.
    """

    def __init__(self, device: torch.device, scale: list[float] | None = None):
        self.dtype = sum_dtype(device)
        self.sums = torch.zeros(4, dtype=self.dtype, device=device)  # |e|, e^2, y, y^2
        self.n = 0
        self.scale = None if not scale else torch.tensor(scale, dtype=self.dtype, device=device)

    def add(self, out: torch.Tensor, target: torch.Tensor) -> None:
        o = out.detach().to(self.dtype).reshape(out.shape[0], -1)
        y = target.detach().to(self.dtype).reshape(o.shape)
        if self.scale is not None and self.scale.numel() == o.shape[1]:
            o, y = o * self.scale, y * self.scale
        o, y = o.reshape(-1), y.reshape(-1)
        e = o - y
        self.sums += torch.stack([e.abs().sum(), (e * e).sum(), y.sum(), (y * y).sum()])
        self.n += y.numel()

    def result(self) -> tuple[float | None, float | None]:
        abs_err, sq_err, s, s2 = self.sums.tolist()
        n = self.n
        if not n:
            return None, None
        total = s2 - s * s / n  # sum of squares around the mean
        r2 = 1.0 - sq_err / total if total > 0 else None
        return abs_err / n, r2


class Confusion:
    """A confusion matrix counted on the device with one bincount per batch."""

    def __init__(self, num_classes: int, device: torch.device):
        self.k = num_classes
        self.counts = torch.zeros(num_classes * num_classes, dtype=torch.int64, device=device)

    def add(self, labels: torch.Tensor, predicted: torch.Tensor) -> None:
        idx = labels.reshape(-1).long() * self.k + predicted.reshape(-1).long()
        ok = (idx >= 0) & (idx < self.k * self.k)  # out-of-range labels are not counted
        self.counts += torch.bincount(idx[ok], minlength=self.k * self.k)

    def matrix(self) -> list[list[int]]:
        return self.counts.reshape(self.k, self.k).tolist()


def layer_norms(module: nn.Module, node_attrs: dict[str, str],
                grads: bool) -> dict[str, float | None]:
    """L2 norm of each node's parameters (or of their gradients), keyed by node id.

    Nodes without parameters, or without gradients yet, are left out. All norms
    come back in a single transfer.
    """
    ids, norms = [], []
    for node_id, attr in node_attrs.items():
        try:
            weights = layer_parameters(module, attr)
        except AttributeError:
            continue
        tensors = [p.grad if grads else p for p in weights]
        tensors = [t.detach().float() for t in tensors if t is not None]
        if not tensors:
            continue
        parts = torch.stack([torch.linalg.vector_norm(t) for t in tensors])
        ids.append(node_id)
        norms.append(torch.linalg.vector_norm(parts))
    if not ids:
        return {}
    values = torch.stack(norms).tolist()
    return clean(dict(zip(ids, values, strict=True)))


GRID = 50


def boundary_grid(points: torch.Tensor, size: int = GRID,
                  margin: float = 0.1) -> tuple[list[float], list[float], torch.Tensor]:
    """Grid axes covering 2-D points plus a margin, and the (size*size, 2) grid points.

    Row i of the grid is y[i]; within a row x varies fastest, so reshaping the
    model's output to (size, size, ...) gives `values[i][j]` at `(x[j], y[i])`.
    """
    pts = points.detach().float().reshape(points.shape[0], -1)[:, :2].cpu()
    lo, hi = pts.min(dim=0).values, pts.max(dim=0).values
    span = (hi - lo).clamp(min=1e-6)
    lo, hi = lo - margin * span, hi + margin * span
    # Axes rounded to 5 decimals (short on the wire); the grid uses the same numbers.
    xs, ys = (torch.round(torch.linspace(float(lo[i]), float(hi[i]), size,
                                         dtype=torch.float64), decimals=5) for i in (0, 1))
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1).float()
    return xs.tolist(), ys.tolist(), grid


def grid_values(values: torch.Tensor, digits: int = 4) -> list:
    """Rounded nested lists for the wire; non-finite values become None.

    Rounded in float64 so each number prints short ("0.1234"), and the common all-finite
    case never walks the lists in Python.
    """
    v = torch.round(values.detach().cpu().double(), decimals=digits)
    out = v.tolist()
    return out if bool(torch.isfinite(v).all()) else clean(out)
