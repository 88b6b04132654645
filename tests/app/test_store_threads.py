"""The store's per-thread SQLite connections end with their threads (issue 13, case 4's
sibling): the server's request threads are retired when idle and replaced, and each
used to leave its connection open, two file descriptors, for the life of the server."""

from __future__ import annotations

import os
import threading

from server.app.store import Store


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_threads_that_end_leave_no_connection_open(tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    store.put_project("p", {"version": 1, "nodes": []})
    before = _fds()
    for _ in range(40):
        t = threading.Thread(target=lambda: (store.list_projects(),
                                             store.put_project("p", {"version": 1, "nodes": []})))
        t.start()
        t.join()
    # The last thread's connection is closed when the next thread opens one: at most
    # one is left over, never one per thread.
    assert _fds() - before <= 4, _fds() - before
    assert len(store._all) <= 2
    # A thread that is still alive keeps its connection; close() ends it and the rest.
    alive, done = threading.Event(), threading.Event()

    def hold() -> None:
        store.list_projects()
        alive.set()
        done.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    alive.wait(10)
    assert _fds() - before >= 2
    store.close()
    done.set()
    t.join()
    assert _fds() < before


def test_event_reads_are_bounded_in_bytes(tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    store.create_run("r", {"version": 1, "nodes": []}, "running")
    store.append_events("r", [(seq, "x" * 1000) for seq in range(100)])
    assert len(store.events_after("r", -1, limit=5000)) == 100
    rows = store.events_after("r", -1, limit=5000, max_bytes=10_500)
    assert [seq for seq, _ in rows] == list(range(10))
    assert len(store.events_after("r", -1, limit=5000, max_bytes=10)) == 1  # at least one
    assert store.events_after("r", 99, max_bytes=10) == []
