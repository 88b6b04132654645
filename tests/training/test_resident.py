"""The resident loader (in-memory data kept on the device, batched by indexing) against
the DataLoader path: the same batches in the same order for the same seed, on any
device; and the free-memory bound that decides between them on CUDA."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from server.graph import parse_graph
from server.training.compiling import batch_sizes
from server.training.data import (
    RESIDENT_SHARE,
    LoaderBatches,
    TensorBatches,
    fits_on_device,
    in_memory_batches,
    make_target_fn,
)
from server.training.setup import build_run, tune_backends

from .graphs import mlp, seed_cnn

CPU = torch.device("cpu")
PREPARE = make_target_fn("class", (3,), "classification")


def _data(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(n)
    return torch.randn(n, 2, 4, 4, generator=g), torch.randint(0, 3, (n,), generator=g)


def _epochs(batches, count: int = 3) -> list[list[tuple[torch.Tensor, ...]]]:
    return [[tuple(t.clone() for t in b) for b in batches] for _ in range(count)]


@pytest.mark.parametrize("n,bs", [(50, 8), (49, 8), (7, 8), (64, 16), (33, 32)])
@pytest.mark.parametrize("shuffle", [True, False])
def test_resident_and_dataloader_yield_the_same_batches_in_the_same_order(n, bs, shuffle):
    x, y = _data(n)
    resident = in_memory_batches(x, y, PREPARE, bs, shuffle, CPU, torch.Generator().manual_seed(3))
    copied = in_memory_batches(x, y, PREPARE, bs, shuffle, CPU, torch.Generator().manual_seed(3),
                               resident=False)
    assert isinstance(resident, TensorBatches) and isinstance(copied, LoaderBatches)
    assert len(resident) == len(copied)
    a, b = _epochs(resident), _epochs(copied)
    assert [[t.shape for t in batch] for epoch in a for batch in epoch] == \
        [[t.shape for t in batch] for epoch in b for batch in epoch]
    for batch_a, batch_b in zip(sum(a, []), sum(b, []), strict=True):
        for ta, tb in zip(batch_a, batch_b, strict=True):
            assert torch.equal(ta, tb)
    if shuffle and n > bs:
        assert not torch.equal(a[0][0][0], a[1][0][0])  # a new order every epoch


def test_the_order_is_the_one_a_hand_written_dataloader_draws():
    """The oracle: DataLoader(TensorDataset, shuffle=True, generator) as tutorials write it."""
    x, y = _data(40)
    ours = in_memory_batches(x, y, PREPARE, 16, True, CPU, torch.Generator().manual_seed(5))
    theirs = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True,
                        generator=torch.Generator().manual_seed(5))
    for _ in range(2):
        for (xa, ya, _), (xb, yb) in zip(ours, theirs, strict=True):
            assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_batch_sizes_are_those_an_epoch_yields():
    for n in (1, 7, 8, 9, 17, 64):
        for bs in (1, 4, 8):
            x, y = _data(n)
            seen = {b[0].shape[0] for b in TensorBatches(x, y, PREPARE, bs, False, CPU)}
            assert set(batch_sizes(n, bs)) == seen, (n, bs)


def test_free_memory_bounds_what_stays_on_a_gpu():
    cuda = torch.device("cuda")
    free = 8 << 30
    assert fits_on_device(int(free * RESIDENT_SHARE), cuda, free_bytes=free)
    assert not fits_on_device(int(free * RESIDENT_SHARE) + 1, cuda, free_bytes=free)
    assert fits_on_device(1 << 40, CPU) and fits_on_device(1 << 40, torch.device("mps"))


def test_the_trainer_keeps_in_memory_data_resident_on_cpu():
    run = build_run(parse_graph(seed_cnn(epochs=1)))
    assert isinstance(run.train, TensorBatches) and isinstance(run.val, TensorBatches)
    assert run.train.x.device == run.device and not run.notes


def test_cudnn_benchmark_is_set_for_cuda_and_left_alone_elsewhere():
    before = torch.backends.cudnn.benchmark
    try:
        torch.backends.cudnn.benchmark = False
        tune_backends(CPU)
        assert torch.backends.cudnn.benchmark is False
        tune_backends(torch.device("cuda"))  # the flag only; nothing touches a GPU
        assert torch.backends.cudnn.benchmark is True
    finally:
        torch.backends.cudnn.benchmark = before


def test_mlp_runs_do_not_note_anything():
    assert build_run(parse_graph(mlp())).notes == []
