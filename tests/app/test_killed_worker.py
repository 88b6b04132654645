"""A run whose worker is killed halfway through writing an event still ends for its viewers.

The worker (tests/training/faults.py `dies_mid_event`) ignores stop, and when the
server terminates it, it begins a 4 MB event and is then SIGKILLed with most of
it unsent: the pipe holds a partial message. The server must still record the
run `stopped`, send that final status to a live viewer and to one that connects
afterwards with `?after=`, and close both sockets. (It once waited forever for
the rest of that message: the run never finished, and its viewers hung open.)
"""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi.testclient import TestClient

from server.app import create_app, runs
from server.training.worker import TrainingRun
from tests.training import faults

from .conftest import BASE, WS, make_settings, read_stream, tiny_graph, wait_for


def test_a_worker_killed_mid_event_still_ends_the_run_and_its_streams(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "KILL_AFTER_S", 0.5)  # no need to wait 10 s for the kill
    with TestClient(create_app(make_settings(tmp_path / "data")), base_url=BASE) as client:
        manager = client.app.state.ctx.runs
        manager.run_factory = lambda graph, out_dir: TrainingRun(
            graph, Path(out_dir), target=faults.dies_mid_event)
        run_id = client.post("/api/runs", json=tiny_graph()).json()["id"]
        with client.websocket_connect(f"{WS}/ws/runs/{run_id}") as live:
            wait_for(lambda: client.get(f"/api/runs/{run_id}").json()["status"] == "running")
            assert client.post(f"/api/runs/{run_id}/stop").status_code == 200
            # Bounded here, not in the websocket read: a run that never ends must fail
            # the test, not hang it. (The kill takes its 2 s of grace after SIGTERM.)
            ended = threading.Event()
            threading.Thread(target=lambda: manager.wait(run_id, 30) and ended.set(),
                             daemon=True).start()
            assert ended.wait(30), "the run never finished after its worker was killed"
            seen, code = read_stream(live)
        assert code == 1000
        assert seen[-1]["type"] == "status" and seen[-1]["status"] == "stopped", seen[-1]
        stored = client.get(f"/api/runs/{run_id}/events").json()
        assert seen == stored
        assert stored[-1]["error"] == "the training worker was killed"
        # A viewer that (re)connects afterwards gets the rest, final status included.
        with client.websocket_connect(f"{WS}/ws/runs/{run_id}?after={stored[-2]['seq']}") as late:
            assert read_stream(late) == (stored[-1:], 1000)
