"""Training runs: start, list, inspect, stream-by-poll, stop, delete, checkpoint, code,
predictions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import FileResponse, Response

from server.datasets import unavailable
from server.export import export_code
from server.validation import InvalidGraph

from .. import graphcheck
from ..checkpoints import CheckpointUnreadable, Which, checkpoint_path, load_checkpoint
from ..context import ApiError, Ctx
from ..deployfiles import deploy_response
from ..housekeeping import require_room
from ..predict import PredictError, predict, validation_samples
from ..runs import Busy
from ..schemas import (
    MAX_SEQ,
    NAME,
    RUN_ID,
    ErrorAnswer,
    PredictAnswer,
    PredictBody,
    RunCreated,
    RunDetail,
    RunRename,
    RunSummary,
    Samples,
    StopAnswer,
)

router = APIRouter(prefix="/api/runs", tags=["runs"])
RunId = Annotated[str, Path(pattern=RUN_ID, description="A run id (16 hex digits)")]
GraphBody = Annotated[dict[str, Any], Body(description="A graph with `data`, format v1")]
EVENTS_PAGE_BYTES = 32 * 1024 * 1024  # one answer's events (boundary grids are 40 KB each)


def _summary(run: dict[str, Any], labels: dict[str, dict] | None = None,
             number: int | None = None) -> dict[str, Any]:
    graph = run["graph"]
    data = graph.get("data") or {}
    names = (labels or {}).get(run["id"], {})
    project = names.get("project")
    title = names.get("label") or (
        f"{project or graph.get('name') or 'run'} · {data.get('dataset') or 'no data'}"
        + (f" #{number}" if number else ""))
    return run | {"name": graph.get("name"), "dataset": data.get("dataset"), "project": project,
                  "label": names.get("label"), "title": title}


def _summaries(ctx: Ctx) -> list[dict[str, Any]]:
    """Every run, newest first, numbered 1, 2, ... within its project (or graph name)."""
    runs = [ctx.runs.current(r) for r in ctx.store.list_runs()]  # unsaved final statuses too
    labels = ctx.store.run_labels()
    counts: dict[str, int] = {}
    numbers = {}
    for run in sorted(runs, key=lambda r: r["created"]):
        key = (labels.get(run["id"], {}).get("project") or run["graph"].get("name") or "")
        counts[key] = counts.get(key, 0) + 1
        numbers[run["id"]] = counts[key]
    return [_summary(r, labels, numbers[r["id"]]) for r in runs]


def _run(ctx: Ctx, run_id: str) -> dict[str, Any]:
    run = ctx.store.get_run(run_id)
    if run is None:
        raise ApiError(404, f"no run {run_id}")
    return ctx.runs.current(run)


@router.post("", status_code=201, response_model=RunCreated,
             responses={422: {"model": ErrorAnswer}, 429: {"model": ErrorAnswer},
                        507: {"model": ErrorAnswer}})
def create_run(ctx: Ctx, graph: GraphBody,
               project: Annotated[str | None, Query(pattern=NAME, description="The editor "
                                                    "project the graph belongs to")] = None
               ) -> dict[str, Any]:
    """Start training the graph; 429 with Retry-After while the run limit is reached."""
    g = graphcheck.valid(graph, ctx.settings.uploads_dir)
    if g.data is None:
        raise ApiError(422, "training needs `data`: pick a dataset for the graph",
                       [{"component": "data", "message": "no dataset"}])
    # A dataset that is not on disk (MNIST offline) is refused now, with how to get it,
    # not by a run that fails seconds later naming files.
    if (why := unavailable(g.data.dataset)) is not None:
        raise ApiError(422, why, [{"component": "data", "param": None, "message": why}])
    _require_device(g)
    require_room(ctx)
    try:
        run_id = ctx.runs.start(g, graph)
    except Busy:
        limit = ctx.settings.max_running
        raise ApiError(429, f"{limit} run(s) already training; stop one or try again later",
                       headers={"Retry-After": str(ctx.settings.retry_after_s)}) from None
    if project:
        ctx.store.set_run_label(run_id, project=project)
    return {"id": run_id, "status": "queued"}


def _require_device(g: Any) -> None:
    """422 for a device this machine does not have, rather than a run that fails."""
    from server.training.device import resolve_device
    from server.training.errors import DeviceError

    try:
        resolve_device(g.training.device if g.training else "auto")
    except DeviceError as exc:
        raise ApiError(422, str(exc), [{"component": "training", "param": "device",
                                        "message": str(exc)}]) from None


@router.get("", response_model=list[RunSummary])
def list_runs(ctx: Ctx) -> list[dict[str, Any]]:
    """Every run, newest first."""
    return _summaries(ctx)


@router.get("/{run_id}", response_model=RunDetail)
def get_run(ctx: Ctx, run_id: RunId) -> dict[str, Any]:
    """One run with its graph, status, times, final metrics and error."""
    run = _run(ctx, run_id)
    has = checkpoint_path(ctx.settings.runs_dir, run_id, "best") is not None
    named = next((r for r in _summaries(ctx) if r["id"] == run_id), _summary(run))
    return named | {"graph": run["graph"], "has_checkpoint": has}


@router.patch("/{run_id}", response_model=RunSummary, responses={404: {"model": ErrorAnswer}})
def rename_run(ctx: Ctx, run_id: RunId, body: RunRename) -> dict[str, Any]:
    """Give a run a name of the user's own (shown instead of 'project · dataset #n')."""
    _run(ctx, run_id)
    ctx.store.set_run_label(run_id, label=body.label.strip() or None)
    return next(r for r in _summaries(ctx) if r["id"] == run_id)


