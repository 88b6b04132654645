"""Connection limits uvicorn lacks: a deadline for a request's headers, a cap on sockets.

A slowloris client opens many connections and sends its headers a byte at a
time, holding a file descriptor each, forever: uvicorn times out idle
keep-alive connections but not a request whose headers never finish. The
protocol class here closes a connection whose first request has not finished
its headers within `header_timeout_s`, and closes at once any connection past
`max_connections`, so one client cannot exhaust the server's descriptors.
"""

from __future__ import annotations

import asyncio
from typing import Any


def guarded_protocol(header_timeout_s: float, max_connections: int) -> type:
    """uvicorn's HTTP protocol (httptools or h11, as uvicorn picks) with both limits."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    class GuardedHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                transport.abort()  # connection_lost forgets it
                return
            self._header_timer = self.loop.call_later(header_timeout_s, self._headers_late)

        def _headers_late(self) -> None:
            # No request cycle yet and still ours (a websocket upgrade hands the
            # socket to another protocol and leaves `connections`): too slow.
            if self.cycle is None and self in self.connections:
                self.transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
            super().connection_lost(exc)

    return GuardedHTTPProtocol
