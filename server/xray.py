"""X-ray: what flows through every layer for one sample, and what flows back.

`xray(graph, sample=0)` builds the run the trainer would build (same data, same
seed, same loss), optionally loads a checkpoint's weights, and reports for every
node:

- its output for one validation sample, with statistics (mean, std, the share of
  zeros, and for Sigmoid/Tanh the share saturated) and a small picture: one
  thumbnail per channel for image tensors, a heat strip for vectors and sequences;
- the gradient one backward pass of one batch sends to it (the norm reaching the
  node's output, and for layers with weights the weight-gradient norm and its
  ratio to the weight norm), so vanishing or exploding gradients show before any
  training;
- its cost: FLOPs for one sample from `torch.utils.flop_counter` (not a hand
  count) and the activation memory of its output for the run's batch size,
  beside the whole run's training-memory estimate (`server.memory`).

The values come from the same compiled module the trainer uses, so a forward
hook on that module sees exactly these tensors (the tests check that).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from server.catalog import LAYERS
from server.memory import estimate_training_memory, human_bytes
from server.nesting import layer_at, layer_parameters
from server.validation import require_valid

MAX_CHANNELS = 16  # thumbnails per image tensor
THUMB = 32  # each thumbnail at most THUMB x THUMB
STRIP = 256  # values in a heat strip


def xray(graph: Any, sample: int = 0, state_dict: Mapping[str, torch.Tensor] | None = None,
         measure_time: bool = False) -> dict[str, Any]:
    """The X-ray of `graph` for validation sample `sample` (weights: fresh, or `state_dict`)."""
    from server.training.setup import build_run

    analysis = require_valid(graph)
    run = build_run(analysis.graph)
    model = run.model
    if state_dict is not None:
        model.load_state_dict(state_dict, strict=True)
    batches = run.val if run.val is not None else run.train
    x_batch, _, target = next(iter(batches))
    if not 0 <= sample < len(x_batch):
        raise ValueError(f"sample {sample} is out of range: the first batch holds "
                         f"{len(x_batch)} samples (0-{len(x_batch) - 1})")
    types = {n.id: n.type for n in analysis.graph.nodes}

    model.eval()
    with torch.no_grad():
        values = model.forward_all(x_batch[sample:sample + 1])
    nodes = {nid: _describe(values[nid][0], types[nid]) for nid in analysis.order}

    batch_size = analysis.graph.data.batch_size  # the gradient of one training-sized batch
    grads = _gradients(model, x_batch[:batch_size], target[:batch_size], run)
    flops = _flops(model, x_batch[sample:sample + 1])
    for nid, report in nodes.items():
        report.update(grads.get(nid, {}))
        report["flops"] = flops.get(nid, 0)
        report["activation_bytes"] = int(values[nid][0].numel() * 4 * batch_size)
    if measure_time:
        for nid, seconds in layer_times(model, x_batch[:batch_size]).items():
            nodes[nid]["forward_backward_ms"] = round(seconds * 1000, 3)
    memory = estimate_training_memory(analysis)
    return {
        "sample": sample,
        "label": _label(batches, run, sample),
        "nodes": nodes,
        "order": list(analysis.order),
        "total_flops": sum(flops.values()),
        "memory": memory.as_dict() | {"total_human": human_bytes(memory.total)},
        "loss": grads.get("__loss__"),
        "weights": "checkpoint" if state_dict is not None else "initial",
    }


# -- one tensor ----------------------------------------------------------------------


def _describe(v: torch.Tensor, node_type: str) -> dict[str, Any]:
    v = v.detach().float().cpu()
    flat = v.flatten()
    out: dict[str, Any] = {
        "shape": list(v.shape),
        "mean": float(flat.mean()) if flat.numel() else 0.0,
        "std": float(flat.std()) if flat.numel() > 1 else 0.0,
        "zeros": float((flat == 0).float().mean()) if flat.numel() else 0.0,
        "min": float(flat.min()) if flat.numel() else 0.0,
        "max": float(flat.max()) if flat.numel() else 0.0,
    }
    spec = LAYERS.get(node_type)
    if spec is not None and spec.saturates_at is not None:
        lo, hi = spec.saturates_at
        out["saturated"] = float(((flat <= lo) | (flat >= hi)).float().mean())
    if v.dim() == 3 and v.shape[1] > 1 and v.shape[2] > 1:  # (C, H, W): feature maps
        out["maps"] = [_picture(v[c]) for c in range(min(MAX_CHANNELS, v.shape[0]))]
        out["channels"] = int(v.shape[0])
    else:  # a vector or a sequence: one strip of values
        out["strip"] = _strip(flat)
    return out


def _picture(image: torch.Tensor) -> list[list[int]]:
    """A map as 0-255 greys, at most THUMB x THUMB (area-averaged when larger)."""
    h, w = image.shape
    if h > THUMB or w > THUMB:
        scale = max(h, w) / THUMB
        size = (max(1, round(h / scale)), max(1, round(w / scale)))
        image = torch.nn.functional.adaptive_avg_pool2d(image[None, None], size)[0, 0]
    return _greys(image).tolist()


def _strip(flat: torch.Tensor) -> list[int]:
    if flat.numel() > STRIP:
        flat = torch.nn.functional.adaptive_avg_pool1d(flat[None, None], STRIP)[0, 0]
    return _greys(flat).tolist()


def _greys(t: torch.Tensor) -> torch.Tensor:
    lo, hi = float(t.min()), float(t.max())
    if hi - lo < 1e-12:
        return torch.full(t.shape, 128, dtype=torch.int64)
    return ((t - lo) / (hi - lo) * 255).round().to(torch.int64)


def _label(batches: Any, run: Any, sample: int) -> Any:
    labels = getattr(batches, "labels", None)
    if labels is None or not run.classify:
        return None
    index = int(labels[sample])
    names = getattr(run.info, "class_names", None) or []
    return names[index] if index < len(names) else index


# -- gradients, cost, time -----------------------------------------------------------


def _gradients(model: Any, x: torch.Tensor, target: torch.Tensor, run: Any) -> dict[str, Any]:
    """One backward pass of one batch: the gradient reaching each node and its weights."""
    model.train()
    model.zero_grad(set_to_none=True)
    values = model.forward_all(x, keep_grad=True)
    out = values[model.output_id]
    if run.probabilities:  # a binary loss fed probabilities by the model
        out = out.clamp(1e-7, 1 - 1e-7)
    loss = run.loss_fn(out, target)
    loss.backward()
    report: dict[str, Any] = {"__loss__": float(loss.detach())}
    for nid, v in values.items():
        entry: dict[str, Any] = {}
        if v.grad is not None:
            entry["grad_norm"] = float(v.grad.norm())
        attr = model.node_attrs.get(nid)
        if attr is not None:
            params = [p for p in layer_parameters(model, attr) if p.grad is not None]
            if params:
                g = torch.sqrt(sum((p.grad.detach() ** 2).sum() for p in params))
                w = torch.sqrt(sum((p.detach() ** 2).sum() for p in params))
                entry["weight_grad_norm"] = float(g)
                entry["weight_norm"] = float(w)
                entry["grad_to_weight"] = float(g / w) if float(w) > 0 else None
        report[nid] = entry
    model.zero_grad(set_to_none=True)
    model.eval()
    return report


def _flops(model: Any, x: torch.Tensor) -> dict[str, int]:
    """FLOPs per node for one sample, as torch.utils.flop_counter counts them."""
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    counts = counter.get_flop_counts()
    by_attr = {attr: nid for nid, attr in model.node_attrs.items()}
    out: dict[str, int] = {}
    for name, ops in counts.items():
        attr = name.split(".", 1)[1] if "." in name else None
        if attr in by_attr:
            out[by_attr[attr]] = int(sum(ops.values()))
    return out


def total_flops(model: Any, x: torch.Tensor) -> int:
    """The whole module's FLOPs for `x`, by FlopCounterMode: what per-node counts add up to."""
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    return int(counter.get_total_flops())


