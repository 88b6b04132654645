"""Headless training for `torchcanvas train GRAPH.json`: events as JSON lines on stdout.

`train_to_stdout` runs a `TrainingRun`, prints one event per line (the same
dicts the websocket carries), logs a readable summary to stderr, and leaves
`last.pt`, `best.pt` and the exported training script in the output folder.
Ctrl-C cancels the run cleanly: the worker stops at the next batch and keeps
its last checkpoint.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from server.graph import Graph, TrainingConfig, parse_graph

from .events import dumps
from .worker import TrainingRun

SCRIPT_NAME = "train.py"
KILL_AFTER = 30.0  # seconds a cancelled worker may take before it is killed


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
    return None


class _Interrupts:
    """Counts Ctrl-C presses instead of raising, so no event is lost mid-poll."""

    def __init__(self) -> None:
        self.count = 0
        self._previous: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        self.count += 1

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def train_to_stdout(graph: Graph | dict[str, Any], out_dir: str | Path,
                    epochs: int | None = None, device: str | None = None,
                    stdout: TextIO | None = None) -> int:
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

    run = TrainingRun(graph, out_dir)
    interrupts = _Interrupts()
    run.start()
    cancelled_at: float | None = None
    try:
        with interrupts:
            while not run.done:
                try:
                    events = run.poll(0.5)
                except KeyboardInterrupt:  # where no handler could be installed
                    events = []
                    interrupts.count += 1
                if interrupts.count and cancelled_at is None:
                    _log("stopping at the next batch (Ctrl-C again to stop now)")
                    run.cancel()
                    cancelled_at = time.monotonic()
                elif interrupts.count > 1 or (cancelled_at is not None and not run.done
                                              and time.monotonic() - cancelled_at > KILL_AFTER):
                    run.kill()
                for event in events:
                    out.write(dumps(event) + "\n")
                    out.flush()
                    line = _summary(event)
                    if line:
                        _log(line)
    finally:
        run.close()
    for name in ("last.pt", "best.pt"):
        if (out_dir / name).exists():
            _log(f"checkpoint: {out_dir / name}")
    return 0 if run.status == "completed" else 1
