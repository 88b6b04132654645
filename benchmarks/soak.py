"""Soak: the real server under 20 viewers, 30 validate clients and back-to-back runs.

Run with `.venv/bin/python benchmarks/soak.py [--minutes 10] [--viewers 20]
[--validators 30]`. Starts `torchcanvas serve` in its own process group on a
free port and a temp data dir (the fault tests' `ServerProcess`), then for
`--minutes`:

- a trainer posts a short moons run, waits for its final status, and posts the
  next one (so run threads, worker processes and SQLite connections come and go);
- each viewer follows the current run over the websocket from seq 0 to the
  close, checks that what it got is gap-free and ends with a final status, and
  joins the next run;
- each validate client posts a 20-node graph in a loop (`--think-ms` apart).

Every ~30 s it prints the server process's open file descriptors, resident
memory, thread count and live child processes, with requests done and error
answers so far; at the end, the figures after the first run (the baseline: torch
and the worker pool are loaded by then) against the last ones, and whether
descriptors, threads and memory stayed flat. Error answers are any HTTP status
>= 400, a websocket that closed without the run's final status, or a gap.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults.server_process import ServerProcess  # noqa: E402

RUN = {
    "version": 1, "name": "soak",
    "nodes": [
        {"id": "x", "type": "Input", "params": {"shape": [2]}},
        {"id": "fc1", "type": "Linear", "params": {"out_features": 32}, "inputs": ["x"]},
        {"id": "act", "type": "ReLU", "inputs": ["fc1"]},
        {"id": "fc2", "type": "Linear", "params": {"out_features": 2}, "inputs": ["act"]},
    ],
    "output": "fc2",
    "data": {"dataset": "moons", "params": {"n_samples": 1000}, "batch_size": 32},
    "training": {"epochs": 15, "seed": 0, "device": "cpu"},
}


def validate_graph(n: int = 20) -> dict[str, Any]:
    """An MLP of n nodes: Linear / ReLU pairs, enough work to be a real validation."""
    nodes = [{"id": "x", "type": "Input", "params": {"shape": [16]}}]
    for i in range(1, n - 1, 2):
        nodes.append({"id": f"fc{i}", "type": "Linear", "params": {"out_features": 32},
                      "inputs": [nodes[-1]["id"]]})
        nodes.append({"id": f"act{i}", "type": "ReLU", "inputs": [f"fc{i}"]})
    nodes.append({"id": "out", "type": "Linear", "params": {"out_features": 4},
                  "inputs": [nodes[-1]["id"]]})
    return {"version": 1, "nodes": nodes, "output": "out"}


@dataclass
class Tally:
    requests: int = 0
    errors: int = 0
    runs: int = 0
    events: int = 0
    streams: int = 0
    problems: list[str] = field(default_factory=list)
    current_run: str | None = None
    run_changed: asyncio.Event = field(default_factory=asyncio.Event)
    started: float = 0.0

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.problems) < 20:
            self.problems.append(what)
            print(f"  error at {time.monotonic() - self.started:.0f} s: {what}", flush=True)


def sample(pid: int) -> dict[str, float]:
    """The server process's fds, RSS (MB), threads and live children, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    children = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += len((task / "children").read_text().split())
    return {"fds": len(os.listdir(f"/proc/{pid}/fd")),
            "rss_mb": int(fields["VmRSS"].split()[0]) / 1024,
            "threads": int(fields["Threads"]), "children": children}


async def trainer(base: str, tally: Tally, stop_at: float) -> None:
    headers = {"Origin": base}
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while time.monotonic() < stop_at:
            try:
                await one_run(client, tally, headers)
            except httpx.HTTPError as exc:
                tally.error(f"trainer: {type(exc).__name__}: {exc}")
                await asyncio.sleep(1)


async def one_run(client: httpx.AsyncClient, tally: Tally, headers: dict[str, str]) -> None:
    """Post a run and wait for its final status."""
    r = await client.post("/api/runs", json=RUN, headers=headers)
    tally.requests += 1
    if r.status_code != 201:
        tally.error(f"POST /api/runs: {r.status_code} {r.text[:200]}")
        await asyncio.sleep(1)
        return
    run_id = r.json()["id"]
    tally.current_run = run_id
    tally.run_changed.set()
    tally.run_changed = asyncio.Event()
    while True:  # the slot is free once the run's final status is stored
        await asyncio.sleep(0.5)
        r = await client.get(f"/api/runs/{run_id}")
        tally.requests += 1
        if r.status_code != 200:
            tally.error(f"GET run: {r.status_code}")
        elif r.json()["status"] not in ("queued", "running"):
            if r.json()["status"] != "completed":
                tally.error(f"run ended {r.json()['status']}: {r.json()['error']}")
            break
    tally.runs += 1


async def viewer(base: str, tally: Tally, stop_at: float) -> None:
    from websockets.asyncio.client import connect

    seen: str | None = None
    while time.monotonic() < stop_at:
        run_id = tally.current_run
        if run_id is None or run_id == seen:
            try:
                await asyncio.wait_for(tally.run_changed.wait(), 5)
            except TimeoutError:
                pass
            continue
        seen = run_id
        url = base.replace("http", "ws") + f"/ws/runs/{run_id}?after=-1"
        seqs, final = [], False
        try:
            async with connect(url, origin=base, max_size=None, open_timeout=30) as ws:
                async for text in ws:
                    event = json.loads(text)
                    seqs.append(event["seq"])
                    final = event["type"] == "status" and event["status"] in (
                        "completed", "failed", "stopped", "interrupted", "diverged")
        except Exception as exc:  # a refused or broken socket is an error answer
            tally.error(f"websocket: {type(exc).__name__}: {exc}")
            continue
        tally.streams += 1
        tally.events += len(seqs)
        if seqs != list(range(len(seqs))):
            tally.error(f"viewer of {run_id} saw a gap or a repeat")
        elif not final:
            tally.error(f"viewer of {run_id}: closed before the final status")


