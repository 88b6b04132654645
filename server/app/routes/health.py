"""Liveness: answers without a token and says nothing private."""

from __future__ import annotations

from fastapi import APIRouter

from server import __version__

from ..context import Ctx
from ..schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(ctx: Ctx) -> Health:
    """The server is up."""
    return Health(version=__version__, active_runs=ctx.runs.active_count())
