"""Lints for the classic sequence mistakes, decided by what the catalogue says layers do.

A tensor is a *sequence* (N, T, F), one vector per position, when a layer that
makes one (`sequence_out`: Embedding, recurrent and attention layers) produced
it, possibly through layers that keep that layout (`per_position`: activations,
norms, Linear, element-wise ops); Permute and Transpose (`swaps_layout`) turn
channels-first tensors into sequences and sequences into channels-first ones.
Per-token Linear layers on a sequence are what transformers and taggers do, so
the "put a Flatten" lint stays quiet there.

The warnings:
- `batch_first=false`: the layer reads dimension 0, the batch, as time.
- a 1-d convolution's (N, C, L) fed to a layer that reads (N, T, F): channels
  would be read as time steps; and the reverse, a sequence fed to a layer that
  reads channels first (Conv1d, BatchNorm1d, pooling: `reads_channels`).
- a recurrent layer passing on every time step (`returns: output`) into a Flatten
  or to the network's output while the dataset has one label per sample.
- Softmax or LogSoftmax over the positions (dim 1) of a sequence instead of
  over each position's scores.
- a language-model-shaped network (token ids in, a score per vocabulary entry at
  every position out) whose attention is not causal, or whose recurrent layer is
  bidirectional: each position would see the tokens it has to predict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server.catalog import LAYERS, fmt
from server.ports import ref, source

Warn = Callable[..., None]
# Dataset kinds whose targets are one label per sample (not one per position).
PER_SAMPLE_KINDS = ("2d", "tabular", "image")
# Layers that pass a tensor on unchanged in layout, walked through when looking upstream.
TRANSPARENT = ("activation", "regularization", "norm")


def sequence_nodes(analysis: Any, nodes: dict[str, Any], seeded: Any = ()) -> set[str]:
    """Ids of nodes whose output is a per-position sequence (`seeded`: known ones, such as
    a block's Inputs fed by sequences)."""
    seq: set[str] = set(seeded)
    for nid in analysis.order:
        sub = getattr(analysis, "sub", {}).get(nid)
        if sub is not None:  # a block instance: a sequence out if its output is one inside
            fed = [i for i, s in zip(sub.input_ids, nodes[nid].inputs, strict=False)
                   if source(s) in seq]
            inner = sequence_nodes(sub, {n.id: n for n in sub.graph.nodes}, fed)
            if any(out in inner for out, _ in sub.outputs):
                seq.add(nid)
            continue
        spec = LAYERS.get(nodes[nid].type)
        shape = analysis.shapes.get(nid)
        if spec is None or shape is None or len(shape) < 2:
            continue
        from_seq = any(source(i) in seq for i in nodes[nid].inputs)
        if spec.swaps_layout:
            # (N, C, L) -> (N, L, C) puts features last to be read per position; a
            # sequence transposed is channels first.
            from_seq = not from_seq
        if spec.sequence_out or spec.swaps_layout and from_seq or spec.per_position and from_seq:
            seq.add(nid)
    return seq


def _shape(analysis: Any, item: Any) -> tuple:
    """The shape an edge carries (one port of a Split or Chunk, or a node's output)."""
    nid, port = ref(item)
    if nid in analysis.multi:
        return analysis.out_shapes[nid][port]
    return analysis.shapes[nid]


def sequence_lints(analysis: Any, nodes: dict[str, Any], seq: set[str], warn: Warn) -> None:
    for nid in analysis.order:
        n = nodes[nid]
        spec = LAYERS.get(n.type)
        params = analysis.resolved.get(nid)
        first = n.inputs[0] if n.inputs else None  # an edge may read a port: {node, port}
        if spec is not None and spec.produces and params and source(first) in seq \
                and params.get("dim") in (1, -len(analysis.shape_of(first))):
            shape = analysis.shape_of(first)
            warn(f"dim={params['dim']} makes {n.type} normalize over the {shape[0]} positions "
                 f"of the sequence {fmt(shape)}, not over the {shape[-1]} scores of each "
                 f"position; set dim to -1", node=nid, param="dim")
        if spec is not None and spec.reads_channels and n.inputs and source(first) in seq \
                and len(analysis.shape_of(first)) == 2:
            src = source(first)
            t = analysis.shapes[src][0]
            warn(f"{n.type} reads (N, C, L), channels first, but {src!r} gives a sequence "
                 f"{fmt(analysis.shapes[src])}, features last: it would take the {t} positions "
                 f"as channels. Put a Transpose (dims 1 and 2) before {nid!r}", node=nid)
        if spec is None or params is None or "batch_first" not in params:
            continue
        if not params["batch_first"]:
            warn(f"batch_first=false makes {n.type} read dimension 0, the batch, as time; "
                 f"torchcanvas tensors are (N, T, F), batch first: set batch_first to true",
                 node=nid, param="batch_first")
        _channels_first_input(analysis, nodes, nid, warn)
        if params.get("returns") == "output":
            _whole_sequence_used(analysis, nodes, nid, seq, warn)
    _causal_language_model(analysis, nodes, seq, warn)


def _channels_first_input(analysis: Any, nodes: dict[str, Any], nid: str, warn: Warn) -> None:
    src = source(nodes[nid].inputs[0])
    while LAYERS.get(nodes[src].type) and LAYERS[nodes[src].type].category in TRANSPARENT \
            and len(nodes[src].inputs) == 1:
        src = source(nodes[src].inputs[0])
    spec = LAYERS.get(nodes[src].type)
    shape = analysis.shapes.get(src)
    if spec is not None and spec.category in ("conv", "pool", "generative") and shape \
            and len(shape) == 2:
        warn(f"{nodes[src].type} {src!r} gives {fmt(shape)}: channels first, then time; "
             f"{nodes[nid].type} reads (N, T, F), so it would take the {shape[0]} channels as "
             f"time steps. Put a Transpose (dims 1 and 2) before {nid!r}", node=nid)


def _whole_sequence_used(analysis: Any, nodes: dict[str, Any], nid: str, seq: set[str],
                         warn: Warn) -> None:
    """A recurrent layer's every time step reaching a Flatten or a per-sample output."""
    hint = "for one prediction per sequence set returns to 'last' (the last time step) or " \
           "'hidden' (the final hidden state)"
    frontier, seen = [nid], {nid}
    while frontier:
        cur = frontier.pop()
        for c in analysis.consumers.get(cur, []):
            spec = LAYERS.get(nodes[c].type)
            if spec is None or c in seen:
                continue
            seen.add(c)
            if spec.type == "Flatten":
                warn(f"returns='output' passes on every time step and Flatten {c!r} joins them "
                     f"into one long vector; {hint}", node=nid, param="returns")
                return
            if c in seq:
                frontier.append(c)
    ds = analysis.dataset
    out = analysis.output_id
    if out in seen and out in seq and ds is not None and ds.kind in PER_SAMPLE_KINDS \
            and ds.task != "regression":
        warn(f"returns='output' makes the network's output {fmt(analysis.shapes[out])}, one "
             f"prediction per time step, but {ds.name!r} has one label per sample; {hint}",
             node=nid, param="returns")


def _causal_language_model(analysis: Any, nodes: dict[str, Any], seq: set[str],
                           warn: Warn) -> None:
    out = analysis.output_id
    shape = analysis.shapes.get(out)
    if out not in seq or shape is None or len(shape) != 2:
        return
    vocab = {analysis.resolved[nid].get("num_embeddings") for nid in analysis.order
             if nid in analysis.resolved
             and getattr(LAYERS.get(nodes[nid].type), "index_input", False)}
    if shape[-1] not in vocab:
        return
    why = (f"this looks like a language model (token ids in, a score for each of the "
           f"{shape[-1]} tokens at every position out)")
    for nid in analysis.order:
        params = analysis.resolved.get(nid, {})
        if params.get("causal") is False:
            warn(f"{why}, but without causal=true each position attends to the later tokens it "
                 f"has to predict; set causal to true", node=nid, param="causal")
        elif params.get("bidirectional") is True:
            warn(f"{why}, but a bidirectional {nodes[nid].type} reads the later tokens it has "
                 f"to predict; set bidirectional to false", node=nid, param="bidirectional")
