"""The web server: FastAPI routes over the core, SQLite persistence, live run streaming.

`create_app(settings)` builds the app (tests use it with `TestClient`);
`serve(host, port, data_dir, allowed_hosts)` is what `torchcanvas serve` runs.
Routes are thin: the work is in the core (`server.validation`, `server.export`,
...), the run manager (`runs`), the store (`store`) and the guards (`guards`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .settings import Settings

__all__ = ["Settings", "create_app", "serve"]


def create_app(settings: Settings) -> Any:
    from .main import create_app as build

    return build(settings)


def serve(host: str, port: int, data_dir: Path, allowed_hosts: list[str] | None = None,
          **executor: Any) -> None:
    from .launch import serve as run

    run(host, port, data_dir, allowed_hosts, **executor)
