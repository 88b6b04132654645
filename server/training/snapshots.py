"""Per-epoch weights of a run, for the X-ray "at any epoch": bounded in count and size.

`best.pt` and `last.pt` answer "what did the run learn"; the X-ray also asks "what
did it look like after epoch 3". Keeping every epoch of every run would fill the
disk, so the policy is:

- only small models keep per-epoch weights: a snapshot larger than
  `MAX_SNAPSHOT_BYTES` (4 MiB, about a million float32 weights) is never written,
  and such runs offer best/last only;
- of the epochs written, `keep` holds epoch 0 (the weights before training), the
  latest `KEEP_LATEST` epochs, and at most `MAX_SPREAD` older ones at a stride
  that doubles whenever more would be kept (1, 2, 4, 8, ...), so a long run keeps
  a log-spaced history of at most 1 + 5 + 16 = 22 files (88 MiB worst case);
- snapshots are written atomically but without fsync: one lost in a crash costs
  nothing (best/last are the durable copies); one that cannot be written (a full
  disk) stops the snapshots, never the run.

They live in `<run dir>/epochs/epoch-NNNN.pt`, in the format of `checkpoint.py`, so
the data dir's quota counts them and deleting a run deletes them
(`server/app/housekeeping.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from torch import nn

from .checkpoint import cpu_state_dict, save_checkpoint

FOLDER = "epochs"
MAX_SNAPSHOT_BYTES = 4 * 1024 * 1024
KEEP_LATEST = 5
MAX_SPREAD = 16
_NAME = re.compile(r"epoch-(\d{4,9})\.pt")


def snapshot_name(epoch: int) -> str:
    return f"epoch-{epoch:04d}.pt"


def keep(epochs: Iterable[int]) -> set[int]:
    """Which of the written epochs to keep (see the module docstring)."""
    epochs = sorted(set(epochs))
    latest = set(epochs[-KEEP_LATEST:])
    older = [e for e in epochs if e not in latest and e != 0]
    stride = 1
    while sum(1 for e in older if e % stride == 0) > MAX_SPREAD:
        stride *= 2
    return ({0} & set(epochs)) | latest | {e for e in older if e % stride == 0}


def list_epochs(run_dir: Path) -> list[int]:
    """The epochs with a snapshot on disk, in order."""
    folder = run_dir / FOLDER
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        m = _NAME.fullmatch(path.name)
        if m and path.is_file() and not path.is_symlink():
            found.append(int(m.group(1)))
    return sorted(found)


def epoch_path(run_dir: Path, epoch: int) -> Path | None:
    """The snapshot of `epoch`, or None when it was not kept."""
    path = run_dir / FOLDER / snapshot_name(epoch)
    return path if path.is_file() and not path.is_symlink() else None


class EpochSnapshots:
    """Writes a run's per-epoch weights under the policy above."""

    def __init__(self, run_dir: str | Path, graph: dict[str, Any]):
        self.folder = Path(run_dir) / FOLDER
        self.graph = graph
        self.written: list[int] = []
        self.enabled = True

    def save(self, module: nn.Module, epoch: int) -> None:
        if not self.enabled:
            return
        state = cpu_state_dict(module)
        if sum(t.numel() * t.element_size() for t in state.values()) > MAX_SNAPSHOT_BYTES:
            self.enabled = False  # a large model: best/last only
            return
        try:
            save_checkpoint(self.folder / snapshot_name(epoch), state, self.graph, epoch=epoch,
                            sync=False)
        except OSError:  # a full disk, a blocked folder: the run goes on without them
            self.enabled = False
            return
        self.written.append(epoch)
        kept = keep(self.written)
        for e in [e for e in self.written if e not in kept]:
            (self.folder / snapshot_name(e)).unlink(missing_ok=True)
        self.written = sorted(kept)
