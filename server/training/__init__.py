"""The training engine: a graph in, events out, in a worker process per run.

`TrainingRun(graph, out_dir)` is what the server and the CLI use; the event
models in `events` are the exact dicts the websocket carries; `loop.train` is
the plain function the worker runs; `checkpoint` reads and writes `.pt` files;
`cli.train_to_stdout` is headless training. Importing this package does not
import torch: the loop is loaded inside the worker.
"""

from .events import (
    BoundaryEvent,
    ConfusionEvent,
    EpochEvent,
    Event,
    StatusEvent,
    StepEvent,
    dumps,
    parse_event,
)
from .worker import TrainingRun

__all__ = [
    "BoundaryEvent", "ConfusionEvent", "EpochEvent", "Event", "StatusEvent", "StepEvent",
    "TrainingRun", "dumps", "parse_event", "train_to_stdout",
]


def train_to_stdout(*args, **kwargs):  # noqa: ANN002, ANN003 - re-exported lazily
    """See `server.training.cli.train_to_stdout`."""
    from .cli import train_to_stdout as run

    return run(*args, **kwargs)
