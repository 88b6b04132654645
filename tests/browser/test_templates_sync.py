"""The editor's template graphs (static/templates/) are exact copies of examples/*.json.

No browser needed: this guards against the two drifting apart.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).parents[2]
INDEX = json.loads((ROOT / "static" / "templates" / "index.json").read_text())["templates"]


def test_every_template_is_an_example_copy() -> None:
    for t in INDEX:
        ours = json.loads((ROOT / "static" / "templates" / f"{t['name']}.json").read_text())
        theirs = json.loads((ROOT / "examples" / f"{t['name']}.json").read_text())
        assert ours == theirs, f"cp examples/{t['name']}.json static/templates/"


def test_issue_templates_are_offered() -> None:
    names = {t["name"] for t in INDEX}
    assert {"seed_mlp", "seed_cnn", "lenet5", "residual_block", "logistic_regression",
            "circles_mlp"} <= names
    assert all(t["title"] and t["description"] for t in INDEX)
