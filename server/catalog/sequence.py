"""Sequence and text layers: embeddings, recurrent layers, attention, transformer layers.

Tensors keep the batch first, as everywhere in torchcanvas, so a sequence is
`(N, T, F)`: T positions (time steps, tokens), F features each. Recurrent and
attention layers are therefore built with `batch_first=True`; setting it to
false is allowed (PyTorch allows it) but read the first dimension, the batch, as
time, which the sequence lints point out.

A recurrent node returns one tensor, chosen by `returns`: the whole output
sequence, its last time step, or the final hidden state. The compiled module is
a subclass of PyTorch's class whose `forward` makes that choice, so its
`state_dict` keys are the plain class's; the export writes the plain class and
the lines a person writes (`x, _ = self.lstm(x)`, then `x = x[:, -1, :]`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .layers import BIAS, LayerSpec, _in, _last_dim, _size
from .params import Param
from .shapes import Shape, ShapeError, fmt, need_rank

# -- embeddings --------------------------------------------------------------
VOCAB = _size("num_embeddings", "Vocabulary size: token ids run from 0 to num_embeddings - 1")
EMBED_DIM = _size("embedding_dim", "Length of the vector learned for each token")


def _embedding(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    pad = p.get("padding_idx")
    if pad is not None and pad >= p["num_embeddings"]:
        raise ShapeError(f"padding_idx ({pad}) must be below num_embeddings "
                         f"({p['num_embeddings']})", "padding_idx")
    return (*s, p["embedding_dim"])


def _embedding_bag(shapes: list[Shape], p: dict) -> Shape:
    need_rank(shapes[0], [1], "EmbeddingBag")
    return (p["embedding_dim"],)


def _positional(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    need_rank(s, [2], "PositionalEmbedding")
    if s[0] > p["num_embeddings"]:
        raise ShapeError(f"the sequence has {s[0]} positions but num_embeddings is "
                         f"{p['num_embeddings']}; raise it to at least {s[0]}",
                         "num_embeddings")
    return s


class _AddPositions(nn.Embedding):
    """Compiled PositionalEmbedding: x plus the embedding of positions 0..T-1."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + super().forward(torch.arange(x.size(1), device=x.device))


def _build_positional(p: dict[str, Any]) -> nn.Module:
    return _AddPositions(p["num_embeddings"], p["embedding_dim"])


# -- recurrent layers ----------------------------------------------------------
RETURNS = Param("returns", "choice", "output", "What the node passes on: 'output' every time "
                "step (N, T, D*H); 'last' the last time step of output (N, D*H); 'hidden' the "
                "final hidden state of the last layer, both directions joined (N, D*H)",
                choices=("output", "last", "hidden"))
BATCH_FIRST = Param("batch_first", "bool", True, "Tensors are (N, T, F), batch first, as "
                    "everywhere in torchcanvas; false reads the batch as time")


def _recurrent_params(extra: tuple[Param, ...] = ()) -> tuple[Param, ...]:
    return (
        _in("input_size", "Features per time step"),
        _size("hidden_size", "Features in the hidden state (H)"),
        Param("num_layers", "int", 1, "Recurrent layers stacked on each other", min=1, max=64),
        *extra,
        BIAS,
        BATCH_FIRST,
        Param("dropout", "float", 0.0, "Dropout between stacked layers (needs num_layers > 1)",
              min=0, max=1),
        Param("bidirectional", "bool", False, "Also read the sequence backwards (D = 2)"),
        RETURNS,
    )


def _recurrent(what: str):
    def rule(shapes: list[Shape], p: dict) -> Shape:
        (s,) = shapes
        need_rank(s, [2], what)
        width = p["hidden_size"] * (2 if p["bidirectional"] else 1)
        if p["dropout"] > 0 and p["num_layers"] == 1:
            raise ShapeError("dropout acts between stacked layers: with num_layers=1 it does "
                             "nothing; set num_layers above 1 or dropout to 0", "dropout")
        if not p["batch_first"] and p["returns"] != "output":
            raise ShapeError(f"with batch_first=false, returns={p['returns']!r} would drop "
                             f"the batch; set batch_first to true", "batch_first")
        return (s[0], width) if p["returns"] == "output" else (width,)
    return rule


