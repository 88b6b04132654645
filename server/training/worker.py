"""`TrainingRun`: one training in its own process, its events read from a queue.

The worker is a process of its own, so a crash, an out-of-memory kill or
`os._exit` inside it cannot take the caller down. It is forked from a
`forkserver` that has already imported torch, torchvision, scikit-learn and the
loop (`PRELOAD`), so a run starts in tens of milliseconds instead of paying
those imports each time; `warm_up()` starts that server early (the app does it
at start-up). The forkserver is a fresh process that only imports: it never
touches CUDA and holds no locks of the caller's, so what it forks is clean.
Where forkserver is unavailable (Windows, macOS without it), workers are
spawned, as before. The parent numbers
the events itself (`seq` from 0, no gaps), emits the first `queued` status, and
when the worker dies without a final status it adds a `failed` one that names
the exit code or signal. This module imports no torch; the worker imports the
loop only once it runs.
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import multiprocessing.util  # noqa: F401 - registers its atexit hook before ours
import os
import queue
import signal
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import error_message
from .events import StatusEvent, is_final

Target = Callable[..., None]
# What the forkserver imports once, so no worker pays for it. Importing torch does
# not initialise CUDA; nothing here may (a forked CUDA context is unusable).
PRELOAD = ["torch", "torchvision", "sklearn.datasets", "server.training.loop",
           "server.training.worker"]
# Settings a worker reads from the environment: the forkserver's environment is
# the one it was started with, so each worker gets the caller's current values.
ENV_PREFIX = "TORCHCANVAS_"
# A batch of events read at once: the caller holds it whole (and encodes it) before it
# reads on. A worker that outpaces its caller has a backlog, so a batch is bounded in
# numbers carried as well as in events: a boundary grid is ~2,600 numbers, 0.4 MB
# unpickled, and a batch of 10,000 of them would be gigabytes.
BATCH_EVENTS = 10_000
BATCH_NUMBERS = 50_000


def _context() -> Any:
    if os.environ.get("TORCHCANVAS_START_METHOD", "") == "spawn":
        return mp.get_context("spawn")
    try:
        ctx = mp.get_context("forkserver")
    except ValueError:  # a platform without it
        return mp.get_context("spawn")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


_CTX = _context()
_LIVE: weakref.WeakSet[TrainingRun] = weakref.WeakSet()


@atexit.register
def _stop_live_runs() -> None:
    # multiprocessing joins non-daemon children at exit, which would make a caller
    # that forgot `close()` wait for the whole training; stop them instead. atexit
    # runs handlers last-in first-out, so this runs before multiprocessing's own,
    # registered when multiprocessing.util was imported above.
    for run in list(_LIVE):
        run.close()


def start_method() -> str:
    """How workers start here: "forkserver" (pre-imported) or "spawn"."""
    return _CTX.get_start_method()


def warm_up() -> None:
    """Start the forkserver and its imports now, so the first run does not wait for them."""
    if start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def worker_threads() -> int:
    """CPU threads for a worker: TORCHCANVAS_TRAIN_THREADS, else half the cores (at least 1)."""
    env = os.environ.get("TORCHCANVAS_TRAIN_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, (os.cpu_count() or 2) // 2)


def run_training(graph: dict[str, Any], out_dir: str, emit: Callable[[dict], None],
                 should_stop: Callable[[], bool]) -> None:
    """The default worker target: the real training loop."""
    import torch

    from .loop import train

    torch.set_num_threads(worker_threads())
    train(graph, out_dir, emit, should_stop)


def run_training_for_server(graph: dict[str, Any], out_dir: str,
                            emit: Callable[[dict], None], should_stop: Callable[[], bool]) -> None:
    """The web server's worker target: training without ever downloading a dataset."""
    from server.datasets.policy import forbid_downloads

    forbid_downloads()
    run_training(graph, out_dir, emit, should_stop)


def _status(status: str, error: str | None = None) -> dict[str, Any]:
    """A status event as a dict; its `seq` is a placeholder the parent renumbers."""
    return StatusEvent(seq=0, status=status, error=error).model_dump(mode="json")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, someone else's
    # A dead caller whose own parent has not reaped it yet is a zombie: gone for us.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc here: the pid exists, that is all we know


