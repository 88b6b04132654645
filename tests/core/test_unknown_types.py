"""Unknown layer types get a hint: the catalogue name meant, or that PyTorch has it and we don't."""

from __future__ import annotations

import pytest

from server.catalog import LAYERS
from server.catalog.hints import ALIASES
from server.validation import validate_graph

from .support import chain


def _error(type_: str) -> str:
    report = validate_graph(chain([4], (type_, {})))
    assert not report.valid
    (error,) = report.nodes["n1"].errors
    return error.message


@pytest.mark.parametrize(("given", "meant"), [
    ("Dense", "Linear"), ("fc", "Linear"), ("FC", "Linear"), ("conv", "Conv2d"),
    ("softmax", "Softmax"), ("relu", "ReLU"), ("BatchNorm", "BatchNorm2d"),
    ("batch_norm", "BatchNorm2d"), ("Conv2DTranspose", "ConvTranspose2d"),
    ("GlobalAveragePooling2D", "AdaptiveAvgPool2d"), ("Concatenate", "Concat"),
    ("Linar", "Linear"), ("lstm", "LSTM"), ("SelfAttention", "MultiheadAttention"),
])
def test_other_names_point_to_the_catalogue_entry(given, meant):
    assert _error(given) == f"unknown layer type {given!r}; did you mean {meant}?"


@pytest.mark.parametrize(("given", "closest"), [
    ("Conv3d", "Conv2d"), ("MaxPool3d", "MaxPool2d"), ("LSTMCell", "LSTM"),
    ("Transformer", "TransformerEncoderLayer"), ("Bilinear", None),
])
def test_a_torch_class_we_lack_is_named_plainly(given, closest):
    message = _error(given)
    assert f"torch.nn.{given} exists but torchcanvas has no {given} yet" in message
    assert (f"(closest here: {closest})" in message) == (closest is not None), message


def test_nothing_close_gets_no_guess():
    assert _error("Xyzzy") == "unknown layer type 'Xyzzy'"


def test_every_alias_names_a_real_entry():
    assert set(ALIASES.values()) <= set(LAYERS)
