"""In Chromium: the tiny-GPT template (nanoGPT's Block, defined once, used twice) trains
in the page with the curves moving, and Try it continues a prompt.

The template's own data (2000 windows) takes minutes on two busy cores; the test loads
the same graph with 256 windows and 3 epochs, through the page's JSON upload.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .editor import expect_valid
from .test_train import open_panel, points, wait_final, wait_points

pytestmark = pytest.mark.browser
TEMPLATE = Path(__file__).parents[2] / "examples" / "tiny_gpt.json"


def small_tiny_gpt(tmp_path: Path, epochs: int = 3, windows: int = 256) -> Path:
    graph = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    graph["data"]["params"]["n_samples"] = windows
    graph["training"]["epochs"] = epochs
    path = tmp_path / "tiny_gpt.json"
    path.write_text(json.dumps(graph), encoding="utf-8")
    return path


def test_tiny_gpt_trains_with_the_curves_moving(page: Page, tmp_path: Path) -> None:
    open_panel(page)
    page.get_by_test_id("upload-json").set_input_files(str(small_tiny_gpt(tmp_path)))
    expect_valid(page)
    for block in ("h0", "h1"):  # two instances of one Block definition
        expect(page.get_by_test_id("canvas").get_by_test_id(f"node-{block}")).to_contain_text(
            "Block")
    expect(page.get_by_test_id("dataset")).to_have_value("charlm")

    page.get_by_test_id("train").click()
    wait_points(page, 0, timeout=240_000)
    seen = points(page)
    assert wait_final(page, timeout=600_000) == "completed"
    assert points(page) > seen, "the loss chart grew while training"
    expect(page.get_by_test_id("progress")).to_contain_text("epoch 3/3")
    expect(page.locator(".tp-status-detail")).to_contain_text("val perplexity")

    tryit = page.get_by_test_id("try-it")
    tryit.get_by_test_id("try-text").fill("Beautiful is ")
    tryit.get_by_test_id("try-length").fill("20")
    tryit.get_by_test_id("try-go").click()
    expect(page.get_by_test_id("predictions")).not_to_contain_text("Asking the model",
                                                                   timeout=60_000)
    expect(page.get_by_test_id("generated")).to_contain_text("Beautiful is ")
