"""The data part of an exported training script: `load_data(val_fraction, seed)` as text.

The script must rebuild exactly the data a run trained on without importing
torchcanvas, so instead of writing the loaders a second time this module pastes
the real ones (`inspect.getsource`) together with everything they use: helper
functions, constants and exception classes from this package, and one import
line per module they reference, derived from their globals as torch.fx derives
a graph's imports. Only the call in `load_data` is written here, with every
user-given value as a `repr()` literal.
"""

from __future__ import annotations

import inspect
import os
import textwrap
import types
from typing import Any

from . import csvfile, generated, prep, sequences, textfile
from .registry import DatasetSpec, checked_params, get_spec

PACKAGE = __name__.rpartition(".")[0]  # objects from here are pasted, not imported


def script_source(name: str, params: dict[str, Any] | None = None,
                  path_argument: bool = False) -> str:
    """Python source defining `load_data(val_fraction, seed) -> (train_set, val_set)`.

    With `path_argument`, a dataset read from a file (csv, imagefolder) gets
    `load_data(val_fraction, seed, path=<the file's name>)`: an exported script
    then names the user's file, not where the server keeps it, and takes the
    real location from its command line (`--data`).
    """
    spec = get_spec(name)
    values = checked_params(spec, params)
    body, helpers, imports = _load_data_body(spec, values, path_argument)
    pasted: dict[str, str] = {}
    for fn in helpers:
        _paste(fn, pasted, imports)
    lines = [f"# ---- data: {spec.name} " + "-" * max(3, 70 - len(spec.name))]
    lines += sorted(imports, key=lambda line: (line.startswith("from"), line))
    constants = [text for key, text in pasted.items() if key.isupper()]
    blocks = [text for key, text in pasted.items() if not key.isupper()]
    if constants:
        lines += ["", *constants]
    lines += ["", ""]
    lines.append("\n\n\n".join(blocks))
    default = data_file_name(name, params) if path_argument else None
    path_param = f", path={default!r}" if default is not None else ""
    lines += ["", "", f"def load_data(val_fraction, seed{path_param}):"]
    lines.append(f'    """{spec.name} as (train_set, val_set), split by val_fraction and seed.')
    lines.append("")
    lines.append(textwrap.fill(spec.description, 96, initial_indent="    ",
                               subsequent_indent="    "))
    lines.append('    """')
    lines += ["    " + line for statement in body for line in statement.split("\n")]
    return "\n".join(lines) + "\n"


def data_file_name(name: str, params: dict[str, Any] | None = None) -> str | None:
    """The file (or folder) name a file-backed dataset reads, without its directory."""
    spec = get_spec(name)
    if spec.family not in ("csv", "imagefolder"):
        return None
    return os.path.basename(os.path.normpath(checked_params(spec, params)["path"]))


