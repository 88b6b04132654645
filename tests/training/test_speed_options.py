"""`training.channels_last` and `training.compile` in the trainer, on the CPU.

The oracle is the same run without the option: an option that makes training
faster must not make it different (beyond float rounding of other kernels).
torch.compile runs here with its real default backend (inductor, which builds
C++ on the CPU: tens of seconds on a shared machine) once, on a tiny MLP; the
other compile tests use `aot_eager`, which traces and differentiates the same
way without generating code, or a backend that fails, as a missing compiler does.
"""

from __future__ import annotations

import copy
import shutil
from typing import Any

import numpy as np
import pytest
import torch
from torch._dynamo import register_backend
from torch._dynamo.utils import counters

from server.compiler import compile_graph
from server.graph import parse_graph
from server.training.checkpoint import load_checkpoint
from server.training.compiling import compile_run
from server.training.data import TensorBatches
from server.training.loop import train
from server.training.setup import build_run

from .graphs import mlp

CL = torch.channels_last


def _with(graph: dict[str, Any], **training: Any) -> dict[str, Any]:
    g = copy.deepcopy(graph)
    g["training"] = {**g.get("training", {}), "device": "cpu", **training}
    return g


def _bn_mlp(**training: Any) -> dict[str, Any]:
    """An MLP with batch norm and running statistics: buffers a warm-up must not move."""
    g = mlp(hidden=16, epochs=2, n_samples=120, **training)
    g["nodes"].insert(2, {"id": "bn", "type": "BatchNorm1d", "inputs": ["fc1"]})
    g["nodes"][3]["inputs"] = ["bn"]
    return g


def _train(graph: dict[str, Any], out_dir, compile_fn=None) -> tuple[str, list[dict], dict]:
    events: list[dict] = []
    status = train(graph, out_dir, events.append, compile_fn=compile_fn, log=lambda m: None)
    return status, events, load_checkpoint(out_dir / "last.pt")["state_dict"]


def _assert_close(a: dict, b: dict, atol: float) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=atol, rtol=1e-4), k


# ---------------------------------------------------------------- channels_last

@pytest.fixture
def rgb_cnn(tmp_path, monkeypatch):
    """A CNN on a folder of small random RGB images: 3 channels, so channels_last is a
    real change of layout (with one channel both formats are the same strides)."""
    from PIL import Image

    monkeypatch.setenv("TORCHCANVAS_LOADER_WORKERS", "0")
    rng = np.random.default_rng(0)
    root = tmp_path / "rgb"
    for c in ("a", "b"):
        (root / c).mkdir(parents=True)
        for i in range(20):
            pixels = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
            Image.fromarray(pixels, "RGB").save(root / c / f"{i}.png")
    conv = {"kernel_size": 3, "padding": 1}
    return {
        "version": 1, "name": "RGBNet",
        "nodes": [
            {"id": "x", "type": "Input"},
            {"id": "conv1", "type": "Conv2d", "params": {"out_channels": 8, **conv},
             "inputs": ["x"]},
            {"id": "relu", "type": "ReLU", "inputs": ["conv1"]},
            {"id": "conv2", "type": "Conv2d", "params": {"out_channels": 4, **conv},
             "inputs": ["relu"]},
            {"id": "flat", "type": "Flatten", "inputs": ["conv2"]},
            {"id": "fc", "type": "Linear", "params": {"out_features": 2}, "inputs": ["flat"]},
        ],
        "output": "fc",
        "loss": {"type": "CrossEntropyLoss"},
        "optimizer": {"type": "SGD", "params": {"lr": 0.05}},
        "data": {"dataset": "imagefolder", "params": {"path": str(root), "resize": 8},
                 "batch_size": 8, "val_fraction": 0.25},
        "training": {"epochs": 2, "seed": 0, "device": "cpu"},
    }


def test_channels_last_puts_conv_weights_and_image_batches_in_that_format(rgb_cnn):
    run = build_run(parse_graph(_with(rgb_cnn, channels_last=True)))
    assert run.channels_last and not run.notes
    for node in ("conv1", "conv2"):
        weight = run.model.get_submodule(run.node_attrs[node]).weight
        assert weight.is_contiguous(memory_format=CL) and not weight.is_contiguous()
    for batches in (run.train, run.val):
        x, _, _ = next(iter(batches))
        assert x.shape[1:] == (3, 8, 8) and x.is_contiguous(memory_format=CL)
        assert not x.is_contiguous()
    off = build_run(parse_graph(_with(rgb_cnn)))
    assert not off.channels_last
    assert off.model.get_submodule(off.node_attrs["conv2"]).weight.is_contiguous()
    assert next(iter(off.train))[0].is_contiguous()


def test_resident_batches_keep_channels_last():
    x = torch.randn(20, 3, 4, 4)
    batches = TensorBatches(x, torch.zeros(20, dtype=torch.long), lambda y: y, 8, True,
                            torch.device("cpu"), torch.Generator().manual_seed(0),
                            memory_format=CL)
    for xb, _, _ in batches:
        assert xb.is_contiguous(memory_format=CL) and not xb.is_contiguous()


def test_channels_last_training_sees_channels_last_inputs_and_matches_the_plain_run(
        rgb_cnn, tmp_path):
    seen: list[bool] = []

    def compile_watching(graph, seed=None):
        model = compile_graph(graph, seed=seed)
        model.register_forward_pre_hook(
            lambda m, args: seen.append(args[0].is_contiguous(memory_format=CL)
                                        and not args[0].is_contiguous())
            if m.training else None)
        return model

    status, events, last = _train(_with(rgb_cnn, channels_last=True), tmp_path / "cl",
                                  compile_watching)
    assert status == "completed", events[-1]
    assert seen and all(seen)
    status, _, plain = _train(_with(rgb_cnn), tmp_path / "plain")
    assert status == "completed"
    _assert_close(last, plain, atol=1e-5)


