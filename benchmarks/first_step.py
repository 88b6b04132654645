"""Start-up latency: how soon a learner sees the first point of the curve.

Two figures, printed, never asserted:

  first step: the real app under uvicorn on a free loopback port, warmed by one
      run; then N runs of the moons MLP (and a few of the digits CNN), each timed
      from `POST /api/runs` to the first `step` event readable from
      `GET /api/runs/{id}/events` (polled every 5 ms). p50 and p95.
      Targets: moons p50 < 0.3 s, p95 < 0.6 s; digits CNN p50 < 0.5 s.
  cli: `torchcanvas train` of the digits CNN for 10 epochs, the whole process,
      against the same training written by hand as a script (also a whole
      process), alternated. Target: cli / script <= 0.9.

    .venv/bin/python benchmarks/first_step.py [--runs 20] [--cnn-runs 5] [--cli-pairs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.training.graphs import mlp, seed_cnn  # noqa: E402

# The same training as the seed CNN graph, written the way a tutorial would.
HAND_SCRIPT = """
import time, torch, numpy as np
from torch import nn
from sklearn.datasets import load_digits
torch.manual_seed(0)
d = load_digits()
x = torch.tensor(d.data, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16.0
y = torch.tensor(d.target)
g = torch.Generator().manual_seed(0)
perm = torch.randperm(len(x), generator=g)
n_val = int(len(x) * 0.2)
val, tr = perm[:n_val], perm[n_val:]
train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[tr], y[tr]),
                                    batch_size=64, shuffle=True)
model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(16 * 4 * 4, 10))
opt = torch.optim.Adam(model.parameters(), lr=0.001)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(10):
    model.train()
    for xb, yb in train:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(x[val]).argmax(1) == y[val]).float().mean().item()
    print(epoch + 1, loss.item(), acc)
torch.save(model.state_dict(), "hand.pt")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(url: str, body: dict | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read() or b"null")


def first_step(base: str, graph: dict) -> float:
    """Seconds from POST /api/runs to the first stored `step` event; waits for the run's end."""
    start = time.perf_counter()
    run_id = _request(f"{base}/api/runs", graph)["id"]
    seen = None
    while seen is None:
        events = _request(f"{base}/api/runs/{run_id}/events")
        if any(e["type"] == "step" for e in events):
            seen = time.perf_counter() - start
        elif any(e["type"] == "status" and e["status"] in ("failed", "diverged")
                 for e in events):
            raise RuntimeError(f"run failed: {events[-1]}")
        else:
            time.sleep(0.005)
    while _request(f"{base}/api/runs/{run_id}")["status"] in ("queued", "running"):
        time.sleep(0.02)  # one run at a time: the next one measures start-up, not contention
    return seen


def bench_server(runs: int, cnn_runs: int) -> dict[str, list[float]]:
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--data-dir", data],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    _request(f"{base}/healthz")
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.1)
            moons = mlp("moons", epochs=1, n_samples=256, batch_size=16)
            moons["training"]["device"] = "auto"
            cnn = seed_cnn(epochs=1)
            first_step(base, moons)  # warm: the first run pays the server's own lazy imports
            first_step(base, cnn)
            out = {"moons": [first_step(base, moons) for _ in range(runs)],
                   "digits_cnn": [first_step(base, cnn) for _ in range(cnn_runs)]}
        finally:
            server.terminate()
            server.wait(30)
    return out


def bench_cli(pairs: int) -> tuple[list[float], list[float]]:
    cli, hand = [], []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        graph = Path(tmp, "cnn.json")
        graph.write_text(json.dumps(seed_cnn(epochs=10)))
        script = Path(tmp, "hand.py")
        script.write_text(HAND_SCRIPT)
        for i in range(pairs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "server.cli", "train", str(graph),
                            "--out", str(Path(tmp, f"out{i}"))], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cli.append(time.perf_counter() - start)
            start = time.perf_counter()
            subprocess.run([sys.executable, str(script)], cwd=tmp, check=True,
                           stdout=subprocess.DEVNULL)
            hand.append(time.perf_counter() - start)
    return cli, hand


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cnn-runs", type=int, default=5)
    parser.add_argument("--cli-pairs", type=int, default=3)
    args = parser.parse_args()
    times = bench_server(args.runs, args.cnn_runs)
    m, c = times["moons"], times["digits_cnn"]
    print(f"first step, moons MLP ({len(m)} runs): p50 {pct(m, .5):.3f} s  p95 {pct(m, .95):.3f} s"
          "  (target p50 < 0.3, p95 < 0.6)")
    print(f"first step, digits CNN ({len(c)} runs): p50 {statistics.median(c):.3f} s"
          "  (target p50 < 0.5)")
    if args.cli_pairs > 0:
        cli, hand = bench_cli(args.cli_pairs)
        ratio = statistics.median(a / b for a, b in zip(cli, hand, strict=True))
        print(f"torchcanvas train, digits CNN 10 epochs: {statistics.median(cli):.2f} s; "
              f"hand-written script {statistics.median(hand):.2f} s; ratio {ratio:.2f}"
              "  (target <= 0.9)")


if __name__ == "__main__":
    main()
