"""`serve`'s pieces: settings per bind address, the launch URL, the seed project."""

from __future__ import annotations

from server.app.launch import launch_url, seed_projects, settings_for
from server.app.store import Store


def test_loopback_needs_no_token(tmp_path):
    for host in ("127.0.0.1", "localhost", "::1"):
        settings = settings_for(host, tmp_path)
        assert settings.token is None
        assert launch_url(settings, host, 8000).endswith(":8000/")


def test_non_loopback_bind_gets_a_token_and_its_own_host(tmp_path, monkeypatch):
    monkeypatch.delenv("TORCHCANVAS_TOKEN", raising=False)
    settings = settings_for("192.168.1.7", tmp_path, ["lab.example"])
    assert settings.token and len(settings.token) >= 24
    assert {"192.168.1.7", "lab.example"} <= settings.host_names()
    assert launch_url(settings, "192.168.1.7", 8000) == \
        f"http://192.168.1.7:8000/?token={settings.token}"
    wildcard = settings_for("0.0.0.0", tmp_path)
    assert wildcard.token and "0.0.0.0" not in wildcard.host_names()


def test_environment_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_MAX_RUNNING", "2")
    monkeypatch.setenv("TORCHCANVAS_ALLOWED_HOSTS", "a.example, b.example")
    settings = settings_for("127.0.0.1", tmp_path)
    assert settings.max_running == 2 and {"a.example", "b.example"} <= settings.host_names()


def test_seed_project_only_into_an_empty_data_dir(tmp_path):
    settings = settings_for("127.0.0.1", tmp_path / "data")
    seed_projects(settings)
    store = Store(settings.db_path)
    try:
        assert [p["name"] for p in store.list_projects()] == ["seed_cnn"]
        assert store.get_project("seed_cnn")["graph"]["nodes"]
        store.delete_project("seed_cnn")
        store.put_project("mine", {"version": 1})
    finally:
        store.close()
    seed_projects(settings)
    store = Store(settings.db_path)
    try:
        assert [p["name"] for p in store.list_projects()] == ["mine"]
    finally:
        store.close()


def test_serve_seeds_prints_and_runs_uvicorn_with_valid_options(tmp_path, monkeypatch, capsys):
    import uvicorn

    from server.app import serve

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.delenv("TORCHCANVAS_TOKEN", raising=False)
    serve("0.0.0.0", 8123, tmp_path / "data", ["lab.example"])
    app, options = calls[0]
    uvicorn.Config(app, **options).load()  # the options are ones uvicorn accepts
    assert options["host"] == "0.0.0.0" and options["port"] == 8123
    assert options["proxy_headers"] is False
    out = capsys.readouterr().out
    token = app.state.ctx.settings.token
    assert f"http://127.0.0.1:8123/?token={token}" in out and "allow-host" in out
    assert "lab.example" in app.state.ctx.settings.host_names()
    assert [p["name"] for p in app.state.ctx.store.list_projects()] == ["seed_cnn"]
    app.state.ctx.store.close()
