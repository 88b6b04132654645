"""Workers start from a pre-imported forkserver: fast, isolated, and CUDA-free in the parent.

The crash-isolation tests in `test_worker.py` run against the same start method;
these check what the forkserver itself promises.
"""

from __future__ import annotations

import os
import sys

import pytest

from server.training import TrainingRun, worker

from .conftest import check_events


def cuda_state(graph, out_dir, emit, should_stop) -> None:
    """Reports, from inside the worker, what it inherited from the process that forked it."""
    emit({"type": "status", "seq": 0, "status": "running", "error": None, "time": 0.0})
    import torch

    preloaded = "sklearn.datasets" in sys.modules and "server.training.loop" in sys.modules
    error = f"cuda={torch.cuda.is_initialized()} preloaded={preloaded} " \
            f"threads={os.environ.get('TORCHCANVAS_TRAIN_THREADS')}"
    emit({"type": "status", "seq": 1, "status": "failed", "error": error, "time": 0.0})


@pytest.mark.skipif(worker.start_method() != "forkserver", reason="no forkserver here")
def test_a_worker_is_forked_preloaded_without_cuda_and_with_the_callers_env(tmp_path,
                                                                           monkeypatch):
    worker.warm_up()
    monkeypatch.setenv("TORCHCANVAS_TRAIN_THREADS", "1")  # set after the forkserver started
    with TrainingRun({"version": 1}, tmp_path, target=cuda_state) as run:
        run.start()
        events = run.wait(120)
    check_events(events)
    assert events[-1]["error"] == "cuda=False preloaded=True threads=1"
    # Nor is CUDA initialised here, in the caller (the server).
    if "torch" in sys.modules:
        assert not sys.modules["torch"].cuda.is_initialized()


def test_spawn_is_the_fallback(monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_START_METHOD", "spawn")
    assert worker._context().get_start_method() == "spawn"
    monkeypatch.delenv("TORCHCANVAS_START_METHOD")
    import multiprocessing

    expected = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
        else "spawn"
    assert worker._context().get_start_method() == expected
