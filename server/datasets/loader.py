"""Loading a dataset for training and previewing a few of its samples.

`load_dataset` turns a registry row into training and validation data: every
set that fits in memory (generated, scikit-learn, CSV and the three torchvision
sets, held as tensors) goes through `prep.split_arrays`, an image folder
becomes two `Subset`s of one `ImageFolder` for a DataLoader with workers. The
split and the scaling are the ones exported scripts paste in, so a script
reproduces the run's data. scikit-learn and torchvision are imported here only
when such a set is asked for.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Subset

from . import generated, prep, sequences
from .base import DatasetError, LoadedData
from .policy import downloads_allowed
from .registry import DatasetSpec, checked_params, csv_table, describe_spec, get_spec, text_table

PREVIEW_POINTS = 300  # points in a 2-D preview: enough to see the shape, small as JSON


def load_dataset(name: str, params: dict[str, Any] | None, *, val_fraction: float,
                 seed: int | None, root: str | Path | None = None) -> LoadedData:
    """Load and split a dataset; `root` overrides the torchvision data folder."""
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, int | float) \
            or not 0 <= val_fraction < 1:
        raise DatasetError(f"val_fraction must be at least 0 and below 1, got {val_fraction!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise DatasetError(f"seed must be a whole number of 0 or more, or null, got {seed!r}")
    spec = get_spec(name)
    values = checked_params(spec, params)
    info = describe_spec(spec, values)
    if spec.family == "imagefolder":
        from .vision import image_folder

        ds = _image_folder(image_folder, values)
        train, val = prep.split_indices(len(ds), val_fraction, seed)
        return LoadedData(info, train_set=Subset(ds, train.tolist()),
                          val_set=Subset(ds, val.tolist()))
    x, y = source_arrays(spec, values, root)
    vocab = list(info.token_names) if info.tokens else None
    if spec.family == "sequence" or info.input_dtype == "long":
        x_train, y_train, x_val, y_val = prep.split_sequences(x, y, val_fraction, seed)
        return LoadedData(info, x_train, y_train, x_val, y_val, vocab=vocab)
    standardize_y = spec.standardize_y and info.task == "regression"
    scale_x = None if spec.family == "sklearn_images" else spec.scale_x  # scaled at the source
    x_train, y_train, x_val, y_val, y_mean, y_std = prep.split_arrays(
        x, y, val_fraction, seed, scale_x=scale_x, standardize_y=standardize_y)
    return LoadedData(info, x_train, y_train, x_val, y_val,
                      target_mean=y_mean, target_std=y_std)


def source_arrays(spec: DatasetSpec, values: dict[str, Any],
                  root: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The raw (x, y) arrays of an in-memory dataset, before splitting and scaling."""
    if spec.family == "generated":
        fn = getattr(generated, spec.source)
        return fn(**values)
    if spec.family == "sequence":
        return getattr(sequences, spec.source)(**values)
    if spec.family == "sklearn":
        from .tabular import sklearn_arrays

        return sklearn_arrays(spec.source, spec.image_shape)
    if spec.family == "sklearn_images":
        from .tabular import sklearn_image_targets

        return sklearn_image_targets(spec.source, spec.input_shape, spec.scale_x,
                                     values["given"])
    if spec.family == "csv" and values.get("text"):
        x, y, *_ = text_table(values)
        return x, y
    if spec.family == "csv":
        x, y, *_ = csv_table(values["path"], values["label"], values["task"])
        return x, y
    if spec.family == "torchvision":
        return _torchvision(spec, root)
    raise AssertionError(spec.family)


def _expected_files(spec: DatasetSpec, root: str | Path) -> tuple[Path, list[str]]:
    """The folder a torchvision set is read from and the files it must hold there."""
    import torchvision.datasets

    cls = getattr(torchvision.datasets, spec.source)
    if hasattr(cls, "resources"):  # MNIST family: unpacked idx files under <Class>/raw
        return (Path(root) / spec.source / "raw",
                [Path(url).name.removesuffix(".gz") for url, _ in cls.resources])
    # CIFAR: pickled batches
    return (Path(root) / cls.base_folder,
            [f for f, _ in cls.train_list + cls.test_list] + [cls.meta["filename"]])


def unavailable(name: str, root: str | Path | None = None) -> str | None:
    """None when the dataset can be read here now; else how to get it, in words.

    Generated and scikit-learn sets are always here; a torchvision set (MNIST, ...)
    only once its files are on disk. It is never downloaded behind the user's back
    when a run starts: an offline server would only fail later, with file paths.
    """
    spec = get_spec(name)
    if spec.family != "torchvision":
        return None
    from .vision import default_data_root

    root = Path(root if root is not None else default_data_root())
    folder, files = _expected_files(spec, root)
    if all((folder / f).is_file() for f in files):
        return None
    return (f"{name} is not downloaded on this server. Download it once, with network access: "
            f"`torchcanvas download {name}`; or copy its files ({', '.join(files)}) into "
            f"{folder.relative_to(root).as_posix()}/ in the server's data folder "
            "($TORCHCANVAS_DATA).")


def download(name: str, root: str | Path | None = None) -> str:
    """Fetch a torchvision set into the data folder; returns where it is."""
    spec = get_spec(name)
    if spec.family != "torchvision":
        return f"{name} needs no download: it is generated or ships with scikit-learn"
    from .vision import default_data_root

    root = str(root if root is not None else default_data_root())
    _torchvision(spec, root)
    return f"{name} is in {_expected_files(spec, root)[0]}"


