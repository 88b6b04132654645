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
