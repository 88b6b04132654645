"""X-ray over HTTP: an untrained graph, a finished run's checkpoint, and bad requests."""

from __future__ import annotations

import pytest

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


# -- any epoch's weights ------------------------------------------------------------


def _hooked_fc1(graph: dict, state: dict, x) -> float:
    """fc1's output mean for `x`, by a forward hook on the compiled module with `state`."""
    import torch

    from server.compiler import compile_graph

    model = compile_graph(graph).eval()
    model.load_state_dict(state)
    seen = {}
    getattr(model, model.node_attrs["fc1"]).register_forward_hook(
        lambda m, i, o: seen.__setitem__("out", o.detach()))
    with torch.no_grad():
        model(x)
    return float(seen["out"].mean())


def test_every_epochs_weights_are_listed_and_inspected(done_run):
    import torch

    from server.training.checkpoint import load_checkpoint

    client, run_id, _ = done_run
    kept = client.get(f"/api/runs/{run_id}/checkpoints").json()
    assert kept == {"epochs": [0, 1, 2], "best": kept["best"], "last": 2}
    runs_dir = client.app.state.ctx.settings.runs_dir
    means = []
    for epoch in kept["epochs"]:
        r = client.post(f"/api/runs/{run_id}/inspect", json={"epoch": epoch, "sample": 1})
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["checkpoint"] == f"epoch {epoch}" and report["epoch"] == epoch
        state = load_checkpoint(runs_dir / run_id / "epochs" / f"epoch-{epoch:04d}.pt")
        assert state["epoch"] == epoch
        means.append(report["nodes"]["fc1"]["mean"])
        # Your own input through a hooked module with that epoch's weights: the same numbers.
        mine = client.post(f"/api/runs/{run_id}/inspect",
                           json={"epoch": epoch, "input": [0.1, 0.7]}).json()
        expected = _hooked_fc1(tiny_graph(), state["state_dict"], torch.tensor([[0.1, 0.7]]))
        assert abs(mine["nodes"]["fc1"]["mean"] - expected) < 1e-6
        fresh = client.post("/api/graphs/inspect", json={"graph": tiny_graph(), "sample": 1})
        if epoch == 0:  # before training: the seed's weights, as for the untrained graph
            assert abs(report["nodes"]["fc1"]["mean"] - fresh.json()["nodes"]["fc1"]["mean"]) \
                < 1e-7
    assert len(set(means)) == 3  # each epoch's weights give another picture
    last = client.post(f"/api/runs/{run_id}/inspect", json={"which": "last", "sample": 1}).json()
    assert last["nodes"]["fc1"]["mean"] == means[-1]


def test_an_epoch_that_was_not_kept_is_a_clear_404(done_run):
    client, run_id, _ = done_run
    r = client.post(f"/api/runs/{run_id}/inspect", json={"epoch": 7})
    assert r.status_code == 404 and "epochs 0, 1, 2" in r.json()["detail"]
    assert client.get("/api/runs/0123456789abcdef/checkpoints").status_code == 404


# -- an input of the user's own -------------------------------------------------------


def test_your_own_input_against_a_forward_hook(client, done_run):
    import torch

    from server.compiler import compile_graph

    point = [0.25, -0.5]
    r = client.post("/api/graphs/inspect", json={"graph": tiny_graph(), "input": point})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["input"] == "yours" and report["sample"] is None and report["label"] is None
    assert report["nodes"]["x"]["mean"] == sum(point) / 2
    model = compile_graph(tiny_graph(), seed=0)
    expected = _hooked_fc1(tiny_graph(), model.state_dict(), torch.tensor([point]))
    assert abs(report["nodes"]["fc1"]["mean"] - expected) < 1e-6
    # A hand-written check of the whole chain: Linear, ReLU, Linear.
    w = model.state_dict()
    h = torch.relu(torch.tensor(point) @ w["fc1.weight"].T + w["fc1.bias"])
    out = h @ w["fc2.weight"].T + w["fc2.bias"]
    assert abs(report["nodes"]["act"]["zeros"] - float((h == 0).float().mean())) < 1e-9
    assert abs(report["nodes"]["fc2"]["mean"] - float(out.mean())) < 1e-6

    run_client, run_id, _ = done_run
    r = run_client.post(f"/api/runs/{run_id}/inspect", json={"input": point, "which": "last"})
    assert r.status_code == 200 and r.json()["input"] == "yours"
    from server.training.checkpoint import load_checkpoint

    runs_dir = run_client.app.state.ctx.settings.runs_dir
    state = load_checkpoint(runs_dir / run_id / "last.pt")["state_dict"]
    assert abs(r.json()["nodes"]["fc1"]["mean"]
               - _hooked_fc1(tiny_graph(), state, torch.tensor([point]))) < 1e-6


@pytest.mark.parametrize("value,needle", [
    ([1.0, 2.0, 3.0], "shape [3], the network's Input takes [2]"),
    ([[1.0, 2.0]], "shape [1, 2]"),
    ("two numbers", "nested list of numbers"),
    ([1.0, None], "nested list of numbers"),
    ([[0] * 600] * 500, "at most 262,144"),
])
def test_an_input_that_does_not_fit_is_a_clear_422(client, value, needle):
    r = client.post("/api/graphs/inspect", json={"graph": tiny_graph(), "input": value})
    assert r.status_code == 422, r.text
    assert needle in r.json()["detail"]


# -- cost ---------------------------------------------------------------------------------


def test_cost_of_a_graph(client):
    r = client.post("/api/graphs/cost", json={"graph": tiny_graph()})
    assert r.status_code == 200, r.text
    cost = r.json()
    assert cost["nodes"]["fc1"]["flops"] == 2 * 2 * 8 and cost["nodes"]["fc2"]["macs"] == 8 * 2
    assert cost["total_flops"] == sum(n["flops"] for n in cost["nodes"].values())
    assert cost["batch_size"] == 32
    assert cost["nodes"]["fc1"]["activation_bytes"] == 8 * 32 * 4
    assert sum(n["training_bytes"] for n in cost["nodes"].values()) == cost["memory"]["total"]
    bad = tiny_graph()
    bad["nodes"][1]["params"]["out_features"] = 0
    assert client.post("/api/graphs/cost", json={"graph": bad}).status_code == 422
    assert client.post("/api/graphs/cost", json={}).status_code == 422
