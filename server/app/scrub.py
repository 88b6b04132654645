"""Keep server paths out of what the page sees: one rule, applied where text leaves.

Error text comes from many places the server does not word itself: PyTorch's
C++ exceptions (`... at /pytorch/c10/core/alloc_cpu.cpp:72`), PIL, sqlite3,
zipfile, the CSV reader (`/srv/data/uploads/1f3a/x.csv has no data rows`).
Rewording each at its source would miss the next one, so every absolute path in
a message is cut to its last component (`…/x.csv`), which still tells the user
which file, and says nothing about the server's layout.

`scrub` rewrites one string. `scrub_messages` walks an answer and rewrites the
message fields (`detail`, `message`, `error`, `msg`, ...) anywhere in it, but
not the user's own data (a graph, its `ui`), which may hold paths on purpose;
`scrub_all` rewrites every string (error answers). The JSON response class
applies them to every answer and the run manager to every stored run error.
"""

from __future__ import annotations

import re
from typing import Any

# An absolute path of two or more components, starting a word (after a space, a quote,
# a bracket, `=` or `,`), so URLs (`http://h/a/b`), ratios (`1/2`) and `a/b` stay.
# A component stops at whitespace, quotes, brackets, `:` and `,`, so `file.cpp:72`
# keeps its line number and a sentence keeps its punctuation.
_SEGMENT = r"/[^\s/'\"`:,;()\[\]{}<>|]+"
PATH = re.compile(r"(?:^|(?<=[\s'\"`(\[{=,<]))(?:" + _SEGMENT + r"){2,}/?")
# Routes of this server are not secrets, and messages name them on purpose.
ROUTES = ("/api/", "/ws/", "/static/", "/vendor/")

MESSAGE_KEYS = frozenset({"detail", "message", "error", "msg", "reason", "hint"})
USER_DATA_KEYS = frozenset({"graph", "ui", "params", "input"})


def _short(match: re.Match[str]) -> str:
    path = match.group(0)
    if path.startswith(ROUTES):
        return path
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return f"…/{name}"


def scrub(text: str) -> str:
    """`text` with every absolute path cut to `…/last-component`."""
    if "/" not in text:
        return text  # the common case, and the cheap one
    return PATH.sub(_short, text)


def scrub_all(value: Any) -> Any:
    """Every string in a JSON-like value, scrubbed (an error answer: nothing in it is
    the user's stored data)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_all(v) for v in value]
    return value


def scrub_messages(value: Any) -> Any:
    """The message fields of a JSON-like value, scrubbed; the user's data left as it is."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in USER_DATA_KEYS:
                out[k] = v
            elif k in MESSAGE_KEYS:
                out[k] = scrub_all(v)
            else:
                out[k] = scrub_messages(v)
        return out
    if isinstance(value, list | tuple):
        return [scrub_messages(v) for v in value]
    return value
