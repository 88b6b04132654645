"""POST /api/runs/{id}/predict: a trained run answers for one input, as the model does."""

from __future__ import annotations

import torch

from server.app.checkpoints import load_checkpoint
from server.compiler import compile_graph


def test_prediction_equals_the_trained_model(done_run):
    client, run_id, _ = done_run
    run = client.get(f"/api/runs/{run_id}").json()
    answer = client.post(f"/api/runs/{run_id}/predict", json={"input": [0.1, -0.2]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["labels"] == ["0", "1"]
    assert abs(sum(body["probabilities"]) - 1) < 1e-5
    # The oracle: the checkpoint's weights in a freshly compiled model.
    settings = client.app.state.ctx.settings
    model = compile_graph(run["graph"])
    model.load_state_dict(load_checkpoint(settings.runs_dir / run_id / "best.pt")["state_dict"])
    model.eval()
    want = torch.softmax(model(torch.tensor([[0.1, -0.2]])), dim=1)[0].tolist()
    assert body["probabilities"] == want or all(
        abs(a - b) < 1e-6 for a, b in zip(body["probabilities"], want, strict=True))


def test_bad_inputs_get_clear_errors(done_run):
    client, run_id, _ = done_run
    # Raw JSON text: 1e400 parses as infinity, which no JSON encoder would write.
    for bad, says in (("[1.0, 2.0, 3.0]", "shape"), ('"text"', "numbers"),
                      ("[[1], [2, 3]]", "numbers"), ("[1e400, 0]", "finite")):
        answer = client.post(f"/api/runs/{run_id}/predict", content=f'{{"input": {bad}}}',
                             headers={"Content-Type": "application/json"})
        assert answer.status_code == 422, (bad, answer.text)
        assert says in answer.json()["detail"]


def test_unknown_run_is_404(done_run):
    client, _, _ = done_run
    assert client.post("/api/runs/0123456789abcdef/predict",
                       json={"input": [0, 0]}).status_code == 404


def test_samples_are_the_runs_validation_split_with_the_models_answers(done_run):
    from server.datasets import load_dataset

    client, run_id, events = done_run
    run = client.get(f"/api/runs/{run_id}").json()
    answer = client.get(f"/api/runs/{run_id}/samples?n=5")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    data = run["graph"]["data"]
    split = load_dataset(data["dataset"], data["params"], val_fraction=0.2, seed=0)
    assert body["inputs"] == split.x_val[:5].tolist()
    assert body["labels"] == split.y_val[:5].tolist()
    assert len(body["probabilities"]) == 5 and body["class_names"] == ["0", "1"]
    one = client.post(f"/api/runs/{run_id}/predict", json={"input": body["inputs"][2]}).json()
    assert all(abs(a - b) < 1e-5 for a, b in zip(one["probabilities"], body["probabilities"][2],
                                                   strict=True))
    assert client.get(f"/api/runs/{run_id}/samples?n=0").status_code == 422
