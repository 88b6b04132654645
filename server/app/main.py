"""`create_app(settings)`: the FastAPI app, wired from the parts in this package.

Opening the app opens the data dir's database and marks runs a killed server
left unfinished as `interrupted`; closing it (uvicorn's shutdown, or leaving a
`TestClient` block) stops active runs, which end `stopped`.
"""

from __future__ import annotations

import errno
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.templating import Jinja2Templates

from server import __version__

from .context import ApiError, Context
from .guards import Guard
from .housekeeping import prune_runs
from .jsontext import SafeJSONResponse
from .pages import OwnStatic, VendorFiles, vendor_packages
from .pages import router as page_router
from .routes import (
    datasets,
    examples,
    graphs,
    health,
    imports,
    projects,
    runs,
    stream,
    weights,
    xray,
)
from .runs import RunManager, factory_for, storage_problem
from .settings import Settings
from .store import Store

WRITE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT}


def create_app(settings: Settings) -> FastAPI:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.db_path, settings.db_busy_timeout_s)
    manager = RunManager(store, settings, factory_for(settings))
    manager.recover()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(manager.shutdown)
        store.close()

    app = FastAPI(title="torchcanvas", version=__version__, lifespan=lifespan,
                  default_response_class=SafeJSONResponse,
                  description="Design, validate, train and export PyTorch networks.")
    app.state.ctx = Context(settings, store, manager,
                            threading.BoundedSemaphore(settings.max_upload_checks))
    try:
        prune_runs(app.state.ctx)  # the retention setting, applied once per start
    except (OSError, sqlite3.Error):  # a read-only data dir still serves what it holds
        pass
    app.state.templates = Jinja2Templates(directory=settings.templates_dir)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> SafeJSONResponse:
        body = {"detail": exc.detail, "errors": exc.errors, **exc.extra}
        return SafeJSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> SafeJSONResponse:
        return SafeJSONResponse({"detail": [_brief(e) for e in exc.errors()]}, status_code=422)

    # A full disk or a read-only data dir refuses writes with 503 and says why; reads
    # keep working. Other errors are bugs and stay 500s.
    @app.exception_handler(sqlite3.Error)
    @app.exception_handler(OSError)
    async def storage_error(request: Request, exc: Exception) -> SafeJSONResponse:
        if isinstance(exc, OSError) and exc.errno not in WRITE_ERRNOS:
            raise exc
        return SafeJSONResponse({"detail": storage_problem(exc), "errors": []},
                                status_code=503, headers={"Retry-After": "30"})

    for module in (graphs, runs, stream, projects, datasets, examples, imports, weights, xray,
                   health):
        app.include_router(module.router)
    app.include_router(page_router)
    app.mount("/static", OwnStatic(directory=settings.static_dir, check_dir=False),
              name="static")
    app.mount("/vendor", VendorFiles(settings.static_dir / "node_modules",
                                     vendor_packages(settings.static_dir)), name="vendor")
    app.add_middleware(Guard, settings=settings)
    return app


def _brief(error: dict) -> dict:
    """One request-validation error with at most the offending value, never the whole body."""
    out = {k: error[k] for k in ("type", "loc", "msg") if k in error}
    value = error.get("input")
    if isinstance(value, bool | int | float) or value is None:
        out["input"] = value
    elif isinstance(value, str):
        out["input"] = value[:100]
    return out
