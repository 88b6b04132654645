"""Another process locks the database under a live server (issue 13, fault injection).

SQLite answers "database is locked" to a writer once the busy timeout passes. A
request must then get a clear 503 with Retry-After (never a 500), reads must be
served, nothing half-done; a lock shorter than the timeout is simply waited out;
a running run must lose nothing (its events wait, unsent, and are stored once
the lock goes), and its viewers see a prefix of the store.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import httpx

from .server_process import ServerProcess
from .test_crash_recovery import LONG_RUN

HOLD = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
"""


class Lock:
    """A separate process that holds the database's write lock for `seconds`."""

    def __init__(self, db_path, seconds: float):
        self.proc = subprocess.Popen([sys.executable, "-c", HOLD, str(db_path), str(seconds)],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "locked"

    def wait(self) -> None:
        assert self.proc.wait(30) == 0


def put(server: ServerProcess, name: str, graph: dict) -> httpx.Response:
    return httpx.put(f"{server.base}/api/projects/{name}", json=graph,
                     headers={"Origin": server.base}, timeout=30)


def test_a_locked_database_gets_503_loses_nothing_and_recovers(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_DB_BUSY_TIMEOUT_S", "1")
    data = tmp_path / "data"
    server = ServerProcess(data).start()
    db = data / "torchcanvas.sqlite3"
    try:
        assert put(server, "p", {"version": 1, "nodes": [], "name": "A"}).status_code == 200
        # A lock shorter than the busy timeout is waited out.
        lock = Lock(db, 0.4)
        assert put(server, "p", {"version": 1, "nodes": [], "name": "B"}).status_code == 200
        lock.wait()

        run_id = server.post("/api/runs", json=LONG_RUN).json()["id"]
        server.stream(run_id, until=lambda e: e["seq"] >= 3)
        seen: list[dict] = []
        viewer = threading.Thread(target=lambda: seen.extend(server.stream(run_id, timeout=60)))
        viewer.start()

        lock = Lock(db, 4.0)  # longer than the busy timeout: refused, clearly
        start = time.monotonic()
        r = put(server, "p", {"version": 1, "nodes": [], "name": "C"})
        assert r.status_code == 503 and "busy" in r.json()["detail"], r.text
        assert r.headers["retry-after"]
        assert time.monotonic() - start >= 0.9  # it waited for the lock first
        r = server.post("/api/runs", json=LONG_RUN)
        assert r.status_code in (429, 503), r.text
        assert server.get("/api/projects/p").json()["graph"]["name"] == "B"  # reads served
        assert server.get(f"/api/runs/{run_id}").status_code == 200
        assert server.post(f"/api/runs/{run_id}/stop").status_code == 200  # ends in the lock
        lock.wait()

        # The lock is gone: the run's held-back events and its final status are stored.
        deadline = time.monotonic() + 60
        while server.get(f"/api/runs/{run_id}").json()["status"] == "running":
            assert time.monotonic() < deadline, "the run never ended"
            time.sleep(0.2)
        viewer.join(60)
        run = server.get(f"/api/runs/{run_id}").json()
        assert run["status"] == "stopped", run
        stored = server.get(f"/api/runs/{run_id}/events", params={"after": -1}).json()
        assert [e["seq"] for e in stored] == list(range(len(stored))), "a gap in the store"
        assert stored[-1]["type"] == "status" and stored[-1]["status"] == "stopped"
        for event in seen:
            event.pop("_text")
        assert seen == stored[: len(seen)], "the viewer's view is not a prefix of the store"
        assert seen and seen[-1] == stored[-1]  # it followed the run to its end
        assert put(server, "p", {"version": 1, "nodes": [], "name": "D"}).status_code == 200
        assert server.get("/api/projects/p").json()["graph"]["name"] == "D"
    finally:
        server.stop()
