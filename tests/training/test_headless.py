"""`train_to_stdout`, the function behind `torchcanvas train`: JSON lines on stdout,
files in the output folder, the exit code, and Ctrl-C.
"""

from __future__ import annotations

import functools
import io
import json
import os
import signal

import pytest

from server.training import cli as headless
from server.training.worker import TrainingRun

from . import faults
from .conftest import check_events
from .graphs import mlp


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_a_run_prints_events_and_writes_checkpoints_and_script(tmp_path, capsys):
    out = io.StringIO()
    code = headless.train_to_stdout(mlp(epochs=5), tmp_path, epochs=1, device="cpu", stdout=out)
    events = _lines(out.getvalue())
    check_events(events)
    assert code == 0 and events[-1]["status"] == "completed"
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1]  # --epochs wins
    assert (tmp_path / "last.pt").exists() and (tmp_path / "best.pt").exists()
    script = tmp_path / headless.SCRIPT_NAME
    try:
        import server.export  # noqa: F401
    except ImportError:
        pytest.skip("no exporter in this build")
    assert "def main" in script.read_text() or "argparse" in script.read_text()
    assert "epoch 1" in capsys.readouterr().err  # a readable log on stderr


def _with_target(target, monkeypatch):
    monkeypatch.setattr(headless, "TrainingRun", functools.partial(TrainingRun, target=target))


def test_a_failed_run_exits_1(tmp_path, monkeypatch):
    _with_target(faults.raises, monkeypatch)
    out = io.StringIO()
    assert headless.train_to_stdout(mlp(), tmp_path, stdout=out) == 1
    assert _lines(out.getvalue())[-1]["status"] == "failed"


def test_ctrl_c_cancels_cleanly(tmp_path, monkeypatch):
    _with_target(faults.steps_until_stopped, monkeypatch)
    real_poll = TrainingRun.poll
    sent = []

    def poll(self, timeout=0.0):
        events = real_poll(self, timeout)
        if any(e["type"] == "step" for e in events) and not sent:
            sent.append(1)
            os.kill(os.getpid(), signal.SIGINT)  # what a terminal's Ctrl-C does
        return events

    monkeypatch.setattr(TrainingRun, "poll", poll)
    out = io.StringIO()
    code = headless.train_to_stdout(mlp(), tmp_path, stdout=out)
    events = _lines(out.getvalue())
    check_events(events)
    assert sent and code == 1 and events[-1]["status"] == "stopped"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
