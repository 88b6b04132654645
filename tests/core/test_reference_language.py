"""Language models written by hand, rebuilt as graphs: nanoGPT's attention and makemore's MLP.

The oracles restate karpathy/nanoGPT, model.py (commit 3adf61e), `LayerNorm`,
`CausalSelfAttention`, `MLP` and `Block`, with the flash path (PyTorch >= 2 has
`scaled_dot_product_attention`, so nanoGPT registers no `bias` mask buffer), and
karpathy/makemore, makemore.py (commit 988aa59), `MLP`. Each graph is built
from that source: nanoGPT's attention is Linear `c_attn` -> Split into q, k, v
(dim 2) -> ScaledDotProductAttention (causal) -> Linear `c_proj`. The test loads
the original's `state_dict` into the exported class with `strict=True` and
compares outputs in eval mode. `CausalSelfAttention` has flat keys
(`c_attn.weight`); `Block` (`attn.c_attn.weight`) and makemore (`mlp.0.weight`)
nest theirs, and the graphs' nodes carry those dotted names (graph format node
`name`), so the keys are the original's with no mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from server.validation import validate_graph

from .support import export_class, graph, node


def named(n: dict) -> dict:
    """The node with its id as its attribute path: `attn.c_attn` nests like nanoGPT's."""
    return {**n, "name": n["id"]} if "." in n["id"] else n


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
    return [named(n) for n in [
        node(f"{prefix}c_attn", "Linear", [src], out_features=3 * c.n_embd, bias=c.bias),
        node(qkv, "Split", [f"{prefix}c_attn"], sections=[c.n_embd] * 3, dim=2),
        node(f"{prefix}sdpa", "ScaledDotProductAttention",
             [{"node": qkv, "port": p} for p in range(3)], num_heads=c.n_head, causal=True),
        node(f"{prefix}c_proj", "Linear", [f"{prefix}sdpa"], out_features=c.n_embd, bias=c.bias),
    ]]


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
               named(node("mlp.c_fc", "Linear", ["ln_2"], out_features=4 * c.n_embd)),
               named(node("mlp.gelu", "GELU", ["mlp.c_fc"])),
               named(node("mlp.c_proj", "Linear", ["mlp.gelu"], out_features=c.n_embd)),
               node("res_2", "Add", ["res_1", "mlp.c_proj"])], name="block")
    _compare(g, original.state_dict(), original,
             torch.randn(2, c.block_size, c.n_embd))


class MakemoreMLP(nn.Module):
    """karpathy/makemore, makemore.py (commit 988aa59): `MLP` (Bengio et al. 2003)."""

    def __init__(self, block_size, vocab_size, n_embd=64, n_embd2=64):
        super().__init__()
        self.block_size = block_size
        self.vocab_size = vocab_size
        self.wte = nn.Embedding(vocab_size + 1, n_embd)  # +1: the <BLANK> token
        self.mlp = nn.Sequential(
            nn.Linear(self.block_size * n_embd, n_embd2),
            nn.Tanh(),
            nn.Linear(n_embd2, self.vocab_size),
        )

    def forward(self, idx, targets=None):
        embs = []
        for _ in range(self.block_size):
            tok_emb = self.wte(idx)  # (b, t, n_embd)
            idx = torch.roll(idx, 1, 1)
            idx[:, 0] = self.vocab_size  # special <BLANK> token
            embs.append(tok_emb)
        x = torch.cat(embs, -1)  # (b, t, n_embd * block_size)
        logits = self.mlp(x)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                                   ignore_index=-1)
        return logits, loss


def context_windows(idx: torch.Tensor, block_size: int, blank: int) -> torch.Tensor:
    """(b, t) ids -> (b, t, block_size): at each position the token, the one before, ...,
    <BLANK> before the start; makemore's forward builds these with torch.roll, the graph
    reads them as its input (the data's job, as in the makemore lecture's dataset)."""
    cols = []
    for _ in range(block_size):
        cols.append(idx)
        idx = torch.roll(idx, 1, 1)
        idx[:, 0] = blank
    return torch.stack(cols, -1)


def test_makemore_mlp():
    torch.manual_seed(4)
    block_size, vocab = 8, 27  # makemore's names: 26 letters and the <END> token 0
    original = MakemoreMLP(block_size, vocab).eval()
    g = graph([node("idx", "Input", shape=[block_size, block_size], dtype="long",
                    vocab=vocab + 1),
               node("wte", "Embedding", ["idx"], num_embeddings=vocab + 1, embedding_dim=64),
               node("cat", "Flatten", ["wte"], start_dim=2),  # torch.cat(embs, -1)
               named(node("mlp.0", "Linear", ["cat"], out_features=64)),
               named(node("mlp.1", "Tanh", ["mlp.0"])),
               named(node("mlp.2", "Linear", ["mlp.1"], out_features=vocab))], name="MLP")
    idx = torch.randint(0, vocab, (3, block_size), generator=torch.Generator().manual_seed(5))
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.total_params == sum(p.numel() for p in original.parameters())
    exported = export_class(g)()
    exported.load_state_dict(original.state_dict(), strict=True)
    exported.eval()
    with torch.no_grad():
        expected, _ = original(idx)
        got = exported(context_windows(idx, block_size, vocab))
    assert got.shape == expected.shape == (3, block_size, vocab)
    assert torch.allclose(got, expected, atol=1e-5), (got - expected).abs().max()


def test_a_language_model_with_hand_written_attention_must_be_causal():
    """The sequence lint reads SDPA's `causal` as it reads MultiheadAttention's."""
    c = GPTConfig(n_embd=16, n_head=2, block_size=6)
    nodes = [node("idx", "Input", shape=[c.block_size], dtype="long", vocab=11),
             node("wte", "Embedding", ["idx"], num_embeddings=11, embedding_dim=c.n_embd),
             *attention_nodes("", "wte", c),
             node("lm_head", "Linear", ["c_proj"], out_features=11)]
    assert validate_graph(graph(nodes)).all_warnings() == []
    nodes[4] = {**nodes[4], "params": {**nodes[4]["params"], "causal": False}}
    (warning,) = validate_graph(graph(nodes)).all_warnings()
    assert warning.node == "sdpa" and "set causal to true" in warning.message
