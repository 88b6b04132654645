"""Slow clients against a real server (issue 13 case 6): loopback sockets only, bounded.

Half-sent requests are closed once the header deadline passes, and sockets past
the connection cap are closed at once; a normal request still gets its answer.
A websocket viewer that never reads while a run pours out boundary grids costs
the server a bounded amount of memory, is disconnected once its writes stall
(uvicorn's graceful close alone waited forever for bytes it could not send), and
slows neither the run nor the other viewers.
"""

from __future__ import annotations

import base64
import os
import socket
import statistics
import threading
import time
from collections import deque
from pathlib import Path

import httpx

from server.app.connlimits import CHECK_S
from server.app.routes.stream import STUCK_GRACE_S
from server.app.settings import Settings

from .server_process import ServerProcess

HALF_SENT = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def _closed(sock: socket.socket) -> bool:
    """True once the server has closed its end (recv sees EOF or a reset)."""
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_half_sent_requests_are_closed_and_the_cap_holds(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_HEADER_TIMEOUT_S", "1")
    monkeypatch.setenv("TORCHCANVAS_MAX_CONNECTIONS", "40")
    server = ServerProcess(tmp_path / "data").start()
    socks: list[socket.socket] = []
    try:
        for _ in range(60):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.sendall(HALF_SENT)
            s.setblocking(False)
            socks.append(s)
        time.sleep(0.3)
        # Past the cap: closed at once, long before any header deadline.
        assert sum(_closed(s) for s in socks) >= 20
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(_closed(s) for s in socks):
            time.sleep(0.2)
        assert all(_closed(s) for s in socks), "half-sent requests left open"
        # A normal client is still served.
        assert httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200
    finally:
        for s in socks:
            s.close()
        server.stop()


# -- a websocket client that never reads --------------------------------------------------

FAST_BOUNDARIES = {  # one step per epoch, a 40 KB boundary grid after each: bytes pile up
    "version": 1, "name": "grids",
    "nodes": [
        {"id": "x", "type": "Input", "params": {"shape": [2]}},
        {"id": "fc1", "type": "Linear", "params": {"out_features": 16}, "inputs": ["x"]},
        {"id": "act", "type": "ReLU", "inputs": ["fc1"]},
        {"id": "fc2", "type": "Linear", "params": {"out_features": 2}, "inputs": ["act"]},
    ],
    "output": "fc2",
    "data": {"dataset": "moons", "params": {"n_samples": 100}, "batch_size": 100},
    "training": {"epochs": 10000, "seed": 0, "device": "cpu"},
}


def _anon_mb(pid: int) -> float:
    """The server's anonymous resident memory: where queued events live. File-backed
    pages (torch's libraries, paged in and out as the machine is busy) are left out."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no RssAnon")


def _open_and_never_read(server: ServerProcess, run_id: str, after: int = -1) -> socket.socket:
    """A websocket handshake on a socket with a tiny receive buffer, then silence."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws/runs/{run_id}?after={after} HTTP/1.1\r\n"
               f"Host: 127.0.0.1:{server.port}\r\n"
               f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\nOrigin: {server.base}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)  # the handshake answer only, byte by byte: nothing of the stream
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def _server_holds(server: ServerProcess, client: socket.socket) -> bool:
    """True while the server process still has its end of `client`'s connection open.

    Read from the kernel, not the socket: a server that closes with bytes still
    queued leaves its FIN behind them, so this client, which reads nothing, would
    never see the close; the socket leaves the server's descriptors all the same."""
    ports = (server.port, client.getsockname()[1])
    inode = None
    for line in open("/proc/net/tcp").readlines()[1:]:
        fields = line.split()
        local, remote = (int(a.split(":")[1], 16) for a in fields[1:3])
        if (local, remote) == ports:
            inode = fields[9]
    if inode is None:
        return False
    held = f"socket:[{inode}]"
    fd_dir = f"/proc/{server.proc.pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(f"{fd_dir}/{fd}") == held:
                return True
        except OSError:
            continue
    return False


def _follow(server: ServerProcess, run_id: str, seen: list[dict]) -> None:
    """Follow a run to its end as the page does: resume with ?after= when closed early."""
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and not (seen and seen[-1]["type"] == "status"
                                               and seen[-1]["status"] == "stopped"):
        after = seen[-1]["seq"] if seen else -1
        seen.extend(server.stream(run_id, after=after, timeout=deadline - time.monotonic()))