def layer_times(model: Any, x: torch.Tensor, repeats: int = 3) -> dict[str, float]:
    """Measured forward+backward seconds per layer on the run's device (best of `repeats`)."""
    import time

    best: dict[str, float] = {}
    starts: dict[str, float] = {}
    hooks = []
    by_attr = {attr: nid for nid, attr in model.node_attrs.items()}
    for attr, nid in by_attr.items():
        module = layer_at(model, attr)
        hooks.append(module.register_forward_pre_hook(
            lambda m, a, nid=nid: starts.__setitem__(nid, time.perf_counter())))
        hooks.append(module.register_forward_hook(
            lambda m, a, o, nid=nid: best.__setitem__(
                f"f:{nid}", time.perf_counter() - starts[nid])))
        hooks.append(module.register_full_backward_pre_hook(
            lambda m, g, nid=nid: starts.__setitem__(f"b:{nid}", time.perf_counter())))
        hooks.append(module.register_full_backward_hook(
            lambda m, gi, go, nid=nid: best.__setitem__(
                f"b:{nid}", time.perf_counter() - starts[f"b:{nid}"])))
    totals: dict[str, float] = {}
    try:
        model.train()
        for _ in range(repeats):
            best.clear()
            x_in = x.detach().requires_grad_(x.is_floating_point())
            model(x_in).float().sum().backward()
            for nid in by_attr.values():
                t = best.get(f"f:{nid}", 0.0) + best.get(f"b:{nid}", 0.0)
                totals[nid] = min(totals.get(nid, t), t)
    finally:
        for h in hooks:
            h.remove()
        model.zero_grad(set_to_none=True)
        model.eval()
    return totals
