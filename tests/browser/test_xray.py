"""X-ray in the page: select a conv layer, see its feature maps and numbers."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .editor import expect_valid, load_template, open_editor, select


def test_xray_of_a_conv_layer_shows_its_feature_maps(page: Page) -> None:
    open_editor(page)
    load_template(page, "seed_cnn")
    expect_valid(page)
    select(page, "conv1")
    page.get_by_test_id("xray-sample").fill("4")
    page.get_by_test_id("xray-timing").check()
    page.get_by_test_id("xray-button").click()
    xray = page.get_by_test_id("xray")
    expect(xray).to_have_attribute("data-state", "ready", timeout=60_000)
    # 16 channels of 8x8: sixteen thumbnails, and the statistics beside them.
    expect(page.get_by_test_id("xray-pictures").locator("canvas")).to_have_count(16)
    body = page.get_by_test_id("xray-body")
    expect(body).to_contain_text("(16, 8, 8)")
    expect(body).to_contain_text("gradient in")
    expect(body).to_contain_text("FLOPs (1 sample)")
    expect(body).to_contain_text("Label of sample 4")
    expect(body).to_contain_text("forward+backward")
