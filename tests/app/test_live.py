"""A live run seen by several viewers: fan-out, leaving, misbehaving clients, stop, shutdown.

These use the real trainer on a run long enough to still be training while the
test looks at it (thousands of epochs on 200 points), then stop it.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.app import create_app
from server.app.store import Store
from server.app.viewers import Viewer

from .conftest import BASE, WS, make_settings, read_stream, tiny_graph, wait_for

LONG = {"epochs": 10000}


def _until_epoch(ws, epochs: int) -> list[dict]:
    events = []
    while sum(e["type"] == "epoch" for e in events) < epochs:
        events.append(json.loads(ws.receive_text()))
    return events


def _closed_with(ws, send) -> int:
    send(ws)
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:
            ws.receive_text()
    return closed.value.code


def test_live_run_with_viewers_then_stop(tmp_path):
    settings = make_settings(tmp_path / "data")
    with TestClient(create_app(settings), base_url=BASE) as client:
        run_id = client.post("/api/runs", json=tiny_graph(**LONG)).json()["id"]
        busy = client.post("/api/runs", json=tiny_graph())
        assert busy.status_code == 429 and int(busy.headers["retry-after"]) > 0

        manager = client.app.state.ctx.runs
        idle_loop = asyncio.new_event_loop()  # never run: this viewer never reads
        stuck = Viewer(idle_loop, maxsize=2)
        assert manager.subscribe(run_id, stuck) is not None

        with client.websocket_connect(f"{WS}/ws/runs/{run_id}") as a:
            with client.websocket_connect(f"{WS}/ws/runs/{run_id}") as b:
                seen_b = _until_epoch(b, 1)
            # b has left mid-run; the run goes on and a keeps receiving.
            seen_a = _until_epoch(a, 2)
            assert seen_a[: len(seen_b)] == seen_b
            assert client.get(f"/api/runs/{run_id}").json()["status"] == "running"

            # The viewer that never reads was dropped, and training did not wait for it.
            assert wait_for(lambda: stuck.dropped, timeout=30)
            idle_loop.close()

            # Misbehaving clients are closed; the run does not notice.
            url = f"{WS}/ws/runs/{run_id}?after=1000000"
            with client.websocket_connect(url) as c:
                assert _closed_with(c, lambda ws: ws.send_bytes(b"\x00\x01")) == 1003
            with client.websocket_connect(url) as c:
                assert _closed_with(c, lambda ws: ws.send_text("x" * 100_000)) == 1009
            with client.websocket_connect(url) as c:
                def flood(ws):
                    for _ in range(settings.max_client_messages_per_s + 5):
                        ws.send_text("ping")
                assert _closed_with(c, flood) == 1008

            # A viewer resuming mid-run with ?after= gets exactly what follows.
            last = seen_a[-1]["seq"]
            with client.websocket_connect(f"{WS}/ws/runs/{run_id}?after={last - 3}") as r:
                resumed = [json.loads(r.receive_text()) for _ in range(5)]
            assert [e["seq"] for e in resumed] == list(range(last - 2, last + 3))
            assert resumed[:3] == seen_a[-3:]

            for _ in range(2):  # stop is idempotent
                r = client.post(f"/api/runs/{run_id}/stop")
                assert r.status_code == 200 and r.json()["id"] == run_id
            rest, code = read_stream(a)
        assert code == 1000
        events = seen_a + rest
        assert [e["seq"] for e in events] == list(range(len(events)))
        assert events[-1]["type"] == "status" and events[-1]["status"] == "stopped"
        assert sum(e["type"] == "status" and e["status"] in {"completed", "stopped"}
                   for e in events) == 1
        run = wait_for(lambda: (r := client.get(f"/api/runs/{run_id}").json())["status"]
                       == "stopped" and r)
        assert run["ended"] and run["last_seq"] == events[-1]["seq"]
        assert client.get(f"/api/runs/{run_id}/events").json() == events
        assert client.post(f"/api/runs/{run_id}/stop").json()["stopping"] is False
        folder = settings.runs_dir / run_id
        assert folder.is_dir()
        assert client.delete(f"/api/runs/{run_id}").status_code == 204
        assert not folder.exists() and client.get(f"/api/runs/{run_id}").status_code == 404

        # The slot is free again; shutting the server down stops the new run.
        second = client.post("/api/runs", json=tiny_graph(**LONG))
        assert second.status_code == 201
        second_id = second.json()["id"]
    store = Store(settings.db_path)
    try:
        assert store.get_run(second_id)["status"] == "stopped"
        last = store.events_after(second_id, -1)[-1]
        assert json.loads(last[1])["status"] == "stopped"
    finally:
        store.close()
