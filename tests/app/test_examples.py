"""GET /api/examples: the example graphs the editor offers as templates."""

from __future__ import annotations

import json
from pathlib import Path

from server.validation import validate_graph

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_examples_are_served_in_index_order_with_titles(client):
    answer = client.get("/api/examples")
    assert answer.status_code == 200
    examples = answer.json()
    index = json.loads((EXAMPLES / "index.json").read_text())["templates"]
    assert [e["name"] for e in examples] == [t["name"] for t in index]
    for e in examples:
        assert e["title"] and e["description"]
        assert e["graph"] == json.loads((EXAMPLES / f"{e['name']}.json").read_text())
        assert validate_graph(e["graph"]).valid


def test_index_lists_every_example_and_the_issue_templates():
    index = {t["name"] for t in json.loads((EXAMPLES / "index.json").read_text())["templates"]}
    files = {p.stem for p in EXAMPLES.glob("*.json")} - {"index"}
    assert index == files
    assert {"seed_mlp", "seed_cnn", "lenet5", "residual_block", "logistic_regression",
            "circles_mlp"} <= index
