"""Whether this context may download a dataset.

The web server answers requests: a request must never start a download
(minutes of a worker, and an outbound connection nobody asked for), so the
server switches downloads off for every request and every training worker it
starts; `torchcanvas download NAME` and the CLI's own training keep them on.
A context variable, so it follows a request into the thread that serves it
and leaves the rest of the process (and other tests in it) alone.
"""

from __future__ import annotations

from contextvars import ContextVar

downloads_allowed: ContextVar[bool] = ContextVar("torchcanvas_downloads", default=True)


def forbid_downloads() -> None:
    """Downloads are off from here on, in this context (a request, a worker process)."""
    downloads_allowed.set(False)
