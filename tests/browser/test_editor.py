"""The drag-and-drop editor in a real browser: build, edit, validate, undo, lay out, export, save.

Each test drives the page the way a user would (palette drags, port drags,
inspector fields, toolbar buttons, keys) and checks what the page shows against
the server's own answers.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import torch
from playwright.sync_api import Page, expect

from server.compiler import compile_graph

from .editor import (
    canvas,
    connect,
    drag_from_palette,
    expect_valid,
    graph_json,
    load_template,
    new_graph,
    node,
    node_ids,
    open_editor,
    select,
    set_param,
)

pytestmark = pytest.mark.browser
ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
TEMPLATES = tomllib.loads((ROOT / "examples" / "templates.toml").read_text())["template"]


@pytest.fixture(autouse=True)
def no_script_errors(page: Page):
    """Any uncaught exception in the page fails the test that caused it."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield
    assert not errors, errors


def test_build_seed_cnn_by_dragging_and_connecting(page: Page) -> None:
    open_editor(page)
    new_graph(page)
    chain = [
        ("Input", {"shape": "1, 8, 8"}),
        ("Conv2d", {"out_channels": "16", "padding": "1"}),
        ("ReLU", {}),
        ("MaxPool2d", {}),
        ("Flatten", {}),
        ("Linear", {"out_features": "10"}),
    ]
    ids = []
    for i, (type_, params) in enumerate(chain):
        ids.append(drag_from_palette(page, type_, 130 + 220 * (i % 2), 80 + 130 * (i // 2)))
        for name, value in params.items():
            set_param(page, name, value)
    for src, dst in zip(ids, ids[1:], strict=False):
        connect(page, src, dst)
    expect(canvas(page).locator(".x6-edge")).to_have_count(len(ids) - 1)

    expect_valid(page)
    expect(page.get_by_test_id("total-params")).to_have_text("2,730 params")  # same as seed_cnn
    expect(node(page, ids[-1]).locator(".tc-node-shape")).to_have_text("(N, 10)")
    expect(node(page, ids[3]).locator(".tc-node-shape")).to_have_text("(N, 16, 4, 4)")
    # The edge into Flatten is labelled with the shape it carries.
    expect(canvas(page).locator(".x6-edge-label", has_text="(N, 16, 4, 4)")).to_have_count(1)
    # in_features is inferred and read-only.
    select(page, ids[-1])
    field = page.get_by_test_id("inspector").get_by_test_id("param-in_features")
    expect(field).to_have_value("256")
    expect(field).to_have_attribute("readonly", "")

    # The training blocks: the loss attaches to the output, the optimizer sits beside it.
    drag_from_palette(page, "CrossEntropyLoss", 130, 480)
    drag_from_palette(page, "Adam", 350, 480)
    a = canvas(page).get_by_test_id(f"port-{ids[-1]}-out").bounding_box()
    b = canvas(page).get_by_test_id("port-loss-in").bounding_box()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=8)
    page.mouse.up()
    expect_valid(page)

    graph = graph_json(page)
    assert [n["type"] for n in graph["nodes"]] == [t for t, _ in chain]
    assert [n["inputs"] for n in graph["nodes"]][1:] == [[a] for a in ids[:-1]]
    assert graph["output"] == ids[-1]
    assert (graph["loss"]["type"], graph["optimizer"]["type"]) == ("CrossEntropyLoss", "Adam")


def test_cycle_refused_and_merge_inputs_in_connection_order(page: Page) -> None:
    open_editor(page)
    new_graph(page)
    x = drag_from_palette(page, "Input", 150, 80)
    set_param(page, "shape", "4")
    a = drag_from_palette(page, "ReLU", 100, 250)
    b = drag_from_palette(page, "Tanh", 360, 250)
    cat = drag_from_palette(page, "Concat", 250, 420)
    connect(page, x, a)
    connect(page, x, b)
    connect(page, b, cat)
    connect(page, a, cat)
    expect_valid(page)
    assert graph_json(page)["nodes"][3]["inputs"] == [b, a]
    expect(canvas(page).locator(".x6-edge-label", has_text="#1")).to_have_count(1)
    expect(canvas(page).locator(".x6-edge-label", has_text="#2")).to_have_count(1)
    expect(node(page, cat).locator(".tc-node-shape")).to_have_text("(N, 8)")

    connect(page, cat, a)  # a feeds cat: this would close a loop
    expect(page.locator(".toast-error", has_text="cycle")).to_be_visible()
    assert graph_json(page)["nodes"][1]["inputs"] == [x]


def test_inspector_params_update_shapes(page: Page) -> None:
    open_editor(page)
    load_template(page, "seed_cnn")
    expect_valid(page)
    select(page, "conv1")
    set_param(page, "out_channels", "8")
    expect(node(page, "conv1").locator(".tc-node-shape")).to_have_text("(N, 8, 8, 8)")
    expect(node(page, "flat").locator(".tc-node-shape")).to_have_text("(N, 128)")
    set_param(page, "kernel_size", "3, 5")
    set_param(page, "padding", "1, 2")
    expect(node(page, "conv1").locator(".tc-node-shape")).to_have_text("(N, 8, 8, 8)")
    select(page, "fc")
    inspector = page.get_by_test_id("inspector")
    expect(inspector.get_by_test_id("param-in_features")).to_have_value("128")
    # An inferred size can be overridden (and is then checked), then inferred again.
    inspector.get_by_test_id("param-in_features-override").click()
    set_param(page, "in_features", "100")
    expect_valid(page, False)
    expect(inspector.get_by_test_id("param-in_features-error")).to_contain_text("128")
    inspector.get_by_test_id("param-in_features-infer").click()
    expect_valid(page)
    expect(inspector.get_by_test_id("param-in_features")).to_have_attribute("readonly", "")
    # Renaming a layer keeps its edges.
    select(page, "pool1")
    node_id = page.get_by_test_id("inspector").get_by_test_id("node-id")
    node_id.fill("pool")
    node_id.press("Enter")
    expect(node(page, "pool")).to_have_count(1)
    assert graph_json(page)["nodes"][4]["inputs"] == ["pool"]
    expect_valid(page)
    # A value the schema refuses is marked at once, before any server answer.
    select(page, "conv1")
    field = page.get_by_test_id("inspector").get_by_test_id("param-out_channels")
    field.fill("0")
    expect(field).to_have_attribute("aria-invalid", "true")
    error = page.get_by_test_id("inspector").get_by_test_id("param-out_channels-error")
    expect(error).to_contain_text("at least 1")


def test_shape_error_shown_then_fixed(page: Page) -> None:
    open_editor(page)
    load_template(page, "seed_cnn")
    expect_valid(page)
    select(page, "pool1")
    set_param(page, "kernel_size", "16")  # larger than the 8x8 feature map
    expect_valid(page, False)
    bad = canvas(page).locator(".tc-node.is-error")
    expect(bad).to_have_count(1)
    expect(bad).to_have_attribute("data-testid", "node-pool1")
    expect(bad.locator(".tc-node-msg")).not_to_be_empty()
    expect(page.locator("#problems .msg-error").first).to_contain_text("pool1")
    set_param(page, "kernel_size", "2")
    expect_valid(page)
    expect(canvas(page).locator(".tc-node.is-error")).to_have_count(0)


def test_undo_redo_buttons_and_keys(page: Page) -> None:
    open_editor(page)
    load_template(page, "seed_cnn")
    expect_valid(page)
    select(page, "relu1")
    page.keyboard.press("Delete")
    expect(node(page, "relu1")).to_have_count(0)
    page.get_by_test_id("undo").click()
    expect(node(page, "relu1")).to_have_count(1)
    page.get_by_test_id("redo").click()
    expect(node(page, "relu1")).to_have_count(0)
    page.keyboard.press("Control+z")
    expect(node(page, "relu1")).to_have_count(1)
    assert graph_json(page)["nodes"][3]["inputs"] == ["relu1"]
    page.keyboard.press("Control+Shift+z")
    expect(node(page, "relu1")).to_have_count(0)

    # Copy/paste and select-all + delete go through the same history.
    page.keyboard.press("Control+z")
    select(page, "conv1")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(canvas(page).locator(".tc-node.kind-layer")).to_have_count(7)
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    expect(canvas(page).locator(".tc-node")).to_have_count(0)
    page.keyboard.press("Control+z")
    expect(canvas(page).locator(".tc-node.kind-layer")).to_have_count(7)


def test_auto_layout_orders_layers_top_to_bottom(page: Page) -> None:
    open_editor(page)
    load_template(page, "residual_block")
    expect_valid(page)
    # Scramble: drag the stem far down and right.
    box = node(page, "stem").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + 400, box["y"] + 400, steps=5)
    page.mouse.up()
    moved = graph_json(page)
    page.get_by_test_id("layout").click()
    graph = graph_json(page)
    assert graph != moved
    pos = {n["id"]: n["ui"] for n in graph["nodes"]}
    for n in graph["nodes"]:
        for src in n["inputs"]:
            # Below its input, or at the top of a column further right (a long chain wraps).
            a, b = pos[src], pos[n["id"]]
            assert a["y"] < b["y"] or b["x"] >= a["x"] + 200, (src, n["id"])
    spots = {(p["x"], p["y"]) for p in pos.values()}
    assert len(spots) == len(pos)  # no two layers on the same spot
    page.get_by_test_id("undo").click()
    assert graph_json(page) == moved


def test_each_template_loads_valid(page: Page) -> None:
    # One page for all templates: each opens as an undoable replacement of the last.
    open_editor(page)
    for t in TEMPLATES:
        name = t["name"]
        load_template(page, name)
        expected = json.loads((EXAMPLES / t.get("file", f"{name}.json")).read_text())
        expect(canvas(page).locator(".tc-node.kind-layer")).to_have_count(len(expected["nodes"]))
        expect_valid(page)
        graph = graph_json(page)
        assert graph["name"] == expected["name"]
        assert [(n["id"], n["type"], n["inputs"]) for n in graph["nodes"]] == [
            (n["id"], n["type"], n.get("inputs", [])) for n in expected["nodes"]], name
        expect(page.get_by_test_id("total-params")).to_have_text(re.compile(r"^[\d,]+ params$"))


def test_export_view_equals_the_api(page: Page, live_server: str) -> None:
    open_editor(page)
    load_template(page, "lenet5")
    expect_valid(page)
    graph = graph_json(page)
    page.get_by_test_id("export").click()
    code = page.get_by_test_id("code")
    for fmt in ("module", "script"):
        page.get_by_test_id(f"export-{fmt}").click()
        expect(code).to_have_attribute("data-state", "ready")
        expect(code).to_have_attribute("data-format", fmt)
        want = page.request.post(f"{live_server}/api/graphs/export?format={fmt}", data=graph).text()
        assert code.text_content() == want
        assert code.locator(".hljs-keyword").count() > 0  # highlighted
        with page.expect_download() as dl:
            page.get_by_test_id("download-code").click()
        assert Path(dl.value.path()).read_text() == want
    # The same network as a TorchScript file, fresh weights from the graph's seed.
    page.get_by_test_id("model-format").select_option("torchscript")
    with page.expect_download() as dl:
        page.get_by_test_id("download-model").click()
    assert dl.value.suggested_filename == "lenet5.pt"
    loaded = torch.jit.load(dl.value.path())
    fresh = compile_graph(graph, seed=graph["training"]["seed"]).eval()
    x = torch.randn(2, *fresh.input_shape)
    assert torch.allclose(loaded(x), fresh(x), atol=1e-6)


def test_save_reload_and_reopen_project(page: Page) -> None:
    open_editor(page)
    load_template(page, "two_branch")
    expect_valid(page)
    select(page, node_ids(page)[1])
    set_param(page, "out_features", "24")
    page.get_by_test_id("project-name").fill("my net")
    page.keyboard.press("Control+s")  # works from the name field too
    expect(page.locator(".toast", has_text="Saved my net")).to_be_visible()
    expect(page).to_have_title("my net · torchcanvas")
    assert "project=my+net" in page.url or "project=my%20net" in page.url
    saved = graph_json(page)

    page.reload()
    expect(page.locator("body[data-ready=true]")).to_be_attached()
    expect(page.get_by_test_id("project-name")).to_have_value("my net")
    assert graph_json(page)["nodes"] == saved["nodes"]

    new_graph(page)
    page.get_by_test_id("projects-button").click()
    page.get_by_test_id("projects").get_by_test_id("project-open-my net").click()
    expect(canvas(page).locator(".tc-node.kind-layer")).to_have_count(len(saved["nodes"]))
    assert graph_json(page)["nodes"] == saved["nodes"]
    expect_valid(page)


def test_blocks_edges_and_output(page: Page) -> None:
    open_editor(page)
    load_template(page, "seed_cnn")
    expect_valid(page)
    # The loss is a block on the canvas, edited in the inspector like a layer.
    canvas(page).get_by_test_id("block-loss").click()
    page.get_by_test_id("block-type").select_option("NLLLoss")
    expect(canvas(page).get_by_test_id("block-loss")).to_contain_text("NLLLoss")
    assert graph_json(page)["loss"]["type"] == "NLLLoss"

    # Disconnect an input from the inspector, then undo.
    select(page, "fc")
    page.get_by_test_id("inspector").get_by_test_id("input-1-remove").click()
    expect_valid(page, False)
    assert graph_json(page)["nodes"][5]["inputs"] == []
    page.keyboard.press("Control+z")
    expect_valid(page)

    # Click an edge, press Delete.
    canvas(page).locator('[data-cell-id$="|flat|0"] .x6-edge-label').click()
    page.keyboard.press("Delete")
    expect(canvas(page).locator('[data-cell-id$="|flat|0"]')).to_have_count(0)
    assert graph_json(page)["nodes"][4]["inputs"] == []
    page.keyboard.press("Control+z")

    # Dragging a layer's output onto the loss block makes it the model's output.
    a = canvas(page).get_by_test_id("port-flat-out").bounding_box()
    b = canvas(page).get_by_test_id("port-loss-in").bounding_box()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=8)
    page.mouse.up()
    expect(node(page, "flat").locator(".tc-node-meta")).to_contain_text("output")
    assert graph_json(page)["output"] == "flat"


