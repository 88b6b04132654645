"""Browser tests of the learner's loop (issue 12): curves in view while training, and
the rough edges a new user hit, each reproduced as they met it.

They run at 1280x720, the smallest screen the issue names, against the live
server of `conftest.py`. Run alone: `.venv/bin/pytest tests/browser/test_learner.py`.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .editor import load_template, open_editor, select

pytestmark = pytest.mark.browser

SMALL = {"width": 1280, "height": 720}
FINAL = ["completed", "stopped", "diverged", "failed", "interrupted"]


def open_small(page: Page, path: str = "/") -> None:
    page.set_viewport_size(SMALL)
    open_editor(page, path)
    expect(page.locator("#train-panel[data-ready=true]")).to_be_attached(timeout=15_000)


def in_viewport(page: Page, testid: str) -> dict:
    """The element's box, asserted to lie wholly inside the window."""
    box = page.get_by_test_id(testid).bounding_box()
    assert box, testid
    assert box["x"] >= 0 and box["y"] >= 0, (testid, box)
    assert box["x"] + box["width"] <= SMALL["width"] + 1, (testid, box)
    assert box["y"] + box["height"] <= SMALL["height"] + 1, (testid, box)
    return box


def test_curves_boundary_and_progress_in_view_while_training(page: Page) -> None:
    open_small(page)
    load_template(page, "circles_mlp")
    page.get_by_test_id("dataset").select_option("circles")
    page.get_by_test_id("epochs").fill("4")
    page.get_by_test_id("epochs").press("Tab")
    page.get_by_test_id("train").click()
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=chart-loss]').dataset.points) > 0",
        timeout=60_000)
    # Nothing scrolled by the test: the page itself shows the live view.
    chart = in_viewport(page, "chart-loss")
    in_viewport(page, "boundary")
    in_viewport(page, "progress")
    # The loss chart's first point is drawn inside the window: its plot area is on screen.
    plot = page.get_by_test_id("chart-loss").locator(".u-over").bounding_box()
    assert plot and plot["y"] >= chart["y"] and plot["y"] + plot["height"] <= SMALL["height"]
    # The canvas stays usable beside it: wide enough for a node, all of it on screen.
    canvas = in_viewport(page, "canvas")
    assert canvas["width"] >= 360
    page.wait_for_function(
        "final => final.includes(document.querySelector('[data-testid=run-status]').textContent)",
        arg=FINAL, timeout=120_000)
    # Try it: the answer appears where the user clicked on the boundary.
    heat = page.get_by_test_id("boundary").locator("canvas")
    box = heat.bounding_box()
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6
    page.mouse.click(x, y)
    answer = page.get_by_test_id("predictions")
    expect(answer).to_contain_text("Predicted:")
    at = answer.bounding_box()
    assert abs(at["x"] - x) < 60 and abs(at["y"] - y) < 60, (at, x, y)


# ---------------------------------------------------------------- rough edges

def edge_ids(page: Page) -> list[str]:
    """The ids of the edges drawn on the main canvas (the minimap keeps its own copy)."""
    return page.get_by_test_id("canvas").locator("g.x6-edge").evaluate_all(
        "els => els.map(e => e.getAttribute('data-cell-id'))")


def loss_edges(page: Page) -> list[dict]:
    """The dashed loss edges on the canvas: where each starts, and whether that node exists."""
    return page.evaluate("""() => {
        const root = document.querySelector('[data-testid=canvas]');
        return [...root.querySelectorAll('g.x6-edge')]
          .filter(e => e.querySelector('.tc-line-loss'))
          .map(e => { const d = e.querySelector('path.tc-line').getAttribute('d') || '';
                      return {id: e.getAttribute('data-cell-id'), d}; });
    }""")


def test_1_dataset_dropdown_follows_the_graph(page: Page) -> None:
    open_small(page)
    load_template(page, "circles_mlp")
    pick = page.get_by_test_id("dataset")
    expect(pick).to_have_value("circles")
    pick.select_option("moons")
    page.get_by_test_id("undo").click()
    expect(pick).to_have_value("circles")
    # After New the graph has no dataset: neither has the dropdown.
    page.get_by_test_id("new").click()
    expect(pick).to_have_value("")
    # Choose one, then undo right away: none again, and choosing the same option works again.
    pick.select_option("circles")
    pick.press("Control+z")  # focus still on the dropdown
    expect(pick).to_have_value("")
    pick.select_option("circles")
    page.wait_for_function("""async () => (await import('/static/js/graph-state.js'))
        .currentGraph().data?.dataset === 'circles'""")


