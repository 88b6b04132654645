"""Ask a trained run's model about inputs: one of the user's ("Try it"), or the
first validation samples of the run's own split (the page's prediction gallery).

The model is rebuilt from the run's graph and its best checkpoint (loaded with
`weights_only=True`), kept for a few runs so repeated clicks answer at once.
Inputs are in the model's own input space: for the generated 2-D sets that is
the data's coordinates, for image sets pixels in 0..1, as the loaders give them.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from .checkpoints import CheckpointUnreadable, load_checkpoint


class PredictError(ValueError):
    """An input the model cannot take, said so the user can fix it."""


def predict(checkpoint: Path, graph: dict[str, Any], value: Any,
            options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The model's answer for one input; for a model of token ids `value` is typed text and
    `options` may bound a language model's continuation (`length`, `temperature`, `seed`)."""
    import torch

    from server.training.metrics import class_probabilities

    model, task, labels, wants_probabilities = _loaded(checkpoint, graph)
    if len(model.input_ids) > 1:
        raise PredictError(f"Try it asks models with one Input; this one has "
                           f"{len(model.input_ids)}")
    info, vocab, pick = _text_context(checkpoint, graph)
    if info is not None:  # a model of token ids: typed text in
        from .predict_text import TextError, answer

        options = options or {}
        try:
            return answer(model, info, vocab, value, pick,
                          lambda out: class_probabilities(out, wants_probabilities),
                          options.get("length"), options.get("temperature"),
                          options.get("seed"))
        except TextError as exc:
            raise PredictError(str(exc)) from None
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
    if isinstance(out, tuple):  # several outputs: answer with the one the loss reads
        out = out[(graph.get("loss") or {}).get("output") or 0]
    if task == "regression":
        return {"output": out.reshape(-1).tolist()}
    probs = class_probabilities(out, wants_probabilities)[0].tolist()
    return {"probabilities": probs, "labels": labels[:len(probs)] or
            [str(i) for i in range(len(probs))]}


def validation_samples(checkpoint: Path, graph: dict[str, Any], n: int) -> dict[str, Any]:
    """The first `n` validation samples of the run's split, their labels and the
    model's class probabilities: samples the model was never trained on."""
    import torch

    from server.datasets import load_dataset
    from server.training.metrics import class_probabilities

    model, task, labels, wants_probabilities = _loaded(checkpoint, graph)
    if task == "regression":
        raise PredictError("a gallery of predictions needs a classification dataset")
    data_config, training = graph["data"], graph.get("training") or {}
    data = load_dataset(data_config["dataset"], data_config.get("params") or {},
                        val_fraction=data_config.get("val_fraction", 0.2),
                        seed=training.get("seed", 0))
    if data.in_memory:
        x, y = data.x_val[:n], data.y_val[:n]
    else:
        pairs = [data.val_set[i] for i in range(min(n, len(data.val_set)))]
        x = torch.stack([p[0] for p in pairs]) if pairs else torch.empty(0)
        y = torch.tensor([int(p[1]) for p in pairs])
    if len(x) == 0:
        raise PredictError("this run has no validation samples (val_fraction is 0)")
    with torch.no_grad():
        out = model(x)
    probs = class_probabilities(out, wants_probabilities)
    return {"inputs": x.tolist(), "labels": y.reshape(-1).tolist(),
            "probabilities": probs.tolist(), "class_names": labels}


def _text_context(checkpoint: Path, graph: dict[str, Any]) -> tuple[Any, list[str], int]:
    """(dataset info, vocabulary, output the loss reads) for a model of token ids, else
    (None, [], 0). The vocabulary is the one the run kept with its checkpoint."""
    from server.datasets import DatasetError, describe_dataset

    data = graph.get("data") or {}
    try:
        info = describe_dataset(data.get("dataset"), data.get("params") or {})
    except DatasetError:
        return None, [], 0
    if info.input_dtype != "long" or not info.tokens:
        return None, [], 0
    vocab = load_checkpoint(checkpoint).get("vocab") or list(info.token_names)
    pick = (graph.get("loss") or {}).get("output") or 0
    return info, list(vocab), pick


def _loaded(checkpoint: Path, graph: dict[str, Any]) -> tuple[Any, str, list[str], bool]:
    """(model in eval mode, task, class names, whether its loss takes probabilities)."""
    return _model(checkpoint, checkpoint.stat().st_mtime_ns, _freeze(graph))


@lru_cache(maxsize=4)
def _model(checkpoint: Path, stamp: int, frozen: str) -> tuple[Any, str, list[str], bool]:
    from server.catalog import LOSSES
    from server.compiler import compile_graph
    from server.graph import parse_graph
    from server.recipe import recipe
    from server.validation import analyze_graph

    graph = parse_graph(json.loads(frozen))
    analysis = analyze_graph(graph)
    info = analysis.dataset
    model = compile_graph(graph)
    try:
        model.load_state_dict(load_checkpoint(checkpoint)["state_dict"])
    except (RuntimeError, TypeError, ValueError):  # tensors that do not fit this network
        raise CheckpointUnreadable(checkpoint) from None
    model.eval()
    task = info.task if info is not None else "classification"
    wants_probabilities = LOSSES[recipe(graph, task).loss.type].expects == "probabilities"
    return model, task, list(info.class_names) if info is not None else [], wants_probabilities


def _freeze(graph: dict[str, Any]) -> str:
    return json.dumps(graph, sort_keys=True)
