"""Benchmark: `POST /api/graphs/validate` over real HTTP for a 100-node graph (target p95 < 50 ms).

Run with `.venv/bin/python benchmarks/http_validate.py [--n 300]`. Starts
`torchcanvas serve` on a free port with a temp data dir in a separate process
(so client and server do not share a GIL), warms up, then sends the same
100-node graph n times from one keep-alive client and prints p50 and p95 of
the round trip: JSON parsing, the Host/Origin guards, validation with shape
inference and parameter counts, and the JSON answer.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from validate_speed import big_graph  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(data_dir: Path, argv: list[str] | None = None) -> Iterator[str]:
    """A server process on a free port; yields its base URL, stops it on exit."""
    port = free_port()
    cmd = argv or [sys.executable, "-m", "server.cli", "serve"]
    proc = subprocess.Popen([*cmd, "--port", str(port), "--data-dir", str(data_dir)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=os.environ | {"PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if q < 100 \
        else max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    graph = big_graph(100)
    assert len(graph["nodes"]) == 100
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp) / "data") as url, \
            httpx.Client(base_url=url) as client:
        for _ in range(20):  # warm-up: imports, caches, connection
            r = client.post("/api/graphs/validate", json=graph)
            assert r.status_code == 200 and r.json()["valid"], r.text[:300]
        times = []
        for _ in range(args.n):
            start = time.perf_counter()
            r = client.post("/api/graphs/validate", json=graph)
            times.append((time.perf_counter() - start) * 1000)
            assert r.status_code == 200
    p50, p95 = statistics.median(times), percentile(times, 95)
    print(f"validate over HTTP, 100 nodes, n={args.n}: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
          f"(target p95 < 50 ms: {'met' if p95 < 50 else 'NOT met'}); "
          f"{len(r.content)} bytes per answer")


if __name__ == "__main__":
    main()
