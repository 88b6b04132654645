"""The run manager: one thread per training run, storing its events and fanning them out.

Each run's thread polls `TrainingRun` (which trains in its own worker process),
serializes every event once (finite JSON), stores each polled batch in SQLite in
one transaction, and only then pushes it to every viewer's queue: a viewer never
holds an event the store could lose, so after a crash (even SIGKILL) a resumed
viewer finds everything it saw, and the `interrupted` status recovery adds takes
the next seq, one no viewer holds. A viewer subscribes under the run's lock and
gets the seq up to which SQLite is complete; everything later arrives in its
queue once stored, with no gap or duplicate.

When another program holds a lock on the database longer than the busy timeout,
a run keeps training: its events wait (unsent) and the write is retried, so
nothing is lost and viewers resume where they were; only a lock held past
`db_busy_give_up_s` fails the run, like a full disk.

When the store cannot be written (a full disk, a read-only data dir) the run
ends `failed` with the reason, its worker is stopped, its slot and viewers are
released, and its final status is stored as soon as writing works again.

Past `max_running` active runs, `start` raises `Busy` (the API answers 429 with
Retry-After): a queue would hide work the user cannot see or cancel from the
page, and the trainer's events (seq 0 = `running`) stay exactly as it sends them.
"""

from __future__ import annotations

import errno
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.training.events import FINAL_STATUSES

from .checkpoints import remove_partial
from .jsontext import dumps
from .scrub import scrub
from .settings import Settings
from .store import Store
from .viewers import Item, Viewer

POLL_S = 0.05
KILL_AFTER_S = 10.0
RETRY_STORE_S = 2.0
STORAGE_ERRORS = (sqlite3.Error, OSError)


def is_busy(exc: BaseException) -> bool:
    """True when another connection or program holds the database's write lock."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and (
        "database is locked" in text or "database is busy" in text)


def storage_problem(exc: BaseException) -> str:
    """A user's words for a failed write: the disk is full, or the data dir is read-only."""
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    if is_busy(exc):
        return ("the server's database is busy (another program holds a lock on it): "
                "nothing was changed; try again in a moment")
    if code == errno.ENOSPC or "disk is full" in text or "no space" in text:
        return "disk full: the server's data dir has no space left"
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly" in text \
            or "read-only" in text or "disk i/o error" in text:
        return "the server's data dir is read-only (or failing): nothing was changed"
    return f"the server cannot write its data ({type(exc).__name__})"


EPOCH_SKIP = {"type", "seq", "grad_norms", "weight_norms"}


class Busy(Exception):
    """The concurrency limit is reached."""


@dataclass
class ActiveRun:
    id: str
    training: Any
    lock: threading.Lock = field(default_factory=threading.Lock)
    viewers: set[Viewer] = field(default_factory=set)
    pending: list[tuple[int, str]] = field(default_factory=list)  # not yet stored
    unsent: list[Item] = field(default_factory=list)  # viewers get these once stored
    busy_since: float | None = None  # the database has been locked since then
    dirty: dict[str, Any] = field(default_factory=dict)
    flushed_seq: int = -1
    last_seq: int = -1
    last_flush: float = 0.0
    final_seen: bool = False
    finished: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


def new_id() -> str:
    """Server-made ids: the only thing checkpoint and upload paths are built from."""
    return secrets.token_hex(8)


def default_factory(graph: Any, out_dir: Path) -> Any:
    from server.training import TrainingRun  # the trainer imports torch: load on first run
    from server.training.worker import run_training_for_server

    return TrainingRun(graph, out_dir, target=run_training_for_server)


def factory_for(settings: Settings) -> Callable[[Any, Path], Any]:
    """The run factory of `settings.executor`: local worker processes, or Ray."""
    if settings.executor == "ray":
        from .ray_executor import ray_factory  # imports Ray only when it starts a run

        return ray_factory(settings.ray_address, settings.ray_workers,
                           settings.ray_gpus_per_worker, settings.ray_storage)
    return default_factory


