"""Catalogue layers with several outputs: Split and Chunk.

Their shape rules return one shape per output port; the exporter unpacks the
call where it is made (`a, b = x.chunk(2, dim=1)`) and edges read a port with
`{"node": id, "port": n}`.
"""

from __future__ import annotations

from typing import Any

import torch

from .layers import LayerSpec
from .params import Param
from .shapes import Shape, ShapeError, fmt, full_dim

DIM = Param("dim", "dim", 1, "Dimension to cut along (1 = features/channels)")


def _split(ins: list[Shape], p: dict[str, Any]) -> list[Shape]:
    shape = ins[0]
    d = full_dim(p["dim"], len(shape)) - 1
    sections = list(p["sections"])
    if sum(sections) != shape[d]:
        raise ShapeError(f"sections {sections} add up to {sum(sections)} but dim {p['dim']} of "
                         f"{fmt(shape)} has {shape[d]}", "sections")
    return [shape[:d] + (n,) + shape[d + 1:] for n in sections]


def _chunk(ins: list[Shape], p: dict[str, Any]) -> list[Shape]:
    shape = ins[0]
    d = full_dim(p["dim"], len(shape)) - 1
    size, chunks = shape[d], p["chunks"]
    if chunks > size:
        raise ShapeError(f"cannot cut {size} values of {fmt(shape)} into {chunks} chunks",
                         "chunks")
    step = -(-size // chunks)  # torch.chunk: ceil-sized pieces, the last one smaller
    sizes = [min(step, size - start) for start in range(0, size, step)]
    if len(sizes) != chunks:
        # torch.chunk would silently return fewer pieces: say so instead.
        raise ShapeError(f"{size} values cut into pieces of {step} give {len(sizes)} chunks, "
                         f"not {chunks}; use Split with explicit sections", "chunks")
    return [shape[:d] + (n,) + shape[d + 1:] for n in sizes]


MULTI_OUTPUT = [
    LayerSpec(
        "Split", "shape", "Cuts a tensor into parts of the given sizes; one output per part.",
        _split, outputs=(),
        params=(Param("sections", "shape", help="Size of each part, e.g. [16, 16]"), DIM),
        function=lambda xs, p: torch.split(xs[0], list(p["sections"]), dim=p["dim"]),
        expression=lambda v, p: f"torch.split({v[0]}, {list(p['sections'])}, dim={p['dim']})",
    ),
    LayerSpec(
        "Chunk", "shape",
        "Cuts a tensor into equal parts, e.g. mu and logvar of a VAE; one output per part.",
        _chunk, outputs=(),
        params=(Param("chunks", "int", 2, "Number of parts", min=2, max=4096), DIM),
        function=lambda xs, p: xs[0].chunk(p["chunks"], dim=p["dim"]),
        expression=lambda v, p: f"{v[0]}.chunk({p['chunks']}, dim={p['dim']})",
    ),
]
