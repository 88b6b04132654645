"""nanoGPT's hand-written attention rebuilt as a graph: Linear -> Split -> SDPA -> Linear.

The oracle restates karpathy/nanoGPT, model.py (commit 3adf61e), `LayerNorm`,
`CausalSelfAttention`, `MLP` and `Block`, with the flash path (PyTorch >= 2 has
`scaled_dot_product_attention`, so nanoGPT registers no `bias` mask buffer).
`CausalSelfAttention` has flat keys (`c_attn.weight`), so its `state_dict` loads
into the export unchanged. `Block` nests them (`attn.c_attn.weight`): until
blocks land, the test maps those keys to the flat names the graph gives
(`attn_c_attn.weight`); that mapping belongs to this step only.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from server.validation import validate_graph

from .support import export_class, graph, node


@dataclass
class GPTConfig:
    block_size: int = 16
    n_embd: int = 48
    n_head: int = 4
    dropout: float = 0.0
    bias: bool = True


class LayerNorm(nn.Module):
    """LayerNorm but with an optional bias (nanoGPT)."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, input):
        return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        y = torch.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0,
            is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


def attention_nodes(prefix: str, src: str, c: GPTConfig) -> list[dict]:
    """c_attn -> Split into q, k, v (dim 2) -> causal SDPA -> c_proj, ids under `prefix`."""
    qkv = f"{prefix}qkv"
    return [
        node(f"{prefix}c_attn", "Linear", [src], out_features=3 * c.n_embd, bias=c.bias),
        node(qkv, "Split", [f"{prefix}c_attn"], sections=[c.n_embd] * 3, dim=2),
        node(f"{prefix}sdpa", "ScaledDotProductAttention",
             [{"node": qkv, "port": p} for p in range(3)], num_heads=c.n_head, causal=True),
        node(f"{prefix}c_proj", "Linear", [f"{prefix}sdpa"], out_features=c.n_embd, bias=c.bias),
    ]


def _compare(g: dict, state: dict, original: nn.Module, x: torch.Tensor) -> None:
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.total_params == sum(p.numel() for p in original.parameters())
    exported = export_class(g)()
    exported.load_state_dict(state, strict=True)
    exported.eval()
    with torch.no_grad():
        expected, got = original(x), exported(x)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5), (got - expected).abs().max()


def test_causal_self_attention_loads_nanogpt_weights_unchanged():
    torch.manual_seed(0)
    c = GPTConfig()
    original = CausalSelfAttention(c).eval()
    g = graph([node("x", "Input", shape=[c.block_size, c.n_embd]),
               *attention_nodes("", "x", c)], name="causal self attention")
    x = torch.randn(3, c.block_size, c.n_embd)
    _compare(g, original.state_dict(), original, x)
    # A causal model: changing the last position leaves the earlier outputs alone.
    exported = export_class(g)()
    exported.load_state_dict(original.state_dict())
    later = x.clone()
    later[:, -1] += 1
    with torch.no_grad():
        assert torch.allclose(exported(x)[:, :-1], exported(later)[:, :-1], atol=1e-6)


def test_causal_self_attention_without_bias_and_one_head():
    torch.manual_seed(1)
    c = GPTConfig(n_embd=12, n_head=1, bias=False, block_size=7)
    original = CausalSelfAttention(c).eval()
    g = graph([node("x", "Input", shape=[c.block_size, c.n_embd]),
               *attention_nodes("", "x", c)], name="one head")
    _compare(g, original.state_dict(), original, torch.randn(2, c.block_size, c.n_embd))


def test_gpt_block():
    torch.manual_seed(2)
    c = GPTConfig()
    original = Block(c).eval()
    with torch.no_grad():  # LayerNorm weights away from their initial ones
        for ln in (original.ln_1, original.ln_2):
            ln.weight.uniform_(0.5, 1.5)
            ln.bias.uniform_(-0.5, 0.5)
    g = graph([node("x", "Input", shape=[c.block_size, c.n_embd]),
               node("ln_1", "LayerNorm", ["x"]),
               *attention_nodes("attn.", "ln_1", c),
               node("res_1", "Add", ["x", "attn.c_proj"]),
               node("ln_2", "LayerNorm", ["res_1"]),
               node("mlp.c_fc", "Linear", ["ln_2"], out_features=4 * c.n_embd),
               node("mlp.gelu", "GELU", ["mlp.c_fc"]),
               node("mlp.c_proj", "Linear", ["mlp.gelu"], out_features=c.n_embd),
               node("res_2", "Add", ["res_1", "mlp.c_proj"])], name="block")
    # Flat names until blocks land: attn.c_attn.weight is the graph's attn_c_attn.weight.
    state = {k.replace("attn.", "attn_", 1).replace("mlp.", "mlp_", 1): v
             for k, v in original.state_dict().items()}
    _compare(g, state, original, torch.randn(2, c.block_size, c.n_embd))
