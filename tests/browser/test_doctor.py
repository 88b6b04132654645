"""The doctor in the page: a planted learning rate 1000x too large is found, its range
test plotted, and the suggested rate goes into the optimizer with one click."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .editor import expect_valid, graph_json, load_template, open_editor


def test_doctor_finds_a_too_large_lr_and_applies_the_suggestion(page: Page) -> None:
    open_editor(page)
    load_template(page, "circles_mlp")
    expect_valid(page)
    page.evaluate("""async () => {
        const gl = await import('/static/js/train/graph-link.js');
        gl.applyLearningRate(10);
    }""")
    assert graph_json(page)["optimizer"]["params"]["lr"] == 10
    page.get_by_test_id("doctor").click()
    findings = page.get_by_test_id("findings")
    expect(findings.locator("li[data-kind=lr_too_high]")).to_have_count(1, timeout=90_000)
    expect(page.get_by_test_id("lr-plot")).to_be_visible()
    apply = page.get_by_test_id("apply-lr")
    expect(apply).to_contain_text("Use lr")
    apply.click()
    lr = graph_json(page)["optimizer"]["params"]["lr"]
    assert 0 < lr < 1
    page.get_by_test_id("undo").click()
    assert graph_json(page)["optimizer"]["params"]["lr"] == 10
