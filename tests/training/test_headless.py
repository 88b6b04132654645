"""`train_to_stdout`, the function behind `torchcanvas train`: JSON lines on stdout,
files in the output folder, the exit code, and Ctrl-C.
"""

from __future__ import annotations

import io
import json
import os
import signal

import pytest

from server.training import cli as headless

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


def test_a_failed_run_exits_1(tmp_path):
    out = io.StringIO()
    assert headless.train_to_stdout(mlp(), tmp_path, stdout=out, target=faults.raises) == 1
    events = _lines(out.getvalue())
    check_events(events)
    assert events[-1]["status"] == "failed" and "boom" in events[-1]["error"]


def test_ctrl_c_cancels_cleanly(tmp_path):
    def interrupted(graph, out_dir, emit, should_stop):
        def emit_then_ctrl_c(event):
            emit(event)
            if event["type"] == "step" and event["step"] == 3:
                os.kill(os.getpid(), signal.SIGINT)  # what a terminal's Ctrl-C does
        faults.steps_until_stopped(graph, out_dir, emit_then_ctrl_c, should_stop)

    out = io.StringIO()
    code = headless.train_to_stdout(mlp(), tmp_path, stdout=out, target=interrupted)
    events = _lines(out.getvalue())
    check_events(events)
    assert code == 1 and events[-1]["status"] == "stopped"
    assert [e["step"] for e in events if e["type"] == "step"][-1] == 3  # no batch after Ctrl-C
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_the_cli_trains_in_its_own_process(tmp_path):
    # One process imports torch once: no worker process is started.
    import multiprocessing

    before = set(multiprocessing.active_children())
    out = io.StringIO()
    seen = []

    def watch(graph, out_dir, emit, should_stop):
        seen.append(os.getpid())
        headless.run_in_process(graph, out_dir, emit, should_stop)

    assert headless.train_to_stdout(mlp(epochs=1), tmp_path, stdout=out, target=watch) == 0
    assert seen == [os.getpid()] and set(multiprocessing.active_children()) == before


SIGINT_RUN = """
import sys
sys.path[:0] = {paths!r}
from server.training.cli import train_to_stdout
from training.graphs import mlp
sys.exit(train_to_stdout(mlp(epochs=500, n_samples=2000, batch_size=4), {out!r}))
"""


def test_sigint_to_a_cli_process_stops_after_the_batch_and_keeps_last_pt(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    paths = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parents[1])]
    code = SIGINT_RUN.format(paths=paths, out=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if json.loads(line)["type"] == "step":
                break  # training has begun
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    events = _lines(rest)
    assert proc.returncode == 1, err
    assert events[-1]["status"] == "stopped" and events[-1]["error"] is None
    assert (tmp_path / "last.pt").exists()  # the last checkpoint is kept
    assert "Traceback" not in err
