"""An LSTM classifier built from the palette, as a learner would (mnist_rnn on 8x8 digits).

Drags Input -> Reshape -> LSTM -> Linear, connects the ports, sets the LSTM's
`returns` in the inspector and checks the shapes on the canvas follow: every time
step (N, 8, 16) becomes the last one (N, 16); input_size is inferred.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .editor import (
    canvas,
    connect,
    drag_from_palette,
    expect_valid,
    graph_json,
    new_graph,
    node,
    open_editor,
    select,
    set_param,
)

pytestmark = pytest.mark.browser


def test_lstm_classifier_from_the_palette(page: Page) -> None:
    open_editor(page)
    new_graph(page)
    chain = [("Input", {"shape": "1, 8, 8"}), ("Reshape", {"shape": "8, 8"}),
             ("LSTM", {"hidden_size": "16"}), ("Linear", {"out_features": "10"})]
    ids = []
    for i, (type_, params) in enumerate(chain):
        ids.append(drag_from_palette(page, type_, 150 + 230 * (i % 2), 80 + 150 * (i // 2)))
        for name, value in params.items():
            set_param(page, name, value)
    for src, dst in zip(ids, ids[1:], strict=False):
        connect(page, src, dst)
    expect(canvas(page).locator(".x6-edge")).to_have_count(len(ids) - 1)
    expect_valid(page)
    lstm, fc = ids[2], ids[3]
    expect(node(page, lstm).locator(".tc-node-shape")).to_have_text("(N, 8, 16)")

    select(page, lstm)
    inspector = page.get_by_test_id("inspector")
    expect(inspector.get_by_test_id("param-input_size")).to_have_value("8")  # inferred
    inspector.get_by_test_id("param-returns").select_option(label="last")
    expect(node(page, lstm).locator(".tc-node-shape")).to_have_text("(N, 16)")
    expect(node(page, fc).locator(".tc-node-shape")).to_have_text("(N, 10)")
    expect_valid(page)

    g = graph_json(page)
    assert [n["type"] for n in g["nodes"]] == [t for t, _ in chain]
    assert g["nodes"][2]["params"] == {"hidden_size": 16, "returns": "last"}
