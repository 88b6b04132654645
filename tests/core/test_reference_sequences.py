"""Public reference networks with flat attribute names, rebuilt as graphs from the catalogue.

Each oracle below restates, module for module, a network a learner meets in
public PyTorch code (the source is cited on each); its attribute names are the
original's, so its `state_dict` is the original's. The graph's node ids are the
same names, and the test loads the oracle's `state_dict` into the exported class
with `strict=True` and compares outputs in eval mode. Networks whose keys are
nested (`main.0.weight`) need blocks and are not here.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from server.catalog import LAYERS
from server.validation import validate_graph

from .support import export_class, graph, node

IDS = {"dtype": "long"} if any(p.name == "dtype" for p in LAYERS["Input"].params) else {}


def chain(input_params: dict[str, Any], *layers: tuple[str, str, dict[str, Any]],
          name: str) -> dict[str, Any]:
    """Input -> layers, each (id, type, params), ids as given."""
    nodes = [node("x", "Input", **input_params)]
    for nid, type_, params in layers:
        nodes.append(node(nid, type_, [nodes[-1]["id"]], **params))
    return graph(nodes, name=name)


def _same(g: dict[str, Any], original: nn.Module, x: torch.Tensor, expected: torch.Tensor):
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.total_params == sum(p.numel() for p in original.parameters())
    exported = export_class(g)()
    exported.load_state_dict(original.state_dict(), strict=True)
    exported.eval()
    with torch.no_grad():
        got = exported(x)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5), (got - expected).abs().max()


class MnistRnn(nn.Module):
    """pytorch/examples, mnist_rnn/main.py: `Net` (LSTM over the 28 image rows)."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(input_size=28, hidden_size=64, batch_first=True)
        self.batchnorm = nn.BatchNorm1d(64)
        self.dropout1 = nn.Dropout2d(0.25)
        self.dropout2 = nn.Dropout2d(0.5)
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, image):
        rows = image.reshape(-1, 28, 28)
        last = self.rnn(rows)[0][:, -1, :]
        h = self.fc1(self.dropout1(self.batchnorm(last))).relu()
        return torch.log_softmax(self.fc2(self.dropout2(h)), dim=1)


# The original's Dropout2d on a 2-d tensor warns (deprecated); it is the original's choice.
@pytest.mark.filterwarnings("ignore:dropout2d")
def test_mnist_rnn():
    torch.manual_seed(0)
    original = MnistRnn()
    with torch.no_grad():  # non-trivial running statistics
        original.batchnorm.running_mean.uniform_(-1, 1)
        original.batchnorm.running_var.uniform_(0.5, 2)
    original.eval()
    # Dropout2d on the (N, 64) vector acts as Dropout; both pass values through in eval.
    g = chain({"shape": [1, 28, 28]},
              ("rows", "Reshape", {"shape": [28, 28]}),
              ("rnn", "LSTM", {"hidden_size": 64, "returns": "last"}),
              ("batchnorm", "BatchNorm1d", {}),
              ("dropout1", "Dropout", {"p": 0.25}),
              ("fc1", "Linear", {"out_features": 32}),
              ("relu", "ReLU", {}),
              ("dropout2", "Dropout", {"p": 0.5}),
              ("fc2", "Linear", {"out_features": 10}),
              ("log_softmax", "LogSoftmax", {}), name="mnist rnn")
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        _same(g, original, x, original(x))


