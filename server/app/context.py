"""What every route needs from the running app, and the error answers they raise.

`Context` is built once per app in the lifespan and reached through the
`Ctx` dependency alias, so routes stay one-liners around plain functions.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from starlette.websockets import WebSocket

from .runs import RunManager
from .settings import Settings
from .store import Store


@dataclass
class Context:
    settings: Settings
    store: Store
    runs: RunManager
    # Upload checks take a core for seconds to minutes: only this many at once.
    upload_slots: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(2))


def get_context(request: Request) -> Context:
    return request.app.state.ctx


def ws_context(websocket: WebSocket) -> Context:
    return websocket.app.state.ctx


Ctx = Annotated[Context, Depends(get_context)]


class ApiError(HTTPException):
    """An error answer `{"detail": message, "errors": [...]}` (plus any extra keys)."""

    def __init__(self, status: int, message: str, errors: list[Any] | None = None,
                 headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(status, message, headers=headers)
        self.errors = [e.model_dump() if hasattr(e, "model_dump") else e for e in errors or []]
        self.extra = extra
