"""A training worker SIGKILLed in the middle of a checkpoint write (issue 13, fault injection).

Checkpoints go to a temporary file (fsync) that is renamed into place, so a
kill mid-write leaves the previous complete `last.pt` / `best.pt` and a temp
file that nobody serves. The kill lands while the worker holds the temp file
open: the test finds the process with that file among the server's and kills it.
After each kill the run ends `failed` with the signal, every checkpoint the
server serves loads whole, and the temp file is gone.
"""

from __future__ import annotations

import io
import os
import signal
import time
from pathlib import Path

import torch

from .server_process import ServerProcess

WIDE = 1024  # about 1 M parameters: a 4 MB file, long enough a write to land in
BIG_RUN = {
    "version": 1, "name": "big",
    "nodes": [
        {"id": "x", "type": "Input", "params": {"shape": [2]}},
        {"id": "fc1", "type": "Linear", "params": {"out_features": WIDE}, "inputs": ["x"]},
        {"id": "act", "type": "ReLU", "inputs": ["fc1"]},
        {"id": "fc2", "type": "Linear", "params": {"out_features": WIDE}, "inputs": ["act"]},
        {"id": "act2", "type": "ReLU", "inputs": ["fc2"]},
        {"id": "fc3", "type": "Linear", "params": {"out_features": 2}, "inputs": ["act2"]},
    ],
    "output": "fc3",
    "data": {"dataset": "moons", "params": {"n_samples": 80}, "batch_size": 64},
    "training": {"epochs": 10000, "seed": 0, "device": "cpu"},
}


def _group(server: ServerProcess) -> list[int]:
    """The server's process group: the server, its forkserver and training workers."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == server.proc.pid:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def _holder(path: Path, pids: list[int]) -> int | None:
    """The process that has `path` open, if any."""
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                    return pid
        except OSError:
            continue
    return None


def _kill_mid_write(folder: Path, server: ServerProcess, timeout: float = 90) -> str:
    """SIGKILL whoever writes a checkpoint temp file in `folder`; the temp's name."""
    deadline = time.monotonic() + timeout
    pids = _group(server)
    while time.monotonic() < deadline:
        for tmp in folder.glob(".*.pt.*.tmp"):
            pid = _holder(tmp, pids)
            if pid is not None and pid != server.proc.pid:
                os.kill(pid, signal.SIGKILL)
                if tmp.exists():  # never renamed: the kill landed mid-write
                    return tmp.name
        pids = _group(server)
    raise AssertionError("no checkpoint write was caught in time")


def _loads_whole(data: bytes) -> dict:
    checkpoint = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    shapes = {k: tuple(v.shape) for k, v in checkpoint["state_dict"].items()}
    assert shapes["fc2.weight"] == (WIDE, WIDE) and shapes["fc3.bias"] == (2,), shapes
    return checkpoint


def test_a_worker_killed_mid_checkpoint_never_leaves_a_torn_file_served(tmp_path,
                                                                        monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_CHECKPOINT_EVERY_S", "0")  # write at every epoch
    server = ServerProcess(tmp_path / "data").start()
    try:
        for _ in range(2):
            r = server.post("/api/runs", json=BIG_RUN)
            assert r.status_code == 201, r.text
            run_id = r.json()["id"]
            folder = tmp_path / "data" / "runs" / run_id
            server.stream(run_id, until=lambda e: e["type"] == "epoch" and e["epoch"] >= 2)
            assert (folder / "last.pt").is_file()  # a complete one exists before the kill
            torn = _kill_mid_write(folder, server)

            events = server.stream(run_id, timeout=60)
            assert events[-1]["status"] == "failed", events[-1]
            assert "SIGKILL" in events[-1]["error"] or "signal" in events[-1]["error"]
            for which in ("last", "best"):
                r = server.get(f"/api/runs/{run_id}/checkpoint", params={"which": which})
                assert r.status_code == 200, r.text
                _loads_whole(r.content)
            for name in ("last.pt", "best.pt"):
                _loads_whole((folder / name).read_bytes())
            # The temp file of the killed write is gone, not left to fill the disk.
            deadline = time.monotonic() + 10
            while (folder / torn).exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not list(folder.glob(".*.tmp")), list(folder.iterdir())
            assert server.get("/healthz").json()["active_runs"] == 0
    finally:
        server.stop()