@router.get("/{run_id}/events", response_class=Response,
            responses={200: {"content": {"application/json": {}}}})
def events(ctx: Ctx, run_id: RunId, after: Annotated[int, Query(ge=-1, le=MAX_SEQ)] = -1,
           limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000) -> Response:
    """Stored events with seq > after, oldest first (a JSON array of event objects): at
    most `limit`, and about 32 MB; page on with `?after=` the last seq."""
    _run(ctx, run_id)
    rows = ctx.runs.events(run_id, after, limit, EVENTS_PAGE_BYTES)
    # Events are stored as finished JSON text: join, do not re-serialize.
    return Response("[" + ",".join(text for _, text in rows) + "]",
                    media_type="application/json")


@router.post("/{run_id}/stop", response_model=StopAnswer)
def stop(ctx: Ctx, run_id: RunId) -> dict[str, Any]:
    """Ask a run to stop (within one batch); harmless on a finished run."""
    run = _run(ctx, run_id)
    stopping = ctx.runs.stop(run_id)
    return {"id": run_id, "status": run["status"], "stopping": stopping}


@router.delete("/{run_id}", status_code=204, response_class=Response)
def delete(ctx: Ctx, run_id: RunId) -> Response:
    """Stop the run if needed, then forget it: events, checkpoints and all."""
    _run(ctx, run_id)
    if not ctx.runs.delete(run_id):
        raise ApiError(409, "the run did not stop in time; try again")
    return Response(status_code=204)


@router.get("/{run_id}/checkpoint", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})
def checkpoint(ctx: Ctx, run_id: RunId, which: Which = "best") -> FileResponse:
    """The checkpoint (`{"state_dict", "graph"}`, loadable with weights_only=True)."""
    run = _run(ctx, run_id)
    path = checkpoint_path(ctx.settings.runs_dir, run_id, which)
    if path is None:
        raise ApiError(404, "this run has no checkpoint yet")
    try:
        load_checkpoint(path)  # refuse anything that is not plain weights
    except CheckpointUnreadable as exc:
        raise ApiError(422, str(exc)) from None
    name = f"{run['graph'].get('name') or 'net'}-{run_id}-{path.stem}.pt"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return FileResponse(path, media_type="application/octet-stream", filename=safe)


@router.get("/{run_id}/model", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}},
                       404: {"model": ErrorAnswer}, 422: {"model": ErrorAnswer},
                       501: {"model": ErrorAnswer}})
def model_file(ctx: Ctx, run_id: RunId,
               format: Annotated[Literal["onnx", "torchscript", "exported-program"],
                                 Query()] = "onnx",
               which: Which = "best") -> Response:
    """The trained network as an ONNX, TorchScript or exported-program file."""
    run = _run(ctx, run_id)
    path = checkpoint_path(ctx.settings.runs_dir, run_id, which)
    if path is None:
        raise ApiError(404, "this run has no checkpoint yet")
    try:
        state = load_checkpoint(path)["state_dict"]
    except CheckpointUnreadable as exc:
        raise ApiError(422, str(exc)) from None
    graph = graphcheck.parsed(run["graph"], ctx.settings.uploads_dir)
    try:
        return deploy_response(graph, format, state, label=f"-{run_id[:8]}-{path.stem}")
    except InvalidGraph as exc:  # the core changed since the run: say so plainly
        raise graphcheck.invalid(exc) from None


@router.get("/{run_id}/code", response_class=Response,
            responses={200: {"content": {"text/x-python": {}}}})
def code(ctx: Ctx, run_id: RunId) -> Response:
    """The training script that reproduces this run."""
    run = _run(ctx, run_id)
    try:
        source = export_code(run["graph"], "script")
    except InvalidGraph as exc:  # the core changed since the run: say so plainly
        raise graphcheck.invalid(exc) from None
    return Response(source, media_type="text/x-python; charset=utf-8")


@router.post("/{run_id}/predict", response_model=PredictAnswer,
             responses={404: {"model": ErrorAnswer}, 422: {"model": ErrorAnswer}})
def predict_one(ctx: Ctx, run_id: RunId, body: PredictBody) -> dict[str, Any]:
    """The trained model's answer for one input: class probabilities, or regression values."""
    options = body.model_dump(include={"length", "temperature", "seed"})
    return _ask_model(ctx, run_id, lambda path, graph, value: predict(path, graph, value, options),
                      body.input)


@router.get("/{run_id}/samples", response_model=Samples,
            responses={404: {"model": ErrorAnswer}, 422: {"model": ErrorAnswer}})
def samples(ctx: Ctx, run_id: RunId,
            n: Annotated[int, Query(ge=1, le=64)] = 16) -> dict[str, Any]:
    """The first `n` validation samples with their labels and the model's probabilities."""
    return _ask_model(ctx, run_id, validation_samples, n)


def _ask_model(ctx: Ctx, run_id: str, ask: Callable[..., dict[str, Any]],
               arg: Any) -> dict[str, Any]:
    """`ask(best checkpoint, run graph, arg)`: 404 without a checkpoint, 422 on PredictError."""
    run = _run(ctx, run_id)
    path = checkpoint_path(ctx.settings.runs_dir, run_id, "best")
    if path is None:
        raise ApiError(404, "this run has no checkpoint yet")
    try:
        return ask(path, run["graph"], arg)
    except (PredictError, CheckpointUnreadable) as exc:
        raise ApiError(422, str(exc)) from None
