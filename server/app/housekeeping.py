"""Keeping the data dir bounded: its size against a quota, and old runs' retention.

Uploads (up to 200 MB each), runs' checkpoints (best, last, and the per-epoch
weights small models keep for the X-ray, at most 22 files of 4 MiB per run: see
`server/training/snapshots.py`) and events would otherwise grow until the disk is
full. Everything under the data dir counts against the quota. `require_room`
refuses new uploads and runs with 507 and a plain message once the data dir
holds its quota; `prune_runs` forgets finished runs older than the retention
setting (events, checkpoints, per-epoch weights and all).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from server.memory import human_bytes

from .context import ApiError, Context

FINISHED = {"completed", "stopped", "failed", "interrupted"}


def data_dir_bytes(root: Path) -> int:
    """Bytes the files under `root` take (links not followed)."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:  # removed while we walked
                pass
    return total


def require_room(ctx: Context) -> None:
    """507 when the data dir has reached its quota (none set: no limit)."""
    quota = ctx.settings.max_data_bytes
    if quota is None:
        return
    used = data_dir_bytes(ctx.settings.data_dir)
    if used >= quota:
        raise ApiError(507, f"the data dir holds {human_bytes(used)}, its quota is "
                       f"{human_bytes(quota)}: delete runs or uploaded datasets first")


def prune_runs(ctx: Context, now: float | None = None) -> list[str]:
    """Delete finished runs that ended more than `keep_runs_days` ago; their ids."""
    days = ctx.settings.keep_runs_days
    if days is None:
        return []
    cutoff = (now if now is not None else time.time()) - days * 86400
    gone = []
    for run in ctx.store.list_runs():
        ended = run.get("ended") or run.get("created")
        if run["status"] in FINISHED and ended is not None and ended < cutoff \
                and ctx.runs.delete(run["id"]):
            gone.append(run["id"])
    return gone
