"""static/js/graph-state.js, the editor's pure graph model, run in Chromium without the page.

The module has no DOM, so it is imported on its own (from a blank page on the
server's origin) and exercised directly: edits, cycle checks, undo/redo with
coalescing, copy/paste, and the graph v1 round trip.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser
SEED_CNN = json.loads((Path(__file__).parents[2] / "examples" / "seed_cnn.json").read_text())


@pytest.fixture
def gs(page: Page, live_server: str):
    page.goto(f"{live_server}/healthz")  # any same-origin page can import our modules
    page.evaluate("async () => { window.gs = await import('/static/js/graph-state.js'); }")

    def run(body: str, arg=None):
        return page.evaluate(f"(arg) => {{ const gs = window.gs; {body} }}", arg)

    return run


def test_round_trip_keeps_the_document(gs) -> None:
    out = gs("const s = new gs.GraphStore(arg); return gs.serializeGraph(s.get());", SEED_CNN)
    want = {k: v for k, v in SEED_CNN.items() if v is not None}
    want["nodes"] = [{"params": {}, "inputs": [], **n} for n in SEED_CNN["nodes"]]
    assert out == want


def test_parse_refuses_what_is_not_a_graph(gs) -> None:
    errors = gs("""
        return [[], {version: 2}, {nodes: 3}, {nodes: [{id: 1}]}].map((d) => {
          try { gs.parseGraph(d); return null; } catch (e) { return e.message; }
        });""")
    assert all(errors), errors
    assert "version" in errors[1]


def test_cycles_are_refused(gs) -> None:
    got = gs("""
        const g = gs.parseGraph(arg);
        return [gs.connectionError(g, 'fc', 'x'), gs.connectionError(g, 'conv1', 'conv1'),
                gs.connectionError(g, 'x', 'fc'), gs.dependsOn(g, 'fc', 'x')];""", SEED_CNN)
    assert "cycle" in got[0]
    assert got[1] and got[2] is None and got[3] is True


def test_edits_undo_redo_and_coalescing(gs) -> None:
    got = gs("""
        const s = new gs.GraphStore(arg);
        const seen = [];
        s.subscribe((g, {reason}) => seen.push(reason));
        const id = s.apply('addNode', {type: 'ReLU', position: {x: 1, y: 2}});
        s.apply('connect', {src: 'fc', dst: id, max: 1});
        for (const v of [1, 12, 128]) {
          s.apply('setParam', {id: 'fc', name: 'out_features', value: v}, {coalesce: 'k'});
        }
        const typed = s.get().nodes[5].params.out_features;
        s.undo();  // the three keystrokes are one step
        const afterUndo = s.get().nodes[5].params.out_features;
        s.undo(); s.undo();
        const count = s.get().nodes.length;
        s.redo();
        const redoCount = s.get().nodes.length;
        return {id, typed, afterUndo, count, redoCount, canRedo: s.canRedo(), seen};
    """, SEED_CNN)
    assert got["id"] == "relu_1"
    assert (got["typed"], got["afterUndo"]) == (128, 10)
    assert (got["count"], got["redoCount"], got["canRedo"]) == (6, 7, True)
    assert got["seen"][:2] == ["addNode", "connect"] and got["seen"][-1] == "redo"


def test_merge_inputs_keep_connection_order_and_removal_cleans_up(gs) -> None:
    got = gs("""
        const s = new gs.GraphStore(arg);
        const add = s.apply('addNode', {type: 'Add', position: {x: 0, y: 0}});
        s.apply('connect', {src: 'relu1', dst: add, max: null});
        s.apply('connect', {src: 'conv1', dst: add, max: null});
        const order = [...gs.findNode(s.get(), add).inputs];
        s.apply('connect', {src: 'x', dst: 'conv1', max: 1});  // single input: replaced
        s.apply('removeCells', {nodes: ['relu1', 'fc']});
        const g = s.get();
        return {order, addInputs: gs.findNode(g, add).inputs, pool: gs.findNode(g, 'pool1').inputs,
                output: g.output};
    """, SEED_CNN)
    assert got["order"] == ["relu1", "conv1"]
    assert got["addInputs"] == ["conv1"] and got["pool"] == [] and got["output"] is None


def test_copy_paste_renames_and_keeps_inner_edges(gs) -> None:
    got = gs("""
        const s = new gs.GraphStore(arg);
        const frag = gs.copyCells(s.get(), ['conv1', 'relu1']);
        const ids = s.apply('paste', {fragment: frag, offset: 40});
        const g = s.get();
        return {ids, inputs: ids.map((i) => gs.findNode(g, i).inputs)};
    """, SEED_CNN)
    assert got["ids"] == ["conv2d_1", "relu_1"]
    assert got["inputs"] == [[], ["conv2d_1"]]


def test_shared_api_for_the_training_panel(gs) -> None:
    got = gs("""
        const seen = [];
        const off = gs.onGraphChange((g, i) => seen.push([g.data?.dataset ?? null, i.reason]));
        gs.loadGraph(arg);
        gs.updateGraphFields({data: {dataset: 'iris'}, training: {epochs: 3}});
        const g = gs.currentGraph();
        g.nodes.length = 0;  // a copy: changing it changes nothing
        off();
        gs.updateGraphFields({data: null});
        return {seen, nodes: gs.currentGraph().nodes.length, data: gs.currentGraph().data ?? null};
    """, SEED_CNN)
    assert got["seen"] == [["digits", "load"], ["iris", "fields"]]
    assert got["nodes"] == 6 and got["data"] is None


def test_the_page_lays_out_a_restored_graph_without_positions(page: Page) -> None:
    page.goto("/")
    page.locator("body[data-ready=true]").wait_for(state="attached")
    ui = page.evaluate("""async (g) => {
        const gs = await import('/static/js/graph-state.js');
        gs.loadGraph(g);
        return gs.currentGraph().nodes.map((n) => n.ui);
    }""", SEED_CNN)
    assert all(p and isinstance(p["x"], int) for p in ui)
    assert len({(p["x"], p["y"]) for p in ui}) == len(ui)