def _torchvision(spec: DatasetSpec, root: str | Path | None):
    from .vision import default_data_root, torchvision_arrays

    root = str(root if root is not None else default_data_root())
    if not downloads_allowed.get():
        folder, files = _expected_files(spec, root)
        if not all((folder / f).is_file() for f in files):
            raise DatasetError(
                f"{spec.name} is not on this server yet, and the server never downloads "
                f"while answering a request. Download it once on the server's machine with "
                f"`torchcanvas download {spec.name}` (or put its files ({', '.join(files)}) "
                "in the folder TORCHCANVAS_DATA names), then try again.", param=None)
    try:
        return torchvision_arrays(spec.source, root)
    except Exception as exc:  # no network, a partial download, a corrupt file: all say where
        folder, files = _expected_files(spec, root)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatasetError(
            f"{spec.name} is not in {folder} and could not be downloaded ({reason}). "
            f"Put its files ({', '.join(files)}) in that folder, or set TORCHCANVAS_DATA "
            "to a folder that has them.", param=None) from exc


def _image_folder(image_folder, values: dict[str, Any], normalize: bool | None = None):
    try:
        return image_folder(values["path"], values["resize"], values["grayscale"],
                            values["normalize"] if normalize is None else normalize)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise DatasetError(str(exc), param="path") from None


def preview_dataset(name: str, params: dict[str, Any] | None = None, n: int = 16,
                    root: str | Path | None = None) -> dict[str, Any]:
    """A small JSON-able look at a dataset: points, images or table rows, plus its info.

    2-D sets give up to PREVIEW_POINTS `[x1, x2, label]` points (`[x, y]` for
    sine); image sets give `n` images as nested lists (C, H, W) of pixels in
    0..1 with their labels; tables give the column names and the first `n` rows
    with values as in the file.
    """
    spec = get_spec(name)
    values = checked_params(spec, params)
    info = describe_spec(spec, values)
    out: dict[str, Any] = info.to_dict()
    n = max(1, min(int(n), 256))
    if spec.family == "imagefolder":
        from .vision import image_folder

        ds = _image_folder(image_folder, values, normalize=False)
        picks = _spread(len(ds), n)
        samples = [ds[i] for i in picks]
        out["images"] = [_round(img.numpy()) for img, _ in samples]
        out["labels"] = [int(label) for _, label in samples]
        return out
    if spec.family == "sklearn_images":  # the images the network learns to output
        from .tabular import sklearn_arrays

        x, y = sklearn_arrays(spec.source, spec.input_shape)
        picks = _spread(len(x), n)
        out["images"] = [_round(x[i] * spec.scale_x) for i in picks]
        out["labels"] = [int(y[i]) for i in picks]
        return out
    x, y = source_arrays(spec, values, root)
    if spec.family == "sequence" or info.input_dtype == "long":
        out["columns"] = ["input", "target"]
        out["rows"] = [[show_sequence(x[i], info), show_target(y[i], info)]
                       for i in range(min(n, len(x)))]
        return out
    if spec.kind == "2d":
        picks = _spread(len(x), PREVIEW_POINTS)
        if info.task == "regression":
            out["points"] = [[_num(v) for v in [*x[i], *y[i]]] for i in picks]
        else:
            out["points"] = [[_num(v) for v in x[i]] + [int(y[i])] for i in picks]
        return out
    if spec.kind == "image":
        picks = _spread(len(x), n)
        scale = float(spec.scale_x) if isinstance(spec.scale_x, float) else 1.0
        out["images"] = [_round(x[i].astype(np.float64) * scale) for i in picks]
        out["labels"] = [int(y[i]) for i in picks]
        return out
    if spec.family == "csv":
        target = csv_table(values["path"], values["label"], values["task"])[-1]
    else:
        target = "class" if info.task != "regression" else spec.target_name
    out["columns"] = list(info.feature_names) + [target]
    rows = []
    for i in range(min(n, len(x))):
        label = y[i]
        if info.task == "regression":
            shown: Any = _num(float(label.reshape(-1)[0]))
        else:
            shown = info.class_names[int(label)]
        rows.append([_num(v) for v in x[i].tolist()] + [shown])
    out["rows"] = rows
    return out


def show_sequence(ids: np.ndarray, info: Any) -> str | list:
    """One sample as text: tokens joined (characters) or spaced (words); floats rounded."""
    if info.input_count > 1 and ids.ndim > 1:  # several inputs stacked in dim 0 of a sample
        return "  |  ".join(show_sequence(row, info) for row in ids)
    if info.input_dtype != "long":
        return [_num(float(v)) for v in ids.reshape(-1)]
    names = info.token_names
    if not names:
        return " ".join(str(int(i)) for i in ids)
    sep = " " if info.tokens == "word" else ""
    return sep.join(names[int(i)] if 0 <= int(i) < len(names) else "?" for i in ids)


def show_target(y: np.ndarray, info: Any) -> Any:
    if info.task == "regression":
        return [_num(float(v)) for v in np.asarray(y).reshape(-1)]
    if info.per_token:
        return "".join(info.class_names[int(i)] for i in y)
    return info.class_names[int(y)]


def _spread(total: int, n: int) -> list[int]:
    """n indices spread evenly over range(total), so a preview shows more than the first class."""
    if total <= n:
        return list(range(total))
    return np.linspace(0, total - 1, n).round().astype(int).tolist()


def _round(a: np.ndarray) -> list:
    return np.round(a, 3).tolist()


def _num(v: float) -> float | None:
    return round(v, 4) if math.isfinite(v) else None
