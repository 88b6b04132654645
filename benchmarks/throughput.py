"""Training throughput: the trainer's samples/s against a loop written by hand.

For three networks on synthetic in-memory data of their dataset's shape (the
digits CNN on 1x8x8, an MNIST-sized CNN on 1x28x28, torchvision's ResNet-18 on
3x32x32, 10 classes) and three ways to train them:

  fp32:    plain float32;
  amp:     mixed precision: the trainer's `amp: true` (bf16 where the GPU has
           it, else fp16 with a GradScaler) and the same autocast by hand. On a
           CPU the trainer ignores `amp` (it is CUDA-only), so the row gives the
           hand-written loop's bf16 autocast, where the CPU supports it, alone;
  compile: `compile: true` in the trainer (compile time reported on its own) and
           `torch.compile(model)` by hand; skipped with the reason if it fails.

(a) is the trainer's own loop (`loop.train`, in this process, with every metric,
event and checkpoint; the data is handed over through its `load` argument);
(b) is `TensorDataset` + `DataLoader(shuffle=True, pin_memory on CUDA)`, `.to(
device, non_blocking=True)`, `zero_grad`/`backward`/`step`. Both report the
samples/s of their training steps in their best epoch after the first (the
first pays for warm-ups; on a shared machine the best epoch is the one the
neighbours disturbed least), so (a) and (b) time the same thing.

    .venv/bin/python benchmarks/throughput.py [--device cpu|cuda] [--epochs 2]
        [--cases digits-cnn,mnist-cnn,resnet18] [--variants fp32,amp,compile]
"""

from __future__ import annotations

import argparse
import copy
import functools
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

CASES = {  # name: (dataset whose shape the data takes, training samples on CPU / on CUDA)
    "digits-cnn": ("digits", 1437, 1437),
    "mnist-cnn": ("mnist", 4096, 48000),
    "resnet18": ("cifar10", 256, 20000),
}
VARIANTS = ("fp32", "amp", "compile")


# -- networks ------------------------------------------------------------------
def _node(nid, type_, inputs, **params):
    return {"id": nid, "type": type_, "params": params, "inputs": inputs}


def cnn_nodes():
    return [_node("x", "Input", []),
            _node("conv1", "Conv2d", ["x"], out_channels=16, kernel_size=3, padding=1),
            _node("relu1", "ReLU", ["conv1"]),
            _node("pool1", "MaxPool2d", ["relu1"], kernel_size=2),
            _node("flat", "Flatten", ["pool1"]), _node("fc", "Linear", ["flat"], out_features=10)]


@functools.cache
def resnet18_graph() -> dict[str, Any]:
    """torchvision's ResNet-18 (10 classes) brought in as a graph, 3x32x32 input."""
    from server.importers import import_source

    return import_source("torchvision:resnet18", {"num_classes": 10},
                         input_shape=[3, 32, 32]).graph


def case_graph(case: str, device: str, variant: str, epochs: int) -> dict[str, Any]:
    dataset = CASES[case][0]
    g = copy.deepcopy(resnet18_graph()) if case == "resnet18" else {"version": 1, "name": "CNN",
                                                      "nodes": cnn_nodes(), "output": "fc"}
    return {**g, "loss": {"type": "CrossEntropyLoss"},
            "optimizer": {"type": "SGD", "params": {"lr": 0.01, "momentum": 0.9}},
            "data": {"dataset": dataset, "batch_size": 64, "val_fraction": 0.2},
            "training": {"epochs": epochs, "seed": 0, "device": device,
                         "amp": variant == "amp", "compile": variant == "compile"}}


def hand_model(case: str, graph: dict[str, Any]) -> nn.Module:
    """torchvision's own ResNet-18, or the exported module class of the CNN."""
    torch.manual_seed(0)
    if case == "resnet18":
        from torchvision.models import resnet18

        return resnet18(num_classes=10)
    from server.export import export_code

    ns: dict = {"__name__": "bench_model"}
    exec(compile(export_code(graph, "module"), "<exported>", "exec"), ns)
    cls = next(v for v in ns.values() if isinstance(v, type) and issubclass(v, nn.Module)
               and v is not nn.Module)
    return cls()


# -- data ----------------------------------------------------------------------
def synthetic(case: str, device: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                                 torch.Tensor]:
    """Random images of the dataset's shape and labels: (x_train, y_train, x_val, y_val)."""
    from server.datasets import describe_dataset

    info = describe_dataset(CASES[case][0], {})
    n = CASES[case][2 if device.startswith("cuda") else 1]
    n_val = n // 4
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n + n_val, *info.input_shape, generator=g)
    y = torch.randint(0, 10, (n + n_val,), generator=g)
    return x[:n], y[:n], x[n:], y[n:]


def loader_of(case: str, data: tuple) -> Any:
    """The trainer's `load`: the synthetic tensors as an in-memory dataset."""
    from server.datasets import describe_dataset
    from server.datasets.base import LoadedData

    def load(name: str, params: dict, **_: Any) -> LoadedData:
        x_train, y_train, x_val, y_val = data
        return LoadedData(info=describe_dataset(name, params), x_train=x_train,
                          y_train=y_train, x_val=x_val, y_val=y_val)
    return load


