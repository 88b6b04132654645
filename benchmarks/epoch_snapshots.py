"""Benchmark: what keeping per-epoch weights for the X-ray costs the training loop.

Run with `make bench` or `.venv/bin/python benchmarks/epoch_snapshots.py`. Prints
the mean time of one `EpochSnapshots.save` (copy to CPU, write without fsync,
thin the old ones) for a small MLP and for the largest model that keeps them
(about a million weights, 4 MiB).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from torch import nn  # noqa: E402

from server.training.snapshots import EpochSnapshots, list_epochs  # noqa: E402


def per_save(model: nn.Module, epochs: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as folder:
        snaps = EpochSnapshots(folder, {"version": 1})
        start = time.perf_counter()
        for epoch in range(epochs):
            snaps.save(model, epoch)
        return (time.perf_counter() - start) / epochs * 1000, len(list_epochs(Path(folder)))


def main() -> None:
    for name, model, epochs in (
            ("MLP 2-32-2 (162 weights)", nn.Sequential(nn.Linear(2, 32), nn.Tanh(),
                                                        nn.Linear(32, 2)), 200),
            ("Linear(1000, 1000) (1M weights)", nn.Linear(1000, 1000), 30)):
        ms, kept = per_save(model, epochs)
        print(f"{name:<34} {ms:7.2f} ms per epoch; {kept} of {epochs} epochs kept")


if __name__ == "__main__":
    main()
