"""Regenerates docs/editor.png (the seed CNN in the editor), docs/training-view.png
(a run training at 1280x720, curves moving), docs/xray.png (the X-ray of a
convolution, with cost badges and an edge's popover) and docs/blocks.png (a small
ResNet of built-in BasicBlocks, one expanded in place) when asked.

`TORCHCANVAS_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_screenshot.py`
rewrites the pictures the README shows; without the variable the tests are skipped,
so a normal run never changes tracked files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .editor import expect_valid, load_template, open_editor, select

pytestmark = pytest.mark.browser
OUT = Path(__file__).parents[2] / "docs" / "editor.png"
TRAINING = Path(__file__).parents[2] / "docs" / "training-view.png"
BLOCKS = Path(__file__).parents[2] / "docs" / "blocks.png"
BUILTIN = Path(__file__).parents[2] / "static" / "blocks" / "builtin.json"
ASKED = pytest.mark.skipif(os.environ.get("TORCHCANVAS_SCREENSHOTS") != "1",
                           reason="set TORCHCANVAS_SCREENSHOTS=1 to rewrite the docs pictures")


@ASKED
def test_editor_screenshot(page: Page) -> None:
    open_editor(page)
    load_template(page, "seed_cnn")
    expect_valid(page)
    select(page, "conv1")
    page.locator(".toast").evaluate_all("els => els.forEach((e) => e.remove())")
    page.mouse.move(700, 620)  # away from nodes and buttons: no hover styles
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT))


@ASKED
def test_training_view_screenshot(page: Page) -> None:
    """The training view beside the canvas while moons trains: taken mid-run."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_editor(page)
    expect(page.locator("#train-panel[data-ready=true]")).to_be_attached(timeout=15_000)
    load_template(page, "circles_mlp")
    page.get_by_test_id("dataset").select_option("moons")
    page.get_by_test_id("epochs").fill("60")
    page.get_by_test_id("epochs").press("Tab")
    page.get_by_test_id("train").click()
    # Mid-run: a few epochs of boundary and curve, the run still going.
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=boundary]').dataset.epoch) >= 6",
        timeout=120_000)
    page.locator(".toast").evaluate_all("els => els.forEach((e) => e.remove())")
    page.mouse.move(640, 700)
    page.screenshot(path=str(TRAINING))
    page.get_by_test_id("stop").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=run-status]').textContent !== 'running'",
        timeout=60_000)


XRAY = Path(__file__).parents[2] / "docs" / "xray.png"


@ASKED
def test_xray_screenshot(page: Page) -> None:
    """The X-ray of the Seed CNN's first convolution at 1280x720, with the cost badges on
    the cards and the popover of the edge leaving the convolution."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_editor(page)
    load_template(page, "seed_cnn")
    expect_valid(page)
    expect(page.get_by_test_id("total-cost")).to_contain_text("FLOPs")
    select(page, "conv1")
    page.get_by_test_id("xray-sample").fill("4")
    page.get_by_test_id("xray-button").click()
    xray = page.get_by_test_id("xray")
    expect(xray).to_have_attribute("data-state", "ready", timeout=60_000)
    xray.scroll_into_view_if_needed()
    page.locator(".toast").evaluate_all("els => els.forEach((e) => e.remove())")
    at = page.get_by_test_id("canvas").locator('g.x6-edge[data-cell-id="e|x|conv1|0"]') \
        .evaluate("""g => { const p = g.querySelector('path.tc-line');
            const a = p.getPointAtLength(p.getTotalLength() / 2); const m = p.getScreenCTM();
            return {x: a.x * m.a + a.y * m.c + m.e, y: a.x * m.b + a.y * m.d + m.f}; }""")
    page.mouse.move(at["x"], at["y"])
    expect(page.get_by_test_id("edge-xray")).to_have_attribute("data-state", "ready")
    page.wait_for_timeout(300)
    page.screenshot(path=str(XRAY))


@ASKED
def test_blocks_screenshot(page: Page) -> None:
    basic = json.loads(BUILTIN.read_text())["blocks"]["BasicBlock"]

    def n(id_, type_, params, inputs, x, y, **ui):
        return {"id": id_, "type": type_, "params": params, "inputs": inputs,
                "ui": {"x": x, "y": y, **ui}}

    graph = {"version": 1, "name": "TinyResNet", "blocks": {"BasicBlock": basic}, "nodes": [
        n("x", "Input", {"shape": [3, 16, 16]}, [], 40, 20),
        n("stem", "Conv2d", {"out_channels": 64, "kernel_size": 3, "padding": 1}, ["x"], 40, 140),
        n("layer1_0", "block:BasicBlock", {}, ["stem"], 40, 260),
        n("layer1_1", "block:BasicBlock", {}, ["layer1_0"], 300, 20, expanded=True),
        n("pool", "AdaptiveAvgPool2d", {"output_size": 1}, ["layer1_1"], 560, 640),
        n("flat", "Flatten", {}, ["pool"], 560, 760),
        n("fc", "Linear", {"out_features": 10}, ["flat"], 560, 880)]}
    open_editor(page)
    page.get_by_test_id("toggle-dock").click()  # the canvas at its widest
    page.evaluate("async (g) => (await import('/static/js/graph-state.js')).loadGraph(g)", graph)
    expect_valid(page)
    page.get_by_test_id("fit").click()
    select(page, "layer1_1")
    page.locator(".toast").evaluate_all("els => els.forEach((e) => e.remove())")
    page.mouse.move(700, 860)
    page.wait_for_timeout(300)
    page.screenshot(path=str(BLOCKS))


TINY_GPT = Path(__file__).parents[2] / "docs" / "tiny-gpt.png"


@ASKED
def test_tiny_gpt_screenshot(page: Page, tmp_path: Path) -> None:
    """The tiny-GPT template training at 1280x720: two Block instances, curves moving."""
    from .test_tiny_gpt import small_tiny_gpt

    page.set_viewport_size({"width": 1280, "height": 720})
    open_editor(page)
    expect(page.locator("#train-panel[data-ready=true]")).to_be_attached(timeout=15_000)
    page.get_by_test_id("upload-json").set_input_files(
        str(small_tiny_gpt(tmp_path, epochs=30, windows=512)))
    expect_valid(page)
    page.get_by_test_id("train").click()
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=chart-loss]').dataset.points) > 40",
        timeout=300_000)
    page.locator(".toast").evaluate_all("els => els.forEach((e) => e.remove())")
    page.mouse.move(640, 700)
    page.screenshot(path=str(TINY_GPT))
    page.get_by_test_id("stop").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=run-status]').textContent !== 'running'",
        timeout=60_000)
