"""X-ray over HTTP: an untrained graph, a finished run's checkpoint, and bad requests."""

from __future__ import annotations

from .conftest import tiny_graph


def test_an_untrained_graph(client):
    r = client.post("/api/graphs/inspect", json={"graph": tiny_graph(), "sample": 3})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["weights"] == "initial" and report["sample"] == 3
    assert set(report["nodes"]) == {"x", "fc1", "act", "fc2"}
    assert report["nodes"]["fc1"]["flops"] == 2 * 2 * 8  # one sample through Linear(2, 8)
    assert report["nodes"]["fc2"]["weight_grad_norm"] > 0


def test_a_runs_checkpoint(done_run):
    client, run_id, _ = done_run
    r = client.post(f"/api/runs/{run_id}/inspect", json={"sample": 0, "which": "last"})
    assert r.status_code == 200, r.text
    assert r.json()["weights"] == "checkpoint" and r.json()["checkpoint"] == "last"
    fresh = client.post("/api/graphs/inspect", json={"graph": tiny_graph()}).json()
    assert r.json()["nodes"]["fc1"]["mean"] != fresh["nodes"]["fc1"]["mean"]


def test_bad_requests(client, done_run):
    r = client.post("/api/graphs/inspect", json={"graph": tiny_graph(), "sample": 10_000})
    assert r.status_code == 422 and "out of range" in r.json()["detail"]
    bad = tiny_graph()
    bad["nodes"][1]["params"]["out_features"] = 0
    assert client.post("/api/graphs/inspect", json={"graph": bad}).status_code == 422
    assert client.post("/api/runs/0123456789abcdef/inspect", json={}).status_code == 404
