"""Projects: CRUD with times, rename, and names that try to leave the data dir."""

from __future__ import annotations

import time

import pytest

from .conftest import tiny_graph

HOSTILE = ["..", "%2e%2e%2f", "%2e%2e", "/etc/passwd", "%2Fetc%2Fpasswd", "C:\\x",
           "\\\\host\\share", "..%5c..%5cwin.ini", ".hidden", "a" * 65]


def test_crud_round_trip_with_updated_times(client):
    assert client.get("/api/projects").json() == []
    graph = tiny_graph()
    graph["ui"] = {"zoom": 1.5}  # editor data is kept unchanged
    r = client.put("/api/projects/my net", json=graph)
    assert r.status_code == 200
    first = r.json()
    assert first["name"] == "my net" and first["created"] == first["updated"]
    assert client.get("/api/projects/my net").json()["graph"] == graph

    time.sleep(0.01)
    graph["name"] = "renamed"
    second = client.put("/api/projects/my net", json=graph).json()
    assert second["created"] == first["created"] and second["updated"] > first["updated"]
    assert [p["name"] for p in client.get("/api/projects").json()] == ["my net"]

    assert client.delete("/api/projects/my net").status_code == 204
    assert client.get("/api/projects/my net").status_code == 404
    assert client.delete("/api/projects/my net").status_code == 404


def test_list_is_newest_first(client):
    for name in ("a", "b", "c"):
        client.put(f"/api/projects/{name}", json=tiny_graph())
        time.sleep(0.01)
    client.put("/api/projects/a", json=tiny_graph())
    assert [p["name"] for p in client.get("/api/projects").json()] == ["a", "c", "b"]


def test_rename(client):
    client.put("/api/projects/old", json=tiny_graph())
    client.put("/api/projects/taken", json=tiny_graph())
    assert client.post("/api/projects/old/rename", json={"name": "taken"}).status_code == 409
    assert client.post("/api/projects/old/rename", json={"name": "../x"}).status_code == 422
    r = client.post("/api/projects/old/rename", json={"name": "new"})
    assert r.status_code == 200 and r.json()["name"] == "new"
    assert client.get("/api/projects/old").status_code == 404
    assert client.post("/api/projects/gone/rename", json={"name": "z"}).status_code == 404


def test_an_unfinished_graph_saves_but_a_non_graph_does_not(client):
    unfinished = tiny_graph()
    unfinished["nodes"][3]["inputs"] = []  # dangling: invalid, still worth saving
    assert client.put("/api/projects/wip", json=unfinished).status_code == 200
    assert client.put("/api/projects/bad", json={"nodes": 3}).status_code == 422
    assert client.put("/api/projects/bad", json=[1]).status_code == 422
    assert client.get("/api/projects/bad").status_code == 404


def test_a_graph_naming_a_foreign_path_is_refused(client):
    graph = tiny_graph()
    graph["data"] = {"dataset": "imagefolder", "params": {"path": "/home"}}
    r = client.put("/api/projects/p", json=graph)
    assert r.status_code == 422 and r.json()["errors"][0]["param"] == "path"


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_never_resolve(client, name):
    for method in ("get", "put", "delete"):
        kwargs = {"json": tiny_graph()} if method == "put" else {}
        r = getattr(client, method)(f"/api/projects/{name}", **kwargs)
        assert r.status_code in (404, 405, 422), (method, name, r.status_code)
