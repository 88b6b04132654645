"""Start weights: upload a `.pt` state_dict for a graph's `init.weights`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from starlette.concurrency import run_in_threadpool

from server.validation import InvalidGraph

from .. import jsontext, uploads
from ..context import ApiError, Ctx
from ..housekeeping import require_room
from ..runs import new_id
from ..schemas import ErrorAnswer
from ..weightfiles import matches, store_weights

router = APIRouter(prefix="/api/weights", tags=["weights"])


@router.post("", status_code=201,
             responses={413: {"model": ErrorAnswer}, 422: {"model": ErrorAnswer},
                        429: {"model": ErrorAnswer}, 507: {"model": ErrorAnswer}})
async def upload_weights(
        ctx: Ctx, file: Annotated[UploadFile, File(description="a .pt state_dict")],
        graph: Annotated[str, Form(description="optional graph JSON: report how the file "
                                   "fills it")] = "") -> dict[str, Any]:
    """Store a state_dict (read with weights_only=True) and return the path to put in
    the graph's `init.weights`, with how many of the graph's tensors it fills."""
    require_room(ctx)
    if not ctx.upload_slots.acquire(blocking=False):
        raise ApiError(429, f"{ctx.settings.max_upload_checks} upload(s) are being checked; "
                       "try again shortly", headers={"Retry-After": "5"})
    try:
        return await run_in_threadpool(_store, ctx, file, graph)
    finally:
        ctx.upload_slots.release()


def _store(ctx: Ctx, file: UploadFile, graph_text: str) -> dict[str, Any]:
    graph = None
    if graph_text:
        try:
            graph = jsontext.loads(graph_text, ctx.settings.max_json_depth)
        except jsontext.JSONRefused as exc:
            raise ApiError(422, f"graph must be JSON: {exc}") from None
    settings = ctx.settings
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    upload_id = new_id()
    shown = uploads.shown_name(file.filename)
    try:
        summary = store_weights(file.file, settings.uploads_dir / upload_id,
                                settings.uploads_dir / f".tmp-{upload_id}",
                                settings.max_upload_bytes, shown)
    except uploads.UploadError as exc:
        raise ApiError(exc.status, str(exc)) from None
    shapes = summary.pop("shapes")
    if graph is not None:
        try:
            summary["fit"] = matches(shapes, graph)
        except InvalidGraph:
            summary["fit"] = None  # the page validates the graph itself
    return summary
