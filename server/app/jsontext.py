"""JSON text both ways: strict on the way in, browser-safe on the way out.

Out: Python's `json` (and Starlette's `send_json`) happily write `NaN` and
`Infinity`, which `JSON.parse` rejects; one bad metric would break a viewer's
whole stream. Everything the server sends passes through `dumps`.

In: `loads` takes only what a browser's `JSON.stringify` can produce, finite
numbers and bounded nesting, so a body like `NaN`, `[1e999]` or 300 nested
lists is refused with a clear message before any handler, store or encoder
meets it (deep values used to crash the encoders on the way back out).
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi.responses import JSONResponse

from server.training.events import finite_json  # the trainer's own NaN -> null rule

from .scrub import scrub_all, scrub_messages

MAX_DEPTH = 64  # graphs nest about 5 deep; editor `ui` data a few more


class JSONRefused(ValueError):
    """Text that is not JSON we accept; the message says why, without echoing it."""


def dumps(value: Any) -> str:
    """Compact JSON, non-finite floats as `null`; `allow_nan=False` makes any slip loud."""
    return finite_json(value, ensure_ascii=False)


def _no_constant(name: str) -> Any:
    raise JSONRefused(f"numbers must be finite: {name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONRefused(f"numbers must be finite: {text[:32]} is too large")
    return value


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Parse strictly: finite numbers only, nesting at most `max_depth` deep."""
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except JSONRefused:
        raise
    except RecursionError:  # deeper than the C parser's own limit (about 1000)
        raise JSONRefused(f"JSON nests more than {max_depth} levels deep") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise JSONRefused(f"not valid JSON: {str(exc)[:120]}") from None
    _check_depth(value, max_depth)
    return value


def _check_depth(value: Any, max_depth: int) -> None:
    """Refuse deep nesting; iterative, so the check itself cannot overflow the stack."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > max_depth:
            raise JSONRefused(f"JSON nests more than {max_depth} levels deep")
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))


class SafeJSONResponse(JSONResponse):
    """The app's default response class. No server path leaves in a message: an error
    answer is scrubbed whole, any other answer in its message fields (`scrub`)."""

    def render(self, content: Any) -> bytes:
        content = scrub_all(content) if self.status_code >= 400 else scrub_messages(content)
        return dumps(content).encode("utf-8")
