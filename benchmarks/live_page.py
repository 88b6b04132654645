"""The real app on a free loopback port and a Chromium page on it, for page benchmarks."""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def live_page(width: int = 1400, height: int = 900) -> Iterator[tuple[object, str]]:
    """(page, base URL) with the page opened at `/`; everything stops on exit."""
    import uvicorn
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    from server.app import Settings, create_app
    from tests.browser.conftest import CHROMIUM_ARGS, _free_port, chromium_path

    app = create_app(Settings(data_dir=Path(tempfile.mkdtemp()) / "data"))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": width, "height": height})
            base = f"http://127.0.0.1:{port}"
            page.goto(f"{base}/")
            try:
                yield page, base
            finally:
                browser.close()
    finally:
        server.should_exit = True
