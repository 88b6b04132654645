"""Regenerates docs/editor.png (the seed CNN in the editor) when asked.

`TORCHCANVAS_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_screenshot.py`
rewrites the picture the README shows; without the variable the test is skipped,
so a normal run never changes tracked files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page

from .editor import expect_valid, load_template, open_editor, select

pytestmark = pytest.mark.browser
OUT = Path(__file__).parents[2] / "docs" / "editor.png"


@pytest.mark.skipif(os.environ.get("TORCHCANVAS_SCREENSHOTS") != "1",
                    reason="set TORCHCANVAS_SCREENSHOTS=1 to rewrite docs/editor.png")
def test_editor_screenshot(page: Page) -> None:
    open_editor(page)
    load_template(page, "seed_cnn")
    expect_valid(page)
    select(page, "conv1")
    page.locator(".toast").evaluate_all("els => els.forEach((e) => e.remove())")
    page.mouse.move(700, 620)  # away from nodes and buttons: no hover styles
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT))