def test_2_one_loss_edge_follows_the_output(page: Page) -> None:
    open_small(page)
    load_template(page, "circles_mlp")
    expect(page.get_by_test_id("validation")).to_have_attribute("data-state", "valid")
    assert len(loss_edges(page)) == 1
    # Insert a Softmax after the output: the loss now hangs on it, one dashed edge only.
    page.evaluate("""async () => {
        const gs = await import('/static/js/graph-state.js');
        const g = gs.currentGraph();
        g.nodes.push({id: 'soft', type: 'Softmax', params: {}, inputs: ['out'],
                      ui: {x: 40, y: 700}});
        gs.loadGraph(g);
    }""")
    page.wait_for_timeout(600)
    ids = edge_ids(page)
    assert len(ids) == len(set(ids)), ids
    assert len(loss_edges(page)) == 1, loss_edges(page)
    # Undo: back to one dashed edge from `out`, none pointing into empty space.
    page.get_by_test_id("undo").click()
    page.wait_for_timeout(600)
    ids = edge_ids(page)
    assert len(ids) == len(set(ids)), ids
    assert len(loss_edges(page)) == 1, loss_edges(page)
    # Another template: still exactly one loss edge, unique ids.
    load_template(page, "binary_classifier")
    page.wait_for_timeout(600)
    ids = edge_ids(page)
    assert len(ids) == len(set(ids)), ids
    assert len(loss_edges(page)) <= 1


def test_6_project_names_say_what_is_allowed(page: Page) -> None:
    open_small(page)
    name = page.get_by_test_id("project-name")
    name.fill("mine+yours")
    page.get_by_test_id("project-save").click()
    toast = page.locator(".toast-error").last
    expect(toast).to_contain_text("letters, digits")
    assert "^[" not in toast.text_content() and "pattern" not in toast.text_content()
    expect(name).to_have_attribute("aria-invalid", "true")


def test_12_toolbar_one_row_and_minimap_drop(page: Page) -> None:
    open_small(page)
    load_template(page, "seed_cnn")
    page.get_by_test_id("project-name").fill("a rather long project name")
    page.get_by_test_id("project-save").click()
    expect(page.locator("#save-state")).to_have_text("Saved")
    page.get_by_test_id("palette-Dropout").click()  # an edit: "Unsaved changes" appears
    expect(page.locator("#save-state")).to_have_text("Unsaved changes")
    bar = page.locator(".toolbar").bounding_box()
    assert bar["height"] < 48, bar
    end = page.get_by_test_id("theme").bounding_box()
    assert end["x"] + end["width"] <= SMALL["width"]
    # A layer dropped on the minimap is added (where the view is), not lost.
    before = page.get_by_test_id("canvas").locator(".tc-node").count()
    page.get_by_test_id("palette-ReLU").drag_to(page.locator("#minimap"))
    expect(page.get_by_test_id("canvas").locator(".tc-node")).to_have_count(before + 1)
    # After resizing the training view, the minimap's viewport still lies inside the minimap.
    handle = page.locator("#dock-handle")
    handle.focus()
    for _ in range(4):
        handle.press("ArrowRight")
    page.wait_for_timeout(400)
    mini = page.locator("#minimap").bounding_box()
    port = page.locator("#minimap .x6-widget-minimap-viewport").bounding_box()
    assert port and port["width"] > 4 and port["height"] > 4
    assert port["x"] >= mini["x"] - 1 and port["x"] + port["width"] <= mini["x"] + mini["width"] + 1


def test_13_guide_blocks_in_reach_and_synonyms(page: Page) -> None:
    open_small(page)
    # The loss and optimizer blocks are in the palette's first screen, no scrolling.
    pal = page.locator(".palette").bounding_box()
    for t in ("CrossEntropyLoss", "Adam"):
        box = page.get_by_test_id(f"palette-{t}").bounding_box()
        assert box and box["y"] + box["height"] <= pal["y"] + pal["height"], t
    # Common other names find the layer.
    search = page.get_by_test_id("palette-search")
    for word, hit in (("dense", "Linear"), ("fc", "Linear"), ("conv", "Conv2d"),
                      ("softmax", "Softmax"), ("fully connected", "Linear")):
        search.fill(word)
        expect(page.get_by_test_id(f"palette-{hit}")).to_be_visible()
    search.fill("")
    # "?" opens a getting-started guide, not only shortcuts.
    page.get_by_test_id("help").click()
    guide = page.get_by_test_id("guide")
    expect(guide).to_be_visible()
    for words in ("dataset", "template", "loss", "optimizer", "Train", "curves", "Export"):
        expect(guide).to_contain_text(words)


