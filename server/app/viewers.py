"""One websocket viewer's bounded queue, filled from a run's thread, drained by asyncio.

The run thread must never wait on a viewer: `push` is a non-blocking append
under a short lock, and a viewer whose queue is full (in events, or in bytes:
a boundary grid is 40 KB) is marked dropped (its
socket is then closed and the browser resumes from the stored log with
`?after=`). Wake-ups cross into the event loop with `call_soon_threadsafe`,
at most one pending per viewer.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from typing import NamedTuple


class Item(NamedTuple):
    seq: int
    text: str
    final: bool


class Viewer:
    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int,
                 max_bytes: int = 16 * 1024 * 1024):
        self._loop = loop
        self._maxsize = maxsize
        self._max_bytes = max_bytes
        self._bytes = 0
        self._items: deque[Item] = deque()
        self._lock = threading.Lock()
        self._wake = asyncio.Event()
        self.dropped_event = asyncio.Event()  # set (in the loop) once the viewer is dropped
        self._signalled = False
        self.dropped = False
        self.ended = False

    def push(self, item: Item) -> None:
        """Queue an event (any thread); never blocks."""
        with self._lock:
            if self.dropped or self.ended:
                return
            if len(self._items) >= self._maxsize \
                    or self._bytes + len(item.text) > self._max_bytes:
                self.dropped = True
                self._items.clear()
                self._bytes = 0
                self._call(self.dropped_event.set)
            else:
                self._items.append(item)
                self._bytes += len(item.text)
            self._signal()

    def end(self) -> None:
        """The run is over: nothing more will be pushed."""
        with self._lock:
            self.ended = True
            self._signal()

    def _signal(self) -> None:
        if not self._signalled:
            self._signalled = True
            self._call(self._wake.set)

    def _call(self, callback: Callable[[], object]) -> None:
        try:
            self._loop.call_soon_threadsafe(callback)
        except RuntimeError:
            pass  # the viewer's loop is closed: nobody is waiting any more

    async def get(self) -> list[Item]:
        """Everything queued so far; waits while there is nothing. Empty once ended."""
        while True:
            with self._lock:
                if self._items or self.dropped or self.ended:
                    items = list(self._items)
                    self._items.clear()
                    self._bytes = 0
                    return items
                # Cleared under the lock, so a push after this schedules a new set().
                self._wake.clear()
                self._signalled = False
            await self._wake.wait()
