"""static/js/blocks.js, the editor's block edits, run in Chromium without the page.

Like test_graph_state.py: the module is imported on its own and its edits applied
through a GraphStore, so each is checked as one undo step. The refusals are the
messages the page shows in a toast.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def _n(id_: str, type_: str, inputs: list, **params) -> dict:
    return {"id": id_, "type": type_, "params": params, "inputs": inputs, "ui": {"x": 0, "y": 0}}


# x -> a -> b -> c, with a skip x -> c (Add) and a branch a -> side
GRAPH = {"version": 1, "name": "Net", "output": "c", "nodes": [
    _n("x", "Input", [], shape=[8]),
    _n("a", "Linear", ["x"], out_features=8),
    _n("side", "ReLU", ["a"]),
    _n("b", "Linear", ["side"], out_features=8),
    _n("c", "Add", ["b", "x"]),
]}


@pytest.fixture
def bs(page: Page, live_server: str):
    page.goto(f"{live_server}/healthz")
    page.evaluate("""async () => {
        window.gs = await import('/static/js/graph-state.js');
        window.bl = await import('/static/js/blocks.js');
    }""")

    def run(body: str, arg=None):
        return page.evaluate(f"(arg) => {{ const gs = window.gs, bl = window.bl; {body} }}", arg)

    return run


def test_make_block_is_one_undo_step(bs) -> None:
    got = bs("""
        const s = new gs.GraphStore(arg);
        const id = s.apply('makeBlock', {name: 'Mid', ids: ['side', 'b']});
        const after = gs.serializeGraph(s.get());
        s.undo();
        return {id, after, back: gs.serializeGraph(s.get()), undo: s.canUndo()};""", GRAPH)
    assert got["id"] == "mid_1"
    block = got["after"]["blocks"]["Mid"]
    assert [n["id"] for n in block["nodes"]] == ["x", "side", "b"]
    assert block["nodes"][1]["inputs"] == ["x"] and block["inputs"] == ["x"]
    assert block["output"] == "b"
    nodes = {n["id"]: n for n in got["after"]["nodes"]}
    assert nodes["mid_1"]["inputs"] == ["a"] and nodes["c"]["inputs"] == ["mid_1", "x"]
    assert [n["id"] for n in got["after"]["nodes"]] == ["x", "a", "mid_1", "c"]
    assert got["back"]["nodes"] == GRAPH["nodes"] and "blocks" not in got["back"]
    assert got["undo"] is False


def test_several_inputs_and_outputs(bs) -> None:
    """Two references read from outside -> x1, x2; two read by others -> ports 0 and 1."""
    graph = {"version": 1, "output": "sum", "nodes": [
        _n("p", "Input", [], shape=[4]), _n("q", "Input", [], shape=[4]),
        _n("m", "Add", ["p", "q"]), _n("r", "ReLU", ["m"]), _n("t", "Tanh", ["m"]),
        _n("sum", "Add", ["r", "t"])]}
    got = bs("""
        const s = new gs.GraphStore(arg);
        s.apply('makeBlock', {name: 'Two', ids: ['m', 'r', 't']});
        return gs.serializeGraph(s.get());""", graph)
    block = got["blocks"]["Two"]
    assert block["inputs"] == ["x1", "x2"] and block["output"] == ["r", "t"]
    assert block["nodes"][2]["inputs"] == ["x1", "x2"]
    inst = got["nodes"][2]
    assert inst == {"id": "two_1", "type": "block:Two", "params": {}, "inputs": ["p", "q"],
                    "ui": {"x": 0, "y": 0}}
    assert got["nodes"][3]["inputs"] == ["two_1", {"node": "two_1", "port": 1}]


def test_refusals_say_why(bs) -> None:
    got = bs("""
        const s = new gs.GraphStore(arg);
        const tries = [
          {name: 'bad name', ids: ['a']}, {name: 'Ok', ids: []}, {name: 'Ok', ids: ['x', 'a']},
          {name: 'Ok', ids: ['a', 'b']},  // 'side' lies between them
        ];
        const out = tries.map((t) => {
          try { s.apply('makeBlock', t); return null; } catch (e) { return e.message; }
        });
        s.apply('makeBlock', {name: 'Ok', ids: ['a']});
        try { s.apply('makeBlock', {name: 'Ok', ids: ['b']}); } catch (e) { out.push(e.message); }
        try { s.apply('addBlockInstance', {name: 'Ok', scope: 'Ok', position: {x: 0, y: 0}}); }
        catch (e) { out.push(e.message); }
        out.push(s.undoStack.length);
        return out;""", GRAPH)
    assert "letter" in got[0]
    assert "select the layers" in got[1]
    assert "Input nodes stay outside" in got[2]
    assert "select side too" in got[3]
    assert "already exists" in got[4]
    assert "cannot contain itself" in got[5]
    assert got[6] == 1  # only the one block that was made


def test_instances_scope_and_entries(bs) -> None:
    got = bs("""
        const s = new gs.GraphStore(arg);
        const def = {
          nodes: [{id: 'i', type: 'Input'},
                  {id: 'h', type: 'Chunk', params: {chunks: 2}, inputs: ['i']}],
          inputs: ['i'], output: ['h', {node: 'h', port: 1}],
          params: {k: {default: 3}, on: {default: true}}};
        const a = s.apply('addBlockInstance', {name: 'Halves', def, position: {x: 1, y: 2}});
        const b = s.apply('addBlockInstance', {name: 'Halves', position: {x: 1, y: 2}});
        // Edit inside the block: a new Input joins its declared inputs, a removed one leaves.
        const add = {type: 'Input', position: {x: 0, y: 0}};
        s.apply('inScope', {block: 'Halves', edit: 'addNode', args: add});
        const added = [...s.get().blocks.Halves.inputs];
        s.apply('inScope', {block: 'Halves', edit: 'removeCells', args: {nodes: ['i']}});
        const g = s.get();
        const e = bl.nodeEntry(g, 'block:Halves');
        return {a, b, added, inputs: g.blocks.Halves.inputs, output: g.blocks.Halves.output,
                arity: e.arity, outputs: e.outputs, schema: e.params.properties,
                ports: bl.portCount(g, gs.findNode(g, a), null),
                missing: bl.nodeEntry(g, 'block:Nope'),
                lib: Object.keys(g.blocks)};""", GRAPH)
    assert (got["a"], got["b"]) == ("halves_1", "halves_2")
    assert got["added"] == ["i", "input_1"] and got["inputs"] == ["input_1"]
    assert got["output"] == ["h", {"node": "h", "port": 1}]
    assert got["arity"] == {"min": 1, "max": 1} and got["outputs"] == ["h", "h.1"]
    assert got["schema"]["k"]["type"] == "integer" and got["schema"]["on"]["type"] == "boolean"
    assert got["ports"] == 2 and got["missing"] is None and got["lib"] == ["Halves"]


def test_remove_a_block_only_when_unused(bs) -> None:
    got = bs("""
        const s = new gs.GraphStore(arg);
        s.apply('makeBlock', {name: 'Mid', ids: ['side', 'b']});
        const out = [];
        try { s.apply('removeBlockDef', {name: 'Mid'}); } catch (e) { out.push(e.message); }
        s.apply('removeCells', {nodes: ['mid_1']});
        s.apply('removeBlockDef', {name: 'Mid'});
        out.push(s.get().blocks === undefined);
        return out;""", GRAPH)
    assert "still used by mid_1" in got[0] and got[1] is True


def test_probe_graph_gives_inputs_the_instance_shapes(bs) -> None:
    got = bs("""
        const g = gs.parseGraph(arg);
        g.blocks = {B: {nodes: [{id: 'i', type: 'Input', params: {}, inputs: []},
                                {id: 'fc', type: 'Linear', params: {out_features: '$w'},
                                 inputs: ['i']}],
                        output: 'fc', params: {w: {default: 5}}}};
        g.nodes.push({id: 'use', type: 'block:B', params: {w: 7}, inputs: ['a'], ui: {}});
        const report = {nodes: {a: {output_shape: [8]}}};
        return [bl.probeGraph(g, 'B', 'use', report),
                bl.probeGraph(g, 'B', 'use', {nodes: {}})];""", GRAPH)
    probe, unknown = got
    assert probe["nodes"][0]["params"] == {"shape": [8]}
    assert probe["nodes"][1]["params"] == {"out_features": 7}
    assert probe["output"] == "fc" and probe["inputs"] == ["i"]
    assert unknown is None


def test_make_a_block_inside_an_open_block(bs) -> None:
    """Inside block Mid (scope), side and b become block Inner, used by Mid."""
    got = bs("""
        const s = new gs.GraphStore(arg);
        s.apply('makeBlock', {name: 'Mid', ids: ['side', 'b']});
        const id = s.apply('makeBlock', {name: 'Inner', ids: ['side', 'b'], scope: 'Mid'});
        const g = gs.serializeGraph(s.get());
        return {id, g, uses: bl.usesBlock(g, 'Mid', 'Inner'), steps: s.undoStack.length};""", GRAPH)
    mid = got["g"]["blocks"]["Mid"]
    assert [n["type"] for n in mid["nodes"]] == ["Input", "block:Inner"]
    assert mid["nodes"][1]["inputs"] == ["x"] and mid["output"] == got["id"]
    assert [n["id"] for n in got["g"]["blocks"]["Inner"]["nodes"]] == ["x", "side", "b"]
    assert got["uses"] is True and got["steps"] == 2