def _load_data_body(spec: DatasetSpec, values: dict[str, Any], path_argument: bool = False):
    """load_data's statements, the helpers they call and the imports they need."""
    tensors = ["from torch.utils.data import TensorDataset"]
    split = ("x_train, y_train, x_val, y_val, _, _ = split_arrays(\n"
             f"    x, y, val_fraction, seed, scale_x={spec.scale_x!r}, standardize_y={{}}\n)")
    ret = "return TensorDataset(x_train, y_train), TensorDataset(x_val, y_val)"
    if spec.family == "generated":
        fn = getattr(generated, spec.source)
        args = ", ".join(f"{k}={v!r}" for k, v in values.items())
        body = [f"x, y = {fn.__name__}({args})", split.format(spec.standardize_y), ret]
        return body, [fn, prep.split_arrays], set(tensors)
    if spec.family == "sequence":
        fn = getattr(sequences, spec.source)
        args = ", ".join(f"{k}={v!r}" for k, v in values.items())
        body = [f"x, y = {fn.__name__}({args})",
                "x_train, y_train, x_val, y_val = split_sequences(x, y, val_fraction, seed)", ret]
        return body, [fn, prep.split_sequences], set(tensors)
    if spec.family == "sklearn":
        from . import tabular  # scikit-learn is slow to import: only when asked for

        body = [f"x, y = sklearn_arrays({spec.source!r}, {spec.image_shape!r})",
                split.format(spec.standardize_y), ret]
        return body, [tabular.sklearn_arrays, prep.split_arrays], set(tensors)
    if spec.family == "sklearn_images":
        from . import tabular

        body = [f"x, y = sklearn_image_targets({spec.source!r}, {spec.input_shape!r}, "
                f"{spec.scale_x!r}, {values['given']!r})",
                "# y: each image, flat, the target the output is compared with",
                split.replace(f"scale_x={spec.scale_x!r}", "scale_x=None").format(False), ret]
        return body, [tabular.sklearn_image_targets, prep.split_arrays], set(tensors)
    from . import vision  # torchvision, likewise

    if spec.family == "torchvision":
        body = [f"x, y = torchvision_arrays({spec.source!r}, default_data_root())",
                "# x: uint8 (N, C, H, W), scaled to 0..1 after the split",
                split.format(False), ret]
        helpers = [vision.default_data_root, vision.torchvision_arrays, prep.split_arrays]
        return body, helpers, set(tensors)
    # The script's own `path` argument, or the file's full path as a literal.
    path = "path" if path_argument else repr(os.path.abspath(values["path"]))
    if spec.family == "csv" and values.get("text"):
        args = ", ".join(repr(values[k]) for k in ("text", "label", "task", "tokens",
                                                      "max_length", "max_vocab"))
        body = [f"x, y, vocab, _, _, _ = read_text_table({path}, {args})",
                "# vocab[i] is the token of id i: encode_text(text, vocab, ...) for new texts",
                "x_train, y_train, x_val, y_val = split_sequences(x, y, val_fraction, seed)", ret]
        return body, [textfile.read_text_table, prep.split_sequences], set(tensors)
    if spec.family == "csv":
        body = [f"x, y, _, _, task, _ = read_csv_table({path}, {values['label']!r}, "
                f"{values['task']!r})",
                split.format('task == "regression"'), ret]
        return body, [csvfile.read_csv_table, prep.split_arrays], set(tensors)
    if spec.family == "imagefolder":
        body = [f"ds = image_folder({path}, {values['resize']!r}, {values['grayscale']!r}, "
                f"{values['normalize']!r})",
                "train, val = split_indices(len(ds), val_fraction, seed)",
                "return Subset(ds, train.tolist()), Subset(ds, val.tolist())"]
        imports = {"from torch.utils.data import Subset"}
        return body, [vision.image_folder, prep.split_indices], imports
    raise AssertionError(spec.family)


def _paste(obj: Any, pasted: dict[str, str], imports: set[str]) -> None:
    """Add obj's source to `pasted` after whatever of ours it uses; collect its imports."""
    if obj.__name__ in pasted:
        return
    pasted[obj.__name__] = ""  # reserve: guards against cycles
    globals_ = _module_globals(obj)
    for name in sorted(_names_used(obj)):
        if name not in globals_:
            continue  # a builtin, a local or an attribute name
        value = globals_[name]
        if isinstance(value, types.ModuleType):
            imports.add(_import_line(name, value))
        elif inspect.isfunction(value) or inspect.isclass(value):
            if value.__module__.startswith(PACKAGE + "."):
                _paste(value, pasted, imports)
            else:
                imports.add(f"from {value.__module__} import {name}")
        elif name.isupper() and (isinstance(value, int | float | str) or isinstance(
                value, tuple) and all(isinstance(v, str) for v in value)):
            constant = f"{name} = {value!r}"
            pasted.setdefault(name, constant)
        else:
            raise AssertionError(f"{obj.__name__} uses {name!r}, which cannot be pasted")
    del pasted[obj.__name__]  # re-insert so it follows what it uses
    pasted[obj.__name__] = inspect.getsource(obj).rstrip()


def _module_globals(obj: Any) -> dict[str, Any]:
    import sys

    return vars(sys.modules[obj.__module__])


def _names_used(obj: Any) -> set[str]:
    """Global names read by a function's code (or by a class's methods), nested code too."""
    if inspect.isclass(obj):
        names = {b.__name__ for b in obj.__bases__ if b.__module__.startswith(PACKAGE)}
        for member in vars(obj).values():
            if inspect.isfunction(member):
                names |= _names_used(member)
        return names
    names: set[str] = set()
    todo = [obj.__code__]
    while todo:
        code = todo.pop()
        names.update(code.co_names)
        todo += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return names


def _import_line(name: str, module: types.ModuleType) -> str:
    parent, _, child = module.__name__.rpartition(".")
    if parent:
        return f"from {parent} import {child}" + (f" as {name}" if name != child else "")
    return f"import {module.__name__}" + (f" as {name}" if name != module.__name__ else "")
