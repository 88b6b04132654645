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
from typing import Any

import torch
from torch import nn

from server.catalog import LAYERS, REQUIRED, LayerSpec

# nn class -> catalogue spec, for the classes the catalogue builds itself.
_BY_CLASS: dict[type, LayerSpec] = {
    getattr(nn, spec.module): spec for spec in LAYERS.values()
    if spec.module is not None and hasattr(nn, spec.module)
}


def spec_for(module: nn.Module) -> LayerSpec | None:
    """The catalogue entry whose class is exactly this module's class, if any."""
    return _BY_CLASS.get(type(module))


def params_of(module: nn.Module, spec: LayerSpec) -> tuple[dict[str, Any] | None, str]:
    """(params, "") when the catalogue rebuilds this module exactly, else (None, why)."""
    params: dict[str, Any] = {}
    for p in spec.params:
        if p.name == "bias" and p.kind == "bool":
            params["bias"] = getattr(module, "bias", None) is not None
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
    if repr(rebuilt) != repr(_without_inplace(module, spec)):
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
