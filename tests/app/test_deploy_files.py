"""Model files over HTTP: a graph's ONNX/TorchScript/.pt2, and a finished run's with its weights."""

from __future__ import annotations

import io

import numpy as np
import torch

from server.app.checkpoints import checkpoint_path, load_checkpoint
from server.compiler import compile_graph

from .conftest import tiny_graph


def test_a_runs_onnx_download_equals_its_checkpoint(done_run):
    import onnxruntime as ort

    client, run_id, _ = done_run
    for which in ("best", "last"):
        r = client.get(f"/api/runs/{run_id}/model", params={"format": "onnx", "which": which})
        assert r.status_code == 200, r.text
        assert r.headers["content-disposition"] == (
            f'attachment; filename="Tiny-{run_id[:8]}-{which}.onnx"')
        settings = client.app.state.ctx.settings
        ckpt = load_checkpoint(checkpoint_path(settings.runs_dir, run_id, which))
        model = compile_graph(ckpt["graph"]).eval()
        model.load_state_dict(ckpt["state_dict"])
        session = ort.InferenceSession(r.content, providers=["CPUExecutionProvider"])
        x = torch.randn(16, 2)
        got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
        with torch.no_grad():
            assert np.abs(got - model(x).numpy()).max() < 1e-4


def test_a_runs_torchscript_and_exported_program(done_run):
    client, run_id, _ = done_run
    settings = client.app.state.ctx.settings
    ckpt = load_checkpoint(checkpoint_path(settings.runs_dir, run_id, "best"))
    model = compile_graph(ckpt["graph"]).eval()
    model.load_state_dict(ckpt["state_dict"])
    x = torch.randn(5, 2)
    r = client.get(f"/api/runs/{run_id}/model", params={"format": "torchscript"})
    assert r.status_code == 200
    assert torch.allclose(torch.jit.load(io.BytesIO(r.content))(x), model(x), atol=1e-6)
    r = client.get(f"/api/runs/{run_id}/model", params={"format": "exported-program"})
    assert r.status_code == 200
    program = torch.export.load(io.BytesIO(r.content)).module()
    assert torch.allclose(program(x), model(x), atol=1e-6)


def test_bad_requests_get_json_answers(done_run):
    client, run_id, _ = done_run
    r = client.get(f"/api/runs/{run_id}/model", params={"format": "tflite"})
    assert r.status_code == 422
    r = client.get("/api/runs/0123456789abcdef/model")
    assert r.status_code == 404 and "no run" in r.json()["detail"]


def test_a_graphs_files_from_the_export_route(client):
    graph = tiny_graph()
    r = client.post("/api/graphs/export", params={"format": "onnx"}, json=graph)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"] == 'attachment; filename="Tiny.onnx"'
    r = client.post("/api/graphs/export", params={"format": "torchscript"}, json=graph)
    assert r.status_code == 200
    fresh = compile_graph(graph, seed=0).eval()
    x = torch.randn(3, 2)
    assert torch.allclose(torch.jit.load(io.BytesIO(r.content))(x), fresh(x), atol=1e-6)


def test_an_invalid_graph_gets_its_errors_not_a_file(client):
    graph = tiny_graph()
    graph["nodes"][1]["params"]["out_features"] = -3
    r = client.post("/api/graphs/export", params={"format": "onnx"}, json=graph)
    assert r.status_code == 422
    assert "fc1" in r.text
