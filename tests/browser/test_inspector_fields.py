"""The inspector's widgets for the catalogue's newer param forms, run in Chromium.

`fieldSpec` and `parseValue` (static/js/inspector.js) are imported on their own
from a same-origin page and fed the real schemas from `GET /api/catalog`: an
int-or-list param (`Mean.dim`, a padding) and a nullable choice
(`Upsample.align_corners`).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser


@pytest.fixture
def field(page: Page, live_server: str):
    page.goto(f"{live_server}/healthz")
    page.evaluate("""async () => {
        window.insp = await import('/static/js/inspector.js');
        window.cat = await (await fetch('/api/catalog')).json();
    }""")

    def run(layer: str, param: str, text: str | None = None):
        return page.evaluate("""([layer, param, text]) => {
            const schema = window.cat.layers.find((l) => l.type === layer).params;
            const spec = window.insp.fieldSpec(schema.properties[param]);
            if (text === null) return spec;
            return window.insp.parseValue({ value: text }, spec, false);
        }""", [layer, param, text])

    return run


def test_int_or_list_keeps_one_number_a_number(field) -> None:
    assert field("Mean", "dim")["kind"] == "ints"
    assert field("Mean", "dim", "1")["value"] == 1
    assert field("Mean", "dim", "2, 3")["value"] == [2, 3]
    assert field("Mean", "dim", "1.5")["error"] == "whole numbers only"
    assert field("ZeroPad2d", "padding", "1, 2, 0, 3")["value"] == [1, 2, 0, 3]
    assert field("ZeroPad2d", "padding", "-1")["error"] == "must be at least 0"


def test_nullable_choice_is_a_select(field) -> None:
    spec = field("Upsample", "align_corners")
    assert spec["kind"] == "enum" and spec["nullable"]
    assert spec["options"] == [None, False, True]
