"""What answers carry (issue 13 case 19): no server paths, a strict CSP on the page."""

from __future__ import annotations

import base64
import hashlib
import re


def test_the_page_sends_a_strict_content_security_policy(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    script = directives["script-src"].split()
    assert script[0] == "'self'" and "'unsafe-inline'" not in script
    assert "'unsafe-eval'" not in csp and directives["object-src"] == "'none'"
    # Every inline script of the page is allowed by its hash, and nothing else is.
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", r.text, re.S)
    wanted = {f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
              for s in inline}
    assert inline and set(script[1:]) == wanted
    assert "content-security-policy" not in client.get("/healthz").headers


def test_no_answer_names_a_server_path(client, settings):
    root = str(settings.data_dir.parent)
    bad_path = {"version": 1, "nodes": [{"id": "x", "type": "Input"}], "output": "x",
                "data": {"dataset": "csv", "params": {"path": "/etc/passwd"}}}
    answers = [
        client.post("/api/graphs/validate", json=bad_path),
        client.post("/api/runs", json=bad_path),
        client.get("/api/datasets/csv/preview", params={"params": '{"path": "/etc/passwd"}'}),
        client.get("/api/runs/0123456789abcdef/checkpoint"),
        client.post("/api/datasets", files={"file": ("x.csv", b"a,b\n1,\n")}),
    ]
    for r in answers:
        assert r.status_code >= 400 or r.json().get("valid") is False, r.text
        assert root not in r.text and "/work/" not in r.text and "/tmp/" not in r.text, r.text