def test_5_and_11_uploads_ask_before_switching_and_refuse_plainly(page: Page, tmp_path) -> None:
    open_small(page)
    load_template(page, "seed_cnn")  # a CNN on digits: a CSV would leave it invalid
    page.locator(".tp-upload summary").click()
    message = page.get_by_test_id("upload-message")
    # 11: a .txt is not called a CSV, and is not sent.
    notes = tmp_path / "notes.txt"
    notes.write_text("a,b,label\n1,2,x\n3,4,y\n")
    page.get_by_test_id("upload").set_input_files(str(notes))
    expect(message).to_contain_text("notes.txt is not a .csv")
    expect(page.get_by_test_id("upload-submit")).to_be_disabled()
    # 11: a refusal names the user's file, never a server path, and the bar is reset.
    empty = tmp_path / "scores.csv"
    empty.write_text("a,b,label\n")
    page.get_by_test_id("upload").set_input_files(str(empty))
    page.get_by_test_id("upload-submit").click()
    expect(message).to_contain_text("refused")
    text = message.text_content()
    assert "scores.csv" in text and "/" not in text and "uploads" not in text, text
    expect(page.get_by_test_id("upload-progress")).to_be_hidden()
    # 5: a good CSV is added, but the project keeps its dataset until the user says so.
    rows = ["f1,f2,kind"] + [f"{i % 7},{i % 3},{'yes' if i % 2 else 'no'}" for i in range(60)]
    good = tmp_path / "pets.csv"
    good.write_text("\n".join(rows) + "\n")
    page.get_by_test_id("upload").set_input_files(str(good))
    page.get_by_test_id("upload-submit").click()
    expect(message).to_contain_text("Added dataset", timeout=15_000)
    use = page.get_by_test_id("upload-use")
    expect(use).to_be_visible()
    page.wait_for_timeout(500)
    graph = page.evaluate("async () => (await import('/static/js/graph-state.js')).currentGraph()")
    assert graph["data"]["dataset"] == "digits"
    assert graph["nodes"][0]["params"]["shape"] == [1, 8, 8]
    expect(page.get_by_test_id("dataset")).to_have_value("digits")
    use.click()
    expect(page.get_by_test_id("dataset")).to_have_value(re.compile(r"^pets(-[0-9a-f]{4})?$"))


def test_3_never_lose_an_edit_and_saved_means_the_server_has_it(page: Page) -> None:
    open_small(page)
    load_template(page, "circles_mlp")
    state = page.locator("#save-state")
    page.get_by_test_id("project-name").fill("keepme")
    page.get_by_test_id("project-save").click()
    expect(state).to_have_text("Saved")
    page.get_by_test_id("palette-Dropout").click()  # an edit after saving
    expect(state).to_have_text("Unsaved changes")
    page.wait_for_timeout(400)  # the autosave is written
    # The plain URL: the edit comes back (no template over it), still marked unsaved.
    open_small(page, "/")
    expect(page.get_by_test_id("canvas").get_by_test_id("node-dropout_1")).to_be_attached()
    expect(page.get_by_test_id("project-name")).to_have_value("keepme")
    expect(state).to_have_text("Unsaved changes")
    # Reloading the project URL with unsaved changes does not read "Saved".
    open_small(page, "/?project=keepme")
    expect(page.get_by_test_id("canvas").get_by_test_id("node-dropout_1")).to_be_attached()
    expect(state).to_have_text("Unsaved changes")
    page.get_by_test_id("project-save").click()
    expect(state).to_have_text("Saved")
    # Undo back to what the server has reads "Saved" again.
    page.get_by_test_id("palette-ReLU").click()
    expect(state).to_have_text("Unsaved changes")
    page.get_by_test_id("undo").click()
    expect(state).to_have_text("Saved")


def _api_run(page: Page, project: str, epochs: int = 2) -> str:
    """Train the circles MLP through the API for `project`; wait until it is final."""
    graph = page.evaluate("""async () => {
        const t = (await (await fetch('/api/examples')).json()).find(e => e.name === 'circles_mlp');
        return t.graph; }""")
    graph["training"] = {**graph.get("training", {}), "epochs": epochs}
    for _ in range(100):  # a run that just ended may hold its slot a moment longer
        answer = page.request.post(f"/api/runs?project={project}", data=graph)
        if answer.status != 429:
            break
        page.wait_for_timeout(200)
    assert answer.ok, answer.text()
    run = answer.json()["id"]
    for _ in range(600):
        if page.request.get(f"/api/runs/{run}").json()["status"] in FINAL:
            return run
        page.wait_for_timeout(200)
    raise AssertionError(f"run {run} did not end")


