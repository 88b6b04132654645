"""The training engine: a graph in, events out, in a worker process per run.

`TrainingRun(graph, out_dir)` is what the server and the CLI use; the event
models in `events` are the exact dicts the websocket carries; `loop.train` is
the plain function the worker runs; `checkpoint` reads and writes `.pt` files;
`cli.train_to_stdout` is headless training. Importing this package does not
import torch: the loop is loaded inside the worker.
"""

from pathlib import Path
from typing import Any, TextIO

from .events import (
    BoundaryEvent,
    CompileEvent,
    ConfusionEvent,
    EpochEvent,
    Event,
    NoteEvent,
    StatusEvent,
    StepEvent,
    dumps,
    parse_event,
)
from .worker import TrainingRun

__all__ = [
    "BoundaryEvent", "CompileEvent", "ConfusionEvent", "EpochEvent", "Event", "NoteEvent",
    "StatusEvent", "StepEvent",
    "TrainingRun", "dumps", "parse_event", "train_to_stdout",
]


def train_to_stdout(graph: Any, out_dir: str | Path, epochs: int | None = None,
                    device: str | None = None, stdout: TextIO | None = None) -> int:
    """Headless training (see `server.training.cli`); imported on call to keep this light."""
    from .cli import train_to_stdout as run

    return run(graph, out_dir, epochs=epochs, device=device, stdout=stdout)
