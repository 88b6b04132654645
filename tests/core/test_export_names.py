"""Exported `forward` names values as a person would (issue 12, item 14).

The input is `x`, a chain keeps one variable, a branch gets `out`, and a merge
reuses a name that dies there; node ids never become local variables. The
module still computes what the compiled graph computes (checked by running it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch

from server.compiler import compile_graph
from server.export import export_code
from server.graph import Graph

EXAMPLES = Path(__file__).parents[2] / "examples"


def _forward(code: str) -> list[str]:
    lines = code.splitlines()
    start = next(i for i, line in enumerate(lines) if "def forward" in line)
    end = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("return"))
    code = [line.split("#")[0].strip() for line in lines[start:end + 1]]
    return [line for line in code if line]


def _run(code: str, graph: Graph, shape: list[int]) -> None:
    """The exported class, loaded with the compiled model's weights, gives the same output."""
    ns: dict = {"__name__": "exported"}
    exec(compile(code, "<export>", "exec"), ns)  # our own generated code
    compiled = compile_graph(graph)
    name = re.search(r"^class (\w+)\(nn.Module\)", code, re.M).group(1)
    model = ns[name]()
    model.load_state_dict(compiled.state_dict())
    model.eval()
    compiled.eval()
    x = torch.randn(3, *shape)
    torch.testing.assert_close(model(x), compiled(x))


def test_a_chain_from_an_input_called_input_reads_x() -> None:
    g = Graph.model_validate({"version": 1, "name": "chain", "nodes": [
        {"id": "input", "type": "Input", "params": {"shape": [4]}},
        {"id": "fc1", "type": "Linear", "params": {"out_features": 8}, "inputs": ["input"]},
        {"id": "act", "type": "ReLU", "inputs": ["fc1"]},
        {"id": "fc2", "type": "Linear", "params": {"out_features": 2}, "inputs": ["act"]},
    ], "output": "fc2"})
    code = export_code(g)
    body = _forward(code)
    assert body == ["def forward(self, x):", "x = self.fc1(x)", "x = self.act(x)",
                    "x = self.fc2(x)", "return x"]
    assert "input_1" not in code
    _run(code, g, [4])


def test_a_residual_branch_is_out_and_the_merge_is_x_again() -> None:
    g = Graph.model_validate(json.loads((EXAMPLES / "residual_block.json").read_text()))
    code = export_code(g)
    body = _forward(code)
    assert "out = self.conv1(x)" in body
    assert "out = self.bn2(out)" in body
    assert "x = out + x" in body
    assert body[-1] == "return x"
    # No node id is used as a local variable name.
    ids = {n.id for n in g.nodes}
    assigned = {line.split(" = ")[0] for line in body if " = " in line}
    assert assigned <= {"x", "out"}, assigned - ids
    _run(code, g, [1, 8, 8])


def test_two_branches_that_stay_alive_get_their_own_names() -> None:
    g = Graph.model_validate(json.loads((EXAMPLES / "two_branch.json").read_text()))
    code = export_code(g)
    body = _forward(code)
    assert "x = torch.cat([out, x], dim=1)" in body
    _run(code, g, [4])
