"""Safe defaults: Host allowlist, Origin, content types, body limits, the token."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from server.app import create_app

from .conftest import BASE, WS, make_settings, tiny_graph


def ws_denied(client, url, headers=None):
    """The HTTP status a websocket handshake was refused with."""
    with pytest.raises(WebSocketDenialResponse) as denied, \
            client.websocket_connect(url, headers=headers or {}):
        pass
    return denied.value.status_code


EVIL_ORIGINS = ["https://evil.example", "http://localhost.evil.com",
                "http://localhost:8000.evil.com", "http://localhost:9999", "null",
                "https://localhost"]


@pytest.mark.parametrize("host", ["attacker.example", "0.0.0.0", "localhost.evil.com",
                                  "127.0.0.2", ""])
def test_unknown_host_is_400_on_http_and_websocket(client, host):
    r = client.get("/api/projects", headers={"host": host})
    assert r.status_code == 400
    assert ws_denied(client, f"{WS}/ws/runs/0123456789abcdef", headers={"host": host}) == 400


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000",
                                  "LOCALHOST"])
def test_loopback_hosts_pass(client, host):
    assert client.get("/healthz", headers={"host": host}).status_code == 200


def test_configured_host_passes(tmp_path):
    settings = make_settings(tmp_path, allowed_hosts=("lab.example",))
    with TestClient(create_app(settings), base_url="http://lab.example:8000") as c:
        assert c.get("/api/projects").status_code == 200


@pytest.mark.parametrize("origin", EVIL_ORIGINS)
def test_foreign_origin_is_refused_on_websocket_and_writes(client, origin):
    assert ws_denied(client, f"{WS}/ws/runs/0123456789abcdef", headers={"origin": origin}) == 403
    r = client.post("/api/runs", json=tiny_graph(), headers={"origin": origin})
    assert r.status_code == 403
    assert client.get("/api/runs").json() == []  # no run started
    assert client.put("/api/projects/p", json=tiny_graph(),
                      headers={"origin": origin}).status_code == 403
    assert client.delete("/api/projects/p", headers={"origin": origin}).status_code == 403


def test_reads_ignore_origin_and_own_origin_may_write(client):
    assert client.get("/api/projects", headers={"origin": "https://evil.example"}).status_code \
        == 200
    r = client.put("/api/projects/p", json=tiny_graph(), headers={"origin": BASE})
    assert r.status_code == 200


def test_cross_site_fetch_metadata_is_refused(client):
    r = client.put("/api/projects/p", json=tiny_graph(), headers={"sec-fetch-site": "cross-site"})
    assert r.status_code == 403


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", None])
def test_non_json_bodies_cannot_change_state(client, ctype):
    headers = {"content-type": ctype} if ctype else {}
    body = b'{"version": 1, "nodes": []}'
    r = client.put("/api/projects/p", content=body, headers=headers)
    assert r.status_code == 415
    r = client.post("/api/runs", content=body, headers=headers)
    assert r.status_code == 415
    assert client.get("/api/projects").json() == []


def test_cross_origin_form_post_is_refused(client):
    r = client.post("/api/runs", data={"a": "b"}, headers={"origin": "https://evil.example"})
    assert r.status_code == 403


def test_body_over_limit_is_413(tmp_path):
    settings = make_settings(tmp_path, max_body_bytes=1000)
    with TestClient(create_app(settings), base_url=BASE) as c:
        graph = tiny_graph()
        graph["ui"] = {"pad": "x" * 2000}
        assert c.put("/api/projects/p", json=graph).status_code == 413

        def chunks():  # no Content-Length: counted while streaming
            yield b'{"ui": {"pad": "'
            for _ in range(10):
                yield b"x" * 200
            yield b'"}}'

        r = c.put("/api/projects/p", content=chunks(),
                  headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert c.get("/api/projects").json() == []


def test_security_headers(client):
    r = client.get("/healthz")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"


# -- the token, required when bound beyond loopback ------------------------------------


@pytest.fixture
def token_client(tmp_path):
    settings = make_settings(tmp_path, token="s3cret-token")
    with TestClient(create_app(settings), base_url=BASE) as c:
        yield c


def test_no_token_is_401(token_client):
    assert token_client.get("/api/projects").status_code == 401
    assert token_client.get("/").status_code == 401
    assert token_client.get("/api/projects", headers={"authorization": "Bearer wrong"}) \
        .status_code == 401
    assert ws_denied(token_client, f"{WS}/ws/runs/0123456789abcdef") == 401
    assert token_client.get("/healthz").status_code == 200  # liveness stays open


def test_bearer_token(token_client):
    r = token_client.get("/api/projects", headers={"authorization": "Bearer s3cret-token"})
    assert r.status_code == 200


def test_query_token_once_then_cookie(token_client):
    r = token_client.get("/?token=s3cret-token")
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert "torchcanvas_token=s3cret-token" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    # The client keeps the cookie: later requests and websockets need nothing else.
    assert token_client.get("/api/projects").status_code == 200
    with token_client.websocket_connect(f"{WS}/ws/runs/0123456789abcdef") as ws:
        from starlette.websockets import WebSocketDisconnect

        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 4404


def test_wrong_cookie_is_401(tmp_path):
    settings = make_settings(tmp_path, token="s3cret-token")
    with TestClient(create_app(settings), base_url=BASE,
                    cookies={"torchcanvas_token": "guess"}) as c:
        assert c.get("/api/projects").status_code == 401
