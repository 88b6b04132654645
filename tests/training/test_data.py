"""Batching and targets: every sample once per epoch, seeded order, targets in the
shape and type each kind of loss wants, and device choice."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import TensorDataset

from server.training.data import LoaderBatches, TensorBatches, make_target_fn
from server.training.device import available_devices, resolve_device
from server.training.errors import DeviceError, TrainingError

CPU = torch.device("cpu")


def _batches(n: int, bs: int, shuffle: bool, seed: int = 0) -> TensorBatches:
    x = torch.arange(n, dtype=torch.float32).reshape(n, 1)
    return TensorBatches(x, torch.arange(n) % 2, make_target_fn("class", (2,), "classification"),
                         bs, shuffle, CPU, torch.Generator().manual_seed(seed))


def test_tensor_batches_cover_every_sample_once_in_a_seeded_order():
    first = [x[:, 0].long().tolist() for x, _, _ in _batches(10, 4, True)]
    again = [x[:, 0].long().tolist() for x, _, _ in _batches(10, 4, True)]
    assert first == again and sorted(sum(first, [])) == list(range(10))
    other = [x[:, 0].long().tolist() for x, _, _ in _batches(10, 4, True, seed=1)]
    assert other != first
    plain = [x[:, 0].long().tolist() for x, _, _ in _batches(10, 4, False)]
    assert plain == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_a_lone_last_sample_is_dropped_but_a_lone_set_is_not():
    assert len(_batches(9, 4, False)) == 2
    assert len(_batches(1, 4, False)) == 1
    assert len(_batches(10, 4, False)) == 3


def test_targets_for_each_loss_kind():
    labels = torch.tensor([0, 2, 1])
    assert make_target_fn("class", (3,), "classification")(labels).dtype == torch.int64
    one_hot = make_target_fn("float", (3,), "classification")(labels)
    assert one_hot.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    binary = make_target_fn("binary", (1,), "binary")(torch.tensor([0, 1]))
    assert binary.shape == (2, 1) and binary.dtype == torch.float32
    reg = make_target_fn("float", (1,), "regression")(torch.tensor([0.5, 1.5]))
    assert reg.shape == (2, 1)


@pytest.mark.parametrize("kind,tail,labels,needle", [
    ("class", (2,), torch.tensor([0, 3]), "labels range"),
    ("class", (2,), torch.tensor([0.5]), "class labels"),
    ("binary", (1,), torch.tensor([0, 2]), "labels range"),
    ("float", (2,), torch.tensor([[0.5, 1.0, 2.0]]), r"value\(s\) per sample"),
])
def test_targets_that_cannot_fit_the_output_explain_why(kind, tail, labels, needle):
    with pytest.raises(TrainingError, match=needle):
        make_target_fn(kind, tail, "classification")(labels)


def test_loader_batches_feed_a_dataset_in_process():
    ds = TensorDataset(torch.randn(9, 3), torch.arange(9) % 3)
    batches = LoaderBatches(ds, make_target_fn("class", (3,), "classification"), 4, True, CPU,
                            torch.Generator().manual_seed(0), workers=0)
    seen = [(x.shape[0], y.dtype, t.dtype) for x, y, t in batches]
    assert [s[0] for s in seen] == [4, 4]  # the lone ninth sample is dropped
    assert len(batches) == 2


def test_devices():
    assert resolve_device("cpu") == CPU
    assert resolve_device("auto").type in ("cuda", "mps", "cpu")
    assert available_devices()[-1] == "cpu"
    with pytest.raises(DeviceError, match="unknown device"):
        resolve_device("gpu please")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="not available"):
            resolve_device("cuda")
    with pytest.raises(DeviceError, match="not available"):
        resolve_device(f"cuda:{torch.cuda.device_count() + 3}")
