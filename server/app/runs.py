"""The run manager: one thread per training run, storing its events and fanning them out.

Each run's thread polls `TrainingRun` (which trains in its own worker process),
serializes every event once (finite JSON), appends it to an in-memory pending
list, pushes it to every viewer's queue, and flushes pending events to SQLite
in batches (every `flush_interval_s`, or at once on a status event). A viewer
subscribes under the run's lock and gets (a) the seq up to which SQLite is
complete and (b) a copy of the pending events; everything later arrives in its
queue. So stored + pending + live is the whole log, with no gap or duplicate.

Past `max_running` active runs, `start` raises `Busy` (the API answers 429 with
Retry-After): a queue would hide work the user cannot see or cancel from the
page, and the trainer's events (seq 0 = `running`) stay exactly as it sends them.
"""

from __future__ import annotations

import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.training.events import FINAL_STATUSES

from .jsontext import dumps
from .settings import Settings
from .store import Store
from .viewers import Item, Viewer

POLL_S = 0.05
KILL_AFTER_S = 10.0
EPOCH_SKIP = {"type", "seq", "grad_norms", "weight_norms"}


class Busy(Exception):
    """The concurrency limit is reached."""


@dataclass
class ActiveRun:
    id: str
    training: Any
    lock: threading.Lock = field(default_factory=threading.Lock)
    viewers: set[Viewer] = field(default_factory=set)
    pending: list[tuple[int, str]] = field(default_factory=list)
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

    return TrainingRun(graph, out_dir)


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

    # -- lifecycle --------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Mark runs a killed server left running or queued as interrupted."""
        ids = []
        for run in self.store.unfinished_runs():
            self._store_final(run["id"], run["last_seq"] + 1, "interrupted",
                              "the server stopped while this run was active")
            ids.append(run["id"])
        return ids

    def shutdown(self, timeout: float = KILL_AFTER_S + 5.0) -> None:
        """Stop every active run and wait for its final status (`stopped`)."""
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
        """Stop (if needed) and forget a run; False if it would not stop."""
        if self.stop(run_id) and not self.wait(run_id, 15.0):
            return False
        self.store.delete_run(run_id)
        shutil.rmtree(self.settings.runs_dir / run_id, ignore_errors=True)
        return True

    # -- events -----------------------------------------------------------------------

    def subscribe(self, run_id: str, viewer: Viewer) -> tuple[int, list[tuple[int, str]]] | None:
        """Register a viewer; (complete-in-SQLite seq, pending events), or None if inactive."""
        with self._lock:
            ar = self._active.get(run_id)
        if ar is None:
            return None
        with ar.lock:
            if ar.finished:
                return None
            ar.viewers.add(viewer)
            return ar.flushed_seq, list(ar.pending)

    def unsubscribe(self, run_id: str, viewer: Viewer) -> None:
        with self._lock:
            ar = self._active.get(run_id)
        if ar is not None:
            with ar.lock:
                ar.viewers.discard(viewer)

    def events(self, run_id: str, after: int, limit: int) -> list[tuple[int, str]]:
        """Stored and pending events with seq > after, oldest first."""
        with self._lock:
            ar = self._active.get(run_id)
        if ar is None:
            return self.store.events_after(run_id, after, None, limit)
        with ar.lock:
            upto, pending = ar.flushed_seq, list(ar.pending)
        rows = [tuple(r) for r in self.store.events_after(run_id, after, upto, limit)]
        if len(rows) < limit:
            rows += [p for p in pending if p[0] > after][: limit - len(rows)]
        return rows

    # -- the run's thread -------------------------------------------------------------

    def _drive(self, ar: ActiveRun) -> None:
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
        except Exception as exc:  # the trainer's own failures arrive as events; this is ours
            error = f"the server lost the run: {type(exc).__name__}: {exc}"
        finally:
            try:
                ar.training.close()
            except Exception:
                pass  # nothing more to release
        if not ar.final_seen:
            status = "stopped" if ar.cancel.is_set() and error is None else "failed"
            self._finish(ar, status, error or "the trainer ended without a final status")
        else:
            self._finish(ar, None, None)

    def _publish(self, ar: ActiveRun, events: list[dict[str, Any]]) -> None:
        items = []
        with ar.lock:
            for event in events:
                seq = event["seq"]
                if seq <= ar.last_seq:
                    continue  # never resend: seq only ever grows
                ar.last_seq = seq
                text = dumps(event)
                ar.pending.append((seq, text))
                items.append(Item(seq, text, self._note(ar, event)))
        # A status change is stored before any viewer hears of it, so a page that
        # sees `stopped` on the socket reads `stopped` from the API too.
        if any(e.get("type") == "status" for e in events) or \
                len(ar.pending) >= self.settings.flush_max_events:
            self._flush(ar)
        with ar.lock:
            for viewer in list(ar.viewers):
                for item in items:
                    viewer.push(item)
                if viewer.dropped:
                    ar.viewers.discard(viewer)

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
        """Write pending events and row changes (called only from the run's thread)."""
        ar.last_flush = time.monotonic()
        with ar.lock:
            batch, fields = list(ar.pending), ar.dirty
            ar.dirty = {}
        if not batch and not fields:
            return
        self.store.append_events(ar.id, batch, fields)
        with ar.lock:
            if batch:
                ar.flushed_seq = batch[-1][0]
                del ar.pending[: len(batch)]

    def _finish(self, ar: ActiveRun, status: str | None, error: str | None) -> None:
        """Append a final status if one is missing, flush, and retire the run."""
        if status is not None and not ar.final_seen:
            event = {"type": "status", "seq": ar.last_seq + 1, "status": status,
                     "error": error, "time": time.time()}
            self._publish(ar, [event])
        self._flush(ar)
        with self._lock:
            self._active.pop(ar.id, None)
        with ar.lock:
            ar.finished = True
            for viewer in ar.viewers:
                viewer.end()
            ar.viewers.clear()

    def _store_final(self, run_id: str, seq: int, status: str, error: str) -> None:
        """Store a final status for a run no thread drives (never started, or orphaned)."""
        now = time.time()
        event = {"type": "status", "seq": seq, "status": status, "error": error, "time": now}
        self.store.append_events(run_id, [(seq, dumps(event))],
                                 {"status": status, "ended": now, "error": error})
