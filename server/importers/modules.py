"""From a live `nn.Module` back to a catalogue node: its type and constructor params.

The params are read off the module's attributes (`Conv2d.kernel_size`,
`Linear.out_features`, whether `bias` is None, ...), then PROVEN: the catalogue
builds a module from them and its `repr` and parameter shapes must equal the
original's. A module whose options the catalogue cannot express (a Conv2d with
`padding_mode="circular"`, say) therefore fails the proof and is reported, never
imported as something subtly different.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import torch
from torch import nn

from server.catalog import LAYERS, REQUIRED, LayerSpec


@functools.cache
def _by_class() -> dict[type, LayerSpec]:
    """Class -> catalogue spec, for the classes the catalogue builds itself (torch.nn's
    and those it imports from elsewhere, such as torchvision.ops.StochasticDepth)."""
    out: dict[type, LayerSpec] = {}
    for spec in LAYERS.values():
        if spec.module is None:
            continue
        try:
            cls = spec.torch_class()
        except (ImportError, AttributeError):
            continue
        out.setdefault(cls, spec)  # PositionalEmbedding is an Embedding too: keep the first
    return out


def spec_for(module: nn.Module) -> LayerSpec | None:
    """The catalogue entry whose class is exactly this module's class, if any."""
    return _by_class().get(type(module))


def is_catalogue(cls: type) -> bool:
    """Whether the catalogue builds this class itself (a layer, never a block)."""
    return cls in _by_class()


def params_of(module: nn.Module, spec: LayerSpec) -> tuple[dict[str, Any] | None, str]:
    """(params, "") when the catalogue rebuilds this module exactly, else (None, why)."""
    params: dict[str, Any] = {}
    for p in spec.params:
        if p.name == "bias" and p.kind == "bool":
            # nn.MultiheadAttention keeps its bias as in_proj_bias
            bias = getattr(module, "bias", getattr(module, "in_proj_bias", None))
            params["bias"] = bias is not None
        elif hasattr(module, p.name):
            params[p.name] = getattr(module, p.name)
    # Params that only a node has (which output an LSTM node returns, a causal mask)
    # take the catalogue's default: a plain module call is what they default to.
    full = {p.name: p.default for p in spec.params
            if p.name not in params and p.default is not REQUIRED} | params
    try:
        with torch.device("meta"):
            rebuilt = spec.build(full)  # the module's own values: (1, 1) stays a tuple
    except (TypeError, ValueError, RuntimeError, KeyError) as exc:
        return None, f"the catalogue cannot build it: {exc}"
    shown = repr(rebuilt)
    if type(rebuilt) is not type(module) and isinstance(rebuilt, type(module)):
        # the catalogue's builder subclass (self-attention) prints under its own name
        shown = shown.replace(type(rebuilt).__name__, type(module).__name__, 1)
    if shown != repr(_without_inplace(module, spec)):
        return None, f"options the catalogue's {spec.type} does not have ({module!r})"
    want = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in rebuilt.state_dict().items()}
    if want != got:
        return None, "its weights differ from the catalogue's"
    return compact({k: _plain(v) for k, v in params.items()}, spec), ""


def _without_inplace(module: nn.Module, spec: LayerSpec) -> nn.Module:
    """`ReLU(inplace=True)` computes what `ReLU()` does: compare without it unless the
    catalogue has the param itself."""
    if getattr(module, "inplace", False) and "inplace" not in {p.name for p in spec.params}:
        module = copy.copy(module)
        module.inplace = False
    return module


def _plain(value: Any) -> Any:
    """Tuples become lists and a pair of equal ints one int, as a person writes them."""
    if isinstance(value, tuple):
        if len(value) > 0 and all(v == value[0] for v in value) and isinstance(value[0], int):
            return value[0]
        return [_plain(v) for v in value]
    return value


def compact(params: dict[str, Any], spec: LayerSpec) -> dict[str, Any]:
    """Drop what equals the catalogue default, so the graph shows only real choices."""
    defaults = {p.name: p.default for p in spec.params}
    by_name = {p.name: p for p in spec.params}
    if "stride" in by_name and by_name["stride"].nullable \
            and params.get("stride") == params.get("kernel_size"):
        params = {k: v for k, v in params.items() if k != "stride"}  # pooling's default
    out = {}
    for name, value in params.items():
        default = defaults.get(name)
        if isinstance(default, tuple):
            default = _plain(default)
        if value == default and type(value) is type(default):
            continue
        out[name] = value
    return out
