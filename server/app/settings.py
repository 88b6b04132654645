"""Server settings: where data lives, who may connect, and the limits on what they send.

One frozen dataclass built by `serve` (from the command line) or by tests; a few
fields can be overridden from `TORCHCANVAS_*` environment variables so that an
operator can tune limits without code. Defaults are the safe ones: loopback
only, no token needed there, one training run at a time.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")
MiB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Everything `create_app` needs; tests build one per temp data dir."""

    data_dir: Path
    # Extra Host names (besides loopback) the server answers to, e.g. a LAN name.
    allowed_hosts: tuple[str, ...] = ()
    # None: no token needed (loopback bind). Set by `serve` for non-loopback binds.
    token: str | None = None
    max_running: int = 1
    retry_after_s: int = 10
    # Request bodies: JSON everywhere, except the multipart dataset upload.
    max_body_bytes: int = 4 * MiB
    max_upload_bytes: int = 200 * MiB
    # JSON bodies and JSON query params: deeper nesting is refused with 422.
    max_json_depth: int = 64
    # Zip uploads (image folders).
    max_zip_entries: int = 20_000
    max_unzipped_bytes: int = 1024 * MiB
    max_zip_ratio: int = 200
    max_image_pixels: int = 2048 * 2048  # each image is decoded to check it: bound the work
    # Upload checks (unzip, decode every image, parse a CSV) at once; more wait with 429.
    max_upload_checks: int = 2
    # CSV uploads.
    max_csv_rows: int = 1_000_000
    max_csv_columns: int = 1_000
    # Sockets (applied by `serve`): a request's headers must arrive within this many
    # seconds; connections past the cap are closed at once.
    header_timeout_s: float = 10.0
    max_connections: int = 256
    # A client that takes no bytes for this long (its reads stopped) is disconnected.
    stall_timeout_s: float = 60.0
    # The data dir's quota in bytes (None: none): new uploads and runs get 507 past it.
    max_data_bytes: int | None = None
    # Finished runs older than this many days are deleted at start (None: kept forever).
    keep_runs_days: float | None = None
    # Websocket viewers.
    viewer_queue: int = 4096
    viewer_queue_bytes: int = 16 * MiB  # boundary grids are 40 KB each: bound bytes too
    max_client_message: int = 4096
    max_client_messages_per_s: int = 20
    # Another program holding the database's write lock: a request waits this long, then
    # gets 503 (Retry-After); a run's events wait and are retried for up to
    # `db_busy_give_up_s` before the run fails.
    db_busy_timeout_s: float = 10.0
    db_busy_give_up_s: float = 300.0
    # Events are written to SQLite at most this often (or on a status event).
    flush_interval_s: float = 0.25
    flush_max_events: int = 1000
    # Where runs train: "local" worker processes, or "ray" (`serve --executor ray`,
    # see docs/scaling.md): a TorchTrainer of `ray_workers` DDP workers per run on the
    # cluster at `ray_address` (None: a Ray instance started for this server).
    executor: str = "local"
    ray_address: str | None = None
    ray_workers: int = 2
    ray_gpus_per_worker: float = 0.0
    ray_storage: str | None = None  # Ray Train's storage_path (a shared path or URI)
    templates_dir: Path = field(default_factory=lambda: REPO_ROOT / "templates")
    static_dir: Path = field(default_factory=lambda: REPO_ROOT / "static")
    examples_dir: Path = field(default_factory=lambda: REPO_ROOT / "examples")

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "torchcanvas.sqlite3"

    def host_names(self) -> set[str]:
        """Host header values (without port) that requests may carry."""
        return {h.lower() for h in (*LOOPBACK_HOSTS, *self.allowed_hosts)}

    def with_env(self, env: dict[str, str] | None = None) -> Settings:
        """Apply `TORCHCANVAS_*` overrides (documented in the README)."""
        env = os.environ if env is None else env
        changes: dict[str, object] = {}
        if v := env.get("TORCHCANVAS_MAX_RUNNING"):
            changes["max_running"] = max(1, int(v))
        if v := env.get("TORCHCANVAS_MAX_UPLOAD_MB"):
            changes["max_upload_bytes"] = int(float(v) * MiB)
        if v := env.get("TORCHCANVAS_MAX_BODY_MB"):
            changes["max_body_bytes"] = int(float(v) * MiB)
        if v := env.get("TORCHCANVAS_HEADER_TIMEOUT_S"):
            changes["header_timeout_s"] = max(0.1, float(v))
        if v := env.get("TORCHCANVAS_STALL_TIMEOUT_S"):
            changes["stall_timeout_s"] = max(1.0, float(v))
        if v := env.get("TORCHCANVAS_MAX_CONNECTIONS"):
            changes["max_connections"] = max(8, int(v))
        if v := env.get("TORCHCANVAS_MAX_DATA_GB"):
            changes["max_data_bytes"] = int(float(v) * 1024 * MiB)
        if v := env.get("TORCHCANVAS_KEEP_RUNS_DAYS"):
            changes["keep_runs_days"] = float(v)
        if v := env.get("TORCHCANVAS_DB_BUSY_TIMEOUT_S"):
            changes["db_busy_timeout_s"] = max(0.05, float(v))
        if v := env.get("TORCHCANVAS_DB_BUSY_GIVE_UP_S"):
            changes["db_busy_give_up_s"] = max(1.0, float(v))
        if v := env.get("TORCHCANVAS_VIEWER_QUEUE_MB"):
            changes["viewer_queue_bytes"] = max(MiB // 16, int(float(v) * MiB))
        if v := env.get("TORCHCANVAS_ALLOWED_HOSTS"):
            extra = tuple(h.strip() for h in v.split(",") if h.strip())
            changes["allowed_hosts"] = (*self.allowed_hosts, *extra)
        if self.token is not None and (v := env.get("TORCHCANVAS_TOKEN")):
            changes["token"] = v
        return replace(self, **changes)


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (names resolve to loopback too)."""
    h = host.strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)
