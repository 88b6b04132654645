"""A real `torchcanvas serve` in a subprocess, on a free loopback port, that tests can kill.

Fault tests need what a TestClient cannot give: a process that SIGKILL ends
mid-write, restarted on the same data dir. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, data_dir: Path, port: int | None = None):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        env = os.environ | {"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.log = self.data_dir.parent / f"server-{self.port}.log"  # read when a test fails
        log = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port),
             "--data-dir", str(self.data_dir)],
            cwd=ROOT, env=env, stdout=log, stderr=log,
            start_new_session=True)  # its own process group: the server and its workers
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill9(self) -> None:
        """SIGKILL the server and its training workers at once, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill9()

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    # -- HTTP and websocket, as the page speaks -----------------------------------------
    def get(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(self.base + path, timeout=30, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.post(self.base + path, timeout=30,
                          headers={"Origin": self.base}, **kw)

    def stream(self, run_id: str, after: int = -1, until: Any = None,
               timeout: float = 60.0) -> list[dict[str, Any]]:
        """Events from the websocket until `until(event)` is true or the server closes."""
        from websockets.exceptions import ConnectionClosed
        from websockets.sync.client import connect

        url = f"ws://127.0.0.1:{self.port}/ws/runs/{run_id}?after={after}"
        events = []
        deadline = time.monotonic() + timeout
        with connect(url, origin=self.base, open_timeout=30) as ws:
            while time.monotonic() < deadline:
                try:
                    text = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
                except (ConnectionClosed, TimeoutError):
                    break
                event = json.loads(text)
                event["_text"] = text
                events.append(event)
                if until is not None and until(event):
                    break
        return events