def test_8_and_14_runs_have_human_names_a_filter_a_rename_and_both_checkpoints(
        page: Page) -> None:
    open_small(page)
    first = _api_run(page, "p8")
    second = _api_run(page, "other8")
    open_small(page)
    runs = page.get_by_test_id("runs")
    mine = runs.get_by_test_id(f"run-{first}")
    expect(mine).to_contain_text("p8 · circles #1")
    expect(runs.get_by_test_id(f"run-{second}")).to_contain_text("other8 · circles #1")
    # Filter by project.
    page.get_by_test_id("runs-filter").select_option("p8")
    expect(runs.get_by_test_id(f"run-{second}")).to_have_count(0)
    expect(mine).to_be_visible()
    # Rename a run; the name stays after a reload.
    mine.get_by_test_id(f"rename-{first}").click()
    box = mine.get_by_role("textbox")
    box.fill("wide net")
    box.press("Enter")
    expect(runs.get_by_test_id(f"run-{first}")).to_contain_text("wide net")
    open_small(page)
    expect(page.get_by_test_id("runs").get_by_test_id(f"run-{first}")).to_contain_text("wide net")
    # Compare: the legend names runs as people do, not by hex ids.
    if page.get_by_test_id(f"open-{second}").is_enabled():
        page.get_by_test_id(f"open-{second}").click()
    page.get_by_test_id(f"compare-{first}").click()
    legend = page.get_by_test_id("chart-loss").locator(".u-legend")
    expect(legend).to_contain_text("wide net")
    expect(legend).to_contain_text("other8 · circles #1")
    assert first not in legend.text_content()
    # 14: the open run offers its best and its last checkpoint, each saying which epoch.
    best = page.get_by_test_id("download-checkpoint-best")
    last = page.get_by_test_id("download-checkpoint-last")
    expect(best).to_contain_text("Best")
    expect(best).to_contain_text("epoch")
    expect(last).to_contain_text("Last")
    expect(last).to_contain_text("epoch 2")
    assert best.get_attribute("href").endswith("which=best")
    assert last.get_attribute("href").endswith("which=last")


def _graph(page: Page) -> dict:
    return page.evaluate("async () => (await import('/static/js/graph-state.js')).currentGraph()")


def test_10_undo_follows_what_the_user_sees(page: Page) -> None:
    open_small(page)
    load_template(page, "circles_mlp")
    select(page, "fc1")
    field = page.get_by_test_id("inspector").get_by_test_id("param-out_features")
    field.fill("12")
    field.press("Tab")
    # A run setting after a canvas edit: Ctrl+Z on the canvas undoes the canvas edit,
    # and the epochs box and the graph keep what the box shows.
    epochs = page.get_by_test_id("epochs")
    epochs.fill("7")
    epochs.press("Tab")
    page.get_by_test_id("canvas").click(position={"x": 30, "y": 30})
    page.keyboard.press("Control+z")
    page.wait_for_timeout(300)
    graph = _graph(page)
    assert next(n for n in graph["nodes"] if n["id"] == "fc1")["params"]["out_features"] == 8
    assert graph["training"]["epochs"] == 7
    expect(epochs).to_have_value("7")
    # Undo inside a text box is the graph's undo: no new step, the box shows the graph.
    select(page, "fc1")
    field = page.get_by_test_id("inspector").get_by_test_id("param-out_features")
    field.fill("16")
    page.wait_for_timeout(1300)  # past the typing coalesce window
    field.press("Control+z")
    page.wait_for_timeout(300)
    assert next(n for n in _graph(page)["nodes"] if n["id"] == "fc1")["params"]["out_features"] == 8
    expect(page.get_by_test_id("inspector").get_by_test_id("param-out_features")).to_have_value("8")
    expect(page.get_by_test_id("redo")).to_be_enabled()
    page.get_by_test_id("redo").click()
    fc1 = next(n for n in _graph(page)["nodes"] if n["id"] == "fc1")
    assert fc1["params"]["out_features"] == 16


