"""Benchmark: websocket fan-out cost, worker-to-viewer latency, and a 100k-event replay.

Run with `.venv/bin/python benchmarks/ws_fanout.py [--viewers 20] [--trials 3]`.

1. Training time with 20 live viewers against none (target: at most 5% slower).
   The same run (an MLP on `digits`) alternates between the two settings; the
   training time is the worker's own clock from its `running` to its final
   status, so viewer cost shows up only as far as it slows the trainer.
2. Latency from the worker to a viewer, p50 and p95 over every event and viewer
   (target p95 < 100 ms). The server here wraps the real training target so
   each event carries the worker's `time.time()` when it was emitted.
3. A new viewer replaying 100k stored events, connect to close (target < 2 s).

The server runs in its own process (`--serve`, the same app as `torchcanvas
serve` with the timestamping target), the viewers in this one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from http_validate import percentile, running_server  # noqa: E402

GRAPH = {
    "version": 1, "name": "fanout",
    "nodes": [
        {"id": "x", "type": "Input", "params": {"shape": [1, 8, 8]}},
        {"id": "flat", "type": "Flatten", "inputs": ["x"]},
        {"id": "fc1", "type": "Linear", "params": {"out_features": 128}, "inputs": ["flat"]},
        {"id": "act", "type": "ReLU", "inputs": ["fc1"]},
        {"id": "fc2", "type": "Linear", "params": {"out_features": 10}, "inputs": ["act"]},
    ],
    "output": "fc2",
    "data": {"dataset": "digits", "params": {}, "batch_size": 16},
    "training": {"epochs": 30, "seed": 0, "device": "cpu"},
}


# -- the server side (runs in the --serve process and its training workers) ------------


def timed_training(graph: dict, out_dir: str, emit: Any, should_stop: Any) -> None:
    """The real training target, with each event stamped when the worker emits it."""
    from server.training.worker import run_training

    def stamped(event: dict) -> None:
        event["emitted"] = time.time()
        event["cpu"] = time.process_time()  # the worker's CPU: steady when the machine is not
        emit(event)

    run_training(graph, out_dir, stamped, should_stop)


def timed_factory(graph: Any, out_dir: Path) -> Any:
    from server.training import TrainingRun

    return TrainingRun(graph, out_dir, target=timed_training)


def serve(port: int, data_dir: Path) -> None:
    import uvicorn

    from server.app.launch import UVICORN_OPTIONS, settings_for
    from server.app.main import create_app

    app = create_app(settings_for("127.0.0.1", data_dir))
    app.state.ctx.runs.run_factory = timed_factory
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", **UVICORN_OPTIONS)


# -- the viewers ------------------------------------------------------------------------


async def view(ws_url: str, out: list[tuple[float, dict]]) -> None:
    import websockets

    async with websockets.connect(ws_url, max_size=None) as ws:
        async for message in ws:
            out.append((time.time(), json.loads(message)))


async def one_run(url: str, viewers: int) -> tuple[float, float, list[float]]:
    """(training wall seconds and CPU seconds by the worker's clocks, latencies in ms)."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        r = await client.post("/api/runs", json=GRAPH)
        assert r.status_code == 201, r.text
        run_id = r.json()["id"]
        ws_url = url.replace("http", "ws") + f"/ws/runs/{run_id}"
        logs: list[list[tuple[float, dict]]] = [[] for _ in range(viewers)]
        tasks = [asyncio.create_task(view(ws_url, log)) for log in logs]
        while (await client.get(f"/api/runs/{run_id}")).json()["ended"] is None:
            await asyncio.sleep(0.5)
        await asyncio.gather(*tasks)
        events = (await client.get(f"/api/runs/{run_id}/events")).json()
    status = [e for e in events if e["type"] == "status"]
    assert status[-1]["status"] == "completed", status[-1]
    running = next(e for e in status if e["status"] == "running")
    seconds = status[-1]["emitted"] - running["emitted"]
    cpu = status[-1]["cpu"] - running["cpu"]
    latencies = [(t - e["emitted"]) * 1000 for log in logs for t, e in log if "emitted" in e]
    for log in logs:
        assert [e["seq"] for _, e in log] == list(range(len(events))), "gap or duplicate"
    return seconds, cpu, latencies


def fanout(viewers: int, trials: int) -> None:
    alone, crowded, cpu_alone, cpu_crowded, latencies = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp, \
            running_server(Path(tmp) / "data", [sys.executable, __file__, "--serve"]) as url:
        asyncio.run(one_run(url, 0))  # warm-up: dataset cache, imports
        for _ in range(trials):
            seconds, cpu, _ = asyncio.run(one_run(url, 0))
            alone.append(seconds)
            cpu_alone.append(cpu)
            seconds, cpu, lat = asyncio.run(one_run(url, viewers))
            crowded.append(seconds)
            cpu_crowded.append(cpu)
            latencies += lat
    # Runs next to each other share the machine's load: compare them in pairs.
    ratio = statistics.median(c / a for a, c in zip(alone, crowded, strict=True))
    cpu_ratio = statistics.median(c / a for a, c in zip(cpu_alone, cpu_crowded, strict=True))
    print(f"training time, {trials} alternating pairs (load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs): no viewers "
          f"{[round(s, 2) for s in alone]} s, {viewers} viewers "
          f"{[round(s, 2) for s in crowded]} s; median pair ratio {ratio:.3f} "
          f"(target <= 1.05: {'met' if ratio <= 1.05 else 'NOT met'})")
    print(f"worker CPU time: no viewers {[round(s, 2) for s in cpu_alone]} s, {viewers} viewers "
          f"{[round(s, 2) for s in cpu_crowded]} s; median pair ratio {cpu_ratio:.3f}")
    p50, p95 = statistics.median(latencies), percentile(latencies, 95)
    print(f"worker -> viewer latency over {len(latencies)} deliveries: p50 {p50:.1f} ms, "
          f"p95 {p95:.1f} ms (target p95 < 100 ms: {'met' if p95 < 100 else 'NOT met'})")


def replay(n: int, repeats: int = 5) -> None:
    from server.app.jsontext import dumps
    from server.app.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        store = Store(data / "torchcanvas.sqlite3")
        run_id = "00000000000000ff"
        store.create_run(run_id, GRAPH, "completed")
        events = [{"type": "step", "seq": i, "epoch": 1 + i // 1000, "step": i,
                   "loss": 1.0 / (i + 1)} for i in range(n - 1)]
        events.append({"type": "status", "seq": n - 1, "status": "completed", "error": None,
                       "time": time.time()})
        for i in range(0, n, 10_000):
            store.append_events(run_id, [(e["seq"], dumps(e)) for e in events[i:i + 10_000]])
        store.close()
        with running_server(data) as url:
            async def read() -> tuple[float, int]:
                import websockets

                start = time.perf_counter()
                count = 0
                async with websockets.connect(url.replace("http", "ws") + f"/ws/runs/{run_id}",
                                              max_size=None) as ws:
                    async for _ in ws:
                        count += 1
                return time.perf_counter() - start, count

            asyncio.run(read())  # warm-up: page cache
            reads = [asyncio.run(read()) for _ in range(repeats)]
    assert all(count == n for _, count in reads), reads
    times = sorted(seconds for seconds, _ in reads)
    best, median = times[0], statistics.median(times)
    print(f"replay of {n} stored events to a new viewer, {repeats} reads (load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs): best {best:.2f} s "
          f"({n / best:,.0f} events/s), median {median:.2f} s "
          f"(target < 2 s: {'met' if median < 2 else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--replay", type=int, default=100_000)
    parser.add_argument("--only", choices=["fanout", "replay"])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.data_dir)
        return
    if args.only != "fanout":
        replay(args.replay)
    if args.only != "replay":
        fanout(args.viewers, args.trials)


if __name__ == "__main__":
    main()
