"""THE table of datasets: one row per dataset, and the cheap questions answered from it.

Each `DatasetSpec` row says where the data comes from (`family` and `source`),
what it is for (task, kind, description), its params (the catalogue's `Param`,
so the browser builds the same kind of form as for layers) and everything known
without reading data: shapes, class and feature names. `describe_dataset` and
`dataset_catalog` read only this table (plus, for a CSV file or an image
folder, the file's header and labels or the folder's class sub-folders), so
they import neither scikit-learn nor torchvision and stay fast.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from server.catalog.params import Param, check_params, params_schema

from . import seqspecs
from .base import DatasetError, DatasetInfo
from .csvfile import CsvError, read_csv_table


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    # generated | sklearn | sklearn_images (the images are the targets) | torchvision |
    # imagefolder | csv | sequence
    family: str
    task: str | None  # None: decided by the params (csv)
    kind: str  # 2d | tabular | image
    description: str
    params: tuple[Param, ...] = ()
    input_shape: tuple[int, ...] | None = None  # None: decided by the params
    class_names: tuple[str, ...] = ()
    feature_names: tuple[str, ...] = ()
    source: str = ""  # generator function, scikit-learn name or torchvision class
    scale_x: float | str | None = None  # see prep.split_arrays
    standardize_y: bool = False
    target_name: str = "target"  # a regression target's name in previews

    @property
    def image_shape(self) -> tuple[int, ...] | None:
        """One sample's (C, H, W) when the source gives flat rows of an image set, else None."""
        return self.input_shape if self.kind == "image" else None


def _generated_params(noise: float, *extra: Param) -> tuple[Param, ...]:
    return (
        Param("n_samples", "int", 500, "How many points to generate", min=10, max=100_000),
        Param("noise", "float", noise, "Standard deviation of the noise added", min=0, max=2),
        Param("seed", "int", 0, "Seed of the generator: the same seed gives the same points"),
        *extra,
    )


_XY = ("x1", "x2")
_BINARY = ("0", "1")
_DIGITS = tuple(str(d) for d in range(10))
_CANCER = ("radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity",
           "concave points", "symmetry", "fractal dimension")
_WINE = ("alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
         "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
         "od280/od315_of_diluted_wines", "proline")
_FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
            "Bag", "Ankle boot")
_CIFAR = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
          "truck")
_PATH_HELP = "Path of the file on the machine that runs the server"

