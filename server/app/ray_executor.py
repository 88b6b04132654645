"""`RayTrainingRun`: a training run on a Ray cluster, driven like a local `TrainingRun`.

`serve --executor ray` makes the run manager build these instead of local
worker processes; they have the same interface (`start`, `poll`, `cancel`,
`kill`, `close`, `done`, `status`), so nothing else in the server changes.

One run is a Ray Train `TorchTrainer` with `workers` DDP workers (each runs
`server.training.distributed.train_rank`). `fit()` blocks, so it runs in a
small Ray task (the run's driver); killing that task ends the trainer and its
workers. The server and the workers talk through one actor per run:

- rank 0 puts its events there (actor calls from one caller run in order) and
  the server takes them, numbering `seq` itself from 0 as `TrainingRun` does;
- `cancel()` sets a flag there that rank 0 reads between batches; all ranks
  agree on it before each batch, so the run ends `stopped` at the same step;
- rank 0 writes checkpoints into a folder of its own node and sends the files
  there before its final status, so they reach the server's run folder on any
  cluster; the server writes them before it hands out that final status.

A run whose driver task fails (a worker killed, a node lost) ends `failed`
with Ray's reason. Ray is imported only here, and only when a run starts.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from server.training.events import StatusEvent, is_final
from server.training.worker import Stamped

STOP_POLL_S = 0.2
# When rank 0 reports `failed` (e.g. an all-reduce broke), wait this long for Ray to
# say why the trainer failed (a worker that died names itself there) before passing
# rank 0's reason on alone.
WHY_WAIT_S = 10.0


def _status(status: str, error: str | None = None) -> dict[str, Any]:
    return StatusEvent(seq=0, status=status, error=error).model_dump(mode="json")


def ensure_ray(address: str | None) -> Any:
    """Import Ray and connect to `address` (None: start a local instance) once."""
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("the Ray executor needs Ray: pip install 'torchcanvas[ray]'") from exc
    if not ray.is_initialized():
        # The workers import this project: ship it with the job unless the
        # cluster's image already has it installed.
        root = Path(__file__).resolve().parents[2]
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False,
                 runtime_env={"py_modules": [str(root / "server")]} if address else None)
    return ray


# -- the per-run actor and the worker function (they run on the cluster) ------------

class Channel:
    """Events and checkpoint files from rank 0 to the server; the stop flag the other way."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self.stop = False
        self.pids: dict[int, int] = {}

    def hello(self, rank: int, pid: int) -> None:
        self.pids[rank] = pid

    def worker_pids(self) -> dict[int, int]:
        return dict(self.pids)

    def put(self, events: list[dict[str, Any]], files: dict[str, bytes] | None = None) -> None:
        self.files.update(files or {})
        self.events.extend(events)

    def take(self) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
        events, files = self.events, self.files
        self.events, self.files = [], {}
        return events, files

    def request_stop(self) -> None:
        self.stop = True

    def should_stop(self) -> bool:
        return self.stop


def train_worker(config: dict[str, Any]) -> None:
    """One Ray Train worker: run the loop as this rank; rank 0 reports through the channel."""
    import ray
    import ray.train
    import ray.train.torch
    import torch

    from server.training.distributed import train_rank
    from server.training.worker import worker_threads

    torch.set_num_threads(worker_threads())
    channel = config["channel"]
    rank = ray.train.get_context().get_world_rank()
    ray.get(channel.hello.remote(rank, os.getpid()))
    device = ray.train.torch.get_device()
    stop = threading.Event()
    if rank == 0:
        def watch() -> None:  # one remote call per STOP_POLL_S, not one per batch
            while not stop.is_set():
                if ray.get(channel.should_stop.remote()):
                    stop.set()
                time.sleep(STOP_POLL_S)
        threading.Thread(target=watch, daemon=True).start()

    held: list[dict[str, Any]] = []

    def emit(event: dict[str, Any]) -> None:
        if is_final(event):
            held.append(event)  # sent after the checkpoint files
        else:
            channel.put.remote([event])

    with tempfile.TemporaryDirectory(prefix="torchcanvas-ray-run") as folder:
        train_rank(config["graph"], folder, emit, stop.is_set, device)
        if rank == 0:
            files = {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}
            ray.get(channel.put.remote(held, files))
    stop.set()


