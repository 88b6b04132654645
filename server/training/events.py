"""The events a training run emits: pydantic models with a literal `type`, unioned.

These are the exact dicts the websocket and `torchcanvas train` carry, so they
hold only JSON: every float field passes through `finite_or_none`, which turns
NaN and infinities into `None` (browsers reject a bare `NaN` in JSON). `seq`
numbers a run's events from 0 with no gaps; the parent process stamps it.
"""

from __future__ import annotations

import json
import math
import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter

Status = Literal["queued", "running", "completed", "failed", "stopped", "diverged", "interrupted"]
FINAL_STATUSES: frozenset[str] = frozenset(
    {"completed", "failed", "stopped", "diverged", "interrupted"})


def finite_or_none(value: Any) -> Any:
    """NaN and +-inf become None; anything else is returned unchanged."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def clean(value: Any) -> Any:
    """`finite_or_none` applied through nested lists, tuples and dicts."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


Num = Annotated[float | None, BeforeValidator(finite_or_none)]
# Grid values are many (50x50 cells, times classes): checked in pydantic's core
# rather than through a Python validator; the producer replaces non-finite ones.
Finite = Annotated[float, Field(allow_inf_nan=False)]
Cell = Finite | None | list[Finite | None]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=0)


class StatusEvent(_Event):
    """The run's state; the first event is `queued` or `running`, the last a final one."""

    type: Literal["status"] = "status"
    status: Status
    error: str | None = None
    time: float = Field(default_factory=time.time)

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES


class StepEvent(_Event):
    """Mean training loss of the steps since the previous step event (`step` is global)."""

    type: Literal["step"] = "step"
    epoch: int
    step: int
    loss: Num


class EpochEvent(_Event):
    """Per-epoch metrics; those that do not apply to the task are None."""

    type: Literal["epoch"] = "epoch"
    epoch: int
    train_loss: Num = None
    val_loss: Num = None
    train_accuracy: Num = None
    val_accuracy: Num = None
    val_mae: Num = None
    val_r2: Num = None
    # Language models (per-token cross-entropy): exp(mean token loss).
    train_perplexity: Num = None
    val_perplexity: Num = None
    lr: Num = None
    seconds: Num = None
    samples_per_second: Num = None
    grad_norms: dict[str, Num] = Field(default_factory=dict)
    weight_norms: dict[str, Num] = Field(default_factory=dict)


class BoundaryEvent(_Event):
    """The model over a grid covering 2-D input data.

    `values[i][j]` is the model at `(x[j], y[i])`: a list of class probabilities for
    classification and binary tasks, a number for regression.
    """

    type: Literal["boundary"] = "boundary"
    epoch: int
    x: list[Num]
    y: list[Num]
    values: list[list[Cell]]


class ConfusionEvent(_Event):
    """Validation confusion matrix: `matrix[true][predicted]` counts."""

    type: Literal["confusion"] = "confusion"
    epoch: int
    labels: list[str]
    matrix: list[list[int]]


class CompileEvent(_Event):
    """torch.compile's own time, before the first epoch (so no epoch's `seconds` holds it).

    `compiling` when it starts; then `compiled` with the `seconds` it took, or
    `skipped` when compiling failed: the run goes on without it and `message` says why.
    """

    type: Literal["compile"] = "compile"
    phase: Literal["compiling", "compiled", "skipped"]
    seconds: Num = None
    message: str | None = None


class NoteEvent(_Event):
    """Something the run decided that the user should know: an option it ignored, and why."""

    type: Literal["note"] = "note"
    message: str


Event = Annotated[
    StatusEvent | StepEvent | EpochEvent | BoundaryEvent | ConfusionEvent | CompileEvent
    | NoteEvent,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(Event)


def parse_event(data: dict[str, Any]) -> StatusEvent | StepEvent | EpochEvent | BoundaryEvent \
        | ConfusionEvent | CompileEvent | NoteEvent:
    """Validate a dict as one of the event models; raises pydantic's ValidationError."""
    return _ADAPTER.validate_python(data)


def event_schema() -> dict[str, Any]:
    """JSON Schema of the event union (for the API docs and the browser)."""
    return _ADAPTER.json_schema()


def is_final(event: dict[str, Any]) -> bool:
    """Whether an event dict is a run's last: a final status."""
    return event.get("type") == "status" and event.get("status") in FINAL_STATUSES


def finite_json(value: Any, ensure_ascii: bool = True) -> str:
    """Compact JSON with NaN and infinities as null; `allow_nan=False` makes any slip loud."""
    try:
        # Nearly always every number is finite and `clean` would change nothing; walking
        # a boundary grid's thousands of floats in Python cost ten times the C encoder.
        return _compact(value, ensure_ascii)
    except ValueError:  # a NaN or an infinity somewhere: replace, then encode
        return _compact(clean(value), ensure_ascii)


def _compact(value: Any, ensure_ascii: bool) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=ensure_ascii)


def dumps(event: BaseModel | dict[str, Any]) -> str:
    """One event as compact JSON with no NaN or infinity (they become null)."""
    return finite_json(event.model_dump(mode="json") if isinstance(event, BaseModel) else event)
