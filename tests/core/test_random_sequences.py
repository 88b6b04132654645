"""Randomized sequence networks: compiler and exporter agree on what the generator builds.

Like `test_random_graphs.py`, for the sequence families: token ids or feature
sequences go through Embedding, learned positions, recurrent layers (every
`returns`), self-attention and transformer layers (causal or not), per-token
Linear, norms, gates (`Mul`), residual `Add`, then a head (last step, mean over
time, final hidden state, or per-token scores). For each graph the shapes
tracked by hand are the inferred ones, the compiled and exported modules have
the same `state_dict` (and, from one seed, the same initial weights) and give
the same outputs in eval and train mode (dropout masks from the same seed).
"""

from __future__ import annotations

import random
from typing import Any

import pytest
import torch

from server.catalog import LAYERS
from server.compiler import compile_graph
from server.validation import validate_graph

from .support import export_class, graph, node, randn

IDS = {"dtype": "long"} if any(p.name == "dtype" for p in LAYERS["Input"].params) else {}


class SeqBuilder:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.nodes: list[dict[str, Any]] = []

    def add(self, type_: str, inputs: list[str], **params: Any) -> str:
        nid = f"{type_.lower()}{len(self.nodes)}"
        self.nodes.append(node(nid, type_, inputs, **params))
        return nid

    def step(self, cur: str, t: int, d: int) -> tuple[str, int]:
        """One sequence step on (N, t, d); returns the new node and width."""
        r = self.rng
        choice = r.choice(["rnn", "attn", "encoder", "linear", "norm", "gate", "res", "act"])
        if choice == "rnn":
            kind, hidden, bi = r.choice(["RNN", "LSTM", "GRU"]), r.randint(2, 6), r.random() < 0.3
            layers = r.choice([1, 1, 2])
            nid = self.add(kind, [cur], hidden_size=hidden, num_layers=layers, bidirectional=bi,
                           dropout=0.2 if layers > 1 else 0.0)
            return nid, hidden * (2 if bi else 1)
        if choice == "attn":
            heads = r.choice([h for h in (1, 2, 3, 4) if d % h == 0])
            return self.add("MultiheadAttention", [cur], num_heads=heads, dropout=0.1,
                            causal=r.random() < 0.5, bias=r.random() < 0.8), d
        if choice == "encoder":
            heads = r.choice([h for h in (1, 2, 4) if d % h == 0])
            return self.add("TransformerEncoderLayer", [cur], nhead=heads,
                            dim_feedforward=r.randint(4, 12), norm_first=r.random() < 0.5,
                            activation=r.choice(["relu", "gelu"]), causal=r.random() < 0.5), d
        if choice == "linear":
            out = r.randint(2, 8)
            return self.add("Linear", [cur], out_features=out), out
        if choice == "norm":
            return self.add("LayerNorm", [cur]), d
        if choice == "gate":
            g = self.add("Linear", [cur], out_features=d)
            g = self.add("Sigmoid", [g])
            return self.add("Mul", [cur, g]), d
        if choice == "res":
            a = self.add("Linear", [cur], out_features=d)
            a = self.add("Dropout", [a], p=0.2)
            return self.add("Add", [cur, a]), d
        return self.add(r.choice(["GELU", "Tanh", "ReLU"]), [cur]), d


def sequence_graph(seed: int) -> tuple[dict[str, Any], tuple[int, ...], tuple[int, ...], int]:
    """A valid graph, its input shape, its output shape, and the vocabulary (0: floats)."""
    rng = random.Random(seed)
    b = SeqBuilder(rng)
    t = rng.randint(2, 7)
    vocab = rng.choice([0, 11])
    if vocab:
        shape: tuple = (t,)
        cur = b.add("Input", [], shape=[t], **IDS)
        d = rng.choice([4, 6, 8])
        cur = b.add("Embedding", [cur], num_embeddings=vocab, embedding_dim=d)
    else:
        d = rng.choice([3, 4, 6])
        shape = (t, d)
        cur = b.add("Input", [], shape=[t, d])
    if rng.random() < 0.5:
        cur = b.add("PositionalEmbedding", [cur], num_embeddings=t + rng.randint(0, 3))
    for _ in range(rng.randint(1, 4)):
        cur, d = b.step(cur, t, d)
    head = rng.choice(["select", "mean", "rnn", "tokens"])
    if head == "select":
        cur, out = b.add("Select", [cur], dim=1, index=-1), (d,)
    elif head == "mean":
        cur, out = b.add("Mean", [cur], dim=1), (d,)
    elif head == "rnn":
        hidden, bi = rng.randint(2, 5), rng.random() < 0.5
        cur = b.add(rng.choice(["LSTM", "GRU"]), [cur], hidden_size=hidden, bidirectional=bi,
                    returns=rng.choice(["last", "hidden"]))
        out = (hidden * (2 if bi else 1),)
    else:
        cur, out = b.add("Linear", [cur], out_features=vocab or 3), (t, vocab or 3)
    if head != "tokens":
        cur = b.add("Linear", [cur], out_features=2)
        out = (2,)
    rng.shuffle(b.nodes)
    return graph(b.nodes, name=f"sequence {seed}", output=cur), shape, out, vocab


def _sample(shape: tuple[int, ...], vocab: int, seed: int) -> torch.Tensor:
    if vocab:
        return torch.randint(0, vocab, (3, *shape), generator=torch.Generator().manual_seed(seed))
    return randn(3, shape, seed=seed)


SEEDS = list(range(20))


@pytest.mark.parametrize("seed", SEEDS)
def test_sequence_graph_compiles_and_exports_alike(seed: int):
    g, in_shape, out_shape, vocab = sequence_graph(seed)
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert tuple(report.nodes[g["output"]].output_shape) == out_shape

    compiled = compile_graph(g, seed=seed)
    torch.manual_seed(seed)
    exported = export_class(g)()
    assert list(compiled.state_dict()) == list(exported.state_dict())
    for k, v in compiled.state_dict().items():  # same initial weights from one seed
        assert torch.equal(v, exported.state_dict()[k]), k
    assert sum(p.numel() for p in compiled.parameters()) == report.total_params

    x = _sample(in_shape, vocab, seed)
    for train in (False, True):
        compiled.train(train)
        exported.train(train)
        torch.manual_seed(seed)
        got = compiled(x)
        torch.manual_seed(seed)
        assert tuple(got.shape) == (3, *out_shape)
        assert torch.allclose(exported(x), got, atol=1e-5), (seed, train)


def test_generator_covers_the_sequence_layers():
    types = {n["type"] for s in SEEDS for n in sequence_graph(s)[0]["nodes"]}
    assert {"Embedding", "PositionalEmbedding", "RNN", "LSTM", "GRU", "MultiheadAttention",
            "TransformerEncoderLayer", "Mul", "Select", "Mean"} <= types
