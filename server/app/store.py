"""SQLite persistence: projects, runs, their events, and uploaded datasets.

stdlib `sqlite3` in WAL mode, so viewers reading a run's events never block the
thread writing them. Each thread gets its own connection (sqlite3 connections
are not meant to be shared across threads); writes are short transactions.
Events are stored as the exact JSON text sent to viewers, so a replay is a
read and a send, never a re-serialization.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    name TEXT PRIMARY KEY,
    graph TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    graph TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    ended REAL,
    metrics TEXT,
    error TEXT,
    last_seq INTEGER NOT NULL DEFAULT -1
);
CREATE TABLE IF NOT EXISTS run_events (
    run TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_labels (
    run TEXT PRIMARY KEY,
    project TEXT,
    label TEXT
);
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    dataset TEXT NOT NULL,
    params TEXT NOT NULL,
    info TEXT NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL
);
"""

UNFINISHED = ("running", "queued")
RUN_COLUMNS = ("id", "graph", "status", "created", "started", "ended", "metrics", "error",
               "last_seq")


class Store:
    """A data dir's database; safe to use from any thread."""

    def __init__(self, path: Path, busy_timeout: float = 10.0):
        self.path = Path(path)
        # How long a write waits for another connection's (or program's) lock before
        # SQLite raises "database is locked".
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._all: dict[threading.Thread, sqlite3.Connection] = {}
        self._lock = threading.Lock()
        with self._conn() as db:
            db.executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=self.busy_timeout,
                                 check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across application crashes in WAL mode; only a power
            # loss can drop the last transactions, which is fine for metrics.
            db.execute("PRAGMA synchronous=NORMAL")
            db.row_factory = sqlite3.Row
            self._local.db = db
            with self._lock:
                self._reap()
                self._all[threading.current_thread()] = db
        elif len(self._all) > threading.active_count():  # some thread with one has ended
            with self._lock:
                self._reap()
        return db

    def _reap(self) -> None:
        """Close the connections of threads that have ended (the caller holds the lock).

        Request threads come and go (the thread pool retires idle ones), and each
        one's connection would otherwise stay open, two file descriptors, for the
        life of the server. Reaping here, not from a finalizer, keeps the closing
        at a known point: a finalizer can run inside any thread, even one that
        holds this lock."""
        for thread, db in list(self._all.items()):
            if not thread.is_alive():
                del self._all[thread]
                try:
                    db.close()
                except sqlite3.Error:
                    pass  # nothing left to flush: its thread is gone

    def check_writable(self) -> None:
        """Raise sqlite3.Error unless the database takes a write (a full or read-only disk
        says so here, before a destructive action is half done)."""
        with self._conn() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            db.execute(f"PRAGMA user_version = {int(version)}")

    def release_thread(self) -> None:
        """Close this thread's connection (a run's thread, as it ends): no fd outlives it."""
        db = getattr(self._local, "db", None)
        if db is None:
            return
        self._local.db = None
        with self._lock:
            self._all.pop(threading.current_thread(), None)
        db.close()

    def close(self) -> None:
        with self._lock:
            for db in self._all.values():
                try:
                    db.close()
                except sqlite3.ProgrammingError:
                    pass  # created in a thread that is gone; nothing to flush
            self._all.clear()
        self._local = threading.local()

    # -- projects ---------------------------------------------------------------------

    def list_projects(self) -> list[dict[str, Any]]:
        rows = self._conn().execute(
            "SELECT name, created, updated FROM projects ORDER BY updated DESC").fetchall()
        return [dict(r) for r in rows]

    def get_project(self, name: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT * FROM projects WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        return dict(row) | {"graph": json.loads(row["graph"])}

    def put_project(self, name: str, graph: dict[str, Any]) -> dict[str, Any]:
        now = time.time()
        with self._conn() as db:
            db.execute(
                "INSERT INTO projects (name, graph, created, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET graph = excluded.graph, "
                "updated = excluded.updated",
                (name, json.dumps(graph), now, now))
        row = self._conn().execute(
            "SELECT name, created, updated FROM projects WHERE name = ?", (name,)).fetchone()
        return dict(row)

    def rename_project(self, old: str, new: str) -> bool:
        with self._conn() as db:
            cur = db.execute("UPDATE projects SET name = ?, updated = ? WHERE name = ?",
                             (new, time.time(), old))
        return cur.rowcount == 1

    def delete_project(self, name: str) -> bool:
        with self._conn() as db:
            return db.execute("DELETE FROM projects WHERE name = ?", (name,)).rowcount == 1

    # -- runs -------------------------------------------------------------------------

    def create_run(self, run_id: str, graph: dict[str, Any], status: str) -> None:
        with self._conn() as db:
            db.execute("INSERT INTO runs (id, graph, status, created) VALUES (?, ?, ?, ?)",
                       (run_id, json.dumps(graph), status, time.time()))

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else _run(row)

    def list_runs(self) -> list[dict[str, Any]]:
        rows = self._conn().execute("SELECT * FROM runs ORDER BY created DESC").fetchall()
        return [_run(r) for r in rows]

    def delete_run(self, run_id: str) -> bool:
        with self._conn() as db:
            db.execute("DELETE FROM run_events WHERE run = ?", (run_id,))
            db.execute("DELETE FROM run_labels WHERE run = ?", (run_id,))
            return db.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount == 1

    def set_run_label(self, run_id: str, **fields: str | None) -> None:
        """Set a run's `project` (the editor's project it came from) or its `label`
        (the user's name for it); a table of their own, so old databases need no migration."""
        assert set(fields) <= {"project", "label"}, fields
        with self._conn() as db:
            db.execute("INSERT OR IGNORE INTO run_labels (run) VALUES (?)", (run_id,))
            for key, value in fields.items():
                db.execute(f"UPDATE run_labels SET {key} = ? WHERE run = ?", (value, run_id))

    def run_labels(self) -> dict[str, dict[str, str | None]]:
        rows = self._conn().execute("SELECT run, project, label FROM run_labels").fetchall()
        return {r["run"]: {"project": r["project"], "label": r["label"]} for r in rows}

    def unfinished_runs(self) -> list[dict[str, Any]]:
        marks = ",".join("?" * len(UNFINISHED))
        rows = self._conn().execute(
            f"SELECT * FROM runs WHERE status IN ({marks})", UNFINISHED).fetchall()
        return [_run(r) for r in rows]

    # -- events -----------------------------------------------------------------------

    def append_events(self, run_id: str, events: Iterable[tuple[int, str]],
                      run_fields: dict[str, Any] | None = None) -> None:
        """Insert a batch of (seq, json) and update the run row, in one transaction."""
        events = list(events)
        fields = dict(run_fields or {})
        if events:
            fields["last_seq"] = events[-1][0]
        with self._conn() as db:
            db.executemany("INSERT OR IGNORE INTO run_events (run, seq, data) VALUES (?, ?, ?)",
                           [(run_id, seq, text) for seq, text in events])
            if fields:
                assert set(fields) <= set(RUN_COLUMNS), fields
                sets = ", ".join(f"{k} = ?" for k in fields)
                db.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*fields.values(), run_id))

    def events_after(self, run_id: str, after: int, upto: int | None = None,
                     limit: int = 5000, max_bytes: int | None = None) -> list[tuple[int, str]]:
        """Stored events with after < seq <= upto, oldest first: at most `limit` of them,
        and no more than about `max_bytes` of text (always at least one). A run can hold
        thousands of 40 KB boundary grids: a count alone does not bound memory."""
        upto = 2**62 if upto is None else upto
        cur = self._conn().cursor()
        cur.row_factory = None  # plain tuples: a replay reads 100k of these
        cur.execute("SELECT seq, data FROM run_events WHERE run = ? AND seq > ? AND seq <= ? "
                    "ORDER BY seq LIMIT ?", (run_id, after, upto, limit))
        if max_bytes is None:
            return cur.fetchall()
        rows: list[tuple[int, str]] = []
        size = 0
        while size < max_bytes and (batch := cur.fetchmany(256)):
            for row in batch:
                if rows and size + len(row[1]) > max_bytes:
                    cur.close()
                    return rows
                rows.append(row)
                size += len(row[1])
        cur.close()
        return rows

    # -- uploaded datasets ------------------------------------------------------------

    def add_dataset(self, rec: dict[str, Any]) -> None:
        with self._conn() as db:
            db.execute(
                "INSERT INTO datasets (id, name, kind, dataset, params, info, size, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (rec["id"], rec["name"], rec["kind"], rec["dataset"], json.dumps(rec["params"]),
                 json.dumps(rec["info"]), rec["size"], rec["created"]))

    def list_datasets(self) -> list[dict[str, Any]]:
        rows = self._conn().execute("SELECT * FROM datasets ORDER BY created").fetchall()
        return [_dataset(r) for r in rows]

    def delete_dataset(self, name: str) -> bool:
        with self._conn() as db:
            return db.execute("DELETE FROM datasets WHERE name = ?", (name,)).rowcount > 0

    def get_dataset(self, name: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT * FROM datasets WHERE name = ?", (name,)).fetchone()
        return None if row is None else _dataset(row)


def _run(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["graph"] = json.loads(out["graph"])
    out["metrics"] = json.loads(out["metrics"]) if out["metrics"] else None
    return out


def _dataset(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["params"] = json.loads(out["params"])
    out["info"] = json.loads(out["info"])
    return out
