"""X-ray in the page: select a conv layer, see its feature maps and numbers; hover an
edge for the value flowing along it; the cost of every node on its card."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .editor import canvas, expect_valid, graph_json, load_template, open_editor, select, set_param


def test_xray_of_a_conv_layer_shows_its_feature_maps(page: Page) -> None:
    open_editor(page)
    load_template(page, "seed_cnn")
    expect_valid(page)
    select(page, "conv1")
    page.get_by_test_id("xray-sample").fill("4")
    page.get_by_test_id("xray-timing").check()
    page.get_by_test_id("xray-button").click()
    xray = page.get_by_test_id("xray")
    expect(xray).to_have_attribute("data-state", "ready", timeout=60_000)
    # 16 channels of 8x8: sixteen thumbnails, and the statistics beside them.
    expect(page.get_by_test_id("xray-pictures").locator("canvas")).to_have_count(16)
    body = page.get_by_test_id("xray-body")
    expect(body).to_contain_text("(16, 8, 8)")
    expect(body).to_contain_text("gradient in")
    expect(body).to_contain_text("FLOPs (1 sample)")
    expect(body).to_contain_text("Label of sample 4")
    expect(body).to_contain_text("forward+backward")


# -- hover an edge; cost on the canvas ------------------------------------------------


def _edge_middle(page: Page, edge_id: str) -> dict:
    """The screen point halfway along an edge's drawn path."""
    edge = canvas(page).locator(f'g.x6-edge[data-cell-id="{edge_id}"]')
    return edge.evaluate("""g => {
        const p = g.querySelector('path.tc-line');
        const at = p.getPointAtLength(p.getTotalLength() / 2);
        const m = p.getScreenCTM();
        return {x: at.x * m.a + at.y * m.c + m.e, y: at.x * m.b + at.y * m.d + m.f};
    }""")


def test_hovering_an_edge_shows_the_value_flowing_along_it(page: Page) -> None:
    open_editor(page)
    load_template(page, "seed_cnn")
    expect_valid(page)
    page.get_by_test_id("fit").click()
    at = _edge_middle(page, "e|conv1|relu1|0")
    page.mouse.move(at["x"], at["y"])
    pop = page.get_by_test_id("edge-xray")
    expect(pop).to_have_attribute("data-state", "ready", timeout=60_000)
    expect(pop).to_contain_text("conv1 → relu1")
    expect(pop).to_contain_text("(16, 8, 8)")
    expect(pop.locator("canvas")).to_have_count(8)  # the first 8 of 16 feature maps
    # The same numbers as the API's X-ray of that node (sample 0, the seed's weights).
    report = page.request.post("/api/graphs/inspect", data={"graph": graph_json(page)}).json()
    conv = report["nodes"]["conv1"]
    expect(pop).to_contain_text(f"{conv['mean']:.3f} / {conv['std']:.3f}")
    # Moving away closes it; another edge shows its own source, from the same report.
    page.mouse.move(5, 5)
    expect(pop).to_be_hidden()
    at = _edge_middle(page, "e|flat|fc|0")
    page.mouse.move(at["x"], at["y"])
    expect(pop).to_have_attribute("data-state", "ready", timeout=30_000)
    expect(pop).to_contain_text("flat → fc")
    expect(pop).to_contain_text(f"({report['nodes']['flat']['shape'][0]})")


def test_cost_badges_on_cards_and_the_total(page: Page) -> None:
    open_editor(page)
    load_template(page, "seed_cnn")
    expect_valid(page)
    cost = page.request.post("/api/graphs/cost", data={"graph": graph_json(page)}).json()
    for nid in ("conv1", "relu1", "pool1", "flat", "fc"):
        badge = canvas(page).get_by_test_id(f"cost-{nid}")
        expect(badge).to_be_visible()
        expect(badge).to_contain_text("FLOPs")
        expect(badge).to_have_attribute(
            "title", re.compile(rf"^{cost['nodes'][nid]['flops']:,} FLOPs "))
    expect(canvas(page).get_by_test_id("cost-conv1")).to_have_text("18k FLOPs")
    mem = canvas(page).get_by_test_id("memory-fc")
    expect(mem).to_be_visible()
    expect(mem).to_have_text(" · 45.2 KB")  # fc: 2,570 weights x 4 bytes x 4, + activations
    expect(mem).to_have_attribute("title", re.compile("to train"))
    total = page.get_by_test_id("total-cost")
    expect(total).to_be_visible()
    expect(total).to_contain_text(f"FLOPs · {cost['memory']['total_human']} to train")
    expect(total).to_have_attribute("title", re.compile(f"{cost['total_flops']:,} FLOPs"))
    # Twice the channels: twice conv1's FLOPs, on its card, without a reload.
    select(page, "conv1")
    set_param(page, "out_channels", "32")
    expect(canvas(page).get_by_test_id("cost-conv1")).to_have_attribute(
        "title", re.compile(rf"^{2 * cost['nodes']['conv1']['flops']:,} FLOPs "), timeout=10_000)


