"""Paths named in graphs: only real locations inside the uploads folder pass."""

from __future__ import annotations

import os

import pytest

from server.app.datapaths import foreign_paths, inside


@pytest.fixture
def uploads(tmp_path):
    folder = tmp_path / "uploads"
    (folder / "0123456789abcdef").mkdir(parents=True)
    (folder / "0123456789abcdef" / "data.csv").write_text("a,b\n1,2\n")
    return folder


def test_inside(uploads, tmp_path):
    good = uploads / "0123456789abcdef" / "data.csv"
    assert inside(str(good), uploads)
    (tmp_path / "secret.csv").write_text("x")
    os.symlink(tmp_path / "secret.csv", uploads / "link.csv")
    for bad in [str(uploads), str(uploads / ".." / "secret.csv"), str(uploads / "link.csv"),
                "/etc/passwd", "relative/data.csv", "~/x.csv", "C:\\x", "\\\\host\\share",
                str(good) + "\x00", "", "   "]:
        assert not inside(bad, uploads), bad
    assert not inside(123, uploads)  # type: ignore[arg-type]


def test_foreign_paths_names_each_path_like_param(uploads):
    good = str(uploads / "0123456789abcdef" / "data.csv")
    graph = {"data": {"dataset": "csv", "params": {
        "path": good, "root": "/tmp", "cache_dir": "/var", "label": "/etc/passwd"}}}
    errors = foreign_paths(graph, uploads)
    assert sorted(e["param"] for e in errors) == ["cache_dir", "root"]
    assert foreign_paths({"data": None}, uploads) == []
    assert foreign_paths({"nodes": []}, uploads) == []


def test_start_weights_must_be_uploaded(uploads, tmp_path):
    (tmp_path / "weights.pt").write_bytes(b"x")
    for path in [str(tmp_path / "weights.pt"), "weights.pt", "/etc/passwd"]:
        errors = foreign_paths({"init": {"weights": path}}, uploads)
        assert [(e["component"], e["param"]) for e in errors] == [("init", "weights")], path
        assert "torchcanvas train" in errors[0]["message"]
    inside_file = uploads / "0123456789abcdef" / "data.csv"
    assert foreign_paths({"init": {"weights": str(inside_file)}}, uploads) == []


def test_runs_refuse_foreign_start_weights(client, tmp_path):
    from .conftest import tiny_graph

    graph = tiny_graph() | {"init": {"weights": str(tmp_path / "w.pt")}}
    r = client.post("/api/runs", json=graph)
    assert r.status_code == 422
    assert "init.weights" in r.text and str(tmp_path) not in r.json()["detail"]
