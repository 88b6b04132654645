from playwright.sync_api import Page, expect
from .editor import canvas, connect, node, open_editor, new_graph, drag_from_palette, set_param
from .test_blocks import MLP, load, make_block


def test_shot(page: Page) -> None:
    open_editor(page)
    new_graph(page)
    load(page, MLP)
    make_block(page, ["fc1", "act", "fc2"], "Mlp")
    page.wait_for_timeout(500)
    page.screenshot(path="/tmp/shot1.png")
    inst = "mlp_1"
    node(page, inst).locator(".tc-node-title").click(button="right")
    page.screenshot(path="/tmp/shot2.png")
    page.get_by_test_id("menu-expand").click()
    page.get_by_test_id("fit").click()
    page.wait_for_timeout(500)
    page.screenshot(path="/tmp/shot3.png")
    node(page, inst).locator(".tc-node-title").dblclick()
    page.wait_for_timeout(800)
    page.screenshot(path="/tmp/shot4.png")
    new_graph(page)
    x = drag_from_palette(page, "Input", 150, 60)
    set_param(page, "shape", "20")
    halves = drag_from_palette(page, "Chunk", 150, 200)
    set_param(page, "chunks", "3")
    connect(page, x, halves)
    page.wait_for_timeout(800)
    page.screenshot(path="/tmp/shot5.png")
