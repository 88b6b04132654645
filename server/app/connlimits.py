"""Connection limits uvicorn lacks: a deadline for a request's headers, a cap on sockets,
and an end for connections whose client has stopped reading.

A slowloris client opens many connections and sends its headers a byte at a
time, holding a file descriptor each, forever: uvicorn times out idle
keep-alive connections but not a request whose headers never finish. The
protocol class here closes a connection whose first request has not finished
its headers within `header_timeout_s`, and closes at once any connection past
`max_connections`, so one client cannot exhaust the server's descriptors.

A client that stops reading is the same attack from the other side. uvicorn
only ever closes a transport gracefully, and asyncio then waits for the unsent
bytes to drain before it lets go of the socket: forever, when the client never
reads (TCP keeps a zero window open indefinitely). A websocket viewer that
stops reading is dropped and closed by the app, a keepalive ping goes
unanswered, and still the socket, its buffers and its place under
`max_connections` stayed taken. Both protocols here check every few seconds: a
transport still closing at the next check is aborted, and so is one whose
writes have been paused (the client took nothing) for `stall_timeout_s`.
"""

from __future__ import annotations

import asyncio
from typing import Any

CHECK_S = 5.0  # how often a connection is looked at; a close gets at least this long


class _StallGuard:
    """Mixed into uvicorn's protocols (which provide `loop` and `transport`)."""

    loop: asyncio.AbstractEventLoop
    transport: Any
    _stall_timeout_s = 60.0
    _guard: asyncio.TimerHandle | None = None
    _paused_since: float | None = None
    _closing_seen = False

    def _start_guard(self) -> None:
        self._guard = self.loop.call_later(CHECK_S, self._check)

    def _stop_guard(self) -> None:
        if self._guard is not None:
            self._guard.cancel()
            self._guard = None

    def _owns_transport(self) -> bool:
        return True

    def _check(self) -> None:
        self._guard = None
        if not self._owns_transport():
            return  # handed over (a websocket upgrade): the new protocol guards it
        transport = self.transport
        if transport.is_closing():
            if self._closing_seen:  # closing since the last check: the bytes never drain
                transport.abort()
                return
            self._closing_seen = True
        elif self._paused_since is not None \
                and self.loop.time() - self._paused_since >= self._stall_timeout_s:
            transport.abort()  # the client has taken nothing for that long
            return
        self._start_guard()

    def pause_writing(self) -> None:
        super().pause_writing()  # type: ignore[misc]
        self._paused_since = self.loop.time()

    def resume_writing(self) -> None:
        super().resume_writing()  # type: ignore[misc]
        self._paused_since = None


def guarded_protocol(header_timeout_s: float, max_connections: int,
                     stall_timeout_s: float = 60.0) -> type:
    """uvicorn's HTTP protocol (httptools or h11, as uvicorn picks) with these limits."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    class GuardedHTTPProtocol(_StallGuard, AutoHTTPProtocol):  # type: ignore[misc, valid-type]
        _header_timer: asyncio.TimerHandle | None = None
        _stall_timeout_s = stall_timeout_s

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                transport.abort()  # connection_lost forgets it
                return
            self._header_timer = self.loop.call_later(header_timeout_s, self._headers_late)
            self._start_guard()

        def _headers_late(self) -> None:
            # No request cycle yet and still ours (a websocket upgrade hands the
            # socket to another protocol and leaves `connections`): too slow.
            if self.cycle is None and self in self.connections:
                self.transport.close()

        def _owns_transport(self) -> bool:
            return self in self.connections

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
            self._stop_guard()
            super().connection_lost(exc)

    return GuardedHTTPProtocol


def guarded_ws_protocol(stall_timeout_s: float = 60.0) -> type:
    """uvicorn's websocket protocol, whose closes always end and whose stalls time out."""
    from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol

    class GuardedWebSocketProtocol(_StallGuard, AutoWebSocketsProtocol):  # type: ignore[misc, valid-type]
        _stall_timeout_s = stall_timeout_s

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._start_guard()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_guard()
            super().connection_lost(exc)

    return GuardedWebSocketProtocol
