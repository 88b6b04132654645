"""Import routes: the torchvision zoo and uploaded ONNX files (the page never runs .py code)."""

from __future__ import annotations

from server.compiler import compile_graph
from server.export.deploy import export_deployable
from server.graph import load_graph_file


def test_the_zoo_lists_torchvision_and_imports_an_architecture(client):
    models = client.get("/api/import/zoo").json()["models"]
    assert {"resnet18", "densenet121", "squeezenet1_1"} <= set(models)
    r = client.post("/api/import/zoo/squeezenet1_1")
    assert r.status_code == 200, r.text
    graph = r.json()["graph"]
    assert client.post("/api/graphs/validate", json=graph).json()["valid"]


def test_the_zoo_names_what_it_cannot_map(client):
    r = client.post("/api/import/zoo/swin_t")
    assert r.status_code == 422
    body = r.json()
    assert "have no torchcanvas node" in body["detail"]
    assert body["errors"] and all("message" in e for e in body["errors"])
    assert client.post("/api/import/zoo/not_a_model").status_code == 404
    assert client.post("/api/import/zoo/..%2f..%2fetc").status_code in (404, 422)


def test_an_uploaded_onnx_file_becomes_the_same_network(client):
    graph = load_graph_file("examples/residual_block.json")
    data = export_deployable(graph, "onnx")
    r = client.post("/api/import/onnx", files={"file": ("residual block.onnx", data)})
    assert r.status_code == 200, r.text
    imported = r.json()["graph"]
    assert imported["name"] == "residual_block"
    compiled = compile_graph(imported)
    assert compiled.output_shape == compile_graph(graph).output_shape


def test_a_file_that_is_not_onnx_gets_a_clear_answer(client, settings):
    r = client.post("/api/import/onnx", files={"file": ("x.onnx", b"\x00garbage" * 100)})
    assert r.status_code == 422
    assert "not a readable ONNX file" in r.json()["detail"]
    assert str(settings.data_dir) not in r.text
    r = client.post("/api/import/onnx", json={"file": "x"})
    assert r.status_code == 415