# -- (a) the trainer -----------------------------------------------------------
def run_trainer(graph: dict[str, Any], load: Any, out_dir: Path) -> dict[str, Any]:
    from server.training.loop import train

    events: list[dict] = []
    status = train(graph, out_dir, events.append, load=load, log=lambda message: None)
    if status != "completed":
        raise RuntimeError(f"trainer run {status}: {events[-1].get('error')}")
    epochs = [e for e in events if e["type"] == "epoch"]
    compiled = [e for e in events if e["type"] == "compile" and e["phase"] != "compiling"]
    return {"samples_per_second": max(e["samples_per_second"] for e in epochs[1:] or epochs),
            "compile": compiled[-1] if compiled else None}


# -- (b) by hand -----------------------------------------------------------------
def run_by_hand(case: str, graph: dict[str, Any], data: tuple, variant: str,
                device: torch.device, epochs: int) -> dict[str, Any]:
    x_train, y_train, x_val, y_val = data
    model = hand_model(case, graph).to(device)
    cuda = device.type == "cuda"
    dtype = None
    if variant == "amp":
        dtype = torch.bfloat16 if (not cuda or torch.cuda.is_bf16_supported()) else torch.float16
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    forward = model
    if variant == "compile":
        forward = torch.compile(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    train_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True,
                              pin_memory=cuda, generator=torch.Generator().manual_seed(0))
    val_loader = DataLoader(TensorDataset(x_val, y_val), batch_size=1024)
    rates = []
    for _epoch in range(epochs):
        model.train()
        start, seen = time.perf_counter(), 0
        for x, y in train_loader:
            x, y = x.to(device, non_blocking=cuda), y.to(device, non_blocking=cuda)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                out = forward(x)
            loss = loss_fn(out.float(), y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            seen += x.shape[0]
        if cuda:
            torch.cuda.synchronize(device)
        rates.append(seen / (time.perf_counter() - start))
        model.eval()
        with torch.no_grad(), torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            for x, y in val_loader:
                forward(x.to(device)).argmax(1).eq(y.to(device)).sum().item()
    return {"samples_per_second": max(rates[1:] or rates), "dtype": dtype}


# -- report ----------------------------------------------------------------------
def _cpu_bf16() -> bool:
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            torch.ones(2, 2) @ torch.ones(2, 2)
        return True
    except RuntimeError:
        return False


def report(device: str, epochs: int, cases: list[str], variants: list[str]) -> None:
    dev = torch.device(device)
    print(f"\nthroughput (samples/s of the training steps, best epoch after the first), "
          f"device {device}, batch 64, {epochs} epochs, synthetic data")
    print(f"{'case':<11} {'variant':<8} {'trainer':>9} {'by hand':>9} {'a/b':>5}   note")
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            data = synthetic(case, device)
            for variant in variants:
                graph = case_graph(case, device, variant, epochs)
                note = f"{len(data[0])} training samples"
                if variant == "amp" and dev.type == "cpu" and not _cpu_bf16():
                    print(f"{case:<11} {variant:<8} {'-':>9} {'-':>9} {'-':>5}   skipped: "
                          "this CPU has no bf16 autocast", flush=True)
                    continue
                try:
                    b = run_by_hand(case, graph, data, variant, dev, epochs)
                except Exception as exc:  # compile may fail: say so and go on
                    first = (str(exc).strip().splitlines() or [""])[0][:120]
                    print(f"{case:<11} {variant:<8} {'-':>9} {'-':>9} {'-':>5}   skipped: "
                          f"{type(exc).__name__}: {first}", flush=True)
                    continue
                if variant == "amp" and dev.type != "cuda":
                    # The trainer's amp is CUDA-only: on this device it would train in fp32.
                    print(f"{case:<11} {variant:<8} {'-':>9} {b['samples_per_second']:>9.0f} "
                          f"{'-':>5}   by hand {str(b['dtype']).split('.')[-1]} autocast; the "
                          f"trainer's amp is CUDA-only", flush=True)
                    continue
                a = run_trainer(graph, loader_of(case, data), Path(tmp) / f"{case}-{variant}")
                if a["compile"] is not None:
                    c = a["compile"]
                    note += f"; trainer compiled in {c['seconds']:.1f} s" if c["phase"] == \
                        "compiled" else f"; trainer did not compile: {c['message']}"
                if b["dtype"] is not None:
                    note += f"; {str(b['dtype']).split('.')[-1]}"
                ra, rb = a["samples_per_second"], b["samples_per_second"]
                print(f"{case:<11} {variant:<8} {ra:>9.0f} {rb:>9.0f} {ra / rb:>5.2f}   {note}",
                      flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    from server.training.worker import worker_threads

    torch.set_num_threads(worker_threads())
    report(args.device, args.epochs, args.cases.split(","), args.variants.split(","))


if __name__ == "__main__":
    main()
