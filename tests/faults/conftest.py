"""Every test here drives a real `torchcanvas serve` process (tens of seconds each on a
busy machine): marked `faults`, so `pytest -m "not faults"` skips them while editing;
`make test` runs them all."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(pytest.mark.faults)
