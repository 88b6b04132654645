"""Start weights and frozen layers: how a graph begins from weights made elsewhere.

A graph's `init.weights` names a `.pt` file: a `state_dict` as `torch.save` writes
it, or a torchcanvas checkpoint. It is read with `weights_only=True`, so a
pickle that would run code is refused, never run. Every tensor whose name and
shape match the compiled model is copied in; the rest are reported (a replaced
classifier head keeps its fresh weights: that is what fine-tuning wants), and a
file that matches nothing is an error. Nodes marked `frozen` then stop learning
(`requires_grad` off), so an optimizer given only the trainable parameters
leaves them exactly as loaded.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from server.nesting import layer_at


class WeightsError(ValueError):
    """A start-weights file that cannot be used; the message is for the user."""


@dataclass
class StartWeights:
    """What `apply_start_weights` did: keys loaded, and why the others were not."""

    loaded: list[str] = field(default_factory=list)
    kept_fresh: list[str] = field(default_factory=list)  # model keys with no match
    unused: list[str] = field(default_factory=list)  # file keys the model lacks
    frozen: list[str] = field(default_factory=list)  # node ids

    def summary(self) -> str:
        parts = [f"{len(self.loaded)} tensors loaded"]
        if self.kept_fresh:
            parts.append(f"fresh: {', '.join(self.kept_fresh[:6])}"
                         + (" ..." if len(self.kept_fresh) > 6 else ""))
        if self.unused:
            parts.append(f"{len(self.unused)} in the file unused")
        if self.frozen:
            parts.append(f"frozen: {', '.join(self.frozen)}")
        return "; ".join(parts)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A state_dict from a `.pt` file (plain, or a checkpoint's `state_dict`)."""
    path = Path(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"no weights file {path.name}") from None
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise WeightsError(f"{path.name} cannot be read as weights: {first[:200]}") from None
    if isinstance(data, dict) and isinstance(data.get("state_dict"), dict):
        data = data["state_dict"]
    if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items()):
        raise WeightsError(f"{path.name} holds neither a state_dict nor a checkpoint")
    return data


def resolve_weights_path(graph: Any, base: Path) -> Path | None:
    """The graph's start-weights file, a relative path read from `base` (the graph's folder)."""
    init = getattr(graph, "init", None)
    if init is None or not init.weights:
        return None
    path = Path(init.weights)
    return path if path.is_absolute() else base / path


def apply_start_weights(model: nn.Module, graph: Any, base: Path | None = None,
                        node_attrs: dict[str, str] | None = None) -> StartWeights:
    """Load the graph's start weights into `model` and freeze its frozen nodes."""
    report = StartWeights()
    path = resolve_weights_path(graph, base or Path.cwd())
    if path is not None:
        state = read_state_dict(path)
        own = model.state_dict()
        matched = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
        if not matched:
            raise WeightsError(f"no tensor in {path.name} matches this network's names and "
                               f"shapes (it has e.g. {', '.join(list(state)[:3])})")
        model.load_state_dict(matched, strict=False)
        report.loaded = sorted(matched)
        report.kept_fresh = sorted(set(own) - set(matched))
        report.unused = sorted(set(state) - set(matched))
    attrs = node_attrs if node_attrs is not None else getattr(model, "node_attrs", {})
    for node in graph.nodes:
        if getattr(node, "frozen", False) and node.id in attrs:
            layer_at(model, attrs[node.id]).requires_grad_(False)
            report.frozen.append(node.id)
    return report


def trainable(model: nn.Module) -> list[nn.Parameter]:
    """The parameters an optimizer should update: all but the frozen ones."""
    return [p for p in model.parameters() if p.requires_grad]
