"""Feeding batches to the loop, and turning dataset labels into what the loss wants.

In-memory datasets are moved to the device once and batched by tensor indexing
with a seeded permutation (`TensorBatches`, the "resident" loader): no
per-sample Python, no collation, and on a GPU no host-to-device copy per batch.
It runs the same on every device, and draws the same permutation a
`DataLoader(shuffle=True)` draws from the same generator, so it yields the same
batches in the same order. On CUDA an in-memory set stays resident only if it
fits in a share of the free GPU memory (`fits_on_device`); otherwise, and for
datasets that come as `torch.utils.data.Dataset`s, batches go through a
`DataLoader` with pinned memory on CUDA and non-blocking copies.

Every batch is `(x, labels, target)`: `labels` as the dataset gives them (for
accuracy and the confusion matrix), `target` shaped and typed for the loss.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator

import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from .errors import TrainingError

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
Prepare = Callable[[torch.Tensor], torch.Tensor]
# The share of free GPU memory resident data may take: the rest is the model's,
# its activations' and the optimizer's.
RESIDENT_SHARE = 0.5


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
                 generator: torch.Generator | None = None,
                 memory_format: torch.memory_format | None = None):
        # Converted once: indexing a channels_last tensor keeps the format.
        self.x = x.to(device) if memory_format is None else \
            x.to(device).contiguous(memory_format=memory_format)
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

    def head(self, count: int) -> torch.Tensor:
        """The first `count` inputs as a batch would hold them; draws no random numbers."""
        return self.x[:count]

    def __iter__(self) -> Iterator[Batch]:
        bs, n = self.batch_size, self.n
        if not self.shuffle:
            for i in range(len(self)):
                s = slice(i * bs, (i + 1) * bs)  # views, no copies
                yield self.x[s], self.labels[s], self.target[s]
            return
        # Drawn as a DataLoader(shuffle=True) draws them, so both paths take the same
        # order: a number for its workers' base seed, the permutation, and a second
        # permutation its RandomSampler draws (and slices to nothing) at the end of
        # the epoch. On the CPU, from the seeded generator (the same numbers on every
        # device); the permutation is moved once per epoch.
        torch.empty((), dtype=torch.int64).random_(generator=self.generator)
        perm = torch.randperm(n, generator=self.generator)
        torch.randperm(n, generator=self.generator)
        perm = perm.to(self.device)
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
                 workers: int | None = None, memory_format: torch.memory_format | None = None):
        self.prepare = prepare
        self.device = device
        self.memory_format = memory_format
        n = len(dataset)  # type: ignore[arg-type]
        self.n, self.batch_size, self.generator = n, batch_size, generator
        workers = loader_workers() if workers is None else workers
        self.loader = DataLoader(
            dataset, batch_size=batch_size, shuffle=shuffle, generator=generator,
            num_workers=workers, persistent_workers=workers > 0,
            pin_memory=device.type == "cuda", drop_last=n % batch_size == 1 and n > 1,
        )

    def __len__(self) -> int:
        return len(self.loader)

    def head(self, count: int) -> torch.Tensor:
        """The first `count` inputs as a batch would hold them; draws nothing from the
        sampler's generator (a dataset's random transforms use the global RNG)."""
        dataset = self.loader.dataset
        x = torch.stack([torch.as_tensor(dataset[i][0]) for i in range(min(count, self.n))])
        return x.to(self.device, memory_format=self.memory_format or torch.preserve_format)

    def __iter__(self) -> Iterator[Batch]:
        nb = self.device.type == "cuda"
        fmt = self.memory_format or torch.preserve_format
        for x, y in self.loader:
            target = self.prepare(y)  # on the CPU: cheap, and label checks need no sync
            yield (x.to(self.device, non_blocking=nb, memory_format=fmt),
                   y.to(self.device, non_blocking=nb), target.to(self.device, non_blocking=nb))


def fits_on_device(nbytes: int, device: torch.device, free_bytes: int | None = None) -> bool:
    """Whether `nbytes` of in-memory data may stay on `device` for the whole run.

    Always off CUDA: the CPU holds the tensors anyway, and MPS shares its memory
    with the CPU. On CUDA, at most `RESIDENT_SHARE` of the free memory
    (`free_bytes`, else asked of the driver).
    """
    if device.type != "cuda":
        return True
    if free_bytes is None:
        free_bytes, _total = torch.cuda.mem_get_info(device)
    return nbytes <= free_bytes * RESIDENT_SHARE


def in_memory_batches(x: torch.Tensor, labels: torch.Tensor, prepare: Prepare, batch_size: int,
                      shuffle: bool, device: torch.device,
                      generator: torch.Generator | None = None, *, resident: bool = True,
                      memory_format: torch.memory_format | None = None
                      ) -> TensorBatches | LoaderBatches:
    """Batches of in-memory tensors: resident on the device, or copied per batch if not.

    Both draw the same permutation from `generator`, so the choice changes where
    the data lives, never which samples a batch holds.
    """
    if resident:
        return TensorBatches(x, labels, prepare, batch_size, shuffle, device, generator,
                             memory_format=memory_format)
    # The tensors are already in this process: worker processes would only copy them.
    # A DataLoader without a generator draws its base seed from the global RNG; a
    # private one leaves that RNG (dropout's) as the resident loader leaves it.
    return LoaderBatches(TensorDataset(x, labels), prepare, batch_size, shuffle, device,
                         torch.Generator() if generator is None else generator, workers=0,
                         memory_format=memory_format)


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
