"""X-ray and cost: what flows through each layer, fresh from the seed or from a run's checkpoint."""

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


def _answer(run: Any) -> dict[str, Any]:
    try:
        return run()
    except InvalidGraph as exc:
        raise graphcheck.invalid(exc) from None
    except (ValueError, RuntimeError) as exc:  # a sample out of range, a dataset problem
        raise ApiError(422, str(exc).splitlines()[0][:300]) from None
