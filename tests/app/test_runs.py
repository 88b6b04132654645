"""Runs over HTTP: create, read, events, checkpoint, code, delete, and what is refused."""

from __future__ import annotations

import ast
import io
import pickle

import pytest
import torch

from server.export import export_code

from .conftest import tiny_graph
from .test_projects import HOSTILE


def test_a_completed_run_reads_back(done_run):
    client, run_id, events = done_run
    run = client.get(f"/api/runs/{run_id}").json()
    assert run["status"] == "completed" and run["error"] is None
    assert run["created"] <= run["started"] <= run["ended"]
    assert run["graph"] == tiny_graph() and run["dataset"] == "circles"
    assert run["metrics"]["epoch"] == 2 and 0 <= run["metrics"]["val_accuracy"] <= 1
    assert run["last_seq"] == events[-1]["seq"] and run["has_checkpoint"]
    listed = client.get("/api/runs").json()
    assert [r["id"] for r in listed] == [run_id] and "graph" not in listed[0]


def test_events_are_contiguous_and_resume_after(done_run):
    client, run_id, events = done_run
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert events[0]["status"] == "queued" and events[1]["status"] == "running"
    assert client.get(f"/api/runs/{run_id}/events").json() == events
    assert client.get(f"/api/runs/{run_id}/events?after=3").json() == events[4:]
    assert client.get(f"/api/runs/{run_id}/events?after=2&limit=2").json() == events[3:5]
    assert client.get(f"/api/runs/{run_id}/events?after=999").json() == []
    assert client.get(f"/api/runs/{run_id}/events?after=-5").status_code == 422


def test_checkpoint_downloads_and_loads_as_weights_only(done_run):
    client, run_id, _ = done_run
    for which in ("best", "last"):
        r = client.get(f"/api/runs/{run_id}/checkpoint?which={which}")
        assert r.status_code == 200
        assert f"{which}.pt" in r.headers["content-disposition"]
        data = torch.load(io.BytesIO(r.content), weights_only=True)
        assert "fc1.weight" in "".join(data["state_dict"]) and data["graph"]["name"] == "tiny"
    assert client.get(f"/api/runs/{run_id}/checkpoint?which=../x").status_code == 422


def test_code_reproduces_the_run(done_run):
    client, run_id, _ = done_run
    r = client.get(f"/api/runs/{run_id}/code")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/x-python")
    assert r.text == export_code(tiny_graph(), "script")
    ast.parse(r.text)


def test_stop_on_a_finished_run_is_harmless(done_run):
    client, run_id, _ = done_run
    for _ in range(2):
        r = client.post(f"/api/runs/{run_id}/stop")
        assert r.status_code == 200
        assert r.json() == {"id": run_id, "status": "completed", "stopping": False}


@pytest.mark.parametrize("bad", HOSTILE + ["0123456789ABCDEF", "0123456789abcde"])
def test_hostile_run_ids_never_resolve(done_run, bad):
    client, _, _ = done_run
    for suffix in ("", "/events", "/checkpoint", "/code"):
        r = client.get(f"/api/runs/{bad}{suffix}")
        assert r.status_code in (404, 422), (bad, suffix, r.status_code)
        assert b"root:" not in r.content
    assert client.delete(f"/api/runs/{bad}").status_code in (404, 405, 422)


def test_unknown_run_is_404(client):
    for suffix in ("", "/events", "/checkpoint", "/code"):
        assert client.get(f"/api/runs/0123456789abcdef{suffix}").status_code == 404
    assert client.post("/api/runs/0123456789abcdef/stop").status_code == 404
    assert client.delete("/api/runs/0123456789abcdef").status_code == 404


def test_invalid_graphs_do_not_start(client, settings):
    bad = tiny_graph()
    bad["nodes"][1]["params"]["out_features"] = -3
    r = client.post("/api/runs", json=bad)
    assert r.status_code == 422 and any(e["node"] == "fc1" for e in r.json()["errors"])
    no_data = tiny_graph()
    del no_data["data"]
    assert client.post("/api/runs", json=no_data).status_code == 422
    foreign = tiny_graph()
    foreign["data"] = {"dataset": "csv", "params": {"path": "/etc/passwd", "label": "x"}}
    assert client.post("/api/runs", json=foreign).status_code == 422
    escape = tiny_graph()
    escape["data"] = {"dataset": "csv",
                      "params": {"path": str(settings.uploads_dir / ".." / "x.csv")}}
    assert client.post("/api/runs", json=escape).status_code == 422
    assert client.post("/api/runs", json={"nodes": 1}).status_code == 422
    assert client.get("/api/runs").json() == []
    assert not settings.runs_dir.exists() or not any(settings.runs_dir.iterdir())


def test_delete_removes_rows_and_files(client, settings):
    store = client.app.state.ctx.store
    run_id = "00000000000000aa"
    store.create_run(run_id, tiny_graph(), "completed")
    folder = settings.runs_dir / run_id
    folder.mkdir(parents=True)
    (folder / "last.pt").write_bytes(b"x")
    assert client.delete(f"/api/runs/{run_id}").status_code == 204
    assert not folder.exists() and client.get(f"/api/runs/{run_id}").status_code == 404


class _Payload:
    def __reduce__(self):
        import os

        return (os.system, ("touch PWNED_MARKER",))


def test_hostile_checkpoint_is_refused_and_never_runs(client, settings, tmp_path,
                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_id = "00000000000000bb"
    client.app.state.ctx.store.create_run(run_id, tiny_graph(), "completed")
    folder = settings.runs_dir / run_id
    folder.mkdir(parents=True)
    (folder / "best.pt").write_bytes(pickle.dumps({"state_dict": _Payload()}))
    r = client.get(f"/api/runs/{run_id}/checkpoint")
    assert r.status_code == 422 and "unreadable" in r.json()["detail"]
    assert not (tmp_path / "PWNED_MARKER").exists()


def test_checkpoint_missing_is_404(client, settings):
    run_id = "00000000000000cc"
    client.app.state.ctx.store.create_run(run_id, tiny_graph(), "failed")
    assert client.get(f"/api/runs/{run_id}/checkpoint").status_code == 404
