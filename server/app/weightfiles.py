"""Uploaded start weights: a `.pt` state_dict stored where a graph's `init.weights` may
point, after it proved to be weights and nothing else.

The file is copied under `uploads/.tmp-<id>` with the upload size limit, then
read with `torch.load(weights_only=True)`: a pickle that would run code, a
damaged file or anything that is not a mapping of names to tensors is refused
(422) and deleted; only then is the folder renamed to `uploads/<id>`, the one
kind of place the server lets `init.weights` name. Given a graph, the summary
says how many of its tensors the file fills by name and shape (counted on the
meta device, so no weights are made).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import torch

from server.weights import WeightsError, read_state_dict

from .uploads import UploadError, _copy, remove

WEIGHTS_FILE = "weights.pt"


def store_weights(src: IO[bytes], folder: Path, tmp: Path, limit: int,
                  shown: str) -> dict[str, Any]:
    """Check and store an uploaded state_dict as `folder/weights.pt`; its summary."""
    tmp.mkdir(parents=True)
    try:
        if not shown.lower().endswith((".pt", ".pth", ".bin", ".ckpt")):
            raise UploadError(f"{shown} is not a .pt file: save a state_dict with "
                              "torch.save(model.state_dict(), 'weights.pt')")
        size = _copy(src, tmp / WEIGHTS_FILE, limit)
        try:
            state = read_state_dict(tmp / WEIGHTS_FILE)
        except WeightsError as exc:
            raise UploadError(str(exc).replace(WEIGHTS_FILE, shown, 1)) from None
        if not state:
            raise UploadError(f"{shown} holds no tensors")
        tmp.rename(folder)
    except BaseException:
        remove(tmp)
        raise
    return {"path": str(folder / WEIGHTS_FILE), "file": shown, "bytes": size,
            "tensors": len(state), "parameters": sum(v.numel() for v in state.values()),
            "keys": list(state)[:8], "shapes": {k: list(v.shape) for k, v in state.items()}}


def matches(shapes: dict[str, list[int]], graph: Any) -> dict[str, Any]:
    """How the file fills this graph: tensors matched by name and shape, and the rest."""
    from server.compiler import compile_graph

    with torch.device("meta"):
        own = {k: list(v.shape) for k, v in compile_graph(graph).state_dict().items()}
    matched = sorted(k for k, s in shapes.items() if own.get(k) == s)
    return {"matched": len(matched), "graph_tensors": len(own),
            "fresh": sorted(set(own) - set(matched))[:20],
            "unused": sorted(set(shapes) - set(matched))[:20]}
