"""`TrainingRun`: the worker process, its event stream, cancellation and crashes.

Misbehaving workers come from `faults.py` (no torch, quick to spawn); one test
trains for real in a worker from start to checkpoint.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from server.training import TrainingRun
from server.training.checkpoint import load_checkpoint
from server.training.worker import BATCH_NUMBERS

from . import faults
from .conftest import check_events, of_type
from .graphs import mlp


def drain(run: TrainingRun, timeout: float = 60.0) -> list[dict]:
    events = run.wait(timeout)
    assert run.done, f"no final status within {timeout} s: {events[-3:]}"
    return events


def started(target, tmp_path, graph=None) -> TrainingRun:
    run = TrainingRun(graph or mlp(), tmp_path, target=target)
    run.start()
    return run


def test_a_real_run_in_a_worker(tmp_path):
    with TrainingRun(mlp(epochs=2), tmp_path) as run:
        run.start()
        events = drain(run)
    check_events(events)
    assert events[0]["status"] == "queued" and events[1]["status"] == "running"
    assert events[-1]["status"] == "completed" and run.status == "completed"
    assert of_type(events, "epoch") and of_type(events, "boundary")
    ckpt = load_checkpoint(tmp_path / "last.pt")
    assert ckpt["graph"]["name"] == "TestNet" and ckpt["state_dict"]
    assert (tmp_path / "best.pt").exists()
    assert run.poll(0.1) == [] and run.done


def test_a_raise_in_the_worker_is_a_failed_status(tmp_path):
    run = started(faults.raises, tmp_path)
    events = drain(run)
    check_events(events)
    assert events[-1]["status"] == "failed"
    assert "RuntimeError: boom in the worker" in events[-1]["error"]


def test_os_exit_is_reported_with_its_exit_code(tmp_path):
    run = started(faults.exits, tmp_path)
    events = drain(run)
    check_events(events)
    assert of_type(events, "step")  # what it sent before dying still arrives
    assert events[-1]["status"] == "failed" and "exit code 3" in events[-1]["error"]


def test_an_absurd_allocation_is_a_failed_status(tmp_path):
    run = started(faults.allocates, tmp_path)
    events = drain(run)
    check_events(events)
    assert events[-1]["status"] == "failed"
    assert "memory" in events[-1]["error"].lower()


def test_a_killed_worker_is_reported_and_the_caller_lives(tmp_path):
    run = started(faults.hangs, tmp_path)
    assert run.poll(30.0)  # queued (and soon running)
    os.kill(run.pid, signal.SIGKILL)  # what the out-of-memory killer does
    events = drain(run)
    assert events[-1]["status"] == "failed" and "SIGKILL" in events[-1]["error"]


def test_cancel_stops_and_is_idempotent(tmp_path):
    run = started(faults.steps_until_stopped, tmp_path)
    seen = []
    while not of_type(seen, "step"):
        seen += run.poll(30.0)
    run.cancel()
    run.cancel()
    events = seen + drain(run, 10.0)
    check_events(events)
    assert events[-1]["status"] == "stopped"
    run.cancel()  # after the end: still harmless
    assert run.poll(0.0) == []


def test_cancel_then_kill_a_hung_worker(tmp_path):
    run = started(faults.hangs, tmp_path)
    run.poll(30.0)
    run.cancel()
    time.sleep(0.2)
    run.kill()
    events = run.poll(5.0)
    assert run.done and events[-1]["status"] == "stopped"
    assert "killed" in events[-1]["error"]


def test_a_worker_that_returns_without_a_final_status(tmp_path):
    run = started(faults.returns_silently, tmp_path)
    events = drain(run)
    check_events(events)
    assert events[-1]["status"] == "failed" and "final status" in events[-1]["error"]


def test_a_backlog_of_grids_is_read_in_bounded_batches(tmp_path):
    # The caller encodes and stores each batch before it reads on: a batch as long as
    # the backlog held hundreds of 0.4 MB grids at once.
    run = started(faults.grids_at_once, tmp_path)
    time.sleep(1.0)  # the worker has queued them all by now
    batches = []
    deadline = time.monotonic() + 60
    while not run.done and time.monotonic() < deadline:
        batches.append(run.poll(1.0))
    grids = [e for batch in batches for e in batch if e["type"] == "boundary"]
    assert [e["epoch"] for e in grids] == list(range(1, faults.GRIDS + 1))
    assert batches[-1][-1]["status"] == "completed"
    # A batch stops at the first event past the bound (20 of these grids); twice that is room.
    per_batch = 2 * BATCH_NUMBERS // 2601 + 1
    assert max(len(batch) for batch in batches) <= per_batch + 1, [len(b) for b in batches]


def test_poll_before_start_and_start_twice_are_errors(tmp_path):
    run = TrainingRun(mlp(), tmp_path, target=faults.returns_silently)
    with pytest.raises(RuntimeError):
        run.poll(0.0)
    run.start()
    with pytest.raises(RuntimeError):
        run.start()
    drain(run)


def test_a_worker_that_cannot_start_is_a_failed_status(tmp_path, monkeypatch):
    from server.training import worker

    class NoProcess(worker._CTX.Process):
        def start(self):
            raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(worker._CTX, "Process", NoProcess)
    run = TrainingRun(mlp(), tmp_path)
    run.start()
    events = drain(run, 5.0)
    check_events(events)
    assert events[-1]["status"] == "failed"
    assert "Resource temporarily unavailable" in events[-1]["error"]
    run.cancel()
    run.kill()
    run.close()


ORPHAN = """
import os, sys, time
sys.path[:0] = {paths!r}
from server.training import TrainingRun
from training import faults
run = TrainingRun({{"version": 1}}, {out!r}, target=faults.floods)
run.start()
while not any(e["type"] == "step" for e in run.poll(10.0)):
    pass  # the worker is up and training
print(run.pid, flush=True)
os._exit(0)  # the caller dies without cancelling or reading the queue
"""


def test_a_worker_whose_caller_died_stops_by_itself(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    tests = str(Path(__file__).resolve().parents[1])
    root = str(Path(__file__).resolve().parents[2])
    code = ORPHAN.format(paths=[root, tests], out=str(tmp_path))
    pid = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=120, check=True).stdout.split()[0])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return  # gone
        if Path(f"/proc/{pid}/stat").exists() and \
                Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return  # exited; only its reaping is left to init
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    pytest.fail("the orphaned worker kept running")


FORGETFUL = """
import sys
sys.path[:0] = {paths!r}
from server.training import TrainingRun
from training import faults
run = TrainingRun({{"version": 1}}, {out!r}, target=faults.floods)
run.start()
while not any(e["type"] == "step" for e in run.poll(10.0)):
    pass
print(run.pid, flush=True)
# exits normally without close(): multiprocessing would join the worker forever
"""


def test_a_caller_that_exits_without_close_does_not_hang(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    paths = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parents[1])]
    code = FORGETFUL.format(paths=paths, out=str(tmp_path))
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < 90  # a cold forkserver imports torch first