class SuperResolution(nn.Module):
    """pytorch/examples, super_resolution/model.py: `Net` (sub-pixel convolution)."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 64, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(64, 64, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(64, 32, (3, 3), (1, 1), (1, 1))
        self.conv4 = nn.Conv2d(32, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)

    def forward(self, x):
        for conv in (self.conv1, self.conv2, self.conv3):
            x = self.relu(conv(x))
        return self.pixel_shuffle(self.conv4(x))


def test_super_resolution():
    torch.manual_seed(0)
    original = SuperResolution(3).eval()
    g = chain({"shape": [1, 10, 12]},
              ("conv1", "Conv2d", {"out_channels": 64, "kernel_size": 5, "padding": 2}),
              ("relu1", "ReLU", {}),
              ("conv2", "Conv2d", {"out_channels": 64, "padding": 1}),
              ("relu2", "ReLU", {}),
              ("conv3", "Conv2d", {"out_channels": 32, "padding": 1}),
              ("relu3", "ReLU", {}),
              ("conv4", "Conv2d", {"out_channels": 9, "padding": 1}),
              ("pixel_shuffle", "PixelShuffle", {"upscale_factor": 3}), name="super resolution")
    x = torch.randn(2, 1, 10, 12)
    with torch.no_grad():
        _same(g, original, x, original(x))
    assert validate_graph(g).nodes["pixel_shuffle"].output_shape == [1, 30, 36]


class LSTMTagger(nn.Module):
    """pytorch/tutorials, beginner_source/nlp/sequence_models_tutorial.py: `LSTMTagger`.

    One sentence at a time, time first, as the tutorial runs it.
    """

    def __init__(self, embedding_dim: int, hidden_dim: int, vocab_size: int, tagset_size: int):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim)
        self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

    def forward(self, sentence):
        t = len(sentence)
        out, _ = self.lstm(self.word_embeddings(sentence).view(t, 1, -1))
        return torch.log_softmax(self.hidden2tag(out.view(t, -1)), dim=1)


def test_lstm_tagger_batched_equals_one_sentence_at_a_time():
    torch.manual_seed(0)
    original = LSTMTagger(6, 6, 9, 3).eval()
    g = chain({"shape": [5], **IDS},
              ("word_embeddings", "Embedding", {"num_embeddings": 9, "embedding_dim": 6}),
              ("lstm", "LSTM", {"hidden_size": 6}),
              ("hidden2tag", "Linear", {"out_features": 3}),
              ("tag_scores", "LogSoftmax", {"dim": -1}), name="lstm tagger")
    sentences = torch.randint(0, 9, (4, 5), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = torch.stack([original(s) for s in sentences])
        _same(g, original, sentences, expected)
    # A per-token classifier: no "put a Flatten" warning on hidden2tag.
    assert validate_graph(g).all_warnings() == []


class M5(nn.Module):
    """pytorch/tutorials, intermediate_source/speech_command_classification_with_torchaudio_
    tutorial.py: `M5` (1-d convolutions over a raw waveform)."""

    def __init__(self, n_input=1, n_output=35, stride=16, n_channel=32):
        super().__init__()
        widths = [n_input, n_channel, n_channel, 2 * n_channel, 2 * n_channel]
        kernels, strides = [80, 3, 3, 3], [stride, 1, 1, 1]
        for i in range(4):
            setattr(self, f"conv{i + 1}", nn.Conv1d(widths[i], widths[i + 1],
                                                    kernel_size=kernels[i], stride=strides[i]))
            setattr(self, f"bn{i + 1}", nn.BatchNorm1d(widths[i + 1]))
            setattr(self, f"pool{i + 1}", nn.MaxPool1d(4))
        self.fc1 = nn.Linear(2 * n_channel, n_output)

    def forward(self, x):
        for i in range(1, 5):
            x = getattr(self, f"pool{i}")(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x))
                                          .relu())
        x = nn.functional.avg_pool1d(x, x.shape[-1]).permute(0, 2, 1)
        return torch.log_softmax(self.fc1(x), dim=2)


def test_m5():
    torch.manual_seed(0)
    original = M5().eval()
    layers = []
    for i, (out, k, s) in enumerate([(32, 80, 16), (32, 3, 1), (64, 3, 1), (64, 3, 1)], 1):
        layers += [(f"conv{i}", "Conv1d", {"out_channels": out, "kernel_size": k, "stride": s}),
                   (f"bn{i}", "BatchNorm1d", {}), (f"relu{i}", "ReLU", {}),
                   (f"pool{i}", "MaxPool1d", {"kernel_size": 4})]
    g = chain({"shape": [1, 8000]}, *layers,
              ("avg", "AdaptiveAvgPool1d", {"output_size": 1}),
              ("channels_last", "Permute", {"dims": [2, 1]}),
              ("fc1", "Linear", {"out_features": 35}),
              ("log_softmax", "LogSoftmax", {"dim": 2}), name="m5")
    x = torch.randn(2, 1, 8000)
    with torch.no_grad():
        _same(g, original, x, original(x))
    # fc1 reads each position after the permute: no "put a Flatten" warning.
    assert validate_graph(g).all_warnings() == []
