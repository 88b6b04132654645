"""Fixtures for the server tests: an app per temp data dir, a client that speaks as the browser.

Every test gets real SQLite files in a temp dir and the real core and trainer;
training runs use `circles` with a few hundred samples so a run takes seconds.
The client's base URL is http://localhost so the Host guard lets it in.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.app import Settings, create_app

BASE = "http://localhost"
WS = "ws://localhost"

TINY = {
    "version": 1,
    "name": "tiny",
    "nodes": [
        {"id": "x", "type": "Input", "params": {"shape": [2]}},
        {"id": "fc1", "type": "Linear", "params": {"out_features": 8}, "inputs": ["x"]},
        {"id": "act", "type": "ReLU", "inputs": ["fc1"]},
        {"id": "fc2", "type": "Linear", "params": {"out_features": 2}, "inputs": ["act"]},
    ],
    "output": "fc2",
    "data": {"dataset": "circles", "params": {"n_samples": 200}, "batch_size": 32},
    "training": {"epochs": 2, "seed": 0, "device": "cpu"},
}


def tiny_graph(**training: Any) -> dict[str, Any]:
    """The tiny MLP on circles; `training` overrides fields (e.g. epochs=5000 for a long run)."""
    graph = copy.deepcopy(TINY)
    graph["training"].update(training)
    return graph


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    return Settings(data_dir=data_dir, **overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url=BASE) as c:
        yield c


def read_stream(ws: Any) -> tuple[list[dict[str, Any]], int]:
    """Every event until the server closes the socket; (events, close code)."""
    from starlette.websockets import WebSocketDisconnect

    events = []
    while True:
        try:
            text = ws.receive_text()
        except WebSocketDisconnect as exc:
            return events, exc.code
        events.append(json.loads(text, parse_constant=_no_constants))


def _no_constants(name: str) -> Any:
    raise AssertionError(f"the server sent a bare {name}")


def wait_for(predicate: Any, timeout: float = 60.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")


def wait_status(client: TestClient, run_id: str, statuses: set[str],
                timeout: float = 60.0) -> dict[str, Any]:
    def check() -> Any:
        run = client.get(f"/api/runs/{run_id}").json()
        return run if run["status"] in statuses else None

    return wait_for(check, timeout)


@pytest.fixture(scope="session")
def done_run(tmp_path_factory) -> Iterator[tuple[TestClient, str, list[dict[str, Any]]]]:
    """One real, completed training run shared by the read-only tests: (client, id, events)."""
    settings = make_settings(tmp_path_factory.mktemp("done") / "data")
    with TestClient(create_app(settings), base_url=BASE) as c:
        r = c.post("/api/runs", json=tiny_graph())
        assert r.status_code == 201, r.text
        run_id = r.json()["id"]
        with c.websocket_connect(f"{WS}/ws/runs/{run_id}") as ws:
            events, code = read_stream(ws)
        assert code == 1000 and events[-1]["status"] == "completed", events[-1]
        wait_for(lambda: not c.app.state.ctx.runs.is_active(run_id))
        yield c, run_id, events
