"""Checkpoint files of a run: located by server-made id only, loaded only as weights.

`torch.load(weights_only=True)` refuses any pickle that would run code (a
`__reduce__` payload), so a tampered file in the data dir is refused, never run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

Which = Literal["best", "last"]


def checkpoint_path(runs_dir: Path, run_id: str, which: Which) -> Path | None:
    """The checkpoint to serve: the one asked for, else the other; None if neither."""
    folder = runs_dir / run_id
    order = ("best", "last") if which == "best" else ("last", "best")
    for name in order:
        path = folder / f"{name}.pt"
        if path.is_file() and not path.is_symlink():
            return path
    return None


def epoch_checkpoints(runs_dir: Path, run_id: str) -> list[int]:
    """The epochs whose weights the run kept (`server.training.snapshots`), in order."""
    from server.training.snapshots import list_epochs

    return list_epochs(runs_dir / run_id)


def epoch_checkpoint(runs_dir: Path, run_id: str, epoch: int) -> Path | None:
    """The weights kept after `epoch` (0: before training), or None."""
    from server.training.snapshots import epoch_path

    return epoch_path(runs_dir / run_id, epoch)


def checkpoint_epoch(path: Path) -> int | None:
    """The epoch a checkpoint was written after; None when unreadable. Memory-mapped,
    so asking costs no read of the weights."""
    import torch

    try:
        data = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:
        return None
    epoch = data.get("epoch") if isinstance(data, dict) else None
    return epoch if isinstance(epoch, int) else None


def remove_partial(folder: Path) -> int:
    """Delete what a killed process left of a checkpoint write; how many files.

    `save_checkpoint` writes `.last.pt.<random>.tmp` (fsync) and renames it into
    place, so only complete files are ever named best.pt / last.pt and served. Call
    this once no process writes into `folder` any more (the run has ended)."""
    removed = 0
    try:
        for tmp in folder.glob(".*.pt.*.tmp"):
            tmp.unlink(missing_ok=True)
            removed += 1
    except OSError:
        pass  # a read-only data dir: the file waits for the next start
    return removed


class CheckpointUnreadable(ValueError):
    """A damaged or foreign checkpoint; the message names it by role, never by path."""

    def __init__(self, path: Path):
        super().__init__(f"the run's {path.stem} checkpoint is unreadable: it is damaged or "
                         "not a torchcanvas checkpoint (train the run again)")


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load a checkpoint as plain tensors and containers; `CheckpointUnreadable` otherwise."""
    import torch

    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # truncated zip, foreign pickle, code payload: all just unreadable
        raise CheckpointUnreadable(path) from None
    if not isinstance(data, dict) or not isinstance(data.get("state_dict"), dict):
        raise CheckpointUnreadable(path)
    return data
