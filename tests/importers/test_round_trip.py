"""import(export(g)) == g: every example graph's exported code, imported back.

Each example is exported as a `module` file, written to disk and imported with
`torchcanvas import FILE.py:ClassName` (the command line a user runs). The
graph that comes back must be the same network up to node ids and layout:
node for node in forward order, the same type, the same resolved params
(defaults and inferred sizes filled in by the validator), the same edges and
the same output. The exported class's `state_dict` loads into the imported
graph strictly (same keys, same shapes) and both compute the same outputs.
The training, loss and data sections are not part of a module file and are
not compared. A graph with blocks comes back with the same blocks (one class
each in the code): the same instances share a block, and each instance runs the
same network (the exposed params may be named after what varies).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from server.cli import main
from server.compiler import compile_graph
from server.export import export_code
from server.export.deploy import example_input
from server.ports import ref
from server.validation import analyze_graph
from tests.core.support import exported_class

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


def canonical(graph: dict) -> dict:
    """The network without ids: nodes in forward order, edges as positions; a block
    instance by which block it shares with earlier instances and, recursively, the
    network its instance runs (so an exposed param may be named differently)."""
    analysis = analyze_graph(graph)
    assert analysis.valid, analysis.validation.all_errors()
    return _canonical(analysis, {})


def _canonical(analysis, blocks: dict) -> dict:
    position = {nid: i for i, nid in enumerate(analysis.order)}
    nodes = {n.id: n for n in analysis.graph.nodes}
    out = []
    for nid in analysis.order:
        node = nodes[nid]
        params = dict(analysis.resolved.get(nid, {}))
        if node.type == "Input":
            params = {"shape": list(analysis.shapes[nid])}
        inputs = [(position[i], port) for i, port in
                  (ref(x) if isinstance(x, str) else (x.node, x.port) for x in node.inputs)]
        if node.type.startswith("block:"):
            kind = ("block", blocks.setdefault(node.type, len(blocks)))
            params = _canonical(analysis.sub[nid], blocks)
        else:
            kind = node.type
        out.append((kind, _square(json.loads(json.dumps(params))), inputs))
    return {"nodes": out, "outputs": [(position[i], p) for i, p in analysis.outputs]}


def _square(params: dict) -> dict:
    """`[1, 1]` as `1`: the same size for every dimension, as PyTorch reads it (the
    import writes the short form)."""
    return {k: v[0] if isinstance(v, list) and v and all(isinstance(x, int) and x == v[0]
                                                         for x in v) else v
            for k, v in params.items()} if isinstance(params, dict) else params


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_exported_code_imports_back_to_the_same_graph(path, tmp_path, capsys):
    graph = json.loads(path.read_text())
    source = tmp_path / f"{path.stem}.py"
    source.write_text(export_code(graph))
    cls = exported_class(source.read_text())
    shape = next(n for n in graph["nodes"] if n["type"] == "Input")["params"].get("shape")
    shape = shape or compile_graph(graph).input_shape
    out = tmp_path / "back.json"
    code = main(["import", f"{source}:{cls.__name__}", "--input-shape",
                 ",".join(map(str, shape)), "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    back = json.loads(out.read_text())
    assert canonical(back) == canonical(graph)
    assert sorted(back.get("blocks") or {}) == sorted(graph.get("blocks") or {})
    # An Input of token ids comes back as one: its dtype, and the ids its tables take.
    want = analyze_graph(graph)
    got = analyze_graph(back)
    assert [got.dtypes.get(i) for i in got.input_ids] == \
        [want.dtypes.get(i) for i in want.input_ids]
    # The exported class's weights load into the imported graph as they are.
    torch.manual_seed(0)
    original = cls().eval()
    imported = compile_graph(back).eval()
    imported.load_state_dict(original.state_dict(), strict=True)
    x = example_input(analyze_graph(back))[:3]  # token ids where the Input reads them
    with torch.no_grad():
        torch.testing.assert_close(imported(x), original(x), atol=1e-6, rtol=1e-5)
    # ... and the weights the import wrote beside the graph are that class's own.
    state = torch.load(out.with_suffix(".pt"), weights_only=True)
    assert {k: v.shape for k, v in state.items()} == \
        {k: v.shape for k, v in original.state_dict().items()}


# The format's newer nodes, each exported as the line a person writes and read back
# from that line: a class token and positional embedding (Parameter), self-attention,
# Chunk's ports, x[:, 0], x.mean(dim=1), x * 0.5, permute, transpose, reshape, and a
# tuple of outputs.
TOUR = {
    "version": 1, "name": "tour",
    "nodes": [
        {"id": "x", "type": "Input", "params": {"shape": [6, 8]}},
        {"id": "cls", "type": "Parameter", "params": {"shape": [1, 8]}},
        {"id": "tokens", "type": "Concat", "params": {"dim": 1}, "inputs": ["cls", "x"]},
        {"id": "pos", "type": "Parameter", "params": {"shape": [7, 8]}},
        {"id": "placed", "type": "Add", "inputs": ["tokens", "pos"]},
        {"id": "ln", "type": "LayerNorm", "params": {"normalized_shape": [8]},
         "inputs": ["placed"]},
        {"id": "attn", "type": "MultiheadAttention", "params": {"num_heads": 2},
         "inputs": ["ln"]},
        {"id": "res", "type": "Add", "inputs": ["placed", "attn"]},
        {"id": "halves", "type": "Chunk", "params": {"chunks": 2, "dim": 2},
         "inputs": ["res"]},
        {"id": "gate", "type": "Sigmoid", "inputs": [{"node": "halves", "port": 1}]},
        {"id": "gated", "type": "Mul", "inputs": [{"node": "halves", "port": 0}, "gate"]},
        {"id": "half", "type": "Scale", "params": {"factor": 0.5}, "inputs": ["gated"]},
        {"id": "first", "type": "Select", "params": {"dim": 1, "index": 0},
         "inputs": ["half"]},
        {"id": "head", "type": "Linear", "params": {"out_features": 3}, "inputs": ["first"]},
        {"id": "avg", "type": "Mean", "params": {"dim": 1}, "inputs": ["half"]},
        {"id": "swapped", "type": "Permute", "params": {"dims": [2, 1]}, "inputs": ["half"]},
        {"id": "back", "type": "Transpose", "params": {"dim0": 1, "dim1": 2},
         "inputs": ["swapped"]},
        {"id": "flat", "type": "Reshape", "params": {"shape": [28]}, "inputs": ["back"]},
        {"id": "side", "type": "Linear", "params": {"out_features": 2}, "inputs": ["flat"]},
    ],
    "output": ["head", "avg", "side"],
}


def test_the_formats_newer_nodes_come_back_from_their_code(tmp_path):
    from server.importers import import_source

    source = tmp_path / "tour.py"
    source.write_text(export_code(TOUR))
    cls = exported_class(source.read_text())
    back = import_source(f"{source}:{cls.__name__}", input_shape=[6, 8])
    assert canonical(back.graph) == canonical(TOUR)
    original = cls().eval()
    imported = compile_graph(back.graph).eval()
    imported.load_state_dict(original.state_dict(), strict=True)
    x = torch.randn(3, 6, 8)
    with torch.no_grad():
        for got, want in zip(imported(x), original(x), strict=True):
            torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-5)
