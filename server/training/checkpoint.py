"""Checkpoint files: `{"state_dict", "graph", "epoch"}` (plus `vocab` for token data),
safe to load with weights_only.

A checkpoint holds only tensors and plain JSON-like values, so
`torch.load(path, weights_only=True)` reads it and a hostile pickle is refused.
Files are written to a temporary name in the same folder and renamed into place,
so a crash mid-write never leaves a torn `last.pt` behind.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

LAST = "last.pt"
BEST = "best.pt"


def checkpoint_every() -> float:
    """Seconds between checkpoint writes in a run: `TORCHCANVAS_CHECKPOINT_EVERY_S`, else 10."""
    try:
        return max(0.0, float(os.environ.get("TORCHCANVAS_CHECKPOINT_EVERY_S", "10")))
    except ValueError:
        return 10.0


class CheckpointError(ValueError):
    """A file that is not a torchcanvas checkpoint (or not a safe one)."""


def cpu_state_dict(module: nn.Module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of the module's weights and buffers."""
    return {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}


def save_checkpoint(path: str | Path, state_dict: dict[str, torch.Tensor],
                    graph: dict[str, Any], sync: bool = True, **extra: Any) -> Path:
    """Write atomically: a temporary file in the same folder, fsync (unless `sync` is
    False: a copy whose loss in a crash costs nothing), then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"state_dict": state_dict, "graph": graph, **extra}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            if sync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with `weights_only=True`; raise CheckpointError when it is not one."""
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # the unpickler refuses anything but plain data
        raise CheckpointError(f"{path} is not a safe checkpoint: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("state_dict"), dict) \
            or not isinstance(data.get("graph"), dict):
        raise CheckpointError(f"{path} is not a torchcanvas checkpoint "
                              "(expected a dict with 'state_dict' and 'graph')")
    return data


class Checkpoints:
    """`best.pt` and `last.pt` of one run, written at most every `every` seconds.

    Writing (with fsync) after every epoch would cost more than a small model's
    epoch; instead the best weights are copied in memory when they improve and
    reach the disk within `every` seconds, and `last.pt` is refreshed as often.
    Both are written at the end of a run, whatever its ending.
    """

    def __init__(self, out_dir: str | Path, graph: dict[str, Any], every: float | None = None,
                 extra: dict[str, Any] | None = None):
        self.out_dir = Path(out_dir)
        self.graph = graph
        # Plain data saved beside the weights, e.g. a text dataset's `vocab` (list of str).
        self.extra = dict(extra or {})
        self.every = checkpoint_every() if every is None else every
        self._best: tuple[dict[str, torch.Tensor], int] | None = None
        self._best_written = self._last_written = time.monotonic()

    def improved(self, module: nn.Module, epoch: int) -> None:
        self._best = (cpu_state_dict(module), epoch)
        if time.monotonic() - self._best_written >= self.every:
            self.flush_best()

    def tick(self, module: nn.Module, epoch: int) -> None:
        if time.monotonic() - self._last_written >= self.every:
            self.last(module, epoch)

    def flush_best(self) -> None:
        if self._best is not None:
            state, epoch = self._best
            save_checkpoint(self.out_dir / BEST, state, self.graph, epoch=epoch, **self.extra)
            self._best = None
        self._best_written = time.monotonic()

    def last(self, module: nn.Module, epoch: int) -> None:
        save_checkpoint(self.out_dir / LAST, cpu_state_dict(module), self.graph, epoch=epoch,
                        **self.extra)
        self._last_written = time.monotonic()
