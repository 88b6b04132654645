"""The websocket on stored logs: full replay, resume with after, restart, unknown runs."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.app import create_app
from server.app.jsontext import dumps
from server.app.routes import stream
from server.app.store import Store

from .conftest import BASE, WS, make_settings, read_stream, tiny_graph

RUN = "00000000000000dd"


def _stored_run(store: Store, n: int, final: str = "completed") -> list[dict]:
    """A finished run whose n events are in SQLite, as a killed-and-restarted server has them."""
    events = [{"type": "status", "seq": 0, "status": "running", "error": None, "time": 1.0}]
    events += [{"type": "step", "seq": i, "epoch": 1, "step": i, "loss": 1.0 / i}
               for i in range(1, n - 1)]
    events.append({"type": "status", "seq": n - 1, "status": final, "error": None, "time": 2.0})
    store.create_run(RUN, tiny_graph(), final)
    store.append_events(RUN, [(e["seq"], dumps(e)) for e in events])
    return events


def test_replay_of_a_finished_run_then_normal_close(client, monkeypatch):
    monkeypatch.setattr(stream, "REPLAY_CHUNK", 64)  # so the replay spans several chunks
    events = _stored_run(client.app.state.ctx.store, 300)
    with client.websocket_connect(f"{WS}/ws/runs/{RUN}") as ws:
        got, code = read_stream(ws)
    assert code == 1000 and got == events
    with client.websocket_connect(f"{WS}/ws/runs/{RUN}?after=200") as ws:
        got, code = read_stream(ws)
    assert code == 1000 and got == events[201:]
    with client.websocket_connect(f"{WS}/ws/runs/{RUN}?after=300") as ws:
        assert read_stream(ws) == ([], 1000)


def test_two_viewers_of_a_finished_real_run_see_the_same_log(done_run):
    client, run_id, events = done_run
    with client.websocket_connect(f"{WS}/ws/runs/{run_id}") as a, \
            client.websocket_connect(f"{WS}/ws/runs/{run_id}?after=4") as b:
        got_a, _ = read_stream(a)
        got_b, _ = read_stream(b)
    assert got_a == events and got_b == events[5:]


def test_unknown_run_closes_with_4404(client):
    for run_id in ("0123456789abcdef", "%2e%2e", "nope", "C:%5Cx"):
        with client.websocket_connect(f"{WS}/ws/runs/{run_id}") as ws:
            assert read_stream(ws) == ([], 4404)
    # `..` is resolved by the client itself: the socket then matches no route at all.
    with pytest.raises(WebSocketDisconnect), client.websocket_connect(f"{WS}/ws/runs/.."):
        pass


def test_restart_marks_unfinished_runs_interrupted(tmp_path):
    settings = make_settings(tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    store = Store(settings.db_path)
    store.create_run("00000000000000e1", tiny_graph(), "running")
    running = [{"type": "status", "seq": 0, "status": "queued", "error": None, "time": 1.0},
               {"type": "status", "seq": 1, "status": "running", "error": None, "time": 1.0},
               {"type": "step", "seq": 2, "epoch": 1, "step": 1, "loss": 0.5}]
    store.append_events("00000000000000e1", [(e["seq"], dumps(e)) for e in running])
    store.create_run("00000000000000e2", tiny_graph(), "queued")
    store.create_run("00000000000000e3", tiny_graph(), "completed")
    folder = settings.runs_dir / "00000000000000e1"
    folder.mkdir(parents=True)
    (folder / "last.pt").write_bytes(b"kept")
    store.close()

    before = time.time()
    with TestClient(create_app(settings), base_url=BASE) as client:
        runs = {r["id"]: r for r in client.get("/api/runs").json()}
        assert runs["00000000000000e1"]["status"] == "interrupted"
        assert runs["00000000000000e2"]["status"] == "interrupted"
        assert runs["00000000000000e3"]["status"] == "completed"
        assert runs["00000000000000e1"]["ended"] >= before
        assert "server stopped" in runs["00000000000000e1"]["error"]
        events = client.get("/api/runs/00000000000000e1/events").json()
        assert events[:3] == running
        assert events[3]["seq"] == 3 and events[3]["status"] == "interrupted"
        with client.websocket_connect(f"{WS}/ws/runs/00000000000000e1?after=1") as ws:
            got, code = read_stream(ws)
        assert code == 1000 and [e["seq"] for e in got] == [2, 3]
        assert (folder / "last.pt").read_bytes() == b"kept"
        assert client.get("/api/runs/00000000000000e2/events").json()[0]["seq"] == 0


def test_sqlite_is_in_wal_mode(client, settings):
    import sqlite3

    db = sqlite3.connect(settings.db_path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"projects", "runs", "run_events", "datasets"} <= tables
    finally:
        db.close()


def test_nothing_non_finite_ever_leaves_as_json():
    text = dumps({"loss": float("nan"), "values": [[1.0, float("inf")], [-float("inf")]],
                  "ok": 0.5})
    assert json.loads(text, parse_constant=lambda c: 1 / 0) == {
        "loss": None, "values": [[1.0, None], [None]], "ok": 0.5}
