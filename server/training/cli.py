"""Headless training for `torchcanvas train GRAPH.json`: events as JSON lines on stdout.

`train_to_stdout` runs the training loop in this very process (the CLI has
already paid for importing torch; a worker process would import it all again),
prints one event per line (the same dicts the websocket carries, numbered from
0 with a first `queued` status, as a worker run would be), logs a readable
summary to stderr, and leaves `last.pt`, `best.pt` and the exported training
script in the output folder. Ctrl-C stops the run cleanly after the current
batch and keeps its last checkpoint; a second Ctrl-C stops at once.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from server.graph import Graph, TrainingConfig, parse_graph

from .errors import error_message
from .events import StatusEvent, dumps, is_final

SCRIPT_NAME = "train.py"
Target = Callable[..., None]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _export_script(graph: Graph, out_dir: Path) -> None:
    try:
        from server.export import export_code
    except ImportError:
        _log("code export is not available in this build: no script written")
        return
    try:
        (out_dir / SCRIPT_NAME).write_text(export_code(graph, "script"), encoding="utf-8")
        _log(f"wrote {out_dir / SCRIPT_NAME}")
    except Exception as exc:  # an invalid graph fails the run too, with the full reason
        _log(f"could not export the script: {exc}")


def _summary(event: dict[str, Any]) -> str | None:
    kind = event.get("type")
    if kind == "epoch":
        parts = [f"epoch {event['epoch']}"]
        for key in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "val_mae",
                    "val_r2", "lr", "seconds"):
            if event.get(key) is not None:
                parts.append(f"{key} {event[key]:.4g}")
        return "  ".join(parts)
    if kind == "status":
        return f"status: {event['status']}" + (f" ({event['error']})" if event.get("error")
                                               else "")
    if kind == "compile":
        took = f" in {event['seconds']:.1f} s" if event.get("seconds") is not None else ""
        why = f": {event['message']}" if event.get("message") else ""
        return f"torch.compile: {event['phase']}{took}{why}"
    if kind == "note":
        return f"note: {event['message']}"
    return None


class _Interrupts:
    """Ctrl-C asks the loop to stop after the current batch; a second one stops at once."""

    def __init__(self) -> None:
        self.count = 0
        self._previous: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        self.count += 1
        if self.count == 1:
            _log("stopping after the current batch (Ctrl-C again to stop now)")
        else:
            raise KeyboardInterrupt

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _status(status: str, error: str | None = None) -> dict[str, Any]:
    return StatusEvent(seq=0, status=status, error=error).model_dump(mode="json")


def run_in_process(graph: dict[str, Any], out_dir: str, emit: Callable[[dict], None],
                   should_stop: Callable[[], bool]) -> None:
    """The real loop, here; threads as torch chose them, unless TORCHCANVAS_TRAIN_THREADS."""
    import torch

    from .loop import train
    from .worker import worker_threads

    if "TORCHCANVAS_TRAIN_THREADS" in os.environ:
        torch.set_num_threads(worker_threads())
    train(graph, out_dir, emit, should_stop)


def train_to_stdout(graph: Graph | dict[str, Any], out_dir: str | Path,
                    epochs: int | None = None, device: str | None = None,
                    stdout: TextIO | None = None, *, target: Target | None = None) -> int:
    """Train headlessly; exit code 0 when the run completed, 1 otherwise."""
    out = stdout or sys.stdout
    graph = parse_graph(graph)
    if epochs is not None or device is not None:
        training = graph.training.model_copy() if graph.training else TrainingConfig()
        if epochs is not None:
            training.epochs = epochs
        if device is not None:
            training.device = device
        graph = graph.model_copy(update={"training": training})
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _export_script(graph, out_dir)

    seq = 0
    final: dict[str, Any] | None = None

    def emit(event: dict[str, Any]) -> None:
        # Numbered here, as a worker's parent does: from 0, no gaps, nothing after
        # the final status.
        nonlocal seq, final
        if final is not None:
            return
        event = {**event, "seq": seq}
        seq += 1
        final = event if is_final(event) else None
        out.write(dumps(event) + "\n")
        out.flush()
        line = _summary(event)
        if line:
            _log(line)

    emit(_status("queued"))
    interrupts = _Interrupts()
    try:
        with interrupts:
            (target or run_in_process)(graph.model_dump(mode="json"), str(out_dir), emit,
                                       lambda: interrupts.count > 0)
    except KeyboardInterrupt:
        emit(_status("stopped", "stopped at once by a second Ctrl-C"))
    except BaseException as exc:  # noqa: B036 - report anything, even SystemExit
        emit(_status("failed", error_message(exc)))
    if final is None:
        emit(_status("failed", "the training ended without a final status"))
    for name in ("last.pt", "best.pt"):
        if (out_dir / name).exists():
            _log(f"checkpoint: {out_dir / name}")
    return 0 if final is not None and final["status"] == "completed" else 1
