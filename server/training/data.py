"""Feeding batches to the loop, and turning dataset labels into what the loss wants.

In-memory datasets are moved to the device once and batched by tensor indexing
with a seeded permutation: no per-sample Python, no collation. Datasets too big
for that come as `torch.utils.data.Dataset`s and go through a `DataLoader` with
worker processes, pinned memory on CUDA and non-blocking copies.

Every batch is `(x, labels, target)`: `labels` as the dataset gives them (for
accuracy and the confusion matrix), `target` shaped and typed for the loss.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator

import torch
from torch.utils.data import DataLoader, Dataset

from .errors import TrainingError

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
Prepare = Callable[[torch.Tensor], torch.Tensor]


def make_target_fn(kind: str, out_tail: tuple[int, ...], task: str,
                   token_classes: int | None = None) -> Prepare:
    """A function turning a batch of labels into the loss's target.

    `kind` is the loss's catalogue `target`: "class" wants int64 class indices
    (with `token_classes`, labels `(N, T)` with one class per position stay so);
    "binary" wants floats shaped like the output; "float" wants floats shaped like
    the output, with class indices one-hot encoded when the output is wider than 1.
    """
    width = math.prod(out_tail) if out_tail else 1

    def check_classes(y: torch.Tensor, classes: int) -> None:
        # Checked on the CPU before the loss sees them: on CUDA an out-of-range
        # index is a device-side assert that poisons the whole process.
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= classes):
            raise TrainingError(f"labels range from {int(y.min())} to {int(y.max())} but the "
                                f"model emits {classes} class scores per sample: set the last "
                                f"layer's size to the number of classes")

    def as_class(y: torch.Tensor) -> torch.Tensor:
        if y.is_floating_point():
            raise TrainingError(f"this loss needs class labels but the {task} dataset has "
                                "real-valued targets: pick a regression loss")
        if token_classes is not None:
            check_classes(y, token_classes)
            return y.long()
        y = y.reshape(y.shape[0])
        if len(out_tail) >= 1:
            check_classes(y, out_tail[0])
        return y.long()

    def shaped(y: torch.Tensor, what: str) -> torch.Tensor:
        n = y.shape[0]
        if y.numel() != n * width:
            per = y.numel() // max(n, 1)
            raise TrainingError(f"the model emits {width} value(s) per sample but {what} has "
                                f"{per}: match the last layer's size to the targets")
        return y.float().reshape(n, *out_tail)

    def as_binary(y: torch.Tensor) -> torch.Tensor:
        if not y.is_floating_point():
            check_classes(y.reshape(-1), 2)
        return shaped(y, "a binary target")

    def as_float(y: torch.Tensor) -> torch.Tensor:
        if not y.is_floating_point() and y.dim() == 1 and width > 1:
            check_classes(y, width)
            return torch.nn.functional.one_hot(y.long(), width).float().reshape(-1, *out_tail)
        return shaped(y, "the target")

    table = {"class": as_class, "binary": as_binary, "float": as_float}
    if kind not in table:
        raise TrainingError(f"unknown loss target kind {kind!r}")
    return table[kind]


class TensorBatches:
    """Batches of in-memory tensors already on the device, by index.

    A last batch of a single sample is dropped when there are others: BatchNorm
    cannot train on one sample, and one sample in an epoch changes nothing.
    """

    def __init__(self, x: torch.Tensor, labels: torch.Tensor, prepare: Prepare,
                 batch_size: int, shuffle: bool, device: torch.device,
                 generator: torch.Generator | None = None):
        self.x = x.to(device)
        self.labels = labels.to(device)
        # Targets prepared once for the whole set: per batch it is only an index.
        self.target = prepare(labels).to(device)
        self.n = x.shape[0]
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.device = device

    def __len__(self) -> int:
        full, rest = divmod(self.n, self.batch_size)
        return full + (1 if rest > 1 or (rest == 1 and full == 0) else 0)

    def __iter__(self) -> Iterator[Batch]:
        bs, n = self.batch_size, self.n
        if not self.shuffle:
            for i in range(len(self)):
                s = slice(i * bs, (i + 1) * bs)  # views, no copies
                yield self.x[s], self.labels[s], self.target[s]
            return
        # The permutation is drawn on the CPU from the seeded generator (the same
        # numbers on every device), then moved once per epoch.
        perm = torch.randperm(n, generator=self.generator).to(self.device)
        for i in range(len(self)):
            idx = perm[i * bs:(i + 1) * bs]
            yield self.x[idx], self.labels[idx], self.target[idx]


def loader_workers() -> int:
    """DataLoader worker processes: TORCHCANVAS_LOADER_WORKERS, else half the cores (1-4)."""
    env = os.environ.get("TORCHCANVAS_LOADER_WORKERS")
    if env and env.isdigit():
        return int(env)
    return max(1, min(4, (os.cpu_count() or 2) // 2))


class LoaderBatches:
    """Batches from a Dataset through a DataLoader, copied to the device without blocking."""

    def __init__(self, dataset: Dataset, prepare: Prepare, batch_size: int, shuffle: bool,
                 device: torch.device, generator: torch.Generator | None = None,
                 workers: int | None = None):
        self.prepare = prepare
        self.device = device
        n = len(dataset)  # type: ignore[arg-type]
        workers = loader_workers() if workers is None else workers
        self.loader = DataLoader(
            dataset, batch_size=batch_size, shuffle=shuffle, generator=generator,
            num_workers=workers, persistent_workers=workers > 0,
            pin_memory=device.type == "cuda", drop_last=n % batch_size == 1 and n > 1,
        )

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Batch]:
        nb = self.device.type == "cuda"
        for x, y in self.loader:
            target = self.prepare(y)  # on the CPU: cheap, and label checks need no sync
            yield (x.to(self.device, non_blocking=nb), y.to(self.device, non_blocking=nb),
                   target.to(self.device, non_blocking=nb))


def model_input(x: torch.Tensor) -> torch.Tensor:
    """Token ids stay int64 (Embedding reads them); everything else is float32."""
    return x.float() if x.is_floating_point() or x.dtype == torch.bool else x.long()


def first_inputs(data: object, count: int = 2) -> torch.Tensor:
    """A few training inputs, to learn the model's output shape before training."""
    x = getattr(data, "x_train", None)
    if x is not None:
        return x[:count]
    train_set = data.train_set  # type: ignore[attr-defined]
    n = min(count, len(train_set))
    return torch.stack([torch.as_tensor(train_set[i][0]) for i in range(n)])