class _Returns:
    """Mixin for nn.RNN/LSTM/GRU: forward returns the one tensor `returns` names."""

    returns = "output"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output, state = super().forward(x)
        if self.returns == "output":
            return output
        if self.returns == "last":
            return output[:, -1, :]
        h_n = state[0] if isinstance(state, tuple) else state  # LSTM: (h_n, c_n)
        return torch.cat([h_n[-2], h_n[-1]], dim=1) if self.bidirectional else h_n[-1]


class _RNN(_Returns, nn.RNN):
    pass


class _LSTM(_Returns, nn.LSTM):
    pass


class _GRU(_Returns, nn.GRU):
    pass


_COMPILED = {"RNN": _RNN, "LSTM": _LSTM, "GRU": _GRU}  # module-level classes: picklable


def _build_recurrent(name: str):
    def build(p: dict[str, Any]) -> nn.Module:
        module = _COMPILED[name](**{k: v for k, v in p.items() if k != "returns"})
        module.returns = p["returns"]
        return module
    return build


def _recurrent_call(name: str):
    def call(attr: str, args: list[str], out: str, p: dict) -> list[str]:
        (x,) = args
        if p["returns"] == "output":
            return [f"{out}, _ = {attr}({x})"]
        if p["returns"] == "last":
            return [f"{out}, _ = {attr}({x})", f"{out} = {out}[:, -1, :]"]
        state = "(h_n, _)" if name == "LSTM" else "h_n"
        # The last layer's final hidden state; both directions joined when bidirectional.
        last = "torch.cat([h_n[-2], h_n[-1]], dim=1)" if p["bidirectional"] else "h_n[-1]"
        return [f"_, {state} = {attr}({x})", f"{out} = {last}"]
    return call


def _recurrent_spec(name: str, description: str, extra: tuple[Param, ...] = ()) -> LayerSpec:
    return LayerSpec(
        name, "sequence", description, _recurrent(name), module=name,
        positional=("input_size", "hidden_size"), infer=_last_dim("input_size"),
        params=_recurrent_params(extra), node_params=("returns",), hidden_defaults=(
            ("num_layers", 1), ("nonlinearity", "tanh"), ("bias", True), ("batch_first", False),
            ("dropout", 0.0), ("bidirectional", False)),
        builder=_build_recurrent(name), call=_recurrent_call(name), sequence_out=True,
    )


# -- attention -----------------------------------------------------------------
CAUSAL = Param("causal", "bool", False, "Each position sees only itself and earlier ones (a "
               "language model predicting the next token must not see it)")
MASK_LINE = "causal_mask = nn.Transformer.generate_square_subsequent_mask({x}.size(1), " \
            "device={x}.device)"


def _causal_mask(x: torch.Tensor) -> torch.Tensor:
    return nn.Transformer.generate_square_subsequent_mask(x.size(1), device=x.device)


def _self_attention(shapes: list[Shape], p: dict) -> Shape:
    s = shapes[0]
    need_rank(s, [2], "MultiheadAttention")
    if p["embed_dim"] % p["num_heads"]:
        raise ShapeError(f"num_heads ({p['num_heads']}) must divide embed_dim "
                         f"({p['embed_dim']})", "num_heads")
    if len(shapes) == 2 and shapes[1] != s[:1]:
        raise ShapeError(f"the key-padding mask (input 2) must be {fmt(s[:1])}, one flag per "
                         f"position, got {fmt(shapes[1])}")
    return s


