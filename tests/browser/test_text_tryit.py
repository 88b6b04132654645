"""In Chromium: a character language model trains in the page, its perplexity shows in
the chart and the summary, and Try it continues a typed prompt."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from server.datasets import describe_dataset
from tests.training.graphs import char_lm

from .editor import expect_valid
from .test_train import open_panel, wait_final

pytestmark = pytest.mark.browser


def test_char_lm_trains_shows_perplexity_and_continues_a_prompt(page: Page, tmp_path) -> None:
    open_panel(page)
    zen = describe_dataset("charlm").vocab_size
    graph = char_lm(zen, params={"n_samples": 200, "length": 16}, epochs=2, hidden=32)
    path = tmp_path / "charlm.json"
    path.write_text(json.dumps(graph))
    page.get_by_test_id("upload-json").set_input_files(str(path))
    expect_valid(page)
    expect(page.get_by_test_id("dataset")).to_have_value("charlm")

    page.get_by_test_id("train").click()
    assert wait_final(page) == "completed"
    expect(page.locator(".tp-status-detail")).to_contain_text("val perplexity")
    expect(page.locator("#train-panel")).to_contain_text("Token accuracy and perplexity")

    tryit = page.get_by_test_id("try-it")
    expect(tryit).to_be_visible()
    tryit.get_by_test_id("try-text").fill("Beautiful is ")
    tryit.get_by_test_id("try-length").fill("30")
    tryit.get_by_test_id("try-go").click()
    answer = page.get_by_test_id("predictions")
    expect(answer).not_to_contain_text("Asking the model", timeout=30_000)
    generated = page.get_by_test_id("generated")
    assert generated.count() == 1, answer.text_content()
    expect(generated).to_contain_text("Beautiful is ")
    text = generated.text_content()
    assert len(text) == len("Beautiful is ") + 30

    tryit.get_by_test_id("try-text").fill("Ω")
    tryit.get_by_test_id("try-go").click()
    expect(page.get_by_test_id("predictions")).to_contain_text("does not know")


def test_text_csv_upload_picks_the_text_column(page: Page, tmp_path) -> None:
    open_panel(page)
    page.locator(".tp-upload summary").click()
    rows = ["id,review,sentiment"] + [
        f'{i},"{"a lovely, great film" if i % 2 else "dull and bad"}",{"pos" if i % 2 else "neg"}'
        for i in range(30)]
    path = tmp_path / "reviews.csv"
    path.write_text("\n".join(rows) + "\n")
    page.get_by_test_id("upload").set_input_files(str(path))
    # A column named like text is proposed, read as words unless the user says characters.
    expect(page.get_by_test_id("upload-text")).to_have_value("review")
    expect(page.get_by_test_id("upload-tokens")).to_be_visible()
    page.get_by_test_id("upload-label").select_option("sentiment")
    page.get_by_test_id("upload-tokens").select_option("char")
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_test_id("upload-message")).to_contain_text("Added dataset", timeout=15_000)
    uploads = page.request.get("/api/datasets").json()["uploads"]
    mine = next(u for u in uploads if u["name"].startswith("reviews"))
    assert mine["params"]["text"] == "review" and mine["params"]["tokens"] == "char"
    assert mine["info"]["kind"] == "text" and mine["info"]["input_dtype"] == "long"
