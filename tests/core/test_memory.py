"""Memory estimates against the real tensors of a compiled model."""

from __future__ import annotations

import torch

from server.compiler import compile_analysis
from server.graph import load_graph_file
from server.memory import estimate_training_memory, human_bytes, optimizer_state_tensors
from server.validation import analyze_graph


def test_estimate_counts_the_real_weights_and_outputs():
    graph = load_graph_file("examples/seed_cnn.json")
    analysis = analyze_graph(graph)
    model = compile_analysis(analysis, seed=0)
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    outputs = []
    for module in model.modules():
        if module is not model:
            module.register_forward_hook(lambda m, i, o: outputs.append(o.numel()))
    batch = 8
    x = torch.randn(batch, *analysis.shapes[analysis.input_id])
    model(x)
    est = estimate_training_memory(analysis, batch_size=batch)
    assert est.weights == est.gradients == weights
    assert est.optimizer_state == optimizer_state_tensors(graph.optimizer) * weights
    # Every module output (plus the input and function nodes) is counted, twice.
    assert est.activations >= 2 * 4 * (sum(outputs) + x.numel())
    assert est.total == est.weights + est.gradients + est.optimizer_state + est.activations


def test_optimizer_state_follows_the_catalogue():
    from server.graph import Component

    assert optimizer_state_tensors(Component(type="SGD")) == 0
    assert optimizer_state_tensors(Component(type="SGD", params={"momentum": 0.9})) == 1
    assert optimizer_state_tensors(Component(type="Adam")) == 2
    assert optimizer_state_tensors(None) == 2  # the default optimizer is Adam


def test_human_bytes():
    assert human_bytes(512) == "512 bytes"
    assert human_bytes(1536) == "1.5 KB"
    assert human_bytes(1.7 * 1024**4) == "1.7 TB"