def fit(graph: dict[str, Any], channel: Any, workers: int, gpus_per_worker: float,
        name: str, storage: str | None) -> None:
    """The run's driver: a TorchTrainer over `workers` workers; raises when training fails."""
    import ray.train
    from ray.train.torch import TorchTrainer

    use_gpu = gpus_per_worker > 0
    resources = {"CPU": 1, **({"GPU": gpus_per_worker} if use_gpu else {})}
    trainer = TorchTrainer(
        train_worker,
        train_loop_config={"graph": graph, "channel": channel},
        scaling_config=ray.train.ScalingConfig(num_workers=workers, use_gpu=use_gpu,
                                               resources_per_worker=resources),
        run_config=ray.train.RunConfig(name=name, storage_path=storage,
                                       failure_config=ray.train.FailureConfig(max_failures=0)),
    )
    trainer.fit()


# -- the server side ------------------------------------------------------------------

class RayTrainingRun(Stamped):
    """A training run on Ray with `TrainingRun`'s interface (see server/training/worker.py)."""

    def __init__(self, graph: Any, out_dir: str | Path, *, address: str | None = None,
                 workers: int = 2, gpus_per_worker: float = 0.0,
                 storage: str | None = None) -> None:
        if hasattr(graph, "model_dump"):
            graph = graph.model_dump(mode="json")
        self.graph: dict[str, Any] = graph
        self.out_dir = Path(out_dir)
        self.address, self.workers, self.gpus = address, workers, gpus_per_worker
        self.storage = storage
        self._ray: Any = None
        self._channel: Any = None
        self._ref: Any = None
        self._seq = 0
        self._pending: list[dict[str, Any]] = []
        self._final: dict[str, Any] | None = None
        self._held: tuple[dict[str, Any], float] | None = None  # rank 0's `failed`, held
        self._delivered_final = False
        self._cancelled = False
        self.status: str | None = None

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        if self._ref is not None or self._final is not None:
            raise RuntimeError("this run was already started")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._stamp(_status("queued"))
        try:
            ray = self._ray = ensure_ray(self.address)
            self._channel = ray.remote(num_cpus=0)(Channel).remote()
            driver = ray.remote(num_cpus=0, max_retries=0)(fit)
            self._ref = driver.remote(self.graph, self._channel, self.workers, self.gpus,
                                      f"torchcanvas-{self.out_dir.name}", self.storage)
        except Exception as exc:  # no cluster, no Ray: the run fails, the server lives on
            self._stamp(_status("failed", f"could not start the run on Ray: {exc}"))

    @property
    def done(self) -> bool:
        return self._delivered_final

    def worker_pids(self, timeout: float = 60.0) -> dict[int, int]:
        """{rank: pid} of the Ray Train workers once they all said hello (for tests, tools)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self._ray.get(self._channel.worker_pids.remote())
            if len(pids) == self.workers:
                return pids
            time.sleep(0.2)
        raise TimeoutError("the Ray workers did not start in time")

    def cancel(self) -> None:
        """Ask every worker to stop before its next batch. Harmless when repeated."""
        self._cancelled = True
        if self._channel is not None and self._final is None:
            self._channel.request_stop.remote()

    def kill(self) -> None:
        """End the driver task (and with it the trainer and its workers) now."""
        if self._ref is None or self._final is not None:
            return
        self._ray.cancel(self._ref, force=True, recursive=True)
        self._collect(wait=0.0)
        if self._final is None and self._held is not None:
            self._stamp(self._held[0])
        if self._final is None:
            self._stamp(_status("stopped" if self._cancelled else "failed",
                                "the Ray training was killed"))

    def close(self, grace: float = 10.0) -> None:
        """Stop the run if it still trains (cancel, then kill after `grace` s); drop the actor."""
        if self._ref is not None and self._final is None:
            self.cancel()
            deadline = time.monotonic() + grace
            while self._final is None and time.monotonic() < deadline:
                self._collect(wait=0.2)
            self.kill()
        if self._channel is not None:
            self._ray.kill(self._channel)
            self._channel = None

    # -- events --------------------------------------------------------------
    def poll(self, timeout: float = 0.0) -> list[dict[str, Any]]:
        """Events ready now, in order; waits up to `timeout` seconds for the first."""
        if self._delivered_final:
            return []
        deadline = time.monotonic() + max(0.0, timeout)
        while not self._pending and self._ref is not None:
            self._collect(wait=min(0.1, max(0.0, deadline - time.monotonic())))
            if self._pending or time.monotonic() >= deadline:
                break
        out, self._pending = self._pending, []
        if self._final is not None and out and out[-1] is self._final:
            self._delivered_final = True
        return out

    def _collect(self, wait: float) -> None:
        """Take the channel's events (files first); if the driver ended, say how."""
        if self._final is not None:
            return
        ended, _ = self._ray.wait([self._ref], timeout=wait)
        self._take()
        if not ended:
            if self._held is not None and time.monotonic() - self._held[1] > WHY_WAIT_S:
                self._stamp(self._held[0])  # Ray has not said more: rank 0's reason alone
            return
        self._take()  # whatever rank 0 sent just before the driver returned
        if self._final is not None:
            return
        try:
            self._ray.get(self._ref)
            reason = None
        except Exception as exc:  # TrainingFailedError, TaskCancelledError, ...
            reason = f"the Ray training failed: {_first_line(exc)}"
        if self._held is not None:
            event = self._held[0]
            if reason is not None:
                event["error"] = f"{reason} (rank 0: {event['error']})"
            self._stamp(event)
        else:
            self._stamp(_status("stopped" if self._cancelled else "failed",
                                reason or "the Ray training ended without a final status"))

    def _take(self) -> None:
        try:
            events, files = self._ray.get(self._channel.take.remote(), timeout=30)
        except Exception:
            return  # the actor is gone (killed with the cluster): the driver's end tells why
        for name, data in files.items():
            (self.out_dir / Path(name).name).write_bytes(data)
        for event in events:
            if event.get("type") == "status" and event.get("status") == "failed":
                self._held = (event, time.monotonic())  # stamped once Ray says why
            else:
                self._stamp(event)


def _first_line(exc: BaseException) -> str:
    """The gist of Ray's error: the driver task's own exception, its first real line."""
    while getattr(exc, "cause", None) is not None and exc.cause is not exc:
        exc = exc.cause  # a RayTaskError wraps what fit() raised
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # Ray colours its messages
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    picked = lines[:1]
    # Ray Train lists each failed worker as "[Rank N Error Snippet]:" then its error,
    # and says why an actor died; keep those, not the actor ids and log paths.
    for i, line in enumerate(lines[1:], 1):
        if line.startswith("[Rank ") and i + 1 < len(lines):
            picked.append(f"{line.strip('[]:').replace(' Error Snippet', '')}: {lines[i + 1]}")
        elif line.startswith("The actor is dead because"):
            picked.append(line.split(" Some common causes")[0])
    return " ".join(picked)[:800]


def ray_factory(address: str | None, workers: int, gpus_per_worker: float,
                storage: str | None = None) -> Any:
    """A `RunManager` run factory that puts every run on Ray."""
    def factory(graph: Any, out_dir: Path) -> RayTrainingRun:
        return RayTrainingRun(graph, out_dir, address=address, workers=workers,
                              gpus_per_worker=gpus_per_worker, storage=storage)
    return factory