def test_projects_rename_and_delete(page: Page, live_server: str) -> None:
    open_editor(page)
    load_template(page, "seed_mlp")
    expect_valid(page)
    page.get_by_test_id("project-name").fill("to-rename")
    page.get_by_test_id("project-name").press("Enter")  # Enter in the name field saves
    expect(page.locator(".toast", has_text="Saved to-rename")).to_be_visible()

    page.get_by_test_id("projects-button").click()
    projects = page.get_by_test_id("projects")
    row = projects.get_by_test_id("project-to-rename")
    row.get_by_role("button", name="Rename to-rename", exact=True).click()
    projects.get_by_role("textbox").fill("renamed")
    projects.get_by_role("textbox").press("Enter")
    expect(projects.get_by_test_id("project-open-renamed")).to_be_visible()
    expect(page.get_by_test_id("project-name")).to_have_value("renamed")
    assert "project=renamed" in page.url
    names = [p["name"] for p in page.request.get(f"{live_server}/api/projects").json()]
    assert "renamed" in names and "to-rename" not in names

    page.once("dialog", lambda d: d.accept())
    row = projects.get_by_test_id("project-renamed")
    row.get_by_role("button", name="Delete renamed", exact=True).click()
    expect(projects.get_by_test_id("project-renamed")).to_have_count(0)
    names = [p["name"] for p in page.request.get(f"{live_server}/api/projects").json()]
    assert "renamed" not in names