class RunManager:
    def __init__(self, store: Store, settings: Settings,
                 run_factory: Callable[[Any, Path], Any] = default_factory):
        self.store = store
        self.settings = settings
        self.run_factory = run_factory
        self._active: dict[str, ActiveRun] = {}
        self._lock = threading.Lock()
        # Final statuses that could not be stored (disk full): run id -> (seq, status, error).
        self._unsaved: dict[str, tuple[int, str, str]] = {}
        self._retrier: threading.Thread | None = None
        self._closing = threading.Event()

    # -- lifecycle --------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Mark runs a killed server left running or queued as interrupted."""
        ids = []
        for run in self.store.unfinished_runs():
            remove_partial(self.settings.runs_dir / run["id"])
            self._store_final(run["id"], run["last_seq"] + 1, "interrupted",
                              "the server stopped while this run was active")
            ids.append(run["id"])
        return ids

    def shutdown(self, timeout: float = KILL_AFTER_S + 5.0) -> None:
        """Stop every active run and wait for its final status (`stopped`)."""
        self._closing.set()
        with self._lock:
            active = list(self._active.values())
        for ar in active:
            ar.cancel.set()
        deadline = time.monotonic() + timeout
        for ar in active:
            if ar.thread is not None:
                ar.thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            stuck = list(self._active.values())
        for ar in stuck:  # a worker that ignored cancel: record the stop ourselves
            self._finish(ar, "stopped", "the server shut down")

    # -- runs -------------------------------------------------------------------------

    def start(self, graph: Any, graph_dict: dict[str, Any]) -> str:
        self.store.check_writable()  # a full or read-only disk: refuse before making files
        with self._lock:
            # A run holds its slot until its final status, not until its thread exits.
            if sum(not ar.final_seen for ar in self._active.values()) >= self.settings.max_running:
                raise Busy()
            run_id = new_id()
            out_dir = self.settings.runs_dir / run_id
            out_dir.mkdir(parents=True)
            self.store.create_run(run_id, graph_dict, "queued")
            try:
                training = self.run_factory(graph, out_dir)
            except Exception as exc:
                self._store_final(run_id, 0, "failed", f"could not start training: {exc}")
                raise
            ar = ActiveRun(run_id, training)
            self._active[run_id] = ar
            ar.thread = threading.Thread(target=self._drive, args=(ar,), daemon=True,
                                         name=f"run-{run_id}")
            ar.thread.start()
        return run_id

    def active_count(self) -> int:
        with self._lock:
            return len(self._active)

    def is_active(self, run_id: str) -> bool:
        with self._lock:
            return run_id in self._active

    def stop(self, run_id: str) -> bool:
        """Ask a run to stop; True if it was active. Idempotent."""
        with self._lock:
            ar = self._active.get(run_id)
        if ar is None:
            return False
        ar.cancel.set()
        return True

    def wait(self, run_id: str, timeout: float) -> bool:
        """Wait until a run is no longer active; True if it ended in time."""
        with self._lock:
            ar = self._active.get(run_id)
        if ar is not None and ar.thread is not None:
            ar.thread.join(timeout)
        return not self.is_active(run_id)

    def delete(self, run_id: str) -> bool:
        """Stop (if needed) and forget a run; False if it would not stop. A store that
        cannot be written raises first, so a refused delete leaves the run running."""
        self.store.check_writable()
        if self.stop(run_id) and not self.wait(run_id, 15.0):
            return False
        self.store.delete_run(run_id)
        shutil.rmtree(self.settings.runs_dir / run_id, ignore_errors=True)
        return True

    # -- events -----------------------------------------------------------------------

    def subscribe(self, run_id: str, viewer: Viewer) -> int | None:
        """Register a viewer; the seq up to which SQLite is complete (every later event
        reaches the viewer's queue once stored), or None if the run is not active."""
        with self._lock:
            ar = self._active.get(run_id)
        if ar is None:
            return None
        with ar.lock:
            if ar.finished:
                return None
            ar.viewers.add(viewer)
            return ar.flushed_seq

    def unsubscribe(self, run_id: str, viewer: Viewer) -> None:
        with self._lock:
            ar = self._active.get(run_id)
        if ar is not None:
            with ar.lock:
                ar.viewers.discard(viewer)

    def events(self, run_id: str, after: int, limit: int,
               max_bytes: int | None = None) -> list[tuple[int, str]]:
        """Stored events with seq > after, oldest first (never one the store could lose)."""
        return self.store.events_after(run_id, after, None, limit, max_bytes)

    # -- the run's thread -------------------------------------------------------------

    def _drive(self, ar: ActiveRun) -> None:
        try:
            self._drive_run(ar)
        finally:
            self.store.release_thread()  # this thread's connection: no fd per run

    def _drive_run(self, ar: ActiveRun) -> None:
        error = None
        cancelled_at = None
        try:
            ar.training.start()
            while True:
                if ar.cancel.is_set() and cancelled_at is None:
                    cancelled_at = time.monotonic()
                    ar.training.cancel()
                elif cancelled_at is not None and time.monotonic() - cancelled_at > KILL_AFTER_S:
                    ar.training.kill()  # it ignored cancel: end it; it stamps the final status
                events = ar.training.poll(POLL_S)
                if events:
                    self._publish(ar, events)
                if time.monotonic() - ar.last_flush >= self.settings.flush_interval_s:
                    self._flush(ar)
                if ar.training.done and not events:
                    break
        except STORAGE_ERRORS as exc:  # events that cannot be stored are never sent
            error = storage_problem(exc)
        except Exception as exc:  # the trainer's own failures arrive as events; this is ours
            error = f"the server lost the run: {type(exc).__name__}: {exc}"
        finally:
            try:
                ar.training.close()
            except Exception:
                pass  # nothing more to release
            # A worker killed mid-checkpoint leaves its temp file (never served: only
            # the renamed, complete best.pt / last.pt are); the disk gets it back.
            remove_partial(self.settings.runs_dir / ar.id)
        if error is not None and ar.final_seen and ar.pending:
            # The trainer's final status was never stored, so never sent: ours replaces it.
            ar.final_seen = False
            del ar.pending[:]
            del ar.unsent[:]
            ar.last_seq = ar.flushed_seq
        if not ar.final_seen:
            status = "stopped" if ar.cancel.is_set() and error is None else "failed"
            self._finish(ar, status, error or "the trainer ended without a final status")
        else:
            self._finish(ar, None, None)

    def _publish(self, ar: ActiveRun, events: list[dict[str, Any]]) -> None:
        with ar.lock:
            for event in events:
                seq = event["seq"]
                if seq <= ar.last_seq:
                    continue  # never resend: seq only ever grows
                ar.last_seq = seq
                if event.get("type") == "status" and isinstance(event.get("error"), str):
                    event = event | {"error": scrub(event["error"])}  # stored and sent as is
                text = dumps(event)
                ar.pending.append((seq, text))
                ar.unsent.append(Item(seq, text, self._note(ar, event)))
        # Durable before sent: a viewer never holds an event the store could lose.
        self._flush(ar)

    def _note(self, ar: ActiveRun, event: dict[str, Any]) -> bool:
        """Track the run row's fields from an event; True for a final status."""
        kind = event.get("type")
        if kind == "epoch":
            ar.dirty["metrics"] = dumps({k: v for k, v in event.items() if k not in EPOCH_SKIP})
        if kind != "status":
            return False
        status = event.get("status")
        ar.dirty["status"] = status
        if status == "running":
            ar.dirty["started"] = event.get("time") or time.time()
        if status in FINAL_STATUSES:
            ar.dirty["ended"] = event.get("time") or time.time()
            ar.dirty["error"] = event.get("error")
            ar.final_seen = True
            return True
        return False

    def _flush(self, ar: ActiveRun) -> None:
        """Write pending events and row changes, then send what is stored to the viewers
        (called only from the run's thread). A locked database leaves both waiting."""
        ar.last_flush = time.monotonic()
        with ar.lock:
            batch, fields = list(ar.pending), ar.dirty
            ar.dirty = {}
        if batch or fields:
            try:
                self.store.append_events(ar.id, batch, fields)
            except sqlite3.OperationalError as exc:
                with ar.lock:
                    ar.dirty = fields | ar.dirty  # newer values win
                if not is_busy(exc):
                    raise
                ar.busy_since = ar.busy_since or time.monotonic()
                if time.monotonic() - ar.busy_since > self.settings.db_busy_give_up_s:
                    raise
                return  # retried at the next poll; the events stay unsent
            ar.busy_since = None
        with ar.lock:
            if batch:
                ar.flushed_seq = batch[-1][0]
                del ar.pending[: len(batch)]
            # Under the same lock as `subscribe`: a viewer that got flushed_seq before
            # this update receives these items; one that got it after finds them stored.
            ready = [item for item in ar.unsent if item.seq <= ar.flushed_seq]
            if not ready:
                return
            del ar.unsent[: len(ready)]
            for viewer in list(ar.viewers):
                for item in ready:
                    viewer.push(item)
                if viewer.dropped:
                    ar.viewers.discard(viewer)

    def _finish(self, ar: ActiveRun, status: str | None, error: str | None) -> None:
        """Append a final status if one is missing, flush, and retire the run.

        When the store refuses the write, the run is retired all the same (its slot
        and viewers released) and the final status is stored once writing works."""
        try:
            if status is not None and not ar.final_seen:
                event = {"type": "status", "seq": ar.last_seq + 1, "status": status,
                         "error": error, "time": time.time()}
                self._publish(ar, [event])
            self._flush(ar)
            while ar.pending or ar.dirty:  # a locked database: wait for it (or give up)
                time.sleep(POLL_S)
                self._flush(ar)
        except STORAGE_ERRORS as exc:
            problem = storage_problem(exc)
            with ar.lock:
                seq = ar.flushed_seq + 1
                del ar.pending[:]
                del ar.unsent[:]
            self._remember_unsaved(ar.id, seq, "failed", problem)
        with self._lock:
            self._active.pop(ar.id, None)
        with ar.lock:
            ar.finished = True
            for viewer in ar.viewers:
                viewer.end()
            ar.viewers.clear()

    def _remember_unsaved(self, run_id: str, seq: int, status: str, error: str) -> None:
        with self._lock:
            self._unsaved[run_id] = (seq, status, error)
            if self._retrier is None or not self._retrier.is_alive():
                self._retrier = threading.Thread(target=self._store_unsaved, daemon=True,
                                                 name="store-retry")
                self._retrier.start()

    def _store_unsaved(self) -> None:
        """Store the final statuses a full or read-only disk refused, once it can."""
        try:
            while not self._closing.wait(RETRY_STORE_S):
                with self._lock:
                    waiting = dict(self._unsaved)
                if not waiting:
                    return
                for run_id, (seq, status, error) in waiting.items():
                    try:
                        self._store_final(run_id, seq, status, error)
                    except STORAGE_ERRORS:
                        break  # still full: try again later
                    with self._lock:
                        self._unsaved.pop(run_id, None)
        finally:
            self.store.release_thread()

    def unsaved(self) -> dict[str, tuple[int, str, str]]:
        """Runs whose final status waits for the disk (for tests and the health check)."""
        with self._lock:
            return dict(self._unsaved)

    def current(self, run: dict[str, Any]) -> dict[str, Any]:
        """A stored run row as it really is: a final status the disk refused overrides it."""
        with self._lock:
            waiting = self._unsaved.get(run["id"])
        if waiting is None:
            return run
        _, status, error = waiting
        return run | {"status": status, "error": error}

    def _store_final(self, run_id: str, seq: int, status: str, error: str) -> None:
        """Store a final status for a run no thread drives (never started, or orphaned)."""
        now = time.time()
        error = scrub(error)
        event = {"type": "status", "seq": seq, "status": status, "error": error, "time": now}
        self.store.append_events(run_id, [(seq, dumps(event))],
                                 {"status": status, "ended": now, "error": error})
