"""Sequence lints: per-token Linear stays quiet; batch_first, layout, returns and causal warnings.

Each warning case has its correct twin that must be free of it. Graphs whose
Input holds token ids declare `dtype: long` when the graph format has that field.
"""

from __future__ import annotations

from typing import Any

import pytest

from server.catalog import LAYERS
from server.validation import validate_graph

from .support import graph, node

IDS = {"dtype": "long"} if any(p.name == "dtype" for p in LAYERS["Input"].params) else {}
VOCAB = 20


def seq(shape: list[int], *layers: tuple[str, dict[str, Any]], ids: bool = False,
        **extra: Any) -> dict[str, Any]:
    """Input -> layers, ids n1, n2...; `ids`: the Input holds token ids."""
    nodes = [node("x", "Input", shape=shape, **(IDS if ids else {}))]
    for i, (type_, params) in enumerate(layers, start=1):
        nodes.append(node(f"n{i}", type_, [nodes[-1]["id"]], **params))
    return graph(nodes, **extra)


def warnings_of(g: dict[str, Any]) -> list[dict[str, Any]]:
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    return [w.model_dump() for w in report.all_warnings()]


EMBED = ("Embedding", {"num_embeddings": VOCAB, "embedding_dim": 8})
LM_HEAD = ("Linear", {"out_features": VOCAB})
DIGITS = {"data": {"dataset": "digits"}}  # (1, 8, 8) images, one of 10 labels each
ROWS = ("Reshape", {"shape": [8, 8]})  # mnist_rnn reads an image row by row


@pytest.mark.parametrize("g", [
    seq([6], EMBED, ("Linear", {"out_features": 4}), ids=True),
    seq([6], EMBED, ("LayerNorm", {}), ("ReLU", {}), ("Linear", {"out_features": 4}), ids=True),
    seq([6, 8], ("LSTM", {"hidden_size": 5}), ("Linear", {"out_features": 3})),
    seq([6, 8], ("MultiheadAttention", {"num_heads": 2}), ("Dropout", {}),
        ("Linear", {"out_features": 3})),
    seq([6, 8], ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 8}),
        ("Linear", {"out_features": 3})),
    seq([6, 8], ("PositionalEmbedding", {"num_embeddings": 6}), ("Linear", {"out_features": 3}),
        ("GELU", {}), ("Linear", {"out_features": 3})),
    seq([4, 10], ("Conv1d", {"out_channels": 6}), ("Transpose", {}),
        ("Linear", {"out_features": 3})),
    seq([3, 5, 5], ("Permute", {"dims": [2, 3, 1]}), ("Linear", {"out_features": 2})),
], ids=["embedding", "embedding-norm-act", "lstm", "attention-dropout", "encoder", "positions",
        "conv-transposed", "channels-last-image"])
def test_per_token_linear_wants_no_flatten(g):
    assert warnings_of(g) == []


def test_linear_on_a_plain_matrix_still_wants_a_flatten():
    (w,) = warnings_of(seq([6, 8], ("Linear", {"out_features": 3})))
    assert "put a Flatten" in w["message"]
    # Select of a time step leaves the sequence: the next Linear sees a vector, fine.
    assert warnings_of(seq([6, 8], ("LSTM", {"hidden_size": 4}), ("Select", {}),
                           ("Linear", {"out_features": 2}))) == []


def _only(g: dict[str, Any], node_id: str, param: str | None, contains: str) -> None:
    ws = warnings_of(g)
    assert [(w["node"], w["param"]) for w in ws] == [(node_id, param)], ws
    assert contains in ws[0]["message"], ws[0]["message"]


@pytest.mark.parametrize("type_, params", [
    ("LSTM", {"hidden_size": 4}), ("GRU", {"hidden_size": 4}),
    ("MultiheadAttention", {"num_heads": 2}),
    ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 8}),
])
def test_batch_first_false_reads_the_batch_as_time(type_, params):
    _only(seq([6, 8], (type_, {**params, "batch_first": False})), "n1", "batch_first",
          "read dimension 0, the batch, as time")
    assert warnings_of(seq([6, 8], (type_, params))) == []


