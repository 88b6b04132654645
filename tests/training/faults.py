"""Worker targets that misbehave on purpose, for the worker-process tests.

Each has the signature of `server.training.worker.run_training`. They import no
torch, so spawning a worker for them takes a fraction of a second.
"""

from __future__ import annotations

import os
import time


def _running(emit) -> None:
    emit({"type": "status", "seq": 0, "status": "running", "error": None, "time": time.time()})


def raises(graph, out_dir, emit, should_stop) -> None:
    _running(emit)
    raise RuntimeError("boom in the worker")


def exits(graph, out_dir, emit, should_stop) -> None:
    _running(emit)
    emit({"type": "step", "seq": 1, "epoch": 1, "step": 1, "loss": 0.5})
    time.sleep(0.2)  # let the queue's feeder thread send the events first
    os._exit(3)


def allocates(graph, out_dir, emit, should_stop) -> None:
    _running(emit)
    hoard = bytearray(1 << 62)  # far beyond any machine: MemoryError
    emit({"type": "step", "seq": 1, "epoch": 1, "step": 1, "loss": float(len(hoard))})


def hangs(graph, out_dir, emit, should_stop) -> None:
    _running(emit)
    while True:  # ignores should_stop, like a stuck kernel
        time.sleep(0.05)


def steps_until_stopped(graph, out_dir, emit, should_stop) -> None:
    _running(emit)
    step = 0
    while not should_stop():
        step += 1
        emit({"type": "step", "seq": step, "epoch": 1, "step": step, "loss": 1.0 / step})
        time.sleep(0.01)
    emit({"type": "status", "seq": step + 1, "status": "stopped", "error": None,
          "time": time.time()})


def returns_silently(graph, out_dir, emit, should_stop) -> None:
    _running(emit)


def floods(graph, out_dir, emit, should_stop) -> None:
    """Big events, fast, until stopped: fills the pipe when no one reads it."""
    _running(emit)
    step = 0
    while not should_stop():
        step += 1
        emit({"type": "step", "seq": step, "epoch": 1, "step": step, "loss": 1.0,
              "padding": "x" * 1000})
        time.sleep(0.001)
    emit({"type": "status", "seq": step + 1, "status": "stopped", "error": None,
          "time": time.time()})


GRIDS = 300


def grids_at_once(graph, out_dir, emit, should_stop) -> None:
    """A backlog of boundary-sized events (2,600 numbers each), then completed."""
    _running(emit)
    cells = [[[0.25, 0.75] for _ in range(50)] for _ in range(50)]
    axis = [i / 50 for i in range(50)]
    for epoch in range(1, GRIDS + 1):
        emit({"type": "boundary", "seq": epoch, "epoch": epoch, "x": axis, "y": axis,
              "values": cells})
    emit({"type": "status", "seq": GRIDS + 1, "status": "completed", "error": None,
          "time": time.time()})


def dies_mid_event(graph, out_dir, emit, should_stop) -> None:
    """Ignores stop; when terminated, starts one event far bigger than a pipe holds and
    hangs, so the kill that follows (SIGKILL) leaves half of it in the pipe."""
    import signal

    def on_term(signum, frame) -> None:
        emit({"type": "step", "seq": 1, "epoch": 1, "step": 1, "loss": 1.0,
              "padding": "x" * (4 << 20)})
        while True:
            time.sleep(1)

    signal.signal(signal.SIGTERM, on_term)
    _running(emit)
    while True:
        time.sleep(0.05)
