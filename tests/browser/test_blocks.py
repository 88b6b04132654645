"""Blocks in the editor: make one from a selection, reuse it from the palette, open it,
expand it in place, undo and redo, and keep the library through save and reopen.

The graph JSON checked here is the block format of docs/graph-format.md (`blocks`,
`block:<name>` nodes, `{node, port}` references for several outputs).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .editor import (
    canvas,
    connect,
    expect_valid,
    graph_json,
    new_graph,
    node,
    open_editor,
    select,
)

pytestmark = pytest.mark.browser

def N(id_: str, type_: str, params: dict, inputs: list, x: int, y: int) -> dict:  # noqa: N802
    return {"id": id_, "type": type_, "params": params, "inputs": inputs, "ui": {"x": x, "y": y}}


MLP = {
    "version": 1, "name": "Net",
    "nodes": [
        N("x", "Input", {"shape": [16]}, [], 40, 20),
        N("fc1", "Linear", {"out_features": 32}, ["x"], 40, 140),
        N("act", "ReLU", {}, ["fc1"], 40, 260),
        N("fc2", "Linear", {"out_features": 16}, ["act"], 40, 380),
        N("head", "Linear", {"out_features": 3}, ["fc2"], 40, 500),
    ],
    "output": "head",
}


def expect_shape(page: Page, node_id: str, text: str) -> None:
    expect(node(page, node_id).locator(".tc-node-shape")).to_have_text(text)


def load(page: Page, graph: dict) -> None:
    page.evaluate("async (g) => (await import('/static/js/graph-state.js')).loadGraph(g)", graph)
    expect(canvas(page).locator(".tc-node.kind-layer")).to_have_count(len(graph["nodes"]))


def select_nodes(page: Page, ids: list[str]) -> None:
    """Click the first, Ctrl+click the others (adds them to the selection)."""
    page.get_by_test_id("fit").click()
    node(page, ids[0]).locator(".tc-node-title").click()
    for i in ids[1:]:
        node(page, i).locator(".tc-node-title").click(modifiers=["Control"])
    expect(canvas(page).locator(".x6-node-selected .tc-node")).to_have_count(len(ids))


def make_block(page: Page, ids: list[str], name: str) -> None:
    """Select `ids`, then Make block with `name`."""
    select_nodes(page, ids)
    name_block(page, name)


def name_block(page: Page, name: str) -> None:
    page.get_by_test_id("make-block").click()
    page.get_by_test_id("block-name").fill(name)
    page.get_by_test_id("block-create").click()
    expect(page.locator("#block-dialog")).not_to_be_visible()


def drop_block(page: Page, name: str, x: float, y: float) -> None:
    item = page.get_by_test_id(f"palette-block:{name}")
    item.drag_to(canvas(page), target_position={"x": x, "y": y})


def test_make_block_reuse_three_times_undo_redo(page: Page) -> None:
    open_editor(page)
    new_graph(page)
    load(page, MLP)
    expect_valid(page)
    select_nodes(page, ["fc1", "act", "fc2"])
    before = graph_json(page)
    name_block(page, "Mlp")
    g = graph_json(page)
    block = g["blocks"]["Mlp"]
    assert [(n["id"], n["type"]) for n in block["nodes"]] == [
        ("x", "Input"), ("fc1", "Linear"), ("act", "ReLU"), ("fc2", "Linear")]
    assert block["inputs"] == ["x"] and block["output"] == "fc2"
    assert block["nodes"][1]["inputs"] == ["x"]
    inst = [n for n in g["nodes"] if n["type"] == "block:Mlp"]
    assert len(inst) == 1 and inst[0]["inputs"] == ["x"]
    assert [n["inputs"] for n in g["nodes"] if n["id"] == "head"] == [[inst[0]["id"]]]
    first = inst[0]["id"]
    expect(node(page, first)).to_contain_text("Mlp")
    expect(page.get_by_test_id("palette-block:Mlp")).to_be_visible()
    expect_valid(page)
    expect_shape(page, first, "(N, 16)")

    # One undo step brings the three layers back, exactly, and selected.
    page.get_by_test_id("undo").click()
    assert graph_json(page) == before
    expect(canvas(page).locator(".x6-node-selected .tc-node")).to_have_count(3)
    page.get_by_test_id("redo").click()
    assert graph_json(page) == g

    # A block still in use stays in the library; its palette item says why.
    page.get_by_test_id("palette-block:Mlp").click(button="right")
    page.get_by_test_id("menu-remove-block").click()
    expect(page.locator(".toast-error", has_text="Mlp is still used by")).to_be_visible()
    assert "Mlp" in graph_json(page)["blocks"]

    # Reuse it three times from the palette: each drop is a new instance (own weights).
    for i in range(3):
        drop_block(page, "Mlp", 420, 120 + 130 * i)
    g = graph_json(page)
    uses = [n["id"] for n in g["nodes"] if n["type"] == "block:Mlp"]
    assert len(uses) == 4 and len(set(uses)) == 4
    assert list(g["blocks"]) == ["Mlp"]
    page.get_by_test_id("fit").click()
    for src, dst in zip(uses, uses[1:], strict=False):
        connect(page, src, dst)
    connect(page, uses[-1], "head")  # Linear takes one input: this replaces fc2's block
    g = graph_json(page)
    assert [n["inputs"] for n in g["nodes"] if n["id"] == "head"] == [[uses[-1]]]
    expect_valid(page)
    expect_shape(page, uses[-1], "(N, 16)")
    per_use = 16 * 32 + 32 + 32 * 16 + 16
    expect(page.get_by_test_id("total-params")).to_have_text(f"{4 * per_use + 51:,} params")


def test_open_a_block_edit_it_and_come_back(page: Page) -> None:
    open_editor(page)
    new_graph(page)
    load(page, MLP)
    make_block(page, ["fc1", "act"], "Stem")
    inst = next(n["id"] for n in graph_json(page)["nodes"] if n["type"] == "block:Stem")
    expect_valid(page)

    node(page, inst).locator(".tc-node-title").dblclick()
    crumbs = page.get_by_test_id("breadcrumb")
    expect(crumbs).to_be_visible()
    expect(crumbs).to_have_text("Net›Stem")
    expect(canvas(page).locator(".tc-node.kind-layer")).to_have_count(3)  # x, fc1, act
    expect_shape(page, "fc1", "(N, 32)")  # shapes of its use
    select(page, "fc1")
    field = page.get_by_test_id("inspector").get_by_test_id("param-out_features")
    field.fill("24")
    field.press("Tab")
    expect_shape(page, "fc1", "(N, 24)")
    assert graph_json(page)["blocks"]["Stem"]["nodes"][1]["params"]["out_features"] == 24

    # Expose a param: fc1's width becomes `$width`, each use sets its own.
    canvas(page).click(position={"x": 5, "y": 5})
    inspector = page.get_by_test_id("inspector")
    inspector.get_by_test_id("block-param-name").fill("width")
    inspector.get_by_test_id("block-param-default").fill("24")
    inspector.get_by_test_id("block-param-add").click()
    expect(inspector.get_by_test_id("block-params")).to_contain_text("$width = 24")
    select(page, "fc1")
    field.fill("$width")
    field.press("Tab")
    block = graph_json(page)["blocks"]["Stem"]
    assert block["params"] == {"width": {"default": 24}}
    assert block["nodes"][1]["params"]["out_features"] == "$width"
    expect_shape(page, "fc1", "(N, 24)")

    crumbs.get_by_test_id("crumb-0").click()
    expect(crumbs).to_be_hidden()
    expect(node(page, "head")).to_be_visible()
    expect_shape(page, inst, "(N, 24)")
    expect_valid(page)
    select(page, inst)
    width = page.get_by_test_id("inspector").get_by_test_id("param-width")
    expect(width).to_have_value("24")
    width.fill("40")
    width.press("Tab")
    expect_shape(page, inst, "(N, 40)")
    expect_valid(page)
    assert graph_json(page)["nodes"][1]["params"] == {"width": 40}

    # Undo reaches into the block too; Escape leaves an open block.
    node(page, inst).locator(".tc-node-title").dblclick()
    expect(crumbs).to_be_visible()
    for _ in range(3):  # the use's width, $width, the param
        page.get_by_test_id("undo").click()
    assert graph_json(page)["blocks"]["Stem"]["nodes"][1]["params"]["out_features"] == 24
    page.get_by_test_id("undo").click()
    assert graph_json(page)["blocks"]["Stem"]["nodes"][1]["params"]["out_features"] == 32
    canvas(page).click(position={"x": 5, "y": 5})
    page.keyboard.press("Escape")
    expect(crumbs).to_be_hidden()


def test_expand_in_place_and_context_menu(page: Page) -> None:
    open_editor(page)
    new_graph(page)
    load(page, MLP)
    make_block(page, ["fc1", "act", "fc2"], "Mlp")
    inst = next(n["id"] for n in graph_json(page)["nodes"] if n["type"] == "block:Mlp")
    node(page, inst).locator(".tc-node-title").click(button="right")
    menu = page.get_by_test_id("context-menu")
    expect(menu.get_by_test_id("menu-open-block")).to_be_visible()
    menu.get_by_test_id("menu-expand").click()
    inner = canvas(page).locator(".tc-node.kind-inner")
    expect(inner).to_have_count(4)
    expect(canvas(page).get_by_test_id(f"inner-{inst}-act")).to_be_visible()
    assert graph_json(page)["nodes"][1]["ui"]["expanded"] is True
    expect_valid(page)
    # Read-only: a click on an inner node selects nothing; the block itself stays selectable.
    select(page, inst)
    page.get_by_test_id("inspector").get_by_test_id("block-expand").click()
    expect(inner).to_have_count(0)
    assert "expanded" not in graph_json(page)["nodes"][1]["ui"]


def test_builtin_blocks_and_library_saved_with_the_project(page: Page) -> None:
    open_editor(page)
    new_graph(page)
    for name in ["BasicBlock", "TransformerBlock", "Inception"]:
        expect(page.get_by_test_id(f"palette-block:{name}")).to_be_visible()
    graph = {"version": 1, "name": "Net", "output": None,
             "nodes": [N("img", "Input", {"shape": [64, 8, 8]}, [], 40, 20)]}
    load(page, graph)
    drop_block(page, "BasicBlock", 300, 200)
    drop_block(page, "BasicBlock", 300, 400)
    g = graph_json(page)
    assert list(g["blocks"]) == ["BasicBlock"]
    a, b = (n["id"] for n in g["nodes"] if n["type"] == "block:BasicBlock")
    page.get_by_test_id("fit").click()
    connect(page, "img", a)
    connect(page, a, b)
    expect_valid(page)
    expect_shape(page, b, "(N, 64, 8, 8)")
    per_use = 2 * 64 * 64 * 9 + 4 * 64  # two 3x3 convolutions without bias, two batch norms
    expect(page.get_by_test_id("total-params")).to_have_text(f"{2 * per_use:,} params")
    # Module names nest the uses as torchvision does: layer1.0.conv1.weight, ...
    for i, use in enumerate([a, b]):
        select(page, use)
        name = page.get_by_test_id("inspector").get_by_test_id("node-name")
        name.fill(f"layer1.{i}")
        name.press("Tab")
    assert [n.get("name") for n in graph_json(page)["nodes"]] == [None, "layer1.0", "layer1.1"]
    expect_valid(page)
    code = page.evaluate("""async (g) => (await (await fetch('/api/graphs/export?format=module',
        {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(g)}))
        .text())""", graph_json(page))
    assert "class BasicBlock(nn.Module)" in code and "self.layer1 = nn.Sequential(" in code

    page.get_by_test_id("project-name").fill("with blocks")
    page.get_by_test_id("project-save").click()
    expect(page.locator(".toast", has_text="Saved with blocks")).to_be_visible()
    saved = graph_json(page)
    new_graph(page)
    page.get_by_test_id("projects-button").click()
    page.get_by_test_id("projects").get_by_test_id("project-open-with blocks").click()
    expect(canvas(page).locator(".tc-node.kind-layer")).to_have_count(3)
    assert graph_json(page)["blocks"] == saved["blocks"]
    expect(page.get_by_test_id("palette-block:BasicBlock")).not_to_have_class(re.compile(r"\bis-builtin\b"))
    page.reload()
    expect(page.locator("body[data-ready=true]")).to_be_attached()
    assert graph_json(page)["blocks"] == saved["blocks"]
    expect_valid(page)


def test_a_block_with_two_outputs_has_two_ports(page: Page) -> None:
    """The references leaving the selection become the block's outputs, read by port."""
    open_editor(page)
    new_graph(page)
    graph = {"version": 1, "name": "Net", "output": "sum", "nodes": [
        N("x", "Input", {"shape": [20]}, [], 200, 20),
        N("fc", "Linear", {"out_features": 8}, ["x"], 200, 140),
        N("halves", "Chunk", {"chunks": 2}, ["fc"], 200, 260),
        N("a", "ReLU", {}, ["halves"], 60, 400),
        N("b", "Sigmoid", {}, [{"node": "halves", "port": 1}], 340, 400),
        N("sum", "Add", {}, ["a", "b"], 200, 520)]}
    load(page, graph)
    expect(canvas(page).get_by_test_id("port-halves-out-1")).to_be_visible()
    make_block(page, ["fc", "halves"], "Heads")
    g = graph_json(page)
    assert g["blocks"]["Heads"]["output"] == ["halves", {"node": "halves", "port": 1}]
    inst = next(n["id"] for n in g["nodes"] if n["type"] == "block:Heads")
    by_id = {n["id"]: n for n in g["nodes"]}
    assert by_id["a"]["inputs"] == [inst]  # port 0 is written as a plain id
    assert by_id["b"]["inputs"] == [{"node": inst, "port": 1}]
    expect(canvas(page).get_by_test_id(f"port-{inst}-out-0")).to_be_visible()
    expect(canvas(page).get_by_test_id(f"port-{inst}-out-1")).to_be_visible()
    expect_valid(page)
    expect_shape(page, inst, "(N, 4) · (N, 4)")
    select(page, inst)
    port1 = page.get_by_test_id("inspector").get_by_test_id("inspector-port-1")
    expect(port1).to_have_text("port 1: (N, 4)")