DATASETS: dict[str, DatasetSpec] = {s.name: s for s in (
    DatasetSpec(
        "spiral", "generated", "classification", "2d",
        "Points on interleaved spiral arms, one arm per class: hard for a linear model.",
        _generated_params(0.05, Param("classes", "choice", 2, "Number of arms", choices=(2, 3))),
        (2,), _BINARY, _XY, "spiral"),
    DatasetSpec(
        "circles", "generated", "classification", "2d",
        "A disc of points inside a ring: the classes are separated by a circle.",
        _generated_params(0.05), (2,), _BINARY, _XY, "circles"),
    DatasetSpec(
        "moons", "generated", "classification", "2d",
        "Two interleaving half-moons of points, one per class.",
        _generated_params(0.1), (2,), _BINARY, _XY, "moons"),
    DatasetSpec(
        "xor", "generated", "classification", "2d",
        "Points in four quadrants, labelled by whether x1 and x2 have opposite signs.",
        _generated_params(0.05), (2,), _BINARY, _XY, "xor"),
    DatasetSpec(
        "gaussian", "generated", "classification", "2d",
        "Two round clouds of points, one per class: a straight line separates them.",
        _generated_params(0.1), (2,), _BINARY, _XY, "gaussian"),
    DatasetSpec(
        "sine", "generated", "regression", "2d",
        "Noisy samples of y = sin(pi x): regression from one input to one output.",
        _generated_params(0.1), (1,), (), ("x",), "sine", target_name="y"),
    DatasetSpec(
        "plane", "generated", "regression", "2d",
        "Noisy samples of a tilted plane over two inputs: the simplest regression.",
        _generated_params(0.05), (2,), (), _XY, "plane", target_name="y"),
    DatasetSpec(
        "iris", "sklearn", "classification", "tabular",
        "150 iris flowers measured four ways, in three species (features standardized).",
        (), (4,), ("setosa", "versicolor", "virginica"),
        ("sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"),
        "iris", scale_x="standardize"),
    DatasetSpec(
        "wine", "sklearn", "classification", "tabular",
        "178 wines from three cultivars described by 13 chemical measurements (standardized).",
        (), (13,), ("class_0", "class_1", "class_2"), _WINE, "wine", scale_x="standardize"),
    DatasetSpec(
        "breast_cancer", "sklearn", "binary", "tabular",
        "569 breast tumours described by 30 measurements, malignant or benign (standardized).",
        (), (30,), ("malignant", "benign"),
        tuple(f"mean {f}" for f in _CANCER) + tuple(f"{f} error" for f in _CANCER)
        + tuple(f"worst {f}" for f in _CANCER),
        "breast_cancer", scale_x="standardize"),
    DatasetSpec(
        "digits", "sklearn", "classification", "image",
        "1797 handwritten digits as 8x8 grey images with pixels scaled to 0..1.",
        (), (1, 8, 8), _DIGITS, (), "digits", scale_x=1 / 16),
    DatasetSpec(
        "digits_images", "sklearn_images", "regression", "image",
        "The 8x8 digits as targets, for networks that output an image (pixels 0..1): "
        "given the image itself (an autoencoder reproduces it) or the digit as a one-hot "
        "(10, 1, 1) tensor (a generator draws it).",
        (Param("given", "choice", "image", "The network's input: the image (autoencoder) or "
               "the digit's class, one-hot (generator)", choices=("image", "label")),),
        (1, 8, 8), (), (), "digits", scale_x=1 / 16),
    DatasetSpec(
        "diabetes", "sklearn", "regression", "tabular",
        "Disease progression of 442 diabetes patients from 10 measurements "
        "(features and target standardized).",
        (), (10,), (), ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"),
        "diabetes", scale_x="standardize", standardize_y=True, target_name="progression"),
    DatasetSpec(
        "mnist", "torchvision", "classification", "image",
        "60000 handwritten digits as 28x28 grey images with pixels scaled to 0..1.",
        (), (1, 28, 28), _DIGITS, (), "MNIST", scale_x=1 / 255),
    DatasetSpec(
        "fashion_mnist", "torchvision", "classification", "image",
        "60000 28x28 grey photos of clothing in ten kinds, pixels scaled to 0..1.",
        (), (1, 28, 28), _FASHION, (), "FashionMNIST", scale_x=1 / 255),
    DatasetSpec(
        "cifar10", "torchvision", "classification", "image",
        "50000 small 32x32 colour photos in ten classes, pixels scaled to 0..1.",
        (), (3, 32, 32), _CIFAR, (), "CIFAR10", scale_x=1 / 255),
    DatasetSpec(
        "imagefolder", "imagefolder", "classification", "image",
        "Your own images: a folder with one sub-folder of pictures per class.",
        (
            Param("path", "str", help="Folder holding one sub-folder per class; " + _PATH_HELP),
            Param("resize", "int", 32, "Images are resized to this many pixels square",
                  min=4, max=512),
            Param("grayscale", "bool", False, "One grey channel instead of three colours"),
            Param("normalize", "bool", False, "Scale pixels to -1..1 instead of 0..1"),
        )),
    DatasetSpec(
        "csv", "csv", None, "tabular",
        "Your own table: a CSV file with a header row, numeric features and a label column.",
        (
            Param("path", "str", help="The CSV file; " + _PATH_HELP),
            Param("label", "str", "", "Name of the label column; empty means the last column"),
            Param("task", "choice", "auto", "auto: text or few whole numbers give classes, "
                  "other numbers regression", choices=("auto", "classification", "binary",
                                                       "regression")),
            Param("text", "str", "", "A column of text to classify (token ids go in, the other "
                  "columns are ignored); empty: numeric features"),
            Param("tokens", "choice", "word", "How text becomes tokens: lower-cased words and "
                  "punctuation, or single characters", choices=("word", "char")),
            Param("max_length", "int", 64, "Tokens kept per text (cut or padded)", min=1,
                  max=1024),
            Param("max_vocab", "int", 5000, "Vocabulary size, padding and unknown included",
                  min=3, max=100_000),
        ),
        scale_x="standardize", standardize_y=True),
    *seqspecs.rows(DatasetSpec),
)}


