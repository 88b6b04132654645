"""SIGKILL of the server mid-run, restarted on the same data dir (issue 13, case 1).

Every stored event stream must be gap-free, every viewer's view a prefix of the
store, and the `interrupted` status recovery adds must take a seq no viewer holds.
The kill lands at a random moment while the run's events are being written,
three times over, with two viewers following each run.
"""

from __future__ import annotations

import random
import threading
import time

import pytest

from .server_process import ServerProcess

LONG_RUN = {
    "version": 1, "name": "long",
    "nodes": [
        {"id": "x", "type": "Input", "params": {"shape": [2]}},
        {"id": "fc1", "type": "Linear", "params": {"out_features": 16}, "inputs": ["x"]},
        {"id": "act", "type": "ReLU", "inputs": ["fc1"]},
        {"id": "fc2", "type": "Linear", "params": {"out_features": 2}, "inputs": ["act"]},
    ],
    "data": {"dataset": "moons", "params": {"n_samples": 2000}, "batch_size": 8},
    "training": {"epochs": 2000, "seed": 0, "device": "cpu"},
}


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def _follow(server: ServerProcess, run_id: str, into: list[dict]) -> None:
    """A viewer from seq 0 until the server goes away."""
    into.extend(server.stream(run_id, timeout=120))


@pytest.mark.timeout(600)  # three server restarts: about 2 minutes on a loaded machine
def test_killed_mid_run_no_event_is_lost_and_no_seq_reused(data_dir):
    """Two viewers follow the run; the kill lands at a random moment while events are
    being written, three times over the same data dir."""
    rng = random.Random(13)
    server = ServerProcess(data_dir).start()
    try:
        for _ in range(3):
            r = server.post("/api/runs", json=LONG_RUN)
            assert r.status_code == 201, r.text
            run_id = r.json()["id"]
            views: list[list[dict]] = [[], []]
            viewers = [threading.Thread(target=_follow, args=(server, run_id, v))
                       for v in views]
            for viewer in viewers:
                viewer.start()
            deadline = time.monotonic() + 60
            while len(server.get(f"/api/runs/{run_id}/events").json()) < 3:
                assert time.monotonic() < deadline, "the run never started"
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 2.0))  # somewhere in the stream of writes
            server.kill9()
            for viewer in viewers:
                viewer.join(30)
            server = ServerProcess(data_dir, server.port).start()

            stored = server.get(f"/api/runs/{run_id}/events", params={"after": -1}).json()
            seqs = [e["seq"] for e in stored]
            assert seqs == list(range(len(seqs))), "the stored stream has a gap"
            last = stored[-1]
            assert last["type"] == "status" and last["status"] == "interrupted"
            for seen in views:  # what each viewer holds is exactly what the store holds
                for event in seen:
                    event.pop("_text")
                assert seen == stored[: len(seen)], "a viewer's view is not a prefix"
                assert not seen or last["seq"] > seen[-1]["seq"]  # no seq reused

            held = max((seen[-1]["seq"] for seen in views if seen), default=-1)
            resumed = server.stream(run_id, after=held)
            assert [e["seq"] for e in resumed] == [s for s in seqs if s > held]
            assert resumed[-1]["status"] == "interrupted"
            assert server.get(f"/api/runs/{run_id}").json()["status"] == "interrupted"
    finally:
        server.stop()
