"""The convolutional autoencoder template trains in the page and answers a drawing with an image."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .editor import graph_json
from .test_train import choose, open_panel, points, wait_final, wait_points

pytestmark = pytest.mark.browser


def test_conv_autoencoder_trains_in_the_page(page: Page) -> None:
    open_panel(page)
    choose(page, "conv_autoencoder", "digits_images", 2)
    graph = graph_json(page)
    assert graph["data"]["dataset"] == "digits_images"
    assert graph["loss"]["type"] == "MSELoss"
    page.get_by_test_id("train").click()
    wait_points(page, 0)
    seen = points(page)
    assert wait_final(page) == "completed"
    assert points(page) > seen, "the loss chart grew while training"
    expect(page.get_by_test_id("progress")).to_contain_text("epoch 2/2")
    expect(page.get_by_test_id("gallery")).to_be_hidden()  # no class labels to mark

    # Try it: a drawn stroke comes back as the model's 8x8 image.
    pad = page.get_by_test_id("draw-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.85, steps=10)
    page.mouse.up()
    answer = page.get_by_test_id("predictions")
    expect(answer).to_contain_text("The model's image:")
    expect(answer.locator("canvas")).to_have_attribute("width", "8")
