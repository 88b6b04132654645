"""Ask a trained run's model about one input ("Try it" in the page).

The model is rebuilt from the run's graph and its best checkpoint (loaded with
`weights_only=True`), kept for a few runs so repeated clicks answer at once.
Inputs are in the model's own input space: for the generated 2-D sets that is
the data's coordinates, for image sets pixels in 0..1, as the loaders give them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from .checkpoints import load_checkpoint


class PredictError(ValueError):
    """An input the model cannot take, said so the user can fix it."""


def predict(checkpoint: Path, graph: dict[str, Any], value: Any) -> dict[str, Any]:
    import torch

    from server.catalog import LOSSES
    from server.training.metrics import class_probabilities

    model, task, labels, loss_type = _model(checkpoint, checkpoint.stat().st_mtime_ns,
                                           _freeze(graph))
    try:
        x = torch.tensor(value, dtype=torch.float32)
    except (TypeError, ValueError) as exc:
        raise PredictError(f"the input must be a nested list of numbers: {exc}") from None
    want = tuple(model.input_shape)
    if tuple(x.shape) != want:
        raise PredictError(f"the input has shape {list(x.shape)}, the model takes {list(want)}")
    if not torch.isfinite(x).all():
        raise PredictError("the input holds a value that is not a finite number")
    with torch.no_grad():
        out = model(x.unsqueeze(0))
    if task == "regression":
        return {"output": out.reshape(-1).tolist()}
    expects_probabilities = LOSSES[loss_type].expects == "probabilities"
    probs = class_probabilities(out, expects_probabilities)[0].tolist()
    return {"probabilities": probs, "labels": labels[:len(probs)] or
            [str(i) for i in range(len(probs))]}


@lru_cache(maxsize=4)
def _model(checkpoint: Path, stamp: int, frozen: str) -> tuple[Any, str, list[str], str]:
    import json

    from server.compiler import compile_graph
    from server.graph import parse_graph
    from server.recipe import recipe
    from server.validation import analyze_graph

    graph = parse_graph(json.loads(frozen))
    analysis = analyze_graph(graph)
    info = analysis.dataset
    model = compile_graph(graph)
    model.load_state_dict(load_checkpoint(checkpoint)["state_dict"])
    model.eval()
    task = info.task if info is not None else "classification"
    loss = recipe(graph, task).loss.type
    return model, task, list(info.class_names) if info is not None else [], loss


def _freeze(graph: dict[str, Any]) -> str:
    import json

    return json.dumps(graph, sort_keys=True)
