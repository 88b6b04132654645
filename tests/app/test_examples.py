"""GET /api/examples: the example graphs the editor offers as templates."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from server.validation import validate_graph

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_examples_are_served_in_index_order_with_titles(client):
    answer = client.get("/api/examples")
    assert answer.status_code == 200
    examples = answer.json()
    index = tomllib.loads((EXAMPLES / "templates.toml").read_text())["template"]
    assert [e["name"] for e in examples] == [t["name"] for t in index]
    files = {t["name"]: t.get("file", f"{t['name']}.json") for t in index}
    for e in examples:
        assert e["title"] and e["description"]
        assert e["graph"] == json.loads((EXAMPLES / files[e["name"]]).read_text())
        assert validate_graph(e["graph"]).valid


def test_index_lists_every_example_and_the_issue_templates():
    listed = tomllib.loads((EXAMPLES / "templates.toml").read_text())["template"]
    index = {t["name"] for t in listed if "file" not in t}
    files = {p.stem for p in EXAMPLES.glob("*.json")}
    assert index == files
    assert all((EXAMPLES / t["file"]).is_file() for t in listed if "file" in t)
    assert {"seed_mlp", "seed_cnn", "lenet5", "residual_block", "logistic_regression",
            "circles_mlp"} <= index
