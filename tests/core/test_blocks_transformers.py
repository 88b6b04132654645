"""Transformers built from blocks, against their original classes.

nanoGPT's GPT (karpathy/nanoGPT, model.py) with two `Block`s used as blocks is the
network of the tiny-GPT template; its original `state_dict` loads unmapped
(`transformer.h.0.attn.c_attn.weight`).

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

from .block_graphs import gpt_graph, n, vit_encoder_block, vit_graph
from .test_blocks import exported
from .test_reference_language import Block, GPTConfig, LayerNorm


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


class GPT(nn.Module):
    """karpathy/nanoGPT, model.py (commit 3adf61e): `GPT.__init__` and the logits of
    `GPT.forward` with targets (every position), with its LayerNorm, attention, MLP and
    Block restated in tests/core/test_reference_language.py."""

    def __init__(self, config: Any, vocab_size: int):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(2)]),
            ln_f=LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(0, idx.size(1), dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


def test_nanogpt_of_two_blocks():
    """The tiny-GPT template's network: nanoGPT's GPT with Blocks used as blocks."""
    torch.manual_seed(0)
    config = GPTConfig(block_size=32, n_embd=48, n_head=4)
    original = GPT(config, vocab_size=65).eval()
    with torch.no_grad():
        for m in original.modules():  # LayerNorms away from their initial ones
            if isinstance(m, LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    g = gpt_graph(vocab=65, block_size=32, n_layer=2, n_head=4, n_embd=48)
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    # nanoGPT ties lm_head to wte: one tensor there, two here, loaded with the same values.
    assert report.total_params == sum(p.numel() for p in original.parameters()) + 65 * 48
    idx = torch.randint(0, 65, (3, 32))
    with torch.no_grad():
        expected = original(idx)
        for model in (compile_graph(g), exported(g)):
            assert list(model.state_dict()) == list(original.state_dict())
            model.load_state_dict(original.state_dict(), strict=True)
            assert torch.allclose(model.eval()(idx), expected, atol=1e-5)