def _watch_parent(parent: int, stop: Any, events: Any) -> None:
    # A worker whose caller died has no one to report to: stop it at the next batch
    # (it still writes last.pt), and let it exit without waiting for a reader to
    # drain the queue (no one will). Under forkserver our parent is the forkserver,
    # which exits with the caller (we are then reparented); the caller's pid is
    # checked too.
    first = os.getppid()
    while os.getppid() == first and _alive(parent):
        time.sleep(1.0)
    events.cancel_join_thread()
    stop.set()


def _caller_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}


def _apply_env(env: dict[str, str]) -> None:
    for key in [k for k in os.environ if k.startswith(ENV_PREFIX) and k not in env]:
        del os.environ[key]
    os.environ.update(env)


def _worker_main(target: Target, graph: dict[str, Any], out_dir: str, events: Any,
                 stop: Any, parent: int, env: dict[str, str] | None = None) -> None:
    # Ctrl-C in a terminal reaches the whole process group; only the parent should
    # react (by cancelling), so the worker ignores SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if env is not None:
        _apply_env(env)
    threading.Thread(target=_watch_parent, args=(parent, stop, events), daemon=True).start()
    sent_final = False

    def emit(event: dict[str, Any]) -> None:
        nonlocal sent_final
        sent_final = sent_final or is_final(event)
        events.put(event)

    try:
        target(graph, out_dir, emit, stop.is_set)
    except BaseException as exc:  # noqa: B036 - report anything, even SystemExit
        if not sent_final:
            emit(_status("failed", error_message(exc)))
    else:
        if not sent_final:
            emit(_status("failed", "the worker ended without a final status"))
    events.close()
    events.join_thread()  # every event reaches the pipe before the process exits


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "the worker stopped responding"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (killed: out of memory?)" if -code == signal.SIGKILL else ""
        return f"the training worker was killed by {name}{hint}"
    return f"the training worker exited unexpectedly with exit code {code}"


class Stamped:
    """Numbers a run's events for its caller: contiguous `seq`, nothing after a final status.

    Shared by every run driver (a local worker, a Ray run): a subclass keeps `_seq`,
    `_final`, `_pending` and `status`."""

    _seq: int
    _final: dict[str, Any] | None
    _pending: list[dict[str, Any]]
    status: str

    def _stamp(self, event: dict[str, Any]) -> None:
        if self._final is not None:
            return  # nothing follows a final status
        event["seq"] = self._seq
        self._seq += 1
        if event.get("type") == "status":
            self.status = event["status"]
        self._pending.append(event)
        if is_final(event):
            self._final = event


