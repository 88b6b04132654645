"""The speed switches of `training` over HTTP: bad values refused at POST /api/runs with
a 422 naming the field, good ones accepted, an ignored one explained by a `note` event."""

from __future__ import annotations

import pytest
import torch

from .conftest import WS, read_stream, tiny_graph, wait_for


@pytest.mark.parametrize("field", ["channels_last", "compile"])
@pytest.mark.parametrize("value", ["yes", "true", 1, 0, None, [], {"mode": "max"}])
def test_bad_switch_values_are_refused_at_post(client, field, value):
    r = client.post("/api/runs", json=tiny_graph(**{field: value}))
    assert r.status_code == 422, r.text
    assert any(f"training.{field}" in e["message"] for e in r.json()["errors"]), r.text
    assert client.get("/api/runs").json() == []


def test_switches_validate_and_default_off(client):
    for extra in ({}, {"channels_last": True}, {"compile": False}, {"channels_last": False,
                                                                   "compile": True}):
        r = client.post("/api/graphs/validate", json=tiny_graph(**extra))
        assert r.status_code == 200 and r.json()["valid"], r.text
    props = client.get("/api/schema").json()["$defs"]["TrainingConfig"]["properties"]
    for field in ("channels_last", "compile"):
        assert props[field]["type"] == "boolean" and props[field]["default"] is False


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_asked_for_without_one_is_a_clear_422(client):
    r = client.post("/api/runs", json=tiny_graph(device="cuda"))
    assert r.status_code == 422
    assert "not available on this machine" in r.json()["detail"], r.text
    assert client.get("/api/runs").json() == []


def test_channels_last_on_tabular_data_trains_and_says_it_was_ignored(client):
    r = client.post("/api/runs", json=tiny_graph(channels_last=True))
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    with client.websocket_connect(f"{WS}/ws/runs/{run_id}") as ws:
        events, _ = read_stream(ws)
    assert events[-1]["status"] == "completed", events[-1]
    notes = [e for e in events if e["type"] == "note"]
    assert len(notes) == 1 and "channels_last ignored" in notes[0]["message"]
    first_step = next(i for i, e in enumerate(events) if e["type"] == "step")
    assert events.index(notes[0]) < first_step  # said before training starts
    wait_for(lambda: not client.app.state.ctx.runs.is_active(run_id))
