"""The page, our static files and the vendored front-end packages, read-only."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from server.app import create_app
from server.app.pages import vendor_packages

from .conftest import BASE, make_settings


def test_index_renders(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text.lower()


def test_openapi_docs(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/catalog", "/api/graphs/validate", "/api/runs/{run_id}/events",
            "/api/projects/{name}", "/api/datasets"} <= set(paths)


def _fake_static(tmp_path):
    static = tmp_path / "static"
    (static / "js").mkdir(parents=True)
    (static / "js" / "app.js").write_text("export {};")
    (static / "package.json").write_text(json.dumps({"dependencies": {"@scope/ui": "1"},
                                                     "devDependencies": {"tool": "1"}}))
    modules = static / "node_modules"
    for name, deps in (("@scope/ui", {"helper": "1"}), ("helper", {}), ("tool", {})):
        (modules / name).mkdir(parents=True)
        (modules / name / "package.json").write_text(json.dumps({"dependencies": deps}))
        (modules / name / "index.js").write_text(f"// {name}")
    return static


def test_static_and_vendor_serve_only_what_the_page_uses(tmp_path):
    static = _fake_static(tmp_path)
    assert vendor_packages(static) == {"@scope/ui", "helper"}
    settings = make_settings(tmp_path / "data", static_dir=static)
    with TestClient(create_app(settings), base_url=BASE) as c:
        assert c.get("/static/js/app.js").status_code == 200
        assert c.get("/vendor/@scope/ui/index.js").text == "// @scope/ui"
        assert c.get("/vendor/helper/index.js").status_code == 200  # a dependency's dependency
        assert c.get("/vendor/tool/index.js").status_code == 404  # dev-only
        assert c.get("/static/node_modules/helper/index.js").status_code == 404
        for bad in ("/static/../pyproject.toml", "/static/%2e%2e/pyproject.toml",
                    "/vendor/helper/%2e%2e/tool/index.js", "/vendor/..%2f..%2fpyproject.toml",
                    "/static//etc/passwd"):
            r = c.get(bad)
            assert r.status_code in (404, 400) and "root:" not in r.text, bad
        assert c.post("/static/js/app.js").status_code == 405
        assert c.put("/vendor/helper/index.js", content=b"x",
                     headers={"content-type": "application/json"}).status_code == 405


def test_the_real_static_tree_is_served(client):
    # Whatever packages the editor declares are reachable under /vendor.
    from server.app.settings import REPO_ROOT

    for name in sorted(vendor_packages(REPO_ROOT / "static"))[:3]:
        r = client.get(f"/vendor/{name}/package.json")
        assert r.status_code in (200, 404)  # 404 only when node_modules is not installed
