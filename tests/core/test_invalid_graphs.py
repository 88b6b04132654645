"""Every graph in `graphs/invalid/` is refused, with the error naming the node at fault.

Each `NAME.json` has a sidecar `NAME.expect.json`: `{"node": id or null,
"param": name or null, "contains": "part of the message"}` and optionally
`"component"` (loss, optimizer, ...). One of the validator's errors must match
all of them. Also here: the node and parameter limits are enforced fast and
without allocating, and pydantic's format errors come back as the same records.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import pytest

from server.compiler import compile_graph
from server.export import export_code
from server.graph import GraphFormatError, load_graph_file
from server.validation import InvalidGraph, Limits, require_valid, validate_graph

from .support import chain, graph, node

INVALID = Path(__file__).parent / "graphs" / "invalid"
GRAPHS = sorted(p for p in INVALID.glob("*.json") if not p.name.endswith(".expect.json"))


def _expectation(path: Path) -> dict:
    return json.loads(path.with_name(path.stem + ".expect.json").read_text())


def test_every_graph_has_an_expectation():
    assert len(GRAPHS) >= 40
    sidecars = sorted(INVALID.glob("*.expect.json"))
    assert [p.name.removesuffix(".expect.json") for p in sidecars] == [p.stem for p in GRAPHS]
    for p in sidecars:
        assert set(json.loads(p.read_text())) <= {"node", "param", "contains", "component"}, p


@pytest.mark.parametrize("path", GRAPHS, ids=[p.stem for p in GRAPHS])
def test_invalid_graph_is_refused_naming_the_node(path: Path):
    expect = _expectation(path)
    report = validate_graph(json.loads(path.read_text(encoding="utf-8")))
    assert not report.valid
    errors = [e.model_dump() for e in report.all_errors()]
    matching = [e for e in errors
                if e["node"] == expect["node"]
                and (expect["param"] is None or e["param"] == expect["param"])
                and e.get("component") == expect.get("component", e.get("component"))
                and expect["contains"] in e["message"]]
    assert matching, f"no error like {expect} in {errors}"
    for e in errors:  # a node-tied error is filed under that node in the report
        if e["node"] is not None and e["node"] in report.nodes:
            assert e in [i.model_dump() for i in report.nodes[e["node"]].errors]


@pytest.mark.parametrize("path", GRAPHS, ids=[p.stem for p in GRAPHS])
def test_compiler_and_exporter_refuse_it(path: Path):
    data = json.loads(path.read_text(encoding="utf-8"))
    expect = _expectation(path)
    with pytest.raises(InvalidGraph) as info:
        compile_graph(data)
    if expect["node"] is not None:
        assert any(e.node == expect["node"] for e in info.value.validation.all_errors())
    for fmt in ("module", "script"):
        with pytest.raises(InvalidGraph):
            export_code(data, fmt)


def test_format_errors_from_a_file_name_the_node():
    with pytest.raises(GraphFormatError) as info:
        load_graph_file(INVALID / "format_extra_node_key.json")
    assert info.value.errors[0]["node"] == "fc"
    assert set(info.value.errors[0]) == {"node", "param", "message"}
    with pytest.raises(GraphFormatError, match="no such file"):
        load_graph_file(INVALID / "missing.json")


def test_invalid_graph_message_names_the_node():
    g = chain([8], ("Linear", {"out_features": 0}))
    with pytest.raises(InvalidGraph, match=r"^n1: out_features must be at least 1"):
        require_valid(g)


def test_huge_linear_is_refused_fast_without_allocating():
    g = chain([10**6], ("Linear", {"out_features": 10**6}))
    tracemalloc.start()
    start = time.perf_counter()
    try:
        report = validate_graph(g)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not report.valid
    assert report.nodes["n1"].params == 10**12 + 10**6  # counted, by arithmetic/meta
    assert elapsed < 1.0
    assert peak < 5 * 2**20  # 4 TB of weights were never allocated; not even 5 MiB was
    with pytest.raises(InvalidGraph, match="more than the limit"):
        compile_graph(g)


def test_parameter_limit_is_configurable():
    g = chain([100], ("Linear", {"out_features": 100}))  # 10,100 parameters
    assert validate_graph(g, Limits(max_params=10_100)).valid
    report = validate_graph(g, Limits(max_params=10_099))
    assert [e.node for e in report.all_errors()] == ["n1"]


def test_node_limit_refuses_100k_nodes_fast():
    nodes = [node("x", "Input", shape=[4])]
    nodes += [node(f"n{i}", "ReLU", ["x" if i == 1 else f"n{i - 1}"]) for i in range(1, 100_000)]
    start = time.perf_counter()
    report = validate_graph(graph(nodes))
    assert time.perf_counter() - start < 0.5
    assert not report.valid
    assert "more than the limit of 2000" in report.errors[0].message


def test_limits_come_from_the_environment(monkeypatch):
    g = chain([100], ("Linear", {"out_features": 100}))  # 10,100 parameters, 2 nodes
    monkeypatch.setenv("TORCHCANVAS_MAX_PARAMS", "10_099")
    assert not validate_graph(g).valid
    monkeypatch.setenv("TORCHCANVAS_MAX_PARAMS", "10100")
    monkeypatch.setenv("TORCHCANVAS_MAX_NODES", "1")
    assert "more than the limit of 1" in validate_graph(g).errors[0].message
    monkeypatch.setenv("TORCHCANVAS_MAX_NODES", "lots")
    with pytest.raises(ValueError, match="TORCHCANVAS_MAX_NODES='lots' is not a whole number"):
        Limits.from_env()


def test_vgg11_sized_network_validates_on_meta_without_allocating():
    # VGG-11's classifier alone: 25088 -> 4096 -> 4096 -> 1000, 123.6 M parameters.
    g = chain([25088], ("Linear", {"out_features": 4096}), ("Linear", {"out_features": 4096}),
              ("Linear", {"out_features": 1000}))
    tracemalloc.start()
    try:
        report = validate_graph(g)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.valid, report.all_errors()
    assert report.total_params == 25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
    assert peak < 5 * 2**20


def test_node_limit_is_configurable():
    g = chain([4], *[("ReLU", {})] * 9)  # 10 nodes
    assert validate_graph(g, Limits(max_nodes=10)).valid
    assert not validate_graph(g, Limits(max_nodes=9)).valid
    assert not validate_graph(graph(g["nodes"]), Limits(max_nodes=9)).valid


@pytest.mark.parametrize("data", [None, [], "graph", 3, {"nodes": "x"}, {"nodes": [1, 2]}])
def test_not_a_graph_at_all(data):
    report = validate_graph(data)
    assert not report.valid
    assert report.errors and all(set(e.model_dump()) >= {"node", "param", "message"}
                                 for e in report.errors)


@pytest.mark.parametrize("path", GRAPHS, ids=[p.stem for p in GRAPHS])
def test_cli_validate_names_the_node(path: Path, capsys):
    from server.cli import main

    expect = _expectation(path)
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if expect["node"] is not None:
        assert expect["node"] in err
    assert expect["contains"] in err
