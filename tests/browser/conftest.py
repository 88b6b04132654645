"""Browser tests: a live torchcanvas server and Debian's Chromium driven by pytest-playwright.

The server is the real app (`create_app`) run by uvicorn in a background thread
on a free port with a temporary data dir, once per session. Chromium is the
system one (`/usr/bin/chromium`, or `$TORCHCANVAS_CHROMIUM`), launched with the
flags the container needs. Without a browser the tests are skipped, except when
`TORCHCANVAS_REQUIRE_BROWSER=1` (CI), where that is a failure.

Run them alone with `.venv/bin/pytest tests/browser -m browser`.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def chromium_path() -> str | None:
    """$TORCHCANVAS_CHROMIUM when set (and only it), else Debian's, else `chromium` on PATH."""
    wanted = os.environ.get("TORCHCANVAS_CHROMIUM")
    for candidate in [wanted] if wanted else ["/usr/bin/chromium", "chromium"]:
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
        if found := shutil.which(candidate):
            return found
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    ours = [i for i in items if here in Path(str(i.fspath)).parents]
    if not ours or chromium_path():
        return
    if os.environ.get("TORCHCANVAS_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(
            "TORCHCANVAS_REQUIRE_BROWSER=1 but no Chromium was found "
            "(install Debian's `chromium` or set TORCHCANVAS_CHROMIUM)")
    skip = pytest.mark.skip(reason="Chromium not installed (set TORCHCANVAS_CHROMIUM)")
    for item in ours:
        if "page" in getattr(item, "fixturenames", ()) or item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": chromium_path(), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory):
    """The real app with an empty data dir, for the whole session (served by `live_server`)."""
    from server.app import Settings, create_app

    return create_app(Settings(data_dir=tmp_path_factory.mktemp("data")))


@pytest.fixture(scope="session")
def live_server(live_app) -> Iterator[str]:
    """The base URL of the real server, run by uvicorn in a background thread."""
    import uvicorn

    app = live_app
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    # pytest-playwright resolves relative `page.goto("/")` against this.
    return live_server
