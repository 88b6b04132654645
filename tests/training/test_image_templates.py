"""The image-output templates train for real on CPU and improve (a few seconds each).

`conv_autoencoder` and `dcgan_generator` are shipped in examples/ and offered as
templates; each trains here for a few epochs on `digits_images` and must get
better and reach most of the quality its description states (the full claim:
R² about 0.9 after 30 epochs for the autoencoder, about 0.7 for the generator,
measured with `torchcanvas train`, see the README).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from .conftest import of_type, run_loop

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.accuracy


def _template(name: str) -> dict:
    graph = json.loads((EXAMPLES / f"{name}.json").read_text())
    graph["training"]["device"] = "cpu"
    return graph


@pytest.mark.parametrize(("name", "epochs", "r2"), [("conv_autoencoder", 6, 0.75),
                                                    ("dcgan_generator", 4, 0.65)])
def test_template_trains_and_improves(name, epochs, r2, tmp_path):
    graph = _template(name)
    assert graph["data"]["dataset"] == "digits_images"
    graph["training"]["epochs"] = epochs
    status, events = run_loop(graph, tmp_path)
    assert status == "completed"
    epochs_seen = of_type(events, "epoch")
    assert len(epochs_seen) == epochs
    assert epochs_seen[-1]["val_loss"] < epochs_seen[0]["val_loss"]
    assert epochs_seen[-1]["val_r2"] >= r2


def test_the_templates_are_offered_with_a_stated_quality():
    index = tomllib.loads((EXAMPLES / "templates.toml").read_text())["template"]
    by_name = {t["name"]: t for t in index}
    for name in ("conv_autoencoder", "dcgan_generator"):
        assert "R²" in by_name[name]["description"]
