"""Browser tests of the training panel: pick data, train, watch, stop, reload, history.

They drive the real page against the live server of `conftest.py` (one run may
train at a time there, so every test leaves no run active). Datasets and
epochs are the smallest that still show the behaviour: `digits` (1.8k 8x8
images) and `circles`. Run alone: `.venv/bin/pytest tests/browser -m browser -k train`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from playwright.sync_api import Page, expect

from benchmarks.chart_redraw import CHART_PROBE  # the benchmark's probe, run untimed here

from .editor import graph_json, load_template, open_editor

pytestmark = pytest.mark.browser

FINAL = ["completed", "stopped", "diverged", "failed", "interrupted"]


# ---------------------------------------------------------------- helpers

def open_panel(page: Page) -> None:
    open_editor(page)
    expect(page.locator("#train-panel[data-ready=true]")).to_be_attached(timeout=15_000)


def choose(page: Page, template: str, dataset: str, epochs: int) -> None:
    load_template(page, template)
    page.get_by_test_id("dataset").select_option(dataset)
    expect(page.get_by_test_id("dataset-preview").locator("canvas, table").first).to_be_visible(
        timeout=30_000)
    page.get_by_test_id("epochs").fill(str(epochs))
    page.get_by_test_id("epochs").press("Tab")  # commits the value to the graph


def points(page: Page) -> int:
    return int(page.get_by_test_id("chart-loss").get_attribute("data-points") or 0)


def wait_points(page: Page, more_than: int, timeout: float = 120_000) -> None:
    page.wait_for_function(
        "n => Number(document.querySelector('[data-testid=chart-loss]').dataset.points) > n",
        arg=more_than, timeout=timeout)


def wait_final(page: Page, timeout: float = 120_000) -> str:
    page.wait_for_function(
        "final => final.includes(document.querySelector('[data-testid=run-status]').textContent)",
        arg=FINAL, timeout=timeout)
    return page.get_by_test_id("run-status").text_content()


def input_shape(graph: dict) -> list[int]:
    return next(n for n in graph["nodes"] if n["type"] == "Input")["params"]["shape"]


def open_run_id(page: Page) -> str:
    return page.evaluate("window.__trainPanel.run.id")


def stored_steps(page: Page, run_id: str) -> int:
    events = page.request.get(f"/api/runs/{run_id}/events?after=-1").json()
    return sum(1 for e in events if e["type"] == "step")


def assert_onnx_equals_checkpoint(onnx_path, checkpoint: dict) -> None:
    import onnxruntime as ort

    from server.compiler import compile_graph

    model = compile_graph(checkpoint["graph"]).eval()
    model.load_state_dict(checkpoint["state_dict"])
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    x = torch.randn(5, *model.input_shape)
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    with torch.no_grad():
        assert abs(got - model(x).numpy()).max() < 1e-4


# ---------------------------------------------------------------- tests

def test_digits_trains_to_completed_and_lands_in_history(page: Page, tmp_path) -> None:
    open_panel(page)
    choose(page, "seed_cnn", "digits", 3)
    # Choosing digits set the Input shape through the editor's graph state.
    graph = graph_json(page)
    assert input_shape(graph) == [1, 8, 8]
    assert graph["data"]["dataset"] == "digits"

    page.get_by_test_id("train").click()
    expect(page.get_by_test_id("stop")).to_be_enabled()
    wait_points(page, 0)
    seen = points(page)
    assert wait_final(page) == "completed"
    expect(page.get_by_test_id("chart-loss")).not_to_have_attribute("data-points", str(seen))
    assert points(page) > seen, "the loss chart grew while training"
    expect(page.get_by_test_id("progress")).to_contain_text("epoch 3/3")
    expect(page.get_by_test_id("confusion").locator("table")).to_be_visible()
    expect(page.get_by_test_id("grad-norms").locator("li").first).to_be_visible()
    expect(page.get_by_test_id("stop")).to_be_disabled()

    run_id = open_run_id(page)
    item = page.get_by_test_id("runs").get_by_test_id(f"run-{run_id}")
    expect(item).to_contain_text("completed")
    expect(item).to_contain_text("digits")

    with page.expect_download() as download:
        page.get_by_test_id("download-checkpoint-best").click()
    path = tmp_path / "ckpt.pt"
    download.value.save_as(path)
    checkpoint = torch.load(path, weights_only=True)
    assert "state_dict" in checkpoint
    # The trained network as ONNX: onnxruntime gives the checkpoint's outputs.
    with page.expect_download() as download:
        page.get_by_test_id("download-onnx").click()
    assert download.value.suggested_filename.endswith("-best.onnx")
    assert_onnx_equals_checkpoint(download.value.path(), checkpoint)

    # Try it: draw a stroke on the pad and get a probability per digit.
    pad = page.get_by_test_id("draw-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.85, steps=10)
    page.mouse.up()
    answer = page.get_by_test_id("predictions")
    expect(answer).to_contain_text("Predicted:")
    expect(answer.locator("li")).to_have_count(10)
    # "X-ray this": the drawn digit goes through the network, the output layer's X-ray
    # (no layer selected) shows what the model made of it.
    page.get_by_test_id("xray-this").click()
    expect(page.get_by_test_id("xray")).to_have_attribute("data-state", "ready", timeout=60_000)
    expect(page.get_by_test_id("xray-body")).to_contain_text("Your Try-it input")
    expect(page.get_by_test_id("inspector").get_by_test_id("node-id")).to_have_value("fc")
    # The gallery: the model's answers on validation images, mistakes counted and marked.
    gallery = page.get_by_test_id("gallery")
    expect(gallery).to_contain_text("never trained on")
    assert gallery.locator("figure").count() == 16
    assert gallery.locator("figure[data-wrong=true]").count() == int(
        gallery.locator(".tp-caption").text_content().split(" of ")[0])

    # Restore: another network goes on the canvas, then the run's own comes back.
    load_template(page, "circles_mlp")
    page.get_by_test_id(f"restore-{run_id}").click()
    page.wait_for_function(
        "() => import('/static/js/graph-state.js')"
        ".then(m => m.currentGraph().data?.dataset === 'digits')")
    restored = graph_json(page)
    assert restored["training"]["epochs"] == 3
    assert input_shape(restored) == [1, 8, 8]

    # A reload shows the finished run again, from the stored events.
    page.reload()
    expect(page.locator("#train-panel[data-ready=true]")).to_be_attached(timeout=15_000)
    expect(page.get_by_test_id("run-status")).to_have_text("completed")
    assert points(page) > 0


def test_reload_mid_run_then_drop_the_socket_then_stop(page: Page) -> None:
    # One long run serves three checks, because starting a worker is the slow part.
    open_panel(page)
    choose(page, "seed_cnn", "digits", 200)
    page.get_by_test_id("train").click()
    wait_points(page, 4)
    run_id = open_run_id(page)
    before = points(page)

    page.reload()
    expect(page.locator("#train-panel[data-ready=true]")).to_be_attached(timeout=15_000)
    assert open_run_id(page) == run_id, "the page follows the run still training"
    wait_points(page, before)  # the whole curve came back ...
    after_reload = points(page)
    wait_points(page, after_reload)  # ... and it goes on live

    # A dropped socket reconnects with ?after= and continues without gap or duplicate.
    page.evaluate("window.__trainPanel.stream.drop()")
    dropped_at = points(page)
    wait_points(page, dropped_at + 2)

    # Stop midway: the run ends `stopped`, said in words too, and Train is free again.
    page.get_by_test_id("stop").click()
    assert wait_final(page, 30_000) == "stopped"
    expect(page.locator(".tp-status-detail")).to_contain_text("Stopped")
    expect(page.get_by_test_id("train")).to_be_enabled()
    expect(page.get_by_test_id("runs").get_by_test_id(f"run-{run_id}")).to_contain_text("stopped")
    page.wait_for_timeout(300)
    model = page.evaluate("""() => {
        const r = window.__trainPanel.run;
        return {n: r.stepLoss.filter(v => v !== null).length, last: r.lastSeq,
                increasing: r.steps.every((x, i) => i === 0 || x > r.steps[i - 1])};
    }""")
    assert model["increasing"]
    assert model["n"] == stored_steps(page, run_id), "every stored step once, none missing"
    events = page.request.get(f"/api/runs/{run_id}/events?after=-1").json()
    assert model["last"] == events[-1]["seq"]


def test_boundary_heatmap_renders_for_circles(page: Page) -> None:
    open_panel(page)
    choose(page, "circles_mlp", "circles", 3)
    expect(page.get_by_test_id("boundary")).to_be_visible()
    page.get_by_test_id("train").click()
    assert wait_final(page) == "completed"
    expect(page.get_by_test_id("boundary")).to_have_attribute("data-epoch", "3")
    # The heatmap is painted: many distinct colours, not a blank canvas with dots.
    colours = page.evaluate("""() => {
        const c = document.querySelector('[data-testid=boundary] canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = new Set();
        for (let i = 0; i < d.length; i += 16) {
            seen.add(d[i] >> 3 << 10 | d[i + 1] >> 3 << 5 | d[i + 2] >> 3);
        }
        return seen.size;
    }""")
    assert colours > 20

    # Try it: click the middle of the inner disc and get both class probabilities.
    heat = page.get_by_test_id("boundary").locator("canvas")
    heat.scroll_into_view_if_needed()
    box = heat.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    answer = page.get_by_test_id("predictions")
    expect(answer).to_contain_text("Predicted:")
    expect(answer.locator("li")).to_have_count(2)

    # Overlay another run's curves (make one if this test runs alone).
    this = open_run_id(page)
    others = [r["id"] for r in page.request.get("/api/runs").json() if r["id"] != this]
    if not others:
        graph = graph_json(page)
        graph["training"]["epochs"] = 1
        other = page.request.post("/api/runs", data=graph).json()["id"]
        page.wait_for_function(
            "id => fetch('/api/runs/' + id).then(r => r.json())"
            ".then(r => ['completed', 'stopped', 'failed', 'diverged'].includes(r.status))",
            arg=other, timeout=120_000)
        page.reload()
        expect(page.locator("#train-panel[data-ready=true]")).to_be_attached(timeout=15_000)
        page.get_by_test_id(f"open-{this}").click()
        others = [other]
    page.get_by_test_id(f"compare-{others[0]}").click()
    legend = page.get_by_test_id("chart-loss").locator(".u-legend")
    titles = {r["id"]: r["title"] for r in page.request.get("/api/runs").json()}
    expect(legend).to_contain_text(titles[others[0]])
    expect(legend).to_contain_text(titles[this])


def test_dataset_sets_input_shape_and_flags_output_width(page: Page) -> None:
    open_panel(page)
    load_template(page, "seed_mlp")
    page.get_by_test_id("dataset").select_option("iris")
    warning = page.get_by_test_id("output-mismatch")
    expect(warning).to_be_visible(timeout=10_000)
    expect(warning).to_contain_text("needs 3")
    graph = graph_json(page)
    assert input_shape(graph) == [4]
    expect(page.get_by_test_id("dataset-preview").locator("table")).to_be_visible(timeout=30_000)
    page.get_by_test_id("dataset").select_option("digits")
    expect(warning).to_be_hidden(timeout=10_000)


def test_speed_switches_write_the_graph_and_compile_is_explained(page: Page) -> None:
    open_panel(page)
    load_template(page, "seed_mlp")
    for testid in ("channels-last", "compile"):
        page.get_by_test_id(testid).check()
    training = graph_json(page)["training"]
    assert training["channels_last"] is True and training["compile"] is True
    assert "amp" not in training  # a switch left off leaves the graph as it was
    page.get_by_test_id("compile").uncheck()
    assert "compile" not in graph_json(page)["training"]
    expect(page.get_by_test_id("channels-last")).to_be_checked()
    said = page.evaluate("""async () => {
        const {RunModel} = await import('/static/js/train/run-model.js');
        const {ProgressView} = await import('/static/js/train/progress.js');
        const view = new ProgressView(document.createElement('div'));
        const run = new RunModel('c');
        const out = [];
        run.add({type: 'status', seq: 0, status: 'running', time: 1});
        run.add({type: 'compile', seq: 1, phase: 'compiling'});
        view.show(run, 2); out.push(view.detail.textContent);
        run.add({type: 'compile', seq: 2, phase: 'compiled', seconds: 12.34});
        run.add({type: 'step', seq: 3, epoch: 1, step: 1, loss: 0.5});
        view.show(run, 2); out.push(view.text.textContent);
        run.add({type: 'note', seq: 4, message: 'channels_last ignored: not images'});
        view.show(run, 2); out.push(view.detail.textContent);
        return out;
    }""")
    assert "Compiling the model" in said[0]
    assert "compiled in 12 s" in said[1]
    assert said[2] == "Training. Note: channels_last ignored: not images."


def test_divergence_is_named_with_where_and_why(page: Page) -> None:
    open_panel(page)
    load_template(page, "regression")
    page.evaluate("import('/static/js/graph-state.js')"
                  ".then(m => m.updateGraphFields({optimizer: {type: 'SGD', params: {lr: 10}}}))")
    page.get_by_test_id("epochs").fill("3")
    page.get_by_test_id("epochs").press("Tab")
    page.get_by_test_id("train").click()
    assert wait_final(page) == "diverged"
    detail = page.locator(".tp-status-detail")
    expect(detail).to_contain_text("epoch")
    expect(detail).to_contain_text("learning rate")
    # The loss axis turned logarithmic by itself, so both parts of the curve stay readable.
    expect(page.get_by_test_id("chart-loss-log")).to_be_checked()


def test_csv_upload_trains_and_refusals_are_shown(page: Page, tmp_path) -> None:
    open_panel(page)
    load_template(page, "binary_classifier")
    page.locator(".tp-upload summary").click()

    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,kind\n")
    page.get_by_test_id("upload").set_input_files(str(bad))
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_test_id("upload-message")).to_contain_text("refused")

    rows = ["f1,f2,f3,kind"]
    for i in range(120):
        cls = "yes" if i % 2 else "no"
        rows.append(f"{(i % 7) * 0.3 + (2 if cls == 'yes' else 0)},{i % 5},{(i * 13) % 11},{cls}")
    good = tmp_path / "pets.csv"
    good.write_text("\n".join(rows) + "\n")
    page.get_by_test_id("upload").set_input_files(str(good))
    expect(page.get_by_test_id("upload-label")).to_have_value("kind")
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_test_id("upload-message")).to_contain_text("Added dataset", timeout=15_000)
    page.get_by_test_id("upload-use").click()  # the project had a dataset: switching is asked
    # Another test of the same live server may have uploaded a "pets" already: "pets-xxxx".
    expect(page.get_by_test_id("dataset")).to_have_value(re.compile(r"^pets(-[0-9a-f]{4})?$"))
    graph = graph_json(page)
    assert graph["data"]["dataset"] == "csv"
    assert input_shape(graph) == [3]

    page.get_by_test_id("epochs").fill("2")
    page.get_by_test_id("epochs").press("Tab")
    page.get_by_test_id("train").click()
    assert wait_final(page) == "completed", page.locator(".tp-status-detail").text_content()
    assert points(page) > 0
    print(json.dumps(graph["data"]))


def _image_zip(path, classes: list[str]) -> None:
    """A zip of class folders holding a few tiny PNGs each."""
    import io
    import zipfile

    from PIL import Image

    with zipfile.ZipFile(path, "w") as archive:
        for k, name in enumerate(classes):
            for i in range(4):
                buf = io.BytesIO()
                Image.new("L", (8, 8), color=40 * k + 10 * i).save(buf, format="PNG")
                archive.writestr(f"{name}/{i}.png", buf.getvalue())


def test_zip_of_class_folders_uploads_with_progress_and_preview(page: Page, tmp_path) -> None:
    open_panel(page)
    page.locator(".tp-upload summary").click()

    lonely = tmp_path / "one.zip"
    _image_zip(lonely, ["cats"])
    page.get_by_test_id("upload").set_input_files(str(lonely))
    expect(page.get_by_test_id("upload-label")).to_be_hidden()  # no label column for a zip
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_test_id("upload-message")).to_contain_text("at least two class folders")

    good = tmp_path / "shades.zip"
    _image_zip(good, ["dark", "light"])
    page.get_by_test_id("upload").set_input_files(str(good))
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_test_id("upload-message")).to_contain_text("Added dataset", timeout=15_000)
    expect(page.get_by_test_id("upload-progress")).to_have_js_property("value", 1)
    page.get_by_test_id("upload-use").click()
    expect(page.get_by_test_id("dataset")).to_have_value("shades")
    expect(page.get_by_test_id("dataset-preview").locator("canvas").first).to_be_visible(
        timeout=30_000)
    assert graph_json(page)["data"]["dataset"] == "imagefolder"


def test_run_model_drops_duplicates_and_reports_gaps(page: Page) -> None:
    """What makes a resumed stream seamless: replayed events are ignored, a hole is noticed."""
    open_panel(page)
    results = page.evaluate("""async () => {
        const {RunModel} = await import('/static/js/train/run-model.js');
        const run = new RunModel('m');
        const step = (seq, step) => ({type: 'step', seq, epoch: 1, step, loss: 1 / step});
        return {
            first: [run.add({type: 'status', seq: 0, status: 'running', time: 1}),
                    run.add(step(1, 5)), run.add(step(2, 10))],
            replayed: run.add(step(2, 10)),
            gap: run.add(step(4, 20)),
            resumed: run.add(step(3, 15)),
            steps: run.steps,
            last: run.lastSeq,
        };
    }""")
    assert results["first"] == ["ok", "ok", "ok"]
    assert results["replayed"] == "dup"
    assert results["gap"] == "gap"
    assert results["resumed"] == "ok"
    assert results["steps"] == [5, 10, 15]
    assert results["last"] == 3


def test_charts_draw_100k_points(page: Page) -> None:
    """100k step points reach the loss chart and redraws keep working.

    How long a redraw takes is a figure, not a test: benchmarks/chart_redraw.py
    prints it, running this same probe.
    """
    open_panel(page)
    result = page.evaluate(CHART_PROBE)
    assert result["shown"] >= 100000
    assert len(result["times"]) == 7 and all(t >= 0 for t in result["times"])


def test_a_run_the_server_lost_reads_interrupted_with_its_curve(page: Page, live_app) -> None:
    """A run a killed server left `running` is marked interrupted at start (as `recover`
    does when the app opens); the page says so and still shows what it had learned."""
    ctx = live_app.state.ctx
    run_id = "00000000deadbeef"
    graph = json.loads((Path(__file__).parents[2] / "examples" / "circles_mlp.json").read_text())
    ctx.store.create_run(run_id, graph, "running")
    left = [{"type": "status", "seq": 0, "status": "queued", "error": None, "time": 1.0},
            {"type": "status", "seq": 1, "status": "running", "error": None, "time": 2.0},
            {"type": "step", "seq": 2, "epoch": 1, "step": 1, "loss": 0.7},
            {"type": "step", "seq": 3, "epoch": 1, "step": 2, "loss": 0.6}]
    ctx.store.append_events(run_id, [(e["seq"], json.dumps(e)) for e in left],
                            {"status": "running"})
    assert ctx.runs.recover() == [run_id]

    open_panel(page)
    item = page.get_by_test_id("runs").get_by_test_id(f"run-{run_id}")
    expect(item).to_contain_text("interrupted")
    page.get_by_test_id(f"open-{run_id}").click()
    expect(page.get_by_test_id("run-status")).to_have_text("interrupted")
    expect(page.locator("#train-panel")).to_contain_text("server stopped")
    wait_points(page, 1)
