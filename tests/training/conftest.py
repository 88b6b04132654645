"""Shared helpers for the trainer tests: run the loop in-process and check its events."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from server.training.events import FINAL_STATUSES, parse_event
from server.training.loop import train


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "accuracy: real training to the issue's accuracy targets (a few seconds each)")


@pytest.fixture(autouse=True)
def _few_threads():
    # Other engineers' suites share these cores; one thread keeps timings steady.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run_loop(graph: dict[str, Any], out_dir, **kwargs: Any) -> tuple[str, list[dict[str, Any]]]:
    """Train in this process; return the final status and every event (checked)."""
    events: list[dict[str, Any]] = []
    status = train(graph, out_dir, events.append, log=lambda message: None, **kwargs)
    check_events(events)
    return status, events


def _no_nan(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_no_nan(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_nan(v) for v in value)
    return True


def check_events(events: list[dict[str, Any]]) -> None:
    """The stream's contract: contiguous seq from 0, valid models, one final status, no NaN."""
    assert [e["seq"] for e in events] == list(range(len(events)))
    for e in events:
        parse_event(e)
        assert _no_nan(e), e
    assert events[0]["type"] == "status" and events[0]["status"] in ("queued", "running")
    finals = [i for i, e in enumerate(events)
              if e["type"] == "status" and e["status"] in FINAL_STATUSES]
    assert finals == [len(events) - 1]


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]
