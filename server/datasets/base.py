"""The shapes every dataset is handed around in: its description, its loaded data, its error.

`DatasetInfo` is what the validator and the browser need to know about a
dataset before any data is read (shapes, classes, what the last layer must
emit); `LoadedData` is what the trainer gets; `DatasetError` is the one error
any of this raises, with a message meant for the person who picked the dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import Dataset

TASKS = ("classification", "binary", "regression")
KINDS = ("2d", "tabular", "image", "sequence", "text")


class DatasetError(ValueError):
    """A dataset that cannot be described or loaded; `param` names the parameter at fault."""

    def __init__(self, message: str, param: str | None = None):
        self.param = param
        super().__init__(message)


@dataclass(frozen=True)
class DatasetInfo:
    """What is known about a dataset with given params, without its training data."""

    name: str
    task: str  # one of TASKS
    kind: str  # one of KINDS
    input_shape: tuple[int, ...]  # one sample, no batch dimension
    num_classes: int | None  # None for regression; 2 for binary
    class_names: list[str]
    feature_names: list[str]
    output_width: int  # classes for classification, 1 for binary, target width for regression
    description: str
    # Sequences and text: "long" when samples are token ids, and the ids' exclusive bound.
    input_dtype: str = "float"
    vocab_size: int | None = None
    # One label per sample: (); one per position (reverse, language models): (T,);
    # an image, (C, H, W), when the targets are images (digits_images).
    target_shape: tuple[int, ...] = ()
    # How typed text becomes ids ("char" or "word"), and each id's text (not sent to the
    # browser: a word vocabulary can be long); None where samples are not text.
    tokens: str | None = None
    token_names: tuple[str, ...] = ()
    language_model: bool = False  # predicts the next token: Try-it samples a continuation
    # Tensors per sample, each shaped input_shape: x holds them stacked in dim 1, and they
    # feed the graph's Inputs in order (a Siamese pair: 2).
    input_count: int = 1

    @property
    def per_token(self) -> bool:
        """Whether the targets hold one class per position (a (N, T) label tensor)."""
        return len(self.target_shape) > 0 and self.task != "regression"

    @property
    def image_targets(self) -> bool:
        """Whether the targets are images (C, H, W): the output must have that shape."""
        return len(self.target_shape) == 3 and self.task == "regression"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy (tuples become lists)."""
        return {
            "name": self.name,
            "task": self.task,
            "kind": self.kind,
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "class_names": list(self.class_names),
            "feature_names": list(self.feature_names),
            "output_width": self.output_width,
            "description": self.description,
            "input_dtype": self.input_dtype,
            "vocab_size": self.vocab_size,
            "target_shape": list(self.target_shape),
            "tokens": self.tokens,
            "language_model": self.language_model,
            "input_count": self.input_count,
        }


@dataclass
class LoadedData:
    """A dataset split into training and validation parts.

    Either the four tensors are set (the set fits in memory and is batched by
    indexing: features float32, labels int64 for classification and binary,
    targets float32 `(N, k)` for regression) or `train_set`/`val_set` are
    `torch.utils.data.Dataset`s meant for a `DataLoader` with workers.
    """

    info: DatasetInfo
    x_train: torch.Tensor | None = None
    y_train: torch.Tensor | None = None
    x_val: torch.Tensor | None = None
    y_val: torch.Tensor | None = None
    train_set: Dataset | None = None
    val_set: Dataset | None = None
    # How regression targets were scaled (target = (raw - mean) / std), so a
    # caller can report errors in the original unit; None where not scaled.
    target_mean: list[float] | None = None
    target_std: list[float] | None = None
    # A text dataset's vocabulary (id i is vocab[i]), kept with the run's checkpoint
    # so Try-it encodes typed text exactly as the training data was encoded.
    vocab: list[str] | None = None

    @property
    def in_memory(self) -> bool:
        return self.x_train is not None

    def __len__(self) -> int:
        """Training plus validation samples."""
        if self.in_memory:
            return len(self.x_train) + len(self.x_val)
        return len(self.train_set) + len(self.val_set)
