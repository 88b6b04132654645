"""Transformers built from blocks, against their original classes.

torchvision's `vit_b_16` encoder block and a small `VisionTransformer` (pytorch/vision,
`torchvision/models/vision_transformer.py`, the installed 0.29) are the oracles: their
`state_dict`s load with `strict=True` into the compiled graph and the exported classes,
without any key mapping (the class token, `encoder.pos_embedding`,
`encoder.layers.encoder_layer_0.mlp.3.weight`), and give their outputs.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn
from torchvision.models.vision_transformer import EncoderBlock, VisionTransformer

from server.compiler import compile_graph
from server.validation import validate_graph

from .block_graphs import n, vit_encoder_block, vit_graph
from .test_blocks import exported


def _same(g: dict[str, Any], original: nn.Module, x: torch.Tensor) -> None:
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.total_params == sum(p.numel() for p in original.parameters())
    with torch.no_grad():
        expected = original.eval()(x)
        for model in (compile_graph(g), exported(g)):
            assert list(model.state_dict()) == list(original.state_dict())
            model.load_state_dict(original.state_dict(), strict=True)
            assert torch.allclose(model.eval()(x), expected, atol=1e-5)


def test_vit_b_16_encoder_block():
    torch.manual_seed(0)
    block = EncoderBlock(num_heads=12, hidden_dim=768, mlp_dim=3072, dropout=0.0,
                         attention_dropout=0.0)
    original = nn.Sequential(OrderedDict(encoder_layer_0=block))
    g = {"version": 1, "name": "Net", "blocks": {"EncoderBlock": vit_encoder_block()},
         "nodes": [n("tokens", "Input", shape=[5, 768]),
                   n("layer", "block:EncoderBlock", ["tokens"], "encoder_layer_0")]}
    _same(g, original, torch.randn(2, 5, 768))


def test_small_vision_transformer():
    torch.manual_seed(0)
    original = VisionTransformer(image_size=32, patch_size=16, num_layers=2, num_heads=2,
                                 hidden_dim=64, mlp_dim=128, num_classes=10)
    with torch.no_grad():  # torchvision starts the class token at zero: make it count
        original.class_token.normal_()
    _same(vit_graph(), original, torch.randn(2, 3, 32, 32))
