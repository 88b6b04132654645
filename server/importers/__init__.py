"""Import models into the canvas: a PyTorch class, a torchvision architecture, an ONNX file.

`import_source("model.py:Net", ...)` runs the user's file (so only the CLI, on
the user's own machine, ever does it), `import_source("torchvision:resnet18")`
builds the installed torchvision's class without downloading weights, and
`import_source("model.onnx")` reads an ONNX graph with its weights. Each gives an
`ImportResult`: a graph v1 dict plus its `state_dict`, or raises `ImportFailed`
naming every operation that has no catalogue node.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import json
import sys
from pathlib import Path
from typing import Any

from .result import ImportFailed, ImportResult, Unmapped

__all__ = ["ImportFailed", "ImportResult", "Unmapped", "import_source", "torchvision_models"]

DEFAULT_IMAGE_SHAPE = [3, 224, 224]


def import_source(source: str, args: dict[str, Any] | None = None,
                  input_shape: list[int] | None = None, partial: bool = False) -> ImportResult:
    """Dispatch on the source's form: `torchvision:NAME`, `FILE.onnx` or `FILE.py:Class`."""
    if source.startswith("torchvision:"):
        model = _torchvision_model(source.split(":", 1)[1], args or {})
        from .fx_trace import import_module

        return import_module(model, input_shape or DEFAULT_IMAGE_SHAPE,
                             name=source.split(":", 1)[1], partial=partial)
    if source.endswith(".onnx"):
        from .onnx_file import import_onnx

        return import_onnx(Path(source), partial=partial)
    path, _, cls = source.rpartition(":")
    if not path.endswith(".py") or not cls:
        raise ImportFailed(f"cannot tell what {source!r} is: give FILE.py:ClassName, "
                           f"torchvision:NAME or FILE.onnx")
    if input_shape is None:
        raise ImportFailed("importing a Python class needs --input-shape (e.g. 1,28,28)")
    model = _python_model(Path(path), cls, args or {})
    from .fx_trace import import_module

    return import_module(model, input_shape, name=cls, partial=partial)


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
    return models.get_model(name, weights=None, **args)


def _python_model(path: Path, cls: str, args: dict[str, Any]) -> Any:
    """Run the user's file (their own code, on their own machine) and build `cls(**args)`."""
    if not path.is_file():
        raise ImportFailed(f"no such file: {path}")
    module_name = f"torchcanvas_import_{path.stem}"
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
