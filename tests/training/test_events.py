"""The event models: exact fields, the discriminated union, and no NaN on the wire."""

from __future__ import annotations

import json
import math

import pytest
from pydantic import ValidationError

from server.training.events import (
    BoundaryEvent,
    CompileEvent,
    ConfusionEvent,
    EpochEvent,
    NoteEvent,
    StatusEvent,
    StepEvent,
    clean,
    dumps,
    event_schema,
    finite_or_none,
    is_final,
    parse_event,
)

EXAMPLES = [
    {"type": "status", "seq": 0, "status": "running", "error": None, "time": 1764190000.0},
    {"type": "step", "seq": 7, "epoch": 1, "step": 37, "loss": 0.71},
    {"type": "epoch", "seq": 9, "epoch": 1, "train_loss": 0.9, "val_loss": 0.8,
     "train_accuracy": 0.7, "val_accuracy": 0.72, "val_mae": None, "val_r2": None,
     "train_perplexity": None, "val_perplexity": None, "lr": 0.001,
     "seconds": 1.2, "samples_per_second": 1200.0, "grad_norms": {"conv1": 0.3},
     "weight_norms": {"conv1": 4.1}},
    {"type": "boundary", "seq": 10, "epoch": 1, "x": [0.0, 1.0], "y": [0.0, 1.0],
     "values": [[[0.2, 0.8], [0.4, 0.6]], [[0.5, 0.5], [0.9, 0.1]]]},
    {"type": "confusion", "seq": 11, "epoch": 1, "labels": ["0", "1"], "matrix": [[3, 1], [0, 4]]},
    {"type": "compile", "seq": 2, "phase": "compiled", "seconds": 12.5, "message": None},
    {"type": "note", "seq": 1, "message": "channels_last ignored: the samples are not images"},
]
MODELS = [StatusEvent, StepEvent, EpochEvent, BoundaryEvent, ConfusionEvent, CompileEvent,
          NoteEvent]


@pytest.mark.parametrize("data,model", list(zip(EXAMPLES, MODELS, strict=True)),
                         ids=[m.__name__ for m in MODELS])
def test_issue_examples_parse_to_their_model_and_round_trip(data, model):
    event = parse_event(data)
    assert type(event) is model
    assert event.model_dump(mode="json") == data


def test_unknown_type_or_field_or_status_is_refused():
    with pytest.raises(ValidationError):
        parse_event({"type": "nope", "seq": 0})
    with pytest.raises(ValidationError):
        parse_event({**EXAMPLES[1], "extra": 1})
    with pytest.raises(ValidationError):
        parse_event({**EXAMPLES[0], "status": "exploded"})
    with pytest.raises(ValidationError):
        parse_event({**EXAMPLES[1], "seq": -1})
    with pytest.raises(ValidationError):
        parse_event({**EXAMPLES[5], "phase": "exploded"})


def test_non_finite_numbers_become_none():
    assert finite_or_none(float("nan")) is None
    assert finite_or_none(float("inf")) is None
    assert finite_or_none(1.5) == 1.5
    assert finite_or_none("x") == "x"
    step = StepEvent(seq=0, epoch=1, step=1, loss=float("nan"))
    assert step.loss is None
    epoch = EpochEvent(seq=1, epoch=1, train_loss=float("-inf"),
                       grad_norms={"fc": float("inf"), "conv": 2.0})
    assert epoch.train_loss is None and epoch.grad_norms == {"fc": None, "conv": 2.0}
    assert clean({"a": [1.0, float("nan"), {"b": float("inf")}]}) == {"a": [1.0, None,
                                                                          {"b": None}]}


def test_boundary_values_refuse_nan_rather_than_carry_it():
    with pytest.raises(ValidationError):
        BoundaryEvent(seq=0, epoch=1, x=[0.0], y=[0.0], values=[[float("nan")]])
    assert BoundaryEvent(seq=0, epoch=1, x=[0.0], y=[0.0], values=[[None]]).values == [[None]]


def test_dumps_is_strict_json_without_nan():
    text = dumps({"type": "step", "seq": 0, "epoch": 1, "step": 1, "loss": float("nan")})
    assert json.loads(text)["loss"] is None
    assert "NaN" not in text and " " not in text
    assert json.loads(dumps(StatusEvent(seq=3, status="failed", error="x")))["seq"] == 3


def test_final_statuses_and_schema():
    assert is_final({"type": "status", "status": "diverged"})
    assert not is_final({"type": "status", "status": "running"})
    assert not is_final({"type": "step", "status": "completed"})
    schema = event_schema()
    assert {"status", "step", "epoch", "boundary", "confusion"} <= set(
        schema["discriminator"]["mapping"])
    assert math.isfinite(StatusEvent(seq=0, status="queued").time)
