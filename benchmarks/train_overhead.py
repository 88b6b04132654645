"""Trainer overhead: torchcanvas's trainer against the loop PyTorch tutorials write.

For each case (an MLP and a CNN, on `digits` and on a 28x28 image set) this
trains the same model, data, batch size, epochs and seed two ways, alternating:

  (a) `TrainingRun`: the worker process with every metric, event and checkpoint;
  (b) by hand: `TensorDataset` + `DataLoader(shuffle=True)`, `model.train()`,
      `zero_grad`, `backward`, `step`, and a validation pass per epoch.

Three ratios a/b are printed, each the median over back-to-back pairs:

  loop:  the epochs themselves. (a) sums the `seconds` of its epoch events
         (training, validation, every metric, the boundary grid and confusion
         matrix); (b) times its epochs (training and a validation pass).
  cpu:   CPU time, which a busy shared machine does not distort: (a) runs the
         worker's function, `loop.train`, in this process (set-up, data loading,
         compile, metrics, checkpoints); (b) the whole hand-written run.
  total: (a) from `start()` to the final status as the parent sees it: process
         spawn, imports, data loading, compile, checkpoints and event transport;
         (b) data loading, model construction and its epochs, in this
         (warmed-up) process.

The time from `start()` to the first step event is printed too. The 28x28 set is
MNIST's format: real files under $TORCHCANVAS_DATA when present, otherwise fake
ones written to a temporary folder (speed does not depend on the pixels).

A second table (`throughput.py`) gives samples/s, trainer against hand-written,
for the digits CNN, an MNIST-sized CNN and a ResNet-18 on 3x32x32, in fp32, with
AMP and with torch.compile; `--device cuda` runs every row on the GPU.

    .venv/bin/python benchmarks/train_overhead.py [--repeats 3] [--epochs 3] [--device cpu]
        [--throughput-epochs 3] [--no-throughput]
"""

from __future__ import annotations

import argparse
import os
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from server.training import TrainingRun  # noqa: E402
from server.training.worker import worker_threads  # noqa: E402

FAKE_IMAGES = 12000


# -- models and cases ----------------------------------------------------------
def _node(nid, type_, inputs, **params):
    return {"id": nid, "type": type_, "params": params, "inputs": inputs}


def mlp_nodes(hidden=128):
    return [_node("x", "Input", []), _node("flat", "Flatten", ["x"]),
            _node("fc1", "Linear", ["flat"], out_features=hidden),
            _node("relu", "ReLU", ["fc1"]), _node("fc2", "Linear", ["relu"], out_features=10)]


def cnn_nodes():
    return [_node("x", "Input", []),
            _node("conv1", "Conv2d", ["x"], out_channels=16, kernel_size=3, padding=1),
            _node("relu1", "ReLU", ["conv1"]),
            _node("pool1", "MaxPool2d", ["relu1"], kernel_size=2),
            _node("flat", "Flatten", ["pool1"]), _node("fc", "Linear", ["flat"], out_features=10)]


def graph(name, nodes, dataset, epochs, device, batch_size=64):
    return {
        "version": 1, "name": name, "nodes": nodes, "output": nodes[-1]["id"],
        "loss": {"type": "CrossEntropyLoss"}, "optimizer": {"type": "Adam", "params": {"lr": 1e-3}},
        "data": {"dataset": dataset, "batch_size": batch_size, "val_fraction": 0.2},
        "training": {"epochs": epochs, "seed": 0, "device": device},
    }


# -- fake MNIST files ----------------------------------------------------------
def _write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def ensure_28x28_data(tmp: Path) -> str:
    """A data root holding MNIST files: the real ones if present, else fake ones."""
    from server.datasets.vision import default_data_root

    real = Path(default_data_root()) / "MNIST" / "raw" / "train-images-idx3-ubyte"
    if real.exists():
        return "real MNIST"
    raw = tmp / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, FAKE_IMAGES).astype(np.uint8)
    # Class-dependent blobs plus noise: learnable, so the loss moves as it would.
    images = rng.integers(0, 64, (FAKE_IMAGES, 28, 28)).astype(np.uint8)
    for c in range(10):
        images[labels == c, 2 * c:2 * c + 8, 4:24] += 150
    _write_idx(raw / "train-images-idx3-ubyte", images)
    _write_idx(raw / "train-labels-idx1-ubyte", labels)
    _write_idx(raw / "t10k-images-idx3-ubyte", images[:10])
    _write_idx(raw / "t10k-labels-idx1-ubyte", labels[:10])
    os.environ["TORCHCANVAS_DATA"] = str(tmp)
    return f"fake MNIST-format files ({FAKE_IMAGES} images)"


# -- (a) the trainer -----------------------------------------------------------
def run_trainer(g, out_dir) -> dict[str, float]:
    """Seconds: `loop` (sum of the epochs' own `seconds`), `total` (start to final status,
    process start-up included) and `first_step` (start to the first step event)."""
    start = time.perf_counter()
    run = TrainingRun(g, out_dir)
    run.start()
    loop, first_step, status, end = 0.0, float("nan"), "?", float("nan")
    while not run.done:
        for e in run.poll(1.0):
            if e["type"] == "step" and first_step != first_step:  # still NaN
                first_step = time.perf_counter() - start
            elif e["type"] == "epoch":
                loop += e["seconds"]
            elif e["type"] == "status" and e["status"] not in ("queued", "running"):
                status, end = e["status"], time.perf_counter()
    run.close()
    assert status == "completed", status
    return {"loop": loop, "total": end - start, "first_step": first_step}