def test_keyboard_only_editing(page: Page) -> None:
    open_editor(page)
    new_graph(page)
    search = page.get_by_test_id("palette-search")
    search.focus()
    search.fill("Input")
    search.press("Enter")  # adds the first match
    set_param(page, "shape", "3")
    search.fill("linear")
    search.press("Enter")
    set_param(page, "out_features", "2")
    inspector = page.get_by_test_id("inspector")
    inspector.get_by_test_id("add-input").select_option("input_1")
    expect_valid(page)
    graph = graph_json(page)
    assert graph["nodes"][1]["inputs"] == ["input_1"]
    before = graph["nodes"][1]["ui"]
    page.get_by_test_id("undo").focus()  # leave the form; shortcuts act on the canvas selection
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    after = graph_json(page)["nodes"][1]["ui"]
    assert (after["x"] - before["x"], after["y"] - before["y"]) == (10, 50)
    page.keyboard.press("?")
    expect(page.locator("#help-dialog")).to_be_visible()
    expect(page.locator("#help-list")).to_contain_text("Auto-layout")
    page.keyboard.press("Escape")
    expect(page.locator("#help-dialog")).not_to_be_visible()


def test_json_download_and_upload(page: Page, tmp_path: Path) -> None:
    open_editor(page)
    load_template(page, "residual_block")
    expect_valid(page)
    with page.expect_download() as dl:
        page.get_by_test_id("download-json").click()
    saved = json.loads(Path(dl.value.path()).read_text())
    assert saved == graph_json(page)

    new_graph(page)
    path = tmp_path / "net.json"
    path.write_text(json.dumps(saved))
    page.get_by_test_id("upload-json").set_input_files(str(path))
    expect(canvas(page).locator(".tc-node.kind-layer")).to_have_count(len(saved["nodes"]))
    expect_valid(page)
    assert graph_json(page) == saved

    path.write_text('{"version": 7}')
    page.get_by_test_id("upload-json").set_input_files(str(path))
    expect(page.locator(".toast-error", has_text="version")).to_be_visible()
    assert graph_json(page) == saved
