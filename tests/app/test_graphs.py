"""Catalogue, schema, validation and export over HTTP, compared with the core's own answers."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from server.export import export_code
from server.validation import validate_graph

from .conftest import tiny_graph

SEED = json.loads((Path(__file__).parents[2] / "examples" / "seed_cnn.json").read_text())


def test_catalog_lists_every_kind_with_param_schemas(client):
    body = client.get("/api/catalog").json()
    for key in ("layers", "losses", "optimizers", "schedulers", "datasets"):
        assert body[key], key
    conv = next(e for e in body["layers"] if e["type"] == "Conv2d")
    assert conv["category"] and conv["description"] and "arity" in conv
    assert conv["params"]["type"] == "object"
    assert body["devices"][-1] == "cpu"  # best first, the CPU always there


def test_schema_is_graph_v1(client):
    schema = client.get("/api/schema").json()
    assert schema["title"] == "torchcanvas graph v1"
    assert "nodes" in schema["properties"]


def test_validate_valid_graph_matches_core(client):
    r = client.post("/api/graphs/validate", json=SEED)
    assert r.status_code == 200
    assert r.json() == json.loads(validate_graph(SEED).model_dump_json())
    assert r.json()["valid"] and r.json()["total_params"] > 0
    assert r.json()["nodes"]["fc"]["output_shape"] == [10]


def test_validate_invalid_graph_is_200_with_node_errors(client):
    graph = tiny_graph()
    graph["nodes"][1]["params"]["out_features"] = 0
    r = client.post("/api/graphs/validate", json=graph)
    assert r.status_code == 200
    body = r.json()
    assert not body["valid"]
    assert body["nodes"]["fc1"]["errors"][0]["node"] == "fc1"


def test_validate_malformed_graph_object_is_200(client):
    r = client.post("/api/graphs/validate", json={"nodes": [{"type": "Linear"}], "paramz": 1})
    assert r.status_code == 200
    assert not r.json()["valid"] and r.json()["errors"]


def test_validate_non_graph_bodies_are_422(client):
    assert client.post("/api/graphs/validate", json=[1, 2]).status_code == 422
    assert client.post("/api/graphs/validate", json="graph").status_code == 422
    r = client.post("/api/graphs/validate", content=b"{not json",
                    headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_validate_refuses_foreign_data_path_without_reading_it(client):
    graph = tiny_graph()
    graph["data"] = {"dataset": "csv", "params": {"path": "/etc/passwd", "label": "x"}}
    r = client.post("/api/graphs/validate", json=graph)
    assert r.status_code == 200
    body = r.json()
    assert not body["valid"]
    messages = " ".join(e["message"] for e in body["errors"])
    assert "uploaded" in messages and "root:" not in json.dumps(body)


def test_export_module_and_script_match_core(client):
    for fmt in ("module", "script"):
        r = client.post(f"/api/graphs/export?format={fmt}", json=SEED)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/x-python")
        assert r.text == export_code(SEED, fmt)
        ast.parse(r.text)


def test_export_invalid_graph_is_422_naming_the_node(client):
    graph = tiny_graph()
    graph["nodes"][3]["inputs"] = ["nowhere"]
    r = client.post("/api/graphs/export?format=module", json=graph)
    assert r.status_code == 422
    assert any(e["node"] == "fc2" for e in r.json()["errors"])
    assert r.json()["validation"]["valid"] is False


def test_export_unknown_format_and_non_graph_are_422(client):
    assert client.post("/api/graphs/export?format=exe", json=SEED).status_code == 422
    assert client.post("/api/graphs/export", json={"nodes": "x"}).status_code == 422


def test_huge_linear_is_refused_quickly(client):
    import time

    graph = tiny_graph()
    graph["nodes"][0]["params"]["shape"] = [10**6]
    graph["nodes"][1]["params"]["out_features"] = 10**6  # Linear(10^6, 10^6): 10^12 weights
    start = time.perf_counter()
    r = client.post("/api/graphs/validate", json=graph)
    assert time.perf_counter() - start < 1.0
    assert r.status_code == 200 and not r.json()["valid"]