def run_trainer_cpu(g, out_dir) -> dict[str, float]:
    """CPU seconds of the trainer's own code (`loop.train`, set-up included) in this process.

    Wall time on a shared machine measures the neighbours as much as the code; CPU
    time does not, and the worker runs exactly this function.
    """
    from server.training.loop import train

    events: list[dict] = []
    start = time.process_time()
    status = train(g, out_dir, events.append, log=lambda message: None)
    assert status == "completed", events[-1]
    return {"cpu": time.process_time() - start}


# -- (b) by hand, as the tutorials write it ------------------------------------
def hand_model(g) -> nn.Module:
    """The exported module class (hand-written code), else the compiled module."""
    try:
        from server.export import export_code

        ns: dict = {"__name__": "bench_model"}
        exec(compile(export_code(g, "module"), "<exported>", "exec"), ns)
        cls = next(v for v in ns.values() if isinstance(v, type) and issubclass(v, nn.Module)
                   and v is not nn.Module)
        torch.manual_seed(0)
        return cls()
    except ImportError:
        from server.compiler import compile_graph

        return compile_graph(g, seed=0)


def run_by_hand(g) -> dict[str, float]:
    """Seconds: `loop` (the epochs: training and a validation pass each), `total`
    (data loading and the model's construction too; no process start-up) and `cpu`
    (this process's CPU time over `total`)."""
    from server.datasets import load_dataset

    start, cpu_start = time.perf_counter(), time.process_time()
    device = torch.device(g["training"]["device"] if g["training"]["device"] != "auto"
                          else ("cuda" if torch.cuda.is_available() else "cpu"))
    data = load_dataset(g["data"]["dataset"], {}, val_fraction=0.2, seed=0)
    model = hand_model(g).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    cuda = device.type == "cuda"
    train_loader = DataLoader(TensorDataset(data.x_train, data.y_train),
                              batch_size=g["data"]["batch_size"], shuffle=True, pin_memory=cuda)
    val_loader = DataLoader(TensorDataset(data.x_val, data.y_val), batch_size=1000)
    loop_start = time.perf_counter()
    for _epoch in range(g["training"]["epochs"]):
        model.train()
        for x, y in train_loader:
            x, y = x.to(device, non_blocking=cuda), y.to(device, non_blocking=cuda)
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for x, y in val_loader:
                x, y = x.to(device), y.to(device)
                correct += (model(x).argmax(1) == y).sum().item()
    if cuda:
        torch.cuda.synchronize()
    end = time.perf_counter()
    return {"loop": end - loop_start, "total": end - start,
            "cpu": time.process_time() - cpu_start}


def _med(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def _ratio(a: list[dict], b: list[dict], key: str) -> float:
    """Median of the per-pair ratios: each (a, b) pair ran back to back."""
    return statistics.median(x[key] / y[key] for x, y in zip(a, b, strict=True))


# -- main ----------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--throughput-epochs", type=int, default=3)
    parser.add_argument("--no-throughput", action="store_true",
                        help="only the overhead table, not the samples/s one")
    args = parser.parse_args()
    threads = worker_threads()
    torch.set_num_threads(threads)  # (b) gets the worker's thread count: like for like
    with tempfile.TemporaryDirectory() as tmp:
        source = ensure_28x28_data(Path(tmp) / "data")
        cases = [
            ("MLP digits", graph("MLP", mlp_nodes(), "digits", args.epochs, args.device)),
            ("CNN digits", graph("CNN", cnn_nodes(), "digits", args.epochs, args.device)),
            ("MLP 28x28", graph("MLP", mlp_nodes(), "mnist", args.epochs, args.device)),
            ("CNN 28x28", graph("CNN", cnn_nodes(), "mnist", args.epochs, args.device)),
        ]
        name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "CPU"
        print(f"device {args.device} ({name}), {threads} thread(s), torch {torch.__version__}, "
              f"{args.epochs} epochs, batch 64, 28x28 set: {source}")
        print(f"{'case':<11} {'loop a':>7} {'loop b':>7} {'a/b':>5}   {'cpu a':>6} {'cpu b':>6} "
              f"{'a/b':>5}   {'total a':>7} {'total b':>7} {'a/b':>5}   {'first step':>10}")
        for label, g in cases:
            run_by_hand(g)  # warm-up: (b) runs in this process, so import its modules once
            run_trainer_cpu(g, Path(tmp) / "warm")
            a, b = [], []
            for i in range(args.repeats):
                a.append(run_trainer(g, Path(tmp) / f"run{i}"))
                b.append(run_by_hand(g))
                a[-1].update(run_trainer_cpu(g, Path(tmp) / f"cpu{i}"))

            print(f"{label:<11} {_med(a, 'loop'):>7.2f} {_med(b, 'loop'):>7.2f} "
                  f"{_ratio(a, b, 'loop'):>5.2f}   {_med(a, 'cpu'):>6.2f} {_med(b, 'cpu'):>6.2f} "
                  f"{_ratio(a, b, 'cpu'):>5.2f}   {_med(a, 'total'):>7.2f} "
                  f"{_med(b, 'total'):>7.2f} {_ratio(a, b, 'total'):>5.2f}   "
                  f"{_med(a, 'first_step'):>10.2f}", flush=True)
    if not args.no_throughput:
        import throughput  # benchmarks/ is on sys.path: this script's own folder

        throughput.report(args.device, args.throughput_epochs, list(throughput.CASES),
                          list(throughput.VARIANTS))


if __name__ == "__main__":
    main()
