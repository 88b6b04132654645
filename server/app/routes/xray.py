"""X-ray, cost and the pre-flight doctor: what flows through each layer, what each costs,
and why a network will not learn, before (or after) a run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from pydantic import BaseModel, Field

from server.validation import InvalidGraph
from server.xray import xray

from .. import graphcheck
from ..checkpoints import (
    CheckpointUnreadable,
    Which,
    checkpoint_epoch,
    checkpoint_path,
    epoch_checkpoint,
    epoch_checkpoints,
    load_checkpoint,
)
from ..context import ApiError, Ctx
from ..schemas import RUN_ID, ErrorAnswer

router = APIRouter(prefix="/api", tags=["xray"])
RunId = Annotated[str, Path(pattern=RUN_ID, description="A run id (16 hex digits)")]


INPUT = ("One input of the user's own instead of a dataset sample (e.g. the digit drawn "
         "in Try it): a nested list shaped like the Input without the batch, in the model's "
         "input space, at most 262,144 numbers; 422 when it does not fit the Input")


class XrayGraphBody(BaseModel):
    graph: dict[str, Any] = Field(description="A graph with `data`, format v1")
    sample: int = Field(default=0, ge=0, le=65535, description="Validation sample index")
    timing: bool = Field(default=False, description="Also measure forward+backward per layer")
    input: Any = Field(default=None, description=INPUT)


class CostBody(BaseModel):
    graph: dict[str, Any] = Field(description="A graph, format v1 (`data` sets the batch size)")


class DoctorBody(BaseModel):
    graph: dict[str, Any] = Field(description="A graph with `data`, format v1")


class XrayRunBody(BaseModel):
    sample: int = Field(default=0, ge=0, le=65535)
    which: Which = "best"
    epoch: int | None = Field(default=None, ge=0, le=1_000_000, description="The weights "
                              "after this epoch (0: before training) instead of best/last; "
                              "see GET /api/runs/{id}/checkpoints for the epochs kept")
    timing: bool = False
    input: Any = Field(default=None, description=INPUT)


@router.post("/graphs/inspect", responses={422: {"model": ErrorAnswer}})
def inspect_graph(ctx: Ctx, body: Annotated[XrayGraphBody, Body()]) -> dict[str, Any]:
    """Every node's output for one sample, its gradient from one batch, its FLOPs and memory,
    with the weights the graph's seed gives before training."""
    graph = graphcheck.valid(body.graph, ctx.settings.uploads_dir)
    return _answer(lambda: xray(graph, body.sample, measure_time=body.timing, value=body.input))


@router.post("/graphs/cost", responses={422: {"model": ErrorAnswer}})
def cost(ctx: Ctx, body: Annotated[CostBody, Body()]) -> dict[str, Any]:
    """FLOPs and MACs per node for one sample (torch.utils.flop_counter on the meta device),
    activation and training memory per node for the batch, and the totals; cached."""
    from server.cost import graph_cost

    graph = graphcheck.valid(body.graph, ctx.settings.uploads_dir)
    return _answer(lambda: graph_cost(graph))


@router.get("/runs/{run_id}/checkpoints", responses={404: {"model": ErrorAnswer}})
def checkpoints(ctx: Ctx, run_id: RunId) -> dict[str, Any]:
    """The weights a run kept: the epochs with a snapshot (0 = before training), and the
    epochs of its best and last checkpoints (null when absent)."""
    if ctx.store.get_run(run_id) is None:
        raise ApiError(404, f"no run {run_id}")
    runs_dir = ctx.settings.runs_dir
    found = {}
    for which in ("best", "last"):
        path = runs_dir / run_id / f"{which}.pt"
        found[which] = checkpoint_epoch(path) if path.is_file() else None
    return {"epochs": epoch_checkpoints(runs_dir, run_id), **found}


@router.post("/runs/{run_id}/inspect", responses={404: {"model": ErrorAnswer},
                                                   422: {"model": ErrorAnswer}})
def inspect_run(ctx: Ctx, run_id: RunId, body: Annotated[XrayRunBody, Body()]) -> dict[str, Any]:
    """The same X-ray with the weights of one of the run's checkpoints: best, last, or
    the one kept after epoch N."""
    run = ctx.store.get_run(run_id)
    if run is None:
        raise ApiError(404, f"no run {run_id}")
    runs_dir = ctx.settings.runs_dir
    if body.epoch is not None:
        path = epoch_checkpoint(runs_dir, run_id, body.epoch)
        if path is None:
            kept = epoch_checkpoints(runs_dir, run_id)
            raise ApiError(404, f"no weights kept for epoch {body.epoch}; this run kept "
                           + (f"epochs {', '.join(map(str, kept))}" if kept else "none per "
                              "epoch (a large model keeps best and last only)"))
    else:
        path = checkpoint_path(runs_dir, run_id, body.which)
        if path is None:
            raise ApiError(404, "this run has no checkpoint yet")
    try:
        checkpoint = load_checkpoint(path)
    except CheckpointUnreadable as exc:
        raise ApiError(422, str(exc)) from None
    graph = graphcheck.parsed(run["graph"], ctx.settings.uploads_dir)
    label = f"epoch {body.epoch}" if body.epoch is not None else path.stem
    return _answer(lambda: xray(graph, body.sample, checkpoint["state_dict"],
                                measure_time=body.timing, value=body.input)
                   | {"checkpoint": label, "epoch": checkpoint.get("epoch")})


@router.post("/graphs/doctor", responses={422: {"model": ErrorAnswer}})
def doctor(ctx: Ctx, body: Annotated[DoctorBody, Body()]) -> dict[str, Any]:
    """Pre-flight checks: lr range test (curve and suggestion), overfit one batch,
    initialisation and lints; each finding names the node or component and the fix."""
    from server.doctor import diagnose

    graph = graphcheck.parsed(body.graph, ctx.settings.uploads_dir)
    if graph.data is None:
        raise ApiError(422, "the doctor trains a little on the graph's data: pick a dataset")
    return _answer(lambda: diagnose(graph).as_dict())


def _answer(run: Any) -> dict[str, Any]:
    try:
        return run()
    except InvalidGraph as exc:
        raise graphcheck.invalid(exc) from None
    except (ValueError, RuntimeError, IndexError) as exc:  # a sample out of range, an input
        # that does not fit, a token id past the vocabulary, a dataset problem
        raise ApiError(422, str(exc).splitlines()[0][:300]) from None
