"""Cleanup and quotas (issue 13 case 15): delete uploads, retention of runs, a data-dir quota."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from server.app import create_app

from .conftest import BASE, make_settings, tiny_graph
from .test_datasets import upload

CSV = b"a,b,label\n" + b"".join(b"%d,%d,%d\n" % (i, i * 2, i % 2) for i in range(40))


def test_an_uploaded_dataset_can_be_deleted(client, settings):
    up = upload(client, CSV, "points.csv").json()
    folder = settings.uploads_dir / up["id"]
    assert folder.is_dir()
    assert client.delete(f"/api/datasets/{up['name']}").status_code == 204
    assert not folder.exists()
    assert client.get("/api/datasets").json()["uploads"] == []
    assert client.delete(f"/api/datasets/{up['name']}").status_code == 404
    assert client.delete("/api/datasets/circles").status_code == 404  # built-ins stay


def test_the_data_dir_quota_refuses_uploads_and_runs_clearly(tmp_path):
    settings = make_settings(tmp_path / "data", max_data_bytes=1)
    with TestClient(create_app(settings), base_url=BASE) as client:
        for r in (upload(client, CSV, "points.csv"), client.post("/api/runs", json=tiny_graph())):
            assert r.status_code == 507, r.text
            assert "quota" in r.json()["detail"] and "delete" in r.json()["detail"]
        assert client.get("/api/runs").json() == []
        assert client.get("/api/datasets").json()["uploads"] == []


def test_finished_runs_past_retention_are_deleted_at_start(tmp_path):
    settings = make_settings(tmp_path / "data", keep_runs_days=7)
    with TestClient(create_app(settings), base_url=BASE) as client:
        store = client.app.state.ctx.store
        store.create_run("00000000000000a1", tiny_graph(), "completed")
        store.create_run("00000000000000a2", tiny_graph(), "completed")
        old = settings.runs_dir / "00000000000000a1"
        old.mkdir(parents=True)
        (old / "best.pt").write_bytes(b"x")
        with store._conn() as db:  # age one run by its stored times
            db.execute("UPDATE runs SET created = ?, ended = ? WHERE id = ?",
                       (time.time() - 30 * 86400, time.time() - 30 * 86400,
                        "00000000000000a1"))
    with TestClient(create_app(settings), base_url=BASE) as client:
        ids = [r["id"] for r in client.get("/api/runs").json()]
        assert ids == ["00000000000000a2"] and not old.exists()


def test_per_epoch_weights_count_in_the_quota_and_go_with_their_run(tmp_path):
    from .conftest import WS, read_stream, wait_for

    settings = make_settings(tmp_path / "data")
    with TestClient(create_app(settings), base_url=BASE) as client:
        run_id = client.post("/api/runs", json=tiny_graph()).json()["id"]
        with client.websocket_connect(f"{WS}/ws/runs/{run_id}") as ws:
            read_stream(ws)
        wait_for(lambda: not client.app.state.ctx.runs.is_active(run_id))
        epochs = settings.runs_dir / run_id / "epochs"
        files = sorted(p.name for p in epochs.iterdir())
        assert files == ["epoch-0000.pt", "epoch-0001.pt", "epoch-0002.pt"]
        from server.app.housekeeping import data_dir_bytes

        used = data_dir_bytes(settings.data_dir)
        assert used >= sum(p.stat().st_size for p in epochs.iterdir()) > 0
        assert client.delete(f"/api/runs/{run_id}").status_code == 204
        assert not epochs.exists() and not (settings.runs_dir / run_id).exists()