# The stuck viewer's bound is the server's own: its queue, plus the batch its sender took
# from the queue before its writes stalled. The stall timeout is long, so that only that
# bound can free the socket before the deadline (the drop, STUCK_GRACE_S for the sender,
# as long for the close, then up to two connection checks: 20-25 s here, 45 s allowed).
# A server that queued without bound would hold the socket until the stall timeout and,
# meanwhile, every grid of the run (2-3 MB/s here, about 100 MB by the deadline on an
# idle machine): its memory check or the deadline fails first.
VIEWER_QUEUE_MB = Settings(data_dir=Path(".")).viewer_queue_bytes // 2**20
STALL_TIMEOUT_S = 60
RELEASE_S = 45
# What else moves while the run pours out grids: the run thread's batch (a boundary event
# is 0.4 MB as a dict; a batch is bounded in numbers, about 20 grids, since batches of
# hundreds of grids made 60-116 MB spikes here), the other viewer, the allocator: 18-23 MB
# measured, idle or under load. An unbounded queue is still caught: it holds the socket
# past RELEASE_S (the deadline below) and grows about 100 MB by then.
NOISE_MB = 45
BOUND_MB = 2 * VIEWER_QUEUE_MB + NOISE_MB
SETTLE_S = 3.0  # the run's and the follower's warm-up, kept out of the baseline


def test_a_viewer_that_never_reads_costs_bounded_memory_and_nobody_else(tmp_path, monkeypatch):
    assert 2 * STUCK_GRACE_S + 2 * CHECK_S < RELEASE_S < STALL_TIMEOUT_S
    monkeypatch.setenv("TORCHCANVAS_STALL_TIMEOUT_S", str(STALL_TIMEOUT_S))
    server = ServerProcess(tmp_path / "data").start()
    pid = server.proc.pid
    stuck = None
    try:
        r = server.post("/api/runs", json=FAST_BOUNDARIES)
        assert r.status_code == 201, r.text
        run_id = r.json()["id"]
        server.stream(run_id, until=lambda e: e["type"] == "boundary")
        seen: list[dict] = []
        follower = threading.Thread(target=_follow, args=(server, run_id, seen))
        follower.start()
        # The baseline: the same work with only the reading viewer, once warmed up.
        time.sleep(SETTLE_S)
        settled = []
        for _ in range(12):
            settled.append(_anon_mb(pid))
            time.sleep(0.25)
        before = statistics.median(settled)
        # A page that was following live, then froze: only new grids are its to hold.
        stuck = _open_and_never_read(server, run_id,
                                     after=server.get(f"/api/runs/{run_id}").json()["last_seq"])
        assert _server_holds(server, stuck)
        start = time.monotonic()
        recent: deque[float] = deque(maxlen=4)  # a second: a passing batch is not a queue
        grew = 0.0
        # The run piles up 40 KB grids the socket never takes. Once its queue is full the
        # viewer is dropped, and the socket, whose close cannot drain, is cut.
        # (Without that, a websocket whose close cannot drain was held forever.)
        while _server_holds(server, stuck):
            assert time.monotonic() - start < RELEASE_S, \
                "the server kept the silent socket open: its queue never filled up?"
            recent.append(_anon_mb(pid))
            grew = max(grew, min(recent) - before)
            assert grew < BOUND_MB, f"server memory grew {grew:.0f} MB (bound {BOUND_MB} MB)"
            time.sleep(0.25)
        assert server.get(f"/api/runs/{run_id}").json()["status"] == "running"
        assert follower.is_alive()  # the other viewer is still following

        assert server.post(f"/api/runs/{run_id}/stop").status_code == 200
        follower.join(150)
        assert seen[-1]["type"] == "status" and seen[-1]["status"] == "stopped", seen[-1]
        for event in seen:
            event.pop("_text")
        stored: list[dict] = []
        while True:  # the events endpoint answers in pages bounded in bytes
            page = server.get(f"/api/runs/{run_id}/events",
                              params={"after": stored[-1]["seq"] if stored else -1}).json()
            if not page:
                break
            stored += page
        assert seen == stored, "the reading viewer missed or reordered events"
        assert server.get("/healthz").json()["active_runs"] == 0
    finally:
        if stuck is not None:
            stuck.close()
        server.stop()