class _SelfAttention(nn.MultiheadAttention):
    """Compiled self-attention: query, key and value are all x."""

    causal = False

    def forward(self, x: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        mask = _causal_mask(x) if self.causal else None
        return super().forward(x, x, x, key_padding_mask=padding, attn_mask=mask,
                               need_weights=False)[0]


def _build_attention(p: dict[str, Any]) -> nn.Module:
    module = _SelfAttention(**{k: v for k, v in p.items() if k != "causal"})
    module.causal = p["causal"]
    return module


def _attention_call(attr: str, args: list[str], out: str, p: dict) -> list[str]:
    x = args[0]
    extra = [f"key_padding_mask={args[1]}"] if len(args) > 1 else []
    lines = []
    if p["causal"]:
        lines.append(MASK_LINE.format(x=x))
        extra.append("attn_mask=causal_mask")
    lines.append(f"{out}, _ = {attr}({x}, {x}, {x}, {', '.join(extra + ['need_weights=False'])})")
    return lines


def _transformer_params() -> tuple[Param, ...]:
    return (
        _in("d_model", "Features per position"),
        Param("nhead", "int", 1, "Attention heads; must divide d_model", min=1, max=1024),
        Param("dim_feedforward", "int", 2048, "Width of the feed-forward block", min=1,
              max=1_000_000),
        Param("dropout", "float", 0.1, "Dropout inside the layer while training", min=0, max=1),
        Param("activation", "choice", "relu", "Activation of the feed-forward block",
              choices=("relu", "gelu")),
        Param("layer_norm_eps", "float", 1e-5, "Added to the variance in LayerNorm", min=0,
              min_exclusive=True),
        BATCH_FIRST,
        Param("norm_first", "bool", False, "LayerNorm before attention and feed-forward "
              "(pre-norm, as GPT-2 and ViT) instead of after"),
        BIAS,
        CAUSAL,
    )


# nn.TransformerEncoderLayer's default activation is the function F.relu, written "relu" here.
TRANSFORMER_DEFAULTS = (("activation", "relu"),)


def _transformer(what: str):
    def rule(shapes: list[Shape], p: dict) -> Shape:
        s = shapes[0]
        need_rank(s, [2], what)
        if p["d_model"] % p["nhead"]:
            raise ShapeError(f"nhead ({p['nhead']}) must divide d_model ({p['d_model']})",
                             "nhead")
        if len(shapes) == 2:
            m = shapes[1]
            need_rank(m, [2], f"{what}'s memory (input 2)")
            if m[1] != s[1]:
                raise ShapeError(f"memory (input 2) {fmt(m)} must have d_model={s[1]} "
                                 f"features like the target {fmt(s)}")
        return s
    return rule


class _Encoder(nn.TransformerEncoderLayer):
    causal = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.causal:
            return super().forward(x)
        return super().forward(x, src_mask=_causal_mask(x), is_causal=True)


class _Decoder(nn.TransformerDecoderLayer):
    causal = False

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        if not self.causal:
            return super().forward(x, memory)
        return super().forward(x, memory, tgt_mask=_causal_mask(x), tgt_is_causal=True)


def _build_transformer(cls: type):
    def build(p: dict[str, Any]) -> nn.Module:
        module = cls(**{k: v for k, v in p.items() if k != "causal"})
        module.causal = p["causal"]
        return module
    return build


def _transformer_call(attr: str, args: list[str], out: str, p: dict) -> list[str]:
    x = args[0]
    if not p["causal"]:
        return [f"{out} = {attr}({', '.join(args)})"]
    mask = "src_mask=causal_mask, is_causal=True" if len(args) == 1 else \
        "tgt_mask=causal_mask, tgt_is_causal=True"
    return [MASK_LINE.format(x=x), f"{out} = {attr}({', '.join(args)}, {mask})"]


# -- the table -------------------------------------------------------------------
SEQUENCE_LAYERS: list[LayerSpec] = [
    LayerSpec(
        "Embedding", "sequence",
        "Looks up a learned vector for each token id: (N, T) whole numbers become (N, T, D). "
        "The Input must hold token ids (dtype long) below num_embeddings.",
        _embedding, module="Embedding", positional=("num_embeddings", "embedding_dim"),
        index_input=True, sequence_out=True,
        params=(VOCAB, EMBED_DIM,
                Param("padding_idx", "int", None, "A token id whose vector stays zero and "
                      "learns nothing (padding); empty for none", min=0, nullable=True)),
    ),
    LayerSpec(
        "EmbeddingBag", "sequence",
        "Looks up the vector of every token id in a sample and combines them into one "
        "(sum, mean or max): a bag of words, (N, T) ids become (N, D).",
        _embedding_bag, module="EmbeddingBag", positional=("num_embeddings", "embedding_dim"),
        index_input=True,
        params=(VOCAB, EMBED_DIM,
                Param("mode", "choice", "mean", "How the vectors of one sample are combined",
                      choices=("sum", "mean", "max"))),
    ),
    LayerSpec(
        "PositionalEmbedding", "sequence",
        "Adds a learned vector for each position 0..T-1 to a (N, T, D) sequence, so attention "
        "can tell the order of tokens (an nn.Embedding over positions, as GPT-2 does).",
        _positional, module="Embedding", positional=("num_embeddings", "embedding_dim"),
        infer=_last_dim("embedding_dim"), builder=_build_positional, sequence_out=True,
        call=lambda attr, args, out, p: [
            f"{out} = {args[0]} + {attr}(torch.arange({args[0]}.size(1), "
            f"device={args[0]}.device))"],
        params=(_size("num_embeddings", "Longest sequence it can take (positions learned)"),
                _in("embedding_dim", "Features")),
    ),
    _recurrent_spec("RNN", "The simplest recurrent layer: reads a (N, T, F) sequence step by "
                    "step, keeping a hidden state that remembers what came before.",
                    (Param("nonlinearity", "choice", "tanh", "Activation of the hidden state",
                           choices=("tanh", "relu")),)),
    _recurrent_spec("LSTM", "Long short-term memory: a recurrent layer with gates that decide "
                    "what to keep and forget, so it remembers over long (N, T, F) sequences."),
    _recurrent_spec("GRU", "Gated recurrent unit: a lighter LSTM with two gates, often just "
                    "as good on (N, T, F) sequences."),
    LayerSpec(
        "MultiheadAttention", "attention",
        "Self-attention: every position of a (N, T, E) sequence looks at all positions (only "
        "earlier ones when causal) and mixes in what it finds relevant. An optional second "
        "input (N, T) marks padding positions to ignore (true or -inf).",
        _self_attention, module="MultiheadAttention", positional=("embed_dim", "num_heads"),
        arity=(1, 2), infer=_last_dim("embed_dim"), node_params=("causal",),
        builder=_build_attention, call=_attention_call, sequence_out=True,
        params=(_in("embed_dim", "Features per position (E)"),
                Param("num_heads", "int", 1, "Attention heads, each attending separately; "
                      "must divide embed_dim", min=1, max=1024),
                Param("dropout", "float", 0.0, "Dropout on the attention weights while "
                      "training", min=0, max=1),
                BIAS, BATCH_FIRST, CAUSAL),
    ),
    LayerSpec(
        "TransformerEncoderLayer", "attention",
        "A transformer block: self-attention then a feed-forward network, each with a "
        "residual connection and LayerNorm; (N, T, d_model) in and out.",
        _transformer("TransformerEncoderLayer"), module="TransformerEncoderLayer",
        positional=("d_model", "nhead"), infer=_last_dim("d_model"), node_params=("causal",),
        builder=_build_transformer(_Encoder), call=_transformer_call, sequence_out=True,
        params=_transformer_params(), hidden_defaults=TRANSFORMER_DEFAULTS,
    ),
    LayerSpec(
        "TransformerDecoderLayer", "attention",
        "A transformer decoder block: self-attention over the target (input 1), attention to "
        "the memory from an encoder (input 2), then a feed-forward network.",
        _transformer("TransformerDecoderLayer"), module="TransformerDecoderLayer",
        positional=("d_model", "nhead"), arity=(2, 2), infer=_last_dim("d_model"),
        node_params=("causal",), builder=_build_transformer(_Decoder), call=_transformer_call,
        sequence_out=True, params=_transformer_params(), hidden_defaults=TRANSFORMER_DEFAULTS,
    ),
]