def test_channels_last_on_tabular_inputs_is_ignored_with_a_note(tmp_path):
    status, events, _ = _train(_with(mlp(), channels_last=True), tmp_path)
    assert status == "completed"
    notes = [e["message"] for e in events if e["type"] == "note"]
    assert len(notes) == 1 and "channels_last ignored" in notes[0] and "[2]" in notes[0]


# ---------------------------------------------------------------- compile

def _compile_events(events: list[dict]) -> list[dict]:
    return [e for e in events if e["type"] == "compile"]


@pytest.mark.compile
@pytest.mark.timeout(1200)
@pytest.mark.skipif(not any(shutil.which(c) for c in ("g++", "c++", "clang++")),
                    reason="inductor's CPU backend needs a C++ compiler (the run would skip "
                    "compiling: see test_a_compiler_failure_trains_without_it_and_says_why)")
def test_compile_with_inductor_is_timed_before_the_first_epoch_and_trains_alike(tmp_path):
    marks: dict[str, int] = {}

    def emit(event: dict) -> None:
        events.append(event)
        if event["type"] == "compile" and event["phase"] == "compiled":
            marks["after_compile"] = counters["stats"]["unique_graphs"]

    events: list[dict] = []
    g = mlp(epochs=2, n_samples=100, batch_size=16)  # 75 training samples: a last batch of 11
    status = train(_with(g, compile=True), tmp_path / "c", emit, log=lambda m: None)
    assert status == "completed", events[-1]
    phases = _compile_events(events)
    assert [e["phase"] for e in phases] == ["compiling", "compiled"], phases
    assert phases[1]["seconds"] > 0 and phases[1]["message"] is None
    first_step = next(i for i, e in enumerate(events) if e["type"] == "step")
    assert events.index(phases[1]) < first_step
    # Every graph the epochs ran was compiled before them: nothing compiled inside.
    assert counters["stats"]["unique_graphs"] == marks["after_compile"]
    compiled = load_checkpoint(tmp_path / "c" / "last.pt")["state_dict"]
    _, _, eager = _train(_with(g), tmp_path / "e")
    _assert_close(compiled, eager, atol=1e-4)


def test_compile_warm_up_leaves_buffers_grads_and_rng_as_they_were(monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_COMPILE_BACKEND", "aot_eager")
    run = build_run(parse_graph(_bn_mlp(compile=True)))
    buffers = [b.clone() for b in run.model.buffers()]
    rng = torch.get_rng_state()
    done, seconds, why = compile_run(run, lambda: torch.autocast("cpu", enabled=False))
    assert done and why is None and seconds > 0 and run.compiled is not None
    assert all(torch.equal(a, b) for a, b in zip(buffers, run.model.buffers(), strict=True))
    assert all(p.grad is None for p in run.model.parameters())
    assert torch.equal(rng, torch.get_rng_state()) and run.model.training


def test_compiled_training_matches_eager_training(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_COMPILE_BACKEND", "aot_eager")
    status, events, compiled = _train(_bn_mlp(compile=True), tmp_path / "c")
    assert status == "completed"
    assert [e["phase"] for e in _compile_events(events)] == ["compiling", "compiled"]
    _, _, eager = _train(_bn_mlp(), tmp_path / "e")
    _assert_close(compiled, eager, atol=1e-5)


@register_backend
def torchcanvas_test_no_compiler(gm, example_inputs):
    """A backend that fails as inductor does on a machine without a C++ compiler."""
    raise RuntimeError("no C++ compiler found on this machine")


def test_a_compiler_failure_trains_without_it_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_COMPILE_BACKEND", "torchcanvas_test_no_compiler")
    status, events, weights = _train(_bn_mlp(compile=True), tmp_path / "c")
    assert status == "completed"
    phases = _compile_events(events)
    assert [e["phase"] for e in phases] == ["compiling", "skipped"]
    assert "torch.compile failed" in phases[1]["message"]
    assert "no C++ compiler" in phases[1]["message"] and len(phases[1]["message"]) <= 400
    _, _, eager = _train(_bn_mlp(), tmp_path / "e")
    _assert_close(weights, eager, atol=0)  # the plain model trained, from the same state


def test_an_unknown_backend_is_a_skip_too(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_COMPILE_BACKEND", "no_such_backend")
    status, events, _ = _train(mlp(compile=True), tmp_path)
    assert status == "completed"
    assert _compile_events(events)[-1]["phase"] == "skipped"


def test_many_compiled_runs_in_one_process_each_compile(tmp_path, monkeypatch):
    """Graph modules share one `forward`; past dynamo's 8 cached versions of it, a run
    would silently train uncompiled. Five runs of 3 graphs each (train, last batch, eval)."""
    monkeypatch.setenv("TORCHCANVAS_COMPILE_BACKEND", "aot_eager")
    for i in range(5):
        compiled_graphs: list[int] = []

        def emit(event: dict, into=compiled_graphs) -> None:
            if event["type"] == "compile":
                into.append(counters["stats"]["unique_graphs"])

        g = mlp(epochs=1, n_samples=100, batch_size=16, hidden=8 + i, compile=True)
        assert train(g, tmp_path / str(i), emit, log=lambda m: None) == "completed"
        assert len(compiled_graphs) == 2 and compiled_graphs[1] > compiled_graphs[0], i
