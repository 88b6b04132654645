"""The in-app training loop on one rank of a `torch.distributed` group (DDP).

`train_rank` runs `loop.train` unchanged on every process of an initialised
process group (Ray Train's `TorchTrainer` sets it up; so would torchrun). It
changes only what the loop is handed:

- the model is wrapped in DistributedDataParallel, which averages gradients;
  its `state_dict` is the plain model's, so checkpoints load without DDP;
- each rank trains on its own 1/world of the training split, with a batch of
  `batch_size / world` (rounded up), so one optimizer step still sees about
  `batch_size` samples; every rank validates on the whole validation split, so
  the metrics rank 0 reports are those of a single-process run;
- `should_stop` is agreed by all ranks before every batch (a max all-reduce),
  so a stop asked of rank 0 stops every rank at the same step instead of
  leaving the others waiting in an all-reduce.

Only rank 0 emits events and writes checkpoints. This module imports no Ray.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from .loop import train
from .setup import to_channels_last


class PlainStateDDP(DistributedDataParallel):
    """DDP that looks like the wrapped model to the loop and the checkpoints.

    Its state_dict has no `module.` prefix on the keys (checkpoints load into the
    plain model), and the model's layers are found by attribute name (the loop's
    per-layer weight and gradient norms look them up).
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "module":
                raise
            return getattr(self.module, name)

    def state_dict(self, *args: Any, **kwargs: Any) -> Any:
        return self.module.state_dict(*args, **kwargs)

    def load_state_dict(self, *args: Any, **kwargs: Any) -> Any:
        return self.module.load_state_dict(*args, **kwargs)


def _ddp_compile(device: torch.device) -> Callable[..., Any]:
    def compile_fn(graph: Any, seed: int | None = None) -> Any:
        from server.compiler import compile_graph

        model = compile_graph(graph, seed=seed).to(device)
        if graph.training is not None and graph.training.channels_last:
            # Before DDP takes the parameters' layout for its gradient buckets.
            to_channels_last(model)
        # Every rank runs the same forward passes (validation included), so DDP's
        # buffer broadcast from rank 0 keeps batch-norm statistics equal everywhere.
        wrapped = PlainStateDDP(model)
        wrapped.node_attrs = getattr(model, "node_attrs", {})
        return wrapped
    return compile_fn


def _sharded_load(rank: int, world: int) -> Callable[..., Any]:
    def load(name: str, params: dict[str, Any], **kwargs: Any) -> Any:
        from server.datasets import load_dataset

        data = load_dataset(name, params, **kwargs)
        if getattr(data, "x_train", None) is not None:
            return dataclasses.replace(data, x_train=data.x_train[rank::world],
                                       y_train=data.y_train[rank::world])
        if getattr(data, "train_set", None) is not None:
            from torch.utils.data import Subset

            return dataclasses.replace(
                data, train_set=Subset(data.train_set, range(rank, len(data.train_set), world)))
        return data
    return load


def _agreed_stop(should_stop: Callable[[], bool], device: torch.device) -> Callable[[], bool]:
    def agreed() -> bool:
        flag = torch.tensor([1.0 if should_stop() else 0.0], device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())
    return agreed


def train_rank(graph: dict[str, Any], out_dir: str | Path, emit: Callable[[dict], None],
               should_stop: Callable[[], bool], device: torch.device | None = None) -> str:
    """Train `graph` as this rank of the current process group; return the final status.

    Rank 0 emits events and writes checkpoints into `out_dir`; the other ranks
    emit nothing and write into a temporary folder they delete.
    """
    rank, world = dist.get_rank(), dist.get_world_size()
    if device is None:
        device = torch.device("cpu")
    graph = dict(graph)
    data = dict(graph["data"])
    data["batch_size"] = max(1, math.ceil(int(data.get("batch_size", 64)) / world))
    graph["data"] = data
    training = dict(graph.get("training") or {})
    training["device"] = str(device)  # e.g. cuda:1, the GPU Ray gave this worker
    graph["training"] = training

    def run(folder: str | Path, sink: Callable[[dict], None]) -> str:
        return train(graph, folder, sink, _agreed_stop(should_stop, device),
                     load=_sharded_load(rank, world), compile_fn=_ddp_compile(device),
                     log=lambda message: None if rank else print(f"[train] {message}"))

    if rank == 0:
        return run(out_dir, emit)
    with tempfile.TemporaryDirectory(prefix="torchcanvas-rank") as folder:
        return run(folder, lambda event: None)
