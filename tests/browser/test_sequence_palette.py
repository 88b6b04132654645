"""An LSTM classifier built from the palette, as a learner would (mnist_rnn on 8x8 digits).

Drags Input -> Reshape -> LSTM -> Linear, connects the ports, sets the LSTM's
`returns` in the inspector and checks the shapes on the canvas follow: every time
step (N, 8, 16) becomes the last one (N, 16); input_size is inferred. Then a
token classifier (long ids -> Embedding -> LSTM -> Select the last step ->
Linear), and output ports: an edge drawn from a Chunk's port 1 is the reference
`{"node", "port": 1}`, and the inspector lists each port's shape.
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


def test_token_lstm_classifier_with_long_ids(page: Page) -> None:
    """Input of token ids (dtype long) -> Embedding -> LSTM -> Select the last step -> Linear."""
    open_editor(page)
    new_graph(page)
    chain = [("Input", {"shape": "12", "vocab": "50"}),
             ("Embedding", {"num_embeddings": "50", "embedding_dim": "16"}),
             ("LSTM", {"hidden_size": "32"}), ("Select", {}), ("Linear", {"out_features": "2"})]
    ids = []
    for i, (type_, params) in enumerate(chain):
        ids.append(drag_from_palette(page, type_, 150 + 230 * (i % 2), 70 + 120 * i))
        if type_ == "Input":
            page.get_by_test_id("inspector").get_by_test_id("param-dtype").select_option(label="long")
        for name, value in params.items():
            set_param(page, name, value)
    page.get_by_test_id("fit").click()
    for src, dst in zip(ids, ids[1:], strict=False):
        connect(page, src, dst)
    expect_valid(page)
    want = ["(N, 12)", "(N, 12, 16)", "(N, 12, 32)", "(N, 32)", "(N, 2)"]
    for node_id, shape in zip(ids, want, strict=True):
        expect(node(page, node_id).locator(".tc-node-shape")).to_have_text(shape)
    g = graph_json(page)
    assert g["nodes"][0]["params"] == {"shape": [12], "dtype": "long", "vocab": 50}
    assert g["nodes"][3]["type"] == "Select" and g["nodes"][3]["inputs"] == [ids[2]]


def test_output_ports_make_port_references(page: Page) -> None:
    """A Chunk has one output port per part; an edge from port 1 is `{node, port: 1}`."""
    open_editor(page)
    new_graph(page)
    x = drag_from_palette(page, "Input", 150, 60)
    set_param(page, "shape", "20")
    fc = drag_from_palette(page, "Linear", 150, 180)
    set_param(page, "out_features", "8")
    halves = drag_from_palette(page, "Chunk", 150, 300)
    sigma = drag_from_palette(page, "Sigmoid", 380, 420)
    page.get_by_test_id("fit").click()
    connect(page, x, fc)
    connect(page, fc, halves)
    expect(canvas(page).get_by_test_id(f"port-{halves}-out-1")).to_be_visible()
    connect(page, halves, sigma, src_port=1)
    g = graph_json(page)
    assert g["nodes"][3]["inputs"] == [{"node": halves, "port": 1}]
    select(page, halves)
    inspector = page.get_by_test_id("inspector")
    expect_valid(page)
    expect(node(page, halves).locator(".tc-node-shape")).to_have_text("(N, 4) · (N, 4)")
    expect(inspector.get_by_test_id("inspector-port-1")).to_have_text("port 1: (N, 4)")
    expect(canvas(page).locator(".x6-edge-label", has_text="(N, 4)")).to_have_count(1)

    # Rewire from the inspector's picker: port 0 of the Chunk.
    select(page, sigma)
    inspector.get_by_test_id("input-1-remove").click()
    inspector.get_by_test_id("add-input").select_option(label=f"{halves} output 0 (Chunk)")
    assert graph_json(page)["nodes"][3]["inputs"] == [halves]
    # Deleting the Chunk leaves no dangling port reference.
    select(page, halves)
    inspector.get_by_role("button", name="Delete layer").click()
    g = graph_json(page)
    assert g["nodes"][-1]["inputs"] == [] and g["output"] is None
