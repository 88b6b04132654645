"""Runs on a real local Ray instance (`ray.init(num_cpus=2)`, one for the module).

Each run is a 2-worker Ray Train `TorchTrainer` (DDP over gloo) driven by the
real `RunManager` with the Ray factory, so the events go through the same store
as local runs. Skipped when Ray is not installed (`pip install 'torchcanvas[ray]'`;
`make setup` installs it, so CI runs these).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray

from server.app.ray_executor import RayTrainingRun, ray_factory  # noqa: E402
from server.app.runs import RunManager  # noqa: E402
from server.app.settings import Settings  # noqa: E402
from server.app.store import Store  # noqa: E402
from server.compiler import compile_graph  # noqa: E402
from server.training.checkpoint import load_checkpoint  # noqa: E402
from server.training.events import parse_event  # noqa: E402
from tests.training.graphs import mlp  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    # Ray's processes inherit this environment (the restart test's second job too):
    # one thread per worker, as 2 workers share the 2 CPUs Ray is given.
    saved = os.environ.get("TORCHCANVAS_TRAIN_THREADS")
    os.environ["TORCHCANVAS_TRAIN_THREADS"] = "1"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
                                       "TORCHCANVAS_TRAIN_THREADS": "1"}})
    try:
        yield
    finally:
        ray.shutdown()
        if saved is None:
            os.environ.pop("TORCHCANVAS_TRAIN_THREADS", None)
        else:
            os.environ["TORCHCANVAS_TRAIN_THREADS"] = saved


@pytest.fixture
def manager(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", flush_interval_s=0.05)
    settings.data_dir.mkdir(parents=True)
    m = RunManager(Store(settings.db_path), settings, ray_factory(None, 2, 0.0))
    yield m
    m.shutdown()


def _events(m: RunManager, run_id: str) -> list[dict]:
    return [json.loads(text) for _, text in m.events(run_id, -1, 100_000)]


def _wait_for(m: RunManager, run_id: str, kind: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(e["type"] == kind for e in _events(m, run_id)):
            return
        assert m.is_active(run_id), _events(m, run_id)[-1]
        time.sleep(0.1)
    raise AssertionError(f"no {kind} event in {timeout} s")


def test_two_worker_run_completes_like_a_local_one(manager):
    graph = mlp("moons", n_samples=256, epochs=3, batch_size=32)
    run_id = manager.start(graph, graph)
    assert manager.wait(run_id, 180)
    events = _events(manager, run_id)
    assert [e["seq"] for e in events] == list(range(len(events)))  # contiguous, from 0
    for e in events:
        parse_event(e)  # the schema local runs use (extra fields are refused)
    statuses = [e["status"] for e in events if e["type"] == "status"]
    assert statuses == ["queued", "running", "completed"], events[-1]
    epochs = [e for e in events if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert set(epochs[-1]["weight_norms"]) == set(epochs[-1]["grad_norms"]) == {"fc1", "fc2"}
    assert {"step", "boundary"} <= {e["type"] for e in events}
    # the checkpoints came back into the server's run folder and load into the plain model
    out = manager.settings.runs_dir / run_id
    model = compile_graph(graph)
    for name in ("best.pt", "last.pt"):
        model.load_state_dict(load_checkpoint(out / name)["state_dict"])


def test_stop_ends_the_run_stopped(manager):
    graph = mlp("moons", n_samples=256, epochs=10_000, batch_size=32)
    run_id = manager.start(graph, graph)
    _wait_for(manager, run_id, "step")
    assert manager.stop(run_id)
    assert manager.wait(run_id, 60)
    events = _events(manager, run_id)
    assert events[-1]["status"] == "stopped", events[-1]
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert (manager.settings.runs_dir / run_id / "last.pt").exists()


def test_a_killed_worker_fails_the_run_with_the_reason(tmp_path):
    graph = mlp("moons", n_samples=256, epochs=10_000, batch_size=32)
    run = RayTrainingRun(graph, tmp_path / "run", workers=2)
    run.start()
    try:
        pids = run.worker_pids()
        os.kill(pids[1], signal.SIGKILL)
        events = []
        deadline = time.monotonic() + 120
        while not run.done and time.monotonic() < deadline:
            events += run.poll(0.5)
    finally:
        run.close()
    assert run.done and events[-1]["status"] == "failed", events[-1:]
    error = events[-1]["error"]
    assert error.startswith("the Ray training failed:") and "worker" in error.lower(), error
    assert [e["seq"] for e in events] == list(range(len(events)))


SERVER = r"""
import json, sys, time
from pathlib import Path
from server.app.ray_executor import ray_factory
from server.app.runs import RunManager
from server.app.settings import Settings
from server.app.store import Store

settings = Settings(data_dir=Path(sys.argv[1]), flush_interval_s=0.05)
settings.data_dir.mkdir(parents=True, exist_ok=True)
manager = RunManager(Store(settings.db_path), settings, ray_factory(sys.argv[2], 2, 0.0))
graph = json.loads(sys.argv[3])
run_id = manager.start(graph, graph)
while not any(json.loads(t)["type"] == "step" for _, t in manager.events(run_id, -1, 10_000)):
    time.sleep(0.1)
print(f"RUN {run_id}", flush=True)
time.sleep(600)  # the test kills this process
"""


def test_a_restarted_server_marks_the_run_interrupted_and_ray_frees_it(tmp_path):
    """The server process dies mid-run while the cluster stays up (as `kill -9` would)."""
    data = tmp_path / "data"
    graph = mlp("moons", n_samples=256, epochs=10_000, batch_size=32)
    address = ray.get_runtime_context().gcs_address
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(data), address,
                               json.dumps(graph)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        # Ray's own warnings may come first on stdout: read up to our line.
        run_id = ""
        for line in server.stdout:
            if line.startswith("RUN "):
                run_id = line.split()[1]
                break
        assert run_id, "the server did not start its run"
        assert ray.available_resources().get("CPU", 0) < 2  # the workers hold the CPUs
    finally:
        server.kill()
        server.wait()
    # The restarted server: what `create_app` does on start.
    settings = Settings(data_dir=data)
    store = Store(settings.db_path)
    assert RunManager(store, settings).recover() == [run_id]
    run = store.get_run(run_id)
    assert run["status"] == "interrupted", run
    # Ray ends the dead server's trainer and workers (they belonged to its driver).
    deadline = time.monotonic() + 60
    while ray.available_resources().get("CPU", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert ray.available_resources().get("CPU", 0) == 2
