"""The catalogue families kept in their own files, gathered for `layers.LAYERS`.

Each family file holds entries of one kind; this module only joins them, in
palette order, and refuses a type defined twice.
"""

from __future__ import annotations

from .attention import ATTENTION_OPS
from .generative import GENERATIVE_LAYERS
from .layers import LayerSpec
from .more_layers import MORE_LAYERS
from .sequence import SEQUENCE_LAYERS
from .tensor_ops import TENSOR_OPS

EXTRA_LAYERS: dict[str, LayerSpec] = {}
for _spec in [*MORE_LAYERS, *SEQUENCE_LAYERS, *GENERATIVE_LAYERS, *TENSOR_OPS,
              *ATTENTION_OPS]:
    assert _spec.type not in EXTRA_LAYERS, _spec.type
    EXTRA_LAYERS[_spec.type] = _spec
