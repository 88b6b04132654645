"""The Parameter node: a learned tensor used directly in `forward`.

ViT's class token and learned positional embedding are tensors, not layers:
`self.class_token = nn.Parameter(torch.zeros(1, 1, 768))`. The node has no
inputs; its `shape` excludes the batch like every shape in the graph, the
tensor is stored with a leading 1, and its value in `forward` is that tensor
expanded over the batch (`self.class_token.expand(x.size(0), -1, -1)`), so it
joins Concat and Add like any other value. Its state_dict key is its name.
"""

from __future__ import annotations

from typing import Any

from .layers import LayerSpec
from .params import Param
from .shapes import Shape

INITS = ("zeros", "ones", "randn")


def _parameter_rule(ins: list[Shape], p: dict[str, Any]) -> Shape:
    return tuple(p["shape"])


PARAMETER = LayerSpec(
    "Parameter", "input",
    "A learned tensor used directly, e.g. ViT's class token or a positional embedding.",
    _parameter_rule, arity=(0, 0),
    params=(Param("shape", "shape", help="Shape without the batch, e.g. [1, 768]"),
            Param("init", "choice", "zeros", "Initial values: zeros, ones, or randn "
                  "(standard normal)", choices=INITS)),
)
