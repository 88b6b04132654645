"""`serve(host, port, data_dir)`: what `torchcanvas serve` runs.

Prints the URL (with the token when bound beyond loopback), makes sure the data
dir holds at least one project so a newcomer sees a network at once, and runs
uvicorn until Ctrl-C, which stops active runs cleanly.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from .connlimits import guarded_protocol, guarded_ws_protocol
from .settings import REPO_ROOT, Settings, is_loopback, new_token
from .store import Store

SEED = REPO_ROOT / "examples" / "seed_cnn.json"
WILDCARDS = {"0.0.0.0", "::", ""}
UVICORN_OPTIONS = {
    "proxy_headers": False,  # nothing sits in front of us: never trust X-Forwarded-*
    "server_header": False,
    "ws_max_size": 1024 * 1024,  # clients only ever send tiny messages
    "ws_ping_interval": 20.0,
    # Compressing each small event costs more CPU than the bytes it saves (it
    # halves replay speed), and the page is usually on this very machine.
    "ws_per_message_deflate": False,
}


def settings_for(host: str, data_dir: Path, allowed_hosts: list[str] | None = None) -> Settings:
    """Settings for a bind address: a token beyond loopback; a specific address allowed."""
    extra = list(allowed_hosts or [])
    if host not in WILDCARDS and not is_loopback(host):
        extra.append(f"[{host}]" if ":" in host else host)
    token = None if is_loopback(host) else new_token()
    return Settings(data_dir=Path(data_dir).resolve(), allowed_hosts=tuple(extra),
                    token=token).with_env()


def seed_projects(settings: Settings) -> None:
    """Save the seed CNN as project `seed_cnn` when there are no projects yet."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.db_path)
    try:
        if not store.list_projects() and SEED.is_file():
            store.put_project("seed_cnn", json.loads(SEED.read_text(encoding="utf-8")))
    finally:
        store.close()


def launch_url(settings: Settings, host: str, port: int) -> str:
    shown = "127.0.0.1" if host in WILDCARDS or is_loopback(host) else host
    shown = f"[{shown}]" if ":" in shown else shown
    url = f"http://{shown}:{port}/"
    return f"{url}?token={settings.token}" if settings.token else url


def serve(host: str, port: int, data_dir: Path, allowed_hosts: list[str] | None = None,
          **executor: Any) -> None:
    """`executor`: Settings' executor fields (executor="ray", ray_address, ray_workers, ...)."""
    import uvicorn

    from server.training.worker import warm_up

    from .main import create_app

    settings = replace(settings_for(host, data_dir, allowed_hosts), **executor)
    seed_projects(settings)
    warm_up()  # the forkserver imports torch now, while the user opens the page
    app = create_app(settings)
    print(f"torchcanvas: serving {settings.data_dir}", flush=True)
    print(f"torchcanvas: open {launch_url(settings, host, port)}", flush=True)
    if settings.token and host in WILDCARDS:
        print("torchcanvas: bound to every interface; requests must name an allowed host "
              "(--allow-host NAME, or TORCHCANVAS_ALLOWED_HOSTS)", flush=True)
    protocol = guarded_protocol(settings.header_timeout_s, settings.max_connections,
                                settings.stall_timeout_s)
    uvicorn.run(app, host=host, port=port, log_level="info", http=protocol,
                ws=guarded_ws_protocol(settings.stall_timeout_s), timeout_keep_alive=5,
                **UVICORN_OPTIONS)
