"""torch.compile for a run: compiled before the first epoch and timed on its own.

torch.compile is lazy: each new combination of mode (train or eval), gradients
and input shape is compiled at the first call that meets it. Left alone, that
would land inside the first epoch (and its `seconds`), and again inside its
last batch and its validation pass. So `compile_run` calls the compiled model
once for every combination the loop will meet: training mode with a backward
pass for each batch size of the training split, evaluation mode without
gradients for each batch size of the validation split. Then it puts back what
those calls touched (batch-norm statistics, gradients, the global random number
generators; the inputs are the splits' first samples, so the shuffling
generator is never drawn from), so the epochs start from the very state
an eager run starts from.

When compiling fails (the CPU backend needs a C++ compiler, an operation the
compiler cannot handle, a backend named in TORCHCANVAS_COMPILE_BACKEND that
does not exist), the run trains without it and the `compile` event says
why: compiling only makes training faster, never different, so failing the run
would cost the user their training for nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import torch

from .setup import Run

MESSAGE_CHARS = 300


def batch_sizes(n: int, batch_size: int) -> list[int]:
    """The distinct batch sizes an epoch over `n` samples yields (a lone last sample is
    dropped when there are other batches, as both loaders do)."""
    full, rest = divmod(n, batch_size)
    sizes = [batch_size] if full else []
    if rest > 1 or (rest == 1 and full == 0):
        sizes.append(rest)
    return sizes


def compile_backend() -> str:
    """torch.compile's backend: TORCHCANVAS_COMPILE_BACKEND, else `inductor` (the default).

    `aot_eager` traces and differentiates like inductor without generating code
    (no C++ compiler needed): a quick check that a model compiles at all.
    """
    return os.environ.get("TORCHCANVAS_COMPILE_BACKEND", "").strip() or "inductor"


def compile_run(run: Run, autocast: Callable[[], AbstractContextManager[Any]]
                ) -> tuple[bool, float, str | None]:
    """Compile `run.model` and warm it up; set `run.compiled` (what `run.forward` calls).
    Returns (compiled, seconds, why not). On failure the plain model stays in use."""
    start = time.perf_counter()
    saved = _save(run)
    # Every compiled graph module shares one `forward` code object, and dynamo keeps
    # at most 8 compiled versions of a code object before it silently runs it
    # uncompiled. A worker trains one run, but the CLI, tests and benchmarks train
    # several in one process: each compiled run starts from an empty cache.
    torch._dynamo.reset()
    try:
        compiled = torch.compile(run.model, backend=compile_backend())
        _warm_up(compiled, run, autocast)
    except Exception as exc:  # any compiler failure: train eagerly, say why
        _restore(run, saved)
        run.compiled = None
        return False, time.perf_counter() - start, _reason(exc)
    _restore(run, saved)
    if run.device.type == "cuda":
        torch.cuda.synchronize(run.device)
    run.compiled = compiled
    return True, time.perf_counter() - start, None


def _warm_up(compiled: Callable[..., torch.Tensor], run: Run,
             autocast: Callable[[], AbstractContextManager[Any]]) -> None:
    model = run.model
    model.train()
    sizes = batch_sizes(run.train.n, run.train.batch_size)
    x = run.train.head(max(sizes))
    for size in sizes:
        with autocast():
            out = _call(compiled, run, x[:size])
        out.float().sum().backward()  # compiles the backward graph too
    if run.val is not None:
        model.eval()
        sizes = batch_sizes(run.val.n, run.val.batch_size)
        x = run.val.head(max(sizes))
        with torch.no_grad(), autocast():
            for size in sizes:
                _call(compiled, run, x[:size])
    model.train()


def _call(compiled: Callable[..., Any], run: Run, x: torch.Tensor) -> torch.Tensor:
    """The compiled model on a batch as `Run.forward` calls it; the first output of a tuple."""
    out = compiled(*x.unbind(1)) if run.input_count > 1 else compiled(x)
    return out[0] if isinstance(out, tuple) else out


def _save(run: Run) -> dict[str, Any]:
    return {
        "buffers": [b.detach().clone() for b in run.model.buffers()],
        "rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(run.device) if run.device.type == "cuda" else None,
    }


def _restore(run: Run, saved: dict[str, Any]) -> None:
    with torch.no_grad():
        for buf, value in zip(run.model.buffers(), saved["buffers"], strict=True):
            buf.copy_(value)
    for p in run.model.parameters():
        p.grad = None
    torch.set_rng_state(saved["rng"])
    if saved["cuda_rng"] is not None:
        torch.cuda.set_rng_state(saved["cuda_rng"], run.device)
    run.model.train()


def _reason(exc: BaseException) -> str:
    """The first line of a compiler error's root cause (they run to pages), shortened."""
    seen = {id(exc)}
    while True:  # BackendCompilerFailed wraps what the backend raised
        inner = getattr(exc, "inner_exception", None) or exc.__cause__
        if inner is None or id(inner) in seen:
            break
        seen.add(id(inner))
        exc = inner
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    if len(text) > MESSAGE_CHARS:
        text = text[:MESSAGE_CHARS - 1] + "…"
    return f"torch.compile failed, training without it ({text})"