def get_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        known = ", ".join(DATASETS)
        raise DatasetError(f"unknown dataset {name!r} (known: {known})") from None


def checked_params(spec: DatasetSpec, params: dict[str, Any] | None) -> dict[str, Any]:
    """The params with defaults filled in; DatasetError naming the first bad one."""
    if params is not None and not isinstance(params, dict):
        raise DatasetError(f"the params of {spec.name} must be an object, got {params!r}")
    checked = check_params(spec.params, params or {})
    if checked.errors:
        first = checked.errors[0]
        message = "; ".join(str(e) for e in checked.errors)
        raise DatasetError(f"{spec.name}: {message}", param=first.param)
    values = checked.values
    if "path" in values:
        if not values["path"].strip():
            raise DatasetError(f"{spec.name}: path must not be empty", param="path")
        values["path"] = os.path.expanduser(values["path"])
    return values


def _info(spec: DatasetSpec, task: str, input_shape: tuple[int, ...],
          class_names: list[str], feature_names: list[str]) -> DatasetInfo:
    num_classes = None if task == "regression" else len(class_names)
    target_shape = tuple(spec.input_shape) if spec.family == "sklearn_images" else ()
    width = math.prod(target_shape) if target_shape else _output_width(task, num_classes)
    return DatasetInfo(
        name=spec.name, task=task, kind=spec.kind, input_shape=tuple(input_shape),
        num_classes=num_classes, class_names=list(class_names),
        feature_names=list(feature_names), output_width=width,
        description=spec.description, target_shape=target_shape,
    )


def image_input_shape(spec: DatasetSpec, given: str) -> tuple[int, ...]:
    """A `sklearn_images` set's input: the image, or the one-hot class as (10, 1, 1)."""
    return spec.input_shape if given == "image" else (len(_DIGITS), 1, 1)


def _output_width(task: str | None, num_classes: int | None) -> int | None:
    """What the last layer emits: 1 for regression (every regression set here has a
    single target) and binary, one score per class otherwise; None when unknown."""
    if task == "regression":
        return 1
    if not num_classes:
        return None
    return 1 if task == "binary" else num_classes


def describe_dataset(name: str, params: dict[str, Any] | None = None) -> DatasetInfo:
    """What a dataset with these params looks like, without loading its training data."""
    spec = get_spec(name)
    return describe_spec(spec, checked_params(spec, params))


def describe_spec(spec: DatasetSpec, values: dict[str, Any]) -> DatasetInfo:
    """describe_dataset for a registry row and params already through checked_params."""
    if spec.family == "sequence":
        return seqspecs.describe(spec, values)
    if spec.family == "csv" and values.get("text"):
        _, _, vocab, classes, task, _ = text_table(values)
        return DatasetInfo(
            name=spec.name, task=task, kind="text", input_shape=(values["max_length"],),
            num_classes=len(classes), class_names=list(classes), feature_names=[values["text"]],
            output_width=_output_width(task, len(classes)), description=spec.description,
            input_dtype="long", vocab_size=len(vocab), tokens=values["tokens"],
            token_names=tuple(vocab))
    if spec.family == "csv":
        table = csv_table(values["path"], values["label"], values["task"])
        x, _, features, classes, task, _ = table
        return _info(spec, task, (x.shape[1],), classes, features)
    if spec.family == "imagefolder":
        channels = 1 if values["grayscale"] else 3
        shape = (channels, values["resize"], values["resize"])
        return _info(spec, spec.task, shape, folder_classes(values["path"]), [])
    if spec.family == "sklearn_images":
        return _info(spec, spec.task, image_input_shape(spec, values["given"]), [], [])
    classes = list(spec.class_names)
    if "classes" in values:  # a generated set whose number of classes is a param
        classes = [str(c) for c in range(values["classes"])]
    return _info(spec, spec.task, spec.input_shape, classes, list(spec.feature_names))


