"""The training loop: a graph in, events out, checkpoints on disk. No HTTP, no processes.

`train(graph, out_dir, emit, should_stop)` runs in the worker process (see
`worker.py`) but is a plain function, so tests can call it directly. Each epoch
emits coalesced `step` events, one `epoch` event, then a `boundary` event for
2-D inputs and a `confusion` event for classification; the run ends with exactly
one final `status` event, whatever happens.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from server.graph import Graph, parse_graph

from . import metrics
from .checkpoint import Checkpoints
from .compiling import compile_run
from .errors import error_message, is_user_error
from .events import (
    BoundaryEvent,
    CompileEvent,
    ConfusionEvent,
    EpochEvent,
    NoteEvent,
    StatusEvent,
    StepEvent,
)
from .setup import Loader, Run, build_run
from .snapshots import EpochSnapshots

Emit = Callable[[dict[str, Any]], None]
CONFUSION_MAX_CLASSES = 40


class Emitter:
    """Numbers events from 0 and hands them on as JSON-ready dicts."""

    def __init__(self, emit: Emit):
        self._emit = emit
        self.seq = 0

    def __call__(self, cls: type, *, checked: bool = False, **fields: Any) -> None:
        """Emit one event; `checked=True` skips validation of fields already made JSON-safe."""
        if checked:
            # A boundary grid is thousands of numbers: validating and dumping them
            # through pydantic costs more than the epoch of a small model.
            event = {"seq": self.seq, "type": cls.model_fields["type"].default, **fields}
        else:
            event = cls(seq=self.seq, **fields).model_dump(mode="json")
        self.seq += 1
        self._emit(event)


class Diverged(Exception):
    """The training loss stopped being a finite number."""


def _log(message: str) -> None:
    print(f"[train] {message}", file=sys.stderr, flush=True)


def train(graph: Graph | dict[str, Any], out_dir: str | Path, emit: Emit,
          should_stop: Callable[[], bool] = lambda: False, *, load: Loader | None = None,
          compile_fn: Callable[..., Any] | None = None,
          log: Callable[[str], None] = _log) -> str:
    """Train a graph, emitting event dicts; return the final status. Never raises Exception.

    `should_stop` is polled before every batch; when it turns true the run stops
    within that batch with status `stopped`, keeping `last.pt`.
    """
    events = Emitter(emit)
    events(StatusEvent, status="running")
    try:
        graph = parse_graph(graph)
        run = build_run(graph, load=load, compile_fn=compile_fn)
        log(f"training {graph.name} on {run.device} for {run.config.epochs} epoch(s)")
        for note in run.notes:
            log(note)
            events(NoteEvent, message=note)
        if run.config.compile:
            _compile(run, events, log)
        status, error = _epochs(run, Path(out_dir), events, should_stop, log)
    except Exception as exc:  # every failure becomes a status; the caller lives on
        status, error = "failed", error_message(exc)
        # The user's mistakes are explained by the message; our bugs need the trace.
        log(f"failed: {error}" if is_user_error(exc) else traceback.format_exc().rstrip())
    events(StatusEvent, status=status, error=error)
    return status


def _autocast(run: Run) -> Callable[[], Any]:
    return (lambda: torch.autocast("cuda", dtype=run.amp_dtype)) if run.amp \
        else contextlib.nullcontext


def _compile(run: Run, events: Emitter, log: Callable[[str], None]) -> None:
    """torch.compile before the first epoch, as its own `compile` events."""
    events(CompileEvent, phase="compiling")
    log("compiling the model with torch.compile")
    done, seconds, why = compile_run(run, _autocast(run))
    if done:
        log(f"compiled in {seconds:.1f} s")
        events(CompileEvent, phase="compiled", seconds=seconds)
    else:
        log(f"{why}, after {seconds:.1f} s")
        events(CompileEvent, phase="skipped", seconds=seconds, message=why)


def _epochs(run: Run, out_dir: Path, events: Emitter, should_stop: Callable[[], bool],
            log: Callable[[str], None]) -> tuple[str, str | None]:
    ckpt = Checkpoints(out_dir, run.graph.model_dump(mode="json"),
                       extra={"vocab": run.vocab} if run.vocab else None)
    snapshots = EpochSnapshots(out_dir, ckpt.graph)
    snapshots.save(run.model, 0)  # the weights before training, for the X-ray
    best, since_best, step = math.inf, 0, 0
    epoch = 0
    try:
        for epoch in range(1, run.config.epochs + 1):
            try:
                step, stopped, train_seconds, train_avg = _train_epoch(run, events, epoch, step,
                                                                       should_stop)
            except Diverged as exc:
                return "diverged", str(exc)  # no `last.pt` of NaN weights
            if stopped:
                ckpt.last(run.model, epoch - 1)
                return "stopped", None
            monitored = _end_epoch(run, events, epoch, train_seconds, train_avg)
            snapshots.save(run.model, epoch)
            if run.scheduler is not None and run.scheduler_step == "epoch":
                run.scheduler.step()
            elif run.scheduler is not None and run.scheduler_step == "plateau" \
                    and monitored is not None:
                run.scheduler.step(monitored)
            if monitored is not None and monitored < best:
                best, since_best = monitored, 0
                ckpt.improved(run.model, epoch)
            else:
                since_best += 1
            ckpt.tick(run.model, epoch)
            patience = run.config.early_stopping_patience
            if patience is not None and since_best >= patience:
                log(f"early stopping after epoch {epoch}: no improvement in {patience} epoch(s)")
                break
        ckpt.last(run.model, epoch)
        return "completed", None
    finally:
        ckpt.flush_best()  # whatever the ending, the best weights seen reach the disk


def _train_epoch(run: Run, events: Emitter, epoch: int, step: int,
                 should_stop: Callable[[], bool]) -> tuple[int, bool, float, Any]:
    """One pass over the training data; returns (global step, stopped, seconds, averages)."""
    model, loss_fn, opt = run.model, run.loss_fn, run.optimizer
    classify = run.classify
    scaler = run.scaler
    autocast = _autocast(run)
    forward = run.forward
    batch_scheduler = run.scheduler if run.scheduler_step == "batch" else None
    batch_steps = _total_steps(batch_scheduler) if batch_scheduler is not None else 0
    avg = metrics.Averages(run.device)
    losses = metrics.StepLosses()
    stopped = False
    model.train()
    start = time.perf_counter()
    for x, labels, target in run.train:
        if should_stop():
            stopped = True
            break
        step += 1
        with autocast():
            out = forward(x)
        loss = loss_fn(out, target)  # OutputLoss: the output it reads, in float32
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        if batch_scheduler is not None and batch_scheduler.last_epoch < batch_steps:
            batch_scheduler.step()
        correct = (metrics.predictions(loss_fn.scores(out), run.info.task, run.probabilities)
                   == labels.reshape(-1)).sum() if classify else None
        avg.add(loss, x.shape[0], correct, labels.numel() if classify else None)
        losses.add(step, loss)
        if losses.due():
            _flush_steps(losses, events, epoch)
    if losses.losses:
        _flush_steps(losses, events, epoch)  # the epoch's last step always gets an event
    if run.device.type == "cuda":
        torch.cuda.synchronize(run.device)  # so `seconds` measures the work, not the queueing
    return step, stopped, time.perf_counter() - start, avg


def _total_steps(scheduler: Any) -> int:
    # OneCycleLR raises when stepped past its total; early-stopped or resumed runs
    # must not trip over that.
    return getattr(scheduler, "total_steps", None) or 1 << 62


def _flush_steps(losses: metrics.StepLosses, events: Emitter, epoch: int) -> None:
    last = losses.first_step + len(losses.losses) - 1
    mean, bad = losses.flush()
    if bad is not None:
        raise Diverged(f"the training loss became non-finite at epoch {epoch}, step {bad}: "
                       "lower the learning rate")
    events(StepEvent, epoch=epoch, step=last, loss=mean)


def _end_epoch(run: Run, events: Emitter, epoch: int, train_seconds: float,
               train_avg: metrics.Averages) -> float | None:
    """Validation, metrics and the per-epoch events; returns the loss early stopping watches."""
    start = time.perf_counter()
    train_loss, train_acc = train_avg.result(run.classify)
    fields: dict[str, Any] = dict(train_loss=train_loss, train_accuracy=train_acc)
    if run.perplexity:
        fields["train_perplexity"] = metrics.perplexity(train_loss)
    lr = run.optimizer.param_groups[0]["lr"]
    fields["lr"] = float(lr) if not isinstance(lr, torch.Tensor) else float(lr.item())
    fields["grad_norms"] = metrics.layer_norms(run.model, run.node_attrs, grads=True)
    fields["weight_norms"] = metrics.layer_norms(run.model, run.node_attrs, grads=False)
    confusion = None
    if run.val is not None:
        val_fields, confusion = _validate(run)
        fields.update(val_fields)
        if run.perplexity:
            fields["val_perplexity"] = metrics.perplexity(fields.get("val_loss"))
    fields["samples_per_second"] = train_avg.count / train_seconds if train_seconds > 0 else None
    boundary = _boundary(run) if run.points is not None else None
    fields["seconds"] = train_seconds + time.perf_counter() - start
    events(EpochEvent, epoch=epoch, **fields)
    if boundary is not None:
        events(BoundaryEvent, checked=True, epoch=epoch, **boundary)
    if confusion is not None:
        events(ConfusionEvent, epoch=epoch, labels=_class_labels(run), matrix=confusion)
    monitored = fields.get("val_loss") if run.val is not None else train_loss
    return monitored if monitored is not None and math.isfinite(monitored) else None


def _num_classes(run: Run) -> int:
    if run.info.task == "binary":
        return 2
    return int(run.info.num_classes or len(run.info.class_names or []) or 2)


def _class_labels(run: Run) -> list[str]:
    names = list(run.info.class_names or [])
    k = _num_classes(run)
    return [str(n) for n in names] if len(names) == k else [str(i) for i in range(k)]


@torch.no_grad()
def _validate(run: Run) -> tuple[dict[str, Any], list[list[int]] | None]:
    model, task = run.model, run.info.task
    classify = run.classify
    avg = metrics.Averages(run.device)
    reg = metrics.RegressionStats(run.device, run.target_std) if task == "regression" else None
    # Per-token classes (a language model's vocabulary) make a matrix too big to read:
    # left out past CONFUSION_MAX_CLASSES for those tasks.
    token_vocab = getattr(run.info, "per_token", False) and \
        _num_classes(run) > CONFUSION_MAX_CLASSES
    conf = metrics.Confusion(_num_classes(run), run.device) \
        if classify and not token_vocab else None
    model.eval()
    with _autocast(run)():
        for x, labels, target in run.val:
            out = run.forward(x)
            loss = run.loss_fn(out, target)
            correct = None
            if classify:
                pred = metrics.predictions(run.loss_fn.scores(out), task, run.probabilities)
                correct = (pred == labels.reshape(-1)).sum()
                if conf is not None:
                    conf.add(labels, pred)
            else:
                reg.add(run.loss_fn.scores(out), target)
            avg.add(loss, x.shape[0], correct, labels.numel() if classify else None)
    model.train()
    val_loss, val_acc = avg.result(classify)
    fields: dict[str, Any] = dict(val_loss=val_loss, val_accuracy=val_acc)
    if reg is not None:
        fields["val_mae"], fields["val_r2"] = reg.result()
    return fields, (conf.matrix() if conf is not None else None)


@torch.no_grad()
def _boundary(run: Run) -> dict[str, Any]:
    xs, ys, grid = metrics.boundary_grid(run.points)
    model = run.model
    model.eval()
    out = run.loss_fn.scores(model(grid.to(run.device))).float()
    model.train()
    n = len(xs)
    if run.info.task == "regression":
        values = out.reshape(out.shape[0], -1)[:, 0].reshape(len(ys), n)
    else:
        values = metrics.class_probabilities(out, run.probabilities).reshape(len(ys), n, -1)
    return {"x": xs, "y": ys, "values": metrics.grid_values(values)}