# -- a finished run: any epoch's weights, and Try it's input ---------------------------

FINAL = ["completed", "stopped", "diverged", "failed", "interrupted"]


def _mean_std(node: dict) -> str:
    return f"{node['mean']:.3f} / {node['std']:.3f}"


def test_epoch_chooser_and_x_ray_of_the_try_it_input(page: Page) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    open_editor(page)
    expect(page.locator("#train-panel[data-ready=true]")).to_be_attached(timeout=15_000)
    load_template(page, "circles_mlp")
    page.get_by_test_id("dataset").select_option("circles")
    page.get_by_test_id("epochs").fill("3")
    page.get_by_test_id("epochs").press("Tab")
    page.get_by_test_id("train").click()
    page.wait_for_function(
        "final => final.includes(document.querySelector('[data-testid=run-status]').textContent)",
        arg=FINAL, timeout=120_000)
    run_id = page.evaluate("() => window.__trainPanel.run.id")
    kept = page.request.get(f"/api/runs/{run_id}/checkpoints").json()
    assert kept["epochs"] == [0, 1, 2, 3]

    # The weights chooser lists best, last and every epoch the run kept.
    select(page, "fc1")
    chooser = page.get_by_test_id("xray-epoch")
    expect(chooser).to_be_visible()
    expect(chooser.locator("option")).to_have_count(2 + 4)
    expect(chooser.locator("option[value='epoch:0']")).to_have_text("epoch 0 (before training)")
    xray = page.get_by_test_id("xray")
    page.get_by_test_id("xray-button").click()
    expect(xray).to_have_attribute("data-state", "ready", timeout=60_000)
    body = page.get_by_test_id("xray-body")
    api = lambda **body: page.request.post(  # noqa: E731
        f"/api/runs/{run_id}/inspect", data=body).json()["nodes"]["fc1"]
    expect(body).to_contain_text(_mean_std(api(which="best")))
    # Epoch 0: the weights before training, another picture, the same as the API's.
    chooser.select_option("epoch:0")
    expect(xray).to_have_attribute("data-weights", "epoch 0", timeout=60_000)
    expect(xray).to_have_attribute("data-state", "ready", timeout=60_000)
    before = api(epoch=0)
    expect(body).to_contain_text(_mean_std(before))
    chooser.select_option("epoch:2")
    expect(xray).to_have_attribute("data-weights", "epoch 2", timeout=60_000)
    expect(body).to_contain_text(_mean_std(api(epoch=2)))
    assert _mean_std(api(epoch=2)) != _mean_std(before)

    # Try it: click the boundary, then "X-ray this" looks inside for that very point.
    heat = page.get_by_test_id("boundary").locator("canvas")
    box = heat.bounding_box()
    with page.expect_request("**/predict") as asked:
        page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    point = asked.value.post_data_json["input"]
    expect(page.get_by_test_id("predictions")).to_contain_text("Predicted:")
    with page.expect_response("**/inspect", timeout=60_000) as answered:
        page.get_by_test_id("xray-this").click()
    sent = answered.value.request.post_data_json
    assert sent["input"] == point and sent["epoch"] == 2
    expect(page.get_by_test_id("inspector").get_by_test_id("node-id")).to_have_value("fc1")
    expect(xray).to_have_attribute("data-state", "ready", timeout=60_000)
    expect(page.get_by_test_id("xray-source")).to_have_value("yours")
    expect(body).to_contain_text("Your Try-it input")
    expect(body).to_contain_text(_mean_std(api(epoch=2, input=point)))
    # Back to the dataset's sample 0: the first picture again.
    page.get_by_test_id("xray-source").select_option("dataset")
    expect(body).to_contain_text("Label of sample 0", timeout=60_000)
