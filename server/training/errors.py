"""The errors a run can end with, and the one-line reason a user reads for each.

Kept free of torch so the worker can word a failure even when the loop (or
torch itself) could not be imported.
"""

from __future__ import annotations

import errno
from pathlib import Path


class TrainingError(ValueError):
    """A problem with the run's set-up that the user can fix (message says how)."""


class DeviceError(TrainingError):
    """A device that is not available here, or not a device name at all."""


def is_user_error(exc: BaseException) -> bool:
    """A failure the user fixes from its message (set-up, graph, dataset, recipe), not a bug
    of ours that needs its traceback."""
    return isinstance(exc, TrainingError) or hasattr(exc, "validation") \
        or type(exc).__name__ in ("DatasetError", "RecipeError")


def error_message(exc: BaseException) -> str:
    """What the user reads when a run fails: the reason, without a traceback."""
    if isinstance(exc, TrainingError):
        return str(exc)
    validation = getattr(exc, "validation", None)  # server.validation.InvalidGraph
    if validation is not None:
        errors = [_issue(e) for e in _all_errors(validation)]
        return "invalid graph: " + ("; ".join(errors[:10]) or str(exc))
    name = type(exc).__name__
    if name == "DatasetError":
        return f"dataset: {exc}"
    if name == "RecipeError":
        return str(exc)
    if name == "OutOfMemoryError":  # torch.cuda.OutOfMemoryError, matched without torch
        return "out of GPU memory: lower the batch size or the model's size"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        where = f" writing {Path(exc.filename).name}" if getattr(exc, "filename", None) else ""
        return f"disk full: no space left{where}; free some space and train again"
    if isinstance(exc, MemoryError):
        return "out of memory (MemoryError): lower the batch size or the model's size"
    if "can't allocate memory" in str(exc) or "out of memory" in str(exc).lower():
        # torch's CPU allocator raises a RuntimeError with a long C++ trace: keep its gist
        first = str(exc).strip().splitlines()[0][:300]
        return f"out of memory: lower the batch size or the model's size ({first})"
    return f"{name}: {exc}"


def _all_errors(validation: object) -> list:
    all_errors = getattr(validation, "all_errors", None)
    if callable(all_errors):
        return list(all_errors())
    return list(getattr(validation, "errors", []))


def _issue(issue: object) -> str:
    get = issue.get if isinstance(issue, dict) else lambda k: getattr(issue, k, None)
    message, node = str(get("message") or issue), get("node") or get("component")
    return f"{node}: {message}" if node else message