def dataset_catalog() -> list[dict[str, Any]]:
    """Every dataset as the browser's palette shows it; read from the table alone."""
    out = []
    for spec in DATASETS.values():
        if spec.family == "sequence":  # shapes and vocabulary follow the default params
            entry = seqspecs.catalog_entry(spec)
            out.append({"name": spec.name, "task": spec.task, "kind": spec.kind,
                        "description": spec.description, "params": params_schema(spec.params),
                        **{k: v for k, v in entry.items() if k not in ("name", "task", "kind")}})
            continue
        shape = spec.input_shape
        if spec.family == "imagefolder":  # the default params' shape, classes come with a path
            shape = (3, 32, 32)
        classes = list(spec.class_names)
        num_classes = None if spec.task in (None, "regression") else len(classes) or None
        out.append({
            "name": spec.name,
            "task": spec.task,
            "kind": spec.kind,
            "description": spec.description,
            "params": params_schema(spec.params),
            "input_shape": list(shape) if shape else None,
            "num_classes": num_classes,
            "class_names": classes,
            "feature_names": list(spec.feature_names),
            "output_width": (math.prod(shape) if spec.family == "sklearn_images"
                             else _output_width(spec.task, num_classes)),
            **({"target_shape": list(shape)} if spec.family == "sklearn_images" else {}),
        })
    return out


def folder_classes(path: str) -> list[str]:
    """The class names ImageFolder will find: the sorted names of the sub-folders."""
    try:
        entries = list(os.scandir(path))
    except FileNotFoundError:
        raise DatasetError(f"no such folder: {path}", param="path") from None
    except NotADirectoryError:
        raise DatasetError(f"{path} is a file; give a folder of class sub-folders",
                           param="path") from None
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror}", param="path") from None
    classes = sorted(e.name for e in entries if e.is_dir())
    if not classes:
        raise DatasetError(f"{path} has no sub-folders; put each class's images in its own "
                           "sub-folder", param="path")
    return classes


def csv_table(path: str, label: str, task: str):
    """read_csv_table, cached while the file is unchanged, with user-facing errors."""
    try:
        stat = os.stat(path)
    except OSError:
        raise DatasetError(f"no such file: {path}", param="path") from None
    return _csv_cached(os.path.realpath(path), stat.st_mtime_ns, stat.st_size, label, task)


def text_table(values: dict[str, Any]):
    """read_text_table for checked csv params with a `text` column, cached like csv_table."""
    path = values["path"]
    try:
        stat = os.stat(path)
    except OSError:
        raise DatasetError(f"no such file: {path}", param="path") from None
    return _text_cached(os.path.realpath(path), stat.st_mtime_ns, stat.st_size, values["text"],
                        values["label"], values["task"], values["tokens"],
                        values["max_length"], values["max_vocab"])


@lru_cache(maxsize=4)
def _text_cached(path: str, _mtime: int, _size: int, *args: Any):
    from .textfile import read_text_table

    try:
        x, y, vocab, classes, task, label = read_text_table(path, *args)
    except CsvError as exc:
        raise DatasetError(str(exc), param=exc.param) from None
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror}", param="path") from None
    x.flags.writeable = y.flags.writeable = False
    return x, y, tuple(vocab), tuple(classes), task, label


@lru_cache(maxsize=4)
def _csv_cached(path: str, _mtime: int, _size: int, label: str, task: str):
    try:
        x, y, features, classes, task, label = read_csv_table(path, label, task)
    except CsvError as exc:
        raise DatasetError(str(exc), param=exc.param) from None
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror}", param="path") from None
    x.flags.writeable = y.flags.writeable = False  # shared by every caller of the cache
    return x, y, features, classes, task, label
