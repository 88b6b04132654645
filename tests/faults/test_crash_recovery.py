"""SIGKILL of the server mid-run, restarted on the same data dir (issue 13, case 1).

Every stored event stream must be gap-free, every viewer's view a prefix of the
store, and the `interrupted` status recovery adds must take a seq no viewer holds.
The kill lands at a different point of the run each time.
"""

from __future__ import annotations

import random

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


def test_killed_mid_run_no_event_is_lost_and_no_seq_reused(data_dir):
    rng = random.Random(13)
    server = ServerProcess(data_dir).start()
    try:
        for _ in range(2):
            r = server.post("/api/runs", json=LONG_RUN)
            assert r.status_code == 201, r.text
            run_id = r.json()["id"]
            stop_at = rng.randint(5, 60)
            seen = server.stream(run_id, until=lambda e, n=stop_at: e["seq"] >= n)
            assert seen and seen[-1]["seq"] >= stop_at
            server.kill9()
            server = ServerProcess(data_dir, server.port).start()

            stored = server.get(f"/api/runs/{run_id}/events", params={"after": -1}).json()
            seqs = [e["seq"] for e in stored]
            assert seqs == list(range(len(seqs))), "the stored stream has a gap"
            by_seq = {e["seq"]: e for e in stored}
            for event in seen:  # what the viewer holds is exactly what the store holds
                text = event.pop("_text")
                assert event["seq"] in by_seq, f"seq {event['seq']} was sent but not stored"
                assert by_seq[event["seq"]] == event, text
            last = stored[-1]
            assert last["type"] == "status" and last["status"] == "interrupted"
            assert last["seq"] > seen[-1]["seq"]

            resumed = server.stream(run_id, after=seen[-1]["seq"])
            assert [e["seq"] for e in resumed] == [s for s in seqs if s > seen[-1]["seq"]]
            assert resumed[-1]["status"] == "interrupted"
            assert server.get(f"/api/runs/{run_id}").json()["status"] == "interrupted"
    finally:
        server.stop()
