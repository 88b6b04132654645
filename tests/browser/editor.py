"""Page helpers for the editor's browser tests: what a user does, by stable test ids.

Selectors are scoped to the main canvas (`canvas`), because the minimap draws a
second copy of every node.
"""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect


def open_editor(page: Page, path: str = "/") -> None:
    page.goto(path)
    expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=15_000)


def new_graph(page: Page) -> None:
    page.get_by_test_id("new").click()
    expect(canvas(page).locator(".tc-node")).to_have_count(0)


def load_template(page: Page, name: str) -> None:
    page.get_by_test_id("templates-button").click()
    page.get_by_test_id(f"template-{name}").click()
    expect(page.locator("#templates-dialog")).not_to_be_visible()


def canvas(page: Page) -> Locator:
    return page.get_by_test_id("canvas")


def node(page: Page, node_id: str) -> Locator:
    return canvas(page).get_by_test_id(f"node-{node_id}")


def port(page: Page, node_id: str, side: str) -> Locator:
    return canvas(page).get_by_test_id(f"port-{node_id}-{side}")


def drag_from_palette(page: Page, type_: str, x: float, y: float) -> str:
    """Drop a palette item at canvas position (x, y); return the new node's id
    (or the block's kind: `loss`, `optimizer`, `scheduler`)."""
    before = set(_cell_testids(page))
    page.get_by_test_id(f"palette-{type_}").drag_to(canvas(page), target_position={"x": x, "y": y})
    expect(canvas(page).locator(".tc-node")).to_have_count(len(before) + 1)
    (new,) = set(_cell_testids(page)) - before
    return new.split("-", 1)[1]


def _cell_testids(page: Page) -> list[str]:
    return list(canvas(page).locator(".tc-node").evaluate_all(
        "els => els.map(e => e.dataset.testid)"))


def node_ids(page: Page) -> list[str]:
    ids = canvas(page).locator(".tc-node.kind-layer").evaluate_all(
        "els => els.map(e => e.dataset.testid.slice(5))")
    return list(ids)


def connect(page: Page, src: str, dst: str, src_port: int | None = None) -> None:
    """Drag from src's output port (or its numbered port `src_port`) to dst's input port."""
    a = port(page, src, "out" if src_port is None else f"out-{src_port}").bounding_box()
    b = port(page, dst, "in").bounding_box()
    assert a and b, (src, dst)
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2 + 8, steps=6)
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=2)
    page.mouse.up()


def select(page: Page, node_id: str) -> None:
    """Click a node; if the view does not show it whole, fit the view first."""
    target = node(page, node_id).locator(".tc-node-title")
    box, view = target.bounding_box(), canvas(page).bounding_box()
    if not box or box["y"] < view["y"] or box["y"] + 40 > view["y"] + view["height"]:
        page.get_by_test_id("fit").click()
    target.click()
    expect(page.get_by_test_id("inspector").get_by_test_id("node-id")).to_have_value(node_id)


def set_param(page: Page, name: str, value: str) -> None:
    field = page.get_by_test_id("inspector").get_by_test_id(f"param-{name}")
    field.fill(value)
    field.press("Tab")


def expect_valid(page: Page, valid: bool = True) -> None:
    expect(page.get_by_test_id("validation")).to_have_attribute(
        "data-state", "valid" if valid else "invalid", timeout=10_000)


def graph_json(page: Page) -> dict:
    """The graph on the canvas, through the API the training panel uses."""
    return page.evaluate(
        "async () => (await import('/static/js/graph-state.js')).currentGraph()")
