"""The Host header is parsed strictly (issue 13 case 5): DNS-rebinding forms get 400.

A rebinding page reaches us under its own name; the Host check is what stops
it, so every lookalike of a loopback name must be refused, and a request with
two Host headers is invalid (RFC 9112, section 3.2).
"""

from __future__ import annotations

import pytest

from .conftest import WS
from .test_guards import ws_denied

REBINDING_FORMS = [
    "[::1]evil.com", "[::1]:8000evil.com", "[::1].evil.com", "[::1", "::1]",
    "localhost.evil.com", "localhost:8000.evil.com", "evil.com:localhost",
    "localhost@evil.com", "evil.com@localhost", "localhost#evil.com", "localhost/evil",
    "localhost:", "localhost:80:80", "localhost:abc", "localhost:99999999", " localhost",
    "127.0.0.1.nip.io", "127.0.0.1.evil.com", "127.1", "2130706433", "0x7f000001",
    "0177.0.0.1", "localhost.", "[::ffff:127.0.0.1]", "127.0.0.1\tevil.com",
]


@pytest.mark.parametrize("host", REBINDING_FORMS)
def test_rebinding_forms_are_400(client, host):
    r = client.get("/api/projects", headers={"host": host})
    assert r.status_code == 400, r.text
    assert ws_denied(client, f"{WS}/ws/runs/0123456789abcdef", headers={"host": host}) == 400


@pytest.mark.parametrize("hosts", [["evil.com", "localhost"], ["localhost", "evil.com"],
                                   ["localhost", "localhost"]])
def test_two_host_headers_are_400(client, hosts):
    r = client.get("/api/projects", headers=[("host", h) for h in hosts])
    assert r.status_code == 400, r.text
    assert "Host" in r.json()["detail"]


@pytest.mark.parametrize("host", ["localhost", "LocalHost:8000", "127.0.0.1", "127.0.0.1:1",
                                  "[::1]", "[::1]:65535"])
def test_loopback_forms_still_pass(client, host):
    assert client.get("/healthz", headers={"host": host}).status_code == 200
