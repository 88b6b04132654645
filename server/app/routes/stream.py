"""WebSocket `/ws/runs/{id}?after=SEQ`: a run's events, replayed then live, in order.

The sender replays what SQLite holds (seq <= the subscription's high-water
mark), then the viewer's live queue (events reach it once stored), skipping
nothing and repeating nothing (seq > the last sent). It
closes with 1000 after the final status. A concurrent receiver notices a
viewer leaving (a send-only loop would not) and closes the socket on binary
(1003), oversized (1009) or flooding (1008) client messages. Neither ever
touches the run: viewers only read.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from ..context import Context, ws_context
from ..guards import RAW_SEND
from ..schemas import MAX_SEQ, RUN_ID
from ..settings import Settings
from ..viewers import Viewer

router = APIRouter(tags=["runs"])
REPLAY_CHUNK = 5000
REPLAY_BYTES = 4 * 1024 * 1024  # a chunk's text: memory per viewer stays bounded
NO_RUN = 4404  # application close code: the browser stops reconnecting
STUCK_GRACE_S = 5.0


@router.websocket("/ws/runs/{run_id}")
async def run_events(websocket: WebSocket, run_id: str,
                     after: Annotated[int, Query(ge=-1, le=MAX_SEQ)] = -1) -> None:
    """Stream a run's events with seq > after (out of range: closed 1008 at once)."""
    ctx = ws_context(websocket)
    await websocket.accept()
    if not re.fullmatch(RUN_ID, run_id) or await run_in_threadpool(
            ctx.store.get_run, run_id) is None:
        await websocket.close(NO_RUN, "no such run")
        return
    viewer = Viewer(asyncio.get_running_loop(), ctx.settings.viewer_queue,
                    ctx.settings.viewer_queue_bytes)
    stored = await run_in_threadpool(ctx.runs.subscribe, run_id, viewer)
    outcome: dict[str, tuple[int, str] | None] = {}
    try:
        async with anyio.create_task_group() as tg:

            async def receive() -> None:
                outcome["client"] = await _watch_client(websocket, ctx.settings)
                tg.cancel_scope.cancel()

            async def send() -> None:
                try:
                    outcome["server"] = await _send_events(websocket, ctx, run_id,
                                                           max(after, -1), stored, viewer)
                except (OSError, WebSocketDisconnect):  # the viewer vanished mid-send
                    outcome["client"] = None
                tg.cancel_scope.cancel()

            async def watchdog() -> None:
                # A dropped viewer whose socket no longer drains (the client stopped
                # reading) leaves the sender stuck in send: close it from here.
                await viewer.dropped_event.wait()
                await anyio.sleep(STUCK_GRACE_S)
                outcome["server"] = (1013, "too slow; reconnect with ?after=")
                tg.cancel_scope.cancel()

            tg.start_soon(receive)
            tg.start_soon(send)
            tg.start_soon(watchdog)
    finally:
        ctx.runs.unsubscribe(run_id, viewer)
    if "client" in outcome and outcome["client"] is None:
        return  # the viewer left; nothing to close
    code, reason = outcome.get("client") or outcome.get("server") or (1000, "")
    with anyio.move_on_after(STUCK_GRACE_S):  # a client that stopped reading never acks
        try:
            await websocket.close(code, reason)
        except (RuntimeError, OSError):
            pass  # already closed underneath us


async def _send_events(websocket: WebSocket, ctx: Context, run_id: str, after: int,
                       stored: int | None,
                       viewer: Viewer) -> tuple[int, str]:
    raw = websocket.scope.get(RAW_SEND)

    async def send_text(text: str) -> None:
        if raw is None:
            await websocket.send_text(text)
        else:  # accepted already; only text frames follow, so the state checks add nothing
            await raw({"type": "websocket.send", "text": text})

    last = after
    upto = stored  # None: the run is over, and everything is in the store
    def fetch(after_seq: int) -> asyncio.Future:
        return asyncio.ensure_future(run_in_threadpool(
            ctx.store.events_after, run_id, after_seq, upto, REPLAY_CHUNK, REPLAY_BYTES))

    # Stored events, in chunks bounded in count and bytes so memory stays flat on a
    # long log; the next chunk is read (in a thread) while this one is being sent,
    # until one comes back empty.
    chunk: asyncio.Future | None = fetch(last)
    try:
        while chunk is not None:
            rows = await chunk
            chunk = fetch(rows[-1][0]) if rows else None
            for seq, text in rows:
                await send_text(text)
                last = seq
    finally:
        if chunk is not None:
            chunk.cancel()  # the viewer left mid-replay: nobody wants the next chunk
    if stored is None:
        return 1000, "run finished"
    while True:
        items = await viewer.get()
        for item in items:
            if item.seq > last:
                await send_text(item.text)
                last = item.seq
                if item.final:
                    return 1000, "run finished"
        if viewer.dropped:
            return 1013, f"too slow; reconnect with ?after={last}"
        if not items and viewer.ended:
            return 1000, "run finished"


async def _watch_client(websocket: WebSocket, settings: Settings) -> tuple[int, str] | None:
    """Wait for the client to leave (None) or misbehave ((code, reason))."""
    recent: deque[float] = deque()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        if message.get("bytes") is not None:
            return 1003, "binary messages are not accepted"
        if len(message.get("text") or "") > settings.max_client_message:
            return 1009, "message too big"
        now = time.monotonic()
        recent.append(now)
        while recent and recent[0] < now - 1.0:
            recent.popleft()
        if len(recent) > settings.max_client_messages_per_s:
            return 1008, "too many messages"

