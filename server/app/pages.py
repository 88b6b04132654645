"""The page at `/` and the files it loads: our own under /static, npm packages under /vendor.

`/vendor` serves only the packages `static/package.json` depends on, plus what
they depend on in turn (an ES module imports its dependencies), read from
`static/node_modules`; dev tools and anything else installed there stay
unreachable. `/static` never serves `node_modules` itself. Both are read-only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from server import __version__

router = APIRouter(tags=["page"])
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request) -> HTMLResponse:
    """The editor, with a Content-Security-Policy allowing only its own scripts."""
    templates: Jinja2Templates = request.app.state.templates
    page = templates.TemplateResponse(request, "index.html", {
        "version": __version__, "static_url": "/static", "vendor_url": "/vendor"})
    page.headers["content-security-policy"] = content_security_policy(page.body)
    return page


def content_security_policy(html: bytes) -> str:
    """Scripts only from this server, plus the page's own inline blocks (the import map)
    by hash, so an injected `<script>` or `onclick=` never runs. Styles may be inline:
    the canvas library sets them, and a style cannot run code."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(m).digest()).decode()}'"
                      for m in INLINE_SCRIPT.findall(html))
    return ("default-src 'self'; "
            f"script-src 'self' {hashes}; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            "connect-src 'self'; font-src 'self' data:; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class OwnStatic(StaticFiles):
    """`static/` without `node_modules` (that is /vendor's job, filtered)."""

    async def get_response(self, path: str, scope: Scope) -> Any:
        if path.replace("\\", "/").split("/", 1)[0] == "node_modules":
            raise HTTPException(404)
        return await super().get_response(path, scope)


class VendorFiles(StaticFiles):
    """`static/node_modules`, limited to the declared packages and their dependencies."""

    def __init__(self, directory: Path, packages: set[str]):
        super().__init__(directory=directory, check_dir=False)
        self.packages = packages

    async def get_response(self, path: str, scope: Scope) -> Any:
        parts = path.replace("\\", "/").split("/")
        name = "/".join(parts[:2]) if parts[0].startswith("@") else parts[0]
        if name not in self.packages:
            raise HTTPException(404)
        return await super().get_response(path, scope)


def vendor_packages(static_dir: Path) -> set[str]:
    """Declared front-end packages and, transitively, their runtime dependencies."""
    todo = list(_deps(static_dir / "package.json"))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or ".." in name:
            continue
        seen.add(name)
        todo.extend(_deps(static_dir / "node_modules" / name / "package.json"))
    return seen


def _deps(package_json: Path) -> list[str]:
    try:
        data = json.loads(package_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return list((data.get("dependencies") or {}).keys())