class TrainingRun(Stamped):
    """A training run in a worker process.

    `start()` spawns it; `poll(timeout)` returns the events ready so far;
    `cancel()` asks it to stop at the next batch (final status `stopped`);
    `kill()` ends a worker that does not stop; `done` is true once `poll` has
    returned the final status.
    """

    def __init__(self, graph: Any, out_dir: str | Path, *, target: Target | None = None):
        if hasattr(graph, "model_dump"):
            graph = graph.model_dump(mode="json")
        self.graph: dict[str, Any] = graph
        self.out_dir = Path(out_dir)
        self._target = target or run_training
        self._queue = _CTX.Queue()
        self._stop = _CTX.Event()
        self._process: Any = None
        self._seq = 0
        self._pending: list[dict[str, Any]] = []
        self._final: dict[str, Any] | None = None
        self._delivered_final = False
        self._cancelled = False
        self.status: str | None = None

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("this run was already started")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._stamp(_status("queued"))
        # Not a daemon: daemonic processes may not start DataLoader workers. The
        # worker watches its parent instead and stops when the parent is gone.
        self._process = _CTX.Process(
            target=_worker_main, name="torchcanvas-train",
            args=(self._target, self.graph, str(self.out_dir), self._queue, self._stop,
                  os.getpid(), _caller_env()),
        )
        _LIVE.add(self)
        try:
            self._process.start()
        except Exception as exc:  # no process (out of pids, memory, an unpicklable graph)
            self._stamp(_status("failed", f"could not start the training worker: {exc}"))
            return
        # The worker has its own copy of the pipe's write end now; ours must go, or a
        # worker killed halfway through writing an event (kill() after an ignored
        # cancel, the OOM killer) leaves a partial message that `get` waits on forever
        # (only EOF ends that wait, and our open write end kept it from ever coming):
        # the run never finished and its viewers hung open. Nothing here writes to it.
        self._queue._writer.close()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def done(self) -> bool:
        """True once `poll` has returned the final status event."""
        return self._delivered_final

    def cancel(self) -> None:
        """Ask the worker to stop at the next batch. Harmless when repeated or finished."""
        self._cancelled = True
        self._stop.set()

    def kill(self, grace: float = 2.0) -> None:
        """End the worker now (SIGTERM, then SIGKILL), for one that ignores `cancel`."""
        p = self._process
        if p is None or self._final is not None:
            return
        if p.is_alive():
            p.terminate()
            p.join(grace)
            if p.is_alive():
                p.kill()
                p.join(grace)
        self._drain(wait=0.0)
        if self._final is None:
            status = "stopped" if self._cancelled else "failed"
            self._stamp(_status(status, "the training worker was killed"))

    def close(self, grace: float = 5.0) -> None:
        """Stop the worker if it still runs (cancel, then kill after `grace` s); free the queue."""
        p = self._process
        if p is not None and p.pid is not None and p.is_alive():
            self.cancel()
            deadline = time.monotonic() + grace
            while p.is_alive() and time.monotonic() < deadline:
                self._drain(wait=0.1)  # keep the pipe flowing so the worker can exit
                p.join(0.0)
            self.kill()
        self._queue.close()
        self._queue.cancel_join_thread()

    def __enter__(self) -> TrainingRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- events --------------------------------------------------------------
    def poll(self, timeout: float = 0.0) -> list[dict[str, Any]]:
        """Events ready now, in order; waits up to `timeout` seconds for the first."""
        if self._delivered_final:
            return []
        if self._process is None:
            raise RuntimeError("start() the run before polling it")
        deadline = time.monotonic() + max(0.0, timeout)
        while not self._pending:
            if not self._drain(wait=min(0.1, max(0.0, deadline - time.monotonic()))):
                self._check_worker()
            if self._pending or time.monotonic() >= deadline:
                break
        self._drain(wait=0.0)
        out, self._pending = self._pending, []
        if self._final is not None and out and out[-1] is self._final:
            self._delivered_final = True
            if self._process.pid is not None:
                self._process.join(5.0)
        return out

    def wait(self, timeout: float | None = None) -> list[dict[str, Any]]:
        """Every remaining event, until the final status (or the timeout)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        out: list[dict[str, Any]] = []
        while not self.done:
            left = 1.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                break
            out += self.poll(min(1.0, left))
        return out


    def _drain(self, wait: float) -> bool:
        """Move queued events to `_pending`, up to a batch's bounds; True if any arrived."""
        got = False
        numbers = sum(map(_numbers, self._pending))
        while self._final is None and len(self._pending) < BATCH_EVENTS \
                and numbers < BATCH_NUMBERS:
            try:
                event = self._queue.get(timeout=wait) if wait > 0 and not got \
                    else self._queue.get_nowait()
            except queue.Empty:
                break
            except (EOFError, OSError):  # a worker killed mid-write
                break
            got = True
            numbers += _numbers(event)
            self._stamp(event)
        return got

    def _check_worker(self) -> None:
        p = self._process
        if self._final is not None or p.pid is None or p.is_alive():
            return
        # The worker is gone: whatever it flushed is in the pipe; read it, and if no
        # final status came, say why it died. (A pipe holds 64 KB, far less than a batch.)
        for _ in range(3):
            if not self._drain(wait=0.05):
                break
        if self._final is None:
            p.join(1.0)
            self._stamp(_status("failed", _exit_reason(p.exitcode)))


def _numbers(event: dict[str, Any]) -> int:
    """About how many numbers an event carries (lists and lists of lists), at least 1."""
    n = 1
    for value in event.values():
        if isinstance(value, list) and value:
            n += len(value) * (len(value[0]) if isinstance(value[0], list) else 1)
    return n
