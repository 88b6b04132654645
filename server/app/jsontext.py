"""JSON text that browsers accept: non-finite floats become null, never bare NaN.

Python's `json` (and Starlette's `send_json`) happily write `NaN` and
`Infinity`, which `JSON.parse` rejects; one bad metric would break a viewer's
whole stream. Everything the server sends passes through `dumps`.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse

from server.training.events import clean  # the trainer's own NaN -> null rule


def dumps(value: Any) -> str:
    """Compact JSON; `allow_nan=False` makes any slip a loud error, not a broken client."""
    return json.dumps(clean(value), allow_nan=False, separators=(",", ":"), ensure_ascii=False)


class SafeJSONResponse(JSONResponse):
    """The app's default response class."""

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")
