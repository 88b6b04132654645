"""Safe defaults as one ASGI middleware: Host, token, Origin, content type, body size.

It runs before routing, for HTTP and websockets alike, so no route can forget
a check. Refusals are plain JSON answers (`{"detail": ...}`); a refused
websocket gets an HTTP denial response before it is ever accepted.

- Host must be loopback or configured (DNS rebinding): 400.
- With a token (non-loopback bind): `Authorization: Bearer`, the cookie, or
  `?token=` (which then sets an HttpOnly SameSite=Strict cookie): 401 otherwise.
- Origin, when sent, must be our own on websockets and state-changing requests: 403.
- State-changing bodies must be JSON (multipart for uploads), so a cross-site
  form or text/plain post cannot reach a handler: 415.
- Bodies past the limit: 413, checked on Content-Length and while streaming.
- No request downloads a dataset (`server.datasets.policy`).
- JSON bodies must be JSON a browser can write: finite numbers, nesting at most
  `max_json_depth` deep (`jsontext.loads`): 422 before any handler sees them.
"""

from __future__ import annotations

import hmac
import re
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.datasets.policy import forbid_downloads

from .jsontext import JSONRefused, SafeJSONResponse, loads
from .settings import Settings

COOKIE = "torchcanvas_token"
RAW_SEND = "torchcanvas.raw_send"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
UPLOAD_PATHS = {"/api/datasets", "/api/import/onnx", "/api/weights"}
OPEN_PATHS = {"/healthz"}  # liveness probes need no token and reveal nothing
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # The launch URL may carry the token: never leak it in a Referer.
    (b"referrer-policy", b"no-referrer"),
]


class BodyTooLarge(HTTPException):
    """Raised from `receive`; FastAPI re-raises HTTPExceptions met while reading a body."""

    def __init__(self, limit: int):
        super().__init__(413, f"request body is larger than the limit of {limit} bytes")


class Guard:
    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings
        self.hosts = settings.host_names()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        forbid_downloads()  # no request ever downloads a dataset (it follows into threads)
        headers = _headers(scope)
        refusal, set_cookie = self._check(scope, headers)
        if refusal is not None:
            status, detail = refusal
            await SafeJSONResponse({"detail": detail}, status_code=status)(scope, receive, send)
            return
        if scope["type"] == "websocket":
            # The server's own send, for the event stream's hot loop: replaying 100k
            # events through every middleware wrapper costs more than the sending.
            scope[RAW_SEND] = send
            await self.app(scope, receive, send)
            return
        await self._http(scope, receive, send, headers, set_cookie)

    def _check(self, scope: Scope, headers: dict[str, str]) -> tuple[Any, bool]:
        """(status, detail) of a refusal or None, and whether to set the token cookie."""
        host = headers.get("host", "")
        if sum(1 for k, _ in scope["headers"] if k.lower() == b"host") > 1:
            return (400, "more than one Host header"), False
        if _hostname(host) not in self.hosts:
            return (400, f"Host {host!r} is not allowed; add it with --allow-host"), False
        set_cookie = False
        if self.settings.token is not None and scope["path"] not in OPEN_PATHS:
            ok, set_cookie = self._token_ok(scope, headers)
            if not ok:
                return (401, "a token is required: open the URL printed at start"), False
        method = scope.get("method", "GET")
        if scope["type"] == "websocket" or method in STATE_CHANGING:
            origin = headers.get("origin")
            if origin is not None and origin.lower() != _own_origin(scope, host):
                return (403, f"cross-origin request from {origin!r} refused"), False
            if headers.get("sec-fetch-site") == "cross-site":
                return (403, "cross-site request refused"), False
        if scope["type"] == "http" and method in STATE_CHANGING and _has_body(headers):
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
            wanted = ("multipart/form-data" if scope["path"] in UPLOAD_PATHS
                      else "application/json")
            if ctype != wanted:
                return (415, f"content type must be {wanted}, not {ctype or 'missing'}"), False
            limit = self._limit(scope)
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > limit):
                return (413, f"request body is larger than the limit of {limit} bytes"), False
        return None, set_cookie

    def _token_ok(self, scope: Scope, headers: dict[str, str]) -> tuple[bool, bool]:
        token = self.settings.token or ""
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and _same(auth[7:].strip(), token):
            return True, False
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is just no cookie
            cookie = SimpleCookie()
        if COOKIE in cookie and _same(cookie[COOKIE].value, token):
            return True, False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if any(_same(t, token) for t in query.get("token", [])):
            return True, scope["type"] == "http"
        return False, False

    def _limit(self, scope: Scope) -> int:
        if scope["path"] in UPLOAD_PATHS:
            return self.settings.max_upload_bytes
        return self.settings.max_body_bytes

    async def _http(self, scope: Scope, receive: Receive, send: Send,
                    headers: dict[str, str], set_cookie: bool) -> None:
        limit = self._limit(scope)
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                extra = list(SECURITY_HEADERS)
                if set_cookie:
                    value = (f"{COOKIE}={self.settings.token}; Path=/; HttpOnly; "
                             "SameSite=Strict")
                    extra.append((b"set-cookie", value.encode("latin-1")))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            app_receive = counting_receive
            if scope.get("method") in STATE_CHANGING and _is_json(headers) \
                    and scope["path"].startswith("/api/"):  # every JSON handler lives there
                body = await _read_body(counting_receive)
                try:
                    if body:
                        loads(body, self.settings.max_json_depth)
                except JSONRefused as exc:
                    await SafeJSONResponse({"detail": str(exc), "errors": []},
                                           status_code=422)(scope, receive, guarded_send)
                    return
                app_receive = _replay(body, receive)
            await self.app(scope, app_receive, guarded_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await SafeJSONResponse({"detail": exc.detail}, status_code=413)(scope, receive, send)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


# RFC 9110 `uri-host [ ":" port ]`, narrowed to what a browser sends: an IPv6 literal
# in brackets or a plain name / IPv4 address, then digits only. Anything after the
# name (`[::1]evil.com`, `localhost:80.evil.com`) fails the full match.
HOST_SYNTAX = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::([0-9]{1,5}))?")


def _hostname(host: str) -> str | None:
    """The Host header's name without its port (IPv6 keeps brackets); None if malformed."""
    match = HOST_SYNTAX.fullmatch(host.lower())
    if match is None or (match[2] is not None and int(match[2]) > 65535):
        return None
    return match[1]


def _own_origin(scope: Scope, host: str) -> str:
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme"))
    return f"{scheme}://{host.strip().lower()}"


def _is_json(headers: dict[str, str]) -> bool:
    return headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


async def _read_body(receive: Receive) -> bytes:
    """The whole body (already bounded by the counting receive)."""
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client left; the handler will see an empty body
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the checked body once, then waits on the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _has_body(headers: dict[str, str]) -> bool:
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