async def validator(base: str, tally: Tally, stop_at: float, think: float) -> None:
    graph = validate_graph()
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while time.monotonic() < stop_at:
            try:
                r = await client.post("/api/graphs/validate", json=graph)
            except httpx.HTTPError as exc:
                tally.error(f"validate: {type(exc).__name__}")
                continue
            tally.requests += 1
            if r.status_code != 200 or not r.json()["valid"]:
                tally.error(f"validate: {r.status_code} {r.text[:200]}")
            await asyncio.sleep(think)


def line(elapsed: float, s: dict[str, float], tally: Tally) -> str:
    return (f"{elapsed:6.0f} s  fds {s['fds']:4d}  rss {s['rss_mb']:7.1f} MB  "
            f"threads {s['threads']:3d}  children {s['children']:2d}  "
            f"requests {tally.requests:7d}  errors {tally.errors:3d}  runs {tally.runs:3d}  "
            f"streams {tally.streams:4d}  events {tally.events:8d}")


async def load(server: ServerProcess, args: argparse.Namespace, tally: Tally,
               stop_at: float, until_runs: int | None = None) -> list[dict[str, float]]:
    """Every client at once until `stop_at` (or until `until_runs` runs are done);
    prints a line every `--every` seconds and returns those samples."""
    start = time.monotonic()
    if until_runs is not None:
        stop_at = start + 600
    tasks = [asyncio.create_task(trainer(server.base, tally, stop_at))]
    tasks += [asyncio.create_task(viewer(server.base, tally, stop_at))
              for _ in range(args.viewers)]
    tasks += [asyncio.create_task(validator(server.base, tally, stop_at, args.think_ms / 1000))
              for _ in range(args.validators)]
    samples = []
    next_print = start + args.every
    while not all(t.done() for t in tasks):
        await asyncio.sleep(0.5)
        if until_runs is not None and tally.runs >= until_runs:
            stop_at = time.monotonic()
            for t in tasks:
                t.cancel()
            break
        if time.monotonic() >= next_print:
            samples.append(sample(server.proc.pid))
            print(line(time.monotonic() - tally.started, samples[-1], tally), flush=True)
            next_print += args.every
    await asyncio.gather(*tasks, return_exceptions=True)
    return samples


async def at_rest(server: ServerProcess) -> dict[str, float]:
    """The server's figures once every client has left and the request threads idle
    for 10 s have been retired (anyio retires them when the next request comes)."""
    await asyncio.sleep(11)
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        await client.get("/api/runs")
    await asyncio.sleep(1)
    return sample(server.proc.pid)


async def soak(server: ServerProcess, args: argparse.Namespace) -> int:
    tally = Tally()
    tally.started = time.monotonic()
    print(line(0, sample(server.proc.pid), tally) + "  <- started", flush=True)
    # Warm-up: the first run loads torch and the worker pool, and every kind of
    # client connects once; the baseline is taken at rest after it.
    await load(server, args, tally, 0, until_runs=1)
    base = await at_rest(server)
    print(line(time.monotonic() - tally.started, base, tally) + "  <- baseline, at rest",
          flush=True)
    errors_before = tally.errors
    samples = await load(server, args, tally, time.monotonic() + args.minutes * 60)
    end = await at_rest(server)
    print(line(time.monotonic() - tally.started, end, tally) + "  <- end, at rest", flush=True)
    growth = {k: end[k] - base[k] for k in base}
    flat = {"fds": growth["fds"] <= 10, "threads": growth["threads"] <= 4,
            "rss": growth["rss_mb"] <= max(30.0, 0.1 * base["rss_mb"])}
    print(f"start (at rest after one run): fds {base['fds']}, rss {base['rss_mb']:.1f} MB, "
          f"threads {base['threads']}, children {base['children']}")
    print(f"end (at rest):                 fds {end['fds']}, rss {end['rss_mb']:.1f} MB, "
          f"threads {end['threads']}, children {end['children']}")
    if samples:
        print("under load: " + ", ".join(
            f"{k} {min(s[k] for s in samples):.0f}..{max(s[k] for s in samples):.0f}"
            for k in ("fds", "rss_mb", "threads")))
    print(f"growth: fds {growth['fds']:+d}, rss {growth['rss_mb']:+.1f} MB, "
          f"threads {growth['threads']:+d}: "
          + ", ".join(f"{k} {'flat' if ok else 'GROWING'}" for k, ok in flat.items()))
    print(f"{tally.requests} requests, {tally.runs} runs, {tally.streams} streams with "
          f"{tally.events} events, {tally.errors} error answers "
          f"({tally.errors - errors_before} during the soak)")
    for problem in tally.problems:
        print("  error:", problem)
    return 0 if all(flat.values()) and tally.errors == 0 else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--validators", type=int, default=30)
    parser.add_argument("--think-ms", type=float, default=50.0,
                        help="pause between one validate client's requests")
    parser.add_argument("--every", type=float, default=30.0, help="seconds between lines")
    args = parser.parse_args()
    print(f"soak: {args.minutes:g} min, {args.viewers} viewers, {args.validators} validate "
          f"clients ({args.think_ms:g} ms apart), back-to-back runs", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data").start()
        try:
            code = asyncio.run(soak(server, args))
        finally:
            server.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()
