"""X-ray, cost and the pre-flight doctor: what flows through each layer, and why a network
will not learn, before (or after) a run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from pydantic import BaseModel, Field

from server.validation import InvalidGraph
from server.xray import xray

from .. import graphcheck
from ..checkpoints import Which, checkpoint_path, load_checkpoint
from ..context import ApiError, Ctx
from ..schemas import RUN_ID, ErrorAnswer

router = APIRouter(prefix="/api", tags=["xray"])
RunId = Annotated[str, Path(pattern=RUN_ID, description="A run id (16 hex digits)")]


class XrayGraphBody(BaseModel):
    graph: dict[str, Any] = Field(description="A graph with `data`, format v1")
    sample: int = Field(default=0, ge=0, le=65535, description="Validation sample index")
    timing: bool = Field(default=False, description="Also measure forward+backward per layer")


class DoctorBody(BaseModel):
    graph: dict[str, Any] = Field(description="A graph with `data`, format v1")


class XrayRunBody(BaseModel):
    sample: int = Field(default=0, ge=0, le=65535)
    which: Which = "best"
    timing: bool = False


@router.post("/graphs/inspect", responses={422: {"model": ErrorAnswer}})
def inspect_graph(ctx: Ctx, body: Annotated[XrayGraphBody, Body()]) -> dict[str, Any]:
    """Every node's output for one sample, its gradient from one batch, its FLOPs and memory,
    with the weights the graph's seed gives before training."""
    graph = graphcheck.valid(body.graph, ctx.settings.uploads_dir)
    return _answer(lambda: xray(graph, body.sample, measure_time=body.timing))


@router.post("/runs/{run_id}/inspect", responses={404: {"model": ErrorAnswer},
                                                   422: {"model": ErrorAnswer}})
def inspect_run(ctx: Ctx, run_id: RunId, body: Annotated[XrayRunBody, Body()]) -> dict[str, Any]:
    """The same X-ray with the weights of one of the run's checkpoints (best or last)."""
    run = ctx.store.get_run(run_id)
    if run is None:
        raise ApiError(404, f"no run {run_id}")
    path = checkpoint_path(ctx.settings.runs_dir, run_id, body.which)
    if path is None:
        raise ApiError(404, "this run has no checkpoint yet")
    try:
        state = load_checkpoint(path)["state_dict"]
    except Exception:
        raise ApiError(422, f"the run's {path.stem} checkpoint cannot be read as weights") \
            from None
    graph = graphcheck.parsed(run["graph"], ctx.settings.uploads_dir)
    return _answer(lambda: xray(graph, body.sample, state, measure_time=body.timing)
                   | {"checkpoint": path.stem})


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
    except (ValueError, RuntimeError) as exc:  # a sample out of range, a dataset problem
        raise ApiError(422, str(exc).splitlines()[0][:300]) from None
