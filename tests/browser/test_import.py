"""Import through the page: an ONNX file the test exports from an example, and a zoo model."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from server.export.deploy import export_deployable
from server.graph import load_graph_file

from .editor import canvas, expect_valid, graph_json, node, open_editor


def wait_for_graph(page: Page, name: str) -> dict:
    """The canvas graph once the import named `name` has opened (and validated)."""
    for _ in range(100):
        graph = graph_json(page)
        if graph["name"] == name:
            expect_valid(page)
            return graph_json(page)
        page.wait_for_timeout(100)
    raise AssertionError(f"{name} never opened; the canvas has {graph['name']}")


def test_import_an_onnx_file_and_a_zoo_model(page: Page, tmp_path) -> None:
    open_editor(page)
    onnx_path = tmp_path / "lenet5.onnx"
    onnx_path.write_bytes(export_deployable(load_graph_file("examples/lenet5.json"), "onnx"))

    page.get_by_test_id("templates-button").click()
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("onnx-import").click()
    chooser.value.set_files(str(onnx_path))
    graph = wait_for_graph(page, "lenet5")
    types = [n["type"] for n in graph["nodes"]]
    assert types[:2] == ["Input", "Conv2d"] and types.count("Linear") == 3, types
    # Every edge between layers carries its shape.
    edges = canvas(page).locator(".x6-edge").count()
    assert edges >= len(graph["nodes"]) - 1
    expect(canvas(page).locator(".x6-edge-label", has_text=re.compile(r"^\(N"))).to_have_count(
        edges)

    page.get_by_test_id("templates-button").click()
    # The first listing imports torchvision's model builders: seconds on a busy machine.
    expect(page.get_by_test_id("zoo-model").locator("option[value=squeezenet1_1]")
           ).to_be_attached(timeout=60_000)
    page.get_by_test_id("zoo-model").select_option("squeezenet1_1")
    page.get_by_test_id("zoo-import").click()
    graph = wait_for_graph(page, "squeezenet1_1")
    # torchvision's Fire modules come as one block, its 8 instances drawn collapsed: the
    # canvas shows the network's top level, each edge with its shape.
    assert list(graph["blocks"]) == ["Fire"]
    fires = [n["id"] for n in graph["nodes"] if n["type"] == "block:Fire"]
    assert len(fires) == 8 and len(graph["nodes"]) < 25
    assert sum(n["type"] == "Conv2d" for n in graph["blocks"]["Fire"]["nodes"]) == 3
    for fire in fires:
        expect(node(page, fire)).to_have_class(re.compile(r"\bis-block\b"))
        expect(node(page, fire)).not_to_have_class(re.compile(r"\bis-expanded\b"))
    drawn = canvas(page).locator(".x6-node").count()
    assert drawn <= len(graph["nodes"])  # nothing inside a block is drawn
    edges = canvas(page).locator(".x6-edge").count()
    assert edges >= min(drawn - 1, 10)
    expect(canvas(page).locator(".x6-edge-label", has_text=re.compile(r"^\(N"))).to_have_count(
        edges)
    # Opened, a Fire shows its layers with the shapes its first use sees.
    node(page, fires[0]).dblclick()
    expect(page.get_by_test_id("breadcrumb")).to_contain_text("Fire")
    # its squeeze convolution's 16 channels, on the 55x55 map a 224x224 image gives there
    expect(canvas(page).locator(".x6-edge-label", has_text="(N, 16, 55, 55)").first
           ).to_be_visible()
    page.keyboard.press("Escape")

    # What the zoo cannot map is named in the dialog, and the canvas is left alone.
    page.get_by_test_id("templates-button").click()
    page.get_by_test_id("zoo-model").select_option("swin_t")
    page.get_by_test_id("zoo-import").click()
    expect(page.get_by_test_id("import-status")).to_contain_text("Cannot import swin_t",
                                                                  timeout=60_000)
    assert graph_json(page)["name"] == "squeezenet1_1"


def test_freeze_a_layer_in_the_inspector(page: Page) -> None:
    from .editor import load_template, select

    open_editor(page)
    load_template(page, "seed_cnn")
    expect_valid(page)
    first = next(n for n in graph_json(page)["nodes"] if n["type"] == "Conv2d")["id"]
    select(page, first)
    page.get_by_test_id("node-frozen").check()
    expect(node(page, first)).to_contain_text("frozen")
    assert next(n for n in graph_json(page)["nodes"] if n["id"] == first)["frozen"] is True
    page.get_by_test_id("undo").click()
    expect(node(page, first)).not_to_contain_text("frozen")
    assert "frozen" not in next(n for n in graph_json(page)["nodes"] if n["id"] == first)


def test_upload_start_weights_for_the_open_network(page: Page, tmp_path) -> None:
    import torch

    from server.compiler import compile_graph

    from .editor import load_template

    open_editor(page)
    load_template(page, "seed_cnn")
    expect_valid(page)
    weights = tmp_path / "seed_cnn.pt"
    torch.save(compile_graph(graph_json(page), seed=4).state_dict(), weights)
    page.get_by_test_id("templates-button").click()
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("weights-upload").click()
    chooser.value.set_files(str(weights))
    expect(page.get_by_test_id("weights-status")).to_contain_text("4 of 4 tensors fit",
                                                                   timeout=60_000)
    assert graph_json(page)["init"]["weights"].endswith("weights.pt")
    expect_valid(page)