def test_conv1d_channels_read_as_time():
    conv = ("Conv1d", {"out_channels": 8, "kernel_size": 3})
    _only(seq([4, 20], conv, ("ReLU", {}), ("GRU", {"hidden_size": 5, "returns": "last"})),
          "n3", None, "Put a Transpose (dims 1 and 2) before 'n3'")
    ok = seq([4, 20], conv, ("ReLU", {}), ("Transpose", {}),
             ("GRU", {"hidden_size": 5, "returns": "last"}))
    assert warnings_of(ok) == []


@pytest.mark.parametrize("layer", [("Conv1d", {"out_channels": 4}), ("BatchNorm1d", {}),
                                   ("MaxPool1d", {}), ("Dropout1d", {})])
def test_sequence_read_as_channels(layer):
    relu = ("ReLU", {})  # BatchNorm and Dropout belong between layers
    _only(seq([6], EMBED, layer, relu, ids=True), "n2", None,
          "take the 6 positions as channels")
    assert warnings_of(seq([6], EMBED, ("Transpose", {}), layer, relu, ids=True)) == []


@pytest.mark.parametrize("type_", ["Softmax", "LogSoftmax"])
def test_softmax_over_time_instead_of_scores(type_):
    tagger = (EMBED, ("LSTM", {"hidden_size": 8}), ("Linear", {"out_features": 5}))
    _only(seq([6], *tagger, (type_, {}), ids=True), "n4", "dim", "set dim to -1")
    _only(seq([6], *tagger, (type_, {"dim": -2}), ids=True), "n4", "dim", "over the 6 positions")
    for dim in (-1, 2):
        assert warnings_of(seq([6], *tagger, (type_, {"dim": dim}), ids=True)) == []


def test_every_time_step_flattened_into_a_classifier():
    _only(seq([6, 8], ("LSTM", {"hidden_size": 4}), ("Tanh", {}), ("Flatten", {}),
              ("Linear", {"out_features": 2})), "n1", "returns", "set returns to 'last'")
    assert warnings_of(seq([6, 8], ("LSTM", {"hidden_size": 4, "returns": "last"}),
                           ("Linear", {"out_features": 2}))) == []


def test_every_time_step_as_output_for_one_label_per_sample():
    wrong = seq([1, 8, 8], ROWS, ("LSTM", {"hidden_size": 16}), ("Linear", {"out_features": 10}),
                **DIGITS)
    _only(wrong, "n2", "returns", "one label per sample")
    for returns in ("last", "hidden"):
        right = seq([1, 8, 8], ROWS, ("LSTM", {"hidden_size": 16, "returns": returns}),
                    ("Linear", {"out_features": 10}), **DIGITS)
        assert warnings_of(right) == []


@pytest.mark.parametrize("layer", [
    ("MultiheadAttention", {"num_heads": 2}),
    ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16}),
])
def test_language_model_attention_must_be_causal(layer):
    type_, params = layer
    lm = seq([6], EMBED, ("PositionalEmbedding", {"num_embeddings": 6}), (type_, params),
             LM_HEAD, ids=True)
    _only(lm, "n3", "causal", "set causal to true")
    causal = seq([6], EMBED, ("PositionalEmbedding", {"num_embeddings": 6}),
                 (type_, {**params, "causal": True}), LM_HEAD, ids=True)
    assert warnings_of(causal) == []
    # Scores for 5 tags per token, not for the 20 tokens: a tagger may look both ways.
    tagger = seq([6], EMBED, (type_, params), ("Linear", {"out_features": 5}), ids=True)
    assert warnings_of(tagger) == []


def test_language_model_with_a_bidirectional_lstm():
    lstm = {"hidden_size": 8, "bidirectional": True}
    _only(seq([6], EMBED, ("LSTM", lstm), LM_HEAD, ids=True), "n2", "bidirectional",
          "set bidirectional to false")
    assert warnings_of(seq([6], EMBED, ("LSTM", {"hidden_size": 8}), LM_HEAD, ids=True)) == []
