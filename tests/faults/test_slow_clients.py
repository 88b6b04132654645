"""Slowloris against a real server (issue 13 case 6): loopback sockets only, bounded.

Half-sent requests are closed once the header deadline passes, and sockets past
the connection cap are closed at once; a normal request still gets its answer.
"""

from __future__ import annotations

import socket
import time

import httpx

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