def test_9_messages_speak_to_the_learner_and_are_read_whole(page: Page) -> None:
    open_small(page)
    page.get_by_test_id("new").click()
    problems = page.locator("#problems")
    expect(problems).to_contain_text("the canvas is empty")
    assert "consumers" not in problems.text_content() and "`output`" not in problems.text_content()
    load_template(page, "circles_mlp")
    expect(page.get_by_test_id("validation")).to_have_attribute("data-state", "valid")
    # Cut one link (fc1 -> act1): the messages point at the missing link, not at every layer.
    page.evaluate("""async () => {
        const gs = await import('/static/js/graph-state.js');
        gs.store.apply('setInputs', {id: 'act1', inputs: []}); }""")
    expect(page.get_by_test_id("validation")).to_have_attribute("data-state", "invalid")
    items = problems.locator("li")
    expect(items).to_have_count(2)
    text = problems.text_content()
    assert "act1" in text and "fc1" in text and "connect" in text.lower(), text
    # The whole message on hover (the card's tooltip) and in the inspector.
    card = page.get_by_test_id("canvas").get_by_test_id("node-fc1")
    full = page.evaluate("""async () => {
        const r = await fetch('/api/graphs/validate', {method: 'POST',
          headers: {'Content-Type': 'application/json'},
          body: JSON.stringify((await import('/static/js/graph-state.js')).currentGraph())});
        return (await r.json()).nodes.fc1.errors[0].message; }""")
    assert card.get_attribute("title") and full in card.get_attribute("title")
    select(page, "fc1")
    expect(page.get_by_test_id("inspector").get_by_test_id("inspector-messages")).to_contain_text(full)


def test_7_unavailable_datasets_are_marked_and_refused_before_training(
        page: Page, tmp_path, monkeypatch) -> None:
    # An empty data folder: MNIST is not on this machine (the server reads it per request).
    monkeypatch.setenv("TORCHCANVAS_DATA", str(tmp_path))
    open_small(page)
    page.get_by_test_id("templates-button").click()
    expect(page.get_by_test_id("template-seed_mlp")).to_contain_text("mnist is not downloaded")
    expect(page.get_by_test_id("template-seed_cnn")).not_to_contain_text("not downloaded")
    page.get_by_test_id("template-seed_mlp").click()
    expect(page.get_by_test_id("dataset").locator("option:checked")).to_contain_text(
        "not downloaded")
    runs_before = len(page.request.get("/api/runs").json())
    page.get_by_test_id("train").click()
    error = page.get_by_test_id("train-error")
    expect(error).to_contain_text("torchcanvas download mnist")
    assert str(tmp_path) not in error.text_content()
    assert len(page.request.get("/api/runs").json()) == runs_before


def _zoom_and_outside(page: Page, testids: list[str]) -> tuple[float, list[str]]:
    """The canvas zoom (a node's drawn width over its 200 px) and which cells are cut off."""
    view = page.get_by_test_id("canvas").bounding_box()
    outside = []
    for t in testids:
        b = page.get_by_test_id("canvas").get_by_test_id(t).bounding_box()
        if not b or b["x"] < view["x"] - 1 or b["y"] < view["y"] - 1 \
                or b["x"] + b["width"] > view["x"] + view["width"] + 1 \
                or b["y"] + b["height"] > view["y"] + view["height"] + 1:
            outside.append(t)
    first = page.get_by_test_id("canvas").locator(".tc-node.kind-layer").first.bounding_box()
    return first["width"] / 200, outside


def test_4_layout_is_readable_and_shows_what_matters(page: Page) -> None:
    open_small(page)  # the Seed CNN is the first screen
    expect(page.get_by_test_id("validation")).to_have_attribute("data-state", "valid")
    page.wait_for_timeout(300)
    zoom, outside = _zoom_and_outside(page, ["node-x", "node-fc", "block-loss",
                                             "block-optimizer"])
    assert zoom >= 0.6 and not outside, (zoom, outside)
    # A 14-layer chain: wrapped into columns, not one column at an unreadable zoom.
    page.evaluate("""async () => {
        const gs = await import('/static/js/graph-state.js');
        const nodes = [{id: 'x', type: 'Input', params: {shape: [16]}, inputs: []}];
        for (let i = 1; i < 14; i++) nodes.push({id: `l${i}`, type: i % 2 ? 'Linear' : 'ReLU',
            params: i % 2 ? {out_features: 16} : {}, inputs: [nodes[i - 1].id]});
        gs.loadGraph({version: 1, name: 'deep', nodes, output: 'l13',
            loss: {type: 'MSELoss', params: {}}, optimizer: {type: 'Adam', params: {}}});
    }""")
    page.get_by_test_id("layout").click()
    page.wait_for_timeout(500)
    ids = ["node-x"] + [f"node-l{i}" for i in range(1, 14)] + ["block-loss", "block-optimizer"]
    zoom, outside = _zoom_and_outside(page, ids)
    assert zoom >= 0.6 and not outside, (zoom, outside)
