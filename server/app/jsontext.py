"""JSON text that browsers accept: non-finite floats become null, never bare NaN.

Python's `json` (and Starlette's `send_json`) happily write `NaN` and
`Infinity`, which `JSON.parse` rejects; one bad metric would break a viewer's
whole stream. Everything the server sends passes through `dumps`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi.responses import JSONResponse


def finite(value: Any) -> Any:
    """A copy of `value` with every non-finite float replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """Compact JSON; `allow_nan=False` makes any slip a loud error, not a broken client."""
    return json.dumps(finite(value), allow_nan=False, separators=(",", ":"), ensure_ascii=False)


class SafeJSONResponse(JSONResponse):
    """The app's default response class."""

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")
