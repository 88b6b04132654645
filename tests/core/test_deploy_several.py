"""Several inputs and a tuple of outputs in the ONNX, TorchScript and torch.export files.

A graph with a float input, a token-id input (int64), a Chunk (two ports) and a
list `output` is written in the three formats and run by onnxruntime,
`torch.jit.load` and `torch.export.load` at a batch size other than the traced
one; every output must equal the compiled module's, in order, with the names
the graph gives them.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from server.compiler import compile_graph
from server.export.deploy import export_deployable, input_names, output_names
from server.validation import analyze_graph

GRAPH = {
    "version": 1, "name": "two heads",
    "nodes": [
        {"id": "x", "type": "Input", "params": {"shape": [8]}},
        {"id": "tokens", "type": "Input", "params": {"shape": [5], "dtype": "long",
                                                      "vocab": 20}},
        {"id": "emb", "type": "Embedding", "params": {"num_embeddings": 20,
                                                      "embedding_dim": 4},
         "inputs": ["tokens"]},
        {"id": "pooled", "type": "Mean", "params": {"dim": 1}, "inputs": ["emb"]},
        {"id": "fc", "type": "Linear", "params": {"in_features": 8, "out_features": 8},
         "inputs": ["x"]},
        {"id": "halves", "type": "Chunk", "params": {"chunks": 2}, "inputs": ["fc"]},
        {"id": "mixed", "type": "Add", "inputs": [{"node": "halves", "port": 0}, "pooled"]},
    ],
    "output": [{"node": "halves", "port": 1}, "mixed"],
}


@pytest.fixture(scope="module")
def reference():
    model = compile_graph(GRAPH, seed=3).eval()
    x = torch.randn(5, 8)
    tokens = torch.randint(0, 20, (5, 5))
    with torch.no_grad():
        want = model(x, tokens)
    return (x, tokens), [w.numpy() for w in want]


def test_names_follow_the_graph():
    analysis = analyze_graph(GRAPH)
    assert input_names(analysis) == ["x", "tokens"]
    assert output_names(analysis) == ["halves_1", "mixed"]


def test_onnx_runs_both_inputs_and_returns_both_outputs(reference):
    ort = pytest.importorskip("onnxruntime")
    (x, tokens), want = reference
    data = export_deployable(GRAPH, "onnx", seed=3)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["halves_1", "mixed"]
    assert session.get_inputs()[1].type == "tensor(int64)"
    got = session.run(None, {"x": x.numpy(), "tokens": tokens.numpy()})
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, atol=1e-5)


def test_torchscript_and_exported_program_return_the_tuple(reference):
    (x, tokens), want = reference
    scripted = torch.jit.load(io.BytesIO(export_deployable(GRAPH, "torchscript", seed=3)))
    program = torch.export.load(io.BytesIO(export_deployable(GRAPH, "exported-program",
                                                             seed=3))).module()
    for runtime in (scripted, program):
        got = runtime(x, tokens)
        assert isinstance(got, tuple) and len(got) == 2
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g.detach().numpy(), w, atol=1e-5)
