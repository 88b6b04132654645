"""Import models into the canvas: a PyTorch class, a torchvision architecture, an ONNX file.

`import_source("model.py:Net", ...)` runs the user's file (so only the CLI, on
the user's own machine, ever does it), `import_source("torchvision:resnet18")`
builds the installed torchvision's class without downloading weights, and
`import_source("model.onnx")` reads an ONNX graph with its weights. Each gives an
`ImportResult`: a graph v1 dict plus its `state_dict`, or raises `ImportFailed`
naming every operation that has no catalogue node.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import inspect
import json
import sys
from pathlib import Path
from typing import Any

import torch

from server.validation import Limits

from .folding import USER_MODULE_PREFIX
from .inputs import InputSpec, input_specs
from .result import ImportFailed, ImportResult, Unmapped

__all__ = ["ImportFailed", "ImportResult", "InputSpec", "Unmapped", "import_source",
           "torchvision_models"]

DEFAULT_IMAGE_SHAPE = [3, 224, 224]


def import_source(source: str, args: dict[str, Any] | None = None,
                  input_shape: list[int] | list[list[int]] | None = None, partial: bool = False,
                  weights: str | Path | None = None, input_dtype: list[str] | None = None,
                  vocab: list[int] | None = None, blocks: bool = True) -> ImportResult:
    """Dispatch on the source's form: `torchvision:NAME`, `FILE.onnx` or `FILE.py:Class`.

    `input_shape` is one sample's shape, or a list of them, one per forward()
    argument; `input_dtype` ("float" or "long" token ids) and `vocab` (the ids'
    bound) hold one value for every input or one each (see inputs.py: without
    them an input read by an Embedding is ids). `weights` names a state_dict of the
    original model (torchvision's pretrained weights saved with `torch.save`, say),
    loaded strictly before the import copies the weights under the graph's own names.
    `blocks` folds each submodule class of a PyTorch model into a block (see
    `folding`); ONNX graphs import flat."""
    if source.startswith("torchvision:"):
        model = _torchvision_model(source.split(":", 1)[1], args or {})
        _load_original(model, weights)
        from .fx_trace import import_module

        return import_module(model, input_specs(input_shape or DEFAULT_IMAGE_SHAPE,
                                                input_dtype, vocab),
                             name=source.split(":", 1)[1], partial=partial, blocks=blocks)
    if source.endswith(".onnx"):
        if weights is not None:
            raise ImportFailed("an ONNX file carries its own weights: drop --weights")
        from .onnx_file import import_onnx

        return import_onnx(Path(source), partial=partial)
    path, _, cls = source.rpartition(":")
    if not path.endswith(".py") or not cls:
        raise ImportFailed(f"cannot tell what {source!r} is: give FILE.py:ClassName, "
                           f"torchvision:NAME or FILE.onnx")
    if input_shape is None:
        raise ImportFailed("importing a Python class needs --input-shape (e.g. 1,28,28)")
    inputs = input_specs(input_shape, input_dtype, vocab)  # checked before the file runs
    model = _python_model(Path(path), cls, args or {})
    _load_original(model, weights)
    from .fx_trace import import_module

    return import_module(model, inputs, name=cls, partial=partial, blocks=blocks)


@functools.cache
def torchvision_models() -> list[str]:
    """The classification architectures the installed torchvision can build."""
    from torchvision import models

    return sorted(models.list_models(module=models))


def _torchvision_model(name: str, args: dict[str, Any]) -> Any:
    from torchvision import models

    if name not in torchvision_models():
        raise ImportFailed(f"torchvision has no classification model {name!r}; "
                           f"try one of: {', '.join(torchvision_models()[:8])}, ...")
    if args.get("weights") not in (None,):
        raise ImportFailed("pretrained weights cannot be downloaded here: import the "
                           "architecture, then export with --weights FILE.pt")
    count = _count_parameters(name, args)
    limit = Limits.from_env().max_params
    if count > limit:
        raise ImportFailed(f"torchvision:{name} has {count:,} parameters, over the limit of "
                           f"{limit:,} (TORCHCANVAS_MAX_PARAMS)")
    try:
        return models.get_model(name, weights=None, **args)
    except (TypeError, ValueError) as exc:
        raise ImportFailed(f"torchvision:{name}(**{json.dumps(args)}) failed: {exc}") from None


def _load_original(model: Any, weights: str | Path | None) -> None:
    """The original model's own state_dict (weights_only), every key and shape matching."""
    if weights is None:
        return
    from server.weights import WeightsError, read_state_dict

    try:
        state = read_state_dict(weights)
    except WeightsError as exc:
        raise ImportFailed(str(exc)) from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise ImportFailed(f"{Path(weights).name} does not fit {type(model).__name__}: "
                           f"{' '.join(line.strip() for line in first[:3])[:400]}") from None


def _count_parameters(name: str, args: dict[str, Any]) -> int:
    return _count_cached(name, json.dumps(args, sort_keys=True))


@functools.lru_cache(maxsize=64)
def _count_cached(name: str, args_json: str) -> int:
    """Parameters of a torchvision model, counted without initialising any weight.

    On the meta device building costs nothing, so a model over the limit (vit_h_14:
    632 M parameters) is refused before gigabytes are allocated and filled; a builder
    that computes with tensors (RegNet's widths) is built on the CPU without init."""
    from torchvision import models

    args = json.loads(args_json)
    try:
        with torch.device("meta"), _without_init():
            model = models.get_model(name, weights=None, **args)
    except (TypeError, ValueError) as exc:
        raise ImportFailed(f"torchvision:{name}(**{json.dumps(args)}) failed: {exc}") from None
    except Exception:
        with _without_init():
            model = models.get_model(name, weights=None, **args)
    return sum(p.numel() for p in model.parameters())


@contextlib.contextmanager
def _without_init():
    """torch.nn.init's fill functions do nothing inside (the weights stay uninitialised)."""
    from torch.nn import init

    names = [n for n in dir(init) if n.endswith("_") and not n.startswith("_")]
    saved = {n: getattr(init, n) for n in names}
    try:
        for n in names:
            setattr(init, n, lambda tensor, *a, **k: tensor)
        yield
    finally:
        for n, f in saved.items():
            setattr(init, n, f)


def _python_model(path: Path, cls: str, args: dict[str, Any]) -> Any:
    """Run the user's file (their own code, on their own machine) and build `cls(**args)`."""
    if not path.is_file():
        raise ImportFailed(f"no such file: {path}")
    module_name = f"{USER_MODULE_PREFIX}{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look themselves up here
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ImportFailed(f"running {path} failed: {type(exc).__name__}: {exc}") from None
    finally:
        sys.modules.pop(module_name, None)
    target = getattr(module, cls, None)
    if not inspect.isclass(target):
        raise ImportFailed(f"{path} defines no class {cls!r}")
    try:
        return target(**args)
    except TypeError as exc:
        raise ImportFailed(f"{cls}(**{json.dumps(args)}) failed: {exc}") from None
